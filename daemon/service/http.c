/* http.c - see http.h */
#include "http.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#define SWEEP_MS 100

/* One TCP connection, known from MHD's connection notifications: the
 * deadline sweep needs the socket and when the current request began. */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	uint64_t since_ms;	/* connection start or end of the last response */
	bool in_request;	/* headers complete, not yet answered */
	bool deferred;		/* suspended, waiting for http_deferred_reply */
	bool cut;
};

/* One request, from complete headers to MHD's completion callback. */
struct http_rq {
	struct http_server *server;
	const struct http_route *route;
	struct buf body;
	bool answered;
	struct http_deferred *deferred;
};

/* A request whose handler answers later (HTTP_DEFER). */
struct http_deferred {
	struct http_deferred *prev, *next;
	struct http_server *server;
	struct MHD_Connection *conn;
	struct http_rq *rq;
	void (*cancel_cb)(void *arg);
	void *arg;
	bool suspended;
	bool has_reply;
	struct http_response res;
};

struct http_server {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;	/* MHD_get_timeout */
	uv_timer_t sweep;	/* request deadlines, graceful stop */
	int open_handles;
	const struct http_route *routes;
	size_t nroutes;
	uint64_t request_timeout_ms;
	struct http_conn *conns;
	unsigned nconns;
	struct http_deferred *deferred;
	unsigned port;
	char listen_host[64];	/* numeric, no brackets */
	char hosts[HTTP_MAX_HOSTS][HTTP_HOST_MAX];
	size_t nhosts;
	bool stopping;
	bool rerun;		/* MHD_run must run again soon */
	uint64_t stop_deadline_ms;
	uint64_t grace_ms;
	void (*done_cb)(void *arg);
	void *done_arg;
};

static int parse_port(uint16_t *out, const char *s)
{
	uint32_t v;

	if (parse_u32(&v, s, 0, 65535))
		return ERR_INVALID;
	*out = (uint16_t)v;
	return 0;
}

static int parse_v6(struct sockaddr_storage *out, const char *spec)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	const char *close = strchr(spec, ']');
	char host[INET6_ADDRSTRLEN];

	if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host))
		return ERR_INVALID;
	memcpy(host, spec + 1, (size_t)(close - spec - 1));
	host[close - spec - 1] = '\0';
	if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1 || parse_port(&a6.sin6_port, close + 2))
		return ERR_INVALID;
	a6.sin6_port = htons(a6.sin6_port);
	memset(out, 0, sizeof(*out));
	memcpy(out, &a6, sizeof(a6));
	return 0;
}

static int parse_v4(struct sockaddr_storage *out, const char *spec)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	const char *colon = strrchr(spec, ':');
	char host[INET_ADDRSTRLEN];

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return ERR_INVALID;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &a4.sin_addr) != 1 || parse_port(&a4.sin_port, colon + 1))
		return ERR_INVALID;
	a4.sin_port = htons(a4.sin_port);
	memset(out, 0, sizeof(*out));
	memcpy(out, &a4, sizeof(a4));
	return 0;
}

int http_listen_parse(struct sockaddr_storage *out, const char *spec,
		      char *errmsg, size_t errsz)
{
	struct sockaddr_storage ss;
	int rc;

	if (!spec || !*spec) {
		errmsg_set(errmsg, errsz, "empty listen address");
		return ERR_INVALID;
	}
	rc = spec[0] == '[' ? parse_v6(&ss, spec) : parse_v4(&ss, spec);
	if (rc) {
		errmsg_set(errmsg, errsz, "bad listen address '%s': want IPv4:port or [IPv6]:port",
			spec);
		return rc;
	}
	*out = ss;
	return 0;
}

/* ---- requests and responses ---- */

const char *http_query(const struct http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int http_response_header(struct http_response *res, const char *name, const char *value)
{
	size_t i = res->nheaders;

	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return ERR_INVALID;
	if (i == HTTP_MAX_HEADERS || strlen(name) >= sizeof(res->headers[i].name)
	    || strlen(value) >= sizeof(res->headers[i].value))
		return ERR_TOOBIG;
	strlcpy_(res->headers[i].name, name, sizeof(res->headers[i].name));
	strlcpy_(res->headers[i].value, value, sizeof(res->headers[i].value));
	res->nheaders++;
	return 0;
}

int http_text(struct http_response *res, unsigned status, const char *text)
{
	res->status = status;
	strlcpy_(res->content_type, "text/plain; charset=utf-8", sizeof(res->content_type));
	buf_reset(&res->body);
	return buf_adds(&res->body, text) ? ERR_TOOBIG : 0;
}

static void response_init(struct http_response *res)
{
	memset(res, 0, sizeof(*res));
	res->status = 200;
	strlcpy_(res->content_type, "text/plain; charset=utf-8", sizeof(res->content_type));
	buf_init(&res->body, HTTP_MAX_RESPONSE);
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct http_response *res)
{
	size_t len;
	char *data = buf_detach(&res->body, &len);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!data)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < res->nheaders; i++)
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
	ret = MHD_queue_response(c, res->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
				 const char *text, const char *allow)
{
	struct http_response res;
	enum MHD_Result ret;

	response_init(&res);
	http_text(&res, status, text);
	if (allow)
		http_response_header(&res, "Allow", allow);
	ret = send_response(c, &res);
	buf_release(&res.body);
	return ret;
}

/* ---- allowed hosts ---- */

static bool add_host(char out[][HTTP_HOST_MAX], size_t max, size_t *n, const char *name,
		     unsigned port)
{
	/* both forms or neither: a name cut short would allow another host */
	if (*n + 2 > max || (size_t)snprintf(out[*n], HTTP_HOST_MAX, "%s", name) >= HTTP_HOST_MAX ||
	    (size_t)snprintf(out[*n + 1], HTTP_HOST_MAX, "%s:%u", name, port) >= HTTP_HOST_MAX)
		return false;
	*n += 2;
	return true;
}

size_t http_default_hosts(char out[][HTTP_HOST_MAX], size_t max, const char *host, unsigned port)
{
	char self[HTTP_HOST_MAX];
	bool any4 = !strcmp(host, "0.0.0.0"), any6 = !strcmp(host, "::");
	bool loopback = !strncmp(host, "127.", 4) || !strcmp(host, "::1");
	size_t n = 0;

	if (!any4 && !any6) {
		snprintf(self, sizeof(self), strchr(host, ':') ? "[%s]" : "%s", host);
		add_host(out, max, &n, self, port);
	}
	/* The loopback names reach only a loopback or wildcard listener
	 * ("::" takes IPv4 too, as Linux binds it dual-stack by default). */
	if (any4 || any6 || loopback)
		add_host(out, max, &n, "localhost", port);
	if (any4 || any6)
		add_host(out, max, &n, "127.0.0.1", port);
	if (any6)
		add_host(out, max, &n, "[::1]", port);
	return n;
}

bool http_host_allowed(const char *host, const char (*hosts)[HTTP_HOST_MAX], size_t n)
{
	if (!host || !*host)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(host, hosts[i]))
			return true;
	return false;
}

/* Said once per (re)configuration: a 421 is easier to understand when the
 * journal shows which names writes are accepted for. */
static void log_hosts(const struct http_server *s, bool defaults)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < s->nhosts; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", s->hosts[i]);
	log_info("http", "writes accepted with Host %s%s", b.data ? b.data : "(none)",
		 defaults ? " (the default; set [http] allowedHosts to change it)" : "");
	buf_release(&b);
}

int http_set_allowed_hosts(struct http_server *s, const char *const *hosts, size_t n)
{
	if (n > HTTP_MAX_HOSTS)
		return ERR_TOOBIG;
	for (size_t i = 0; i < n; i++)
		if (strlen(hosts[i]) >= HTTP_HOST_MAX)
			return ERR_TOOBIG;
	if (n == 0) {
		s->nhosts = http_default_hosts(s->hosts, HTTP_MAX_HOSTS, s->listen_host, s->port);
	} else {
		for (size_t i = 0; i < n; i++)
			strlcpy_(s->hosts[i], hosts[i], HTTP_HOST_MAX);
		s->nhosts = n;
	}
	log_hosts(s, n == 0);
	return 0;
}

static bool route_writes(const struct http_route *r)
{
	return strcmp(r->method, "GET") != 0 || (r->flags & HTTP_ROUTE_WRITE);
}

/* ---- routing ---- */

static bool path_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, path, n - 1) == 0;
	return strcmp(pattern, path) == 0;
}

/* Find the route for method+path; HEAD is served by the GET route.  When
 * the path exists under other methods only, list them in allow. */
static const struct http_route *route_find(const struct http_server *s, const char *method,
					   const char *path, struct buf *allow)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	bool any = false;

	for (size_t i = 0; i < s->nroutes; i++) {
		const struct http_route *r = &s->routes[i];

		if (!path_matches(r->path, path))
			continue;
		if (strcmp(r->method, want) == 0)
			return r;
		any = true;
		buf_printf(allow, "%s%s", allow->len ? ", " : "", r->method);
		if (strcmp(r->method, "GET") == 0)
			buf_adds(allow, ", HEAD");
	}
	if (!any)
		buf_reset(allow);
	return NULL;
}

/* Paths reach handlers verbatim (percent-decoded, not normalised); refuse
 * dot segments so that no prefix route ever has to think about them. */
static bool path_safe(const char *path)
{
	const char *p = path;

	if (p[0] != '/')
		return false;
	while ((p = strstr(p, "/."))) {
		size_t n = p[2] == '.' ? 3 : 2;

		if (p[n] == '/' || p[n] == '\0')
			return false;
		p++;
	}
	return true;
}

static struct http_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* Refuse before reading when Content-Length already says too much;
 * a body without a length (chunked) is counted while it arrives. */
static bool declared_too_big(struct MHD_Connection *c, const struct http_route *r)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	int64_t len;

	if (cl)
		return parse_i64(&len, cl, 0, INT64_MAX) || (uint64_t)len > r->max_body;
	return te && r->max_body == 0;
}

static enum MHD_Result request_begin(struct http_server *s, struct MHD_Connection *c,
				     const char *url, const char *method, void **con_cls)
{
	struct buf allow = BUF_INIT;
	const struct http_route *r = route_find(s, method, url, &allow);
	struct http_conn *hc = conn_of(c);
	struct http_rq *rq;
	enum MHD_Result ret;

	if (hc)
		hc->in_request = true;
	/* Even a request answered right here gets its state, so that body
	 * bytes MHD may still hand us are recognised and dropped. */
	rq = calloc(1, sizeof(*rq));
	if (!rq) {
		buf_release(&allow);
		return MHD_NO;
	}
	rq->server = s;
	rq->route = r;
	buf_init(&rq->body, r && r->max_body ? r->max_body : 1);
	*con_cls = rq;
	ret = MHD_YES;
	if (!path_safe(url) || !r || declared_too_big(c, r) ||
	    (route_writes(r) && !http_host_allowed(MHD_lookup_connection_value(c,
				MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST), s->hosts, s->nhosts))) {
		rq->answered = true;
		if (!path_safe(url))
			ret = send_text(c, 400, "bad path\n", NULL);
		else if (r && !declared_too_big(c, r))
			ret = send_text(c, 421, "this Host is not served here: writes need a Host "
					"header from [http] allowedHosts (a name the daemon is "
					"meant to be reached by); nothing was done\n", NULL);
		else if (r)
			ret = send_text(c, 413, "request body too large\n", NULL);
		else if (allow.len)
			ret = send_text(c, 405, "method not allowed\n", allow.data);
		else
			ret = send_text(c, 404, "not found\n", NULL);
	}
	buf_release(&allow);
	return ret;
}

static void remote_name(char *out, size_t outsz, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  out, (socklen_t)outsz);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)outsz);
}

static void deferred_unlink(struct http_deferred *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		d->server->deferred = d->next;
	if (d->next)
		d->next->prev = d->prev;
}

static void deferred_free(struct http_deferred *d)
{
	deferred_unlink(d);
	d->rq->deferred = NULL;
	buf_release(&d->res.body);
	free(d);
}

/* Called again by MHD after MHD_resume_connection: send the reply. */
static enum MHD_Result deferred_send(struct MHD_Connection *c, struct http_rq *rq)
{
	struct http_deferred *d = rq->deferred;
	struct http_conn *hc = conn_of(c);
	enum MHD_Result ret;

	if (!d->has_reply)
		return MHD_YES;
	if (hc)
		hc->deferred = false;
	rq->answered = true;
	ret = send_response(c, &d->res);
	deferred_free(d);
	return ret;
}

static enum MHD_Result request_finish(struct MHD_Connection *c, const char *url,
				      const char *method, struct http_rq *rq)
{
	struct http_request req = { .method = method, .path = url, .conn = c, .rq = rq };
	struct http_response res;
	struct http_conn *hc;
	enum MHD_Result ret;
	int rc;

	if (rq->deferred)
		return deferred_send(c, rq);
	req.body = rq->body.data ? rq->body.data : "";
	req.body_len = rq->body.len;
	remote_name(req.remote, sizeof(req.remote), c);
	response_init(&res);
	rc = rq->route->fn(&req, &res, rq->route->arg);
	/* Once deferred, the owner of d answers, whatever the handler returned:
	 * freeing d here would leave the owner a dangling handle. */
	if (rq->deferred) {
		buf_release(&res.body);
		if (rq->deferred->has_reply)	/* replied before returning */
			return deferred_send(c, rq);
		if ((hc = conn_of(c)))
			hc->deferred = true;
		rq->deferred->suspended = true;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	if (rc < 0 || rc == HTTP_DEFER)
		http_text(&res, 500, "internal error\n");
	rq->answered = true;
	ret = send_response(c, &res);
	buf_release(&res.body);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version,
				 const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_rq *rq = *con_cls;

	if (!rq)
		return request_begin(s, c, url, method, con_cls);
	if (*upload_size) {
		if (rq->answered) {
			*upload_size = 0;
			return MHD_YES;
		}
		if (buf_add(&rq->body, upload, *upload_size) == 0) {
			*upload_size = 0;
			return MHD_YES;
		}
		/* Over the bound mid-body (chunked): answer 413 if MHD still lets
		 * us, else drop the connection rather than read on. */
		rq->answered = true;
		*upload_size = 0;
		return send_text(c, 413, "request body too large\n", NULL);
	}
	if (rq->answered)
		return MHD_YES;
	return request_finish(c, url, method, rq);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_rq *rq = *con_cls;
	struct http_conn *hc = conn_of(c);

	if (hc) {
		hc->in_request = false;
		hc->since_ms = uv_now(s->loop);
	}
	if (rq) {
		if (rq->deferred) {
			if (!rq->deferred->has_reply && rq->deferred->cancel_cb)
				rq->deferred->cancel_cb(rq->deferred->arg);
			deferred_free(rq->deferred);
		}
		buf_release(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void sweep_cb(uv_timer_t *t);

/* The sweep runs only while there is a connection to watch or the server
 * is stopping: an idle daemon has no timer waking it ten times a second. */
static void sweep_arm(struct http_server *s)
{
	if (!uv_is_active((uv_handle_t *)&s->sweep) && !uv_is_closing((uv_handle_t *)&s->sweep))
		uv_timer_start(&s->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
}

static void connection_cb(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	struct http_conn *hc = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		hc = calloc(1, sizeof(*hc));
		if (!hc || !ci) {
			free(hc);
			return;
		}
		hc->fd = ci->connect_fd;
		hc->since_ms = uv_now(s->loop);
		hc->next = s->conns;
		if (s->conns)
			s->conns->prev = hc;
		s->conns = hc;
		s->nconns++;
		*socket_context = hc;
		sweep_arm(s);
		return;
	}
	if (!hc)
		return;
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		s->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	s->nconns--;
	s->rerun = true;
	free(hc);
	*socket_context = NULL;
}

/* ---- the loop ---- */

static void kick(struct http_server *s);

static void timer_cb(uv_timer_t *t)
{
	kick(t->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	kick(p->data);
}

static void kick(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG to;

	if (!s->mhd || uv_is_closing((uv_handle_t *)&s->timer))
		return;
	s->rerun = false;
	MHD_run(s->mhd);
	/* Run again at once when a connection closed (at the connection limit
	 * MHD takes its listen socket out of the epoll set and puts it back
	 * only on a later run: with nothing else pending, queued clients would
	 * wait forever) or a deferred reply was resumed during this run. */
	if (s->rerun)
		uv_timer_start(&s->timer, timer_cb, 0, 0);
	else if (MHD_get_timeout(s->mhd, &to) == MHD_YES)
		uv_timer_start(&s->timer, timer_cb, to, 0);
	else
		uv_timer_stop(&s->timer);
}

/* MHD notices a shut-down socket on its next run and closes it; the fd
 * itself stays MHD's to close. */
static void conn_cut(struct http_conn *hc)
{
	if (hc->cut)
		return;
	hc->cut = true;
	shutdown(hc->fd, SHUT_RDWR);
}

static void close_cb(uv_handle_t *h)
{
	struct http_server *s = h->data;
	void (*done_cb)(void *) = s->done_cb;
	void *arg = s->done_arg;

	if (--s->open_handles > 0)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
	if (done_cb)
		done_cb(arg);
}

static void close_all(struct http_server *s)
{
	if (uv_is_closing((uv_handle_t *)&s->poll))
		return;
	uv_close((uv_handle_t *)&s->poll, close_cb);
	uv_close((uv_handle_t *)&s->timer, close_cb);
	uv_close((uv_handle_t *)&s->sweep, close_cb);
}

/* Server stopping with replies still outstanding: tell their owners, and
 * answer 503 (MHD must not be stopped with suspended connections). */
static void deferred_cancel_all(struct http_server *s)
{
	for (struct http_deferred *d = s->deferred; d; d = d->next) {
		if (d->has_reply)
			continue;
		if (d->cancel_cb)
			d->cancel_cb(d->arg);
		d->cancel_cb = NULL;
		http_text(&d->res, 503, "server shutting down\n");
		d->has_reply = true;
		if (d->suspended)
			MHD_resume_connection(d->conn);
	}
	uv_timer_start(&s->timer, timer_cb, 0, 0);
}

static void sweep_cb(uv_timer_t *t)
{
	struct http_server *s = t->data;
	uint64_t now = uv_now(s->loop);
	bool cut = false;

	if (s->stopping && now >= s->stop_deadline_ms && s->deferred)
		deferred_cancel_all(s);
	for (struct http_conn *hc = s->conns; hc; hc = hc->next) {
		bool late = !hc->deferred && now - hc->since_ms > s->request_timeout_ms;

		if (!hc->cut && (late || (s->stopping && !hc->in_request))) {
			if (late && !s->stopping)
				log_info("http", "dropping a connection that sent no whole "
					 "request within %llums",
					 (unsigned long long)s->request_timeout_ms);
			conn_cut(hc);
			cut = true;
		}
	}
	if (cut)
		kick(s);
	/* Cancelled deferred replies get one more grace period to go out. */
	if (s->stopping && (s->nconns == 0 || now >= s->stop_deadline_ms + s->grace_ms))
		close_all(s);
	else if (!s->stopping && s->nconns == 0)
		uv_timer_stop(&s->sweep);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_debug("http", "%s", line);
}
#pragma GCC diagnostic pop

/* The numeric host of a listen spec already parsed: "127.0.0.1:8780" ->
 * "127.0.0.1", "[::1]:8780" -> "::1". */
static void listen_host(char *out, size_t outsz, const char *spec)
{
	const char *end = spec[0] == '[' ? strchr(spec, ']') : strrchr(spec, ':');
	size_t off = spec[0] == '[', n = end ? (size_t)(end - spec) - off : strlen(spec);

	snprintf(out, outsz, "%.*s", (int)n, spec + off);
}

static struct MHD_Daemon *mhd_start(struct http_server *s, const struct http_config *cfg,
				    const struct sockaddr_storage *addr)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log_cb, s,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections ? cfg->max_connections : 64u,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip ? cfg->max_per_ip : 16u,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s ? cfg->idle_timeout_s : 30u,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
		MHD_OPTION_NOTIFY_CONNECTION, connection_cb, s,
		MHD_OPTION_END);
}

static int handles_init(struct http_server *s)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	if (!di || uv_poll_init(s->loop, &s->poll, di->epoll_fd))
		return ERR_FAIL;
	uv_timer_init(s->loop, &s->timer);
	uv_timer_init(s->loop, &s->sweep);
	s->poll.data = s->timer.data = s->sweep.data = s;
	s->open_handles = 3;
	uv_poll_start(&s->poll, UV_READABLE, poll_cb);
	/* The listener keeps the loop alive; the sweep alone must not. */
	uv_unref((uv_handle_t *)&s->sweep);
	return 0;
}

int http_start(struct http_server **out, uv_loop_t *loop, const struct http_config *cfg,
	       const struct http_route *routes, size_t nroutes,
	       char *errmsg, size_t errsz)
{
	struct sockaddr_storage addr;
	const union MHD_DaemonInfo *di;
	struct http_server *s;
	const char *listen = cfg->listen ? cfg->listen : HTTP_DEFAULT_LISTEN;
	int rc = http_listen_parse(&addr, listen, errmsg, errsz);

	if (rc)
		return rc;
	if (!(s = calloc(1, sizeof(*s))))
		return ERR_NOMEM;
	s->loop = loop;
	s->routes = routes;
	s->nroutes = nroutes;
	s->request_timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : 10000;
	errno = 0;
	s->mhd = mhd_start(s, cfg, &addr);
	if (!s->mhd) {
		errmsg_set(errmsg, errsz, "cannot listen on '%s': %s", listen,
			errno ? strerror(errno) : "libmicrohttpd refused the options");
		free(s);
		return ERR_IO;
	}
	di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	listen_host(s->listen_host, sizeof(s->listen_host), listen);
	if (http_set_allowed_hosts(s, cfg->allowed_hosts, cfg->nallowed_hosts)) {
		errmsg_set(errmsg, errsz, "more than %d allowed hosts, or one too long",
			   HTTP_MAX_HOSTS);
		MHD_stop_daemon(s->mhd);
		free(s);
		return ERR_INVALID;
	}
	if (handles_init(s)) {
		errmsg_set(errmsg, errsz, "cannot watch the HTTP server's epoll fd");
		MHD_stop_daemon(s->mhd);
		free(s);
		return ERR_FAIL;
	}
	kick(s);
	*out = s;
	return 0;
}

unsigned http_port(const struct http_server *s)
{
	return s->port;
}

unsigned http_connections(const struct http_server *s)
{
	return s->nconns;
}

void http_stop(struct http_server *s, uint64_t grace_ms,
	       void (*done_cb)(void *arg), void *arg)
{
	MHD_socket ls;

	if (!s || s->stopping)
		return;
	s->stopping = true;
	s->done_cb = done_cb;
	s->done_arg = arg;
	s->grace_ms = grace_ms;
	s->stop_deadline_ms = uv_now(s->loop) + grace_ms;
	ls = MHD_quiesce_daemon(s->mhd);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	/* Keep the loop alive until the last response has gone out. */
	uv_ref((uv_handle_t *)&s->sweep);
	sweep_arm(s);
	sweep_cb(&s->sweep);
}

struct http_deferred *http_defer(struct http_request *req, void (*cancel_cb)(void *arg),
				 void *arg)
{
	struct http_rq *rq = req->rq;
	struct http_server *s = rq->server;
	struct http_deferred *d;

	if (rq->deferred || s->stopping || !(d = calloc(1, sizeof(*d))))
		return NULL;
	d->server = s;
	d->conn = req->conn;
	d->rq = rq;
	d->cancel_cb = cancel_cb;
	d->arg = arg;
	response_init(&d->res);
	d->next = s->deferred;
	if (s->deferred)
		s->deferred->prev = d;
	s->deferred = d;
	rq->deferred = d;
	return d;
}

struct http_response *http_deferred_response(struct http_deferred *d)
{
	return &d->res;
}

void http_deferred_reply(struct http_deferred *d)
{
	if (d->has_reply)
		return;
	d->has_reply = true;
	if (!d->suspended)	/* still inside the handler: sent on return */
		return;
	MHD_resume_connection(d->conn);
	/* MHD must run again to notice; not from here, which may be inside
	 * MHD_run already (kick() then sees rerun). */
	d->server->rerun = true;
	uv_timer_start(&d->server->timer, timer_cb, 0, 0);
}
