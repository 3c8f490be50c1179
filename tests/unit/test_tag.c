/* test_tag.c - image tags, release ids and branch names (tag.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tag.h"
#include "util.h"

static void test_tags(void **state)
{
	assert_true(tag_valid("v1.2.3", 6));
	assert_true(tag_valid("_x", 2));
	assert_false(tag_valid(".x", 2));
	assert_false(tag_valid("-x", 2));
	assert_false(tag_valid("a:b", 3));
	assert_false(tag_valid("", 0));
	assert_true(tag_is_sha1("0123456789abcdef0123456789abcdef01234567", 40));
	assert_false(tag_is_sha1("0123456789ABCDEF0123456789abcdef01234567", 40));
	assert_false(tag_is_sha1("0123456789abcdef", 16));
}

/* Each verdict is what `git check-ref-format refs/heads/NAME` answers. */
static void test_branches(void **state)
{
	static const char *good[] = { "main", "release/2026", "feature/x.y", "@", "a@b",
				      "x.lockx", "-a", "a/-b", "\xc3\xbc" };
	static const char *bad[] = { "", "a..b", "a/.b", ".a", "a.lock", "a/b.lock/c", "a b",
				     "a~", "a^", "a:b", "a?", "a*", "a[", "a\\b", "a/", "/a",
				     "a//b", "a.", "a@{b", "a\tb", "a\x7f" };

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!tag_branch_valid(good[i]))
			fail_msg("refused '%s'", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (tag_branch_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	assert_false(tag_branch_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_branches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
