/* approval.c - see approval.h.  The one approval-commit builder, shared by
 * pipelinectl approve (ctl_approve.c) and the dashboard (engine_approve.c). */
#include "approval.h"
#include "history.h"
#include "history_walk.h"
#include "policy.h"
#include "sigverify.h"
#include "trailer.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int approval_message(struct buf *msg, enum stage stage, const char *request,
		     const char *operator_name)
{
	if (!stage_is_deploy(stage))
		return ERR_INVALID;
	if (operator_name) {
		if (trailer_text_blank(operator_name) || strlen(operator_name) > 128)
			return ERR_INVALID;
		for (const unsigned char *p = (const unsigned char *)operator_name; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				return ERR_INVALID;
	}
	if (trailer_format_approval(msg, stage_name(stage), request))
		return ERR_INVALID;
	return operator_name ? buf_printf(msg, "%s: %s\n", TRAILER_OPERATOR, operator_name) : 0;
}

/* The checks the daemon would make anyway, made before anything is
 * signed so that the approver hears why at once. */
static int judge_chain(struct approval_made *out, struct gitops *g, const struct approval_spec *s,
		       const struct history_request_chain *ch, char *err, size_t errsz)
{
	struct gitops_commit_info ci;
	int rc = ERR_REJECTED;

	strlcpy_(out->request, ch->request, sizeof out->request);
	out->before = ch->n;
	if (ch->n >= TRAILER_APPROVALS_MAX) {
		snprintf(err, errsz, "'%s' has %d approvals already, the most the daemon reads",
			 s->branch, TRAILER_APPROVALS_MAX);
		return ERR_REJECTED;
	}
	for (size_t i = 0; i < ch->n; i++)
		if (strcasecmp(ch->approvals[i].author_email, s->email) == 0) {
			snprintf(err, errsz, "you (%s) approved '%s' already (commit %.7s)", s->email,
				 s->branch, ch->approvals[i].commit);
			return ERR_REJECTED;
		}
	memset(&ci, 0, sizeof ci);
	if (gitops_commit_info(&ci, g, ch->request)) {
		snprintf(err, errsz, "%s", gitops_error(g));
		return ERR_FAIL;
	}
	if (ci.author_email && strcasecmp(ci.author_email, s->email) == 0)
		snprintf(err, errsz, "you (%s) wrote request %.7s; someone else must approve it",
			 s->email, ci.id);
	else
		rc = 0;
	gitops_commit_info_release(&ci);
	return rc;
}

struct sign_ctx {
	const char *key;
};

static int sign_cb(struct buf *sig, const char *payload, size_t len, void *data)
{
	const struct sign_ctx *sc = data;
	char err[512];

	if (sigverify_sign_sync(sig, err, sizeof err, sc->key, payload, len, 0) == 0)
		return 0;
	buf_reset(sig);
	buf_adds(sig, err);
	return ERR_FAIL;
}

int approval_build(struct approval_made *out, struct gitops *g, const struct approval_spec *s,
		   char *err, size_t errsz)
{
	struct history_request_chain ch;
	struct buf msg = BUF_INIT;
	struct gitops_commit_spec spec;
	struct sign_ctx sc = { s->signing_key };
	int rc;

	memset(out, 0, sizeof *out);
	if (history_request_walk(&ch, g, s->tip)) {
		snprintf(err, errsz, "%s", gitops_error(g));
		return ERR_FAIL;
	}
	rc = judge_chain(out, g, s, &ch, err, errsz);
	history_request_chain_release(&ch);
	if (rc)
		return rc;
	if (approval_message(&msg, s->stage, out->request, s->operator_name)) {
		snprintf(err, errsz, "cannot build the approval message");
		buf_release(&msg);
		return ERR_INVALID;
	}
	memset(&spec, 0, sizeof spec);
	spec.parents[0] = s->tip;
	spec.nparents = 1;
	spec.message = msg.data;
	spec.author = s->author;
	spec.sign = sign_cb;
	spec.sign_data = &sc;
	if (gitops_commit_create(out->commit, g, &spec)) {
		snprintf(err, errsz, "%s", gitops_error(g));
		rc = ERR_FAIL;
	}
	buf_release(&msg);
	return rc;
}

static bool listed(const char *list, const char *s, bool nocase)
{
	size_t n = s ? strlen(s) : 0;

	for (const char *p = list; p && *p && n;) {
		size_t k = strcspn(p, ",");

		if (k == n && (nocase ? strncasecmp(p, s, n) : strncmp(p, s, n)) == 0)
			return true;
		p += k;
		p += *p == ',';
	}
	return false;
}

bool approval_by_requester(const struct approval_requester *rq, const char *op_name,
			   const char *op_email, const char *key_fp, const char *key_principals)
{
	char first[256];
	size_t k = key_principals ? strcspn(key_principals, ",") : 0;
	struct policy_request r;
	struct policy_approval a;

	snprintf(first, sizeof first, "%.*s", (int)(k < sizeof first ? k : sizeof first - 1),
		 key_principals ? key_principals : "");
	memset(&r, 0, sizeof r);
	r.author_email = rq->author_email;
	r.signer = rq->signer;
	r.signer_principals = rq->signer_principals;
	r.signer_key = rq->signer_key;
	memset(&a, 0, sizeof a);
	a.shape = POLICY_APPROVAL_OK;
	a.sig = POLICY_SIG_GOOD;
	a.principal = first;
	a.principals = key_principals;
	a.key = key_fp;
	a.author_email = op_email;
	if (policy_approval_by_author(&r, &a))
		return true;
	return (op_email && *op_email && rq->signer && strcasecmp(op_email, rq->signer) == 0) ||
	       listed(rq->signer_principals, op_email, true) ||
	       (op_name && *op_name && rq->signer && strcmp(op_name, rq->signer) == 0) ||
	       listed(rq->signer_principals, op_name, false);
}
