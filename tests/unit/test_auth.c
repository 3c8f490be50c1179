/* Unit tests for auth.c: the users file (errors with file:line, weak hashes
 * refused), passwords, Basic credentials, CSRF tokens, the proxy header
 * rule and the login throttle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_load.h"
#include "util.h"

/* `htpasswd -nbBC 10 alice 'correct horse'` */
#define ALICE_BCRYPT "$2y$10$we/jbpn0CT1d3jErz19eFeUAltPL3vUuu7qLw20Vapi9EIO4mocU2"
/* `openssl passwd -6 -salt abcdefgh pw2` */
#define BOB_SHA512 "$6$abcdefgh$6NeD6fKSC9ex1q/JLxKpPBAD1lYovM68TKDUdU2uhvePfA3qS1pIlWKDHeahp22FB4A.MwHDn/jHW/1hy5RjR1"
/* libxcrypt yescrypt of "tr0ub4dor&3" */
#define CAROL_YESCRYPT "$y$j9T$5vj6BR6OBAFLTI4kydlS80$iOe2EnMuQ.raHXevjuZhN6ioVMFOotQiPqj3pFmydeD"
/* bcrypt at cost 4 of "x": fine cryptographically, too cheap for us */
#define CHEAP_BCRYPT "$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e"
/* `openssl passwd -1 -salt abc weak` */
#define MD5_CRYPT "$1$abc$YcPK6wogDPinpMq/Bqdoj."

static int parse(struct auth_users *u, const char *text, struct buf *errors)
{
	return auth_users_parse(u, "users", text, strlen(text), errors);
}

static void test_users_good(void **state)
{
	struct auth_users u;
	struct buf err = BUF_INIT;
	const char *text = "# operators\n\nalice:" ALICE_BCRYPT "\r\n"
			   "bob:" BOB_SHA512 ":bob@example.org\n"
			   "carol:" CAROL_YESCRYPT;

	assert_int_equal(parse(&u, text, &err), 0);
	assert_null(err.data);
	assert_int_equal(u.n, 3);
	assert_string_equal(auth_users_find(&u, "alice")->hash, ALICE_BCRYPT);
	assert_string_equal(auth_users_find(&u, "alice")->email, "");
	assert_string_equal(auth_users_find(&u, "bob")->email, "bob@example.org");
	assert_non_null(auth_users_find(&u, "carol"));
	assert_null(auth_users_find(&u, "Alice"));
	auth_users_release(&u);
}

static void test_users_errors(void **state)
{
	struct auth_users u = { (void *)0x1, 42 };	/* must stay untouched */
	struct buf err = BUF_INIT;
	const char *text = "alice:" ALICE_BCRYPT "\n"
			   "no-colon-here\n"
			   "mallory:" MD5_CRYPT "\n"
			   "des:ab01FAX.bQRSU\n"
			   "cheap:" CHEAP_BCRYPT "\n"
			   "alice:" BOB_SHA512 "\n"
			   "-dash:" BOB_SHA512 "\n"
			   "eve:$5$rounds=5000$salt$abc\n"
			   "bob:" BOB_SHA512 ":not an email\n"
			   "apr:$apr1$abc$def\n"
			   "junk:$6$\n";

	assert_int_equal(parse(&u, text, &err), ERR_INVALID);
	assert_string_equal(err.data,
		"users:2: expected name:crypt-hash[:email]\n"
		"users:3: MD5-crypt\n"
		"users:4: a traditional DES hash (8-character passwords, no real salt)\n"
		"users:5: bcrypt cost below 10 is too cheap: re-hash with htpasswd -nBC 10 NAME\n"
		"users:6: duplicate user name\n"
		"users:7: bad user name (1-64 of A-Z a-z 0-9 . _ @ + -)\n"
		"users:8: unsupported hash method (use yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)\n"
		"users:9: bad e-mail address\n"
		"users:10: Apache MD5\n"
		"users:11: malformed hash\n");
	assert_ptr_equal(u.v, (void *)0x1);
	assert_int_equal(u.n, 42);
	buf_release(&err);
}

static void test_users_file(void **state)
{
	char path[] = "/tmp/test_auth_XXXXXX";
	int fd = mkstemp(path);
	struct auth_users u;
	struct buf err = BUF_INIT;
	const char *text = "alice:" ALICE_BCRYPT "\nx\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(auth_users_load(&u, path, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, ":2: expected name:crypt-hash"));
	assert_int_equal(strncmp(err.data, path, strlen(path)), 0);
	buf_reset(&err);
	unlink(path);
	assert_int_equal(auth_users_load(&u, path, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "cannot read"));
	buf_release(&err);
}

static void test_passwords(void **state)
{
	bool counts;
	struct auth_users u;
	const char *text = "alice:" ALICE_BCRYPT "\nbob:" BOB_SHA512 "\ncarol:" CAROL_YESCRYPT "\n";

	assert_true(auth_password_ok(ALICE_BCRYPT, "correct horse"));
	assert_false(auth_password_ok(ALICE_BCRYPT, "correct horsE"));
	assert_false(auth_password_ok(ALICE_BCRYPT, ""));
	assert_true(auth_password_ok(BOB_SHA512, "pw2"));
	assert_false(auth_password_ok(BOB_SHA512, "pw3"));
	assert_true(auth_password_ok(CAROL_YESCRYPT, "tr0ub4dor&3"));
	assert_false(auth_password_ok(CAROL_YESCRYPT, "tr0ub4dor&4"));
	assert_false(auth_password_ok("*", "anything"));

	assert_int_equal(parse(&u, text, NULL), 0);
	assert_string_equal(auth_hash_for(&u, "bob", &counts), BOB_SHA512);
	assert_true(counts);
	/* An unknown name is checked against a real hash, and never counts. */
	assert_non_null(auth_hash_for(&u, "nobody", &counts));
	assert_false(counts);
	auth_users_release(&u);
}

static void test_basic(void **state)
{
	char name[AUTH_NAME_MAX + 1], pw[AUTH_PASSWORD_MAX + 1];

	/* base64("alice:correct horse"), base64("bob:a:b") */
	assert_int_equal(auth_basic_parse(name, pw, "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ=="), 0);
	assert_string_equal(name, "alice");
	assert_string_equal(pw, "correct horse");
	assert_int_equal(auth_basic_parse(name, pw, "basic Ym9iOmE6Yg=="), 0);
	assert_string_equal(name, "bob");
	assert_string_equal(pw, "a:b");
	assert_int_equal(auth_basic_parse(name, pw, "Bearer abc"), ERR_INVALID);
	assert_int_equal(auth_basic_parse(name, pw, "Basic !!!!"), ERR_INVALID);
	assert_int_equal(auth_basic_parse(name, pw, "Basic YWxpY2U="), ERR_INVALID);	/* no ':' */
	assert_int_equal(auth_basic_parse(name, pw, "Basic OnB3"), ERR_INVALID);	/* ":pw" */
	assert_int_equal(auth_basic_parse(name, pw, "Basic YTo="), ERR_INVALID);	/* "a:" */
	assert_int_equal(auth_basic_parse(name, pw, "Basic "), ERR_INVALID);
}

static void test_csrf(void **state)
{
	struct auth a;
	struct auth other;
	char tok[AUTH_CSRF_MAX], bad[AUTH_CSRF_MAX];
	const int64_t now = 1773068400;	/* 2026-03-09 15:00 UTC */

	assert_int_equal(auth_init(&a, NULL, NULL, NULL), 0);
	assert_int_equal(auth_init(&other, NULL, NULL, NULL), 0);
	assert_int_equal(auth_csrf_issue(tok, &a, "alice", now), 0);
	assert_int_equal(auth_csrf_check(&a, tok, "alice", now), 0);
	assert_int_equal(auth_csrf_check(&a, tok, "alice", now + AUTH_CSRF_TTL_S - 1), 0);
	assert_int_equal(auth_csrf_check(&a, tok, "alice", now + AUTH_CSRF_TTL_S), ERR_TIMEOUT);
	assert_int_equal(auth_csrf_check(&a, tok, "bob", now), ERR_INVALID);
	/* Another process (another key) does not accept it. */
	assert_int_equal(auth_csrf_check(&other, tok, "alice", now), ERR_INVALID);
	/* Tampered: a later expiry with the old MAC, a flipped MAC digit. */
	strlcpy_(bad, tok, sizeof(bad));
	bad[0] = bad[0] == '9' ? '8' : (char)(bad[0] + 1);
	assert_int_equal(auth_csrf_check(&a, bad, "alice", now), ERR_INVALID);
	strlcpy_(bad, tok, sizeof(bad));
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_csrf_check(&a, bad, "alice", now), ERR_INVALID);
	assert_int_equal(auth_csrf_check(&a, "", "alice", now), ERR_INVALID);
	assert_int_equal(auth_csrf_check(&a, NULL, "alice", now), ERR_INVALID);
	assert_int_equal(auth_csrf_check(&a, "123.abc", "alice", now), ERR_INVALID);
	auth_release(&a);
	auth_release(&other);
}

static void test_proxy(void **state)
{
	struct auth a;
	struct auth_operator op;
	char why[128];

	assert_true(auth_is_loopback("127.0.0.1"));
	assert_true(auth_is_loopback("127.1.2.3"));
	assert_true(auth_is_loopback("::1"));
	assert_true(auth_is_loopback("::ffff:127.0.0.1"));
	assert_false(auth_is_loopback("10.0.0.127"));
	assert_false(auth_is_loopback("::ffff:10.0.0.1"));
	assert_false(auth_is_loopback("1127.0.0.1"));
	assert_false(auth_is_loopback(""));

	assert_int_equal(auth_init(&a, NULL, "X-Remote-User", NULL), 0);
	assert_true(auth_writes_enabled(&a, why, sizeof(why)));
	assert_int_equal(auth_proxy_operator(&op, &a, "127.0.0.1", "carol", why, sizeof(why)), 1);
	assert_string_equal(op.name, "carol");
	assert_int_equal(strncmp(op.email, "carol@", 6), 0);
	/* From anywhere but loopback the header is just a header. */
	memset(&op, 0, sizeof(op));
	assert_int_equal(auth_proxy_operator(&op, &a, "192.168.42.10", "carol", why, sizeof(why)), 0);
	assert_string_equal(op.name, "");
	assert_int_equal(auth_proxy_operator(&op, &a, "::1", NULL, why, sizeof(why)), 0);
	assert_int_equal(auth_proxy_operator(&op, &a, "::1", "a b", why, sizeof(why)), ERR_INVALID);
	assert_string_equal(why, "X-Remote-User does not hold a valid operator name");
	auth_release(&a);

	/* Nothing configured: writes off, and the header means nothing. */
	assert_int_equal(auth_init(&a, NULL, NULL, NULL), 0);
	assert_false(auth_writes_enabled(&a, why, sizeof(why)));
	assert_non_null(strstr(why, "write actions are disabled"));
	assert_int_equal(auth_proxy_operator(&op, &a, "127.0.0.1", "carol", why, sizeof(why)), 0);
	auth_release(&a);
}

static void test_throttle(void **state)
{
	struct auth *a = calloc(1, sizeof(*a));
	uint64_t t = 1000000;

	assert_non_null(a);
	assert_int_equal(auth_init(a, NULL, NULL, NULL), 0);
	/* Per operator name: five failures for alice lock alice, from any
	 * address, and nobody else. */
	for (int i = 0; i < AUTH_FAIL_LIMIT - 1; i++)
		auth_fail_record(a, "127.0.0.1", "alice", t + (uint64_t)i);
	assert_int_equal(auth_throttled(a, "127.0.0.1", "alice", t + 10), 0);
	auth_fail_record(a, "127.0.0.1", "alice", t + 10);
	assert_int_equal(auth_throttled(a, "127.0.0.1", "alice", t + 10), AUTH_LOCKOUT_MS);
	assert_int_equal(auth_throttled(a, "192.0.2.9", "alice", t + 10), AUTH_LOCKOUT_MS);
	assert_int_equal(auth_throttled(a, "127.0.0.1", "bob", t + 10), 0);
	assert_int_equal(auth_throttled(a, "127.0.0.1", NULL, t + 10), 0);
	assert_int_equal(auth_throttled(a, "127.0.0.1", "alice", t + 10 + AUTH_LOCKOUT_MS), 0);

	/* Per address, at the higher limit: one address trying many names. */
	for (int i = 0; i < AUTH_FAIL_LIMIT_ADDR - 1; i++) {
		char name[16];

		snprintf(name, sizeof(name), "user%d", i);
		auth_fail_record(a, "192.0.2.1", name, t);
	}
	assert_int_equal(auth_throttled(a, "192.0.2.1", "carol", t), 0);
	auth_fail_record(a, "192.0.2.1", NULL, t);	/* unreadable credentials count too */
	assert_int_equal(auth_throttled(a, "192.0.2.1", "carol", t), AUTH_LOCKOUT_MS);
	assert_int_equal(auth_throttled(a, "192.0.2.1", NULL, t), AUTH_LOCKOUT_MS);
	assert_int_equal(auth_throttled(a, "192.0.2.2", "carol", t), 0);	/* per address */

	/* Failures spread wider than the window do not add up. */
	for (int i = 0; i < AUTH_FAIL_LIMIT; i++)
		auth_fail_record(a, "192.0.2.3", "dave", t + (uint64_t)i * (AUTH_FAIL_WINDOW_MS + 1));
	assert_int_equal(auth_throttled(a, "192.0.2.3", "dave",
					t + 4 * (AUTH_FAIL_WINDOW_MS + 1)), 0);
	/* A success clears the name's count and the address's. */
	for (int i = 0; i < AUTH_FAIL_LIMIT - 1; i++)
		auth_fail_record(a, "192.0.2.4", "erin", t);
	auth_fail_clear(a, "192.0.2.4", "erin");
	auth_fail_record(a, "192.0.2.4", "erin", t);
	assert_int_equal(auth_throttled(a, "192.0.2.4", "erin", t), 0);
	/* Many addresses and names do not overflow the table. */
	for (int i = 0; i < 3 * AUTH_FAIL_SLOTS; i++) {
		char ip[32], name[32];

		snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 256, i % 256);
		snprintf(name, sizeof(name), "n%d", i);
		auth_fail_record(a, ip, name, t);
	}
	/* A name of the longest kind fits the key. */
	{
		char longest[AUTH_NAME_MAX + 1];

		memset(longest, 'z', AUTH_NAME_MAX);
		longest[AUTH_NAME_MAX] = '\0';
		for (int i = 0; i < AUTH_FAIL_LIMIT; i++)
			auth_fail_record(a, "192.0.2.5", longest, t);
		longest[AUTH_NAME_MAX - 1] = 'y';
		assert_int_equal(auth_throttled(a, "192.0.2.6", longest, t), 0);
		longest[AUTH_NAME_MAX - 1] = 'z';
		assert_int_equal(auth_throttled(a, "192.0.2.6", longest, t), AUTH_LOCKOUT_MS);
	}
	auth_release(a);
	free(a);
}

/* A forwarded client address counts only from the trusted proxy. */
static void test_client_address(void **state)
{
	struct auth *a = calloc(1, sizeof(*a));
	char out[64];

	assert_non_null(a);
	/* no trusted proxy configured: the peer, whatever it sends */
	assert_int_equal(auth_init(a, NULL, NULL, NULL), 0);
	auth_client_address(out, a, "127.0.0.1", NULL, "203.0.113.7");
	assert_string_equal(out, "127.0.0.1");
	auth_release(a);

	assert_int_equal(auth_init(a, NULL, "X-Remote-User", NULL), 0);
	/* from a non-loopback peer: ignored */
	auth_client_address(out, a, "192.0.2.1", "for=203.0.113.7", "203.0.113.7");
	assert_string_equal(out, "192.0.2.1");
	/* from the proxy: the last entry, the one the proxy appended */
	auth_client_address(out, a, "127.0.0.1", NULL, "203.0.113.7");
	assert_string_equal(out, "203.0.113.7");
	auth_client_address(out, a, "127.0.0.1", NULL, "198.51.100.1, 203.0.113.7");
	assert_string_equal(out, "203.0.113.7");
	auth_client_address(out, a, "::1", NULL, "  2001:DB8::1 ");
	assert_string_equal(out, "2001:db8::1");
	auth_client_address(out, a, "127.0.0.1", NULL, "203.0.113.7:4711");
	assert_string_equal(out, "203.0.113.7");
	/* Forwarded (RFC 7239) wins over X-Forwarded-For */
	auth_client_address(out, a, "127.0.0.1", "for=198.51.100.1;proto=https, "
			    "for=\"[2001:db8::7]:4711\";by=127.0.0.1", "203.0.113.7");
	assert_string_equal(out, "2001:db8::7");
	auth_client_address(out, a, "127.0.0.1", "proto=https; For=192.0.2.44", NULL);
	assert_string_equal(out, "192.0.2.44");
	/* not an address: the peer */
	auth_client_address(out, a, "127.0.0.1", NULL, "evil.example");
	assert_string_equal(out, "127.0.0.1");
	auth_client_address(out, a, "127.0.0.1", "for=unknown", "203.0.113.7");
	assert_string_equal(out, "127.0.0.1");
	auth_client_address(out, a, "127.0.0.1", "for=_hidden", NULL);
	assert_string_equal(out, "127.0.0.1");
	auth_client_address(out, a, "127.0.0.1", NULL, "1.2.3.4, ");
	assert_string_equal(out, "127.0.0.1");
	auth_client_address(out, a, "127.0.0.1", NULL, "");
	assert_string_equal(out, "127.0.0.1");
	auth_client_address(out, a, "127.0.0.1", "for=\"[::1\"", NULL);
	assert_string_equal(out, "127.0.0.1");
	auth_release(a);
	free(a);
}

static void test_names(void **state)
{
	char long_name[AUTH_NAME_MAX + 2];

	assert_true(auth_name_valid("alice"));
	assert_true(auth_name_valid("a.b-c_d@example.org"));
	assert_false(auth_name_valid(""));
	assert_false(auth_name_valid("-x"));
	assert_false(auth_name_valid("a b"));
	assert_false(auth_name_valid("a<b>"));
	assert_false(auth_name_valid("a\nb"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(auth_name_valid(long_name));
	long_name[AUTH_NAME_MAX] = '\0';
	assert_true(auth_name_valid(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users_good),
		cmocka_unit_test(test_users_errors),
		cmocka_unit_test(test_users_file),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_client_address),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
