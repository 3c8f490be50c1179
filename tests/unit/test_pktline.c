/* Unit tests for pktline.c: the ref advertisement a session helper reads
 * from git-upload-pack, refused loudly when it is malformed or over the
 * bounds, and the remote command and user taken from a git URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktline.h"
#include "util.h"

#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"

static struct pktline_adv adv;
static char err[512];

/* Appends payload s as one pkt-line to b. */
static size_t pkt(char *b, size_t at, const char *s, size_t n)
{
	char len[5];

	snprintf(len, sizeof len, "%04zx", n + 4);
	memcpy(b + at, len, 4);
	memcpy(b + at + 4, s, n);
	return at + 4 + n;
}

static size_t pkts(char *b, size_t at, const char *s)
{
	return pkt(b, at, s, strlen(s));
}

static void name_is(const char *data, size_t i, const char *id, const char *name)
{
	assert_memory_equal(data + adv.refs[i].id_off, id, 40);
	assert_int_equal(adv.refs[i].name_len, strlen(name));
	assert_memory_equal(data + adv.refs[i].name_off, name, strlen(name));
}

static void test_adv_ok(void **state)
{
	char b[1024];
	size_t n = 0;
	static const char first[] = A " HEAD\0multi_ack side-band-64k symref=HEAD:refs/heads/main\n";

	(void)state;
	n = pkt(b, n, first, sizeof first - 1);
	n = pkts(b, n, A " refs/heads/main\n");
	n = pkts(b, n, B " refs/tags/v1\n");
	n = pkts(b, n, A " refs/tags/v1^{}\n");
	memcpy(b + n, "0000", 4);
	assert_int_equal(pktline_adv_parse(&adv, b, n + 4, err, sizeof err), 0);
	assert_int_equal(adv.used, n + 4);
	assert_int_equal(adv.nrefs, 4);
	name_is(b, 0, A, "HEAD");
	name_is(b, 1, A, "refs/heads/main");
	name_is(b, 2, B, "refs/tags/v1");
	name_is(b, 3, A, "refs/tags/v1^{}");
	/* every proper prefix asks for more */
	for (size_t k = 0; k < n + 4; k++)
		assert_int_equal(pktline_adv_parse(&adv, b, k, err, sizeof err), PKTLINE_MORE);
}

static void test_adv_empty_repo_v1(void **state)
{
	char b[512];
	size_t n = 0;
	static const char caps[] = "0000000000000000000000000000000000000000 capabilities^{}\0agent=git\n";

	(void)state;
	n = pkts(b, n, "version 1\n");
	n = pkt(b, n, caps, sizeof caps - 1);
	memcpy(b + n, "0000", 4);
	assert_int_equal(pktline_adv_parse(&adv, b, n + 4, err, sizeof err), 0);
	assert_int_equal(adv.nrefs, 0);
	assert_int_equal(adv.version, 1);
	/* nothing at all but the flush: also no refs */
	assert_int_equal(pktline_adv_parse(&adv, "0000", 4, err, sizeof err), 0);
	assert_int_equal(adv.nrefs, 0);
}

static void expect_bad(const char *b, size_t n, int rc, const char *words)
{
	assert_int_equal(pktline_adv_parse(&adv, b, n, err, sizeof err), rc);
	if (!strstr(err, words))
		fail_msg("error '%s' does not say '%s'", err, words);
}

static void test_adv_bad(void **state)
{
	char b[1024];
	size_t n;

	(void)state;
	expect_bad("00zz" A " HEAD\n", 50, ERR_INVALID, "not 4 hex digits");
	expect_bad("0003", 4, ERR_INVALID, "below 4");
	expect_bad("0001", 4, ERR_INVALID, "protocol v2");
	expect_bad("fff1", 4, ERR_INVALID, "longer than 65520");
	n = pkts(b, 0, "version 2\n");
	expect_bad(b, n, ERR_INVALID, "protocol version");
	n = pkts(b, 0, "ERR access denied or repository not exported\n");
	expect_bad(b, n, ERR_INVALID, "the server says: access denied");
	n = pkts(b, 0, "111111111111111111111111111111111111111g HEAD\n");
	expect_bad(b, n, ERR_INVALID, "40 hex digits");
	n = pkts(b, 0, "1111111111111111111111111111111111111111HEAD\n");
	expect_bad(b, n, ERR_INVALID, "40 hex digits");
	n = pkts(b, 0, "11111111111111111111 HEAD\n");
	expect_bad(b, n, ERR_INVALID, "40 hex digits");
	n = pkts(b, 0, A " \n");
	expect_bad(b, n, ERR_INVALID, "bad ref name");
	n = pkts(b, 0, A " refs/heads/a b\n");
	expect_bad(b, n, ERR_INVALID, "bad ref name");
	n = pkts(b, 0, A " refs/heads/a\tb\n");
	expect_bad(b, n, ERR_INVALID, "bad ref name");
	n = pkts(b, 0, A " HEAD\n");
	static const char nul[] = A " refs/x\0caps\n";
	n = pkt(b, n, nul, sizeof nul - 1);
	expect_bad(b, n, ERR_INVALID, "NUL in a ref line");
	n = pkts(b, 0, A " HEAD\n");
	n = pkts(b, n, "shallow 11111111111111111111111111111111111111zz\n");
	expect_bad(b, n, ERR_INVALID, "shallow");
	/* a name over the bound */
	char line[400];
	memset(line, 'r', sizeof line);
	memcpy(line, A " ", 41);
	n = pkt(b, 0, line, 41 + PKTLINE_MAX_NAME + 1);
	expect_bad(b, n, ERR_INVALID, "too long");
	n = pkt(b, 0, line, 41 + PKTLINE_MAX_NAME);
	memcpy(b + n, "0000", 4);
	assert_int_equal(pktline_adv_parse(&adv, b, n + 4, err, sizeof err), 0);
	/* truncated: never complete, never a ref list */
	n = pkts(b, 0, A " HEAD\n");
	assert_int_equal(pktline_adv_parse(&adv, b, n - 1, err, sizeof err), PKTLINE_MORE);
	assert_int_equal(pktline_adv_parse(&adv, b, n, err, sizeof err), PKTLINE_MORE);
}

static void test_adv_too_many(void **state)
{
	size_t cap = (PKTLINE_MAX_REFS + 2) * 80, n = 0;
	char *b = malloc(cap), name[80];

	(void)state;
	assert_non_null(b);
	for (size_t i = 0; i < PKTLINE_MAX_REFS; i++) {
		snprintf(name, sizeof name, A " refs/heads/b%zu\n", i);
		n = pkts(b, n, name);
	}
	memcpy(b + n, "0000", 4);
	assert_int_equal(pktline_adv_parse(&adv, b, n + 4, err, sizeof err), 0);
	assert_int_equal(adv.nrefs, PKTLINE_MAX_REFS);
	n = pkts(b, n, A " refs/heads/one-more\n");
	memcpy(b + n, "0000", 4);
	assert_int_equal(pktline_adv_parse(&adv, b, n + 4, err, sizeof err), ERR_TOOBIG);
	assert_non_null(strstr(err, "more than 4096 refs"));
	free(b);
}

static void test_upload_pack_cmd(void **state)
{
	char c[64];

	(void)state;
	assert_int_equal(pktline_upload_pack_cmd(c, sizeof c, "ssh://git@h:2222/srv/r.git"), 0);
	assert_string_equal(c, "git-upload-pack '/srv/r.git'");
	assert_int_equal(pktline_upload_pack_cmd(c, sizeof c, "git@h:org/r.git"), 0);
	assert_string_equal(c, "git-upload-pack 'org/r.git'");
	assert_int_equal(pktline_upload_pack_cmd(c, sizeof c, "ssh://h/~u/r.git"), 0);
	assert_string_equal(c, "git-upload-pack '~u/r.git'");
	assert_int_equal(pktline_upload_pack_cmd(c, sizeof c, "ssh://h/it's!.git"), 0);
	assert_string_equal(c, "git-upload-pack '/it'\\''s'\\!'.git'");
	assert_int_equal(pktline_upload_pack_cmd(c, sizeof c, "file:///srv/r.git"), ERR_INVALID);
	assert_int_equal(pktline_upload_pack_cmd(c, sizeof c, "h:"), ERR_INVALID);
	assert_int_equal(pktline_upload_pack_cmd(c, 20, "ssh://h/srv/r.git"), ERR_TOOBIG);
}

static void test_url_user(void **state)
{
	char u[16];

	(void)state;
	assert_int_equal(pktline_url_user(u, sizeof u, "ssh://deploy@h:2222/r.git"), 0);
	assert_string_equal(u, "deploy");
	assert_int_equal(pktline_url_user(u, sizeof u, "ssh://h/r.git"), 0);
	assert_string_equal(u, "git");
	assert_int_equal(pktline_url_user(u, sizeof u, "me@h:r.git"), 0);
	assert_string_equal(u, "me");
	assert_int_equal(pktline_url_user(u, sizeof u, "h:r@x.git"), 0);
	assert_string_equal(u, "git");
	assert_int_equal(pktline_url_user(u, 4, "ssh://deploy@h/r.git"), ERR_TOOBIG);
	assert_int_equal(pktline_url_user(u, sizeof u, "/srv/r.git"), ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adv_ok),
		cmocka_unit_test(test_adv_empty_repo_v1),
		cmocka_unit_test(test_adv_bad),
		cmocka_unit_test(test_adv_too_many),
		cmocka_unit_test(test_upload_pack_cmd),
		cmocka_unit_test(test_url_user),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
