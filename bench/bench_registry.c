/* bench_registry - registry requests per polling cycle: git-driven discovery
 * (SPEC 4.1) versus listing every tag of every image (what tag-watching
 * promoters do each cycle).
 *
 *   bench_registry BASE NAMESPACE CYCLES
 *
 * Runs against a registry whose repositories NAMESPACE/<image> hold the
 * tags (bench/registry.sh uses the fault server, which paginates by 100).
 * For each of CYCLES cycles it measures, with the client's own counters:
 *   idle     a git-driven cycle with no new commit: no candidate, so the
 *            registry is not asked at all;
 *   release  a git-driven cycle with one new commit: HEAD 14 manifests +
 *            the evidence manifest and blob;
 *   listing  GET tags/list of all 14 images, following every Link page.
 * Prints one line per cycle: "cycle K idle N release N listing N pages N tags N ms N".
 */
#include "log.h"
#include "registry.h"
#include "util.h"
#include "sysio.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const images[] = {
	"scheduler", "symbol-registry", "ingestion", "parser", "extractor", "aggregation",
	"recommendation", "risk", "broker-adapter", "lake-publisher", "query-api",
	"trading-engine", "dashboard", "superset",
};

struct bench {
	struct registry *r;
	uv_loop_t *loop;
	const char *ns;
	int errors;
	unsigned pages;
	size_t tags;
};

static uint64_t requests(struct bench *b)
{
	struct registry_stats st;

	registry_get_stats(&st, b->r);
	return st.requests;
}

static void release_cb(const struct registry_release *res, void *arg)
{
	struct bench *b = arg;

	if (res->status != REGISTRY_COMPLETE) {
		fprintf(stderr, "bench: release %s: %s\n", registry_status_name(res->status), res->error);
		b->errors++;
	}
}

static void evidence_cb(const struct registry_evidence *res, void *arg)
{
	struct bench *b = arg;

	if (res->status != REGISTRY_EVIDENCE_PASSED) {
		fprintf(stderr, "bench: evidence %s: %s\n",
			registry_evidence_status_name(res->status), res->error);
		b->errors++;
	}
}

static void tags_cb(const struct registry_tags *res, void *arg)
{
	struct bench *b = arg;

	if (res->status || res->truncated) {
		fprintf(stderr, "bench: tags: %s%s\n", res->error, res->truncated ? " (truncated)" : "");
		b->errors++;
	}
	b->pages += res->pages;
	b->tags += res->n_tags;
}

/* The git side decides; with no new first-parent commit there is no
 * candidate and nothing to ask the registry. */
static void cycle_git(struct bench *b, const char *new_sha)
{
	registry_cycle_begin(b->r);
	if (!new_sha)
		return;
	if (registry_release_check(b->r, new_sha, release_cb, b) ||
	    registry_evidence_fetch(b->r, new_sha, NULL, evidence_cb, b))
		b->errors++;
	uv_run(b->loop, UV_RUN_DEFAULT);
}

static void cycle_listing(struct bench *b)
{
	char name[300];

	registry_cycle_begin(b->r);
	for (size_t i = 0; i < ARRAY_SIZE(images); i++) {
		snprintf(name, sizeof(name), "%s/%s", b->ns, images[i]);
		if (registry_tags_list(b->r, name, tags_cb, b))
			b->errors++;
	}
	uv_run(b->loop, UV_RUN_DEFAULT);
}

static int run(struct bench *b, uint32_t cycles)
{
	for (uint32_t k = 1; k <= cycles; k++) {
		char sha[41];
		uint64_t r0, r1, r2, r3, t0, t1;

		snprintf(sha, sizeof(sha), "%040x", k);
		b->pages = 0;
		b->tags = 0;
		r0 = requests(b);
		cycle_git(b, NULL);
		r1 = requests(b);
		cycle_git(b, sha);
		r2 = requests(b);
		t0 = mono_ms();
		cycle_listing(b);
		t1 = mono_ms();
		r3 = requests(b);
		printf("cycle %u idle %llu release %llu listing %llu pages %u tags %zu ms %llu\n", k,
		       (unsigned long long)(r1 - r0), (unsigned long long)(r2 - r1),
		       (unsigned long long)(r3 - r2), b->pages, b->tags,
		       (unsigned long long)(t1 - t0));
	}
	return b->errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct registry_opts o = { 0 };
	struct bench b = { 0 };
	uv_loop_t loop;
	char err[REGISTRY_ERR_MAX];
	uint32_t cycles;
	int rc;

	if (argc != 4 || parse_u32(&cycles, argv[3], 1, 100)) {
		fprintf(stderr, "usage: bench_registry BASE NAMESPACE CYCLES\n");
		return 64;
	}
	o.base_url = argv[1];
	o.namespace = argv[2];
	o.images = images;
	o.n_images = ARRAY_SIZE(images);
	/* enough for a full listing: the point is to count, not to cap */
	o.request_budget = 100000;
	o.page_cap = 1000;
	o.tag_cap = 100000;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&loop);
	b.loop = &loop;
	b.ns = argv[2];
	if (registry_new(&b.r, &loop, &o, err, sizeof(err))) {
		fprintf(stderr, "bench_registry: %s\n", err);
		return 2;
	}
	rc = run(&b, cycles);
	registry_free(b.r);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	curl_global_cleanup();
	return rc;
}
