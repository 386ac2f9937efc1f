/*
 * flow: what the flow patterns (fan-out/fan-in, priority multiplexing,
 * first response, pipeline, bounded concurrency) share: where their printed
 * lines go, and scheduler-owned memory for their state.
 *
 * The seed's Go prints with fmt.Printf and log.Printf. Here a pattern
 * prints through a flow_out_t: every line is an EV_LOG trace event, and is
 * also handed to the out's line function (the Lua host prints it) when one
 * is set. Pattern state lives in flow_alloc memory, owned by the running
 * scheduler and freed at sched_destroy, so a run stopped in the middle (a
 * time limit, a panic) leaks nothing. Their counts also go to the running
 * scheduler's metrics registry (core/metrics.h) through flow_metric.
 */
#ifndef CHANSIM_FLOW_H
#define CHANSIM_FLOW_H

#include <stddef.h>

#include "metrics.h"
#include "sched.h"

typedef struct flow_out {
    void (*line)(void *ud, const char *text); /* prints one line (no newline); NULL: trace only */
    void *ud;                                 /* passed to line */
} flow_out_t;

/* Format a line and publish it: an EV_LOG event, then out->line if set.
 * out may be NULL (trace only). */
void flow_printf(const flow_out_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* size zeroed bytes owned by the running scheduler until sched_destroy. */
void *flow_alloc(size_t size);

/* A series of the running scheduler's registry: the family name (help,
 * type; histograms in seconds with Prometheus's default buckets) with up
 * to two labels (l2 NULL: one; l1 NULL: none). The same name and labels
 * give the same series, so instances of a pattern share their families.
 * NULL if the registry refuses it; the updates below ignore NULL. */
metrics_series_t *flow_metric(metrics_type_t type, const char *name, const char *help, const char *l1,
                              const char *v1, const char *l2, const char *v2);
/* The same with a third label (l3 NULL: as flow_metric). */
metrics_series_t *flow_metric3(metrics_type_t type, const char *name, const char *help, const char *l1,
                               const char *v1, const char *l2, const char *v2, const char *l3, const char *v3);
void flow_metric_inc(metrics_series_t *s);
void flow_metric_add(metrics_series_t *s, double v);
void flow_metric_set(metrics_series_t *s, double v);
/* Observe a duration, in seconds. */
void flow_metric_observe_ns(metrics_series_t *s, simtime_t d);

/* rand.Intn(n) on the world stream scaled to a duration: a whole number of
 * units in [0, max / unit), as the seed's time.Duration(rand.Intn(100)) *
 * time.Millisecond. 0 if max < unit. */
simtime_t flow_rand_units(simtime_t max, simtime_t unit);

#endif
