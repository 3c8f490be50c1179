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

static char *paths[] = { "services.*.image.tag" };

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

	assert_int_equal(engine_tag_values(&v, &n, two_same, strlen(two_same), paths, 1), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], A40);
	free_values(v, n);
}

static void test_tags_differ_names_both(void **state)
{
	char **v = NULL;
	size_t n = 0;

	assert_int_equal(engine_tag_values(&v, &n, two_differ, strlen(two_differ), paths, 1), 0);
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

	assert_int_equal(engine_tag_values(&v, &n, doc, strlen(doc), paths, 1), 0);
	assert_int_equal(n, 0);
	free_values(v, n);
}

static void test_tags_unsafe_document(void **state)
{
	static const char doc[] = "x: &t \"" A40 "\"\nservices:\n  api:\n    image:\n"
				  "      tag: *t\n";
	char **v = NULL;
	size_t n = 0;

	/* an alias at the target: two values that cannot agree, one of them
	 * yamledit's reason, so the request is refused (mixed-tags) */
	assert_int_equal(engine_tag_values(&v, &n, doc, strlen(doc), paths, 1), 0);
	assert_int_equal(n, 2);
	assert_string_not_equal(v[0], v[1]);
	assert_non_null(strstr(v[1], "services.*.image.tag"));
	free_values(v, n);
}

static void test_only_tags_changed(void **state)
{
	char req[sizeof two_same + 8];

	/* the request file is the base with every tag set to B40 */
	strlcpy_(req, two_same, sizeof req);
	for (char *p = strstr(req, A40); p; p = strstr(p, A40))
		memcpy(p, B40, 40);
	assert_true(engine_only_tags_changed(two_same, strlen(two_same), req, strlen(req), paths,
					     1, B40));
}

static void test_comment_change_is_more(void **state)
{
	char req[sizeof two_same + 8];

	strlcpy_(req, two_same, sizeof req);
	for (char *p = strstr(req, A40); p; p = strstr(p, A40))
		memcpy(p, B40, 40);
	req[2] = 'C';	/* "# Comment" */
	assert_false(engine_only_tags_changed(two_same, strlen(two_same), req, strlen(req), paths,
					      1, B40));
}

static void test_partial_tag_change_is_not_only_tags(void **state)
{
	/* one tag moved, the other not: applying the tag to the base sets
	 * both, so the bytes differ */
	char req[sizeof two_same + 8];
	char *p;

	strlcpy_(req, two_same, sizeof req);
	p = strstr(req, A40);
	memcpy(p, B40, 40);
	assert_false(engine_only_tags_changed(two_same, strlen(two_same), req, strlen(req), paths,
					      1, B40));
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_agree),
		cmocka_unit_test(test_tags_differ_names_both),
		cmocka_unit_test(test_tags_no_match),
		cmocka_unit_test(test_tags_unsafe_document),
		cmocka_unit_test(test_only_tags_changed),
		cmocka_unit_test(test_comment_change_is_more),
		cmocka_unit_test(test_partial_tag_change_is_not_only_tags),
		cmocka_unit_test(test_release_facts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
