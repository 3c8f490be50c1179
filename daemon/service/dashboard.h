/* dashboard.h - the web dashboard (SPEC 10; replaces Kargo's UI).
 *
 * The page and its assets are compiled into the binary (web/ ->
 * web_assets.c at build time) and read the engine's JSON API
 * (GET /api/v1/status, GET /api/v1/history?stage=), which this module does
 * not serve.  It adds the write path: an authenticated operator (auth.h)
 * asks for a promotion; the input is validated here and handed to the
 * daemon's promote callback, which creates the request exactly as
 * `pipelinectl promote` does, so a dashboard promotion passes the same
 * gates and leaves the same audit trail.
 *
 * Routes (DASHBOARD_ROUTES):
 *   GET  /            the page
 *   GET  /static/...  app.js, app.css
 *   GET  /api/v1/csrf authenticate, then {"operator","email","token","expires"}
 *   POST /api/v1/promote  {stage, tag, notes, break_glass, rollback}
 *   POST /api/v1/approve  {branch, commit}: the Approve button (issue 14
 *                     item 3), an approval commit signed with [http]
 *                     approvalKey on a request waiting approval-required
 *
 * Every POST needs: a configured write path (else 403 with the reason),
 * Content-Type: application/json (415), Origin matching Host and
 * Sec-Fetch-Site same-origin when the browser sends them (403), an
 * operator (proxy header from loopback, or HTTP Basic against the users
 * file: 401, 429 after repeated failures), X-CSRF-Token from
 * GET /api/v1/csrf for that operator (403), then valid input (400).
 * Passwords are checked with crypt(3) on libuv's thread pool, never on the
 * loop thread, at most DASHBOARD_MAX_CHECKS at once (503 beyond).
 */
#ifndef PIPELINED_DASHBOARD_H
#define PIPELINED_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "auth_load.h"
#include "http.h"
#include "stage.h"
#include "tag.h"
#include "trailer.h"

#define DASHBOARD_CSRF_PATH "/api/v1/csrf"
#define DASHBOARD_PROMOTE_PATH "/api/v1/promote"
#define DASHBOARD_APPROVE_PATH "/api/v1/approve"
#define DASHBOARD_APPROVE_MAX_BODY 1024u
#define DASHBOARD_MAX_BODY (64u * 1024)	/* notes + justification, JSON-escaped */
#define DASHBOARD_MAX_CHECKS 2	/* password checks at once (of libuv's 4 pool threads) */

/* A validated promotion request.  Strings are NUL-terminated; notes and
 * break_glass are "" when absent (break_glass_given says whether the
 * operator used Break-Glass, whose text is then never blank). */
struct dashboard_promote {
	enum stage stage;			/* beta, paper or live */
	char tag[TAG_MAX + 1];			/* 40-hex release id */
	char notes[TRAILER_NOTES_MAX + 1];
	bool break_glass_given;
	char break_glass[TRAILER_JUSTIFICATION_MAX + 1];
	char author_name[AUTH_NAME_MAX + 1];	/* the authenticated operator */
	char author_email[AUTH_EMAIL_MAX + 1];	/* users file, else name@host */
	char remote[64];			/* client address, for the log */
	/* issue 14 item 4: the Roll back button; tag is the release to go
	 * back to, and the request carries Rollback: <reason> */
	bool rollback;
	char rollback_reason[TRAILER_JUSTIFICATION_MAX + 1];
};

/* The daemon's answer to one promote call, on the loop thread, exactly
 * once (also when the daemon stops: then with an error).  rc 0: branch is
 * the request branch created ("promote/paper/..."), message optional;
 * else message says why, and rc picks the status: ERR_INVALID 400,
 * ERR_REJECTED 409 (a gate said no), ERR_TIMEOUT 504, others 502. */
typedef void (*dashboard_reply_fn)(void *reply_arg, int rc, const char *branch,
				   const char *message);
/* req is valid during the call only (copy what is kept).  reply may be
 * called before promote returns. */
typedef void (*dashboard_promote_fn)(void *arg, const struct dashboard_promote *req,
				     dashboard_reply_fn reply, void *reply_arg);

/* Issue 14 item 3: a validated Approve.  branch and commit are what the
 * page showed: the approval goes on that tip or not at all. */
struct dashboard_approve {
	char branch[256];			/* "promote/<stage>/<name>" */
	enum stage stage;			/* from the branch */
	char commit[TAG_MAX + 1];		/* 40-hex: the branch tip approved */
	char author_name[AUTH_NAME_MAX + 1];	/* the authenticated operator */
	char author_email[AUTH_EMAIL_MAX + 1];
	char remote[64];
};
/* As dashboard_promote_fn; the reply's branch is then the approval
 * commit made (40-hex), and ERR_NOTFOUND (404) says no such request. */
typedef void (*dashboard_approve_fn)(void *arg, const struct dashboard_approve *req,
				     dashboard_reply_fn reply, void *reply_arg);

struct dashboard_opts {
	uv_loop_t *loop;			/* for the password checks */
	const char *users_path;			/* [http] users, or NULL */
	const char *trusted_proxy_header;	/* [http] trustedProxyHeader, or NULL */
	dashboard_promote_fn promote;
	void *promote_arg;
	dashboard_approve_fn approve;		/* NULL: 403 on POST approve */
	void *approve_arg;
};

struct dashboard;

/* ERR_* with errors filled ("file:line: what" lines for the users file). */
int dashboard_new(struct dashboard **out, const struct dashboard_opts *opts, struct buf *errors);
/* SIGHUP: re-read the users file and proxy header; on error the old ones
 * stay and errors says why.  Outstanding CSRF tokens stay valid. */
int dashboard_reload(struct dashboard *d, const char *users_path, const char *proxy_header,
		     struct buf *errors);
/* Password checks still running finish on the thread pool and are then
 * answered 503; d itself is freed when the last one is done. */
void dashboard_free(struct dashboard *d);

int dashboard_page_handler(struct http_request *req, struct http_response *res, void *arg);
int dashboard_static_handler(struct http_request *req, struct http_response *res, void *arg);
int dashboard_csrf_handler(struct http_request *req, struct http_response *res, void *arg);
int dashboard_promote_handler(struct http_request *req, struct http_response *res, void *arg);
int dashboard_approve_handler(struct http_request *req, struct http_response *res, void *arg);

#define DASHBOARD_ROUTES(d) \
	{ "GET", "/", dashboard_page_handler, (d), 0, 0 }, \
	{ "GET", "/static/*", dashboard_static_handler, (d), 0, 0 }, \
	{ "GET", DASHBOARD_CSRF_PATH, dashboard_csrf_handler, (d), 0, HTTP_ROUTE_WRITE }, \
	{ "POST", DASHBOARD_PROMOTE_PATH, dashboard_promote_handler, (d), DASHBOARD_MAX_BODY, 0 }, \
	{ "POST", DASHBOARD_APPROVE_PATH, dashboard_approve_handler, (d), \
	  DASHBOARD_APPROVE_MAX_BODY, 0 }

/* Pure: parse and check a promote body.  ERR_INVALID with a message
 * naming the field; out (author fields untouched) only on success. */
int dashboard_promote_parse(struct dashboard_promote *out, const char *body, size_t len,
			    char *errmsg, size_t errsz);
/* Pure: parse and check an approve body {"branch": "promote/<stage>/<name>"
 * (refs/heads/ allowed), "commit": 40-hex}.  ERR_INVALID with a message. */
int dashboard_approve_parse(struct dashboard_approve *out, const char *body, size_t len,
			    char *errmsg, size_t errsz);
/* Pure: whether Origin (scheme://host[:port]) names host (a Host header
 * value).  NULL origin counts as same-origin (non-browser clients). */
bool dashboard_origin_ok(const char *origin, const char *host);

#endif
