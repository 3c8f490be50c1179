/* ctl_audit.c - pipelinectl audit [<range>] [--repo DIR] [--no-checkpoint] [--json]: gather
 * the facts of the tracked branch's first-parent history from git and let
 * the pure audit module judge them (audit.h).
 *
 * Where the history comes from: --repo DIR (the CI template runs
 * `pipelinectl -c .github/pipelines.conf audit --repo . BASE..HEAD` in a
 * checkout), else the configured repository (ctl_git_configured: the
 * daemon's mirror when it is current, else a fetch of [repository] url).
 * Never the current directory unasked: an auditor inside some other
 * checkout would get a clean bill for the wrong repository.  A range A..B judges the
 * first-parent commits after A up to B; everything before it is replayed
 * on its trailers for the facts it establishes (so a tag that reached
 * paper last month may go live today, and the range gets the full audit's
 * verdict on its commits).  A values file a promotion changed is first
 * compared with its parent's re-tagged by the splice (layout.h): the YAML
 * is parsed only when the bytes differ.  Exit 0 clean, 1 violations, 2 operational error.
 * When Argo CD follows some stage ([argocd] and a stage's application), the
 * report ends with the promotions in the range that never became deployed
 * (no note under refs/notes/pipelined-deploy): informational, never a
 * violation; with no such notes ref at all it says so instead. */
#include "audit.h"
#include "audit_state.h"
#include "clock_load.h"
#include "config.h"
#include "ctl.h"
#include "gitops.h"
#include "history_walk.h"
#include "layout.h"
#include "policy.h"
#include "sigverify.h"
#include "sysio.h"
#include "tag.h"
#include "trailer.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AUDIT_MAX_PATHS 10000	/* paths changed by one commit */
/* first-parent commits read at most: the whole history is judged, so its
 * bound is wider than the log's (HISTORY_MAX_COMMITS) */
#define AUDIT_MAX_COMMITS 1000000

static const char audit_usage[] =
	"usage: pipelinectl audit [<range>] [--repo DIR] [--branch NAME] [--no-checkpoint] "
	"[--json]\n";

struct audit_args {
	const char *range, *repo;
	const char *branch;	/* the range is this branch's (a pull request head) */
	bool json;
	bool no_checkpoint;	/* replay from the root; read and write no checkpoint */
};

/* Issue 14 item 3: a promotion's merged request (its second parent),
 * with every signature verified against the stage's signers. */
struct merged {
	struct policy_request q;
	struct policy_approval pa[TRAILER_APPROVALS_MAX];
	struct sigverify_result rs, as[TRAILER_APPROVALS_MAX];
	struct history_request_chain ch;
	struct gitops_commit_info rci;	/* the request commit */
};

/* Bytes kept to the end of the run, carved from large blocks: the
 * strings of 100,000 commits as a few hundred allocations, away from the
 * heap that libgit2's object reads churn through (its inflate buffers
 * would otherwise land on fresh pages behind each of ours). */
#define ARENA_BLOCK (1u << 20)

struct arena_block {
	struct arena_block *next;
	char data[];
};

struct arena {
	struct arena_block *head;
	size_t used, cap;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	void *p;

	n = (n + 7) & ~(size_t)7;	/* pointer arrays are carved too */
	if (!a->head || a->cap - a->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct arena_block *b = malloc(sizeof *b + cap);

		if (!b)
			return NULL;
		b->next = a->head;
		a->head = b;
		a->used = 0;
		a->cap = cap;
	}
	p = a->head->data + a->used;
	a->used += n;
	return p;
}

static char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	return p ? memcpy(p, s, n) : NULL;
}

static void arena_release(struct arena *a)
{
	while (a->head) {
		struct arena_block *b = a->head;

		a->head = b->next;
		free(b);
	}
	a->used = a->cap = 0;
}

/* Everything read for one commit; audit_commit points into it. */
struct facts {
	struct merged *m;
	struct gitops_commit_info ci;	/* its strings in the arena (commit_copy) */
	size_t message_len;
	char **paths;			/* in the arena */
	char (*blobs)[GITOPS_HEXSZ + 1];	/* paths[k]'s blob id in the commit, or "" */
	size_t npaths;
	const char *tags[STAGE_COUNT];	/* in the arena, shared while unchanged; NULL none */
};

struct ctx {
	const struct config *cfg;
	struct ctl_git cg;
	struct tz_rule tz;
	struct calendar cal;
	struct market_hours hours;
	char (*ids)[GITOPS_HEXSZ + 1];	/* oldest first */
	size_t n;
	size_t judged_from;		/* first index judged */
	char baseline[GITOPS_HEXSZ + 1];	/* the last commit not judged, "" none */
	/* issue 15: the facts of the commits before ids[0] (a checkpoint cut
	 * at the range's start, or nothing: ids[0] is the root), and after the
	 * run those of the whole chain, written back as the next checkpoint */
	struct audit_state st;
	bool checkpoint;		/* read and write checkpoints */
	char key[AUDIT_STATE_KEY_LEN + 1];
	const void *map;		/* the checkpoint's bytes, which st searches */
	size_t maplen;
	char restored[GITOPS_HEXSZ + 1];	/* the commit st was restored at, "" none */
	bool covered;			/* the checkpoint read holds the tip already */
	struct facts *f;
	struct audit_commit *c;
	struct arena arena;		/* the facts' strings */
	/* the market window of the last commit judged, its text in the arena:
	 * every commit in its span (clock.h: same_from..same_until) shares it */
	struct window win;
	const char *win_text;		/* NULL until the first window */
	char label[600];		/* what was audited, for the summary */
	char revbuf[2][600];		/* rev_name's results */
	char base[GITOPS_HEXSZ + 1];	/* the range's start, "" when none */
	struct policy_request shape;	/* requests: the tip's */
	/* issue 14 item 3: approvals on top of the request commit */
	struct history_request_chain chain;
	struct policy_approval pa[TRAILER_APPROVALS_MAX];
	struct gitops_mode_change mode;
};

static int parse_args(struct audit_args *a, int argc, char **argv)
{
	const struct ctl_arg args[] = {
		{ "--json", NULL, &a->json },
		{ "--repo", &a->repo, NULL },
		{ "--branch", &a->branch, NULL },
		{ "--no-checkpoint", NULL, &a->no_checkpoint },
		{ NULL, NULL, NULL },
	};

	return ctl_parse_args("audit", audit_usage, args, &a->range, 1, argc, argv);
}

/* The repository: --repo, or the configured one. */
static int open_repo(struct ctx *x, const struct audit_args *a)
{
	if (a->repo)
		return ctl_git_local(&x->cg, a->repo);
	return ctl_git_configured(&x->cg, x->cfg, "pipelinectl audit");
}

/* "HEAD" means the branch read when auditing a mirror. */
static const char *rev_name(struct ctx *x, const char *rev, int which)
{
	return ctl_git_rev(x->revbuf[which], sizeof x->revbuf[which], &x->cg, rev);
}

static int fail_git(const struct ctx *x)
{
	fprintf(stderr, "pipelinectl audit: %s\n", gitops_error(x->cg.g));
	return 2;
}

/* One first-parent walk down from the range's end finds both where the
 * range starts (the first commit reachable from A, as git's A..B) and the
 * checkpoint's chain (a commit whose depth it knows), and stops once it
 * has both; without a checkpoint it goes to the root. */
struct walk {
	struct ctx *x;
	struct audit_state *cp;		/* the checkpoint read, or NULL */
	char (*ids)[GITOPS_HEXSZ + 1];	/* newest first */
	struct facts *f;		/* ids[i]'s commit (its ci), read on the way */
	size_t n, cap, fcap;
	size_t in_range;		/* commits before the range's start */
	bool started;			/* the range's start was met */
	size_t tested;			/* ids[0..tested) are no ancestors of the start */
	bool hit;			/* ids[hit_at] is on the checkpoint's chain */
	size_t hit_at;
	uint64_t hit_depth;
	size_t below;			/* >0: commits wanted past the range's start */
};

/* ci with its strings in one block of the arena. */
static int commit_copy(struct arena *a, struct facts *f, const struct gitops_commit_info *ci)
{
	const char *from[] = { ci->author_name, ci->author_email, ci->committer_name,
			       ci->committer_email, ci->message };
	char **to[] = { &f->ci.author_name, &f->ci.author_email, &f->ci.committer_name,
			&f->ci.committer_email, &f->ci.message };
	size_t len[ARRAY_SIZE(from)], total = 0;
	char *p;

	for (size_t i = 0; i < ARRAY_SIZE(from); i++)
		total += (len[i] = strlen(from[i]) + 1);
	if (!(p = arena_alloc(a, total)))
		return ERR_NOMEM;
	f->ci = *ci;
	for (size_t i = 0; i < ARRAY_SIZE(from); i++) {
		memcpy(p, from[i], len[i]);
		*to[i] = p;
		p += len[i];
	}
	f->message_len = len[ARRAY_SIZE(from) - 1] - 1;
	return 0;
}

static void walk_release(struct walk *w)
{
	free(w->ids);
	free(w->f);
}

/* Whether the walk has what it needs; a checkpoint whose chain is shorter
 * than it claims is dropped. */
static int walk_stop(struct walk *w)
{
	/* a chain the checkpoint claims must be as long as it says */
	if (w->hit && w->started && w->hit_at <= w->in_range &&
	    w->hit_depth < (uint64_t)(w->in_range - w->hit_at))
		w->hit = false, w->cp = NULL;
	if (w->below && w->started && w->n >= w->in_range + w->below)
		return 1;
	return w->hit && w->started ? 1 : 0;
}

/* The range starts at the first commit walked that is the range's start A
 * or its ancestor, as git's A..B.  Along a first-parent chain that is
 * monotone: once one commit is an ancestor of A, so is every one below.
 * So the walk does not ask git of each commit (each question walks the
 * history between them: quadratic in the distance): meeting A itself
 * settles it (every commit above A descends from A, none is its
 * ancestor); else the newest commit is asked after AUDIT_START_PROBE
 * commits, then at every doubling of the distance, and a yes is narrowed
 * down by bisection to the first yes.  at_end: the walk is over, ask of
 * the last commit.  ids[0..tested) are known no. */
#define AUDIT_START_PROBE 64

static int find_start(struct walk *w, bool at_end)
{
	struct gitops *g = w->x->cg.g;
	size_t last = w->n - 1, lo = last, hi = last;
	int rc;

	/* A itself: every commit above it descends from it */
	if (strcmp(w->ids[last], w->x->base) != 0) {
		if (!at_end && (w->n < AUDIT_START_PROBE || (w->n & (w->n - 1)) != 0))
			return 0;
		if ((rc = gitops_is_ancestor(g, w->ids[last], w->x->base)) <= 0) {
			w->tested = rc == 0 ? w->n : w->tested;
			return rc;
		}
		/* ids[last] is in; the first one in lies in [tested, last] */
		lo = w->tested;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(w->ids[mid], w->x->base) == 0)
			rc = 1;
		else if ((rc = gitops_is_ancestor(g, w->ids[mid], w->x->base)) < 0)
			return rc;
		if (rc == 1)
			hi = mid;
		else
			lo = mid + 1;
	}
	w->started = true;
	w->in_range = lo;
	/* the ancestry tests, which read the commits near the range's start
	 * again and again, are over */
	gitops_cache_objects(false);
	return 0;
}

/* After the walk: the range's start if it was not settled on the way,
 * and what the walk would have kept had it known it at once. */
static int walk_end(struct walk *w)
{
	int rc;

	if (w->x->base[0] && !w->started && w->n && (rc = find_start(w, true)) < 0)
		return rc;
	walk_stop(w);
	if (w->below && w->started && w->n > w->in_range + w->below)
		w->n = w->in_range + w->below;
	return 0;
}

static int walk_cb(const struct gitops_commit_info *ci, void *data)
{
	struct walk *w = data;
	const char *id = ci->id;
	size_t at = w->n;
	int rc;

	if (w->n == w->cap && array_grow((void **)&w->ids, &w->cap, w->n, sizeof *w->ids))
		return ERR_NOMEM;
	if (w->n == w->fcap && array_grow((void **)&w->f, &w->fcap, w->n, sizeof *w->f))
		return ERR_NOMEM;
	memset(&w->f[w->n], 0, sizeof *w->f);
	if (commit_copy(&w->x->arena, &w->f[w->n], ci))
		return ERR_NOMEM;
	memcpy(w->ids[w->n++], id, GITOPS_HEXSZ + 1);
	if (w->cp && !w->hit && (w->hit_depth = audit_state_sample_depth(w->cp, id))) {
		w->hit = true;
		w->hit_at = at;
	}
	if (w->x->base[0] && !w->started && (rc = find_start(w, false)) < 0)
		return rc;
	return walk_stop(w);
}

/* The state before the commits to read: the checkpoint cut where they
 * start, or nothing (from the root).  ids[0..*n) newest first are read. */
static int restore(struct ctx *x, struct walk *w, size_t *n)
{
	size_t in_range = w->started ? w->in_range : w->n, at;
	uint64_t depth;

	*n = w->n;
	if (!w->hit)
		return 0;
	if (w->hit_at <= in_range) {	/* the range's start is on the chain */
		if (w->hit_depth < (uint64_t)(in_range - w->hit_at))
			return ERR_INVALID;
		at = in_range;
		depth = w->hit_depth - (uint64_t)(in_range - w->hit_at);
	} else {			/* replay from the checkpoint's commit */
		at = w->hit_at;
		depth = w->hit_depth;
	}
	if (audit_state_truncate(&x->st, depth, at < w->n ? w->ids[at] : NULL))
		return ERR_INVALID;
	snprintf(x->restored, sizeof x->restored, "%s", at < w->n ? w->ids[at] : "");
	x->covered = w->hit_at == 0;
	*n = at;
	return 0;
}

/* The first-parent commits up to the range's end, oldest first (after the
 * checkpoint's, when one is used), and how many of the newest are inside
 * the range. */
static int walk(struct ctx *x, const char *range, bool requests, size_t *in_range)
{
	char from[256], to[256], err[300];
	struct walk w;
	bool has_from = false;
	size_t n = 0;
	int rc;

	if (audit_parse_range(from, sizeof from, to, sizeof to, &has_from, range ? range : "HEAD",
			      err, sizeof err)) {
		fprintf(stderr, "pipelinectl audit: %s\n", err);
		return 2;
	}
	if (has_from && gitops_resolve(x->base, x->cg.g, rev_name(x, from, 1)))
		return fail_git(x);
	memset(&w, 0, sizeof w);
	w.x = x;
	/* each commit and tree is read once (the walk, the tree memo of
	 * gitops_tree_changes): a cache would only be filled and freed; but
	 * until the range's start is met each commit is tested against it
	 * (gitops_is_ancestor), which reads the same commits many times.
	 * Hashes stay verified: every object judged is the one its id names */
	gitops_cache_objects(x->base[0] != '\0');
	/* a whole history is judged whole: the checkpoint serves ranges */
	w.cp = has_from && x->st.depth ? &x->st : NULL;
	/* a request's commits are judged on their own: of the history below
	 * them only the request commit under its approvals is read (the tip's
	 * shape), never the facts of the rest */
	w.below = requests ? TRAILER_APPROVALS_MAX + 1 : 0;
	rc = gitops_walk_commits(x->cg.g, rev_name(x, to, 0), NULL, AUDIT_MAX_COMMITS, walk_cb,
				 &w);
	if (rc == 0)
		rc = walk_end(&w);
	if (rc == 0 && w.hit && (rc = restore(x, &w, &n)) == ERR_INVALID) {
		/* a checkpoint that contradicts the chain: walk again, to the
		 * root, without it */
		walk_release(&w);
		memset(&w, 0, sizeof w);
		w.x = x;
		w.below = requests ? TRAILER_APPROVALS_MAX + 1 : 0;
		x->restored[0] = '\0';
		x->covered = false;
		gitops_cache_objects(x->base[0] != '\0');
		rc = gitops_walk_commits(x->cg.g, rev_name(x, to, 0), NULL, AUDIT_MAX_COMMITS,
					 walk_cb, &w);
		if (rc == 0)
			rc = walk_end(&w);
	}
	gitops_cache_objects(false);
	if (rc == 0 && !w.hit) {
		/* a whole history, or not on the checkpoint's chain: from the
		 * root, without it */
		audit_state_release(&x->st);
		audit_state_init(&x->st);
		n = w.n;
	}
	if (rc) {
		walk_release(&w);
		return rc == ERR_NOMEM ? 2 : fail_git(x);
	}
	*in_range = w.started ? w.in_range : n;
	/* newest first from git; the auditor reads oldest first */
	for (size_t i = 0; i < n / 2; i++) {
		char t[GITOPS_HEXSZ + 1];
		struct facts tf = w.f[i];

		memcpy(t, w.ids[i], sizeof t);
		memcpy(w.ids[i], w.ids[n - 1 - i], sizeof t);
		memcpy(w.ids[n - 1 - i], t, sizeof t);
		w.f[i] = w.f[n - 1 - i];
		w.f[n - 1 - i] = tf;
	}
	x->ids = w.ids;
	x->f = w.f;
	x->n = n;
	snprintf(x->label, sizeof x->label, "%s", range ? range :
		 x->cg.source == CTL_REPO_LOCAL ? "HEAD" : x->cg.branch);
	return 0;
}

/* The commits' facts as the walk read them. */
static int read_commits(struct ctx *x)
{
	x->c = calloc(x->n ? x->n : 1, sizeof *x->c);
	if (!x->c)
		return 2;
	for (size_t i = 0; i < x->n; i++) {
		x->c[i].id = x->f[i].ci.id;
		x->c[i].committer_name = x->f[i].ci.committer_name;
		x->c[i].committer_email = x->f[i].ci.committer_email;
		x->c[i].time = x->f[i].ci.committer_time;
		x->c[i].message = x->f[i].ci.message;
		x->c[i].message_len = x->f[i].message_len;
	}
	return 0;
}

/* Where judging starts among ids[judged_from..n) when the checkpoint's
 * commits did not start it: [audit] since when set, else the first
 * promotion. */
static int find_baseline(struct ctx *x)
{
	const struct config_since *s = &x->cfg->audit.since;

	if (!s->set) {
		x->judged_from = audit_first_promotion(x->c, x->n);
		return 0;
	}
	for (size_t i = 0; i < x->n; i++)
		if (s->is_commit ? strcmp(x->ids[i], s->commit) == 0 : x->c[i].time >= s->time) {
			x->judged_from = i;
			return 0;
		}
	if (s->is_commit) {
		fprintf(stderr, "pipelinectl audit: [audit] since %s is not on the first-parent "
			"history audited\n", s->commit);
		return 2;
	}
	x->judged_from = x->n;
	return 0;
}

/* The baseline's end, also as the checkpoint records it (its depth). */
static int baseline(struct ctx *x)
{
	struct audit_state *st = &x->st;
	int rc;

	if (st->judged_depth) {		/* started in the commits restored */
		x->judged_from = 0;
		snprintf(x->baseline, sizeof x->baseline, "%s", st->baseline);
		return 0;
	}
	if ((rc = find_baseline(x)))
		return rc;
	if (x->judged_from >= x->n)
		return 0;
	snprintf(x->baseline, sizeof x->baseline, "%s",
		 x->judged_from ? x->ids[x->judged_from - 1] : st->tip);
	st->judged_depth = st->depth + x->judged_from + 1;
	snprintf(st->baseline, sizeof st->baseline, "%s", x->baseline);
	return 0;
}

/* Each values file as of the previous judged commit.  The commits are a
 * first-parent chain, so commit i's parent is commit i-1: only the files a
 * commit changed need reading.  spans locate its tags (layout_tag_spans)
 * when nspans > 0. */
struct cursor {
	bool loaded;
	struct buf bytes[STAGE_COUNT], tag[STAGE_COUNT];
	struct layout_span spans[STAGE_COUNT][CONFIG_MAX_IMAGES];
	size_t nspans[STAGE_COUNT];
};

/* The tag every image runs per the configured mapping (layout.h) at rev,
 * or "" (absent, unresolvable or mixed).  bytes gets the file, k the spans
 * of its tags (none when they cannot be located without a parse). */
static void stage_tag(struct buf *tag, struct buf *bytes, struct cursor *k, struct ctx *x,
		      const char *rev, enum stage s)
{
	struct layout_rules r;
	struct layout l;
	struct buf err = BUF_INIT;

	buf_init(tag, 0);
	k->nspans[s] = 0;
	layout_rules_from_config(&r, x->cfg, s);
	if (gitops_read_file(bytes, x->cg.g, rev, x->cfg->stages[s].values_path) == 0 &&
	    layout_resolve(&l, &r, bytes->data ? bytes->data : "", bytes->len, &err) == 0) {
		if (layout_current(tag, &l, &err))
			buf_init(tag, 0);
		if (bytes->data && layout_tag_spans(k->spans[s], CONFIG_MAX_IMAGES, &l, bytes->data,
						    bytes->len) == 0)
			k->nspans[s] = l.n;
		layout_release(&l);
	}
	buf_release(&err);
}

/* Did only what the mapping owns (the tags and digests) change?  The two
 * files with those masked must be byte-equal: the judgement the daemon
 * makes of a request, by the same mapping. */
static bool only_tags(const struct buf *old, const struct buf *new, const char *tag,
		      struct ctx *x, enum stage s)
{
	struct layout_rules r;
	struct buf a = BUF_INIT, b = BUF_INIT, err = BUF_INIT;
	bool same = false;

	if (!old->data || !new->data || !tag || !*tag)
		return false;
	layout_rules_from_config(&r, x->cfg, s);
	if (layout_mask(&a, &r, old->data, old->len, &err) == 0 &&
	    layout_mask(&b, &r, new->data, new->len, &err) == 0)
		same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
	buf_release(&a);
	buf_release(&b);
	buf_release(&err);
	return same;
}

static void cursor_release(struct cursor *k)
{
	for (int s = 0; s < STAGE_COUNT; s++) {
		buf_release(&k->bytes[s]);
		buf_release(&k->tag[s]);
	}
}

/* The fast path: is the file at commit i the parent's with every tag
 * replaced by want (the commit's Image-Tag)?  Then it holds want, only its
 * tags changed, and its tags sit where the splice put them (layout.h,
 * layout_splice_tag): no YAML is parsed.  Otherwise false and the cursor
 * is as it was. */
static bool spliced(struct ctx *x, size_t i, struct cursor *k, enum stage s, const char *want)
{
	struct layout_span sp[CONFIG_MAX_IMAGES];
	struct buf pred = BUF_INIT;
	const struct facts *f = &x->f[i];
	const char *id = "";
	char expect[GITOPS_HEXSZ + 1];
	size_t n = k->nspans[s];

	if (!want || !n || !k->bytes[s].data || !tag_is_sha1(want, strlen(want)))
		return false;
	/* the file's blob id in the commit, as the tree comparison met it
	 * (the last entry of its path: a file become a link is a deletion,
	 * then the addition) */
	for (size_t p = 0; p < f->npaths; p++)
		if (strcmp(f->paths[p], x->cfg->stages[s].values_path) == 0)
			id = f->blobs[p];
	if (!id[0])
		return false;
	memcpy(sp, k->spans[s], n * sizeof *sp);
	/* equal blob ids: the commit's file is these bytes, unread */
	if (layout_splice_tag(&pred, sp, n, k->bytes[s].data, k->bytes[s].len, want) ||
	    gitops_blob_hash(expect, pred.data, pred.len) || strcmp(id, expect) != 0) {
		buf_release(&pred);
		return false;
	}
	buf_release(&k->bytes[s]);
	k->bytes[s] = pred;
	buf_release(&k->tag[s]);
	buf_init(&k->tag[s], 0);
	buf_adds(&k->tag[s], want);
	memcpy(k->spans[s], sp, n * sizeof *sp);
	return true;
}

/* want: the commit's Image-Tag:, or NULL.  0 or ERR_NOMEM. */
static int values_facts(struct ctx *x, size_t i, struct cursor *k, const char *want)
{
	struct facts *f = &x->f[i];
	struct audit_commit *c = &x->c[i];

	for (int s = 0; s < STAGE_COUNT; s++) {
		const struct config_stage *st = &x->cfg->stages[s];
		struct buf new = BUF_INIT, tag = BUF_INIT;

		if (!stage_is_deploy((enum stage)s) || !st->values_path)
			continue;
		if (!k->loaded && f->ci.nparents)
			stage_tag(&k->tag[s], &k->bytes[s], k, x, f->ci.parents[0], (enum stage)s);
		for (size_t p = 0; p < f->npaths; p++)
			if (strcmp(f->paths[p], st->values_path) == 0)
				c->values[s].changed = true;
		if (c->values[s].changed && spliced(x, i, k, (enum stage)s, want)) {
			c->values[s].only_tags = true;
		} else if (c->values[s].changed) {
			struct buf old = k->bytes[s];

			k->bytes[s] = (struct buf)BUF_INIT;
			stage_tag(&tag, &new, k, x, f->ci.id, (enum stage)s);
			c->values[s].only_tags = only_tags(&old, &new, tag.data, x, (enum stage)s);
			buf_release(&old);
			buf_release(&k->tag[s]);
			k->bytes[s] = new;
			k->tag[s] = tag;
		}
		/* the commit before's string while the tag is the same */
		f->tags[s] = NULL;
		if (k->tag[s].len && i && x->f[i - 1].tags[s] &&
		    strcmp(x->f[i - 1].tags[s], k->tag[s].data) == 0)
			f->tags[s] = x->f[i - 1].tags[s];
		else if (k->tag[s].len && !(f->tags[s] = arena_strdup(&x->arena, k->tag[s].data)))
			return ERR_NOMEM;
		c->values[s].tag = f->tags[s];
	}
	k->loaded = true;
	return 0;
}

/* The verdict on commit id's signature (UNCHECKED without a signers file). */
static void verify(struct sigverify_result *out, struct ctx *x, const char *signers,
		   const char *id)
{
	struct buf sig = BUF_INIT, payload = BUF_INIT;

	memset(out, 0, sizeof *out);
	buf_init(&sig, 64 * 1024);
	buf_init(&payload, TRAILER_MESSAGE_MAX * 2);
	if (gitops_commit_signature(&sig, &payload, x->cg.g, id))
		out->verdict = POLICY_SIG_UNSIGNED;
	else if (!signers || sigverify_sync(out, signers, sig.data, sig.len, payload.data,
					    payload.len, 0))
		out->verdict = POLICY_SIG_UNCHECKED;
	buf_release(&sig);
	buf_release(&payload);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* Does commit i claim approvals, or its stage want them? */
static bool wants_merged(const struct ctx *x, size_t i, enum stage *st)
{
	const struct gitops_commit_info *ci = &x->f[i].ci;
	struct trailer_list tl;
	const char *v;
	bool want = false;

	if (ci->nparents != 2 || trailer_parse(&tl, ci->message, strlen(ci->message), NULL))
		return false;
	if ((v = trailer_list_get(&tl, TRAILER_STAGE)) && stage_parse(st, v) == 0 &&
	    stage_is_deploy(*st))
		want = trailer_list_get(&tl, TRAILER_APPROVED_BY) || x->cfg->stages[*st].approvals;
	trailer_list_release(&tl);
	return want;
}

/* Issue 14 item 3: the request a promotion merged, read from its second
 * parent as the daemon reads a request branch (history_request_walk). */
static int merged_request(struct ctx *x, size_t i)
{
	const char *signers;
	struct merged *m;
	enum stage st;

	if (!wants_merged(x, i, &st))
		return 0;
	signers = x->cfg->stages[st].signers;
	if (!(m = calloc(1, sizeof *m)))
		return 2;
	x->f[i].m = m;
	if (history_request_walk(&m->ch, x->cg.g, x->f[i].ci.parents[1]) ||
	    gitops_commit_info(&m->rci, x->cg.g, m->ch.request))
		return fail_git(x);
	verify(&m->rs, x, signers, m->ch.request);
	m->q.commit = m->rci.id;
	m->q.author_email = m->rci.author_email;
	m->q.sig = m->rs.verdict;
	if (m->rs.verdict == POLICY_SIG_GOOD) {
		m->q.signer = nonempty(m->rs.principal);
		m->q.signer_principals = nonempty(m->rs.principals);
	}
	m->q.signer_key = nonempty(m->rs.key);
	for (size_t k = 0; k < m->ch.n; k++) {
		const struct history_approval *h = &m->ch.approvals[k];
		struct sigverify_result *r = &m->as[k];
		bool good;

		verify(r, x, signers, h->commit);
		good = r->verdict == POLICY_SIG_GOOD;
		m->pa[k] = (struct policy_approval){
			.commit = h->commit, .approves = h->approves, .sig = r->verdict,
			.principal = good ? nonempty(r->principal) : NULL,
			.principals = good ? nonempty(r->principals) : NULL,
			.key = nonempty(r->key), .author_email = h->author_email,
			.shape = !h->same_tree ? POLICY_APPROVAL_CHANGES :
				 strcmp(h->approves, m->ch.request) != 0 ? POLICY_APPROVAL_OTHER :
				 r->verdict == POLICY_SIG_UNSIGNED ? POLICY_APPROVAL_UNSIGNED :
				 POLICY_APPROVAL_OK,
		};
	}
	m->q.approvals = m->pa;
	m->q.napprovals = m->ch.n;
	x->c[i].merged = &m->q;
	return 0;
}

/* The splice's guess at the commit's Image-Tag: (spliced): the value of
 * the message's last line "Image-Tag: X", or "".  No trailer parse: a
 * wrong guess only costs the slow path (the blob's id refutes it), and
 * the verdict reads the trailers itself (audit.c). */
static void image_tag(char *tag, size_t tagsz, const struct facts *f)
{
	static const char key[] = "\nImage-Tag: ";
	const char *m = f->ci.message, *end = m + f->message_len, *v = NULL, *p = m, *e;

	tag[0] = '\0';
	while ((p = strstr(p, key))) {	/* the message is a C string */
		p += sizeof key - 1;
		v = p;
	}
	if (!v)
		return;
	for (e = v; e < end && *e != '\n' && *e != '\r'; e++)
		;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t)(e - v) < tagsz)
		snprintf(tag, tagsz, "%.*s", (int)(e - v), v);
}

/* The changed paths and their blob ids, into the arena.  0 or 2. */
static int keep_paths(struct ctx *x, struct facts *f, char **paths,
		      char (*blobs)[GITOPS_HEXSZ + 1])
{
	if (!f->npaths)
		return 0;
	if (!(f->paths = arena_alloc(&x->arena, f->npaths * sizeof *f->paths)) ||
	    !(f->blobs = arena_alloc(&x->arena, f->npaths * sizeof *f->blobs)))
		return 2;
	memcpy(f->blobs, blobs, f->npaths * sizeof *f->blobs);
	for (size_t p = 0; p < f->npaths; p++)
		if (!(f->paths[p] = arena_strdup(&x->arena, paths[p])))
			return 2;
	return 0;
}

/* The market window at t into x->win and x->win_text: computed again only
 * when t leaves the last one's span (commits come oldest first, so most
 * share their neighbour's).  1 when t is beyond what the clock reasons
 * about (the commit is judged without a window), -1 out of memory. */
static int window_of(struct ctx *x, time_t t)
{
	char text[128];

	if (x->win_text && x->win.same_from <= t && t < x->win.same_until)
		return 0;
	x->win_text = NULL;
	if (clock_window(&x->win, t, &x->tz, &x->cal, &x->hours))
		return 1;
	clock_format_trailer(text, sizeof text, &x->win);
	x->win_text = arena_strdup(&x->arena, text);
	return x->win_text ? 0 : -1;
}

/* Commits from the baseline's end up to the range are replayed (audit.h):
 * judged for the facts they establish, on their trailers alone, so the
 * range gets the full audit's verdict on its commits. */
static int judged_facts(struct ctx *x, size_t in_range, bool replay)
{
	size_t first = x->n - in_range > x->judged_from ? x->n - in_range : x->judged_from;
	struct gitops_trees *trees = NULL;
	struct gitops_commit_info pc;
	char base_tree[GITOPS_HEXSZ + 1] = "";
	struct cursor k;
	int rc = 0;

	for (size_t i = x->judged_from; replay && i < first; i++)
		x->c[i].judged = x->c[i].replay = true;
	if (first >= x->n)
		return 0;
	if (gitops_trees_open(&trees, x->cg.g))
		return fail_git(x);
	/* the first commit's parent was not walked (a checkpoint cut there) */
	if (first == 0 && x->f[0].ci.nparents) {
		if (gitops_commit_info(&pc, x->cg.g, x->f[0].ci.parents[0])) {
			gitops_trees_free(trees);
			return fail_git(x);
		}
		snprintf(base_tree, sizeof base_tree, "%s", pc.tree);
		gitops_commit_info_release(&pc);
	}
	memset(&k, 0, sizeof k);
	for (size_t i = first; i < x->n && rc == 0; i++) {
		struct facts *f = &x->f[i];
		char want[TAG_MAX + 1], **paths, (*blobs)[GITOPS_HEXSZ + 1];
		/* a first-parent chain: the parent is the commit before */
		const char *old = !f->ci.nparents ? NULL : i ? x->f[i - 1].ci.tree : base_tree;

		if (gitops_tree_changes(&paths, &blobs, &f->npaths, trees, old, f->ci.tree,
					f->ci.id, AUDIT_MAX_PATHS)) {
			rc = fail_git(x);
			break;
		}
		rc = keep_paths(x, f, paths, blobs);
		gitops_paths_free(paths, f->npaths);
		free(blobs);
		if (rc)
			break;
		x->c[i].changed = (const char *const *)f->paths;
		x->c[i].nchanged = f->npaths;
		image_tag(want, sizeof want, f);
		if (values_facts(x, i, &k, want[0] ? want : NULL)) {
			rc = 2;
			break;
		}
		rc = window_of(x, (time_t)f->ci.committer_time);
		if (rc < 0) {
			rc = 2;
			break;
		}
		if (rc == 0) {
			x->c[i].window_open = x->win.open;
			x->c[i].window_text = x->win_text;
		}
		x->c[i].judged = true;
		rc = merged_request(x, i);
	}
	gitops_trees_free(trees);
	cursor_release(&k);
	return rc;
}

/* The shape of a request's tip (policy_check_shape judges it): its
 * parents, whether its one parent is on the range's start, the modes it
 * changes against that parent. */
static int request_shape(struct ctx *x)
{
	const struct gitops_commit_info *ci = &x->f[x->n - 1].ci;
	struct policy_request *q = &x->shape;
	int rc = 0;

	memset(q, 0, sizeof *q);
	/* the request commit is under the approvals (first parents all) */
	if (history_request_walk(&x->chain, x->cg.g, ci->id))
		return fail_git(x);
	if (x->chain.n < x->n)
		ci = &x->f[x->n - 1 - x->chain.n].ci;
	for (size_t k = 0; k < x->chain.n; k++) {
		const struct history_approval *h = &x->chain.approvals[k];
		struct buf sig = BUF_INIT, payload = BUF_INIT;
		bool is_signed = gitops_commit_signature(&sig, &payload, x->cg.g, h->commit) == 0;

		buf_release(&sig);
		buf_release(&payload);
		x->pa[k] = (struct policy_approval){
			.commit = h->commit, .approves = h->approves,
			.shape = !h->same_tree ? POLICY_APPROVAL_CHANGES :
				 strcmp(h->approves, x->chain.request) ? POLICY_APPROVAL_OTHER :
				 !is_signed ? POLICY_APPROVAL_UNSIGNED : POLICY_APPROVAL_OK,
		};
	}
	q->approvals = x->pa;
	q->napprovals = x->chain.n;
	q->commit = ci->id;
	q->nparents = ci->nparents;
	q->merge = ci->nparents > 1;
	q->orphan = ci->nparents == 0;
	q->tracked = x->cfg->repository.branch;
	if (ci->nparents == 1) {
		q->parent = ci->parents[0];
		if (x->base[0] && (rc = gitops_is_ancestor(x->cg.g, q->parent, x->base)) < 0)
			return fail_git(x);
		q->off_branch = x->base[0] && rc == 0;
		if ((rc = gitops_mode_change(&x->mode, x->cg.g, q->parent, ci->id)) < 0)
			return fail_git(x);
		if (rc == 1) {
			q->mode_path = x->mode.path;
			q->mode_old = x->mode.old_mode;
			q->mode_new = x->mode.new_mode;
		}
	}
	x->c[x->n - 1].shape = q;
	return 0;
}

/* A pull request from promote/<stage>/... carries request commits, which
 * are judged as requests.  GitHub Actions names the head branch of a pull
 * request in GITHUB_HEAD_REF, so the CI template's plain `audit BASE..HEAD`
 * gets this without a flag. */
static int request_mode(struct audit_policy *p, const struct audit_args *a)
{
	const char *b = a->branch ? a->branch : getenv("GITHUB_HEAD_REF");
	struct buf err = BUF_INIT;

	if (!b || strncmp(b, "promote/", 8) != 0)
		return 0;
	if (policy_parse_branch(&p->request_stage, b, &err) || !p->values_path[p->request_stage]) {
		fprintf(stderr, "pipelinectl audit: branch '%s': %s\n", b,
			err.data ? err.data : "stage has no values file");
		buf_release(&err);
		return 2;
	}
	buf_release(&err);
	p->requests = true;
	return 0;
}

static void policy_from_config(struct audit_policy *p, const struct config *cfg)
{
	memset(p, 0, sizeof *p);
	p->ident_name = cfg->daemon.identity.name;
	p->ident_email = cfg->daemon.identity.email;
	for (int s = 0; s < STAGE_COUNT; s++) {
		p->values_path[s] = stage_is_deploy((enum stage)s) ? cfg->stages[s].values_path : NULL;
		p->market_gated[s] = cfg->stages[s].market_gated;
		p->approvals[s] = cfg->stages[s].approvals;
	}
}

/* Issue 13 item 5: which promotions in the range Argo CD never ran, from
 * the deploy notes (audit_deployments).  Informational: never a violation,
 * never the exit status. */
struct deploys {
	bool followed;			/* some stage has an Argo CD Application */
	bool record;			/* the deploy notes ref is there */
	char ref[128];			/* the ref read */
	char id[GITOPS_HEXSZ + 1];	/* its commit: no ref lookup per note */
	struct history h;
	struct audit_promotion *p;	/* oldest first */
	const struct history_entry **e;	/* p[i]'s entry */
	size_t n;
	struct audit_deploy_report rep;
};

static void deploys_release(struct deploys *d)
{
	if (d->followed)
		history_release(&d->h);
	free(d->p);
	free(d->e);
	audit_deploy_report_release(&d->rep);
}

static bool stage_followed(const struct config *cfg, enum stage s)
{
	return cfg->argocd.enabled && stage_is_deploy(s) && cfg->stages[s].application;
}

static int deploys_read(struct deploys *d, struct ctx *x)
{
	struct buf err = BUF_INIT, note = BUF_INIT;
	int rc = 0;

	memset(d, 0, sizeof *d);
	for (int s = 0; s < STAGE_COUNT; s++)
		d->followed |= stage_followed(x->cfg, (enum stage)s);
	if (!d->followed)
		return 0;
	if (!x->n) {
		d->followed = false;	/* nothing walked, nothing loaded */
		return 0;
	}
	d->record = ctl_deploy_notes(d->ref, sizeof d->ref, d->id, x->cg.g);
	if (history_load(&d->h, x->cg.g, x->ids[x->n - 1], x->base[0] ? x->base : NULL, &err)) {
		fprintf(stderr, "pipelinectl audit: %s\n", err.data ? err.data : "cannot read history");
		buf_release(&err);
		d->followed = false;
		return 2;
	}
	buf_release(&err);
	d->p = calloc(d->h.n ? d->h.n : 1, sizeof *d->p);
	d->e = calloc(d->h.n ? d->h.n : 1, sizeof *d->e);
	if (!d->p || !d->e)
		return 2;
	for (size_t k = d->h.n; k-- > 0;) {	/* the history is newest first */
		const struct history_entry *h = &d->h.items[k];

		if (!stage_followed(x->cfg, h->stage))
			continue;
		d->e[d->n] = h;
		d->p[d->n].commit = h->commit;
		d->p[d->n].stage = h->stage;
		buf_reset(&note);
		d->p[d->n].deployed = d->record &&
				      gitops_note_read(&note, x->cg.g, d->id, h->commit) == 0;
		d->n++;
	}
	buf_release(&note);
	if (d->record && audit_deployments(&d->rep, d->p, d->n))
		rc = 2;
	return rc;
}

static void followed_list(char *out, size_t outsz, const struct config *cfg)
{
	size_t len = 0;

	out[0] = '\0';
	for (int s = 0; s < STAGE_COUNT; s++)
		if (stage_followed(cfg, (enum stage)s) && len < outsz)
			len += (size_t)snprintf(out + len, outsz - len, "%s%s", len ? ", " : "",
						stage_name((enum stage)s));
}

static json_t *deploys_json(const struct ctx *x, const struct deploys *d)
{
	json_t *stages = json_array(), *u = d->record ? json_array() : json_null();
	char utc[40];

	if (!d->followed) {
		json_decref(stages);
		json_decref(u);
		return json_null();
	}
	for (int s = 0; s < STAGE_COUNT; s++)
		if (stage_followed(x->cfg, (enum stage)s))
			json_array_append_new(stages, json_string(stage_name((enum stage)s)));
	for (size_t i = 0; d->record && i < d->rep.n; i++) {
		const struct audit_undeployed *v = &d->rep.v[i];
		const struct history_entry *h = d->e[v->index];

		clock_format_rfc3339(utc, sizeof utc, (time_t)h->time, 0, true);
		json_array_append_new(u, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "commit", h->commit,
						   "stage", stage_name(h->stage), "tag", h->tag,
						   "time", utc, "state", v->superseded ? "superseded" :
						   "not-deployed", "superseded_by", v->superseded ?
						   json_string(d->e[v->by]->commit) : json_null()));
	}
	return json_pack("{s:o, s:b, s:o, s:I, s:o, s:o}", "followed", stages, "record", d->record,
			 "notes_ref", d->record ? json_string(d->ref) : json_null(),
			 "promotions", (json_int_t)d->n,
			 "deployed", d->record ? json_integer((json_int_t)d->rep.deployed) : json_null(),
			 "undeployed", u);
}

static void deploys_text(const struct ctx *x, const struct deploys *d)
{
	char stages[64], when[96];

	if (!d->followed)
		return;
	followed_list(stages, sizeof stages, x->cfg);
	if (!d->record) {
		printf("deployments: no deploy record: %s is not in the repository read, so nothing "
		       "is said about what Argo CD ran (the daemon writes it when a promotion into %s "
		       "is first deployed; in a clone, fetch it: git fetch origin %s:%s)\n",
		       GITOPS_DEPLOY_NOTES_REF, stages, GITOPS_DEPLOY_NOTES_REF,
		       GITOPS_DEPLOY_NOTES_REF);
		return;
	}
	if (!d->rep.n) {
		printf("deployments: %zu of %zu promotion%s into %s deployed (%s)\n", d->rep.deployed,
		       d->n, d->n == 1 ? "" : "s", stages, GITOPS_DEPLOY_NOTES_REF);
		return;
	}
	printf("deployments (informational, not violations): %zu of %zu promotion%s into %s never "
	       "became deployed:\n", d->rep.n, d->n, d->n == 1 ? "" : "s", stages);
	for (size_t i = 0; i < d->rep.n; i++) {
		const struct audit_undeployed *v = &d->rep.v[i];
		const struct history_entry *h = d->e[v->index];

		ctl_format_time(when, sizeof when, h->time, &x->tz);
		if (v->superseded)
			printf("  %.12s %-5s tag %.7s  %s  superseded by %.12s before it was deployed\n",
			       h->commit, stage_name(h->stage), h->tag, when, d->e[v->by]->commit);
		else
			printf("  %.12s %-5s tag %.7s  %s  the stage's current promotion, not deployed "
			       "yet\n", h->commit, stage_name(h->stage), h->tag, when);
	}
}

static int print_report(const struct ctx *x, const struct audit_report *r, bool json,
			const struct deploys *d)
{
	if (json) {
		json_t *v = json_array(), *o;

		for (size_t i = 0; i < r->n; i++)
			json_array_append_new(v, json_pack("{s:s, s:s, s:s}", "commit", r->v[i].commit,
							   "code", audit_code_name(r->v[i].code),
							   "message", r->v[i].message));
		o = json_pack("{s:b, s:I, s:I, s:s?, s:o, s:o}", "clean", r->n == 0,
			      "commits_checked", (json_int_t)r->judged,
			      "promotions", (json_int_t)r->promotions,
			      "baseline", x->baseline[0] ? x->baseline : NULL, "violations", v,
			      "repository", ctl_git_json(&x->cg));
		if (o) {
			json_object_set_new(o, "checkpoint", x->restored[0] ?
					    json_string(x->restored) : json_null());
			json_object_set_new(o, "deployments", deploys_json(x, d));
		}
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
		return r->n ? 1 : 0;
	}
	ctl_git_describe(stdout, &x->cg);
	if (r->n) {
		for (size_t i = 0; i < r->n; i++)
			printf("%.12s %s: %s\n", r->v[i].commit, audit_code_name(r->v[i].code),
			       r->v[i].message);
	} else {
		printf("audit: clean: %zu commit%s checked in %s, %zu promotion%s\n", r->judged,
		       r->judged == 1 ? "" : "s", x->label,
		       r->promotions, r->promotions == 1 ? "" : "s");
	}
	deploys_text(x, d);
	return r->n ? 1 : 0;
}

static int load_clock(struct ctx *x)
{
	struct buf err = BUF_INIT;
	int rc = clock_load_tz(&x->tz, NULL, x->cfg->market.timezone, &err);

	if (rc == 0)
		rc = clock_load_calendar(&x->cal, NULL, x->cfg->market.calendar, &err);
	if (rc)
		fprintf(stderr, "pipelinectl audit: %s\n", err.data ? err.data : "clock");
	buf_release(&err);
	x->hours.open_min = x->cfg->market.open_min;
	x->hours.close_min = x->cfg->market.close_min;
	return rc ? 2 : 0;
}

/* ---- the checkpoint (audit_state.h) in <gitdir>/pipelined/ ---- */

#define CHECKPOINT_DIR "pipelined"

static int checkpoint_path(struct buf *out, const struct ctx *x, bool mkdirs)
{
	const char *gd = gitops_git_dir(x->cg.g);

	if (!gd || buf_printf(out, "%s%s" CHECKPOINT_DIR, gd,
			      gd[0] && gd[strlen(gd) - 1] == '/' ? "" : "/"))
		return ERR_NOMEM;
	if (mkdirs && mkdir(out->data, 0777) && errno != EEXIST)
		return ERR_IO;
	return buf_printf(out, "/audit-checkpoint-%s", x->key);
}

/* The config key, and the checkpoint when there is a usable one: anything
 * wrong with it (missing, unreadable, another configuration, damaged) is
 * the same as none, and the history is replayed from the root. */
static void checkpoint_read(struct ctx *x, const struct audit_policy *p)
{
	const struct config_since *s = &x->cfg->audit.since;
	struct buf path = BUF_INIT;
	char since[64] = "";

	if (s->set && s->is_commit)
		snprintf(since, sizeof since, "commit %s", s->commit);
	else if (s->set)
		snprintf(since, sizeof since, "time %lld", (long long)s->time);
	audit_state_key(x->key, p, since);
	/* mapped, not read: the state searches the bytes where they lie */
	if (checkpoint_path(&path, x, false) == 0 &&
	    file_map(&x->map, &x->maplen, path.data, AUDIT_STATE_MAX_BYTES) == 0)
		audit_state_decode(&x->st, x->map, x->maplen, x->key);	/* empty when refused */
	buf_release(&path);
}

/* The state at the tip, for the next run, unless the checkpoint read is
 * nearly as good: writing it costs O(history) (megabytes, and an fsync)
 * while replaying fewer than CHECKPOINT_STEP commits from the old one
 * costs a few milliseconds, so a pull request's audit does not rewrite it
 * each time.  Best effort: a git directory this user cannot write (a
 * mirror of another user, a read-only mount) just gets no checkpoint. */
#define CHECKPOINT_STEP 256

/* What a checkpoint write clears from the directory: the temporary file
 * of a run that was killed or interrupted during its write (megabytes
 * each, left forever otherwise; one younger than CHECKPOINT_TMP_STALE_S
 * may be another run's write in progress), and the checkpoints of other
 * configurations or formats not written for CHECKPOINT_UNUSED_S (a
 * configuration that audits again just replays once).  Best effort, like
 * the write. */
#define CHECKPOINT_TMP_STALE_S (10 * 60)
#define CHECKPOINT_UNUSED_S (30 * 24 * 3600)

static void checkpoint_sweep(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct buf dir = BUF_INIT, f = BUF_INIT;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;

	if (!slash || buf_add(&dir, path, (size_t)(slash - path)) || !(d = opendir(dir.data))) {
		buf_release(&dir);
		return;
	}
	while ((de = readdir(d))) {
		bool tmp = strstr(de->d_name, ".tmp.") != NULL;

		if (strncmp(de->d_name, "audit-checkpoint-", 17) != 0 ||
		    strcmp(de->d_name, slash + 1) == 0)
			continue;
		buf_reset(&f);
		if (buf_printf(&f, "%s/%s", dir.data, de->d_name) || lstat(f.data, &st) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (now - st.st_mtime > (tmp ? CHECKPOINT_TMP_STALE_S : CHECKPOINT_UNUSED_S))
			unlink(f.data);
	}
	closedir(d);
	buf_release(&f);
	buf_release(&dir);
}

static void checkpoint_write(struct ctx *x)
{
	struct buf path = BUF_INIT, bytes = BUF_INIT;

	if (x->covered || (x->restored[0] && x->n < CHECKPOINT_STEP))
		return;
	if (x->st.depth && checkpoint_path(&path, x, true) == 0 &&
	    audit_state_encode(&bytes, &x->st, x->key) == 0 &&
	    file_write_atomic(path.data, bytes.data, bytes.len, 0644) == 0)
		checkpoint_sweep(path.data);
	buf_release(&path);
	buf_release(&bytes);
}

static int audit_repo(struct ctx *x, const struct audit_args *a)
{
	struct audit_policy pol;
	struct audit_report rep;
	struct deploys dep;
	size_t in_range = 0;
	int rc;

	policy_from_config(&pol, x->cfg);
	if ((rc = request_mode(&pol, a)) || (rc = load_clock(x)))
		return rc;
	if (open_repo(x, a))
		return 2;
	/* a request's commits are judged on their own: nothing to replay */
	x->checkpoint = !a->no_checkpoint && !pol.requests;
	if (x->checkpoint)
		checkpoint_read(x, &pol);
	if ((rc = walk(x, a->range, pol.requests, &in_range)) || (rc = read_commits(x)))
		return rc;
	/* a request's commits are judged whatever the baseline */
	if (!pol.requests && (rc = baseline(x)))
		return rc;
	if ((rc = judged_facts(x, in_range, !pol.requests)))
		return rc;
	if (pol.requests && in_range && (rc = request_shape(x)))
		return rc;
	if (audit_run_state(&rep, &x->st, &pol, x->c, x->n)) {
		fprintf(stderr, "pipelinectl audit: out of memory\n");
		return 2;
	}
	if (x->checkpoint)
		checkpoint_write(x);
	/* a pull request's commits are no promotions yet: nothing to deploy */
	memset(&dep, 0, sizeof dep);
	if (!pol.requests && (rc = deploys_read(&dep, x))) {
		deploys_release(&dep);
		audit_report_release(&rep);
		return rc;
	}
	rc = print_report(x, &rep, a->json, &dep);
	deploys_release(&dep);
	audit_report_release(&rep);
	return rc;
}

static void ctx_release(struct ctx *x)
{
	for (size_t i = 0; x->f && i < x->n; i++) {
		if (x->f[i].m) {
			history_request_chain_release(&x->f[i].m->ch);
			gitops_commit_info_release(&x->f[i].m->rci);
			free(x->f[i].m);
		}
	}
	history_request_chain_release(&x->chain);
	audit_state_release(&x->st);
	file_unmap(x->map, x->maplen);
	arena_release(&x->arena);
	free(x->f);
	free(x->c);
	free(x->ids);
	calendar_release(&x->cal);
	ctl_git_close(&x->cg);
}

int cmd_audit(int argc, char **argv, const struct ctl_opts *opts)
{
	struct audit_args a = { .json = opts->json };
	struct config *cfg = NULL;
	struct ctx x;
	int rc;

	if ((rc = parse_args(&a, argc, argv)))
		return rc;
	if (ctl_load_config(&cfg, opts))
		return 2;
	if (!cfg) {
		fprintf(stderr, "pipelinectl audit: no configuration file '%s' (use -c FILE): the "
			"daemon identity and the stages' values files are needed\n", opts->config);
		return 2;
	}
	memset(&x, 0, sizeof x);
	x.cfg = cfg;
	if (gitops_global_init()) {
		fprintf(stderr, "pipelinectl audit: cannot initialise libgit2\n");
		config_free(cfg);
		return 2;
	}
	rc = audit_repo(&x, &a);
	ctx_release(&x);
	gitops_global_shutdown();
	config_free(cfg);
	return rc;
}
