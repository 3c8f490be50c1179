/* policy.c - see policy.h */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[POLICY_CODE_COUNT] = {
	[POLICY_ALLOW] = "allow",
	[POLICY_MALFORMED] = "malformed",
	[POLICY_STAGE_DISABLED] = "stage-disabled",
	[POLICY_WRONG_FILES] = "wrong-files",
	[POLICY_MIXED_TAGS] = "mixed-tags",
	[POLICY_UNKNOWN_RELEASE] = "unknown-release",
	[POLICY_INTTEST_FAILED] = "inttest-failed",
	[POLICY_INTTEST_MISSING] = "inttest-missing",
	[POLICY_NOT_IN_SOURCE] = "not-in-source",
	[POLICY_MARKET_OPEN] = "market-open",
	[POLICY_NOTES_REQUIRED] = "notes-required",
	[POLICY_SIGNATURE] = "signature",
	[POLICY_REUSED_REQUEST] = "reused-request",
	[POLICY_FORGED_TRAILER] = "forged-trailer",
	/* issue 11 item 3 */
	[POLICY_QUEUE_FULL] = "queue-full",
};

const char *policy_code_name(enum policy_code code)
{
	return (unsigned)code < POLICY_CODE_COUNT ? code_names[code] : "?";
}

int policy_code_parse(enum policy_code *out, const char *name)
{
	for (int i = 0; i < POLICY_CODE_COUNT; i++)
		if (strcmp(name, code_names[i]) == 0) {
			*out = (enum policy_code)i;
			return 0;
		}
	return ERR_NOTFOUND;
}

int policy_source_stage(enum stage *out, const struct policy_stage_cfg cfg[STAGE_COUNT],
			enum stage s)
{
	if ((unsigned)s >= STAGE_COUNT || s == STAGE_CI)
		return ERR_INVALID;
	for (int i = (int)s - 1; i >= 0; i--)
		if (cfg[i].enabled) {
			*out = (enum stage)i;
			return 0;
		}
	*out = STAGE_CI;
	return 0;
}

/* ---- branch names ---- */

#define BRANCH_MAX 255

/* The subset of git's ref-name rules a request branch must follow; checked
 * before any of it is echoed back in a message. */
static bool ref_chars_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("~^:?*[\\", *p))
			return false;
	return true;
}

static bool ref_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || name[0] == '/' || name[len - 1] == '/' || name[len - 1] == '.')
		return false;
	if (strstr(name, "..") || strstr(name, "//") || strstr(name, "@{") ||
	    strstr(name, "/.") || name[0] == '.')
		return false;
	return !(len >= 5 && strcmp(name + len - 5, ".lock") == 0);
}

int policy_parse_branch(enum stage *stage, const char *branch, struct buf *err)
{
	const char *s = branch, *slash;
	char name[32];
	enum stage st;

	if (strncmp(s, "refs/heads/", 11) == 0)
		s += 11;
	if (strlen(s) > BRANCH_MAX || !ref_chars_ok(s)) {
		buf_seterr(err, "branch name is longer than %d bytes or has a space, "
		     "control or special character", BRANCH_MAX);
		return ERR_INVALID;
	}
	slash = strncmp(s, "promote/", 8) == 0 ? strchr(s + 8, '/') : NULL;
	if (!slash || (size_t)(slash - (s + 8)) >= sizeof(name)) {
		buf_seterr(err, "branch \"%s\" is not of the form promote/<stage>/<name>", s);
		return ERR_INVALID;
	}
	memcpy(name, s + 8, (size_t)(slash - (s + 8)));
	name[slash - (s + 8)] = '\0';
	if (stage_parse(&st, name) < 0) {
		buf_seterr(err, "branch \"%s\": unknown stage \"%s\" (use beta, paper or live)", s, name);
		return ERR_INVALID;
	}
	if (!stage_is_deploy(st)) {
		buf_seterr(err, "branch \"%s\": %s is an evidence stage; request beta, paper or live",
		     s, name);
		return ERR_INVALID;
	}
	if (!ref_name_ok(slash + 1)) {
		buf_seterr(err, "branch \"%s\": \"%s\" is not a valid branch name", s, slash + 1);
		return ERR_INVALID;
	}
	*stage = st;
	return 0;
}

/* ---- the checks ---- */

struct ctx {
	const struct policy_input *in;
	const struct policy_request *req;	/* NULL: automatic */
	const struct policy_stage_cfg *cfg;	/* the target's */
	enum stage target;
	enum stage source;
	const char *tag;	/* the release asked for; NULL until known */
	char tag7[8];
	const char *notes;
	const char *break_glass;
	struct policy_decision *d;
};

static enum policy_code say(struct ctx *c, enum policy_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum policy_code say(struct ctx *c, enum policy_code code, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (code != POLICY_MARKET_OPEN)
		n = snprintf(c->d->message, sizeof(c->d->message), "%s: ",
			     policy_code_name(code));
	va_start(ap, fmt);
	vsnprintf(c->d->message + n, sizeof(c->d->message) - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

static bool tag_in(const struct policy_stage_state *st, const char *tag)
{
	if (st->current && strcmp(st->current, tag) == 0)
		return true;
	for (size_t i = 0; i < st->history_len; i++)
		if (st->history[i] && strcmp(st->history[i], tag) == 0)
			return true;
	return false;
}

/* Text from outside (paths, tag values, reasons) goes into notes, logs and
 * the dashboard: control characters become '?'. */
struct shown {
	char s[208];
};

static const char *show(struct shown *out, const char *s)
{
	size_t i = 0;

	for (; s[i] && i < sizeof(out->s) - 1; i++)
		out->s[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out->s[i] = '\0';
	return out->s;
}

static enum policy_code check_message(struct ctx *c)
{
	const struct policy_request *r = c->req;
	struct shown sh;
	const char *key;

	if (r->msg == POLICY_MSG_OVERSIZED)
		return say(c, POLICY_MALFORMED,
			   "the request's commit message is larger than %u bytes; shorten it",
			   TRAILER_MESSAGE_MAX);
	if (r->msg != POLICY_MSG_OK || !r->trailers ||
	    !r->commit || !tag_is_sha1(r->commit, strlen(r->commit)))
		return say(c, POLICY_MALFORMED, "the request's commit cannot be read%s%s; "
			   "push a new commit", r->msg_error ? ": " : "",
			   r->msg_error ? show(&sh, r->msg_error) : "");
	key = trailer_list_repeated(r->trailers);
	if (key)
		return say(c, POLICY_MALFORMED, "the trailer \"%.40s:\" appears %zu times; "
			   "keep exactly one", key, trailer_list_count(r->trailers, key));
	if (c->notes && strlen(c->notes) > TRAILER_NOTES_MAX)
		return say(c, POLICY_MALFORMED, "Notes: is longer than %d bytes; shorten it",
			   TRAILER_NOTES_MAX);
	if (c->break_glass && strlen(c->break_glass) > TRAILER_JUSTIFICATION_MAX)
		return say(c, POLICY_MALFORMED,
			   "Break-Glass: is longer than %d bytes; shorten the justification",
			   TRAILER_JUSTIFICATION_MAX);
	return POLICY_ALLOW;
}

static enum policy_code check_malformed(struct ctx *c)
{
	struct buf err = BUF_INIT;
	enum policy_code code = POLICY_ALLOW;

	if (!c->req)
		return POLICY_ALLOW;
	buf_init(&err, 512);
	if (policy_parse_branch(&c->target, c->req->branch, &err) < 0)
		code = say(c, POLICY_MALFORMED, "%s; push to promote/<stage>/<name>",
			   err.data ? err.data : "bad branch name");
	buf_release(&err);
	return code != POLICY_ALLOW ? code : check_message(c);
}

static enum policy_code check_forged(struct ctx *c)
{
	const char *key = c->req ? trailer_list_forged(c->req->trailers) : NULL;

	if (!key)
		return POLICY_ALLOW;
	return say(c, POLICY_FORGED_TRAILER, "the request carries a \"%.40s:\" trailer, "
		   "which only pipelined writes; remove it and push a new commit", key);
}

static enum policy_code check_reused(struct ctx *c)
{
	if (!c->req || !c->req->reused)
		return POLICY_ALLOW;
	return say(c, POLICY_REUSED_REQUEST, "request commit %.7s was already used by an "
		   "earlier promotion (a request, and its Break-Glass:, count once); "
		   "push a new commit to request again", c->req->commit);
}

static enum policy_code check_enabled(struct ctx *c)
{
	if (c->cfg->enabled)
		return POLICY_ALLOW;
	return say(c, POLICY_STAGE_DISABLED, "stage %s is disabled in the configuration; "
		   "enable it or request another stage", stage_name(c->target));
}

static enum policy_code check_files(struct ctx *c)
{
	const struct policy_request *r = c->req;
	const char *vp = c->cfg->values_path;
	struct shown sh;

	if (!r)
		return POLICY_ALLOW;
	for (size_t i = 0; i < r->changed_len; i++)
		if (strcmp(r->changed_paths[i], vp) != 0)
			return say(c, POLICY_WRONG_FILES, "the request changes \"%s\"; a "
				   "request for %s may change only the image tags in %s",
				   show(&sh, r->changed_paths[i]), stage_name(c->target), vp);
	if (r->changed_len == 0)
		return say(c, POLICY_WRONG_FILES, "the request changes nothing since its merge "
			   "base; set the image tags in %s to the release", vp);
	if (!r->only_tag_scalars_changed)
		return say(c, POLICY_WRONG_FILES, "the request changes %s beyond its image tags; "
			   "change only the tags", vp);
	return POLICY_ALLOW;
}

static enum policy_code check_tags(struct ctx *c)
{
	const struct policy_request *r = c->req;
	struct shown a, b;
	const char *t;

	if (!r)
		return POLICY_ALLOW;
	if (r->tag_values_len == 0)
		return say(c, POLICY_MIXED_TAGS, "%s has no image tag at the stage's tag paths; "
			   "set every image tag to the release", c->cfg->values_path);
	t = r->tag_values[0];
	for (size_t i = 1; i < r->tag_values_len; i++)
		if (strcmp(r->tag_values[i], t) != 0)
			return say(c, POLICY_MIXED_TAGS, "the image tags in %s differ (\"%.64s\" "
				   "and \"%.64s\"); set every one to the same release",
				   c->cfg->values_path, show(&a, t), show(&b, r->tag_values[i]));
	if (!tag_is_sha1(t, strlen(t)))
		return say(c, POLICY_MIXED_TAGS, "\"%.64s\" is not a release id (a full "
			   "40-hex commit SHA); set every image tag to one", show(&a, t));
	c->tag = t;
	strlcpy_(c->d->tag, t, sizeof(c->d->tag));
	strlcpy_(c->tag7, t, sizeof(c->tag7));
	return POLICY_ALLOW;
}

static enum policy_code check_release(struct ctx *c)
{
	const struct policy_release *rel = c->in->release;

	if (!rel)
		return say(c, POLICY_UNKNOWN_RELEASE, "nothing is known about %s in the "
			   "registry; wait for CI to push every image or pick another release",
			   c->tag7);
	if (rel->complete)
		return POLICY_ALLOW;
	return say(c, POLICY_UNKNOWN_RELEASE, "%s is not a complete release (%zu of %zu "
		   "images have the tag%s%.64s); wait for CI to push every image or pick "
		   "another release", c->tag7, rel->images_present, rel->images_total,
		   rel->missing_image ? ", missing: " : "",
		   rel->missing_image ? rel->missing_image : "");
}

static enum policy_code check_evidence(struct ctx *c)
{
	const struct policy_release *rel = c->in->release;
	struct shown sh;
	const char *sum = rel->evidence_summary ? show(&sh, rel->evidence_summary) : NULL;

	if (!c->in->cfg[STAGE_INTTEST].enabled || rel->evidence == POLICY_EVIDENCE_PASSED)
		return POLICY_ALLOW;
	if (rel->evidence == POLICY_EVIDENCE_FAILED)
		return say(c, POLICY_INTTEST_FAILED, "integration tests failed for %s%s%.100s%s; "
			   "promote a release whose tests pass", c->tag7, sum ? " (" : "",
			   sum ? sum : "", sum ? ")" : "");
	return say(c, POLICY_INTTEST_MISSING, "no integration-test result for %s yet; "
		   "wait for the integration tests to publish it", c->tag7);
}

/* Evidence-stage sources were settled by the two checks before. */
static enum policy_code check_source(struct ctx *c)
{
	if (!stage_is_deploy(c->source) || tag_in(&c->in->state[c->source], c->tag))
		return POLICY_ALLOW;
	return say(c, POLICY_NOT_IN_SOURCE, "%s was never promoted to %s (source of %s); "
		   "promote it to %s first", c->tag7, stage_name(c->source),
		   stage_name(c->target), stage_name(c->source));
}

static enum policy_code check_notes(struct ctx *c)
{
	if (!c->cfg->require_notes || !trailer_text_blank(c->notes))
		return POLICY_ALLOW;
	if (!c->req)
		return say(c, POLICY_NOTES_REQUIRED, "%s requires notes, which an automatic "
			   "promotion has none of; request it with a Notes: trailer instead",
			   stage_name(c->target));
	if (c->notes && *c->notes)
		return say(c, POLICY_NOTES_REQUIRED, "%s requires notes; the Notes: trailer has no "
			   "visible text (only spaces or invisible characters): say what this "
			   "release changes", stage_name(c->target));
	return say(c, POLICY_NOTES_REQUIRED, "%s requires notes; add a Notes: trailer that "
		   "says what this release changes", stage_name(c->target));
}

static enum policy_code check_signature(struct ctx *c)
{
	const struct policy_request *r = c->req;
	const char *st = stage_name(c->target);

	if (!r || !c->cfg->require_signature)
		return POLICY_ALLOW;
	switch (r->sig) {
	case POLICY_SIG_GOOD:
		if (r->signer && *r->signer)
			return POLICY_ALLOW;
		break;
	case POLICY_SIG_UNSIGNED:
		return say(c, POLICY_SIGNATURE, "%s requires a signed request and %.7s is "
			   "unsigned; sign it (git commit -S) with an allowed key", st, r->commit);
	case POLICY_SIG_BAD:
		return say(c, POLICY_SIGNATURE, "%.7s is not signed by an allowed signer of %s; "
			   "sign it with a key listed in signers", r->commit, st);
	case POLICY_SIG_UNCHECKED:
		break;
	}
	return say(c, POLICY_SIGNATURE, "the signature of %.7s could not be verified; "
		   "it is checked again on the next cycle", r->commit);
}

static enum policy_code check_market(struct ctx *c)
{
	const struct policy_window *w = &c->in->window;
	const char *text = w->text && *w->text ? w->text : "market open";
	bool queue;

	if (!c->cfg->market_gated || !w->open)
		return POLICY_ALLOW;
	if (!trailer_text_blank(c->break_glass)) {
		c->d->break_glass = true;
		return POLICY_ALLOW;
	}
	queue = c->cfg->queue;
	c->d->queue = queue;
	c->d->queue_until = queue ? w->close_time : 0;
	return say(c, POLICY_MARKET_OPEN, "blocked: %.200s%s; %s", text,
		   queue ? "; queued until the close" : "",
		   c->break_glass ? "the Break-Glass: trailer has no visible text (only "
				    "spaces or invisible characters): give a justification "
				    "to override" :
				    "add a Break-Glass: trailer to override");
}

/* Precedence after malformed (which names the target), first refusal wins:
 * see policy.h for why this order. */
static enum policy_code (*const checks[])(struct ctx *) = {
	check_forged,
	check_reused,
	check_enabled,
	check_files,
	check_tags,
	check_release,
	check_evidence,
	check_source,
	check_notes,
	check_signature,
	check_market,
};

static int ctx_init(struct ctx *c, const struct policy_input *in, struct policy_decision *d)
{
	memset(c, 0, sizeof(*c));
	memset(d, 0, sizeof(*d));
	c->in = in;
	c->req = in->request;
	c->d = d;
	if (c->req) {
		if (!c->req->branch || (c->req->msg == POLICY_MSG_OK && !c->req->trailers))
			return ERR_INVALID;
		if (c->req->trailers) {
			c->notes = trailer_list_get(c->req->trailers, TRAILER_NOTES);
			c->break_glass = trailer_list_get(c->req->trailers, TRAILER_BREAK_GLASS);
		}
		return 0;
	}
	if ((unsigned)in->target >= STAGE_COUNT || !stage_is_deploy(in->target) ||
	    !in->tag || !tag_is_sha1(in->tag, strlen(in->tag)))
		return ERR_INVALID;
	c->target = in->target;
	c->tag = in->tag;
	strlcpy_(d->tag, in->tag, sizeof(d->tag));
	strlcpy_(c->tag7, in->tag, sizeof(c->tag7));
	return 0;
}

static void say_allowed(struct ctx *c)
{
	int n = snprintf(c->d->message, sizeof(c->d->message), "allowed: promote %s: %s "
			 "from %s", stage_name(c->target), c->tag7, stage_name(c->source));

	if (c->d->break_glass && n > 0 && (size_t)n < sizeof(c->d->message)) {
		struct buf j = BUF_INIT;

		buf_init(&j, TRAILER_JUSTIFICATION_MAX + 1);
		if (trailer_sanitize_value(&j, c->break_glass, TRAILER_JUSTIFICATION_MAX) == 0)
			snprintf(c->d->message + n, sizeof(c->d->message) - (size_t)n,
				 " with break-glass while the market is open: %.300s", j.data);
		buf_release(&j);
	}
}

static int ctx_target(struct ctx *c)
{
	c->cfg = &c->in->cfg[c->target];
	if (!c->cfg->values_path)
		return ERR_INVALID;
	(void)policy_source_stage(&c->source, c->in->cfg, c->target);
	c->d->target = c->target;
	c->d->source = c->source;
	return 0;
}

int policy_check(struct policy_decision *out, const struct policy_input *in)
{
	struct policy_decision d;
	struct ctx c;

	if (ctx_init(&c, in, &d) < 0)
		return ERR_INVALID;
	d.code = check_malformed(&c);
	if (d.code == POLICY_ALLOW && ctx_target(&c) < 0)
		return ERR_INVALID;
	for (size_t i = 0; i < ARRAY_SIZE(checks) && d.code == POLICY_ALLOW; i++)
		d.code = checks[i](&c);
	if (d.code == POLICY_ALLOW)
		say_allowed(&c);
	*out = d;
	return 0;
}

int policy_auto_pick(size_t *out, const struct policy_input *in, enum stage target,
		     const struct policy_candidate *c, size_t n)
{
	const struct policy_stage_cfg *cfg = in->cfg;
	enum stage source = STAGE_CI;

	if ((unsigned)target >= STAGE_COUNT || !stage_is_deploy(target))
		return ERR_INVALID;
	if (!cfg[target].enabled || !cfg[target].auto_promote)
		return ERR_NOTFOUND;
	(void)policy_source_stage(&source, cfg, target);
	for (size_t i = 0; i < n; i++) {
		if (!c[i].newer || !c[i].complete || !c[i].tag ||
		    !tag_is_sha1(c[i].tag, strlen(c[i].tag)))
			continue;
		if (cfg[STAGE_INTTEST].enabled && c[i].evidence != POLICY_EVIDENCE_PASSED)
			continue;
		if (stage_is_deploy(source) && !tag_in(&in->state[source], c[i].tag))
			continue;
		*out = i;
		return 0;
	}
	return ERR_NOTFOUND;
}
