/* ctl_git.c - the git side shared by pipelinectl promote, log, audit and
 * check: which repository is read (the daemon's mirror when it is current,
 * a cached or throw-away mirror of the configured remote, or a clone the
 * user names with --repo; never the current directory by accident), the
 * user's own git identity, and time stamps in UTC and the market's zone. */
#define _XOPEN_SOURCE 700	/* nftw */
#include "ctl.h"
#include "config.h"
#include "clock.h"
#include "gitops.h"

#include <ctype.h>
#include <ftw.h>
#include <git2.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* pipelined-git: $PIPELINED_GIT, else beside this executable (a build
 * tree or a prefix with both binaries), else the installed path. */
static const char *worker_path(char *out, size_t outsz)
{
	const char *env = getenv("PIPELINED_GIT");
	char self[1024];
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/'))) {
			*slash = '\0';
			snprintf(out, outsz, "%s/pipelined-git", self);
			if (access(out, X_OK) == 0)
				return out;
		}
	}
	return NULL;
}

/* gitops handle on a mirror directory of cfg's remote (created if absent). */
static int open_mirror(struct ctl_git *cg, const struct config *cfg, const char *dir,
		       const char *name, const char *email, const char *key, bool quiet)
{
	struct gitops_opts o = { 0 };
	struct buf err = BUF_INIT;
	char worker[1100];
	int rc;

	o.url = cfg->repository.url.url;
	o.branch = cfg->repository.branch;
	o.ssh_key = key ? key : cfg->repository.ssh_key;
	o.known_hosts = cfg->repository.known_hosts;
	o.mirror = dir;
	o.worker = worker_path(worker, sizeof worker);
	o.deadline_ms = cfg->repository.deadline_ms;
	o.ident_name = name;
	o.ident_email = email;
	o.push_attempts = 1;
	rc = gitops_open(&cg->g, &o, &err);
	if (rc && !quiet)
		fprintf(stderr, "pipelinectl: %s\n", err.data ? err.data : "cannot open git");
	buf_release(&err);
	if (rc == 0)
		snprintf(cg->where, sizeof cg->where, "%s", dir);
	return rc;
}

static int make_tmp(struct ctl_git *cg)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(cg->tmp, sizeof cg->tmp, "%s/pipelinectl.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
	if (!mkdtemp(cg->tmp)) {
		fprintf(stderr, "pipelinectl: cannot create a temporary directory in '%s'\n",
			cg->tmp);
		cg->tmp[0] = '\0';
		return ERR_IO;
	}
	return 0;
}

static void set_names(struct ctl_git *cg, const struct config *cfg)
{
	snprintf(cg->name, sizeof cg->name, "%s", cfg->repository.url.url);
	snprintf(cg->branch, sizeof cg->branch, "%s", cfg->repository.branch);
}

static int fetch(struct ctl_git *cg, const char *url)
{
	struct gitops_result res;
	int rc = gitops_fetch_sync(cg->g, &res);

	if (rc)
		fprintf(stderr, "pipelinectl: fetch from '%s' failed: %s\n", url, res.error);
	gitops_result_release(&res);
	if (rc == 0) {
		snprintf(cg->rev, sizeof cg->rev, "%s", gitops_tracking_branch(cg->g));
		if (gitops_resolve(cg->tip, cg->g, cg->rev)) {
			fprintf(stderr, "pipelinectl: '%s' has no branch '%s'\n", url, cg->branch);
			rc = ERR_NOTFOUND;
		}
	}
	return rc;
}

int ctl_git_remote(struct ctl_git *cg, const struct config *cfg, const char *name,
		   const char *email, const char *key)
{
	char dir[300];
	int rc;

	memset(cg, 0, sizeof *cg);
	set_names(cg, cfg);
	cg->source = CTL_REPO_TEMP;
	if ((rc = make_tmp(cg)))
		return rc;
	snprintf(dir, sizeof dir, "%s/mirror.git", cg->tmp);
	if ((rc = open_mirror(cg, cfg, dir, name, email, key, false)))
		return rc;
	return fetch(cg, cfg->repository.url.url);
}

/* The user's cache directory for url: a readable part of the url and a
 * hash of all of it, so two urls never share a mirror.  "" when there is
 * no absolute XDG_CACHE_HOME and no HOME. */
static void cache_dir(char *out, size_t outsz, const char *url)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *p = strstr(url, "://");
	char key[64];
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	size_t n = 0;

	for (const char *c = url; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (p = p ? p + 3 : url; *p && n < 40; p++)
		key[n++] = isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '_';
	key[n] = '\0';
	out[0] = '\0';
	if (xdg && xdg[0] == '/' && strlen(xdg) < 700)
		snprintf(out, outsz, "%s/pipelined/%s-%016llx", xdg, key, (unsigned long long)h);
	else if (home && home[0] == '/' && strlen(home) < 700)
		snprintf(out, outsz, "%s/.cache/pipelined/%s-%016llx", home, key,
			 (unsigned long long)h);
}

/* The daemon's mirror, if this user can read it and it has the branch:
 * *out and its tip, else NULL.  A directory that is not a repository is
 * not searched upwards (gitops_open_local would find an enclosing one). */
static struct gitops *daemon_mirror(char *dir, size_t dirsz, char tip[GITOPS_HEXSZ + 1],
				    char *ref, size_t refsz, const struct config *cfg)
{
	struct gitops *g = NULL;
	struct buf err = BUF_INIT;
	char head[1100];

	if (!cfg->daemon.state_dir || strlen(cfg->daemon.state_dir) > 900)
		return NULL;
	snprintf(dir, dirsz, "%s/mirror", cfg->daemon.state_dir);
	snprintf(head, sizeof head, "%s/HEAD", dir);
	snprintf(ref, refsz, GITOPS_TRACKING "heads/%s", cfg->repository.branch);
	if (access(head, R_OK) != 0 || gitops_open_local(&g, dir, &err) != 0) {
		buf_release(&err);
		return NULL;
	}
	buf_release(&err);
	if (gitops_resolve(tip, g, ref)) {
		gitops_free(g);
		return NULL;
	}
	return g;
}

/* The remote's tip of the branch, by ls-remote on cg's handle. */
static int remote_tip(char tip[GITOPS_HEXSZ + 1], struct ctl_git *cg, const char *branch,
		      char *why, size_t whysz)
{
	struct gitops_result res;
	char ref[300];
	int rc = gitops_ls_remote_sync(cg->g, &res);

	snprintf(ref, sizeof ref, "refs/heads/%s", branch);
	if (rc)
		snprintf(why, whysz, "%s", res.error);
	else
		rc = ERR_NOTFOUND;
	for (size_t i = 0; i < res.nrefs && rc == ERR_NOTFOUND; i++)
		if (strcmp(res.refs[i].name, ref) == 0) {
			memcpy(tip, res.refs[i].id, GITOPS_HEXSZ + 1);
			rc = 0;
		}
	if (rc == ERR_NOTFOUND)
		snprintf(why, whysz, "the remote has no branch '%s'", branch);
	gitops_result_release(&res);
	return rc;
}

int ctl_git_configured(struct ctl_git *cg, const struct config *cfg, const char *prefix)
{
	const char *url = cfg->repository.url.url;
	const char *name = cfg->daemon.identity.name, *email = cfg->daemon.identity.email;
	char dir[1100], dtip[GITOPS_HEXSZ + 1], rtip[GITOPS_HEXSZ + 1], ref[320], why[1024];
	struct gitops *d;
	int rc;

	memset(cg, 0, sizeof *cg);
	set_names(cg, cfg);
	cg->source = CTL_REPO_CACHE;
	cache_dir(dir, sizeof dir, url);
	if (!dir[0] || open_mirror(cg, cfg, dir, name, email, NULL, true)) {
		cg->source = CTL_REPO_TEMP;
		if ((rc = make_tmp(cg)))
			return rc;
		snprintf(dir, sizeof dir, "%s/mirror.git", cg->tmp);
		if ((rc = open_mirror(cg, cfg, dir, name, email, NULL, false)))
			return rc;
	}
	d = daemon_mirror(dir, sizeof dir, dtip, ref, sizeof ref, cfg);
	if (d) {
		rc = remote_tip(rtip, cg, cfg->repository.branch, why, sizeof why);
		if (rc == 0 && strcmp(rtip, dtip) != 0) {
			gitops_free(d);	/* stale: the daemon has not fetched yet */
		} else {
			if (rc)
				snprintf(cg->warning, sizeof cg->warning, "cannot reach '%s' (%s): "
					 "reading the daemon's mirror as of its last fetch", url, why);
			gitops_free(cg->g);
			cg->g = d;
			cg->source = CTL_REPO_DAEMON;
			snprintf(cg->where, sizeof cg->where, "%s", dir);
			snprintf(cg->rev, sizeof cg->rev, "%s", ref);
			memcpy(cg->tip, dtip, sizeof cg->tip);
			if (cg->warning[0])
				fprintf(stderr, "%s: warning: %s\n", prefix, cg->warning);
			return 0;
		}
	}
	return fetch(cg, url);
}

int ctl_git_local(struct ctl_git *cg, const char *path)
{
	struct buf err = BUF_INIT;
	int rc;

	memset(cg, 0, sizeof *cg);
	cg->source = CTL_REPO_LOCAL;
	snprintf(cg->name, sizeof cg->name, "%s", path);
	snprintf(cg->where, sizeof cg->where, "%s", path);
	rc = gitops_open_local(&cg->g, path, &err);
	if (rc)
		fprintf(stderr, "pipelinectl: %s\n", err.data ? err.data : "cannot open repository");
	buf_release(&err);
	if (rc == 0) {
		snprintf(cg->rev, sizeof cg->rev, "HEAD");
		if (gitops_resolve(cg->tip, cg->g, "HEAD"))
			cg->tip[0] = '\0';
	}
	return rc;
}

void ctl_git_close(struct ctl_git *cg)
{
	gitops_free(cg->g);
	cg->g = NULL;
	if (cg->tmp[0])
		nftw(cg->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	cg->tmp[0] = '\0';
}

bool ctl_deploy_notes(char *ref, size_t refsz, char id[GITOPS_HEXSZ + 1], struct gitops *g)
{
	static const char *const refs[] = { GITOPS_TRACKING "notes/pipelined-deploy",
					    GITOPS_DEPLOY_NOTES_REF };

	for (size_t i = 0; g && i < ARRAY_SIZE(refs); i++)
		if (gitops_resolve(id, g, refs[i]) == 0) {
			snprintf(ref, refsz, "%s", refs[i]);
			return true;
		}
	id[0] = '\0';
	ref[0] = '\0';
	return false;
}

void ctl_git_describe(FILE *f, const struct ctl_git *cg)
{
	static const char *const how[] = {
		[CTL_REPO_TEMP] = "fetched into a temporary mirror",
		[CTL_REPO_LOCAL] = "--repo",
		[CTL_REPO_DAEMON] = "the daemon's mirror",
		[CTL_REPO_CACHE] = "fetched into",
	};
	char at[64] = "";

	if (cg->tip[0])
		snprintf(at, sizeof at, " at %.12s", cg->tip);
	if (cg->source == CTL_REPO_LOCAL)
		fprintf(f, "repository: %s HEAD%s (--repo)\n", cg->name, at);
	else
		fprintf(f, "repository: %s branch %s%s (%s%s%s%s)\n", cg->name, cg->branch, at,
			how[cg->source], cg->source == CTL_REPO_TEMP ? "" : " ",
			cg->source == CTL_REPO_TEMP ? "" : cg->where,
			cg->warning[0] ? ", as of its last fetch: the remote cannot be reached" : "");
}

json_t *ctl_git_json(const struct ctl_git *cg)
{
	static const char *const src[] = {
		[CTL_REPO_TEMP] = "fetched", [CTL_REPO_LOCAL] = "repo",
		[CTL_REPO_DAEMON] = "daemon-mirror", [CTL_REPO_CACHE] = "cache",
	};

	return json_pack("{s:s, s:s?, s:s?, s:s, s:s?}", "repository", cg->name,
			 "branch", cg->branch[0] ? cg->branch : NULL,
			 "commit", cg->tip[0] ? cg->tip : NULL, "source", src[cg->source],
			 "dir", cg->source == CTL_REPO_TEMP ? NULL : cg->where);
}

const char *ctl_git_rev(char *out, size_t outsz, const struct ctl_git *cg, const char *rev)
{
	if (cg->source == CTL_REPO_LOCAL || strncmp(rev, "HEAD", 4) != 0 ||
	    (rev[4] != '\0' && rev[4] != '~' && rev[4] != '^'))
		return rev;
	snprintf(out, outsz, "%s%s", cg->rev, rev + 4);
	return out;
}

/* One value from the user's git configuration (global/XDG/system). */
static int config_get(char *out, size_t outsz, git_config *c, const char *key)
{
	git_config_entry *e = NULL;
	int rc = git_config_get_entry(&e, c, key);

	if (rc == 0 && e->value && *e->value)
		snprintf(out, outsz, "%s", e->value);
	else
		rc = ERR_NOTFOUND;
	git_config_entry_free(e);
	return rc;
}

int ctl_user_identity(char *name, size_t namesz, char *email, size_t emailsz,
		      char *source, size_t sourcesz)
{
	const char *en = getenv("GIT_AUTHOR_NAME"), *ee = getenv("GIT_AUTHOR_EMAIL");
	git_config *c = NULL;
	int rc;

	if (en && *en && ee && *ee) {
		snprintf(name, namesz, "%s", en);
		snprintf(email, emailsz, "%s", ee);
		snprintf(source, sourcesz, "GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL");
		return 0;
	}
	/* the daemon hides these files from libgit2 (gitops_global_init);
	 * here the user's own identity is wanted, deliberately */
	git_libgit2_init();
	rc = git_config_open_default(&c);
	if (rc == 0)
		rc = config_get(name, namesz, c, "user.name");
	if (rc == 0)
		rc = config_get(email, emailsz, c, "user.email");
	git_config_free(c);
	git_libgit2_shutdown();
	if (rc)
		return ERR_NOTFOUND;
	snprintf(source, sourcesz, "git config user.name/user.email");
	return 0;
}

int ctl_user_config(char *out, size_t outsz, const char *key)
{
	git_config *c = NULL;
	int rc;

	git_libgit2_init();
	rc = git_config_open_default(&c);
	if (rc == 0)
		rc = config_get(out, outsz, c, key);
	git_config_free(c);
	git_libgit2_shutdown();
	return rc ? ERR_NOTFOUND : 0;
}

int ctl_git_push_commit(struct ctl_git *cg, const char *cmd, const char *ref, const char *id,
			const char *expect, bool dry_run)
{
	struct gitops_result res;

	if (gitops_ref_set(cg->g, ref, id)) {
		fprintf(stderr, "pipelinectl %s: %s\n", cmd, gitops_error(cg->g));
		return 2;
	}
	if (dry_run)
		return 0;
	if (gitops_push_sync(cg->g, ref, ref, expect, &res)) {
		fprintf(stderr, "pipelinectl %s: push of '%s' failed: %s\n", cmd,
			ref + (strncmp(ref, "refs/heads/", 11) ? 0 : 11), res.error);
		gitops_result_release(&res);
		return 2;
	}
	gitops_result_release(&res);
	return 0;
}

int ctl_git_commit_push(char commit[41], struct ctl_git *cg, const char *cmd, const char *ref,
			const struct gitops_commit_spec *spec, const char *expect, bool dry_run)
{
	char id[GITOPS_HEXSZ + 1];

	if (gitops_commit_create(id, cg->g, spec)) {
		fprintf(stderr, "pipelinectl %s: %s\n", cmd, gitops_error(cg->g));
		return 2;
	}
	if (ctl_git_push_commit(cg, cmd, ref, id, expect, dry_run))
		return 2;
	strlcpy_(commit, id, GITOPS_HEXSZ + 1);
	return 0;
}

void ctl_format_time(char *out, size_t outsz, int64_t t, const struct tz_rule *tz)
{
	struct tm u, l;
	int32_t off;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &u) || tz_rule_localtime(&l, &off, tz, tt)) {
		snprintf(out, outsz, "@%lld", (long long)t);
		return;
	}
	snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d UTC (%02d:%02d %s)", u.tm_year + 1900,
		 u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min, l.tm_hour, l.tm_min,
		 tz_rule_abbrev(tz, tt));
}
