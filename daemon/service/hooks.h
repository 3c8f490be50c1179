/* hooks.h - POST /hooks/github: the HTTP edge of webhook.c.
 *
 * Reads the shared secret from its file, verifies each delivery, classifies
 * it, runs triggers through the coalescer and calls the engine's trigger
 * callback at most once per burst.  Mount it with HOOKS_ROUTE(&hooks).
 */
#ifndef PIPELINED_HOOKS_H
#define PIPELINED_HOOKS_H

#include <stdint.h>

#include "http.h"
#include "metrics.h"
#include "webhook.h"

#define HOOKS_PATH "/hooks/github"
#define HOOKS_DEFAULT_WINDOW_MS 2000
#define HOOKS_REMEMBER_MS (10 * 60 * 1000)

typedef void (*hooks_trigger_fn)(void *arg, const struct webhook_event *ev);

struct hooks {
	struct buf secret;
	struct webhook_coalescer coalescer;
	hooks_trigger_fn trigger;
	void *trigger_arg;
	/* Optional: a counter family with one label, "result" (for example
	 * metrics_std.webhooks); results are triggered, merged, duplicate,
	 * ping, ignored, bad_signature, bad_payload. */
	struct metric_family *deliveries;
};

/* Read a secret file: at most WEBHOOK_SECRET_MAX bytes, one trailing
 * newline ("\n" or "\r\n") removed, an empty secret refused. */
int hooks_secret_load(struct buf *out, const char *path, char *errmsg, size_t errsz);

/* window_ms 0 means HOOKS_DEFAULT_WINDOW_MS.  On failure (secret file
 * unreadable or empty) h is left released and errmsg says why. */
int hooks_init(struct hooks *h, const char *secret_path, uint64_t window_ms,
	       hooks_trigger_fn trigger, void *arg, char *errmsg, size_t errsz);
/* Re-read the secret (SIGHUP); the old one stays if the new file is bad. */
int hooks_secret_reload(struct hooks *h, const char *secret_path, char *errmsg, size_t errsz);
void hooks_release(struct hooks *h);

/* The route handler; arg is the struct hooks.  Answers: 401 bad or missing
 * signature, 400 unreadable payload, 200 ping, 204 ignored event, 202
 * trigger (fired, merged into a cycle just started, or a redelivery). */
int hooks_handler(struct http_request *req, struct http_response *res, void *arg);

#define HOOKS_ROUTE(h) { "POST", HOOKS_PATH, hooks_handler, (h), WEBHOOK_MAX_BODY, 0 }

#endif
