/* stage.c - see stage.h */
#include "stage.h"

#include <string.h>

static const char *const stage_names[STAGE_COUNT] = {
	[STAGE_CI] = "ci",
	[STAGE_INTTEST] = "integration-test",
	[STAGE_BETA] = "beta",
	[STAGE_PAPER] = "paper",
	[STAGE_LIVE] = "live",
};

const char *stage_name(enum stage s)
{
	return (unsigned)s < STAGE_COUNT ? stage_names[s] : "?";
}

int stage_parse(enum stage *out, const char *name)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		if (strcmp(name, stage_names[i]) == 0) {
			*out = (enum stage)i;
			return 0;
		}
	return -1;
}

int stage_is_deploy(enum stage s)
{
	return s == STAGE_BETA || s == STAGE_PAPER || s == STAGE_LIVE;
}
