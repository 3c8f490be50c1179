/* policy.h - may this release go into that stage now?  (SPEC sections 2, 5)
 *
 * Pure: facts in (configuration, stage state, release facts, request facts,
 * market window), one decision out.  The engine gathers the facts (git,
 * registry, yamledit, clock, signature check) and acts on the decision.
 *
 * A refusal carries exactly one code, the first that applies in this order:
 *
 *   malformed        the request cannot be read: nothing else is meaningful
 *   forged-trailer   it claims to be something only the daemon writes
 *   reused-request   that commit was already used: only a new commit helps
 *   stage-disabled   the target stage is off
 *   wrong-files      the change is not just the stage's tag scalars
 *   mixed-tags       the tag scalars disagree or hold no release id
 *   unknown-release  not every image has the tag
 *   inttest-failed / inttest-missing
 *   not-in-source    the release skipped the source stage
 *   notes-required   amend the message ...
 *   signature        ... then sign it (amending drops a signature, so this
 *                    comes after the other fixes of the message)
 *   market-open      last: a request refused only for market-open is one
 *                    that would otherwise pass, so it may be queued
 *
 * queue-full is not one of these checks: the engine gives it, before any
 * policy check, to a request branch that gets no slot under the bounds of
 * [requests] (engine_admit.c); policy never sees such a request.
 *
 * The stage chain (seed requirement 13): the source of a stage is the
 * nearest enabled stage before it.  When none is enabled the chain starts
 * at ci, the origin of every image, whose gate (a complete release) still
 * applies.  "Promoted into" an evidence stage means: into ci = the release
 * is complete (all images built); into integration-test = its evidence
 * passed.  Those are unknown-release and inttest-* already, which come
 * first, so not-in-source only ever names a deploy-stage source.
 *
 * Break-glass: a non-blank `Break-Glass:` trailer bypasses market-open and
 * nothing else.  Evidence is checked for every target while integration-test
 * is enabled (seed 8.3: the tag must have passed integration tests before
 * it goes to paper, too), and not at all while it is disabled.
 */
#ifndef PIPELINED_POLICY_H
#define PIPELINED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"
#include "tag.h"
#include "trailer.h"

/* Stable codes (SPEC 5).  POLICY_ALLOW is not a refusal. */
enum policy_code {
	POLICY_ALLOW = 0,
	POLICY_MALFORMED,
	POLICY_STAGE_DISABLED,
	POLICY_WRONG_FILES,
	POLICY_MIXED_TAGS,
	POLICY_UNKNOWN_RELEASE,
	POLICY_INTTEST_FAILED,
	POLICY_INTTEST_MISSING,
	POLICY_NOT_IN_SOURCE,
	POLICY_MARKET_OPEN,
	POLICY_NOTES_REQUIRED,
	POLICY_SIGNATURE,
	POLICY_REUSED_REQUEST,
	POLICY_FORGED_TRAILER,
	/* issue 11 item 3: past the request bounds (the engine's, before policy) */
	POLICY_QUEUE_FULL,
	POLICY_CODE_COUNT
};

/* "allow", "malformed", "stage-disabled", ... */
const char *policy_code_name(enum policy_code code);
/* Exact name back to the code; ERR_NOTFOUND if unknown. */
int policy_code_parse(enum policy_code *out, const char *name);

/* One stage's configuration, mapped from [stage "<name>"]. */
struct policy_stage_cfg {
	bool enabled;
	bool auto_promote;
	bool market_gated;
	bool require_notes;
	bool require_signature;
	bool queue;
	const char *values_path;	/* deploy stages: repo-relative values file */
};

/* What a deploy stage holds, derived from the promotion commits in Git. */
struct policy_stage_state {
	const char *current;		/* tag now deployed; NULL if none */
	const char *const *history;	/* every tag ever promoted into it */
	size_t history_len;
};

enum policy_evidence {
	POLICY_EVIDENCE_MISSING = 0,
	POLICY_EVIDENCE_PASSED,
	POLICY_EVIDENCE_FAILED,
};

/* Registry facts about the requested tag. */
struct policy_release {
	bool complete;			/* every configured image has the tag */
	size_t images_present;
	size_t images_total;
	const char *missing_image;	/* one image without it (message); may be NULL */
	enum policy_evidence evidence;
	const char *evidence_summary;	/* "passed 312/312", "failed 3/312"; may be NULL */
};

enum policy_msg_state {
	POLICY_MSG_OK = 0,
	POLICY_MSG_UNPARSABLE,		/* the commit could not be read */
	POLICY_MSG_OVERSIZED,		/* larger than TRAILER_MESSAGE_MAX */
};

enum policy_sig {
	POLICY_SIG_UNCHECKED = 0,	/* not verified (e.g. the verifier failed) */
	POLICY_SIG_GOOD,		/* from an allowed signer: signer is set */
	POLICY_SIG_BAD,			/* signed, but not by an allowed signer */
	POLICY_SIG_UNSIGNED,
};

/* Facts about one promotion request (its tip commit). */
struct policy_request {
	const char *branch;		/* "promote/<stage>/<name>", refs/heads/ optional */
	const char *commit;		/* 40-hex tip */
	enum policy_msg_state msg;
	const char *msg_error;		/* why, when msg is not OK (trailer_parse's err) */
	const struct trailer_list *trailers;	/* required when msg is OK */
	const char *const *changed_paths;	/* touched since the merge base */
	size_t changed_len;
	bool only_tag_scalars_changed;	/* in the target values file, only tag scalars differ */
	const char *const *tag_values;	/* every tag scalar of the target, in the tip */
	size_t tag_values_len;
	enum policy_sig sig;
	const char *signer;		/* principal when sig is GOOD */
	bool reused;			/* an earlier promotion has Request: <commit> */
};

/* The market window now, from the clock module. */
struct policy_window {
	bool open;
	const char *text;	/* "market open, closes 16:00 EST (in 2h13m)" */
	int64_t close_time;	/* Unix time of the next close, when open */
};

struct policy_input {
	struct policy_stage_cfg cfg[STAGE_COUNT];
	struct policy_stage_state state[STAGE_COUNT];	/* deploy stages */
	const struct policy_release *release;	/* NULL: nothing known about the tag */
	const struct policy_request *request;	/* NULL: automatic promotion */
	enum stage target;	/* automatic only; requests take it from the branch */
	const char *tag;	/* automatic only; requests take it from tag_values */
	struct policy_window window;
};

#define POLICY_MESSAGE_MAX 1024

struct policy_decision {
	enum policy_code code;	/* POLICY_ALLOW or the one refusal */
	bool queue;		/* refused only for market-open, and the stage queues */
	int64_t queue_until;	/* when queued: the window's close */
	bool break_glass;	/* allowed because Break-Glass overrode the window */
	enum stage target;
	enum stage source;
	char tag[TAG_MAX + 1];	/* the requested tag when one was found */
	char message[POLICY_MESSAGE_MAX];	/* what happened and what to do */
};

/* Decide.  Messages start with the code ("not-in-source: ..."), except
 * market-open, which reads "blocked: market open, closes ...; add a
 * Break-Glass: trailer to override".  ERR_INVALID only for inconsistent
 * input (a bug in the caller), never for a bad request. */
int policy_check(struct policy_decision *out, const struct policy_input *in);

/* Source stage of s: the nearest enabled stage before it, or ci when none
 * is (see above).  ERR_INVALID for ci itself. */
int policy_source_stage(enum stage *out, const struct policy_stage_cfg cfg[STAGE_COUNT],
			enum stage s);

/* Split "promote/<stage>/<name>" (refs/heads/ optional).  The stage must be
 * a deploy stage and the name a sane ref component.  ERR_INVALID with the
 * reason in err. */
int policy_parse_branch(enum stage *stage, const char *branch, struct buf *err);

/* A release the daemon could promote automatically. */
struct policy_candidate {
	const char *tag;
	bool complete;
	enum policy_evidence evidence;
	bool newer;		/* newer (by ancestry) than the target's current tag */
};

/* Automatic promotion: the index of the first candidate (give them newest
 * first) that is newer than the target's tag, complete, has passed its
 * evidence while integration-test is enabled, and is in the source stage
 * when that is a deploy stage.  ERR_NOTFOUND when none is, or when the
 * target is disabled or not automatic.  The engine then runs policy_check
 * on it (market window, etc.). */
int policy_auto_pick(size_t *out, const struct policy_input *in, enum stage target,
		     const struct policy_candidate *c, size_t n);

#endif
