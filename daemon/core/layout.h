/* layout.h - where each image's tag lives in a stage's values file.
 *
 * Pure: the explicit mapping of pipelines.conf(5) (struct layout_rules) and
 * the bytes of one values file in, the resolved locations (or one error that
 * names the image and the path) out.  No files, no logging, no clock.  The
 * engine, pipelinectl (promote, edit, check, audit) and the audit all read
 * and write tags through this module, so "which scalar serves which image"
 * is decided in exactly one place; there is no count heuristic.
 *
 * The mapping, per deploy stage:
 *   [image "NAME"] tagPath = PATH   NAME's tag is at PATH in every stage's
 *                                   file (concrete: no '*', no {image}).
 *   [stage "S"] tagPath = PATH      repeated, at most 16:
 *     - PATH with one segment "{image}" (or "*", its older spelling) is a
 *       per-image template: for each image without an [image] tagPath, the
 *       segment is replaced by the image's name; a template may match
 *       nothing for an image (another rule serves it) but never several
 *       scalars.  Mapping keys the template would also match that are not
 *       configured images are reported as untouched, never edited.
 *     - PATH without a wildcard is shared: one scalar that serves every
 *       image no [image] tagPath and no template serves.  It must match
 *       exactly one scalar.
 * Rule: every configured image is served by exactly one location.  An image
 * with none, an image served twice (two templates, a template and a shared
 * path), a shared path that serves nobody, an explicit path that matches
 * nothing: each is refused with the image and the path(s) named.
 *
 * A location's scalar is either a tag ("0f3c...", the LAYOUT_TAG form) or an
 * image reference "REPO:TAG" or "REPO:TAG@sha256:HEX" (LAYOUT_REF: the
 * scalar contains '/' or ':', which no tag can).  Only the tag part (and the
 * digest, see below) of a reference is ever rewritten; a reference without a
 * ":TAG" part, or whose REPO does not end in "/NAME" for the one image it
 * serves, is refused (a reference serves exactly one image).
 *
 * Digests ([stage "S"] digest = true): every image's digest is written
 * beside its tag so that what Argo CD deploys is immutable: for LAYOUT_TAG
 * at "A.B.tag", the sibling scalar "A.B.digest" (it must exist; its value
 * becomes "sha256:HEX"); for LAYOUT_REF, the "@sha256:HEX" suffix (added
 * or replaced).  A shared location cannot carry a digest (each image has its
 * own) and is refused when the stage wants digests.  Without digest = true
 * an existing digest is left as it is by layout_apply unless it would then
 * contradict the new tag: a reference's "@sha256:" suffix is dropped (a
 * stale digest would pin the old image), a sibling digest refuses the edit
 * with a message that says to set digest = true.
 */
#ifndef PIPELINED_LAYOUT_H
#define PIPELINED_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "stage.h"
#include "util.h"
#include "yamledit.h"

#define LAYOUT_DIGEST_MAX 72	/* "sha256:" + 64 hex + NUL, rounded up */

/* What the configuration says for one stage.  Pointers borrow from the
 * caller (usually a struct config); nothing here is freed by layout. */
struct layout_rules {
	const char *file;		/* values file's path in the repo, for messages */
	const char *const *images;	/* configured image names, config order */
	size_t nimages;
	const char *const *image_paths;	/* [nimages]: [image] tagPath or NULL; may be NULL */
	const char *const *paths;	/* the stage's tagPath values, config order */
	size_t npaths;
	bool digest;			/* the stage writes digests */
};

enum layout_form {
	LAYOUT_TAG = 0,		/* the scalar is the tag */
	LAYOUT_REF,		/* the scalar is REPO:TAG[@DIGEST] */
};

struct layout_loc {
	char *path;		/* concrete dotted path of the scalar */
	const char *rule;	/* the configured path that serves it (borrowed from rules) */
	size_t line, column;	/* 1-based, of the scalar's first byte (its quote if quoted) */
	char *value;		/* the scalar's whole value, without quotes */
	char *tag;		/* the tag (of a reference: the part after the last ':') */
	char *digest;		/* the digest in force ("sha256:..."), or NULL */
	char *digest_path;	/* LAYOUT_TAG with a sibling digest scalar: its path; else NULL */
	size_t digest_line, digest_column;
	enum layout_form form;
	char quote;		/* 0 plain, '\'' or '"' */
	size_t *images;		/* indexes into rules->images, ascending */
	size_t nimages;
};

struct layout {
	struct layout_loc *locs;	/* in document order */
	size_t n;
	char **untouched;		/* concrete paths a template matched whose key
					 * is not a configured image: never edited */
	size_t nuntouched;
	const char *const *images;	/* image names, borrowed from the rules */
};

/* Fill *r for stage s from cfg (borrowing its strings).  A disabled or
 * evidence stage gets npaths == 0. */
void layout_rules_from_config(struct layout_rules *r, const struct config *cfg, enum stage s);

/* Resolve rules against doc.  On success *out is initialised (release with
 * layout_release) and 0 is returned.  Otherwise *out is zeroed, err gets one
 * line without a newline that names the file, the image(s) and the path(s)
 * ("values/values-beta.yaml: image 'dashboard' has no tag location: tried
 * backend.dashboard.image.tag (no such key)"), and the return value is
 * ERR_NOTFOUND (a path or image not found), ERR_REJECTED (the document or a
 * target cannot be edited safely: anchors, aliases, block scalars, duplicate
 * keys, a parse error with its line and column, an image served twice, a
 * reference for the wrong image...), ERR_TOOBIG or ERR_NOMEM. */
int layout_resolve(struct layout *out, const struct layout_rules *r, const char *doc, size_t len,
		   struct buf *err);
void layout_release(struct layout *l);

/* The location serving image i, or NULL. */
const struct layout_loc *layout_for_image(const struct layout *l, size_t image);

/* The tag every image runs: all locations hold the same tag, written to
 * *tag (initialised on success).  ERR_REJECTED when they differ (err names
 * two images, their paths and values). */
int layout_current(struct buf *tag, const struct layout *l, struct buf *err);

/* Set every image's tag to tag (a valid OCI tag) and, when r->digest,
 * its digest to digests[i] ("sha256:" + 64 lowercase hex; digests has
 * r->nimages entries and is required then, ignored otherwise).  Only the
 * bytes of the targeted scalars change (yamledit_set).  *out is initialised
 * on success; *stats, if not NULL, says what changed. */
int layout_apply(struct buf *out, struct yamledit_stats *stats, const struct layout_rules *r,
		 const char *doc, size_t len, const char *tag, const char *const *digests,
		 struct buf *err);

/* doc with every location's tag (and digest) replaced by one fixed
 * placeholder: two documents whose masks are byte-equal differ at most in
 * the tags and digests the mapping owns (a request's "only tags changed"). */
int layout_mask(struct buf *out, const struct layout_rules *r, const char *doc, size_t len,
		struct buf *err);

/* The audit's fast path (ctl_audit.c): a promotion rewrites only the tag
 * bytes of each location.  A location's tag as a byte range of the
 * document it was resolved from: */
struct layout_span {
	size_t off, len;
};

/* The spans of l's locations in doc (the document l was resolved from),
 * document order, into out[max].  ERR_REJECTED when some tag is not
 * written verbatim where l says (an escaped or folded scalar, a line with
 * non-ASCII bytes before it, an empty tag): then only a parse can say. */
int layout_tag_spans(struct layout_span *out, size_t max, const struct layout *l, const char *doc,
		     size_t len);

/* doc with the byte ranges spans[0..n) (ascending, not overlapping) each
 * replaced by tag; spans are moved to their place in *out (initialised on
 * success).  For tags of one quoting-free grammar (a 40-hex release id)
 * over spans from layout_tag_spans, *out resolves to the same locations,
 * each holding tag, and masks (layout_mask) to the same bytes as doc: the
 * caller may then skip both parses.  ERR_INVALID for spans out of order. */
int layout_splice_tag(struct buf *out, struct layout_span *spans, size_t n, const char *doc,
		      size_t len, const char *tag);

#endif
