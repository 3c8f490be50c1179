/* bench_yamledit: YAML edit throughput and diff size on a values file,
 * next to two floors: a bare libyaml parse (yamledit parses three times:
 * find, verify original, verify result) and a parse + emit round trip, which
 * is what re-serialising the document would cost (and what it would break:
 * the round trip's output is compared with the input too).
 *   bench_yamledit FILE [TAGPATH] [SECONDS]   (default services.*.image.tag, 1) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"
#include "yamledit.h"
#include "sysio.h"

typedef int bench_fn(const struct buf *in, const char *path, const char *tag, struct buf *out);

static int run_edit(const struct buf *in, const char *path, const char *tag, struct buf *out)
{
	struct buf err = BUF_INIT;
	int rc = yamledit_apply(out, NULL, in->data, in->len, &path, 1, tag, &err);

	if (rc)
		fprintf(stderr, "bench_yamledit: %s\n", err.data);
	buf_release(&err);
	return rc;
}

static int run_parse(const struct buf *in, const char *path, const char *tag, struct buf *out)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int done = 0, rc = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)in->data, in->len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

static int write_cb(void *data, unsigned char *bytes, size_t size)
{
	return buf_add(data, bytes, size) == 0;
}

static int run_roundtrip(const struct buf *in, const char *path, const char *tag, struct buf *out)
{
	yaml_parser_t p;
	yaml_emitter_t e;
	yaml_event_t ev;
	int done = 0, rc = 0;

	buf_init(out, 0);
	yaml_parser_initialize(&p);
	yaml_emitter_initialize(&e);
	yaml_parser_set_input_string(&p, (const unsigned char *)in->data, in->len);
	yaml_emitter_set_output(&e, write_cb, out);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (!yaml_emitter_emit(&e, &ev))	/* takes ownership of ev */
			rc = -1;
	}
	yaml_emitter_delete(&e);
	yaml_parser_delete(&p);
	return rc;
}

static size_t lines_differing(const struct buf *a, const struct buf *b)
{
	size_t n = 0, i = 0, j = 0;

	while (i < a->len || j < b->len) {
		const char *ea = memchr(a->data + i, '\n', a->len - i);
		const char *eb = memchr(b->data + j, '\n', b->len - j);
		size_t la = ea ? (size_t)(ea - a->data - i) : a->len - i;
		size_t lb = eb ? (size_t)(eb - b->data - j) : b->len - j;

		n += la != lb || memcmp(a->data + i, b->data + j, la < lb ? la : lb) != 0;
		i += la + (ea != NULL);
		j += lb + (eb != NULL);
		if (!ea || !eb) {
			n += !ea != !eb;
			break;
		}
	}
	return n;
}

static void measure(const char *name, bench_fn *fn, const struct buf *in, const char *path,
		    double seconds)
{
	static const char *const tags[] = { "8b1e4c07d2f9a3e56c1b7d08f4a2e9c35b6d1f70",
					    "3f9c2a7d41e8b05c6a9d2e7f10b4c8a95d6e2f31" };
	uint64_t t0 = mono_ms(), t1;
	unsigned long n = 0;
	struct buf out = BUF_INIT;

	do {
		buf_release(&out);
		if (fn(in, path, tags[n & 1], &out)) {
			fprintf(stderr, "bench_yamledit: %s failed\n", name);
			exit(1);
		}
		n++;
		t1 = mono_ms();
	} while ((double)(t1 - t0) < seconds * 1000.0);
	printf("%-26s %10.0f /s  %8.1f us each", name, (double)n * 1000.0 / (double)(t1 - t0),
	       (double)(t1 - t0) * 1000.0 / (double)n);
	if (out.data)
		printf("  output %zu bytes, %zu lines differ from the input", out.len,
		       lines_differing(in, &out));
	printf("\n");
	buf_release(&out);
}

int main(int argc, char **argv)
{
	struct buf in;
	const char *path = argc > 2 ? argv[2] : "services.*.image.tag";
	double seconds = 1.0;

	if (argc < 2 || file_read(&in, argv[1], YAMLEDIT_MAX_INPUT)) {
		fprintf(stderr, "usage: bench_yamledit FILE [TAGPATH] [SECONDS]\n");
		return 2;
	}
	if (argc > 3)
		seconds = strtod(argv[3], NULL);
	if (!(seconds > 0.0 && seconds <= 60.0))
		seconds = 1.0;
	printf("%s: %zu bytes, tag path %s\n", argv[1], in.len, path);
	measure("yamledit_apply", run_edit, &in, path, seconds);
	measure("libyaml parse only", run_parse, &in, path, seconds);
	measure("libyaml parse+emit", run_roundtrip, &in, path, seconds);
	buf_release(&in);
	return 0;
}
