/* engine_facts.c - what Git says, gathered off the loop thread: the scan of
 * the mirror after a fetch (history, current tags, candidate releases) and
 * the facts about one request tip that policy_check needs.  Touches only
 * the gitops handle and its own results, never engine state. */
#include "engine_int.h"
#include "sigverify.h"
#include "yamledit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATHS(l) ((const char *const *)(l))

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

/* yamledit_get refuses disagreeing tags with 'value "B" differs from "A"';
 * policy wants both values to name them. */
static int split_differ(char ***v, size_t *n, const char *msg)
{
	const char *b = strstr(msg, "value \""), *mid, *a, *end;

	if (!b)
		return ERR_NOTFOUND;
	b += 7;
	if (!(mid = strstr(b, "\" differs from \"")))
		return ERR_NOTFOUND;
	a = mid + 16;
	if (!(end = strchr(a, '"')))
		return ERR_NOTFOUND;
	if (add_value(v, n, a, (size_t)(end - a)) || add_value(v, n, b, (size_t)(mid - b)))
		return ERR_NOMEM;
	return 0;
}

int engine_tag_values(char ***out, size_t *n, const char *doc, size_t len,
		      char *const *paths, size_t npaths)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	char **v = NULL;
	size_t k = 0;
	int rc = yamledit_get(&value, doc, len, PATHS(paths), npaths, &err);

	if (rc == 0)
		rc = add_value(&v, &k, value.data ? value.data : "", value.len);
	else if (rc == ERR_NOTFOUND)
		rc = 0;
	else if (rc == ERR_REJECTED && err.data && split_differ(&v, &k, err.data) == 0)
		rc = 0;
	else if (rc != ERR_NOMEM) {
		/* unreadable at the tag paths: two values that cannot agree
		 * make it mixed-tags with yamledit's reason in the message */
		rc = add_value(&v, &k, "", 0);
		if (rc == 0)
			rc = add_value(&v, &k, err.data ? err.data : "unreadable",
				       err.data ? err.len : 10);
	}
	buf_release(&value);
	buf_release(&err);
	if (rc) {
		gitops_paths_free(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

/* A value YAML reads as a number, so yamledit writes it double-quoted into
 * a plain scalar too: a tag that only gained or lost its double quotes
 * normalises to the same bytes. */
#define TAG_PLACEHOLDER "0"

static int tags_masked(struct buf *out, const char *doc, size_t len, char *const *paths,
		       size_t npaths)
{
	struct buf err = BUF_INIT;
	int rc = yamledit_apply(out, NULL, doc, len, PATHS(paths), npaths, TAG_PLACEHOLDER, &err);

	buf_release(&err);
	return rc;
}

bool engine_only_tags_changed(const char *base, size_t blen, const char *req, size_t rlen,
			      char *const *paths, size_t npaths)
{
	struct buf b = BUF_INIT, r = BUF_INIT;
	bool same = false;

	/* with every tag scalar of both set to one placeholder, the files must
	 * be equal byte for byte: the tags' own values (equal or not, that is
	 * mixed-tags) do not count, anything else changed more than them */
	if (tags_masked(&b, base, blen, paths, npaths) == 0 &&
	    tags_masked(&r, req, rlen, paths, npaths) == 0)
		same = b.len == r.len && memcmp(b.data ? b.data : "", r.data ? r.data : "",
						 b.len) == 0;
	buf_release(&b);
	buf_release(&r);
	return same;
}

/* The tag of stage in the values file at tip, when every tag scalar holds
 * the same full commit id. */
static void current_tag(struct engine_scan *s, struct gitops *g, const struct config *cfg,
			enum stage st)
{
	const struct config_stage *cs = &cfg->stages[st];
	struct buf doc = BUF_INIT;
	char **v = NULL, id[GITOPS_HEXSZ + 1];
	size_t n = 0;

	if (!cs->values_path || gitops_read_file(&doc, g, s->tip, cs->values_path))
		goto out;
	if (engine_tag_values(&v, &n, doc.data ? doc.data : "", doc.len, cs->tag_paths.v,
			      cs->tag_paths.n) || n != 1 || !tag_is_sha1(v[0], strlen(v[0])))
		goto out;
	strlcpy_(s->current[st], v[0], sizeof s->current[st]);
	/* the forty-zero placeholder, or a tag this history never had, is
	 * "nothing promoted yet": every candidate is newer */
	s->current_known[st] = gitops_resolve(id, g, v[0]) == 0 &&
			       gitops_is_ancestor(g, id, s->tip) == 1;
out:
	gitops_paths_free(v, n);
	buf_release(&doc);
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

static void list_candidates(struct engine_scan *s, struct gitops *g, const struct config *cfg)
{
	char (*ids)[GITOPS_HEXSZ + 1] = NULL;
	size_t n = 0;
	int rc = gitops_first_parents(&ids, &n, g, s->tip, candidate_stop(s, g, cfg),
				      ENGINE_MAX_CANDIDATES * 2);

	if (rc && rc != ERR_TOOBIG) {
		snprintf(s->error, sizeof s->error, "cannot walk '%.40s': %s", s->tip,
			 gitops_error(g));
		return;
	}
	for (size_t i = 0; i < n && s->ncand < ENGINE_MAX_CANDIDATES; i++) {
		if (s->hist_ok && is_promotion(&s->hist, ids[i]))
			continue;	/* the daemon's own bumps are never releases */
		strlcpy_(s->cand[s->ncand], ids[i], sizeof s->cand[0]);
		for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
			s->newer[s->ncand][st] = !s->current_known[st] ||
				(strcmp(ids[i], s->current[st]) != 0 &&
				 gitops_is_ancestor(g, s->current[st], ids[i]) == 1);
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
	list_candidates(s, g, cfg);
	return s->error[0] ? ERR_FAIL : 0;
}

void engine_scan_free(struct engine_scan *s)
{
	if (!s)
		return;
	if (s->hist_ok)
		history_release(&s->hist);
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

static int diff_and_tags(struct request_facts *f, struct gitops *g, const struct config_stage *cs,
			 const char *tip, const char *req_id)
{
	char base[GITOPS_HEXSZ + 1];
	struct buf rdoc = BUF_INIT, bdoc = BUF_INIT;
	int rc;

	/* unrelated histories: everything the request has differs */
	if (gitops_merge_base(base, g, tip, req_id))
		strlcpy_(base, tip, sizeof base);
	if ((rc = gitops_changed_paths(&f->paths, &f->npaths, g, base, req_id,
				       ENGINE_MAX_CHANGED_PATHS)))
		return rc;
	rc = gitops_read_file(&rdoc, g, req_id, cs->values_path);
	if (rc == ERR_NOTFOUND) {
		rc = 0;	/* no file: no tag, mixed-tags says so */
		goto out;
	}
	if (rc || (rc = engine_tag_values(&f->tags, &f->ntags, rdoc.data ? rdoc.data : "",
					  rdoc.len, cs->tag_paths.v, cs->tag_paths.n)))
		goto out;
	if (gitops_read_file(&bdoc, g, base, cs->values_path) == 0)
		f->only_tags = engine_only_tags_changed(bdoc.data ? bdoc.data : "", bdoc.len,
							rdoc.data ? rdoc.data : "", rdoc.len,
							cs->tag_paths.v, cs->tag_paths.n);
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

int engine_facts_gather(struct request_facts **out, struct gitops *g, const struct config *cfg,
			const struct history *hist, const char *tip, const char *req_id,
			enum stage stage)
{
	const struct config_stage *cs = &cfg->stages[stage];
	struct request_facts *f = calloc(1, sizeof *f);
	struct gitops_commit_info ci;
	const struct history_entry *used;
	int rc;

	if (!f)
		return ERR_NOMEM;
	buf_init(&f->sig, 64 * 1024);
	buf_init(&f->payload, TRAILER_MESSAGE_MAX * 2);
	memset(&ci, 0, sizeof ci);
	if (gitops_commit_info(&ci, g, req_id)) {
		f->msg = POLICY_MSG_UNPARSABLE;
		snprintf(f->msg_error, sizeof f->msg_error, "%s", gitops_error(g));
		*out = f;
		return 0;
	}
	read_message(f, &ci);
	f->author_name = dup_s(ci.author_name);
	f->author_email = dup_s(ci.author_email);
	f->author_time = ci.author_time;
	f->author_offset = ci.author_offset_min;
	gitops_commit_info_release(&ci);
	f->merged = gitops_is_ancestor(g, req_id, tip) == 1;
	if ((used = history_find_request(hist, req_id)))
		strlcpy_(f->used_by, used->commit, sizeof f->used_by);
	if (cs->values_path && (rc = diff_and_tags(f, g, cs, tip, req_id)))
		snprintf(f->error, sizeof f->error, "cannot read request '%.40s': %s", req_id,
			 gitops_error(g));
	read_note(f, g, req_id);
	if (cs->require_signature)
		f->is_signed = gitops_commit_signature(&f->sig, &f->payload, g, req_id) == 0;
	*out = f;
	return 0;
}

int engine_facts_note_only(struct request_facts **out, struct gitops *g, const char *req_id)
{
	struct request_facts *f = calloc(1, sizeof *f);

	if (!f)
		return ERR_NOMEM;
	read_note(f, g, req_id);
	*out = f;
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
	free(f);
}
