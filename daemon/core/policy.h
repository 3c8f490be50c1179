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
 *   merge-request    the tip is a merge (it would bring other commits in)
 *   orphan-request   the tip has no parent (unrelated history)
 *   off-branch       its parent is not on the tracked branch (a stack of
 *                    commits, foreign history), or a commit on top of it
 *                    says Approves: but is no approval (it changes files,
 *                    is unsigned or a merge, or approves another commit).  These three come next:
 *                    every check after them reads the change against the
 *                    tip's parent, which is the commit the change was made
 *                    on only when the tip is one commit on the branch; and
 *                    each needs a rebuilt commit, so the developer hears it
 *                    before anything the rebuilt commit may change anyway
 *   stage-disabled   the target stage is off
 *   mode-change      a file mode differs from the parent's (100644 ->
 *                    100755 on the values file): a promotion rebuilds the
 *                    file and would drop it silently.  Before wrong-files,
 *                    because a mode-only change of the values file passes
 *                    every test of its bytes
 *   wrong-files      the change is not just the stage's tag scalars
 *   mixed-tags       the tag scalars disagree or hold no release id
 *   already-current  the stage already runs that release: a merge would
 *                    change nothing (the registry no longer matters)
 *   unknown-release  not every image has the tag
 *   inttest-failed / inttest-missing / evidence-unreadable
 *   not-in-source    the release skipped the source stage
 *   rollback-target  a rollback request (a Rollback: trailer) asks for a
 *                    release the stage never ran.  Right after not-in-source,
 *                    which a rollback skips: its release passed the source
 *                    stage when it first ran here; the stage's own history is
 *                    the rule instead
 *   notes-required   amend the message ...
 *   signature        ... then sign it (amending drops a signature, so this
 *                    comes after the other fixes of the message)
 *   approval-required  the stage wants N approvals by people other than
 *                    the author and has fewer.  After signature: the
 *                    author is known only from the request's verified
 *                    signature.  Queued: an approval pushed to the branch
 *                    moves it, and the next cycle judges it again
 *   source-unknown   the source-stage gates (requireSourceDeployed, soak)
 *                    cannot be judged: Argo CD cannot be read, or the source
 *                    stage has no Application.  They fail closed
 *   source-not-deployed  the source stage does not run the release deployed
 *   soak             it does, but not for the stage's soak time yet
 *   frozen           a freeze in the repository's freeze file holds the
 *                    target (issue 14 item 1): queued until the freeze
 *                    ends (re-judged every cycle while it has no end).
 *                    Before market-open, so a request that waits for both
 *                    names the freeze, the longer and rarer wait
 *   market-open      last: a request refused only for market-open is one
 *                    that would otherwise pass, so it may be queued.  With
 *                    guard bands (issue 14) the stage's window is the
 *                    market session widened by them, and the queue waits
 *                    for the end of the band after the close
 *
 * The source-stage gates (issue 13) come after every refusal that waiting
 * cannot cure: a request refused only for source-not-deployed (when the
 * source's Git tag already is the release, so Argo CD may still get there),
 * soak, and market-open is queued until the earliest time it could pass
 * (the end of the soak or the close, whichever is later; unknown for
 * source-not-deployed, which is re-judged as Argo CD's verdict changes).
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
 * Rollbacks (issue 14 item 4): a request whose tip carries a non-blank
 * `Rollback:` trailer (the reason) may ask only for a release the target
 * ran before (not its current one: already-current); not-in-source and the
 * source-stage gates (requireSourceDeployed, soak) do not apply to it, since
 * the source stage has moved on and its release passed them when it first
 * ran here.  Every other gate applies as to any request: the registry and
 * the evidence (a release whose images or evidence are gone or now failing
 * is not a safe place to go back to), notes, signature, the window.  With
 * the stage's rollbackDuringMarket allowance, a rollback without
 * Break-Glass passes the market window too; the decision says so
 * (rollback_allowance, and "market-open" in overrode) for the merge's
 * trailers.
 *
 * Break-glass: a non-blank `Break-Glass:` trailer bypasses market-open,
 * the source-stage gates (source-unknown, source-not-deployed, soak) and a
 * freeze whose every holding entry says breakGlass: allow, and nothing else; the decision names the gates it overrode, for the
 * promotion's `Overrode:` trailer.  Evidence is checked for every target while integration-test
 * is enabled (seed 8.3: the tag must have passed integration tests before
 * it goes to paper, too), and not at all while it is disabled.
 */
#ifndef PIPELINED_POLICY_H
#define PIPELINED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "freeze.h"
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
	/* issue 11 item 9: the evidence artifact exists but cannot be read */
	POLICY_EVIDENCE_UNREADABLE,
	/* issue 11 item 5: the request's shape */
	POLICY_MERGE_REQUEST,
	POLICY_ORPHAN_REQUEST,
	POLICY_OFF_BRANCH,
	POLICY_MODE_CHANGE,
	/* issue 13 item 6: gates on the source stage's Argo CD verdict */
	POLICY_SOURCE_NOT_DEPLOYED,
	POLICY_SOAK,
	POLICY_SOURCE_UNKNOWN,
	/* issue 11 item 1: a request for the release the stage already runs */
	POLICY_ALREADY_CURRENT,
	/* issue 11 item 3: past the request bounds (the engine's, before policy) */
	POLICY_QUEUE_FULL,
	/* issue 14 item 1: a freeze declared in the repository holds the stage */
	POLICY_FROZEN,
	/* issue 14 item 3: the two-person rule */
	POLICY_APPROVAL_REQUIRED,
	/* issue 14 item 4: a rollback to a release the stage never ran */
	POLICY_ROLLBACK_TARGET,
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
	bool require_source_deployed;	/* the source runs the release deployed ... */
	int64_t soak;			/* ... for at least this many seconds */
	unsigned approvals;		/* approvals by others than the author needed */
	/* issue 14 item 4: a rollback request passes the market window (and
	 * its guard bands) without Break-Glass */
	bool rollback_during_market;
};

/* Argo CD's view of a deploy stage, for the source-stage gates. */
enum policy_deploy {
	POLICY_DEPLOY_UNKNOWN = 0,	/* Argo CD cannot be read, not judged yet, or
					 * the stage has no Application */
	POLICY_DEPLOY_NOT,		/* judged, and not deployed */
	POLICY_DEPLOY_DEPLOYED,		/* synced to its promotion, healthy, images match */
};

struct policy_deployed {
	enum policy_deploy state;
	const char *verdict;	/* "progressing", "sync-failed", ...; may be NULL */
	const char *why;	/* Argo CD's one-line reason; may be NULL */
	int64_t since;		/* DEPLOYED: wall time it has run deployed since */
};

/* What a deploy stage holds, derived from the promotion commits in Git. */
struct policy_stage_state {
	const char *current;		/* tag now deployed; NULL if none */
	const char *const *history;	/* every tag ever promoted into it, newest first */
	size_t history_len;
};

enum policy_evidence {
	POLICY_EVIDENCE_MISSING = 0,
	POLICY_EVIDENCE_PASSED,
	POLICY_EVIDENCE_FAILED,
	POLICY_EVIDENCE_UNPARSABLE,	/* published, but not valid evidence */
};

/* Registry facts about the requested tag. */
struct policy_release {
	bool complete;			/* every configured image has the tag */
	size_t images_present;
	size_t images_total;
	const char *missing_image;	/* one image without it (message); may be NULL */
	enum policy_evidence evidence;
	const char *evidence_summary;	/* "passed 312/312", "failed 3/312"; may be NULL */
	const char *evidence_error;	/* UNREADABLE: why; may be NULL */
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

/* Issue 14 item 3: a commit on top of the request that says "Approves:".
 * Only the shape is judged for every stage; the rest only where the stage
 * wants approvals. */
enum policy_approval_shape {
	POLICY_APPROVAL_OK = 0,
	POLICY_APPROVAL_CHANGES,	/* its tree is not its parent's */
	POLICY_APPROVAL_OTHER,		/* Approves: names another commit */
	POLICY_APPROVAL_MERGE,		/* more than one parent */
	POLICY_APPROVAL_UNSIGNED,	/* no signature at all */
};

struct policy_approval {
	const char *commit;		/* 40-hex */
	enum policy_approval_shape shape;
	const char *approves;		/* its Approves: value, for the message */
	enum policy_sig sig;
	const char *principal;		/* GOOD: the principal that verified */
	const char *principals;		/* GOOD: every principal of its key,
					 * comma-separated; may be NULL */
	const char *key;		/* the public key that signed it; may be NULL */
	const char *author_email;	/* as written in the commit */
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
	/* issue 11 item 5: the shape of the tip; all false is one commit
	 * whose parent is on the tracked branch, with no mode change */
	bool merge;			/* more than one parent (nparents) */
	bool orphan;			/* no parent */
	bool off_branch;		/* one parent, not the tracked tip or an ancestor of it */
	unsigned nparents;
	const char *parent;		/* off_branch: the parent's id; may be NULL */
	const char *tracked;		/* the tracked branch ("main"), for the messages */
	const char *mode_path;		/* a path whose file mode differs from the
					 * parent's; NULL when none does */
	unsigned mode_old, mode_new;	/* its modes (octal, e.g. 0100644) */
	/* issue 14 item 3: approval commits on top of the request commit,
	 * tip first; commit is then the request commit under them */
	const struct policy_approval *approvals;
	size_t napprovals;		/* <= TRAILER_APPROVALS_MAX */
	const char *author_email;	/* of the request commit */
	const char *signer_principals;	/* GOOD: every principal of its key */
	const char *signer_key;		/* the public key that signed it; may be NULL */
};

/* The market window now, from the clock module. */
struct policy_window {
	bool open;
	const char *text;	/* "market open, closes 16:00 EST (in 2h13m)" */
	int64_t close_time;	/* Unix time of the next close, when open */
	int32_t utc_offset;	/* seconds east of UTC in the market's zone (times
				 * in messages) */
};

struct policy_input {
	struct policy_stage_cfg cfg[STAGE_COUNT];
	struct policy_stage_state state[STAGE_COUNT];	/* deploy stages */
	const struct policy_release *release;	/* NULL: nothing known about the tag */
	const struct policy_request *request;	/* NULL: automatic promotion */
	enum stage target;	/* automatic only; requests take it from the branch */
	const char *tag;	/* automatic only; requests take it from tag_values */
	struct policy_window window;
	/* issue 13 item 6: the source-stage gates */
	struct policy_deployed deployed[STAGE_COUNT];	/* deploy stages */
	int64_t now;		/* wall time of the decision */
	/* issue 14 item 2: a stage's window widened by its guard bands
	 * (quietBefore, quietAfter): open inside the quiet span, close_time its
	 * end.  Used for a target whose quiet[st].text is set, else window. */
	struct policy_window quiet[STAGE_COUNT];
	/* issue 14 item 1: the freezes in force (the engine's last good parse
	 * of the freeze file; NULL: none), judged at now; times in messages
	 * are shown in tz (the market's zone; NULL: UTC) */
	const struct freeze_set *freezes;
	const struct tz_rule *tz;
};

#define POLICY_MESSAGE_MAX 1024

struct policy_decision {
	enum policy_code code;	/* POLICY_ALLOW or the one refusal */
	bool queue;		/* refused only for what waiting cures (market-open,
				 * soak, source-not-deployed), and the stage queues */
	int64_t queue_until;	/* when queued: the earliest time it could pass
				 * (the close, the end of the soak); 0 unknown */
	bool break_glass;	/* allowed because Break-Glass overrode the window */
	bool overrode_frozen;	/* allowed because Break-Glass overrode a freeze */
	/* allowed because Break-Glass overrode these gates: "source-not-deployed,
	 * soak", "market-open", ...; "" when none */
	char overrode[96];
	enum stage target;
	enum stage source;
	char tag[TAG_MAX + 1];	/* the requested tag when one was found */
	char message[POLICY_MESSAGE_MAX];	/* what happened and what to do */
	/* issue 14 item 3: the approvals counted (indexes into the request's
	 * approvals), for the Approved-By: trailers */
	size_t approved[TRAILER_APPROVALS_MAX];
	size_t napproved;
	/* issue 14 item 4: an allowed rollback request */
	bool rollback;
	char rolled_back_from[TAG_MAX + 1];	/* the target's current tag */
	bool rollback_allowance;	/* passed the window by rollbackDuringMarket */
};

/* Decide.  Messages start with the code ("not-in-source: ..."), except
 * market-open, which reads "blocked: market open, closes ...; add a
 * Break-Glass: trailer to override".  ERR_INVALID only for inconsistent
 * input (a bug in the caller), never for a bad request; *out is then a
 * refusal all the same (POLICY_MALFORMED, "internal error: inconsistent
 * policy input"), so a caller that reads it regardless never reads an
 * allow or uninitialised memory. */
int policy_check(struct policy_decision *out, const struct policy_input *in);

/* The shape checks alone, in policy_check's order: POLICY_ALLOW, or the
 * first of merge-request, orphan-request, off-branch and mode-change that
 * applies to r (only its commit and shape fields are read), with its
 * message in msg.  For pipelinectl audit, which judges a pull request from
 * a request branch with the same rules. */
enum policy_code policy_check_shape(char *msg, size_t size, const struct policy_request *r,
				    enum stage target);

/* Issue 14 item 3, the one judgement of "same person" (the daemon's and
 * pipelinectl audit's): a is by r's author when it was signed with the same
 * key as r (a second e-mail address on one key is still one person), its
 * principal is one of r's key's principals or r's is one of its key's, or
 * the author's e-mail (any case) is its principal, one of its key's
 * principals or its commit's author e-mail. */
bool policy_approval_by_author(const struct policy_request *r, const struct policy_approval *a);
/* a and b are by one person: the same key, or a shared principal. */
bool policy_same_approver(const struct policy_approval *a, const struct policy_approval *b);

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
	/* issue 14 item 4: not newer than a release the target was rolled
	 * back from (history_rolled_back_from): never promoted automatically */
	bool rolled_back;
};

/* Automatic promotion: the index of the first candidate (give them newest
 * first) that is newer than the target's tag, complete, has passed its
 * evidence while integration-test is enabled, and is in the source stage
 * when that is a deploy stage.  A candidate marked rolled_back is never
 * picked: automatic promotion does not undo a rollback (issue 14 item 4).
 * ERR_NOTFOUND when none is, or when the target is disabled or not
 * automatic.  The engine then runs policy_check
 * on it (market window, etc.).
 *
 * A newer complete candidate whose evidence is unreadable is picked too, so
 * that policy_check refuses it with evidence-unreadable: the automatic
 * promotion waits with that reason instead of quietly promoting an older
 * release that the one with broken evidence would supersede. */
int policy_auto_pick(size_t *out, const struct policy_input *in, enum stage target,
		     const struct policy_candidate *c, size_t n);

#endif
