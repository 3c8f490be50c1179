/* ctl_check.c - pipelinectl check [--stage S] [--repo DIR] [--json]: read
 * the tracked branch of the configured repository (ctl_git_configured) and
 * show, per enabled deploy stage, exactly which scalars a promotion would
 * edit, resolved by the same layout module the daemon uses (layout.h):
 * file:line:column, the value there, its form, the image(s) it serves and
 * the rule that maps it; or why the stage cannot be handled (the
 * layout_resolve error).  Nothing is written.  Exit 0 when every stage
 * checked can be promoted, 1 when one cannot, 2 on an operational error.
 *
 * ctl_check_stages() is also what `pipelinectl init` prints under the file
 * it writes, so that both commands say the same thing about a layout. */
#include "config.h"
#include "ctl.h"
#include "gitops.h"
#include "layout.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char check_usage[] =
	"usage: pipelinectl check [--stage STAGE] [--repo DIR] [--json]\n";

/* One stage's outcome. */
struct stage_check {
	enum stage s;
	bool ok;
	struct buf error;	/* when !ok: one line */
	struct layout l;	/* when ok */
	struct layout_rules r;
};

/* "a, b, c" of the images a location serves. */
static void image_list(struct buf *out, const struct layout_rules *r, const struct layout_loc *loc)
{
	for (size_t i = 0; i < loc->nimages; i++)
		buf_printf(out, "%s%s", i ? ", " : "", r->images[loc->images[i]]);
}

static void resolve_stage(struct stage_check *c, struct gitops *g, const char *rev,
			  const struct config *cfg)
{
	const struct config_stage *st = &cfg->stages[c->s];
	struct buf doc = BUF_INIT;
	int rc;

	layout_rules_from_config(&c->r, cfg, c->s);
	rc = gitops_read_file(&doc, g, rev, st->values_path);
	if (rc == ERR_NOTFOUND) {
		buf_printf(&c->error, "%s: no such file in the commit read", st->values_path);
	} else if (rc) {
		buf_printf(&c->error, "%s: %s", st->values_path, gitops_error(g));
	} else if (layout_resolve(&c->l, &c->r, doc.data ? doc.data : "", doc.len,
				  &c->error) == 0) {
		c->ok = true;
	} else if (!c->error.len) {
		buf_printf(&c->error, "%s: cannot be resolved", st->values_path);
	}
	buf_release(&doc);
}

/* "  FILE:L:C  tag VALUE  -> IMAGES  (rule RULE)[  digest D at L:C]" */
static void print_loc(FILE *f, const char *pfx, const struct stage_check *c,
		      const struct layout_loc *loc)
{
	struct buf imgs = BUF_INIT;

	image_list(&imgs, &c->r, loc);
	fprintf(f, "%s  %s:%zu:%zu  %s %s  -> %s  (rule %s)", pfx, c->r.file, loc->line,
		loc->column, loc->form == LAYOUT_REF ? "reference" : "tag", loc->value,
		imgs.data ? imgs.data : "", loc->rule ? loc->rule : "?");
	if (loc->digest && loc->digest_path)
		fprintf(f, "  digest %s at %zu:%zu", loc->digest, loc->digest_line,
			loc->digest_column);
	else if (loc->digest)
		fprintf(f, "  digest %s", loc->digest);
	fputc('\n', f);
	buf_release(&imgs);
}

static void print_stage(FILE *f, const char *pfx, const struct stage_check *c,
			const struct config *cfg)
{
	const struct config_stage *st = &cfg->stages[c->s];
	struct buf tag = BUF_INIT, err = BUF_INIT;

	if (!c->ok) {
		const char *why = c->error.data;
		size_t n = strlen(st->values_path);

		/* layout's messages start with the file, which the line names */
		if (strncmp(why, st->values_path, n) == 0 && strncmp(why + n, ": ", 2) == 0)
			why += n + 2;
		fprintf(f, "%s%s: %s: cannot be promoted: %s\n", pfx, stage_name(c->s),
			st->values_path, why);
		return;
	}
	fprintf(f, "%s%s: %s: ok, %zu image%s at %zu location%s", pfx, stage_name(c->s),
		st->values_path, c->r.nimages, c->r.nimages == 1 ? "" : "s", c->l.n,
		c->l.n == 1 ? "" : "s");
	if (layout_current(&tag, &c->l, &err) == 0)
		fprintf(f, ", all at %s\n", tag.data);
	else
		fprintf(f, ", tags differ (%s)\n", err.data ? err.data : "");
	for (size_t i = 0; i < c->l.n; i++)
		print_loc(f, pfx, c, &c->l.locs[i]);
	for (size_t i = 0; i < c->l.nuntouched; i++)
		fprintf(f, "%s  untouched: %s (matched by a template; not a configured image)\n",
			pfx, c->l.untouched[i]);
	buf_release(&tag);
	buf_release(&err);
}

static json_t *loc_json(const struct stage_check *c, const struct layout_loc *loc)
{
	json_t *imgs = json_array();

	for (size_t i = 0; i < loc->nimages; i++)
		json_array_append_new(imgs, json_string(c->r.images[loc->images[i]]));
	return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s?, s:s?, s:o, s:s?}",
			 "path", loc->path, "line", (json_int_t)loc->line,
			 "column", (json_int_t)loc->column,
			 "form", loc->form == LAYOUT_REF ? "reference" : "tag",
			 "value", loc->value, "tag", loc->tag, "digest", loc->digest,
			 "digest_path", loc->digest_path, "images", imgs, "rule", loc->rule);
}

static json_t *stage_json(const struct stage_check *c, const struct config *cfg)
{
	json_t *locs = json_array(), *untouched = json_array();

	for (size_t i = 0; c->ok && i < c->l.n; i++)
		json_array_append_new(locs, loc_json(c, &c->l.locs[i]));
	for (size_t i = 0; c->ok && i < c->l.nuntouched; i++)
		json_array_append_new(untouched, json_string(c->l.untouched[i]));
	return json_pack("{s:s, s:s, s:b, s:s?, s:o, s:o}", "stage", stage_name(c->s),
			 "file", cfg->stages[c->s].values_path, "ok", c->ok,
			 "error", c->ok ? NULL : c->error.data, "locations", locs,
			 "untouched", untouched);
}

int ctl_check_stages(FILE *f, const char *pfx, struct gitops *g, const char *rev,
		     const struct config *cfg, int only, json_t **json)
{
	int failed = 0, checked = 0;
	json_t *arr = json ? json_array() : NULL;

	for (int s = 0; s < STAGE_COUNT; s++) {
		struct stage_check c;

		if (!stage_is_deploy((enum stage)s) || !cfg->stages[s].enabled ||
		    (only >= 0 && s != only))
			continue;
		memset(&c, 0, sizeof c);
		c.s = (enum stage)s;
		resolve_stage(&c, g, rev, cfg);
		checked++;
		failed += !c.ok;
		if (arr)
			json_array_append_new(arr, stage_json(&c, cfg));
		else
			print_stage(f, pfx, &c, cfg);
		if (c.ok)
			layout_release(&c.l);
		buf_release(&c.error);
	}
	if (arr)
		*json = arr;
	else if (checked == 0)
		fprintf(f, "%sno enabled deploy stage to check\n", pfx);
	else
		fprintf(f, "%scheck: %d of %d stage%s can be promoted%s\n", pfx, checked - failed,
			checked, checked == 1 ? "" : "s", failed ? "" : ": every image has exactly "
			"one tag location");
	return failed ? 1 : 0;
}

struct check_args {
	const char *stage_name, *repo;
	int only;
	bool json;
};

static int parse_args(struct check_args *a, int argc, char **argv)
{
	const struct ctl_arg args[] = {
		{ "--json", NULL, &a->json },
		{ "--stage", &a->stage_name, NULL },
		{ "--repo", &a->repo, NULL },
		{ NULL, NULL, NULL },
	};

	return ctl_parse_args("check", check_usage, args, NULL, 0, argc, argv);
}

static int stage_arg(struct check_args *a, const struct config *cfg)
{
	enum stage s;

	a->only = -1;
	if (!a->stage_name)
		return 0;
	if (stage_parse(&s, a->stage_name) < 0 || !stage_is_deploy(s)) {
		fprintf(stderr, "pipelinectl check: '%s' is not a deploy stage (beta, paper or "
			"live)\n", a->stage_name);
		return 2;
	}
	if (!cfg->stages[s].enabled) {
		fprintf(stderr, "pipelinectl check: stage '%s' is disabled in '%s'\n",
			a->stage_name, cfg->path);
		return 2;
	}
	a->only = (int)s;
	return 0;
}

static int run_check(const struct check_args *a, const struct config *cfg)
{
	struct ctl_git cg;
	json_t *stages = NULL, *o;
	int rc;

	if (a->repo ? ctl_git_local(&cg, a->repo) : ctl_git_configured(&cg, cfg, "pipelinectl check")) {
		ctl_git_close(&cg);
		return 2;
	}
	if (!a->json)
		ctl_git_describe(stdout, &cg);
	rc = ctl_check_stages(stdout, "", cg.g, cg.rev, cfg, a->only, a->json ? &stages : NULL);
	if (a->json) {
		o = json_pack("{s:o, s:b, s:o}", "repository", ctl_git_json(&cg), "ok", rc == 0,
			      "stages", stages);
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	}
	ctl_git_close(&cg);
	return rc;
}

int cmd_check(int argc, char **argv, const struct ctl_opts *opts)
{
	struct check_args a = { .json = opts->json, .only = -1 };
	struct config *cfg = NULL;
	int rc;

	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg) {
		fprintf(stderr, "pipelinectl check: no configuration file '%s' (use -c FILE)\n",
			opts->config);
		return 2;
	}
	if ((rc = stage_arg(&a, cfg)) == 0) {
		if (gitops_global_init()) {
			fprintf(stderr, "pipelinectl check: cannot initialise libgit2\n");
			rc = 2;
		} else {
			rc = run_check(&a, cfg);
			gitops_global_shutdown();
		}
	}
	config_free(cfg);
	return rc;
}
