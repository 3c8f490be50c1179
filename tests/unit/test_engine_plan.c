/* Unit tests for engine_plan.c, the planner of one cycle: from the facts
 * (requests, candidates, stages, window at a fixed now) to the verdicts and
 * actions.  One table row per refusal code of pipelined(8) as the cycle
 * sees it, the pending states, queueing at the close, break-glass, disabled
 * stages, reused and merged requests, several requests at once, queue-full
 * branches, expiry, and a newer release overtaking an older one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "engine_plan.h"
#include "policy.h"
#include "trailer.h"
#include "util.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"	/* in beta */
#define OLD "1111111111111111111111111111111111111111"	/* paper and live run it */
#define NEW "2222222222222222222222222222222222222222"	/* newest on the branch */
#define TIP "3333333333333333333333333333333333333333"	/* the tracked tip */
#define PROMO "4444444444444444444444444444444444444444"	/* a promotion commit */
#define REQ0 "89abcdef0123456789abcdef0123456789abcdef"
#define REQ1 "9abcdef0123456789abcdef0123456789abcdef0"

#define OPEN_NOW 1796223600	/* Wed 2026-12-02 10:00 EST: the market is open */
#define CLOSE_AT 1796245200	/* ... and closes at 16:00 EST */
#define CLOSED_NOW 1796482800	/* Sat 2026-12-05: closed */
#define DAY_MS (24ull * 3600 * 1000)

#define NREQ 3

static const struct market_hours hours = { CLOCK_DEFAULT_OPEN, CLOCK_DEFAULT_CLOSE };

static const char *const values[STAGE_COUNT] = {
	NULL, NULL, "values/values-beta.yaml", "values/values-paper.yaml",
	"values/values-live.yaml",
};

/* Every fact of one cycle, owned in one place.  The default: one request
 * for paper of SHA, which beta runs; the market is closed; no candidates. */
struct fx {
	struct plan_facts f;
	struct tz_rule tz;
	struct plan_release rel[3];	/* SHA, NEW, OLD */
	struct plan_candidate cand[2];
	struct plan_request req[NREQ];
	struct policy_request pq[NREQ];
	struct trailer_list tl[NREQ];
	const char *msg[NREQ];
	const char *paths[NREQ][1];
	const char *tags[NREQ][2];
	const char *hist[STAGE_COUNT][3];
	struct plan_waiting waiting[1];
	struct engine_block block;
	struct freeze_set frz;
	struct policy_approval appr;
	char note[NREQ][512];
	struct plan p;
};

static struct plan_release release(bool complete)
{
	struct plan_release r = { .known = true, .checked = true, .complete = complete,
				  .ev_checked = true, .have_digests = true };

	r.facts.complete = complete;
	r.facts.images_present = complete ? 2 : 1;
	r.facts.images_total = 2;
	r.facts.missing_image = complete ? NULL : "ledger";
	r.facts.evidence = POLICY_EVIDENCE_PASSED;
	r.facts.evidence_summary = "passed 312/312";
	return r;
}

static void window_at(struct fx *x, int64_t now)
{
	x->f.now = now;
	assert_int_equal(clock_window(&x->f.window, (time_t)now, &x->tz, NULL, &hours), 0);
	x->f.window_ok = true;
}

/* Request k: branch name into stage st, asking for tag. */
static void request(struct fx *x, size_t k, const char *name, const char *id, enum stage st,
		    const char *tag)
{
	struct plan_request *r = &x->req[k];
	struct policy_request *q = &x->pq[k];

	memset(r, 0, sizeof *r);
	memset(q, 0, sizeof *q);
	x->paths[k][0] = values[st];
	x->tags[k][0] = x->tags[k][1] = tag;
	x->msg[k] = "Promote risk limits\n\nNotes: per-symbol risk limits\n";
	*r = (struct plan_request){ .name = name, .id = id, .stage_ok = true, .stage = st,
				    .message = "", .tip_time = CLOSED_NOW - 3600,
				    .have_facts = true, .error = "", .used_by = "",
				    .sig_done = true, .pq = q };
	r->rel = strcmp(tag, SHA) == 0 ? &x->rel[0] : strcmp(tag, NEW) == 0 ? &x->rel[1] :
		 &x->rel[2];
	*q = (struct policy_request){
		.branch = name, .commit = id, .msg = POLICY_MSG_OK,
		.changed_paths = x->paths[k], .changed_len = 1,
		.only_tag_scalars_changed = true, .tag_values = x->tags[k], .tag_values_len = 2,
		.sig = POLICY_SIG_UNSIGNED, .nparents = 1, .tracked = "main",
	};
	if (k >= x->f.nreq)
		x->f.nreq = k + 1;
}

static void fx_default(struct fx *x)
{
	memset(x, 0, sizeof *x);
	assert_int_equal(tz_rule_parse(&x->tz, CLOCK_BUILTIN_TZ, NULL), 0);
	x->f.have_scan = true;
	x->f.tip = TIP;
	x->f.cfg_gen = 1;
	x->f.now_ms = 1000000;
	x->f.tz = &x->tz;
	x->f.inttest = true;
	x->f.tracked = "main";
	x->f.requests_max = 50;
	x->f.requests_per_author = 10;
	window_at(x, CLOSED_NOW);
	for (int st = 0; st < STAGE_COUNT; st++) {
		struct plan_stage *s = &x->f.stage[st];

		s->cfg.enabled = true;
		s->cfg.auto_promote = st == STAGE_BETA;
		s->cfg.market_gated = st == STAGE_PAPER || st == STAGE_LIVE;
		s->cfg.require_notes = st == STAGE_LIVE;
		s->cfg.queue = true;
		s->cfg.values_path = values[st];
		s->state.history = x->hist[st];
		s->deployed.state = POLICY_DEPLOY_UNKNOWN;
	}
	x->hist[STAGE_BETA][0] = SHA;
	x->hist[STAGE_BETA][1] = OLD;
	x->f.stage[STAGE_BETA].state = (struct policy_stage_state){ SHA, x->hist[STAGE_BETA], 2 };
	x->hist[STAGE_PAPER][0] = OLD;
	x->f.stage[STAGE_PAPER].state = (struct policy_stage_state){ OLD, x->hist[STAGE_PAPER], 1 };
	x->hist[STAGE_LIVE][0] = OLD;
	x->f.stage[STAGE_LIVE].state = (struct policy_stage_state){ OLD, x->hist[STAGE_LIVE], 1 };
	x->rel[0] = release(true);
	x->rel[1] = release(true);
	x->rel[2] = release(true);
	x->f.req = x->req;
	x->f.cand = x->cand;
	x->f.waiting = x->waiting;
	request(x, 0, "promote/paper/risk-limits", REQ0, STAGE_PAPER, SHA);
}

static void fx_plan(struct fx *x)
{
	for (size_t k = 0; k < x->f.nreq; k++) {
		trailer_list_release(&x->tl[k]);
		assert_int_equal(trailer_parse(&x->tl[k], x->msg[k], strlen(x->msg[k]), NULL), 0);
		x->pq[k].trailers = &x->tl[k];
	}
	engine_plan_release(&x->p);
	assert_int_equal(engine_plan(&x->p, &x->f), 0);
}

static void fx_release(struct fx *x)
{
	engine_plan_release(&x->p);
	for (size_t k = 0; k < NREQ; k++)
		trailer_list_release(&x->tl[k]);
}

/* The plan's actions as letters: P promote, M merge, N note, C clean-up,
 * E expire. */
static void acts(char *out, size_t outsz, const struct plan *p)
{
	static const char letter[] = { [PLAN_PROMOTE] = 'P', [PLAN_MERGE] = 'M',
				       [PLAN_NOTE] = 'N', [PLAN_CLEANUP] = 'C',
				       [PLAN_EXPIRE] = 'E' };
	size_t n = 0;

	for (size_t i = 0; i < p->nact && n + 1 < outsz; i++)
		out[n++] = letter[p->act[i].kind];
	out[n] = '\0';
}

static void market_open(struct fx *x) { window_at(x, OPEN_NOW); }

/* ---- the table: one mutation of the default per row ---- */

static void m_none(struct fx *x) { (void)x; }
static void m_bad_name(struct fx *x)
{
	x->req[0].name = "promote/prod/x";
	x->req[0].stage_ok = false;
	x->req[0].message = "malformed: 'prod' is not a stage (beta, paper, live)";
}
static void m_unparsable(struct fx *x) { x->pq[0].msg = POLICY_MSG_UNPARSABLE; }
static void m_forged(struct fx *x) { x->msg[0] = "P\n\nNotes: n\nStage: live\n"; }
static void m_reused(struct fx *x) { x->pq[0].reused = true; }
static void m_reused_elsewhere(struct fx *x)
{
	/* merged by a promotion into live: on a paper branch, reused */
	x->pq[0].reused = true;
	x->req[0].merged = true;
	x->req[0].used_by = PROMO;
	x->req[0].used_stage = STAGE_LIVE;
}
static void m_merge(struct fx *x) { x->pq[0].merge = true; x->pq[0].nparents = 2; }
static void m_orphan(struct fx *x) { x->pq[0].orphan = true; x->pq[0].nparents = 0; }
static void m_off_branch(struct fx *x) { x->pq[0].off_branch = true; x->pq[0].parent = NEW; }
static void m_disabled(struct fx *x) { x->f.stage[STAGE_PAPER].cfg.enabled = false; }
static void m_disabled_unsigned(struct fx *x)
{
	/* a disabled stage does not wait for a signature check first */
	m_disabled(x);
	x->f.stage[STAGE_PAPER].cfg.require_signature = true;
	x->req[0].sig_done = false;
}
static void m_mode(struct fx *x)
{
	x->pq[0].mode_path = values[STAGE_PAPER];
	x->pq[0].mode_old = 0100644;
	x->pq[0].mode_new = 0100755;
}
static void m_wrong_files(struct fx *x) { x->pq[0].only_tag_scalars_changed = false; }
static void m_mixed(struct fx *x)
{
	x->tags[0][1] = OLD;
	x->req[0].rel = NULL;	/* the edge looks a release up for one id only */
}
static void m_current(struct fx *x) { x->f.stage[STAGE_PAPER].state.current = SHA; }
static void m_incomplete(struct fx *x) { x->rel[0] = release(false); }
static void m_inttest_failed(struct fx *x)
{
	x->rel[0].facts.evidence = POLICY_EVIDENCE_FAILED;
	x->rel[0].facts.evidence_summary = "failed 3/312";
}
static void m_inttest_missing(struct fx *x)
{
	x->rel[0].facts.evidence = POLICY_EVIDENCE_MISSING;
	x->rel[0].facts.evidence_summary = NULL;
}
static void m_unreadable(struct fx *x)
{
	x->rel[0].facts.evidence = POLICY_EVIDENCE_UNPARSABLE;
	x->rel[0].facts.evidence_error = "not JSON";
}
static void m_not_in_beta(struct fx *x)
{
	x->f.stage[STAGE_BETA].state.current = OLD;
	x->hist[STAGE_BETA][0] = OLD;
	x->f.stage[STAGE_BETA].state.history_len = 1;
}
static void m_rollback_target(struct fx *x)
{
	request(x, 0, "promote/paper/back", REQ0, STAGE_PAPER, NEW);
	x->msg[0] = "rollback paper\n\nRollback: bad fills\n";
}
static void m_rollback(struct fx *x)
{
	/* paper ran SHA before OLD: going back is allowed, market closed */
	x->f.stage[STAGE_PAPER].state.current = OLD;
	x->hist[STAGE_PAPER][0] = OLD;
	x->hist[STAGE_PAPER][1] = SHA;
	x->f.stage[STAGE_PAPER].state.history_len = 2;
	x->msg[0] = "rollback paper\n\nRollback: bad fills\n";
}
static void live(struct fx *x)
{
	request(x, 0, "promote/live/risk-limits", REQ0, STAGE_LIVE, SHA);
	x->f.stage[STAGE_PAPER].state.current = SHA;
	x->hist[STAGE_PAPER][0] = SHA;
	x->hist[STAGE_PAPER][1] = OLD;
	x->f.stage[STAGE_PAPER].state.history_len = 2;
}
static void m_live(struct fx *x) { live(x); }
static void m_live_no_notes(struct fx *x)
{
	live(x);
	x->msg[0] = "Promote risk limits\n";
}
static void m_unsigned(struct fx *x) { x->f.stage[STAGE_PAPER].cfg.require_signature = true; }
static void signed_by_dana(struct fx *x)
{
	x->f.stage[STAGE_PAPER].cfg.require_signature = true;
	x->pq[0].sig = POLICY_SIG_GOOD;
	x->pq[0].signer = "dana@example.com";
	x->pq[0].signer_principals = "dana@example.com";
	x->pq[0].signer_key = "SHA256:dana";
	x->pq[0].author_email = "dana@example.com";
}
static void m_approval_missing(struct fx *x)
{
	signed_by_dana(x);
	x->f.stage[STAGE_PAPER].cfg.approvals = 1;
}
static void m_approved(struct fx *x)
{
	m_approval_missing(x);
	x->appr = (struct policy_approval){
		.commit = NEW, .approves = REQ0, .sig = POLICY_SIG_GOOD,
		.principal = "risk@example.com", .principals = "risk@example.com",
		.key = "SHA256:risk", .author_email = "risk@example.com",
	};
	x->pq[0].approvals = &x->appr;
	x->pq[0].napprovals = 1;
}
static void gate(struct fx *x, enum policy_deploy state)
{
	x->f.stage[STAGE_PAPER].cfg.require_source_deployed = true;
	x->f.stage[STAGE_PAPER].cfg.soak = 1800;
	x->f.stage[STAGE_BETA].deployed = (struct policy_deployed){
		.state = state, .verdict = state == POLICY_DEPLOY_NOT ? "progressing" : "unknown",
		.why = "sync running", .since = CLOSED_NOW - 60,
	};
}
static void m_source_unknown(struct fx *x) { gate(x, POLICY_DEPLOY_UNKNOWN); }
static void m_source_not(struct fx *x) { gate(x, POLICY_DEPLOY_NOT); }
static void m_soak(struct fx *x) { gate(x, POLICY_DEPLOY_DEPLOYED); }
static void m_soaked(struct fx *x)
{
	gate(x, POLICY_DEPLOY_DEPLOYED);
	x->f.stage[STAGE_BETA].deployed.since = CLOSED_NOW - 3600;
}
static void m_frozen(struct fx *x)
{
	x->frz.n = 1;
	snprintf(x->frz.e[0].id, sizeof x->frz.e[0].id, "incident");
	snprintf(x->frz.e[0].reason, sizeof x->frz.e[0].reason, "exchange incident");
	x->frz.e[0].stages = 1u << STAGE_PAPER;
	x->frz.e[0].has_end = true;
	x->frz.e[0].end = CLOSED_NOW + 3600;
	x->f.freezes = &x->frz;
}
static void m_frozen_break_glass(struct fx *x)
{
	m_frozen(x);
	x->frz.e[0].break_glass = true;
	x->msg[0] = "P\n\nBreak-Glass: the fix for the incident\n";
}
static void m_open(struct fx *x) { market_open(x); }
static void m_open_no_queue(struct fx *x)
{
	market_open(x);
	x->f.stage[STAGE_PAPER].cfg.queue = false;
}
static void m_open_break_glass(struct fx *x)
{
	market_open(x);
	x->msg[0] = "P\n\nBreak-Glass: outage at the broker\n";
}
static void m_open_ungated(struct fx *x)
{
	market_open(x);
	x->f.stage[STAGE_PAPER].cfg.market_gated = false;
}
static void m_open_rollback_allowance(struct fx *x)
{
	m_rollback(x);
	market_open(x);
	x->f.stage[STAGE_PAPER].cfg.rollback_during_market = true;
}
static void m_bands(struct fx *x)
{
	/* closed, but inside the hour of quiet after the close */
	struct plan_stage *s = &x->f.stage[STAGE_PAPER];

	window_at(x, CLOSE_AT + 600);
	s->bands.after_s = 3600;
	assert_int_equal(clock_quiet(&s->quiet, CLOSE_AT + 600, &x->tz, NULL, &hours, &s->bands), 0);
	s->quiet_ok = true;
}
/* ---- pending: no verdict yet, no note ---- */
static void m_no_facts(struct fx *x) { x->req[0].have_facts = false; }
static void m_git_error(struct fx *x) { x->req[0].error = "cannot read the tip: object missing"; }
static void m_sig_waits(struct fx *x) { m_unsigned(x); x->req[0].sig_done = false; }
static void m_registry_waits(struct fx *x) { x->rel[0].known = false; }
static void m_registry_unchecked(struct fx *x) { x->rel[0].checked = false; }
static void m_evidence_waits(struct fx *x) { x->rel[0].ev_checked = false; }
static void m_digests_wait(struct fx *x)
{
	x->f.stage[STAGE_PAPER].digest = true;
	x->rel[0].have_digests = false;
}
static void m_blocked(struct fx *x)
{
	x->block.on = true;
	x->block.source = BLOCK_LAYOUT;
	snprintf(x->block.reason, sizeof x->block.reason, "values/values-paper.yaml: no image");
	x->f.stage[STAGE_PAPER].block = &x->block;
}
static void m_blocked_other_tip(struct fx *x)
{
	/* a failed action, tried with another tip: one more attempt */
	m_blocked(x);
	x->block.source = BLOCK_ACTION;
	snprintf(x->block.tip, sizeof x->block.tip, "%s", NEW);
}
static void m_backoff(struct fx *x)
{
	x->f.stage[STAGE_PAPER].retry_at_ms = x->f.now_ms + 8000;
	x->f.stage[STAGE_PAPER].error = "push timed out";
}
/* ---- merged, reused ---- */
static void m_merged_here(struct fx *x)
{
	x->req[0].merged = true;
	x->req[0].used_by = PROMO;
	x->req[0].used_stage = STAGE_PAPER;
}
static void m_merged_noted(struct fx *x)
{
	m_merged_here(x);
	x->req[0].note = "accepted: promoted into paper\n";
}
/* ---- the journal hears once ---- */
static void m_refusal_logged(struct fx *x)
{
	m_wrong_files(x);
	x->req[0].logged = "wrong-files: ";	/* another text: news */
}

struct row {
	const char *name;
	void (*mutate)(struct fx *x);
	enum request_state state;
	enum policy_code code;
	const char *message;	/* the start of the verdict's message */
	const char *acts;
};

static const struct row rows[] = {
	{ "allowed: merged", m_none, REQ_MERGING, POLICY_ALLOW, "accepted; merging", "M" },
	{ "malformed name", m_bad_name, REQ_REFUSED, POLICY_MALFORMED, "malformed: 'prod'", "N" },
	{ "malformed message", m_unparsable, REQ_REFUSED, POLICY_MALFORMED, "malformed:", "N" },
	{ "forged-trailer", m_forged, REQ_REFUSED, POLICY_FORGED_TRAILER, "forged-trailer:", "N" },
	{ "reused-request", m_reused, REQ_REFUSED, POLICY_REUSED_REQUEST, "reused-request:", "N" },
	{ "reused by another stage", m_reused_elsewhere, REQ_REFUSED, POLICY_REUSED_REQUEST,
	  "reused-request:", "N" },
	{ "merge-request", m_merge, REQ_REFUSED, POLICY_MERGE_REQUEST, "merge-request:", "N" },
	{ "orphan-request", m_orphan, REQ_REFUSED, POLICY_ORPHAN_REQUEST, "orphan-request:", "N" },
	{ "off-branch", m_off_branch, REQ_REFUSED, POLICY_OFF_BRANCH, "off-branch:", "N" },
	{ "stage-disabled", m_disabled, REQ_REFUSED, POLICY_STAGE_DISABLED, "stage-disabled:",
	  "N" },
	{ "stage-disabled before the signature", m_disabled_unsigned, REQ_REFUSED,
	  POLICY_STAGE_DISABLED, "stage-disabled:", "N" },
	{ "mode-change", m_mode, REQ_REFUSED, POLICY_MODE_CHANGE, "mode-change:", "N" },
	{ "wrong-files", m_wrong_files, REQ_REFUSED, POLICY_WRONG_FILES, "wrong-files:", "N" },
	{ "mixed-tags", m_mixed, REQ_REFUSED, POLICY_MIXED_TAGS, "mixed-tags:", "N" },
	{ "already-current", m_current, REQ_REFUSED, POLICY_ALREADY_CURRENT, "already-current:",
	  "N" },
	{ "unknown-release", m_incomplete, REQ_REFUSED, POLICY_UNKNOWN_RELEASE, "unknown-release:",
	  "N" },
	{ "inttest-failed", m_inttest_failed, REQ_REFUSED, POLICY_INTTEST_FAILED,
	  "inttest-failed:", "N" },
	{ "inttest-missing", m_inttest_missing, REQ_REFUSED, POLICY_INTTEST_MISSING,
	  "inttest-missing:", "N" },
	{ "evidence-unreadable", m_unreadable, REQ_REFUSED, POLICY_EVIDENCE_UNREADABLE,
	  "evidence-unreadable:", "N" },
	{ "not-in-source", m_not_in_beta, REQ_REFUSED, POLICY_NOT_IN_SOURCE, "not-in-source:",
	  "N" },
	{ "rollback-target", m_rollback_target, REQ_REFUSED, POLICY_ROLLBACK_TARGET,
	  "rollback-target:", "N" },
	{ "rollback allowed", m_rollback, REQ_MERGING, POLICY_ALLOW, "accepted; merging", "M" },
	{ "live with notes", m_live, REQ_MERGING, POLICY_ALLOW, "accepted; merging", "M" },
	{ "notes-required", m_live_no_notes, REQ_REFUSED, POLICY_NOTES_REQUIRED,
	  "notes-required:", "N" },
	{ "signature", m_unsigned, REQ_REFUSED, POLICY_SIGNATURE, "signature:", "N" },
	{ "approval-required", m_approval_missing, REQ_QUEUED, POLICY_APPROVAL_REQUIRED,
	  "approval-required:", "N" },
	{ "approved by another", m_approved, REQ_MERGING, POLICY_ALLOW, "accepted; merging", "M" },
	{ "source-unknown", m_source_unknown, REQ_REFUSED, POLICY_SOURCE_UNKNOWN,
	  "source-unknown:", "N" },
	{ "source-not-deployed", m_source_not, REQ_QUEUED, POLICY_SOURCE_NOT_DEPLOYED,
	  "source-not-deployed:", "N" },
	{ "soak", m_soak, REQ_QUEUED, POLICY_SOAK, "soak:", "N" },
	{ "soaked", m_soaked, REQ_MERGING, POLICY_ALLOW, "accepted; merging", "M" },
	{ "frozen", m_frozen, REQ_QUEUED, POLICY_FROZEN, "frozen:", "N" },
	{ "frozen, break-glass allowed", m_frozen_break_glass, REQ_MERGING, POLICY_ALLOW,
	  "accepted (break-glass); merging", "M" },
	{ "market-open queued at the close", m_open, REQ_QUEUED, POLICY_MARKET_OPEN,
	  "blocked: market open", "N" },
	{ "market-open without a queue", m_open_no_queue, REQ_REFUSED, POLICY_MARKET_OPEN,
	  "blocked: market open", "N" },
	{ "market-open, break-glass", m_open_break_glass, REQ_MERGING, POLICY_ALLOW,
	  "accepted (break-glass); merging", "M" },
	{ "market open, stage not gated", m_open_ungated, REQ_MERGING, POLICY_ALLOW,
	  "accepted; merging", "M" },
	{ "rollbackDuringMarket", m_open_rollback_allowance, REQ_MERGING, POLICY_ALLOW,
	  "accepted; merging", "M" },
	{ "guard band after the close", m_bands, REQ_QUEUED, POLICY_MARKET_OPEN,
	  "blocked: market", "N" },
	{ "no facts yet", m_no_facts, REQ_PENDING, POLICY_ALLOW, NULL, "" },
	{ "git could not tell", m_git_error, REQ_PENDING, POLICY_ALLOW,
	  "cannot read the tip: object missing", "" },
	{ "signature check pending", m_sig_waits, REQ_PENDING, POLICY_ALLOW,
	  "waiting for the signature check", "" },
	{ "registry not asked", m_registry_waits, REQ_PENDING, POLICY_ALLOW,
	  "waiting for the registry's answer about the release", "" },
	{ "registry not answered", m_registry_unchecked, REQ_PENDING, POLICY_ALLOW,
	  "waiting for the registry's answer about the release", "" },
	{ "evidence not read", m_evidence_waits, REQ_PENDING, POLICY_ALLOW,
	  "waiting for the registry's answer about the release", "" },
	{ "digests not known", m_digests_wait, REQ_PENDING, POLICY_ALLOW,
	  "waiting for the registry's digests of the release", "" },
	{ "stage blocked", m_blocked, REQ_PENDING, POLICY_ALLOW,
	  "stage paper is blocked: values/values-paper.yaml: no image", "" },
	{ "block of another tip", m_blocked_other_tip, REQ_MERGING, POLICY_ALLOW,
	  "accepted; merging", "M" },
	{ "backing off", m_backoff, REQ_PENDING, POLICY_ALLOW, "retrying in 8s: push timed out",
	  "" },
	{ "merged by its stage: clean-up", m_merged_here, REQ_MERGED, POLICY_ALLOW,
	  "merged by 4444444; deleting the branch", "C" },
	{ "merged, note already there", m_merged_noted, REQ_MERGED, POLICY_ALLOW,
	  "merged by 4444444; deleting the branch", "C" },
	{ "refusal news", m_refusal_logged, REQ_REFUSED, POLICY_WRONG_FILES, "wrong-files:", "N" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *w = &rows[i];
		struct fx x;
		const struct plan_verdict *v;
		char a[16];

		fx_default(&x);
		w->mutate(&x);
		fx_plan(&x);
		v = &x.p.req[0];
		acts(a, sizeof a, &x.p);
		if (strcmp(a, w->acts) != 0 ||
		    (w->message && (!v->decided || v->state != w->state || v->code != w->code ||
				    strncmp(v->message, w->message, strlen(w->message)) != 0)))
			fail_msg("%s: state %d code %s acts \"%s\" message \"%s\"", w->name,
				 v->state, policy_code_name(v->code), a, v->message);
		if (!w->message)
			assert_false(v->decided);
		fx_release(&x);
	}
}

/* Every refusal code of pipelined(8) has a row (queue-full: the waiting
 * branches, below). */
static void test_table_covers_every_code(void **state)
{
	(void)state;
	for (int c = POLICY_ALLOW + 1; c < POLICY_CODE_COUNT; c++) {
		bool found = c == POLICY_QUEUE_FULL;

		for (size_t i = 0; i < ARRAY_SIZE(rows) && !found; i++)
			found = rows[i].code == (enum policy_code)c;
		if (!found)
			fail_msg("no row for %s", policy_code_name((enum policy_code)c));
	}
}

/* ---- queueing at the close ---- */

static void test_queued_until_close(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	market_open(&x);
	fx_plan(&x);
	assert_int_equal(x.p.req[0].state, REQ_QUEUED);
	assert_true(x.p.req[0].set_queue_until);
	assert_int_equal(x.p.req[0].queue_until, CLOSE_AT);
	/* the note has no countdown: it reads the same every cycle */
	assert_int_equal(x.p.nact, 1);
	assert_non_null(strstr(x.p.act[0].note, "market open"));
	assert_null(strstr(x.p.act[0].note, "(in "));
	fx_release(&x);

	/* the note already on the remote: nothing to push, the journal quiet */
	fx_default(&x);
	market_open(&x);
	fx_plan(&x);
	snprintf(x.note[0], sizeof x.note[0], "%s", x.p.act[0].note);
	x.req[0].note = x.note[0];
	x.req[0].logged = x.p.req[0].message;
	{
		char logged[POLICY_MESSAGE_MAX];

		snprintf(logged, sizeof logged, "%s", x.p.req[0].message);
		x.req[0].logged = logged;
		fx_plan(&x);
		assert_int_equal(x.p.nact, 0);
		assert_false(x.p.req[0].news);
		assert_int_equal(x.p.nlog, 0);
		assert_true(x.p.req[0].note_settled);
	}
	fx_release(&x);
}

/* A queued request after the close: merged. */
static void test_merged_after_close(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	window_at(&x, CLOSE_AT + 60);
	fx_plan(&x);
	assert_int_equal(x.p.req[0].state, REQ_MERGING);
	assert_true(x.p.promoting);
	assert_int_equal(x.p.act[x.p.promotion].kind, PLAN_MERGE);
	assert_string_equal(x.p.act[0].tag, SHA);
	assert_string_equal(x.p.act[0].note, "accepted: promoted into paper\n");
	fx_release(&x);
}

static void test_break_glass(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	m_open_break_glass(&x);
	fx_plan(&x);
	assert_true(x.p.req[0].judged);
	assert_true(x.p.req[0].break_glass);
	assert_true(x.p.decision.break_glass);
	assert_string_equal(x.p.decision.overrode, "market-open");
	assert_string_equal(x.p.act[0].note, "accepted: promoted into paper with break-glass\n");
	assert_int_equal(x.p.nlog, 1);
	assert_string_equal(x.p.log[0].text, "request 'promote/paper/risk-limits' (89abcde) "
			    "accepted: promoting 0123456 into paper (break-glass)");
	fx_release(&x);

	/* a rollback with the allowance is not break-glass */
	fx_default(&x);
	m_open_rollback_allowance(&x);
	fx_plan(&x);
	assert_false(x.p.req[0].break_glass);
	assert_true(x.p.decision.rollback_allowance);
	assert_string_equal(x.p.decision.rolled_back_from, OLD);
	assert_non_null(strstr(x.p.log[0].text, "(rollback) (rollbackDuringMarket)"));
	fx_release(&x);
}

/* ---- several requests at once ---- */

static void test_one_promotion_per_cycle(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	request(&x, 1, "promote/paper/other", REQ1, STAGE_PAPER, SHA);
	fx_plan(&x);
	assert_int_equal(x.p.req[0].state, REQ_MERGING);
	assert_int_equal(x.p.req[1].state, REQ_PENDING);
	assert_string_equal(x.p.req[1].message, "accepted; waits for the promotion ahead of it");
	assert_int_equal(x.p.nact, 1);
	fx_release(&x);
}

static void test_refused_and_allowed(void **state)
{
	struct fx x;
	char a[16];

	(void)state;
	fx_default(&x);
	m_wrong_files(&x);
	request(&x, 1, "promote/paper/other", REQ1, STAGE_PAPER, SHA);
	fx_plan(&x);
	acts(a, sizeof a, &x.p);
	/* the merge first (in request order), then the refusal's note */
	assert_string_equal(a, "MN");
	assert_int_equal(x.p.req[0].state, REQ_REFUSED);
	assert_int_equal(x.p.req[1].state, REQ_MERGING);
	assert_string_equal(x.p.act[1].id, REQ0);
	fx_release(&x);
}

/* Two branches on one commit: one note with both verdicts, by branch name. */
static void test_one_note_per_commit(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	m_wrong_files(&x);
	request(&x, 1, "promote/live/a", REQ0, STAGE_LIVE, SHA);
	x.msg[1] = "Promote\n";
	fx_plan(&x);
	assert_int_equal(x.p.nact, 1);
	assert_int_equal(x.p.act[0].kind, PLAN_NOTE);
	assert_non_null(strstr(x.p.act[0].note, "promote/live/a: not-in-source:"));
	assert_non_null(strstr(x.p.act[0].note, "\npromote/paper/risk-limits: wrong-files:"));
	fx_release(&x);

	/* ... unless one of them merges now: the merge writes the note */
	fx_default(&x);
	request(&x, 1, "promote/live/a", REQ0, STAGE_LIVE, SHA);
	x.msg[1] = "Promote\n";
	fx_plan(&x);
	assert_int_equal(x.p.nact, 1);
	assert_int_equal(x.p.act[0].kind, PLAN_MERGE);
	fx_release(&x);
}

/* A hook declined the note at this tip: not planned again. */
static void test_note_declined(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	m_wrong_files(&x);
	x.req[0].note_declined = true;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	assert_int_equal(x.p.req[0].state, REQ_REFUSED);
	fx_release(&x);
}

/* ---- automatic promotions ---- */

static void candidates(struct fx *x)
{
	/* beta runs OLD; NEW and SHA are newer, newest first */
	x->f.nreq = 0;
	x->f.stage[STAGE_BETA].state.current = OLD;
	x->hist[STAGE_BETA][0] = OLD;
	x->f.stage[STAGE_BETA].state.history_len = 1;
	x->cand[0] = (struct plan_candidate){ .tag = NEW, .rel = &x->rel[1] };
	x->cand[1] = (struct plan_candidate){ .tag = SHA, .rel = &x->rel[0] };
	for (int st = 0; st < STAGE_COUNT; st++)
		x->cand[0].newer[st] = x->cand[1].newer[st] = true;
	x->f.ncand = 2;
}

static void test_newer_overtakes_older(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	candidates(&x);
	fx_plan(&x);
	assert_int_equal(x.p.nact, 1);
	assert_int_equal(x.p.act[0].kind, PLAN_PROMOTE);
	assert_string_equal(x.p.act[0].tag, NEW);
	assert_int_equal(x.p.act[0].cand, 0);
	assert_string_equal(x.p.log[0].text, "promoting 2222222 into beta (automatic)");
	fx_release(&x);

	/* the newer one is not complete yet: the older goes */
	fx_default(&x);
	candidates(&x);
	x.rel[1] = release(false);
	fx_plan(&x);
	assert_string_equal(x.p.act[0].tag, SHA);
	fx_release(&x);

	/* beta was rolled back from NEW: automatic promotion leaves it */
	fx_default(&x);
	candidates(&x);
	x.cand[0].rolled_back[STAGE_BETA] = true;
	x.cand[1].rolled_back[STAGE_BETA] = true;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	fx_release(&x);
}

/* An automatic promotion takes the cycle: an allowed request waits. */
static void test_auto_first(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	candidates(&x);
	x.f.stage[STAGE_BETA].state.current = OLD;
	request(&x, 0, "promote/live/x", REQ0, STAGE_LIVE, OLD);
	x.f.stage[STAGE_LIVE].state.current = NEW;
	x.hist[STAGE_PAPER][0] = OLD;
	fx_plan(&x);
	assert_int_equal(x.p.act[0].kind, PLAN_PROMOTE);
	assert_int_equal(x.p.req[0].state, REQ_PENDING);
	assert_string_equal(x.p.req[0].message, "accepted; waits for the promotion ahead of it");
	fx_release(&x);
}

static void test_auto_disabled(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	candidates(&x);
	x.f.stage[STAGE_BETA].cfg.enabled = false;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	fx_release(&x);

	fx_default(&x);
	candidates(&x);
	x.f.stage[STAGE_BETA].cfg.auto_promote = false;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	fx_release(&x);
}

/* A gated automatic stage waits for the close: said once, edge armed. */
static void test_auto_waits_for_close(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	candidates(&x);
	market_open(&x);
	x.f.stage[STAGE_BETA].cfg.market_gated = true;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	assert_int_equal(x.p.auto_edge, CLOSE_AT);
	assert_true(x.p.auto_wait_news[STAGE_BETA]);
	assert_int_equal(x.p.nlog, 1);
	assert_non_null(strstr(x.p.log[0].text, "automatic promotion into beta waits: blocked: "
				"market open"));
	x.f.stage[STAGE_BETA].auto_logged = x.p.auto_wait[STAGE_BETA];
	{
		char last[POLICY_MESSAGE_MAX];

		snprintf(last, sizeof last, "%s", x.p.auto_wait[STAGE_BETA]);
		x.f.stage[STAGE_BETA].auto_logged = last;
		fx_plan(&x);
		assert_false(x.p.auto_wait_news[STAGE_BETA]);
		assert_int_equal(x.p.nlog, 0);
		assert_int_equal(x.p.auto_edge, CLOSE_AT);
	}
	fx_release(&x);
}

/* Inconsistent policy input for an automatic stage (no values file, which
 * the configuration never lets through): the planner reads the decision
 * policy_check leaves, so that must be a refusal with its reason, not the
 * stack's leftovers; nothing is promoted and the wait says why. */
static void test_auto_inconsistent_input(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	candidates(&x);
	x.f.stage[STAGE_BETA].cfg.values_path = NULL;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	assert_int_equal(x.p.auto_edge, 0);
	assert_true(x.p.auto_wait_news[STAGE_BETA]);
	assert_string_equal(x.p.auto_wait[STAGE_BETA], "internal error: inconsistent policy input");
	fx_release(&x);
}

/* ---- expiry and queue-full ---- */

static void test_refusal_expires(void **state)
{
	struct fx x;
	char a[16];

	(void)state;
	fx_default(&x);
	m_wrong_files(&x);
	x.f.expire_refused_ms = DAY_MS;
	x.req[0].tip_time = CLOSED_NOW - 2 * 86400;
	fx_plan(&x);
	/* the note is not on the remote yet: pushed first, expired later */
	acts(a, sizeof a, &x.p);
	assert_string_equal(a, "N");
	snprintf(x.note[0], sizeof x.note[0], "%s", x.p.act[0].note);
	x.req[0].note = x.note[0];
	fx_plan(&x);
	acts(a, sizeof a, &x.p);
	assert_string_equal(a, "E");
	assert_true(x.p.req[0].expire);
	/* asked for already */
	x.req[0].expiring = true;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	/* young: kept */
	x.req[0].expiring = false;
	x.req[0].tip_time = CLOSED_NOW - 3600;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 0);
	fx_release(&x);
}

static void test_queue_full(void **state)
{
	struct fx x;
	char text[POLICY_MESSAGE_MAX + 2];

	(void)state;
	fx_default(&x);
	x.f.requests_max = 1;
	x.f.expire_refused_ms = DAY_MS;
	x.waiting[0] = (struct plan_waiting){ .name = "promote/live/late", .id = REQ1,
					      .why = ADMIT_FULL_MAX,
					      .tip_time = CLOSED_NOW - 2 * 86400 };
	x.f.nwaiting = 1;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 2);
	assert_int_equal(x.p.act[1].kind, PLAN_NOTE);
	assert_int_equal(x.p.act[1].stage, STAGE_LIVE);
	assert_string_equal(x.p.act[1].id, REQ1);
	assert_memory_equal(x.p.act[1].note, "queue-full:", 11);
	/* once its note is there and it is old: deleted */
	snprintf(text, sizeof text, "%s", x.p.act[1].note);
	x.waiting[0].note = text;
	fx_plan(&x);
	assert_int_equal(x.p.act[1].kind, PLAN_EXPIRE);
	assert_true(x.p.waiting_expire[0]);
	/* the same commit judged under another name: that verdict is its note */
	x.waiting[0].note = NULL;
	x.waiting[0].id = REQ0;
	fx_plan(&x);
	assert_int_equal(x.p.nact, 1);
	fx_release(&x);
}

static void test_no_scan(void **state)
{
	struct fx x;

	(void)state;
	fx_default(&x);
	x.f.have_scan = false;
	assert_int_equal(engine_plan(&x.p, &x.f), ERR_INVALID);
	fx_release(&x);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_covers_every_code),
		cmocka_unit_test(test_queued_until_close),
		cmocka_unit_test(test_merged_after_close),
		cmocka_unit_test(test_break_glass),
		cmocka_unit_test(test_one_promotion_per_cycle),
		cmocka_unit_test(test_refused_and_allowed),
		cmocka_unit_test(test_one_note_per_commit),
		cmocka_unit_test(test_note_declined),
		cmocka_unit_test(test_newer_overtakes_older),
		cmocka_unit_test(test_auto_first),
		cmocka_unit_test(test_auto_disabled),
		cmocka_unit_test(test_auto_waits_for_close),
		cmocka_unit_test(test_auto_inconsistent_input),
		cmocka_unit_test(test_refusal_expires),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_no_scan),
	};

	int rc;

	git_libgit2_init();	/* trailer_parse uses its message parser */
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
