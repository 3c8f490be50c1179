/* log_level.c - see log_level.h */
#include "log_level.h"

#include <string.h>

static const struct {
	const char *name;
	enum log_level lvl;
} log_names[] = {
	{ "error", LOG_LVL_ERR },   { "warning", LOG_LVL_WARNING },
	{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG },
};

int log_level_parse(enum log_level *out, const char *name)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(name, log_names[i].name) == 0) {
			*out = log_names[i].lvl;
			return 0;
		}
	return -1;
}
