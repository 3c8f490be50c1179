/* ctl_edit.c - pipelinectl edit: show (or make) the exact bytes the daemon
 * would commit for a tag bump, with the same yamledit core. */
#include "ctl.h"
#include "util.h"
#include "yamledit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define EDIT_USAGE "usage: pipelinectl edit FILE TAGPATH... --tag TAG [-i] [-v]\n"

struct edit_args {
	const char *file;
	const char *paths[YAMLEDIT_MAX_PATHS];
	size_t npaths;
	const char *tag;
	bool in_place;
	bool verbose;
};

static int edit_usage(const char *why)
{
	fprintf(stderr, "pipelinectl: edit: %s\n" EDIT_USAGE, why);
	return 2;
}

static int add_positional(struct edit_args *a, const char *arg)
{
	if (!a->file) {
		a->file = arg;
		return 0;
	}
	if (a->npaths == YAMLEDIT_MAX_PATHS)
		return -1;
	a->paths[a->npaths++] = arg;
	return 0;
}

static int parse_edit_args(struct edit_args *a, int argc, char **argv)
{
	bool opts = true;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (opts && strcmp(s, "--") == 0)
			opts = false;
		else if (opts && strcmp(s, "--tag") == 0 && i + 1 < argc)
			a->tag = argv[++i];
		else if (opts && strncmp(s, "--tag=", 6) == 0)
			a->tag = s + 6;
		else if (opts && (strcmp(s, "-i") == 0 || strcmp(s, "--in-place") == 0))
			a->in_place = true;
		else if (opts && (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0))
			a->verbose = true;
		else if (opts && s[0] == '-' && s[1] != '\0')
			return edit_usage("unknown option or missing value");
		else if (add_positional(a, s))
			return edit_usage("too many tag paths");
	}
	if (!a->file || a->npaths == 0)
		return edit_usage("a file and at least one tag path are needed");
	if (!a->tag)
		return edit_usage("--tag is required");
	return 0;
}

static int read_input(struct buf *in, const char *file)
{
	int rc;

	errno = 0;
	rc = file_read(in, file, YAMLEDIT_MAX_INPUT);

	if (rc == ERR_TOOBIG)
		fprintf(stderr, "pipelinectl: %s: larger than %u bytes\n", file, YAMLEDIT_MAX_INPUT);
	else if (rc == ERR_NOTFOUND)
		fprintf(stderr, "pipelinectl: %s: no such file\n", file);
	else if (rc) {
		char why[160];

		file_error(why, sizeof(why), file, rc, YAMLEDIT_MAX_INPUT);
		fprintf(stderr, "pipelinectl: %s: cannot read the file: %s\n", file, why);
	}
	return rc;
}

static int write_result(const struct edit_args *a, const struct buf *out,
			const struct yamledit_stats *st)
{
	if (!a->in_place) {
		if (fwrite(out->data, 1, out->len, stdout) != out->len || fflush(stdout)) {
			fprintf(stderr, "pipelinectl: %s: cannot write to standard output\n", a->file);
			return 2;
		}
		return 0;
	}
	/* An unchanged document is not rewritten: nothing to commit. */
	if (st->changed && file_write_atomic(a->file, out->data, out->len, 0644)) {
		fprintf(stderr, "pipelinectl: %s: cannot replace the file; it is unchanged\n",
			a->file);
		return 2;
	}
	return 0;
}

int cmd_edit(int argc, char **argv, const struct ctl_opts *opts)
{
	struct edit_args a = { 0 };
	struct buf in = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st;
	int rc = parse_edit_args(&a, argc, argv);

	if (rc)
		return rc;
	if (read_input(&in, a.file)) {
		rc = 2;
		goto out;
	}
	if (yamledit_apply(&out, &st, in.data, in.len, a.paths, a.npaths, a.tag, &err)) {
		fprintf(stderr, "pipelinectl: %s: %s\n", a.file, err.data ? err.data : "edit failed");
		rc = 2;
		goto out;
	}
	rc = write_result(&a, &out, &st);
	if (!rc && a.verbose)
		fprintf(stderr, "pipelinectl: %s: %zu matched, %zu changed, %zu lines\n", a.file,
			st.matched, st.changed, st.lines);
out:
	buf_release(&in);
	buf_release(&out);
	buf_release(&err);
	return rc;
}
