/* layout.c - see layout.h
 *
 * Resolution is a few yamledit_find calls over the same bytes: the concrete
 * paths every rule could mean for every image (explicit [image] paths,
 * templates expanded per image, shared paths), then the digest siblings of
 * the tag-form locations, then the templates with their wildcard kept, only
 * to list the keys they would also match (untouched).  Which scalar serves
 * which image is then decided on the records alone, in the order of the
 * rule "explicit > template > shared", and every ambiguity is an error that
 * names the image and the path.  Writing is one yamledit_set of all the new
 * values, so the editor's verification covers the whole change.
 */
#include "layout.h"
#include "tag.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRMAX		4096		/* bytes of one error line */
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define STR_MAX_VALUE	STR(YAMLEDIT_VALUE_MAX)
#define MASK_VALUE	"0"		/* the placeholder of layout_mask: it always
					 * gets quotes, as an applied numeric tag would */

enum qkind {
	Q_EXPLICIT,	/* [image] tagPath of one image */
	Q_TEMPLATE,	/* a stage template expanded for one image */
	Q_SHARED,	/* a stage path without a wildcard */
	Q_DIGEST,	/* the digest sibling of location loc (image: its first image) */
	Q_INFO,		/* a template with its wildcard: what else it matches */
};

struct query {
	char *path;		/* concrete path asked for */
	enum qkind kind;
	size_t image;		/* Q_EXPLICIT, Q_TEMPLATE */
	const char *rule;	/* the configured path (borrowed from the rules) */
	size_t loc;		/* Q_DIGEST */
	size_t count;		/* scalars found */
	size_t first;		/* index of the first in struct res.found */
};

struct res {
	const struct layout_rules *r;
	const char *doc;
	size_t len;
	struct query *q;
	size_t nq, capq;
	struct yamledit_scalar *found;
	size_t nfound, capfound;
	struct buf *err;
	int rc;
};

static const char *file_of(const struct layout_rules *r)
{
	return r->file && *r->file ? r->file : "the values file";
}

/* The one error line: "FILE: message".  The first failure wins. */
static int fail(struct res *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct res *s, int rc, const char *fmt, ...)
{
	va_list ap;

	if (s->rc)
		return s->rc;
	s->rc = rc;
	if (!s->err)
		return rc;
	buf_printf(s->err, "%s: ", file_of(s->r));
	va_start(ap, fmt);
	buf_vprintf(s->err, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- paths ---- */

static bool is_wild(const char *seg, size_t n)
{
	return (n == 1 && seg[0] == '*') || (n == 7 && memcmp(seg, "{image}", 7) == 0);
}

/* Number of wildcard segments ('*' or "{image}"); *at is the first's offset. */
static size_t wildcards(const char *path, size_t *at, size_t *wlen)
{
	size_t n = 0;

	*at = *wlen = 0;	/* defined for n == 0 too (gcc -O2 cannot tell) */
	for (const char *p = path;;) {
		const char *e = strchr(p, '.');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (is_wild(p, l)) {
			if (!n++) {
				*at = (size_t)(p - path);
				*wlen = l;
			}
		}
		if (!e)
			return n;
		p = e + 1;
	}
}

/* path with its wildcard segment replaced by with. */
static char *expand(const char *path, size_t at, size_t wlen, const char *with)
{
	struct buf b = BUF_INIT;

	buf_init(&b, YAMLEDIT_PATH_MAX * 2);
	if (buf_add(&b, path, at) || buf_adds(&b, with) || buf_adds(&b, path + at + wlen)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int add_query(struct res *s, char *path, enum qkind kind, size_t image, const char *rule)
{
	struct query *q;

	if (!path || array_grow((void **)&s->q, &s->capq, s->nq, sizeof(*s->q))) {
		free(path);
		return fail(s, ERR_NOMEM, "out of memory");
	}
	q = &s->q[s->nq++];
	memset(q, 0, sizeof(*q));
	q->path = path;
	q->kind = kind;
	q->image = image;
	q->rule = rule;
	return 0;
}

static int check_path(struct res *s, const char *path, const char *what)
{
	struct buf why = BUF_INIT;
	int rc = 0;

	if (!path || !yamledit_path_valid(path, &why))
		rc = fail(s, ERR_INVALID, "%s '%s' is not a valid tag path: %s", what,
			  path ? path : "(null)", why.data ? why.data : "missing");
	buf_release(&why);
	return rc;
}

static bool has_explicit(const struct layout_rules *r, size_t i)
{
	return r->image_paths && r->image_paths[i];
}

/* Every concrete path any rule could mean, as queries. */
static int build_queries(struct res *s)
{
	const struct layout_rules *r = s->r;
	size_t at = 0, wlen = 0;

	if (r->nimages == 0 || !r->images)
		return fail(s, ERR_INVALID, "no images are configured");
	if (r->nimages > CONFIG_MAX_IMAGES || r->npaths > CONFIG_MAX_TAGPATHS)
		return fail(s, ERR_TOOBIG, "more than %d images or %d tag paths", CONFIG_MAX_IMAGES,
			    CONFIG_MAX_TAGPATHS);
	for (size_t i = 0; i < r->nimages && !s->rc; i++) {
		if (!r->images[i] || !*r->images[i])
			return fail(s, ERR_INVALID, "image %zu has no name", i + 1);
		if (!has_explicit(r, i))
			continue;
		if (check_path(s, r->image_paths[i], "[image] tagPath") == 0 &&
		    wildcards(r->image_paths[i], &at, &wlen))
			return fail(s, ERR_INVALID, "image '%s': [image] tagPath '%s' must name one "
				    "scalar (no '*' or {image})", r->images[i], r->image_paths[i]);
		add_query(s, xstrndup(r->image_paths[i], strlen(r->image_paths[i])), Q_EXPLICIT, i,
			  r->image_paths[i]);
	}
	for (size_t t = 0; t < r->npaths && !s->rc; t++) {
		const char *p = r->paths[t];
		size_t w;

		if (check_path(s, p, "tagPath"))
			break;
		w = wildcards(p, &at, &wlen);
		if (w > 1)
			return fail(s, ERR_INVALID, "tagPath '%s' has %zu wildcards; a template has one "
				    "('*' or {image})", p, w);
		if (w == 0) {
			add_query(s, xstrndup(p, strlen(p)), Q_SHARED, SIZE_MAX, p);
			continue;
		}
		for (size_t i = 0; i < r->nimages && !s->rc; i++) {
			if (has_explicit(r, i))
				continue;
			if (strchr(r->images[i], '.'))
				return fail(s, ERR_INVALID, "image '%s': a name with '.' cannot stand in "
					    "the template '%s'; give it an [image] tagPath", r->images[i], p);
			add_query(s, expand(p, at, wlen, r->images[i]), Q_TEMPLATE, i, p);
		}
	}
	return s->rc;
}

/* ---- finding ---- */

/* Which query a yamledit message is about ("<path>: ..."), or -1. */
static long blamed(const struct res *s, size_t base, size_t n, const char *msg)
{
	for (size_t i = base; i < base + n; i++) {
		size_t l = strlen(s->q[i].path);

		if (strncmp(msg, s->q[i].path, l) == 0 && msg[l] == ':' && msg[l + 1] == ' ')
			return (long)i;
	}
	return -1;
}

/* A yamledit failure, told about the image it concerns.  A failure of the
 * document as a whole starts with every path of the call: drop that list. */
static int find_failed(struct res *s, int rc, size_t base, size_t n, const char *msg)
{
	long who = blamed(s, base, n, msg);
	const char *rest = msg;

	if (who >= 0 && !strncmp(msg + strlen(s->q[who].path) + 2, "the document ", 13))
		return fail(s, rc, "%s", msg + strlen(s->q[who].path) + 2);
	if (who >= 0 && s->q[who].kind != Q_SHARED && s->q[who].kind != Q_INFO)
		return fail(s, rc, "image '%s': %s", s->r->images[s->q[who].image], msg);
	if (who >= 0)
		return fail(s, rc, "%s", msg);
	for (size_t i = base; i < base + n; i++) {
		size_t l = strlen(s->q[i].path);

		if (strncmp(rest, s->q[i].path, l) != 0 || (rest[l] != ',' && rest[l] != ':') ||
		    rest[l + 1] != ' ')
			return fail(s, rc, "%s", msg);
		rest += l + 2;
	}
	return fail(s, rc, "%s", rest);
}

/* Run yamledit_find over the queries [from, nq), YAMLEDIT_MAX_PATHS at a
 * time, appending records (ipath = query index) to s->found. */
static int find_queries(struct res *s, size_t from)
{
	const char *paths[YAMLEDIT_MAX_PATHS];

	for (size_t base = from; base < s->nq && !s->rc; base += YAMLEDIT_MAX_PATHS) {
		size_t n = s->nq - base < YAMLEDIT_MAX_PATHS ? s->nq - base : YAMLEDIT_MAX_PATHS;
		struct yamledit_scalar *v = NULL;
		struct buf e = BUF_INIT;
		size_t nv = 0;
		int rc;

		for (size_t i = 0; i < n; i++)
			paths[i] = s->q[base + i].path;
		rc = yamledit_find(&v, &nv, s->doc, s->len, paths, n, &e);
		if (rc) {
			find_failed(s, rc, base, n, e.data ? e.data : "cannot read the document");
			buf_release(&e);
			break;
		}
		for (size_t k = 0; k < nv; k++) {
			struct query *q = &s->q[base + v[k].ipath];

			if (array_grow((void **)&s->found, &s->capfound, s->nfound, sizeof(*s->found))) {
				yamledit_scalars_free(v + k, nv - k);
				v = NULL;
				fail(s, ERR_NOMEM, "out of memory");
				break;
			}
			v[k].ipath += base;
			if (!q->count++)
				q->first = s->nfound;
			s->found[s->nfound++] = v[k];
		}
		free(v);
	}
	return s->rc;
}

/* ---- deciding ---- */

static int loc_images_add(struct layout_loc *l, size_t image)
{
	size_t *v = realloc(l->images, (l->nimages + 1) * sizeof(*v));

	if (!v)
		return ERR_NOMEM;
	l->images = v;
	l->images[l->nimages++] = image;
	return 0;
}

static int new_loc(struct res *s, struct layout *out, size_t *cap, const struct query *q)
{
	const struct yamledit_scalar *sc = &s->found[q->first];
	struct layout_loc *l;

	if (array_grow((void **)&out->locs, cap, out->n, sizeof(*out->locs)))
		return fail(s, ERR_NOMEM, "out of memory");
	l = &out->locs[out->n++];
	memset(l, 0, sizeof(*l));
	l->path = xstrndup(sc->path, strlen(sc->path));
	l->value = xstrndup(sc->value, sc->len);
	l->rule = q->rule;
	l->line = sc->line;
	l->column = sc->column;
	l->quote = sc->quote;
	if (!l->path || !l->value)
		return fail(s, ERR_NOMEM, "out of memory");
	return 0;
}

static int too_many(struct res *s, const struct query *q)
{
	const struct yamledit_scalar *a = &s->found[q->first], *b = a + 1;

	for (size_t k = q->first + 1; k < s->nfound; k++)
		if (s->found[k].ipath == a->ipath) {
			b = &s->found[k];
			break;
		}
	if (q->kind == Q_SHARED)
		return fail(s, ERR_REJECTED, "shared tagPath '%s' matches %zu scalars (lines %zu and "
			    "%zu); it must name one", q->path, q->count, a->line, b->line);
	return fail(s, ERR_REJECTED, "image '%s': %s matches %zu scalars (lines %zu and %zu); it "
		    "must name one", s->r->images[q->image], q->path, q->count, a->line, b->line);
}

/* served[i]: the query that serves image i, or SIZE_MAX. */
static int pick_per_image(struct res *s, size_t *served)
{
	const struct layout_rules *r = s->r;

	for (size_t k = 0; k < s->nq && !s->rc; k++) {
		const struct query *q = &s->q[k];
		const struct query *prev;

		if (q->kind != Q_EXPLICIT && q->kind != Q_TEMPLATE)
			continue;
		if (q->kind == Q_EXPLICIT && q->count == 0)
			return fail(s, ERR_NOTFOUND, "image '%s': [image] tagPath %s matches no scalar "
				    "(no such key)", r->images[q->image], q->path);
		if (q->count > 1)
			return too_many(s, q);
		if (q->count == 0)
			continue;
		if (served[q->image] == SIZE_MAX) {
			served[q->image] = k;
			continue;
		}
		prev = &s->q[served[q->image]];
		return fail(s, ERR_REJECTED, "image '%s' is served twice: by %s (tagPath %s) and by "
			    "%s (tagPath %s)", r->images[q->image], prev->path, prev->rule, q->path,
			    q->rule);
	}
	return s->rc;
}

/* The images no explicit path and no template serve: one shared path, or
 * an error naming the first of them and what was tried. */
static int pick_shared(struct res *s, const size_t *served, size_t *shared)
{
	const struct layout_rules *r = s->r;
	size_t left = 0, first = SIZE_MAX, nshared = 0, other = SIZE_MAX;
	struct buf tried = BUF_INIT;

	*shared = SIZE_MAX;
	for (size_t i = 0; i < r->nimages; i++)
		if (served[i] == SIZE_MAX && !left++)
			first = i;
	for (size_t k = 0; k < s->nq; k++) {
		if (s->q[k].kind != Q_SHARED)
			continue;
		if (s->q[k].count == 0)
			return fail(s, ERR_NOTFOUND, "shared tagPath %s matches no scalar (no such key)",
				    s->q[k].path);
		if (s->q[k].count > 1)
			return too_many(s, &s->q[k]);
		if (!nshared++)
			*shared = k;
		else
			other = k;
	}
	if (nshared && !left)
		return fail(s, ERR_REJECTED, "shared tagPath %s serves no image: every image has its "
			    "own tag location", s->q[*shared].path);
	if (nshared > 1)
		return fail(s, ERR_REJECTED, "image '%s' is served twice: by shared tagPaths %s and %s",
			    r->images[first], s->q[*shared].path, s->q[other].path);
	if (nshared || !left)
		return 0;
	buf_init(&tried, ERRMAX);
	for (size_t k = 0; k < s->nq; k++)
		if (s->q[k].kind == Q_TEMPLATE && s->q[k].image == first)
			buf_printf(&tried, "%s%s", tried.len ? ", " : "", s->q[k].path);
	fail(s, ERR_NOTFOUND, "image '%s' has no tag location: %s%s%s", r->images[first],
	     tried.len ? "tried " : "no [image] tagPath or stage tagPath serves it",
	     tried.len ? tried.data : "", tried.len ? " (no such key)" : "");
	for (size_t i = first + 1, shown = 0; s->err && i < r->nimages; i++) {
		if (served[i] != SIZE_MAX)
			continue;
		if (shown++ == 4) {
			buf_printf(s->err, " and %zu more", left - 5);
			break;
		}
		buf_printf(s->err, "%s'%s'", shown == 1 ? "; nor has " : ", ", r->images[i]);
	}
	buf_release(&tried);
	return s->rc;
}

static int loc_cmp(const void *a, const void *b)
{
	const struct layout_loc *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->column > y->column) - (x->column < y->column);
}

/* Two rules that land on one scalar serve their images twice. */
static int check_distinct(struct res *s, struct layout *out)
{
	qsort(out->locs, out->n, sizeof(*out->locs), loc_cmp);
	for (size_t k = 1; k < out->n; k++) {
		const struct layout_loc *a = &out->locs[k - 1], *b = &out->locs[k];

		if (a->line == b->line && a->column == b->column)
			return fail(s, ERR_REJECTED, "the scalar at %s (line %zu) is served twice: for "
				    "image '%s' by tagPath %s and for image '%s' by tagPath %s", a->path,
				    a->line, s->r->images[a->images[0]], a->rule,
				    s->r->images[b->images[0]], b->rule);
	}
	return 0;
}

static int make_locs(struct res *s, struct layout *out)
{
	const struct layout_rules *r = s->r;
	size_t served[CONFIG_MAX_IMAGES], shared, cap = 0;

	for (size_t i = 0; i < r->nimages; i++)
		served[i] = SIZE_MAX;
	if (pick_per_image(s, served) || pick_shared(s, served, &shared))
		return s->rc;
	for (size_t i = 0; i < r->nimages && !s->rc; i++) {
		if (served[i] == SIZE_MAX)
			continue;
		if (new_loc(s, out, &cap, &s->q[served[i]]) == 0 &&
		    loc_images_add(&out->locs[out->n - 1], i))
			fail(s, ERR_NOMEM, "out of memory");
	}
	if (shared != SIZE_MAX && !s->rc && new_loc(s, out, &cap, &s->q[shared]) == 0)
		for (size_t i = 0; i < r->nimages && !s->rc; i++)
			if (served[i] == SIZE_MAX && loc_images_add(&out->locs[out->n - 1], i))
				fail(s, ERR_NOMEM, "out of memory");
	return s->rc ? s->rc : check_distinct(s, out);
}

/* ---- forms: tag or image reference ---- */

static const char *last_of(const char *v, char c, size_t n)
{
	while (n--)
		if (v[n] == c)
			return v + n;
	return NULL;
}

static int parse_ref(struct res *s, struct layout_loc *l)
{
	const char *v = l->value, *at = strrchr(v, '@'), *slash, *colon;
	const char *name = s->r->images[l->images[0]];
	size_t end = at ? (size_t)(at - v) : strlen(v), repolen, nlen = strlen(name);

	l->form = LAYOUT_REF;
	if (l->nimages > 1)
		return fail(s, ERR_REJECTED, "%s holds an image reference ('%s'), which serves one "
			    "image, but it is the shared tag of %zu images", l->path, v, l->nimages);
	slash = last_of(v, '/', end);
	colon = last_of(v, ':', end);
	if (!colon || (slash && colon < slash) || colon + 1 == v + end || colon == v)
		return fail(s, ERR_REJECTED, "image '%s': %s holds the reference '%s' without a :TAG "
			    "part", name, l->path, v);
	repolen = (size_t)(colon - v);
	/* one '@' at most, before the digest: with a second one in the
	 * repository, writing the tag without the old digest would leave a
	 * reference that reads back as another repository */
	if (memchr(v, '@', repolen))
		return fail(s, ERR_REJECTED, "image '%s': %s holds the reference '%s', whose "
			    "repository '%.*s' has an '@' (only a digest follows an '@')", name,
			    l->path, v, (int)repolen, v);
	if (!(repolen == nlen && !memcmp(v, name, nlen)) &&
	    !(repolen > nlen && v[repolen - nlen - 1] == '/' && !memcmp(v + repolen - nlen, name, nlen)))
		return fail(s, ERR_REJECTED, "image '%s': %s holds a reference to '%.*s', not to "
			    "image '%s' (its repository must end in /%s)", name, l->path, (int)repolen,
			    v, name, name);
	l->tag = xstrndup(colon + 1, end - repolen - 1);
	if (at)
		l->digest = xstrndup(at + 1, strlen(at + 1));
	if (!l->tag || (at && !l->digest))
		return fail(s, ERR_NOMEM, "out of memory");
	return 0;
}

static int set_forms(struct res *s, struct layout *out)
{
	for (size_t k = 0; k < out->n && !s->rc; k++) {
		struct layout_loc *l = &out->locs[k];

		if (strpbrk(l->value, "/:")) {
			parse_ref(s, l);
			continue;
		}
		l->form = LAYOUT_TAG;
		if (!(l->tag = xstrndup(l->value, strlen(l->value))))
			fail(s, ERR_NOMEM, "out of memory");
	}
	return s->rc;
}

/* ---- digests beside tags ---- */

/* "a.b.tag" -> "a.b.digest"; NULL when the tag's own key is "digest". */
static char *sibling(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t keep = dot ? (size_t)(dot - path + 1) : 0;
	struct buf b = BUF_INIT;

	if (strcmp(path + keep, "digest") == 0)
		return NULL;
	buf_init(&b, YAMLEDIT_PATH_MAX * 2);
	if (buf_add(&b, path, keep) || buf_adds(&b, "digest")) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int digest_wanted(struct res *s, const struct layout_loc *l, const char *sib)
{
	if (l->nimages > 1)
		return fail(s, ERR_REJECTED, "%s is the shared tag of %zu images, so it cannot carry a "
			    "digest (each image has its own): set digest = false, or give each image "
			    "its own tag", l->path, l->nimages);
	if (!sib)
		return fail(s, ERR_REJECTED, "image '%s': digest = true, but %s is itself named "
			    "'digest'", s->r->images[l->images[0]], l->path);
	return fail(s, ERR_NOTFOUND, "image '%s': digest = true, but there is no scalar %s beside "
		    "%s (add one, like digest: \"\")", s->r->images[l->images[0]], sib, l->path);
}

/* Queries [from, nq) for information only: a failure is forgotten. */
static void find_info(struct res *s, size_t from)
{
	struct buf *keep = s->err;

	s->err = NULL;
	if (find_queries(s, from))
		s->rc = 0;
	s->err = keep;
}

/* Look up the sibling digest of every tag-form location.  Without digest
 * = true this is information only: any failure leaves digest_path NULL. */
static int find_digests(struct res *s, struct layout *out)
{
	size_t from = s->nq;
	bool want = s->r->digest;

	for (size_t k = 0; k < out->n && !s->rc; k++) {
		struct layout_loc *l = &out->locs[k];
		char *sib;

		if (l->form != LAYOUT_TAG)
			continue;
		if (want && l->nimages > 1)
			return digest_wanted(s, l, NULL);
		sib = sibling(l->path);
		if (!sib && want)
			return digest_wanted(s, l, NULL);
		if (sib && add_query(s, sib, Q_DIGEST, l->images[0], l->rule) == 0)
			s->q[s->nq - 1].loc = k;
	}
	if (s->rc)
		return s->rc;
	if (!want) {
		find_info(s, from);
		if (s->rc)
			return s->rc;
	} else if (find_queries(s, from)) {
		return s->rc;
	}
	for (size_t k = from; k < s->nq && !s->rc; k++) {
		const struct query *q = &s->q[k];
		struct layout_loc *l = &out->locs[q->loc];
		const struct yamledit_scalar *sc = &s->found[q->first];

		if (q->count != 1) {
			if (want)
				return q->count ? too_many(s, q) : digest_wanted(s, l, q->path);
			continue;
		}
		l->digest_path = xstrndup(sc->path, strlen(sc->path));
		l->digest = sc->len ? xstrndup(sc->value, sc->len) : NULL;
		l->digest_line = sc->line;
		l->digest_column = sc->column;
		if (!l->digest_path || (sc->len && !l->digest))
			fail(s, ERR_NOMEM, "out of memory");
	}
	return s->rc;
}

/* ---- what the templates match besides the images ---- */

static bool is_loc_path(const struct layout *out, const char *path)
{
	for (size_t k = 0; k < out->n; k++)
		if (strcmp(out->locs[k].path, path) == 0)
			return true;
	return false;
}

static void find_untouched(struct res *s, struct layout *out)
{
	const struct layout_rules *r = s->r;
	size_t from = s->nq, cap = 0, at, wlen;

	for (size_t t = 0; t < r->npaths && !s->rc; t++)
		if (wildcards(r->paths[t], &at, &wlen) == 1)
			add_query(s, expand(r->paths[t], at, wlen, "*"), Q_INFO, SIZE_MAX, r->paths[t]);
	if (s->rc || from == s->nq)
		return;
	/* Information only: a template the resolution did not need may run
	 * into what the editor refuses (a merge key, an alias). */
	find_info(s, from);
	if (s->rc)
		return;
	for (size_t k = 0; k < s->nfound; k++) {
		const struct yamledit_scalar *sc = &s->found[k];
		char *p;
		bool dup = false;

		if (sc->ipath < from || is_loc_path(out, sc->path))
			continue;
		for (size_t u = 0; u < out->nuntouched && !dup; u++)
			dup = strcmp(out->untouched[u], sc->path) == 0;
		if (dup)
			continue;
		p = xstrndup(sc->path, strlen(sc->path));
		if (!p || array_grow((void **)&out->untouched, &cap, out->nuntouched, sizeof(char *))) {
			free(p);
			fail(s, ERR_NOMEM, "out of memory");
			return;
		}
		out->untouched[out->nuntouched++] = p;
	}
}

/* ---- entry points ---- */

void layout_rules_from_config(struct layout_rules *r, const struct config *cfg, enum stage s)
{
	const struct config_stage *st = &cfg->stages[s];

	memset(r, 0, sizeof(*r));
	r->file = st->values_path;
	r->images = (const char *const *)cfg->registry.images.v;
	r->nimages = cfg->registry.images.n;
	r->image_paths = (const char *const *)cfg->registry.image_tag_paths;
	if (!stage_is_deploy(s) || !st->enabled)
		return;
	r->paths = (const char *const *)st->tag_paths.v;
	r->npaths = st->tag_paths.n;
	r->digest = st->digest;
}

void layout_release(struct layout *l)
{
	if (!l)
		return;
	for (size_t k = 0; k < l->n; k++) {
		struct layout_loc *c = &l->locs[k];

		free(c->path);
		free(c->value);
		free(c->tag);
		free(c->digest);
		free(c->digest_path);
		free(c->images);
	}
	free(l->locs);
	for (size_t u = 0; u < l->nuntouched; u++)
		free(l->untouched[u]);
	free(l->untouched);
	memset(l, 0, sizeof(*l));
}

static void res_release(struct res *s)
{
	for (size_t k = 0; k < s->nq; k++)
		free(s->q[k].path);
	free(s->q);
	yamledit_scalars_free(s->found, s->nfound);
}

int layout_resolve(struct layout *out, const struct layout_rules *r, const char *doc, size_t len,
		   struct buf *err)
{
	struct res s = { .r = r, .doc = doc, .len = len, .err = err };
	struct layout l = { 0 };

	memset(out, 0, sizeof(*out));
	if (!r)
		return ERR_INVALID;
	if (build_queries(&s) == 0 && find_queries(&s, 0) == 0 && make_locs(&s, &l) == 0 &&
	    set_forms(&s, &l) == 0 && find_digests(&s, &l) == 0)
		find_untouched(&s, &l);
	res_release(&s);
	l.images = r->images;
	if (s.rc) {
		layout_release(&l);
		return s.rc;
	}
	*out = l;
	return 0;
}

const struct layout_loc *layout_for_image(const struct layout *l, size_t image)
{
	for (size_t k = 0; l && k < l->n; k++)
		for (size_t i = 0; i < l->locs[k].nimages; i++)
			if (l->locs[k].images[i] == image)
				return &l->locs[k];
	return NULL;
}

int layout_current(struct buf *tag, const struct layout *l, struct buf *err)
{
	const struct layout_loc *a;

	if (!l || l->n == 0) {
		buf_printf(err, "no tag location");
		return ERR_NOTFOUND;
	}
	a = &l->locs[0];
	for (size_t k = 1; k < l->n; k++) {
		const struct layout_loc *b = &l->locs[k];

		if (strcmp(a->tag, b->tag) == 0)
			continue;
		buf_printf(err, "images run different tags: '%s' at %s has '%s', '%s' at %s has '%s'",
			   l->images[a->images[0]], a->path, a->tag, l->images[b->images[0]], b->path,
			   b->tag);
		return ERR_REJECTED;
	}
	buf_init(tag, TAG_MAX + 1);
	if (buf_adds(tag, a->tag)) {
		buf_release(tag);
		return ERR_NOMEM;
	}
	return 0;
}

/* ---- writing ---- */

struct edits {
	const char *paths[2 * CONFIG_MAX_IMAGES];
	char *values[2 * CONFIG_MAX_IMAGES];
	size_t n;
};

static void edits_release(struct edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->values[i]);
	e->n = 0;
}

static int edits_add(struct edits *e, const char *path, const char *a, const char *b,
		     const char *c)
{
	struct buf v = BUF_INIT;

	if (e->n == ARRAY_SIZE(e->values))
		return ERR_TOOBIG;
	buf_init(&v, YAMLEDIT_VALUE_MAX + 1);
	if (buf_adds(&v, a) || (b && buf_adds(&v, b)) || (c && buf_adds(&v, c))) {
		buf_release(&v);
		return ERR_TOOBIG;
	}
	e->paths[e->n] = path;
	e->values[e->n++] = buf_detach(&v, NULL);
	return 0;
}

/* The repository part of a reference: everything before the tag's ':'. */
static char *ref_repo(const struct layout_loc *l)
{
	size_t n = strlen(l->value) - strlen(l->tag) - 1 - (l->digest ? strlen(l->digest) + 1 : 0);

	return xstrndup(l->value, n);
}

static bool digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
		return false;
	for (d += 7; *d; d++)
		if (!((*d >= '0' && *d <= '9') || (*d >= 'a' && *d <= 'f')))
			return false;
	return true;
}

/* The new value(s) of one location: its tag (the reference's tag part) and,
 * with digests, its digest; without, a digest that would pin the old image
 * is dropped (reference) or refused (sibling). */
static int edit_loc(struct edits *e, const struct layout_rules *r, const struct layout_loc *l,
		    const char *tag, const char *const *digests, struct buf *err)
{
	const char *name = r->images[l->images[0]];
	const char *digest = r->digest ? digests[l->images[0]] : NULL;
	bool same = strcmp(l->tag, tag) == 0;
	char *repo;
	int rc;

	if (l->form == LAYOUT_TAG) {
		if (!r->digest && !same && l->digest_path && l->digest) {
			buf_printf(err, "%s: image '%s': %s holds the digest of the running image, which "
				   "the new tag would contradict: set digest = true in the stage so "
				   "pipelined writes the new one, or empty it", file_of(r), name,
				   l->digest_path);
			return ERR_REJECTED;
		}
		rc = edits_add(e, l->path, tag, NULL, NULL);
		if (!rc && digest)
			rc = edits_add(e, l->digest_path, digest, NULL, NULL);
		return rc;
	}
	if (!digest && same && l->digest)
		digest = l->digest;	/* the same image: its digest still holds */
	if (!(repo = ref_repo(l)))
		return ERR_NOMEM;
	rc = edits_add(e, l->path, repo, ":", tag);
	if (!rc && digest) {
		char *v = e->values[e->n - 1];

		e->n--;
		rc = edits_add(e, l->path, v, "@", digest);
		free(v);
	}
	free(repo);
	return rc;
}

/* yamledit_set in slices of YAMLEDIT_MAX_PATHS, each on the last's output. */
static int set_all(struct buf *out, struct yamledit_stats *stats, const struct layout_rules *r,
		   const char *doc, size_t len, const struct edits *e, struct buf *err)
{
	struct yamledit_stats sum = { 0 }, st;
	struct buf cur = BUF_INIT, next;
	int rc = 0;

	for (size_t base = 0; base < e->n && !rc; base += YAMLEDIT_MAX_PATHS) {
		size_t n = e->n - base < YAMLEDIT_MAX_PATHS ? e->n - base : YAMLEDIT_MAX_PATHS;
		struct buf why = BUF_INIT;

		rc = yamledit_set(&next, &st, base ? cur.data : doc, base ? cur.len : len,
				  e->paths + base, (const char *const *)e->values + base, n, &why);
		if (rc) {
			buf_printf(err, "%s: %s", file_of(r), why.data ? why.data : "cannot edit");
			buf_release(&why);
			break;
		}
		buf_release(&cur);
		cur = next;
		sum.matched += st.matched;
		sum.changed += st.changed;
		sum.lines += st.lines;
	}
	if (rc) {
		buf_release(&cur);
		return rc;
	}
	*out = cur;
	if (stats)
		*stats = sum;
	return 0;
}

int layout_apply(struct buf *out, struct yamledit_stats *stats, const struct layout_rules *r,
		 const char *doc, size_t len, const char *tag, const char *const *digests,
		 struct buf *err)
{
	struct edits e = { .n = 0 };
	struct layout l;
	int rc;

	if (!r || !tag || !tag_valid(tag, strlen(tag))) {
		buf_printf(err, "'%s' is not a valid image tag", tag ? tag : "(null)");
		return ERR_INVALID;
	}
	for (size_t i = 0; r->digest && i < r->nimages; i++)
		if (!digests || !digest_valid(digests[i])) {
			buf_printf(err, "image '%s': '%s' is not a digest (sha256: and 64 lowercase hex)",
				   r->images[i], digests && digests[i] ? digests[i] : "(none)");
			return ERR_INVALID;
		}
	if ((rc = layout_resolve(&l, r, doc, len, err)))
		return rc;
	for (size_t k = 0; k < l.n && !rc; k++)
		rc = edit_loc(&e, r, &l.locs[k], tag, digests, err);
	if (rc == ERR_TOOBIG || rc == ERR_NOMEM)
		buf_printf(err, "%s: %s", file_of(r), rc == ERR_NOMEM ? "out of memory"
					   : "a new value is longer than " STR_MAX_VALUE " bytes");
	if (!rc)
		rc = set_all(out, stats, r, doc, len, &e, err);
	edits_release(&e);
	layout_release(&l);
	return rc;
}

int layout_mask(struct buf *out, const struct layout_rules *r, const char *doc, size_t len,
		struct buf *err)
{
	struct edits e = { .n = 0 };
	struct layout l;
	int rc;

	if ((rc = layout_resolve(&l, r, doc, len, err)))
		return rc;
	for (size_t k = 0; k < l.n && !rc; k++) {
		const struct layout_loc *c = &l.locs[k];
		char *repo = NULL;

		if (c->form == LAYOUT_REF && !(repo = ref_repo(c)))
			rc = ERR_NOMEM;
		if (!rc)
			rc = edits_add(&e, c->path, repo ? repo : MASK_VALUE, repo ? ":" : NULL,
				       repo ? MASK_VALUE : NULL);
		if (!rc && c->digest_path)
			rc = edits_add(&e, c->digest_path, MASK_VALUE, NULL, NULL);
		free(repo);
	}
	if (rc)
		buf_printf(err, "%s: %s", file_of(r), rc == ERR_NOMEM ? "out of memory"
					   : "a value is longer than " STR_MAX_VALUE " bytes");
	else
		rc = set_all(out, NULL, r, doc, len, &e, err);
	edits_release(&e);
	layout_release(&l);
	return rc;
}

/* ---- re-applying a promotion without parsing (the audit's fast path) ---- */

/* Byte offset of 1-based (line, column) in doc when every byte before it
 * on its line is ASCII (libyaml counts columns in characters); SIZE_MAX
 * otherwise. */
static size_t ascii_offset(const char *doc, size_t len, size_t line, size_t column)
{
	size_t off = 0;

	for (size_t ln = 1; ln < line; ln++) {
		const char *nl = memchr(doc + off, '\n', len - off);

		if (!nl)
			return SIZE_MAX;
		off = (size_t)(nl - doc) + 1;
	}
	for (size_t k = 1; k < column; k++, off++)
		if (off >= len || doc[off] == '\n' || (unsigned char)doc[off] >= 0x80)
			return SIZE_MAX;
	return off;
}

int layout_tag_spans(struct layout_span *out, size_t max, const struct layout *l, const char *doc,
		     size_t len)
{
	size_t prev_end = 0;

	if (!l || !doc || l->n == 0 || l->n > max)
		return ERR_REJECTED;
	for (size_t k = 0; k < l->n; k++) {
		const struct layout_loc *c = &l->locs[k];
		size_t vlen = strlen(c->value), tlen = strlen(c->tag);
		size_t off = ascii_offset(doc, len, c->line, c->column), t0;

		if (off == SIZE_MAX || off < prev_end || tlen == 0)
			return ERR_REJECTED;
		if (c->quote) {
			if (off + vlen + 2 > len || doc[off] != c->quote || doc[off + 1 + vlen] != c->quote)
				return ERR_REJECTED;
			off++;
		}
		/* the value verbatim: no escape, no fold, no line break */
		if (off + vlen > len || memcmp(doc + off, c->value, vlen) != 0 ||
		    memchr(c->value, '\n', vlen))
			return ERR_REJECTED;
		/* a reference is REPO:TAG[@DIGEST] */
		t0 = c->form == LAYOUT_TAG ? 0 :
		     vlen - tlen - (c->digest ? strlen(c->digest) + 1 : 0);
		if (t0 > vlen || t0 + tlen > vlen || memcmp(c->value + t0, c->tag, tlen) != 0 ||
		    (c->form == LAYOUT_TAG && tlen != vlen) ||
		    (c->form == LAYOUT_REF && (t0 == 0 || c->value[t0 - 1] != ':')))
			return ERR_REJECTED;
		out[k].off = off + t0;
		out[k].len = tlen;
		prev_end = off + vlen + (c->quote ? 1 : 0);
	}
	return 0;
}

int layout_splice_tag(struct buf *out, struct layout_span *spans, size_t n, const char *doc,
		      size_t len, const char *tag)
{
	size_t tlen = strlen(tag), at = 0;
	int rc = 0;

	buf_init(out, len + n * tlen + 1);
	for (size_t k = 0; k < n && !rc; k++) {
		size_t off = spans[k].off, old = spans[k].len;

		if (off < at || off + old > len)
			return ERR_INVALID;
		rc = buf_add(out, doc + at, off - at);
		spans[k].off = out->len;
		spans[k].len = tlen;
		if (!rc)
			rc = buf_add(out, tag, tlen);
		at = off + old;
	}
	return rc ? rc : buf_add(out, doc + at, len - at);
}
