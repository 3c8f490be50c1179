/* sysio.c - see sysio.h */
#include "sysio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

int file_map(const void **out, size_t *len, const char *path, size_t max)
{
	struct stat st;
	void *p;
	int fd, rc = file_open_regular(&fd, path, max);

	if (rc)
		return rc;
	if (fstat(fd, &st)) {
		close(fd);
		return ERR_IO;	/* st unwritten: its size says nothing */
	}
	if (st.st_size <= 0 || (uintmax_t)st.st_size > (uintmax_t)max) {
		close(fd);
		return st.st_size == 0 ? ERR_INVALID : ERR_IO;
	}
	/* every byte is read (a checksum first): the pages in one go, not a
	 * fault each */
#ifdef MAP_POPULATE
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
#else
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
#endif
	close(fd);
	if (p == MAP_FAILED)
		return ERR_IO;
	*out = p;
	*len = (size_t)st.st_size;
	return 0;
}

void file_unmap(const void *p, size_t len)
{
	if (p && len)
		munmap((void *)p, len);
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
