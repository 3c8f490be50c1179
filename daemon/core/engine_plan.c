/* engine_plan.c - pure: from the facts of a cycle to its plan (the rules
 * are in engine_plan.h).  Policy (policy.c) judges one request or one
 * candidate; this file decides which of them are judged, in what order,
 * what the verdicts mean for the git actions of the cycle, and what the
 * journal hears.  No clock, no logging, no engine state: the cycle passes
 * the facts in and carries the plan out (engine_decide.c). */
#include "engine_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_WINDOW STAGE_COUNT		/* texts[]: the window's, after the stages' */

/* ---- the plan's own storage ---- */

static int plan_log(struct plan *p, enum plan_prio prio, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int plan_log(struct plan *p, enum plan_prio prio, const char *subsys, const char *fmt, ...)
{
	struct plan_log *v = realloc(p->log, (p->nlog + 1) * sizeof *v);
	va_list ap;

	if (!v) {
		p->failed = true;
		return ERR_NOMEM;
	}
	p->log = v;
	v[p->nlog].prio = prio;
	v[p->nlog].subsys = subsys;
	va_start(ap, fmt);
	vsnprintf(v[p->nlog].text, sizeof v[p->nlog].text, fmt, ap);
	va_end(ap);
	p->nlog++;
	return 0;
}

static struct plan_action *plan_act(struct plan *p, enum plan_act kind, enum stage st,
				    const char *name, const char *id)
{
	struct plan_action *v = realloc(p->act, (p->nact + 1) * sizeof *v);

	if (!v) {
		p->failed = true;
		return NULL;
	}
	p->act = v;
	memset(&v[p->nact], 0, sizeof v[p->nact]);
	v[p->nact].kind = kind;
	v[p->nact].stage = st;
	v[p->nact].name = name;
	v[p->nact].id = id;
	v[p->nact].req = v[p->nact].cand = SIZE_MAX;
	return &v[p->nact++];
}

static int act_note(struct plan *p, struct plan_action *a, const char *text, size_t len)
{
	char *n = malloc(len + 1);

	if (!n) {
		p->failed = true;
		return ERR_NOMEM;
	}
	memcpy(n, text, len);
	n[len] = '\0';
	free(a->note);
	a->note = n;
	a->note_len = len;
	return 0;
}

void engine_plan_release(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nact; i++)
		free(p->act[i].note);
	free(p->act);
	free(p->req);
	free(p->waiting_expire);
	free(p->log);
	memset(p, 0, sizeof *p);
}

/* ---- the policy input ---- */

/* The window as policy wants it.  Its text carries no countdown, so a
 * refusal note reads the same every cycle and is pushed once. */
static void window_set(struct policy_window *pw, char *text, size_t textsz,
		       const struct plan_facts *f)
{
	char t[128];

	if (!f->window_ok) {
		/* cannot tell: treat as open, the gate may block more, never less */
		pw->open = true;
		snprintf(text, textsz, "market window unknown");
		pw->text = text;
		pw->close_time = 0;
		return;
	}
	clock_format_trailer(t, sizeof t, &f->window);
	snprintf(text, textsz, "market %s", t);
	pw->open = f->window.open;
	pw->text = text;
	pw->close_time = f->window.open ? (int64_t)f->window.next_close : 0;
	pw->utc_offset = f->window.utc_offset;
}

/* A market-gated stage with guard bands (issue 14 item 2) sees the market
 * window widened by them: open from quietBefore before the open to
 * quietAfter after the close.  No countdown in the text, as above. */
static void quiet_set(struct policy_window *pw, char *text, size_t textsz,
		      const struct plan_facts *f, enum stage st)
{
	const struct plan_stage *s = &f->stage[st];
	const struct clock_bands *b = &s->bands;
	char t[128], from[32], until[32], bef[32], aft[32];

	memset(pw, 0, sizeof *pw);
	if (!s->cfg.market_gated || (!b->before_s && !b->after_s))
		return;
	if (!f->window_ok || !s->quiet_ok) {
		pw->open = true;	/* cannot tell: gate */
		snprintf(text, textsz, "market window unknown");
		pw->text = text;
		return;
	}
	clock_format_trailer(t, sizeof t, &f->window);
	clock_format_hhmm(from, sizeof from, f->tz, s->quiet.from);
	clock_format_hhmm(until, sizeof until, f->tz, s->quiet.until);
	clock_format_countdown(bef, sizeof bef, b->before_s);
	clock_format_countdown(aft, sizeof aft, b->after_s);
	snprintf(text, textsz, "market %s; %s is quiet from %s to %s (%s before the open, %s "
		 "after the close)", t, stage_name(st), from, until, b->before_s ? bef : "0s",
		 b->after_s ? aft : "0s");
	pw->open = s->quiet.in;
	pw->text = text;
	pw->close_time = s->quiet.in ? (int64_t)s->quiet.until : 0;
	pw->utc_offset = f->window.utc_offset;
}

void engine_plan_policy_input(struct policy_input *in, char (*texts)[PLAN_TEXT_MAX],
			      const struct plan_facts *f)
{
	memset(in, 0, sizeof *in);
	in->now = f->now;
	for (int st = 0; st < STAGE_COUNT; st++) {
		in->cfg[st] = f->stage[st].cfg;
		if (!stage_is_deploy((enum stage)st))
			continue;
		in->deployed[st] = f->stage[st].deployed;
		in->state[st] = f->stage[st].state;
	}
	in->freezes = f->freezes;
	in->tz = f->tz;
	window_set(&in->window, texts[TEXT_WINDOW], sizeof texts[TEXT_WINDOW], f);
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		quiet_set(&in->quiet[st], texts[st], sizeof texts[st], f, (enum stage)st);
}

bool engine_plan_may_act(const struct plan_facts *f, enum stage st, const char *tag,
			 const char *req, char *why, size_t whysz)
{
	const struct plan_stage *s = &f->stage[st];
	char delay[32];

	if (s->block && !engine_block_allows(s->block, f->have_scan && f->tip ? f->tip : "", tag,
					     req, f->cfg_gen)) {
		snprintf(why, whysz, "stage %s is blocked: %s", stage_name(st), s->block->reason);
		return false;
	}
	if (f->now_ms < s->retry_at_ms) {
		format_duration(delay, sizeof delay, s->retry_at_ms - f->now_ms);
		snprintf(why, whysz, "retrying in %s: %s", delay, s->error ? s->error : "");
		return false;
	}
	return true;
}

/* ---- automatic promotions ---- */

static void auto_waits(struct plan *p, const struct plan_facts *f, enum stage st,
		       const struct policy_decision *d)
{
	const char *last = f->stage[st].auto_logged;

	if (last && strcmp(last, d->message) == 0)
		return;
	p->auto_wait_news[st] = true;
	snprintf(p->auto_wait[st], sizeof p->auto_wait[st], "%s", d->message);
	plan_log(p, PLAN_LOG_NOTICE, "policy", "automatic promotion into %s waits: %s",
		 stage_name(st), d->message);
}

static bool plan_auto(struct plan *p, const struct plan_facts *f, enum stage st,
		      struct policy_input *in)
{
	struct policy_candidate *c;
	struct policy_decision d;
	struct plan_action *a;
	char why[ENGINE_REASON_MAX + 64];
	size_t pick;
	int rc;

	if (!f->ncand)
		return false;
	if (!(c = calloc(f->ncand, sizeof *c))) {
		p->failed = true;
		return false;
	}
	for (size_t i = 0; i < f->ncand; i++) {
		c[i].tag = f->cand[i].tag;
		c[i].newer = f->cand[i].newer[st];
		c[i].rolled_back = f->cand[i].rolled_back[st];
		c[i].complete = f->cand[i].rel->facts.complete;
		c[i].evidence = f->cand[i].rel->facts.evidence;
	}
	rc = policy_auto_pick(&pick, in, st, c, f->ncand);
	free(c);
	if (rc)
		return false;
	in->release = &f->cand[pick].rel->facts;
	in->request = NULL;
	in->target = st;
	in->tag = f->cand[pick].tag;
	if (policy_check(&d, in) || d.code != POLICY_ALLOW) {
		/* it waits for the close, or the end of a soak or a freeze */
		int64_t until = d.code == POLICY_MARKET_OPEN || d.code == POLICY_SOAK ||
				d.code == POLICY_FROZEN ? d.queue_until : 0;

		if (until && (!p->auto_edge || until < p->auto_edge))
			p->auto_edge = until;
		auto_waits(p, f, st, &d);
		return false;
	}
	/* blocked, or backing off after a failure: said once when it began */
	if (!engine_plan_may_act(f, st, f->cand[pick].tag, "", why, sizeof why))
		return false;
	/* a tag without its digest would not be immutable */
	if (f->stage[st].digest && !f->cand[pick].rel->have_digests)
		return false;
	if (!(a = plan_act(p, PLAN_PROMOTE, st, NULL, NULL)))
		return false;
	a->cand = pick;
	snprintf(a->tag, sizeof a->tag, "%s", f->cand[pick].tag);
	p->promoting = true;
	p->promotion = p->nact - 1;
	p->decision = d;
	plan_log(p, PLAN_LOG_NOTICE, "engine", "promoting %.7s into %s (automatic)", a->tag,
		 stage_name(st));
	return true;
}

/* ---- requests ---- */

static void pending(struct plan_verdict *v, const char *why)
{
	v->decided = true;
	v->state = REQ_PENDING;
	v->code = POLICY_ALLOW;
	snprintf(v->message, sizeof v->message, "%s", why);
}

/* A refusal (queued or not): the journal and the counter hear of each
 * verdict once, not every cycle. */
static void refuse(struct plan *p, struct plan_verdict *v, const struct plan_request *r,
		   const struct policy_decision *d)
{
	v->decided = true;
	v->code = d->code;
	v->state = d->queue ? REQ_QUEUED : REQ_REFUSED;
	v->set_queue_until = true;
	v->queue_until = d->queue ? d->queue_until : 0;
	snprintf(v->message, sizeof v->message, "%s", d->message);
	if (r->logged && strcmp(r->logged, d->message) == 0)
		return;
	v->news = true;
	plan_log(p, PLAN_LOG_NOTICE, "policy", "request '%s' (%.7s) refused: %s", r->name, r->id,
		 d->message);
}

/* A branch name policy cannot read (its message says why): recorded like
 * any other refusal, journal and note. */
static void refuse_malformed(struct plan *p, struct plan_verdict *v,
			     const struct plan_request *r)
{
	struct policy_decision d;

	memset(&d, 0, sizeof d);
	d.code = POLICY_MALFORMED;
	snprintf(d.message, sizeof d.message, "%s", r->message ? r->message : "");
	refuse(p, v, r, &d);
}

static void cleanup(struct plan *p, struct plan_verdict *v, const struct plan_request *r,
		    size_t i)
{
	struct plan_action *a = plan_act(p, PLAN_CLEANUP, r->stage, r->name, r->id);

	v->decided = true;
	v->state = REQ_MERGED;
	v->code = r->code;
	snprintf(v->message, sizeof v->message, "merged by %.7s; deleting the branch",
		 r->used_by);
	if (a)
		a->req = i;
}

/* Whether the request's release is known well enough to judge it: the
 * registry answered (and looked at the evidence where it counts). */
static bool release_ready(const struct plan_facts *f, const struct plan_request *r)
{
	const struct plan_release *rel = r->rel;

	if (!rel)
		return true;	/* policy refuses on the tags before the release */
	return rel->known && rel->checked && !(rel->complete && f->inttest && !rel->ev_checked);
}

static void merge(struct plan *p, const struct plan_facts *f, struct plan_verdict *v,
		  const struct plan_request *r, size_t i, const struct policy_decision *d)
{
	struct plan_action *a = plan_act(p, PLAN_MERGE, r->stage, r->name, r->id);
	char acc[96];

	if (!a)
		return;
	(void)f;
	a->req = i;
	snprintf(a->tag, sizeof a->tag, "%s", d->tag);
	engine_accepted_note(acc, sizeof acc, r->stage, v->break_glass);
	act_note(p, a, acc, strlen(acc));
	p->promoting = true;
	p->promotion = p->nact - 1;
	p->decision = *d;
	v->decided = true;
	v->state = REQ_MERGING;
	v->code = POLICY_ALLOW;
	snprintf(v->message, sizeof v->message, "accepted%s; merging",
		 v->break_glass ? " (break-glass)" : "");
	plan_log(p, PLAN_LOG_NOTICE, "engine",
		 "request '%s' (%.7s) accepted: promoting %.7s into %s%s%s", r->name, r->id,
		 d->tag, stage_name(r->stage), d->rollback ? " (rollback)" : "",
		 v->break_glass ? " (break-glass)" : d->rollback_allowance ?
		 " (rollbackDuringMarket)" : "");
}

/* One request; true when it takes the cycle's promotion. */
static bool plan_request(struct plan *p, const struct plan_facts *f, size_t i,
			 struct policy_input *in, bool branch_free)
{
	const struct plan_request *r = &f->req[i];
	struct plan_verdict *v = &p->req[i];
	const struct plan_stage *s;
	struct policy_decision d;
	char why[POLICY_MESSAGE_MAX];

	if (!r->have_facts)
		return false;	/* not gathered for this tip yet */
	if (!r->stage_ok) {
		refuse_malformed(p, v, r);
		return false;
	}
	s = &f->stage[r->stage];
	/* done: a promotion into this branch's stage merged this very tip
	 * (a lost reply, a crash between the push of the branch and the
	 * clean-up, with or without the state directory): only the note
	 * and the deletion are left.  A used commit on another stage's
	 * branch is reused-request below. */
	if (r->merged && r->used_by && r->used_by[0] && r->used_stage == r->stage) {
		cleanup(p, v, r, i);
		return false;
	}
	if (r->error && r->error[0]) {
		pending(v, r->error);
		return false;
	}
	if (s->cfg.require_signature && !r->sig_done && s->cfg.enabled) {
		pending(v, "waiting for the signature check");
		return false;
	}
	if (!release_ready(f, r)) {
		pending(v, "waiting for the registry's answer about the release");
		return false;
	}
	{
		static const struct policy_release none;
		in->release = r->rel ? &r->rel->facts : &none;
	}
	in->request = r->pq;
	if (policy_check(&d, in)) {
		pending(v, "internal error: inconsistent policy input");
		return false;
	}
	/* Break-Glass used: for the window or for the source-stage gates
	 * (a rollback allowance overrides the window without it) */
	v->judged = true;
	v->break_glass = (d.break_glass || d.overrode[0]) && !d.rollback_allowance;
	snprintf(v->tag, sizeof v->tag, "%s", d.tag);
	if (d.code != POLICY_ALLOW) {
		refuse(p, v, r, &d);	/* its note: plan_notes */
		return false;
	}
	if (!branch_free) {
		pending(v, "accepted; waits for the promotion ahead of it");
		return false;
	}
	if (!engine_plan_may_act(f, r->stage, d.tag, r->id, why, sizeof why)) {
		pending(v, why);
		return false;
	}
	if (s->digest && (!r->rel || !r->rel->have_digests)) {
		pending(v, "waiting for the registry's digests of the release");
		return false;
	}
	merge(p, f, v, r, i, &d);
	return v->state == REQ_MERGING;
}

/* ---- notes ---- */

/* The state a request has after this plan. */
static enum request_state state_of(const struct plan *p, const struct plan_facts *f, size_t i)
{
	return p->req[i].decided ? p->req[i].state : f->req[i].state;
}

static const char *message_of(const struct plan *p, const struct plan_facts *f, size_t i)
{
	return p->req[i].decided ? p->req[i].message : f->req[i].message ? f->req[i].message : "";
}

static struct plan_action *cleanup_of(struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->nact; i++)
		if (p->act[i].kind == PLAN_CLEANUP && strcmp(p->act[i].id, id) == 0)
			return &p->act[i];
	return NULL;
}

/* The note of the commit of request first, from the verdicts of every
 * request at that commit (engine_note_text): planned only when it differs
 * from the remote's, so once per change of the text.  A merge in this
 * cycle writes its own; a branch clean-up carries the accepted one. */
static void plan_note(struct plan *p, const struct plan_facts *f, size_t first, bool *planned,
		      struct engine_verdict *v)
{
	const char *id = f->req[first].id, *remote = NULL, *accepted = NULL;
	struct plan_action *a;
	struct buf text;
	char acc[96];
	bool merging = false, declined = false, ok, settled;
	size_t n = 0;

	for (size_t i = first; i < f->nreq; i++) {
		const struct plan_request *r = &f->req[i];
		enum request_state st = state_of(p, f, i);

		if (!r->have_facts || strcmp(r->id, id) != 0)
			continue;
		planned[i] = true;
		p->req[i].settled_known = true;
		p->req[i].note_settled = false;
		merging |= st == REQ_MERGING;
		declined |= r->note_declined;
		if (r->note)
			remote = r->note;
		if (!accepted && r->merged && r->used_by && r->used_by[0]) {
			engine_accepted_note(acc, sizeof acc, r->used_stage, r->used_break_glass);
			accepted = acc;
		}
		if (st == REQ_REFUSED || st == REQ_QUEUED)
			v[n++] = (struct engine_verdict){ r->name, message_of(p, f, i) };
	}
	if (merging || declined)
		return;
	buf_init(&text, ENGINE_NOTE_TEXT_MAX + 1);
	ok = engine_note_text(&text, accepted, v, n) == 0 && text.data;
	settled = ok && remote && strcmp(remote, text.data) == 0;
	/* the commit's note is on the remote as planned: its refused
	 * branches may expire (plan_expire) */
	for (size_t i = first; i < f->nreq; i++)
		if (f->req[i].have_facts && strcmp(f->req[i].id, id) == 0)
			p->req[i].note_settled = settled;
	if (ok && !settled) {
		a = accepted ? cleanup_of(p, id) : NULL;
		if (!a || a->note)
			a = plan_act(p, PLAN_NOTE, f->req[first].stage, f->req[first].name, id);
		if (a)
			act_note(p, a, text.data, text.len);
	}
	buf_release(&text);
}

static void plan_notes(struct plan *p, const struct plan_facts *f)
{
	bool *planned = calloc(f->nreq ? f->nreq : 1, sizeof *planned);
	struct engine_verdict *v = calloc(f->nreq ? f->nreq : 1, sizeof *v);

	if (!planned || !v) {
		p->failed = true;
		goto out;
	}
	for (size_t i = 0; i < f->nreq; i++)
		if (f->req[i].have_facts && !planned[i])
			plan_note(p, f, i, planned, v);
out:
	free(planned);
	free(v);
}

/* ---- the bounds of [requests]: queue-full and old refusals ---- */

/* Delete a refused request branch whose refusal note is on the remote
 * and whose tip is older than requests.expireRefused: the note stays on
 * the commit, so the audit loses nothing, and the branch no longer holds
 * a slot (or waits for one) forever. */
static void plan_expire(struct plan *p, const struct plan_facts *f, size_t i)
{
	const struct plan_request *r = &f->req[i];
	struct plan_verdict *v = &p->req[i];
	bool settled = v->settled_known ? v->note_settled : false;

	if (state_of(p, f, i) != REQ_REFUSED || !r->have_facts || r->expiring || !settled ||
	    !engine_refusal_expired(r->tip_time, f->now, f->expire_refused_ms))
		return;
	v->expire = true;
	plan_act(p, PLAN_EXPIRE, r->stage_ok ? r->stage : STAGE_BETA, r->name, r->id);
}

static bool note_is(const char *note, const char *message)
{
	size_t n = strlen(message);

	return note && strncmp(note, message, n) == 0 && note[n] == '\n' && note[n + 1] == '\0';
}

static bool id_tracked(const struct plan_facts *f, const char *id)
{
	for (size_t i = 0; i < f->nreq; i++)
		if (strcmp(f->req[i].id, id) == 0)
			return true;
	return false;
}

/* Each waiting branch: its queue-full note once, its deletion once old. */
static void plan_waiting(struct plan *p, const struct plan_facts *f)
{
	char text[POLICY_MESSAGE_MAX], line[POLICY_MESSAGE_MAX + 2];

	for (size_t i = 0; i < f->nwaiting; i++) {
		const struct plan_waiting *w = &f->waiting[i];
		enum stage st = STAGE_BETA;
		struct buf err = BUF_INIT;
		struct plan_action *a;

		policy_parse_branch(&st, w->name, &err);
		buf_release(&err);
		/* the commit is judged under another name: that verdict is its note */
		if (w->declined || w->expiring || id_tracked(f, w->id))
			continue;
		engine_admit_message(text, sizeof text, w->why, f->requests_max,
				     f->requests_per_author);
		if (note_is(w->note, text)) {
			if (engine_refusal_expired(w->tip_time, f->now, f->expire_refused_ms)) {
				p->waiting_expire[i] = true;
				plan_act(p, PLAN_EXPIRE, st, w->name, w->id);
			}
			continue;
		}
		snprintf(line, sizeof line, "%s\n", text);
		if ((a = plan_act(p, PLAN_NOTE, st, w->name, w->id)))
			act_note(p, a, line, strlen(line));
	}
}

int engine_plan(struct plan *out, const struct plan_facts *f)
{
	struct policy_input in;
	char texts[STAGE_COUNT + 1][PLAN_TEXT_MAX];
	bool branch_free = true;

	memset(out, 0, sizeof *out);
	if (!f->have_scan)
		return ERR_INVALID;
	out->req = calloc(f->nreq ? f->nreq : 1, sizeof *out->req);
	out->waiting_expire = calloc(f->nwaiting ? f->nwaiting : 1, sizeof *out->waiting_expire);
	if (!out->req || !out->waiting_expire)
		return ERR_NOMEM;
	engine_plan_policy_input(&in, texts, f);
	for (int st = STAGE_BETA; st < STAGE_COUNT && branch_free; st++)
		if (f->stage[st].cfg.enabled && f->stage[st].cfg.auto_promote &&
		    plan_auto(out, f, (enum stage)st, &in))
			branch_free = false;
	for (size_t i = 0; i < f->nreq; i++)
		if (plan_request(out, f, i, &in, branch_free))
			branch_free = false;
	plan_notes(out, f);
	for (size_t i = 0; i < f->nreq; i++)
		plan_expire(out, f, i);
	plan_waiting(out, f);
	return out->failed ? ERR_NOMEM : 0;
}
