/* ctl_status.c - `pipelinectl status [--json]`: the daemon's
 * GET /api/v1/status (docs/api.md), found at [http] listen of the
 * configuration, as a table or passed through as JSON. */
#include "config.h"
#include "ctl.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define STATUS_MAX (8u << 20)

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

/* GET path from the daemon into body; 0, or 2 with a message printed. */
int ctl_api_get(struct buf *body, const struct config *cfg, const char *path)
{
	char url[400], err[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (!c)
		return fprintf(stderr, "pipelinectl: out of memory\n"), 2;
	snprintf(url, sizeof url, strchr(cfg->http.listen.host, ':') ? "http://[%s]:%u%s" :
		 "http://%s:%u%s", strcmp(cfg->http.listen.host, "0.0.0.0") ?
		 cfg->http.listen.host : "127.0.0.1", (unsigned)cfg->http.listen.port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return fprintf(stderr, "pipelinectl: cannot reach pipelined at %s: %s\n", url,
			       err[0] ? err : curl_easy_strerror(rc)), 2;
	if (code != 200)
		return fprintf(stderr, "pipelinectl: %s answered HTTP %ld\n", url, code), 2;
	return 0;
}

static const char *s_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static const char *yn(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key)) ? "yes" : "no";
}

/* What Argo CD runs, when it is not the promotion: the verdict, since
 * when, and Argo CD's own words (a failed sync's message). */
static void deployed_problem(json_t *s)
{
	json_t *d = json_object_get(s, "deployed");
	const char *v = s_or(d, "verdict", NULL);

	if (!v || strcmp(v, "deployed") == 0)
		return;
	printf("\n%s: Argo CD Application %s is %s since %s: %s\n", s_or(s, "name", "?"),
	       s_or(d, "application", "?"), v, s_or(d, "since", "?"), s_or(d, "reason", "?"));
}

/* A blocked stage (a permanent error, docs/api.md) and the last failure
 * of a stage that is being retried: what an operator must act on. */
static void print_stage_problems(json_t *stages)
{
	size_t i;
	json_t *s;

	json_array_foreach(stages, i, s) {
		if (json_is_true(json_object_get(s, "blocked")))
			printf("\n%s is BLOCKED since %s: %s\n", s_or(s, "name", "?"),
			       s_or(s, "blocked_since", "?"), s_or(s, "blocked_reason", "?"));
		else if (json_string_value(json_object_get(s, "error")))
			printf("\n%s: promotion failing (%lld time(s)), retried with backoff: %s\n",
			       s_or(s, "name", "?"),
			       (long long)json_integer_value(json_object_get(s, "failures")),
			       s_or(s, "error", "?"));
		deployed_problem(s);
	}
}

static void print_stages(json_t *stages)
{
	size_t i;
	json_t *s;

	printf("%-17s %-7s %-4s %-5s %-8s %-11s %-17s %-30s %s\n", "STAGE", "ENABLED", "AUTO",
	       "GATED", "TAG", "DEPLOYED", "SOURCE", "PROMOTED BY", "WHEN");
	json_array_foreach(stages, i, s) {
		json_t *p = json_object_get(s, "promoted");
		bool deploy = json_is_true(json_object_get(s, "deploy"));
		printf("%-17s %-7s %-4s %-5s %-8.7s %-11s %-17s %-30.30s %s\n", s_or(s, "name", "?"),
		       yn(s, "enabled"), deploy ? yn(s, "auto") : "-",
		       deploy ? yn(s, "market_gated") : "-", s_or(s, "current_tag", "-"),
		       s_or(json_object_get(s, "deployed"), "verdict", "-"),
		       s_or(s, "source_stage", "-"), s_or(p, "requested_by", "-"),
		       s_or(p, "time", "-"));
	}
	print_stage_problems(stages);
}

/* Releases whose evidence cannot be read: what an operator must republish. */
static void print_release_problems(json_t *releases)
{
	size_t i;
	json_t *r;

	json_array_foreach(releases, i, r) {
		const char *ev = s_or(r, "evidence", "");

		if (strcmp(ev, "unreadable") == 0)
			printf("\nrelease %.7s: %s\n", s_or(r, "sha", "?"),
			       s_or(r, "evidence_summary", "evidence unreadable"));
	}
}

/* The request branches past the [requests] bounds: a count, the oldest. */
static void print_waiting(json_t *w)
{
	json_int_t n = json_integer_value(json_object_get(w, "count"));
	json_t *v;
	size_t i;

	if (n <= 0)
		return;
	printf("  and %lld waiting for a slot, refused queue-full (%lld over requests.perAuthor, "
	       "%lld over requests.max); oldest:\n", (long long)n,
	       (long long)json_integer_value(json_object_get(w, "over_per_author")),
	       (long long)json_integer_value(json_object_get(w, "over_max")));
	json_array_foreach(json_object_get(w, "oldest"), i, v)
		printf("  %-32s %.7s  %-8s %s\n", s_or(v, "branch", "?"), s_or(v, "commit", "?"),
		       s_or(v, "bound", "?"), s_or(v, "author", ""));
}

/* issue 14 item 1: the freezes in force and the file's error */
static void print_freezes(json_t *f)
{
	const char *file = s_or(f, "file", NULL), *err = s_or(f, "error", NULL);
	const char *const lists[] = { "active", "upcoming" };
	json_t *v;
	size_t i;

	if (!file)
		return;
	printf("\nfreezes (%s):\n", file);
	for (size_t k = 0; k < ARRAY_SIZE(lists); k++)
		json_array_foreach(json_object_get(f, lists[k]), i, v) {
			json_t *st = json_object_get(v, "stages"), *x;
			size_t j;

			printf("  %-8s %-24s ", lists[k], s_or(v, "id", "?"));
			json_array_foreach(st, j, x)
				printf("%s%s", j ? "," : "", json_string_value(x));
			printf("  %s .. %s  break-glass %s  %s\n", s_or(v, "start", "now"),
			       s_or(v, "end", "until lifted"),
			       json_is_true(json_object_get(v, "break_glass")) ? "allowed" : "denied",
			       s_or(v, "reason", ""));
		}
	if (err)
		printf("  ERROR since %s (%s):\n  %s\n", s_or(f, "error_at", "?"),
		       s_or(f, "in_force", "nothing in force"), err);
}

static void print_rest(json_t *root)
{
	json_t *m = json_object_get(root, "market"), *reqs = json_object_get(root, "requests");
	json_t *errs = json_object_get(root, "errors"), *v;
	const char *key;
	size_t i;

	print_release_problems(json_object_get(root, "releases"));
	printf("\nmarket: %s\n", s_or(m, "status", "unknown"));
	print_freezes(json_object_get(root, "freezes"));
	printf("\nrequests: %zu\n", json_array_size(reqs));
	json_array_foreach(reqs, i, v)
		printf("  %-32s %.7s  %-8s %-16s %s\n", s_or(v, "branch", "?"),
		       s_or(v, "commit", "?"), s_or(v, "state", "?"), s_or(v, "code", "-"),
		       s_or(v, "message", ""));
	print_waiting(json_object_get(root, "requests_waiting"));
	printf("\nlast errors:\n");
	json_object_foreach(errs, key, v)
		printf("  %-10s %s\n", key, s_or(v, "message", "none"));
	printf("\npipelined %s, up %llds, %lld cycles\n", s_or(root, "version", "?"),
	       (long long)json_integer_value(json_object_get(root, "uptime_s")),
	       (long long)json_integer_value(json_object_get(root, "cycles")));
}

int cmd_status(int argc, char **argv, const struct ctl_opts *opts)
{
	struct config *cfg = NULL;
	struct buf body = BUF_INIT;
	json_error_t jerr;
	json_t *root;
	bool json = opts->json;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0)
			return fprintf(stderr, "usage: pipelinectl status [--json]\n"), 2;
		json = true;
	}
	if (ctl_load_config(&cfg, opts) || !cfg) {
		if (!cfg)
			fprintf(stderr, "pipelinectl: status needs the configuration (-c FILE) to "
					"find the daemon\n");
		config_free(cfg);
		return 2;
	}
	buf_init(&body, STATUS_MAX);
	rc = ctl_api_get(&body, cfg, "/api/v1/status");
	if (rc == 0 && json) {
		fputs(body.data ? body.data : "", stdout);
	} else if (rc == 0) {
		if (!(root = json_loadb(body.data ? body.data : "", body.len, 0, &jerr))) {
			fprintf(stderr, "pipelinectl: unreadable status: %s\n", jerr.text);
			rc = 2;
		} else {
			/* the git-derived columns are the daemon's reading of its
			 * mirror of the configured repository, never of a checkout */
			printf("repository: %s branch %s at %.12s (the daemon's last scan)\n",
			       cfg->repository.url.url, cfg->repository.branch,
			       s_or(root, "tip", "(none yet)"));
			print_stages(json_object_get(root, "stages"));
			print_rest(root);
			json_decref(root);
		}
	}
	buf_release(&body);
	config_free(cfg);
	return rc;
}
