/* nyse_rules.c - see nyse_rules.h.  Pure: the rules are arithmetic on
 * civil dates, nothing here reads a file or the clock. */
#include "nyse_rules.h"

#include <string.h>

/* 0 = Sunday, as in struct tm; 1970-01-01 was a Thursday. */
static int weekday_of(int64_t days)
{
	return (int)(((days % 7) + 11) % 7);
}

/* The n-th (1-based) weekday wd of a month. */
static int64_t nth_weekday(int64_t y, int m, int wd, int n)
{
	int64_t first = clock_days_from_civil(y, m, 1);

	return first + (wd - weekday_of(first) + 7) % 7 + 7 * (n - 1);
}

/* The last weekday wd of a month. */
static int64_t last_weekday(int64_t y, int m, int wd)
{
	int64_t last = clock_days_from_civil(y, m + 1, 1) - 1;	/* m < 12 here */

	return last - (weekday_of(last) - wd + 7) % 7;
}

void nyse_easter(int *month, int *day, int64_t year)
{
	int64_t a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
	int64_t f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
	int64_t i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
	int64_t m = (a + 11 * h + 22 * l) / 451, n = h + l - 7 * m + 114;

	*month = (int)(n / 31);
	*day = (int)(n % 31 + 1);
}

struct year_list {
	struct cal_day *days;
	size_t n;
};

static void add(struct year_list *l, int64_t day, int close_min, const char *name,
		bool observed)
{
	struct cal_day *e;

	if (l->n >= NYSE_YEAR_MAX)
		return;	/* cannot happen: the rules give 13 entries at most */
	e = &l->days[l->n++];
	e->day = (int32_t)day;
	e->close_min = (int16_t)close_min;
	strlcpy_(e->name, name, sizeof(e->name));
	if (observed)
		strlcpy_(e->name + strlen(e->name), " (observed)",
			 sizeof(e->name) - strlen(e->name));
}

/* The day a fixed-date holiday is observed under Rule 7.2's weekend rule;
 * false when it is not observed (New Year's Day on a Saturday). */
static bool observed_day(int64_t *out, int64_t y, int m, int d)
{
	int64_t day = clock_days_from_civil(y, m, d);
	int wd = weekday_of(day);

	if (wd == 6 && m == 1 && d == 1)
		return false;	/* the Friday is December 31: the year-end proviso */
	*out = wd == 6 ? day - 1 : wd == 0 ? day + 1 : day;
	return true;
}

/* The fixed-date holiday m/d, preceded by its 13:00 eve (eve_name not
 * NULL) when the day before the date is a weekday and not the holiday. */
static void add_fixed(struct year_list *l, int64_t y, int m, int d, const char *name,
		      const char *eve_name)
{
	int64_t nominal = clock_days_from_civil(y, m, d), day = nominal;
	bool holiday = observed_day(&day, y, m, d);
	int eve_wd = weekday_of(nominal - 1);

	if (eve_name && eve_wd != 0 && eve_wd != 6 && !(holiday && day == nominal - 1))
		add(l, nominal - 1, NYSE_EARLY_CLOSE_MIN, eve_name, false);
	if (holiday)
		add(l, day, CAL_CLOSED, name, day != nominal);
}

size_t nyse_rules_year(struct cal_day out[NYSE_YEAR_MAX], int64_t y)
{
	struct year_list l = { out, 0 };
	int64_t thanksgiving;
	int em, ed;

	if (y < NYSE_RULES_MIN_YEAR || y > NYSE_RULES_MAX_YEAR)
		return 0;
	/* In date order: callers rely on a sorted list. */
	add_fixed(&l, y, 1, 1, "New Year's Day", NULL);
	if (y >= 1998)
		add(&l, nth_weekday(y, 1, 1, 3), CAL_CLOSED, "Martin Luther King, Jr. Day", false);
	add(&l, nth_weekday(y, 2, 1, 3), CAL_CLOSED, "Washington's Birthday", false);
	nyse_easter(&em, &ed, y);
	add(&l, clock_days_from_civil(y, em, ed) - 2, CAL_CLOSED, "Good Friday", false);
	add(&l, last_weekday(y, 5, 1), CAL_CLOSED, "Memorial Day", false);
	if (y >= 2022)
		add_fixed(&l, y, 6, 19, "Juneteenth National Independence Day", NULL);
	add_fixed(&l, y, 7, 4, "Independence Day", "Day before Independence Day");
	add(&l, nth_weekday(y, 9, 1, 1), CAL_CLOSED, "Labor Day", false);
	thanksgiving = nth_weekday(y, 11, 4, 4);
	add(&l, thanksgiving, CAL_CLOSED, "Thanksgiving Day", false);
	add(&l, thanksgiving + 1, NYSE_EARLY_CLOSE_MIN, "Day after Thanksgiving", false);
	add_fixed(&l, y, 12, 25, "Christmas Day", "Christmas Eve");
	return l.n;
}

bool nyse_rules_day(struct cal_day *out, int64_t day)
{
	struct cal_day year[NYSE_YEAR_MAX];
	int64_t y;
	int m, d;
	size_t n;

	clock_civil_from_days(&y, &m, &d, day);
	n = nyse_rules_year(year, y);
	for (size_t i = 0; i < n; i++) {
		if (year[i].day == day) {
			*out = year[i];
			return true;
		}
	}
	return false;
}
