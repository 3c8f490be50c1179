/* nyse_rules.h - the New York Stock Exchange's holidays and 13:00 early
 * closes for any year, computed from the exchange's published rules.
 *
 * Pure (nyse_rules.c): functions of a year or a civil day.  No files, no
 * wall clock, no logging.  The calendar file (clock.h) lists only the
 * announced exceptions on top of these rules.
 *
 * Full-day holidays (NYSE Rule 7.2, "Holidays"):
 *   New Year's Day        January 1
 *   Martin Luther King,   3rd Monday of January, from 1998 (the first year
 *     Jr. Day             the exchange closed for it)
 *   Washington's Birthday 3rd Monday of February
 *   Good Friday           the Friday before Easter Sunday (Gregorian Easter,
 *                         the anonymous "Meeus/Jones/Butcher" algorithm)
 *   Memorial Day          last Monday of May
 *   Juneteenth National   June 19, from 2022 (the exchange traded on
 *     Independence Day    Friday 2021-06-18 after the federal holiday was
 *                         created; it added the day from 2022)
 *   Independence Day      July 4
 *   Labor Day             1st Monday of September
 *   Thanksgiving Day      4th Thursday of November
 *   Christmas Day         December 25
 * Weekend observance (Rule 7.2): a holiday falling on a Saturday is
 * observed on the preceding Friday, one falling on a Sunday on the
 * following Monday, "unless unusual business conditions exist, such as the
 * ending of a monthly or yearly accounting period".  That proviso is why
 * New Year's Day on a Saturday is not observed at all: the exchange trades
 * on Friday December 31 (2021-12-31, 2027-12-31 in the 2026-2028 release).
 * An observed holiday carries the name with " (observed)" appended.
 *
 * Early closes at 13:00 local time (the footnotes of every annual
 * "Holiday and Early Closings Calendar" release, and the "Holidays &
 * Trading Hours" page, https://www.nyse.com/markets/hours-calendars):
 *   Day after Thanksgiving        always (a Friday)
 *   Christmas Eve                 December 24 when it is a weekday and not
 *                                 itself the observed Christmas holiday
 *                                 (so: Christmas on Tuesday to Friday)
 *   Day before Independence Day   July 3 when it is a weekday and not
 *                                 itself the observed Independence Day
 *                                 (so: July 4 on Tuesday to Friday)
 * Checked against the exchange's calendars: Monday 2023-07-03, Wednesday
 * 2024-07-03 and Thursday 2025-07-03 closed early; Friday 2020-07-03 and
 * 2026-07-03 were the observed holiday and Thursday July 2 traded a full
 * session; Friday 2021-12-24 and 2027-12-24 were the observed Christmas
 * with no early close on the 23rd; with Christmas on a Sunday or Monday
 * (2022, 2023, 2028) December 24 is a weekend day and nothing closes early.
 *
 * Not modelled: anything before 1998 beyond the MLK start (the exchange's
 * older schedules differ: Election Day closures, Lincoln's Birthday, ...),
 * and one-off closures (national days of mourning, weather, emergencies):
 * those are the calendar file's exceptions.  The golden test
 * tests/golden/calendar.sh checks these rules against the published
 * calendars for 2018-2028.
 */
#ifndef PIPELINED_NYSE_RULES_H
#define PIPELINED_NYSE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* The time of the early closes, minutes after local midnight. */
#define NYSE_EARLY_CLOSE_MIN (13 * 60)
/* Most entries the rules give one year (10 holidays and 3 early closes). */
#define NYSE_YEAR_MAX 16
/* Years the rules are evaluated for (Gregorian Easter needs >= 1583);
 * outside them nyse_rules_year gives nothing. */
#define NYSE_RULES_MIN_YEAR 1583
#define NYSE_RULES_MAX_YEAR 9999

/* Easter Sunday of a Gregorian year (NYSE_RULES_MIN_YEAR..MAX_YEAR). */
void nyse_easter(int *month, int *day, int64_t year);

/* The rules' full-day holidays (close_min CAL_CLOSED) and early closes
 * (close_min NYSE_EARLY_CLOSE_MIN) of year, sorted by day, into out;
 * returns how many (0 for a year outside the rules' range). */
size_t nyse_rules_year(struct cal_day out[NYSE_YEAR_MAX], int64_t year);

/* The rules' entry for one civil day (days since 1970-01-01): true and
 * *out filled for a holiday or an early close, false for a day the rules
 * leave alone (weekdays with a regular session, and weekends). */
bool nyse_rules_day(struct cal_day *out, int64_t day);

#endif
