/* sysio.h - the operating system for the edges: bounded reads of regular
 * files, atomic replacement (temp file, fsync, rename), the monotonic clock
 * and the shipped data directory.  Pure modules (daemon/base, daemon/core)
 * take the bytes these return; they never call them.
 */
#ifndef PIPELINED_SYSIO_H
#define PIPELINED_SYSIO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Open path for reading only if it is a regular file of at most max bytes.
 * The open never blocks (O_NONBLOCK: a FIFO, a terminal or a device named by
 * mistake or malice is refused at once instead of hanging the caller) and the
 * type and size are judged on the open descriptor, so nothing can swap the
 * file between the check and the read.  Symbolic links are followed on
 * purpose: mounted secrets (systemd credentials, Kubernetes secret volumes)
 * are links to regular files.  Sets *fd on success.  ERR_NOTFOUND,
 * ERR_INVALID (not a regular file), ERR_TOOBIG, or ERR_IO (errno set). */
int file_open_regular(int *fd, const char *path, size_t max);
/* Read a whole regular file, at most max bytes, opened as above: the
 * errors of file_open_regular(), ERR_NOMEM or ERR_IO. */
int file_read(struct buf *out, const char *path, size_t max);
/* Map a regular file of 1 to max bytes read-only, opened as above: a
 * large file searched in a few places is not copied (the audit
 * checkpoint).  The errors of file_open_regular(), ERR_INVALID (empty) or
 * ERR_IO.  Unmap it with file_unmap; a file replaced by rename meanwhile
 * leaves the mapping as it was. */
int file_map(const void **out, size_t *len, const char *path, size_t max);
void file_unmap(const void *p, size_t len);
/* Why file_open_regular() or file_read() refused path with rc: "No such file
 * or directory", "is a FIFO, not a regular file", "larger than 1024 bytes",
 * ... into msg. */
void file_error(char *msg, size_t msgsz, const char *path, int rc, size_t max);
/* Replace path atomically: temp file in the same directory, write, fsync,
 * rename, fsync the directory.  On any failure the original file is left
 * byte-identical and the temp file is removed.  mode applies to a new file;
 * an existing file's mode is kept. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Monotonic milliseconds (CLOCK_MONOTONIC), for deadlines only. */
uint64_t mono_ms(void);

/* Where a shipped data file (e.g. "nyse.calendar") is: $PIPELINED_DATADIR,
 * then the install-time data directory, then relative to the running
 * executable (../share/pipelined when installed elsewhere, data/ beside a
 * build tree's binaries).  Puts the first existing candidate in out, or the
 * install-time path when none exists (so errors name the expected place). */
int datafile_path(struct buf *out, const char *name);

#endif
