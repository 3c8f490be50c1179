/* Tests for the helper-process side of gitops_run.c with fake helpers
 * (shell scripts in place of pipelined-git): what each way a helper can end
 * turns into for the caller -- its ref list, its "pipelined-git:" message
 * and exit code, the deadline, a helper that cannot be started, and stdout
 * past the cap, which fails instead of being parsed as a whole list. */
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
	};
	int rc;

	gitops_global_init();
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	gitops_global_shutdown();
	return rc;
}
