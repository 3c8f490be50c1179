/* ctl.h - pipelinectl subcommands.  Each lives in ctl_<name>.c and is listed
 * in the command table in pipelinectl.c.  A command returns the process exit
 * status: 0 success, 1 a negative answer (e.g. audit found violations),
 * 2 usage or operational error. */
#ifndef PIPELINED_CTL_H
#define PIPELINED_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* One error line "pipelinectl <cmd>: <message>" on stderr; returns 2, the
 * exit status of bad input or an operational error. */
int ctl_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One option of a subcommand: a flag ("--json": *flag = true) or an option
 * with a value ("--repo DIR" or "--repo=DIR": *value).  Tables end with an
 * entry whose name is NULL. */
struct ctl_arg {
	const char *name;
	const char **value;
	bool *flag;
};
/* Parse argv[1..argc) of command cmd by args; the other arguments fill
 * pos[0..maxpos) in order.  A missing value, an unknown option or one
 * positional argument too many is said on stderr ("pipelinectl <cmd>: ...",
 * the latter two followed by usage) and returns 2; else 0. */
int ctl_parse_args(const char *cmd, const char *usage, const struct ctl_arg *args,
		   const char **pos, int maxpos, int argc, char **argv);

/* ctl_window.c */
int cmd_window(int argc, char **argv, const struct ctl_opts *opts);
/* ctl_edit.c */
int cmd_edit(int argc, char **argv, const struct ctl_opts *opts);
int cmd_check_config(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_git.c: the git side of promote, log, audit and check */
struct gitops;
struct tz_rule;
enum ctl_repo_source {
	CTL_REPO_TEMP = 0,	/* a throw-away mirror, fetched, removed on close */
	CTL_REPO_LOCAL,		/* a clone the user named (--repo) */
	CTL_REPO_DAEMON,	/* the daemon's mirror in [daemon] stateDir, read only */
	CTL_REPO_CACHE,		/* the user's cache mirror of the url, fetched */
};
struct ctl_git {
	struct gitops *g;
	char tmp[256];		/* temporary mirror directory, removed on close */
	char rev[320];		/* what to read: the fetched tracked branch, or HEAD */
	enum ctl_repo_source source;
	char where[1100];	/* the directory read */
	char name[1100];	/* the repository: the url, or the --repo path */
	char branch[256];	/* the branch read ("" for --repo: its HEAD) */
	char tip[41];		/* rev resolved, or "" */
	char warning[1200];	/* why the daemon's mirror was read although stale, or "" */
};
/* A fresh mirror of cfg's remote in a temporary directory, fetched; name
 * and email are the committer of anything made in it; key (may be NULL)
 * replaces [repository] sshKey.  Errors are printed. */
int ctl_git_remote(struct ctl_git *cg, const struct config *cfg, const char *name,
		   const char *email, const char *key);
/* The configured repository, read-only work (log, audit, check): the
 * daemon's mirror ([daemon] stateDir/mirror) when this user can read it and
 * it holds the remote's current tip (one ls-remote), else a fetch into the
 * user's cache ($XDG_CACHE_HOME/pipelined/<url key>, or ~/.cache/...; a
 * temporary directory when there is no usable cache).  When the remote
 * cannot be reached but the daemon's mirror can be read, that mirror is
 * read and cg->warning says so.  Never the current directory.  Errors are
 * printed with prefix ("pipelinectl audit"). */
int ctl_git_configured(struct ctl_git *cg, const struct config *cfg, const char *prefix);
/* Create spec's commit in cg's mirror, point ref at it and push it to the
 * same ref on the remote (unless dry_run), accepted only when the remote
 * ref is expect there ("" = must not exist: a new branch; a commit id = a
 * fast-forward from it).  The commit id in commit.  Errors are printed
 * with "pipelinectl <cmd>: "; 0 or 2.  (promote and approve.) */
struct gitops_commit_spec;
int ctl_git_commit_push(char commit[41], struct ctl_git *cg, const char *cmd, const char *ref,
			const struct gitops_commit_spec *spec, const char *expect, bool dry_run);
/* The second half of it, for a commit made already (approve: approval.h):
 * point ref at id and push it as above. */
int ctl_git_push_commit(struct ctl_git *cg, const char *cmd, const char *ref, const char *id,
			const char *expect, bool dry_run);
/* An existing local repository (a clone) at path; rev = HEAD. */
int ctl_git_local(struct ctl_git *cg, const char *path);
/* ctl_git_remote, ctl_git_configured and ctl_git_local empty cg first and
 * may fail with a mirror open or a temporary directory made: ctl_git_close
 * it whatever they returned. */
void ctl_git_close(struct ctl_git *cg);
/* The first line of human output: which repository and branch is read,
 * at which commit, from where ("repository: URL branch main at 0123abc
 * (fetched into DIR)"). */
void ctl_git_describe(FILE *f, const struct ctl_git *cg);
/* The deploy notes (engine_deploy.c) of cg's repository, resolved once: the
 * mirror's copy of the ref, else a clone's own.  The ref's name goes to
 * ref and its commit to id (pass id to gitops_note_read, which then needs
 * no ref lookup per note); false, both "", when neither exists. */
bool ctl_deploy_notes(char *ref, size_t refsz, char id[41], struct gitops *g);
/* {"repository", "branch", "commit", "source", "dir"} of what was read. */
struct json_t;
struct json_t *ctl_git_json(const struct ctl_git *cg);
/* rev with a leading "HEAD" meaning the branch read (the tracking ref of a
 * mirror, whose own HEAD means nothing): "HEAD~2" -> "<tracking>~2". */
const char *ctl_git_rev(char *out, size_t outsz, const struct ctl_git *cg, const char *rev);
/* The user's git identity: GIT_AUTHOR_NAME/EMAIL, else user.name/user.email
 * from their git configuration; source says which.  Call before
 * gitops_global_init (which hides the configuration files).  ERR_NOTFOUND. */
int ctl_user_identity(char *name, size_t namesz, char *email, size_t emailsz,
		      char *source, size_t sourcesz);
/* One value of the user's git configuration (e.g. user.signingkey), read
 * the same way; before gitops_global_init.  ERR_NOTFOUND. */
int ctl_user_config(char *out, size_t outsz, const char *key);
/* "2026-03-09 20:59 UTC (15:59 EST)" */
void ctl_format_time(char *out, size_t outsz, int64_t t, const struct tz_rule *tz);

/* ctl_promote.c, ctl_log.c, ctl_audit.c */
int cmd_promote(int argc, char **argv, const struct ctl_opts *opts);
/* ctl_approve.c (issue 14 item 3) */
int cmd_approve(int argc, char **argv, const struct ctl_opts *opts);
int cmd_rollback(int argc, char **argv, const struct ctl_opts *opts);
int cmd_log(int argc, char **argv, const struct ctl_opts *opts);
int cmd_audit(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_check.c */
int cmd_check(int argc, char **argv, const struct ctl_opts *opts);
/* Resolve every enabled deploy stage's layout (only: that stage, or -1) in
 * g at rev and print it to f, each line prefixed with pfx; with json, build
 * the stages array in *json instead.  0 when every stage can be promoted,
 * 1 when one cannot. */
int ctl_check_stages(FILE *f, const char *pfx, struct gitops *g, const char *rev,
		     const struct config *cfg, int only, struct json_t **json);

/* ctl_freeze.c (issue 14 item 1) */
int cmd_freeze(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_init.c */
int cmd_init(int argc, char **argv, const struct ctl_opts *opts);

/* ctl_status.c */
int cmd_status(int argc, char **argv, const struct ctl_opts *opts);
struct buf;
/* GET path from the daemon at [http] listen into body: 0, or 2 with the
 * reason printed. */
int ctl_api_get(struct buf *body, const struct config *cfg, const char *path);
/* ctl_reload.c */
int cmd_reload(int argc, char **argv, const struct ctl_opts *opts);

#endif
