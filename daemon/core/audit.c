/* audit.c - judge the promotion history (audit.h).  Facts in, violations
 * out; the order of the checks follows a commit's claim: what it is (a
 * promotion or not, by whom), whether its record is readable, then what it
 * changed and whether the policy allowed it then. */
#include "audit.h"
#include "audit_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tag.h"
#include "trailer.h"
#include "util.h"

static const char *const code_names[AUDIT_CODE_COUNT] = {
	[AUDIT_DIRECT_CHANGE] = "direct-change",
	[AUDIT_FORGED] = "forged-trailer",
	[AUDIT_MALFORMED] = "malformed-trailers",
	[AUDIT_WRONG_FILES] = "wrong-files",
	[AUDIT_TAG_MISMATCH] = "tag-mismatch",
	[AUDIT_MARKET_OPEN] = "market-open",
	[AUDIT_REUSED_REQUEST] = "reused-request",
	[AUDIT_SKIPPED_STAGE] = "skipped-stage",
	/* issue 11 item 5 */
	[AUDIT_MERGE_REQUEST] = "merge-request",
	[AUDIT_ORPHAN_REQUEST] = "orphan-request",
	[AUDIT_OFF_BRANCH] = "off-branch",
	[AUDIT_MODE_CHANGE] = "mode-change",
	/* issue 14 item 3 */
	[AUDIT_SELF_APPROVAL] = "self-approval",
	[AUDIT_APPROVAL_INVALID] = "approval-invalid",
	[AUDIT_APPROVAL_MISSING] = "approval-missing",
	/* issue 14 item 4 */
	[AUDIT_ROLLBACK] = "rollback",
};

const char *audit_code_name(enum audit_code c)
{
	return (unsigned)c < AUDIT_CODE_COUNT ? code_names[c] : "unknown";
}

struct run {
	const struct audit_policy *p;
	struct audit_report rep;
	struct audit_state *st;	/* what earlier commits established */
	bool quiet;		/* the commit judged is replayed: no violation kept */
	int rc;
};

static void add_violation(struct run *r, const struct audit_commit *c, enum audit_code code,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_violation(struct run *r, const struct audit_commit *c, enum audit_code code,
			  const char *fmt, ...)
{
	struct audit_violation *v;
	va_list ap;

	if (r->rc || r->quiet)
		return;
	v = realloc(r->rep.v, (r->rep.n + 1) * sizeof *v);
	if (!v) {
		r->rc = ERR_NOMEM;
		return;
	}
	r->rep.v = v;
	v = &v[r->rep.n++];
	strlcpy_(v->commit, c->id, sizeof v->commit);
	v->code = code;
	va_start(ap, fmt);
	vsnprintf(v->message, sizeof v->message, fmt, ap);
	va_end(ap);
}

static void remember(struct run *r, enum stage st, const char *tag, const char *request)
{
	if (!r->rc && audit_state_remember(r->st, st, tag, request))
		r->rc = ERR_NOMEM;
}

static bool reached(const struct run *r, enum stage st, const char *tag)
{
	return audit_state_reached(r->st, st, tag);
}

/* A rollback (issue 14 item 4): to a release the stage ran, from the tag
 * it ran just before; rollback trailers on anything else are a false
 * record. */
static void judge_rollback(struct run *r, const struct audit_commit *c,
			   const struct trailer_list *tl, enum stage st, const char *tag)
{
	const char *rb = trailer_list_get(tl, TRAILER_ROLLBACK);
	const char *from = trailer_list_get(tl, TRAILER_ROLLED_BACK_FROM);
	const char *allow = trailer_list_get(tl, TRAILER_ROLLBACK_ALLOWANCE);
	const char *prev = audit_state_last_tag(r->st, st);

	if (!rb) {
		if (from || allow)
			add_violation(r, c, AUDIT_ROLLBACK, "%s: on a promotion into %s that is "
				      "not a rollback (no Rollback:)", from ? TRAILER_ROLLED_BACK_FROM :
				      TRAILER_ROLLBACK_ALLOWANCE, stage_name(st));
		return;
	}
	if (trailer_text_blank(rb))
		add_violation(r, c, AUDIT_ROLLBACK, "rollback of %s without a reason (blank "
			      "Rollback:)", stage_name(st));
	if (!from || !tag_is_sha1(from, strlen(from)))
		add_violation(r, c, AUDIT_ROLLBACK, "rollback of %s to %.12s without a valid "
			      "Rolled-Back-From:", stage_name(st), tag);
	else if (prev && strcmp(from, prev) != 0)
		add_violation(r, c, AUDIT_ROLLBACK, "rollback of %s says Rolled-Back-From: %.12s, "
			      "but %s ran %.12s before it", stage_name(st), from, stage_name(st),
			      prev);
	if (!reached(r, st, tag))
		add_violation(r, c, AUDIT_ROLLBACK, "rollback of %s to %.12s, a release %s had "
			      "never run", stage_name(st), tag, stage_name(st));
}

static bool by_daemon(const struct audit_policy *p, const struct audit_commit *c)
{
	return strcmp(c->committer_name, p->ident_name) == 0 &&
	       strcmp(c->committer_email, p->ident_email) == 0;
}

/* "values/values-paper.yaml, values/values-live.yaml" */
static void changed_values(char *out, size_t outsz, const struct audit_policy *p,
			   const struct audit_commit *c)
{
	size_t len = 0;

	out[0] = '\0';
	for (int s = 0; s < STAGE_COUNT; s++)
		if (p->values_path[s] && c->values[s].changed && len < outsz)
			len += (size_t)snprintf(out + len, outsz - len, "%s%s", len ? ", " : "",
						p->values_path[s]);
}

static enum stage stage_value(const struct trailer_list *tl, const char *key)
{
	const char *v = trailer_list_get(tl, key);
	enum stage s;

	return v && stage_parse(&s, v) == 0 ? s : STAGE_COUNT;
}

/* Why the daemon trailers are not a well-formed record ("" when they are). */
static void record_problems(char *out, size_t outsz, const struct trailer_list *tl)
{
	static const char *const required[] = { TRAILER_STAGE, TRAILER_SOURCE_STAGE,
						TRAILER_IMAGE_TAG, TRAILER_REQUESTED_BY,
						TRAILER_MARKET, TRAILER_INTEGRATION_TEST };
	enum stage st = stage_value(tl, TRAILER_STAGE), src = stage_value(tl, TRAILER_SOURCE_STAGE);
	const char *tag = trailer_list_get(tl, TRAILER_IMAGE_TAG);
	const char *req = trailer_list_get(tl, TRAILER_REQUEST);
	const char *by = trailer_list_get(tl, TRAILER_REQUESTED_BY);
	const char *dup = trailer_list_repeated(tl);
	size_t len = 0;

#define ADD(...) (len < outsz ? (len += (size_t)snprintf(out + len, outsz - len, __VA_ARGS__)) : 0)
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!trailer_list_get(tl, required[i]))
			ADD("%smissing %s:", len ? "; " : "", required[i]);
	if (dup)
		ADD("%s%s: repeated", len ? "; " : "", dup);
	if (trailer_list_get(tl, TRAILER_STAGE) && (st == STAGE_COUNT || !stage_is_deploy(st)))
		ADD("%sStage: is not a deploy stage", len ? "; " : "");
	if (trailer_list_get(tl, TRAILER_SOURCE_STAGE) && (src == STAGE_COUNT || src >= st))
		ADD("%sSource-Stage: is not a stage before Stage:", len ? "; " : "");
	if (tag && !tag_is_sha1(tag, strlen(tag)))
		ADD("%sImage-Tag: is not a 40-hex release id", len ? "; " : "");
	if (req && !tag_is_sha1(req, strlen(req)))
		ADD("%sRequest: is not a commit id", len ? "; " : "");
	if (by && strcmp(by, TRAILER_AUTOMATIC) != 0 && !req)
		ADD("%sRequested-By a person without Request:", len ? "; " : "");
#undef ADD
}

/* ---- the two-person rule (issue 14 item 3) ---- */

static const struct policy_approval *find_approval(const struct policy_request *q,
						   const char *id)
{
	for (size_t i = 0; q && i < q->napprovals; i++)
		if (q->approvals[i].commit && strcmp(q->approvals[i].commit, id) == 0)
			return &q->approvals[i];
	return NULL;
}

/* One Approved-By: value: the approval it names, if it is valid. */
static const struct policy_approval *judge_approved_by(struct run *r, const struct audit_commit *c,
						       const char *value)
{
	static const char *const shape[] = {
		[POLICY_APPROVAL_CHANGES] = "it changes files",
		[POLICY_APPROVAL_OTHER] = "it approves another commit",
		[POLICY_APPROVAL_MERGE] = "it is a merge",
		[POLICY_APPROVAL_UNSIGNED] = "it is not signed",
	};
	const struct policy_request *q = c->merged;
	const struct policy_approval *a;
	char principal[256], id[41];

	if (trailer_parse_approved_by(principal, sizeof principal, id, value)) {
		add_violation(r, c, AUDIT_APPROVAL_INVALID, "Approved-By: '%.200s' does not name a "
			      "principal and an approval commit", value);
		return NULL;
	}
	if (!(a = find_approval(q, id))) {
		add_violation(r, c, AUDIT_APPROVAL_INVALID, "Approved-By: names approval %.12s, "
			      "which is not on the merged request branch", id);
		return NULL;
	}
	if (a->shape != POLICY_APPROVAL_OK) {
		add_violation(r, c, AUDIT_APPROVAL_INVALID, "approval %.12s is no approval of "
			      "request %.12s: %s", id, q->commit, shape[a->shape]);
		return NULL;
	}
	if (a->sig != POLICY_SIG_GOOD || !a->principal) {
		add_violation(r, c, AUDIT_APPROVAL_INVALID, "approval %.12s is %s", id,
			      a->sig == POLICY_SIG_UNCHECKED ? "signed, but the signature could not "
			      "be verified (no signers file for the stage, or ssh-keygen failed)" :
			      "not signed by an allowed signer");
		return NULL;
	}
	if (strcmp(principal, a->principal) != 0) {
		add_violation(r, c, AUDIT_APPROVAL_INVALID, "Approved-By: says principal %s, but "
			      "approval %.12s is signed by %s", principal, id, a->principal);
		return NULL;
	}
	if (policy_approval_by_author(q, a)) {
		add_violation(r, c, AUDIT_SELF_APPROVAL, "approval %.12s by %s is the request "
			      "author's own (request %.12s by %s)", id, a->principal, q->commit,
			      q->signer ? q->signer : q->author_email ? q->author_email : "?");
		return NULL;
	}
	return a;
}

static void judge_approvals(struct run *r, const struct audit_commit *c,
			    const struct trailer_list *tl, enum stage st)
{
	const struct policy_approval *valid[TRAILER_APPROVALS_MAX];
	unsigned need = r->p->approvals[st];
	size_t nvalid = 0;

	for (size_t i = 0; i < tl->count; i++) {
		const struct policy_approval *a;
		bool dup = false;

		if (strcasecmp(tl->items[i].key, TRAILER_APPROVED_BY) != 0 ||
		    !(a = judge_approved_by(r, c, tl->items[i].value)))
			continue;
		for (size_t j = 0; j < nvalid && !dup; j++)
			dup = policy_same_approver(valid[j], a);
		if (dup)
			add_violation(r, c, AUDIT_APPROVAL_INVALID, "approval %.12s by %s counts a "
				      "person twice", a->commit, a->principal);
		else if (nvalid < TRAILER_APPROVALS_MAX)
			valid[nvalid++] = a;
	}
	/* the history does not say when approvals were turned on: from the
	 * first promotion that carries one, every later one must have them */
	if (trailer_list_get(tl, TRAILER_APPROVED_BY))
		audit_state_set_approvals_on(r->st, st);
	if (nvalid < need && audit_state_approvals_on(r->st, st))
		add_violation(r, c, AUDIT_APPROVAL_MISSING, "%s requires %u approval%s by someone "
			      "other than the author (approvals = %u); this promotion has %zu valid",
			      stage_name(st), need, need == 1 ? "" : "s", need, nvalid);
}

/* A promotion commit whose record is readable: what it changed and
 * whether the policy allowed it at the time. */
static void judge_promotion(struct run *r, const struct audit_commit *c,
			    const struct trailer_list *tl)
{
	const struct audit_policy *p = r->p;
	enum stage st = stage_value(tl, TRAILER_STAGE), src = stage_value(tl, TRAILER_SOURCE_STAGE);
	const char *tag = trailer_list_get(tl, TRAILER_IMAGE_TAG);
	const char *req = trailer_list_get(tl, TRAILER_REQUEST);
	const char *bg = trailer_list_get(tl, TRAILER_BREAK_GLASS);
	const struct audit_values *v = &c->values[st];
	bool rollback = trailer_list_get(tl, TRAILER_ROLLBACK) != NULL;
	const struct audit_use *prev;
	const char *path = p->values_path[st];

	for (size_t i = 0; i < c->nchanged; i++)
		if (!path || strcmp(c->changed[i], path) != 0) {
			add_violation(r, c, AUDIT_WRONG_FILES, "promotion into %s also changed '%s'",
				      stage_name(st), c->changed[i]);
			break;
		}
	if (path && v->changed && !v->only_tags)
		add_violation(r, c, AUDIT_WRONG_FILES, "promotion into %s changed '%s' beyond its "
			      "tag scalars", stage_name(st), path);
	if (path && (!v->tag || strcmp(v->tag, tag) != 0))
		add_violation(r, c, AUDIT_TAG_MISMATCH, "Image-Tag: %s but '%s' %s%s", tag, path,
			      v->tag ? "sets " : "has no single tag", v->tag ? v->tag : "");
	if (p->market_gated[st] && c->window_open && (!bg || trailer_text_blank(bg)) &&
	    !(rollback && trailer_list_get(tl, TRAILER_ROLLBACK_ALLOWANCE)))
		add_violation(r, c, AUDIT_MARKET_OPEN, "%s changed while the market was %s, "
			      "without Break-Glass:", stage_name(st),
			      c->window_text ? c->window_text : "open");
	if ((prev = audit_state_request(r->st, req)))
		add_violation(r, c, AUDIT_REUSED_REQUEST, "Request: %.12s was already used by "
			      "promotion %.12s", req, prev->commit);
	judge_rollback(r, c, tl, st, tag);
	/* a rollback's release passed the source stage when it first ran */
	if (!rollback && stage_is_deploy(src) && !reached(r, src, tag))
		add_violation(r, c, AUDIT_SKIPPED_STAGE, "%.12s promoted into %s from %s, where it "
			      "had never been promoted", tag, stage_name(st), stage_name(src));
	if (req)
		judge_approvals(r, c, tl, st);
	else if (trailer_list_get(tl, TRAILER_APPROVED_BY))
		add_violation(r, c, AUDIT_APPROVAL_INVALID, "an automatic promotion carries "
			      "Approved-By:");
	remember(r, st, tag, req);
	if (!c->replay)
		r->rep.promotions++;
}

/* Baseline: only its (daemon-made) promotions count, as facts. */
static void read_baseline(struct run *r, const struct audit_commit *c,
			  const struct trailer_list *tl)
{
	enum stage st = stage_value(tl, TRAILER_STAGE);
	const char *tag = trailer_list_get(tl, TRAILER_IMAGE_TAG);

	if (by_daemon(r->p, c) && st != STAGE_COUNT && stage_is_deploy(st) && tag &&
	    tag_is_sha1(tag, strlen(tag))) {
		remember(r, st, tag, trailer_list_get(tl, TRAILER_REQUEST));
		if (trailer_list_get(tl, TRAILER_APPROVED_BY))
			audit_state_set_approvals_on(r->st, st);
	}
}

/* The request's tip: the daemon's shape rules, word for word. */
static void judge_shape(struct run *r, const struct audit_commit *c, enum stage st)
{
	char msg[POLICY_MESSAGE_MAX];
	enum audit_code code;

	if (!c->shape)
		return;
	switch (policy_check_shape(msg, sizeof msg, c->shape, st)) {
	case POLICY_MERGE_REQUEST: code = AUDIT_MERGE_REQUEST; break;
	case POLICY_ORPHAN_REQUEST: code = AUDIT_ORPHAN_REQUEST; break;
	case POLICY_OFF_BRANCH: code = AUDIT_OFF_BRANCH; break;
	case POLICY_MODE_CHANGE: code = AUDIT_MODE_CHANGE; break;
	default: return;
	}
	/* the policy's message starts with its code, which the report prints */
	add_violation(r, c, code, "%s", strchr(msg, ' ') ? strchr(msg, ' ') + 1 : msg);
}

/* A commit of a promotion request (see audit_policy.requests). */
static void judge_request(struct run *r, const struct audit_commit *c,
			  const struct trailer_list *tl)
{
	enum stage st = r->p->request_stage;
	const char *path = r->p->values_path[st];
	const char *claim = trailer_list_forged(tl);

	if (claim)
		add_violation(r, c, AUDIT_FORGED, "request commit carries %s:, which only the "
			      "daemon writes", claim);
	for (size_t i = 0; i < c->nchanged; i++)
		if (!path || strcmp(c->changed[i], path) != 0) {
			add_violation(r, c, AUDIT_WRONG_FILES, "request for %s changes '%s'",
				      stage_name(st), c->changed[i]);
			break;
		}
	if (path && c->values[st].changed && !c->values[st].only_tags)
		add_violation(r, c, AUDIT_WRONG_FILES, "request for %s changes '%s' beyond its tag "
			      "scalars", stage_name(st), path);
	judge_shape(r, c, st);
}

static void judge(struct run *r, const struct audit_commit *c)
{
	struct trailer_list tl = { 0 };
	char files[400], why[400];
	struct buf err = BUF_INIT;
	const char *claim;
	bool parsed = trailer_parse(&tl, c->message, c->message_len, &err) == 0;

	r->quiet = c->replay;
	changed_values(files, sizeof files, r->p, c);
	if (!c->judged) {
		if (parsed)
			read_baseline(r, c, &tl);
	} else if (!parsed && r->p->requests) {
		add_violation(r, c, AUDIT_MALFORMED, "request commit's trailers cannot be read: %s",
			      err.data ? err.data : "unparsable");
	} else if (r->p->requests) {
		judge_request(r, c, &tl);
	} else if (!parsed) {
		if (files[0])
			add_violation(r, c, AUDIT_MALFORMED, "changed %s but its trailers cannot be "
				      "read: %s", files, err.data ? err.data : "unparsable");
	} else if (!(claim = trailer_list_forged(&tl))) {
		if (files[0])
			add_violation(r, c, AUDIT_DIRECT_CHANGE, "changed %s without being a "
				      "promotion commit (a push that bypassed pipelined)", files);
	} else if (!by_daemon(r->p, c)) {
		add_violation(r, c, AUDIT_FORGED, "carries %s: but was committed by %s <%s>, not "
			      "%s <%s>", claim, c->committer_name, c->committer_email,
			      r->p->ident_name, r->p->ident_email);
	} else {
		record_problems(why, sizeof why, &tl);
		if (why[0])
			add_violation(r, c, AUDIT_MALFORMED, "%s", why);
		else
			judge_promotion(r, c, &tl);
	}
	if (c->judged && !c->replay)
		r->rep.judged++;
	trailer_list_release(&tl);
	buf_release(&err);
}

int audit_run(struct audit_report *out, const struct audit_policy *p,
	      const struct audit_commit *c, size_t n)
{
	struct audit_state st;
	int rc;

	audit_state_init(&st);
	rc = audit_run_state(out, &st, p, c, n);
	audit_state_release(&st);
	return rc;
}

int audit_run_state(struct audit_report *out, struct audit_state *st,
		    const struct audit_policy *p, const struct audit_commit *c, size_t n)
{
	struct run r;

	if (!p || !p->ident_name || !p->ident_email || (n && !c) || !st ||
	    (p->requests && (!stage_is_deploy(p->request_stage) ||
			     !p->values_path[p->request_stage])))
		return ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (!c[i].id || !c[i].committer_name || !c[i].committer_email || !c[i].message ||
		    (c[i].nchanged && !c[i].changed) || (c[i].shape && !c[i].shape->commit))
			return ERR_INVALID;
	memset(&r, 0, sizeof r);
	r.p = p;
	r.st = st;
	for (size_t i = 0; i < n && r.rc == 0; i++)
		if ((r.rc = audit_state_step(st, c[i].id)) == 0)
			judge(&r, &c[i]);
	if (r.rc) {
		audit_report_release(&r.rep);
		return r.rc;
	}
	*out = r.rep;
	return 0;
}

void audit_report_release(struct audit_report *r)
{
	if (!r)
		return;
	free(r->v);
	memset(r, 0, sizeof *r);
}

size_t audit_first_promotion(const struct audit_commit *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct trailer_list tl;
		bool found = false;

		if (trailer_parse(&tl, c[i].message, c[i].message_len, NULL) == 0) {
			enum stage st = stage_value(&tl, TRAILER_STAGE);
			const char *tag = trailer_list_get(&tl, TRAILER_IMAGE_TAG);

			found = st != STAGE_COUNT && stage_is_deploy(st) && tag &&
				tag_is_sha1(tag, strlen(tag));
			trailer_list_release(&tl);
		}
		if (found)
			return i;
	}
	return n;
}

static bool rev_ok(const char *s, size_t n)
{
	if (n == 0 || n > 255 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

int audit_parse_range(char *from, size_t fromsz, char *to, size_t tosz, bool *has_from,
		      const char *range, char *err, size_t errsz)
{
	const char *dots = strstr(range, "..");
	const char *a = range, *b = range;
	size_t na = 0, nb = strlen(range);

	if (dots) {
		if (dots[2] == '.' || strstr(dots + 2, "..")) {
			snprintf(err, errsz, "'%s': only A..B ranges are supported", range);
			return ERR_INVALID;
		}
		na = (size_t)(dots - range);
		b = dots + 2;
		nb = strlen(b);
		if (na == 0) {
			a = "HEAD";
			na = 4;
		}
		if (nb == 0) {
			b = "HEAD";
			nb = 4;
		}
	}
	if ((dots && !rev_ok(a, na)) || !rev_ok(b, nb) || na >= fromsz || nb >= tosz) {
		snprintf(err, errsz, "'%s' is not a revision range (A..B, A.. or B)", range);
		return ERR_INVALID;
	}
	snprintf(from, fromsz, "%.*s", (int)na, dots ? a : "");
	snprintf(to, tosz, "%.*s", (int)nb, b);
	*has_from = dots != NULL;
	return 0;
}

int audit_deployments(struct audit_deploy_report *out, const struct audit_promotion *p, size_t n)
{
	size_t next[STAGE_COUNT];	/* the promotion after the one looked at, per stage */

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++)
		if (!p[i].commit || p[i].stage >= STAGE_COUNT || !stage_is_deploy(p[i].stage))
			return ERR_INVALID;
	if (n && !(out->v = calloc(n, sizeof *out->v)))
		return ERR_NOMEM;
	for (int s = 0; s < STAGE_COUNT; s++)
		next[s] = n;
	/* newest first, so each knows the promotion that followed it */
	for (size_t k = n; k-- > 0;) {
		enum stage st = p[k].stage;

		out->promotions++;
		if (p[k].deployed) {
			out->deployed++;
		} else {
			struct audit_undeployed *u = &out->v[out->n++];

			u->index = k;
			u->superseded = next[st] < n;
			u->by = next[st];
		}
		next[st] = k;
	}
	/* oldest first, like the promotions */
	for (size_t i = 0; i < out->n / 2; i++) {
		struct audit_undeployed t = out->v[i];

		out->v[i] = out->v[out->n - 1 - i];
		out->v[out->n - 1 - i] = t;
	}
	return 0;
}

void audit_deploy_report_release(struct audit_deploy_report *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}
