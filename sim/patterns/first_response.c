/*
 * first_response: the seed's simulateDistributedOperation and
 * firstResponse, function for function, and the corrected firstResponse.
 * See first_response.h.
 */
#include "first_response.h"

#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "timer.h"

void first_response_operation_init(first_response_operation_t *op, const char *name, simtime_t min_latency, simtime_t max_latency,
                                   int fail_pct)
{
    memset(op, 0, sizeof *op);
    op->name = sched_intern(sched_current(), name);
    op->min_latency = min_latency;
    op->max_latency = max_latency;
    op->fail_pct = fail_pct;
    op->entity = entity_new("backend", name, NULL);
    entity_set_state(op->entity, "idle");
    entity_set(op->entity, "min_latency_ns", min_latency);
    entity_set(op->entity, "max_latency_ns", max_latency);
    entity_set(op->entity, "fail_pct", fail_pct);
    static const char help[] = "Results of each backend's calls, by outcome.";
    op->m_ok = pattern_series(METRICS_COUNTER, "first_response_backend_results_total", help, "backend", name,
                           "outcome", "ok");
    op->m_failed = pattern_series(METRICS_COUNTER, "first_response_backend_results_total", help, "backend", name,
                               "outcome", "failed");
    op->m_canceled = pattern_series(METRICS_COUNTER, "first_response_backend_results_total", help, "backend",
                                 name, "outcome", "canceled");
    op->m_in_flight = pattern_series(METRICS_GAUGE, "first_response_backend_in_flight",
                                  "Calls a backend is working on.", "backend", name, NULL, NULL);
}

void first_response_client_init(first_response_client_t *c, const char *name)
{
    memset(c, 0, sizeof *c);
    c->entity = entity_new("client", name, NULL);
    entity_set(c->entity, "calls", 0);
    entity_set(c->entity, "successes", 0);
    entity_set(c->entity, "errors", 0);
    static const char help[] = "Hedged calls (firstResponse), by outcome.";
    c->m_success = pattern_series(METRICS_COUNTER, "first_response_calls_total", help, "client", name, "outcome",
                               "success");
    c->m_error = pattern_series(METRICS_COUNTER, "first_response_calls_total", help, "client", name, "outcome",
                             "error");
    c->m_latency = pattern_series(METRICS_HISTOGRAM, "first_response_latency_seconds",
                               "How long a hedged call took.", "client", name, NULL, NULL);
}

/* ---- simulateDistributedOperation -------------------------------------- */

typedef struct sim_op_arg {
    ctx_t *ctx;
    const char *name;
    simtime_t min_latency, max_latency;
    int fail_pct;
    chan_t *result_ch;
} sim_op_arg_t;

static void simulate_main(void *p)
{
    sim_op_arg_t *a = p;
    /* Calculate a random latency between min and max */
    simtime_t latency = a->min_latency;
    if (a->max_latency > a->min_latency)
        latency += pattern_intn(a->max_latency - a->min_latency);
    /* Simulate processing */
    select_case_t cases[2] = {
        {.ch = go_after(latency), .dir = SELECT_RECV},
        {.ch = ctx_done(a->ctx), .dir = SELECT_RECV},
    };
    first_response_result_t r;
    memset(&r, 0, sizeof r);
    r.from = a->name;
    if (chan_select(cases, 2, false) == 0) {
        if (pattern_chance_pct(a->fail_pct)) /* 10% chance of error */
            r.err = go_errorf("%s operation failed", a->name);
        else
            snprintf(r.value, sizeof r.value, "%s result", a->name);
    } else {
        r.err = ctx_err(a->ctx);
    }
    chan_send(a->result_ch, &r);
    chan_close(a->result_ch);
}

chan_t *first_response_simulate_distributed_operation(ctx_t *ctx, const char *name, simtime_t min_latency,
                                                      simtime_t max_latency, int fail_pct)
{
    chan_t *result_ch = chan_make(sizeof(first_response_result_t), 1); /* Buffered to prevent goroutine leak */
    sim_op_arg_t *a = pattern_alloc(sizeof *a);
    *a = (sim_op_arg_t){.ctx = ctx, .name = sched_intern(sched_current(), name), .min_latency = min_latency,
                        .max_latency = max_latency, .fail_pct = fail_pct, .result_ch = result_ch};
    char gname[96];
    snprintf(gname, sizeof gname, "simulateDistributedOperation(%s)", name);
    go_set_role(go_spawn(simulate_main, a, gname), "backend");
    return result_ch;
}

/* ---- firstResponse ----------------------------------------------------- */

/* What the goroutines of one call share. */
typedef struct fr_call {
    ctx_t *ctx;        /* the caller's */
    ctx_t *op_ctx;     /* WithTimeout(ctx, timeout) */
    chan_t *first_ch;  /* seed: the one-slot channel; corrected: one slot per operation */
} fr_call_t;

typedef struct fr_op_arg {
    fr_call_t *call;
    first_response_operation_t *op;
    first_response_variant_t variant;
} fr_op_arg_t;

/* resultCh := operation(opCtx); result := <-resultCh, with the counts. */
static first_response_result_t call_operation(fr_call_t *call, first_response_operation_t *op)
{
    op->calls++;
    op->in_flight++;
    entity_set(op->entity, "calls", op->calls);
    entity_set(op->entity, "in_flight", op->in_flight);
    pattern_series_set(op->m_in_flight, (double)op->in_flight);
    entity_set_state(op->entity, "busy");
    chan_t *result_ch = first_response_simulate_distributed_operation(call->op_ctx, op->name, op->min_latency,
                                                                      op->max_latency, op->fail_pct);
    first_response_result_t result;
    chan_recv(result_ch, &result);
    op->in_flight--;
    entity_set(op->entity, "in_flight", op->in_flight);
    pattern_series_set(op->m_in_flight, (double)op->in_flight);
    if (op->in_flight == 0)
        entity_set_state(op->entity, "idle");
    if (!result.err) {
        entity_set(op->entity, "ok", ++op->ok);
        pattern_series_inc(op->m_ok);
    } else if (result.err == &GO_ERR_CANCELED || result.err == &GO_ERR_DEADLINE_EXCEEDED) {
        entity_set(op->entity, "canceled", ++op->canceled);
        pattern_series_inc(op->m_canceled);
    } else {
        entity_set(op->entity, "failed", ++op->failed);
        pattern_series_inc(op->m_failed);
    }
    return result;
}

/* The seed's per-operation goroutine. */
static void seed_op_main(void *p)
{
    fr_op_arg_t *a = p;
    fr_call_t *call = a->call;
    first_response_result_t result = call_operation(call, a->op);
    /* Only forward successful results or the last error */
    if (!result.err) {
        /* Try to send the successful result, but don't block */
        if (chan_try_send(call->first_ch, &result))
            ctx_cancel(call->op_ctx); /* Cancel other operations */
    } else if (ctx_err(call->ctx)) {
        /* Context was canceled, likely because another operation succeeded */
        return;
    } else {
        /* This was an operation error, send it but don't cancel others */
        chan_try_send(call->first_ch, &result);
    }
}

/* The corrected per-operation goroutine: every result goes to the caller,
 * into a slot of its own (the channel holds one per operation). */
static void corrected_op_main(void *p)
{
    fr_op_arg_t *a = p;
    first_response_result_t result = call_operation(a->call, a->op);
    chan_send(a->call->first_ch, &result);
}

static first_response_result_t wait_seed(fr_call_t *call)
{
    /* Wait for the first result or timeout */
    first_response_result_t result;
    select_case_t cases[2] = {
        {.ch = call->first_ch, .dir = SELECT_RECV, .elem = &result},
        {.ch = ctx_done(call->ctx), .dir = SELECT_RECV},
    };
    if (chan_select(cases, 2, false) == 0)
        return result;
    memset(&result, 0, sizeof result);
    result.err = ctx_err(call->ctx);
    return result;
}

static first_response_result_t wait_corrected(fr_call_t *call, int n)
{
    char errs[512] = "";
    size_t len = 0;
    first_response_result_t result;
    for (int i = 0; i < n; i++) {
        select_case_t cases[2] = {
            {.ch = call->first_ch, .dir = SELECT_RECV, .elem = &result},
            {.ch = ctx_done(call->ctx), .dir = SELECT_RECV},
        };
        if (chan_select(cases, 2, false) == 1) {
            memset(&result, 0, sizeof result);
            result.err = ctx_err(call->ctx);
            return result;
        }
        if (!result.err)
            return result; /* the first success; the deferred cancel stops the others */
        int w = snprintf(errs + len, sizeof errs - len, "%s%s", len ? "; " : "", go_error_msg(result.err));
        if (w > 0)
            len = len + (size_t)w < sizeof errs ? len + (size_t)w : sizeof errs - 1;
    }
    memset(&result, 0, sizeof result);
    result.err = go_errorf("%s", errs); /* errors.Join(errs...) */
    return result;
}

first_response_result_t first_response(ctx_t *ctx, simtime_t timeout, first_response_operation_t *const *operations, int n,
                                       first_response_variant_t variant, first_response_client_t *client)
{
    simtime_t start = sched_now();
    /* Create a context with timeout */
    fr_call_t *call = pattern_alloc(sizeof *call);
    call->ctx = ctx;
    call->op_ctx = ctx_with_timeout(ctx, timeout);
    /* Create a channel for the first response */
    call->first_ch = chan_make(sizeof(first_response_result_t), variant == FR_SEED ? 1 : (n > 0 ? n : 1));
    obj_set_name(call->first_ch, "firstCh");
    /* Launch all operations */
    for (int i = 0; i < n; i++) {
        fr_op_arg_t *a = pattern_alloc(sizeof *a);
        *a = (fr_op_arg_t){.call = call, .op = operations[i], .variant = variant};
        char gname[96];
        snprintf(gname, sizeof gname, "firstResponse.op(%s)", operations[i]->name);
        go_set_role(go_spawn(variant == FR_SEED ? seed_op_main : corrected_op_main, a, gname), "request");
    }
    first_response_result_t result = variant == FR_SEED ? wait_seed(call) : wait_corrected(call, n);
    ctx_cancel(call->op_ctx); /* defer cancel() */

    if (!result.err)
        for (int i = 0; i < n; i++)
            if (operations[i]->name == result.from)
                entity_set(operations[i]->entity, "wins", ++operations[i]->wins);
    if (client) {
        simtime_t lat = sched_now() - start;
        client->calls++;
        client->latency_sum += lat;
        if (lat > client->latency_max)
            client->latency_max = lat;
        entity_set(client->entity, "calls", client->calls);
        pattern_series_observe_ns(client->m_latency, lat);
        if (result.err) {
            entity_set(client->entity, "errors", ++client->errors);
            pattern_series_inc(client->m_error);
        } else {
            entity_set(client->entity, "successes", ++client->successes);
            pattern_series_inc(client->m_success);
        }
    }
    return result;
}
