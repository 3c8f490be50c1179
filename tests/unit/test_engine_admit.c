/* Which request branches get a slot (engine_admit.c): oldest tip first,
 * then name; an author at requests.perAuthor is passed over; slots held
 * are kept; the queue-full text names the bound and never changes from
 * cycle to cycle; when an old refusal may be deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define DAY_S 86400

static void admit_ok(enum admit_result *out, const struct admit_branch *b, size_t n, size_t max,
		     size_t per_author)
{
	assert_int_equal(engine_admit(out, b, n, max, per_author), 0);
}

static void test_all_fit(void **state)
{
	const struct admit_branch b[] = {
		{ "promote/paper/a", "a@x", 30, false },
		{ "promote/paper/b", "b@x", 10, false },
		{ "promote/live/c", "a@x", 20, true },
	};
	enum admit_result out[3];

	(void)state;
	admit_ok(out, b, 3, 3, 2);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(out[i], ADMIT_SLOT);
	assert_int_equal(engine_admit(out, b, 0, 3, 2), 0);
}

/* Listing order (name order, as ls-remote gives) does not matter: the
 * oldest tips win, ties by name. */
static void test_oldest_first_then_name(void **state)
{
	const struct admit_branch b[] = {
		{ "promote/paper/a", "a@x", 300, false },
		{ "promote/paper/b", "b@x", 100, false },
		{ "promote/paper/c", "c@x", 200, false },
		{ "promote/paper/e", "e@x", 100, false },
		{ "promote/paper/d", "d@x", 100, false },
	};
	enum admit_result out[5];

	(void)state;
	admit_ok(out, b, 5, 3, 10);
	assert_int_equal(out[1], ADMIT_SLOT);	/* 100, b */
	assert_int_equal(out[4], ADMIT_SLOT);	/* 100, d */
	assert_int_equal(out[3], ADMIT_SLOT);	/* 100, e */
	assert_int_equal(out[2], ADMIT_FULL_MAX);
	assert_int_equal(out[0], ADMIT_FULL_MAX);
}

/* One author's 200 junk branches pushed first take perAuthor slots, not
 * all of them: the others' later requests still get in. */
static void test_per_author_bound(void **state)
{
	struct admit_branch b[300];
	enum admit_result out[300];
	char names[300][64], authors[300][32];
	size_t slot_junk = 0, full_author = 0, slot_valid = 0;

	(void)state;
	for (size_t i = 0; i < 300; i++) {
		snprintf(names[i], sizeof names[i], "promote/paper/r%03zu", i);
		if (i < 200)
			snprintf(authors[i], sizeof authors[i], "%s", i % 2 ? "Junk@Example.com" :
				 "junk@example.com");	/* the same author, any case */
		else
			snprintf(authors[i], sizeof authors[i], "dev%zu@example.com", i % 4);
		b[i] = (struct admit_branch){ names[i], authors[i], (int64_t)(1000 + i), false };
	}
	admit_ok(out, b, 300, 256, 32);
	for (size_t i = 0; i < 300; i++) {
		if (i < 200) {
			slot_junk += out[i] == ADMIT_SLOT;
			full_author += out[i] == ADMIT_FULL_AUTHOR;
			/* the oldest 32 of them */
			assert_int_equal(out[i], i < 32 ? ADMIT_SLOT : ADMIT_FULL_AUTHOR);
		} else {
			slot_valid += out[i] == ADMIT_SLOT;
		}
	}
	assert_int_equal(slot_junk, 32);
	assert_int_equal(full_author, 168);
	assert_int_equal(slot_valid, 100);
}

/* Both bounds: the author's bound is named when it is the one that binds. */
static void test_max_and_author(void **state)
{
	const struct admit_branch b[] = {
		{ "promote/paper/j1", "j@x", 1, false },
		{ "promote/paper/j2", "j@x", 2, false },
		{ "promote/paper/j3", "j@x", 3, false },
		{ "promote/paper/v1", "v@x", 4, false },
		{ "promote/paper/w1", "w@x", 5, false },
		{ "promote/paper/j4", "j@x", 6, false },
	};
	enum admit_result out[6];

	(void)state;
	admit_ok(out, b, 6, 3, 2);
	assert_int_equal(out[0], ADMIT_SLOT);
	assert_int_equal(out[1], ADMIT_SLOT);
	assert_int_equal(out[2], ADMIT_FULL_AUTHOR);
	assert_int_equal(out[3], ADMIT_SLOT);
	assert_int_equal(out[4], ADMIT_FULL_MAX);
	assert_int_equal(out[5], ADMIT_FULL_AUTHOR);
}

/* A slot held is kept, even against an older tip pushed later, and even
 * when a reload lowered the bounds below what is held; new branches wait. */
static void test_held_slots_are_kept(void **state)
{
	const struct admit_branch b[] = {
		{ "promote/paper/new-old", "n@x", 1, false },
		{ "promote/paper/held1", "h@x", 50, true },
		{ "promote/paper/held2", "h@x", 60, true },
		{ "promote/paper/held3", "i@x", 70, true },
	};
	enum admit_result out[4];

	(void)state;
	admit_ok(out, b, 4, 2, 1);
	assert_int_equal(out[0], ADMIT_FULL_MAX);
	assert_int_equal(out[1], ADMIT_SLOT);
	assert_int_equal(out[2], ADMIT_SLOT);
	assert_int_equal(out[3], ADMIT_SLOT);
}

/* As slots free up (a branch deleted), the waiting ones come in order. */
static void test_freed_slots_in_order(void **state)
{
	struct admit_branch b[] = {
		{ "promote/paper/a", "x@x", 10, true },
		{ "promote/paper/b", "y@x", 20, true },
		{ "promote/paper/c", "z@x", 40, false },
		{ "promote/paper/d", "w@x", 30, false },
	};
	enum admit_result out[4];

	(void)state;
	admit_ok(out, b, 4, 2, 5);
	assert_int_equal(out[2], ADMIT_FULL_MAX);
	assert_int_equal(out[3], ADMIT_FULL_MAX);
	/* "a" is deleted: d (30) is older than c (40) */
	admit_ok(out, b + 1, 3, 2, 5);
	assert_int_equal(out[0], ADMIT_SLOT);
	assert_int_equal(out[1], ADMIT_FULL_MAX);
	assert_int_equal(out[2], ADMIT_SLOT);
}

/* An unreadable author (NULL) is one author like any other. */
static void test_no_author(void **state)
{
	const struct admit_branch b[] = {
		{ "promote/paper/a", NULL, 1, false },
		{ "promote/paper/b", "", 2, false },
		{ "promote/paper/c", "c@x", 3, false },
	};
	enum admit_result out[3];

	(void)state;
	admit_ok(out, b, 3, 10, 1);
	assert_int_equal(out[0], ADMIT_SLOT);
	assert_int_equal(out[1], ADMIT_FULL_AUTHOR);
	assert_int_equal(out[2], ADMIT_SLOT);
}

static void test_message(void **state)
{
	char a[POLICY_MESSAGE_MAX], b[POLICY_MESSAGE_MAX];

	(void)state;
	engine_admit_message(a, sizeof a, ADMIT_FULL_AUTHOR, 256, 32);
	assert_non_null(strstr(a, "queue-full: "));
	assert_ptr_equal(strstr(a, "queue-full: "), a);
	assert_non_null(strstr(a, "32"));
	assert_non_null(strstr(a, "requests.perAuthor"));
	assert_non_null(strstr(a, "delete"));
	engine_admit_message(b, sizeof b, ADMIT_FULL_MAX, 256, 32);
	assert_ptr_equal(strstr(b, "queue-full: "), b);
	assert_non_null(strstr(b, "256"));
	assert_non_null(strstr(b, "requests.max"));
	assert_string_not_equal(a, b);
	/* the same bound, the same text: the note is pushed once */
	engine_admit_message(b, sizeof b, ADMIT_FULL_AUTHOR, 256, 32);
	assert_string_equal(a, b);
	assert_null(strchr(a, '\n'));
}

static void test_expired(void **state)
{
	const uint64_t week = 7ull * DAY_S * 1000;
	const int64_t now = 1800000000;

	(void)state;
	assert_false(engine_refusal_expired(now - 7 * DAY_S + 1, now, week));
	assert_true(engine_refusal_expired(now - 7 * DAY_S, now, week));
	assert_true(engine_refusal_expired(now - 30 * DAY_S, now, week));
	/* 0 = never */
	assert_false(engine_refusal_expired(now - 3000 * DAY_S, now, 0));
	/* a tip dated in the future, or unreadable, is never old */
	assert_false(engine_refusal_expired(now + DAY_S, now, week));
	assert_false(engine_refusal_expired(0, now, week));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_fit),
		cmocka_unit_test(test_oldest_first_then_name),
		cmocka_unit_test(test_per_author_bound),
		cmocka_unit_test(test_max_and_author),
		cmocka_unit_test(test_held_slots_are_kept),
		cmocka_unit_test(test_freed_slots_in_order),
		cmocka_unit_test(test_no_author),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_expired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
