/* regparse.c - see regparse.h */
#include "regparse.h"
#include "tag.h"
#include "util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bodies we accept are already size-capped by the transport; this keeps a
 * token out of an Authorization header line if it is absurd. */
#define TOKEN_MAX (16 * 1024)

struct cur {
	const char *p;
	const char *end;
};

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token68_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~+/", c) != NULL;
}

static void skip_ows(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static void skip_ows_commas(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == ','))
		c->p++;
}

static size_t read_token(struct cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && is_tchar((unsigned char)*c->p))
		c->p++;
	return (size_t)(c->p - s);
}

static bool at_item_end(struct cur *c)
{
	return c->p == c->end || *c->p == ',';
}

/* token / quoted-string into out (NUL-terminated); out may be NULL to skip. */
static int read_value(struct cur *c, char *out, size_t outsz)
{
	size_t n = 0;

	if (c->p < c->end && *c->p == '"') {
		for (c->p++;; c->p++) {
			unsigned char ch;

			if (c->p == c->end)
				return ERR_INVALID;
			ch = (unsigned char)*c->p;
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (++c->p == c->end)
					return ERR_INVALID;
				ch = (unsigned char)*c->p;
			}
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return ERR_INVALID;
			if (out) {
				if (n + 1 >= outsz)
					return ERR_TOOBIG;
				out[n++] = (char)ch;
			}
		}
		c->p++;
	} else {
		const char *s = c->p;
		size_t tl = read_token(c);

		if (tl == 0)
			return ERR_INVALID;
		if (out) {
			if (tl >= outsz)
				return ERR_TOOBIG;
			memcpy(out, s, tl);
			n = tl;
		}
	}
	if (out)
		out[n] = '\0';
	return 0;
}

static bool tok_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A token68 credential ("Negotiate abc=="): skip it if that is what's next. */
static bool skip_token68(struct cur *c)
{
	struct cur t = *c;

	while (t.p < t.end && is_token68_char((unsigned char)*t.p))
		t.p++;
	if (t.p == c->p)
		return false;
	while (t.p < t.end && *t.p == '=')
		t.p++;
	skip_ows(&t);
	if (!at_item_end(&t))
		return false;
	*c = t;
	return true;
}

#define CHALLENGE_FIELD(f) offsetof(struct reg_challenge, f), sizeof(((struct reg_challenge *)0)->f)

static const struct {
	const char *name;
	size_t off;
	size_t size;
	unsigned bit;
} challenge_params[] = {
	{ "realm", CHALLENGE_FIELD(realm), 1 },
	{ "service", CHALLENGE_FIELD(service), 2 },
	{ "scope", CHALLENGE_FIELD(scope), 4 },
	{ "error", CHALLENGE_FIELD(error), 8 },
};

static int store_param(struct reg_challenge *ch, unsigned *seen, const char *name, size_t nl,
		       struct cur *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(challenge_params); i++) {
		if (!tok_is(name, nl, challenge_params[i].name))
			continue;
		/* RFC 7235: each parameter name occurs only once per challenge */
		if (*seen & challenge_params[i].bit)
			return ERR_INVALID;
		*seen |= challenge_params[i].bit;
		return read_value(c, (char *)ch + challenge_params[i].off, challenge_params[i].size);
	}
	return read_value(c, NULL, 0);
}

/* The parameters after a scheme; stops before the next challenge's scheme. */
static int parse_params(struct cur *c, struct reg_challenge *ch)
{
	unsigned seen = 0;
	bool token68;

	skip_ows(c);
	token68 = skip_token68(c);
	for (;;) {
		const char *name;
		size_t nl;
		int rc;

		skip_ows_commas(c);
		if (c->p == c->end)
			return 0;
		name = c->p;
		nl = read_token(c);
		if (nl == 0)
			return ERR_INVALID;
		skip_ows(c);
		if (c->p == c->end || *c->p != '=') {
			c->p = name;	/* the next challenge's scheme */
			return 0;
		}
		/* a challenge has a token68 or parameters, never both */
		if (token68)
			return ERR_INVALID;
		c->p++;
		skip_ows(c);
		rc = store_param(ch, &seen, name, nl, c);
		if (rc)
			return rc;
		skip_ows(c);
		if (!at_item_end(c))
			return ERR_INVALID;
	}
}

int regparse_challenge(struct reg_challenge *out, const char *hdr, size_t len)
{
	struct cur c = { hdr, hdr + len };
	struct reg_challenge best, cand;
	bool have = false, any = false;

	memset(&best, 0, sizeof(best));
	for (;;) {
		const char *scheme;
		size_t sl;
		int rc;

		skip_ows_commas(&c);
		if (c.p == c.end)
			break;
		scheme = c.p;
		sl = read_token(&c);
		if (sl == 0 || (c.p < c.end && *c.p != ' ' && *c.p != '\t' && *c.p != ','))
			return ERR_INVALID;
		memset(&cand, 0, sizeof(cand));
		if (tok_is(scheme, sl, "Bearer"))
			cand.scheme = REG_AUTH_BEARER;
		else if (tok_is(scheme, sl, "Basic"))
			cand.scheme = REG_AUTH_BASIC;
		rc = parse_params(&c, &cand);
		if (rc)
			return rc;
		any = true;
		if (cand.scheme == REG_AUTH_BEARER && cand.realm[0] &&
		    (!have || best.scheme != REG_AUTH_BEARER)) {
			best = cand;
			have = true;
		} else if (cand.scheme == REG_AUTH_BASIC && !have) {
			best = cand;
			have = true;
		}
	}
	if (!any)
		return ERR_INVALID;
	if (!have)
		return ERR_NOTFOUND;
	*out = best;
	return 0;
}

/* One link-param; sets *next when it is rel with "next" among its types. */
static int link_param(struct cur *c, bool *next)
{
	const char *name = c->p;
	size_t nl = read_token(c);
	char val[256];
	int rc;

	if (nl == 0)
		return ERR_INVALID;
	skip_ows(c);
	if (c->p == c->end || *c->p != '=')
		return 0;
	c->p++;
	skip_ows(c);
	rc = read_value(c, tok_is(name, nl, "rel") ? val : NULL, sizeof(val));
	if (rc == ERR_TOOBIG)
		return 0;	/* an absurd rel is not "next" */
	if (rc || !tok_is(name, nl, "rel"))
		return rc;
	/* rel is a space-separated list of relation types */
	for (char *s = val; *s;) {
		size_t n = strcspn(s, " \t");

		if (tok_is(s, n, "next"))
			*next = true;
		s += n;
		s += strspn(s, " \t");
	}
	return 0;
}

int regparse_link_next(char *out, size_t outsz, const char *hdr, size_t len)
{
	struct cur c = { hdr, hdr + len };

	for (;;) {
		const char *u;
		size_t ul;
		bool next = false;

		skip_ows_commas(&c);
		if (c.p == c.end)
			return ERR_NOTFOUND;
		if (*c.p != '<')
			return ERR_INVALID;
		u = ++c.p;
		while (c.p < c.end && *c.p != '>') {
			unsigned char ch = (unsigned char)*c.p;

			if (ch <= 0x20 || ch == 0x7f || ch == '<')
				return ERR_INVALID;
			c.p++;
		}
		if (c.p == c.end)
			return ERR_INVALID;
		ul = (size_t)(c.p - u);
		c.p++;
		for (;;) {
			int rc;

			skip_ows(&c);
			if (at_item_end(&c))
				break;
			if (*c.p != ';')
				return ERR_INVALID;
			c.p++;
			skip_ows(&c);
			rc = link_param(&c, &next);
			if (rc)
				return rc;
		}
		if (next) {
			if (ul == 0)
				return ERR_INVALID;
			if (ul >= outsz)
				return ERR_TOOBIG;
			memcpy(out, u, ul);
			out[ul] = '\0';
			return 0;
		}
	}
}

static int parse_fixed_digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* IMF-fixdate, the one HTTP-date form senders must use (RFC 9110 5.6.7):
 * "Sun, 06 Nov 1994 08:49:37 GMT". */
static int parse_imf_fixdate(time_t *out, const char *s, size_t n)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int mday, year, hh, mm, ss, mon = -1;
	bool dayok = false;

	if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' ||
	    memcmp(s + 26, "GMT", 3) != 0)
		return ERR_INVALID;
	for (size_t i = 0; i < ARRAY_SIZE(days); i++)
		dayok |= memcmp(s, days[i], 3) == 0;
	for (size_t i = 0; i < ARRAY_SIZE(months); i++)
		if (memcmp(s + 8, months[i], 3) == 0)
			mon = (int)i;
	if (!dayok || mon < 0 || parse_fixed_digits(s + 5, 2, &mday) ||
	    parse_fixed_digits(s + 12, 4, &year) || parse_fixed_digits(s + 17, 2, &hh) ||
	    parse_fixed_digits(s + 20, 2, &mm) || parse_fixed_digits(s + 23, 2, &ss))
		return ERR_INVALID;
	if (mday < 1 || mday > 31 || year < 1970 || hh > 23 || mm > 59 || ss > 60)
		return ERR_INVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = mday;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? ERR_INVALID : 0;
}

int regparse_retry_after(uint64_t *delay_ms, const char *v, time_t now, uint64_t max_ms)
{
	size_t n;
	char num[16];
	int64_t secs;
	time_t when;
	uint64_t ms;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n && v[0] >= '0' && v[0] <= '9') {
		if (n >= sizeof(num))
			secs = INT64_MAX / 1000;	/* huge: clamped below */
		else {
			memcpy(num, v, n);
			num[n] = '\0';
			if (parse_i64(&secs, num, 0, INT64_MAX / 1000))
				return ERR_INVALID;
		}
		ms = (uint64_t)secs * 1000;
	} else {
		if (parse_imf_fixdate(&when, v, n))
			return ERR_INVALID;
		ms = when > now ? (uint64_t)(when - now) * 1000 : 0;
	}
	*delay_ms = ms < max_ms ? ms : max_ms;
	return 0;
}

uint64_t regparse_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t max_ms, uint32_t rnd)
{
	uint64_t d = base_ms;

	if (failures == 0)
		return 0;
	for (unsigned i = 1; i < failures && d < max_ms; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (d > max_ms)
		d = max_ms;
	return d / 2 + rnd % (d / 2 + 1);
}

/* quote: whether jansson's message (which may echo a fragment of the
 * input, e.g. part of a token) may be shown. */
static json_t *load_object_q(const char *json, size_t len, bool quote, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		errmsg_set(err, errsz, "invalid JSON at line %d column %d%s%s", jerr.line,
		       jerr.column, quote ? ": " : "", quote ? jerr.text : "");
		return NULL;
	}
	if (!json_is_object(root)) {
		errmsg_set(err, errsz, "JSON document is not an object");
		json_decref(root);
		return NULL;
	}
	return root;
}

static json_t *load_object(const char *json, size_t len, char *err, size_t errsz)
{
	return load_object_q(json, len, true, err, errsz);
}

static bool token_chars_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return false;
	return true;
}

int regparse_token(char **token, uint64_t *expires_s, const char *json, size_t len,
		   char *err, size_t errsz)
{
	json_t *root = load_object_q(json, len, false, err, errsz), *t, *e;
	const char *s = NULL;
	json_int_t exp = 60;
	int rc = ERR_INVALID;

	if (!root)
		return ERR_INVALID;
	t = json_object_get(root, "token");
	if (!json_is_string(t) || json_string_length(t) == 0)
		t = json_object_get(root, "access_token");
	if (json_is_string(t) && json_string_length(t) > 0)
		s = json_string_value(t);
	e = json_object_get(root, "expires_in");
	if (!s) {
		errmsg_set(err, errsz, "token response has no \"token\" or \"access_token\"");
	} else if (strlen(s) != json_string_length(t) || strlen(s) > TOKEN_MAX ||
		   !token_chars_ok(s)) {
		/* never echo the token itself */
		errmsg_set(err, errsz, "token response holds a malformed token");
	} else if (e && !json_is_integer(e)) {
		errmsg_set(err, errsz, "token response \"expires_in\" is not an integer");
	} else {
		if (e)
			exp = json_integer_value(e);
		/* the distribution token spec: at least 60 seconds */
		if (exp < 60)
			exp = 60;
		if (exp > 86400 * 366)
			exp = 86400 * 366;
		*token = xstrndup(s, strlen(s));
		rc = *token ? 0 : ERR_NOMEM;
		if (!rc)
			*expires_s = (uint64_t)exp;
	}
	json_decref(root);
	return rc;
}

int regparse_tags(size_t *ntags, size_t *nskipped, const char *json, size_t len,
		  regparse_tag_fn *add, void *arg, char *err, size_t errsz)
{
	json_t *root = load_object(json, len, err, errsz), *tags, *v;
	size_t i, n = 0, skipped = 0;
	int rc = 0;

	if (!root)
		return ERR_INVALID;
	tags = json_object_get(root, "tags");
	if (!tags) {
		errmsg_set(err, errsz, "tags/list response has no \"tags\"");
		rc = ERR_INVALID;
	} else if (!json_is_null(tags) && !json_is_array(tags)) {
		errmsg_set(err, errsz, "tags/list \"tags\" is neither an array nor null");
		rc = ERR_INVALID;
	}
	if (!rc && json_is_array(tags)) {
		json_array_foreach(tags, i, v) {
			const char *s = json_string_value(v);

			if (!s || !tag_valid(s, json_string_length(v))) {
				skipped++;
				continue;
			}
			rc = add(arg, s, json_string_length(v));
			if (rc) {
				errmsg_set(err, errsz, "too many tags");
				break;
			}
			n++;
		}
	}
	json_decref(root);
	if (!rc) {
		*ntags = n;
		*nskipped = skipped;
	}
	return rc;
}

bool regparse_digest_valid(const char *s, size_t len)
{
	if (len != 71 || memcmp(s, "sha256:", 7) != 0)
		return false;
	for (size_t i = 7; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "application/json" or "application/json; charset=utf-8" */
static bool media_is_json(const char *mt)
{
	size_t n;

	if (!mt)
		return false;
	n = strcspn(mt, "; \t");
	return tok_is(mt, n, "application/json");
}

static bool media_is_index(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static int layer_from(struct reg_layer *out, json_t *layer, char *err, size_t errsz)
{
	json_t *d = json_object_get(layer, "digest"), *sz = json_object_get(layer, "size");
	const char *ds = json_string_value(d);

	if (!ds || !regparse_digest_valid(ds, json_string_length(d))) {
		errmsg_set(err, errsz, "evidence layer digest is missing or not sha256");
		return ERR_INVALID;
	}
	if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
		errmsg_set(err, errsz, "evidence layer size is missing or negative");
		return ERR_INVALID;
	}
	memcpy(out->digest, ds, 72);
	out->size = (uint64_t)json_integer_value(sz);
	return 0;
}

int regparse_evidence_manifest(struct reg_layer *out, const char *json, size_t len,
			       char *err, size_t errsz)
{
	json_t *root = load_object(json, len, err, errsz), *layers, *v, *found = NULL;
	size_t i, nfound = 0;
	int rc = ERR_INVALID;

	if (!root)
		return ERR_INVALID;
	layers = json_object_get(root, "layers");
	if (media_is_index(json_string_value(json_object_get(root, "mediaType")))) {
		errmsg_set(err, errsz, "evidence manifest is an image index, not an artifact");
		goto out;
	}
	if (!json_is_array(layers)) {
		errmsg_set(err, errsz, "evidence manifest has no \"layers\" array");
		goto out;
	}
	json_array_foreach(layers, i, v) {
		if (media_is_json(json_string_value(json_object_get(v, "mediaType")))) {
			found = v;
			nfound++;
		}
	}
	/* OCI 1.1 artifacts may type the artifact instead of the layer */
	if (nfound == 0 && json_array_size(layers) == 1 &&
	    media_is_json(json_string_value(json_object_get(root, "artifactType")))) {
		found = json_array_get(layers, 0);
		nfound = 1;
	}
	if (nfound != 1) {
		errmsg_set(err, errsz, "evidence manifest has %zu application/json layers, expected 1",
		       nfound);
		goto out;
	}
	rc = layer_from(out, found, err, errsz);
out:
	json_decref(root);
	return rc;
}

static int get_count(int64_t *out, json_t *root, const char *key, char *err, size_t errsz)
{
	json_t *v = json_object_get(root, key);

	*out = -1;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		errmsg_set(err, errsz, "evidence \"%s\" is not a non-negative integer", key);
		return ERR_INVALID;
	}
	*out = json_integer_value(v);
	return 0;
}

/* Names end up in logs and status output: keep them printable. */
static void add_name(struct buf *b, const char *s)
{
	if (b->len)
		buf_adds(b, ", ");
	for (size_t k = 0; s[k] && k < 80; k++)
		buf_addch(b, (unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x7f ? s[k] : '?');
}

static void collect_failures(struct reg_evidence *ev, json_t *root)
{
	json_t *arr = json_object_get(root, "failures"), *v;
	struct buf b;
	size_t i, shown = 0;

	if (!json_is_array(arr))
		arr = json_object_get(root, "failed_tests");
	if (!json_is_array(arr))
		return;
	buf_init(&b, sizeof(ev->failures) - 1);
	json_array_foreach(arr, i, v) {
		const char *s = json_is_object(v) ? json_string_value(json_object_get(v, "name"))
						  : json_string_value(v);

		if (!s || shown == REG_EVIDENCE_FAILURES)
			continue;
		add_name(&b, s);
		shown++;
	}
	if (json_array_size(arr) > shown)
		buf_printf(&b, " (+%zu more)", json_array_size(arr) - shown);
	if (b.data)
		strlcpy_(ev->failures, b.data, sizeof(ev->failures));
	buf_release(&b);
}

int regparse_evidence(struct reg_evidence *out, const char *json, size_t len,
		      char *err, size_t errsz)
{
	json_t *root = load_object(json, len, err, errsz), *ec;
	struct reg_evidence ev;
	int rc = ERR_INVALID;

	if (!root)
		return ERR_INVALID;
	memset(&ev, 0, sizeof(ev));
	ec = json_object_get(root, "exit_code");
	if (!json_is_integer(ec)) {
		errmsg_set(err, errsz, "evidence has no integer \"exit_code\"");
		goto out;
	}
	ev.exit_code = json_integer_value(ec);
	if (get_count(&ev.passed, root, "passed", err, errsz) ||
	    get_count(&ev.failed, root, "failed", err, errsz) ||
	    get_count(&ev.skipped, root, "skipped", err, errsz) ||
	    get_count(&ev.total, root, "total", err, errsz))
		goto out;
	ev.ok = ev.exit_code == 0 && ev.failed <= 0;
	collect_failures(&ev, root);
	*out = ev;
	rc = 0;
out:
	json_decref(root);
	return rc;
}
