/* engine_note.c - pure: the one note a request commit carries.
 *
 * Several request branches may point at one commit (promote/paper/a and
 * promote/PAPER/a), each with its own verdict.  The note is a function of
 * all of them, so that it is written once per change of that text and
 * never flips between branches from one cycle to the next; a commit that
 * a promotion merged keeps its accepted note whatever else points at it.
 * No logging, no git: the engine compares the text with the remote's. */
#include "engine_note.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void engine_accepted_note(char *out, size_t outsz, enum stage st, bool break_glass)
{
	snprintf(out, outsz, "accepted: promoted into %s%s\n", stage_name(st),
		 break_glass ? " with break-glass" : "");
}

static int by_branch(const void *a, const void *b)
{
	const struct engine_verdict *x = *(const struct engine_verdict *const *)a;
	const struct engine_verdict *y = *(const struct engine_verdict *const *)b;

	return strcmp(x->branch, y->branch);
}

int engine_note_text(struct buf *out, const char *accepted, const struct engine_verdict *v,
		     size_t n)
{
	const struct engine_verdict **sorted;
	char more[96];
	size_t i;
	int rc = 0;

	buf_reset(out);
	if (accepted)
		return buf_adds(out, accepted);
	if (n == 0)
		return ERR_NOTFOUND;
	if (n == 1)
		return buf_printf(out, "%s\n", v[0].message);
	if (!(sorted = malloc(n * sizeof *sorted)))
		return ERR_NOMEM;
	for (i = 0; i < n; i++)
		sorted[i] = &v[i];
	qsort(sorted, n, sizeof *sorted, by_branch);
	for (i = 0; i < n; i++) {
		size_t need = strlen(sorted[i]->branch) + strlen(sorted[i]->message) + 3;
		/* room for this line and, should more follow, the last one */
		if (out->len + need + sizeof more > ENGINE_NOTE_TEXT_MAX)
			break;
		if ((rc = buf_printf(out, "%s: %s\n", sorted[i]->branch, sorted[i]->message)))
			break;
	}
	if (rc == 0 && i < n) {
		snprintf(more, sizeof more, "... and %zu more request branch(es) at this commit; "
			 "see the status\n", n - i);
		rc = buf_adds(out, more);
	}
	free(sorted);
	return rc;
}
