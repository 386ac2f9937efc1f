/*
 * worker_pool: the seed's "Advanced Worker Pool with Dynamic Scaling"
 * (AdaptiveWorkerPool: NewAdaptiveWorkerPool, startWorker, autoscaler,
 * adjustWorkerCount, Submit, Results, Shutdown, GetMetrics) on simulated
 * time.
 *
 * Jobs go into a buffered queue (queue_size); workers take them, sleep for
 * the job's duration, fail with failure_pct% probability (world stream),
 * and send a result on a result queue of the same size, which somebody
 * must drain. Every scale_interval the autoscaler looks at utilisation
 * (active / current workers) and the pending jobs: at or above the
 * threshold with jobs pending it adds 25% of the workers (at least one, up
 * to max); below half the threshold with nothing pending it asks 15% (at
 * least one, down to min) to stop.
 *
 * Two variants (pool_options_t.seed_variant):
 * - seed: the seed's code. Its bugs: a scale-down signal is a send with
 *   default on an unbuffered channel, so it reaches only workers idle in
 *   their select at that instant; "Removing 3 workers" may remove fewer
 *   (on real threads a worker between two selects misses it; in the
 *   simulation idle workers are always parked, so it shows only when the
 *   removals outnumber the idle workers, e.g. scale_down 0.9, min 1). A
 *   worker that leaves through ctx.Done while sending its result (or while
 *   waiting) never decrements activeWorkers, so "Active workers" can stay
 *   above "Current workers" for ever, and the jobs still queued are
 *   silently abandoned. Shutdown closes the job queue under a concurrent
 *   Submit: "panic: send on closed channel". The autoscaler keeps scaling
 *   during Shutdown's drain. (Submit also bumps pendingJobs after its send,
 *   so on real threads a fast worker can drive it to -1; the simulation's
 *   cooperative scheduling cannot show that one.)
 * - corrected (default): scale-down signals that find no idle worker are
 *   kept as retirements that busy workers take after their job, so the
 *   number removed is the number decided; every exit path decrements
 *   activeWorkers; Submit after Shutdown returns "pool is shut down"; the
 *   autoscaler stands still once Shutdown began; pendingJobs is counted
 *   before the send.
 *
 * The seed's metrics are kept as the seed defines them: completedJobs
 * counts every processed job, failed ones included, and "Average latency"
 * is totalLatency / completedJobs. Queue high water is the high water of
 * pendingJobs (jobs submitted and not yet started), which includes jobs
 * handed straight to an idle worker; buffer_high_water is that of
 * len(jobQueue).
 *
 * Published: an entity "pool" (fields current_workers, active_workers,
 * pending_jobs, queue_depth, queue_capacity, queue_high_water, total_jobs,
 * completed_jobs, failed_jobs, rejected_jobs) with one child entity
 * "worker" per worker (state "idle", "busy" or "exited", its goroutine
 * attached); each scaling decision is an EV_USER event "pool.scale".
 * Metrics (core/metrics.h), labelled pool="<name>": adaptive_pool_total_jobs,
 * _completed_jobs, _failed_jobs, _rejected_jobs (counters),
 * adaptive_pool_queue_high_water, _workers, _active_workers, _pending_jobs,
 * _average_latency_seconds (gauges).
 *
 * Ownership: the pool is owned by the running scheduler; results are
 * values (worker_pool_result_t) on the results channel.
 */
#ifndef CHANSIM_WORKER_POOL_H
#define CHANSIM_WORKER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "goerr.h"
#include "pattern.h"

/* Job represents a unit of work */
typedef struct worker_pool_job {
    int64_t id;
    simtime_t duration; /* simulated processing time */
} worker_pool_job_t;

/* Result represents the outcome of job processing (a value on the
 * results channel). */
typedef struct worker_pool_result {
    int64_t job_id;
    const go_error_t *err; /* NULL: success ("Processed result for job N") */
    simtime_t latency;
} worker_pool_result_t;

/* PoolMetrics tracks performance metrics for the worker pool. As GetMetrics
 * returns it, total_latency holds the *average* latency (the seed reuses
 * the field). */
typedef struct worker_pool_metrics {
    int64_t total_jobs;
    int64_t completed_jobs;  /* failed jobs included, as in the seed */
    int64_t failed_jobs;
    int64_t total_latency;   /* in GetMetrics' result: the average, ns */
    int32_t queue_high_water;
} worker_pool_metrics_t;


typedef struct worker_pool_options {
    const char *name;          /* for entities, metrics and goroutine names */
    int min_workers;           /* 5 */
    int max_workers;           /* 20 */
    int queue_size;            /* 100 (the result queue too) */
    simtime_t scale_interval;  /* 500ms */
    double scale_threshold;    /* 0.7: scale up when 70% of workers are busy */
    double scale_up_fraction;  /* 0.25 */
    double scale_down_fraction; /* 0.15 */
    int failure_pct;           /* 10 */
    pattern_log_fn log;           /* the seed's Printf lines ("Scaling up: ..."), or NULL */
    void *log_ud;
    bool seed_variant;
} worker_pool_options_t;

/* The seed's values (NewAdaptiveWorkerPool(ctx, 5, 20, 100) and its
 * constants), corrected variant. */
worker_pool_options_t worker_pool_options_default(void);

typedef struct worker_pool worker_pool_t;

/* "job queue is full": Submit with the queue at capacity. */
extern const go_error_t WORKER_POOL_ERR_JOB_QUEUE_FULL;
/* "pool is shut down": the corrected Submit after Shutdown. */
extern const go_error_t WORKER_POOL_ERR_SHUT_DOWN;

/* NewAdaptiveWorkerPool(ctx, minWorkers, maxWorkers, queueSize): starts
 * min_workers workers and the autoscaler, all stopping on ctx. */
worker_pool_t *worker_pool_create(ctx_t *ctx, const worker_pool_options_t *opt);
/* Free it before sched_destroy would, with the core objects it made (its
 * queues, stop channel, lock and wait group). None of its goroutines may
 * still run and nobody may use it again; its entity stays, as the view keeps
 * an entity for the whole run. NULL is ignored. */
void worker_pool_destroy(worker_pool_t *x);

/* Submit adds a job to the pool: NULL, WORKER_POOL_ERR_JOB_QUEUE_FULL, ctx.Err(), or
 * (corrected, after Shutdown) WORKER_POOL_ERR_SHUT_DOWN. Never blocks. The seed's
 * variant panics "send on closed channel" after Shutdown. */
const go_error_t *worker_pool_submit(worker_pool_t *p, ctx_t *ctx, worker_pool_job_t job);

/* Results returns the channel of worker_pool_result_t values; closed by Shutdown. */
chan_t *worker_pool_results(worker_pool_t *p);

/* Shutdown gracefully shuts down the worker pool: closes the job queue,
 * waits for the workers, closes the results and the stop channel. Blocks. */
void worker_pool_shutdown(worker_pool_t *p);

/* GetMetrics returns the current pool metrics (total_latency = average). */
worker_pool_metrics_t worker_pool_get_metrics(worker_pool_t *p);

/* atomic.LoadInt32(&pool.workerCount) and friends. */
int32_t worker_pool_worker_count(const worker_pool_t *p);
int32_t worker_pool_active_workers(const worker_pool_t *p);
int32_t worker_pool_pending_jobs(const worker_pool_t *p);
/* chansim's own figures. */
int64_t worker_pool_queue_depth(const worker_pool_t *p);    /* len(jobQueue) */
int64_t worker_pool_rejected_jobs(const worker_pool_t *p);  /* Submit errors */
int64_t worker_pool_buffer_high_water(const worker_pool_t *p); /* max len(jobQueue) */
int64_t worker_pool_workers_started(const worker_pool_t *p);
entity_t *worker_pool_entity(const worker_pool_t *p);
const worker_pool_options_t *worker_pool_options(const worker_pool_t *p);

/* One decision of adjustWorkerCount. */
typedef struct worker_pool_scale_event {
    simtime_t t;          /* when */
    int direction;        /* +1 up, -1 down */
    int count;            /* workers to add / remove, as printed */
    int delivered;        /* removals that reached a worker at once (down) */
    int32_t workers;      /* currentWorkers it saw */
    int32_t active;       /* activeWorkers it saw */
    int32_t pending;      /* pendingJobs it saw */
    double utilization;   /* active / current */
} worker_pool_scale_event_t;

/* Every decision so far, in order. Borrowed until the next decision. */
const worker_pool_scale_event_t *worker_pool_scale_events(const worker_pool_t *p, size_t *n);

#endif
