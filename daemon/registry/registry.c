/* registry.c - see registry.h.
 *
 * Every HTTP exchange is an rreq belonging to an op (a release check, an
 * evidence fetch, a tag listing).  An rreq goes: attach auth -> spend one
 * request of the budget -> httpc -> on 401 run the challenge flow and try
 * again (at most twice) -> on errors note a failure for the backoff -> hand
 * the response to the op's step function.  The op completes when its last
 * rreq is done.
 */
#include "registry.h"
#include "httpc.h"
#include "log.h"
#include "tag.h"
#include "sysio.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SUB "registry"
#define TOKEN_CACHE_MAX 64
#define CREDS_MAX 4096
#define RETRY_AFTER_MAX_MS (6ull * 3600 * 1000)
#define TAGS_PAGE_N 100
#define URL_MAX 2048
/* the distribution spec's limit on a repository name */
#define REPO_MAX 255

static const char *const manifest_accept =
	"Accept: application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json";

static const char *const manifest_types[] = {
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
};

enum op_kind { OP_RELEASE, OP_EVIDENCE, OP_TAGS };
enum rreq_kind {
	RQ_HEAD_MANIFEST, RQ_EVIDENCE_MANIFEST, RQ_EVIDENCE_BLOB, RQ_TAGS, RQ_EVIDENCE_HEAD
};

struct token {
	char *scope;
	char *value;		/* NULL while being fetched */
	uint64_t expires;	/* monotonic ms */
	bool inflight;
	struct rreq *waiters;
};

struct op {
	struct registry *r;
	enum op_kind kind;
	int pending;
	void *cb;
	void *arg;
	struct op *prev, *next;
	union {
		struct registry_release rel;
		struct registry_evidence ev;
		struct registry_tags tags;
	} u;
	bool failed;		/* an error other than the budget: back off */
	uint64_t retry_after_ms;	/* the longest Retry-After seen */
	char name[REPO_MAX + 1];	/* tags: the repository */
	size_t tags_alloc;
	struct reg_layer layer;
	char known[72];		/* evidence: the manifest digest known unreadable */
};

struct rreq {
	struct op *op;
	enum rreq_kind kind;
	size_t index;		/* release: which image */
	char url[URL_MAX];
	char scope[300];
	const char *accept;
	size_t body_max;
	bool used_token, used_basic;
	unsigned auth_tries;
	struct rreq *wait_next;
};

struct registry {
	uv_loop_t *loop;
	struct httpc *http;
	struct registry_opts o;
	char *base, *ns, *evidence_image, **images;
	char *userpwd;		/* "user:token" from the credentials file */
	enum reg_auth_scheme auth;
	char realm[512], service[256];
	struct token tokens[TOKEN_CACHE_MAX];
	size_t n_tokens;
	uint32_t budget_left;
	unsigned failures;
	uint64_t next_allowed;	/* monotonic ms */
	struct registry_stats stats;
	struct op *ops;
	bool closing;
};

static void rreq_send(struct rreq *q);
static void rreq_finish(struct rreq *q, const char *error);
static void token_fail_waiters(struct registry *r, struct token *t, const char *why);

/* ---------------------------------------------------------------- politeness */

static uint32_t jitter_rand(void)
{
	uint32_t x = 0;

	if (uv_random(NULL, NULL, &x, sizeof(x), 0, NULL))
		x = (uint32_t)mono_ms();
	return x;
}

static void note_failure(struct registry *r, uint64_t retry_after_ms)
{
	uint64_t d, now = mono_ms();

	r->failures++;
	d = regparse_backoff_ms(r->failures, r->o.backoff_base_ms, r->o.backoff_max_ms,
				jitter_rand());
	if (retry_after_ms > d)
		d = retry_after_ms;
	if (now + d > r->next_allowed)
		r->next_allowed = now + d;
	r->stats.failures = r->failures;
	r->stats.last_delay_ms = d;
}

static void note_success(struct registry *r)
{
	r->failures = 0;
	r->stats.failures = 0;
	r->stats.last_delay_ms = 0;
}

uint64_t registry_retry_in_ms(const struct registry *r)
{
	uint64_t now = mono_ms();

	return r->next_allowed > now ? r->next_allowed - now : 0;
}

void registry_cycle_begin(struct registry *r)
{
	r->budget_left = r->o.request_budget;
	r->stats.budget_left = r->budget_left;
}

void registry_get_stats(struct registry_stats *out, const struct registry *r)
{
	*out = r->stats;
}

/* Spend one request of the cycle's budget; false when none is left. */
static bool budget_take(struct registry *r)
{
	if (r->budget_left == 0)
		return false;
	r->budget_left--;
	r->stats.budget_left = r->budget_left;
	r->stats.requests++;
	return true;
}

/* ------------------------------------------------------------------ tokens */

static struct token *token_find(struct registry *r, const char *scope)
{
	for (size_t i = 0; i < r->n_tokens; i++)
		if (strcmp(r->tokens[i].scope, scope) == 0)
			return &r->tokens[i];
	return NULL;
}

static void token_clear(struct token *t)
{
	if (t->value) {
		explicit_bzero(t->value, strlen(t->value));
		free(t->value);
	}
	t->value = NULL;
}

/* A slot for scope: reuse, or take a free one, or evict an idle one. */
static struct token *token_slot(struct registry *r, const char *scope)
{
	struct token *t = token_find(r, scope);

	if (t)
		return t;
	if (r->n_tokens == TOKEN_CACHE_MAX) {
		for (size_t i = 0; i < r->n_tokens && !t; i++)
			if (!r->tokens[i].inflight)
				t = &r->tokens[i];
		if (!t)
			return NULL;
		token_clear(t);
		free(t->scope);
	} else {
		t = &r->tokens[r->n_tokens++];
	}
	memset(t, 0, sizeof(*t));
	t->scope = xstrndup(scope, strlen(scope));
	if (!t->scope) {
		*t = r->tokens[--r->n_tokens];
		return NULL;
	}
	return t;
}

static const char *token_valid(struct registry *r, const char *scope)
{
	struct token *t = token_find(r, scope);

	if (!t || !t->value || t->expires <= mono_ms())
		return NULL;
	return t->value;
}

struct token_fetch {
	struct registry *r;
	char scope[300];
};

static void token_store(struct registry *r, struct token *t, const struct httpc_resp *resp)
{
	char err[REGPARSE_ERR_MAX];
	char *value = NULL;
	uint64_t exp = 0;
	struct rreq *w;

	if (regparse_token(&value, &exp, resp->body.data ? resp->body.data : "", resp->body.len,
			   err, sizeof(err))) {
		char why[REGISTRY_ERR_MAX];

		errmsg_set(why, sizeof(why), "token endpoint: %s", err);
		token_fail_waiters(r, t, why);
		return;
	}
	token_clear(t);
	t->value = value;
	/* renew a little early so a token never expires mid-cycle */
	t->expires = mono_ms() + (exp > 30 ? exp - 10 : exp) * 1000;
	t->inflight = false;
	w = t->waiters;
	t->waiters = NULL;
	while (w) {
		struct rreq *n = w->wait_next;

		w->wait_next = NULL;
		rreq_send(w);
		w = n;
	}
}

static void token_done_cb(const struct httpc_resp *resp, void *arg)
{
	struct token_fetch *f = arg;
	struct registry *r = f->r;
	struct token *t = token_find(r, f->scope);
	char why[REGISTRY_ERR_MAX];

	free(f);
	if (!t)
		return;
	r->stats.connections += (uint64_t)resp->new_connections;
	if (resp->fail) {
		errmsg_set(why, sizeof(why), "token endpoint: %s", resp->error);
		token_fail_waiters(r, t, why);
	} else if (resp->status == 401 || resp->status == 403) {
		errmsg_set(why, sizeof(why), "token endpoint refused %s (HTTP %ld)",
		       r->userpwd ? "the configured credentials" : "anonymous access",
		       resp->status);
		token_fail_waiters(r, t, why);
	} else if (resp->status != 200) {
		errmsg_set(why, sizeof(why), "token endpoint returned HTTP %ld", resp->status);
		token_fail_waiters(r, t, why);
	} else {
		token_store(r, t, resp);
	}
}

static void token_fail_waiters(struct registry *r, struct token *t, const char *why)
{
	struct rreq *w = t->waiters;

	t->waiters = NULL;
	t->inflight = false;
	while (w) {
		struct rreq *n = w->wait_next;

		w->wait_next = NULL;
		rreq_finish(w, why);
		w = n;
	}
}

static int token_url(char *out, size_t outsz, struct registry *r, const char *scope)
{
	char *svc = curl_easy_escape(NULL, r->service, 0);
	char *sc = curl_easy_escape(NULL, scope, 0);
	int n = -1;

	if (svc && sc)
		n = snprintf(out, outsz, "%s%cservice=%s&scope=%s", r->realm,
			     strchr(r->realm, '?') ? '&' : '?', svc, sc);
	curl_free(svc);
	curl_free(sc);
	return n < 0 || (size_t)n >= outsz ? ERR_TOOBIG : 0;
}

/* Queue q behind the token for its scope, fetching one if nobody is. */
static void token_acquire(struct registry *r, struct rreq *q)
{
	struct token *t = token_slot(r, q->scope);
	struct token_fetch *f;
	struct httpc_req req = { .method = "GET", .body_max = r->o.token_max };
	char url[URL_MAX];
	int rc;

	if (!t) {
		rreq_finish(q, "too many token scopes in flight");
		return;
	}
	q->wait_next = t->waiters;
	t->waiters = q;
	if (t->inflight)
		return;
	if (token_url(url, sizeof(url), r, q->scope)) {
		token_fail_waiters(r, t, "token endpoint URL too long");
		return;
	}
	if (!budget_take(r)) {
		token_fail_waiters(r, t, "request budget exhausted, retry later");
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		token_fail_waiters(r, t, "out of memory");
		return;
	}
	f->r = r;
	strlcpy_(f->scope, q->scope, sizeof(f->scope));
	req.url = url;
	req.userpwd = r->userpwd;
	r->stats.token_requests++;
	t->inflight = true;
	log_debug(SUB, "GET token for scope '%s'%s", q->scope,
		  r->userpwd ? " with credentials" : " anonymously");
	rc = httpc_start(r->http, &req, token_done_cb, f);
	if (rc) {
		free(f);
		token_fail_waiters(r, t, rc == ERR_INVALID ?
				   "token realm is not an allowed URL (https, or http on loopback)" :
				   "cannot start the token request");
	}
}

/* ---------------------------------------------------------------- requests */

static void rreq_done_cb(const struct httpc_resp *resp, void *arg);

static bool budget_error(const char *error)
{
	return error && strstr(error, "budget exhausted") != NULL;
}

static void rreq_send(struct rreq *q)
{
	struct registry *r = q->op->r;
	struct httpc_req req = { .url = q->url, .body_max = q->body_max };
	const char *headers[3] = { q->accept, NULL, NULL };
	char authz[16 * 1024 + 32];
	const char *tok;
	int rc;

	req.method = q->kind == RQ_HEAD_MANIFEST || q->kind == RQ_EVIDENCE_HEAD ? "HEAD" : "GET";
	if (r->closing) {
		rreq_finish(q, "registry client closing");
		return;
	}
	if (registry_retry_in_ms(r) > 0) {
		rreq_finish(q, "registry is backing off after errors, retry later");
		return;
	}
	authz[0] = '\0';
	if (r->auth == REG_AUTH_BEARER) {
		tok = token_valid(r, q->scope);
		if (!tok) {
			token_acquire(r, q);
			return;
		}
		snprintf(authz, sizeof(authz), "Authorization: Bearer %s", tok);
		headers[q->accept ? 1 : 0] = authz;
		q->used_token = true;
	} else if (r->auth == REG_AUTH_BASIC) {
		req.userpwd = r->userpwd;
		q->used_basic = true;
	}
	if (!budget_take(r)) {
		rreq_finish(q, "request budget exhausted, retry later");
		goto out;
	}
	req.headers = headers;
	log_debug(SUB, "%s %s", req.method, q->url);
	rc = httpc_start(r->http, &req, rreq_done_cb, q);
	if (rc)
		rreq_finish(q, "cannot start the request");
out:
	explicit_bzero(authz, sizeof(authz));
}

static void handle_bearer(struct rreq *q, const struct reg_challenge *ch)
{
	struct registry *r = q->op->r;
	struct token *t;

	/* a token that was just refused is useless for every request */
	if (q->used_token && (t = token_find(r, q->scope)) && !t->inflight)
		token_clear(t);
	if (ch->scope[0])
		strlcpy_(q->scope, ch->scope, sizeof(q->scope));
	strlcpy_(r->realm, ch->realm, sizeof(r->realm));
	strlcpy_(r->service, ch->service, sizeof(r->service));
	r->auth = REG_AUTH_BEARER;
	q->used_token = false;
	token_acquire(r, q);
}

#define AUTH_REFUSED(what) "authentication failed: the registry refused " what " (HTTP 401)"

static void handle_unauthorized(struct rreq *q, const struct httpc_resp *resp)
{
	struct registry *r = q->op->r;
	struct reg_challenge ch;
	const char *h = resp->www_authenticate;

	if (q->auth_tries++ >= 2) {
		rreq_finish(q, r->userpwd ? AUTH_REFUSED("the credentials") :
			    AUTH_REFUSED("anonymous access"));
		return;
	}
	if (!h || regparse_challenge(&ch, h, strlen(h))) {
		rreq_finish(q, "HTTP 401 without a usable WWW-Authenticate challenge");
		return;
	}
	if (ch.scheme == REG_AUTH_BEARER) {
		handle_bearer(q, &ch);
		return;
	}
	if (!r->userpwd) {
		rreq_finish(q, "the registry wants HTTP Basic credentials and none are configured");
		return;
	}
	if (q->used_basic) {
		rreq_finish(q, AUTH_REFUSED("the credentials"));
		return;
	}
	r->auth = REG_AUTH_BASIC;
	rreq_send(q);
}

static uint64_t retry_after_of(const struct httpc_resp *resp)
{
	uint64_t ms = 0;

	if (resp->retry_after &&
	    regparse_retry_after(&ms, resp->retry_after, time(NULL), RETRY_AFTER_MAX_MS) == 0)
		return ms;
	return 0;
}

static void rreq_step(struct rreq *q, const struct httpc_resp *resp);

static void rreq_done_cb(const struct httpc_resp *resp, void *arg)
{
	struct rreq *q = arg;
	struct registry *r = q->op->r;
	char why[REGISTRY_ERR_MAX];

	r->stats.connections += (uint64_t)resp->new_connections;
	if (resp->http_version)
		r->stats.last_http_version = resp->http_version;
	log_debug(SUB, "%s -> %ld%s%s", q->url, resp->status, resp->fail ? ": " : "",
		  resp->fail ? resp->error : "");
	if (resp->fail) {
		rreq_finish(q, resp->error);
		return;
	}
	if (resp->status == 401) {
		handle_unauthorized(q, resp);
		return;
	}
	if (resp->status == 429 || resp->status >= 500) {
		uint64_t ra = retry_after_of(resp);

		if (ra > q->op->retry_after_ms)
			q->op->retry_after_ms = ra;
		errmsg_set(why, sizeof(why), "HTTP %ld from the registry%s%s", resp->status,
		       resp->status == 429 ? " (rate limited)" : "",
		       resp->retry_after ? " with Retry-After" : "");
		rreq_finish(q, why);
		return;
	}
	rreq_step(q, resp);
}

static struct rreq *rreq_new(struct op *op, enum rreq_kind kind, const char *repo)
{
	struct rreq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->op = op;
	q->kind = kind;
	q->body_max = op->r->o.manifest_max;
	snprintf(q->scope, sizeof(q->scope), "repository:%s:pull", repo);
	op->pending++;
	return q;
}

/* ---------------------------------------------------------------------- ops */

static void op_unlink(struct op *op)
{
	struct registry *r = op->r;

	if (op->prev)
		op->prev->next = op->next;
	else
		r->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
}

static void tags_free(struct registry_tags *t)
{
	for (size_t i = 0; i < t->n_tags; i++)
		free(t->tags[i]);
	free(t->tags);
}

static void release_finalize(struct registry_release *rel)
{
	for (size_t i = 0; i < rel->n_images; i++) {
		struct registry_image_result *im = &rel->images[i];

		if (im->state == REGISTRY_IMG_PRESENT)
			rel->n_present++;
		else if (im->state == REGISTRY_IMG_MISSING)
			rel->n_missing++;
		else {
			rel->n_error++;
			if (!rel->error[0])
				errmsg_set(rel->error, sizeof(rel->error), "image '%s': %s", im->image,
				       im->error[0] ? im->error : "not asked");
		}
		if (budget_error(im->error))
			rel->budget_exhausted = true;
	}
	/* one unknown image makes the whole answer unknown: never "missing" */
	if (rel->n_error)
		rel->status = REGISTRY_ERROR;
	else if (rel->n_missing)
		rel->status = REGISTRY_INCOMPLETE;
	else
		rel->status = REGISTRY_COMPLETE;
}

/* Say what happens next (STYLE 3): "..., retrying in 8s". */
static void seterr_retry(char *err, size_t errsz, struct registry *r)
{
	size_t n = strlen(err);

	if (n < errsz)
		snprintf(err + n, errsz - n, ", retrying in %llus",
			 (unsigned long long)((registry_retry_in_ms(r) + 999) / 1000));
}

static void op_complete(struct op *op)
{
	struct registry *r = op->r;

	op_unlink(op);
	/* one failure per operation, however many of its requests failed, so
	 * 14 parallel 503s back off like one */
	if (op->failed)
		note_failure(r, op->retry_after_ms);
	switch (op->kind) {
	case OP_RELEASE:
		release_finalize(&op->u.rel);
		if (!op->failed && op->u.rel.status != REGISTRY_ERROR)
			note_success(r);
		else if (op->failed)
			seterr_retry(op->u.rel.error, sizeof(op->u.rel.error), r);
		if (!r->closing)
			((registry_release_cb *)op->cb)(&op->u.rel, op->arg);
		free(op->u.rel.images);
		break;
	case OP_EVIDENCE:
		if (op->u.ev.status != REGISTRY_EVIDENCE_ERROR)
			note_success(r);
		else if (op->failed)
			seterr_retry(op->u.ev.error, sizeof(op->u.ev.error), r);
		op->u.ev.budget_exhausted = budget_error(op->u.ev.error);
		if (!r->closing)
			((registry_evidence_cb *)op->cb)(&op->u.ev, op->arg);
		break;
	case OP_TAGS:
		if (op->u.tags.status == 0)
			note_success(r);
		else if (op->failed)
			seterr_retry(op->u.tags.error, sizeof(op->u.tags.error), r);
		op->u.tags.budget_exhausted = budget_error(op->u.tags.error);
		if (!r->closing)
			((registry_tags_cb *)op->cb)(&op->u.tags, op->arg);
		tags_free(&op->u.tags);
		break;
	}
	free(op);
}

static void release_record(struct rreq *q, const char *error)
{
	struct registry_image_result *im = &q->op->u.rel.images[q->index];

	if (error) {
		im->state = REGISTRY_IMG_ERROR;
		strlcpy_(im->error, error, sizeof(im->error));
	}
}

static void evidence_record(struct rreq *q, const char *error)
{
	struct registry_evidence *ev = &q->op->u.ev;

	if (error) {
		ev->status = REGISTRY_EVIDENCE_ERROR;
		strlcpy_(ev->error, error, sizeof(ev->error));
	}
}

static void tags_record(struct rreq *q, const char *error)
{
	struct registry_tags *t = &q->op->u.tags;

	if (error) {
		t->status = ERR_FAIL;
		strlcpy_(t->error, error, sizeof(t->error));
	}
}

/* Ends q: error (if any) goes into the op's result; the op may complete. */
static void rreq_finish(struct rreq *q, const char *error)
{
	struct op *op = q->op;

	if (error && !budget_error(error))
		op->failed = true;
	switch (op->kind) {
	case OP_RELEASE:
		release_record(q, error);
		break;
	case OP_EVIDENCE:
		evidence_record(q, error);
		break;
	case OP_TAGS:
		tags_record(q, error);
		break;
	}
	free(q);
	if (--op->pending == 0)
		op_complete(op);
}

static struct op *op_new(struct registry *r, enum op_kind kind, void *cb, void *arg)
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->r = r;
	op->kind = kind;
	op->cb = cb;
	op->arg = arg;
	op->next = r->ops;
	if (r->ops)
		r->ops->prev = op;
	r->ops = op;
	/* held while the op's first requests are being started */
	op->pending = 1;
	return op;
}

static void op_release_hold(struct op *op)
{
	if (--op->pending == 0)
		op_complete(op);
}

/* ------------------------------------------------------------ release check */

static bool media_type_known(const char *ct)
{
	size_t n;

	if (!ct)
		return false;
	n = strcspn(ct, "; \t");
	for (size_t i = 0; i < ARRAY_SIZE(manifest_types); i++)
		if (strlen(manifest_types[i]) == n && strncasecmp(ct, manifest_types[i], n) == 0)
			return true;
	return false;
}

static void step_head_manifest(struct rreq *q, const struct httpc_resp *resp)
{
	struct registry_image_result *im = &q->op->u.rel.images[q->index];
	const char *d = resp->content_digest;

	if (resp->status == 404) {
		im->state = REGISTRY_IMG_MISSING;
		rreq_finish(q, NULL);
		return;
	}
	if (resp->status != 200) {
		char why[128];

		errmsg_set(why, sizeof(why), "unexpected HTTP %ld for the manifest", resp->status);
		rreq_finish(q, why);
		return;
	}
	if (!media_type_known(resp->content_type)) {
		rreq_finish(q, "manifest answer has no image manifest or index media type");
		return;
	}
	if (!d || !regparse_digest_valid(d, strlen(d))) {
		rreq_finish(q, "manifest answer has no valid Docker-Content-Digest");
		return;
	}
	im->state = REGISTRY_IMG_PRESENT;
	strlcpy_(im->digest, d, sizeof(im->digest));
	rreq_finish(q, NULL);
}

static int repo_url(char *out, size_t outsz, struct registry *r, const char *image,
		    const char *what, const char *ref)
{
	int n = snprintf(out, outsz, "%s/v2/%s/%s/%s/%s", r->base, r->ns, image, what, ref);

	return n < 0 || (size_t)n >= outsz ? ERR_TOOBIG : 0;
}

int registry_release_check(struct registry *r, const char *sha, registry_release_cb *cb, void *arg)
{
	struct op *op;

	if (!sha || !tag_is_sha1(sha, strlen(sha)))
		return ERR_INVALID;
	if (registry_retry_in_ms(r) > 0)
		return ERR_REJECTED;
	op = op_new(r, OP_RELEASE, (void *)cb, arg);
	if (!op)
		return ERR_NOMEM;
	op->u.rel.images = calloc(r->o.n_images, sizeof(*op->u.rel.images));
	if (!op->u.rel.images) {
		op_unlink(op);
		free(op);
		return ERR_NOMEM;
	}
	strlcpy_(op->u.rel.sha, sha, sizeof(op->u.rel.sha));
	op->u.rel.n_images = r->o.n_images;
	for (size_t i = 0; i < r->o.n_images; i++) {
		struct registry_image_result *im = &op->u.rel.images[i];
		char repo[REPO_MAX + 1];
		struct rreq *q;

		im->image = r->images[i];
		snprintf(repo, sizeof(repo), "%s/%s", r->ns, r->images[i]);
		q = rreq_new(op, RQ_HEAD_MANIFEST, repo);
		if (!q) {
			strlcpy_(im->error, "out of memory", sizeof(im->error));
			continue;
		}
		q->index = i;
		q->accept = manifest_accept;
		repo_url(q->url, sizeof(q->url), r, r->images[i], "manifests", sha);
		rreq_send(q);
	}
	op_release_hold(op);
	return 0;
}

/* --------------------------------------------------------------- evidence */

static int sha256_hex(char out[72], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return ERR_FAIL;
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* A GET or HEAD of the evidence manifest: true on 200; otherwise q is
 * finished as missing (404) or as an error. */
static bool evidence_manifest_found(struct rreq *q, const struct httpc_resp *resp)
{
	char why[REGISTRY_ERR_MAX];

	if (resp->status == 404) {
		q->op->u.ev.status = REGISTRY_EVIDENCE_MISSING;
		rreq_finish(q, NULL);
		return false;
	}
	if (resp->status != 200) {
		errmsg_set(why, sizeof(why), "unexpected HTTP %ld for the evidence manifest",
		       resp->status);
		rreq_finish(q, why);
		return false;
	}
	return true;
}

/* The artifact is there but cannot be read: a fact about the artifact (its
 * manifest digest says which), not a registry failure, so no backoff.  why
 * may quote the document (jansson's "near '...'"): it ends up in logs,
 * status and notes, so only printable ASCII is kept. */
static void evidence_unreadable(struct rreq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void evidence_unreadable(struct rreq *q, const char *fmt, ...)
{
	struct registry_evidence *ev = &q->op->u.ev;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev->error, sizeof(ev->error), fmt, ap);
	va_end(ap);
	for (char *p = ev->error; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	ev->status = REGISTRY_EVIDENCE_UNREADABLE;
	rreq_finish(q, NULL);
}

static void step_evidence_blob(struct rreq *q, const struct httpc_resp *resp)
{
	struct registry_evidence *ev = &q->op->u.ev;
	char got[72], err[REGPARSE_ERR_MAX], why[REGISTRY_ERR_MAX];
	const char *body = resp->body.data ? resp->body.data : "";

	/* a 404 here may be a registry still replicating the push: an error,
	 * asked again, not a verdict on the artifact */
	if (resp->status != 200) {
		errmsg_set(why, sizeof(why), "evidence blob '%s': HTTP %ld", q->op->layer.digest,
		       resp->status);
		rreq_finish(q, why);
		return;
	}
	if (sha256_hex(got, body, resp->body.len) || strcmp(got, q->op->layer.digest) != 0) {
		errmsg_set(why, sizeof(why), "evidence blob digest mismatch: expected %s, got %s",
		       q->op->layer.digest, got);
		rreq_finish(q, why);
		return;
	}
	if (regparse_evidence(&ev->ev, body, resp->body.len, err, sizeof(err))) {
		evidence_unreadable(q, "inttest-results.json: %s", err);
		return;
	}
	strlcpy_(ev->digest, got, sizeof(ev->digest));
	ev->status = ev->ev.ok ? REGISTRY_EVIDENCE_PASSED : REGISTRY_EVIDENCE_FAILED;
	rreq_finish(q, NULL);
}

static void step_evidence_manifest(struct rreq *q, const struct httpc_resp *resp)
{
	struct op *op = q->op;
	struct registry *r = op->r;
	char err[REGPARSE_ERR_MAX];
	const char *body = resp->body.data ? resp->body.data : "";
	struct rreq *b;

	if (!evidence_manifest_found(q, resp))
		return;
	/* the digest of the bytes is the manifest's digest, whatever the
	 * server's header says: the identity a later HEAD is compared with */
	if (sha256_hex(op->u.ev.artifact, body, resp->body.len)) {
		rreq_finish(q, "cannot hash the evidence manifest");
		return;
	}
	if (regparse_evidence_manifest(&op->layer, body, resp->body.len, err, sizeof(err))) {
		evidence_unreadable(q, "artifact manifest: %s", err);
		return;
	}
	if (op->layer.size > r->o.evidence_max) {
		evidence_unreadable(q, "inttest-results.json is %llu bytes, over the %zu byte cap",
				    (unsigned long long)op->layer.size, r->o.evidence_max);
		return;
	}
	b = rreq_new(op, RQ_EVIDENCE_BLOB, "");
	if (!b) {
		rreq_finish(q, "out of memory");
		return;
	}
	strlcpy_(b->scope, q->scope, sizeof(b->scope));
	/* the manifest's declared size bounds the blob too (a server may lie) */
	b->body_max = op->layer.size;
	b->accept = NULL;
	repo_url(b->url, sizeof(b->url), r, r->evidence_image, "blobs", op->layer.digest);
	rreq_finish(q, NULL);	/* b keeps the op alive */
	rreq_send(b);
}

static const char *const evidence_accept =
	"Accept: application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

/* Starts the GET of the evidence manifest under op (which it keeps alive). */
static void evidence_get(struct op *op, const char *scope)
{
	struct registry *r = op->r;
	struct rreq *q = rreq_new(op, RQ_EVIDENCE_MANIFEST, "");

	if (!q) {
		evidence_record(&(struct rreq){ .op = op }, "out of memory");
		return;
	}
	strlcpy_(q->scope, scope, sizeof(q->scope));
	q->accept = evidence_accept;
	repo_url(q->url, sizeof(q->url), r, r->evidence_image, "manifests", op->u.ev.sha);
	rreq_send(q);
}

/* HEAD before GET for an artifact known to be unreadable: the same digest
 * means the same bytes, so nothing is fetched or parsed again. */
static void step_evidence_head(struct rreq *q, const struct httpc_resp *resp)
{
	struct op *op = q->op;
	const char *d = resp->content_digest;

	if (!evidence_manifest_found(q, resp))
		return;
	if (d && strcmp(d, op->known) == 0) {
		op->u.ev.status = REGISTRY_EVIDENCE_UNREADABLE;
		op->u.ev.unchanged = true;
		strlcpy_(op->u.ev.artifact, op->known, sizeof(op->u.ev.artifact));
		rreq_finish(q, NULL);
		return;
	}
	/* changed, or no digest to compare: read it again */
	evidence_get(op, q->scope);
	rreq_finish(q, NULL);
}

int registry_evidence_fetch(struct registry *r, const char *sha, const char *known_unreadable,
			    registry_evidence_cb *cb, void *arg)
{
	struct op *op;
	struct rreq *q;
	char repo[REPO_MAX + 1];

	if (!sha || !tag_is_sha1(sha, strlen(sha)))
		return ERR_INVALID;
	if (known_unreadable && !regparse_digest_valid(known_unreadable, strlen(known_unreadable)))
		return ERR_INVALID;
	if (registry_retry_in_ms(r) > 0)
		return ERR_REJECTED;
	op = op_new(r, OP_EVIDENCE, (void *)cb, arg);
	if (!op)
		return ERR_NOMEM;
	strlcpy_(op->u.ev.sha, sha, sizeof(op->u.ev.sha));
	op->u.ev.ev.exit_code = -1;
	snprintf(repo, sizeof(repo), "%s/%s", r->ns, r->evidence_image);
	if (!known_unreadable) {
		char scope[300];

		snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
		evidence_get(op, scope);
		op_release_hold(op);
		return 0;
	}
	strlcpy_(op->known, known_unreadable, sizeof(op->known));
	q = rreq_new(op, RQ_EVIDENCE_HEAD, repo);
	if (q) {
		q->accept = evidence_accept;
		repo_url(q->url, sizeof(q->url), r, r->evidence_image, "manifests", sha);
		rreq_send(q);
	} else {
		evidence_record(&(struct rreq){ .op = op }, "out of memory");
	}
	op_release_hold(op);
	return 0;
}

/* ------------------------------------------------------------------- tags */

static int tag_add_cb(void *arg, const char *tag, size_t len)
{
	struct op *op = arg;
	struct registry_tags *t = &op->u.tags;

	if (t->n_tags >= op->r->o.tag_cap)
		return ERR_TOOBIG;
	if (t->n_tags == op->tags_alloc) {
		size_t n = op->tags_alloc ? op->tags_alloc * 2 : 128;
		char **p = realloc(t->tags, n * sizeof(*p));

		if (!p)
			return ERR_NOMEM;
		t->tags = p;
		op->tags_alloc = n;
	}
	t->tags[t->n_tags] = xstrndup(tag, len);
	if (!t->tags[t->n_tags])
		return ERR_NOMEM;
	t->n_tags++;
	return 0;
}

/* Resolve a Link target against the page's URL; only the same origin as
 * the registry is followed, so credentials never leave it. */
static int link_resolve(char *out, size_t outsz, struct registry *r, const char *page,
			const char *target, char *why, size_t whysz)
{
	CURLU *u = curl_url(), *b = curl_url();
	char *s1 = NULL, *h1 = NULL, *p1 = NULL, *s2 = NULL, *h2 = NULL, *p2 = NULL, *full = NULL;
	int rc = ERR_INVALID;

	if (!u || !b || curl_url_set(u, CURLUPART_URL, page, 0) ||
	    curl_url_set(u, CURLUPART_URL, target, 0) || curl_url_set(b, CURLUPART_URL, r->base, 0) ||
	    curl_url_get(u, CURLUPART_URL, &full, 0)) {
		errmsg_set(why, whysz, "tags/list Link target is not a valid URL");
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &s1, 0);
	curl_url_get(u, CURLUPART_HOST, &h1, 0);
	curl_url_get(u, CURLUPART_PORT, &p1, CURLU_DEFAULT_PORT);
	curl_url_get(b, CURLUPART_SCHEME, &s2, 0);
	curl_url_get(b, CURLUPART_HOST, &h2, 0);
	curl_url_get(b, CURLUPART_PORT, &p2, CURLU_DEFAULT_PORT);
	if (!s1 || !h1 || !p1 || !s2 || !h2 || !p2 || strcasecmp(s1, s2) || strcasecmp(h1, h2) ||
	    strcmp(p1, p2)) {
		errmsg_set(why, whysz, "tags/list Link points to another origin; not followed");
		goto out;
	}
	if (strlen(full) >= outsz) {
		errmsg_set(why, whysz, "tags/list Link target too long");
		goto out;
	}
	strlcpy_(out, full, outsz);
	rc = 0;
out:
	curl_free(s1), curl_free(h1), curl_free(p1);
	curl_free(s2), curl_free(h2), curl_free(p2);
	curl_free(full);
	curl_url_cleanup(u);
	curl_url_cleanup(b);
	return rc;
}

static void tags_next_page(struct rreq *q, const struct httpc_resp *resp)
{
	struct op *op = q->op;
	struct registry_tags *t = &op->u.tags;
	char target[URL_MAX], why[REGISTRY_ERR_MAX];
	struct rreq *n;
	int rc;

	rc = resp->link ? regparse_link_next(target, sizeof(target), resp->link,
					     strlen(resp->link)) : ERR_NOTFOUND;
	if (rc == ERR_NOTFOUND) {
		rreq_finish(q, NULL);
		return;
	}
	if (rc) {
		rreq_finish(q, "tags/list has a malformed Link header");
		return;
	}
	if (t->pages >= op->r->o.page_cap || t->truncated) {
		t->truncated = true;
		rreq_finish(q, NULL);
		return;
	}
	n = rreq_new(op, RQ_TAGS, op->name);
	if (!n) {
		rreq_finish(q, "out of memory");
		return;
	}
	n->accept = "Accept: application/json";
	if (link_resolve(n->url, sizeof(n->url), op->r, q->url, target, why, sizeof(why))) {
		rreq_finish(n, why);
		rreq_finish(q, NULL);
		return;
	}
	strlcpy_(n->scope, q->scope, sizeof(n->scope));
	rreq_finish(q, NULL);
	rreq_send(n);
}

static void step_tags(struct rreq *q, const struct httpc_resp *resp)
{
	struct registry_tags *t = &q->op->u.tags;
	char err[REGPARSE_ERR_MAX], why[REGISTRY_ERR_MAX];
	size_t n = 0, skipped = 0;
	int rc;

	if (resp->status != 200) {
		errmsg_set(why, sizeof(why), "tags/list: unexpected HTTP %ld", resp->status);
		rreq_finish(q, why);
		return;
	}
	rc = regparse_tags(&n, &skipped, resp->body.data ? resp->body.data : "", resp->body.len,
			   tag_add_cb, q->op, err, sizeof(err));
	t->pages++;
	if (rc == ERR_TOOBIG) {
		t->truncated = true;
	} else if (rc) {
		errmsg_set(why, sizeof(why), "tags/list: %s", err);
		rreq_finish(q, why);
		return;
	}
	t->skipped += skipped;
	tags_next_page(q, resp);
}

static bool repo_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REPO_MAX || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("._-/", *s)))
			return false;
	return true;
}

int registry_tags_list(struct registry *r, const char *name, registry_tags_cb *cb, void *arg)
{
	struct op *op;
	struct rreq *q;

	if (!name || !repo_name_ok(name))
		return ERR_INVALID;
	if (registry_retry_in_ms(r) > 0)
		return ERR_REJECTED;
	op = op_new(r, OP_TAGS, (void *)cb, arg);
	if (!op)
		return ERR_NOMEM;
	strlcpy_(op->name, name, sizeof(op->name));
	q = rreq_new(op, RQ_TAGS, name);
	if (q) {
		q->accept = "Accept: application/json";
		snprintf(q->url, sizeof(q->url), "%s/v2/%s/tags/list?n=%d", r->base, name,
			 TAGS_PAGE_N);
		rreq_send(q);
	} else {
		tags_record(&(struct rreq){ .op = op }, "out of memory");
	}
	op_release_hold(op);
	return 0;
}

static void rreq_step(struct rreq *q, const struct httpc_resp *resp)
{
	static void (*const steps[])(struct rreq *, const struct httpc_resp *) = {
		[RQ_HEAD_MANIFEST] = step_head_manifest,
		[RQ_EVIDENCE_MANIFEST] = step_evidence_manifest,
		[RQ_EVIDENCE_BLOB] = step_evidence_blob,
		[RQ_TAGS] = step_tags,
		[RQ_EVIDENCE_HEAD] = step_evidence_head,
	};

	steps[q->kind](q, resp);
}

/* -------------------------------------------------------------- lifecycle */

static int read_credentials(struct registry *r, const char *path, char *err, size_t errsz)
{
	struct buf b;
	char *colon;
	int rc;

	buf_init(&b, CREDS_MAX);
	rc = file_read(&b, path, CREDS_MAX);
	if (rc) {
		char why[160];

		file_error(why, sizeof(why), path, rc, CREDS_MAX);
		errmsg_set(err, errsz, "cannot read credentials file '%s': %s", path,
			   rc == ERR_TOOBIG ? "too large" : why);
		goto out;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	colon = b.data ? strchr(b.data, ':') : NULL;
	rc = ERR_INVALID;
	if (!colon || colon == b.data || !colon[1] || strlen(b.data) != b.len ||
	    strpbrk(b.data, "\r\n")) {
		/* say what is wrong, never what is there */
		errmsg_set(err, errsz, "credentials file '%s' must hold one line 'username:token'", path);
		goto out;
	}
	r->userpwd = buf_detach(&b, NULL);
	rc = r->userpwd ? 0 : ERR_NOMEM;
out:
	if (b.data)
		explicit_bzero(b.data, b.cap);
	buf_release(&b);
	return rc;
}

static void opts_defaults(struct registry_opts *o)
{
	if (!o->request_budget)
		o->request_budget = 200;
	if (!o->page_cap)
		o->page_cap = 50;
	if (!o->tag_cap)
		o->tag_cap = 10000;
	if (!o->manifest_max)
		o->manifest_max = 4u << 20;
	if (!o->evidence_max)
		o->evidence_max = 1u << 20;
	if (!o->token_max)
		o->token_max = 64u << 10;
	if (!o->backoff_base_ms)
		o->backoff_base_ms = 5000;
	if (!o->backoff_max_ms)
		o->backoff_max_ms = 600000;
	if (!o->evidence_image)
		o->evidence_image = "inttest";
}

static int copy_names(struct registry *r, char *err, size_t errsz)
{
	size_t bl = strlen(r->o.base_url);

	while (bl && r->o.base_url[bl - 1] == '/')
		bl--;
	r->base = xstrndup(r->o.base_url, bl);
	r->ns = xstrndup(r->o.namespace, strlen(r->o.namespace));
	r->evidence_image = xstrndup(r->o.evidence_image, strlen(r->o.evidence_image));
	r->images = calloc(r->o.n_images ? r->o.n_images : 1, sizeof(char *));
	if (!r->base || !r->ns || !r->evidence_image || !r->images)
		return ERR_NOMEM;
	for (size_t i = 0; i < r->o.n_images; i++) {
		if (!repo_name_ok(r->o.images[i]) ||
		    strlen(r->ns) + 1 + strlen(r->o.images[i]) > REPO_MAX ||
		    strlen(r->ns) + 1 + strlen(r->evidence_image) > REPO_MAX) {
			errmsg_set(err, errsz, "invalid image name '%s'", r->o.images[i]);
			return ERR_INVALID;
		}
		r->images[i] = xstrndup(r->o.images[i], strlen(r->o.images[i]));
		if (!r->images[i])
			return ERR_NOMEM;
	}
	return 0;
}

static int opts_check(const struct registry_opts *o, char *err, size_t errsz)
{
	if (!o->base_url || !httpc_url_allowed(o->base_url)) {
		errmsg_set(err, errsz, "registry URL '%s' must be https (http only on loopback)",
		       o->base_url ? o->base_url : "");
		return ERR_INVALID;
	}
	if (!o->namespace || !repo_name_ok(o->namespace)) {
		errmsg_set(err, errsz, "invalid registry namespace '%s'", o->namespace ? o->namespace : "");
		return ERR_INVALID;
	}
	if (o->evidence_image && !repo_name_ok(o->evidence_image)) {
		errmsg_set(err, errsz, "invalid evidence image name '%s'", o->evidence_image);
		return ERR_INVALID;
	}
	return 0;
}

int registry_new(struct registry **out, uv_loop_t *loop, const struct registry_opts *opts,
		 char *err, size_t errsz)
{
	struct registry *r;
	struct httpc_opts ho = { 0 };
	int rc;

	rc = opts_check(opts, err, errsz);
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ERR_NOMEM;
	r->loop = loop;
	r->o = *opts;
	opts_defaults(&r->o);
	rc = copy_names(r, err, errsz);
	if (!rc && opts->credentials_file)
		rc = read_credentials(r, opts->credentials_file, err, errsz);
	ho.ca_file = opts->ca_file;
	ho.connect_timeout_ms = opts->connect_timeout_ms;
	ho.total_timeout_ms = opts->total_timeout_ms;
	ho.low_speed_limit = opts->low_speed_limit;
	ho.low_speed_time_s = opts->low_speed_time_s;
	if (!rc)
		rc = httpc_new(&r->http, loop, &ho);
	if (rc) {
		if (rc == ERR_NOMEM)
			errmsg_set(err, errsz, "out of memory");
		registry_free(r);
		return rc;
	}
	/* the strings in o belong to the caller; keep only our copies */
	r->o.base_url = r->o.namespace = r->o.evidence_image = NULL;
	r->o.images = NULL;
	r->o.credentials_file = r->o.ca_file = NULL;
	registry_cycle_begin(r);
	*out = r;
	return 0;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	r->closing = true;
	/* cancels every request; the ops finish without calling back */
	httpc_free(r->http);
	for (size_t i = 0; i < r->n_tokens; i++) {
		token_clear(&r->tokens[i]);
		free(r->tokens[i].scope);
	}
	if (r->userpwd) {
		explicit_bzero(r->userpwd, strlen(r->userpwd));
		free(r->userpwd);
	}
	for (size_t i = 0; r->images && i < r->o.n_images; i++)
		free(r->images[i]);
	free(r->images);
	free(r->base);
	free(r->ns);
	free(r->evidence_image);
	free(r);
}

const char *registry_status_name(enum registry_status s)
{
	static const char *const names[] = { "complete", "incomplete", "error" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

const char *registry_evidence_status_name(enum registry_evidence_status s)
{
	static const char *const names[] = { "passed", "failed", "missing", "error",
					     "unreadable" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}
