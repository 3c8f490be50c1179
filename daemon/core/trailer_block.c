/* trailer_block.c - see trailer_block.h */
#include "trailer_block.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '\v';
}

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Offset of the line after the one at s (the end of the string when s is
 * the last line). */
static size_t line_after(const char *msg, const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl ? (size_t)(nl + 1 - msg) : strlen(msg);
}

/* Nothing but whitespace up to the end of the line. */
static bool blank_line(const char *s)
{
	while (*s && *s != '\n' && is_space(*s))
		s++;
	return *s == '\0' || *s == '\n';
}

/* Rule 1: where a patch starts, or the length of msg.  libgit2 1.5 takes
 * any line that starts with "---" (git wants a whitespace byte after it:
 * trailer.c defuses the other "---" lines before they get here). */
static size_t patch_start(const char *msg)
{
	size_t at = 0;

	while (msg[at]) {
		if (starts_with(msg + at, "---"))
			return at;
		at = line_after(msg, msg + at);
	}
	return at;
}

/* Rule 2: the end of the block within msg[0, len).  A run of blank and
 * comment lines (or a Conflicts: block) that reaches len is cut off; a run
 * that starts at offset 0 does not count (as in libgit2, where offset 0
 * stands for "no run"). */
static size_t block_end(const char *msg, size_t len)
{
	size_t run = 0, at = 0;
	bool conflicts = false;

	while (at < len) {
		const char *nl = memchr(msg + at, '\n', len - at);
		size_t next = nl ? (size_t)(nl + 1 - msg) : len;

		if (msg[at] == '#' || msg[at] == '\n') {
			if (!run)
				run = at;
		} else if (starts_with(msg + at, "Conflicts:\n")) {
			conflicts = true;
			if (!run)
				run = at;
		} else if (conflicts && msg[at] == '\t') {
			;	/* a path of the Conflicts: block */
		} else if (run) {
			run = 0;
			conflicts = false;
		}
		at = next;
	}
	return run ? run : len;
}

/* The start of the line before offset end within msg[0, end): false when
 * end is 0.  A newline at end - 1 belongs to that line. */
static bool line_before(size_t *out, const char *msg, size_t end)
{
	*out = 0;
	if (end == 0)
		return false;
	for (size_t i = end >= 2 ? end - 2 : 0; i > 0; i--)
		if (msg[i] == '\n') {
			*out = i + 1;
			return true;
		}
	return true;
}

/* "token[blanks]:" at the start of line: the offset of the colon, 0 if
 * the line is not of that form (or starts with the colon). */
static size_t colon_of(const char *line)
{
	bool blanks = false;

	for (const char *c = line; *c; c++) {
		if (*c == ':')
			return (size_t)(c - line);
		if (!blanks && is_token_char(*c))
			continue;
		if (c != line && (*c == ' ' || *c == '\t')) {
			blanks = true;
			continue;
		}
		break;
	}
	return 0;
}

/* Rule 3: the start of the block within msg[0, len), or len if none. */
static size_t block_start(const char *msg, size_t len)
{
	static const char *const generated[] = {
		"Signed-off-by: ", "(cherry picked from commit ",
	};
	size_t title_end = 0, at = len;
	int trailers = 0, others = 0, continuations = 0;
	bool generated_seen = false, all_blank = true;

	while (title_end < len && (msg[title_end] == '#' || !blank_line(msg + title_end)))
		title_end = line_after(msg, msg + title_end);
	while (line_before(&at, msg, at) && at >= title_end) {
		const char *line = msg + at;
		bool is_generated = false;

		if (line[0] == '#') {
			others += continuations;
			continuations = 0;
			continue;
		}
		if (blank_line(line)) {
			if (all_blank)
				continue;
			others += continuations;
			if ((generated_seen && trailers * 3 >= others) || (trailers && !others))
				return line_after(msg, line);
			return len;
		}
		all_blank = false;
		for (size_t i = 0; i < ARRAY_SIZE(generated); i++)
			if (starts_with(line, generated[i]))
				is_generated = true;
		if (is_generated) {
			trailers++;
			continuations = 0;
			generated_seen = true;
		} else if (colon_of(line) >= 1 && !is_space(line[0])) {
			trailers++;
			continuations = 0;
		} else if (is_space(line[0])) {
			continuations++;
		} else {
			others += 1 + continuations;
			continuations = 0;
		}
	}
	return len;
}

static int add_item(struct trailer_block *b, size_t *cap, const char *key, const char *value)
{
	if (array_grow((void **)&b->items, cap, b->count, sizeof(*b->items)))
		return ERR_NOMEM;
	b->items[b->count].key = key;
	b->items[b->count].value = value;
	b->count++;
	return 0;
}

/* Rule 4, on the block's own copy: cuts it into keys and values. */
static int split_block(struct trailer_block *b)
{
	char *p = b->text;
	size_t cap = 0;

	while (*p) {
		char *key = p, *value;

		while (is_token_char(*p))
			p++;
		if (*p == ' ' || *p == '\t') {
			*p++ = '\0';
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ':')
				goto skip_line;
			p++;
		} else if (*p == ':') {
			*p++ = '\0';
		} else {
			goto skip_line;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		value = p++;	/* even a newline: "Key:" alone takes the next line */
		for (;;) {
			if (!*p)
				break;
			if (*p == '\n' && p[1] == ' ') {
				p += 2;
				continue;
			}
			if (*p == '\n') {
				*p++ = '\0';
				break;
			}
			p++;
		}
		if (add_item(b, &cap, key, value))
			return ERR_NOMEM;
		continue;
skip_line:
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
	}
	return 0;
}

int trailer_block_read(struct trailer_block *out, const char *msg)
{
	size_t end = block_end(msg, patch_start(msg));
	size_t start = block_start(msg, end);
	struct trailer_block b = { NULL, NULL, 0 };

	b.text = xstrndup(msg + start, end - start);
	if (!b.text || split_block(&b)) {
		trailer_block_release(&b);
		memset(out, 0, sizeof(*out));
		return ERR_NOMEM;
	}
	*out = b;
	return 0;
}

void trailer_block_release(struct trailer_block *b)
{
	if (!b)
		return;
	free(b->text);
	free(b->items);
	b->text = NULL;
	b->items = NULL;
	b->count = 0;
}
