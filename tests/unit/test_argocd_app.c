/* Unit tests for argocd_app.c: the facts read from an Argo CD Application
 * (multi-source, single-source, the watch stream) and the verdict table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argocd_app.h"
#include "util.h"

#define REPO "ssh://git@127.0.0.1:2222/srv/git/stonks-oracle.git"
#define REL "0f3c9a1b2c3d4e5f60718293a4b5c6d7e8f90123"
#define OLD "1111111111111111111111111111111111111111"

static const char *const images[] = { "scheduler", "risk", "dashboard" };

/* An Application as the templates make it: chart source first, then the
 * `ref: values` source from the same repository. */
static char *app_json(const char *sync, const char *rev, const char *health, const char *phase,
		      const char *finished, const char *reconciled, const char *img_tag,
		      const char *extra_status)
{
	struct buf b = BUF_INIT;

	buf_printf(&b,
		   "{\"metadata\":{\"name\":\"stonks-oracle-beta\",\"namespace\":\"argocd\"},"
		   "\"spec\":{\"project\":\"stonks-oracle\",\"sources\":["
		   "{\"repoURL\":\"https://github.com/other/charts.git\",\"path\":\"c\",\"targetRevision\":\"main\"},"
		   "{\"repoURL\":\"https://127.0.0.1/srv/git/stonks-oracle\",\"targetRevision\":\"main\",\"ref\":\"values\"}]},"
		   "\"status\":{\"sync\":{\"status\":\"%s\",\"revisions\":[\"cafe\",\"%s\"]},"
		   "\"health\":{\"status\":\"%s\",\"message\":\"rollout\\nstep 2\"},"
		   "\"operationState\":{\"phase\":\"%s\",\"message\":\"one or more objects failed to apply\","
		   "\"startedAt\":\"2026-11-30T21:00:00Z\",\"finishedAt\":\"%s\"},"
		   "\"reconciledAt\":\"%s\","
		   "\"summary\":{\"images\":[\"ghcr.io/celesrenata/stonks-oracle/scheduler:%s\","
		   "\"ghcr.io/celesrenata/stonks-oracle/risk:%s@sha256:0123\","
		   "\"ghcr.io/celesrenata/stonks-oracle/dashboard:%s\",\"redis:7\"]}%s}}",
		   sync, rev, health, phase, finished, reconciled, img_tag, img_tag, img_tag,
		   extra_status);
	return buf_detach(&b, NULL);
}

static void judge(struct argocd_state *st, const char *json, bool has_promotion)
{
	struct argocd_app a;
	struct buf err = BUF_INIT;
	struct argocd_expect x = { REL, images, 3, has_promotion };

	assert_int_equal(argocd_app_parse(&a, json, strlen(json), REPO, &err), 0);
	argocd_judge(st, &a, &x);
	argocd_app_release(&a);
	buf_release(&err);
}

static void test_parse_multisource(void **state)
{
	char *j = app_json("Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z",
			   "2026-11-30T21:00:09Z", REL, "");
	struct argocd_app a;
	struct buf err = BUF_INIT;

	assert_int_equal(argocd_app_parse(&a, j, strlen(j), REPO, &err), 0);
	assert_string_equal(a.name, "stonks-oracle-beta");
	assert_string_equal(a.app_namespace, "argocd");
	assert_string_equal(a.project, "stonks-oracle");
	assert_int_equal(a.values_source, 1);	/* found by repoURL, not configured */
	assert_string_equal(a.revision, REL);
	assert_string_equal(a.sync, "Synced");
	assert_string_equal(a.health, "Healthy");
	assert_string_equal(a.health_message, "rollout step 2");	/* one line */
	assert_string_equal(a.op_phase, "Succeeded");
	assert_int_equal(a.op_finished, 1796072405);	/* 2026-11-30T21:00:05Z */
	assert_false(a.health_stale);
	assert_int_equal(a.nimages, 4);
	argocd_app_release(&a);
	buf_release(&err);
	free(j);
}

static void test_parse_single_source_and_no_match(void **state)
{
	const char *one = "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"source\":{\"repoURL\":"
			  "\"git@127.0.0.1:srv/git/stonks-oracle.git\"}},"
			  "\"status\":{\"sync\":{\"status\":\"Synced\",\"revision\":\"" REL "\"}}}";
	const char *other = "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"source\":{\"repoURL\":"
			    "\"https://example.org/x.git\"}}}";
	struct argocd_app a;
	struct buf err = BUF_INIT;

	/* scp-style and ssh:// with a port name the same repository */
	assert_int_equal(argocd_app_parse(&a, one, strlen(one), REPO, &err), 0);
	assert_int_equal(a.values_source, -1);
	assert_string_equal(a.revision, REL);
	argocd_app_release(&a);
	assert_int_equal(argocd_app_parse(&a, other, strlen(other), REPO, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.data, "no source of the Application is the GitOps repository"));
	assert_non_null(strstr(err.data, "https://example.org/x.git"));
	buf_release(&err);
}

static void test_parse_bad_documents(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{\"metadata\":{}}", "not json",
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"sources\":{}}}",
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"source\":{\"repoURL\":\"" REPO "\"}},"
		"\"status\":{\"sync\":{\"status\":7}}}",
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"source\":{\"repoURL\":\"" REPO "\"}},"
		"\"status\":{\"reconciledAt\":\"yesterday\"}}",
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"sources\":[{\"repoURL\":\"" REPO "\"}]},"
		"\"status\":{\"sync\":{\"revisions\":[]}}}",
		"{\"metadata\":{\"name\":\"a\",\"name\":\"b\"},\"spec\":{}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":[]},\"spec\":{\"source\":"
		"{\"repoURL\":\"" REPO "\"}}}",
	};
	struct argocd_app a;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buf err = BUF_INIT;
		int rc = argocd_app_parse(&a, bad[i], strlen(bad[i]), REPO, &err);

		assert_true(rc == ERR_INVALID || rc == ERR_NOTFOUND);
		assert_non_null(err.data);
		assert_null(strchr(err.data, '\n'));
		buf_release(&err);
	}
}

static void test_repo_key(void **state)
{
	struct buf k = BUF_INIT;

	assert_int_equal(argocd_repo_key(&k, "ssh://git@GitHub.com/celesrenata/stonks-oracle.git"), 0);
	assert_string_equal(k.data, "github.com/celesrenata/stonks-oracle");
	assert_true(argocd_repo_same("https://github.com/celesrenata/stonks-oracle/",
				     "git@github.com:celesrenata/stonks-oracle.git"));
	assert_true(argocd_repo_same("ssh://git@github.com:22/a/b", "https://github.com/a/b"));
	assert_false(argocd_repo_same("https://github.com/a/b", "https://github.com/a/c"));
	assert_false(argocd_repo_same("https://github.com/a/b", "https://gitlab.com/a/b"));
	assert_int_equal(argocd_repo_key(&k, "https://github.com/"), ERR_INVALID);
	buf_release(&k);
}

static void test_time(void **state)
{
	assert_int_equal(argocd_time("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(argocd_time("2026-11-30T16:00:05-05:00"), 1796072405);
	assert_int_equal(argocd_time("2026-11-30T21:00:05.123456Z"), 1796072405);
	assert_int_equal(argocd_time("2026-02-30T00:00:00Z"), -1);
	assert_int_equal(argocd_time("2026-11-30 21:00:05Z"), -1);
	assert_int_equal(argocd_time("2026-11-30T21:00:05"), -1);
}

/* The verdict table: each row one state Argo CD can report. */
static void test_verdicts(void **state)
{
	static const struct {
		const char *sync, *rev, *health, *phase, *fin, *rec, *tag, *extra;
		bool has;
		enum argocd_verdict want;
		const char *why;
	} rows[] = {
		{ "Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  REL, "", true, ARGOCD_DEPLOYED, "deployed" },
		/* stale health: the sync finished after the last reconcile */
		{ "Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:09Z", "2026-11-30T21:00:05Z",
		  REL, "", true, ARGOCD_UNKNOWN, "health not known yet" },
		{ "OutOfSync", OLD, "Healthy", "Failed", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  OLD, "", false, ARGOCD_SYNC_FAILED, "one or more objects failed to apply" },
		{ "Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  REL, ",\"conditions\":[{\"type\":\"SyncError\",\"message\":\"quota exceeded\"}]", true,
		  ARGOCD_SYNC_FAILED, "quota exceeded" },
		{ "Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  REL, ",\"conditions\":[{\"type\":\"ComparisonError\",\"message\":\"helm template failed\"}]",
		  true, ARGOCD_UNKNOWN, "helm template failed" },
		{ "Synced", REL, "Degraded", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  REL, "", true, ARGOCD_DEGRADED, "health Degraded: rollout step 2" },
		{ "Synced", REL, "Missing", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  REL, "", true, ARGOCD_DEGRADED, "health Missing" },
		{ "OutOfSync", OLD, "Healthy", "Running", "", "2026-11-30T21:00:09Z", OLD, "", false,
		  ARGOCD_PROGRESSING, "sync running" },
		{ "OutOfSync", OLD, "Healthy", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  OLD, "", false, ARGOCD_OUT_OF_SYNC, "reports OutOfSync" },
		/* Synced, but to a commit from before the promotion */
		{ "Synced", OLD, "Healthy", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  OLD, "", false, ARGOCD_OUT_OF_SYNC, "does not contain the promotion" },
		{ "Synced", REL, "Progressing", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  REL, "", true, ARGOCD_PROGRESSING, "health Progressing" },
		{ "Unknown", REL, "Healthy", "", "", "2026-11-30T21:00:09Z", REL, "", true,
		  ARGOCD_UNKNOWN, "sync status Unknown" },
		/* synced and healthy, yet the pods run another tag */
		{ "Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z", "2026-11-30T21:00:09Z",
		  OLD, "", true, ARGOCD_OUT_OF_SYNC, "image scheduler runs 1111111111111111111111111111111111111111" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct argocd_state st;
		char *j = app_json(rows[i].sync, rows[i].rev, rows[i].health, rows[i].phase,
				   rows[i].fin[0] ? rows[i].fin : "2026-11-30T21:00:01Z",
				   rows[i].rec, rows[i].tag, rows[i].extra);

		if (!rows[i].fin[0]) {	/* a running operation has no finishedAt */
			char *f = strstr(j, ",\"finishedAt\":\"2026-11-30T21:00:01Z\"");
			memmove(f, f + strlen(",\"finishedAt\":\"2026-11-30T21:00:01Z\""),
				strlen(f) - strlen(",\"finishedAt\":\"2026-11-30T21:00:01Z\"") + 1);
		}
		judge(&st, j, rows[i].has);
		if (st.verdict != rows[i].want || !strstr(st.why, rows[i].why))
			fail_msg("row %zu: got %s (%s), want %s (%s)", i, argocd_verdict_name(st.verdict),
				 st.why, argocd_verdict_name(rows[i].want), rows[i].why);
		free(j);
	}
}

static void test_missing_image(void **state)
{
	static const char *const more[] = { "scheduler", "superset" };
	char *j = app_json("Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z",
			   "2026-11-30T21:00:09Z", REL, "");
	struct argocd_app a;
	struct argocd_state st;
	struct argocd_expect x = { REL, more, 2, true };
	struct buf err = BUF_INIT;

	assert_int_equal(argocd_app_parse(&a, j, strlen(j), REPO, &err), 0);
	argocd_judge(&st, &a, &x);
	assert_int_equal(st.verdict, ARGOCD_OUT_OF_SYNC);
	assert_string_equal(st.why, "image superset is not running (not in the Application's images)");
	assert_int_equal(st.images_ok, 1);
	argocd_app_release(&a);
	buf_release(&err);
	free(j);
}

static void test_stream_events(void **state)
{
	char *app = app_json("Synced", REL, "Healthy", "Succeeded", "2026-11-30T21:00:05Z",
			     "2026-11-30T21:00:09Z", REL, "");
	struct buf line = BUF_INIT, err = BUF_INIT;
	struct argocd_app a;
	char type[16];

	buf_printf(&line, "{\"result\":{\"type\":\"MODIFIED\",\"application\":%s}}", app);
	assert_int_equal(argocd_event_parse(&a, type, line.data, line.len, REPO, &err), 0);
	assert_string_equal(type, "MODIFIED");
	assert_string_equal(a.revision, REL);
	argocd_app_release(&a);

	buf_reset(&line);
	buf_adds(&line, "{\"result\":{\"type\":\"DELETED\",\"application\":{}}}");
	assert_int_equal(argocd_event_parse(&a, type, line.data, line.len, REPO, &err), 0);
	assert_string_equal(type, "DELETED");

	buf_reset(&line);
	buf_adds(&line, "{\"error\":{\"grpc_code\":7,\"http_code\":403,\"message\":\"permission denied\"}}");
	assert_int_equal(argocd_event_parse(&a, type, line.data, line.len, REPO, &err), ERR_REJECTED);
	assert_string_equal(err.data, "Argo CD stream error: permission denied");

	buf_reset(&line);
	buf_adds(&line, "{\"result\":{\"type\":\"BOOKMARK\"}}");
	assert_int_equal(argocd_event_parse(&a, type, line.data, line.len, REPO, &err), ERR_INVALID);
	assert_string_equal(type, "");
	buf_release(&line);
	buf_release(&err);
	free(app);
}

/* The link to the Application in Argo CD's UI: the route of its UI,
 * /applications/:appnamespace/:name, under the configured url. */
static void test_ui_url(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(argocd_ui_url(&b, "https://argocd.example.org", "argocd", "stonks-beta"), 0);
	assert_string_equal(b.data, "https://argocd.example.org/applications/argocd/stonks-beta");
	assert_int_equal(argocd_ui_url(&b, "https://example.org/argo-cd/", "argocd", "a"), 0);
	assert_string_equal(b.data, "https://example.org/argo-cd/applications/argocd/a");
	assert_int_equal(argocd_ui_url(&b, "http://127.0.0.1:8080", "", "stonks-paper"), 0);
	assert_string_equal(b.data, "http://127.0.0.1:8080/applications/stonks-paper");
	assert_int_equal(argocd_ui_url(&b, "https://a", "ns/x", "n a?#"), 0);
	assert_string_equal(b.data, "https://a/applications/ns%2Fx/n%20a%3F%23");
	assert_int_equal(argocd_ui_url(&b, "", "argocd", "a"), ERR_INVALID);
	assert_int_equal(argocd_ui_url(&b, "https://a", "argocd", ""), ERR_INVALID);
	assert_int_equal(argocd_ui_url(&b, "https://a", NULL, NULL), ERR_INVALID);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_multisource),
		cmocka_unit_test(test_parse_single_source_and_no_match),
		cmocka_unit_test(test_parse_bad_documents),
		cmocka_unit_test(test_repo_key),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_missing_image),
		cmocka_unit_test(test_stream_events),
		cmocka_unit_test(test_ui_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
