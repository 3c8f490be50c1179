/* trailer.h - commit-message trailers: read a request's, write a promotion's.
 *
 * Pure: the trailer block is found and split by trailer_block.c, which
 * follows libgit2's git_message_trailers (the reader this module used to
 * call) and is held to it by a differential test.
 *
 * Reading follows git's rules (only the last paragraph, every line a
 * trailer) and then normalises what libgit2 leaves raw:
 *   - every '\r' is dropped before parsing (CRLF messages otherwise leave
 *     "\r" at the end of each value);
 *   - continuation lines are unfolded exactly as `git interpret-trailers
 *     --unfold` does: a newline and the whitespace after it become one
 *     space, and the value is trimmed;
 *   - keys keep the case they were written in but every lookup compares
 *     them case-insensitively, as git does.  Repeated keys are kept; the
 *     caller (policy) decides which repetitions are malformed.
 *
 * Writing produces the promotion commit message of SPEC section 6:
 *
 *   promote <stage>: <sha7> from <source-stage>
 *
 *   <notes, sanitised, if any>
 *
 *   [skip ci]
 *
 *   Stage: ...            (fixed order, see trailer_format_promotion)
 *
 * `[skip ci]` is a body paragraph of its own, just before the trailer
 * block: GitHub Actions honours it anywhere in the head commit message, and
 * as its own paragraph it can never turn the trailer block into a mixed
 * paragraph.  Notes can never add or hide a trailer: the block is always the
 * last paragraph, and body lines that git would treat as the end of the
 * message (a `---` patch divider, `#` comment or scissors lines) are
 * indented by one space.
 */
#ifndef PIPELINED_TRAILER_H
#define PIPELINED_TRAILER_H

#include <stdbool.h>
#include <stddef.h>

#include "stage.h"
#include "util.h"

/* A request commit message larger than this is refused (malformed). */
#define TRAILER_MESSAGE_MAX (64u * 1024)
/* At most this many trailers in one message. */
#define TRAILER_COUNT_MAX 128
/* Bounds on human input, in bytes of the raw text (error beyond). */
#define TRAILER_NOTES_MAX 4096
#define TRAILER_JUSTIFICATION_MAX 1024
/* Bound on every other value the daemon writes (Requested-By, Market...). */
#define TRAILER_VALUE_MAX 512
/* Bound on a whole formatted promotion message. */
#define TRAILER_FORMAT_MAX (16u * 1024)

/* The trailer keys of SPEC section 6. */
#define TRAILER_STAGE "Stage"
#define TRAILER_SOURCE_STAGE "Source-Stage"
#define TRAILER_IMAGE_TAG "Image-Tag"
#define TRAILER_REQUESTED_BY "Requested-By"
#define TRAILER_REQUEST "Request"
#define TRAILER_NOTES "Notes"
#define TRAILER_BREAK_GLASS "Break-Glass"
#define TRAILER_MARKET "Market"
#define TRAILER_INTEGRATION_TEST "Integration-Test"
#define TRAILER_SIGNED_BY "Signed-By"
/* The gates a Break-Glass: overrode, e.g. "source-not-deployed, soak"
 * (issue 13 item 6). */
#define TRAILER_OVERRODE "Overrode"
/* Issue 14 item 3, the two-person rule.  Approves: is the one trailer of an
 * approval commit (written by pipelinectl approve or the dashboard): the
 * 40-hex request commit it approves.  Approved-By: is daemon-only, one per
 * counted approval on the promotion, the only SPEC 6 key that repeats:
 * "Name <email> (principal P, approval <40-hex approval commit>)", the
 * approval's author as written and the principal its verified signature
 * names. */
#define TRAILER_APPROVES "Approves"
#define TRAILER_APPROVED_BY "Approved-By"
/* On an approval made from the dashboard: the operator who pressed
 * Approve (the commit is signed with the daemon's [http] approvalKey). */
#define TRAILER_OPERATOR "Operator"
/* At most this many approvals are read on a request branch. */
#define TRAILER_APPROVALS_MAX 8
/* Issue 14 item 4: a rollback request says why (human, copied to the
 * merge); the merge records the tag the stage ran before it (daemon-only),
 * and, when the stage's rollbackDuringMarket allowance let it pass the
 * market window without Break-Glass, that allowance (daemon-only, with
 * "Overrode: market-open"). */
#define TRAILER_ROLLBACK "Rollback"
#define TRAILER_ROLLED_BACK_FROM "Rolled-Back-From"
#define TRAILER_ROLLBACK_ALLOWANCE "Rollback-Allowance"
/* The value of Rollback-Allowance: the configuration that allowed it. */
#define TRAILER_ALLOWANCE_MARKET "rollbackDuringMarket = allow"

/* Requested-By value of automatic promotions. */
#define TRAILER_AUTOMATIC "pipelined (automatic)"

struct trailer {
	char *key;	/* as written, trimmed */
	char *value;	/* normalised: no '\r', unfolded, trimmed */
};

struct trailer_list {
	struct trailer *items;
	size_t count;
};

/* Parse the trailer block of a commit message of len bytes, reading the
 * same trailers as `git interpret-trailers --parse` (minus CRs): libgit2
 * finds the block, and the differences of its 1.5 line splitter from git
 * (tab continuation lines, empty values, scissors lines) are worked around
 * so that no trailer git shows can hide from the daemon.  A message whose
 * trailers git reads differently with and without its "---" patch divider
 * (interpret-trailers versus `git log --format=%(trailers)`) is ambiguous:
 * ERR_INVALID.  ERR_TOOBIG past TRAILER_MESSAGE_MAX or TRAILER_COUNT_MAX,
 * ERR_INVALID for a NUL byte; err (may be NULL) gets the reason.  A message
 * without a trailer block gives an empty list.  *out is an empty list after
 * any failure too, so releasing it is always safe. */
int trailer_parse(struct trailer_list *out, const char *msg, size_t len,
		  struct buf *err);
void trailer_list_release(struct trailer_list *list);

/* Value of the first trailer whose key matches case-insensitively, or NULL. */
const char *trailer_list_get(const struct trailer_list *list, const char *key);
/* How many trailers have that key (case-insensitively). */
size_t trailer_list_count(const struct trailer_list *list, const char *key);
/* The first SPEC 6 key (any case) that occurs more than once, as written in
 * the message, or NULL.  Repeating a key the daemon reads (two Break-Glass,
 * two Notes) or writes makes the request ambiguous.  Other keys, such as
 * Co-authored-by, may repeat freely. */
const char *trailer_list_repeated(const struct trailer_list *list);
/* The first key that only the daemon may write, as written, or NULL. */
const char *trailer_list_forged(const struct trailer_list *list);

/* Daemon-only keys: Stage, Source-Stage, Image-Tag, Requested-By, Request,
 * Market, Integration-Test, Signed-By, Overrode, Rolled-Back-From,
 * Rollback-Allowance.  Image-Tag is among them although
 * SPEC 6's list omits it: its table says the daemon writes it, the tag a
 * request asks for is the one in its values change, and request commits end
 * up in the tracked branch's history (second parent of the merge), where a
 * request's own Image-Tag would read as a promotion record in any log that
 * does not pass --first-parent. */
bool trailer_key_daemon_only(const char *key);
/* The one SPEC 6 key that may appear more than once: Approved-By. */
bool trailer_key_repeats(const char *key);
/* One of the keys of SPEC 6 (case-insensitive), Overrode included. */
bool trailer_key_known(const char *key);

/* True when s has no visible text: nothing but whitespace (ASCII or
 * Unicode, such as U+00A0 or U+3000), control characters, invisible
 * characters (zero-width spaces and joiners, bidi marks, the BOM, ...) or
 * bytes that are not UTF-8.  The one test of "is there a justification"
 * for Break-Glass and of "are there notes" for Notes, wherever they come
 * from (request trailers, the dashboard, pipelinectl promote, audit): a
 * blank Notes: or Break-Glass: counts as absent. */
bool trailer_text_blank(const char *s);

/* Append s as a single-line trailer value: control characters (newlines,
 * tabs, CR, C1 controls) become spaces, runs of whitespace one space, ends
 * trimmed.  ERR_TOOBIG when s is longer than max bytes. */
int trailer_sanitize_value(struct buf *out, const char *s, size_t max);

/* What a promotion commit says.  Strings are NUL-terminated; optional ones
 * may be NULL or blank. */
struct trailer_promotion {
	enum stage stage;		/* a deploy stage */
	enum stage source;		/* a stage before it */
	const char *image_tag;		/* 40-hex release id */
	const char *requested_by;	/* "Name <email>"; NULL: automatic */
	const char *request;		/* 40-hex request tip; NULL: automatic */
	const char *notes;		/* optional, <= TRAILER_NOTES_MAX */
	const char *break_glass;	/* optional, <= TRAILER_JUSTIFICATION_MAX */
	const char *market;		/* e.g. "closed (weekend)" */
	const char *integration_test;	/* e.g. "passed 312/312", "disabled" */
	const char *signed_by;		/* optional: verified signer principal */
	const char *overrode;		/* optional: the gates break_glass overrode */
	/* issue 14 item 3: Approved-By values, one per counted approval */
	const char *const *approved_by;
	size_t napproved;		/* <= TRAILER_APPROVALS_MAX */
	/* issue 14 item 4: a rollback (all optional) */
	const char *rollback;		/* the request's reason */
	const char *rolled_back_from;	/* 40-hex tag the stage ran before */
	bool rollback_allowance;	/* market passed by rollbackDuringMarket */
};

/* Append the promotion commit message to out.  Trailers, in this order:
 * Stage, Source-Stage, Image-Tag, Requested-By, Request (requests only),
 * Notes (when given), Break-Glass (when given), Overrode (when given, and
 * only with Break-Glass or the rollback allowance), Rollback and
 * Rolled-Back-From (rollbacks: both or neither), Rollback-Allowance (when
 * used), Market, Integration-Test, Signed-By (when given), Approved-By (one
 * per approval).  The Notes trailer is the notes single-lined (the body
 * keeps their lines), so `git interpret-trailers --parse` and
 * `%(trailers:key=Notes,valueonly)` read back the same text with or without
 * unfolding.  ERR_INVALID (bad stage, tag or missing field) or ERR_TOOBIG
 * (a bound) with the reason in err; out is unchanged on failure. */
int trailer_format_promotion(struct buf *out, const struct trailer_promotion *p,
			     struct buf *err);

/* Append a promotion request's commit message (pipelinectl promote and
 * rollback, the dashboard): "promote <stage>: <tag7>" ("rollback <stage>:
 * <tag7>" with a rollback reason), then Notes:, Break-Glass: and Rollback:
 * when given (sanitised to one line each).  Re-read with trailer_parse so that
 * what is pushed is exactly what the daemon will see: ERR_INVALID when it
 * would read differently (a forged or repeated key, a lost value),
 * ERR_TOOBIG past a bound. */
int trailer_format_request(struct buf *msg, const char *stage, const char *tag,
			   const char *notes, const char *break_glass, const char *rollback);

/* Append an approval commit's message: "approve <stage>: <request7>", a
 * blank line, "Approves: <request>".  ERR_INVALID unless request is 40-hex
 * and stage a deploy stage name. */
int trailer_format_approval(struct buf *msg, const char *stage, const char *request);

/* Approved-By's value: "Name <email> (principal P, approval <40-hex>)".
 * ERR_INVALID when principal is empty or has a space, comma or control
 * character, or approval is not 40-hex; name and email are sanitised. */
int trailer_format_approved_by(struct buf *out, const char *name, const char *email,
			       const char *principal, const char *approval);
/* Split an Approved-By value into its principal and approval commit (the
 * part before them, the approver, is for people).  ERR_INVALID when the
 * value does not end in "(principal P, approval <40-hex>)". */
int trailer_parse_approved_by(char *principal, size_t principalsz, char approval[41],
			      const char *value);

#endif
