/* gitops_sig.c - the signature of a commit and the bytes it signs, for
 * sigverify.c (the verification itself never touches the repository). */
#include "gitops_int.h"
#include "sigverify.h"

int gitops_commit_signature(struct buf *sig, struct buf *payload, struct gitops *g,
			    const char *rev)
{
	git_buf s = { 0 }, d = { 0 };
	git_object *obj = NULL;
	git_oid id;
	int rc = git_revparse_single(&obj, g->repo, rev);

	if (rc == 0) {
		git_object *c = NULL;

		rc = git_object_peel(&c, obj, GIT_OBJECT_COMMIT);
		if (rc == 0)
			git_oid_cpy(&id, git_object_id(c));
		git_object_free(c);
		git_object_free(obj);
	}
	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot find commit '%s'", rev);
	rc = git_commit_extract_signature(&s, &d, g->repo, &id, NULL);
	if (rc == GIT_ENOTFOUND)
		return gitops_fail(g, ERR_NOTFOUND, "commit '%s' is not signed", rev);
	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot read the signature of '%s'", rev);
	if (buf_add(sig, s.ptr, s.size) || buf_add(payload, d.ptr, d.size))
		rc = gitops_fail(g, ERR_TOOBIG, "signature of '%s' does not fit", rev);
	git_buf_dispose(&s);
	git_buf_dispose(&d);
	return rc;
}
