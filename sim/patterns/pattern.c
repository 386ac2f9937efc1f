/* pattern: draws, output, memory and metrics shared by the seed's
 * patterns. See pattern.h. */
#include "pattern.h"

#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>

#include "rand.h"

/* ---- Draws ---------------------------------------------------------------- */

simtime_t pattern_uniform_latency(simtime_t lo, simtime_t hi)
{
    if (hi <= lo)
        return lo;
    return rand_range(sched_rand(sched_current(), RAND_WORLD), lo, hi);
}

bool pattern_chance_pct(int pct)
{
    return (int64_t)rand_below(sched_rand(sched_current(), RAND_WORLD), 100) < pct;
}

int64_t pattern_intn(int64_t n)
{
    return n <= 0 ? 0 : (int64_t)rand_below(sched_rand(sched_current(), RAND_WORLD), (uint64_t)n);
}

simtime_t pattern_rand_units(simtime_t max, simtime_t unit)
{
    if (unit <= 0 || max < unit)
        return 0;
    return pattern_intn(max / unit) * unit;
}

/* ---- Output --------------------------------------------------------------- */

void pattern_printf(const pattern_out_t *out, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sched_emit(EV_LOG, 0, 0, 0, buf);
    if (out && out->line)
        out->line(out->ud, buf);
}

void pattern_logf(pattern_log_fn log, void *ud, const char *fmt, ...)
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

/* ---- Memory --------------------------------------------------------------- */

/* The memory follows an object header, so the scheduler frees it. */
typedef struct pattern_block {
    obj_t hdr;
    _Alignas(16) unsigned char data[];
} pattern_block_t;

void *pattern_alloc(size_t size)
{
    pattern_block_t *b = obj_alloc(sizeof *b + size, OBJ_NONE, NULL);
    return b->data;
}

void pattern_free(void *p)
{
    if (p)
        obj_free((char *)p - offsetof(pattern_block_t, data));
}

/* ---- Metrics and entity fields -------------------------------------------- */

metrics_series_t *pattern_series(metrics_type_t type, const char *name, const char *help, const char *l1,
                                 const char *v1, const char *l2, const char *v2)
{
    return pattern_series3(type, name, help, l1, v1, l2, v2, NULL, NULL);
}

metrics_series_t *pattern_series3(metrics_type_t type, const char *name, const char *help, const char *l1,
                                  const char *v1, const char *l2, const char *v2, const char *l3,
                                  const char *v3)
{
    metrics_registry_t *r = metrics_current();
    if (!r)
        return NULL;
    const char *labels[3] = {l1, l2, l3};
    const char *values[3] = {v1, v2, v3};
    size_t n = l1 ? (l2 ? (l3 ? 3 : 2) : 1) : 0;
    metrics_opts_t o = {.name = name, .help = help, .labels = n ? labels : NULL, .nlabels = n};
    metrics_family_t *f = metrics_register(r, type, &o, NULL);
    if (!f)
        return NULL;
    return n ? metrics_with(f, values, n, NULL) : metrics_only(f);
}

void pattern_series_inc(metrics_series_t *s)
{
    if (s)
        metrics_inc(s);
}

void pattern_series_add(metrics_series_t *s, double v)
{
    if (s)
        metrics_add(s, v);
}

void pattern_series_set(metrics_series_t *s, double v)
{
    if (s)
        metrics_set(s, v);
}

void pattern_series_observe_ns(metrics_series_t *s, simtime_t d)
{
    if (s)
        metrics_observe(s, (double)d / 1e9);
}

void pattern_metric_init(pattern_metric_t *m, metrics_type_t type, const char *name, const char *help,
                         const char *label, const char *value, double scale)
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

void pattern_metrics_init(pattern_metric_t *out, const pattern_metric_def_t *defs, int n, const char *label,
                          const char *value)
{
    for (int i = 0; i < n; i++)
        pattern_metric_init(&out[i], defs[i].type, defs[i].name, defs[i].help, label, value, defs[i].scale);
}

void pattern_metric_set(pattern_metric_t *m, int64_t v)
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

void pattern_pub(entity_t *e, const char *field, int64_t v)
{
    entity_update(e, field, v);
}
