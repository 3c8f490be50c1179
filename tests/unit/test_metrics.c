/* Unit tests for metrics.c: exact exposition text, escaping, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "metrics.h"

#define V(...) ((const char *const[]){ __VA_ARGS__ })

static void render(struct buf *out, const struct metrics *m)
{
	buf_init(out, 0);
	assert_int_equal(metrics_render(out, m), 0);
}

static void test_render_exact(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metric_family *c, *g;
	struct buf out;

	assert_int_equal(metrics_family(&c, m, METRIC_COUNTER, "x_requests_total",
					"Requests by result.", V("result", NULL)), 0);
	assert_int_equal(metrics_family(&g, m, METRIC_GAUGE, "x_up", "Help with \\ and\nnewline.",
					NULL), 0);
	assert_int_equal(metrics_add(c, V("ok"), 2), 0);
	assert_int_equal(metrics_add(c, V("error"), 1), 0);
	assert_int_equal(metrics_add(c, V("ok"), 1), 0);
	render(&out, m);
	assert_string_equal(out.data,
		"# HELP x_requests_total Requests by result.\n"
		"# TYPE x_requests_total counter\n"
		"x_requests_total{result=\"ok\"} 3\n"
		"x_requests_total{result=\"error\"} 1\n"
		"# HELP x_up Help with \\\\ and\\nnewline.\n"
		"# TYPE x_up gauge\n"
		"x_up 0\n");
	buf_release(&out);
	metrics_free(m);
}

static void test_escaping_and_values(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metric_family *g;
	struct buf out;
	double v;

	assert_int_equal(metrics_family(&g, m, METRIC_GAUGE, "x_info", "", V("a", "b", NULL)), 0);
	assert_int_equal(metrics_set(g, V("q\"uote", "back\\slash\nnl"), 1764238800), 0);
	assert_int_equal(metrics_set(g, V("frac", "caf\xc3\xa9"), 0.25), 0);
	assert_int_equal(metrics_set(g, V("inf", ""), INFINITY), 0);
	assert_int_equal(metrics_set(g, V("nan", ""), NAN), 0);
	assert_int_equal(metrics_add(g, V("frac", "caf\xc3\xa9"), -1), 0);
	assert_int_equal(metrics_get(&v, g, V("frac", "caf\xc3\xa9")), 0);
	assert_true(v == -0.75);
	render(&out, m);
	assert_string_equal(out.data,
		"# HELP x_info \n"
		"# TYPE x_info gauge\n"
		"x_info{a=\"q\\\"uote\",b=\"back\\\\slash\\nnl\"} 1764238800\n"
		"x_info{a=\"frac\",b=\"caf\xc3\xa9\"} -0.75\n"
		"x_info{a=\"inf\",b=\"\"} +Inf\n"
		"x_info{a=\"nan\",b=\"\"} NaN\n");
	buf_release(&out);
	metrics_free(m);
}

static void test_bad_declarations(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metric_family *f = NULL;

	assert_int_equal(metrics_family(&f, m, METRIC_COUNTER, "x_requests", "", NULL), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "9x", "", NULL), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "x-y", "", NULL), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "x", "", V("__name", NULL)), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "x", "", V("a:b", NULL)), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "x", "", V("a", "a", NULL)), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "x", "",
					V("a", "b", "c", "d", "e", NULL)), ERR_INVALID);
	assert_null(f);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "ns:x", "", NULL), 0);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "ns:x", "", NULL), ERR_INVALID);
	metrics_free(m);
	metrics_free(NULL);
}

static void test_bad_updates(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metric_family *c;
	struct buf out;
	double v;

	assert_int_equal(metrics_family(&c, m, METRIC_COUNTER, "x_total", "", V("code", NULL)), 0);
	assert_int_equal(metrics_add(c, V("ok"), 1), 0);
	assert_int_equal(metrics_add(c, V("ok"), -1), ERR_INVALID);
	assert_int_equal(metrics_add(c, V("ok"), NAN), ERR_INVALID);
	assert_int_equal(metrics_set(c, V("ok"), 5), ERR_INVALID);
	assert_int_equal(metrics_add(c, NULL, 1), ERR_INVALID);
	assert_int_equal(metrics_add(c, V("\xff"), 1), ERR_INVALID);	/* not UTF-8 */
	assert_int_equal(metrics_add(c, V("\xed\xa0\x80"), 1), ERR_INVALID);	/* surrogate */
	assert_int_equal(metrics_add(c, V("\xc0\xaf"), 1), ERR_INVALID);	/* overlong */
	assert_int_equal(metrics_get(&v, c, V("ok")), 0);
	assert_true(v == 1);
	assert_int_equal(metrics_get(&v, c, V("never")), ERR_NOTFOUND);
	render(&out, m);
	assert_string_equal(out.data, "# HELP x_total \n# TYPE x_total counter\nx_total{code=\"ok\"} 1\n");
	buf_release(&out);
	metrics_free(m);
}

static void test_series_bound(void **state)
{
	struct metrics *m = metrics_new(3);
	struct metric_family *c;
	char long_value[METRICS_LABEL_VALUE_MAX + 2];

	assert_int_equal(metrics_family(&c, m, METRIC_COUNTER, "x_total", "", V("code", NULL)), 0);
	assert_int_equal(metrics_add(c, V("a"), 1), 0);
	assert_int_equal(metrics_add(c, V("b"), 1), 0);
	assert_int_equal(metrics_add(c, V("c"), 1), 0);
	/* a fourth distinct value is dropped, existing series still count */
	assert_int_equal(metrics_add(c, V("d"), 1), ERR_TOOBIG);
	assert_int_equal(metrics_add(c, V("a"), 1), 0);
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(metrics_add(c, V(long_value), 1), ERR_INVALID);
	metrics_free(m);
}

static void test_std_families(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metrics_std s;
	struct buf out;

	assert_int_equal(metrics_std_declare(&s, m), 0);
	assert_int_equal(metrics_add(s.refusals, V("paper", "market_closed"), 1), 0);
	assert_int_equal(metrics_set(s.market_open, NULL, 1), 0);
	assert_int_equal(metrics_set(s.stage_blocked, V("beta"), 1), 0);
	render(&out, m);
	assert_non_null(strstr(out.data, "# TYPE pipelined_cycles_total counter\npipelined_cycles_total 0\n"));
	assert_non_null(strstr(out.data,
		"pipelined_refusals_total{stage=\"paper\",code=\"market_closed\"} 1\n"));
	assert_non_null(strstr(out.data, "\npipelined_market_open 1\n"));
	assert_non_null(strstr(out.data, "# TYPE pipelined_stage_blocked gauge\n"
				     "pipelined_stage_blocked{stage=\"beta\"} 1\n"));
	assert_non_null(strstr(out.data, "# TYPE pipelined_last_success_timestamp_seconds gauge\n"));
	assert_non_null(strstr(out.data, "# TYPE pipelined_queue_length gauge\npipelined_queue_length 0\n"));
	assert_int_equal(metrics_set(s.stage_sync, V("beta", "Synced"), 1), 0);
	assert_int_equal(metrics_set(s.stage_health, V("beta", "Healthy"), 1), 0);
	assert_int_equal(metrics_observe(s.commit_to_healthy, V("beta"), 42), 0);
	buf_release(&out);
	render(&out, m);
	assert_non_null(strstr(out.data, "# TYPE pipelined_commit_to_healthy_seconds histogram\n"
				     "pipelined_commit_to_healthy_seconds_bucket{stage=\"beta\",le=\"1\"} 0\n"));
	assert_non_null(strstr(out.data,
		"pipelined_commit_to_healthy_seconds_bucket{stage=\"beta\",le=\"60\"} 1\n"));
	assert_non_null(strstr(out.data, "# TYPE pipelined_stage_sync gauge\n"
				     "pipelined_stage_sync{stage=\"beta\",status=\"Synced\"} 1\n"));
	assert_non_null(strstr(out.data, "# TYPE pipelined_stage_health gauge\n"
				     "pipelined_stage_health{stage=\"beta\",status=\"Healthy\"} 1\n"));
	assert_non_null(strstr(out.data,
		"pipelined_commit_to_healthy_seconds_bucket{stage=\"beta\",le=\"28800\"} 1\n"
		"pipelined_commit_to_healthy_seconds_bucket{stage=\"beta\",le=\"+Inf\"} 1\n"
		"pipelined_commit_to_healthy_seconds_sum{stage=\"beta\"} 42\n"
		"pipelined_commit_to_healthy_seconds_count{stage=\"beta\"} 1\n"));
	/* declaring twice is refused (names are unique) */
	assert_int_equal(metrics_std_declare(&s, m), ERR_INVALID);
	buf_release(&out);
	metrics_free(m);
}

static void test_histogram(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metric_family *h, *u, *f = NULL;
	const double b[] = { 1, 30, 3600 };
	struct buf out;
	double v;

	assert_int_equal(metrics_histogram(&h, m, "x_seconds", "Seconds.", V("stage", NULL), b, 3), 0);
	assert_int_equal(metrics_histogram(&u, m, "x_plain_seconds", "", NULL, b, 1), 0);
	assert_int_equal(metrics_observe(h, V("beta"), 0.5), 0);
	assert_int_equal(metrics_observe(h, V("beta"), 30), 0);	/* le is inclusive */
	assert_int_equal(metrics_observe(h, V("beta"), 45.25), 0);
	assert_int_equal(metrics_observe(h, V("beta"), 90000), 0);	/* only in +Inf */
	assert_int_equal(metrics_observe(h, V("paper"), 2), 0);
	assert_int_equal(metrics_get(&v, h, V("beta")), 0);
	assert_true(v == 4);
	render(&out, m);
	assert_string_equal(out.data,
		"# HELP x_seconds Seconds.\n"
		"# TYPE x_seconds histogram\n"
		"x_seconds_bucket{stage=\"beta\",le=\"1\"} 1\n"
		"x_seconds_bucket{stage=\"beta\",le=\"30\"} 2\n"
		"x_seconds_bucket{stage=\"beta\",le=\"3600\"} 3\n"
		"x_seconds_bucket{stage=\"beta\",le=\"+Inf\"} 4\n"
		"x_seconds_sum{stage=\"beta\"} 90075.75\n"
		"x_seconds_count{stage=\"beta\"} 4\n"
		"x_seconds_bucket{stage=\"paper\",le=\"1\"} 0\n"
		"x_seconds_bucket{stage=\"paper\",le=\"30\"} 1\n"
		"x_seconds_bucket{stage=\"paper\",le=\"3600\"} 1\n"
		"x_seconds_bucket{stage=\"paper\",le=\"+Inf\"} 1\n"
		"x_seconds_sum{stage=\"paper\"} 2\n"
		"x_seconds_count{stage=\"paper\"} 1\n"
		"# HELP x_plain_seconds \n"
		"# TYPE x_plain_seconds histogram\n"
		"x_plain_seconds_bucket{le=\"1\"} 0\n"
		"x_plain_seconds_bucket{le=\"+Inf\"} 0\n"
		"x_plain_seconds_sum 0\n"
		"x_plain_seconds_count 0\n");
	buf_release(&out);
	/* what a histogram refuses */
	assert_int_equal(metrics_observe(h, V("beta"), NAN), ERR_INVALID);
	assert_int_equal(metrics_add(h, V("beta"), 1), ERR_INVALID);
	assert_int_equal(metrics_set(h, V("beta"), 1), ERR_INVALID);
	assert_int_equal(metrics_observe(h, NULL, 1), ERR_INVALID);
	assert_int_equal(metrics_family(&f, m, METRIC_GAUGE, "x_g", "", NULL), 0);
	assert_int_equal(metrics_observe(f, NULL, 1), ERR_INVALID);
	f = NULL;
	assert_int_equal(metrics_histogram(&f, m, "x_h", "", V("le", NULL), b, 3), ERR_INVALID);
	assert_int_equal(metrics_histogram(&f, m, "x_h", "", NULL, b, 0), ERR_INVALID);
	assert_int_equal(metrics_histogram(&f, m, "x_h", "", NULL, (const double[]){ 2, 1 }, 2),
			 ERR_INVALID);
	assert_int_equal(metrics_histogram(&f, m, "x_h", "", NULL, (const double[]){ 1, 1 }, 2),
			 ERR_INVALID);
	assert_int_equal(metrics_histogram(&f, m, "x_h", "", NULL, (const double[]){ INFINITY }, 1),
			 ERR_INVALID);
	assert_int_equal(metrics_histogram(&f, m, "x_h", "", NULL, b, METRICS_MAX_BUCKETS + 1),
			 ERR_INVALID);
	assert_int_equal(metrics_histogram(&f, m, "x_seconds", "", NULL, b, 3), ERR_INVALID);
	assert_null(f);
	metrics_free(m);
}

static void test_render_bound(void **state)
{
	struct metrics *m = metrics_new(0);
	struct metric_family *g;
	struct buf out;

	assert_int_equal(metrics_family(&g, m, METRIC_GAUGE, "x", "some help text", NULL), 0);
	buf_init(&out, 16);
	assert_int_equal(metrics_render(&out, m), ERR_TOOBIG);
	buf_release(&out);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_escaping_and_values),
		cmocka_unit_test(test_bad_declarations),
		cmocka_unit_test(test_bad_updates),
		cmocka_unit_test(test_series_bound),
		cmocka_unit_test(test_std_families),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_render_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
