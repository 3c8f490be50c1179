/* dashboard.c - the dashboard's page, assets and write path. */
#include "dashboard.h"
#include "sysio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "policy.h"
#include "web_assets.h"

struct dashboard {
	struct auth auth;
	uv_loop_t *loop;
	dashboard_promote_fn promote;
	void *promote_arg;
	dashboard_approve_fn approve;
	void *approve_arg;
	unsigned refs;		/* the owner's, plus one per password check running */
	unsigned checks;	/* password checks queued or running */
	bool freed;
};

enum pending_kind { PENDING_CSRF, PENDING_PROMOTE, PENDING_APPROVE };

/* One write request between its handler and its answer.  Freed once
 * answered, or once its last asynchronous step (the password check, the
 * engine's reply) comes back after the client went away. */
struct pending {
	uv_work_t work;
	struct dashboard *dash;
	struct http_deferred *d;	/* NULL once the client is gone */
	enum pending_kind kind;
	char remote[64];
	char csrf[AUTH_CSRF_MAX];
	/* the password check, on the thread pool */
	char user[AUTH_NAME_MAX + 1];
	char password[AUTH_PASSWORD_MAX + 1];
	char hash[AUTH_HASH_MAX + 1];
	bool counts, ok;
	struct auth_operator op;
	/* the promote body, parsed up front and judged after the CSRF check */
	int parse_rc;
	char parse_err[256];
	struct dashboard_promote req;
	struct dashboard_approve appr;	/* PENDING_APPROVE */
};

/* ---- responses ---- */

static const struct {
	const char *name, *value;
} security_headers[] = {
	/* The page loads nothing from anywhere else and runs no inline code. */
	{ "Content-Security-Policy",
	  "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Frame-Options", "DENY" },
};

static void secure(struct http_response *res, const char *cache)
{
	for (size_t i = 0; i < ARRAY_SIZE(security_headers); i++)
		http_response_header(res, security_headers[i].name, security_headers[i].value);
	http_response_header(res, "Cache-Control", cache);
}

/* Sets a JSON answer from obj (stolen). */
static int json_reply(struct http_response *res, unsigned status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	int rc;

	json_decref(obj);
	if (!text)
		return ERR_NOMEM;
	buf_reset(&res->body);
	res->status = status;
	strlcpy_(res->content_type, "application/json", sizeof(res->content_type));
	secure(res, "no-store");
	rc = buf_adds(&res->body, text);
	free(text);
	return rc ? rc : buf_addch(&res->body, '\n');
}

static int error_reply(struct http_response *res, unsigned status, const char *msg)
{
	return json_reply(res, status, json_pack("{s:s}", "error", msg));
}

/* ---- page and assets ---- */

static const struct {
	const char *ext, *type;
} content_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
};

static const char *content_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < ARRAY_SIZE(content_types); i++)
		if (!strcmp(dot, content_types[i].ext))
			return content_types[i].type;
	return "application/octet-stream";
}

static int asset_reply(struct http_response *res, const char *name)
{
	for (size_t i = 0; i < web_assets_count; i++) {
		if (strcmp(web_assets[i].name, name))
			continue;
		strlcpy_(res->content_type, content_type_of(name), sizeof(res->content_type));
		/* Embedded files change with the binary: revalidate each time. */
		secure(res, "no-cache");
		return buf_add(&res->body, web_assets[i].data, web_assets[i].len);
	}
	return http_text(res, 404, "not found\n");
}

int dashboard_page_handler(struct http_request *req, struct http_response *res, void *arg)
{
	return asset_reply(res, "index.html");
}

int dashboard_static_handler(struct http_request *req, struct http_response *res, void *arg)
{
	const char *name = req->path + strlen("/static/");

	if (strchr(name, '/'))
		return http_text(res, 404, "not found\n");
	return asset_reply(res, name);
}

/* ---- input ---- */

bool dashboard_origin_ok(const char *origin, const char *host)
{
	const char *authority;

	if (!origin)
		return true;
	if (!host)
		return false;
	if (!strncasecmp(origin, "https://", 8))
		authority = origin + 8;
	else if (!strncasecmp(origin, "http://", 7))
		authority = origin + 7;
	else
		return false;	/* "null" (sandboxed frames, file://) included */
	return strcasecmp(authority, host) == 0;
}

/* A string member: absent or null is "", anything but a string is an
 * error, longer than max bytes is an error. */
static int member_string(const char **out, json_t *obj, const char *key, size_t max,
			 char *errmsg, size_t errsz)
{
	json_t *v = json_object_get(obj, key);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		errmsg_set(errmsg, errsz, "'%s' must be a string", key);
		return ERR_INVALID;
	}
	if (json_string_length(v) > max) {
		errmsg_set(errmsg, errsz, "'%s' is longer than %zu bytes", key, max);
		return ERR_INVALID;
	}
	*out = json_string_value(v);
	return 0;
}

static const char *const promote_keys[] = { "stage", "tag", "notes", "break_glass",
					    "rollback" };

static const char *const approve_keys[] = { "branch", "commit" };

static int unknown_key(json_t *obj, const char *const *keys, size_t nkeys, char *errmsg,
		       size_t errsz)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		size_t i = 0;

		while (i < nkeys && strcmp(key, keys[i]))
			i++;
		if (i == nkeys) {
			errmsg_set(errmsg, errsz, "unknown field '%.64s'", key);
			return ERR_INVALID;
		}
	}
	return 0;
}

static int check_fields(struct dashboard_promote *p, json_t *obj, char *errmsg, size_t errsz)
{
	const char *stage, *tag, *notes, *bg, *rb;

	if (unknown_key(obj, promote_keys, ARRAY_SIZE(promote_keys), errmsg, errsz) ||
	    member_string(&stage, obj, "stage", 32, errmsg, errsz) ||
	    member_string(&tag, obj, "tag", TAG_MAX, errmsg, errsz) ||
	    member_string(&notes, obj, "notes", TRAILER_NOTES_MAX, errmsg, errsz) ||
	    member_string(&bg, obj, "break_glass", TRAILER_JUSTIFICATION_MAX, errmsg, errsz) ||
	    member_string(&rb, obj, "rollback", TRAILER_JUSTIFICATION_MAX, errmsg, errsz))
		return ERR_INVALID;
	if (stage_parse(&p->stage, stage) < 0 || !stage_is_deploy(p->stage)) {
		errmsg_set(errmsg, errsz, "'%s' is not a deploy stage (beta, paper or live)", stage);
		return ERR_INVALID;
	}
	if (!tag_is_sha1(tag, strlen(tag))) {
		errmsg_set(errmsg, errsz,
			   "'%s' is not a release id (the full 40-hex commit id, lowercase)", tag);
		return ERR_INVALID;
	}
	p->break_glass_given = json_object_get(obj, "break_glass") &&
			       !json_is_null(json_object_get(obj, "break_glass"));
	if (p->break_glass_given && trailer_text_blank(bg)) {
		errmsg_set(errmsg, errsz, "Break-Glass needs a written justification");
		return ERR_INVALID;
	}
	/* issue 14 item 4: the Roll back button; a rollback says why */
	p->rollback = json_object_get(obj, "rollback") &&
		      !json_is_null(json_object_get(obj, "rollback"));
	if (p->rollback && trailer_text_blank(rb)) {
		errmsg_set(errmsg, errsz, "a rollback needs a written reason");
		return ERR_INVALID;
	}
	strlcpy_(p->rollback_reason, rb, sizeof(p->rollback_reason));
	strlcpy_(p->tag, tag, sizeof(p->tag));
	strlcpy_(p->notes, trailer_text_blank(notes) ? "" : notes, sizeof(p->notes));
	strlcpy_(p->break_glass, bg, sizeof(p->break_glass));
	return 0;
}

int dashboard_promote_parse(struct dashboard_promote *out, const char *body, size_t len,
			    char *errmsg, size_t errsz)
{
	struct dashboard_promote p;
	json_error_t jerr;
	json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (!obj || !json_is_object(obj)) {
		errmsg_set(errmsg, errsz, "the body is not a JSON object%s%s", obj ? "" : ": ",
			   obj ? "" : jerr.text);
		json_decref(obj);
		return ERR_INVALID;
	}
	memset(&p, 0, sizeof(p));
	rc = check_fields(&p, obj, errmsg, errsz);
	json_decref(obj);
	if (rc)
		return rc;
	out->stage = p.stage;
	memcpy(out->tag, p.tag, sizeof(out->tag));
	memcpy(out->notes, p.notes, sizeof(out->notes));
	out->break_glass_given = p.break_glass_given;
	memcpy(out->break_glass, p.break_glass, sizeof(out->break_glass));
	out->rollback = p.rollback;
	memcpy(out->rollback_reason, p.rollback_reason, sizeof(out->rollback_reason));
	return 0;
}

int dashboard_approve_parse(struct dashboard_approve *out, const char *body, size_t len,
			    char *errmsg, size_t errsz)
{
	struct dashboard_approve a;
	struct buf err = BUF_INIT;
	json_error_t jerr;
	json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *branch, *commit;
	int rc = ERR_INVALID;

	if (!obj || !json_is_object(obj)) {
		errmsg_set(errmsg, errsz, "the body is not a JSON object%s%s", obj ? "" : ": ",
			   obj ? "" : jerr.text);
		json_decref(obj);
		return ERR_INVALID;
	}
	memset(&a, 0, sizeof(a));
	if (unknown_key(obj, approve_keys, ARRAY_SIZE(approve_keys), errmsg, errsz) ||
	    member_string(&branch, obj, "branch", sizeof(a.branch) - 12, errmsg, errsz) ||
	    member_string(&commit, obj, "commit", TAG_MAX, errmsg, errsz))
		goto out;
	if (!strncmp(branch, "refs/heads/", 11))
		branch += 11;
	if (policy_parse_branch(&a.stage, branch, &err)) {
		errmsg_set(errmsg, errsz, "'branch': %s", err.data ? err.data : "not a request branch");
		goto out;
	}
	if (!tag_is_sha1(commit, strlen(commit))) {
		errmsg_set(errmsg, errsz, "'commit' must be the request branch's tip, the full "
			   "40-hex commit id (lowercase)");
		goto out;
	}
	strlcpy_(a.branch, branch, sizeof(a.branch));
	strlcpy_(a.commit, commit, sizeof(a.commit));
	*out = a;
	rc = 0;
out:
	buf_release(&err);
	json_decref(obj);
	return rc;
}

/* ---- pending requests ---- */

static void dashboard_unref(struct dashboard *d)
{
	if (--d->refs == 0) {
		auth_release(&d->auth);
		free(d);
	}
}

static void pending_free(struct pending *p)
{
	explicit_bzero(p->password, sizeof(p->password));
	free(p);
}

static struct http_response *pending_res(struct pending *p)
{
	return http_deferred_response(p->d);
}

/* Send what pending_res holds and forget p. */
static void pending_send(struct pending *p)
{
	http_deferred_reply(p->d);
	pending_free(p);
}

static void pending_error(struct pending *p, unsigned status, const char *msg)
{
	struct http_response *res = pending_res(p);

	if (error_reply(res, status, msg))
		http_text(res, 500, "out of memory\n");
	pending_send(p);
}

static void cancel_cb(void *arg)
{
	struct pending *p = arg;

	p->d = NULL;
}

static unsigned status_of(int rc)
{
	switch (rc) {
	case ERR_INVALID: return 400;
	case ERR_REJECTED: return 409;
	case ERR_TIMEOUT: return 504;
	case ERR_NOTFOUND: return 404;
	default: return 502;
	}
}

static void promote_reply_cb(void *reply_arg, int rc, const char *branch, const char *message)
{
	struct pending *p = reply_arg;
	json_t *obj;

	if (!p->d) {
		pending_free(p);
		return;
	}
	if (rc) {
		log_notice("dashboard", "promotion of '%s' to %s for %s refused: %s", p->req.tag,
			   stage_name(p->req.stage), p->op.name, message ? message : "no reason");
		pending_error(p, status_of(rc), message ? message : "the daemon refused");
		return;
	}
	log_notice("dashboard", "%s requested %s%s for %s: branch '%s'", p->op.name,
		   p->req.rollback ? "a rollback to " : "", p->req.tag, stage_name(p->req.stage),
		   branch ? branch : "");
	obj = json_pack("{s:s?, s:s?, s:s, s:s, s:s, s:b}", "branch", branch, "message", message,
			"stage", stage_name(p->req.stage), "tag", p->req.tag,
			"requested_by", p->op.name, "rollback", p->req.rollback);
	if (json_reply(pending_res(p), 202, obj))
		http_text(pending_res(p), 500, "out of memory\n");
	pending_send(p);
}

/* The gate of every write: the CSRF check first, so that a forged request
 * learns nothing about what the input check would have said, then the
 * body's parse.  False (and the reply sent) when the write may not go on. */
static bool write_allowed(struct pending *p)
{
	struct dashboard *d = p->dash;
	int rc = auth_csrf_check(&d->auth, p->csrf, p->op.name, (int64_t)time(NULL));

	if (rc || p->parse_rc) {
		pending_error(p, rc ? 403 : 400,
			      rc == ERR_TIMEOUT ? "the CSRF token has expired: reload the page"
			      : rc ? "missing or invalid X-CSRF-Token (get one from GET "
				     DASHBOARD_CSRF_PATH ")"
			      : p->parse_err);
		return false;
	}
	return true;
}

static void promote_now(struct pending *p)
{
	struct dashboard *d = p->dash;

	if (!write_allowed(p))
		return;
	strlcpy_(p->req.author_name, p->op.name, sizeof(p->req.author_name));
	strlcpy_(p->req.author_email, p->op.email, sizeof(p->req.author_email));
	strlcpy_(p->req.remote, p->remote, sizeof(p->req.remote));
	d->promote(d->promote_arg, &p->req, promote_reply_cb, p);
}

static void approve_reply_cb(void *reply_arg, int rc, const char *approval, const char *message)
{
	struct pending *p = reply_arg;
	json_t *obj;

	if (!p->d) {
		pending_free(p);
		return;
	}
	if (rc) {
		log_notice("dashboard", "approval of '%s' by %s refused: %s", p->appr.branch,
			   p->op.name, message ? message : "no reason");
		pending_error(p, status_of(rc), message ? message : "the daemon refused");
		return;
	}
	log_notice("dashboard", "%s approved '%s' (approval %.12s)", p->op.name, p->appr.branch,
		   approval ? approval : "");
	obj = json_pack("{s:s, s:s?, s:s?, s:s, s:s}", "branch", p->appr.branch, "approval",
			approval, "message", message, "stage", stage_name(p->appr.stage),
			"approved_by", p->op.name);
	if (json_reply(pending_res(p), 202, obj))
		http_text(pending_res(p), 500, "out of memory\n");
	pending_send(p);
}

static void approve_now(struct pending *p)
{
	struct dashboard *d = p->dash;

	if (!write_allowed(p))
		return;
	strlcpy_(p->appr.author_name, p->op.name, sizeof(p->appr.author_name));
	strlcpy_(p->appr.author_email, p->op.email, sizeof(p->appr.author_email));
	strlcpy_(p->appr.remote, p->remote, sizeof(p->appr.remote));
	d->approve(d->approve_arg, &p->appr, approve_reply_cb, p);
}

static void csrf_now(struct pending *p)
{
	char token[AUTH_CSRF_MAX];
	int64_t now = (int64_t)time(NULL);
	json_t *obj;

	if (auth_csrf_issue(token, &p->dash->auth, p->op.name, now)) {
		pending_error(p, 500, "cannot issue a CSRF token");
		return;
	}
	obj = json_pack("{s:s, s:s, s:s, s:I}", "operator", p->op.name, "email", p->op.email,
			"token", token, "expires", (json_int_t)(now + AUTH_CSRF_TTL_S));
	if (json_reply(pending_res(p), 200, obj))
		http_text(pending_res(p), 500, "out of memory\n");
	pending_send(p);
}

/* The operator is known: do what was asked. */
static void proceed(struct pending *p)
{
	if (p->kind == PENDING_CSRF)
		csrf_now(p);
	else if (p->kind == PENDING_APPROVE)
		approve_now(p);
	else
		promote_now(p);
}

/* ---- authentication ---- */

static void challenge(struct pending *p, bool from_page, const char *msg)
{
	/* The page sends X-Requested-With and shows its own login form; any
	 * other client gets the Basic challenge that makes curl or a browser
	 * ask for a password. */
	http_response_header(pending_res(p), "WWW-Authenticate",
			     from_page ? "Dashboard realm=\"pipelined\""
				       : "Basic realm=\"pipelined\", charset=\"UTF-8\"");
	pending_error(p, 401, msg);
}

static void work_cb(uv_work_t *w)
{
	struct pending *p = w->data;

	p->ok = auth_password_ok(p->hash, p->password) && p->counts;
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct pending *p = w->data;
	struct dashboard *d = p->dash;
	bool freed = d->freed;
	const struct auth_user *u = freed ? NULL : auth_users_find(&d->auth.users, p->user);

	explicit_bzero(p->password, sizeof(p->password));
	d->checks--;
	if (p->ok && u) {
		auth_fail_clear(&d->auth, p->remote, p->user);
		auth_operator_of(&p->op, &d->auth, u);
	} else if (!freed) {
		auth_fail_record(&d->auth, p->remote, p->user, mono_ms());
		log_notice("dashboard", "failed login for '%s' from %s", p->user, p->remote);
	}
	if (!p->d)
		pending_free(p);
	else if (freed)
		pending_error(p, 503, "the dashboard is shutting down");
	else if (p->ok && u)
		proceed(p);
	else
		challenge(p, true, "wrong user name or password");
	dashboard_unref(d);
}

/* 429 when the address or the operator name (NULL: unknown yet) is locked
 * out; true when it answered. */
static bool throttled(struct pending *p, const char *name)
{
	uint64_t wait_ms = auth_throttled(&p->dash->auth, p->remote, name, mono_ms());
	char secs[24];

	if (!wait_ms)
		return false;
	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)(wait_ms + 999) / 1000);
	http_response_header(pending_res(p), "Retry-After", secs);
	pending_error(p, 429, "too many failed logins for this operator or from this "
		      "address; try again later");
	return true;
}

static void basic_auth(struct pending *p, const char *authz, bool from_page)
{
	struct dashboard *d = p->dash;
	const char *hash;
	bool readable;

	if (throttled(p, NULL))
		return;
	if (!authz) {
		challenge(p, from_page, "log in to use write actions");
		return;
	}
	/* A name outside the users file's alphabet cannot match, and checking
	 * it here keeps control characters out of the log line below (and out
	 * of the throttle's table). */
	readable = !auth_basic_parse(p->user, p->password, authz) && auth_name_valid(p->user);
	if (readable && throttled(p, p->user))
		return;
	if (!readable || !(hash = auth_hash_for(&d->auth.users, p->user, &p->counts))) {
		auth_fail_record(&d->auth, p->remote, readable ? p->user : NULL, mono_ms());
		challenge(p, from_page, "unreadable credentials");
		return;
	}
	/* Each check costs tens to hundreds of milliseconds of a thread-pool
	 * thread by design; a flood from many addresses must not take the
	 * whole pool, which the rest of the daemon shares. */
	if (d->checks >= DASHBOARD_MAX_CHECKS) {
		http_response_header(pending_res(p), "Retry-After", "1");
		pending_error(p, 503, "too many logins being checked; try again");
		return;
	}
	strlcpy_(p->hash, hash, sizeof(p->hash));
	p->work.data = p;
	d->refs++;
	d->checks++;
	if (uv_queue_work(d->loop, &p->work, work_cb, after_work_cb)) {
		d->refs--;
		d->checks--;
		pending_error(p, 503, "cannot check the password now");
	}
}

static void authenticate(struct pending *p, struct http_request *req)
{
	struct dashboard *d = p->dash;
	const char *xrw = http_header(req, "X-Requested-With");
	bool from_page = xrw && !strcmp(xrw, "pipelined-dashboard");
	char why[160];
	int rc = 0;

	if (d->auth.proxy_header[0])
		rc = auth_proxy_operator(&p->op, &d->auth, req->remote,
					 http_header(req, d->auth.proxy_header), why, sizeof(why));
	if (rc < 0)
		pending_error(p, 403, why);
	else if (rc == 1)
		proceed(p);
	else if (!d->auth.have_users || !d->auth.users.n)
		pending_error(p, 403, "no operator: the trusted proxy header is honoured "
			      "only from the proxy on loopback, and no users file is set");
	else
		basic_auth(p, http_header(req, "Authorization"), from_page);
}

/* ---- handlers ---- */

static int start(struct http_request *req, struct http_response *res, struct dashboard *d,
		 enum pending_kind kind, struct pending **out)
{
	struct pending *p;
	char why[160];

	if (!auth_writes_enabled(&d->auth, why, sizeof(why)))
		return error_reply(res, 403, why);
	p = calloc(1, sizeof(*p));
	if (!p)
		return ERR_NOMEM;
	p->dash = d;
	p->kind = kind;
	auth_client_address(p->remote, &d->auth, req->remote, http_header(req, "Forwarded"),
			    http_header(req, "X-Forwarded-For"));
	p->d = http_defer(req, cancel_cb, p);
	if (!p->d) {
		free(p);
		return error_reply(res, 503, "the server is stopping");
	}
	*out = p;
	return 0;
}

int dashboard_csrf_handler(struct http_request *req, struct http_response *res, void *arg)
{
	struct pending *p = NULL;
	int rc = start(req, res, arg, PENDING_CSRF, &p);

	if (rc || !p)
		return rc;
	authenticate(p, req);
	return HTTP_DEFER;
}

static bool json_content_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The checks a forged cross-site request fails before any credential is
 * looked at. */
static const char *cross_site(struct http_request *req, unsigned *status)
{
	const char *site = http_header(req, "Sec-Fetch-Site");

	*status = 403;
	if (!json_content_type(http_header(req, "Content-Type"))) {
		*status = 415;
		return "send Content-Type: application/json";
	}
	if (!dashboard_origin_ok(http_header(req, "Origin"), http_header(req, "Host")))
		return "cross-origin request refused (Origin does not match Host)";
	if (site && strcmp(site, "same-origin"))
		return "cross-site request refused (Sec-Fetch-Site)";
	return NULL;
}

/* The start of every write: writes enabled, same origin, then a pending
 * request that keeps the CSRF token for write_allowed().  0 with *out set,
 * or the reply already queued (*out NULL, the handler's return value). */
static int write_start(struct http_request *req, struct http_response *res,
		       struct dashboard *d, enum pending_kind kind, struct pending **out)
{
	const char *csrf = http_header(req, "X-CSRF-Token");
	const char *refusal;
	unsigned status;
	char why[160];
	int rc;

	*out = NULL;
	if (!auth_writes_enabled(&d->auth, why, sizeof(why)))
		return error_reply(res, 403, why);
	if ((refusal = cross_site(req, &status)) != NULL)
		return error_reply(res, status, refusal);
	rc = start(req, res, d, kind, out);
	if (rc || !*out)
		return rc;
	if (csrf && strlen(csrf) < sizeof((*out)->csrf))
		strlcpy_((*out)->csrf, csrf, sizeof((*out)->csrf));
	return 0;
}

int dashboard_promote_handler(struct http_request *req, struct http_response *res, void *arg)
{
	struct pending *p;
	int rc = write_start(req, res, arg, PENDING_PROMOTE, &p);

	if (rc || !p)
		return rc;
	p->parse_rc = dashboard_promote_parse(&p->req, req->body, req->body_len, p->parse_err,
					      sizeof(p->parse_err));
	authenticate(p, req);
	return HTTP_DEFER;
}

int dashboard_approve_handler(struct http_request *req, struct http_response *res, void *arg)
{
	struct dashboard *d = arg;
	struct pending *p;
	int rc;

	if (!d->approve)
		return error_reply(res, 403, "this daemon takes no approvals from the dashboard");
	if ((rc = write_start(req, res, d, PENDING_APPROVE, &p)) || !p)
		return rc;
	p->parse_rc = dashboard_approve_parse(&p->appr, req->body, req->body_len, p->parse_err,
					      sizeof(p->parse_err));
	authenticate(p, req);
	return HTTP_DEFER;
}

/* ---- lifetime ---- */

int dashboard_new(struct dashboard **out, const struct dashboard_opts *opts, struct buf *errors)
{
	struct dashboard *d;
	int rc;

	if (!opts->loop || !opts->promote) {
		buf_printf(errors, "dashboard: a loop and a promote callback are required\n");
		return ERR_INVALID;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return ERR_NOMEM;
	rc = auth_init(&d->auth, opts->users_path, opts->trusted_proxy_header, errors);
	if (rc) {
		free(d);
		return rc;
	}
	d->loop = opts->loop;
	d->promote = opts->promote;
	d->promote_arg = opts->promote_arg;
	d->approve = opts->approve;
	d->approve_arg = opts->approve_arg;
	d->refs = 1;
	*out = d;
	return 0;
}

int dashboard_reload(struct dashboard *d, const char *users_path, const char *proxy_header,
		     struct buf *errors)
{
	struct auth fresh;
	int rc = auth_init(&fresh, users_path, proxy_header, errors);

	if (rc)
		return rc;
	/* Keep the CSRF key and the throttle: a reload is no reason to log
	 * everyone out or to forget an attacker. */
	memcpy(fresh.key, d->auth.key, sizeof(fresh.key));
	memcpy(fresh.fails, d->auth.fails, sizeof(fresh.fails));
	fresh.fail_seq = d->auth.fail_seq;
	auth_release(&d->auth);
	d->auth = fresh;
	return 0;
}

void dashboard_free(struct dashboard *d)
{
	if (!d)
		return;
	d->freed = true;
	dashboard_unref(d);
}
