/* Unit tests for initconf.c: which files are values files and which stage
 * each serves, and the mapping inferred from small values files (a shared
 * tag, a per-image template with a key that is not an image, unrelated
 * paths, a reference, digests beside the tags, nothing to find, a file
 * that does not parse). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initconf.h"
#include "util.h"

#define Z40 "0000000000000000000000000000000000000000"

static void test_values_files(void **state)
{
	(void)state;
	assert_true(initconf_is_values_file("values/values-beta.yaml"));
	assert_true(initconf_is_values_file("charts/shop/values-prod.yml"));
	assert_true(initconf_is_values_file("env/values/beta.yaml"));
	assert_true(initconf_is_values_file("values.yaml"));
	assert_false(initconf_is_values_file("charts/shop/templates/values-x.yaml"));
	assert_false(initconf_is_values_file(".github/values-ci.yaml"));
	assert_false(initconf_is_values_file("charts/shop/Chart.yaml"));
	assert_false(initconf_is_values_file("values/values-beta.json"));
	assert_false(initconf_is_values_file("values/values-beta\n[stage \"x\"].yaml"));
	assert_false(initconf_is_values_file("values/values beta.yaml"));
}

static void test_names_stage(void **state)
{
	(void)state;
	assert_true(initconf_names_stage("values/values-beta.yaml", STAGE_BETA));
	assert_true(initconf_names_stage("envs/staging/values.yaml", STAGE_BETA));
	assert_true(initconf_names_stage("values/values-prod.yaml", STAGE_LIVE));
	assert_true(initconf_names_stage("values/paper.yaml", STAGE_PAPER));
	assert_false(initconf_names_stage("values/values-alphabeta.yaml", STAGE_BETA));
	assert_false(initconf_names_stage("values/values-live.yaml", STAGE_PAPER));
	assert_false(initconf_names_stage("values/products.yaml", STAGE_LIVE));
}

/* The rendered file for one file per stage (NULL: none). */
static char *render3(const char *beta, const char *paper, const char *live)
{
	struct initconf_file f[STAGE_COUNT];
	struct initconf_opts o = { .url = "/srv/gitops.git", .branch = "main", .source = "test" };
	struct buf out = BUF_INIT;

	memset(f, 0, sizeof f);
	f[STAGE_BETA] = (struct initconf_file){ beta ? "values/values-beta.yaml" : NULL, beta,
						beta ? strlen(beta) : 0, NULL };
	f[STAGE_PAPER] = (struct initconf_file){ paper ? "values/values-paper.yaml" : NULL, paper,
						 paper ? strlen(paper) : 0, NULL };
	f[STAGE_LIVE] = (struct initconf_file){ live ? "values/values-live.yaml" : NULL, live,
						live ? strlen(live) : 0, NULL };
	assert_int_equal(initconf_render(&out, f, &o), 0);
	return buf_detach(&out, NULL);
}

static void has(const char *text, const char *needle)
{
	if (!strstr(text, needle)) {
		print_error("missing '%s' in:\n%s\n", needle, text);
		fail();
	}
}

static void lacks(const char *text, const char *needle)
{
	if (strstr(text, needle)) {
		print_error("unexpected '%s' in:\n%s\n", needle, text);
		fail();
	}
}

static void test_template(void **state)
{
	const char *doc =
		"services:\n"
		"  api:\n    image:\n      repository: ghcr.io/acme/shop/api\n      tag: \"" Z40 "\"\n"
		"  worker:\n    image:\n      repository: ghcr.io/acme/shop/worker\n      tag: \"" Z40 "\"\n";
	char *t = render3(doc, doc, NULL);

	(void)state;
	has(t, "\turl = /srv/gitops.git\n\tbranch = main\n");
	has(t, "\t#sshKey = deploy_key\n");
	has(t, "\turl = https://ghcr.io\n\tnamespace = acme/shop\n");
	has(t, "\timage = api\t# ghcr.io/acme/shop/api\n\timage = worker\t");
	has(t, "[stage \"beta\"]\n\tvalues = values-beta.yaml\n\ttagPath = services.{image}.image.tag\n");
	has(t, "[stage \"paper\"]\n\tvalues = values-paper.yaml\n\ttagPath = services.{image}.image.tag\n");
	has(t, "[stage \"live\"]\n\t# no values file names this stage\n\tenabled = false\n");
	lacks(t, "[image ");
	lacks(t, "digest = true");
	free(t);
}

static void test_shared(void **state)
{
	const char *doc =
		"global:\n  image:\n    tag: 0f3c4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e\n"
		"api:\n  image:\n    repository: registry.example.com:5000/acme/api\n"
		"worker:\n  image:\n    repository: registry.example.com:5000/acme/worker\n";
	char *t = render3(doc, NULL, NULL);

	(void)state;
	has(t, "\ttagPath = global.image.tag\n\t# one tag scalar (global.image.tag) serves every image");
	has(t, "\turl = https://registry.example.com:5000\n\tnamespace = acme\n");
	has(t, "\timage = api\t");
	has(t, "\timage = worker\t");
	free(t);
}

static void test_unrelated_paths_and_reference(void **state)
{
	const char *doc =
		"backend:\n"
		"  orders:\n    image:\n      repository: ghcr.io/acme/orders\n      tag: \"" Z40 "\"\n"
		"      digest: \"sha256:1111111111111111111111111111111111111111111111111111111111111111\"\n"
		"  billing:\n    image:\n      repository: ghcr.io/acme/billing\n      tag: \"" Z40 "\"\n"
		"      digest: \"sha256:2222222222222222222222222222222222222222222222222222222222222222\"\n"
		"frontend:\n  image:\n    tag: '" Z40 "'\n"
		"gateway:\n  image: ghcr.io/acme/gateway:" Z40 "\n"
		"build:\n  commit: 89abcdef0123456789abcdef0123456789abcdef\n";
	char *t = render3(doc, NULL, NULL);

	(void)state;
	has(t, "\ttagPath = backend.{image}.image.tag\n");
	has(t, "[image \"frontend\"]\n\t# its own tag location, in every stage's file\n"
	       "\ttagPath = frontend.image.tag\n");
	has(t, "[image \"gateway\"]\n\t# its own tag location, in every stage's file\n"
	       "\ttagPath = gateway.image\n");
	has(t, "\tdigest = true\n");
	/* a commit id under another key is a candidate, but not a tag of an image */
	has(t, "# not used: values/values-beta.yaml:");
	has(t, "build.commit = 89abcdef");
	free(t);
}

/* An image name longer than pipelined can hold is never cut short into
 * another name. */
static void test_long_image_name(void **state)
{
	char longname[201], cut[128], doc[1024], *t;

	(void)state;
	memset(longname, 'q', 200);
	longname[200] = '\0';
	memcpy(cut, longname, 127);
	cut[127] = '\0';
	snprintf(doc, sizeof doc,
		 "%s:\n  image:\n    tag: \"" Z40 "\"\n"
		 "gateway:\n  image: ghcr.io/acme/%s:" Z40 "\n"
		 "api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"" Z40 "\"\n",
		 longname, longname);
	t = render3(doc, NULL, NULL);
	lacks(t, cut);
	has(t, "\timage = api\t");
	free(t);
}

static void test_nothing_found(void **state)
{
	char *t = render3("replicas: 3\nservice:\n  port: 80\n", NULL, NULL);

	(void)state;
	has(t, "\t# no tag-like scalar was found in this file\n");
	has(t, "\t# no image repository was found in the values files: name them\n\timage = app\n");
	has(t, "\tnamespace = CHANGE-ME/namespace\n");
	free(t);
}

/* Every scalar of the file is a tag candidate (no repository, no other
 * value): each is weighed; and a file with more candidates than are ever
 * weighed (300 images, INIT_MAX_CANDS is 256) still renders. */
static void test_candidate_counts(void **state)
{
	const char *doc = "api:\n  tag: \"" Z40 "\"\nworker:\n  tag: \"" Z40 "\"\n";
	struct buf big = BUF_INIT;
	char *t = render3(doc, NULL, doc);

	(void)state;
	has(t, "\timage = api\n\timage = worker\n");
	has(t, "[stage \"beta\"]\n\tvalues = values-beta.yaml\n\ttagPath = {image}.tag\n");
	has(t, "[stage \"live\"]\n\tvalues = values-live.yaml\n\ttagPath = {image}.tag\n");
	lacks(t, "not used");
	free(t);
	for (int i = 0; i < 300; i++)
		buf_printf(&big, "svc%d:\n  image:\n    tag: \"" Z40 "\"\n", i);
	t = render3(big.data, NULL, NULL);
	has(t, "\timage = svc63\n\n");	/* CONFIG_MAX_IMAGES */
	has(t, "\ttagPath = {image}.image.tag\n");
	has(t, "# not used: values/values-beta.yaml:768: svc255.image.tag = " Z40 "\n");
	lacks(t, "svc256");
	free(t);
	buf_release(&big);
}

static void test_unparsable(void **state)
{
	char *t = render3("a: [1, 2\nb: }\n", NULL, NULL);

	(void)state;
	has(t, "\t# values/values-beta.yaml is not YAML pipelined can read: line ");
	free(t);
}

/* A values file cannot write a line of its own into the configuration. */
static void test_injection(void **state)
{
	const char *doc =
		"a:\n  image:\n    repository: \"ghcr.io/x\\n[stage \\\"live\\\"]\\n\\tvalues = y/b\"\n"
		"    tag: \"" Z40 "\"\n"
		"b:\n  image: \"ghcr.io/acme/b\\n[daemon]\\n:" Z40 "\"\n";
	char *t = render3(doc, NULL, NULL);

	(void)state;
	lacks(t, "\n[stage \"live\"]\n\tvalues = y/b");
	lacks(t, "\n[daemon]\n:");
	free(t);
}

/* Found by fuzz_initconf: a '/' after the '@' of a reference made the tag
 * search read past the end of the value.  Such a value is no reference. */
static void test_slash_after_digest(void **state)
{
	char *t = render3("a:\n  image: \"ghcr.io/acme@x/b:v1\"\n"
			  "b:\n  image: \"ghcr.io/acme/b:" Z40 "@sha256/x\"\n", NULL, NULL);

	(void)state;
	lacks(t, "acme@x");
	free(t);
}

static void test_ssh_url(void **state)
{
	struct initconf_file f[STAGE_COUNT];
	struct initconf_opts o = { .url = "ssh://git@github.com/acme/gitops.git", .branch = "main",
				   .source = "x" };
	struct buf out = BUF_INIT;

	(void)state;
	memset(f, 0, sizeof f);
	assert_int_equal(initconf_render(&out, f, &o), 0);
	has(out.data, "\tsshKey = deploy_key\n\tknownHosts = known_hosts\n");
	buf_release(&out);
	o.for_check = true;
	assert_int_equal(initconf_render(&out, f, &o), 0);
	lacks(out.data, "sshKey");
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_files),
		cmocka_unit_test(test_slash_after_digest),
		cmocka_unit_test(test_names_stage),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_unrelated_paths_and_reference),
		cmocka_unit_test(test_long_image_name),
		cmocka_unit_test(test_nothing_found),
		cmocka_unit_test(test_unparsable),
		cmocka_unit_test(test_candidate_counts),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_ssh_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
