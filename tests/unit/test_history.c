/* Unit tests for history.c on a real bare repository built with libgit2:
 * promotion commits written with trailer_format_promotion, a daemon merge
 * whose second parent is a request carrying daemon trailers, ordinary
 * commits, and the lookups the engine and pipelinectl use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitops.h"
#include "history_walk.h"
#include "trailer.h"
#include "util.h"

#define TAG_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TAG_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct fx {
	char dir[64];
	struct gitops *g;
	git_repository *repo;
	char root[GITOPS_HEXSZ + 1];
	int64_t clock;
};

/* A commit on refs/heads/main (or on no ref when ref is NULL) with one
 * file changed, made by committer name <email> at f->clock. */
static void commit(char out[GITOPS_HEXSZ + 1], struct fx *f, const char *ref,
		   const char *parent, const char *parent2, const char *who, const char *msg)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parents[2] = { NULL, NULL };
	git_oid blob, tid, cid, pid;
	char email[128];
	size_t np = 0;

	snprintf(email, sizeof email, "%s@example.com", who);
	if (parent) {
		assert_int_equal(git_oid_fromstr(&pid, parent), 0);
		assert_int_equal(git_commit_lookup(&parents[np++], f->repo, &pid), 0);
	}
	if (parent2) {
		assert_int_equal(git_oid_fromstr(&pid, parent2), 0);
		assert_int_equal(git_commit_lookup(&parents[np++], f->repo, &pid), 0);
	}
	assert_int_equal(git_blob_create_from_buffer(&blob, f->repo, msg, strlen(msg)), 0);
	assert_int_equal(git_treebuilder_new(&tb, f->repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "f.txt", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, f->repo, &tid), 0);
	f->clock += 3600;
	assert_int_equal(git_signature_new(&sig, who, email, f->clock, -300), 0);
	assert_int_equal(git_commit_create(&cid, f->repo, ref, sig, sig, NULL, msg, tree, np,
					   (const git_commit **)parents), 0);
	git_oid_tostr(out, GITOPS_HEXSZ + 1, &cid);
	git_commit_free(parents[0]);
	git_commit_free(parents[1]);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
}

static void promotion_msg(struct buf *out, enum stage st, enum stage src, const char *tag,
			  const char *request, const char *notes, const char *bg)
{
	struct trailer_promotion p = {
		.stage = st, .source = src, .image_tag = tag,
		.requested_by = request ? "Dev One <dev@example.com>" : NULL,
		.request = request, .notes = notes, .break_glass = bg,
		.market = "closed (weekend)", .integration_test = "passed 3/3",
		.signed_by = request ? "dev@example.com" : NULL,
	};

	buf_init(out, 0);
	assert_int_equal(trailer_format_promotion(out, &p, NULL), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct gitops_opts o = { 0 };
	struct buf mirror = BUF_INIT;

	strlcpy_(f->dir, "/tmp/test_history.XXXXXX", sizeof f->dir);
	assert_non_null(mkdtemp(f->dir));
	buf_printf(&mirror, "%s/mirror.git", f->dir);
	o.url = "ssh://git@127.0.0.1:1/never-contacted.git";
	o.branch = "main";
	o.mirror = mirror.data;
	o.ident_name = "pipelined";
	o.ident_email = "pipelined@gremlin-1";
	assert_int_equal(gitops_open(&f->g, &o, NULL), 0);
	assert_int_equal(git_repository_open_bare(&f->repo, mirror.data), 0);
	f->clock = 1772800000;
	commit(f->root, f, "refs/heads/main", NULL, NULL, "root", "root\n");
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
	git_repository_free(f->repo);
	gitops_free(f->g);
	free(f);
	return 0;
}

/* root, beta <- TAG_A (automatic), a request merge paper <- TAG_A with
 * break-glass whose second parent carries daemon trailers of its own, a
 * plain commit, beta <- TAG_B. */
struct built {
	char beta_a[GITOPS_HEXSZ + 1], req[GITOPS_HEXSZ + 1], paper_a[GITOPS_HEXSZ + 1];
	char plain[GITOPS_HEXSZ + 1], beta_b[GITOPS_HEXSZ + 1];
};

static void build(struct fx *f, struct built *b)
{
	struct buf m;
	char forged[512];

	promotion_msg(&m, STAGE_BETA, STAGE_INTTEST, TAG_A, NULL, NULL, NULL);
	commit(b->beta_a, f, "refs/heads/main", f->root, NULL, "pipelined", m.data);
	buf_release(&m);
	/* the request itself claims live: reachable only as a second parent */
	snprintf(forged, sizeof forged, "bump\n\nStage: live\nImage-Tag: %s\nBreak-Glass: x\n", TAG_B);
	commit(b->req, f, NULL, b->beta_a, NULL, "dev", forged);
	promotion_msg(&m, STAGE_PAPER, STAGE_BETA, TAG_A, b->req, "rollout\nsecond line",
		      "broker outage");
	commit(b->paper_a, f, "refs/heads/main", b->beta_a, b->req, "pipelined", m.data);
	buf_release(&m);
	commit(b->plain, f, "refs/heads/main", b->paper_a, NULL, "dev",
	       "docs\n\nStage: ci\nImage-Tag: " TAG_B "\n");
	promotion_msg(&m, STAGE_BETA, STAGE_INTTEST, TAG_B, NULL, NULL, NULL);
	commit(b->beta_b, f, "refs/heads/main", b->plain, NULL, "pipelined", m.data);
	buf_release(&m);
}

static void test_empty(void **state)
{
	struct fx *f = *state;
	struct history h;

	assert_int_equal(history_load(&h, f->g, "refs/heads/main", NULL, NULL), 0);
	assert_int_equal(h.n, 0);
	assert_string_equal(h.tip, f->root);
	assert_false(h.truncated);
	assert_null(history_latest(&h, STAGE_BETA));
	assert_false(history_has_tag(&h, STAGE_BETA, TAG_A));
	history_release(&h);
}

static void test_load_fields(void **state)
{
	struct fx *f = *state;
	struct history h;
	struct built b;
	const struct history_entry *e;

	build(f, &b);
	assert_int_equal(history_load(&h, f->g, "refs/heads/main", NULL, NULL), 0);
	assert_string_equal(h.tip, b.beta_b);
	/* the plain commit (Stage: ci) and the request (second parent) are not promotions */
	assert_int_equal(h.n, 3);
	assert_string_equal(h.items[0].commit, b.beta_b);
	assert_string_equal(h.items[1].commit, b.paper_a);
	assert_string_equal(h.items[2].commit, b.beta_a);

	e = &h.items[1];
	assert_int_equal(e->stage, STAGE_PAPER);
	assert_int_equal(e->source, STAGE_BETA);
	assert_string_equal(e->tag, TAG_A);
	assert_string_equal(e->request, b.req);
	assert_string_equal(e->requested_by, "Dev One <dev@example.com>");
	assert_string_equal(e->notes, "rollout second line");
	assert_string_equal(e->break_glass, "broker outage");
	assert_string_equal(e->market, "closed (weekend)");
	assert_string_equal(e->integration_test, "passed 3/3");
	assert_string_equal(e->signed_by, "dev@example.com");
	assert_string_equal(e->committer_name, "pipelined");
	assert_string_equal(e->committer_email, "pipelined@example.com");
	assert_int_equal(e->offset_min, -300);
	assert_true(e->time > 1772800000);
	assert_string_equal(e->subject, "promote paper: aaaaaaa from beta");

	e = &h.items[0];
	assert_int_equal(e->source, STAGE_INTTEST);
	assert_string_equal(e->request, "");
	assert_null(e->notes);
	assert_null(e->break_glass);
	assert_null(e->signed_by);
	assert_string_equal(e->requested_by, TRAILER_AUTOMATIC);
	history_release(&h);
}

static void test_lookups(void **state)
{
	struct fx *f = *state;
	struct history h;
	struct built b;
	const char **tags;
	size_t n;

	build(f, &b);
	assert_int_equal(history_load(&h, f->g, "refs/heads/main", NULL, NULL), 0);
	assert_string_equal(history_latest(&h, STAGE_BETA)->tag, TAG_B);
	assert_string_equal(history_latest(&h, STAGE_PAPER)->commit, b.paper_a);
	assert_null(history_latest(&h, STAGE_LIVE));
	assert_true(history_has_tag(&h, STAGE_BETA, TAG_A));
	assert_true(history_has_tag(&h, STAGE_PAPER, TAG_A));
	assert_false(history_has_tag(&h, STAGE_PAPER, TAG_B));
	/* the forged live trailer of the request never counts */
	assert_false(history_has_tag(&h, STAGE_LIVE, TAG_B));
	assert_string_equal(history_find_request(&h, b.req)->commit, b.paper_a);
	assert_null(history_find_request(&h, b.plain));
	assert_null(history_find_request(&h, ""));
	assert_int_equal(history_tags(&tags, &n, &h, STAGE_BETA), 0);
	assert_int_equal(n, 2);
	assert_string_equal(tags[0], TAG_B);
	assert_string_equal(tags[1], TAG_A);
	free(tags);
	assert_int_equal(history_tags(&tags, &n, &h, STAGE_LIVE), 0);
	assert_int_equal(n, 0);
	free(tags);
	history_release(&h);
}

static void test_stop(void **state)
{
	struct fx *f = *state;
	struct history h;
	struct built b;

	build(f, &b);
	/* everything after paper_a: the plain commit and beta_b */
	assert_int_equal(history_load(&h, f->g, "refs/heads/main", b.paper_a, NULL), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.items[0].tag, TAG_B);
	history_release(&h);
	/* from an older rev */
	assert_int_equal(history_load(&h, f->g, b.paper_a, NULL, NULL), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.tip, b.paper_a);
	history_release(&h);
}

static void test_bad_rev(void **state)
{
	struct fx *f = *state;
	struct history h = { .n = 77 };
	struct buf err = BUF_INIT;

	assert_int_not_equal(history_load(&h, f->g, "refs/heads/nope", NULL, &err), 0);
	assert_int_equal(h.n, 77);	/* untouched */
	assert_non_null(strstr(err.data, "refs/heads/nope"));
	buf_release(&err);
	assert_int_not_equal(history_load(&h, f->g, "refs/heads/main", "refs/heads/nope", NULL), 0);
	assert_int_equal(h.n, 77);
}

/* A promotion-looking message without a valid tag or with an evidence
 * stage is not a promotion; a duplicated key keeps the first value. */
static void test_entry_from_commit(void **state)
{
	struct gitops_commit_info ci = { .id = "cccccccccccccccccccccccccccccccccccccccc",
					 .committer_name = "pipelined", .committer_email = "p@x",
					 .committer_time = 5, .committer_offset_min = 60 };
	static const struct {
		const char *msg;
		int rc;
	} cases[] = {
		{ "s\n\nStage: beta\nImage-Tag: " TAG_A "\n", 0 },
		{ "s\n\nStage: BETA\nImage-Tag: " TAG_A "\n", ERR_NOTFOUND },
		{ "s\n\nStage: integration-test\nImage-Tag: " TAG_A "\n", ERR_NOTFOUND },
		{ "s\n\nStage: live\nImage-Tag: v1.2\n", ERR_NOTFOUND },
		{ "s\n\nStage: live\n", ERR_NOTFOUND },
		{ "s\n\nstage: live\nimage-tag: " TAG_A "\nImage-Tag: " TAG_B "\n", 0 },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct trailer_list tl;
		struct history_entry e;

		ci.message = (char *)cases[i].msg;
		assert_int_equal(trailer_parse(&tl, ci.message, strlen(ci.message), NULL), 0);
		assert_int_equal(history_entry_from_commit(&e, &ci, &tl), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_string_equal(e.tag, TAG_A);
			assert_int_equal(e.source, STAGE_COUNT);
			assert_string_equal(e.request, "");
			assert_int_equal(e.offset_min, 60);
			assert_null(e.approved_by);
			history_entry_release(&e);
		}
		trailer_list_release(&tl);
	}
	/* issue 14 item 3: every Approved-By, one a line, in message order */
	{
		struct trailer_list tl;
		struct history_entry e;

		ci.message = "s\n\nStage: live\nImage-Tag: " TAG_A "\nApproved-By: A <a@x> (principal a, "
			     "approval " TAG_B ")\napproved-by: B <b@x> (principal dashboard@desk, "
			     "approval " TAG_A ")\n";
		assert_int_equal(trailer_parse(&tl, ci.message, strlen(ci.message), NULL), 0);
		assert_int_equal(history_entry_from_commit(&e, &ci, &tl), 0);
		assert_string_equal(e.approved_by, "A <a@x> (principal a, approval " TAG_B ")\n"
				    "B <b@x> (principal dashboard@desk, approval " TAG_A ")");
		history_entry_release(&e);
		trailer_list_release(&tl);
	}
}

/* ---- issue 14 item 4: rollbacks ---- */

/* A history of one stage from a script, oldest first: "X" promotes X,
 * "<X" rolls back to X (from whatever ran before).  Other stages' entries
 * are interleaved to prove they do not count. */
struct script_hist {
	struct history h;
	struct history_entry e[24];
	char rb[24][8];
};

static const char *tag_of(char c)
{
	static char tags[26][41];
	char *t = tags[c - 'A'];

	memset(t, c - 'A' + 'a', 40);
	t[40] = '\0';
	return t;
}

static void script(struct script_hist *s, enum stage st, const char *steps)
{
	size_t n = 0, len = strlen(steps);
	const char *prev = NULL;

	memset(s, 0, sizeof *s);
	/* history items are newest first: fill from the end */
	for (size_t i = 0; i < len; i++) {
		bool rb = steps[i] == '<';
		char c = rb ? steps[++i] : steps[i];
		struct history_entry *e = &s->e[n++];

		e->stage = st;
		strlcpy_(e->tag, tag_of(c), sizeof e->tag);
		if (rb) {
			snprintf(s->rb[n - 1], sizeof s->rb[0], "why");
			e->rollback = s->rb[n - 1];
			strlcpy_(e->rolled_back_from, prev ? prev : "", sizeof e->rolled_back_from);
		}
		prev = tag_of(c);
		/* another stage's promotion in between */
		e = &s->e[n++];
		e->stage = st == STAGE_BETA ? STAGE_PAPER : STAGE_BETA;
		strlcpy_(e->tag, tag_of('Z'), sizeof e->tag);
	}
	for (size_t i = 0; i < n / 2; i++) {
		struct history_entry t = s->e[i];
		s->e[i] = s->e[n - 1 - i];
		s->e[n - 1 - i] = t;
	}
	s->h.items = s->e;
	s->h.n = n;
}

static void test_rollback_target(void **state)
{
	static const struct {
		const char *steps;
		char want;	/* 0: none */
	} cases[] = {
		{ "", 0 },
		{ "A", 0 },
		{ "AB", 'A' },
		{ "ABC", 'B' },
		/* rolled back once, again: further back, never flip */
		{ "ABC<B", 'A' },
		{ "ABC<B<A", 0 },
		{ "ABC<A", 0 },
		{ "ABCD<B", 'A' },
		/* an ordinary promotion after a rollback is a new step */
		{ "ABC<BD", 'B' },
		{ "ABC<BD<B", 'A' },
		/* the same release again, by an ordinary request */
		{ "ABA", 'B' },
		/* a rollback to a release the history does not show */
		{ "AB<X", 'B' },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct script_hist s;
		char out[41] = "";
		int rc;

		script(&s, STAGE_PAPER, cases[i].steps);
		rc = history_rollback_target(out, &s.h, STAGE_PAPER);
		if (cases[i].want ? rc != 0 || strcmp(out, tag_of(cases[i].want)) != 0 :
				    rc != ERR_NOTFOUND)
			fail_msg("\"%s\": got rc %d \"%.7s\", want %c", cases[i].steps, rc, out,
				 cases[i].want ? cases[i].want : '-');
		/* the other stage saw only Z */
		assert_int_equal(history_rollback_target(out, &s.h, STAGE_BETA), ERR_NOTFOUND);
	}
}

static void test_rolled_back_from(void **state)
{
	struct script_hist s;
	const char *out[4];
	(void)state;

	script(&s, STAGE_BETA, "ABC<BD<C<B");
	/* newest first, distinct: C (from the last), D, C again skipped */
	assert_int_equal(history_rolled_back_from(out, 4, &s.h, STAGE_BETA), 2);
	assert_string_equal(out[0], tag_of('C'));
	assert_string_equal(out[1], tag_of('D'));
	assert_int_equal(history_rolled_back_from(out, 1, &s.h, STAGE_BETA), 1);
	assert_int_equal(history_rolled_back_from(out, 4, &s.h, STAGE_PAPER), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rev, setup, teardown),
		cmocka_unit_test(test_entry_from_commit),
		cmocka_unit_test(test_rollback_target),
		cmocka_unit_test(test_rolled_back_from),
	};
	int rc;

	gitops_global_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	gitops_global_shutdown();
	return rc;
}
