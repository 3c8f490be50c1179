/* audit_state.h - what the commits judged so far establish for the ones
 * after them (the promotions they record, the requests they used, the
 * approvals in force), and its checkpoint: the bytes pipelinectl audit
 * stores in the repository's git directory so that a range is judged
 * without replaying all history before it (issue 15).
 *
 * Every fact carries the first-parent depth of the commit that established
 * it (the root is at depth 1), and the sets only grow: the facts of depth
 * at most d are exactly the state after the first d commits of the chain.
 * One checkpoint therefore serves every commit of its tip's first-parent
 * chain: a range whose start is on that chain is judged on the checkpoint
 * cut there, without replaying anything; a range past the tip replays only
 * the commits in between.  The chain is recognised by the commit ids kept
 * at the root, every AUDIT_STATE_SAMPLE-th depth and the tip: a walk down
 * from any descendant meets one within AUDIT_STATE_SAMPLE commits of where
 * the chains join.
 *
 * The checkpoint holds sorted arrays (chain ids, the (stage, tag) pairs
 * reached, the requests used, each stage's promotions by depth) that are
 * searched where they lie, a cut being only a depth bound on what is
 * found: loading it costs reading and checksumming the bytes, not
 * rebuilding the sets, so a range costs about the same at 100,000
 * promotions as at 1,000.  The facts of the commits judged after the cut
 * go to hash sets beside it.
 *
 * Pure: bytes in, bytes out.  The caller reads and writes the file
 * (ctl_audit.c); anything wrong with the bytes (truncated, corrupt by the
 * checksum, out of order, another format version or configuration key) is
 * ERR_INVALID, and the caller replays from the root instead.  The checksum
 * finds damage, not forgery: whoever can write the git directory can
 * rewrite the history itself, and `audit --no-checkpoint` judges without
 * the file.
 */
#ifndef PIPELINED_AUDIT_STATE_H
#define PIPELINED_AUDIT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"
#include "util.h"

#define AUDIT_STATE_SAMPLE 64		/* a chain id kept every this many commits */
#define AUDIT_STATE_MAX_BYTES (128u << 20)	/* a larger checkpoint is not written */
#define AUDIT_STATE_MAX_FACTS (4u << 20)	/* promotions in one checkpoint */
#define AUDIT_STATE_KEY_LEN 16		/* hex digits of the configuration key */

/* A promotion of a commit after the cut: the tag it brought to its stage.
 * As the linear scans did, a lookup finds the first entry with its key. */
struct audit_fact {
	uint64_t depth;		/* of the promotion commit */
	enum stage stage;
	char tag[41];
};

/* A promotion that named a Request: the commit is named when the request
 * is used again. */
struct audit_use {
	uint64_t depth;
	char request[41];
	char commit[41];
};

/* An open-addressing index over facts[] or uses[]: slot = 1 + index. */
struct audit_index {
	size_t *slot;
	size_t cap;	/* a power of two, or 0 */
	size_t n;
};

struct audit_sample {
	uint64_t depth;
	char id[41];
};

/* One sorted array of the checkpoint: n records of size bytes at p. */
struct audit_array {
	const unsigned char *p;
	size_t n;
};

struct audit_state {
	/* the checkpoint read (its bytes the caller's), its facts deeper
	 * than cut not part of the state; cut 0: none */
	struct audit_array b_samples, b_tags, b_uses, b_last[STAGE_COUNT];
	uint64_t cut;
	char base_last[STAGE_COUNT][41];	/* each stage's last tag at cut */
	/* the commits after the cut */
	struct audit_fact *facts;	/* ascending depth, as the uses */
	size_t n, cap;
	struct audit_use *uses;
	size_t nuses, capuses;
	struct audit_index by_tag, by_request;
	size_t last[STAGE_COUNT];	/* 1 + index of the stage's latest promotion; 0 none */
	struct audit_sample *samples;	/* ascending depth */
	size_t nsamples, capsamples;
	/* the whole chain */
	uint64_t depth;			/* commits seen; the tip's depth */
	char tip[41];			/* the last commit seen, "" at depth 0 */
	/* issue 14 item 3: the depth of the first promotion into the stage
	 * that carried Approved-By: (the two-person rule in force from there
	 * on); 0 never */
	uint64_t approvals_on[STAGE_COUNT];
	/* where judging starts (the end of the baseline, audit.h): the depth of
	 * the first judged commit, 0 when none up to the tip; the commit before
	 * it ("" when judging starts at the root) */
	uint64_t judged_depth;
	char baseline[41];
	struct audit_use found;		/* audit_state_request's answer from the checkpoint */
};

void audit_state_init(struct audit_state *s);
void audit_state_release(struct audit_state *s);

/* The next commit of the chain: depth + 1, id the tip (sampled as above).
 * 0 or ERR_NOMEM. */
int audit_state_step(struct audit_state *s, const char *id);
/* Record a promotion of the current commit (the tip). 0 or ERR_NOMEM. */
int audit_state_remember(struct audit_state *s, enum stage st, const char *tag,
			 const char *request);
bool audit_state_reached(const struct audit_state *s, enum stage st, const char *tag);
/* The first promotion that used request, or NULL (also for NULL or ""),
 * valid until the next call. */
const struct audit_use *audit_state_request(struct audit_state *s, const char *request);
/* The tag of the latest promotion into st, or NULL. */
const char *audit_state_last_tag(const struct audit_state *s, enum stage st);
bool audit_state_approvals_on(const struct audit_state *s, enum stage st);
void audit_state_set_approvals_on(struct audit_state *s, enum stage st);

/* The depth of chain id id when the state keeps it, else 0. */
uint64_t audit_state_sample_depth(const struct audit_state *s, const char *id);
/* Back to the state after the first depth commits (depth <= s->depth),
 * whose last commit is id.  0, ERR_INVALID or ERR_NOMEM. */
int audit_state_truncate(struct audit_state *s, uint64_t depth, const char *id);

/* The configuration key: what the replayed facts depend on, and a format
 * version.  since: the [audit] since setting as written ("" when unset). */
struct audit_policy;
void audit_state_key(char out[AUDIT_STATE_KEY_LEN + 1], const struct audit_policy *p,
		     const char *since);

/* The checkpoint bytes of s under key.  0, ERR_TOOBIG (past the bounds),
 * ERR_INVALID (a fact the format cannot hold: a tag that is no 40-digit
 * id) or ERR_NOMEM. */
int audit_state_encode(struct buf *out, const struct audit_state *s, const char *key);
/* s from checkpoint bytes written under key, searched where they lie: data
 * must outlive s.  0, or ERR_INVALID (s empty). */
int audit_state_decode(struct audit_state *s, const void *data, size_t len, const char *key);

/* The checksum that ends the bytes (over all before it), for the fuzz
 * target to reach the parse behind it. */
uint64_t audit_state_checksum(const void *data, size_t len);

#endif
