/* libFuzzer target for webhook.c: the first byte picks the event name,
 * the rest is the delivery body, also checked against a signature header
 * cut from its own tail.  Neither may crash, leak or read out of bounds,
 * and a classification error must leave the output untouched. */
#include <stdint.h>
#include <string.h>

#include "webhook.h"

static const char *const events[] = {
	"package", "registry_package", "workflow_run", "ping", "push", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct webhook_coalescer co;
	struct webhook_event ev = { .kind = WEBHOOK_PING };
	char err[256], header[96];
	size_t hlen;

	if (size == 0)
		return 0;
	if (webhook_classify(&ev, events[data[0] % 6], data + 1, size - 1, err, sizeof(err))
	    && ev.kind != WEBHOOK_PING)
		__builtin_trap();
	hlen = size - 1 < sizeof(header) - 1 ? size - 1 : sizeof(header) - 1;
	memcpy(header, data + 1, hlen);
	header[hlen] = '\0';
	webhook_verify("secret", 6, header, data, size);
	if (co.window_ms == 0)
		webhook_coalescer_init(&co, 2000, 600000);
	webhook_coalescer_offer(&co, header, size);
	return 0;
}
