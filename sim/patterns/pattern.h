/*
 * pattern: what every pattern of the seed shares, so that each pattern's
 * file can read like the seed's Go beside it.
 *
 * - Draws: a simulated job's latency and failure (rand.Intn, a uniform
 *   latency, a percent chance), all from the run's world stream, so the
 *   scheduler's choices never move them.
 * - Output: the seed's fmt.Printf and log.Printf lines. A pattern hands a
 *   line to one callback type, pattern_log_fn (the Lua host prints it).
 *   pattern_printf also records the line as an EV_LOG trace event (the flow
 *   patterns: fan-out, priority mux, first response, pipeline, bounded);
 *   pattern_logf only calls the callback (the worker pool, the breaker,
 *   graceful shutdown, the leak detector, whose lines are their options'
 *   log). Which one a pattern uses is part of its trace, so never swap.
 * - Memory: pattern_alloc gives zeroed memory owned by the running
 *   scheduler and freed at sched_destroy, so a run stopped in the middle
 *   (a time limit, a panic) leaks nothing.
 * - Metrics: series of the running scheduler's registry (core/metrics.h)
 *   under the seed's names. pattern_series* are plain series (NULL if the
 *   registry refuses one; every update ignores NULL). pattern_metric_t is
 *   a series with its last value, published only when the value changes
 *   (a counter moves up by the difference), and pattern_pub does the same
 *   for an entity field, so the trace carries one event per real change.
 *
 * Every function here runs on a goroutine of the running scheduler.
 */
#ifndef CHANSIM_PATTERN_H
#define CHANSIM_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entity.h"
#include "metrics.h"
#include "sched.h"

/* ---- Draws (world stream) ---------------------------------------------- */

/* A latency uniform in [lo, hi]; lo if hi <= lo. */
simtime_t pattern_uniform_latency(simtime_t lo, simtime_t hi);
/* True with probability pct/100 (the seed's rand.Intn(100) < pct). */
bool pattern_chance_pct(int pct);
/* rand.Intn(n); 0 if n <= 0. */
int64_t pattern_intn(int64_t n);
/* rand.Intn scaled to a duration: a whole number of units in
 * [0, max / unit), as the seed's time.Duration(rand.Intn(100)) *
 * time.Millisecond. 0 if max < unit. */
simtime_t pattern_rand_units(simtime_t max, simtime_t unit);

/* ---- Output ------------------------------------------------------------ */

/* The one output callback of sim/: prints one line (no newline). line is
 * borrowed for the call. */
typedef void (*pattern_log_fn)(void *ud, const char *line);

/* Where a flow pattern's lines go. */
typedef struct pattern_out {
    pattern_log_fn line;  /* NULL: trace only */
    void *ud;             /* passed to line */
} pattern_out_t;

/* Format a line (at most 511 bytes) and publish it: an EV_LOG event, then
 * out->line if set. out may be NULL (trace only). */
void pattern_printf(const pattern_out_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format a line (at most 255 bytes) and hand it to log, if not NULL; no
 * trace event. */
void pattern_logf(pattern_log_fn log, void *ud, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- Memory ------------------------------------------------------------ */

/* size zeroed bytes (16-aligned) owned by the running scheduler until
 * sched_destroy; never NULL. */
void *pattern_alloc(size_t size);
/* Give pattern_alloc memory back before sched_destroy. NULL is ignored. */
void pattern_free(void *p);

/* ---- Metrics and entity fields ------------------------------------------ */

/* A series: the family name (help, type; histograms in seconds with
 * Prometheus's default buckets) with up to two labels (l2 NULL: one; l1
 * NULL: none). The same name and labels give the same series, so
 * instances of a pattern share their families. */
metrics_series_t *pattern_series(metrics_type_t type, const char *name, const char *help, const char *l1,
                                 const char *v1, const char *l2, const char *v2);
/* The same with a third label (l3 NULL: as pattern_series). */
metrics_series_t *pattern_series3(metrics_type_t type, const char *name, const char *help, const char *l1,
                                  const char *v1, const char *l2, const char *v2, const char *l3,
                                  const char *v3);
void pattern_series_inc(metrics_series_t *s);
void pattern_series_add(metrics_series_t *s, double v);
void pattern_series_set(metrics_series_t *s, double v);
/* Observe a duration, in seconds. */
void pattern_series_observe_ns(metrics_series_t *s, simtime_t d);

/* A published series and the last value given to it. */
typedef struct pattern_metric {
    metrics_series_t *s;  /* NULL if registration failed (then updates do nothing) */
    metrics_type_t type;  /* counter or gauge */
    int64_t last;         /* last value published, in the caller's unit */
    double scale;         /* registry value = value * scale (1e-9 for ns -> s) */
} pattern_metric_t;

/* One row of a pattern's metric table. */
typedef struct pattern_metric_def {
    metrics_type_t type;  /* counter or gauge */
    const char *name;     /* the seed's metric name */
    const char *help;
    double scale;         /* registry value = value * scale (1e-9 for ns -> s) */
} pattern_metric_def_t;

/* Register (or find) metric `name` with one label (label = value). */
void pattern_metric_init(pattern_metric_t *m, metrics_type_t type, const char *name, const char *help,
                         const char *label, const char *value, double scale);
/* Register a pattern's whole metric table, all with one label (label =
 * value): out[i] for defs[i]. */
void pattern_metrics_init(pattern_metric_t *out, const pattern_metric_def_t *defs, int n, const char *label,
                          const char *value);
/* Publish a new value: a counter moves up by the difference (never down),
 * a gauge is set. */
void pattern_metric_set(pattern_metric_t *m, int64_t v);

/* Set an entity field only when it changes. */
void pattern_pub(entity_t *e, const char *field, int64_t v);

#endif
