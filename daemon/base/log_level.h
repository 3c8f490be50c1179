/* log_level.h - the names of the log levels, apart from the logger (io/log.h)
 * so that the configuration's pure parser can read [daemon] logLevel without
 * seeing the code that writes to the journal. */
#ifndef PIPELINED_LOG_LEVEL_H
#define PIPELINED_LOG_LEVEL_H

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Parses "error", "warning", "notice", "info", "debug"; -1 on anything else. */
int log_level_parse(enum log_level *out, const char *name);

#endif
