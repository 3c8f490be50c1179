/* auth.c - operator authentication, CSRF tokens and the login throttle. */
#include "auth.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- users file ---- */

/* Accepted crypt(3) prefixes.  $2y$ is what htpasswd -B writes; it is the
 * same algorithm as $2b$.  $2a$ and $2x$ carry the old 8-bit bug. */
static const char *const strong_prefixes[] = { "$y$", "$2b$", "$2y$", "$6$" };

static const struct {
	const char *prefix;
	const char *what;
} weak_prefixes[] = {
	{ "$1$", "MD5-crypt" },
	{ "$apr1$", "Apache MD5" },
	{ "$md5", "Sun MD5" },
	{ "$2a$", "legacy bcrypt $2a$" },
	{ "$2x$", "legacy bcrypt $2x$" },
	{ "_", "BSDi DES" },
	{ "{SHA}", "unsalted SHA-1" },
	{ "$3$", "NT hash" },
};

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static const char *bcrypt_cost_refusal(const char *hash)
{
	uint32_t cost;
	char digits[3] = { hash[4], hash[5], '\0' };

	if (parse_u32(&cost, digits, 4, 31) || hash[6] != '$')
		return "malformed bcrypt hash";
	if (cost < AUTH_BCRYPT_MIN_COST)
		return "bcrypt cost below 10 is too cheap: re-hash with htpasswd -nBC 10 NAME";
	return NULL;
}

/* crypt_checksalt accepts a bare setting ("$6$salt"); a users file needs
 * the whole hash, whose checksum length each method fixes. */
static bool hash_complete(const char *hash)
{
	const char *sum = strrchr(hash, '$') + 1;

	if (has_prefix(hash, "$2"))
		return strlen(hash) == 60;
	if (has_prefix(hash, "$6$"))
		return strlen(sum) == 86 && sum - hash > 4;
	return strlen(sum) == 43 && sum - hash > 4;	/* yescrypt */
}

const char *auth_hash_refusal(const char *hash)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(weak_prefixes); i++)
		if (has_prefix(hash, weak_prefixes[i].prefix))
			return weak_prefixes[i].what;
	if (hash[0] != '$')
		return "a traditional DES hash (8-character passwords, no real salt)";
	for (i = 0; i < ARRAY_SIZE(strong_prefixes); i++)
		if (has_prefix(hash, strong_prefixes[i]))
			break;
	if (i == ARRAY_SIZE(strong_prefixes))
		return "unsupported hash method (use yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)";
	if (crypt_checksalt(hash) != CRYPT_SALT_OK || !hash_complete(hash))
		return "malformed hash";
	if (has_prefix(hash, "$2"))
		return bcrypt_cost_refusal(hash);
	return NULL;
}

bool auth_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+-") == n;
}

/* An e-mail for a Requested-By trailer: no spaces, angle brackets or
 * control characters, one '@' with something on both sides. */
static bool email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_EMAIL_MAX || !at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f)
			return false;
	return true;
}

static int parse_line(struct auth_user *u, char *line, const char **why)
{
	char *hash = strchr(line, ':'), *email;

	if (!hash)
		return *why = "expected name:crypt-hash[:email]", ERR_INVALID;
	*hash++ = '\0';
	email = strchr(hash, ':');
	if (email)
		*email++ = '\0';
	if (!auth_name_valid(line))
		return *why = "bad user name (1-64 of A-Z a-z 0-9 . _ @ + -)", ERR_INVALID;
	if (strlen(hash) > AUTH_HASH_MAX)
		return *why = "hash too long", ERR_INVALID;
	if ((*why = auth_hash_refusal(hash)) != NULL)
		return ERR_INVALID;
	if (email && !email_valid(email))
		return *why = "bad e-mail address", ERR_INVALID;
	strlcpy_(u->name, line, sizeof(u->name));
	strlcpy_(u->hash, hash, sizeof(u->hash));
	strlcpy_(u->email, email ? email : "", sizeof(u->email));
	return 0;
}

static int users_add(struct auth_users *u, const struct auth_user *one)
{
	struct auth_user *v = realloc(u->v, (u->n + 1) * sizeof(*v));

	if (!v)
		return ERR_NOMEM;
	u->v = v;
	u->v[u->n++] = *one;
	return 0;
}

/* One line (NUL-terminated, no newline); problems go to errors. */
static int users_line(struct auth_users *u, char *line, const char *file, unsigned lineno,
		      struct buf *errors, bool *bad)
{
	struct auth_user one;
	const char *why = NULL;
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0 || line[0] == '#')
		return 0;
	if (parse_line(&one, line, &why) == 0 && auth_users_find(u, one.name))
		why = "duplicate user name";
	else if (!why && u->n >= AUTH_USERS_MAX)
		why = "too many users";
	if (why) {
		*bad = true;
		return buf_printf(errors, "%s:%u: %s\n", file, lineno, why);
	}
	return users_add(u, &one);
}

int auth_users_parse(struct auth_users *out, const char *file, const char *text, size_t len,
		     struct buf *errors)
{
	struct auth_users u = { NULL, 0 };
	struct buf scratch = BUF_INIT;
	bool bad = false;
	unsigned lineno = 0;
	int rc = 0;

	if (!errors)
		errors = &scratch;
	for (size_t pos = 0; pos < len && rc == 0; ) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		char *line = xstrndup(text + pos, end - pos);

		lineno++;
		if (!line)
			rc = ERR_NOMEM;
		else if (strlen(line) != end - pos) {
			bad = true;
			rc = buf_printf(errors, "%s:%u: NUL byte in line\n", file, lineno);
		} else
			rc = users_line(&u, line, file, lineno, errors, &bad);
		free(line);
		pos = end + 1;
	}
	buf_release(&scratch);
	if (rc == 0 && bad)
		rc = ERR_INVALID;
	if (rc) {
		auth_users_release(&u);
		return rc == ERR_TOOBIG ? ERR_INVALID : rc;
	}
	*out = u;
	return 0;
}

void auth_users_release(struct auth_users *u)
{
	if (!u)
		return;
	if (u->v)
		explicit_bzero(u->v, u->n * sizeof(*u->v));
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct auth_user *auth_users_find(const struct auth_users *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].name, name))
			return &u->v[i];
	return NULL;
}

const char *auth_hash_for(const struct auth_users *u, const char *name, bool *counts)
{
	const struct auth_user *one = auth_users_find(u, name);

	*counts = one != NULL;
	if (one)
		return one->hash;
	return u->n ? u->v[0].hash : NULL;
}

bool auth_password_ok(const char *hash, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	size_t n = strlen(hash);
	bool ok;

	if (!cd)
		return false;
	out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	/* The length of a hash is public (its format fixes it); the bytes are
	 * compared without an early exit. */
	ok = out && out[0] != '*' && strlen(out) == n && ct_equal(out, hash, n);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* ---- addresses and headers ---- */

bool auth_is_loopback(const char *remote)
{
	return has_prefix(remote, "127.") || !strcmp(remote, "::1") ||
	       has_prefix(remote, "::ffff:127.");
}

int auth_basic_parse(char name[AUTH_NAME_MAX + 1], char password[AUTH_PASSWORD_MAX + 1],
		     const char *header)
{
	unsigned char raw[AUTH_NAME_MAX + AUTH_PASSWORD_MAX + 8];
	const char *b64, *colon;
	size_t n, pad = 0;
	int len;

	if (strncasecmp(header, "Basic ", 6))
		return ERR_INVALID;
	b64 = header + 6 + strspn(header + 6, " ");
	n = strlen(b64);
	if (n == 0 || n % 4 || n / 4 * 3 > sizeof(raw) - 1)
		return ERR_INVALID;
	pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (len < 0 || (size_t)len < pad)
		return ERR_INVALID;
	len -= (int)pad;
	raw[len] = '\0';
	colon = memchr(raw, ':', (size_t)len);
	if (!colon || memchr(raw, '\0', (size_t)len) || colon == (const char *)raw ||
	    (size_t)(colon - (const char *)raw) > AUTH_NAME_MAX ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) > AUTH_PASSWORD_MAX)
		return ERR_INVALID;
	memcpy(name, raw, (size_t)(colon - (const char *)raw));
	name[colon - (const char *)raw] = '\0';
	strlcpy_(password, colon + 1, AUTH_PASSWORD_MAX + 1);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* ---- the context ---- */

void auth_release(struct auth *a)
{
	if (!a)
		return;
	auth_users_release(&a->users);
	explicit_bzero(a->key, sizeof(a->key));
	a->have_users = false;
}

bool auth_writes_enabled(const struct auth *a, char *why, size_t whysz)
{
	if (a->proxy_header[0] || (a->have_users && a->users.n))
		return true;
	errmsg_set(why, whysz, a->have_users
		   ? "write actions are disabled: the users file lists no operator"
		   : "write actions are disabled: configure [http] users or [http] "
		     "trustedProxyHeader");
	return false;
}

int auth_proxy_operator(struct auth_operator *out, const struct auth *a, const char *remote,
			const char *header_value, char *why, size_t whysz)
{
	if (!a->proxy_header[0] || !header_value || !auth_is_loopback(remote))
		return 0;
	if (!auth_name_valid(header_value)) {
		errmsg_set(why, whysz, "%s does not hold a valid operator name", a->proxy_header);
		return ERR_INVALID;
	}
	strlcpy_(out->name, header_value, sizeof(out->name));
	snprintf(out->email, sizeof(out->email), "%s@%s", header_value, a->host);
	return 1;
}

void auth_operator_of(struct auth_operator *out, const struct auth *a, const struct auth_user *u)
{
	strlcpy_(out->name, u->name, sizeof(out->name));
	if (u->email[0])
		strlcpy_(out->email, u->email, sizeof(out->email));
	else
		snprintf(out->email, sizeof(out->email), "%s@%s", u->name, a->host);
}

/* ---- CSRF ---- */

static int csrf_mac(char hex[65], const struct auth *a, const char *name, int64_t expiry)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char msg[AUTH_NAME_MAX + 32];
	int n = snprintf(msg, sizeof(msg), "%s\n%lld", name, (long long)expiry);

	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    !HMAC(EVP_sha256(), a->key, (int)sizeof(a->key), (const unsigned char *)msg,
		  (size_t)n, md, &mdlen) || mdlen != 32)
		return ERR_FAIL;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int auth_csrf_issue(char out[AUTH_CSRF_MAX], const struct auth *a, const char *name,
		    int64_t now_s)
{
	char hex[65];
	int64_t expiry = now_s + AUTH_CSRF_TTL_S;

	if (!auth_name_valid(name) || csrf_mac(hex, a, name, expiry))
		return ERR_INVALID;
	snprintf(out, AUTH_CSRF_MAX, "%lld.%s", (long long)expiry, hex);
	return 0;
}

int auth_csrf_check(const struct auth *a, const char *token, const char *name, int64_t now_s)
{
	char digits[24], want[65];
	const char *dot = token ? strchr(token, '.') : NULL;
	int64_t expiry;

	if (!dot || (size_t)(dot - token) >= sizeof(digits) || strlen(dot + 1) != 64 ||
	    !auth_name_valid(name))
		return ERR_INVALID;
	memcpy(digits, token, (size_t)(dot - token));
	digits[dot - token] = '\0';
	if (parse_i64(&expiry, digits, 0, INT64_MAX / 2) || csrf_mac(want, a, name, expiry) ||
	    !ct_equal(want, dot + 1, 64))
		return ERR_INVALID;
	return now_s >= expiry ? ERR_TIMEOUT : 0;
}

/* ---- client address ---- */

/* An IP address, normalised (inet_ntop), from a forwarded node: "192.0.2.1",
 * "192.0.2.1:4711", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:4711",
 * optionally in double quotes.  false for anything else ("unknown",
 * obfuscated identifiers, names). */
static bool node_address(char out[64], const char *s, size_t n)
{
	char tmp[64];
	unsigned char bin[16];
	const char *end;

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		s++, n -= 2;
	if (n && s[0] == '[') {
		if (!(end = memchr(s, ']', n)))
			return false;
		s++;
		n = (size_t)(end - s);
	} else if (memchr(s, '.', n) && (end = memchr(s, ':', n))) {
		n = (size_t)(end - s);		/* IPv4 with a port */
	}
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1)
		return inet_ntop(AF_INET, bin, out, 64) != NULL;
	if (inet_pton(AF_INET6, tmp, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, 64) != NULL;
	return false;
}

/* The for= of the last element of a Forwarded header (RFC 7239). */
static bool forwarded_for(char out[64], const char *h)
{
	const char *el = strrchr(h, ',');
	const char *p = el ? el + 1 : h;

	while (*p) {
		size_t n = strcspn(p, ";");
		size_t lead = strspn(p, " \t");

		if (n > lead + 4 && !strncasecmp(p + lead, "for=", 4))
			return node_address(out, p + lead + 4, n - lead - 4);
		p += n;
		p += *p == ';';
	}
	return false;
}

void auth_client_address(char out[64], const struct auth *a, const char *peer,
			 const char *forwarded, const char *x_forwarded_for)
{
	const char *last;
	bool from_proxy = a->proxy_header[0] && auth_is_loopback(peer);

	if (from_proxy && forwarded && forwarded_for(out, forwarded))
		return;
	if (from_proxy && !forwarded && x_forwarded_for) {
		last = strrchr(x_forwarded_for, ',');
		last = last ? last + 1 : x_forwarded_for;
		if (node_address(out, last, strlen(last)))
			return;
	}
	strlcpy_(out, peer, 64);
}

/* ---- failed-login throttle ---- */

static void fail_key(char key[80], const char *kind, const char *what)
{
	snprintf(key, 80, "%s %s", kind, what);
}

static struct auth_fail_slot *fail_slot(struct auth *a, const char *key, bool make,
					uint64_t now_ms)
{
	struct auth_fail_slot *victim = NULL;

	for (size_t i = 0; i < AUTH_FAIL_SLOTS; i++) {
		struct auth_fail_slot *s = &a->fails[i];
		bool locked = s->until_ms > now_ms, vlocked;

		if (s->key[0] && !strcmp(s->key, key)) {
			if (make)
				s->seq = ++a->fail_seq;
			return s;
		}
		/* Reuse an empty slot, else the least recently touched one
		 * that is not locked out, else the lockout that ends first: an
		 * attacker cycling addresses or names evicts stale counts
		 * before fresh ones, and lockouts last. */
		if (!victim || !s->key[0]) {
			if (!victim || (victim->key[0] && !s->key[0]))
				victim = s;
			continue;
		}
		if (!victim->key[0])
			continue;
		vlocked = victim->until_ms > now_ms;
		if (locked != vlocked ? !locked :
		    locked ? s->until_ms < victim->until_ms : s->seq < victim->seq)
			victim = s;
	}
	if (!make)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	strlcpy_(victim->key, key, sizeof(victim->key));
	victim->first_ms = now_ms;
	victim->seq = ++a->fail_seq;
	return victim;
}

static uint64_t slot_wait(struct auth *a, const char *kind, const char *what, uint64_t now_ms)
{
	char key[80];
	struct auth_fail_slot *s;

	fail_key(key, kind, what);
	s = fail_slot(a, key, false, now_ms);
	return s && s->until_ms > now_ms ? s->until_ms - now_ms : 0;
}

uint64_t auth_throttled(struct auth *a, const char *remote, const char *name, uint64_t now_ms)
{
	uint64_t by_addr = slot_wait(a, "addr", remote, now_ms);
	uint64_t by_name = name ? slot_wait(a, "name", name, now_ms) : 0;

	return by_addr > by_name ? by_addr : by_name;
}

static void slot_record(struct auth *a, const char *kind, const char *what, unsigned limit,
			uint64_t now_ms)
{
	char key[80];
	struct auth_fail_slot *s;

	fail_key(key, kind, what);
	s = fail_slot(a, key, true, now_ms);
	if (now_ms - s->first_ms > AUTH_FAIL_WINDOW_MS) {
		s->first_ms = now_ms;
		s->count = 0;
	}
	if (++s->count >= limit) {
		s->until_ms = now_ms + AUTH_LOCKOUT_MS;
		s->count = 0;
		s->first_ms = now_ms;
	}
}

void auth_fail_record(struct auth *a, const char *remote, const char *name, uint64_t now_ms)
{
	slot_record(a, "addr", remote, AUTH_FAIL_LIMIT_ADDR, now_ms);
	if (name)
		slot_record(a, "name", name, AUTH_FAIL_LIMIT, now_ms);
}

void auth_fail_clear(struct auth *a, const char *remote, const char *name)
{
	char key[80];
	struct auth_fail_slot *s;

	fail_key(key, "addr", remote);
	if ((s = fail_slot(a, key, false, 0)))
		memset(s, 0, sizeof(*s));
	if (!name)
		return;
	fail_key(key, "name", name);
	if ((s = fail_slot(a, key, false, 0)))
		memset(s, 0, sizeof(*s));
}
