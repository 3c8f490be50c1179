/* util.c - see util.h */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

int file_open_regular(int *fd, const char *path, size_t max)
{
	struct stat st;
	int f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (f < 0)
		return errno == ENOENT || errno == ENOTDIR ? ERR_NOTFOUND : ERR_IO;
	if (fstat(f, &st)) {
		int e = errno;

		close(f);
		errno = e;
		return ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		close(f);
		return ERR_INVALID;
	}
	if ((uintmax_t)st.st_size > (uintmax_t)max) {
		close(f);
		return ERR_TOOBIG;
	}
	/* A regular file ignores O_NONBLOCK; clear it anyway so the
	 * descriptor behaves like any other. */
	(void)fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK);
	*fd = f;
	return 0;
}

int file_read(struct buf *out, const char *path, size_t max)
{
	char chunk[8192];
	ssize_t n;
	int fd, rc = file_open_regular(&fd, path, max);

	if (rc)
		return rc;
	buf_init(out, max);
	if (buf_grow(out, 0)) {
		close(fd);
		return ERR_NOMEM;
	}
	out->data[0] = '\0';
	/* The size was checked, but the file may grow while it is read. */
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ERR_IO;
			break;
		}
		if ((rc = buf_add(out, chunk, (size_t)n)) != 0)
			break;
	}
	close(fd);
	if (rc)
		buf_release(out);
	return rc;
}

static const char *mode_name(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISFIFO(m))
		return "is a FIFO";
	if (S_ISSOCK(m))
		return "is a socket";
	if (S_ISCHR(m))
		return "is a character device";
	if (S_ISBLK(m))
		return "is a block device";
	return "is not a file";
}

void file_error(char *msg, size_t msgsz, const char *path, int rc, size_t max)
{
	struct stat st;
	int e = errno;

	switch (rc) {
	case ERR_NOTFOUND:
		snprintf(msg, msgsz, "%s", strerror(ENOENT));
		break;
	case ERR_INVALID:
		/* only to name what it is: the refusal was made on the descriptor */
		snprintf(msg, msgsz, "%s, not a regular file",
			 stat(path, &st) == 0 ? mode_name(st.st_mode) : "is not a file");
		break;
	case ERR_TOOBIG:
		snprintf(msg, msgsz, "larger than %zu bytes", max);
		break;
	case ERR_NOMEM:
		snprintf(msg, msgsz, "out of memory");
		break;
	default:
		snprintf(msg, msgsz, "%s", strerror(e ? e : EIO));
		break;
	}
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	struct buf tmp = BUF_INIT, dir = BUF_INIT;
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd = -1, dfd, rc = ERR_IO;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	if (buf_printf(&tmp, "%s.tmp.XXXXXX", path))
		return ERR_NOMEM;
	fd = mkstemp(tmp.data);
	if (fd < 0)
		goto out;
	if (fchmod(fd, (mode_t)mode) || write_all(fd, data, len) || fsync(fd))
		goto out;
	if (close(fd)) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, path))
		goto out;
	/* The rename is durable only once the directory entry is on disk. */
	if (slash)
		buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		buf_adds(&dir, ".");
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp.data)
		unlink(tmp.data);
	buf_release(&tmp);
	buf_release(&dir);
	return rc;
}

bool ct_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int datafile_path(struct buf *out, const char *name)
{
	const char *env = getenv("PIPELINED_DATADIR");
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *cand[4];
	struct buf rel[2] = { BUF_INIT, BUF_INIT };
	size_t nc = 0;
	int rc = 0;

	if (env && *env)
		cand[nc++] = env;
	cand[nc++] = PIPELINED_DATADIR;
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (!buf_printf(&rel[0], "%s/../share/pipelined", exe))
				cand[nc++] = rel[0].data;
			if (!buf_printf(&rel[1], "%s/data", exe))
				cand[nc++] = rel[1].data;
		}
	}
	buf_reset(out);
	for (size_t i = 0; i < nc; i++) {
		buf_reset(out);
		if ((rc = buf_printf(out, "%s/%s", cand[i], name)) != 0)
			break;
		if (access(out->data, R_OK) == 0)
			goto done;
	}
	buf_reset(out);
	rc = buf_printf(out, "%s/%s", PIPELINED_DATADIR, name);
done:
	buf_release(&rel[0]);
	buf_release(&rel[1]);
	return rc;
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
