/* engine_decide.c - the edge around the planner (engine_plan.c): gathers
 * the facts of a cycle (the scan, the registry's answers, each request's
 * facts, the stages' blocks, the clock and the market window), calls
 * engine_plan(), then carries the plan out: the journal lines it wrote,
 * the refusal counter, each request's verdict, and the git transactions
 * (the promotion's message and digests, notes, clean-ups), which
 * engine_act.c runs.  The decisions themselves are the planner's. */
#include "engine_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What policy knows of a release's evidence: not asked yet counts as missing. */
static enum policy_evidence release_evidence(const struct engine_release *r, bool inttest)
{
	if (!r || !inttest || !r->ev_checked)
		return POLICY_EVIDENCE_MISSING;
	switch (r->ev) {
	case REGISTRY_EVIDENCE_PASSED:
		return POLICY_EVIDENCE_PASSED;
	case REGISTRY_EVIDENCE_FAILED:
		return POLICY_EVIDENCE_FAILED;
	case REGISTRY_EVIDENCE_UNREADABLE:
		return POLICY_EVIDENCE_UNPARSABLE;
	default:
		return POLICY_EVIDENCE_MISSING;
	}
}

void engine_release_facts(struct policy_release *out, char *summary, size_t sumsz,
			  const struct engine_release *r, bool inttest)
{
	memset(out, 0, sizeof *out);
	summary[0] = '\0';
	out->complete = r->checked && r->complete;
	out->images_present = r->present;
	out->images_total = r->total;
	out->missing_image = r->missing[0] ? r->missing : NULL;
	out->evidence = release_evidence(r, inttest);
	if (out->evidence == POLICY_EVIDENCE_UNPARSABLE)
		out->evidence_error = r->ev_error;
	if (r->ev_summary[0]) {
		snprintf(summary, sumsz, "%s%s%s", r->ev_summary, r->ev_failures[0] ? ": " : "",
			 r->ev_failures);
		out->evidence_summary = summary;
	}
}

static void policy_cfg(struct policy_stage_cfg *out, const struct config_stage *cs)
{
	out->enabled = cs->enabled;
	out->auto_promote = cs->auto_promote;
	out->market_gated = cs->market_gated;
	out->require_notes = cs->require_notes;
	out->require_signature = cs->require_signature;
	out->queue = cs->queue;
	out->values_path = cs->values_path;
	out->require_source_deployed = cs->require_source_deployed;
	out->soak = (int64_t)(cs->soak_ms / 1000);
	out->approvals = cs->approvals;
	out->rollback_during_market = cs->rollback_during_market;
}

/* Argo CD's verdict on a deploy stage, for the source-stage gates: the
 * stage runs its current release deployed since the later of the verdict's
 * start and the moment its latest promotion was first seen deployed (a
 * verdict that never left "deployed" across two promotions does not carry
 * the first one's time over).  Derived, like every verdict: after a restart
 * the soak counts from the daemon's first look. */
static void policy_deployed_set(struct policy_deployed *out, const struct engine *e,
				enum stage st)
{
	const struct engine_deployed *d = &e->deployed[st];

	memset(out, 0, sizeof *out);
	if (!engine_deploy_watched(e, st) || !d->judged) {
		out->state = POLICY_DEPLOY_UNKNOWN;
		out->why = !engine_deploy_watched(e, st) ? "the stage has no Argo CD Application" :
			   d->unreadable[0] ? d->unreadable : "no answer from Argo CD yet";
		return;
	}
	out->verdict = argocd_verdict_name(d->state.verdict);
	out->why = d->state.why;
	switch (d->state.verdict) {
	case ARGOCD_UNKNOWN:
		out->state = POLICY_DEPLOY_UNKNOWN;
		if (!d->have && d->unreadable[0])
			out->why = d->unreadable;
		break;
	case ARGOCD_DEPLOYED:
		out->state = POLICY_DEPLOY_DEPLOYED;
		out->since = d->since > d->deployed_at ? d->since : d->deployed_at;
		if (strcmp(d->deployed_for, d->promo) != 0)
			out->state = POLICY_DEPLOY_NOT;	/* not judged against this promotion */
		break;
	default:
		out->state = POLICY_DEPLOY_NOT;
		break;
	}
}

/* A stage with digest = true pins each image's digest beside its tag:
 * the digests the registry check verified for this release.  False when
 * they are not known (then nothing is promoted: a tag without its digest
 * would not be immutable). */
static bool action_digests(struct engine_action *a, const struct engine_release *rel)
{
	if (!a->rules.r.digest)
		return true;
	if (!rel || !rel->have_digests || a->rules.nimages > CONFIG_MAX_IMAGES)
		return false;
	for (size_t i = 0; i < a->rules.nimages; i++) {
		strlcpy_(a->digests[i], rel->digests[i], sizeof a->digests[i]);
		a->digest_v[i] = a->digests[i];
	}
	return true;
}

static void evidence_text(char *out, size_t outsz, const struct engine *e,
			  const struct engine_release *r)
{
	if (!engine_inttest_enabled(e))
		snprintf(out, outsz, "disabled");
	else
		snprintf(out, outsz, "%s", r && r->ev_summary[0] ? r->ev_summary : "unknown");
}

static int format_message(struct engine_action *a, const struct policy_decision *d,
			  const struct window *w, const struct engine_release *r,
			  const struct engine_request *q)
{
	struct trailer_promotion p;
	struct buf err = BUF_INIT;
	char market[128], inttest[96], by[600];
	char approved[TRAILER_APPROVALS_MAX][TRAILER_VALUE_MAX + 1];
	const char *approved_by[TRAILER_APPROVALS_MAX];
	int rc;

	memset(&p, 0, sizeof p);
	clock_format_trailer(market, sizeof market, w);
	evidence_text(inttest, sizeof inttest, a->e, r);
	p.stage = a->stage;
	p.source = d->source;
	p.image_tag = a->tag;
	p.market = market;
	p.integration_test = inttest;
	if (q) {
		snprintf(by, sizeof by, "%s <%s>", q->facts->author_name ? q->facts->author_name :
			 "", q->facts->author_email ? q->facts->author_email : "");
		p.requested_by = by;
		p.request = q->facts->request[0] ? q->facts->request : q->id;
		p.notes = trailer_list_get(&q->facts->trailers, TRAILER_NOTES);
		p.break_glass = d->break_glass || d->overrode[0] ?
				trailer_list_get(&q->facts->trailers, TRAILER_BREAK_GLASS) : NULL;
		p.overrode = d->overrode[0] ? d->overrode : NULL;
		p.signed_by = q->sig == POLICY_SIG_GOOD ? q->signer : NULL;
		for (size_t i = 0; i < d->napproved && i < TRAILER_APPROVALS_MAX; i++) {
			size_t k = d->approved[i];
			const struct fact_approval *fa = &q->facts->approvals[k];
			struct buf v = BUF_INIT;

			buf_init(&v, TRAILER_VALUE_MAX);
			if (k >= q->facts->napprovals ||
			    trailer_format_approved_by(&v, fa->author_name, fa->author_email,
						       q->appr[k].principal, fa->commit)) {
				buf_release(&v);
				log_err("engine", "cannot write Approved-By for approval %.7s",
					k < q->facts->napprovals ? fa->commit : "?");
				return ERR_INVALID;
			}
			strlcpy_(approved[p.napproved], v.data, sizeof approved[0]);
			approved_by[p.napproved] = approved[p.napproved];
			p.napproved++;
			buf_release(&v);
		}
		p.approved_by = approved_by;
		if (d->rollback) {
			p.rollback = trailer_list_get(&q->facts->trailers, TRAILER_ROLLBACK);
			p.rolled_back_from = d->rolled_back_from;
			p.rollback_allowance = d->rollback_allowance;
		}
	}
	rc = trailer_format_promotion(&a->message, &p, &err);
	if (rc)
		log_err("engine", "cannot write the promotion message for %.7s: %s", a->tag,
			err.data ? err.data : "?");
	buf_release(&err);
	return rc;
}

/* Issue 14 item 3: the approvals on top of the request, as policy reads
 * them (pa has TRAILER_APPROVALS_MAX entries). */
static void approvals_in(struct policy_request *pq, struct policy_approval *pa,
			 const struct engine_request *r)
{
	const struct request_facts *f = r->facts;

	for (size_t i = 0; i < f->napprovals; i++) {
		const struct fact_approval *fa = &f->approvals[i];
		const struct request_approval *ra = &r->appr[i];

		pa[i] = (struct policy_approval){
			.commit = fa->commit,
			.shape = fa->shape,
			.approves = fa->approves,
			.sig = ra->done ? ra->sig : POLICY_SIG_UNCHECKED,
			.principal = ra->principal[0] ? ra->principal : NULL,
			.principals = ra->principals[0] ? ra->principals : NULL,
			.key = ra->key[0] ? ra->key : NULL,
			.author_email = fa->author_email,
		};
	}
	pq->approvals = pa;
	pq->napprovals = f->napprovals;
	pq->author_email = f->author_email;
	pq->signer_principals = r->signer_principals[0] ? r->signer_principals : NULL;
	pq->signer_key = r->signer_key[0] ? r->signer_key : NULL;
}

static void request_facts_in(struct policy_request *pq, struct policy_approval *pa,
			     struct engine_request *r, const struct engine *e)
{
	const struct request_facts *f = r->facts;

	memset(pq, 0, sizeof *pq);
	pq->branch = r->name;
	pq->commit = f->request[0] ? f->request : r->id;
	pq->msg = f->msg;
	pq->msg_error = f->msg_error;
	pq->trailers = &f->trailers;
	pq->changed_paths = (const char *const *)f->paths;
	pq->changed_len = f->npaths;
	pq->only_tag_scalars_changed = f->only_tags;
	pq->tag_values = (const char *const *)f->tags;
	pq->tag_values_len = f->ntags;
	pq->sig = r->sig;
	pq->signer = r->signer[0] ? r->signer : NULL;
	pq->reused = f->used_by[0] != '\0';
	pq->nparents = f->nparents;
	pq->merge = f->nparents > 1;
	pq->orphan = f->nparents == 0;
	pq->off_branch = f->nparents == 1 && !f->parent_on_branch;
	pq->parent = f->parent[0] ? f->parent : NULL;
	pq->tracked = e->cfg->repository.branch;
	pq->mode_path = f->mode_changed ? f->mode.path : NULL;
	pq->mode_old = f->mode.old_mode;
	pq->mode_new = f->mode.new_mode;
	approvals_in(pq, pa, r);
}

/* ---- the facts of the cycle, for the planner ---- */

/* Everything engine_plan() reads, owned here for the length of one call. */
struct decide_facts {
	struct plan_facts f;
	struct plan_candidate *cand;
	struct plan_release *rel;	/* ncand for the candidates, then nreq */
	char (*summary)[400];		/* each rel's evidence summary */
	struct engine_release **erel;	/* the engine's entry behind each rel */
	struct plan_request *req;
	size_t *idx;			/* req[i] is e->req[idx[i]] */
	struct policy_request *pq;
	struct policy_approval (*pa)[TRAILER_APPROVALS_MAX];
	struct plan_waiting *waiting;
	const char **hist_tags[STAGE_COUNT];
};

static void release_fill(struct decide_facts *df, size_t k, struct engine_release *r, bool inttest,
			 const struct engine *e)
{
	struct plan_release *out = &df->rel[k];

	memset(out, 0, sizeof *out);
	df->erel[k] = r;
	if (!r)
		return;
	out->known = true;
	out->checked = r->checked;
	out->complete = r->complete;
	out->ev_checked = r->ev_checked;
	out->have_digests = r->have_digests && e->cfg->registry.images.n <= CONFIG_MAX_IMAGES;
	engine_release_facts(&out->facts, df->summary[k], sizeof df->summary[k], r, inttest);
}

/* A hook declined the note at this commit; nothing changed since. */
static bool note_declined(const struct engine *e, const struct engine_request *r)
{
	return r->note_declined[0] && e->scan && strcmp(r->note_declined, e->scan->tip) == 0 &&
	       r->note_declined_gen == e->cfg_gen;
}

static void stage_fill(struct plan_stage *s, struct decide_facts *df, const struct engine *e,
		       enum stage st, bool wok)
{
	const struct config_stage *cs = &e->cfg->stages[st];
	size_t n = 0;

	policy_cfg(&s->cfg, cs);
	s->digest = stage_is_deploy(st) && cs->enabled && cs->digest;
	engine_bands(&s->bands, e->cfg, st);
	s->block = &e->stages[st].block;
	s->retry_at_ms = e->stages[st].retry_at_ms;
	s->error = e->stages[st].error;
	s->auto_logged = e->auto_logged[st];
	if (wok && cs->market_gated && (s->bands.before_s || s->bands.after_s))
		s->quiet_ok = engine_quiet_now(&s->quiet, e, &s->bands) == 0;
	if (!stage_is_deploy(st))
		return;
	policy_deployed_set(&s->deployed, e, st);
	if (e->scan->current_known[st])
		s->state.current = e->scan->current[st];
	if (e->scan->hist_ok && history_tags(&df->hist_tags[st], &n, &e->scan->hist, st) == 0) {
		s->state.history = df->hist_tags[st];
		s->state.history_len = n;
	}
}

static void request_fill(struct decide_facts *df, size_t k, struct engine *e,
			 struct engine_request *r, bool inttest)
{
	struct plan_request *q = &df->req[k];
	const struct request_facts *f = r->facts;

	*q = (struct plan_request){
		.name = r->name, .id = r->id, .stage_ok = r->stage_ok, .stage = r->stage,
		.state = r->state, .code = r->code, .message = r->message, .logged = r->logged,
		.expiring = r->expiring, .tip_time = r->tip_time,
		.note_declined = note_declined(e, r),
	};
	if (!f)
		return;
	q->have_facts = true;
	q->error = f->error;
	q->merged = f->merged;
	q->used_by = f->used_by;
	q->used_stage = f->used_stage;
	q->used_break_glass = f->used_break_glass;
	q->note = f->note;
	q->sig_done = r->sig_done;
	if (f->ntags == 1 && tag_is_sha1(f->tags[0], strlen(f->tags[0]))) {
		release_fill(df, df->f.ncand + k, engine_release_get(e, f->tags[0], false), inttest,
			     e);
		q->rel = &df->rel[df->f.ncand + k];
	}
	request_facts_in(&df->pq[k], df->pa[k], r, e);
	q->pq = &df->pq[k];
}

static void facts_release(struct decide_facts *df)
{
	for (int st = 0; st < STAGE_COUNT; st++)
		free(df->hist_tags[st]);
	free(df->cand);
	free(df->rel);
	free(df->summary);
	free(df->erel);
	free(df->req);
	free(df->idx);
	free(df->pq);
	free(df->pa);
	free(df->waiting);
}

/* The facts of this cycle: the scan, the registry's answers, the
 * requests and their facts, the stages, the clock. */
static int facts_gather(struct decide_facts *df, struct engine *e)
{
	struct plan_facts *f = &df->f;
	size_t nreq = 0, ncand = e->scan->ncand, k = 0;
	bool inttest = engine_inttest_enabled(e);

	memset(df, 0, sizeof *df);
	for (size_t i = 0; i < e->req_hi; i++)
		nreq += e->req[i].used;
	df->cand = calloc(ncand + 1, sizeof *df->cand);
	df->rel = calloc(ncand + nreq + 1, sizeof *df->rel);
	df->summary = calloc(ncand + nreq + 1, sizeof *df->summary);
	df->erel = calloc(ncand + nreq + 1, sizeof *df->erel);
	df->req = calloc(nreq + 1, sizeof *df->req);
	df->idx = calloc(nreq + 1, sizeof *df->idx);
	df->pq = calloc(nreq + 1, sizeof *df->pq);
	df->pa = calloc(nreq + 1, sizeof *df->pa);
	df->waiting = calloc(e->nwaiting + 1, sizeof *df->waiting);
	if (!df->cand || !df->rel || !df->summary || !df->erel || !df->req || !df->idx ||
	    !df->pq || !df->pa || !df->waiting)
		return ERR_NOMEM;
	f->have_scan = true;
	f->tip = e->scan->tip;
	f->cfg_gen = e->cfg_gen;
	f->now = (int64_t)time(NULL);
	f->now_ms = uv_now(e->loop);
	f->window_ok = engine_window_now(&f->window, e) == 0;
	f->tz = &e->tz;
	f->freezes = engine_freezes(e);
	f->inttest = inttest;
	f->tracked = e->cfg->repository.branch;
	f->requests_max = e->cfg->requests.max;
	f->requests_per_author = e->cfg->requests.per_author;
	f->expire_refused_ms = e->cfg->requests.expire_refused_ms;
	for (int st = 0; st < STAGE_COUNT; st++)
		stage_fill(&f->stage[st], df, e, (enum stage)st, f->window_ok);
	for (size_t i = 0; i < ncand; i++) {
		release_fill(df, i, engine_release_get(e, e->scan->cand[i], false), inttest, e);
		df->cand[i].tag = e->scan->cand[i];
		df->cand[i].rel = &df->rel[i];
		for (int st = 0; st < STAGE_COUNT; st++) {
			df->cand[i].newer[st] = e->scan->newer[i][st];
			df->cand[i].rolled_back[st] = e->scan->rolled_back[i][st];
		}
	}
	f->cand = df->cand;
	f->ncand = ncand;
	for (size_t i = 0; i < e->req_hi; i++) {
		if (!e->req[i].used)
			continue;
		df->idx[k] = i;
		request_fill(df, k++, e, &e->req[i], inttest);
	}
	f->req = df->req;
	f->nreq = nreq;
	for (size_t i = 0; i < e->nwaiting; i++) {
		const struct engine_waiting *w = &e->waiting[i];

		df->waiting[i] = (struct plan_waiting){
			.name = w->name, .id = w->id, .why = w->why, .note = w->note,
			.tip_time = w->tip_time, .declined = w->declined, .expiring = w->expiring,
		};
	}
	f->waiting = df->waiting;
	f->nwaiting = e->nwaiting;
	return 0;
}

/* ---- the plan, carried out: journal, counters, verdicts, actions ---- */

static void verdicts_apply(struct engine *e, const struct decide_facts *df, const struct plan *p)
{
	for (size_t k = 0; k < df->f.nreq; k++) {
		struct engine_request *r = &e->req[df->idx[k]];
		const struct plan_verdict *v = &p->req[k];

		if (v->judged) {
			r->break_glass = v->break_glass;
			if (v->tag[0])
				strlcpy_(r->tag, v->tag, sizeof r->tag);
		}
		if (v->decided) {
			r->state = v->state;
			r->code = v->code;
			strlcpy_(r->message, v->message, sizeof r->message);
		}
		if (v->set_queue_until)
			r->queue_until = v->queue_until;
		if (v->news) {
			const char *lv[2] = { r->stage_ok ? stage_name(r->stage) : "unknown",
					      policy_code_name(v->code) };

			strlcpy_(r->logged, v->message, sizeof r->logged);
			if (e->metrics && e->metrics->refusals)
				metrics_add(e->metrics->refusals, lv, 1);
		}
		if (v->settled_known)
			r->note_settled = v->note_settled;
		if (v->expire)
			r->expiring = true;
	}
	for (int st = 0; st < STAGE_COUNT; st++)
		if (p->auto_wait_news[st])
			strlcpy_(e->auto_logged[st], p->auto_wait[st], sizeof e->auto_logged[st]);
	e->auto_edge = p->auto_edge;
}

/* The queue-full refusals: the counter hears of each waiting branch once. */
static void waiting_apply(struct engine *e, const struct plan *p)
{
	for (size_t i = 0; i < e->nwaiting; i++) {
		struct engine_waiting *w = &e->waiting[i];
		enum stage st = STAGE_BETA;
		struct buf err = BUF_INIT;
		bool stage_ok = policy_parse_branch(&st, w->name, &err) == 0;
		const char *lv[2] = { stage_ok ? stage_name(st) : "unknown",
				      policy_code_name(POLICY_QUEUE_FULL) };

		buf_release(&err);
		if (!w->counted && e->metrics && e->metrics->refusals)
			metrics_add(e->metrics->refusals, lv, 1);
		w->counted = true;
		if (p->waiting_expire && p->waiting_expire[i])
			w->expiring = true;
	}
}

static void action_drop(struct engine *e, struct engine_action *a)
{
	e->nactions--;
	engine_action_free(a);
}

static void promote_make(struct engine *e, const struct decide_facts *df, const struct plan *p,
			 const struct plan_action *pa)
{
	struct engine_release *rel = df->erel[pa->cand];
	struct engine_action *a = engine_action_add(e, ACT_PROMOTE, pa->stage);

	if (!a)
		return;
	strlcpy_(a->tag, pa->tag, sizeof a->tag);
	if (!action_digests(a, rel) || format_message(a, &p->decision, &df->f.window, rel, NULL))
		action_drop(e, a);
}

static void merge_make(struct engine *e, const struct decide_facts *df, const struct plan *p,
		       const struct plan_action *pa)
{
	const struct policy_decision *d = &p->decision;
	struct engine_request *r = &e->req[df->idx[pa->req]];
	struct engine_release *rel = df->f.req[pa->req].rel ?
				     df->erel[df->f.ncand + pa->req] : NULL;
	struct engine_action *a = engine_action_add(e, ACT_MERGE, pa->stage);

	if (!a)
		return;
	a->break_glass = d->break_glass;
	a->freeze_break_glass = d->overrode_frozen;
	a->rollback_allowance = d->rollback_allowance;
	if (d->rollback)
		strlcpy_(a->rolled_back_from, d->rolled_back_from, sizeof a->rolled_back_from);
	strlcpy_(a->tag, pa->tag, sizeof a->tag);
	strlcpy_(a->req_name, r->name, sizeof a->req_name);
	strlcpy_(a->req_id, r->id, sizeof a->req_id);
	strlcpy_(a->author_name, r->facts->author_name ? r->facts->author_name : "",
		 sizeof a->author_name);
	strlcpy_(a->author_email, r->facts->author_email ? r->facts->author_email : "",
		 sizeof a->author_email);
	a->author.time = r->facts->author_time;
	a->author.offset_min = r->facts->author_offset;
	if (!action_digests(a, rel) || format_message(a, d, &df->f.window, rel, r)) {
		action_drop(e, a);
		r->state = REQ_PENDING;
		strlcpy_(r->message, "internal error: cannot write the promotion commit",
			 sizeof r->message);
		return;
	}
	if (pa->note)
		buf_add(&a->note, pa->note, pa->note_len);
}

static const enum action_kind act_kind[] = {
	[PLAN_PROMOTE] = ACT_PROMOTE, [PLAN_MERGE] = ACT_MERGE, [PLAN_NOTE] = ACT_NOTE,
	[PLAN_CLEANUP] = ACT_CLEANUP, [PLAN_EXPIRE] = ACT_EXPIRE,
};

static void actions_make(struct engine *e, const struct decide_facts *df, const struct plan *p)
{
	for (size_t i = 0; i < p->nact; i++) {
		const struct plan_action *pa = &p->act[i];
		struct engine_action *a;

		if (pa->kind == PLAN_PROMOTE) {
			promote_make(e, df, p, pa);
			continue;
		}
		if (pa->kind == PLAN_MERGE) {
			merge_make(e, df, p, pa);
			continue;
		}
		if (!(a = engine_action_add(e, act_kind[pa->kind], pa->stage)))
			continue;
		strlcpy_(a->req_name, pa->name, sizeof a->req_name);
		strlcpy_(a->req_id, pa->id, sizeof a->req_id);
		if (pa->kind == PLAN_CLEANUP)
			buf_printf(&a->message, "clean up %s", pa->name);
		if (pa->note)
			buf_add(&a->note, pa->note, pa->note_len);
	}
}

static const enum log_level log_level_of[] = {
	[PLAN_LOG_ERR] = LOG_LVL_ERR, [PLAN_LOG_NOTICE] = LOG_LVL_NOTICE,
};

static void plan_carry_out(struct engine *e, const struct decide_facts *df, const struct plan *p)
{
	for (size_t i = 0; i < p->nlog; i++)
		log_msg(log_level_of[p->log[i].prio], p->log[i].subsys, "%s", p->log[i].text);
	verdicts_apply(e, df, p);
	waiting_apply(e, p);
	actions_make(e, df, p);
}

static void status_line(struct engine *e, const struct window *w, bool wok)
{
	size_t queued = 0, refused = 0, n;
	char win[128] = "window unknown";

	for (size_t i = 0; i < e->req_hi; i++) {
		queued += e->req[i].used && e->req[i].state == REQ_QUEUED;
		refused += e->req[i].used && e->req[i].state == REQ_REFUSED;
	}
	if (wok)
		clock_format_trailer(win, sizeof win, w);
	snprintf(e->status_line, sizeof e->status_line,
		 "beta %.7s, paper %.7s, live %.7s; %zu queued, %zu refused; market %s",
		 e->scan && e->scan->current_known[STAGE_BETA] ? e->scan->current[STAGE_BETA] : "-",
		 e->scan && e->scan->current_known[STAGE_PAPER] ? e->scan->current[STAGE_PAPER] :
		 "-", e->scan && e->scan->current_known[STAGE_LIVE] ?
		 e->scan->current[STAGE_LIVE] : "-", queued, refused, win);
	n = strlen(e->status_line);
	if (e->nwaiting && n < sizeof e->status_line)
		snprintf(e->status_line + n, sizeof e->status_line - n, "; %zu waiting for a slot",
			 e->nwaiting);
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		n = strlen(e->status_line);
		if (e->stages[st].block.on && n < sizeof e->status_line)
			snprintf(e->status_line + n, sizeof e->status_line - n, "; %s BLOCKED",
				 stage_name((enum stage)st));
	}
	if (e->metrics && e->metrics->queue_length)
		metrics_set(e->metrics->queue_length, NULL, (double)queued);
	if (e->metrics && e->metrics->market_open && wok)
		metrics_set(e->metrics->market_open, NULL, w->open ? 1 : 0);
}

enum phase_result engine_decide(struct engine *e)
{
	struct decide_facts df;
	struct plan p;
	int rc;

	if (!e->scan)
		return PHASE_END;
	e->nactions = e->iaction = 0;
	e->auto_edge = 0;
	rc = facts_gather(&df, e);
	if (!rc)
		rc = engine_plan(&p, &df.f);
	else
		memset(&p, 0, sizeof p);
	if (rc)
		log_err("engine", "cannot plan the cycle: out of memory; carrying out what "
			"was planned");
	plan_carry_out(e, &df, &p);
	engine_plan_release(&p);
	engine_deploy_notes(e);
	status_line(e, &df.f.window, df.f.window_ok);
	facts_release(&df);
	return PHASE_NEXT;
}
