/* http.h - the daemon's HTTP server, on the caller's libuv loop.
 *
 * libmicrohttpd runs without a thread of its own (MHD_USE_EPOLL): its epoll
 * fd is watched with a uv_poll_t and its timeout with a uv_timer_t, so every
 * handler runs on the loop thread and may touch daemon state directly.
 * Routes are a table of (method, path, handler, max body).  The server
 * answers 404, 405 (with Allow), 413, 400 for paths with "." or ".."
 * segments, 431 for oversized headers and HEAD for GET routes itself,
 * bounds connections (in total and per client address), cuts a connection
 * that has not delivered a whole request within request_timeout_ms (slow
 * senders; an idle keep-alive connection counts too), and stops
 * gracefully.
 *
 * Writes are bound to the names the daemon is meant to be reached by: a
 * POST route, or a route marked HTTP_ROUTE_WRITE (the CSRF token), answers
 * 421 unless the Host header is one of the allowed hosts.  A page whose DNS
 * name was rebound to the daemon's address (DNS rebinding) sends its own
 * name as Host, and a matching Origin, so Origin checks alone cannot catch
 * it; the Host list can.
 */
#ifndef PIPELINED_HTTP_H
#define PIPELINED_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "util.h"

#define HTTP_DEFAULT_LISTEN "127.0.0.1:8780"
#define HTTP_MAX_HEADERS 8		/* extra response headers per response */
#define HTTP_MAX_RESPONSE (8u * 1024 * 1024)
#define HTTP_MAX_HOSTS 32		/* allowed Host values */
#define HTTP_HOST_MAX 262		/* "[" 253 bytes "]:65535", with the NUL */

struct http_server;
struct http_conn;

struct http_request {
	const char *method;	/* as sent: a GET route also sees "HEAD" */
	const char *path;	/* percent-decoded, no dot segments, no query */
	const char *body;	/* NUL-terminated copy of the body ("" if none) */
	size_t body_len;
	char remote[64];	/* client address, "127.0.0.1" or "::1" */
	struct MHD_Connection *conn;	/* private to http.c */
	struct http_rq *rq;		/* private to http.c */
};

struct http_response {
	unsigned status;	/* 200 unless the handler says otherwise */
	char content_type[96];	/* "text/plain; charset=utf-8" by default */
	struct buf body;	/* bounded by HTTP_MAX_RESPONSE */
	size_t nheaders;
	struct {
		char name[64];
		char value[256];
	} headers[HTTP_MAX_HEADERS];
};

/* Fill res and return 0 to send it.  A negative return sends a plain 500
 * (the handler logs why: the server does not know).  HTTP_DEFER: the
 * answer comes later, see http_defer(). */
#define HTTP_DEFER 1
typedef int (*http_handler_fn)(struct http_request *req, struct http_response *res,
			       void *arg);

struct http_route {
	const char *method;	/* "GET", "POST", ... (exact, upper case) */
	const char *path;	/* exact; or a prefix when it ends in '*' */
	http_handler_fn fn;
	void *arg;
	size_t max_body;	/* larger bodies get 413; 0: no body allowed */
	unsigned flags;		/* HTTP_ROUTE_* */
};

/* A GET route that acts for the operator all the same (issues a CSRF
 * token): checked against the allowed hosts like a POST route. */
#define HTTP_ROUTE_WRITE 1u

struct http_config {
	const char *listen;		/* "127.0.0.1:8780", "[::1]:8780"; port 0 = any */
	unsigned max_connections;	/* 0: 64 */
	unsigned max_per_ip;		/* 0: 16 */
	unsigned idle_timeout_s;	/* 0: 30; idle keep-alive and stalled sockets */
	uint64_t request_timeout_ms;	/* 0: 10000; whole request, headers and body */
	const char *const *allowed_hosts;	/* Host values for writes ([http] allowedHosts) */
	size_t nallowed_hosts;		/* 0: http_default_hosts() of the bound address */
};

/* Parse "host:port" with an IPv4 literal or "[IPv6]:port" (no names: the
 * listen address is not a DNS lookup).  ERR_INVALID with the reason. */
int http_listen_parse(struct sockaddr_storage *out, const char *spec,
		      char *errmsg, size_t errsz);

/* Bind and start serving on loop.  routes must outlive the server.  On
 * failure (bad address, port in use) *out is untouched and errmsg says
 * why. */
int http_start(struct http_server **out, uv_loop_t *loop, const struct http_config *cfg,
	       const struct http_route *routes, size_t nroutes,
	       char *errmsg, size_t errsz);

/* Replace the allowed hosts (SIGHUP); n == 0: the defaults again.  ERR_TOOBIG
 * (nothing changed) past HTTP_MAX_HOSTS or HTTP_HOST_MAX. */
int http_set_allowed_hosts(struct http_server *s, const char *const *hosts, size_t n);

/* Pure: the Host values accepted when none are configured, for a server
 * bound to host (numeric, as in the listen address, without brackets) and
 * port: that address with and without the port, and the loopback names
 * that reach it ("localhost", "127.0.0.1", "[::1]", each with and without
 * the port) when it is loopback or a wildcard.  Returns how many were
 * written (at most max). */
size_t http_default_hosts(char out[][HTTP_HOST_MAX], size_t max, const char *host, unsigned port);
/* Pure: whether a Host header value is one of hosts (ASCII case-insensitive,
 * exact otherwise).  NULL or empty host: false. */
bool http_host_allowed(const char *host, const char (*hosts)[HTTP_HOST_MAX], size_t n);

/* The bound port (useful with port 0). */
unsigned http_port(const struct http_server *s);
/* Connections open right now. */
unsigned http_connections(const struct http_server *s);

/* Stop accepting at once, let requests already received finish for up to
 * grace_ms, drop idle keep-alive and half-received requests, then close
 * every handle; done_cb (may be NULL) runs after the last close callback,
 * when the server has been freed. */
void http_stop(struct http_server *s, uint64_t grace_ms,
	       void (*done_cb)(void *arg), void *arg);

/* Request accessors (NULL when absent).  Header names are case-insensitive. */
const char *http_query(const struct http_request *req, const char *key);
const char *http_header(const struct http_request *req, const char *name);

/* Response helpers.  ERR_TOOBIG when the header table is full or a name or
 * value does not fit; ERR_INVALID for CR/LF in either. */
int http_response_header(struct http_response *res, const char *name, const char *value);
/* Set status, a text/plain body and return 0: `return http_text(res, 400, "...\n")`. */
int http_text(struct http_response *res, unsigned status, const char *text);

/* Answering later (work on another thread, a git push): in the handler,
 *
 *	d = http_defer(req, cancel_cb, arg);   then   return HTTP_DEFER;
 *
 * (NULL when stopping or out of memory: answer now instead; once it
 * succeeds, d decides the answer whatever the handler returns).  The
 * connection is parked; the request deadline does not apply to it.
 * Later, on the loop thread, fill http_deferred_response(d) and call
 * http_deferred_reply(d); d is freed by the server once the reply is out.
 * If the server stops first, cancel_cb(arg) runs once (after the grace
 * period of http_stop), the client gets 503, and d must not be used
 * again.  A deferred request that is never answered is held until stop. */
struct http_deferred;
struct http_deferred *http_defer(struct http_request *req, void (*cancel_cb)(void *arg),
				 void *arg);
struct http_response *http_deferred_response(struct http_deferred *d);
void http_deferred_reply(struct http_deferred *d);

#endif
