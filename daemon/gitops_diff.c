/* gitops_diff.c - which paths changed between two commits (local object
 * work: call it off the loop thread).  The engine asks it for a request's
 * diff from its merge base (SPEC 5.2, wrong-files). */
#include "gitops_int.h"

#include <stdlib.h>
#include <string.h>

#define GITOPS_DIFF_MAX_PATHS 4096

struct paths_acc {
	char **v;
	size_t n;
	int rc;
};

static int add_path(struct paths_acc *acc, const char *path)
{
	char **nv;

	if (!path)
		return 0;
	for (size_t i = 0; i < acc->n; i++)
		if (strcmp(acc->v[i], path) == 0)
			return 0;	/* a rename names the same path twice */
	if (acc->n >= GITOPS_DIFF_MAX_PATHS)
		return ERR_TOOBIG;
	if (!(nv = realloc(acc->v, (acc->n + 1) * sizeof *nv)))
		return ERR_NOMEM;
	acc->v = nv;
	if (!(acc->v[acc->n] = xstrndup(path, strlen(path))))
		return ERR_NOMEM;
	acc->n++;
	return 0;
}

static int delta_cb(const git_diff_delta *d, float progress, void *payload)
{
	struct paths_acc *acc = payload;

	(void)progress;
	if ((acc->rc = add_path(acc, d->old_file.path)) == 0 &&
	    (acc->rc = add_path(acc, d->new_file.path)) == 0)
		return 0;
	return -1;
}

static int commit_tree(git_tree **out, struct gitops *g, const char *rev)
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

void gitops_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

int gitops_diff_paths(char ***out, size_t *n, struct gitops *g, const char *from, const char *to)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	struct paths_acc acc = { NULL, 0, 0 };
	int rc;

	/* a type change or a mode flip is a change too; no rename detection:
	 * both old and new paths of a move are reported */
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_INCLUDE_TYPECHANGE;
	if ((rc = commit_tree(&a, g, from)) || (rc = commit_tree(&b, g, to)))
		goto out;
	if ((rc = git_diff_tree_to_tree(&diff, g->repo, a, b, &opts)) < 0) {
		rc = gitops_gitfail(g, rc, "cannot diff '%s' and '%s'", from, to);
		goto out;
	}
	rc = git_diff_foreach(diff, delta_cb, NULL, NULL, NULL, &acc);
	if (rc && acc.rc)
		rc = gitops_fail(g, acc.rc, "too many changed paths between '%s' and '%s'",
				 from, to);
	else if (rc < 0)
		rc = gitops_gitfail(g, rc, "cannot diff '%s' and '%s'", from, to);
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	if (rc) {
		gitops_paths_free(acc.v, acc.n);
		return rc;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}
