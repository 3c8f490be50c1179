/* hooks.c - see hooks.h */
#include "hooks.h"
#include "sysio.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void secret_wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_release(b);
}

int hooks_secret_load(struct buf *out, const char *path, char *errmsg, size_t errsz)
{
	struct buf b = BUF_INIT;
	int rc;

	errno = 0;
	rc = file_read(&b, path, WEBHOOK_SECRET_MAX + 2);
	if (rc) {
		char why[160];

		file_error(why, sizeof(why), path, rc, WEBHOOK_SECRET_MAX + 2);
		snprintf(errmsg, errsz, "cannot read webhook secret '%s': %s", path,
			 rc == ERR_TOOBIG ? "file too large" : why);
		secret_wipe(&b);
		return rc;
	}
	if (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (b.len && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	if (b.len == 0 || b.len > WEBHOOK_SECRET_MAX) {
		snprintf(errmsg, errsz, "webhook secret '%s' is %s", path,
			 b.len ? "longer than 1024 bytes" : "empty");
		secret_wipe(&b);
		return ERR_INVALID;
	}
	secret_wipe(out);
	*out = b;
	return 0;
}

int hooks_init(struct hooks *h, const char *secret_path, uint64_t window_ms,
	       hooks_trigger_fn trigger, void *arg, char *errmsg, size_t errsz)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->secret, WEBHOOK_SECRET_MAX + 2);
	if (hooks_secret_load(&h->secret, secret_path, errmsg, errsz))
		return ERR_INVALID;
	webhook_coalescer_init(&h->coalescer, window_ms ? window_ms : HOOKS_DEFAULT_WINDOW_MS,
			       HOOKS_REMEMBER_MS);
	h->trigger = trigger;
	h->trigger_arg = arg;
	return 0;
}

int hooks_secret_reload(struct hooks *h, const char *secret_path, char *errmsg, size_t errsz)
{
	return hooks_secret_load(&h->secret, secret_path, errmsg, errsz);
}

void hooks_release(struct hooks *h)
{
	if (!h)
		return;
	secret_wipe(&h->secret);
}

static void count(struct hooks *h, const char *result)
{
	if (h->deliveries)
		metrics_add(h->deliveries, (const char *const[]){ result }, 1);
}

static const char *delivery_id(const struct http_request *req)
{
	const char *id = http_header(req, "X-GitHub-Delivery");

	return id ? id : "";
}

static int answer_trigger(struct hooks *h, const struct http_request *req,
			  struct http_response *res, const struct webhook_event *ev)
{
	enum webhook_verdict v = webhook_coalescer_offer(&h->coalescer, delivery_id(req),
							 mono_ms());

	log_info("hooks", "%s %s '%s' (delivery '%s'): %s", ev->event, ev->action,
		 ev->subject, delivery_id(req),
		 v == WEBHOOK_FIRE ? "starting a cycle" : webhook_verdict_name(v));
	count(h, v == WEBHOOK_FIRE ? "triggered" : webhook_verdict_name(v));
	if (v == WEBHOOK_FIRE && h->trigger)
		h->trigger(h->trigger_arg, ev);
	return http_text(res, 202, v == WEBHOOK_FIRE ? "cycle triggered\n"
			 : v == WEBHOOK_MERGED ? "merged into the cycle just triggered\n"
			 : "duplicate delivery\n");
}

int hooks_handler(struct http_request *req, struct http_response *res, void *arg)
{
	struct hooks *h = arg;
	struct webhook_event ev;
	char why[256];
	int rc;

	rc = webhook_verify(h->secret.data, h->secret.len,
			    http_header(req, "X-Hub-Signature-256"), req->body, req->body_len);
	if (rc) {
		log_warn("hooks", "refused delivery '%s' from %s: %s signature", delivery_id(req),
			 req->remote, rc == ERR_REJECTED ? "wrong" : "missing or malformed");
		count(h, "bad_signature");
		return http_text(res, 401, "bad signature\n");
	}
	rc = webhook_classify(&ev, http_header(req, "X-GitHub-Event"), req->body,
			      req->body_len, why, sizeof(why));
	if (rc) {
		log_warn("hooks", "refused delivery '%s': %s", delivery_id(req), why);
		count(h, "bad_payload");
		http_text(res, 400, why);
		return buf_addch(&res->body, '\n') ? ERR_TOOBIG : 0;
	}
	if (ev.kind == WEBHOOK_TRIGGER)
		return answer_trigger(h, req, res, &ev);
	count(h, ev.kind == WEBHOOK_PING ? "ping" : "ignored");
	if (ev.kind == WEBHOOK_PING)
		return http_text(res, 200, "pong\n");
	log_debug("hooks", "ignored '%s' event", ev.event);
	return http_text(res, 204, "");
}
