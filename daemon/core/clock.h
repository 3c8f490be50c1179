/* clock.h - the market window: is the US equity market open at a given
 * instant, why, and when does that change.
 *
 * Pure (clock.c): functions of a time_t, a POSIX TZ rule and an exchange
 * calendar.  No files, no wall clock, no process TZ, no logging, so the
 * daemon, pipelinectl and the tests get the same answer for the same input.
 * The edge (clock_load.c) reads the TZif file and the calendar file and
 * hands their bytes in.
 *
 * Why a POSIX rule and not localtime_r(): glibc has no per-call zone API,
 * and setenv("TZ") races with getenv() on libgit2's worker threads.  The
 * footer of a TZif v2+ file is the rule the zone follows for all future
 * instants, so evaluating it is exact for every date the daemon will see.
 *
 * The exchange calendar is the NYSE's rules (nyse_rules.h: holidays with
 * weekend observance, Good Friday, the 13:00 early closes) for every year,
 * with the calendar file's entries layered on top as exceptions: an entry
 * for a date replaces whatever the rules say about that date.
 *
 * Calendar file format (data/nyse.calendar is the shipped file):
 *
 *     # comment; blank lines are ignored; a line may end in CRLF
 *     covers 2018-2028
 *     2025-01-09 closed National Day of Mourning for President Jimmy Carter
 *     # what announced changes to the rules would look like:
 *     2027-11-26 close 12:00 Day after Thanksgiving
 *     2028-07-03 open Day before Independence Day, full session
 *
 * "covers FIRST-LAST" (years) is required once, before any date line: it
 * states which years' exceptions the file lists completely (every special
 * closure and every change the exchange announced for them).  The rules
 * apply in every year; on a day outside the covered years the window sets
 * beyond_calendar, so that pipelinectl window and the status API can say
 * that closures announced for that year are unknown.  Nothing else
 * changes there: no weekday-only guess.
 * A date line is one of
 *   "YYYY-MM-DD closed NAME"       no session that day
 *   "YYYY-MM-DD close HH:MM NAME"  the session ends early, local time
 *   "YYYY-MM-DD open NAME"         a regular full session on a day the
 *                                  rules close or close early (an
 *                                  announced change to the rules); an
 *                                  'open' on a day the rules leave alone
 *                                  is an error, as it is surely a typo.
 * A 'closed' or 'close' line that repeats the rules is allowed (a file
 * that lists a whole year, like the 2026-2028 table shipped before the
 * rules existed, parses and gives the same answers); its NAME wins.
 * Dates must be weekdays inside the covered years, each listed once;
 * NAME is required (it is what operators read in refusals and trailers).
 */
#ifndef PIPELINED_CLOCK_H
#define PIPELINED_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util.h"

/* ---- POSIX TZ rules ------------------------------------------------ */

#define TZ_NAME_MAX 16

enum tz_date_kind {
	TZ_DATE_MWD,		/* Mm.w.d: weekday d of week w (5 = last) of month m */
	TZ_DATE_JULIAN1,	/* Jn: day 1..365, February 29 never counted */
	TZ_DATE_JULIAN0,	/* n: day 0..365, February 29 counted in leap years */
};

struct tz_date {
	enum tz_date_kind kind;
	int month, week, wday;	/* TZ_DATE_MWD */
	int yday;		/* TZ_DATE_JULIAN1 / TZ_DATE_JULIAN0 */
	int32_t secs;		/* local time of day of the change, may be <0 or >24h */
};

struct tz_rule {
	char std_name[TZ_NAME_MAX], dst_name[TZ_NAME_MAX];
	int32_t std_off, dst_off;	/* seconds EAST of UTC (EST = -18000) */
	bool has_dst;
	struct tz_date start, end;	/* into and out of DST, in the rule's terms */
};

/* America/New_York's rule since 2007; used only when the zone file is absent. */
#define CLOCK_BUILTIN_TZ "EST5EDT,M3.2.0,M11.1.0"

/* Parse a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<-03>3",
 * "CET-1CEST,M3.5.0,M10.5.0/3", "IST-1GMT0,M10.5.0,M3.5.0/1", Jn and n
 * dates, /time with hours -167..167).  ERR_INVALID with a reason in err. */
int tz_rule_parse(struct tz_rule *out, const char *s, struct buf *err);

/* Copy the footer rule of a TZif v2+ file (RFC 8536) into out.  Walks the
 * headers so a stray newline in the data cannot be mistaken for the footer.
 * ERR_INVALID: not TZif, version 1 (no footer), truncated or bad footer;
 * ERR_NOTFOUND: a valid file whose footer is empty (no rule for the future). */
int tz_tzif_footer(char *out, size_t outsz, const void *data, size_t len, struct buf *err);

/* Offset (seconds east of UTC) in effect at t; *is_dst may be NULL. */
int32_t tz_rule_offset(const struct tz_rule *r, time_t t, bool *is_dst);

/* Local broken-down time at t (tm_gmtoff/tm_zone are not set: use *off and
 * tz_rule_abbrev).  0, or ERR_INVALID if t is outside what struct tm holds. */
int tz_rule_localtime(struct tm *out, int32_t *off, const struct tz_rule *r, time_t t);

/* "EST" or "EDT" for the instant t. */
const char *tz_rule_abbrev(const struct tz_rule *r, time_t t);

/* ---- Exchange calendar --------------------------------------------- */

#define CAL_NAME_MAX 64
#define CAL_MAX_DAYS 4096
#define CAL_FILE_MAX (256 * 1024)

/* cal_day.close_min values besides an early close time. */
#define CAL_CLOSED (-1)		/* no session all day */
#define CAL_OPEN (-2)		/* file only: a regular session despite the rules */

struct cal_day {
	int32_t day;		/* days since 1970-01-01 (local civil date) */
	int16_t close_min;	/* minutes after midnight, CAL_CLOSED or CAL_OPEN */
	char name[CAL_NAME_MAX];
};

struct calendar {
	struct cal_day *days;	/* the file's exceptions, sorted by day */
	size_t n;
	int32_t first_day, last_day;	/* covered range, inclusive */
	int first_year, last_year;
};

/* Parse calendar text (format above).  Every problem is appended to err as
 * "NAME:LINE: message\n", all of them; ERR_INVALID if there was any, and
 * then out is untouched. */
int calendar_parse(struct calendar *out, const char *text, size_t len,
		   const char *name, struct buf *err);
void calendar_release(struct calendar *c);
/* The file's entry for a civil day (days since the epoch), or NULL. */
const struct cal_day *calendar_find(const struct calendar *c, int32_t day);
/* What the exchange does on a civil day: the file's exception for it if
 * any, else the NYSE rules.  true and *out filled (close_min CAL_CLOSED or
 * an early close time) for a holiday or an early close; false for a
 * regular session day (weekends are the caller's business).  c may be NULL:
 * the rules alone. */
bool calendar_day(struct cal_day *out, const struct calendar *c, int64_t day);

/* ---- The window ---------------------------------------------------- */

struct market_hours {
	int open_min, close_min;	/* minutes after local midnight */
};
#define CLOCK_DEFAULT_OPEN (9 * 60 + 30)
#define CLOCK_DEFAULT_CLOSE (16 * 60)

enum window_reason {
	WINDOW_SESSION,		/* open: regular weekday session */
	WINDOW_EARLY_SESSION,	/* open: a session that closes early */
	WINDOW_WEEKEND,
	WINDOW_HOLIDAY,
	WINDOW_BEFORE_OPEN,
	WINDOW_AFTER_CLOSE,
	WINDOW_AFTER_EARLY_CLOSE,
};

struct window {
	bool open;
	enum window_reason reason;
	char day_name[CAL_NAME_MAX];	/* holiday / early-close name, or "" */
	bool beyond_calendar;	/* today is outside the calendar's covered years:
				 * the rules apply, announced exceptions unknown */
	time_t now;
	struct tm local;	/* local time at now */
	int32_t utc_offset;	/* seconds east of UTC at now */
	char zone[TZ_NAME_MAX];	/* abbreviation at now */
	time_t next_open;	/* start of the next session (after this one if open) */
	time_t next_close;	/* end of this session if open, else of the next one */
	time_t next_change;	/* open ? next_close : next_open */
	char close_zone[TZ_NAME_MAX], open_zone[TZ_NAME_MAX];
	struct tm close_local, open_local;
	/* The span around now, [same_from, same_until), in which open, reason
	 * and day_name, hence clock_format_trailer's text, stay as they are:
	 * the phase of the local day (before the session, in it, after it, or
	 * the whole day when it has none).  A reader of many instants (the
	 * audit) asks again only outside it.  Never empty: it holds now. */
	time_t same_from, same_until;
};

/* Minutes after midnight from "HH:MM" (00:00..23:59).  ERR_INVALID. */
int clock_parse_hhmm(int *out_min, const char *s);

/* The window at now.  cal may be NULL (the rules alone, every day beyond
 * the calendar).  ERR_INVALID for bad hours (open >= close) or an instant
 * too far from the present to reason about. */
int clock_window(struct window *out, time_t now, const struct tz_rule *tz,
		 const struct calendar *cal, const struct market_hours *hours);

/* Guard bands (issue 14 item 2): a stage may stay quiet for before_s
 * seconds before each session's open and after_s seconds after its close
 * (an early close included).  The quiet span of a session is
 * [open - before_s, close + after_s); spans that meet or overlap are one. */
struct clock_bands {
	int64_t before_s, after_s;	/* 0..CLOCK_BAND_MAX */
};
#define CLOCK_BAND_MAX (6 * 3600)

struct clock_quiet {
	bool in;		/* now is inside a quiet span */
	time_t from, until;	/* that span, or the next one when not in it */
};

/* The quiet span at (or after) now.  ERR_INVALID like clock_window, or for
 * bands out of range. */
int clock_quiet(struct clock_quiet *out, time_t now, const struct tz_rule *tz,
		const struct calendar *cal, const struct market_hours *hours,
		const struct clock_bands *bands);

/* Stable short code for JSON: "session", "early-close", "weekend",
 * "holiday", "before-open", "after-close", "after-early-close". */
const char *clock_reason_code(enum window_reason r);
/* Human reason: "weekday session", "holiday: Thanksgiving Day", ... */
void clock_format_reason(char *out, size_t outsz, const struct window *w);
/* The Market: trailer value (SPEC 6): "open, closes 16:00 EST",
 * "closed (weekend)", "closed (holiday: Thanksgiving Day)". */
void clock_format_trailer(char *out, size_t outsz, const struct window *w);
/* Local wall-clock time of t in tz: "09:00 EST", "16:15:30 EST" (seconds
 * only when not zero), "?" when t is outside the rule. */
void clock_format_hhmm(char *out, size_t outsz, const struct tz_rule *tz, time_t t);
/* Countdown "2h13m", "1d17h30m", "45s" (seconds floored to minutes above 1m). */
void clock_format_countdown(char *out, size_t outsz, int64_t secs);
/* Human status with countdown: "open, closes 16:00 EST (in 2h13m)" or
 * "closed (weekend), opens Mon 09:30 EST (in 2d1h)". */
void clock_format_status(char *out, size_t outsz, const struct window *w);
/* The market-open refusal: "market open, closes 16:00 EST (in 2h13m); add a
 * Break-Glass: trailer to override". */
void clock_format_refusal(char *out, size_t outsz, const struct window *w);

/* ---- RFC 3339 ------------------------------------------------------ */

/* "2026-03-09T13:30:00Z", "2026-03-09T09:30:00-04:00", optional fraction
 * (dropped), 't'/'z' accepted.  ERR_INVALID with the reason in err. */
int clock_parse_rfc3339(time_t *out, const char *s, struct buf *err);
/* UTC with Z when off == 0 and utc is true, else with a ±hh:mm offset. */
void clock_format_rfc3339(char *out, size_t outsz, time_t t, int32_t off, bool utc);

/* Civil date helpers (proleptic Gregorian, days since 1970-01-01). */
int64_t clock_days_from_civil(int64_t y, int m, int d);
void clock_civil_from_days(int64_t *y, int *m, int *d, int64_t days);

#endif
