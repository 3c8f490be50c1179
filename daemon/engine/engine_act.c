/* engine_act.c - carrying out a cycle's decisions, one git transaction
 * at a time (gitops_change_start: fetch, edit re-applied on the fresh tip,
 * gate, push never forced, then notes and the request-branch deletion). */
#include "engine_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct engine_request *action_request(struct engine *e, const struct engine_action *a)
{
	for (size_t i = 0; i < e->req_hi; i++)
		if (e->req[i].used && strcmp(e->req[i].name, a->req_name) == 0 &&
		    strcmp(e->req[i].id, a->req_id) == 0)
			return &e->req[i];
	return NULL;
}

/* Threadpool: a rollback's merge records the release it replaces
 * (Rolled-Back-From:), decided on the cycle's tip; on a fresh tip where
 * the stage runs another one, that record would be false. */
static bool still_runs(struct engine_action *a, const char *old, size_t oldlen)
{
	struct layout l;
	struct buf tag = BUF_INIT, err = BUF_INIT;
	bool same = false;

	if (layout_resolve(&l, &a->rules.r, old, oldlen, &err) == 0) {
		same = layout_current(&tag, &l, &err) == 0 && tag.data &&
		       strcmp(tag.data, a->rolled_back_from) == 0;
		layout_release(&l);
	}
	buf_release(&tag);
	buf_release(&err);
	return same;
}

/* Threadpool: the stage's values file on the fresh tip with every image's
 * tag set to the release, where the mapping says (layout.h: a shared tag,
 * per-image tags, image references).  The daemon re-applies the tag
 * itself: a request's own tree is never taken. */
static int set_tags_cb(struct buf *out, const char *path, const char *old, size_t oldlen,
		       void *data, struct buf *err)
{
	struct engine_action *a = data;
	struct buf doc = BUF_INIT;
	int rc;

	if (!old) {
		buf_printf(err, "'%s' does not exist on the branch", path);
		return a->edit_rc = ERR_NOTFOUND;
	}
	if (a->rolled_back_from[0] && !still_runs(a, old, oldlen)) {
		/* not an error of the edit: the next cycle decides again */
		a->moved = true;
		buf_printf(err, "%s no longer runs %.7s", stage_name(a->stage), a->rolled_back_from);
		return GITOPS_ECURRENT;
	}
	rc = layout_apply(&doc, NULL, &a->rules.r, old, oldlen, a->tag,
			  a->rules.r.digest ? a->digest_v : NULL, err);
	if (rc == 0)
		rc = buf_add(out, doc.data ? doc.data : "", doc.len);
	buf_release(&doc);
	return a->edit_rc = rc;
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

	if ((a->kind == ACT_PROMOTE || a->kind == ACT_MERGE) && engine_freeze_gate(a, err))
		return -1;
	if (!a->gated || a->break_glass)
		return 0;
	/* policy's rule (check_market), with the configuration now: a reload
	 * that withdrew the allowance withdraws it here too */
	if (a->rollback_allowance && a->e->cfg->stages[a->stage].rollback_during_market)
		return 0;
	if (engine_window_now(&w, a->e)) {
		buf_printf(err, "cannot tell whether the market is open: not pushing");
		return -1;
	}
	if ((a->bands.before_s || a->bands.after_s) && !w.open) {
		struct clock_quiet q;

		if (engine_quiet_now(&q, a->e, &a->bands)) {
			buf_printf(err, "cannot tell whether %s's guard band is on: not pushing",
				   stage_name(a->stage));
			return -1;
		}
		if (!q.in)
			return 0;
		buf_printf(err, "%s is in its guard band around the market session: a "
			   "promotion without break-glass is not pushed", stage_name(a->stage));
		return -1;
	}
	if (!w.open)
		return 0;
	clock_format_status(text, sizeof text, &w);
	buf_printf(err, "market %s: a %s promotion without break-glass is not pushed", text,
		   stage_name(a->stage));
	return -1;
}

/* The first "remote: " line the server sent, for a hook's refusal. */
static void remote_text(char *out, size_t outsz, const struct gitops_result *res)
{
	const char *t = res->remote.data, *nl;

	out[0] = '\0';
	if (!t || !res->remote.len)
		return;
	nl = memchr(t, '\n', res->remote.len);
	snprintf(out, outsz, " (%.*s)", (int)(nl ? (size_t)(nl - t) : res->remote.len), t);
}

static void after_branch(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	struct engine_request *r = a->kind == ACT_PROMOTE ? NULL : action_request(e, a);
	const char *lv[1] = { stage_name(a->stage) };
	char why[ENGINE_REASON_MAX], remote[200];

	if (res->rc == GITOPS_ECURRENT && a->moved) {
		log_info("engine", "%s no longer runs %.7s: rollback '%s' (%.7s) not merged, "
			 "decided again on the next cycle", stage_name(a->stage), a->rolled_back_from,
			 a->req_name, a->req_id);
		if (r) {
			r->state = REQ_PENDING;
			snprintf(r->message, sizeof r->message, "%s moved from %.7s since the "
				 "decision; decided again on the next cycle", stage_name(a->stage),
				 a->rolled_back_from);
		}
		return;
	}
	if (res->rc == GITOPS_ECURRENT) {
		/* another promotion got there first: no merge of nothing, no
		 * block; the next cycle refuses the request as already-current */
		log_info("engine", "%s already has %.7s: request '%s' (%.7s) not merged",
			 stage_name(a->stage), a->tag, a->req_name, a->req_id);
		if (r) {
			r->state = REQ_PENDING;
			snprintf(r->message, sizeof r->message, "%s already runs %.7s; decided again "
				 "on the next cycle", stage_name(a->stage), a->tag);
		}
		return;
	}
	if (res->rc == GITOPS_EGATE) {
		log_notice("engine", "promotion of %.7s into %s withheld: %s", a->tag,
			   stage_name(a->stage), res->error);
		if (r)
			r->state = REQ_QUEUED;
		return;
	}
	if (res->rc) {
		remote_text(remote, sizeof remote, res);
		snprintf(why, sizeof why, "promotion of %.7s into %s failed: %.780s%s", a->tag,
			 stage_name(a->stage), res->error, res->rc == GITOPS_EHOOK ? remote : "");
		engine_stage_failed(e, a->stage, res->rc, a->edit_rc, why, a->tag,
				    a->kind == ACT_MERGE ? a->req_id : "");
		if (r) {
			r->state = REQ_PENDING;
			strlcpy_(r->message, why, sizeof r->message);
		}
		return;
	}
	engine_stage_ok(e, a->stage);
	e->promoted = true;
	if (r) {
		r->state = REQ_MERGED;
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

/* Every request at the action's commit now sees text as its note (the
 * note is the commit's, whichever branch pushed it). */
static void note_pushed(struct engine *e, const struct engine_action *a)
{
	for (size_t i = 0; i < e->req_hi; i++) {
		struct engine_request *q = &e->req[i];
		if (!q->used || !q->facts || strcmp(q->id, a->req_id) != 0)
			continue;
		q->note_declined[0] = '\0';
		free(q->facts->note);
		q->facts->note = xstrndup(a->note.data ? a->note.data : "", a->note.len);
	}
}

/* A queue-full note (the branch waits for a slot, engine_decide.c). */
static void after_waiting_note(struct engine *e, struct engine_action *a,
			       struct gitops_result *res, struct engine_waiting *w)
{
	if (res->rc == GITOPS_EHOOK) {
		log_warn("git", "a hook declined the note on request '%s' (%.7s): %s; not "
			 "retried until the branch changes", a->req_name, a->req_id, res->error);
		w->declined = true;
	} else if (res->rc) {
		log_warn("git", "cannot push the note on request '%s' (%.7s): %s, retrying next "
			 "cycle", a->req_name, a->req_id, res->error);
	} else {
		/* not journalled per branch: the condition was, once */
		free(w->note);
		w->note = xstrndup(a->note.data ? a->note.data : "", a->note.len);
	}
}

static void after_note(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	struct engine_request *r = action_request(e, a);
	struct engine_waiting *w = r ? NULL : engine_waiting_find(e, a->req_name, a->req_id);

	if (w) {
		after_waiting_note(e, a, res, w);
		return;
	}

	if (res->rc == GITOPS_EHOOK && r) {
		/* the server's policy: the same push would be declined again */
		if (!r->note_declined[0])
			log_warn("git", "a hook declined the note on request '%s' (%.7s): %s; not "
				 "retried until the branch or the configuration changes",
				 a->req_name, a->req_id, res->error);
		strlcpy_(r->note_declined, e->scan ? e->scan->tip : "", sizeof r->note_declined);
		r->note_declined_gen = e->cfg_gen;
		return;
	}
	if (res->rc) {
		log_warn("git", "cannot push the note on request '%s' (%.7s): %s, retrying next "
			 "cycle", a->req_name, a->req_id, res->error);
		return;
	}
	note_pushed(e, a);
	log_info("git", "note on request '%s' (%.7s) pushed", a->req_name, a->req_id);
}

static void after_cleanup(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	if (res->rc) {
		log_warn("git", "cannot delete merged request branch '%s': %s", a->req_name,
			 res->error);
		return;
	}
	if (a->note.len)
		note_pushed(e, a);
	log_info("git", "merged request branch '%s' deleted%s", a->req_name,
		 a->note.len ? ", its accepted note written" : "");
}

/* A refused request branch deleted for its age: journalled once, as the
 * branch is gone after it (its note stays on the commit). */
static void after_expire(struct engine *e, struct engine_action *a, struct gitops_result *res)
{
	struct engine_request *r = action_request(e, a);
	struct engine_waiting *w = r ? NULL : engine_waiting_find(e, a->req_name, a->req_id);
	char age[32];

	if (r)
		r->expiring = false;
	if (w)
		w->expiring = false;
	if (res->rc == GITOPS_EHOOK) {
		log_warn("git", "a hook declined the deletion of refused request branch '%s': %s; "
			 "not retried until the branch changes", a->req_name, res->error);
		if (r)
			r->expiring = true;	/* kept until the branch moves (request_reset) */
		if (w)
			w->declined = true;
		return;
	}
	if (res->rc) {
		log_warn("git", "cannot delete refused request branch '%s': %s, retrying next "
			 "cycle", a->req_name, res->error);
		return;
	}
	if (r)
		r->expiring = true;	/* gone: "is gone" is not said again */
	e->expired++;
	format_duration(age, sizeof age, e->cfg->requests.expire_refused_ms);
	log_notice("engine", "refused request branch '%s' (%.7s) deleted: its tip is older than "
		   "requests.expireRefused (%s); the refusal note stays on the commit",
		   a->req_name, a->req_id, age);
}

static void act_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct engine_action *a = data;
	struct engine *e = a->e;

	for (size_t k = 0; k < a->nbatch; k++)
		if (a->kind == ACT_NOTE)
			after_note(e, a->batch[k], res);
		else
			after_expire(e, a->batch[k], res);
	if (a->kind == ACT_NOTE)
		after_note(e, a, res);
	else if (a->kind == ACT_DEPLOY_NOTE && a->done)
		a->done(e, a, res);
	else if (a->kind == ACT_CLEANUP)
		after_cleanup(e, a, res);
	else if (a->kind == ACT_EXPIRE)
		after_expire(e, a, res);
	else
		after_branch(e, a, res);
	e->current_action = NULL;
	e->iaction++;
	engine_phase_done(e, PHASE_AGAIN);
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
	case ACT_DEPLOY_NOTE:
		c->gate = NULL;
		c->note_target = a->req_id;
		c->note_text = a->note.data;
		c->notes_ref = GITOPS_DEPLOY_NOTES_REF;
		return;
	case ACT_CLEANUP:
		c->edit = refuse_edit_cb;
		/* the accepted note, when the remote's differs (a crash
		 * between the push of the branch and this one) */
		if (a->note.len) {
			c->note_target = a->req_id;
			c->note_text = a->note.data;
		}
		break;
	case ACT_EXPIRE:
		/* the deletion alone, and only while the branch is at this tip */
		c->gate = NULL;
		snprintf(a->delete_ref, sizeof a->delete_ref, "refs/heads/%s", a->req_name);
		c->delete_ref = a->delete_ref;
		c->delete_expect = a->req_id;
		return;
	case ACT_MERGE:
		c->edit = set_tags_cb;
		if (a->freeze_path[0]) {
			c->peek_path = a->freeze_path;
			c->peek = engine_freeze_peek_cb;
		}
		a->author.name = a->author_name;
		a->author.email = a->author_email;
		c->author = &a->author;
		c->note_target = a->req_id;
		c->note_text = a->note.data;
		break;
	case ACT_PROMOTE:
		c->edit = set_tags_cb;
		if (a->freeze_path[0]) {
			c->peek_path = a->freeze_path;
			c->peek = engine_freeze_peek_cb;
		}
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

/* The cycle's later refusal notes (or expired-branch deletions) ride
 * along with a's transaction: one fetch and one push for hundreds of
 * them, not one each.  Notes are on different commits (and a later one
 * for the same commit wins, as it would one by one), deletions on
 * different branches, so the order among them does not matter. */
static void batch_fill(struct engine *e, struct engine_action *a)
{
	size_t cap = a->kind == ACT_NOTE ? ENGINE_NOTES_PER_PUSH : GITOPS_MAX_DELETES - 1, n = 0;

	if (a->kind != ACT_NOTE && a->kind != ACT_EXPIRE)
		return;
	a->batch = calloc(cap, sizeof *a->batch);
	a->batch_a = calloc(cap, sizeof *a->batch_a);
	a->batch_b = calloc(cap, sizeof *a->batch_b);
	if (!a->batch || !a->batch_a || !a->batch_b)
		return;		/* one by one then */
	for (size_t i = e->iaction + 1; i < e->nactions && n < cap; i++) {
		struct engine_action *b = e->actions[i];
		if (b->kind != a->kind || b->batched)
			continue;
		b->batched = true;
		a->batch[n] = b;
		a->batch_a[n] = b->req_id;
		if (a->kind == ACT_NOTE) {
			a->batch_b[n] = b->note.data ? b->note.data : "";
		} else {
			snprintf(b->delete_ref, sizeof b->delete_ref, "refs/heads/%s", b->req_name);
			a->batch_a[n] = b->delete_ref;
			a->batch_b[n] = b->req_id;
		}
		n++;
	}
	a->nbatch = n;
	if (a->kind == ACT_NOTE) {
		a->chg.more_note_targets = a->batch_a;
		a->chg.more_note_texts = a->batch_b;
		a->chg.nmore_notes = n;
	} else {
		a->chg.more_delete_refs = a->batch_a;
		a->chg.more_delete_expects = a->batch_b;
		a->chg.nmore_deletes = n;
	}
}

enum phase_result engine_actions_step(struct engine *e)
{
	while (e->iaction < e->nactions) {
		struct engine_action *a = e->actions[e->iaction];
		if (a->batched) {
			e->iaction++;	/* done with the action that carried it */
			continue;
		}
		change_fill(a);
		batch_fill(e, a);
		a->started_ms = uv_now(e->loop);
		if (gitops_change_start(e->git, e->loop, &a->chg, act_done_cb, a) == 0) {
			e->current_action = a;
			return PHASE_WAIT;
		}
		log_err("git", "cannot start a transaction for %s: %s", stage_name(a->stage),
			gitops_error(e->git));
		e->iaction++;
	}
	return PHASE_NEXT;
}

void engine_actions_release(struct engine *e)
{
	for (size_t i = 0; i < e->nactions; i++)
		engine_action_free(e->actions[i]);
	free(e->actions);
	e->actions = NULL;
	e->nactions = e->iaction = 0;
}

/* ---- what a promotion's outcome means for its stage ---- */

static void blocked_metric(struct engine *e, enum stage st, bool on)
{
	const char *lv[1] = { stage_name(st) };

	if (e->metrics && e->metrics->stage_blocked)
		metrics_set(e->metrics->stage_blocked, lv, on ? 1 : 0);
}

static void unblock(struct engine *e, enum stage st, const char *why)
{
	struct engine_block *b = &e->stages[st].block;
	char since[32];

	format_duration(since, sizeof since,
			(uint64_t)((int64_t)time(NULL) - b->since) * 1000);
	if (!engine_block_clear(b))
		return;
	blocked_metric(e, st, false);
	log_notice("engine", "stage %s is no longer blocked (blocked for %s): %s", stage_name(st),
		   since, why);
}

static void block(struct engine *e, enum stage st, enum block_source src, const char *reason,
		  const char *tag, const char *req)
{
	struct engine_block *b = &e->stages[st].block;
	const char *tip = e->scan ? e->scan->tip : "";

	if (!engine_block_set(b, src, reason, (int64_t)time(NULL), tip, tag, req, e->cfg_gen))
		return;
	blocked_metric(e, st, true);
	log_err("engine", "stage %s is blocked: %s; not retried until %s", stage_name(st), reason,
		src == BLOCK_LAYOUT ? "the branch or the configuration changes" :
		"the branch, the release or the configuration changes");
}

void engine_stage_ok(struct engine *e, enum stage st)
{
	struct engine_stage_state *s = &e->stages[st];

	if (s->block.on)
		unblock(e, st, "a promotion into it succeeded");
	/* "recovered" only after a success that follows failures */
	if (s->failures)
		log_notice("engine", "promotion into %s recovered after %u failure(s)",
			   stage_name(st), s->failures);
	s->failures = 0;
	s->error[0] = '\0';
	s->error_at = 0;
	s->retry_at_ms = 0;
}

void engine_stage_failed(struct engine *e, enum stage st, int rc, int edit_rc, const char *why,
			 const char *tag, const char *req)
{
	struct engine_stage_state *s = &e->stages[st];
	uint64_t poll = e->cfg->registry.poll_interval_ms, wait;
	char delay[32];

	if (engine_fail_classify(rc, edit_rc) == ENGINE_FAIL_PERMANENT) {
		block(e, st, BLOCK_ACTION, why, tag, req);
		return;
	}
	s->failures++;
	strlcpy_(s->error, why, sizeof s->error);
	s->error_at = (int64_t)time(NULL);
	wait = engine_backoff_ms(poll, s->failures, (unsigned)rand_r(&e->seed));
	s->retry_at_ms = uv_now(e->loop) + wait;
	format_duration(delay, sizeof delay, wait);
	/* once per outage at error level; repeats are debug noise */
	if (s->failures == 1)
		log_err("git", "%s, retrying in %s", why, delay);
	else
		log_debug("git", "still failing (%u), retrying in %s: %s", s->failures, delay, why);
}

void engine_stage_layout(struct engine *e, enum stage st, const char *error)
{
	struct engine_block *b = &e->stages[st].block;

	if (error && *error)
		block(e, st, BLOCK_LAYOUT, error, "", "");
	else if (b->on && b->source == BLOCK_LAYOUT)
		unblock(e, st, "its values file at the tip satisfies the mapping");
	else if (b->on && !e->cfg->stages[st].enabled)
		unblock(e, st, "the stage is disabled");
}

bool engine_stage_may_act(const struct engine *e, enum stage st, const char *tag,
			  const char *req, char *why, size_t whysz)
{
	const struct engine_stage_state *s = &e->stages[st];
	uint64_t now = uv_now(e->loop);
	char delay[32];

	if (!engine_block_allows(&s->block, e->scan ? e->scan->tip : "", tag, req, e->cfg_gen)) {
		snprintf(why, whysz, "stage %s is blocked: %s", stage_name(st), s->block.reason);
		return false;
	}
	if (now < s->retry_at_ms) {
		format_duration(delay, sizeof delay, s->retry_at_ms - now);
		snprintf(why, whysz, "retrying in %s: %s", delay, s->error);
		return false;
	}
	return true;
}

/* What a failed promotion means for its stage (engine_block.c holds the
 * block itself): permanent failures block it, the rest back off. */
enum engine_fail engine_fail_classify(int rc, int edit_rc)
{
	if (rc == 0)
		return ENGINE_FAIL_NONE;
	/* the edit ran and refused: the bytes at the tip (layout, YAML, a
	 * missing file) or the release's own values; a fresh fetch of the
	 * same tip gives the same answer.  Only running out of memory is
	 * worth another try. */
	if (edit_rc && edit_rc != ERR_NOMEM)
		return ENGINE_FAIL_PERMANENT;
	switch (rc) {
	case GITOPS_EHOOK:	/* the server's policy said no, not a race */
		return ENGINE_FAIL_PERMANENT;
	default:
		/* ERR_TIMEOUT, GITOPS_ENONFF and ERR_REJECTED (raced after the
		 * transaction's own retries), ERR_FAIL/ERR_IO (the helper or
		 * the network), GITOPS_EHOSTKEY/EAUTH (ls-remote fails on
		 * those as well and backs off the whole engine) */
		return ENGINE_FAIL_TRANSIENT;
	}
}
