/* engine.c - the engine's life cycle: setup from the configuration,
 * scheduling of cycles (jittered poll, triggers, backoff, the market
 * window's edge), reload at a cycle boundary, and a stop that lets the git
 * transaction in flight finish. */
#include "engine_int.h"
#include "clock_load.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* pipelined-git: $PIPELINED_GIT (tests), beside the running binary (a
 * build tree), else the installed libexec path (gitops' default). */
static void find_worker(char *out, size_t outsz)
{
	const char *env = getenv("PIPELINED_GIT");
	char self[PATH_MAX];
	ssize_t n;

	out[0] = '\0';
	if (env && *env) {
		strlcpy_(out, env, outsz);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = '\0';
	if ((size_t)snprintf(out, outsz, "%s/pipelined-git", self) >= outsz ||
	    access(out, X_OK) != 0)
		out[0] = '\0';
}

static int state_dir_ready(const char *dir, struct buf *err)
{
	struct stat st;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return buf_printf(err, "cannot create state directory '%s': %s", dir,
				  strerror(errno)), ERR_IO;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return buf_printf(err, "state directory '%s' is not a directory", dir), ERR_IO;
	if (access(dir, R_OK | W_OK | X_OK) != 0)
		return buf_printf(err, "state directory '%s' is not writable: %s", dir,
				  strerror(errno)), ERR_IO;
	return 0;
}

struct setup {
	struct gitops *git;
	struct registry *reg;
	struct tz_rule tz;
	struct calendar cal;
	bool have_cal;
	char mirror[1024];
};

int engine_git_open(struct gitops **out, char *mirror, size_t mirrorsz, const struct config *cfg,
		    const char *worker, const char *subdir, struct buf *err)
{
	struct gitops_opts o;

	memset(&o, 0, sizeof o);
	if ((size_t)snprintf(mirror, mirrorsz, "%s/%s", cfg->daemon.state_dir, subdir) >= mirrorsz)
		return buf_printf(err, "state directory path too long"), ERR_TOOBIG;
	o.url = cfg->repository.url.url;
	o.branch = cfg->repository.branch;
	o.ssh_key = cfg->repository.ssh_key;
	o.known_hosts = cfg->repository.known_hosts;
	o.mirror = mirror;
	o.worker = *worker ? worker : NULL;
	o.deadline_ms = cfg->repository.deadline_ms;
	o.ident_name = cfg->daemon.identity.name;
	o.ident_email = cfg->daemon.identity.email;
	return gitops_open(out, &o, err);
}

static int setup_git(struct setup *s, const struct config *cfg, const char *worker,
		     struct buf *err)
{
	return engine_git_open(&s->git, s->mirror, sizeof s->mirror, cfg, worker, "mirror", err);
}

static int setup_registry(struct setup *s, uv_loop_t *loop, const struct config *cfg,
			  struct buf *err)
{
	struct registry_opts o;
	char msg[256];
	int rc;

	memset(&o, 0, sizeof o);
	o.base_url = cfg->registry.url.url;
	o.namespace = cfg->registry.namespace;
	o.images = (const char *const *)cfg->registry.images.v;
	o.n_images = cfg->registry.images.n;
	o.credentials_file = cfg->registry.credentials;
	o.ca_file = cfg->registry.ca_file;
	o.total_timeout_ms = (long)cfg->registry.timeout_ms;
	o.request_budget = cfg->registry.request_budget;
	o.page_cap = cfg->registry.max_pages;
	rc = registry_new(&s->reg, loop, &o, msg, sizeof msg);
	if (rc)
		buf_printf(err, "registry: %s", msg);
	return rc;
}

static int setup_clock(struct setup *s, const struct config *cfg, struct buf *err)
{
	int rc = clock_load_tz(&s->tz, NULL, cfg->market.timezone, err);

	if (rc)
		return rc;
	rc = clock_load_calendar(&s->cal, NULL, cfg->market.calendar, err);
	s->have_cal = rc == 0;
	return rc;
}

static void setup_release(struct setup *s)
{
	gitops_free(s->git);
	registry_free(s->reg);
	if (s->have_cal)
		calendar_release(&s->cal);
}

static int setup_all(struct setup *s, uv_loop_t *loop, const struct config *cfg,
		     const char *worker, struct buf *err)
{
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = state_dir_ready(cfg->daemon.state_dir, err)) ||
	    (rc = setup_git(s, cfg, worker, err)) || (rc = setup_registry(s, loop, cfg, err)) ||
	    (rc = setup_clock(s, cfg, err)))
		setup_release(s);
	return rc;
}

/* Swap in what setup_all built (on the loop, between cycles). */
static void adopt(struct engine *e, struct setup *s, struct config *cfg)
{
	gitops_free(e->git);
	registry_free(e->reg);
	if (e->have_cal)
		calendar_release(&e->cal);
	e->git = s->git;
	e->reg = s->reg;
	e->tz = s->tz;
	e->cal = s->cal;
	e->have_cal = s->have_cal;
	strlcpy_(e->mirror, s->mirror, sizeof e->mirror);
	if (e->cfg != cfg)
		config_free(e->cfg);
	e->cfg = cfg;
	e->cfg_gen++;	/* a blocked stage gets one more attempt */
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		const char *lv[1] = { stage_name((enum stage)st) };
		e->stages[st].retry_at_ms = 0;
		if (e->metrics && e->metrics->stage_blocked)
			metrics_set(e->metrics->stage_blocked, lv, e->stages[st].block.on ? 1 : 0);
	}
	if (cfg->registry.mode == CONFIG_MODE_TAGS)
		log_warn("engine", "registry mode 'tags' is not implemented by the engine: "
			 "releases are discovered from git history");
	e->hours.open_min = cfg->market.open_min;
	e->hours.close_min = cfg->market.close_min;
	log_set_level(cfg->daemon.log_level);
}

static void cycle_end(struct engine *e);

int engine_new(struct engine **out, uv_loop_t *loop, struct config *cfg,
	       struct metrics_std *metrics, struct buf *err)
{
	struct engine *e = calloc(1, sizeof *e);
	struct setup s;
	int rc;

	if (!e)
		return ERR_NOMEM;
	e->loop = loop;
	e->metrics = metrics;
	find_worker(e->worker, sizeof e->worker);
	if ((rc = setup_all(&s, loop, cfg, e->worker, err))) {
		free(e);
		return rc;
	}
	adopt(e, &s, cfg);
	e->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	e->started_at = (int64_t)time(NULL);
	e->created_ms = uv_now(loop);
	uv_timer_init(loop, &e->poll_timer);
	uv_timer_init(loop, &e->edge_timer);
	e->poll_timer.data = e->edge_timer.data = e;
	e->hooks = (struct engine_hooks){ .advance = engine_advance, .cycle_end = cycle_end,
					  .trigger = engine_trigger };
	e->handles_open = 2;
	snprintf(e->status_line, sizeof e->status_line, "starting");
	*out = e;
	return 0;
}

static void apply_reload(struct engine *e, struct config *cfg);

/* A reload that arrived during a cycle is applied here, from a timer:
 * the cycle may end inside a registry callback, where the registry must
 * not be freed. */
static void poll_cb(uv_timer_t *t)
{
	struct engine *e = t->data;
	struct config *next = e->next_cfg;

	if (next) {
		e->next_cfg = NULL;
		apply_reload(e, next);
	}
	engine_cycle_start(e);
}

void engine_start(struct engine *e)
{
	uv_timer_start(&e->poll_timer, poll_cb, 0, 0);
}

void engine_trigger(struct engine *e, const char *why)
{
	if (e->stopping)
		return;
	log_info("engine", "cycle requested: %s", why);
	/* news from outside (a package was published): ask about every
	 * waiting release now, whatever its re-check delay */
	for (size_t i = 0; i < ENGINE_MAX_RELEASES; i++)
		e->rel[i].next_check_ms = 0;
	if (e->running) {
		e->again = true;
		return;
	}
	uv_timer_start(&e->poll_timer, poll_cb, 0, 0);
}

static void apply_reload(struct engine *e, struct config *cfg)
{
	struct buf err = BUF_INIT;
	struct setup s;

	if (setup_all(&s, e->loop, cfg, e->worker, &err)) {
		log_err("config", "reload of '%s' failed, keeping the running configuration: %s",
			cfg->path, err.data ? err.data : "?");
		config_free(cfg);
	} else {
		adopt(e, &s, cfg);
		/* a different repository or registry: everything is re-derived */
		e->fingerprint[0] = '\0';
		memset(e->rel, 0, sizeof e->rel);
		log_notice("config", "configuration '%s' reloaded", cfg->path);
	}
	buf_release(&err);
}

void engine_reload(struct engine *e, struct config *cfg)
{
	if (e->running) {
		config_free(e->next_cfg);
		e->next_cfg = cfg;
		return;
	}
	apply_reload(e, cfg);
	engine_trigger(e, "configuration reloaded");
}

static void free_requests(struct engine *e)
{
	for (size_t i = 0; i < e->req_hi; i++)
		engine_facts_free(e->req[i].facts);
	engine_waiting_free(e);
}

static void closed_cb(uv_handle_t *h)
{
	struct engine *e = h->data;
	void (*done)(void *);
	void *arg;

	if (--e->handles_open)
		return;
	done = e->stopped_cb;
	arg = e->stopped_arg;
	engine_scan_free(e->scan);
	free(e->freeze);
	gitops_free(e->req_git);
	free_requests(e);
	engine_deploy_release(e);
	free(e->refs);
	free(e->check);
	setup_release(&(struct setup){ .git = e->git, .reg = e->reg, .cal = e->cal,
				       .have_cal = e->have_cal });
	config_free(e->cfg);
	config_free(e->next_cfg);
	free(e);
	if (done)
		done(arg);
}

static void close_all(struct engine *e)
{
	if (e->closing || e->running || e->promote_job)
		return;	/* the last of them calls again */
	e->closing = true;
	gitops_session_close(e->git);	/* the ls-remote helper would keep the loop */
	uv_close((uv_handle_t *)&e->poll_timer, closed_cb);
	uv_close((uv_handle_t *)&e->edge_timer, closed_cb);
}

void engine_maybe_close(struct engine *e)
{
	if (e->stopping)
		close_all(e);
}

void engine_stop(struct engine *e, void (*done)(void *arg), void *arg)
{
	e->stopping = true;
	e->stopped_cb = done;
	e->stopped_arg = arg;
	uv_timer_stop(&e->poll_timer);
	uv_timer_stop(&e->edge_timer);
	if (!e->running) {
		engine_maybe_close(e);
		return;
	}
	/* registry work can be dropped at once (it decides nothing by itself);
	 * a git operation is left to finish: its deadline bounds the wait and
	 * the branch push is the only commit point, so it is never half done */
	if (e->reg && e->nactions == 0 && e->ncheck && e->icheck < e->ncheck) {
		registry_free(e->reg);
		e->reg = NULL;
		engine_advance(e, PHASE_END);
	}
}

static void edge_cb(uv_timer_t *t)
{
	struct engine *e = t->data;

	e->edge_at = 0;
	engine_trigger(e, "market window edge");
}

/* Queued requests wait for the window's next edge: a timer for that exact
 * instant (plus a little, so the window reads "closed" when it fires). */
static void arm_edge(struct engine *e)
{
	int64_t until = e->auto_edge, now = (int64_t)time(NULL);

	for (size_t i = 0; i < e->req_hi; i++)
		if (e->req[i].used && e->req[i].state == REQ_QUEUED && e->req[i].queue_until &&
		    (!until || e->req[i].queue_until < until))
			until = e->req[i].queue_until;
	if (!until || until == e->edge_at)
		return;
	e->edge_at = until;
	uint64_t ms = until > now ? (uint64_t)(until - now) * 1000 : 0;
	uv_timer_start(&e->edge_timer, edge_cb, ms + 200, 0);
	log_info("engine", "waiting promotions are looked at again in %llus (a close, or "
		 "the end of a soak)",
		 (unsigned long long)(ms / 1000));
}

/* The end of a cycle (engine_advance, at CYCLE_DONE): status, metrics, the
 * market edge and the next cycle. */
static void cycle_end(struct engine *e)
{
	struct config *next = e->next_cfg;

	e->running = false;
	e->last_cycle_at = (int64_t)time(NULL);
	e->last_cycle_ms = uv_now(e->loop);
	log_debug("engine", "cycle %llu took %llums", (unsigned long long)e->cycles + 1,
		  (unsigned long long)(e->last_cycle_ms - e->cycle_started_ms));
	e->cycles++;
	if (e->metrics && e->metrics->cycles)
		metrics_add(e->metrics->cycles, NULL, 1);
	if (e->stopping) {
		close_all(e);
		return;
	}
	if (e->status_fn && strcmp(e->status_sent, e->status_line) != 0) {
		strlcpy_(e->status_sent, e->status_line, sizeof e->status_sent);
		e->status_fn(e->status_arg, e->status_line);
	}
	arm_edge(e);
	if (e->again || e->promoted || next) {
		e->again = e->promoted = false;
		uv_timer_start(&e->poll_timer, poll_cb, 0, 0);
		return;
	}
	uv_timer_start(&e->poll_timer, poll_cb, engine_next_delay_ms(e), 0);
}

bool engine_healthy(const struct engine *e, uint64_t now_ms, uint64_t max_age_ms)
{
	uint64_t deadline = e->cfg->repository.deadline_ms ? e->cfg->repository.deadline_ms :
			    60000;

	/* a git job runs at most a few deadlines (fetch, push, retries) */
	if (e->running && now_ms > e->cycle_started_ms + 20 * deadline)
		return false;
	if (!e->cycles)
		return now_ms < e->created_ms + max_age_ms + 20 * deadline;
	return e->running || now_ms <= e->last_cycle_ms + max_age_ms;
}

void engine_on_status(struct engine *e, void (*fn)(void *arg, const char *line), void *arg)
{
	e->status_fn = fn;
	e->status_arg = arg;
}

bool engine_degraded(const struct engine *e, char *why, size_t whysz)
{
	size_t n = 0;
	bool any = false;

	why[0] = '\0';
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		const struct engine_block *b = &e->stages[st].block;
		int k;
		if (!b->on)
			continue;
		any = true;
		if (n >= whysz)
			continue;	/* truncated; still degraded */
		k = snprintf(why + n, whysz - n, "%sstage %s blocked: %s", n ? "; " : "",
			     stage_name((enum stage)st), b->reason);
		n = k < 0 ? whysz : n + (size_t)k;
	}
	return any;
}

const char *engine_status_line(const struct engine *e)
{
	return e->status_line;
}

const struct config *engine_config(const struct engine *e)
{
	return e->cfg;
}
