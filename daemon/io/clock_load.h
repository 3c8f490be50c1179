/* clock_load.h - the edge of the market clock: the zone file and the
 * calendar file read from disk and handed to the pure parsers of
 * core/clock.h, which this includes. */
#ifndef PIPELINED_CLOCK_LOAD_H
#define PIPELINED_CLOCK_LOAD_H

#include "clock.h"

/* The rule of zone (e.g. "America/New_York") from the system tzdata;
 * env PIPELINED_ZONEINFO names the file instead (tests).  An absent file
 * falls back to CLOCK_BUILTIN_TZ for America/New_York only; a present but
 * unreadable or unparsable one is an error.  source (may be NULL) gets the
 * file used, or "built-in". */
int clock_load_tz(struct tz_rule *out, struct buf *source, const char *zone, struct buf *err);
/* The calendar from path, else env PIPELINED_CALENDAR, else
 * the shipped nyse.calendar (see datafile_path in io/sysio.h).  source (may be NULL) gets the path. */
int clock_load_calendar(struct calendar *out, struct buf *source, const char *path,
			struct buf *err);

#endif
