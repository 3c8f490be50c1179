/* engine_state.c - the bottom of the engine: the state every engine file
 * shares and the few helpers on it (errors per subsystem, the market
 * window and guard bands on the engine's clock, the registry answers
 * remembered, the cycle's action list, the waiting branches), and the
 * hooks that carry answers back up.  The engine's files depend one way:
 * engine.c (life cycle) -> engine_cycle.c (the phases, engine_advance) ->
 * the phases (engine_facts, engine_decide -> engine_plan, engine_deploy,
 * engine_act) -> this file; nothing here calls back up except through
 * e->hooks, which engine.c and engine_cycle.c fill in. */
#include "engine_int.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned engine_rand_next(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

void engine_set_error(struct engine *e, enum engine_subsys s, const char *fmt, ...)
{
	struct engine_error *er = &e->errors[s];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(er->msg, sizeof er->msg, fmt, ap);
	va_end(ap);
	er->at = (int64_t)time(NULL);
	er->failures++;
}

void engine_clear_error(struct engine *e, enum engine_subsys s)
{
	static const char *const names[SUB_COUNT] = { "git", "registry", "policy", "signature" };
	struct engine_error *er = &e->errors[s];
	const char *lv[1] = { names[s] };

	/* only a success that follows failures of this same subsystem is a
	 * recovery (a promotion's failures are its stage's, engine_act.c) */
	if (er->failures)
		log_notice(names[s], "recovered after %u failure(s)", er->failures);
	er->msg[0] = '\0';
	er->failures = 0;
	er->last_ok = (int64_t)time(NULL);
	if (e->metrics && e->metrics->last_success)
		metrics_set(e->metrics->last_success, lv, (double)er->last_ok);
}

int engine_window_now(struct window *out, const struct engine *e)
{
	return clock_window(out, time(NULL), &e->tz, e->have_cal ? &e->cal : NULL, &e->hours);
}

void engine_bands(struct clock_bands *out, const struct config *cfg, enum stage st)
{
	out->before_s = (int64_t)(cfg->stages[st].quiet_before_ms / 1000);
	out->after_s = (int64_t)(cfg->stages[st].quiet_after_ms / 1000);
}

int engine_quiet_now(struct clock_quiet *out, const struct engine *e,
		     const struct clock_bands *bands)
{
	return clock_quiet(out, time(NULL), &e->tz, e->have_cal ? &e->cal : NULL, &e->hours,
			   bands);
}

bool engine_inttest_enabled(const struct engine *e)
{
	return e->cfg->stages[STAGE_INTTEST].enabled;
}

uint64_t engine_next_delay_ms(struct engine *e)
{
	uint64_t poll = e->cfg->registry.poll_interval_ms;
	/* +-10% either way: many daemons on one registry do not poll in
	 * lockstep; after git failures the poll doubles per failure */
	return engine_backoff_ms(poll, e->errors[SUB_GIT].failures,
				 engine_rand_next(&e->seed));
}

void engine_waiting_free(struct engine *e)
{
	for (size_t i = 0; i < e->nwaiting; i++)
		free(e->waiting[i].note);
	free(e->waiting);
	e->waiting = NULL;
	e->nwaiting = 0;
}

struct engine_waiting *engine_waiting_find(const struct engine *e, const char *name,
					   const char *id)
{
	for (size_t i = 0; i < e->nwaiting; i++)
		if (strcmp(e->waiting[i].name, name) == 0 && strcmp(e->waiting[i].id, id) == 0)
			return &e->waiting[i];
	return NULL;
}

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

struct engine_action *engine_action_add(struct engine *e, enum action_kind kind, enum stage st)
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

void engine_phase_done(struct engine *e, enum phase_result r)
{
	e->hooks.advance(e, r);
}

void engine_request_cycle(struct engine *e, const char *why)
{
	e->hooks.trigger(e, why);
}
