/* Unit tests for webhook.c (signatures, event kinds, coalescing) and the
 * secret file rules of hooks.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"
#include "util.h"
#include "webhook.h"
#include "sysio.h"

#define GH_SECRET "It's a Secret to Everybody"
/* GitHub's documented example, and the same value from
 * `printf 'Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to Everybody"`. */
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
/* `openssl dgst -sha256 -hmac "It's a Secret to Everybody" < registry_package_published.json` */
#define FIXTURE_SIG "sha256=bd51cabe4d391b9f359e75df493b187df9bc2201536a627e0b476d9b839127a6"

static int verify(const char *secret, const char *header, const char *body)
{
	return webhook_verify(secret, strlen(secret), header, body, strlen(body));
}

static void fixture(struct buf *out, const char *name)
{
	char path[512];
	const char *dir = getenv("TESTDATA");

	snprintf(path, sizeof(path), "%s/webhook/%s", dir ? dir : "tests/data", name);
	buf_init(out, 0);
	assert_int_equal(file_read(out, path, 1 << 20), 0);
}

static void test_known_vectors(void **state)
{
	char hex[65];

	assert_int_equal(verify(GH_SECRET, GH_SIG, "Hello, World!"), 0);
	/* RFC 4231 test case 2 */
	assert_int_equal(webhook_sign(hex, "Jefe", 4, "what do ya want for nothing?", 28), 0);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* an empty body is signed too (openssl dgst -hmac k < /dev/null) */
	assert_int_equal(verify("k", "sha256=8bb990c40a7d61cb97597a942125025be50ac8beb74436e3735b98893a7f6620", ""), 0);
}

static void test_fixture_signature(void **state)
{
	struct buf body;

	fixture(&body, "registry_package_published.json");
	assert_int_equal(webhook_verify(GH_SECRET, strlen(GH_SECRET), FIXTURE_SIG,
					body.data, body.len), 0);
	/* one byte of the body changed: the signature no longer holds */
	body.data[10] ^= 1;
	assert_int_equal(webhook_verify(GH_SECRET, strlen(GH_SECRET), FIXTURE_SIG,
					body.data, body.len), ERR_REJECTED);
	buf_release(&body);
}

static void test_bad_signatures(void **state)
{
	const char *body = "Hello, World!";
	char upper[sizeof(GH_SIG)];

	assert_int_equal(verify("another secret", GH_SIG, body), ERR_REJECTED);
	assert_int_equal(verify(GH_SECRET, GH_SIG, "Hello, World?"), ERR_REJECTED);
	assert_int_equal(verify(GH_SECRET, NULL, body), ERR_INVALID);
	assert_int_equal(verify(GH_SECRET, "", body), ERR_INVALID);
	/* the SHA-1 header GitHub also sends is not accepted in its place */
	assert_int_equal(verify(GH_SECRET, "sha1=757107ea0eb2509fc211221cce984b8a37570b6d", body),
			 ERR_INVALID);
	assert_int_equal(verify(GH_SECRET, "sha512=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", body),
			 ERR_INVALID);
	assert_int_equal(verify(GH_SECRET, &GH_SIG[strlen("sha256=")], body), ERR_INVALID);
	/* truncated, overlong, non-hex, surrounding space */
	assert_int_equal(verify(GH_SECRET, "sha256=757107ea0eb2509fc211221cce984b8a", body), ERR_INVALID);
	assert_int_equal(verify(GH_SECRET, GH_SIG "00", body), ERR_INVALID);
	assert_int_equal(verify(GH_SECRET, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g", body),
			 ERR_INVALID);
	assert_int_equal(verify(GH_SECRET, " " GH_SIG, body), ERR_INVALID);
	/* uppercase hex of the right digest: GitHub never sends it, refused */
	strlcpy_(upper, GH_SIG, sizeof(upper));
	for (char *p = upper + 7; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(verify(GH_SECRET, upper, body), ERR_INVALID);
	/* no secret configured: nothing verifies */
	assert_int_equal(webhook_verify("", 0, GH_SIG, body, strlen(body)), ERR_INVALID);
}

static void classify_fixture(struct webhook_event *ev, const char *event, const char *name)
{
	struct buf body;
	char err[256] = "";

	fixture(&body, name);
	assert_int_equal(webhook_classify(ev, event, body.data, body.len, err, sizeof(err)), 0);
	buf_release(&body);
}

static void test_classify_triggers(void **state)
{
	struct webhook_event ev;

	classify_fixture(&ev, "registry_package", "registry_package_published.json");
	assert_int_equal(ev.kind, WEBHOOK_TRIGGER);
	assert_string_equal(ev.action, "published");
	assert_string_equal(ev.subject, "scheduler:3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345");
	classify_fixture(&ev, "package", "package_published.json");
	assert_int_equal(ev.kind, WEBHOOK_TRIGGER);
	assert_string_equal(ev.subject, "ingestion:3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345");
	classify_fixture(&ev, "workflow_run", "workflow_run_completed.json");
	assert_int_equal(ev.kind, WEBHOOK_TRIGGER);
	assert_string_equal(ev.subject, "ci@3f9a1c2b7d4e (success)");
}

static void test_classify_others(void **state)
{
	struct webhook_event ev;
	char err[256];

	classify_fixture(&ev, "workflow_run", "workflow_run_requested.json");
	assert_int_equal(ev.kind, WEBHOOK_IGNORE);
	assert_string_equal(ev.action, "requested");
	classify_fixture(&ev, "ping", "ping.json");
	assert_int_equal(ev.kind, WEBHOOK_PING);
	classify_fixture(&ev, "push", "push.json");
	assert_int_equal(ev.kind, WEBHOOK_IGNORE);
	/* events we do not act on are not even parsed */
	assert_int_equal(webhook_classify(&ev, "issues", "not json", 8, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, WEBHOOK_IGNORE);
	assert_string_equal(ev.event, "issues");
	assert_string_equal(webhook_kind_name(ev.kind), "ignore");
}

static void test_classify_bad(void **state)
{
	struct webhook_event ev = { .kind = WEBHOOK_PING };
	char err[256];
	const char *dup = "{\"action\":\"deleted\",\"action\":\"published\"}";
	const char *form = "payload=%7B%22action%22%3A%22published%22%7D";

	assert_int_equal(webhook_classify(&ev, NULL, "{}", 2, err, sizeof(err)), ERR_INVALID);
	assert_string_equal(err, "missing or malformed X-GitHub-Event header");
	assert_int_equal(webhook_classify(&ev, "Package", "{}", 2, err, sizeof(err)), ERR_INVALID);
	assert_int_equal(webhook_classify(&ev, "package", dup, strlen(dup), err, sizeof(err)),
			 ERR_INVALID);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(webhook_classify(&ev, "package", form, strlen(form), err, sizeof(err)),
			 ERR_INVALID);
	assert_non_null(strstr(err, "application/json"));
	assert_int_equal(webhook_classify(&ev, "package", "[1]", 3, err, sizeof(err)), ERR_INVALID);
	assert_string_equal(err, "'package' payload has no \"action\"");
	assert_int_equal(webhook_classify(&ev, "workflow_run", "{\"action\":7}", 12, err, sizeof(err)),
			 ERR_INVALID);
	assert_int_equal(webhook_classify(&ev, "package", "{}", WEBHOOK_MAX_BODY + 1, err,
					  sizeof(err)), ERR_TOOBIG);
	/* nothing was written on failure */
	assert_int_equal(ev.kind, WEBHOOK_PING);
}

static void test_coalescer(void **state)
{
	struct webhook_coalescer c;

	webhook_coalescer_init(&c, 2000, 600000);
	/* one push, one delivery per platform manifest, within a second */
	assert_int_equal(webhook_coalescer_offer(&c, "d-1", 1000), WEBHOOK_FIRE);
	assert_int_equal(webhook_coalescer_offer(&c, "d-2", 1200), WEBHOOK_MERGED);
	assert_int_equal(webhook_coalescer_offer(&c, "d-3", 1900), WEBHOOK_MERGED);
	assert_int_equal(webhook_coalescer_offer(&c, "d-4", 2999), WEBHOOK_MERGED);
	/* the window counts from the fired trigger, not the latest merge */
	assert_int_equal(webhook_coalescer_offer(&c, "d-5", 3000), WEBHOOK_FIRE);
	/* GitHub redelivering d-1 much later is still recognised */
	assert_int_equal(webhook_coalescer_offer(&c, "d-1", 60000), WEBHOOK_DUPLICATE);
	assert_int_equal(webhook_coalescer_offer(&c, "d-6", 60000), WEBHOOK_FIRE);
	/* ...until it is older than remember_ms */
	assert_int_equal(webhook_coalescer_offer(&c, "d-1", 1000 + 600000), WEBHOOK_FIRE);
	/* deliveries without an id are coalesced by time alone */
	assert_int_equal(webhook_coalescer_offer(&c, NULL, 700000), WEBHOOK_FIRE);
	assert_int_equal(webhook_coalescer_offer(&c, "", 700001), WEBHOOK_MERGED);
	assert_string_equal(webhook_verdict_name(WEBHOOK_MERGED), "merged");
}

static void test_coalescer_ring(void **state)
{
	struct webhook_coalescer c;
	char id[32];

	webhook_coalescer_init(&c, 10, 1000000);
	for (int i = 0; i < WEBHOOK_SEEN_IDS + 1; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(webhook_coalescer_offer(&c, id, 100 * (uint64_t)(i + 1)), WEBHOOK_FIRE);
	}
	/* id-0 fell out of the bounded ring; the newest are still known */
	assert_int_equal(webhook_coalescer_offer(&c, "id-0", 100000), WEBHOOK_FIRE);
	snprintf(id, sizeof(id), "id-%d", WEBHOOK_SEEN_IDS);
	assert_int_equal(webhook_coalescer_offer(&c, id, 200000), WEBHOOK_DUPLICATE);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_secret_file(void **state)
{
	char dir[] = "/tmp/test_webhook.XXXXXX", path[64], err[256];
	struct buf s = BUF_INIT;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	write_file(path, "s3cret\n", 7);
	assert_int_equal(hooks_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.data, "s3cret", 6);
	/* only one trailing newline is the file's; the rest is the secret */
	write_file(path, "s3cret\n\n", 8);
	assert_int_equal(hooks_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 7);
	write_file(path, "s3cret\r\n", 8);
	assert_int_equal(hooks_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 6);
	/* an empty secret is refused and the loaded one kept */
	write_file(path, "\n", 1);
	assert_int_equal(hooks_secret_load(&s, path, err, sizeof(err)), ERR_INVALID);
	assert_non_null(strstr(err, "is empty"));
	assert_memory_equal(s.data, "s3cret", 6);
	unlink(path);
	assert_true(hooks_secret_load(&s, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(s.len, 6);
	buf_release(&s);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_fixture_signature),
		cmocka_unit_test(test_bad_signatures),
		cmocka_unit_test(test_classify_triggers),
		cmocka_unit_test(test_classify_others),
		cmocka_unit_test(test_classify_bad),
		cmocka_unit_test(test_coalescer),
		cmocka_unit_test(test_coalescer_ring),
		cmocka_unit_test(test_secret_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
