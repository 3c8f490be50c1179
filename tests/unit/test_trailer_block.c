/* Unit tests for trailer_block.c, the pure core's reader of a commit
 * message's trailer block: a few cases by hand, then a differential test
 * against the reader it replaces, libgit2's git_message_trailers, on
 * messages built at random from the pieces its rules turn on (blank and
 * comment lines, "---" lines, Conflicts: blocks, Signed-off-by lines,
 * continuation lines, tokens with blanks before the colon, empty values).
 * Any difference in keys, values or their count fails with the message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trailer_block.h"
#include "util.h"

static void assert_item(const struct trailer_block *b, size_t i, const char *key,
			const char *value)
{
	assert_true(i < b->count);
	assert_string_equal(b->items[i].key, key);
	assert_string_equal(b->items[i].value, value);
}

static void test_simple(void **state)
{
	struct trailer_block b;

	assert_int_equal(trailer_block_read(&b, "title\n\nbody\n\nA: 1\nB-c :  2\n"), 0);
	assert_int_equal(b.count, 2);
	assert_item(&b, 0, "A", "1");
	assert_item(&b, 1, "B-c", "2");
	trailer_block_release(&b);
	/* the title paragraph is never trailers */
	assert_int_equal(trailer_block_read(&b, "A: 1\n"), 0);
	assert_int_equal(b.count, 0);
	trailer_block_release(&b);
}

static void test_mixed_paragraph(void **state)
{
	struct trailer_block b;

	/* one line that is no trailer and no git-generated line: no block */
	assert_int_equal(trailer_block_read(&b, "t\n\nA: 1\nprose here\nB: 2\n"), 0);
	assert_int_equal(b.count, 0);
	trailer_block_release(&b);
	/* with a Signed-off-by line a quarter of trailers is enough */
	assert_int_equal(trailer_block_read(&b, "t\n\nSigned-off-by: x\nprose\nB: 2\n"), 0);
	assert_int_equal(b.count, 2);
	assert_item(&b, 0, "Signed-off-by", "x");
	assert_item(&b, 1, "B", "2");
	trailer_block_release(&b);
}

static void test_continuation_and_empty(void **state)
{
	struct trailer_block b;

	assert_int_equal(trailer_block_read(&b, "t\n\nA: 1\n two\nB:\nC: 3\n"), 0);
	assert_int_equal(b.count, 2);
	assert_item(&b, 0, "A", "1\n two");
	/* an empty value starts at its newline and takes the next line */
	assert_item(&b, 1, "B", "\nC: 3");
	trailer_block_release(&b);
}

static void test_patch_and_comments(void **state)
{
	struct trailer_block b;

	assert_int_equal(trailer_block_read(&b, "t\n\nA: 1\n# comment\n\n---\nB: 2\n"), 0);
	assert_int_equal(b.count, 1);
	assert_item(&b, 0, "A", "1");
	trailer_block_release(&b);
}

/* ---- differential -------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static const char *const pieces[] = {
	"\n", "\n", "\n", "\n", " ", "\t", ":", ": ", "A", "Key", "Key-2", "x y",
	"Stage: dev\n", "Image-Tag: 0123\n", "Notes:\n", "Notes: \n", " cont\n",
	"\tcont\n", "# comment\n", "#\n", "---\n", "--- \n", "---x\n", "Conflicts:\n",
	"\tpath\n", "Signed-off-by: A <a@b>\n", "(cherry picked from commit 1)\n",
	"Key :v\n", "Key\t: v\n", "Key x: v\n", ":v\n", " : v\n", "prose line\n",
	"\r", "\v", "\f", "é", "title\n\n", "\n\n", "K: v", "-: v\n", "9: v\n",
};

static void build(char *out, size_t outsz)
{
	size_t n = 1 + next_rand() % 24, len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[next_rand() % ARRAY_SIZE(pieces)];
		size_t pl = strlen(p);

		if (len + pl + 1 > outsz)
			break;
		memcpy(out + len, p, pl + 1);
		len += pl;
	}
}

static void compare(const char *msg)
{
	git_message_trailer_array arr = { 0 };
	struct trailer_block b;
	bool same;

	assert_int_equal(git_message_trailers(&arr, msg), 0);
	assert_int_equal(trailer_block_read(&b, msg), 0);
	same = arr.count == b.count;
	for (size_t i = 0; same && i < arr.count; i++)
		same = strcmp(arr.trailers[i].key, b.items[i].key) == 0 &&
		       strcmp(arr.trailers[i].value, b.items[i].value) == 0;
	if (!same) {
		fprintf(stderr, "differs from libgit2 on:\n---8<---\n%s\n--->8---\n", msg);
		fprintf(stderr, "libgit2 (%zu):\n", arr.count);
		for (size_t i = 0; i < arr.count; i++)
			fprintf(stderr, "  [%s] [%s]\n", arr.trailers[i].key, arr.trailers[i].value);
		fprintf(stderr, "ours (%zu):\n", b.count);
		for (size_t i = 0; i < b.count; i++)
			fprintf(stderr, "  [%s] [%s]\n", b.items[i].key, b.items[i].value);
	}
	git_message_trailer_array_free(&arr);
	trailer_block_release(&b);
	assert_true(same);
}

static void test_same_as_libgit2(void **state)
{
	char msg[1024];

	git_libgit2_init();
	compare("");
	compare("\n");
	compare("#\n");
	compare("Conflicts:\n\tx\n");
	for (int i = 0; i < 200000; i++) {
		build(msg, sizeof(msg));
		compare(msg);
	}
	git_libgit2_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_mixed_paragraph),
		cmocka_unit_test(test_continuation_and_empty),
		cmocka_unit_test(test_patch_and_comments),
		cmocka_unit_test(test_same_as_libgit2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
