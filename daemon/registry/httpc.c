/* httpc.c - see httpc.h.  The socket/timer glue follows curl's multi-uv
 * example: curl says which fd to watch and when to wake it, libuv watches. */
#include "httpc.h"
#include "sysio.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_VALUE_MAX 8192

struct hsock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct httpc *h;
	struct hsock *prev, *next;
};

struct hreq {
	struct httpc *h;
	struct hreq *prev, *next;
	CURL *easy;
	struct curl_slist *hdrs;
	struct httpc_resp resp;
	bool toobig;
	bool stopped;		/* on_line said stop */
	bool answered;		/* a status line arrived */
	bool no_answer;		/* a stream got no answer within the deadline */
	uint64_t started_ms;
	uint64_t answer_ms;	/* streams: the deadline for the status line */
	httpc_line_cb *on_line;
	void *line_arg;
	struct buf line;	/* a streamed line so far */
	httpc_done_cb *done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

struct httpc {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t *timer;
	struct httpc_opts opts;
	char *ca_file;
	char user_agent[64];
	struct hreq *reqs;
	struct hsock *socks;
	bool closing;
};

static void close_free_cb(uv_handle_t *handle)
{
	free(handle->data);
}

static void timer_close_cb(uv_handle_t *handle)
{
	free(handle);
}

static void list_unlink_sock(struct httpc *h, struct hsock *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static void sock_close(struct httpc *h, struct hsock *s)
{
	list_unlink_sock(h, s);
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, close_free_cb);
}

static void req_unlink(struct hreq *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		r->h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

static void resp_release(struct httpc_resp *resp)
{
	buf_release(&resp->body);
	free(resp->www_authenticate);
	free(resp->content_digest);
	free(resp->content_type);
	free(resp->link);
	free(resp->retry_after);
}

static void req_free(struct hreq *r)
{
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	resp_release(&r->resp);
	buf_release(&r->line);
	free(r);
}

static void resp_fill(struct hreq *r, CURLcode rc)
{
	struct httpc_resp *resp = &r->resp;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &resp->http_version);
	curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &resp->new_connections);
	if (rc == CURLE_OK)
		return;
	if (r->no_answer) {
		resp->fail = HTTPC_ERR_TIMEOUT;
		snprintf(resp->error, sizeof(resp->error), "Timeout: no answer within %llu ms",
			 (unsigned long long)r->answer_ms);
		return;
	}
	if (r->stopped) {
		resp->fail = HTTPC_ERR_CANCELLED;
		snprintf(resp->error, sizeof(resp->error), "stopped by the reader");
		return;
	}
	if (r->toobig && r->on_line) {
		resp->fail = HTTPC_ERR_TOOBIG;
		snprintf(resp->error, sizeof(resp->error), "streamed line longer than %zu bytes",
			 r->line.max);
		return;
	}
	if (r->toobig || rc == CURLE_FILESIZE_EXCEEDED) {
		resp->fail = HTTPC_ERR_TOOBIG;
		snprintf(resp->error, sizeof(resp->error), "response body larger than %zu bytes",
			 resp->body.max);
		return;
	}
	resp->fail = rc == CURLE_OPERATION_TIMEDOUT ? HTTPC_ERR_TIMEOUT : HTTPC_ERR_TRANSPORT;
	snprintf(resp->error, sizeof(resp->error), "%.80s%s%.160s", curl_easy_strerror(rc),
		 r->errbuf[0] ? ": " : "", r->errbuf);
	resp->error[strcspn(resp->error, "\r\n")] = '\0';
}

static void finish(struct hreq *r)
{
	req_unlink(r);
	r->done(&r->resp, r->arg);
	req_free(r);
}

static void check_multi_info(struct httpc *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct hreq *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		resp_fill(r, m->data.result);
		curl_multi_remove_handle(h->multi, m->easy_handle);
		finish(r);	/* may start new requests: fine after socket_action */
	}
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct hsock *s = p->data;
	struct httpc *h = s->h;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, s->fd, flags, &running);
	check_multi_info(h);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct httpc *h = userp;
	struct hsock *s = socketp;
	int ev = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(h->multi, fd, NULL);
			sock_close(h, s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		if (uv_poll_init_socket(h->loop, &s->poll, fd)) {
			free(s);
			return -1;
		}
		s->fd = fd;
		s->h = h;
		s->poll.data = s;
		s->next = h->socks;
		if (h->socks)
			h->socks->prev = s;
		h->socks = s;
		curl_multi_assign(h->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	return uv_poll_start(&s->poll, ev, poll_cb) ? -1 : 0;
}

static void timeout_cb(uv_timer_t *t)
{
	struct httpc *h = t->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(h);
}

/* curl forbids calling multi functions from here: just arm the uv timer. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct httpc *h = userp;

	if (timeout_ms < 0)
		uv_timer_stop(h->timer);
	else
		uv_timer_start(h->timer, timeout_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

/* Streams have no total deadline worth the name (they live for minutes),
 * so a server that accepts the connection and never answers is caught here:
 * no status line within answer_ms aborts the transfer. */
static int xferinfo_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct hreq *r = ud;

	if (!r->answered && mono_ms() - r->started_ms > r->answer_ms) {
		r->no_answer = true;
		return 1;
	}
	return 0;
}

/* Streaming: complete lines go to on_line, the rest waits in r->line. */
static size_t write_lines(struct hreq *r, const char *ptr, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(ptr + i, '\n', n - i);
		size_t part = nl ? (size_t)(nl - (ptr + i)) : n - i;

		if (buf_add(&r->line, ptr + i, part)) {
			r->toobig = true;
			return CURL_WRITEFUNC_ERROR;
		}
		i += part;
		if (!nl)
			break;
		i++;
		if (r->on_line(r->line.data ? r->line.data : "", r->line.len, r->line_arg)) {
			r->stopped = true;
			return CURL_WRITEFUNC_ERROR;
		}
		buf_reset(&r->line);
	}
	return n;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct hreq *r = ud;
	size_t n = size * nmemb;
	long status = 0;

	if (r->on_line) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200)
			return write_lines(r, ptr, n);
	}
	/* counts decoded bytes, so a compressed bomb is stopped as well */
	if (buf_add(&r->resp.body, ptr, n)) {
		r->toobig = true;
		return CURL_WRITEFUNC_ERROR;
	}
	return n;
}

static const struct {
	const char *name;
	size_t off;
	bool join;	/* repeated lines are one comma-separated list */
} captured[] = {
	{ "www-authenticate", offsetof(struct httpc_resp, www_authenticate), true },
	{ "docker-content-digest", offsetof(struct httpc_resp, content_digest), false },
	{ "content-type", offsetof(struct httpc_resp, content_type), false },
	{ "link", offsetof(struct httpc_resp, link), true },
	{ "retry-after", offsetof(struct httpc_resp, retry_after), false },
};

static void header_store(char **slot, const char *v, size_t vl, bool join)
{
	struct buf b;

	if (!*slot || !join) {
		free(*slot);
		*slot = xstrndup(v, vl);
		return;
	}
	buf_init(&b, HEADER_VALUE_MAX);
	if (buf_printf(&b, "%s, %.*s", *slot, (int)vl, v) == 0) {
		free(*slot);
		*slot = buf_detach(&b, NULL);
	}
	buf_release(&b);
}

static void headers_reset(struct httpc_resp *resp)
{
	for (size_t i = 0; i < ARRAY_SIZE(captured); i++) {
		char **slot = (char **)((char *)resp + captured[i].off);

		free(*slot);
		*slot = NULL;
	}
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct hreq *r = ud;
	size_t n = size * nmemb, k, e;

	/* a new status line (redirect, 100, 401 then retry): start over */
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		r->answered = true;
		headers_reset(&r->resp);
		return n;
	}
	for (size_t i = 0; i < ARRAY_SIZE(captured); i++) {
		size_t nl = strlen(captured[i].name);

		if (n <= nl || line[nl] != ':' || strncasecmp(line, captured[i].name, nl) != 0)
			continue;
		k = nl + 1;
		while (k < n && (line[k] == ' ' || line[k] == '\t'))
			k++;
		e = n;
		while (e > k && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' '))
			e--;
		if (e - k <= HEADER_VALUE_MAX)
			header_store((char **)((char *)&r->resp + captured[i].off), line + k, e - k,
				     captured[i].join);
		break;
	}
	return n;
}

/* An IPv4 literal in 127/8, [::1] or localhost; "127.0.0.1.example.com"
 * is not loopback. */
static bool host_is_loopback(const char *host)
{
	struct in_addr a;

	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return strcmp(host, "[::1]") == 0 || strcasecmp(host, "localhost") == 0;
}

bool httpc_url_allowed(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL;
	bool ok = false;

	if (!u)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	/* credentials in a URL would end up in error messages */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "https") == 0)
		ok = true;
	else if (strcasecmp(scheme, "http") == 0)
		ok = host_is_loopback(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

int httpc_new(struct httpc **out, uv_loop_t *loop, const struct httpc_opts *opts)
{
	struct httpc *h = calloc(1, sizeof(*h));

	if (!h)
		return ERR_NOMEM;
	h->loop = loop;
	h->opts = *opts;
	h->timer = calloc(1, sizeof(*h->timer));
	h->multi = curl_multi_init();
	if (opts->ca_file)
		h->ca_file = xstrndup(opts->ca_file, strlen(opts->ca_file));
	if (!h->timer || !h->multi || (opts->ca_file && !h->ca_file)) {
		free(h->timer);
		if (h->multi)
			curl_multi_cleanup(h->multi);
		free(h->ca_file);
		free(h);
		return ERR_NOMEM;
	}
	uv_timer_init(loop, h->timer);
	h->timer->data = h;
	snprintf(h->user_agent, sizeof(h->user_agent), "%s",
		 opts->user_agent ? opts->user_agent : "pipelined/" PIPELINED_VERSION);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	/* HTTP/1.1 registries still get some parallelism, but stay polite */
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 8L);
	*out = h;
	return 0;
}

static long or_default(long v, long def)
{
	return v > 0 ? v : def;
}

static void easy_setup(struct httpc *h, struct hreq *r, const struct httpc_req *req)
{
	CURL *e = r->easy;
	bool http_ok = strncasecmp(req->url, "http:", 5) == 0;

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	/* plain http only where httpc_url_allowed said so (loopback); a
	 * redirect may only go to https */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, http_ok ? "http" : "https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	/* Basic credentials and our Authorization header stay with the
	 * original host when a redirect points elsewhere (blob storage) */
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, or_default(h->opts.connect_timeout_ms, 10000));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 or_default(req->total_timeout_ms, or_default(h->opts.total_timeout_ms, 30000)));
	if (req->on_line) {
		/* a watch is silent while nothing changes: keepalives, not a speed limit */
		curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
		r->started_ms = mono_ms();
		r->answer_ms = (uint64_t)or_default(h->opts.connect_timeout_ms, 10000);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	} else {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, or_default(h->opts.low_speed_limit, 100));
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, or_default(h->opts.low_speed_time_s, 15));
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->body_max);
	}
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Waiting for a connection to say whether it multiplexes makes sense
	 * for https only (HTTP/2 is negotiated in TLS); over plain http a
	 * second request to a host whose first one is a long-lived stream
	 * (Argo CD's watch) would wait for that stream to end. */
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, http_ok ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	if (h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	if (req->method && strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if (req->userpwd) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
	}
	if (r->hdrs)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
}

static int build_headers(struct hreq *r, const char *const *headers)
{
	for (size_t i = 0; headers && headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(r->hdrs, headers[i]);

		if (!n)
			return ERR_NOMEM;
		r->hdrs = n;
	}
	return 0;
}

int httpc_start(struct httpc *h, const struct httpc_req *req, httpc_done_cb *done, void *arg)
{
	struct hreq *r;

	if (h->closing)
		return ERR_FAIL;
	if (!req->url || !httpc_url_allowed(req->url))
		return ERR_INVALID;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ERR_NOMEM;
	r->h = h;
	r->done = done;
	r->arg = arg;
	buf_init(&r->resp.body, req->body_max ? req->body_max : 1);
	buf_init(&r->line, req->body_max ? req->body_max : 1);
	r->on_line = req->on_line;
	r->line_arg = req->line_arg;
	r->easy = curl_easy_init();
	if (!r->easy || build_headers(r, req->headers)) {
		req_free(r);
		return ERR_NOMEM;
	}
	easy_setup(h, r, req);
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
		req_free(r);
		return ERR_FAIL;
	}
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	return 0;
}

void httpc_free(struct httpc *h)
{
	if (!h)
		return;
	h->closing = true;
	while (h->reqs) {
		struct hreq *r = h->reqs;

		curl_multi_remove_handle(h->multi, r->easy);
		r->resp.fail = HTTPC_ERR_CANCELLED;
		snprintf(r->resp.error, sizeof(r->resp.error), "request cancelled");
		finish(r);
	}
	curl_multi_cleanup(h->multi);
	/* curl may not report every socket removal during cleanup */
	while (h->socks)
		sock_close(h, h->socks);
	uv_timer_stop(h->timer);
	uv_close((uv_handle_t *)h->timer, timer_close_cb);
	free(h->ca_file);
	free(h);
}
