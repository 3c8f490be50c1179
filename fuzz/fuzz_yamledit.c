/* libFuzzer target for yamledit.  Input: one byte choosing the tag, then the
 * document.  Each document is edited with several path sets, and every
 * successful edit must hold these invariants:
 *  - the output has the same number of lines, and exactly stats.lines of
 *    them differ from the input (a bump is a one-line diff per line touched);
 *  - editing the output again with the same paths and tag succeeds, changes
 *    nothing and matches the same scalars (the edit is a fixed point);
 * and every refusal leaves *out untouched and gives one line of error.
 * Seed corpus: fuzz/corpus/yamledit/ (fuzz/make_corpus.sh, from the golden
 * inputs). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yamledit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = {
	"1.0.1", "1e10", "0755", "yes", "v1.10.0", "1.10", "x", "null", "2026-01-01",
	"8b1e4c07d2f9a3e56c1b7d08f4a2e9c35b6d1f70",
};

static const char *const set0[] = { "image.tag" };
static const char *const set1[] = { "services.*.image.tag" };
static const char *const set2[] = { "*.image.tag", "images.*.tag", "*.tag" };
static const char *const set3[] = { "*.*.*" };
static const char *const set4[] = { "0.tag", "*.0", "*" };

static const struct {
	const char *const *paths;
	size_t n;
} sets[] = {
	{ set0, 1 }, { set1, 1 }, { set2, 3 }, { set3, 1 }, { set4, 3 },
};

static size_t differing_lines(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t diff = 0, i = 0, j = 0;

	while (i < alen || j < blen) {
		const char *ea = memchr(a + i, '\n', alen - i), *eb = memchr(b + j, '\n', blen - j);
		size_t la = ea ? (size_t)(ea - (a + i)) : alen - i;
		size_t lb = eb ? (size_t)(eb - (b + j)) : blen - j;

		if (!ea != !eb)
			abort();	/* a line was added or removed */
		diff += la != lb || memcmp(a + i, b + j, la) != 0;
		i += la + (ea != NULL);
		j += lb + (eb != NULL);
		if (!ea)
			break;
	}
	return diff;
}

static void check_refusal(const struct buf *out, const struct buf *err)
{
	if (out->data || !err->data || !err->len || memchr(err->data, '\n', err->len))
		abort();
}

static void check_fixed_point(const struct buf *out, const struct yamledit_stats *st,
			      const char *const *paths, size_t n, const char *tag)
{
	struct buf again = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st2;

	if (yamledit_apply(&again, &st2, out->data, out->len, paths, n, tag, &err) != 0)
		abort();
	if (again.len != out->len || memcmp(again.data, out->data, out->len) != 0)
		abort();
	if (st2.changed != 0 || st2.matched != st->matched)
		abort();
	buf_release(&again);
	buf_release(&err);
}

static void run(const char *doc, size_t len, const char *const *paths, size_t n, const char *tag)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;

	if (yamledit_apply(&out, &st, doc, len, paths, n, tag, &err) != 0) {
		check_refusal(&out, &err);
		buf_release(&err);
		return;
	}
	if (st.changed > st.matched || st.lines > st.changed || !st.matched)
		abort();
	if (differing_lines(doc, len, out.data, out.len) != st.lines)
		abort();
	check_fixed_point(&out, &st, paths, n, tag);
	buf_release(&out);
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tag;

	if (size < 1)
		return 0;
	tag = tags[data[0] % ARRAY_SIZE(tags)];
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		run((const char *)data + 1, size - 1, sets[i].paths, sets[i].n, tag);
	return 0;
}
