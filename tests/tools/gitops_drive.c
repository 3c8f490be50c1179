/* gitops_drive - drives the git layer (gitops.h) for the e2e tests.
 *
 *   gitops_drive [--url U] [--branch B] [--key K] [--known-hosts F]
 *                [--mirror DIR] [--worker W] [--deadline-ms N]
 *                [--attempts N] [--backoff-ms N] [--gate-refuse FILE]
 *                [--gate-exec PROG] [--tick-ms N] CMD ARGS...
 *
 *   fetch | ls-remote
 *   read REV PATH
 *   edit PATH LINE MESSAGE          append LINE to PATH unless present
 *   rounds N PATH PREFIX            N edits "PREFIX i" one after the other
 *   merge REQ PATH LINE MESSAGE [DELETE_REF]
 *   note TARGET TEXT                TARGET "" = the branch tip
 *   first-parents REV STOP|- MAX | merge-base A B | is-ancestor A B
 *   note-read NOTES_REV TARGET
 *   push SRC DST EXPECT|-           push a local ref (EXPECT "" = new ref)
 *   ref-set REF REV                 point a local ref of the mirror at REV
 *
 * --gate-exec runs PROG (no shell) inside the gate, i.e. after our fetch
 * and before our push, with GITOPS_ROUND set by `rounds`: the e2e race
 * test makes another writer push there.
 * With --tick-ms the operation runs on a loop with a repeating timer and
 * the tool prints "ticks N maxgap_ms M elapsed_ms E": the loop must never
 * be blocked by git work.  Prints "error rc=N: message" and exits 1 on
 * failure.
 */
#include "gitops.h"
#include "util.h"
#include "sysio.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct drive {
	struct gitops_opts o;
	const char *gate_file;
	uint32_t tick_ms;
	struct gitops *g;
	/* tick mode */
	uv_timer_t tick;
	uint64_t last_tick, max_gap;
	unsigned ticks;
	int rc;
	bool done;
};

static int die_usage(void)
{
	fprintf(stderr, "usage: gitops_drive [options] CMD ARGS... (see the source)\n");
	return 2;
}

static int report(const struct gitops_result *r)
{
	if (r->remote.len)
		fputs(r->remote.data, stdout);
	if (r->attempts)
		printf("attempts %u\n", r->attempts);
	if (r->commit[0])
		printf("commit %s\n", r->commit);
	if (r->unchanged)
		printf("unchanged\n");
	if (r->already_merged)
		printf("already-merged\n");
	for (size_t i = 0; i < r->nrefs; i++)
		printf("%s %s\n", r->refs[i].id, r->refs[i].name);
	printf("elapsed_ms %llu\n", (unsigned long long)r->elapsed_ms);
	if (r->rc) {
		printf("error rc=%d: %s\n", r->rc, r->error);
		return 1;
	}
	return 0;
}

/* The edit: append a line unless it is already there (idempotent, so a
 * retried round can never add it twice). */
static int append_line_cb(struct buf *out, const char *path, const char *old, size_t oldlen,
			  void *data, struct buf *err)
{
	const char *line = data;
	size_t ll = strlen(line);
	const char *p = old;

	(void)path;
	(void)err;
	for (; p && p < old + oldlen; p = memchr(p, '\n', (size_t)(old + oldlen - p)), p = p ? p + 1 : NULL)
		if ((size_t)(old + oldlen - p) >= ll && !memcmp(p, line, ll) &&
		    (p + ll == old + oldlen || p[ll] == '\n'))
			return buf_add(out, old, oldlen);
	if (old && buf_add(out, old, oldlen))
		return ERR_TOOBIG;
	if (oldlen && old[oldlen - 1] != '\n' && buf_addch(out, '\n'))
		return ERR_TOOBIG;
	return buf_printf(out, "%s\n", line);
}

static const char *gate_file, *gate_exec;

static int gate_cb(void *data, struct buf *err)
{
	pid_t pid;
	int st;

	(void)data;
	if (gate_exec) {
		char *argv[] = { (char *)gate_exec, NULL };
		if (posix_spawn(&pid, gate_exec, NULL, NULL, argv, environ) ||
		    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			buf_printf(err, "gate program '%s' failed", gate_exec);
			return ERR_FAIL;
		}
	}
	if (gate_file && access(gate_file, F_OK) == 0) {
		buf_printf(err, "gate file '%s' exists", gate_file);
		return ERR_REJECTED;
	}
	return 0;
}

static int cmd_edit(struct drive *d, const char *path, const char *line, const char *msg)
{
	const char *paths[] = { path };
	struct gitops_change c;
	struct gitops_result r;

	memset(&c, 0, sizeof c);
	c.paths = paths;
	c.npaths = 1;
	c.edit = append_line_cb;
	c.gate = gate_cb;
	c.data = (void *)line;
	c.message = msg;
	gitops_change_sync(d->g, &c, &r);
	int rc = report(&r);
	gitops_result_release(&r);
	return rc;
}

static int cmd_rounds(struct drive *d, const char *n_s, const char *path, const char *prefix)
{
	uint32_t n, i, attempts = 0;
	char line[256], msg[300];
	const char *paths[] = { path };
	struct gitops_change c;
	struct gitops_result r;

	if (parse_u32(&n, n_s, 1, 10000))
		return die_usage();
	for (i = 1; i <= n; i++) {
		snprintf(line, sizeof line, "%u", i);
		setenv("GITOPS_ROUND", line, 1);	/* for --gate-exec programs */
		snprintf(line, sizeof line, "%s %u", prefix, i);
		snprintf(msg, sizeof msg, "%s\n", line);
		memset(&c, 0, sizeof c);
		c.paths = paths;
		c.npaths = 1;
		c.edit = append_line_cb;
		c.data = line;
		c.message = msg;
		c.gate = gate_cb;
		if (gitops_change_sync(d->g, &c, &r)) {
			printf("round %u: ", i);
			report(&r);
			gitops_result_release(&r);
			return 1;
		}
		attempts += r.attempts;
		printf("round %u commit %s attempts %u\n", i, r.commit, r.attempts);
		gitops_result_release(&r);
	}
	printf("total-attempts %u\n", attempts);
	return 0;
}

static int cmd_merge(struct drive *d, int argc, char **argv)
{
	const char *paths[] = { argv[1] };
	struct gitops_commit_info ci;
	struct gitops_person author;
	struct gitops_change c;
	struct gitops_result r;
	char req[GITOPS_HEXSZ + 1];
	int rc;

	if (gitops_resolve(req, d->g, argv[0]) || gitops_commit_info(&ci, d->g, req)) {
		printf("error rc=-4: %s\n", gitops_error(d->g));
		return 1;
	}
	author = (struct gitops_person){ ci.author_name, ci.author_email, ci.author_time,
					 ci.author_offset_min, false };
	memset(&c, 0, sizeof c);
	c.paths = paths;
	c.npaths = 1;
	c.edit = append_line_cb;
	c.gate = gate_cb;
	c.data = argv[2];
	c.message = argv[3];
	c.author = &author;
	c.merge = req;
	c.delete_ref = argc > 4 ? argv[4] : NULL;
	gitops_change_sync(d->g, &c, &r);
	rc = report(&r);
	gitops_result_release(&r);
	gitops_commit_info_release(&ci);
	return rc;
}

static int cmd_note(struct drive *d, const char *target, const char *text)
{
	struct gitops_change c;
	struct gitops_result r;
	char id[GITOPS_HEXSZ + 1] = "";
	int rc;

	if (*target && gitops_resolve(id, d->g, target)) {
		printf("error rc=-4: %s\n", gitops_error(d->g));
		return 1;
	}
	memset(&c, 0, sizeof c);
	c.note_target = id;
	c.note_text = text;
	if (!*target) {
		/* "" = annotate the tip: fetch first so there is one */
		struct gitops_result f;
		if (gitops_fetch_sync(d->g, &f)) {
			rc = report(&f);
			gitops_result_release(&f);
			return rc;
		}
		gitops_result_release(&f);
		if (gitops_resolve(id, d->g, gitops_tracking_branch(d->g)))
			return printf("error: %s\n", gitops_error(d->g)), 1;
	}
	gitops_change_sync(d->g, &c, &r);
	rc = report(&r);
	gitops_result_release(&r);
	return rc;
}

static int cmd_local(struct drive *d, const char *cmd, int argc, char **argv)
{
	char (*ids)[GITOPS_HEXSZ + 1] = NULL, id[GITOPS_HEXSZ + 1];
	struct buf b = BUF_INIT;
	uint32_t max;
	size_t n = 0, i;
	int rc = ERR_INVALID;

	if (!strcmp(cmd, "read") && argc == 2) {
		if ((rc = gitops_read_file(&b, d->g, argv[0], argv[1])) == 0)
			fwrite(b.data ? b.data : "", 1, b.len, stdout);
	} else if (!strcmp(cmd, "note-read") && argc == 2) {
		if ((rc = gitops_note_read(&b, d->g, argv[0], argv[1])) == 0)
			fwrite(b.data ? b.data : "", 1, b.len, stdout);
	} else if (!strcmp(cmd, "first-parents") && argc == 3 && !parse_u32(&max, argv[2], 0, 100000)) {
		rc = gitops_first_parents(&ids, &n, d->g, argv[0], strcmp(argv[1], "-") ? argv[1] : NULL, max);
		for (i = 0; ids && i < n; i++)
			printf("%s\n", ids[i]);
		free(ids);
	} else if (!strcmp(cmd, "merge-base") && argc == 2) {
		if ((rc = gitops_merge_base(id, d->g, argv[0], argv[1])) == 0)
			printf("%s\n", id);
	} else if (!strcmp(cmd, "ref-set") && argc == 2) {
		rc = gitops_ref_set(d->g, argv[0], argv[1]);
	} else if (!strcmp(cmd, "is-ancestor") && argc == 2) {
		rc = gitops_is_ancestor(d->g, argv[0], argv[1]);
		if (rc >= 0)
			printf("%s\n", rc ? "yes" : "no"), rc = 0;
	} else {
		return die_usage();
	}
	buf_release(&b);
	if (rc) {
		printf("error rc=%d: %s\n", rc, gitops_error(d->g));
		return 1;
	}
	return 0;
}

/* ---- tick mode: the caller's loop keeps running during git work ---- */

static void tick_cb(uv_timer_t *t)
{
	struct drive *d = t->data;
	uint64_t now = mono_ms();

	if (d->last_tick && now - d->last_tick > d->max_gap)
		d->max_gap = now - d->last_tick;
	d->last_tick = now;
	d->ticks++;
}

static void tick_done_cb(struct gitops *g, struct gitops_result *res, void *data)
{
	struct drive *d = data;

	d->rc = report(res);
	gitops_session_close(g);	/* an ls-remote session would keep the loop */
	uv_timer_stop(&d->tick);
	uv_close((uv_handle_t *)&d->tick, NULL);
}

/* read REV PATH through gitops_queue: local object work off the loop */
struct qread {
	struct drive *d;
	const char *rev, *path;
	struct buf out;
};

static int qread_fn(struct gitops *g, void *data)
{
	struct qread *q = data;

	return gitops_read_file(&q->out, g, q->rev, q->path);
}

static void qread_done_cb(struct gitops *g, int rc, void *data)
{
	struct qread *q = data;

	if (rc)
		printf("error rc=%d: %s\n", rc, gitops_error(g));
	else
		fwrite(q->out.data ? q->out.data : "", 1, q->out.len, stdout);
	q->d->rc = rc ? 1 : 0;
	buf_release(&q->out);
	uv_timer_stop(&q->d->tick);
	uv_close((uv_handle_t *)&q->d->tick, NULL);
}

static int cmd_tick(struct drive *d, int argc, char **argv)
{
	struct qread q = { d, NULL, NULL, BUF_INIT };
	uv_loop_t loop;
	const char *paths[1];
	struct gitops_change c;
	int rc;

	uv_loop_init(&loop);
	uv_timer_init(&loop, &d->tick);
	d->tick.data = d;
	d->last_tick = mono_ms();
	uv_timer_start(&d->tick, tick_cb, d->tick_ms, d->tick_ms);
	if (!strcmp(argv[0], "fetch")) {
		rc = gitops_fetch_start(d->g, &loop, tick_done_cb, d);
	} else if (!strcmp(argv[0], "ls-remote")) {
		rc = gitops_ls_remote_start(d->g, &loop, tick_done_cb, d);
	} else if (!strcmp(argv[0], "read") && argc == 3) {
		q.rev = argv[1];
		q.path = argv[2];
		rc = gitops_queue(d->g, &loop, qread_fn, qread_done_cb, &q);
	} else if (!strcmp(argv[0], "push") && argc == 4) {
		rc = gitops_push_start(d->g, &loop, argv[1], argv[2],
				       strcmp(argv[3], "-") ? argv[3] : NULL, tick_done_cb, d);
	} else if (!strcmp(argv[0], "edit") && argc == 4) {
		paths[0] = argv[1];
		memset(&c, 0, sizeof c);
		c.paths = paths;
		c.npaths = 1;
		c.edit = append_line_cb;
		c.data = argv[2];
		c.message = argv[3];
		rc = gitops_change_start(d->g, &loop, &c, tick_done_cb, d);
	} else {
		return die_usage();
	}
	if (rc) {
		printf("error rc=%d: %s\n", rc, gitops_error(d->g));
		return 1;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	printf("ticks %u maxgap_ms %llu\n", d->ticks, (unsigned long long)d->max_gap);
	return d->rc;
}

static int parse_opts(struct drive *d, int *i, int argc, char **argv)
{
	for (; *i < argc && !strncmp(argv[*i], "--", 2); *i += 2) {
		const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
		uint32_t n;
		if (!v)
			return -1;
		if (!strcmp(a, "--url")) d->o.url = v;
		else if (!strcmp(a, "--branch")) d->o.branch = v;
		else if (!strcmp(a, "--key")) d->o.ssh_key = v;
		else if (!strcmp(a, "--known-hosts")) d->o.known_hosts = v;
		else if (!strcmp(a, "--mirror")) d->o.mirror = v;
		else if (!strcmp(a, "--worker")) d->o.worker = v;
		else if (!strcmp(a, "--gate-refuse")) d->gate_file = v;
		else if (!strcmp(a, "--gate-exec")) gate_exec = v;
		else if (!strcmp(a, "--ident")) d->o.ident_name = v;
		else if (!strcmp(a, "--email")) d->o.ident_email = v;
		else if (parse_u32(&n, v, 1, 3600000)) return -1;
		else if (!strcmp(a, "--deadline-ms")) d->o.deadline_ms = n;
		else if (!strcmp(a, "--attempts")) d->o.push_attempts = n;
		else if (!strcmp(a, "--backoff-ms")) d->o.backoff_ms = n;
		else if (!strcmp(a, "--tick-ms")) d->tick_ms = n;
		else return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct drive d;
	struct buf err = BUF_INIT;
	struct gitops_result r;
	int i = 1, rc;

	memset(&d, 0, sizeof d);
	d.o.branch = "main";
	d.o.ident_name = "pipelined";
	d.o.ident_email = "pipelined@gremlin-1";
	d.o.worker = getenv("PIPELINED_GIT");
	if (parse_opts(&d, &i, argc, argv) || i >= argc)
		return die_usage();
	gate_file = d.gate_file;
	if (gitops_global_init() || gitops_open(&d.g, &d.o, &err)) {
		printf("error: %s\n", err.data ? err.data : "cannot initialise");
		buf_release(&err);
		return 1;
	}
	const char *cmd = argv[i++];
	int n = argc - i;
	char **a = argv + i;
	if (d.tick_ms) {
		char *targv[5];
		targv[0] = (char *)cmd;
		for (int k = 0; k < n && k < 4; k++)
			targv[k + 1] = a[k];
		rc = cmd_tick(&d, n + 1, targv);
	} else if (!strcmp(cmd, "fetch") || !strcmp(cmd, "ls-remote")) {
		rc = !strcmp(cmd, "fetch") ? gitops_fetch_sync(d.g, &r) : gitops_ls_remote_sync(d.g, &r);
		rc = report(&r);
		gitops_result_release(&r);
	} else if (!strcmp(cmd, "push") && n == 3) {
		gitops_push_sync(d.g, a[0], a[1], strcmp(a[2], "-") ? a[2] : NULL, &r);
		rc = report(&r);
		gitops_result_release(&r);
	} else if (!strcmp(cmd, "edit") && n == 3) {
		rc = cmd_edit(&d, a[0], a[1], a[2]);
	} else if (!strcmp(cmd, "rounds") && n == 3) {
		rc = cmd_rounds(&d, a[0], a[1], a[2]);
	} else if (!strcmp(cmd, "merge") && (n == 4 || n == 5)) {
		rc = cmd_merge(&d, n, a);
	} else if (!strcmp(cmd, "note") && n == 2) {
		rc = cmd_note(&d, a[0], a[1]);
	} else {
		rc = cmd_local(&d, cmd, n, a);
	}
	gitops_free(d.g);
	gitops_global_shutdown();
	return rc;
}
