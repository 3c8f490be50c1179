/* config.c - see config.h
 *
 * Pure: the file's bytes come in (io/config_load.c reads them), and so do
 * the environment and the two looks at other files (included files, the
 * files the daemon will read) through struct config_io.  config_scan.c
 * parses the bytes with git config's rules and yields every variable with
 * its value and line, in file order.  Everything else here is checking
 * those entries against the key table below, which is the single source of
 * names, types and defaults. */
#include "config.h"
#include "auth.h"
#include "clock.h"
#include "config_scan.h"
#include "gitssh.h"
#include "webhook.h"
#include "tag.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum section {
	SEC_REPOSITORY,
	SEC_REGISTRY,
	SEC_MARKET,
	SEC_STAGE,
	SEC_HTTP,
	SEC_DAEMON,
	SEC_AUDIT,
	SEC_IMAGE,
	SEC_ARGOCD,
	SEC_REQUESTS,
	SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
	[SEC_REPOSITORY] = "repository", [SEC_REGISTRY] = "registry",
	[SEC_MARKET] = "market",	  [SEC_STAGE] = "stage",
	[SEC_HTTP] = "http",		  [SEC_DAEMON] = "daemon",
	[SEC_AUDIT] = "audit",		  [SEC_IMAGE] = "image",
	[SEC_ARGOCD] = "argocd",	  [SEC_REQUESTS] = "requests",
};

struct load_ctx;
struct key;

/* A value type: how to parse one value into its slot, what the allowed form
 * is (for "bad value" messages), and how to release the slot. */
struct type {
	int (*parse)(void *dst, const char *val, const struct key *k, struct load_ctx *c);
	void (*release)(void *dst);
	const char *form;
};

enum {
	K_REPEAT = 1,		/* may be given several times; values accumulate */
	K_REQUIRED = 2,		/* no default: must be set */
	K_DEPLOY = 4,		/* only in [stage "beta|paper|live"] */
	K_FILE = 8,		/* a file the daemon reads: checked for readability */
	K_IMAGE = 16,		/* in [image "NAME"]: kept per name until the images are known */
};

struct key {
	enum section sect;
	const char *name;
	const struct type *type;
	size_t off;		/* in struct config, or struct config_stage */
	unsigned flags;
	const char *def;	/* default, parsed like a value; K_REPEAT: space-separated */
	int64_t min, max;	/* numbers and durations */
};

struct file_ref {
	const struct key *key;
	int stage;
	int line;
	char *raw;		/* as written, for the message */
	char *path;		/* resolved */
};

/* An [image "NAME"] value, held until every registry.image is known (the
 * sections may come in any order). */
struct image_ref {
	char *name;
	char *path;
	int line;
};

struct error {
	int line;
	size_t seq;
	char *msg;
};

#define MAX_KEYS 64
#define SLOT_GLOBAL STAGE_COUNT

struct load_ctx {
	const char *file;	/* as given: the prefix of every message */
	const char *dir;	/* directory of file, NULL when it has no slash */
	struct config_io io;	/* the outside world, as the caller gave it */
	int last_line;
	struct config *cfg;
	struct config_scan scan;
	int seen[MAX_KEYS][STAGE_COUNT + 1];	/* first line a key was set on */
	int reported_hdr;	/* header line of the last section error, to say it once */
	struct error *errs;
	size_t nerrs, caperrs;
	bool nomem;
	bool parse_failed;	/* a syntax error: the file was not parsed */
	struct file_ref *files;
	size_t nfiles, capfiles;
	struct image_ref *imgs;
	size_t nimgs, capimgs;
	char why[160];		/* detail from a parser, instead of the form */
};

/* --- errors ------------------------------------------------------------ */

static void add_error(struct load_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_error(struct load_ctx *c, int line, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (c->nerrs == c->caperrs) {
		size_t cap = c->caperrs ? c->caperrs * 2 : 16;
		struct error *e = realloc(c->errs, cap * sizeof(*e));

		if (!e) {
			c->nomem = true;
			return;
		}
		c->errs = e;
		c->caperrs = cap;
	}
	buf_init(&b, 4096);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) && !b.data) {
		va_end(ap);
		c->nomem = true;
		return;
	}
	va_end(ap);
	c->errs[c->nerrs].line = line;	/* 0: about the whole file */
	c->errs[c->nerrs].seq = c->nerrs;
	c->errs[c->nerrs].msg = buf_detach(&b, NULL);
	c->nerrs++;
}

static int error_cmp(const void *a, const void *b)
{
	const struct error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush_errors(struct load_ctx *c, struct buf *out)
{
	if (c->nerrs)
		qsort(c->errs, c->nerrs, sizeof(*c->errs), error_cmp);
	for (size_t i = 0; i < c->nerrs; i++) {
		if (out && c->errs[i].line)
			buf_printf(out, "%s:%d: %s\n", c->file, c->errs[i].line, c->errs[i].msg);
		else if (out)
			buf_printf(out, "%s: %s\n", c->file, c->errs[i].msg);
		free(c->errs[i].msg);
	}
	free(c->errs);
	c->errs = NULL;
	c->nerrs = c->caperrs = 0;
}

/* Values go into messages: show them printable and bounded, since a value
 * may hold a newline (\n escape) or anything else. */
static const char *shown(char *out, size_t outsz, const char *val)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)val; *p && o + 8 < outsz; p++) {
		if (p - (const unsigned char *)val >= 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return out;
}

/* --- value types --------------------------------------------------------- */

static void why(struct load_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void why(struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static int set_str(char **dst, const char *val, size_t len)
{
	char *s = xstrndup(val, len);

	if (!s)
		return ERR_NOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static void release_str(void *dst)
{
	char **s = dst;

	free(*s);
	*s = NULL;
}

static void release_none(void *dst)
{
}

static void release_list(void *dst)
{
	struct config_list *l = dst;

	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int list_add(struct config_list *l, const char *val, size_t max, struct load_ctx *c)
{
	char **v;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], val) == 0) {
			why(c, "listed twice");
			return ERR_INVALID;
		}
	if (l->n >= max) {
		why(c, "more than %zu values", max);
		return ERR_INVALID;
	}
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return ERR_NOMEM;
	l->v = v;
	l->v[l->n] = xstrndup(val, strlen(val));
	if (!l->v[l->n])
		return ERR_NOMEM;
	l->n++;
	return 0;
}

static bool has_ctl_or_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int parse_boolean(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	/* A bare "key" line is true, as in git. */
	if (!val) {
		*(bool *)dst = true;
		return 0;
	}
	return parse_bool(dst, val);
}

static int parse_duration(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	uint64_t ms;
	char lo[32], hi[32];

	if (parse_duration_ms(&ms, val))
		return ERR_INVALID;
	if ((int64_t)ms < k->min || (int64_t)ms > k->max) {
		format_duration(lo, sizeof(lo), (uint64_t)k->min);
		format_duration(hi, sizeof(hi), (uint64_t)k->max);
		why(c, "expected a duration between %s and %s", lo, hi);
		return ERR_INVALID;
	}
	*(uint64_t *)dst = ms;
	return 0;
}

static int parse_count(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	why(c, "expected a whole number from %lld to %lld", (long long)k->min, (long long)k->max);
	return parse_u32(dst, val, (uint32_t)k->min, (uint32_t)k->max);
}

/* A file path; relative paths are taken from the configuration's directory
 * so a whole setup can live in one directory. */
static int parse_path(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	struct buf b = BUF_INIT;
	char **out = dst;

	const char *creds = c->io.credentials_dir;

	if (!*val || strlen(val) > 4000 || strchr(val, '\n'))
		return ERR_INVALID;
	/* Under systemd, LoadCredential= hands secret files to the service in
	 * $CREDENTIALS_DIRECTORY (the unit's DynamicUser cannot read
	 * /etc/pipelined itself); the same relative name then works for the
	 * service and for an operator's `pipelined -n` in a shell. */
	if (val[0] != '/' && (k->flags & K_FILE) && creds && *creds)
		buf_printf(&b, "%s/%s", creds, val);
	else if (val[0] != '/' && c->dir)
		buf_printf(&b, "%s/%s", c->dir, val);
	else
		buf_adds(&b, val);
	if (!b.data)
		return ERR_NOMEM;
	free(*out);
	*out = buf_detach(&b, NULL);
	return 0;
}

static int parse_abs_dir(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	if (val[0] != '/')
		return ERR_INVALID;
	return parse_path(dst, val, k, c);
}

/* A relative path inside the GitOps repository: no leading slash, no empty,
 * "." or ".." component, so it can never point outside the checkout. */
static bool repo_path_valid(const char *s)
{
	const char *p = s;

	if (!*s || strlen(s) > 255 || has_ctl_or_space(s) || strchr(s, '\\'))
		return false;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return false;
	}
	return true;
}

static int parse_repo_path(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	if (!repo_path_valid(val))
		return ERR_INVALID;
	return set_str(dst, val, strlen(val));
}

static int parse_branch(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	if (!*val || strlen(val) > 200 || strncmp(val, "refs/", 5) == 0 || !tag_branch_valid(val))
		return ERR_INVALID;
	return set_str(dst, val, strlen(val));
}

static bool host_valid(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(h[i] >= 'a' && h[i] <= 'z') && !(h[i] >= 'A' && h[i] <= 'Z') &&
		    !(h[i] >= '0' && h[i] <= '9') && h[i] != '-' && h[i] != '.')
			return false;
	return h[0] != '-' && h[0] != '.';
}

/* host[:port] or [v6]:port; *hostlen excludes brackets. */
static int split_hostport(const char **host, size_t *hostlen, uint16_t *port,
			  const char *s, size_t n, bool need_port)
{
	const char *colon;
	char num[8];
	uint32_t p;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb || rb == s + 1)
			return ERR_INVALID;
		*host = s + 1;
		*hostlen = (size_t)(rb - s - 1);
		colon = rb + 1 < s + n ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return ERR_INVALID;
	} else {
		colon = memchr(s, ':', n);
		*host = s;
		*hostlen = colon ? (size_t)(colon - s) : n;
	}
	if (!colon)
		return need_port ? ERR_INVALID : 0;
	n -= (size_t)(colon + 1 - s);
	if (n == 0 || n >= sizeof(num))
		return ERR_INVALID;
	memcpy(num, colon + 1, n);
	num[n] = '\0';
	if (parse_u32(&p, num, 1, 65535))
		return ERR_INVALID;
	*port = (uint16_t)p;
	return 0;
}

static void release_repo_url(void *dst)
{
	struct config_repo_url *u = dst;

	free(u->url);
	free(u->host);
	memset(u, 0, sizeof(*u));
}

/* What libgit2 can fetch from and push to with a deploy key: ssh://, the
 * scp-like user@host:path, and local repositories (tests, mirrors). */
static int parse_repo_url(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	struct config_repo_url u = { .kind = CONFIG_REPO_SSH, .port = 22 };
	const char *host = NULL, *rest, *slash, *at, *colon;
	size_t hostlen = 0;

	if (!*val || strlen(val) > 1000 || has_ctl_or_space(val))
		return ERR_INVALID;
	if (strncmp(val, "file:///", 8) == 0 || val[0] == '/') {
		u.kind = CONFIG_REPO_LOCAL;
	} else if (strncmp(val, "ssh://", 6) == 0) {
		rest = val + 6;
		slash = strchr(rest, '/');
		if (!slash || !slash[1])
			return ERR_INVALID;
		at = memchr(rest, '@', (size_t)(slash - rest));
		if (at)
			rest = at + 1;
		if (split_hostport(&host, &hostlen, &u.port, rest, (size_t)(slash - rest), false))
			return ERR_INVALID;
	} else if ((at = strchr(val, '@')) && (colon = strchr(at, ':')) && colon[1] &&
		   !strstr(val, "://")) {
		host = at + 1;
		hostlen = (size_t)(colon - host);
		if (at == val)
			return ERR_INVALID;
	} else {
		return ERR_INVALID;
	}
	if (u.kind == CONFIG_REPO_SSH && !host_valid(host, hostlen))
		return ERR_INVALID;
	u.url = xstrndup(val, strlen(val));
	if (host)
		u.host = xstrndup(host, hostlen);
	if (!u.url || (host && !u.host)) {
		release_repo_url(&u);
		return ERR_NOMEM;
	}
	release_repo_url(dst);
	*(struct config_repo_url *)dst = u;
	return 0;
}

static bool ipv6_valid(const char *h, size_t n)
{
	unsigned char bin[16];
	char addr[64];

	if (n >= sizeof(addr))
		return false;
	memcpy(addr, h, n);
	addr[n] = '\0';
	return inet_pton(AF_INET6, addr, bin) == 1;
}

/* localhost, ::1 or a numeric 127.0.0.0/8 address (not a name that merely
 * starts with "127."). */
static bool is_loopback(const char *h, size_t n)
{
	static const char *const names[] = { "localhost", "::1" };
	unsigned char bin[4];
	char addr[16];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (n == strlen(names[i]) && strncasecmp(h, names[i], n) == 0)
			return true;
	if (n >= sizeof(addr))
		return false;
	memcpy(addr, h, n);
	addr[n] = '\0';
	return inet_pton(AF_INET, addr, bin) == 1 && bin[0] == 127;
}

static void release_registry_url(void *dst)
{
	struct config_registry_url *u = dst;

	free(u->url);
	u->url = NULL;
}

static int parse_registry_url(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	struct config_registry_url *u = dst;
	const char *rest, *host;
	size_t n, hostlen;
	uint16_t port;
	bool tls;

	if (strncmp(val, "https://", 8) == 0)
		tls = true, rest = val + 8;
	else if (strncmp(val, "http://", 7) == 0)
		tls = false, rest = val + 7;
	else
		return ERR_INVALID;
	n = strlen(rest);
	if (n && rest[n - 1] == '/')
		n--;
	if (has_ctl_or_space(rest) || memchr(rest, '/', n) || memchr(rest, '@', n) ||
	    split_hostport(&host, &hostlen, &port, rest, n, false))
		return ERR_INVALID;
	if (host == rest ? !host_valid(host, hostlen) : !ipv6_valid(host, hostlen))
		return ERR_INVALID;
	if (!tls && !is_loopback(host, hostlen)) {
		why(c, "http:// is accepted only for a loopback %s (127.0.0.1, ::1, localhost); use https://",
		    k->sect == SEC_ARGOCD ? "Argo CD" : "registry");
		return ERR_INVALID;
	}
	free(u->url);
	u->url = xstrndup(val, (size_t)(rest - val) + n);
	u->tls = tls;
	return u->url ? 0 : ERR_NOMEM;
}

/* One path component of an OCI repository name:
 * [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*  */
static bool oci_component_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t run = 0;

		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			i++, run++;
		if (!run)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
		if (i == n)
			return false;
	}
	return false;
}

static bool oci_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 200)
		return false;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (!oci_component_valid(s, n))
			return false;
		if (!e)
			return true;
		s = e + 1;
		if (!*s)
			return false;
	}
	return false;
}

static int parse_namespace(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	if (!oci_name_valid(val))
		return ERR_INVALID;
	return set_str(dst, val, strlen(val));
}

static int parse_image(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	if (!oci_name_valid(val))
		return ERR_INVALID;
	return list_add(dst, val, CONFIG_MAX_IMAGES, c);
}

/* Dotted keys; one whole key may be the wildcard: "{image}" (the image's
 * name, layout.h) or "*", its older spelling.  A component cannot hold a dot
 * (there is no escape), whitespace, or a wildcard inside other text. */
static bool tag_path_valid(const char *s, size_t *wildcards, struct load_ctx *c)
{
	size_t comps = 0;

	*wildcards = 0;
	if (!*s || strlen(s) > 255 || has_ctl_or_space(s))
		return false;
	while (*s) {
		const char *e = strchr(s, '.');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		bool brace = n == 7 && memcmp(s, "{image}", 7) == 0;

		if (n == 0 || (memchr(s, '*', n) && n != 1) || ++comps > 32)
			return false;
		if (!brace && (memchr(s, '{', n) || memchr(s, '}', n))) {
			why(c, "'{image}' only as a whole key");
			return false;
		}
		*wildcards += brace || (n == 1 && s[0] == '*');
		if (!e)
			return true;
		s = e + 1;
		if (!*s)
			return false;
	}
	return false;
}

static int parse_tag_path(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	size_t wild;

	if (!tag_path_valid(val, &wild, c))
		return ERR_INVALID;
	if (wild > 1) {
		why(c, "at most one wildcard ('*' or {image}) per path");
		return ERR_INVALID;
	}
	return list_add(dst, val, CONFIG_MAX_TAGPATHS, c);
}

/* [image "NAME"] tagPath: one concrete path, kept in c->imgs until the
 * configured images are known (resolve_images). */
static int parse_image_path(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	char **out = dst;
	size_t wild;

	if (!tag_path_valid(val, &wild, c))
		return ERR_INVALID;
	if (wild) {
		why(c, "an [image] tagPath names one scalar: no '*' or {image}");
		return ERR_INVALID;
	}
	return set_str(out, val, strlen(val));
}

/* A tz database name, read later from the system zoneinfo directory: no
 * absolute path and no "..", so it cannot name another file. */
static int parse_tz(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	const char *p;

	if (!*val || strlen(val) > 64 || val[0] == '/' || strstr(val, ".."))
		return ERR_INVALID;
	for (p = val; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return ERR_INVALID;
	if (p[-1] == '/' || strstr(val, "//"))
		return ERR_INVALID;
	return set_str(dst, val, strlen(val));
}

static int parse_clock_time(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	char hh[3], mm[3];
	uint32_t h, m;

	if (strlen(val) != 5 || val[2] != ':')
		return ERR_INVALID;
	memcpy(hh, val, 2);
	memcpy(mm, val + 3, 2);
	hh[2] = mm[2] = '\0';
	if (parse_u32(&h, hh, 0, 23) || parse_u32(&m, mm, 0, 59))
		return ERR_INVALID;
	*(int *)dst = (int)(h * 60 + m);
	return 0;
}

static void release_listen(void *dst)
{
	struct config_listen *l = dst;

	free(l->host);
	l->host = NULL;
}

static int parse_listen(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	struct config_listen *l = dst;
	const char *host;
	size_t hostlen;
	uint16_t port = 0;
	char addr[64];
	unsigned char bin[16];
	bool v6;

	if (split_hostport(&host, &hostlen, &port, val, strlen(val), true) ||
	    hostlen >= sizeof(addr))
		return ERR_INVALID;
	v6 = host != val;
	memcpy(addr, host, hostlen);
	addr[hostlen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return ERR_INVALID;
	free(l->host);
	l->host = xstrndup(addr, hostlen);
	l->port = port;
	return l->host ? 0 : ERR_NOMEM;
}

/* An HTTP header field name (RFC 9110 token). */
/* A Kubernetes object name (RFC 1123 subdomain): an Argo CD Application
 * or AppProject. */
static int parse_k8s_name(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	size_t n = strlen(val);

	(void)k;
	(void)c;
	if (!n || n > 253 || val[0] == '.' || val[0] == '-' || val[n - 1] == '.' ||
	    val[n - 1] == '-')
		return ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (!((val[i] >= 'a' && val[i] <= 'z') || (val[i] >= '0' && val[i] <= '9') ||
		      val[i] == '-' || val[i] == '.'))
			return ERR_INVALID;
	free(*(char **)dst);
	*(char **)dst = xstrndup(val, n);
	return *(char **)dst ? 0 : ERR_NOMEM;
}

static int parse_header_name(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	const char *p;

	if (!*val || strlen(val) > 64)
		return ERR_INVALID;
	for (p = val; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("!#$%&'*+-.^_`|~", *p)))
			return ERR_INVALID;
	return set_str(dst, val, strlen(val));
}

/* A Host header value: a DNS name or IPv4 literal, or [IPv6], with an
 * optional :port; compared without case. */
static int parse_allowed_host(void *dst, const char *val, const struct key *k,
			      struct load_ctx *c)
{
	const char *host;
	size_t hostlen, n = strlen(val);
	uint16_t port;
	char v6[64];
	struct in6_addr a6;

	if (split_hostport(&host, &hostlen, &port, val, n, false))
		return ERR_INVALID;
	if (val[0] == '[') {
		if (hostlen >= sizeof(v6))
			return ERR_INVALID;
		memcpy(v6, host, hostlen);
		v6[hostlen] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return ERR_INVALID;
	} else if (!host_valid(host, hostlen)) {
		return ERR_INVALID;
	}
	return list_add(dst, val, CONFIG_MAX_ALLOWED_HOSTS, c);
}

static void release_identity(void *dst)
{
	struct config_identity *id = dst;

	free(id->name);
	free(id->email);
	id->name = id->email = NULL;
}

/* "Name <email>", as git writes a committer. */
static int parse_identity(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	struct config_identity id = { NULL, NULL };
	const char *lt = strchr(val, '<'), *gt = strchr(val, '>');
	size_t nlen;

	if (!lt || !gt || gt < lt || gt[1] || strchr(lt + 1, '<') || strchr(gt + 1, '>') ||
	    strlen(val) > 200)
		return ERR_INVALID;
	nlen = (size_t)(lt - val);
	while (nlen && val[nlen - 1] == ' ')
		nlen--;
	if (!nlen || gt == lt + 1)
		return ERR_INVALID;
	for (const char *p = val; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || (p > lt && p < gt && *p == ' '))
			return ERR_INVALID;
	id.name = xstrndup(val, nlen);
	id.email = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	if (!id.name || !id.email) {
		release_identity(&id);
		return ERR_NOMEM;
	}
	release_identity(dst);
	*(struct config_identity *)dst = id;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so a date needs no timezone or libc call. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int parse_since(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct config_since *s = dst;
	char y[5], m[3], d[3];
	uint32_t yy, mm, dd;

	if (tag_is_sha1(val, strlen(val))) {
		memset(s, 0, sizeof(*s));
		s->set = s->is_commit = true;
		memcpy(s->commit, val, 40);
		return 0;
	}
	if (strlen(val) != 10 || val[4] != '-' || val[7] != '-')
		return ERR_INVALID;
	memcpy(y, val, 4), y[4] = '\0';
	memcpy(m, val + 5, 2), m[2] = '\0';
	memcpy(d, val + 8, 2), d[2] = '\0';
	if (parse_u32(&yy, y, 1970, 9999) || parse_u32(&mm, m, 1, 12) ||
	    parse_u32(&dd, d, 1, mdays[mm - 1]))
		return ERR_INVALID;
	if (mm == 2 && dd == 29 && !(yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)))
		return ERR_INVALID;
	memset(s, 0, sizeof(*s));
	s->set = true;
	s->time = days_from_civil(yy, mm, dd) * 86400;
	return 0;
}

static int parse_enum(int *dst, const char *val, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(val, names[i]) == 0) {
			*dst = (int)i;
			return 0;
		}
	return ERR_INVALID;
}

static int parse_mode(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	static const char *const names[] = { [CONFIG_MODE_GIT] = "git", [CONFIG_MODE_TAGS] = "tags" };
	int v;

	if (parse_enum(&v, val, names, ARRAY_SIZE(names)))
		return ERR_INVALID;
	*(enum config_registry_mode *)dst = (enum config_registry_mode)v;
	return 0;
}

/* issue 14 item 4: "allow" or "deny", into a bool (allow = true) */
static int parse_allow(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	static const char *const names[] = { "deny", "allow" };
	int v;

	if (parse_enum(&v, val, names, ARRAY_SIZE(names)))
		return ERR_INVALID;
	*(bool *)dst = v == 1;
	return 0;
}

static int parse_log_level(void *dst, const char *val, const struct key *k, struct load_ctx *c)
{
	return log_level_parse(dst, val) ? ERR_INVALID : 0;
}

static const struct type T_BOOL = { parse_boolean, release_none, "expected true or false" };
static const struct type T_DURATION = { parse_duration, release_none,
	"expected a duration like 30s, 5m or 1h30m" };
static const struct type T_COUNT = { parse_count, release_none, "expected a whole number" };
static const struct type T_PATH = { parse_path, release_str, "expected a file path" };
static const struct type T_ABSDIR = { parse_abs_dir, release_str,
	"expected an absolute directory path" };
static const struct type T_REPOPATH = { parse_repo_path, release_str,
	"expected a relative path inside the repository (no leading '/', '.' or '..')" };
static const struct type T_BRANCH = { parse_branch, release_str,
	"expected a branch name like main" };
static const struct type T_REPOURL = { parse_repo_url, release_repo_url,
	"expected ssh://[user@]host[:port]/path, user@host:path or a local path" };
static const struct type T_REGURL = { parse_registry_url, release_registry_url,
	"expected https://host[:port]" };
static const struct type T_ARGOURL = { parse_registry_url, release_registry_url,
	"expected https://host[:port]" };
static const struct type T_K8SNAME = { parse_k8s_name, release_str,
	"expected a Kubernetes name like stonks-beta (lowercase letters, digits, '-', '.')" };
static const struct type T_NAMESPACE = { parse_namespace, release_str,
	"expected a registry path like owner/project (lowercase)" };
static const struct type T_IMAGE = { parse_image, release_list,
	"expected an image name like query-api (lowercase)" };
static const struct type T_TAGPATH = { parse_tag_path, release_list,
	"expected dotted keys like services.*.image.tag ('*' only as a whole key)" };
static const struct type T_IMAGEPATH = { parse_image_path, release_none,
	"expected dotted keys like backend.dashboard.image.tag" };
static const struct type T_TZ = { parse_tz, release_str,
	"expected a time zone name like America/New_York" };
static const struct type T_CLOCK = { parse_clock_time, release_none,
	"expected a 24-hour time HH:MM" };
static const struct type T_LISTEN = { parse_listen, release_listen,
	"expected ADDRESS:PORT like 127.0.0.1:8780 or [::1]:8780" };
static const struct type T_HEADER = { parse_header_name, release_str,
	"expected an HTTP header name like X-Remote-User" };
static const struct type T_HOSTNAME = { parse_allowed_host, release_list,
	"expected a host name or address with an optional port, like dash.example.com, "
	"localhost:8780 or [::1]:8780" };
static const struct type T_IDENTITY = { parse_identity, release_identity,
	"expected Name <email>" };
static const struct type T_SINCE = { parse_since, release_none,
	"expected a full 40-hex commit id or a date YYYY-MM-DD" };
static const struct type T_MODE = { parse_mode, release_none, "expected git or tags" };
static const struct type T_ALLOW = { parse_allow, release_none, "expected allow or deny" };
static const struct type T_LOGLEVEL = { parse_log_level, release_none,
	"expected error, warning, notice, info or debug" };

#define G(f) offsetof(struct config, f)
#define S(f) offsetof(struct config_stage, f)
#define SEC 1000
#define MIN (60 * SEC)
#define DAY (1440LL * MIN)

/* The key table: every key pipelines.conf accepts (keep the comments in the
 * shipped pipelines.conf in step with it). */
static const struct key keys[] = {
	{ SEC_REPOSITORY, "url", &T_REPOURL, G(repository.url), K_REQUIRED, NULL, 0, 0 },
	{ SEC_REPOSITORY, "branch", &T_BRANCH, G(repository.branch), 0, "main", 0, 0 },
	{ SEC_REPOSITORY, "sshKey", &T_PATH, G(repository.ssh_key), K_FILE, NULL, 0, 0 },
	{ SEC_REPOSITORY, "knownHosts", &T_PATH, G(repository.known_hosts), K_FILE, NULL, 0, 0 },
	{ SEC_REPOSITORY, "valuesDir", &T_REPOPATH, G(repository.values_dir), 0, "values", 0, 0 },
	{ SEC_REPOSITORY, "deadline", &T_DURATION, G(repository.deadline_ms), 0, "60s", SEC, 3600 * SEC },
	/* issue 14 item 1: the freeze file, a path in the repository */
	{ SEC_REPOSITORY, "freezes", &T_REPOPATH, G(repository.freezes), 0, NULL, 0, 0 },

	{ SEC_REGISTRY, "url", &T_REGURL, G(registry.url), 0, "https://ghcr.io", 0, 0 },
	{ SEC_REGISTRY, "namespace", &T_NAMESPACE, G(registry.namespace), K_REQUIRED, NULL, 0, 0 },
	{ SEC_REGISTRY, "image", &T_IMAGE, G(registry.images), K_REPEAT,
	  "scheduler symbol-registry ingestion parser extractor aggregation recommendation "
	  "risk broker-adapter lake-publisher query-api trading-engine dashboard superset", 0, 0 },
	{ SEC_REGISTRY, "credentials", &T_PATH, G(registry.credentials), K_FILE, NULL, 0, 0 },
	{ SEC_REGISTRY, "caFile", &T_PATH, G(registry.ca_file), K_FILE, NULL, 0, 0 },
	{ SEC_REGISTRY, "pollInterval", &T_DURATION, G(registry.poll_interval_ms), 0, "30s", SEC, DAY },
	{ SEC_REGISTRY, "mode", &T_MODE, G(registry.mode), 0, "git", 0, 0 },
	{ SEC_REGISTRY, "requestBudget", &T_COUNT, G(registry.request_budget), 0, "600", 1, 100000 },
	{ SEC_REGISTRY, "maxPages", &T_COUNT, G(registry.max_pages), 0, "50", 1, 1000 },
	{ SEC_REGISTRY, "timeout", &T_DURATION, G(registry.timeout_ms), 0, "30s", SEC, 10 * MIN },

	{ SEC_MARKET, "timezone", &T_TZ, G(market.timezone), 0, "America/New_York", 0, 0 },
	{ SEC_MARKET, "open", &T_CLOCK, G(market.open_min), 0, "09:30", 0, 0 },
	{ SEC_MARKET, "close", &T_CLOCK, G(market.close_min), 0, "16:00", 0, 0 },
	{ SEC_MARKET, "calendar", &T_PATH, G(market.calendar), 0, NULL, 0, 0 },

	{ SEC_STAGE, "enabled", &T_BOOL, S(enabled), 0, "true", 0, 0 },
	{ SEC_STAGE, "values", &T_REPOPATH, S(values), K_DEPLOY, NULL, 0, 0 },
	{ SEC_STAGE, "tagPath", &T_TAGPATH, S(tag_paths), K_DEPLOY | K_REPEAT, NULL, 0, 0 },
	{ SEC_STAGE, "auto", &T_BOOL, S(auto_promote), K_DEPLOY, "false", 0, 0 },
	{ SEC_STAGE, "marketGated", &T_BOOL, S(market_gated), K_DEPLOY, "false", 0, 0 },
	{ SEC_STAGE, "requireNotes", &T_BOOL, S(require_notes), K_DEPLOY, "false", 0, 0 },
	{ SEC_STAGE, "requireSignature", &T_BOOL, S(require_signature), K_DEPLOY, "false", 0, 0 },
	{ SEC_STAGE, "signers", &T_PATH, S(signers), K_DEPLOY | K_FILE, NULL, 0, 0 },
	{ SEC_STAGE, "queue", &T_BOOL, S(queue), K_DEPLOY, "true", 0, 0 },
	{ SEC_STAGE, "digest", &T_BOOL, S(digest), K_DEPLOY, "false", 0, 0 },
	{ SEC_STAGE, "application", &T_K8SNAME, S(application), K_DEPLOY, NULL, 0, 0 },
	{ SEC_STAGE, "requireSourceDeployed", &T_BOOL, S(require_source_deployed), K_DEPLOY,
	  "false", 0, 0 },
	{ SEC_STAGE, "soak", &T_DURATION, S(soak_ms), K_DEPLOY, "0s", 0, 7 * DAY },
	{ SEC_STAGE, "quietBefore", &T_DURATION, S(quiet_before_ms), K_DEPLOY, "0s", 0, 360 * MIN },
	{ SEC_STAGE, "quietAfter", &T_DURATION, S(quiet_after_ms), K_DEPLOY, "0s", 0, 360 * MIN },
	/* issue 14 item 3: the two-person rule */
	{ SEC_STAGE, "approvals", &T_COUNT, S(approvals), K_DEPLOY, "0", 0, 8 },
	{ SEC_STAGE, "rollbackDuringMarket", &T_ALLOW, S(rollback_during_market), K_DEPLOY,
	  "deny", 0, 0 },

	{ SEC_HTTP, "listen", &T_LISTEN, G(http.listen), 0, "127.0.0.1:8780", 0, 0 },
	{ SEC_HTTP, "users", &T_PATH, G(http.users), K_FILE, NULL, 0, 0 },
	{ SEC_HTTP, "webhookSecret", &T_PATH, G(http.webhook_secret), K_FILE, NULL, 0, 0 },
	/* issue 14 item 3: the key the daemon signs dashboard approvals with */
	{ SEC_HTTP, "approvalKey", &T_PATH, G(http.approval_key), K_FILE, NULL, 0, 0 },
	{ SEC_HTTP, "trustedProxyHeader", &T_HEADER, G(http.trusted_proxy_header), 0, NULL, 0, 0 },
	{ SEC_HTTP, "allowedHosts", &T_HOSTNAME, G(http.allowed_hosts), K_REPEAT, NULL, 0, 0 },

	{ SEC_DAEMON, "stateDir", &T_ABSDIR, G(daemon.state_dir), 0, "/var/lib/pipelined", 0, 0 },
	{ SEC_DAEMON, "logLevel", &T_LOGLEVEL, G(daemon.log_level), 0, "info", 0, 0 },
	{ SEC_DAEMON, "identity", &T_IDENTITY, G(daemon.identity), 0,
	  "pipelined <pipelined@localhost>", 0, 0 },

	{ SEC_AUDIT, "since", &T_SINCE, G(audit.since), 0, NULL, 0, 0 },

	{ SEC_ARGOCD, "url", &T_ARGOURL, G(argocd.url), 0, NULL, 0, 0 },
	{ SEC_ARGOCD, "token", &T_PATH, G(argocd.token), K_FILE, NULL, 0, 0 },
	{ SEC_ARGOCD, "caFile", &T_PATH, G(argocd.ca_file), K_FILE, NULL, 0, 0 },
	{ SEC_ARGOCD, "project", &T_K8SNAME, G(argocd.project), 0, NULL, 0, 0 },
	{ SEC_ARGOCD, "deadline", &T_DURATION, G(argocd.deadline_ms), 0, "30s", SEC, 10 * MIN },

	/* Request branches tracked at once (engine_admit.c); the hard bound
	 * of max is the engine's table, ENGINE_MAX_REQUESTS. */
	{ SEC_REQUESTS, "max", &T_COUNT, G(requests.max), 0, "256", 1, 1024 },
	{ SEC_REQUESTS, "perAuthor", &T_COUNT, G(requests.per_author), 0, "32", 1, 1024 },
	{ SEC_REQUESTS, "expireRefused", &T_DURATION, G(requests.expire_refused_ms), 0, "7d", 0,
	  366 * DAY },

	/* Stored per image in registry.image_tag_paths (resolve_images). */
	{ SEC_IMAGE, "tagPath", &T_IMAGEPATH, G(registry.image_tag_paths), K_IMAGE, NULL, 0, 0 },
};

_Static_assert(ARRAY_SIZE(keys) <= MAX_KEYS, "raise MAX_KEYS");

/* Per-stage defaults that differ from the table's (SPEC 5). */
static const struct {
	enum stage stage;
	const char *key;
	const char *val;
} stage_defaults[] = {
	{ STAGE_BETA, "auto", "true" },
	{ STAGE_PAPER, "marketGated", "true" },
	{ STAGE_LIVE, "marketGated", "true" },
	{ STAGE_LIVE, "requireNotes", "true" },
};

static void *slot(struct config *cfg, const struct key *k, int stage)
{
	if (k->sect == SEC_STAGE)
		return (char *)&cfg->stages[stage] + k->off;
	return (char *)cfg + k->off;
}

static const struct key *key_find(enum section s, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].sect == s && strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static size_t key_index(const struct key *k)
{
	return (size_t)(k - keys);
}

/* --- defaults and release ------------------------------------------------ */

static int apply_default(struct config *cfg, const struct key *k, int stage, const char *def,
			 struct load_ctx *c)
{
	void *dst = slot(cfg, k, stage);
	const char *p = def;
	char one[64];

	if (!(k->flags & K_REPEAT))
		return k->type->parse(dst, def, k, c);
	while (*p) {
		size_t n = strcspn(p, " ");
		int rc;

		if (n >= sizeof(one))
			return ERR_INVALID;
		memcpy(one, p, n);
		one[n] = '\0';
		if ((rc = k->type->parse(dst, one, k, c)))
			return rc;
		p += n;
		p += *p == ' ';
	}
	return 0;
}

static int apply_defaults(struct config *cfg, struct load_ctx *c)
{
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int nstages = keys[i].sect == SEC_STAGE ? STAGE_COUNT : 1;

		if (!keys[i].def)
			continue;
		for (int s = 0; s < nstages; s++)
			if ((rc = apply_default(cfg, &keys[i], s, keys[i].def, c)))
				return rc;
	}
	for (size_t i = 0; i < ARRAY_SIZE(stage_defaults); i++) {
		const struct key *k = key_find(SEC_STAGE, stage_defaults[i].key);

		if ((rc = apply_default(cfg, k, stage_defaults[i].stage, stage_defaults[i].val, c)))
			return rc;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	/* Before the table's release empties registry.images. */
	for (size_t i = 0; cfg->registry.image_tag_paths && i < cfg->registry.images.n; i++)
		free(cfg->registry.image_tag_paths[i]);
	free(cfg->registry.image_tag_paths);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int nstages = keys[i].sect == SEC_STAGE ? STAGE_COUNT : 1;

		for (int s = 0; s < nstages; s++)
			keys[i].type->release(slot(cfg, &keys[i], s));
	}
	for (int s = 0; s < STAGE_COUNT; s++)
		free(cfg->stages[s].values_path);
	free(cfg->path);
	free(cfg);
}

/* --- entries ------------------------------------------------------------- */

static int hdr_line_of(struct load_ctx *c, const char *section, const char *sub)
{
	const struct config_scan_header *h = config_scan_find_header(&c->scan, section, sub);

	return h ? h->line : 0;
}

/* Levenshtein distance, capped: enough to say "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[40], cur[40];

	if (la >= 40 || lb >= 40)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static void unknown_key(struct load_ctx *c, int line, enum section s, const char *shown_name,
			const char *name)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t d;

		if (keys[i].sect != s || (d = edit_distance(name, keys[i].name)) >= bestd)
			continue;
		best = keys[i].name;
		bestd = d;
	}
	if (best)
		add_error(c, line, "unknown key '%s'; did you mean '%s'?", shown_name, best);
	else
		add_error(c, line, "unknown key '%s'", shown_name);
}

/* One section error per header, however many keys follow it. */
static bool first_report(struct load_ctx *c, int hdr_line)
{
	if (hdr_line && c->reported_hdr == hdr_line)
		return false;
	c->reported_hdr = hdr_line;
	return true;
}

struct entry_name {
	char section[64];
	char sub[256];
	bool has_sub;
	char key[64];
	char display[400];	/* section[.sub].key, sub as written */
};

static int split_name(struct entry_name *n, const char *name)
{
	const char *dot1 = strchr(name, '.'), *dotl = strrchr(name, '.');
	size_t slen, sublen;

	if (!dot1)
		return ERR_INVALID;
	slen = (size_t)(dot1 - name);
	if (slen >= sizeof(n->section) || strlen(dotl + 1) >= sizeof(n->key))
		return ERR_TOOBIG;
	memcpy(n->section, name, slen);
	n->section[slen] = '\0';
	strlcpy_(n->key, dotl + 1, sizeof(n->key));
	n->has_sub = dot1 != dotl;
	sublen = n->has_sub ? (size_t)(dotl - dot1 - 1) : 0;
	if (sublen >= sizeof(n->sub))
		return ERR_TOOBIG;
	memcpy(n->sub, dot1 + 1, sublen);
	n->sub[sublen] = '\0';
	return 0;
}

/* Finds the section and stage of an entry; reports and returns -1 when the
 * entry is in no section pipelined knows. */
static int locate(enum section *sec, int *stage, struct load_ctx *c, const struct entry_name *n,
		  int line, int hdr)
{
	char sv[96];
	enum stage st;
	int s;

	for (s = 0; s < SEC_COUNT; s++)
		if (strcmp(n->section, section_names[s]) == 0)
			break;
	if (s == SEC_COUNT) {
		if (first_report(c, hdr))
			add_error(c, hdr ? hdr : line, "unknown section '%s'",
				  shown(sv, sizeof(sv), n->section));
		return -1;
	}
	*sec = (enum section)s;
	*stage = SLOT_GLOBAL;
	if (s == SEC_STAGE && !n->has_sub) {
		if (first_report(c, hdr))
			add_error(c, hdr ? hdr : line,
				  "section 'stage' needs a stage name, like [stage \"beta\"]");
		return -1;
	}
	if (s == SEC_IMAGE && !n->has_sub) {
		if (first_report(c, hdr))
			add_error(c, hdr ? hdr : line,
				  "section 'image' needs an image name, like [image \"dashboard\"]");
		return -1;
	}
	if (s != SEC_STAGE && s != SEC_IMAGE && n->has_sub) {
		if (first_report(c, hdr))
			add_error(c, hdr ? hdr : line, "section '%s' takes no name, found \"%s\"",
				  section_names[s], shown(sv, sizeof(sv), n->sub));
		return -1;
	}
	if (s == SEC_STAGE) {
		if (stage_parse(&st, n->sub)) {
			if (first_report(c, hdr))
				add_error(c, hdr ? hdr : line,
					  "unknown stage '%s' (expected ci, integration-test, beta, paper or live)",
					  shown(sv, sizeof(sv), n->sub));
			return -1;
		}
		*stage = (int)st;
	}
	return 0;
}

static void record_file(struct load_ctx *c, const struct key *k, int stage, int line,
			const char *raw)
{
	struct file_ref *f;
	void *dst = slot(c->cfg, k, stage == SLOT_GLOBAL ? 0 : stage);

	if (c->nfiles == c->capfiles) {
		size_t cap = c->capfiles ? c->capfiles * 2 : 8;

		if (!(f = realloc(c->files, cap * sizeof(*f)))) {
			c->nomem = true;
			return;
		}
		c->files = f;
		c->capfiles = cap;
	}
	f = &c->files[c->nfiles];
	f->key = k;
	f->stage = stage;
	f->line = line;
	f->raw = xstrndup(raw, strlen(raw));
	f->path = xstrndup(*(char **)dst, strlen(*(char **)dst));
	if (!f->raw || !f->path) {
		free(f->raw);
		free(f->path);
		c->nomem = true;
		return;
	}
	c->nfiles++;
}

static void entry_apply(struct load_ctx *c, const struct key *k, int stage, const char *display,
			const char *val, int line)
{
	int *seen = &c->seen[key_index(k)][stage];
	void *dst = slot(c->cfg, k, stage == SLOT_GLOBAL ? 0 : stage);
	char sv[96];
	int rc;

	if (*seen && !(k->flags & K_REPEAT)) {
		add_error(c, line, "'%s' is set more than once (first on line %d)", display, *seen);
		return;
	}
	/* The first explicit value of a list replaces the default list. */
	if (!*seen && (k->flags & K_REPEAT))
		k->type->release(dst);
	if (!*seen)
		*seen = line;
	if (!val && k->type != &T_BOOL) {
		add_error(c, line, "'%s' has no value (write %s = VALUE)", display, k->name);
		return;
	}
	c->why[0] = '\0';
	rc = k->type->parse(dst, val, k, c);
	if (rc == ERR_NOMEM) {
		c->nomem = true;
		return;
	}
	if (rc) {
		add_error(c, line, "bad value '%s' for '%s': %s", shown(sv, sizeof(sv), val ? val : ""),
			  display, c->why[0] ? c->why : k->type->form);
		return;
	}
	/* every path names a file the daemon reads: the calendar too, which is
	 * no secret (so not K_FILE) but can hang a reader all the same */
	if (k->type == &T_PATH)
		record_file(c, k, stage, line, val);
}

/* An [image "NAME"] key: one value per name, checked against the images
 * once all entries are in (resolve_images). */
static void entry_image(struct load_ctx *c, const struct key *k, const char *image,
			const char *display, const char *val, int line)
{
	struct image_ref *r;
	char *path = NULL, sv[96];
	int rc;

	for (size_t i = 0; i < c->nimgs; i++)
		if (strcmp(c->imgs[i].name, image) == 0) {
			add_error(c, line, "'%s' is set more than once (first on line %d)", display,
				  c->imgs[i].line);
			return;
		}
	if (!val) {
		add_error(c, line, "'%s' has no value (write %s = VALUE)", display, k->name);
		return;
	}
	c->why[0] = '\0';
	rc = k->type->parse(&path, val, k, c);
	if (rc == ERR_NOMEM) {
		c->nomem = true;
		return;
	}
	if (rc) {
		add_error(c, line, "bad value '%s' for '%s': %s", shown(sv, sizeof(sv), val),
			  display, c->why[0] ? c->why : k->type->form);
		return;
	}
	if (c->nimgs == c->capimgs) {
		size_t cap = c->capimgs ? c->capimgs * 2 : 8;

		if (!(r = realloc(c->imgs, cap * sizeof(*r)))) {
			free(path);
			c->nomem = true;
			return;
		}
		c->imgs = r;
		c->capimgs = cap;
	}
	r = &c->imgs[c->nimgs];
	r->name = xstrndup(image, strlen(image));
	r->path = path;
	r->line = line;
	if (!r->name) {
		free(path);
		c->nomem = true;
		return;
	}
	c->nimgs++;
}

static void entry_check(struct load_ctx *c, const char *name, const char *val, int line, int hdr)
{
	struct entry_name n;
	const struct key *k;
	enum section sec;
	int stage, rc;
	char sv[96];

	rc = split_name(&n, name);
	if (rc == ERR_INVALID) {
		add_error(c, line, "key '%s' is outside any section", shown(sv, sizeof(sv), name));
		return;
	}
	if (rc) {
		/* Longer than any name pipelined knows. */
		if (strcspn(name, ".") >= sizeof(n.section)) {
			if (first_report(c, hdr))
				add_error(c, hdr ? hdr : line, "unknown section '%.*s...'", 60, name);
		}
		else
			add_error(c, line, "unknown key '%s'", shown(sv, sizeof(sv), name));
		return;
	}
	if (locate(&sec, &stage, c, &n, line, hdr))
		return;
	if (sec == SEC_STAGE || sec == SEC_IMAGE)
		snprintf(n.display, sizeof(n.display), "%s.%s.", section_names[sec], n.sub);
	else
		snprintf(n.display, sizeof(n.display), "%s.", n.section);
	k = key_find(sec, n.key);
	if (!k) {
		strlcpy_(n.display + strlen(n.display), shown(sv, sizeof(sv), n.key),
			 sizeof(n.display) - strlen(n.display));
		unknown_key(c, line, sec, n.display, n.key);
		return;
	}
	strlcpy_(n.display + strlen(n.display), k->name, sizeof(n.display) - strlen(n.display));
	if ((k->flags & K_DEPLOY) && !stage_is_deploy((enum stage)stage)) {
		add_error(c, line, "key '%s' does not apply to evidence stage '%s' (only 'enabled' does)",
			  k->name, stage_name((enum stage)stage));
		return;
	}
	if (k->flags & K_IMAGE)
		entry_image(c, k, n.sub, n.display, val, line);
	else
		entry_apply(c, k, stage, n.display, val, line);
}

/* --- cross-key checks ---------------------------------------------------- */

static int seen_line(struct load_ctx *c, enum section s, const char *name, int stage)
{
	return c->seen[key_index(key_find(s, name))][stage];
}

/* Where a missing key is reported: its section's header, or the last line of
 * the file when the section is missing altogether. */
static int missing_line(struct load_ctx *c, const char *section, const char *sub)
{
	int h = hdr_line_of(c, section, sub);

	return h ? h : c->last_line;
}

static void check_required(struct load_ctx *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *sec = section_names[keys[i].sect];

		if (!(keys[i].flags & K_REQUIRED) || c->seen[i][SLOT_GLOBAL])
			continue;
		if (hdr_line_of(c, sec, NULL))
			add_error(c, missing_line(c, sec, NULL), "missing required key '%s.%s'",
				  sec, keys[i].name);
		else
			add_error(c, c->last_line, "missing required key '%s.%s' (no [%s] section)",
				  sec, keys[i].name, sec);
	}
}

/* Each [image "NAME"] must name a configured image; its path goes to
 * registry.image_tag_paths, in the order of registry.images. */
static void resolve_images(struct load_ctx *c)
{
	struct config *cfg = c->cfg;
	char sv[96];

	if (!c->nimgs)
		return;
	cfg->registry.image_tag_paths = calloc(cfg->registry.images.n ? cfg->registry.images.n : 1,
					       sizeof(char *));
	if (!cfg->registry.image_tag_paths) {
		c->nomem = true;
		return;
	}
	for (size_t r = 0; r < c->nimgs; r++) {
		size_t i;

		for (i = 0; i < cfg->registry.images.n; i++)
			if (strcmp(cfg->registry.images.v[i], c->imgs[r].name) == 0)
				break;
		if (i == cfg->registry.images.n) {
			add_error(c, c->imgs[r].line,
				  "[image \"%s\"] is not a configured image (add it to registry.image, "
				  "or remove the section)", shown(sv, sizeof(sv), c->imgs[r].name));
			continue;
		}
		cfg->registry.image_tag_paths[i] = c->imgs[r].path;
		c->imgs[r].path = NULL;
	}
}

/* True when every image has its own [image] tagPath: then a stage needs
 * no tagPath of its own. */
static bool all_images_placed(const struct config *cfg)
{
	if (!cfg->registry.image_tag_paths)
		return false;
	for (size_t i = 0; i < cfg->registry.images.n; i++)
		if (!cfg->registry.image_tag_paths[i])
			return false;
	return true;
}

static void check_stage(struct load_ctx *c, enum stage s)
{
	struct config_stage *st = &c->cfg->stages[s];
	const char *name = stage_name(s);
	int line = missing_line(c, "stage", name);
	struct buf p = BUF_INIT;

	if (st->values) {
		if (buf_printf(&p, "%s/%s", c->cfg->repository.values_dir, st->values)) {
			c->nomem = true;
			return;
		}
		st->values_path = buf_detach(&p, NULL);
	}
	if (!stage_is_deploy(s) || !st->enabled)
		return;
	/* A key that was given but bad has its own error already. */
	if (!seen_line(c, SEC_STAGE, "values", s))
		add_error(c, line, "stage '%s' is enabled but has no 'values' file "
			  "(set values and tagPath in [stage \"%s\"], or enabled = false)", name, name);
	if (!seen_line(c, SEC_STAGE, "tagPath", s) && !all_images_placed(c->cfg))
		add_error(c, line, "stage '%s' is enabled but has no 'tagPath' "
			  "(set values and tagPath in [stage \"%s\"], or enabled = false)", name, name);
	if (st->require_signature && !st->signers)
		add_error(c, seen_line(c, SEC_STAGE, "requireSignature", s),
			  "stage '%s' requires signatures but has no 'signers' file", name);
	/* an approval counts only when the approver is not the author, and
	 * only a verified signature on the request says who the author is */
	if (st->approvals > 0 && (!st->signers || !st->require_signature))
		add_error(c, seen_line(c, SEC_STAGE, "approvals", s),
			  "stage '%s' requires %u approval(s), which are judged by SSH signatures: "
			  "set 'signers' (the allowed-signers file) and 'requireSignature = true' "
			  "(the request's signature says who its author is)", name, st->approvals);
	for (int o = STAGE_BETA; o < (int)s && st->values_path; o++)
		if (c->cfg->stages[o].enabled && c->cfg->stages[o].values_path &&
		    strcmp(c->cfg->stages[o].values_path, st->values_path) == 0)
			add_error(c, seen_line(c, SEC_STAGE, "values", s),
				  "stage '%s' uses the same values file as stage '%s'",
				  name, stage_name((enum stage)o));
}

/* [argocd] is optional; once there, it needs its url and token.  A
 * stage's application means nothing without it. */
static void check_argocd(struct load_ctx *c)
{
	struct config *cfg = c->cfg;
	int hdr = hdr_line_of(c, "argocd", NULL);
	static const char *const needed[] = { "url", "token" };

	cfg->argocd.enabled = hdr != 0;
	for (size_t i = 0; hdr && i < ARRAY_SIZE(needed); i++)
		if (!seen_line(c, SEC_ARGOCD, needed[i], SLOT_GLOBAL))
			add_error(c, hdr, "missing required key 'argocd.%s' (the [argocd] section "
				  "needs url and token)", needed[i]);
	for (int s = 0; !hdr && s < STAGE_COUNT; s++) {
		int l = seen_line(c, SEC_STAGE, "application", s);

		if (l)
			add_error(c, l, "stage '%s' names an Argo CD application but there is no "
				  "[argocd] section (add url and token there, or remove it)",
				  stage_name((enum stage)s));
	}
}

/* The source-stage gates (issue 13 item 6) judge the source stage by its
 * Argo CD Application: without [argocd], or when the source (the nearest
 * enabled stage before, see policy.h) has no Application, they could only
 * ever refuse. */
static void check_source_gates(struct load_ctx *c)
{
	struct config *cfg = c->cfg;

	for (int s = STAGE_BETA; s < STAGE_COUNT; s++) {
		const struct config_stage *st = &cfg->stages[s];
		const char *name = stage_name((enum stage)s);
		int l = seen_line(c, SEC_STAGE, "requireSourceDeployed", s);
		int src = s - 1;

		if (st->soak_ms && !st->require_source_deployed)
			add_error(c, seen_line(c, SEC_STAGE, "soak", s), "stage '%s' has a 'soak' "
				  "but not 'requireSourceDeployed = true' (the soak is the time its "
				  "source must have run a release deployed)", name);
		if (!st->require_source_deployed || !st->enabled)
			continue;
		while (src >= 0 && !cfg->stages[src].enabled)
			src--;
		if (src < STAGE_BETA)
			add_error(c, l, "stage '%s' requires its source stage to run the release "
				  "deployed, but its source is %s, which Argo CD does not deploy "
				  "(enable a deploy stage before it)", name,
				  src < 0 ? "ci" : stage_name((enum stage)src));
		else if (!cfg->argocd.enabled)
			add_error(c, l, "stage '%s' requires its source stage to run the release "
				  "deployed, which needs an [argocd] section", name);
		else if (!cfg->stages[src].application)
			add_error(c, l, "stage '%s' requires its source stage to run the release "
				  "deployed, but stage '%s' has no 'application'", name,
				  stage_name((enum stage)src));
	}
}

/* The freeze file (issue 14 item 1) is not a values file: a promotion
 * rewrites those, and a freeze must change only by its own commits. */
static void check_freezes(struct load_ctx *c)
{
	const char *f = c->cfg->repository.freezes;

	for (int s = STAGE_BETA; f && s < STAGE_COUNT; s++)
		if (c->cfg->stages[s].values_path && strcmp(c->cfg->stages[s].values_path, f) == 0)
			add_error(c, seen_line(c, SEC_REPOSITORY, "freezes", SLOT_GLOBAL),
				  "'repository.freezes' names the values file of stage '%s'; "
				  "give the freezes a file of their own (e.g. freezes.yaml)",
				  stage_name((enum stage)s));
}

static void check_cross(struct load_ctx *c)
{
	struct config *cfg = c->cfg;
	int url_line = seen_line(c, SEC_REPOSITORY, "url", SLOT_GLOBAL);

	check_required(c);
	resolve_images(c);
	for (int s = 0; s < STAGE_COUNT; s++)
		check_stage(c, (enum stage)s);
	check_freezes(c);
	if (cfg->repository.url.url && cfg->repository.url.kind == CONFIG_REPO_SSH) {
		if (!cfg->repository.ssh_key)
			add_error(c, url_line, "an ssh url needs 'repository.sshKey' (the deploy key)");
		if (!cfg->repository.known_hosts)
			add_error(c, url_line,
				  "an ssh url needs 'repository.knownHosts' (the pinned host keys)");
	}
	check_argocd(c);
	check_source_gates(c);
	for (int s = STAGE_BETA; s < STAGE_COUNT; s++) {
		static const char *const band[] = { "quietBefore", "quietAfter" };
		const struct config_stage *st = &cfg->stages[s];
		uint64_t v[2] = { st->quiet_before_ms, st->quiet_after_ms };

		for (int i = 0; i < 2; i++)
			if (v[i] && !st->market_gated)
				add_error(c, seen_line(c, SEC_STAGE, band[i], s), "stage '%s' has "
					  "'%s' but is not market-gated (the guard bands widen the "
					  "market window; set marketGated = true)",
					  stage_name((enum stage)s), band[i]);
		/* issue 14 item 4: an allowance that could never be used */
		if (st->rollback_during_market && !st->market_gated)
			add_error(c, seen_line(c, SEC_STAGE, "rollbackDuringMarket", s), "stage '%s' "
				  "has 'rollbackDuringMarket = allow' but is not market-gated "
				  "(nothing to allow; set marketGated = true or remove it)",
				  stage_name((enum stage)s));
	}
	if (cfg->requests.per_author > cfg->requests.max)
		add_error(c, seen_line(c, SEC_REQUESTS, "perAuthor", SLOT_GLOBAL) ?
			  seen_line(c, SEC_REQUESTS, "perAuthor", SLOT_GLOBAL) :
			  seen_line(c, SEC_REQUESTS, "max", SLOT_GLOBAL),
			  "requests.perAuthor (%u) is more than requests.max (%u): one author "
			  "could never hold that many", (unsigned)cfg->requests.per_author,
			  (unsigned)cfg->requests.max);
	if (cfg->market.open_min >= cfg->market.close_min) {
		int l = seen_line(c, SEC_MARKET, "close", SLOT_GLOBAL);

		add_error(c, l ? l : seen_line(c, SEC_MARKET, "open", SLOT_GLOBAL),
			  "market 'open' must be before 'close'");
	}
}

/* The bound each reader puts on the file it reads, so that -n refuses what
 * the daemon would refuse at startup. */
static size_t file_max(const struct key *k)
{
	static const struct {
		const char *key;
		size_t max;
	} limits[] = {
		{ "sshKey", 64 * 1024 },		/* gitops_net.c, load_key() */
		{ "knownHosts", 1024 * 1024 },		/* gitops_net.c, private_home() */
		{ "credentials", 4096 },		/* registry.c, CREDS_MAX */
		{ "caFile", 4 * 1024 * 1024 },		/* read by libcurl */
		{ "calendar", CAL_FILE_MAX },
		{ "signers", 1024 * 1024 },		/* sigverify.c, SV_SIGNERS_MAX */
		{ "users", AUTH_USERS_FILE_MAX },
		{ "webhookSecret", WEBHOOK_SECRET_MAX + 2 },	/* with a CRLF */
		{ "approvalKey", 64 * 1024 },		/* like sshKey */
	};

	for (size_t i = 0; i < ARRAY_SIZE(limits); i++)
		if (strcmp(k->name, limits[i].key) == 0)
			return limits[i].max;
	return CONFIG_MAX_BYTES;
}

static void check_files(struct load_ctx *c)
{
	char msg[128], sv[96];

	for (size_t i = 0; i < c->nfiles; i++) {
		const struct file_ref *f = &c->files[i];

		msg[0] = '\0';
		if (!c->io.check || c->io.check(c->io.arg, f->path, file_max(f->key),
						msg, sizeof(msg)) == 0)
			continue;
		if (f->stage == SLOT_GLOBAL)
			add_error(c, f->line, "cannot read '%s.%s' file '%s': %s",
				  section_names[f->key->sect], f->key->name,
				  shown(sv, sizeof(sv), f->raw), msg);
		else
			add_error(c, f->line, "cannot read 'stage.%s.%s' file '%s': %s",
				  stage_name((enum stage)f->stage), f->key->name,
				  shown(sv, sizeof(sv), f->raw), msg);
	}
}

/* Issue 14 item 3: the dashboard signs approvals with [http] approvalKey;
 * they count only if its key is an allowed signer of every stage that
 * takes approvals.  Its fingerprint and, per stage, its principals are
 * kept for the self-approval check before anything is signed. */
static void check_approval_key(struct load_ctx *c)
{
	struct config *cfg = c->cfg;
	int kl = seen_line(c, SEC_HTTP, "approvalKey", SLOT_GLOBAL);
	struct buf key = BUF_INIT;
	bool encrypted = false;
	unsigned mode = 0;
	char sv[96], msg[160];

	if (!cfg->http.approval_key)
		return;
	msg[0] = '\0';
	if (!c->io.read ||
	    c->io.read(c->io.arg, &key, cfg->http.approval_key, 64 * 1024, msg, sizeof msg) ||
	    gitssh_private_key_fp(cfg->http.approval_key_fp, &encrypted,
				  key.data ? key.data : "", key.len)) {
		add_error(c, kl, "http.approvalKey '%s' is not an OpenSSH private key (make one "
			  "with: ssh-keygen -t ed25519 -N '' -f FILE)",
			  shown(sv, sizeof(sv), cfg->http.approval_key));
		goto out;
	}
	/* ssh-keygen refuses to sign with a key of its own user that others
	 * may read, with a banner rather than a reason: say it here */
	if (c->io.open_to_others &&
	    c->io.open_to_others(c->io.arg, cfg->http.approval_key, &mode)) {
		add_error(c, kl, "http.approvalKey '%s' can be read by others (mode %04o), so "
			  "ssh-keygen refuses to sign with it: chmod 600 it",
			  shown(sv, sizeof(sv), cfg->http.approval_key), mode);
		goto out;
	}
	if (encrypted) {
		add_error(c, kl, "http.approvalKey '%s' is protected by a passphrase, which the "
			  "daemon cannot type (remove it: ssh-keygen -p -N '' -f FILE, and keep "
			  "the file readable by the daemon only)",
			  shown(sv, sizeof(sv), cfg->http.approval_key));
		goto out;
	}
	for (int s = 0; s < STAGE_COUNT; s++) {
		struct config_stage *st = &cfg->stages[s];
		struct buf sig = BUF_INIT;
		int line = 0, rc;

		if (!st->enabled || !st->approvals || !st->signers)
			continue;
		rc = c->io.read ? c->io.read(c->io.arg, &sig, st->signers, 1024 * 1024, msg,
					     sizeof msg) : ERR_NOTFOUND;
		if (rc == 0)
			rc = gitssh_signers_principals(st->approval_principals,
						       sizeof st->approval_principals, &line,
						       sig.data ? sig.data : "", sig.len,
						       cfg->http.approval_key_fp);
		buf_release(&sig);
		if (rc == ERR_NOTFOUND)
			add_error(c, kl, "http.approvalKey's key (%s) is not an allowed signer of "
				  "stage '%s' (signers file '%s'): dashboard approvals would never "
				  "count; add a line 'PRINCIPAL namespaces=\"git\" <the key's .pub>' "
				  "to that file",
				  cfg->http.approval_key_fp, stage_name((enum stage)s),
				  shown(sv, sizeof(sv), st->signers));
		else if (rc)
			add_error(c, kl, "http.approvalKey: cannot read the signers file '%s' "
				  "of stage '%s'", shown(sv, sizeof(sv), st->signers),
				  stage_name((enum stage)s));
	}
out:
	if (key.data)
		explicit_bzero(key.data, key.len);
	buf_release(&key);
}

/* --- includes ------------------------------------------------------------ */

/* libgit2 reads every include.path (and includeIf.*.path) while it parses,
 * with a blocking open and no bound, and follows the includes of included
 * files: a FIFO there would hang `pipelined -n` before any error is shown.
 * So each include target is checked here first, resolved as libgit2 does
 * (relative to the including file's directory, "~/" from $HOME), down to
 * libgit2's depth limit.  A missing target is fine: libgit2 skips it. */
#define INCLUDE_DEPTH_MAX 10

static int include_path(struct buf *out, const struct load_ctx *c, const char *from,
			const char *val)
{
	const char *slash = strrchr(from, '/');
	const char *home = c->io.home;

	if (val[0] == '~' && val[1] == '/')
		return buf_printf(out, "%s%s", home ? home : "", val + 1);
	if (val[0] == '/')
		return buf_adds(out, val);
	if (!slash)
		return buf_printf(out, "./%s", val);
	return buf_printf(out, "%.*s/%s", (int)(slash == from ? 1 : slash - from),
			  from, val);
}

/* Check the includes of one scanned file; line is where our own file
 * includes the chain (0: this is our file, use each variable's line). */
static bool includes_ok(struct load_ctx *c, const struct config_scan *scan, const char *from,
			int depth, int line)
{
	char msg[128], sv[96], sv2[96];
	bool ok = true;

	for (size_t i = 0; i < scan->nvars; i++) {
		const struct config_scan_var *v = &scan->vars[i];
		int at = line ? line : v->line;
		struct buf path = BUF_INIT, data = BUF_INIT;
		struct config_scan sub;
		int rc;

		if (!config_scan_is_include(v->name) || !v->value || !*v->value)
			continue;
		if (include_path(&path, c, from, v->value)) {
			c->nomem = true;
			return false;
		}
		msg[0] = '\0';
		rc = depth >= INCLUDE_DEPTH_MAX ? ERR_TOOBIG :
		     !c->io.read ? ERR_NOTFOUND :
		     c->io.read(c->io.arg, &data, path.data, CONFIG_MAX_BYTES, msg, sizeof(msg));
		if (rc && rc != ERR_NOTFOUND) {
			if (depth >= INCLUDE_DEPTH_MAX)
				snprintf(msg, sizeof(msg), "includes nested more than %d deep",
					 INCLUDE_DEPTH_MAX);
			if (depth)
				add_error(c, at, "cannot read included file '%s' (included from "
					  "'%s'): %s", shown(sv, sizeof(sv), path.data),
					  shown(sv2, sizeof(sv2), from), msg);
			else
				add_error(c, at, "cannot read included file '%s': %s",
					  shown(sv, sizeof(sv), path.data), msg);
			ok = false;
		} else if (rc == 0) {
			if (config_scan_run(&sub, data.data ? data.data : "", data.len))
				c->nomem = true;
			else if (sub.nul_line || sub.error_line) {
				add_error(c, at, "in included file: %s (in %s:%d)",
					  sub.nul_line ? "NUL byte in the file" : sub.error,
					  shown(sv, sizeof(sv), path.data),
					  sub.nul_line ? sub.nul_line : sub.error_line);
				ok = false;
			} else if (!includes_ok(c, &sub, path.data, depth + 1, at))
				ok = false;
			config_scan_release(&sub);
		}
		buf_release(&data);
		buf_release(&path);
	}
	return ok;
}

/* --- entries ------------------------------------------------------------- */

/* Every variable of the file, in file order, or its first syntax error
 * alone (git config refuses the whole file then, and so do we). */
static void load_entries(struct load_ctx *c)
{
	if (c->scan.error_line) {
		c->parse_failed = true;
		add_error(c, c->scan.error_line, "%s", c->scan.error);
		return;
	}
	for (size_t i = 0; i < c->scan.nvars; i++) {
		const struct config_scan_var *v = &c->scan.vars[i];

		entry_check(c, v->name, v->value, v->line, v->header_line);
	}
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return NULL;
	return xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
}

int config_parse(struct config **out, const char *path, const char *data, size_t len,
		 const struct config_io *io, struct buf *errors)
{
	struct load_ctx c;
	char *dir = dir_of(path);
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.file = path;
	c.dir = dir;
	if (io)
		c.io = *io;
	c.cfg = calloc(1, sizeof(*c.cfg));
	if (!c.cfg || (strchr(path, '/') && !dir) || !(c.cfg->path = xstrndup(path, strlen(path)))) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (apply_defaults(c.cfg, &c)) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (config_scan_run(&c.scan, data ? data : "", data ? len : 0) == ERR_NOMEM)
		c.nomem = true;
	c.last_line = c.scan.last_line;
	if (c.scan.nul_line)
		add_error(&c, c.scan.nul_line, "NUL byte in the file");
	else if (!includes_ok(&c, &c.scan, c.file, 0, 0))
		c.parse_failed = true;
	else
		load_entries(&c);
	/* After a syntax error there are no entries to cross-check. */
	if (!c.parse_failed && !c.scan.nul_line) {
		check_cross(&c);
		check_files(&c);
		if (!c.nerrs)
			check_approval_key(&c);
	}
out:
	if (c.nomem)
		rc = ERR_NOMEM;
	else if (c.nerrs && !rc)
		rc = ERR_INVALID;
	else if (rc && rc != ERR_NOMEM)
		rc = ERR_INVALID;
	flush_errors(&c, errors);
	for (size_t i = 0; i < c.nfiles; i++) {
		free(c.files[i].raw);
		free(c.files[i].path);
	}
	free(c.files);
	for (size_t i = 0; i < c.nimgs; i++) {
		free(c.imgs[i].name);
		free(c.imgs[i].path);
	}
	free(c.imgs);
	config_scan_release(&c.scan);
	free(dir);
	if (rc)
		config_free(c.cfg);
	else
		*out = c.cfg;
	return rc;
}
