/* libFuzzer target for audit_state.c's checkpoint decoder: any bytes, and
 * (when the first byte is odd) the rest with its last 8 bytes replaced by
 * the right checksum so that the parse behind it is reached, must be
 * refused or give a state that indexes, cuts and encodes again without
 * reading out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_state s;
	struct buf b = BUF_INIT;
	unsigned char *p = NULL;
	uint64_t sum;

	if (size > 9 && (data[0] & 1)) {
		if (!(p = malloc(size - 1)))
			return 0;
		memcpy(p, data + 1, size - 1);
		sum = audit_state_checksum(p, size - 9);
		for (int i = 0; i < 8; i++)
			p[size - 9 + (size_t)i] = (unsigned char)(sum >> (8 * i));
		data = p;
		size--;
	}
	if (audit_state_decode(&s, (const char *)data, size, KEY) == 0) {
		if (audit_state_index(&s) == 0 && s.depth > 1)
			audit_state_truncate(&s, s.depth / 2, s.tip);
		if (audit_state_encode(&b, &s, KEY) == 0 && b.len < 8)
			abort();
		audit_state_release(&s);
		buf_release(&b);
	}
	free(p);
	return 0;
}
