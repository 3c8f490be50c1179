/* metrics.h - a small Prometheus registry rendered in the text format 0.0.4.
 *
 * Families are declared once at startup with a fixed set of label names;
 * each distinct set of label values is a series, created on first use.  The
 * total number of series is bounded so that a label fed from outside (a
 * refusal code, a registry result) can never grow the registry without
 * limit: past the bound an update fails with ERR_TOOBIG and is dropped.
 * Pure: no I/O, the caller serves the rendered buffer.  Not locked: update
 * and render from the loop thread (workers report back through the loop).
 */
#ifndef PIPELINED_METRICS_H
#define PIPELINED_METRICS_H

#include <stddef.h>

#include "util.h"

#define METRICS_MAX_LABELS 4
#define METRICS_MAX_FAMILIES 64
#define METRICS_LABEL_VALUE_MAX 128
#define METRICS_DEFAULT_MAX_SERIES 512
#define METRICS_MAX_BUCKETS 32

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,	/* declared with metrics_histogram */
};

struct metrics;
struct metric_family;

/* max_series 0 means METRICS_DEFAULT_MAX_SERIES.  NULL on OOM. */
struct metrics *metrics_new(size_t max_series);
void metrics_free(struct metrics *m);

/* Declare a family.  name must match [a-zA-Z_:][a-zA-Z0-9_:]* and, for a
 * counter, end in "_total"; labels is a NULL-terminated list of names
 * ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"), or NULL for none.
 * ERR_INVALID for a bad name or a name declared twice, ERR_TOOBIG past
 * METRICS_MAX_FAMILIES.  The family lives as long as the registry. */
int metrics_family(struct metric_family **out, struct metrics *m,
		   enum metric_type type, const char *name, const char *help,
		   const char *const *labels);

/* Declare a histogram: bounds are the buckets' upper bounds, finite and
 * strictly increasing, 1..METRICS_MAX_BUCKETS of them (the +Inf bucket is
 * implied).  Each series renders as name_bucket{...,le="B"} (cumulative),
 * name_bucket{...,le="+Inf"}, name_sum and name_count.  A label may not be
 * called "le".  ERR_INVALID otherwise, as metrics_family. */
int metrics_histogram(struct metric_family **out, struct metrics *m, const char *name,
		      const char *help, const char *const *labels, const double *bounds,
		      size_t nbounds);
/* One observation (histograms only; not NaN). */
int metrics_observe(struct metric_family *f, const char *const *values, double v);

/* values: one string per label name, in declaration order (NULL when the
 * family has no labels).  A label value is any UTF-8 string up to
 * METRICS_LABEL_VALUE_MAX bytes: ERR_INVALID otherwise.
 * metrics_add: counters only go up (delta >= 0), gauges take any delta.
 * metrics_set: gauges only. */
int metrics_add(struct metric_family *f, const char *const *values, double delta);
int metrics_set(struct metric_family *f, const char *const *values, double value);
/* Current value of one series (of a histogram: its count); ERR_NOTFOUND if
 * it was never touched. */
int metrics_get(double *out, const struct metric_family *f, const char *const *values);

/* Append the exposition text of every family (declaration order, series
 * in creation order) to out.  Serve it as METRICS_CONTENT_TYPE. */
int metrics_render(struct buf *out, const struct metrics *m);
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The families pipelined exports (names are part of the interface). */
struct metrics_std {
	struct metric_family *cycles;		/* counter */
	struct metric_family *registry_requests;	/* counter {result} */
	struct metric_family *promotions;	/* counter {stage} */
	struct metric_family *refusals;		/* counter {stage,code} */
	struct metric_family *last_success;	/* gauge {subsystem}, unix seconds */
	struct metric_family *queue_length;	/* gauge */
	struct metric_family *market_open;	/* gauge, 0 or 1 */
	struct metric_family *webhooks;		/* counter {result} */
	struct metric_family *stage_blocked;	/* gauge {stage}, 0 or 1 */
	struct metric_family *stage_deployed;	/* gauge {stage,verdict}, 1 for the current one */
	struct metric_family *stage_sync;	/* gauge {stage,status}: Argo CD's sync status */
	struct metric_family *stage_health;	/* gauge {stage,status}: Argo CD's health */
	struct metric_family *requests_waiting;	/* gauge: branches past [requests] bounds */
	/* histogram {stage}: seconds from a promotion commit to Argo CD
	 * reporting it deployed, observed once per promotion (its deploy note) */
	struct metric_family *commit_to_healthy;
};
int metrics_std_declare(struct metrics_std *out, struct metrics *m);

#endif
