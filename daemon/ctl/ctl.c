/* ctl.c - helpers shared by the pipelinectl subcommands */
#include "ctl.h"
#include "config_load.h"
#include "util.h"

#include <stdarg.h>
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

/* 1 when argv[*i] is one of args (consumed), 0 when not, -1 when its
 * value is missing. */
static int match_arg(const struct ctl_arg *args, int argc, char **argv, int *i)
{
	for (const struct ctl_arg *a = args; a->name; a++) {
		int r;

		if (a->flag && strcmp(argv[*i], a->name) == 0) {
			*a->flag = true;
			return 1;
		}
		if (a->value && (r = ctl_opt_value(a->value, argc, argv, i, a->name)))
			return r;
	}
	return 0;
}

int ctl_parse_args(const char *cmd, const char *usage, const struct ctl_arg *args,
		   const char **pos, int maxpos, int argc, char **argv)
{
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		int r = match_arg(args, argc, argv, &i);

		if (r < 0) {
			fprintf(stderr, "pipelinectl %s: '%s' needs a value\n", cmd, argv[i]);
			return 2;
		}
		if (r > 0)
			continue;
		if (argv[i][0] == '-' || npos == maxpos) {
			fprintf(stderr, "pipelinectl %s: unexpected argument '%s'\n%s", cmd, argv[i],
				usage);
			return 2;
		}
		pos[npos++] = argv[i];
	}
	return 0;
}

int ctl_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pipelinectl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}
