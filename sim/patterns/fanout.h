/*
 * fanout: the seed's fan-out/fan-in pattern ("Fan-Out/Fan-In Pattern").
 *
 * fanout_distribute_and_process hands a slice of tasks to worker_count workers
 * through one unbuffered channel (fanout_fan_out), the workers send their results
 * into one channel buffered for every task, and the caller collects them
 * until the workers are done. The seed's rules are kept: a task whose ID is
 * a multiple of 7 fails ("processing error on task N"); a cancelled context
 * makes every goroutine return, the tasks not yet handled are simply not
 * in the results (the pattern reports them as missing).
 *
 * Two things the seed defines but its demo does not use are here too, off
 * by default: fanout_process_task (the seed's 100ms of work that ends early on
 * cancellation) and fanout_fan_in (N goroutines forwarding one result channel into
 * another).
 *
 * What it publishes: a "pool" entity with succeeded/failed/canceled counts,
 * a "worker" entity per worker (state idle/busy, processed count, its
 * goroutine), and "queue" entities for the task and result channels
 * (depth, capacity). Metrics: fanout_results_total{outcome} and
 * fanout_tasks_missing_total.
 *
 * Ownership: everything (tasks, channels, entities) is owned by the
 * running scheduler; results are copied into the caller's array.
 */
#ifndef CHANSIM_FANOUT_H
#define CHANSIM_FANOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "pattern.h"

/* Task: a unit of work (the seed's struct, by value, as Go copies it). */
typedef struct fanout_task {
    int64_t id;                /* ID */
    char input[64];            /* Input */
    char result[128];          /* Result ("" when failed) */
    const go_error_t *err;     /* Err: nil, or why it failed */
    /* chansim: who handled it and when, for the report. */
    int64_t worker;            /* worker id, -1 if none */
    simtime_t done_at;         /* when its result was produced */
} fanout_task_t;

typedef struct fanout_config {
    int64_t fail_every;        /* the seed's 7: task.ID % fail_every == 0 fails; 0: never */
    int fail_pct;              /* chansim: extra random failures, percent (0) */
    simtime_t process_min;     /* chansim: if > 0, workers call fanout_process_task */
    simtime_t process_max;     /*   for a time uniform in [min, max] (seed: 100ms) */
    bool use_fan_in;           /* collect through the seed's fan_in */
    pattern_out_t out;            /* where lines go */
} fanout_config_t;

/* The seed's defaults: fail_every 7, no processing time, direct collection. */
fanout_config_t fanout_config_default(void);

/* The run's counters, also published on the pool entity. */
typedef struct fanout_stats {
    int64_t succeeded;         /* results without error */
    int64_t failed;            /* results with a processing error */
    int64_t canceled;          /* results whose error is the context's */
    int64_t missing;           /* tasks with no result (cancellation) */
    simtime_t elapsed;         /* from the call to the last result */
} fanout_stats_t;

/* fanOut: a goroutine sends every task on the returned unbuffered channel
 * and closes it, or stops when ctx is done. */
chan_t *fanout_fan_out(ctx_t *ctx, const fanout_task_t *tasks, int64_t n, int worker_count);

/* processTask: 100ms (here d) of work, or ctx.Err() if ctx ends first. */
fanout_task_t fanout_process_task(ctx_t *ctx, fanout_task_t task, simtime_t d);

/* fanIn: worker_count goroutines forward results_ch into the returned
 * channel, closed once they all return. */
chan_t *fanout_fan_in(ctx_t *ctx, int worker_count, chan_t *results_ch);

/* distributeAndProcess: returns the number of results written to out (at
 * most n, in the order they were collected). cfg NULL: the seed's. stats
 * may be NULL. Must run on a goroutine. */
int64_t fanout_distribute_and_process(ctx_t *ctx, const fanout_task_t *tasks, int64_t n, int worker_count,
                                      const fanout_config_t *cfg, fanout_task_t *out, fanout_stats_t *stats);

/* The seed's tasks: ID i, Input "Task i input", for i in [0, n). */
void fanout_make_tasks(fanout_task_t *tasks, int64_t n);

#endif
