/* engine_freeze.c - the freezes in force (issue 14 item 1): the freeze
 * file read at the tracked branch's tip in each scan (threadpool), the
 * last good parse kept when it stops parsing (loop thread), the status
 * document's view of it, and the re-check right before each push, against
 * the file on the very tip the push goes onto.
 *
 * A malformed file freezes nothing new: the last good parse stays in
 * force, and the error is logged once and shown in the status.  A daemon
 * started with a malformed file has no last good parse in memory, so the
 * scan looks back along the first-parent history for the newest commit
 * whose file parses (a commit without the file: nothing was frozen) and
 * uses that; if none is found within FREEZE_LOOKBACK commits it fails
 * closed: every deploy stage frozen, without Break-Glass, until the file
 * is fixed. */
#include "engine_int.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FREEZE_LOOKBACK 200	/* commits looked back for a good parse */

/* ---- threadpool ---- */

/* 0 and *out filled (an empty set when the file does not exist at rev),
 * or the parse error in err. */
static int read_at(struct freeze_set *out, struct gitops *g, const char *rev, const char *path,
		   struct buf *err)
{
	struct buf doc = BUF_INIT;
	int rc = gitops_read_file(&doc, g, rev, path);

	if (rc == ERR_NOTFOUND) {
		out->n = 0;
		rc = 0;
	} else if (rc) {
		buf_printf(err, "%s: cannot be read at %.7s: %s", path, rev, gitops_error(g));
	} else {
		rc = freeze_parse(out, doc.data ? doc.data : "", doc.len, path, err);
	}
	buf_release(&doc);
	return rc;
}

static void lookback(struct engine_scan *s, struct gitops *g, const char *path)
{
	char (*ids)[GITOPS_HEXSZ + 1] = NULL;
	size_t n = 0;

	if (gitops_first_parents(&ids, &n, g, s->tip, NULL, FREEZE_LOOKBACK + 1))
		n = 0;
	for (size_t i = 1; i < n; i++) {
		struct buf err = BUF_INIT;
		int rc;

		buf_init(&err, FREEZE_ERR_MAX);
		rc = read_at(s->freeze_back, g, ids[i], path, &err);
		buf_release(&err);
		if (rc == 0) {
			strlcpy_(s->freeze_back_at, ids[i], sizeof s->freeze_back_at);
			free(ids);
			return;
		}
	}
	free(ids);
	s->freeze_back->n = 0;
	s->freeze_closed = true;
}

void engine_freeze_scan(struct engine_scan *s, struct gitops *g, const struct config *cfg)
{
	const char *path = cfg->repository.freezes;
	struct buf err = BUF_INIT;

	if (!path || !(s->freeze = calloc(1, sizeof *s->freeze)))
		return;
	buf_init(&err, FREEZE_ERR_MAX);
	s->freeze_rc = read_at(s->freeze, g, s->tip, path, &err);
	if (s->freeze_rc) {
		size_t n;

		snprintf(s->freeze_err, sizeof s->freeze_err, "%s",
			 err.data ? err.data : "cannot be parsed");
		n = strlen(s->freeze_err);
		while (n && s->freeze_err[n - 1] == '\n')
			s->freeze_err[--n] = '\0';
		if (s->freeze_want_back && (s->freeze_back = calloc(1, sizeof *s->freeze_back)))
			lookback(s, g, path);
	}
	buf_release(&err);
}

/* ---- loop thread ---- */

static void set_in_force(struct engine *e, const struct freeze_set *s, const char *path)
{
	if (!e->freeze && !(e->freeze = calloc(1, sizeof *e->freeze)))
		return;
	*e->freeze = *s;
	strlcpy_(e->freeze_path, path, sizeof e->freeze_path);
}

/* Every deploy stage, no Break-Glass, until the file parses. */
static void fail_closed(struct engine *e, const char *path)
{
	struct freeze_set s;

	memset(&s, 0, sizeof s);
	s.n = 1;
	strlcpy_(s.e[0].id, "unreadable-freeze-file", sizeof s.e[0].id);
	s.e[0].all = true;
	for (int st = STAGE_BETA; st < STAGE_COUNT; st++)
		s.e[0].stages |= 1u << st;
	snprintf(s.e[0].reason, sizeof s.e[0].reason, "%.120s does not parse and no earlier "
		 "version does; fix it", path);
	set_in_force(e, &s, path);
}

static void log_set(const struct engine *e, const char *at)
{
	char ids[512] = "";
	size_t n = 0;

	for (size_t i = 0; i < e->freeze->n && n < sizeof ids; i++) {
		int k = snprintf(ids + n, sizeof ids - n, "%s%s", i ? ", " : "", e->freeze->e[i].id);
		if (k > 0)
			n += (size_t)k;
	}
	log_notice("freeze", "'%s' at %.7s: %zu freeze(s)%s%s%s", e->freeze_path, at,
		   e->freeze->n, n ? " (" : "", ids, n ? ")" : "");
}

void engine_freeze_update(struct engine *e)
{
	struct engine_scan *s = e->scan;
	const char *path = e->cfg->repository.freezes;

	if (!path) {
		free(e->freeze);
		e->freeze = NULL;
		e->freeze_error[0] = e->freeze_from[0] = e->freeze_path[0] = '\0';
		return;
	}
	if (strcmp(e->freeze_path, path) != 0) {
		/* another file: what was read from the old one means nothing */
		free(e->freeze);
		e->freeze = NULL;
		e->freeze_error[0] = e->freeze_from[0] = '\0';
	}
	if (!s || !s->freeze)
		return;
	if (s->freeze_rc == 0) {
		bool changed = !freeze_set_equal(e->freeze, s->freeze);

		if (e->freeze_error[0])
			log_notice("freeze", "'%s' at %.7s parses again", path, s->tip);
		e->freeze_error[0] = e->freeze_from[0] = '\0';
		set_in_force(e, s->freeze, path);
		if (changed && e->freeze)
			log_set(e, s->tip);
		return;
	}
	if (strcmp(e->freeze_error, s->freeze_err) != 0) {
		strlcpy_(e->freeze_error, s->freeze_err, sizeof e->freeze_error);
		e->freeze_error_at = (int64_t)time(NULL);
		e->freeze_logged = false;
	}
	if (!e->freeze && s->freeze_back) {
		if (s->freeze_closed) {
			fail_closed(e, path);
			snprintf(e->freeze_from, sizeof e->freeze_from, "no version of the file in "
				 "the last %d commits parses: every stage is frozen until it is "
				 "fixed", FREEZE_LOOKBACK);
		} else {
			set_in_force(e, s->freeze_back, path);
			snprintf(e->freeze_from, sizeof e->freeze_from, "the freezes of %.12s, the "
				 "newest commit where it parses, are in force", s->freeze_back_at);
		}
	} else if (e->freeze && !e->freeze_from[0]) {
		snprintf(e->freeze_from, sizeof e->freeze_from, "the last good version stays in "
			 "force");
	}
	if (!e->freeze_logged) {
		/* once per error text, not every cycle; one journal line */
		char one[FREEZE_ERR_MAX];

		strlcpy_(one, e->freeze_error, sizeof one);
		for (char *p = one; (p = strchr(p, '\n')); )
			*p = ';';
		log_err("freeze", "'%s' at %.7s cannot be parsed, nothing new is frozen and %s: %s",
			path, s->tip, e->freeze_from[0] ? e->freeze_from : "nothing is in force",
			one);
		e->freeze_logged = true;
	}
}

const struct freeze_set *engine_freezes(const struct engine *e)
{
	return e->cfg->repository.freezes ? e->freeze : NULL;
}

/* ---- the re-check before each push ---- */

int engine_freeze_peek_cb(void *data, const char *doc, size_t len)
{
	struct engine_action *a = data;

	if (!a->fresh)
		return 0;
	a->fresh_rc = doc ? freeze_parse(a->fresh, doc, len, a->freeze_path, NULL) :
		      (a->fresh->n = 0, 0);
	a->fresh_read = true;
	return 0;
}

int engine_freeze_gate(const struct engine_action *a, struct buf *err)
{
	const struct freeze_set *s = a->fresh_read && a->fresh_rc == 0 ? a->fresh :
				     engine_freezes(a->e);
	struct freeze_hold h;

	if (!a->freeze_path[0] || !s)
		return 0;
	freeze_holds(&h, s, a->stage, (int64_t)time(NULL));
	if (!h.n || (h.overridable && a->freeze_break_glass))
		return 0;
	buf_printf(err, "%s is frozen (%s: %.200s): a promotion without a break-glass it "
		   "allows is not pushed", stage_name(a->stage), h.first->id, h.first->reason);
	return -1;
}

/* ---- the status document ---- */

static json_t *entry_json(const struct freeze_entry *fe, int64_t now)
{
	char st[64], a[40], z[40];
	json_t *stages = json_array();

	for (int s = STAGE_BETA; s < STAGE_COUNT && stages; s++)
		if (fe->stages & (1u << s))
			json_array_append_new(stages, json_string(stage_name((enum stage)s)));
	freeze_stages_text(st, sizeof st, fe);
	if (fe->has_start)
		clock_format_rfc3339(a, sizeof a, (time_t)fe->start, 0, true);
	if (fe->has_end)
		clock_format_rfc3339(z, sizeof z, (time_t)fe->end, 0, true);
	return json_pack("{s:s, s:o, s:b, s:o, s:o, s:s, s:b, s:b, s:i}", "id", fe->id,
			 "stages", stages ? stages : json_array(), "all", fe->all,
			 "start", fe->has_start ? json_string(a) : json_null(),
			 "end", fe->has_end ? json_string(z) : json_null(), "reason", fe->reason,
			 "break_glass", fe->break_glass,
			 "active", (!fe->has_start || fe->start <= now) && (!fe->has_end ||
									    now < fe->end),
			 "line", (json_int_t)fe->line);
}

json_t *engine_freeze_json(const struct engine *e, int64_t now)
{
	const struct freeze_set *s = engine_freezes(e);
	json_t *active = json_array(), *upcoming = json_array();
	char at[40];

	for (size_t i = 0; s && active && upcoming && i < s->n; i++) {
		const struct freeze_entry *fe = &s->e[i];

		if (fe->has_end && fe->end <= now)
			continue;	/* over: nothing to show but the file */
		json_array_append_new(fe->has_start && fe->start > now ? upcoming : active,
				      entry_json(fe, now));
	}
	clock_format_rfc3339(at, sizeof at, (time_t)e->freeze_error_at, 0, true);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			 "file", e->cfg->repository.freezes ?
			 json_string(e->cfg->repository.freezes) : json_null(),
			 "active", active ? active : json_array(),
			 "upcoming", upcoming ? upcoming : json_array(),
			 "error", e->freeze_error[0] ? json_string(e->freeze_error) : json_null(),
			 "error_at", e->freeze_error[0] ? json_string(at) : json_null(),
			 "in_force", e->freeze_from[0] ? json_string(e->freeze_from) : json_null());
}
