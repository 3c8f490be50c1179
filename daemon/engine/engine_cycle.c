/* engine_cycle.c - one cycle as a state machine: the phases (enum
 * cycle_phase: ls-remote -> fetch -> admission -> scan -> registry ->
 * signatures -> deploy -> plan -> act -> done) and engine_advance(), the
 * one step between them, which owns the stopping check and the end of the
 * cycle.  A phase's step starts its work and says how it went (enum
 * phase_result); the callback that ends a wait records the answer and
 * reports through engine_phase_done().  No phase calls another.  Nothing
 * here blocks: git network work runs in pipelined-git, git object work on
 * the threadpool, registry work in libcurl's multi interface on the loop. */
#include "engine_int.h"
#include "log.h"
#include "sigverify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROMOTE_HEADS "refs/heads/promote/"

struct scan_job {
	struct engine *e;
	uint64_t started_ms;
	struct engine_scan *scan;
	size_t n;
	size_t idx[ENGINE_MAX_REQUESTS];
	char ids[ENGINE_MAX_REQUESTS][GITOPS_HEXSZ + 1];
	enum stage stages[ENGINE_MAX_REQUESTS];
	bool stage_ok[ENGINE_MAX_REQUESTS];	/* false: a malformed branch name */
	struct request_facts *facts[ENGINE_MAX_REQUESTS];
	/* the tracked branch's tip the request's facts were gathered on
	 * ("" none): on the same tip they are the same, only the note is read */
	char facts_tip[ENGINE_MAX_REQUESTS][GITOPS_HEXSZ + 1];
	bool reused[ENGINE_MAX_REQUESTS];
	size_t nreused;
};

/* what: NULL when why already names the operation (gitops' messages do). */
static void git_failed(struct engine *e, const char *what, const char *why)
{
	bool repeat = e->errors[SUB_GIT].msg[0] != '\0';
	char delay[32];

	engine_set_error(e, SUB_GIT, "%s%s%s", what ? what : "", what ? " failed: " : "", why);
	format_duration(delay, sizeof delay, engine_next_delay_ms(e));
	/* once per outage at error level; repeats are debug noise */
	if (!repeat)
		log_err("git", "%s, retrying in %s", e->errors[SUB_GIT].msg, delay);
	else
		log_debug("git", "still failing (%u), retrying in %s: %s",
			  e->errors[SUB_GIT].failures, delay, e->errors[SUB_GIT].msg);
}

static bool relevant_ref(const struct engine *e, const char *name)
{
	size_t bl = strlen(e->cfg->repository.branch);

	return (strncmp(name, "refs/heads/", 11) == 0 &&
		strncmp(name + 11, e->cfg->repository.branch, bl) == 0 && name[11 + bl] == '\0') ||
	       strncmp(name, PROMOTE_HEADS, strlen(PROMOTE_HEADS)) == 0 ||
	       strcmp(name, GITOPS_NOTES_REF) == 0;
}

/* FNV-1a over the refs that matter: equal means nothing to fetch. */
static void fingerprint(char out[65], const struct engine *e, const struct gitops_ref *refs,
			size_t n)
{
	uint64_t h1 = 1469598103934665603ull, h2 = 1099511628211ull * 7;

	for (size_t i = 0; i < n; i++) {
		if (!relevant_ref(e, refs[i].name))
			continue;
		for (const char *p = refs[i].name; *p; p++)
			h1 = (h1 ^ (unsigned char)*p) * 1099511628211ull;
		for (const char *p = refs[i].id; *p; p++)
			h2 = (h2 ^ (unsigned char)*p) * 1099511628211ull;
		h1 = (h1 ^ h2) * 1099511628211ull;
	}
	snprintf(out, 65, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

static struct engine_request *request_find(struct engine *e, const char *name)
{
	struct engine_request *free_slot = NULL;

	for (size_t i = 0; i < e->req_hi; i++) {
		if (e->req[i].used && strcmp(e->req[i].name, name) == 0)
			return &e->req[i];
		if (!e->req[i].used && !free_slot)
			free_slot = &e->req[i];
	}
	if (!free_slot && e->req_hi < ENGINE_MAX_REQUESTS)
		free_slot = &e->req[e->req_hi++];
	return free_slot;
}

static void request_reset(struct engine *e, struct engine_request *r, const char *name,
			  const char *id)
{
	struct buf err = BUF_INIT;

	engine_facts_free(r->facts);
	memset(r, 0, sizeof *r);
	r->used = true;
	strlcpy_(r->name, name, sizeof r->name);
	strlcpy_(r->id, id, sizeof r->id);
	r->since = (int64_t)time(NULL);
	r->stage_ok = policy_parse_branch(&r->stage, name, &err) == 0;
	if (!r->stage_ok) {
		r->state = REQ_REFUSED;
		r->code = POLICY_MALFORMED;
		snprintf(r->message, sizeof r->message, "malformed: %s",
			 err.data ? err.data : "bad request branch name");
	}
	buf_release(&err);
}

/* ---- admission: which request branches are tracked (engine_admit.c) ---- */

struct meta_job {
	struct engine *e;
	uint64_t started_ms;
	struct engine_branch_meta *m;
	size_t n;
};

static void meta_free(struct engine_branch_meta *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].note);
	free(m);
}

/* Waiting branches in the order they will get slots: oldest tip first. */
static int waiting_cmp(const void *x, const void *y)
{
	const struct engine_waiting *a = x, *b = y;

	if (a->tip_time != b->tip_time)
		return a->tip_time < b->tip_time ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The condition, not each branch, goes to the journal: once when
 * branches begin to wait, once when none waits any more. */
static void waiting_log(struct engine *e)
{
	size_t by_author = 0;

	for (size_t i = 0; i < e->nwaiting; i++)
		by_author += e->waiting[i].why == ADMIT_FULL_AUTHOR;
	if (e->metrics && e->metrics->requests_waiting)
		metrics_set(e->metrics->requests_waiting, NULL, (double)e->nwaiting);
	if (e->nwaiting && !e->over_logged)
		log_warn("engine", "%zu request branch(es) past the bounds (%zu over "
			 "requests.perAuthor = %u, %zu over requests.max = %u): refused as "
			 "queue-full and admitted oldest first as slots free up",
			 e->nwaiting, by_author, (unsigned)e->cfg->requests.per_author,
			 e->nwaiting - by_author, (unsigned)e->cfg->requests.max);
	else if (!e->nwaiting && e->over_logged)
		log_notice("engine", "every request branch is tracked again");
	e->over_logged = e->nwaiting > 0;
}

/* The request table follows the remote's request branches, m[0..n) as
 * read after the fetch; those admission passes over wait (e->waiting). */
static int requests_update(struct engine *e, struct engine_branch_meta *m, size_t n)
{
	struct admit_branch *b = calloc(n ? n : 1, sizeof *b);
	enum admit_result *res = calloc(n ? n : 1, sizeof *res);
	struct engine_waiting *w = calloc(n ? n : 1, sizeof *w);
	size_t nw = 0;

	if (!b || !res || !w) {
		free(b);
		free(res);
		free(w);
		return ERR_NOMEM;
	}
	for (size_t i = 0; i < e->req_hi; i++)
		e->req[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct engine_request *r = request_find(e, m[i].name);
		b[i].name = m[i].name;
		b[i].author = m[i].author;
		b[i].time = m[i].time;
		b[i].tracked = r && r->used;
		if (b[i].tracked)
			r->seen = true;
	}
	/* the slots of deleted branches are free for this listing already */
	for (size_t i = 0; i < e->req_hi; i++) {
		struct engine_request *r = &e->req[i];
		if (r->used && !r->seen) {
			if (r->state != REQ_MERGED && !r->expiring)
				log_info("engine", "request '%s' is gone", r->name);
			engine_facts_free(r->facts);
			memset(r, 0, sizeof *r);
		}
	}
	if (engine_admit(res, b, n, e->cfg->requests.max, e->cfg->requests.per_author)) {
		free(b);
		free(res);
		free(w);
		return ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = m[i].name;
		struct engine_request *r = res[i] == ADMIT_SLOT ? request_find(e, name) : NULL;

		if (!r) {
			const struct engine_waiting *old = engine_waiting_find(e, name, m[i].id);
			struct engine_waiting *q = &w[nw++];
			strlcpy_(q->name, name, sizeof q->name);
			strlcpy_(q->id, m[i].id, sizeof q->id);
			strlcpy_(q->author, m[i].author, sizeof q->author);
			q->tip_time = m[i].time;
			q->why = res[i] == ADMIT_SLOT ? ADMIT_FULL_MAX : res[i];
			q->note = m[i].note;
			m[i].note = NULL;
			q->counted = old && old->counted;
			q->declined = old && old->declined;
			continue;
		}
		if (!r->used || strcmp(r->id, m[i].id) != 0) {
			if (r->used)
				log_info("engine", "request '%s' moved to %.7s", name, m[i].id);
			else
				log_info("engine", "new request '%s' at %.7s", name, m[i].id);
			request_reset(e, r, name, m[i].id);
		}
		r->tip_time = m[i].time;
		strlcpy_(r->author, m[i].author, sizeof r->author);
		r->seen = true;
	}
	qsort(w, nw, sizeof *w, waiting_cmp);
	engine_waiting_free(e);
	e->waiting = w;
	e->nwaiting = nw;
	free(b);
	free(res);
	waiting_log(e);
	return 0;
}

/* A branch at the same tip as in the last listing: its commit's time and
 * author cannot have changed, and its note is the one a tracked request's
 * facts read anyway, or the queue-full note this daemon wrote (or found):
 * nothing to read again. */
static void meta_known(const struct engine *e, struct engine_branch_meta *m)
{
	const struct engine_waiting *w = engine_waiting_find(e, m->name, m->id);

	if (w) {
		strlcpy_(m->author, w->author, sizeof m->author);
		m->time = w->tip_time;
		m->note = w->note ? xstrndup(w->note, strlen(w->note)) : NULL;
		m->known = !w->note || m->note;
		return;
	}
	for (size_t i = 0; i < e->req_hi; i++) {
		const struct engine_request *r = &e->req[i];
		if (r->used && strcmp(r->name, m->name) == 0 && strcmp(r->id, m->id) == 0) {
			strlcpy_(m->author, r->author, sizeof m->author);
			m->time = r->tip_time;
			m->known = true;
			return;
		}
	}
}

static int meta_work_cb(struct gitops *g, void *data)
{
	struct meta_job *j = data;
	char notes[GITOPS_HEXSZ + 1];
	bool have_notes = gitops_resolve(notes, g, GITOPS_TRACKING "notes/pipelined") == 0;

	for (size_t k = 0; k < j->n; k++)
		if (!j->m[k].known &&
		    engine_branch_meta_read(&j->m[k], g, have_notes ? notes : NULL))
			return ERR_NOMEM;
	return 0;
}

static void meta_done_cb(struct gitops *g, int rc, void *data)
{
	struct meta_job *j = data;
	struct engine *e = j->e;

	log_debug("engine", "read %zu request branch tip(s) in %llums", j->n,
		  (unsigned long long)(uv_now(e->loop) - j->started_ms));
	if (rc == 0)
		rc = requests_update(e, j->m, j->n);
	meta_free(j->m, j->n);
	free(j);
	if (rc)
		git_failed(e, "reading the request branches", "out of memory");
	engine_phase_done(e, rc ? PHASE_END : PHASE_NEXT);
}

/* After a fetch: the tip time, author and note of every listed request
 * branch (at most ENGINE_MAX_LISTED), for admission. */
static enum phase_result start_meta(struct engine *e)
{
	struct meta_job *j = calloc(1, sizeof *j);
	size_t listed = 0;

	for (size_t i = 0; i < e->nrefs; i++)
		listed += strncmp(e->refs[i].name, PROMOTE_HEADS, strlen(PROMOTE_HEADS)) == 0;
	if (listed > ENGINE_MAX_LISTED && !e->listed_over_logged)
		log_warn("engine", "the remote has %zu request branches; only the first %d in "
			 "name order are looked at until there are fewer", listed,
			 ENGINE_MAX_LISTED);
	else if (listed <= ENGINE_MAX_LISTED && e->listed_over_logged)
		log_notice("engine", "the remote has %zu request branches again, all looked at",
			   listed);
	e->listed_over_logged = listed > ENGINE_MAX_LISTED;
	if (listed > ENGINE_MAX_LISTED)
		listed = ENGINE_MAX_LISTED;
	if (!j || !(j->m = calloc(listed ? listed : 1, sizeof *j->m))) {
		free(j);
		git_failed(e, "reading the request branches", "out of memory");
		return PHASE_END;
	}
	j->e = e;
	j->started_ms = uv_now(e->loop);
	for (size_t i = 0; i < e->nrefs && j->n < listed; i++) {
		const char *name = e->refs[i].name;
		if (strncmp(name, PROMOTE_HEADS, strlen(PROMOTE_HEADS)) != 0)
			continue;
		strlcpy_(j->m[j->n].name, name + strlen("refs/heads/"), sizeof j->m[0].name);
		strlcpy_(j->m[j->n].id, e->refs[i].id, sizeof j->m[0].id);
		meta_known(e, &j->m[j->n]);
		j->n++;
	}
	if (gitops_queue(e->git, e->loop, meta_work_cb, meta_done_cb, j)) {
		char why[ENGINE_ERR_MAX];
		snprintf(why, sizeof why, "%s", gitops_error(e->git));
		meta_free(j->m, j->n);
		free(j);
		git_failed(e, "reading the request branches", why);
		return PHASE_END;
	}
	return PHASE_WAIT;
}

static int scan_work_cb(struct gitops *g, void *data)
{
	struct scan_job *j = data;
	const struct config *cfg = j->e->cfg;
	int rc = engine_scan_run(j->scan, g, cfg);

	if (rc)
		return rc;
	for (size_t k = 0; k < j->n; k++) {
		j->reused[k] = j->facts_tip[k][0] && strcmp(j->facts_tip[k], j->scan->tip) == 0;
		j->nreused += j->reused[k];
		rc = j->stage_ok[k] && !j->reused[k] ?
		     engine_facts_gather(&j->facts[k], g, cfg, &j->scan->hist, j->scan->tip,
					 j->ids[k], j->stages[k]) :
		     engine_facts_note_only(&j->facts[k], g, &j->scan->hist,
						    j->scan->tip, j->ids[k]);
		if (rc)
			return ERR_NOMEM;
	}
	return 0;
}

static void scan_done_cb(struct gitops *g, int rc, void *data)
{
	struct scan_job *j = data;
	struct engine *e = j->e;

	if (rc) {
		char why[ENGINE_ERR_MAX];
		snprintf(why, sizeof why, "%s", j->scan->error[0] ? j->scan->error :
			 gitops_error(g));
		engine_scan_free(j->scan);
		for (size_t k = 0; k < j->n; k++)
			engine_facts_free(j->facts[k]);
		free(j);
		git_failed(e, "scan of the mirror", why);
		engine_phase_done(e, PHASE_END);
		return;
	}
	log_debug("engine", "scanned the mirror and %zu request(s) (%zu unchanged) in %llums",
		  j->n, j->nreused, (unsigned long long)(uv_now(e->loop) - j->started_ms));
	engine_scan_free(e->scan);
	e->scan = j->scan;
	engine_freeze_update(e);
	for (size_t k = 0; k < j->n; k++) {
		struct engine_request *r = &e->req[j->idx[k]];
		if (j->reused[k] && r->facts && j->facts[k]) {
			/* the same facts; the note may have changed */
			free(r->facts->note);
			r->facts->note = j->facts[k]->note;
			j->facts[k]->note = NULL;
			engine_facts_free(j->facts[k]);
			continue;
		}
		engine_facts_free(r->facts);
		r->facts = j->facts[k];
		strlcpy_(r->facts_tip, r->stage_ok && r->facts && !r->facts->error[0] ?
			 e->scan->tip : "", sizeof r->facts_tip);
		r->facts_gen = e->cfg_gen;
		if (r->facts && r->facts->error[0])
			log_warn("git", "%s", r->facts->error);
	}
	free(j);
	e->scanned = true;
	engine_clear_error(e, SUB_GIT);
	/* the layout check: before anything is written into a stage */
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		engine_stage_layout(e, (enum stage)st, e->cfg->stages[st].enabled ?
				    e->scan->layout_error[st] : "");
	engine_phase_done(e, PHASE_NEXT);
}

static enum phase_result start_scan(struct engine *e)
{
	struct scan_job *j = calloc(1, sizeof *j);

	if (!j || !(j->scan = calloc(1, sizeof *j->scan))) {
		free(j);
		git_failed(e, "scan of the mirror", "out of memory");
		return PHASE_END;
	}
	j->e = e;
	j->started_ms = uv_now(e->loop);
	j->scan->freeze_want_back = !e->freeze;
	/* facts depend on the tip too (merge base, merged, used): gathered again
	 * when it moved, else only the note is read (scan_work_cb) */
	for (size_t i = 0; i < e->req_hi; i++) {
		struct engine_request *r = &e->req[i];
		if (!r->used)
			continue;
		/* a malformed request's refusal is recorded as a note too: its
		 * current note says whether that is done */
		j->idx[j->n] = i;
		strlcpy_(j->ids[j->n], r->id, sizeof j->ids[0]);
		j->stages[j->n] = r->stage;
		j->stage_ok[j->n] = r->stage_ok;
		/* facts depend on the request's tip (its slot is reset when it
		 * moves), the tracked branch's tip and the configuration */
		strlcpy_(j->facts_tip[j->n], r->facts && r->facts_gen == e->cfg_gen ?
			 r->facts_tip : "", sizeof j->facts_tip[0]);
		r->sig_done = false;
		j->n++;
	}
	if (gitops_queue(e->git, e->loop, scan_work_cb, scan_done_cb, j)) {
		char why[ENGINE_ERR_MAX];
		snprintf(why, sizeof why, "%s", gitops_error(e->git));
		engine_scan_free(j->scan);
		free(j);
		git_failed(e, "scan of the mirror", why);
		return PHASE_END;
	}
	return PHASE_WAIT;
}

static void fetch_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct engine *e = data;

	if (res->rc) {
		git_failed(e, NULL, res->error);
		engine_phase_done(e, PHASE_END);
		return;
	}
	log_debug("git", "fetched in %llums", (unsigned long long)res->elapsed_ms);
	engine_phase_done(e, PHASE_NEXT);
}

static enum phase_result start_fetch(struct engine *e)
{
	if (gitops_fetch_start(e->git, e->loop, fetch_done_cb, e)) {
		git_failed(e, "fetch", gitops_error(e->git));
		return PHASE_END;
	}
	return PHASE_WAIT;
}

static void ls_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct engine *e = data;
	char fp[65];

	if (res->rc) {
		git_failed(e, NULL, res->error);
		engine_phase_done(e, PHASE_END);
		return;
	}
	free(e->refs);
	e->refs = NULL;
	e->nrefs = 0;
	if (res->nrefs && (e->refs = malloc(res->nrefs * sizeof *e->refs))) {
		memcpy(e->refs, res->refs, res->nrefs * sizeof *e->refs);
		e->nrefs = res->nrefs;
	}
	fingerprint(fp, e, e->refs, e->nrefs);
	if (e->scan && strcmp(fp, e->fingerprint) == 0) {
		/* nothing moved: no fetch, no scan; cached facts decide */
		engine_clear_error(e, SUB_GIT);
		engine_phase_done(e, PHASE_UNCHANGED);
		return;
	}
	memcpy(e->fingerprint, fp, sizeof fp);
	engine_phase_done(e, PHASE_NEXT);
}

static enum phase_result start_ls_remote(struct engine *e)
{
	if (gitops_ls_remote_start(e->git, e->loop, ls_done_cb, e)) {
		git_failed(e, "ls-remote", gitops_error(e->git));
		return PHASE_END;
	}
	return PHASE_WAIT;
}

/* ---- registry phase ---- */

static bool release_due(const struct engine *e, const struct engine_release *r, uint64_t now)
{
	bool settled = r->checked && r->complete &&
		       (!engine_inttest_enabled(e) ||
			(r->ev_checked && r->ev == REGISTRY_EVIDENCE_PASSED));

	return !settled && now >= r->next_check_ms;
}

static void check_add(struct engine *e, const char *sha, size_t cap)
{
	for (size_t i = 0; i < e->ncheck; i++)
		if (strcmp(e->check[i], sha) == 0)
			return;
	if (e->ncheck < cap)
		strlcpy_(e->check[e->ncheck++], sha, sizeof e->check[0]);
}

static bool any_auto(const struct engine *e)
{
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		if (e->cfg->stages[st].enabled && e->cfg->stages[st].auto_promote)
			return true;
	return false;
}

/* Which release ids to ask about: candidates newest first down to the
 * first settled one (older ones cannot be picked), and request tags. */
static void build_checks(struct engine *e)
{
	size_t cap = ENGINE_MAX_CANDIDATES + ENGINE_MAX_REQUESTS, waiting = 0;
	uint64_t now = uv_now(e->loop);

	if (!e->check && !(e->check = calloc(cap, sizeof *e->check)))
		return;
	e->ncheck = e->icheck = 0;
	for (size_t i = 0; e->scan && any_auto(e) && i < e->scan->ncand; i++) {
		struct engine_release *r = engine_release_get(e, e->scan->cand[i], true);
		if (!r)
			break;
		if (r->checked && r->complete && !release_due(e, r, now))
			break;
		/* a commit that is never built (docs, a failed CI run) must not
		 * cost requests forever: only the newest few unfinished ones */
		if (++waiting > ENGINE_MAX_WAITING)
			break;
		if (release_due(e, r, now))
			check_add(e, r->sha, cap);
	}
	for (size_t i = 0; i < e->req_hi; i++) {
		const struct engine_request *q = &e->req[i];
		struct engine_release *r;
		if (!q->used || !q->facts || q->facts->ntags != 1 ||
		    !tag_is_sha1(q->facts->tags[0], strlen(q->facts->tags[0])))
			continue;
		if ((r = engine_release_get(e, q->facts->tags[0], true)) && release_due(e, r, now))
			check_add(e, r->sha, cap);
	}
}

static void count_request(struct engine *e, const char *result)
{
	const char *lv[1] = { result };

	if (e->metrics && e->metrics->registry_requests)
		metrics_add(e->metrics->registry_requests, lv, 1);
}

/* A release still missing images or evidence is asked about again next
 * cycle, then less often (at most every 4 polls): a commit that never gets
 * built must not cost requests every cycle.  A webhook resets this. */
static void recheck_later(struct engine *e, struct engine_release *r)
{
	uint64_t poll = e->cfg->registry.poll_interval_ms;
	unsigned shift = r->misses < 2 ? 0 : r->misses - 1;

	if (shift > ENGINE_RECHECK_MAX_SHIFT)
		shift = ENGINE_RECHECK_MAX_SHIFT;
	r->misses++;
	r->next_check_ms = uv_now(e->loop) + (poll << shift) - poll / 2;
}

static void registry_failed(struct engine *e, const char *sha, const char *why)
{
	bool repeat = e->errors[SUB_REGISTRY].msg[0] != '\0';
	uint64_t wait = e->reg ? registry_retry_in_ms(e->reg) : 0;

	engine_set_error(e, SUB_REGISTRY, "release %.7s: %s", sha, why);
	if (!repeat && strstr(why, "retrying"))
		log_err("registry", "cannot check release %.7s: %s", sha, why);
	else if (!repeat)
		log_err("registry", "cannot check release %.7s: %s, retrying in %llus", sha, why,
			(unsigned long long)(wait / 1000));
	/* a registry that cannot answer means wait: nothing is decided on a guess */
	e->icheck = e->ncheck;
	engine_phase_done(e, PHASE_NEXT);
}

/* The release an answer is about.  NULL when its entry was evicted while
 * the question was out (more than ENGINE_MAX_RELEASES ids in play): the
 * answer has nowhere to go, and asking again would only be dropped again,
 * so the phase goes on with the next release; the next cycle asks afresh.
 * Both answers (the release, its evidence) share this. */
static struct engine_release *answer_for(struct engine *e, const char *sha)
{
	struct engine_release *r = engine_release_get(e, sha, false);

	if (!r)
		e->icheck++;
	return r;
}

/* Unreadable evidence is a fact about one artifact: said once per release
 * and manifest digest, kept (no retry storm: the registry client only
 * HEADs the manifest until its digest changes). */
static void evidence_unreadable(struct engine_release *r, const struct registry_evidence *res)
{
	bool same = r->ev_checked && r->ev == REGISTRY_EVIDENCE_UNREADABLE &&
		    strcmp(r->ev_artifact, res->artifact) == 0;

	r->ev_checked = true;
	r->ev = REGISTRY_EVIDENCE_UNREADABLE;
	r->ev_failures[0] = r->ev_summary[0] = '\0';
	if (res->unchanged || same)
		return;
	strlcpy_(r->ev_error, res->error, sizeof r->ev_error);
	strlcpy_(r->ev_artifact, res->artifact, sizeof r->ev_artifact);
	log_warn("registry", "evidence of release %.7s is unreadable: %s; it is read again when "
		 "the artifact (%.19s) changes", r->sha, r->ev_error, r->ev_artifact);
}

static void evidence_cb(const struct registry_evidence *res, void *arg)
{
	struct engine *e = arg;
	struct engine_release *r = answer_for(e, res->sha);

	if (!r) {
		engine_phase_done(e, PHASE_AGAIN);
		return;
	}
	if (res->status == REGISTRY_EVIDENCE_ERROR) {
		count_request(e, "error");
		registry_failed(e, res->sha, res->error);
		return;
	}
	count_request(e, registry_evidence_status_name(res->status));
	engine_clear_error(e, SUB_REGISTRY);
	if (res->status == REGISTRY_EVIDENCE_UNREADABLE) {
		evidence_unreadable(r, res);
		recheck_later(e, r);
		e->icheck++;
		engine_phase_done(e, PHASE_AGAIN);
		return;
	}
	bool was_failed = r->ev_checked && r->ev == REGISTRY_EVIDENCE_FAILED;
	bool was_unreadable = r->ev_checked && r->ev == REGISTRY_EVIDENCE_UNREADABLE;
	r->ev_checked = true;
	r->ev = res->status;
	r->ev_failures[0] = r->ev_summary[0] = r->ev_error[0] = r->ev_artifact[0] = '\0';
	if (res->status == REGISTRY_EVIDENCE_PASSED || res->status == REGISTRY_EVIDENCE_FAILED) {
		snprintf(r->ev_summary, sizeof r->ev_summary, "%s %lld/%lld",
			 res->status == REGISTRY_EVIDENCE_PASSED ? "passed" : "failed",
			 (long long)(res->status == REGISTRY_EVIDENCE_PASSED ? res->ev.passed :
				     res->ev.failed),
			 (long long)res->ev.total);
		strlcpy_(r->ev_failures, res->ev.failures, sizeof r->ev_failures);
	}
	if (was_unreadable)
		log_notice("registry", "evidence of release %.7s is readable now: %s", r->sha,
			   r->ev_summary[0] ? r->ev_summary : registry_evidence_status_name(r->ev));
	if (res->status == REGISTRY_EVIDENCE_FAILED && !was_failed)
		log_warn("registry", "integration tests of %.7s failed (%s)%s%s", r->sha,
			 r->ev_summary, r->ev_failures[0] ? ": " : "", r->ev_failures);
	if (res->status != REGISTRY_EVIDENCE_PASSED)
		recheck_later(e, r);
	e->icheck++;
	engine_phase_done(e, PHASE_AGAIN);
}

/* The digests a complete answer verified, by configured image: what a
 * stage with digest = true pins beside the tag. */
static void keep_digests(struct engine *e, struct engine_release *r,
			 const struct registry_release *res)
{
	const struct config_list *imgs = &e->cfg->registry.images;
	size_t found = 0;

	r->have_digests = false;
	if (!r->complete)
		return;
	for (size_t k = 0; k < imgs->n && k < CONFIG_MAX_IMAGES; k++) {
		r->digests[k][0] = '\0';
		for (size_t i = 0; i < res->n_images; i++)
			if (res->images[i].state == REGISTRY_IMG_PRESENT && res->images[i].image &&
			    strcmp(res->images[i].image, imgs->v[k]) == 0) {
				strlcpy_(r->digests[k], res->images[i].digest, sizeof r->digests[k]);
				found += r->digests[k][0] != '\0';
				break;
			}
	}
	r->have_digests = found == imgs->n;
}

static void release_cb(const struct registry_release *res, void *arg)
{
	struct engine *e = arg;
	struct engine_release *r = answer_for(e, res->sha);

	if (!r) {
		engine_phase_done(e, PHASE_AGAIN);
		return;
	}
	if (res->status == REGISTRY_ERROR) {
		count_request(e, "error");
		registry_failed(e, res->sha, res->error);
		return;
	}
	count_request(e, registry_status_name(res->status));
	engine_clear_error(e, SUB_REGISTRY);
	r->checked = true;
	r->complete = res->status == REGISTRY_COMPLETE;
	r->present = res->n_present;
	r->total = res->n_images;
	r->missing[0] = '\0';
	for (size_t i = 0; i < res->n_images; i++)
		if (res->images[i].state == REGISTRY_IMG_MISSING) {
			strlcpy_(r->missing, res->images[i].image, sizeof r->missing);
			break;
		}
	keep_digests(e, r, res);
	if (!r->complete) {
		recheck_later(e, r);
	} else if (engine_inttest_enabled(e)) {
		r->misses = 0;
		if (registry_evidence_fetch(e->reg, r->sha,
					    r->ev_checked && r->ev == REGISTRY_EVIDENCE_UNREADABLE &&
					    r->ev_artifact[0] ? r->ev_artifact : NULL, evidence_cb,
					    e) == 0)
			return;
		registry_failed(e, r->sha, "registry is backing off");
		return;
	} else {
		r->misses = 0;
	}
	e->icheck++;
	engine_phase_done(e, PHASE_AGAIN);
}

/* The registry phase: one release id at a time, e->check[e->icheck]. */
static enum phase_result registry_step(struct engine *e)
{
	if (e->icheck == 0 && e->ncheck == 0)
		build_checks(e);
	while (e->icheck < e->ncheck) {
		const char *sha = e->check[e->icheck];
		if (!e->reg || registry_retry_in_ms(e->reg) > 0) {
			/* backing off: keep the facts we have, decide nothing new on them */
			e->icheck = e->ncheck;
			break;
		}
		if (registry_release_check(e->reg, sha, release_cb, e) == 0)
			return PHASE_WAIT;
		e->icheck++;
	}
	return PHASE_NEXT;
}

/* ---- signatures ---- */

/* The request's own signature (isig_k -1), then each approval's (issue 14
 * item 3) where the stage wants approvals. */
static bool sig_wanted(const struct engine *e, const struct engine_request *r)
{
	const struct config_stage *cs = &e->cfg->stages[r->stage];

	return (cs->require_signature || cs->approvals) && cs->signers;
}

static void sig_advance(struct engine *e, struct engine_request *r)
{
	size_t n = e->cfg->stages[r->stage].approvals ? r->facts->napprovals : 0;

	if (++e->isig_k >= (int)n) {
		r->sig_done = true;
		e->isig++;
		e->isig_k = -1;
	}
}

static void sig_cb(const struct sigverify_result *res, void *data)
{
	struct engine *e = data;
	struct engine_request *r = &e->req[e->isig];
	bool good = res->verdict == POLICY_SIG_GOOD;

	if (e->isig_k < 0) {
		r->sig = res->verdict;
		strlcpy_(r->signer, good ? res->principal : "", sizeof r->signer);
		strlcpy_(r->signer_principals, good ? res->principals : "",
			 sizeof r->signer_principals);
		strlcpy_(r->signer_key, res->key, sizeof r->signer_key);
	} else {
		struct request_approval *a = &r->appr[e->isig_k];
		a->sig = res->verdict;
		strlcpy_(a->principal, good ? res->principal : "", sizeof a->principal);
		strlcpy_(a->principals, good ? res->principals : "", sizeof a->principals);
		strlcpy_(a->key, res->key, sizeof a->key);
		a->done = true;
	}
	if (res->verdict == POLICY_SIG_UNCHECKED)
		engine_set_error(e, SUB_SIGNATURE, "request %.7s: %s", r->id, res->error);
	else
		engine_clear_error(e, SUB_SIGNATURE);
	sig_advance(e, r);
	engine_phase_done(e, PHASE_AGAIN);
}

/* Starts one verification (0), or records a verdict known without one. */
static int sig_start_one(struct engine *e, struct engine_request *r)
{
	const struct config_stage *cs = &e->cfg->stages[r->stage];
	const struct buf *sig, *pay;
	bool is_signed;

	if (e->isig_k < 0) {
		sig = &r->facts->sig;
		pay = &r->facts->payload;
		is_signed = r->facts->is_signed;
		memset(r->appr, 0, sizeof r->appr);
		r->signer[0] = r->signer_principals[0] = r->signer_key[0] = '\0';
		r->sig = is_signed ? POLICY_SIG_UNCHECKED : POLICY_SIG_UNSIGNED;
	} else {
		const struct fact_approval *fa = &r->facts->approvals[e->isig_k];
		sig = &fa->sig;
		pay = &fa->payload;
		is_signed = fa->is_signed;
		r->appr[e->isig_k].sig = is_signed ? POLICY_SIG_UNCHECKED : POLICY_SIG_UNSIGNED;
	}
	if (!is_signed)
		return ERR_NOTFOUND;
	return sigverify_start(e->loop, cs->signers, sig->data, sig->len, pay->data, pay->len, 0,
			       sig_cb, e);
}

/* The signatures phase: one request (e->isig) and key (e->isig_k) at a time. */
static enum phase_result sig_step(struct engine *e)
{
	while (e->isig < e->req_hi) {
		struct engine_request *r = &e->req[e->isig];
		if (!r->used || !r->facts || !r->stage_ok || r->sig_done || !sig_wanted(e, r)) {
			e->isig++;
			e->isig_k = -1;
			continue;
		}
		if (sig_start_one(e, r) == 0)
			return PHASE_WAIT;
		sig_advance(e, r);
	}
	return PHASE_NEXT;
}

/* ---- the state machine ---- */

static enum phase_result (*const phase_step[CYCLE_DONE])(struct engine *e) = {
	[CYCLE_LS_REMOTE] = start_ls_remote,
	[CYCLE_FETCH] = start_fetch,
	[CYCLE_ADMIT] = start_meta,
	[CYCLE_SCAN] = start_scan,
	[CYCLE_REGISTRY] = registry_step,
	[CYCLE_SIGNATURES] = sig_step,
	[CYCLE_DEPLOY] = engine_deploy_phase,
	[CYCLE_PLAN] = engine_decide,
	[CYCLE_ACT] = engine_actions_step,
};

static enum cycle_phase phase_after(enum cycle_phase p, enum phase_result r)
{
	switch (r) {
	case PHASE_AGAIN:
		return p;
	case PHASE_UNCHANGED:	/* ls-remote: the mirror and its facts are current */
		return CYCLE_REGISTRY;
	case PHASE_END:
		return CYCLE_DONE;
	default:
		return p + 1;
	}
}

/* A phase begins: its cursor at the start. */
static void phase_enter(struct engine *e, enum cycle_phase p)
{
	switch (p) {
	case CYCLE_REGISTRY:
		e->ncheck = e->icheck = 0;
		break;
	case CYCLE_SIGNATURES:
		e->isig = 0;
		e->isig_k = -1;
		break;
	case CYCLE_ACT:
		e->iaction = 0;
		break;
	default:
		break;
	}
}

void engine_advance(struct engine *e, enum phase_result r)
{
	for (;;) {
		/* a stop ends the cycle at the next boundary: the work in
		 * flight has finished (its callback brought us here) */
		enum cycle_phase next = e->stopping ? CYCLE_DONE : phase_after(e->phase, r);

		if (next != e->phase)
			phase_enter(e, next);
		e->phase = next;
		if (next == CYCLE_DONE) {
			engine_actions_release(e);
			e->phase = CYCLE_IDLE;
			e->hooks.cycle_end(e);
			return;
		}
		if ((r = phase_step[next](e)) == PHASE_WAIT)
			return;
	}
}

void engine_cycle_start(struct engine *e)
{
	if (e->running || e->stopping)
		return;
	e->running = true;
	e->again = e->promoted = false;
	e->cycle_started_ms = uv_now(e->loop);
	if (e->reg)
		registry_cycle_begin(e->reg);
	e->phase = CYCLE_IDLE;
	engine_advance(e, PHASE_NEXT);
}
