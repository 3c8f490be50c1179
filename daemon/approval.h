/* approval.h - one approval commit of the two-person rule (issue 14 item
 * 3), built the same way for `pipelinectl approve` and for the dashboard's
 * Approve button: on top of a request branch's tip, the tip's tree (it
 * changes nothing), the message "approve <stage>: <request7>" with
 * "Approves: <request commit>" (and "Operator: <name>" when an operator
 * approved from the dashboard), SSH-signed as git commit -S would.  It
 * moves no ref and pushes nothing: the caller does, as a fast-forward of
 * the tip it fetched.  It decides nothing either: the daemon judges the
 * approval like any other on its next cycle. */
#ifndef PIPELINED_APPROVAL_H
#define PIPELINED_APPROVAL_H

#include <stddef.h>

#include "gitops.h"
#include "stage.h"

struct approval_spec {
	enum stage stage;			/* a deploy stage */
	const char *branch;			/* "promote/<stage>/<name>", for messages */
	const char *tip;			/* 40-hex: the branch tip as fetched */
	const struct gitops_person *author;	/* the approver; NULL: g's identity */
	const char *email;			/* the approver's e-mail (the checks) */
	const char *operator_name;		/* dashboard: the operator; else NULL */
	const char *signing_key;		/* private key file (ssh-keygen -Y sign -f) */
};

struct approval_made {
	char request[GITOPS_HEXSZ + 1];	/* the request commit under the approvals */
	char commit[GITOPS_HEXSZ + 1];	/* the approval commit made */
	size_t before;			/* approvals already on the branch */
};

/* Reads the chain under s->tip as the daemon does (history_request_walk)
 * and refuses, ERR_REJECTED with err saying why, what the daemon would
 * never count: the approver is the request commit's author (same e-mail),
 * approved it already, or the branch holds TRAILER_APPROVALS_MAX
 * approvals.  Else makes and signs the commit (ERR_FAIL when git or
 * ssh-keygen fails, err says why).  Runs git work: off the loop thread. */
int approval_build(struct approval_made *out, struct gitops *g, const struct approval_spec *s,
		   char *err, size_t errsz);

/* Pure: the approval message, "approve <stage>: <request7>\n\nApproves:
 * <request>\n" and "Operator: <name>\n" when operator_name is given.
 * ERR_INVALID on a bad stage, request or operator name (blank, or a
 * character a trailer value cannot hold). */
int approval_message(struct buf *msg, enum stage stage, const char *request,
		     const char *operator_name);

#endif
