/* Unit tests for clock.c and nyse_rules.c: POSIX TZ rules, the TZif
 * footer, the NYSE rules (Easter, weekend observance, New Year's Day on a
 * Saturday), the calendar parser and its exceptions over the rules, the
 * market window (DST switches, holidays, early closes, weekends, next
 * open/close), formatting, RFC 3339, and a property test of
 * the rule evaluator against glibc's localtime_r (TZ is set in this test
 * binary only; the daemon never does that). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock_load.h"
#include "nyse_rules.h"
#include "sysio.h"

static struct calendar nyse;
static struct tz_rule ny;
static const struct market_hours hours = { CLOCK_DEFAULT_OPEN, CLOCK_DEFAULT_CLOSE };

static time_t at(const char *s)
{
	struct buf err = BUF_INIT;
	time_t t = 0;

	if (clock_parse_rfc3339(&t, s, &err))
		fail_msg("bad test time %s: %s", s, err.data);
	buf_release(&err);
	return t;
}

static int setup(void **state)
{
	const char *src = getenv("SRCDIR");
	struct buf path = BUF_INIT, data, err = BUF_INIT;
	int rc;

	buf_printf(&path, "%s/data/nyse.calendar", src ? src : ".");
	if (file_read(&data, path.data, CAL_FILE_MAX)) {
		fprintf(stderr, "cannot read %s (set SRCDIR)\n", path.data);
		return -1;
	}
	rc = calendar_parse(&nyse, data.data, data.len, path.data, &err);
	if (rc)
		fprintf(stderr, "%s", err.data);
	if (!rc)
		rc = tz_rule_parse(&ny, CLOCK_BUILTIN_TZ, &err);
	buf_release(&data);
	buf_release(&path);
	buf_release(&err);
	return rc;
}

static int teardown(void **state)
{
	calendar_release(&nyse);
	return 0;
}

/* ---- POSIX TZ rules ---------------------------------------------------- */

static void test_rule_parse_good(void **state)
{
	struct tz_rule r;

	assert_int_equal(tz_rule_parse(&r, "EST5EDT,M3.2.0,M11.1.0", NULL), 0);
	assert_string_equal(r.std_name, "EST");
	assert_string_equal(r.dst_name, "EDT");
	assert_int_equal(r.std_off, -18000);
	assert_int_equal(r.dst_off, -14400);
	assert_true(r.has_dst);
	assert_int_equal(r.start.kind, TZ_DATE_MWD);
	assert_int_equal(r.start.month, 3);
	assert_int_equal(r.start.week, 2);
	assert_int_equal(r.start.wday, 0);
	assert_int_equal(r.start.secs, 7200);
	assert_int_equal(r.end.month, 11);

	assert_int_equal(tz_rule_parse(&r, "<-03>3", NULL), 0);
	assert_string_equal(r.std_name, "-03");
	assert_int_equal(r.std_off, -10800);
	assert_false(r.has_dst);

	assert_int_equal(tz_rule_parse(&r, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", NULL), 0);
	assert_int_equal(r.std_off, 37800);
	assert_int_equal(r.dst_off, 39600);

	assert_int_equal(tz_rule_parse(&r, "CET-1CEST,M3.5.0,M10.5.0/3", NULL), 0);
	assert_int_equal(r.std_off, 3600);
	assert_int_equal(r.end.week, 5);
	assert_int_equal(r.end.secs, 3 * 3600);

	assert_int_equal(tz_rule_parse(&r, "<-04>4<-03>,M9.1.6/24,M4.1.6/24", NULL), 0);
	assert_int_equal(r.start.secs, 24 * 3600);

	assert_int_equal(tz_rule_parse(&r, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", NULL), 0);
	assert_int_equal(r.start.secs, -3600);

	assert_int_equal(tz_rule_parse(&r, "XST3XDT,J60/1:30,300/4:05:06", NULL), 0);
	assert_int_equal(r.start.kind, TZ_DATE_JULIAN1);
	assert_int_equal(r.start.yday, 60);
	assert_int_equal(r.start.secs, 5400);
	assert_int_equal(r.end.kind, TZ_DATE_JULIAN0);
	assert_int_equal(r.end.yday, 300);
	assert_int_equal(r.end.secs, 4 * 3600 + 5 * 60 + 6);

	assert_int_equal(tz_rule_parse(&r, "IST-1GMT0,M10.5.0,M3.5.0/1", NULL), 0);
	assert_int_equal(r.std_off, 3600);
	assert_int_equal(r.dst_off, 0);

	/* DST without dates: the US rules, as tzcode and glibc assume. */
	assert_int_equal(tz_rule_parse(&r, "EST5EDT", NULL), 0);
	assert_true(r.has_dst);
	assert_int_equal(r.start.month, 3);
	assert_int_equal(r.end.month, 11);
	assert_int_equal(tz_rule_parse(&r, "PST+8PDT+7,M3.2.0/2:00:00,M11.1.0/02:00", NULL), 0);
	assert_int_equal(r.dst_off, -7 * 3600);
}

static void test_rule_parse_bad(void **state)
{
	static const char *bad[] = {
		"", "ES5", "EST", "EST-", "EST25", "EST5:60", "<AB>3", "<ABC3", "<A_C>3",
		"EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M0.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,M3.0.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,M3.2.0",
		"EST5EDT,M3.2.0,", "EST5EDT,M3.2.0,M11.1.0,", "EST5EDT,J0,J365",
		"EST5EDT,366,1", "EST5EDT,M3.2.0/168,M11.1.0", "EST5EDT,M3.2.0/,M11.1.0",
		"EST5EDT;M3.2.0,M11.1.0", "EST5EDT,M3.2.0,M11.1.0 ", "EST5EDT,M3..0,M11.1.0",
		"EST5ED4", "EST5EDT,M3.2.0,M11.1.0junk", "TOOLONGZONENAMEXX5",
	};
	struct tz_rule r, before;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buf err = BUF_INIT;

		if (tz_rule_parse(&r, bad[i], &err) != ERR_INVALID)
			fail_msg("accepted bad rule '%s'", bad[i]);
		assert_non_null(strstr(err.data, "invalid TZ rule"));
		assert_non_null(strstr(err.data, bad[i]));
		assert_memory_equal(&r, &before, sizeof(r));
		buf_release(&err);
	}
	{
		struct buf err = BUF_INIT;

		assert_int_equal(tz_rule_parse(&r, "EST5EDT,M3.2.0", &err), ERR_INVALID);
		assert_string_equal(err.data, "invalid TZ rule 'EST5EDT,M3.2.0': bad DST end date "
					      "(Mm.w.d, Jn or n, optional /time)");
		buf_release(&err);
	}
}

static void test_transitions_2026(void **state)
{
	static const struct {
		const char *t;
		int32_t off;
		const char *abbr;
	} cases[] = {
		{ "2026-03-08T06:59:59Z", -18000, "EST" },
		{ "2026-03-08T07:00:00Z", -14400, "EDT" },
		{ "2026-11-01T05:59:59Z", -14400, "EDT" },
		{ "2026-11-01T06:00:00Z", -18000, "EST" },
		{ "2026-07-01T00:00:00Z", -14400, "EDT" },
		{ "2026-12-31T23:59:59Z", -18000, "EST" },
		{ "2040-03-11T07:00:00Z", -14400, "EDT" },	/* beyond the TZif table */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		time_t t = at(cases[i].t);

		if (tz_rule_offset(&ny, t, NULL) != cases[i].off)
			fail_msg("%s: offset %d, expected %d", cases[i].t,
				 tz_rule_offset(&ny, t, NULL), cases[i].off);
		assert_string_equal(tz_rule_abbrev(&ny, t), cases[i].abbr);
	}
	{
		struct tm tm;
		int32_t off;

		/* 01:59:59 EST is followed by 03:00:00 EDT. */
		assert_int_equal(tz_rule_localtime(&tm, &off, &ny, at("2026-03-08T07:00:00Z")), 0);
		assert_int_equal(tm.tm_hour, 3);
		assert_int_equal(tm.tm_min, 0);
		/* 01:59:59 EDT is followed by 01:00:00 EST. */
		assert_int_equal(tz_rule_localtime(&tm, &off, &ny, at("2026-11-01T06:00:00Z")), 0);
		assert_int_equal(tm.tm_hour, 1);
		assert_int_equal(off, -18000);
		/* Absurd instants are refused, not overflowed. */
		assert_int_equal(tz_rule_localtime(&tm, &off, &ny, (time_t)INT64_MAX), ERR_INVALID);
		assert_int_equal(tz_rule_localtime(&tm, &off, &ny, (time_t)INT64_MIN), ERR_INVALID);
		assert_int_equal(tz_rule_offset(&ny, (time_t)INT64_MAX, NULL), -18000);
	}
}

/* RFC 8536 3.3.1: "EST5EDT,0/0,J365/25" is permanent daylight time; its
 * end each year coincides with the next start and must not flip to EST. */
static void test_permanent_dst(void **state)
{
	static const char *when[] = {
		"2026-01-01T05:00:00Z", "2026-01-01T04:59:59Z", "2026-01-01T05:00:01Z",
		"2026-07-01T12:00:00Z", "2028-12-31T23:00:00Z", "2029-01-01T05:00:00Z",
	};
	struct tz_rule r;

	assert_int_equal(tz_rule_parse(&r, "EST5EDT,0/0,J365/25", NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(when); i++)
		if (tz_rule_offset(&r, at(when[i]), NULL) != -14400)
			fail_msg("%s: not EDT", when[i]);
}

/* ---- TZif footer ------------------------------------------------------- */

/* A minimal TZif v2 file: one type, four abbreviation bytes (which may hold
 * a newline, to prove the footer is found by walking the headers). */
static size_t make_tzif(unsigned char *out, char version, const char *chars4, const char *footer)
{
	size_t n = 0;

	for (int block = 0; block < 2; block++) {
		memset(out + n, 0, 44);
		memcpy(out + n, "TZif", 4);
		out[n + 4] = (unsigned char)version;
		out[n + 39] = 1;	/* typecnt */
		out[n + 43] = 4;	/* charcnt */
		n += 44;
		memset(out + n, 0, 6);
		n += 6;
		memcpy(out + n, chars4, 4);
		n += 4;
	}
	if (footer) {
		memcpy(out + n, footer, strlen(footer));
		n += strlen(footer);
	}
	return n;
}

static void test_tzif_footer(void **state)
{
	unsigned char f[512];
	char out[64];
	size_t n;
	struct buf err = BUF_INIT;

	n = make_tzif(f, '2', "E\nT\n", "\nEST5EDT,M3.2.0,M11.1.0\n");
	assert_int_equal(tz_tzif_footer(out, sizeof(out), f, n, &err), 0);
	assert_string_equal(out, "EST5EDT,M3.2.0,M11.1.0");

	n = make_tzif(f, '3', "ABC", "\n<-03>3\n");
	assert_int_equal(tz_tzif_footer(out, sizeof(out), f, n, &err), 0);
	assert_string_equal(out, "<-03>3");

	n = make_tzif(f, '2', "ABC", "\n\n");
	assert_int_equal(tz_tzif_footer(out, sizeof(out), f, n, &err), ERR_NOTFOUND);

	static const struct {
		char version;
		const char *footer;
		size_t cut;
		const char *msg;
	} bad[] = {
		{ '\0', "\nEST5\n", 0, "version 1 file has no footer rule" },
		{ '1', "\nEST5\n", 0, "unknown version" },
		{ '2', "\nEST5", 0, "unterminated footer" },
		{ '2', "EST5\n", 0, "missing footer" },
		{ '2', "", 0, "missing footer" },
		{ '2', "\nES\tT5\n", 0, "footer is not printable text" },
		{ '2', "\nEST5EDT,M3.2.0,M11.1.0\n", 30, "truncated or missing version 2 block" },
		{ '2', "\nEST5EDT,M3.2.0,M11.1.0\n", 80, "truncated version 1 block" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		buf_reset(&err);
		n = make_tzif(f, bad[i].version, "ABC", bad[i].footer);
		if (bad[i].cut)
			n -= bad[i].cut;
		assert_int_equal(tz_tzif_footer(out, sizeof(out), f, n, &err), ERR_INVALID);
		if (!strstr(err.data, bad[i].msg))
			fail_msg("case %zu: '%s', expected '%s'", i, err.data, bad[i].msg);
	}
	buf_reset(&err);
	assert_int_equal(tz_tzif_footer(out, sizeof(out), "TZi", 3, &err), ERR_INVALID);
	assert_string_equal(err.data, "bad TZif data: not a TZif file");
	/* A footer longer than the caller's buffer is refused, not cut. */
	n = make_tzif(f, '2', "ABC", "\nEST5EDT,M3.2.0,M11.1.0\n");
	assert_int_equal(tz_tzif_footer(out, 8, f, n, NULL), ERR_INVALID);
	/* Huge counts must not overflow into a bogus in-bounds offset. */
	n = make_tzif(f, '2', "ABC", "\nEST5\n");
	memset(f + 32, 0xff, 4);
	assert_int_equal(tz_tzif_footer(out, sizeof(out), f, n, NULL), ERR_INVALID);
	buf_release(&err);
}

static void test_tzif_system_file(void **state)
{
	struct buf data, err = BUF_INIT;
	struct tz_rule r;
	char footer[128];

	if (file_read(&data, "/usr/share/zoneinfo/America/New_York", 1 << 20)) {
		skip();
		return;
	}
	assert_int_equal(tz_tzif_footer(footer, sizeof(footer), data.data, data.len, &err), 0);
	assert_int_equal(tz_rule_parse(&r, footer, &err), 0);
	assert_string_equal(r.std_name, "EST");
	assert_int_equal(r.std_off, -18000);
	buf_release(&data);
	buf_release(&err);
}

/* ---- the window: DST switches --------------------------------------- */

static void expect_window(const char *t, bool open, enum window_reason reason, const char *name)
{
	struct window w;

	assert_int_equal(clock_window(&w, at(t), &ny, &nyse, &hours), 0);
	if (w.open != open || w.reason != reason)
		fail_msg("%s: open=%d reason=%s, expected open=%d reason=%s", t, w.open,
			 clock_reason_code(w.reason), open, clock_reason_code(reason));
	if (name && strcmp(w.day_name, name) != 0)
		fail_msg("%s: day '%s', expected '%s'", t, w.day_name, name);
}

/* Every minute from 09:20 to 09:40 and 15:50 to 16:10 local on a day whose
 * UTC offset is given independently of the code under test. */
static void minute_sweep(int y, int m, int d, int offset_hours, int close_min)
{
	time_t midnight_utc;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };

	midnight_utc = timegm(&tm) - (time_t)offset_hours * 3600;
	for (int lm = 9 * 60 + 20; lm <= 16 * 60 + 10; lm++) {
		struct window w;
		bool want;

		if (lm > 9 * 60 + 40 && lm < close_min - 10)
			continue;
		want = lm >= 9 * 60 + 30 && lm < close_min;
		assert_int_equal(clock_window(&w, midnight_utc + lm * 60, &ny, &nyse, &hours), 0);
		if (w.open != want)
			fail_msg("%04d-%02d-%02d %02d:%02d local: open=%d", y, m, d, lm / 60, lm % 60,
				 w.open);
		assert_int_equal(w.local.tm_hour * 60 + w.local.tm_min, lm);
		assert_int_equal(w.utc_offset, offset_hours * 3600);
	}
}

static void test_dst_truth_table(void **state)
{
	/* Spring: Sunday 2026-03-08; the first weekday after is Monday 03-09. */
	expect_window("2026-03-09T13:29:00Z", false, WINDOW_BEFORE_OPEN, NULL);
	expect_window("2026-03-09T13:29:59Z", false, WINDOW_BEFORE_OPEN, NULL);
	expect_window("2026-03-09T13:30:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-03-09T19:59:59Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-03-09T20:00:00Z", false, WINDOW_AFTER_CLOSE, NULL);
	/* The Friday before, still EST: 13:30Z is 08:30 local. */
	expect_window("2026-03-06T13:30:00Z", false, WINDOW_BEFORE_OPEN, NULL);
	expect_window("2026-03-06T14:30:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-03-06T20:30:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-03-06T21:00:00Z", false, WINDOW_AFTER_CLOSE, NULL);
	/* Autumn: Sunday 2026-11-01; Monday 11-02 is back on EST. */
	expect_window("2026-11-02T13:30:00Z", false, WINDOW_BEFORE_OPEN, NULL);
	expect_window("2026-11-02T14:29:00Z", false, WINDOW_BEFORE_OPEN, NULL);
	expect_window("2026-11-02T14:30:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-11-02T20:59:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-11-02T21:00:00Z", false, WINDOW_AFTER_CLOSE, NULL);
	expect_window("2026-10-30T13:30:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2026-10-30T20:00:00Z", false, WINDOW_AFTER_CLOSE, NULL);
	/* The switching Sundays themselves are weekends, at every hour. */
	expect_window("2026-03-08T06:59:59Z", false, WINDOW_WEEKEND, NULL);
	expect_window("2026-03-08T07:00:00Z", false, WINDOW_WEEKEND, NULL);
	expect_window("2026-11-01T06:00:00Z", false, WINDOW_WEEKEND, NULL);

	minute_sweep(2026, 3, 6, -5, 16 * 60);
	minute_sweep(2026, 3, 9, -4, 16 * 60);
	minute_sweep(2026, 3, 10, -4, 16 * 60);
	minute_sweep(2026, 10, 30, -4, 16 * 60);
	minute_sweep(2026, 11, 2, -5, 16 * 60);
	minute_sweep(2026, 11, 3, -5, 16 * 60);
}

/* ---- holidays, early closes, weekends ------------------------------- */

static void test_holidays_2026(void **state)
{
	/* 17:00Z is 12:00 EST or 13:00 EDT: inside any regular session. */
	static const struct {
		const char *t, *name;
	} h[] = {
		{ "2026-01-01T17:00:00Z", "New Year's Day" },
		{ "2026-01-19T17:00:00Z", "Martin Luther King, Jr. Day" },
		{ "2026-02-16T17:00:00Z", "Washington's Birthday" },
		{ "2026-04-03T17:00:00Z", "Good Friday" },
		{ "2026-05-25T17:00:00Z", "Memorial Day" },
		{ "2026-06-19T17:00:00Z", "Juneteenth National Independence Day" },
		{ "2026-07-03T17:00:00Z", "Independence Day (observed)" },
		{ "2026-09-07T17:00:00Z", "Labor Day" },
		{ "2026-11-26T17:00:00Z", "Thanksgiving Day" },
		{ "2026-12-25T17:00:00Z", "Christmas Day" },
		/* spot checks for the later years */
		{ "2027-03-26T17:00:00Z", "Good Friday" },
		{ "2027-06-18T17:00:00Z", "Juneteenth National Independence Day (observed)" },
		{ "2027-07-05T17:00:00Z", "Independence Day (observed)" },
		{ "2027-12-24T17:00:00Z", "Christmas Day (observed)" },
		{ "2028-06-19T17:00:00Z", "Juneteenth National Independence Day" },
		{ "2028-07-04T17:00:00Z", "Independence Day" },
		{ "2028-11-23T17:00:00Z", "Thanksgiving Day" },
		{ "2028-12-25T17:00:00Z", "Christmas Day" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(h); i++)
		expect_window(h[i].t, false, WINDOW_HOLIDAY, h[i].name);
	/* Every 2026 holiday is closed all day: no minute of it is open. */
	int count = 0;
	struct cal_day rules[NYSE_YEAR_MAX];
	size_t n = nyse_rules_year(rules, 2026);

	for (size_t i = 0; i < n; i++) {
		int64_t y;
		int m, d;

		clock_civil_from_days(&y, &m, &d, rules[i].day);
		if (rules[i].close_min >= 0)
			continue;
		count++;
		minute_sweep((int)y, m, d, (m > 3 && m < 11) ? -4 : -5, -1);
	}
	assert_int_equal(count, 10);
	assert_int_equal(nyse.n, 2);	/* the shipped file: two days of mourning */

	/* Observed-holiday traps: these are ordinary sessions. */
	expect_window("2027-12-31T17:00:00Z", true, WINDOW_SESSION, "");	/* no NYD 2028 */
	expect_window("2026-07-02T19:59:00Z", true, WINDOW_SESSION, "");	/* full day */
	expect_window("2027-07-02T19:59:00Z", true, WINDOW_SESSION, "");
	expect_window("2027-12-23T20:59:00Z", true, WINDOW_SESSION, "");
	expect_window("2026-11-25T20:59:00Z", true, WINDOW_SESSION, "");
	expect_window("2026-12-31T20:59:00Z", true, WINDOW_SESSION, "");
}

static void test_early_closes(void **state)
{
	static const struct {
		int y, m, d, off;
		const char *name;
	} e[] = {
		{ 2026, 11, 27, -5, "Day after Thanksgiving" },
		{ 2026, 12, 24, -5, "Christmas Eve" },
		{ 2027, 11, 26, -5, "Day after Thanksgiving" },
		{ 2028, 7, 3, -4, "Day before Independence Day" },
		{ 2028, 11, 24, -5, "Day after Thanksgiving" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		minute_sweep(e[i].y, e[i].m, e[i].d, e[i].off, 13 * 60);
	expect_window("2026-11-27T14:29:00Z", false, WINDOW_BEFORE_OPEN, NULL);
	expect_window("2026-11-27T14:30:00Z", true, WINDOW_EARLY_SESSION, "Day after Thanksgiving");
	expect_window("2026-11-27T17:59:59Z", true, WINDOW_EARLY_SESSION, NULL);
	expect_window("2026-11-27T18:00:00Z", false, WINDOW_AFTER_EARLY_CLOSE,
		      "Day after Thanksgiving");
	expect_window("2026-11-27T18:01:00Z", false, WINDOW_AFTER_EARLY_CLOSE, NULL);
	expect_window("2026-12-24T17:59:00Z", true, WINDOW_EARLY_SESSION, "Christmas Eve");
	expect_window("2026-12-24T18:00:00Z", false, WINDOW_AFTER_EARLY_CLOSE, "Christmas Eve");
	expect_window("2028-07-03T16:59:00Z", true, WINDOW_EARLY_SESSION, NULL);
	expect_window("2028-07-03T17:00:00Z", false, WINDOW_AFTER_EARLY_CLOSE, NULL);
}

static void test_weekends(void **state)
{
	expect_window("2026-03-07T15:00:00Z", false, WINDOW_WEEKEND, "");
	expect_window("2026-03-08T15:00:00Z", false, WINDOW_WEEKEND, "");
	expect_window("2026-11-28T17:00:00Z", false, WINDOW_WEEKEND, "");
	/* Friday 23:30 local is already Saturday in UTC: still "after close". */
	expect_window("2026-11-21T04:30:00Z", false, WINDOW_AFTER_CLOSE, "");
	/* Sunday 23:59 local is Monday 04:59Z: still weekend. */
	expect_window("2026-11-30T04:59:00Z", false, WINDOW_WEEKEND, "");
	expect_window("2026-11-30T05:00:00Z", false, WINDOW_BEFORE_OPEN, "");
	/* 2028-01-01 (New Year's Day on a Saturday) is just a weekend. */
	expect_window("2028-01-01T17:00:00Z", false, WINDOW_WEEKEND, "");
}

/* ---- next open / next close ----------------------------------------- */

static void test_next_changes(void **state)
{
	static const struct {
		const char *now, *next_open, *next_close;
		bool open;
	} c[] = {
		/* Friday after close, across the spring switch, to Monday 09:30 EDT */
		{ "2026-03-06T21:30:00Z", "2026-03-09T13:30:00Z", "2026-03-09T20:00:00Z", false },
		/* Friday after close, across the autumn switch */
		{ "2026-10-30T21:00:00Z", "2026-11-02T14:30:00Z", "2026-11-02T21:00:00Z", false },
		/* Wednesday before Thanksgiving: open, then closed until Friday */
		{ "2026-11-25T15:00:00Z", "2026-11-27T14:30:00Z", "2026-11-25T21:00:00Z", true },
		{ "2026-11-25T21:30:00Z", "2026-11-27T14:30:00Z", "2026-11-27T18:00:00Z", false },
		/* the early close itself, then the weekend */
		{ "2026-11-27T15:00:00Z", "2026-11-30T14:30:00Z", "2026-11-27T18:00:00Z", true },
		/* Christmas Eve early close, Christmas, weekend */
		{ "2026-12-24T15:00:00Z", "2026-12-28T14:30:00Z", "2026-12-24T18:00:00Z", true },
		/* Thursday before Good Friday to Monday */
		{ "2026-04-02T20:00:00Z", "2026-04-06T13:30:00Z", "2026-04-06T20:00:00Z", false },
		/* New Year's Eve to the first session of 2027 (Jan 1 is a Friday holiday) */
		{ "2026-12-31T22:00:00Z", "2027-01-04T14:30:00Z", "2027-01-04T21:00:00Z", false },
		/* Before open on a weekday: today */
		{ "2026-03-09T12:00:00Z", "2026-03-09T13:30:00Z", "2026-03-09T20:00:00Z", false },
		/* Sunday to Monday (Juneteenth 2028 is a Monday holiday) */
		{ "2028-06-18T12:00:00Z", "2028-06-20T13:30:00Z", "2028-06-20T20:00:00Z", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct window w;
		time_t now = at(c[i].now);

		assert_int_equal(clock_window(&w, now, &ny, &nyse, &hours), 0);
		if (w.open != c[i].open || w.next_open != at(c[i].next_open) ||
		    w.next_close != at(c[i].next_close)) {
			char o[40], cl[40];

			clock_format_rfc3339(o, sizeof(o), w.next_open, 0, true);
			clock_format_rfc3339(cl, sizeof(cl), w.next_close, 0, true);
			fail_msg("%s: open=%d next_open=%s next_close=%s", c[i].now, w.open, o, cl);
		}
		assert_int_equal(w.next_change, w.open ? w.next_close : w.next_open);
	}
}

static void test_beyond_calendar(void **state)
{
	struct window w;

	assert_int_equal(clock_window(&w, at("2028-12-29T17:00:00Z"), &ny, &nyse, &hours), 0);
	assert_false(w.beyond_calendar);
	/* Thanksgiving 2029: past the file's years the rules still close it;
	 * only the announced exceptions are unknown. */
	assert_int_equal(clock_window(&w, at("2029-11-22T17:00:00Z"), &ny, &nyse, &hours), 0);
	assert_true(w.beyond_calendar);
	assert_false(w.open);
	assert_int_equal(w.reason, WINDOW_HOLIDAY);
	assert_string_equal(w.day_name, "Thanksgiving Day");
	assert_int_equal(w.next_close, at("2029-11-23T18:00:00Z"));	/* 13:00 EST */
	/* 2028-12-31 (Sunday) evening in New York: New Year's Day 2029 is a
	 * Monday holiday, so the next session is Tuesday. */
	assert_int_equal(clock_window(&w, at("2029-01-01T00:00:00Z"), &ny, &nyse, &hours), 0);
	assert_false(w.beyond_calendar);	/* still 2028-12-31 in New York */
	assert_int_equal(w.next_open, at("2029-01-02T14:30:00Z"));
	assert_int_equal(clock_window(&w, at("2017-12-29T17:00:00Z"), &ny, &nyse, &hours), 0);
	assert_true(w.beyond_calendar);
	assert_true(w.open);
	/* No calendar at all: the rules, every day beyond the calendar. */
	assert_int_equal(clock_window(&w, at("2026-11-26T17:00:00Z"), &ny, NULL, &hours), 0);
	assert_true(w.beyond_calendar);
	assert_false(w.open);
	assert_string_equal(w.day_name, "Thanksgiving Day");
	assert_int_equal(clock_window(&w, at("2026-11-25T17:00:00Z"), &ny, NULL, &hours), 0);
	assert_true(w.open);
}

/* ---- the NYSE rules ---------------------------------------------------- */

static void test_easter(void **state)
{
	/* Western Easter Sundays 2000-2030, and the extremes of the cycle. */
	static const struct {
		int y, m, d;
	} c[] = {
		{ 2000, 4, 23 }, { 2001, 4, 15 }, { 2002, 3, 31 }, { 2003, 4, 20 }, { 2004, 4, 11 },
		{ 2005, 3, 27 }, { 2006, 4, 16 }, { 2007, 4, 8 },  { 2008, 3, 23 }, { 2009, 4, 12 },
		{ 2010, 4, 4 },  { 2011, 4, 24 }, { 2012, 4, 8 },  { 2013, 3, 31 }, { 2014, 4, 20 },
		{ 2015, 4, 5 },  { 2016, 3, 27 }, { 2017, 4, 16 }, { 2018, 4, 1 },  { 2019, 4, 21 },
		{ 2020, 4, 12 }, { 2021, 4, 4 },  { 2022, 4, 17 }, { 2023, 4, 9 },  { 2024, 3, 31 },
		{ 2025, 4, 20 }, { 2026, 4, 5 },  { 2027, 3, 28 }, { 2028, 4, 16 }, { 2029, 4, 1 },
		{ 2030, 4, 21 },
		{ 1818, 3, 22 }, { 2285, 3, 22 },	/* earliest possible */
		{ 1943, 4, 25 }, { 2038, 4, 25 },	/* latest possible */
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		int m, d;

		nyse_easter(&m, &d, c[i].y);
		if (m != c[i].m || d != c[i].d)
			fail_msg("Easter %d: %02d-%02d, expected %02d-%02d", c[i].y, m, d, c[i].m,
				 c[i].d);
	}
}

/* What the rules alone say about y-m-d: "closed NAME", "close HH:MM NAME"
 * or "" for a day they leave alone. */
static const char *rule_of(int y, int m, int d)
{
	static char out[CAL_NAME_MAX + 32];
	struct cal_day e;

	out[0] = '\0';
	if (!nyse_rules_day(&e, clock_days_from_civil(y, m, d)))
		return out;
	if (e.close_min == CAL_CLOSED)
		snprintf(out, sizeof(out), "closed %s", e.name);
	else
		snprintf(out, sizeof(out), "close %02d:%02d %s", e.close_min / 60, e.close_min % 60,
			 e.name);
	return out;
}

static void test_rules_weekend_observance(void **state)
{
	static const struct {
		int y, m, d;
		const char *want;
	} c[] = {
		/* Independence Day: Saturday -> Friday, Sunday -> Monday */
		{ 2026, 7, 3, "closed Independence Day (observed)" },
		{ 2026, 7, 2, "" },	/* no early close before an observed Friday */
		{ 2020, 7, 3, "closed Independence Day (observed)" },
		{ 2020, 7, 2, "" },
		{ 2027, 7, 5, "closed Independence Day (observed)" },
		{ 2021, 7, 5, "closed Independence Day (observed)" },
		{ 2021, 7, 2, "" },	/* July 3 is a Saturday: no early close */
		{ 2022, 7, 4, "closed Independence Day" },
		{ 2022, 7, 1, "" },	/* July 3 is a Sunday */
		{ 2023, 7, 3, "close 13:00 Day before Independence Day" },
		{ 2024, 7, 3, "close 13:00 Day before Independence Day" },
		{ 2025, 7, 3, "close 13:00 Day before Independence Day" },
		/* Juneteenth: from 2022 only */
		{ 2027, 6, 18, "closed Juneteenth National Independence Day (observed)" },
		{ 2022, 6, 20, "closed Juneteenth National Independence Day (observed)" },
		{ 2021, 6, 18, "" },	/* federal holiday, but the exchange traded */
		{ 2023, 6, 19, "closed Juneteenth National Independence Day" },
		/* Christmas: Saturday -> Friday (no early close on the 23rd),
		 * Sunday -> Monday (the 24th is a Saturday) */
		{ 2021, 12, 24, "closed Christmas Day (observed)" },
		{ 2021, 12, 23, "" },
		{ 2027, 12, 24, "closed Christmas Day (observed)" },
		{ 2022, 12, 26, "closed Christmas Day (observed)" },
		{ 2022, 12, 23, "" },
		{ 2033, 12, 26, "closed Christmas Day (observed)" },
		{ 2024, 12, 24, "close 13:00 Christmas Eve" },
		{ 2018, 12, 24, "close 13:00 Christmas Eve" },	/* a Monday */
		{ 2023, 12, 22, "" },	/* Christmas on Monday: the Friday is full */
		/* New Year's Day: Sunday -> Monday */
		{ 2023, 1, 2, "closed New Year's Day (observed)" },
		{ 2017, 1, 2, "closed New Year's Day (observed)" },
		/* MLK Day from 1998 */
		{ 1997, 1, 20, "" },
		{ 1998, 1, 19, "closed Martin Luther King, Jr. Day" },
		/* the nth-weekday and Easter holidays */
		{ 2029, 11, 22, "closed Thanksgiving Day" },
		{ 2029, 11, 23, "close 13:00 Day after Thanksgiving" },
		{ 2029, 3, 30, "closed Good Friday" },
		{ 2029, 5, 28, "closed Memorial Day" },
		{ 2029, 9, 3, "closed Labor Day" },
		{ 2029, 2, 19, "closed Washington's Birthday" },
		{ 2029, 1, 1, "closed New Year's Day" },
		{ 2026, 11, 28, "" },	/* weekends are not the rules' business */
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		const char *got = rule_of(c[i].y, c[i].m, c[i].d);

		if (strcmp(got, c[i].want) != 0)
			fail_msg("%04d-%02d-%02d: '%s', expected '%s'", c[i].y, c[i].m, c[i].d, got,
				 c[i].want);
	}
}

/* Rule 7.2's year-end proviso: New Year's Day on a Saturday is not
 * observed, neither on Friday December 31 nor on Monday January 3. */
static void test_rules_new_year_saturday(void **state)
{
	struct cal_day year[NYSE_YEAR_MAX];
	size_t n;

	assert_string_equal(rule_of(2021, 12, 31), "");
	assert_string_equal(rule_of(2022, 1, 3), "");
	assert_string_equal(rule_of(2027, 12, 31), "");
	assert_string_equal(rule_of(2028, 1, 3), "");
	assert_string_equal(rule_of(2010, 12, 31), "");	/* 2011-01-01, a Saturday */
	/* 2022 has 10 rule days; 2028 has 9 holidays and 2 early closes. */
	n = nyse_rules_year(year, 2022);
	assert_int_equal(n, 10);
	assert_int_equal(year[0].day, clock_days_from_civil(2022, 1, 17));
	n = nyse_rules_year(year, 2028);
	assert_int_equal(n, 11);
	for (size_t i = 1; i < n; i++)
		assert_true(year[i - 1].day < year[i].day);	/* sorted */
	/* Through the window: the last session of 2021 and of 2027 is a full
	 * one, and the next opens on Monday January 3. */
	expect_window("2021-12-31T20:59:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2027-12-31T20:59:00Z", true, WINDOW_SESSION, NULL);
	expect_window("2028-01-03T14:30:00Z", true, WINDOW_SESSION, NULL);
	assert_int_equal(nyse_rules_year(year, 1582), 0);
	assert_int_equal(nyse_rules_year(year, 10000), 0);
}

/* The file's entries replace the rules' answer for their date. */
static void test_calendar_exceptions(void **state)
{
	static const char text[] =
		"covers 2027-2028\n"
		"2027-11-26 closed Day after Thanksgiving, closed this year\n"
		"2028-07-04 close 13:00 Independence Day, half day\n"
		"2028-07-03 open Day before Independence Day, full session\n"
		"2028-12-25 open Christmas trading\n"
		"2028-03-01 closed Day of Mourning\n";
	struct calendar c;
	struct buf err = BUF_INIT;
	struct cal_day e;
	struct window w;

	assert_int_equal(calendar_parse(&c, text, sizeof(text) - 1, "t.cal", &err), 0);
	assert_true(calendar_day(&e, &c, clock_days_from_civil(2027, 11, 26)));
	assert_int_equal(e.close_min, CAL_CLOSED);
	assert_true(calendar_day(&e, &c, clock_days_from_civil(2028, 7, 4)));
	assert_int_equal(e.close_min, 13 * 60);
	assert_false(calendar_day(&e, &c, clock_days_from_civil(2028, 7, 3)));
	assert_false(calendar_day(&e, &c, clock_days_from_civil(2028, 12, 25)));
	assert_true(calendar_day(&e, &c, clock_days_from_civil(2028, 3, 1)));
	assert_string_equal(e.name, "Day of Mourning");
	/* the rules still answer for the dates the file does not name */
	assert_true(calendar_day(&e, &c, clock_days_from_civil(2028, 11, 23)));
	assert_string_equal(e.name, "Thanksgiving Day");
	assert_false(calendar_day(&e, &c, clock_days_from_civil(2028, 3, 2)));
	/* an 'open' day is a regular session, without a holiday name */
	assert_int_equal(clock_window(&w, at("2028-07-03T19:30:00Z"), &ny, &c, &hours), 0);
	assert_true(w.open);
	assert_int_equal(w.reason, WINDOW_SESSION);
	assert_string_equal(w.day_name, "");
	assert_int_equal(w.next_close, at("2028-07-03T20:00:00Z"));
	assert_int_equal(clock_window(&w, at("2028-07-04T17:30:00Z"), &ny, &c, &hours), 0);
	assert_int_equal(w.reason, WINDOW_AFTER_EARLY_CLOSE);
	assert_string_equal(w.day_name, "Independence Day, half day");
	calendar_release(&c);

	/* 'open' on a day the rules already leave open is refused as a typo. */
	assert_int_equal(calendar_parse(&c, "covers 2028-2028\n2028-07-05 open Oops\n", 38,
					"t.cal", &err), ERR_INVALID);
	assert_string_equal(err.data, "t.cal:2: 2028-07-05 is a regular session by the "
				      "exchange's rules; 'open' only overrides a holiday or an "
				      "early close\n");
	buf_release(&err);
}

/* The longest closure a calendar can make: CAL_MAX_DAYS weekdays in a
 * row, with the rules' holidays and (the session opening at 14:00) their
 * 13:00 early closes in between; the window still finds the next session. */
static void test_calendar_longest_closure(void **state)
{
	struct market_hours late = { 14 * 60, 16 * 60 };
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct calendar c;
	struct cal_day e;
	struct window w;
	int64_t day = clock_days_from_civil(2030, 1, 1), y;
	int m, d, listed = 0;

	buf_adds(&text, "covers 2030-2099\n");
	for (; listed < CAL_MAX_DAYS; day++) {
		int wd = (int)(((day % 7) + 11) % 7);

		if (wd == 0 || wd == 6 || nyse_rules_day(&e, day))
			continue;
		clock_civil_from_days(&y, &m, &d, day);
		buf_printf(&text, "%04lld-%02d-%02d closed X\n", (long long)y, m, d);
		listed++;
	}
	/* the first weekday after them that the rules do not close either */
	while ((((day % 7) + 11) % 7) == 0 || (((day % 7) + 11) % 7) == 6 ||
	       nyse_rules_day(&e, day))
		day++;
	assert_int_equal(calendar_parse(&c, text.data, text.len, "long", &err), 0);
	assert_int_equal(clock_window(&w, at("2030-01-01T12:00:00Z"), &ny, &c, &late), 0);
	assert_false(w.open);
	clock_civil_from_days(&y, &m, &d, day);
	assert_int_equal(w.open_local.tm_year + 1900, y);
	assert_int_equal(w.open_local.tm_mon + 1, m);
	assert_int_equal(w.open_local.tm_mday, d);
	print_message("closed from 2030-01-01 to %04lld-%02d-%02d (%lld days)\n", (long long)y, m,
		      d, (long long)(day - clock_days_from_civil(2030, 1, 1)));
	calendar_release(&c);
	buf_release(&text);
	buf_release(&err);
}

/* The 2026-2028 table shipped before the rules, every day listed, still
 * parses and gives the same answer as the rules on every day. */
static void test_calendar_full_table_compatible(void **state)
{
	const char *src = getenv("SRCDIR");
	struct buf path = BUF_INIT, data, err = BUF_INIT;
	struct calendar old;
	struct cal_day a, b;
	int64_t from = clock_days_from_civil(2026, 1, 1), to = clock_days_from_civil(2028, 12, 31);

	buf_printf(&path, "%s/tests/data/calendar/nyse-2026-2028.calendar", src ? src : ".");
	assert_int_equal(file_read(&data, path.data, CAL_FILE_MAX), 0);
	assert_int_equal(calendar_parse(&old, data.data, data.len, path.data, &err), 0);
	assert_int_equal(old.n, 34);
	for (int64_t d = from; d <= to; d++) {
		bool x = calendar_day(&a, &old, d), y = calendar_day(&b, &nyse, d);

		assert_int_equal(x, y);
		if (x) {
			assert_int_equal(a.close_min, b.close_min);
			assert_string_equal(a.name, b.name);
		}
	}
	calendar_release(&old);
	buf_release(&data);
	buf_release(&path);
	buf_release(&err);
}

/* A rule whose switches fall on Wednesdays, to see a session edge inside
 * the spring gap and the autumn fold (US switches are always on Sundays). */
static void test_gap_and_fold(void **state)
{
	struct tz_rule r;
	struct window w;
	struct market_hours gap = { 2 * 60 + 30, 16 * 60 }, fold = { 60 + 30, 16 * 60 };

	assert_int_equal(tz_rule_parse(&r, "XST5XDT,M3.2.3,M11.1.3", NULL), 0);
	/* 2026-03-11 02:30 does not exist: the session opens at 03:30 XDT. */
	assert_int_equal(clock_window(&w, at("2026-03-11T07:29:59Z"), &r, NULL, &gap), 0);
	assert_false(w.open);
	assert_int_equal(w.next_open, at("2026-03-11T07:30:00Z"));
	/* 2026-11-04 01:30 happens twice: the session opens at the first. */
	assert_int_equal(clock_window(&w, at("2026-11-04T05:30:00Z"), &r, NULL, &fold), 0);
	assert_true(w.open);
	assert_int_equal(clock_window(&w, at("2026-11-04T05:29:59Z"), &r, NULL, &fold), 0);
	assert_false(w.open);
	assert_int_equal(w.next_open, at("2026-11-04T05:30:00Z"));
}

static void test_bad_window_input(void **state)
{
	struct window w;
	struct market_hours bad = { 16 * 60, 9 * 60 }, zero = { 600, 600 };

	assert_int_equal(clock_window(&w, at("2026-03-09T13:30:00Z"), &ny, &nyse, &bad),
			 ERR_INVALID);
	assert_int_equal(clock_window(&w, at("2026-03-09T13:30:00Z"), &ny, &nyse, &zero),
			 ERR_INVALID);
	assert_int_equal(clock_window(&w, (time_t)INT64_MAX, &ny, &nyse, &hours), ERR_INVALID);
	assert_int_equal(clock_window(&w, (time_t)INT64_MIN, &ny, &nyse, &hours), ERR_INVALID);
}

/* ---- formatting --------------------------------------------------------- */

static void test_formats(void **state)
{
	static const struct {
		const char *t, *trailer, *status;
	} c[] = {
		{ "2026-11-02T18:47:00Z", "open, closes 16:00 EST", "open, closes 16:00 EST (in 2h13m)" },
		{ "2026-03-09T17:47:30Z", "open, closes 16:00 EDT", "open, closes 16:00 EDT (in 2h12m)" },
		{ "2026-11-28T17:00:00Z", "closed (weekend)",
		  "closed (weekend), opens Mon 2026-11-30 09:30 EST (in 1d21h30m)" },
		{ "2026-11-26T15:00:00Z", "closed (holiday: Thanksgiving Day)",
		  "closed (holiday: Thanksgiving Day), opens Fri 2026-11-27 09:30 EST (in 23h30m)" },
		{ "2026-11-27T17:59:15Z", "open, closes 13:00 EST", "open, closes 13:00 EST (in 45s)" },
		{ "2026-11-27T18:01:00Z", "closed (after early close: Day after Thanksgiving)", NULL },
		{ "2026-03-09T13:29:00Z", "closed (before open)",
		  "closed (before open), opens Mon 2026-03-09 09:30 EDT (in 1m)" },
		{ "2026-03-09T20:00:00Z", "closed (after close)", NULL },
	};
	char out[256];

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct window w;

		assert_int_equal(clock_window(&w, at(c[i].t), &ny, &nyse, &hours), 0);
		clock_format_trailer(out, sizeof(out), &w);
		assert_string_equal(out, c[i].trailer);
		if (c[i].status) {
			clock_format_status(out, sizeof(out), &w);
			assert_string_equal(out, c[i].status);
		}
	}
	{
		struct window w;

		assert_int_equal(clock_window(&w, at("2026-11-02T18:47:00Z"), &ny, &nyse, &hours), 0);
		clock_format_refusal(out, sizeof(out), &w);
		assert_string_equal(out, "market open, closes 16:00 EST (in 2h13m); add a "
					 "Break-Glass: trailer to override");
		/* A small buffer truncates, never overflows. */
		clock_format_refusal(out, 8, &w);
		assert_string_equal(out, "market ");
	}
	clock_format_countdown(out, sizeof(out), 0);
	assert_string_equal(out, "0s");
	clock_format_countdown(out, sizeof(out), 60);
	assert_string_equal(out, "1m");
	clock_format_countdown(out, sizeof(out), 7200);
	assert_string_equal(out, "2h");
	clock_format_countdown(out, sizeof(out), 90061);
	assert_string_equal(out, "1d1h1m");
	clock_format_countdown(out, sizeof(out), -5);
	assert_string_equal(out, "0s");
	/* 2026-12-07 14:30:00Z is 09:30 EST; 2026-07-01 20:15:30Z is 16:15:30 EDT */
	clock_format_hhmm(out, sizeof(out), &ny, 1796653800);
	assert_string_equal(out, "09:30 EST");
	clock_format_hhmm(out, sizeof(out), &ny, 1782936930);
	assert_string_equal(out, "16:15:30 EDT");
	assert_string_equal(clock_reason_code(WINDOW_AFTER_EARLY_CLOSE), "after-early-close");
}

static void test_hhmm(void **state)
{
	int m;

	assert_int_equal(clock_parse_hhmm(&m, "09:30"), 0);
	assert_int_equal(m, 570);
	assert_int_equal(clock_parse_hhmm(&m, "23:59"), 0);
	assert_int_equal(m, 1439);
	static const char *bad[] = { "9:30", "24:00", "09:60", "0930", "09:30 ", "", "ab:cd", "-1:00" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (clock_parse_hhmm(&m, bad[i]) != ERR_INVALID)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(clock_parse_hhmm(&m, NULL), ERR_INVALID);
}

/* ---- RFC 3339 ---------------------------------------------------------- */

static void test_rfc3339(void **state)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 2, .tm_mday = 9, .tm_hour = 13, .tm_min = 30 };
	time_t want = timegm(&tm), t;
	struct buf err = BUF_INIT;
	char out[64];
	static const char *same[] = {
		"2026-03-09T13:30:00Z", "2026-03-09t13:30:00z", "2026-03-09 13:30:00Z",
		"2026-03-09T09:30:00-04:00", "2026-03-09T19:00:00+05:30", "2026-03-09T13:30:00.999Z",
		"2026-03-09T13:30:00+00:00", "2026-03-09T13:30:00-00:00",
	};

	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		assert_int_equal(clock_parse_rfc3339(&t, same[i], &err), 0);
		if (t != want)
			fail_msg("%s parsed as %lld", same[i], (long long)t);
	}
	assert_int_equal(clock_parse_rfc3339(&t, "2028-02-29T00:00:00Z", &err), 0);
	assert_int_equal(clock_parse_rfc3339(&t, "1970-01-01T00:00:00Z", &err), 0);
	assert_int_equal(t, 0);

	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "", "bad date" },
		{ "garbage", "bad date" },
		{ "2026-03-09", "expected 'T'" },
		{ "2026-3-09T13:30:00Z", "bad date" },
		{ "2026-13-01T00:00:00Z", "bad date" },
		{ "2026-02-29T00:00:00Z", "no such day" },
		{ "2026-04-31T00:00:00Z", "no such day" },
		{ "2026-03-09T24:00:00Z", "bad time" },
		{ "2026-03-09T13:30Z", "bad time" },
		{ "2026-03-09T13:30:60Z", "bad time" },
		{ "2026-03-09T13:30:00", "expected a UTC offset" },
		{ "2026-03-09T13:30:00+5:00", "expected a UTC offset" },
		{ "2026-03-09T13:30:00+05:60", "expected a UTC offset" },
		{ "2026-03-09T13:30:00+0500", "expected a UTC offset" },
		{ "2026-03-09T13:30:00.Z", "empty fraction" },
		{ "2026-03-09T13:30:00.1234567890Z", "fraction" },
		{ "2026-03-09T13:30:00Zjunk", "trailing" },
		{ "2026-03-09T13:30:00Z ", "trailing" },
	};
	t = 42;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		buf_reset(&err);
		if (clock_parse_rfc3339(&t, bad[i].s, &err) != ERR_INVALID)
			fail_msg("accepted '%s'", bad[i].s);
		if (!strstr(err.data, bad[i].why) || !strstr(err.data, "invalid RFC 3339 time"))
			fail_msg("'%s': message '%s'", bad[i].s, err.data);
		assert_int_equal(t, 42);
	}
	buf_reset(&err);
	assert_int_equal(clock_parse_rfc3339(&t, NULL, &err), ERR_INVALID);

	clock_format_rfc3339(out, sizeof(out), want, 0, true);
	assert_string_equal(out, "2026-03-09T13:30:00Z");
	clock_format_rfc3339(out, sizeof(out), want, -14400, false);
	assert_string_equal(out, "2026-03-09T09:30:00-04:00");
	clock_format_rfc3339(out, sizeof(out), want, 19800, false);
	assert_string_equal(out, "2026-03-09T19:00:00+05:30");
	clock_format_rfc3339(out, sizeof(out), -1, 0, true);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	buf_release(&err);
}

/* ---- calendar parser -------------------------------------------------- */

static void test_calendar_good(void **state)
{
	static const char text[] =
		"# comment\r\n"
		"\r\n"
		"  covers 2026-2026  \r\n"
		"2026-11-27 close 13:00   Day after Thanksgiving\r\n"
		"2026-11-26\tclosed\tThanksgiving Day\r\n"
		"2026-01-01 closed New Year's Day";
	struct calendar c;
	struct buf err = BUF_INIT;
	const struct cal_day *d;

	assert_int_equal(calendar_parse(&c, text, sizeof(text) - 1, "t.calendar", &err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.first_year, 2026);
	assert_int_equal(c.last_year, 2026);
	/* sorted, whatever the file order */
	assert_true(c.days[0].day < c.days[1].day && c.days[1].day < c.days[2].day);
	d = calendar_find(&c, (int32_t)clock_days_from_civil(2026, 11, 27));
	assert_non_null(d);
	assert_int_equal(d->close_min, 13 * 60);
	assert_string_equal(d->name, "Day after Thanksgiving");
	d = calendar_find(&c, (int32_t)clock_days_from_civil(2026, 11, 26));
	assert_non_null(d);
	assert_int_equal(d->close_min, -1);
	assert_string_equal(d->name, "Thanksgiving Day");
	assert_null(calendar_find(&c, (int32_t)clock_days_from_civil(2026, 11, 25)));
	assert_null(calendar_find(NULL, 0));
	calendar_release(&c);
	calendar_release(NULL);
	buf_release(&err);
}

static void test_calendar_errors(void **state)
{
	static const char text[] =
		"# line 1\n"
		"2026-01-02 closed Too Early\n"
		"covers 2026-2027\n"
		"covers 2026-2027\n"
		"2026-02-30 closed Bad Date\n"
		"2026-01-03 closed Saturday\n"
		"2028-01-03 closed Outside\n"
		"2026-01-19 close 25:00 Bad Time\n"
		"2026-01-19 closed\n"
		"2026-01-19 closed Martin Luther King, Jr. Day\n"
		"2026-01-19 closed Again\n"
		"2026-01-20 shut Holiday\n"
		"2026-01-21 closed Bell\x07Name\n"
		"covers 2026\n"
		"2026-01-22 close\n"
		"holiday 2026-01-23\n";
	static const char want[] =
		"t.cal:2: date before the 'covers FIRST-LAST' line\n"
		"t.cal:4: duplicate 'covers' line\n"
		"t.cal:5: '2026-02-30' is neither a date (YYYY-MM-DD), 'covers' nor a comment\n"
		"t.cal:6: 2026-01-03 is a Saturday; the market is closed on weekends anyway\n"
		"t.cal:7: 2028-01-03 is outside the covered years 2026-2027\n"
		"t.cal:8: expected an early close time HH:MM after 'close'\n"
		"t.cal:9: missing holiday name after 2026-01-19\n"
		"t.cal:11: 2026-01-19 is listed twice\n"
		"t.cal:12: expected 'closed NAME', 'close HH:MM NAME' or 'open NAME' after 2026-01-20\n"
		"t.cal:13: holiday name must be printable ASCII, at most 63 characters\n"
		"t.cal:14: duplicate 'covers' line\n"
		"t.cal:15: expected an early close time HH:MM after 'close'\n"
		"t.cal:16: 'holiday' is neither a date (YYYY-MM-DD), 'covers' nor a comment\n";
	struct calendar c = { .n = 777 };
	struct buf err = BUF_INIT;

	assert_int_equal(calendar_parse(&c, text, sizeof(text) - 1, "t.cal", &err), ERR_INVALID);
	assert_string_equal(err.data, want);
	assert_int_equal(c.n, 777);	/* out untouched */
	buf_release(&err);
}

static void expect_cal_error(const char *text, size_t len, const char *want)
{
	struct calendar c = { .n = 777 };
	struct buf err = BUF_INIT;

	if (calendar_parse(&c, text, len, "x", &err) != ERR_INVALID)
		fail_msg("accepted '%.*s'", (int)len, text);
	assert_string_equal(err.data, want);
	assert_int_equal(c.n, 777);
	buf_release(&err);
}

static void test_calendar_limits(void **state)
{
	char big[700];
	struct buf many = BUF_INIT;

	expect_cal_error("", 0, "x:1: missing 'covers FIRST-LAST' line\n");
	expect_cal_error("# only a comment\n", 17, "x:1: missing 'covers FIRST-LAST' line\n");
	expect_cal_error("covers 2026-2028\n2026-01-05 closed A\0B\n", 39, "x:2: NUL byte in line\n");
	expect_cal_error("covers 2028-2026\n", 17,
			 "x:1: expected 'covers FIRST-LAST' with years, e.g. 'covers 2026-2028'\n");
	expect_cal_error("covers 1960-1961\n", 17,
			 "x:1: expected 'covers FIRST-LAST' with years, e.g. 'covers 2026-2028'\n");
	expect_cal_error("covers 2026-2028 extra\n", 23,
			 "x:1: expected 'covers FIRST-LAST' with years, e.g. 'covers 2026-2028'\n");
	{
		static const char longname[] = "covers 2026-2028\n2026-01-05 closed A name that is "
					       "much longer than sixty-three characters, really, it is\n";

		expect_cal_error(longname, sizeof(longname) - 1,
				 "x:2: holiday name must be printable ASCII, at most 63 characters\n");
	}
	memset(big, 'a', sizeof(big));
	expect_cal_error(big, sizeof(big), "x:1: line longer than 512 bytes\n");
	/* Past 50 errors the parser stops reporting, and says so. */
	buf_adds(&many, "covers 2026-2026\n");
	for (int i = 0; i < 60; i++)
		buf_adds(&many, "bad\n");
	{
		struct calendar c;
		struct buf err = BUF_INIT;

		assert_int_equal(calendar_parse(&c, many.data, many.len, "x", &err), ERR_INVALID);
		assert_non_null(strstr(err.data, "x:51: too many errors, stopping\n"));
		assert_null(strstr(err.data, "x:52:"));
		buf_release(&err);
	}
	buf_release(&many);
	{
		char *huge = malloc(CAL_FILE_MAX + 1);

		assert_non_null(huge);
		memset(huge, '#', CAL_FILE_MAX + 1);
		expect_cal_error(huge, CAL_FILE_MAX + 1, "x: file larger than 262144 bytes\n");
		free(huge);
	}
}

/* ---- edge loaders ------------------------------------------------------ */

static void test_loaders(void **state)
{
	char dir[] = "/tmp/test_clock.XXXXXX", path[128];
	struct tz_rule r;
	struct calendar c;
	struct buf err = BUF_INIT, src = BUF_INIT;
	unsigned char f[256];
	size_t n;

	assert_non_null(mkdtemp(dir));
	/* Absent zone file: the built-in New York rule. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	setenv("PIPELINED_ZONEINFO", path, 1);
	assert_int_equal(clock_load_tz(&r, &src, NULL, &err), 0);
	assert_string_equal(src.data, "built-in");
	assert_int_equal(r.std_off, -18000);
	/* ... but not for another zone. */
	assert_int_equal(clock_load_tz(&r, NULL, "Europe/Paris", &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.data, "not found"));
	/* Present but unparsable: a hard error naming the file. */
	snprintf(path, sizeof(path), "%s/bad", dir);
	n = make_tzif(f, '2', "ABC", "\nEST5EDT,M3.2.0\n");
	assert_int_equal(file_write_atomic(path, f, n, 0644), 0);
	setenv("PIPELINED_ZONEINFO", path, 1);
	buf_reset(&err);
	assert_int_equal(clock_load_tz(&r, NULL, NULL, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "bad DST end date"));
	assert_non_null(strstr(err.data, path));
	assert_int_equal(file_write_atomic(path, "not tzif", 8, 0644), 0);
	buf_reset(&err);
	assert_int_equal(clock_load_tz(&r, NULL, NULL, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "not a TZif file"));
	/* A good file. */
	n = make_tzif(f, '2', "ABC", "\nCET-1CEST,M3.5.0,M10.5.0/3\n");
	assert_int_equal(file_write_atomic(path, f, n, 0644), 0);
	buf_reset(&src);
	assert_int_equal(clock_load_tz(&r, &src, NULL, &err), 0);
	assert_string_equal(r.std_name, "CET");
	assert_string_equal(src.data, path);
	unsetenv("PIPELINED_ZONEINFO");
	buf_reset(&err);
	assert_int_equal(clock_load_tz(&r, NULL, "../etc/passwd", &err), ERR_INVALID);
	assert_string_equal(err.data, "invalid time zone name '../etc/passwd'");

	/* Calendar: explicit path, then env. */
	snprintf(path, sizeof(path), "%s/cal", dir);
	assert_int_equal(file_write_atomic(path, "covers 2030-2030\n", 17, 0644), 0);
	buf_reset(&src);
	assert_int_equal(clock_load_calendar(&c, &src, path, &err), 0);
	assert_int_equal(c.first_year, 2030);
	assert_string_equal(src.data, path);
	calendar_release(&c);
	setenv("PIPELINED_CALENDAR", path, 1);
	assert_int_equal(clock_load_calendar(&c, NULL, NULL, &err), 0);
	assert_int_equal(c.last_year, 2030);
	calendar_release(&c);
	unsetenv("PIPELINED_CALENDAR");
	snprintf(path, sizeof(path), "%s/nope", dir);
	buf_reset(&err);
	assert_int_equal(clock_load_calendar(&c, NULL, path, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.data, "cannot read calendar"));
	assert_non_null(strstr(err.data, "not found"));

	snprintf(path, sizeof(path), "%s/missing", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bad", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cal", dir);
	unlink(path);
	rmdir(dir);
	buf_release(&err);
	buf_release(&src);
}

/* ---- property test against glibc -------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static bool agree(const struct tz_rule *r, time_t t)
{
	struct tm a, b;
	int32_t off;

	localtime_r(&t, &a);
	assert_int_equal(tz_rule_localtime(&b, &off, r, t), 0);
	if (a.tm_gmtoff == off && a.tm_year == b.tm_year && a.tm_mon == b.tm_mon &&
	    a.tm_mday == b.tm_mday && a.tm_hour == b.tm_hour && a.tm_min == b.tm_min &&
	    a.tm_sec == b.tm_sec && a.tm_wday == b.tm_wday &&
	    strcmp(a.tm_zone, tz_rule_abbrev(r, t)) == 0)
		return true;
	print_error("mismatch at %lld: glibc %02d:%02d %s off %ld, ours %02d:%02d %s off %d\n",
		    (long long)t, a.tm_hour, a.tm_min, a.tm_zone, (long)a.tm_gmtoff, b.tm_hour,
		    b.tm_min, tz_rule_abbrev(r, t), off);
	return false;
}

/* Every step seconds in [from, to), then randoms uniform instants in it. */
static long compare_with_glibc(const struct tz_rule *r, time_t from, time_t to, time_t step,
			       long randoms, long *checked)
{
	long bad = 0;

	for (time_t t = from; t < to && bad < 5; t += step, (*checked)++)
		bad += !agree(r, t);
	for (long i = 0; i < randoms && bad < 5; i++, (*checked)++)
		bad += !agree(r, from + (time_t)(rng_next() % (uint64_t)(to - from)));
	return bad;
}

static void test_property_new_york(void **state)
{
	struct buf data, err = BUF_INIT;
	char footer[128] = CLOCK_BUILTIN_TZ;
	struct tz_rule r;
	long checked = 0;

	if (file_read(&data, "/usr/share/zoneinfo/America/New_York", 1 << 20) == 0) {
		assert_int_equal(tz_tzif_footer(footer, sizeof(footer), data.data, data.len, &err), 0);
		buf_release(&data);
	}
	assert_int_equal(tz_rule_parse(&r, footer, &err), 0);
	setenv("TZ", "America/New_York", 1);
	tzset();
	/* Every 7 minutes across 2026-2030, plus 200000 random instants from
	 * 2007 (the current US rules) to 2100 (well past the TZif table). */
	assert_int_equal(compare_with_glibc(&r, at("2026-01-01T00:00:00Z"),
					    at("2031-01-01T00:00:00Z"), 420, 0, &checked), 0);
	assert_int_equal(compare_with_glibc(&r, at("2007-01-01T00:00:00Z"),
					    at("2100-01-01T00:00:00Z"), INT32_MAX, 200000, &checked), 0);
	print_message("America/New_York: %ld instants agree with glibc\n", checked);
	unsetenv("TZ");
	tzset();
	buf_release(&err);
}

/* glibc also evaluates a POSIX string given as TZ: compare the general
 * forms (southern hemisphere, negative and >24h times, Jn and n). */
static void test_property_other_rules(void **state)
{
	static const char *rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"XST3XDT,J60/1:30,J300/3",
		"YST3YDT,59,300",
		"PST8PDT,M3.2.0,M11.1.0",
		"<-03>3",
	};

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct tz_rule r;
		long checked = 0, bad;

		assert_int_equal(tz_rule_parse(&r, rules[i], NULL), 0);
		setenv("TZ", rules[i], 1);
		tzset();
		bad = compare_with_glibc(&r, at("2024-01-01T00:00:00Z"), at("2030-01-01T00:00:00Z"),
					 1800, 20000, &checked);
		if (bad)
			fail_msg("%s: %ld of %ld instants differ from glibc", rules[i], bad, checked);
	}
	unsetenv("TZ");
	tzset();
}

/* ---- the span in which the window's trailer stays the same ------------ */

/* Sweeps [from, to) by step as the audit reads commits: the last window's
 * text is reused while an instant is in its span.  Every window holds its
 * instant in [same_from, same_until); an instant in the last span has the
 * text and open flag computed for it; the span's first and last second
 * agree with it.  Returns the number of spans. */
static long check_same_spans(const struct tz_rule *tz, const struct calendar *cal, time_t from,
			     time_t to, time_t step, const char *what)
{
	struct window memo = { .same_from = 1, .same_until = 0 };
	char memo_text[256] = "";
	long spans = 0;

	for (time_t t = from; t < to; t += step) {
		struct window w, e;
		char text[256], edge[256];

		assert_int_equal(clock_window(&w, t, tz, cal, &hours), 0);
		if (!(w.same_from <= t && t < w.same_until))
			fail_msg("%s: %lld not in its span [%lld, %lld)", what, (long long)t,
				 (long long)w.same_from, (long long)w.same_until);
		clock_format_trailer(text, sizeof(text), &w);
		if (memo.same_from <= t && t < memo.same_until) {
			if (memo.open != w.open || strcmp(memo_text, text))
				fail_msg("%s: at %lld '%s', but its span [%lld, %lld) says '%s'",
					 what, (long long)t, text, (long long)memo.same_from,
					 (long long)memo.same_until, memo_text);
			continue;
		}
		memo = w;
		strcpy(memo_text, text);
		spans++;
		const time_t ends[] = { w.same_from, w.same_until - 1 };
		for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
			assert_int_equal(clock_window(&e, ends[i], tz, cal, &hours), 0);
			clock_format_trailer(edge, sizeof(edge), &e);
			if (e.open != w.open || strcmp(edge, text))
				fail_msg("%s: at %lld '%s', at the span's %s %lld '%s'", what,
					 (long long)t, text, i ? "last second" : "start",
					 (long long)ends[i], edge);
		}
	}
	return spans;
}

/* The audit reuses a commit's Market-Window: text for every later commit
 * in the same span: the span must never straddle a change, across DST,
 * holidays, early closes, weekends and zones whose transitions fall at
 * midnight; and it must be long (the phases of a day), or it saves
 * nothing. */
static void test_window_same_span(void **state)
{
	static const char *rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",	   "AEST-10AEDT,M10.1.0,M4.1.0/3",
		"<-04>4<-03>,M9.1.6/24,M4.1.6/24", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "XST3XDT,J60/1:30,J300/3",
		"<-03>3",
		/* transitions at a weekday's midnight: the hour repeated when
		 * DST ends is Tuesday's "after close" again, between Wednesday's
		 * midnight and its "before open" */
		"<-02>2<-01>,M3.5.3/0,M10.5.3/0", "WST-3WDT,M3.2.3/24,M11.1.2/24",
		/* DST ends half an hour after a Wednesday's midnight: the half
		 * hour before it is Wednesday's, the half hour after Tuesday's */
		"<-02>2<-01>,M3.5.3/0:30,M10.5.3/0:30",
	};
	time_t from = at("2026-01-01T00:00:00Z"), to = at("2028-01-01T00:00:00Z");
	long spans = check_same_spans(&ny, &nyse, from, to, 13 * 60, "New York");

	/* weekdays have three phases, weekend and holiday days one: about
	 * 2.3 a day on average, so well under 3 a day */
	assert_true(spans > 0 && spans < 3 * 730);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct tz_rule r;

		assert_int_equal(tz_rule_parse(&r, rules[i], NULL), 0);
		/* the days around each transition of a year, finely */
		for (time_t t = from + 3600; t < from + 366 * 86400; t += 3600)
			if (tz_rule_offset(&r, t, NULL) != tz_rule_offset(&r, t - 3600, NULL))
				check_same_spans(&r, NULL, t - 2 * 86400, t + 2 * 86400, 7 * 60 + 7,
						 rules[i]);
		check_same_spans(&r, NULL, from, from + 366 * 86400, 6 * 3600 + 7, rules[i]);
	}
}

/* ---- guard bands (issue 14 item 2) -------------------------------------- */

struct quiet_case {
	const char *now;
	bool in;
	const char *from, *until;
};

static void quiet_cases(const struct clock_bands *b, const struct market_hours *h,
			const struct quiet_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct clock_quiet q;

		assert_int_equal(clock_quiet(&q, at(c[i].now), &ny, &nyse, h, b), 0);
		if (q.in != c[i].in || q.from != at(c[i].from) || q.until != at(c[i].until)) {
			char f[40], u[40];

			clock_format_rfc3339(f, sizeof(f), q.from, 0, true);
			clock_format_rfc3339(u, sizeof(u), q.until, 0, true);
			fail_msg("at %s: in=%d %s..%s; want in=%d %s..%s", c[i].now, q.in, f, u,
				 c[i].in, c[i].from, c[i].until);
		}
	}
}

/* quietBefore = 30m, quietAfter = 15m, to the second, on an ordinary day,
 * both DST Mondays, an early close, a holiday and a weekend. */
static void test_quiet_edges(void **state)
{
	static const struct clock_bands b = { 30 * 60, 15 * 60 };
	static const struct quiet_case c[] = {
		{ "2026-12-01T08:59:59-05:00", false, "2026-12-01T09:00:00-05:00",
		  "2026-12-01T16:15:00-05:00" },
		{ "2026-12-01T09:00:00-05:00", true, "2026-12-01T09:00:00-05:00",
		  "2026-12-01T16:15:00-05:00" },
		{ "2026-12-01T09:05:00-05:00", true, "2026-12-01T09:00:00-05:00",
		  "2026-12-01T16:15:00-05:00" },
		{ "2026-12-01T16:10:00-05:00", true, "2026-12-01T09:00:00-05:00",
		  "2026-12-01T16:15:00-05:00" },
		{ "2026-12-01T16:14:59-05:00", true, "2026-12-01T09:00:00-05:00",
		  "2026-12-01T16:15:00-05:00" },
		{ "2026-12-01T16:15:00-05:00", false, "2026-12-02T09:00:00-05:00",
		  "2026-12-02T16:15:00-05:00" },
		/* the Monday after DST starts (2026-03-08): EDT all day */
		{ "2026-03-09T08:59:59-04:00", false, "2026-03-09T09:00:00-04:00",
		  "2026-03-09T16:15:00-04:00" },
		{ "2026-03-09T09:00:00-04:00", true, "2026-03-09T09:00:00-04:00",
		  "2026-03-09T16:15:00-04:00" },
		/* the Friday before: EST; the span after it is Monday's, in EDT */
		{ "2026-03-06T16:15:00-05:00", false, "2026-03-09T09:00:00-04:00",
		  "2026-03-09T16:15:00-04:00" },
		/* the Monday after DST ends (2026-11-01) */
		{ "2026-11-02T09:00:00-05:00", true, "2026-11-02T09:00:00-05:00",
		  "2026-11-02T16:15:00-05:00" },
		{ "2026-10-30T16:14:59-04:00", true, "2026-10-30T09:00:00-04:00",
		  "2026-10-30T16:15:00-04:00" },
		/* the early close after Thanksgiving: 13:00 + 15m */
		{ "2026-11-27T13:14:59-05:00", true, "2026-11-27T09:00:00-05:00",
		  "2026-11-27T13:15:00-05:00" },
		{ "2026-11-27T13:15:00-05:00", false, "2026-11-30T09:00:00-05:00",
		  "2026-11-30T16:15:00-05:00" },
		/* Thanksgiving itself: no session, no band */
		{ "2026-11-26T09:10:00-05:00", false, "2026-11-27T09:00:00-05:00",
		  "2026-11-27T13:15:00-05:00" },
		{ "2026-12-05T12:00:00-05:00", false, "2026-12-07T09:00:00-05:00",
		  "2026-12-07T16:15:00-05:00" },
	};

	quiet_cases(&b, &hours, c, ARRAY_SIZE(c));
}

/* Without bands the span is the session; a band may cross midnight; spans
 * that meet are one; bands out of range are refused. */
static void test_quiet_shapes(void **state)
{
	static const struct clock_bands none = { 0, 0 }, hour = { 3600, 3600 };
	static const struct market_hours early = { 30, 16 * 60 }, long_day = { 30, 23 * 60 + 30 };
	static const struct quiet_case plain[] = {
		{ "2026-12-01T09:29:59-05:00", false, "2026-12-01T09:30:00-05:00",
		  "2026-12-01T16:00:00-05:00" },
		{ "2026-12-01T15:59:59-05:00", true, "2026-12-01T09:30:00-05:00",
		  "2026-12-01T16:00:00-05:00" },
	};
	static const struct quiet_case midnight[] = {
		/* Tuesday's session opens 00:30: its band starts Monday 23:30 */
		{ "2026-11-30T23:45:00-05:00", true, "2026-11-30T23:30:00-05:00",
		  "2026-12-01T17:00:00-05:00" },
		{ "2026-11-30T23:29:59-05:00", false, "2026-11-30T23:30:00-05:00",
		  "2026-12-01T17:00:00-05:00" },
	};
	static const struct quiet_case merged[] = {
		/* 00:30-23:30 sessions with 1h bands touch: one span Mon-Fri */
		{ "2026-12-01T12:00:00-05:00", true, "2026-11-29T23:30:00-05:00",
		  "2026-12-05T00:30:00-05:00" },
	};
	struct clock_quiet q;
	struct clock_bands bad = { CLOCK_BAND_MAX + 1, 0 };

	quiet_cases(&none, &hours, plain, ARRAY_SIZE(plain));
	quiet_cases(&hour, &early, midnight, ARRAY_SIZE(midnight));
	quiet_cases(&hour, &long_day, merged, ARRAY_SIZE(merged));
	assert_int_equal(clock_quiet(&q, at("2026-12-01T12:00:00Z"), &ny, &nyse, &hours, &bad),
			 ERR_INVALID);
	bad.before_s = -1;
	assert_int_equal(clock_quiet(&q, at("2026-12-01T12:00:00Z"), &ny, &nyse, &hours, &bad),
			 ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_parse_good),
		cmocka_unit_test(test_rule_parse_bad),
		cmocka_unit_test(test_transitions_2026),
		cmocka_unit_test(test_permanent_dst),
		cmocka_unit_test(test_tzif_footer),
		cmocka_unit_test(test_tzif_system_file),
		cmocka_unit_test(test_dst_truth_table),
		cmocka_unit_test(test_holidays_2026),
		cmocka_unit_test(test_early_closes),
		cmocka_unit_test(test_weekends),
		cmocka_unit_test(test_next_changes),
		cmocka_unit_test(test_beyond_calendar),
		cmocka_unit_test(test_easter),
		cmocka_unit_test(test_rules_weekend_observance),
		cmocka_unit_test(test_rules_new_year_saturday),
		cmocka_unit_test(test_calendar_exceptions),
		cmocka_unit_test(test_calendar_full_table_compatible),
		cmocka_unit_test(test_calendar_longest_closure),
		cmocka_unit_test(test_gap_and_fold),
		cmocka_unit_test(test_bad_window_input),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_hhmm),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_calendar_good),
		cmocka_unit_test(test_calendar_errors),
		cmocka_unit_test(test_calendar_limits),
		cmocka_unit_test(test_loaders),
		cmocka_unit_test(test_property_new_york),
		cmocka_unit_test(test_property_other_rules),
		cmocka_unit_test(test_window_same_span),
		cmocka_unit_test(test_quiet_edges),
		cmocka_unit_test(test_quiet_shapes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
