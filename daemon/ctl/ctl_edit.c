/* ctl_edit.c - pipelinectl edit: show (or make) the exact bytes the daemon
 * would commit for a tag bump, with the same core: the configured mapping
 * of a stage (edit --stage S FILE, layout.h), or tag paths given on the
 * command line (edit FILE TAGPATH..., every matched scalar set, yamledit). */
#include "config.h"
#include "ctl.h"
#include "layout.h"
#include "sysio.h"
#include "yamledit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define EDIT_USAGE "usage: pipelinectl edit FILE TAGPATH... --tag TAG [-i] [-v]\n" \
		   "       pipelinectl [-c CONF] edit --stage STAGE FILE --tag TAG\n" \
		   "                   [--digest IMAGE=sha256:HEX]... [-i] [-v]\n"

struct edit_args {
	const char *file;
	const char *paths[YAMLEDIT_MAX_PATHS];
	size_t npaths;
	const char *tag;
	const char *stage;
	const char *digests[CONFIG_MAX_IMAGES];	/* IMAGE=DIGEST as given */
	size_t ndigests;
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
		else if (opts && strcmp(s, "--stage") == 0 && i + 1 < argc)
			a->stage = argv[++i];
		else if (opts && strncmp(s, "--stage=", 8) == 0)
			a->stage = s + 8;
		else if (opts && (strcmp(s, "--digest") == 0 || strncmp(s, "--digest=", 9) == 0)) {
			const char *v = s[8] == '=' ? s + 9 : i + 1 < argc ? argv[++i] : NULL;

			if (!v)
				return edit_usage("--digest needs IMAGE=sha256:HEX");
			if (a->ndigests == CONFIG_MAX_IMAGES)
				return edit_usage("too many --digest");
			a->digests[a->ndigests++] = v;
		}
		else if (opts && (strcmp(s, "-i") == 0 || strcmp(s, "--in-place") == 0))
			a->in_place = true;
		else if (opts && (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0))
			a->verbose = true;
		else if (opts && s[0] == '-' && s[1] != '\0')
			return edit_usage("unknown option or missing value");
		else if (add_positional(a, s))
			return edit_usage("too many tag paths");
	}
	if (a->stage && a->npaths)
		return edit_usage("--stage takes the tag paths from the configuration: give only FILE");
	if (!a->stage && a->ndigests)
		return edit_usage("--digest needs --stage");
	if (!a->file || (!a->stage && a->npaths == 0))
		return edit_usage("a file and at least one tag path (or --stage) are needed");
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

/* digests[i] for every configured image from the IMAGE=DIGEST options. */
static int stage_digests(const char **out, const struct edit_args *a, const struct layout_rules *r)
{
	for (size_t d = 0; d < a->ndigests; d++) {
		const char *eq = strchr(a->digests[d], '=');
		size_t i;

		for (i = 0; eq && i < r->nimages; i++)
			if (strlen(r->images[i]) == (size_t)(eq - a->digests[d]) &&
			    strncmp(r->images[i], a->digests[d], (size_t)(eq - a->digests[d])) == 0)
				break;
		if (!eq || i == r->nimages) {
			fprintf(stderr, "pipelinectl: edit: --digest '%s' does not name a configured "
				"image (IMAGE=sha256:HEX)\n", a->digests[d]);
			return 2;
		}
		out[i] = eq + 1;
	}
	for (size_t i = 0; r->digest && i < r->nimages; i++)
		if (!out[i]) {
			fprintf(stderr, "pipelinectl: edit: stage '%s' writes digests: --digest %s=... "
				"is missing\n", a->stage, r->images[i]);
			return 2;
		}
	return 0;
}

/* edit --stage: the configured mapping, the daemon's edit. */
static int edit_stage(struct buf *out, struct yamledit_stats *st, const struct edit_args *a,
		      const struct ctl_opts *opts, const struct buf *in, struct buf *err)
{
	struct config *cfg = NULL;
	struct layout_rules r;
	const char *digests[CONFIG_MAX_IMAGES] = { 0 };
	enum stage s;
	int rc = 2;

	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg) {
		fprintf(stderr, "pipelinectl: edit --stage needs the configuration (-c FILE)\n");
		return 2;
	}
	if (stage_parse(&s, a->stage) < 0 || !stage_is_deploy(s)) {
		fprintf(stderr, "pipelinectl: edit: '%s' is not a deploy stage (beta, paper or "
			"live)\n", a->stage);
		goto out;
	}
	layout_rules_from_config(&r, cfg, s);
	r.file = a->file;	/* messages name the file edited */
	if (stage_digests(digests, a, &r))
		goto out;
	if (layout_apply(out, st, &r, in->data ? in->data : "", in->len, a->tag,
			 r.digest ? digests : NULL, err)) {
		fprintf(stderr, "pipelinectl: %s\n", err->data ? err->data : "edit failed");
		goto out;
	}
	rc = 0;
out:
	config_free(cfg);
	return rc;
}

int cmd_edit(int argc, char **argv, const struct ctl_opts *opts)
{
	struct edit_args a = { 0 };
	struct buf in = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	struct yamledit_stats st = { 0 };
	int rc = parse_edit_args(&a, argc, argv);

	if (rc)
		return rc;
	if (read_input(&in, a.file)) {
		rc = 2;
		goto out;
	}
	if (a.stage) {
		if ((rc = edit_stage(&out, &st, &a, opts, &in, &err)))
			goto out;
	} else if (yamledit_apply(&out, &st, in.data, in.len, a.paths, a.npaths, a.tag, &err)) {
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
