/* trailer_block.h - the trailer block of a commit message, found and split
 * by the rules of libgit2's git_message_trailers (libgit2 1.5, itself after
 * git's trailer.c), in the pure core so that trailer.c needs no library.
 *
 * Raw on purpose: keys and values are what that reader yields, with no
 * trimming, unfolding or CR handling; trailer.c prepares the message and
 * normalises the result (trailer.h).  The differential test
 * (tests/unit/test_trailer_block.c) and fuzz target
 * (fuzz/fuzz_trailer_block.c) hold the two readers to the same output.
 *
 * The rules, in order:
 *   1. the message ends at the first line starting with "---" (a patch);
 *   2. trailing blank lines, '#' comment lines and an old "Conflicts:" block
 *      (tab-indented paths) are not part of the block;
 *   3. the block is the last paragraph after the title paragraph, read
 *      bottom-up: every non-comment line a trailer ("Token: value", the token
 *      of [A-Za-z0-9-] then optional blanks), or, when it holds a
 *      "Signed-off-by: " or "(cherry picked from commit " line, at least a
 *      quarter trailers; space-led lines continue the line above;
 *   4. each line of the block is split into key and value: a line that does
 *      not start "token[blanks]:" is skipped, blanks after ':' are skipped,
 *      the value runs to the end of the line and over every next line that
 *      starts with a space.  A value that would start at the end of a line
 *      ("Key:" alone) starts at its newline and so takes the next line.
 */
#ifndef PIPELINED_TRAILER_BLOCK_H
#define PIPELINED_TRAILER_BLOCK_H

#include <stddef.h>

struct trailer_block_item {
	const char *key;	/* into text */
	const char *value;	/* into text */
};

struct trailer_block {
	char *text;		/* the block, cut into NUL-terminated keys and values */
	struct trailer_block_item *items;
	size_t count;
};

/* Read the trailers of msg (NUL-terminated).  0, or ERR_NOMEM with *out
 * zeroed.  Release with trailer_block_release(). */
int trailer_block_read(struct trailer_block *out, const char *msg);
void trailer_block_release(struct trailer_block *b);

#endif
