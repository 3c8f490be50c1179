/* Unit tests for the local half of gitops.c on a real bare repository in a
 * temp dir: reading files, commits without a work tree (one parent and the
 * two-parent request merge), notes, first-parent walks, ancestry, and the
 * errors for bad input.  No network: the remote URL is never contacted.
 * ctest: cost 20 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitops.h"
#include "request.h"
#include "util.h"

struct fx {
	char dir[64];
	struct gitops *g;
	char root[GITOPS_HEXSZ + 1];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct gitops_opts o = { 0 };
	struct buf mirror = BUF_INIT;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid blob, tid, cid;
	git_repository *repo;

	strlcpy_(f->dir, "/tmp/test_gitops.XXXXXX", sizeof f->dir);
	assert_non_null(mkdtemp(f->dir));
	buf_printf(&mirror, "%s/mirror.git", f->dir);
	o.url = "ssh://git@127.0.0.1:1/never-contacted.git";
	o.branch = "main";
	o.mirror = mirror.data;
	o.ident_name = "pipelined";
	o.ident_email = "pipelined@gremlin-1";
	assert_int_equal(gitops_open(&f->g, &o, NULL), 0);
	/* a root commit, made with plain libgit2 */
	assert_int_equal(git_repository_open_bare(&repo, mirror.data), 0);
	assert_int_equal(git_blob_create_from_buffer(&blob, repo, "tag: \"a\"\n", 9), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "values.yaml", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tid), 0);
	assert_int_equal(git_signature_new(&sig, "Root", "root@example.com", 1700000000, 0), 0);
	assert_int_equal(git_commit_create(&cid, repo, "refs/heads/main", sig, sig, NULL, "root\n",
					   tree, 0, NULL), 0);
	git_oid_tostr(f->root, sizeof f->root, &cid);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_repository_free(repo);
	buf_release(&mirror);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "rm", "-rf", f->dir, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	gitops_free(f->g);
	free(f);
	return 0;
}

/* commit_one: one-parent commit of values.yaml = text on top of parent */
static void commit_one(char out[GITOPS_HEXSZ + 1], struct fx *f, const char *parent,
		       const char *text, const char *msg)
{
	struct gitops_file file = { "values.yaml", text, strlen(text) };
	struct gitops_commit_spec s = { { parent, NULL }, 1, &file, 1, msg, NULL, NULL, NULL };

	assert_int_equal(gitops_commit_create(out, f->g, &s), 0);
}

static void test_read_file(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	assert_int_equal(gitops_read_file(&b, f->g, "refs/heads/main", "values.yaml"), 0);
	assert_string_equal(b.data, "tag: \"a\"\n");
	buf_reset(&b);
	assert_int_equal(gitops_read_file(&b, f->g, f->root, "missing.yaml"), ERR_NOTFOUND);
	assert_non_null(strstr(gitops_error(f->g), "'missing.yaml' does not exist"));
	assert_int_equal(gitops_read_file(&b, f->g, "refs/heads/nope", "values.yaml"), ERR_NOTFOUND);
	assert_non_null(strstr(gitops_error(f->g), "cannot find commit 'refs/heads/nope'"));
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_commit_without_worktree(void **state)
{
	struct fx *f = *state;
	struct gitops_file files[] = { { "values.yaml", "tag: \"b\"\n", 9 },
				       { "deep/new/file.txt", "x", 1 } };
	struct gitops_person author = { "Dev", "dev@example.com", 1767319445, 60, false };
	struct gitops_commit_spec s = { { f->root, NULL }, 1, files, 2, "bump\n", &author, NULL, NULL };
	struct gitops_commit_info ci;
	struct buf b = BUF_INIT;
	char c[GITOPS_HEXSZ + 1], main_before[GITOPS_HEXSZ + 1], main_after[GITOPS_HEXSZ + 1];

	assert_int_equal(gitops_resolve(main_before, f->g, "refs/heads/main"), 0);
	assert_int_equal(gitops_commit_create(c, f->g, &s), 0);
	assert_int_equal(gitops_resolve(main_after, f->g, "refs/heads/main"), 0);
	assert_string_equal(main_before, main_after);	/* no ref moved */
	assert_int_equal(gitops_read_file(&b, f->g, c, "deep/new/file.txt"), 0);
	assert_string_equal(b.data, "x");
	assert_int_equal(gitops_commit_info(&ci, f->g, c), 0);
	assert_int_equal(ci.nparents, 1);
	assert_string_equal(ci.parents[0], f->root);
	assert_string_equal(ci.author_name, "Dev");
	assert_int_equal(ci.author_time, 1767319445);
	assert_int_equal(ci.author_offset_min, 60);
	assert_string_equal(ci.committer_name, "pipelined");
	assert_string_equal(ci.committer_email, "pipelined@gremlin-1");
	assert_string_equal(ci.message, "bump\n");
	gitops_commit_info_release(&ci);
	gitops_commit_info_release(NULL);
	buf_release(&b);
}

static void test_merge_commit(void **state)
{
	struct fx *f = *state;
	char tip[GITOPS_HEXSZ + 1], req[GITOPS_HEXSZ + 1], m[GITOPS_HEXSZ + 1];
	struct gitops_file file = { "values.yaml", "tag: \"daemon\"\n", 14 };
	struct gitops_commit_spec s = { { NULL, NULL }, 2, &file, 1, "promote\n", NULL, NULL, NULL };
	struct gitops_commit_info ci;
	struct buf b = BUF_INIT;

	commit_one(tip, f, f->root, "tag: \"tip\"\n", "tip\n");
	commit_one(req, f, f->root, "tag: \"request\"\nextra\n", "request\n");
	s.parents[0] = tip;
	s.parents[1] = req;
	assert_int_equal(gitops_commit_create(m, f->g, &s), 0);
	assert_int_equal(gitops_commit_info(&ci, f->g, m), 0);
	assert_int_equal(ci.nparents, 2);
	assert_string_equal(ci.parents[0], tip);
	assert_string_equal(ci.parents[1], req);
	gitops_commit_info_release(&ci);
	/* the tree is the tip's plus the edit, never the request's */
	assert_int_equal(gitops_read_file(&b, f->g, m, "values.yaml"), 0);
	assert_string_equal(b.data, "tag: \"daemon\"\n");
	assert_int_equal(gitops_is_ancestor(f->g, req, m), 1);
	assert_int_equal(gitops_is_ancestor(f->g, m, req), 0);
	assert_int_equal(gitops_merge_base(m, f->g, tip, req), 0);
	assert_string_equal(m, f->root);
	buf_release(&b);
}

static void test_commit_bad_input(void **state)
{
	struct fx *f = *state;
	struct gitops_person bad = { "Evil <x>", "e@x", 0, 0, false };
	struct gitops_commit_spec s = { { f->root, NULL }, 0, NULL, 0, "m\n", NULL, NULL, NULL };
	char c[GITOPS_HEXSZ + 1] = "unchanged";

	assert_int_equal(gitops_commit_create(c, f->g, &s), ERR_INVALID);
	s.nparents = 3;
	assert_int_equal(gitops_commit_create(c, f->g, &s), ERR_INVALID);
	s.nparents = 1;
	s.message = NULL;
	assert_int_equal(gitops_commit_create(c, f->g, &s), ERR_INVALID);
	s.message = "m\n";
	s.parents[0] = "0123456789012345678901234567890123456789";
	assert_int_equal(gitops_commit_create(c, f->g, &s), ERR_NOTFOUND);
	s.parents[0] = f->root;
	s.author = &bad;
	assert_int_equal(gitops_commit_create(c, f->g, &s), ERR_FAIL);
	assert_non_null(strstr(gitops_error(f->g), "invalid identity"));
	assert_string_equal(c, "unchanged");	/* out untouched on failure */
}

static void test_notes(void **state)
{
	struct fx *f = *state;
	char n1[GITOPS_HEXSZ + 1], n2[GITOPS_HEXSZ + 1], n3[GITOPS_HEXSZ + 1];
	struct buf b = BUF_INIT;
	struct gitops_commit_info ci;

	assert_int_equal(gitops_note_commit(n1, f->g, NULL, f->root, "blocked: market open\n"), 0);
	assert_int_equal(gitops_note_read(&b, f->g, n1, f->root), 0);
	assert_string_equal(b.data, "blocked: market open\n");
	/* overwrite on top of the previous notes commit */
	assert_int_equal(gitops_note_commit(n2, f->g, n1, f->root, "merged\n"), 0);
	buf_reset(&b);
	assert_int_equal(gitops_note_read(&b, f->g, n2, f->root), 0);
	assert_string_equal(b.data, "merged\n");
	assert_int_equal(gitops_commit_info(&ci, f->g, n2), 0);
	assert_string_equal(ci.parents[0], n1);
	gitops_commit_info_release(&ci);
	/* a missing base starts a new notes history */
	assert_int_equal(gitops_note_commit(n3, f->g, "refs/notes/none", f->root, "x"), 0);
	assert_int_equal(gitops_commit_info(&ci, f->g, n3), 0);
	assert_int_equal(ci.nparents, 0);
	gitops_commit_info_release(&ci);
	buf_reset(&b);
	assert_int_equal(gitops_note_read(&b, f->g, n1, n1), ERR_NOTFOUND);
	buf_release(&b);
}

static void test_first_parents(void **state)
{
	struct fx *f = *state;
	char c[5][GITOPS_HEXSZ + 1], side[GITOPS_HEXSZ + 1], m[GITOPS_HEXSZ + 1];
	char (*ids)[GITOPS_HEXSZ + 1] = NULL;
	struct gitops_file file = { "values.yaml", "merged", 6 };
	struct gitops_commit_spec s = { { NULL, NULL }, 2, &file, 1, "merge\n", NULL, NULL, NULL };
	size_t n = 0;
	int i;

	strlcpy_(c[0], f->root, sizeof c[0]);
	for (i = 1; i < 5; i++) {
		char text[16];
		snprintf(text, sizeof text, "v%d\n", i);
		commit_one(c[i], f, c[i - 1], text, text);
	}
	commit_one(side, f, c[2], "side\n", "side\n");
	s.parents[0] = c[4];
	s.parents[1] = side;
	assert_int_equal(gitops_commit_create(m, f->g, &s), 0);

	/* newest first, down to (not including) the stop */
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, m, c[2], 10), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], m);
	assert_string_equal(ids[1], c[4]);
	assert_string_equal(ids[2], c[3]);
	free(ids);
	/* a stop off the first-parent line: stop at what it already contains */
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, m, side, 10), 0);
	assert_int_equal(n, 3);
	free(ids);
	/* to the root */
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, m, NULL, 10), 0);
	assert_int_equal(n, 6);
	assert_string_equal(ids[5], f->root);
	free(ids);
	/* bounded: the newest max are returned with ERR_TOOBIG */
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, m, NULL, 2), ERR_TOOBIG);
	assert_int_equal(n, 2);
	assert_string_equal(ids[1], c[4]);
	free(ids);
	/* the bound names what was walked: the history up to rev, or the
	 * commits above stop */
	assert_non_null(strstr(gitops_error(f->g), "more than 2 first-parent commits up to"));
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, m, f->root, 2), ERR_TOOBIG);
	free(ids);
	assert_non_null(strstr(gitops_error(f->g), "more than 2 commits after"));
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, m, m, 2), 0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(gitops_first_parents(&ids, &n, f->g, "nope", NULL, 2), ERR_NOTFOUND);
}

/* request.c: the one request-commit builder of pipelinectl promote and the
 * dashboard.  The tag is set by the layout edit on the tracked tip, the
 * message and author are the caller's, and each refusal says why. */
static void test_request_build(void **state)
{
	struct fx *f = *state;
	static const char *const images[] = { "app" }, *const paths[] = { "tag" };
	const char *t1 = "0123456789abcdef0123456789abcdef01234567";
	struct layout_rules r = { "values.yaml", images, 1, NULL, paths, 1, false };
	struct gitops_person dana = { "Dana", "dana@example.com", 0, 0, true };
	struct request_spec rs = { "promote/paper/x", "refs/heads/main", "values.yaml", &r, t1,
				   "promote paper: 0123456\n", &dana };
	struct gitops_commit_info ci;
	struct buf b = BUF_INIT, err = BUF_INIT;
	char id[GITOPS_HEXSZ + 1], tip[GITOPS_HEXSZ + 1];

	assert_int_equal(request_commit_build(id, tip, f->g, &rs, &err), 0);
	assert_string_equal(tip, f->root);
	assert_int_equal(gitops_read_file(&b, f->g, id, "values.yaml"), 0);
	assert_string_equal(b.data, "tag: \"0123456789abcdef0123456789abcdef01234567\"\n");
	assert_int_equal(gitops_commit_info(&ci, f->g, id), 0);
	assert_string_equal(ci.author_email, "dana@example.com");
	assert_string_equal(ci.message, "promote paper: 0123456\n");
	gitops_commit_info_release(&ci);
	/* the release is already every tag: nothing to request */
	rs.base = id;
	assert_int_equal(request_commit_build(id, tip, f->g, &rs, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "values.yaml already sets every tag to " ));
	/* the values file does not hold the mapped scalar: named */
	rs.base = "refs/heads/main";
	rs.values_path = "missing.yaml";
	assert_int_equal(request_commit_build(id, tip, f->g, &rs, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.data, "'missing.yaml' does not exist"));
	rs.values_path = "values.yaml";
	{
		static const char *const bad[] = { "image.tag" };
		r.paths = bad;
		assert_int_equal(request_commit_build(id, tip, f->g, &rs, &err), ERR_INVALID);
		assert_non_null(strstr(err.data, "values.yaml: "));
		r.paths = paths;
	}
	/* the branch is already on the remote (as fetched): a new name is needed */
	assert_int_equal(gitops_ref_set(f->g, GITOPS_TRACKING "heads/promote/paper/x", f->root), 0);
	assert_int_equal(request_commit_build(id, tip, f->g, &rs, &err), ERR_REJECTED);
	assert_non_null(strstr(err.data, "'promote/paper/x' already exists on the remote"));
	buf_release(&b);
	buf_release(&err);
}

static void test_open_bad_opts(void **state)
{
	struct gitops_opts o = { 0 };
	struct gitops *g = NULL;
	struct buf err = BUF_INIT;

	o.url = "ssh://h/x";
	o.mirror = "/tmp/unused";
	o.ident_name = "p";
	o.ident_email = "p@x";
	assert_int_equal(gitops_open(&g, &o, &err), ERR_INVALID);
	assert_string_equal(err.data, "git: no branch given");
	buf_reset(&err);
	o.branch = "bad..name";
	assert_int_equal(gitops_open(&g, &o, &err), ERR_INVALID);
	assert_string_equal(err.data, "git: invalid branch name 'bad..name'");
	buf_reset(&err);
	o.branch = "main";
	o.mirror = "/proc/no/such/mirror";
	assert_int_equal(gitops_open(&g, &o, &err), ERR_IO);
	assert_non_null(strstr(err.data, "cannot create mirror directory"));
	assert_null(g);
	buf_release(&err);
	gitops_free(NULL);
}

/* ---- changed paths: the tree walk against libgit2's own diff ---- */

static uint32_t mix(const char *path, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;

	for (const char *c = path; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return h ^ (h >> 15);
}

/* The entry at path in variant v: absent, a file (two contents), an
 * executable, a link, or (above depth 3) a directory.  A quarter of the
 * paths differ between the variants. */
static unsigned kind_of(const char *path, int v, uint32_t seed, int depth)
{
	uint32_t h = mix(path, seed);
	unsigned k = (mix(path, seed + (h % 4 == 0 ? (uint32_t)v + 1 : 0)) >> 3) % 6;

	return k == 5 && depth >= 3 ? 1 : k;
}

static void random_tree(git_oid *out, git_repository *repo, const char *prefix, int v,
			uint32_t seed, int depth)
{
	/* names that meet git's tree order at its edges: "a" as a directory
	 * sorts after "a.b" and "a-" but a file "a" sorts before them */
	static const char *const names[] = { "a", "a.b", "a-", "b", "values.yaml", "z" };
	git_treebuilder *tb = NULL;

	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char path[256];
		git_oid id;
		unsigned k;

		snprintf(path, sizeof path, "%s/%s", prefix, names[i]);
		k = kind_of(path, v, seed, depth);
		if (k == 0)
			continue;
		if (k == 5) {
			random_tree(&id, repo, path, v, seed, depth + 1);
			assert_int_equal(git_treebuilder_insert(NULL, tb, names[i], &id,
								GIT_FILEMODE_TREE), 0);
			continue;
		}
		assert_int_equal(git_blob_create_from_buffer(&id, repo, k == 2 ? "y" : "x", 1), 0);
		assert_int_equal(git_treebuilder_insert(NULL, tb, names[i], &id,
							k == 3 ? GIT_FILEMODE_BLOB_EXECUTABLE :
							k == 4 ? GIT_FILEMODE_LINK : GIT_FILEMODE_BLOB), 0);
	}
	assert_int_equal(git_treebuilder_write(out, tb), 0);
	git_treebuilder_free(tb);
}

static void test_changed_paths_like_diff(void **state)
{
	struct fx *f = *state;
	git_repository *repo;
	struct buf mirror = BUF_INIT;
	size_t compared = 0, nonempty = 0;

	buf_printf(&mirror, "%s/mirror.git", f->dir);
	assert_int_equal(git_repository_open_bare(&repo, mirror.data), 0);
	for (uint32_t seed = 1; seed <= 400; seed++) {
		char ha[GITOPS_HEXSZ + 1], hb[GITOPS_HEXSZ + 1];
		git_tree *ta = NULL, *tb = NULL;
		git_diff *diff = NULL;
		git_oid a, b;
		char **v = NULL;
		size_t n = 0;

		random_tree(&a, repo, "", 0, seed, 0);
		random_tree(&b, repo, "", 1, seed, 0);
		git_oid_tostr(ha, sizeof ha, &a);
		git_oid_tostr(hb, sizeof hb, &b);
		assert_int_equal(git_tree_lookup(&ta, repo, &a), 0);
		assert_int_equal(git_tree_lookup(&tb, repo, &b), 0);
		assert_int_equal(git_diff_tree_to_tree(&diff, repo, seed % 7 ? ta : NULL, tb, NULL), 0);
		assert_int_equal(gitops_changed_paths(&v, &n, f->g, seed % 7 ? ha : NULL, hb, 1000), 0);
		assert_int_equal(n, git_diff_num_deltas(diff));
		for (size_t k = 0; k < n; k++) {
			const git_diff_delta *d = git_diff_get_delta(diff, k);

			assert_string_equal(v[k], d->status == GIT_DELTA_DELETED ? d->old_file.path :
						  d->new_file.path);
		}
		nonempty += n > 0;
		compared++;
		if (n > 1) {	/* the bound: one path fewer is refused */
			char **w = NULL;
			size_t m = 0;

			assert_int_equal(gitops_changed_paths(&w, &m, f->g, seed % 7 ? ha : NULL, hb,
							      n - 1), ERR_TOOBIG);
			assert_null(w);
			assert_non_null(strstr(gitops_error(f->g), "changes more than"));
		}
		gitops_paths_free(v, n);
		git_diff_free(diff);
		git_tree_free(ta);
		git_tree_free(tb);
	}
	assert_int_equal(compared, 400);
	assert_true(nonempty > 300);	/* the variants do differ */
	git_repository_free(repo);
	buf_release(&mirror);
}

/* The audit's comparison along a chain (gitops_tree_changes, its trees
 * kept from one call to the next): the same paths as gitops_changed_paths,
 * each with its blob id on the new side.  The pairs go a->b, b->a, so that
 * every second call starts from the trees the one before kept. */
static void check_tree_changes(struct fx *f, git_repository *repo, struct gitops_trees *m,
			       const char *ha, const char *hb)
{
	char **v = NULL, **w = NULL, (*ids)[GITOPS_HEXSZ + 1] = NULL;
	size_t n = 0, nw = 0;
	git_tree *tb = NULL;
	git_oid b;

	assert_int_equal(gitops_changed_paths(&v, &n, f->g, ha, hb, 1000), 0);
	assert_int_equal(gitops_tree_changes(&w, &ids, &nw, m, ha, hb, "the commit", 1000), 0);
	assert_int_equal(nw, n);
	assert_int_equal(git_oid_fromstr(&b, hb), 0);
	assert_int_equal(git_tree_lookup(&tb, repo, &b), 0);
	for (size_t k = 0; k < n; k++) {
		git_tree_entry *e = NULL;
		char want[GITOPS_HEXSZ + 1] = "";
		/* a type change lists the path twice: the deletion has no id */
		bool deletion = k + 1 < n && strcmp(v[k], v[k + 1]) == 0;

		assert_string_equal(w[k], v[k]);
		if (!deletion && git_tree_entry_bypath(&e, tb, v[k]) == 0 &&
		    git_tree_entry_type(e) == GIT_OBJECT_BLOB)
			git_oid_tostr(want, sizeof want, git_tree_entry_id(e));
		assert_string_equal(ids[k], want);
		git_tree_entry_free(e);
	}
	gitops_paths_free(v, n);
	gitops_paths_free(w, nw);
	free(ids);
	git_tree_free(tb);
}

static void test_tree_changes_like_changed_paths(void **state)
{
	struct fx *f = *state;
	git_repository *repo;
	struct gitops_trees *m = NULL;
	struct buf mirror = BUF_INIT;
	char **v = NULL, (*ids)[GITOPS_HEXSZ + 1] = NULL;
	size_t n = 0;

	buf_printf(&mirror, "%s/mirror.git", f->dir);
	assert_int_equal(git_repository_open_bare(&repo, mirror.data), 0);
	assert_int_equal(gitops_trees_open(&m, f->g), 0);
	gitops_cache_objects(false);
	for (uint32_t seed = 1; seed <= 200; seed++) {
		char ha[GITOPS_HEXSZ + 1], hb[GITOPS_HEXSZ + 1];
		git_oid a, b;

		random_tree(&a, repo, "", 0, seed, 0);
		random_tree(&b, repo, "", 1, seed, 0);
		git_oid_tostr(ha, sizeof ha, &a);
		git_oid_tostr(hb, sizeof hb, &b);
		check_tree_changes(f, repo, m, ha, hb);
		check_tree_changes(f, repo, m, hb, ha);
		if (seed % 7 == 0)
			check_tree_changes(f, repo, m, NULL, hb);
	}
	/* a tree that is not there */
	assert_int_equal(gitops_tree_changes(&v, &ids, &n, m, NULL,
					     "0123456789012345678901234567890123456789", "x", 10),
			 ERR_NOTFOUND);
	assert_non_null(strstr(gitops_error(f->g), "cannot read a tree of 'x'"));
	assert_null(v);
	gitops_cache_objects(true);
	gitops_trees_free(m);
	git_repository_free(repo);
	buf_release(&mirror);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_changes_like_changed_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_without_worktree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_parents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_paths_like_diff, setup, teardown),
		cmocka_unit_test(test_open_bad_opts),
	};
	int rc;

	gitops_global_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	gitops_global_shutdown();
	return rc;
}
