/* history.c - the promotion history read back from the trailers of the
 * tracked branch's first-parent commits (history.h).  Only the first
 * parent counts: request commits reach the branch as second parents of the
 * daemon's merges and must never read as promotions themselves. */
#include "history.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_opt(const struct trailer_list *tl, const char *key, bool *oom)
{
	const char *v = trailer_list_get(tl, key);
	char *s;

	if (!v)
		return NULL;
	s = xstrndup(v, strlen(v));
	if (!s)
		*oom = true;
	return s;
}

static char *dup_str(const char *v, bool *oom)
{
	char *s = xstrndup(v, strlen(v));

	if (!s)
		*oom = true;
	return s;
}

/* A deploy stage named by the trailer key, or STAGE_COUNT. */
static enum stage stage_of(const struct trailer_list *tl, const char *key, bool deploy_only)
{
	const char *v = trailer_list_get(tl, key);
	enum stage s;

	if (!v || stage_parse(&s, v) < 0 || (deploy_only && !stage_is_deploy(s)))
		return STAGE_COUNT;
	return s;
}

int history_entry_from_commit(struct history_entry *out, const struct gitops_commit_info *ci,
			      const struct trailer_list *tl)
{
	struct history_entry e;
	const char *tag = trailer_list_get(tl, TRAILER_IMAGE_TAG);
	const char *req = trailer_list_get(tl, TRAILER_REQUEST);
	bool oom = false;

	memset(&e, 0, sizeof e);
	e.stage = stage_of(tl, TRAILER_STAGE, true);
	if (e.stage == STAGE_COUNT || !tag || !tag_is_sha1(tag, strlen(tag)))
		return ERR_NOTFOUND;
	e.source = stage_of(tl, TRAILER_SOURCE_STAGE, false);
	strlcpy_(e.commit, ci->id, sizeof e.commit);
	strlcpy_(e.tag, tag, sizeof e.tag);
	if (req && tag_is_sha1(req, strlen(req)))
		strlcpy_(e.request, req, sizeof e.request);
	e.requested_by = dup_opt(tl, TRAILER_REQUESTED_BY, &oom);
	e.notes = dup_opt(tl, TRAILER_NOTES, &oom);
	e.break_glass = dup_opt(tl, TRAILER_BREAK_GLASS, &oom);
	e.market = dup_opt(tl, TRAILER_MARKET, &oom);
	e.integration_test = dup_opt(tl, TRAILER_INTEGRATION_TEST, &oom);
	e.signed_by = dup_opt(tl, TRAILER_SIGNED_BY, &oom);
	e.overrode = dup_opt(tl, TRAILER_OVERRODE, &oom);
	e.rollback = dup_opt(tl, TRAILER_ROLLBACK, &oom);
	{
		const char *from = trailer_list_get(tl, TRAILER_ROLLED_BACK_FROM);

		if (from && tag_is_sha1(from, strlen(from)))
			strlcpy_(e.rolled_back_from, from, sizeof e.rolled_back_from);
	}
	e.rollback_allowance = trailer_list_get(tl, TRAILER_ROLLBACK_ALLOWANCE) != NULL;
	if (trailer_list_get(tl, TRAILER_APPROVED_BY)) {
		struct buf ab = BUF_INIT;

		for (size_t i = 0; i < tl->count; i++)
			if (strcasecmp(tl->items[i].key, TRAILER_APPROVED_BY) == 0 &&
			    buf_printf(&ab, "%s%s", ab.len ? "\n" : "", tl->items[i].value))
				oom = true;
		e.approved_by = buf_detach(&ab, NULL);
		oom |= !e.approved_by;
	}
	e.committer_name = dup_str(ci->committer_name, &oom);
	e.committer_email = dup_str(ci->committer_email, &oom);
	e.time = ci->committer_time;
	e.offset_min = ci->committer_offset_min;
	/* the subject line only, not the whole message copied and cut */
	e.subject = xstrndup(ci->message, strcspn(ci->message, "\n"));
	oom |= !e.subject;
	if (oom) {
		history_entry_release(&e);
		return ERR_NOMEM;
	}
	*out = e;
	return 0;
}

void history_entry_release(struct history_entry *e)
{
	if (!e)
		return;
	free(e->requested_by);
	free(e->notes);
	free(e->break_glass);
	free(e->market);
	free(e->integration_test);
	free(e->signed_by);
	free(e->overrode);
	free(e->rollback);
	free(e->approved_by);
	free(e->committer_name);
	free(e->committer_email);
	free(e->subject);
	memset(e, 0, sizeof *e);
}

static int append(struct history *h, size_t *cap, const struct history_entry *e)
{
	if (h->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct history_entry *ni = realloc(h->items, ncap * sizeof *ni);

		if (!ni)
			return ERR_NOMEM;
		h->items = ni;
		*cap = ncap;
	}
	h->items[h->n++] = *e;
	return 0;
}

int history_add_commit(struct history *h, size_t *cap, const struct gitops_commit_info *ci)
{
	struct trailer_list tl = { 0 };
	struct history_entry e;
	int rc = 0;

	if (trailer_parse(&tl, ci->message, strlen(ci->message), NULL) == 0 &&
	    (rc = history_entry_from_commit(&e, ci, &tl)) == 0) {
		rc = append(h, cap, &e);
		if (rc)
			history_entry_release(&e);
	}
	if (rc == ERR_NOTFOUND)
		rc = 0;
	trailer_list_release(&tl);
	return rc;
}

void history_release(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		history_entry_release(&h->items[i]);
	free(h->items);
	memset(h, 0, sizeof *h);
}

const struct history_entry *history_latest(const struct history *h, enum stage stage)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->items[i].stage == stage)
			return &h->items[i];
	return NULL;
}

bool history_has_tag(const struct history *h, enum stage stage, const char *tag)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->items[i].stage == stage && strcmp(h->items[i].tag, tag) == 0)
			return true;
	return false;
}

const struct history_entry *history_find_request(const struct history *h, const char *id)
{
	if (!id || !*id)
		return NULL;
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->items[i].request, id) == 0)
			return &h->items[i];
	return NULL;
}

int history_tags(const char ***out, size_t *n, const struct history *h, enum stage stage)
{
	const char **v = calloc(h->n ? h->n : 1, sizeof *v);
	size_t k = 0;

	if (!v)
		return ERR_NOMEM;
	for (size_t i = 0; i < h->n; i++)
		if (h->items[i].stage == stage)
			v[k++] = h->items[i].tag;
	*out = v;
	*n = k;
	return 0;
}

bool history_approves(char out[GITOPS_HEXSZ + 1], const char *message)
{
	struct trailer_list tl;
	const char *v;
	size_t len = strlen(message);
	bool found = false;

	if (len > TRAILER_MESSAGE_MAX || trailer_parse(&tl, message, len, NULL))
		return false;
	if ((v = trailer_list_get(&tl, TRAILER_APPROVES))) {
		strlcpy_(out, v, GITOPS_HEXSZ + 1);
		found = true;
	}
	trailer_list_release(&tl);
	return found;
}

void history_request_chain_release(struct history_request_chain *c)
{
	for (size_t i = 0; c && i < c->n; i++) {
		free(c->approvals[i].author_name);
		free(c->approvals[i].author_email);
	}
	if (c)
		c->n = 0;
}

/* ---- rollbacks (issue 14 item 4) ---- */

int history_rollback_target(char *out, const struct history *h, enum stage stage)
{
	const char **stack = calloc(h->n ? h->n : 1, sizeof *stack);
	size_t top = 0;

	if (!stack)
		return ERR_NOMEM;
	for (size_t i = h->n; i-- > 0;) {
		const struct history_entry *e = &h->items[i];
		size_t k = top;

		if (e->stage != stage)
			continue;
		if (e->rollback)
			while (k > 0 && strcmp(stack[k - 1], e->tag) != 0)
				k--;
		if (e->rollback && k > 0)
			top = k;	/* back to it */
		else if (top == 0 || strcmp(stack[top - 1], e->tag) != 0)
			stack[top++] = e->tag;	/* (the same release twice is one step) */
	}
	if (top >= 2)
		strlcpy_(out, stack[top - 2], GITOPS_HEXSZ + 1);
	free(stack);
	return top >= 2 ? 0 : ERR_NOTFOUND;
}

size_t history_rolled_back_from(const char **out, size_t max, const struct history *h,
				enum stage stage)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n && n < max; i++) {
		const struct history_entry *e = &h->items[i];
		bool dup = false;

		if (e->stage != stage || !e->rollback || !e->rolled_back_from[0])
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(out[j], e->rolled_back_from) == 0;
		if (!dup)
			out[n++] = e->rolled_back_from;
	}
	return n;
}
