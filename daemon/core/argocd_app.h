/* argocd_app.h - what Argo CD says a stage runs, and one verdict for it.
 *
 * Pure: the JSON bytes of an Application (GET /api/v1/applications/{name})
 * or of one line of its watch stream (GET /api/v1/stream/applications)
 * in, the facts a promotion daemon reads out; then facts plus what the
 * stage should run in, one verdict with its reason out.  No sockets, no
 * clock (times are numbers parsed from the document), no logging.  The
 * fields read are those of research/argocd (definitions of Argo CD's own
 * swagger.json: v1alpha1Application, v1alpha1ApplicationWatchEvent).
 *
 * Which source is the GitOps repository is found, never configured: of a
 * multi-source Application (spec.sources), the source whose repoURL names
 * the configured repository (compared as host + path: scheme, user, port
 * any port, ".git" and a trailing '/' do not count, so an ssh:// daemon URL
 * matches Argo CD's https:// one); when several do, the one with
 * ref == "values".  Its revision is status.sync.revisions[i] (the same
 * order as spec.sources).  A single-source Application uses spec.source and
 * status.sync.revision. */
#ifndef PIPELINED_ARGOCD_APP_H
#define PIPELINED_ARGOCD_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ARGOCD_MAX_BODY		(8u * 1024 * 1024)	/* bytes of one document */
#define ARGOCD_MAX_IMAGES	256			/* summary.images kept */
#define ARGOCD_MAX_CONDITIONS	8			/* status.conditions kept */
#define ARGOCD_TEXT_MAX		512			/* bytes of one message kept */

enum argocd_verdict {
	ARGOCD_UNKNOWN = 0,	/* unreachable, stale, or not judged yet */
	ARGOCD_DEPLOYED,	/* synced to the promotion, healthy, images match */
	ARGOCD_PROGRESSING,	/* on its way: sync running, rollout progressing */
	ARGOCD_OUT_OF_SYNC,	/* Git has moved on and Argo CD has not followed */
	ARGOCD_DEGRADED,	/* health Degraded or Missing */
	ARGOCD_SYNC_FAILED,	/* the last sync failed (with Argo CD's message) */
};

struct argocd_condition {
	char type[64];		/* ComparisonError, SyncError, ... */
	char message[ARGOCD_TEXT_MAX];
};

struct argocd_app {
	char name[254];
	char app_namespace[254];	/* metadata.namespace, or "" */
	char project[254];
	int values_source;		/* index in spec.sources; -1 single source */
	char revision[64];		/* the values source's synced revision, or "" */
	char sync[32];			/* Synced, OutOfSync, Unknown, or "" */
	char health[32];		/* Healthy, Progressing, Degraded, Suspended, Missing, Unknown */
	char health_message[ARGOCD_TEXT_MAX];
	char op_phase[32];		/* Running, Succeeded, Failed, Error, Terminating, or "" */
	char op_message[ARGOCD_TEXT_MAX];
	int64_t op_started;		/* Unix seconds; 0 when absent */
	int64_t op_finished;
	int64_t reconciled_at;
	bool health_stale;		/* the operation finished after the last reconcile */
	char **images;			/* summary.images, as Argo CD lists them */
	size_t nimages;
	bool images_truncated;		/* more than ARGOCD_MAX_IMAGES were listed */
	struct argocd_condition conditions[ARGOCD_MAX_CONDITIONS];
	size_t nconditions;
};

/* Parse one Application.  repo_url is the configured GitOps repository.
 * On success *out is initialised (argocd_app_release it).  ERR_INVALID with
 * a one-line reason in err: not JSON, not an object, a field of the wrong
 * type, no source that is the GitOps repository (the message lists the
 * repoURLs found), a revision list shorter than the sources.  ERR_TOOBIG
 * past ARGOCD_MAX_BODY. */
int argocd_app_parse(struct argocd_app *out, const char *json, size_t len, const char *repo_url,
		     struct buf *err);

/* Parse one line of the watch stream: {"result":{"type":T,"application":A}}
 * (an {"error":{...}} line is ERR_REJECTED with its message).  type gets
 * ADDED, MODIFIED or DELETED; *out is initialised unless type is DELETED. */
int argocd_event_parse(struct argocd_app *out, char type[16], const char *json, size_t len,
		       const char *repo_url, struct buf *err);

void argocd_app_release(struct argocd_app *a);

/* host + path of a repository URL (lowercased host, no scheme, user,
 * default port, ".git" or trailing '/'): "github.com/celesrenata/x". */
int argocd_repo_key(struct buf *out, const char *url);
bool argocd_repo_same(const char *a, const char *b);

/* An RFC 3339 time as Argo CD writes it ("2026-11-30T21:00:05Z", optional
 * fraction, Z or +hh:mm): Unix seconds, or -1. */
int64_t argocd_time(const char *s);

/* The Application's page in Argo CD's web UI: base (the configured [argocd]
 * url, a trailing '/' dropped) + "/applications/<namespace>/<name>", the
 * route of Argo CD's UI (ui/src/app/applications: ":appnamespace/:name";
 * the namespace is the Application resource's, metadata.namespace), or
 * "/applications/<name>" when the namespace is not known.  Bytes outside
 * [A-Za-z0-9._~-] in namespace and name are percent-encoded.  0, or
 * ERR_INVALID for an empty base or name. */
int argocd_ui_url(struct buf *out, const char *base, const char *app_namespace,
		  const char *name);

/* What the stage should run, for the verdict. */
struct argocd_expect {
	const char *tag;		/* the stage's current tag (from Git) */
	const char *const *images;	/* configured image names */
	size_t nimages;
	/* The caller's ancestry answer: the synced revision is the stage's
	 * latest promotion commit or a descendant of it. */
	bool revision_has_promotion;
};

struct argocd_state {
	enum argocd_verdict verdict;
	char why[ARGOCD_TEXT_MAX];	/* one line, for status and the journal */
	size_t images_ok;		/* configured images seen running the tag */
};

void argocd_judge(struct argocd_state *out, const struct argocd_app *a,
		  const struct argocd_expect *x);

/* "deployed", "progressing", "out-of-sync", "degraded", "sync-failed",
 * "unknown". */
const char *argocd_verdict_name(enum argocd_verdict v);

#endif
