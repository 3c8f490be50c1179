/* childproc.h - run one program as a child process on a libuv loop, with
 * bounded output and a deadline.
 *
 * The one child-process runner of the daemon: the git helper
 * (pipelined-git, gitops_run.c) and ssh-keygen (sigverify.c) both go
 * through it.  The program is run from an argument vector, never through a
 * shell.  It leads its own session and process group (setsid, libuv's
 * UV_PROCESS_DETACHED), so that the deadline kills it and everything it
 * started with one SIGKILL to the group, and so that a straggler left in the
 * group when the program exits is killed too (nothing of a finished job
 * keeps running, or keeps its pipes open).
 *
 * Output past a cap is read and dropped, never left in the pipe (a child
 * blocked on a full pipe would only meet its deadline); the result says so
 * (out_truncated, out_dropped), so no caller mistakes a cut output for a
 * whole one.
 *
 * While a child runs, its handles keep the loop alive: uv_run does not
 * return and uv_loop_close says UV_EBUSY.  An owner that stops early calls
 * childproc_kill, and still gets its one callback.
 *
 * A session child (spec.session) is long-lived and answers requests: its
 * stdin stays a pipe that childproc_write feeds, the owner is told of each
 * piece of stdout (on_out) and takes what it has read (childproc_out_take),
 * and the deadline is armed per request (childproc_arm) instead of once.
 * Everything else (caps, process-group kill, the one final callback) is
 * the same.
 */
#ifndef PIPELINED_CHILDPROC_H
#define PIPELINED_CHILDPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util.h"

struct childproc_result;

struct childproc_spec {
	const char *const *argv;	/* NULL-terminated; argv[0] is looked up
					 * in PATH when it has no '/' */
	const char *const *env;		/* NULL-terminated "K=V", or NULL: ours */
	const char *input;		/* stdin payload (copied), or NULL:
					 * stdin is /dev/null */
	size_t input_len;
	size_t out_max, err_max;	/* bytes of stdout / stderr kept */
	uint64_t deadline_ms;		/* > 0: SIGKILL to the group past it
					 * (a session: 0, see childproc_arm) */
	bool session;			/* stdin a pipe left open for
					 * childproc_write; input must be NULL */
	void (*on_out)(struct childproc_result *res, void *data);
					/* a session: after each piece of
					 * stdout, with res->out so far */
};

struct childproc_result {
	int spawn_error;	/* 0, or libuv's error (UV_ENOENT, UV_EACCES, ...)
				 * when the program could not be started; the
				 * rest is then empty */
	int64_t status;		/* exit status, when signal is 0 */
	int signal;		/* the signal that ended it, or 0 */
	bool timed_out;		/* it (or a holder of its pipes) outlived the
				 * deadline and was killed */
	bool killed;		/* childproc_kill ended it */
	struct buf out, err;	/* what it wrote, NUL-terminated, at most
				 * out_max / err_max bytes */
	bool out_truncated, err_truncated;	/* more was written... */
	uint64_t out_dropped, err_dropped;	/* ...this many bytes, dropped */
	uint64_t elapsed_ms;
};

struct childproc;

/* Called once, on the loop thread, after every handle is closed.  res and
 * its buffers are the runner's and are freed when this returns (take a
 * buffer with buf_detach to keep it). */
typedef void childproc_done_cb(struct childproc_result *res, void *data);

/* Starts spec on loop.  0: done will be called exactly once, never from
 * inside this call (also when the program cannot be started: see
 * spawn_error); *out (when out is not NULL) is valid until then.
 * ERR_INVALID or ERR_NOMEM: nothing started, done is never called.
 * With input, SIGPIPE is set to be ignored if it is at its default (a
 * child that exits before reading its input would otherwise kill us). */
int childproc_start(struct childproc **out, uv_loop_t *loop, const struct childproc_spec *spec,
		    childproc_done_cb *done, void *data);

/* A session: writes data (copied) to the child's stdin.  0, or ERR_IO
 * when stdin is closed or the child is ending, ERR_NOMEM. */
int childproc_write(struct childproc *c, const char *data, size_t len);

/* A session: SIGKILL to the group ms from now, as a spec's deadline; 0
 * disarms.  Only before the callback. */
void childproc_arm(struct childproc *c, uint64_t ms);

/* A session: drops the first n bytes of res.out (what the owner has read). */
void childproc_out_take(struct childproc *c, size_t n);

/* Kills the child's process group now and stops waiting for its pipes;
 * the callback follows with killed set.  Only before the callback. */
void childproc_kill(struct childproc *c);

#endif
