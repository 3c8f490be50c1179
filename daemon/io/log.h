/* log.h - journald-friendly logging for the edges (pure modules never log).
 *
 * Each line is "<N>[subsystem] message" on stderr when stderr is the journal
 * (sd-daemon priority prefixes), or "LEVEL [subsystem] message" on a terminal.
 * Wording follows git: what failed first, subjects in quotes, no full stop.
 */
#ifndef PIPELINED_LOG_H
#define PIPELINED_LOG_H

#include <stdarg.h>

#include "log_level.h"

/* Threshold: messages above it are dropped.  Default: info. */
void log_set_level(enum log_level max);
/* Force the "<N>" prefix style (auto-detected from JOURNAL_STREAM otherwise). */
void log_set_journal(int on);

void log_msg(enum log_level lvl, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lvl, const char *subsys, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_err(sub, ...)     log_msg(LOG_LVL_ERR, sub, __VA_ARGS__)
#define log_warn(sub, ...)    log_msg(LOG_LVL_WARNING, sub, __VA_ARGS__)
#define log_notice(sub, ...)  log_msg(LOG_LVL_NOTICE, sub, __VA_ARGS__)
#define log_info(sub, ...)    log_msg(LOG_LVL_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...)   log_msg(LOG_LVL_DEBUG, sub, __VA_ARGS__)

#endif
