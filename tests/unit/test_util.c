/* Unit tests for util.c: bounds, number and duration parsing, atomic writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "tag.h"
#include "sysio.h"

static void test_buf_bound(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), 0);
	assert_int_equal(buf_addch(&b, '9'), ERR_TOOBIG);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_printf(&b, "%d", 1), ERR_TOOBIG);
	buf_release(&b);
	buf_release(NULL);
}

static void test_parse_numbers(void **state)
{
	int64_t v;
	uint32_t u;

	assert_int_equal(parse_i64(&v, "42", 0, 100), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64(&v, "101", 0, 100), ERR_INVALID);
	assert_int_equal(parse_i64(&v, "4x", 0, 100), ERR_INVALID);
	assert_int_equal(parse_i64(&v, "", 0, 100), ERR_INVALID);
	assert_int_equal(parse_i64(&v, " 4", 0, 100), ERR_INVALID);
	assert_int_equal(parse_i64(&v, "99999999999999999999", 0, INT64_MAX), ERR_INVALID);
	assert_int_equal(parse_u32(&u, "-1", 0, 10), ERR_INVALID);
}

static void test_parse_duration(void **state)
{
	uint64_t ms;
	char out[32];

	assert_int_equal(parse_duration_ms(&ms, "30s"), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(parse_duration_ms(&ms, "1h30m"), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(parse_duration_ms(&ms, "250ms"), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(parse_duration_ms(&ms, "30"), ERR_INVALID);
	assert_int_equal(parse_duration_ms(&ms, "s"), ERR_INVALID);
	assert_int_equal(parse_duration_ms(&ms, "5x"), ERR_INVALID);
	assert_int_equal(parse_duration_ms(&ms, "9999999999999h"), ERR_INVALID);
	format_duration(out, sizeof(out), 5400000);
	assert_string_equal(out, "1h30m");
	format_duration(out, sizeof(out), 7980000);
	assert_string_equal(out, "2h13m");
	format_duration(out, sizeof(out), 0);
	assert_string_equal(out, "0s");
}

static void test_bool(void **state)
{
	bool b;

	assert_int_equal(parse_bool(&b, "Yes"), 0);
	assert_true(b);
	assert_int_equal(parse_bool(&b, "off"), 0);
	assert_false(b);
	assert_int_equal(parse_bool(&b, "maybe"), ERR_INVALID);
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/pipelined-util-XXXXXX";
	char path[256], sub[256];
	struct buf b;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/values.yaml", dir);
	assert_int_equal(file_write_atomic(path, "a: 1\n", 5, 0644), 0);
	assert_int_equal(file_read(&b, path, 1024), 0);
	assert_string_equal(b.data, "a: 1\n");
	buf_release(&b);

	/* A write that cannot complete (directory not writable for the temp
	 * file: here a path whose parent does not exist) leaves nothing. */
	snprintf(sub, sizeof(sub), "%s/missing/values.yaml", dir);
	assert_int_not_equal(file_write_atomic(sub, "x", 1, 0644), 0);

	/* Read-only directory: the original stays byte-identical. */
	if (geteuid() != 0) {
		chmod(dir, 0555);
		assert_int_not_equal(file_write_atomic(path, "b: 2\n", 5, 0644), 0);
		chmod(dir, 0755);
		assert_int_equal(file_read(&b, path, 1024), 0);
		assert_string_equal(b.data, "a: 1\n");
		buf_release(&b);
	}
	assert_int_equal(file_read(&b, path, 3), ERR_TOOBIG);
	unlink(path);
	rmdir(dir);
}

static void test_ct_equal(void **state)
{
	assert_true(ct_equal("abc", "abc", 3));
	assert_false(ct_equal("abc", "abd", 3));
}

static void test_tag(void **state)
{
	char long_tag[130];

	assert_true(tag_valid("v1.2.3", 6));
	assert_true(tag_valid("_x", 2));
	assert_false(tag_valid(".x", 2));
	assert_false(tag_valid("-x", 2));
	assert_false(tag_valid("a b", 3));
	assert_false(tag_valid("a:b", 3));
	assert_false(tag_valid("", 0));
	memset(long_tag, 'a', sizeof(long_tag));
	assert_true(tag_valid(long_tag, 128));
	assert_false(tag_valid(long_tag, 129));
	assert_true(tag_is_sha1("0123456789abcdef0123456789abcdef01234567", 40));
	assert_false(tag_is_sha1("0123456789ABCDEF0123456789abcdef01234567", 40));
	assert_false(tag_is_sha1("0123456789abcdef", 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bound),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
