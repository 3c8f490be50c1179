/* argocd.h - following Argo CD Applications from the daemon's loop.
 *
 * One client follows a fixed list of Applications (one per stage) over
 * Argo CD's API with a read-only token: a watch stream per Application
 * (GET /api/v1/stream/applications?name=N) that is reopened with jittered
 * exponential backoff whenever it ends, and, when the server refuses the
 * stream, polling of GET /api/v1/applications/N.  Each time an
 * Application's facts change (argocd_app.h) or it cannot be read, the
 * update callback runs on the loop with the facts, or NULL and a one-line
 * reason that says what to fix (token expired: 401; RBAC: 403; wrong
 * Application name or project: 404; unreachable; a document that does not
 * parse).  Nothing here blocks the loop: every request has a deadline, a
 * stream has a bounded life and TCP keepalives, bodies and lines are
 * capped.  The token is read from its file once per client and sent only
 * in the Authorization header; it is never logged or reported.
 *
 * Stale health (research/argocd): when an Application's last operation
 * finished after its last reconcile, the client asks once more with
 * ?refresh=normal a second later, so the verdict does not wait for the
 * next reconcile. */
#ifndef PIPELINED_ARGOCD_H
#define PIPELINED_ARGOCD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "argocd_app.h"
#include "util.h"

#define ARGOCD_MAX_APPS		8
#define ARGOCD_TOKEN_MAX	8192

struct argocd_opts {
	const char *url;		/* https://host[:port] (http only on loopback) */
	const char *token_file;		/* the API token (a secret file) */
	const char *ca_file;		/* NULL: the system's CA store */
	const char *repo_url;		/* the GitOps repository, to find the values source */
	const char *project;		/* NULL or the AppProject: a missing app is a 404 */
	const char *const *apps;	/* Application names; the index is the caller's key */
	size_t napps;
	uint64_t deadline_ms;		/* one request (connect + answer); 0: 30 s */
	uint64_t poll_ms;		/* polling period when streams are refused; 0: 10 s */
	uint64_t stream_life_ms;	/* a stream is reopened after this; 0: 10 min */
	uint64_t backoff_max_ms;	/* reconnect backoff cap; 0: 60 s */
};

/* facts == NULL: the Application cannot be read now; why says so.  facts
 * is valid during the call only. */
typedef void argocd_update_cb(size_t app, const struct argocd_app *facts, const char *why,
			      void *arg);

struct argocd;

/* Reads the token and starts following every Application at once.  On
 * failure (bad URL, unreadable or empty token file) err says why. */
int argocd_new(struct argocd **out, uv_loop_t *loop, const struct argocd_opts *opts,
	       argocd_update_cb *update, void *arg, struct buf *err);
/* Stops everything; no callback runs after it returns. */
void argocd_free(struct argocd *c);

/* Counters for status and tests. */
struct argocd_stats {
	uint64_t streams_opened;
	uint64_t polls;
	uint64_t events;
	uint64_t failures;
};
void argocd_get_stats(const struct argocd *c, struct argocd_stats *out);

#endif
