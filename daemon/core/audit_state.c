/* audit_state.c - the audit's cross-commit facts and their checkpoint
 * bytes (audit_state.h).
 *
 * Checkpoint format (little-endian integers, ids as 20 raw bytes):
 *   "PLDAUDCK" magic, u32 version, u32 STAGE_COUNT, the key (16 hex),
 *   u64 depth, id tip, u64 judged_depth, u8 has-baseline, id baseline,
 *   u64 approvals_on[STAGE_COUNT],
 *   u32 counts: samples, tags, uses, then last[STAGE_COUNT],
 *   samples: id, u64 depth                     sorted by id
 *   tags:    u8 stage, id tag, u64 depth       sorted by (stage, tag); the first
 *   uses:    request[41] NUL-padded, id commit, u64 depth
 *                                              sorted by request; the first
 *   last[s]: u64 depth, id tag                 every promotion into s, by depth
 *   u64 checksum of everything before it (four interleaved lanes of
 *   8-byte words, then the rest; version 4).
 */
#include "audit_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define MAGIC "PLDAUDCK"
/* Bump when the facts a replay establishes change (audit.c's rules on
 * what a commit records), or the layout above does. */
#define VERSION 4u
#define ID 20
#define SAMPLE_SZ (ID + 8)
#define TAG_SZ (1 + ID + 8)
#define USE_SZ (41 + ID + 8)
#define LAST_SZ (8 + ID)
#define HEAD_SZ (8 + 4 + 4 + AUDIT_STATE_KEY_LEN + 8 + ID + 8 + 1 + ID + 8 * STAGE_COUNT + \
		 4 * (3 + STAGE_COUNT))

void audit_state_init(struct audit_state *s)
{
	memset(s, 0, sizeof *s);
}

static void index_release(struct audit_index *x)
{
	free(x->slot);
	memset(x, 0, sizeof *x);
}

void audit_state_release(struct audit_state *s)
{
	if (!s)
		return;
	free(s->facts);
	free(s->uses);
	free(s->samples);
	index_release(&s->by_tag);
	index_release(&s->by_request);
	audit_state_init(s);
}

/* ---- ids and records ---- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 40 lower-case hex digits into 20 bytes; false for anything else */
static bool id_bytes(unsigned char out[ID], const char *hex)
{
	for (int i = 0; i < ID; i++) {
		int hi = hexval((unsigned char)hex[2 * i]), lo;

		if (hi < 0 || (lo = hexval((unsigned char)hex[2 * i + 1])) < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * ID] == '\0';
}

static void id_hex(char out[41], const unsigned char *id)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < ID; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 0xf];
	}
	out[2 * ID] = '\0';
}

static uint64_t load64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void store64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The record of a, sorted by its first keylen bytes, with key k: its
 * address, or NULL. */
static const unsigned char *array_find(const struct audit_array *a, size_t size,
				       const unsigned char *k, size_t keylen)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a->p + mid * size, k, keylen);

		if (c == 0)
			return a->p + mid * size;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The depth of (st, tag) in the checkpoint within the cut, or 0. */
static uint64_t base_tag(const struct audit_state *s, enum stage st, const char *tag)
{
	unsigned char k[1 + ID];
	const unsigned char *r;
	uint64_t d;

	if (!s->cut || (unsigned)st >= STAGE_COUNT || !id_bytes(k + 1, tag))
		return 0;
	k[0] = (unsigned char)st;
	r = array_find(&s->b_tags, TAG_SZ, k, sizeof k);
	return r && (d = load64(r + 1 + ID)) <= s->cut ? d : 0;
}

/* The record of request in the checkpoint within the cut, or NULL. */
static const unsigned char *base_use(const struct audit_state *s, const char *req)
{
	unsigned char k[41] = { 0 };
	const unsigned char *r;
	size_t n = strlen(req);

	if (!s->cut || n > 40)
		return NULL;
	memcpy(k, req, n);
	r = array_find(&s->b_uses, USE_SZ, k, sizeof k);
	return r && load64(r + 41 + ID) <= s->cut ? r : NULL;
}

/* Each stage's last tag in the checkpoint at the cut. */
static void base_lasts(struct audit_state *s)
{
	for (int st = 0; st < STAGE_COUNT; st++) {
		const struct audit_array *a = &s->b_last[st];
		size_t lo = 0, hi = a->n;	/* the first deeper than the cut */

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (load64(a->p + mid * LAST_SZ) <= s->cut)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo)
			id_hex(s->base_last[st], a->p + (lo - 1) * LAST_SZ + 8);
		else
			s->base_last[st][0] = '\0';
	}
}

/* ---- the facts after the cut: hash sets ---- */

/* Eight bytes at a time and a final avalanche (murmur3's): ids differ in a
 * few digits, and a power-of-two table uses the low bits. */
static uint64_t hash_key(uint64_t seed, const char *s)
{
	size_t n = strlen(s);
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t tag_key(enum stage st, const char *tag)
{
	return hash_key(0xcbf29ce484222325ULL + (uint64_t)st, tag);
}

static uint64_t request_key(const char *req)
{
	return hash_key(0x84222325cbf29ce4ULL, req);
}

static uint64_t fact_key(const void *v, size_t i)
{
	const struct audit_fact *f = &((const struct audit_fact *)v)[i];

	return tag_key(f->stage, f->tag);
}

static uint64_t use_key(const void *v, size_t i)
{
	return request_key(((const struct audit_use *)v)[i].request);
}

/* Room for more keys at load factor 1/2; key(v, i) hashes entry i. */
static int index_reserve(struct audit_index *x, size_t more, const void *v,
			 uint64_t (*key)(const void *v, size_t i))
{
	size_t ncap = x->cap ? x->cap : 64, *ns;

	while (ncap < 2 * (x->n + more))
		ncap *= 2;
	if (ncap == x->cap)
		return 0;
	if (!(ns = calloc(ncap, sizeof *ns)))
		return ERR_NOMEM;
	for (size_t k = 0; k < x->cap; k++)
		if (x->slot[k]) {
			size_t j = (size_t)key(v, x->slot[k] - 1) & (ncap - 1);

			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = x->slot[k];
		}
	free(x->slot);
	x->slot = ns;
	x->cap = ncap;
	return 0;
}

/* The slot of the first fact with (st, tag), or of the empty one where it
 * would go; SIZE_MAX when the index is empty. */
static size_t find_fact(const struct audit_state *s, enum stage st, const char *tag)
{
	const struct audit_index *x = &s->by_tag;
	size_t j;

	if (!x->cap)
		return SIZE_MAX;
	for (j = (size_t)tag_key(st, tag) & (x->cap - 1); x->slot[j]; j = (j + 1) & (x->cap - 1)) {
		const struct audit_fact *f = &s->facts[x->slot[j] - 1];

		if (f->stage == st && strcmp(f->tag, tag) == 0)
			break;
	}
	return j;
}

static size_t find_use(const struct audit_state *s, const char *req)
{
	const struct audit_index *x = &s->by_request;
	size_t j;

	if (!x->cap)
		return SIZE_MAX;
	for (j = (size_t)request_key(req) & (x->cap - 1); x->slot[j]; j = (j + 1) & (x->cap - 1))
		if (strcmp(s->uses[x->slot[j] - 1].request, req) == 0)
			break;
	return j;
}

static const struct audit_fact *overlay_fact(const struct audit_state *s, enum stage st,
					     const char *tag)
{
	size_t j = find_fact(s, st, tag);

	return j != SIZE_MAX && s->by_tag.slot[j] ? &s->facts[s->by_tag.slot[j] - 1] : NULL;
}

static const struct audit_use *overlay_use(const struct audit_state *s, const char *req)
{
	size_t j = find_use(s, req);

	return j != SIZE_MAX && s->by_request.slot[j] ? &s->uses[s->by_request.slot[j] - 1] : NULL;
}

static int index_fact(struct audit_state *s, size_t i)
{
	const struct audit_fact *f = &s->facts[i];
	size_t j;

	if ((unsigned)f->stage < STAGE_COUNT)
		s->last[f->stage] = i + 1;
	if (index_reserve(&s->by_tag, 1, s->facts, fact_key))
		return ERR_NOMEM;
	if (!s->by_tag.slot[j = find_fact(s, f->stage, f->tag)]) {
		s->by_tag.slot[j] = i + 1;
		s->by_tag.n++;
	}
	return 0;
}

static int index_use(struct audit_state *s, size_t i)
{
	size_t j;

	if (index_reserve(&s->by_request, 1, s->uses, use_key))
		return ERR_NOMEM;
	if (!s->by_request.slot[j = find_use(s, s->uses[i].request)]) {
		s->by_request.slot[j] = i + 1;
		s->by_request.n++;
	}
	return 0;
}

/* ---- the state ---- */

bool audit_state_reached(const struct audit_state *s, enum stage st, const char *tag)
{
	return overlay_fact(s, st, tag) || base_tag(s, st, tag);
}

const struct audit_use *audit_state_request(struct audit_state *s, const char *req)
{
	const unsigned char *r;

	if (!req || !*req)
		return NULL;
	/* the checkpoint's uses are the older: the first use is there */
	if ((r = base_use(s, req))) {
		memcpy(s->found.request, r, 41);
		s->found.request[40] = '\0';
		id_hex(s->found.commit, r + 41);
		s->found.depth = load64(r + 41 + ID);
		return &s->found;
	}
	return overlay_use(s, req);
}

const char *audit_state_last_tag(const struct audit_state *s, enum stage st)
{
	if ((unsigned)st >= STAGE_COUNT)
		return NULL;
	if (s->last[st])
		return s->facts[s->last[st] - 1].tag;
	return s->cut && s->base_last[st][0] ? s->base_last[st] : NULL;
}

bool audit_state_approvals_on(const struct audit_state *s, enum stage st)
{
	return (unsigned)st < STAGE_COUNT && s->approvals_on[st] != 0;
}

void audit_state_set_approvals_on(struct audit_state *s, enum stage st)
{
	if ((unsigned)st < STAGE_COUNT && !s->approvals_on[st])
		s->approvals_on[st] = s->depth ? s->depth : 1;
}

int audit_state_remember(struct audit_state *s, enum stage st, const char *tag,
			 const char *request)
{
	struct audit_fact *f;

	if (s->n == s->cap && array_grow((void **)&s->facts, &s->cap, s->n, sizeof *s->facts))
		return ERR_NOMEM;
	f = &s->facts[s->n];
	memset(f, 0, sizeof *f);
	f->stage = st;
	f->depth = s->depth;
	strlcpy_(f->tag, tag, sizeof f->tag);
	if (index_fact(s, s->n++))
		return ERR_NOMEM;
	if (request && *request) {
		struct audit_use *u;

		if (s->nuses == s->capuses &&
		    array_grow((void **)&s->uses, &s->capuses, s->nuses, sizeof *s->uses))
			return ERR_NOMEM;
		u = &s->uses[s->nuses];
		memset(u, 0, sizeof *u);
		u->depth = s->depth;
		strlcpy_(u->request, request, sizeof u->request);
		strlcpy_(u->commit, s->tip, sizeof u->commit);
		return index_use(s, s->nuses++);
	}
	return 0;
}

static int add_sample(struct audit_state *s, uint64_t depth, const char *id)
{
	if (s->nsamples == s->capsamples &&
	    array_grow((void **)&s->samples, &s->capsamples, s->nsamples, sizeof *s->samples))
		return ERR_NOMEM;
	s->samples[s->nsamples].depth = depth;
	strlcpy_(s->samples[s->nsamples].id, id, sizeof s->samples[s->nsamples].id);
	s->nsamples++;
	return 0;
}

int audit_state_step(struct audit_state *s, const char *id)
{
	s->depth++;
	strlcpy_(s->tip, id, sizeof s->tip);
	/* the root too: a range below the first spacing still finds the chain */
	return s->depth % AUDIT_STATE_SAMPLE == 0 || s->depth == 1 ?
	       add_sample(s, s->depth, id) : 0;
}

uint64_t audit_state_sample_depth(const struct audit_state *s, const char *id)
{
	unsigned char k[ID];
	const unsigned char *r;
	uint64_t d;

	if (s->depth && strcmp(s->tip, id) == 0)
		return s->depth;
	for (size_t i = s->nsamples; i-- > 0;)
		if (strcmp(s->samples[i].id, id) == 0)
			return s->samples[i].depth;
	if (!s->cut || !id_bytes(k, id) || !(r = array_find(&s->b_samples, SAMPLE_SZ, k, ID)))
		return 0;
	return (d = load64(r + ID)) <= s->cut ? d : 0;
}

static int rebuild(struct audit_state *s)
{
	index_release(&s->by_tag);
	index_release(&s->by_request);
	memset(s->last, 0, sizeof s->last);
	for (size_t i = 0; i < s->n; i++)
		if (index_fact(s, i))
			return ERR_NOMEM;
	for (size_t i = 0; i < s->nuses; i++)
		if (index_use(s, i))
			return ERR_NOMEM;
	return 0;
}

int audit_state_truncate(struct audit_state *s, uint64_t depth, const char *id)
{
	if (depth > s->depth || (depth && (!id || !*id)))
		return ERR_INVALID;
	if (depth == s->depth)
		return 0;
	if (depth < s->cut) {
		/* inside the checkpoint: a smaller cut, nothing after it */
		s->n = s->nuses = s->nsamples = 0;
		s->cut = depth;
		base_lasts(s);
	}
	while (s->n && s->facts[s->n - 1].depth > depth)
		s->n--;
	while (s->nuses && s->uses[s->nuses - 1].depth > depth)
		s->nuses--;
	while (s->nsamples && s->samples[s->nsamples - 1].depth > depth)
		s->nsamples--;
	for (int st = 0; st < STAGE_COUNT; st++)
		if (s->approvals_on[st] > depth)
			s->approvals_on[st] = 0;
	if (s->judged_depth > depth) {
		s->judged_depth = 0;
		s->baseline[0] = '\0';
	}
	s->depth = depth;
	strlcpy_(s->tip, depth ? id : "", sizeof s->tip);
	return rebuild(s);
}

/* ---- the configuration key ---- */

static uint64_t hash_field(uint64_t h, const char *s)
{
	/* a separator byte after each field, so "ab"+"c" differs from "a"+"bc" */
	for (s = s ? s : "\x01"; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xffu) * 0x100000001b3ULL;
}

void audit_state_key(char out[AUDIT_STATE_KEY_LEN + 1], const struct audit_policy *p,
		     const char *since)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char num[32];

	snprintf(num, sizeof num, "v%u/%d", VERSION, STAGE_COUNT);
	h = hash_field(h, num);
	h = hash_field(h, p->ident_name);
	h = hash_field(h, p->ident_email);
	h = hash_field(h, since);
	for (int s = 0; s < STAGE_COUNT; s++) {
		snprintf(num, sizeof num, "%d/%u", (int)p->market_gated[s], p->approvals[s]);
		h = hash_field(h, p->values_path[s]);
		h = hash_field(h, num);
	}
	snprintf(out, AUDIT_STATE_KEY_LEN + 1, "%016llx", (unsigned long long)h);
}

/* ---- encoding: the checkpoint within the cut, merged with what follows ---- */

/* Word at a time: the checkpoint is megabytes, read on every range.  One
 * multiply-xorshift step per word, each step a bijection of the state, so
 * that any single changed word (any flipped bit) changes the sum; four
 * independent lanes over 32-byte blocks, because one lane's chain of
 * multiplies is latency-bound (version 3's single lane took most of a warm
 * range's own time at 100,000 promotions). */
#define MIX(h, w) ((h) = ((h) ^ (w)) * 0x100000001b3ULL, (h) ^= (h) >> 31)

static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, l1 = 0xbf58476d1ce4e5b9ULL,
		 l2 = 0x94d049bb133111ebULL, l3 = 0x2545f4914f6cdd1dULL;
	unsigned char tail[8] = { 0 };

	for (; n >= 32; p += 32, n -= 32) {
		MIX(h, load64(p));
		MIX(l1, load64(p + 8));
		MIX(l2, load64(p + 16));
		MIX(l3, load64(p + 24));
	}
	MIX(h, l1);
	MIX(h, l2);
	MIX(h, l3);
	for (; n >= 8; p += 8, n -= 8)
		MIX(h, load64(p));
	memcpy(tail, p, n);
	h = (h ^ load64(tail)) * 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

uint64_t audit_state_checksum(const void *data, size_t len)
{
	return checksum(data, len);
}

/* Records being built: n of size bytes. */
struct recs {
	unsigned char *p;
	size_t n, cap, size;
};

static unsigned char *recs_add(struct recs *r)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 256;
		unsigned char *np = realloc(r->p, ncap * r->size);

		if (!np)
			return NULL;
		r->p = np;
		r->cap = ncap;
	}
	return r->p + r->n++ * r->size;
}

static size_t sort_keylen;

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sort_keylen);
}

/* The checkpoint's records within the cut (sorted) merged with add
 * (sorted here), by their first keylen bytes, into out. */
static int merge(struct recs *out, const struct audit_array *base, size_t depth_at,
		 uint64_t cut, struct recs *add, size_t keylen)
{
	size_t i = 0, j = 0;

	sort_keylen = keylen;
	if (add->n)
		qsort(add->p, add->n, add->size, cmp_key);
	while (i < base->n || j < add->n) {
		const unsigned char *b = i < base->n ? base->p + i * add->size : NULL;
		unsigned char *o;

		if (b && load64(b + depth_at) > cut) {
			i++;
			continue;
		}
		if (!(o = recs_add(out)))
			return ERR_NOMEM;
		if (b && (j == add->n || memcmp(b, add->p + j * add->size, keylen) < 0)) {
			memcpy(o, b, add->size);
			i++;
		} else {
			memcpy(o, add->p + j * add->size, add->size);
			j++;
		}
	}
	return 0;
}

/* The samples, tags and uses of the commits after the cut, as records;
 * only the first of each key, and none the checkpoint has within it. */
static int overlay_recs(struct recs *sm, struct recs *tg, struct recs *us,
			const struct audit_state *s)
{
	unsigned char *o;

	for (size_t i = 0; i < s->nsamples; i++) {
		if (!(o = recs_add(sm)))
			return ERR_NOMEM;
		if (!id_bytes(o, s->samples[i].id))
			return ERR_INVALID;
		store64(o + ID, s->samples[i].depth);
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct audit_fact *f = &s->facts[i];

		if (overlay_fact(s, f->stage, f->tag) != f || base_tag(s, f->stage, f->tag))
			continue;
		if (!(o = recs_add(tg)))
			return ERR_NOMEM;
		o[0] = (unsigned char)f->stage;
		if (!id_bytes(o + 1, f->tag))
			return ERR_INVALID;
		store64(o + 1 + ID, f->depth);
	}
	for (size_t i = 0; i < s->nuses; i++) {
		const struct audit_use *u = &s->uses[i];

		if (overlay_use(s, u->request) != u || base_use(s, u->request))
			continue;
		if (!(o = recs_add(us)))
			return ERR_NOMEM;
		memset(o, 0, 41);
		memcpy(o, u->request, strlen(u->request));
		if (!id_bytes(o + 41, u->commit))
			return ERR_INVALID;
		store64(o + 41 + ID, u->depth);
	}
	return 0;
}

/* Each stage's promotions by depth: the checkpoint's within the cut, then
 * those after it. */
static int last_recs(struct recs *out, const struct audit_state *s, int st)
{
	const struct audit_array *a = &s->b_last[st];
	unsigned char *o;

	for (size_t i = 0; i < a->n && load64(a->p + i * LAST_SZ) <= s->cut; i++) {
		if (!(o = recs_add(out)))
			return ERR_NOMEM;
		memcpy(o, a->p + i * LAST_SZ, LAST_SZ);
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->facts[i].stage != (enum stage)st)
			continue;
		if (!(o = recs_add(out)))
			return ERR_NOMEM;
		store64(o, s->facts[i].depth);
		if (!id_bytes(o + 8, s->facts[i].tag))
			return ERR_INVALID;
	}
	return 0;
}

static int put_u(struct buf *b, uint64_t v, int bytes)
{
	unsigned char x[8];

	for (int i = 0; i < bytes; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	return buf_add(b, x, (size_t)bytes);
}

static int put_id(struct buf *b, const char *hex)
{
	unsigned char id[ID] = { 0 };

	if (hex[0] && !id_bytes(id, hex))
		return ERR_INVALID;
	return buf_add(b, id, ID);
}

static int write_all(struct buf *b, const struct audit_state *s, const char *key,
		     struct recs *sm, struct recs *tg, struct recs *us, struct recs *la)
{
	int rc = 0;

	rc |= buf_add(b, MAGIC, 8) | put_u(b, VERSION, 4) | put_u(b, STAGE_COUNT, 4);
	rc |= buf_add(b, key, AUDIT_STATE_KEY_LEN);
	rc |= put_u(b, s->depth, 8) | put_id(b, s->tip);
	rc |= put_u(b, s->judged_depth, 8) | put_u(b, s->baseline[0] != '\0', 1);
	rc |= put_id(b, s->baseline);
	for (int st = 0; st < STAGE_COUNT; st++)
		rc |= put_u(b, s->approvals_on[st], 8);
	rc |= put_u(b, sm->n, 4) | put_u(b, tg->n, 4) | put_u(b, us->n, 4);
	for (int st = 0; st < STAGE_COUNT; st++)
		rc |= put_u(b, la[st].n, 4);
	rc |= buf_add(b, sm->p, sm->n * sm->size) | buf_add(b, tg->p, tg->n * tg->size);
	rc |= buf_add(b, us->p, us->n * us->size);
	for (int st = 0; st < STAGE_COUNT; st++)
		rc |= buf_add(b, la[st].p, la[st].n * LAST_SZ);
	if (!rc)
		rc = put_u(b, checksum((const unsigned char *)b->data, b->len), 8);
	return rc;
}

int audit_state_encode(struct buf *out, const struct audit_state *s, const char *key)
{
	struct recs sm = { .size = SAMPLE_SZ }, tg = { .size = TAG_SZ }, us = { .size = USE_SZ };
	struct recs osm = { .size = SAMPLE_SZ }, otg = { .size = TAG_SZ }, ous = { .size = USE_SZ };
	struct recs la[STAGE_COUNT];
	struct buf b = BUF_INIT;
	int rc;

	if (strlen(key) != AUDIT_STATE_KEY_LEN || !s->depth)
		return ERR_INVALID;
	for (int st = 0; st < STAGE_COUNT; st++)
		la[st] = (struct recs){ .size = LAST_SZ };
	rc = overlay_recs(&osm, &otg, &ous, s);
	if (!rc)
		rc = merge(&sm, &s->b_samples, ID, s->cut, &osm, ID);
	if (!rc)
		rc = merge(&tg, &s->b_tags, 1 + ID, s->cut, &otg, 1 + ID);
	if (!rc)
		rc = merge(&us, &s->b_uses, 41 + ID, s->cut, &ous, 41);
	for (int st = 0; st < STAGE_COUNT && !rc; st++)
		if ((rc = last_recs(&la[st], s, st)) == 0 && la[st].n > AUDIT_STATE_MAX_FACTS)
			rc = ERR_TOOBIG;
	if (!rc && (sm.n > UINT32_MAX || tg.n > AUDIT_STATE_MAX_FACTS || us.n > AUDIT_STATE_MAX_FACTS))
		rc = ERR_TOOBIG;
	buf_init(&b, AUDIT_STATE_MAX_BYTES);
	if (!rc && write_all(&b, s, key, &sm, &tg, &us, la))
		rc = ERR_TOOBIG;
	free(sm.p);
	free(tg.p);
	free(us.p);
	free(osm.p);
	free(otg.p);
	free(ous.p);
	for (int st = 0; st < STAGE_COUNT; st++)
		free(la[st].p);
	if (rc) {
		buf_release(&b);
		return rc;
	}
	buf_release(out);
	*out = b;
	return 0;
}

/* ---- decoding: checked once, then searched where it lies ---- */

struct reader {
	const unsigned char *p;
	size_t n;
	bool bad;
};

static const unsigned char *take(struct reader *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->bad || r->n < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->n -= n;
	return p;
}

static uint64_t get_u(struct reader *r, int bytes)
{
	const unsigned char *p = take(r, (size_t)bytes);
	uint64_t v = 0;

	for (int i = bytes - 1; p && i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Records strictly ascending by key (the first keylen bytes) when keylen,
 * each depth (at depth_at) in 1..max, and ascending depths when !keylen. */
static bool array_ok(const struct audit_array *a, size_t size, size_t keylen, size_t depth_at,
		     uint64_t max)
{
	uint64_t prev = 0;

	for (size_t i = 0; i < a->n; i++) {
		const unsigned char *r = a->p + i * size;
		uint64_t d = load64(r + depth_at);

		if (d == 0 || d > max || (!keylen && d < prev) ||
		    (keylen && i && memcmp(r - size, r, keylen) >= 0))
			return false;
		prev = d;
	}
	return true;
}

static bool uses_ok(const struct audit_array *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const unsigned char *r = a->p + i * USE_SZ;
		size_t len = strnlen((const char *)r, 41);

		if (len == 0 || len > 40)
			return false;
		for (size_t k = len; k < 41; k++)
			if (r[k])
				return false;
	}
	return true;
}

static int decode_body(struct audit_state *s, struct reader *r)
{
	size_t nlast[STAGE_COUNT], nsm, ntg, nus;
	const unsigned char *p;

	s->depth = get_u(r, 8);
	if ((p = take(r, ID)) && s->depth)
		id_hex(s->tip, p);
	s->judged_depth = get_u(r, 8);
	if (get_u(r, 1) && (p = take(r, ID)))
		id_hex(s->baseline, p);
	else
		take(r, ID);
	for (int st = 0; st < STAGE_COUNT; st++)
		if ((s->approvals_on[st] = get_u(r, 8)) > s->depth)
			r->bad = true;
	nsm = (size_t)get_u(r, 4);
	ntg = (size_t)get_u(r, 4);
	nus = (size_t)get_u(r, 4);
	for (int st = 0; st < STAGE_COUNT; st++)
		nlast[st] = (size_t)get_u(r, 4);
	if (r->bad || !s->depth || s->judged_depth > s->depth || ntg > AUDIT_STATE_MAX_FACTS ||
	    nus > AUDIT_STATE_MAX_FACTS || nsm > r->n / SAMPLE_SZ)
		return ERR_INVALID;
	s->b_samples = (struct audit_array){ take(r, nsm * SAMPLE_SZ), nsm };
	s->b_tags = (struct audit_array){ take(r, ntg * TAG_SZ), ntg };
	s->b_uses = (struct audit_array){ take(r, nus * USE_SZ), nus };
	for (int st = 0; st < STAGE_COUNT; st++) {
		if (nlast[st] > AUDIT_STATE_MAX_FACTS)
			return ERR_INVALID;
		s->b_last[st] = (struct audit_array){ take(r, nlast[st] * LAST_SZ), nlast[st] };
	}
	if (r->bad || r->n != 0 || !array_ok(&s->b_samples, SAMPLE_SZ, ID, ID, s->depth) ||
	    !array_ok(&s->b_tags, TAG_SZ, 1 + ID, 1 + ID, s->depth) ||
	    !array_ok(&s->b_uses, USE_SZ, 41, 41 + ID, s->depth) || !uses_ok(&s->b_uses))
		return ERR_INVALID;
	for (size_t i = 0; i < ntg; i++)
		if (s->b_tags.p[i * TAG_SZ] >= STAGE_COUNT)
			return ERR_INVALID;
	for (int st = 0; st < STAGE_COUNT; st++)
		if (!array_ok(&s->b_last[st], LAST_SZ, 0, 0, s->depth))
			return ERR_INVALID;
	s->cut = s->depth;
	base_lasts(s);
	return 0;
}

int audit_state_decode(struct audit_state *s, const void *data, size_t len, const char *key)
{
	const unsigned char *p = data;
	struct reader r;

	audit_state_init(s);
	if (!data || len < HEAD_SZ + 8 || memcmp(p, MAGIC, 8) != 0 ||
	    load64(p + len - 8) != checksum(p, len - 8))
		goto bad;
	r = (struct reader){ .p = p + 8, .n = len - 16 };
	if (get_u(&r, 4) != VERSION || get_u(&r, 4) != STAGE_COUNT ||
	    strlen(key) != AUDIT_STATE_KEY_LEN || !take(&r, AUDIT_STATE_KEY_LEN) ||
	    memcmp(p + 16, key, AUDIT_STATE_KEY_LEN) != 0 || decode_body(s, &r))
		goto bad;
	return 0;
bad:
	audit_state_release(s);
	return ERR_INVALID;
}
