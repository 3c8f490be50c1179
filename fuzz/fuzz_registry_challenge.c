/* libFuzzer: the WWW-Authenticate challenge parser (bytes from any registry).
 * Seeds: fuzz/corpus/registry/challenge/ */
#include "regparse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_challenge c;

	if (regparse_challenge(&c, (const char *)data, size) == 0) {
		/* every field is terminated inside its bounds */
		if (strnlen(c.realm, sizeof(c.realm)) == sizeof(c.realm) ||
		    strnlen(c.scope, sizeof(c.scope)) == sizeof(c.scope) ||
		    strnlen(c.service, sizeof(c.service)) == sizeof(c.service) ||
		    strnlen(c.error, sizeof(c.error)) == sizeof(c.error))
			__builtin_trap();
		if (c.scheme == REG_AUTH_BEARER && !c.realm[0])
			__builtin_trap();
	}
	return 0;
}
