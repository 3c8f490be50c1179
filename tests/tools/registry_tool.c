/* registry_tool - drive the registry client from e2e tests and benchmarks.
 *
 *   registry_tool [opts] release  BASE NS SHA IMAGE...
 *   registry_tool [opts] evidence BASE NS SHA
 *   registry_tool [opts] tags     BASE NAME
 *
 * opts: --ca FILE  --creds FILE  --budget N  --page-cap N  --tag-cap N
 *       --timeout-ms N  --connect-ms N  --low-speed-s N  --evidence-max N
 *       --backoff-ms N  --repeat N (N cycles; stops at the first refusal)
 *       --cancel-ms N (stop the loop after N ms and free the client with
 *       requests still in flight: exit 4)
 *       --debug (debug logging on stderr)
 *       --known DIGEST (evidence: the manifest digest known unreadable)
 *
 * Prints "result: <status>" and details per run, then the request counters.
 * Exit: 0 complete/passed/listed, 1 incomplete/failed/missing, 2 error,
 * 3 refused while backing off, 4 cancelled, 5 unreadable evidence, 64 usage.
 */
#include "log.h"
#include "registry.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tool {
	struct registry_opts o;
	const char *cmd, *sha, *name, *known;
	uint32_t repeat;
	uint32_t cancel_ms;
	bool answered;
	int exit_code;
};

static void cancel_cb(uv_timer_t *timer)
{
	uv_stop(timer->loop);
}

static void timer_close_cb(uv_handle_t *h)
{
}

static void release_cb(const struct registry_release *res, void *arg)
{
	struct tool *t = arg;

	t->answered = true;

	printf("result: %s\n", registry_status_name(res->status));
	for (size_t i = 0; i < res->n_images; i++) {
		const struct registry_image_result *im = &res->images[i];

		if (im->state == REGISTRY_IMG_PRESENT)
			printf("digest %s %s\n", im->image, im->digest);
		else if (im->state == REGISTRY_IMG_MISSING)
			printf("missing %s\n", im->image);
		else
			printf("unknown %s: %s\n", im->image, im->error[0] ? im->error : "not asked");
	}
	printf("present %zu missing %zu unknown %zu\n", res->n_present, res->n_missing, res->n_error);
	if (res->status == REGISTRY_ERROR)
		printf("error: %s%s\n", res->error, res->budget_exhausted ? " [budget]" : "");
	t->exit_code = res->status == REGISTRY_COMPLETE ? 0 : res->status == REGISTRY_INCOMPLETE ? 1 : 2;
}

static void evidence_cb(const struct registry_evidence *res, void *arg)
{
	struct tool *t = arg;

	t->answered = true;
	const struct reg_evidence *e = &res->ev;

	printf("result: %s\n", registry_evidence_status_name(res->status));
	if (res->status == REGISTRY_EVIDENCE_PASSED || res->status == REGISTRY_EVIDENCE_FAILED) {
		printf("exit_code %lld passed %lld failed %lld skipped %lld total %lld\n",
		       (long long)e->exit_code, (long long)e->passed, (long long)e->failed,
		       (long long)e->skipped, (long long)e->total);
		printf("digest %s\n", res->digest);
		if (e->failures[0])
			printf("failures: %s\n", e->failures);
	}
	if (res->status == REGISTRY_EVIDENCE_ERROR)
		printf("error: %s%s\n", res->error, res->budget_exhausted ? " [budget]" : "");
	if (res->status == REGISTRY_EVIDENCE_UNREADABLE)
		printf("unreadable: %s\nartifact %s%s\n", res->unchanged ? "(unchanged)" : res->error,
		       res->artifact, res->unchanged ? " unchanged" : "");
	t->exit_code = res->status == REGISTRY_EVIDENCE_PASSED ? 0 :
		       res->status == REGISTRY_EVIDENCE_ERROR ? 2 :
		       res->status == REGISTRY_EVIDENCE_UNREADABLE ? 5 : 1;
}

static void tags_cb(const struct registry_tags *res, void *arg)
{
	struct tool *t = arg;

	t->answered = true;

	printf("result: %s\n", res->status ? "error" : "listed");
	if (res->status)
		printf("error: %s%s\n", res->error, res->budget_exhausted ? " [budget]" : "");
	printf("pages %u tags %zu skipped %zu truncated %d\n", res->pages, res->n_tags,
	       res->skipped, res->truncated);
	if (res->n_tags)
		printf("first %s last %s\n", res->tags[0], res->tags[res->n_tags - 1]);
	t->exit_code = res->status ? 2 : 0;
}

static int start(struct tool *t, struct registry *r)
{
	if (strcmp(t->cmd, "release") == 0)
		return registry_release_check(r, t->sha, release_cb, t);
	if (strcmp(t->cmd, "evidence") == 0)
		return registry_evidence_fetch(r, t->sha, t->known, evidence_cb, t);
	return registry_tags_list(r, t->name, tags_cb, t);
}

static int opt_num(const char *name, const char *v, uint32_t *out)
{
	if (!v || parse_u32(out, v, 0, UINT32_MAX)) {
		fprintf(stderr, "registry_tool: %s needs a number\n", name);
		return -1;
	}
	return 0;
}

static int parse_opts(struct tool *t, int argc, char **argv, int *i)
{
	for (; *i < argc && strncmp(argv[*i], "--", 2) == 0; (*i)++) {
		const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
		uint32_t n = 0;

		if (strcmp(a, "--debug") == 0) {
			log_set_level(LOG_LVL_DEBUG);
			continue;
		}
		if (!v)
			return -1;
		(*i)++;
		if (strcmp(a, "--ca") == 0)
			t->o.ca_file = v;
		else if (strcmp(a, "--creds") == 0)
			t->o.credentials_file = v;
		else if (strcmp(a, "--known") == 0)
			t->known = v;
		else if (opt_num(a, v, &n))
			return -1;
		else if (strcmp(a, "--budget") == 0)
			t->o.request_budget = n;
		else if (strcmp(a, "--page-cap") == 0)
			t->o.page_cap = n;
		else if (strcmp(a, "--tag-cap") == 0)
			t->o.tag_cap = n;
		else if (strcmp(a, "--timeout-ms") == 0)
			t->o.total_timeout_ms = n;
		else if (strcmp(a, "--connect-ms") == 0)
			t->o.connect_timeout_ms = n;
		else if (strcmp(a, "--low-speed-s") == 0)
			t->o.low_speed_time_s = n;
		else if (strcmp(a, "--evidence-max") == 0)
			t->o.evidence_max = n;
		else if (strcmp(a, "--backoff-ms") == 0)
			t->o.backoff_base_ms = n;
		else if (strcmp(a, "--repeat") == 0)
			t->repeat = n;
		else if (strcmp(a, "--cancel-ms") == 0)
			t->cancel_ms = n;
		else
			return -1;
	}
	return 0;
}

static int parse_args(struct tool *t, int argc, char **argv)
{
	int i = 1;

	if (parse_opts(t, argc, argv, &i) || argc - i < 3)
		return -1;
	t->cmd = argv[i];
	t->o.base_url = argv[i + 1];
	if (strcmp(t->cmd, "tags") == 0) {
		t->name = argv[i + 2];
		t->o.namespace = "unused";
		return argc - i == 3 ? 0 : -1;
	}
	if (argc - i < 4)
		return -1;
	t->o.namespace = argv[i + 2];
	t->sha = argv[i + 3];
	if (strcmp(t->cmd, "release") == 0) {
		t->o.images = (const char *const *)argv + i + 4;
		t->o.n_images = (size_t)(argc - i - 4);
		return t->o.n_images ? 0 : -1;
	}
	return strcmp(t->cmd, "evidence") == 0 && argc - i == 4 ? 0 : -1;
}

static int run(struct tool *t, uv_loop_t *loop)
{
	struct registry *r = NULL;
	struct registry_stats st;
	char err[REGISTRY_ERR_MAX];
	uv_timer_t cancel;
	int rc;

	uv_timer_init(loop, &cancel);

	if (registry_new(&r, loop, &t->o, err, sizeof(err))) {
		fprintf(stderr, "registry_tool: %s\n", err);
		uv_close((uv_handle_t *)&cancel, timer_close_cb);
		uv_run(loop, UV_RUN_DEFAULT);
		return 2;
	}
	for (uint32_t k = 0; k < t->repeat; k++) {
		registry_cycle_begin(r);
		rc = start(t, r);
		if (rc == ERR_REJECTED) {
			printf("refused: backing off, retry in %llums\n",
			       (unsigned long long)registry_retry_in_ms(r));
			t->exit_code = 3;
			break;
		}
		if (rc) {
			fprintf(stderr, "registry_tool: bad argument\n");
			t->exit_code = 64;
			break;
		}
		if (t->cancel_ms) {
			uv_timer_start(&cancel, cancel_cb, t->cancel_ms, 0);
			uv_run(loop, UV_RUN_DEFAULT);
			uv_timer_stop(&cancel);
			if (!t->answered) {
				printf("cancelled with requests in flight\n");
				t->exit_code = 4;
			}
		} else {
			uv_run(loop, UV_RUN_DEFAULT);
		}
		registry_get_stats(&st, r);
		printf("requests %llu tokens %llu connections %llu http-version %ld budget-left %u\n",
		       (unsigned long long)st.requests, (unsigned long long)st.token_requests,
		       (unsigned long long)st.connections, st.last_http_version, st.budget_left);
		printf("retry-in-ms %llu backoff-ms %llu failures %u\n",
		       (unsigned long long)registry_retry_in_ms(r),
		       (unsigned long long)st.last_delay_ms, st.failures);
		fflush(stdout);
	}
	/* with --cancel-ms this frees a client whose requests are in flight */
	registry_free(r);
	uv_close((uv_handle_t *)&cancel, timer_close_cb);
	uv_run(loop, UV_RUN_DEFAULT);	/* let the closed handles go */
	return t->exit_code;
}

int main(int argc, char **argv)
{
	struct tool t;
	uv_loop_t loop;
	int rc;

	memset(&t, 0, sizeof(t));
	t.repeat = 1;
	if (parse_args(&t, argc, argv)) {
		fprintf(stderr, "usage: registry_tool [opts] release BASE NS SHA IMAGE...\n"
				"       registry_tool [opts] evidence BASE NS SHA\n"
				"       registry_tool [opts] tags BASE NAME\n");
		return 64;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&loop);
	rc = run(&t, &loop);
	if (uv_loop_close(&loop))
		fprintf(stderr, "registry_tool: handles left open\n"), rc = 70;
	curl_global_cleanup();
	return rc;
}
