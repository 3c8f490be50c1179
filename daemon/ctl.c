/* ctl.c - helpers shared by the pipelinectl subcommands */
#include "ctl.h"

#include <stdlib.h>

const char *ctl_default_config(void)
{
	const char *env = getenv("PIPELINED_CONFIG");

	return env && *env ? env : PIPELINED_SYSCONFDIR "/pipelines.conf";
}
