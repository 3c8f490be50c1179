/* What a failed promotion means for its stage (engine_block.c): which
 * failures block it, when a blocked stage may try again, the backoff of
 * transient ones, and when the journal hears of a block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine_int.h"

#define T1 "1111111111111111111111111111111111111111"
#define T2 "2222222222222222222222222222222222222222"
#define R1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define R2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void test_classify_edit_refusals_are_permanent(void **state)
{
	(void)state;
	/* the values file at the tip: no such file, layout, YAML */
	assert_int_equal(engine_fail_classify(ERR_NOTFOUND, ERR_NOTFOUND), ENGINE_FAIL_PERMANENT);
	assert_int_equal(engine_fail_classify(ERR_REJECTED, ERR_REJECTED), ENGINE_FAIL_PERMANENT);
	assert_int_equal(engine_fail_classify(ERR_INVALID, ERR_INVALID), ENGINE_FAIL_PERMANENT);
	assert_int_equal(engine_fail_classify(ERR_TOOBIG, ERR_TOOBIG), ENGINE_FAIL_PERMANENT);
	/* out of memory is worth another try */
	assert_int_equal(engine_fail_classify(ERR_NOMEM, ERR_NOMEM), ENGINE_FAIL_TRANSIENT);
}

static void test_classify_hook_is_permanent(void **state)
{
	(void)state;
	assert_int_equal(engine_fail_classify(GITOPS_EHOOK, 0), ENGINE_FAIL_PERMANENT);
}

static void test_classify_network_is_transient(void **state)
{
	static const int codes[] = { ERR_TIMEOUT, GITOPS_ENONFF, ERR_REJECTED, ERR_FAIL, ERR_IO,
				     GITOPS_EBUSY, GITOPS_EMOVED, GITOPS_EHOSTKEY, GITOPS_EAUTH,
				     ERR_NOTFOUND };

	(void)state;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		assert_int_equal(engine_fail_classify(codes[i], 0), ENGINE_FAIL_TRANSIENT);
	assert_int_equal(engine_fail_classify(0, 0), ENGINE_FAIL_NONE);
}

static void test_backoff(void **state)
{
	(void)state;
	/* +-10% around poll, doubled per failure from the second */
	assert_int_equal(engine_backoff_ms(1000, 0, 0), 900);
	assert_int_equal(engine_backoff_ms(1000, 1, 200), 1100);
	assert_int_equal(engine_backoff_ms(1000, 1, 100), 1000);
	assert_int_equal(engine_backoff_ms(1000, 2, 0), 1800);
	assert_int_equal(engine_backoff_ms(1000, 4, 0), 7200);
	/* at most ten minutes, whatever the count */
	assert_true(engine_backoff_ms(1000, 40, 0xffffffffu) <= 660000);
	assert_true(engine_backoff_ms(1000, 40, 0) >= 540000);
	/* no configured poll: the default 30s */
	/* a zero poll (a struct not loaded from a file) never spins */
	assert_int_equal(engine_backoff_ms(0, 1, 100), 1000);
}

static void test_layout_block_holds_until_cleared(void **state)
{
	struct engine_block b;

	(void)state;
	memset(&b, 0, sizeof b);
	assert_true(engine_block_allows(&b, T1, R1, "", 1));
	assert_true(engine_block_set(&b, BLOCK_LAYOUT, "values/values-beta.yaml: image 'x'...",
				     100, T1, "", "", 1));
	assert_true(b.on);
	assert_int_equal(b.since, 100);
	/* whatever is tried: the check itself decides when it clears */
	assert_false(engine_block_allows(&b, T1, R1, "", 1));
	assert_false(engine_block_allows(&b, T2, R2, R1, 2));
	/* the same reason again is no news; since stays */
	assert_false(engine_block_set(&b, BLOCK_LAYOUT, "values/values-beta.yaml: image 'x'...",
				      200, T2, "", "", 1));
	assert_int_equal(b.since, 100);
	/* another reason is */
	assert_true(engine_block_set(&b, BLOCK_LAYOUT, "values/values-beta.yaml: parse error",
				     300, T2, "", "", 1));
	assert_int_equal(b.since, 100);
	assert_true(engine_block_clear(&b));
	assert_false(b.on);
	assert_false(engine_block_clear(&b));
	assert_true(engine_block_allows(&b, T1, R1, "", 1));
}

static void test_action_block_retried_on_change(void **state)
{
	struct engine_block b;

	(void)state;
	memset(&b, 0, sizeof b);
	assert_true(engine_block_set(&b, BLOCK_ACTION, "hook declined", 5, T1, R1, "", 7));
	/* nothing changed: no attempt */
	assert_false(engine_block_allows(&b, T1, R1, "", 7));
	/* the tip, the release, the request or the configuration changed */
	assert_true(engine_block_allows(&b, T2, R1, "", 7));
	assert_true(engine_block_allows(&b, T1, R2, "", 7));
	assert_true(engine_block_allows(&b, T1, R1, R2, 7));
	assert_true(engine_block_allows(&b, T1, R1, "", 8));
	/* the retry failed the same way at the new tip: no new journal
	 * line, and that tip is now the one to wait past */
	assert_false(engine_block_set(&b, BLOCK_ACTION, "hook declined", 9, T2, R1, "", 7));
	assert_false(engine_block_allows(&b, T2, R1, "", 7));
	assert_int_equal(b.since, 5);
	/* a layout failure replaces it, and is news */
	assert_true(engine_block_set(&b, BLOCK_LAYOUT, "hook declined", 10, T2, "", "", 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_edit_refusals_are_permanent),
		cmocka_unit_test(test_classify_hook_is_permanent),
		cmocka_unit_test(test_classify_network_is_transient),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_layout_block_holds_until_cleared),
		cmocka_unit_test(test_action_block_retried_on_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
