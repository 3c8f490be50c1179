/* ctl_freeze.c - pipelinectl freeze: stop the line now (issue 14 item 1).
 *
 * Writes one entry into the freeze file named by [repository] freezes, or
 * lifts one, as one commit on the tracked branch's tip that changes only
 * that file (freeze_add/freeze_lift: spliced, every other byte kept, parsed
 * again before the commit), authored by the user.  The commit goes through
 * the same transaction the daemon pushes promotions with (gitops_change:
 * fetch, edit re-applied on the fresh tip, push never forced), tried again
 * on a remote that moved meanwhile.  The daemon sees it on its next cycle
 * (a webhook or the next poll).  freeze --check validates a file locally. */
#include "clock_load.h"
#include "config.h"
#include "ctl.h"
#include "freeze.h"
#include "gitops.h"
#include "trailer.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FREEZE_PUSH_TRIES 5

static const char freeze_usage[] =
	"usage: pipelinectl freeze STAGE[,STAGE...]|all --reason TEXT [--until TIME] [--from TIME]\n"
	"                          [--allow-break-glass | --no-break-glass] [--id ID]\n"
	"                          [--key FILE] [--dry-run]\n"
	"       pipelinectl freeze --lift ID [--key FILE] [--dry-run]\n"
	"       pipelinectl freeze --check FILE\n"
	"TIME: RFC 3339 with a UTC offset (2026-12-16T14:30:00-05:00), or a duration from now (2h)\n";

struct freeze_args {
	const char *stages, *reason, *until, *from, *id, *lift, *check, *key;
	bool allow_bg, no_bg, dry_run;
	struct freeze_new n;
	char idbuf[FREEZE_ID_MAX + 1];
	char author[256], email[256], ident_source[64];
	const char *path;	/* [repository] freezes */
	struct tz_rule tz;
	bool have_tz;
	struct buf msg;
	char edit_err[FREEZE_ERR_MAX];
};


/* One error line; 2 is the exit status of bad input (ctl_fail). */
#define fail2(...) ctl_fail("freeze", __VA_ARGS__)

static int parse_args(struct freeze_args *a, int argc, char **argv)
{
	const struct ctl_arg args[] = {
		{ "--reason", &a->reason, NULL }, { "--until", &a->until, NULL },
		{ "--from", &a->from, NULL }, { "--id", &a->id, NULL },
		{ "--lift", &a->lift, NULL }, { "--check", &a->check, NULL },
		{ "--key", &a->key, NULL }, { "--allow-break-glass", NULL, &a->allow_bg },
		{ "--no-break-glass", NULL, &a->no_bg }, { "--dry-run", NULL, &a->dry_run },
		{ NULL, NULL, NULL },
	};

	if (ctl_parse_args("freeze", freeze_usage, args, &a->stages, 1, argc, argv))
		return 2;
	if (a->check)
		return a->stages || a->lift ? fail2("--check takes only a file") : 0;
	if (a->lift)
		return a->stages || a->reason || a->until || a->from || a->id || a->allow_bg ||
		       a->no_bg ? fail2("--lift takes only the id of the freeze to lift") : 0;
	if (!a->stages)
		return fputs(freeze_usage, stderr), 2;
	if (a->allow_bg && a->no_bg)
		return fail2("--allow-break-glass and --no-break-glass contradict each other");
	if (!a->reason || trailer_text_blank(a->reason))
		return fail2("--reason is required: say why the line stops");
	return 0;
}

/* RFC 3339, or a duration from now. */
static int time_arg(int64_t *out, const char *opt, const char *s, int64_t now)
{
	struct buf err = BUF_INIT;
	uint64_t ms;
	time_t t;
	int rc = 0;

	if (parse_duration_ms(&ms, s) == 0 && ms <= 366ULL * 86400 * 1000)
		*out = now + (int64_t)(ms / 1000);
	else if (clock_parse_rfc3339(&t, s, &err) == 0)
		*out = (int64_t)t;
	else
		rc = fail2("%s: %s, or a duration from now like 2h", opt,
			   err.data ? err.data : "not a time");
	buf_release(&err);
	return rc;
}

static int stages_arg(struct freeze_args *a)
{
	char list[64], *save = NULL;

	if (strcmp(a->stages, "all") == 0) {
		a->n.all = true;
		for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
			a->n.stages |= 1u << st;
		return 0;
	}
	if (strlen(a->stages) >= sizeof list)
		return fail2("'%s' is not a list of stages", a->stages);
	strlcpy_(list, a->stages, sizeof list);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum stage st;

		if (stage_parse(&st, t) < 0 || !stage_is_deploy(st))
			return fail2("'%s' is not a deploy stage (beta, paper, live, or all)", t);
		a->n.stages |= 1u << st;
	}
	return a->n.stages ? 0 : fail2("no stage given (beta, paper, live, or all)");
}

/* Everything that can be refused without the network. */
static int build_entry(struct freeze_args *a, const struct config *cfg)
{
	int64_t now = (int64_t)time(NULL);
	struct tm tm;
	char st[64];
	int32_t off = 0;
	int rc;

	if ((rc = stages_arg(a)))
		return rc;
	if (strlen(a->reason) > FREEZE_REASON_MAX)
		return fail2("--reason is longer than %d bytes", FREEZE_REASON_MAX);
	for (const unsigned char *p = (const unsigned char *)a->reason; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return fail2("--reason holds a control character; write it on one line");
	if (a->from && (rc = time_arg(&a->n.start, "--from", a->from, now)))
		return rc;
	if (a->until && (rc = time_arg(&a->n.end, "--until", a->until, now)))
		return rc;
	a->n.has_start = a->from != NULL;
	a->n.has_end = a->until != NULL;
	if (a->n.has_end && a->n.end <= (a->n.has_start ? a->n.start : now))
		return fail2("--until is not after %s", a->n.has_start ? "--from" : "now");
	if (!a->id) {
		/* <stages>-<UTC time>: readable, and unique for a second */
		freeze_stages_text(st, sizeof st, &(struct freeze_entry){ .stages = a->n.stages,
									  .all = a->n.all });
		for (char *p = st; *p; p++)
			*p = *p == ',' ? '-' : *p;
		gmtime_r(&(time_t){ (time_t)now }, &tm);
		char id[160];

		snprintf(id, sizeof id, "%s-%04d%02d%02d-%02d%02d%02d", st, tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		strlcpy_(a->idbuf, id, sizeof a->idbuf);
		for (char *p = a->idbuf, *q = a->idbuf; ; p++)
			if (*p != ' ' && !(*q++ = *p))
				break;
		a->id = a->idbuf;
	}
	if (!freeze_id_ok(a->id))
		return fail2("invalid --id '%s' (a-z, 0-9, '.', '_', '-', at most %d, starting "
			     "with a letter or digit)", a->id, FREEZE_ID_MAX);
	/* the file shows times in the market's zone */
	if (a->have_tz && tz_rule_localtime(&tm, &off, &a->tz,
					    (time_t)(a->n.has_end ? a->n.end : now)) == 0)
		a->n.offset = off;
	a->n.id = a->id;
	a->n.reason = a->reason;
	a->n.break_glass = a->allow_bg;
	(void)cfg;
	return 0;
}

static void when(char *out, size_t outsz, const struct freeze_args *a, bool has, int64_t t,
		 const char *dflt)
{
	if (has && a->have_tz)
		ctl_format_time(out, outsz, t, &a->tz);
	else if (has)
		clock_format_rfc3339(out, outsz, (time_t)t, 0, true);
	else
		snprintf(out, outsz, "%s", dflt);
}

static int message(struct freeze_args *a)
{
	char st[64], from[96], until[96];

	if (a->lift)
		return buf_printf(&a->msg, "freeze: lift %s\n\n%s <%s> lifted the freeze %s.\n\n"
				  "[skip ci]\n", a->lift, a->author, a->email, a->lift);
	freeze_stages_text(st, sizeof st, &(struct freeze_entry){ .stages = a->n.stages,
								  .all = a->n.all });
	when(from, sizeof from, a, a->n.has_start, a->n.start, "now");
	when(until, sizeof until, a, a->n.has_end, a->n.end, "it is lifted");
	return buf_printf(&a->msg, "freeze %s: %.60s\n\n%s <%s> froze %s (freeze %s) from %s "
			  "until %s: %s.  Break-Glass %s override it.\n\n[skip ci]\n", st,
			  a->reason, a->author, a->email, st, a->id, from, until, a->reason,
			  a->n.break_glass ? "may" : "may not");
}

/* The transaction's edit, on the fresh tip each attempt. */
static int edit_cb(struct buf *out, const char *path, const char *old, size_t oldlen,
		   void *data, struct buf *err)
{
	struct freeze_args *a = data;
	struct buf e = BUF_INIT;
	int rc;

	buf_init(&e, FREEZE_ERR_MAX);
	rc = a->lift ? freeze_lift(out, old, old ? oldlen : 0, path, a->lift, &e) :
	     freeze_add(out, old, old ? oldlen : 0, path, &a->n, &e);
	if (rc) {
		snprintf(a->edit_err, sizeof a->edit_err, "%s", e.data ? e.data : "cannot edit");
		buf_printf(err, "%s", a->edit_err);
	}
	buf_release(&e);
	return rc;
}

static void print_result(const struct freeze_args *a, const struct gitops_result *res,
			 bool json, const struct buf *doc)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b}",
				      "action", a->lift ? "lift" : "freeze", "id",
				      a->lift ? a->lift : a->id, "file", a->path, "author", a->author,
				      "commit", res && res->commit[0] ? json_string(res->commit) :
				      json_null(), "message", a->msg.data ? a->msg.data : "",
				      "pushed", !a->dry_run);

		if (o) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		json_decref(o);
		return;
	}
	if (a->dry_run) {
		printf("dry run: would commit to %s:\n\n%s\n%s", a->path, a->msg.data,
		       doc && doc->data ? doc->data : "");
		return;
	}
	printf("pushed %.7s: %s %s in %s\n"
	       "the daemon applies it on its next cycle (a webhook or the next poll); see "
	       "pipelinectl window\n", res->commit, a->lift ? "lifted" : "froze",
	       a->lift ? a->lift : a->id, a->path);
}

/* Dry run: the edit on the fetched tip, nothing pushed. */
static int dry_run(struct freeze_args *a, struct ctl_git *cg, bool json)
{
	struct buf old = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	int rc = gitops_read_file(&old, cg->g, cg->rev, a->path);

	buf_init(&out, FREEZE_FILE_MAX + 1);
	if (rc == 0 || rc == ERR_NOTFOUND)
		rc = edit_cb(&out, a->path, rc ? NULL : (old.data ? old.data : ""), old.len, a, &err);
	if (rc)
		fprintf(stderr, "pipelinectl freeze: %s\n", err.data ? err.data : gitops_error(cg->g));
	else
		print_result(a, NULL, json, &out);
	buf_release(&old);
	buf_release(&out);
	buf_release(&err);
	return rc ? 2 : 0;
}

static int commit_and_push(struct freeze_args *a, const struct config *cfg, bool json)
{
	struct gitops_person author = { .name = a->author, .email = a->email, .now = true };
	const char *paths[1] = { a->path };
	struct gitops_change chg = { 0 };
	struct gitops_result res;
	struct ctl_git cg;
	int rc = 2;

	if (message(a)) {
		fprintf(stderr, "pipelinectl freeze: the commit message is too long\n");
		return 2;
	}
	if (ctl_git_remote(&cg, cfg, a->author, a->email, a->key))
		goto out;
	if (a->dry_run) {
		rc = dry_run(a, &cg, json);
		goto out;
	}
	chg.paths = paths;
	chg.npaths = 1;
	chg.edit = edit_cb;
	chg.data = a;
	chg.message = a->msg.data;
	chg.author = &author;
	for (int i = 0; i < FREEZE_PUSH_TRIES; i++) {
		a->edit_err[0] = '\0';
		rc = gitops_change_sync(cg.g, &chg, &res);
		if (rc != GITOPS_ENONFF || i + 1 == FREEZE_PUSH_TRIES)
			break;
		/* someone pushed meanwhile: fetch and splice again */
		gitops_result_release(&res);
		usleep((useconds_t)(100000 * (i + 1) + rand() % 100000));
	}
	if (rc) {
		fprintf(stderr, "pipelinectl freeze: %s\n", a->edit_err[0] ? a->edit_err : res.error);
		rc = 2;
	} else {
		print_result(a, &res, json, NULL);
	}
	gitops_result_release(&res);
out:
	ctl_git_close(&cg);
	return rc;
}

static int check_file(const char *file)
{
	static struct freeze_set s;
	struct buf doc = BUF_INIT, err = BUF_INIT;
	FILE *f = fopen(file, "rb");
	char chunk[4096], st[64];
	size_t n;
	int rc;

	if (!f)
		return fail2("cannot open '%s'", file);
	buf_init(&doc, FREEZE_FILE_MAX + 1);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && buf_add(&doc, chunk, n) == 0)
		;
	fclose(f);
	buf_init(&err, FREEZE_ERR_MAX);
	rc = freeze_parse(&s, doc.data ? doc.data : "", doc.len, file, &err);
	if (rc)
		fputs(err.data ? err.data : "cannot parse\n", stderr);
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		freeze_stages_text(st, sizeof st, &s.e[i]);
		printf("%s: %s, %s\n", s.e[i].id, st, s.e[i].reason);
	}
	if (rc == 0)
		printf("%s: %zu freeze(s), OK\n", file, s.n);
	buf_release(&doc);
	buf_release(&err);
	return rc ? 1 : 0;
}

int cmd_freeze(int argc, char **argv, const struct ctl_opts *opts)
{
	struct freeze_args a;
	struct config *cfg = NULL;
	struct buf err = BUF_INIT;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	if (a.check)
		return check_file(a.check);
	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg)
		return fail2("no configuration file '%s' (use -c FILE)", opts->config);
	if (!(a.path = cfg->repository.freezes)) {
		rc = fail2("no freeze file: set 'freezes = <path in the repository>' in "
			   "[repository] of '%s' (e.g. freezes = values/freezes.yaml), and reload "
			   "the daemon", opts->config);
		goto out;
	}
	a.have_tz = clock_load_tz(&a.tz, NULL, cfg->market.timezone, &err) == 0;
	buf_release(&err);
	if (!a.lift && (rc = build_entry(&a, cfg)))
		goto out;
	if (ctl_user_identity(a.author, sizeof a.author, a.email, sizeof a.email,
			      a.ident_source, sizeof a.ident_source)) {
		rc = fail2("no git identity: set user.name and user.email (git config --global) "
			   "or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL");
		goto out;
	}
	if (gitops_global_init()) {
		rc = fail2("cannot initialise libgit2");
		goto out;
	}
	buf_init(&a.msg, 4096);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	rc = commit_and_push(&a, cfg, opts->json);
	buf_release(&a.msg);
	gitops_global_shutdown();
out:
	config_free(cfg);
	return rc;
}
