/* engine_act.c - carrying out a cycle's decisions, one git transaction
 * at a time (gitops_change_start: fetch, edit re-applied on the fresh tip,
 * gate, push never forced, then notes and the request-branch deletion). */
#include "engine_int.h"
#include "log.h"
#include "yamledit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct engine_request *action_request(struct engine *e, const struct engine_action *a)
{
	for (size_t i = 0; i < ENGINE_MAX_REQUESTS; i++)
		if (e->req[i].used && strcmp(e->req[i].name, a->req_name) == 0 &&
		    strcmp(e->req[i].id, a->req_id) == 0)
			return &e->req[i];
	return NULL;
}

/* Threadpool: the stage's values file on the fresh tip with every tag
 * scalar set to the release.  The daemon re-applies the tag itself: a
 * request's own tree is never taken. */
static int set_tags_cb(struct buf *out, const char *path, const char *old, size_t oldlen,
		       void *data, struct buf *err)
{
	struct engine_action *a = data;
	struct yamledit_stats st;
	struct buf doc = BUF_INIT;
	int rc;

	if (!old)
		return buf_printf(err, "'%s' does not exist on the branch", path), ERR_NOTFOUND;
	rc = yamledit_apply(&doc, &st, old, oldlen, (const char *const *)a->tag_paths,
			    a->ntag_paths, a->tag, err);
	if (rc)
		return rc;
	/* a partial set is never deployed: one tag scalar per configured image */
	if (st.matched != a->nimages) {
		buf_printf(err, "the tag paths match %zu tag(s) but %zu images are configured",
			   st.matched, a->nimages);
		rc = ERR_REJECTED;
	} else {
		rc = buf_add(out, doc.data ? doc.data : "", doc.len);
	}
	buf_release(&doc);
	return rc;
}

/* Clean-up only: the merge is expected on the branch already.  Were it
 * not, this refuses instead of merging without a policy check. */
static int refuse_edit_cb(struct buf *out, const char *path, const char *old, size_t oldlen,
			  void *data, struct buf *err)
{
	return buf_printf(err, "request is not merged; not cleaning up"), ERR_REJECTED;
}

/* Loop thread, right before each push (SPEC 5 invariant). */
static int gate_cb(void *data, struct buf *err)
{
	struct engine_action *a = data;
	struct window w;
	char text[128];

	if (!a->gated || a->break_glass)
		return 0;
	if (engine_window_now(&w, a->e)) {
		buf_printf(err, "cannot tell whether the market is open: not pushing");
		return -1;
	}
	if (!w.open)
		return 0;
	clock_format_status(text, sizeof text, &w);
	buf_printf(err, "market %s: a %s promotion without break-glass is not pushed", text,
		   stage_name(a->stage));
	return -1;
}

static void after_branch(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	struct engine_request *r = a->kind == ACT_PROMOTE ? NULL : action_request(e, a);
	const char *lv[1] = { stage_name(a->stage) };

	if (res->rc == GITOPS_EGATE) {
		log_notice("engine", "promotion of %.7s into %s withheld: %s", a->tag,
			   stage_name(a->stage), res->error);
		if (r)
			r->state = REQ_QUEUED;
		return;
	}
	if (res->rc) {
		engine_set_error(e, SUB_GIT, "promotion of %.7s into %s failed: %s", a->tag,
				 stage_name(a->stage), res->error);
		log_err("git", "promotion of %.7s into %s failed: %s, retrying next cycle", a->tag,
			stage_name(a->stage), res->error);
		if (r)
			r->state = REQ_PENDING;
		return;
	}
	engine_clear_error(e, SUB_GIT);
	e->promoted = true;
	if (r) {
		r->state = REQ_MERGED;
		strlcpy_(r->merged_id, r->id, sizeof r->merged_id);
		snprintf(r->message, sizeof r->message, "merged by %.7s", res->commit);
	}
	if (res->already_merged || res->unchanged) {
		log_info("engine", "%.7s was already in %s (%s); nothing new pushed", a->tag,
			 stage_name(a->stage), res->already_merged ? "merged" : "unchanged");
		return;
	}
	e->promotions++;
	if (e->metrics && e->metrics->promotions)
		metrics_add(e->metrics->promotions, lv, 1);
	log_notice("engine", "promoted %.7s into %s: commit %.7s pushed (%u push(es), %llums)",
		   a->tag, stage_name(a->stage), res->commit, res->attempts,
		   (unsigned long long)res->elapsed_ms);
}

static void after_note(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	struct engine_request *r = action_request(e, a);

	if (res->rc) {
		log_warn("git", "cannot push the note on request '%s' (%.7s): %s, retrying next "
			 "cycle", a->req_name, a->req_id, res->error);
		return;
	}
	if (r && r->facts) {
		free(r->facts->note);
		r->facts->note = xstrndup(a->note.data ? a->note.data : "", a->note.len);
	}
	log_info("git", "note on request '%s' (%.7s) pushed", a->req_name, a->req_id);
}

static void after_cleanup(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	if (res->rc)
		log_warn("git", "cannot delete merged request branch '%s': %s", a->req_name,
			 res->error);
	else
		log_info("git", "merged request branch '%s' deleted", a->req_name);
}

static void run_next(struct engine *e);

static void act_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct engine_action *a = data;
	struct engine *e = a->e;

	if (a->kind == ACT_NOTE)
		after_note(e, a, res);
	else if (a->kind == ACT_CLEANUP)
		after_cleanup(e, a, res);
	else
		after_branch(e, a, res);
	e->current_action = NULL;
	e->iaction++;
	run_next(e);
}

static void change_fill(struct engine_action *a)
{
	struct gitops_change *c = &a->chg;

	memset(c, 0, sizeof *c);
	c->data = a;
	c->gate = gate_cb;
	switch (a->kind) {
	case ACT_NOTE:
		c->note_target = a->req_id;
		c->note_text = a->note.data;
		return;
	case ACT_CLEANUP:
		c->edit = refuse_edit_cb;
		break;
	case ACT_MERGE:
		c->edit = set_tags_cb;
		a->author.name = a->author_name;
		a->author.email = a->author_email;
		c->author = &a->author;
		c->note_target = a->req_id;
		c->note_text = a->note.data;
		break;
	case ACT_PROMOTE:
		c->edit = set_tags_cb;
		c->paths = a->paths;
		c->npaths = 1;
		c->message = a->message.data;
		return;
	}
	snprintf(a->delete_ref, sizeof a->delete_ref, "refs/heads/%s", a->req_name);
	c->paths = a->paths;
	c->npaths = 1;
	c->message = a->message.data;
	c->merge = a->req_id;
	c->delete_ref = a->delete_ref;
}

static void run_next(struct engine *e)
{
	while (!e->stopping && e->iaction < e->nactions) {
		struct engine_action *a = e->actions[e->iaction];
		change_fill(a);
		a->started_ms = uv_now(e->loop);
		if (gitops_change_start(e->git, e->loop, &a->chg, act_done_cb, a) == 0) {
			e->current_action = a;
			return;
		}
		log_err("git", "cannot start a transaction for %s: %s", stage_name(a->stage),
			gitops_error(e->git));
		e->iaction++;
	}
	for (size_t i = 0; i < e->nactions; i++)
		engine_action_free(e->actions[i]);
	free(e->actions);
	e->actions = NULL;
	e->nactions = e->iaction = 0;
	engine_cycle_done(e);
}

void engine_actions_run(struct engine *e)
{
	e->iaction = 0;
	run_next(e);
}
