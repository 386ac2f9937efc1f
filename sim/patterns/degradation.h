/*
 * degradation: the seed's "Graceful Degradation" section: a LoadManager
 * that moves a service between four levels (Full, Reduced, Minimal,
 * Emergency) from its CPU, memory, request-rate and error-rate figures,
 * and a DegradableService whose degradation rules switch features off and
 * shrink its BoundedExecutor (20/1s, 15/800ms, 10/500ms, 5/300ms) as the
 * level rises, under the seed's load curve (50 requests per second rising
 * to 2000 mid-run and back, 30s).
 *
 * The level logic is the seed's exactly: Emergency, then Minimal, then
 * Reduced, each reached when any one metric is at or above that level's
 * threshold (cpu 70/85/95 %, memory 80/90/95 %, request rate
 * 1000/2000/3000 per second, error rate 5/10/20 %), else Full. On a change
 * the on_level_change callback runs, then the rule of the new level, once
 * per entry, under the manager's lock. Optional hysteresis (not in the
 * seed, off by default): leaving a level downwards needs every metric
 * below the thresholds lowered by down_pct percent, and at least
 * min_dwell at the current level; rising is immediate.
 *
 * What is measured, not invented (the seed makes up cpu = 30 + 70*progress
 * and memory = 40 + 55*progress):
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
 * Ownership: managers and services are owned by the running scheduler and
 * live until sched_destroy; lists returned are borrowed from their object
 * until the next call that changes it.
 */
#ifndef CHANSIM_DEGRADATION_H
#define CHANSIM_DEGRADATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "ctx.h"

/* ServiceLevel. */
typedef enum load_manager_service_level {
    FULL_SERVICE,
    REDUCED_SERVICE,
    MINIMAL_SERVICE,
    EMERGENCY_SERVICE,
    SERVICE_LEVEL_COUNT
} load_manager_service_level_t;

/* "Full", "Reduced", "Minimal", "Emergency". */
const char *load_manager_service_level_string(load_manager_service_level_t l);

/* The keys of the seed's thresholds maps, in the order it checks them. */
typedef enum load_manager_metric {
    METRIC_CPU,          /* "cpu", percent */
    METRIC_MEMORY,       /* "memory", percent */
    METRIC_REQUEST_RATE, /* "requestRate", requests per second */
    METRIC_ERROR_RATE,   /* "errorRate", percent */
    LOAD_METRIC_COUNT
} load_manager_metric_t;

/* "cpu", "memory", "requestRate", "errorRate". */
const char *load_manager_metric_string(load_manager_metric_t m);

/* One change of level, with why it happened. */
typedef struct load_manager_level_change {
    simtime_t t;                           /* when */
    load_manager_service_level_t from, to;              /* levels */
    int64_t metrics[LOAD_METRIC_COUNT];    /* the figures that decided it */
    int cause_metric;                      /* the load_manager_metric_t holding the new level, -1 for Full */
    int64_t cause_value, cause_threshold;  /* its value and the threshold it reached */
    char cause[160];                       /* "cpu 87 >= 85 (Minimal)", or why it fell */
} load_manager_level_change_t;

typedef struct load_manager load_manager_t;

typedef void (*load_manager_level_change_fn)(void *ud, load_manager_service_level_t from, load_manager_service_level_t to,
                                             const load_manager_level_change_t *why);
typedef void (*load_manager_rule_fn)(void *ud);

/* NewLoadManager: level Full, the seed's thresholds, no rules, the
 * default on_level_change (records an EV_LOG line). Scheduler-owned. */
load_manager_t *load_manager_new(void);
/* SetOnLevelChange / SetDegradationRule (NULL removes). */
void load_manager_set_on_level_change(load_manager_t *lm, load_manager_level_change_fn fn, void *ud);
void load_manager_set_degradation_rule(load_manager_t *lm, load_manager_service_level_t level,
                                       load_manager_rule_fn rule, void *ud);
/* Thresholds of Reduced, Minimal and Emergency (level >= 1). */
void load_manager_set_threshold(load_manager_t *lm, load_manager_service_level_t level, load_manager_metric_t m,
                                int64_t value);
int64_t load_manager_threshold(const load_manager_t *lm, load_manager_service_level_t level, load_manager_metric_t m);
/* Hysteresis (not the seed's): leave a level downwards only when every
 * metric is below its threshold lowered by down_pct percent (0..99) and
 * after min_dwell at the level. 0, 0: the seed's behaviour. */
void load_manager_set_hysteresis(load_manager_t *lm, int down_pct, simtime_t min_dwell);
/* UpdateMetrics: store the figures and adjust the service level. */
void load_manager_update_metrics(load_manager_t *lm, int64_t cpu, int64_t memory,
                                 int64_t request_rate, int64_t error_rate);
/* GetCurrentLevel / GetMetrics (out receives LOAD_METRIC_COUNT values). */
load_manager_service_level_t load_manager_get_current_level(load_manager_t *lm);
void load_manager_get_metrics(load_manager_t *lm, int64_t out[LOAD_METRIC_COUNT]);
/* Every change so far, in order. Borrowed until the next update. */
size_t load_manager_changes(const load_manager_t *lm, const load_manager_level_change_t **list);
/* How many times the rule of a level ran. */
int64_t load_manager_rules_applied(const load_manager_t *lm, load_manager_service_level_t level);
/* Simulated time spent at each level up to now. */
simtime_t load_manager_time_at(const load_manager_t *lm, load_manager_service_level_t level);

/* ---- DegradableService ------------------------------------------------- */

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

typedef struct degradable_service_config {
    const char *name;              /* the service's name (entity, metrics' service label); copied */
    bool seed_variant;             /* keep the seed's four bugs (see above) */
    cpu_pool_t *cpu;               /* the CPUs whose utilisation is "cpu"; NULL: cpu is 0 */
    int cpu_pct;                   /* percent of each processing step that is CPU work */
    int64_t request_bytes;         /* memory held by a request in flight */
    int64_t memory_budget_bytes;   /* what 100% memory is */
    int failure_pct;               /* seed: rand.Intn(100) < 5 */
    simtime_t request_timeout;     /* seed: context.WithTimeout(ctx, 2s) per request */
    simtime_t update_interval;     /* corrected: metrics every 1s */
    int64_t base_rate, peak_rate;  /* seed: 50 rising to 2000 requests per second */
    int pool_size[SERVICE_LEVEL_COUNT];          /* seed: 20, 15, 10, 5 */
    simtime_t pool_timeout[SERVICE_LEVEL_COUNT]; /* seed: 1s, 800ms, 500ms, 300ms */
    int down_pct;                  /* hysteresis, 0: none (the seed) */
    simtime_t min_dwell;           /* hysteresis, 0: none (the seed) */
} degradable_service_config_t;

/* The seed's parameters, corrected variant, no CPUs, cpu_pct 25, 512 KiB
 * per request against a 512 MiB budget (1024 requests in flight fill it). */
degradable_service_config_t degradable_service_config_default(void);

/* One metrics update of the load loop (the seed's "Load: ..." line). */
typedef struct degradable_service_load_update {
    simtime_t t;                         /* when */
    int64_t metrics[LOAD_METRIC_COUNT];  /* cpu, memory, rate, errors */
    load_manager_service_level_t level;               /* the level after the update */
    int64_t offered_rate;                /* the curve's rate at that time */
    int64_t in_flight;                   /* requests in handle_request */
    int64_t executing;                   /* requests holding an executor slot */
    int capacity;                        /* the current executor's bound */
} degradable_service_load_update_t;

typedef struct degradable_service_stats {
    int64_t requests;            /* handle_request calls */
    int64_t succeeded, failed;   /* final outcomes */
    int64_t rejected;            /* failed because no slot came in time (any attempt) */
    int64_t processing_errors;   /* failed attempts (first or retry) */
    int64_t retries, retries_succeeded;
    int64_t error_counter_total; /* what the seed's errorCounter added up to */
    int64_t by_level[SERVICE_LEVEL_COUNT];        /* requests started at each level */
    int64_t succeeded_by_level[SERVICE_LEVEL_COUNT];
    int64_t executing_max;       /* most requests holding slots at once, all executors */
    int64_t admissions_over_bound; /* slots granted while the current bound was exceeded */
    int64_t in_flight_max;       /* most requests inside handle_request at once */
    int executors_created;       /* 1 corrected; the seed makes one per rule */
    int64_t level_changes;
    int64_t rules_applied;
    simtime_t latency_sum_ns;    /* of succeeded requests */
    simtime_t latency_max_ns;
    simtime_t cpu_busy_ns;       /* CPU time used during simulate_load */
} degradable_service_stats_t;

typedef struct degradable_service degradable_service_t;

/* NewDegradableService with cfg (copied; NULL: the defaults). */
degradable_service_t *degradable_service_new(const degradable_service_config_t *cfg);
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
 * the corrected monitor; for scenarios that drive their own load). */
void degradable_service_update_metrics(degradable_service_t *s);

bool degradable_service_feature(const degradable_service_t *s, degradable_service_feature_t f);
bool degradable_service_retry_enabled(const degradable_service_t *s);
int degradable_service_pool_size(const degradable_service_t *s);
simtime_t degradable_service_pool_timeout(const degradable_service_t *s);
degradable_service_stats_t degradable_service_stats(const degradable_service_t *s);
/* The metrics updates so far, in order; borrowed until the next update. */
size_t degradable_service_updates(const degradable_service_t *s, const degradable_service_load_update_t **list);

#endif
