/* The one note a request commit carries (engine_note.c): a merged commit's
 * accepted note wins for ever, one verdict is its message, several are one
 * line per branch in byte order of the names, whatever order they came in,
 * and a note too long for one commit says how much it left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine_int.h"

static void test_accepted_note(void **state)
{
	char t[96];

	(void)state;
	engine_accepted_note(t, sizeof t, STAGE_PAPER, false);
	assert_string_equal(t, "accepted: promoted into paper\n");
	engine_accepted_note(t, sizeof t, STAGE_LIVE, true);
	assert_string_equal(t, "accepted: promoted into live with break-glass\n");
}

static void test_accepted_wins(void **state)
{
	const struct engine_verdict v[] = {
		{ "promote/live/again", "reused-request: request commit 89abcde was already used" },
	};
	struct buf b;

	(void)state;
	buf_init(&b, ENGINE_NOTE_TEXT_MAX + 1);
	assert_int_equal(engine_note_text(&b, "accepted: promoted into paper\n", v, 1), 0);
	assert_string_equal(b.data, "accepted: promoted into paper\n");
	assert_int_equal(engine_note_text(&b, "accepted: promoted into paper\n", NULL, 0), 0);
	assert_string_equal(b.data, "accepted: promoted into paper\n");
	assert_int_equal(engine_note_text(&b, NULL, NULL, 0), ERR_NOTFOUND);
	buf_release(&b);
}

static void test_one_verdict(void **state)
{
	const struct engine_verdict v[] = { { "promote/paper/a", "wrong-files: the request changes x" } };
	struct buf b;

	(void)state;
	buf_init(&b, ENGINE_NOTE_TEXT_MAX + 1);
	assert_int_equal(engine_note_text(&b, NULL, v, 1), 0);
	assert_string_equal(b.data, "wrong-files: the request changes x\n");
	buf_release(&b);
}

static void test_several_in_byte_order(void **state)
{
	const struct engine_verdict v1[] = {
		{ "promote/paper/a", "wrong-files: changes README.md" },
		{ "promote/PAPER/a", "malformed: unknown stage \"PAPER\"" },
		{ "promote/live/a", "notes-required: live requires notes" },
	};
	const struct engine_verdict v2[] = { v1[2], v1[0], v1[1] };
	const char *want = "promote/PAPER/a: malformed: unknown stage \"PAPER\"\n"
			   "promote/live/a: notes-required: live requires notes\n"
			   "promote/paper/a: wrong-files: changes README.md\n";
	struct buf b;

	(void)state;
	buf_init(&b, ENGINE_NOTE_TEXT_MAX + 1);
	assert_int_equal(engine_note_text(&b, NULL, v1, 3), 0);
	assert_string_equal(b.data, want);
	/* the same verdicts listed in another order: the same text */
	assert_int_equal(engine_note_text(&b, NULL, v2, 3), 0);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

static void test_bounded(void **state)
{
	static char names[128][40], msg[1000];
	struct engine_verdict v[128];
	struct buf b;

	(void)state;
	memset(msg, 'x', sizeof msg - 1);
	for (int i = 0; i < 128; i++) {
		snprintf(names[i], sizeof names[i], "promote/paper/r%03d", i);
		v[i] = (struct engine_verdict){ names[i], msg };
	}
	buf_init(&b, ENGINE_NOTE_TEXT_MAX + 1);
	assert_int_equal(engine_note_text(&b, NULL, v, 128), 0);
	assert_true(b.len <= ENGINE_NOTE_TEXT_MAX);
	assert_non_null(strstr(b.data, "promote/paper/r000: xxx"));
	assert_null(strstr(b.data, "promote/paper/r127"));
	assert_non_null(strstr(b.data, "more request branch(es) at this commit"));
	assert_int_equal(b.data[b.len - 1], '\n');
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_note),
		cmocka_unit_test(test_accepted_wins),
		cmocka_unit_test(test_one_verdict),
		cmocka_unit_test(test_several_in_byte_order),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
