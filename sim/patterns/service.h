/*
 * service: the seed's "Context Propagation" section: services that
 * call their dependencies one after another, each call under a child
 * context of 500ms (context.WithTimeout(ctx, 500ms)), then do their own
 * processing in a select on time.After and ctx.Done().
 *
 * Every call is recorded as a span (service, start, end, outcome), so a
 * run reports where and when a deadline struck and the critical path.
 * Worked out from the seed's numbers: A needs B (D 100ms, E 150ms, then
 * 200ms) = 450ms, then C (E 150ms, then 150ms) = 300ms, then its own 100ms:
 * 850ms in all. So the seed's first request, with an 800ms deadline, fails
 * at 800ms in A's own processing, although the seed's comments expect it
 * to succeed; the second (300ms) fails at 300ms inside ServiceB.
 */
#ifndef CHANSIM_SERVICE_H
#define CHANSIM_SERVICE_H

#include <stddef.h>

#include "ctx.h"
#include "entity.h"

#define SERVICE_MAX_DEPS 8

typedef struct service {
    const char *name;                         /* interned */
    simtime_t processing_time;                /* its own work */
    struct service *dependencies[SERVICE_MAX_DEPS];
    int ndeps;
    simtime_t dep_timeout;                    /* per dependency call (seed: 500ms) */
    entity_t *entity;                         /* state for the trace and view */
} service_t;

typedef struct service_span {
    const service_t *svc;  /* who */
    int depth;             /* call depth (0: the entry service) */
    int parent;            /* index of the caller's span, -1 for the root */
    simtime_t start, end;  /* when */
    simtime_t work_start;  /* when its own processing started, or -1 */
    const go_error_t *err; /* NULL: success */
    bool struck_here;      /* the deadline struck in this span's own wait */
} service_span_t;

typedef struct service_request_trace {
    service_span_t *spans;        /* in call order */
    size_t nspans, cap;
} service_request_trace_t;

/* NewService(name, processingTime, dependencies...). Owned by the
 * running scheduler. */
service_t *service_create(const char *name, simtime_t processing_time, service_t **deps, int ndeps);
/* Free it before sched_destroy would. None of its goroutines may still run
 * and nobody may use it again; its entity stays, as the view keeps an entity
 * for the whole run. NULL is ignored. */
void service_destroy(service_t *x);
/* Process(ctx, requestID): the result or an error ("dependency X failed:
 * ..." wrapping the cause, or ctx.Err()). Appends spans to trace (may be
 * NULL). The result string is written into out (may be NULL). */
const go_error_t *service_process(service_t *s, ctx_t *ctx, const char *request_id,
                                  service_request_trace_t *trace, char *out, size_t outsize);
/* The time the whole graph needs without deadlines (the critical path). */
simtime_t service_critical_path(const service_t *s);
void service_request_trace_free(service_request_trace_t *t);

#endif
