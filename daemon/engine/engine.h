/* engine.h - the promotion engine on the daemon's libuv loop.
 *
 * One cycle at a time: ls-remote (skips the fetch when nothing moved) ->
 * fetch -> scan of the mirror off the loop thread (history from trailers,
 * current tags from the values files, candidate releases from first-parent
 * history, git facts of new or moved request branches) -> registry checks
 * -> decisions (policy.h) -> git transactions (gitops_change_start), one
 * after the other.  Cycles run on a jittered poll interval, at once on
 * engine_trigger(), and at the market window's edge when a request is
 * queued.  Errors back off per subsystem; the daemon never promotes on a
 * guess (a registry that cannot answer means "wait").  A deploy stage whose
 * values file does not satisfy its tag mapping at the tip (checked by every
 * scan), or whose promotion failed permanently (the edit refused, a hook
 * declined the push), is blocked: not tried again until the branch tip,
 * the release or the configuration changes (engine_block.c).
 */
#ifndef PIPELINED_ENGINE_H
#define PIPELINED_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "metrics.h"
#include "util.h"

struct engine;

/* Takes ownership of cfg on success.  Creates the state directory layout
 * (mirror under cfg->daemon.state_dir).  metrics may be NULL.  ERR_* with
 * err filled on failure (cfg is then still the caller's). */
int engine_new(struct engine **out, uv_loop_t *loop, struct config *cfg,
	       struct metrics_std *metrics, struct buf *err);
/* Arms the first cycle. */
void engine_start(struct engine *e);
/* Run a cycle as soon as possible (coalesced with one in progress). */
void engine_trigger(struct engine *e, const char *why);
/* Swap in a new configuration (ownership passes) at the end of the cycle
 * in progress, or now when idle. */
void engine_reload(struct engine *e, struct config *cfg);
/* Stop: no new cycle, the git transaction in flight finishes (its own
 * deadlines bound it), every handle closes, then done(arg) runs and e is
 * freed. */
void engine_stop(struct engine *e, void (*done)(void *arg), void *arg);

/* Loop alive and no git job past its deadline; the last cycle ended
 * within max_age_ms. */
bool engine_healthy(const struct engine *e, uint64_t now_ms, uint64_t max_age_ms);
/* A deploy stage is blocked by a permanent error (engine_int.h): the
 * daemon works but cannot promote into it.  why gets "stage S blocked:
 * REASON" for each (truncated to whysz). */
bool engine_degraded(const struct engine *e, char *why, size_t whysz);
/* Called on the loop after each cycle whose one-line summary changed. */
void engine_on_status(struct engine *e, void (*fn)(void *arg, const char *line), void *arg);
/* One line for systemd's STATUS=. */
const char *engine_status_line(const struct engine *e);
const struct config *engine_config(const struct engine *e);

/* The dashboard's promote callback (dashboard.h's dashboard_promote_fn;
 * arg is the engine). */
struct dashboard_promote;
typedef void (*engine_reply_fn)(void *reply_arg, int rc, const char *branch,
				const char *message);
void engine_dashboard_promote(void *arg, const struct dashboard_promote *req,
			      engine_reply_fn reply, void *reply_arg);

/* Issue 14 item 3: the dashboard's Approve callback (dashboard.h's
 * dashboard_approve_fn; arg is the engine): an approval commit made with
 * approval.h and signed with [http] approvalKey, pushed onto the request
 * branch, then judged by the next cycle like any other approval. */
struct dashboard_approve;
void engine_dashboard_approve(void *arg, const struct dashboard_approve *req,
			      engine_reply_fn reply, void *reply_arg);

/* Argo CD's answer about the Application of deploy stage st (argocd.h's
 * update callback): facts, or NULL and why it cannot be read.  Judged at
 * once against the stage's promotion (engine_deploy.c). */
struct argocd_app;
void engine_deploy_update(struct engine *e, enum stage st, const struct argocd_app *facts,
			  const char *why);
/* Drop every stage's Argo CD facts and verdict (a new client follows
 * other Applications now); verdicts restart from the next answers. */
void engine_deploy_forget(struct engine *e);

/* JSON documents of docs/api.md. */
int engine_status_json(struct buf *out, const struct engine *e);
int engine_history_json(struct buf *out, const struct engine *e, const char *stage,
			struct buf *err);

#endif
