/* history.h - the promotion history, derived from Git alone.
 *
 * Git is the audit trail and the daemon's only durable state (SPEC 5,
 * invariants): which tag each stage got, when, from whom, which request
 * commits were already used, which tags ever reached a stage.  This module
 * reads it back from the first-parent history of the tracked branch by the
 * trailers of SPEC 6, so that the daemon, `pipelinectl log` and `pipelinectl
 * audit` all see the same record, and a lost state directory loses nothing.
 *
 * A promotion commit is one whose trailer block has Stage and Image-Tag with
 * a deploy stage and a 40-hex tag (trailer.h).  Whether it is *well-formed*
 * (all daemon trailers present, made by the daemon's identity, changing
 * only its stage's values file) is the auditor's question, answered by
 * history_check_commit, not by loading.
 */
#ifndef PIPELINED_HISTORY_H
#define PIPELINED_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commit_info.h"
#include "stage.h"
#include "tag.h"
#include "trailer.h"

#define HISTORY_MAX_COMMITS 100000	/* first-parent commits walked at most */

struct history_entry {
	char commit[GITOPS_HEXSZ + 1];	/* the promotion commit */
	enum stage stage;
	enum stage source;		/* STAGE_COUNT when Source-Stage is absent/bad */
	char tag[GITOPS_HEXSZ + 1];	/* Image-Tag */
	char request[GITOPS_HEXSZ + 1];	/* Request, "" for automatic */
	char *requested_by;		/* Requested-By value, or NULL */
	char *notes;			/* NULL when absent */
	char *break_glass;		/* NULL when absent */
	char *market;
	char *integration_test;
	char *signed_by;
	char *committer_name, *committer_email;
	int64_t time;			/* committer time (Unix) */
	int offset_min;			/* committer UTC offset */
	char *subject;
	char *overrode;			/* Overrode: the gates Break-Glass bypassed, or NULL */
	/* issue 14 item 4 */
	char *rollback;			/* Rollback: the reason, or NULL (not a rollback) */
	char rolled_back_from[GITOPS_HEXSZ + 1];	/* Rolled-Back-From, "" when absent/bad */
	bool rollback_allowance;	/* Rollback-Allowance: present */
	/* issue 14 item 3: the Approved-By values, one a line, or NULL */
	char *approved_by;
};

struct history {
	struct history_entry *items;	/* newest first */
	size_t n;
	char tip[GITOPS_HEXSZ + 1];	/* the commit the walk started from */
	bool truncated;			/* HISTORY_MAX_COMMITS reached */
};

/* The history is walked by history_load (git/history_walk.h), which hands
 * each first-parent commit, newest first, to history_add_commit: it
 * appends the commit's promotion record when it is one (a message the
 * trailer parser refuses records nothing: loading never guesses; the
 * auditor reports such commits).  *cap is the caller's count of allocated
 * items (0 for an empty history).  0 or ERR_NOMEM. */
int history_add_commit(struct history *h, size_t *cap, const struct gitops_commit_info *ci);
void history_release(struct history *h);

/* The newest promotion into stage, or NULL. */
const struct history_entry *history_latest(const struct history *h, enum stage stage);
/* Was tag ever promoted into stage? */
bool history_has_tag(const struct history *h, enum stage stage, const char *tag);
/* The promotion that used request commit id, or NULL (reused-request). */
const struct history_entry *history_find_request(const struct history *h, const char *id);
/* Every tag ever promoted into stage, newest first, as a borrowed array the
 * caller frees (not the strings): the policy's stage history. */
int history_tags(const char ***out, size_t *n, const struct history *h, enum stage stage);

/* ---- rollbacks (issue 14 item 4) ---- */

/* The release `pipelinectl rollback` goes back to by default: the one the
 * stage ran before its current one, where a rollback counts as a step
 * back, not forward.  The stage's promotions are replayed oldest first on
 * a stack: an ordinary promotion pushes its tag, a rollback to X pops back
 * to the newest X (or pushes X when the stack has none).  The target is
 * the entry below the top.  So X, Y, Z then a rollback (to Y) gives X next,
 * not Z: rolling back twice goes further back instead of flipping between
 * two releases; an ordinary promotion after a rollback starts a new step.
 * 0 and out (41 bytes) set, or ERR_NOTFOUND when the stage has run fewer
 * than two releases this way, or ERR_NOMEM. */
int history_rollback_target(char *out, const struct history *h, enum stage stage);

/* The Rolled-Back-From tags of the rollbacks into stage, newest first and
 * distinct, at most max of them, into out (borrowed): automatic promotion
 * must not bring any of them, or an older release, back (policy.h,
 * policy_candidate.rolled_back).  Returns how many. */
size_t history_rolled_back_from(const char **out, size_t max, const struct history *h,
				enum stage stage);

/* ---- additions beyond the contract ---- */

/* The promotion record of one commit (ci with its parsed trailers tl):
 * 0 and *out filled (release it) when tl has a deploy-stage Stage and a
 * 40-hex Image-Tag; ERR_NOTFOUND when the commit is not a promotion;
 * ERR_NOMEM.  Repeated keys: the first value counts (the auditor flags
 * the repetition). */
int history_entry_from_commit(struct history_entry *out, const struct gitops_commit_info *ci,
			      const struct trailer_list *tl);
void history_entry_release(struct history_entry *e);

/* Issue 14 item 3: a request branch read down from its tip.  Commits whose
 * message has an Approves: trailer and one parent are approvals, walked
 * past (at most TRAILER_APPROVALS_MAX); the first other commit is the
 * request.  Whether an approval is valid (same tree, approves this request,
 * signed by whom) is for the caller to judge from these facts. */
struct history_approval {
	char commit[GITOPS_HEXSZ + 1];
	char approves[GITOPS_HEXSZ + 1];	/* its Approves: value, cut to 40 */
	bool same_tree;				/* its tree is its parent's */
	char *author_name, *author_email;
};

struct history_request_chain {
	char request[GITOPS_HEXSZ + 1];
	struct history_approval approvals[TRAILER_APPROVALS_MAX];	/* tip first */
	size_t n;
};

/* The Approves: value of a message (cut to 40 into out), or false (none,
 * or unreadable: then the commit is no approval and is judged as the
 * request).  The walk is history_request_walk (git/history_walk.h). */
bool history_approves(char out[GITOPS_HEXSZ + 1], const char *message);
void history_request_chain_release(struct history_request_chain *c);

#endif
