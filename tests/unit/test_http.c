/* Unit tests for the pure parts of http.c: listen addresses and response
 * headers.  The server itself is exercised by tests/e2e/http_*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "http.h"

static void test_listen_ok(void **state)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *a4 = (const void *)&ss;
	const struct sockaddr_in6 *a6 = (const void *)&ss;
	char err[128];

	assert_int_equal(http_listen_parse(&ss, "127.0.0.1:8780", err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 8780);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(http_listen_parse(&ss, "[::1]:0", err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 0);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
	assert_int_equal(http_listen_parse(&ss, "0.0.0.0:65535", err, sizeof(err)), 0);
	assert_int_equal(http_listen_parse(&ss, HTTP_DEFAULT_LISTEN, err, sizeof(err)), 0);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), INADDR_LOOPBACK);
}

static void test_listen_bad(void **state)
{
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "localhost:80", "::1:80", "[::1]80", "[::1]:",
		"[127.0.0.1]:80", "256.0.0.1:80", ":80", "[::1:80",
	};
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http_listen_parse(&ss, bad[i], err, sizeof(err)), ERR_INVALID);
		assert_int_equal(ss.ss_family, AF_UNIX);
	}
	assert_int_equal(http_listen_parse(&ss, NULL, err, sizeof(err)), ERR_INVALID);
	http_listen_parse(&ss, "localhost:80", err, sizeof(err));
	assert_string_equal(err, "bad listen address 'localhost:80': want IPv4:port or [IPv6]:port");
}

static void assert_hosts(const char *host, unsigned port, const char *const *want, size_t n)
{
	char got[HTTP_MAX_HOSTS][HTTP_HOST_MAX];
	size_t k = http_default_hosts(got, HTTP_MAX_HOSTS, host, port);

	for (size_t i = 0; i < k && i < n; i++)
		if (strcmp(got[i], want[i]))
			fail_msg("%s:%u: host %zu is '%s', want '%s'", host, port, i, got[i],
				 want[i]);
	if (k != n)
		fail_msg("%s:%u: %zu hosts, want %zu", host, port, k, n);
}

/* What Host a write may carry when [http] allowedHosts is not set: the
 * names that reach the listen address, never a foreign one. */
static void test_default_hosts(void **state)
{
	static const char *const v4[] = { "127.0.0.1", "127.0.0.1:8780", "localhost",
					  "localhost:8780" };
	static const char *const v6[] = { "[::1]", "[::1]:8780", "localhost", "localhost:8780" };
	static const char *const any4[] = { "localhost", "localhost:80", "127.0.0.1",
					    "127.0.0.1:80" };
	static const char *const any6[] = { "localhost", "localhost:8780", "127.0.0.1",
					    "127.0.0.1:8780", "[::1]", "[::1]:8780" };
	static const char *const lan[] = { "192.0.2.10", "192.0.2.10:8780" };
	char few[3][HTTP_HOST_MAX];

	assert_hosts("127.0.0.1", 8780, v4, 4);
	assert_hosts("::1", 8780, v6, 4);
	assert_hosts("0.0.0.0", 80, any4, 4);
	assert_hosts("::", 8780, any6, 6);
	assert_hosts("192.0.2.10", 8780, lan, 2);
	/* bounded by max, in whole pairs: a name is allowed with and without
	 * its port, or not at all */
	assert_int_equal(http_default_hosts(few, 3, "::", 8780), 2);
	assert_string_equal(few[0], "localhost");
	assert_string_equal(few[1], "localhost:8780");
}

static void test_host_allowed(void **state)
{
	char hosts[HTTP_MAX_HOSTS][HTTP_HOST_MAX];
	size_t n = http_default_hosts(hosts, HTTP_MAX_HOSTS, "127.0.0.1", 8780);

	assert_true(http_host_allowed("127.0.0.1:8780", hosts, n));
	assert_true(http_host_allowed("LOCALHOST:8780", hosts, n));
	assert_true(http_host_allowed("localhost", hosts, n));
	/* DNS rebinding: the attacker's name, with the daemon's port */
	assert_false(http_host_allowed("evil.example:8780", hosts, n));
	assert_false(http_host_allowed("evil.example", hosts, n));
	assert_false(http_host_allowed("localhost.evil.example:8780", hosts, n));
	assert_false(http_host_allowed("127.0.0.1:8781", hosts, n));
	assert_false(http_host_allowed("127.0.0.1:8780 ", hosts, n));
	assert_false(http_host_allowed("[::1]:8780", hosts, n));
	assert_false(http_host_allowed("", hosts, n));
	assert_false(http_host_allowed(NULL, hosts, n));
	assert_false(http_host_allowed("localhost", hosts, 0));
}

static void test_response_helpers(void **state)
{
	struct http_response res = { .status = 200 };
	char big[300];

	buf_init(&res.body, 0);
	assert_int_equal(http_response_header(&res, "Location", "/api/v1/status"), 0);
	assert_int_equal(http_response_header(&res, "X-Bad", "a\r\nSet-Cookie: x"), ERR_INVALID);
	assert_int_equal(http_response_header(&res, "X-Bad\n", "v"), ERR_INVALID);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_response_header(&res, "X-Big", big), ERR_TOOBIG);
	for (int i = 1; i < HTTP_MAX_HEADERS; i++)
		assert_int_equal(http_response_header(&res, "X-N", "1"), 0);
	assert_int_equal(http_response_header(&res, "X-N", "1"), ERR_TOOBIG);
	assert_int_equal(res.nheaders, HTTP_MAX_HEADERS);
	assert_string_equal(res.headers[0].value, "/api/v1/status");
	assert_int_equal(http_text(&res, 404, "gone\n"), 0);
	assert_int_equal(res.status, 404);
	assert_string_equal(res.body.data, "gone\n");
	assert_string_equal(res.content_type, "text/plain; charset=utf-8");
	buf_release(&res.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_ok),
		cmocka_unit_test(test_listen_bad),
		cmocka_unit_test(test_response_helpers),
		cmocka_unit_test(test_default_hosts),
		cmocka_unit_test(test_host_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
