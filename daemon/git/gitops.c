/* gitops.c - the mirror handle and the local object half of the git layer:
 * files at a commit, commits without a work tree, notes, history walks. */
#include "gitops_int.h"
#include "trailer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gitops_global_init(void)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
				      GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA };
	size_t i;

	if (git_libgit2_init() < 0)
		return ERR_FAIL;
	for (i = 0; i < ARRAY_SIZE(levels); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return ERR_FAIL;
	return 0;
}

void gitops_global_shutdown(void)
{
	git_libgit2_shutdown();
}

int gitops_map_git_error(int rc)
{
	switch (rc) {
	case GIT_ENOTFOUND: return ERR_NOTFOUND;
	case GIT_ECERTIFICATE: return GITOPS_EHOSTKEY;
	case GIT_EAUTH: return GITOPS_EAUTH;
	case GIT_ENONFASTFORWARD: return GITOPS_ENONFF;
	default: return ERR_FAIL;
	}
}

static void vfail(struct gitops *g, const git_error *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vfail(struct gitops *g, const git_error *e, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(g->err, sizeof g->err, fmt, ap);
	n = strlen(g->err);
	if (e && e->message && n < sizeof g->err)
		snprintf(g->err + n, sizeof g->err - n, ": %s", e->message);
}

int gitops_fail(struct gitops *g, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(g, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int gitops_gitfail(struct gitops *g, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(g, git_error_last(), fmt, ap);
	va_end(ap);
	return gitops_map_git_error(rc);
}

const char *gitops_error(const struct gitops *g)
{
	return g->err;
}

const char *gitops_tracking_branch(const struct gitops *g)
{
	return g->tracking;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof tmp)
		return ERR_TOOBIG;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return ERR_IO;
		tmp[i] = i < n ? '/' : '\0';
	}
	return 0;
}

static int copy_opts(struct gitops *g, const struct gitops_opts *o)
{
	struct buf home = BUF_INIT;

	g->url = dup_or_null(o->url);
	g->branch = dup_or_null(o->branch);
	g->ssh_key = dup_or_null(o->ssh_key);
	g->known_hosts = dup_or_null(o->known_hosts);
	g->mirror = dup_or_null(o->mirror);
	g->worker = dup_or_null(o->worker ? o->worker : PIPELINED_LIBEXECDIR "/pipelined-git");
	g->ident_name = dup_or_null(o->ident_name);
	g->ident_email = dup_or_null(o->ident_email);
	if (buf_printf(&home, "%s/pipelined-home", o->mirror))
		return ERR_NOMEM;
	g->home = buf_detach(&home, NULL);
	if (!g->url || !g->branch || !g->mirror || !g->worker || !g->ident_name ||
	    !g->ident_email || !g->home)
		return ERR_NOMEM;
	g->deadline_ms = o->deadline_ms ? o->deadline_ms : GITOPS_DEFAULT_DEADLINE_MS;
	g->backoff_ms = o->backoff_ms ? o->backoff_ms : GITOPS_DEFAULT_BACKOFF_MS;
	g->push_attempts = o->push_attempts ? o->push_attempts : GITOPS_DEFAULT_ATTEMPTS;
	g->seed = (unsigned)mono_ms() ^ (unsigned)getpid();
	snprintf(g->tracking, sizeof g->tracking, GITOPS_TRACKING "heads/%s", g->branch);
	return 0;
}

static int check_opts(const struct gitops_opts *o, struct buf *err)
{
	const char *missing = !o->url ? "url" : !o->branch ? "branch" : !o->mirror ? "mirror" :
			      !o->ident_name ? "identity name" : !o->ident_email ? "identity email" : NULL;

	if (missing) {
		if (err)
			buf_printf(err, "git: no %s given", missing);
		return ERR_INVALID;
	}
	char ref[256];
	int valid = 0;

	snprintf(ref, sizeof ref, "refs/heads/%s", o->branch);
	if (strlen(o->branch) > 200 || git_reference_name_is_valid(&valid, ref) < 0 || !valid ||
	    strchr(o->branch, '*')) {
		if (err)
			buf_printf(err, "git: invalid branch name '%s'", o->branch);
		return ERR_INVALID;
	}
	return 0;
}

static int open_mirror(struct gitops *g)
{
	git_repository_init_options io;
	int rc;

	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);

	if (mkdir_p(g->mirror, 0700))
		return gitops_fail(g, ERR_IO, "cannot create mirror directory '%s': %s",
				   g->mirror, strerror(errno));
	rc = git_repository_open_bare(&g->repo, g->mirror);
	if (rc == GIT_ENOTFOUND) {
		io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		rc = git_repository_init_ext(&g->repo, g->mirror, &io);
	}
	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot open mirror '%s'", g->mirror);
	if (mkdir(g->home, 0700) < 0 && errno != EEXIST)
		return gitops_fail(g, ERR_IO, "cannot create '%s': %s", g->home, strerror(errno));
	return 0;
}

int gitops_open(struct gitops **out, const struct gitops_opts *opts, struct buf *err)
{
	struct gitops *g;
	int rc;

	if ((rc = check_opts(opts, err)))
		return rc;
	g = calloc(1, sizeof *g);
	if (!g)
		return ERR_NOMEM;
	if ((rc = copy_opts(g, opts)) || (rc = open_mirror(g))) {
		if (err)
			buf_printf(err, "git: %s", g->err[0] ? g->err : "out of memory");
		gitops_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void gitops_free(struct gitops *g)
{
	if (!g)
		return;
	gitops_session_close(g);
	git_repository_free(g->repo);
	free(g->url);
	free(g->branch);
	free(g->ssh_key);
	free(g->known_hosts);
	free(g->mirror);
	free(g->worker);
	free(g->home);
	free(g->ident_name);
	free(g->ident_email);
	free(g);
}

static int lookup_commit(git_commit **out, struct gitops *g, const char *rev)
{
	git_object *obj = NULL;
	int rc = git_revparse_single(&obj, g->repo, rev);

	if (rc == 0) {
		rc = git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
	}
	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot find commit '%s'", rev);
	return 0;
}

int gitops_resolve(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *rev)
{
	git_commit *c;
	int rc = lookup_commit(&c, g, rev);

	if (rc)
		return rc;
	git_oid_tostr(out, GITOPS_HEXSZ + 1, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

int gitops_ref_set(struct gitops *g, const char *ref, const char *rev)
{
	git_reference *r = NULL;
	git_commit *c;
	int rc = lookup_commit(&c, g, rev);

	if (rc)
		return rc;
	rc = git_reference_create(&r, g->repo, ref, git_commit_id(c), 1, "pipelined");
	git_commit_free(c);
	git_reference_free(r);
	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot set '%s'", ref);
	return 0;
}

/* The blob at path in commit c, or *out = NULL if the path does not exist. */
static int blob_at(git_blob **out, struct gitops *g, git_commit *c, const char *path)
{
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	int rc;

	*out = NULL;
	if ((rc = git_commit_tree(&tree, c)) < 0)
		return gitops_gitfail(g, rc, "cannot read tree of %s", git_oid_tostr_s(git_commit_id(c)));
	rc = git_tree_entry_bypath(&ent, tree, path);
	if (rc == GIT_ENOTFOUND) {
		rc = 0;
	} else if (rc == 0 && git_tree_entry_type(ent) != GIT_OBJECT_BLOB) {
		rc = gitops_fail(g, ERR_INVALID, "'%s' is not a file", path);
	} else if (rc == 0) {
		rc = git_blob_lookup(out, g->repo, git_tree_entry_id(ent));
		if (rc < 0)
			rc = gitops_gitfail(g, rc, "cannot read '%s'", path);
		else if (git_blob_rawsize(*out) > GITOPS_MAX_FILE) {
			git_blob_free(*out);
			*out = NULL;
			rc = gitops_fail(g, ERR_TOOBIG, "'%s' is larger than %u bytes", path,
					 GITOPS_MAX_FILE);
		}
	} else {
		rc = gitops_gitfail(g, rc, "cannot look up '%s'", path);
	}
	git_tree_entry_free(ent);
	git_tree_free(tree);
	return rc;
}

int gitops_read_file(struct buf *out, struct gitops *g, const char *rev, const char *path)
{
	git_commit *c;
	git_blob *b;
	int rc = lookup_commit(&c, g, rev);

	if (rc)
		return rc;
	rc = blob_at(&b, g, c, path);
	if (rc == 0 && !b)
		rc = gitops_fail(g, ERR_NOTFOUND, "'%s' does not exist in %s", path, rev);
	if (rc == 0 && (rc = buf_add(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b))))
		rc = gitops_fail(g, rc, "'%s' does not fit", path);
	git_blob_free(b);
	git_commit_free(c);
	return rc;
}

int gitops_blob_id(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *rev,
		   const char *path)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	int rc = lookup_commit(&c, g, rev);

	if (rc)
		return rc;
	if ((rc = git_commit_tree(&tree, c)) < 0)
		rc = gitops_gitfail(g, rc, "cannot read tree of %s", rev);
	else if ((rc = git_tree_entry_bypath(&ent, tree, path)) == GIT_ENOTFOUND)
		rc = gitops_fail(g, ERR_NOTFOUND, "'%s' does not exist in %s", path, rev);
	else if (rc < 0)
		rc = gitops_gitfail(g, rc, "cannot look up '%s'", path);
	else if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB)
		rc = gitops_fail(g, ERR_INVALID, "'%s' is not a file", path);
	else
		git_oid_tostr(out, GITOPS_HEXSZ + 1, git_tree_entry_id(ent));
	git_tree_entry_free(ent);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int gitops_blob_hash(char out[GITOPS_HEXSZ + 1], const char *data, size_t len)
{
	git_oid oid;

	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		return ERR_FAIL;
	git_oid_tostr(out, GITOPS_HEXSZ + 1, &oid);
	return 0;
}

static int make_sig(git_signature **out, struct gitops *g, const struct gitops_person *p)
{
	int rc;

	if (!p)
		rc = git_signature_now(out, g->ident_name, g->ident_email);
	else if (p->now)
		rc = git_signature_now(out, p->name, p->email);
	else
		rc = git_signature_new(out, p->name, p->email, (git_time_t)p->time, p->offset_min);
	if (rc < 0)
		return gitops_gitfail(g, rc, "invalid identity '%s <%s>'", p ? p->name : g->ident_name,
				   p ? p->email : g->ident_email);
	return 0;
}

static int build_tree(git_tree **out, struct gitops *g, git_commit *base,
		      const struct gitops_file *files, size_t n)
{
	git_tree_update *up = calloc(n ? n : 1, sizeof *up);
	git_tree *tree = NULL;
	git_oid id;
	size_t i;
	int rc = up ? 0 : ERR_NOMEM;

	for (i = 0; rc == 0 && i < n; i++) {
		if (files[i].len > GITOPS_MAX_FILE) {
			rc = gitops_fail(g, ERR_TOOBIG, "'%s' is too large", files[i].path);
			break;
		}
		rc = git_blob_create_from_buffer(&up[i].id, g->repo, files[i].data, files[i].len);
		up[i].action = GIT_TREE_UPDATE_UPSERT;
		up[i].filemode = GIT_FILEMODE_BLOB;
		up[i].path = files[i].path;
		if (rc < 0)
			rc = gitops_gitfail(g, rc, "cannot write '%s'", files[i].path);
	}
	if (rc == 0 && (rc = git_commit_tree(&tree, base)) < 0)
		rc = gitops_gitfail(g, rc, "cannot read base tree");
	if (rc == 0 && (rc = git_tree_create_updated(&id, g->repo, tree, n, up)) < 0)
		rc = gitops_gitfail(g, rc, "cannot build tree");
	if (rc == 0 && (rc = git_tree_lookup(out, g->repo, &id)) < 0)
		rc = gitops_gitfail(g, rc, "cannot read new tree");
	git_tree_free(tree);
	free(up);
	return rc;
}

/* The commit's bytes, signed by spec->sign, stored with the signature in
 * its gpgsig header (as git commit -S does). */
static int create_signed(git_oid *id, struct gitops *g, const struct gitops_commit_spec *spec,
			 const git_signature *author, const git_signature *committer,
			 const git_tree *tree, git_commit *parents[2])
{
	git_buf content = { 0 };
	struct buf sig = BUF_INIT;
	int rc = git_commit_create_buffer(&content, g->repo, author, committer, NULL,
					  spec->message, tree, spec->nparents,
					  (const git_commit **)parents);

	if (rc < 0)
		return gitops_gitfail(g, rc, "cannot create commit");
	buf_init(&sig, 64 * 1024);
	if ((rc = spec->sign(&sig, content.ptr, content.size, spec->sign_data)))
		rc = gitops_fail(g, rc, "cannot sign the commit: %s",
				 sig.data && sig.len ? sig.data : "no reason given");
	else if ((rc = git_commit_create_with_signature(id, g->repo, content.ptr, sig.data,
							 "gpgsig")) < 0)
		rc = gitops_gitfail(g, rc, "cannot create the signed commit");
	buf_release(&sig);
	git_buf_dispose(&content);
	return rc;
}

int gitops_commit_create(char out[GITOPS_HEXSZ + 1], struct gitops *g,
			 const struct gitops_commit_spec *spec)
{
	git_commit *parents[2] = { NULL, NULL };
	git_signature *author = NULL, *committer = NULL;
	git_tree *tree = NULL;
	git_oid id;
	size_t i;
	int rc = 0;

	if (spec->nparents < 1 || spec->nparents > 2 || !spec->message)
		return gitops_fail(g, ERR_INVALID, "a commit needs 1 or 2 parents and a message");
	for (i = 0; rc == 0 && i < spec->nparents; i++)
		rc = lookup_commit(&parents[i], g, spec->parents[i]);
	if (rc == 0)
		rc = build_tree(&tree, g, parents[0], spec->files, spec->nfiles);
	if (rc == 0 && !(rc = make_sig(&author, g, spec->author)))
		rc = make_sig(&committer, g, NULL);
	if (rc == 0 && spec->sign)
		rc = create_signed(&id, g, spec, author, committer, tree, parents);
	else if (rc == 0 && (rc = git_commit_create(&id, g->repo, NULL, author, committer, NULL,
						    spec->message, tree, spec->nparents,
						    (const git_commit **)parents)) < 0)
		rc = gitops_gitfail(g, rc, "cannot create commit");
	if (rc == 0)
		git_oid_tostr(out, GITOPS_HEXSZ + 1, &id);
	git_signature_free(author);
	git_signature_free(committer);
	git_tree_free(tree);
	git_commit_free(parents[0]);
	git_commit_free(parents[1]);
	return rc;
}

static char *sdup(const char *s)
{
	return xstrndup(s ? s : "", strlen(s ? s : ""));
}

int gitops_commit_info(struct gitops_commit_info *out, struct gitops *g, const char *rev)
{
	struct gitops_commit_info ci;
	const git_signature *a, *c;
	git_commit *cm;
	unsigned i;
	int rc = lookup_commit(&cm, g, rev);

	if (rc)
		return rc;
	memset(&ci, 0, sizeof ci);
	a = git_commit_author(cm);
	c = git_commit_committer(cm);
	git_oid_tostr(ci.id, sizeof ci.id, git_commit_id(cm));
	git_oid_tostr(ci.tree, sizeof ci.tree, git_commit_tree_id(cm));
	ci.nparents = git_commit_parentcount(cm);
	for (i = 0; i < ci.nparents && i < 2; i++)
		git_oid_tostr(ci.parents[i], sizeof ci.parents[i], git_commit_parent_id(cm, i));
	ci.author_name = sdup(a->name);
	ci.author_email = sdup(a->email);
	ci.author_time = a->when.time;
	ci.author_offset_min = a->when.offset;
	ci.committer_name = sdup(c->name);
	ci.committer_email = sdup(c->email);
	ci.committer_time = c->when.time;
	ci.committer_offset_min = c->when.offset;
	ci.message = sdup(git_commit_message_raw(cm));
	git_commit_free(cm);
	if (!ci.author_name || !ci.author_email || !ci.committer_name || !ci.committer_email ||
	    !ci.message) {
		gitops_commit_info_release(&ci);
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	}
	*out = ci;
	return 0;
}

void gitops_commit_info_release(struct gitops_commit_info *ci)
{
	if (!ci)
		return;
	free(ci->author_name);
	free(ci->author_email);
	free(ci->committer_name);
	free(ci->committer_email);
	free(ci->message);
	memset(ci, 0, sizeof *ci);
}

int gitops_note_commit(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *base_rev,
		       const char *target, const char *text)
{
	git_commit *parent = NULL, *t = NULL;
	git_signature *sig = NULL;
	git_object *obj = NULL;
	git_oid id;
	int rc;

	if (base_rev && git_revparse_single(&obj, g->repo, base_rev) == 0) {
		rc = git_object_peel((git_object **)&parent, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (rc < 0)
			return gitops_gitfail(g, rc, "'%s' is not a notes commit", base_rev);
	}
	rc = lookup_commit(&t, g, target);
	if (rc == 0)
		rc = make_sig(&sig, g, NULL);
	if (rc == 0 && (rc = git_note_commit_create(&id, NULL, g->repo, parent, sig, sig,
						    git_commit_id(t), text, 1)) < 0)
		rc = gitops_gitfail(g, rc, "cannot add note to %s", target);
	if (rc == 0)
		git_oid_tostr(out, GITOPS_HEXSZ + 1, &id);
	git_signature_free(sig);
	git_commit_free(t);
	git_commit_free(parent);
	return rc;
}

int gitops_note_read(struct buf *out, struct gitops *g, const char *notes_rev, const char *target)
{
	git_commit *notes = NULL, *t = NULL;
	git_note *note = NULL;
	int rc = lookup_commit(&notes, g, notes_rev);

	if (rc == 0)
		rc = lookup_commit(&t, g, target);
	if (rc == 0 && (rc = git_note_commit_read(&note, g->repo, notes, git_commit_id(t))) < 0)
		rc = gitops_gitfail(g, rc, "no note on %s", target);
	if (rc == 0 && buf_adds(out, git_note_message(note)))
		rc = gitops_fail(g, ERR_TOOBIG, "note on %s does not fit", target);
	git_note_free(note);
	git_commit_free(t);
	git_commit_free(notes);
	return rc;
}

/* True when c is stop or an ancestor of it: history the caller already knows. */
static int known(struct gitops *g, const git_oid *c, const git_oid *stop)
{
	return stop && (git_oid_equal(c, stop) || git_graph_descendant_of(g->repo, stop, c) == 1);
}

/* The facts of c, its strings borrowed from c (valid while c is). */
static void commit_view(struct gitops_commit_info *ci, const git_commit *c)
{
	const git_signature *a = git_commit_author(c), *m = git_commit_committer(c);
	unsigned i;

	git_oid_tostr(ci->id, sizeof ci->id, git_commit_id(c));
	git_oid_tostr(ci->tree, sizeof ci->tree, git_commit_tree_id(c));
	ci->nparents = git_commit_parentcount(c);
	for (i = 0; i < 2; i++)
		if (i < ci->nparents)
			git_oid_tostr(ci->parents[i], sizeof ci->parents[i], git_commit_parent_id(c, i));
		else
			ci->parents[i][0] = '\0';
	/* the struct has owned strings elsewhere; here the callee only reads */
	ci->author_name = (char *)(a->name ? a->name : "");
	ci->author_email = (char *)(a->email ? a->email : "");
	ci->author_time = a->when.time;
	ci->author_offset_min = a->when.offset;
	ci->committer_name = (char *)(m->name ? m->name : "");
	ci->committer_email = (char *)(m->email ? m->email : "");
	ci->committer_time = m->when.time;
	ci->committer_offset_min = m->when.offset;
	ci->message = (char *)git_commit_message_raw(c);
}

/* The one first-parent walk: fn(ci, data) on each commit of rev's
 * first-parent history, newest first, down to stop (exclusive; NULL = the
 * root).  Returns fn's first non-zero result (positive = stop), 0 at the
 * end, or ERR_TOOBIG with *over set and no message when more than max
 * commits lie above stop: each caller words that bound in its own terms
 * (a callback's own ERR_TOOBIG keeps its message). */
static int walk_first_parents(struct gitops *g, const char *rev, const char *stop, size_t max,
			      gitops_commit_cb *fn, void *data, bool *over)
{
	git_commit *c = NULL, *s = NULL, *next;
	struct gitops_commit_info ci;
	git_oid stop_id;
	size_t count = 0;
	int rc = lookup_commit(&c, g, rev);

	if (rc == 0 && stop && (rc = lookup_commit(&s, g, stop)) == 0)
		git_oid_cpy(&stop_id, git_commit_id(s));
	while (rc == 0 && c && !known(g, git_commit_id(c), s ? &stop_id : NULL)) {
		if (count++ == max) {
			*over = true;
			rc = ERR_TOOBIG;
			break;
		}
		commit_view(&ci, c);
		if ((rc = fn(&ci, data)) != 0)
			break;
		next = NULL;
		if (git_commit_parentcount(c) > 0 && (rc = git_commit_parent(&next, c, 0)) < 0)
			rc = gitops_gitfail(g, rc, "cannot read parent of %s", ci.id);
		git_commit_free(c);
		c = next;
	}
	git_commit_free(c);
	git_commit_free(s);
	return rc;
}

/* The walk's bound, worded for what was walked: a whole history, or the
 * commits above stop. */
static void over_fail(struct gitops *g, int rc, size_t max, const char *rev, const char *stop)
{
	if (stop)
		gitops_fail(g, rc, "more than %zu commits after '%s'", max, stop);
	else
		gitops_fail(g, rc, "more than %zu first-parent commits up to '%s'", max, rev);
}

struct id_list {
	char (*ids)[GITOPS_HEXSZ + 1];
	size_t n;
};

static int collect_id(const struct gitops_commit_info *ci, void *data)
{
	struct id_list *l = data;

	memcpy(l->ids[l->n++], ci->id, sizeof *l->ids);
	return 0;
}

int gitops_first_parents(char (**out)[GITOPS_HEXSZ + 1], size_t *n, struct gitops *g,
			 const char *rev, const char *stop, size_t max)
{
	struct id_list l = { calloc(max ? max : 1, sizeof *l.ids), 0 };
	bool over = false;
	int rc = l.ids ? walk_first_parents(g, rev, stop, max, collect_id, &l, &over) : ERR_NOMEM;

	if (over)
		over_fail(g, rc, max, rev, stop);
	if (rc && rc != ERR_TOOBIG) {
		free(l.ids);
		return rc;
	}
	*out = l.ids;
	*n = l.n;
	return rc;
}

int gitops_walk_commits(struct gitops *g, const char *rev, const char *stop, size_t max,
			gitops_commit_cb *fn, void *data)
{
	bool over = false;
	int rc = walk_first_parents(g, rev, stop, max, fn, data, &over);

	if (over)
		over_fail(g, rc, max, rev, stop);
	return rc > 0 ? 0 : rc;
}

void gitops_verify_hashes(bool on)
{
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on ? 1 : 0);
}

void gitops_cache_objects(bool on)
{
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, on ? 1 : 0);
}

const char *gitops_git_dir(const struct gitops *g)
{
	return git_repository_path(g->repo);
}

int gitops_merge_base(char out[GITOPS_HEXSZ + 1], struct gitops *g, const char *a, const char *b)
{
	git_commit *ca = NULL, *cb = NULL;
	git_oid id;
	int rc = lookup_commit(&ca, g, a);

	if (rc == 0)
		rc = lookup_commit(&cb, g, b);
	if (rc == 0 && (rc = git_merge_base(&id, g->repo, git_commit_id(ca), git_commit_id(cb))) < 0)
		rc = gitops_gitfail(g, rc, "no merge base of '%s' and '%s'", a, b);
	if (rc == 0)
		git_oid_tostr(out, GITOPS_HEXSZ + 1, &id);
	git_commit_free(ca);
	git_commit_free(cb);
	return rc;
}

int gitops_is_ancestor(struct gitops *g, const char *ancestor, const char *descendant)
{
	git_commit *a = NULL, *d = NULL;
	int rc = lookup_commit(&a, g, ancestor);

	if (rc == 0)
		rc = lookup_commit(&d, g, descendant);
	if (rc == 0) {
		if (git_oid_equal(git_commit_id(a), git_commit_id(d)))
			rc = 1;
		else if ((rc = git_graph_descendant_of(g->repo, git_commit_id(d),
						       git_commit_id(a))) < 0)
			rc = gitops_gitfail(g, rc, "cannot compare '%s' and '%s'", ancestor, descendant);
	}
	git_commit_free(a);
	git_commit_free(d);
	return rc;
}

int gitops_one_commit_on(struct gitops *g, const char *rev, const char *onto)
{
	char id[GITOPS_HEXSZ + 1], parent[GITOPS_HEXSZ + 1];
	int rc = 0;

	strlcpy_(id, rev, sizeof id);
	for (int depth = 0; depth <= TRAILER_APPROVALS_MAX; depth++) {
		git_commit *c = NULL, *p = NULL;
		bool empty;

		if ((rc = lookup_commit(&c, g, id)))
			return rc;
		if (git_commit_parentcount(c) != 1) {
			git_commit_free(c);
			return 0;
		}
		git_oid_tostr(parent, sizeof parent, git_commit_parent_id(c, 0));
		if ((rc = gitops_is_ancestor(g, parent, onto)) != 0) {
			git_commit_free(c);
			return rc;
		}
		if ((rc = lookup_commit(&p, g, parent))) {
			git_commit_free(c);
			return rc;
		}
		empty = git_oid_equal(git_commit_tree_id(c), git_commit_tree_id(p));
		git_commit_free(c);
		git_commit_free(p);
		if (!empty)
			return 0;
		strlcpy_(id, parent, sizeof id);
	}
	return 0;
}
