/*
 * bounded: the seed's "Bounded Concurrency": a BoundedExecutor whose
 * semaphore is a buffered channel of max_concurrent slots, and the seed's
 * demo (50 operations 50ms apart through an executor of 5 with a 500ms
 * acquisition timeout; each operation takes 50-249ms and fails 10% of the
 * time).
 *
 * Execute makes context.WithTimeout(ctx, timeout), waits for a slot or
 * for that context, and runs fn holding the slot. An operation that gets no
 * slot in time fails with "operation rejected: context deadline exceeded";
 * the timeout bounds only the wait for a slot, not fn.
 *
 * The seed's code is correct; one thing to know: its main tells rejections
 * from failures by comparing the error's text with "operation rejected:
 * context deadline exceeded", so a rejection caused by the caller's own
 * context being cancelled ("operation rejected: context canceled") is
 * counted as a failure. chansim counts as the seed does and also reports
 * rejections by cause.
 *
 * Published: an "executor" entity (capacity, in_use, waiting, executed,
 * rejected) whose state is "idle", "busy" (a slot taken) or "full"; metrics
 * bounded_executor_operations_total{executor, outcome="executed"|"rejected"}
 * and the gauges bounded_executor_in_use and bounded_executor_waiting.
 *
 * Ownership: everything is owned by the running scheduler.
 */
#ifndef CHANSIM_BOUNDED_H
#define CHANSIM_BOUNDED_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "pattern.h"

typedef struct bounded_executor {
    chan_t *semaphore;         /* chan struct{}, capacity max_concurrent */
    simtime_t timeout;         /* acquisition timeout */
    /* chansim: what the view and the report need */
    entity_t *entity;
    int64_t max_concurrent;
    int64_t in_use, in_use_max, waiting, executed, rejected;
    /* bounded_executor_operations_total{executor, outcome}, _in_use, _waiting */
    metrics_series_t *m_executed, *m_rejected, *m_in_use, *m_waiting;
} bounded_executor_t;

/* NewBoundedExecutor(maxConcurrent, timeout); name (copied) is the
 * entity's, NULL: "BoundedExecutor". */
bounded_executor_t *bounded_executor_create(int64_t max_concurrent, simtime_t timeout, const char *name);
/* Free it before sched_destroy would, with the core objects it made (its
 * semaphore channel). None of its goroutines may still run and nobody may
 * use it again; its entity stays, as the view keeps an entity for the whole
 * run. NULL is ignored. */
void bounded_executor_destroy(bounded_executor_t *x);

/* fn() (interface{}, error): returns the error; the value goes to *result. */
typedef const go_error_t *(*bounded_fn)(void *arg, void *result);

/* Execute(ctx, fn): the error of fn, or "operation rejected: <ctx err>"
 * (then fn was not called). Must run on a goroutine. */
const go_error_t *bounded_executor_execute(bounded_executor_t *e, ctx_t *ctx, bounded_fn fn, void *arg,
                                           void *result);

/* The halves of Execute, for callers that run fn themselves (the Lua
 * binding): acquire returns NULL with a slot held, or the rejection; the
 * slot is released by bounded_executor_release. *exec_ctx is the context
 * to cancel after fn. */
const go_error_t *bounded_executor_acquire(bounded_executor_t *e, ctx_t *ctx, ctx_t **exec_ctx);
void bounded_executor_release(bounded_executor_t *e, ctx_t *exec_ctx);

/* simulateOperation(id) with the seed's numbers as parameters: sleeps
 * latency_min + rand.Intn(latency_span) whole milliseconds, fails with
 * "operation <id> failed" fail_pct% of the time, else writes "Result from
 * operation <id>" into result (64 bytes). */
typedef struct bounded_operation {
    int64_t id;
    simtime_t latency_min;     /* 50ms */
    simtime_t latency_span;    /* 200ms: rand.Intn(200) ms */
    int fail_pct;              /* 10 */
} bounded_operation_t;
const go_error_t *bounded_simulate_operation(void *op, void *result);

/* ---- the seed's main --------------------------------------------------- */

typedef struct bounded_demo_config {
    int64_t operations;        /* 50 */
    simtime_t interval;        /* 50ms between launches */
    int64_t max_concurrent;    /* 5 */
    simtime_t timeout;         /* 500ms */
    simtime_t ctx_timeout;     /* 5s: main's context */
    simtime_t latency_min;     /* 50ms */
    simtime_t latency_span;    /* 200ms */
    int fail_pct;              /* 10 */
    bool print;                /* the seed's log lines per operation */
    pattern_out_t out;
} bounded_demo_config_t;

bounded_demo_config_t bounded_demo_config_default(void);

enum { BOUNDED_OK, BOUNDED_REJECTED, BOUNDED_FAILED };

typedef struct bounded_op_record {
    int64_t id;
    int outcome;               /* BOUNDED_OK, _REJECTED, _FAILED */
    simtime_t start, end;      /* launch and return of Execute */
    char msg[96];              /* the result or the error */
} bounded_op_record_t;

typedef struct bounded_demo_stats {
    int64_t total, successful, rejected, failed; /* the seed's four */
    int64_t in_use_max;        /* the most slots held at once */
    simtime_t elapsed;
} bounded_demo_stats_t;

/* The seed's main: records (cfg->operations entries, may be NULL) in
 * operation order. Must run on a goroutine. */
void bounded_concurrency_main(const bounded_demo_config_t *cfg, bounded_demo_stats_t *stats,
                              bounded_op_record_t *records);

#endif
