/* regparse.h - the pure half of the registry client.
 *
 * Bytes in, structs out: the WWW-Authenticate challenge, the Link header,
 * Retry-After, the token, tags/list, manifest and evidence JSON bodies, and
 * the backoff arithmetic.  No socket, no clock (the caller passes "now"), no
 * logging, so every function here is unit-tested and fuzzed directly.
 */
#ifndef PIPELINED_REGPARSE_H
#define PIPELINED_REGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define REGPARSE_ERR_MAX 160

enum reg_auth_scheme {
	REG_AUTH_NONE = 0,
	REG_AUTH_BASIC,
	REG_AUTH_BEARER,
};

/* One challenge of a WWW-Authenticate header (RFC 7235 section 4.1). */
struct reg_challenge {
	enum reg_auth_scheme scheme;
	char realm[512];
	char service[256];
	char scope[1024];
	char error[64];
};

/* Parse a WWW-Authenticate value, which may hold several challenges
 * ("Bearer realm=\"a\",service=\"b\", Basic realm=\"c\"") and quoted
 * strings with backslash escapes.  Picks Bearer over Basic; other schemes
 * are skipped.  0, ERR_NOTFOUND (no Bearer/Basic), ERR_INVALID (syntax),
 * ERR_TOOBIG (a parameter longer than its field). */
int regparse_challenge(struct reg_challenge *out, const char *hdr, size_t len);

/* Find the target of the link with rel="next" in a Link header value
 * (RFC 8288; several comma-separated links, rel may list several types).
 * The target is returned as written (possibly relative).  0, ERR_NOTFOUND,
 * ERR_INVALID, ERR_TOOBIG. */
int regparse_link_next(char *out, size_t outsz, const char *hdr, size_t len);

/* Retry-After: delta-seconds or an IMF-fixdate HTTP-date, relative to the
 * wall-clock now.  A date in the past gives 0.  The result is clamped to
 * max_ms.  0 or ERR_INVALID. */
int regparse_retry_after(uint64_t *delay_ms, const char *v, time_t now, uint64_t max_ms);

/* Exponential backoff with "equal jitter": the delay for the n-th
 * consecutive failure (n >= 1) is d/2 + rnd % (d/2 + 1) with
 * d = min(max_ms, base_ms * 2^(n-1)), so it never drops below half the
 * nominal delay and never exceeds the cap. */
uint64_t regparse_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t max_ms, uint32_t rnd);

/* Token endpoint body: {"token": ...} or {"access_token": ...}, optional
 * "expires_in" (seconds; the distribution spec's default of 60 when absent,
 * and never below 60).  *token is malloc'd. */
int regparse_token(char **token, uint64_t *expires_s, const char *json, size_t len,
		   char *err, size_t errsz);

/* tags/list body: {"name": ..., "tags": [...] | null}.  Calls add for
 * every valid tag (stops with its error if it returns non-zero). */
typedef int regparse_tag_fn(void *arg, const char *tag, size_t len);
int regparse_tags(size_t *ntags, size_t *nskipped, const char *json, size_t len,
		  regparse_tag_fn *add, void *arg, char *err, size_t errsz);

/* "sha256:" followed by 64 lowercase hex digits. */
bool regparse_digest_valid(const char *s, size_t len);

/* The layer of the integration-test artifact manifest: the single layer
 * with media type application/json (or, for an OCI 1.1 artifact whose
 * artifactType is application/json, its single layer). */
struct reg_layer {
	char digest[72];
	uint64_t size;
};
int regparse_evidence_manifest(struct reg_layer *out, const char *json, size_t len,
			       char *err, size_t errsz);

/* The evidence document (SPEC 4.6).  Absent counters are -1. */
#define REG_EVIDENCE_FAILURES 5
struct reg_evidence {
	int64_t exit_code;
	int64_t passed, failed, skipped, total;
	bool ok;		/* exit_code == 0 && failed <= 0 */
	char failures[256];	/* first few failed test names, ", "-joined */
};
int regparse_evidence(struct reg_evidence *out, const char *json, size_t len,
		      char *err, size_t errsz);

#endif
