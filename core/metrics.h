/*
 * metrics: counters, gauges and histograms with Prometheus's names, labels
 * and text exposition format, kept per scheduler.
 *
 * A registry holds metric families (a name, a help text, a type, label
 * names and, for histograms, bucket bounds); a family holds series, one per
 * set of label values. A family without labels has exactly one series,
 * made when the family is registered, so it shows as 0 from the start (as
 * a plain prometheus.Counter does); a family with labels (a "vector", as
 * prometheus.CounterVec) gets a series the first time its label values
 * are used. Families are kept in registration order and series in creation
 * order: every listing, the exposition text and the CSV columns follow
 * that order, never a hash table's. Series are also numbered across the
 * registry from 1 in creation order (metrics_series_seq).
 *
 * Naming follows Prometheus: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*,
 * label names [a-zA-Z_][a-zA-Z0-9_]* and may not start with "__", a
 * histogram may not have a label "le", label values are UTF-8. Registering
 * a name again with the same type, help, labels and buckets returns the
 * family already there (so each instance of a pattern may register the
 * metrics it shares with its siblings); with anything different it is an
 * error, as is a name that collides with another family's samples (a
 * counter "x_count" beside a histogram "x").
 *
 * Every update of a series owned by the running scheduler's registry is a
 * trace event EV_METRIC: obj = the series number (metrics_series_seq), a =
 * the new value (counters and gauges) or the observed value (histograms) in
 * billionths, rounded and saturated to int64, b = 0 for a new value and 1
 * for an observation, detail = the series' name with its labels
 * (`requests_total{status="ok"}`). The value itself stays an exact double
 * in the registry. Updates cost one comparison, the arithmetic and one
 * event; no formatting happens until somebody reads the metrics.
 *
 * Errors: a name, label or bucket that breaks the rules, a label
 * cardinality mismatch and a counter asked to decrease are expected
 * failures: the call returns NULL or a metrics_err_t, the registry keeps
 * the details in its last-error string (metrics_last_error), and nothing
 * changes.
 *
 * Ownership: the registry of a scheduler (metrics_registry_of) is a
 * scheduler-owned object freed by sched_destroy; a registry made with
 * metrics_registry_create belongs to the caller. Families and series
 * belong to their registry and stay valid until it is freed. Strings passed
 * in are copied.
 */
#ifndef CHANSIM_METRICS_H
#define CHANSIM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sched.h"

typedef struct metrics_registry metrics_registry_t;
typedef struct metrics_family metrics_family_t;
typedef struct metrics_series metrics_series_t;

typedef enum metrics_type {
    METRICS_COUNTER,   /* only goes up (prometheus.Counter) */
    METRICS_GAUGE,     /* goes up and down (prometheus.Gauge) */
    METRICS_HISTOGRAM, /* observations counted in buckets (prometheus.Histogram) */
} metrics_type_t;

/* The type's name in the exposition ("counter", "gauge", "histogram"). */
const char *metrics_type_name(metrics_type_t t);

typedef enum metrics_err {
    METRICS_OK = 0,
    METRICS_EBADNAME,   /* the metric name breaks Prometheus's rules */
    METRICS_EBADLABEL,  /* a label name is invalid, reserved or repeated */
    METRICS_EBADVALUE,  /* a label value is not UTF-8 */
    METRICS_ELABELS,    /* wrong number or names of label values */
    METRICS_EBUCKETS,   /* buckets not increasing, NaN, or too many */
    METRICS_EEXISTS,    /* the name is taken by a different metric */
    METRICS_EDECREASE,  /* a counter asked to go down (or by NaN) */
    METRICS_ETYPE,      /* the operation does not apply to this type */
    METRICS_ENOREG,     /* no registry: no scheduler is running */
} metrics_err_t;

/* The error's short description ("invalid metric name") and its name
 * ("METRICS_EBADNAME"). */
const char *metrics_strerror(metrics_err_t e);
const char *metrics_err_name(metrics_err_t e);

/* Limits, so that a scenario's mistake is an error and not a huge file. */
#define METRICS_MAX_NAME 200     /* bytes of a metric or label name */
#define METRICS_MAX_LABELS 16    /* label names per family */
#define METRICS_MAX_VALUE 1024   /* bytes of a label value */
#define METRICS_MAX_BUCKETS 1000 /* buckets per histogram, without +Inf */

/* What to register. Strings and arrays are borrowed for the call. */
typedef struct metrics_opts {
    const char *name;          /* the metric name */
    const char *help;          /* its help text; NULL: "" */
    const char *const *labels; /* label names, or NULL */
    size_t nlabels;            /* number of label names */
    const double *buckets;     /* histograms: upper bounds, increasing; NULL or none: the defaults */
    size_t nbuckets;           /* number of bounds (a final +Inf is dropped, it is implicit) */
} metrics_opts_t;

/* prometheus.DefBuckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10. */
#define METRICS_DEFAULT_NBUCKETS 11
extern const double metrics_default_buckets[METRICS_DEFAULT_NBUCKETS];

/* prometheus.ExponentialBuckets(start, factor, count): count bounds from
 * start, each factor times the last, into out (count entries). Returns
 * METRICS_EBUCKETS, writing nothing, unless count >= 1, start > 0 and
 * factor > 1 (Go panics there). */
metrics_err_t metrics_exponential_buckets(double start, double factor, size_t count, double *out);
/* prometheus.LinearBuckets(start, width, count): needs count >= 1, width > 0. */
metrics_err_t metrics_linear_buckets(double start, double width, size_t count, double *out);

/* ---- registries ------------------------------------------------------- */

/* A registry of its own. Caller owns; free with metrics_registry_destroy.
 * Its updates emit no trace events. */
metrics_registry_t *metrics_registry_create(void);
void metrics_registry_destroy(metrics_registry_t *r);

/* The registry of scheduler s, made on first use (a scheduler-owned object;
 * making it needs s to be running). NULL if s has none and is not the
 * running scheduler. */
metrics_registry_t *metrics_registry_of(sched_t *s);
/* The registry of s if one was made, else NULL. Never makes one, so
 * observers (outputs, views) may call it without changing the run. */
metrics_registry_t *metrics_registry_find(sched_t *s);
/* metrics_registry_of(sched_current()), or NULL outside a run. */
metrics_registry_t *metrics_current(void);

/* The details of the last failed call on r ("" if none). Borrowed until
 * the next call on r. */
const char *metrics_last_error(const metrics_registry_t *r);

/* ---- families ---------------------------------------------------------- */

/* Register a family (or find the identical one already registered).
 * Returns NULL and sets *err (if err is not NULL) on failure. */
metrics_family_t *metrics_register(metrics_registry_t *r, metrics_type_t type,
                                   const metrics_opts_t *opts, metrics_err_t *err);

/* Shorthands on the running scheduler's registry for families without
 * labels: return the family's only series, or NULL on error (details in
 * metrics_last_error(metrics_current())). */
metrics_series_t *metrics_new_counter(const char *name, const char *help);
metrics_series_t *metrics_new_gauge(const char *name, const char *help);
metrics_series_t *metrics_new_histogram(const char *name, const char *help,
                                        const double *buckets, size_t nbuckets);

/* The series for these label values (one per label name, in the family's
 * order), made on first use. NULL and *err on a cardinality mismatch or a
 * value that is not UTF-8. values may be NULL when the family has no
 * labels. */
metrics_series_t *metrics_with(metrics_family_t *f, const char *const *values, size_t n,
                               metrics_err_t *err);
/* The same with the values as arguments, ended by NULL:
 * metrics_withv(f, "api", "200", NULL). */
metrics_series_t *metrics_withv(metrics_family_t *f, ...);
/* The only series of a family without labels (NULL for a vector). */
metrics_series_t *metrics_only(metrics_family_t *f);

/* ---- updates ------------------------------------------------------------ */

/* Counter or gauge: add 1. */
metrics_err_t metrics_inc(metrics_series_t *s);
/* Counter or gauge: add v; a counter refuses v < 0 or NaN (METRICS_EDECREASE,
 * Go's "counter cannot decrease in value"). */
metrics_err_t metrics_add(metrics_series_t *s, double v);
/* Gauge: set to v, or subtract. */
metrics_err_t metrics_set(metrics_series_t *s, double v);
metrics_err_t metrics_sub(metrics_series_t *s, double v);
/* Histogram: count v in the first bucket whose bound is >= v. */
metrics_err_t metrics_observe(metrics_series_t *s, double v);

/* ---- reading ------------------------------------------------------------ */

size_t metrics_family_count(const metrics_registry_t *r);
/* Families in registration order, i < metrics_family_count(r). */
metrics_family_t *metrics_family_at(const metrics_registry_t *r, size_t i);
/* The family registered under name, or NULL. */
metrics_family_t *metrics_family_find(const metrics_registry_t *r, const char *name);
/* Every series ever made, numbered from 1 in creation order. */
size_t metrics_series_total(const metrics_registry_t *r);
/* The series numbered seq (1 <= seq <= metrics_series_total), or NULL. */
metrics_series_t *metrics_series_by_seq(const metrics_registry_t *r, uint64_t seq);

metrics_registry_t *metrics_family_registry(const metrics_family_t *f);
const char *metrics_family_name(const metrics_family_t *f);
const char *metrics_family_help(const metrics_family_t *f);
metrics_type_t metrics_family_type(const metrics_family_t *f);
size_t metrics_family_nlabels(const metrics_family_t *f);
const char *metrics_family_label(const metrics_family_t *f, size_t i);
/* Histogram bounds without the implicit +Inf; borrowed for the family's life. */
size_t metrics_family_buckets(const metrics_family_t *f, const double **bounds);
size_t metrics_series_count(const metrics_family_t *f);
/* Series in creation order, i < metrics_series_count(f). */
metrics_series_t *metrics_series_at(const metrics_family_t *f, size_t i);

metrics_family_t *metrics_series_family(const metrics_series_t *s);
uint64_t metrics_series_seq(const metrics_series_t *s);
/* The value of label i (in the family's label order). */
const char *metrics_series_label(const metrics_series_t *s, size_t i);
/* `name{label="value",...}` (just `name` without labels), escaped as in the
 * exposition. Borrowed for the series' life. */
const char *metrics_series_name(const metrics_series_t *s);
/* Counter or gauge: the value. Histogram: the sum of observations. */
double metrics_value(const metrics_series_t *s);
/* Histogram: observations and their sum (counters and gauges: 0, value). */
uint64_t metrics_hist_count(const metrics_series_t *s);
double metrics_hist_sum(const metrics_series_t *s);
/* Histogram: observations per bucket, not cumulative, one entry per bound
 * plus a last one for +Inf (nbounds + 1 entries). Borrowed until the next
 * update. */
const uint64_t *metrics_hist_counts(const metrics_series_t *s);

/* ---- exposition --------------------------------------------------------- */

/* A number as the exposition writes it: "NaN", "+Inf", "-Inf", an integer
 * without a decimal point when the value is one (below 2^53), otherwise
 * the shortest %g form that reads back to the same double. Returns the
 * length (as snprintf). */
int metrics_format_value(double v, char *buf, size_t size);

/* The Prometheus text exposition format (version 0.0.4) of every family
 * with at least one series, in registration order: # HELP (when the help
 * is not empty, escaped), # TYPE, then the samples; histograms as
 * _bucket{...,le="..."} (cumulative, ending with le="+Inf"), _sum, _count.
 * Returns 0, or -1 if writing failed. */
int metrics_write_text(const metrics_registry_t *r, FILE *f);
/* The same text in a string the caller frees; NULL if out of memory. */
char *metrics_text(const metrics_registry_t *r, size_t *len);

#endif
