/* gitops_local.c - a gitops handle on an existing local repository (a
 * clone, bare or not), for the read-only history commands of pipelinectl
 * (log, audit --repo): nothing is created in it and no network is used. */
#include "gitops_int.h"

#include <stdlib.h>
#include <string.h>

int gitops_open_local(struct gitops **out, const char *path, struct buf *err)
{
	struct gitops *g = calloc(1, sizeof *g);
	int rc;

	if (!g)
		return ERR_NOMEM;
	g->url = xstrndup(path, strlen(path));
	g->mirror = xstrndup(path, strlen(path));
	if (!g->url || !g->mirror) {
		gitops_free(g);
		return ERR_NOMEM;
	}
	/* like git: a work tree, its .git, a bare repository, or a directory
	 * below a work tree */
	rc = git_repository_open_ext(&g->repo, path, 0, NULL);
	if (rc < 0) {
		const git_error *e = git_error_last();

		if (err)
			buf_printf(err, "git: '%s' is not a git repository%s%s", path,
				   e && e->message ? ": " : "", e && e->message ? e->message : "");
		gitops_free(g);
		return rc == GIT_ENOTFOUND ? ERR_NOTFOUND : ERR_FAIL;
	}
	*out = g;
	return 0;
}

static int tree_of(git_tree **out, struct gitops *g, const char *rev)
{
	git_object *obj = NULL;
	int rc = git_revparse_single(&obj, g->repo, rev);

	if (rc == 0) {
		rc = git_object_peel((git_object **)out, obj, GIT_OBJECT_TREE);
		git_object_free(obj);
	}
	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot find the tree of '%s'", rev);
	return 0;
}

int gitops_changed_paths(char ***out, size_t *n, struct gitops *g, const char *old_rev,
			 const char *new_rev, size_t max)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	char **v = NULL;
	size_t k = 0, nd;
	int rc = old_rev ? tree_of(&a, g, old_rev) : 0;

	if (rc == 0)
		rc = tree_of(&b, g, new_rev);
	if (rc == 0 && (rc = git_diff_tree_to_tree(&diff, g->repo, a, b, NULL)) < 0)
		rc = gitops_gitfail(g, rc, "cannot compare '%s' with '%s'", old_rev ? old_rev : "nothing",
				    new_rev);
	nd = rc == 0 ? git_diff_num_deltas(diff) : 0;
	if (rc == 0 && nd > max)
		rc = gitops_fail(g, ERR_TOOBIG, "'%s' changes more than %zu paths", new_rev, max);
	if (rc == 0 && !(v = calloc(nd ? nd : 1, sizeof *v)))
		rc = gitops_fail(g, ERR_NOMEM, "out of memory");
	for (; rc == 0 && k < nd; k++) {
		const git_diff_delta *d = git_diff_get_delta(diff, k);
		const char *p = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;

		if (!(v[k] = xstrndup(p, strlen(p))))
			rc = gitops_fail(g, ERR_NOMEM, "out of memory");
	}
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	if (rc) {
		gitops_paths_free(v, k);
		return rc;
	}
	*out = v;
	*n = nd;
	return 0;
}

int gitops_mode_change(struct gitops_mode_change *out, struct gitops *g, const char *old_rev,
		       const char *new_rev)
{
	git_diff_options opt;
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	int rc = tree_of(&a, g, old_rev), found = 0;

	git_diff_options_init(&opt, GIT_DIFF_OPTIONS_VERSION);
	/* without TYPECHANGE a file become a link is a deletion plus an
	 * addition, whose modes never meet in one delta */
	opt.flags = GIT_DIFF_INCLUDE_TYPECHANGE;
	if (rc == 0)
		rc = tree_of(&b, g, new_rev);
	if (rc == 0 && (rc = git_diff_tree_to_tree(&diff, g->repo, a, b, &opt)) < 0)
		rc = gitops_gitfail(g, rc, "cannot compare '%s' with '%s'", old_rev, new_rev);
	for (size_t k = 0; rc == 0 && !found && k < git_diff_num_deltas(diff); k++) {
		const git_diff_delta *d = git_diff_get_delta(diff, k);

		if (d->old_file.mode && d->new_file.mode && d->old_file.mode != d->new_file.mode) {
			strlcpy_(out->path, d->new_file.path, sizeof out->path);
			out->old_mode = d->old_file.mode;
			out->new_mode = d->new_file.mode;
			found = 1;
		}
	}
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return rc ? rc : found;
}

void gitops_paths_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
