/*
 * leak_detector: the seed's LeakDetector, function for function, with the
 * corrected variant's changes marked where they differ. See
 * leak_detector.h.
 */
#include "leak_detector.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "mem.h"
#include "pattern.h"
#include "sync.h"
#include "timer.h"

enum { M_CURRENT, M_BASELINE, M_PREVIOUS, M_ALERT_THRESHOLD, M_ALERTS, M_COUNT };

/* LeakDetector monitors goroutine count and detects potential leaks */
struct leak_detector {
    obj_t hdr;                   /* scheduler-owned */
    simtime_t interval;
    double threshold;
    int baseline_count;
    int previous_count;
    int samples[LEAK_DETECTOR_MAX_SAMPLES];
    int nsamples;
    int sample_size;
    chan_t *stop_ch;
    mutex_t *mu;
    int alert_threshold;
    leak_detector_fn on_leak;             /* NULL: none */
    void *on_leak_ud;
    /* chansim */
    leak_detector_options_t opt;
    const char *name;            /* interned */
    int last_alert_floor;        /* corrected: the window minimum last alerted (the baseline at first) */
    leak_detector_alert_t *alerts;
    size_t nalerts, capalerts;
    entity_t *entity;
    pattern_metric_t out[M_COUNT];
};

static void ld_logf(leak_detector_t *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ld_logf(leak_detector_t *ld, const char *fmt, ...)
{
    if (!ld->opt.log)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ld->opt.log(ld->opt.log_ud, line);
}

/* The seed's default onLeak. */
static void default_on_leak(void *ud, int count, const int *samples, int nsamples)
{
    (void)samples;
    (void)nsamples;
    ld_logf(ud, "WARNING: Potential goroutine leak detected! Current count: %d", count);
}

static int num_goroutine(void)
{
    return (int)sched_goroutines_alive(sched_current()); /* runtime.NumGoroutine() */
}

static int window_min(const leak_detector_t *ld)
{
    int m = ld->nsamples ? ld->samples[0] : 0;
    for (int i = 1; i < ld->nsamples; i++)
        if (ld->samples[i] < m)
            m = ld->samples[i];
    return m;
}

static void publish(leak_detector_t *ld, int current)
{
    pattern_pub(ld->entity, "baseline", ld->baseline_count);
    pattern_pub(ld->entity, "current", current);
    pattern_pub(ld->entity, "previous", ld->previous_count);
    pattern_pub(ld->entity, "alert_threshold", ld->alert_threshold);
    pattern_pub(ld->entity, "window_min", window_min(ld));
    pattern_pub(ld->entity, "alerts", (int64_t)ld->nalerts);
    pattern_metric_set(&ld->out[M_CURRENT], current);
    pattern_metric_set(&ld->out[M_BASELINE], ld->baseline_count);
    pattern_metric_set(&ld->out[M_PREVIOUS], ld->previous_count);
    pattern_metric_set(&ld->out[M_ALERT_THRESHOLD], ld->alert_threshold);
    pattern_metric_set(&ld->out[M_ALERTS], (int64_t)ld->nalerts);
}

static void ld_deinit(obj_t *o)
{
    leak_detector_t *ld = (leak_detector_t *)o;
    free(ld->alerts);
    ld->alerts = NULL;
}

/* NewLeakDetector creates a new goroutine leak detector */
leak_detector_t *leak_detector_create(simtime_t interval, double threshold, int sample_size,
                                   const leak_detector_options_t *opt)
{
    leak_detector_t *ld = obj_alloc(sizeof *ld, OBJ_NONE, ld_deinit);
    if (opt)
        ld->opt = *opt;
    if (!ld->opt.name)
        ld->opt.name = "leak-detector";
    if (ld->opt.warmup <= 0)
        ld->opt.warmup = 100 * SIM_MS;
    ld->name = sched_intern(sched_current(), ld->opt.name);
    ld->opt.name = ld->name;
    obj_set_name(ld, ld->name);
    ld->interval = interval;
    ld->threshold = threshold;
    ld->sample_size = sample_size < 1 ? 1 : sample_size > LEAK_DETECTOR_MAX_SAMPLES ? LEAK_DETECTOR_MAX_SAMPLES : sample_size;
    ld->stop_ch = chan_make(0, 0);
    obj_set_name(ld->stop_ch, "stopCh");
    ld->mu = mutex_new();
    ld->alert_threshold = 1000; // Alert if more than 1000 goroutines over baseline
    ld->on_leak = default_on_leak;
    ld->on_leak_ud = ld;
    ld->entity = entity_new("leak_detector", ld->name, NULL);
    entity_set(ld->entity, "interval", interval);
    entity_set(ld->entity, "sample_size", ld->sample_size);
    entity_set_state(ld->entity, "idle");
    static const pattern_metric_def_t defs[M_COUNT] = {
        {METRICS_GAUGE, "leak_detector_current_count", "runtime.NumGoroutine() at the last sample", 1},
        {METRICS_GAUGE, "leak_detector_baseline_count", "NumGoroutine after the warm-up", 1},
        {METRICS_GAUGE, "leak_detector_previous_count", "The sample before the last", 1},
        {METRICS_GAUGE, "leak_detector_alert_threshold", "Goroutines over baseline before an alert", 1},
        {METRICS_COUNTER, "leak_detector_alerts_total", "Calls of the leak callback", 1},
    };
    pattern_metrics_init(ld->out, defs, M_COUNT, "detector", ld->name);
    publish(ld, 0);
    return ld;
}

void leak_detector_destroy(leak_detector_t *x)
{
    if (!x)
        return;
    chan_free(x->stop_ch);
    mutex_free(x->mu);
    obj_free(x);
}

static void record_alert(leak_detector_t *ld, int count, int floor)
{
    if (ld->nalerts == ld->capalerts) {
        size_t cap = ld->capalerts ? ld->capalerts * 2 : 8;
        ld->alerts = mem_realloc(ld->alerts, cap * sizeof *ld->alerts);
        ld->capalerts = cap;
    }
    ld->alerts[ld->nalerts].t = sched_now();
    ld->alerts[ld->nalerts].count = count;
    ld->alerts[ld->nalerts].window_min = floor;
    ld->nalerts++;
    entity_set_state(ld->entity, "alert");
}

/* checkForLeaks checks if there's a potential goroutine leak */
static void check_for_leaks(leak_detector_t *ld)
{
    mutex_lock(ld->mu);

    int current_count = num_goroutine();

    // Add to samples
    if (ld->nsamples == ld->sample_size) {
        memmove(ld->samples, ld->samples + 1, (size_t)(ld->nsamples - 1) * sizeof ld->samples[0]);
        ld->nsamples--;
    }
    ld->samples[ld->nsamples++] = current_count;

    if (ld->opt.seed_variant) {
        // Check for significant increase
        if (current_count > ld->baseline_count + ld->alert_threshold) {
            // Check if the count is consistently increasing
            if (current_count > ld->previous_count) {
                // Calculate growth rate
                double growth_rate = (double)(current_count - ld->previous_count) / (double)ld->previous_count;

                if (growth_rate > ld->threshold) {
                    record_alert(ld, current_count, window_min(ld));
                    if (ld->on_leak)
                        ld->on_leak(ld->on_leak_ud, current_count, ld->samples, ld->nsamples); /* under ld.mu */
                }
            }
        }
        ld->previous_count = current_count;
        publish(ld, current_count);
        mutex_unlock(ld->mu);
        return;
    }

    /* corrected: judge the whole window: only what persisted through it
     * (its minimum) counts, so a spike that ended is not a leak */
    bool fire = false;
    int floor = window_min(ld);
    int copy[LEAK_DETECTOR_MAX_SAMPLES];
    int ncopy = ld->nsamples;
    if (ld->nsamples == ld->sample_size && floor > ld->last_alert_floor + ld->alert_threshold) {
        double growth = (double)(floor - ld->baseline_count) / (double)ld->baseline_count;
        if (growth > ld->threshold) {
            fire = true;
            ld->last_alert_floor = floor;
            record_alert(ld, current_count, floor);
            memcpy(copy, ld->samples, (size_t)ncopy * sizeof copy[0]);
        }
    }
    ld->previous_count = current_count;
    if (!fire && ld->nalerts > 0 && floor <= ld->baseline_count + ld->alert_threshold)
        entity_set_state(ld->entity, "watching");
    publish(ld, current_count);
    leak_detector_fn cb = ld->on_leak;
    void *cb_ud = ld->on_leak_ud;
    mutex_unlock(ld->mu);
    if (fire && cb)
        cb(cb_ud, current_count, copy, ncopy); /* outside the lock */
}

static void sampler(void *arg)
{
    leak_detector_t *ld = arg;
    sim_timer_t *ticker = ticker_new(ld->interval);
    for (;;) {
        select_case_t cases[2] = {
            {.ch = timer_chan(ticker), .dir = SELECT_RECV},
            {.ch = ld->stop_ch, .dir = SELECT_RECV},
        };
        if (chan_select(cases, 2, false) != 0)
            break;
        check_for_leaks(ld);
    }
    ticker_stop(ticker); // defer ticker.Stop()
}

/* Start begins monitoring for goroutine leaks */
void leak_detector_start(leak_detector_t *ld)
{
    entity_set_state(ld->entity, "warming up");
    // Capture the baseline after a short warmup
    go_sleep(ld->opt.warmup);
    ld->baseline_count = num_goroutine();
    ld->previous_count = ld->baseline_count;
    ld->last_alert_floor = ld->baseline_count;

    ld_logf(ld, "Leak detector started with baseline of %d goroutines", ld->baseline_count);
    entity_set_state(ld->entity, "watching");
    publish(ld, ld->baseline_count);

    char name[96];
    snprintf(name, sizeof name, "%s.sampler", ld->name);
    g_t *g = go_spawn(sampler, ld, name);
    go_set_role(g, "leak_detector");
}

/* Stop stops the leak detector */
void leak_detector_stop(leak_detector_t *ld)
{
    chan_close(ld->stop_ch);
    entity_set_state(ld->entity, "stopped");
}

/* SetAlertThreshold sets the threshold for leak alerts */
void leak_detector_set_alert_threshold(leak_detector_t *ld, int threshold)
{
    mutex_lock(ld->mu);
    ld->alert_threshold = threshold;
    pattern_pub(ld->entity, "alert_threshold", threshold);
    mutex_unlock(ld->mu);
}

/* SetOnLeakDetected sets the callback for leak detection */
void leak_detector_set_on_leak_detected(leak_detector_t *ld, leak_detector_fn fn, void *ud)
{
    mutex_lock(ld->mu);
    ld->on_leak = fn;
    ld->on_leak_ud = ud;
    mutex_unlock(ld->mu);
}

/* GetStats returns current goroutine statistics */
void leak_detector_get_stats(leak_detector_t *ld, leak_detector_stats_t *out)
{
    mutex_lock(ld->mu);
    out->current_count = num_goroutine();
    out->baseline_count = ld->baseline_count;
    out->previous_count = ld->previous_count;
    out->alert_threshold = ld->alert_threshold;
    out->nsamples = ld->nsamples;
    memcpy(out->samples, ld->samples, (size_t)ld->nsamples * sizeof out->samples[0]);
    out->alerts = (int)ld->nalerts;
    mutex_unlock(ld->mu);
}

const leak_detector_alert_t *leak_detector_alerts(const leak_detector_t *ld, size_t *n)
{
    *n = ld->nalerts;
    return ld->alerts;
}

entity_t *leak_detector_entity(const leak_detector_t *ld) { return ld->entity; }
const char *leak_detector_name(const leak_detector_t *ld) { return ld->name; }

/* ---- the demo's helpers -------------------------------------------------- */

static void leaking(void *arg)
{
    (void)arg;
    chan_select(NULL, 0, false); // This goroutine will never terminate
}

/* simulateLeakingGoroutines creates goroutines that never terminate */
void leak_detector_simulate_leaking_goroutines(int count)
{
    for (int i = 0; i < count; i++)
        go_spawn(leaking, NULL, "main.simulateLeakingGoroutines.func1");
}

typedef struct temp_arg {
    obj_t hdr;          /* scheduler-owned, shared by the goroutines */
    simtime_t duration;
} temp_arg_t;

static void temporary(void *arg)
{
    temp_arg_t *a = arg;
    go_sleep(a->duration);
}

/* simulateTemporaryGoroutines creates goroutines that terminate after a delay */
void leak_detector_simulate_temporary_goroutines(int count, simtime_t duration)
{
    temp_arg_t *a = obj_alloc(sizeof *a, OBJ_NONE, NULL);
    a->duration = duration;
    for (int i = 0; i < count; i++)
        go_spawn(temporary, a, "main.simulateTemporaryGoroutines.func1");
}

/* ---- dumpStacks, condensed --------------------------------------------- */

typedef struct profile {
    leak_detector_goroutine_group_t *groups;
    size_t max, n;
} profile_t;

static void profile_one(void *ud, g_t *g)
{
    profile_t *p = ud;
    wait_reason_t r = go_wait_reason(g);
    const char *name = go_name(g);
    uint64_t by = go_created_by(g);
    simtime_t since = r == WAIT_NONE ? sched_now() : go_blocked_since(g);
    for (size_t i = 0; i < p->n && i < p->max; i++) {
        leak_detector_goroutine_group_t *gr = &p->groups[i];
        if (gr->reason == r && strcmp(gr->name, name) == 0) {
            gr->count++;
            if (since < gr->oldest_blocked_since)
                gr->oldest_blocked_since = since;
            return;
        }
    }
    if (p->n < p->max) {
        leak_detector_goroutine_group_t *gr = &p->groups[p->n];
        gr->count = 1;
        gr->reason = r;
        gr->name = name;
        gr->created_by = by;
        gr->first_id = go_id(g);
        gr->oldest_blocked_since = since;
    }
    p->n++;
}

size_t leak_detector_goroutine_profile(sched_t *s, leak_detector_goroutine_group_t *groups, size_t max)
{
    profile_t p = {groups, max, 0};
    sched_each_goroutine(s, profile_one, &p);
    return p.n;
}
