/* util.c - see util.h */
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t max = b->max ? b->max : BUF_DEFAULT_MAX;
	size_t need, cap;
	char *p;

	if (extra > max || b->len > max - extra)
		return ERR_TOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > max + 1)
		cap = max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int rc = buf_grow(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return ERR_INVALID;
	rc = buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int array_grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / size)
		return ERR_NOMEM;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return ERR_NOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int parse_i64(int64_t *out, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return ERR_INVALID;
	*out = v;
	return 0;
}

int parse_u32(uint32_t *out, const char *s, uint32_t min, uint32_t max)
{
	int64_t v;

	if (parse_i64(&v, s, min, max))
		return ERR_INVALID;
	*out = (uint32_t)v;
	return 0;
}

int parse_bool(bool *out, const char *s)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return ERR_INVALID;
}

int parse_duration_ms(uint64_t *out, const char *s)
{
	/* Longest units first so "ms" is not read as "m" then "s". */
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
		{ "d", 86400000 },
	};
	const uint64_t limit = 366ull * 86400000;	/* a year is plenty */
	uint64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return ERR_INVALID;
	while (*p) {
		uint64_t v = 0;
		size_t digits = 0, i;

		while (*p >= '0' && *p <= '9') {
			if (++digits > 12)
				return ERR_INVALID;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (!digits)
			return ERR_INVALID;
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strncmp(p, units[i].u, strlen(units[i].u)) == 0)
				break;
		if (i == ARRAY_SIZE(units))
			return ERR_INVALID;
		p += strlen(units[i].u);
		if (v > limit / units[i].ms)
			return ERR_INVALID;
		total += v * units[i].ms;
		if (total > limit)
			return ERR_INVALID;
	}
	*out = total;
	return 0;
}

void format_duration(char *out, size_t outsz, uint64_t ms)
{
	uint64_t s = ms / 1000, h = s / 3600, m = (s % 3600) / 60;
	struct buf b = BUF_INIT;

	s %= 60;
	if (ms < 1000 && ms)
		buf_printf(&b, "%llums", (unsigned long long)ms);
	if (h)
		buf_printf(&b, "%lluh", (unsigned long long)h);
	if (m)
		buf_printf(&b, "%llum", (unsigned long long)m);
	if (s || (!h && !m && ms >= 1000) || !ms)
		buf_printf(&b, "%llus", (unsigned long long)s);
	strlcpy_(out, b.data ? b.data : "", outsz);
	buf_release(&b);
}

size_t strlcpy_(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bool ct_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void buf_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	buf_reset(err);
	va_start(ap, fmt);
	(void)buf_vprintf(err, fmt, ap);
	va_end(ap);
}

void errmsg_set(char *errmsg, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!errmsg || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(errmsg, errsz, fmt, ap);
	va_end(ap);
}
