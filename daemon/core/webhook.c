/* webhook.c - see webhook.h */
#include "webhook.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIG_PREFIX "sha256="
#define SIG_HEX 64

int webhook_sign(char out[65], const void *secret, size_t secret_len,
		 const void *body, size_t body_len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (secret_len == 0 || secret_len > WEBHOOK_SECRET_MAX)
		return ERR_INVALID;
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, body, body_len, md, &mdlen)
	    || mdlen * 2 != SIG_HEX)
		return ERR_FAIL;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SIG_HEX] = '\0';
	return 0;
}

/* GitHub always sends lowercase hex; anything else is not its header. */
static bool sig_well_formed(const char *header)
{
	const char *hex;

	if (!header || strncmp(header, SIG_PREFIX, strlen(SIG_PREFIX)) != 0)
		return false;
	hex = header + strlen(SIG_PREFIX);
	if (strlen(hex) != SIG_HEX)
		return false;
	for (size_t i = 0; i < SIG_HEX; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return false;
	return true;
}

int webhook_verify(const void *secret, size_t secret_len, const char *header,
		   const void *body, size_t body_len)
{
	char want[SIG_HEX + 1];
	int rc;

	if (!sig_well_formed(header))
		return ERR_INVALID;
	rc = webhook_sign(want, secret, secret_len, body, body_len);
	if (rc)
		return rc;
	return ct_equal(want, header + strlen(SIG_PREFIX), SIG_HEX) ? 0 : ERR_REJECTED;
}

/* Follow a chain of object keys (NULL-terminated) to a string, or NULL. */
static const char *json_path_str(json_t *v, ...)
{
	va_list ap;
	const char *key;

	va_start(ap, v);
	while (v && (key = va_arg(ap, const char *)))
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
	va_end(ap);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void subject_package(char *out, size_t outsz, json_t *pkg)
{
	const char *name = json_path_str(pkg, "name", NULL);
	const char *tag = json_path_str(pkg, "package_version", "container_metadata",
					"tag", "name", NULL);

	if (!tag)
		tag = json_path_str(pkg, "package_version", "version", NULL);
	snprintf(out, outsz, "%s%s%s", name ? name : "?", tag ? ":" : "", tag ? tag : "");
}

static void subject_workflow(char *out, size_t outsz, json_t *run)
{
	const char *name = json_path_str(run, "name", NULL);
	const char *sha = json_path_str(run, "head_sha", NULL);
	const char *concl = json_path_str(run, "conclusion", NULL);

	snprintf(out, outsz, "%s@%.12s (%s)", name ? name : "?", sha ? sha : "?",
		 concl ? concl : "no conclusion");
}

/* The events that can announce a release, and the action that does. */
static const struct {
	const char *event;
	const char *action;
	const char *object;	/* member that describes the subject */
	void (*subject)(char *out, size_t outsz, json_t *obj);
} triggers[] = {
	{ "package", "published", "package", subject_package },
	{ "registry_package", "published", "registry_package", subject_package },
	{ "workflow_run", "completed", "workflow_run", subject_workflow },
};

static bool event_name_ok(const char *event)
{
	size_t n = event ? strlen(event) : 0;

	if (n == 0 || n >= sizeof(((struct webhook_event *)0)->event))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((event[i] >= 'a' && event[i] <= 'z') || event[i] == '_'))
			return false;
	return true;
}

static int classify_body(struct webhook_event *ev, size_t t, const void *body,
			 size_t body_len, char *errmsg, size_t errsz)
{
	json_error_t jerr;
	json_t *root;
	const char *action;

	if (body_len > WEBHOOK_MAX_BODY) {
		errmsg_set(errmsg, errsz, "payload of %zu bytes is over the %u byte limit",
			body_len, WEBHOOK_MAX_BODY);
		return ERR_TOOBIG;
	}
	root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		errmsg_set(errmsg, errsz, "payload is not JSON: %s at byte %d "
			"(is the hook's content type application/json?)",
			jerr.text, jerr.position);
		return ERR_INVALID;
	}
	action = json_path_str(root, "action", NULL);
	if (!json_is_object(root) || !action) {
		errmsg_set(errmsg, errsz, "'%s' payload has no \"action\"", ev->event);
		json_decref(root);
		return ERR_INVALID;
	}
	strlcpy_(ev->action, action, sizeof(ev->action));
	if (strcmp(action, triggers[t].action) == 0) {
		ev->kind = WEBHOOK_TRIGGER;
		triggers[t].subject(ev->subject, sizeof(ev->subject),
				    json_object_get(root, triggers[t].object));
	}
	json_decref(root);
	return 0;
}

int webhook_classify(struct webhook_event *out, const char *event,
		     const void *body, size_t body_len,
		     char *errmsg, size_t errsz)
{
	struct webhook_event ev = { .kind = WEBHOOK_IGNORE };
	int rc;

	if (!event_name_ok(event)) {
		errmsg_set(errmsg, errsz, "missing or malformed X-GitHub-Event header");
		return ERR_INVALID;
	}
	strlcpy_(ev.event, event, sizeof(ev.event));
	if (strcmp(event, "ping") == 0)
		ev.kind = WEBHOOK_PING;
	for (size_t t = 0; t < ARRAY_SIZE(triggers); t++) {
		if (strcmp(event, triggers[t].event) != 0)
			continue;
		rc = classify_body(&ev, t, body, body_len, errmsg, errsz);
		if (rc)
			return rc;
		break;
	}
	*out = ev;
	return 0;
}

const char *webhook_kind_name(enum webhook_kind kind)
{
	switch (kind) {
	case WEBHOOK_PING: return "ping";
	case WEBHOOK_TRIGGER: return "trigger";
	default: return "ignore";
	}
}

void webhook_coalescer_init(struct webhook_coalescer *c, uint64_t window_ms,
			    uint64_t remember_ms)
{
	memset(c, 0, sizeof(*c));
	c->window_ms = window_ms;
	c->remember_ms = remember_ms;
}

static bool id_seen(const struct webhook_coalescer *c, const char *id, uint64_t now_ms)
{
	for (size_t i = 0; i < WEBHOOK_SEEN_IDS; i++)
		if (c->seen[i].id[0] && now_ms - c->seen[i].at_ms < c->remember_ms
		    && strcmp(c->seen[i].id, id) == 0)
			return true;
	return false;
}

enum webhook_verdict webhook_coalescer_offer(struct webhook_coalescer *c,
					     const char *delivery_id,
					     uint64_t now_ms)
{
	bool has_id = delivery_id && *delivery_id;

	if (has_id) {
		if (id_seen(c, delivery_id, now_ms))
			return WEBHOOK_DUPLICATE;
		/* Ids longer than GitHub's 36-char UUIDs are kept truncated:
		 * still enough to recognise a redelivery. */
		strlcpy_(c->seen[c->next].id, delivery_id, sizeof(c->seen[c->next].id));
		c->seen[c->next].at_ms = now_ms;
		c->next = (c->next + 1) % WEBHOOK_SEEN_IDS;
	}
	if (c->fired && now_ms - c->last_fire_ms < c->window_ms)
		return WEBHOOK_MERGED;
	c->fired = true;
	c->last_fire_ms = now_ms;
	return WEBHOOK_FIRE;
}

const char *webhook_verdict_name(enum webhook_verdict v)
{
	switch (v) {
	case WEBHOOK_FIRE: return "fire";
	case WEBHOOK_MERGED: return "merged";
	default: return "duplicate";
	}
}
