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
