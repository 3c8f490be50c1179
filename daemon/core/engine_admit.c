/* engine_admit.c - pure: which request branches the engine tracks when
 * there are more than its bounds allow ([requests] max and perAuthor).
 *
 * A branch that holds a slot keeps it while it exists (a request being
 * judged or merged never loses its place because an older commit was
 * pushed meanwhile).  Free slots go to the oldest tips first, by commit
 * time, then by name, so that the order depends on Git alone and the same
 * listing gives the same answer; an author who already holds perAuthor
 * slots is passed over, so one author's leftovers or junk cannot take every
 * slot.  A branch without a slot is refused as queue-full, with a note that
 * names the bound, and is admitted in the same order once slots free up.
 * No logging, no clock, no engine state. */
#include "engine_admit.h"
#include "policy.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* qsort has no context argument: the array being sorted is passed in
 * through this file-local pointer, set and cleared around each call (the
 * function is called on the loop thread only). */
static const struct admit_branch *sort_b;

static const char *author_of(const struct admit_branch *b)
{
	return b->author ? b->author : "";
}

static int by_author(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = strcasecmp(author_of(&sort_b[i]), author_of(&sort_b[j]));

	return c ? c : (i > j) - (i < j);
}

static int by_age(const void *x, const void *y)
{
	const struct admit_branch *a = &sort_b[*(const size_t *)x], *b = &sort_b[*(const size_t *)y];

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

int engine_admit(enum admit_result *out, const struct admit_branch *b, size_t n, size_t max,
		 size_t per_author)
{
	size_t *idx, *group, *count, ngroups = 0, total = 0, k = 0;

	if (n == 0)
		return 0;
	idx = calloc(n, sizeof *idx);
	group = calloc(n, sizeof *group);
	count = calloc(n, sizeof *count);
	if (!idx || !group || !count) {
		free(idx);
		free(group);
		free(count);
		return ERR_NOMEM;
	}
	/* authors as small numbers: sort by author, number the runs */
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_b = b;
	qsort(idx, n, sizeof *idx, by_author);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcasecmp(author_of(&b[idx[i]]), author_of(&b[idx[i - 1]])) != 0)
			ngroups++;
		group[idx[i]] = ngroups;
	}
	/* the slots already held count first, whatever the bounds are now */
	for (size_t i = 0; i < n; i++) {
		out[i] = ADMIT_SLOT;
		if (b[i].tracked) {
			count[group[i]]++;
			total++;
		} else {
			idx[k++] = i;
		}
	}
	qsort(idx, k, sizeof *idx, by_age);
	sort_b = NULL;
	for (size_t j = 0; j < k; j++) {
		size_t i = idx[j];
		if (count[group[i]] >= per_author) {
			out[i] = ADMIT_FULL_AUTHOR;
		} else if (total >= max) {
			out[i] = ADMIT_FULL_MAX;
		} else {
			count[group[i]]++;
			total++;
		}
	}
	free(idx);
	free(group);
	free(count);
	return 0;
}

void engine_admit_message(char *out, size_t outsz, enum admit_result r, size_t max,
			  size_t per_author)
{
	/* no counts that change from cycle to cycle: the note is written once */
	if (r == ADMIT_FULL_AUTHOR)
		snprintf(out, outsz, "%s: the author of this commit already has %zu request "
			 "branches being tracked (requests.perAuthor); this one waits for a "
			 "slot, given oldest commit first, and is judged then; delete the "
			 "request branches that are no longer needed, refused ones included",
			 policy_code_name(POLICY_QUEUE_FULL), per_author);
	else if (r == ADMIT_FULL_MAX)
		snprintf(out, outsz, "%s: %zu request branches are being tracked "
			 "(requests.max); this one waits for a slot, given oldest commit "
			 "first, and is judged then; slots free up as requests are merged and "
			 "refused branches are deleted", policy_code_name(POLICY_QUEUE_FULL), max);
	else
		snprintf(out, outsz, "has a slot");
}

bool engine_refusal_expired(int64_t tip_time, int64_t now, uint64_t expire_ms)
{
	/* seconds, as commit times are; a tip dated in the future is not old */
	return expire_ms > 0 && tip_time > 0 && now >= tip_time &&
	       (uint64_t)(now - tip_time) >= expire_ms / 1000;
}
