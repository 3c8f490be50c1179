/* freeze.h - deployment freezes declared in the GitOps repository
 * (issue 14 item 1, SPEC 9b).
 *
 * Pure: the bytes of the freeze file in, entries (or every error, each
 * "file:line: what") out; what is frozen at an instant; the text of a new
 * entry and the splices that add or remove one while keeping every other
 * byte of the file.  No I/O, no clock: the engine reads the file at the
 * tracked branch's tip, pipelinectl writes it as a commit.
 *
 * The file (a YAML mapping with one key):
 *
 *   freezes:
 *     - id: fomc-dec                  # [a-z0-9._-], unique, at most 64
 *       stages: [paper, live]         # deploy stages, or: all
 *       start: 2026-12-16T13:30:00-05:00   # optional: absent = in force now
 *       end: 2026-12-16T14:30:00-05:00     # optional: absent = until removed
 *       reason: FOMC announcement     # required, at most 200 bytes
 *       breakGlass: deny              # allow | deny (default deny)
 *
 * Times are RFC 3339 with an explicit UTC offset (Z or +hh:mm/-hh:mm): the
 * instant is unambiguous without tzdata and the same for every reader;
 * zone names and offset-less local times are refused with a hint.  A freeze
 * holds from start (inclusive) to end (exclusive).  Break-Glass overrides
 * an entry only when it says breakGlass: allow: whoever declares a freeze
 * expects it to hold, and lifting it is itself a reviewed commit.
 *
 * An empty file, a file without entries and "freezes: []" freeze nothing.
 * Every bound (entries, lengths, file size) is an error when exceeded,
 * never a silent truncation. */
#ifndef PIPELINED_FREEZE_H
#define PIPELINED_FREEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"
#include "util.h"

#define FREEZE_FILE_MAX (64 * 1024)	/* bytes of the file */
#define FREEZE_MAX_ENTRIES 64
#define FREEZE_ID_MAX 64
#define FREEZE_REASON_MAX 200
#define FREEZE_ERRORS_MAX 20		/* error lines reported, then "..." */
#define FREEZE_ERR_MAX 4096		/* bytes of the error text */

struct freeze_entry {
	char id[FREEZE_ID_MAX + 1];
	unsigned stages;		/* bit 1u << stage, deploy stages only */
	bool all;			/* written as "all" */
	bool has_start, has_end;
	int64_t start, end;		/* Unix time; end exclusive */
	char reason[FREEZE_REASON_MAX + 1];
	bool break_glass;		/* breakGlass: allow */
	unsigned line;			/* of the entry, 1-based */
};

struct freeze_set {
	struct freeze_entry e[FREEZE_MAX_ENTRIES];
	size_t n;
};

/* Parse the freeze file (file names it in the messages).  0 and out filled,
 * or ERR_INVALID (ERR_TOOBIG for an oversized file) with every problem in
 * err, one "file:line: what" per line, and out untouched. */
int freeze_parse(struct freeze_set *out, const char *doc, size_t len, const char *file,
		 struct buf *err);

/* Whether e holds st at now. */
bool freeze_active(const struct freeze_entry *e, enum stage st, int64_t now);

/* What freezes stage st at now.  n: how many entries hold it; first: the
 * one to name (the first that does not allow Break-Glass, else the first);
 * overridable: every one allows Break-Glass; until: when st is free again,
 * following entries that overlap or touch (0: not while an entry without
 * an end holds it). */
struct freeze_hold {
	size_t n;
	const struct freeze_entry *first;
	bool overridable;
	int64_t until;
};
void freeze_holds(struct freeze_hold *out, const struct freeze_set *s, enum stage st,
		  int64_t now);

/* "all" or "paper, live" */
void freeze_stages_text(char *out, size_t outsz, const struct freeze_entry *e);

/* A new entry for pipelinectl freeze. */
struct freeze_new {
	const char *id;
	unsigned stages;		/* 0 with all */
	bool all;
	bool has_start, has_end;
	int64_t start, end;
	int32_t offset;			/* the times are written at this UTC offset */
	const char *reason;
	bool break_glass;
};

/* doc (len bytes; NULL or empty for a file that does not exist yet) with
 * entry n appended to the freezes sequence, every other byte kept.  The
 * result is parsed again and must hold exactly the old entries and the new
 * one.  ERR_INVALID with the reason in err (a bad entry, a duplicate id,
 * a file that does not parse, a layout the splice cannot keep). */
int freeze_add(struct buf *out, const char *doc, size_t len, const char *file,
	       const struct freeze_new *n, struct buf *err);

/* doc without the entry id, every other byte kept, checked the same way.
 * ERR_NOTFOUND when there is no such entry. */
int freeze_lift(struct buf *out, const char *doc, size_t len, const char *file,
		const char *id, struct buf *err);

/* Whether a and b hold the same entries (lines aside). */
bool freeze_set_equal(const struct freeze_set *a, const struct freeze_set *b);

/* Whether s is a valid entry id. */
bool freeze_id_ok(const char *s);

#endif
