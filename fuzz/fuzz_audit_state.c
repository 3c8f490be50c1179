/* libFuzzer target for audit_state.c's checkpoint decoder: any bytes, and
 * (when the first byte is odd) the rest with its last 8 bytes replaced by
 * the right checksum so that the parse behind it is reached, must be
 * refused or give a state that indexes, cuts and encodes again without
 * reading out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_state s;
	struct buf b = BUF_INIT;
	unsigned char *p = malloc(size ? size : 1);
	uint64_t sum;

	if (!p)
		return 0;
	memcpy(p, data, size);
	if (size > 9 && (data[0] & 1)) {
		memmove(p, p + 1, --size);
		sum = audit_state_checksum(p, size - 8);
		for (int i = 0; i < 8; i++)
			p[size - 8 + (size_t)i] = (unsigned char)(sum >> (8 * i));
	}
	if (audit_state_decode(&s, p, size, KEY) == 0) {
		char tag[41];

		audit_state_reached(&s, STAGE_PAPER, "0000000000000000000000000000000000000001");
		audit_state_request(&s, "0000000000000000000000000000000000000001");
		if (s.depth > 1)
			audit_state_truncate(&s, s.depth / 2, s.tip);
		snprintf(tag, sizeof tag, "%040x", 7u);
		if (audit_state_step(&s, "1111111111111111111111111111111111111111") == 0)
			audit_state_remember(&s, STAGE_BETA, tag, "r");
		if (audit_state_encode(&b, &s, KEY) == 0 && b.len < 8)
			abort();
		buf_release(&b);
	}
	audit_state_release(&s);
	free(p);
	return 0;
}
