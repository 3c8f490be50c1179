/* gitssh.c - see gitssh.h */
#include "gitssh.h"
#include "util.h"

#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int host_copy(struct gitssh_url *u, const char *h, size_t n)
{
	if (n == 0 || n >= sizeof u->host)
		return ERR_INVALID;
	memcpy(u->host, h, n);
	u->host[n] = '\0';
	return 0;
}

/* host[:port] or [v6][:port], ending at the first '/' after it. */
static int parse_ssh_authority(struct gitssh_url *u, const char *s)
{
	const char *at, *slash = strchr(s, '/'), *end, *colon = NULL;
	char port[8];
	uint32_t p;

	if (!slash)
		return ERR_INVALID;
	at = memchr(s, '@', (size_t)(slash - s));
	if (at)
		s = at + 1;
	if (*s == '[') {
		end = memchr(s, ']', (size_t)(slash - s));
		if (!end || host_copy(u, s + 1, (size_t)(end - s - 1)))
			return ERR_INVALID;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end + 1 != slash)
			return ERR_INVALID;
	} else {
		colon = memchr(s, ':', (size_t)(slash - s));
		if (host_copy(u, s, (size_t)((colon ? colon : slash) - s)))
			return ERR_INVALID;
	}
	u->port = 22;
	if (!colon)
		return 0;
	if ((size_t)(slash - colon - 1) >= sizeof port)
		return ERR_INVALID;
	memcpy(port, colon + 1, (size_t)(slash - colon - 1));
	port[slash - colon - 1] = '\0';
	if (parse_u32(&p, port, 1, 65535))
		return ERR_INVALID;
	u->port = (int)p;
	return 0;
}

int gitssh_url_parse(struct gitssh_url *out, const char *url)
{
	struct gitssh_url u;
	const char *colon, *slash;

	memset(&u, 0, sizeof u);
	if (!url || !*url)
		return ERR_INVALID;
	if (!strncmp(url, "ssh://", 6) || !strncmp(url, "git+ssh://", 10)) {
		u.ssh = true;
		if (parse_ssh_authority(&u, strchr(url, ':') + 3))
			return ERR_INVALID;
	} else if (!strncmp(url, "file://", 7) || url[0] == '/' || url[0] == '.') {
		u.ssh = false;
	} else if (strstr(url, "://")) {
		return ERR_INVALID;
	} else {
		/* scp-like: a colon before any slash (git's rule) */
		colon = strchr(url, ':');
		slash = strchr(url, '/');
		if (!colon || (slash && slash < colon))
			return ERR_INVALID;
		const char *host = strchr(url, '@');
		host = host && host < colon ? host + 1 : url;
		if (host_copy(&u, host, (size_t)(colon - host)))
			return ERR_INVALID;
		u.ssh = true;
		u.port = 22;
	}
	*out = u;
	return 0;
}

void gitssh_known_host_name(char *out, size_t outsz, const struct gitssh_url *u)
{
	if (u->port == 22)
		snprintf(out, outsz, "%s", u->host);
	else
		snprintf(out, outsz, "[%s]:%d", u->host, u->port);
}

static int b64_val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decodes base64 text, skipping whitespace, stopping at '=' or '-'. */
static size_t b64_decode(unsigned char *out, size_t outsz, const char *s, size_t len)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t n = 0, i;

	for (i = 0; i < len && s[i] != '=' && s[i] != '-'; i++) {
		if (s[i] == '\n' || s[i] == '\r' || s[i] == ' ')
			continue;
		if ((v = b64_val((unsigned char)s[i])) < 0)
			return 0;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outsz)
				return 0;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/* SSH wire "string": 4-byte big-endian length, then bytes. */
static int ssh_string(const unsigned char **p, size_t *left, const unsigned char **s, size_t *n)
{
	uint32_t len;

	if (*left < 4)
		return ERR_INVALID;
	len = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
	if (len > *left - 4)
		return ERR_INVALID;
	*s = *p + 4;
	*n = len;
	*p += 4 + len;
	*left -= 4 + len;
	return 0;
}

static int openssh_key_type(char *out, size_t outsz, const char *body, size_t len)
{
	static const char magic[] = "openssh-key-v1";
	unsigned char raw[16384];
	const unsigned char *p = raw, *s, *t;
	size_t n = b64_decode(raw, sizeof raw, body, len), left, sn, tn;
	int i;

	if (n < sizeof magic || memcmp(raw, magic, sizeof magic))
		return ERR_INVALID;
	p += sizeof magic;
	left = n - sizeof magic;
	for (i = 0; i < 3; i++)		/* cipher, kdf, kdf options */
		if (ssh_string(&p, &left, &s, &sn))
			return ERR_INVALID;
	if (left < 4)
		return ERR_INVALID;
	p += 4;				/* number of keys */
	left -= 4;
	if (ssh_string(&p, &left, &s, &sn))	/* first public key blob */
		return ERR_INVALID;
	if (ssh_string(&s, &sn, &t, &tn) || tn == 0 || tn >= outsz)
		return ERR_INVALID;
	memcpy(out, t, tn);
	out[tn] = '\0';
	return 0;
}

int gitssh_key_type(char *out, size_t outsz, const char *data, size_t len)
{
	static const struct { const char *begin, *type; } pem[] = {
		{ "-----BEGIN RSA PRIVATE KEY-----", "ssh-rsa" },
		{ "-----BEGIN DSA PRIVATE KEY-----", "ssh-dss" },
		{ "-----BEGIN EC PRIVATE KEY-----", "ecdsa-sha2" },
		{ "-----BEGIN PRIVATE KEY-----", "pkcs8" },
		{ "-----BEGIN ENCRYPTED PRIVATE KEY-----", "pkcs8" },
	};
	static const char openssh[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	size_t i;

	if (len >= sizeof openssh - 1 && !memcmp(data, openssh, sizeof openssh - 1))
		return openssh_key_type(out, outsz, data + sizeof openssh - 1,
					len - (sizeof openssh - 1));
	for (i = 0; i < ARRAY_SIZE(pem); i++) {
		size_t bl = strlen(pem[i].begin);
		if (len >= bl && !memcmp(data, pem[i].begin, bl)) {
			strlcpy_(out, pem[i].type, outsz);
			return 0;
		}
	}
	return ERR_INVALID;
}

void gitssh_fingerprint(char out[60], const unsigned char h[32])
{
	size_t i, o = 7;

	memcpy(out, "SHA256:", 7);
	for (i = 0; i + 3 <= 30; i += 3) {
		out[o++] = b64[h[i] >> 2];
		out[o++] = b64[((h[i] & 3) << 4) | (h[i + 1] >> 4)];
		out[o++] = b64[((h[i + 1] & 15) << 2) | (h[i + 2] >> 6)];
		out[o++] = b64[h[i + 2] & 63];
	}
	out[o++] = b64[h[30] >> 2];
	out[o++] = b64[((h[30] & 3) << 4) | (h[31] >> 4)];
	out[o++] = b64[(h[31] & 15) << 2];
	out[o] = '\0';
}

int gitssh_sig_key(char out[60], const char *sig, size_t len)
{
	static const char begin[] = "-----BEGIN SSH SIGNATURE-----";
	unsigned char raw[16384], h[32];
	const unsigned char *p = raw, *key;
	size_t n, left, keylen;
	const char *body;

	/* the signature as git stores it: the armor first */
	if (len < sizeof begin - 1 || memcmp(sig, begin, sizeof begin - 1) != 0)
		return ERR_INVALID;
	body = sig;
	body += sizeof begin - 1;
	n = b64_decode(raw, sizeof raw, body, len - (size_t)(body - sig));
	/* "SSHSIG", uint32 version, string publickey, ... */
	if (n < 10 || memcmp(raw, "SSHSIG", 6) != 0)
		return ERR_INVALID;
	p += 10;
	left = n - 10;
	if (ssh_string(&p, &left, &key, &keylen) || keylen == 0)
		return ERR_INVALID;
	SHA256(key, keylen, h);
	gitssh_fingerprint(out, h);
	return 0;
}

/* Issue 14 item 3 (the dashboard's approval key). */
int gitssh_private_key_fp(char out[60], bool *encrypted, const char *data, size_t len)
{
	static const char openssh[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";
	unsigned char raw[16384], h[32];
	const unsigned char *p = raw, *s;
	size_t n, left, sn;

	if (len < sizeof openssh - 1 || memcmp(data, openssh, sizeof openssh - 1))
		return ERR_INVALID;
	n = b64_decode(raw, sizeof raw, data + sizeof openssh - 1, len - (sizeof openssh - 1));
	if (n < sizeof magic || memcmp(raw, magic, sizeof magic))
		return ERR_INVALID;
	p += sizeof magic;
	left = n - sizeof magic;
	for (int i = 0; i < 3; i++) {		/* cipher, kdf, kdf options */
		if (ssh_string(&p, &left, &s, &sn))
			return ERR_INVALID;
		if (i == 0)
			*encrypted = !(sn == 4 && memcmp(s, "none", 4) == 0);
	}
	if (left < 4)
		return ERR_INVALID;
	p += 4;
	left -= 4;
	/* the first public key blob, stored in the clear */
	if (ssh_string(&p, &left, &s, &sn) || sn == 0)
		return ERR_INVALID;
	SHA256(s, sn, h);
	gitssh_fingerprint(out, h);
	return 0;
}

/* One whitespace-separated field of an allowed-signers line; double quotes
 * keep blanks inside (principals, namespaces="git"). */
static const char *field(const char *p, const char *end, const char **fend)
{
	bool q = false;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end)
		return NULL;
	*fend = p;
	while (*fend < end && (q || (**fend != ' ' && **fend != '\t'))) {
		if (**fend == '"')
			q = !q;
		(*fend)++;
	}
	return p;
}

static bool key_type_field(const char *f, size_t n)
{
	return (n > 4 && !memcmp(f, "ssh-", 4)) || (n > 6 && !memcmp(f, "ecdsa-", 6)) ||
	       (n > 3 && !memcmp(f, "sk-", 3));
}

int gitssh_signers_principals(char *out, size_t outsz, int *line, const char *signers,
			      size_t len, const char *fp)
{
	const char *p = signers, *end = signers + len;
	int ln = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *f, *fe, *pr, *pre, *prev = NULL;
		size_t prevn = 0;

		eol = eol ? eol : end;
		ln++;
		pr = field(p, eol, &pre);
		if (!pr || *pr == '#' || *pr == '\r') {
			p = eol + 1;
			continue;
		}
		for (const char *q = pre; (f = field(q, eol, &fe)) != NULL; q = fe) {
			unsigned char raw[16384], h[32];
			size_t n;
			char got[60];

			if (prev && key_type_field(prev, prevn) &&
			    (n = b64_decode(raw, sizeof raw, f, (size_t)(fe - f))) > 0) {
				SHA256(raw, n, h);
				gitssh_fingerprint(got, h);
				if (strcmp(got, fp) == 0) {
					size_t pn = (size_t)(pre - pr);

					if (pn >= 2 && pr[0] == '"' && pr[pn - 1] == '"')
						pr++, pn -= 2;
					if (pn >= outsz)
						return ERR_TOOBIG;
					memcpy(out, pr, pn);
					out[pn] = '\0';
					*line = ln;
					return 0;
				}
			}
			prev = f;
			prevn = (size_t)(fe - f);
		}
		p = eol + 1;
	}
	return ERR_NOTFOUND;
}
