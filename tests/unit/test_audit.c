/* Table-driven tests for audit.c: small histories (oldest first) built from
 * real promotion messages (trailer_format_promotion) and hand-made
 * tampering, each with the exact violation codes an auditor must see. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "trailer.h"
#include "util.h"

#define TA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define R1 "1111111111111111111111111111111111111111"
#define R2 "2222222222222222222222222222222222222222"
#define R3 "3333333333333333333333333333333333333333"
#define MAXC 8

static const char *const paths[STAGE_COUNT] = {
	[STAGE_BETA] = "values/values-beta.yaml",
	[STAGE_PAPER] = "values/values-paper.yaml",
	[STAGE_LIVE] = "values/values-live.yaml",
};

static const struct audit_policy policy = {
	.ident_name = "pipelined", .ident_email = "pipelined@gremlin-1",
	.values_path = { [STAGE_BETA] = "values/values-beta.yaml",
			 [STAGE_PAPER] = "values/values-paper.yaml",
			 [STAGE_LIVE] = "values/values-live.yaml" },
	.market_gated = { [STAGE_PAPER] = true, [STAGE_LIVE] = true },
};

/* One commit of a case.  msg NULL: a promotion message from the fields. */
struct step {
	const char *who;	/* NULL: the daemon */
	const char *msg;
	enum stage st, src;
	const char *tag, *req, *bg;
	enum stage changes;	/* the values file changed; STAGE_COUNT: none */
	const char *file_tag;	/* tag in that file afterwards; NULL: = tag */
	bool not_only_tags;
	const char *extra_path;
	bool open;
	bool baseline;
	/* issue 14 item 4: a rollback merge (rb: Rollback:, from:
	 * Rolled-Back-From:, allowance: Rollback-Allowance:) */
	const char *rb, *from;
	bool allowance;
};

struct tcase {
	const char *name;
	struct step steps[MAXC];
	size_t n;
	const char *want;	/* space-separated codes in order, "" for none */
};

#define PROMO(s, so, t) .st = s, .src = so, .tag = t, .changes = s

static const struct tcase cases[] = {
	{ "clean history", {
		{ .who = "Dev", .msg = "initial layout\n", .changes = STAGE_PAPER, .baseline = true },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .open = true },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = R2, .bg = "hotfix", .open = true },
		{ .who = "Dev", .msg = "docs\n", .changes = STAGE_COUNT, .extra_path = "README.md" },
	}, 5, "" },
	{ "direct push to a values file", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ .who = "Dev", .msg = "bump paper by hand\n", .changes = STAGE_PAPER, .file_tag = TA },
	}, 2, "direct-change" },
	{ "the daemon's identity without trailers is still a direct change", {
		{ .msg = "bump\n", .changes = STAGE_BETA, .file_tag = TA },
	}, 1, "direct-change" },
	{ "forged trailers by a person", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .who = "Mallory" },
	}, 1, "forged-trailer" },
	{ "a forged promotion establishes nothing", {
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .who = "Mallory", .req = R1 },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = R2, .bg = "x" },
	}, 2, "forged-trailer skipped-stage" },
	{ "missing Market", {
		{ .msg = "promote beta: aaaaaaa\n\nStage: beta\nSource-Stage: integration-test\n"
			 "Image-Tag: " TA "\nRequested-By: pipelined (automatic)\n"
			 "Integration-Test: passed 1/1\n", .changes = STAGE_BETA, .file_tag = TA },
	}, 1, "malformed-trailers" },
	{ "repeated Stage", {
		{ .msg = "p\n\nStage: beta\nStage: live\nSource-Stage: integration-test\n"
			 "Image-Tag: " TA "\nRequested-By: pipelined (automatic)\nMarket: closed\n"
			 "Integration-Test: passed 1/1\n", .changes = STAGE_BETA, .file_tag = TA },
	}, 1, "malformed-trailers" },
	{ "source after target, person without Request", {
		{ .msg = "p\n\nStage: beta\nSource-Stage: live\nImage-Tag: " TA "\n"
			 "Requested-By: Dev <d@x>\nMarket: closed\nIntegration-Test: disabled\n",
		  .changes = STAGE_BETA, .file_tag = TA },
	}, 1, "malformed-trailers" },
	{ "unreadable trailers on a values change", {
		{ .who = "Dev", .msg = "x\n\nStage: beta\n---\nImage-Tag: y\n", .changes = STAGE_BETA,
		  .file_tag = TA },
	}, 1, "malformed-trailers" },
	{ "promotion changed another file", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .extra_path = "templates/x.yaml" },
	}, 1, "wrong-files" },
	{ "promotion changed more than tag scalars", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .not_only_tags = true },
	}, 1, "wrong-files" },
	{ "Image-Tag differs from the file", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .file_tag = TB },
	}, 1, "tag-mismatch" },
	{ "gated stage inside the window without break-glass", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .open = true },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1, .open = true },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = R2, .bg = "urgent", .open = true },
	}, 3, "market-open" },
	{ "reused request", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
	}, 3, "reused-request" },
	{ "skipped stage", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = R1 },
	}, 2, "skipped-stage" },
	{ "source reached in the baseline", {
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1, .open = true, .baseline = true },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = R2 },
	}, 2, "" },
	{ "evidence-stage source cannot be checked from git", {
		{ PROMO(STAGE_LIVE, STAGE_INTTEST, TB), .req = R1 },
	}, 1, "" },
	{ "reached only in a later commit", {
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
	}, 2, "skipped-stage" },
	/* issue 14 item 4: rollbacks */
	{ "rollback to a release the stage ran", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R2 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R3, .rb = "bad fills", .from = TB },
	}, 5, "" },
	{ "rollback in the window by the allowance", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R2 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R3, .rb = "bad fills", .from = TB,
		  .allowance = true, .open = true },
	}, 5, "" },
	{ "rollback in the window with break-glass", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R2 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R3, .rb = "bad fills", .from = TB,
		  .bg = "INC-1", .open = true },
	}, 5, "" },
	{ "rollback in the window without either", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R2 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R3, .rb = "bad fills", .from = TB,
		  .open = true },
	}, 5, "market-open" },
	{ "rollback to a release the stage never ran", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R3, .rb = "bad fills", .from = TA },
	}, 3, "rollback" },
	{ "Rolled-Back-From: not the previous tag", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R2 },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R3, .rb = "bad fills", .from = TA },
	}, 5, "rollback" },
	{ "rollback without Rolled-Back-From", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1 },
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TB) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TB), .req = R2 },
		{ .msg = "p\n\nStage: paper\nSource-Stage: beta\nImage-Tag: " TA "\n"
			 "Requested-By: Dev <d@x>\nRequest: " R3 "\nRollback: bad fills\n"
			 "Market: closed\nIntegration-Test: passed 3/3\n", .changes = STAGE_PAPER,
		  .file_tag = TA },
	}, 5, "rollback" },
	{ "rollback trailers on an ordinary promotion", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ .msg = "p\n\nStage: beta\nSource-Stage: integration-test\nImage-Tag: " TA "\n"
			 "Requested-By: pipelined (automatic)\nRolled-Back-From: " TB "\n"
			 "Market: closed\nIntegration-Test: passed 3/3\n", .changes = STAGE_BETA,
		  .file_tag = TA },
	}, 2, "rollback" },
	{ "several at once, in commit order", {
		{ .who = "Dev", .msg = "hand edit\n", .changes = STAGE_LIVE, .file_tag = TA },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R1, .open = true, .file_tag = TB,
		  .extra_path = "x" },
	}, 2, "direct-change wrong-files tag-mismatch market-open skipped-stage" },
};

struct built {
	struct audit_commit c[MAXC];
	struct buf msg[MAXC];
	const char *changed[MAXC][2];
	char ids[MAXC][41];
};

static void build(struct built *b, const struct tcase *t)
{
	memset(b, 0, sizeof *b);
	for (size_t i = 0; i < t->n; i++) {
		const struct step *s = &t->steps[i];
		struct audit_commit *c = &b->c[i];
		size_t k = 0;

		snprintf(b->ids[i], sizeof b->ids[i], "%040zu", i + 1);
		buf_init(&b->msg[i], 0);
		if (s->msg) {
			buf_adds(&b->msg[i], s->msg);
		} else {
			struct trailer_promotion p = {
				.stage = s->st, .source = s->src, .image_tag = s->tag,
				.requested_by = s->req ? "Dev <dev@example.com>" : NULL,
				.request = s->req, .break_glass = s->bg,
				.market = s->open ? "open, closes 16:00 EST" : "closed (weekend)",
				.integration_test = "passed 3/3",
				.rollback = s->rb, .rolled_back_from = s->from,
				.rollback_allowance = s->allowance,
				.overrode = s->allowance ? "market-open" : NULL,
			};
			assert_int_equal(trailer_format_promotion(&b->msg[i], &p, NULL), 0);
		}
		c->id = b->ids[i];
		c->committer_name = s->who ? s->who : "pipelined";
		c->committer_email = s->who ? "someone@example.com" : "pipelined@gremlin-1";
		c->time = 1772800000 + (int64_t)i * 3600;
		c->message = b->msg[i].data;
		c->message_len = b->msg[i].len;
		if (s->changes != STAGE_COUNT && s->changes != STAGE_CI) {
			b->changed[i][k++] = paths[s->changes];
			c->values[s->changes].changed = true;
			c->values[s->changes].only_tags = !s->not_only_tags;
			c->values[s->changes].tag = s->file_tag ? s->file_tag : s->tag;
		}
		if (s->extra_path)
			b->changed[i][k++] = s->extra_path;
		c->changed = b->changed[i];
		c->nchanged = k;
		c->window_open = s->open;
		c->window_text = s->open ? "open, closes 16:00 EST" : "closed (weekend)";
		c->judged = !s->baseline;
	}
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t t = 0; t < ARRAY_SIZE(cases); t++) {
		struct built b;
		struct audit_report r;
		char got[512] = "";
		size_t len = 0;

		build(&b, &cases[t]);
		assert_int_equal(audit_run(&r, &policy, b.c, cases[t].n), 0);
		for (size_t i = 0; i < r.n; i++) {
			len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "",
						audit_code_name(r.v[i].code));
			assert_true(strlen(r.v[i].message) > 10);
			assert_int_equal(strlen(r.v[i].commit), 40);
		}
		if (strcmp(got, cases[t].want) != 0)
			fail_msg("case '%s': got '%s', want '%s'", cases[t].name, got, cases[t].want);
		audit_report_release(&r);
		for (size_t i = 0; i < cases[t].n; i++)
			buf_release(&b.msg[i]);
	}
}

static void test_messages(void **state)
{
	struct built b;
	struct audit_report r;

	(void)state;
	build(&b, &cases[4]);	/* forged, then skipped */
	assert_int_equal(audit_run(&r, &policy, b.c, 2), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].commit, b.ids[0]);
	assert_string_equal(r.v[0].message, "carries Stage: but was committed by Mallory "
			    "<someone@example.com>, not pipelined <pipelined@gremlin-1>");
	assert_string_equal(r.v[1].message, "aaaaaaaaaaaa promoted into live from paper, where it "
			    "had never been promoted");
	assert_int_equal(r.judged, 2);
	assert_int_equal(r.promotions, 1);
	audit_report_release(&r);
	for (size_t i = 0; i < 2; i++)
		buf_release(&b.msg[i]);

	build(&b, &cases[0]);
	assert_int_equal(audit_run(&r, &policy, b.c, 5), 0);
	assert_int_equal(r.judged, 4);
	assert_int_equal(r.promotions, 3);
	assert_int_equal(audit_first_promotion(b.c, 5), 1);
	assert_int_equal(audit_first_promotion(b.c, 1), 1);
	audit_report_release(&r);
	/* missing facts are a caller bug */
	b.c[2].message = NULL;
	assert_int_equal(audit_run(&r, &policy, b.c, 5), ERR_INVALID);
	for (size_t i = 0; i < 5; i++)
		buf_release(&b.msg[i]);
}

/* Commits of a promotion request for paper (a pull request's range). */
static void test_request_mode(void **state)
{
	static const struct tcase req_cases[] = {
		{ "request", {
			{ .who = "Dev", .msg = "promote paper\n\nNotes: go\n", .changes = STAGE_PAPER,
			  .file_tag = TA },
		}, 1, "" },
		{ "request with a daemon trailer", {
			{ .who = "Dev", .msg = "promote paper\n\nImage-Tag: " TA "\n",
			  .changes = STAGE_PAPER, .file_tag = TA },
		}, 1, "forged-trailer" },
		{ "request for paper touching live", {
			{ .who = "Dev", .msg = "x\n", .changes = STAGE_LIVE, .file_tag = TA },
		}, 1, "wrong-files" },
		{ "request beyond the tag scalars", {
			{ .who = "Dev", .msg = "x\n", .changes = STAGE_PAPER, .file_tag = TA,
			  .not_only_tags = true },
		}, 1, "wrong-files" },
		{ "baseline promotions are not judged", {
			{ PROMO(STAGE_BETA, STAGE_INTTEST, TA), .baseline = true },
			{ .who = "Dev", .msg = "x\n", .changes = STAGE_PAPER, .file_tag = TA },
		}, 2, "" },
	};
	struct audit_policy p = policy;
	struct audit_report r;

	(void)state;
	p.requests = true;
	p.request_stage = STAGE_PAPER;
	for (size_t t = 0; t < ARRAY_SIZE(req_cases); t++) {
		struct built b;

		build(&b, &req_cases[t]);
		assert_int_equal(audit_run(&r, &p, b.c, req_cases[t].n), 0);
		if (strcmp(req_cases[t].want, "") == 0)
			assert_int_equal(r.n, 0);
		else if (r.n != 1 || strcmp(audit_code_name(r.v[0].code), req_cases[t].want))
			fail_msg("case '%s': %zu violations", req_cases[t].name, r.n);
		audit_report_release(&r);
		for (size_t i = 0; i < req_cases[t].n; i++)
			buf_release(&b.msg[i]);
	}
	p.request_stage = STAGE_INTTEST;
	assert_int_equal(audit_run(&r, &p, NULL, 0), ERR_INVALID);
}

/* The tip of a request's pull request, judged with the daemon's own shape
 * rules (policy_check_shape): the same code and words as its note. */
static void test_request_shape(void **state)
{
	static const struct tcase one = { "request", {
		{ .who = "Dev", .msg = "promote paper\n\nNotes: go\n", .changes = STAGE_PAPER,
		  .file_tag = TA },
	}, 1, "" };
	static const struct {
		struct policy_request q;
		const char *want, *message;
	} shapes[] = {
		{ { .commit = R1, .nparents = 1, .parent = R2 }, "", "" },
		{ { .commit = R1, .merge = true, .nparents = 2, .tracked = "main" }, "merge-request",
		  "request 1111111 is a merge commit (2 parents), which would bring other "
		  "commits into main" },
		{ { .commit = R1, .orphan = true, .tracked = "main" }, "orphan-request",
		  "request 1111111 has no parent" },
		{ { .commit = R1, .nparents = 1, .off_branch = true, .parent = R2,
		    .tracked = "main" }, "off-branch",
		  "the parent of request 1111111, 2222222, is not on main" },
		{ { .commit = R1, .nparents = 1, .parent = R2, .mode_path = "values/values-paper.yaml",
		    .mode_old = 0100644, .mode_new = 0100755 }, "mode-change",
		  "the request changes the mode of \"values/values-paper.yaml\" from 100644 to "
		  "100755" },
	};
	struct audit_policy p = policy;
	struct audit_report r;

	(void)state;
	p.requests = true;
	p.request_stage = STAGE_PAPER;
	for (size_t t = 0; t < ARRAY_SIZE(shapes); t++) {
		struct built b;

		build(&b, &one);
		b.c[0].shape = &shapes[t].q;
		assert_int_equal(audit_run(&r, &p, b.c, 1), 0);
		if (!*shapes[t].want)
			assert_int_equal(r.n, 0);
		else if (r.n != 1 || strcmp(audit_code_name(r.v[0].code), shapes[t].want) ||
			 strncmp(r.v[0].message, shapes[t].message, strlen(shapes[t].message)))
			fail_msg("shape '%s': %zu violations: %s %s", shapes[t].want, r.n,
				 r.n ? audit_code_name(r.v[0].code) : "", r.n ? r.v[0].message : "");
		audit_report_release(&r);
		buf_release(&b.msg[0]);
	}
}

static void test_range(void **state)
{
	static const struct {
		const char *in, *from, *to;
		bool has_from;
		int rc;
	} t[] = {
		{ "main", "", "main", false, 0 },
		{ "abc..def", "abc", "def", true, 0 },
		{ "v1..", "v1", "HEAD", true, 0 },
		{ "..HEAD~3", "HEAD", "HEAD~3", true, 0 },
		{ "origin/main..HEAD", "origin/main", "HEAD", true, 0 },
		{ "a...b", NULL, NULL, false, ERR_INVALID },
		{ "a..b..c", NULL, NULL, false, ERR_INVALID },
		{ "", NULL, NULL, false, ERR_INVALID },
		{ "..", "HEAD", "HEAD", true, 0 },
		{ "-n..b", NULL, NULL, false, ERR_INVALID },
		{ "a b", NULL, NULL, false, ERR_INVALID },
		{ "a..\n", NULL, NULL, false, ERR_INVALID },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char from[64] = "x", to[64] = "y", err[128] = "";
		bool has = true;
		int rc = audit_parse_range(from, sizeof from, to, sizeof to, &has, t[i].in, err,
					   sizeof err);

		if (rc != t[i].rc)
			fail_msg("'%s': rc %d", t[i].in, rc);
		if (rc == 0) {
			assert_string_equal(from, t[i].from);
			assert_string_equal(to, t[i].to);
			assert_int_equal(has, t[i].has_from);
		} else {
			assert_true(strlen(err) > 0);
		}
	}
}

/* Issue 13 item 5: promotions without a deploy note, superseded or
 * still current, per stage; the deployed ones only counted. */
static void test_deployments(void **state)
{
	const struct audit_promotion p[] = {
		{ "c0", STAGE_BETA, true },	/* deployed */
		{ "c1", STAGE_BETA, false },	/* superseded by c3 */
		{ "c2", STAGE_PAPER, false },	/* paper's current, not deployed */
		{ "c3", STAGE_BETA, false },	/* superseded by c4 */
		{ "c4", STAGE_BETA, true },
		{ "c5", STAGE_BETA, false },	/* beta's current, not deployed */
	};
	struct audit_deploy_report r;

	(void)state;
	assert_int_equal(audit_deployments(&r, p, ARRAY_SIZE(p)), 0);
	assert_int_equal(r.promotions, 6);
	assert_int_equal(r.deployed, 2);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.v[0].index, 1);
	assert_true(r.v[0].superseded);
	assert_int_equal(r.v[0].by, 3);
	assert_int_equal(r.v[1].index, 2);
	assert_false(r.v[1].superseded);
	assert_int_equal(r.v[2].index, 3);
	assert_true(r.v[2].superseded);
	assert_int_equal(r.v[2].by, 4);
	assert_int_equal(r.v[3].index, 5);
	assert_false(r.v[3].superseded);
	audit_deploy_report_release(&r);

	assert_int_equal(audit_deployments(&r, p, 0), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.promotions, 0);
	audit_deploy_report_release(&r);
	assert_int_equal(audit_deployments(&r, (const struct audit_promotion[]){
		{ "x", STAGE_CI, false } }, 1), ERR_INVALID);
	assert_int_equal(audit_deployments(&r, (const struct audit_promotion[]){
		{ NULL, STAGE_BETA, false } }, 1), ERR_INVALID);
}

/* ---- the two-person rule (issue 14 item 3) ---- */

#define AP1 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define AP2 "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"

/* Beta and paper promotions of TA, a live promotion of TA (request R1 by dana)
 * carrying the Approved-By values given, another live one (request TB)
 * without any. */
struct appr_history {
	struct built b;
	struct policy_request q;
	struct policy_approval pa[2];
};

static void appr_build(struct appr_history *h, const char *const *by, size_t nby)
{
	static const struct tcase t = { "approvals", {
		{ PROMO(STAGE_BETA, STAGE_INTTEST, TA) },
		{ PROMO(STAGE_PAPER, STAGE_BETA, TA), .req = R2 },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = R1 },
		{ PROMO(STAGE_LIVE, STAGE_PAPER, TA), .req = TB },
	}, 4, "" };
	struct trailer_promotion p = {
		.stage = STAGE_LIVE, .source = STAGE_PAPER, .image_tag = TA,
		.requested_by = "Dana <dana@example.com>", .request = R1,
		.market = "closed (weekend)", .integration_test = "passed 3/3",
		.signed_by = "dana@example.com", .approved_by = by, .napproved = nby,
	};

	build(&h->b, &t);
	buf_release(&h->b.msg[2]);
	buf_init(&h->b.msg[2], 0);
	assert_int_equal(trailer_format_promotion(&h->b.msg[2], &p, NULL), 0);
	h->b.c[2].message = h->b.msg[2].data;
	h->b.c[2].message_len = h->b.msg[2].len;
	memset(&h->q, 0, sizeof h->q);
	h->q.commit = R1;
	h->q.sig = POLICY_SIG_GOOD;
	h->q.signer = "dana@example.com";
	h->q.signer_principals = "dana@example.com,dana@home.example";
	h->q.signer_key = "SHA256:dana";
	h->q.author_email = "dana@example.com";
	h->pa[0] = (struct policy_approval){ .commit = AP1, .approves = R1,
		.sig = POLICY_SIG_GOOD, .principal = "rita@example.com",
		.principals = "rita@example.com", .key = "SHA256:rita",
		.author_email = "rita@example.com" };
	h->pa[1] = (struct policy_approval){ .commit = AP2, .approves = R1,
		.sig = POLICY_SIG_GOOD, .principal = "dana@example.com",
		.principals = "dana@example.com,dana@home.example", .key = "SHA256:dana",
		.author_email = "dana@home.example" };
	h->q.approvals = h->pa;
	h->q.napprovals = 2;
	h->b.c[2].merged = &h->q;
}

static void appr_release(struct appr_history *h)
{
	for (size_t i = 0; i < 4; i++)
		buf_release(&h->b.msg[i]);
}

static void appr_expect(struct appr_history *h, size_t n, const char *want, const char *msg)
{
	struct audit_policy pol = policy;
	struct audit_report r;
	char got[512] = "";
	size_t len = 0;

	pol.approvals[STAGE_LIVE] = 1;
	assert_int_equal(audit_run(&r, &pol, h->b.c, n), 0);
	for (size_t i = 0; i < r.n; i++)
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "",
					audit_code_name(r.v[i].code));
	if (strcmp(got, want) != 0)
		fail_msg("got '%s', want '%s'", got, want);
	if (msg && (!r.n || strcmp(r.v[0].message, msg) != 0))
		fail_msg("message '%s', want '%s'", r.n ? r.v[0].message : "", msg);
	audit_report_release(&r);
}

static void test_approvals(void **state)
{
	const char *by[2];
	struct appr_history h;

	(void)state;
	/* a second person's valid approval */
	by[0] = "Rita <rita@example.com> (principal rita@example.com, approval " AP1 ")";
	appr_build(&h, by, 1);
	appr_expect(&h, 3, "", NULL);
	/* from then on a live promotion without one is missing its approval */
	appr_expect(&h, 4, "approval-missing", NULL);
	appr_release(&h);

	/* the author's own key, under her second address */
	by[0] = "Dana <dana@home.example> (principal dana@example.com, approval " AP2 ")";
	appr_build(&h, by, 1);
	appr_expect(&h, 3, "self-approval approval-missing", "approval a2a2a2a2a2a2 by "
		    "dana@example.com is the request author's own (request 111111111111 by "
		    "dana@example.com)");
	appr_release(&h);

	/* not on the merged branch; a principal that did not sign it */
	by[0] = "Eve <eve@example.com> (principal eve@example.com, approval " TB ")";
	by[1] = "Rita <rita@example.com> (principal risk@example.com, approval " AP1 ")";
	appr_build(&h, by, 2);
	appr_expect(&h, 3, "approval-invalid approval-invalid approval-missing",
		    "Approved-By: names approval bbbbbbbbbbbb, which is not on the merged "
		    "request branch");
	appr_release(&h);

	/* a signature that is not from an allowed signer; a changed tree */
	by[0] = "Rita <rita@example.com> (principal rita@example.com, approval " AP1 ")";
	appr_build(&h, by, 1);
	h.pa[0].sig = POLICY_SIG_BAD;
	appr_expect(&h, 3, "approval-invalid approval-missing",
		    "approval a1a1a1a1a1a1 is not signed by an allowed signer");
	h.pa[0].sig = POLICY_SIG_GOOD;
	h.pa[0].shape = POLICY_APPROVAL_CHANGES;
	appr_expect(&h, 3, "approval-invalid approval-missing", "approval a1a1a1a1a1a1 is no "
		    "approval of request 111111111111: it changes files");
	/* the merged request could not be read: nothing is vouched for */
	h.b.c[2].merged = NULL;
	appr_expect(&h, 3, "approval-invalid approval-missing", NULL);
	appr_release(&h);

	/* one person twice */
	by[1] = by[0];
	appr_build(&h, by, 2);
	appr_expect(&h, 3, "approval-invalid", "approval a1a1a1a1a1a1 by rita@example.com counts "
		    "a person twice");
	appr_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_request_mode),
		cmocka_unit_test(test_request_shape),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_deployments),
		cmocka_unit_test(test_approvals),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	return rc;
}
