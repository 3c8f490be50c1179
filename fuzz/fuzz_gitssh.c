/* libFuzzer target for gitssh.c: private key files (gitssh_key_type reads
 * whatever file the configuration names) and git URLs from the
 * configuration, and SSH signatures from request and approval commits
 * (gitssh_sig_key, issue 14), and the dashboard's approval key and the
 * allowed-signers files it is looked up in (gitssh_private_key_fp,
 * gitssh_signers_principals, issue 14).  All must reject garbage without
 * reading out of bounds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gitssh_url u;
	char type[64], name[300], fp[60];
	char *s;

	if (gitssh_key_type(type, sizeof type, (const char *)data, size) == 0 &&
	    strlen(type) >= sizeof type)
		abort();
	if (gitssh_sig_key(fp, (const char *)data, size) == 0 &&
	    (strncmp(fp, "SHA256:", 7) != 0 || strlen(fp) != 50))
		abort();
	{
		bool enc;
		char pr[64];
		int line = 0;

		if (gitssh_private_key_fp(fp, &enc, (const char *)data, size) == 0 &&
		    (strncmp(fp, "SHA256:", 7) != 0 || strlen(fp) != 50))
			abort();
		/* the fingerprint of an empty blob, and of the key this input
		 * may itself hold */
		if (gitssh_signers_principals(pr, sizeof pr, &line, (const char *)data, size,
					      "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU") == 0 &&
		    (strlen(pr) >= sizeof pr || line < 1))
			abort();
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (gitssh_url_parse(&u, s) == 0 && u.ssh) {
		if (u.port < 1 || u.port > 65535 || !u.host[0])
			abort();
		gitssh_known_host_name(name, sizeof name, &u);
	}
	free(s);
	return 0;
}
