/* The engine's decision glue: the request facts it derives from values
 * files (tag values, "only the tag scalars changed") and the release facts
 * it hands to the policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define A40 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B40 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char *const paths[] = { "services.*.image.tag" };
static const char *const images[] = { "api", "web" };
/* the mapping of the documents below: two images, one per-image template */
static const struct layout_rules rules = {
	.file = "values/values-beta.yaml", .images = images, .nimages = 2,
	.paths = paths, .npaths = 1,
};

static const char two_same[] =
	"# comment\n"
	"services:\n"
	"  api:\n"
	"    image:\n"
	"      tag: \"" A40 "\"\n"
	"  web:\n"
	"    image:\n"
	"      tag: \"" A40 "\"\n";

static const char two_differ[] =
	"services:\n"
	"  api:\n"
	"    image:\n"
	"      tag: \"" A40 "\"\n"
	"  web:\n"
	"    image:\n"
	"      tag: \"" B40 "\"\n";

static void free_values(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_tags_agree(void **state)
{
	char **v = NULL;
	size_t n = 9;

	assert_int_equal(engine_tag_values(&v, &n, two_same, strlen(two_same), &rules), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], A40);
	free_values(v, n);
}

static void test_tags_differ_names_both(void **state)
{
	char **v = NULL;
	size_t n = 0;

	assert_int_equal(engine_tag_values(&v, &n, two_differ, strlen(two_differ), &rules), 0);
	assert_int_equal(n, 2);
	/* both values, so the refusal can name them */
	assert_true((!strcmp(v[0], A40) && !strcmp(v[1], B40)) ||
		    (!strcmp(v[0], B40) && !strcmp(v[1], A40)));
	free_values(v, n);
}

static void test_tags_no_match(void **state)
{
	static const char doc[] = "global:\n  stage: beta\n";
	char **v = NULL;
	size_t n = 9;

	assert_int_equal(engine_tag_values(&v, &n, doc, strlen(doc), &rules), 0);
	assert_int_equal(n, 0);
	free_values(v, n);
}

static void test_tags_unsafe_document(void **state)
{
	static const char doc[] = "x: &t \"" A40 "\"\nservices:\n  api:\n    image:\n"
				  "      tag: *t\n  web:\n    image:\n      tag: \"" A40 "\"\n";
	char **v = NULL;
	size_t n = 0;

	/* an alias at the target: two values that cannot agree, one of them
	 * yamledit's reason, so the request is refused (mixed-tags) */
	assert_int_equal(engine_tag_values(&v, &n, doc, strlen(doc), &rules), 0);
	assert_int_equal(n, 2);
	assert_string_not_equal(v[0], v[1]);
	assert_non_null(strstr(v[1], "services.api.image.tag"));
	free_values(v, n);
}

static const char *const shared_paths[] = { "global.image.tag" };
static const struct layout_rules shared = {
	.file = "values/values-beta.yaml", .images = images, .nimages = 2,
	.paths = shared_paths, .npaths = 1,
};

static void test_shared_tag(void **state)
{
	static const char doc[] = "global:\n  image:\n    tag: \"" A40 "\"\n"
				  "services:\n  api: {}\n  web: {}\n";
	static const char moved[] = "global:\n  image:\n    tag: \"" B40 "\"\n"
				    "services:\n  api: {}\n  web: {}\n";
	static const char more[] = "global:\n  image:\n    tag: \"" B40 "\"\n"
				   "services:\n  api: {}\n  web: {replicas: 2}\n";
	char **v = NULL;
	size_t n = 0;

	/* one scalar serves both images: one value, no count heuristic */
	assert_int_equal(engine_tag_values(&v, &n, doc, strlen(doc), &shared), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], A40);
	free_values(v, n);
	assert_true(engine_only_tags_changed(doc, strlen(doc), moved, strlen(moved), &shared));
	assert_false(engine_only_tags_changed(doc, strlen(doc), more, strlen(more), &shared));
}

static void test_image_without_tag_location(void **state)
{
	static const char doc[] = "services:\n  api:\n    image:\n      tag: \"" A40 "\"\n";
	char **v = NULL;
	size_t n = 9;

	/* 'web' has no tag where the mapping says: no value, so policy
	 * refuses the request for its tags; and the file is not "only tags" */
	assert_int_equal(engine_tag_values(&v, &n, doc, strlen(doc), &rules), 0);
	assert_int_equal(n, 0);
	free_values(v, n);
	assert_false(engine_only_tags_changed(doc, strlen(doc), doc, strlen(doc), &rules));
}

/* two_same with every occurrence of A40 set to what, first only when one */
static void retag(char *req, size_t sz, const char *what, bool one)
{
	strlcpy_(req, two_same, sz);
	for (char *p = strstr(req, A40); p; p = one ? NULL : strstr(p, A40))
		memcpy(p, what, 40);
}

static bool only_tags(const char *base, const char *req)
{
	return engine_only_tags_changed(base, strlen(base), req, strlen(req), &rules);
}

static void test_only_tags_changed(void **state)
{
	char req[sizeof two_same + 8];

	retag(req, sizeof req, B40, false);
	assert_true(only_tags(two_same, req));
	/* no change at all is only tags too; policy refuses it for the paths */
	assert_true(only_tags(two_same, two_same));
}

static void test_comment_change_is_more(void **state)
{
	char req[sizeof two_same + 8];

	retag(req, sizeof req, B40, false);
	req[2] = 'C';	/* "# Comment" */
	assert_false(only_tags(two_same, req));
}

static void test_partial_tag_change_is_only_tags(void **state)
{
	char req[sizeof two_same + 8];
	char **v = NULL;
	size_t n = 0;

	/* one tag moved, the other not: nothing but tag scalars changed, so
	 * not wrong-files; the two values it now holds make it mixed-tags */
	retag(req, sizeof req, B40, true);
	assert_true(only_tags(two_same, req));
	assert_int_equal(engine_tag_values(&v, &n, req, strlen(req), &rules), 0);
	assert_int_equal(n, 2);
	assert_string_not_equal(v[0], v[1]);
	free_values(v, n);
}

static void test_non_release_tag_is_only_tags(void **state)
{
	char req[sizeof two_same + 8];
	char *p;

	/* a tag that is no release id is still only a tag change: mixed-tags
	 * says why it is refused */
	retag(req, sizeof req, B40, false);
	p = strstr(req, B40);
	memcpy(p, "latest\"", 7);
	memmove(p + 7, p + 41, strlen(p + 41) + 1);
	assert_true(only_tags(two_same, req));
}

static void test_quotes_dropped_is_only_tags(void **state)
{
	static const char plain[] =
		"# comment\n"
		"services:\n"
		"  api:\n"
		"    image:\n"
		"      tag: " B40 "\n"
		"  web:\n"
		"    image:\n"
		"      tag: \"" B40 "\"\n";

	/* the same scalar with and without its double quotes */
	assert_true(only_tags(two_same, plain));
}

static void test_other_scalar_is_more(void **state)
{
	static const char base[] =
		"services:\n  api:\n    image:\n      repository: ghcr.io/x/api\n"
		"      tag: \"" A40 "\"\n";
	static const char repo[] =
		"services:\n  api:\n    image:\n      repository: ghcr.io/x/evil\n"
		"      tag: \"" B40 "\"\n";
	static const char added[] =
		"services:\n  api:\n    image:\n      repository: ghcr.io/x/api\n"
		"      tag: \"" B40 "\"\n  web:\n    image:\n      tag: \"" B40 "\"\n";
	static const char nomatch[] = "services: {}\n";

	assert_false(only_tags(base, repo));
	assert_false(only_tags(base, added));	/* a new image is more than a tag */
	assert_false(only_tags(base, nomatch));
	assert_false(only_tags(nomatch, base));
}

static void test_release_facts(void **state)
{
	struct engine_release r;
	struct policy_release pr;
	char summary[400];

	memset(&r, 0, sizeof r);
	r.checked = true;
	r.complete = false;
	r.present = 13;
	r.total = 14;
	strlcpy_(r.missing, "superset", sizeof r.missing);
	engine_release_facts(&pr, summary, sizeof summary, &r, true);
	assert_false(pr.complete);
	assert_int_equal(pr.images_present, 13);
	assert_string_equal(pr.missing_image, "superset");
	assert_int_equal(pr.evidence, POLICY_EVIDENCE_MISSING);

	r.complete = true;
	r.ev_checked = true;
	r.ev = REGISTRY_EVIDENCE_FAILED;
	strlcpy_(r.ev_summary, "failed 2/12", sizeof r.ev_summary);
	strlcpy_(r.ev_failures, "test_fill, test_risk", sizeof r.ev_failures);
	engine_release_facts(&pr, summary, sizeof summary, &r, true);
	assert_true(pr.complete);
	assert_int_equal(pr.evidence, POLICY_EVIDENCE_FAILED);
	assert_string_equal(pr.evidence_summary, "failed 2/12: test_fill, test_risk");

	/* integration-test disabled: evidence is not consulted */
	engine_release_facts(&pr, summary, sizeof summary, &r, false);
	assert_int_equal(pr.evidence, POLICY_EVIDENCE_MISSING);

	/* unreadable: its own state, with the why, never "missing" */
	r.ev = REGISTRY_EVIDENCE_UNREADABLE;
	r.ev_summary[0] = r.ev_failures[0] = '\0';
	strlcpy_(r.ev_error, "inttest-results.json: JSON document is not an object",
		 sizeof r.ev_error);
	engine_release_facts(&pr, summary, sizeof summary, &r, true);
	assert_int_equal(pr.evidence, POLICY_EVIDENCE_UNPARSABLE);
	assert_string_equal(pr.evidence_error, "inttest-results.json: JSON document is not an object");
	assert_null(pr.evidence_summary);
	engine_release_facts(&pr, summary, sizeof summary, &r, false);
	assert_int_equal(pr.evidence, POLICY_EVIDENCE_MISSING);
	assert_null(pr.evidence_error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_agree),
		cmocka_unit_test(test_tags_differ_names_both),
		cmocka_unit_test(test_tags_no_match),
		cmocka_unit_test(test_tags_unsafe_document),
		cmocka_unit_test(test_shared_tag),
		cmocka_unit_test(test_image_without_tag_location),
		cmocka_unit_test(test_only_tags_changed),
		cmocka_unit_test(test_comment_change_is_more),
		cmocka_unit_test(test_partial_tag_change_is_only_tags),
		cmocka_unit_test(test_non_release_tag_is_only_tags),
		cmocka_unit_test(test_quotes_dropped_is_only_tags),
		cmocka_unit_test(test_other_scalar_is_more),
		cmocka_unit_test(test_release_facts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
