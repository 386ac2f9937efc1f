/*
 * breaker: the seed's "Circuit Breaker Pattern" (CircuitBreaker, Execute,
 * allowRequest, recordSuccess, recordFailure, transitionState, GetState,
 * GetMetrics, and the demo's simulateService), on simulated time.
 *
 * Closed lets requests through and counts consecutive failures; at
 * failure_threshold it opens. Open rejects every request ("circuit breaker
 * is open") until reset_timeout has passed, then turns half-open. Half-open
 * lets a few probes through: success_threshold successes close it, one
 * failure opens it again. A request that returns context.DeadlineExceeded
 * counts as a timeout and as a failure for the state machine.
 *
 * Two variants (breaker_options_t.seed_variant):
 * - seed: the seed's code, including its bugs. Half-open admission counts
 *   only *finished* probes (successCount+failureCount < successThreshold),
 *   so every request that arrives while the first probes are in flight is
 *   let through: a recovering dependency gets the full load at once. A
 *   result that finishes after the state changed is still counted, so a
 *   slow failure from the closed era can reopen a half-open breaker. Open
 *   turns half-open only lazily, on the first request strictly after
 *   reset_timeout (GetState keeps saying "open" until then), and the
 *   state-change callback runs under the breaker's write lock (a callback
 *   that calls GetState deadlocks, as it would in Go).
 * - corrected (default): half-open admits at most success_threshold
 *   requests per half-open period (gobreaker's MaxRequests; more get "too
 *   many requests"); results of requests admitted under an earlier state
 *   are ignored (gobreaker's generations); open turns half-open at exactly
 *   opened_at + reset_timeout, by a timer and on every look at the state;
 *   the callback runs after the lock is released.
 *
 * Published: an entity of kind "breaker" whose state is "closed", "open"
 * or "half-open" and whose fields are the seed's counters plus open_until
 * (the simulated time the open state ends, 0 when not open) and in_flight.
 * Every transition is an EV_STATE event.
 *
 * Metrics (core/metrics.h), labelled name="<breaker>": the seed's
 * GetMetrics keys as circuit_breaker_total_requests, _total_successes,
 * _total_failures, _total_timeouts, _total_short_circuits (counters),
 * circuit_breaker_consecutive_successes, _consecutive_failures,
 * circuit_breaker_state (0 closed, 1 open, 2 half-open: the seed's iota)
 * and circuit_breaker_average_response_time_seconds (gauges).
 *
 * Ownership: a breaker is owned by the running scheduler.
 */
#ifndef CHANSIM_BREAKER_H
#define CHANSIM_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "entity.h"
#include "goerr.h"
#include "pattern.h"

/* CircuitBreakerState: the seed's iota order. */
typedef enum breaker_state {
    STATE_CLOSED,    /* normal operation, requests pass through */
    STATE_OPEN,      /* requests fail fast */
    STATE_HALF_OPEN, /* testing whether the service is healthy again */
} breaker_state_t;

/* "closed", "open", "half-open". (The seed has no String method, so its
 * Printf("%v") shows 0, 1 and 2.) */
const char *breaker_state_string(breaker_state_t s);

typedef struct breaker breaker_t;

/* WithOnStateChange: called on every transition, in the goroutine that
 * caused it (the corrected variant's reset timer runs in its own). */
typedef void (*breaker_state_change_fn)(void *ud, const char *name, breaker_state_t from,
                                        breaker_state_t to);

typedef struct breaker_options {
    int64_t failure_threshold;   /* WithFailureThreshold; >= 1 */
    int64_t success_threshold;   /* WithSuccessThreshold; >= 1 */
    simtime_t reset_timeout;     /* WithResetTimeout; > 0 */
    breaker_state_change_fn on_state_change; /* WithOnStateChange, or NULL */
    void *on_state_change_ud;
    pattern_log_fn log;          /* log.Printf, or NULL for silence */
    void *log_ud;
    bool seed_variant;           /* the seed's code with its bugs */
} breaker_options_t;

/* NewCircuitBreaker's defaults: failure 5, success 3, reset 10s, corrected. */
breaker_options_t breaker_defaults(void);

/* NewCircuitBreaker(name, options...). name is copied. */
breaker_t *breaker_create(const char *name, const breaker_options_t *opt);
/* Free it before sched_destroy would, with the core objects it made (its
 * lock and reset timer). None of its goroutines may still run and nobody may
 * use it again; its entity stays, as the view keeps an entity for the whole
 * run. NULL is ignored. */
void breaker_destroy(breaker_t *x);

/* The protected function: returns NULL (success) or an error; a result
 * goes wherever arg says. */
typedef const go_error_t *(*breaker_fn_t)(void *arg);

/* "circuit breaker is open": Execute's error when a request is rejected. */
extern const go_error_t BREAKER_ERR_CIRCUIT_OPEN;
/* "too many requests": the corrected variant's rejection when half-open
 * already admitted success_threshold probes. */
extern const go_error_t BREAKER_ERR_TOO_MANY_REQUESTS;

/* Execute(ctx, fn): runs fn in the calling goroutine if the breaker
 * allows it and records the outcome. Returns fn's error, or
 * BREAKER_ERR_CIRCUIT_OPEN / BREAKER_ERR_TOO_MANY_REQUESTS without calling fn. ctx is
 * the caller's, as in the seed (Execute itself does not use it; fn
 * should). May block for as long as fn does. */
const go_error_t *breaker_execute(breaker_t *cb, ctx_t *ctx, breaker_fn_t fn, void *arg);

/* GetState(). The corrected variant reports half-open from exactly
 * reset_timeout after opening; the seed's keeps "open" until a request
 * comes. */
breaker_state_t breaker_get_state(breaker_t *cb);

/* GetMetrics(): the seed's map as a struct, plus what a view wants. */
typedef struct breaker_metrics {
    breaker_state_t state;
    int64_t total_requests;        /* admitted requests */
    int64_t total_successes;
    int64_t total_failures;        /* errors other than timeouts */
    int64_t total_timeouts;        /* context.DeadlineExceeded */
    int64_t total_short_circuits;  /* rejected requests */
    int64_t consecutive_successes;
    int64_t consecutive_failures;
    simtime_t average_response_time; /* cumulative / max(1, total_requests) */
    simtime_t last_state_change_ago;
    /* chansim's additions */
    int64_t failure_count, success_count; /* the state machine's counters */
    simtime_t last_state_change;   /* when the state last changed */
    simtime_t open_until;          /* when open ends (0 if not open) */
    int64_t in_flight;             /* requests inside fn now */
    int64_t half_open_admitted;    /* admitted in the current half-open period */
    int64_t half_open_admitted_max; /* the most admitted in one half-open period */
    int64_t stale_results;         /* results from an earlier state (ignored when corrected) */
    int64_t transitions;           /* state changes so far */
} breaker_metrics_t;

breaker_metrics_t breaker_get_metrics(breaker_t *cb);

const char *breaker_name(const breaker_t *cb);
entity_t *breaker_entity(const breaker_t *cb);
const breaker_options_t *breaker_options(const breaker_t *cb);

/* The demo's simulateService(ctx, serviceID, failureRate, latency): fails
 * at once with "service <id> failed" with probability failureRate/100
 * (world stream), else answers "Response from <id>" after latency, or
 * ctx.Err() if ctx is done first. The answer is written into out. */
const go_error_t *breaker_simulate_service(ctx_t *ctx, const char *service_id, int failure_rate,
                                           simtime_t latency, char *out, size_t outsize);

#endif
