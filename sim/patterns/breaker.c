/*
 * breaker: the seed's CircuitBreaker, function for function, with the
 * corrected variant's changes marked where they differ. See breaker.h.
 *
 * Go's atomics become plain fields: one goroutine runs at a time in the
 * simulation, so an atomic.AddInt64 is an ordinary increment here. The
 * RWMutex is core's, so its blocking (and the seed's callback-under-lock
 * deadlock) is real.
 */
#include "breaker.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "sync.h"
#include "timer.h"

const go_error_t BREAKER_ERR_CIRCUIT_OPEN = {"circuit breaker is open"};
const go_error_t BREAKER_ERR_TOO_MANY_REQUESTS = {"too many requests"};

#define MAX_PENDING 4

/* The seed's GetMetrics keys, registered as circuit_breaker_<key>{name}. */
enum {
    M_STATE,
    M_TOTAL_REQUESTS,
    M_TOTAL_SUCCESSES,
    M_TOTAL_FAILURES,
    M_TOTAL_TIMEOUTS,
    M_TOTAL_SHORT_CIRCUITS,
    M_CONSECUTIVE_SUCCESSES,
    M_CONSECUTIVE_FAILURES,
    M_AVERAGE_RESPONSE_TIME,
    M_COUNT
};

struct breaker {
    obj_t hdr;                      /* scheduler-owned */
    const char *name;               /* interned */
    breaker_state_t state;
    int64_t failure_threshold;
    int64_t success_threshold;
    simtime_t reset_timeout;
    int64_t failure_count;          /* failures since the last success or transition */
    int64_t success_count;          /* successes since the last failure or transition */
    simtime_t last_state_change;
    rwmutex_t *mutex;
    breaker_options_t opt;  /* callbacks and variant */
    int64_t consecutive_failures;
    int64_t consecutive_successes;
    int64_t total_requests;
    int64_t total_successes;
    int64_t total_failures;
    int64_t total_timeouts;
    int64_t total_short_circuits;
    int64_t cumulative_response_time; /* in nanoseconds */
    /* chansim: the corrected variant's state and what a view wants */
    uint64_t generation;            /* bumped by every transition */
    int64_t half_open_requests;     /* admitted in the current half-open period */
    int64_t half_open_admitted_max;
    simtime_t open_until;           /* opened_at + reset_timeout, while open */
    sim_timer_t *reset_timer;       /* corrected: fires at open_until */
    int64_t in_flight;
    int64_t stale_results;
    int64_t transitions;
    struct {
        breaker_state_t from, to;
    } pending[MAX_PENDING];         /* corrected: callbacks to run after unlock */
    int npending;
    entity_t *entity;
    pattern_metric_t metrics[M_COUNT]; /* the seed's metrics in the registry */
};

const char *breaker_state_string(breaker_state_t s)
{
    switch (s) {
    case STATE_CLOSED:
        return "closed";
    case STATE_OPEN:
        return "open";
    case STATE_HALF_OPEN:
        return "half-open";
    }
    return "unknown";
}

breaker_options_t breaker_defaults(void)
{
    breaker_options_t o = {0};
    o.failure_threshold = 5;
    o.success_threshold = 3;
    o.reset_timeout = 10 * SIM_SEC;
    return o;
}

#define logf_(cb, ...) pattern_logf((cb)->opt.log, (cb)->opt.log_ud, __VA_ARGS__)

/* Publish the counters to the entity and the metrics registry. */
static void publish(breaker_t *cb)
{
    entity_t *e = cb->entity;
#define pub pattern_pub
    pub(e, "failure_count", cb->failure_count);
    pub(e, "success_count", cb->success_count);
    pub(e, "consecutive_failures", cb->consecutive_failures);
    pub(e, "consecutive_successes", cb->consecutive_successes);
    pub(e, "total_requests", cb->total_requests);
    pub(e, "total_successes", cb->total_successes);
    pub(e, "total_failures", cb->total_failures);
    pub(e, "total_timeouts", cb->total_timeouts);
    pub(e, "total_short_circuits", cb->total_short_circuits);
    pub(e, "open_until", cb->state == STATE_OPEN ? cb->open_until : 0);
    pub(e, "in_flight", cb->in_flight);
#undef pub
    pattern_metric_t *m = cb->metrics;
    pattern_metric_set(&m[M_STATE], cb->state);
    pattern_metric_set(&m[M_TOTAL_REQUESTS], cb->total_requests);
    pattern_metric_set(&m[M_TOTAL_SUCCESSES], cb->total_successes);
    pattern_metric_set(&m[M_TOTAL_FAILURES], cb->total_failures);
    pattern_metric_set(&m[M_TOTAL_TIMEOUTS], cb->total_timeouts);
    pattern_metric_set(&m[M_TOTAL_SHORT_CIRCUITS], cb->total_short_circuits);
    pattern_metric_set(&m[M_CONSECUTIVE_SUCCESSES], cb->consecutive_successes);
    pattern_metric_set(&m[M_CONSECUTIVE_FAILURES], cb->consecutive_failures);
    pattern_metric_set(&m[M_AVERAGE_RESPONSE_TIME],
                   cb->cumulative_response_time / (cb->total_requests > 1 ? cb->total_requests : 1));
}

static void register_metrics(breaker_t *cb)
{
    static const pattern_metric_def_t defs[M_COUNT] = {
        {METRICS_GAUGE, "circuit_breaker_state", "State: 0 closed, 1 open, 2 half-open (the seed's iota)", 1},
        {METRICS_COUNTER, "circuit_breaker_total_requests", "Requests let through", 1},
        {METRICS_COUNTER, "circuit_breaker_total_successes", "Requests that succeeded", 1},
        {METRICS_COUNTER, "circuit_breaker_total_failures", "Requests that failed (not timeouts)", 1},
        {METRICS_COUNTER, "circuit_breaker_total_timeouts", "Requests that hit their deadline", 1},
        {METRICS_COUNTER, "circuit_breaker_total_short_circuits", "Requests rejected without a call", 1},
        {METRICS_GAUGE, "circuit_breaker_consecutive_successes", "Successes in a row", 1},
        {METRICS_GAUGE, "circuit_breaker_consecutive_failures", "Failures in a row", 1},
        {METRICS_GAUGE, "circuit_breaker_average_response_time_seconds", "Mean response time of requests let through", 1e-9},
    };
    pattern_metrics_init(cb->metrics, defs, M_COUNT, "name", cb->name);
}

/* NewCircuitBreaker creates a new circuit breaker */
breaker_t *breaker_create(const char *name, const breaker_options_t *opt)
{
    breaker_t *cb = obj_alloc(sizeof *cb, OBJ_NONE, NULL);
    obj_set_name(cb, name);
    cb->name = sched_intern(sched_current(), name);
    cb->state = STATE_CLOSED;
    cb->opt = opt ? *opt : breaker_defaults();
    cb->failure_threshold = cb->opt.failure_threshold;
    cb->success_threshold = cb->opt.success_threshold;
    cb->reset_timeout = cb->opt.reset_timeout;
    cb->last_state_change = sched_now();
    cb->mutex = rwmutex_new();
    obj_set_name(cb->mutex, "breaker.mutex");
    cb->entity = entity_new("breaker", name, NULL);
    entity_set(cb->entity, "failure_threshold", cb->failure_threshold);
    entity_set(cb->entity, "success_threshold", cb->success_threshold);
    entity_set(cb->entity, "reset_timeout", cb->reset_timeout);
    entity_set_state(cb->entity, breaker_state_string(cb->state));
    register_metrics(cb);
    publish(cb);
    return cb;
}

void breaker_destroy(breaker_t *x)
{
    if (!x)
        return;
    timer_free(x->reset_timer);
    rwmutex_free(x->mutex);
    obj_free(x);
}

static void reset_timer_fired(void *arg);

/* transitionState changes the state of the circuit breaker. The seed
 * calls it with the write lock held (from recordSuccess/recordFailure) or
 * with no lock at all (from allowRequest). */
static void transition_state(breaker_t *cb, breaker_state_t new_state)
{
    breaker_state_t old_state = cb->state;
    cb->state = new_state;
    cb->last_state_change = sched_now();

    // Reset counters
    cb->failure_count = 0;
    cb->success_count = 0;

    /* chansim: a new generation; open remembers when it ends. */
    cb->generation++;
    cb->transitions++;
    cb->half_open_requests = 0;
    if (new_state == STATE_OPEN) {
        cb->open_until = sched_now() + cb->reset_timeout;
        if (!cb->opt.seed_variant) {
            /* Turn half-open at exactly open_until, not at the next request. */
            if (!cb->reset_timer)
                cb->reset_timer = timer_after_func(cb->reset_timeout, reset_timer_fired, cb);
            else
                timer_reset(cb->reset_timer, cb->reset_timeout);
        }
    }
    entity_set_state(cb->entity, breaker_state_string(new_state));
    publish(cb);

    // Notify state change if callback is set
    if (cb->opt.on_state_change) {
        if (cb->opt.seed_variant) {
            cb->opt.on_state_change(cb->opt.on_state_change_ud, cb->name, old_state, new_state);
        } else if (cb->npending < MAX_PENDING) {
            /* corrected: run after the lock is released */
            cb->pending[cb->npending].from = old_state;
            cb->pending[cb->npending].to = new_state;
            cb->npending++;
        }
    }

    logf_(cb, "Circuit breaker %s state changed from %s to %s", cb->name,
          breaker_state_string(old_state), breaker_state_string(new_state));
}

/* corrected: run the callbacks queued under the lock, now that it is free. */
static void notify_pending(breaker_t *cb)
{
    while (cb->npending > 0) {
        breaker_state_t from = cb->pending[0].from, to = cb->pending[0].to;
        cb->npending--;
        memmove(&cb->pending[0], &cb->pending[1], (size_t)cb->npending * sizeof cb->pending[0]);
        cb->opt.on_state_change(cb->opt.on_state_change_ud, cb->name, from, to);
    }
}

/* corrected: the state as of now; open turns half-open at open_until
 * (inclusive: exactly reset_timeout after opening). Lock held. */
static void current_state(breaker_t *cb)
{
    if (cb->state == STATE_OPEN && sched_now() >= cb->open_until)
        transition_state(cb, STATE_HALF_OPEN);
}

/* corrected: the reset timer's own goroutine, at open_until. */
static void reset_timer_fired(void *arg)
{
    breaker_t *cb = arg;
    rwmutex_lock(cb->mutex);
    current_state(cb);
    rwmutex_unlock(cb->mutex);
    notify_pending(cb);
}

/* allowRequest checks if a request should be allowed based on the circuit
 * state. Returns NULL to admit (and the generation it was admitted
 * under), else the rejection. */
static const go_error_t *allow_request(breaker_t *cb, uint64_t *generation)
{
    if (cb->opt.seed_variant) {
        const go_error_t *verdict = NULL;
        rwmutex_rlock(cb->mutex);
        switch (cb->state) {
        case STATE_CLOSED:
            verdict = NULL;
            break;
        case STATE_OPEN:
            // Check if it's time to try again
            if (sched_now() - cb->last_state_change > cb->reset_timeout) {
                // Transition to half-open
                rwmutex_runlock(cb->mutex);
                transition_state(cb, STATE_HALF_OPEN);
                rwmutex_rlock(cb->mutex);
                verdict = NULL;
            } else {
                verdict = &BREAKER_ERR_CIRCUIT_OPEN;
            }
            break;
        case STATE_HALF_OPEN:
            // In half-open state, allow limited requests to test the service
            /* The bug: only finished probes count, so every request that
             * arrives while the first ones are in flight gets through. */
            verdict = cb->success_count + cb->failure_count < cb->success_threshold
                          ? NULL
                          : &BREAKER_ERR_CIRCUIT_OPEN;
            break;
        }
        if (!verdict && cb->state == STATE_HALF_OPEN) {
            cb->half_open_requests++; /* counted for the report only */
            if (cb->half_open_requests > cb->half_open_admitted_max)
                cb->half_open_admitted_max = cb->half_open_requests;
        }
        *generation = cb->generation;
        rwmutex_runlock(cb->mutex);
        return verdict;
    }

    /* corrected */
    const go_error_t *verdict = NULL;
    rwmutex_lock(cb->mutex);
    current_state(cb);
    switch (cb->state) {
    case STATE_CLOSED:
        break;
    case STATE_OPEN:
        verdict = &BREAKER_ERR_CIRCUIT_OPEN;
        break;
    case STATE_HALF_OPEN:
        /* Count probes when they are admitted, not when they finish. */
        if (cb->half_open_requests >= cb->success_threshold) {
            verdict = &BREAKER_ERR_TOO_MANY_REQUESTS;
        } else {
            cb->half_open_requests++;
            if (cb->half_open_requests > cb->half_open_admitted_max)
                cb->half_open_admitted_max = cb->half_open_requests;
        }
        break;
    }
    *generation = cb->generation;
    rwmutex_unlock(cb->mutex);
    notify_pending(cb);
    return verdict;
}

/* recordSuccess records a successful request */
static void record_success(breaker_t *cb, uint64_t generation)
{
    rwmutex_lock(cb->mutex);
    cb->consecutive_successes++;
    cb->consecutive_failures = 0;
    if (generation != cb->generation) {
        cb->stale_results++;
        if (!cb->opt.seed_variant) {
            /* corrected: admitted under an earlier state; not evidence
             * about the current one */
            rwmutex_unlock(cb->mutex);
            return;
        }
    }
    if (!cb->opt.seed_variant)
        current_state(cb);

    cb->success_count++;
    cb->failure_count = 0;

    // If we're in half-open state and have enough successes, close the circuit
    if (cb->state == STATE_HALF_OPEN && cb->success_count >= cb->success_threshold)
        transition_state(cb, STATE_CLOSED);
    publish(cb);
    rwmutex_unlock(cb->mutex);
    notify_pending(cb);
}

/* recordFailure records a failed request */
static void record_failure(breaker_t *cb, uint64_t generation)
{
    rwmutex_lock(cb->mutex);
    cb->consecutive_failures++;
    cb->consecutive_successes = 0;
    if (generation != cb->generation) {
        cb->stale_results++;
        if (!cb->opt.seed_variant) {
            rwmutex_unlock(cb->mutex);
            return;
        }
    }
    if (!cb->opt.seed_variant)
        current_state(cb);

    cb->failure_count++;
    cb->success_count = 0;

    // If we have too many failures, open the circuit
    if ((cb->state == STATE_CLOSED && cb->failure_count >= cb->failure_threshold) ||
        (cb->state == STATE_HALF_OPEN && cb->failure_count > 0))
        transition_state(cb, STATE_OPEN);
    publish(cb);
    rwmutex_unlock(cb->mutex);
    notify_pending(cb);
}

static bool is_deadline_exceeded(const go_error_t *err)
{
    return err == &GO_ERR_DEADLINE_EXCEEDED ||
           (err && strcmp(go_error_msg(err), GO_ERR_DEADLINE_EXCEEDED.msg) == 0);
}

/* Execute runs the given function with circuit breaker protection */
const go_error_t *breaker_execute(breaker_t *cb, ctx_t *ctx, breaker_fn_t fn, void *arg)
{
    (void)ctx; /* the seed's Execute does not use ctx either; fn does */
    uint64_t generation;
    // Check if the circuit is open
    const go_error_t *rejected = allow_request(cb, &generation);
    if (rejected) {
        cb->total_short_circuits++;
        publish(cb);
        return rejected;
    }

    // Track metrics
    cb->total_requests++;
    simtime_t start_time = sched_now();
    cb->in_flight++;
    publish(cb);

    // Execute the protected function
    const go_error_t *err = fn(arg);

    // Update metrics based on the result
    simtime_t latency = sched_now() - start_time;
    cb->cumulative_response_time += latency;
    cb->in_flight--;

    // Check for timeout
    if (is_deadline_exceeded(err)) {
        cb->total_timeouts++;
        record_failure(cb, generation);
        return err;
    }

    // Record success or failure
    if (err) {
        cb->total_failures++;
        record_failure(cb, generation);
        return err;
    }

    cb->total_successes++;
    record_success(cb, generation);
    return NULL;
}

/* GetState returns the current state of the circuit breaker */
breaker_state_t breaker_get_state(breaker_t *cb)
{
    if (cb->opt.seed_variant) {
        rwmutex_rlock(cb->mutex);
        breaker_state_t s = cb->state;
        rwmutex_runlock(cb->mutex);
        return s;
    }
    rwmutex_lock(cb->mutex);
    current_state(cb);
    breaker_state_t s = cb->state;
    rwmutex_unlock(cb->mutex);
    notify_pending(cb);
    return s;
}

/* GetMetrics returns the current metrics of the circuit breaker */
breaker_metrics_t breaker_get_metrics(breaker_t *cb)
{
    breaker_metrics_t m = {0};
    m.state = breaker_get_state(cb);
    m.total_requests = cb->total_requests;
    m.total_successes = cb->total_successes;
    m.total_failures = cb->total_failures;
    m.total_timeouts = cb->total_timeouts;
    m.total_short_circuits = cb->total_short_circuits;
    m.consecutive_successes = cb->consecutive_successes;
    m.consecutive_failures = cb->consecutive_failures;
    m.average_response_time =
        cb->cumulative_response_time / (cb->total_requests > 1 ? cb->total_requests : 1);
    m.last_state_change_ago = sched_now() - cb->last_state_change;
    m.failure_count = cb->failure_count;
    m.success_count = cb->success_count;
    m.last_state_change = cb->last_state_change;
    m.open_until = cb->state == STATE_OPEN ? cb->open_until : 0;
    m.in_flight = cb->in_flight;
    m.half_open_admitted = cb->state == STATE_HALF_OPEN ? cb->half_open_requests : 0;
    m.half_open_admitted_max = cb->half_open_admitted_max;
    m.stale_results = cb->stale_results;
    m.transitions = cb->transitions;
    return m;
}

const char *breaker_name(const breaker_t *cb) { return cb->name; }
entity_t *breaker_entity(const breaker_t *cb) { return cb->entity; }
const breaker_options_t *breaker_options(const breaker_t *cb) { return &cb->opt; }

/* simulateService simulates a remote service with variable reliability */
const go_error_t *breaker_simulate_service(ctx_t *ctx, const char *service_id, int failure_rate,
                                           simtime_t latency, char *out, size_t outsize)
{
    if (out && outsize)
        out[0] = 0;
    // Simulate random failures
    if (pattern_chance_pct(failure_rate))
        return go_errorf("service %s failed", service_id);

    // Simulate processing time
    sim_timer_t *t = timer_new(latency); /* time.After(latency) */
    select_case_t cases[2] = {
        {.ch = timer_chan(t), .dir = SELECT_RECV},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    int fired = chan_select(cases, 2, false);
    timer_free(t);
    if (fired == 0) {
        if (out)
            snprintf(out, outsize, "Response from %s", service_id);
        return NULL;
    }
    return ctx_err(ctx);
}
