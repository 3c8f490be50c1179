/* ctl_log.c - pipelinectl log [--stage S] [-n N] [--repo DIR] [--json]: the
 * promotion history read from the trailers alone (history.h), of the
 * configured repository (ctl_git_configured: the daemon's mirror when it is
 * current, else a fetch) or of any local clone (--repo), so an auditor
 * needs neither the daemon nor its state.  The first line of text output
 * names the repository, branch and commit read.  A promotion that Argo CD
 * was seen to deploy shows when, from its note under
 * refs/notes/pipelined-deploy (engine_deploy.c). */
#include "clock_load.h"
#include "config.h"
#include "ctl.h"
#include "gitops.h"
#include "history_walk.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char log_usage[] =
	"usage: pipelinectl log [--stage STAGE] [-n N] [--repo DIR [REV]] [--json]\n";

struct log_args {
	const char *stage_name, *count, *repo, *rev;
	enum stage stage;	/* STAGE_COUNT: all */
	uint32_t n;		/* 0: all */
	bool json;
};

static int parse_args(struct log_args *a, int argc, char **argv)
{
	const struct ctl_arg args[] = {
		{ "--json", NULL, &a->json },
		{ "--stage", &a->stage_name, NULL },
		{ "-n", &a->count, NULL },
		{ "--repo", &a->repo, NULL },
		{ NULL, NULL, NULL },
	};

	if (ctl_parse_args("log", log_usage, args, &a->rev, 1, argc, argv))
		return 2;
	a->stage = STAGE_COUNT;
	if (a->stage_name && (stage_parse(&a->stage, a->stage_name) < 0 ||
			      !stage_is_deploy(a->stage))) {
		fprintf(stderr, "pipelinectl log: '%s' is not a deploy stage (beta, paper or live)\n",
			a->stage_name);
		return 2;
	}
	if (a->count && parse_u32(&a->n, a->count, 1, 1000000)) {
		fprintf(stderr, "pipelinectl log: -n wants a number from 1 to 1000000, not '%s'\n",
			a->count);
		return 2;
	}
	if (a->rev && !a->repo) {
		fprintf(stderr, "pipelinectl log: a revision needs --repo\n%s", log_usage);
		return 2;
	}
	return 0;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* The value of "Key: value" in a deploy note, or "". */
static void note_value(char *out, size_t outsz, const char *note, const char *key)
{
	size_t kl = strlen(key);
	const char *p = note;

	out[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > kl + 1 && strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
			snprintf(out, outsz, "%.*s", (int)(len - kl - 2), p + kl + 2);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

struct deployed {
	char when[64], app[256], rev[64];
};

/* The deploy notes, resolved once per run (ctl_deploy_notes); id is ""
 * when there are none.  (Resolving the ref per commit read packed-refs and
 * tried a dozen ref paths for every promotion: 60% of a log's time over
 * 30,000 promotions.) */
struct deploy_notes {
	struct gitops *g;
	char id[GITOPS_HEXSZ + 1];
};

/* The deploy note on commit.  False when there is none. */
static bool deployed_of(struct deployed *out, const struct deploy_notes *dn, const char *commit)
{
	struct buf note = BUF_INIT;
	bool found = dn->id[0] && gitops_note_read(&note, dn->g, dn->id, commit) == 0 && note.data;

	if (found) {
		note_value(out->when, sizeof out->when, note.data, "Deployed");
		note_value(out->app, sizeof out->app, note.data, "Argo-CD-Application");
		note_value(out->rev, sizeof out->rev, note.data, "Synced-Revision");
		found = out->when[0] != '\0';
	}
	buf_release(&note);
	return found;
}

static void print_text(const struct history_entry *e, const struct tz_rule *tz,
		       const struct deploy_notes *dn)
{
	char when[96];
	struct deployed d;

	ctl_format_time(when, sizeof when, e->time, tz);
	printf("%s  %-5s <- %-16s %.7s  by %s%s\n", when, stage_name(e->stage),
	       e->source < STAGE_COUNT ? stage_name(e->source) : "?", e->tag, or_dash(e->requested_by),
	       e->rollback ? "  [rollback]" : "");
	if (e->rollback)
		printf("    rollback from %.7s: %s%s\n", e->rolled_back_from[0] ? e->rolled_back_from :
		       "?", e->rollback, e->rollback_allowance ?
		       " (in the market window by " TRAILER_ALLOWANCE_MARKET ")" : "");
	printf("    commit %.12s  request %.12s  market: %s  integration-test: %s\n", e->commit,
	       e->request[0] ? e->request : "-", or_dash(e->market), or_dash(e->integration_test));
	if (e->break_glass)
		printf("    break-glass: %s\n", e->break_glass);
	if (e->overrode)
		printf("    overrode: %s\n", e->overrode);
	if (e->notes)
		printf("    notes: %s\n", e->notes);
	if (e->signed_by)
		printf("    signed-by: %s\n", e->signed_by);
	if (deployed_of(&d, dn, e->commit))
		printf("    deployed: %s (Argo CD Application %s synced %.12s)\n", d.when,
		       d.app[0] ? d.app : "?", d.rev[0] ? d.rev : "?");
}

static json_t *entry_json(const struct history_entry *e, const struct tz_rule *tz,
			  const struct deploy_notes *dn)
{
	char utc[40], local[40];
	struct tm tm;
	int32_t off = 0;
	struct deployed d;
	json_t *j;

	clock_format_rfc3339(utc, sizeof utc, (time_t)e->time, 0, true);
	if (tz_rule_localtime(&tm, &off, tz, (time_t)e->time))
		off = 0;
	clock_format_rfc3339(local, sizeof local, (time_t)e->time, off, false);
	j = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s%, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?,"
			 " s:s?, s:s, s:s, s:s}",
			 "time", utc, "time_local", local, "stage", stage_name(e->stage),
			 "source", e->source < STAGE_COUNT ? stage_name(e->source) : NULL,
			 "tag", e->tag, "tag_short", e->tag, (size_t)7,
			 "requested_by", e->requested_by, "request", e->request[0] ? e->request : NULL,
			 "break_glass", e->break_glass, "notes", e->notes, "market", e->market,
			 "integration_test", e->integration_test, "signed_by", e->signed_by,
			 "commit", e->commit, "committer", e->committer_name,
			 "committer_email", e->committer_email);
	if (j && e->overrode)
		json_object_set_new(j, "overrode", json_string(e->overrode));
	if (j)
		json_object_set_new(j, "rollback", !e->rollback ? json_null() :
				    json_pack("{s:s, s:s?, s:b}", "reason", e->rollback, "from",
					      e->rolled_back_from[0] ? e->rolled_back_from : NULL,
					      "allowance", e->rollback_allowance));
	if (j)
		json_object_set_new(j, "deployed", deployed_of(&d, dn, e->commit) ?
				    json_pack("{s:s, s:s, s:s}", "time", d.when, "application", d.app,
					      "revision", d.rev) : json_null());
	return j;
}

static int print_history(const struct history *h, const struct log_args *a,
			 const struct tz_rule *tz, const struct deploy_notes *dn)
{
	json_t *arr = a->json ? json_array() : NULL;
	size_t shown = 0;

	for (size_t i = 0; i < h->n && (!a->n || shown < a->n); i++) {
		const struct history_entry *e = &h->items[i];

		if (a->stage != STAGE_COUNT && e->stage != a->stage)
			continue;
		shown++;
		if (arr)
			json_array_append_new(arr, entry_json(e, tz, dn));
		else
			print_text(e, tz, dn);
	}
	if (arr) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(arr);
	} else if (shown == 0) {
		printf("no promotions%s%s\n", a->stage_name ? " into " : "",
		       a->stage_name ? a->stage_name : "");
	}
	if (h->truncated)
		fprintf(stderr, "pipelinectl log: only the newest %d commits were read\n",
			HISTORY_MAX_COMMITS);
	return 0;
}

/* Text is printed as the history is read (history_each): nothing kept,
 * and -n stops the walk once it has its entries. */
struct stream {
	const struct log_args *a;
	const struct tz_rule *tz;
	const struct deploy_notes *dn;
	size_t shown;
};

static int stream_cb(const struct history_entry *e, void *data)
{
	struct stream *s = data;

	if (s->a->stage != STAGE_COUNT && e->stage != s->a->stage)
		return 0;
	print_text(e, s->tz, s->dn);
	return ++s->shown == s->a->n ? 1 : 0;
}

static int stream_log(struct ctl_git *cg, const struct log_args *a, const struct tz_rule *tz,
		      struct buf *err)
{
	struct stream s = { .a = a, .tz = tz };
	struct deploy_notes dn;
	char ref[128], tip[GITOPS_HEXSZ + 1];
	bool truncated = false;

	if (gitops_resolve(tip, cg->g, a->rev ? a->rev : cg->rev)) {
		fprintf(stderr, "pipelinectl log: history: %s\n", gitops_error(cg->g));
		return 2;
	}
	ctl_git_describe(stdout, cg);
	dn.g = cg->g;
	ctl_deploy_notes(ref, sizeof ref, dn.id, cg->g);
	s.dn = &dn;
	if (history_each(cg->g, tip, NULL, stream_cb, &s, &truncated, err)) {
		fflush(stdout);
		fprintf(stderr, "pipelinectl log: %s\n", err->data ? err->data : "cannot read history");
		return 2;
	}
	if (s.shown == 0)
		printf("no promotions%s%s\n", a->stage_name ? " into " : "",
		       a->stage_name ? a->stage_name : "");
	if (truncated) {
		fflush(stdout);
		fprintf(stderr, "pipelinectl log: only the newest %d commits were read\n",
			HISTORY_MAX_COMMITS);
	}
	return 0;
}

static int run_log(const struct log_args *a, const struct config *cfg)
{
	struct ctl_git cg;
	struct deploy_notes dn;
	char ref[128];
	struct history h;
	struct tz_rule tz;
	struct buf err = BUF_INIT;
	int rc = 2;

	memset(&cg, 0, sizeof cg);
	if (clock_load_tz(&tz, NULL, cfg ? cfg->market.timezone : NULL, &err)) {
		fprintf(stderr, "pipelinectl log: %s\n", err.data ? err.data : "time zone");
		goto out;
	}
	if (a->repo ? ctl_git_local(&cg, a->repo) : ctl_git_configured(&cg, cfg, "pipelinectl log"))
		goto out;
	if (!a->json) {
		rc = stream_log(&cg, a, &tz, &err);
		goto out;
	}
	if (history_load(&h, cg.g, a->rev ? a->rev : cg.rev, NULL, &err)) {
		fprintf(stderr, "pipelinectl log: %s\n", err.data ? err.data : "cannot read history");
		goto out;
	}
	if (!a->json)
		ctl_git_describe(stdout, &cg);
	dn.g = cg.g;
	ctl_deploy_notes(ref, sizeof ref, dn.id, cg.g);
	rc = print_history(&h, a, &tz, &dn);
	history_release(&h);
out:
	ctl_git_close(&cg);
	buf_release(&err);
	return rc;
}

int cmd_log(int argc, char **argv, const struct ctl_opts *opts)
{
	struct log_args a = { .json = opts->json };
	struct config *cfg = NULL;
	int rc;

	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg && !a.repo) {
		fprintf(stderr, "pipelinectl log: no configuration file '%s': use -c FILE, or "
			"--repo DIR to read a local clone\n", opts->config);
		return 2;
	}
	if (gitops_global_init()) {
		fprintf(stderr, "pipelinectl log: cannot initialise libgit2\n");
		config_free(cfg);
		return 2;
	}
	/* git log reads objects without re-hashing each; the log is a view of
	 * the history, as git log is (audit keeps the check: it is the
	 * auditor's integrity check of what it judges) */
	gitops_verify_hashes(false);
	/* each commit is read once (gitops_walk_commits): no object cache */
	gitops_cache_objects(false);
	/* thousands of lines: written in large blocks */
	setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
	rc = run_log(&a, cfg);
	gitops_global_shutdown();
	config_free(cfg);
	return rc;
}
