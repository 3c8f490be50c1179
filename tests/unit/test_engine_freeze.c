/* engine_freeze.c's scan: the freeze file at the tip, and, when it does not
 * parse and nothing is in memory (a restart), the look back along the
 * first parents for the newest version that parses; failing closed when
 * none does.  On a real repository made with libgit2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_int.h"

#define FILE_ "values/freezes.yaml"

static const char good[] =
	"freezes:\n  - id: inc-1\n    stages: [paper]\n    reason: incident 1\n";
static const char bad[] = "freezes:\n  - id: typo\n    stages: [papr]\n    reason: oops\n";

struct fx {
	char dir[64];
	struct gitops *g;
	char root[GITOPS_HEXSZ + 1];
	struct config cfg;
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

	strlcpy_(f->dir, "/tmp/test_engine_freeze.XXXXXX", sizeof f->dir);
	assert_non_null(mkdtemp(f->dir));
	buf_printf(&mirror, "%s/mirror.git", f->dir);
	o.url = "ssh://git@127.0.0.1:1/never-contacted.git";
	o.branch = "main";
	o.mirror = mirror.data;
	o.ident_name = "pipelined";
	o.ident_email = "pipelined@gremlin-1";
	assert_int_equal(gitops_open(&f->g, &o, NULL), 0);
	assert_int_equal(git_repository_open_bare(&repo, mirror.data), 0);
	assert_int_equal(git_blob_create_from_buffer(&blob, repo, "x\n", 2), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "README", &blob, GIT_FILEMODE_BLOB), 0);
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
	f->cfg.repository.freezes = FILE_;
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

/* a commit of the freeze file = text on top of parent */
static void put(char out[GITOPS_HEXSZ + 1], struct fx *f, const char *parent, const char *text)
{
	struct gitops_file file = { FILE_, text, strlen(text) };
	struct gitops_commit_spec s = { .parents = { parent, NULL }, .nparents = 1, .files = &file,
					.nfiles = 1, .message = "freezes\n" };

	assert_int_equal(gitops_commit_create(out, f->g, &s), 0);
}

static struct engine_scan *scan_at(struct fx *f, const char *tip, bool back)
{
	struct engine_scan *s = calloc(1, sizeof *s);

	assert_non_null(s);
	strlcpy_(s->tip, tip, sizeof s->tip);
	s->freeze_want_back = back;
	engine_freeze_scan(s, f->g, &f->cfg);
	return s;
}

static void scan_free(struct engine_scan *s)
{
	free(s->freeze);
	free(s->freeze_back);
	free(s);
}

static void test_tip_parses(void **state)
{
	struct fx *f = *state;
	char c1[GITOPS_HEXSZ + 1];
	struct engine_scan *s;

	/* no file at all: nothing is frozen, no error */
	s = scan_at(f, f->root, true);
	assert_non_null(s->freeze);
	assert_int_equal(s->freeze_rc, 0);
	assert_int_equal(s->freeze->n, 0);
	scan_free(s);
	put(c1, f, f->root, good);
	s = scan_at(f, c1, true);
	assert_int_equal(s->freeze_rc, 0);
	assert_int_equal(s->freeze->n, 1);
	assert_string_equal(s->freeze->e[0].id, "inc-1");
	assert_null(s->freeze_back);	/* no look back when the tip parses */
	scan_free(s);
}

static void test_look_back_to_the_last_good(void **state)
{
	struct fx *f = *state;
	char c1[GITOPS_HEXSZ + 1], c2[GITOPS_HEXSZ + 1], c3[GITOPS_HEXSZ + 1];
	struct engine_scan *s;

	put(c1, f, f->root, good);
	put(c2, f, c1, bad);
	put(c3, f, c2, bad);
	s = scan_at(f, c3, true);
	assert_int_not_equal(s->freeze_rc, 0);
	assert_string_equal(s->freeze_err, FILE_ ":3: unknown stage \"papr\" (use beta, paper, "
			    "live, or all)");
	assert_non_null(s->freeze_back);
	assert_false(s->freeze_closed);
	assert_string_equal(s->freeze_back_at, c1);
	assert_int_equal(s->freeze_back->n, 1);
	assert_string_equal(s->freeze_back->e[0].id, "inc-1");
	scan_free(s);
	/* a daemon with a good version in memory does not look back */
	s = scan_at(f, c3, false);
	assert_null(s->freeze_back);
	scan_free(s);
}

static void test_no_file_before_is_nothing_frozen(void **state)
{
	struct fx *f = *state;
	char c1[GITOPS_HEXSZ + 1];
	struct engine_scan *s;

	put(c1, f, f->root, bad);
	s = scan_at(f, c1, true);
	assert_non_null(s->freeze_back);
	assert_false(s->freeze_closed);
	assert_string_equal(s->freeze_back_at, f->root);
	assert_int_equal(s->freeze_back->n, 0);
	scan_free(s);
}

static void test_none_parses_fails_closed(void **state)
{
	struct fx *f = *state;
	char c[GITOPS_HEXSZ + 1], p[GITOPS_HEXSZ + 1];
	struct engine_scan *s;

	/* the file is malformed in every one of more than 200 commits */
	put(c, f, f->root, bad);
	for (int i = 0; i < 205; i++) {
		char text[128];

		strlcpy_(p, c, sizeof p);
		snprintf(text, sizeof text, "%s# %d\n", bad, i);
		put(c, f, p, text);
	}
	s = scan_at(f, c, true);
	assert_non_null(s->freeze_back);
	assert_true(s->freeze_closed);
	scan_free(s);
}

/* What the engine keeps in force from a scan (engine_freeze_update). */
static void test_in_force(void **state)
{
	struct fx *f = *state;
	struct engine *e = calloc(1, sizeof *e);
	char c1[GITOPS_HEXSZ + 1], c2[GITOPS_HEXSZ + 1];
	struct freeze_hold h;

	assert_non_null(e);
	e->cfg = &f->cfg;
	put(c1, f, f->root, good);
	put(c2, f, c1, bad);
	/* a good tip: in force */
	e->scan = scan_at(f, c1, !e->freeze);
	engine_freeze_update(e);
	assert_non_null(engine_freezes(e));
	assert_int_equal(engine_freezes(e)->n, 1);
	assert_string_equal(e->freeze_error, "");
	scan_free(e->scan);
	/* malformed: the last good stays, the error is kept (logged once) */
	e->scan = scan_at(f, c2, !e->freeze);
	assert_null(e->scan->freeze_back);
	engine_freeze_update(e);
	assert_string_equal(engine_freezes(e)->e[0].id, "inc-1");
	assert_string_equal(e->freeze_error, FILE_ ":3: unknown stage \"papr\" (use beta, paper, "
			    "live, or all)");
	assert_true(e->freeze_logged);
	assert_string_equal(e->freeze_from, "the last good version stays in force");
	scan_free(e->scan);
	/* a restart whose look back finds nothing: every stage frozen, no
	 * break-glass */
	free(e->freeze);
	e->freeze = NULL;
	e->freeze_error[0] = e->freeze_from[0] = '\0';
	e->scan = scan_at(f, c2, false);
	e->scan->freeze_back = calloc(1, sizeof *e->scan->freeze_back);
	e->scan->freeze_closed = true;
	engine_freeze_update(e);
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		freeze_holds(&h, engine_freezes(e), (enum stage)st, 1800000000);
		assert_int_equal(h.n, 1);
		assert_false(h.overridable);
		assert_int_equal(h.until, 0);
	}
	assert_string_equal(h.first->id, "unreadable-freeze-file");
	scan_free(e->scan);
	/* no file configured: nothing in force */
	f->cfg.repository.freezes = NULL;
	e->scan = NULL;
	engine_freeze_update(e);
	assert_null(engine_freezes(e));
	free(e->freeze);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tip_parses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_look_back_to_the_last_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_file_before_is_nothing_frozen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_parses_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_force, setup, teardown),
	};
	int rc;

	gitops_global_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	gitops_global_shutdown();
	return rc;
}
