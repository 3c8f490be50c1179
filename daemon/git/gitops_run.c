/* gitops_run.c - the loop side of the git layer: pipelined-git helper
 * processes with a deadline, and the fetch/edit/gate/push transaction with
 * bounded, jittered retries.  Everything here runs on the caller's loop
 * thread; libgit2 object work goes to the threadpool (uv_queue_work). */
#include "gitops_int.h"
#include "childproc.h"
#include "gitssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS (48 + 3 * GITOPS_MAX_DELETES)
#define MAX_STDOUT (2u << 20)
#define MAX_STDERR (64u * 1024)
#define MAX_REMOTE_TEXT (64u * 1024)

/* ---- helper process ---- */

/* out: the helper's stdout (never NULL) */
typedef void proc_done_fn(void *data, int rc, const char *msg, const char *out);

struct proc {
	struct gitops *g;
	char what[32];
	proc_done_fn *done;
	void *data;
};

/* The last "pipelined-git: " line of the helper's stderr; sanitizer noise
 * may surround it. */
static void helper_error(char *msg, size_t msgsz, const struct proc *p, const char *err)
{
	const char *line = err, *nl;

	for (const char *s = line; (s = strstr(s, GITOPS_ERR_PREFIX)); s++)
		line = s + strlen(GITOPS_ERR_PREFIX);
	nl = strchr(line, '\n');
	snprintf(msg, msgsz, "%s of '%s' failed: %.*s", p->what, p->g->url,
		 (int)(nl ? (size_t)(nl - line) : strlen(line)), line);
}

/* What a helper's end means: 0, or a pipelined code with msg. */
static int proc_verdict(char *msg, size_t msgsz, struct childproc_result *r, const struct proc *p)
{
	int rc = 0;

	if (r->spawn_error) {
		rc = ERR_FAIL;
		snprintf(p->g->err, sizeof p->g->err, "cannot run '%s': %s", p->g->worker,
			 uv_strerror(r->spawn_error));
		snprintf(msg, msgsz, "%s of '%s' failed: %.*s", p->what, p->g->url,
			 (int)strlen(p->g->err), p->g->err);
	} else if (r->timed_out) {
		rc = ERR_TIMEOUT;
		snprintf(msg, msgsz, "%s of '%s' timed out after %llums (helper killed)",
			 p->what, p->g->url, (unsigned long long)p->g->deadline_ms);
	} else if (r->signal) {
		rc = ERR_FAIL;
		snprintf(msg, msgsz, "%s of '%s': helper died of signal %d", p->what,
			 p->g->url, r->signal);
	} else if (r->status) {
		rc = r->status > 0 && r->status < 64 ? -(int)r->status : ERR_FAIL;
		helper_error(msg, msgsz, p, r->err.data ? r->err.data : "");
	}
	/* The helper bounds what it prints (GITOPS_MAX_REFS ref lines fit
	 * well under the cap); a cut list of refs or push statuses would be
	 * wrong facts, so a run that passed the cap failed, and its output is
	 * not read at all. */
	if ((rc == 0 || r->killed) && r->out_truncated) {
		rc = ERR_TOOBIG;
		snprintf(msg, msgsz, "%s of '%s' failed: the helper wrote more than %u KiB "
			 "(%llu bytes dropped)", p->what, p->g->url, MAX_STDOUT / 1024,
			 (unsigned long long)r->out_dropped);
	}
	return rc;
}

static void proc_done_cb(struct childproc_result *r, void *data)
{
	struct proc *p = data;
	char msg[1024] = "";
	int rc = proc_verdict(msg, sizeof msg, r, p);

	p->done(p->data, rc, msg, r->out.data && !r->out_truncated ? r->out.data : "");
	free(p);
}

struct argv_b {
	char *v[MAX_ARGS + 1];
	size_t n;
};

static int arg_add(struct argv_b *a, const char *s)
{
	if (a->n == MAX_ARGS || !(a->v[a->n] = xstrndup(s, strlen(s))))
		return ERR_TOOBIG;
	a->v[++a->n] = NULL;
	return 0;
}

static void args_release(struct argv_b *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
}

static int args_common(struct argv_b *a, struct gitops *g, const char *op)
{
	char ms[24];
	int rc = 0;

	snprintf(ms, sizeof ms, "%llu", (unsigned long long)g->deadline_ms);
	rc |= arg_add(a, g->worker);
	rc |= arg_add(a, op);
	rc |= arg_add(a, "--mirror") | arg_add(a, g->mirror);
	rc |= arg_add(a, "--url") | arg_add(a, g->url);
	rc |= arg_add(a, "--home") | arg_add(a, g->home);
	rc |= arg_add(a, "--deadline-ms") | arg_add(a, ms);
	if (g->ssh_key)
		rc |= arg_add(a, "--key") | arg_add(a, g->ssh_key);
	if (g->known_hosts)
		rc |= arg_add(a, "--known-hosts") | arg_add(a, g->known_hosts);
	return rc ? ERR_TOOBIG : 0;
}

/* Runs the worker with argv a (never through a shell).  On success done
 * is called exactly once, later, on the loop thread. */
static int proc_start(struct gitops *g, uv_loop_t *loop, struct argv_b *a, const char *what,
		      proc_done_fn *done, void *data)
{
	struct childproc_spec spec = {
		.argv = (const char *const *)a->v,
		.out_max = MAX_STDOUT,
		.err_max = MAX_STDERR,
		.deadline_ms = g->deadline_ms,
	};
	struct proc *p = calloc(1, sizeof *p);
	int rc;

	if (!p)
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	p->g = g;
	p->done = done;
	p->data = data;
	strlcpy_(p->what, what, sizeof p->what);
	if ((rc = childproc_start(NULL, loop, &spec, proc_done_cb, p))) {
		free(p);
		return gitops_fail(g, rc, "cannot run '%s': %s", g->worker,
				   rc == ERR_NOMEM ? "out of memory" : "invalid arguments");
	}
	return 0;
}

/* "remote <text>" lines into res->remote, "ref <id> <name>" into res->refs,
 * "ng <ref> <status>" appended to reasons. */
static void parse_output(struct gitops_result *res, const char *out, struct buf *reasons)
{
	const char *line = out, *nl;
	size_t len;

	for (; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 7 && !strncmp(line, "remote ", 7)) {
			if (res->remote.len + len + 2 < MAX_REMOTE_TEXT)
				buf_printf(&res->remote, "remote: %.*s\n", (int)len - 7, line + 7);
		} else if (len > 3 && !strncmp(line, "ng ", 3)) {
			buf_printf(reasons, "%s%.*s", reasons->len ? "; " : "", (int)len - 3, line + 3);
		} else if (len > 4 + GITOPS_HEXSZ + 1 && !strncmp(line, "ref ", 4) &&
			   res->nrefs < GITOPS_MAX_REFS) {
			struct gitops_ref *r = realloc(res->refs, (res->nrefs + 1) * sizeof *r);
			if (!r)
				return;
			res->refs = r;
			r = &res->refs[res->nrefs++];
			memcpy(r->id, line + 4, GITOPS_HEXSZ);
			r->id[GITOPS_HEXSZ] = '\0';
			snprintf(r->name, sizeof r->name, "%.*s", (int)(len - 5 - GITOPS_HEXSZ),
				 line + 5 + GITOPS_HEXSZ);
		}
	}
}

void gitops_result_release(struct gitops_result *r)
{
	if (!r)
		return;
	buf_release(&r->remote);
	free(r->refs);
	r->refs = NULL;
	r->nrefs = 0;
}

static void result_init(struct gitops_result *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->remote, MAX_REMOTE_TEXT);
}

/* ---- single operations: fetch, ls-remote ---- */

struct single {
	struct gitops *g;
	gitops_done_cb *done;
	void *data;
	struct gitops_result res;
	uint64_t started;
	unsigned tries;		/* session calls sent */
};

static void single_done_cb(void *data, int rc, const char *msg, const char *out)
{
	struct single *s = data;
	struct buf reasons = BUF_INIT;

	parse_output(&s->res, out, &reasons);
	s->res.rc = rc;
	snprintf(s->res.error, sizeof s->res.error, "%s%s%s", msg, reasons.len ? ": " : "",
		 reasons.len ? reasons.data : "");
	buf_release(&reasons);
	s->res.elapsed_ms = mono_ms() - s->started;
	s->g->busy = false;
	s->done(s->g, &s->res, s->data);
	gitops_result_release(&s->res);
	free(s);
}

/* ---- the ls-remote session helper ----
 *
 * For an SSH remote, ls-remote goes to one long-lived `pipelined-git
 * session` (gitops_net.c) instead of a helper per call: the first call
 * starts it, each call writes "ls-remote" to it and waits, under the same
 * deadline, for its refs and the "end" line.  Whatever ends it (an error,
 * the deadline, its idle time, gitops_free) ends the child, and the next
 * call starts a fresh one; a call in flight gets the verdict a one-shot
 * helper's end would have given.  Only the loop the caller owns keeps a
 * session: the synchronous forms use one-shot helpers. */

struct gitops_sess {
	struct gitops *g;	/* NULL once the owner let it go */
	uv_loop_t *loop;
	struct childproc *cp;
	struct single *req;	/* the call waiting for an answer */
	bool answered;		/* it has answered a call */
};

static int sess_send(struct gitops *g, uv_loop_t *loop, struct single *s);

static void sess_out_cb(struct childproc_result *r, void *data)
{
	struct gitops_sess *ss = data;
	const char *end = NULL, *line;
	struct single *s = ss->req;
	char *text;
	size_t n;

	for (line = r->out.data; line && *line; line = strchr(line, '\n')) {
		if (line != r->out.data)
			line++;
		if (!strncmp(line, "end\n", 4)) {
			end = line;
			break;
		}
	}
	if (r->out_truncated)
		childproc_kill(ss->cp);	/* a cut answer is no answer (ERR_TOOBIG) */
	if (!end || r->out_truncated)
		return;
	n = (size_t)(end - r->out.data);
	if (!s || !(text = xstrndup(r->out.data, n))) {
		childproc_kill(ss->cp);	/* an answer nobody asked for */
		return;
	}
	childproc_out_take(ss->cp, n + 4);
	childproc_arm(ss->cp, 0);
	ss->req = NULL;
	ss->answered = true;
	single_done_cb(s, 0, "", text);
	free(text);
}

static void sess_done_cb(struct childproc_result *r, void *data)
{
	struct gitops_sess *ss = data;
	struct single *s = ss->req;
	char msg[1024] = "";
	int rc;

	if (ss->g && ss->g->sess == ss)
		ss->g->sess = NULL;
	if (s && ss->g) {
		struct proc p = { .g = ss->g, .what = "ls-remote" };

		rc = proc_verdict(msg, sizeof msg, r, &p);
		if (rc == 0 && !r->killed && ss->answered && s->tries == 1 &&
		    sess_send(ss->g, ss->loop, s) == 0) {
			/* it quit (idle time, the server hung up) as we asked */
			free(ss);
			return;
		}
		if (rc == 0) {
			rc = ERR_FAIL;
			snprintf(msg, sizeof msg, "ls-remote of '%s' failed: the session helper "
				 "ended without an answer", ss->g->url);
		}
		single_done_cb(s, rc, msg, "");
	} else if (s) {
		/* the owner is gone (gitops_free): nobody to tell */
		gitops_result_release(&s->res);
		free(s);
	}
	free(ss);
}

static int sess_spawn(struct gitops *g, uv_loop_t *loop)
{
	struct argv_b a = { { NULL }, 0 };
	struct gitops_sess *ss = calloc(1, sizeof *ss);
	struct childproc_spec spec = {
		.out_max = MAX_STDOUT,
		.err_max = MAX_STDERR,
		.session = true,
		.on_out = sess_out_cb,
	};
	char ms[24];
	int rc;

	if (!ss)
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	snprintf(ms, sizeof ms, "%llu", (unsigned long long)g->deadline_ms);
	rc = arg_add(&a, g->worker) | arg_add(&a, "session") | arg_add(&a, "--url") |
	     arg_add(&a, g->url) | arg_add(&a, "--home") | arg_add(&a, g->home) |
	     arg_add(&a, "--deadline-ms") | arg_add(&a, ms);
	if (g->ssh_key)
		rc |= arg_add(&a, "--key") | arg_add(&a, g->ssh_key);
	if (g->known_hosts)
		rc |= arg_add(&a, "--known-hosts") | arg_add(&a, g->known_hosts);
	spec.argv = (const char *const *)a.v;
	ss->g = g;
	ss->loop = loop;
	if (rc == 0 && (rc = childproc_start(&ss->cp, loop, &spec, sess_done_cb, ss)))
		rc = gitops_fail(g, rc, "cannot run '%s': %s", g->worker,
				 rc == ERR_NOMEM ? "out of memory" : "invalid arguments");
	else if (rc)
		rc = gitops_fail(g, ERR_TOOBIG, "cannot run '%s': arguments too long", g->worker);
	args_release(&a);
	if (rc) {
		free(ss);
		return rc;
	}
	g->sess = ss;
	return 0;
}

/* Sends s's ls-remote to the session, started first when there is none. */
static int sess_send(struct gitops *g, uv_loop_t *loop, struct single *s)
{
	int rc;

	if (g->sess && (g->sess->loop != loop || g->sess->req))
		gitops_session_close(g);
	if (!g->sess && (rc = sess_spawn(g, loop)))
		return rc;
	s->tries++;
	g->sess->req = s;
	if (childproc_write(g->sess->cp, "ls-remote\n", 10)) {
		/* ending already: its end reports, or retries on a fresh one */
		childproc_kill(g->sess->cp);
		return 0;
	}
	childproc_arm(g->sess->cp, g->deadline_ms);
	return 0;
}

void gitops_session_close(struct gitops *g)
{
	struct gitops_sess *ss = g ? g->sess : NULL;

	if (!ss)
		return;
	g->sess = NULL;
	ss->g = NULL;
	if (ss->req)
		g->busy = false;	/* its call ends unanswered (see gitops_free) */
	childproc_kill(ss->cp);
}

static bool session_fits(const struct gitops *g)
{
	struct gitssh_url u;

	return !getenv("PIPELINED_GIT_NO_SESSION") && gitssh_url_parse(&u, g->url) == 0 && u.ssh;
}

static void fetch_specs(struct argv_b *a, struct gitops *g)
{
	char spec[640];

	arg_add(a, "--prune");
	snprintf(spec, sizeof spec, "+refs/heads/%s:" GITOPS_TRACKING "heads/%s", g->branch, g->branch);
	arg_add(a, spec);
	arg_add(a, "+" GITOPS_REQUEST_PREFIX "*:" GITOPS_TRACKING "heads/promote/*");
	arg_add(a, "+" GITOPS_NOTES_REF ":" GITOPS_TRACKING "notes/pipelined");
	arg_add(a, "+" GITOPS_DEPLOY_NOTES_REF ":" GITOPS_TRACKING "notes/pipelined-deploy");
}

/* The notes ref a transaction writes, and its name under refs/notes/. */
static const char *notes_ref(const struct gitops_change *c)
{
	return c->notes_ref ? c->notes_ref : GITOPS_NOTES_REF;
}

static const char *notes_short(const struct gitops_change *c)
{
	return notes_ref(c) + strlen("refs/notes/");
}

static int add_expect(struct argv_b *a, const char *ref, const char *id);

/* extra: more worker arguments (refspecs, --expect pairs), NULL-terminated */
static int single_start(struct gitops *g, uv_loop_t *loop, const char *op,
			const char *const *extra, gitops_done_cb *done, void *data, bool session)
{
	struct argv_b a = { { NULL }, 0 };
	struct single *s;
	int rc;

	if (g->busy)
		return gitops_fail(g, GITOPS_EBUSY, "another git operation is running");
	if (!(s = calloc(1, sizeof *s)))
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	s->g = g;
	s->done = done;
	s->data = data;
	s->started = mono_ms();
	result_init(&s->res);
	if (session) {
		if ((rc = sess_send(g, loop, s)) == 0)
			g->busy = true;
		else {
			gitops_result_release(&s->res);
			free(s);
		}
		return rc;
	}
	rc = args_common(&a, g, op);
	if (rc == 0 && !strcmp(op, "fetch"))
		fetch_specs(&a, g);
	for (; rc == 0 && extra && *extra; extra++)
		rc = arg_add(&a, *extra);
	if (rc == 0 && (rc = proc_start(g, loop, &a, op, single_done_cb, s)) == 0)
		g->busy = true;
	args_release(&a);
	if (rc) {
		gitops_result_release(&s->res);
		free(s);
	}
	return rc;
}

int gitops_fetch_start(struct gitops *g, uv_loop_t *loop, gitops_done_cb *done, void *data)
{
	return single_start(g, loop, "fetch", NULL, done, data, false);
}

int gitops_ls_remote_start(struct gitops *g, uv_loop_t *loop, gitops_done_cb *done, void *data)
{
	return single_start(g, loop, "ls-remote", NULL, done, data, session_fits(g));
}

int gitops_push_start(struct gitops *g, uv_loop_t *loop, const char *src, const char *dst,
		      const char *expect, gitops_done_cb *done, void *data)
{
	char spec[600], exp[600];
	const char *extra[4] = { spec, NULL, NULL, NULL };
	int own;

	snprintf(spec, sizeof spec, "refs/heads/%s", g->branch);
	own = !strcmp(dst, spec);
	if (own && !expect)
		return gitops_fail(g, ERR_INVALID, "a push to the tracked branch needs the expected tip");
	if (src[0] == '+' || strlen(src) > 280 || strlen(dst) > 280)
		return gitops_fail(g, ERR_INVALID, "invalid push of '%s' to '%s'", src, dst);
	snprintf(spec, sizeof spec, "%s:%s", src, dst);
	if (expect) {
		snprintf(exp, sizeof exp, "%s=%s", dst, *expect ? expect :
			 "0000000000000000000000000000000000000000");
		extra[1] = "--expect";
		extra[2] = exp;
	}
	return single_start(g, loop, "push", extra, done, data, false);
}

/* ---- the transaction ---- */

enum txn_step { STEP_BRANCH, STEP_AUX };

struct txn {
	struct gitops *g;
	uv_loop_t *loop;
	struct gitops_change chg;
	gitops_done_cb *done;
	void *data;
	struct gitops_result res;
	uv_work_t work;
	uv_timer_t backoff;
	enum txn_step step;
	bool branch_done;	/* our change is on the remote branch */
	char base[GITOPS_HEXSZ + 1];
	char notes_base[GITOPS_HEXSZ + 1];	/* "" when the remote has no notes */
	int work_rc;
	uint64_t started;
	char out_branch[320];
};

static void txn_round(struct txn *t);

static void txn_closed_cb(uv_handle_t *h)
{
	struct txn *t = h->data;

	t->g->busy = false;
	t->done(t->g, &t->res, t->data);
	gitops_result_release(&t->res);
	free(t);
}

static void txn_finish(struct txn *t, int rc, const char *msg)
{
	t->res.rc = rc;
	if (rc)
		strlcpy_(t->res.error, msg, sizeof t->res.error);
	if (rc && !t->branch_done)
		t->res.commit[0] = '\0';	/* built, but not on the remote */
	t->res.elapsed_ms = mono_ms() - t->started;
	uv_close((uv_handle_t *)&t->backoff, txn_closed_cb);
}

static bool has_branch_change(const struct txn *t)
{
	return t->chg.npaths > 0 || t->chg.merge;
}

static void backoff_cb(uv_timer_t *h)
{
	txn_round(h->data);
}

/* Jittered exponential backoff between attempts: [d/2, d], d doubling. */
static void txn_retry(struct txn *t, int rc, const char *msg)
{
	uint64_t d = t->g->backoff_ms;
	unsigned i;
	char why[1024];

	if (t->res.attempts >= t->g->push_attempts) {
		if (snprintf(why, sizeof why, "gave up after %u attempts: %s", t->res.attempts,
			     msg) >= (int)sizeof why)
			memcpy(why + sizeof why - 4, "...", 4);	/* bounded, and says so */
		txn_finish(t, rc, why);
		return;
	}
	for (i = 1; i < t->res.attempts && d < GITOPS_MAX_BACKOFF_MS; i++)
		d *= 2;
	if (d > GITOPS_MAX_BACKOFF_MS)
		d = GITOPS_MAX_BACKOFF_MS;
	d = d / 2 + (uint64_t)rand_r(&t->g->seed) % (d / 2 + 1);
	uv_timer_start(&t->backoff, backoff_cb, d, 0);
}

/* A hook's refusal is retried too (bounded): a hook may be racing
 * another push; the engine decides what a final refusal means. */
static bool retryable(int rc)
{
	return rc == GITOPS_ENONFF || rc == ERR_REJECTED || rc == GITOPS_EHOOK;
}

static void push_done_cb(void *data, int rc, const char *msg, const char *out)
{
	struct txn *t = data;
	struct buf reasons = BUF_INIT;
	char full[1024];

	parse_output(&t->res, out, &reasons);
	snprintf(full, sizeof full, "%s%s%s", msg, reasons.len ? ": " : "",
		 reasons.len ? reasons.data : "");
	buf_release(&reasons);
	if (rc == 0 && t->step == STEP_BRANCH) {
		t->branch_done = true;
		txn_round(t);	/* continues with the notes/deletion step */
	} else if (rc == 0) {
		txn_finish(t, 0, "");
	} else if (retryable(rc)) {
		txn_retry(t, rc, full);
	} else {
		txn_finish(t, rc, full);
	}
}

static int push_start(struct txn *t, struct argv_b *a)
{
	t->res.attempts++;
	return proc_start(t->g, t->loop, a, "push", push_done_cb, t);
}

static int add_expect(struct argv_b *a, const char *ref, const char *id)
{
	char e[512];

	snprintf(e, sizeof e, "%s=%s", ref, id && *id ? id : "0000000000000000000000000000000000000000");
	return arg_add(a, "--expect") | arg_add(a, e);
}

static void txn_push_branch(struct txn *t)
{
	struct argv_b a = { { NULL }, 0 };
	struct buf err = BUF_INIT;
	char spec[700], ref[320];
	int rc;

	if (t->chg.gate && t->chg.gate(t->chg.data, &err)) {
		snprintf(spec, sizeof spec, "refused before pushing: %s", err.data ? err.data : "gate");
		buf_release(&err);
		txn_finish(t, GITOPS_EGATE, spec);
		return;
	}
	buf_release(&err);
	snprintf(ref, sizeof ref, "refs/heads/%s", t->g->branch);
	snprintf(spec, sizeof spec, "%s:%s", t->out_branch, ref);
	t->step = STEP_BRANCH;
	rc = args_common(&a, t->g, "push");
	rc = rc ? rc : add_expect(&a, ref, t->base) | arg_add(&a, spec);
	if (rc == 0)
		rc = push_start(t, &a);
	args_release(&a);
	if (rc)
		txn_finish(t, rc, t->g->err);
}

static void txn_push_aux(struct txn *t)
{
	struct argv_b a = { { NULL }, 0 };
	char spec[600];
	int rc;

	t->step = STEP_AUX;
	rc = args_common(&a, t->g, "push");
	if (rc == 0 && t->chg.note_text) {
		snprintf(spec, sizeof spec, GITOPS_OUT "notes/%s:%s", notes_short(&t->chg),
			 notes_ref(&t->chg));
		rc = add_expect(&a, notes_ref(&t->chg), t->notes_base) | arg_add(&a, spec);
	}
	if (rc == 0 && t->chg.delete_ref) {
		snprintf(spec, sizeof spec, ":%s", t->chg.delete_ref);
		rc = add_expect(&a, t->chg.delete_ref,
				t->chg.merge ? t->chg.merge : t->chg.delete_expect) |
		     arg_add(&a, spec);
	}
	for (size_t k = 0; rc == 0 && k < t->chg.nmore_deletes; k++) {
		snprintf(spec, sizeof spec, ":%s", t->chg.more_delete_refs[k]);
		rc = add_expect(&a, t->chg.more_delete_refs[k], t->chg.more_delete_expects[k]) |
		     arg_add(&a, spec);
	}
	if (rc == 0)
		rc = push_start(t, &a);
	args_release(&a);
	if (rc)
		txn_finish(t, rc, t->g->err);
}

/* Threadpool: the new file bytes from the fetched tip, and the commit. */
static int build_branch_commit(struct txn *t)
{
	struct gitops *g = t->g;
	struct gitops_file *files = calloc(t->chg.npaths + 1, sizeof *files);
	struct buf *bufs = calloc(t->chg.npaths + 1, sizeof *bufs);
	struct buf old = BUF_INIT, err = BUF_INIT;
	struct gitops_commit_spec spec;
	size_t i, changed = 0;
	int rc = files && bufs ? 0 : ERR_NOMEM;

	if (rc == 0 && t->chg.peek && t->chg.peek_path) {
		int prc = gitops_read_file(&old, g, t->base, t->chg.peek_path);

		if (prc == 0 || prc == ERR_NOTFOUND)
			rc = t->chg.peek(t->chg.data, prc ? NULL : (old.data ? old.data : ""),
					 prc ? 0 : old.len);
		else
			rc = prc;
	}
	for (i = 0; rc == 0 && i < t->chg.npaths; i++) {
		buf_reset(&old);
		rc = gitops_read_file(&old, g, t->base, t->chg.paths[i]);
		bool missing = rc == ERR_NOTFOUND;
		if (missing)
			rc = 0;
		buf_init(&bufs[i], GITOPS_MAX_FILE);
		if (rc == 0 && (rc = t->chg.edit(&bufs[i], t->chg.paths[i], missing ? NULL :
						 (old.data ? old.data : ""), old.len, t->chg.data, &err)))
			rc = gitops_fail(g, rc < 0 ? rc : ERR_FAIL, "edit of '%s' failed: %s",
					 t->chg.paths[i], err.data ? err.data : "?");
		files[i].path = t->chg.paths[i];
		files[i].data = bufs[i].data ? bufs[i].data : "";
		files[i].len = bufs[i].len;
		if (rc == 0 && (missing || bufs[i].len != old.len ||
				memcmp(files[i].data, old.data ? old.data : "", old.len)))
			changed++;
	}
	if (rc == 0 && changed == 0 && !t->chg.merge) {
		t->res.unchanged = true;
		strlcpy_(t->res.commit, t->base, sizeof t->res.commit);
	} else if (rc == 0 && changed == 0) {
		/* the merge would promote nothing: the tip already has the
		 * release (another request got there first) */
		rc = gitops_fail(g, GITOPS_ECURRENT, "'%s' at %.7s already has every change of "
				 "request %.7s: no merge that changes nothing", g->branch, t->base,
				 t->chg.merge);
	} else if (rc == 0) {
		memset(&spec, 0, sizeof spec);
		spec.parents[0] = t->base;
		spec.parents[1] = t->chg.merge;
		spec.nparents = t->chg.merge ? 2 : 1;
		spec.files = files;
		spec.nfiles = t->chg.npaths;
		spec.message = t->chg.message;
		spec.author = t->chg.author;
		if ((rc = gitops_commit_create(t->res.commit, g, &spec)) == 0)
			rc = gitops_ref_set(g, t->out_branch, t->res.commit);
	}
	for (i = 0; bufs && i < t->chg.npaths; i++)
		buf_release(&bufs[i]);
	free(bufs);
	free(files);
	buf_release(&old);
	buf_release(&err);
	return rc;
}

static void build_work_cb(uv_work_t *w)
{
	struct txn *t = w->data;
	struct gitops *g = t->g;
	int rc;

	t->res.unchanged = t->res.already_merged = false;
	rc = gitops_resolve(t->base, g, g->tracking);
	if (rc == ERR_NOTFOUND)
		rc = gitops_fail(g, ERR_NOTFOUND, "the remote has no branch '%s'", g->branch);
	if (rc == 0 && t->chg.merge && (rc = gitops_is_ancestor(g, t->chg.merge, t->base)) == 1) {
		/* an earlier attempt landed (e.g. its reply was lost): no second merge */
		t->res.already_merged = true;
		strlcpy_(t->res.commit, t->base, sizeof t->res.commit);
		rc = 0;
	} else if (rc == 0 && t->chg.merge && (rc = gitops_one_commit_on(g, t->chg.merge,
									 t->base)) == 0) {
		/* the engine refuses such a request (merge-request,
		 * orphan-request, off-branch); this holds even if the branch
		 * was rewound since: a merge adds exactly one commit that the
		 * tracked history did not have */
		rc = gitops_fail(g, ERR_INVALID, "request %.12s is not one commit on '%s'; "
				 "not merged", t->chg.merge, g->branch);
	} else if (rc >= 0) {
		rc = build_branch_commit(t);
	}
	t->work_rc = rc;
}

static void note_work_cb(uv_work_t *w)
{
	struct txn *t = w->data;
	struct gitops *g = t->g;
	const char *target = t->chg.note_target && *t->chg.note_target ? t->chg.note_target :
			     t->res.commit;
	char id[GITOPS_HEXSZ + 1], track[300], out[300];
	int rc;

	snprintf(track, sizeof track, GITOPS_TRACKING "notes/%s", notes_short(&t->chg));
	snprintf(out, sizeof out, GITOPS_OUT "notes/%s", notes_short(&t->chg));
	t->notes_base[0] = '\0';
	if (gitops_resolve(id, g, track) == 0)
		strlcpy_(t->notes_base, id, sizeof t->notes_base);
	rc = gitops_note_commit(id, g, t->notes_base[0] ? t->notes_base : NULL, target,
				t->chg.note_text);
	for (size_t k = 0; rc == 0 && k < t->chg.nmore_notes; k++) {
		char next[GITOPS_HEXSZ + 1];
		rc = gitops_note_commit(next, g, id, t->chg.more_note_targets[k],
					t->chg.more_note_texts[k]);
		if (rc == 0)
			memcpy(id, next, sizeof id);
	}
	if (rc == 0)
		rc = gitops_ref_set(g, out, id);
	t->work_rc = rc;
}

static void after_build_cb(uv_work_t *w, int status)
{
	struct txn *t = w->data;

	if (status < 0 || t->work_rc) {
		txn_finish(t, t->work_rc ? t->work_rc : ERR_FAIL, t->g->err);
		return;
	}
	if (t->res.unchanged || t->res.already_merged) {
		t->branch_done = true;
		txn_round(t);
		return;
	}
	txn_push_branch(t);
}

static void after_note_cb(uv_work_t *w, int status)
{
	struct txn *t = w->data;

	if (status < 0 || t->work_rc)
		txn_finish(t, t->work_rc ? t->work_rc : ERR_FAIL, t->g->err);
	else
		txn_push_aux(t);
}

static void after_fetch_cb(void *data, int rc, const char *msg, const char *out)
{
	struct txn *t = data;
	(void)out;

	if (rc) {
		txn_finish(t, rc, msg);
		return;
	}
	t->work.data = t;
	if (!t->branch_done)
		uv_queue_work(t->loop, &t->work, build_work_cb, after_build_cb);
	else if (t->chg.note_text)
		uv_queue_work(t->loop, &t->work, note_work_cb, after_note_cb);
	else
		txn_push_aux(t);
}

/* One round: fetch, then whichever step is still missing.  After the
 * branch step succeeded the remote is not re-fetched for a deletion-only
 * push (nothing there depends on the remote's new state). */
static void txn_round(struct txn *t)
{
	struct argv_b a = { { NULL }, 0 };
	int rc;

	if (t->branch_done && !t->chg.note_text && !t->chg.delete_ref) {
		txn_finish(t, 0, "");
		return;
	}
	if (t->branch_done && !t->chg.note_text) {
		txn_push_aux(t);
		return;
	}
	rc = args_common(&a, t->g, "fetch");
	if (rc == 0) {
		fetch_specs(&a, t->g);
		rc = proc_start(t->g, t->loop, &a, "fetch", after_fetch_cb, t);
	}
	args_release(&a);
	if (rc)
		txn_finish(t, rc, t->g->err);
}

static int check_change(struct gitops *g, const struct gitops_change *c)
{
	char own[320];

	if (c->npaths && !c->edit)
		return gitops_fail(g, ERR_INVALID, "a change with files needs an edit callback");
	if (has_branch_change(&(struct txn){ .chg = *c }) && !c->message)
		return gitops_fail(g, ERR_INVALID, "a commit needs a message");
	if (c->merge && (strlen(c->merge) != GITOPS_HEXSZ))
		return gitops_fail(g, ERR_INVALID, "merge parent must be a full commit id");
	snprintf(own, sizeof own, "refs/heads/%s", g->branch);
	if (c->delete_expect && (c->merge || c->npaths ||
				 strlen(c->delete_expect) != GITOPS_HEXSZ))
		return gitops_fail(g, ERR_INVALID, "a branch deletion alone needs the full id "
				   "the branch must point at, and no commit");
	if (c->nmore_deletes && (!c->delete_expect || c->nmore_deletes >= GITOPS_MAX_DELETES))
		return gitops_fail(g, ERR_INVALID, "at most %d branch deletions alone in one push",
				   GITOPS_MAX_DELETES);
	for (size_t k = 0; k < c->nmore_deletes; k++)
		if (strncmp(c->more_delete_refs[k], GITOPS_REQUEST_PREFIX,
			    strlen(GITOPS_REQUEST_PREFIX)) ||
		    strlen(c->more_delete_expects[k]) != GITOPS_HEXSZ)
			return gitops_fail(g, ERR_INVALID,
					   "only a request branch (" GITOPS_REQUEST_PREFIX
					   "...) at a full id may be deleted, not '%s'",
					   c->more_delete_refs[k]);
	if (c->nmore_notes && !c->note_text)
		return gitops_fail(g, ERR_INVALID, "more notes need a first one");
	if (c->delete_ref && ((!c->merge && !c->delete_expect) ||
			      strncmp(c->delete_ref, GITOPS_REQUEST_PREFIX,
				      strlen(GITOPS_REQUEST_PREFIX)) ||
			      !strcmp(c->delete_ref, own)))
		return gitops_fail(g, ERR_INVALID,
				   "only a request branch (" GITOPS_REQUEST_PREFIX
				   "...) may be deleted, not '%s'", c->delete_ref);
	return 0;
}

int gitops_change_start(struct gitops *g, uv_loop_t *loop, const struct gitops_change *chg,
			gitops_done_cb *done, void *data)
{
	struct txn *t;
	int rc;

	if (g->busy)
		return gitops_fail(g, GITOPS_EBUSY, "another git operation is running");
	if ((rc = check_change(g, chg)))
		return rc;
	if (!(t = calloc(1, sizeof *t)))
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	t->g = g;
	t->loop = loop;
	t->chg = *chg;
	t->done = done;
	t->data = data;
	t->started = mono_ms();
	t->branch_done = !has_branch_change(t);
	snprintf(t->out_branch, sizeof t->out_branch, GITOPS_OUT "heads/%s", g->branch);
	result_init(&t->res);
	uv_timer_init(loop, &t->backoff);
	t->backoff.data = t;
	g->busy = true;
	if (t->branch_done && !chg->note_text && !chg->delete_ref) {
		txn_finish(t, 0, "");
		return 0;
	}
	txn_round(t);
	return 0;
}

/* ---- local work on the threadpool ---- */

struct qwork {
	uv_work_t w;
	struct gitops *g;
	gitops_work_fn *fn;
	gitops_work_done_cb *done;
	void *data;
	int rc;
};

static void queue_work_cb(uv_work_t *w)
{
	struct qwork *q = w->data;

	q->rc = q->fn(q->g, q->data);
}

static void queue_after_cb(uv_work_t *w, int status)
{
	struct qwork *q = w->data;

	q->g->busy = false;
	q->done(q->g, status < 0 ? ERR_FAIL : q->rc, q->data);
	free(q);
}

int gitops_queue(struct gitops *g, uv_loop_t *loop, gitops_work_fn *fn,
		 gitops_work_done_cb *done, void *data)
{
	struct qwork *q;

	if (g->busy)
		return gitops_fail(g, GITOPS_EBUSY, "another git operation is running");
	if (!(q = calloc(1, sizeof *q)))
		return gitops_fail(g, ERR_NOMEM, "out of memory");
	q->w.data = q;
	q->g = g;
	q->fn = fn;
	q->done = done;
	q->data = data;
	g->busy = true;
	uv_queue_work(loop, &q->w, queue_work_cb, queue_after_cb);
	return 0;
}

/* ---- synchronous forms ---- */

struct sync_ctx {
	struct gitops_result *res;
};

static void sync_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct sync_ctx *s = data;

	(void)g;
	*s->res = *res;
	/* keep the buffers: the caller releases them */
	result_init(res);
}

typedef int start_fn(struct gitops *g, uv_loop_t *loop, void *arg, struct sync_ctx *s);

static int run_sync(struct gitops *g, struct gitops_result *res, start_fn *start, void *arg)
{
	struct sync_ctx s = { res };
	uv_loop_t loop;
	int rc;

	result_init(res);
	if (uv_loop_init(&loop) < 0)
		return gitops_fail(g, ERR_FAIL, "cannot create an event loop");
	rc = start(g, &loop, arg, &s);
	if (rc == 0)
		uv_run(&loop, UV_RUN_DEFAULT);
	else {
		res->rc = rc;
		strlcpy_(res->error, g->err, sizeof res->error);
	}
	uv_loop_close(&loop);
	return res->rc;
}

static int start_fetch(struct gitops *g, uv_loop_t *l, void *arg, struct sync_ctx *s)
{
	(void)arg;
	return gitops_fetch_start(g, l, sync_done_cb, s);
}

/* a one-shot helper: a session would outlive this private loop */
static int start_ls(struct gitops *g, uv_loop_t *l, void *arg, struct sync_ctx *s)
{
	(void)arg;
	return single_start(g, l, "ls-remote", NULL, sync_done_cb, s, false);
}

static int start_change(struct gitops *g, uv_loop_t *l, void *arg, struct sync_ctx *s)
{
	return gitops_change_start(g, l, arg, sync_done_cb, s);
}

struct push_args {
	const char *src, *dst, *expect;
};

static int start_push(struct gitops *g, uv_loop_t *l, void *arg, struct sync_ctx *s)
{
	struct push_args *p = arg;

	return gitops_push_start(g, l, p->src, p->dst, p->expect, sync_done_cb, s);
}

int gitops_push_sync(struct gitops *g, const char *src, const char *dst, const char *expect,
		     struct gitops_result *res)
{
	struct push_args p = { src, dst, expect };

	return run_sync(g, res, start_push, &p);
}

int gitops_fetch_sync(struct gitops *g, struct gitops_result *res)
{
	return run_sync(g, res, start_fetch, NULL);
}

int gitops_ls_remote_sync(struct gitops *g, struct gitops_result *res)
{
	return run_sync(g, res, start_ls, NULL);
}

int gitops_change_sync(struct gitops *g, const struct gitops_change *chg, struct gitops_result *res)
{
	return run_sync(g, res, start_change, (void *)chg);
}
