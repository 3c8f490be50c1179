/* engine_promote.c - the dashboard's write path (dashboard.h): a promotion
 * request created exactly as `pipelinectl promote` creates it (a branch
 * promote/<stage>/<name> with one commit on the tracked branch's tip that
 * sets the stage's tags, message from trailer_format_request), pushed, and
 * then decided by the same cycle and gates as any other request.  It uses
 * a mirror of its own so that it never waits for a cycle's git work. */
#include "dashboard.h"
#include "engine_int.h"
#include "log.h"
#include "layout.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct promote_job {
	struct engine *e;
	struct dashboard_promote req;
	dashboard_reply_fn reply;
	void *reply_arg;
	char branch[160];
	char ref[200];
	char values_path[512];
	struct engine_rules rules;	/* copy: the config may be swapped meanwhile */
	struct buf msg;
	int rc;
	char error[512];
};

static void job_finish(struct promote_job *j, int rc, const char *message)
{
	struct engine *e = j->e;

	if (rc)
		log_warn("engine", "dashboard request by %s <%s> from %s failed: %s",
			 j->req.author_name, j->req.author_email, j->req.remote, message);
	else
		log_notice("engine", "dashboard request '%s' created by %s <%s> from %s", j->branch,
			   j->req.author_name, j->req.author_email, j->req.remote);
	j->reply(j->reply_arg, rc, rc ? NULL : j->branch, message);
	engine_rules_release(&j->rules);
	buf_release(&j->msg);
	free(j);
	e->promote_job = NULL;
	if (rc == 0)
		engine_trigger(e, "dashboard request");
	engine_maybe_close(e);
}

static void push_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct promote_job *j = data;
	char msg[1400];

	if (res->rc) {
		snprintf(msg, sizeof msg, "push of '%.160s' failed: %.1100s", j->branch, res->error);
		job_finish(j, res->rc == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_FAIL, msg);
		return;
	}
	job_finish(j, 0, "request pushed; the daemon decides it on its next cycle");
}

/* Threadpool: the commit on the fetched tip (request.h, the builder
 * pipelinectl promote uses), at a local ref. */
static int build_work_cb(struct gitops *g, void *data)
{
	struct promote_job *j = data;
	struct gitops_person author = { j->req.author_name, j->req.author_email, 0, 0, true };
	struct request_spec rs = {
		.branch = j->branch, .base = gitops_tracking_branch(g),
		.values_path = j->values_path, .rules = &j->rules.r, .tag = j->req.tag,
		.message = j->msg.data, .author = &author,
	};
	struct buf err = BUF_INIT;
	char tip[GITOPS_HEXSZ + 1], id[GITOPS_HEXSZ + 1];
	int rc = request_commit_build(id, tip, g, &rs, &err);

	if (rc == 0 && (rc = gitops_ref_set(g, j->ref, id)))
		buf_seterr(&err, "%s", gitops_error(g));
	if (rc)
		snprintf(j->error, sizeof j->error, "%.500s", err.data ? err.data : "cannot build");
	buf_release(&err);
	/* an existing branch or an edit refused is the request's fault */
	return rc == ERR_REJECTED ? ERR_INVALID : rc;
}

static void build_done_cb(struct gitops *g, int rc, void *data)
{
	struct promote_job *j = data;

	if (rc) {
		job_finish(j, rc == ERR_INVALID ? ERR_INVALID : ERR_FAIL, j->error);
		return;
	}
	if (gitops_push_start(g, j->e->loop, j->ref, j->ref, "", push_done_cb, j))
		job_finish(j, ERR_FAIL, gitops_error(g));
}

static void fetch_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct promote_job *j = data;
	char msg[1100];
	int rc = engine_request_fetched(g, res, j->e, build_work_cb, build_done_cb, j, msg,
					sizeof msg);

	if (rc)
		job_finish(j, rc, msg);
}

/* The checks pipelinectl promote makes before it builds anything. */
static int precheck(char *why, size_t whysz, const struct engine *e,
		    const struct dashboard_promote *req)
{
	const struct config_stage *cs = &e->cfg->stages[req->stage];

	if (e->stopping)
		return snprintf(why, whysz, "the daemon is stopping"), ERR_FAIL;
	if (!cs->enabled)
		return snprintf(why, whysz, "stage '%s' is disabled", stage_name(req->stage)),
		       ERR_REJECTED;
	if (cs->require_notes && trailer_text_blank(req->notes))
		return snprintf(why, whysz, "stage '%s' requires notes", stage_name(req->stage)),
		       ERR_INVALID;
	if (cs->require_signature)
		return snprintf(why, whysz, "stage '%s' accepts only signed requests: commit the "
				"bump with 'git commit -S' on a branch promote/%s/<name>",
				stage_name(req->stage), stage_name(req->stage)), ERR_REJECTED;
	if (e->promote_job)
		return snprintf(why, whysz, "another request is being created; try again"),
		       ERR_REJECTED;
	/* a request could not be merged into a blocked stage either */
	if (e->stages[req->stage].block.on)
		return snprintf(why, whysz, "stage '%s' is blocked: %s", stage_name(req->stage),
				e->stages[req->stage].block.reason), ERR_REJECTED;
	return 0;
}

static int job_new(struct promote_job **out, struct engine *e, const struct dashboard_promote *req)
{
	const struct config_stage *cs = &e->cfg->stages[req->stage];
	struct promote_job *j = calloc(1, sizeof *j);

	if (!j || engine_rules_copy(&j->rules, e->cfg, req->stage)) {
		free(j);
		return ERR_NOMEM;
	}
	j->e = e;
	j->req = *req;
	strlcpy_(j->values_path, cs->values_path ? cs->values_path : "", sizeof j->values_path);
	snprintf(j->branch, sizeof j->branch, "promote/%s/%.7s-%lld", stage_name(req->stage),
		 req->tag, (long long)time(NULL));
	snprintf(j->ref, sizeof j->ref, "refs/heads/%s", j->branch);
	buf_init(&j->msg, TRAILER_FORMAT_MAX);
	*out = j;
	return trailer_format_request(&j->msg, stage_name(req->stage), req->tag,
				      trailer_text_blank(req->notes) ? NULL : req->notes,
				      req->break_glass_given ? req->break_glass : NULL,
				      req->rollback ? req->rollback_reason : NULL);
}

int engine_request_git(struct engine *e, char *why, size_t whysz)
{
	struct buf err = BUF_INIT;
	char mirror[1024];
	int rc = 0;

	if (!e->req_git && (rc = engine_git_open(&e->req_git, mirror, sizeof mirror, e->cfg,
						 e->worker, "requests", &err)))
		snprintf(why, whysz, "%s", err.data ? err.data : "cannot open the mirror");
	buf_release(&err);
	return rc;
}

int engine_request_fetched(struct gitops *g, const struct gitops_result *res, struct engine *e,
			   gitops_work_fn *work, gitops_work_done_cb *done, void *job, char *msg,
			   size_t msgsz)
{
	if (res->rc) {
		snprintf(msg, msgsz, "fetch failed: %.1024s", res->error);
		return res->rc == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_FAIL;
	}
	if (gitops_queue(g, e->loop, work, done, job)) {
		snprintf(msg, msgsz, "%s", gitops_error(g));
		return ERR_FAIL;
	}
	return 0;
}

void engine_dashboard_promote(void *arg, const struct dashboard_promote *req,
			      dashboard_reply_fn reply, void *reply_arg)
{
	struct engine *e = arg;
	struct promote_job *j = NULL;
	char why[ENGINE_REASON_MAX + 128];	/* a block's whole reason, with the stage */
	int rc = precheck(why, sizeof why, e, req);

	if (rc) {
		reply(reply_arg, rc, NULL, why);
		return;
	}
	if (engine_request_git(e, why, sizeof why)) {
		reply(reply_arg, ERR_FAIL, NULL, why);
		return;
	}
	if ((rc = job_new(&j, e, req))) {
		if (j) {
			j->reply = reply;
			j->reply_arg = reply_arg;
			e->promote_job = j;
			job_finish(j, ERR_INVALID, "notes or justification cannot be written as a "
				   "trailer");
		} else {
			reply(reply_arg, ERR_NOMEM, NULL, "out of memory");
		}
		return;
	}
	j->reply = reply;
	j->reply_arg = reply_arg;
	e->promote_job = j;
	if (gitops_fetch_start(e->req_git, e->loop, fetch_done_cb, j))
		job_finish(j, ERR_FAIL, gitops_error(e->req_git));
}
