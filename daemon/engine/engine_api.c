/* engine_api.c - the engine's state as the JSON of docs/api.md:
 * GET /api/v1/status and GET /api/v1/history.  Read-only views of what the
 * last cycle derived; nothing here talks to Git or the registry. */
#include "engine_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t t)
{
	char out[40];

	if (!t)
		return json_null();
	clock_format_rfc3339(out, sizeof out, (time_t)t, 0, true);
	return json_string(out);
}

static const char *const state_names[] = {
	[REQ_PENDING] = "pending", [REQ_QUEUED] = "queued", [REQ_REFUSED] = "refused",
	[REQ_MERGING] = "merging", [REQ_MERGED] = "merged",
};

static json_t *lines_json(const char *text)
{
	json_t *a = json_array();

	for (const char *p = text; a && p && *p;) {
		size_t n = strcspn(p, "\n");

		json_array_append_new(a, json_stringn(p, n));
		p += n;
		p += *p == '\n';
	}
	return a ? a : json_null();
}

static json_t *entry_json(const struct history_entry *h)
{
	char who[600];
	json_t *j;

	snprintf(who, sizeof who, "%s <%s>", h->committer_name ? h->committer_name : "",
		 h->committer_email ? h->committer_email : "");
	j = json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}",
			 "commit", h->commit, "stage", stage_name(h->stage),
			 "source_stage", h->source < STAGE_COUNT ?
					 json_string(stage_name(h->source)) : json_null(),
			 "tag", h->tag, "request", str_or_null(h->request),
			 "requested_by", str_or_null(h->requested_by),
			 "notes", str_or_null(h->notes), "break_glass", str_or_null(h->break_glass),
			 "market", str_or_null(h->market),
			 "integration_test", str_or_null(h->integration_test),
			 "signed_by", str_or_null(h->signed_by), "committer", who,
			 "time", time_or_null(h->time), "subject", str_or_null(h->subject));
	if (j)	/* issue 13 item 6: the gates its Break-Glass bypassed */
		json_object_set_new(j, "overrode", str_or_null(h->overrode));
	if (j)	/* issue 14 item 4 */
		json_object_set_new(j, "rollback", !h->rollback ? json_null() :
				    json_pack("{s:s, s:o, s:b}", "reason", h->rollback, "from",
					      str_or_null(h->rolled_back_from), "allowance",
					      h->rollback_allowance));
	if (j)	/* issue 14 item 3: one string per Approved-By, [] when none */
		json_object_set_new(j, "approved_by", lines_json(h->approved_by));
	return j;
}

/* Why promotions into the stage do not happen: blocked (a permanent
 * error, retried when the tip, release or configuration changes) or the
 * last transient failure (retried with backoff). */
static void stage_state_json(json_t *j, const struct engine_stage_state *s)
{
	const struct engine_block *b = &s->block;

	json_object_set_new(j, "blocked", json_boolean(b->on));
	json_object_set_new(j, "blocked_reason", b->on ? json_string(b->reason) : json_null());
	json_object_set_new(j, "blocked_since", b->on ? time_or_null(b->since) : json_null());
	json_object_set_new(j, "error", str_or_null(s->error));
	json_object_set_new(j, "error_at", s->error[0] ? time_or_null(s->error_at) : json_null());
	json_object_set_new(j, "failures", json_integer((json_int_t)s->failures));
}

/* What Argo CD runs there (engine_deploy.c); null when not followed. */
static json_t *deployed_json(const struct engine *e, enum stage st)
{
	const struct engine_deployed *d = &e->deployed[st];
	const struct argocd_app *a = &d->facts;
	bool h = d->have;

	if (!engine_deploy_watched(e, st))
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:I, s:I, s:o}",
			 "application", e->cfg->stages[st].application,
			 "verdict", argocd_verdict_name(d->judged ? d->state.verdict : ARGOCD_UNKNOWN),
			 "reason", d->judged ? d->state.why : "not judged yet",
			 "revision", str_or_null(h ? a->revision : NULL),
			 "sync", str_or_null(h ? a->sync : NULL),
			 "health", str_or_null(h ? a->health : NULL),
			 "health_message", str_or_null(h ? a->health_message : NULL),
			 "operation", "phase", str_or_null(h ? a->op_phase : NULL),
			 "message", str_or_null(h ? a->op_message : NULL),
			 "finished_at", time_or_null(h ? a->op_finished : 0),
			 "images_ok", (json_int_t)(d->judged ? d->state.images_ok : 0),
			 "images_total", (json_int_t)e->cfg->registry.images.n,
			 "since", time_or_null(d->judged ? d->since : 0));
}

/* Issue 13 item 4: the link to the Application in Argo CD's UI, the
 * current promotion, and when it first ran deployed with the seconds from
 * its commit to then (null while it has not). */
static void deployed_more(json_t *j, const struct engine *e, enum stage st)
{
	const struct engine_deployed *d = &e->deployed[st];
	const struct history_entry *h = NULL;
	struct buf url = BUF_INIT;
	bool now;

	if (!json_is_object(j))
		return;
	if (argocd_ui_url(&url, e->cfg->argocd.url.url, d->have ? d->facts.app_namespace : NULL,
			  e->cfg->stages[st].application) == 0 && url.data)
		json_object_set_new(j, "url", json_string(url.data));
	else
		json_object_set_new(j, "url", json_null());
	buf_release(&url);
	if (e->scan && e->scan->hist_ok)
		h = history_latest(&e->scan->hist, st);
	now = h && strcmp(d->deployed_for, h->commit) == 0 && d->deployed_at;
	json_object_set_new(j, "promotion", h ? json_string(h->commit) : json_null());
	json_object_set_new(j, "deployed_at", time_or_null(now ? d->deployed_at : 0));
	json_object_set_new(j, "commit_to_healthy_s", now && h->time > 0 ?
			    json_integer(d->deployed_at > h->time ? d->deployed_at - h->time : 0) :
			    json_null());
}

/* Guard bands (issue 14 item 2): the stage's quiet span now or next. */
static json_t *quiet_json(const struct engine *e, enum stage st)
{
	struct clock_bands b;
	struct clock_quiet q;
	char from[40], until[40];

	engine_bands(&b, e->cfg, st);
	if (engine_quiet_now(&q, e, &b))
		return json_null();
	clock_format_rfc3339(from, sizeof from, q.from, 0, true);
	clock_format_rfc3339(until, sizeof until, q.until, 0, true);
	return json_pack("{s:I, s:I, s:b, s:s, s:s}", "before_s", (json_int_t)b.before_s,
			 "after_s", (json_int_t)b.after_s, "in", q.in, "from", from, "until", until);
}

/* Issue 14 item 4: where the Roll back button goes (the default target of
 * pipelinectl rollback), and whether the stage allows it in the window. */
static void rollback_json(json_t *j, const struct engine *e, enum stage st)
{
	char to[GITOPS_HEXSZ + 1];
	bool have = e->scan && e->scan->hist_ok &&
		    history_rollback_target(to, &e->scan->hist, st) == 0;

	json_object_set_new(j, "rollback_to", have ? json_string(to) : json_null());
	json_object_set_new(j, "rollback_during_market",
			    json_boolean(e->cfg->stages[st].rollback_during_market));
}

static json_t *stage_json(const struct engine *e, enum stage st)
{
	const struct config_stage *cs = &e->cfg->stages[st];
	struct policy_stage_cfg pc[STAGE_COUNT];
	const struct history_entry *h = NULL;
	enum stage src;
	bool deploy = stage_is_deploy(st);
	json_t *j;

	for (int i = 0; i < STAGE_COUNT; i++) {
		memset(&pc[i], 0, sizeof pc[i]);
		pc[i].enabled = e->cfg->stages[i].enabled;
	}
	if (e->scan && e->scan->hist_ok && deploy)
		h = history_latest(&e->scan->hist, st);
	j = json_pack("{s:s, s:b, s:b, s:b, s:b, s:o, s:o, s:o, s:o}", "name", stage_name(st),
		      "enabled", cs->enabled, "deploy", deploy, "auto", deploy && cs->auto_promote,
		      "market_gated", deploy && cs->market_gated,
		      "values", deploy ? str_or_null(cs->values_path) : json_null(),
		      "current_tag", deploy && e->scan && e->scan->current[st][0] ?
				     json_string(e->scan->current[st]) : json_null(),
		      "source_stage", st != STAGE_CI && policy_source_stage(&src, pc, st) == 0 ?
				      json_string(stage_name(src)) : json_null(),
		      "promoted", h ? entry_json(h) : json_null());
	if (j && deploy)
		stage_state_json(j, &e->stages[st]);
	if (j && deploy)
		json_object_set_new(j, "deployed", deployed_json(e, st));
	if (j && deploy)
		deployed_more(json_object_get(j, "deployed"), e, st);
	if (j && deploy && cs->market_gated && (cs->quiet_before_ms || cs->quiet_after_ms))
		json_object_set_new(j, "quiet", quiet_json(e, st));
	if (j && deploy)
		rollback_json(j, e, st);
	return j;
}

/* Issue 14 item 3: a request waiting approval-required says how many
 * approvals it has and needs, and who wrote it, so that the dashboard
 * can offer Approve to anyone else. */
static void approvals_json(json_t *j, const struct engine *e, const struct engine_request *r)
{
	const struct config_stage *cs;
	json_t *by;

	if (!j || !r->stage_ok || !stage_is_deploy(r->stage))
		return;
	cs = &e->cfg->stages[r->stage];
	if (!cs->approvals)
		return;
	by = json_array();
	for (size_t i = 0; by && r->facts && i < r->facts->napprovals; i++)
		json_array_append_new(by, json_pack("{s:s, s:s?, s:s?}", "commit",
						    r->facts->approvals[i].commit, "name",
						    r->facts->approvals[i].author_name, "email",
						    r->facts->approvals[i].author_email));
	json_object_set_new(j, "approvals", json_pack("{s:I, s:o, s:s?, s:s?, s:b}",
		"needed", (json_int_t)cs->approvals, "given", by ? by : json_array(),
		"author", r->facts ? r->facts->author_email : NULL,
		"signer", r->signer[0] ? r->signer : NULL,
		"dashboard", e->cfg->http.approval_key != NULL));
}

static json_t *request_json(const struct engine_request *r)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:o, s:o, s:b, s:o}",
			 "branch", r->name, "commit", r->id,
			 "stage", r->stage_ok ? json_string(stage_name(r->stage)) : json_null(),
			 "state", state_names[r->state],
			 "code", r->state == REQ_QUEUED || r->state == REQ_REFUSED ?
				 json_string(policy_code_name(r->code)) : json_null(),
			 "message", r->message, "tag", str_or_null(r->tag),
			 "queued_until", time_or_null(r->queue_until),
			 "break_glass", r->break_glass, "since", time_or_null(r->since));
}

/* The branches past the bounds: how many, and the oldest few by name. */
static json_t *waiting_json(const struct engine *e)
{
	json_t *list = json_array();
	size_t by_author = 0;

	for (size_t i = 0; i < e->nwaiting; i++) {
		const struct engine_waiting *w = &e->waiting[i];
		by_author += w->why == ADMIT_FULL_AUTHOR;
		if (list && i < ENGINE_WAITING_SHOWN)
			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "branch",
					      w->name, "commit", w->id, "author", w->author,
					      "bound", w->why == ADMIT_FULL_AUTHOR ? "perAuthor" :
					      "max"));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "count", (json_int_t)e->nwaiting,
			 "over_per_author", (json_int_t)by_author,
			 "over_max", (json_int_t)(e->nwaiting - by_author),
			 "max", (json_int_t)e->cfg->requests.max,
			 "per_author", (json_int_t)e->cfg->requests.per_author,
			 "expired", (json_int_t)e->expired,
			 "oldest", list ? list : json_null());
}

static const char *evidence_name(const struct engine *e, const struct engine_release *r)
{
	if (!engine_inttest_enabled(e))
		return "disabled";
	if (!r->ev_checked)
		return "unknown";
	return registry_evidence_status_name(r->ev);
}

/* Unreadable evidence reads the same for every release and every client:
 * "evidence unreadable: <why>". */
static json_t *release_json(const struct engine *e, const struct engine_release *r)
{
	bool unreadable = engine_inttest_enabled(e) && r->ev_checked &&
			  r->ev == REGISTRY_EVIDENCE_UNREADABLE;
	char summary[REGISTRY_ERR_MAX + 32];

	if (unreadable)
		snprintf(summary, sizeof summary, "evidence unreadable: %s", r->ev_error);
	else
		strlcpy_(summary, r->ev_summary, sizeof summary);
	return json_pack("{s:s, s:b, s:b, s:I, s:I, s:o, s:s, s:o, s:o, s:o, s:o}", "sha", r->sha,
			 "checked", r->checked, "complete", r->checked && r->complete,
			 "images_present", (json_int_t)r->present,
			 "images_total", (json_int_t)r->total, "missing_image",
			 str_or_null(r->missing), "evidence", evidence_name(e, r),
			 "evidence_summary", str_or_null(summary),
			 "evidence_error", str_or_null(unreadable ? r->ev_error : ""),
			 "failures", str_or_null(r->ev_failures),
			 "first_seen", time_or_null(r->first_seen));
}

static json_t *market_json(const struct engine *e)
{
	struct window w;
	char reason[128], status[160], countdown[32];
	int64_t left;

	if (engine_window_now(&w, e))
		return json_null();
	clock_format_reason(reason, sizeof reason, &w);
	clock_format_status(status, sizeof status, &w);
	left = (int64_t)w.next_change - (int64_t)w.now;
	clock_format_countdown(countdown, sizeof countdown, left);
	return json_pack("{s:b, s:s, s:s, s:s, s:o, s:I, s:s, s:b, s:s}", "open", w.open,
			 "reason", clock_reason_code(w.reason), "reason_text", reason,
			 "status", status, "next_change", time_or_null(w.next_change),
			 "countdown_s", (json_int_t)left, "countdown", countdown,
			 "beyond_calendar", w.beyond_calendar, "zone", w.zone);
}

static json_t *errors_json(const struct engine *e)
{
	static const char *const names[SUB_COUNT] = { "git", "registry", "policy", "signature" };
	json_t *o = json_object();

	for (int s = 0; o && s < SUB_COUNT; s++) {
		const struct engine_error *er = &e->errors[s];
		json_object_set_new(o, names[s], json_pack("{s:o, s:o, s:I, s:o}",
				    "message", str_or_null(er->msg),
				    "at", er->msg[0] ? time_or_null(er->at) : json_null(),
				    "failures", (json_int_t)er->failures,
				    "last_ok", time_or_null(er->last_ok)));
	}
	return o;
}

static int dump(struct buf *out, json_t *root)
{
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int rc = text ? buf_adds(out, text) : ERR_NOMEM;

	if (rc == 0)
		rc = buf_addch(out, '\n');
	free(text);
	json_decref(root);
	return rc;
}

int engine_status_json(struct buf *out, const struct engine *e)
{
	json_t *stages = json_array(), *reqs = json_array(), *rels = json_array(), *root;
	int64_t now = (int64_t)time(NULL);

	for (int st = 0; stages && st < STAGE_COUNT; st++)
		json_array_append_new(stages, stage_json(e, (enum stage)st));
	for (size_t i = 0; reqs && i < e->req_hi; i++)
		if (e->req[i].used) {
			json_t *rj = request_json(&e->req[i]);

			approvals_json(rj, e, &e->req[i]);
			json_array_append_new(reqs, rj);
		}
	for (size_t i = 0; rels && i < ENGINE_MAX_RELEASES; i++)
		if (e->rel[i].used)
			json_array_append_new(rels, release_json(e, &e->rel[i]));
	root = json_pack("{s:s, s:o, s:I, s:I, s:o, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o}",
			 "version", PIPELINED_VERSION, "started", time_or_null(e->started_at),
			 "uptime_s", (json_int_t)(now - e->started_at),
			 "cycles", (json_int_t)e->cycles,
			 "last_cycle", time_or_null(e->last_cycle_at), "running", e->running,
			 "tip", e->scan ? json_string(e->scan->tip) : json_null(),
			 "promotions", (json_int_t)e->promotions,
			 "stages", stages ? stages : json_null(),
			 "requests", reqs ? reqs : json_null(),
			 "requests_waiting", waiting_json(e),
			 "releases", rels ? rels : json_null(), "market", market_json(e),
			 "errors", errors_json(e), "freezes", engine_freeze_json(e, now));
	return dump(out, root);
}

int engine_history_json(struct buf *out, const struct engine *e, const char *stage,
			struct buf *err)
{
	enum stage st = STAGE_COUNT;
	json_t *items, *root;

	if (stage && *stage) {
		if (stage_parse(&st, stage) != 0 || !stage_is_deploy(st))
			return buf_printf(err, "unknown deploy stage '%.64s'", stage), ERR_INVALID;
	}
	if (!(items = json_array()))
		return ERR_NOMEM;
	for (size_t i = 0; e->scan && e->scan->hist_ok && i < e->scan->hist.n; i++) {
		const struct history_entry *h = &e->scan->hist.items[i];
		if (st == STAGE_COUNT || h->stage == st)
			json_array_append_new(items, entry_json(h));
	}
	root = json_pack("{s:o, s:o, s:b, s:o}", "stage", stage && *stage ? json_string(stage) :
			 json_null(), "tip", e->scan ? json_string(e->scan->tip) : json_null(),
			 "truncated", e->scan && e->scan->hist_ok && e->scan->hist.truncated,
			 "entries", items);
	return dump(out, root);
}
