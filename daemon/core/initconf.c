/* initconf.c - pipelinectl init's inference (initconf.h): scan each values
 * file into its scalars and their dotted paths (libyaml events), pick the
 * tag-like ones, infer images, registry and mapping, render the file.
 * Pure: no git, no files, no logging. */
#include "initconf.h"
#include "config.h"
#include "tag.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define INIT_MAX_SCALARS 20000		/* scalars of one file */
#define INIT_MAX_DEPTH 64
#define INIT_MAX_CANDS 256		/* tag candidates of one file */

/* ---- the scan ----------------------------------------------------------- */

struct scalar {
	char *path;		/* dotted path; NULL when a key cannot be written in one */
	char *parent;		/* path of the enclosing mapping ("" at the root) */
	char *key;		/* the last key, or NULL inside a sequence */
	char *value;
	size_t line, column;	/* 1-based */
};

struct scan {
	struct scalar *v;
	size_t n, cap;
	char error[256];	/* why the file could not be read, or "" */
};

struct frame {
	bool map, want_key, bad;	/* bad: a key that no dotted path can name */
	char *seg;			/* this node's key (or index) in its parent */
	char *key;			/* map: the key whose value comes next */
	size_t index;			/* seq: the next index */
};

static bool seg_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n <= 128 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789_-/") == n;
}

/* The dotted path of frames[1..depth) plus last (may be NULL). */
static char *join_path(const struct frame *f, size_t depth, const char *last, bool *bad)
{
	struct buf b = BUF_INIT;

	*bad = false;
	for (size_t i = 1; i < depth; i++) {
		*bad |= f[i].bad;
		buf_printf(&b, "%s%s", b.len ? "." : "", f[i].seg ? f[i].seg : "?");
	}
	if (last)
		buf_printf(&b, "%s%s", b.len ? "." : "", last);
	if (!b.data)
		buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

static int add_scalar(struct scan *s, const struct frame *f, size_t depth, const char *key,
		      const char *value, const yaml_mark_t *m)
{
	struct scalar *x;
	bool bad1, bad2;

	if (s->n == INIT_MAX_SCALARS)
		return ERR_TOOBIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct scalar *v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return ERR_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	x = &s->v[s->n++];
	memset(x, 0, sizeof *x);
	x->parent = join_path(f, depth, NULL, &bad1);
	x->path = join_path(f, depth, key, &bad2);
	x->key = key ? xstrndup(key, strlen(key)) : NULL;
	x->value = xstrndup(value, strlen(value));
	x->line = m->line + 1;
	x->column = m->column + 1;
	if (bad1 || bad2 || (key && !seg_ok(key))) {
		free(x->path);
		x->path = NULL;
	}
	return 0;
}

static void scan_release(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].parent);
		free(s->v[i].key);
		free(s->v[i].value);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* A node starts at depth: push a frame named by the parent's key/index. */
static int push(struct frame *f, size_t *depth, bool map)
{
	struct frame *p = &f[*depth - 1], *c;
	char idx[32];

	if (*depth == INIT_MAX_DEPTH)
		return ERR_TOOBIG;
	c = &f[(*depth)++];
	memset(c, 0, sizeof *c);
	c->map = map;
	c->want_key = map;
	if (*depth == 1)
		return 0;
	if (p->map) {
		c->seg = p->key;
		c->bad = !p->key || !seg_ok(p->key);
		p->key = NULL;
		p->want_key = true;
	} else {
		snprintf(idx, sizeof idx, "%zu", p->index++);
		c->seg = xstrndup(idx, strlen(idx));
	}
	return 0;
}

static void pop(struct frame *f, size_t *depth)
{
	struct frame *c = &f[--(*depth)];

	free(c->seg);
	free(c->key);
}

/* A scalar (or alias) in the frame on top. */
static int on_scalar(struct scan *s, struct frame *f, size_t depth, const char *value,
		     const yaml_mark_t *m, bool alias)
{
	struct frame *t = &f[depth - 1];
	char idx[32];
	int rc = 0;

	if (t->map && t->want_key) {
		t->key = xstrndup(value, strlen(value));
		t->want_key = false;
		return t->key ? 0 : ERR_NOMEM;
	}
	if (t->map) {
		if (!alias)
			rc = add_scalar(s, f, depth, t->key, value, m);
		free(t->key);
		t->key = NULL;
		t->want_key = true;
		return rc;
	}
	snprintf(idx, sizeof idx, "%zu", t->index++);
	return alias ? 0 : add_scalar(s, f, depth, idx, value, m);
}

/* Every scalar value of the first document of doc, with its path. */
static int scan_file(struct scan *s, const char *doc, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct frame f[INIT_MAX_DEPTH];
	size_t depth = 0;
	int rc = 0;
	bool done = false;

	memset(s, 0, sizeof *s);
	if (!yaml_parser_initialize(&p))
		return ERR_NOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(s->error, sizeof s->error, "line %zu: %s",
				 p.problem_mark.line + 1, p.problem ? p.problem : "parse error");
			rc = ERR_INVALID;
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			rc = push(f, &depth, ev.type == YAML_MAPPING_START_EVENT);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			pop(f, &depth);
			break;
		case YAML_SCALAR_EVENT:
			if (depth)
				rc = on_scalar(s, f, depth, (const char *)ev.data.scalar.value,
					       &ev.start_mark, false);
			break;
		case YAML_ALIAS_EVENT:
			if (depth)
				rc = on_scalar(s, f, depth, "", &ev.start_mark, true);
			break;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	while (depth)
		pop(f, &depth);
	yaml_parser_delete(&p);
	if (rc == ERR_TOOBIG && !s->error[0])
		snprintf(s->error, sizeof s->error, "more than %d scalars or %d levels",
			 INIT_MAX_SCALARS, INIT_MAX_DEPTH);
	return rc;
}

/* ---- the inference -------------------------------------------------------- */

enum cand_kind { CAND_TAG_KEY, CAND_REF, CAND_SHA };

struct cand {
	const struct scalar *sc;
	enum cand_kind kind;
	char image[128];	/* the image it serves, as far as can be told */
	char repo[256];		/* the image repository beside it, or "" */
	bool used;
};

/* A lowercase OCI name component, as [registry] image wants. */
static bool image_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Only what an image repository or reference can hold: nothing that could
 * end a line or a comment of the file written. */
static bool repo_chars_ok(const char *v)
{
	size_t n = strlen(v);

	return n && n <= 250 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789._-/:@") == n;
}

/* "host/ns/name:tag[@sha256:...]": repo (without tag) and tag; false when
 * value is not an image reference with a tag. */
static bool split_ref(const char *v, char *repo, size_t repsz, char *tag, size_t tagsz)
{
	const char *slash = NULL, *colon, *at = strchr(v, '@');
	size_t n = at ? (size_t)(at - v) : strlen(v);

	/* the last '/' before the digest: one after it ("a/b@c/d:e") would
	 * put the tag search past the name (found by fuzz_initconf) */
	for (const char *p = v; p < v + n; p++)
		if (*p == '/')
			slash = p;
	if (!slash || strstr(v, "://") || !repo_chars_ok(v))
		return false;
	colon = memchr(slash, ':', (size_t)(v + n - slash));
	if (!colon || !tag_valid(colon + 1, (size_t)(v + n - colon - 1)))
		return false;
	snprintf(repo, repsz, "%.*s", (int)(colon - v), v);
	snprintf(tag, tagsz, "%.*s", (int)(v + n - colon - 1), colon + 1);
	return true;
}

static const char *last_component(const char *repo)
{
	const char *s = strrchr(repo, '/');

	return s ? s + 1 : repo;
}

static const struct scalar *find_path(const struct scan *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].path && strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	return NULL;
}

/* The last segment of parent that is not "image": "services.api.image" -> api. */
static void name_from_parent(char *out, size_t outsz, const char *parent)
{
	char tmp[512];
	char *dot;

	snprintf(tmp, sizeof tmp, "%s", parent);
	for (;;) {
		dot = strrchr(tmp, '.');
		if (strcmp(dot ? dot + 1 : tmp, "image") != 0 || !dot)
			break;
		*dot = '\0';
	}
	/* a name that does not fit cannot be told: never a cut-off one */
	if ((size_t)snprintf(out, outsz, "%s", dot ? dot + 1 : tmp) >= outsz ||
	    strcmp(out, "image") == 0)
		out[0] = '\0';
}

/* Keys that hold a commit id without saying of which image. */
static bool generic_key(const char *k)
{
	static const char *const words[] = { "commit", "sha", "revision", "rev", "version",
					     "gitsha", "gitCommit", "git_commit", "hash", "ref",
					     "digest", "appVersion", "id" };

	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcmp(k, words[i]) == 0)
			return true;
	return false;
}

static void classify(struct cand *c, const struct scan *s)
{
	const struct scalar *sc = c->sc, *rep;
	char repo[256], tag[160], path[600];

	if (c->kind == CAND_REF) {
		split_ref(sc->value, repo, sizeof repo, tag, sizeof tag);
		snprintf(c->repo, sizeof c->repo, "%s", repo);
		if ((size_t)snprintf(c->image, sizeof c->image, "%s", last_component(repo)) >=
		    sizeof c->image)
			c->image[0] = '\0';	/* too long to be told, see name_from_parent */
		return;
	}
	snprintf(path, sizeof path, "%s%srepository", sc->parent, *sc->parent ? "." : "");
	rep = find_path(s, path);
	if (rep && strchr(rep->value, '/') && repo_chars_ok(rep->value)) {
		snprintf(c->repo, sizeof c->repo, "%s", rep->value);
		snprintf(c->image, sizeof c->image, "%s", last_component(rep->value));
		return;
	}
	if (c->kind == CAND_TAG_KEY) {
		name_from_parent(c->image, sizeof c->image, sc->parent);
		return;
	}
	/* a bare commit id: "images.api: <sha>" names its image by its key;
	 * "build.commit: <sha>" names none */
	if (!generic_key(sc->key))
		snprintf(c->image, sizeof c->image, "%s", sc->key);
}

/* The tag-like scalars of a file: keys named tag, 40-hex values, image
 * references.  A 40-hex value under a key named tag counts once. */
static size_t find_cands(struct cand *out, size_t max, const struct scan *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n && n < max; i++) {
		const struct scalar *sc = &s->v[i];
		char repo[256], tag[160];
		enum cand_kind k;

		if (!sc->path || !sc->key || isdigit((unsigned char)sc->key[0]))
			continue;
		if (strcmp(sc->key, "tag") == 0 && tag_valid(sc->value, strlen(sc->value)))
			k = CAND_TAG_KEY;
		else if (tag_is_sha1(sc->value, strlen(sc->value)))
			k = CAND_SHA;
		else if (split_ref(sc->value, repo, sizeof repo, tag, sizeof tag))
			k = CAND_REF;
		else
			continue;
		memset(&out[n], 0, sizeof out[n]);
		out[n].sc = sc;
		out[n].kind = k;
		classify(&out[n], s);
		n++;
	}
	return n;
}

/* The images of a file's image repositories ("...repository: host/ns/x"),
 * whether or not a tag sits beside them: a shared tag serves these. */
static void repo_images(struct config_list *imgs, struct config_list *repos, const struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct scalar *sc = &s->v[i];

		if (!sc->key || strcmp(sc->key, "repository") != 0 || !strchr(sc->value, '/') ||
		    strstr(sc->value, "://") || !repo_chars_ok(sc->value))
			continue;
		if (!image_name_ok(last_component(sc->value)))
			continue;
		bool seen = false;

		for (size_t j = 0; j < imgs->n; j++)
			seen |= strcmp(imgs->v[j], last_component(sc->value)) == 0;
		if (seen || imgs->n == CONFIG_MAX_IMAGES)
			continue;
		imgs->v[imgs->n++] = xstrndup(last_component(sc->value),
					      strlen(last_component(sc->value)));
		repos->v[repos->n++] = xstrndup(sc->value, strlen(sc->value));
	}
}

/* What one stage's file says. */
struct stage_guess {
	const char *file;		/* repo path */
	struct scan scan;
	struct cand *cands;		/* at most INIT_MAX_CANDS, one per scalar at most */
	size_t ncands;
	char *paths[CONFIG_MAX_TAGPATHS];	/* the stage's tagPath lines */
	size_t npaths;
	bool digest;			/* digest scalars sit beside the tags */
	struct buf notes;		/* comment lines for the stage */
};

struct guess {
	struct stage_guess st[STAGE_COUNT];
	char *images[CONFIG_MAX_IMAGES];
	char *image_path[CONFIG_MAX_IMAGES];	/* [image] tagPath or NULL */
	char *repos[CONFIG_MAX_IMAGES];
	size_t nimages;
	char registry[256], namespace[256];
	char values_dir[256];
};

static int image_index(struct guess *g, const char *name, const char *repo)
{
	for (size_t i = 0; i < g->nimages; i++)
		if (strcmp(g->images[i], name) == 0)
			return (int)i;
	if (g->nimages == CONFIG_MAX_IMAGES || !image_name_ok(name))
		return -1;
	g->images[g->nimages] = xstrndup(name, strlen(name));
	g->repos[g->nimages] = repo && *repo ? xstrndup(repo, strlen(repo)) : NULL;
	return (int)g->nimages++;
}

static void add_path(struct stage_guess *sg, const char *p)
{
	for (size_t i = 0; i < sg->npaths; i++)
		if (strcmp(sg->paths[i], p) == 0)
			return;
	if (sg->npaths < CONFIG_MAX_TAGPATHS)
		sg->paths[sg->npaths++] = xstrndup(p, strlen(p));
}

/* path with the segment equal to name replaced by {image}, or false. */
static bool templated(char *out, size_t outsz, const char *path, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = path; (p = strstr(p, name)); p++) {
		bool start = p == path || p[-1] == '.', end = p[n] == '.' || p[n] == '\0';

		if (start && end && p[n] != '\0') {
			snprintf(out, outsz, "%.*s{image}%s", (int)(p - path), path, p + n);
			return true;
		}
	}
	return false;
}

/* One candidate per image: a key named tag before a reference before a
 * bare 40-hex value; the rest are left for the notes. */
static void pick_per_image(struct stage_guess *sg)
{
	for (size_t i = 0; i < sg->ncands; i++) {
		struct cand *c = &sg->cands[i];
		bool better_exists = false;

		if (!c->image[0] || !image_name_ok(c->image))
			continue;
		for (size_t j = 0; j < sg->ncands; j++) {
			const struct cand *o = &sg->cands[j];

			if (j != i && strcmp(o->image, c->image) == 0 &&
			    (o->kind < c->kind || (o->kind == c->kind && j < i)))
				better_exists = true;
		}
		c->used = !better_exists;
	}
}

/* Infer one stage's rules from its candidates. */
static void infer_stage(struct guess *g, struct stage_guess *sg, bool first)
{
	struct config_list imgs = { 0 }, repos = { 0 };
	char *iv[CONFIG_MAX_IMAGES], *rv[CONFIG_MAX_IMAGES];
	size_t used = 0;

	imgs.v = iv;
	repos.v = rv;
	repo_images(&imgs, &repos, &sg->scan);
	pick_per_image(sg);
	for (size_t i = 0; i < sg->ncands; i++)
		used += sg->cands[i].used;
	if (used <= 1 && sg->ncands >= 1 && sg->cands[0].kind != CAND_REF) {
		/* one tag for the whole chart: a shared path serves every image */
		struct cand *c = &sg->cands[0];

		for (size_t i = 0; i < sg->ncands; i++)
			sg->cands[i].used = i == 0;
		add_path(sg, c->sc->path);
		for (size_t i = 0; i < imgs.n; i++)
			image_index(g, imgs.v[i], repos.v[i]);
		if (!imgs.n && c->image[0])
			image_index(g, c->image, c->repo);
		buf_printf(&sg->notes, "one tag scalar (%s) serves every image: a shared path\n",
			   c->sc->path);
	} else {
		char tmpl[600];

		for (size_t i = 0; i < sg->ncands; i++) {
			struct cand *c = &sg->cands[i];
			size_t same = 0;
			int ix;

			if (!c->used || (ix = image_index(g, c->image, c->repo)) < 0) {
				c->used = false;
				continue;
			}
			if (templated(tmpl, sizeof tmpl, c->sc->path, c->image))
				for (size_t j = 0; j < sg->ncands; j++) {
					char t2[600];

					same += sg->cands[j].used &&
						templated(t2, sizeof t2, sg->cands[j].sc->path,
							  sg->cands[j].image) &&
						strcmp(t2, tmpl) == 0;
				}
			if (same >= 2) {
				add_path(sg, tmpl);
			} else if (!g->image_path[ix] && first) {
				g->image_path[ix] = xstrndup(c->sc->path, strlen(c->sc->path));
			} else if (!g->image_path[ix] || strcmp(g->image_path[ix], c->sc->path)) {
				buf_printf(&sg->notes, "image '%s' is at %s here but at %s in the first "
					   "stage's file: [image] tagPath is one path for every stage\n",
					   c->image, c->sc->path,
					   g->image_path[ix] ? g->image_path[ix] : "(a template)");
			}
		}
	}
	for (size_t i = 0; i < sg->ncands; i++) {
		char dpath[600];

		snprintf(dpath, sizeof dpath, "%s%sdigest", sg->cands[i].sc->parent,
			 *sg->cands[i].sc->parent ? "." : "");
		if (sg->cands[i].used && sg->cands[i].kind != CAND_REF && find_path(&sg->scan, dpath))
			sg->digest = true;
	}
	if (sg->digest)
		buf_adds(&sg->notes, "digests sit beside the tags: the daemon writes the ones it "
			 "verified\n");
	for (size_t i = 0; i < sg->ncands; i++)
		if (!sg->cands[i].used)
			buf_printf(&sg->notes, "not used: %s:%zu: %s = %s\n", sg->file,
				   sg->cands[i].sc->line, sg->cands[i].sc->path, sg->cands[i].sc->value);
	for (size_t i = 0; i < imgs.n; i++) {
		free(imgs.v[i]);
		free(repos.v[i]);
	}
}

/* [registry] url and namespace from the image repositories. */
static void infer_registry(struct guess *g)
{
	snprintf(g->registry, sizeof g->registry, "https://ghcr.io");
	for (size_t i = 0; i < g->nimages; i++) {
		const char *r = g->repos[i], *slash, *last;

		if (!r || !(slash = strchr(r, '/')))
			continue;
		last = strrchr(r, '/');
		if (memchr(r, '.', (size_t)(slash - r)) || memchr(r, ':', (size_t)(slash - r)) ||
		    strncmp(r, "localhost/", 10) == 0) {
			snprintf(g->registry, sizeof g->registry, "https://%.*s", (int)(slash - r), r);
			if (last > slash)
				snprintf(g->namespace, sizeof g->namespace, "%.*s",
					 (int)(last - slash - 1), slash + 1);
		} else {
			snprintf(g->registry, sizeof g->registry, "https://registry-1.docker.io");
			snprintf(g->namespace, sizeof g->namespace, "%.*s", (int)(last - r), r);
		}
		return;
	}
}

/* ---- picking the files ------------------------------------------------------ */

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* A Helm values file: a .yaml or .yml named values... or under a values/
 * directory, never a chart's templates/ or a CI directory. */
bool initconf_is_values_file(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!ends_with(path, ".yaml") && !ends_with(path, ".yml"))
		return false;
	/* a repo path pipelines.conf can name, and a line of it cannot end in */
	if (strlen(path) > 255 || strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789._/-") != strlen(path))
		return false;
	if (strstr(path, "templates/") || path[0] == '.' || strstr(path, "/."))
		return false;
	return strncmp(base, "values", 6) == 0 || strncmp(path, "values/", 7) == 0 ||
	       strstr(path, "/values/") != NULL;
}

/* Does path name stage s (values-beta.yaml, beta/values.yaml, ...)? */
bool initconf_names_stage(const char *path, enum stage s)
{
	static const char *const alias[STAGE_COUNT][4] = {
		[STAGE_BETA] = { "beta", "staging", "stage", NULL },
		[STAGE_PAPER] = { "paper", NULL },
		[STAGE_LIVE] = { "live", "prod", "production", NULL },
	};

	for (int i = 0; alias[s][i]; i++) {
		size_t n = strlen(alias[s][i]);

		for (const char *p = path; (p = strstr(p, alias[s][i])); p++) {
			bool start = p == path || !isalnum((unsigned char)p[-1]);
			bool end = !isalnum((unsigned char)p[n]);

			if (start && end)
				return true;
		}
	}
	return false;
}

/* ---- rendering -------------------------------------------------------------- */

static void comment_lines(struct buf *out, const char *indent, const char *text)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		buf_printf(out, "%s# %.*s\n", indent, (int)n, p);
		p = nl ? nl + 1 : NULL;
	}
}

/* ssh:// or scp-like user@host:path (not a local path, not file://) */
static bool url_is_ssh(const char *url)
{
	return strncmp(url, "ssh://", 6) == 0 ||
	       (url[0] != '/' && !strstr(url, "://") && strchr(url, ':'));
}

static void render_repository(struct buf *o, const struct guess *g, const struct initconf_opts *r)
{
	buf_printf(o, "[repository]\n"
		   "\t# the GitOps repository; pipelined fetches it and pushes promotion\n"
		   "\t# commits to its branch (never forced)\n"
		   "\turl = %s\n\tbranch = %s\n", r->url, r->branch);
	if (url_is_ssh(r->url) && !r->for_check)
		buf_adds(o, "\t# a deploy key with write access, and the server's pinned host keys:\n"
			 "\t#   ssh-keygen -t ed25519 -N '' -C pipelined -f deploy_key\n"
			 "\t#   ssh-keyscan HOST > known_hosts   (then compare with the host's\n"
			 "\t#   published fingerprints)\n"
			 "\tsshKey = deploy_key\n\tknownHosts = known_hosts\n");
	else if (!r->for_check)
		buf_adds(o, "\t# a local repository: no sshKey or knownHosts needed.  For an ssh url\n"
			 "\t# add them (pipelines.conf(5)):\n"
			 "\t#sshKey = deploy_key\n\t#knownHosts = known_hosts\n");
	buf_printf(o, "\tvaluesDir = %s\n\n", g->values_dir);
}

static void render_registry(struct buf *o, const struct guess *g)
{
	buf_printf(o, "[registry]\n"
		   "\t# where the images live: <url>/<namespace>/<image>:<tag>\n"
		   "\turl = %s\n\tnamespace = %s\n", g->registry,
		   g->namespace[0] ? g->namespace : "CHANGE-ME/namespace");
	if (!g->nimages)
		buf_adds(o, "\t# no image repository was found in the values files: name them\n"
			 "\timage = app\n");
	for (size_t i = 0; i < g->nimages; i++)
		buf_printf(o, "\timage = %s%s%s\n", g->images[i], g->repos[i] ? "\t# " : "",
			   g->repos[i] ? g->repos[i] : "");
	buf_adds(o, "\n");
	for (size_t i = 0; i < g->nimages; i++)
		if (g->image_path[i])
			buf_printf(o, "[image \"%s\"]\n\t# its own tag location, in every stage's file\n"
				   "\ttagPath = %s\n\n", g->images[i], g->image_path[i]);
}

static void render_stages(struct buf *o, const struct guess *g)
{
	static const char *const defaults[STAGE_COUNT] = {
		[STAGE_BETA] = "\tauto = true\n\tmarketGated = false\n",
		[STAGE_PAPER] = "\tauto = false\n\tmarketGated = true\n",
		[STAGE_LIVE] = "\tauto = false\n\tmarketGated = true\n\trequireNotes = true\n",
	};

	buf_adds(o, "# ci and integration-test are evidence stages: enabled by default; with\n"
		 "# integration-test enabled, beta wants <namespace>/inttest:<sha> to say passed.\n"
		 "#[stage \"integration-test\"]\n#\tenabled = false\n\n");
	for (int s = 0; s < STAGE_COUNT; s++) {
		const struct stage_guess *sg = &g->st[s];
		size_t dl = strlen(g->values_dir);

		if (!stage_is_deploy((enum stage)s))
			continue;
		buf_printf(o, "[stage \"%s\"]\n", stage_name((enum stage)s));
		if (!sg->file) {
			buf_printf(o, "\t# no values file names this stage\n\tenabled = false\n\n");
			continue;
		}
		buf_printf(o, "\tvalues = %s\n", sg->file + dl + 1);
		for (size_t i = 0; i < sg->npaths; i++)
			buf_printf(o, "\ttagPath = %s\n", sg->paths[i]);
		if (sg->digest)
			buf_adds(o, "\tdigest = true\n");
		if (!sg->npaths && !sg->ncands)
			buf_adds(o, "\t# no tag-like scalar was found in this file\n");
		comment_lines(o, "\t", sg->notes.data);
		buf_adds(o, defaults[s]);
		buf_adds(o, "\n");
	}
}

static void render_all(struct buf *o, const struct guess *g, const struct initconf_opts *r)
{
	buf_printf(o, "# pipelines.conf written by pipelinectl init from %s (%s)\n"
		   "# Review every line, then:  pipelinectl -c FILE check   and   pipelined -n -c FILE\n"
		   "# Keys and defaults: pipelines.conf(5); the check of this mapping follows the file.\n\n",
		   r->source, r->branch);
	render_repository(o, g, r);
	render_registry(o, g);
	render_stages(o, g);
	buf_adds(o, "[daemon]\n\t# the committer of promotion commits\n"
		 "\tidentity = pipelined <pipelined@localhost>\n"
		 "\t#stateDir = /var/lib/pipelined\n");
}

/* valuesDir: the directory the stage files share (the longest common one). */
static void values_dir(struct guess *g)
{
	const char *first = NULL;
	size_t n = 0;

	for (int s = 0; s < STAGE_COUNT; s++) {
		const char *f = g->st[s].file;

		if (!f)
			continue;
		if (!first) {
			const char *slash = strrchr(f, '/');

			first = f;
			n = slash ? (size_t)(slash - f) : 0;
			continue;
		}
		while (n && (strncmp(f, first, n) != 0 || f[n] != '/')) {
			while (n && first[n - 1] != '/')
				n--;
			if (n)
				n--;
		}
	}
	snprintf(g->values_dir, sizeof g->values_dir, "%.*s", (int)n, first ? first : "values");
	if (!n) {
		/* pipelined wants the files in a directory: say so, keep going */
		snprintf(g->values_dir, sizeof g->values_dir, "values");
		for (int s = 0; s < STAGE_COUNT; s++)
			if (g->st[s].file) {
				buf_printf(&g->st[s].notes, "%s is at the top of the repository: "
					   "pipelined reads values files from a directory (valuesDir); "
					   "move it into one\n", g->st[s].file);
				g->st[s].file = NULL;
			}
	}
}

static void guess_release(struct guess *g)
{
	for (int s = 0; s < STAGE_COUNT; s++) {
		scan_release(&g->st[s].scan);
		free(g->st[s].cands);
		for (size_t i = 0; i < g->st[s].npaths; i++)
			free(g->st[s].paths[i]);
		buf_release(&g->st[s].notes);
	}
	for (size_t i = 0; i < g->nimages; i++) {
		free(g->images[i]);
		free(g->image_path[i]);
		free(g->repos[i]);
	}
}


int initconf_render(struct buf *out, const struct initconf_file files[STAGE_COUNT],
		    const struct initconf_opts *o)
{
	struct guess *g = calloc(1, sizeof *g);
	bool first = true;

	buf_init(out, 0);
	if (!g)
		return ERR_NOMEM;
	for (int s = 0; s < STAGE_COUNT; s++) {
		struct stage_guess *sg = &g->st[s];

		if (!stage_is_deploy((enum stage)s) || !files[s].path)
			continue;
		sg->file = files[s].path;
		if (!files[s].data)
			buf_printf(&sg->notes, "%s could not be read: %s\n", sg->file,
				   files[s].error ? files[s].error : "unknown error");
		else if (scan_file(&sg->scan, files[s].data, files[s].len))
			buf_printf(&sg->notes, "%s is not YAML pipelined can read: %s\n", sg->file,
				   sg->scan.error);
		else if (sg->scan.n) {
			/* sized by the file (a few hundred bytes a candidate),
			 * not INIT_MAX_CANDS for every stage and every call */
			size_t max = sg->scan.n < INIT_MAX_CANDS ? sg->scan.n : INIT_MAX_CANDS;

			sg->cands = calloc(max, sizeof *sg->cands);
			if (!sg->cands) {
				guess_release(g);
				free(g);
				return ERR_NOMEM;
			}
			sg->ncands = find_cands(sg->cands, max, &sg->scan);
		}
	}
	values_dir(g);
	for (int s = 0; s < STAGE_COUNT; s++)
		if (g->st[s].file) {
			infer_stage(g, &g->st[s], first);
			first = false;
		}
	infer_registry(g);
	render_all(out, g, o);
	guess_release(g);
	free(g);
	return 0;
}
