/* webhook.h - GitHub webhook deliveries: signature, event kind, coalescing.
 *
 * Pure: bytes and the monotonic time in, decisions out.  The HTTP glue that
 * reads the secret file and answers the request lives in hooks.c.
 */
#ifndef PIPELINED_WEBHOOK_H
#define PIPELINED_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies past this are refused before parsing (GitHub caps deliveries at
 * 25 MB; the events we act on are a few KB). */
#define WEBHOOK_MAX_BODY (1024u * 1024)
#define WEBHOOK_SECRET_MAX 1024

/* Check "X-Hub-Signature-256: sha256=<64 lowercase hex>" against the
 * HMAC-SHA256 of the raw body.  0 when it matches; ERR_INVALID for a missing
 * or malformed header (other prefix, wrong length, non-hex or uppercase
 * digits); ERR_REJECTED when well-formed but wrong.  The digest comparison
 * runs in constant time. */
int webhook_verify(const void *secret, size_t secret_len, const char *header,
		   const void *body, size_t body_len);

/* Hex HMAC-SHA256 of body, as GitHub sends it (no "sha256=" prefix). */
int webhook_sign(char out[65], const void *secret, size_t secret_len,
		 const void *body, size_t body_len);

enum webhook_kind {
	WEBHOOK_IGNORE,		/* answered, nothing else happens */
	WEBHOOK_PING,		/* GitHub's hello after configuring the hook */
	WEBHOOK_TRIGGER,	/* a release may have appeared: run a cycle */
};

/* What a delivery was about, for the log line and the reply. */
struct webhook_event {
	enum webhook_kind kind;
	char event[40];		/* X-GitHub-Event */
	char action[40];	/* "published", "completed", ... or "" */
	char subject[160];	/* package "name:tag" or workflow "name@sha", or "" */
};

/* Classify a verified delivery from its X-GitHub-Event value and JSON body.
 * Triggers: "package" and "registry_package" with action "published",
 * "workflow_run" with action "completed".  "ping" is PING; any other event
 * is IGNORE without looking at the body.  For the events we act on the body
 * must be one JSON object (duplicate keys refused) carrying a string
 * "action": else ERR_INVALID with the reason in errmsg. */
int webhook_classify(struct webhook_event *out, const char *event,
		     const void *body, size_t body_len,
		     char *errmsg, size_t errsz);

const char *webhook_kind_name(enum webhook_kind kind);

/* Duplicate deliveries collapse into one cycle: GitHub sends one
 * registry_package event per platform manifest of the same push, and
 * redelivers the same X-GitHub-Delivery id on retries. */
#define WEBHOOK_SEEN_IDS 64
#define WEBHOOK_ID_MAX 64

struct webhook_coalescer {
	uint64_t window_ms;	/* triggers this close to the last one merge */
	uint64_t remember_ms;	/* delivery ids are recognised this long */
	uint64_t last_fire_ms;
	bool fired;
	struct {
		char id[WEBHOOK_ID_MAX + 1];
		uint64_t at_ms;
	} seen[WEBHOOK_SEEN_IDS];
	size_t next;		/* ring position of the oldest slot */
};

enum webhook_verdict {
	WEBHOOK_FIRE,		/* start a cycle now */
	WEBHOOK_MERGED,		/* a cycle was started less than a window ago */
	WEBHOOK_DUPLICATE,	/* this delivery id was already handled */
};

void webhook_coalescer_init(struct webhook_coalescer *c, uint64_t window_ms,
			    uint64_t remember_ms);
/* Offer one trigger delivery (delivery_id may be NULL or "") seen at
 * now_ms (monotonic).  Every delivery id is remembered, fired or not. */
enum webhook_verdict webhook_coalescer_offer(struct webhook_coalescer *c,
					     const char *delivery_id,
					     uint64_t now_ms);
const char *webhook_verdict_name(enum webhook_verdict v);

#endif
