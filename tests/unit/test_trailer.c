/* Unit tests for trailer.c: reading request trailers the way git does, and
 * writing promotion messages that no notes text can forge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blank_text.h"
#include "trailer.h"
#include "util.h"

#define SHA_A "0123456789abcdef0123456789abcdef01234567"
#define SHA_R "89abcdef0123456789abcdef0123456789abcdef"

static int setup(void **state)
{
	return 0;
}

static int teardown(void **state)
{
	return 0;
}

static int parse(struct trailer_list *l, const char *msg)
{
	return trailer_parse(l, msg, strlen(msg), NULL);
}

static void assert_trailer(const struct trailer_list *l, size_t i, const char *key,
			   const char *value)
{
	assert_true(i < l->count);
	assert_string_equal(l->items[i].key, key);
	assert_string_equal(l->items[i].value, value);
}

static void test_parse_basic(void **state)
{
	struct trailer_list l;

	assert_int_equal(parse(&l, "promote paper\n\nWhy we ship.\n\n"
			       "Notes: fixes the risk limits\nBreak-Glass: halt the bleed\n"), 0);
	assert_int_equal(l.count, 2);
	assert_trailer(&l, 0, "Notes", "fixes the risk limits");
	assert_trailer(&l, 1, "Break-Glass", "halt the bleed");
	assert_string_equal(trailer_list_get(&l, "break-glass"), "halt the bleed");
	assert_null(trailer_list_get(&l, "Stage"));
	assert_null(trailer_list_repeated(&l));
	assert_null(trailer_list_forged(&l));
	trailer_list_release(&l);
	trailer_list_release(&l);
	trailer_list_release(NULL);
}

static void test_parse_no_block(void **state)
{
	struct trailer_list l;

	/* a subject alone, a block followed by text, a mostly-prose paragraph */
	assert_int_equal(parse(&l, "Notes: only a subject\n"), 0);
	assert_int_equal(l.count, 0);
	trailer_list_release(&l);
	assert_int_equal(parse(&l, "S\n\nNotes: x\n\nmore text\n"), 0);
	assert_int_equal(l.count, 0);
	trailer_list_release(&l);
	assert_int_equal(parse(&l, "S\n\nsome text\nmore text\nNotes: x\n"), 0);
	assert_int_equal(l.count, 0);
	trailer_list_release(&l);
	assert_int_equal(parse(&l, ""), 0);
	assert_int_equal(l.count, 0);
	trailer_list_release(&l);
}

static void test_parse_crlf(void **state)
{
	struct trailer_list l;

	assert_int_equal(parse(&l, "S\r\n\r\nbody\r\n\r\nNotes: one\r\nBreak-Glass: two\r\n"), 0);
	assert_int_equal(l.count, 2);
	assert_trailer(&l, 0, "Notes", "one");
	assert_trailer(&l, 1, "Break-Glass", "two");
	trailer_list_release(&l);
	/* a lone CR inside a value would hide text on a terminal */
	assert_int_equal(parse(&l, "S\n\nNotes: safe\rStage: live\n"), 0);
	assert_trailer(&l, 0, "Notes", "safeStage: live");
	trailer_list_release(&l);
}

static void test_parse_case_and_repeats(void **state)
{
	struct trailer_list l;

	assert_int_equal(parse(&l, "S\n\nbreak-glass: a\nCo-authored-by: A <a@x>\n"
			       "Co-authored-by: B <b@x>\nBREAK-GLASS: b\n"), 0);
	assert_int_equal(l.count, 4);
	assert_trailer(&l, 0, "break-glass", "a");
	assert_int_equal(trailer_list_count(&l, "Break-Glass"), 2);
	assert_int_equal(trailer_list_count(&l, "co-authored-by"), 2);
	/* first match wins for lookup; the policy refuses the repeat anyway */
	assert_string_equal(trailer_list_get(&l, "Break-Glass"), "a");
	assert_string_equal(trailer_list_repeated(&l), "break-glass");
	trailer_list_release(&l);

	/* repeats of keys pipelined does not read are fine */
	assert_int_equal(parse(&l, "S\n\nCo-authored-by: A <a@x>\nCo-authored-by: B <b@x>\n"), 0);
	assert_null(trailer_list_repeated(&l));
	trailer_list_release(&l);

	assert_int_equal(parse(&l, "S\n\nImage-Tag: " SHA_A "\nimage-tag: " SHA_R "\n"), 0);
	assert_string_equal(trailer_list_repeated(&l), "Image-Tag");
	trailer_list_release(&l);
}

static void test_parse_continuation(void **state)
{
	struct trailer_list l;

	assert_int_equal(parse(&l, "S\n\nNotes: first\n  second\n\tthird\nBreak-Glass: x\n"), 0);
	assert_int_equal(l.count, 2);
	assert_trailer(&l, 0, "Notes", "first second third");
	assert_trailer(&l, 1, "Break-Glass", "x");
	trailer_list_release(&l);
	/* space before the colon, trailing blanks */
	assert_int_equal(parse(&l, "S\n\nNotes :  spaced   \n"), 0);
	assert_trailer(&l, 0, "Notes", "spaced");
	trailer_list_release(&l);
}

/* libgit2 1.5 alone reads "Notes:\nStage: live" as one trailer Notes =
 * "Stage: live", while git shows a Stage: trailer. */
static void test_parse_empty_value_hides_nothing(void **state)
{
	struct trailer_list l;

	assert_int_equal(parse(&l, "S\n\nBreak-Glass:\nStage: live\n"), 0);
	assert_int_equal(l.count, 2);
	assert_trailer(&l, 0, "Break-Glass", "");
	assert_trailer(&l, 1, "Stage", "live");
	assert_string_equal(trailer_list_forged(&l), "Stage");
	trailer_list_release(&l);
	/* at the very end, without a newline */
	assert_int_equal(parse(&l, "S\n\nNotes: n\nBreak-Glass:"), 0);
	assert_int_equal(l.count, 2);
	assert_trailer(&l, 1, "Break-Glass", "");
	trailer_list_release(&l);
	/* an empty first line continued below */
	assert_int_equal(parse(&l, "S\n\nNotes:\n  continued here\n"), 0);
	assert_trailer(&l, 0, "Notes", "continued here");
	trailer_list_release(&l);
}

static void test_parse_divider_and_scissors(void **state)
{
	struct trailer_list l;
	struct buf err;
	const char *msg;

	/* git log shows "Stage: live" (no divider), interpret-trailers stops
	 * at "---": ambiguous, refused */
	buf_init(&err, 256);
	msg = "S\n\nbody\n---\n\nStage: live\n";
	assert_int_equal(trailer_parse(&l, msg, strlen(msg), &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "\"---\" line"));
	buf_release(&err);
	/* either side of the divider: git log and interpret-trailers disagree */
	assert_int_equal(parse(&l, "S\n\nNotes: x\n\n---\npatch\n"), ERR_INVALID);
	assert_int_equal(parse(&l, "S\n\n---\nbody\n\nNotes: x\n"), ERR_INVALID);
	/* a divider that changes nothing is fine; "----" is no divider */
	assert_int_equal(parse(&l, "S\n\n---\nbody\n"), 0);
	assert_int_equal(l.count, 0);
	trailer_list_release(&l);
	assert_int_equal(parse(&l, "S\n\nbody\n----\n\nNotes: x\n"), 0);
	assert_trailer(&l, 0, "Notes", "x");
	trailer_list_release(&l);
	/* git stops at a scissors line, so must we */
	assert_int_equal(parse(&l, "S\n\nStage: live\n"
			       "# ------------------------ >8 ------------------------\nfoo\n"), 0);
	assert_int_equal(l.count, 1);
	assert_string_equal(trailer_list_forged(&l), "Stage");
	trailer_list_release(&l);
}

/* A failed parse leaves an empty list, whatever out held before: every
 * caller may release it (poisoned here so that a list left untouched shows). */
static void assert_failed_empty(struct trailer_list *l)
{
	assert_null(l->items);
	assert_int_equal(l->count, 0);
	trailer_list_release(l);
}

static void poison(struct trailer_list *l)
{
	static struct trailer junk;

	l->items = &junk;
	l->count = 3;
}

/* A message of head and then one trailer more than allowed: ERR_TOOBIG,
 * said so, and an empty list. */
static void assert_too_many_trailers(struct buf *msg, struct buf *err, const char *head)
{
	struct trailer_list l;

	buf_reset(msg);
	assert_int_equal(buf_adds(msg, head), 0);
	for (int i = 0; i <= TRAILER_COUNT_MAX; i++)
		assert_int_equal(buf_printf(msg, "K%d: v\n", i), 0);
	poison(&l);
	assert_int_equal(trailer_parse(&l, msg->data, msg->len, err), ERR_TOOBIG);
	assert_non_null(strstr(err->data, "more than 128 trailers"));
	assert_failed_empty(&l);
}

static void test_parse_bounds(void **state)
{
	struct trailer_list l;
	struct buf err, big;
	char nul[] = "S\n\nNotes: a\0b\n";

	buf_init(&err, 256);
	poison(&l);
	assert_int_equal(trailer_parse(&l, nul, sizeof(nul) - 1, &err), ERR_INVALID);
	assert_string_equal(err.data, "commit message contains a NUL byte");
	assert_failed_empty(&l);

	buf_init(&big, 0);
	assert_int_equal(buf_adds(&big, "S\n\n"), 0);
	while (big.len <= TRAILER_MESSAGE_MAX)
		assert_int_equal(buf_adds(&big, "x"), 0);
	poison(&l);
	assert_int_equal(trailer_parse(&l, big.data, big.len, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.data, "more than the 65536 allowed"));
	assert_failed_empty(&l);

	assert_too_many_trailers(&big, &err, "S\n\n");
	/* too many trailers only in the reading without the "---" divider
	 * (found by fuzz_trailer: the second reading's list was released
	 * uninitialised, a free() of stack garbage) */
	assert_too_many_trailers(&big, &err, "S\n\nbody\n---\n\n");
	buf_release(&big);
	buf_release(&err);
}

static void test_keys(void **state)
{
	static const char *const daemon_only[] = {
		"Stage", "Source-Stage", "Image-Tag", "Requested-By", "Request",
		"Market", "Integration-Test", "Signed-By", "stage", "IMAGE-TAG",
		"Overrode", "overrode", "Rolled-Back-From", "rollback-allowance",
	};
	static const char *const others[] = {
		"Notes", "Break-Glass", "break-glass", "Rollback", "Signed-off-by", "Stages",
		"Requested", "", "Co-authored-by",
	};

	for (size_t i = 0; i < ARRAY_SIZE(daemon_only); i++) {
		assert_true(trailer_key_daemon_only(daemon_only[i]));
		assert_true(trailer_key_known(daemon_only[i]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		assert_false(trailer_key_daemon_only(others[i]));
	assert_true(trailer_key_known("notes"));
	assert_true(trailer_key_known("rollback"));
	assert_false(trailer_key_known("Signed-off-by"));
	assert_false(trailer_key_daemon_only(NULL));
}

static void test_forged(void **state)
{
	struct trailer_list l;

	assert_int_equal(parse(&l, "S\n\nNotes: n\nrequested-by: Mallory <m@x>\n"), 0);
	assert_string_equal(trailer_list_forged(&l), "requested-by");
	trailer_list_release(&l);
	assert_int_equal(parse(&l, "S\n\nNotes: n\nImage-Tag: " SHA_A "\n"), 0);
	assert_string_equal(trailer_list_forged(&l), "Image-Tag");
	trailer_list_release(&l);
	/* a request cannot claim which gates its Break-Glass: overrode */
	assert_int_equal(parse(&l, "S\n\nBreak-Glass: outage\nOverrode: soak\n"), 0);
	assert_string_equal(trailer_list_forged(&l), "Overrode");
	trailer_list_release(&l);
	/* only the trailer block counts: a body line is prose */
	assert_int_equal(parse(&l, "S\n\nStage: live is what we want\n\nNotes: n\n"), 0);
	assert_null(trailer_list_forged(&l));
	trailer_list_release(&l);
}

static void test_text_blank(void **state)
{
	assert_true(trailer_text_blank(NULL));
	assert_true(trailer_text_blank(""));
	assert_true(trailer_text_blank(" \t\r\n \x01\x7f"));
	assert_true(trailer_text_blank("\xc2\x9b "));
	assert_false(trailer_text_blank("  x "));
	assert_false(trailer_text_blank("\xc3\xa9"));
}

/* What looks blank to the person reading the request is blank, alone, in
 * runs and between ASCII spaces; one visible character among them is text. */
static void test_text_blank_unicode(void **state)
{
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(blank_texts); i++) {
		const char *t = blank_texts[i].text;

		snprintf(buf, sizeof(buf), " %s%s\t", t, t);
		if (!trailer_text_blank(t) || !trailer_text_blank(buf))
			fail_msg("\"%s\" counted as visible text", blank_texts[i].name);
		snprintf(buf, sizeof(buf), "%sok%s", t, t);
		if (trailer_text_blank(buf))
			fail_msg("\"%s\" around \"ok\" counted as blank", blank_texts[i].name);
	}
	/* visible text that is not ASCII */
	assert_false(trailer_text_blank("\xe6\x9c\xac"));		/* U+672C */
	assert_false(trailer_text_blank("\xf0\x9f\x94\xa5"));	/* U+1F525 */
	assert_false(trailer_text_blank("\xe2\x80\x94"));		/* U+2014 em dash */
	assert_false(trailer_text_blank("\xc2\xa1"));		/* U+00A1 */
	assert_false(trailer_text_blank("\xe2\x80\x90"));		/* U+2010 hyphen */
	assert_false(trailer_text_blank("\xe2\x81\xb0"));		/* U+2070 superscript 0 */
	assert_false(trailer_text_blank("\xe3\x80\x81"));		/* U+3001 */
	/* a truncated sequence at the end is not text */
	assert_true(trailer_text_blank("\xe3\x80"));
}

/* A Break-Glass: or Notes: made of those characters is read as a trailer
 * (git trims only ASCII blanks) whose value is blank. */
static void test_parse_unicode_blank(void **state)
{
	char msg[256];

	for (size_t i = 0; i < ARRAY_SIZE(blank_texts); i++) {
		struct trailer_list l;
		const char *bg;

		snprintf(msg, sizeof(msg), "promote\n\nNotes: n\nBreak-Glass: %s\n",
			 blank_texts[i].text);
		assert_int_equal(parse(&l, msg), 0);
		bg = trailer_list_get(&l, TRAILER_BREAK_GLASS);
		if (bg && !trailer_text_blank(bg))
			fail_msg("Break-Glass: \"%s\" read as visible text", blank_texts[i].name);
		trailer_list_release(&l);
	}
}

static void test_sanitize_value(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(trailer_sanitize_value(&b, "  a\r\nStage: live\t\x1b[31mred\xc2\x9b"
						"x  ", 100), 0);
	assert_string_equal(b.data, "a Stage: live [31mred x");
	buf_reset(&b);
	assert_int_equal(trailer_sanitize_value(&b, "12345", 4), ERR_TOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(trailer_sanitize_value(&b, "caf\xc3\xa9", 10), 0);
	assert_string_equal(b.data, "caf\xc3\xa9");
	buf_release(&b);
}

static struct trailer_promotion request(void)
{
	struct trailer_promotion p = {
		.stage = STAGE_PAPER,
		.source = STAGE_BETA,
		.image_tag = SHA_A,
		.requested_by = "Dana Dev <dana@example.com>",
		.request = SHA_R,
		.notes = "Risk limits per symbol.",
		.break_glass = "broker outage, hotfix",
		.market = "open, closes 16:00 EST",
		.integration_test = "passed 312/312",
		.signed_by = "dana@example.com",
	};
	return p;
}

static void test_format_request(void **state)
{
	struct trailer_promotion p = request();
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_string_equal(out.data,
		"promote paper: 0123456 from beta\n"
		"\n"
		"Risk limits per symbol.\n"
		"\n"
		"[skip ci]\n"
		"\n"
		"Stage: paper\n"
		"Source-Stage: beta\n"
		"Image-Tag: " SHA_A "\n"
		"Requested-By: Dana Dev <dana@example.com>\n"
		"Request: " SHA_R "\n"
		"Notes: Risk limits per symbol.\n"
		"Break-Glass: broker outage, hotfix\n"
		"Market: open, closes 16:00 EST\n"
		"Integration-Test: passed 312/312\n"
		"Signed-By: dana@example.com\n");
	buf_release(&out);
}

/* The gates Break-Glass overrode go right after it; never without it. */
static void test_format_overrode(void **state)
{
	struct trailer_promotion p = request();
	struct buf out;

	(void)state;
	p.overrode = "source-not-deployed, soak";
	p.market = "closed (after close)";
	buf_init(&out, 0);
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_non_null(strstr(out.data, "Break-Glass: broker outage, hotfix\n"
				   "Overrode: source-not-deployed, soak\n"
				   "Market: closed (after close)\n"));
	buf_reset(&out);
	p.break_glass = NULL;
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_null(strstr(out.data, "Overrode"));
	buf_release(&out);
}

/* Issue 14 item 4: a rollback's merge, with and without the allowance. */
static void test_format_rollback(void **state)
{
	struct trailer_promotion p = request();
	struct buf out, err;

	(void)state;
	p.break_glass = NULL;
	p.signed_by = NULL;
	p.rollback = "fills at stale\nprices";
	p.rolled_back_from = SHA_R;
	buf_init(&out, 0);
	buf_init(&err, 0);
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_non_null(strstr(out.data, "Notes: Risk limits per symbol.\n"
				   "Rollback: fills at stale prices\n"
				   "Rolled-Back-From: " SHA_R "\n"
				   "Market: open, closes 16:00 EST\n"));
	assert_null(strstr(out.data, "Overrode"));
	buf_reset(&out);
	p.rollback_allowance = true;
	p.overrode = "market-open";
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_non_null(strstr(out.data, "Notes: Risk limits per symbol.\n"
				   "Overrode: market-open\n"
				   "Rollback: fills at stale prices\n"
				   "Rolled-Back-From: " SHA_R "\n"
				   "Rollback-Allowance: rollbackDuringMarket = allow\n"));
	/* a rollback without what it replaced, or the reverse, is refused */
	buf_reset(&out);
	p.rolled_back_from = NULL;
	assert_int_equal(trailer_format_promotion(&out, &p, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "Rolled-Back-From"));
	p.rolled_back_from = "v1.2";
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), ERR_INVALID);
	p.rollback = NULL;
	p.rolled_back_from = NULL;
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), ERR_INVALID);	/* allowance */
	buf_release(&out);
	buf_release(&err);
}

/* The request pipelinectl rollback and the dashboard push. */
static void test_format_rollback_request(void **state)
{
	struct buf msg;

	(void)state;
	buf_init(&msg, 0);
	assert_int_equal(trailer_format_request(&msg, "paper", SHA_A, NULL, "INC-1",
						"fills\twrong"), 0);
	assert_string_equal(msg.data, "rollback paper: 0123456\n\nBreak-Glass: INC-1\n"
			    "Rollback: fills wrong\n");
	buf_reset(&msg);
	assert_int_equal(trailer_format_request(&msg, "paper", SHA_A, "n", NULL, NULL), 0);
	assert_string_equal(msg.data, "promote paper: 0123456\n\nNotes: n\n");
	buf_reset(&msg);
	assert_int_equal(trailer_format_request(&msg, "paper", SHA_A, NULL, NULL, " \t"),
			 ERR_INVALID);
	buf_release(&msg);
}

static void test_format_automatic(void **state)
{
	struct trailer_promotion p = {
		.stage = STAGE_BETA,
		.source = STAGE_INTTEST,
		.image_tag = SHA_A,
		.market = "closed (weekend)",
		.integration_test = "passed 312/312",
		.notes = " \n\t\n",
	};
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_string_equal(out.data,
		"promote beta: 0123456 from integration-test\n"
		"\n"
		"[skip ci]\n"
		"\n"
		"Stage: beta\n"
		"Source-Stage: integration-test\n"
		"Image-Tag: " SHA_A "\n"
		"Requested-By: pipelined (automatic)\n"
		"Market: closed (weekend)\n"
		"Integration-Test: passed 312/312\n");
	buf_release(&out);
}

/* Whatever the notes say, the message has exactly the daemon's trailers. */
static void assert_round_trip(const struct trailer_promotion *p, const char *notes_value,
			      const char *justification)
{
	struct buf out;
	struct trailer_list l;
	size_t i = 0;

	buf_init(&out, 0);
	assert_int_equal(trailer_format_promotion(&out, p, NULL), 0);
	assert_int_equal(trailer_parse(&l, out.data, out.len, NULL), 0);
	assert_trailer(&l, i++, "Stage", "paper");
	assert_trailer(&l, i++, "Source-Stage", "beta");
	assert_trailer(&l, i++, "Image-Tag", SHA_A);
	assert_trailer(&l, i++, "Requested-By", "Dana Dev <dana@example.com>");
	assert_trailer(&l, i++, "Request", SHA_R);
	if (notes_value)
		assert_trailer(&l, i++, "Notes", notes_value);
	if (justification)
		assert_trailer(&l, i++, "Break-Glass", justification);
	assert_trailer(&l, i++, "Market", "open, closes 16:00 EST");
	assert_trailer(&l, i++, "Integration-Test", "passed 312/312");
	assert_trailer(&l, i++, "Signed-By", "dana@example.com");
	assert_int_equal(l.count, i);
	assert_non_null(strstr(out.data, "\n\n[skip ci]\n\nStage: paper\n"));
	trailer_list_release(&l);
	buf_release(&out);
}

static void test_format_hostile_notes(void **state)
{
	struct trailer_promotion p = request();
	struct buf out;

	/* notes that end in a forged trailer block */
	p.notes = "Looks fine.\n\nStage: live\nImage-Tag: ffffffffffffffffffffffffffffffffffffffff\n";
	assert_round_trip(&p, "Looks fine. Stage: live Image-Tag: "
			  "ffffffffffffffffffffffffffffffffffffffff", "broker outage, hotfix");
	/* a patch divider and a scissors line would end the message for git */
	p.notes = "a\n---\nStage: live\n\n# ------------------------ >8 ------------------------\n"
		  "Stage: live\n";
	assert_round_trip(&p, "a --- Stage: live # ------------------------ >8 "
			  "------------------------ Stage: live", "broker outage, hotfix");
	/* CRLF, blank-line runs, trailing blanks, terminal escapes */
	p.notes = "\r\n\r\nline one  \r\n\r\n\r\n\r\n\tline two\x1b]0;pwn\x07\r\n\r\n";
	p.break_glass = "market\nStage: live\r\n";
	assert_round_trip(&p, "line one line two ]0;pwn", "market Stage: live");

	buf_init(&out, 0);
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_non_null(strstr(out.data, "\n\nline one\n\n\tline two ]0;pwn\n\n[skip ci]\n"));
	assert_null(strchr(out.data, '\r'));
	assert_null(strchr(out.data, '\x1b'));
	buf_reset(&out);
	p.notes = "# heading\n---\n----- rule\nok";
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_non_null(strstr(out.data, "\n\n # heading\n ---\n ----- rule\nok\n\n"));
	buf_release(&out);

	/* blank notes and justification leave their trailers out */
	p = request();
	p.notes = "";
	p.break_glass = "  \t";
	assert_round_trip(&p, NULL, NULL);
}

static void assert_format_fails(const struct trailer_promotion *p, int rc, const char *msg)
{
	struct buf out, err;

	buf_init(&out, 0);
	buf_init(&err, 256);
	assert_int_equal(buf_adds(&out, "keep"), 0);
	assert_int_equal(trailer_format_promotion(&out, p, &err), rc);
	assert_string_equal(out.data, "keep");
	assert_non_null(err.data);
	if (!strstr(err.data, msg))
		fail_msg("error \"%s\" does not contain \"%s\"", err.data, msg);
	buf_release(&out);
	buf_release(&err);
}

static void test_format_errors(void **state)
{
	struct trailer_promotion p = request();
	char big[TRAILER_NOTES_MAX + 2];

	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p.notes = big;
	assert_format_fails(&p, ERR_TOOBIG, "Notes: value is 4097 bytes, more than the 4096");
	big[TRAILER_NOTES_MAX] = '\0';
	assert_format_fails(&(struct trailer_promotion){ .stage = STAGE_PAPER,
		.source = STAGE_BETA, .image_tag = SHA_A, .market = "m",
		.integration_test = "i", .break_glass = big },
		ERR_TOOBIG, "Break-Glass: value is 4096 bytes, more than the 1024");

	p = request();
	p.image_tag = "latest";
	assert_format_fails(&p, ERR_INVALID, "Image-Tag: not a 40-hex release id");
	p = request();
	p.request = "abc";
	assert_format_fails(&p, ERR_INVALID, "Request: not a 40-hex commit id");
	p = request();
	p.source = STAGE_LIVE;
	assert_format_fails(&p, ERR_INVALID, "Source-Stage: live does not come before paper");
	p = request();
	p.stage = STAGE_INTTEST;
	p.source = STAGE_CI;
	assert_format_fails(&p, ERR_INVALID, "Stage: not a deploy stage");
	p = request();
	p.market = NULL;
	assert_format_fails(&p, ERR_INVALID, "Market: value is missing");
	p = request();
	p.requested_by = "\n\t";
	assert_format_fails(&p, ERR_INVALID, "Requested-By: value is blank");
	/* found by fuzz_trailer: a control then a byte that is not UTF-8 is
	 * blank to trailer_text_blank, so it must not become a value */
	p = request();
	p.requested_by = "\x03\xe7";
	assert_format_fails(&p, ERR_INVALID, "Requested-By: value is blank");
	p = request();
	p.requested_by = "\xe2\x80\x8b";	/* a lone zero-width space */
	assert_format_fails(&p, ERR_INVALID, "Requested-By: value is blank");
	p = request();
	p.integration_test = big;
	assert_format_fails(&p, ERR_TOOBIG, "Integration-Test: value is 4096 bytes");
}


/* Issue 14 item 3: Approved-By is daemon-only and the one key that
 * repeats; its value names the approver, the principal and the approval. */
static void test_approvals(void **state)
{
	static const char appr[] = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
	const char *by[2];
	char vals[2][TRAILER_VALUE_MAX + 1], principal[256], commit[41];
	struct trailer_promotion p = {
		.stage = STAGE_LIVE, .source = STAGE_PAPER, .image_tag = SHA_A,
		.requested_by = "Dana <dana@example.com>", .request = SHA_A,
		.market = "closed (weekend)", .integration_test = "disabled",
		.signed_by = "dana@example.com", .approved_by = by, .napproved = 2,
	};
	struct trailer_list l;
	struct buf out, v;

	assert_int_equal(parse(&l, "S\n\nNotes: n\nApproved-By: Eve <e@x> (principal e@x, "
			       "approval " SHA_A ")\n"), 0);
	assert_string_equal(trailer_list_forged(&l), "Approved-By");
	trailer_list_release(&l);
	assert_true(trailer_key_repeats("approved-by"));
	assert_false(trailer_key_repeats("Notes"));
	assert_false(trailer_key_daemon_only("Approves"));

	buf_init(&v, 0);
	assert_int_equal(trailer_format_approved_by(&v, "Rita\nStage: live", "rita@example.com",
						    "rita@example.com", appr), 0);
	assert_string_equal(v.data, "Rita Stage: live <rita@example.com> (principal "
			    "rita@example.com, approval abcdefabcdefabcdefabcdefabcdefabcdefabcd)");
	assert_int_equal(trailer_parse_approved_by(principal, sizeof principal, commit, v.data), 0);
	assert_string_equal(principal, "rita@example.com");
	assert_string_equal(commit, appr);
	strlcpy_(vals[0], v.data, sizeof vals[0]);
	buf_release(&v);
	assert_int_equal(trailer_format_approved_by(&v, "Ops", "ops@example.com", "a b", appr),
			 ERR_INVALID);
	assert_int_equal(trailer_format_approved_by(&v, "Ops", "ops@example.com", "ops", "abc"),
			 ERR_INVALID);
	assert_int_equal(trailer_parse_approved_by(principal, sizeof principal, commit,
						   "Ops <o@x> (principal o@x)"), ERR_INVALID);
	assert_int_equal(trailer_parse_approved_by(principal, sizeof principal, commit,
						   "Ops <o@x> (principal o@x, approval 12)"),
			 ERR_INVALID);
	buf_release(&v);
	snprintf(vals[1], sizeof vals[1], "Ops <ops@example.com> (principal ops, approval %s)",
		 appr);
	by[0] = vals[0];
	by[1] = vals[1];

	/* the promotion carries both; the repeat is not ambiguous */
	buf_init(&out, 0);
	assert_int_equal(trailer_format_promotion(&out, &p, NULL), 0);
	assert_non_null(strstr(out.data, "Signed-By: dana@example.com\nApproved-By: Rita Stage: "
				   "live <rita@example.com> (principal rita@example.com, approval "
				   "abcdefabcdefabcdefabcdefabcdefabcdefabcd)\nApproved-By: Ops "));
	assert_int_equal(parse(&l, out.data), 0);
	assert_int_equal(trailer_list_count(&l, "Approved-By"), 2);
	assert_null(trailer_list_repeated(&l));
	trailer_list_release(&l);
	buf_release(&out);

	/* the approval commit's message */
	buf_init(&out, 0);
	assert_int_equal(trailer_format_approval(&out, "live", appr), 0);
	assert_string_equal(out.data, "approve live: abcdefa\n\nApproves: " "abcdefabcdefabcdefabcdefabcdefabcdefabcd\n");
	buf_release(&out);
	assert_int_equal(trailer_format_approval(&out, "ci", appr), ERR_INVALID);
	assert_int_equal(trailer_format_approval(&out, "live", "HEAD"), ERR_INVALID);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_no_block),
		cmocka_unit_test(test_parse_crlf),
		cmocka_unit_test(test_parse_case_and_repeats),
		cmocka_unit_test(test_parse_continuation),
		cmocka_unit_test(test_parse_empty_value_hides_nothing),
		cmocka_unit_test(test_parse_divider_and_scissors),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_format_overrode),
		cmocka_unit_test(test_text_blank),
		cmocka_unit_test(test_text_blank_unicode),
		cmocka_unit_test(test_parse_unicode_blank),
		cmocka_unit_test(test_sanitize_value),
		cmocka_unit_test(test_format_request),
		cmocka_unit_test(test_format_automatic),
		cmocka_unit_test(test_format_rollback),
		cmocka_unit_test(test_format_rollback_request),
		cmocka_unit_test(test_format_hostile_notes),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_approvals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
