/* gitops_diff_paths on a real bare repository: the paths a request changed
 * since its merge base are what wrong-files is judged on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitops.h"
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
	struct gitops_file file = { "values/values-beta.yaml", "tag: \"a\"\n", 9 };
	struct gitops_file other = { "src/app.txt", "v0\n", 3 };
	git_repository *repo;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tid, cid;
	char id[GITOPS_HEXSZ + 1];

	assert_int_equal(gitops_global_init(), 0);
	strlcpy_(f->dir, "/tmp/test_gitops_diff.XXXXXX", sizeof f->dir);
	assert_non_null(mkdtemp(f->dir));
	buf_printf(&mirror, "%s/mirror.git", f->dir);
	o.url = "ssh://git@127.0.0.1:1/never-contacted.git";
	o.branch = "main";
	o.mirror = mirror.data;
	o.ident_name = "pipelined";
	o.ident_email = "pipelined@test";
	assert_int_equal(gitops_open(&f->g, &o, NULL), 0);
	/* an empty root commit, then the two files on top of it */
	assert_int_equal(git_repository_open_bare(&repo, mirror.data), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tid), 0);
	assert_int_equal(git_signature_new(&sig, "Root", "root@example.com", 1700000000, 0), 0);
	assert_int_equal(git_commit_create(&cid, repo, "refs/heads/main", sig, sig, NULL, "root\n",
					   tree, 0, NULL), 0);
	git_oid_tostr(id, sizeof id, &cid);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_repository_free(repo);
	{
		struct gitops_file both[2] = { file, other };
		struct gitops_commit_spec s = { { id, NULL }, 1, both, 2, "layout\n", NULL };
		assert_int_equal(gitops_commit_create(f->root, f->g, &s), 0);
	}
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
	gitops_global_shutdown();
	free(f);
	return 0;
}

static void commit_files(char out[GITOPS_HEXSZ + 1], struct fx *f, const struct gitops_file *files,
			 size_t n)
{
	struct gitops_commit_spec s = { { f->root, NULL }, 1, files, n, "change\n", NULL };

	assert_int_equal(gitops_commit_create(out, f->g, &s), 0);
}

static void test_tag_only(void **state)
{
	struct fx *f = *state;
	struct gitops_file v = { "values/values-beta.yaml", "tag: \"b\"\n", 9 };
	char id[GITOPS_HEXSZ + 1], **paths = NULL;
	size_t n = 0;

	commit_files(id, f, &v, 1);
	assert_int_equal(gitops_diff_paths(&paths, &n, f->g, f->root, id), 0);
	assert_int_equal(n, 1);
	assert_string_equal(paths[0], "values/values-beta.yaml");
	gitops_paths_free(paths, n);
}

static void test_other_file_listed(void **state)
{
	struct fx *f = *state;
	struct gitops_file v[3] = {
		{ "values/values-beta.yaml", "tag: \"b\"\n", 9 },
		{ "src/app.txt", "v1\n", 3 },
		{ "values/values-live.yaml", "tag: \"c\"\n", 9 },
	};
	char id[GITOPS_HEXSZ + 1], **paths = NULL;
	size_t n = 0;
	bool seen[3] = { false, false, false };

	commit_files(id, f, v, 3);
	assert_int_equal(gitops_diff_paths(&paths, &n, f->g, f->root, id), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 3; k++)
			seen[k] |= strcmp(paths[i], v[k].path) == 0;
	assert_true(seen[0] && seen[1] && seen[2]);
	gitops_paths_free(paths, n);
}

static void test_no_change(void **state)
{
	struct fx *f = *state;
	char **paths = NULL;
	size_t n = 7;

	assert_int_equal(gitops_diff_paths(&paths, &n, f->g, f->root, f->root), 0);
	assert_int_equal(n, 0);
	gitops_paths_free(paths, n);
}

static void test_unknown_rev(void **state)
{
	struct fx *f = *state;
	char **paths = NULL;
	size_t n = 7;

	assert_int_not_equal(gitops_diff_paths(&paths, &n, f->g, f->root, "refs/heads/nope"), 0);
	assert_non_null(strstr(gitops_error(f->g), "refs/heads/nope"));
	assert_int_equal(n, 7);	/* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tag_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_file_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_rev, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
