/* ctl_window.c - pipelinectl window: is the market window open, why, and
 * when does it change.  Reads the zone rule and the calendar through the
 * clock_load_* edge; everything else is the pure clock module. */
#include "clock_load.h"
#include "config.h"
#include "ctl.h"
#include "freeze.h"
#include "gitops.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct window_args {
	const char *at, *calendar;
	bool json;
};

static const char window_usage[] =
	"usage: pipelinectl window [--at RFC3339] [--calendar FILE] [--json]\n";

static int parse_args(struct window_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int r;

		if (strcmp(argv[i], "--json") == 0) {
			a->json = true;
			continue;
		}
		if ((r = ctl_opt_value(&a->at, argc, argv, &i, "--at")) ||
		    (r = ctl_opt_value(&a->calendar, argc, argv, &i, "--calendar"))) {
			if (r < 0) {
				fprintf(stderr, "pipelinectl window: '%s' needs a value\n", argv[i]);
				return -1;
			}
			continue;
		}
		fprintf(stderr, "pipelinectl window: unknown argument '%s'\n%s", argv[i],
			window_usage);
		return -1;
	}
	return 0;
}

/* Parser errors come as complete "file:line: message" lines and are printed
 * as they are; a single message gets the command's prefix. */
static void print_err(const char *what, const struct buf *err)
{
	const char *msg = err->data && *err->data ? err->data : "unknown error";
	size_t n = strlen(msg);

	if (msg[n - 1] == '\n')
		fputs(msg, stderr);
	else
		fprintf(stderr, "pipelinectl window: %s%s\n", what, msg);
}

static void fmt_local(char *out, size_t outsz, const struct tm *tm, const char *zone)
{
	static const char *wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

	snprintf(out, outsz, "%s %04d-%02d-%02d %02d:%02d:%02d %s", wdays[tm->tm_wday % 7],
		 tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
		 tm->tm_sec, zone);
}

/* Outside the covered years the exchange's rules still give every holiday
 * and early close; what nobody can know is a closure announced for one day
 * (a day of mourning), so that is all the warning says. */
static void warning_text(char *out, size_t outsz, const struct window *w,
			 const struct calendar *cal)
{
	snprintf(out, outsz,
		 "%04d-%02d-%02d is outside the calendar's years %d-%d; holidays and early "
		 "closes follow the exchange's rules, closures announced for that year are "
		 "unknown",
		 w->local.tm_year + 1900, w->local.tm_mon + 1, w->local.tm_mday, cal->first_year,
		 cal->last_year);
}

static int print_json(const struct window *w, const struct calendar *cal, const char *calpath,
		      json_t *bands, json_t *freezes)
{
	char t[64], reason[CAL_NAME_MAX + 32], market[CAL_NAME_MAX + 64], warn[200];
	json_t *o = json_object();
	int rc;

	if (!o) {
		json_decref(bands);
		return 2;
	}
	clock_format_reason(reason, sizeof(reason), w);
	clock_format_trailer(market, sizeof(market), w);
	json_object_set_new(o, "open", json_boolean(w->open));
	json_object_set_new(o, "reason", json_string(reason));
	json_object_set_new(o, "reason_code", json_string(clock_reason_code(w->reason)));
	if (w->day_name[0])
		json_object_set_new(o, "day_name", json_string(w->day_name));
	json_object_set_new(o, "market", json_string(market));
	clock_format_rfc3339(t, sizeof(t), w->now, 0, true);
	json_object_set_new(o, "now", json_string(t));
	clock_format_rfc3339(t, sizeof(t), w->now, w->utc_offset, false);
	json_object_set_new(o, "local_time", json_string(t));
	json_object_set_new(o, "zone", json_string(w->zone));
	clock_format_rfc3339(t, sizeof(t), w->next_change, 0, true);
	json_object_set_new(o, "next_change", json_string(t));
	clock_format_rfc3339(t, sizeof(t), w->next_open, 0, true);
	json_object_set_new(o, "next_open", json_string(t));
	clock_format_rfc3339(t, sizeof(t), w->next_close, 0, true);
	json_object_set_new(o, "next_close", json_string(t));
	json_object_set_new(o, "seconds_to_change", json_integer((json_int_t)(w->next_change - w->now)));
	json_object_set_new(o, "calendar", json_string(calpath));
	if (w->beyond_calendar) {
		warning_text(warn, sizeof(warn), w, cal);
		json_object_set_new(o, "warning", json_string(warn));
	}
	if (bands)	/* guard bands, only when a stage has them */
		json_object_set_new(o, "quiet", bands);
	if (freezes)	/* only with [repository] freezes */
		json_object_set_new(o, "freezes", freezes);
	rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc)
		return 2;
	fputc('\n', stdout);
	return 0;
}

static void print_human(const struct window *w, const struct calendar *cal)
{
	char status[CAL_NAME_MAX + 160], reason[CAL_NAME_MAX + 32], t[64], z[64], warn[200];

	clock_format_status(status, sizeof(status), w);
	clock_format_reason(reason, sizeof(reason), w);
	printf("Market:      %s\n", status);
	printf("Why:         %s\n", reason);
	fmt_local(t, sizeof(t), &w->local, w->zone);
	clock_format_rfc3339(z, sizeof(z), w->now, 0, true);
	printf("New York:    %s (%s)\n", t, z);
	fmt_local(t, sizeof(t), &w->close_local, w->close_zone);
	clock_format_rfc3339(z, sizeof(z), w->next_close, 0, true);
	printf("Next close:  %s (%s)\n", t, z);
	fmt_local(t, sizeof(t), &w->open_local, w->open_zone);
	clock_format_rfc3339(z, sizeof(z), w->next_open, 0, true);
	printf("Next open:   %s (%s)\n", t, z);
	if (w->beyond_calendar) {
		warning_text(warn, sizeof(warn), w, cal);
		fprintf(stderr, "pipelinectl window: warning: %s\n", warn);
	}
}

/* Guard bands (issue 14 item 2): each market-gated stage with quietBefore
 * or quietAfter, and its quiet span at (or after) now. */
struct band_view {
	enum stage st;
	struct clock_bands b;
	struct clock_quiet q;
};

static size_t bands_of(struct band_view *out, const struct config *cfg, time_t now,
		       const struct tz_rule *tz, const struct calendar *cal,
		       const struct market_hours *hours)
{
	size_t n = 0;

	for (int st = STAGE_BETA; cfg && st < STAGE_COUNT; st++) {
		const struct config_stage *cs = &cfg->stages[st];
		struct band_view *v = &out[n];

		if (!cs->enabled || !cs->market_gated || (!cs->quiet_before_ms && !cs->quiet_after_ms))
			continue;
		v->st = (enum stage)st;
		v->b.before_s = (int64_t)(cs->quiet_before_ms / 1000);
		v->b.after_s = (int64_t)(cs->quiet_after_ms / 1000);
		if (clock_quiet(&v->q, now, tz, cal, hours, &v->b) == 0)
			n++;
	}
	return n;
}

static void band_local(char *out, size_t outsz, const struct tz_rule *tz, time_t t)
{
	struct tm tm;

	/* tm is unwritten when t is past what the rule computes: UTC then,
	 * as policy's freeze_time() does */
	if (tz_rule_localtime(&tm, NULL, tz, t)) {
		clock_format_rfc3339(out, outsz, t, 0, true);
		return;
	}
	fmt_local(out, outsz, &tm, tz_rule_abbrev(tz, t));
}

static void print_bands(const struct band_view *v, size_t n, const struct tz_rule *tz)
{
	char from[64], until[64], bef[32], aft[32];

	for (size_t i = 0; i < n; i++) {
		band_local(from, sizeof(from), tz, v[i].q.from);
		band_local(until, sizeof(until), tz, v[i].q.until);
		clock_format_countdown(bef, sizeof(bef), v[i].b.before_s);
		clock_format_countdown(aft, sizeof(aft), v[i].b.after_s);
		printf("Quiet %-6s %s: %s to %s (%s before the open, %s after the close)\n",
		       stage_name(v[i].st), v[i].q.in ? "now" : "next", from, until, bef, aft);
	}
}

static json_t *bands_json(const struct band_view *v, size_t n)
{
	json_t *a = json_array();
	char from[40], until[40];

	for (size_t i = 0; a && i < n; i++) {
		clock_format_rfc3339(from, sizeof(from), v[i].q.from, 0, true);
		clock_format_rfc3339(until, sizeof(until), v[i].q.until, 0, true);
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:b, s:s, s:s}",
						   "stage", stage_name(v[i].st),
						   "quiet_before_s", (json_int_t)v[i].b.before_s,
						   "quiet_after_s", (json_int_t)v[i].b.after_s,
						   "quiet", v[i].q.in, "from", from, "until", until));
	}
	return a;
}

/* Freezes (issue 14 item 1): the freeze file on the tracked branch, read
 * like pipelinectl log reads the repository; the entries in force at now
 * and those still to come. */
struct freeze_view {
	struct freeze_set s;
	bool have;
	char tip[GITOPS_HEXSZ + 1];
};

static void freezes_read(struct freeze_view *v, const struct config *cfg)
{
	struct ctl_git cg;
	struct buf doc = BUF_INIT, err = BUF_INIT;
	int rc;

	if (!cfg || !cfg->repository.freezes || gitops_global_init())
		return;
	if (ctl_git_configured(&cg, cfg, "pipelinectl window") == 0) {
		rc = gitops_read_file(&doc, cg.g, cg.rev, cfg->repository.freezes);
		buf_init(&err, FREEZE_ERR_MAX);
		if (rc == ERR_NOTFOUND)
			v->have = true;
		else if (rc)
			fprintf(stderr, "pipelinectl window: %s\n", gitops_error(cg.g));
		else if (freeze_parse(&v->s, doc.data ? doc.data : "", doc.len,
				      cfg->repository.freezes, &err) == 0)
			v->have = true;
		else
			fprintf(stderr, "pipelinectl window: the freeze file at %.7s does not parse "
				"(the daemon keeps its last good version):\n%s", cg.tip,
				err.data ? err.data : "");
		strlcpy_(v->tip, cg.tip, sizeof v->tip);
	}
	/* a failed ctl_git_configured() may still hold the mirror it opened
	 * and its temporary directory; it empties cg first, so this is safe */
	ctl_git_close(&cg);
	buf_release(&doc);
	buf_release(&err);
	gitops_global_shutdown();
}

/* Shown: in force at now, or still to come. */
static bool freeze_shown(const struct freeze_entry *e, time_t now, bool *active)
{
	*active = !e->has_start || e->start <= (int64_t)now;
	return !e->has_end || e->end > (int64_t)now;
}

static void print_freezes(const struct freeze_view *v, time_t now, const struct tz_rule *tz)
{
	char st[64], from[64], until[64];
	bool active;

	for (size_t i = 0; v->have && i < v->s.n; i++) {
		const struct freeze_entry *e = &v->s.e[i];

		if (!freeze_shown(e, now, &active))
			continue;
		freeze_stages_text(st, sizeof(st), e);
		if (e->has_start)
			band_local(from, sizeof(from), tz, (time_t)e->start);
		if (e->has_end)
			band_local(until, sizeof(until), tz, (time_t)e->end);
		else
			snprintf(until, sizeof(until), "lifted");
		printf("%-8s %s  %s%s%suntil %s: %s (%s), break-glass %s\n",
		       active ? "Frozen" : "Freeze", st, active ? "" : "from ",
		       active ? "" : e->has_start ? from : "", active ? "" : " ", until, e->id,
		       e->reason, e->break_glass ? "allowed" : "denied");
	}
}

static json_t *freezes_json(const struct freeze_view *v, time_t now)
{
	json_t *a = json_array();
	char from[40], until[40];
	bool active;

	for (size_t i = 0; a && v->have && i < v->s.n; i++) {
		const struct freeze_entry *e = &v->s.e[i];
		json_t *stages = json_array();

		if (!freeze_shown(e, now, &active))
			continue;
		for (int st = STAGE_BETA; stages && st < STAGE_COUNT; st++)
			if (e->stages & (1u << st))
				json_array_append_new(stages, json_string(stage_name((enum stage)st)));
		if (e->has_start)
			clock_format_rfc3339(from, sizeof(from), (time_t)e->start, 0, true);
		if (e->has_end)
			clock_format_rfc3339(until, sizeof(until), (time_t)e->end, 0, true);
		json_array_append_new(a, json_pack("{s:s, s:o, s:b, s:o, s:o, s:s, s:b, s:b}",
						   "id", e->id, "stages", stages ? stages : json_array(),
						   "all", e->all, "start", e->has_start ?
						   json_string(from) : json_null(), "end",
						   e->has_end ? json_string(until) : json_null(),
						   "reason", e->reason, "break_glass", e->break_glass,
						   "active", active));
	}
	return a;
}

int cmd_window(int argc, char **argv, const struct ctl_opts *opts)
{
	struct window_args a = { .at = NULL, .calendar = NULL, .json = opts->json };
	struct market_hours hours = { CLOCK_DEFAULT_OPEN, CLOCK_DEFAULT_CLOSE };
	struct buf err = BUF_INIT, calpath = BUF_INIT;
	struct calendar cal = { 0 };
	struct tz_rule tz;
	struct window w;
	struct config *cfg = NULL;
	time_t now = time(NULL);
	struct band_view bv[STAGE_COUNT];
	static struct freeze_view fv;
	size_t nb;
	int rc = 2;

	if (parse_args(&a, argc, argv))
		return 2;
	if (a.at && clock_parse_rfc3339(&now, a.at, &err)) {
		print_err("--at: ", &err);
		goto out;
	}
	if (ctl_load_config(&cfg, opts))
		goto out;
	if (cfg) {
		hours.open_min = cfg->market.open_min;
		hours.close_min = cfg->market.close_min;
		if (!a.calendar)
			a.calendar = cfg->market.calendar;
	}
	if (clock_load_tz(&tz, NULL, cfg ? cfg->market.timezone : NULL, &err)) {
		print_err("", &err);
		goto out;
	}
	if (clock_load_calendar(&cal, &calpath, a.calendar, &err)) {
		print_err("", &err);
		goto out;
	}
	if (clock_window(&w, now, &tz, &cal, &hours)) {
		fprintf(stderr, "pipelinectl window: cannot evaluate the window at '%s'\n",
			a.at ? a.at : "now");
		goto out;
	}
	nb = bands_of(bv, cfg, now, &tz, &cal, &hours);
	freezes_read(&fv, cfg);
	if (a.json)
		rc = print_json(&w, &cal, calpath.data, nb ? bands_json(bv, nb) : NULL,
				fv.have ? freezes_json(&fv, now) : NULL);
	else {
		print_human(&w, &cal);
		print_bands(bv, nb, &tz);
		print_freezes(&fv, now, &tz);
		rc = 0;
	}
out:
	config_free(cfg);
	calendar_release(&cal);
	buf_release(&err);
	buf_release(&calpath);
	return rc;
}
