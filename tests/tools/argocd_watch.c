/* argocd_watch - follow Argo CD Applications with the daemon's client and
 * print every update, for e2e tests of the client against the Argo CD
 * double.
 *
 *   argocd_watch URL TOKEN_FILE REPO_URL SECONDS TAG APP...
 *
 * One line per update, flushed at once:
 *   <app> facts sync=<s> health=<h> op=<phase> rev=<revision> stale=<0|1> verdict=<v> why=<...>
 *   <app> error <why>
 * (the verdict takes TAG as the stage's tag, every listed image of the
 * document as configured, and the revision as containing the promotion),
 * then after SECONDS "stats streams=N polls=N events=N failures=N".
 * Exit 0, or 2 when the client cannot start (the reason on stderr).
 * Environment: ARGOCD_POLL_MS, ARGOCD_DEADLINE_MS, ARGOCD_STREAM_LIFE_MS,
 * ARGOCD_PROJECT. */
#include "argocd.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *tag;

static uint64_t env_ms(const char *name)
{
	const char *v = getenv(name);
	int64_t n = 0;

	return v && parse_i64(&n, v, 1, 3600000) == 0 ? (uint64_t)n : 0;
}

static void update(size_t app, const struct argocd_app *a, const char *why, void *arg)
{
	const char *const *names = arg;
	static const char *const images[] = { "scheduler", "risk" };
	struct argocd_expect x = { tag, images, 2, true };
	struct argocd_state st;

	if (!a) {
		printf("%s error %s\n", names[app], why);
	} else {
		argocd_judge(&st, a, &x);
		printf("%s facts sync=%s health=%s op=%s rev=%s stale=%d verdict=%s why=%s\n",
		       names[app], a->sync, a->health, a->op_phase, a->revision, a->health_stale,
		       argocd_verdict_name(st.verdict), st.why);
	}
	fflush(stdout);
}

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void close_cb(uv_handle_t *h)
{
}

int main(int argc, char **argv)
{
	struct argocd_opts o = { 0 };
	struct argocd *c = NULL;
	struct argocd_stats st;
	struct buf err = BUF_INIT;
	uv_loop_t loop;
	uv_timer_t stop;
	int64_t secs;

	if (argc < 7 || parse_i64(&secs, argv[4], 1, 3600)) {
		fprintf(stderr, "usage: argocd_watch URL TOKEN_FILE REPO_URL SECONDS TAG APP...\n");
		return 64;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&loop);
	tag = argv[5];
	o.url = argv[1], o.token_file = argv[2], o.repo_url = argv[3];
	o.apps = (const char *const *)argv + 6, o.napps = (size_t)argc - 6;
	o.poll_ms = env_ms("ARGOCD_POLL_MS");
	o.deadline_ms = env_ms("ARGOCD_DEADLINE_MS");
	o.stream_life_ms = env_ms("ARGOCD_STREAM_LIFE_MS");
	o.backoff_max_ms = 2000;
	o.project = getenv("ARGOCD_PROJECT");
	if (argocd_new(&c, &loop, &o, update, argv + 6, &err)) {
		fprintf(stderr, "argocd_watch: %s\n", err.data ? err.data : "cannot start");
		buf_release(&err);
		return 2;
	}
	uv_timer_init(&loop, &stop);
	uv_timer_start(&stop, stop_cb, (uint64_t)secs * 1000, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	argocd_get_stats(c, &st);
	printf("stats streams=%llu polls=%llu events=%llu failures=%llu\n",
	       (unsigned long long)st.streams_opened, (unsigned long long)st.polls,
	       (unsigned long long)st.events, (unsigned long long)st.failures);
	argocd_free(c);
	uv_close((uv_handle_t *)&stop, close_cb);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	curl_global_cleanup();
	return 0;
}
