/*
 * observability: the seed's "Observability Integration" section: a set of
 * Prometheus metrics (its Metrics: requests_total, request_duration_seconds,
 * goroutines_total, worker_pool_size, queue_depth, errors_total,
 * in_flight_requests, with the seed's help texts, labels and buckets) and
 * InstrumentedWorkerPool, a worker pool that updates them, on core's
 * metrics registry (core/metrics.h), so `chansim run --metrics FILE.prom`
 * writes what the seed's /metrics endpoint would serve.
 *
 * The seed's demo: a "high-priority" pool (5 workers, queue 10, jobs of
 * 100ms failing 1 in 10) and a "low-priority" pool (3 workers, queue 20,
 * jobs of 200ms failing 1 in 5), 20 jobs to each 50ms apart, then 5s of
 * waiting, GetMetrics and Shutdown.
 *
 * The seed's bugs, kept by seed_variant (corrected is the default):
 * - the job ID is a label value: requests_total{service,endpoint,status}
 *   and request_duration_seconds{service,endpoint} are labelled with
 *   endpoint = job.ID, so every job makes a new series (a histogram series
 *   is 13 samples with the seed's 10 buckets): the number of series grows
 *   with the number of jobs, without bound. Corrected: the endpoint label
 *   is dropped (requests_total{service,status},
 *   request_duration_seconds{service}): the series are bounded by pools x
 *   statuses.
 * - queue_depth is set on Submit and after a job finishes, never when a
 *   worker takes a job: between the two it reports jobs that are already
 *   running. Corrected: it is also set when a job is dequeued.
 * - Shutdown closes the shutdown channel and the queue together; a
 *   worker's select then picks either, so workers may leave while jobs are
 *   still queued, and those jobs are lost without a trace. Corrected: the
 *   queue is closed and drained first.
 * - NewMetrics starts a goroutine collector that loops forever: nothing
 *   can stop it. Corrected: observability_metrics_stop ends it.
 *
 * Ownership: metrics sets and pools are owned by the running scheduler. A
 * set made on a private registry (for a comparison that must not reach
 * the run's --metrics output) owns that registry and frees it with itself.
 */
#ifndef CHANSIM_OBSERVABILITY_H
#define CHANSIM_OBSERVABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goerr.h"
#include "metrics.h"
#include "sched.h"

typedef struct observability_metrics observability_metrics_t;

/* NewMetrics(reg): registers the seed's seven metrics on reg (NULL: a
 * private registry owned by the set) and starts the goroutine collector
 * (goroutines_total every collector_interval; the seed's is 1s; 0: no
 * collector, for a comparison nobody scrapes). NULL and
 * a message from metrics_last_error(reg) if reg refuses a metric (one of
 * the names is already registered with other labels). */
observability_metrics_t *observability_metrics_create(metrics_registry_t *reg, bool seed_variant, simtime_t collector_interval);
/* Free it before sched_destroy would, with the core objects it made (its
 * stop channel, and its registry if it made one). None of its goroutines may
 * still run and nobody may use it again; its entity stays, as the view keeps
 * an entity for the whole run. NULL is ignored. */
void observability_metrics_destroy(observability_metrics_t *x);
/* Corrected: stop the collector goroutine (the seed has no way to). */
void observability_metrics_stop(observability_metrics_t *m);
metrics_registry_t *observability_metrics_registry(const observability_metrics_t *m);
bool observability_metrics_seed_variant(const observability_metrics_t *m);

/* The seven families in the seed's registration order. */
enum {
    OBS_REQUESTS_TOTAL,
    OBS_REQUEST_DURATION,
    OBS_GOROUTINES,
    OBS_WORKER_POOL_SIZE,
    OBS_QUEUE_DEPTH,
    OBS_ERRORS_TOTAL,
    OBS_IN_FLIGHT,
    OBS_FAMILY_COUNT
};
metrics_family_t *observability_metrics_family(const observability_metrics_t *m, int which);

/* Series and samples (lines of the exposition that are not comments) of
 * the set's seven families. */
typedef struct observability_series_count {
    size_t series[OBS_FAMILY_COUNT]; /* per family */
    size_t series_total;
    size_t samples[OBS_FAMILY_COUNT];
    size_t samples_total;
} observability_series_count_t;
observability_series_count_t observability_metrics_count(const observability_metrics_t *m);

/* Job: a unit of work. Its handler sleeps work and fails when
 * rand.Intn(fail_one_in) == 0 (never if fail_one_in is 0). */
typedef struct observability_job {
    char id[48];          /* ID */
    simtime_t work;       /* the handler's time.Sleep */
    int fail_one_in;      /* seed: 10 (high), 5 (low) */
    int priority;         /* Priority (the seed sets it and never reads it) */
    const char *result;   /* interned: the handler's result */
    const char *error;    /* interned: the handler's error message */
} observability_job_t;

/* One job's outcome, as the seed logs it. */
typedef struct observability_job_log {
    simtime_t t;          /* when it finished */
    const char *id;       /* interned */
    bool ok;              /* succeeded */
    const char *message;  /* interned: result or error */
} observability_job_log_t;

typedef struct observability_pool observability_pool_t;

/* NewInstrumentedWorkerPool(name, workers, queueSize, metrics). */
observability_pool_t *observability_pool_create(const char *name, int workers,
                                             int queue_size, observability_metrics_t *metrics);
/* Free it before sched_destroy would, with the core objects it made (its
 * queue, shutdown channel and wait group). None of its goroutines may still
 * run and nobody may use it again; its entity stays, as the view keeps an
 * entity for the whole run. NULL is ignored. */
void observability_pool_destroy(observability_pool_t *x);
/* Submit(job): NULL, or "queue is full" (counted in errors_total). */
const go_error_t *observability_pool_submit(observability_pool_t *p, const observability_job_t *job);
/* Shutdown(): stops the workers and zeroes the pool's gauges. Blocks until
 * the workers have returned. */
void observability_pool_shutdown(observability_pool_t *p);

/* GetMetrics(): workers, queue_size (len(queue)), processing. */
typedef struct observability_pool_metrics {
    int workers;
    int64_t queue_size;
    int32_t processing;
} observability_pool_metrics_t;
observability_pool_metrics_t observability_pool_get_metrics(const observability_pool_t *p);

typedef struct observability_pool_stats {
    int64_t submitted, rejected;   /* Submit calls accepted / "queue is full" */
    int64_t succeeded, failed;     /* jobs run */
    int64_t lost;                  /* accepted but never run (left in the queue at Shutdown) */
    int64_t queue_max;             /* deepest the queue got */
} observability_pool_stats_t;
observability_pool_stats_t observability_pool_stats(const observability_pool_t *p);
/* Each job's outcome in the order they finished; borrowed until the next
 * job finishes. */
size_t observability_pool_log(const observability_pool_t *p, const observability_job_log_t **list);
const char *observability_pool_name(const observability_pool_t *p);

#endif
