/* Tests for the helper-process side of gitops_run.c with fake helpers
 * (shell scripts in place of pipelined-git): what each way a helper can end
 * turns into for the caller -- its ref list, its "pipelined-git:" message
 * and exit code, the deadline, a helper that cannot be started, and stdout
 * past the cap, which fails instead of being parsed as a whole list; and
 * the ls-remote session kept across calls, replaced when it quit, and
 * failing in the one-shot helper's words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitops.h"
#include "sysio.h"
#include "util.h"

#define URL "ssh://git@127.0.0.1:1/never-contacted.git"

static char dir[64];

/* ls-remote through a helper that runs script; the result's rc. */
static int ls_remote(struct gitops_result *res, const char *script, uint64_t deadline_ms)
{
	struct gitops_opts o = { 0 };
	struct gitops *g;
	char worker[128], mirror[128];
	int rc;

	snprintf(worker, sizeof worker, "%s/fake-helper", dir);
	snprintf(mirror, sizeof mirror, "%s/mirror.git", dir);
	if (script)
		assert_int_equal(file_write_atomic(worker, script, strlen(script), 0700), 0);
	o.url = URL;
	o.branch = "main";
	o.mirror = mirror;
	o.worker = script ? worker : "/nonexistent/pipelined-git";
	o.deadline_ms = deadline_ms;
	o.ident_name = "pipelined";
	o.ident_email = "pipelined@example.com";
	assert_int_equal(gitops_open(&g, &o, NULL), 0);
	rc = gitops_ls_remote_sync(g, res);
	gitops_free(g);
	return rc;
}

static void test_refs(void **state)
{
	struct gitops_result r;

	(void)state;
	assert_int_equal(ls_remote(&r, "#!/bin/sh\n"
				   "echo 'ref 0123456789012345678901234567890123456789 refs/heads/main'\n",
				   10000), 0);
	assert_int_equal(r.nrefs, 1);
	assert_string_equal(r.refs[0].name, "refs/heads/main");
	assert_string_equal(r.error, "");
	gitops_result_release(&r);
}

/* The exit code is the error; the last "pipelined-git:" line of stderr,
 * whatever surrounds it, is the message. */
static void test_helper_error(void **state)
{
	struct gitops_result r;

	(void)state;
	assert_int_equal(ls_remote(&r, "#!/bin/sh\necho noise >&2\n"
				   "echo 'pipelined-git: first' >&2\n"
				   "echo 'pipelined-git: deploy key refused' >&2\necho more >&2\n"
				   "exit 21\n", 10000), GITOPS_EAUTH);
	assert_string_equal(r.error, "ls-remote of '" URL "' failed: deploy key refused");
	gitops_result_release(&r);
}

static void test_deadline(void **state)
{
	struct gitops_result r;
	uint64_t t0 = mono_ms();

	(void)state;
	assert_int_equal(ls_remote(&r, "#!/bin/sh\nsleep 30 &\nexec sleep 30\n", 300),
			 ERR_TIMEOUT);
	assert_string_equal(r.error, "ls-remote of '" URL "' timed out after 300ms "
			    "(helper killed)");
	assert_true(mono_ms() - t0 < 5000);
	gitops_result_release(&r);
}

static void test_signal(void **state)
{
	struct gitops_result r;

	(void)state;
	assert_int_equal(ls_remote(&r, "#!/bin/sh\nkill -9 $$\n", 10000), ERR_FAIL);
	assert_string_equal(r.error, "ls-remote of '" URL "': helper died of signal 9");
	gitops_result_release(&r);
}

static void test_missing_helper(void **state)
{
	struct gitops_result r;

	(void)state;
	assert_int_equal(ls_remote(&r, NULL, 10000), ERR_FAIL);
	assert_string_equal(r.error, "ls-remote of '" URL "' failed: cannot run "
			    "'/nonexistent/pipelined-git': no such file or directory");
	gitops_result_release(&r);
}

/* 3 MB of stdout: past the 2 MiB cap, a failure that says so, not a list
 * cut short. */
static void test_output_past_cap(void **state)
{
	struct gitops_result r;

	(void)state;
	assert_int_equal(ls_remote(&r, "#!/bin/sh\ni=0\nwhile [ $i -lt 30000 ]; do\n"
				   "  echo 'ref 0123456789012345678901234567890123456789 "
				   "refs/heads/promote/padding-padding-padding-padding'\n"
				   "  i=$((i+1))\ndone\n", 20000), ERR_TOOBIG);
	assert_non_null(strstr(r.error, "ls-remote of '" URL "' failed: the helper wrote more "
			       "than 2048 KiB"));
	assert_int_equal(r.nrefs, 0);
	gitops_result_release(&r);
}


/* ---- the ls-remote session (gitops_ls_remote_start on a loop) ---- */

struct sess_run {
	struct gitops *g;
	uv_loop_t *loop;
	int calls;
	int rc[2];
	char first[2][256];
	char error[2][1024];
};

static void sess_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct sess_run *r = data;
	int i = r->calls++;

	r->rc[i] = res->rc;
	snprintf(r->first[i], sizeof r->first[i], "%s", res->nrefs ? res->refs[0].name : "");
	snprintf(r->error[i], sizeof r->error[i], "%s", res->error);
	if (r->calls == 1)
		assert_int_equal(gitops_ls_remote_start(g, r->loop, sess_done_cb, r), 0);
	else
		gitops_session_close(g);
}

/* Two ls-remotes in a row on one loop, through a fake session helper. */
static void sess_two(struct sess_run *r, const char *script, uint64_t deadline_ms)
{
	struct gitops_opts o = { 0 };
	char worker[128], mirror[128];
	uv_loop_t loop;

	memset(r, 0, sizeof *r);
	snprintf(worker, sizeof worker, "%s/fake-session", dir);
	snprintf(mirror, sizeof mirror, "%s/mirror.git", dir);
	assert_int_equal(file_write_atomic(worker, script, strlen(script), 0700), 0);
	o.url = URL;
	o.branch = "main";
	o.mirror = mirror;
	o.worker = worker;
	o.deadline_ms = deadline_ms;
	o.ident_name = "pipelined";
	o.ident_email = "pipelined@example.com";
	assert_int_equal(gitops_open(&r->g, &o, NULL), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	r->loop = &loop;
	assert_int_equal(gitops_ls_remote_start(r->g, &loop, sess_done_cb, r), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r->calls, 2);
	assert_int_equal(uv_loop_close(&loop), 0);
	gitops_free(r->g);
}

#define SESSION_HEAD "#!/bin/sh\n[ \"$1\" = session ] || exit 9\nn=0\n"
#define REF "ref 0123456789012345678901234567890123456789 refs/heads/n$n"

/* One process answers both: the second answer is its second. */
static void test_session_kept(void **state)
{
	struct sess_run r;

	(void)state;
	sess_two(&r, SESSION_HEAD "while read l; do n=$((n+1)); echo \"" REF "\"; echo end; done\n",
		 10000);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(r.rc[1], 0);
	assert_string_equal(r.first[0], "refs/heads/n1");
	assert_string_equal(r.first[1], "refs/heads/n2");
}

/* A session that quit after answering (its idle time) is replaced, unseen. */
static void test_session_replaced(void **state)
{
	struct sess_run r;

	(void)state;
	sess_two(&r, SESSION_HEAD "read l; echo \"" REF "\"; echo end; exec 1>&-; sleep 0.2\n",
		 10000);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(r.rc[1], 0);
	assert_string_equal(r.first[1], "refs/heads/n0");
}

/* A session that stops answering meets the deadline, in the one-shot words;
 * one that fails says what failed, as a one-shot helper would. */
static void test_session_failures(void **state)
{
	struct sess_run r;
	uint64_t t0 = mono_ms();

	(void)state;
	sess_two(&r, SESSION_HEAD "read l; echo \"" REF "\"; echo end; sleep 30\n", 300);
	assert_int_equal(r.rc[0], 0);
	assert_int_equal(r.rc[1], ERR_TIMEOUT);
	assert_string_equal(r.error[1], "ls-remote of '" URL "' timed out after 300ms "
			    "(helper killed)");
	assert_true(mono_ms() - t0 < 5000);
	sess_two(&r, SESSION_HEAD "read l; echo \"" REF "\"; echo end; read l\n"
		 "echo 'pipelined-git: host key for x has CHANGED' >&2; exit 20\n", 10000);
	assert_int_equal(r.rc[1], GITOPS_EHOSTKEY);
	assert_string_equal(r.error[1], "ls-remote of '" URL "' failed: host key for x has CHANGED");
	/* an answer cut by the end of the process is no answer */
	sess_two(&r, SESSION_HEAD "read l; echo \"" REF "\"\n", 10000);
	assert_int_equal(r.rc[0], ERR_FAIL);
	assert_string_equal(r.error[0], "ls-remote of '" URL "' failed: the session helper "
			    "ended without an answer");
	assert_int_equal(r.first[0][0], '\0');
}

static int group_setup(void **state)
{
	(void)state;
	strlcpy_(dir, "/tmp/test_gitops_helper.XXXXXX", sizeof dir);
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int group_teardown(void **state)
{
	char *argv[] = { "rm", "-rf", dir, NULL };
	pid_t pid = fork();

	(void)state;
	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_helper_error),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_missing_helper),
		cmocka_unit_test(test_output_past_cap),
		cmocka_unit_test(test_session_kept),
		cmocka_unit_test(test_session_replaced),
		cmocka_unit_test(test_session_failures),
	};
	int rc;

	gitops_global_init();
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	gitops_global_shutdown();
	return rc;
}
