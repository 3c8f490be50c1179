/* httpc.h - HTTP client: libcurl's multi interface driven by a libuv loop.
 *
 * One httpc per remote service keeps one connection pool; with HTTP/2 every
 * parallel request is a stream on one connection (CURLOPT_PIPEWAIT).  Every
 * response body is bounded in the write callback (MAXFILESIZE alone does not
 * stop a chunked body), and plain http is allowed only to loopback hosts.
 * Credentials given here are never logged, and never sent on a redirect to
 * another host.
 */
#ifndef PIPELINED_HTTPC_H
#define PIPELINED_HTTPC_H

#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct httpc_opts {
	const char *ca_file;		/* NULL: the system bundle */
	long connect_timeout_ms;	/* 0: 10 s */
	long total_timeout_ms;		/* 0: 30 s */
	long low_speed_limit;		/* bytes/s; 0: 100 */
	long low_speed_time_s;		/* 0: 15 s */
	const char *user_agent;		/* NULL: "pipelined/<version>" */
};

/* A streamed body, one line at a time: line has no '\n' and is not
 * NUL-terminated.  Non-zero stops the request (done then reports
 * HTTPC_ERR_CANCELLED). */
typedef int httpc_line_cb(const char *line, size_t len, void *arg);

struct httpc_req {
	const char *method;		/* "GET" (default) or "HEAD" */
	const char *url;
	const char *const *headers;	/* NULL-terminated "Name: value" lines */
	const char *userpwd;		/* HTTP Basic "user:secret", or NULL */
	size_t body_max;		/* hard cap on the response body; with
					 * on_line, on one line */
	/* Streaming (e.g. a watch API): a 200 response's body is handed to
	 * on_line line by line as it arrives instead of being collected (any
	 * other status is collected into resp.body as usual).  A stream has
	 * no low-speed limit (it may be silent for long), TCP keepalives
	 * find a dead peer, a status line must arrive within the connect
	 * timeout, and total_timeout_ms bounds its whole life. */
	httpc_line_cb *on_line;
	void *line_arg;
	long total_timeout_ms;		/* 0: the client's total timeout */
};

enum httpc_fail {
	HTTPC_OK = 0,
	HTTPC_ERR_TRANSPORT,		/* connect/TLS/protocol failure */
	HTTPC_ERR_TIMEOUT,		/* connect, total or low-speed timeout */
	HTTPC_ERR_TOOBIG,		/* body over body_max */
	HTTPC_ERR_CANCELLED,		/* httpc_free with the request in flight */
};

struct httpc_resp {
	enum httpc_fail fail;
	long status;			/* 0 when no response */
	char error[256];		/* why it failed; never holds credentials */
	struct buf body;
	/* Captured from the final response; NULL when absent.  Several
	 * WWW-Authenticate lines are joined with ", " (RFC 9110 5.3). */
	char *www_authenticate;
	char *content_digest;		/* Docker-Content-Digest */
	char *content_type;
	char *link;
	char *retry_after;
	long http_version;		/* CURL_HTTP_VERSION_* actually used */
	long new_connections;		/* connections this request opened */
};

struct httpc;
typedef void httpc_done_cb(const struct httpc_resp *resp, void *arg);

int httpc_new(struct httpc **out, uv_loop_t *loop, const struct httpc_opts *opts);
/* Cancels requests in flight (their callbacks run with HTTPC_ERR_CANCELLED
 * before this returns); the uv handles finish closing on the next loop turn. */
void httpc_free(struct httpc *h);

/* Start a request; done runs later on the loop, exactly once, and may start
 * new requests.  ERR_INVALID when the URL is unusable or not allowed (http to
 * a non-loopback host). */
int httpc_start(struct httpc *h, const struct httpc_req *req, httpc_done_cb *done, void *arg);

/* Loopback hosts may use plain http (tests, local mirrors). */
bool httpc_url_allowed(const char *url);

#endif
