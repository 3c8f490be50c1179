/* libFuzzer: an Argo CD Application document or watch-stream line, then
 * the verdict on whatever was parsed.  The first byte picks the parser.
 * Seeds: fuzz/corpus/argocd/ */
#include "argocd_app.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const images[] = { "scheduler", "risk", "dashboard" };
	struct argocd_expect x = { "0f3c9a1b2c3d4e5f60718293a4b5c6d7e8f90123", images, 3, true };
	struct buf err = BUF_INIT;
	struct argocd_app a;
	struct argocd_state st;
	char type[16];
	int rc;

	if (!size)
		return 0;
	if (data[0] & 1)
		rc = argocd_app_parse(&a, (const char *)data + 1, size - 1,
				      "ssh://git@127.0.0.1:2222/srv/git/stonks-oracle.git", &err);
	else
		rc = argocd_event_parse(&a, type, (const char *)data + 1, size - 1,
					"https://github.com/celesrenata/stonks-oracle", &err) ||
		     strcmp(type, "DELETED") == 0;
	if (rc == 0) {
		argocd_judge(&st, &a, &x);
		if (strlen(st.why) >= sizeof st.why || !argocd_verdict_name(st.verdict))
			abort();
		argocd_app_release(&a);
	}
	buf_release(&err);
	return 0;
}
