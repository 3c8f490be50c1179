/* libFuzzer: the Link header parser and Retry-After (both from any server).
 * Seeds: fuzz/corpus/registry/link/ */
#include "regparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256], *s;
	uint64_t ms;

	if (regparse_link_next(out, sizeof(out), (const char *)data, size) == 0 &&
	    (strlen(out) == 0 || strchr(out, '>') || strchr(out, ' ')))
		__builtin_trap();
	/* Retry-After takes a C string */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (regparse_retry_after(&ms, s, 1700000000, 6 * 3600 * 1000) == 0 && ms > 6 * 3600 * 1000)
		__builtin_trap();
	free(s);
	return 0;
}
