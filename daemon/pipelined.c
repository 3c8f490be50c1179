/* pipelined - the promotion daemon.  Entry point: options, configuration,
 * the state directory, then one libuv loop carrying the engine (engine.h),
 * the HTTP API, webhooks, metrics, systemd notifications and signals. */
#include "argocd.h"
#include "config_load.h"
#include "dashboard.h"
#include "engine.h"
#include "gitops.h"
#include "hooks.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "sysio.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_GRACE_MS 2000
#define API_MAX_BODY 0

#define DAEMON_MAX_ROUTES 24

struct daemon {
	uv_loop_t loop;
	const char *config_path;
	struct engine *engine;
	struct http_server *http;
	struct notify *notify;
	struct metrics *metrics;
	struct metrics_std std;
	struct hooks hooks;
	bool have_hooks;
	struct dashboard *dashboard;
	/* the HTTP route table, handed to http_start (which keeps a pointer) */
	struct http_route routes[DAEMON_MAX_ROUTES];
	size_t nroutes;
	struct argocd *argocd;		/* NULL without [argocd] */
	enum stage argocd_stage[ARGOCD_MAX_APPS];	/* the client's app index -> stage */
	uv_signal_t sighup, sigterm, sigint;
	char pidfile[1100];
	bool stopping;
	unsigned pending_stops;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pipelined [-n] [-d] [-c pipelines.conf]\n"
		   "  -n  check the configuration and exit\n"
		   "  -d  debug logging\n"
		   "  -c  configuration file (default %s/pipelines.conf)\n",
		PIPELINED_SYSCONFDIR);
}

/* -n: report every problem in the file, "configuration OK" otherwise. */
static int check_config(const char *path)
{
	struct buf errors = BUF_INIT;
	struct config *cfg = NULL;
	int rc = config_load(&cfg, path, &errors);

	if (rc == 0)
		printf("configuration OK\n");
	else if (errors.len)
		fputs(errors.data, stderr);
	else
		fprintf(stderr, "pipelined: out of memory reading '%s'\n", path);
	buf_release(&errors);
	config_free(cfg);
	return rc == 0 ? 0 : 1;
}

/* Every "file:line: what" line of a failed load, one log line each. */
static void log_config_errors(const struct buf *errors, const char *path)
{
	const char *p = errors->data ? errors->data : "";

	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		log_err("config", "%.*s", len, p);
		p += len + (nl != NULL);
	}
	if (!errors->len)
		log_err("config", "cannot load '%s': out of memory", path);
}

/* ---- HTTP routes ---- */

static int json_reply(struct http_response *res)
{
	strlcpy_(res->content_type, "application/json", sizeof res->content_type);
	http_response_header(res, "Cache-Control", "no-store");
	return 0;
}

static int status_route(struct http_request *req, struct http_response *res, void *arg)
{
	struct daemon *d = arg;
	int rc = engine_status_json(&res->body, d->engine);

	return rc ? rc : json_reply(res);
}

static int history_route(struct http_request *req, struct http_response *res, void *arg)
{
	struct daemon *d = arg;
	struct buf err = BUF_INIT;
	int rc = engine_history_json(&res->body, d->engine, http_query(req, "stage"), &err);

	if (rc == ERR_INVALID) {
		buf_reset(&res->body);
		buf_addch(&err, '\n');
		rc = http_text(res, 400, err.data ? err.data : "bad stage\n");
		buf_release(&err);
		return rc;
	}
	buf_release(&err);
	return rc ? rc : json_reply(res);
}

static int metrics_route(struct http_request *req, struct http_response *res, void *arg)
{
	struct daemon *d = arg;

	strlcpy_(res->content_type, METRICS_CONTENT_TYPE, sizeof res->content_type);
	return metrics_render(&res->body, d->metrics);
}

static uint64_t health_max_age_ms(const struct daemon *d)
{
	const struct config *cfg = engine_config(d->engine);
	uint64_t poll = cfg->registry.poll_interval_ms;

	/* three missed polls, or a git backoff at its longest */
	return 3 * poll + 10 * 60 * 1000;
}

static bool healthy_cb(void *arg, uint64_t now_ms)
{
	struct daemon *d = arg;

	return !d->stopping && engine_healthy(d->engine, now_ms, health_max_age_ms(d));
}

static int healthz_route(struct http_request *req, struct http_response *res, void *arg)
{
	struct daemon *d = arg;
	char why[1024], text[1100];

	/* a blocked stage is degraded, not down: 200 with a body that says
	 * so (a restart would not unblock it, and the dashboard and status
	 * API must stay reachable to show why) */
	if (healthy_cb(d, uv_now(&d->loop)) && engine_degraded(d->engine, why, sizeof why)) {
		snprintf(text, sizeof text, "degraded: %s\n", why);
		return http_text(res, 200, text);
	}
	if (healthy_cb(d, uv_now(&d->loop)))
		return http_text(res, 200, "ok\n");
	return http_text(res, 503, "unhealthy: no recent cycle or a git job past its deadline\n");
}

static void hook_trigger_cb(void *arg, const struct webhook_event *ev)
{
	struct daemon *d = arg;
	char why[300];

	snprintf(why, sizeof why, "webhook %s %s %s", ev->event, ev->action, ev->subject);
	engine_trigger(d->engine, why);
}

static void status_cb(void *arg, const char *line)
{
	struct daemon *d = arg;

	if (d->notify)
		notify_status(d->notify, "%s", line);
}

/* Adds one route; a table too small for the routes the program defines is
 * a bug, reported loudly rather than written past. */
static int route_add(struct daemon *d, struct http_route r)
{
	if (d->nroutes == ARRAY_SIZE(d->routes)) {
		log_err("http", "internal: more than %zu HTTP routes (DAEMON_MAX_ROUTES)",
			ARRAY_SIZE(d->routes));
		return -1;
	}
	d->routes[d->nroutes++] = r;
	return 0;
}

static int http_setup(struct daemon *d, const struct config *cfg)
{
	struct http_config hc;
	char listen[300], msg[256];
	const struct http_route dash[] = { DASHBOARD_ROUTES(d->dashboard) };
	const struct http_route api[] = {
		{ "GET", "/api/v1/status", status_route, d, 0, 0 },
		{ "GET", "/api/v1/history", history_route, d, 0, 0 },
		{ "GET", "/metrics", metrics_route, d, 0, 0 },
		{ "GET", "/healthz", healthz_route, d, 0, 0 },
	};
	int rc = 0;

	d->nroutes = 0;
	for (size_t i = 0; i < ARRAY_SIZE(dash); i++)
		rc |= route_add(d, dash[i]);
	for (size_t i = 0; i < ARRAY_SIZE(api); i++)
		rc |= route_add(d, api[i]);
	if (d->have_hooks)
		rc |= route_add(d, (struct http_route)HOOKS_ROUTE(&d->hooks));
	if (rc)
		return -1;
	snprintf(listen, sizeof listen, strchr(cfg->http.listen.host, ':') ? "[%s]:%u" : "%s:%u",
		 cfg->http.listen.host, (unsigned)cfg->http.listen.port);
	memset(&hc, 0, sizeof hc);
	hc.listen = listen;
	hc.allowed_hosts = (const char *const *)cfg->http.allowed_hosts.v;
	hc.nallowed_hosts = cfg->http.allowed_hosts.n;
	if (http_start(&d->http, &d->loop, &hc, d->routes, d->nroutes, msg, sizeof msg)) {
		log_err("http", "cannot listen on '%s': %s", listen, msg);
		return -1;
	}
	log_info("http", "listening on %s (port %u)", listen, http_port(d->http));
	return 0;
}

/* ---- Argo CD ---- */

static void on_argocd(size_t app, const struct argocd_app *facts, const char *why,
			     void *arg)
{
	struct daemon *d = arg;

	if (app < ARGOCD_MAX_APPS && d->engine)
		engine_deploy_update(d->engine, d->argocd_stage[app], facts, why);
}

static bool argocd_same(const struct config *a, const struct config *b)
{
#define SAME(x, y) (((x) == NULL && (y) == NULL) || ((x) && (y) && strcmp((x), (y)) == 0))
	if (a->argocd.enabled != b->argocd.enabled)
		return false;
	if (!a->argocd.enabled)
		return true;
	for (int st = 0; st < STAGE_COUNT; st++)
		if (!SAME(a->stages[st].application, b->stages[st].application) ||
		    a->stages[st].enabled != b->stages[st].enabled)
			return false;
	return SAME(a->argocd.url.url, b->argocd.url.url) &&
	       SAME(a->argocd.token, b->argocd.token) && SAME(a->argocd.ca_file, b->argocd.ca_file) &&
	       SAME(a->argocd.project, b->argocd.project) &&
	       a->argocd.deadline_ms == b->argocd.deadline_ms &&
	       SAME(a->repository.url.url, b->repository.url.url);
#undef SAME
}

/* (Re)starts the client for cfg's [argocd] and stage applications; a client
 * that cannot start (an unreadable token) leaves those stages unknown with
 * the reason, and the daemon promotes as without Argo CD. */
static void argocd_setup(struct daemon *d, const struct config *cfg)
{
	const char *names[ARGOCD_MAX_APPS];
	struct argocd_opts o;
	struct buf err = BUF_INIT;
	size_t n = 0;

	argocd_free(d->argocd);
	d->argocd = NULL;
	engine_deploy_forget(d->engine);
	if (!cfg->argocd.enabled)
		return;
	for (int st = STAGE_BETA; st < STAGE_COUNT && n < ARGOCD_MAX_APPS; st++)
		if (stage_is_deploy((enum stage)st) && cfg->stages[st].enabled &&
		    cfg->stages[st].application) {
			d->argocd_stage[n] = (enum stage)st;
			names[n++] = cfg->stages[st].application;
		}
	if (!n) {
		log_notice("argocd", "[argocd] is set but no enabled stage names an application");
		return;
	}
	memset(&o, 0, sizeof o);
	o.url = cfg->argocd.url.url;
	o.token_file = cfg->argocd.token;
	o.ca_file = cfg->argocd.ca_file;
	o.repo_url = cfg->repository.url.url;
	o.project = cfg->argocd.project;
	o.apps = names;
	o.napps = n;
	o.deadline_ms = cfg->argocd.deadline_ms;
	if (argocd_new(&d->argocd, &d->loop, &o, on_argocd, d, &err)) {
		log_err("argocd", "cannot follow Argo CD: %s", err.data ? err.data : "out of memory");
		for (size_t i = 0; i < n; i++)
			engine_deploy_update(d->engine, d->argocd_stage[i], NULL,
					     err.data ? err.data : "cannot start the Argo CD client");
		d->argocd = NULL;
	} else {
		log_info("argocd", "following %zu Application(s) at %s", n, o.url);
	}
	buf_release(&err);
}

/* ---- signals ---- */

static void reload(struct daemon *d)
{
	struct buf errors = BUF_INIT;
	struct config *cfg = NULL;
	const struct config *old = engine_config(d->engine);
	char msg[256];

	notify_reloading(d->notify);
	log_notice("config", "reloading '%s'", d->config_path);
	if (config_load(&cfg, d->config_path, &errors)) {
		log_config_errors(&errors, d->config_path);
		log_err("config", "'%s' is invalid, keeping the running configuration",
			d->config_path);
	} else {
		if (strcmp(cfg->http.listen.host, old->http.listen.host) ||
		    cfg->http.listen.port != old->http.listen.port)
			log_warn("config", "a new [http] listen address takes a restart");
		if (d->have_hooks && cfg->http.webhook_secret &&
		    hooks_secret_reload(&d->hooks, cfg->http.webhook_secret, msg, sizeof msg))
			log_err("http", "webhook secret not reloaded: %s", msg);
		if (d->http && http_set_allowed_hosts(d->http,
						      (const char *const *)cfg->http.allowed_hosts.v,
						      cfg->http.allowed_hosts.n))
			log_err("http", "[http] allowedHosts not reloaded: too many or too long");
		buf_reset(&errors);
		if (dashboard_reload(d->dashboard, cfg->http.users, cfg->http.trusted_proxy_header,
				     &errors))
			log_config_errors(&errors, d->config_path);
		bool argo_changed = !argocd_same(old, cfg);

		if (argo_changed)
			argocd_setup(d, cfg);
		engine_reload(d->engine, cfg);
	}
	buf_release(&errors);
	notify_ready(d->notify, engine_status_line(d->engine));
}

static void maybe_exit(struct daemon *d)
{
	if (--d->pending_stops == 0) {
		uv_close((uv_handle_t *)&d->sighup, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		notify_free(d->notify);
		d->notify = NULL;
	}
}

static void engine_stopped_cb(void *arg)
{
	struct daemon *d = arg;

	d->engine = NULL;
	maybe_exit(d);
}

static void http_stopped_cb(void *arg)
{
	struct daemon *d = arg;

	d->http = NULL;
	maybe_exit(d);
}

static void shutdown_start(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_notice("main", "%s: stopping (a git transaction in flight is finished first)", why);
	notify_stopping(d->notify);
	argocd_free(d->argocd);
	d->argocd = NULL;
	d->pending_stops = 2;
	http_stop(d->http, STOP_GRACE_MS, http_stopped_cb, d);
	engine_stop(d->engine, engine_stopped_cb, d);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP && !d->stopping)
		reload(d);
	else if (signum != SIGHUP)
		shutdown_start(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void signals_setup(struct daemon *d)
{
	uv_signal_t *hs[3] = { &d->sighup, &d->sigterm, &d->sigint };
	int nums[3] = { SIGHUP, SIGTERM, SIGINT };

	for (int i = 0; i < 3; i++) {
		uv_signal_init(&d->loop, hs[i]);
		hs[i]->data = d;
		uv_signal_start(hs[i], signal_cb, nums[i]);
	}
}

/* The pid file lets `pipelinectl reload` send SIGHUP. */
static void pidfile_write(struct daemon *d, const struct config *cfg)
{
	char text[32];

	snprintf(d->pidfile, sizeof d->pidfile, "%s/pipelined.pid", cfg->daemon.state_dir);
	snprintf(text, sizeof text, "%ld\n", (long)getpid());
	if (file_write_atomic(d->pidfile, text, strlen(text), 0644)) {
		log_warn("main", "cannot write '%s': pipelinectl reload will not find the daemon",
			 d->pidfile);
		d->pidfile[0] = '\0';
	}
}

static int startup(struct daemon *d, struct config *cfg)
{
	struct buf err = BUF_INIT;
	char msg[256];

	if (!(d->metrics = metrics_new(0)) || metrics_std_declare(&d->std, d->metrics)) {
		log_err("main", "out of memory");
		config_free(cfg);
		return -1;
	}
	if (cfg->http.webhook_secret) {
		if (hooks_init(&d->hooks, cfg->http.webhook_secret, 0, hook_trigger_cb, d, msg,
			       sizeof msg)) {
			log_err("http", "%s", msg);
			config_free(cfg);
			return -1;
		}
		d->hooks.deliveries = d->std.webhooks;
		d->have_hooks = true;
	}
	struct dashboard_opts dopts = {
		.loop = &d->loop, .users_path = cfg->http.users,
		.trusted_proxy_header = cfg->http.trusted_proxy_header,
		.promote = engine_dashboard_promote,
		.approve = engine_dashboard_approve,
	};
	if (engine_new(&d->engine, &d->loop, cfg, &d->std, &err)) {
		log_err("main", "%s", err.data ? err.data : "cannot start the engine");
		buf_release(&err);
		config_free(cfg);
		return -1;
	}
	dopts.promote_arg = d->engine;
	dopts.approve_arg = d->engine;
	if (dashboard_new(&d->dashboard, &dopts, &err)) {
		log_config_errors(&err, d->config_path);
		buf_release(&err);
		return -1;
	}
	buf_release(&err);
	if (http_setup(d, cfg))
		return -1;
	if (notify_new(&d->notify, &d->loop, healthy_cb, d)) {
		log_err("main", "cannot set up systemd notifications");
		return -1;
	}
	engine_on_status(d->engine, status_cb, d);
	argocd_setup(d, cfg);
	pidfile_write(d, cfg);
	signals_setup(d);
	return 0;
}

static int run(const char *path, bool debug)
{
	struct daemon d;
	struct buf errors = BUF_INIT;
	struct config *cfg = NULL;
	int rc = 1;

	memset(&d, 0, sizeof d);
	d.config_path = path;
	if (config_load(&cfg, path, &errors)) {
		if (errors.len)
			fputs(errors.data, stderr);
		fprintf(stderr, "pipelined: configuration '%s' is invalid, not starting\n", path);
		buf_release(&errors);
		return 1;
	}
	buf_release(&errors);
	if (!debug)
		log_set_level(cfg->daemon.log_level);
	if (gitops_global_init() || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_err("main", "cannot initialise libgit2 or libcurl");
		config_free(cfg);
		return 1;
	}
	uv_loop_init(&d.loop);
	if (startup(&d, cfg) == 0) {
		log_notice("main", "pipelined %s started (config '%s')", PIPELINED_VERSION, path);
		notify_ready(d.notify, "started; first cycle running");
		engine_start(d.engine);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		rc = 0;
		log_notice("main", "stopped");
	} else {
		/* fatal at startup: close what was opened, one clear line said why */
		if (d.http)
			http_stop(d.http, 0, NULL, NULL);
		if (d.engine)
			engine_stop(d.engine, NULL, NULL);
		if (d.notify)
			notify_free(d.notify);
		uv_run(&d.loop, UV_RUN_DEFAULT);
	}
	if (d.pidfile[0])
		unlink(d.pidfile);
	if (d.have_hooks)
		hooks_release(&d.hooks);
	/* after the engine, which answers a dashboard request in flight */
	dashboard_free(d.dashboard);
	metrics_free(d.metrics);
	uv_loop_close(&d.loop);
	curl_global_cleanup();
	gitops_global_shutdown();
	return rc;
}

int main(int argc, char **argv)
{
	const char *config = PIPELINED_SYSCONFDIR "/pipelines.conf";
	int check_only = 0, opt;
	bool debug = false;

	while ((opt = getopt(argc, argv, "nc:dhV")) != -1) {
		switch (opt) {
		case 'n': check_only = 1; break;
		case 'c': config = optarg; break;
		case 'd': log_set_level(LOG_LVL_DEBUG); debug = true; break;
		case 'V': printf("pipelined %s\n", PIPELINED_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return check_config(config);
	signal(SIGPIPE, SIG_IGN);
	return run(config, debug);
}
