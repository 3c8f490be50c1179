/* sigverify.c - verify an SSH-signed request commit with ssh-keygen
 * (sigverify.h).
 *
 * Two steps, as git does: `ssh-keygen -Y find-principals` names the allowed
 * signer whose key made the signature, then `ssh-keygen -Y verify -n git -I
 * <principal>` checks the signature over the payload (on stdin).  Both the
 * exit status and the "Good "git" signature for <principal>" line must
 * agree before a signature counts; anything else is BAD (the signature
 * exists but proves nothing) or UNCHECKED (we could not find out: missing
 * ssh-keygen, unreadable signers file, deadline).
 *
 * OpenPGP signatures (GitHub's web UI signs its commits with its own GPG
 * key) are BAD, not UNSIGNED: the commit is signed, just not by anyone an
 * allowed-signers file can name, and "unsigned" would tell the developer to
 * do something they already did.
 *
 * ssh-keygen runs in its own process group (UV_PROCESS_DETACHED) so the
 * deadline kills it and anything it started; the signature goes through a
 * private temp file because -s wants a path.
 */
#include "sigverify.h"
#include "sysio.h"
#include "gitssh.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SV_DEFAULT_DEADLINE_MS 10000u
#define SV_OUT_MAX (16u * 1024)
#define SV_MAX_PRINCIPALS 16
#define SV_SIGNERS_MAX (1024u * 1024)
#define SV_SIG_MAX (64u * 1024)
#define SSH_SIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define PGP_SIG_BEGIN "-----BEGIN PGP SIGNATURE-----"

struct sv {
	uv_loop_t *loop;
	char *allowed;
	char *payload;
	size_t paylen;
	char sigpath[128];
	char verify_time[40];	/* "-Overify-time=...Z" or "" */
	uv_timer_t timer;
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_write_t wr;
	char scratch[4096];
	struct buf obuf, ebuf;
	int open;		/* handles of the running step not closed yet */
	bool running;		/* a child step is in flight */
	bool timed_out;
	bool exited;
	bool verifying;
	bool signing;		/* sigverify_sign_sync: obuf is the signature */
	struct buf *sign_out;
	int64_t status;
	int signal;
	uint64_t deadline_ms;
	char principals[SV_MAX_PRINCIPALS][256];
	size_t np, next;
	struct sigverify_result res;
	sigverify_done_cb *done;
	void *data;
};

static void step_done(struct sv *s);

static void set_res(struct sv *s, enum policy_sig v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_res(struct sv *s, enum policy_sig v, const char *fmt, ...)
{
	va_list ap;

	s->res.verdict = v;
	va_start(ap, fmt);
	vsnprintf(s->res.error, sizeof s->res.error, fmt, ap);
	va_end(ap);
}

static void sv_free(struct sv *s)
{
	free(s->allowed);
	free(s->payload);
	buf_release(&s->obuf);
	buf_release(&s->ebuf);
	free(s);
}

static void timer_close_cb(uv_handle_t *h)
{
	struct sv *s = h->data;

	s->done(&s->res, s->data);
	sv_free(s);
}

static void finish(struct sv *s)
{
	if (s->sigpath[0])
		unlink(s->sigpath);
	uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, timer_close_cb);
}

/* Deadline (or a deferred early verdict when no child runs). */
static void timer_cb(uv_timer_t *t)
{
	struct sv *s = t->data;

	if (!s->running) {
		finish(s);
		return;
	}
	if (s->exited)
		return;	/* its pipes are about to close */
	s->timed_out = true;
	kill(-s->proc.pid, SIGKILL);
	kill(s->proc.pid, SIGKILL);
}

static void handle_close_cb(uv_handle_t *h)
{
	struct sv *s = h->data;

	if (--s->open == 0) {
		s->running = false;
		step_done(s);
	}
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct sv *s = p->data;

	s->status = status;
	s->signal = sig;
	s->exited = true;
	uv_close((uv_handle_t *)p, handle_close_cb);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct sv *s = h->data;

	(void)hint;
	b->base = s->scratch;
	b->len = sizeof s->scratch;
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct sv *s = st->data;
	struct buf *dst = st == (uv_stream_t *)&s->out ? &s->obuf : &s->ebuf;

	if (n > 0) {
		/* past the bound the rest is dropped: verdicts need the first lines */
		buf_add(dst, b->base, (size_t)n);
		return;
	}
	if (n < 0) {
		uv_read_stop(st);
		uv_close((uv_handle_t *)st, handle_close_cb);
	}
}

static void write_cb(uv_write_t *w, int status)
{
	struct sv *s = w->data;

	/* EPIPE when ssh-keygen exits before reading: its status says why */
	(void)status;
	uv_close((uv_handle_t *)&s->in, handle_close_cb);
}

/* Spawns ssh-keygen with argv (no shell); payload on stdin when feed. */
static int spawn(struct sv *s, char **argv, bool feed)
{
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	int rc;

	buf_reset(&s->obuf);
	buf_reset(&s->ebuf);
	s->status = -1;
	s->signal = 0;
	s->exited = false;
	memset(&o, 0, sizeof o);
	uv_pipe_init(s->loop, &s->out, 0);
	uv_pipe_init(s->loop, &s->err, 0);
	s->out.data = s->err.data = s->proc.data = s;
	io[0].flags = UV_IGNORE;
	if (feed) {
		uv_pipe_init(s->loop, &s->in, 0);
		s->in.data = s;
		io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
		io[0].data.stream = (uv_stream_t *)&s->in;
	}
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&s->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&s->err;
	o.file = argv[0];
	o.args = argv;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = exit_cb;
	o.flags = UV_PROCESS_DETACHED;
	s->open = feed ? 4 : 3;
	s->running = true;
	rc = uv_spawn(s->loop, &s->proc, &o);
	if (rc < 0) {
		/* every handle still needs closing; step_done then reports */
		s->status = 127;
		buf_printf(&s->ebuf, "cannot run ssh-keygen: %s", uv_strerror(rc));
		uv_close((uv_handle_t *)&s->proc, handle_close_cb);
		uv_close((uv_handle_t *)&s->out, handle_close_cb);
		uv_close((uv_handle_t *)&s->err, handle_close_cb);
		if (feed)
			uv_close((uv_handle_t *)&s->in, handle_close_cb);
		return 0;
	}
	uv_read_start((uv_stream_t *)&s->out, alloc_cb, read_cb);
	uv_read_start((uv_stream_t *)&s->err, alloc_cb, read_cb);
	if (feed) {
		uv_buf_t b = uv_buf_init(s->payload, (unsigned)s->paylen);

		s->wr.data = s;
		if (uv_write(&s->wr, (uv_stream_t *)&s->in, &b, 1, write_cb) < 0)
			uv_close((uv_handle_t *)&s->in, handle_close_cb);
	}
	return 0;
}

static void run_find(struct sv *s)
{
	char *argv[] = { "ssh-keygen", "-Y", "find-principals", "-f", s->allowed, "-s",
			 s->sigpath, s->verify_time[0] ? s->verify_time : NULL, NULL };

	spawn(s, argv, false);
}

static void run_verify(struct sv *s)
{
	char *argv[] = { "ssh-keygen", "-Y", "verify", "-n", "git", "-f", s->allowed,
			 "-I", s->principals[s->next], "-s", s->sigpath,
			 s->verify_time[0] ? s->verify_time : NULL, NULL };

	s->verifying = true;
	spawn(s, argv, true);
}

/* The first line of ssh-keygen's output, single-lined, for messages. */
static void first_line(char *out, size_t outsz, const struct sv *s)
{
	const char *t = s->ebuf.len ? s->ebuf.data : s->obuf.len ? s->obuf.data : "no output";
	size_t n = strcspn(t, "\r\n");

	snprintf(out, outsz, "%.*s", (int)(n > 200 ? 200 : n), t);
}

static bool principal_ok(const char *p, size_t n)
{
	if (n == 0 || n >= 256 || p[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)p[i]))
			return false;
	return true;
}

/* find-principals prints one principal (list) per line; lists are
 * comma-separated. */
static void parse_principals(struct sv *s)
{
	const char *p = s->obuf.data ? s->obuf.data : "";

	s->np = 0;
	while (*p && s->np < SV_MAX_PRINCIPALS) {
		size_t n = strcspn(p, ",\r\n");

		if (principal_ok(p, n))
			snprintf(s->principals[s->np++], sizeof s->principals[0], "%.*s", (int)n, p);
		p += n;
		p += strspn(p, ",\r\n");
	}
}

/* Exit 0 and `Good "git" signature for <principal> with ...` on stdout. */
static bool verify_good(const struct sv *s)
{
	char want[300];
	const char *line;

	if (s->status != 0 || s->signal || !s->obuf.data)
		return false;
	snprintf(want, sizeof want, "Good \"git\" signature for %s with ", s->principals[s->next]);
	for (line = s->obuf.data; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (strncmp(line, want, strlen(want)) == 0)
			return true;
	return false;
}

static void after_find(struct sv *s)
{
	char msg[256];

	first_line(msg, sizeof msg, s);
	if (s->status == 127) {
		set_res(s, POLICY_SIG_UNCHECKED, "%s", msg);
		finish(s);
		return;
	}
	if (s->status != 0 || s->signal) {
		set_res(s, POLICY_SIG_BAD, "not signed by an allowed signer (ssh-keygen: %s)", msg);
		finish(s);
		return;
	}
	parse_principals(s);
	if (s->np == 0) {
		set_res(s, POLICY_SIG_BAD, "not signed by an allowed signer (no principal found)");
		finish(s);
		return;
	}
	s->next = 0;
	run_verify(s);
}

static void after_verify(struct sv *s)
{
	char msg[256];

	if (verify_good(s)) {
		s->res.verdict = POLICY_SIG_GOOD;
		s->res.error[0] = '\0';
		strlcpy_(s->res.principal, s->principals[s->next], sizeof s->res.principal);
		for (size_t i = 0, n = 0; i < s->np && n < sizeof s->res.principals; i++) {
			int k = snprintf(s->res.principals + n, sizeof s->res.principals - n, "%s%s",
					 i ? "," : "", s->principals[i]);
			if (k < 0 || (size_t)k >= sizeof s->res.principals - n) {
				/* a cut list could match a wrong name: keep whole ones */
				s->res.principals[n] = '\0';
				break;
			}
			n += (size_t)k;
		}
		finish(s);
		return;
	}
	if (s->status == 127) {
		first_line(msg, sizeof msg, s);
		set_res(s, POLICY_SIG_UNCHECKED, "%s", msg);
		finish(s);
		return;
	}
	if (++s->next < s->np) {
		run_verify(s);
		return;
	}
	first_line(msg, sizeof msg, s);
	set_res(s, POLICY_SIG_BAD, "signature does not verify for '%s' (ssh-keygen: %s)",
		s->principals[s->np - 1], msg);
	finish(s);
}

static void after_sign(struct sv *s)
{
	char msg[256];

	if (s->status == 0 && !s->signal && s->obuf.len > strlen(SSH_SIG_BEGIN) &&
	    memcmp(s->obuf.data, SSH_SIG_BEGIN, strlen(SSH_SIG_BEGIN)) == 0 &&
	    buf_add(s->sign_out, s->obuf.data, s->obuf.len) == 0) {
		s->res.verdict = POLICY_SIG_GOOD;
	} else {
		first_line(msg, sizeof msg, s);
		set_res(s, POLICY_SIG_UNCHECKED, "ssh-keygen -Y sign failed: %s", msg);
	}
	finish(s);
}

static void step_done(struct sv *s)
{
	if (s->timed_out) {
		char d[32];

		format_duration(d, sizeof d, s->deadline_ms);
		set_res(s, POLICY_SIG_UNCHECKED, "ssh-keygen did not finish within %s; killed", d);
		finish(s);
	} else if (s->signing) {
		after_sign(s);
	} else if (!s->verifying) {
		after_find(s);
	} else {
		after_verify(s);
	}
}

/* "-Overify-time=YYYYMMDDHHMMSSZ" from the committer line of the payload
 * (the commit header, before the first blank line). */
static int verify_time_arg(char *out, size_t outsz, const char *payload, size_t len)
{
	const char *p = payload, *end = payload + len;

	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 10 && memcmp(p, "committer ", 10) == 0) {
			char line[512], *gt, *sp;
			int64_t t;
			time_t tt;
			struct tm tm;

			snprintf(line, sizeof line, "%.*s", (int)(n < 511 ? n : 511), p);
			if (!(gt = strrchr(line, '>')) || gt[1] != ' ')
				return ERR_INVALID;
			if (!(sp = strchr(gt + 2, ' ')))
				return ERR_INVALID;
			*sp = '\0';
			if (parse_i64(&t, gt + 2, 0, INT64_C(253402300799)))
				return ERR_INVALID;
			tt = (time_t)t;
			if (!gmtime_r(&tt, &tm) ||
			    !strftime(out, outsz, "-Overify-time=%Y%m%d%H%M%SZ", &tm))
				return ERR_INVALID;
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return ERR_NOTFOUND;
}

static bool mentions_validity(const char *text)
{
	return strstr(text, "valid-after") || strstr(text, "valid-before");
}

static int write_sig(struct sv *s, const char *sig, size_t siglen)
{
	const char *dir = getenv("TMPDIR");
	int fd;
	size_t off = 0;

	snprintf(s->sigpath, sizeof s->sigpath, "%s/pipelined-sig.XXXXXX",
		 dir && *dir && strlen(dir) < 80 ? dir : "/tmp");
	if ((fd = mkstemp(s->sigpath)) < 0) {
		s->sigpath[0] = '\0';
		return ERR_IO;
	}
	while (off < siglen) {
		ssize_t w = write(fd, sig + off, siglen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return ERR_IO;
		}
		off += (size_t)w;
	}
	return close(fd) ? ERR_IO : 0;
}

/* Everything that can be decided before running ssh-keygen; 1 when the
 * verdict is already in s->res. */
static int precheck(struct sv *s, const char *sig, size_t siglen)
{
	struct buf signers = BUF_INIT;
	int rc;

	if (siglen == 0) {
		set_res(s, POLICY_SIG_UNSIGNED, "the commit is not signed");
		return 1;
	}
	if (siglen >= strlen(PGP_SIG_BEGIN) && !memcmp(sig, PGP_SIG_BEGIN, strlen(PGP_SIG_BEGIN))) {
		set_res(s, POLICY_SIG_BAD, "signed with OpenPGP (e.g. by GitHub's web UI); only SSH "
			"signatures from the allowed signers count");
		return 1;
	}
	if (siglen < strlen(SSH_SIG_BEGIN) || memcmp(sig, SSH_SIG_BEGIN, strlen(SSH_SIG_BEGIN)) ||
	    siglen > SV_SIG_MAX) {
		set_res(s, POLICY_SIG_BAD, "not an SSH signature");
		return 1;
	}
	if ((rc = file_read(&signers, s->allowed, SV_SIGNERS_MAX))) {
		char why[160];

		file_error(why, sizeof(why), s->allowed, rc, SV_SIGNERS_MAX);
		set_res(s, POLICY_SIG_UNCHECKED, "cannot read allowed signers file '%s': %s",
			s->allowed, rc == ERR_TOOBIG ? "too large" : why);
		buf_release(&signers);
		return 1;
	}
	if (mentions_validity(signers.data ? signers.data : "") &&
	    verify_time_arg(s->verify_time, sizeof s->verify_time, s->payload, s->paylen)) {
		buf_release(&signers);
		set_res(s, POLICY_SIG_BAD, "signed payload has no readable committer time");
		return 1;
	}
	buf_release(&signers);
	if (write_sig(s, sig, siglen)) {
		set_res(s, POLICY_SIG_UNCHECKED, "cannot write a temporary file: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/* A write to a pipe whose reader (ssh-keygen) has exited would otherwise
 * kill the whole process. */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int sigverify_start(uv_loop_t *loop, const char *allowed_signers,
		    const char *sig, size_t siglen, const char *payload, size_t paylen,
		    uint64_t deadline_ms, sigverify_done_cb *done, void *data)
{
	struct sv *s;

	if (!loop || !allowed_signers || !done || (!sig && siglen) || (!payload && paylen) ||
	    paylen > UINT32_MAX)
		return ERR_INVALID;
	if (!(s = calloc(1, sizeof *s)))
		return ERR_NOMEM;
	s->loop = loop;
	s->done = done;
	s->data = data;
	s->deadline_ms = deadline_ms ? deadline_ms : SV_DEFAULT_DEADLINE_MS;
	s->allowed = xstrndup(allowed_signers, strlen(allowed_signers));
	s->payload = malloc(paylen + 1);
	if (!s->allowed || !s->payload) {
		sv_free(s);
		return ERR_NOMEM;
	}
	if (paylen)
		memcpy(s->payload, payload, paylen);
	s->paylen = paylen;
	buf_init(&s->obuf, SV_OUT_MAX);
	buf_init(&s->ebuf, SV_OUT_MAX);
	if (sig && gitssh_sig_key(s->res.key, sig, siglen))
		s->res.key[0] = '\0';
	ignore_sigpipe();
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	if (precheck(s, sig, siglen)) {
		/* the verdict is known; report it from the loop, never from here */
		uv_timer_start(&s->timer, timer_cb, 0, 0);
		return 0;
	}
	uv_timer_start(&s->timer, timer_cb, s->deadline_ms, 0);
	run_find(s);
	return 0;
}

static void sync_done_cb(const struct sigverify_result *res, void *data)
{
	*(struct sigverify_result *)data = *res;
}

int sigverify_sync(struct sigverify_result *out, const char *allowed_signers,
		   const char *sig, size_t siglen, const char *payload, size_t paylen,
		   uint64_t deadline_ms)
{
	struct sigverify_result res;
	uv_loop_t loop;
	int rc;

	memset(&res, 0, sizeof res);
	if (uv_loop_init(&loop) < 0)
		return ERR_FAIL;
	rc = sigverify_start(&loop, allowed_signers, sig, siglen, payload, paylen, deadline_ms,
			     sync_done_cb, &res);
	if (rc == 0)
		uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (rc == 0)
		*out = res;
	return rc;
}

int sigverify_sign_sync(struct buf *sig, char *err, size_t errsz, const char *key,
			const char *payload, size_t len, uint64_t deadline_ms)
{
	struct sigverify_result res;
	uv_loop_t loop;
	struct sv *s;
	char *argv[] = { "ssh-keygen", "-Y", "sign", "-n", "git", "-f", NULL, NULL };

	if (!key || !payload || len > UINT32_MAX)
		return ERR_INVALID;
	if (uv_loop_init(&loop) < 0)
		return ERR_FAIL;
	memset(&res, 0, sizeof res);
	if (!(s = calloc(1, sizeof *s)) || !(s->payload = malloc(len + 1)) ||
	    !(s->allowed = xstrndup(key, strlen(key)))) {
		if (s)
			sv_free(s);
		uv_loop_close(&loop);
		return ERR_NOMEM;
	}
	memcpy(s->payload, payload, len);
	s->paylen = len;
	s->loop = &loop;
	s->done = sync_done_cb;
	s->data = &res;
	s->signing = true;
	s->sign_out = sig;
	s->deadline_ms = deadline_ms ? deadline_ms : SV_DEFAULT_DEADLINE_MS;
	buf_init(&s->obuf, SV_OUT_MAX);
	buf_init(&s->ebuf, SV_OUT_MAX);
	ignore_sigpipe();
	uv_timer_init(&loop, &s->timer);
	s->timer.data = s;
	uv_timer_start(&s->timer, timer_cb, s->deadline_ms, 0);
	argv[6] = s->allowed;
	spawn(s, argv, true);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (res.verdict == POLICY_SIG_GOOD)
		return 0;
	snprintf(err, errsz, "%s", res.error[0] ? res.error : "ssh-keygen -Y sign failed");
	return ERR_FAIL;
}
