/* ctl_promote.c - pipelinectl promote: open a promotion request exactly as
 * a developer would by hand (SPEC 5): a branch promote/<stage>/<name> with
 * one commit on the tracked branch's tip that changes only that stage's tag
 * scalars, authored by the user, carrying at most Notes: and Break-Glass:.
 * It decides nothing: the daemon validates the request on its next cycle,
 * through the same gates as every other request.
 *
 * pipelinectl rollback (issue 14 item 4) is the same request with a
 * Rollback: reason, for a release the stage ran before: by default the one
 * history_rollback_target picks from the trailers of the tracked branch. */
#include "config.h"
#include "ctl.h"
#include "gitops.h"
#include "history_walk.h"
#include "layout.h"
#include "policy.h"
#include "request.h"
#include "tag.h"
#include "trailer.h"
#include "yamledit.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROMOTE_NAME_MAX 64

static const char promote_usage[] =
	"usage: pipelinectl promote <stage> <tag> [--notes TEXT] [--break-glass TEXT]\n"
	"                           [--name NAME] [--key FILE] [--dry-run]\n";

struct promote_args {
	const char *stage_name, *tag, *notes, *break_glass, *name, *key;
	const char *rollback;	/* pipelinectl rollback: the reason */
	bool dry_run;
	enum stage stage;
	char defname[PROMOTE_NAME_MAX + 1];	/* <sha7>-<unix time> when no --name */
	char branch[128];	/* promote/<stage>/<name> */
	char ref[160];		/* refs/heads/<branch> */
	char author[256], email[256], ident_source[64];
	char target[GITOPS_HEXSZ + 1];	/* rollback: the default release */
	char from[GITOPS_HEXSZ + 1];	/* rollback: what the stage runs now, or "" */
};


/* "promote" or "rollback": the command whose errors are printed. */
static const char *cmd_name = "promote";

/* One error line; 2 is the exit status of bad input (ctl_fail). */
#define fail2(...) ctl_fail(cmd_name, __VA_ARGS__)


static int parse_args(struct promote_args *a, int argc, char **argv)
{
	const char *pos[2];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		int r;

		if (strcmp(argv[i], "--dry-run") == 0) {
			a->dry_run = true;
			continue;
		}
		if ((r = ctl_opt_value(&a->notes, argc, argv, &i, "--notes")) ||
		    (r = ctl_opt_value(&a->break_glass, argc, argv, &i, "--break-glass")) ||
		    (r = ctl_opt_value(&a->name, argc, argv, &i, "--name")) ||
		    (r = ctl_opt_value(&a->key, argc, argv, &i, "--key"))) {
			if (r < 0)
				return fail2("'%s' needs a value", argv[i]);
			continue;
		}
		if (argv[i][0] == '-' || npos == 2) {
			fprintf(stderr, "pipelinectl promote: unexpected argument '%s'\n%s", argv[i],
				promote_usage);
			return 2;
		}
		pos[npos++] = argv[i];
	}
	if (npos != 2) {
		fputs(promote_usage, stderr);
		return 2;
	}
	a->stage_name = pos[0];
	a->tag = pos[1];
	return 0;
}

/* A branch name component people can type and git accepts everywhere. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PROMOTE_NAME_MAX || s[0] == '.' || s[0] == '-' || strstr(s, "..") ||
	    (n >= 5 && strcmp(s + n - 5, ".lock") == 0))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Everything that can be refused without the network. */
static int check_input(struct promote_args *a, const struct config *cfg, const char *cfgpath)
{
	struct buf err = BUF_INIT;
	int rc;

	if (stage_parse(&a->stage, a->stage_name) < 0 || !stage_is_deploy(a->stage))
		return fail2("'%s' is not a deploy stage (beta, paper or live)", a->stage_name);
	if (!cfg->stages[a->stage].enabled)
		return fail2("stage '%s' is disabled in '%s'", a->stage_name, cfgpath);
	if (a->rollback && trailer_text_blank(a->rollback))
		return fail2("--reason is empty (it has no visible text): say why %s goes back",
			     a->stage_name);
	if (a->rollback && strlen(a->rollback) > TRAILER_JUSTIFICATION_MAX)
		return fail2("--reason is longer than %d bytes", TRAILER_JUSTIFICATION_MAX);
	if (a->tag && !tag_is_sha1(a->tag, strlen(a->tag)))
		return fail2("'%s' is not a release id (the full 40-hex commit id, lowercase)",
			     a->tag);
	if (a->notes && trailer_text_blank(a->notes))
		return fail2("--notes is empty (it has no visible text)");
	if (a->notes && strlen(a->notes) > TRAILER_NOTES_MAX)
		return fail2("--notes is longer than %d bytes", TRAILER_NOTES_MAX);
	if (a->break_glass && trailer_text_blank(a->break_glass))
		return fail2("--break-glass needs a justification (it has no visible text)");
	if (a->break_glass && strlen(a->break_glass) > TRAILER_JUSTIFICATION_MAX)
		return fail2("--break-glass is longer than %d bytes", TRAILER_JUSTIFICATION_MAX);
	if (cfg->stages[a->stage].require_notes && !a->notes)
		return fail2("stage '%s' requires notes: add --notes TEXT", a->stage_name);
	if (cfg->stages[a->stage].digest)
		return fail2("stage '%s' pins image digests (digest = true) and pipelinectl "
			     "%s does not look digests up: commit the bump yourself with "
			     "'pipelinectl edit --stage %s --digest IMAGE=sha256:...' on a branch "
			     "promote/%s/<name>", a->stage_name, cmd_name, a->stage_name,
			     a->stage_name);
	if (cfg->stages[a->stage].require_signature)
		return fail2("stage '%s' accepts only signed requests, and pipelinectl does not sign: "
			     "commit the bump yourself with 'git commit -S' on a branch promote/%s/<name>",
			     a->stage_name, a->stage_name);
	if (!a->tag)
		return 0;	/* rollback: the rest once the target is known */
	if (!a->name) {
		snprintf(a->defname, sizeof a->defname, "%.7s-%lld", a->tag, (long long)time(NULL));
		a->name = a->defname;
	}
	if (!name_ok(a->name))
		return fail2("invalid --name '%s' (letters, digits, '.', '_', '-'; at most %d)",
			     a->name, PROMOTE_NAME_MAX);
	snprintf(a->branch, sizeof a->branch, "promote/%s/%s", a->stage_name, a->name);
	snprintf(a->ref, sizeof a->ref, "refs/heads/%s", a->branch);
	rc = policy_parse_branch(&a->stage, a->branch, &err);
	if (rc)
		fail2("invalid branch '%s': %s", a->branch, err.data ? err.data : "");
	buf_release(&err);
	return rc ? 2 : 0;
}

/* The stage's values file at tip with every image's tag set, through the
 * configured mapping (layout.h), exactly as the daemon would edit it. */
static void print_result(const struct promote_args *a, const char *commit, bool json,
			 const struct buf *msg)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
				      "branch", a->branch, "commit", commit, "stage", a->stage_name,
				      "tag", a->tag, "author", a->author, "email", a->email,
				      "identity_source", a->ident_source, "pushed", !a->dry_run);

		if (o && a->rollback) {
			json_object_set_new(o, "rollback", json_string(a->rollback));
			json_object_set_new(o, "rollback_from",
					    a->from[0] ? json_string(a->from) : json_null());
		}
		if (o) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		json_decref(o);
		return;
	}
	if (a->dry_run) {
		printf("dry run: would push %s (commit %.7s) by %s <%s>:\n\n%s\n", a->branch, commit,
		       a->author, a->email, msg->data);
		return;
	}
	if (a->rollback)
		printf("pushed %s (commit %.7s): roll %s back from %.7s to %.7s\n", a->branch,
		       commit, a->stage_name, a->from[0] ? a->from : "(unknown)", a->tag);
	else
		printf("pushed %s (commit %.7s): %s <- %s\n", a->branch, commit, a->stage_name,
		       a->tag);
	printf("author: %s <%s> (from %s)\n"
	       "the daemon validates it on its next cycle; see pipelinectl status\n",
	       a->author, a->email, a->ident_source);
}

/* Build the commit on the tracked branch's tip in cg (fetched) with the
 * one request builder the dashboard uses too, and push the branch (which
 * must not exist yet on the remote). */
static int build_request(struct promote_args *a, const struct config *cfg, struct ctl_git *cg,
			 bool json)
{
	const struct config_stage *st = &cfg->stages[a->stage];
	struct buf msg = BUF_INIT, err = BUF_INIT;
	struct layout_rules r;
	struct request_spec rs;
	char tip[GITOPS_HEXSZ + 1], commit[GITOPS_HEXSZ + 1];
	int rc = 2;

	if (trailer_format_request(&msg, a->stage_name, a->tag, a->notes, a->break_glass,
				   a->rollback)) {
		(void)fail2("cannot build a clean request message");
		goto out;
	}
	layout_rules_from_config(&r, cfg, a->stage);
	rs = (struct request_spec){ .branch = a->branch, .base = cg->rev,
				    .values_path = st->values_path, .rules = &r, .tag = a->tag,
				    .message = msg.data };
	if (request_commit_build(commit, tip, cg->g, &rs, &err)) {
		(void)fail2("%s", err.data ? err.data : "cannot build the request");
		goto out;
	}
	if (ctl_git_push_commit(cg, "promote", a->ref, commit, "", a->dry_run))
		goto out;
	print_result(a, commit, json, &msg);
	rc = 0;
out:
	buf_release(&msg);
	buf_release(&err);
	return rc;
}

/* The release a rollback goes to (--to, or the default from the trailers)
 * and the one it leaves, read in cg's fetched branch. */
static int rollback_target(struct promote_args *a, struct ctl_git *cg)
{
	struct history h;
	struct buf err = BUF_INIT;
	const struct history_entry *cur;
	int rc;

	if (history_load(&h, cg->g, cg->rev, NULL, &err)) {
		(void)fail2("%s", err.data ? err.data : "cannot read the promotion history");
		buf_release(&err);
		return 2;
	}
	buf_release(&err);
	if ((cur = history_latest(&h, a->stage)))
		strlcpy_(a->from, cur->tag, sizeof a->from);
	rc = a->tag ? 0 : history_rollback_target(a->target, &h, a->stage);
	if (rc == 0 && !a->tag)
		a->tag = a->target;
	history_release(&h);
	if (rc == ERR_NOTFOUND)
		return fail2("%s has not run an earlier release to go back to (see pipelinectl "
			     "log --stage %s)", a->stage_name, a->stage_name);
	return rc ? fail2("out of memory") : 0;
}

/* Fetch, then build and push the request. */
static int make_request(struct promote_args *a, const struct config *cfg, const char *cfgpath,
			bool json)
{
	struct ctl_git cg;
	int rc = 2;

	if (ctl_git_remote(&cg, cfg, a->author, a->email, a->key))
		goto out;
	if (a->rollback && (rc = rollback_target(a, &cg)))
		goto out;
	if (a->rollback && (rc = check_input(a, cfg, cfgpath)))
		goto out;
	rc = build_request(a, cfg, &cg, json);
out:
	ctl_git_close(&cg);
	return rc;
}

static int run(struct promote_args *a, const struct ctl_opts *opts)
{
	struct config *cfg = NULL;
	int rc;

	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg)
		return fail2("no configuration file '%s' (use -c FILE)", opts->config);
	if ((rc = check_input(a, cfg, opts->config)))
		goto out;
	if (ctl_user_identity(a->author, sizeof a->author, a->email, sizeof a->email,
			      a->ident_source, sizeof a->ident_source)) {
		rc = fail2("no git identity: set user.name and user.email (git config --global) "
			   "or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL");
		goto out;
	}
	if (gitops_global_init()) {
		rc = fail2("cannot initialise libgit2");
		goto out;
	}
	rc = make_request(a, cfg, opts->config, opts->json);
	gitops_global_shutdown();
out:
	config_free(cfg);
	return rc;
}

int cmd_promote(int argc, char **argv, const struct ctl_opts *opts)
{
	struct promote_args a;
	int rc;

	memset(&a, 0, sizeof a);
	cmd_name = "promote";
	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	return run(&a, opts);
}

/* ---- pipelinectl rollback (issue 14 item 4) ---- */

static const char rollback_usage[] =
	"usage: pipelinectl rollback <stage> [--to <release>] --reason TEXT [--notes TEXT]\n"
	"                            [--break-glass TEXT] [--name NAME] [--key FILE] [--dry-run]\n";

int cmd_rollback(int argc, char **argv, const struct ctl_opts *opts)
{
	struct promote_args a;
	const struct ctl_arg args[] = {
		{ "--to", &a.tag, NULL }, { "--reason", &a.rollback, NULL },
		{ "--notes", &a.notes, NULL }, { "--break-glass", &a.break_glass, NULL },
		{ "--name", &a.name, NULL }, { "--key", &a.key, NULL },
		{ "--dry-run", NULL, &a.dry_run }, { NULL, NULL, NULL },
	};
	const char *pos[1] = { NULL };
	int rc;

	memset(&a, 0, sizeof a);
	cmd_name = "rollback";
	if ((rc = ctl_parse_args("rollback", rollback_usage, args, pos, 1, argc, argv)))
		return rc;
	if (!pos[0] || !a.rollback) {
		fprintf(stderr, "pipelinectl rollback: %s\n%s", !pos[0] ? "which stage?" :
			"--reason is required: say why the stage goes back", rollback_usage);
		return 2;
	}
	a.stage_name = pos[0];
	return run(&a, opts);
}
