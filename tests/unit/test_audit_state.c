/* Tests for audit_state.c: the facts a replay establishes, cut at any depth
 * of the chain, and the checkpoint bytes: a round trip keeps every fact,
 * and damage of any kind (a flipped byte anywhere, a truncation, another
 * configuration's key, another version) is refused, never half-read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_state.h"
#include "util.h"

#define KEY "0123456789abcdef"

static void id_of(char out[41], unsigned n)
{
	snprintf(out, 41, "%040x", n);
}

/* the state searches b's bytes: b outlives it */
static int decode_copy(struct audit_state *s, const struct buf *b, const char *key)
{
	return audit_state_decode(s, b->data, b->len, key);
}

static int decode_n(struct audit_state *s, const struct buf *b, size_t n, const char *key)
{
	return audit_state_decode(s, b->data, n, key);
}

/* A chain of n commits; commit i promotes tag i into beta and, every
 * third, into paper with a request; approvals come on at commit 50. */
static void build(struct audit_state *s, unsigned n)
{
	char id[41], tag[41], req[41];

	audit_state_init(s);
	for (unsigned i = 1; i <= n; i++) {
		id_of(id, 0x100000 + i);
		assert_int_equal(audit_state_step(s, id), 0);
		id_of(tag, i);
		assert_int_equal(audit_state_remember(s, STAGE_BETA, tag, NULL), 0);
		if (i % 3 == 0) {
			snprintf(req, sizeof req, "%040x", 0xabc000 + i);
			assert_int_equal(audit_state_remember(s, STAGE_PAPER, tag, req), 0);
		}
		if (i == 50)
			audit_state_set_approvals_on(s, STAGE_PAPER);
	}
	s->judged_depth = 3;
	id_of(s->baseline, 0x100002);
}

static void test_facts_and_cut(void **state)
{
	struct audit_state s;
	char tag[41], id[41], req[41];

	(void)state;
	build(&s, 200);
	id_of(tag, 150);
	assert_true(audit_state_reached(&s, STAGE_BETA, tag));
	assert_true(audit_state_reached(&s, STAGE_PAPER, tag));
	assert_false(audit_state_reached(&s, STAGE_LIVE, tag));
	id_of(tag, 200);
	assert_string_equal(audit_state_last_tag(&s, STAGE_BETA), tag);
	snprintf(req, sizeof req, "%040x", 0xabc000 + 150);
	id_of(id, 0x100000 + 150);
	assert_non_null(audit_state_request(&s, req));
	assert_string_equal(audit_state_request(&s, req)->commit, id);
	assert_true(audit_state_approvals_on(&s, STAGE_PAPER));
	/* the chain ids it keeps: the root, every AUDIT_STATE_SAMPLE-th, the tip */
	id_of(id, 0x100001);
	assert_int_equal(audit_state_sample_depth(&s, id), 1);
	id_of(id, 0x100000 + 128);
	assert_int_equal(audit_state_sample_depth(&s, id), 128);
	id_of(id, 0x100000 + 200);
	assert_int_equal(audit_state_sample_depth(&s, id), 200);
	id_of(id, 0x100000 + 127);
	assert_int_equal(audit_state_sample_depth(&s, id), 0);

	/* cut at 40: what the first 40 commits established, nothing after */
	id_of(id, 0x100000 + 40);
	assert_int_equal(audit_state_truncate(&s, 40, id), 0);
	assert_int_equal(s.depth, 40);
	id_of(tag, 40);
	assert_true(audit_state_reached(&s, STAGE_BETA, tag));
	assert_string_equal(audit_state_last_tag(&s, STAGE_BETA), tag);
	id_of(tag, 39);
	assert_string_equal(audit_state_last_tag(&s, STAGE_PAPER), tag);
	id_of(tag, 41);
	assert_false(audit_state_reached(&s, STAGE_BETA, tag));
	snprintf(req, sizeof req, "%040x", 0xabc000 + 150);
	assert_null(audit_state_request(&s, req));
	assert_false(audit_state_approvals_on(&s, STAGE_PAPER));
	id_of(id, 0x100000 + 128);
	assert_int_equal(audit_state_sample_depth(&s, id), 0);
	/* the cut commit is the tip now */
	id_of(id, 0x100000 + 40);
	assert_int_equal(audit_state_sample_depth(&s, id), 40);
	/* baseline ended before the cut: kept */
	assert_int_equal(s.judged_depth, 3);
	assert_int_equal(audit_state_truncate(&s, 41, id), ERR_INVALID);
	assert_int_equal(audit_state_truncate(&s, 2, NULL), ERR_INVALID);
	id_of(id, 0x100002);
	assert_int_equal(audit_state_truncate(&s, 2, id), 0);
	assert_int_equal(s.judged_depth, 0);
	assert_string_equal(s.baseline, "");
	audit_state_release(&s);
}

static void test_round_trip(void **state)
{
	struct audit_state s, d;
	struct buf b = BUF_INIT;
	char tag[41], id[41], req[41];

	(void)state;
	build(&s, 300);
	assert_int_equal(audit_state_encode(&b, &s, KEY), 0);
	assert_int_equal(decode_copy(&d, &b, KEY), 0);
	assert_int_equal(d.depth, 300);
	assert_string_equal(d.tip, s.tip);
	/* the (stage, tag) pairs reached, once each; every promotion by stage */
	assert_int_equal(d.b_tags.n, 300 + 100);
	assert_int_equal(d.b_last[STAGE_BETA].n, 300);
	assert_int_equal(d.b_uses.n, s.nuses);
	assert_int_equal(d.b_samples.n, s.nsamples);
	assert_int_equal(d.judged_depth, 3);
	assert_string_equal(d.baseline, s.baseline);
	assert_int_equal(d.approvals_on[STAGE_PAPER], 50);
	id_of(id, 0x100000 + 128);
	assert_int_equal(audit_state_sample_depth(&d, id), 128);
	id_of(tag, 299);
	assert_true(audit_state_reached(&d, STAGE_BETA, tag));
	snprintf(req, sizeof req, "%040x", 0xabc000 + 297);
	id_of(id, 0x100000 + 297);
	assert_string_equal(audit_state_request(&d, req)->commit, id);
	id_of(tag, 300);
	assert_string_equal(audit_state_last_tag(&d, STAGE_BETA), tag);
	audit_state_release(&d);
	/* decoded, then cut: nothing deeper is found */
	assert_int_equal(decode_copy(&d, &b, KEY), 0);
	id_of(id, 0x100000 + 100);
	assert_int_equal(audit_state_truncate(&d, 100, id), 0);
	id_of(tag, 99);
	assert_string_equal(audit_state_last_tag(&d, STAGE_PAPER), tag);
	id_of(tag, 101);
	assert_false(audit_state_reached(&d, STAGE_BETA, tag));
	snprintf(req, sizeof req, "%040x", 0xabc000 + 102);
	assert_null(audit_state_request(&d, req));
	assert_true(audit_state_approvals_on(&d, STAGE_PAPER));	/* on at 50 */
	id_of(id, 0x100000 + 128);
	assert_int_equal(audit_state_sample_depth(&d, id), 0);
	/* then more commits after the cut, and the bytes of the whole again:
	 * the same as a state built in one go */
	for (unsigned i = 101; i <= 300; i++) {
		id_of(id, 0x100000 + i);
		assert_int_equal(audit_state_step(&d, id), 0);
		id_of(tag, i);
		assert_int_equal(audit_state_remember(&d, STAGE_BETA, tag, NULL), 0);
		if (i % 3 == 0) {
			snprintf(req, sizeof req, "%040x", 0xabc000 + i);
			assert_int_equal(audit_state_remember(&d, STAGE_PAPER, tag, req), 0);
		}
	}
	{
		struct buf b2 = BUF_INIT;
		struct audit_state s2;

		build(&s2, 300);
		assert_int_equal(audit_state_encode(&b2, &d, KEY), 0);
		audit_state_release(&d);
		buf_release(&b);
		assert_int_equal(audit_state_encode(&b, &s2, KEY), 0);
		assert_int_equal(b.len, b2.len);
		assert_memory_equal(b.data, b2.data, b.len);
		audit_state_release(&s2);
		buf_release(&b2);
	}
	audit_state_release(&s);
	buf_release(&b);
}

static void test_damage_refused(void **state)
{
	struct audit_state s, d;
	struct buf b = BUF_INIT;

	(void)state;
	build(&s, 70);
	assert_int_equal(audit_state_encode(&b, &s, KEY), 0);
	/* every single flipped bit is caught by the checksum or the parse */
	for (size_t i = 0; i < b.len; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			b.data[i] ^= (char)(1 << bit);
			assert_int_equal(decode_copy(&d, &b, KEY), ERR_INVALID);
			assert_int_equal(d.depth, 0);
			assert_null(d.b_tags.p);
			b.data[i] ^= (char)(1 << bit);
		}
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(decode_n(&d, &b, n, KEY), ERR_INVALID);
	assert_int_equal(decode_copy(&d, &b, "fedcba9876543210"), ERR_INVALID);
	assert_int_equal(decode_copy(&d, &b, KEY), 0);
	audit_state_release(&d);
	audit_state_release(&s);
	buf_release(&b);
}

static void test_key(void **state)
{
	struct audit_policy p = {
		.ident_name = "pipelined", .ident_email = "pipelined@gremlin-1",
		.values_path = { [STAGE_BETA] = "values/values-beta.yaml" },
	};
	char a[AUDIT_STATE_KEY_LEN + 1], b[AUDIT_STATE_KEY_LEN + 1];

	(void)state;
	audit_state_key(a, &p, "");
	assert_int_equal(strlen(a), AUDIT_STATE_KEY_LEN);
	audit_state_key(b, &p, "");
	assert_string_equal(a, b);
	audit_state_key(b, &p, "time 1772323200");
	assert_string_not_equal(a, b);
	p.ident_email = "other@gremlin-1";
	audit_state_key(b, &p, "");
	assert_string_not_equal(a, b);
	p.ident_email = "pipelined@gremlin-1";
	p.market_gated[STAGE_BETA] = true;
	audit_state_key(b, &p, "");
	assert_string_not_equal(a, b);
}

/* A range judged after a state cut at its start gets the violations the
 * whole history gets for it: the facts before it come from the state. */
static void test_run_from_state(void **state)
{
	static const char *msg =
		"promote paper: aaaaaaa\n\nStage: paper\nSource-Stage: beta\n"
		"Image-Tag: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"Requested-By: pipelined (automatic)\nMarket: closed (weekend)\n"
		"Integration-Test: passed 1/1\n";
	static const char *beta =
		"promote beta: aaaaaaa\n\nStage: beta\nSource-Stage: integration-test\n"
		"Image-Tag: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"Requested-By: pipelined (automatic)\nMarket: closed (weekend)\n"
		"Integration-Test: passed 1/1\n";
	struct audit_policy p = {
		.ident_name = "pipelined", .ident_email = "pipelined@gremlin-1",
	};
	struct audit_commit c[2];
	struct audit_state s;
	struct audit_report r;

	(void)state;
	memset(c, 0, sizeof c);
	for (int i = 0; i < 2; i++) {
		c[i].id = i ? "2222222222222222222222222222222222222222"
			    : "1111111111111111111111111111111111111111";
		c[i].committer_name = "pipelined";
		c[i].committer_email = "pipelined@gremlin-1";
		c[i].message = i ? msg : beta;
		c[i].message_len = strlen(c[i].message);
		c[i].judged = true;
	}
	/* paper alone: skipped-stage */
	audit_state_init(&s);
	assert_int_equal(audit_run_state(&r, &s, &p, &c[1], 1), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].code, AUDIT_SKIPPED_STAGE);
	audit_report_release(&r);
	audit_state_release(&s);
	/* after a state holding the beta promotion: clean */
	audit_state_init(&s);
	assert_int_equal(audit_run_state(&r, &s, &p, &c[0], 1), 0);
	audit_report_release(&r);
	assert_int_equal(audit_run_state(&r, &s, &p, &c[1], 1), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(s.depth, 2);
	audit_report_release(&r);
	audit_state_release(&s);
	assert_int_equal(audit_run_state(&r, NULL, &p, c, 2), ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_and_cut),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damage_refused),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_run_from_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
