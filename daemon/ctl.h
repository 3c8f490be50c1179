/* ctl.h - pipelinectl subcommands.  Each lives in ctl_<name>.c and is listed
 * in the command table in pipelinectl.c.  A command returns the process exit
 * status: 0 success, 1 a negative answer (e.g. audit found violations),
 * 2 usage or operational error. */
#ifndef PIPELINED_CTL_H
#define PIPELINED_CTL_H

#include <stdbool.h>

struct ctl_opts {
	bool json;		/* --json: one JSON document on stdout */
	const char *config;	/* -c FILE, or the default path */
	bool config_given;	/* -c was on the command line */
};

typedef int ctl_cmd_fn(int argc, char **argv, const struct ctl_opts *opts);

/* Default configuration file when -c is not given. */
const char *ctl_default_config(void);

struct config;
/* The configuration for a command that can use it: loaded from -c FILE, or
 * from the default file when that exists; *out = NULL when -c was not given
 * and there is no default file (the command then uses built-in defaults).
 * Errors are printed as file:line lines; returns -1 then. */
int ctl_load_config(struct config **out, const struct ctl_opts *opts);

/* ctl_window.c */
int cmd_window(int argc, char **argv, const struct ctl_opts *opts);
/* ctl_edit.c */
int cmd_edit(int argc, char **argv, const struct ctl_opts *opts);
int cmd_check_config(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_status.c */
int cmd_status(int argc, char **argv, const struct ctl_opts *opts);
struct buf;
/* GET path from the daemon at [http] listen into body: 0, or 2 with the
 * reason printed. */
int ctl_api_get(struct buf *body, const struct config *cfg, const char *path);
/* ctl_reload.c */
int cmd_reload(int argc, char **argv, const struct ctl_opts *opts);

#endif
