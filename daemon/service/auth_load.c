/* auth_load.c - the edge of operator authentication (auth_load.h): reads
 * the users file, draws the CSRF key and asks the host name, then hands
 * the bytes and values to the pure parser and context in core/auth.c. */
#include "auth_load.h"
#include "sysio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

int auth_users_load(struct auth_users *out, const char *path, struct buf *errors)
{
	struct buf text = BUF_INIT;
	int rc = file_read(&text, path, AUTH_USERS_FILE_MAX);
	char why[160];

	if (rc == ERR_TOOBIG)
		buf_printf(errors, "%s: larger than %u bytes\n", path, AUTH_USERS_FILE_MAX);
	else if (rc) {
		file_error(why, sizeof(why), path, rc, AUTH_USERS_FILE_MAX);
		buf_printf(errors, "%s: cannot read: %s\n", path, why);
	} else
		rc = auth_users_parse(out, path, text.data ? text.data : "", text.len, errors);
	buf_release(&text);
	return rc ? (rc == ERR_NOMEM ? rc : ERR_INVALID) : 0;
}

static int random_key(unsigned char *key, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(key + got, n - got, 0);

		if (r < 0 && errno != EINTR)
			return ERR_IO;
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

int auth_init(struct auth *a, const char *users_path, const char *proxy_header,
	      struct buf *errors)
{
	memset(a, 0, sizeof(*a));
	if (random_key(a->key, sizeof(a->key))) {
		buf_printf(errors, "cannot draw the CSRF key: %s\n", strerror(errno));
		return ERR_IO;
	}
	if (gethostname(a->host, sizeof(a->host) - 1) || !a->host[0])
		strlcpy_(a->host, "localhost", sizeof(a->host));
	if (proxy_header && strlen(proxy_header) >= sizeof(a->proxy_header)) {
		buf_printf(errors, "trustedProxyHeader '%s' is too long\n", proxy_header);
		return ERR_INVALID;
	}
	strlcpy_(a->proxy_header, proxy_header ? proxy_header : "", sizeof(a->proxy_header));
	if (users_path) {
		int rc = auth_users_load(&a->users, users_path, errors);

		if (rc) {
			auth_release(a);
			return rc;
		}
		a->have_users = true;
	}
	return 0;
}
