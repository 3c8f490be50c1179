/* Unit tests for policy.c: every refusal code with its message, the
 * precedence between them, the stage chain for every on/off combination,
 * break-glass and queue semantics, automatic promotion picks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <string.h>

#include "blank_text.h"
#include "policy.h"
#include "trailer.h"
#include "util.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define OLD "1111111111111111111111111111111111111111"
#define REQ "89abcdef0123456789abcdef0123456789abcdef"
#define CLOSE_TIME 1795885200	/* 2026-11-27 ... any fixed instant */

static const char *const values_paths[STAGE_COUNT] = {
	NULL, NULL, "values/values-beta.yaml", "values/values-paper.yaml",
	"values/values-live.yaml",
};

/* Everything a decision needs, owned in one place.  The default is a
 * request for paper that passes: beta holds the tag, the market is closed. */
struct fixture {
	struct policy_input in;
	struct policy_release rel;
	struct policy_request req;
	struct trailer_list trailers;
	const char *paths[2];
	const char *tags[3];
	const char *history[STAGE_COUNT][2];
	const char *message;	/* the request's commit message */
};

static void fixture_default(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	for (int s = 0; s < STAGE_COUNT; s++) {
		struct policy_stage_cfg *c = &f->in.cfg[s];

		c->enabled = true;
		c->auto_promote = s == STAGE_BETA;
		c->market_gated = s == STAGE_PAPER || s == STAGE_LIVE;
		c->require_notes = s == STAGE_LIVE;
		c->queue = true;
		c->values_path = values_paths[s];
		f->in.state[s].history = f->history[s];
	}
	f->history[STAGE_BETA][0] = OLD;
	f->history[STAGE_BETA][1] = SHA;
	f->in.state[STAGE_BETA].history_len = 2;
	f->in.state[STAGE_BETA].current = SHA;
	f->history[STAGE_PAPER][0] = OLD;
	f->in.state[STAGE_PAPER].history_len = 1;
	f->in.state[STAGE_PAPER].current = OLD;

	f->rel.complete = true;
	f->rel.images_present = f->rel.images_total = 14;
	f->rel.evidence = POLICY_EVIDENCE_PASSED;
	f->rel.evidence_summary = "passed 312/312";
	f->in.release = &f->rel;

	f->paths[0] = "values/values-paper.yaml";
	f->tags[0] = f->tags[1] = f->tags[2] = SHA;
	f->req.branch = "promote/paper/risk-limits";
	f->req.commit = REQ;
	f->req.msg = POLICY_MSG_OK;
	f->req.changed_paths = f->paths;
	f->req.changed_len = 1;
	f->req.only_tag_scalars_changed = true;
	f->req.tag_values = f->tags;
	f->req.tag_values_len = 3;
	f->req.sig = POLICY_SIG_UNSIGNED;
	f->message = "Promote risk limits\n\nNotes: per-symbol risk limits\n";
	f->in.request = &f->req;

	f->in.window.open = false;
	f->in.window.text = "market closed (weekend), opens Mon 09:30 EST";
}

static void fixture_decide(struct fixture *f, struct policy_decision *d)
{
	if (f->in.request) {
		assert_int_equal(trailer_parse(&f->trailers, f->message, strlen(f->message),
					       NULL), 0);
		f->req.trailers = &f->trailers;
	}
	assert_int_equal(policy_check(d, &f->in), 0);
	trailer_list_release(&f->trailers);
}

static void market_open(struct fixture *f)
{
	f->in.window.open = true;
	f->in.window.text = "market open, closes 16:00 EST (in 2h13m)";
	f->in.window.close_time = CLOSE_TIME;
}

/* ---- one mutation per case ---- */

static void m_none(struct fixture *f) { (void)f; }
static void m_refs_heads(struct fixture *f) { f->req.branch = "refs/heads/promote/paper/x"; }
static void m_branch_shape(struct fixture *f) { f->req.branch = "feature/risk"; }
static void m_branch_no_name(struct fixture *f) { f->req.branch = "promote/paper/"; }
static void m_branch_stage(struct fixture *f) { f->req.branch = "promote/prod/x"; }
static void m_branch_case(struct fixture *f) { f->req.branch = "promote/Paper/x"; }
static void m_branch_evidence(struct fixture *f) { f->req.branch = "promote/integration-test/x"; }
static void m_branch_space(struct fixture *f) { f->req.branch = "promote/paper/a b"; }
static void m_branch_dots(struct fixture *f) { f->req.branch = "promote/paper/a..b"; }
static void m_branch_lock(struct fixture *f) { f->req.branch = "promote/paper/x.lock"; }
static void m_oversized(struct fixture *f) { f->req.msg = POLICY_MSG_OVERSIZED; }
static void m_unparsable(struct fixture *f) { f->req.msg = POLICY_MSG_UNPARSABLE; }
static void m_ambiguous(struct fixture *f)
{
	f->req.msg = POLICY_MSG_UNPARSABLE;
	f->req.msg_error = "a \"---\" line makes git read the trailers in two ways; "
			   "remove the line";
}
static void m_hostile_path(struct fixture *f)
{
	f->paths[0] = "values/\x1b[2Jevil\nStage: live";
}
static void m_hostile_tags(struct fixture *f) { f->tags[0] = f->tags[1] = f->tags[2] = "\x1b[2J"; }
static void m_two_break_glass(struct fixture *f)
{
	market_open(f);
	f->message = "P\n\nBreak-Glass: outage\nbreak-glass: another\n";
}
static void m_two_image_tags(struct fixture *f)
{
	f->message = "P\n\nImage-Tag: " SHA "\nImage-Tag: " SHA "\n";
}
static char long_text[TRAILER_NOTES_MAX + 64];
static void m_long_notes(struct fixture *f)
{
	memset(long_text, 'n', sizeof(long_text) - 1);
	memcpy(long_text, "P\n\nNotes: ", 10);
	long_text[sizeof(long_text) - 2] = '\n';
	long_text[sizeof(long_text) - 1] = '\0';
	f->message = long_text;
}
static void m_long_justification(struct fixture *f)
{
	memset(long_text, 'j', TRAILER_JUSTIFICATION_MAX + 20);
	memcpy(long_text, "P\n\nBreak-Glass: ", 16);
	long_text[TRAILER_JUSTIFICATION_MAX + 18] = '\n';
	long_text[TRAILER_JUSTIFICATION_MAX + 19] = '\0';
	f->message = long_text;
}
static void m_forged_stage(struct fixture *f) { f->message = "P\n\nNotes: n\nStage: live\n"; }
static void m_forged_image_tag(struct fixture *f)
{
	f->message = "P\n\nNotes: n\nimage-tag: " SHA "\n";
}
static void m_forged_hidden(struct fixture *f)
{
	/* libgit2 alone would read this as one Notes: trailer */
	f->message = "P\n\nNotes:\nRequested-By: CEO <ceo@x>\n";
}
static void m_reused(struct fixture *f) { f->req.reused = true; }
static void m_disabled(struct fixture *f) { f->in.cfg[STAGE_PAPER].enabled = false; }
static void m_readme(struct fixture *f)
{
	f->paths[1] = "README.md";
	f->req.changed_len = 2;
}
static void m_other_stage_file(struct fixture *f) { f->paths[0] = "values/values-beta.yaml"; }
static void m_other_values(struct fixture *f) { f->req.only_tag_scalars_changed = false; }
static void m_no_change(struct fixture *f) { f->req.changed_len = 0; }
static void m_mixed(struct fixture *f) { f->tags[2] = OLD; }
static void m_not_release(struct fixture *f)
{
	f->tags[0] = f->tags[1] = f->tags[2] = "latest";
}
static void m_no_tags(struct fixture *f) { f->req.tag_values_len = 0; }
static void m_incomplete(struct fixture *f)
{
	f->rel.complete = false;
	f->rel.images_present = 13;
	f->rel.missing_image = "dashboard";
}
static void m_no_release(struct fixture *f) { f->in.release = NULL; }
static void m_inttest_failed(struct fixture *f)
{
	f->rel.evidence = POLICY_EVIDENCE_FAILED;
	f->rel.evidence_summary = "failed 3/312";
}
static void m_inttest_missing(struct fixture *f)
{
	f->rel.evidence = POLICY_EVIDENCE_MISSING;
	f->rel.evidence_summary = NULL;
}
static void m_inttest_off_failed(struct fixture *f)
{
	m_inttest_failed(f);
	f->in.cfg[STAGE_INTTEST].enabled = false;
}
static void m_not_in_beta(struct fixture *f)
{
	f->in.state[STAGE_BETA].history_len = 1;
	f->in.state[STAGE_BETA].current = OLD;
}
static void m_beta_off_not_in_beta(struct fixture *f)
{
	m_not_in_beta(f);
	f->in.cfg[STAGE_BETA].enabled = false;
}
static void m_rollback(struct fixture *f)
{
	f->tags[0] = f->tags[1] = f->tags[2] = OLD;
	f->in.state[STAGE_PAPER].current = SHA;
}
static void m_live(struct fixture *f)
{
	f->req.branch = "promote/live/x";
	f->paths[0] = "values/values-live.yaml";
	f->history[STAGE_PAPER][0] = SHA;
}
static void m_live_no_notes(struct fixture *f)
{
	m_live(f);
	f->message = "P\n\nCo-authored-by: A <a@x>\n";
}
static void m_live_blank_notes(struct fixture *f)
{
	m_live(f);
	f->message = "P\n\nNotes:   \t\n";
}
static void m_live_notes(struct fixture *f) { m_live(f); }
static void m_sig_unsigned(struct fixture *f) { f->in.cfg[STAGE_PAPER].require_signature = true; }
static void m_sig_bad(struct fixture *f)
{
	m_sig_unsigned(f);
	f->req.sig = POLICY_SIG_BAD;
}
static void m_sig_unchecked(struct fixture *f)
{
	m_sig_unsigned(f);
	f->req.sig = POLICY_SIG_UNCHECKED;
}
static void m_sig_no_principal(struct fixture *f)
{
	m_sig_unsigned(f);
	f->req.sig = POLICY_SIG_GOOD;
}
static void m_sig_good(struct fixture *f)
{
	m_sig_unsigned(f);
	f->req.sig = POLICY_SIG_GOOD;
	f->req.signer = "dana@example.com";
}
static void m_open(struct fixture *f) { market_open(f); }
static void m_open_no_queue(struct fixture *f)
{
	market_open(f);
	f->in.cfg[STAGE_PAPER].queue = false;
}
static void m_open_break_glass(struct fixture *f)
{
	market_open(f);
	f->message = "P\n\nNotes: n\nBreak-Glass: broker outage,\n  hotfix for order routing\n";
}
static void m_open_empty_break_glass(struct fixture *f)
{
	market_open(f);
	f->message = "P\n\nNotes: n\nBreak-Glass:\n";
}
static void m_open_ungated(struct fixture *f)
{
	market_open(f);
	f->in.cfg[STAGE_PAPER].market_gated = false;
}
static void m_closed_break_glass(struct fixture *f)
{
	f->message = "P\n\nBreak-Glass: just in case\n";
}
static void m_open_no_text(struct fixture *f)
{
	market_open(f);
	f->in.window.text = NULL;
}
/* break-glass bypasses the market and nothing else */
static void m_bg_not_in_source(struct fixture *f) { m_open_break_glass(f); m_not_in_beta(f); }
static void m_bg_inttest(struct fixture *f) { m_open_break_glass(f); m_inttest_failed(f); }
static void m_bg_reused(struct fixture *f) { m_open_break_glass(f); m_reused(f); }
static void m_bg_signature(struct fixture *f) { m_open_break_glass(f); m_sig_bad(f); }
static void m_bg_notes(struct fixture *f)
{
	m_open_break_glass(f);
	m_live(f);
	f->message = "P\n\nBreak-Glass: outage\n";
}
/* market-open is last: with another refusal nothing is queued */
static void m_open_and_notes(struct fixture *f) { market_open(f); m_live_no_notes(f); }
static void m_open_and_signature(struct fixture *f) { market_open(f); m_sig_unsigned(f); }

struct policy_case {
	const char *name;
	void (*mod)(struct fixture *);
	enum policy_code code;
	const char *message;	/* expected substring */
	bool queue;
};

static const struct policy_case cases[] = {
	{ "passing request", m_none, POLICY_ALLOW,
	  "allowed: promote paper: 0123456 from beta", false },
	{ "refs/heads/ prefix", m_refs_heads, POLICY_ALLOW, "allowed", false },
	{ "branch shape", m_branch_shape, POLICY_MALFORMED, "malformed: branch \"feature/risk\" "
	  "is not of the form promote/<stage>/<name>; push to promote/<stage>/<name>", false },
	{ "branch without name", m_branch_no_name, POLICY_MALFORMED,
	  "\"\" is not a valid branch name", false },
	{ "unknown stage", m_branch_stage, POLICY_MALFORMED,
	  "unknown stage \"prod\" (use beta, paper or live)", false },
	{ "stage names are exact", m_branch_case, POLICY_MALFORMED, "unknown stage \"Paper\"",
	  false },
	{ "evidence stage", m_branch_evidence, POLICY_MALFORMED,
	  "integration-test is an evidence stage", false },
	{ "branch with space", m_branch_space, POLICY_MALFORMED, "has a space, control", false },
	{ "branch with ..", m_branch_dots, POLICY_MALFORMED, "is not a valid branch name", false },
	{ "branch .lock", m_branch_lock, POLICY_MALFORMED, "is not a valid branch name", false },
	{ "oversized message", m_oversized, POLICY_MALFORMED,
	  "malformed: the request's commit message is larger than 65536 bytes", false },
	{ "unparsable commit", m_unparsable, POLICY_MALFORMED,
	  "malformed: the request's commit cannot be read; push a new commit", false },
	{ "ambiguous message", m_ambiguous, POLICY_MALFORMED, "malformed: the request's commit "
	  "cannot be read: a \"---\" line makes git read the trailers in two ways; remove the "
	  "line; push a new commit", false },
	{ "hostile path", m_hostile_path, POLICY_WRONG_FILES,
	  "changes \"values/?[2Jevil?Stage: live\"", false },
	{ "hostile tag", m_hostile_tags, POLICY_MIXED_TAGS, "\"?[2J\" is not a release id", false },
	{ "two Break-Glass", m_two_break_glass, POLICY_MALFORMED,
	  "malformed: the trailer \"Break-Glass:\" appears 2 times; keep exactly one", false },
	{ "two Image-Tag", m_two_image_tags, POLICY_MALFORMED,
	  "\"Image-Tag:\" appears 2 times", false },
	{ "notes too long", m_long_notes, POLICY_MALFORMED,
	  "Notes: is longer than 4096 bytes", false },
	{ "justification too long", m_long_justification, POLICY_MALFORMED,
	  "Break-Glass: is longer than 1024 bytes", false },
	{ "forged Stage", m_forged_stage, POLICY_FORGED_TRAILER, "forged-trailer: the request "
	  "carries a \"Stage:\" trailer, which only pipelined writes; remove it", false },
	{ "forged Image-Tag", m_forged_image_tag, POLICY_FORGED_TRAILER, "\"image-tag:\"", false },
	{ "forged behind an empty value", m_forged_hidden, POLICY_FORGED_TRAILER,
	  "\"Requested-By:\"", false },
	{ "reused request", m_reused, POLICY_REUSED_REQUEST, "reused-request: request commit "
	  "89abcde was already used by an earlier promotion", false },
	{ "stage disabled", m_disabled, POLICY_STAGE_DISABLED,
	  "stage-disabled: stage paper is disabled in the configuration", false },
	{ "file outside values", m_readme, POLICY_WRONG_FILES, "wrong-files: the request changes "
	  "\"README.md\"; a request for paper may change only the image tags in "
	  "values/values-paper.yaml", false },
	{ "another stage's file", m_other_stage_file, POLICY_WRONG_FILES,
	  "changes \"values/values-beta.yaml\"", false },
	{ "other values", m_other_values, POLICY_WRONG_FILES,
	  "changes values/values-paper.yaml beyond its image tags", false },
	{ "no change", m_no_change, POLICY_WRONG_FILES, "changes nothing since its merge base",
	  false },
	{ "mixed tags", m_mixed, POLICY_MIXED_TAGS, "mixed-tags: the image tags in "
	  "values/values-paper.yaml differ", false },
	{ "not a release id", m_not_release, POLICY_MIXED_TAGS,
	  "\"latest\" is not a release id (a full 40-hex commit SHA)", false },
	{ "no tags", m_no_tags, POLICY_MIXED_TAGS, "has no image tag", false },
	{ "incomplete release", m_incomplete, POLICY_UNKNOWN_RELEASE, "unknown-release: 0123456 "
	  "is not a complete release (13 of 14 images have the tag, missing: dashboard)", false },
	{ "unknown release", m_no_release, POLICY_UNKNOWN_RELEASE,
	  "nothing is known about 0123456", false },
	{ "inttest failed", m_inttest_failed, POLICY_INTTEST_FAILED, "inttest-failed: "
	  "integration tests failed for 0123456 (failed 3/312)", false },
	{ "inttest missing", m_inttest_missing, POLICY_INTTEST_MISSING,
	  "inttest-missing: no integration-test result for 0123456", false },
	{ "inttest disabled", m_inttest_off_failed, POLICY_ALLOW, "from beta", false },
	{ "not in source", m_not_in_beta, POLICY_NOT_IN_SOURCE, "not-in-source: 0123456 was "
	  "never promoted to beta (source of paper); promote it to beta first", false },
	{ "beta disabled: source is integration-test", m_beta_off_not_in_beta, POLICY_ALLOW,
	  "allowed: promote paper: 0123456 from integration-test", false },
	{ "rollback to an older tag", m_rollback, POLICY_ALLOW, "promote paper: 1111111", false },
	{ "live without notes", m_live_no_notes, POLICY_NOTES_REQUIRED,
	  "notes-required: live requires notes; add a Notes: trailer", false },
	{ "live with blank notes", m_live_blank_notes, POLICY_NOTES_REQUIRED, "requires notes",
	  false },
	{ "live with notes", m_live_notes, POLICY_ALLOW, "promote live: 0123456 from paper", false },
	{ "unsigned", m_sig_unsigned, POLICY_SIGNATURE, "signature: paper requires a signed "
	  "request and 89abcde is unsigned", false },
	{ "bad signer", m_sig_bad, POLICY_SIGNATURE, "not signed by an allowed signer", false },
	{ "unverified", m_sig_unchecked, POLICY_SIGNATURE, "could not be verified", false },
	{ "good without principal", m_sig_no_principal, POLICY_SIGNATURE, "could not be verified",
	  false },
	{ "good signature", m_sig_good, POLICY_ALLOW, "allowed", false },
	{ "market open", m_open, POLICY_MARKET_OPEN, "blocked: market open, closes 16:00 EST "
	  "(in 2h13m); queued until the close; add a Break-Glass: trailer to override", true },
	{ "market open, no queue", m_open_no_queue, POLICY_MARKET_OPEN, "blocked: market open, "
	  "closes 16:00 EST (in 2h13m); add a Break-Glass: trailer to override", false },
	{ "break-glass", m_open_break_glass, POLICY_ALLOW, "allowed: promote paper: 0123456 from "
	  "beta with break-glass while the market is open: broker outage, hotfix for order "
	  "routing", false },
	{ "empty break-glass", m_open_empty_break_glass, POLICY_MARKET_OPEN,
	  "the Break-Glass: trailer has no visible text (only spaces or invisible characters): "
	  "give a justification to override", true },
	{ "ungated stage", m_open_ungated, POLICY_ALLOW, "allowed", false },
	{ "break-glass while closed", m_closed_break_glass, POLICY_ALLOW, "allowed", false },
	{ "window without text", m_open_no_text, POLICY_MARKET_OPEN, "blocked: market open; "
	  "queued", true },
	{ "break-glass vs not-in-source", m_bg_not_in_source, POLICY_NOT_IN_SOURCE, "", false },
	{ "break-glass vs inttest", m_bg_inttest, POLICY_INTTEST_FAILED, "", false },
	{ "break-glass vs reuse", m_bg_reused, POLICY_REUSED_REQUEST, "", false },
	{ "break-glass vs signature", m_bg_signature, POLICY_SIGNATURE, "", false },
	{ "break-glass vs notes", m_bg_notes, POLICY_NOTES_REQUIRED, "", false },
	{ "market and notes", m_open_and_notes, POLICY_NOTES_REQUIRED, "", false },
	{ "market and signature", m_open_and_signature, POLICY_SIGNATURE, "", false },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct policy_case *c = &cases[i];
		struct fixture f;
		struct policy_decision d;

		fixture_default(&f);
		c->mod(&f);
		fixture_decide(&f, &d);
		if (d.code != c->code || !strstr(d.message, c->message) || d.queue != c->queue)
			fail_msg("case \"%s\": got %s queue=%d \"%s\"; want %s queue=%d \"%s\"",
				 c->name, policy_code_name(d.code), d.queue, d.message,
				 policy_code_name(c->code), c->queue, c->message);
	}
}

static void test_queue_and_break_glass_fields(void **state)
{
	struct fixture f;
	struct policy_decision d;

	fixture_default(&f);
	market_open(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_MARKET_OPEN);
	assert_true(d.queue);
	assert_int_equal(d.queue_until, CLOSE_TIME);
	assert_false(d.break_glass);
	assert_int_equal(d.target, STAGE_PAPER);
	assert_int_equal(d.source, STAGE_BETA);
	assert_string_equal(d.tag, SHA);

	fixture_default(&f);
	m_open_break_glass(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_true(d.break_glass);
	assert_false(d.queue);

	/* outside the window the justification is recorded, nothing bypassed */
	fixture_default(&f);
	m_closed_break_glass(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_false(d.break_glass);
}

/* A Break-Glass: or Notes: of Unicode whitespace or invisible characters
 * says nothing to whoever reads it: no override while the market is open,
 * no notes where notes are required, and the note says why. */
static void test_unicode_blank(void **state)
{
	static char msg[256];

	for (size_t i = 0; i < ARRAY_SIZE(blank_texts); i++) {
		const char *t = blank_texts[i].text;
		struct fixture f;
		struct policy_decision d;

		fixture_default(&f);
		market_open(&f);
		snprintf(msg, sizeof(msg), "P\n\nNotes: n\nBreak-Glass: %s%s\n", t, t);
		f.message = msg;
		fixture_decide(&f, &d);
		if (d.code != POLICY_MARKET_OPEN || d.break_glass || !d.queue ||
		    !strstr(d.message, "Break-Glass: trailer has no visible text"))
			fail_msg("Break-Glass: %s: got %s \"%s\"", blank_texts[i].name,
				 policy_code_name(d.code), d.message);

		fixture_default(&f);
		m_live(&f);
		snprintf(msg, sizeof(msg), "P\n\nNotes: %s\n", t);
		f.message = msg;
		fixture_decide(&f, &d);
		if (d.code != POLICY_NOTES_REQUIRED ||
		    !strstr(d.message, "live requires notes; the Notes: trailer has no visible text"))
			fail_msg("Notes: %s: got %s \"%s\"", blank_texts[i].name,
				 policy_code_name(d.code), d.message);
	}

	/* one visible character among them is a justification */
	{
		struct fixture f;
		struct policy_decision d;

		fixture_default(&f);
		market_open(&f);
		f.message = "P\n\nNotes: n\nBreak-Glass: \xc2\xa0\xe6\x9c\xac\xe3\x80\x80\n";
		fixture_decide(&f, &d);
		assert_int_equal(d.code, POLICY_ALLOW);
		assert_true(d.break_glass);
	}
}

/* Every refusal at once; fixing the reported one reveals the next, in the
 * documented order. */
static void test_precedence(void **state)
{
	static const enum policy_code order[] = {
		POLICY_MALFORMED, POLICY_FORGED_TRAILER, POLICY_REUSED_REQUEST,
		POLICY_STAGE_DISABLED, POLICY_WRONG_FILES, POLICY_MIXED_TAGS,
		POLICY_UNKNOWN_RELEASE, POLICY_INTTEST_FAILED, POLICY_NOT_IN_SOURCE,
		POLICY_NOTES_REQUIRED, POLICY_SIGNATURE, POLICY_MARKET_OPEN, POLICY_ALLOW,
	};
	struct fixture f;
	struct policy_decision d;

	for (size_t fixed = 0; fixed < ARRAY_SIZE(order); fixed++) {
		fixture_default(&f);
		m_live(&f);
		market_open(&f);
		f.in.cfg[STAGE_LIVE].require_signature = true;
		f.in.state[STAGE_PAPER].history_len = 0;
		f.message = fixed > 1 ? "P\n\nCo-authored-by: A <a@x>\n" :
					"P\n\nCo-authored-by: A <a@x>\nSource-Stage: beta\n";
		if (fixed > 9)
			f.message = "P\n\nNotes: n\n";
		f.req.branch = fixed > 0 ? "promote/live/x" : "promote/live";
		f.req.reused = fixed <= 2;
		f.in.cfg[STAGE_LIVE].enabled = fixed > 3;
		f.req.only_tag_scalars_changed = fixed > 4;
		f.tags[1] = fixed > 5 ? SHA : OLD;
		f.rel.complete = fixed > 6;
		f.rel.evidence = fixed > 7 ? POLICY_EVIDENCE_PASSED : POLICY_EVIDENCE_FAILED;
		if (fixed > 8)
			f.history[STAGE_PAPER][0] = SHA, f.in.state[STAGE_PAPER].history_len = 1;
		if (fixed > 10)
			f.req.sig = POLICY_SIG_GOOD, f.req.signer = "dana@example.com";
		f.in.window.open = fixed <= 11;
		fixture_decide(&f, &d);
		if (d.code != order[fixed])
			fail_msg("after fixing %zu problems: got %s (%s), want %s", fixed,
				 policy_code_name(d.code), d.message,
				 policy_code_name(order[fixed]));
	}
}

static void test_automatic(void **state)
{
	struct fixture f;
	struct policy_decision d;

	fixture_default(&f);
	f.in.request = NULL;
	f.in.target = STAGE_BETA;
	f.in.tag = SHA;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_string_equal(d.message, "allowed: promote beta: 0123456 from integration-test");

	f.rel.evidence = POLICY_EVIDENCE_MISSING;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_INTTEST_MISSING);

	/* an automatic promotion into a gated stage waits for the window */
	fixture_default(&f);
	f.in.request = NULL;
	f.in.target = STAGE_PAPER;
	f.in.tag = SHA;
	market_open(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_MARKET_OPEN);
	assert_true(d.queue);
	assert_null(strstr(d.message, "empty"));

	/* it has no notes to give */
	fixture_default(&f);
	f.in.request = NULL;
	f.in.target = STAGE_LIVE;
	f.in.tag = SHA;
	f.history[STAGE_PAPER][0] = SHA;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_NOTES_REQUIRED);
	assert_non_null(strstr(d.message, "automatic promotion"));

	/* inconsistent input is the caller's bug */
	f.in.tag = "latest";
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
	f.in.tag = SHA;
	f.in.target = STAGE_INTTEST;
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
	f.in.target = STAGE_LIVE;
	f.in.cfg[STAGE_LIVE].values_path = NULL;
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
}

/* enabled flags ci, integration-test, beta, paper, live -> sources of
 * beta, paper, live */
static const struct {
	const char *enabled;
	enum stage source[3];
} chain[] = {
	{ "00000", { STAGE_CI, STAGE_CI, STAGE_CI } },
	{ "00001", { STAGE_CI, STAGE_CI, STAGE_CI } },
	{ "00010", { STAGE_CI, STAGE_CI, STAGE_PAPER } },
	{ "00011", { STAGE_CI, STAGE_CI, STAGE_PAPER } },
	{ "00100", { STAGE_CI, STAGE_BETA, STAGE_BETA } },
	{ "00101", { STAGE_CI, STAGE_BETA, STAGE_BETA } },
	{ "00110", { STAGE_CI, STAGE_BETA, STAGE_PAPER } },
	{ "00111", { STAGE_CI, STAGE_BETA, STAGE_PAPER } },
	{ "01000", { STAGE_INTTEST, STAGE_INTTEST, STAGE_INTTEST } },
	{ "01001", { STAGE_INTTEST, STAGE_INTTEST, STAGE_INTTEST } },
	{ "01010", { STAGE_INTTEST, STAGE_INTTEST, STAGE_PAPER } },
	{ "01011", { STAGE_INTTEST, STAGE_INTTEST, STAGE_PAPER } },
	{ "01100", { STAGE_INTTEST, STAGE_BETA, STAGE_BETA } },
	{ "01101", { STAGE_INTTEST, STAGE_BETA, STAGE_BETA } },
	{ "01110", { STAGE_INTTEST, STAGE_BETA, STAGE_PAPER } },
	{ "01111", { STAGE_INTTEST, STAGE_BETA, STAGE_PAPER } },
	{ "10000", { STAGE_CI, STAGE_CI, STAGE_CI } },
	{ "10001", { STAGE_CI, STAGE_CI, STAGE_CI } },
	{ "10010", { STAGE_CI, STAGE_CI, STAGE_PAPER } },
	{ "10011", { STAGE_CI, STAGE_CI, STAGE_PAPER } },
	{ "10100", { STAGE_CI, STAGE_BETA, STAGE_BETA } },
	{ "10101", { STAGE_CI, STAGE_BETA, STAGE_BETA } },
	{ "10110", { STAGE_CI, STAGE_BETA, STAGE_PAPER } },
	{ "10111", { STAGE_CI, STAGE_BETA, STAGE_PAPER } },
	{ "11000", { STAGE_INTTEST, STAGE_INTTEST, STAGE_INTTEST } },
	{ "11001", { STAGE_INTTEST, STAGE_INTTEST, STAGE_INTTEST } },
	{ "11010", { STAGE_INTTEST, STAGE_INTTEST, STAGE_PAPER } },
	{ "11011", { STAGE_INTTEST, STAGE_INTTEST, STAGE_PAPER } },
	{ "11100", { STAGE_INTTEST, STAGE_BETA, STAGE_BETA } },
	{ "11101", { STAGE_INTTEST, STAGE_BETA, STAGE_BETA } },
	{ "11110", { STAGE_INTTEST, STAGE_BETA, STAGE_PAPER } },
	{ "11111", { STAGE_INTTEST, STAGE_BETA, STAGE_PAPER } },
};

static void set_enabled(struct fixture *f, const char *bits)
{
	for (int s = 0; s < STAGE_COUNT; s++)
		f->in.cfg[s].enabled = bits[s] == '1';
}

static void test_chain(void **state)
{
	struct fixture f;
	enum stage src;

	for (size_t i = 0; i < ARRAY_SIZE(chain); i++) {
		fixture_default(&f);
		set_enabled(&f, chain[i].enabled);
		for (int s = STAGE_BETA; s <= STAGE_LIVE; s++) {
			assert_int_equal(policy_source_stage(&src, f.in.cfg, (enum stage)s), 0);
			if (src != chain[i].source[s - STAGE_BETA])
				fail_msg("%s: source of %s is %s, want %s", chain[i].enabled,
					 stage_name((enum stage)s), stage_name(src),
					 stage_name(chain[i].source[s - STAGE_BETA]));
		}
	}
	assert_int_equal(policy_source_stage(&src, f.in.cfg, STAGE_CI), ERR_INVALID);
}

/* The chain inside decisions: for every combination and every enabled
 * deploy target, a tag that is not in the source is refused exactly when
 * the source is a deploy stage, and accepted once it is. */
static void test_chain_decisions(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(chain); i++) {
		for (int s = STAGE_BETA; s <= STAGE_LIVE; s++) {
			enum stage src = chain[i].source[s - STAGE_BETA];
			static char branch[64];
			struct fixture f;
			struct policy_decision d;

			fixture_default(&f);
			set_enabled(&f, chain[i].enabled);
			snprintf(branch, sizeof(branch), "promote/%s/x", stage_name((enum stage)s));
			f.req.branch = branch;
			f.paths[0] = values_paths[s];
			f.message = "P\n\nNotes: n\n";
			f.in.state[STAGE_BETA].history_len = 0;
			f.in.state[STAGE_BETA].current = NULL;
			fixture_decide(&f, &d);
			if (chain[i].enabled[s] == '0')
				assert_int_equal(d.code, POLICY_STAGE_DISABLED);
			else if (stage_is_deploy(src))
				assert_int_equal(d.code, POLICY_NOT_IN_SOURCE);
			else
				assert_int_equal(d.code, POLICY_ALLOW);
			if (d.code != POLICY_STAGE_DISABLED)
				assert_int_equal(d.source, src);

			f.history[src][0] = SHA;
			f.in.state[src].history_len = 1;
			fixture_decide(&f, &d);
			assert_int_equal(d.code, chain[i].enabled[s] == '0' ?
					 POLICY_STAGE_DISABLED : POLICY_ALLOW);
		}
	}
}

static void test_auto_pick(void **state)
{
	const struct policy_candidate c[] = {
		{ "2222222222222222222222222222222222222222", true, POLICY_EVIDENCE_FAILED, true },
		{ "3333333333333333333333333333333333333333", false, POLICY_EVIDENCE_PASSED, true },
		{ "latest", true, POLICY_EVIDENCE_PASSED, true },
		{ SHA, true, POLICY_EVIDENCE_PASSED, true },
		{ OLD, true, POLICY_EVIDENCE_PASSED, false },
	};
	struct fixture f;
	size_t pick = 99;

	fixture_default(&f);
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, c, ARRAY_SIZE(c)), 0);
	assert_int_equal(pick, 3);
	/* nothing newer: no pick */
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, c + 4, 1), ERR_NOTFOUND);
	/* evidence does not count while integration-test is disabled */
	f.in.cfg[STAGE_INTTEST].enabled = false;
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, c, ARRAY_SIZE(c)), 0);
	assert_int_equal(pick, 0);
	/* not automatic, or disabled */
	f.in.cfg[STAGE_BETA].auto_promote = false;
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, c, ARRAY_SIZE(c)),
			 ERR_NOTFOUND);
	f.in.cfg[STAGE_BETA].auto_promote = true;
	f.in.cfg[STAGE_BETA].enabled = false;
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, c, ARRAY_SIZE(c)),
			 ERR_NOTFOUND);
	/* paper on auto takes only what beta holds */
	fixture_default(&f);
	f.in.cfg[STAGE_PAPER].auto_promote = true;
	f.in.state[STAGE_BETA].current = NULL;
	f.in.state[STAGE_BETA].history_len = 0;
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_PAPER, c, ARRAY_SIZE(c)),
			 ERR_NOTFOUND);
	f.in.state[STAGE_BETA].history_len = 2;
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_PAPER, c, ARRAY_SIZE(c)), 0);
	assert_int_equal(pick, 3);
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_CI, c, 1), ERR_INVALID);
}

static void test_code_names(void **state)
{
	static const char *const names[] = {
		"allow", "malformed", "stage-disabled", "wrong-files", "mixed-tags",
		"unknown-release", "inttest-failed", "inttest-missing", "not-in-source",
		"market-open", "notes-required", "signature", "reused-request", "forged-trailer",
		"queue-full",
	};
	enum policy_code code;

	assert_int_equal(ARRAY_SIZE(names), POLICY_CODE_COUNT);
	for (int i = 0; i < POLICY_CODE_COUNT; i++) {
		assert_string_equal(policy_code_name((enum policy_code)i), names[i]);
		assert_int_equal(policy_code_parse(&code, names[i]), 0);
		assert_int_equal(code, i);
	}
	assert_int_equal(policy_code_parse(&code, "Market-Open"), ERR_NOTFOUND);
	assert_int_equal(policy_code_parse(&code, ""), ERR_NOTFOUND);
	assert_string_equal(policy_code_name(POLICY_CODE_COUNT), "?");
}

static void test_parse_branch(void **state)
{
	enum stage st = STAGE_CI;
	struct buf err;

	buf_init(&err, 256);
	assert_int_equal(policy_parse_branch(&st, "promote/live/2026-11-27/fix", &err), 0);
	assert_int_equal(st, STAGE_LIVE);
	assert_int_equal(policy_parse_branch(&st, "refs/heads/promote/beta/x", NULL), 0);
	assert_int_equal(st, STAGE_BETA);
	st = STAGE_CI;
	assert_int_equal(policy_parse_branch(&st, "promote/beta", &err), ERR_INVALID);
	assert_int_equal(st, STAGE_CI);
	assert_string_equal(err.data,
			    "branch \"promote/beta\" is not of the form promote/<stage>/<name>");
	assert_int_equal(policy_parse_branch(&st, "promote/paper/\x1b[2Jx", &err), ERR_INVALID);
	assert_null(strchr(err.data, '\x1b'));
	assert_int_equal(policy_parse_branch(&st, "promote/paper/.hidden", NULL), ERR_INVALID);
	assert_int_equal(policy_parse_branch(&st, "promote/paper/a//b", NULL), ERR_INVALID);
	assert_int_equal(policy_parse_branch(&st, "promote/paper/a@{1}", NULL), ERR_INVALID);
	assert_int_equal(policy_parse_branch(&st, "promote/paper/x.", NULL), ERR_INVALID);
	buf_release(&err);
}

static int setup(void **state)
{
	git_libgit2_init();
	return 0;
}

static int teardown(void **state)
{
	git_libgit2_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_queue_and_break_glass_fields),
		cmocka_unit_test(test_unicode_blank),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_automatic),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_chain_decisions),
		cmocka_unit_test(test_auto_pick),
		cmocka_unit_test(test_code_names),
		cmocka_unit_test(test_parse_branch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
