/*
 * degradable_service: the seed's "Graceful Degradation" section: a
 * DegradableService, driven by a LoadManager (load_manager.h), whose
 * degradation rules switch features off and shrink its BoundedExecutor
 * (20/1s, 15/800ms, 10/500ms, 5/300ms) as the level rises, under the seed's load curve (50 requests per second rising
 * to 2000 mid-run and back, 30s).
 *
 * Inputs. The seed feeds its LoadManager made-up figures: inside SimulateLoad
 * cpu = 30 + int64(70*progress) up to the middle of the test and
 * 30 + int64(140*(1-progress)) after it, memory = 40 + int64(55*progress),
 * progress being the elapsed fraction of the test (a float64, as in Go),
 * and its processing steps are plain time.Sleep calls. inputs = SEED keeps
 * that (the seed variant proper: its logic with its inputs). inputs =
 * MEASURED (the corrected service, and the seed's logic as "seed_measured")
 * measures instead:
 * - cpu: the utilisation of the simulated CPUs (scenario gomaxprocs) over
 *   the window since the last update: busy CPU-ns / (procs * window).
 *   Every processing step of a request (the seed's time.Sleep of 100, 50,
 *   80, 50 or 30ms) holds a CPU for cpu_pct percent of its time
 *   (cpu_work, so it queues when the CPUs are busy) and sleeps the rest
 *   (waiting on storage and downstream calls).
 * - memory: in-flight work: the requests inside handle_request (waiting for
 *   an executor slot or running) times request_bytes, as a percentage of
 *   memory_budget_bytes, sampled at the update. Not capped: above 100 a
 *   real process would be out of memory.
 * - request rate: requests that arrived in the window, per second of it.
 * - error rate: requests that failed (a processing error or a rejection by
 *   the executor), as a percentage of the requests completed in the window.
 *
 * The seed's bugs, kept by seed_variant (corrected is the default):
 * - its load loop sends one "second" of requests spaced over a full second
 *   and then sleeps another second: the offered load is half the curve, in
 *   1s bursts, metrics are updated every ~2s, and the requests of a 2s
 *   window are reported as the rate per second. Corrected: arrivals follow
 *   the curve continuously and metrics are updated every update_interval
 *   (1s) over the real window.
 * - each rule replaces workerPool with a new executor while requests still
 *   hold slots of the old one, so the concurrency bound is exceeded (up to
 *   the old and the new bound added). Corrected: one executor resized in
 *   place; a shrink admits nobody until the running requests fall below
 *   the new bound.
 * - errorCounter counts failed attempts, and a failed request once more:
 *   a request that fails twice counts 3, one whose retry succeeds counts 1
 *   although it succeeded. At the seed's 5% failures the counted "error
 *   rate" sits right on the 5% Reduced threshold. Corrected: one count per
 *   request that finally failed.
 * - no rule restores anything: back at Full the pool stays small and
 *   analytics, recommendations and retries stay off; a jump from Full to
 *   Minimal skips Reduced's rule. Corrected: every level (Full included)
 *   has a rule that sets that level's whole configuration.
 *
 * The seed's channel semaphore (make(chan struct{}, n) with a select on
 * ctx.Done) is modelled as a counter with a FIFO queue of waiters, which is
 * what a buffered channel's queue of blocked senders is, so that it can be
 * resized in place for the corrected variant.
 *
 * Published: entities (the load manager: its level as state, fields cpu,
 * memory, rate, errors; the service: feature flags, retry, in_flight; each
 * executor: capacity, in_flight, waiting), the seed's log lines and every
 * level change with its cause as trace events, and metrics in the run's
 * registry, labelled service = the service's name: degradation_service_level,
 * degradation_load{metric}, degradation_level_changes_total{from,to},
 * degradation_requests_total{level,outcome}, degradation_in_flight_requests,
 * degradation_executor_in_flight, degradation_executor_capacity.
 *
 * Ownership: services (and their managers) are owned by the running scheduler and
 * live until sched_destroy; lists returned are borrowed from their object
 * until the next call that changes it.
 */
#ifndef CHANSIM_DEGRADABLE_SERVICE_H
#define CHANSIM_DEGRADABLE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "ctx.h"
#include "load_manager.h"

/* The seed's featureFlags. */
typedef enum degradable_service_feature {
    FEATURE_ANALYTICS,
    FEATURE_NOTIFICATIONS,
    FEATURE_RECOMMENDATIONS,
    FEATURE_FULL_HISTORY,
    FEATURE_COUNT
} degradable_service_feature_t;

/* "analytics", "notifications", "recommendations", "fullHistory". */
const char *degradable_service_feature_string(degradable_service_feature_t f);

/* Where cpu and memory come from (see above). */
typedef enum degradable_service_inputs {
    DEGRADATION_INPUTS_MEASURED, /* the simulated CPUs' utilisation, the requests in flight */
    DEGRADATION_INPUTS_SEED,     /* the seed's synthetic curves; processing is plain sleeps */
} degradable_service_inputs_t;

typedef struct degradable_service_config {
    const char *name;                            /* the service's name (entity, metrics' service label); copied */
    bool seed_variant;                           /* keep the seed's four bugs (see above) */
    degradable_service_inputs_t inputs;          /* measured (default) or the seed's synthetic figures */
    cpu_pool_t *cpu;                             /* the CPUs whose utilisation is "cpu"; NULL: cpu is 0 */
    int cpu_pct;                                 /* percent of each processing step that is CPU work */
    int64_t request_bytes;                       /* memory held by a request in flight */
    int64_t memory_budget_bytes;                 /* what 100% memory is */
    int failure_pct;                             /* seed: rand.Intn(100) < 5 */
    simtime_t request_timeout;                   /* seed: context.WithTimeout(ctx, 2s) per request */
    simtime_t update_interval;                   /* corrected: metrics every 1s */
    int64_t base_rate, peak_rate;                /* seed: 50 rising to 2000 requests per second */
    int pool_size[SERVICE_LEVEL_COUNT];          /* seed: 20, 15, 10, 5 */
    simtime_t pool_timeout[SERVICE_LEVEL_COUNT]; /* seed: 1s, 800ms, 500ms, 300ms */
    int down_pct;                                /* hysteresis, 0: none (the seed) */
    simtime_t min_dwell;                         /* hysteresis, 0: none (the seed) */
} degradable_service_config_t;

/* The seed's parameters, corrected variant, no CPUs, cpu_pct 25, 512 KiB
 * per request against a 512 MiB budget (1024 requests in flight fill it). */
degradable_service_config_t degradable_service_config_default(void);

/* One metrics update of the load loop (the seed's "Load: ..." line). */
typedef struct degradable_service_load_update {
    simtime_t t;                        /* when */
    int64_t metrics[LOAD_METRIC_COUNT]; /* cpu, memory, rate, errors */
    load_manager_level_t level;         /* the level after the update */
    int64_t offered_rate;               /* the curve's rate at that time */
    int64_t in_flight;                  /* requests in handle_request */
    int64_t executing;                  /* requests holding an executor slot */
    int capacity;                       /* the current executor's bound */
} degradable_service_load_update_t;

typedef struct degradable_service_stats {
    int64_t requests;          /* handle_request calls */
    int64_t succeeded, failed; /* final outcomes */
    int64_t rejected;          /* failed because no slot came in time (any attempt) */
    int64_t processing_errors; /* failed attempts (first or retry) */
    int64_t retries, retries_succeeded;
    int64_t error_counter_total;           /* what the seed's errorCounter added up to */
    int64_t by_level[SERVICE_LEVEL_COUNT]; /* requests started at each level */
    int64_t succeeded_by_level[SERVICE_LEVEL_COUNT];
    int64_t executing_max;         /* most requests holding slots at once, all executors */
    int64_t admissions_over_bound; /* slots granted while the current bound was exceeded */
    int64_t in_flight_max;         /* most requests inside handle_request at once */
    int executors_created;         /* 1 corrected; the seed makes one per rule */
    int64_t level_changes;
    int64_t rules_applied;
    simtime_t latency_sum_ns;    /* of succeeded requests */
    simtime_t latency_max_ns;
    simtime_t cpu_busy_ns;       /* CPU time used during simulate_load */
} degradable_service_stats_t;

typedef struct degradable_service degradable_service_t;

/* NewDegradableService with cfg (copied; NULL: the defaults). */
degradable_service_t *degradable_service_create(const degradable_service_config_t *cfg);
/* Free it before sched_destroy would, with the core objects it made (its
 * LoadManager and its current executor; executors the seed variant replaced
 * stay with the scheduler). None of its goroutines may still run and nobody
 * may use it again; its entity stays, as the view keeps an entity for the
 * whole run. NULL is ignored. */
void degradable_service_destroy(degradable_service_t *x);
load_manager_t *degradable_service_load_manager(degradable_service_t *s);
/* HandleRequest(ctx, requestID): NULL on success, else the error
 * ("operation rejected: context deadline exceeded", "processing error",
 * "retry failed"). Blocks the calling goroutine. */
const go_error_t *degradable_service_handle_request(degradable_service_t *s, ctx_t *ctx,
                                                    const char *request_id);
/* SimulateLoad(ctx, duration): the seed's load curve over duration,
 * returning when the test is complete. In the seed variant the load
 * generator may outlive it, as the seed's does. */
void degradable_service_simulate_load(degradable_service_t *s, ctx_t *ctx, simtime_t duration);
/* Take one metrics sample now and update the load manager (the body of
 * the corrected monitor; for scenarios that drive their own load). It
 * measures cpu and memory whatever the inputs: the seed's synthetic
 * figures exist only inside its SimulateLoad. */
void degradable_service_update_metrics(degradable_service_t *s);

bool degradable_service_feature(const degradable_service_t *s, degradable_service_feature_t f);
bool degradable_service_retry_enabled(const degradable_service_t *s);
int degradable_service_pool_size(const degradable_service_t *s);
simtime_t degradable_service_pool_timeout(const degradable_service_t *s);
degradable_service_stats_t degradable_service_stats(const degradable_service_t *s);
/* The metrics updates so far, in order; borrowed until the next update. */
size_t degradable_service_updates(const degradable_service_t *s, const degradable_service_load_update_t **list);

#endif
