/* Tests for childproc.c on a real libuv loop with /bin/sh children: exit
 * codes and signals, stdout and stderr apart, the deadline killing a whole
 * process group (grandchild included, SIGTERM ignored or not), stragglers
 * killed when the job ends, a process outside the group holding the pipes,
 * output exactly at and past the caps, a stdin payload larger than a pipe
 * buffer, a child that closes stdout early or never reads its input, a
 * program that does not exist, and an owner that has to stop while a child
 * runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childproc.h"
#include "sysio.h"
#include "util.h"

struct outcome {
	int calls;
	int spawn_error;
	int64_t status;
	int signal;
	bool timed_out, killed, out_truncated, err_truncated;
	uint64_t out_dropped, err_dropped, elapsed_ms;
	struct buf out, err;
};

static void done_cb(struct childproc_result *r, void *data)
{
	struct outcome *o = data;

	o->calls++;
	o->spawn_error = r->spawn_error;
	o->status = r->status;
	o->signal = r->signal;
	o->timed_out = r->timed_out;
	o->killed = r->killed;
	o->out_truncated = r->out_truncated;
	o->err_truncated = r->err_truncated;
	o->out_dropped = r->out_dropped;
	o->err_dropped = r->err_dropped;
	o->elapsed_ms = r->elapsed_ms;
	/* the buffers are the runner's: take them */
	o->out = r->out;
	o->err = r->err;
	memset(&r->out, 0, sizeof r->out);
	memset(&r->err, 0, sizeof r->err);
}

static void outcome_release(struct outcome *o)
{
	buf_release(&o->out);
	buf_release(&o->err);
}

static const char *text(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* Milliseconds the next run_spec spends between creating its loop and
 * starting the child: a loop whose cached time lags, as a daemon's does
 * after synchronous work in the same tick. */
static unsigned busy_before_start_ms;

/* Runs spec to completion on a fresh loop; the callback must come from
 * the loop, exactly once. */
static struct outcome run_spec(struct childproc_spec *spec)
{
	struct outcome o;
	uv_loop_t loop;

	memset(&o, 0, sizeof o);
	assert_int_equal(uv_loop_init(&loop), 0);
	if (busy_before_start_ms)
		usleep(busy_before_start_ms * 1000u);
	busy_before_start_ms = 0;
	assert_int_equal(childproc_start(NULL, &loop, spec, done_cb, &o), 0);
	assert_int_equal(o.calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	return o;
}

static struct outcome run_sh(const char *script, size_t cap, uint64_t deadline_ms)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct childproc_spec spec = { .argv = argv, .out_max = cap, .err_max = cap,
				       .deadline_ms = deadline_ms };

	return run_spec(&spec);
}

/* A process that exists and is not a zombie (one reparented to an init
 * that reaps late would still answer kill(pid, 0)). */
static bool alive(int64_t pid)
{
	char path[64], st[256];
	FILE *f;
	bool up = false;

	snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
	if (!(f = fopen(path, "r")))
		return false;
	if (fgets(st, sizeof st, f)) {
		const char *p = strrchr(st, ')');
		up = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	}
	fclose(f);
	return up;
}

/* The process whose pid the child printed on its first line is gone (or
 * goes within two seconds: the kernel delivers SIGKILL, not us). */
static void assert_printed_pid_gone(struct outcome *o)
{
	int64_t pid = 0;

	assert_int_equal(parse_i64(&pid, strtok(o->out.data, "\n"), 1, INT32_MAX), 0);
	for (int i = 0; i < 200 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
}

static void test_exit_status_and_streams(void **state)
{
	struct outcome o;

	(void)state;
	o = run_sh("echo out; echo err >&2; exit 3", 1024, 10000);
	assert_int_equal(o.spawn_error, 0);
	assert_int_equal(o.status, 3);
	assert_int_equal(o.signal, 0);
	assert_false(o.timed_out);
	assert_false(o.killed);
	assert_string_equal(text(&o.out), "out\n");
	assert_string_equal(text(&o.err), "err\n");
	assert_false(o.out_truncated || o.err_truncated);
	outcome_release(&o);

	o = run_sh("true", 1024, 10000);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.out.len, 0);
	outcome_release(&o);
}

static void test_signal(void **state)
{
	struct outcome o;

	(void)state;
	o = run_sh("kill -TERM $$; sleep 5", 1024, 10000);
	assert_int_equal(o.signal, SIGTERM);
	assert_false(o.timed_out);
	assert_true(o.elapsed_ms < 4000);
	outcome_release(&o);
}

/* The deadline kills the child and the grandchild it started, though the
 * child ignores SIGTERM and the grandchild holds the pipes. */
static void test_deadline_kills_group(void **state)
{
	struct outcome o;

	(void)state;
	o = run_sh("trap '' TERM; sleep 30 & echo $!; exec sleep 30", 1024, 300);
	assert_true(o.timed_out);
	assert_false(o.killed);
	assert_int_equal(o.signal, SIGKILL);
	assert_true(o.elapsed_ms >= 300);
	assert_true(o.elapsed_ms < 5000);
	assert_printed_pid_gone(&o);
	outcome_release(&o);
}

/* The deadline counts from the start of the child, not from the loop's
 * last tick (found as a rare failure of the test above on a loaded
 * machine: a spawn slowed by load ate into the 300 ms). */
static void test_deadline_from_start(void **state)
{
	struct outcome o;

	(void)state;
	busy_before_start_ms = 600;
	o = run_sh("exec sleep 30", 1024, 300);
	assert_true(o.timed_out);
	if (o.elapsed_ms < 300)
		fail_msg("killed after %llu ms, before its 300 ms deadline",
			 (unsigned long long)o.elapsed_ms);
	assert_true(o.elapsed_ms < 5000);
	outcome_release(&o);
}

/* A job that ends leaves nothing behind in its group: the straggler is
 * killed and the run ends at once, not at the deadline. */
static void test_straggler_killed_at_exit(void **state)
{
	struct outcome o;

	(void)state;
	o = run_sh("sleep 30 & echo $!; exit 0", 1024, 20000);
	assert_false(o.timed_out);
	assert_int_equal(o.status, 0);
	assert_true(o.elapsed_ms < 5000);
	assert_printed_pid_gone(&o);
	outcome_release(&o);
}

/* A process that left the group (setsid) and holds the pipes cannot keep
 * the run going: past the deadline and a grace the pipes are closed. */
static void test_escaped_holder(void **state)
{
	struct outcome o;
	int64_t pid = 0;

	(void)state;
	/* waits until the escape is done: before it, the exit would kill it */
	o = run_sh("setsid sleep 30 & p=$!; "
		   "while [ \"$(cut -d' ' -f6 /proc/$p/stat)\" != $p ]; do sleep 0.01; done; "
		   "echo $p; exit 0", 1024, 2000);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.signal, 0);
	assert_true(o.timed_out);
	assert_true(o.elapsed_ms >= 2000);
	assert_true(o.elapsed_ms < 8000);
	assert_int_equal(parse_i64(&pid, strtok(o.out.data, "\n"), 1, INT32_MAX), 0);
	kill((pid_t)pid, SIGKILL);
	outcome_release(&o);
}

/* Exactly at the cap is whole; one byte more is cut, and says so; far
 * more is drained (the child is never blocked on a full pipe). */
static void test_output_caps(void **state)
{
	struct outcome o;

	(void)state;
	o = run_sh("head -c 1000 /dev/zero | tr '\\0' a; head -c 1000 /dev/zero | tr '\\0' b >&2",
		   1000, 10000);
	assert_int_equal(o.out.len, 1000);
	assert_int_equal(o.err.len, 1000);
	assert_false(o.out_truncated);
	assert_false(o.err_truncated);
	assert_int_equal(o.out_dropped, 0);
	outcome_release(&o);

	o = run_sh("head -c 1001 /dev/zero | tr '\\0' a", 1000, 10000);
	assert_int_equal(o.out.len, 1000);
	assert_int_equal(strlen(o.out.data), 1000);
	assert_true(o.out_truncated);
	assert_int_equal(o.out_dropped, 1);
	assert_false(o.err_truncated);
	outcome_release(&o);

	o = run_sh("head -c 4000000 /dev/zero; head -c 300000 /dev/zero >&2; exit 7", 100, 20000);
	assert_int_equal(o.status, 7);
	assert_false(o.timed_out);
	assert_int_equal(o.out.len, 100);
	assert_int_equal(o.out_dropped, 4000000 - 100);
	assert_int_equal(o.err.len, 100);
	assert_int_equal(o.err_dropped, 300000 - 100);
	outcome_release(&o);

	/* a cap of 0 keeps nothing, and still says what was dropped */
	o = run_sh("echo hi", 0, 10000);
	assert_int_equal(o.out.len, 0);
	assert_true(o.out_truncated);
	assert_int_equal(o.out_dropped, 3);
	outcome_release(&o);
}

/* 1 MiB on stdin, many pipe buffers: all of it arrives; a child that never
 * reads it exits normally (EPIPE is ours, not its). */
static void test_big_stdin(void **state)
{
	const char *wc[] = { "/bin/sh", "-c", "wc -c", NULL };
	const char *quit[] = { "/bin/sh", "-c", "exit 5", NULL };
	const char *cat[] = { "/bin/cat", NULL };
	size_t n = 1u << 20;
	char *payload = malloc(n);
	struct childproc_spec spec = { .argv = wc, .input = payload, .input_len = n,
				       .out_max = 64, .err_max = 1024, .deadline_ms = 20000 };
	struct outcome o;
	int64_t count = 0;

	(void)state;
	assert_non_null(payload);
	for (size_t i = 0; i < n; i++)
		payload[i] = (char)('a' + i % 26);
	o = run_spec(&spec);
	assert_int_equal(o.status, 0);
	assert_int_equal(parse_i64(&count, strtok(o.out.data, " \n"), 0, INT64_MAX), 0);
	assert_int_equal(count, (int64_t)n);
	outcome_release(&o);

	spec.argv = quit;
	o = run_spec(&spec);
	assert_int_equal(o.status, 5);
	assert_int_equal(o.signal, 0);
	assert_false(o.timed_out);
	outcome_release(&o);

	/* the bytes come back as they went in */
	spec.argv = cat;
	spec.out_max = n;
	o = run_spec(&spec);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.out.len, n);
	assert_memory_equal(o.out.data, payload, n);
	outcome_release(&o);

	/* an empty payload is an immediate EOF, not /dev/null by accident */
	spec.argv = wc;
	spec.input_len = 0;
	spec.out_max = 64;
	o = run_spec(&spec);
	assert_int_equal(parse_i64(&count, strtok(o.out.data, " \n"), 0, INT64_MAX), 0);
	assert_int_equal(count, 0);
	outcome_release(&o);
	free(payload);
}

static void test_stdout_closed_early(void **state)
{
	struct outcome o;

	(void)state;
	o = run_sh("echo first; exec >&-; sleep 0.3; echo late >&2; exit 4", 1024, 10000);
	assert_int_equal(o.status, 4);
	assert_false(o.timed_out);
	assert_string_equal(text(&o.out), "first\n");
	assert_string_equal(text(&o.err), "late\n");
	assert_true(o.elapsed_ms >= 300);
	outcome_release(&o);
}

static void test_spawn_failure(void **state)
{
	const char *missing[] = { "/nonexistent/pipelined-test-prog", NULL };
	const char *unknown[] = { "pipelined-no-such-program", NULL };
	char plain[] = "/tmp/childproc-test.XXXXXX";
	const char *notexec[] = { plain, NULL };
	int fd;
	struct childproc_spec spec = { .argv = missing, .out_max = 10, .err_max = 10,
				       .deadline_ms = 1000 };
	struct outcome o;

	(void)state;
	o = run_spec(&spec);
	assert_int_equal(o.spawn_error, UV_ENOENT);
	assert_string_equal(uv_strerror(o.spawn_error), "no such file or directory");
	assert_false(o.timed_out);
	assert_int_equal(o.out.len, 0);
	outcome_release(&o);

	spec.argv = unknown;
	o = run_spec(&spec);
	assert_int_equal(o.spawn_error, UV_ENOENT);
	outcome_release(&o);

	/* a file without execute permission */
	assert_true((fd = mkstemp(plain)) >= 0);
	close(fd);
	spec.argv = notexec;
	o = run_spec(&spec);
	assert_int_equal(o.spawn_error, UV_EACCES);
	outcome_release(&o);
	unlink(plain);
}

static void test_env(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo \"$GREETING:${HOME-unset}\"", NULL };
	const char *env[] = { "GREETING=hello", NULL };
	struct childproc_spec spec = { .argv = argv, .env = env, .out_max = 100, .err_max = 100,
				       .deadline_ms = 10000 };
	struct outcome o;

	(void)state;
	o = run_spec(&spec);
	assert_string_equal(text(&o.out), "hello:unset\n");
	outcome_release(&o);
}

/* An owner that stops (the daemon's stop path) cannot close its loop while
 * a child runs; childproc_kill ends the child at once and the one callback
 * still comes. */
static void test_kill_and_loop_close(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait", NULL };
	struct childproc_spec spec = { .argv = argv, .out_max = 100, .err_max = 100,
				       .deadline_ms = 60000 };
	struct childproc *c = NULL;
	struct outcome o;
	uv_loop_t loop;
	uint64_t t0 = mono_ms();

	(void)state;
	memset(&o, 0, sizeof o);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(childproc_start(&c, &loop, &spec, done_cb, &o), 0);
	assert_non_null(c);
	for (int i = 0; i < 100 && o.calls == 0; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	assert_int_equal(o.calls, 0);
	assert_int_equal(uv_loop_close(&loop), UV_EBUSY);
	childproc_kill(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 1);
	assert_true(o.killed);
	assert_false(o.timed_out);
	assert_int_equal(o.signal, SIGKILL);
	assert_true(mono_ms() - t0 < 10000);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_printed_pid_gone(&o);
	outcome_release(&o);
}

static void test_invalid(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	const char *empty[] = { NULL };
	struct childproc_spec spec = { .argv = argv, .out_max = 1, .err_max = 1 };
	struct outcome o;
	uv_loop_t loop;

	(void)state;
	memset(&o, 0, sizeof o);
	assert_int_equal(uv_loop_init(&loop), 0);
	/* no deadline */
	assert_int_equal(childproc_start(NULL, &loop, &spec, done_cb, &o), ERR_INVALID);
	spec.deadline_ms = 1000;
	spec.argv = empty;
	assert_int_equal(childproc_start(NULL, &loop, &spec, done_cb, &o), ERR_INVALID);
	spec.argv = argv;
	spec.input_len = 10;	/* a length without bytes */
	assert_int_equal(childproc_start(NULL, &loop, &spec, done_cb, &o), ERR_INVALID);
	assert_int_equal(childproc_start(NULL, &loop, NULL, done_cb, &o), ERR_INVALID);
	assert_int_equal(childproc_start(NULL, NULL, &spec, done_cb, &o), ERR_INVALID);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}


/* A session child: requests written to its stdin, each answer taken when
 * its "end" line arrives, the deadline armed per request only (idle time
 * between requests is not counted), and a request it does not answer in
 * time killing it with timed_out. */
struct sess {
	struct childproc *cp;
	int answers;
	char last[64];
};

static void sess_out_cb(struct childproc_result *r, void *data)
{
	struct sess *s = data;
	const char *end = strstr(r->out.data ? r->out.data : "", "end\n");

	if (!end)
		return;
	snprintf(s->last, sizeof s->last, "%.*s", (int)(end - r->out.data), r->out.data);
	childproc_out_take(s->cp, (size_t)(end - r->out.data) + 4);
	childproc_arm(s->cp, 0);
	s->answers++;
	if (s->answers == 1) {
		/* idle longer than the deadline, then ask again */
		usleep(400 * 1000);
		assert_int_equal(childproc_write(s->cp, "two\n", 4), 0);
		childproc_arm(s->cp, 300);
	} else if (s->answers == 2) {
		assert_int_equal(childproc_write(s->cp, "hang\n", 5), 0);
		childproc_arm(s->cp, 300);
	}
}

struct sess_outcome {
	struct sess s;
	struct outcome o;
};

static void sess_done_cb(struct childproc_result *r, void *data)
{
	done_cb(r, &((struct sess_outcome *)data)->o);
}

static void test_session(void **state)
{
	static const char *const argv[] = { "/bin/sh", "-c",
		"while read l; do [ \"$l\" = hang ] && sleep 30; echo \"got $l\"; echo end; done",
		NULL };
	struct childproc_spec spec = { .argv = argv, .out_max = 4096, .err_max = 4096,
				       .session = true };
	struct sess_outcome so;
	uv_loop_t loop;

	(void)state;
	memset(&so, 0, sizeof so);
	spec.on_out = sess_out_cb;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(childproc_start(&so.s.cp, &loop, &spec, sess_done_cb, &so), 0);
	assert_int_equal(childproc_write(so.s.cp, "one\n", 4), 0);
	childproc_arm(so.s.cp, 300);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(so.o.calls, 1);
	assert_int_equal(so.s.answers, 2);
	assert_string_equal(so.s.last, "got two\n");
	assert_true(so.o.timed_out);
	assert_string_equal(text(&so.o.out), "");
	assert_int_equal(uv_loop_close(&loop), 0);
	outcome_release(&so.o);
	/* a session takes no payload, and a payload run no on_out */
	spec.input = "x";
	spec.input_len = 1;
	assert_int_equal(childproc_start(NULL, &loop, &spec, sess_done_cb, &so), ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_and_streams),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_deadline_kills_group),
		cmocka_unit_test(test_deadline_from_start),
		cmocka_unit_test(test_straggler_killed_at_exit),
		cmocka_unit_test(test_escaped_holder),
		cmocka_unit_test(test_output_caps),
		cmocka_unit_test(test_big_stdin),
		cmocka_unit_test(test_stdout_closed_early),
		cmocka_unit_test(test_spawn_failure),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_kill_and_loop_close),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
