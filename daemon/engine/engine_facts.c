/* engine_facts.c - what Git says, gathered off the loop thread: the scan of
 * the mirror after a fetch (history, current tags, candidate releases) and
 * the facts about one request tip that policy_check needs.  Touches only
 * the gitops handle and its own results, never engine state. */
#include "engine_int.h"
#include "sigverify.h"
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_s(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

static int add_value(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);

	if (!nv)
		return ERR_NOMEM;
	*v = nv;
	if (!(nv[*n] = xstrndup(s, len)))
		return ERR_NOMEM;
	(*n)++;
	return 0;
}

/* ---- the stage's mapping, copied ---- */

static char *dup_or_null(const char *s, int *rc)
{
	char *d = s ? xstrndup(s, strlen(s)) : NULL;

	if (s && !d)
		*rc = ERR_NOMEM;
	return d;
}

int engine_rules_copy(struct engine_rules *out, const struct config *cfg, enum stage st)
{
	struct layout_rules src;
	struct engine_rules c;
	int rc = 0;

	memset(&c, 0, sizeof c);
	layout_rules_from_config(&src, cfg, st);
	c.nimages = src.nimages;
	c.npaths = src.npaths;
	c.images = calloc(c.nimages + 1, sizeof *c.images);
	c.image_paths = calloc(c.nimages + 1, sizeof *c.image_paths);
	c.paths = calloc(c.npaths + 1, sizeof *c.paths);
	if (!c.images || !c.image_paths || !c.paths)
		rc = ERR_NOMEM;
	c.file = dup_or_null(src.file, &rc);
	for (size_t i = 0; rc == 0 && i < c.nimages; i++) {
		c.images[i] = dup_or_null(src.images[i], &rc);
		c.image_paths[i] = dup_or_null(src.image_paths ? src.image_paths[i] : NULL, &rc);
	}
	for (size_t i = 0; rc == 0 && i < c.npaths; i++)
		c.paths[i] = dup_or_null(src.paths[i], &rc);
	c.r = src;
	c.r.file = c.file;
	c.r.images = (const char *const *)c.images;
	c.r.image_paths = (const char *const *)c.image_paths;
	c.r.paths = (const char *const *)c.paths;
	if (rc) {
		engine_rules_release(&c);
		return rc;
	}
	*out = c;
	return 0;
}

void engine_rules_release(struct engine_rules *c)
{
	for (size_t i = 0; c->images && i < c->nimages; i++)
		free(c->images[i]);
	for (size_t i = 0; c->image_paths && i < c->nimages; i++)
		free(c->image_paths[i]);
	for (size_t i = 0; c->paths && i < c->npaths; i++)
		free(c->paths[i]);
	free(c->images);
	free(c->image_paths);
	free(c->paths);
	free(c->file);
	memset(c, 0, sizeof *c);
}

/* ---- tags through the mapping (layout.h) ---- */

int engine_tag_values(char ***out, size_t *n, const char *doc, size_t len,
		      const struct layout_rules *r)
{
	struct layout l;
	struct buf err = BUF_INIT;
	char **v = NULL;
	size_t k = 0;
	int rc = layout_resolve(&l, r, doc, len, &err);

	if (rc == 0) {
		/* the first tag, and the first one that differs from it */
		for (size_t i = 0; rc == 0 && i < l.n; i++)
			if (k == 0 || (k == 1 && strcmp(v[0], l.locs[i].tag) != 0))
				rc = add_value(&v, &k, l.locs[i].tag, strlen(l.locs[i].tag));
		layout_release(&l);
	} else if (rc == ERR_NOTFOUND) {
		rc = 0;	/* no tag where the mapping says: none */
	} else if (rc != ERR_NOMEM) {
		/* unreadable under the mapping: two values that cannot agree
		 * make it mixed-tags with the layout's reason in the message */
		rc = add_value(&v, &k, "", 0);
		if (rc == 0)
			rc = add_value(&v, &k, err.data ? err.data : "unreadable",
				       err.data ? err.len : 10);
	}
	buf_release(&err);
	if (rc) {
		gitops_paths_free(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

bool engine_only_tags_changed(const char *base, size_t blen, const char *req, size_t rlen,
			      const struct layout_rules *r)
{
	struct buf b = BUF_INIT, q = BUF_INIT, err = BUF_INIT;
	bool same = false;

	/* with every tag (and digest) the mapping owns set to one
	 * placeholder, the files must be equal byte for byte: the tags' own
	 * values (equal or not, that is mixed-tags) do not count, anything
	 * else changed more than them */
	if (layout_mask(&b, r, base, blen, &err) == 0 && layout_mask(&q, r, req, rlen, &err) == 0)
		same = b.len == q.len && memcmp(b.data ? b.data : "", q.data ? q.data : "",
						 b.len) == 0;
	buf_release(&b);
	buf_release(&q);
	buf_release(&err);
	return same;
}

/* The layout check and the tag of stage in the values file at tip (when
 * every image's tag is the same full commit id). */
static void current_tag(struct engine_scan *s, struct gitops *g, const struct config *cfg,
			enum stage st)
{
	const struct config_stage *cs = &cfg->stages[st];
	struct layout_rules r;
	struct layout l;
	struct buf doc = BUF_INIT, tag = BUF_INIT, err = BUF_INIT;
	char id[GITOPS_HEXSZ + 1];
	int rc;

	if (!cs->values_path)
		return;
	rc = gitops_read_file(&doc, g, s->tip, cs->values_path);
	if (rc == ERR_NOTFOUND && cs->enabled)
		snprintf(s->layout_error[st], sizeof s->layout_error[st],
			 "%s does not exist on '%s' at %.7s", cs->values_path,
			 cfg->repository.branch, s->tip);
	if (rc)
		goto out;
	layout_rules_from_config(&r, cfg, st);
	rc = layout_resolve(&l, &r, doc.data ? doc.data : "", doc.len, &err);
	if (rc) {
		if (rc != ERR_NOMEM && cs->enabled)
			snprintf(s->layout_error[st], sizeof s->layout_error[st], "%s",
				 err.data ? err.data : "the values file does not fit the mapping");
		goto out;
	}
	rc = layout_current(&tag, &l, &err);
	layout_release(&l);
	if (rc || !tag.data || !tag_is_sha1(tag.data, tag.len))
		goto out;
	strlcpy_(s->current[st], tag.data, sizeof s->current[st]);
	/* the forty-zero placeholder, or a tag this history never had, is
	 * "nothing promoted yet": every candidate is newer */
	s->current_known[st] = gitops_resolve(id, g, tag.data) == 0 &&
			       gitops_is_ancestor(g, id, s->tip) == 1;
out:
	buf_release(&doc);
	buf_release(&tag);
	buf_release(&err);
}

static bool is_promotion(const struct history *h, const char *id)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->items[i].commit, id) == 0)
			return true;
	return false;
}

/* Candidates stop at the oldest tag any automatic stage holds: older
 * commits can never be promoted automatically again. */
static const char *candidate_stop(const struct engine_scan *s, struct gitops *g,
				  const struct config *cfg)
{
	const char *stop = NULL;

	for (int st = STAGE_BETA; st < STAGE_COUNT; st++) {
		const struct config_stage *cs = &cfg->stages[st];
		if (!cs->enabled || !cs->auto_promote)
			continue;
		if (!s->current_known[st])
			return NULL;
		if (!stop || gitops_is_ancestor(g, s->current[st], stop) == 1)
			stop = s->current[st];
	}
	return stop;
}

#define ROLLBACK_FLOORS 16

/* The releases an automatic stage was rolled back from that still matter:
 * those its current tag is not newer than (once the stage runs a release
 * newer than one, newer-than-current covers it).  A rollback source that
 * is not a commit of the mirror counts too: candidates equal to it are
 * still left alone. */
static size_t rollback_floors(const char **out, const struct engine_scan *s, struct gitops *g,
			      enum stage st)
{
	const char *all[ROLLBACK_FLOORS];
	size_t n = s->hist_ok ? history_rolled_back_from(all, ROLLBACK_FLOORS, &s->hist, st) : 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!s->current_known[st] || strcmp(all[i], s->current[st]) == 0 ||
		    gitops_is_ancestor(g, all[i], s->current[st]) != 1)
			out[k++] = all[i];
	return k;
}

/* Is release id not newer than any of the floors?  A floor the mirror
 * does not hold (1 or error) leaves only itself out. */
static bool rolled_back(struct gitops *g, const char *id, const char *const *floor, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(id, floor[i]) == 0 || gitops_is_ancestor(g, id, floor[i]) == 1)
			return true;
	return false;
}

static void list_candidates(struct engine_scan *s, struct gitops *g, const struct config *cfg)
{
	const char *floor[STAGE_COUNT][ROLLBACK_FLOORS];
	size_t nfloor[STAGE_COUNT] = { 0 };

	char (*ids)[GITOPS_HEXSZ + 1] = NULL;
	size_t n = 0;
	int rc = gitops_first_parents(&ids, &n, g, s->tip, candidate_stop(s, g, cfg),
				      ENGINE_MAX_CANDIDATES * 2);

	if (rc && rc != ERR_TOOBIG) {
		snprintf(s->error, sizeof s->error, "cannot walk '%.40s': %s", s->tip,
			 gitops_error(g));
		return;
	}
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		if (cfg->stages[st].enabled && cfg->stages[st].auto_promote)
			nfloor[st] = rollback_floors(floor[st], s, g, (enum stage)st);
	for (size_t i = 0; i < n && s->ncand < ENGINE_MAX_CANDIDATES; i++) {
		if (s->hist_ok && is_promotion(&s->hist, ids[i]))
			continue;	/* the daemon's own bumps are never releases */
		strlcpy_(s->cand[s->ncand], ids[i], sizeof s->cand[0]);
		for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
			s->newer[s->ncand][st] = !s->current_known[st] ||
				(strcmp(ids[i], s->current[st]) != 0 &&
				 gitops_is_ancestor(g, s->current[st], ids[i]) == 1);
		for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
			s->rolled_back[s->ncand][st] = rolled_back(g, ids[i], floor[st], nfloor[st]);
		s->ncand++;
	}
	free(ids);
}

int engine_scan_run(struct engine_scan *s, struct gitops *g, const struct config *cfg)
{
	struct buf err = BUF_INIT;

	if (gitops_resolve(s->tip, g, gitops_tracking_branch(g))) {
		snprintf(s->error, sizeof s->error, "the remote has no branch '%s': %s",
			 cfg->repository.branch, gitops_error(g));
		return ERR_NOTFOUND;
	}
	if (history_load(&s->hist, g, s->tip, NULL, &err) == 0) {
		s->hist_ok = true;
	} else {
		snprintf(s->error, sizeof s->error, "cannot read the promotion history: %s",
			 err.data ? err.data : gitops_error(g));
		buf_release(&err);
		return ERR_FAIL;
	}
	buf_release(&err);
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		current_tag(s, g, cfg, (enum stage)st);
	engine_freeze_scan(s, g, cfg);
	list_candidates(s, g, cfg);
	return s->error[0] ? ERR_FAIL : 0;
}

void engine_scan_free(struct engine_scan *s)
{
	if (!s)
		return;
	if (s->hist_ok)
		history_release(&s->hist);
	free(s->freeze);
	free(s->freeze_back);
	free(s);
}

/* ---- request facts ---- */

static void read_message(struct request_facts *f, const struct gitops_commit_info *ci)
{
	struct buf err = BUF_INIT;
	size_t len = strlen(ci->message);
	int rc;

	if (len > TRAILER_MESSAGE_MAX) {
		f->msg = POLICY_MSG_OVERSIZED;
		snprintf(f->msg_error, sizeof f->msg_error, "the message is %zu bytes, over %u",
			 len, TRAILER_MESSAGE_MAX);
		return;
	}
	rc = trailer_parse(&f->trailers, ci->message, len, &err);
	if (rc) {
		f->msg = rc == ERR_TOOBIG ? POLICY_MSG_OVERSIZED : POLICY_MSG_UNPARSABLE;
		snprintf(f->msg_error, sizeof f->msg_error, "%s",
			 err.data ? err.data : "unreadable trailers");
	}
	buf_release(&err);
}

static int diff_and_tags(struct request_facts *f, struct gitops *g, const struct config *cfg,
			 enum stage st, const char *tip, const char *req_id)
{
	const struct config_stage *cs = &cfg->stages[st];
	struct layout_rules lr;
	char base[GITOPS_HEXSZ + 1];
	struct buf rdoc = BUF_INIT, bdoc = BUF_INIT;
	int rc = 0;

	/* against the commit the request was built on; a merge or a root
	 * is refused for its shape, and for those the merge base (or, for
	 * unrelated histories, the tip: everything differs) only words the
	 * other checks */
	if (f->nparents == 1)
		strlcpy_(base, f->parent, sizeof base);
	else if (gitops_merge_base(base, g, tip, req_id))
		strlcpy_(base, tip, sizeof base);
	if (f->nparents == 1 && (rc = gitops_mode_change(&f->mode, g, base, req_id)) < 0)
		return rc;
	f->mode_changed = f->nparents == 1 && rc == 1;
	if ((rc = gitops_changed_paths(&f->paths, &f->npaths, g, base, req_id,
				       ENGINE_MAX_CHANGED_PATHS)))
		return rc;
	rc = gitops_read_file(&rdoc, g, req_id, cs->values_path);
	if (rc == ERR_NOTFOUND) {
		rc = 0;	/* no file: no tag, mixed-tags says so */
		goto out;
	}
	layout_rules_from_config(&lr, cfg, st);
	if (rc || (rc = engine_tag_values(&f->tags, &f->ntags, rdoc.data ? rdoc.data : "",
					  rdoc.len, &lr)))
		goto out;
	if (gitops_read_file(&bdoc, g, base, cs->values_path) == 0)
		f->only_tags = engine_only_tags_changed(bdoc.data ? bdoc.data : "", bdoc.len,
							rdoc.data ? rdoc.data : "", rdoc.len, &lr);
out:
	buf_release(&rdoc);
	buf_release(&bdoc);
	return rc;
}

static void read_note(struct request_facts *f, struct gitops *g, const char *req_id)
{
	struct buf note = BUF_INIT;
	char id[GITOPS_HEXSZ + 1];

	if (gitops_resolve(id, g, GITOPS_TRACKING "notes/pipelined") == 0 &&
	    gitops_note_read(&note, g, id, req_id) == 0)
		f->note = buf_detach(&note, NULL);
	buf_release(&note);
}

/* Merged, and by which promotion: what tells a request that is done (a
 * crash between the push of the branch and the clean-up) from one whose
 * commit is reused. */
static void used_facts(struct request_facts *f, struct gitops *g, const struct history *hist,
		       const char *tip, const char *req_id)
{
	const struct history_entry *used;

	f->merged = gitops_is_ancestor(g, req_id, tip) == 1;
	if (!(used = history_find_request(hist, req_id)))
		return;
	strlcpy_(f->used_by, used->commit, sizeof f->used_by);
	f->used_stage = used->stage;
	f->used_break_glass = used->break_glass != NULL;
}

/* Issue 14 item 3: past the approvals on top (history_request_walk) to
 * the request commit, whose info ci gets; each approval's shape and
 * signature. */
static int walk_approvals(struct request_facts *f, struct gitops_commit_info *ci,
			  struct gitops *g, const char *tip_id)
{
	struct history_request_chain ch;
	int rc;

	memset(ci, 0, sizeof *ci);
	if ((rc = history_request_walk(&ch, g, tip_id)))
		return rc;
	strlcpy_(f->request, ch.request, sizeof f->request);
	f->napprovals = ch.n;
	for (size_t i = 0; i < ch.n; i++) {
		struct fact_approval *a = &f->approvals[i];
		struct history_approval *h = &ch.approvals[i];

		strlcpy_(a->commit, h->commit, sizeof a->commit);
		strlcpy_(a->approves, h->approves, sizeof a->approves);
		a->author_name = h->author_name;
		a->author_email = h->author_email;
		h->author_name = h->author_email = NULL;
		buf_init(&a->sig, 64 * 1024);
		buf_init(&a->payload, TRAILER_MESSAGE_MAX * 2);
		a->is_signed = gitops_commit_signature(&a->sig, &a->payload, g, a->commit) == 0;
		a->shape = !h->same_tree ? POLICY_APPROVAL_CHANGES :
			   strcmp(h->approves, ch.request) != 0 ? POLICY_APPROVAL_OTHER :
			   !a->is_signed ? POLICY_APPROVAL_UNSIGNED : POLICY_APPROVAL_OK;
	}
	history_request_chain_release(&ch);
	return gitops_commit_info(ci, g, f->request);
}

int engine_facts_gather(struct request_facts **out, struct gitops *g, const struct config *cfg,
			const struct history *hist, const char *tip, const char *tip_id,
			enum stage stage)
{
	const struct config_stage *cs = &cfg->stages[stage];
	struct request_facts *f = calloc(1, sizeof *f);
	struct gitops_commit_info ci;
	const char *req_id;
	int rc = 0;

	if (!f)
		return ERR_NOMEM;
	buf_init(&f->sig, 64 * 1024);
	buf_init(&f->payload, TRAILER_MESSAGE_MAX * 2);
	strlcpy_(f->request, tip_id, sizeof f->request);
	if (walk_approvals(f, &ci, g, tip_id)) {
		gitops_commit_info_release(&ci);
		f->msg = POLICY_MSG_UNPARSABLE;
		snprintf(f->msg_error, sizeof f->msg_error, "%s", gitops_error(g));
		*out = f;
		return 0;
	}
	req_id = f->request;
	read_message(f, &ci);
	f->author_name = dup_s(ci.author_name);
	f->author_email = dup_s(ci.author_email);
	f->author_time = ci.author_time;
	f->author_offset = ci.author_offset_min;
	f->nparents = ci.nparents;
	strlcpy_(f->parent, ci.nparents ? ci.parents[0] : "", sizeof f->parent);
	gitops_commit_info_release(&ci);
	used_facts(f, g, hist, tip, req_id);
	if (f->nparents == 1 && (rc = gitops_is_ancestor(g, f->parent, tip)) < 0) {
		snprintf(f->error, sizeof f->error, "cannot read request '%.40s': %s", req_id,
			 gitops_error(g));
		*out = f;
		return 0;
	}
	f->parent_on_branch = f->nparents == 1 && rc == 1;
	if (cs->values_path && (rc = diff_and_tags(f, g, cfg, stage, tip, req_id)))
		snprintf(f->error, sizeof f->error, "cannot read request '%.40s': %s", req_id,
			 gitops_error(g));
	/* the note lives on the branch tip, approvals or not */
	read_note(f, g, tip_id);
	if (cs->require_signature || cs->approvals)
		f->is_signed = gitops_commit_signature(&f->sig, &f->payload, g, req_id) == 0;
	*out = f;
	return 0;
}

int engine_facts_note_only(struct request_facts **out, struct gitops *g,
			   const struct history *hist, const char *tip, const char *req_id)
{
	struct request_facts *f = calloc(1, sizeof *f);

	if (!f)
		return ERR_NOMEM;
	used_facts(f, g, hist, tip, req_id);
	read_note(f, g, req_id);
	*out = f;
	return 0;
}

int engine_branch_meta_read(struct engine_branch_meta *m, struct gitops *g, const char *notes)
{
	struct gitops_commit_info ci;
	struct buf note = BUF_INIT;

	memset(&ci, 0, sizeof ci);
	m->time = 0;
	m->author[0] = '\0';
	/* an unreadable tip sorts first and is judged (and refused) like any other */
	if (gitops_commit_info(&ci, g, m->id) == 0) {
		m->time = ci.committer_time;
		strlcpy_(m->author, ci.author_email ? ci.author_email : "", sizeof m->author);
		gitops_commit_info_release(&ci);
	}
	if (notes && gitops_note_read(&note, g, notes, m->id) == 0 && !(m->note = buf_detach(&note, NULL)))
		return ERR_NOMEM;
	buf_release(&note);
	return 0;
}

void engine_facts_free(struct request_facts *f)
{
	if (!f)
		return;
	trailer_list_release(&f->trailers);
	gitops_paths_free(f->paths, f->npaths);
	gitops_paths_free(f->tags, f->ntags);
	free(f->author_name);
	free(f->author_email);
	free(f->note);
	buf_release(&f->sig);
	buf_release(&f->payload);
	for (size_t i = 0; i < f->napprovals; i++) {
		free(f->approvals[i].author_name);
		free(f->approvals[i].author_email);
		buf_release(&f->approvals[i].sig);
		buf_release(&f->approvals[i].payload);
	}
	free(f);
}
