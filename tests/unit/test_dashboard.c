/* Unit tests for dashboard.c's pure parts: the promote body and the
 * same-origin rule.  The HTTP side is tests/e2e/dashboard.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "util.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"

static struct dashboard_promote *fresh(void)
{
	struct dashboard_promote *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	strlcpy_(p->author_name, "alice", sizeof(p->author_name));
	strlcpy_(p->tag, "untouched", sizeof(p->tag));
	return p;
}

static int parse(struct dashboard_promote *p, const char *body, char *err, size_t errsz)
{
	err[0] = '\0';
	return dashboard_promote_parse(p, body, strlen(body), err, errsz);
}

static void test_good(void **state)
{
	struct dashboard_promote *p = fresh();
	char err[256];

	assert_int_equal(parse(p, "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"notes\":\"weekly\"}",
			       err, sizeof(err)), 0);
	assert_int_equal(p->stage, STAGE_PAPER);
	assert_string_equal(p->tag, SHA);
	assert_string_equal(p->notes, "weekly");
	assert_false(p->break_glass_given);
	assert_string_equal(p->break_glass, "");
	assert_string_equal(p->author_name, "alice");	/* not the body's to say */

	assert_int_equal(parse(p, "{\"stage\":\"live\",\"tag\":\"" SHA "\",\"notes\":null,"
			       "\"break_glass\":\"broker outage\"}", err, sizeof(err)), 0);
	assert_int_equal(p->stage, STAGE_LIVE);
	assert_string_equal(p->notes, "");
	assert_true(p->break_glass_given);
	assert_string_equal(p->break_glass, "broker outage");

	/* null break_glass is "not used"; blank notes are no notes */
	assert_int_equal(parse(p, "{\"stage\":\"beta\",\"tag\":\"" SHA "\",\"notes\":\" \\n\","
			       "\"break_glass\":null}", err, sizeof(err)), 0);
	assert_false(p->break_glass_given);
	assert_string_equal(p->notes, "");
	/* so are notes of Unicode spaces and invisible characters */
	assert_int_equal(parse(p, "{\"stage\":\"live\",\"tag\":\"" SHA "\",\"notes\":"
			       "\"\\u00a0\\u3000\\u200b\\ufeff\"}", err, sizeof(err)), 0);
	assert_string_equal(p->notes, "");
	assert_false(p->rollback);

	/* issue 14 item 4: the Roll back button */
	assert_int_equal(parse(p, "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"rollback\":"
			       "\"fills wrong\"}", err, sizeof(err)), 0);
	assert_true(p->rollback);
	assert_string_equal(p->rollback_reason, "fills wrong");
	assert_int_equal(parse(p, "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"rollback\":null}",
			       err, sizeof(err)), 0);
	assert_false(p->rollback);
	free(p);
}

static void test_limits(void **state)
{
	struct dashboard_promote *p = fresh();
	struct buf body = BUF_INIT;
	char err[256];

	buf_printf(&body, "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"notes\":\"");
	for (int i = 0; i < TRAILER_NOTES_MAX; i++)
		buf_addch(&body, 'n');
	buf_adds(&body, "\"}");
	assert_int_equal(parse(p, body.data, err, sizeof(err)), 0);
	assert_int_equal(strlen(p->notes), TRAILER_NOTES_MAX);
	/* one byte more */
	body.len -= 2;
	buf_adds(&body, "n\"}");
	assert_int_equal(parse(p, body.data, err, sizeof(err)), ERR_INVALID);
	assert_string_equal(err, "'notes' is longer than 4096 bytes");

	buf_reset(&body);
	buf_printf(&body, "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":\"");
	for (int i = 0; i < TRAILER_JUSTIFICATION_MAX; i++)
		buf_addch(&body, 'j');
	buf_adds(&body, "\"}");
	assert_int_equal(parse(p, body.data, err, sizeof(err)), 0);
	body.len -= 2;
	buf_adds(&body, "j\"}");
	assert_int_equal(parse(p, body.data, err, sizeof(err)), ERR_INVALID);
	assert_string_equal(err, "'break_glass' is longer than 1024 bytes");
	buf_release(&body);
	free(p);
}

static void test_bad(void **state)
{
	static const struct {
		const char *body, *err;
	} cases[] = {
		{ "{\"stage\":\"prod\",\"tag\":\"" SHA "\"}",
		  "'prod' is not a deploy stage (beta, paper or live)" },
		{ "{\"stage\":\"integration-test\",\"tag\":\"" SHA "\"}",
		  "'integration-test' is not a deploy stage (beta, paper or live)" },
		{ "{\"tag\":\"" SHA "\"}", "'' is not a deploy stage (beta, paper or live)" },
		{ "{\"stage\":\"paper\",\"tag\":\"latest\"}",
		  "'latest' is not a release id (the full 40-hex commit id, lowercase)" },
		{ "{\"stage\":\"paper\",\"tag\":\"0123456789ABCDEF0123456789abcdef01234567\"}",
		  "'0123456789ABCDEF0123456789abcdef01234567' is not a release id "
		  "(the full 40-hex commit id, lowercase)" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":\"\"}",
		  "Break-Glass needs a written justification" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":\" \\t\\n\"}",
		  "Break-Glass needs a written justification" },
		/* Unicode spaces and invisible characters are no justification */
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":\"\\u00a0\"}",
		  "Break-Glass needs a written justification" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":\"\\u3000\\u3000\"}",
		  "Break-Glass needs a written justification" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":"
		  "\"\\u200b\\ufeff\\u2060\\u202f\\u2028\\u0085\"}",
		  "Break-Glass needs a written justification" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":\"\xc2\xa0\xe3\x80\x80\"}",
		  "Break-Glass needs a written justification" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"break_glass\":true}",
		  "'break_glass' must be a string" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"rollback\":\" \\u200b\"}",
		  "a rollback needs a written reason" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"rollback\":true}",
		  "'rollback' must be a string" },
		{ "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"requested_by\":\"root\"}",
		  "unknown field 'requested_by'" },
		{ "{\"stage\":5,\"tag\":\"" SHA "\"}", "'stage' must be a string" },
		{ "[]", "the body is not a JSON object" },
	};
	struct dashboard_promote *p = fresh();
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(p, cases[i].body, err, sizeof(err)), ERR_INVALID);
		assert_string_equal(err, cases[i].err);
		assert_string_equal(p->tag, "untouched");
	}
	/* not JSON, duplicate keys, a NUL inside a string */
	assert_int_equal(parse(p, "{\"stage\":", err, sizeof(err)), ERR_INVALID);
	assert_int_equal(strncmp(err, "the body is not a JSON object: ", 31), 0);
	assert_int_equal(parse(p, "\"paper\"", err, sizeof(err)), ERR_INVALID);
	assert_int_equal(strncmp(err, "the body is not a JSON object: ", 31), 0);
	assert_int_equal(parse(p, "{\"stage\":\"paper\",\"stage\":\"live\",\"tag\":\"" SHA "\"}",
			       err, sizeof(err)), ERR_INVALID);
	assert_int_equal(parse(p, "{\"stage\":\"paper\",\"tag\":\"" SHA "\",\"notes\":\"a\\u0000b\"}",
			       err, sizeof(err)), ERR_INVALID);
	assert_string_equal(p->tag, "untouched");
	free(p);
}

static void test_origin(void **state)
{
	assert_true(dashboard_origin_ok(NULL, "pipelines.celestium.life"));
	assert_true(dashboard_origin_ok("https://pipelines.celestium.life", "pipelines.celestium.life"));
	assert_true(dashboard_origin_ok("http://127.0.0.1:8780", "127.0.0.1:8780"));
	assert_true(dashboard_origin_ok("HTTPS://Pipelines.Celestium.Life", "pipelines.celestium.life"));
	assert_false(dashboard_origin_ok("https://evil.example", "pipelines.celestium.life"));
	assert_false(dashboard_origin_ok("https://pipelines.celestium.life.evil.example",
					 "pipelines.celestium.life"));
	assert_false(dashboard_origin_ok("http://127.0.0.1:8781", "127.0.0.1:8780"));
	assert_false(dashboard_origin_ok("null", "127.0.0.1:8780"));
	assert_false(dashboard_origin_ok("https://x", NULL));
}

/* Every route that acts for the operator is checked against the allowed
 * Host names by the server: the promote and approve POSTs, and the CSRF token, which a
 * rebinding page would need first. */
static void test_routes(void **state)
{
	const struct http_route routes[] = { DASHBOARD_ROUTES(NULL) };
	size_t writes = 0;

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		bool w = strcmp(routes[i].method, "GET") || (routes[i].flags & HTTP_ROUTE_WRITE);

		if (!strcmp(routes[i].path, DASHBOARD_CSRF_PATH) ||
		    !strcmp(routes[i].path, DASHBOARD_PROMOTE_PATH) ||
		    !strcmp(routes[i].path, DASHBOARD_APPROVE_PATH))
			assert_true(w);
		else
			assert_false(w);
		writes += w;
	}
	assert_int_equal(writes, 3);
}

/* Issue 14 item 3: the Approve body. */
static void test_approve_parse(void **state)
{
	struct dashboard_approve a;
	char err[256];
	const char *ok = "{\"branch\":\"promote/live/cab-12\",\"commit\":\"" SHA "\"}";
	const struct { const char *body, *msg; } bad[] = {
		{ "[]", "not a JSON object" },
		{ "{\"branch\":\"promote/live/x\"}", "'commit' must be" },
		{ "{\"commit\":\"" SHA "\"}", "'branch':" },
		{ "{\"branch\":\"promote/ci/x\",\"commit\":\"" SHA "\"}", "'branch':" },
		{ "{\"branch\":\"main\",\"commit\":\"" SHA "\"}", "'branch':" },
		{ "{\"branch\":\"promote/live/x\",\"commit\":\"0123\"}", "'commit' must be" },
		{ "{\"branch\":\"promote/live/x\",\"commit\":7}", "'commit' must be a string" },
		{ "{\"branch\":\"promote/live/x\",\"commit\":\"" SHA "\",\"tag\":\"x\"}",
		  "unknown field 'tag'" },
		{ "{\"branch\":\"promote/live/x\",\"branch\":\"promote/live/y\",\"commit\":\""
		  SHA "\"}", "not a JSON object" },
	};

	assert_int_equal(dashboard_approve_parse(&a, ok, strlen(ok), err, sizeof err), 0);
	assert_string_equal(a.branch, "promote/live/cab-12");
	assert_int_equal(a.stage, STAGE_LIVE);
	assert_string_equal(a.commit, SHA);
	ok = "{\"branch\":\"refs/heads/promote/paper/x\",\"commit\":\"" SHA "\"}";
	assert_int_equal(dashboard_approve_parse(&a, ok, strlen(ok), err, sizeof err), 0);
	assert_string_equal(a.branch, "promote/paper/x");
	assert_int_equal(a.stage, STAGE_PAPER);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(dashboard_approve_parse(&a, bad[i].body, strlen(bad[i].body), err,
							 sizeof err), ERR_INVALID);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: got '%s', want '%s'", bad[i].body, err, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_approve_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
