/* libFuzzer target for audit.c: the range argument (first line of the
 * input) and a commit message judged as a tracked-branch commit by the
 * daemon's identity and as a request commit (the rest).  Both must reject
 * or report garbage without reading out of bounds. */
#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void judge(const char *msg, size_t len, bool requests)
{
	static const char *const changed[] = { "values/values-paper.yaml" };
	struct audit_policy p = {
		.ident_name = "pipelined", .ident_email = "pipelined@gremlin-1",
		.values_path = { [STAGE_BETA] = "values/values-beta.yaml",
				 [STAGE_PAPER] = "values/values-paper.yaml",
				 [STAGE_LIVE] = "values/values-live.yaml" },
		.market_gated = { [STAGE_PAPER] = true, [STAGE_LIVE] = true },
		.requests = requests, .request_stage = STAGE_PAPER,
	};
	struct audit_commit c[2];
	struct audit_report r;

	memset(c, 0, sizeof c);
	for (int i = 0; i < 2; i++) {
		c[i].id = i ? "2222222222222222222222222222222222222222"
			    : "1111111111111111111111111111111111111111";
		c[i].committer_name = "pipelined";
		c[i].committer_email = "pipelined@gremlin-1";
		c[i].message = msg;
		c[i].message_len = len;
		c[i].changed = changed;
		c[i].nchanged = 1;
		c[i].values[STAGE_PAPER].changed = true;
		c[i].values[STAGE_PAPER].only_tags = true;
		c[i].values[STAGE_PAPER].tag = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
		c[i].window_open = i;
		c[i].judged = true;
	}
	if (audit_run(&r, &p, c, 2) != 0)
		abort();
	for (size_t i = 0; i < r.n; i++)
		if ((unsigned)r.v[i].code >= AUDIT_CODE_COUNT ||
		    strlen(r.v[i].message) >= sizeof r.v[i].message)
			abort();
	audit_report_release(&r);
	audit_first_promotion(c, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char from[64], to[64], err[128];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rlen = nl ? (size_t)(nl - data) : size;
	char *s = malloc(size + 1);
	bool has;

	if (!init)
		init = git_libgit2_init();
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	s[rlen] = '\0';
	if (audit_parse_range(from, sizeof from, to, sizeof to, &has, s, err, sizeof err) == 0 &&
	    (!to[0] || (has && !from[0])))
		abort();
	if (nl) {
		judge(s + rlen + 1, size - rlen - 1, false);
		judge(s + rlen + 1, size - rlen - 1, true);
	}
	free(s);
	return 0;
}
