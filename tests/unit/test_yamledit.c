/* Unit tests for yamledit.c and pipelinectl edit: the API edge cases the
 * golden data cannot express (argument bounds, out-parameters, statistics,
 * the plain-scalar quoting table) and a failed -i write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"
#include "yamledit.h"
#include "sysio.h"

static const char doc[] =
	"# app\n"
	"image:\n"
	"  repository: ghcr.io/acme/app\n"
	"  tag: \"1.0.0\"   # keep\n"
	"sidecar: {image: {tag: '1.0.0'}, extra: {tag: 1.0.0}}\n";

static int edit(struct buf *out, struct yamledit_stats *st, const char *in,
		const char *const *paths, size_t n, const char *tag, struct buf *err)
{
	return yamledit_apply(out, st, in, in ? strlen(in) : 0, paths, n, tag, err);
}

static void test_several_paths(void **state)
{
	const char *paths[] = { "image.tag", "sidecar.*.tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;

	assert_int_equal(edit(&out, &st, doc, paths, 2, "2.0.0", &err), 0);
	assert_string_equal(out.data,
			    "# app\n"
			    "image:\n"
			    "  repository: ghcr.io/acme/app\n"
			    "  tag: \"2.0.0\"   # keep\n"
			    "sidecar: {image: {tag: '2.0.0'}, extra: {tag: 2.0.0}}\n");
	assert_int_equal(st.matched, 3);
	assert_int_equal(st.changed, 3);
	assert_int_equal(st.lines, 2);	/* both sidecar tags share a line */
	assert_null(err.data);
	buf_release(&out);
}

/* A lone carriage return breaks a YAML line but not a git one: the two
 * tags on either side of it are one changed line in the commit's diff,
 * and the '\r' stays where it was (found by fuzz_yamledit). */
static void test_lone_cr_is_not_a_line(void **state)
{
	const char *paths[] = { "images.*.tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;
	const char *in = "images:\n  - tag: \"1.0.0\"\r  - tag: \"1.0.0\"\n  - tag: 1.0.0\n";

	assert_int_equal(edit(&out, &st, in, paths, 1, "2.0.0", &err), 0);
	assert_string_equal(out.data,
			    "images:\n  - tag: \"2.0.0\"\r  - tag: \"2.0.0\"\n  - tag: 2.0.0\n");
	assert_int_equal(st.matched, 3);
	assert_int_equal(st.changed, 3);
	assert_int_equal(st.lines, 2);
	buf_release(&out);
	/* CRLF files: one line per tag, as before */
	in = "images:\r\n  - tag: 1.0.0\r\n  - tag: 1.0.0\r\n";
	assert_int_equal(edit(&out, &st, in, paths, 1, "2.0.0", &err), 0);
	assert_string_equal(out.data, "images:\r\n  - tag: 2.0.0\r\n  - tag: 2.0.0\r\n");
	assert_int_equal(st.lines, 2);
	assert_null(err.data);
	buf_release(&out);
}

static void test_same_scalar_two_paths(void **state)
{
	const char *paths[] = { "image.tag", "*.tag", "image.*" };
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;
	const char *in = "image:\n  tag: 1.0.0\n";

	/* image.* matches image's only key, tag: still one scalar. */
	assert_int_equal(edit(&out, &st, in, paths, 3, "1.0.1", &err), 0);
	assert_string_equal(out.data, "image:\n  tag: 1.0.1\n");
	assert_int_equal(st.matched, 1);
	assert_int_equal(st.changed, 1);
	buf_release(&out);
}

static void test_empty_input(void **state)
{
	const char *paths[] = { "image.tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(edit(&out, NULL, "", paths, 1, "1.0.0", &err), ERR_NOTFOUND);
	assert_string_equal(err.data, "image.tag: no scalar at this path in the document");
	assert_null(out.data);
	buf_reset(&err);
	assert_int_equal(edit(&out, NULL, NULL, paths, 1, "1.0.0", &err), ERR_NOTFOUND);
	assert_null(out.data);
	buf_release(&err);
}

static void test_out_untouched_on_failure(void **state)
{
	const char *paths[] = { "image.repository" };
	char sentinel[] = "previous";
	struct buf out = { sentinel, 8, 9, 0 }, err = BUF_INIT;
	struct yamledit_stats st = { 7, 7, 7 };

	assert_int_equal(edit(&out, &st, doc, paths, 1, "bad tag", &err), ERR_INVALID);
	assert_ptr_equal(out.data, sentinel);
	assert_int_equal(st.matched, 7);
	assert_string_equal(err.data, "image.repository: \"bad tag\" is not a valid image tag "
				      "(allowed: [A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
	buf_release(&err);
}

static void test_bad_arguments(void **state)
{
	const char *many[YAMLEDIT_MAX_PATHS + 1];
	const char *bad[] = { "image.tag", "image..tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = "image.tag";
	assert_int_equal(edit(&out, NULL, doc, many, 0, "1", &err), ERR_INVALID);
	assert_int_equal(edit(&out, NULL, doc, many, ARRAY_SIZE(many), "1", &err), ERR_INVALID);
	buf_reset(&err);
	assert_int_equal(edit(&out, NULL, doc, many, YAMLEDIT_MAX_PATHS, "1", &err), 0);
	buf_release(&out);
	assert_int_equal(edit(&out, NULL, doc, bad, 2, "1", &err), ERR_INVALID);
	assert_string_equal(err.data, "image..tag: invalid tag path: empty segment in the tag path");
	buf_reset(&err);
	assert_int_equal(edit(&out, NULL, doc, bad, 1, NULL, &err), ERR_INVALID);
	assert_null(out.data);
	buf_release(&err);
}

static void test_path_valid(void **state)
{
	struct buf why = BUF_INIT;
	char longp[YAMLEDIT_PATH_MAX + 2];

	assert_true(yamledit_path_valid("services.*.image.tag", NULL));
	assert_true(yamledit_path_valid("images.0.tag", NULL));
	assert_true(yamledit_path_valid("tag", NULL));
	assert_false(yamledit_path_valid("", NULL));
	assert_false(yamledit_path_valid(NULL, NULL));
	assert_false(yamledit_path_valid(".tag", &why));
	assert_string_equal(why.data, "empty segment in the tag path");
	assert_false(yamledit_path_valid("a.", NULL));
	assert_false(yamledit_path_valid("a\tb", NULL));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_false(yamledit_path_valid(longp, NULL));
	assert_false(yamledit_path_valid("a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
					 NULL));
	buf_release(&why);
}

/* The YAML 1.1 / 1.2 resolvers' non-strings must come out double-quoted
 * from a plain original; ordinary tags stay plain. */
static void test_plain_quoting(void **state)
{
	static const struct {
		const char *tag;
		bool quoted;
	} cases[] = {
		{ "1e10", true }, { "1E10", true }, { "0755", true }, { "1.10", true },
		{ "0x1F", true }, { "0o17", true }, { "0b101", true }, { "1_000", true },
		{ "10", true }, { "5.", true }, { "1234567", true }, { "1234e567", true },
		{ "yes", true }, { "No", true }, { "ON", true }, { "off", true }, { "y", true },
		{ "n", true }, { "true", true }, { "False", true }, { "null", true },
		{ "NULL", true }, { "2026-01-01", true }, { "2026-1-1", true },
		{ "1.2.3", false }, { "v1.10", false }, { "latest", false },
		{ "1.0.0-rc1", false }, { "e10", false }, { "1e", false }, { "_", false },
		{ "yesterday", false }, { "2026-01", false },
		{ "8b1e4c07d2f9a3e56c1b7d08f4a2e9c35b6d1f70", false },
	};
	const char *paths[] = { "tag" };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf out = BUF_INIT, err = BUF_INIT, want = BUF_INIT;

		buf_printf(&want, cases[i].quoted ? "tag: \"%s\" # c\n" : "tag: %s # c\n",
			   cases[i].tag);
		assert_int_equal(edit(&out, NULL, "tag: old # c\n", paths, 1, cases[i].tag, &err), 0);
		if (strcmp(out.data, want.data) != 0)
			fail_msg("tag %s: got %s", cases[i].tag, out.data);
		buf_release(&out);
		buf_release(&want);
	}
}

static void test_unchanged(void **state)
{
	const char *paths[] = { "image.tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;

	assert_int_equal(edit(&out, &st, doc, paths, 1, "1.0.0", &err), 0);
	assert_string_equal(out.data, doc);
	assert_int_equal(st.matched, 1);
	assert_int_equal(st.changed, 0);
	assert_int_equal(st.lines, 0);
	buf_release(&out);
	/* A plain 1.10 is a float: writing the same text makes it a string. */
	assert_int_equal(edit(&out, &st, "image: {tag: 1.10}\n", paths, 1, "1.10", &err), 0);
	assert_string_equal(out.data, "image: {tag: \"1.10\"}\n");
	assert_int_equal(st.changed, 1);
	buf_release(&out);
}

static void test_too_big(void **state)
{
	const char *paths[] = { "tag" };
	size_t n = YAMLEDIT_MAX_INPUT + 1;
	char *big = malloc(n);
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_non_null(big);
	memset(big, '#', n);
	assert_int_equal(yamledit_apply(&out, NULL, big, n, paths, 1, "1", &err), ERR_TOOBIG);
	assert_null(out.data);
	free(big);
	buf_release(&err);
}

static void test_multi_document(void **state)
{
	const char *paths[] = { "image.tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;

	assert_int_equal(edit(&out, &st, "a: 1\n---\nimage: {tag: x}\n---\nimage:\n  tag: 'y'\n",
			      paths, 1, "z", &err), 0);
	assert_string_equal(out.data, "a: 1\n---\nimage: {tag: z}\n---\nimage:\n  tag: 'z'\n");
	assert_int_equal(st.matched, 2);
	buf_release(&out);
	/* A refusal in any document refuses the whole stream. */
	assert_int_equal(edit(&out, &st, "image: {tag: x}\n---\nimage:\n  tag: |\n    y\n",
			      paths, 1, "z", &err), ERR_REJECTED);
	assert_null(out.data);
	buf_release(&err);
}

static int get(struct buf *v, const char *in, const char *const *paths, struct buf *err)
{
	return yamledit_get(v, in, strlen(in), paths, 1, err);
}

/* Every entry point takes err == NULL: the caller only wants the code. */
static void test_null_err(void **state)
{
	static const char mixed[] = "a:\n  tag: \"x1\"\nb:\n  tag: \"x2\"\n";
	static const char *const paths[] = { "*.tag" };
	static const char *const one[] = { "a.tag" }, *const nope[] = { "c.tag" };
	static const char *const vals[] = { "y" };
	struct buf v = BUF_INIT, out = BUF_INIT;
	struct yamledit_scalar *found = NULL;
	size_t n = 0;

	assert_int_equal(yamledit_get(&v, mixed, strlen(mixed), paths, 1, NULL), ERR_REJECTED);
	assert_int_equal(yamledit_apply(&out, NULL, mixed, strlen(mixed), nope, 1, "y", NULL),
			 ERR_NOTFOUND);
	assert_int_equal(yamledit_set(&out, NULL, mixed, strlen(mixed), nope, vals, 1, NULL),
			 ERR_NOTFOUND);
	assert_int_equal(yamledit_find(&found, &n, "a: [", 4, one, 1, NULL), ERR_REJECTED);
	yamledit_scalars_free(found, n);
	/* the messages written outside fail(): bad paths, set's own checks, a
	 * parse error with a context */
	static const char *const bad[] = { "a..tag" }, *const star[] = { "*.tag" };
	static const char *const badval[] = { "no spaces" };
	assert_int_equal(yamledit_get(&v, mixed, strlen(mixed), bad, 1, NULL), ERR_INVALID);
	assert_int_equal(yamledit_get(&v, mixed, strlen(mixed), bad, 0, NULL), ERR_INVALID);
	assert_int_equal(yamledit_set(&out, NULL, mixed, strlen(mixed), star, vals, 1, NULL),
			 ERR_INVALID);
	assert_int_equal(yamledit_set(&out, NULL, mixed, strlen(mixed), one, badval, 1, NULL),
			 ERR_INVALID);
	assert_int_equal(yamledit_set(&out, NULL, mixed, strlen(mixed), one, NULL, 1, NULL),
			 ERR_INVALID);
	assert_int_equal(yamledit_apply(&out, NULL, "a: {tag: x\nb: 1\n", 16, one, 1, "y", NULL),
			 ERR_REJECTED);
	assert_null(out.data);
}

static void test_get(void **state)
{
	const char *paths[] = { "services.*.image.tag" };
	const char *one[] = { "image.tag" };
	struct buf v = BUF_INIT, err = BUF_INIT;

	assert_int_equal(get(&v, "services:\n  a: {image: {tag: \"abc\"}}\n"
				 "  b:\n    image:\n      tag: abc # same\n", paths, &err), 0);
	assert_string_equal(v.data, "abc");
	buf_release(&v);
	assert_int_equal(get(&v, "services: {a: {image: {tag: x}}, b: {image: {tag: 'y'}}}\n",
			     paths, &err), ERR_REJECTED);
	assert_string_equal(err.data, "services.*.image.tag: at services.b.image.tag: "
				      "value \"y\" differs from \"x\" at services.a.image.tag");
	assert_null(v.data);
	buf_reset(&err);
	assert_int_equal(get(&v, "a: &a 1\nimage: {tag: *a}\n", one, &err), ERR_REJECTED);
	assert_string_equal(err.data, "image.tag: value is an alias (*a)");
	buf_reset(&err);
	assert_int_equal(get(&v, "other: 1\n", one, &err), ERR_NOTFOUND);
	assert_null(v.data);
	buf_release(&err);
}

/* NEL and the Unicode separators are YAML line breaks, though not '\n'. */
static void test_unicode_line_breaks(void **state)
{
	const char *paths[] = { "tag" };
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(edit(&out, NULL, "tag: \"a\xe2\x80\xa8" "b\"\n", paths, 1, "x", &err),
			 ERR_REJECTED);
	assert_string_equal(err.data, "tag: value spans several lines");
	buf_reset(&err);
	assert_int_equal(edit(&out, NULL, "tag: 'a\xc2\x85" "b'\n", paths, 1, "x", &err), ERR_REJECTED);
	assert_null(out.data);
	/* In a comment on the same line, multibyte text is only counted. */
	buf_reset(&err);
	assert_int_equal(edit(&out, NULL, "{n: \"\xf0\x9f\x9a\x80\xc3\xa9\", tag: \"1\"} # \xe2\x98\x95\n",
			      paths, 1, "2", &err), 0);
	assert_string_equal(out.data, "{n: \"\xf0\x9f\x9a\x80\xc3\xa9\", tag: \"2\"} # \xe2\x98\x95\n");
	buf_release(&out);
	buf_release(&err);
}

static int write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fputs(data, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* A write that fails half-way (file size limit: works as root too, unlike
 * a read-only directory) must leave the original byte-identical and no
 * temporary file behind. */
static void test_failed_in_place_write(void **state)
{
	char dir[] = "/tmp/test_yamledit.XXXXXX";
	struct buf path = BUF_INIT, after = BUF_INIT;
	struct rlimit old, small;
	const struct ctl_opts opts = { .json = false, .config = NULL };
	const char *orig = "image:\n  tag: \"1.0.0\"\n";
	char tag[] = "a-long-tag-that-makes-the-new-file-bigger-than-the-limit";
	char *argv[] = { "edit", NULL, "image.tag", "--tag", tag, "-i", NULL };
	void (*prev)(int);
	int rc;

	assert_non_null(mkdtemp(dir));
	buf_printf(&path, "%s/values.yaml", dir);
	argv[1] = path.data;
	assert_int_equal(write_file(path.data, orig), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = strlen(orig) + 4;
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = cmd_edit(6, argv, &opts);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(rc, 2);
	assert_int_equal(file_read(&after, path.data, 1024), 0);
	assert_string_equal(after.data, orig);
	assert_int_equal(count_entries(dir), 1);
	/* Without the limit the same command succeeds. */
	assert_int_equal(cmd_edit(6, argv, &opts), 0);
	buf_release(&after);
	assert_int_equal(file_read(&after, path.data, 1024), 0);
	assert_non_null(strstr(after.data, tag));
	assert_int_equal(count_entries(dir), 1);
	unlink(path.data);
	rmdir(dir);
	buf_release(&after);
	buf_release(&path);
}

/* A path under a regular file: the read fails, nothing is created. */
static void test_unreadable_path(void **state)
{
	char dir[] = "/tmp/test_yamledit.XXXXXX";
	struct buf file = BUF_INIT, path = BUF_INIT;
	const struct ctl_opts opts = { .json = false, .config = NULL };
	char *argv[] = { "edit", NULL, "image.tag", "--tag", "1", "-i", NULL };

	assert_non_null(mkdtemp(dir));
	buf_printf(&file, "%s/plain-file", dir);
	assert_int_equal(write_file(file.data, "image: {tag: x}\n"), 0);
	buf_printf(&path, "%s/values.yaml", file.data);
	argv[1] = path.data;
	assert_int_equal(cmd_edit(6, argv, &opts), 2);
	assert_int_equal(count_entries(dir), 1);
	unlink(file.data);
	rmdir(dir);
	buf_release(&file);
	buf_release(&path);
}

static void test_cli_usage(void **state)
{
	const struct ctl_opts opts = { .json = false, .config = NULL };
	char *no_tag[] = { "edit", "f.yaml", "image.tag", NULL };
	char *no_path[] = { "edit", "f.yaml", "--tag", "1", NULL };
	char *unknown[] = { "edit", "f.yaml", "image.tag", "--tag", "1", "-x", NULL };
	char *missing[] = { "edit", "/nonexistent/f.yaml", "image.tag", "--tag", "1", NULL };

	assert_int_equal(cmd_edit(3, no_tag, &opts), 2);
	assert_int_equal(cmd_edit(4, no_path, &opts), 2);
	assert_int_equal(cmd_edit(6, unknown, &opts), 2);
	assert_int_equal(cmd_edit(5, missing, &opts), 2);
}

/* ---- yamledit_find / yamledit_set ---- */

static const char chart[] =
	"global:\n"
	"  image:\n"
	"    tag: 'abc'\n"
	"services:\n"
	"  api: {image: {tag: \"1.0\"}}\n"
	"  web:\n"
	"    image:\n"
	"      tag: !!str 1.0   # pinned\n"
	"      digest: \"\"\n"
	"refs:\n"
	"  - ghcr.io/acme/api:1.0@sha256:00\n";

static void test_find(void **state)
{
	const char *paths[] = { "services.*.image.tag", "global.image.tag", "refs.*", "nothing.here" };
	struct yamledit_scalar *v = NULL;
	struct buf err = BUF_INIT;
	size_t n = 99;

	assert_int_equal(yamledit_find(&v, &n, chart, strlen(chart), paths, 4, &err), 0);
	assert_null(err.data);
	assert_int_equal(n, 4);	/* document order; the unmatched path is no error */
	assert_string_equal(v[0].path, "global.image.tag");
	assert_int_equal(v[0].ipath, 1);
	assert_int_equal(v[0].line, 3);
	assert_int_equal(v[0].column, 10);
	assert_string_equal(v[0].value, "abc");
	assert_int_equal(v[0].quote, '\'');
	assert_string_equal(v[1].path, "services.api.image.tag");
	assert_int_equal(v[1].line, 5);
	assert_int_equal(v[1].column, 22);
	assert_int_equal(v[1].quote, '"');
	assert_string_equal(v[2].path, "services.web.image.tag");
	assert_int_equal(v[2].column, 18);	/* the value, after its !!str tag */
	assert_int_equal(v[2].quote, 0);
	assert_string_equal(v[2].value, "1.0");
	assert_string_equal(v[3].path, "refs.0");
	assert_string_equal(v[3].value, "ghcr.io/acme/api:1.0@sha256:00");
	assert_int_equal(v[3].len, strlen(v[3].value));
	yamledit_scalars_free(v, n);

	/* Nothing matched: success, no records. */
	v = NULL;
	assert_int_equal(yamledit_find(&v, &n, chart, strlen(chart), paths + 3, 1, &err), 0);
	assert_int_equal(n, 0);
	yamledit_scalars_free(v, n);
	yamledit_scalars_free(NULL, 0);
}

/* find, get and set take 1 to YAMLEDIT_MAX_PATHS paths, like apply: the
 * last of a full list is read and matched, one more is refused. */
static void test_path_count_bounds(void **state)
{
	const char *many[YAMLEDIT_MAX_PATHS + 1], *vals[YAMLEDIT_MAX_PATHS + 1];
	struct yamledit_scalar *v = NULL;
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t n = 0, max = YAMLEDIT_MAX_PATHS;

	for (size_t i = 0; i <= max; i++) {
		many[i] = "nothing.here";
		vals[i] = "2.0";
	}
	many[max - 1] = "global.image.tag";
	assert_int_equal(yamledit_find(&v, &n, chart, strlen(chart), many, max, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].ipath, max - 1);
	assert_string_equal(v[0].value, "abc");
	yamledit_scalars_free(v, n);
	v = NULL;
	assert_int_equal(yamledit_find(&v, &n, chart, strlen(chart), many, max + 1, &err),
			 ERR_INVALID);
	assert_string_equal(err.data, "between 1 and 64 tag paths are needed");
	buf_reset(&err);
	assert_int_equal(yamledit_find(&v, &n, chart, strlen(chart), many, 0, &err), ERR_INVALID);
	buf_reset(&err);

	for (size_t i = 0; i <= max; i++)
		many[i] = "global.image.tag";
	assert_int_equal(yamledit_get(&out, chart, strlen(chart), many, max, &err), 0);
	assert_string_equal(out.data, "abc");
	buf_release(&out);
	assert_int_equal(yamledit_get(&out, chart, strlen(chart), many, max + 1, &err),
			 ERR_INVALID);
	assert_null(out.data);
	buf_reset(&err);

	/* set: 64 concrete paths, the last one a different scalar: both set */
	for (size_t i = 0; i < max - 1; i++)
		many[i] = "global.image.tag";
	many[max - 1] = "services.api.image.tag";
	assert_int_equal(yamledit_set(&out, NULL, chart, strlen(chart), many, vals, max, &err), 0);
	assert_non_null(strstr(out.data, "    tag: '2.0'\n"));
	assert_non_null(strstr(out.data, "  api: {image: {tag: \"2.0\"}}\n"));
	buf_release(&out);
	assert_int_equal(yamledit_set(&out, NULL, chart, strlen(chart), many, vals, max + 1, &err),
			 ERR_INVALID);
	assert_string_equal(err.data, "between 1 and 64 tag paths are needed");
	assert_null(out.data);
	buf_release(&err);
}

static void test_find_two_paths_one_scalar(void **state)
{
	const char *paths[] = { "services.web.image.tag", "services.*.image.tag" };
	struct yamledit_scalar *v = NULL;
	struct buf err = BUF_INIT;
	size_t n = 0;

	assert_int_equal(yamledit_find(&v, &n, chart, strlen(chart), paths, 2, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].ipath, 1);	/* services.api: only the template */
	assert_int_equal(v[1].ipath, 0);	/* services.web: one record per path */
	assert_int_equal(v[2].ipath, 1);
	assert_int_equal(v[1].line, v[2].line);
	assert_string_equal(v[2].path, "services.web.image.tag");
	yamledit_scalars_free(v, n);
}

static void find_fails(const char *in, const char *path, int rc, const char *msg)
{
	struct yamledit_scalar *v = (void *)1;
	struct buf err = BUF_INIT;
	size_t n = 77;

	assert_int_equal(yamledit_find(&v, &n, in, strlen(in), &path, 1, &err), rc);
	assert_ptr_equal(v, (void *)1);
	assert_int_equal(n, 77);
	assert_non_null(err.data);
	if (!strstr(err.data, msg))
		fail_msg("\"%s\" lacks \"%s\"", err.data, msg);
	buf_release(&err);
}

static void test_find_refusals(void **state)
{
	find_fails("a: &x {tag: 1}\nb: *x\n", "b.tag", ERR_REJECTED, "b.tag: at b: path runs through an alias (*x)");
	find_fails("a:\n  tag: &t v1\n", "a.tag", ERR_REJECTED, "value is anchored (&t)");
	find_fails("a:\n  tag: |\n    v1\n", "a.tag", ERR_REJECTED, "block scalar");
	find_fails("a:\n  tag: !!int 1\n", "a.tag", ERR_REJECTED, "explicit tag (!!int)");
	find_fails("a:\n  tag: v\nb: [x\n", "a.tag", ERR_REJECTED, "does not parse: line 4, column 1");
	find_fails("d: &d {tag: 1}\na:\n  <<: *d\n", "a.tag", ERR_REJECTED,
		   "a.tag: key \"tag\" of a may come from the merge key (<<) at line 3");
	find_fails("<<: {x: 1}\ntag: 2\n", "*", ERR_REJECTED,
		   "'*' would list the keys of the top level");
	find_fails("d: &d {x: 1}\na:\n  <<: *d\n  tag: 2\n", "a.*", ERR_REJECTED,
		   "'*' would list the keys of a, which has a merge key (<<) at line 3");
}

static void test_find_merge_explicit(void **state)
{
	const char *in = "d: &d {image: {tag: old}}\napp:\n  <<: [*d]\n  image: {tag: new}\n";
	const char *path = "app.image.tag";
	struct yamledit_scalar *v = NULL;
	struct buf err = BUF_INIT, out = BUF_INIT;
	const char *val = "2.0";
	size_t n = 0;

	assert_int_equal(yamledit_find(&v, &n, in, strlen(in), &path, 1, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].value, "new");
	yamledit_scalars_free(v, n);
	assert_int_equal(yamledit_set(&out, NULL, in, strlen(in), &path, &val, 1, &err), 0);
	assert_string_equal(out.data, "d: &d {image: {tag: old}}\napp:\n  <<: [*d]\n  image: {tag: \"2.0\"}\n");
	buf_release(&out);
}

static void test_set(void **state)
{
	const char *paths[] = { "global.image.tag", "services.api.image.tag", "services.web.image.tag",
				"services.web.image.digest", "refs.0" };
	const char *values[] = { "1.10", "ghcr.io/acme/api:2", "2.0", "sha256:ab12", "ghcr.io/acme/api:2.0@sha256:ff" };
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;

	assert_int_equal(yamledit_set(&out, &st, chart, strlen(chart), paths, values, 5, &err), 0);
	assert_null(err.data);
	assert_string_equal(out.data,
			    "global:\n"
			    "  image:\n"
			    "    tag: '1.10'\n"
			    "services:\n"
			    "  api: {image: {tag: \"ghcr.io/acme/api:2\"}}\n"
			    "  web:\n"
			    "    image:\n"
			    "      tag: !!str 2.0   # pinned\n"
			    "      digest: \"sha256:ab12\"\n"
			    "refs:\n"
			    "  - ghcr.io/acme/api:2.0@sha256:ff\n");
	assert_int_equal(st.matched, 5);
	assert_int_equal(st.changed, 5);
	assert_int_equal(st.lines, 5);
	buf_release(&out);
}

static void test_set_quoting(void **state)
{
	const char *in = "a: x\nb: {c: x}\nd: x\ne: x\n";
	const char *paths[] = { "a", "b.c", "d", "e" };
	const char *values[] = { "1.10", "sha256:00", "ghcr.io/a/b:1", "@x" };
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(yamledit_set(&out, NULL, in, strlen(in), paths, values, 4, &err), 0);
	/* a number is quoted; a ':' in a flow plain scalar too (older readers
	 * end it there); an indicator cannot start a plain scalar */
	assert_string_equal(out.data, "a: \"1.10\"\nb: {c: \"sha256:00\"}\nd: ghcr.io/a/b:1\ne: \"@x\"\n");
	buf_release(&out);
}

static void set_fails(const char *in, const char *path, const char *value, int rc, const char *msg)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(yamledit_set(&out, NULL, in, strlen(in), &path, &value, 1, &err), rc);
	assert_null(out.data);
	assert_non_null(err.data);
	if (!strstr(err.data, msg))
		fail_msg("\"%s\" lacks \"%s\"", err.data, msg);
	buf_release(&err);
}

static void test_set_refusals(void **state)
{
	const char *two[] = { "a", "a" }, *vals[] = { "1", "2" };
	struct buf out = BUF_INIT, err = BUF_INIT;

	set_fails("a: 1\n", "b", "2", ERR_NOTFOUND, "b: no scalar at this path");
	set_fails("a: 1\n---\na: 1\n", "a", "2", ERR_REJECTED, "a: the path matches 2 scalars");
	set_fails("a: {b: 1}\n", "a.*", "2", ERR_INVALID, "a.*: a path to set must be concrete");
	set_fails("a: 1\n", "a", "x y", ERR_INVALID, "\"x y\" is not a tag, image reference or digest");
	set_fails("a: 1\n", "a", "", ERR_INVALID, "is not a tag");
	set_fails("a: 1\n", "a", "a\"b", ERR_INVALID, "is not a tag");
	set_fails("a: &x 1\n", "a", "2", ERR_REJECTED, "anchored");
	set_fails("a: 1\nb: [1\n", "a", "2", ERR_REJECTED, "does not parse");
	assert_int_equal(yamledit_set(&out, NULL, "a: 1\n", 5, two, vals, 2, &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "two paths set this scalar to different values"));
	buf_release(&err);
	assert_int_equal(yamledit_set(&out, NULL, "a: 1\n", 5, two, NULL, 1, &err), ERR_INVALID);
	buf_release(&err);
	assert_null(out.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_paths),
		cmocka_unit_test(test_lone_cr_is_not_a_line),
		cmocka_unit_test(test_same_scalar_two_paths),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_out_untouched_on_failure),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_path_valid),
		cmocka_unit_test(test_plain_quoting),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_unicode_line_breaks),
		cmocka_unit_test(test_failed_in_place_write),
		cmocka_unit_test(test_unreadable_path),
		cmocka_unit_test(test_cli_usage),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_two_paths_one_scalar),
		cmocka_unit_test(test_path_count_bounds),
		cmocka_unit_test(test_find_refusals),
		cmocka_unit_test(test_find_merge_explicit),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_quoting),
		cmocka_unit_test(test_set_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
