/* yamledit.h - set image tags in a YAML document by splicing bytes.
 *
 * Pure: bytes in, bytes out; no files, no logging.  The document is never
 * re-serialised: only the bytes of each targeted scalar change, so comments,
 * key order, quoting, indentation, CRLF, a UTF-8 BOM and other documents stay
 * byte-identical and a bump is a one-line diff per scalar (SPEC 9).
 *
 * Tag paths are dotted segments, each matching one level of nesting:
 *   name     a mapping key equal to "name" (quoted keys compare by value)
 *   N        a sequence item by 0-based index (decimal, no leading zeros);
 *            in a mapping it is just the key "N"
 *   *        any scalar key of a mapping, or every item of a sequence
 * e.g. "services.*.image.tag", "image.tag", "images.0.tag", "images.*.tag".
 * Keys containing '.' cannot be addressed; alias and complex keys never
 * match.
 *
 * Every document of a multi-document stream is searched and every scalar that
 * matches is edited; each path must match at least one scalar overall.
 *
 * Refused (non-zero return, one line in err, *out untouched): a path with no
 * match; a target that is an alias, anchored, explicitly tagged with
 * anything but !!str, a block (| >) or multi-line scalar, empty (`tag:`), or
 * a mapping/sequence; a path that runs through an alias or an anchored
 * mapping/sequence; duplicate keys in a mapping the paths descend into; a
 * mapping with a merge key (<<) whose next key on the path is not written
 * in it explicitly (it may come from the merge), or that a '*' would have
 * to enumerate; a document libyaml rejects (with its line and column);
 * UTF-16 input; a tag that is not a valid OCI tag.  A merge key is fine
 * when the path's key is explicit: YAML takes the explicit key, so that is
 * the one edited.  A !!str target keeps its tag; only its value changes.
 * A plain target whose new value YAML 1.1 or 1.2 would read as a non-string
 * (1e10, 0755, 1.10, 0x1F, yes, on, null, 2026-01-01...) is written
 * double-quoted.  Quoted targets keep their quotes: the OCI tag grammar has
 * no character that needs escaping in either quoting style.
 *
 * The result is re-parsed and compared event by event with the original; any
 * difference other than the targeted values (and their added quotes) refuses
 * the edit.
 */
#ifndef PIPELINED_YAMLEDIT_H
#define PIPELINED_YAMLEDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define YAMLEDIT_MAX_INPUT	(4u * 1024 * 1024)	/* bytes of one document stream */
#define YAMLEDIT_MAX_PATHS	64
#define YAMLEDIT_MAX_SEGMENTS	32
#define YAMLEDIT_PATH_MAX	512			/* bytes of one tag path */
#define YAMLEDIT_VALUE_MAX	512			/* bytes of one yamledit_set value */

struct yamledit_stats {
	size_t matched;		/* distinct scalars matched by the paths */
	size_t changed;		/* of those, how many got new bytes */
	size_t lines;		/* distinct lines that changed */
};

/* Check the syntax of one tag path (also for config's tagPath).  On error,
 * appends the reason (without the path) to why, which may be NULL. */
bool yamledit_path_valid(const char *path, struct buf *why);

/* Set every scalar matched by paths[0..npaths) to tag.  On success *out is
 * initialised with the new document (release with buf_release) and *stats,
 * if not NULL, says what changed.  On failure returns ERR_INVALID (bad
 * arguments), ERR_TOOBIG, ERR_NOMEM, ERR_NOTFOUND (a path matched nothing) or
 * ERR_REJECTED (the document cannot be edited safely), and appends one line,
 * "<tag path>: <reason>", without a newline, to err (every function here
 * takes err == NULL to mean: the code only, no message). */
int yamledit_apply(struct buf *out, struct yamledit_stats *stats,
		   const char *in, size_t len,
		   const char *const *paths, size_t npaths,
		   const char *tag, struct buf *err);

/* Read the current tag: every scalar matched by paths (under the same rules
 * as yamledit_apply: no alias, anchor, block scalar...) must hold the same
 * string, which goes to *value (initialised on success; the scalar's value,
 * without quotes).  ERR_NOTFOUND: a path matched nothing; ERR_REJECTED: the
 * values differ (the line names both places) or the document is unsafe. */
int yamledit_get(struct buf *value, const char *in, size_t len,
		 const char *const *paths, size_t npaths, struct buf *err);

/* One scalar found by yamledit_find. */
struct yamledit_scalar {
	char *path;		/* concrete dotted path: '*' replaced by the key or index */
	size_t ipath;		/* which of paths[] matched it */
	size_t line, column;	/* 1-based, of the first byte (the quote, if quoted) */
	char *value;		/* the value, without quotes, NUL-terminated */
	size_t len;
	char quote;		/* 0 plain, '\'' or '"' */
};

/* Every scalar the paths match, in document order, under the rules of
 * yamledit_apply (a target that could not be edited safely fails the call
 * with "<concrete path>: <reason>" in err).  Unlike yamledit_apply, a path
 * that matches nothing is not an error: it simply contributes no scalar.
 * A mapping with a merge key (<<) on a path is accepted when the next key
 * of the path is present in that mapping explicitly (YAML uses the explicit
 * key); when it is not, or when a '*' would have to enumerate the mapping's
 * keys, the call fails with ERR_REJECTED ("... may come from the merge key
 * (<<) at line N").  A scalar with an explicit !!str tag is a target (the
 * tag is kept, only the value changes); any other explicit tag is refused.
 * A scalar matched by several paths gives one record per path (same line
 * and column).  *out (free with yamledit_scalars_free) may be NULL when *n
 * is 0; both are set only on success. */
int yamledit_find(struct yamledit_scalar **out, size_t *n, const char *in, size_t len,
		  const char *const *paths, size_t npaths, struct buf *err);
void yamledit_scalars_free(struct yamledit_scalar *v, size_t n);

/* Set the scalar at each concrete path (no '*') paths[i] to values[i]; each
 * path must match exactly one scalar (ERR_NOTFOUND when none, ERR_REJECTED
 * when several, as a path repeated in several documents of a stream).  A value
 * may be an OCI tag, an image reference (REPO:TAG[@sha256:HEX]) or a digest
 * (sha256:HEX): bytes from [A-Za-z0-9._:/@-] only, at most 512; anything
 * else is ERR_INVALID.  Quoting as in yamledit_apply (a plain scalar stays
 * plain unless the new value would not read back as the same string).  The
 * result is re-parsed and compared event by event; *out is initialised on
 * success. */
int yamledit_set(struct buf *out, struct yamledit_stats *stats, const char *in, size_t len,
		 const char *const *paths, const char *const *values, size_t n,
		 struct buf *err);

#endif
