/* argocd.c - see argocd.h.  Per Application a small state machine on the
 * loop: STREAM (a watch is open or being opened), POLL (the stream was
 * refused: a GET every poll_ms), WAIT (backoff before the next try).  All
 * I/O goes through httpc; parsing and judging live in argocd_app.c. */
#include "argocd.h"
#include "sysio.h"
#include "httpc.h"
#include "regparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum mode { MODE_STREAM, MODE_POLL };

struct follow {
	struct argocd *c;
	size_t idx;
	char *name;
	enum mode mode;
	unsigned failures;	/* consecutive, for the backoff */
	bool stream_open;	/* the watch request is running */
	bool get_open;		/* a GET is running */
	bool got_event;		/* the current stream delivered something */
	bool refresh_pending;	/* stale health: asked again with ?refresh */
	uint64_t opened_ms;
	uv_timer_t *timer;
	char last_why[256];	/* the last reason reported, to report a change once */
};

struct argocd {
	uv_loop_t *loop;
	struct httpc *http;
	char *url, *repo_url, *project, *auth;
	struct argocd_opts o;
	argocd_update_cb *update;
	void *arg;
	struct follow f[ARGOCD_MAX_APPS];
	size_t n;
	struct argocd_stats st;
	bool closing;
};

static void start(struct follow *f);

static uint32_t rnd(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)mono_ms();
	return r;
}

static void report(struct follow *f, const struct argocd_app *facts, const char *why)
{
	if (!facts) {
		f->c->st.failures++;
		if (strcmp(f->last_why, why) == 0)
			return;	/* the same reason again: said once */
		strlcpy_(f->last_why, why, sizeof f->last_why);
	} else {
		f->last_why[0] = '\0';
	}
	f->c->update(f->idx, facts, why, f->c->arg);
}

static void timer_cb(uv_timer_t *t)
{
	start(t->data);
}

static void later(struct follow *f, uint64_t ms)
{
	uv_timer_start(f->timer, timer_cb, ms, 0);
}

static void backoff(struct follow *f)
{
	f->failures++;
	later(f, regparse_backoff_ms(f->failures, 1000, f->c->o.backoff_max_ms, rnd()));
}

/* What an error status means for the operator. */
static void status_why(char *out, size_t outsz, const struct follow *f, long status,
		       const struct buf *body)
{
	const char *msg = body->data ? body->data : "";

	if (status == 401)
		snprintf(out, outsz, "Argo CD refused the token (401): it expired or was revoked; "
			 "make a new one with 'argocd account generate-token --account pipelined' "
			 "into the token file");
	else if (status == 403)
		snprintf(out, outsz, "Argo CD denied access to Application '%s' (403): the RBAC "
			 "policy needs 'p, pipelined, applications, get, %s/*, allow'", f->name,
			 f->c->project ? f->c->project : "<project>");
	else if (status == 404)
		snprintf(out, outsz, "Argo CD has no Application '%s'%s%s (404): check the "
			 "stage's Application name", f->name, f->c->project ? " in project " : "",
			 f->c->project ? f->c->project : "");
	else
		snprintf(out, outsz, "Argo CD answered HTTP %ld: %.120s", status, msg);
}

static void deliver(struct follow *f, struct argocd_app *a)
{
	struct argocd *c = f->c;

	c->st.events++;
	report(f, a, NULL);
	if (a->health_stale && !f->refresh_pending && f->mode == MODE_STREAM) {
		/* ask again once the controller has reconciled */
		f->refresh_pending = true;
		later(f, 1000);
	}
}

static int on_line(const char *line, size_t len, void *arg)
{
	struct follow *f = arg;
	struct argocd_app a;
	struct buf err = BUF_INIT;
	char type[16];
	int rc;

	if (f->c->closing)
		return 1;
	if (len == 0)
		return 0;
	f->got_event = true;
	f->failures = 0;
	rc = argocd_event_parse(&a, type, line, len, f->c->repo_url, &err);
	if (rc == 0 && strcmp(type, "DELETED") == 0) {
		report(f, NULL, "the Application was deleted in Argo CD");
	} else if (rc == 0) {
		if (strcmp(a.name, f->name) == 0)	/* the watch filters by name; be sure */
			deliver(f, &a);
		argocd_app_release(&a);
	} else {
		report(f, NULL, err.data ? err.data : "unreadable stream line");
	}
	buf_release(&err);
	return 0;
}

static void get_done(const struct httpc_resp *r, void *arg);

static void poll_once(struct follow *f, bool refresh)
{
	struct argocd *c = f->c;
	struct buf url = BUF_INIT;
	const char *hdrs[] = { c->auth, "Accept: application/json", NULL };
	struct httpc_req req = { "GET", NULL, hdrs, NULL, ARGOCD_MAX_BODY, NULL, NULL,
				 (long)c->o.deadline_ms };

	buf_printf(&url, "%s/api/v1/applications/%s%s%s%s", c->url, f->name,
		   refresh || c->project ? "?" : "", refresh ? "refresh=normal" : "",
		   c->project ? (refresh ? "&project=" : "project=") : "");
	if (c->project)
		buf_adds(&url, c->project);
	req.url = url.data;
	c->st.polls++;
	f->get_open = httpc_start(c->http, &req, get_done, f) == 0;
	if (!f->get_open) {
		report(f, NULL, "cannot start a request to Argo CD (is the url usable?)");
		backoff(f);
	}
	buf_release(&url);
}

static void get_done(const struct httpc_resp *r, void *arg)
{
	struct follow *f = arg;
	struct argocd_app a;
	struct buf err = BUF_INIT;
	char why[320];

	f->get_open = false;
	if (f->c->closing || r->fail == HTTPC_ERR_CANCELLED)
		return;
	if (r->fail) {
		snprintf(why, sizeof why, "cannot reach Argo CD: %.200s", r->error);
		report(f, NULL, why);
		return backoff(f);
	}
	if (r->status != 200) {
		status_why(why, sizeof why, f, r->status, &r->body);
		report(f, NULL, why);
		return backoff(f);
	}
	if (argocd_app_parse(&a, r->body.data, r->body.len, f->c->repo_url, &err) == 0) {
		f->failures = 0;
		deliver(f, &a);
		argocd_app_release(&a);
	} else {
		report(f, NULL, err.data ? err.data : "unreadable Application");
	}
	buf_release(&err);
	if (f->mode == MODE_POLL)
		later(f, f->c->o.poll_ms);
}

static void stream_done(const struct httpc_resp *r, void *arg)
{
	struct follow *f = arg;
	char why[320];
	bool lived;

	f->stream_open = false;
	if (f->c->closing || r->fail == HTTPC_ERR_CANCELLED)
		return;
	if (!r->fail && r->status != 200) {
		if (r->status == 401 || r->status == 403) {
			status_why(why, sizeof why, f, r->status, &r->body);
			report(f, NULL, why);
			return backoff(f);
		}
		/* refused (404, 405, 501 or a proxy that cannot stream): poll,
		 * and let the GET say whether the Application exists */
		f->mode = MODE_POLL;
		return poll_once(f, false);
	}
	lived = mono_ms() - f->opened_ms + 1000 >= f->c->o.stream_life_ms;
	/* a stream that delivered and then broke is reopened at once: only
	 * when that fails is Argo CD unreachable (a verdict goes unknown) */
	if (r->fail && !f->got_event && !(r->fail == HTTPC_ERR_TIMEOUT && lived)) {
		snprintf(why, sizeof why, "cannot reach Argo CD: %.200s", r->error);
		report(f, NULL, why);
	}
	/* a stream that delivered, or lived its full life, reopens at once */
	if (f->got_event || (r->fail == HTTPC_ERR_TIMEOUT && lived)) {
		f->failures = 0;
		return later(f, 0);
	}
	backoff(f);
}

static void open_stream(struct follow *f)
{
	struct argocd *c = f->c;
	struct buf url = BUF_INIT;
	const char *hdrs[] = { c->auth, "Accept: application/json", NULL };
	struct httpc_req req = { "GET", NULL, hdrs, NULL, ARGOCD_MAX_BODY, on_line, f,
				 (long)c->o.stream_life_ms };

	buf_printf(&url, "%s/api/v1/stream/applications?name=%s", c->url, f->name);
	if (c->project)
		buf_printf(&url, "&projects=%s", c->project);
	req.url = url.data;
	f->got_event = false;
	f->opened_ms = mono_ms();
	c->st.streams_opened++;
	f->stream_open = httpc_start(c->http, &req, stream_done, f) == 0;
	if (!f->stream_open) {
		report(f, NULL, "cannot start a request to Argo CD (is the url usable?)");
		backoff(f);
	}
	buf_release(&url);
}

static void start(struct follow *f)
{
	if (f->c->closing)
		return;
	if (f->refresh_pending && !f->get_open) {
		f->refresh_pending = false;
		poll_once(f, true);	/* a GET beside the open stream */
	}
	if (f->mode == MODE_STREAM && !f->stream_open)
		open_stream(f);
	else if (f->mode == MODE_POLL && !f->get_open)
		poll_once(f, false);
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	/* Kubernetes object names (RFC 1123 subdomain): nothing to escape */
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

static int read_token(struct argocd *c, const char *path, struct buf *err)
{
	struct buf t = BUF_INIT, h = BUF_INIT;
	size_t n;
	int rc = file_read(&t, path, ARGOCD_TOKEN_MAX);

	if (rc) {
		buf_seterr(err, "cannot read the Argo CD token file %s", path);
		return rc;
	}
	n = t.len;
	while (n && (t.data[n - 1] == '\n' || t.data[n - 1] == '\r' || t.data[n - 1] == ' '))
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t.data[i] <= ' ' || t.data[i] == 0x7f)
			rc = ERR_INVALID;
	if (n == 0 || rc) {
		buf_seterr(err, "the Argo CD token file %s is %s", path,
			   n ? "not one line of printable characters" : "empty");
		rc = ERR_INVALID;
	} else if (buf_adds(&h, "Authorization: Bearer ") || buf_add(&h, t.data, n)) {
		rc = ERR_NOMEM;
	} else {
		c->auth = buf_detach(&h, NULL);
	}
	memset(t.data, 0, t.len);
	buf_release(&t);
	buf_release(&h);
	return rc;
}

static uint64_t or_ms(uint64_t v, uint64_t def)
{
	return v ? v : def;
}

int argocd_new(struct argocd **out, uv_loop_t *loop, const struct argocd_opts *o,
	       argocd_update_cb *update, void *arg, struct buf *err)
{
	struct argocd *c = calloc(1, sizeof *c);
	struct httpc_opts ho = { 0 };
	int rc = ERR_NOMEM;

	if (!c)
		return ERR_NOMEM;
	c->loop = loop, c->update = update, c->arg = arg, c->o = *o;
	c->o.deadline_ms = or_ms(o->deadline_ms, 30000);
	c->o.poll_ms = or_ms(o->poll_ms, 10000);
	c->o.stream_life_ms = or_ms(o->stream_life_ms, 600000);
	c->o.backoff_max_ms = or_ms(o->backoff_max_ms, 60000);
	ho.ca_file = o->ca_file;
	ho.connect_timeout_ms = (long)c->o.deadline_ms;
	ho.total_timeout_ms = (long)c->o.deadline_ms;
	if (!o->url || !httpc_url_allowed(o->url) || o->napps > ARGOCD_MAX_APPS || !o->repo_url) {
		buf_seterr(err, "Argo CD url '%s' is not usable (https://, or http:// on loopback)",
			   o->url ? o->url : "");
		rc = ERR_INVALID;
		goto fail;
	}
	for (size_t i = 0; i < o->napps; i++)
		if (!name_ok(o->apps[i]) || (o->project && !name_ok(o->project))) {
			buf_seterr(err, "Argo CD Application '%s' or project is not a Kubernetes name",
				   o->apps[i]);
			rc = ERR_INVALID;
			goto fail;
		}
	if (!(c->url = xstrndup(o->url, strlen(o->url))) ||
	    !(c->repo_url = xstrndup(o->repo_url, strlen(o->repo_url))) ||
	    (o->project && !(c->project = xstrndup(o->project, strlen(o->project)))))
		goto fail;
	if (c->url[0] && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	if ((rc = read_token(c, o->token_file, err)) || (rc = httpc_new(&c->http, loop, &ho)))
		goto fail;
	for (size_t i = 0; i < o->napps; i++) {
		struct follow *f = &c->f[i];

		f->c = c, f->idx = i;
		if (!(f->name = xstrndup(o->apps[i], strlen(o->apps[i]))) ||
		    !(f->timer = malloc(sizeof *f->timer)) || uv_timer_init(loop, f->timer)) {
			free(f->timer);
			f->timer = NULL;
			rc = ERR_NOMEM;
			c->n = i + (f->name != NULL);
			goto fail;
		}
		f->timer->data = f;
		c->n = i + 1;
	}
	for (size_t i = 0; i < c->n; i++)
		start(&c->f[i]);
	*out = c;
	return 0;
fail:
	argocd_free(c);
	return rc;
}

static void timer_free_cb(uv_handle_t *h)
{
	free(h);
}

void argocd_free(struct argocd *c)
{
	if (!c)
		return;
	c->closing = true;
	httpc_free(c->http);	/* cancels: callbacks see closing and return */
	for (size_t i = 0; i < c->n; i++) {
		if (c->f[i].timer) {
			uv_timer_stop(c->f[i].timer);
			uv_close((uv_handle_t *)c->f[i].timer, timer_free_cb);
		}
		free(c->f[i].name);
	}
	if (c->auth)
		memset(c->auth, 0, strlen(c->auth));
	free(c->auth);
	free(c->url);
	free(c->repo_url);
	free(c->project);
	free(c);
}

void argocd_get_stats(const struct argocd *c, struct argocd_stats *out)
{
	*out = c->st;
}
