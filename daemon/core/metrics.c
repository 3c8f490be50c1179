/* metrics.c - see metrics.h */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct series {
	struct series *next;
	char *values[METRICS_MAX_LABELS];
	double value;			/* a histogram's: its sum */
	uint64_t count;			/* histograms: observations ... */
	uint64_t buckets[METRICS_MAX_BUCKETS];	/* ... and per bucket (not cumulative) */
};

struct metric_family {
	struct metrics *owner;
	enum metric_type type;
	char *name;
	char *help;
	char *labels[METRICS_MAX_LABELS];
	size_t nlabels;
	double bounds[METRICS_MAX_BUCKETS];	/* histograms */
	size_t nbounds;
	struct series *head, *tail;
};

struct metrics {
	struct metric_family *families[METRICS_MAX_FAMILIES];
	size_t nfamilies;
	size_t nseries;
	size_t max_series;
};

struct metrics *metrics_new(size_t max_series)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m)
		m->max_series = max_series ? max_series : METRICS_DEFAULT_MAX_SERIES;
	return m;
}

static void series_free(struct series *s, size_t nlabels)
{
	for (size_t i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s);
}

static void family_free(struct metric_family *f)
{
	struct series *s, *next;

	if (!f)
		return;
	for (s = f->head; s; s = next) {
		next = s->next;
		series_free(s, f->nlabels);
	}
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfamilies; i++)
		family_free(m->families[i]);
	free(m);
}

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s || strlen(s) > 200)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
			     || (colon && c == ':');

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool family_names_ok(enum metric_type type, const char *name,
			    const char *const *labels, size_t *nlabels)
{
	size_t n = 0;

	if (!name_ok(name, true) || (type == METRIC_COUNTER && !ends_with(name, "_total")))
		return false;
	for (; labels && labels[n]; n++) {
		if (n == METRICS_MAX_LABELS || !name_ok(labels[n], false)
		    || strncmp(labels[n], "__", 2) == 0)
			return false;
		for (size_t j = 0; j < n; j++)
			if (strcmp(labels[j], labels[n]) == 0)
				return false;
	}
	*nlabels = n;
	return true;
}

static struct metric_family *family_find(const struct metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nfamilies; i++)
		if (strcmp(m->families[i]->name, name) == 0)
			return m->families[i];
	return NULL;
}

int metrics_family(struct metric_family **out, struct metrics *m,
		   enum metric_type type, const char *name, const char *help,
		   const char *const *labels)
{
	struct metric_family *f;
	size_t nlabels;

	if (!family_names_ok(type, name, labels, &nlabels) || family_find(m, name))
		return ERR_INVALID;
	if (m->nfamilies == METRICS_MAX_FAMILIES)
		return ERR_TOOBIG;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ERR_NOMEM;
	f->owner = m;
	f->type = type;
	f->nlabels = nlabels;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	for (size_t i = 0; i < nlabels; i++)
		if (!(f->labels[i] = strdup(labels[i])))
			break;
	if (!f->name || !f->help || (nlabels && !f->labels[nlabels - 1])) {
		family_free(f);
		return ERR_NOMEM;
	}
	m->families[m->nfamilies++] = f;
	*out = f;
	return 0;
}

/* Prometheus reads label values as UTF-8; refuse anything else rather than
 * emit a page a scraper rejects as a whole. */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n;
		uint32_t cp;

		if (*s < 0x80) {
			s++;
			continue;
		} else if ((*s & 0xe0) == 0xc0) {
			n = 1, cp = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2, cp = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3, cp = *s & 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
		    || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

static int values_check(const struct metric_family *f, const char *const *values)
{
	for (size_t i = 0; i < f->nlabels; i++)
		if (!values || !values[i] || strlen(values[i]) > METRICS_LABEL_VALUE_MAX
		    || !utf8_ok((const unsigned char *)values[i]))
			return ERR_INVALID;
	return 0;
}

static struct series *series_find(const struct metric_family *f, const char *const *values)
{
	for (struct series *s = f->head; s; s = s->next) {
		size_t i = 0;

		while (i < f->nlabels && strcmp(s->values[i], values[i]) == 0)
			i++;
		if (i == f->nlabels)
			return s;
	}
	return NULL;
}

static int series_get(struct series **out, struct metric_family *f, const char *const *values)
{
	struct series *s;
	int rc = values_check(f, values);

	if (rc)
		return rc;
	if ((s = series_find(f, values))) {
		*out = s;
		return 0;
	}
	if (f->owner->nseries >= f->owner->max_series)
		return ERR_TOOBIG;
	if (!(s = calloc(1, sizeof(*s))))
		return ERR_NOMEM;
	for (size_t i = 0; i < f->nlabels; i++)
		if (!(s->values[i] = strdup(values[i]))) {
			series_free(s, f->nlabels);
			return ERR_NOMEM;
		}
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	f->owner->nseries++;
	*out = s;
	return 0;
}

int metrics_histogram(struct metric_family **out, struct metrics *m, const char *name,
		      const char *help, const char *const *labels, const double *bounds,
		      size_t nbounds)
{
	struct metric_family *f;
	int rc;

	if (!bounds || nbounds == 0 || nbounds > METRICS_MAX_BUCKETS)
		return ERR_INVALID;
	for (size_t i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			return ERR_INVALID;
	for (size_t i = 0; labels && labels[i]; i++)
		if (strcmp(labels[i], "le") == 0)
			return ERR_INVALID;
	if ((rc = metrics_family(&f, m, METRIC_HISTOGRAM, name, help, labels)))
		return rc;
	memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
	f->nbounds = nbounds;
	*out = f;
	return 0;
}

int metrics_observe(struct metric_family *f, const char *const *values, double v)
{
	struct series *s;
	size_t i = 0;
	int rc;

	if (f->type != METRIC_HISTOGRAM || isnan(v))
		return ERR_INVALID;
	if ((rc = series_get(&s, f, values)))
		return rc;
	while (i < f->nbounds && v > f->bounds[i])
		i++;
	if (i < f->nbounds)
		s->buckets[i]++;
	s->count++;
	s->value += v;
	return 0;
}

int metrics_add(struct metric_family *f, const char *const *values, double delta)
{
	struct series *s;
	int rc;

	if (f->type == METRIC_HISTOGRAM || isnan(delta) || (f->type == METRIC_COUNTER && delta < 0))
		return ERR_INVALID;
	rc = series_get(&s, f, values);
	if (rc)
		return rc;
	s->value += delta;
	return 0;
}

int metrics_set(struct metric_family *f, const char *const *values, double value)
{
	struct series *s;
	int rc;

	if (f->type != METRIC_GAUGE)
		return ERR_INVALID;
	rc = series_get(&s, f, values);
	if (rc)
		return rc;
	s->value = value;
	return 0;
}

int metrics_get(double *out, const struct metric_family *f, const char *const *values)
{
	const struct series *s;

	if (values_check(f, values))
		return ERR_INVALID;
	s = series_find(f, values);
	if (!s)
		return ERR_NOTFOUND;
	*out = f->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
	return 0;
}

/* HELP text escapes backslash and newline; label values also the quote. */
static int add_escaped(struct buf *out, const char *s, bool quote)
{
	int rc = 0;

	for (; *s && !rc; s++) {
		if (*s == '\\')
			rc = buf_adds(out, "\\\\");
		else if (*s == '\n')
			rc = buf_adds(out, "\\n");
		else if (quote && *s == '"')
			rc = buf_adds(out, "\\\"");
		else
			rc = buf_addch(out, *s);
	}
	return rc;
}

static int add_value(struct buf *out, double v)
{
	if (isnan(v))
		return buf_adds(out, "NaN");
	if (isinf(v))
		return buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	/* Integral values (counts, unix seconds) print without an exponent. */
	if (fabs(v) < 9007199254740992.0 && v == floor(v))
		return buf_printf(out, "%.0f", v);
	return buf_printf(out, "%.17g", v);
}

/* One sample line: name+suffix{labels[,le="le"]} value. */
static int render_line(struct buf *out, const struct metric_family *f, const struct series *s,
		       const char *suffix, const double *le, double value)
{
	int rc = buf_printf(out, "%s%s", f->name, suffix);

	for (size_t i = 0; i < f->nlabels && !rc; i++) {
		rc = buf_printf(out, "%s%s=\"", i ? "," : "{", f->labels[i]);
		if (!rc)
			rc = add_escaped(out, s->values[i], true);
		if (!rc)
			rc = buf_addch(out, '"');
	}
	if (!rc && le) {
		rc = buf_adds(out, f->nlabels ? ",le=\"" : "{le=\"");
		if (!rc)
			rc = add_value(out, *le);
		if (!rc)
			rc = buf_addch(out, '"');
	}
	if (!rc && (f->nlabels || le))
		rc = buf_addch(out, '}');
	if (!rc)
		rc = buf_addch(out, ' ');
	if (!rc)
		rc = add_value(out, value);
	if (!rc)
		rc = buf_addch(out, '\n');
	return rc;
}

static int render_series(struct buf *out, const struct metric_family *f,
			 const struct series *s)
{
	const double inf = INFINITY;
	uint64_t cum = 0;
	int rc = 0;

	if (f->type != METRIC_HISTOGRAM)
		return render_line(out, f, s, "", NULL, s->value);
	for (size_t i = 0; i < f->nbounds && !rc; i++) {
		cum += s->buckets[i];
		rc = render_line(out, f, s, "_bucket", &f->bounds[i], (double)cum);
	}
	if (!rc)
		rc = render_line(out, f, s, "_bucket", &inf, (double)s->count);
	if (!rc)
		rc = render_line(out, f, s, "_sum", NULL, s->value);
	if (!rc)
		rc = render_line(out, f, s, "_count", NULL, (double)s->count);
	return rc;
}

static int render_family(struct buf *out, const struct metric_family *f)
{
	static const struct series zero;
	int rc = buf_printf(out, "# HELP %s ", f->name);

	if (!rc)
		rc = add_escaped(out, f->help, false);
	if (!rc)
		rc = buf_printf(out, "\n# TYPE %s %s\n", f->name,
				f->type == METRIC_COUNTER ? "counter" :
				f->type == METRIC_HISTOGRAM ? "histogram" : "gauge");
	/* An unlabelled family always has its one series, starting at 0, so
	 * that rate() works from the first scrape. */
	if (!rc && !f->head && f->nlabels == 0)
		rc = render_series(out, f, &zero);
	for (const struct series *s = f->head; s && !rc; s = s->next)
		rc = render_series(out, f, s);
	return rc;
}

int metrics_render(struct buf *out, const struct metrics *m)
{
	int rc = 0;

	for (size_t i = 0; i < m->nfamilies && !rc; i++)
		rc = render_family(out, m->families[i]);
	return rc;
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

int metrics_std_declare(struct metrics_std *out, struct metrics *m)
{
	struct metrics_std s;
	const struct {
		struct metric_family **slot;
		enum metric_type type;
		const char *name, *help;
		const char *const *labels;
	} decl[] = {
		{ &s.cycles, METRIC_COUNTER, "pipelined_cycles_total",
		  "Discovery and promotion cycles run.", NULL },
		{ &s.registry_requests, METRIC_COUNTER, "pipelined_registry_requests_total",
		  "Registry HTTP requests by result.", L("result") },
		{ &s.promotions, METRIC_COUNTER, "pipelined_promotions_total",
		  "Promotions committed, by target stage.", L("stage") },
		{ &s.refusals, METRIC_COUNTER, "pipelined_refusals_total",
		  "Promotion requests refused, by stage and reason code.", L("stage", "code") },
		{ &s.last_success, METRIC_GAUGE, "pipelined_last_success_timestamp_seconds",
		  "Unix time of the last successful operation per subsystem.", L("subsystem") },
		{ &s.queue_length, METRIC_GAUGE, "pipelined_queue_length",
		  "Promotion requests waiting.", NULL },
		{ &s.market_open, METRIC_GAUGE, "pipelined_market_open",
		  "1 while the market window is open, else 0.", NULL },
		{ &s.webhooks, METRIC_COUNTER, "pipelined_webhook_deliveries_total",
		  "GitHub webhook deliveries by outcome.", L("result") },
		{ &s.stage_blocked, METRIC_GAUGE, "pipelined_stage_blocked",
		  "1 while a deploy stage is blocked by a permanent error, else 0.",
		  L("stage") },
		{ &s.stage_deployed, METRIC_GAUGE, "pipelined_stage_deployed",
		  "1 for Argo CD's current verdict on a deploy stage (deployed, progressing, "
		  "out-of-sync, degraded, sync-failed, unknown), 0 for the others.",
		  L("stage", "verdict") },
		{ &s.stage_sync, METRIC_GAUGE, "pipelined_stage_sync",
		  "1 for the sync status Argo CD reports for a deploy stage's Application "
		  "(Synced, OutOfSync, Unknown), 0 for the others; all 0 while it cannot be read.",
		  L("stage", "status") },
		{ &s.stage_health, METRIC_GAUGE, "pipelined_stage_health",
		  "1 for the health Argo CD reports for a deploy stage's Application (Healthy, "
		  "Progressing, Degraded, Suspended, Missing, Unknown), 0 for the others; all 0 "
		  "while it cannot be read.", L("stage", "status") },
		{ &s.requests_waiting, METRIC_GAUGE, "pipelined_requests_waiting",
		  "Request branches past the [requests] bounds, refused as queue-full until a "
		  "slot frees up.", NULL },
	};

	/* seconds to hours: a rollout of a few seconds up to a promotion left
	 * out of sync over a weekend (past 8 h it is in +Inf) */
	static const double c2h[] = { 1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600,
				      7200, 14400, 28800 };
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(decl); i++) {
		rc = metrics_family(decl[i].slot, m, decl[i].type, decl[i].name,
				    decl[i].help, decl[i].labels);
		if (rc)
			return rc;
	}
	rc = metrics_histogram(&s.commit_to_healthy, m, "pipelined_commit_to_healthy_seconds",
			       "Seconds from a promotion commit to Argo CD running it synced, "
			       "healthy and with the promoted images (the deploy verdict), per "
			       "stage; observed once per promotion, when its deploy note is "
			       "written.", L("stage"), c2h, ARRAY_SIZE(c2h));
	if (rc)
		return rc;
	*out = s;
	return 0;
}
