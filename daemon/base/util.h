/* util.h - small bounded helpers shared by every module.
 *
 * No atoi/sprintf/strcpy anywhere in pipelined (STYLE.md 6): numbers are
 * parsed with a range, strings are built in a struct buf that has a maximum.
 * Pure: no file, clock or environment (those are io/sysio.h).
 */
#ifndef PIPELINED_UTIL_H
#define PIPELINED_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Named expected failures, shared by all modules (negative, like libgit2). */
enum {
	ERR_FAIL = -1,		/* generic; the message says why */
	ERR_NOMEM = -2,
	ERR_TOOBIG = -3,	/* a bound was hit */
	ERR_NOTFOUND = -4,
	ERR_INVALID = -5,	/* bad input */
	ERR_IO = -6,
	ERR_TIMEOUT = -7,
	ERR_REJECTED = -8,	/* the other side said no */
};

/* A growable byte buffer with a hard maximum.  Always NUL-terminated when
 * data != NULL, so text can be used as a C string. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;	/* 0 means BUF_DEFAULT_MAX */
};
#define BUF_DEFAULT_MAX (16u * 1024 * 1024)
#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
/* Make room for extra bytes; ERR_TOOBIG past the maximum. */
int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Hands the data over to the caller (who frees it) and resets b. */
char *buf_detach(struct buf *b, size_t *len);

/* Room for element n of a malloc'd array of size-byte elements: doubles
 * *cap (from 16) when n has reached it.  0 or ERR_NOMEM (the array is then
 * unchanged). */
int array_grow(void **v, size_t *cap, size_t n, size_t size);

/* Parse a whole decimal string into [min, max].  0 or ERR_INVALID. */
int parse_i64(int64_t *out, const char *s, int64_t min, int64_t max);
int parse_u32(uint32_t *out, const char *s, uint32_t min, uint32_t max);
/* Parse "true/false/yes/no/on/off/1/0" (git-config's rules). */
int parse_bool(bool *out, const char *s);
/* Parse a duration like "30s", "5m", "1h", "1h30m", "250ms" into
 * milliseconds.  A bare number is refused: the unit is part of the value. */
int parse_duration_ms(uint64_t *out, const char *s);
/* Format milliseconds back as the shortest "1h2m3s" form. */
void format_duration(char *out, size_t outsz, uint64_t ms);

/* Copy with truncation; always terminates; returns strlen(src). */
size_t strlcpy_(char *dst, const char *src, size_t size);
/* strdup that aborts on OOM would hide a bound; this returns NULL instead. */
char *xstrndup(const char *s, size_t n);

/* Constant-time comparison for secrets (HMACs, tokens). */
bool ct_equal(const void *a, const void *b, size_t len);

/* Error-message helpers for modules that report why they failed: replace
 * the message (NULL err or zero size: do nothing). */
void buf_seterr(struct buf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void errmsg_set(char *errmsg, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
