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

/* The changed paths are found by walking both trees side by side and
 * descending only into subtrees whose ids differ, which is what
 * git_diff_tree_to_tree finds without TYPECHANGE, at a fraction of its cost
 * (pipelinectl audit asks this of every commit of the history):
 *   - a file (or link, or submodule) that differs: its path, once;
 *   - one whose type changed (file <-> link): its path twice, as the diff's
 *     deletion then addition;
 *   - a file become a directory or the reverse: the file's path, and every
 *     file below the directory, in git's path order;
 *   - a mode change alone (100644 -> 100755): its path. */
struct paths_walk {
	struct gitops *g;
	const char *rev;
	char **v;
	char (*ids)[GITOPS_HEXSZ + 1];	/* with memo: each path's new blob id */
	size_t n, cap, max;
	struct buf path;
	struct gitops_trees *memo;	/* NULL: every tree looked up */
	const git_tree_entry *eb;	/* the entry walk_add records (new side) */
};

/* The trees of the last comparison's new side, kept for the next one
 * (gitops_tree_changes): along a first-parent chain a commit's trees are
 * its child's old side, so each is read once, with libgit2's object cache
 * off.  prev: the last call's; cur: this call's. */
#define MEMO_MAX 64
struct memo_tree {
	git_oid id;
	git_tree *t;
};
struct gitops_trees {
	struct gitops *g;
	struct memo_tree prev[MEMO_MAX], cur[MEMO_MAX];
	size_t nprev, ncur;
};

static int walk_add(struct paths_walk *w)
{
	char *p;

	if (w->n >= w->max)
		return gitops_fail(w->g, ERR_TOOBIG, "'%s' changes more than %zu paths", w->rev, w->max);
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 2;	/* mostly one path a commit */
		char **v = realloc(w->v, cap * sizeof *v);

		if (!v)
			return gitops_fail(w->g, ERR_NOMEM, "out of memory");
		w->v = v;
		if (w->memo) {
			char (*ids)[GITOPS_HEXSZ + 1] = realloc(w->ids, cap * sizeof *ids);

			if (!ids)
				return gitops_fail(w->g, ERR_NOMEM, "out of memory");
			w->ids = ids;
		}
		w->cap = cap;
	}
	if (!(p = xstrndup(w->path.data, w->path.len)))
		return gitops_fail(w->g, ERR_NOMEM, "out of memory");
	if (w->memo) {
		if (w->eb && git_tree_entry_type(w->eb) == GIT_OBJECT_BLOB)
			git_oid_tostr(w->ids[w->n], GITOPS_HEXSZ + 1, git_tree_entry_id(w->eb));
		else
			w->ids[w->n][0] = '\0';
	}
	w->v[w->n++] = p;
	return 0;
}

/* Tree id of the last comparison's new side, borrowed from the memo. */
static git_tree *memo_find(struct gitops_trees *m, const git_oid *id)
{
	for (size_t i = 0; m && i < m->nprev; i++)
		if (m->prev[i].t && git_oid_equal(&m->prev[i].id, id))
			return m->prev[i].t;
	return NULL;
}

/* Kept for the next comparison (the memo owns t then), or not (false). */
static bool memo_keep(struct gitops_trees *m, git_tree *t)
{
	if (!m || m->ncur == MEMO_MAX)
		return false;
	git_oid_cpy(&m->cur[m->ncur].id, git_tree_id(t));
	m->cur[m->ncur++].t = t;
	return true;
}

/* A tree of the old side (a), or the new (b), memo first. */
static int tree_get(git_tree **out, bool *owned, struct paths_walk *w, const git_oid *id,
		    bool new_side)
{
	git_tree *t = memo_find(w->memo, id);
	int rc;

	*owned = false;
	if (!t) {
		if ((rc = git_tree_lookup(&t, w->g->repo, id)) < 0)
			return gitops_gitfail(w->g, rc, "cannot read a tree of '%s'", w->rev);
		*owned = !(new_side && memo_keep(w->memo, t));
	}
	*out = t;
	return 0;
}

static int walk_trees(struct paths_walk *w, const git_tree *a, const git_tree *b);

/* Descends into entry e (a tree, or NULL) on side a or b, with the other
 * side empty. */
static int walk_subtree(struct paths_walk *w, const git_tree_entry *ea, const git_tree_entry *eb)
{
	git_tree *ta = NULL, *tb = NULL;
	bool owna = false, ownb = false;
	int rc = 0;

	if (ea && (rc = tree_get(&ta, &owna, w, git_tree_entry_id(ea), false)))
		return rc;
	if (eb && (rc = tree_get(&tb, &ownb, w, git_tree_entry_id(eb), true))) {
		if (owna)
			git_tree_free(ta);
		return rc;
	}
	rc = walk_trees(w, ta, tb);
	if (owna)
		git_tree_free(ta);
	if (ownb)
		git_tree_free(tb);
	return rc;
}

/* git's tree order: a directory sorts as its name followed by '/'. */
static int entry_cmp(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *na = git_tree_entry_name(a), *nb = git_tree_entry_name(b);
	size_t la = strlen(na), lb = strlen(nb), l = la < lb ? la : lb;
	int c = memcmp(na, nb, l);
	unsigned char ca, cb;

	if (c)
		return c;
	ca = la > l ? (unsigned char)na[l] : git_tree_entry_type(a) == GIT_OBJECT_TREE ? '/' : 0;
	cb = lb > l ? (unsigned char)nb[l] : git_tree_entry_type(b) == GIT_OBJECT_TREE ? '/' : 0;
	return ca - cb;
}

/* One side's entry (ea or eb; the other NULL), or both with one name. */
static int walk_entry(struct paths_walk *w, const git_tree_entry *ea, const git_tree_entry *eb)
{
	const git_tree_entry *e = ea ? ea : eb;
	size_t len = w->path.len;
	bool ta = ea && git_tree_entry_type(ea) == GIT_OBJECT_TREE;
	bool tb = eb && git_tree_entry_type(eb) == GIT_OBJECT_TREE;
	int rc;

	if (ea && eb && git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) &&
	    git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb))
		return 0;
	if ((len && buf_addch(&w->path, '/')) || buf_adds(&w->path, git_tree_entry_name(e)))
		return gitops_fail(w->g, ERR_NOMEM, "out of memory");
	w->eb = eb;
	if (ta || tb)	/* both trees (same name in git's order means same type) */
		rc = walk_subtree(w, ea, eb);
	else if (ea && eb && (git_tree_entry_filemode(ea) & 0170000) !=
			     (git_tree_entry_filemode(eb) & 0170000)) {	/* S_IFMT */
		w->eb = NULL;		/* deletion, addition */
		if ((rc = walk_add(w)) == 0) {
			w->eb = eb;
			rc = walk_add(w);
		}
	} else {
		rc = walk_add(w);
	}
	w->path.len = len;
	if (w->path.data)
		w->path.data[len] = 0;
	return rc;
}

static int walk_trees(struct paths_walk *w, const git_tree *a, const git_tree *b)
{
	size_t na = a ? git_tree_entrycount(a) : 0, nb = b ? git_tree_entrycount(b) : 0;
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < na || j < nb)) {
		const git_tree_entry *ea = i < na ? git_tree_entry_byindex(a, i) : NULL;
		const git_tree_entry *eb = j < nb ? git_tree_entry_byindex(b, j) : NULL;
		int c = !ea ? 1 : !eb ? -1 : entry_cmp(ea, eb);

		rc = walk_entry(w, c <= 0 ? ea : NULL, c >= 0 ? eb : NULL);
		i += c <= 0;
		j += c >= 0;
	}
	return rc;
}

int gitops_changed_paths(char ***out, size_t *n, struct gitops *g, const char *old_rev,
			 const char *new_rev, size_t max)
{
	struct paths_walk w = { .g = g, .rev = new_rev, .max = max };
	git_tree *a = NULL, *b = NULL;
	int rc = old_rev ? tree_of(&a, g, old_rev) : 0;

	buf_init(&w.path, 0);
	if (rc == 0)
		rc = tree_of(&b, g, new_rev);
	if (rc == 0)
		rc = walk_trees(&w, a, b);
	buf_release(&w.path);
	git_tree_free(a);
	git_tree_free(b);
	if (rc) {
		gitops_paths_free(w.v, w.n);
		return rc;
	}
	if (!w.v && !(w.v = calloc(1, sizeof *w.v)))
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	*out = w.v;
	*n = w.n;
	return 0;
}

int gitops_trees_open(struct gitops_trees **out, struct gitops *g)
{
	if (!(*out = calloc(1, sizeof **out)))
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	(*out)->g = g;
	return 0;
}

static void memo_drop(struct memo_tree *v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		git_tree_free(v[i].t);
	*n = 0;
}

void gitops_trees_free(struct gitops_trees *m)
{
	if (!m)
		return;
	memo_drop(m->prev, &m->nprev);
	memo_drop(m->cur, &m->ncur);
	free(m);
}

int gitops_tree_changes(char ***out, char (**ids)[GITOPS_HEXSZ + 1], size_t *n,
			struct gitops_trees *m, const char *old_tree, const char *new_tree,
			const char *rev, size_t max)
{
	struct paths_walk w = { .g = m->g, .rev = rev, .max = max, .memo = m };
	git_tree *a = NULL, *b = NULL;
	bool owna = false, ownb = false;
	git_oid ia, ib;
	int rc = 0;

	buf_init(&w.path, 0);
	memo_drop(m->cur, &m->ncur);
	if ((old_tree && git_oid_fromstr(&ia, old_tree) < 0) || git_oid_fromstr(&ib, new_tree) < 0)
		rc = gitops_fail(m->g, ERR_INVALID, "'%s' is not a tree id", rev);
	if (rc == 0 && old_tree)
		rc = tree_get(&a, &owna, &w, &ia, false);
	if (rc == 0)
		rc = tree_get(&b, &ownb, &w, &ib, true);
	if (rc == 0)
		rc = walk_trees(&w, a, b);
	if (owna)
		git_tree_free(a);
	if (ownb)
		git_tree_free(b);
	buf_release(&w.path);
	/* this call's new side is the next one's old side */
	memo_drop(m->prev, &m->nprev);
	memcpy(m->prev, m->cur, m->ncur * sizeof *m->cur);
	m->nprev = m->ncur;
	m->ncur = 0;
	if (rc == 0 && !w.v && (!(w.v = calloc(1, sizeof *w.v)) ||
				!(w.ids = calloc(1, sizeof *w.ids))))
		rc = gitops_fail(m->g, ERR_NOMEM, "out of memory");
	if (rc) {
		gitops_paths_free(w.v, w.n);
		free(w.ids);
		return rc;
	}
	*out = w.v;
	*ids = w.ids;
	*n = w.n;
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
