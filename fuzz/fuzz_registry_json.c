/* libFuzzer: the JSON bodies a registry sends: token, tags/list, the
 * evidence manifest and the evidence document.  The first byte picks one.
 * Seeds: fuzz/corpus/registry/json/ */
#include "regparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_cb(void *arg, const char *tag, size_t len)
{
	size_t *n = arg;

	return ++*n > 1000 ? -3 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[REGPARSE_ERR_MAX], *tok = NULL;
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0, nt, sk, seen = 0;
	struct reg_layer l;
	struct reg_evidence e;
	uint64_t exp;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (regparse_token(&tok, &exp, s, n, err, sizeof(err)) == 0 && (!tok[0] || exp < 60))
			__builtin_trap();
		free(tok);
		break;
	case 1:
		regparse_tags(&nt, &sk, s, n, count_cb, &seen, err, sizeof(err));
		break;
	case 2:
		if (regparse_evidence_manifest(&l, s, n, err, sizeof(err)) == 0 &&
		    !regparse_digest_valid(l.digest, strlen(l.digest)))
			__builtin_trap();
		break;
	default:
		if (regparse_evidence(&e, s, n, err, sizeof(err)) == 0 &&
		    e.ok != (e.exit_code == 0 && e.failed <= 0))
			__builtin_trap();
		break;
	}
	return 0;
}
