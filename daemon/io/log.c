/* log.c - see log.h */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

static enum log_level log_max = LOG_LVL_INFO;
static int log_journal = -1;	/* -1: not decided yet */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level max)
{
	log_max = max;
}

void log_set_journal(int on)
{
	log_journal = on;
}

static const char *log_word(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR: return "error";
	case LOG_LVL_WARNING: return "warning";
	case LOG_LVL_NOTICE: return "notice";
	case LOG_LVL_INFO: return "info";
	default: return "debug";
	}
}

void log_vmsg(enum log_level lvl, const char *subsys, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (lvl > log_max)
		return;
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal;
	 * then the "<N>" prefix carries the priority. */
	if (log_journal < 0)
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* Newlines inside a message would split one event into several
	 * journal entries with the wrong priority. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	pthread_mutex_lock(&log_lock);
	if (log_journal)
		fprintf(stderr, "<%d>[%s] %s\n", (int)lvl, subsys, line);
	else
		fprintf(stderr, "%s [%s] %s\n", log_word(lvl), subsys, line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level lvl, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, subsys, fmt, ap);
	va_end(ap);
}
