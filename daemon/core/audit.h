/* audit.h - re-check the tracked branch's history against policy (SPEC 6).
 *
 * Pure: facts about each first-parent commit in (oldest first), violations
 * out.  The edge (ctl_audit.c) reads the facts from git (the trailers, the
 * paths changed against the first parent, the tag scalars of each values
 * file through yamledit) and the market window at the committer time from
 * the clock module.
 *
 * What can be checked from Git alone, and what cannot:
 *   - a values file changed by a commit without promotion trailers
 *     (direct-change), or by one whose trailers are forged (a committer
 *     other than the daemon's identity), malformed, missing or repeated;
 *   - a promotion that changed anything besides its stage's tag scalars
 *     (wrong-files), or wrote a tag other than its Image-Tag (tag-mismatch);
 *   - a market-gated stage changed while the window was open without a
 *     Break-Glass justification, judged at the committer time with the
 *     calendar and the *current* marketGated settings (market-open);
 *   - two promotions from the same request commit (reused-request);
 *   - a tag promoted from a deploy stage it had never reached before
 *     (skipped-stage), judged against the Source-Stage the commit records,
 *     because the chain of enabled stages may have changed since;
 *   - rollbacks (a promotion with Rollback:, issue 14 item 4): not judged
 *     by skipped-stage, but its release must be one the stage ran before,
 *     and Rolled-Back-From: must name the tag the stage's previous
 *     promotion set (rollback); inside the window it needs Break-Glass or
 *     the recorded rollbackDuringMarket allowance (Rollback-Allowance:).
 * Not checkable from Git: whether a release was complete or passed its
 * integration tests (Source-Stage ci / integration-test: that evidence
 * lives in the registry), whether the stage chain recorded in a
 * Source-Stage was the configured one at the time, whether a signature was
 * required then (Signed-By is reported, not re-verified), and anything
 * about a commit whose committer identity was itself forged with the
 * daemon's name (Git does not authenticate committers; signed pushes or
 * branch protection do).
 */
#ifndef PIPELINED_AUDIT_H
#define PIPELINED_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "stage.h"

enum audit_code {
	AUDIT_DIRECT_CHANGE = 0,	/* values changed outside a promotion commit */
	AUDIT_FORGED,			/* promotion trailers by another committer */
	AUDIT_MALFORMED,		/* daemon trailers missing, bad or repeated */
	AUDIT_WRONG_FILES,		/* more than the stage's tag scalars changed */
	AUDIT_TAG_MISMATCH,		/* the file does not hold the Image-Tag */
	AUDIT_MARKET_OPEN,		/* gated stage, window open, no Break-Glass */
	AUDIT_REUSED_REQUEST,
	AUDIT_SKIPPED_STAGE,
	/* issue 11 item 5: a request's shape, judged by policy_check_shape */
	AUDIT_MERGE_REQUEST,
	AUDIT_ORPHAN_REQUEST,
	AUDIT_OFF_BRANCH,
	AUDIT_MODE_CHANGE,
	/* issue 14 item 3: the two-person rule */
	AUDIT_SELF_APPROVAL,		/* an Approved-By: by the request's author */
	AUDIT_APPROVAL_INVALID,		/* one that names no valid signed approval */
	AUDIT_APPROVAL_MISSING,		/* fewer valid ones than the stage requires */
	/* issue 14 item 4: a rollback to a release its stage never ran, or
	 * whose Rolled-Back-From: is missing or not the stage's previous tag,
	 * or rollback trailers on a promotion that is not a rollback */
	AUDIT_ROLLBACK,
	AUDIT_CODE_COUNT
};

/* "direct-change", "forged-trailer", "malformed-trailers", "wrong-files",
 * "tag-mismatch", "market-open", "reused-request", "skipped-stage",
 * "merge-request", "orphan-request", "off-branch", "mode-change",
 * "self-approval", "approval-invalid", "approval-missing", "rollback". */
const char *audit_code_name(enum audit_code c);

/* One deploy stage's values file in one commit. */
struct audit_values {
	bool changed;		/* differs from the first parent's */
	bool only_tags;		/* ...and only in its tag scalars */
	const char *tag;	/* the one value of its tag scalars now; NULL if mixed/unreadable */
};

struct audit_commit {
	const char *id;			/* 40 hex */
	const char *committer_name, *committer_email;
	int64_t time;			/* committer time */
	const char *message;
	size_t message_len;
	const char *const *changed;	/* paths changed against the first parent */
	size_t nchanged;
	struct audit_values values[STAGE_COUNT];	/* deploy stages */
	bool window_open;		/* market window at time */
	const char *window_text;	/* e.g. "open, closes 16:00 EST" */
	bool judged;			/* false: baseline, read for its promotions only */
	/* judged for what it establishes only (the promotions it records, the
	 * requests it used, the approvals in force), its violations and counts
	 * left out: a range's commits before its start, so that the verdict on
	 * the range is the full audit's on those commits.  Needs the trailers
	 * and committer only: changed, values and window are not read */
	bool replay;
	/* requests: the facts about the request's tip (policy.h; its commit
	 * and shape fields), on that commit only; NULL on the others */
	const struct policy_request *shape;
	/* issue 14 item 3: a promotion's request as merged (second parent):
	 * commit = the request commit under its approvals, the approvals with
	 * their verified signatures, the request's signer and author (policy.h)
	 * for policy_approval_by_author.  NULL when not read (no second
	 * parent); then every Approved-By: is approval-invalid */
	const struct policy_request *merged;
};

struct audit_policy {
	const char *ident_name, *ident_email;	/* the daemon's committer identity */
	const char *values_path[STAGE_COUNT];	/* NULL: no values file configured */
	bool market_gated[STAGE_COUNT];
	/* The judged commits are a promotion request's (a pull request from
	 * promote/<request_stage>/...), not the tracked branch's: each may
	 * carry no daemon-only trailer (forged-trailer) and change nothing but
	 * that stage's tag scalars (wrong-files), and the tip must be one
	 * commit on the tracked branch with no mode change (merge-request,
	 * orphan-request, off-branch, mode-change: the daemon's own rules,
	 * policy_check_shape).  The rest is the daemon's to decide when it
	 * sees the request. */
	bool requests;
	enum stage request_stage;
	/* issue 14 item 3: each stage's approvals as configured now (the
	 * history does not record what it was then) */
	unsigned approvals[STAGE_COUNT];
};

#define AUDIT_MESSAGE_MAX 512

struct audit_violation {
	char commit[41];
	enum audit_code code;
	char message[AUDIT_MESSAGE_MAX];
};

struct audit_report {
	struct audit_violation *v;
	size_t n;
	size_t judged;		/* commits judged */
	size_t promotions;	/* well-formed promotions among them */
};

/* Judge commits c[0..n) (oldest first).  0 and *out filled (release it),
 * or ERR_NOMEM / ERR_INVALID (a NULL fact the caller must give). */
int audit_run(struct audit_report *out, const struct audit_policy *p,
	      const struct audit_commit *c, size_t n);
/* The same after the commits st has seen (audit_state.h; its depth counts
 * them), which c[0] continues as the next first-parent commit: st is left
 * as the state after c[n-1], what a checkpoint at that commit holds.  Also
 * ERR_INVALID for a NULL st. */
struct audit_state;
int audit_run_state(struct audit_report *out, struct audit_state *st,
		    const struct audit_policy *p, const struct audit_commit *c, size_t n);
void audit_report_release(struct audit_report *r);

/* Index of the first commit whose trailers name a deploy Stage and a
 * 40-hex Image-Tag (where the baseline ends when [audit] since is not
 * set); n when there is none. */
size_t audit_first_promotion(const struct audit_commit *c, size_t n);

/* ---- deployments (issue 13 item 5): informational, never a violation ----
 *
 * Which promotions Argo CD never ran: the daemon writes a note under
 * refs/notes/pipelined-deploy on a promotion commit when it first judges
 * the promotion deployed (engine_deploy.c).  Given the promotions into the
 * stages Argo CD follows (oldest first) and whether each has that note,
 * list those without one: superseded (a later promotion into the same
 * stage came before Argo CD ran it: a fast sequence, or a failed rollout
 * nobody fixed) or current (the stage's newest promotion, not deployed
 * yet: in progress, or stuck).  Only meaningful when the notes ref exists
 * at all: the caller says "no deploy record" instead of calling this. */
struct audit_promotion {
	const char *commit;
	enum stage stage;
	bool deployed;		/* a deploy note is on commit */
};

struct audit_undeployed {
	size_t index;		/* into the promotions given */
	bool superseded;
	size_t by;		/* superseded: index of the next promotion into the stage */
};

struct audit_deploy_report {
	struct audit_undeployed *v;	/* oldest first */
	size_t n;
	size_t promotions;	/* promotions looked at */
	size_t deployed;	/* of them, with a deploy note */
};

/* 0 and *out filled (release it), or ERR_NOMEM / ERR_INVALID (a NULL
 * commit or a stage that is not a deploy stage). */
int audit_deployments(struct audit_deploy_report *out, const struct audit_promotion *p, size_t n);
void audit_deploy_report_release(struct audit_deploy_report *r);

/* Parse "A..B", "A.." (B = HEAD) or "B" (everything up to B) into the two
 * revisions; *from = NULL when absent.  Each side must be a plausible
 * revision (1..255 bytes of printable ASCII, no spaces, not starting with
 * '-').  ERR_INVALID with the reason in err (may be NULL). */
int audit_parse_range(char *from, size_t fromsz, char *to, size_t tosz, bool *has_from,
		      const char *range, char *err, size_t errsz);

#endif
