/* engine_admit.h - pure: which request branches get a slot under the
 * bounds of [requests], and when a refusal is old enough to expire
 * (engine_admit.c). */
#ifndef PIPELINED_ENGINE_ADMIT_H
#define PIPELINED_ENGINE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum admit_result {
	ADMIT_SLOT = 0,		/* tracked: judged by policy */
	ADMIT_FULL_MAX,		/* queue-full: requests.max slots are held */
	ADMIT_FULL_AUTHOR,	/* queue-full: its author holds requests.perAuthor */
};

struct admit_branch {
	const char *name;	/* "promote/<stage>/<name>": ties on time */
	const char *author;	/* the tip's author e-mail, compared without case */
	int64_t time;		/* the tip's committer time: oldest first */
	bool tracked;		/* holds a slot already: keeps it */
};

/* Which of b[0..n) get a slot under max and per_author: out[i] for b[i].
 * Slots held are kept; free ones go oldest tip first (then name), skipping
 * an author who holds per_author. */
int engine_admit(enum admit_result *out, const struct admit_branch *b, size_t n, size_t max,
		 size_t per_author);
/* The queue-full refusal (and note) of a branch admission passed over:
 * which bound, and what to do.  The same text every cycle. */
void engine_admit_message(char *out, size_t outsz, enum admit_result r, size_t max,
			  size_t per_author);
/* Whether a refusal on a tip of tip_time (seconds) is older than
 * expire_ms at now; never when expire_ms is 0 or the tip is in the future. */
bool engine_refusal_expired(int64_t tip_time, int64_t now, uint64_t expire_ms);

#endif
