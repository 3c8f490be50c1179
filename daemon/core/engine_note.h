/* engine_note.h - pure: the one note a request commit carries
 * (engine_note.c). */
#ifndef PIPELINED_ENGINE_NOTE_H
#define PIPELINED_ENGINE_NOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "stage.h"
#include "util.h"

#define ENGINE_NOTE_TEXT_MAX (64 * 1024)	/* bytes of one commit's note */

struct engine_verdict {
	const char *branch;	/* "promote/<stage>/<name>" */
	const char *message;	/* the refusal, as policy wrote it */
};

/* The note of a request commit, from every verdict on it: a commit merged
 * by a promotion carries accepted ("accepted: promoted into paper"), and
 * nothing else, for ever; otherwise one verdict is its message, several
 * are one line "<branch>: <message>" each, in byte order of the branch
 * names (the order they were listed in does not matter).  Each line ends
 * in a newline; past ENGINE_NOTE_TEXT_MAX the last line says how many
 * verdicts were left out.  ERR_NOTFOUND when there is nothing to say. */
int engine_note_text(struct buf *out, const char *accepted, const struct engine_verdict *v,
		     size_t n);
/* "accepted: promoted into <stage>[ with break-glass]\n": what the merge
 * writes, and what a merged commit's note is. */
void engine_accepted_note(char *out, size_t outsz, enum stage st, bool break_glass);

#endif
