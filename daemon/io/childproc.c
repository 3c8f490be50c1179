/* childproc.c - the child-process runner (childproc.h): uv_spawn with
 * pipes, a stdin payload, capped output, a deadline and process-group kill.
 *
 * Life of a run: the process handle, the stdout and stderr pipes and the
 * optional stdin pipe are counted in `open`; each closes on its own event
 * (exit, EOF, end of the write).  When the last one is closed the timer is
 * closed, and its close callback reports.  The timer is the deadline; when
 * it fires the group is killed and the timer re-armed for a short grace in
 * which the pipes drain what the dead wrote; past the grace they are closed
 * whoever still holds them (a process that left the group with setsid).
 */
#include "childproc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* After a kill: time for the pipes to give up what is already in them. */
#define CHILDPROC_GRACE_MS 1000u

struct childproc {
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_timer_t timer;
	uv_write_t wr;
	bool feed;		/* stdin is a pipe (in is initialised) */
	bool exited;		/* the leader is reaped: its pid is not ours */
	bool spawned;
	bool session;		/* stdin stays open; deadline per request */
	void (*on_out)(struct childproc_result *res, void *data);
	int open;		/* of proc, out, err, in */
	char *input;
	size_t input_len, out_max, err_max;
	uint64_t started_ns;
	struct childproc_result res;
	childproc_done_cb *done;
	void *data;
	char scratch[16384];	/* read buffer, then copied within the cap */
};

static void finish_cb(uv_handle_t *h)
{
	struct childproc *c = h->data;

	c->res.elapsed_ms = (uv_hrtime() - c->started_ns) / 1000000u;
	c->done(&c->res, c->data);
	buf_release(&c->res.out);
	buf_release(&c->res.err);
	free(c->input);
	free(c);
}

static void handle_closed_cb(uv_handle_t *h)
{
	struct childproc *c = h->data;

	if (--c->open == 0) {
		uv_timer_stop(&c->timer);
		uv_close((uv_handle_t *)&c->timer, finish_cb);
	}
}

static void close_once(struct childproc *c, uv_handle_t *h)
{
	(void)c;	/* h->data is c: every handle closes into the count */
	if (!uv_is_closing(h))
		uv_close(h, handle_closed_cb);
}

static void close_pipes(struct childproc *c)
{
	uv_read_stop((uv_stream_t *)&c->out);
	uv_read_stop((uv_stream_t *)&c->err);
	close_once(c, (uv_handle_t *)&c->out);
	close_once(c, (uv_handle_t *)&c->err);
	if (c->feed)
		close_once(c, (uv_handle_t *)&c->in);
}

/* SIGKILL, which no child can ignore, to the group it leads and to the
 * leader itself.  Once the leader is reaped exit_cb has killed the group
 * already, and its pid is no longer ours to signal. */
static void kill_group(struct childproc *c)
{
	if (!c->spawned || c->exited)
		return;
	kill(-c->proc.pid, SIGKILL);
	kill(c->proc.pid, SIGKILL);
}

/* Every timer of a child counts from now, not from the loop's last tick:
 * uv_timer_start measures from the loop's cached time, which lags by
 * whatever ran since the tick began (a spawn, a synchronous git or YAML
 * step), and a deadline counted from it ends that much early. */
static void timer_cb(uv_timer_t *t);

static void timer_from_now(uv_timer_t *t, uint64_t ms)
{
	uv_update_time(t->loop);
	uv_timer_start(t, timer_cb, ms, 0);
}

static void timer_cb(uv_timer_t *t)
{
	struct childproc *c = t->data;

	if (!c->res.timed_out && !c->res.killed) {
		c->res.timed_out = true;
		kill_group(c);
		timer_from_now(t, CHILDPROC_GRACE_MS);
		return;
	}
	close_pipes(c);
}

void childproc_kill(struct childproc *c)
{
	if (!c || c->res.killed || c->res.timed_out)
		return;
	c->res.killed = true;
	kill_group(c);
	timer_from_now(&c->timer, CHILDPROC_GRACE_MS);
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct childproc *c = p->data;

	c->res.status = status;
	c->res.signal = sig;
	/* the job is over: what it left in its group would only hold the
	 * pipes (the group lives, and keeps its id, while a member does) */
	kill(-p->pid, SIGKILL);
	c->exited = true;
	if (c->session)
		close_once(c, (uv_handle_t *)&c->in);	/* nobody reads it now */
	close_once(c, (uv_handle_t *)p);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct childproc *c = h->data;

	(void)hint;
	b->base = c->scratch;
	b->len = sizeof c->scratch;
}

/* Keeps what fits under max; counts the rest as dropped. */
static void keep(struct buf *b, size_t max, bool *truncated, uint64_t *dropped,
		 const char *data, size_t n)
{
	size_t take = max - b->len < n ? max - b->len : n;

	if (take && buf_add(b, data, take))
		take = 0;	/* out of memory: dropped, and said so */
	if (take < n) {
		*truncated = true;
		*dropped += n - take;
	}
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct childproc *c = s->data;
	struct childproc_result *r = &c->res;

	if (n > 0 && s == (uv_stream_t *)&c->out) {
		keep(&r->out, c->out_max, &r->out_truncated, &r->out_dropped, b->base, (size_t)n);
		if (c->on_out && !r->killed && !r->timed_out)
			c->on_out(r, c->data);
	} else if (n > 0)
		keep(&r->err, c->err_max, &r->err_truncated, &r->err_dropped, b->base, (size_t)n);
	else if (n < 0) {
		/* EOF: the child closed it (perhaps long before exiting) */
		uv_read_stop(s);
		close_once(c, (uv_handle_t *)s);
	}
}

static void write_cb(uv_write_t *w, int status)
{
	struct childproc *c = w->data;

	/* EPIPE when the child exits (or closes stdin) before reading it
	 * all: its exit status says what that meant */
	(void)status;
	close_once(c, (uv_handle_t *)&c->in);
}

static int spec_ok(const struct childproc_spec *s)
{
	if (s && s->session)
		return s->argv && s->argv[0] && s->argv[0][0] && !s->input && !s->input_len;
	return s && s->argv && s->argv[0] && s->argv[0][0] && s->deadline_ms > 0 &&
	       (s->input || !s->input_len) && s->input_len <= UINT32_MAX && !s->on_out;
}

struct sess_write {
	uv_write_t w;
	char data[];
};

static void sess_write_cb(uv_write_t *w, int status)
{
	/* a failed write means the child is ending: its exit says why */
	(void)status;
	free(w->data);
}

int childproc_write(struct childproc *c, const char *data, size_t len)
{
	struct sess_write *sw;
	uv_buf_t b;

	if (!c || !c->session || !c->spawned || c->exited || c->res.killed || c->res.timed_out ||
	    uv_is_closing((uv_handle_t *)&c->in) || len > UINT32_MAX)
		return ERR_IO;
	if (!(sw = malloc(sizeof *sw + len + 1)))
		return ERR_NOMEM;
	memcpy(sw->data, data, len);
	sw->w.data = sw;
	b = uv_buf_init(sw->data, (unsigned)len);
	if (uv_write(&sw->w, (uv_stream_t *)&c->in, &b, 1, sess_write_cb)) {
		free(sw);
		return ERR_IO;
	}
	return 0;
}

void childproc_arm(struct childproc *c, uint64_t ms)
{
	if (!c || c->res.killed || c->res.timed_out || uv_is_closing((uv_handle_t *)&c->timer))
		return;
	if (ms)
		timer_from_now(&c->timer, ms);
	else
		uv_timer_stop(&c->timer);
}

void childproc_out_take(struct childproc *c, size_t n)
{
	struct buf *b = &c->res.out;

	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* A write to a pipe whose reader has exited would otherwise kill the whole
 * process; the daemon ignores SIGPIPE already, the CLI may not.  Only when
 * there is input to write: a CLI that runs a child without input keeps
 * the default (a `pipelinectl ... | head` ends quietly). */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static struct childproc *childproc_new(uv_loop_t *loop, const struct childproc_spec *spec,
				       childproc_done_cb *done, void *data)
{
	struct childproc *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->session = spec->session;
	c->on_out = spec->on_out;
	c->feed = spec->input != NULL || spec->session;
	if (c->feed && !(c->input = malloc(spec->input_len + 1))) {
		free(c);
		return NULL;
	}
	if (spec->input_len)
		memcpy(c->input, spec->input, spec->input_len);
	c->input_len = spec->input_len;
	c->out_max = spec->out_max;
	c->err_max = spec->err_max;
	c->done = done;
	c->data = data;
	c->started_ns = uv_hrtime();
	/* buf's max of 0 means its default: the caps are enforced in keep() */
	buf_init(&c->res.out, spec->out_max ? spec->out_max : 1);
	buf_init(&c->res.err, spec->err_max ? spec->err_max : 1);
	uv_pipe_init(loop, &c->out, 0);
	uv_pipe_init(loop, &c->err, 0);
	if (c->feed)
		uv_pipe_init(loop, &c->in, 0);
	uv_timer_init(loop, &c->timer);
	c->proc.data = c->in.data = c->out.data = c->err.data = c->timer.data = c->wr.data = c;
	c->open = c->feed ? 4 : 3;
	return c;
}

static void start_io(struct childproc *c)
{
	if (uv_read_start((uv_stream_t *)&c->out, alloc_cb, read_cb))
		close_once(c, (uv_handle_t *)&c->out);
	if (uv_read_start((uv_stream_t *)&c->err, alloc_cb, read_cb))
		close_once(c, (uv_handle_t *)&c->err);
	if (!c->feed || c->session)
		return;
	if (c->input_len == 0) {
		close_once(c, (uv_handle_t *)&c->in);	/* EOF at once */
		return;
	}
	/* libuv writes it as the child reads: any size, never blocking us */
	uv_buf_t b = uv_buf_init(c->input, (unsigned)c->input_len);
	if (uv_write(&c->wr, (uv_stream_t *)&c->in, &b, 1, write_cb))
		close_once(c, (uv_handle_t *)&c->in);
}

int childproc_start(struct childproc **out, uv_loop_t *loop, const struct childproc_spec *spec,
		    childproc_done_cb *done, void *data)
{
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	struct childproc *c;
	int rc;

	if (!loop || !done || !spec_ok(spec))
		return ERR_INVALID;
	if (!(c = childproc_new(loop, spec, done, data)))
		return ERR_NOMEM;
	if (c->feed)
		ignore_sigpipe();
	memset(&o, 0, sizeof o);
	memset(io, 0, sizeof io);
	io[0].flags = UV_IGNORE;
	if (c->feed) {
		io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
		io[0].data.stream = (uv_stream_t *)&c->in;
	}
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&c->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&c->err;
	o.file = spec->argv[0];
	o.args = (char **)spec->argv;
	o.env = (char **)spec->env;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = exit_cb;
	o.flags = UV_PROCESS_DETACHED;	/* setsid: a group we can kill whole */
	rc = uv_spawn(loop, &c->proc, &o);
	if (out)
		*out = c;
	if (rc < 0) {
		/* every handle still needs closing; the callback reports why */
		c->res.spawn_error = rc;
		c->res.status = -1;
		close_once(c, (uv_handle_t *)&c->proc);
		close_pipes(c);
		return 0;
	}
	c->spawned = true;
	if (spec->deadline_ms)
		timer_from_now(&c->timer, spec->deadline_ms);
	start_io(c);
	return 0;
}
