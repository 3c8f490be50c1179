/* request.c - see request.h */
#include "request.h"

#include <stdio.h>
#include <string.h>

#include "yamledit.h"

int request_commit_build(char out[GITOPS_HEXSZ + 1], char tip[GITOPS_HEXSZ + 1],
			 struct gitops *g, const struct request_spec *rs, struct buf *err)
{
	struct buf old = BUF_INIT, vals = BUF_INIT, why = BUF_INIT;
	struct yamledit_stats st = { 0 };
	struct gitops_file file;
	struct gitops_commit_spec spec;
	char remote[400], id[GITOPS_HEXSZ + 1];
	int rc;

	snprintf(remote, sizeof remote, GITOPS_TRACKING "heads/%s", rs->branch);
	if (gitops_resolve(id, g, remote) == 0) {
		buf_seterr(err, "'%s' already exists on the remote; choose another name",
			   rs->branch);
		return ERR_REJECTED;
	}
	if ((rc = gitops_resolve(tip, g, rs->base)) ||
	    (rc = gitops_read_file(&old, g, tip, rs->values_path))) {
		buf_seterr(err, "%s", gitops_error(g));
		goto out;
	}
	rc = layout_apply(&vals, &st, rs->rules, old.data ? old.data : "", old.len, rs->tag,
			  NULL, &why);
	if (rc) {
		buf_seterr(err, "%s: %s", rs->values_path,
			   why.data ? why.data : "cannot edit the values file");
		rc = ERR_INVALID;
		goto out;
	}
	if (st.changed == 0) {
		buf_seterr(err, "%s already sets every tag to %s; nothing to request",
			   rs->values_path, rs->tag);
		rc = ERR_INVALID;
		goto out;
	}
	file = (struct gitops_file){ rs->values_path, vals.data, vals.len };
	memset(&spec, 0, sizeof spec);
	spec.parents[0] = tip;
	spec.nparents = 1;
	spec.files = &file;
	spec.nfiles = 1;
	spec.message = rs->message;
	spec.author = rs->author;
	if ((rc = gitops_commit_create(out, g, &spec)))
		buf_seterr(err, "%s", gitops_error(g));
out:
	buf_release(&old);
	buf_release(&vals);
	buf_release(&why);
	return rc;
}
