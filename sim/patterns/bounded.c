/*
 * bounded: the seed's BoundedExecutor, simulateOperation and main,
 * function for function. See bounded.h.
 */
#include "bounded.h"

#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "sync.h"
#include "timer.h"

static void publish(bounded_executor_t *e)
{
    entity_set(e->entity, "in_use", e->in_use);
    entity_set(e->entity, "waiting", e->waiting);
    entity_set_state(e->entity, e->in_use == 0 ? "idle" : e->in_use < e->max_concurrent ? "busy" : "full");
    pattern_series_set(e->m_in_use, (double)e->in_use);
    pattern_series_set(e->m_waiting, (double)e->waiting);
}

bounded_executor_t *bounded_executor_create(int64_t max_concurrent, simtime_t timeout, const char *name)
{
    bounded_executor_t *e = pattern_alloc(sizeof *e);
    e->semaphore = chan_make(0, max_concurrent);
    obj_set_name(e->semaphore, "semaphore");
    e->timeout = timeout;
    e->max_concurrent = max_concurrent;
    e->entity = entity_new("executor", name ? name : "BoundedExecutor", NULL);
    entity_set(e->entity, "capacity", max_concurrent);
    entity_set(e->entity, "executed", 0);
    entity_set(e->entity, "rejected", 0);
    const char *ename = entity_name(e->entity);
    static const char help[] = "Operations of a bounded executor, by outcome.";
    e->m_executed = pattern_series(METRICS_COUNTER, "bounded_executor_operations_total", help, "executor", ename,
                                "outcome", "executed");
    e->m_rejected = pattern_series(METRICS_COUNTER, "bounded_executor_operations_total", help, "executor", ename,
                                "outcome", "rejected");
    e->m_in_use = pattern_series(METRICS_GAUGE, "bounded_executor_in_use", "Slots held.", "executor", ename,
                              NULL, NULL);
    e->m_waiting = pattern_series(METRICS_GAUGE, "bounded_executor_waiting", "Callers waiting for a slot.",
                               "executor", ename, NULL, NULL);
    publish(e);
    return e;
}

void bounded_executor_destroy(bounded_executor_t *x)
{
    if (!x)
        return;
    chan_free(x->semaphore);
    pattern_free(x);
}

const go_error_t *bounded_executor_acquire(bounded_executor_t *e, ctx_t *ctx, ctx_t **exec_ctx)
{
    /* Create a context with timeout */
    *exec_ctx = ctx_with_timeout(ctx, e->timeout);
    /* Try to acquire a semaphore slot */
    e->waiting++;
    publish(e);
    static char empty; /* struct{}{} */
    select_case_t cases[2] = {
        {.ch = e->semaphore, .dir = SELECT_SEND, .elem = &empty}, /* e.semaphore <- struct{}{} */
        {.ch = ctx_done(*exec_ctx), .dir = SELECT_RECV},
    };
    int c = chan_select(cases, 2, false);
    e->waiting--;
    if (c == 1) {
        /* Couldn't acquire a slot within timeout */
        const go_error_t *err = go_errorf("operation rejected: %s", go_error_msg(ctx_err(*exec_ctx)));
        ctx_cancel(*exec_ctx); /* defer cancel() */
        entity_set(e->entity, "rejected", ++e->rejected);
        pattern_series_inc(e->m_rejected);
        publish(e);
        return err;
    }
    /* Acquired a slot */
    e->in_use++;
    if (e->in_use > e->in_use_max)
        e->in_use_max = e->in_use;
    publish(e);
    return NULL;
}

void bounded_executor_release(bounded_executor_t *e, ctx_t *exec_ctx)
{
    chan_recv(e->semaphore, NULL); /* defer func() { <-e.semaphore }() */
    e->in_use--;
    entity_set(e->entity, "executed", ++e->executed);
    pattern_series_inc(e->m_executed);
    publish(e);
    ctx_cancel(exec_ctx); /* defer cancel() */
}

const go_error_t *bounded_executor_execute(bounded_executor_t *e, ctx_t *ctx, bounded_fn fn, void *arg,
                                           void *result)
{
    ctx_t *exec_ctx;
    const go_error_t *err = bounded_executor_acquire(e, ctx, &exec_ctx);
    if (err)
        return err;
    /* Execute the function */
    err = fn(arg, result);
    bounded_executor_release(e, exec_ctx);
    return err;
}

const go_error_t *bounded_simulate_operation(void *p, void *result)
{
    const bounded_operation_t *op = p;
    /* Simulate random latency */
    simtime_t latency = op->latency_min + pattern_rand_units(op->latency_span, SIM_MS);
    go_sleep(latency);
    /* Simulate occasional failures */
    if (pattern_chance_pct(op->fail_pct))
        return go_errorf("operation %lld failed", (long long)op->id);
    snprintf(result, 64, "Result from operation %lld", (long long)op->id);
    return NULL;
}

/* ---- the seed's main --------------------------------------------------- */

bounded_demo_config_t bounded_demo_config_default(void)
{
    bounded_demo_config_t c;
    memset(&c, 0, sizeof c);
    c.operations = 50;
    c.interval = 50 * SIM_MS;
    c.max_concurrent = 5;
    c.timeout = 500 * SIM_MS;
    c.ctx_timeout = 5 * SIM_SEC;
    c.latency_min = 50 * SIM_MS;
    c.latency_span = 200 * SIM_MS;
    c.fail_pct = 10;
    c.print = true;
    return c;
}

/* What main's closures share: the executor, ctx, the counters under mu. */
typedef struct demo {
    const bounded_demo_config_t *cfg;
    bounded_executor_t *executor;
    ctx_t *ctx;
    bounded_demo_stats_t st;
    mutex_t *mu;
    waitgroup_t *wg;
    bounded_op_record_t *records;
} demo_t;

typedef struct op_arg {
    demo_t *d;
    int64_t op_id;
} op_arg_t;

static void op_main(void *p)
{
    op_arg_t *a = p;
    demo_t *d = a->d;
    /* defer wg.Done() */
    mutex_lock(d->mu);
    d->st.total++;
    mutex_unlock(d->mu);

    /* Execute with bounded concurrency */
    simtime_t start = sched_now();
    bounded_operation_t op = {.id = a->op_id, .latency_min = d->cfg->latency_min,
                          .latency_span = d->cfg->latency_span, .fail_pct = d->cfg->fail_pct};
    char result[64] = "";
    const go_error_t *err = bounded_executor_execute(d->executor, d->ctx, bounded_simulate_operation, &op, result);

    mutex_lock(d->mu);
    int outcome;
    if (err) {
        if (strcmp(go_error_msg(err), "operation rejected: context deadline exceeded") == 0) {
            d->st.rejected++;
            outcome = BOUNDED_REJECTED;
            if (d->cfg->print)
                pattern_printf(&d->cfg->out, "Operation %lld rejected: %s", (long long)a->op_id, go_error_msg(err));
        } else {
            d->st.failed++;
            outcome = BOUNDED_FAILED;
            if (d->cfg->print)
                pattern_printf(&d->cfg->out, "Operation %lld failed: %s", (long long)a->op_id, go_error_msg(err));
        }
    } else {
        d->st.successful++;
        outcome = BOUNDED_OK;
        if (d->cfg->print)
            pattern_printf(&d->cfg->out, "Operation %lld succeeded: %s", (long long)a->op_id, result);
    }
    if (d->records) {
        bounded_op_record_t *r = &d->records[a->op_id];
        r->id = a->op_id;
        r->outcome = outcome;
        r->start = start;
        r->end = sched_now();
        snprintf(r->msg, sizeof r->msg, "%s", err ? go_error_msg(err) : result);
    }
    mutex_unlock(d->mu); /* defer mu.Unlock() */
    waitgroup_done(d->wg);
}

void bounded_concurrency_main(const bounded_demo_config_t *cfg, bounded_demo_stats_t *stats,
                              bounded_op_record_t *records)
{
    simtime_t t0 = sched_now();
    demo_t *d = pattern_alloc(sizeof *d);
    d->cfg = cfg;
    d->records = records;
    /* Create a bounded executor */
    d->executor = bounded_executor_create(cfg->max_concurrent, cfg->timeout, NULL);
    /* Create a context with timeout */
    d->ctx = ctx_with_timeout(ctx_background(), cfg->ctx_timeout);
    d->mu = mutex_new();
    d->wg = waitgroup_new();
    /* Launch a bunch of operations */
    for (int64_t i = 0; i < cfg->operations; i++) {
        waitgroup_add(d->wg, 1);
        op_arg_t *a = pattern_alloc(sizeof *a);
        a->d = d;
        a->op_id = i;
        char name[48];
        snprintf(name, sizeof name, "operation-%lld", (long long)i);
        go_set_role(go_spawn(op_main, a, name), "request");
        /* Add some delay between operations */
        go_sleep(cfg->interval);
    }
    /* Wait for all operations to complete */
    waitgroup_wait(d->wg);
    ctx_cancel(d->ctx); /* defer cancel() */
    d->st.in_use_max = d->executor->in_use_max;
    d->st.elapsed = sched_now() - t0;
    if (stats)
        *stats = d->st;
}
