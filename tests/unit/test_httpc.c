/* Unit tests for httpc_url_allowed: https anywhere, plain http only on
 * loopback, never credentials inside a URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "httpc.h"

static void test_url_allowed(void **state)
{
	assert_true(httpc_url_allowed("https://ghcr.io/v2/"));
	assert_true(httpc_url_allowed("https://ghcr.io:8443/token?scope=x"));
	assert_true(httpc_url_allowed("HTTPS://GHCR.IO/v2/"));
	assert_true(httpc_url_allowed("http://127.0.0.1:5000/v2/"));
	assert_true(httpc_url_allowed("http://127.3.4.5/v2/"));
	assert_true(httpc_url_allowed("http://[::1]:5000/v2/"));
	assert_true(httpc_url_allowed("http://localhost:5000/v2/"));

	assert_false(httpc_url_allowed("http://ghcr.io/v2/"));
	assert_false(httpc_url_allowed("http://127.0.0.1.example.com/v2/"));
	assert_false(httpc_url_allowed("http://10.0.0.1/v2/"));
	assert_false(httpc_url_allowed("ftp://127.0.0.1/x"));
	assert_false(httpc_url_allowed("file:///etc/passwd"));
	assert_false(httpc_url_allowed("https://user:secret@ghcr.io/v2/"));
	assert_false(httpc_url_allowed("https://user@ghcr.io/v2/"));
	assert_false(httpc_url_allowed("ghcr.io/v2/"));
	assert_false(httpc_url_allowed(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
