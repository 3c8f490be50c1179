/* history_walk.h - the promotion history read from the mirror: the git
 * half of history.h, which this includes.  Blocking local git work: off the
 * loop thread in the daemon. */
#ifndef PIPELINED_HISTORY_WALK_H
#define PIPELINED_HISTORY_WALK_H

#include "gitops.h"
#include "history.h"

/* Walks the first-parent history of rev (a ref or id in g's mirror), newest
 * first, down to stop (exclusive; NULL = the root) and collects promotion
 * commits.  Blocking local git work: off the loop thread in the daemon. */
int history_load(struct history *out, struct gitops *g, const char *rev, const char *stop,
		 struct buf *err);

/* The same walk, an entry at a time and nothing kept: fn(e, data) on each
 * promotion, newest first, e valid during the call, until fn returns
 * non-zero (positive: stop; negative: that error).  *truncated as
 * history.truncated.  pipelinectl log prints as it reads. */
typedef int history_entry_cb(const struct history_entry *e, void *data);
int history_each(struct gitops *g, const char *rev, const char *stop, history_entry_cb *fn,
		 void *data, bool *truncated, struct buf *err);

/* Reads a request branch down from tip (history_request_chain in
 * history.h).  0, or the gitops error (reason in g). */
int history_request_walk(struct history_request_chain *out, struct gitops *g, const char *tip);

#endif
