/* engine_decide.c - from the facts of a cycle to decisions (policy.h) and
 * the git transactions that carry them out: at most one promotion per
 * cycle (the branch moves, so the next cycle re-derives everything), any
 * number of refusal notes and branch clean-ups. */
#include "engine_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct engine_release *engine_release_get(struct engine *e, const char *sha, bool create)
{
	struct engine_release *oldest = NULL;

	for (size_t i = 0; i < ENGINE_MAX_RELEASES; i++) {
		struct engine_release *r = &e->rel[i];
		if (r->used && strcmp(r->sha, sha) == 0) {
			r->lru = ++e->rel_clock;
			return r;
		}
		if (!oldest || !r->used || (oldest->used && r->lru < oldest->lru))
			oldest = r;
	}
	if (!create || !oldest)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	oldest->used = true;
	strlcpy_(oldest->sha, sha, sizeof oldest->sha);
	oldest->first_seen = (int64_t)time(NULL);
	oldest->lru = ++e->rel_clock;
	return oldest;
}

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

void engine_policy_input(struct policy_input *in, const char ***hist_tags,
			 const struct engine *e)
{
	memset(in, 0, sizeof *in);
	in->now = (int64_t)time(NULL);
	for (int st = 0; st < STAGE_COUNT; st++) {
		size_t n = 0;
		policy_cfg(&in->cfg[st], &e->cfg->stages[st]);
		hist_tags[st] = NULL;
		if (stage_is_deploy((enum stage)st))
			policy_deployed_set(&in->deployed[st], e, (enum stage)st);
		if (!stage_is_deploy((enum stage)st) || !e->scan)
			continue;
		if (e->scan->current_known[st])
			in->state[st].current = e->scan->current[st];
		if (e->scan->hist_ok && history_tags(&hist_tags[st], &n, &e->scan->hist,
						     (enum stage)st) == 0) {
			in->state[st].history = hist_tags[st];
			in->state[st].history_len = n;
		}
	}
}

void engine_policy_input_release(const char ***hist_tags)
{
	for (int st = 0; st < STAGE_COUNT; st++)
		free(hist_tags[st]);
}

void engine_action_free(struct engine_action *a)
{
	if (!a)
		return;
	buf_release(&a->message);
	buf_release(&a->note);
	free(a->batch);
	free(a->batch_a);
	free(a->batch_b);
	engine_rules_release(&a->rules);
	free(a->fresh);
	free(a);
}

static struct engine_action *action_new(struct engine *e, enum action_kind kind, enum stage st)
{
	struct engine_action *a = calloc(1, sizeof *a);
	struct engine_action **v;
	const struct config_stage *cs = &e->cfg->stages[st];

	if (!a)
		return NULL;
	if ((kind == ACT_PROMOTE || kind == ACT_MERGE) && engine_rules_copy(&a->rules, e->cfg, st)) {
		free(a);
		return NULL;
	}
	if (!(v = realloc(e->actions, (e->nactions + 1) * sizeof *v))) {
		engine_rules_release(&a->rules);
		free(a);
		return NULL;
	}
	e->actions = v;
	a->kind = kind;
	a->e = e;
	a->stage = st;
	a->gated = cs->market_gated;
	engine_bands(&a->bands, e->cfg, st);
	if ((kind == ACT_PROMOTE || kind == ACT_MERGE) && e->cfg->repository.freezes) {
		strlcpy_(a->freeze_path, e->cfg->repository.freezes, sizeof a->freeze_path);
		a->fresh = malloc(sizeof *a->fresh);	/* none: the gate uses the cycle's */
	}
	buf_init(&a->message, TRAILER_FORMAT_MAX);
	buf_init(&a->note, ENGINE_NOTE_TEXT_MAX + 1);
	strlcpy_(a->values_path, cs->values_path ? cs->values_path : "", sizeof a->values_path);
	a->paths[0] = a->values_path;
	e->actions[e->nactions++] = a;
	return a;
}

struct engine_action *engine_action_add(struct engine *e, enum action_kind kind, enum stage st)
{
	return action_new(e, kind, st);
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

/* The window as policy wants it.  Its text carries no countdown, so a
 * refusal note reads the same every cycle and is pushed once. */
static void policy_window_set(struct policy_window *pw, char *text, size_t textsz,
			      const struct window *w, bool ok)
{
	char t[128];

	if (!ok) {
		/* cannot tell: treat as open, the gate may block more, never less */
		pw->open = true;
		snprintf(text, textsz, "market window unknown");
		pw->text = text;
		pw->close_time = 0;
		return;
	}
	clock_format_trailer(t, sizeof t, w);
	snprintf(text, textsz, "market %s", t);
	pw->open = w->open;
	pw->text = text;
	pw->close_time = w->open ? (int64_t)w->next_close : 0;
	pw->utc_offset = w->utc_offset;
}

/* A market-gated stage with guard bands (issue 14 item 2) sees the market
 * window widened by them: open from quietBefore before the open to
 * quietAfter after the close.  No countdown in the text, as above. */
static void policy_quiet_set(struct policy_window *pw, char *text, size_t textsz,
			     const struct engine *e, enum stage st, const struct window *w, bool ok)
{
	const struct config_stage *cs = &e->cfg->stages[st];
	struct clock_bands b;
	struct clock_quiet q;
	char t[128], from[32], until[32], bef[32], aft[32];

	memset(pw, 0, sizeof *pw);
	engine_bands(&b, e->cfg, st);
	if (!cs->market_gated || (!b.before_s && !b.after_s))
		return;
	if (!ok || engine_quiet_now(&q, e, &b)) {
		pw->open = true;	/* cannot tell: gate */
		snprintf(text, textsz, "market window unknown");
		pw->text = text;
		return;
	}
	clock_format_trailer(t, sizeof t, w);
	clock_format_hhmm(from, sizeof from, &e->tz, q.from);
	clock_format_hhmm(until, sizeof until, &e->tz, q.until);
	clock_format_countdown(bef, sizeof bef, b.before_s);
	clock_format_countdown(aft, sizeof aft, b.after_s);
	snprintf(text, textsz, "market %s; %s is quiet from %s to %s (%s before the open, %s "
		 "after the close)", t, stage_name(st), from, until, b.before_s ? bef : "0s",
		 b.after_s ? aft : "0s");
	pw->open = q.in;
	pw->text = text;
	pw->close_time = q.in ? (int64_t)q.until : 0;
	pw->utc_offset = w->utc_offset;
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

/* ---- automatic promotions ---- */

static void log_auto_once(struct engine *e, enum stage st, const struct policy_decision *d)
{
	if (strcmp(e->auto_logged[st], d->message) == 0)
		return;
	strlcpy_(e->auto_logged[st], d->message, sizeof e->auto_logged[st]);
	log_notice("policy", "automatic promotion into %s waits: %s", stage_name(st), d->message);
}

static bool decide_auto(struct engine *e, enum stage st, struct policy_input *in,
			const struct window *w)
{
	struct policy_candidate c[ENGINE_MAX_CANDIDATES];
	struct engine_release *rel[ENGINE_MAX_CANDIDATES];
	struct policy_release pr;
	struct policy_decision d;
	struct engine_action *a;
	char summary[400], why[ENGINE_REASON_MAX + 64];
	size_t n = e->scan ? e->scan->ncand : 0, pick;
	bool inttest = engine_inttest_enabled(e);

	for (size_t i = 0; i < n; i++) {
		rel[i] = engine_release_get(e, e->scan->cand[i], false);
		c[i].tag = e->scan->cand[i];
		c[i].newer = e->scan->newer[i][st];
		c[i].rolled_back = e->scan->rolled_back[i][st];
		c[i].complete = rel[i] && rel[i]->checked && rel[i]->complete;
		c[i].evidence = release_evidence(rel[i], inttest);
	}
	if (policy_auto_pick(&pick, in, st, c, n))
		return false;
	engine_release_facts(&pr, summary, sizeof summary, rel[pick], inttest);
	in->release = &pr;
	in->request = NULL;
	in->target = st;
	in->tag = c[pick].tag;
	if (policy_check(&d, in) || d.code != POLICY_ALLOW) {
		/* it waits for the close, or the end of a soak */
		int64_t until = d.code == POLICY_MARKET_OPEN || d.code == POLICY_SOAK ||
				d.code == POLICY_FROZEN ? d.queue_until : 0;

		if (until && (!e->auto_edge || until < e->auto_edge))
			e->auto_edge = until;
		log_auto_once(e, st, &d);
		return false;
	}
	/* blocked, or backing off after a failure: said once when it began */
	if (!engine_stage_may_act(e, st, c[pick].tag, "", why, sizeof why))
		return false;
	if (!(a = action_new(e, ACT_PROMOTE, st)))
		return false;
	strlcpy_(a->tag, c[pick].tag, sizeof a->tag);
	if (!action_digests(a, rel[pick]) || format_message(a, &d, w, rel[pick], NULL)) {
		e->nactions--;
		engine_action_free(a);
		return false;
	}
	log_notice("engine", "promoting %.7s into %s (automatic)", a->tag, stage_name(st));
	return true;
}

/* ---- requests ---- */

static void request_verdict(struct engine *e, struct engine_request *r,
			    const struct policy_decision *d)
{
	const char *lv[2] = { r->stage_ok ? stage_name(r->stage) : "unknown",
			      policy_code_name(d->code) };

	r->code = d->code;
	r->state = d->queue ? REQ_QUEUED : REQ_REFUSED;
	r->queue_until = d->queue ? d->queue_until : 0;
	strlcpy_(r->message, d->message, sizeof r->message);
	if (strcmp(r->logged, d->message) == 0)
		return;
	/* the journal and the counter hear of each verdict once, not every cycle */
	strlcpy_(r->logged, d->message, sizeof r->logged);
	log_notice("policy", "request '%s' (%.7s) refused: %s", r->name, r->id, d->message);
	if (e->metrics && e->metrics->refusals)
		metrics_add(e->metrics->refusals, lv, 1);
}

/* A hook declined the note at this commit; nothing changed since. */
static bool note_declined(const struct engine *e, const struct engine_request *r)
{
	return r->note_declined[0] && e->scan && strcmp(r->note_declined, e->scan->tip) == 0 &&
	       r->note_declined_gen == e->cfg_gen;
}

static struct engine_action *cleanup_of(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->nactions; i++)
		if (e->actions[i]->kind == ACT_CLEANUP && strcmp(e->actions[i]->req_id, id) == 0)
			return e->actions[i];
	return NULL;
}

/* The note of the commit of request first, from the verdicts of every
 * request at that commit (engine_note_text): pushed only when it differs
 * from the remote's, so once per change of the text.  A merge in this
 * cycle writes its own; a branch clean-up carries the accepted one. */
static void note_plan(struct engine *e, size_t first, bool *planned)
{
	const char *id = e->req[first].id, *remote = NULL, *accepted = NULL;
	struct engine_verdict v[ENGINE_MAX_REQUESTS];
	struct engine_action *a;
	struct buf text;
	char acc[96];
	bool merging = false, declined = false, ok, settled;
	size_t n = 0;

	for (size_t i = first; i < ENGINE_MAX_REQUESTS; i++) {
		struct engine_request *r = &e->req[i];
		if (!r->used || !r->facts || strcmp(r->id, id) != 0)
			continue;
		planned[i] = true;
		r->note_settled = false;
		merging |= r->state == REQ_MERGING;
		declined |= note_declined(e, r);
		if (r->facts->note)
			remote = r->facts->note;
		if (!accepted && r->facts->merged && r->facts->used_by[0]) {
			engine_accepted_note(acc, sizeof acc, r->facts->used_stage,
					     r->facts->used_break_glass);
			accepted = acc;
		}
		if (r->state == REQ_REFUSED || r->state == REQ_QUEUED)
			v[n++] = (struct engine_verdict){ r->name, r->message };
	}
	if (merging || declined)
		return;
	buf_init(&text, ENGINE_NOTE_TEXT_MAX + 1);
	ok = engine_note_text(&text, accepted, v, n) == 0 && text.data;
	settled = ok && remote && strcmp(remote, text.data) == 0;
	/* the commit's note is on the remote as planned: its refused
	 * branches may expire (expire_refused) */
	for (size_t i = first; i < ENGINE_MAX_REQUESTS; i++)
		if (e->req[i].used && e->req[i].facts && strcmp(e->req[i].id, id) == 0)
			e->req[i].note_settled = settled;
	if (ok && !settled) {
		a = accepted ? cleanup_of(e, id) : NULL;
		if ((!a || a->note.len) && (a = action_new(e, ACT_NOTE, e->req[first].stage))) {
			strlcpy_(a->req_name, e->req[first].name, sizeof a->req_name);
			strlcpy_(a->req_id, id, sizeof a->req_id);
		}
		if (a)
			buf_add(&a->note, text.data, text.len);
	}
	buf_release(&text);
}

static void notes_plan(struct engine *e)
{
	bool planned[ENGINE_MAX_REQUESTS] = { false };

	for (size_t i = 0; i < ENGINE_MAX_REQUESTS; i++)
		if (e->req[i].used && e->req[i].facts && !planned[i])
			note_plan(e, i, planned);
}

/* A branch name policy cannot read (request_reset set the message):
 * recorded like any other refusal, journal and note. */
static void refuse_malformed(struct engine *e, struct engine_request *r)
{
	struct policy_decision d;

	memset(&d, 0, sizeof d);
	d.code = POLICY_MALFORMED;
	strlcpy_(d.message, r->message, sizeof d.message);
	request_verdict(e, r, &d);
}

static void pending(struct engine_request *r, const char *why)
{
	r->state = REQ_PENDING;
	r->code = POLICY_ALLOW;
	strlcpy_(r->message, why, sizeof r->message);
}

static void cleanup(struct engine *e, struct engine_request *r)
{
	struct engine_action *a = action_new(e, ACT_CLEANUP, r->stage);

	r->state = REQ_MERGED;
	snprintf(r->message, sizeof r->message, "merged by %.7s; deleting the branch",
		 r->facts->used_by);
	if (!a)
		return;
	strlcpy_(a->req_name, r->name, sizeof a->req_name);
	strlcpy_(a->req_id, r->id, sizeof a->req_id);
	buf_printf(&a->message, "clean up %s", r->name);
}

/* Release facts for the request's tag, or false while they are unknown. */
static bool request_release(struct policy_release *pr, char *summary, size_t sumsz,
			    struct engine *e, struct engine_request *r,
			    struct engine_release **rel)
{
	const struct request_facts *f = r->facts;
	bool inttest = engine_inttest_enabled(e);

	*rel = NULL;
	if (f->ntags != 1 || !tag_is_sha1(f->tags[0], strlen(f->tags[0]))) {
		memset(pr, 0, sizeof *pr);
		return true;	/* policy refuses on the tags before the release */
	}
	*rel = engine_release_get(e, f->tags[0], false);
	if (!*rel || !(*rel)->checked || ((*rel)->complete && inttest && !(*rel)->ev_checked)) {
		pending(r, "waiting for the registry's answer about the release");
		return false;
	}
	engine_release_facts(pr, summary, sumsz, *rel, inttest);
	return true;
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

static bool decide_request(struct engine *e, struct engine_request *r, struct policy_input *in,
			   const struct window *w, bool branch_free)
{
	struct policy_request pq;
	struct policy_approval pa[TRAILER_APPROVALS_MAX];
	struct policy_release pr;
	struct policy_decision d;
	struct engine_release *rel;
	struct engine_action *a;
	char summary[400], why[POLICY_MESSAGE_MAX];

	if (!r->facts)
		return false;	/* not gathered for this tip yet */
	if (!r->stage_ok) {
		refuse_malformed(e, r);
		return false;
	}
	/* done: a promotion into this branch's stage merged this very tip
	 * (a lost reply, a crash between the push of the branch and the
	 * clean-up, with or without the state directory): only the note
	 * and the deletion are left.  A used commit on another stage's
	 * branch is reused-request below. */
	if (r->facts->merged && r->facts->used_by[0] && r->facts->used_stage == r->stage) {
		cleanup(e, r);
		return false;
	}
	if (r->facts->error[0]) {
		pending(r, r->facts->error);
		return false;
	}
	if (e->cfg->stages[r->stage].require_signature && !r->sig_done &&
	    e->cfg->stages[r->stage].enabled) {
		pending(r, "waiting for the signature check");
		return false;
	}
	if (!request_release(&pr, summary, sizeof summary, e, r, &rel))
		return false;
	request_facts_in(&pq, pa, r, e);
	in->release = &pr;
	in->request = &pq;
	if (policy_check(&d, in)) {
		pending(r, "internal error: inconsistent policy input");
		return false;
	}
	/* Break-Glass used: for the window or for the source-stage gates
	 * (a rollback allowance overrides the window without it) */
	r->break_glass = (d.break_glass || d.overrode[0]) && !d.rollback_allowance;
	if (d.tag[0])
		strlcpy_(r->tag, d.tag, sizeof r->tag);
	if (d.code != POLICY_ALLOW) {
		request_verdict(e, r, &d);	/* its note: notes_plan */
		return false;
	}
	if (!branch_free) {
		pending(r, "accepted; waits for the promotion ahead of it");
		return false;
	}
	if (!engine_stage_may_act(e, r->stage, d.tag, r->id, why, sizeof why)) {
		pending(r, why);
		return false;
	}
	if (!(a = action_new(e, ACT_MERGE, r->stage)))
		return false;
	a->break_glass = d.break_glass;
	a->freeze_break_glass = d.overrode_frozen;
	a->rollback_allowance = d.rollback_allowance;
	if (d.rollback)
		strlcpy_(a->rolled_back_from, d.rolled_back_from, sizeof a->rolled_back_from);
	strlcpy_(a->tag, d.tag, sizeof a->tag);
	strlcpy_(a->req_name, r->name, sizeof a->req_name);
	strlcpy_(a->req_id, r->id, sizeof a->req_id);
	strlcpy_(a->author_name, r->facts->author_name ? r->facts->author_name : "",
		 sizeof a->author_name);
	strlcpy_(a->author_email, r->facts->author_email ? r->facts->author_email : "",
		 sizeof a->author_email);
	a->author.time = r->facts->author_time;
	a->author.offset_min = r->facts->author_offset;
	if (!action_digests(a, rel)) {
		e->nactions--;
		engine_action_free(a);
		pending(r, "waiting for the registry's digests of the release");
		return false;
	}
	if (format_message(a, &d, w, rel, r)) {
		e->nactions--;
		engine_action_free(a);
		return false;
	}
	{
		char acc[96];
		engine_accepted_note(acc, sizeof acc, r->stage, r->break_glass);
		buf_adds(&a->note, acc);
	}
	r->state = REQ_MERGING;
	r->code = POLICY_ALLOW;
	snprintf(r->message, sizeof r->message, "accepted%s; merging",
		 r->break_glass ? " (break-glass)" : "");
	log_notice("engine", "request '%s' (%.7s) accepted: promoting %.7s into %s%s%s", r->name,
		   r->id, d.tag, stage_name(r->stage), d.rollback ? " (rollback)" : "",
		   r->break_glass ? " (break-glass)" : d.rollback_allowance ?
		   " (rollbackDuringMarket)" : "");
	return true;
}

/* ---- the bounds of [requests]: queue-full and old refusals ---- */

/* Delete a refused request branch whose refusal note is on the remote
 * and whose tip is older than requests.expireRefused: the note stays on
 * the commit, so the audit loses nothing, and the branch no longer holds
 * a slot (or waits for one) forever. */
static void expire(struct engine *e, const char *name, const char *id, enum stage st)
{
	struct engine_action *a = action_new(e, ACT_EXPIRE, st);

	if (!a)
		return;
	strlcpy_(a->req_name, name, sizeof a->req_name);
	strlcpy_(a->req_id, id, sizeof a->req_id);
}

static bool note_is(const char *note, const char *message)
{
	size_t n = strlen(message);

	return note && strncmp(note, message, n) == 0 && note[n] == '\n' && note[n + 1] == '\0';
}

static void expire_refused(struct engine *e, struct engine_request *r, int64_t now)
{
	if (r->state != REQ_REFUSED || !r->facts || r->expiring || !r->note_settled ||
	    !engine_refusal_expired(r->tip_time, now, e->cfg->requests.expire_refused_ms))
		return;
	r->expiring = true;
	expire(e, r->name, r->id, r->stage_ok ? r->stage : STAGE_BETA);
}

static bool id_tracked(const struct engine *e, const char *id)
{
	for (size_t i = 0; i < ENGINE_MAX_REQUESTS; i++)
		if (e->req[i].used && strcmp(e->req[i].id, id) == 0)
			return true;
	return false;
}

/* Each waiting branch: its queue-full note once, its deletion once old. */
static void decide_waiting(struct engine *e, int64_t now)
{
	char text[POLICY_MESSAGE_MAX];

	for (size_t i = 0; i < e->nwaiting; i++) {
		struct engine_waiting *w = &e->waiting[i];
		enum stage st = STAGE_BETA;
		struct buf err = BUF_INIT;
		bool stage_ok = policy_parse_branch(&st, w->name, &err) == 0;
		const char *lv[2] = { stage_ok ? stage_name(st) : "unknown",
				      policy_code_name(POLICY_QUEUE_FULL) };
		struct engine_action *a;

		buf_release(&err);
		if (!w->counted && e->metrics && e->metrics->refusals)
			metrics_add(e->metrics->refusals, lv, 1);
		w->counted = true;
		/* the commit is judged under another name: that verdict is its note */
		if (w->declined || w->expiring || id_tracked(e, w->id))
			continue;
		engine_admit_message(text, sizeof text, w->why, e->cfg->requests.max,
				     e->cfg->requests.per_author);
		if (note_is(w->note, text)) {
			if (engine_refusal_expired(w->tip_time, now,
						   e->cfg->requests.expire_refused_ms)) {
				w->expiring = true;
				expire(e, w->name, w->id, st);
			}
			continue;
		}
		if (!(a = action_new(e, ACT_NOTE, st)))
			continue;
		strlcpy_(a->req_name, w->name, sizeof a->req_name);
		strlcpy_(a->req_id, w->id, sizeof a->req_id);
		buf_printf(&a->note, "%s\n", text);
	}
}

static void status_line(struct engine *e, const struct window *w, bool wok)
{
	size_t queued = 0, refused = 0, n;
	char win[128] = "window unknown";

	for (size_t i = 0; i < ENGINE_MAX_REQUESTS; i++) {
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

void engine_decide(struct engine *e)
{
	struct policy_input in;
	const char **hist_tags[STAGE_COUNT];
	struct window w;
	char wtext[160], qtext[STAGE_COUNT][256];
	bool wok, branch_free = true;
	int64_t now = (int64_t)time(NULL);

	if (e->stopping || !e->scan) {
		engine_cycle_done(e);
		return;
	}
	wok = engine_window_now(&w, e) == 0;
	engine_policy_input(&in, hist_tags, e);
	in.freezes = engine_freezes(e);
	in.tz = &e->tz;
	policy_window_set(&in.window, wtext, sizeof wtext, &w, wok);
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		policy_quiet_set(&in.quiet[st], qtext[st], sizeof qtext[st], e, (enum stage)st, &w,
				 wok);
	e->nactions = e->iaction = 0;
	e->auto_edge = 0;
	for (int st = STAGE_BETA; st < STAGE_COUNT && branch_free; st++)
		if (e->cfg->stages[st].enabled && e->cfg->stages[st].auto_promote &&
		    decide_auto(e, (enum stage)st, &in, &w))
			branch_free = false;
	for (size_t i = 0; i < ENGINE_MAX_REQUESTS; i++)
		if (e->req[i].used && decide_request(e, &e->req[i], &in, &w, branch_free))
			branch_free = false;
	engine_policy_input_release(hist_tags);
	notes_plan(e);
	for (size_t i = 0; i < ENGINE_MAX_REQUESTS; i++)
		if (e->req[i].used)
			expire_refused(e, &e->req[i], now);
	decide_waiting(e, now);
	engine_deploy_notes(e);
	status_line(e, &w, wok);
	engine_actions_run(e);
}
