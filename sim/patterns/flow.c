/* flow: output lines and memory of the flow patterns. See flow.h. */
#include "flow.h"

#include <stdarg.h>
#include <stdio.h>

#include "patterns.h"

void flow_printf(const flow_out_t *out, const char *fmt, ...)
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

/* The memory follows an object header, so the scheduler frees it. */
typedef struct flow_block {
    obj_t hdr;
    _Alignas(16) unsigned char data[];
} flow_block_t;

void *flow_alloc(size_t size)
{
    flow_block_t *b = obj_alloc(sizeof *b + size, OBJ_NONE, NULL);
    return b->data;
}

metrics_series_t *flow_metric(metrics_type_t type, const char *name, const char *help, const char *l1,
                              const char *v1, const char *l2, const char *v2)
{
    return flow_metric3(type, name, help, l1, v1, l2, v2, NULL, NULL);
}

metrics_series_t *flow_metric3(metrics_type_t type, const char *name, const char *help, const char *l1,
                               const char *v1, const char *l2, const char *v2, const char *l3, const char *v3)
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

void flow_metric_inc(metrics_series_t *s)
{
    if (s)
        metrics_inc(s);
}

void flow_metric_add(metrics_series_t *s, double v)
{
    if (s)
        metrics_add(s, v);
}

void flow_metric_set(metrics_series_t *s, double v)
{
    if (s)
        metrics_set(s, v);
}

void flow_metric_observe_ns(metrics_series_t *s, simtime_t d)
{
    if (s)
        metrics_observe(s, (double)d / 1e9);
}

simtime_t flow_rand_units(simtime_t max, simtime_t unit)
{
    if (unit <= 0 || max < unit)
        return 0;
    return sim_intn(max / unit) * unit;
}
