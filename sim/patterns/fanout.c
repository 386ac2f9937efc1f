/*
 * fanout: the seed's fan-out/fan-in, function for function. See fanout.h.
 *
 * Go closures become small argument structs; `defer wg.Done()` becomes a
 * call at the end of the goroutine's entry function. Everything a
 * goroutine touches lives in pattern_alloc memory, so a goroutine that
 * outlives fanout_distribute_and_process (fan_out after a cancellation) never
 * reads freed memory.
 */
#include "fanout.h"

#include <stdio.h>
#include <string.h>

#include "entity.h"
#include "pattern.h"
#include "sync.h"
#include "timer.h"

/* What the goroutines of one fanout_distribute_and_process call share. */
typedef struct fanout_run {
    const fanout_config_t *cfg; /* copied into cfg_copy */
    fanout_config_t cfg_copy;
    entity_t *pool;             /* the pattern */
    entity_t *tasks_q;          /* tasksCh */
    entity_t *results_q;        /* resultsCh */
    entity_t **workers;         /* one per worker */
} fanout_run_t;

fanout_config_t fanout_config_default(void)
{
    fanout_config_t c;
    memset(&c, 0, sizeof c);
    c.fail_every = 7;
    return c;
}

void fanout_make_tasks(fanout_task_t *tasks, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        memset(&tasks[i], 0, sizeof tasks[i]);
        tasks[i].id = i;
        snprintf(tasks[i].input, sizeof tasks[i].input, "Task %lld input", (long long)i);
        tasks[i].worker = -1;
    }
}

/* ---- fanOut ------------------------------------------------------------ */

typedef struct fan_out_arg {
    ctx_t *ctx;
    const fanout_task_t *tasks; /* pattern_alloc copy */
    int64_t n;
    chan_t *tasks_ch;
    entity_t *q;         /* may be NULL */
} fan_out_arg_t;

static void fan_out_main(void *p)
{
    fan_out_arg_t *a = p;
    /* defer close(tasksCh) */
    for (int64_t i = 0; i < a->n; i++) {
        fanout_task_t task = a->tasks[i];
        select_case_t cases[2] = {
            {.ch = a->tasks_ch, .dir = SELECT_SEND, .elem = &task},
            {.ch = ctx_done(a->ctx), .dir = SELECT_RECV},
        };
        if (chan_select(cases, 2, false) == 1)
            break; /* case <-ctx.Done(): return */
        if (a->q)
            entity_add(a->q, "sent", 1);
    }
    chan_close(a->tasks_ch);
}

/* fanOut, publishing the number of tasks sent on q (may be NULL). */
static chan_t *fan_out_q(ctx_t *ctx, const fanout_task_t *tasks, int64_t n, entity_t *q)
{
    chan_t *tasks_ch = chan_make(sizeof(fanout_task_t), 0);
    obj_set_name(tasks_ch, "tasksCh");
    fan_out_arg_t *a = pattern_alloc(sizeof *a);
    fanout_task_t *copy = pattern_alloc((size_t)(n > 0 ? n : 1) * sizeof *copy);
    if (n > 0)
        memcpy(copy, tasks, (size_t)n * sizeof *copy);
    *a = (fan_out_arg_t){.ctx = ctx, .tasks = copy, .n = n, .tasks_ch = tasks_ch, .q = q};
    g_t *g = go_spawn(fan_out_main, a, "fanOut");
    go_set_role(g, "source");
    return tasks_ch;
}

chan_t *fanout_fan_out(ctx_t *ctx, const fanout_task_t *tasks, int64_t n, int worker_count)
{
    (void)worker_count; /* the seed's fanOut takes it and does not use it */
    return fan_out_q(ctx, tasks, n, NULL);
}

/* ---- processTask ------------------------------------------------------- */

fanout_task_t fanout_process_task(ctx_t *ctx, fanout_task_t task, simtime_t d)
{
    select_case_t cases[2] = {
        {.ch = go_after(d), .dir = SELECT_RECV},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    if (chan_select(cases, 2, false) == 0) {
        snprintf(task.result, sizeof task.result, "Processed: %s", task.input);
        return task;
    }
    task.err = ctx_err(ctx);
    return task;
}

/* ---- worker ------------------------------------------------------------ */

static void worker(ctx_t *ctx, int id, chan_t *tasks_ch, chan_t *results_ch, fanout_run_t *run)
{
    const fanout_config_t *cfg = run->cfg;
    entity_t *me = run->workers[id];
    fanout_task_t task;
    while (chan_recv(tasks_ch, &task)) { /* for task := range tasksCh */
        select_case_t done = {.ch = ctx_done(ctx), .dir = SELECT_RECV};
        if (chan_select(&done, 1, true) == 0)
            return; /* case <-ctx.Done(): return */
        /* default: */
        entity_set_state(me, "busy");
        task.worker = id;
        if (cfg->process_min > 0) /* chansim: the seed's processTask, unused by its worker */
            task = fanout_process_task(ctx, task, pattern_uniform_latency(cfg->process_min, cfg->process_max));
        if (!task.err) {
            snprintf(task.result, sizeof task.result, "Worker %d processed: %s", id, task.input);
            /* Simulate occasional failures */
            if ((cfg->fail_every > 0 && task.id % cfg->fail_every == 0) ||
                (cfg->fail_pct > 0 && pattern_chance_pct(cfg->fail_pct))) {
                task.err = go_errorf("processing error on task %lld", (long long)task.id);
                task.result[0] = '\0';
            }
        }
        task.done_at = sched_now();
        /* Send the result */
        select_case_t cases[2] = {
            {.ch = results_ch, .dir = SELECT_SEND, .elem = &task},
            {.ch = ctx_done(ctx), .dir = SELECT_RECV},
        };
        int c = chan_select(cases, 2, false);
        entity_set_state(me, "idle");
        if (c == 1)
            return;
        entity_add(me, "processed", 1);
        entity_set(run->results_q, "depth", chan_len(results_ch));
    }
}

typedef struct worker_arg {
    ctx_t *ctx;
    int id;
    chan_t *tasks_ch, *results_ch;
    waitgroup_t *wg;
    fanout_run_t *run;
} worker_arg_t;

static void worker_main(void *p)
{
    worker_arg_t *a = p;
    /* defer wg.Done() */
    worker(a->ctx, a->id, a->tasks_ch, a->results_ch, a->run);
    entity_set_state(a->run->workers[a->id], "done");
    waitgroup_done(a->wg);
}

/* ---- fanIn ------------------------------------------------------------- */

typedef struct fan_in_arg {
    ctx_t *ctx;
    chan_t *results_ch, *multiplexed_ch;
    waitgroup_t *wg;
} fan_in_arg_t;

static void fan_in_main(void *p)
{
    fan_in_arg_t *a = p;
    for (;;) {
        fanout_task_t result;
        select_case_t cases[2] = {
            {.ch = a->results_ch, .dir = SELECT_RECV, .elem = &result},
            {.ch = ctx_done(a->ctx), .dir = SELECT_RECV},
        };
        if (chan_select(cases, 2, false) == 1 || !cases[0].ok)
            break; /* ctx done, or resultsCh closed */
        select_case_t fwd[2] = {
            {.ch = a->multiplexed_ch, .dir = SELECT_SEND, .elem = &result},
            {.ch = ctx_done(a->ctx), .dir = SELECT_RECV},
        };
        if (chan_select(fwd, 2, false) == 1)
            break;
    }
    waitgroup_done(a->wg); /* defer wg.Done() */
}

/* The goroutine that closes a channel once a WaitGroup is done. */
typedef struct closer_arg {
    waitgroup_t *wg;
    chan_t *ch;
} closer_arg_t;

static void closer_main(void *p)
{
    closer_arg_t *a = p;
    waitgroup_wait(a->wg);
    chan_close(a->ch);
}

static void spawn_closer(waitgroup_t *wg, chan_t *ch, const char *name)
{
    closer_arg_t *a = pattern_alloc(sizeof *a);
    a->wg = wg;
    a->ch = ch;
    go_spawn(closer_main, a, name);
}

chan_t *fanout_fan_in(ctx_t *ctx, int worker_count, chan_t *results_ch)
{
    chan_t *multiplexed_ch = chan_make(sizeof(fanout_task_t), 0);
    obj_set_name(multiplexed_ch, "multiplexedCh");
    waitgroup_t *wg = waitgroup_new();
    waitgroup_add(wg, worker_count);
    for (int i = 0; i < worker_count; i++) {
        fan_in_arg_t *a = pattern_alloc(sizeof *a);
        *a = (fan_in_arg_t){.ctx = ctx, .results_ch = results_ch, .multiplexed_ch = multiplexed_ch, .wg = wg};
        char name[32];
        snprintf(name, sizeof name, "fanIn-%d", i);
        go_set_role(go_spawn(fan_in_main, a, name), "collector");
    }
    spawn_closer(wg, multiplexed_ch, "fanIn.closer");
    return multiplexed_ch;
}

/* ---- distributeAndProcess ---------------------------------------------- */

int64_t fanout_distribute_and_process(ctx_t *ctx, const fanout_task_t *tasks, int64_t n, int worker_count,
                                      const fanout_config_t *cfg, fanout_task_t *out, fanout_stats_t *stats)
{
    simtime_t start = sched_now();
    fanout_run_t *run = pattern_alloc(sizeof *run);
    run->cfg_copy = cfg ? *cfg : fanout_config_default();
    run->cfg = &run->cfg_copy;
    run->pool = entity_new("pool", "fan-out", NULL);
    entity_set(run->pool, "workers", worker_count);
    entity_set(run->pool, "tasks", n);
    entity_set(run->pool, "succeeded", 0);
    entity_set(run->pool, "failed", 0);
    entity_set(run->pool, "canceled", 0);
    entity_set_state(run->pool, "running");

    /* Create a buffered channel for results to prevent blocking */
    chan_t *results_ch = chan_make(sizeof(fanout_task_t), n);
    obj_set_name(results_ch, "resultsCh");
    run->results_q = entity_new("queue", "resultsCh", run->pool);
    entity_set(run->results_q, "capacity", n);
    entity_set(run->results_q, "depth", 0);

    /* Fan out: distribute tasks to workers */
    run->tasks_q = entity_new("queue", "tasksCh", run->pool);
    entity_set(run->tasks_q, "capacity", 0);
    entity_set(run->tasks_q, "sent", 0);
    chan_t *tasks_ch = fan_out_q(ctx, tasks, n, run->tasks_q);

    /* Start workers */
    waitgroup_t *wg = waitgroup_new();
    waitgroup_add(wg, worker_count);
    run->workers = pattern_alloc((size_t)worker_count * sizeof *run->workers);
    for (int i = 0; i < worker_count; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        run->workers[i] = entity_new("worker", name, run->pool);
        entity_set_state(run->workers[i], "idle");
        entity_set(run->workers[i], "processed", 0);
        worker_arg_t *a = pattern_alloc(sizeof *a);
        *a = (worker_arg_t){.ctx = ctx, .id = i, .tasks_ch = tasks_ch, .results_ch = results_ch,
                            .wg = wg, .run = run};
        g_t *g = go_spawn(worker_main, a, name);
        go_set_role(g, "worker");
        entity_set_goroutine(run->workers[i], go_id(g));
    }
    /* Close results channel when all workers are done */
    spawn_closer(wg, results_ch, "resultsCh.closer");

    /* Metrics (chansim): results by outcome, tasks without a result. */
    static const char help[] = "Results collected by distributeAndProcess, by outcome.";
    metrics_series_t *m_ok = pattern_series(METRICS_COUNTER, "fanout_results_total", help, "outcome", "succeeded",
                                         NULL, NULL);
    metrics_series_t *m_failed = pattern_series(METRICS_COUNTER, "fanout_results_total", help, "outcome", "failed",
                                             NULL, NULL);
    metrics_series_t *m_canceled = pattern_series(METRICS_COUNTER, "fanout_results_total", help, "outcome",
                                               "canceled", NULL, NULL);
    metrics_series_t *m_missing = pattern_series(METRICS_COUNTER, "fanout_tasks_missing_total",
                                              "Tasks that got no result (the context ended first).", NULL,
                                              NULL, NULL, NULL);

    /* Fan in: collect results */
    chan_t *collect = run->cfg->use_fan_in ? fanout_fan_in(ctx, worker_count, results_ch) : results_ch;
    fanout_stats_t st;
    memset(&st, 0, sizeof st);
    int64_t count = 0;
    fanout_task_t result;
    while (chan_recv(collect, &result)) { /* for result := range resultsCh */
        entity_set(run->results_q, "depth", chan_len(results_ch));
        if (!result.err) {
            st.succeeded++;
            entity_add(run->pool, "succeeded", 1);
            pattern_series_inc(m_ok);
        } else if (result.err == &GO_ERR_CANCELED || result.err == &GO_ERR_DEADLINE_EXCEEDED) {
            st.canceled++;
            entity_add(run->pool, "canceled", 1);
            pattern_series_inc(m_canceled);
        } else {
            st.failed++;
            entity_add(run->pool, "failed", 1);
            pattern_series_inc(m_failed);
        }
        if (count < n)
            out[count] = result;
        count++;
    }
    st.missing = n - count;
    pattern_series_add(m_missing, (double)st.missing);
    st.elapsed = sched_now() - start;
    entity_set(run->pool, "missing", st.missing);
    entity_set_state(run->pool, ctx_err(ctx) ? "canceled" : "done");
    if (stats)
        *stats = st;
    return count;
}
