/* audit_state.h - what the commits judged so far establish for the ones
 * after them (the promotions they record, the requests they used, the
 * approvals in force), kept in hash sets, and its checkpoint: the bytes
 * pipelinectl audit stores in the repository's git directory so that a
 * range is judged without replaying all history before it (issue 15).
 *
 * The state is a log indexed by first-parent depth (the root commit is at
 * depth 1): each fact carries the depth of the commit that established it
 * and the sets only grow, so cutting the log at depth d gives exactly the
 * state after the first d commits of the chain.  One checkpoint therefore
 * serves every commit of its tip's first-parent chain: a range whose start
 * is on that chain restores the state there without replaying anything; a
 * range past the tip replays only the commits in between.  The chain is
 * recognised by the commit ids kept at every AUDIT_STATE_SAMPLE-th depth,
 * the root and the tip: a first-parent walk from any descendant meets one of them
 * within AUDIT_STATE_SAMPLE commits of where the chains join.
 *
 * Pure: bytes in, bytes out.  The caller reads and writes the file
 * (ctl_audit.c); anything wrong with the bytes (truncated, corrupt by the
 * checksum, another format version or configuration key) is ERR_INVALID,
 * and the caller replays from the root instead.  The checksum finds damage,
 * not forgery: whoever can write the git directory can rewrite the history
 * itself, and `audit --no-checkpoint` judges without the file.
 */
#ifndef PIPELINED_AUDIT_STATE_H
#define PIPELINED_AUDIT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"
#include "util.h"

#define AUDIT_STATE_SAMPLE 64		/* a chain id kept every this many commits */
#define AUDIT_STATE_MAX_BYTES (64u << 20)	/* a larger checkpoint is not written */
#define AUDIT_STATE_MAX_FACTS (4u << 20)	/* promotions in one checkpoint */
#define AUDIT_STATE_KEY_LEN 16		/* hex digits of the configuration key */

/* One promotion remembered: the tag it brought to its stage.  As the
 * linear scans did, a lookup finds the first entry with its key. */
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

/* An open-addressing index over facts[]: slot = 1 + index, 0 empty. */
struct audit_index {
	size_t *slot;
	size_t cap;	/* a power of two, or 0 */
	size_t n;
};

struct audit_sample {
	uint64_t depth;
	char id[41];
};

struct audit_state {
	struct audit_fact *facts;	/* ascending depth, as the uses */
	size_t n, cap;
	struct audit_use *uses;
	size_t nuses, capuses;
	struct audit_index by_tag, by_request;
	size_t last[STAGE_COUNT];	/* 1 + index of the stage's latest promotion; 0 none */
	/* issue 14 item 3: the depth of the first promotion into the stage
	 * that carried Approved-By: (the two-person rule in force from there
	 * on); 0 never */
	uint64_t approvals_on[STAGE_COUNT];
	uint64_t depth;			/* commits seen; the tip's depth */
	char tip[41];			/* the last commit seen, "" at depth 0 */
	struct audit_sample *samples;	/* ascending depth */
	size_t nsamples, capsamples;
	size_t *sample_slot, sample_cap;	/* their index by id, built when asked */
	/* where judging starts (the end of the baseline, audit.h): the depth of
	 * the first judged commit, 0 when none up to the tip; the commit before
	 * it ("" when judging starts at the root) */
	uint64_t judged_depth;
	char baseline[41];
	bool unindexed;		/* decoded: facts not in the sets yet */
};

void audit_state_init(struct audit_state *s);
void audit_state_release(struct audit_state *s);

/* The next commit of the chain: depth + 1, id the tip (sampled every
 * AUDIT_STATE_SAMPLE depths).  0 or ERR_NOMEM. */
int audit_state_step(struct audit_state *s, const char *id);
/* Record a promotion of the current commit (the tip). 0 or ERR_NOMEM. */
int audit_state_remember(struct audit_state *s, enum stage st, const char *tag,
			 const char *request);
bool audit_state_reached(const struct audit_state *s, enum stage st, const char *tag);
/* The first promotion that used request, or NULL (also for NULL or ""). */
const struct audit_use *audit_state_request(const struct audit_state *s, const char *request);
/* The tag of the latest promotion into st, or NULL. */
const char *audit_state_last_tag(const struct audit_state *s, enum stage st);
bool audit_state_approvals_on(const struct audit_state *s, enum stage st);
void audit_state_set_approvals_on(struct audit_state *s, enum stage st);

/* The depth of chain id id when the state keeps it, else 0. */
uint64_t audit_state_sample_depth(struct audit_state *s, const char *id);
/* The sets of a decoded state, which audit_state_truncate also builds
 * (audit_run_state calls this).  0 or ERR_NOMEM. */
int audit_state_index(struct audit_state *s);
/* Back to the state after the first depth commits (depth <= s->depth),
 * whose last commit is id.  0, ERR_INVALID or ERR_NOMEM. */
int audit_state_truncate(struct audit_state *s, uint64_t depth, const char *id);

/* The configuration key: what the replayed facts depend on, and a format
 * version.  since: the [audit] since setting as written ("" when unset). */
struct audit_policy;
void audit_state_key(char out[AUDIT_STATE_KEY_LEN + 1], const struct audit_policy *p,
		     const char *since);

/* The checkpoint bytes of s under key. 0, ERR_TOOBIG or ERR_NOMEM. */
int audit_state_encode(struct buf *out, const struct audit_state *s, const char *key);
/* s (initialised, empty) from checkpoint bytes written under key.  0, or
 * ERR_INVALID (s empty again) or ERR_NOMEM. */
int audit_state_decode(struct audit_state *s, const char *data, size_t len, const char *key);

/* The checksum that ends the bytes (over all before it), for the fuzz
 * target to reach the parse behind it. */
uint64_t audit_state_checksum(const void *data, size_t len);

#endif
