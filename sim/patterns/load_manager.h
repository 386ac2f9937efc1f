/*
 * load_manager: the seed's LoadManager ("Graceful Degradation"): it moves a
 * service between four levels (Full, Reduced, Minimal, Emergency) from its
 * CPU, memory, request-rate and error-rate figures. The service it drives
 * is degradable_service.h.
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
 * Published: an entity (the level as state, fields cpu, memory, rate,
 * errors) and, by the default on_level_change, an EV_LOG line per change.
 *
 * Ownership: a manager is owned by the running scheduler and lives until
 * sched_destroy; lists returned are borrowed until the next update.
 */
#ifndef CHANSIM_LOAD_MANAGER_H
#define CHANSIM_LOAD_MANAGER_H

#include <stddef.h>
#include <stdint.h>

#include "sched.h"

/* ServiceLevel. */
typedef enum load_manager_level {
    FULL_SERVICE,
    REDUCED_SERVICE,
    MINIMAL_SERVICE,
    EMERGENCY_SERVICE,
    SERVICE_LEVEL_COUNT
} load_manager_level_t;

/* "Full", "Reduced", "Minimal", "Emergency". */
const char *load_manager_level_string(load_manager_level_t l);

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
    simtime_t t;                          /* when */
    load_manager_level_t from, to;        /* levels */
    int64_t metrics[LOAD_METRIC_COUNT];   /* the figures that decided it */
    int cause_metric;                     /* the load_manager_metric_t holding the new level, -1 for Full */
    int64_t cause_value, cause_threshold; /* its value and the threshold it reached */
    char cause[160];                      /* "cpu 87 >= 85 (Minimal)", or why it fell */
} load_manager_level_change_t;

typedef struct load_manager load_manager_t;

typedef void (*load_manager_level_change_fn)(void *ud, load_manager_level_t from, load_manager_level_t to,
                                             const load_manager_level_change_t *why);
typedef void (*load_manager_rule_fn)(void *ud);

/* NewLoadManager: level Full, the seed's thresholds, no rules, the
 * default on_level_change (records an EV_LOG line). Scheduler-owned. */
load_manager_t *load_manager_create(void);
/* Free it before sched_destroy would, with the core objects it made (its
 * lock). None of its goroutines may still run and nobody may use it again;
 * its entity stays, as the view keeps an entity for the whole run. NULL is
 * ignored. */
void load_manager_destroy(load_manager_t *x);
/* SetOnLevelChange / SetDegradationRule (NULL removes). */
void load_manager_set_on_level_change(load_manager_t *lm, load_manager_level_change_fn fn, void *ud);
void load_manager_set_degradation_rule(load_manager_t *lm, load_manager_level_t level,
                                       load_manager_rule_fn rule, void *ud);
/* Thresholds of Reduced, Minimal and Emergency (level >= 1). */
void load_manager_set_threshold(load_manager_t *lm, load_manager_level_t level, load_manager_metric_t m,
                                int64_t value);
int64_t load_manager_threshold(const load_manager_t *lm, load_manager_level_t level, load_manager_metric_t m);
/* Hysteresis (not the seed's): leave a level downwards only when every
 * metric is below its threshold lowered by down_pct percent (0..99) and
 * after min_dwell at the level. 0, 0: the seed's behaviour. */
void load_manager_set_hysteresis(load_manager_t *lm, int down_pct, simtime_t min_dwell);
/* UpdateMetrics: store the figures and adjust the service level. */
void load_manager_update_metrics(load_manager_t *lm, int64_t cpu, int64_t memory,
                                 int64_t request_rate, int64_t error_rate);
/* GetCurrentLevel / GetMetrics (out receives LOAD_METRIC_COUNT values). */
load_manager_level_t load_manager_get_current_level(load_manager_t *lm);
void load_manager_get_metrics(load_manager_t *lm, int64_t out[LOAD_METRIC_COUNT]);
/* Every change so far, in order. Borrowed until the next update. */
size_t load_manager_changes(const load_manager_t *lm, const load_manager_level_change_t **list);
/* How many times the rule of a level ran. */
int64_t load_manager_rules_applied(const load_manager_t *lm, load_manager_level_t level);
/* Simulated time spent at each level up to now. */
simtime_t load_manager_time_at(const load_manager_t *lm, load_manager_level_t level);

#endif
