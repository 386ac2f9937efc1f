/*
 * resilience: small helpers shared by the worker pool, the circuit
 * breaker, graceful shutdown and the leak detector (sim/worker_pool.c,
 * breaker.c, shutdown.c, leak_detector.c): entity fields and metrics that
 * are published only when their value changes, so that the trace carries
 * one event per real change.
 *
 * Metrics go to the running scheduler's registry (core/metrics.h) under
 * the seed's names, with one label naming the pattern's instance. Values
 * are integers here (counts, nanoseconds); a series that measures time is
 * registered in seconds, as Prometheus wants.
 */
#ifndef CHANSIM_RESILIENCE_H
#define CHANSIM_RESILIENCE_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "entity.h"
#include "metrics.h"

/* Set an entity field only when it changes. */
static inline void res_pub(entity_t *e, const char *field, int64_t v)
{
    if (entity_get(e, field, INT64_MIN) != v)
        entity_set(e, field, v);
}

/* Format one of the seed's log lines and hand it to the pattern's log
 * callback (log.Printf), if it has one. */
static inline void res_logf(void (*log)(void *ud, const char *line), void *ud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void res_logf(void (*log)(void *ud, const char *line), void *ud, const char *fmt, ...)
{
    if (!log)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(ud, line);
}

/* A published metric series and the last value given to it. */
typedef struct res_metric {
    metrics_series_t *s;  /* NULL if registration failed (then updates do nothing) */
    metrics_type_t type;  /* counter or gauge */
    int64_t last;         /* last value published, in the caller's unit */
    double scale;         /* registry value = value * scale (1e-9 for ns -> s) */
} res_metric_t;

/* Register (or find) metric `name` of the given type with one label
 * (label = value) in the running scheduler's registry. */
static inline void res_metric_init(res_metric_t *m, metrics_type_t type, const char *name,
                                   const char *help, const char *label, const char *value,
                                   double scale)
{
    m->s = NULL;
    m->type = type;
    m->last = 0;
    m->scale = scale;
    metrics_registry_t *r = metrics_current();
    if (!r)
        return;
    const char *labels[1] = {label};
    metrics_opts_t o = {.name = name, .help = help, .labels = labels, .nlabels = 1};
    metrics_family_t *f = metrics_register(r, type, &o, NULL);
    if (f)
        m->s = metrics_withv(f, value, (const char *)NULL);
}

/* One row of a pattern's metric table. */
typedef struct res_metric_def {
    metrics_type_t type;  /* counter or gauge */
    const char *name;     /* the seed's metric name */
    const char *help;
    double scale;         /* registry value = value * scale (1e-9 for ns -> s) */
} res_metric_def_t;

/* Register a pattern's whole metric table, all with one label (label =
 * value): out[i] for defs[i]. */
static inline void res_metrics_init(res_metric_t *out, const res_metric_def_t *defs, int n,
                                    const char *label, const char *value)
{
    for (int i = 0; i < n; i++)
        res_metric_init(&out[i], defs[i].type, defs[i].name, defs[i].help, label, value,
                        defs[i].scale);
}

/* Publish a new value: a counter moves up by the difference (never down),
 * a gauge is set. */
static inline void res_metric_set(res_metric_t *m, int64_t v)
{
    if (!m->s || v == m->last)
        return;
    if (m->type == METRICS_COUNTER) {
        if (v > m->last)
            metrics_add(m->s, (double)(v - m->last) * m->scale);
    } else {
        metrics_set(m->s, (double)v * m->scale);
    }
    m->last = v;
}

#endif
