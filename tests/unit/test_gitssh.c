/* Unit tests for gitssh.c: git URLs, known_hosts names, private key types,
 * fingerprints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "gitssh.h"
#include "util.h"

static void test_url_ssh(void **state)
{
	struct gitssh_url u;

	assert_int_equal(gitssh_url_parse(&u, "ssh://git@github.com/org/repo.git"), 0);
	assert_true(u.ssh);
	assert_string_equal(u.host, "github.com");
	assert_int_equal(u.port, 22);
	assert_int_equal(gitssh_url_parse(&u, "ssh://u@127.0.0.1:2222/srv/r.git"), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 2222);
	assert_int_equal(gitssh_url_parse(&u, "ssh://[::1]:2200/r.git"), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 2200);
	assert_int_equal(gitssh_url_parse(&u, "ssh://host/r.git"), 0);
	assert_string_equal(u.host, "host");
	assert_int_equal(gitssh_url_parse(&u, "git@github.com:celesrenata/gitops.git"), 0);
	assert_true(u.ssh);
	assert_string_equal(u.host, "github.com");
	assert_int_equal(u.port, 22);
}

static void test_url_local(void **state)
{
	struct gitssh_url u;

	assert_int_equal(gitssh_url_parse(&u, "file:///srv/r.git"), 0);
	assert_false(u.ssh);
	assert_int_equal(gitssh_url_parse(&u, "/srv/r.git"), 0);
	assert_false(u.ssh);
	assert_int_equal(gitssh_url_parse(&u, "./r.git"), 0);
	assert_false(u.ssh);
}

static void test_url_bad(void **state)
{
	static const char *bad[] = {
		"", "https://github.com/x.git", "git://h/x", "ssh://h:99999/x", "ssh://h:0/x",
		"ssh://h:abc/x", "ssh://h", "ssh:///x", "ssh://[::1/x", "ssh://[::1]x/y",
		"noscheme", "dir/with:colon",
	};
	struct gitssh_url u;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(gitssh_url_parse(&u, bad[i]), ERR_INVALID);
	assert_int_equal(gitssh_url_parse(&u, NULL), ERR_INVALID);
}

static void test_known_host_name(void **state)
{
	struct gitssh_url u;
	char n[300];

	assert_int_equal(gitssh_url_parse(&u, "git@github.com:o/r.git"), 0);
	gitssh_known_host_name(n, sizeof n, &u);
	assert_string_equal(n, "github.com");
	assert_int_equal(gitssh_url_parse(&u, "ssh://git@127.0.0.1:2222/r.git"), 0);
	gitssh_known_host_name(n, sizeof n, &u);
	assert_string_equal(n, "[127.0.0.1]:2222");
}

static void put_string(struct buf *b, const void *s, uint32_t n)
{
	unsigned char len[4] = { n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255 };

	buf_add(b, len, 4);
	buf_add(b, s, n);
}

static void base64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		buf_addch(out, t[v >> 18]);
		buf_addch(out, t[(v >> 12) & 63]);
		buf_addch(out, i + 1 < n ? t[(v >> 6) & 63] : '=');
		buf_addch(out, i + 2 < n ? t[v & 63] : '=');
		if (i % 48 == 45)
			buf_addch(out, '\n');
	}
}

/* An OpenSSH private key file whose first public key is of type kt. */
static void openssh_key(struct buf *file, const char *kt, size_t cut)
{
	struct buf raw = BUF_INIT, pub = BUF_INIT;
	unsigned char key[32] = { 1, 2, 3 };
	unsigned char one[4] = { 0, 0, 0, 1 };

	put_string(&pub, kt, (uint32_t)strlen(kt));
	put_string(&pub, key, sizeof key);
	buf_add(&raw, "openssh-key-v1", 15);
	put_string(&raw, "none", 4);
	put_string(&raw, "none", 4);
	put_string(&raw, "", 0);
	buf_add(&raw, one, 4);
	put_string(&raw, pub.data, (uint32_t)pub.len);
	buf_adds(file, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	base64(file, (unsigned char *)raw.data, cut ? cut : raw.len);
	buf_adds(file, "\n-----END OPENSSH PRIVATE KEY-----\n");
	buf_release(&raw);
	buf_release(&pub);
}

static void test_key_type_openssh(void **state)
{
	static const char *types[] = { "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" };
	struct buf f = BUF_INIT;
	char t[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		buf_reset(&f);
		openssh_key(&f, types[i], 0);
		assert_int_equal(gitssh_key_type(t, sizeof t, f.data, f.len), 0);
		assert_string_equal(t, types[i]);
	}
	/* truncated in the middle of the public key blob */
	for (i = 1; i < 60; i += 7) {
		buf_reset(&f);
		openssh_key(&f, "ssh-ed25519", i);
		assert_int_equal(gitssh_key_type(t, sizeof t, f.data, f.len), ERR_INVALID);
	}
	/* a type that does not fit the output is refused, not truncated */
	buf_reset(&f);
	openssh_key(&f, "ssh-ed25519", 0);
	assert_int_equal(gitssh_key_type(t, 8, f.data, f.len), ERR_INVALID);
	buf_release(&f);
}

static void test_key_type_pem_and_junk(void **state)
{
	static const char rsa[] = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
	static const char ec[] = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";
	static const char junk[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI pub@key\n";
	static const char bad64[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n";
	char t[64];

	assert_int_equal(gitssh_key_type(t, sizeof t, rsa, sizeof rsa - 1), 0);
	assert_string_equal(t, "ssh-rsa");
	assert_int_equal(gitssh_key_type(t, sizeof t, ec, sizeof ec - 1), 0);
	assert_string_equal(t, "ecdsa-sha2");
	assert_int_equal(gitssh_key_type(t, sizeof t, junk, sizeof junk - 1), ERR_INVALID);
	assert_int_equal(gitssh_key_type(t, sizeof t, bad64, sizeof bad64 - 1), ERR_INVALID);
	assert_int_equal(gitssh_key_type(t, sizeof t, "", 0), ERR_INVALID);
}

static void test_fingerprint(void **state)
{
	unsigned char h[32];
	char fp[60];
	int i;

	for (i = 0; i < 32; i++)
		h[i] = (unsigned char)i;
	gitssh_fingerprint(fp, h);
	/* python3: base64.b64encode(bytes(range(32))).rstrip(b'=') */
	assert_string_equal(fp, "SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
	memset(h, 0xff, sizeof h);
	gitssh_fingerprint(fp, h);
	assert_string_equal(fp, "SHA256://////////////////////////////////////////8");
}

/* Test-only keys made with ssh-keygen -t ed25519 (the second with a
 * passphrase); ssh-keygen -lf gives the first's fingerprint. */
static const char plain_key[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACCYKz1K9B3nmoDJiEDKltGSrW+GocXAksakc6P6lpUdcQAAAJBa34VbWt+F\n"
	"WwAAAAtzc2gtZWQyNTUxOQAAACCYKz1K9B3nmoDJiEDKltGSrW+GocXAksakc6P6lpUdcQ\n"
	"AAAECCsN9CWAN2Zu9uHRE52x39bwzo7fpry7lMzQ4I2T/tR5grPUr0HeeagMmIQMqW0ZKt\n"
	"b4ahxcCSxqRzo/qWlR1xAAAACXRlc3Qgb25seQECAwQ=\n"
	"-----END OPENSSH PRIVATE KEY-----\n";
static const char locked_key[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAeyynEOa\n"
	"zHVj9MfO9+K6S/AAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPAgcjMsUezgA2M/\n"
	"5o6SUXxNCDnADvK5IK9igMT4ikrGAAAAkD4XZs7CCvCbTrWM2PXJYuzo0Q7TnnsT7YxlVL\n"
	"YoRX4iIUQEhmMQAaO8Jtc0B1IgxBidaSgOB4FJpD/nrgEp+5OGWRx473U98ar/T7phkL08\n"
	"mQJeDXBoqkXdhAbuYC2l9IJspLKwxW888PLh5RO/JBeJKeNuoI9P4SnWZZ4tYrRkRb04m7\n"
	"Edhp63Op25qumyxw==\n"
	"-----END OPENSSH PRIVATE KEY-----\n";
#define PLAIN_FP "SHA256:BhBBCwGMCjdR+KL7rJkAaokqZq+F3pJDi2o2haP89z0"
#define PLAIN_PUB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJgrPUr0HeeagMmIQMqW0ZKtb4ahxcCSxqRzo/qWlR1x"

static void test_private_key_fp(void **state)
{
	char fp[60];
	bool enc = true;

	assert_int_equal(gitssh_private_key_fp(fp, &enc, plain_key, strlen(plain_key)), 0);
	assert_string_equal(fp, PLAIN_FP);
	assert_false(enc);
	/* the public half of a locked key is readable; the lock is reported */
	assert_int_equal(gitssh_private_key_fp(fp, &enc, locked_key, strlen(locked_key)), 0);
	assert_true(enc);
	assert_int_equal(gitssh_private_key_fp(fp, &enc, PLAIN_PUB, strlen(PLAIN_PUB)), ERR_INVALID);
	assert_int_equal(gitssh_private_key_fp(fp, &enc, plain_key, 60), ERR_INVALID);
	assert_int_equal(gitssh_private_key_fp(fp, &enc, "-----BEGIN RSA PRIVATE KEY-----\nx", 33),
			 ERR_INVALID);
}

static void test_signers_principals(void **state)
{
	char pr[64];
	int line = 0;
	const char *file =
		"# comment\n"
		"\n"
		"dev@example.com ssh-ed25519 AAAAstand-in\n"
		"\"ops dash,desk@x\" namespaces=\"git,file\" " PLAIN_PUB " the desk\r\n"
		"later@example.com " PLAIN_PUB "\n";

	assert_int_equal(gitssh_signers_principals(pr, sizeof pr, &line, file, strlen(file),
						   PLAIN_FP), 0);
	assert_string_equal(pr, "ops dash,desk@x");
	assert_int_equal(line, 4);
	/* without options, and as the last line without a newline */
	const char *bare = "a@x,b@x " PLAIN_PUB;
	assert_int_equal(gitssh_signers_principals(pr, sizeof pr, &line, bare, strlen(bare),
						   PLAIN_FP), 0);
	assert_string_equal(pr, "a@x,b@x");
	assert_int_equal(line, 1);
	/* not there; a principal too long for the output */
	assert_int_equal(gitssh_signers_principals(pr, sizeof pr, &line, file, 40, PLAIN_FP),
			 ERR_NOTFOUND);
	assert_int_equal(gitssh_signers_principals(pr, 4, &line, bare, strlen(bare), PLAIN_FP),
			 ERR_TOOBIG);
	assert_int_equal(gitssh_signers_principals(pr, sizeof pr, &line, "", 0, PLAIN_FP),
			 ERR_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_ssh),
		cmocka_unit_test(test_url_local),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_known_host_name),
		cmocka_unit_test(test_key_type_openssh),
		cmocka_unit_test(test_key_type_pem_and_junk),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_private_key_fp),
		cmocka_unit_test(test_signers_principals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
