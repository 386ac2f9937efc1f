/*
 * leak_detector: the seed's "Goroutine Leak Detection" (LeakDetector:
 * NewLeakDetector, Start, Stop, SetAlertThreshold, SetOnLeakDetected,
 * checkForLeaks, GetStats; simulateLeakingGoroutines,
 * simulateTemporaryGoroutines, dumpStacks) over the simulated goroutine
 * count (runtime.NumGoroutine is sched_goroutines_alive).
 *
 * Start sleeps a 100ms warm-up, takes the baseline, and starts a goroutine
 * that samples the count every interval, keeping the last sample_size
 * samples.
 *
 * Two variants (leak_detector_options_t.seed_variant):
 * - seed: an alert fires when the count is above baseline + alertThreshold
 *   and grew by more than threshold (5%) since the previous sample. The
 *   sample window is collected but never used; the default alert
 *   threshold of 1000 is far above the seed's own demo (150 leaked
 *   goroutines), so the demo never fires; with a threshold low enough to
 *   catch the leak, the demo's 100 *temporary* goroutines fire it too (a
 *   false positive), and a leak that grows slowly (under 5% per interval)
 *   or in one step (flat after the jump) is reported at most once, at the
 *   jump. The callback runs under ld.mu (a callback calling GetStats
 *   deadlocks).
 * - corrected (default): an alert needs a full window whose *minimum* is
 *   above baseline + alert_threshold and above the baseline by more than
 *   threshold (relative), so a spike that ends within the window is
 *   ignored and a slow leak is caught once it has persisted for the whole
 *   window; it fires again only when that minimum has risen by more than
 *   alert_threshold since the last alert (another threshold's worth of
 *   leaked goroutines). The callback runs after the lock is released.
 *
 * Published: an entity "leak_detector" (state "warming up", "watching",
 * "alert", "stopped"; fields baseline, current, previous, alert_threshold,
 * window_min, alerts); every sample and alert is an EV_STATE event.
 * Metrics (core/metrics.h), labelled detector="<name>":
 * leak_detector_current_count, _baseline_count, _previous_count,
 * _alert_threshold (gauges) and leak_detector_alerts_total (counter).
 *
 * Ownership: the detector is owned by the running scheduler.
 */
#ifndef CHANSIM_LEAK_DETECTOR_H
#define CHANSIM_LEAK_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entity.h"
#include "pattern.h"
#include "sched.h"

typedef struct leak_detector leak_detector_t;

/* SetOnLeakDetected's callback: count and the recent samples (borrowed for
 * the call). Runs in the detector's goroutine. */
typedef void (*leak_detector_fn)(void *ud, int count, const int *samples, int nsamples);

typedef struct leak_detector_options {
    const char *name;        /* for the entity, metrics and goroutine */
    simtime_t warmup;        /* Start's sleep before the baseline: 100ms */
    pattern_log_fn log;         /* the seed's log.Printf lines, or NULL */
    void *log_ud;
    bool seed_variant;
} leak_detector_options_t;

#define LEAK_DETECTOR_MAX_SAMPLES 1024

/* NewLeakDetector(interval, threshold, sampleSize): alert threshold 1000,
 * the default callback logs "WARNING: Potential goroutine leak detected!
 * Current count: N". sample_size is at most LEAK_DETECTOR_MAX_SAMPLES. */
leak_detector_t *leak_detector_create(simtime_t interval, double threshold, int sample_size,
                                   const leak_detector_options_t *opt);
/* Free it before sched_destroy would, with the core objects it made (its
 * stop channel and lock). None of its goroutines may still run and nobody
 * may use it again; its entity stays, as the view keeps an entity for the
 * whole run. NULL is ignored. */
void leak_detector_destroy(leak_detector_t *x);

/* Start: sleeps the warm-up (blocks the caller), takes the baseline,
 * starts the sampling goroutine. */
void leak_detector_start(leak_detector_t *ld);
/* Stop: closes stopCh (the sampler ends at its next select). */
void leak_detector_stop(leak_detector_t *ld);
void leak_detector_set_alert_threshold(leak_detector_t *ld, int threshold);
/* NULL fn restores nothing: no callback at all. */
void leak_detector_set_on_leak_detected(leak_detector_t *ld, leak_detector_fn fn, void *ud);

/* GetStats. */
typedef struct leak_detector_stats {
    int current_count;
    int baseline_count;
    int previous_count;
    int alert_threshold;
    int samples[LEAK_DETECTOR_MAX_SAMPLES];
    int nsamples;
    int alerts;              /* chansim: alerts fired so far */
} leak_detector_stats_t;

void leak_detector_get_stats(leak_detector_t *ld, leak_detector_stats_t *out);

/* One alert (a call of the callback). */
typedef struct leak_detector_alert {
    simtime_t t;
    int count;               /* the current count it reported */
    int window_min;          /* the least count in the window then */
} leak_detector_alert_t;

/* Every alert so far. Borrowed until the next alert. */
const leak_detector_alert_t *leak_detector_alerts(const leak_detector_t *ld, size_t *n);
entity_t *leak_detector_entity(const leak_detector_t *ld);
const char *leak_detector_name(const leak_detector_t *ld);

/* The demo's helpers: count goroutines that block forever in select {}
 * ("main.simulateLeakingGoroutines.func1"), and count goroutines that
 * sleep duration and end ("main.simulateTemporaryGoroutines.func1"). */
void leak_detector_simulate_leaking_goroutines(int count);
void leak_detector_simulate_temporary_goroutines(int count, simtime_t duration);

/* dumpStacks, condensed as pprof's goroutine profile (debug=1) does: the
 * live goroutines grouped by wait reason and name (their function), in
 * order of first appearance (creation order). */
typedef struct leak_detector_goroutine_group {
    int count;
    wait_reason_t reason;    /* WAIT_NONE: running or runnable */
    const char *name;        /* interned */
    uint64_t created_by;     /* the first one's creator (goroutine id, 0: none) */
    uint64_t first_id;       /* the first goroutine of the group */
    simtime_t oldest_blocked_since; /* the earliest park time in the group */
} leak_detector_goroutine_group_t;

/* Fills up to max groups; returns the number of groups (may exceed max). */
size_t leak_detector_goroutine_profile(sched_t *s, leak_detector_goroutine_group_t *groups, size_t max);

#endif
