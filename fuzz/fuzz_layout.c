/* libFuzzer target for layout.c.  Input: one selector byte (the tag in the
 * low bits, digest = true in the high bit), then a values document.  Every
 * mapping below is resolved and applied, and
 *  - a resolution serves every image exactly once, at a line and column
 *    inside the document, with the tag inside the scalar's value;
 *  - a successful apply re-resolves to the new tag (and each image's new
 *    digest), is a fixed point (applying again changes nothing), changes
 *    only lines, and masks to the same bytes as the input;
 *  - every refusal gives one line of error and no output.
 * Seed corpus: fuzz/corpus/layout/ (fuzz/make_corpus.sh: the layout charts
 * and the yamledit golden inputs). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const images[] = { "scheduler", "dashboard", "superset" };
#define NIMG 3

static const char *const tags[] = {
	"8b1e4c07d2f9a3e56c1b7d08f4a2e9c35b6d1f70", "1.10", "1e10", "yes", "v2", "x", "0755", "null",
};

#define DIG(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
static const char *const digests[] = { DIG("a"), DIG("b"), DIG("0") };

static const char *const p_global[] = { "global.image.tag" };
static const char *const p_services[] = { "services.{image}.image.tag" };
static const char *const p_backend[] = { "backend.{image}.image.tag" };
static const char *const p_refs[] = { "{image}.image" };
static const char *const p_images[] = { "images.{image}" };
static const char *const p_mixed[] = { "services.*.image.tag", "global.image.tag" };
static const char *const p_short[] = { "s.{image}.tag", "g.tag", "*.tag" };
static const char *const x_unrelated[] = { NULL, "dashboard.image.tag", "superset.image.tag" };
static const char *const x_short[] = { NULL, "dashboard.tag", NULL };

static const struct {
	const char *const *paths;
	size_t n;
	const char *const *explicit;
} sets[] = {
	{ p_global, 1, NULL },  { p_services, 1, NULL }, { p_backend, 1, x_unrelated },
	{ p_refs, 1, NULL },    { p_images, 1, NULL },   { p_mixed, 2, NULL },
	{ p_short, 2, x_short }, { p_short + 2, 1, NULL },
};

static void refusal(const struct buf *out, struct buf *err)
{
	if (out->data || !err->data || !err->len || memchr(err->data, '\n', err->len))
		abort();
	buf_release(err);
}

static void check_layout(const struct layout *l, size_t len)
{
	size_t served[NIMG] = { 0 };

	for (size_t k = 0; k < l->n; k++) {
		const struct layout_loc *c = &l->locs[k];

		if (!c->nimages || !c->line || !c->column || c->line > len + 1 || !c->tag ||
		    !strstr(c->value, c->tag) || (c->form == LAYOUT_REF && c->nimages != 1))
			abort();
		for (size_t i = 0; i < c->nimages; i++) {
			if (c->images[i] >= NIMG || (i && c->images[i] <= c->images[i - 1]))
				abort();
			served[c->images[i]]++;
		}
	}
	for (size_t i = 0; i < NIMG; i++)
		if (served[i] != 1 || !layout_for_image(l, i))
			abort();
}

static void check_applied(const struct layout_rules *r, const char *doc, size_t len,
			  const struct buf *out, const char *tag)
{
	struct buf err = BUF_INIT, again = BUF_INIT, cur = BUF_INIT, m1 = BUF_INIT, m2 = BUF_INIT;
	struct layout l;

	if (layout_resolve(&l, r, out->data, out->len, &err) != 0)
		abort();
	check_layout(&l, out->len);
	if (layout_current(&cur, &l, &err) != 0 || strcmp(cur.data, tag) != 0)
		abort();
	for (size_t k = 0; r->digest && k < l.n; k++)
		if (!l.locs[k].digest || strcmp(l.locs[k].digest, digests[l.locs[k].images[0]]) != 0)
			abort();
	layout_release(&l);
	if (layout_apply(&again, NULL, r, out->data, out->len, tag, digests, &err) != 0 ||
	    again.len != out->len || memcmp(again.data, out->data, out->len) != 0)
		abort();
	if (layout_mask(&m1, r, doc, len, &err) != 0 || layout_mask(&m2, r, out->data, out->len, &err))
		abort();
	if (m1.len != m2.len || memcmp(m1.data, m2.data, m1.len) != 0)
		abort();
	buf_release(&again);
	buf_release(&cur);
	buf_release(&m1);
	buf_release(&m2);
	buf_release(&err);
}

static void run(const struct layout_rules *r, const char *doc, size_t len, const char *tag)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct layout l;

	if (layout_resolve(&l, r, doc, len, &err) != 0) {
		if (l.locs || l.n)
			abort();
		refusal(&out, &err);
	} else {
		check_layout(&l, len);
		layout_release(&l);
	}
	if (layout_apply(&out, NULL, r, doc, len, tag, digests, &err) != 0) {
		refusal(&out, &err);
		return;
	}
	check_applied(r, doc, len, &out, tag);
	buf_release(&out);
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tag;
	bool digest;

	if (size < 1)
		return 0;
	tag = tags[data[0] % ARRAY_SIZE(tags)];
	digest = data[0] & 0x80;
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		struct layout_rules r = {
			.file = "values.yaml", .images = images, .nimages = NIMG,
			.image_paths = sets[i].explicit, .paths = sets[i].paths, .npaths = sets[i].n,
			.digest = digest,
		};

		run(&r, (const char *)data + 1, size - 1, tag);
	}
	return 0;
}
