/* freeze.c - the freeze file: parse, judge an instant, splice an entry in
 * or out (see freeze.h).  libyaml's document API gives every node its
 * marks, so each error names its line and each splice its bytes. */
#include "freeze.h"

#include "clock.h"
#include "trailer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- loading ---- */

struct errs {
	struct buf *err;
	const char *file;
	unsigned n;
};

static void bad(struct errs *x, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct errs *x, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (++x->n > FREEZE_ERRORS_MAX) {
		if (x->n == FREEZE_ERRORS_MAX + 1 && x->err)
			buf_printf(x->err, "%s: more errors not shown\n", x->file);
		return;
	}
	if (!x->err)
		return;
	buf_printf(x->err, "%s:%zu: ", x->file, line);
	va_start(ap, fmt);
	buf_vprintf(x->err, fmt, ap);
	va_end(ap);
	buf_addch(x->err, '\n');
}

struct loaded {
	yaml_document_t doc;
	bool have;
	yaml_node_t *list;	/* the freezes sequence; NULL when there is none */
	yaml_node_t *value;	/* the freezes value, whatever it is; NULL without the key */
};

static void loaded_release(struct loaded *L)
{
	if (L->have)
		yaml_document_delete(&L->doc);
	L->have = false;
}

static size_t line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A plain scalar YAML reads as null: "", "~", "null". */
static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
		strcmp(s, "NULL") == 0);
}

static int load(struct loaded *L, const char *doc, size_t len, struct errs *x)
{
	yaml_parser_t p;
	yaml_document_t extra;
	yaml_node_t *root;
	int rc = 0;

	memset(L, 0, sizeof *L);
	if (len > FREEZE_FILE_MAX) {
		if (x->err)
			buf_printf(x->err, "%s: the file is %zu bytes, over the limit of %u\n",
				   x->file, len, FREEZE_FILE_MAX);
		x->n++;
		return ERR_TOOBIG;
	}
	if (doc && memchr(doc, '\0', len)) {
		bad(x, 1, "the file holds a NUL byte; a freeze file is UTF-8 text");
		return ERR_INVALID;
	}
	if (!yaml_parser_initialize(&p))
		return ERR_NOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)(doc ? doc : ""), doc ? len : 0);
	if (!yaml_parser_load(&p, &L->doc)) {
		bad(x, p.problem_mark.line + 1, "not valid YAML: %s%s%s",
		    p.problem ? p.problem : "parse error", p.context ? " " : "",
		    p.context ? p.context : "");
		yaml_parser_delete(&p);
		return ERR_INVALID;
	}
	L->have = true;
	root = yaml_document_get_root_node(&L->doc);
	if (root) {
		if (!yaml_parser_load(&p, &extra)) {
			bad(x, p.problem_mark.line + 1, "not valid YAML: %s",
			    p.problem ? p.problem : "parse error");
			rc = ERR_INVALID;
		} else {
			if (yaml_document_get_root_node(&extra)) {
				bad(x, extra.start_mark.line + 1, "a second YAML document; a freeze "
				    "file holds one");
				rc = ERR_INVALID;
			}
			yaml_document_delete(&extra);
		}
	}
	yaml_parser_delete(&p);
	if (rc || !root || is_null(root))
		return rc;
	if (root->type != YAML_MAPPING_NODE) {
		bad(x, line_of(root), "expected a mapping with the key \"freezes\"");
		return ERR_INVALID;
	}
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&L->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&L->doc, pr->value);
		const char *ks = scalar(k);

		if (!ks || strcmp(ks, "freezes") != 0) {
			bad(x, line_of(k), "unknown key \"%.40s\"; the file has one key, \"freezes\"",
			    ks ? ks : "?");
			rc = ERR_INVALID;
		} else if (L->value) {
			bad(x, line_of(k), "\"freezes\" appears twice (first at line %zu)",
			    line_of(L->value));
			rc = ERR_INVALID;
		} else {
			L->value = v;
		}
	}
	if (rc || !L->value || is_null(L->value))
		return rc;
	if (L->value->type != YAML_SEQUENCE_NODE) {
		bad(x, line_of(L->value), "\"freezes\" must be a list of entries (\"- id: ...\")");
		return ERR_INVALID;
	}
	L->list = L->value;
	return 0;
}

/* ---- entries ---- */

static const char *const keys[] = { "id", "stages", "start", "end", "reason", "breakGlass" };
enum { K_ID, K_STAGES, K_START, K_END, K_REASON, K_BREAK, K_COUNT };

bool freeze_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FREEZE_ID_MAX || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A scalar value of key k, or an error. */
static const char *scalar_of(struct errs *x, const yaml_node_t *v, int k, size_t max)
{
	const char *s = scalar(v);

	if (!s) {
		bad(x, line_of(v), "%s must be a single value", keys[k]);
		return NULL;
	}
	if (strlen(s) != v->data.scalar.length) {
		bad(x, line_of(v), "%s holds a NUL character", keys[k]);
		return NULL;
	}
	if (v->data.scalar.length > max) {
		bad(x, line_of(v), "%s is %zu bytes, longer than %zu", keys[k],
		    v->data.scalar.length, max);
		return NULL;
	}
	return s;
}

static bool stage_of(struct errs *x, const yaml_node_t *v, unsigned *bits)
{
	const char *s = scalar_of(x, v, K_STAGES, 16);
	enum stage st;

	if (!s)
		return false;
	if (stage_parse(&st, s) < 0) {
		bad(x, line_of(v), "unknown stage \"%.16s\" (use beta, paper, live, or all)", s);
		return false;
	}
	if (!stage_is_deploy(st)) {
		bad(x, line_of(v), "%s is an evidence stage, nothing is deployed to it; freeze "
		    "beta, paper or live", s);
		return false;
	}
	*bits |= 1u << st;
	return true;
}

static bool stages_of(struct errs *x, yaml_document_t *d, const yaml_node_t *v,
		      struct freeze_entry *e)
{
	const char *s = scalar(v);
	bool ok = true;

	if (s && strcmp(s, "all") == 0) {
		e->all = true;
		for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
			e->stages |= 1u << st;
		return true;
	}
	if (s)
		return stage_of(x, v, &e->stages);
	if (v->type != YAML_SEQUENCE_NODE) {
		bad(x, line_of(v), "stages must be a list of stages, or all");
		return false;
	}
	if (v->data.sequence.items.start == v->data.sequence.items.top) {
		bad(x, line_of(v), "stages is empty; name beta, paper, live, or all");
		return false;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(d, *it);
		const char *ns = scalar(n);

		if (ns && strcmp(ns, "all") == 0) {
			bad(x, line_of(n), "\"all\" stands alone: write stages: all");
			ok = false;
		} else if (!stage_of(x, n, &e->stages)) {
			ok = false;
		}
	}
	return ok;
}

static bool time_of(struct errs *x, const yaml_node_t *v, int k, int64_t *out)
{
	const char *s = scalar_of(x, v, k, 40);
	struct buf why = BUF_INIT;
	time_t t;
	bool ok;

	if (!s)
		return false;
	buf_init(&why, 256);
	ok = clock_parse_rfc3339(&t, s, &why) == 0;
	if (!ok)
		bad(x, line_of(v), "%s: %s", keys[k], why.data ? why.data : "invalid time");
	else
		*out = (int64_t)t;
	buf_release(&why);
	return ok;
}

static bool reason_of(struct errs *x, const yaml_node_t *v, struct freeze_entry *e)
{
	const char *s = scalar_of(x, v, K_REASON, FREEZE_REASON_MAX);

	if (!s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			bad(x, line_of(v), "reason holds a control character (a line break or a "
			    "tab); write it on one line");
			return false;
		}
	if (trailer_text_blank(s)) {
		bad(x, line_of(v), "reason is empty; say why the stages are frozen");
		return false;
	}
	strlcpy_(e->reason, s, sizeof e->reason);
	return true;
}

static bool value_of(struct errs *x, yaml_document_t *d, int k, const yaml_node_t *v,
		     struct freeze_entry *e)
{
	const char *s;

	switch (k) {
	case K_ID:
		if (!(s = scalar_of(x, v, k, FREEZE_ID_MAX)))
			return false;
		if (!freeze_id_ok(s)) {
			bad(x, line_of(v), "id \"%.64s\" must start with a letter or digit and hold "
			    "only a-z, 0-9, '.', '_', '-'", s);
			return false;
		}
		strlcpy_(e->id, s, sizeof e->id);
		return true;
	case K_STAGES:
		return stages_of(x, d, v, e);
	case K_START:
		return (e->has_start = time_of(x, v, k, &e->start));
	case K_END:
		return (e->has_end = time_of(x, v, k, &e->end));
	case K_REASON:
		return reason_of(x, v, e);
	default:
		if (!(s = scalar_of(x, v, k, 16)))
			return false;
		if (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0) {
			bad(x, line_of(v), "breakGlass is \"%.16s\"; use allow or deny", s);
			return false;
		}
		e->break_glass = strcmp(s, "allow") == 0;
		return true;
	}
}

static bool entry_of(struct errs *x, yaml_document_t *d, const yaml_node_t *m,
		     struct freeze_entry *e)
{
	const yaml_node_t *seen[K_COUNT] = { NULL };
	bool ok = true;

	memset(e, 0, sizeof *e);
	e->line = (unsigned)line_of(m);
	if (m->type != YAML_MAPPING_NODE) {
		bad(x, line_of(m), "an entry must be a mapping (id, stages, start, end, reason, "
		    "breakGlass)");
		return false;
	}
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(d, pr->key);
		yaml_node_t *v = yaml_document_get_node(d, pr->value);
		const char *ks = scalar(k);
		int ki = 0;

		while (ki < K_COUNT && (!ks || strcmp(ks, keys[ki]) != 0))
			ki++;
		if (ki == K_COUNT) {
			bad(x, line_of(k), "unknown key \"%.40s\" (use id, stages, start, end, "
			    "reason, breakGlass)", ks ? ks : "?");
			ok = false;
		} else if (seen[ki]) {
			bad(x, line_of(k), "%s appears twice in one entry (first at line %zu)",
			    keys[ki], line_of(seen[ki]));
			ok = false;
		} else {
			seen[ki] = v;
			ok &= value_of(x, d, ki, v, e);
		}
	}
	if (!seen[K_ID])
		bad(x, line_of(m), "the entry has no id"), ok = false;
	if (!seen[K_STAGES])
		bad(x, line_of(m), "the entry has no stages (a list, or all)"), ok = false;
	if (!seen[K_REASON])
		bad(x, line_of(m), "the entry has no reason; say why the stages are frozen"),
			ok = false;
	if (ok && e->has_start && e->has_end && e->end <= e->start) {
		bad(x, line_of(seen[K_END]), "end is not after start");
		ok = false;
	}
	return ok;
}

static int entries(struct freeze_set *out, struct loaded *L, struct errs *x)
{
	yaml_node_t *l = L->list;
	size_t n = l ? (size_t)(l->data.sequence.items.top - l->data.sequence.items.start) : 0;
	bool ok = true;

	out->n = 0;
	if (n > FREEZE_MAX_ENTRIES) {
		bad(x, line_of(l), "%zu entries, more than %d; lift the ones that have ended", n,
		    FREEZE_MAX_ENTRIES);
		return ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *m = yaml_document_get_node(&L->doc, l->data.sequence.items.start[i]);
		struct freeze_entry *e = &out->e[out->n];

		if (!entry_of(x, &L->doc, m, e)) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < out->n; j++)
			if (strcmp(out->e[j].id, e->id) == 0) {
				bad(x, e->line, "id \"%s\" is used twice (first at line %u)", e->id,
				    out->e[j].line);
				ok = false;
			}
		out->n++;
	}
	return ok ? 0 : ERR_INVALID;
}

int freeze_parse(struct freeze_set *out, const char *doc, size_t len, const char *file,
		 struct buf *err)
{
	struct errs x = { err, file && *file ? file : "freezes", 0 };
	struct freeze_set *s = calloc(1, sizeof *s);
	struct loaded L;
	int rc;

	if (!s)
		return ERR_NOMEM;
	rc = load(&L, doc, len, &x);
	if (rc == 0)
		rc = entries(s, &L, &x);
	loaded_release(&L);
	if (rc == 0)
		memcpy(out, s, sizeof *s);
	free(s);
	return rc;
}

/* ---- an instant ---- */

bool freeze_active(const struct freeze_entry *e, enum stage st, int64_t now)
{
	if ((unsigned)st >= 32 || !(e->stages & (1u << st)))
		return false;
	return (!e->has_start || e->start <= now) && (!e->has_end || now < e->end);
}

void freeze_holds(struct freeze_hold *out, const struct freeze_set *s, enum stage st,
		  int64_t now)
{
	int64_t t = now;

	memset(out, 0, sizeof *out);
	out->overridable = true;
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct freeze_entry *e = &s->e[i];

		if (!freeze_active(e, st, now))
			continue;
		out->n++;
		if (!out->first || (out->first->break_glass && !e->break_glass))
			out->first = e;
		out->overridable &= e->break_glass;
	}
	if (!out->n)
		return;
	/* free again when no entry holds it: each round moves past the ends
	 * of the entries holding it at t, so at most n rounds */
	for (size_t round = 0; round <= s->n; round++) {
		int64_t next = t;

		for (size_t i = 0; i < s->n; i++) {
			if (!freeze_active(&s->e[i], st, t))
				continue;
			if (!s->e[i].has_end)
				return;	/* until stays 0: until removed */
			if (s->e[i].end > next)
				next = s->e[i].end;
		}
		if (next == t) {
			out->until = t;
			return;
		}
		t = next;
	}
	out->until = t;
}

void freeze_stages_text(char *out, size_t outsz, const struct freeze_entry *e)
{
	size_t n = 0;

	if (outsz)
		out[0] = '\0';
	if (e->all) {
		snprintf(out, outsz, "all");
		return;
	}
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		if (e->stages & (1u << st)) {
			int k = snprintf(out + n, outsz > n ? outsz - n : 0, "%s%s", n ? ", " : "",
					 stage_name((enum stage)st));
			if (k > 0)
				n += (size_t)k;
			if (n >= outsz)
				return;
		}
}

/* ---- splices ---- */

static bool same_entry(const struct freeze_entry *a, const struct freeze_entry *b)
{
	return strcmp(a->id, b->id) == 0 && a->stages == b->stages && a->all == b->all &&
	       a->has_start == b->has_start && a->has_end == b->has_end &&
	       (!a->has_start || a->start == b->start) && (!a->has_end || a->end == b->end) &&
	       strcmp(a->reason, b->reason) == 0 && a->break_glass == b->break_glass;
}

bool freeze_set_equal(const struct freeze_set *a, const struct freeze_set *b)
{
	if (!a || !b || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_entry(&a->e[i], &b->e[i]))
			return false;
	return true;
}

/* The entry as YAML: the dash at column dash, each line ending in '\n'. */
static int entry_text(struct buf *out, const struct freeze_new *n, int dash)
{
	char t[40];
	int rc = buf_printf(out, "%*s- id: %s\n%*s  stages: ", dash, "", n->id, dash, "");

	if (n->all) {
		rc |= buf_adds(out, "all");
	} else {
		bool first = true;

		rc |= buf_addch(out, '[');
		for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
			if (n->stages & (1u << st)) {
				rc |= buf_printf(out, "%s%s", first ? "" : ", ",
						 stage_name((enum stage)st));
				first = false;
			}
		rc |= buf_addch(out, ']');
	}
	rc |= buf_addch(out, '\n');
	if (n->has_start) {
		clock_format_rfc3339(t, sizeof t, (time_t)n->start, n->offset, true);
		rc |= buf_printf(out, "%*s  start: %s\n", dash, "", t);
	}
	if (n->has_end) {
		clock_format_rfc3339(t, sizeof t, (time_t)n->end, n->offset, true);
		rc |= buf_printf(out, "%*s  end: %s\n", dash, "", t);
	}
	rc |= buf_printf(out, "%*s  reason: \"", dash, "");
	for (const char *p = n->reason; *p; p++)
		rc |= (*p == '"' || *p == '\\') ? buf_printf(out, "\\%c", *p) : buf_addch(out, *p);
	rc |= buf_printf(out, "\"\n%*s  breakGlass: %s\n", dash, "", n->break_glass ? "allow" :
			 "deny");
	return rc ? ERR_TOOBIG : 0;
}

/* Where a block sequence's items end: the start of the line after its
 * last item (its end mark is the next token: a line start, or the end of
 * the file).  -1 when that is not a line start. */
static long list_end(const yaml_node_t *l, const char *doc, size_t len, bool *need_nl)
{
	size_t i = l->end_mark.index;

	/* at the end of a file without a final newline libyaml still says
	 * column 0 */
	*need_nl = i == len && len && doc[len - 1] != '\n';
	if (*need_nl || i == 0 || (i <= len && doc[i - 1] == '\n'))
		return (long)i;
	return -1;
}

/* The start of the line holding an item's dash. */
static size_t item_line_start(const yaml_node_t *item)
{
	return item->start_mark.index - item->start_mark.column;
}

static int check_result(const char *doc, size_t len, const char *file, const struct freeze_set *old,
			size_t skip, const struct freeze_new *add, struct buf *err)
{
	struct freeze_set *s = calloc(1, sizeof *s);
	struct buf perr = BUF_INIT;
	size_t want = old->n - (skip < old->n ? 1 : 0) + (add ? 1 : 0), j = 0;
	int rc;

	if (!s)
		return ERR_NOMEM;
	buf_init(&perr, FREEZE_ERR_MAX);
	rc = freeze_parse(s, doc, len, file, &perr);
	if (rc) {
		buf_printf(err, "the edited file does not parse: %s", perr.data ? perr.data : "?");
		goto out;
	}
	rc = ERR_INVALID;
	if (s->n != want)
		goto changed;
	for (size_t i = 0; i < old->n; i++) {
		if (i == skip)
			continue;
		if (!same_entry(&old->e[i], &s->e[j++]))
			goto changed;
	}
	if (add && (strcmp(s->e[j].id, add->id) != 0 || s->e[j].stages != add->stages ||
		    s->e[j].all != add->all || s->e[j].break_glass != add->break_glass ||
		    strcmp(s->e[j].reason, add->reason) != 0 ||
		    s->e[j].has_end != add->has_end || (add->has_end && s->e[j].end != add->end) ||
		    s->e[j].has_start != add->has_start ||
		    (add->has_start && s->e[j].start != add->start)))
		goto changed;
	rc = 0;
	goto out;
changed:
	buf_printf(err, "%s: the edit would change other entries (an unusual layout of the "
		   "list); edit the file by hand", file);
out:
	buf_release(&perr);
	free(s);
	return rc;
}

int freeze_add(struct buf *out, const char *doc, size_t len, const char *file,
	       const struct freeze_new *n, struct buf *err)
{
	struct freeze_set *old = calloc(1, sizeof *old);
	struct errs x = { err, file && *file ? file : "freezes", 0 };
	struct buf res = BUF_INIT;
	struct loaded L;
	size_t at;
	bool nl = false, key = false;
	int dash = 2, rc;

	if (!old)
		return ERR_NOMEM;
	if (!doc)
		len = 0;
	at = len;
	buf_init(&res, FREEZE_FILE_MAX + 1);
	memset(&L, 0, sizeof L);
	if ((rc = load(&L, doc, len, &x)) || (rc = entries(old, &L, &x)))
		goto out;
	rc = ERR_INVALID;
	if (!freeze_id_ok(n->id)) {
		buf_printf(err, "id \"%.64s\" must start with a letter or digit and hold only "
			   "a-z, 0-9, '.', '_', '-' (at most %d)", n->id, FREEZE_ID_MAX);
		goto out;
	}
	for (size_t i = 0; i < old->n; i++)
		if (strcmp(old->e[i].id, n->id) == 0) {
			buf_printf(err, "%s:%u: there is a freeze \"%s\" already", x.file,
				   old->e[i].line, n->id);
			goto out;
		}
	if (old->n >= FREEZE_MAX_ENTRIES) {
		buf_printf(err, "%s holds %d freezes, the most it may; lift the ones that have "
			   "ended", x.file, FREEZE_MAX_ENTRIES);
		goto out;
	}
	if (L.list && L.list->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE &&
	    L.list->data.sequence.items.top > L.list->data.sequence.items.start) {
		buf_printf(err, "%s:%zu: \"freezes\" is a flow list ([...]); write it as a "
			   "block list (\"- id: ...\" lines) to edit it with pipelinectl", x.file,
			   line_of(L.list));
		goto out;
	}
	if (L.list && L.list->data.sequence.style != YAML_FLOW_SEQUENCE_STYLE &&
	    L.list->data.sequence.items.top > L.list->data.sequence.items.start) {
		yaml_node_t *first = yaml_document_get_node(&L.doc,
							    L.list->data.sequence.items.start[0]);
		long e = list_end(L.list, doc, len, &nl);
		size_t ls = item_line_start(first), k = ls;

		while (k < first->start_mark.index && doc[k] == ' ')
			k++;
		if (e < 0 || k >= len || doc[k] != '-') {
			buf_printf(err, "%s:%zu: the list's layout cannot be kept by a splice; "
				   "edit the file by hand", x.file, line_of(L.list));
			goto out;
		}
		dash = (int)(k - ls);
		at = (size_t)e;
	} else if (L.value) {
		/* "freezes:" with nothing (or ~, null): the entries go on the
		 * lines after the key, the null value itself is dropped */
		size_t vs = L.value->start_mark.index, ve = L.value->end_mark.index;

		if (L.value->type == YAML_SCALAR_NODE && ve == vs) {
			/* empty: its mark is the next token's, past any comment */
			nl = len && doc[len - 1] != '\n';
		} else if (ve > vs && (L.value->type == YAML_SCALAR_NODE || L.list)) {
			/* ~, null or [] */
			size_t eol = ve;

			while (vs > 0 && doc[vs - 1] == ' ')
				vs--;
			while (eol < len && doc[eol] != '\n')
				eol++;
			if (buf_add(&res, doc, vs) || buf_add(&res, doc + ve, eol - ve) ||
			    buf_addch(&res, '\n') || entry_text(&res, n, 2) ||
			    (eol < len && buf_add(&res, doc + eol + 1, len - eol - 1)))
				goto toobig;
			goto verify;
		} else {
			buf_printf(err, "%s:%zu: \"freezes\" cannot be edited here; edit the file "
				   "by hand", x.file, line_of(L.value));
			goto out;
		}
	} else {
		key = true;
		nl = len && doc[len - 1] != '\n';
	}
	if (buf_add(&res, doc ? doc : "", at) || (nl && buf_addch(&res, '\n')) ||
	    (key && buf_adds(&res, "freezes:\n")) || entry_text(&res, n, dash) ||
	    buf_add(&res, doc ? doc + at : "", len - at))
		goto toobig;
verify:
	if ((rc = check_result(res.data, res.len, x.file, old, (size_t)-1, n, err)) == 0) {
		buf_reset(out);
		rc = buf_add(out, res.data, res.len);
	}
	goto out;
toobig:
	buf_printf(err, "%s would be larger than %u bytes", x.file, FREEZE_FILE_MAX);
	rc = ERR_TOOBIG;
out:
	loaded_release(&L);
	buf_release(&res);
	free(old);
	return rc;
}

int freeze_lift(struct buf *out, const char *doc, size_t len, const char *file,
		const char *id, struct buf *err)
{
	struct freeze_set *old = calloc(1, sizeof *old);
	struct errs x = { err, file && *file ? file : "freezes", 0 };
	struct buf res = BUF_INIT;
	struct loaded L;
	size_t i, from, to;
	yaml_node_item_t *items;
	bool nl;
	long e;
	int rc;

	if (!old)
		return ERR_NOMEM;
	if (!doc)
		len = 0;
	buf_init(&res, FREEZE_FILE_MAX + 1);
	memset(&L, 0, sizeof L);
	if ((rc = load(&L, doc, len, &x)) || (rc = entries(old, &L, &x)))
		goto out;
	for (i = 0; i < old->n && strcmp(old->e[i].id, id) != 0; i++)
		;
	if (i == old->n) {
		buf_printf(err, "%s has no freeze \"%.64s\"", x.file, id);
		rc = ERR_NOTFOUND;
		goto out;
	}
	rc = ERR_INVALID;
	if (L.list->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE) {
		buf_printf(err, "%s:%zu: \"freezes\" is a flow list ([...]); write it as a block "
			   "list (\"- id: ...\" lines) to edit it with pipelinectl", x.file,
			   line_of(L.list));
		goto out;
	}
	items = L.list->data.sequence.items.start;
	from = item_line_start(yaml_document_get_node(&L.doc, items[i]));
	if (i + 1 < old->n) {
		to = item_line_start(yaml_document_get_node(&L.doc, items[i + 1]));
	} else {
		e = list_end(L.list, doc, len, &nl);
		if (e < 0) {
			buf_printf(err, "%s:%zu: the list's layout cannot be kept by a splice; "
				   "edit the file by hand", x.file, line_of(L.list));
			goto out;
		}
		to = (size_t)e;
	}
	if (to < from || buf_add(&res, doc, from) || buf_add(&res, doc + to, len - to)) {
		buf_printf(err, "%s: the entry \"%s\" cannot be cut out; edit the file by hand",
			   x.file, id);
		goto out;
	}
	if ((rc = check_result(res.data ? res.data : "", res.len, x.file, old, i, NULL, err)) == 0) {
		buf_reset(out);
		rc = buf_add(out, res.data ? res.data : "", res.len);
	}
out:
	loaded_release(&L);
	buf_release(&res);
	free(old);
	return rc;
}
