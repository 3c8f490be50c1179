/* engine_block.c - pure: what a failed promotion means for its stage.
 *
 * A transient failure (the network, a deadline, the remote moving under
 * us, a busy registry) is retried with a jittered backoff.  A permanent
 * one (the values file does not satisfy the mapping, is missing or does
 * not parse, a server-side hook declined the push, the release's edit is
 * refused) would fail the same way every cycle: the stage is *blocked*
 * with the reason, and tried again only when something that could change
 * the answer changed (the branch tip, the release or request, the
 * configuration).  No logging, no clock: the engine passes times in. */
#include "engine_int.h"

#include <string.h>

#define BACKOFF_MAX_MS (10u * 60 * 1000)
#define BACKOFF_MIN_MS 1000u		/* pollInterval's own minimum (config.c) */

enum engine_fail engine_fail_classify(int rc, int edit_rc)
{
	if (rc == 0)
		return ENGINE_FAIL_NONE;
	/* the edit ran and refused: the bytes at the tip (layout, YAML, a
	 * missing file) or the release's own values; a fresh fetch of the
	 * same tip gives the same answer.  Only running out of memory is
	 * worth another try. */
	if (edit_rc && edit_rc != ERR_NOMEM)
		return ENGINE_FAIL_PERMANENT;
	switch (rc) {
	case GITOPS_EHOOK:	/* the server's policy said no, not a race */
		return ENGINE_FAIL_PERMANENT;
	default:
		/* ERR_TIMEOUT, GITOPS_ENONFF and ERR_REJECTED (raced after the
		 * transaction's own retries), ERR_FAIL/ERR_IO (the helper or
		 * the network), GITOPS_EHOSTKEY/EAUTH (ls-remote fails on
		 * those as well and backs off the whole engine) */
		return ENGINE_FAIL_TRANSIENT;
	}
}

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
