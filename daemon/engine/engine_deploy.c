/* engine_deploy.c - what Argo CD runs at each deploy stage, next to what
 * Git says it should run.
 *
 * The Argo CD client (argocd.h, owned by pipelined.c) hands each
 * Application's facts here on the loop; each watched stage keeps them and
 * one verdict (argocd_judge) against the stage's current tag and latest
 * promotion commit from the last scan.  Whether the synced revision
 * contains that promotion is a question for the mirror: asked off the loop
 * thread in the cycle (between the registry phase and the decisions), and
 * until it is answered the verdict is not changed (nor "deployed").  A
 * revision the mirror does not have yet does not contain the promotion.
 * Each verdict change is one journal line.  When a stage's latest promotion
 * is first judged deployed, the cycle pushes a note on the promotion
 * commit under GITOPS_DEPLOY_NOTES_REF, once (the mirror's copy of that
 * ref says whether it is there already); when that note lands, the
 * seconds from the promotion's commit to its deployed verdict go into the
 * commit-to-healthy histogram, so a restart (the note is there) observes
 * nothing twice, and the note's Deployed: time is what status reports as
 * deployed_at after one.  Nothing here gates a promotion:
 * an Argo CD outage only makes the verdicts unknown. */
#include "engine_int.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

bool engine_deploy_watched(const struct engine *e, enum stage st)
{
	const struct config *cfg = e->cfg;

	return cfg->argocd.enabled && stage_is_deploy(st) && cfg->stages[st].enabled &&
	       cfg->stages[st].application;
}

static void facts_release(struct engine_deployed *d)
{
	if (d->have)
		argocd_app_release(&d->facts);
	d->have = false;
}

void engine_deploy_release(struct engine *e)
{
	for (int st = 0; st < STAGE_COUNT; st++)
		facts_release(&e->deployed[st]);
}

static int facts_copy(struct argocd_app *dst, const struct argocd_app *src)
{
	*dst = *src;
	dst->images = NULL;
	dst->nimages = 0;
	if (!src->nimages)
		return 0;
	if (!(dst->images = calloc(src->nimages, sizeof *dst->images)))
		return ERR_NOMEM;
	for (size_t i = 0; i < src->nimages; i++) {
		if (!(dst->images[i] = xstrndup(src->images[i], strlen(src->images[i])))) {
			argocd_app_release(dst);
			return ERR_NOMEM;
		}
		dst->nimages++;
	}
	return 0;
}

static void verdict_metric(struct engine *e, enum stage st, enum argocd_verdict v, bool on)
{
	if (!e->metrics || !e->metrics->stage_deployed)
		return;
	for (int i = ARGOCD_UNKNOWN; i <= ARGOCD_SYNC_FAILED; i++) {
		const char *lv[2] = { stage_name(st), argocd_verdict_name((enum argocd_verdict)i) };

		metrics_set(e->metrics->stage_deployed, lv, on && i == (int)v ? 1 : 0);
	}
}

/* Argo CD's sync status and health as gauges, 1 for the reported one.  A
 * value outside Argo CD's documented set counts as Unknown, so the series
 * stay bounded; all 0 while nothing is known (or the stage is not
 * followed). */
static void status_metric(struct metric_family *f, enum stage st, const char *const *names,
			  size_t n, const char *now)
{
	bool known = false;

	for (size_t i = 0; now && i < n; i++)
		known |= strcmp(names[i], now) == 0;
	for (size_t i = 0; i < n; i++) {
		const char *lv[2] = { stage_name(st), names[i] };
		bool on = now && (known ? strcmp(names[i], now) == 0 :
				  strcmp(names[i], "Unknown") == 0);

		metrics_set(f, lv, on ? 1 : 0);
	}
}

static void facts_metric(struct engine *e, enum stage st, bool watched)
{
	static const char *const sync[] = { "Synced", "OutOfSync", "Unknown" };
	static const char *const health[] = { "Healthy", "Progressing", "Degraded", "Suspended",
					      "Missing", "Unknown" };
	const struct engine_deployed *d = &e->deployed[st];
	bool have = watched && d->have;

	if (!e->metrics || !e->metrics->stage_sync || !e->metrics->stage_health)
		return;
	status_metric(e->metrics->stage_sync, st, sync, ARRAY_SIZE(sync),
		      have ? (d->facts.sync[0] ? d->facts.sync : "Unknown") : NULL);
	status_metric(e->metrics->stage_health, st, health, ARRAY_SIZE(health),
		      have ? (d->facts.health[0] ? d->facts.health : "Unknown") : NULL);
}

static const char *latest_promotion(const struct engine *e, enum stage st)
{
	const struct history_entry *h;

	if (!e->scan || !e->scan->hist_ok || !(h = history_latest(&e->scan->hist, st)))
		return "";
	return h->commit;
}

static int64_t latest_promotion_time(const struct engine *e, enum stage st)
{
	const struct history_entry *h;

	if (!e->scan || !e->scan->hist_ok || !(h = history_latest(&e->scan->hist, st)))
		return 0;
	return h->time;
}

/* The verdict of one watched stage from what is known now.  False when it
 * waits for the mirror's answer (the old verdict stands meanwhile). */
static bool judge_now(struct argocd_state *out, struct engine *e, enum stage st)
{
	struct engine_deployed *d = &e->deployed[st];
	const char *promo = latest_promotion(e, st);
	const char *rev = d->have ? d->facts.revision : "";
	struct argocd_expect x;
	bool has;

	memset(out, 0, sizeof *out);
	d->anc_wanted = false;
	if (!d->have) {
		snprintf(out->why, sizeof out->why, "%s", d->unreadable[0] ? d->unreadable :
			 "no answer from Argo CD yet");
		return true;
	}
	if (!e->scan) {
		snprintf(out->why, sizeof out->why, "the GitOps repository is not scanned yet");
		return true;
	}
	if (!*promo || !*rev || strcmp(rev, promo) == 0) {
		has = *rev != '\0';
	} else if (strcmp(d->anc_promo, promo) == 0 && strcmp(d->anc_rev, rev) == 0) {
		has = d->anc == 1;
		/* a revision the mirror lacked: ask again after the next fetch */
		d->anc_wanted = d->anc == 2;
	} else {
		d->anc_wanted = true;
		if (d->judged)
			return false;
		snprintf(out->why, sizeof out->why, "checking whether revision %.12s contains the "
			 "promotion %.12s", rev, promo);
		return true;
	}
	memset(&x, 0, sizeof x);
	x.tag = e->scan->current[st];
	x.images = (const char *const *)e->cfg->registry.images.v;
	x.nimages = e->cfg->registry.images.n;
	x.revision_has_promotion = has;
	argocd_judge(out, &d->facts, &x);
	if (out->verdict == ARGOCD_OUT_OF_SYNC && d->anc == 2 && !has && strcmp(d->anc_rev, rev) == 0)
		snprintf(out->why, sizeof out->why, "synced to %.12s, which the GitOps mirror does "
			 "not have yet", rev);
	return true;
}

static void judge(struct engine *e, enum stage st)
{
	struct engine_deployed *d = &e->deployed[st];
	struct argocd_state ns;
	const char *promo = latest_promotion(e, st);

	if (!engine_deploy_watched(e, st)) {
		if (d->judged) {
			verdict_metric(e, st, ARGOCD_UNKNOWN, false);
			facts_metric(e, st, false);
		}
		d->judged = false;
		return;
	}
	if (!judge_now(&ns, e, st))
		return;
	if (!d->judged || ns.verdict != d->state.verdict) {
		log_notice("argocd", "stage %s is %s: %s", stage_name(st),
			   argocd_verdict_name(ns.verdict), ns.why);
		d->since = (int64_t)time(NULL);
		verdict_metric(e, st, ns.verdict, true);
	}
	d->state = ns;
	d->judged = true;
	strlcpy_(d->promo, promo, sizeof d->promo);
	d->promo_time = latest_promotion_time(e, st);
	if (ns.verdict == ARGOCD_DEPLOYED && *promo && strcmp(d->deployed_for, promo) != 0) {
		strlcpy_(d->deployed_for, promo, sizeof d->deployed_for);
		d->deployed_at = (int64_t)time(NULL);
		/* the note is written by a cycle; and the mirror is asked whether
		 * it is there already */
		engine_request_cycle(e, "a promotion became deployed");
	}
}

void engine_deploy_update(struct engine *e, enum stage st, const struct argocd_app *facts,
			  const char *why)
{
	struct engine_deployed *d;

	if (!e || st >= STAGE_COUNT)
		return;
	d = &e->deployed[st];
	if (facts) {
		struct argocd_app copy;

		if (facts_copy(&copy, facts))
			return;
		facts_release(d);
		d->facts = copy;
		d->have = true;
		d->unreadable[0] = '\0';
	} else {
		/* an outage: what it ran before is not known any more */
		facts_release(d);
		strlcpy_(d->unreadable, why && *why ? why : "Argo CD cannot be read",
			 sizeof d->unreadable);
	}
	facts_metric(e, st, engine_deploy_watched(e, st));
	judge(e, st);
	/* a pair the mirror has not answered: the cycle asks it (a revision
	 * the mirror lacked is asked again by every cycle anyway) */
	if (d->anc_wanted && !(d->anc == 2 && strcmp(d->anc_rev, d->facts.revision) == 0 &&
			       strcmp(d->anc_promo, latest_promotion(e, st)) == 0))
		engine_request_cycle(e, "Argo CD synced a revision not checked yet");
}

void engine_deploy_forget(struct engine *e)
{
	for (int st = 0; st < STAGE_COUNT; st++) {
		struct engine_deployed *d = &e->deployed[st];

		facts_release(d);
		d->unreadable[0] = '\0';
		if (d->judged) {
			verdict_metric(e, (enum stage)st, ARGOCD_UNKNOWN, false);
			facts_metric(e, (enum stage)st, false);
		}
		d->judged = false;
		d->anc_wanted = false;
	}
}

/* ---- the mirror's answers (threadpool) ---- */

struct deploy_job {
	struct engine *e;
	size_t n;
	enum stage st[STAGE_COUNT];
	char promo[STAGE_COUNT][GITOPS_HEXSZ + 1];
	char rev[STAGE_COUNT][GITOPS_HEXSZ + 1];	/* "" when not asked */
	bool ask_note[STAGE_COUNT];
	int anc[STAGE_COUNT];
	int note[STAGE_COUNT];		/* 1 there, 0 not, -1 cannot tell */
	int64_t note_time[STAGE_COUNT];	/* its Deployed: time; 0 unreadable */
};

/* The "Deployed: <RFC 3339>" line of a deploy note (engine_deploy_notes
 * writes it), as Unix seconds; 0 when absent or unreadable. */
static int64_t note_deployed_time(const char *note)
{
	const char *p = note;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > 10 && len < 60 && strncmp(p, "Deployed: ", 10) == 0) {
			char t[64];
			int64_t v;

			memcpy(t, p + 10, len - 10);
			t[len - 10] = '\0';
			v = argocd_time(t);
			return v > 0 ? v : 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int deploy_work_cb(struct gitops *g, void *data)
{
	struct deploy_job *j = data;
	struct buf note = BUF_INIT;

	for (size_t i = 0; i < j->n; i++) {
		if (j->rev[i][0]) {
			int rc = gitops_is_ancestor(g, j->promo[i], j->rev[i]);

			j->anc[i] = rc == 1 ? 1 : rc == 0 ? 0 : 2;
		}
		if (j->ask_note[i]) {
			int rc = gitops_note_read(&note, g, GITOPS_TRACKING "notes/pipelined-deploy",
						  j->promo[i]);

			j->note[i] = rc == 0 ? 1 : rc == ERR_NOTFOUND ? 0 : -1;
			if (rc == 0 && note.data)
				j->note_time[i] = note_deployed_time(note.data);
			buf_reset(&note);
		}
	}
	buf_release(&note);
	return 0;
}

static void deploy_done_cb(struct gitops *g, int rc, void *data)
{
	struct deploy_job *j = data;
	struct engine *e = j->e;

	(void)g;
	e->deploy_busy = false;
	for (size_t i = 0; rc == 0 && i < j->n; i++) {
		struct engine_deployed *d = &e->deployed[j->st[i]];

		if (j->rev[i][0]) {
			strlcpy_(d->anc_promo, j->promo[i], sizeof d->anc_promo);
			strlcpy_(d->anc_rev, j->rev[i], sizeof d->anc_rev);
			d->anc = j->anc[i];
		}
		if (j->ask_note[i] && j->note[i] >= 0) {
			strlcpy_(d->note_checked, j->promo[i], sizeof d->note_checked);
			d->note_present = j->note[i] == 1;
		}
		/* noted before (by this daemon before a restart): the note
		 * says when it became deployed, and nothing is observed again */
		if (j->ask_note[i] && j->note[i] == 1 && j->note_time[i] &&
		    (strcmp(d->deployed_for, j->promo[i]) != 0 || j->note_time[i] < d->deployed_at)) {
			strlcpy_(d->deployed_for, j->promo[i], sizeof d->deployed_for);
			d->deployed_at = j->note_time[i];
		}
	}
	free(j);
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		judge(e, (enum stage)st);
	engine_phase_done(e, PHASE_NEXT);
}

enum phase_result engine_deploy_phase(struct engine *e)
{
	struct deploy_job *j;

	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		judge(e, (enum stage)st);
	if (!(j = calloc(1, sizeof *j)))
		return PHASE_NEXT;
	j->e = e;
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		struct engine_deployed *d = &e->deployed[st];
		const char *promo = latest_promotion(e, (enum stage)st);

		if (!engine_deploy_watched(e, (enum stage)st) || !*promo)
			continue;
		bool anc = d->anc_wanted && d->have && d->facts.revision[0];
		/* once per promotion, whatever the verdict: a note written
		 * before a restart says when it became deployed */
		bool note = strcmp(d->note_checked, promo) != 0;
		if (!anc && !note)
			continue;
		j->st[j->n] = (enum stage)st;
		strlcpy_(j->promo[j->n], promo, sizeof j->promo[0]);
		if (anc)
			strlcpy_(j->rev[j->n], d->facts.revision, sizeof j->rev[0]);
		j->ask_note[j->n] = note;
		j->n++;
	}
	if (!j->n || gitops_queue(e->git, e->loop, deploy_work_cb, deploy_done_cb, j)) {
		free(j);
		return PHASE_NEXT;
	}
	e->deploy_busy = true;
	return PHASE_WAIT;
}

/* ---- the note ---- */

void engine_deploy_notes(struct engine *e)
{
	char when[40];

	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		struct engine_deployed *d = &e->deployed[st];
		struct engine_action *a;

		if (!engine_deploy_watched(e, (enum stage)st) || !d->judged || !d->have ||
		    d->state.verdict != ARGOCD_DEPLOYED || !d->promo[0] ||
		    strcmp(d->note_checked, d->promo) != 0 || d->note_present ||
		    strcmp(d->deployed_for, d->promo) != 0)
			continue;
		if (!(a = engine_action_add(e, ACT_DEPLOY_NOTE, (enum stage)st)))
			return;
		a->done = engine_deploy_note_done;
		strlcpy_(a->req_id, d->promo, sizeof a->req_id);
		clock_format_rfc3339(when, sizeof when, (time_t)d->deployed_at, 0, true);
		buf_printf(&a->note, "Deployed: %s\nArgo-CD-Application: %s\nSynced-Revision: %s\n"
			   "Health: %s\nImage-Tag: %s\n", when, d->facts.name, d->facts.revision,
			   d->facts.health, e->scan ? e->scan->current[st] : "");
		for (size_t i = 0; i < d->facts.nimages; i++)
			buf_printf(&a->note, "Image: %s\n", d->facts.images[i]);
	}
}

void engine_deploy_note_done(struct engine *e, struct engine_action *a,
			     const struct gitops_result *res)
{
	struct engine_deployed *d = &e->deployed[a->stage];

	if (res->rc) {
		log_warn("git", "cannot push the deploy note on %.7s (stage %s): %s; retried next "
			 "cycle", a->req_id, stage_name(a->stage), res->error);
		return;
	}
	if (strcmp(d->note_checked, a->req_id) == 0)
		d->note_present = true;
	/* issue 13 item 4: once per promotion, when its note lands */
	if (e->metrics && e->metrics->commit_to_healthy && strcmp(d->deployed_for, a->req_id) == 0 &&
	    strcmp(d->promo, a->req_id) == 0 && d->promo_time > 0) {
		const char *lv[1] = { stage_name(a->stage) };
		int64_t s = d->deployed_at - d->promo_time;

		metrics_observe(e->metrics->commit_to_healthy, lv, s > 0 ? (double)s : 0);
	}
	log_info("git", "deploy note on promotion %.7s (stage %s) pushed", a->req_id,
		 stage_name(a->stage));
}
