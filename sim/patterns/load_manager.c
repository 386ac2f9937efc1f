/*
 * load_manager: the seed's LoadManager, function for function, on
 * simulated time. See load_manager.h.
 */
#include "load_manager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "mem.h"
#include "sync.h"

static const char *const level_names[SERVICE_LEVEL_COUNT] = {"Full", "Reduced", "Minimal",
                                                             "Emergency"};
static const char *const metric_names[LOAD_METRIC_COUNT] = {"cpu", "memory", "requestRate",
                                                            "errorRate"};

const char *load_manager_level_string(load_manager_level_t l)
{
    return (unsigned)l < SERVICE_LEVEL_COUNT ? level_names[l] : "?";
}

const char *load_manager_metric_string(load_manager_metric_t m)
{
    return (unsigned)m < LOAD_METRIC_COUNT ? metric_names[m] : "?";
}

struct load_manager {
    obj_t hdr;                              /* scheduler-owned */
    load_manager_level_t current_level;     /* currentLevel */
    int64_t metrics[LOAD_METRIC_COUNT];     /* cpuLoad, memoryUsage, requestRate, errorRate */
    int64_t thresholds[SERVICE_LEVEL_COUNT][LOAD_METRIC_COUNT]; /* row 0 unused */
    rwmutex_t *mu;                          /* mu */
    load_manager_level_change_fn on_level_change;               /* onLevelChange */
    void *on_level_change_ud;
    load_manager_rule_fn degradation_rules[SERVICE_LEVEL_COUNT]; /* degradationRules */
    void *rule_ud[SERVICE_LEVEL_COUNT];
    int down_pct;                               /* hysteresis: lowered down thresholds */
    simtime_t min_dwell;                        /* hysteresis: least time at a level */
    simtime_t entered_at;                       /* when the current level began */
    simtime_t time_at[SERVICE_LEVEL_COUNT];     /* time spent at each level, closed spells */
    int64_t rules_applied[SERVICE_LEVEL_COUNT]; /* runs of each rule */
    load_manager_level_change_t *changes;       /* history, malloc'd */
    size_t nchanges, capchanges;
    entity_t *entity;                           /* state: the level; fields: the figures */
};

static void load_manager_deinit(obj_t *o)
{
    free(((load_manager_t *)o)->changes);
}

/* The seed's default handler: log.Printf("Service level changed from %v
 * to %v", from, to); ServiceLevel has no String method, so Go prints the
 * numbers. Here the line goes to the trace, with the names and the cause. */
static void default_on_level_change(void *ud, load_manager_level_t from, load_manager_level_t to,
                                    const load_manager_level_change_t *why)
{
    (void)ud;
    char line[256];
    snprintf(line, sizeof line, "Service level changed from %d to %d (%s -> %s: %s)", (int)from,
             (int)to, load_manager_level_string(from), load_manager_level_string(to), why->cause);
    sched_emit(EV_LOG, 0, from, to, line);
}

load_manager_t *load_manager_create(void)
{
    load_manager_t *lm = obj_alloc(sizeof *lm, OBJ_NONE, load_manager_deinit);
    obj_set_name(lm, "LoadManager");
    lm->current_level = FULL_SERVICE;
    static const int64_t seed_thresholds[SERVICE_LEVEL_COUNT][LOAD_METRIC_COUNT] = {
        [REDUCED_SERVICE] = {70, 80, 1000, 5},   /* 70% CPU, 80% memory, 1000 req/sec, 5% errors */
        [MINIMAL_SERVICE] = {85, 90, 2000, 10},
        [EMERGENCY_SERVICE] = {95, 95, 3000, 20},
    };
    memcpy(lm->thresholds, seed_thresholds, sizeof lm->thresholds);
    lm->mu = rwmutex_new();
    obj_set_name(lm->mu, "LoadManager.mu");
    lm->on_level_change = default_on_level_change;
    lm->entered_at = sched_now();
    lm->entity = entity_new("load_manager", "LoadManager", NULL);
    entity_set_state(lm->entity, load_manager_level_string(FULL_SERVICE));
    entity_set(lm->entity, "cpu", 0);
    entity_set(lm->entity, "memory", 0);
    entity_set(lm->entity, "rate", 0);
    entity_set(lm->entity, "errors", 0);
    return lm;
}

void load_manager_destroy(load_manager_t *x)
{
    if (!x)
        return;
    rwmutex_free(x->mu);
    obj_free(x);
}

void load_manager_set_on_level_change(load_manager_t *lm, load_manager_level_change_fn fn, void *ud)
{
    rwmutex_lock(lm->mu);
    lm->on_level_change = fn;
    lm->on_level_change_ud = ud;
    rwmutex_unlock(lm->mu);
}

void load_manager_set_degradation_rule(load_manager_t *lm, load_manager_level_t level,
                                       load_manager_rule_fn rule, void *ud)
{
    if ((unsigned)level >= SERVICE_LEVEL_COUNT)
        go_panic("SetDegradationRule: no such service level %d", (int)level);
    rwmutex_lock(lm->mu);
    lm->degradation_rules[level] = rule;
    lm->rule_ud[level] = ud;
    rwmutex_unlock(lm->mu);
}

void load_manager_set_threshold(load_manager_t *lm, load_manager_level_t level, load_manager_metric_t m,
                                int64_t value)
{
    if (level < REDUCED_SERVICE || level >= SERVICE_LEVEL_COUNT || (unsigned)m >= LOAD_METRIC_COUNT)
        go_panic("LoadManager: no threshold for level %d, metric %d", (int)level, (int)m);
    lm->thresholds[level][m] = value;
}

int64_t load_manager_threshold(const load_manager_t *lm, load_manager_level_t level, load_manager_metric_t m)
{
    if (level < REDUCED_SERVICE || level >= SERVICE_LEVEL_COUNT || (unsigned)m >= LOAD_METRIC_COUNT)
        return 0;
    return lm->thresholds[level][m];
}

void load_manager_set_hysteresis(load_manager_t *lm, int down_pct, simtime_t min_dwell)
{
    lm->down_pct = down_pct < 0 ? 0 : down_pct > 99 ? 99 : down_pct;
    lm->min_dwell = min_dwell < 0 ? 0 : min_dwell;
}

/* The threshold of (level, m), lowered by pct percent. */
static int64_t threshold_of(const load_manager_t *lm, load_manager_level_t level, int m, int pct)
{
    int64_t t = lm->thresholds[level][m];
    return pct ? t * (100 - pct) / 100 : t;
}

/* The seed's if/else chain: Emergency, Minimal, Reduced, each when any
 * metric (cpu, memory, requestRate, errorRate, in that order) is at or
 * above its threshold. *cause receives the first metric that decided, or
 * -1 for Full. */
static load_manager_level_t level_for(const load_manager_t *lm, int pct, int *cause)
{
    for (int level = EMERGENCY_SERVICE; level >= REDUCED_SERVICE; level--) {
        for (int m = 0; m < LOAD_METRIC_COUNT; m++) {
            if (lm->metrics[m] >= threshold_of(lm, level, m, pct)) {
                *cause = m;
                return (load_manager_level_t)level;
            }
        }
    }
    *cause = -1;
    return FULL_SERVICE;
}

static void describe_change(const load_manager_t *lm, load_manager_level_change_t *c, int pct)
{
    const int64_t *v = lm->metrics;
    char lowered[48] = "";
    if (pct)
        snprintf(lowered, sizeof lowered, " less %d%%", pct);
    if (c->to > c->from) {
        snprintf(c->cause, sizeof c->cause, "%s %lld >= %lld (%s)", metric_names[c->cause_metric],
                 (long long)c->cause_value, (long long)c->cause_threshold,
                 load_manager_level_string(c->to));
    } else if (c->cause_metric >= 0) {
        snprintf(c->cause, sizeof c->cause, "nothing reaches %s's thresholds%s; %s %lld >= %lld (%s)",
                 load_manager_level_string(c->to + 1), lowered, metric_names[c->cause_metric],
                 (long long)c->cause_value, (long long)c->cause_threshold,
                 load_manager_level_string(c->to));
    } else {
        snprintf(c->cause, sizeof c->cause,
                 "nothing reaches Reduced's thresholds%s (cpu %lld, memory %lld, rate %lld, errors %lld)",
                 lowered, (long long)v[0], (long long)v[1], (long long)v[2], (long long)v[3]);
    }
}

/* adjustServiceLevel changes the service level based on current metrics.
 * Called with lm->mu held. */
static void load_manager_adjust_service_level(load_manager_t *lm)
{
    /* Determine appropriate service level */
    int cause;
    load_manager_level_t new_level = level_for(lm, 0, &cause);
    int pct = 0;
    if (new_level < lm->current_level && (lm->down_pct || lm->min_dwell)) {
        /* Hysteresis: fall only as far as the lowered thresholds allow,
         * and only after the dwell time. */
        pct = lm->down_pct;
        new_level = level_for(lm, pct, &cause);
        if (new_level > lm->current_level || sched_now() - lm->entered_at < lm->min_dwell)
            new_level = lm->current_level;
    }
    /* If level changed, notify and apply degradation rules */
    if (new_level == lm->current_level)
        return;
    load_manager_level_t old_level = lm->current_level;
    lm->current_level = new_level;
    simtime_t now = sched_now();
    lm->time_at[old_level] += now - lm->entered_at;
    lm->entered_at = now;

    if (lm->nchanges == lm->capchanges) {
        lm->capchanges = lm->capchanges ? lm->capchanges * 2 : 32;
        lm->changes = mem_realloc(lm->changes, lm->capchanges * sizeof *lm->changes);
    }
    load_manager_level_change_t *c = &lm->changes[lm->nchanges++];
    memset(c, 0, sizeof *c);
    c->t = now;
    c->from = old_level;
    c->to = new_level;
    memcpy(c->metrics, lm->metrics, sizeof c->metrics);
    c->cause_metric = cause;
    if (cause >= 0) {
        c->cause_value = lm->metrics[cause];
        c->cause_threshold = threshold_of(lm, new_level, cause, new_level > old_level ? 0 : pct);
    }
    describe_change(lm, c, pct);
    entity_set_state(lm->entity, load_manager_level_string(new_level));

    /* Notify about level change */
    if (lm->on_level_change)
        lm->on_level_change(lm->on_level_change_ud, old_level, new_level, c);
    /* Apply degradation rule if available */
    if (lm->degradation_rules[new_level]) {
        lm->rules_applied[new_level]++;
        lm->degradation_rules[new_level](lm->rule_ud[new_level]);
    }
}

void load_manager_update_metrics(load_manager_t *lm, int64_t cpu, int64_t memory,
                                 int64_t request_rate, int64_t error_rate)
{
    rwmutex_lock(lm->mu);
    lm->metrics[METRIC_CPU] = cpu;
    lm->metrics[METRIC_MEMORY] = memory;
    lm->metrics[METRIC_REQUEST_RATE] = request_rate;
    lm->metrics[METRIC_ERROR_RATE] = error_rate;
    entity_set(lm->entity, "cpu", cpu);
    entity_set(lm->entity, "memory", memory);
    entity_set(lm->entity, "rate", request_rate);
    entity_set(lm->entity, "errors", error_rate);
    /* Check if we need to change service level */
    load_manager_adjust_service_level(lm);
    rwmutex_unlock(lm->mu);
}

load_manager_level_t load_manager_get_current_level(load_manager_t *lm)
{
    rwmutex_rlock(lm->mu);
    load_manager_level_t l = lm->current_level;
    rwmutex_runlock(lm->mu);
    return l;
}

void load_manager_get_metrics(load_manager_t *lm, int64_t out[LOAD_METRIC_COUNT])
{
    rwmutex_rlock(lm->mu);
    memcpy(out, lm->metrics, sizeof lm->metrics);
    rwmutex_runlock(lm->mu);
}

size_t load_manager_changes(const load_manager_t *lm, const load_manager_level_change_t **list)
{
    *list = lm->changes;
    return lm->nchanges;
}

int64_t load_manager_rules_applied(const load_manager_t *lm, load_manager_level_t level)
{
    return (unsigned)level < SERVICE_LEVEL_COUNT ? lm->rules_applied[level] : 0;
}

simtime_t load_manager_time_at(const load_manager_t *lm, load_manager_level_t level)
{
    if ((unsigned)level >= SERVICE_LEVEL_COUNT)
        return 0;
    simtime_t t = lm->time_at[level];
    if (level == lm->current_level)
        t += sched_now() - lm->entered_at;
    return t;
}
