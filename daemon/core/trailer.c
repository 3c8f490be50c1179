/* trailer.c - see trailer.h */
#include "trailer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tag.h"
#include "trailer_block.h"

static const struct {
	const char *key;
	bool daemon_only;
} known_keys[] = {
	{ TRAILER_STAGE, true },
	{ TRAILER_SOURCE_STAGE, true },
	{ TRAILER_IMAGE_TAG, true },
	{ TRAILER_REQUESTED_BY, true },
	{ TRAILER_REQUEST, true },
	{ TRAILER_NOTES, false },
	{ TRAILER_BREAK_GLASS, false },
	{ TRAILER_MARKET, true },
	{ TRAILER_INTEGRATION_TEST, true },
	{ TRAILER_SIGNED_BY, true },
	{ TRAILER_OVERRODE, true },
	{ TRAILER_APPROVES, false },
	{ TRAILER_APPROVED_BY, true },
	/* issue 14 item 4 */
	{ TRAILER_ROLLBACK, false },
	{ TRAILER_ROLLED_BACK_FROM, true },
	{ TRAILER_ROLLBACK_ALLOWANCE, true },
};

static int known_index(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++)
		if (strcasecmp(key, known_keys[i].key) == 0)
			return (int)i;
	return -1;
}

bool trailer_key_known(const char *key)
{
	return key && known_index(key) >= 0;
}

bool trailer_key_daemon_only(const char *key)
{
	int i = key ? known_index(key) : -1;

	return i >= 0 && known_keys[i].daemon_only;
}

bool trailer_key_repeats(const char *key)
{
	return key && strcasecmp(key, TRAILER_APPROVED_BY) == 0;
}

/* git's isspace(): the only bytes its unfolding and trimming skip. */
static bool git_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *dup_trimmed_n(const char *s, size_t len)
{
	while (len && git_space(*s)) {
		s++;
		len--;
	}
	while (len && git_space(s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* `git interpret-trailers --unfold`: each newline and the whitespace after
 * it collapse to one space; v is already trimmed. */
static void unfold(char *v)
{
	size_t o = 0;

	for (size_t i = 0; v[i];) {
		char c = v[i++];

		if (c == '\n') {
			while (git_space(v[i]))
				i++;
			c = ' ';
		}
		v[o++] = c;
	}
	v[o] = '\0';
}

void trailer_list_release(struct trailer_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].key);
		free(list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* Marks an empty value for the block reader; see copy_line().  A value
 * that itself starts with this byte loses it, a control character that
 * trailer_sanitize_value() would drop anyway. */
#define EMPTY_MARK '\x01'

static int list_add(struct trailer_list *list, const char *key, const char *value)
{
	struct trailer *t;
	char *v;

	if (list->count == TRAILER_COUNT_MAX)
		return ERR_TOOBIG;
	t = realloc(list->items, (list->count + 1) * sizeof(*t));
	if (!t)
		return ERR_NOMEM;
	list->items = t;
	t = &list->items[list->count];
	if (value[0] == EMPTY_MARK)
		value++;
	t->key = dup_trimmed_n(key, strlen(key));
	t->value = v = dup_trimmed_n(value, strlen(value));
	if (!t->key || !t->value) {
		free(t->key);
		free(t->value);
		return ERR_NOMEM;
	}
	unfold(v);
	list->count++;
	return 0;
}

/* git stops reading a message at a scissors line (wt_status_locate_end);
 * libgit2 1.5 does not, so cut there first. */
static size_t scissors_cut(const char *msg, size_t len)
{
	static const char cut[] =
		"# ------------------------ >8 ------------------------\n";
	const size_t n = sizeof(cut) - 1;

	if (len >= n && memcmp(msg, cut, n) == 0)
		return 0;
	for (const char *p = msg; (p = memchr(p, '\n', len - (size_t)(p - msg))); p++)
		if ((size_t)(msg + len - (p + 1)) >= n && memcmp(p + 1, cut, n) == 0)
			return (size_t)(p + 1 - msg);
	return len;
}

/* "<token><blanks>:<blanks>" up to the end of the line: a trailer with an
 * empty value.  Returns the offset just past the colon, 0 if not. */
static size_t empty_value_at(const char *line)
{
	size_t i = 0, colon;

	while ((line[i] >= 'a' && line[i] <= 'z') || (line[i] >= 'A' && line[i] <= 'Z') ||
	       (line[i] >= '0' && line[i] <= '9') || line[i] == '-')
		i++;
	if (i == 0)
		return 0;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	if (line[i] != ':')
		return 0;
	colon = ++i;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	return line[i] == '\n' || line[i] == '\0' ? colon : 0;
}

/* Copy one line for the block reader, working around where its line
 * splitter (libgit2 1.5's rules) differs from git's: it continues a value
 * only on a space (git: any blank), so a leading tab becomes a space; and
 * an empty value ("Notes:")
 * makes it swallow the next line, hiding that trailer from the daemon while
 * `git log` shows it, so an empty value gets a mark that list_add() drops.
 * A "---" line that is no divider for git, or any with no_divider, is
 * defused. */
static void copy_line(struct buf *out, const char *line, size_t len, bool no_divider)
{
	size_t colon = empty_value_at(line);

	if (colon) {
		buf_add(out, line, colon);
		buf_addch(out, ' ');
		buf_addch(out, EMPTY_MARK);
		buf_add(out, line + colon, len - colon);
		return;
	}
	if (line[0] == '\t') {
		buf_addch(out, ' ');
		line++;
		len--;
	}
	/* libgit2 1.5 takes any line starting with "---" for the patch
	 * divider, git only "---" and a blank */
	if (len >= 3 && memcmp(line, "---", 3) == 0 && (no_divider || !git_space(line[3]))) {
		buf_add(out, "--_", 3);
		line += 3;
		len -= 3;
	}
	buf_add(out, line, len);
}

/* The copy trailer_block_read() reads: no CR (a CRLF message otherwise leaves "\r" in
 * every value, and a lone CR only serves to hide text on a terminal), cut
 * at a scissors line, lines adjusted by copy_line(). */
static int prepare(struct buf *out, const char *msg, size_t len, bool no_divider)
{
	struct buf nocr;
	int rc;

	buf_init(&nocr, TRAILER_MESSAGE_MAX + 1);
	rc = buf_grow(&nocr, len);
	if (rc)
		return rc;
	for (size_t i = 0; i < len; i++)
		if (msg[i] != '\r')
			nocr.data[nocr.len++] = msg[i];
	nocr.len = scissors_cut(nocr.data, nocr.len);
	nocr.data[nocr.len] = '\0';
	/* each line grows by at most two bytes */
	buf_init(out, 3 * nocr.len + 1);
	rc = buf_grow(out, 3 * nocr.len);
	if (rc == 0)
		out->data[0] = '\0';
	for (size_t i = 0; rc == 0 && i < nocr.len;) {
		const char *nl = memchr(nocr.data + i, '\n', nocr.len - i);
		size_t n = nl ? (size_t)(nl + 1 - (nocr.data + i)) : nocr.len - i;

		copy_line(out, nocr.data + i, n, no_divider);
		i += n;
	}
	buf_release(&nocr);
	if (rc)
		buf_release(out);
	return rc;
}

static int parse_view(struct trailer_list *out, const char *msg, size_t len,
		      bool no_divider, struct buf *err)
{
	struct trailer_block blk = { NULL, NULL, 0 };
	struct trailer_list list = { NULL, 0 };
	struct buf copy;
	int rc;

	*out = list;
	rc = prepare(&copy, msg, len, no_divider);
	if (rc)
		return rc;
	rc = trailer_block_read(&blk, copy.data);
	for (size_t i = 0; rc == 0 && i < blk.count; i++) {
		/* libgit2's rules make a key of "" from a blank-led line in a
		 * mixed block; git reads no trailer there */
		if (blk.items[i].key[0] == '\0')
			continue;
		rc = list_add(&list, blk.items[i].key, blk.items[i].value);
		if (rc == ERR_TOOBIG)
			buf_seterr(err, "commit message has more than %d trailers",
			     TRAILER_COUNT_MAX);
	}
	if (rc == 0)
		*out = list;
	else
		trailer_list_release(&list);
	trailer_block_release(&blk);
	buf_release(&copy);
	return rc;
}

static bool list_equal(const struct trailer_list *a, const struct trailer_list *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i].key, b->items[i].key) != 0 ||
		    strcmp(a->items[i].value, b->items[i].value) != 0)
			return false;
	return true;
}

int trailer_parse(struct trailer_list *out, const char *msg, size_t len,
		  struct buf *err)
{
	struct trailer_list a, b;
	int rc;

	/* out, like parse_view's lists, is an empty list on every failure:
	 * a caller may release it whatever the result */
	out->items = NULL;
	out->count = 0;
	if (len > TRAILER_MESSAGE_MAX) {
		buf_seterr(err, "commit message is %zu bytes, more than the %u allowed",
		     len, TRAILER_MESSAGE_MAX);
		return ERR_TOOBIG;
	}
	if (memchr(msg, '\0', len)) {
		buf_seterr(err, "commit message contains a NUL byte");
		return ERR_INVALID;
	}
	rc = parse_view(&a, msg, len, false, err);
	if (rc)
		return rc;
	/* `git interpret-trailers` stops at a "---" patch divider, `git log
	 * --format=%(trailers)` does not: if the two would read different
	 * trailers, the message is ambiguous and refused. */
	rc = parse_view(&b, msg, len, true, err);
	if (rc == 0 && !list_equal(&a, &b)) {
		buf_seterr(err, "a \"---\" line makes git read the trailers in two ways; "
		     "remove the line");
		rc = ERR_INVALID;
	}
	trailer_list_release(&b);
	if (rc == 0)
		*out = a;
	else
		trailer_list_release(&a);
	return rc;
}

const char *trailer_list_get(const struct trailer_list *list, const char *key)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcasecmp(list->items[i].key, key) == 0)
			return list->items[i].value;
	return NULL;
}

size_t trailer_list_count(const struct trailer_list *list, const char *key)
{
	size_t n = 0;

	for (size_t i = 0; i < list->count; i++)
		n += strcasecmp(list->items[i].key, key) == 0;
	return n;
}

const char *trailer_list_repeated(const struct trailer_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const char *key = list->items[i].key;

		if (trailer_key_known(key) && !trailer_key_repeats(key) &&
		    trailer_list_count(list, key) > 1)
			return key;
	}
	return NULL;
}

const char *trailer_list_forged(const struct trailer_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		if (trailer_key_daemon_only(list->items[i].key))
			return list->items[i].key;
	return NULL;
}

/* Length of the control character at s (C0, DEL, or a UTF-8 encoded C1
 * control such as U+009B, which some terminals read as CSI), 0 if none. */
static size_t control_len(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

int trailer_sanitize_value(struct buf *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, n = strlen(s);
	bool space = false;
	int rc = 0;

	if (n > max)
		return ERR_TOOBIG;
	while (*p && rc == 0) {
		size_t cl = control_len(p);

		if (cl || *p == ' ') {
			space = true;
			p += cl ? cl : 1;
			continue;
		}
		if (space && out->len > start)
			rc = buf_addch(out, ' ');
		space = false;
		if (rc == 0)
			rc = buf_addch(out, (char)*p++);
	}
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}

/* Code points that render as nothing or as blank space: Unicode White_Space
 * beyond ASCII, the zero-width and joiner characters, bidirectional marks
 * and controls, invisible operators, fillers, variation selectors, the BOM
 * and the tag characters.  A justification made only of these reads as
 * blank to the person who approves it, so it must count as blank here too. */
static const struct {
	uint32_t lo, hi;
} invisible[] = {
	{ 0x0080, 0x00a0 },   /* C1 controls (U+0085 NEL among them), no-break space */
	{ 0x00ad, 0x00ad },   /* soft hyphen */
	{ 0x034f, 0x034f },   /* combining grapheme joiner */
	{ 0x061c, 0x061c },   /* Arabic letter mark */
	{ 0x115f, 0x1160 },   /* Hangul fillers */
	{ 0x1680, 0x1680 },   /* ogham space mark */
	{ 0x17b4, 0x17b5 },   /* Khmer inherent vowels */
	{ 0x180b, 0x180f },   /* Mongolian free variation selectors, vowel separator */
	{ 0x2000, 0x200f },   /* en quad .. hair space, ZWSP, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x202f },   /* line/paragraph separators, bidi embeddings, NNBSP */
	{ 0x205f, 0x206f },   /* medium math space, word joiner, invisible operators, isolates */
	{ 0x2800, 0x2800 },   /* braille pattern blank */
	{ 0x3000, 0x3000 },   /* ideographic space */
	{ 0x3164, 0x3164 },   /* Hangul filler */
	{ 0xfe00, 0xfe0f },   /* variation selectors */
	{ 0xfeff, 0xfeff },   /* zero-width no-break space (BOM) */
	{ 0xffa0, 0xffa0 },   /* halfwidth Hangul filler */
	{ 0xfff9, 0xfffb },   /* interlinear annotation */
	{ 0x1bca0, 0x1bca3 }, /* shorthand format controls */
	{ 0x1d173, 0x1d17a }, /* musical symbol formatting */
	{ 0xe0000, 0xe0fff }, /* tags, variation selectors supplement */
};

/* Decodes the UTF-8 sequence at s strictly (no overlong forms, surrogates
 * or values past U+10FFFF).  Returns its length, 0 for an invalid one. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static bool cp_invisible(uint32_t c)
{
	if (c <= 0x20 || c == 0x7f)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(invisible); i++)
		if (c >= invisible[i].lo && c <= invisible[i].hi)
			return true;
	return false;
}

/* Bytes that are not UTF-8 count as blank too: they show as nothing or as
 * a replacement mark, never as words. */
bool trailer_text_blank(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		uint32_t c;
		size_t n = utf8_decode(p, &c);

		if (n && !cp_invisible(c))
			return false;
		p += n ? n : 1;
	}
	return true;
}

/* One body line: controls other than tab become spaces, trailing
 * whitespace goes, and a line git would read as the end of the message (a
 * "---" patch divider, a "#" comment or scissors line) is indented so that
 * no text in the notes can move where the trailer block is found. */
static int body_line(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len;
	int rc = 0;

	if ((len && s[0] == '#') || (len >= 3 && memcmp(s, "---", 3) == 0))
		rc = buf_addch(out, ' ');
	for (size_t i = 0; i < len && rc == 0;) {
		size_t cl = p[i] == '\t' ? 0 : control_len(p + i);

		if (cl && i + cl > len)
			cl = 1;
		rc = buf_addch(out, cl ? ' ' : (char)p[i]);
		i += cl ? cl : 1;
	}
	while (rc == 0 && out->len > start &&
	       (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		out->data[--out->len] = '\0';
	return rc;
}

/* The notes as body paragraphs: at most one blank line in a row, none at
 * either end; nothing at all for blank notes. */
static int add_body(struct buf *out, const char *notes)
{
	struct buf line;
	bool blank_pending = false, any = false;
	const char *s = notes;
	int rc = 0;

	buf_init(&line, TRAILER_FORMAT_MAX);
	while (*s && rc == 0) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		buf_reset(&line);
		rc = body_line(&line, s, len);
		if (rc == 0 && line.len == 0) {
			blank_pending = any;
		} else if (rc == 0) {
			if (any)
				rc = buf_adds(out, blank_pending ? "\n\n" : "\n");
			if (rc == 0)
				rc = buf_add(out, line.data, line.len);
			any = true;
			blank_pending = false;
		}
		s += len + (nl ? 1 : 0);
	}
	if (rc == 0 && any)
		rc = buf_adds(out, "\n\n");
	buf_release(&line);
	return rc;
}

static int add_trailer(struct buf *out, const char *key, const char *value,
		       size_t max, struct buf *err)
{
	size_t start = out->len;
	int rc = buf_printf(out, "%s: ", key);

	if (rc == 0)
		rc = trailer_sanitize_value(out, value, max);
	if (rc == ERR_TOOBIG && strlen(value) > max) {
		buf_seterr(err, "%s: value is %zu bytes, more than the %zu allowed",
		     key, strlen(value), max);
		return rc;
	}
	/* blank by the same rule as a justification (controls, invisible
	 * characters and bytes that are not UTF-8), not merely empty after
	 * sanitising: what an approver would read as nothing is nothing */
	if (rc == 0 && (out->len == start + strlen(key) + 2 || trailer_text_blank(value))) {
		out->len = start;
		out->data[start] = '\0';
		buf_seterr(err, "%s: value is blank", key);
		return ERR_INVALID;
	}
	return rc ? rc : buf_addch(out, '\n');
}

static int check_promotion(const struct trailer_promotion *p, struct buf *err)
{
	if ((unsigned)p->stage >= STAGE_COUNT || !stage_is_deploy(p->stage)) {
		buf_seterr(err, "Stage: not a deploy stage");
		return ERR_INVALID;
	}
	if ((unsigned)p->source >= (unsigned)p->stage) {
		buf_seterr(err, "Source-Stage: %s does not come before %s",
		     stage_name(p->source), stage_name(p->stage));
		return ERR_INVALID;
	}
	if (!p->image_tag || !tag_is_sha1(p->image_tag, strlen(p->image_tag))) {
		buf_seterr(err, "Image-Tag: not a 40-hex release id");
		return ERR_INVALID;
	}
	if (p->request && !tag_is_sha1(p->request, strlen(p->request))) {
		buf_seterr(err, "Request: not a 40-hex commit id");
		return ERR_INVALID;
	}
	if (p->napproved > TRAILER_APPROVALS_MAX || (p->napproved && !p->approved_by)) {
		buf_seterr(err, "%s: more than %d approvals", TRAILER_APPROVED_BY,
			   TRAILER_APPROVALS_MAX);
		return ERR_INVALID;
	}
	if (!p->rollback != !p->rolled_back_from ||
	    (p->rolled_back_from && !tag_is_sha1(p->rolled_back_from, strlen(p->rolled_back_from)))) {
		buf_seterr(err, "Rolled-Back-From: a rollback needs the 40-hex tag it replaces");
		return ERR_INVALID;
	}
	if (p->rollback_allowance && !p->rollback) {
		buf_seterr(err, "Rollback-Allowance: only a rollback may use it");
		return ERR_INVALID;
	}
	if (!p->market || !p->integration_test) {
		buf_seterr(err, "%s: value is missing",
		     p->market ? TRAILER_INTEGRATION_TEST : TRAILER_MARKET);
		return ERR_INVALID;
	}
	return 0;
}

static int add_optional(struct buf *out, const char *key, const char *value,
			size_t max, struct buf *err)
{
	if (value && strlen(value) > max) {
		buf_seterr(err, "%s: value is %zu bytes, more than the %zu allowed",
		     key, strlen(value), max);
		return ERR_TOOBIG;
	}
	if (trailer_text_blank(value))
		return 0;
	return add_trailer(out, key, value, max, err);
}

static int add_trailers(struct buf *m, const struct trailer_promotion *p,
			struct buf *err)
{
	int rc;

	rc = add_trailer(m, TRAILER_STAGE, stage_name(p->stage), TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_trailer(m, TRAILER_SOURCE_STAGE, stage_name(p->source),
				 TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_trailer(m, TRAILER_IMAGE_TAG, p->image_tag, TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_trailer(m, TRAILER_REQUESTED_BY,
				 p->requested_by ? p->requested_by : TRAILER_AUTOMATIC,
				 TRAILER_VALUE_MAX, err);
	if (!rc && p->request)
		rc = add_trailer(m, TRAILER_REQUEST, p->request, TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_optional(m, TRAILER_NOTES, p->notes, TRAILER_NOTES_MAX, err);
	if (!rc)
		rc = add_optional(m, TRAILER_BREAK_GLASS, p->break_glass,
				  TRAILER_JUSTIFICATION_MAX, err);
	if (!rc && (!trailer_text_blank(p->break_glass) || p->rollback_allowance))
		rc = add_optional(m, TRAILER_OVERRODE, p->overrode, TRAILER_VALUE_MAX, err);
	if (!rc && p->rollback)
		rc = add_trailer(m, TRAILER_ROLLBACK, p->rollback, TRAILER_JUSTIFICATION_MAX, err);
	if (!rc && p->rolled_back_from)
		rc = add_trailer(m, TRAILER_ROLLED_BACK_FROM, p->rolled_back_from,
				 TRAILER_VALUE_MAX, err);
	if (!rc && p->rollback_allowance)
		rc = add_trailer(m, TRAILER_ROLLBACK_ALLOWANCE, TRAILER_ALLOWANCE_MARKET,
				 TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_trailer(m, TRAILER_MARKET, p->market, TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_trailer(m, TRAILER_INTEGRATION_TEST, p->integration_test,
				 TRAILER_VALUE_MAX, err);
	if (!rc)
		rc = add_optional(m, TRAILER_SIGNED_BY, p->signed_by, TRAILER_VALUE_MAX, err);
	for (size_t i = 0; !rc && i < p->napproved; i++)
		rc = add_trailer(m, TRAILER_APPROVED_BY, p->approved_by[i], TRAILER_VALUE_MAX, err);
	return rc;
}

int trailer_format_promotion(struct buf *out, const struct trailer_promotion *p,
			     struct buf *err)
{
	struct buf m;
	int rc = check_promotion(p, err);

	if (rc)
		return rc;
	if (p->notes && strlen(p->notes) > TRAILER_NOTES_MAX) {
		buf_seterr(err, "Notes: value is %zu bytes, more than the %d allowed",
		     strlen(p->notes), TRAILER_NOTES_MAX);
		return ERR_TOOBIG;
	}
	buf_init(&m, TRAILER_FORMAT_MAX);
	rc = buf_printf(&m, "promote %s: %.7s from %s\n\n", stage_name(p->stage),
			p->image_tag, stage_name(p->source));
	if (!rc && p->notes)
		rc = add_body(&m, p->notes);
	if (!rc)
		rc = buf_adds(&m, "[skip ci]\n\n");
	if (!rc)
		rc = add_trailers(&m, p, err);
	if (!rc)
		rc = buf_add(out, m.data, m.len);
	if (rc == ERR_TOOBIG && err && err->len == 0)
		buf_seterr(err, "promotion message longer than %u bytes", TRAILER_FORMAT_MAX);
	buf_release(&m);
	return rc;
}

static int add_request_trailer(struct buf *msg, const char *key, const char *value, size_t max)
{
	if (!value)
		return 0;
	if (buf_printf(msg, "%s: ", key))
		return ERR_TOOBIG;
	if (trailer_sanitize_value(msg, value, max))
		return ERR_TOOBIG;
	return buf_addch(msg, '\n');
}

int trailer_format_request(struct buf *msg, const char *stage, const char *tag,
			   const char *notes, const char *break_glass, const char *rollback)
{
	struct trailer_list tl;
	int rc = 0;

	if (rollback && trailer_text_blank(rollback))
		return ERR_INVALID;
	buf_printf(msg, "%s %s: %.7s\n", rollback ? "rollback" : "promote", stage, tag);
	if (notes || break_glass || rollback)
		buf_addch(msg, '\n');
	if (add_request_trailer(msg, TRAILER_NOTES, notes, TRAILER_NOTES_MAX) ||
	    add_request_trailer(msg, TRAILER_BREAK_GLASS, break_glass, TRAILER_JUSTIFICATION_MAX) ||
	    add_request_trailer(msg, TRAILER_ROLLBACK, rollback, TRAILER_JUSTIFICATION_MAX))
		return ERR_TOOBIG;
	if (trailer_parse(&tl, msg->data, msg->len, NULL))
		return ERR_INVALID;
	if (trailer_list_forged(&tl) || trailer_list_repeated(&tl) ||
	    (notes && !trailer_list_get(&tl, TRAILER_NOTES)) ||
	    (break_glass && !trailer_list_get(&tl, TRAILER_BREAK_GLASS)) ||
	    (rollback && !trailer_list_get(&tl, TRAILER_ROLLBACK)))
		rc = ERR_INVALID;
	trailer_list_release(&tl);
	return rc;
}

int trailer_format_approval(struct buf *msg, const char *stage, const char *request)
{
	enum stage st;

	if (!request || !tag_is_sha1(request, strlen(request)) || !stage ||
	    stage_parse(&st, stage) < 0 || !stage_is_deploy(st))
		return ERR_INVALID;
	return buf_printf(msg, "approve %s: %.7s\n\n%s: %s\n", stage, request, TRAILER_APPROVES,
			  request);
}

static bool principal_chars_ok(const char *p)
{
	if (!p || !*p)
		return false;
	for (const unsigned char *s = (const unsigned char *)p; *s; s++)
		if (*s <= 0x20 || *s == 0x7f || *s == ',' || *s == '(' || *s == ')')
			return false;
	return true;
}

int trailer_format_approved_by(struct buf *out, const char *name, const char *email,
			       const char *principal, const char *approval)
{
	struct buf v;
	int rc;

	if (!principal_chars_ok(principal) || strlen(principal) > 255 || !approval ||
	    !tag_is_sha1(approval, strlen(approval)))
		return ERR_INVALID;
	buf_init(&v, TRAILER_VALUE_MAX);
	rc = trailer_sanitize_value(&v, name ? name : "", 128);
	if (!rc)
		rc = buf_adds(&v, " <");
	if (!rc)
		rc = trailer_sanitize_value(&v, email ? email : "", 128);
	if (!rc)
		rc = buf_printf(&v, "> (principal %s, approval %s)", principal, approval);
	if (!rc)
		rc = buf_add(out, v.data, v.len);
	buf_release(&v);
	return rc;
}

int trailer_parse_approved_by(char *principal, size_t principalsz, char approval[41],
			      const char *value)
{
	const char *open = value ? strstr(value, " (principal ") : NULL, *p, *comma;
	size_t n;

	/* the last " (principal " is ours: a name may contain the words */
	for (const char *q = open; q; q = strstr(q + 1, " (principal "))
		open = q;
	if (!open)
		return ERR_INVALID;
	p = open + 12;
	comma = strchr(p, ',');
	if (!comma || (n = (size_t)(comma - p)) == 0 || n >= principalsz ||
	    strncmp(comma, ", approval ", 11) != 0)
		return ERR_INVALID;
	if (strlen(comma + 11) != 41 || comma[11 + 40] != ')' ||
	    !tag_is_sha1(comma + 11, 40))
		return ERR_INVALID;
	memcpy(principal, p, n);
	principal[n] = '\0';
	if (!principal_chars_ok(principal))
		return ERR_INVALID;
	memcpy(approval, comma + 11, 40);
	approval[40] = '\0';
	return 0;
}
