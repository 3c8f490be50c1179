/* registry.h - the OCI registry client (SPEC section 4).
 *
 * Asks one registry, over one httpc (HTTP/2 where offered), whether every
 * image of a release exists, fetches the integration-test evidence, and
 * lists tags.  Authenticates with the Bearer challenge flow or Basic, and
 * is polite: a request budget per cycle, exponential backoff with jitter
 * after errors, Retry-After honoured.  An error is never reported as
 * "missing" and never as "complete": the caller waits (registry_retry_in_ms)
 * and asks again.
 *
 * Credentials and tokens are never logged and never copied into a result.
 */
#ifndef PIPELINED_REGISTRY_H
#define PIPELINED_REGISTRY_H

#include "regparse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define REGISTRY_ERR_MAX 320

struct registry_opts {
	const char *base_url;		/* "https://ghcr.io" (http only for loopback) */
	const char *namespace;		/* "celesrenata/stonks-oracle" */
	const char *const *images;	/* image names under the namespace */
	size_t n_images;
	const char *evidence_image;	/* NULL: "inttest" */
	const char *credentials_file;	/* one line "username:token"; NULL: anonymous */
	const char *ca_file;		/* NULL: the system bundle */
	long connect_timeout_ms;	/* 0: 10 s */
	long total_timeout_ms;		/* 0: 30 s */
	long low_speed_limit;		/* bytes/s; 0: 100 */
	long low_speed_time_s;		/* 0: 15 s */
	uint32_t request_budget;	/* requests per cycle; 0: 200 */
	uint32_t page_cap;		/* tags/list pages; 0: 50 */
	uint32_t tag_cap;		/* tags in one listing; 0: 10000 */
	size_t manifest_max;		/* 0: 4 MiB */
	size_t evidence_max;		/* 0: 1 MiB */
	size_t token_max;		/* 0: 64 KiB */
	uint64_t backoff_base_ms;	/* 0: 5 s */
	uint64_t backoff_max_ms;	/* 0: 10 min */
};

enum registry_status {
	REGISTRY_COMPLETE = 0,		/* release: every image exists */
	REGISTRY_INCOMPLETE,		/* release: some images are missing (404) */
	REGISTRY_ERROR,			/* could not tell: retry later */
};

enum registry_image_state {
	REGISTRY_IMG_UNKNOWN = 0,	/* not asked (budget, backoff) */
	REGISTRY_IMG_PRESENT,
	REGISTRY_IMG_MISSING,
	REGISTRY_IMG_ERROR,
};

struct registry_image_result {
	const char *image;
	enum registry_image_state state;
	char digest[72];		/* Docker-Content-Digest when present */
	char error[256];
};

struct registry_release {
	enum registry_status status;
	char sha[41];
	size_t n_images;
	struct registry_image_result *images;
	size_t n_present, n_missing, n_error;
	char error[REGISTRY_ERR_MAX];	/* status ERROR: "image 'x': why" */
	bool budget_exhausted;
};

enum registry_evidence_status {
	REGISTRY_EVIDENCE_PASSED = 0,
	REGISTRY_EVIDENCE_FAILED,
	REGISTRY_EVIDENCE_MISSING,	/* no artifact for this SHA (yet) */
	REGISTRY_EVIDENCE_ERROR,	/* could not tell (transport, HTTP, bad digest): retry */
	/* the artifact exists but cannot be read: its manifest has no single
	 * JSON layer, the layer is over the cap, or the document is not valid
	 * evidence.  A fact about the artifact, not a failure of the
	 * registry: no backoff, and asking again only helps once it changes. */
	REGISTRY_EVIDENCE_UNREADABLE,
};

struct registry_evidence {
	enum registry_evidence_status status;
	char sha[41];
	struct reg_evidence ev;		/* PASSED/FAILED: the counts and failures */
	char digest[72];		/* the evidence blob */
	char error[REGISTRY_ERR_MAX];	/* ERROR, UNREADABLE: why (printable ASCII) */
	bool budget_exhausted;
	/* UNREADABLE: the manifest digest, the artifact's identity */
	char artifact[72];
	/* UNREADABLE: the artifact is still the known unreadable one (its
	 * manifest digest matched, so nothing was fetched and error is "") */
	bool unchanged;
};

struct registry_tags {
	int status;			/* 0, or negative with error set */
	char **tags;			/* in the registry's order */
	size_t n_tags;
	unsigned pages;
	bool truncated;			/* page or tag cap reached */
	size_t skipped;			/* entries that are not valid tags */
	char error[REGISTRY_ERR_MAX];
	bool budget_exhausted;
};

struct registry_stats {
	uint64_t requests;		/* every HTTP request, tokens included */
	uint64_t token_requests;
	uint64_t connections;		/* TCP connections opened */
	uint32_t budget_left;
	unsigned failures;		/* consecutive, drives the backoff */
	uint64_t last_delay_ms;		/* the wait set by the last failure */
	long last_http_version;		/* CURL_HTTP_VERSION_* of the last response */
};

typedef void registry_release_cb(const struct registry_release *res, void *arg);
typedef void registry_evidence_cb(const struct registry_evidence *res, void *arg);
typedef void registry_tags_cb(const struct registry_tags *res, void *arg);

struct registry;

/* Validates the options and reads the credentials file.  ERR_INVALID with
 * err filled (never with the file's content). */
int registry_new(struct registry **out, uv_loop_t *loop, const struct registry_opts *opts,
		 char *err, size_t errsz);
/* Cancels what is in flight without calling the result callbacks.  Must not
 * be called from inside one of them. */
void registry_free(struct registry *r);

/* A new polling cycle: the request budget is refilled. */
void registry_cycle_begin(struct registry *r);
/* Milliseconds until the registry may be asked again (0: now).  While it is
 * positive the operations below refuse with ERR_REJECTED. */
uint64_t registry_retry_in_ms(const struct registry *r);
void registry_get_stats(struct registry_stats *out, const struct registry *r);

/* Each starts the work and returns 0; cb runs later on the loop, exactly
 * once.  ERR_INVALID for a bad argument, ERR_REJECTED while backing off. */
int registry_release_check(struct registry *r, const char *sha, registry_release_cb *cb, void *arg);
/* known_unreadable: NULL, or the manifest digest of an artifact an earlier
 * fetch found UNREADABLE.  Then the manifest is asked for with HEAD first
 * (one request) and, while its digest is still that one, the answer is
 * UNREADABLE with unchanged set: no GET, no parse, no new error. */
int registry_evidence_fetch(struct registry *r, const char *sha, const char *known_unreadable,
			    registry_evidence_cb *cb, void *arg);
int registry_tags_list(struct registry *r, const char *name, registry_tags_cb *cb, void *arg);

const char *registry_status_name(enum registry_status s);
const char *registry_evidence_status_name(enum registry_evidence_status s);

#endif
