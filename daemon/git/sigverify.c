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
 * ssh-keygen runs through childproc (its own process group, so the
 * deadline kills it and anything it started; output capped, and a cut
 * output is never taken for a whole one); the deadline covers both steps.
 * The signature goes through a private temp file because -s wants a path.
 */
#include "sigverify.h"
#include "childproc.h"
#include "sysio.h"
#include "gitssh.h"

#include <ctype.h>
#include <errno.h>
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
	uv_timer_t timer;	/* defers an early verdict; closed before done */
	const struct childproc_result *r;	/* the step that just ended */
	char spawn_msg[160];	/* why ssh-keygen could not be started */
	bool verifying;
	bool signing;		/* sigverify_sign_sync: the output is the signature */
	struct buf *sign_out;
	int64_t status;		/* 127 when ssh-keygen could not be started */
	int signal;
	uint64_t deadline_ms;	/* for all steps together */
	uint64_t started_ms;
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

/* A verdict known before any ssh-keygen ran, reported from the loop. */
static void early_cb(uv_timer_t *t)
{
	finish(t->data);
}

static void child_done_cb(struct childproc_result *r, void *data)
{
	struct sv *s = data;

	s->r = r;
	s->status = r->spawn_error ? 127 : r->status;
	s->signal = r->signal;
	s->spawn_msg[0] = '\0';
	if (r->spawn_error)
		snprintf(s->spawn_msg, sizeof s->spawn_msg, "cannot run ssh-keygen: %s",
			 uv_strerror(r->spawn_error));
	step_done(s);
	s->r = NULL;
}

/* Runs ssh-keygen with argv (no shell); the payload on stdin when feed.
 * The deadline covers every step of one verification. */
static void spawn(struct sv *s, char **argv, bool feed)
{
	uint64_t used = mono_ms() - s->started_ms;
	struct childproc_spec spec = {
		.argv = (const char *const *)argv,
		.input = feed ? s->payload : NULL,
		.input_len = feed ? s->paylen : 0,
		.out_max = SV_OUT_MAX,
		.err_max = SV_OUT_MAX,
		.deadline_ms = used < s->deadline_ms ? s->deadline_ms - used : 1,
	};

	if (childproc_start(NULL, s->loop, &spec, child_done_cb, s)) {
		set_res(s, POLICY_SIG_UNCHECKED, "cannot run ssh-keygen: out of memory");
		finish(s);
	}
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
	const struct buf *o = &s->r->out, *e = &s->r->err;
	const char *t = s->spawn_msg[0] ? s->spawn_msg : e->len ? e->data :
			o->len ? o->data : "no output";
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
 * comma-separated.  Of output cut at the cap, the last, partial line is
 * not read: a cut name could be another principal's. */
static void parse_principals(struct sv *s)
{
	const char *p = s->r->out.data ? s->r->out.data : "";
	const char *end = p + strlen(p);

	if (s->r->out_truncated) {
		const char *nl = strrchr(p, '\n');
		end = nl ? nl : p;
	}
	s->np = 0;
	while (p < end && s->np < SV_MAX_PRINCIPALS) {
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

	if (s->status != 0 || s->signal || !s->r->out.data)
		return false;
	snprintf(want, sizeof want, "Good \"git\" signature for %s with ", s->principals[s->next]);
	for (line = s->r->out.data; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
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

	const struct buf *o = &s->r->out;

	/* a signature cut at the cap is no signature */
	if (s->status == 0 && !s->signal && !s->r->out_truncated &&
	    o->len > strlen(SSH_SIG_BEGIN) &&
	    memcmp(o->data, SSH_SIG_BEGIN, strlen(SSH_SIG_BEGIN)) == 0 &&
	    buf_add(s->sign_out, o->data, o->len) == 0) {
		s->res.verdict = POLICY_SIG_GOOD;
	} else {
		first_line(msg, sizeof msg, s);
		set_res(s, POLICY_SIG_UNCHECKED, "ssh-keygen -Y sign failed: %s", msg);
	}
	finish(s);
}

static void step_done(struct sv *s)
{
	if (s->r->timed_out) {
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
	s->started_ms = mono_ms();
	if (sig && gitssh_sig_key(s->res.key, sig, siglen))
		s->res.key[0] = '\0';
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	if (precheck(s, sig, siglen)) {
		/* the verdict is known; report it from the loop, never from here */
		uv_timer_start(&s->timer, early_cb, 0, 0);
		return 0;
	}
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
	s->started_ms = mono_ms();
	uv_timer_init(&loop, &s->timer);
	s->timer.data = s;
	argv[6] = s->allowed;
	spawn(s, argv, true);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (res.verdict == POLICY_SIG_GOOD)
		return 0;
	snprintf(err, errsz, "%s", res.error[0] ? res.error : "ssh-keygen -Y sign failed");
	return ERR_FAIL;
}
