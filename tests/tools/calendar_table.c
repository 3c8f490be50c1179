/* calendar_table - test driver for tests/golden/calendar.sh.
 *
 *   calendar_table [--calendar FILE] FIRST LAST
 *
 * Asks the market window (clock_window, as the daemon and pipelinectl do)
 * about 10:00 New York time on every weekday of the years FIRST..LAST and
 * prints each day that is not a regular 09:30-16:00 session, in the
 * calendar file's own format:
 *     2026-11-26 closed Thanksgiving Day
 *     2026-11-27 close 13:00 Day after Thanksgiving
 * Without --calendar: the exchange's rules alone (no exceptions).
 * Exit 0 on success, 2 with the error on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock_load.h"

static int year_arg(int *out, const char *s)
{
	int64_t v;

	if (parse_i64(&v, s, 1900, 8999))
		return -1;
	*out = (int)v;
	return 0;
}

/* The UTC instant of 10:00 local on a civil day (no DST switch near it). */
static time_t ten_am(const struct tz_rule *tz, int64_t day)
{
	time_t guess = (time_t)(day * 86400 + 10 * 3600 - tz->std_off);

	return (time_t)(day * 86400 + 10 * 3600 - tz_rule_offset(tz, guess, NULL));
}

static int print_day(const struct tz_rule *tz, const struct calendar *cal, int64_t day)
{
	const struct market_hours hours = { CLOCK_DEFAULT_OPEN, CLOCK_DEFAULT_CLOSE };
	struct window w;
	int64_t y;
	int m, d;

	if (clock_window(&w, ten_am(tz, day), tz, cal, &hours))
		return -1;
	clock_civil_from_days(&y, &m, &d, day);
	if (w.reason == WINDOW_HOLIDAY)
		printf("%04lld-%02d-%02d closed %s\n", (long long)y, m, d, w.day_name);
	else if (w.reason == WINDOW_EARLY_SESSION)
		printf("%04lld-%02d-%02d close %02d:%02d %s\n", (long long)y, m, d,
		       w.close_local.tm_hour, w.close_local.tm_min, w.day_name);
	else if (w.reason != WINDOW_SESSION || w.close_local.tm_hour != 16)
		return -1;	/* a weekday at 10:00 is one of the three */
	return 0;
}

int main(int argc, char **argv)
{
	struct calendar cal = { 0 };
	struct buf err = BUF_INIT;
	struct tz_rule tz;
	const char *file = NULL;
	int first, last, argi = 1;

	if (argc > 2 && strcmp(argv[1], "--calendar") == 0) {
		file = argv[2];
		argi = 3;
	}
	if (argc - argi != 2 || year_arg(&first, argv[argi]) || year_arg(&last, argv[argi + 1]) ||
	    last < first) {
		fprintf(stderr, "usage: calendar_table [--calendar FILE] FIRST LAST\n");
		return 2;
	}
	if (tz_rule_parse(&tz, CLOCK_BUILTIN_TZ, &err) ||
	    (file && clock_load_calendar(&cal, NULL, file, &err))) {
		fprintf(stderr, "calendar_table: %s\n", err.data);
		buf_release(&err);
		return 2;
	}
	for (int64_t day = clock_days_from_civil(first, 1, 1);
	     day <= clock_days_from_civil(last, 12, 31); day++) {
		int wd = (int)(((day % 7) + 11) % 7);

		if (wd != 0 && wd != 6 && print_day(&tz, file ? &cal : NULL, day)) {
			fprintf(stderr, "calendar_table: unexpected window on day %lld\n",
				(long long)day);
			return 2;
		}
	}
	calendar_release(&cal);
	return 0;
}
