/* ctl.c - helpers shared by the pipelinectl subcommands */
#include "ctl.h"
#include "config.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

const char *ctl_default_config(void)
{
	const char *env = getenv("PIPELINED_CONFIG");

	return env && *env ? env : PIPELINED_SYSCONFDIR "/pipelines.conf";
}

int ctl_load_config(struct config **out, const struct ctl_opts *opts)
{
	struct buf errors = BUF_INIT;
	int rc;

	*out = NULL;
	if (!opts->config_given && access(opts->config, F_OK) != 0)
		return 0;
	rc = config_load(out, opts->config, &errors);
	if (rc) {
		fputs(errors.data ? errors.data : "pipelinectl: cannot load the configuration\n",
		      stderr);
		if (errors.len && errors.data[errors.len - 1] != '\n')
			fputc('\n', stderr);
	}
	buf_release(&errors);
	return rc ? -1 : 0;
}

/* "--opt VALUE" or "--opt=VALUE"; 1 if argv[*i] is that option. */
int ctl_opt_value(const char **out, int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}
