/* trailer_fmt - test driver for tests/golden/trailer.sh.
 *
 *   trailer_fmt format --stage S --source S --tag SHA [--requested-by V]
 *               [--request SHA] [--notes-file F] [--break-glass-file F]
 *               --market V --inttest V [--signed-by V]
 *       prints the promotion commit message (trailer_format_promotion)
 *   trailer_fmt parse < message
 *       prints the trailers as pipelined reads them, "Key: value" per line
 *   trailer_fmt parse FILE...
 *       the same for each file, in one process (a sanitizer build spends
 *       far more starting and exiting than parsing): per file one record
 *       "STATUS\nTEXT\0", STATUS the exit status `parse < FILE` would have,
 *       TEXT what it would print (the trailers, or the error line)
 *
 * Exit 0 on success, 2 with the error on stderr otherwise.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stage.h"
#include "trailer.h"
#include "util.h"
#include "sysio.h"

#define INPUT_MAX (1u << 20)

struct opts {
	const char *stage, *source, *notes_file, *bg_file;
	struct trailer_promotion p;
};

static int read_file(struct buf *out, const char *path)
{
	buf_init(out, INPUT_MAX);
	if (file_read(out, path, INPUT_MAX) < 0) {
		fprintf(stderr, "trailer_fmt: cannot read '%s'\n", path);
		return -1;
	}
	if (!out->data && buf_adds(out, "") < 0)
		return -1;
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	const struct {
		const char *name;
		const char **slot;
	} table[] = {
		{ "--stage", &o->stage },
		{ "--source", &o->source },
		{ "--tag", &o->p.image_tag },
		{ "--requested-by", &o->p.requested_by },
		{ "--request", &o->p.request },
		{ "--notes-file", &o->notes_file },
		{ "--break-glass-file", &o->bg_file },
		{ "--market", &o->p.market },
		{ "--inttest", &o->p.integration_test },
		{ "--signed-by", &o->p.signed_by },
	};

	for (int i = 2; i < argc; i += 2) {
		size_t k = 0;

		while (k < ARRAY_SIZE(table) && strcmp(argv[i], table[k].name) != 0)
			k++;
		if (k == ARRAY_SIZE(table) || i + 1 >= argc) {
			fprintf(stderr, "trailer_fmt: bad argument '%s'\n", argv[i]);
			return -1;
		}
		*table[k].slot = argv[i + 1];
	}
	if (!o->stage || !o->source || stage_parse(&o->p.stage, o->stage) < 0 ||
	    stage_parse(&o->p.source, o->source) < 0) {
		fprintf(stderr, "trailer_fmt: --stage and --source need stage names\n");
		return -1;
	}
	return 0;
}

static int cmd_format(int argc, char **argv)
{
	struct opts o;
	struct buf notes = BUF_INIT, bg = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) < 0)
		return 2;
	if (o.notes_file && read_file(&notes, o.notes_file) < 0)
		goto out;
	if (o.bg_file && read_file(&bg, o.bg_file) < 0)
		goto out;
	o.p.notes = notes.data;
	o.p.break_glass = bg.data;
	rc = trailer_format_promotion(&out, &o.p, &err);
	if (rc < 0)
		fprintf(stderr, "trailer_fmt: %s\n", err.data ? err.data : "failed");
	else
		fwrite(out.data, 1, out.len, stdout);
out:
	buf_release(&notes);
	buf_release(&bg);
	buf_release(&out);
	buf_release(&err);
	return rc < 0 ? 2 : 0;
}

/* The trailers of the message in path as `parse` prints them to out, or its
 * error line to errout; 0 or 2, the exit status of `parse`.  Each message
 * gets its own buffer, so the sanitizers see an overrun as in one run. */
static int parse_one(const char *path, FILE *out, FILE *errout)
{
	struct buf in = BUF_INIT, err = BUF_INIT;
	struct trailer_list list;
	int rc;

	if (read_file(&in, path) < 0)
		return 2;
	rc = trailer_parse(&list, in.data, in.len, &err);
	if (rc < 0) {
		fprintf(errout, "trailer_fmt: %s\n", err.data ? err.data : "failed");
	} else {
		for (size_t i = 0; i < list.count; i++)
			fprintf(out, "%s: %s\n", list.items[i].key, list.items[i].value);
		trailer_list_release(&list);
	}
	buf_release(&in);
	buf_release(&err);
	return rc < 0 ? 2 : 0;
}

static int cmd_parse(int argc, char **argv)
{
	if (argc == 2)
		return parse_one("/dev/stdin", stdout, stderr);
	for (int i = 2; i < argc; i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		int rc;

		if (!f)
			return 2;
		rc = parse_one(argv[i], f, f);
		if (fclose(f) != 0)
			return 2;
		/* flushed, so a crash on the next file keeps this record */
		printf("%d\n%s%c", rc, text, '\0');
		free(text);
		if (fflush(stdout) != 0)
			return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	git_libgit2_init();
	if (argc >= 2 && strcmp(argv[1], "format") == 0)
		rc = cmd_format(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "parse") == 0)
		rc = cmd_parse(argc, argv);
	else
		fprintf(stderr, "usage: trailer_fmt format OPTIONS | trailer_fmt parse [FILE...] < MESSAGE\n");
	git_libgit2_shutdown();
	return rc;
}
