/*
 * first_response: the seed's "Timed Channel Operations": hedged calls to
 * redundant services under one timeout (simulateDistributedOperation and
 * firstResponse).
 *
 * Each operation is a simulated remote call with a latency uniform in
 * [min, max) and a failure probability (the seed: fast-service 50-150ms,
 * medium-service 100-300ms, slow-service 200-500ms, 10% failures each).
 * first_response launches them all under context.WithTimeout(ctx, timeout)
 * and returns one result.
 *
 * Two variants:
 *  - FR_SEED, the seed's: a successful result and an operation's error
 *    race for the same one-slot channel; the first to arrive wins. So when
 *    the fast service fails at 80ms, the call returns that error although
 *    the medium service would succeed at 150ms, well within the timeout.
 *  - FR_CORRECTED: the first success wins; an error is kept and the call
 *    waits for the others; only when every operation has failed (or timed
 *    out) does it return the errors, joined with "; ".
 * Both return ctx.Err() if the caller's own context ends first.
 *
 * Published: a "client" entity (calls, successes, errors) and a "backend"
 * entity per operation (state idle/busy, in_flight, calls, ok, failed,
 * canceled, wins); metrics first_response_calls_total{client, outcome},
 * first_response_latency_seconds{client},
 * first_response_backend_results_total{backend, outcome} and
 * first_response_backend_in_flight{backend}.
 *
 * Ownership: operations are the caller's (their counters are updated in
 * place and must outlive every call that uses them); errors and entities
 * are owned by the running scheduler.
 */
#ifndef CHANSIM_FIRST_RESPONSE_H
#define CHANSIM_FIRST_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "pattern.h"

/* Result: the outcome of a distributed operation (the seed's struct). */
typedef struct first_response_result {
    char value[64];            /* Value: "<name> result" when err is NULL */
    const go_error_t *err;     /* Err */
    /* chansim: */
    const char *from;          /* the operation that produced it (interned), or NULL */
} first_response_result_t;

/* One of the seed's operation closures: a service and its behaviour, plus
 * the counts of its calls. */
typedef struct first_response_operation {
    const char *name;          /* interned by first_response_operation_init */
    simtime_t min_latency;     /* latency uniform in [min, max) */
    simtime_t max_latency;
    int fail_pct;              /* the seed's rand.Intn(10) == 0: 10 */
    entity_t *entity;          /* "backend" */
    int64_t in_flight, calls, ok, failed, canceled, wins;
    /* first_response_backend_results_total{backend, outcome}, _in_flight{backend} */
    metrics_series_t *m_ok, *m_failed, *m_canceled, *m_in_flight;
} first_response_operation_t;

typedef enum first_response_variant { FR_CORRECTED, FR_SEED } first_response_variant_t;

/* Set up an operation (name copied). Must run on the scheduler. */
void first_response_operation_init(first_response_operation_t *op, const char *name, simtime_t min_latency, simtime_t max_latency,
                                   int fail_pct);

/* simulateDistributedOperation: a goroutine that after the latency sends
 * the operation's result (or, if ctx ends first, ctx.Err()) on the
 * returned channel (buffered, 1) and closes it. */
chan_t *first_response_simulate_distributed_operation(ctx_t *ctx, const char *name, simtime_t min_latency,
                                                      simtime_t max_latency, int fail_pct);

/* The client's counts across calls. */
typedef struct first_response_client {
    entity_t *entity;          /* "client" */
    int64_t calls, successes, errors;
    simtime_t latency_sum, latency_max;
    /* first_response_calls_total{client, outcome}, _latency_seconds{client} */
    metrics_series_t *m_success, *m_error, *m_latency;
} first_response_client_t;

/* A client named name (copied). */
void first_response_client_init(first_response_client_t *c, const char *name);

/* firstResponse(ctx, timeout, operations...): one hedged call over n
 * operations. client may be NULL. Must run on a goroutine. */
first_response_result_t first_response(ctx_t *ctx, simtime_t timeout, first_response_operation_t *const *operations, int n,
                                       first_response_variant_t variant, first_response_client_t *client);

#endif
