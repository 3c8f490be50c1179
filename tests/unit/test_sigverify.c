/* Tests for sigverify.c and gitops_commit_signature with real keys from
 * ssh-keygen and real commits signed by git (gpg.format=ssh): a good
 * signature, a key not in the allowed signers, an unsigned commit, a
 * tampered payload, an OpenPGP-signed commit, key validity judged at the
 * commit's time, ssh-keygen hanging past the deadline or missing, and its
 * output cut at the cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitops.h"
#include "sigverify.h"
#include "util.h"
#include "sysio.h"

static char dir[64];
static char path_env[4096];

static void run(const char *const *argv)
{
	int st = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void pathf(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void keygen(const char *name)
{
	char p[128];
	const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", p,
			       NULL };

	pathf(p, sizeof p, name);
	run(argv);
}

/* allowed_signers file name with one line for key: <prefix> <pubkey>. */
static void signers(const char *name, const char *prefix, const char *key)
{
	char p[128];
	struct buf pub = BUF_INIT, line = BUF_INIT;

	pathf(p, sizeof p, key);
	buf_printf(&line, "%s.pub", p);
	assert_int_equal(file_read(&pub, line.data, 4096), 0);
	buf_reset(&line);
	buf_printf(&line, "%s %s", prefix, pub.data);
	pathf(p, sizeof p, name);
	assert_int_equal(file_write_atomic(p, line.data, line.len, 0600), 0);
	buf_release(&pub);
	buf_release(&line);
}

/* A commit in the work repo signed with key (NULL: unsigned) at date. */
static void make_commit(const char *key, const char *date, const char *msg)
{
	char work[128], sk[160], kp[128];
	const char *argv[] = { "git", "-C", work, "-c", "user.name=Dev", "-c",
			       "user.email=dev@example.com", "-c", "gpg.format=ssh", "-c", sk,
			       "commit", "-q", "--allow-empty", key ? "-S" : "--no-gpg-sign", "-m",
			       msg, NULL };

	pathf(work, sizeof work, "work");
	pathf(kp, sizeof kp, key ? key : "none");
	snprintf(sk, sizeof sk, "user.signingkey=%s.pub", kp);
	setenv("GIT_COMMITTER_DATE", date, 1);
	setenv("GIT_AUTHOR_DATE", date, 1);
	run(argv);
}

static int group_setup(void **state)
{
	char work[128];
	const char *init[] = { "git", "init", "-q", work, NULL };

	(void)state;
	strlcpy_(dir, "/tmp/test_sigverify.XXXXXX", sizeof dir);
	assert_non_null(mkdtemp(dir));
	setenv("HOME", dir, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	strlcpy_(path_env, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin", sizeof path_env);
	keygen("dev");
	keygen("other");
	pathf(work, sizeof work, "work");
	run(init);
	signers("allowed", "dev@example.com namespaces=\"git\"", "dev");
	signers("allowed_old", "dev@example.com valid-before=\"20210101\"", "dev");
	signers("allowed_new", "dev@example.com valid-after=\"20210101\"", "dev");
	return 0;
}

static int group_teardown(void **state)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };

	(void)state;
	run(argv);
	return 0;
}

/* Signature and payload of the work repo's HEAD. */
static int head_sig(struct buf *sig, struct buf *payload)
{
	struct gitops_opts o = { 0 };
	struct gitops *g;
	char mirror[128];
	int rc;

	pathf(mirror, sizeof mirror, "work/.git");
	o.url = "file:///nonexistent";
	o.branch = "main";
	o.mirror = mirror;
	o.ident_name = "t";
	o.ident_email = "t@x";
	assert_int_equal(gitops_open(&g, &o, NULL), 0);
	buf_init(sig, 0);
	buf_init(payload, 0);
	rc = gitops_commit_signature(sig, payload, g, "HEAD");
	gitops_free(g);
	return rc;
}

static struct sigverify_result verify(const char *allowed, const struct buf *sig,
				      const struct buf *payload, uint64_t deadline)
{
	struct sigverify_result r;
	char p[128];

	pathf(p, sizeof p, allowed);
	memset(&r, 0xff, sizeof r);
	assert_int_equal(sigverify_sync(&r, p, sig->data, sig->len, payload->data, payload->len,
					deadline), 0);
	return r;
}

static void test_good(void **state)
{
	struct buf sig, payload;
	struct sigverify_result r;

	(void)state;
	make_commit("dev", "2026-03-09T12:00:00Z", "good");
	assert_int_equal(head_sig(&sig, &payload), 0);
	assert_non_null(strstr(sig.data, "-----BEGIN SSH SIGNATURE-----"));
	assert_null(strstr(payload.data, "gpgsig"));
	r = verify("allowed", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_GOOD);
	assert_string_equal(r.principal, "dev@example.com");
	/* the same signature over a changed payload */
	payload.data[payload.len - 2] ^= 1;
	r = verify("allowed", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_BAD);
	assert_non_null(strstr(r.error, "does not verify"));
	assert_string_equal(r.principal, "");
	buf_release(&sig);
	buf_release(&payload);
}

static void test_wrong_key(void **state)
{
	struct buf sig, payload;
	struct sigverify_result r;

	(void)state;
	make_commit("other", "2026-03-09T12:00:00Z", "other key");
	assert_int_equal(head_sig(&sig, &payload), 0);
	r = verify("allowed", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_BAD);
	assert_non_null(strstr(r.error, "not signed by an allowed signer"));
	buf_release(&sig);
	buf_release(&payload);
}

static void test_unsigned(void **state)
{
	struct buf sig, payload;
	struct sigverify_result r;

	(void)state;
	make_commit(NULL, "2026-03-09T12:00:00Z", "unsigned");
	assert_int_equal(head_sig(&sig, &payload), ERR_NOTFOUND);
	r = verify("allowed", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_UNSIGNED);
	buf_release(&sig);
	buf_release(&payload);
}

/* GitHub web-UI commits carry an OpenPGP signature: signed, but by no
 * allowed signer, so BAD (see sigverify.c). */
static void test_pgp(void **state)
{
	static const char pgp[] = "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJ\n"
				  "-----END PGP SIGNATURE-----\n";
	struct buf payload = BUF_INIT;
	struct sigverify_result r;

	(void)state;
	buf_adds(&payload, "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
		 "author A <a@x> 1 +0000\ncommitter GitHub <noreply@github.com> 1 +0000\n\nweb\n");
	memset(&r, 0, sizeof r);
	{
		char p[128];

		pathf(p, sizeof p, "allowed");
		assert_int_equal(sigverify_sync(&r, p, pgp, strlen(pgp), payload.data, payload.len,
						0), 0);
	}
	assert_int_equal(r.verdict, POLICY_SIG_BAD);
	assert_non_null(strstr(r.error, "OpenPGP"));
	buf_release(&payload);
}

/* valid-before/valid-after are judged at the commit's time, not now. */
static void test_validity_at_commit_time(void **state)
{
	struct buf sig, payload;
	struct sigverify_result r;

	(void)state;
	make_commit("dev", "2020-06-01T12:00:00Z", "old");
	assert_int_equal(head_sig(&sig, &payload), 0);
	r = verify("allowed_old", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_GOOD);
	r = verify("allowed_new", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_BAD);
	buf_release(&sig);
	buf_release(&payload);

	make_commit("dev", "2026-03-09T12:00:00Z", "new");
	assert_int_equal(head_sig(&sig, &payload), 0);
	r = verify("allowed_old", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_BAD);
	r = verify("allowed_new", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_GOOD);
	buf_release(&sig);
	buf_release(&payload);
}

/* A fake ssh-keygen that never answers (and leaves a child holding its
 * pipes): killed at the deadline, verdict UNCHECKED. */
static void test_hang(void **state)
{
	struct buf sig, payload;
	struct sigverify_result r;
	char bin[128], fake[160], path[4300];
	uint64_t t0;

	(void)state;
	make_commit("dev", "2026-03-09T12:00:00Z", "hang");
	assert_int_equal(head_sig(&sig, &payload), 0);
	pathf(bin, sizeof bin, "bin");
	mkdir(bin, 0700);
	snprintf(fake, sizeof fake, "%s/ssh-keygen", bin);
	assert_int_equal(file_write_atomic(fake, "#!/bin/sh\nsleep 60 &\nexec sleep 60\n", 35,
					   0700), 0);
	chmod(fake, 0700);
	snprintf(path, sizeof path, "%s:%s", bin, path_env);
	setenv("PATH", path, 1);
	t0 = mono_ms();
	r = verify("allowed", &sig, &payload, 300);
	setenv("PATH", path_env, 1);
	assert_int_equal(r.verdict, POLICY_SIG_UNCHECKED);
	assert_non_null(strstr(r.error, "did not finish within"));
	assert_true(mono_ms() - t0 < 5000);
	buf_release(&sig);
	buf_release(&payload);
}

/* find-principals output cut at the 16 KiB cap: the cut last line
 * ("alice" of "alice-admin") is not taken for a principal.  The fake
 * ssh-keygen says "Good" for whatever principal it is asked about. */
static void test_cut_principals(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"case \"$2\" in\n"
		"find-principals)\n"
		"  i=0; while [ $i -lt \"$FILLER\" ]; do printf -- '-%0299d\\n' 0; i=$((i+1)); done\n"
		"  printf -- '-%0123d\\n' 0; printf 'alice-admin\\n' ;;\n"
		"verify) echo \"Good \\\"git\\\" signature for $8 with ED25519 key SHA256:x\" ;;\n"
		"esac\n";
	struct buf sig, payload;
	struct sigverify_result r;
	char bin[128], fake[160], path[4300];

	(void)state;
	make_commit("dev", "2026-03-09T12:00:00Z", "cut");
	assert_int_equal(head_sig(&sig, &payload), 0);
	pathf(bin, sizeof bin, "bin-cut");
	mkdir(bin, 0700);
	snprintf(fake, sizeof fake, "%s/ssh-keygen", bin);
	assert_int_equal(file_write_atomic(fake, script, strlen(script), 0700), 0);
	chmod(fake, 0700);
	snprintf(path, sizeof path, "%s:%s", bin, path_env);
	setenv("PATH", path, 1);
	/* 53 filler lines: the whole name fits under the cap */
	setenv("FILLER", "53", 1);
	r = verify("allowed", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_GOOD);
	assert_string_equal(r.principal, "alice-admin");
	/* 54: 16379 bytes before the name, the cap cuts it after "alice" */
	setenv("FILLER", "54", 1);
	r = verify("allowed", &sig, &payload, 0);
	setenv("PATH", path_env, 1);
	unsetenv("FILLER");
	assert_int_equal(r.verdict, POLICY_SIG_BAD);
	assert_non_null(strstr(r.error, "no principal found"));
	buf_release(&sig);
	buf_release(&payload);
}

static void test_missing_program_and_file(void **state)
{
	struct buf sig, payload;
	struct sigverify_result r;
	char empty[128];

	(void)state;
	make_commit("dev", "2026-03-09T12:00:00Z", "missing");
	assert_int_equal(head_sig(&sig, &payload), 0);
	pathf(empty, sizeof empty, "emptydir");
	mkdir(empty, 0700);
	setenv("PATH", empty, 1);
	r = verify("allowed", &sig, &payload, 0);
	setenv("PATH", path_env, 1);
	assert_int_equal(r.verdict, POLICY_SIG_UNCHECKED);
	assert_non_null(strstr(r.error, "cannot run ssh-keygen"));
	r = verify("no-such-file", &sig, &payload, 0);
	assert_int_equal(r.verdict, POLICY_SIG_UNCHECKED);
	assert_non_null(strstr(r.error, "cannot read allowed signers"));
	buf_release(&sig);
	buf_release(&payload);
}

struct async_state {
	int calls;
	struct sigverify_result res;
};

static void async_done_cb(const struct sigverify_result *res, void *data)
{
	struct async_state *a = data;

	a->calls++;
	a->res = *res;
}

/* The loop form calls back exactly once, never from inside the start call. */
static void test_async(void **state)
{
	struct buf sig, payload;
	struct async_state a = { 0 }, b = { 0 };
	uv_loop_t loop;
	char p[128];

	(void)state;
	make_commit("dev", "2026-03-09T12:00:00Z", "async");
	assert_int_equal(head_sig(&sig, &payload), 0);
	pathf(p, sizeof p, "allowed");
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(sigverify_start(&loop, p, sig.data, sig.len, payload.data, payload.len,
					 0, async_done_cb, &a), 0);
	assert_int_equal(sigverify_start(&loop, p, "", 0, payload.data, payload.len, 0,
					 async_done_cb, &b), 0);
	assert_int_equal(a.calls + b.calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(a.res.verdict, POLICY_SIG_GOOD);
	assert_int_equal(b.res.verdict, POLICY_SIG_UNSIGNED);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(sigverify_start(&loop, NULL, "", 0, "", 0, 0, async_done_cb, &a),
			 ERR_INVALID);
	buf_release(&sig);
	buf_release(&payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_pgp),
		cmocka_unit_test(test_validity_at_commit_time),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_missing_program_and_file),
		cmocka_unit_test(test_cut_principals),
		cmocka_unit_test(test_async),
	};
	int rc;

	gitops_global_init();
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	gitops_global_shutdown();
	return rc;
}
