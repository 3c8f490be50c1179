/* ctl.h - pipelinectl subcommands.  Each lives in ctl_<name>.c and is listed
 * in the command table in pipelinectl.c.  A command returns the process exit
 * status: 0 success, 1 a negative answer (e.g. audit found violations),
 * 2 usage or operational error. */
#ifndef PIPELINED_CTL_H
#define PIPELINED_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* "--opt VALUE" or "--opt=VALUE": 1 if argv[*i] is option name (value in
 * *out, *i advanced past it), 0 if not, -1 if the value is missing. */
int ctl_opt_value(const char **out, int argc, char **argv, int *i, const char *name);

/* ctl_window.c */
int cmd_window(int argc, char **argv, const struct ctl_opts *opts);
/* ctl_edit.c */
int cmd_edit(int argc, char **argv, const struct ctl_opts *opts);
int cmd_check_config(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_git.c: the git side of promote, log and audit */
struct gitops;
struct tz_rule;
struct ctl_git {
	struct gitops *g;
	char tmp[256];		/* temporary mirror directory, removed on close */
	char rev[320];		/* what to read: the fetched tracked branch, or HEAD */
};
/* A fresh mirror of cfg's remote in a temporary directory, fetched; name
 * and email are the committer of anything made in it; key (may be NULL)
 * replaces [repository] sshKey.  Errors are printed. */
int ctl_git_remote(struct ctl_git *cg, const struct config *cfg, const char *name,
		   const char *email, const char *key);
/* An existing local repository (a clone) at path; rev = HEAD. */
int ctl_git_local(struct ctl_git *cg, const char *path);
void ctl_git_close(struct ctl_git *cg);
/* The user's git identity: GIT_AUTHOR_NAME/EMAIL, else user.name/user.email
 * from their git configuration; source says which.  Call before
 * gitops_global_init (which hides the configuration files).  ERR_NOTFOUND. */
int ctl_user_identity(char *name, size_t namesz, char *email, size_t emailsz,
		      char *source, size_t sourcesz);
/* "2026-03-09 20:59 UTC (15:59 EST)" */
void ctl_format_time(char *out, size_t outsz, int64_t t, const struct tz_rule *tz);

/* ctl_promote.c, ctl_log.c, ctl_audit.c */
int cmd_promote(int argc, char **argv, const struct ctl_opts *opts);
int cmd_log(int argc, char **argv, const struct ctl_opts *opts);
int cmd_audit(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_status.c */
int cmd_status(int argc, char **argv, const struct ctl_opts *opts);
struct buf;
/* GET path from the daemon at [http] listen into body: 0, or 2 with the
 * reason printed. */
int ctl_api_get(struct buf *body, const struct config *cfg, const char *path);
/* ctl_reload.c */
int cmd_reload(int argc, char **argv, const struct ctl_opts *opts);

#endif
