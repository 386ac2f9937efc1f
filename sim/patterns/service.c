/*
 * service: Service.Process of the seed, on simulated time, with
 * spans recorded for the report. See service.h.
 */
#include "service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "timer.h"

typedef struct svc_obj {
    obj_t hdr;       /* scheduler-owned */
    service_t svc;
} svc_obj_t;

service_t *service_create(const char *name, simtime_t processing_time, service_t **deps, int ndeps)
{
    svc_obj_t *o = obj_alloc(sizeof *o, OBJ_NONE, NULL);
    service_t *s = &o->svc;
    s->name = sched_intern(sched_current(), name);
    s->processing_time = processing_time;
    s->dep_timeout = 500 * SIM_MS;
    s->ndeps = ndeps > SERVICE_MAX_DEPS ? SERVICE_MAX_DEPS : ndeps;
    for (int i = 0; i < s->ndeps; i++)
        s->dependencies[i] = deps[i];
    s->entity = entity_new("service", name, NULL);
    entity_set_state(s->entity, "idle");
    return s;
}

void service_destroy(service_t *x)
{
    if (!x)
        return;
    obj_free((char *)x - offsetof(svc_obj_t, svc));
}

static int span_open(service_request_trace_t *t, const service_t *s, int parent, int depth)
{
    if (!t)
        return -1;
    if (t->nspans == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->spans = mem_realloc(t->spans, t->cap * sizeof *t->spans);
    }
    service_span_t *sp = &t->spans[t->nspans];
    memset(sp, 0, sizeof *sp);
    sp->svc = s;
    sp->parent = parent;
    sp->depth = depth;
    sp->start = sched_now();
    sp->work_start = -1;
    return (int)t->nspans++;
}

static const go_error_t *span_close(service_request_trace_t *t, int i, const go_error_t *err)
{
    if (t && i >= 0) {
        t->spans[i].end = sched_now();
        t->spans[i].err = err;
    }
    return err;
}

static const go_error_t *process(service_t *s, ctx_t *ctx, const char *request_id,
                                 service_request_trace_t *trace, int parent, int depth,
                                 char *out, size_t outsize)
{
    /* Check if context is already canceled */
    if (ctx_err(ctx))
        return ctx_err(ctx);
    int me = span_open(trace, s, parent, depth);
    entity_set_state(s->entity, "calling");
    /* Call dependencies first */
    for (int i = 0; i < s->ndeps; i++) {
        service_t *dep = s->dependencies[i];
        /* Create a child context with timeout for the dependency call */
        ctx_t *dep_ctx = ctx_with_timeout(ctx, s->dep_timeout);
        const go_error_t *err = process(dep, dep_ctx, request_id, trace, me, depth + 1, NULL, 0);
        ctx_cancel(dep_ctx); /* the seed defers it; nothing else uses dep_ctx */
        if (err) {
            entity_set_state(s->entity, "failed");
            return span_close(trace, me, go_errorf("dependency %s failed: %s", dep->name,
                                                   go_error_msg(err)));
        }
    }
    /* Simulate processing time */
    entity_set_state(s->entity, "processing");
    if (trace && me >= 0)
        trace->spans[me].work_start = sched_now();
    sim_timer_t *t = timer_new(s->processing_time);
    select_case_t cases[2] = {
        {.ch = timer_chan(t), .dir = SELECT_RECV},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    int fired = chan_select(cases, 2, false);
    timer_free(t);
    if (fired == 1) {
        /* Context was canceled */
        entity_set_state(s->entity, "deadline");
        if (trace && me >= 0)
            trace->spans[me].struck_here = true;
        return span_close(trace, me, ctx_err(ctx));
    }
    if (out)
        snprintf(out, outsize, "Response from %s for request %s", s->name, request_id);
    entity_set_state(s->entity, "idle");
    return span_close(trace, me, NULL);
}

const go_error_t *service_process(service_t *s, ctx_t *ctx, const char *request_id,
                                  service_request_trace_t *trace, char *out, size_t outsize)
{
    if (out && outsize)
        out[0] = 0;
    return process(s, ctx, request_id, trace, -1, 0, out, outsize);
}

simtime_t service_critical_path(const service_t *s)
{
    simtime_t t = s->processing_time;
    for (int i = 0; i < s->ndeps; i++)
        t += service_critical_path(s->dependencies[i]);
    return t;
}

void service_request_trace_free(service_request_trace_t *t)
{
    free(t->spans);
    memset(t, 0, sizeof *t);
}
