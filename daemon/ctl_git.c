/* ctl_git.c - the git side shared by pipelinectl promote, log and audit:
 * a throw-away mirror of the configured remote (or a local clone), the
 * user's own git identity, and time stamps in UTC and the market's zone. */
#define _XOPEN_SOURCE 700	/* nftw */
#include "ctl.h"
#include "config.h"
#include "clock.h"
#include "gitops.h"

#include <ftw.h>
#include <git2.h>
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

int ctl_git_remote(struct ctl_git *cg, const struct config *cfg, const char *name,
		   const char *email, const char *key)
{
	struct gitops_opts o = { 0 };
	struct gitops_result res;
	struct buf err = BUF_INIT, mirror = BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	char worker[1100];
	int rc;

	memset(cg, 0, sizeof *cg);
	snprintf(cg->tmp, sizeof cg->tmp, "%s/pipelinectl.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
	if (!mkdtemp(cg->tmp)) {
		fprintf(stderr, "pipelinectl: cannot create a temporary directory in '%s'\n",
			cg->tmp);
		cg->tmp[0] = '\0';
		return ERR_IO;
	}
	buf_printf(&mirror, "%s/mirror.git", cg->tmp);
	o.url = cfg->repository.url.url;
	o.branch = cfg->repository.branch;
	o.ssh_key = key ? key : cfg->repository.ssh_key;
	o.known_hosts = cfg->repository.known_hosts;
	o.mirror = mirror.data;
	o.worker = worker_path(worker, sizeof worker);
	o.deadline_ms = cfg->repository.deadline_ms;
	o.ident_name = name;
	o.ident_email = email;
	o.push_attempts = 1;
	rc = gitops_open(&cg->g, &o, &err);
	buf_release(&mirror);
	if (rc) {
		fprintf(stderr, "pipelinectl: %s\n", err.data ? err.data : "cannot open git");
		buf_release(&err);
		return rc;
	}
	buf_release(&err);
	rc = gitops_fetch_sync(cg->g, &res);
	if (rc)
		fprintf(stderr, "pipelinectl: fetch from '%s' failed: %s\n", o.url, res.error);
	gitops_result_release(&res);
	if (rc == 0)
		snprintf(cg->rev, sizeof cg->rev, "%s", gitops_tracking_branch(cg->g));
	return rc;
}

int ctl_git_local(struct ctl_git *cg, const char *path)
{
	struct buf err = BUF_INIT;
	int rc;

	memset(cg, 0, sizeof *cg);
	rc = gitops_open_local(&cg->g, path, &err);
	if (rc)
		fprintf(stderr, "pipelinectl: %s\n", err.data ? err.data : "cannot open repository");
	buf_release(&err);
	if (rc == 0)
		snprintf(cg->rev, sizeof cg->rev, "HEAD");
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
