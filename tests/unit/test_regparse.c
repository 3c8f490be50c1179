/* Unit tests for regparse.c: the WWW-Authenticate challenge, Link, Retry-After,
 * backoff, token, tags, manifest and evidence parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regparse.h"
#include "util.h"

static int chal(struct reg_challenge *c, const char *s)
{
	return regparse_challenge(c, s, strlen(s));
}

static void test_challenge_ghcr(void **state)
{
	struct reg_challenge c;

	assert_int_equal(chal(&c, "Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\","
				  "scope=\"repository:celesrenata/stonks-oracle/risk:pull\""), 0);
	assert_int_equal(c.scheme, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "https://ghcr.io/token");
	assert_string_equal(c.service, "ghcr.io");
	assert_string_equal(c.scope, "repository:celesrenata/stonks-oracle/risk:pull");
	/* case-insensitive scheme and names, spaces around "=" and ",", token values */
	assert_int_equal(chal(&c, "bearer  REALM = \"r\" ,  Service=svc"), 0);
	assert_string_equal(c.realm, "r");
	assert_string_equal(c.service, "svc");
	assert_string_equal(c.scope, "");
}

static void test_challenge_escapes_and_error(void **state)
{
	struct reg_challenge c;

	assert_int_equal(chal(&c, "Bearer realm=\"a\\\"b\\\\c,d\",error=\"insufficient_scope\","
				  "scope=\"repository:x:pull,push\""), 0);
	assert_string_equal(c.realm, "a\"b\\c,d");
	assert_string_equal(c.error, "insufficient_scope");
	assert_string_equal(c.scope, "repository:x:pull,push");
}

static void test_challenge_several(void **state)
{
	struct reg_challenge c;

	/* Bearer wins wherever it is */
	assert_int_equal(chal(&c, "Basic realm=\"b\", Bearer realm=\"t\",service=\"s\""), 0);
	assert_int_equal(c.scheme, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "t");
	assert_int_equal(chal(&c, "Negotiate abc==, Basic realm=\"x\", Foo a=1"), 0);
	assert_int_equal(c.scheme, REG_AUTH_BASIC);
	assert_string_equal(c.realm, "x");
	assert_int_equal(chal(&c, "Negotiate, Bearer realm=\"t\""), 0);
	assert_int_equal(c.scheme, REG_AUTH_BEARER);
	/* a Bearer challenge without realm is unusable */
	assert_int_equal(chal(&c, "Bearer service=\"s\""), ERR_NOTFOUND);
	assert_int_equal(chal(&c, "Negotiate abc=="), ERR_NOTFOUND);
}

static void test_challenge_bad(void **state)
{
	struct reg_challenge c;
	char big[2200];

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(chal(&c, ""), ERR_INVALID);
	assert_int_equal(chal(&c, "   ,, "), ERR_INVALID);
	assert_int_equal(chal(&c, "Bearer realm=\"unterminated"), ERR_INVALID);
	assert_int_equal(chal(&c, "Bearer realm=\"x\"junk"), ERR_INVALID);
	/* "realm=" alone is a token68 credential, so no realm: unusable */
	assert_int_equal(chal(&c, "Bearer realm="), ERR_NOTFOUND);
	assert_int_equal(chal(&c, "Bearer realm= ,service=x"), ERR_INVALID);
	assert_int_equal(chal(&c, "Bearer realm=\"a\",realm=\"b\""), ERR_INVALID);
	assert_int_equal(chal(&c, "Bearer realm=\"a\\"), ERR_INVALID);
	assert_int_equal(chal(&c, "Bearer realm=\"a\nb\""), ERR_INVALID);
	assert_int_equal(chal(&c, "\"Bearer\" realm=x"), ERR_INVALID);
	snprintf(big, sizeof(big), "Bearer realm=\"%0600d\"", 0);
	assert_int_equal(chal(&c, big), ERR_TOOBIG);
	/* out untouched on failure */
	assert_int_equal(((unsigned char *)&c)[0], 0x5a);
}

static int link(char *out, size_t n, const char *s)
{
	return regparse_link_next(out, n, s, strlen(s));
}

static void test_link(void **state)
{
	char u[128];

	assert_int_equal(link(u, sizeof(u), "</v2/a/tags/list?last=v1&n=100>; rel=\"next\""), 0);
	assert_string_equal(u, "/v2/a/tags/list?last=v1&n=100");
	assert_int_equal(link(u, sizeof(u), "<https://r/p?a=1,2>; rel=prev, <https://r/q>;"
				  " title=\"a, b; c\"; rel=\"last next\""), 0);
	assert_string_equal(u, "https://r/q");
	assert_int_equal(link(u, sizeof(u), "<x>;REL=NEXT"), 0);
	assert_string_equal(u, "x");
	assert_int_equal(link(u, sizeof(u), "<a>; rel=\"prev\""), ERR_NOTFOUND);
	assert_int_equal(link(u, sizeof(u), "<a>; rel=\"nextpage\""), ERR_NOTFOUND);
	assert_int_equal(link(u, sizeof(u), ""), ERR_NOTFOUND);
	assert_int_equal(link(u, sizeof(u), "</a; rel=\"next\""), ERR_INVALID);
	assert_int_equal(link(u, sizeof(u), "/a>; rel=\"next\""), ERR_INVALID);
	assert_int_equal(link(u, sizeof(u), "<a> rel=\"next\""), ERR_INVALID);
	assert_int_equal(link(u, sizeof(u), "<a b>; rel=next"), ERR_INVALID);
	assert_int_equal(link(u, sizeof(u), "<>; rel=next"), ERR_INVALID);
	assert_int_equal(link(u, 4, "<abcd>; rel=next"), ERR_TOOBIG);
}

static void test_retry_after(void **state)
{
	uint64_t ms = 1;
	time_t now = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */

	assert_int_equal(regparse_retry_after(&ms, "7", now, 3600000), 0);
	assert_int_equal(ms, 7000);
	assert_int_equal(regparse_retry_after(&ms, " 0 ", now, 3600000), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(regparse_retry_after(&ms, "99999999999999999999", now, 3600000), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(regparse_retry_after(&ms, "Sun, 06 Nov 1994 08:49:46 GMT", now, 3600000), 0);
	assert_int_equal(ms, 9000);
	/* in the past: ask now */
	assert_int_equal(regparse_retry_after(&ms, "Sun, 06 Nov 1994 08:00:00 GMT", now, 3600000), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(regparse_retry_after(&ms, "Mon, 07 Nov 1994 08:49:37 GMT", now, 3600000), 0);
	assert_int_equal(ms, 3600000);
	ms = 42;
	assert_int_equal(regparse_retry_after(&ms, "", now, 1000), ERR_INVALID);
	assert_int_equal(regparse_retry_after(&ms, "-1", now, 1000), ERR_INVALID);
	assert_int_equal(regparse_retry_after(&ms, "7s", now, 1000), ERR_INVALID);
	assert_int_equal(regparse_retry_after(&ms, "Sun, 06 Nov 1994 08:49:46 UTC", now, 1000), ERR_INVALID);
	assert_int_equal(regparse_retry_after(&ms, "Xyz, 06 Nov 1994 08:49:46 GMT", now, 1000), ERR_INVALID);
	assert_int_equal(regparse_retry_after(&ms, "Sun, 06 Foo 1994 08:49:46 GMT", now, 1000), ERR_INVALID);
	assert_int_equal(regparse_retry_after(&ms, "Sun, 06 Nov 1994 25:49:46 GMT", now, 1000), ERR_INVALID);
	assert_int_equal(ms, 42);
}

static void test_backoff(void **state)
{
	assert_int_equal(regparse_backoff_ms(0, 5000, 600000, 7), 0);
	/* equal jitter: [d/2, d] */
	assert_int_equal(regparse_backoff_ms(1, 5000, 600000, 0), 2500);
	assert_int_equal(regparse_backoff_ms(1, 5000, 600000, 2500), 5000);
	assert_int_equal(regparse_backoff_ms(2, 5000, 600000, 0), 5000);
	assert_int_equal(regparse_backoff_ms(3, 5000, 600000, 0), 10000);
	assert_int_equal(regparse_backoff_ms(4, 5000, 600000, 0), 20000);
	assert_int_equal(regparse_backoff_ms(4, 5000, 600000, 10000), 30000);
	/* the cap, even after many failures */
	assert_int_equal(regparse_backoff_ms(200, 5000, 600000, 0), 300000);
	assert_int_equal(regparse_backoff_ms(200, 5000, 600000, 300000), 600000);
	assert_true(regparse_backoff_ms(200, 5000, 600000, UINT32_MAX) <= 600000);
}

static void test_token(void **state)
{
	char *t = NULL, err[REGPARSE_ERR_MAX];
	uint64_t exp = 0;
	const char *s;

	s = "{\"token\":\"abc.def\",\"expires_in\":300}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), 0);
	assert_string_equal(t, "abc.def");
	assert_int_equal(exp, 300);
	free(t);
	s = "{\"access_token\":\"zz\"}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), 0);
	assert_string_equal(t, "zz");
	assert_int_equal(exp, 60);	/* the spec's default */
	free(t);
	s = "{\"token\":\"\",\"access_token\":\"q\",\"expires_in\":5}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), 0);
	assert_string_equal(t, "q");
	assert_int_equal(exp, 60);
	free(t);
	t = NULL;
	s = "{\"token\":\"a\",\"token\":\"b\"}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), ERR_INVALID);
	s = "{\"token\":\"secret-value\"";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), ERR_INVALID);
	assert_null(strstr(err, "secret"));
	s = "{\"token\":\"bad\\r\\nX-Injected: 1\"}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), ERR_INVALID);
	assert_null(strstr(err, "Injected"));
	s = "{\"token\":\"a\",\"expires_in\":\"300\"}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), ERR_INVALID);
	s = "{}";
	assert_int_equal(regparse_token(&t, &exp, s, strlen(s), err, sizeof(err)), ERR_INVALID);
	assert_null(t);
}

static int collect_cb(void *arg, const char *tag, size_t len)
{
	struct buf *b = arg;

	if (b->len > 30)
		return ERR_TOOBIG;
	buf_add(b, tag, len);
	return buf_addch(b, ' ');
}

static void test_tags(void **state)
{
	struct buf b = BUF_INIT;
	size_t n = 9, sk = 9;
	char err[REGPARSE_ERR_MAX];
	const char *s;

	s = "{\"name\":\"a\",\"tags\":[\"v1\",\"bad tag\",3,\"latest\"]}";
	assert_int_equal(regparse_tags(&n, &sk, s, strlen(s), collect_cb, &b, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sk, 2);
	assert_string_equal(b.data, "v1 latest ");
	s = "{\"name\":\"a\",\"tags\":null}";
	assert_int_equal(regparse_tags(&n, &sk, s, strlen(s), collect_cb, &b, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	s = "{\"name\":\"a\"}";
	assert_int_equal(regparse_tags(&n, &sk, s, strlen(s), collect_cb, &b, err, sizeof(err)), ERR_INVALID);
	s = "{\"tags\":{}}";
	assert_int_equal(regparse_tags(&n, &sk, s, strlen(s), collect_cb, &b, err, sizeof(err)), ERR_INVALID);
	buf_reset(&b);
	s = "{\"tags\":[\"aaaaaaaaaa\",\"bbbbbbbbbb\",\"cccccccccc\",\"dddddddddd\"]}";
	assert_int_equal(regparse_tags(&n, &sk, s, strlen(s), collect_cb, &b, err, sizeof(err)), ERR_TOOBIG);
	buf_release(&b);
}

static int manifest(struct reg_layer *l, const char *s, char *err)
{
	return regparse_evidence_manifest(l, s, strlen(s), err, REGPARSE_ERR_MAX);
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_evidence_manifest(void **state)
{
	struct reg_layer l;
	char err[REGPARSE_ERR_MAX];

	assert_int_equal(manifest(&l, "{\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
				      "\"digest\":\"sha256:" D64 "\",\"size\":1},{\"mediaType\":"
				      "\"application/json; charset=utf-8\",\"digest\":\"sha256:" D64
				      "\",\"size\":77}]}", err), 0);
	assert_int_equal(l.size, 77);
	assert_string_equal(l.digest, "sha256:" D64);
	/* OCI 1.1: the artifact is typed, its one layer is the document */
	assert_int_equal(manifest(&l, "{\"artifactType\":\"application/json\",\"layers\":[{\"mediaType\":"
				      "\"application/octet-stream\",\"digest\":\"sha256:" D64 "\",\"size\":5}]}",
				  err), 0);
	assert_int_equal(l.size, 5);
	assert_int_equal(manifest(&l, "{\"layers\":[]}", err), ERR_INVALID);
	assert_non_null(strstr(err, "0 application/json layers"));
	assert_int_equal(manifest(&l, "{\"layers\":[{\"mediaType\":\"application/json\",\"digest\":\"sha256:"
				      D64 "\",\"size\":1},{\"mediaType\":\"application/json\",\"digest\":"
				      "\"sha256:" D64 "\",\"size\":1}]}", err), ERR_INVALID);
	assert_int_equal(manifest(&l, "{\"layers\":[{\"mediaType\":\"application/json\",\"digest\":"
				      "\"sha512:abc\",\"size\":1}]}", err), ERR_INVALID);
	assert_int_equal(manifest(&l, "{\"layers\":[{\"mediaType\":\"application/json\",\"digest\":\"sha256:"
				      D64 "\",\"size\":-1}]}", err), ERR_INVALID);
	assert_int_equal(manifest(&l, "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
				      "\"manifests\":[]}", err), ERR_INVALID);
	assert_non_null(strstr(err, "index"));
}

static int evid(struct reg_evidence *e, const char *s, char *err)
{
	return regparse_evidence(e, s, strlen(s), err, REGPARSE_ERR_MAX);
}

static void test_evidence_verdict(void **state)
{
	struct reg_evidence e;
	char err[REGPARSE_ERR_MAX];

	assert_int_equal(evid(&e, "{\"exit_code\":0,\"passed\":5,\"failed\":0,\"skipped\":1,\"total\":6,"
				  "\"extra\":{\"x\":[1]}}", err), 0);
	assert_true(e.ok);
	assert_int_equal(e.passed, 5);
	assert_int_equal(e.total, 6);
	assert_int_equal(evid(&e, "{\"exit_code\":0}", err), 0);
	assert_true(e.ok);
	assert_int_equal(e.failed, -1);
	assert_int_equal(evid(&e, "{\"exit_code\":2}", err), 0);
	assert_false(e.ok);
	assert_int_equal(evid(&e, "{\"exit_code\":0,\"failed\":1,\"failed_tests\":[\"a\",\"b\\u0001\","
				  "\"c\",\"d\",\"e\",\"f\",\"g\"]}", err), 0);
	assert_false(e.ok);
	assert_string_equal(e.failures, "a, b?, c, d, e (+2 more)");
	assert_int_equal(evid(&e, "{\"exit_code\":1,\"failures\":[{\"name\":\"t1\"},{\"nom\":1}]}", err), 0);
	assert_string_equal(e.failures, "t1 (+1 more)");
}

static void test_evidence_bad(void **state)
{
	struct reg_evidence e;
	char err[REGPARSE_ERR_MAX];

	e.exit_code = 77;
	assert_int_equal(evid(&e, "{\"passed\":1}", err), ERR_INVALID);
	assert_int_equal(evid(&e, "{\"exit_code\":0.0}", err), ERR_INVALID);
	assert_int_equal(evid(&e, "{\"exit_code\":true}", err), ERR_INVALID);
	assert_int_equal(evid(&e, "{\"exit_code\":0,\"failed\":\"0\"}", err), ERR_INVALID);
	assert_string_equal(err, "evidence \"failed\" is not a non-negative integer");
	assert_int_equal(evid(&e, "{\"exit_code\":0,\"total\":-3}", err), ERR_INVALID);
	assert_int_equal(evid(&e, "{\"exit_code\":0,\"exit_code\":0}", err), ERR_INVALID);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(evid(&e, "{\"exit_code\":0} {}", err), ERR_INVALID);
	assert_int_equal(evid(&e, "{\"exit_code\":99999999999999999999}", err), ERR_INVALID);
	assert_int_equal(evid(&e, "", err), ERR_INVALID);
	assert_int_equal(e.exit_code, 77);
	/* what an operator reads after "evidence unreadable: " */
	assert_int_equal(evid(&e, "{\"exit_code\": 0, \"passed\": ", err), ERR_INVALID);
	assert_non_null(strstr(err, "invalid JSON at line 1 column"));
	assert_int_equal(evid(&e, "null", err), ERR_INVALID);
	assert_non_null(strstr(err, "invalid JSON"));
	assert_int_equal(evid(&e, "[{\"exit_code\": 0}]", err), ERR_INVALID);
	assert_string_equal(err, "JSON document is not an object");
	assert_int_equal(evid(&e, "{\"exit_code\": {\"value\": 0}}", err), ERR_INVALID);
	assert_string_equal(err, "evidence has no integer \"exit_code\"");
	assert_int_equal(regparse_evidence(&e, "{\"exit_code\": 0}\0", 17, err, sizeof(err)),
			 ERR_INVALID);
	assert_int_equal(e.exit_code, 77);
}

static void test_digest(void **state)
{
	assert_true(regparse_digest_valid("sha256:" D64, 71));
	assert_false(regparse_digest_valid("sha256:" D64, 70));
	assert_false(regparse_digest_valid("SHA256:" D64, 71));
	assert_false(regparse_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 71));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_ghcr),
		cmocka_unit_test(test_challenge_escapes_and_error),
		cmocka_unit_test(test_challenge_several),
		cmocka_unit_test(test_challenge_bad),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_evidence_manifest),
		cmocka_unit_test(test_evidence_verdict),
		cmocka_unit_test(test_evidence_bad),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
