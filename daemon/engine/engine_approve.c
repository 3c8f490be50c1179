/* engine_approve.c - the dashboard's Approve button (issue 14 item 3): an
 * operator who is not the requester approves a request waiting
 * approval-required.  The approval commit is built by approval.h, the
 * builder pipelinectl approve uses, signed with [http] approvalKey, with
 * the operator as its author and in an Operator: trailer, and pushed as a
 * fast-forward of the tip the operator saw.  The next cycle judges it like
 * any other approval, so the merge's Approved-By names the operator.  It
 * shares engine_promote.c's mirror and its one-job-at-a-time slot. */
#include "approval.h"
#include "dashboard.h"
#include "engine_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct approve_job {
	struct engine *e;
	struct dashboard_approve req;
	dashboard_reply_fn reply;
	void *reply_arg;
	char ref[300];
	char key[4096];			/* copy: the config may be swapped meanwhile */
	struct approval_made made;
	char error[1024];
};

static void job_finish(struct approve_job *j, int rc, const char *message)
{
	struct engine *e = j->e;

	if (rc)
		log_warn("engine", "dashboard approval of '%s' by %s <%s> from %s failed: %s",
			 j->req.branch, j->req.author_name, j->req.author_email, j->req.remote,
			 message);
	else
		log_notice("engine", "dashboard approval %.12s of '%s' by %s <%s> from %s",
			   j->made.commit, j->req.branch, j->req.author_name, j->req.author_email,
			   j->req.remote);
	j->reply(j->reply_arg, rc, rc ? NULL : j->made.commit, message);
	free(j);
	e->promote_job = NULL;
	if (rc == 0)
		engine_trigger(e, "dashboard approval");
	engine_maybe_close(e);
}

static void push_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct approve_job *j = data;
	char msg[1400];

	(void)g;
	if (res->rc) {
		snprintf(msg, sizeof msg, "push of the approval to '%.200s' failed (did the branch "
			 "move? reload and try again): %.1000s", j->req.branch, res->error);
		job_finish(j, res->rc == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_FAIL, msg);
		return;
	}
	snprintf(msg, sizeof msg, "approval %.7s of request %.7s pushed to %.200s; the daemon "
		 "judges it on its next cycle", j->made.commit, j->made.request, j->req.branch);
	job_finish(j, 0, msg);
}

/* Threadpool: the approval on the fetched tip, at the local ref. */
static int build_work_cb(struct gitops *g, void *data)
{
	struct approve_job *j = data;
	struct gitops_person author = { j->req.author_name, j->req.author_email, 0, 0, true };
	char tip[GITOPS_HEXSZ + 1], tracking[320];
	int rc;

	snprintf(tracking, sizeof tracking, GITOPS_TRACKING "heads/%s", j->req.branch);
	if (gitops_resolve(tip, g, tracking)) {
		snprintf(j->error, sizeof j->error, "there is no request branch '%s' on the remote",
			 j->req.branch);
		return ERR_NOTFOUND;
	}
	if (strcmp(tip, j->req.commit) != 0) {
		snprintf(j->error, sizeof j->error, "'%s' moved since the page showed it (now at "
			 "%.7s, not %.7s): reload and look again", j->req.branch, tip,
			 j->req.commit);
		return ERR_REJECTED;
	}
	rc = approval_build(&j->made, g, &(struct approval_spec){
		.stage = j->req.stage, .branch = j->req.branch, .tip = tip, .author = &author,
		.email = j->req.author_email, .operator_name = j->req.author_name,
		.signing_key = j->key }, j->error, sizeof j->error);
	if (rc == 0 && gitops_ref_set(g, j->ref, j->made.commit)) {
		snprintf(j->error, sizeof j->error, "%s", gitops_error(g));
		rc = ERR_FAIL;
	}
	return rc;
}

static void build_done_cb(struct gitops *g, int rc, void *data)
{
	struct approve_job *j = data;

	if (rc) {
		job_finish(j, rc == ERR_FAIL || rc == ERR_NOMEM ? ERR_FAIL : rc, j->error);
		return;
	}
	if (gitops_push_start(g, j->e->loop, j->ref, j->ref, j->req.commit, push_done_cb, j))
		job_finish(j, ERR_FAIL, gitops_error(g));
}

static void fetch_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct approve_job *j = data;
	char msg[1100];
	int rc = engine_request_fetched(g, res, j->e, build_work_cb, build_done_cb, j, msg,
					sizeof msg);

	if (rc)
		job_finish(j, rc, msg);
}

static const struct engine_request *find_request(const struct engine *e, const char *branch)
{
	for (size_t i = 0; i < e->req_hi; i++)
		if (e->req[i].used && strcmp(e->req[i].name, branch) == 0)
			return &e->req[i];
	return NULL;
}

/* What the daemon knows now, judged before any git work. */
static int precheck(char *why, size_t whysz, const struct engine *e,
		    const struct dashboard_approve *req)
{
	const struct config *cfg = e->cfg;
	const struct config_stage *cs = &cfg->stages[req->stage];
	const struct engine_request *r;
	struct approval_requester rq;

	if (e->stopping)
		return snprintf(why, whysz, "the daemon is stopping"), ERR_FAIL;
	if (!cs->approvals)
		return snprintf(why, whysz, "stage '%s' takes no approvals (no 'approvals' in its "
				"configuration); its requests need none", stage_name(req->stage)),
		       ERR_REJECTED;
	if (!cfg->http.approval_key)
		return snprintf(why, whysz, "the dashboard cannot approve: no [http] approvalKey "
				"is configured (approve with: pipelinectl approve %.200s)",
				req->branch), ERR_REJECTED;
	if (!(r = find_request(e, req->branch)))
		return snprintf(why, whysz, "no request '%.200s' is waiting", req->branch),
		       ERR_NOTFOUND;
	if (!r->facts || r->state == REQ_PENDING)
		return snprintf(why, whysz, "'%.200s' is still being judged; try again in a "
				"moment", req->branch), ERR_REJECTED;
	if (r->state == REQ_MERGING || r->state == REQ_MERGED)
		return snprintf(why, whysz, "'%.200s' is decided already (%s)", req->branch,
				r->state == REQ_MERGED ? "merged" : "being merged"), ERR_REJECTED;
	if (r->code != POLICY_APPROVAL_REQUIRED)
		return snprintf(why, whysz, "'%.200s' is not waiting for an approval (%s: "
				"%.300s)", req->branch, policy_code_name(r->code), r->message),
		       ERR_REJECTED;
	if (strcmp(r->id, req->commit) != 0)
		return snprintf(why, whysz, "'%.200s' moved since the page showed it (now at "
				"%.7s): reload and look again", req->branch, r->id), ERR_REJECTED;
	rq = (struct approval_requester){
		.author_email = r->facts->author_email, .signer = r->signer,
		.signer_principals = r->signer_principals, .signer_key = r->signer_key };
	if (approval_by_requester(&rq, req->author_name, req->author_email,
				  cfg->http.approval_key_fp, cs->approval_principals))
		return snprintf(why, whysz, "you (%s <%s>) requested '%.200s' (author %.100s, "
				"signed by %.100s): someone else must approve it", req->author_name,
				req->author_email, req->branch,
				r->facts->author_email ? r->facts->author_email : "?",
				*r->signer ? r->signer : "?"), ERR_REJECTED;
	if (e->promote_job)
		return snprintf(why, whysz, "another dashboard request is being written; try "
				"again"), ERR_REJECTED;
	return 0;
}

void engine_dashboard_approve(void *arg, const struct dashboard_approve *req,
			      dashboard_reply_fn reply, void *reply_arg)
{
	struct engine *e = arg;
	struct approve_job *j;
	char why[1024];
	int rc = precheck(why, sizeof why, e, req);

	if (rc) {
		reply(reply_arg, rc, NULL, why);
		return;
	}
	if (engine_request_git(e, why, sizeof why)) {
		reply(reply_arg, ERR_FAIL, NULL, why);
		return;
	}
	if (!(j = calloc(1, sizeof *j))) {
		reply(reply_arg, ERR_NOMEM, NULL, "out of memory");
		return;
	}
	j->e = e;
	j->req = *req;
	j->reply = reply;
	j->reply_arg = reply_arg;
	snprintf(j->ref, sizeof j->ref, "refs/heads/%s", req->branch);
	strlcpy_(j->key, e->cfg->http.approval_key, sizeof j->key);
	e->promote_job = j;
	if (gitops_fetch_start(e->req_git, e->loop, fetch_done_cb, j))
		job_finish(j, ERR_FAIL, gitops_error(e->req_git));
}
