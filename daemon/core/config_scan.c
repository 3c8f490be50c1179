/* config_scan.c - see config_scan.h
 *
 * The rules below follow libgit2 1.5 src/libgit2/config_parse.c closely on
 * purpose, quirks and error wording included (the last ']' or '"' on a line
 * decides whether a header is complete; blank and comment lines inside a
 * continuation are skipped), so that pipelines.conf means what git config
 * says it means.  The fuzz target parses every input with both and aborts
 * when they disagree on a name, a value or whether the file parses. */
#include "config_scan.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
	const char *d;
	size_t len;
	size_t pos;		/* start of the next line */
	int line;		/* number of the line last returned */
};

/* git__isspace */
static bool sp(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '\v';
}

/* isalnum() in the C locale; libgit2 passes a plain char, so bytes >= 0x80
 * never count. */
static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool next_line(struct cursor *cur, size_t *start, size_t *end)
{
	const char *nl;

	if (cur->pos >= cur->len)
		return false;
	*start = cur->pos;
	nl = memchr(cur->d + cur->pos, '\n', cur->len - cur->pos);
	*end = nl ? (size_t)(nl - cur->d) : cur->len;
	cur->pos = nl ? *end + 1 : cur->len;
	cur->line++;
	return true;
}

/* strip_comments(): cut at an unquoted, unescaped ';' or '#', then drop
 * trailing whitespace.  Returns the quote count; *tend is the new end. */
static int strip_comments(const char *d, size_t start, size_t end, int in_quotes, size_t *tend)
{
	int quotes = in_quotes, backslashes = 0;
	size_t i;

	for (i = start; i < end; i++) {
		if (d[i] == '"' && (i == start || d[i - 1] != '\\'))
			quotes++;
		if ((d[i] == ';' || d[i] == '#') && quotes % 2 == 0 && backslashes % 2 == 0)
			break;
		backslashes = d[i] == '\\' ? backslashes + 1 : 0;
	}
	while (i > start && sp(d[i - 1]))
		i--;
	*tend = i;
	return quotes;
}

/* unescape_line() without the copy: 1 when the value continues on the next
 * line, 0 when it ends here, -1 on a bad escape. */
static int value_continues(const char *d, size_t start, size_t end)
{
	for (size_t i = start; i < end; i++) {
		if (d[i] != '\\')
			continue;
		if (++i == end)
			return 1;
		if (!strchr("ntb\"\\", d[i]))
			return -1;
	}
	return 0;
}

/* unescape_line(): quotes are dropped, \\n \\t \\b \\" \\\\ unescaped, and
 * a final backslash (a continuation) dropped; the escapes were checked by
 * value_continues() already. */
static int value_add(struct buf *b, const char *d, size_t start, size_t end)
{
	static const char esc[] = "ntb\"\\", out[] = "\n\t\b\"\\";
	int rc = buf_grow(b, 0);

	for (size_t i = start; i < end && rc == 0; i++) {
		const char *e;

		if (d[i] == '"')
			continue;
		if (d[i] != '\\') {
			rc = buf_addch(b, d[i]);
			continue;
		}
		if (++i == end)
			break;
		if ((e = strchr(esc, d[i])) != NULL)
			rc = buf_addch(b, out[e - esc]);
	}
	if (rc == 0)
		b->data[b->len] = '\0';	/* an empty value is "", not unterminated */
	return rc ? ERR_NOMEM : 0;
}

static int push_var(struct config_scan *s, char *name, int line, int hdr, char *value)
{
	if (s->nvars == s->capvars) {
		size_t cap = s->capvars ? s->capvars * 2 : 32;
		struct config_scan_var *v = realloc(s->vars, cap * sizeof(*v));

		if (!v) {
			free(name);
			free(value);
			return ERR_NOMEM;
		}
		s->vars = v;
		s->capvars = cap;
	}
	s->vars[s->nvars++] = (struct config_scan_var){ name, line, hdr, value };
	return 0;
}

static int push_header(struct config_scan *s, char *name, int line)
{
	if (s->nhdrs == s->caphdrs) {
		size_t cap = s->caphdrs ? s->caphdrs * 2 : 16;
		struct config_scan_header *h = realloc(s->hdrs, cap * sizeof(*h));

		if (!h) {
			free(name);
			return ERR_NOMEM;
		}
		s->hdrs = h;
		s->caphdrs = cap;
	}
	s->hdrs[s->nhdrs++] = (struct config_scan_header){ name, line };
	return 0;
}

/* parse_subsection_header(): d[i] is the whitespace after the section name;
 * appends "." and the subsection to b; returns the index after ']' or 0
 * with *why set (NULL: out of memory). */
static size_t scan_subsection(struct buf *b, const char *d, size_t q, size_t i, size_t end,
			      const char **why)
{
	size_t fq, lq, r;
	char c;

	while (i < end && sp(d[i]))
		i++;
	*why = "missing quotation marks in section header";
	if (i >= end || d[i] != '"')
		return 0;
	fq = i;
	for (lq = end; lq > q && d[lq - 1] != '"'; lq--)
		;
	lq--;
	*why = "missing closing quotation mark in section header";
	if (lq == fq)
		return 0;
	*why = NULL;
	if (buf_addch(b, '.'))
		return 0;
	r = fq + 1;
	c = d[r];
	do {
		if (c == '"')
			break;
		if (c == '\\')
			c = d[++r];	/* r < lq here, so still inside the line */
		if (buf_addch(b, c))
			return 0;
		r++;
		c = r < end ? d[r] : '\0';
	} while (r < lq);
	*why = "unexpected text after closing quotes";
	if (r >= end || d[r] != '"' || r + 1 >= end || d[r + 1] != ']')
		return 0;
	return r + 2;
}

/* parse_section_header(): d[q] is '['.  Returns the index after the header
 * and the normalised name in b, or 0 with *why set (NULL: out of memory). */
static size_t scan_header(struct buf *b, const char *d, size_t q, size_t end, const char **why)
{
	size_t i = q + 1;

	*why = "missing ']' in section header";
	if (!memchr(d + q, ']', end - q))
		return 0;
	do {
		*why = "unexpected end of file";
		if (i >= end)
			return 0;
		if (sp(d[i]))
			return scan_subsection(b, d, q, i, end, why);
		*why = "unexpected character in header";
		if (!alnum(d[i]) && d[i] != '-' && d[i] != '.')
			return 0;
		*why = NULL;
		if (buf_addch(b, lower(d[i])))
			return 0;
		i++;
	} while (i < end && d[i] != ']');
	*why = "unexpected end of file";
	return i < end ? i + 1 : 0;
}

/* The first syntax error, in libgit2's words. */
static int syntax_error(struct config_scan *s, const char *why)
{
	snprintf(s->error, sizeof(s->error), "%s", why);
	return -1;
}

/* libgit2 says "invalid escape at <rest of the line>"; name the one character. */
static int escape_error(struct config_scan *s, const char *d, size_t start, size_t end)
{
	for (size_t i = start; i + 1 < end; i++) {
		if (d[i] != '\\')
			continue;
		i++;
		if (!strchr("ntb\"\\", d[i])) {
			snprintf(s->error, sizeof(s->error), "invalid escape sequence '\\%c' in value",
				 d[i] >= 0x21 && d[i] < 0x7f ? d[i] : '?');
			return -1;
		}
	}
	return syntax_error(s, "invalid escape sequence in value");
}

struct scan_state {
	struct config_scan *s;
	struct cursor cur;
	char *section;		/* current normalised section, or NULL */
	int hdr_line;
};

/* After a variable whose value ended in a backslash: consume the lines that
 * continue it, as parse_multiline_variable() does. */
static int scan_continuation(struct scan_state *st, int in_quotes, struct buf *val)
{
	size_t start, end, tend;
	int quotes, more = 1;

	while (more) {
		if (!next_line(&st->cur, &start, &end))
			return 0;
		quotes = strip_comments(st->cur.d, start, end, in_quotes, &tend);
		if (tend == start)
			continue;
		more = value_continues(st->cur.d, start, tend);
		if (more < 0)
			return escape_error(st->s, st->cur.d, start, tend);
		if (value_add(val, st->cur.d, start, tend))
			return ERR_NOMEM;
		in_quotes = quotes;
	}
	return 0;
}

/* parse_variable() from d[q]; -1 on a syntax error. */
static int scan_variable(struct scan_state *st, size_t q, size_t end)
{
	const char *d = st->cur.d;
	size_t tend, n = q, v;
	struct buf name = BUF_INIT, value = BUF_INIT;
	int quotes = strip_comments(d, q, end, 0, &tend), more;
	int line = st->cur.line;
	struct config_scan_var *var;

	while (n < tend && (alnum(d[n]) || d[n] == '-'))
		n++;
	if (n == q)
		return syntax_error(st->s, "invalid configuration key");
	for (v = n; v < tend && sp(d[v]); v++)
		;
	if (v < tend && d[v] != '=')
		return syntax_error(st->s, "invalid configuration key");
	if (st->section)
		buf_printf(&name, "%s.", st->section);
	for (size_t i = q; i < n; i++)
		buf_addch(&name, lower(d[i]));
	if (!name.data || push_var(st->s, buf_detach(&name, NULL), line, st->hdr_line, NULL))
		return ERR_NOMEM;
	if (v == tend)
		return 0;	/* "key" alone: no value (a boolean true) */
	for (v++; v < tend && sp(d[v]); v++)
		;
	var = &st->s->vars[st->s->nvars - 1];
	more = value_continues(d, v, tend);
	if (more < 0)
		return escape_error(st->s, d, v, tend);
	if (value_add(&value, d, v, tend))
		more = ERR_NOMEM;
	if (more > 0)
		more = scan_continuation(st, quotes % 2, &value);
	/* var still points into vars: nothing was pushed since */
	if (more == 0 && !(var->value = buf_detach(&value, NULL)))
		more = ERR_NOMEM;
	buf_release(&value);
	return more;
}

/* One physical line, or the rest of it after a header. */
static int scan_line(struct scan_state *st, size_t start, size_t end)
{
	const char *d = st->cur.d;
	struct buf name = BUF_INIT;
	size_t q, after;
	bool fresh = true;
	const char *why;

	for (;; fresh = false) {
		for (q = start; q < end && sp(d[q]); q++)
			;
		if (q == end) {
			/* A line of nothing but whitespace is blank unless it
			 * starts with \f or \v, which libgit2 takes for a key
			 * (but not in what follows a header). */
			return fresh && start < end && (d[start] == '\f' || d[start] == '\v') ?
			       syntax_error(st->s, "invalid configuration key") : 0;
		}
		if (d[q] == ';' || d[q] == '#')
			return 0;
		if (d[q] != '[')
			return scan_variable(st, q, end);
		after = scan_header(&name, d, q, end, &why);
		if (!after || !name.data) {
			buf_release(&name);
			return after || !why ? ERR_NOMEM : syntax_error(st->s, why);
		}
		free(st->section);
		st->section = xstrndup(name.data, name.len);
		st->hdr_line = st->cur.line;
		if (!st->section || push_header(st->s, buf_detach(&name, NULL), st->cur.line)) {
			buf_release(&name);
			return ERR_NOMEM;
		}
		start = after;
	}
}

static int count_lines(const char *d, size_t len, size_t upto)
{
	int n = 1;

	for (size_t i = 0; i < upto && i < len; i++)
		n += d[i] == '\n';
	return n;
}

int config_scan_run(struct config_scan *s, const char *data, size_t len)
{
	struct scan_state st = { s, { data, len, 0, 0 }, NULL, 0 };
	const char *nul = memchr(data, '\0', len);
	size_t start, end;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->last_line = count_lines(data, len, len) - (len && data[len - 1] == '\n');
	if (nul) {
		s->nul_line = count_lines(data, len, (size_t)(nul - data));
		return 0;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		st.cur.pos = 3;
	while (next_line(&st.cur, &start, &end)) {
		rc = scan_line(&st, start, end);
		if (rc == -1) {
			s->error_line = st.cur.line;
			rc = 0;
			break;
		}
		if (rc)
			break;
	}
	free(st.section);
	return rc;
}

const struct config_scan_var *config_scan_match(const struct config_scan *s, size_t *cursor,
						const char *name)
{
	for (size_t i = *cursor; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0) {
			*cursor = i + 1;
			return &s->vars[i];
		}
	return NULL;
}

const struct config_scan_header *config_scan_find_header(const struct config_scan *s,
							 const char *section, const char *sub)
{
	size_t sl = strlen(section);

	for (size_t i = 0; i < s->nhdrs; i++) {
		const char *n = s->hdrs[i].name;

		if (strncmp(n, section, sl) != 0)
			continue;
		if (sub ? n[sl] == '.' && strcmp(n + sl + 1, sub) == 0 : n[sl] == '\0')
			return &s->hdrs[i];
	}
	return NULL;
}

bool config_scan_is_include(const char *name)
{
	size_t n = strlen(name);

	if (strcmp(name, "include.path") == 0)
		return true;
	return strncmp(name, "includeif.", 10) == 0 && n > 15 && strcmp(name + n - 5, ".path") == 0;
}

void config_scan_release(struct config_scan *s)
{
	for (size_t i = 0; i < s->nvars; i++) {
		free(s->vars[i].name);
		free(s->vars[i].value);
	}
	for (size_t i = 0; i < s->nhdrs; i++)
		free(s->hdrs[i].name);
	free(s->vars);
	free(s->hdrs);
	memset(s, 0, sizeof(*s));
}
