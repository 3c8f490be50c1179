/* audit_state.c - the audit's cross-commit facts and their checkpoint
 * bytes (audit_state.h).
 *
 * Checkpoint format (little-endian integers; a string is one length byte
 * 0..40 and its bytes, or 0xff and the 20 bytes of a 40-digit lower-case
 * hex id):
 *   "PLDAUDCK" magic, u32 version, u32 STAGE_COUNT, the key (16 hex),
 *   u64 depth, string tip, u64 judged_depth, string baseline,
 *   u64 approvals_on[STAGE_COUNT],
 *   u32 samples, each u64 depth and string id,
 *   u32 facts, each u64 depth (ascending), u8 stage and string tag,
 *   u32 uses, each u64 depth (ascending), string request, string commit,
 *   u64 checksum of everything before it.
 */
#include "audit_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define MAGIC "PLDAUDCK"
/* Bump when the facts a replay establishes change (audit.c's rules on
 * what a commit records), or the layout above does. */
#define VERSION 2u
#define HEX_ID 0xffu

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
	free(s->sample_slot);
	index_release(&s->by_tag);
	index_release(&s->by_request);
	audit_state_init(s);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;	/* FNV-1a */
	return h;
}

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

/* Room for n more keys at load factor 1/2; the slots move to their new
 * places (key(i) hashes entry i). */
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

static uint64_t fact_key(const void *v, size_t i)
{
	const struct audit_fact *f = &((const struct audit_fact *)v)[i];

	return tag_key(f->stage, f->tag);
}

static uint64_t use_key(const void *v, size_t i)
{
	return request_key(((const struct audit_use *)v)[i].request);
}

/* Where key h goes, or the slot of the entry match finds first. */
#define INDEX_PROBE(x, h, match)						\
	for (j = (size_t)(h) & ((x)->cap - 1); (x)->slot[j] && !(match);		\
	     j = (j + 1) & ((x)->cap - 1))

static size_t find_tag_at(const struct audit_state *s, uint64_t h, enum stage st,
			  const char *tag)
{
	const struct audit_index *x = &s->by_tag;
	size_t j;

	if (!x->cap)
		return SIZE_MAX;
	INDEX_PROBE(x, h, s->facts[x->slot[j] - 1].stage == st &&
			  strcmp(s->facts[x->slot[j] - 1].tag, tag) == 0)
		;
	return j;
}

static size_t find_use_at(const struct audit_state *s, uint64_t h, const char *req)
{
	const struct audit_index *x = &s->by_request;
	size_t j;

	if (!x->cap)
		return SIZE_MAX;
	INDEX_PROBE(x, h, strcmp(s->uses[x->slot[j] - 1].request, req) == 0)
		;
	return j;
}

const struct audit_use *audit_state_request(const struct audit_state *s, const char *req)
{
	size_t j;

	if (!req || !*req || (j = find_use_at(s, request_key(req), req)) == SIZE_MAX ||
	    !s->by_request.slot[j])
		return NULL;
	return &s->uses[s->by_request.slot[j] - 1];
}

bool audit_state_reached(const struct audit_state *s, enum stage st, const char *tag)
{
	size_t j = find_tag_at(s, tag_key(st, tag), st, tag);

	return j != SIZE_MAX && s->by_tag.slot[j];
}

const char *audit_state_last_tag(const struct audit_state *s, enum stage st)
{
	return (unsigned)st < STAGE_COUNT && s->last[st] ? s->facts[s->last[st] - 1].tag : NULL;
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

/* Index fact i, the newest, where it is its key's first. */
static int index_fact(struct audit_state *s, size_t i)
{
	const struct audit_fact *f = &s->facts[i];
	size_t j;

	if ((unsigned)f->stage < STAGE_COUNT)
		s->last[f->stage] = i + 1;
	if (index_reserve(&s->by_tag, 1, s->facts, fact_key))
		return ERR_NOMEM;
	j = find_tag_at(s, tag_key(f->stage, f->tag), f->stage, f->tag);
	if (!s->by_tag.slot[j]) {
		s->by_tag.slot[j] = i + 1;
		s->by_tag.n++;
	}
	return 0;
}

static int index_use(struct audit_state *s, size_t i)
{
	const struct audit_use *u = &s->uses[i];
	size_t j;

	if (index_reserve(&s->by_request, 1, s->uses, use_key))
		return ERR_NOMEM;
	j = find_use_at(s, request_key(u->request), u->request);
	if (!s->by_request.slot[j]) {
		s->by_request.slot[j] = i + 1;
		s->by_request.n++;
	}
	return 0;
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
	free(s->sample_slot);
	s->sample_slot = NULL;
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

static size_t id_hash(const char *id)
{
	return (size_t)hash_key(0x9ce484222325cbf2ULL, id);
}

/* A walk from a commit off the chain asks for every id down to the root:
 * the samples get a hash index, built on the first question. */
static int sample_index(struct audit_state *s)
{
	size_t cap = 64;

	while (cap < 2 * s->nsamples + 2)
		cap *= 2;
	if (!(s->sample_slot = calloc(cap, sizeof *s->sample_slot)))
		return ERR_NOMEM;
	s->sample_cap = cap;
	for (size_t i = 0; i < s->nsamples; i++) {
		size_t j = id_hash(s->samples[i].id) & (cap - 1);

		while (s->sample_slot[j])
			j = (j + 1) & (cap - 1);
		s->sample_slot[j] = i + 1;
	}
	return 0;
}

uint64_t audit_state_sample_depth(struct audit_state *s, const char *id)
{
	/* the tip is the newest chain id known, and a sample only when its
	 * depth falls on the spacing */
	if (s->depth && strcmp(s->tip, id) == 0)
		return s->depth;
	if (!s->sample_slot && sample_index(s))
		return 0;
	for (size_t j = id_hash(id) & (s->sample_cap - 1); s->sample_slot[j];
	     j = (j + 1) & (s->sample_cap - 1))
		if (strcmp(s->samples[s->sample_slot[j] - 1].id, id) == 0)
			return s->samples[s->sample_slot[j] - 1].depth;
	return 0;
}

static int rebuild(struct audit_state *s)
{
	s->unindexed = false;
	index_release(&s->by_tag);
	index_release(&s->by_request);
	memset(s->last, 0, sizeof s->last);
	if (index_reserve(&s->by_tag, s->n, s->facts, fact_key) ||
	    index_reserve(&s->by_request, s->nuses, s->uses, use_key))
		return ERR_NOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (index_fact(s, i))
			return ERR_NOMEM;
	for (size_t i = 0; i < s->nuses; i++)
		if (index_use(s, i))
			return ERR_NOMEM;
	return 0;
}

int audit_state_index(struct audit_state *s)
{
	return s->unindexed ? rebuild(s) : 0;
}

int audit_state_truncate(struct audit_state *s, uint64_t depth, const char *id)
{
	if (depth > s->depth || (depth && (!id || !*id)))
		return ERR_INVALID;
	if (depth == s->depth && !s->unindexed)
		return 0;
	while (s->n && s->facts[s->n - 1].depth > depth)
		s->n--;
	while (s->nuses && s->uses[s->nuses - 1].depth > depth)
		s->nuses--;
	while (s->nsamples && s->samples[s->nsamples - 1].depth > depth)
		s->nsamples--;
	free(s->sample_slot);
	s->sample_slot = NULL;
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
	return (hash_str(h, s ? s : "\x01") ^ 0xffu) * 0x100000001b3ULL;
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

/* ---- bytes ---- */

static uint64_t load64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Word at a time: the checkpoint can be megabytes, read on every range. */
static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	unsigned char tail[8] = { 0 };

	for (; n >= 8; p += 8, n -= 8) {
		h = (h ^ load64(p)) * 0x100000001b3ULL;
		h ^= h >> 31;
	}
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

static int put_u(struct buf *b, uint64_t v, int bytes)
{
	unsigned char x[8];

	for (int i = 0; i < bytes; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	return buf_add(b, x, (size_t)bytes);
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	unsigned char id[20];
	bool hex = n == 40;

	for (size_t i = 0; hex && i < 20; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		hex = hi >= 0 && lo >= 0;
		id[i] = (unsigned char)(hi << 4 | (lo & 0xf));
	}
	if (hex)
		return buf_addch(b, (char)HEX_ID) ? ERR_TOOBIG : buf_add(b, id, sizeof id);
	if (n > 40)
		return ERR_INVALID;
	return buf_addch(b, (char)n) ? ERR_TOOBIG : buf_add(b, s, n);
}

int audit_state_encode(struct buf *out, const struct audit_state *s, const char *key)
{
	struct buf b = BUF_INIT;
	int rc = 0;

	buf_init(&b, AUDIT_STATE_MAX_BYTES);
	if (s->n > AUDIT_STATE_MAX_FACTS || s->nuses > AUDIT_STATE_MAX_FACTS ||
	    s->nsamples > UINT32_MAX ||
	    strlen(key) != AUDIT_STATE_KEY_LEN)
		return ERR_TOOBIG;
	rc |= buf_add(&b, MAGIC, 8) | put_u(&b, VERSION, 4) | put_u(&b, STAGE_COUNT, 4);
	rc |= buf_add(&b, key, AUDIT_STATE_KEY_LEN);
	rc |= put_u(&b, s->depth, 8) | put_str(&b, s->tip);
	rc |= put_u(&b, s->judged_depth, 8) | put_str(&b, s->baseline);
	for (int st = 0; st < STAGE_COUNT; st++)
		rc |= put_u(&b, s->approvals_on[st], 8);
	rc |= put_u(&b, s->nsamples, 4);
	for (size_t i = 0; i < s->nsamples && !rc; i++)
		rc |= put_u(&b, s->samples[i].depth, 8) | put_str(&b, s->samples[i].id);
	rc |= put_u(&b, s->n, 4);
	for (size_t i = 0; i < s->n && !rc; i++) {
		const struct audit_fact *f = &s->facts[i];

		rc |= put_u(&b, f->depth, 8) | put_u(&b, (uint64_t)f->stage, 1);
		rc |= put_str(&b, f->tag);
	}
	rc |= put_u(&b, s->nuses, 4);
	for (size_t i = 0; i < s->nuses && !rc; i++) {
		const struct audit_use *u = &s->uses[i];

		rc |= put_u(&b, u->depth, 8) | put_str(&b, u->request) | put_str(&b, u->commit);
	}
	if (!rc)
		rc = put_u(&b, checksum((const unsigned char *)b.data, b.len), 8);
	if (rc) {
		buf_release(&b);
		return rc == ERR_NOMEM ? ERR_NOMEM : ERR_TOOBIG;
	}
	buf_release(out);
	*out = b;
	return 0;
}

struct reader {
	const unsigned char *p;
	size_t n;
	bool bad;
};

static uint64_t get_u(struct reader *r, int bytes)
{
	uint64_t v = 0;

	if (r->bad || r->n < (size_t)bytes) {
		r->bad = true;
		return 0;
	}
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | r->p[i];
	r->p += bytes;
	r->n -= (size_t)bytes;
	return v;
}

static void get_str(struct reader *r, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned len = (unsigned)get_u(r, 1);

	out[0] = '\0';
	if (r->bad)
		return;
	if (len == HEX_ID) {
		if (r->n < 20) {
			r->bad = true;
			return;
		}
		for (int i = 0; i < 20; i++) {
			out[2 * i] = hex[r->p[i] >> 4];
			out[2 * i + 1] = hex[r->p[i] & 0xf];
		}
		out[40] = '\0';
		r->p += 20;
		r->n -= 20;
		return;
	}
	if (len > 40 || r->n < len || memchr(r->p, '\0', len)) {
		r->bad = true;
		return;
	}
	memcpy(out, r->p, len);
	out[len] = '\0';
	r->p += len;
	r->n -= len;
}

static int decode_body(struct audit_state *s, struct reader *r)
{
	uint32_t nsamples, nfacts, nuses;
	uint64_t prev = 0;

	s->depth = get_u(r, 8);
	get_str(r, s->tip);
	s->judged_depth = get_u(r, 8);
	get_str(r, s->baseline);
	for (int st = 0; st < STAGE_COUNT; st++)
		if ((s->approvals_on[st] = get_u(r, 8)) > s->depth)
			r->bad = true;
	nsamples = (uint32_t)get_u(r, 4);
	if (r->bad || s->judged_depth > s->depth || (s->depth && !s->tip[0]) ||
	    nsamples > r->n / 9)
		return ERR_INVALID;
	for (uint32_t i = 0; i < nsamples && !r->bad; i++) {
		uint64_t d = get_u(r, 8);
		char id[41];

		get_str(r, id);
		if (r->bad || d <= prev || d > s->depth)
			return ERR_INVALID;
		if (add_sample(s, d, id))
			return ERR_NOMEM;
		prev = d;
	}
	nfacts = (uint32_t)get_u(r, 4);
	if (r->bad || nfacts > AUDIT_STATE_MAX_FACTS || nfacts > r->n / 10)
		return ERR_INVALID;
	if (nfacts && !(s->facts = calloc(nfacts, sizeof *s->facts)))
		return ERR_NOMEM;
	s->cap = nfacts;
	/* indexed once cut where the range starts (audit_state_truncate) */
	s->unindexed = true;
	for (prev = 0; s->n < nfacts; s->n++) {
		struct audit_fact *f = &s->facts[s->n];
		unsigned st;

		f->depth = get_u(r, 8);
		st = (unsigned)get_u(r, 1);
		get_str(r, f->tag);
		if (r->bad || st >= STAGE_COUNT || f->depth < prev || f->depth == 0 ||
		    f->depth > s->depth)
			return ERR_INVALID;
		f->stage = (enum stage)st;
		prev = f->depth;
	}
	nuses = (uint32_t)get_u(r, 4);
	if (r->bad || nuses > AUDIT_STATE_MAX_FACTS || nuses > r->n / 10)
		return ERR_INVALID;
	if (nuses && !(s->uses = calloc(nuses, sizeof *s->uses)))
		return ERR_NOMEM;
	s->capuses = nuses;
	for (prev = 0; s->nuses < nuses; s->nuses++) {
		struct audit_use *u = &s->uses[s->nuses];

		u->depth = get_u(r, 8);
		get_str(r, u->request);
		get_str(r, u->commit);
		if (r->bad || !u->request[0] || u->depth < prev || u->depth == 0 ||
		    u->depth > s->depth)
			return ERR_INVALID;
		prev = u->depth;
	}
	return r->n == 0 ? 0 : ERR_INVALID;
}

int audit_state_decode(struct audit_state *s, const char *data, size_t len, const char *key)
{
	const unsigned char *p = (const unsigned char *)data;
	struct reader r;
	int rc;

	audit_state_init(s);
	if (len < 8 + 4 + 4 + AUDIT_STATE_KEY_LEN + 8 || memcmp(p, MAGIC, 8) != 0 ||
	    load64(p + len - 8) != checksum(p, len - 8))
		return ERR_INVALID;
	r = (struct reader){ .p = p + 8, .n = len - 16 };
	if (get_u(&r, 4) != VERSION || get_u(&r, 4) != STAGE_COUNT || r.n < AUDIT_STATE_KEY_LEN ||
	    strlen(key) != AUDIT_STATE_KEY_LEN || memcmp(r.p, key, AUDIT_STATE_KEY_LEN) != 0)
		return ERR_INVALID;
	r.p += AUDIT_STATE_KEY_LEN;
	r.n -= AUDIT_STATE_KEY_LEN;
	if ((rc = decode_body(s, &r)))
		audit_state_release(s);
	return rc;
}
