/* Unit tests for policy.c: every refusal code with its message, the
 * precedence between them, the stage chain for every on/off combination,
 * break-glass and queue semantics, automatic promotion picks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "blank_text.h"
#include "clock.h"
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

/* What a decision held before a failed policy_check: an allow, with no
 * NUL in its message, so that a decision left untouched shows. */
static void poison_allow(struct policy_decision *d)
{
	memset(d, 0xa5, sizeof(*d));
	d->code = POLICY_ALLOW;
}

static void assert_inconsistent(const struct policy_decision *d)
{
	assert_int_equal(d->code, POLICY_MALFORMED);
	assert_false(d->queue);
	assert_false(d->break_glass);
	assert_string_equal(d->message, "internal error: inconsistent policy input");
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
static void m_evidence_unreadable(struct fixture *f)
{
	f->rel.evidence = POLICY_EVIDENCE_UNPARSABLE;
	f->rel.evidence_summary = NULL;
	f->rel.evidence_error = "inttest-results.json: evidence has no integer \"exit_code\"";
}
static void m_evidence_unreadable_hostile(struct fixture *f)
{
	m_evidence_unreadable(f);
	f->rel.evidence_error = "near '\x1b[2J'\nStage: live";
}
static void m_evidence_unreadable_off(struct fixture *f)
{
	m_evidence_unreadable(f);
	f->in.cfg[STAGE_INTTEST].enabled = false;
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
static void m_current(struct fixture *f) { f->in.state[STAGE_PAPER].current = SHA; }
static void m_current_unknown(struct fixture *f) { m_current(f); f->in.release = NULL; }
static void m_current_mixed(struct fixture *f) { m_current(f); m_mixed(f); }
static void m_current_reused(struct fixture *f) { m_current(f); m_reused(f); }
static void m_current_disabled(struct fixture *f) { m_current(f); m_disabled(f); }
static void m_current_open(struct fixture *f) { m_current(f); market_open(f); }
static void m_current_bg(struct fixture *f)
{
	m_current(f);
	market_open(f);
	f->message = "P\n\nBreak-Glass: broker outage\n";
}
static void m_current_elsewhere(struct fixture *f) { f->in.state[STAGE_LIVE].current = SHA; }
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
static void m_bg_unreadable(struct fixture *f)
{
	m_open_break_glass(f);
	m_evidence_unreadable(f);
}
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

/* the request's shape (issue 11 item 5) */
#define PARENT "fedcba9876543210fedcba9876543210fedcba98"
static void m_merge(struct fixture *f) { f->req.merge = true; f->req.nparents = 2; }
static void m_octopus(struct fixture *f) { f->req.merge = true; f->req.nparents = 3; }
static void m_orphan(struct fixture *f) { f->req.orphan = true; }
static void m_off_branch(struct fixture *f)
{
	f->req.off_branch = true;
	f->req.nparents = 1;
	f->req.parent = PARENT;
}
static void m_off_branch_unnamed(struct fixture *f) { f->req.off_branch = true; }
static void m_trunk(struct fixture *f) { m_merge(f); f->req.tracked = "trunk"; }
static void m_mode_x(struct fixture *f)
{
	f->req.mode_path = "values/values-paper.yaml";
	f->req.mode_old = 0100644;
	f->req.mode_new = 0100755;
}
static void m_mode_minus_x(struct fixture *f)
{
	m_mode_x(f);
	f->req.mode_old = 0100755;
	f->req.mode_new = 0100644;
}
static void m_mode_link(struct fixture *f)
{
	m_mode_x(f);
	f->req.mode_new = 0120000;
}
static void m_mode_hostile(struct fixture *f)
{
	m_mode_x(f);
	f->req.mode_path = "values/\x1b[2Jx";
}
/* a mode-only change: the bytes are the parent's, only the mode differs */
static void m_mode_only(struct fixture *f) { m_mode_x(f); f->tags[0] = f->tags[1] = f->tags[2] = OLD; }
/* the shape before everything that reads the change */
static void m_merge_and_files(struct fixture *f) { m_merge(f); m_readme(f); m_mixed(f); }
static void m_merge_disabled(struct fixture *f) { m_merge(f); m_disabled(f); }
static void m_orphan_and_files(struct fixture *f) { m_orphan(f); m_readme(f); }
static void m_off_branch_and_mode(struct fixture *f) { m_off_branch(f); m_mode_x(f); }
static void m_mode_and_files(struct fixture *f) { m_mode_x(f); m_readme(f); }
static void m_mode_disabled(struct fixture *f) { m_mode_x(f); m_disabled(f); }
static void m_reused_merge(struct fixture *f) { m_reused(f); m_merge(f); }
static void m_forged_orphan(struct fixture *f) { m_forged_stage(f); m_orphan(f); }
static void m_bg_merge(struct fixture *f) { m_open_break_glass(f); m_merge(f); }
/* ---- the source-stage gates (issue 13 item 6) ---- */

#define NOW (CLOSE_TIME - 7200)	/* two hours before the close */
#define SOAK 1800		/* paper's soak: 30m */

/* paper requires beta to run the release deployed for 30m, and it has for
 * an hour: passes */
static void gate(struct fixture *f)
{
	f->in.cfg[STAGE_PAPER].require_source_deployed = true;
	f->in.cfg[STAGE_PAPER].soak = SOAK;
	f->in.now = NOW;
	f->in.window.utc_offset = -5 * 3600;
	f->in.deployed[STAGE_BETA].state = POLICY_DEPLOY_DEPLOYED;
	f->in.deployed[STAGE_BETA].verdict = "deployed";
	f->in.deployed[STAGE_BETA].since = NOW - 3600;
}
static void m_gate(struct fixture *f) { gate(f); }
static void m_gate_unknown(struct fixture *f)
{
	gate(f);
	f->in.deployed[STAGE_BETA].state = POLICY_DEPLOY_UNKNOWN;
	f->in.deployed[STAGE_BETA].verdict = "unknown";
	f->in.deployed[STAGE_BETA].why = "cannot reach Argo CD: connection refused";
}
static void m_gate_progressing(struct fixture *f)
{
	gate(f);
	f->in.deployed[STAGE_BETA].state = POLICY_DEPLOY_NOT;
	f->in.deployed[STAGE_BETA].verdict = "progressing";
	f->in.deployed[STAGE_BETA].why = "sync running";
}
static void m_gate_moved_on(struct fixture *f)
{
	gate(f);
	f->in.state[STAGE_BETA].current = OLD;	/* beta runs another release now */
}
static void m_gate_soak(struct fixture *f)
{
	gate(f);
	f->in.deployed[STAGE_BETA].since = NOW - 600;	/* 20m left */
}
static void m_gate_soak_edge(struct fixture *f)
{
	gate(f);
	f->in.deployed[STAGE_BETA].since = NOW - SOAK;	/* ends now, to the second */
}
static void m_gate_soak_1s(struct fixture *f)
{
	gate(f);
	f->in.deployed[STAGE_BETA].since = NOW - SOAK + 1;
}
static void m_gate_soak_no_queue(struct fixture *f)
{
	m_gate_soak(f);
	f->in.cfg[STAGE_PAPER].queue = false;
}
static void m_gate_soak_open(struct fixture *f) { m_gate_soak(f); market_open(f); }
static void m_gate_open(struct fixture *f) { gate(f); market_open(f); }
static void m_gate_no_soak(struct fixture *f)
{
	m_gate_soak(f);
	f->in.cfg[STAGE_PAPER].soak = 0;
}
static void m_gate_no_source(struct fixture *f)
{
	gate(f);
	f->in.cfg[STAGE_BETA].enabled = false;
}
static void m_gate_off(struct fixture *f)
{
	m_gate_unknown(f);
	f->in.cfg[STAGE_PAPER].require_source_deployed = false;
}
static void m_gate_signature(struct fixture *f)
{
	m_gate_soak(f);
	m_sig_unsigned(f);
}
static void m_gate_not_in_source(struct fixture *f) { m_gate_unknown(f); m_not_in_beta(f); }
#define BG "P\n\nNotes: n\nBreak-Glass: risk desk signs off, order router fix\n"
static void m_gate_bg_soak(struct fixture *f) { m_gate_soak(f); f->message = BG; }
static void m_gate_bg_progressing(struct fixture *f) { m_gate_progressing(f); f->message = BG; }
static void m_gate_bg_unknown(struct fixture *f) { m_gate_unknown(f); f->message = BG; }
static void m_gate_bg_open(struct fixture *f) { m_gate_soak_open(f); f->message = BG; }
static void m_gate_blank_bg(struct fixture *f)
{
	m_gate_soak(f);
	f->message = "P\n\nNotes: n\nBreak-Glass: \xe2\x80\x8b\n";
}

/* ---- guard bands (issue 14 item 2) ---- */

#define BAND_END (CLOSE_TIME + 900)	/* the close + quietAfter 15m */

/* 16:10: the market is closed, paper's band after the close is not over */
static void quiet(struct fixture *f)
{
	f->in.window.open = false;
	f->in.window.text = "market closed (after close)";
	f->in.quiet[STAGE_PAPER].open = true;
	f->in.quiet[STAGE_PAPER].text = "market closed (after close); paper is quiet from 09:00 "
					 "EST to 16:15 EST (30m before the open, 15m after the close)";
	f->in.quiet[STAGE_PAPER].close_time = BAND_END;
}
static void m_quiet(struct fixture *f) { quiet(f); }
static void m_quiet_over(struct fixture *f)
{
	quiet(f);
	f->in.quiet[STAGE_PAPER].open = false;	/* 16:15:00 */
	f->in.quiet[STAGE_PAPER].close_time = 0;
}
static void m_quiet_bg(struct fixture *f)
{
	quiet(f);
	f->message = "P\n\nNotes: n\nBreak-Glass: fix before the auction\n";
}
static void m_quiet_other_stage(struct fixture *f)
{
	quiet(f);
	m_live(f);	/* live has no bands: the plain window, closed */
}

/* ---- issue 14 item 4: rollbacks ---- */

#define NEW "2222222222222222222222222222222222222222"
#define RB_MSG "rollback paper: 0123456\n\nRollback: bad fills since 2222222\n"

/* Paper runs NEW and ran SHA before; beta has moved on (it no longer
 * holds SHA in its history at all: not-in-source must not apply). */
static void m_rb(struct fixture *f)
{
	f->message = RB_MSG;
	f->in.state[STAGE_PAPER].current = NEW;
	f->history[STAGE_PAPER][0] = NEW;
	f->history[STAGE_PAPER][1] = SHA;
	f->in.state[STAGE_PAPER].history_len = 2;
	f->in.state[STAGE_BETA].current = NEW;
	f->history[STAGE_BETA][0] = NEW;
	f->in.state[STAGE_BETA].history_len = 1;
}
static void m_rb_never(struct fixture *f)
{
	m_rb(f);
	f->history[STAGE_PAPER][1] = OLD;
}
static void m_rb_nothing(struct fixture *f)
{
	m_rb(f);
	f->in.state[STAGE_PAPER].history_len = 1;
}
static void m_rb_unknown_current(struct fixture *f)
{
	m_rb(f);
	f->in.state[STAGE_PAPER].current = NULL;
}
static void m_rb_current(struct fixture *f)
{
	m_rb(f);
	f->in.state[STAGE_PAPER].current = SHA;
}
static void m_rb_open(struct fixture *f)
{
	m_rb(f);
	market_open(f);
}
static void m_rb_open_bg(struct fixture *f)
{
	m_rb_open(f);
	f->message = RB_MSG "Break-Glass: fills are wrong, going back now\n";
}
static void m_rb_allow(struct fixture *f)
{
	m_rb_open(f);
	f->in.cfg[STAGE_PAPER].rollback_during_market = true;
}
static void m_rb_allow_blank_bg(struct fixture *f)
{
	m_rb_allow(f);
	f->message = RB_MSG "Break-Glass: \n";
}
static void m_rb_allow_band(struct fixture *f)
{
	quiet(f);
	m_rb(f);
	f->in.cfg[STAGE_PAPER].rollback_during_market = true;
}
static void m_allow_not_rollback(struct fixture *f)
{
	market_open(f);
	f->in.cfg[STAGE_PAPER].rollback_during_market = true;
}
static void m_rb_inttest(struct fixture *f)
{
	m_rb(f);
	m_inttest_failed(f);
}
static void m_rb_unknown_release(struct fixture *f)
{
	m_rb(f);
	m_incomplete(f);
}
static void m_rb_blank(struct fixture *f)
{
	m_rb(f);
	f->message = "rollback paper: 0123456\n\nRollback: \xe2\x80\x8b\n";
}
static void m_rb_twice(struct fixture *f)
{
	m_rb(f);
	f->message = RB_MSG "Rollback: again\n";
}
static void m_rb_forged_from(struct fixture *f)
{
	m_rb(f);
	f->message = RB_MSG "Rolled-Back-From: " NEW "\n";
}
static void m_rb_forged_allowance(struct fixture *f)
{
	m_rb(f);
	f->message = RB_MSG "Rollback-Allowance: rollbackDuringMarket = allow\n";
}
static void m_rb_gates(struct fixture *f)
{
	m_gate_unknown(f);
	m_rb(f);
}
static void m_rb_live_notes(struct fixture *f)
{
	m_rb(f);
	f->req.branch = "promote/live/x";
	f->paths[0] = "values/values-live.yaml";
	f->in.state[STAGE_LIVE].current = NEW;
	f->history[STAGE_LIVE][0] = NEW;
	f->history[STAGE_LIVE][1] = SHA;
	f->in.state[STAGE_LIVE].history_len = 2;
	f->in.state[STAGE_PAPER].history_len = 0;
}
static void m_rb_many(struct fixture *f)
{
	static const char *const ran[] = {
		NEW, "a000000000000000000000000000000000000000",
		"b000000000000000000000000000000000000000", NEW,
		"c000000000000000000000000000000000000000", "d000000000000000000000000000000000000000",
		"e000000000000000000000000000000000000000", "f000000000000000000000000000000000000000",
		"a100000000000000000000000000000000000000", "a200000000000000000000000000000000000000",
		"a300000000000000000000000000000000000000", "a400000000000000000000000000000000000000",
	};

	m_rb(f);
	f->in.state[STAGE_PAPER].history = ran;
	f->in.state[STAGE_PAPER].history_len = ARRAY_SIZE(ran);
}

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
	{ "evidence unreadable", m_evidence_unreadable, POLICY_EVIDENCE_UNREADABLE,
	  "evidence-unreadable: the integration-test evidence of 0123456 cannot be read: "
	  "inttest-results.json: evidence has no integer \"exit_code\"; publish a valid "
	  "inttest-results.json for it (it is read again when the artifact changes)", false },
	{ "evidence unreadable, hostile why", m_evidence_unreadable_hostile,
	  POLICY_EVIDENCE_UNREADABLE, "cannot be read: near '?[2J'?Stage: live;", false },
	{ "evidence unreadable, inttest disabled", m_evidence_unreadable_off, POLICY_ALLOW,
	  "from beta", false },
	{ "break-glass vs unreadable evidence", m_bg_unreadable, POLICY_EVIDENCE_UNREADABLE, "evidence of 0123456 cannot be read",
	  false },
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
	{ "break-glass vs not-in-source", m_bg_not_in_source, POLICY_NOT_IN_SOURCE, "0123456 was never promoted to beta", false },
	{ "break-glass vs inttest", m_bg_inttest, POLICY_INTTEST_FAILED, "integration tests failed for 0123456 (failed 3/312)", false },
	{ "break-glass vs reuse", m_bg_reused, POLICY_REUSED_REQUEST, "request commit 89abcde was already used", false },
	{ "break-glass vs signature", m_bg_signature, POLICY_SIGNATURE, "89abcde is not signed by an allowed signer of paper", false },
	{ "break-glass vs notes", m_bg_notes, POLICY_NOTES_REQUIRED, "live requires notes", false },
	{ "market and notes", m_open_and_notes, POLICY_NOTES_REQUIRED, "live requires notes", false },
	{ "market and signature", m_open_and_signature, POLICY_SIGNATURE, "paper requires a signed request and 89abcde is unsigned", false },
	/* issue 11 item 5: the request's shape */
	{ "merge commit", m_merge, POLICY_MERGE_REQUEST, "merge-request: request 89abcde is a "
	  "merge commit (2 parents), which would bring other commits into main; rebase your "
	  "request onto main as one commit: git fetch origin && git rebase -i origin/main (keep "
	  "one commit with the tag change), then push it again (git push --force, or to a new "
	  "promote/paper/<name>)", false },
	{ "octopus merge", m_octopus, POLICY_MERGE_REQUEST, "(3 parents)", false },
	{ "another tracked branch", m_trunk, POLICY_MERGE_REQUEST, "other commits into trunk; "
	  "rebase your request onto trunk as one commit: git fetch origin && git rebase -i "
	  "origin/trunk", false },
	{ "orphan commit", m_orphan, POLICY_ORPHAN_REQUEST, "orphan-request: request 89abcde has "
	  "no parent (a history unrelated to main); start from main: git fetch origin && git "
	  "checkout -B <branch> origin/main, set the image tags (pipelinectl edit), commit once, "
	  "then push it again", false },
	{ "off the branch", m_off_branch, POLICY_OFF_BRANCH, "off-branch: the parent of request "
	  "89abcde, fedcba9, is not on main (a stack of commits, or a base outside main's "
	  "history); rebase your request onto main as one commit: git fetch origin && git rebase "
	  "-i origin/main", false },
	{ "off the branch, parent unknown", m_off_branch_unnamed, POLICY_OFF_BRANCH,
	  "the parent of request 89abcde is not on main", false },
	{ "mode 100644 -> 100755", m_mode_x, POLICY_MODE_CHANGE, "mode-change: the request "
	  "changes the mode of \"values/values-paper.yaml\" from 100644 to 100755, which a "
	  "promotion does not carry; a request changes only image tags: git update-index "
	  "--chmod=-x \"values/values-paper.yaml\", amend the commit, then push it again", false },
	{ "mode 100755 -> 100644", m_mode_minus_x, POLICY_MODE_CHANGE,
	  "from 100755 to 100644, which a promotion does not carry; a request changes only image "
	  "tags: git update-index --chmod=+x", false },
	{ "file become a link", m_mode_link, POLICY_MODE_CHANGE, "from 100644 to 120000, which a "
	  "promotion does not carry; a request changes only image tags: restore it as it is on "
	  "main, amend the commit", false },
	{ "hostile mode path", m_mode_hostile, POLICY_MODE_CHANGE, "mode of \"values/?[2Jx\"",
	  false },
	{ "mode-only change", m_mode_only, POLICY_MODE_CHANGE, "mode-change:", false },
	{ "merge before files and tags", m_merge_and_files, POLICY_MERGE_REQUEST, "is a merge commit (2 parents)", false },
	{ "merge before stage-disabled", m_merge_disabled, POLICY_MERGE_REQUEST, "is a merge commit (2 parents)", false },
	{ "orphan before files", m_orphan_and_files, POLICY_ORPHAN_REQUEST, "request 89abcde has no parent", false },
	{ "off-branch before mode", m_off_branch_and_mode, POLICY_OFF_BRANCH, "the parent of request 89abcde, fedcba9, is not on main", false },
	{ "mode before files", m_mode_and_files, POLICY_MODE_CHANGE, "changes the mode of \"values/values-paper.yaml\" from 100644 to 100755", false },
	{ "stage-disabled before mode", m_mode_disabled, POLICY_STAGE_DISABLED, "stage paper is disabled", false },
	{ "reused before merge", m_reused_merge, POLICY_REUSED_REQUEST, "request commit 89abcde was already used", false },
	{ "forged before orphan", m_forged_orphan, POLICY_FORGED_TRAILER, "carries a \"Stage:\" trailer", false },
	{ "break-glass vs merge", m_bg_merge, POLICY_MERGE_REQUEST, "is a merge commit (2 parents)", false },
	/* issue 13 item 6: the source-stage gates */
	{ "gates pass", m_gate, POLICY_ALLOW, "allowed: promote paper: 0123456 from beta", false },
	{ "gates off", m_gate_off, POLICY_ALLOW, "allowed", false },
	{ "source unknown", m_gate_unknown, POLICY_SOURCE_UNKNOWN, "source-unknown: what beta "
	  "runs cannot be read from Argo CD (cannot reach Argo CD: connection refused), so "
	  "paper's gate on it fails closed; it is checked again on the next cycle, or add a "
	  "Break-Glass: trailer to override", false },
	{ "source has no Argo CD", m_gate_no_source, POLICY_SOURCE_UNKNOWN, "source-unknown: "
	  "paper requires its source stage to run 0123456 deployed, but its source is "
	  "integration-test, which Argo CD does not deploy", false },
	{ "source progressing", m_gate_progressing, POLICY_SOURCE_NOT_DEPLOYED,
	  "source-not-deployed: 0123456 is promoted to beta but Argo CD does not run it deployed "
	  "there (progressing: sync running); queued until it is; add a Break-Glass:", true },
	{ "source moved on", m_gate_moved_on, POLICY_SOURCE_NOT_DEPLOYED, "source-not-deployed: "
	  "beta runs 1111111, not 0123456; paper requires its source to run the release deployed "
	  "for the soak time; promote 0123456 to beta again, pick the release beta runs, or add "
	  "a Break-Glass: trailer to override", false },
	{ "soak", m_gate_soak, POLICY_SOAK, "soak: beta has run 0123456 deployed since "
	  "2026-11-28T09:50:00-05:00; paper requires a soak of 30m, which ends at "
	  "2026-11-28T10:20:00-05:00; queued until then; add a Break-Glass: trailer to override",
	  true },
	{ "soak ends now", m_gate_soak_edge, POLICY_ALLOW, "allowed", false },
	{ "soak, one second left", m_gate_soak_1s, POLICY_SOAK, "ends at 2026-11-28T10:00:01-05:00",
	  true },
	{ "soak, no queue", m_gate_soak_no_queue, POLICY_SOAK, "which ends at "
	  "2026-11-28T10:20:00-05:00; add a Break-Glass:", false },
	{ "soak and market", m_gate_soak_open, POLICY_SOAK, "; queued until then; the market is "
	  "open too; add", true },
	{ "soaked, market open", m_gate_open, POLICY_MARKET_OPEN, "blocked: market open", true },
	{ "deployed, no soak", m_gate_no_soak, POLICY_ALLOW, "allowed", false },
	{ "signature before gates", m_gate_signature, POLICY_SIGNATURE, "paper requires a signed request", false },
	{ "not-in-source before gates", m_gate_not_in_source, POLICY_NOT_IN_SOURCE, "0123456 was never promoted to beta", false },
	{ "break-glass vs soak", m_gate_bg_soak, POLICY_ALLOW, "allowed: promote paper: 0123456 "
	  "from beta with break-glass overriding soak: risk desk signs off, order router fix",
	  false },
	{ "break-glass vs not deployed", m_gate_bg_progressing, POLICY_ALLOW,
	  "with break-glass overriding source-not-deployed, soak: risk desk", false },
	{ "break-glass vs unknown", m_gate_bg_unknown, POLICY_ALLOW,
	  "with break-glass overriding source-unknown: risk desk", false },
	{ "break-glass vs soak and market", m_gate_bg_open, POLICY_ALLOW,
	  "with break-glass overriding soak, market-open: risk desk", false },
	{ "blank break-glass vs soak", m_gate_blank_bg, POLICY_SOAK, "soak: ", true },
	/* issue 14 item 2: guard bands */
	{ "in the band after the close", m_quiet, POLICY_MARKET_OPEN, "blocked: market closed "
	  "(after close); paper is quiet from 09:00 EST to 16:15 EST (30m before the open, 15m "
	  "after the close); queued until the quiet band ends; add a Break-Glass: trailer to "
	  "override", true },
	{ "band over", m_quiet_over, POLICY_ALLOW, "allowed", false },
	{ "break-glass in the band", m_quiet_bg, POLICY_ALLOW, "with break-glass", false },
	{ "bands are per stage", m_quiet_other_stage, POLICY_ALLOW, "allowed: promote live",
	  false },
	{ "already current", m_current, POLICY_ALREADY_CURRENT, "already-current: paper already "
	  "runs 0123456 (every image tag in values/values-paper.yaml is " SHA "); nothing to "
	  "promote: request another release, or delete the branch", false },
	{ "already current: the registry does not matter", m_current_unknown,
	  POLICY_ALREADY_CURRENT, "paper already runs 0123456", false },
	{ "mixed tags before already current", m_current_mixed, POLICY_MIXED_TAGS, "image tags in values/values-paper.yaml differ", false },
	{ "reused before already current", m_current_reused, POLICY_REUSED_REQUEST, "request commit 89abcde was already used", false },
	{ "disabled before already current", m_current_disabled, POLICY_STAGE_DISABLED, "stage paper is disabled",
	  false },
	{ "already current is not queued", m_current_open, POLICY_ALREADY_CURRENT, "paper already runs 0123456", false },
	{ "break-glass does not make a no-op", m_current_bg, POLICY_ALREADY_CURRENT, "paper already runs 0123456", false },
	{ "another stage runs it", m_current_elsewhere, POLICY_ALLOW, "allowed", false },
	/* issue 14 item 4: rollbacks */
	{ "rollback", m_rb, POLICY_ALLOW, "allowed: roll paper back from 2222222 to 0123456",
	  false },
	{ "rollback to a release never run", m_rb_never, POLICY_ROLLBACK_TARGET,
	  "rollback-target: paper never ran 0123456; a rollback may only go back to a release "
	  "paper ran before: 1111111", false },
	{ "rollback with nothing before", m_rb_nothing, POLICY_ROLLBACK_TARGET,
	  "rollback-target: paper never ran 0123456, and has run no release but its current "
	  "one: there is nothing to roll back to", false },
	{ "rollback, current unknown", m_rb_unknown_current, POLICY_ROLLBACK_TARGET,
	  "rollback-target: cannot tell which release paper runs now", false },
	{ "rollback names at most 8 targets", m_rb_many, POLICY_ROLLBACK_TARGET,
	  "paper ran before: a000000, b000000, c000000, d000000, e000000, f000000, a100000, "
	  "a200000 and 2 more", false },
	{ "rollback to the current release", m_rb_current, POLICY_ALREADY_CURRENT, "paper already runs 0123456", false },
	{ "rollback in the session", m_rb_open, POLICY_MARKET_OPEN, "blocked: market open, "
	  "closes 16:00 EST (in 2h13m); queued until the close; add a Break-Glass:", true },
	{ "rollback with break-glass", m_rb_open_bg, POLICY_ALLOW, "allowed: roll paper back "
	  "from 2222222 to 0123456 with break-glass while the market is open: fills are wrong",
	  false },
	{ "rollback allowed in the session", m_rb_allow, POLICY_ALLOW, "allowed: roll paper "
	  "back from 2222222 to 0123456 while the market is open (paper's rollbackDuringMarket "
	  "allowance)", false },
	{ "rollback allowed in a guard band", m_rb_allow_band, POLICY_ALLOW,
	  "rollbackDuringMarket allowance", false },
	{ "allowance with a blank break-glass", m_rb_allow_blank_bg, POLICY_MARKET_OPEN,
	  "give a justification", true },
	{ "allowance is for rollbacks only", m_allow_not_rollback, POLICY_MARKET_OPEN,
	  "blocked: market open", true },
	{ "rollback, evidence failing", m_rb_inttest, POLICY_INTTEST_FAILED, "integration tests failed for 0123456 (failed 3/312)", false },
	{ "rollback, images gone", m_rb_unknown_release, POLICY_UNKNOWN_RELEASE, "not a complete release (13 of 14 images", false },
	{ "rollback without a reason", m_rb_blank, POLICY_MALFORMED, "malformed: the Rollback: "
	  "trailer has no visible text", false },
	{ "two rollback reasons", m_rb_twice, POLICY_MALFORMED, "\"Rollback:\" appears 2 times",
	  false },
	{ "request claims Rolled-Back-From", m_rb_forged_from, POLICY_FORGED_TRAILER,
	  "\"Rolled-Back-From:\" trailer, which only pipelined writes", false },
	{ "request claims the allowance", m_rb_forged_allowance, POLICY_FORGED_TRAILER,
	  "\"Rollback-Allowance:\"", false },
	{ "rollback skips the source-stage gates", m_rb_gates, POLICY_ALLOW, "allowed: roll",
	  false },
	{ "rollback of live needs notes", m_rb_live_notes, POLICY_NOTES_REQUIRED, "live requires notes", false },
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
		/* every case names words of its message: "" would match anything */
		if (!c->message[0])
			fail_msg("case \"%s\" expects no message text", c->name);
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

/* The source-stage gates: what is queued until when, what Break-Glass
 * overrode, automatic promotions. */
static void test_gate_fields(void **state)
{
	struct fixture f;
	struct policy_decision d;

	(void)state;
	fixture_default(&f);
	m_gate_soak(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_SOAK);
	assert_true(d.queue);
	assert_int_equal(d.queue_until, NOW - 600 + SOAK);	/* the end of the soak */
	assert_string_equal(d.overrode, "");

	/* soak ends before the close while the market is open: the close */
	fixture_default(&f);
	m_gate_soak_open(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.queue_until, CLOSE_TIME);
	/* ... and after it: the end of the soak */
	f.in.cfg[STAGE_PAPER].soak = 3 * 3600;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_SOAK);
	assert_int_equal(d.queue_until, NOW - 600 + 3 * 3600);

	/* not deployed: queued, but no time is known */
	fixture_default(&f);
	m_gate_progressing(&f);
	fixture_decide(&f, &d);
	assert_true(d.queue);
	assert_int_equal(d.queue_until, 0);

	/* Break-Glass: overrides, and says which gates */
	fixture_default(&f);
	m_gate_bg_progressing(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_string_equal(d.overrode, "source-not-deployed, soak");
	assert_false(d.break_glass);	/* the window was closed: not overridden */
	fixture_default(&f);
	m_gate_bg_open(&f);
	fixture_decide(&f, &d);
	assert_string_equal(d.overrode, "soak, market-open");
	assert_true(d.break_glass);
	fixture_default(&f);
	m_open_break_glass(&f);
	fixture_decide(&f, &d);
	assert_string_equal(d.overrode, "market-open");

	/* guard bands: queued until the end of the band, not the close */
	fixture_default(&f);
	m_quiet(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_MARKET_OPEN);
	assert_int_equal(d.queue_until, BAND_END);
	/* a soak that ends inside the band waits for the band */
	fixture_default(&f);
	m_gate_soak(&f);
	quiet(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_SOAK);
	assert_int_equal(d.queue_until, BAND_END);

	/* an automatic promotion waits for the end of the soak the same way */
	fixture_default(&f);
	m_gate_soak(&f);
	f.in.request = NULL;
	f.in.target = STAGE_PAPER;
	f.in.tag = SHA;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_SOAK);
	assert_int_equal(d.queue_until, NOW - 600 + SOAK);
	m_gate_unknown(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_SOURCE_UNKNOWN);
	assert_false(d.queue);
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
		POLICY_MERGE_REQUEST, POLICY_ORPHAN_REQUEST, POLICY_OFF_BRANCH,
		POLICY_STAGE_DISABLED, POLICY_MODE_CHANGE, POLICY_WRONG_FILES, POLICY_MIXED_TAGS,
		POLICY_ALREADY_CURRENT, POLICY_UNKNOWN_RELEASE, POLICY_INTTEST_FAILED,
		POLICY_NOT_IN_SOURCE, POLICY_NOTES_REQUIRED, POLICY_SIGNATURE,
		POLICY_APPROVAL_REQUIRED, POLICY_FROZEN, POLICY_MARKET_OPEN, POLICY_ALLOW,
	};
	static const struct policy_approval other = {
		.commit = OLD, .approves = REQ, .sig = POLICY_SIG_GOOD,
		.principal = "risk@example.com", .principals = "risk@example.com",
		.key = "SHA256:risk", .author_email = "risk@example.com",
	};
	static struct freeze_set frz = { .n = 1, .e = { { .id = "incident", .reason = "r",
							    .stages = 1u << STAGE_LIVE } } };
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
		if (fixed > 14)
			f.message = "P\n\nNotes: n\n";
		f.req.branch = fixed > 0 ? "promote/live/x" : "promote/live";
		f.req.reused = fixed <= 2;
		f.req.merge = fixed <= 3;
		f.req.nparents = 2;
		f.req.orphan = fixed <= 4;
		f.req.off_branch = fixed <= 5;
		f.in.cfg[STAGE_LIVE].enabled = fixed > 6;
		if (fixed <= 7)
			m_mode_x(&f);
		f.req.only_tag_scalars_changed = fixed > 8;
		f.tags[1] = fixed > 9 ? SHA : OLD;
		f.in.state[STAGE_LIVE].current = fixed > 10 ? NULL : SHA;
		f.rel.complete = fixed > 11;
		f.rel.evidence = fixed > 12 ? POLICY_EVIDENCE_PASSED : POLICY_EVIDENCE_FAILED;
		if (fixed > 13)
			f.history[STAGE_PAPER][0] = SHA, f.in.state[STAGE_PAPER].history_len = 1;
		if (fixed > 15)
			f.req.sig = POLICY_SIG_GOOD, f.req.signer = "dana@example.com";
		f.in.cfg[STAGE_LIVE].approvals = 1;
		f.req.approvals = &other;
		f.req.napprovals = fixed > 16;
		f.in.freezes = fixed <= 17 ? &frz : NULL;
		f.in.window.open = fixed <= 18;
		fixture_decide(&f, &d);
		if (d.code != order[fixed])
			fail_msg("after fixing %zu problems: got %s (%s), want %s", fixed,
				 policy_code_name(d.code), d.message,
				 policy_code_name(order[fixed]));
	}
}

/* A rollback request with every refusal that applies to it; not-in-source
 * and the source-stage gates never do. */
static void test_rollback_precedence(void **state)
{
	static const enum policy_code order[] = {
		POLICY_ALREADY_CURRENT, POLICY_UNKNOWN_RELEASE, POLICY_INTTEST_FAILED,
		POLICY_ROLLBACK_TARGET, POLICY_NOTES_REQUIRED, POLICY_SIGNATURE,
		POLICY_MARKET_OPEN, POLICY_ALLOW,
	};
	struct fixture f;
	struct policy_decision d;

	for (size_t fixed = 0; fixed < ARRAY_SIZE(order); fixed++) {
		fixture_default(&f);
		m_rb(&f);
		market_open(&f);
		gate(&f);
		f.in.deployed[STAGE_BETA].state = POLICY_DEPLOY_UNKNOWN;
		f.in.cfg[STAGE_PAPER].require_notes = true;
		f.in.cfg[STAGE_PAPER].require_signature = true;
		f.in.state[STAGE_PAPER].current = fixed > 0 ? NEW : SHA;
		f.rel.complete = fixed > 1;
		f.rel.evidence = fixed > 2 ? POLICY_EVIDENCE_PASSED : POLICY_EVIDENCE_FAILED;
		f.history[STAGE_PAPER][1] = fixed > 3 ? SHA : OLD;
		f.message = fixed > 4 ? RB_MSG "Notes: n\n" : RB_MSG;
		if (fixed > 5)
			f.req.sig = POLICY_SIG_GOOD, f.req.signer = "dana@example.com";
		f.in.window.open = fixed <= 6;
		fixture_decide(&f, &d);
		if (d.code != order[fixed])
			fail_msg("after fixing %zu problems: got %s (%s), want %s", fixed,
				 policy_code_name(d.code), d.message,
				 policy_code_name(order[fixed]));
	}
}

/* What the merge is written from: the tag it replaces, and how the
 * window was passed. */
static void test_rollback_fields(void **state)
{
	struct fixture f;
	struct policy_decision d;

	fixture_default(&f);
	m_rb(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_true(d.rollback);
	assert_string_equal(d.rolled_back_from, NEW);
	assert_false(d.rollback_allowance);
	assert_false(d.break_glass);
	assert_string_equal(d.overrode, "");

	fixture_default(&f);
	m_rb_allow(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_true(d.rollback);
	assert_true(d.rollback_allowance);
	assert_false(d.break_glass);
	assert_string_equal(d.overrode, "market-open");

	/* Break-Glass is the justification when given: no allowance recorded */
	fixture_default(&f);
	m_rb_allow(&f);
	f.message = RB_MSG "Break-Glass: fills are wrong\n";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_true(d.break_glass);
	assert_false(d.rollback_allowance);

	/* a refused rollback is not a rollback decision */
	fixture_default(&f);
	m_rb_never(&f);
	fixture_decide(&f, &d);
	assert_false(d.rollback);
	assert_string_equal(d.rolled_back_from, "");

	/* an ordinary request for an older release is not a rollback: it
	 * still needs the source stage */
	fixture_default(&f);
	m_rb(&f);
	f.message = "P\n\nNotes: n\n";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_NOT_IN_SOURCE);
}

static void test_automatic(void **state)
{
	struct fixture f;
	struct policy_decision d;

	fixture_default(&f);
	f.in.request = NULL;
	f.in.target = STAGE_BETA;
	f.in.tag = SHA;
	f.in.state[STAGE_BETA].current = OLD;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_string_equal(d.message, "allowed: promote beta: 0123456 from integration-test");

	f.rel.evidence = POLICY_EVIDENCE_MISSING;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_INTTEST_MISSING);

	/* unreadable evidence: the automatic promotion waits, saying why */
	f.rel.evidence = POLICY_EVIDENCE_UNPARSABLE;
	f.rel.evidence_error = "artifact manifest: invalid JSON at line 1 column 1";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_EVIDENCE_UNREADABLE);
	assert_non_null(strstr(d.message, "evidence-unreadable: the integration-test evidence of "
				   "0123456 cannot be read: artifact manifest: invalid JSON"));

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

	/* inconsistent input is the caller's bug; the decision is a refusal
	 * all the same, whatever d held (poisoned as an allow here) */
	f.in.tag = "latest";
	poison_allow(&d);
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
	assert_inconsistent(&d);
	f.in.tag = SHA;
	f.in.target = STAGE_INTTEST;
	poison_allow(&d);
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
	assert_inconsistent(&d);
	f.in.target = STAGE_LIVE;
	f.in.cfg[STAGE_LIVE].values_path = NULL;
	poison_allow(&d);
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
	assert_inconsistent(&d);
	/* a request without its trailers */
	fixture_default(&f);
	poison_allow(&d);
	assert_int_equal(policy_check(&d, &f.in), ERR_INVALID);
	assert_inconsistent(&d);
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
		{ "2222222222222222222222222222222222222222", true, POLICY_EVIDENCE_FAILED, true, false },
		{ "3333333333333333333333333333333333333333", false, POLICY_EVIDENCE_PASSED, true, false },
		{ "latest", true, POLICY_EVIDENCE_PASSED, true, false },
		{ SHA, true, POLICY_EVIDENCE_PASSED, true, false },
		{ OLD, true, POLICY_EVIDENCE_PASSED, false, false },
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

	/* a newer release with unreadable evidence is picked, so the automatic
	 * promotion waits with evidence-unreadable rather than promoting an
	 * older one; missing and failed evidence are still skipped */
	const struct policy_candidate u[] = {
		{ "2222222222222222222222222222222222222222", true, POLICY_EVIDENCE_MISSING, true, false },
		{ "3333333333333333333333333333333333333333", true, POLICY_EVIDENCE_UNPARSABLE, true, false },
		{ SHA, true, POLICY_EVIDENCE_PASSED, true, false },
	};
	fixture_default(&f);
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, u, ARRAY_SIZE(u)), 0);
	assert_int_equal(pick, 1);
	/* an incomplete one is not (unknown-release is not what it waits for) */
	const struct policy_candidate v[] = {
		{ "3333333333333333333333333333333333333333", false, POLICY_EVIDENCE_UNPARSABLE, true, false },
		{ SHA, true, POLICY_EVIDENCE_PASSED, true, false },
	};
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, v, ARRAY_SIZE(v)), 0);
	assert_int_equal(pick, 1);

	/* issue 14 item 4: what beta was rolled back from (and anything not
	 * newer) is never picked again; a newer release is */
	const struct policy_candidate w[] = {
		{ "3333333333333333333333333333333333333333", true, POLICY_EVIDENCE_PASSED, true, true },
		{ SHA, true, POLICY_EVIDENCE_PASSED, true, true },
	};
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, w, ARRAY_SIZE(w)),
			 ERR_NOTFOUND);
	const struct policy_candidate x[] = {
		{ "4444444444444444444444444444444444444444", true, POLICY_EVIDENCE_PASSED, true, false },
		{ "3333333333333333333333333333333333333333", true, POLICY_EVIDENCE_PASSED, true, true },
	};
	assert_int_equal(policy_auto_pick(&pick, &f.in, STAGE_BETA, x, ARRAY_SIZE(x)), 0);
	assert_int_equal(pick, 0);
}

/* ---- freezes (issue 14 item 1) ---- */

#define FOMC_END 1797449400	/* 2026-12-16T14:30:00-05:00 */

static struct freeze_set freezes;
static struct tz_rule ny;

static void freeze_fixture(struct fixture *f, bool allow)
{
	fixture_default(f);
	memset(&freezes, 0, sizeof freezes);
	freezes.n = 1;
	freezes.e[0] = (struct freeze_entry){ .id = "fomc-dec", .reason = "FOMC announcement",
					      .stages = 1u << STAGE_PAPER | 1u << STAGE_LIVE,
					      .has_start = true, .start = FOMC_END - 3600,
					      .has_end = true, .end = FOMC_END,
					      .break_glass = allow };
	f->in.freezes = &freezes;
	f->in.tz = &ny;
	f->in.now = FOMC_END - 600;
}

static void test_frozen(void **state)
{
	struct fixture f;
	struct policy_decision d;

	(void)state;
	assert_int_equal(tz_rule_parse(&ny, "EST5EDT,M3.2.0,M11.1.0", NULL), 0);
	/* a request into a frozen stage: refused, queued until the end */
	freeze_fixture(&f, true);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_true(d.queue);
	assert_int_equal(d.queue_until, FOMC_END);
	assert_string_equal(d.message, "frozen: fomc-dec (FOMC announcement) until 2026-12-16 "
			    "14:30 EST; queued until then; add a Break-Glass: trailer to "
			    "override");
	/* the end is exclusive, the start inclusive */
	f.in.now = FOMC_END;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	f.in.now = FOMC_END - 3600;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	f.in.now = FOMC_END - 3601;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	/* beta is not frozen by it */
	freeze_fixture(&f, true);
	f.in.request = NULL;
	f.in.target = STAGE_BETA;
	f.in.tag = SHA;
	f.in.state[STAGE_BETA].current = OLD;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	/* an automatic promotion waits for the end */
	freezes.e[0].all = true;
	freezes.e[0].stages |= 1u << STAGE_BETA;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_int_equal(d.queue_until, FOMC_END);
	/* Break-Glass overrides an entry that allows it, and says so */
	freeze_fixture(&f, true);
	f.message = "P\n\nNotes: n\nBreak-Glass: risk fix for the FOMC release\n";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_true(d.overrode_frozen);
	assert_string_equal(d.overrode, "frozen");
	/* ... and the market too when it is open */
	market_open(&f);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_string_equal(d.overrode, "frozen, market-open");
	/* not one that denies it */
	freeze_fixture(&f, false);
	f.message = "P\n\nNotes: n\nBreak-Glass: risk fix for the FOMC release\n";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_false(d.overrode_frozen);
	assert_string_equal(d.message, "frozen: fomc-dec (FOMC announcement) until 2026-12-16 "
			    "14:30 EST; queued until then; it does not allow Break-Glass: lift "
			    "it (pipelinectl freeze --lift fomc-dec) or wait");
	/* two entries: the one that denies is named, Break-Glass does not
	 * pass, and the stage is free when the later one ends */
	freeze_fixture(&f, true);
	freezes.n = 2;
	freezes.e[1] = (struct freeze_entry){ .id = "close", .reason = "book close",
					      .stages = 1u << STAGE_PAPER, .has_start = true,
					      .start = FOMC_END - 500, .has_end = true,
					      .end = FOMC_END + 1800 + 15 };
	f.message = "P\n\nNotes: n\nBreak-Glass: fix\n";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);	/* close has not started */
	freezes.e[1].start = FOMC_END - 600;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_int_equal(d.queue_until, FOMC_END + 1815);
	assert_string_equal(d.message, "frozen: close (book close) (and 1 more freezes) until "
			    "2026-12-16 15:00:15 EST; queued until then; it does not allow "
			    "Break-Glass: lift it (pipelinectl freeze --lift close) or wait");
	/* a freeze that starts when the one in force ends: waited for too */
	freezes.e[1].start = FOMC_END;
	f.message = "P\n\nNotes: n\n";
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_int_equal(d.queue_until, FOMC_END + 1815);
	/* open-ended: no end to wait for */
	freeze_fixture(&f, false);
	freezes.e[0].has_end = false;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_true(d.queue);
	assert_int_equal(d.queue_until, 0);
	assert_string_equal(d.message, "frozen: fomc-dec (FOMC announcement) until lifted; "
			    "queued until it is lifted; it does not allow Break-Glass: lift it "
			    "(pipelinectl freeze --lift fomc-dec) or wait");
	/* a stage that does not queue is refused, not queued */
	f.in.cfg[STAGE_PAPER].queue = false;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_FROZEN);
	assert_false(d.queue);
}

static void test_code_names(void **state)
{
	static const char *const names[] = {
		"allow", "malformed", "stage-disabled", "wrong-files", "mixed-tags",
		"unknown-release", "inttest-failed", "inttest-missing", "not-in-source",
		"market-open", "notes-required", "signature", "reused-request", "forged-trailer",
		"evidence-unreadable",
		/* issue 11 item 5 */
		"merge-request", "orphan-request", "off-branch", "mode-change",
		/* issue 13 item 6 */
		"source-not-deployed", "soak", "source-unknown",
		/* issue 11 item 1 */
		"already-current",
		"queue-full",
		/* issue 14 item 1 */
		"frozen",
		/* issue 14 item 3 */
		"approval-required",
		/* issue 14 item 4 */
		"rollback-target",
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


/* ---- the two-person rule (issue 14 item 3) ---- */

#define APPR1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define APPR2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A live request signed by dana (key SHA256:dana), wanting n approvals. */
static void approvals_fixture(struct fixture *f, unsigned n, struct policy_approval *a, size_t na)
{
	fixture_default(f);
	m_live(f);
	f->in.cfg[STAGE_LIVE].require_signature = true;
	f->in.cfg[STAGE_LIVE].approvals = n;
	f->req.sig = POLICY_SIG_GOOD;
	f->req.signer = "dana@example.com";
	f->req.signer_principals = "dana@example.com,dana@home.example";
	f->req.signer_key = "SHA256:dana";
	f->req.author_email = "Dana@Example.com";
	f->req.approvals = a;
	f->req.napprovals = na;
	f->message = "P\n\nNotes: go live\n";
}

static struct policy_approval approval(const char *commit, const char *principal,
				       const char *key, const char *email)
{
	return (struct policy_approval){
		.commit = commit, .approves = REQ, .sig = POLICY_SIG_GOOD,
		.principal = principal, .principals = principal, .key = key,
		.author_email = email,
	};
}

static void test_approval_required(void **state)
{
	struct policy_approval a[2];
	struct fixture f;
	struct policy_decision d;

	/* none yet: what is needed, who cannot approve, how to approve */
	approvals_fixture(&f, 1, a, 0);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_APPROVAL_REQUIRED);
	assert_true(d.queue);
	assert_int_equal(d.queue_until, 0);
	assert_string_equal(d.message, "approval-required: live requires 1 approval by someone "
			    "other than the author, 0 given; the author (dana@example.com) "
			    "cannot approve; another allowed signer approves with: pipelinectl "
			    "approve promote/live/x; queued until then");

	/* a second person's approval: allowed, and counted for Approved-By */
	a[0] = approval(APPR1, "risk@example.com", "SHA256:risk", "risk@example.com");
	approvals_fixture(&f, 1, a, 1);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_int_equal(d.napproved, 1);
	assert_int_equal(d.approved[0], 0);

	/* the stage wants none: an approval is harmless and not recorded */
	approvals_fixture(&f, 0, a, 1);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_int_equal(d.napproved, 0);
}

/* Every way the author can be the approver; none counts, each is named. */
static void test_self_approval(void **state)
{
	struct {
		struct policy_approval a;
		const char *named;
	} selfs[] = {
		/* the same principal */
		{ approval(APPR1, "dana@example.com", "SHA256:dana2", "x@example.com"),
		  "aaaaaaa (self-approval by dana@example.com)" },
		/* the same key under a second e-mail address */
		{ approval(APPR1, "dana.alt@example.net", "SHA256:dana", "x@example.com"),
		  "aaaaaaa (self-approval by dana.alt@example.net)" },
		/* another principal of the author's key */
		{ approval(APPR1, "dana@home.example", "SHA256:other", "x@example.com"),
		  "aaaaaaa (self-approval by dana@home.example)" },
		/* the author's e-mail as the approver's principal (any case) */
		{ approval(APPR1, "dana@example.COM", "SHA256:other", "x@example.com"),
		  "aaaaaaa (self-approval by dana@example.COM)" },
		/* the author's e-mail on the approval commit */
		{ approval(APPR1, "ops@example.com", "SHA256:ops", "dana@example.com"),
		  "aaaaaaa (self-approval by ops@example.com)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(selfs); i++) {
		struct fixture f;
		struct policy_decision d;

		approvals_fixture(&f, 1, &selfs[i].a, 1);
		fixture_decide(&f, &d);
		if (d.code != POLICY_APPROVAL_REQUIRED || !strstr(d.message, selfs[i].named))
			fail_msg("case %zu: %s", i, d.message);
		assert_non_null(strstr(d.message, "0 given (not counted: "));
	}
	/* the approver's key lists the author's principal too */
	{
		struct policy_approval a = approval(APPR1, "ops@example.com", "SHA256:ops",
						    "ops@example.com");
		struct fixture f;
		struct policy_decision d;

		a.principals = "ops@example.com,dana@example.com";
		approvals_fixture(&f, 1, &a, 1);
		fixture_decide(&f, &d);
		assert_int_equal(d.code, POLICY_APPROVAL_REQUIRED);
	}
}

static void test_approvals_counted(void **state)
{
	struct policy_approval a[3];
	struct fixture f;
	struct policy_decision d;

	/* bad and unverified signatures do not count, and are named */
	a[0] = approval(APPR1, NULL, NULL, "eve@example.com");
	a[0].sig = POLICY_SIG_BAD;
	a[1] = approval(APPR2, NULL, NULL, "eve@example.com");
	a[1].sig = POLICY_SIG_UNCHECKED;
	approvals_fixture(&f, 1, a, 2);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_APPROVAL_REQUIRED);
	assert_non_null(strstr(d.message, "0 given (not counted: bbbbbbb (signature not verified "
				   "yet), aaaaaaa (not signed by an allowed signer))"));

	/* two approvals by one person (one key) count once */
	a[0] = approval(APPR1, "risk@example.com", "SHA256:risk", "risk@example.com");
	a[1] = approval(APPR2, "risk2@example.com", "SHA256:risk", "risk@example.com");
	approvals_fixture(&f, 2, a, 2);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_APPROVAL_REQUIRED);
	assert_non_null(strstr(d.message, "requires 2 approvals by someone other than the author, "
				   "1 given (not counted: aaaaaaa (risk@example.com approved "
				   "already))"));

	/* two people: allowed, both counted, the older first */
	a[0] = approval(APPR1, "ops@example.com", "SHA256:ops", "ops@example.com");
	approvals_fixture(&f, 2, a, 2);
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_ALLOW);
	assert_int_equal(d.napproved, 2);
	assert_int_equal(d.approved[0], 1);
	assert_int_equal(d.approved[1], 0);

	/* queue = false: refused, not queued */
	approvals_fixture(&f, 3, a, 2);
	f.in.cfg[STAGE_LIVE].queue = false;
	fixture_decide(&f, &d);
	assert_int_equal(d.code, POLICY_APPROVAL_REQUIRED);
	assert_false(d.queue);
	assert_null(strstr(d.message, "queued"));
}

/* A commit on top that says Approves: and is not an approval is a stack
 * of commits, whatever the stage wants. */
static void test_approval_shape(void **state)
{
	static const struct {
		enum policy_approval_shape shape;
		const char *why;
	} shapes[] = {
		{ POLICY_APPROVAL_CHANGES, "but changes files (an approval changes nothing)" },
		{ POLICY_APPROVAL_OTHER, "but approves another commit" },
		{ POLICY_APPROVAL_MERGE, "but is a merge" },
		{ POLICY_APPROVAL_UNSIGNED, "but is not signed" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
		for (unsigned n = 0; n < 2; n++) {
			struct policy_approval a = approval(APPR1, "risk@example.com",
							    "SHA256:risk", "risk@example.com");
			struct fixture f;
			struct policy_decision d;
			char msg[POLICY_MESSAGE_MAX];

			a.shape = shapes[i].shape;
			approvals_fixture(&f, n, &a, 1);
			fixture_decide(&f, &d);
			assert_int_equal(d.code, POLICY_OFF_BRANCH);
			assert_non_null(strstr(d.message, "off-branch: commit aaaaaaa on top of "
						   "request 89abcde says Approves: " REQ));
			assert_non_null(strstr(d.message, shapes[i].why));
			assert_non_null(strstr(d.message, "git push --force origin " REQ
						   ":promote/live/x"));
			/* and pipelinectl audit's shape check says the same */
			assert_int_equal(policy_check_shape(msg, sizeof msg, &f.req, STAGE_LIVE),
					 POLICY_OFF_BRANCH);
		}
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
	return 0;
}

static int teardown(void **state)
{
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_queue_and_break_glass_fields),
		cmocka_unit_test(test_unicode_blank),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_rollback_precedence),
		cmocka_unit_test(test_rollback_fields),
		cmocka_unit_test(test_automatic),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_chain_decisions),
		cmocka_unit_test(test_auto_pick),
		cmocka_unit_test(test_code_names),
		cmocka_unit_test(test_frozen),
		cmocka_unit_test(test_gate_fields),
		cmocka_unit_test(test_parse_branch),
		cmocka_unit_test(test_approval_required),
		cmocka_unit_test(test_self_approval),
		cmocka_unit_test(test_approvals_counted),
		cmocka_unit_test(test_approval_shape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
