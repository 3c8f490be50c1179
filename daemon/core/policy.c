/* policy.c - see policy.h */
#include "policy.h"

#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
	/* issue 11 item 9 */
	[POLICY_EVIDENCE_UNREADABLE] = "evidence-unreadable",
	/* issue 11 item 5 */
	[POLICY_MERGE_REQUEST] = "merge-request",
	[POLICY_ORPHAN_REQUEST] = "orphan-request",
	[POLICY_OFF_BRANCH] = "off-branch",
	[POLICY_MODE_CHANGE] = "mode-change",
	/* issue 13 item 6 */
	[POLICY_SOURCE_NOT_DEPLOYED] = "source-not-deployed",
	[POLICY_SOAK] = "soak",
	[POLICY_SOURCE_UNKNOWN] = "source-unknown",
	/* issue 11 item 1 */
	[POLICY_ALREADY_CURRENT] = "already-current",
	/* issue 11 item 3 */
	[POLICY_QUEUE_FULL] = "queue-full",
	/* issue 14 item 1 */
	[POLICY_FROZEN] = "frozen",
	/* issue 14 item 3 */
	[POLICY_APPROVAL_REQUIRED] = "approval-required",
	/* issue 14 item 4 */
	[POLICY_ROLLBACK_TARGET] = "rollback-target",
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
	const char *rollback;	/* a rollback request's reason; NULL otherwise */
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
	if (c->rollback && strlen(c->rollback) > TRAILER_JUSTIFICATION_MAX)
		return say(c, POLICY_MALFORMED, "Rollback: is longer than %d bytes; shorten the "
			   "reason", TRAILER_JUSTIFICATION_MAX);
	/* a rollback relaxes a gate: it must say why */
	if (c->rollback && trailer_text_blank(c->rollback))
		return say(c, POLICY_MALFORMED, "the Rollback: trailer has no visible text; say "
			   "why the stage goes back");
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

/* ---- the request's shape (issue 11 item 5) ---- */

static const char *tracked(const struct ctx *c)
{
	return c->req->tracked && *c->req->tracked ? c->req->tracked : "main";
}

/* How to send the rebuilt commit: where the server refuses force pushes
 * (a protected branch), a new branch name is the way. */
#define PUSH_AGAIN "then push it again (git push --force, or to a new promote/%s/<name>)"

static enum policy_code check_merge(struct ctx *c)
{
	if (!c->req || !c->req->merge)
		return POLICY_ALLOW;
	return say(c, POLICY_MERGE_REQUEST, "request %.7s is a merge commit (%u parents), which "
		   "would bring other commits into %s; rebase your request onto %s as one "
		   "commit: git fetch origin && git rebase -i origin/%s (keep one commit with "
		   "the tag change), " PUSH_AGAIN, c->req->commit, c->req->nparents, tracked(c),
		   tracked(c), tracked(c), stage_name(c->target));
}

static enum policy_code check_orphan(struct ctx *c)
{
	if (!c->req || !c->req->orphan)
		return POLICY_ALLOW;
	return say(c, POLICY_ORPHAN_REQUEST, "request %.7s has no parent (a history unrelated "
		   "to %s); start from %s: git fetch origin && git checkout -B <branch> "
		   "origin/%s, set the image tags (pipelinectl edit), commit once, " PUSH_AGAIN,
		   c->req->commit, tracked(c), tracked(c), tracked(c), stage_name(c->target));
}

static enum policy_code check_off_branch(struct ctx *c)
{
	const struct policy_request *r = c->req;

	if (!r || !r->off_branch)
		return POLICY_ALLOW;
	return say(c, POLICY_OFF_BRANCH, "the parent of request %.7s%s%.7s%s is not on %s (a "
		   "stack of commits, or a base outside %s's history); rebase your request onto "
		   "%s as one commit: git fetch origin && git rebase -i origin/%s (keep one "
		   "commit with the tag change), " PUSH_AGAIN, r->commit, r->parent ? ", " : "",
		   r->parent ? r->parent : "", r->parent ? "," : "", tracked(c), tracked(c),
		   tracked(c), tracked(c), stage_name(c->target));
}

/* Commits on top of the request that say Approves: must be approvals and
 * nothing else; anything else is a stack of commits (off-branch). */
static enum policy_code check_approval_shape(struct ctx *c)
{
	const struct policy_request *r = c->req;
	static const char *const why[] = {
		[POLICY_APPROVAL_CHANGES] = "changes files (an approval changes nothing)",
		[POLICY_APPROVAL_OTHER] = "approves another commit",
		[POLICY_APPROVAL_MERGE] = "is a merge",
		[POLICY_APPROVAL_UNSIGNED] = "is not signed",
	};

	for (size_t i = 0; r && i < r->napprovals; i++) {
		const struct policy_approval *a = &r->approvals[i];
		struct shown sh;

		if (a->shape == POLICY_APPROVAL_OK)
			continue;
		return say(c, POLICY_OFF_BRANCH, "commit %.7s on top of request %.7s says "
			   "Approves: %.40s but %s; only approvals signed with "
			   "'pipelinectl approve' may sit on a request: remove it (git push "
			   "--force origin %.40s:%.200s) and approve again", a->commit, r->commit,
			   a->approves ? show(&sh, a->approves) : "", why[a->shape], r->commit,
			   r->branch);
	}
	return POLICY_ALLOW;
}

static enum policy_code check_mode(struct ctx *c)
{
	const struct policy_request *r = c->req;
	struct shown sh;
	const char *p, *fix;

	if (!r || !r->mode_path)
		return POLICY_ALLOW;
	p = show(&sh, r->mode_path);
	fix = r->mode_old == 0100644 && r->mode_new == 0100755 ? "git update-index --chmod=-x" :
	      r->mode_old == 0100755 && r->mode_new == 0100644 ? "git update-index --chmod=+x" :
	      NULL;
	if (fix)
		return say(c, POLICY_MODE_CHANGE, "the request changes the mode of \"%s\" from "
			   "%06o to %06o, which a promotion does not carry; a request changes "
			   "only image tags: %s \"%s\", amend the commit, " PUSH_AGAIN, p,
			   r->mode_old, r->mode_new, fix, p, stage_name(c->target));
	return say(c, POLICY_MODE_CHANGE, "the request changes the mode of \"%s\" from %06o to "
		   "%06o, which a promotion does not carry; a request changes only image tags: "
		   "restore it as it is on %s, amend the commit, " PUSH_AGAIN, p, r->mode_old,
		   r->mode_new, tracked(c), stage_name(c->target));
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

/* A merge that changes no file would be a promotion of nothing: the
 * stage already runs the release, whichever request asked for it first. */
static enum policy_code check_current(struct ctx *c)
{
	const char *cur = c->in->state[c->target].current;

	if (!cur || strcmp(cur, c->tag) != 0)
		return POLICY_ALLOW;
	return say(c, POLICY_ALREADY_CURRENT, "%s already runs %s (every image tag in %s is "
		   "%.40s); nothing to promote: request another release, or delete the branch",
		   stage_name(c->target), c->tag7, c->cfg->values_path, c->tag);
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
	if (rel->evidence == POLICY_EVIDENCE_UNPARSABLE) {
		struct shown why;

		return say(c, POLICY_EVIDENCE_UNREADABLE, "the integration-test evidence of %s "
			   "cannot be read: %.200s; publish a valid inttest-results.json for it "
			   "(it is read again when the artifact changes)", c->tag7,
			   rel->evidence_error ? show(&why, rel->evidence_error) : "unknown reason");
	}
	return say(c, POLICY_INTTEST_MISSING, "no integration-test result for %s yet; "
		   "wait for the integration tests to publish it", c->tag7);
}

/* Evidence-stage sources were settled by the two checks before.  A
 * rollback is judged against the target's own history instead
 * (check_rollback). */
static enum policy_code check_source(struct ctx *c)
{
	if (c->rollback || !stage_is_deploy(c->source) ||
	    tag_in(&c->in->state[c->source], c->tag))
		return POLICY_ALLOW;
	return say(c, POLICY_NOT_IN_SOURCE, "%s was never promoted to %s (source of %s); "
		   "promote it to %s first", c->tag7, stage_name(c->source),
		   stage_name(c->target), stage_name(c->source));
}

/* "abc1234, def5678 and 3 more": the releases st ran, newest first,
 * except its current one; "" when there are none. */
static void rollback_targets(char *out, size_t size, const struct policy_stage_state *st)
{
	size_t len = 0, shown = 0, more = 0;

	out[0] = '\0';
	for (size_t i = 0; i < st->history_len; i++) {
		const char *t = st->history[i];
		bool dup = !t || (st->current && strcmp(t, st->current) == 0);

		for (size_t j = 0; j < i && !dup; j++)
			dup = st->history[j] && strcmp(st->history[j], t) == 0;
		if (dup)
			continue;
		if (shown == 8) {
			more++;
			continue;
		}
		if (len < size)
			len += (size_t)snprintf(out + len, size - len, "%s%.7s", shown ? ", " : "",
						t);
		shown++;
	}
	if (more && len < size)
		snprintf(out + len, size - len, " and %zu more", more);
}

static enum policy_code check_rollback(struct ctx *c)
{
	const struct policy_stage_state *st = &c->in->state[c->target];
	const char *tgt = stage_name(c->target);
	char could[160];

	if (!c->rollback)
		return POLICY_ALLOW;
	if (!st->current)
		return say(c, POLICY_ROLLBACK_TARGET, "cannot tell which release %s runs now "
			   "(its values file holds no release of this history), so there is "
			   "nothing to roll back from; request %s as an ordinary promotion",
			   tgt, c->tag7);
	if (!tag_in(st, c->tag)) {
		rollback_targets(could, sizeof could, st);
		if (!could[0])
			return say(c, POLICY_ROLLBACK_TARGET, "%s never ran %s, and has run no "
				   "release but its current one: there is nothing to roll back "
				   "to", tgt, c->tag7);
		return say(c, POLICY_ROLLBACK_TARGET, "%s never ran %s; a rollback may only go "
			   "back to a release %s ran before: %s", tgt, c->tag7, tgt, could);
	}
	c->d->rollback = true;
	strlcpy_(c->d->rolled_back_from, st->current, sizeof c->d->rolled_back_from);
	return POLICY_ALLOW;
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

/* ---- the two-person rule (issue 14 item 3) ---- */

/* s is one of the comma-separated principals in list (exactly, as
 * ssh-keygen prints them). */
static bool in_list(const char *list, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	for (const char *p = list; p && *p && n;) {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, s, n) == 0)
			return true;
		p += k;
		p += *p == ',';
	}
	return false;
}

static bool same_text(const char *a, const char *b, bool nocase)
{
	if (!a || !b || !*a || !*b)
		return false;
	return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

bool policy_approval_by_author(const struct policy_request *r, const struct policy_approval *a)
{
	return same_text(a->key, r->signer_key, false) ||
	       same_text(a->principal, r->signer, false) ||
	       in_list(r->signer_principals, a->principal) ||
	       in_list(a->principals, r->signer) ||
	       same_text(a->principal, r->author_email, true) ||
	       in_list(a->principals, r->author_email) ||
	       same_text(a->author_email, r->author_email, true);
}

bool policy_same_approver(const struct policy_approval *a, const struct policy_approval *b)
{
	return same_text(a->key, b->key, false) || same_text(a->principal, b->principal, false) ||
	       in_list(a->principals, b->principal) || in_list(b->principals, a->principal);
}

struct approval_tally {
	size_t counted[TRAILER_APPROVALS_MAX], ncounted;
	char uncounted[512];	/* "a1b2c3d (self-approval by x), ..." */
	size_t ulen;
};

/* what: "self-approval by ", arg (from outside) after it, or NULL */
static void uncount(struct approval_tally *t, const struct policy_approval *a,
		    const char *what, const char *arg, const char *after)
{
	struct shown sh;
	int n;

	if (t->ulen >= sizeof t->uncounted - 1)
		return;
	n = snprintf(t->uncounted + t->ulen, sizeof t->uncounted - t->ulen, "%s%.7s (%s%.100s%s)",
		     t->ulen ? ", " : "", a->commit, what, arg ? show(&sh, arg) : "", after);
	if (n > 0)
		t->ulen += (size_t)n < sizeof t->uncounted - t->ulen ? (size_t)n :
			   sizeof t->uncounted - t->ulen - 1;
}

static void tally(struct approval_tally *t, const struct policy_request *r)
{
	memset(t, 0, sizeof *t);
	/* oldest first, so the approver who came first is the one counted */
	for (size_t k = r->napprovals; k-- > 0;) {
		const struct policy_approval *a = &r->approvals[k];
		bool dup = false;

		if (a->sig == POLICY_SIG_UNCHECKED) {
			uncount(t, a, "signature not verified yet", NULL, "");
			continue;
		}
		if (a->sig != POLICY_SIG_GOOD || !a->principal || !*a->principal) {
			uncount(t, a, "not signed by an allowed signer", NULL, "");
			continue;
		}
		if (policy_approval_by_author(r, a)) {
			uncount(t, a, "self-approval by ", a->principal, "");
			continue;
		}
		for (size_t j = 0; j < t->ncounted && !dup; j++)
			dup = policy_same_approver(&r->approvals[t->counted[j]], a);
		if (dup) {
			uncount(t, a, "", a->principal, " approved already");
			continue;
		}
		if (t->ncounted < TRAILER_APPROVALS_MAX)
			t->counted[t->ncounted++] = k;
	}
}

static enum policy_code check_approvals(struct ctx *c)
{
	const struct policy_request *r = c->req;
	unsigned need = c->cfg->approvals;
	struct approval_tally t;
	struct shown who;

	if (!r || need == 0)
		return POLICY_ALLOW;
	tally(&t, r);
	if (t.ncounted >= need) {
		memcpy(c->d->approved, t.counted, t.ncounted * sizeof t.counted[0]);
		c->d->napproved = t.ncounted;
		return POLICY_ALLOW;
	}
	c->d->queue = c->cfg->queue;
	c->d->queue_until = 0;
	return say(c, POLICY_APPROVAL_REQUIRED, "%s requires %u approval%s by someone other "
		   "than the author, %zu given%s%s%s; the author (%.100s) cannot approve; "
		   "another allowed signer approves with: pipelinectl approve %.200s%s",
		   stage_name(c->target), need, need == 1 ? "" : "s", t.ncounted,
		   t.ulen ? " (not counted: " : "", t.uncounted, t.ulen ? ")" : "",
		   show(&who, r->signer && *r->signer ? r->signer :
			      r->author_email ? r->author_email : "unknown"),
		   r->branch, c->cfg->queue ? "; queued until then" : "");
}

/* ---- the source-stage gates (issue 13 item 6) ---- */

/* The market window as the target stage sees it: widened by its guard
 * bands when it has them. */
static const struct policy_window *gate_window(const struct ctx *c)
{
	const struct policy_window *q = &c->in->quiet[c->target];

	return q->text ? q : &c->in->window;
}

static void overrode_add(struct ctx *c, enum policy_code code)
{
	size_t n = strlen(c->d->overrode);

	snprintf(c->d->overrode + n, sizeof(c->d->overrode) - n, "%s%s", n ? ", " : "",
		 policy_code_name(code));
}

/* A gate that refuses: with a justified Break-Glass: it is overridden and
 * recorded instead. */
static bool overridden(struct ctx *c, enum policy_code code, bool and_soak)
{
	if (!c->req || trailer_text_blank(c->break_glass))
		return false;
	overrode_add(c, code);
	if (and_soak)
		overrode_add(c, POLICY_SOAK);
	return true;
}

/* Waiting cures it: queue (when the stage queues) until the earliest time
 * it could pass, which is no earlier than the close while the market is
 * open and the stage market-gated (Break-Glass has been ruled out). */
static void queue_for(struct ctx *c, int64_t until)
{
	const struct policy_window *w = gate_window(c);

	if (until && c->cfg->market_gated && w->open)
		until = w->close_time > until ? w->close_time : until;
	/* an automatic promotion waits until then whatever queue says */
	c->d->queue_until = until;
	c->d->queue = c->cfg->queue;
}

static const char *market_too(const struct ctx *c)
{
	return c->cfg->market_gated && gate_window(c)->open ? "; the market is open too" : "";
}

static enum policy_code check_deployed(struct ctx *c)
{
	const struct policy_deployed *dp;
	const char *src = stage_name(c->source), *tgt = stage_name(c->target);
	const char *cur;
	struct shown why;
	char since[40], ends[40], soak[32];
	int64_t end, left;

	/* a rollback's release passed them when it first ran here */
	if (!c->cfg->require_source_deployed || c->rollback)
		return POLICY_ALLOW;
	if (!stage_is_deploy(c->source)) {
		if (overridden(c, POLICY_SOURCE_UNKNOWN, false))
			return POLICY_ALLOW;
		return say(c, POLICY_SOURCE_UNKNOWN, "%s requires its source stage to run %s "
			   "deployed, but its source is %s, which Argo CD does not deploy; enable "
			   "a deploy stage before it or turn requireSourceDeployed off", tgt,
			   c->tag7, src);
	}
	dp = &c->in->deployed[c->source];
	if (dp->state == POLICY_DEPLOY_UNKNOWN) {
		if (overridden(c, POLICY_SOURCE_UNKNOWN, false))
			return POLICY_ALLOW;
		return say(c, POLICY_SOURCE_UNKNOWN, "what %s runs cannot be read from Argo CD "
			   "(%.200s), so %s's gate on it fails closed; it is checked again on the "
			   "next cycle, or add a Break-Glass: trailer to override", src,
			   dp->why && *dp->why ? show(&why, dp->why) : "no answer", tgt);
	}
	cur = c->in->state[c->source].current;
	if (!cur || strcmp(cur, c->tag) != 0) {
		if (overridden(c, POLICY_SOURCE_NOT_DEPLOYED, c->cfg->soak > 0))
			return POLICY_ALLOW;
		return say(c, POLICY_SOURCE_NOT_DEPLOYED, "%s runs %.7s, not %s; %s requires its "
			   "source to run the release deployed%s; promote %s to %s again, pick the "
			   "release %s runs, or add a Break-Glass: trailer to override", src,
			   cur ? cur : "nothing", c->tag7, tgt,
			   c->cfg->soak > 0 ? " for the soak time" : "", c->tag7, src, src);
	}
	if (dp->state != POLICY_DEPLOY_DEPLOYED) {
		if (overridden(c, POLICY_SOURCE_NOT_DEPLOYED, c->cfg->soak > 0))
			return POLICY_ALLOW;
		queue_for(c, 0);
		return say(c, POLICY_SOURCE_NOT_DEPLOYED, "%s is promoted to %s but Argo CD "
			   "does not run it deployed there (%s: %.200s)%s%s; add a Break-Glass: "
			   "trailer to override", c->tag7, src,
			   dp->verdict ? dp->verdict : "not deployed",
			   dp->why && *dp->why ? show(&why, dp->why) : "no reason given",
			   c->d->queue ? "; queued until it is" : "", market_too(c));
	}
	end = dp->since + c->cfg->soak;
	left = end - c->in->now;
	if (left <= 0)
		return POLICY_ALLOW;
	if (overridden(c, POLICY_SOAK, false))
		return POLICY_ALLOW;
	queue_for(c, end);
	/* times, not a countdown: the refusal note reads the same every
	 * cycle and is pushed once (queued_until gives the countdown) */
	clock_format_rfc3339(since, sizeof(since), (time_t)dp->since, c->in->window.utc_offset,
			     false);
	clock_format_rfc3339(ends, sizeof(ends), (time_t)end, c->in->window.utc_offset, false);
	clock_format_countdown(soak, sizeof(soak), c->cfg->soak);
	return say(c, POLICY_SOAK, "%s has run %s deployed since %s; %s requires a soak of %s, "
		   "which ends at %s%s%s; add a Break-Glass: trailer to override", src, c->tag7,
		   since, tgt, soak, ends, c->d->queue ? "; queued until then" : "",
		   market_too(c));
}

/* "2026-12-16 14:30 EST", in the market's zone */
static void freeze_time(char *out, size_t outsz, const struct ctx *c, int64_t t)
{
	struct tm tm;
	const struct tz_rule *tz = c->in->tz;

	if (!tz || tz_rule_localtime(&tm, NULL, tz, (time_t)t)) {
		char r[40];

		clock_format_rfc3339(r, sizeof r, (time_t)t, 0, true);
		snprintf(out, outsz, "%s", r);
		return;
	}
	if (tm.tm_sec)
		snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d:%02d %s", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 tz_rule_abbrev(tz, (time_t)t));
	else
		snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d %s", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tz_rule_abbrev(tz, (time_t)t));
}

/* A freeze declared in the repository (issue 14 item 1).  Break-Glass
 * passes only when every entry holding the stage allows it. */
static enum policy_code check_frozen(struct ctx *c)
{
	struct freeze_hold h;
	struct shown why;
	char until[48], others[48] = "";
	const char *id;
	bool bg = c->req && !trailer_text_blank(c->break_glass);

	freeze_holds(&h, c->in->freezes, c->target, c->in->now);
	if (!h.n)
		return POLICY_ALLOW;
	if (h.overridable && bg) {
		c->d->overrode_frozen = true;
		overrode_add(c, POLICY_FROZEN);
		return POLICY_ALLOW;
	}
	id = h.first->id;
	c->d->queue = c->cfg->queue;
	/* an automatic promotion waits for it whatever queue says */
	c->d->queue_until = h.until;
	if (h.until)
		freeze_time(until, sizeof until, c, h.until);
	if (h.n > 1)
		snprintf(others, sizeof others, " (and %zu more freezes)", h.n - 1);
	return say(c, POLICY_FROZEN, "%s (%s)%s until %s%s; %s%s%s", id,
		   show(&why, h.first->reason), others, h.until ? until : "lifted",
		   !c->d->queue ? "" : h.until ? "; queued until then" :
		   "; queued until it is lifted",
		   !h.overridable ? "it does not allow Break-Glass: lift it (pipelinectl freeze "
				    "--lift " : c->break_glass ?
		   "the Break-Glass: trailer has no visible text (only spaces or invisible "
		   "characters): give a justification to override" :
		   "add a Break-Glass: trailer to override", !h.overridable ? id : "",
		   !h.overridable ? ") or wait" : "");
}

static enum policy_code check_market(struct ctx *c)
{
	const struct policy_window *w = gate_window(c);
	const char *text = w->text && *w->text ? w->text : "market open";
	bool band = w != &c->in->window;
	bool queue;

	if (!c->cfg->market_gated || !w->open)
		return POLICY_ALLOW;
	if (!trailer_text_blank(c->break_glass)) {
		c->d->break_glass = true;
		overrode_add(c, POLICY_MARKET_OPEN);
		return POLICY_ALLOW;
	}
	/* no Break-Glass at all: a stray blank one still asks for a
	 * justification below */
	if (c->rollback && c->cfg->rollback_during_market && !c->break_glass) {
		c->d->rollback_allowance = true;
		overrode_add(c, POLICY_MARKET_OPEN);
		return POLICY_ALLOW;
	}
	queue = c->cfg->queue;
	c->d->queue = queue;
	/* an automatic promotion waits for it whatever queue says */
	c->d->queue_until = w->close_time;
	return say(c, POLICY_MARKET_OPEN, "blocked: %.200s%s; %s", text,
		   !queue ? "" : band ? "; queued until the quiet band ends" :
		   "; queued until the close",
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
	check_merge,
	check_orphan,
	check_off_branch,
	check_approval_shape,
	check_enabled,
	check_mode,
	check_files,
	check_tags,
	check_current,
	check_release,
	check_evidence,
	check_source,
	check_rollback,
	check_notes,
	check_signature,
	check_approvals,
	check_deployed,
	check_frozen,
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
			c->rollback = trailer_list_get(c->req->trailers, TRAILER_ROLLBACK);
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
	int n = c->d->rollback ?
		snprintf(c->d->message, sizeof(c->d->message), "allowed: roll %s back from "
			 "%.7s to %s", stage_name(c->target), c->d->rolled_back_from, c->tag7) :
		snprintf(c->d->message, sizeof(c->d->message), "allowed: promote %s: %s "
			 "from %s", stage_name(c->target), c->tag7, stage_name(c->source));

	if (c->d->rollback_allowance && n > 0 && (size_t)n < sizeof(c->d->message)) {
		snprintf(c->d->message + n, sizeof(c->d->message) - (size_t)n, " while the "
			 "market is open (%s's rollbackDuringMarket allowance)",
			 stage_name(c->target));
		return;
	}
	if (c->d->overrode[0] && n > 0 && (size_t)n < sizeof(c->d->message)) {
		struct buf j = BUF_INIT;
		bool window_only = strcmp(c->d->overrode, "market-open") == 0;

		buf_init(&j, TRAILER_JUSTIFICATION_MAX + 1);
		if (trailer_sanitize_value(&j, c->break_glass, TRAILER_JUSTIFICATION_MAX) == 0)
			snprintf(c->d->message + n, sizeof(c->d->message) - (size_t)n,
				 " with break-glass %s%s: %.300s", window_only ?
				 "while the market is open" : "overriding ",
				 window_only ? "" : c->d->overrode, j.data);
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

/* The decision policy_check leaves on ERR_INVALID: a refusal, so that a
 * caller reading it anyway (the planner's automatic promotion does) waits
 * with a reason instead of reading stack garbage or an empty, zero-coded
 * decision, which would read as POLICY_ALLOW. */
static int inconsistent(struct policy_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->code = POLICY_MALFORMED;
	snprintf(out->message, sizeof(out->message), "internal error: inconsistent policy input");
	return ERR_INVALID;
}

int policy_check(struct policy_decision *out, const struct policy_input *in)
{
	struct policy_decision d;
	struct ctx c;

	if (ctx_init(&c, in, &d) < 0)
		return inconsistent(out);
	d.code = check_malformed(&c);
	if (d.code == POLICY_ALLOW && ctx_target(&c) < 0)
		return inconsistent(out);
	for (size_t i = 0; i < ARRAY_SIZE(checks) && d.code == POLICY_ALLOW; i++)
		d.code = checks[i](&c);
	if (d.code == POLICY_ALLOW)
		say_allowed(&c);
	*out = d;
	return 0;
}

enum policy_code policy_check_shape(char *msg, size_t size, const struct policy_request *r,
				    enum stage target)
{
	static enum policy_code (*const shape[])(struct ctx *) = {
		check_merge, check_orphan, check_off_branch, check_approval_shape, check_mode,
	};
	struct policy_decision d;
	struct ctx c;
	enum policy_code code = POLICY_ALLOW;

	memset(&c, 0, sizeof c);
	memset(&d, 0, sizeof d);
	c.req = r;
	c.target = target;
	c.d = &d;
	for (size_t i = 0; i < ARRAY_SIZE(shape) && code == POLICY_ALLOW; i++)
		code = shape[i](&c);
	if (size)
		strlcpy_(msg, d.message, size);
	return code;
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
		if (!c[i].newer || c[i].rolled_back || !c[i].complete || !c[i].tag ||
		    !tag_is_sha1(c[i].tag, strlen(c[i].tag)))
			continue;
		if (cfg[STAGE_INTTEST].enabled && c[i].evidence != POLICY_EVIDENCE_PASSED &&
		    c[i].evidence != POLICY_EVIDENCE_UNPARSABLE)
			continue;
		if (stage_is_deploy(source) && !tag_in(&in->state[source], c[i].tag))
			continue;
		*out = i;
		return 0;
	}
	return ERR_NOTFOUND;
}
