/* ctl_init.c - pipelinectl init URL|DIR [-o FILE] [--force]: from a GitOps
 * repository (a url, fetched into a throw-away mirror, or a local clone)
 * find the Helm values files and the scalars that look like image tags,
 * infer the explicit tag mapping of pipelines.conf(5) (one shared tag, a
 * per-image template such as services.{image}.image.tag, [image] paths,
 * image references), and write a commented pipelines.conf for review, with
 * what `pipelinectl check` says about it appended as comments.  It guesses;
 * the check under the file says whether the guess holds, and nothing is
 * ever pushed.
 *
 * The inference is initconf.c's (pure: bytes in, text out); this file lists
 * the tree, reads the files, checks the result and writes it. */
#include "config_load.h"
#include "ctl.h"
#include "gitops.h"
#include "initconf.h"
#include "sysio.h"

#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INIT_MAX_TREE 20000		/* paths listed in the tree */

static const char init_usage[] =
	"usage: pipelinectl init URL|DIR [-o FILE] [--force] [--branch NAME] [--key FILE]\n"
	"                        [--known-hosts FILE]\n";

struct init_args {
	const char *source, *out, *branch, *key, *known_hosts;
	bool force;
};

static int parse_args(struct init_args *a, int argc, char **argv)
{
	const struct ctl_arg args[] = {
		{ "--force", NULL, &a->force },
		{ "-f", NULL, &a->force },
		{ "-o", &a->out, NULL },
		{ "--branch", &a->branch, NULL },
		{ "--key", &a->key, NULL },
		{ "--known-hosts", &a->known_hosts, NULL },
		{ NULL, NULL, NULL },
	};

	if (ctl_parse_args("init", init_usage, args, &a->source, 1, argc, argv))
		return 2;
	if (!a->source) {
		fputs(init_usage, stderr);
		return 2;
	}
	if (a->out && !a->force && access(a->out, F_OK) == 0) {
		fprintf(stderr, "pipelinectl init: '%s' exists; not overwritten (use --force)\n",
			a->out);
		return 2;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* pipelined speaks ssh (or a local path): an https origin becomes the
 * ssh:// url of the same host and path, the form GitHub and GitLab serve. */
static void https_to_ssh(char *out, size_t outsz, const char *url)
{
	const char *p = strncmp(url, "https://", 8) == 0 ? url + 8 : NULL;
	const char *at = p ? strchr(p, '@') : NULL, *slash = p ? strchr(p, '/') : NULL;

	if (!p || !slash) {
		snprintf(out, outsz, "%s", url);
		return;
	}
	if (at && at < slash)	/* never copy credentials embedded in the url */
		p = at + 1;
	snprintf(out, outsz, "ssh://git@%.*s%s%s", (int)(slash - p), p, slash,
		 ends_with(slash, ".git") ? "" : ".git");
}

/* A local clone: its origin's url when it has one (that is what the
 * daemon should push to), else its own absolute path; and its branch. */
static void local_facts(char *url, size_t urlsz, char *branch, size_t brsz, const char *dir)
{
	git_repository *repo = NULL;
	git_remote *origin = NULL;
	git_reference *head = NULL;
	char abs[1024];

	if (!realpath(dir, abs))
		snprintf(abs, sizeof abs, "%s", dir);
	snprintf(url, urlsz, "%s", abs);
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0)
		return;
	if (git_remote_lookup(&origin, repo, "origin") == 0 && git_remote_url(origin))
		https_to_ssh(url, urlsz, git_remote_url(origin));
	else if (git_repository_is_bare(repo) == 0 && git_repository_workdir(repo))
		snprintf(url, urlsz, "%.*s", (int)strcspn(git_repository_workdir(repo), "\n"),
			 git_repository_workdir(repo));
	if (!branch[0] && git_repository_head(&head, repo) == 0 && git_reference_is_branch(head))
		snprintf(branch, brsz, "%s", git_reference_shorthand(head));
	/* a work tree's path ends in '/': the daemon's url form has none */
	if (url[0] == '/' && strlen(url) > 1 && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	git_reference_free(head);
	git_remote_free(origin);
	git_repository_free(repo);
}

static int open_source(struct ctl_git *cg, struct init_args *a, char *url, size_t urlsz,
		       char *branch, size_t brsz)
{
	struct config cfg;
	struct stat st;

	snprintf(branch, brsz, "%s", a->branch ? a->branch : "");
	if (stat(a->source, &st) == 0 && S_ISDIR(st.st_mode)) {
		local_facts(url, urlsz, branch, brsz, a->source);
		if (!branch[0])
			snprintf(branch, brsz, "main");
		return ctl_git_local(cg, a->source);
	}
	snprintf(url, urlsz, "%s", a->source);
	if (!branch[0])
		snprintf(branch, brsz, "main");
	memset(&cfg, 0, sizeof cfg);
	cfg.repository.url.url = url;
	cfg.repository.branch = branch;
	cfg.repository.ssh_key = (char *)a->key;
	cfg.repository.known_hosts = (char *)a->known_hosts;
	cfg.repository.deadline_ms = 60000;
	if (ctl_git_remote(cg, &cfg, "pipelinectl", "pipelinectl@localhost", NULL) == 0)
		return 0;
	if ((!a->key || !a->known_hosts) && (strncmp(url, "ssh://", 6) == 0 ||
					     (!strstr(url, "://") && strchr(url, ':'))))
		fprintf(stderr, "pipelinectl init: an ssh url needs --key FILE and --known-hosts "
			"FILE (a key with read access is enough), or give a local clone\n");
	return 2;
}

/* The values file of each deploy stage in the tree at rev, read. */
static int read_values(struct initconf_file files[STAGE_COUNT], struct buf bytes[STAGE_COUNT],
		       struct ctl_git *cg, char ***paths, size_t *npaths)
{
	size_t nfiles = 0;
	int rc = gitops_changed_paths(paths, npaths, cg->g, NULL, cg->rev, INIT_MAX_TREE);

	if (rc && rc != ERR_TOOBIG) {
		fprintf(stderr, "pipelinectl init: %s\n", gitops_error(cg->g));
		return 2;
	}
	for (size_t i = 0; i < *npaths && nfiles < INITCONF_MAX_FILES; i++) {
		const char *p = (*paths)[i];

		if (!initconf_is_values_file(p))
			continue;
		nfiles++;
		for (int s = 0; s < STAGE_COUNT; s++)
			if (stage_is_deploy((enum stage)s) && !files[s].path &&
			    initconf_names_stage(p, (enum stage)s))
				files[s].path = p;
	}
	for (int s = 0; s < STAGE_COUNT; s++) {
		if (!files[s].path)
			continue;
		buf_init(&bytes[s], INITCONF_MAX_FILE_BYTES);
		if (gitops_read_file(&bytes[s], cg->g, cg->rev, files[s].path)) {
			files[s].error = gitops_error(cg->g);
			continue;
		}
		files[s].data = bytes[s].data ? bytes[s].data : "";
		files[s].len = bytes[s].len;
	}
	fprintf(stderr, "pipelinectl init: %zu values file%s found%s\n", nfiles,
		nfiles == 1 ? "" : "s", rc == ERR_TOOBIG ? " (the tree is larger than read)" : "");
	return 0;
}

static void comment_lines(struct buf *out, const char *text)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		buf_printf(out, "# %.*s\n", (int)n, p);
		p = nl ? nl + 1 : NULL;
	}
}

/* The check of the text, as comment lines appended to out: 0 when every
 * stage can be promoted, 1 when not (or the file does not load). */
static int append_check(struct buf *out, const char *check_text, struct ctl_git *cg)
{
	char tmpl[300], *mem = NULL;
	const char *tmp = getenv("TMPDIR");
	struct config *cfg = NULL;
	struct buf errors = BUF_INIT;
	size_t memlen = 0;
	FILE *f;
	int fd, rc = 1;

	snprintf(tmpl, sizeof tmpl, "%s/pipelinectl-init.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
	buf_adds(out, "\n# ---- pipelinectl check of this file ----\n");
	fd = mkstemp(tmpl);
	if (fd < 0 || write(fd, check_text, strlen(check_text)) != (ssize_t)strlen(check_text)) {
		buf_printf(out, "# (not checked: cannot write a temporary file: %s)\n", strerror(errno));
		if (fd >= 0)
			close(fd), unlink(tmpl);
		return 1;
	}
	close(fd);
	if (config_load(&cfg, tmpl, &errors)) {
		buf_adds(out, "# the file does not load yet:\n");
		comment_lines(out, errors.data);
	} else if ((f = open_memstream(&mem, &memlen))) {
		rc = ctl_check_stages(f, "# ", cg->g, cg->rev, cfg, -1, NULL);
		fclose(f);
		buf_add(out, mem, memlen);
		if (rc)
			buf_adds(out, "# (fix the rules above until every stage can be promoted)\n");
	}
	free(mem);
	unlink(tmpl);
	buf_release(&errors);
	config_free(cfg);
	return rc;
}

static int write_out(const struct init_args *a, const struct buf *text)
{
	if (!a->out) {
		if (fwrite(text->data, 1, text->len, stdout) != text->len || fflush(stdout)) {
			fprintf(stderr, "pipelinectl init: cannot write to standard output\n");
			return 2;
		}
		return 0;
	}
	if (!a->force && access(a->out, F_OK) == 0) {
		fprintf(stderr, "pipelinectl init: '%s' exists; not overwritten (use --force)\n",
			a->out);
		return 2;
	}
	if (file_write_atomic(a->out, text->data, text->len, 0644)) {
		fprintf(stderr, "pipelinectl init: cannot write '%s'\n", a->out);
		return 2;
	}
	fprintf(stderr, "pipelinectl init: wrote %s; next: pipelinectl -c %s check, then "
		"pipelined -n -c %s\n", a->out, a->out, a->out);
	return 0;
}

static int run_init(struct init_args *a)
{
	struct ctl_git cg;
	struct initconf_file files[STAGE_COUNT];
	struct buf bytes[STAGE_COUNT];
	struct buf text = BUF_INIT, check = BUF_INIT;
	struct initconf_opts o;
	char url[1100], branch[256];
	char **paths = NULL;
	size_t npaths = 0;
	int rc = 2, checked;

	memset(&cg, 0, sizeof cg);
	memset(files, 0, sizeof files);
	for (int s = 0; s < STAGE_COUNT; s++)
		buf_init(&bytes[s], 0);
	if (open_source(&cg, a, url, sizeof url, branch, sizeof branch) ||
	    read_values(files, bytes, &cg, &paths, &npaths))
		goto out;
	o = (struct initconf_opts){ .url = url, .branch = branch, .source = a->source };
	if (initconf_render(&text, files, &o))
		goto out;
	o.for_check = true;
	o.url = "/nonexistent/for-the-check";
	if (initconf_render(&check, files, &o))
		goto out;
	checked = append_check(&text, check.data, &cg);
	rc = write_out(a, &text);
	if (rc == 0 && checked) {
		fprintf(stderr, "pipelinectl init: the check under the file says what to fix\n");
		rc = 1;
	}
out:
	gitops_paths_free(paths, npaths);
	ctl_git_close(&cg);
	for (int s = 0; s < STAGE_COUNT; s++)
		buf_release(&bytes[s]);
	buf_release(&text);
	buf_release(&check);
	return rc;
}

int cmd_init(int argc, char **argv, const struct ctl_opts *opts)
{
	struct init_args a = { 0 };
	int rc;

	(void)opts;
	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	if (gitops_global_init()) {
		fprintf(stderr, "pipelinectl init: cannot initialise libgit2\n");
		return 2;
	}
	rc = run_init(&a);
	gitops_global_shutdown();
	return rc;
}
