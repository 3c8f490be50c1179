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

#include <stdbool.h>
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

/* Who wrote a waiting request, as the daemon verified it. */
struct approval_requester {
	const char *author_email;	/* of the request commit */
	const char *signer;		/* the verified principal, or NULL */
	const char *signer_principals;	/* every principal of its key, comma-separated */
	const char *signer_key;		/* its key's fingerprint (SHA256:...), or NULL */
};

/* Pure: whether an operator approving from the dashboard is the requester.
 * The rule the daemon applies to the approval that would be made
 * (policy_approval_by_author: the approval key is the request's key or
 * shares a principal with it, or the operator's e-mail is the request's
 * author's), and also when the operator's e-mail or name is a principal of
 * the request's verified signer.  key_fp and key_principals: [http]
 * approvalKey's fingerprint and its principals in the stage's signers. */
bool approval_by_requester(const struct approval_requester *rq, const char *op_name,
			   const char *op_email, const char *key_fp, const char *key_principals);

#endif
