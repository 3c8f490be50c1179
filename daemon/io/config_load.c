/* config_load.c - see config_load.h */
#include "config_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysio.h"

/* An included file: libgit2 would read it too (a missing one is skipped). */
static int read_include(void *arg, struct buf *out, const char *path, size_t max,
			char *msg, size_t msgsz)
{
	int rc = file_read(out, path, max);

	if (rc && rc != ERR_NOTFOUND)
		file_error(msg, msgsz, path, rc, max);
	return rc;
}

/* Each file the daemon will read must be a readable, non-empty regular
 * file within its reader's bound.  file_open_regular() never blocks, so a
 * FIFO or a device named here is refused at once.  Contents are not kept
 * (one byte is read to prove readability). */
static int file_check(void *arg, const char *path, size_t max, char *msg, size_t msgsz)
{
	char byte;
	ssize_t n;
	int fd, rc = file_open_regular(&fd, path, max);

	if (rc) {
		file_error(msg, msgsz, path, rc, max);
		return rc;
	}
	n = read(fd, &byte, 1);
	close(fd);
	byte = 0;
	(void)byte;
	if (n < 0)
		snprintf(msg, msgsz, "%s", strerror(errno));
	else if (n == 0)
		snprintf(msg, msgsz, "file is empty");
	return n == 1 ? 0 : ERR_IO;
}

/* ssh's rule (sshkey_perm_ok): a key file of the running user must not be
 * readable or writable by group or others. */
static bool open_to_others(void *arg, const char *path, unsigned *mode)
{
	struct stat st;

	(void)arg;
	if (stat(path, &st) || st.st_uid != getuid() || !(st.st_mode & 077))
		return false;
	*mode = (unsigned)(st.st_mode & 07777);
	return true;
}

static int read_error(const char *path, int rc, struct buf *errors)
{
	char why[128];

	if (rc == ERR_TOOBIG)
		snprintf(why, sizeof(why), "file is larger than %d bytes", CONFIG_MAX_BYTES);
	else if (rc == ERR_NOTFOUND)
		snprintf(why, sizeof(why), "cannot read: %s", strerror(ENOENT));
	else if (rc == ERR_INVALID)
		file_error(why, sizeof(why), path, rc, CONFIG_MAX_BYTES);
	else
		snprintf(why, sizeof(why), "cannot read: %s", strerror(errno ? errno : EIO));
	if (errors)
		buf_printf(errors, "%s: %s\n", path, why);
	return ERR_INVALID;
}

int config_load(struct config **out, const char *path, struct buf *errors)
{
	struct config_io io = {
		.read = read_include,
		.check = file_check,
		.open_to_others = open_to_others,
		.credentials_dir = getenv("CREDENTIALS_DIRECTORY"),
		.home = getenv("HOME"),
	};
	struct buf data = BUF_INIT;
	int rc = file_read(&data, path, CONFIG_MAX_BYTES);

	if (rc)
		return read_error(path, rc, errors);
	rc = config_parse(out, path, data.data, data.len, &io, errors);
	buf_release(&data);
	return rc;
}
