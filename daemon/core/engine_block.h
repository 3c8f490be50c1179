/* engine_block.h - pure: a stage that cannot be promoted into until
 * something changes (engine_block.c).  Apart from engine_int.h so that the
 * planner (engine_plan.c) reads a stage's block without the loop's types. */
#ifndef PIPELINED_ENGINE_BLOCK_H
#define PIPELINED_ENGINE_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define ENGINE_ID_SZ 41			/* a 40-hex commit id and its NUL */
#define ENGINE_REASON_MAX 1024		/* a stage's block or failure, with the file, image, path */

enum block_source {
	BLOCK_LAYOUT = 0,	/* the layout check of the values file at the tip */
	BLOCK_ACTION,		/* a promotion or merge failed permanently */
};

struct engine_block {
	bool on;
	enum block_source source;
	char reason[ENGINE_REASON_MAX];	/* names the file, image and path */
	int64_t since;			/* wall time it started */
	/* what the failed attempt was made with: a different tip, release,
	 * request or configuration allows one more attempt (BLOCK_ACTION) */
	char tip[ENGINE_ID_SZ];
	char tag[ENGINE_ID_SZ];
	char req[ENGINE_ID_SZ];
	uint64_t cfg_gen;
};

/* Whether an attempt with these inputs may run under b. */
bool engine_block_allows(const struct engine_block *b, const char *tip, const char *tag,
			 const char *req, uint64_t cfg_gen);
/* Block (or re-block) b; true when this is news worth one journal line
 * (it was not blocked, or for another reason). */
bool engine_block_set(struct engine_block *b, enum block_source source, const char *reason,
		      int64_t now, const char *tip, const char *tag, const char *req,
		      uint64_t cfg_gen);
/* Unblock b; true when it was blocked. */
bool engine_block_clear(struct engine_block *b);
/* The delay before attempt failures+1: poll (the configured pollInterval,
 * never below 1 s) doubled per failure from the second, at most 10 min,
 * +-10% from rnd. */
uint64_t engine_backoff_ms(uint64_t poll_ms, unsigned failures, unsigned rnd);

#endif
