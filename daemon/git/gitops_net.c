/* gitops_net.c - the network half of the git layer, run inside the
 * pipelined-git helper process (one operation per process, so the parent
 * can kill it at the deadline).
 *
 *   pipelined-git fetch|ls-remote|push --mirror DIR --url URL --home DIR
 *       [--key FILE] [--known-hosts FILE] [--deadline-ms N]
 *       [--expect REF=ID]... [--prune] REFSPEC...
 *
 * stdout: "ref <id> <name>" (ls-remote), "ok <ref>" / "ng <ref> <status>"
 * (push), "remote <text>" (server sideband lines).  stderr: one line
 * "pipelined-git: <what failed>".  Exit status: 0, or the negated
 * pipelined error code.
 *
 *   pipelined-git session --url URL --home DIR [--key FILE]
 *       [--known-hosts FILE] [--deadline-ms N] [--idle-ms N]
 *
 * The ls-remote session (issue 15: an idle poll cycle without a process
 * start, libgit2 init and SSH handshake each).  SSH URLs only; libssh2
 * directly, no libgit2.  Connects once (the host key judged by
 * hostkey_verdict, as libgit2's callback does; the same deploy key checks),
 * then reads command lines on stdin: "ls-remote" opens a channel, runs
 * git-upload-pack on the repository's path (quoted as git does), reads the
 * v0/v1 ref advertisement (core/pktline), sends a flush-pkt and closes the
 * channel, and prints the refs as above followed by a line "end".
 * Keepalives every 60 s while idle.  It exits 0 after --idle-ms without a
 * command (default 5 min, at most 1 h), at EOF on stdin, or when the server
 * sends anything while idle; on any error it exits as the one-shot helper
 * does (stderr line, status), and the daemon starts a fresh session for the
 * next call.  --deadline-ms bounds the connect; each command's deadline is
 * the daemon's.  PR_SET_PDEATHSIG: it dies with the daemon.
 */
#include "gitops_int.h"
#include "gitssh.h"
#include "pktline.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SPECS 64

struct expect {
	const char *ref;
	git_oid id;	/* zero: the ref must not exist */
};

struct wctx {
	const char *op, *mirror, *url, *home, *key, *known_hosts;
	const char *specs[MAX_SPECS];
	size_t nspecs;
	struct expect expects[MAX_SPECS];
	size_t nexpects;
	bool prune;
	uint64_t deadline_ms;
	uint64_t idle_ms;	/* session */
	struct gitssh_url u;
	char key_type[64];
	int key_attempts;
	int fail_rc;		/* set by a callback that knows better than libgit2 */
	char fail[1024];
	bool rejected;
	bool hook_declined;	/* a rejection came from a server-side hook */
	char sideband[4096];	/* partial "remote:" line */
	size_t sideband_len;
	git_push_update *updates;	/* what negotiation announced */
	size_t nupdates;
	git_repository *repo;
};

static int cb_fail(struct wctx *w, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cb_fail(struct wctx *w, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->fail, sizeof w->fail, fmt, ap);
	va_end(ap);
	w->fail_rc = rc;
	git_error_set_str(GIT_ERROR_NET, w->fail);
	return -1;
}

static const char *raw_type_name(git_cert_ssh_raw_type_t t)
{
	switch (t) {
	case GIT_CERT_SSH_RAW_TYPE_RSA: return "ssh-rsa";
	case GIT_CERT_SSH_RAW_TYPE_DSS: return "ssh-dss";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: return "ssh-ed25519";
	default: return "unknown";
	}
}

/* Checks key against the pinned file only; 0 MATCH, else a libssh2
 * LIBSSH2_KNOWNHOST_CHECK_* code, with why set for an unreadable file. */
static int known_hosts_check(struct wctx *w, const char *key, size_t keylen, char *why,
			     size_t whysz)
{
	LIBSSH2_SESSION *s = libssh2_session_init();	/* allocator only: no socket */
	LIBSSH2_KNOWNHOSTS *kh = s ? libssh2_knownhost_init(s) : NULL;
	struct libssh2_knownhost *found = NULL;
	int rc = LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	char *msg = NULL;

	if (!kh) {
		snprintf(why, whysz, "out of memory");
	} else if (!w->known_hosts || access(w->known_hosts, R_OK) < 0) {
		snprintf(why, whysz, "cannot read known_hosts '%s': %s",
			 w->known_hosts ? w->known_hosts : "(none configured)",
			 w->known_hosts ? strerror(errno) : "no file");
	} else if (libssh2_knownhost_readfile(kh, w->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		libssh2_session_last_error(s, &msg, NULL, 0);
		snprintf(why, whysz, "cannot parse known_hosts '%s': %s", w->known_hosts,
			 msg ? msg : "?");
	} else {
		rc = libssh2_knownhost_checkp(kh, w->u.host, w->u.port, key, keylen,
					      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					      LIBSSH2_KNOWNHOST_KEYENC_RAW, &found);
	}
	if (kh)
		libssh2_knownhost_free(kh);
	if (s)
		libssh2_session_free(s);
	return rc;
}

/* The pinned known_hosts file decides about the key the server offered:
 * 0, or GITOPS_EHOSTKEY with the reason (libgit2's callback and the
 * session helper say the same words). */
static int hostkey_verdict(struct wctx *w, const char *key, size_t keylen, const char *type,
			   const char *fp)
{
	char name[300], why[600] = "";
	int rc;

	gitssh_known_host_name(name, sizeof name, &w->u);
	rc = known_hosts_check(w, key, keylen, why, sizeof why);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
		return cb_fail(w, GITOPS_EHOSTKEY,
			       "host key for '%s' has CHANGED: server offered %s %s, which does not "
			       "match known_hosts '%s'; refusing to connect", name, type, fp,
			       w->known_hosts);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
		return cb_fail(w, GITOPS_EHOSTKEY,
			       "host '%s' is not in known_hosts '%s' (server offered %s %s); "
			       "refusing to connect", name, w->known_hosts, type, fp);
	return cb_fail(w, GITOPS_EHOSTKEY, "%s; refusing to connect to '%s' (server offered %s %s)",
		       why[0] ? why : "known_hosts check failed", name, type, fp);
}

/* libgit2 passes valid=1 when its own look at $HOME/.ssh/known_hosts
 * matched; that file is ours too, but only the configured one decides. */
static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct wctx *w = payload;
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	char name[300], fp[60] = "SHA256:?";

	(void)valid;
	(void)host;	/* the URL's host is what known_hosts is keyed by */
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return cb_fail(w, GITOPS_EHOSTKEY, "unexpected certificate type for '%s'", w->url);
	gitssh_known_host_name(name, sizeof name, &w->u);
	if (hk->type & GIT_CERT_SSH_SHA256)
		gitssh_fingerprint(fp, hk->hash_sha256);
	if (!(hk->type & GIT_CERT_SSH_RAW))
		return cb_fail(w, GITOPS_EHOSTKEY, "host key of '%s' (%s) not available to check",
			       name, fp);
	return hostkey_verdict(w, hk->hostkey, hk->hostkey_len, raw_type_name(hk->raw_type), fp);
}

static int cred_cb(git_credential **out, const char *url, const char *user,
		   unsigned int allowed, void *payload)
{
	struct wctx *w = payload;

	(void)url;
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		/* libgit2 asks again for as long as we hand out keys */
		if (w->key_attempts++ > 0)
			return cb_fail(w, GITOPS_EAUTH, "'%s' refused deploy key '%s' (%s) for user '%s'",
				       w->u.host, w->key, w->key_type, user ? user : "git");
		return git_credential_ssh_key_new(out, user ? user : "git", NULL, w->key, NULL);
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, "git");
	return cb_fail(w, GITOPS_EAUTH, "'%s' offers no public-key authentication", w->u.host);
}

/* Emits complete "remote:" lines; keeps a partial one for the next call. */
static int sideband_cb(const char *str, int len, void *payload)
{
	struct wctx *w = payload;
	int i;

	for (i = 0; i < len; i++) {
		char c = str[i];
		if (c == '\n' || c == '\r') {
			if (w->sideband_len)
				printf("remote %.*s\n", (int)w->sideband_len, w->sideband);
			w->sideband_len = 0;
		} else if (w->sideband_len < sizeof w->sideband - 1 && (unsigned char)c >= 0x20) {
			w->sideband[w->sideband_len++] = c;
		}
	}
	return 0;
}

static struct expect *expect_for(struct wctx *w, const char *ref)
{
	size_t i;

	for (i = 0; i < w->nexpects; i++)
		if (!strcmp(w->expects[i].ref, ref))
			return &w->expects[i];
	return NULL;
}

/* Before any object is sent: every ref we update must still be where the
 * caller built on (or, for a deletion, where the caller saw it).  The server
 * re-checks that old value when it applies the update. */
static int negotiation_cb(const git_push_update **up, size_t len, void *payload)
{
	struct wctx *w = payload;
	char have[GITOPS_HEXSZ + 1], want[GITOPS_HEXSZ + 1];
	struct expect *e;
	size_t i;

	GITOPS_LSAN_RESUME();	/* ours: leak-checked */
	w->updates = calloc(len ? len : 1, sizeof *w->updates);
	GITOPS_LSAN_PAUSE();
	if (!w->updates)
		return cb_fail(w, ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		w->updates[w->nupdates++] = *up[i];
		e = expect_for(w, up[i]->dst_refname);
		if (!e || git_oid_equal(&e->id, &up[i]->src))
			continue;
		git_oid_tostr(have, sizeof have, &up[i]->src);
		git_oid_tostr(want, sizeof want, &e->id);
		if (git_oid_is_zero(&up[i]->dst))
			return cb_fail(w, GITOPS_EMOVED, "'%s' moved to %s (expected %s); not deleted",
				       up[i]->dst_refname, have, want);
		return cb_fail(w, GITOPS_ENONFF, "'%s' moved on the remote to %s (we built on %s)",
			       up[i]->dst_refname, have, want);
	}
	return 0;
}

static int update_ref_cb(const char *ref, const char *status, void *payload)
{
	struct wctx *w = payload;

	if (status) {
		w->rejected = true;
		/* receive-pack's own words for a pre-receive or update hook
		 * that exited non-zero ("pre-receive hook declined") */
		if (strstr(status, "hook declined"))
			w->hook_declined = true;
		printf("ng %s %s\n", ref, status);
	} else {
		printf("ok %s\n", ref);
	}
	return 0;
}

static void set_callbacks(git_remote_callbacks *cb, struct wctx *w)
{
	cb->credentials = cred_cb;
	cb->certificate_check = cert_cb;
	cb->sideband_progress = sideband_cb;
	cb->push_negotiation = negotiation_cb;
	cb->push_update_reference = update_ref_cb;
	cb->payload = w;
}

static int op_fetch(struct wctx *w, git_remote *remote)
{
	git_fetch_options fo;
	git_strarray specs = { (char **)w->specs, w->nspecs };

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	set_callbacks(&fo.callbacks, w);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.prune = w->prune ? GIT_FETCH_PRUNE : GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	return git_remote_fetch(remote, &specs, &fo, "pipelined: fetch");
}

static int op_ls_remote(struct wctx *w, git_remote *remote)
{
	git_remote_callbacks cb;
	const git_remote_head **heads;
	size_t n, i;
	int rc;

	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	set_callbacks(&cb, w);
	if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL)) < 0)
		return rc;
	if ((rc = git_remote_ls(&heads, &n, remote)) < 0)
		return rc;
	if (n > GITOPS_MAX_REFS) {	/* like the session: never a silent first part */
		git_remote_disconnect(remote);
		return cb_fail(w, ERR_TOOBIG, "the remote advertises %zu refs, more than %d",
			       n, GITOPS_MAX_REFS);
	}
	for (i = 0; i < n; i++)
		printf("ref %s %s\n", git_oid_tostr_s(&heads[i]->oid), heads[i]->name);
	git_remote_disconnect(remote);
	return 0;
}

/* libgit2 does not move remote-tracking refs for an anonymous remote: mirror
 * what the server accepted into refs/pipelined/remote/. */
static void update_tracking(struct wctx *w)
{
	char name[512];
	git_reference *r;
	size_t i;

	for (i = 0; i < w->nupdates; i++) {
		const git_push_update *u = &w->updates[i];
		if (strncmp(u->dst_refname, "refs/", 5))
			continue;
		snprintf(name, sizeof name, GITOPS_TRACKING "%s", u->dst_refname + 5);
		if (git_oid_is_zero(&u->dst)) {
			if (git_reference_lookup(&r, w->repo, name) == 0) {
				git_reference_delete(r);
				git_reference_free(r);
			}
		} else if (git_reference_create(&r, w->repo, name, &u->dst, 1, "pipelined: push") == 0) {
			git_reference_free(r);
		}
	}
}

static int op_push(struct wctx *w, git_remote *remote)
{
	git_push_options po;
	git_strarray specs = { (char **)w->specs, w->nspecs };
	size_t i;
	int rc;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	/* SPEC 5: nobody's commit is ever overwritten; no caller may ask. */
	for (i = 0; i < w->nspecs; i++)
		if (w->specs[i][0] == '+')
			return cb_fail(w, ERR_INVALID, "refusing forced refspec '%s'", w->specs[i]);
	set_callbacks(&po.callbacks, w);
	rc = git_remote_push(remote, &specs, &po);
	sideband_cb("\n", 1, w);
	if (rc == 0 && w->rejected && w->hook_declined)
		return cb_fail(w, GITOPS_EHOOK, "a hook on the remote declined the push");
	if (rc == 0 && w->rejected)
		return cb_fail(w, ERR_REJECTED, "the remote refused the push");
	if (rc == 0)
		update_tracking(w);
	return rc;
}

static int load_key(struct wctx *w)
{
	struct buf k = BUF_INIT;
	int rc;

	if (!w->u.ssh)
		return 0;
	if (!w->key)
		return cb_fail(w, GITOPS_EAUTH, "no deploy key configured for '%s'", w->url);
	if ((rc = file_read(&k, w->key, 64 * 1024)) < 0) {
		char why[160];

		buf_release(&k);
		file_error(why, sizeof(why), w->key, rc, 64 * 1024);
		return cb_fail(w, GITOPS_EAUTH, "cannot read deploy key '%s': %s", w->key,
			       rc == ERR_TOOBIG ? "too large" : why);
	}
	rc = gitssh_key_type(w->key_type, sizeof w->key_type, k.data ? k.data : "", k.len);
	buf_release(&k);
	if (rc)
		return cb_fail(w, GITOPS_EAUTH, "deploy key '%s' is not a private key file", w->key);
	/* libssh2 1.10 signs RSA only with SHA-1 ("ssh-rsa"), which OpenSSH
	 * 8.8+ and GitHub refuse: fail here with the reason, not at the server. */
	if (!strcmp(w->key_type, "ssh-rsa") || !strcmp(w->key_type, "ssh-dss"))
		return cb_fail(w, GITOPS_EAUTH,
			       "deploy key '%s' is %s: this libssh2 can only sign it with SHA-1, "
			       "which servers refuse; use an Ed25519 or ECDSA key", w->key,
			       w->key_type);
	return 0;
}

/* libgit2 1.5 reads $HOME/.ssh/known_hosts by itself (and needs HOME set):
 * point HOME at our private directory and give it a copy of the pinned file
 * so libgit2 prefers the pinned key type; the callback still decides. */
static void private_home(struct wctx *w)
{
	struct buf dir = BUF_INIT, kh = BUF_INIT, path = BUF_INIT;

	setenv("HOME", w->home, 1);
	unsetenv("SSH_AUTH_SOCK");
	if (buf_printf(&dir, "%s/.ssh", w->home) || buf_printf(&path, "%s/known_hosts", dir.data))
		goto out;
	mkdir(dir.data, 0700);
	if (w->known_hosts && file_read(&kh, w->known_hosts, 1u << 20) == 0)
		file_write_atomic(path.data, kh.data ? kh.data : "", kh.len, 0600);
	else
		unlink(path.data);
out:
	buf_release(&dir);
	buf_release(&kh);
	buf_release(&path);
}

/* ---- session: one SSH connection, many ls-remotes ---- */

#define SESSION_IDLE_MS (5u * 60 * 1000)	/* default idle time before it quits */
#define SESSION_IDLE_MAX_MS (60u * 60 * 1000)
#define SESSION_KEEPALIVE_S 60
#define SESSION_MAX_ADV (2u << 20)	/* the daemon's cap on a helper's output */

static const char *hostkey_type_name(int t)
{
	switch (t) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
	case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
	default: return "unknown";
	}
}

static const char *knownhost_methods(int typemask)
{
	switch (typemask & LIBSSH2_KNOWNHOST_KEY_MASK) {
	case LIBSSH2_KNOWNHOST_KEY_SSHRSA: return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
	case LIBSSH2_KNOWNHOST_KEY_SSHDSS: return "ssh-dss";
	case LIBSSH2_KNOWNHOST_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_KNOWNHOST_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_KNOWNHOST_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_KNOWNHOST_KEY_ED25519: return "ssh-ed25519";
	default: return NULL;
	}
}

/* As libgit2 does: ask the server for a host key of a type that known_hosts
 * pins for this host (entries with a hashed name count too), so a server
 * with several keys offers the pinned one, not a "changed" other one. */
static void hostkey_prefs(struct wctx *w, LIBSSH2_SESSION *s)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
	struct libssh2_knownhost *h = NULL, *prev = NULL;
	char name[300], prefs[512] = "";
	size_t n = 0;

	gitssh_known_host_name(name, sizeof name, &w->u);
	if (kh && w->known_hosts &&
	    libssh2_knownhost_readfile(kh, w->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0) {
		while (libssh2_knownhost_get(kh, &h, prev) == 0) {
			const char *m = knownhost_methods(h->typemask);

			prev = h;
			if (!m || (h->name && strcmp(h->name, name)) || strstr(prefs, m))
				continue;
			n += (size_t)snprintf(prefs + n, sizeof prefs - n, "%s%s", n ? "," : "", m);
			if (n >= sizeof prefs)
				break;
		}
	}
	if (kh)
		libssh2_knownhost_free(kh);
	if (n && n < sizeof prefs)
		libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, prefs);
}

static int tcp_connect(struct wctx *w, int *out)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, err = 0, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", w->u.port);
	if ((rc = getaddrinfo(w->u.host, port, &hints, &res)))
		return cb_fail(w, ERR_FAIL, "failed to resolve address for %s: %s", w->u.host,
			       gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cb_fail(w, ERR_FAIL, "failed to connect to %s: %s", w->u.host, strerror(err));
	*out = fd;
	return 0;
}

static const char *ssh_error(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

/* Handshake, host key against known_hosts, then the deploy key. */
static int session_open(struct wctx *w, LIBSSH2_SESSION *s, int fd, const char *user)
{
	const char *key, *list;
	const unsigned char *hash;
	char fp[60] = "SHA256:?";
	size_t keylen = 0;
	int type = 0;

	hostkey_prefs(w, s);
	if (libssh2_session_handshake(s, fd))
		return cb_fail(w, ERR_FAIL, "SSH handshake with '%s' failed: %s", w->u.host,
			       ssh_error(s));
	key = libssh2_session_hostkey(s, &keylen, &type);
	hash = (const unsigned char *)libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (hash)
		gitssh_fingerprint(fp, hash);
	if (!key) {
		char name[300];

		gitssh_known_host_name(name, sizeof name, &w->u);
		return cb_fail(w, GITOPS_EHOSTKEY, "host key of '%s' (%s) not available to check",
			       name, fp);
	}
	if (hostkey_verdict(w, key, keylen, hostkey_type_name(type), fp))
		return -1;
	list = libssh2_userauth_list(s, user, (unsigned)strlen(user));
	if (!list && libssh2_userauth_authenticated(s))
		return 0;
	if (!list || !strstr(list, "publickey"))
		return cb_fail(w, GITOPS_EAUTH, "'%s' offers no public-key authentication",
			       w->u.host);
	if (libssh2_userauth_publickey_fromfile_ex(s, user, (unsigned)strlen(user), NULL, w->key,
						   NULL))
		return cb_fail(w, GITOPS_EAUTH, "'%s' refused deploy key '%s' (%s) for user '%s'",
			       w->u.host, w->key, w->key_type, user);
	return 0;
}

/* One ls-remote on a new channel: the ref advertisement, then a flush-pkt
 * (we want nothing), then "ref <id> <name>" lines and "end" on stdout. */
static int session_ls_remote(struct wctx *w, LIBSSH2_SESSION *s, const char *cmd)
{
	static struct pktline_adv adv;
	LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(s);
	struct buf in = BUF_INIT;
	char chunk[16384], err[600], serr[400];
	ssize_t n;
	size_t i;
	int rc = PKTLINE_MORE;

	if (!ch)
		return cb_fail(w, ERR_FAIL, "cannot open an SSH channel to '%s': %s", w->u.host,
			       ssh_error(s));
	if (libssh2_channel_exec(ch, cmd)) {
		cb_fail(w, ERR_FAIL, "'%s' refused to run git-upload-pack: %s", w->u.host,
			ssh_error(s));
		libssh2_channel_free(ch);
		return -1;
	}
	buf_init(&in, SESSION_MAX_ADV);
	while (rc == PKTLINE_MORE) {
		n = libssh2_channel_read(ch, chunk, sizeof chunk);
		if (n < 0) {
			rc = cb_fail(w, ERR_FAIL, "reading from '%s' failed: %s", w->u.host,
				     ssh_error(s));
		} else if (n == 0) {
			n = libssh2_channel_read_stderr(ch, serr, sizeof serr - 1);
			serr[n > 0 ? n : 0] = '\0';
			serr[strcspn(serr, "\r\n")] = '\0';
			rc = cb_fail(w, ERR_FAIL, "the server ended the ref advertisement early%s%s",
				     serr[0] ? ": " : "", serr);
		} else if (buf_add(&in, chunk, (size_t)n)) {
			rc = cb_fail(w, ERR_TOOBIG, "the ref advertisement of '%s' is over %u KiB",
				     w->url, SESSION_MAX_ADV / 1024);
		} else if ((rc = pktline_adv_parse(&adv, in.data, in.len, err, sizeof err)) < 0) {
			rc = cb_fail(w, rc, "%s", err);
		}
	}
	if (rc == 0) {
		libssh2_channel_write(ch, "0000", 4);
		libssh2_channel_send_eof(ch);
		for (i = 0; i < adv.nrefs; i++)
			printf("ref %.*s %.*s\n", PKTLINE_HEXSZ, in.data + adv.refs[i].id_off,
			       (int)adv.refs[i].name_len, in.data + adv.refs[i].name_off);
		printf("end\n");
		fflush(stdout);
	}
	/* the server's exit-status, EOF and close are read here, not left to
	 * wake the idle wait below */
	if (libssh2_channel_close(ch) == 0)
		libssh2_channel_wait_closed(ch);
	libssh2_channel_free(ch);
	buf_release(&in);
	return rc;
}

/* Commands from stdin, one a line; keepalives while idle.  0 when stdin
 * ends, the idle time is up or the server speaks while we wait (a fresh
 * session is the simplest answer to all three). */
static int session_loop(struct wctx *w, LIBSSH2_SESSION *s, int fd, const char *cmd)
{
	char line[128];
	size_t len = 0;
	uint64_t last = mono_ms();

	libssh2_keepalive_config(s, 0, SESSION_KEEPALIVE_S);
	for (;;) {
		struct pollfd p[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
		uint64_t now = mono_ms(), left;
		int next = SESSION_KEEPALIVE_S, wait;
		char *nl;
		ssize_t n;

		if (now - last >= w->idle_ms)
			return 0;
		left = w->idle_ms - (now - last);
		if (libssh2_keepalive_send(s, &next))
			return cb_fail(w, ERR_FAIL, "keepalive to '%s' failed: %s", w->u.host,
				       ssh_error(s));
		wait = (int)((uint64_t)next * 1000 < left ? (uint64_t)next * 1000 : left);
		if (poll(p, 2, wait ? wait : 1) < 0) {
			if (errno == EINTR)
				continue;
			return cb_fail(w, ERR_IO, "poll: %s", strerror(errno));
		}
		if (p[1].revents && !p[0].revents)
			return 0;
		if (!p[0].revents)
			continue;
		n = read(0, line + len, sizeof line - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		len += (size_t)n;
		while ((nl = memchr(line, '\n', len))) {
			*nl = '\0';
			if (strcmp(line, "ls-remote"))
				return cb_fail(w, ERR_INVALID, "unknown session command '%.40s'", line);
			if (session_ls_remote(w, s, cmd))
				return -1;
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len);
			last = mono_ms();
		}
		if (len == sizeof line)
			return cb_fail(w, ERR_INVALID, "session command line too long");
	}
}

static int run_session(struct wctx *w)
{
	LIBSSH2_SESSION *s = NULL;
	char user[128], cmd[4200];
	int fd = -1, rc;

	if (!w->u.ssh)
		return cb_fail(w, ERR_INVALID, "a session needs an SSH URL, not '%s'", w->url);
	if (pktline_url_user(user, sizeof user, w->url) ||
	    pktline_upload_pack_cmd(cmd, sizeof cmd, w->url))
		return cb_fail(w, ERR_INVALID, "cannot take user and path from '%s'", w->url);
	if (libssh2_init(0))
		return cb_fail(w, ERR_FAIL, "cannot initialise libssh2");
	if ((rc = tcp_connect(w, &fd)) == 0) {
		if (!(s = libssh2_session_init()))
			rc = cb_fail(w, ERR_NOMEM, "out of memory");
		else
			libssh2_session_set_blocking(s, 1);
	}
	if (rc == 0)
		rc = session_open(w, s, fd, user);
	if (rc == 0) {
		alarm(0);	/* the connect deadline; each command has the daemon's */
		rc = session_loop(w, s, fd, cmd);
	}
	if (s) {
		libssh2_session_disconnect(s, "pipelined: session over");
		libssh2_session_free(s);
	}
	if (fd >= 0)
		close(fd);
	libssh2_exit();
	return rc;
}

static int parse_expect(struct wctx *w, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	struct expect *e;
	char *ref;

	if (!eq || w->nexpects == MAX_SPECS || strlen(eq + 1) != GITOPS_HEXSZ)
		return ERR_INVALID;
	e = &w->expects[w->nexpects];
	if (git_oid_fromstr(&e->id, eq + 1) < 0 || !(ref = xstrndup(arg, (size_t)(eq - arg))))
		return ERR_INVALID;
	e->ref = ref;
	w->nexpects++;
	return 0;
}

static int parse_args(struct wctx *w, int argc, char **argv)
{
	int i;

	if (argc < 1)
		return ERR_INVALID;
	w->op = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t ms;
		if (!strcmp(a, "--prune")) {
			w->prune = true;
			continue;
		}
		if (a[0] != '-' || a[1] != '-') {
			if (w->nspecs == MAX_SPECS)
				return ERR_INVALID;
			w->specs[w->nspecs++] = a;
			continue;
		}
		if (!v)
			return ERR_INVALID;
		i++;
		if (!strcmp(a, "--mirror")) w->mirror = v;
		else if (!strcmp(a, "--url")) w->url = v;
		else if (!strcmp(a, "--home")) w->home = v;
		else if (!strcmp(a, "--key")) w->key = v;
		else if (!strcmp(a, "--known-hosts")) w->known_hosts = v;
		else if (!strcmp(a, "--deadline-ms") && !parse_u32(&ms, v, 1, 86400000)) w->deadline_ms = ms;
		else if (!strcmp(a, "--idle-ms") && !parse_u32(&ms, v, 1, SESSION_IDLE_MAX_MS)) w->idle_ms = ms;
		else if (!strcmp(a, "--expect") && !parse_expect(w, v)) ;
		else return ERR_INVALID;
	}
	if (!w->idle_ms)
		w->idle_ms = SESSION_IDLE_MS;
	if ((!w->mirror && strcmp(w->op, "session")) || !w->url || !w->home ||
	    gitssh_url_parse(&w->u, w->url))
		return ERR_INVALID;
	return 0;
}

static int run_op(struct wctx *w)
{
	static const struct {
		const char *name;
		int (*fn)(struct wctx *, git_remote *);
	} ops[] = { { "fetch", op_fetch }, { "ls-remote", op_ls_remote }, { "push", op_push } };
	git_remote *remote = NULL;
	size_t i;
	int rc = ERR_INVALID;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(w->op, ops[i].name))
			break;
	if (i == ARRAY_SIZE(ops))
		return cb_fail(w, ERR_INVALID, "unknown operation '%s'", w->op);
	if ((rc = git_repository_open_bare(&w->repo, w->mirror)) < 0 ||
	    (rc = git_remote_create_anonymous(&remote, w->repo, w->url)) < 0)
		return rc;
	rc = ops[i].fn(w, remote);
	git_remote_free(remote);
	return rc;
}

static void release(struct wctx *w)
{
	size_t i;

	for (i = 0; i < w->nexpects; i++)
		free((char *)w->expects[i].ref);
	free(w->updates);
	git_repository_free(w->repo);
}

int gitops_worker_main(int argc, char **argv)
{
	struct wctx w;
	const git_error *e;
	int rc;

	memset(&w, 0, sizeof w);
	/* The parent kills our process group at the deadline; these two make
	 * sure we never outlive it either way. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parse_args(&w, argc, argv)) {
		fprintf(stderr, GITOPS_ERR_PREFIX "usage: pipelined-git fetch|ls-remote|push "
			"--mirror DIR --url URL --home DIR [--key F] [--known-hosts F] "
			"[--deadline-ms N] [--expect REF=ID] [--prune] REFSPEC... | pipelined-git "
			"session --url URL --home DIR [--key F] [--known-hosts F] "
			"[--deadline-ms N] [--idle-ms N]\n");
		release(&w);
		return -ERR_INVALID;
	}
	if (w.deadline_ms)
		alarm((unsigned)(w.deadline_ms / 1000 + 2));
	if (!strcmp(w.op, "session")) {
		/* libssh2 alone: no libgit2, no CA bundle, no private HOME */
		rc = load_key(&w);
		if (rc == 0)
			rc = run_session(&w);
		fflush(stdout);
		if (rc < 0)
			fprintf(stderr, GITOPS_ERR_PREFIX "%s\n", w.fail_rc ? w.fail : "unknown error");
		rc = rc < 0 ? (w.fail_rc ? w.fail_rc : ERR_FAIL) : 0;
		release(&w);
		return rc < 0 ? -rc : 0;
	}
	private_home(&w);
	rc = load_key(&w);
	/* libgit2 and the libraries under it leak a few objects per operation
	 * (gitworker_main.c): they are allocated inside this pause */
	GITOPS_LSAN_PAUSE();
	if (gitops_global_init() < 0) {
		GITOPS_LSAN_RESUME();
		fprintf(stderr, GITOPS_ERR_PREFIX "cannot initialise libgit2\n");
		release(&w);
		return -ERR_FAIL;
	}
	if (rc == 0)
		rc = run_op(&w);
	GITOPS_LSAN_RESUME();
	fflush(stdout);
	if (rc < 0) {
		e = git_error_last();
		fprintf(stderr, GITOPS_ERR_PREFIX "%s\n",
			w.fail_rc ? w.fail : e && e->message ? e->message : "unknown error");
		rc = w.fail_rc ? w.fail_rc : gitops_map_git_error(rc);
	}
	release(&w);
	GITOPS_LSAN_PAUSE();
	git_libgit2_shutdown();
	GITOPS_LSAN_RESUME();
	return rc < 0 ? -rc : 0;
}
