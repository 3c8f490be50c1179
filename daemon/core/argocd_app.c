/* argocd_app.c - see argocd_app.h.  Facts are read with jansson; the
 * verdict is a table of checks in order of precedence (argocd_judge), the
 * first that applies wins, like policy.c's refusals. */
#include "argocd_app.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

static void copy_str(char *dst, size_t dstsz, const json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t i, n = 0;

	/* one line: control characters (a multi-line message) become spaces */
	for (i = 0; s[i] && n + 1 < dstsz; i++)
		dst[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	dst[n] = '\0';
}

static int type_error(struct buf *err, const char *field, const char *want)
{
	buf_seterr(err, "Application field %s is not %s", field, want);
	return ERR_INVALID;
}

/* A present field must have the type Argo CD's schema gives it. */
static int want_string(const json_t *v, const char *field, struct buf *err)
{
	return !v || json_is_string(v) ? 0 : type_error(err, field, "a string");
}

int argocd_repo_key(struct buf *out, const char *url)
{
	const char *s = url, *p, *host, *hend, *path;
	size_t n;

	buf_reset(out);
	if (!url || !*url)
		return ERR_INVALID;
	if ((p = strstr(s, "://")))
		s = p + 3;
	/* scp form user@host:path has no "//" and a ':' before any '/' */
	host = s;
	if ((p = strchr(host, '@')) && (!strchr(host, '/') || p < strchr(host, '/')))
		host = p + 1;
	for (hend = host; *hend && *hend != '/' && *hend != ':'; hend++)
		;
	path = hend;
	if (*path == ':') {
		/* a port (digits then '/'), or the scp form's path */
		const char *q = path + 1;
		while (isdigit((unsigned char)*q))
			q++;
		path = (*q == '/' && q > path + 1) ? q : path + 1;
	}
	while (*path == '/')
		path++;
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (n >= 4 && strncasecmp(path + n - 4, ".git", 4) == 0)
		n -= 4;
	if (hend == host || n == 0)
		return ERR_INVALID;
	for (p = host; p < hend; p++)
		if (buf_addch(out, (char)tolower((unsigned char)*p)))
			return ERR_NOMEM;
	if (buf_addch(out, '/') || buf_add(out, path, n))
		return ERR_NOMEM;
	return 0;
}

bool argocd_repo_same(const char *a, const char *b)
{
	struct buf ka = BUF_INIT, kb = BUF_INIT;
	bool same = argocd_repo_key(&ka, a) == 0 && argocd_repo_key(&kb, b) == 0 &&
		    strcmp(ka.data, kb.data) == 0;

	buf_release(&ka);
	buf_release(&kb);
	return same;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t argocd_time(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, off = 0;
	size_t i = 19;

	if (!s || strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
	    !digits(s + 17, 2))
		return -1;
	y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	h = num(s + 11, 2), mi = num(s + 14, 2), sec = num(s + 17, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		size_t f = ++i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == f)
			return -1;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
		off = 0;
	} else if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && digits(s + i + 1, 2) &&
		   s[i + 3] == ':' && digits(s + i + 4, 2)) {
		off = (num(s + i + 1, 2) * 60 + num(s + i + 4, 2)) * 60;
		if (s[i] == '-')
			off = -off;
	} else {
		return -1;
	}
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
}

static int read_time(int64_t *out, const json_t *v, const char *field, struct buf *err)
{
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || (*out = argocd_time(json_string_value(v))) < 0) {
		*out = 0;
		buf_seterr(err, "Application field %s is not an RFC 3339 time", field);
		return ERR_INVALID;
	}
	return 0;
}

/* The index of the GitOps repository among spec.sources, or -1 for a
 * single source that is it; ERR_NOTFOUND (with the URLs seen) otherwise. */
static int find_source(int *idx, json_t *spec, const char *repo_url, struct buf *err)
{
	json_t *sources = json_object_get(spec, "sources"), *one, *src;
	struct buf seen = BUF_INIT;
	int found = -2, rc;
	size_t i;

	if (sources && !json_is_array(sources))
		return type_error(err, "spec.sources", "an array");
	if (sources && json_array_size(sources) > 0) {
		json_array_foreach(sources, i, src) {
			json_t *url = json_object_get(src, "repoURL");
			json_t *ref = json_object_get(src, "ref");

			if (!json_is_object(src) || want_string(url, "spec.sources[].repoURL", err) ||
			    want_string(ref, "spec.sources[].ref", err)) {
				buf_release(&seen);
				return json_is_object(src) ? ERR_INVALID
							   : type_error(err, "spec.sources[]", "an object");
			}
			if (url && argocd_repo_same(json_string_value(url), repo_url)) {
				bool values = ref && strcmp(json_string_value(ref), "values") == 0;
				if (found == -2 || values)
					found = (int)i;
			} else if (url && seen.len < 300) {
				buf_printf(&seen, "%s%s", seen.len ? ", " : "", json_string_value(url));
			}
			if (i > 64)
				break;
		}
	} else if ((one = json_object_get(spec, "source"))) {
		json_t *url = json_object_get(one, "repoURL");

		if (!json_is_object(one) || want_string(url, "spec.source.repoURL", err)) {
			buf_release(&seen);
			return json_is_object(one) ? ERR_INVALID
						   : type_error(err, "spec.source", "an object");
		}
		if (url && argocd_repo_same(json_string_value(url), repo_url))
			found = -1;
		else if (url)
			buf_printf(&seen, "%s", json_string_value(url));
	}
	rc = found == -2 ? ERR_NOTFOUND : 0;
	if (rc)
		buf_seterr(err, "no source of the Application is the GitOps repository %s (sources: %s)",
			   repo_url, seen.len ? seen.data : "none");
	*idx = found;
	buf_release(&seen);
	return rc;
}

static int read_revision(struct argocd_app *a, json_t *sync, struct buf *err)
{
	json_t *rev;

	if (a->values_source < 0) {
		rev = json_object_get(sync, "revision");
	} else {
		json_t *revs = json_object_get(sync, "revisions");

		if (!revs)
			return 0;	/* not synced yet: revision unknown */
		if (!json_is_array(revs))
			return type_error(err, "status.sync.revisions", "an array");
		if ((size_t)a->values_source >= json_array_size(revs)) {
			buf_seterr(err, "status.sync.revisions has %zu entries, fewer than the sources",
				   json_array_size(revs));
			return ERR_INVALID;
		}
		rev = json_array_get(revs, (size_t)a->values_source);
	}
	if (want_string(rev, "status.sync.revision", err))
		return ERR_INVALID;
	copy_str(a->revision, sizeof a->revision, rev);
	return 0;
}

static int read_images(struct argocd_app *a, json_t *summary, struct buf *err)
{
	json_t *imgs = json_object_get(summary, "images"), *v;
	size_t i;

	if (!imgs)
		return 0;
	if (!json_is_array(imgs))
		return type_error(err, "status.summary.images", "an array");
	a->images = calloc(json_array_size(imgs) < ARGOCD_MAX_IMAGES ? json_array_size(imgs) + 1
								       : ARGOCD_MAX_IMAGES,
			   sizeof(char *));
	if (!a->images)
		return ERR_NOMEM;
	json_array_foreach(imgs, i, v) {
		if (!json_is_string(v))
			return type_error(err, "status.summary.images[]", "a string");
		if (a->nimages == ARGOCD_MAX_IMAGES) {
			a->images_truncated = true;
			break;
		}
		if (!(a->images[a->nimages] = xstrndup(json_string_value(v), json_string_length(v))))
			return ERR_NOMEM;
		a->nimages++;
	}
	return 0;
}

static int read_conditions(struct argocd_app *a, json_t *status, struct buf *err)
{
	json_t *conds = json_object_get(status, "conditions"), *c;
	size_t i;

	if (!conds)
		return 0;
	if (!json_is_array(conds))
		return type_error(err, "status.conditions", "an array");
	json_array_foreach(conds, i, c) {
		struct argocd_condition *k;

		if (!json_is_object(c))
			return type_error(err, "status.conditions[]", "an object");
		if (want_string(json_object_get(c, "type"), "status.conditions[].type", err) ||
		    want_string(json_object_get(c, "message"), "status.conditions[].message", err))
			return ERR_INVALID;
		if (a->nconditions == ARGOCD_MAX_CONDITIONS)
			break;
		k = &a->conditions[a->nconditions++];
		copy_str(k->type, sizeof k->type, json_object_get(c, "type"));
		copy_str(k->message, sizeof k->message, json_object_get(c, "message"));
	}
	return 0;
}

static int read_status(struct argocd_app *a, json_t *status, struct buf *err)
{
	json_t *sync = json_object_get(status, "sync");
	json_t *health = json_object_get(status, "health");
	json_t *op = json_object_get(status, "operationState");
	json_t *summary = json_object_get(status, "summary");
	int rc;

	if ((sync && !json_is_object(sync)) || (health && !json_is_object(health)) ||
	    (op && !json_is_object(op)) || (summary && !json_is_object(summary)))
		return type_error(err, "status.sync, .health, .operationState or .summary",
				  "an object");
	if (want_string(json_object_get(sync, "status"), "status.sync.status", err) ||
	    want_string(json_object_get(health, "status"), "status.health.status", err) ||
	    want_string(json_object_get(health, "message"), "status.health.message", err) ||
	    want_string(json_object_get(op, "phase"), "status.operationState.phase", err) ||
	    want_string(json_object_get(op, "message"), "status.operationState.message", err))
		return ERR_INVALID;
	copy_str(a->sync, sizeof a->sync, json_object_get(sync, "status"));
	copy_str(a->health, sizeof a->health, json_object_get(health, "status"));
	copy_str(a->health_message, sizeof a->health_message, json_object_get(health, "message"));
	copy_str(a->op_phase, sizeof a->op_phase, json_object_get(op, "phase"));
	copy_str(a->op_message, sizeof a->op_message, json_object_get(op, "message"));
	if ((rc = read_time(&a->op_started, json_object_get(op, "startedAt"),
			    "status.operationState.startedAt", err)) ||
	    (rc = read_time(&a->op_finished, json_object_get(op, "finishedAt"),
			    "status.operationState.finishedAt", err)) ||
	    (rc = read_time(&a->reconciled_at, json_object_get(status, "reconciledAt"),
			    "status.reconciledAt", err)))
		return rc;
	/* research/argocd: the operation and health loops are separate */
	a->health_stale = a->op_finished && a->op_finished > a->reconciled_at;
	if (sync && (rc = read_revision(a, sync, err)))
		return rc;
	if ((rc = read_images(a, summary, err)))
		return rc;
	return read_conditions(a, status, err);
}

static int parse_app(struct argocd_app *a, json_t *app, const char *repo_url, struct buf *err)
{
	json_t *meta = json_object_get(app, "metadata"), *spec = json_object_get(app, "spec");
	json_t *status = json_object_get(app, "status");
	int rc;

	memset(a, 0, sizeof *a);
	if (!json_is_object(app))
		return type_error(err, "(the document)", "an object");
	if (!json_is_object(meta) || !json_is_string(json_object_get(meta, "name")))
		return type_error(err, "metadata.name", "a string");
	if (!json_is_object(spec))
		return type_error(err, "spec", "an object");
	if (status && !json_is_object(status))
		return type_error(err, "status", "an object");
	if (want_string(json_object_get(spec, "project"), "spec.project", err) ||
	    want_string(json_object_get(meta, "namespace"), "metadata.namespace", err))
		return ERR_INVALID;
	copy_str(a->name, sizeof a->name, json_object_get(meta, "name"));
	copy_str(a->app_namespace, sizeof a->app_namespace, json_object_get(meta, "namespace"));
	copy_str(a->project, sizeof a->project, json_object_get(spec, "project"));
	if ((rc = find_source(&a->values_source, spec, repo_url, err)))
		return rc;
	if (status && (rc = read_status(a, status, err))) {
		argocd_app_release(a);
		return rc;
	}
	return 0;
}

static json_t *load(const char *json, size_t len, struct buf *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > ARGOCD_MAX_BODY) {
		buf_seterr(err, "Argo CD document of %zu bytes is over the %u-byte limit", len,
			   ARGOCD_MAX_BODY);
		return NULL;
	}
	root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		buf_seterr(err, "Argo CD sent invalid JSON (line %d, column %d: %s)", jerr.line,
			   jerr.column, jerr.text);
	return root;
}

int argocd_app_parse(struct argocd_app *out, const char *json, size_t len, const char *repo_url,
		     struct buf *err)
{
	json_t *root = load(json, len, err);
	int rc;

	if (!root)
		return len > ARGOCD_MAX_BODY ? ERR_TOOBIG : ERR_INVALID;
	rc = parse_app(out, root, repo_url, err);
	json_decref(root);
	return rc;
}

int argocd_event_parse(struct argocd_app *out, char type[16], const char *json, size_t len,
		       const char *repo_url, struct buf *err)
{
	json_t *root = load(json, len, err), *res, *t, *e;
	int rc = ERR_INVALID;

	type[0] = '\0';
	if (!root)
		return len > ARGOCD_MAX_BODY ? ERR_TOOBIG : ERR_INVALID;
	if ((e = json_object_get(root, "error"))) {
		json_t *msg = json_object_get(e, "message");
		buf_seterr(err, "Argo CD stream error: %s",
			   json_is_string(msg) ? json_string_value(msg) : "(no message)");
		rc = ERR_REJECTED;
	} else if (!json_is_object(res = json_object_get(root, "result")) ||
		   !json_is_string(t = json_object_get(res, "type"))) {
		buf_seterr(err, "Argo CD stream line has no result.type");
	} else if (strcmp(json_string_value(t), "ADDED") && strcmp(json_string_value(t), "MODIFIED") &&
		   strcmp(json_string_value(t), "DELETED")) {
		buf_seterr(err, "Argo CD stream event type '%.32s' is not ADDED, MODIFIED or DELETED",
			   json_string_value(t));
	} else {
		strlcpy_(type, json_string_value(t), 16);
		rc = strcmp(type, "DELETED") == 0
			     ? 0
			     : parse_app(out, json_object_get(res, "application"), repo_url, err);
		if (rc)
			type[0] = '\0';
	}
	json_decref(root);
	return rc;
}

void argocd_app_release(struct argocd_app *a)
{
	for (size_t i = 0; i < a->nimages; i++)
		free(a->images[i]);
	free(a->images);
	a->images = NULL;
	a->nimages = 0;
}

static int add_segment(struct buf *out, const char *s)
{
	int rc = buf_addch(out, '/');

	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '~' || c == '-')
			rc = buf_addch(out, (char)c);
		else
			rc = buf_printf(out, "%%%02X", c);
	}
	return rc;
}

int argocd_ui_url(struct buf *out, const char *base, const char *app_namespace,
		  const char *name)
{
	size_t n = base ? strlen(base) : 0;
	int rc;

	while (n && base[n - 1] == '/')
		n--;
	if (!n || !name || !*name)
		return ERR_INVALID;
	buf_reset(out);
	rc = buf_printf(out, "%.*s/applications", (int)n, base);
	if (!rc && app_namespace && *app_namespace)
		rc = add_segment(out, app_namespace);
	if (!rc)
		rc = add_segment(out, name);
	return rc;
}

static const char *last_of(const char *s, char c, size_t n)
{
	const char *r = NULL;

	for (size_t i = 0; i < n; i++)
		if (s[i] == c)
			r = s + i;
	return r;
}

/* Of an image reference: the last path component of the repository and
 * the tag ("" when only a digest pins it). */
static void split_image(const char *ref, const char **name, size_t *namelen, const char **tag,
			size_t *taglen)
{
	size_t n = strcspn(ref, "@");	/* a digest suffix does not count */
	const char *slash, *colon;

	*tag = "", *taglen = 0;
	slash = last_of(ref, '/', n);
	colon = last_of(ref, ':', n);
	if (colon && (!slash || colon > slash)) {
		*tag = colon + 1;
		*taglen = (size_t)(ref + n - *tag);
		n = (size_t)(colon - ref);
	}
	*name = slash ? slash + 1 : ref;
	*namelen = (size_t)(ref + n - *name);
}

/* The tag image runs per summary.images: NULL when not listed.  A name
 * listed with several tags (two Deployments mid-rollout) is reported by its
 * first tag that differs from want, so a mismatch is never hidden. */
static const char *running_tag(const struct argocd_app *a, const char *image, const char *want,
			       size_t *len)
{
	const char *found = NULL;

	for (size_t i = 0; i < a->nimages; i++) {
		const char *name, *tag;
		size_t nlen, tlen;

		split_image(a->images[i], &name, &nlen, &tag, &tlen);
		if (nlen != strlen(image) || memcmp(name, image, nlen) != 0)
			continue;
		*len = tlen;
		if (tlen != strlen(want) || memcmp(tag, want, tlen) != 0)
			return tag;
		found = tag;
	}
	return found;
}

static const struct argocd_condition *condition(const struct argocd_app *a, const char *type)
{
	for (size_t i = 0; i < a->nconditions; i++)
		if (strcmp(a->conditions[i].type, type) == 0)
			return &a->conditions[i];
	return NULL;
}

static bool say(struct argocd_state *o, enum argocd_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the verdict and its reason (cut at ARGOCD_TEXT_MAX); always true,
 * so that a check reads "return condition && say(...)". */
static bool say(struct argocd_state *o, enum argocd_verdict v, const char *fmt, ...)
{
	va_list ap;

	o->verdict = v;
	va_start(ap, fmt);
	vsnprintf(o->why, sizeof o->why, fmt, ap);
	va_end(ap);
	return true;
}

static bool judge_stale(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	return a->health_stale &&
	       say(o, ARGOCD_UNKNOWN, "health not known yet: the last sync finished after the last "
				      "reconcile; asking Argo CD to refresh");
}

static bool judge_failed(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	const struct argocd_condition *c = condition(a, "SyncError");

	if (strcmp(a->op_phase, "Failed") == 0 || strcmp(a->op_phase, "Error") == 0)
		return say(o, ARGOCD_SYNC_FAILED, "sync %s: %s",
			   strcmp(a->op_phase, "Failed") == 0 ? "failed" : "errored",
			   a->op_message[0] ? a->op_message : "(Argo CD gave no message)");
	return c && say(o, ARGOCD_SYNC_FAILED, "sync failed: %s", c->message);
}

static bool judge_compare(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	const struct argocd_condition *c = condition(a, "ComparisonError");

	if (!c)
		c = condition(a, "InvalidSpecError");
	return c && say(o, ARGOCD_UNKNOWN, "Argo CD cannot compare the Application (%s): %s",
			c->type, c->message);
}

static bool judge_degraded(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	return (strcmp(a->health, "Degraded") == 0 || strcmp(a->health, "Missing") == 0) &&
	       say(o, ARGOCD_DEGRADED, "health %s%s%s", a->health, a->health_message[0] ? ": " : "",
		   a->health_message);
}

static bool judge_running(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	return (strcmp(a->op_phase, "Running") == 0 || strcmp(a->op_phase, "Terminating") == 0) &&
	       say(o, ARGOCD_PROGRESSING, "sync %s", strcmp(a->op_phase, "Running") == 0
							     ? "running" : "terminating");
}

static bool judge_sync(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	if (strcmp(a->sync, "OutOfSync") == 0)
		return say(o, ARGOCD_OUT_OF_SYNC, "Argo CD reports OutOfSync (synced revision %.12s)",
			   a->revision[0] ? a->revision : "unknown");
	if (strcmp(a->sync, "Synced") != 0)
		return say(o, ARGOCD_UNKNOWN, "sync status %s", a->sync[0] ? a->sync : "not reported");
	if (!a->revision[0])
		return say(o, ARGOCD_UNKNOWN, "Argo CD reports no revision for the values source");
	return !x->revision_has_promotion &&
	       say(o, ARGOCD_OUT_OF_SYNC, "synced to %.12s, which does not contain the promotion "
					  "of %.12s yet", a->revision, x->tag ? x->tag : "?");
}

static bool judge_health(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	if (strcmp(a->health, "Progressing") == 0 || strcmp(a->health, "Suspended") == 0)
		return say(o, ARGOCD_PROGRESSING, "health %s%s%s", a->health,
			   a->health_message[0] ? ": " : "", a->health_message);
	return strcmp(a->health, "Healthy") != 0 &&
	       say(o, ARGOCD_UNKNOWN, "health %s", a->health[0] ? a->health : "not reported");
}

static bool judge_images(struct argocd_state *o, const struct argocd_app *a, const struct argocd_expect *x)
{
	const char *want = x->tag ? x->tag : "";

	o->images_ok = 0;
	for (size_t i = 0; i < x->nimages; i++) {
		size_t len = 0;
		const char *tag = running_tag(a, x->images[i], want, &len);

		if (!tag)
			return say(o, ARGOCD_OUT_OF_SYNC, "image %s is not running (not in the "
							  "Application's images)", x->images[i]);
		if (len != strlen(want) || memcmp(tag, want, len) != 0)
			return say(o, ARGOCD_OUT_OF_SYNC, "image %s runs %.*s, not %.12s",
				   x->images[i], (int)(len > 40 ? 40 : len), tag, want);
		o->images_ok++;
	}
	return false;
}

void argocd_judge(struct argocd_state *out, const struct argocd_app *a,
		  const struct argocd_expect *x)
{
	static bool (*const checks[])(struct argocd_state *, const struct argocd_app *,
				      const struct argocd_expect *) = {
		judge_stale, judge_failed, judge_compare, judge_degraded,
		judge_running, judge_sync, judge_health, judge_images,
	};

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++)
		if (checks[i](out, a, x))
			return;
	out->images_ok = x->nimages;
	say(out, ARGOCD_DEPLOYED, "deployed: %.12s synced, healthy, %zu image(s) run %.12s",
	    a->revision, x->nimages, x->tag ? x->tag : "");
}

const char *argocd_verdict_name(enum argocd_verdict v)
{
	static const char *const names[] = {
		[ARGOCD_UNKNOWN] = "unknown",	      [ARGOCD_DEPLOYED] = "deployed",
		[ARGOCD_PROGRESSING] = "progressing", [ARGOCD_OUT_OF_SYNC] = "out-of-sync",
		[ARGOCD_DEGRADED] = "degraded",	      [ARGOCD_SYNC_FAILED] = "sync-failed",
	};

	return (size_t)v < ARRAY_SIZE(names) ? names[v] : "unknown";
}
