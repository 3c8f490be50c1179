/* http_testd - the HTTP layer on its own, for tests/e2e/http_*.sh.
 *
 * Mounts GET /healthz, GET+POST /api/v1/echo (JSON), GET /static/... (a
 * prefix route), GET /metrics (metrics.c, with awkward label values),
 * GET /debug/ticks (a 100 ms loop timer's count: proves the loop turns),
 * GET /debug/slow?ms=N (a deferred reply)
 * and POST /hooks/github (hooks.c); each fired trigger appends a line to
 * --trigger-log.  SIGTERM stops it gracefully; exit 0 when every handle
 * is closed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "hooks.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "sysio.h"

struct opts {
	struct http_config http;
	const char *port_file;
	const char *secret_file;
	const char *trigger_log;
	uint32_t window_ms;
};

static uv_loop_t loop;
static uv_timer_t ticker;
static uv_signal_t sigterm, sigint;
static unsigned long ticks;
static struct metrics *reg;
static struct metrics_std std;
static struct hooks hooks;
static struct http_server *srv;
static struct opts o = { .http = { .listen = "127.0.0.1:0" } };

static int healthz(struct http_request *req, struct http_response *res, void *arg)
{
	return http_text(res, 200, "ok\n");
}

static int echo(struct http_request *req, struct http_response *res, void *arg)
{
	const char *q = http_query(req, "q"), *ua = http_header(req, "User-Agent");
	json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:I}", "method", req->method,
			      "path", req->path, "q", q, "user_agent", ua,
			      "remote", req->remote, "body_len", (json_int_t)req->body_len);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc = text ? buf_adds(&res->body, text) : ERR_NOMEM;

	free(text);
	json_decref(j);
	strlcpy_(res->content_type, "application/json", sizeof(res->content_type));
	return rc ? rc : buf_addch(&res->body, '\n');
}

static int static_files(struct http_request *req, struct http_response *res, void *arg)
{
	http_response_header(res, "Cache-Control", "max-age=60");
	return buf_printf(&res->body, "static %s\n", req->path);
}

static int metrics_page(struct http_request *req, struct http_response *res, void *arg)
{
	strlcpy_(res->content_type, METRICS_CONTENT_TYPE, sizeof(res->content_type));
	return metrics_render(&res->body, reg);
}

static int ticks_page(struct http_request *req, struct http_response *res, void *arg)
{
	return buf_printf(&res->body, "%lu\n", ticks);
}

/* GET /debug/slow?ms=N answers after N ms from a loop timer (a deferred
 * reply, as the engine gives after a push). */
struct slow {
	uv_timer_t timer;
	struct http_deferred *d;
	uint32_t ms;
};

static void slow_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void slow_done_cb(uv_timer_t *t)
{
	struct slow *sl = t->data;

	buf_printf(&http_deferred_response(sl->d)->body, "slow %u\n", sl->ms);
	http_deferred_reply(sl->d);
	uv_close((uv_handle_t *)&sl->timer, slow_close_cb);
}

static void slow_cancel_cb(void *arg)
{
	struct slow *sl = arg;

	log_info("testd", "slow request cancelled");
	uv_close((uv_handle_t *)&sl->timer, slow_close_cb);
}

static int slow_page(struct http_request *req, struct http_response *res, void *arg)
{
	struct slow *sl = calloc(1, sizeof(*sl));
	const char *ms = http_query(req, "ms");

	if (!sl)
		return ERR_NOMEM;
	if (!ms || parse_u32(&sl->ms, ms, 0, 60000)) {
		free(sl);
		return http_text(res, 400, "want ?ms=0..60000\n");
	}
	sl->d = http_defer(req, slow_cancel_cb, sl);
	if (!sl->d) {
		free(sl);
		return http_text(res, 503, "cannot defer\n");
	}
	uv_timer_init(&loop, &sl->timer);
	sl->timer.data = sl;
	log_info("testd", "slow request deferred for %u ms", sl->ms);	/* tests wait for it */
	if (sl->ms == 0)	/* the reply-before-return path */
		slow_done_cb(&sl->timer);
	else
		uv_timer_start(&sl->timer, slow_done_cb, sl->ms, 0);
	return HTTP_DEFER;
}

static struct http_route routes[] = {
	{ "GET", "/debug/slow", slow_page, NULL, 0, 0 },
	{ "GET", "/healthz", healthz, NULL, 0, 0 },
	{ "GET", "/api/v1/echo", echo, NULL, 0, 0 },
	{ "POST", "/api/v1/echo", echo, NULL, 64 * 1024, 0 },
	{ "GET", "/static/*", static_files, NULL, 0, 0 },
	{ "GET", "/metrics", metrics_page, NULL, 0, 0 },
	{ "GET", "/debug/ticks", ticks_page, NULL, 0, 0 },
	HOOKS_ROUTE(&hooks),
};

static void trigger_cb(void *arg, const struct webhook_event *ev)
{
	FILE *f = fopen(o.trigger_log, "a");

	metrics_add(std.cycles, NULL, 1);
	if (!f)
		return;
	fprintf(f, "trigger %s %s %s\n", ev->event, ev->action, ev->subject);
	fclose(f);
}

static void tick_cb(uv_timer_t *t)
{
	ticks++;
}

static void stopped_cb(void *arg)
{
	srv = NULL;
	uv_close((uv_handle_t *)&ticker, NULL);
	log_info("testd", "stopped");
}

static void signal_cb(uv_signal_t *s, int signum)
{
	uv_close((uv_handle_t *)&sigterm, NULL);
	uv_close((uv_handle_t *)&sigint, NULL);
	http_stop(srv, 2000, stopped_cb, NULL);
}

/* Awkward label values: the renderer must escape them. */
static int metrics_seed(void)
{
	int rc = metrics_std_declare(&std, reg);

	rc = rc ? rc : metrics_add(std.refusals, (const char *const[]){ "paper", "market_closed" }, 3);
	rc = rc ? rc : metrics_add(std.refusals,
				   (const char *const[]){ "live", "quote\" back\\slash\nnewline" }, 1);
	rc = rc ? rc : metrics_add(std.registry_requests, (const char *const[]){ "ok" }, 42);
	rc = rc ? rc : metrics_set(std.last_success, (const char *const[]){ "registry" }, 1764238800);
	rc = rc ? rc : metrics_set(std.last_success, (const char *const[]){ "git" }, 1764238800.25);
	rc = rc ? rc : metrics_set(std.market_open, NULL, 1);
	return rc;
}

static int opt_u32(uint32_t *out, const char *name, const char *v, uint32_t max)
{
	if (v && parse_u32(out, v, 0, max) == 0)
		return 0;
	fprintf(stderr, "http_testd: bad %s '%s'\n", name, v ? v : "");
	return -1;
}

static int parse_args(int argc, char **argv)
{
	uint32_t v;

	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (!val)
			rc = -1;
		else if (!strcmp(k, "--listen"))
			o.http.listen = val;
		else if (!strcmp(k, "--port-file"))
			o.port_file = val;
		else if (!strcmp(k, "--secret-file"))
			o.secret_file = val;
		else if (!strcmp(k, "--trigger-log"))
			o.trigger_log = val;
		else if (!strcmp(k, "--window-ms"))
			rc = opt_u32(&o.window_ms, k, val, 600000);
		else if (!strcmp(k, "--max-conns") && !(rc = opt_u32(&v, k, val, 10000)))
			o.http.max_connections = v;
		else if (!strcmp(k, "--per-ip") && !(rc = opt_u32(&v, k, val, 10000)))
			o.http.max_per_ip = v;
		else if (!strcmp(k, "--idle-timeout") && !(rc = opt_u32(&v, k, val, 3600)))
			o.http.idle_timeout_s = v;
		else if (!strcmp(k, "--request-timeout-ms") && !(rc = opt_u32(&v, k, val, 3600000)))
			o.http.request_timeout_ms = v;
		else if (!rc)
			rc = -1;
		if (rc) {
			fprintf(stderr, "http_testd: bad option '%s'\n", k);
			return -1;
		}
	}
	if (!o.port_file || !o.secret_file || !o.trigger_log) {
		fprintf(stderr, "usage: http_testd --port-file F --secret-file F --trigger-log F "
			"[--listen A] [--window-ms N] [--max-conns N] [--per-ip N] "
			"[--idle-timeout S] [--request-timeout-ms N]\n");
		return -1;
	}
	return 0;
}

static int start(void)
{
	char err[256], port[16];

	if (hooks_init(&hooks, o.secret_file, o.window_ms, trigger_cb, NULL, err, sizeof(err))) {
		log_err("testd", "%s", err);
		return -1;
	}
	hooks.deliveries = std.webhooks;
	if (http_start(&srv, &loop, &o.http, routes, ARRAY_SIZE(routes), err, sizeof(err))) {
		log_err("testd", "%s", err);
		return -1;
	}
	snprintf(port, sizeof(port), "%u\n", http_port(srv));
	return file_write_atomic(o.port_file, port, strlen(port), 0644);
}

int main(int argc, char **argv)
{
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv))
		return 2;
	uv_loop_init(&loop);
	reg = metrics_new(64);
	if (!reg || metrics_seed() || start())
		goto out;
	uv_timer_init(&loop, &ticker);
	uv_timer_start(&ticker, tick_cb, 100, 100);
	uv_signal_init(&loop, &sigterm);
	uv_signal_start(&sigterm, signal_cb, SIGTERM);
	uv_signal_init(&loop, &sigint);
	uv_signal_start(&sigint, signal_cb, SIGINT);
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = 0;
out:
	hooks_release(&hooks);
	metrics_free(reg);
	if (uv_loop_close(&loop) != 0) {
		log_err("testd", "loop closed with handles still open");
		rc = 1;
	}
	return rc;
}
