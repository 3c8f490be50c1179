/* engine_block.c - pure: what a failed promotion means for its stage.
 *
 * (Which failures are permanent is engine_fail_classify's, in engine_act.c,
 * because it reads the git layer's error codes.)  A transient failure (the network, a deadline, the remote moving under
 * us, a busy registry) is retried with a jittered backoff.  A permanent
 * one (the values file does not satisfy the mapping, is missing or does
 * not parse, a server-side hook declined the push, the release's edit is
 * refused) would fail the same way every cycle: the stage is *blocked*
 * with the reason, and tried again only when something that could change
 * the answer changed (the branch tip, the release or request, the
 * configuration).  No logging, no clock: the engine passes times in. */
#include "engine_block.h"
#include "util.h"

#include <string.h>

#define BACKOFF_MAX_MS (10u * 60 * 1000)
#define BACKOFF_MIN_MS 1000u		/* pollInterval's own minimum (config.c) */

uint64_t engine_backoff_ms(uint64_t poll_ms, unsigned failures, unsigned rnd)
{
	uint64_t d = poll_ms < BACKOFF_MIN_MS ? BACKOFF_MIN_MS : poll_ms, jitter;

	for (unsigned i = 1; i < failures && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	/* +-10%: many daemons on one remote do not retry in lockstep */
	jitter = d / 10;
	return jitter ? d - jitter + (uint64_t)rnd % (2 * jitter + 1) : d;
}

bool engine_block_allows(const struct engine_block *b, const char *tip, const char *tag,
			 const char *req, uint64_t cfg_gen)
{
	if (!b->on)
		return true;
	/* the layout check itself is the retry: it runs on every new tip
	 * and every configuration */
	if (b->source == BLOCK_LAYOUT)
		return false;
	return strcmp(b->tip, tip ? tip : "") != 0 || strcmp(b->tag, tag ? tag : "") != 0 ||
	       strcmp(b->req, req ? req : "") != 0 || b->cfg_gen != cfg_gen;
}

bool engine_block_set(struct engine_block *b, enum block_source source, const char *reason,
		      int64_t now, const char *tip, const char *tag, const char *req,
		      uint64_t cfg_gen)
{
	bool news = !b->on || b->source != source || strcmp(b->reason, reason) != 0;

	if (!b->on)
		b->since = now;
	b->on = true;
	b->source = source;
	strlcpy_(b->reason, reason, sizeof b->reason);
	strlcpy_(b->tip, tip ? tip : "", sizeof b->tip);
	strlcpy_(b->tag, tag ? tag : "", sizeof b->tag);
	strlcpy_(b->req, req ? req : "", sizeof b->req);
	b->cfg_gen = cfg_gen;
	return news;
}

bool engine_block_clear(struct engine_block *b)
{
	bool was = b->on;

	memset(b, 0, sizeof *b);
	return was;
}
