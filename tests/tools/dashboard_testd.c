/* dashboard_testd - the dashboard module on the HTTP server, for
 * tests/e2e/dashboard.sh.  Stands in for the engine: serves fixture JSON at
 * GET /api/v1/status and /api/v1/history, and its promote callback appends
 * what it received to --record as one JSON line, then replies from a loop
 * timer (deferred, as the engine does after a push) with the branch
 * "promote/<stage>/dashboard-<n>", or refuses with ERR_REJECTED when the
 * notes are exactly "refuse me".  SIGTERM stops it; exit 0 when every
 * handle is closed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "dashboard.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "sysio.h"

static uv_loop_t loop;
static uv_signal_t sigterm;
static struct http_server *srv;
static struct dashboard *dash;
static const char *status_file, *history_dir, *record_file;
static unsigned promotions;

static int fixture(struct http_response *res, const char *path)
{
	struct buf text = BUF_INIT;
	int rc = file_read(&text, path, 1 << 20);

	if (rc) {
		buf_release(&text);
		return http_text(res, 404, "no fixture\n");
	}
	strlcpy_(res->content_type, "application/json", sizeof(res->content_type));
	rc = buf_add(&res->body, text.data, text.len);
	buf_release(&text);
	return rc;
}

static int status_page(struct http_request *req, struct http_response *res, void *arg)
{
	return fixture(res, status_file);
}

static int history_page(struct http_request *req, struct http_response *res, void *arg)
{
	const char *stage = http_query(req, "stage");
	enum stage s;
	char path[512];

	if (!stage || stage_parse(&s, stage) < 0)
		return http_text(res, 400, "want ?stage=\n");
	snprintf(path, sizeof(path), "%s/history-%s.json", history_dir, stage_name(s));
	return fixture(res, path);
}

struct reply {
	uv_timer_t timer;
	dashboard_reply_fn fn;
	void *arg;
	int rc;
	char branch[128];
};

static void reply_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void reply_cb(uv_timer_t *t)
{
	struct reply *r = t->data;

	r->fn(r->arg, r->rc, r->rc ? NULL : r->branch,
	      r->rc ? "refused by the test engine" : "request created");
	uv_close((uv_handle_t *)&r->timer, reply_close_cb);
}

static void record(const struct dashboard_promote *req)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}",
			      "stage", stage_name(req->stage), "tag", req->tag,
			      "notes", req->notes, "break_glass_given", req->break_glass_given,
			      "break_glass", req->break_glass, "author_name", req->author_name,
			      "author_email", req->author_email, "remote", req->remote);
	FILE *f = fopen(record_file, "a");

	if (j && req->rollback)	/* issue 14 item 4: the Roll back button */
		json_object_set_new(j, "rollback", json_string(req->rollback_reason));
	if (j && f)
		json_dumpf(j, f, JSON_COMPACT | JSON_SORT_KEYS);
	if (f) {
		fputc('\n', f);
		fclose(f);
	}
	json_decref(j);
}

static void promote_cb(void *arg, const struct dashboard_promote *req, dashboard_reply_fn fn,
		       void *reply_arg)
{
	struct reply *r = calloc(1, sizeof(*r));

	record(req);
	if (!r) {
		fn(reply_arg, ERR_NOMEM, NULL, "out of memory");
		return;
	}
	r->fn = fn;
	r->arg = reply_arg;
	r->rc = strcmp(req->notes, "refuse me") ? 0 : ERR_REJECTED;
	snprintf(r->branch, sizeof(r->branch), "promote/%s/dashboard-%u",
		 stage_name(req->stage), ++promotions);
	uv_timer_init(&loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, reply_cb, 50, 0);
}

/* Issue 14 item 3: the Approve button; recorded as {"approve": branch,
 * "commit", "author_name"}, answered with a made-up approval commit. */
static void approve_cb(void *arg, const struct dashboard_approve *req, dashboard_reply_fn fn,
		       void *reply_arg)
{
	struct reply *r = calloc(1, sizeof(*r));
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "approve", req->branch, "commit",
			      req->commit, "author_name", req->author_name, "author_email",
			      req->author_email);
	FILE *f = fopen(record_file, "a");

	if (j && f)
		json_dumpf(j, f, JSON_COMPACT | JSON_SORT_KEYS);
	if (f) {
		fputc('\n', f);
		fclose(f);
	}
	json_decref(j);
	if (!r) {
		fn(reply_arg, ERR_NOMEM, NULL, "out of memory");
		return;
	}
	r->fn = fn;
	r->arg = reply_arg;
	strlcpy_(r->branch, "abcdef0123456789abcdef0123456789abcdef01", sizeof(r->branch));
	uv_timer_init(&loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, reply_cb, 50, 0);
}

static void stopped_cb(void *arg)
{
	srv = NULL;
}

static void signal_cb(uv_signal_t *s, int signum)
{
	uv_close((uv_handle_t *)&sigterm, NULL);
	http_stop(srv, 1000, stopped_cb, NULL);
}

int main(int argc, char **argv)
{
	struct dashboard_opts dopts = { .loop = &loop, .promote = promote_cb,
					.approve = approve_cb };
	struct http_config hc = { .listen = "127.0.0.1:0" };
	const char *hosts[8];
	size_t nhosts = 0;
	const char *port_file = NULL;
	struct buf err = BUF_INIT;
	char msg[256], port[16];
	int rc = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--port-file")) port_file = v;
		else if (!strcmp(k, "--listen")) hc.listen = v;
		else if (!strcmp(k, "--status")) status_file = v;
		else if (!strcmp(k, "--history-dir")) history_dir = v;
		else if (!strcmp(k, "--record")) record_file = v;
		else if (!strcmp(k, "--users")) dopts.users_path = v;
		else if (!strcmp(k, "--proxy-header")) dopts.trusted_proxy_header = v;
		else if (!strcmp(k, "--allowed-host") && nhosts < ARRAY_SIZE(hosts))
			hosts[nhosts++] = v;
		else {
			fprintf(stderr, "dashboard_testd: unknown option '%s'\n", k);
			return 2;
		}
	}
	if (!port_file || !status_file || !history_dir || !record_file) {
		fprintf(stderr, "usage: dashboard_testd --port-file F --status F --history-dir D "
			"--record F [--users F] [--proxy-header H] [--listen A]\n");
		return 2;
	}
	hc.allowed_hosts = hosts;
	hc.nallowed_hosts = nhosts;
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	if (dashboard_new(&dash, &dopts, &err)) {
		fprintf(stderr, "%s", err.data ? err.data : "dashboard_new failed\n");
		goto out;
	}
	{
		struct http_route routes[] = {
			DASHBOARD_ROUTES(dash),
			{ "GET", "/api/v1/status", status_page, NULL, 0, 0 },
			{ "GET", "/api/v1/history", history_page, NULL, 0, 0 },
		};

		if (http_start(&srv, &loop, &hc, routes, ARRAY_SIZE(routes), msg, sizeof(msg))) {
			fprintf(stderr, "%s\n", msg);
			goto out;
		}
		snprintf(port, sizeof(port), "%u\n", http_port(srv));
		if (file_write_atomic(port_file, port, strlen(port), 0644))
			goto out;
		uv_signal_init(&loop, &sigterm);
		uv_signal_start(&sigterm, signal_cb, SIGTERM);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	rc = 0;
out:
	dashboard_free(dash);
	buf_release(&err);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "dashboard_testd: loop closed with handles still open\n");
		rc = 1;
	}
	return rc;
}
