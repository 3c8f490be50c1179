/* ctl_approve.c - pipelinectl approve: the second person of the two-person
 * rule (issue 14 item 3).  Adds one approval commit (approval.h, the
 * builder the dashboard's Approve button uses too) on top of a request
 * branch, signed with the user's SSH key, pushed as a fast-forward of the
 * branch.  It decides nothing: the daemon verifies the signature
 * against the stage's allowed signers and that the approver is not the
 * author on its next cycle. */
#include "approval.h"
#include "config.h"
#include "ctl.h"
#include "gitops.h"
#include "history_walk.h"
#include "policy.h"
#include "trailer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char approve_usage[] =
	"usage: pipelinectl approve <stage>/<name> | promote/<stage>/<name>\n"
	"                           [--signing-key FILE] [--key FILE] [--dry-run]\n";

struct approve_args {
	const char *target, *signing_key, *key;
	bool dry_run;
	enum stage stage;
	char branch[300];	/* promote/<stage>/<name> */
	char ref[320];		/* refs/heads/<branch> */
	char signing[1024];	/* the key file used */
	char author[256], email[256], ident_source[64];
	char tip[GITOPS_HEXSZ + 1], request[GITOPS_HEXSZ + 1];
	size_t napprovals;
};

static int parse_args(struct approve_args *a, int argc, char **argv)
{
	bool dry = false;
	const struct ctl_arg args[] = {
		{ "--signing-key", &a->signing_key, NULL },
		{ "--key", &a->key, NULL },
		{ "--dry-run", NULL, &dry },
		{ NULL, NULL, NULL },
	};
	const char *pos[1] = { NULL };
	struct buf err = BUF_INIT;
	int rc = ctl_parse_args("approve", approve_usage, args, pos, 1, argc, argv);

	if (rc)
		return rc;
	if (!pos[0]) {
		fputs(approve_usage, stderr);
		return 2;
	}
	a->dry_run = dry;
	a->target = pos[0];
	snprintf(a->branch, sizeof a->branch, "%s%s",
		 strncmp(pos[0], "promote/", 8) == 0 || strncmp(pos[0], "refs/heads/", 11) == 0 ?
		 "" : "promote/", pos[0] + (strncmp(pos[0], "refs/heads/", 11) ? 0 : 11));
	if (policy_parse_branch(&a->stage, a->branch, &err)) {
		fprintf(stderr, "pipelinectl approve: %s\n", err.data ? err.data : "bad branch");
		buf_release(&err);
		return 2;
	}
	buf_release(&err);
	snprintf(a->ref, sizeof a->ref, "refs/heads/%s", a->branch);
	return 0;
}

/* --signing-key, else git's user.signingkey (a file; "~/" is $HOME). */
static int signing_key(struct approve_args *a)
{
	char v[1024];
	const char *home = getenv("HOME");

	if (a->signing_key) {
		snprintf(a->signing, sizeof a->signing, "%s", a->signing_key);
		return 0;
	}
	if (ctl_user_config(v, sizeof v, "user.signingkey")) {
		fprintf(stderr, "pipelinectl approve: no SSH key to sign with: give --signing-key FILE "
			"or set git config --global user.signingkey FILE\n");
		return 2;
	}
	if (strncmp(v, "key::", 5) == 0 || strncmp(v, "ssh-", 4) == 0) {
		fprintf(stderr, "pipelinectl approve: user.signingkey holds a key, not a file; give "
			"the key file with --signing-key FILE\n");
		return 2;
	}
	if (strncmp(v, "~/", 2) == 0 && home && *home)
		snprintf(a->signing, sizeof a->signing, "%s/%s", home, v + 2);
	else
		snprintf(a->signing, sizeof a->signing, "%s", v);
	return 0;
}

static void print_result(const struct approve_args *a, const char *commit, bool json)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "branch", a->branch,
				      "request", a->request, "approval", commit, "author", a->author,
				      "email", a->email, "signing_key", a->signing,
				      "pushed", !a->dry_run);

		if (o) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		json_decref(o);
		return;
	}
	printf("%s request %.7s on %s (approval %.7s by %s <%s>, signed with %s)\n"
	       "the daemon verifies it on its next cycle; see pipelinectl status\n",
	       a->dry_run ? "dry run: would approve" : "approved", a->request, a->branch, commit,
	       a->author, a->email, a->signing);
}

static int make_approval(struct approve_args *a, const struct config *cfg, bool json)
{
	struct ctl_git cg;
	struct approval_made made;
	char remote_ref[400], err[1024];
	int rc = 2;

	if (ctl_git_remote(&cg, cfg, a->author, a->email, a->key))
		goto out;
	snprintf(remote_ref, sizeof remote_ref, GITOPS_TRACKING "heads/%s", a->branch);
	if (gitops_resolve(a->tip, cg.g, remote_ref)) {
		fprintf(stderr, "pipelinectl approve: there is no request branch '%s' on the "
			"remote\n", a->branch);
		goto out;
	}
	/* the one builder the dashboard uses too; the author is cg's identity */
	if (approval_build(&made, cg.g, &(struct approval_spec){
		.stage = a->stage, .branch = a->branch, .tip = a->tip, .email = a->email,
		.signing_key = a->signing }, err, sizeof err)) {
		fprintf(stderr, "pipelinectl approve: %s\n", err);
		goto out;
	}
	strlcpy_(a->request, made.request, sizeof a->request);
	a->napprovals = made.before;
	/* a fast-forward of the branch as fetched: a moved branch (a new
	 * request commit) is refused rather than approved unseen */
	if (ctl_git_push_commit(&cg, "approve", a->ref, made.commit, a->tip, a->dry_run))
		goto out;
	print_result(a, made.commit, json);
	rc = 0;
out:
	ctl_git_close(&cg);
	return rc;
}

int cmd_approve(int argc, char **argv, const struct ctl_opts *opts)
{
	struct approve_args a;
	struct config *cfg = NULL;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg) {
		fprintf(stderr, "pipelinectl approve: no configuration file '%s' (use -c FILE)\n",
			opts->config);
		return 2;
	}
	rc = 2;
	if (!cfg->stages[a.stage].approvals) {
		fprintf(stderr, "pipelinectl approve: stage '%s' takes no approvals (no 'approvals' "
			"in '%s'); its requests need none\n", stage_name(a.stage), opts->config);
		goto out;
	}
	if (ctl_user_identity(a.author, sizeof a.author, a.email, sizeof a.email,
			      a.ident_source, sizeof a.ident_source)) {
		fprintf(stderr, "pipelinectl approve: no git identity: set user.name and user.email "
			"(git config --global) or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL\n");
		goto out;
	}
	if ((rc = signing_key(&a)))
		goto out;
	if (gitops_global_init()) {
		fprintf(stderr, "pipelinectl approve: cannot initialise libgit2\n");
		rc = 2;
		goto out;
	}
	rc = make_approval(&a, cfg, opts->json);
	gitops_global_shutdown();
out:
	config_free(cfg);
	return rc;
}
