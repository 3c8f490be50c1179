/* history_walk.c - the git half of the promotion history (history_walk.h):
 * walks the mirror through gitops and hands each commit to the pure
 * history_add_commit / history_approves of core/history.c. */
#include "history_walk.h"
#include "trailer.h"

#include <stdlib.h>
#include <string.h>

/* Appends the promotion record of each commit that is one.  A message the
 * trailer parser refuses (oversized, ambiguous) records nothing: loading
 * never guesses; the auditor reports such commits. */
struct load {
	struct history *h;
	size_t cap;
};

static int load_cb(const struct gitops_commit_info *ci, void *data)
{
	struct load *l = data;

	return history_add_commit(l->h, &l->cap, ci);
}

int history_load(struct history *out, struct gitops *g, const char *rev, const char *stop,
		 struct buf *err)
{
	struct history h;
	struct load l = { .h = &h };
	int rc;

	memset(&h, 0, sizeof h);
	if ((rc = gitops_resolve(h.tip, g, rev))) {
		if (err)
			buf_printf(err, "history: %s", gitops_error(g));
		return rc;
	}
	/* one pass: each commit read once, its strings not copied */
	rc = gitops_walk_commits(g, h.tip, stop, HISTORY_MAX_COMMITS, load_cb, &l);
	if (rc == ERR_TOOBIG) {
		h.truncated = true;
		rc = 0;
	} else if (rc == ERR_NOMEM) {
		if (err)
			buf_printf(err, "history: out of memory");
	} else if (rc && err) {
		buf_printf(err, "history: %s", gitops_error(g));
	}
	if (rc) {
		history_release(&h);
		return rc;
	}
	*out = h;
	return 0;
}

struct each {
	history_entry_cb *fn;
	void *data;
};

static int each_cb(const struct gitops_commit_info *ci, void *data)
{
	struct each *w = data;
	struct trailer_list tl = { 0 };
	struct history_entry e;
	int rc = 0;

	if (trailer_parse(&tl, ci->message, strlen(ci->message), NULL) == 0 &&
	    (rc = history_entry_from_commit(&e, ci, &tl)) == 0) {
		rc = w->fn(&e, w->data);
		history_entry_release(&e);
	} else if (rc == ERR_NOTFOUND) {
		rc = 0;
	}
	trailer_list_release(&tl);
	return rc;
}

int history_each(struct gitops *g, const char *rev, const char *stop, history_entry_cb *fn,
		 void *data, bool *truncated, struct buf *err)
{
	struct each w = { fn, data };
	int rc = gitops_walk_commits(g, rev, stop, HISTORY_MAX_COMMITS, each_cb, &w);

	*truncated = rc == ERR_TOOBIG;
	if (rc == ERR_TOOBIG)
		return 0;
	if (rc == ERR_NOMEM && err)
		buf_printf(err, "history: out of memory");
	else if (rc && err)
		buf_printf(err, "history: %s", gitops_error(g));
	return rc;
}

static int same_tree(bool *out, struct gitops *g, const struct gitops_commit_info *ci)
{
	struct gitops_commit_info pc;
	int rc;

	memset(&pc, 0, sizeof pc);
	if ((rc = gitops_commit_info(&pc, g, ci->parents[0])))
		return rc;
	*out = strcmp(pc.tree, ci->tree) == 0;
	gitops_commit_info_release(&pc);
	return 0;
}

int history_request_walk(struct history_request_chain *out, struct gitops *g, const char *tip)
{
	struct history_request_chain c;
	char id[GITOPS_HEXSZ + 1], approves[GITOPS_HEXSZ + 1];
	int rc = 0;

	memset(&c, 0, sizeof c);
	strlcpy_(id, tip, sizeof id);
	for (;;) {
		struct gitops_commit_info ci;
		struct history_approval *a;

		memset(&ci, 0, sizeof ci);
		if ((rc = gitops_commit_info(&ci, g, id)))
			break;
		if (c.n == TRAILER_APPROVALS_MAX || ci.nparents != 1 ||
		    !history_approves(approves, ci.message)) {
			strlcpy_(c.request, ci.id, sizeof c.request);
			gitops_commit_info_release(&ci);
			break;
		}
		a = &c.approvals[c.n++];
		strlcpy_(a->commit, ci.id, sizeof a->commit);
		strlcpy_(a->approves, approves, sizeof a->approves);
		a->author_name = xstrndup(ci.author_name ? ci.author_name : "",
					  strlen(ci.author_name ? ci.author_name : ""));
		a->author_email = xstrndup(ci.author_email ? ci.author_email : "",
					   strlen(ci.author_email ? ci.author_email : ""));
		strlcpy_(id, ci.parents[0], sizeof id);
		rc = !a->author_name || !a->author_email ? ERR_NOMEM : same_tree(&a->same_tree, g, &ci);
		gitops_commit_info_release(&ci);
		if (rc)
			break;
	}
	if (rc) {
		history_request_chain_release(&c);
		return rc;
	}
	*out = c;
	return 0;
}
