/* Unit tests for layout.c: the image->tag mapping of pipelines.conf(5)
 * resolved against values documents.  Each layout of issue 10 (one shared
 * tag, one tag per image under one map, unrelated paths with mixed quoting,
 * single-string references, digests beside tags) is resolved, applied and
 * masked; each refusal is checked for the image and path it names.  The
 * byte-exact 14-image cases are tests/golden/layout.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_load.h"
#include "layout.h"
#include "util.h"

static const char *const images[] = { "api", "worker", "dashboard" };
#define NIMG 3

#define TAG "8b1e4c07d2f9a3e56c1b7d08f4a2e9c35b6d1f70"
#define D0 "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
static const char *const digests[] = { D0, D1, D2 };

static struct layout_rules rules(const char *const *paths, size_t npaths,
				 const char *const *image_paths, bool digest)
{
	struct layout_rules r = {
		.file = "values/values-beta.yaml", .images = images, .nimages = NIMG,
		.image_paths = image_paths, .paths = paths, .npaths = npaths, .digest = digest,
	};

	return r;
}

static struct layout resolve_ok(const struct layout_rules *r, const char *doc)
{
	struct buf err = BUF_INIT;
	struct layout l;

	if (layout_resolve(&l, r, doc, strlen(doc), &err))
		fail_msg("resolve failed: %s", err.data);
	assert_null(err.data);
	return l;
}

static char *apply_ok(const struct layout_rules *r, const char *doc, const char *tag,
		      struct yamledit_stats *st)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	if (layout_apply(&out, st, r, doc, strlen(doc), tag, digests, &err))
		fail_msg("apply failed: %s", err.data);
	return out.data;
}

/* The refusal's return code and its whole message. */
static void refused(const struct layout_rules *r, const char *doc, int rc, const char *msg)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct layout l;

	memset(&l, 0xAB, sizeof(l));
	assert_int_equal(layout_resolve(&l, r, doc, strlen(doc), &err), rc);
	assert_null(l.locs);	/* zeroed on failure */
	assert_int_equal(l.n, 0);
	assert_non_null(err.data);
	assert_null(strchr(err.data, '\n'));
	if (strcmp(err.data, msg) != 0)
		fail_msg("got      \"%s\"\nexpected \"%s\"", err.data, msg);
	buf_release(&err);
	/* apply and mask refuse alike and write nothing */
	assert_int_equal(layout_apply(&out, NULL, r, doc, strlen(doc), TAG, digests, &err), rc);
	assert_null(out.data);
	assert_string_equal(err.data, msg);
	buf_release(&err);
	if (!r->digest) {
		assert_int_equal(layout_mask(&out, r, doc, strlen(doc), &err), rc);
		assert_null(out.data);
		buf_release(&err);
	}
}

/* mask(doc) == mask(apply(doc)): the edit changed only what the mapping owns. */
static void mask_equal(const struct layout_rules *r, const char *a, const char *b)
{
	struct buf ma = BUF_INIT, mb = BUF_INIT, err = BUF_INIT;

	assert_int_equal(layout_mask(&ma, r, a, strlen(a), &err), 0);
	assert_int_equal(layout_mask(&mb, r, b, strlen(b), &err), 0);
	assert_string_equal(ma.data, mb.data);
	buf_release(&ma);
	buf_release(&mb);
}

/* ---- the layouts ---- */

static const char shared_doc[] =
	"global:\n"
	"  image:\n"
	"    tag: \"1.0.0\"   # every image\n"
	"dashboard:\n"
	"  replicas: 1\n";

static void test_shared(void **state)
{
	const char *paths[] = { "global.image.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);
	struct layout l = resolve_ok(&r, shared_doc);
	struct yamledit_stats st;
	struct buf cur = BUF_INIT, err = BUF_INIT;
	char *out;

	assert_int_equal(l.n, 1);
	assert_string_equal(l.locs[0].path, "global.image.tag");
	assert_ptr_equal(l.locs[0].rule, paths[0]);
	assert_int_equal(l.locs[0].line, 3);
	assert_int_equal(l.locs[0].column, 10);
	assert_int_equal(l.locs[0].quote, '"');
	assert_int_equal(l.locs[0].form, LAYOUT_TAG);
	assert_int_equal(l.locs[0].nimages, NIMG);
	for (size_t i = 0; i < NIMG; i++) {
		assert_int_equal(l.locs[0].images[i], i);
		assert_ptr_equal(layout_for_image(&l, i), &l.locs[0]);
	}
	assert_null(layout_for_image(&l, NIMG));
	assert_int_equal(layout_current(&cur, &l, &err), 0);
	assert_string_equal(cur.data, "1.0.0");
	buf_release(&cur);
	layout_release(&l);
	layout_release(&l);	/* idempotent */

	out = apply_ok(&r, shared_doc, TAG, &st);
	assert_string_equal(out, "global:\n  image:\n    tag: \"" TAG "\"   # every image\n"
				 "dashboard:\n  replicas: 1\n");
	assert_int_equal(st.matched, 1);
	assert_int_equal(st.changed, 1);
	assert_int_equal(st.lines, 1);
	mask_equal(&r, shared_doc, out);
	free(out);
}

static const char services_doc[] =
	"services:\n"
	"  api:\n"
	"    image: {repository: ghcr.io/acme/api, tag: \"1.0.0\"}\n"
	"  worker:\n"
	"    image:\n"
	"      tag: '1.0.0'\n"
	"  dashboard:\n"
	"    image:\n"
	"      tag: 1.0.0\n"
	"  redis:\n"
	"    image:\n"
	"      tag: \"7.2\"\n";

static void test_services(void **state)
{
	const char *star[] = { "services.*.image.tag" };
	const char *brace[] = { "services.{image}.image.tag" };
	struct layout_rules r = rules(star, 1, NULL, false), rb = rules(brace, 1, NULL, false);
	struct layout l = resolve_ok(&r, services_doc);
	char *out, *outb;

	assert_int_equal(l.n, 3);
	assert_string_equal(l.locs[0].path, "services.api.image.tag");
	assert_string_equal(l.locs[1].path, "services.worker.image.tag");
	assert_string_equal(l.locs[2].path, "services.dashboard.image.tag");
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(l.locs[k].nimages, 1);
		assert_int_equal(l.locs[k].images[0], k);
	}
	/* redis is not an image: listed, never edited */
	assert_int_equal(l.nuntouched, 1);
	assert_string_equal(l.untouched[0], "services.redis.image.tag");
	layout_release(&l);

	out = apply_ok(&r, services_doc, "2.0.0", NULL);
	outb = apply_ok(&rb, services_doc, "2.0.0", NULL);
	assert_string_equal(out, outb);	/* '*' is the older spelling of {image} */
	assert_string_equal(out,
			    "services:\n"
			    "  api:\n"
			    "    image: {repository: ghcr.io/acme/api, tag: \"2.0.0\"}\n"
			    "  worker:\n"
			    "    image:\n"
			    "      tag: '2.0.0'\n"
			    "  dashboard:\n"
			    "    image:\n"
			    "      tag: 2.0.0\n"
			    "  redis:\n"
			    "    image:\n"
			    "      tag: \"7.2\"\n");
	mask_equal(&r, services_doc, out);
	free(out);
	free(outb);
}

static const char unrelated_doc[] =
	"backend:\n"
	"  api:\n"
	"    image:\n"
	"      tag: \"1.0.0\"\n"
	"  worker:\n"
	"    image:\n"
	"      tag: '1.0.0'\n"
	"dashboard:\n"
	"  image:\n"
	"    tag: 1.0.0\n";

static void test_unrelated(void **state)
{
	const char *paths[] = { "backend.{image}.image.tag" };
	const char *explicit[] = { NULL, NULL, "dashboard.image.tag" };
	struct layout_rules r = rules(paths, 1, explicit, false);
	struct layout l = resolve_ok(&r, unrelated_doc);
	char *out;

	assert_int_equal(l.n, 3);
	assert_ptr_equal(l.locs[2].rule, explicit[2]);
	assert_int_equal(l.locs[2].quote, 0);
	assert_int_equal(l.locs[1].quote, '\'');
	assert_int_equal(l.locs[0].quote, '"');
	layout_release(&l);
	/* a plain tag that would read as a number gets quotes; quoted stay */
	out = apply_ok(&r, unrelated_doc, "1.10", NULL);
	assert_string_equal(out,
			    "backend:\n  api:\n    image:\n      tag: \"1.10\"\n"
			    "  worker:\n    image:\n      tag: '1.10'\n"
			    "dashboard:\n  image:\n    tag: \"1.10\"\n");
	free(out);
}

static const char refs_doc[] =
	"api:\n"
	"  image: ghcr.io/acme/shop/api:1.0.0\n"
	"worker:\n"
	"  image: \"registry.example:5000/acme/worker:1.0.0\"\n"
	"dashboard:\n"
	"  image: dashboard:1.0.0@sha256:abcd\n";

static void test_references(void **state)
{
	const char *paths[] = { "{image}.image" };
	struct layout_rules r = rules(paths, 1, NULL, false);
	struct layout l = resolve_ok(&r, refs_doc);
	struct buf cur = BUF_INIT, err = BUF_INIT;
	char *out;

	assert_int_equal(l.n, 3);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(l.locs[k].form, LAYOUT_REF);
		assert_string_equal(l.locs[k].tag, "1.0.0");
	}
	assert_null(l.locs[0].digest);
	assert_string_equal(l.locs[2].digest, "sha256:abcd");
	assert_int_equal(layout_current(&cur, &l, &err), 0);
	assert_string_equal(cur.data, "1.0.0");
	buf_release(&cur);
	layout_release(&l);

	/* only the tag changes; the stale digest of dashboard is dropped */
	out = apply_ok(&r, refs_doc, TAG, NULL);
	assert_string_equal(out,
			    "api:\n  image: ghcr.io/acme/shop/api:" TAG "\n"
			    "worker:\n  image: \"registry.example:5000/acme/worker:" TAG "\"\n"
			    "dashboard:\n  image: dashboard:" TAG "\n");
	mask_equal(&r, refs_doc, out);
	free(out);
	/* the same tag again: the digest still describes the image, it stays */
	out = apply_ok(&r, refs_doc, "1.0.0", NULL);
	assert_string_equal(out, refs_doc);
	free(out);
}

static const char sibling_doc[] =
	"services:\n"
	"  api:\n"
	"    image:\n"
	"      tag: \"1.0.0\"\n"
	"      digest: \"\"\n"
	"  worker:\n"
	"    image: {tag: \"1.0.0\", digest: \"sha256:ee\"}\n"
	"  dashboard:\n"
	"    image:\n"
	"      digest: sha256:ee\n"
	"      tag: \"1.0.0\"\n";

static void test_digest_sibling(void **state)
{
	const char *paths[] = { "services.{image}.image.tag" };
	struct layout_rules r = rules(paths, 1, NULL, true);
	struct layout l = resolve_ok(&r, sibling_doc);
	struct buf out = BUF_INIT, err = BUF_INIT;
	char *res;

	assert_string_equal(l.locs[0].digest_path, "services.api.image.digest");
	assert_null(l.locs[0].digest);		/* empty: no digest in force */
	assert_int_equal(l.locs[0].digest_line, 5);
	assert_string_equal(l.locs[1].digest, "sha256:ee");
	assert_int_equal(l.locs[2].digest_line, 10);
	layout_release(&l);

	res = apply_ok(&r, sibling_doc, TAG, NULL);
	assert_string_equal(res,
			    "services:\n"
			    "  api:\n"
			    "    image:\n"
			    "      tag: \"" TAG "\"\n"
			    "      digest: \"" D0 "\"\n"
			    "  worker:\n"
			    "    image: {tag: \"" TAG "\", digest: \"" D1 "\"}\n"
			    "  dashboard:\n"
			    "    image:\n"
			    "      digest: " D2 "\n"
			    "      tag: \"" TAG "\"\n");
	mask_equal(&r, sibling_doc, res);
	free(res);

	/* without digest = true, the sibling digest of the old image refuses */
	r.digest = false;
	assert_int_equal(layout_apply(&out, NULL, &r, sibling_doc, strlen(sibling_doc), TAG, NULL,
				      &err), ERR_REJECTED);
	assert_string_equal(err.data, "values/values-beta.yaml: image 'worker': "
			    "services.worker.image.digest holds the digest of the running image, "
			    "which the new tag would contradict: set digest = true in the stage so "
			    "pipelined writes the new one, or empty it");
	assert_null(out.data);
	buf_release(&err);
}

static void test_digest_reference(void **state)
{
	const char *paths[] = { "{image}.image" };
	struct layout_rules r = rules(paths, 1, NULL, true);
	char *out = apply_ok(&r, refs_doc, TAG, NULL);

	assert_string_equal(out,
			    "api:\n  image: ghcr.io/acme/shop/api:" TAG "@" D0 "\n"
			    "worker:\n  image: \"registry.example:5000/acme/worker:" TAG "@" D1 "\"\n"
			    "dashboard:\n  image: dashboard:" TAG "@" D2 "\n");
	mask_equal(&r, refs_doc, out);
	free(out);
}

static void test_mask(void **state)
{
	const char *paths[] = { "services.{image}.image.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);
	struct buf m = BUF_INIT, err = BUF_INIT;
	char *other;

	assert_int_equal(layout_mask(&m, &r, services_doc, strlen(services_doc), &err), 0);
	assert_string_equal(m.data,
			    "services:\n"
			    "  api:\n"
			    "    image: {repository: ghcr.io/acme/api, tag: \"0\"}\n"
			    "  worker:\n"
			    "    image:\n"
			    "      tag: '0'\n"
			    "  dashboard:\n"
			    "    image:\n"
			    "      tag: \"0\"\n"
			    "  redis:\n"
			    "    image:\n"
			    "      tag: \"7.2\"\n");
	buf_release(&m);
	/* a change the mapping does not own shows through the mask */
	other = strdup(services_doc);
	*strstr(other, "7.2") = '8';
	assert_int_equal(layout_mask(&m, &r, other, strlen(other), &err), 0);
	assert_non_null(strstr(m.data, "\"8.2\""));
	buf_release(&m);
	free(other);
}

static void test_current_differs(void **state)
{
	const char *paths[] = { "services.{image}.image.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);
	char *doc = strdup(services_doc);
	struct buf cur = BUF_INIT, err = BUF_INIT;
	struct layout l;

	memcpy(strstr(doc, "'1.0.0'"), "'0.9.0'", 7);
	l = resolve_ok(&r, doc);
	assert_int_equal(layout_current(&cur, &l, &err), ERR_REJECTED);
	assert_null(cur.data);
	assert_string_equal(err.data, "images run different tags: 'api' at services.api.image.tag "
			    "has '1.0.0', 'worker' at services.worker.image.tag has '0.9.0'");
	buf_release(&err);
	layout_release(&l);
	free(doc);
}

/* ---- refusals ---- */

static void test_no_location(void **state)
{
	const char *paths[] = { "backend.{image}.image.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);

	refused(&r, unrelated_doc, ERR_NOTFOUND,
		"values/values-beta.yaml: image 'dashboard' has no tag location: tried "
		"backend.dashboard.image.tag (no such key)");
	r.npaths = 0;
	refused(&r, unrelated_doc, ERR_NOTFOUND,
		"values/values-beta.yaml: image 'api' has no tag location: no [image] tagPath or "
		"stage tagPath serves it; nor has 'worker', 'dashboard'");
}

static void test_served_twice(void **state)
{
	const char *two[] = { "backend.{image}.image.tag", "{image}.image.tag" };
	const char *with_shared[] = { "backend.{image}.image.tag", "dashboard.image.tag",
				      "backend.api.image.tag" };
	const char *explicit[] = { NULL, "backend.api.image.tag", "dashboard.image.tag" };
	struct layout_rules r = rules(two, 2, NULL, false);
	const char *doc = "backend:\n  api:\n    image: {tag: a}\n  worker:\n    image: {tag: a}\n"
			  "dashboard:\n  image: {tag: a}\napi:\n  image: {tag: a}\n";

	refused(&r, doc, ERR_REJECTED,
		"values/values-beta.yaml: image 'api' is served twice: by backend.api.image.tag "
		"(tagPath backend.{image}.image.tag) and by api.image.tag (tagPath {image}.image.tag)");
	r = rules(with_shared, 3, NULL, false);
	refused(&r, doc, ERR_REJECTED,
		"values/values-beta.yaml: image 'dashboard' is served twice: by shared tagPaths "
		"dashboard.image.tag and backend.api.image.tag");
	r = rules(with_shared, 1, explicit, false);
	refused(&r, doc, ERR_REJECTED,
		"values/values-beta.yaml: the scalar at backend.api.image.tag (line 3) is served "
		"twice: for image 'api' by tagPath backend.{image}.image.tag and for image 'worker' "
		"by tagPath backend.api.image.tag");
}

static void test_shared_refusals(void **state)
{
	const char *nothing[] = { "global.tag" };
	const char *nobody[] = { "services.{image}.image.tag", "services.redis.image.tag" };
	struct layout_rules r = rules(nothing, 1, NULL, false);

	refused(&r, shared_doc, ERR_NOTFOUND,
		"values/values-beta.yaml: shared tagPath global.tag matches no scalar (no such key)");
	r = rules(nobody, 2, NULL, false);
	refused(&r, services_doc, ERR_REJECTED,
		"values/values-beta.yaml: shared tagPath services.redis.image.tag serves no image: "
		"every image has its own tag location");
	r = rules((const char *[]){ "global.image.tag" }, 1, NULL, true);
	refused(&r, shared_doc, ERR_REJECTED,
		"values/values-beta.yaml: global.image.tag is the shared tag of 3 images, so it "
		"cannot carry a digest (each image has its own): set digest = false, or give each "
		"image its own tag");
}

static void test_reference_refusals(void **state)
{
	const char *paths[] = { "{image}.image" };
	const char *shared[] = { "api.image" };
	struct layout_rules r = rules(paths, 1, NULL, false);

	refused(&r, "api:\n  image: ghcr.io/acme/api:1\nworker:\n  image: ghcr.io/acme/api:1\n"
		    "dashboard:\n  image: ghcr.io/acme/dashboard:1\n", ERR_REJECTED,
		"values/values-beta.yaml: image 'worker': worker.image holds a reference to "
		"'ghcr.io/acme/api', not to image 'worker' (its repository must end in /worker)");
	refused(&r, "api:\n  image: ghcr.io/acme/xapi:1\nworker:\n  image: w:1\ndashboard:\n  image: d:1\n",
		ERR_REJECTED,
		"values/values-beta.yaml: image 'api': api.image holds a reference to "
		"'ghcr.io/acme/xapi', not to image 'api' (its repository must end in /api)");
	refused(&r, "api:\n  image: localhost:5000/api\nworker:\n  image: worker:1\n"
		    "dashboard:\n  image: dashboard:1\n", ERR_REJECTED,
		"values/values-beta.yaml: image 'api': api.image holds the reference "
		"'localhost:5000/api' without a :TAG part");
	/* an '@' inside the repository: without its digest the reference
	 * would read back as repository 'x@y/api:1', tag... (found by
	 * fuzz_layout: the daemon wrote a file it then refused) */
	refused(&r, "api:\n  image: ghcr.io/x@y/api:1@sha256:"
		    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n"
		    "worker:\n  image: worker:1\ndashboard:\n  image: dashboard:1\n", ERR_REJECTED,
		"values/values-beta.yaml: image 'api': api.image holds the reference 'ghcr.io/x@y/"
		"api:1@sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', whose "
		"repository 'ghcr.io/x@y/api' has an '@' (only a digest follows an '@')");
	r = rules(shared, 1, NULL, false);
	refused(&r, refs_doc, ERR_REJECTED,
		"values/values-beta.yaml: api.image holds an image reference "
		"('ghcr.io/acme/shop/api:1.0.0'), which serves one image, but it is the shared tag of "
		"3 images");
}

static void test_unsafe_targets(void **state)
{
	const char *paths[] = { "s.{image}.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);

	refused(&r, "s:\n  api: {tag: &t a}\n  worker: {tag: a}\n  dashboard: {tag: a}\nx: *t\n",
		ERR_REJECTED, "values/values-beta.yaml: image 'api': s.api.tag: value is anchored "
		"(&t); editing it would change every alias of it");
	refused(&r, "x: &t a\ns:\n  api: {tag: a}\n  worker: {tag: *t}\n  dashboard: {tag: a}\n",
		ERR_REJECTED, "values/values-beta.yaml: image 'worker': s.worker.tag: value is an "
		"alias (*t)");
	refused(&r, "s:\n  api: {tag: a}\n  worker: {tag: a}\n  dashboard:\n    tag: >-\n      a\n",
		ERR_REJECTED, "values/values-beta.yaml: image 'dashboard': s.dashboard.tag: value is "
		"a block scalar (| or >)");
	refused(&r, "s:\n  api: {tag: a}\n  worker: {tag: a}\n  dashboard: {tag: a}\n  x: [\n",
		ERR_REJECTED, "values/values-beta.yaml: the document does not parse: line 6, column 1: "
		"did not find expected node content (while parsing a flow node at line 6, column 1)");
	r.nimages = 1;	/* one query: the path is not listed before a document error */
	refused(&r, "s: {api: {tag: a}}\nx: [\n", ERR_REJECTED, "values/values-beta.yaml: the "
		"document does not parse: line 3, column 1: did not find expected node content "
		"(while parsing a flow node at line 3, column 1)");
	r.nimages = NIMG;
	refused(&r, "s:\n  api: {tag: !!int 1}\n  worker: {tag: a}\n  dashboard: {tag: a}\n",
		ERR_REJECTED, "values/values-beta.yaml: image 'api': s.api.tag: value has an explicit "
		"tag (!!int)");
	refused(&r, "s:\n  api: {tag: a}\n  worker: {tag: a}\n  dashboard: {tag: a}\n  api: {}\n",
		ERR_REJECTED, "values/values-beta.yaml: image 'api': s.api.tag: duplicate key \"api\" "
		"in s");
	refused(&r, "s:\n  api: {tag: a}\n  worker: {tag: a}\n  dashboard: {tag: a}\n---\n"
		    "s: {api: {tag: b}}\n", ERR_REJECTED,
		"values/values-beta.yaml: image 'api': s.api.tag matches 2 scalars (lines 2 and 6); "
		"it must name one");
}

static void test_merge_keys(void **state)
{
	const char *paths[] = { "s.{image}.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);
	const char *ok = "d: &d {tag: old}\ns:\n  api: {<<: *d, tag: a}\n  worker:\n    <<: *d\n"
			 "    tag: a\n  dashboard: {tag: a}\n";
	char *out = apply_ok(&r, ok, "b", NULL);

	assert_string_equal(out, "d: &d {tag: old}\ns:\n  api: {<<: *d, tag: b}\n  worker:\n"
				 "    <<: *d\n    tag: b\n  dashboard: {tag: b}\n");
	free(out);
	refused(&r, "d: &d {tag: old}\ns:\n  api: {tag: a}\n  worker:\n    <<: *d\n    x: 1\n"
		    "  dashboard: {tag: a}\n", ERR_REJECTED,
		"values/values-beta.yaml: image 'worker': s.worker.tag: key \"tag\" of s.worker may "
		"come from the merge key (<<) at line 5; write it explicitly there to edit it");
	/* a merge in the mapping a template enumerates: each image's key is
	 * explicit, so the resolution works; only the untouched listing (which
	 * would need '*') is skipped */
	{
		const char *doc = "d: &d {redis: {tag: x}}\ns:\n  <<: *d\n  api: {tag: a}\n"
				  "  worker: {tag: a}\n  dashboard: {tag: a}\n";
		struct layout l = resolve_ok(&r, doc);

		assert_int_equal(l.n, 3);
		assert_int_equal(l.nuntouched, 0);
		layout_release(&l);
	}
}

static void test_str_tag(void **state)
{
	const char *paths[] = { "s.{image}.tag" };
	struct layout_rules r = rules(paths, 1, NULL, false);
	char *out = apply_ok(&r, "s:\n  api: {tag: !!str 1.0}\n  worker: {tag: !!str '1.0'}\n"
				 "  dashboard:\n    tag: !!str yes\n", "1.10", NULL);

	assert_string_equal(out, "s:\n  api: {tag: !!str 1.10}\n  worker: {tag: !!str '1.10'}\n"
				 "  dashboard:\n    tag: !!str 1.10\n");
	free(out);
}

static void test_bad_arguments(void **state)
{
	const char *paths[] = { "services.{image}.image.tag" };
	const char *two[] = { "a.*.{image}" };
	const char *bad[] = { "a..b" };
	const char *wild[] = { NULL, "a.*", NULL };
	const char *bad_digests[] = { D0, "sha256:XYZ", D2 };
	struct layout_rules r = rules(paths, 1, NULL, false);
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(layout_apply(&out, NULL, &r, services_doc, strlen(services_doc), "a b",
				      NULL, &err), ERR_INVALID);
	assert_string_equal(err.data, "'a b' is not a valid image tag");
	buf_release(&err);
	r.digest = true;
	assert_int_equal(layout_apply(&out, NULL, &r, sibling_doc, strlen(sibling_doc), "1",
				      bad_digests, &err), ERR_INVALID);
	assert_string_equal(err.data, "image 'worker': 'sha256:XYZ' is not a digest (sha256: and "
			    "64 lowercase hex)");
	buf_release(&err);
	assert_int_equal(layout_apply(&out, NULL, &r, sibling_doc, strlen(sibling_doc), "1", NULL,
				      &err), ERR_INVALID);
	buf_release(&err);
	assert_null(out.data);

	r = rules(two, 1, NULL, false);
	refused(&r, services_doc, ERR_INVALID, "values/values-beta.yaml: tagPath 'a.*.{image}' has "
		"2 wildcards; a template has one ('*' or {image})");
	r = rules(bad, 1, NULL, false);
	refused(&r, services_doc, ERR_INVALID, "values/values-beta.yaml: tagPath 'a..b' is not a "
		"valid tag path: empty segment in the tag path");
	r = rules(paths, 1, wild, false);
	refused(&r, services_doc, ERR_INVALID, "values/values-beta.yaml: image 'worker': [image] "
		"tagPath 'a.*' must name one scalar (no '*' or {image})");
	r = rules(paths, 1, NULL, false);
	r.nimages = 0;
	refused(&r, services_doc, ERR_INVALID, "values/values-beta.yaml: no images are configured");
}

/* ---- from pipelines.conf ---- */

static void test_rules_from_config(void **state)
{
	char dir[] = "/tmp/test_layout.XXXXXX", path[64];
	struct buf errors = BUF_INIT;
	struct config *cfg = NULL;
	struct layout_rules r;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pipelines.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("[repository]\n\turl = /srv/git/x.git\n"
	      "[image \"web\"]\n\ttagPath = frontend.image.tag\n"
	      "[registry]\n\tnamespace = acme\n\timage = api\n\timage = web\n\timage = db\n"
	      "[stage \"beta\"]\n\tvalues = values-beta.yaml\n\ttagPath = services.{image}.tag\n"
	      "\ttagPath = global.tag\n\tdigest = true\n"
	      "[stage \"paper\"]\n\tenabled = false\n\tvalues = values-paper.yaml\n"
	      "\ttagPath = x.tag\n"
	      "[stage \"live\"]\n\tenabled = false\n", f);
	fclose(f);
	if (config_load(&cfg, path, &errors))
		fail_msg("%s", errors.data);

	layout_rules_from_config(&r, cfg, STAGE_BETA);
	assert_string_equal(r.file, "values/values-beta.yaml");
	assert_int_equal(r.nimages, 3);
	assert_string_equal(r.images[1], "web");
	assert_null(r.image_paths[0]);
	assert_string_equal(r.image_paths[1], "frontend.image.tag");
	assert_null(r.image_paths[2]);
	assert_int_equal(r.npaths, 2);
	assert_string_equal(r.paths[0], "services.{image}.tag");
	assert_true(r.digest);
	layout_rules_from_config(&r, cfg, STAGE_PAPER);
	assert_int_equal(r.npaths, 0);	/* disabled */
	assert_false(r.digest);
	layout_rules_from_config(&r, cfg, STAGE_CI);
	assert_int_equal(r.npaths, 0);	/* evidence stage */
	config_free(cfg);
	unlink(path);
	rmdir(dir);
}

/* ---- the audit's fast path: layout_tag_spans + layout_splice_tag ---- */

/* doc with every tag spliced to TAG resolves to the same locations, each
 * holding TAG (current TAG), masks to doc's mask, and the moved spans
 * point at TAG: what ctl_audit.c relies on to skip the parse. */
static void splice_same(const struct layout_rules *r, const char *doc)
{
	struct layout l = resolve_ok(r, doc), m;
	struct layout_span sp[8];
	struct buf out = BUF_INIT, cur = BUF_INIT, err = BUF_INIT;
	size_t n = l.n;

	assert_int_equal(layout_tag_spans(sp, 8, &l, doc, strlen(doc)), 0);
	assert_int_equal(layout_splice_tag(&out, sp, n, doc, strlen(doc), TAG), 0);
	m = resolve_ok(r, out.data);
	assert_int_equal(m.n, n);
	for (size_t k = 0; k < n; k++) {
		assert_string_equal(m.locs[k].path, l.locs[k].path);
		assert_string_equal(m.locs[k].tag, TAG);
		assert_int_equal(sp[k].len, strlen(TAG));
		assert_memory_equal(out.data + sp[k].off, TAG, strlen(TAG));
	}
	assert_int_equal(layout_current(&cur, &m, &err), 0);
	assert_string_equal(cur.data, TAG);
	mask_equal(r, doc, out.data);
	/* the moved spans are the spliced document's own */
	layout_release(&m);
	m = resolve_ok(r, out.data);
	{
		struct layout_span again[8];

		assert_int_equal(layout_tag_spans(again, 8, &m, out.data, out.len), 0);
		assert_memory_equal(again, sp, n * sizeof *sp);
	}
	buf_release(&cur);
	buf_release(&out);
	layout_release(&m);
	layout_release(&l);
}

static void splice_refused(const struct layout_rules *r, const char *doc)
{
	struct layout l = resolve_ok(r, doc);
	struct layout_span sp[8];

	assert_int_equal(layout_tag_spans(sp, 8, &l, doc, strlen(doc)), ERR_REJECTED);
	layout_release(&l);
}

static void test_splice(void **state)
{
	const char *p_shared[] = { "global.image.tag" }, *p_ref[] = { "{image}.image" };
	const char *p_back[] = { "backend.{image}.image.tag" }, *p_sib[] = { "services.{image}.image.tag" };
	const char *explicit[] = { NULL, NULL, "dashboard.image.tag" };
	struct layout_rules shared = rules(p_shared, 1, NULL, false);
	struct layout_rules refs = rules(p_ref, 1, NULL, false);
	struct layout_rules back = rules(p_back, 1, explicit, false);
	struct layout_rules sib = rules(p_sib, 1, NULL, true);
	struct layout l;
	struct layout_span sp[1];

	(void)state;
	splice_same(&shared, shared_doc);
	splice_same(&refs, refs_doc);		/* plain, quoted, and with a digest kept */
	splice_same(&back, unrelated_doc);	/* double, single and plain quoting */
	splice_same(&sib, sibling_doc);		/* flow mappings, digests beside the tags */
	/* a value that is not written verbatim, or past a non-ASCII byte: parse */
	splice_refused(&shared, "global:\n  image:\n    tag: \"1.0\\x2e0\"\n");
	splice_refused(&shared, "global:\n  image: {n: \"\xc3\xa9\", tag: \"1.0.0\"}\n");
	/* fewer spans than locations: parse */
	l = resolve_ok(&refs, refs_doc);
	assert_int_equal(layout_tag_spans(sp, 1, &l, refs_doc, strlen(refs_doc)), ERR_REJECTED);
	layout_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_unrelated),
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_digest_sibling),
		cmocka_unit_test(test_digest_reference),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_splice),
		cmocka_unit_test(test_current_differs),
		cmocka_unit_test(test_no_location),
		cmocka_unit_test(test_served_twice),
		cmocka_unit_test(test_shared_refusals),
		cmocka_unit_test(test_reference_refusals),
		cmocka_unit_test(test_unsafe_targets),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_str_tag),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_rules_from_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
