/* yamledit.c - see yamledit.h
 *
 * Three passes over libyaml's event stream: find the target scalars and
 * their byte ranges, splice the new values into a copy of the input, then
 * parse the original and the copy side by side and demand that they differ
 * only in the targeted values.  libyaml's marks count characters (code
 * points, CRLF = 2, a leading BOM not at all), so every mark is converted to
 * a byte offset.  The four entry points share the walk and differ only in
 * what a target does (struct ed.mode): apply and set splice (one tag for
 * every path, or one value per path), get compares, find records.
 */
#include "yamledit.h"
#include "tag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define STR_(x)		#x
#define STR(x)		STR_(x)
#define NAME_MAX_SHOWN	64	/* bytes of one key shown in a message */
#define OUT_MAX		(64u * 1024 * 1024)

struct seg {
	const char *s;
	size_t len;
	bool star;
	bool is_index;
	size_t index;
};

struct path {
	const char *text;
	struct seg seg[YAMLEDIT_MAX_SEGMENTS];
	size_t nseg;
};

struct key {
	char *s;
	size_t len;
};

/* A mapping or sequence that at least one path descends into.  Containers
 * off every path are only counted (struct ed.skip), never stacked. */
struct frame {
	uint64_t mask;		/* paths whose first depth segments lead here */
	size_t depth;		/* segments consumed to reach this container */
	bool is_map;
	bool flow;		/* a {...} or [...] node: plain scalars end at ':' there */
	size_t merge_line;	/* 1-based line of this mapping's first '<<' key, or 0 */
	bool want_key;
	bool have_key;		/* the pending mapping value has a scalar key */
	size_t index;		/* sequence: index of the current item */
	struct key *keys;	/* mapping: scalar keys so far, for duplicates */
	size_t nkeys, capkeys;
	struct buf name;	/* concrete path of this container, for messages */
};

struct target {
	size_t ordinal;		/* event number in the stream */
	size_t b0, b1;		/* byte range of the old value (with quotes) */
	const char *val;	/* the new value (borrowed from the caller) */
	size_t vlen;
	char quote;		/* 0 plain, or the quote character to write */
	bool changed;
};

enum mode {
	MODE_APPLY,		/* one tag for every path; each path matches */
	MODE_GET,		/* every target holds the same value */
	MODE_FIND,		/* record every target; no path has to match */
	MODE_SET,		/* values[p] for path p; each matches exactly once */
};

/* libyaml mark index (characters after the BOM) -> byte offset.  Marks are
 * asked for in stream order, so the cursor only moves forward. */
struct cursor {
	size_t b, c, bom;
};

struct ed {
	const unsigned char *in;
	size_t len;
	const struct path *paths;
	size_t npaths;
	const char *tag;
	size_t taglen;
	enum mode mode;
	const char *const *values;	/* MODE_SET: one per path */
	size_t hits[YAMLEDIT_MAX_PATHS];	/* MODE_SET: scalars each path matched */
	struct yamledit_scalar *found;	/* MODE_FIND */
	size_t nfound, capfound;
	struct frame stack[YAMLEDIT_MAX_SEGMENTS + 1];
	size_t sp;
	size_t skip;		/* nesting depth inside an off-path container */
	size_t ordinal;
	uint64_t matched;	/* paths that matched at least one scalar */
	struct target *targets;
	size_t ntargets, captargets;
	struct cursor cur;
	struct buf value;	/* yamledit_get: the first target's value */
	struct buf value_at;	/* ... and where it is */
	struct buf *err;
	int rc;
};

typedef void event_fn(struct ed *ed, const yaml_event_t *ev);

static uint64_t bit(size_t i)
{
	return (uint64_t)1 << i;
}

/* b may be NULL (a caller that wants only the code): nothing is written. */
static void add_shown(struct buf *b, const char *s, size_t len)
{
	size_t n = len > NAME_MAX_SHOWN ? NAME_MAX_SHOWN : len;

	if (!b)
		return;
	while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;	/* cut before a UTF-8 character, not inside one */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_addch(b, (char)c);
	}
	if (n < len)
		buf_adds(b, "...");
}

/* The path named in a message: the first one in mask, or all of them. */
static void add_paths(struct ed *ed, uint64_t mask)
{
	bool first = true;

	for (size_t i = 0; i < ed->npaths; i++) {
		if (!(mask & bit(i)))
			continue;
		if (!first)
			buf_adds(ed->err, ", ");
		add_shown(ed->err, ed->paths[i].text, strlen(ed->paths[i].text));
		first = false;
		if (mask != UINT64_MAX)
			break;
	}
	buf_adds(ed->err, ": ");
}

/* Every message is written through here or add_shown: err may be NULL. */
static void err_printf(struct buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_printf(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* Record the first failure only: later ones are consequences of it.  With
 * no err buffer only the code is kept. */
static void fail(struct ed *ed, int rc, uint64_t mask, const struct buf *where,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fail(struct ed *ed, int rc, uint64_t mask, const struct buf *where,
		 const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (ed->rc)
		return;
	ed->rc = rc;
	if (!ed->err)
		return;
	add_paths(ed, mask);
	for (i = 0; i < ed->npaths && !(mask & bit(i)); i++)
		;
	if (where && where->len && i < ed->npaths && strcmp(where->data, ed->paths[i].text) != 0)
		buf_printf(ed->err, "at %s: ", where->data);
	va_start(ap, fmt);
	buf_vprintf(ed->err, fmt, ap);
	va_end(ap);
}

/* ---- tag paths ---- */

static bool seg_index(struct seg *sg)
{
	size_t v = 0;

	if (sg->len == 0 || sg->len > 9 || (sg->s[0] == '0' && sg->len > 1))
		return false;
	for (size_t i = 0; i < sg->len; i++) {
		if (sg->s[i] < '0' || sg->s[i] > '9')
			return false;
		v = v * 10 + (size_t)(sg->s[i] - '0');
	}
	sg->index = v;
	return true;
}

static int path_error(struct buf *why, const char *msg)
{
	if (why)
		buf_adds(why, msg);
	return -1;
}

static int path_parse(struct path *p, const char *text, struct buf *why)
{
	size_t len = strlen(text), start = 0;

	p->text = text;
	p->nseg = 0;
	if (len == 0 || len > YAMLEDIT_PATH_MAX)
		return path_error(why, "a tag path has 1 to " STR(YAMLEDIT_PATH_MAX) " bytes");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return path_error(why, "control character in the tag path");
	for (size_t i = 0; i <= len; i++) {
		struct seg *sg;

		if (i < len && text[i] != '.')
			continue;
		if (i == start)
			return path_error(why, "empty segment in the tag path");
		if (p->nseg == YAMLEDIT_MAX_SEGMENTS)
			return path_error(why, "more than " STR(YAMLEDIT_MAX_SEGMENTS)
					       " segments in the tag path");
		sg = &p->seg[p->nseg++];
		sg->s = text + start;
		sg->len = i - start;
		sg->star = sg->len == 1 && sg->s[0] == '*';
		sg->is_index = seg_index(sg);
		start = i + 1;
	}
	return 0;
}

bool yamledit_path_valid(const char *path, struct buf *why)
{
	struct path p;

	return path && path_parse(&p, path, why) == 0;
}

/* ---- marks ---- */

static void cursor_init(struct cursor *c, const unsigned char *s, size_t n)
{
	c->bom = n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF ? 3 : 0;
	c->b = c->bom;
	c->c = 0;
}

static size_t cursor_byte(struct cursor *c, const unsigned char *s, size_t n, size_t cidx)
{
	if (cidx < c->c) {
		c->b = c->bom;
		c->c = 0;
	}
	while (c->b < n && c->c < cidx) {
		c->b++;
		while (c->b < n && (s[c->b] & 0xC0) == 0x80)
			c->b++;
		c->c++;
	}
	return c->b;
}

/* ---- would a plain scalar read as something other than a string? ---- */

static size_t span(const char *s, size_t n, const char *set)
{
	size_t i = 0;

	while (i < n && s[i] && strchr(set, s[i]))
		i++;
	return i;
}

/* Integers and floats of YAML 1.1 (with '_' separators, 0b/0x/leading-0
 * octal, sexagesimal 1:30) and of YAML 1.2 (0o, 1e10).  Generous on purpose:
 * a needless pair of quotes costs nothing, a tag read as 1.1 breaks a deploy.
 * "1.2.3" stays plain: no YAML implementation reads it as a number. */
static bool looks_numeric(const char *s, size_t n)
{
	size_t i = 0, m, dots = 0, digits = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (n - i > 2 && s[i] == '0' && strchr("xXoObB", s[i + 1]))
		return span(s + i + 2, n - i - 2, "0123456789abcdefABCDEF_") == n - i - 2;
	for (; i < n && strchr("0123456789_.:", s[i]) && s[i]; i++) {
		dots += s[i] == '.';
		digits += s[i] >= '0' && s[i] <= '9';
	}
	if (!digits || dots > 1)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		m = span(s + i, n - i, "0123456789");
		if (m == 0)
			return false;
		i += m;
	}
	return i == n;
}

static bool is_word(const char *s, size_t n)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~",
		".inf", "-.inf", "+.inf", ".nan", "=", "<<",
	};

	if (n == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
			return true;
	return false;
}

/* YAML 1.1 timestamps start with yyyy-m-d; quote anything that does. */
static bool looks_date(const char *s, size_t n)
{
	size_t i = span(s, n, "0123456789"), m;

	if (i != 4 || i >= n || s[i] != '-')
		return false;
	m = span(s + i + 1, n - i - 1, "0123456789");
	if (m < 1 || m > 2 || i + 1 + m >= n || s[i + 1 + m] != '-')
		return false;
	i += 2 + m;
	m = span(s + i, n - i, "0123456789");
	return m >= 1 && m <= 2;
}

static bool plain_needs_quotes(const char *s, size_t n)
{
	return is_word(s, n) || looks_numeric(s, n) || looks_date(s, n);
}

/* ---- pass 1: find the targets ---- */

static struct frame *top(struct ed *ed)
{
	return ed->sp ? &ed->stack[ed->sp - 1] : NULL;
}

static void node_done(struct ed *ed)
{
	struct frame *f = top(ed);

	if (!f)
		return;
	if (f->is_map)
		f->want_key = !f->want_key;
	else
		f->index++;
}

static uint64_t child_mask(struct ed *ed, const struct frame *f)
{
	const struct key *k = f->nkeys ? &f->keys[f->nkeys - 1] : NULL;
	uint64_t m = 0;

	if (f->is_map && !f->have_key)
		return 0;
	for (size_t p = 0; p < ed->npaths; p++) {
		const struct seg *sg = &ed->paths[p].seg[f->depth];
		bool hit;

		if (!(f->mask & bit(p)))
			continue;
		if (f->is_map)
			hit = sg->star || (sg->len == k->len && memcmp(sg->s, k->s, k->len) == 0);
		else
			hit = sg->star || (sg->is_index && sg->index == f->index);
		if (hit)
			m |= bit(p);
	}
	return m;
}

static void child_name(struct buf *name, const struct frame *f)
{
	buf_init(name, 4096);
	if (!f) {
		buf_adds(name, "");
		return;
	}
	buf_add(name, f->name.data, f->name.len);
	if (f->name.len)
		buf_addch(name, '.');
	if (f->is_map)
		add_shown(name, f->keys[f->nkeys - 1].s, f->keys[f->nkeys - 1].len);
	else
		buf_printf(name, "%zu", f->index);
}

static void frame_release(struct frame *f)
{
	for (size_t i = 0; i < f->nkeys; i++)
		free(f->keys[i].s);
	free(f->keys);
	buf_release(&f->name);
	memset(f, 0, sizeof(*f));
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void check_duplicates(struct ed *ed, struct frame *f)
{
	if (f->nkeys < 2)
		return;
	qsort(f->keys, f->nkeys, sizeof(*f->keys), key_cmp);
	for (size_t i = 1; i < f->nkeys; i++) {
		struct buf k = BUF_INIT;

		if (key_cmp(&f->keys[i - 1], &f->keys[i]) != 0)
			continue;
		add_shown(&k, f->keys[i].s, f->keys[i].len);
		fail(ed, ERR_REJECTED, f->mask, NULL, "duplicate key \"%s\" %s%s", k.data,
		     f->name.len ? "in " : "at the top level", f->name.len ? f->name.data : "");
		buf_release(&k);
		return;
	}
}

static int frame_add_key(struct frame *f, const yaml_char_t *v, size_t len)
{
	struct key *k;

	if (f->nkeys == f->capkeys) {
		size_t cap = f->capkeys ? f->capkeys * 2 : 16;
		struct key *nk = realloc(f->keys, cap * sizeof(*nk));

		if (!nk)
			return ERR_NOMEM;
		f->keys = nk;
		f->capkeys = cap;
	}
	k = &f->keys[f->nkeys];
	k->s = xstrndup((const char *)v, len);
	k->len = len;
	if (!k->s)
		return ERR_NOMEM;
	f->nkeys++;
	return 0;
}

static void on_key(struct ed *ed, struct frame *f, const yaml_event_t *ev)
{
	const yaml_char_t *v = ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	f->have_key = false;
	if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) {
		ed->skip = 1;	/* a complex key: never matches; node_done at its end */
		return;
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		bool merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag &&
			     len == 2 && memcmp(v, "<<", 2) == 0;

		if (frame_add_key(f, v, len)) {
			fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
			return;
		}
		/* The merged values are never walked (they live at the anchor);
		 * whether the paths may pass this mapping is decided at its end,
		 * when every explicit key is known (check_merge). */
		if (merge && !f->merge_line)
			f->merge_line = ev->start_mark.line + 1;
		f->have_key = !merge;
	}
	node_done(ed);
}

static bool has_key(const struct frame *f, const char *s, size_t len)
{
	for (size_t i = 0; i < f->nkeys; i++)
		if (f->keys[i].len == len && memcmp(f->keys[i].s, s, len) == 0)
			return true;
	return false;
}

/* A mapping with a merge key (<<): YAML takes an explicit key over a merged
 * one, so a path whose next key is written here is safe to follow; a key
 * that is not written here may come from the merge (and editing it would
 * mean editing the anchor), and a '*' would have to list merged keys. */
static void check_merge(struct ed *ed, const struct frame *f)
{
	const char *where = f->name.len ? f->name.data : "the top level";

	for (size_t p = 0; p < ed->npaths && !ed->rc; p++) {
		const struct seg *sg = &ed->paths[p].seg[f->depth];
		struct buf k = BUF_INIT;

		if (!(f->mask & bit(p)))
			continue;
		if (sg->star) {
			fail(ed, ERR_REJECTED, bit(p), NULL,
			     "'*' would list the keys of %s, which has a merge key (<<) at line %zu; "
			     "merged keys cannot be edited (name the keys explicitly)",
			     where, f->merge_line);
		} else if (!has_key(f, sg->s, sg->len)) {
			add_shown(&k, sg->s, sg->len);
			fail(ed, ERR_REJECTED, bit(p), NULL,
			     "key \"%s\" of %s may come from the merge key (<<) at line %zu; "
			     "write it explicitly there to edit it", k.data ? k.data : "", where,
			     f->merge_line);
			buf_release(&k);
		}
	}
}

static const char *shown_tag(const char *tag, char *tmp, size_t tmpsz)
{
	static const char prefix[] = "tag:yaml.org,2002:";

	if (strncmp(tag, prefix, sizeof(prefix) - 1) == 0) {
		snprintf(tmp, tmpsz, "!!%s", tag + sizeof(prefix) - 1);
		return tmp;
	}
	return tag;
}

/* YAML line breaks: LF, CR, and in UTF-8 NEL, LINE and PARAGRAPH SEPARATOR. */
static bool has_break(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			return true;
		if (i + 1 < n && s[i] == 0xC2 && s[i + 1] == 0x85)
			return true;
		if (i + 2 < n && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
			return true;
	}
	return false;
}

static bool is_str_tag(const yaml_char_t *tag)
{
	return tag && strcmp((const char *)tag, "tag:yaml.org,2002:str") == 0;
}

/* A scalar's event starts at its properties: step over an explicit !!str
 * (which stays) to the value's first byte, on the same line. */
static size_t skip_tag(const unsigned char *in, size_t b0, size_t b1)
{
	if (b0 >= b1 || in[b0] != '!')
		return SIZE_MAX;
	while (b0 < b1 && in[b0] != ' ' && in[b0] != '\t' && in[b0] != '\n' && in[b0] != '\r')
		b0++;
	while (b0 < b1 && (in[b0] == ' ' || in[b0] == '\t'))
		b0++;
	return b0 < b1 && in[b0] != '\n' && in[b0] != '\r' ? b0 : SIZE_MAX;
}

/* The scalar itself may be edited: one line, no anchor, block style or
 * explicit tag other than !!str.  *b0 moves past a !!str tag. */
static bool target_ok(struct ed *ed, const yaml_event_t *ev, uint64_t m, const struct buf *name,
		      size_t *b0p, size_t b1)
{
	const unsigned char *in = ed->in;
	size_t b0 = *b0p;
	char tmp[96];

	if (ev->data.scalar.anchor)
		fail(ed, ERR_REJECTED, m, name,
		     "value is anchored (&%s); editing it would change every alias of it",
		     (const char *)ev->data.scalar.anchor);
	else if (ev->data.scalar.tag && !is_str_tag(ev->data.scalar.tag))
		fail(ed, ERR_REJECTED, m, name, "value has an explicit tag (%s)",
		     shown_tag((const char *)ev->data.scalar.tag, tmp, sizeof(tmp)));
	else if (ev->data.scalar.tag && (b0 = skip_tag(in, b0, b1)) == SIZE_MAX)
		fail(ed, ERR_REJECTED, m, name, "value is not on the line of its !!str tag");
	else if (ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		 ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
		fail(ed, ERR_REJECTED, m, name, "value is a block scalar (| or >)");
	else if (b1 < b0 || has_break(in + b0, b1 - b0))
		fail(ed, ERR_REJECTED, m, name, "value spans several lines");
	else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && b1 == b0)
		fail(ed, ERR_REJECTED, m, name, "value is empty (null); write \"\" to make it a string");
	else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		 (b1 - b0 != ev->data.scalar.length ||
		  memcmp(in + b0, ev->data.scalar.value, b1 - b0) != 0))
		fail(ed, ERR_FAIL, m, name, "cannot locate the value in the input");
	else if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
		 (b1 - b0 < 2 || in[b0] != in[b1 - 1] || (in[b0] != '"' && in[b0] != '\'')))
		fail(ed, ERR_FAIL, m, name, "cannot locate the quoted value in the input");
	*b0p = b0;
	return ed->rc == 0;
}

/* yamledit_get: every target must hold the first target's value. */
static bool same_value(struct ed *ed, const yaml_event_t *ev, uint64_t m, const struct buf *name)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct buf a = BUF_INIT, b = BUF_INIT;

	if (ed->ntargets == 0) {
		if (buf_add(&ed->value, v, len) || buf_add(&ed->value_at, name->data, name->len))
			fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
		return ed->rc == 0;
	}
	if (len == ed->value.len && memcmp(v, ed->value.data, len) == 0)
		return true;
	add_shown(&a, ed->value.data, ed->value.len);
	add_shown(&b, v, len);
	fail(ed, ERR_REJECTED, m, name, "value \"%s\" differs from \"%s\" at %s", b.data, a.data,
	     ed->value_at.data);
	buf_release(&a);
	buf_release(&b);
	return false;
}

/* The concrete path of the scalar the top frame is at: each level's key or
 * index, as written (a '*' of the tag path becomes what it matched). */
static int concrete_path(const struct ed *ed, struct buf *out)
{
	int rc = 0;

	buf_init(out, 2 * YAMLEDIT_PATH_MAX + 4096);
	for (size_t i = 0; i < ed->sp && !rc; i++) {
		const struct frame *f = &ed->stack[i];

		if (i)
			rc = buf_addch(out, '.');
		if (!rc && f->is_map)
			rc = buf_add(out, f->keys[f->nkeys - 1].s, f->keys[f->nkeys - 1].len);
		else if (!rc)
			rc = buf_printf(out, "%zu", f->index);
	}
	return rc ? rc : buf_add(out, "", 0);
}

/* yamledit_find: one record per path that matches the scalar. */
static void record(struct ed *ed, const yaml_event_t *ev, uint64_t m, size_t b0, size_t column)
{
	struct buf path = BUF_INIT;

	if (concrete_path(ed, &path)) {
		fail(ed, ERR_TOOBIG, m, NULL, "the concrete path is too long");
		buf_release(&path);
		return;
	}
	for (size_t p = 0; p < ed->npaths && !ed->rc; p++) {
		struct yamledit_scalar *sc;

		if (!(m & bit(p)))
			continue;
		if (array_grow((void **)&ed->found, &ed->capfound, ed->nfound, sizeof(*ed->found))) {
			fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
			break;
		}
		sc = &ed->found[ed->nfound];
		memset(sc, 0, sizeof(*sc));
		sc->path = xstrndup(path.data, path.len);
		sc->value = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!sc->path || !sc->value) {
			free(sc->path);
			free(sc->value);
			fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
			break;
		}
		ed->nfound++;
		sc->ipath = p;
		sc->line = ev->start_mark.line + 1;
		sc->column = column;
		sc->len = ev->data.scalar.length;
		sc->quote = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : (char)ed->in[b0];
	}
	buf_release(&path);
}

/* yamledit_set: the value of the first path in m; every other path that
 * names the same scalar must want the same value. */
static bool set_value(struct ed *ed, uint64_t m, const struct buf *name, const char **val)
{
	*val = NULL;
	for (size_t p = 0; p < ed->npaths; p++) {
		if (!(m & bit(p)))
			continue;
		ed->hits[p]++;
		if (!*val)
			*val = ed->values[p];
		else if (strcmp(*val, ed->values[p]) != 0)
			fail(ed, ERR_INVALID, m, name, "two paths set this scalar to different values");
	}
	return ed->rc == 0;
}

/* Would the new plain value read back as the same string? */
static bool needs_quotes(const struct ed *ed, const yaml_event_t *ev, const char *v, size_t n)
{
	const struct frame *f = ed->sp ? &ed->stack[ed->sp - 1] : NULL;

	if (is_str_tag(ev->data.scalar.tag))
		return false;	/* the tag already makes any plain text a string */
	if (n && (v[0] == '@' || v[0] == ':'))
		return true;	/* indicators that cannot start a plain scalar */
	if (f && f->flow && memchr(v, ':', n))
		return true;	/* older readers end a flow plain scalar at ':' */
	return plain_needs_quotes(v, n);
}

static void add_target(struct ed *ed, const yaml_event_t *ev, uint64_t m, const struct buf *name)
{
	size_t b0 = cursor_byte(&ed->cur, ed->in, ed->len, ev->start_mark.index);
	size_t b1 = cursor_byte(&ed->cur, ed->in, ed->len, ev->end_mark.index);
	size_t ev_b0 = b0;
	const char *val = ed->tag;
	struct target *t;
	size_t oldlen;

	if (!target_ok(ed, ev, m, name, &b0, b1))
		return;
	if (ed->mode == MODE_FIND) {
		record(ed, ev, m, b0, ev->start_mark.column + 1 + (b0 - ev_b0));
		ed->matched |= m;
		return;
	}
	if (array_grow((void **)&ed->targets, &ed->captargets, ed->ntargets, sizeof(*ed->targets))) {
		fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
		return;
	}
	if (ed->mode == MODE_GET && !same_value(ed, ev, m, name))
		return;
	if (ed->mode == MODE_SET && !set_value(ed, m, name, &val))
		return;
	t = &ed->targets[ed->ntargets++];
	t->ordinal = ed->ordinal;
	t->b0 = b0;
	t->b1 = b1;
	t->val = val;
	t->vlen = strlen(val);
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		t->quote = needs_quotes(ed, ev, t->val, t->vlen) ? '"' : 0;
	else
		t->quote = (char)ed->in[b0];
	oldlen = b1 - b0;
	t->changed = t->quote ? oldlen != t->vlen + 2 || ed->in[b0] != (unsigned char)t->quote ||
				memcmp(ed->in + b0 + 1, t->val, t->vlen) != 0
			      : oldlen != t->vlen || memcmp(ed->in + b0, t->val, t->vlen) != 0;
	ed->matched |= m;
}

static void push_frame(struct ed *ed, const yaml_event_t *ev, uint64_t mask, size_t depth,
		       struct buf *name)
{
	struct frame *f = &ed->stack[ed->sp++];

	memset(f, 0, sizeof(*f));
	f->mask = mask;
	f->depth = depth;
	f->is_map = ev->type == YAML_MAPPING_START_EVENT;
	f->flow = f->is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
			    : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	f->want_key = true;
	f->name = *name;
	buf_init(name, 0);
}

static const char *node_kind(const yaml_event_t *ev)
{
	return ev->type == YAML_MAPPING_START_EVENT ? "a mapping" : "a sequence";
}

static void on_container(struct ed *ed, const yaml_event_t *ev, uint64_t term, uint64_t cont,
			 size_t depth, struct buf *name)
{
	const yaml_char_t *anchor = ev->type == YAML_MAPPING_START_EVENT
					    ? ev->data.mapping_start.anchor
					    : ev->data.sequence_start.anchor;

	if (term)
		fail(ed, ERR_REJECTED, term, name, "value is %s, not a scalar", node_kind(ev));
	else if (cont && anchor)
		fail(ed, ERR_REJECTED, cont, name,
		     "path runs through an anchored node (&%s); editing it would change every alias of it",
		     (const char *)anchor);
	if (cont && !ed->rc)
		push_frame(ed, ev, cont, depth, name);
	else
		ed->skip = 1;
}

static void on_node(struct ed *ed, const yaml_event_t *ev)
{
	struct frame *f = top(ed);
	struct buf name = BUF_INIT;
	uint64_t m, term = 0;
	size_t depth;

	if (ed->skip) {
		ed->skip += ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT;
		return;
	}
	if (f && f->is_map && f->want_key) {
		on_key(ed, f, ev);
		return;
	}
	m = f ? child_mask(ed, f) : (ed->npaths == 64 ? UINT64_MAX : bit(ed->npaths) - 1);
	depth = f ? f->depth + 1 : 0;
	for (size_t p = 0; p < ed->npaths; p++)
		if ((m & bit(p)) && ed->paths[p].nseg == depth)
			term |= bit(p);
	if (m)
		child_name(&name, f);
	if (ev->type == YAML_ALIAS_EVENT && m)
		fail(ed, ERR_REJECTED, m, &name, "%s an alias (*%s)",
		     term ? "value is" : "path runs through", (const char *)ev->data.alias.anchor);
	else if (ev->type == YAML_SCALAR_EVENT && term)
		add_target(ed, ev, term, &name);
	if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)
		on_container(ed, ev, term, m & ~term, depth, &name);
	else
		node_done(ed);
	buf_release(&name);
}

static void on_end(struct ed *ed, const yaml_event_t *ev)
{
	struct frame *f;

	if (ed->skip) {
		if (--ed->skip == 0)
			node_done(ed);
		return;
	}
	f = &ed->stack[--ed->sp];
	if (f->is_map && f->merge_line)
		check_merge(ed, f);
	if (f->is_map)
		check_duplicates(ed, f);
	frame_release(f);
	node_done(ed);
}

static void on_other(struct ed *ed, const yaml_event_t *ev)
{
}

static event_fn *const handlers[] = {
	[YAML_NO_EVENT] = on_other,
	[YAML_STREAM_START_EVENT] = on_other,
	[YAML_STREAM_END_EVENT] = on_other,
	[YAML_DOCUMENT_START_EVENT] = on_other,
	[YAML_DOCUMENT_END_EVENT] = on_other,
	[YAML_ALIAS_EVENT] = on_node,
	[YAML_SCALAR_EVENT] = on_node,
	[YAML_SEQUENCE_START_EVENT] = on_node,
	[YAML_SEQUENCE_END_EVENT] = on_end,
	[YAML_MAPPING_START_EVENT] = on_node,
	[YAML_MAPPING_END_EVENT] = on_end,
};

static void parse_failed(struct ed *ed, const yaml_parser_t *p, const char *what)
{
	if (p->error == YAML_MEMORY_ERROR) {
		fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
	} else if (p->error == YAML_READER_ERROR) {
		fail(ed, ERR_REJECTED, UINT64_MAX, NULL, "%s does not parse: byte %zu: %s", what,
		     p->problem_offset, p->problem ? p->problem : "unreadable input");
	} else {
		fail(ed, ERR_REJECTED, UINT64_MAX, NULL, "%s does not parse: line %zu, column %zu: %s",
		     what, p->problem_mark.line + 1, p->problem_mark.column + 1,
		     p->problem ? p->problem : "syntax error");
		if (p->context)
			err_printf(ed->err, " (%s at line %zu, column %zu)", p->context,
				   p->context_mark.line + 1, p->context_mark.column + 1);
	}
}

static void find_targets(struct ed *ed)
{
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;

	if (!yaml_parser_initialize(&p)) {
		fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
		return;
	}
	yaml_parser_set_input_string(&p, ed->in, ed->len);
	cursor_init(&ed->cur, ed->in, ed->len);
	while (!done && !ed->rc) {
		if (!yaml_parser_parse(&p, &ev)) {
			parse_failed(ed, &p, "the document");
			break;
		}
		if ((size_t)ev.type < ARRAY_SIZE(handlers) && handlers[ev.type])
			handlers[ev.type](ed, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		ed->ordinal++;
		yaml_event_delete(&ev);
	}
	while (ed->sp)
		frame_release(&ed->stack[--ed->sp]);
	yaml_parser_delete(&p);
}

/* ---- pass 2: splice ---- */

static int splice(struct ed *ed, struct buf *out)
{
	size_t at = 0;
	int rc = 0;

	buf_init(out, OUT_MAX);
	rc = buf_grow(out, ed->len);
	for (size_t i = 0; i < ed->ntargets && !rc; i++) {
		const struct target *t = &ed->targets[i];

		rc = buf_add(out, ed->in + at, t->b0 - at);
		if (!rc && t->quote)
			rc = buf_addch(out, t->quote);
		if (!rc)
			rc = buf_add(out, t->val, t->vlen);
		if (!rc && t->quote)
			rc = buf_addch(out, t->quote);
		at = t->b1;
	}
	if (!rc)
		rc = buf_add(out, ed->in + at, ed->len - at);
	if (rc) {
		buf_release(out);
		fail(ed, rc, UINT64_MAX, NULL, rc == ERR_TOOBIG ? "the edited document is too large"
								: "out of memory");
	}
	return rc;
}

/* ---- pass 3: the edited document must differ only in the targets ---- */

static bool str_eq(const yaml_char_t *a, const yaml_char_t *b)
{
	return (!a && !b) || (a && b && strcmp((const char *)a, (const char *)b) == 0);
}

static bool scalar_eq(const yaml_event_t *a, const yaml_event_t *b, const struct target *t,
		      const struct ed *ed)
{
	const yaml_scalar_style_t want[] = {
		['"'] = YAML_DOUBLE_QUOTED_SCALAR_STYLE,
		['\''] = YAML_SINGLE_QUOTED_SCALAR_STYLE,
		[0] = YAML_PLAIN_SCALAR_STYLE,
	};

	if (!str_eq(a->data.scalar.anchor, b->data.scalar.anchor) ||
	    !str_eq(a->data.scalar.tag, b->data.scalar.tag))
		return false;
	if (t)
		return b->data.scalar.length == t->vlen &&
		       memcmp(b->data.scalar.value, t->val, t->vlen) == 0 &&
		       b->data.scalar.style == want[(unsigned char)t->quote];
	return a->data.scalar.length == b->data.scalar.length &&
	       memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0 &&
	       a->data.scalar.style == b->data.scalar.style &&
	       a->data.scalar.plain_implicit == b->data.scalar.plain_implicit &&
	       a->data.scalar.quoted_implicit == b->data.scalar.quoted_implicit;
}

static bool events_eq(const yaml_event_t *a, const yaml_event_t *b, const struct target *t,
		      const struct ed *ed)
{
	if (a->type != b->type || a->start_mark.line != b->start_mark.line ||
	    a->end_mark.line != b->end_mark.line)
		return false;
	switch (a->type) {
	case YAML_SCALAR_EVENT:
		return scalar_eq(a, b, t, ed);
	case YAML_ALIAS_EVENT:
		return str_eq(a->data.alias.anchor, b->data.alias.anchor);
	case YAML_MAPPING_START_EVENT:
		return str_eq(a->data.mapping_start.anchor, b->data.mapping_start.anchor) &&
		       str_eq(a->data.mapping_start.tag, b->data.mapping_start.tag) &&
		       a->data.mapping_start.style == b->data.mapping_start.style;
	case YAML_SEQUENCE_START_EVENT:
		return str_eq(a->data.sequence_start.anchor, b->data.sequence_start.anchor) &&
		       str_eq(a->data.sequence_start.tag, b->data.sequence_start.tag) &&
		       a->data.sequence_start.style == b->data.sequence_start.style;
	case YAML_DOCUMENT_START_EVENT:
		return a->data.document_start.implicit == b->data.document_start.implicit;
	case YAML_DOCUMENT_END_EVENT:
		return a->data.document_end.implicit == b->data.document_end.implicit;
	default:
		return true;
	}
}

static void verify_step(struct ed *ed, yaml_parser_t *pa, yaml_parser_t *pb, size_t *next,
			bool *done)
{
	yaml_event_t a, b;
	const struct target *t = NULL;

	if (!yaml_parser_parse(pa, &a)) {
		parse_failed(ed, pa, "the document");
		return;
	}
	if (!yaml_parser_parse(pb, &b)) {
		parse_failed(ed, pb, "the edited document");
		yaml_event_delete(&a);
		return;
	}
	if (*next < ed->ntargets && ed->targets[*next].ordinal == ed->ordinal)
		t = &ed->targets[(*next)++];
	if (!events_eq(&a, &b, t, ed))
		fail(ed, ERR_FAIL, UINT64_MAX, NULL,
		     "the edited document differs from the original at line %zu beyond the new tag",
		     a.start_mark.line + 1);
	*done = a.type == YAML_STREAM_END_EVENT;
	ed->ordinal++;
	yaml_event_delete(&a);
	yaml_event_delete(&b);
}

static void verify(struct ed *ed, const struct buf *out)
{
	yaml_parser_t pa, pb;
	bool done = false;
	size_t next = 0;

	if (!yaml_parser_initialize(&pa)) {
		fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
		return;
	}
	if (!yaml_parser_initialize(&pb)) {
		yaml_parser_delete(&pa);
		fail(ed, ERR_NOMEM, UINT64_MAX, NULL, "out of memory");
		return;
	}
	yaml_parser_set_input_string(&pa, ed->in, ed->len);
	yaml_parser_set_input_string(&pb, (const unsigned char *)out->data, out->len);
	ed->ordinal = 0;
	while (!done && !ed->rc)
		verify_step(ed, &pa, &pb, &next, &done);
	if (!ed->rc && next != ed->ntargets)
		fail(ed, ERR_FAIL, UINT64_MAX, NULL, "the edited document lost a target");
	yaml_parser_delete(&pa);
	yaml_parser_delete(&pb);
}

/* ---- entry point ---- */

static int check_input(struct ed *ed, const char *in, size_t len)
{
	if (!in && len)
		fail(ed, ERR_INVALID, UINT64_MAX, NULL, "no input");
	else if (len > YAMLEDIT_MAX_INPUT)
		fail(ed, ERR_TOOBIG, UINT64_MAX, NULL, "the document is larger than %u bytes",
		     YAMLEDIT_MAX_INPUT);
	else if (len >= 2 && ((ed->in[0] == 0xFF && ed->in[1] == 0xFE) ||
			      (ed->in[0] == 0xFE && ed->in[1] == 0xFF)))
		fail(ed, ERR_REJECTED, UINT64_MAX, NULL, "the document is UTF-16; only UTF-8 is supported");
	return ed->rc;
}

static int check_tag(struct ed *ed, const char *tag)
{
	struct buf shown = BUF_INIT;

	if (!tag || ed->taglen > TAG_MAX) {
		fail(ed, ERR_INVALID, UINT64_MAX, NULL,
		     "the tag is %zu characters long; an image tag has at most %d", ed->taglen, TAG_MAX);
	} else if (!tag_valid(tag, ed->taglen)) {
		add_shown(&shown, tag, ed->taglen);
		fail(ed, ERR_INVALID, UINT64_MAX, NULL,
		     "\"%s\" is not a valid image tag (allowed: [A-Za-z0-9_][A-Za-z0-9._-]{0,127})",
		     shown.data ? shown.data : "");
		buf_release(&shown);
	}
	return ed->rc;
}

/* Room for n parsed paths (each is about a kilobyte): only as many as the
 * call names, not YAMLEDIT_MAX_PATHS; parse_paths() refuses a count out of
 * range, and one slot is enough for that. */
static struct path *paths_new(size_t n)
{
	return calloc(n && n <= YAMLEDIT_MAX_PATHS ? n : 1, sizeof(struct path));
}

static int parse_paths(struct path *paths, const char *const *texts, size_t n, struct buf *err)
{
	struct buf why = BUF_INIT;

	if (n == 0 || n > YAMLEDIT_MAX_PATHS) {
		err_printf(err, "between 1 and %d tag paths are needed", YAMLEDIT_MAX_PATHS);
		return ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (texts[i] && path_parse(&paths[i], texts[i], &why) == 0)
			continue;
		if (texts[i])
			add_shown(err, texts[i], strlen(texts[i]));
		err_printf(err, ": invalid tag path: %s", why.data ? why.data : "missing");
		buf_release(&why);
		return ERR_INVALID;
	}
	return 0;
}

static void report_unmatched(struct ed *ed)
{
	for (size_t i = 0; i < ed->npaths && !ed->rc; i++) {
		if (ed->mode == MODE_FIND)
			return;
		if (!(ed->matched & bit(i)))
			fail(ed, ERR_NOTFOUND, bit(i), NULL, "no scalar at this path in the document");
		else if (ed->mode == MODE_SET && ed->hits[i] > 1)
			fail(ed, ERR_REJECTED, bit(i), NULL,
			     "the path matches %zu scalars (one per document?); it must name exactly one",
			     ed->hits[i]);
	}
}

/* Lines are counted as git and diff count them, by '\n' alone: YAML also
 * breaks lines at a lone '\r' (and libyaml's marks count it), but the
 * commit's diff shows two values on either side of one as one changed
 * line.  The targets are in document order. */
static void fill_stats(const struct ed *ed, struct yamledit_stats *st)
{
	const struct target *last = NULL;

	memset(st, 0, sizeof(*st));
	st->matched = ed->ntargets;
	for (size_t i = 0; i < ed->ntargets; i++) {
		const struct target *t = &ed->targets[i];

		if (!t->changed)
			continue;
		st->changed++;
		if (!last || memchr(ed->in + last->b1, '\n', t->b0 - last->b1))
			st->lines++;
		last = t;
	}
}

/* Parse the paths, then find every target; the caller owns ed->targets
 * and ed->found. */
static int find_all(struct ed *ed, struct path *pv, const char *const *paths, size_t npaths)
{
	int rc = parse_paths(pv, paths, npaths, ed->err);

	if (rc)
		return ed->rc = rc;
	ed->paths = pv;
	ed->npaths = npaths;
	if (check_input(ed, (const char *)ed->in, ed->len) == 0 &&
	    (ed->mode != MODE_APPLY || check_tag(ed, ed->tag) == 0))
		find_targets(ed);
	report_unmatched(ed);
	return ed->rc;
}

/* Splice the targets and verify the result; *out only on success. */
static int edit(struct ed *ed, struct buf *out, struct yamledit_stats *stats)
{
	struct buf res = BUF_INIT;
	struct yamledit_stats st;

	fill_stats(ed, &st);
	if (!ed->rc && splice(ed, &res) == 0 && st.changed)
		verify(ed, &res);
	if (ed->rc) {
		buf_release(&res);
		return ed->rc;
	}
	*out = res;
	if (stats)
		*stats = st;
	return 0;
}

int yamledit_apply(struct buf *out, struct yamledit_stats *stats, const char *in, size_t len,
		   const char *const *paths, size_t npaths, const char *tag, struct buf *err)
{
	struct path *pv = paths_new(npaths);
	struct ed ed = { .in = (const unsigned char *)(in ? in : ""), .len = len, .tag = tag,
			 .taglen = tag ? strlen(tag) : 0, .mode = MODE_APPLY, .err = err };
	int rc;

	if (!pv)
		return ERR_NOMEM;
	if (!in && len)
		ed.in = NULL;
	find_all(&ed, pv, paths, npaths);
	rc = edit(&ed, out, stats);
	free(ed.targets);
	free(pv);
	return rc;
}


int yamledit_get(struct buf *value, const char *in, size_t len,
		 const char *const *paths, size_t npaths, struct buf *err)
{
	struct path *pv = paths_new(npaths);
	struct ed ed = { .in = (const unsigned char *)(in ? in : ""), .len = len, .tag = "",
			 .mode = MODE_GET, .err = err };
	int rc;

	if (!pv)
		return ERR_NOMEM;
	if (!in && len)
		ed.in = NULL;
	rc = find_all(&ed, pv, paths, npaths);
	if (rc)
		buf_release(&ed.value);
	else
		*value = ed.value;
	buf_release(&ed.value_at);
	free(ed.targets);
	free(pv);
	return rc;
}


void yamledit_scalars_free(struct yamledit_scalar *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].value);
	}
	free(v);
}

int yamledit_find(struct yamledit_scalar **out, size_t *n, const char *in, size_t len,
		  const char *const *paths, size_t npaths, struct buf *err)
{
	struct path *pv = paths_new(npaths);
	struct ed ed = { .in = (const unsigned char *)(in ? in : ""), .len = len, .tag = "",
			 .mode = MODE_FIND, .err = err };
	int rc;

	if (!pv)
		return ERR_NOMEM;
	if (!in && len)
		ed.in = NULL;
	rc = find_all(&ed, pv, paths, npaths);
	if (rc) {
		yamledit_scalars_free(ed.found, ed.nfound);
	} else {
		*out = ed.found;
		*n = ed.nfound;
	}
	free(pv);
	return rc;
}


/* What yamledit_set may write: an OCI tag, an image reference or a digest.
 * None of these bytes needs an escape in either quoting style. */
static bool set_value_valid(const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > YAMLEDIT_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._:/@-", c)))
			return false;
	}
	return true;
}

static int set_check(const char *const *paths, const char *const *values, size_t n,
		     const struct path *pv, struct buf *err)
{
	for (size_t i = 0; i < n; i++) {
		struct buf shown = BUF_INIT;

		for (size_t k = 0; k < pv[i].nseg; k++)
			if (pv[i].seg[k].star) {
				add_shown(err, paths[i], strlen(paths[i]));
				err_printf(err, ": a path to set must be concrete (no '*')");
				return ERR_INVALID;
			}
		if (set_value_valid(values[i]))
			continue;
		if (values[i])
			add_shown(&shown, values[i], strlen(values[i]));
		add_shown(err, paths[i], strlen(paths[i]));
		err_printf(err, ": \"%s\" is not a tag, image reference or digest "
			   "(1 to %d bytes of [A-Za-z0-9._:/@-])", shown.data ? shown.data : "",
			   YAMLEDIT_VALUE_MAX);
		buf_release(&shown);
		return ERR_INVALID;
	}
	return 0;
}

int yamledit_set(struct buf *out, struct yamledit_stats *stats, const char *in, size_t len,
		 const char *const *paths, const char *const *values, size_t n, struct buf *err)
{
	struct path *pv = paths_new(n);
	struct ed ed = { .in = (const unsigned char *)(in ? in : ""), .len = len, .tag = "",
			 .mode = MODE_SET, .values = values, .err = err };
	int rc;

	if (!pv)
		return ERR_NOMEM;
	if (!in && len)
		ed.in = NULL;
	rc = parse_paths(pv, paths, n, err);
	if (!rc && !values) {
		err_printf(err, "no values to set");
		rc = ERR_INVALID;
	}
	if (!rc)
		rc = set_check(paths, values, n, pv, err);
	if (!rc) {
		find_all(&ed, pv, paths, n);
		rc = edit(&ed, out, stats);
	}
	free(ed.targets);
	free(pv);
	return rc;
}

