/* libFuzzer target for pktline.c: the ref advertisement a session helper
 * reads from git-upload-pack over SSH (a server, or whoever sits in front of
 * it, chooses every byte), and git URLs from the configuration.  Both must
 * reject garbage without reading out of bounds, and a parse that succeeds
 * must describe refs inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pktline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pktline_adv adv;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], cmd[512], user[64];
	char *s;
	size_t i;
	int rc;

	rc = pktline_adv_parse(&adv, (const char *)data, size, err, sizeof err);
	if (rc == 0) {
		if (adv.used > size || adv.nrefs > PKTLINE_MAX_REFS)
			abort();
		for (i = 0; i < adv.nrefs; i++)
			if (adv.refs[i].id_off + PKTLINE_HEXSZ > size ||
			    adv.refs[i].name_off + adv.refs[i].name_len > size ||
			    adv.refs[i].name_len == 0 || adv.refs[i].name_len > PKTLINE_MAX_NAME)
				abort();
	} else if (rc < 0 && !err[0]) {
		abort();	/* every refusal says why */
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pktline_upload_pack_cmd(cmd, sizeof cmd, s) == 0 && strlen(cmd) >= sizeof cmd)
		abort();
	if (pktline_url_user(user, sizeof user, s) == 0 && strlen(user) >= sizeof user)
		abort();
	free(s);
	return 0;
}
