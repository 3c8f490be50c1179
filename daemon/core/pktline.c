/* pktline.c - see pktline.h */
#include "pktline.h"
#include "gitssh.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A ref name as the server may send it: printable, no space, bounded. */
static bool name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > PKTLINE_MAX_NAME)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int fail(char *err, size_t errsz, int rc, const char *what, size_t at)
{
	snprintf(err, errsz, "bad ref advertisement from the server: %s (at byte %zu)", what, at);
	return rc;
}

/* One "<id> <name>[\0caps]" payload (newline already dropped). */
static int ref_line(struct pktline_adv *out, const char *data, size_t off, size_t n, bool first,
		    char *err, size_t errsz)
{
	const char *p = data + off, *nul = memchr(p, '\0', n);
	size_t end = nul ? (size_t)(nul - p) : n;

	if (!first && nul)
		return fail(err, errsz, ERR_INVALID, "NUL in a ref line after the first", off);
	if (end < PKTLINE_HEXSZ + 1 || p[PKTLINE_HEXSZ] != ' ' || !lower_hex(p, PKTLINE_HEXSZ))
		return fail(err, errsz, ERR_INVALID, "a ref line is not '<40 hex digits> <name>'",
			    off);
	if (!name_ok(p + PKTLINE_HEXSZ + 1, end - PKTLINE_HEXSZ - 1))
		return fail(err, errsz, ERR_INVALID, "bad ref name (empty, too long, or with "
			    "a space or control character)", off);
	if (first && end - PKTLINE_HEXSZ - 1 == 15 && !memcmp(p + PKTLINE_HEXSZ + 1,
							      "capabilities^{}", 15))
		return 0;	/* an empty repository: no refs */
	if (out->nrefs == PKTLINE_MAX_REFS)
		return fail(err, errsz, ERR_TOOBIG, "more than 4096 refs", off);
	out->refs[out->nrefs].id_off = off;
	out->refs[out->nrefs].name_off = off + PKTLINE_HEXSZ + 1;
	out->refs[out->nrefs].name_len = end - PKTLINE_HEXSZ - 1;
	out->nrefs++;
	return 0;
}

int pktline_adv_parse(struct pktline_adv *out, const char *data, size_t len, char *err,
		      size_t errsz)
{
	size_t off = 0, n, plen;
	bool first = true;
	int rc, i, v;

	out->nrefs = 0;
	out->used = 0;
	out->version = 0;
	if (errsz)
		err[0] = '\0';
	for (;;) {
		if (len - off < 4)
			return PKTLINE_MORE;
		for (plen = 0, i = 0; i < 4; i++) {
			if ((v = hexval(data[off + (size_t)i])) < 0)
				return fail(err, errsz, ERR_INVALID, "pkt-line length is not 4 hex "
					    "digits", off);
			plen = plen * 16 + (size_t)v;
		}
		if (plen == 0) {
			out->used = off + 4;
			return 0;
		}
		if (plen < 4 || plen > PKTLINE_MAX_PKT)
			return fail(err, errsz, ERR_INVALID, plen < 4 ? "a pkt-line length below 4 "
				    "(delim or response-end: protocol v2 is not spoken here)" :
				    "a pkt-line longer than 65520 bytes", off);
		if (len - off < plen)
			return PKTLINE_MORE;
		n = plen - 4;
		if (n && data[off + 4 + n - 1] == '\n')
			n--;
		const char *p = data + off + 4;
		if (n >= 4 && !memcmp(p, "ERR ", 4)) {
			snprintf(err, errsz, "the server says: %.*s", (int)(n - 4 > 400 ? 400 : n - 4),
				 p + 4);
			return ERR_INVALID;
		}
		if (first && out->version == 0 && n == 9 && !memcmp(p, "version 1", 9)) {
			out->version = 1;
		} else if (n >= 8 && !memcmp(p, "version ", 8)) {
			return fail(err, errsz, ERR_INVALID, "the server speaks a protocol version "
				    "other than 0 or 1", off);
		} else if (!first && n == 8 + PKTLINE_HEXSZ && !memcmp(p, "shallow ", 8)) {
			if (!lower_hex(p + 8, PKTLINE_HEXSZ))
				return fail(err, errsz, ERR_INVALID, "bad id in a shallow line", off);
		} else {
			if ((rc = ref_line(out, data, off + 4, n, first, err, errsz)))
				return rc;
			first = false;
		}
		off += plen;
	}
}

/* After "scheme://": the authority ends at the first '/'. */
static const char *ssh_authority(const char *url, const char **slash)
{
	const char *a = strstr(url, "://") + 3;

	*slash = strchr(a, '/');
	return a;
}

static bool is_ssh_scheme(const char *url)
{
	return !strncmp(url, "ssh://", 6) || !strncmp(url, "git+ssh://", 10);
}

int pktline_url_user(char *out, size_t outsz, const char *url)
{
	struct gitssh_url u;
	const char *a, *end, *at;

	if (!url || gitssh_url_parse(&u, url) || !u.ssh)
		return ERR_INVALID;
	if (is_ssh_scheme(url)) {
		a = ssh_authority(url, &end);
	} else {
		a = url;
		end = strchr(url, ':');
	}
	at = end ? memchr(a, '@', (size_t)(end - a)) : NULL;
	if (!at || at == a) {
		a = "git";
		at = a + 3;
	}
	if ((size_t)(at - a) >= outsz)
		return ERR_TOOBIG;
	memcpy(out, a, (size_t)(at - a));
	out[at - a] = '\0';
	return 0;
}

int pktline_upload_pack_cmd(char *out, size_t outsz, const char *url)
{
	static const char cmd[] = "git-upload-pack '";
	struct gitssh_url u;
	const char *path, *slash;
	size_t n = sizeof cmd - 1;

	if (!url || gitssh_url_parse(&u, url) || !u.ssh)
		return ERR_INVALID;
	if (is_ssh_scheme(url)) {
		ssh_authority(url, &slash);
		path = slash;
		if (path && path[0] == '/' && path[1] == '~')
			path++;	/* ssh://host/~user/repo: relative to that home */
	} else {
		path = strchr(url, ':') + 1;
	}
	if (!path || !*path)
		return ERR_INVALID;
	if (outsz < n + 3)
		return ERR_TOOBIG;
	memcpy(out, cmd, n);
	for (; *path; path++) {
		bool special = *path == '\'' || *path == '!';
		size_t need = special ? 4 : 1;

		if (n + need + 2 > outsz)
			return ERR_TOOBIG;
		if (special) {
			out[n++] = '\'';
			out[n++] = '\\';
			out[n++] = *path;
			out[n++] = '\'';
		} else {
			out[n++] = *path;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}
