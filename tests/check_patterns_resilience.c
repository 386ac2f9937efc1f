/*
 * patterns_resilience: the seed's adaptive worker pool, circuit breaker,
 * graceful shutdown and goroutine leak detector (sim/worker_pool.c,
 * breaker.c, shutdown.c, leak_detector.c), with exact outcomes on the
 * simulated clock: states after each step and the times of transitions,
 * scaling decisions at exact times for a deterministic load, nothing
 * accepted lost by a shutdown, the leak detector firing or not. Where the
 * pattern draws random numbers the checks have bounds a wrong
 * implementation fails.
 */
#include "breaker.h"
#include "ctx.h"
#include "entity.h"
#include "leak_detector.h"
#include "shutdown.h"
#include "sync.h"
#include "testutil.h"
#include "worker_pool.h"

/* ======================================================================== */
/* Circuit breaker                                                          */
/* ======================================================================== */

/* The transitions a breaker reported, with their times. */
typedef struct changes {
    breaker_state_t from[32], to[32];
    simtime_t t[32];
    int n;
    breaker_t *cb; /* for callbacks that look at the breaker */
    bool call_get_state;   /* the callback calls GetState (deadlocks the seed's) */
} changes_t;

static void record_change(void *ud, const char *name, breaker_state_t from,
                          breaker_state_t to)
{
    changes_t *c = ud;
    (void)name;
    if (c->call_get_state)
        (void)breaker_get_state(c->cb);
    if (c->n < 32) {
        c->from[c->n] = from;
        c->to[c->n] = to;
        c->t[c->n] = sched_now();
        c->n++;
    }
}

static const go_error_t ERR_BOOM = {"boom"};
static const go_error_t *ok_fn(void *arg) { (void)arg; return NULL; }
static const go_error_t *fail_fn(void *arg) { (void)arg; return &ERR_BOOM; }
/* A slow call that succeeds or fails after a delay. */
typedef struct slow {
    simtime_t d;
    bool fail;
} slow_t;
static const go_error_t *slow_fn(void *arg)
{
    slow_t *s = arg;
    go_sleep(s->d);
    return s->fail ? &ERR_BOOM : NULL;
}

static breaker_t *seed_demo_breaker(changes_t *ch, bool seed_variant)
{
    breaker_options_t o = breaker_defaults();
    o.failure_threshold = 3;
    o.success_threshold = 2;
    o.reset_timeout = 5 * SIM_SEC;
    o.on_state_change = record_change;
    o.on_state_change_ud = ch;
    o.seed_variant = seed_variant;
    breaker_t *cb = breaker_create("example-service", &o);
    ch->cb = cb;
    return cb;
}

static void expect_counts(breaker_t *cb, breaker_state_t st, int64_t requests,
                          int64_t successes, int64_t failures, int64_t cons_s, int64_t cons_f)
{
    breaker_metrics_t m = breaker_get_metrics(cb);
    ck_assert_int_eq(m.state, st);
    ck_assert_int_eq(m.total_requests, requests);
    ck_assert_int_eq(m.total_successes, successes);
    ck_assert_int_eq(m.total_failures, failures);
    ck_assert_int_eq(m.consecutive_successes, cons_s);
    ck_assert_int_eq(m.consecutive_failures, cons_f);
}

/* SEMANTICS.md H.93 (gobreaker's TestDefaultCircuitBreaker), adapted to
 * the seed's demo thresholds: failure 3, success 2, reset 5s. */
static changes_t h93_changes;
static void h93_main(void *arg)
{
    (void)arg;
    changes_t *ch = &h93_changes;
    memset(ch, 0, sizeof *ch);
    breaker_t *cb = seed_demo_breaker(ch, false);
    ctx_t *bg = ctx_background();

    /* 2 failures: still closed */
    for (int i = 0; i < 2; i++)
        ck_assert_ptr_eq(breaker_execute(cb, bg, fail_fn, NULL), &ERR_BOOM);
    expect_counts(cb, STATE_CLOSED, 2, 0, 2, 0, 2);
    /* a success resets the run of failures */
    ck_assert_ptr_null(breaker_execute(cb, bg, ok_fn, NULL));
    expect_counts(cb, STATE_CLOSED, 3, 1, 2, 1, 0);
    /* a failure: one in a row */
    breaker_execute(cb, bg, fail_fn, NULL);
    expect_counts(cb, STATE_CLOSED, 4, 1, 3, 0, 1);
    /* two more: three in a row, open */
    go_sleep(SIM_SEC);
    breaker_execute(cb, bg, fail_fn, NULL);
    ck_assert_int_eq(breaker_get_state(cb), STATE_CLOSED);
    breaker_execute(cb, bg, fail_fn, NULL);
    expect_counts(cb, STATE_OPEN, 6, 1, 5, 0, 3);
    ck_assert_int_eq(ch->n, 1);
    ck_assert_int_eq(ch->t[0], SIM_SEC);
    /* open rejects, uncounted as a request */
    ck_assert_ptr_eq(breaker_execute(cb, bg, ok_fn, NULL), &BREAKER_ERR_CIRCUIT_OPEN);
    ck_assert_int_eq(breaker_get_metrics(cb).total_short_circuits, 1);
    ck_assert_int_eq(breaker_get_metrics(cb).open_until, 6 * SIM_SEC);
    /* 1ns before the reset timeout: still open */
    go_sleep_until(6 * SIM_SEC - 1);
    ck_assert_int_eq(breaker_get_state(cb), STATE_OPEN);
    /* at exactly the reset timeout: half-open (the reset timer fired;
     * the seed's breaker still says open, see the next test) */
    go_sleep_until(6 * SIM_SEC);
    ck_assert_int_eq(breaker_get_state(cb), STATE_HALF_OPEN);
    ck_assert_int_eq(ch->n, 2);
    ck_assert_int_eq(ch->t[1], 6 * SIM_SEC); /* exactly reset_timeout later */
    /* a failure in half-open opens again */
    breaker_execute(cb, bg, fail_fn, NULL);
    ck_assert_int_eq(breaker_get_state(cb), STATE_OPEN);
    simtime_t reopened = sched_now();
    ck_assert_int_eq(ch->to[ch->n - 1], STATE_OPEN);
    ck_assert_int_eq(ch->t[ch->n - 1], reopened);
    /* +5s: half-open; two successes close it */
    go_sleep(5 * SIM_SEC);
    ck_assert_ptr_null(breaker_execute(cb, bg, ok_fn, NULL));
    ck_assert_int_eq(breaker_get_state(cb), STATE_HALF_OPEN);
    ck_assert_ptr_null(breaker_execute(cb, bg, ok_fn, NULL));
    ck_assert_int_eq(breaker_get_state(cb), STATE_CLOSED);
    /* the whole history */
    ck_assert_int_eq(ch->n, 5);
    const breaker_state_t to[5] = {STATE_OPEN, STATE_HALF_OPEN, STATE_OPEN, STATE_HALF_OPEN,
                                          STATE_CLOSED};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ch->to[i], to[i]);
    ck_assert_int_eq(ch->t[3] - ch->t[2], 5 * SIM_SEC);
    expect_counts(cb, STATE_CLOSED, 9, 3, 6, 2, 0);
}

START_TEST(breaker_h93_sequence_corrected)
{
    ck_assert_int_eq(run_main(h93_main, NULL), SCHED_DONE);
}
END_TEST

/* The seed's variant of the same sequence, up to its lazy half-open: the
 * request at exactly reset_timeout is rejected; the next one, 1ns later,
 * is the probe. */
static void h93_seed_main(void *arg)
{
    (void)arg;
    changes_t *ch = &h93_changes;
    memset(ch, 0, sizeof *ch);
    breaker_t *cb = seed_demo_breaker(ch, true);
    ctx_t *bg = ctx_background();
    for (int i = 0; i < 3; i++)
        breaker_execute(cb, bg, fail_fn, NULL);
    ck_assert_int_eq(breaker_get_state(cb), STATE_OPEN);
    go_sleep(5 * SIM_SEC);
    ck_assert_int_eq(breaker_get_state(cb), STATE_OPEN);
    ck_assert_ptr_eq(breaker_execute(cb, bg, ok_fn, NULL), &BREAKER_ERR_CIRCUIT_OPEN);
    go_sleep(1);
    ck_assert_int_eq(breaker_get_state(cb), STATE_OPEN); /* GetState never moves it */
    ck_assert_ptr_null(breaker_execute(cb, bg, ok_fn, NULL)); /* the probe */
    ck_assert_int_eq(ch->n, 2);
    ck_assert_int_eq(ch->to[1], STATE_HALF_OPEN);
    ck_assert_int_eq(ch->t[1], 5 * SIM_SEC + 1);
    ck_assert_ptr_null(breaker_execute(cb, bg, ok_fn, NULL));
    ck_assert_int_eq(breaker_get_state(cb), STATE_CLOSED);
}

START_TEST(breaker_seed_half_opens_lazily_and_strictly)
{
    ck_assert_int_eq(run_main(h93_seed_main, NULL), SCHED_DONE);
}
END_TEST

/* Half-open admission under concurrency: five callers arrive while the
 * first probe is in flight. */
typedef struct probe_run {
    breaker_t *cb;
    int admitted, too_many, open;
    slow_t slow;
} probe_run_t;

static void prober(void *arg)
{
    probe_run_t *p = arg;
    const go_error_t *err = breaker_execute(p->cb, ctx_background(), slow_fn, &p->slow);
    if (err == &BREAKER_ERR_TOO_MANY_REQUESTS)
        p->too_many++;
    else if (err == &BREAKER_ERR_CIRCUIT_OPEN)
        p->open++;
    else
        p->admitted++;
}

static probe_run_t probes;
static void half_open_main(void *arg)
{
    bool seed = *(bool *)arg;
    changes_t ch = {0};
    breaker_t *cb = seed_demo_breaker(&ch, seed);
    for (int i = 0; i < 3; i++)
        breaker_execute(cb, ctx_background(), fail_fn, NULL);
    go_sleep(5 * SIM_SEC + 1);
    memset(&probes, 0, sizeof probes);
    probes.cb = cb;
    probes.slow.d = 300 * SIM_MS;
    probes.slow.fail = false;
    for (int i = 0; i < 5; i++) {
        go_spawn(prober, &probes, "prober");
        go_sleep(10 * SIM_MS);
    }
    go_sleep(SIM_SEC);
    ck_assert_int_eq(breaker_get_state(cb), STATE_CLOSED);
}

START_TEST(breaker_half_open_admits_success_threshold_probes)
{
    bool seed = false;
    ck_assert_int_eq(run_main(half_open_main, &seed), SCHED_DONE);
    ck_assert_int_eq(probes.admitted, 2);
    ck_assert_int_eq(probes.too_many, 3);
    ck_assert_int_eq(probes.open, 0);
}
END_TEST

START_TEST(breaker_seed_half_open_lets_every_probe_through)
{
    bool seed = true;
    ck_assert_int_eq(run_main(half_open_main, &seed), SCHED_DONE);
    ck_assert_int_eq(probes.admitted, 5); /* the bug: none had finished */
    ck_assert_int_eq(probes.too_many, 0);
}
END_TEST

/* A slow failure admitted while closed finishes after the breaker went
 * open and half-open: the seed counts it against the half-open state. */
typedef struct stale_run {
    breaker_t *cb;
    slow_t slow;
} stale_run_t;
static stale_run_t stale;
static void stale_caller(void *arg)
{
    stale_run_t *s = arg;
    breaker_execute(s->cb, ctx_background(), slow_fn, &s->slow);
}
static breaker_state_t stale_final;
static int64_t stale_count;
static void stale_main(void *arg)
{
    bool seed = *(bool *)arg;
    changes_t ch = {0};
    breaker_t *cb = seed_demo_breaker(&ch, seed);
    stale.cb = cb;
    stale.slow.d = 6 * SIM_SEC; /* admitted closed, finishes in half-open */
    stale.slow.fail = true;
    go_spawn(stale_caller, &stale, "slow-caller");
    go_sleep(SIM_MS);
    for (int i = 0; i < 3; i++)
        breaker_execute(cb, ctx_background(), fail_fn, NULL); /* open at 1ms */
    go_sleep(5 * SIM_SEC + 1);
    ck_assert_ptr_null(breaker_execute(cb, ctx_background(), ok_fn, NULL)); /* half-open, 1 success */
    ck_assert_int_eq(breaker_get_state(cb), STATE_HALF_OPEN);
    go_sleep(SIM_SEC); /* the slow failure lands at 6s */
    stale_final = breaker_get_state(cb);
    stale_count = breaker_get_metrics(cb).stale_results;
}

START_TEST(breaker_ignores_results_of_an_earlier_state)
{
    bool seed = false;
    ck_assert_int_eq(run_main(stale_main, &seed), SCHED_DONE);
    ck_assert_int_eq(stale_final, STATE_HALF_OPEN);
    ck_assert_int_eq(stale_count, 1);
    seed = true;
    ck_assert_int_eq(run_main(stale_main, &seed), SCHED_DONE);
    ck_assert_int_eq(stale_final, STATE_OPEN); /* the seed reopens on a stale failure */
    ck_assert_int_eq(stale_count, 1);
}
END_TEST

/* The seed runs the callback under its write lock: a callback that calls
 * GetState deadlocks the program; the corrected breaker calls it after
 * unlocking. */
static void callback_lock_main(void *arg)
{
    bool seed = *(bool *)arg;
    changes_t *ch = &h93_changes;
    memset(ch, 0, sizeof *ch);
    breaker_t *cb = seed_demo_breaker(ch, seed);
    ch->call_get_state = true;
    for (int i = 0; i < 3; i++)
        breaker_execute(cb, ctx_background(), fail_fn, NULL);
}

START_TEST(breaker_seed_callback_under_lock_deadlocks)
{
    bool seed = true;
    sched_result_t r;
    sched_t *s = run_with(NULL, callback_lock_main, &seed, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_msg(strstr(sched_report(s), "sync.RWMutex.RLock") != NULL, "%s", sched_report(s));
    sched_destroy(s);
    seed = false;
    ck_assert_int_eq(run_main(callback_lock_main, &seed), SCHED_DONE);
    ck_assert_int_eq(h93_changes.n, 1);
}
END_TEST

/* The seed's demo with simulateService: timeouts are counted apart from
 * failures, and the average response time is cumulative / requests. */
typedef struct svc_call {
    int rate;
    simtime_t latency;
    ctx_t *ctx;
} svc_call_t;
static const go_error_t *svc_fn(void *arg)
{
    svc_call_t *c = arg;
    return breaker_simulate_service(c->ctx, "example-service", c->rate, c->latency, NULL, 0);
}
static breaker_metrics_t demo_metrics;
static void demo_main(void *arg)
{
    (void)arg;
    changes_t ch = {0};
    breaker_t *cb = seed_demo_breaker(&ch, false);
    for (int i = 0; i < 20; i++) {
        ctx_t *ctx = ctx_with_timeout(ctx_background(), SIM_SEC);
        svc_call_t c = {0, 100 * SIM_MS, ctx};
        if (i >= 5 && i < 10) {
            c.rate = 80;
            c.latency = 300 * SIM_MS;
        } else if (i >= 15) {
            c.latency = 1500 * SIM_MS;
        }
        breaker_execute(cb, ctx, svc_fn, &c);
        ctx_cancel(ctx);
        go_sleep(500 * SIM_MS);
    }
    demo_metrics = breaker_get_metrics(cb);
}

START_TEST(breaker_seed_demo_accounts_for_every_request)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sched_config_t cfg = sched_config_default();
        cfg.seed = seed;
        sched_result_t r;
        sched_t *s = run_with(&cfg, demo_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        breaker_metrics_t *m = &demo_metrics;
        ck_assert_int_eq(m->total_requests + m->total_short_circuits, 20);
        ck_assert_int_eq(m->total_requests, m->total_successes + m->total_failures + m->total_timeouts);
        ck_assert_int_ge(m->total_successes, 5); /* phase 1 always succeeds */
        /* every admitted 1500ms call times out at exactly 1s */
        ck_assert_int_le(m->total_timeouts, 5);
        sched_destroy(s);
    }
}
END_TEST


/* ======================================================================== */
/* Adaptive worker pool                                                     */
/* ======================================================================== */

static void drain_results(void *arg)
{
    worker_pool_t *p = arg;
    worker_pool_result_t r;
    while (chan_recv(worker_pool_results(p), &r))
        ;
}

static worker_pool_options_t quiet_pool(bool seed)
{
    worker_pool_options_t o = worker_pool_options_default();
    o.failure_pct = 0;
    o.seed_variant = seed;
    return o;
}

/* 60 jobs of 310ms at t=0, no failures: the decisions of an independent
 * model of the seed's rules (ticks every 500ms; utilisation = busy /
 * workers; +25% at >= 0.7 with jobs pending; -15% under 0.35 with none).
 * 310ms keeps job ends off the ticks, so no decision depends on the order
 * of events at one instant. */
static struct {
    worker_pool_scale_event_t ev[32];
    size_t n;
    worker_pool_metrics_t m;
    int32_t workers_end;
} scaling;

static void scaling_main(void *arg)
{
    bool seed = *(bool *)arg;
    worker_pool_options_t o = quiet_pool(seed);
    worker_pool_t *p = worker_pool_create(ctx_background(), &o);
    go_spawn(drain_results, p, "results");
    for (int i = 0; i < 60; i++)
        ck_assert_ptr_null(worker_pool_submit(p, ctx_background(), (worker_pool_job_t){i, 310 * SIM_MS}));
    go_sleep(5200 * SIM_MS);
    const worker_pool_scale_event_t *ev = worker_pool_scale_events(p, &scaling.n);
    ck_assert_uint_le(scaling.n, 32);
    if (scaling.n)
        memcpy(scaling.ev, ev, scaling.n * sizeof *ev);
    scaling.m = worker_pool_get_metrics(p);
    scaling.workers_end = worker_pool_worker_count(p);
    worker_pool_shutdown(p);
}

static void check_scaling(bool seed)
{
    ck_assert_int_eq(run_main(scaling_main, &seed), SCHED_DONE);
    static const struct {
        int t_ms, dir, count, workers, active, pending;
    } want[] = {
        {500, +1, 1, 5, 5, 50},   {1000, +1, 1, 6, 6, 38},  {1500, +1, 1, 7, 7, 29},
        {2000, +1, 2, 8, 8, 14},  {3000, -1, 1, 10, 0, 0},  {3500, -1, 1, 9, 0, 0},
        {4000, -1, 1, 8, 0, 0},   {4500, -1, 1, 7, 0, 0},   {5000, -1, 1, 6, 0, 0},
    };
    ck_assert_uint_eq(scaling.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < scaling.n; i++) {
        ck_assert_int_eq(scaling.ev[i].t, want[i].t_ms * SIM_MS);
        ck_assert_int_eq(scaling.ev[i].direction, want[i].dir);
        ck_assert_int_eq(scaling.ev[i].count, want[i].count);
        ck_assert_int_eq(scaling.ev[i].workers, want[i].workers);
        ck_assert_int_eq(scaling.ev[i].active, want[i].active);
        ck_assert_int_eq(scaling.ev[i].pending, want[i].pending);
        if (want[i].dir < 0)
            ck_assert_int_eq(scaling.ev[i].delivered, want[i].count);
    }
    ck_assert_int_eq(scaling.m.total_jobs, 60);
    ck_assert_int_eq(scaling.m.completed_jobs, 60);
    ck_assert_int_eq(scaling.m.failed_jobs, 0);
    ck_assert_int_eq(scaling.m.total_latency, 310 * SIM_MS); /* the average */
    ck_assert_int_eq(scaling.m.queue_high_water, 60);
    ck_assert_int_eq(scaling.workers_end, 5);
}

START_TEST(pool_scaling_decisions_at_exact_times)
{
    check_scaling(false);
    check_scaling(true);
}
END_TEST

/* Submit never blocks: with the workers not yet running, a queue of 10
 * takes 10 jobs and refuses the next 10 "job queue is full". */
static int full_rejected;
static void full_main(void *arg)
{
    (void)arg;
    worker_pool_options_t o = quiet_pool(false);
    o.queue_size = 10;
    worker_pool_t *p = worker_pool_create(ctx_background(), &o);
    go_spawn(drain_results, p, "results");
    full_rejected = 0;
    for (int i = 0; i < 20; i++) {
        const go_error_t *err = worker_pool_submit(p, ctx_background(), (worker_pool_job_t){i, 100 * SIM_MS});
        if (err) {
            ck_assert_ptr_eq(err, &WORKER_POOL_ERR_JOB_QUEUE_FULL);
            full_rejected++;
        }
    }
    ck_assert_int_eq(sched_now(), 0);
    worker_pool_shutdown(p);
    ck_assert_int_eq(worker_pool_get_metrics(p).completed_jobs, 10);
}

START_TEST(pool_rejects_when_the_queue_is_full)
{
    ck_assert_int_eq(run_main(full_main, NULL), SCHED_DONE);
    ck_assert_int_eq(full_rejected, 10);
}
END_TEST

/* A scale-down larger than the idle workers (min 1, scale_down 0.9: 10
 * workers, 3 busy -> remove 9, 7 idle): the seed's signals to the busy
 * ones are lost; the corrected pool retires them when their jobs end. */
static int32_t loss_workers_after;
static int loss_delivered, loss_count;
static void loss_main(void *arg)
{
    bool seed = *(bool *)arg;
    worker_pool_options_t o = quiet_pool(seed);
    o.min_workers = 1;
    o.max_workers = 10;
    o.scale_down_fraction = 0.9;
    o.queue_size = 2000;
    worker_pool_t *p = worker_pool_create(ctx_background(), &o);
    go_spawn(drain_results, p, "results");
    /* A backlog of 20ms jobs grows the pool 1,2,...,8,10 by 4s and is
     * drained at about 5.2s. */
    for (int i = 0; i < 1500; i++)
        worker_pool_submit(p, ctx_background(), (worker_pool_job_t){i, 20 * SIM_MS});
    go_sleep_until(4100 * SIM_MS);
    ck_assert_int_eq(worker_pool_worker_count(p), 10);
    while (worker_pool_pending_jobs(p) > 0 || worker_pool_active_workers(p) > 0)
        go_sleep(10 * SIM_MS);
    ck_assert_int_lt(sched_now(), 5500 * SIM_MS);
    /* 3 long jobs: 3 busy, 7 idle at the tick at 5.5s */
    for (int i = 0; i < 3; i++)
        worker_pool_submit(p, ctx_background(), (worker_pool_job_t){10000 + i, 2 * SIM_SEC});
    simtime_t t_long = sched_now();
    size_t n0;
    worker_pool_scale_events(p, &n0);
    go_sleep_until(5600 * SIM_MS);
    size_t n;
    const worker_pool_scale_event_t *ev = worker_pool_scale_events(p, &n);
    ck_assert_uint_eq(n, n0 + 1);
    ck_assert_int_eq(ev[n - 1].direction, -1);
    ck_assert_int_eq(ev[n - 1].t, 5500 * SIM_MS);
    ck_assert_int_eq(ev[n - 1].active, 3);
    loss_count = ev[n - 1].count;
    loss_delivered = ev[n - 1].delivered;
    /* just after the long jobs end, before the next tick (7.5s) */
    go_sleep_until(t_long + 2 * SIM_SEC + 10 * SIM_MS);
    ck_assert_int_lt(sched_now(), 7500 * SIM_MS);
    loss_workers_after = worker_pool_worker_count(p);
    worker_pool_shutdown(p);
}

START_TEST(pool_seed_scale_down_signals_are_lost_on_busy_workers)
{
    bool seed = true;
    ck_assert_int_eq(run_main(loss_main, &seed), SCHED_DONE);
    ck_assert_int_eq(loss_count, 9);
    ck_assert_int_eq(loss_delivered, 7);
    ck_assert_int_eq(loss_workers_after, 3); /* 9 decided, 7 removed */
    seed = false;
    ck_assert_int_eq(run_main(loss_main, &seed), SCHED_DONE);
    ck_assert_int_eq(loss_count, 9);
    ck_assert_int_eq(loss_delivered, 7);
    /* the two retirements were taken by busy workers when their jobs
     * ended: exactly the decided 9 left */
    ck_assert_int_eq(loss_workers_after, 1);
}
END_TEST

/* Workers that leave through ctx.Done while waiting to hand over a result
 * (nobody reads results; result queue of 2). */
static int32_t ghost_active, ghost_workers;
static void ghost_main(void *arg)
{
    bool seed = *(bool *)arg;
    worker_pool_options_t o = quiet_pool(seed);
    o.queue_size = 2;
    ctx_t *ctx = ctx_with_timeout(ctx_background(), SIM_SEC);
    worker_pool_t *p = worker_pool_create(ctx, &o);
    for (int i = 0; i < 2; i++)
        worker_pool_submit(p, ctx_background(), (worker_pool_job_t){i, 100 * SIM_MS});
    go_sleep(50 * SIM_MS);
    for (int i = 2; i < 7; i++)
        worker_pool_submit(p, ctx_background(), (worker_pool_job_t){i, 100 * SIM_MS});
    go_sleep(2 * SIM_SEC);
    ghost_active = worker_pool_active_workers(p);
    ghost_workers = worker_pool_worker_count(p);
}

START_TEST(pool_seed_leaves_ghost_active_workers)
{
    bool seed = true;
    ck_assert_int_eq(run_main(ghost_main, &seed), SCHED_DONE);
    ck_assert_int_eq(ghost_workers, 0);
    ck_assert_int_eq(ghost_active, 5); /* 7 results, 2 fit: 5 wait, then leave counted */
    seed = false;
    ck_assert_int_eq(run_main(ghost_main, &seed), SCHED_DONE);
    ck_assert_int_eq(ghost_workers, 0);
    ck_assert_int_eq(ghost_active, 0);
}
END_TEST

static const go_error_t *late_err;
static void late_submit_main(void *arg)
{
    bool seed = *(bool *)arg;
    worker_pool_options_t o = quiet_pool(seed);
    worker_pool_t *p = worker_pool_create(ctx_background(), &o);
    go_spawn(drain_results, p, "results");
    worker_pool_submit(p, ctx_background(), (worker_pool_job_t){1, 10 * SIM_MS});
    worker_pool_shutdown(p);
    late_err = worker_pool_submit(p, ctx_background(), (worker_pool_job_t){2, 10 * SIM_MS});
}

START_TEST(pool_submit_after_shutdown)
{
    bool seed = true;
    ck_assert_panics(late_submit_main, &seed, "send on closed channel");
    seed = false;
    ck_assert_int_eq(run_main(late_submit_main, &seed), SCHED_DONE);
    ck_assert_ptr_eq(late_err, &WORKER_POOL_ERR_SHUT_DOWN);
}
END_TEST

/* 10% failures, statistically: 2000 jobs; mean 200, sd 13.4; the bounds
 * (150, 250) are beyond 3.7 sd, and a pool failing 5% or 15% of its jobs
 * falls outside them. The average latency equals the job duration. */
static worker_pool_metrics_t stat_m;
static void stat_main(void *arg)
{
    (void)arg;
    worker_pool_options_t o = worker_pool_options_default();
    o.queue_size = 2000;
    worker_pool_t *p = worker_pool_create(ctx_background(), &o);
    go_spawn(drain_results, p, "results");
    for (int i = 0; i < 2000; i++)
        ck_assert_ptr_null(worker_pool_submit(p, ctx_background(), (worker_pool_job_t){i, 7 * SIM_MS}));
    worker_pool_shutdown(p);
    stat_m = worker_pool_get_metrics(p);
}

START_TEST(pool_fails_ten_percent_of_jobs)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sched_config_t cfg = sched_config_default();
        cfg.seed = seed;
        sched_result_t r;
        sched_t *s = run_with(&cfg, stat_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        ck_assert_int_eq(stat_m.completed_jobs, 2000);
        ck_assert_int_gt(stat_m.failed_jobs, 150);
        ck_assert_int_lt(stat_m.failed_jobs, 250);
        ck_assert_int_eq(stat_m.total_latency, 7 * SIM_MS);
        sched_destroy(s);
    }
}
END_TEST

/* ======================================================================== */
/* Graceful shutdown                                                        */
/* ======================================================================== */

/* The scenario's demo in C: a request every 200ms, a handler that reads
 * for 100ms then submits its job, SIGTERM at a chosen time. */
typedef struct gs_demo {
    bool seed;
    simtime_t sigterm, job_time;
    shutdown_t *gs;
    shutdown_server_t *srv;
    shutdown_worker_pool_t *wp;
    int status[20];          /* per request: 0 refused, -1 no answer */
    shutdown_report_t rep;
    char func_names[SHUTDOWN_MAX_FUNCS][32]; /* rep's names die with the scheduler */
    shutdown_server_stats_t st;
    shutdown_worker_pool_job_t jobs[20];
    size_t njobs;
} gs_demo_t;
static gs_demo_t demo;

static int gs_demo_handler(void *ud, void *call_ud, shutdown_server_t *s, const char *request, char *body, size_t size)
{
    (void)ud;
    (void)call_ud;
    (void)s;
    go_sleep(100 * SIM_MS);
    const go_error_t *err = shutdown_worker_pool_submit_job(demo.wp, request);
    snprintf(body, size, "%s", err ? go_error_msg(err) : "accepted");
    return err ? 503 : 202;
}

static void gs_demo_client(void *arg)
{
    int i = (int)(intptr_t)arg;
    char req[32], body[128];
    snprintf(req, sizeof req, "Job %d", i);
    demo.status[i] = shutdown_server_request(demo.srv, req, body, sizeof body, NULL);
}

static void gs_demo_clients(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        go_spawn(gs_demo_client, (void *)(intptr_t)i, "client");
        go_sleep(200 * SIM_MS);
    }
}

static void gs_demo_killer(void *arg)
{
    (void)arg;
    go_sleep_until(demo.sigterm);
    ck_assert(shutdown_signal(demo.gs, "SIGTERM"));
}

static void gs_demo_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++)
        demo.status[i] = -1;
    shutdown_options_t go = {0};
    go.seed_variant = demo.seed;
    demo.gs = shutdown_create(5 * SIM_SEC, &go);
    ck_assert(!shutdown_signal(demo.gs, "SIGTERM")); /* nobody listens before Start */
    shutdown_start(demo.gs);
    shutdown_server_options_t so = {0};
    so.handler = gs_demo_handler;
    so.drain = demo.seed ? 0 : 500 * SIM_MS;
    so.seed_variant = demo.seed;
    demo.srv = shutdown_server_create(":8080", demo.gs, &so);
    shutdown_server_start(demo.srv);
    shutdown_worker_pool_options_t wo = {0};
    wo.job_time = demo.job_time;
    wo.after = "http-server";
    wo.seed_variant = demo.seed;
    demo.wp = shutdown_worker_pool_create(3, 10, demo.gs, &wo);
    go_spawn(gs_demo_clients, NULL, "clients");
    go_spawn(gs_demo_killer, NULL, "kill");
    shutdown_wait(demo.gs);
    shutdown_get_report(demo.gs, &demo.rep);
    for (int i = 0; i < demo.rep.nfuncs; i++)
        snprintf(demo.func_names[i], sizeof demo.func_names[i], "%s", demo.rep.funcs[i].name);
    shutdown_server_get_stats(demo.srv, &demo.st);
    const shutdown_worker_pool_job_t *j = shutdown_worker_pool_jobs(demo.wp, &demo.njobs);
    ck_assert_uint_le(demo.njobs, 20);
    if (demo.njobs)
        memcpy(demo.jobs, j, demo.njobs * sizeof *j);
    sched_exit(sched_current()); /* main returns: the process ends */
    sched_park(WAIT_EXTERNAL, 0);
}

static void run_demo(bool seed, simtime_t sigterm, simtime_t job_time)
{
    memset(&demo, 0, sizeof demo);
    demo.seed = seed;
    demo.sigterm = sigterm;
    demo.job_time = job_time;
    ck_assert_int_eq(run_main(gs_demo_main, NULL), SCHED_EXITED);
}

/* Every job answered 202 finished before the program ended. */
static int accepted_lost(void)
{
    int lost = 0;
    for (size_t i = 0; i < demo.njobs; i++)
        if (!demo.jobs[i].refused && demo.jobs[i].finished < 0)
            lost++;
    return lost;
}

static const shutdown_func_report_t *func_report(const char *name)
{
    for (int i = 0; i < demo.rep.nfuncs; i++)
        if (strcmp(demo.func_names[i], name) == 0)
            return &demo.rep.funcs[i];
    ck_abort_msg("no shutdown func %s", name);
    return NULL;
}

START_TEST(shutdown_loses_nothing_accepted)
{
    /* SIGTERM at many instants, both variants: never a lost job */
    for (int v = 0; v < 2; v++) {
        for (simtime_t t = 50 * SIM_MS; t < 4500 * SIM_MS; t += 130 * SIM_MS) {
            run_demo(v == 1, t, 100 * SIM_MS);
            ck_assert(!demo.rep.timed_out);
            ck_assert_int_eq(accepted_lost(), 0);
            ck_assert_int_eq(demo.rep.signal_at, t);
            for (int i = 0; i < 20; i++)
                if (demo.status[i] == 202)
                    ck_assert_ptr_null(demo.jobs[i].refused);
        }
    }
}
END_TEST

START_TEST(shutdown_in_flight_request_keeps_its_job_when_corrected)
{
    run_demo(false, 2050 * SIM_MS, 100 * SIM_MS);
    ck_assert_int_eq(demo.status[10], 202); /* in flight at SIGTERM */
    ck_assert_int_eq(demo.status[11], 503); /* the drain answers 503 */
    ck_assert_int_eq(demo.status[12], 503);
    ck_assert_int_eq(demo.st.listener_closed_at, 2550 * SIM_MS);
    /* the pool closed only after the server finished */
    ck_assert_int_ge(func_report("worker-pool")->started, func_report("http-server")->finished);
    ck_assert_int_eq(demo.rep.finished, 2550 * SIM_MS);

    run_demo(true, 2050 * SIM_MS, 100 * SIM_MS);
    ck_assert_int_eq(demo.status[10], 503); /* read, then refused: the seed's ordering */
    ck_assert_str_eq(go_error_msg(demo.jobs[10].refused), "worker pool is shutting down");
    ck_assert_int_eq(demo.status[11], -1); /* the program ended at 2.113s */
    ck_assert_int_eq(demo.st.by_status_503, 1); /* only Job 10's: the handler's 503 branch never ran */
    ck_assert_int_eq(demo.st.listener_closed_at, 2050 * SIM_MS);
    ck_assert_int_eq(func_report("worker-pool")->started, 2050 * SIM_MS);
    /* net/http polls in-flight requests at 1, 2, 4, ... ms: 2.05 + 63ms */
    ck_assert_int_eq(func_report("http-server")->finished, 2113 * SIM_MS);
}
END_TEST

START_TEST(shutdown_timeout_strikes_and_loses_accepted_work)
{
    for (int v = 0; v < 2; v++) {
        run_demo(v == 1, 3050 * SIM_MS, 2 * SIM_SEC);
        ck_assert(demo.rep.timed_out);
        ck_assert_int_eq(demo.rep.started, 3050 * SIM_MS);
        ck_assert_int_eq(demo.rep.finished, 8050 * SIM_MS);
        ck_assert_ptr_eq(func_report("worker-pool")->err, &GO_ERR_DEADLINE_EXCEEDED);
        ck_assert_int_eq(accepted_lost(), v == 1 ? 6 : 7);
    }
}
END_TEST

static int programmatic_funcs_run;
static const go_error_t *count_func(ctx_t *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    programmatic_funcs_run++;
    return NULL;
}
static void shutdown_once_main(void *arg)
{
    (void)arg;
    shutdown_t *gs = shutdown_create(SIM_SEC, NULL);
    shutdown_start(gs);
    shutdown_add_shutdown_func(gs, "a", count_func, NULL, NULL, 0);
    shutdown_add_shutdown_func(gs, "b", count_func, NULL, NULL, 0);
    ck_assert(!shutdown_is_shutting_down(gs));
    shutdown_shutdown(gs);
    ck_assert(shutdown_is_shutting_down(gs));
    shutdown_shutdown(gs); /* only the first call acts */
    shutdown_wait(gs);
    shutdown_signal(gs, "SIGTERM"); /* the listener has gone: nothing happens */
    go_sleep(SIM_MS);
    shutdown_report_t r;
    shutdown_get_report(gs, &r);
    ck_assert_ptr_null(r.signal);
    ck_assert(!r.timed_out);
    ck_assert_int_eq(r.started, 0);
    ck_assert_int_eq(r.finished, 0);
}

START_TEST(shutdown_runs_once)
{
    programmatic_funcs_run = 0;
    ck_assert_int_eq(run_main(shutdown_once_main, NULL), SCHED_DONE);
    ck_assert_int_eq(programmatic_funcs_run, 2);
}
END_TEST

/* ======================================================================== */
/* Goroutine leak detection                                                 */
/* ======================================================================== */

typedef struct leak_run {
    bool seed;
    int alert_threshold;     /* 0: keep the seed's 1000 */
    bool callback_get_stats; /* the callback calls GetStats */
    leak_detector_t *ld;
    leak_detector_alert_t alerts[16];
    size_t nalerts;
    int baseline;
    bool finished;
    leak_detector_goroutine_group_t leaked_group; /* the simulateLeakingGoroutines group, name cleared */
    bool leaked_group_found;
} leak_run_t;
static leak_run_t lr;

static void leak_cb(void *ud, int count, const int *samples, int nsamples)
{
    (void)ud;
    (void)count;
    (void)samples;
    (void)nsamples;
    if (lr.callback_get_stats) {
        static leak_detector_stats_t st;
        leak_detector_get_stats(lr.ld, &st);
    }
}

/* The seed's main(), with 1ms after Start so that no step of the demo
 * lands on a sampling instant. */
static void leak_demo_main(void *arg)
{
    (void)arg;
    leak_detector_options_t o = {0};
    o.seed_variant = lr.seed;
    lr.ld = leak_detector_create(500 * SIM_MS, 0.05, 10, &o);
    if (lr.alert_threshold)
        leak_detector_set_alert_threshold(lr.ld, lr.alert_threshold);
    leak_detector_set_on_leak_detected(lr.ld, leak_cb, NULL);
    leak_detector_start(lr.ld);
    go_sleep(SIM_MS);
    static leak_detector_stats_t st;
    leak_detector_get_stats(lr.ld, &st);
    lr.baseline = st.baseline_count;
    leak_detector_simulate_temporary_goroutines(100, 2 * SIM_SEC);
    go_sleep(3 * SIM_SEC);
    leak_detector_simulate_leaking_goroutines(50);
    go_sleep(2 * SIM_SEC);
    leak_detector_simulate_leaking_goroutines(100);
    go_sleep(5 * SIM_SEC);
    leak_detector_get_stats(lr.ld, &st);
    ck_assert_int_eq(st.current_count, lr.baseline + 1 + 150); /* + the sampler */
    const leak_detector_alert_t *a = leak_detector_alerts(lr.ld, &lr.nalerts);
    ck_assert_uint_le(lr.nalerts, 16);
    if (lr.nalerts)
        memcpy(lr.alerts, a, lr.nalerts * sizeof *a);
    leak_detector_goroutine_group_t groups[16];
    size_t ng = leak_detector_goroutine_profile(sched_current(), groups, 16);
    for (size_t i = 0; i < ng && i < 16; i++) {
        if (strcmp(groups[i].name, "main.simulateLeakingGoroutines.func1") == 0) {
            lr.leaked_group = groups[i];
            lr.leaked_group.name = NULL; /* interned: dies with the scheduler */
            lr.leaked_group_found = true;
        }
    }
    leak_detector_stop(lr.ld);
    lr.finished = true;
}

static void run_leak(bool seed, int alert_threshold)
{
    memset(&lr, 0, sizeof lr);
    lr.seed = seed;
    lr.alert_threshold = alert_threshold;
    sched_config_t cfg = sched_config_default();
    cfg.until = 30 * SIM_SEC;
    sched_result_t r;
    sched_t *s = run_with(&cfg, leak_demo_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert(lr.finished);
    sched_destroy(s);
}

START_TEST(leak_seed_demo_never_fires_at_1000)
{
    run_leak(true, 0);
    ck_assert_uint_eq(lr.nalerts, 0);
    run_leak(false, 0);
    ck_assert_uint_eq(lr.nalerts, 0);
}
END_TEST

START_TEST(leak_seed_logic_fires_on_the_spike_and_on_the_jumps)
{
    run_leak(true, 40);
    ck_assert_uint_eq(lr.nalerts, 3);
    ck_assert_int_eq(lr.alerts[0].t, 600 * SIM_MS); /* the 100 temporary ones */
    ck_assert_int_eq(lr.alerts[0].count, lr.baseline + 1 + 100); /* + the sampler */
    ck_assert_int_eq(lr.alerts[1].t, 3600 * SIM_MS);
    ck_assert_int_eq(lr.alerts[2].t, 5600 * SIM_MS);
    ck_assert_int_eq(lr.alerts[2].count, lr.baseline + 1 + 150);
}
END_TEST

START_TEST(leak_corrected_fires_on_what_persists)
{
    run_leak(false, 40);
    ck_assert_uint_eq(lr.nalerts, 2);
    /* samples 3.6s..8.1s all hold the first 50 */
    ck_assert_int_eq(lr.alerts[0].t, 8100 * SIM_MS);
    ck_assert_int_eq(lr.alerts[0].window_min, lr.baseline + 1 + 50);
    ck_assert_int_eq(lr.alerts[1].t, 10100 * SIM_MS);
    ck_assert_int_eq(lr.alerts[1].window_min, lr.baseline + 1 + 150);
    /* the profile groups the 150 leaked goroutines, blocked in select {} */
    ck_assert(lr.leaked_group_found);
    ck_assert_int_eq(lr.leaked_group.count, 150);
    ck_assert_int_eq(lr.leaked_group.reason, WAIT_SELECT_NO_CASES);
    ck_assert_int_eq(lr.leaked_group.oldest_blocked_since, 3101 * SIM_MS);
}
END_TEST

/* The seed calls onLeak under ld.mu: a callback that calls GetStats waits
 * for ever, and so does anybody who calls GetStats after it. */
START_TEST(leak_seed_callback_under_lock_blocks_for_ever)
{
    memset(&lr, 0, sizeof lr);
    lr.seed = true;
    lr.alert_threshold = 40;
    lr.callback_get_stats = true;
    sched_config_t cfg = sched_config_default();
    cfg.until = 30 * SIM_SEC;
    sched_result_t r;
    sched_t *s = run_with(&cfg, leak_demo_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_UNTIL); /* the ticker keeps time moving */
    ck_assert(!lr.finished);          /* main waits on ld.mu in GetStats */
    char buf[4096];
    sched_dump(s, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "[sync.Mutex.Lock]") != NULL, "%s", buf);
    sched_destroy(s);

    memset(&lr, 0, sizeof lr);
    lr.seed = false;
    lr.alert_threshold = 40;
    lr.callback_get_stats = true;
    s = run_with(&cfg, leak_demo_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert(lr.finished);
    sched_destroy(s);
}
END_TEST

/* ======================================================================== */

static Suite *resilience_suite(void)
{
    Suite *s = suite_create("patterns_resilience");
    TCase *br = tcase_create("breaker");
    tcase_add_test(br, breaker_h93_sequence_corrected);
    tcase_add_test(br, breaker_seed_half_opens_lazily_and_strictly);
    tcase_add_test(br, breaker_half_open_admits_success_threshold_probes);
    tcase_add_test(br, breaker_seed_half_open_lets_every_probe_through);
    tcase_add_test(br, breaker_ignores_results_of_an_earlier_state);
    tcase_add_test(br, breaker_seed_callback_under_lock_deadlocks);
    tcase_add_test(br, breaker_seed_demo_accounts_for_every_request);
    suite_add_tcase(s, br);
    TCase *pool = tcase_create("worker_pool");
    tcase_add_test(pool, pool_scaling_decisions_at_exact_times);
    tcase_add_test(pool, pool_rejects_when_the_queue_is_full);
    tcase_add_test(pool, pool_seed_scale_down_signals_are_lost_on_busy_workers);
    tcase_add_test(pool, pool_seed_leaves_ghost_active_workers);
    tcase_add_test(pool, pool_submit_after_shutdown);
    tcase_add_test(pool, pool_fails_ten_percent_of_jobs);
    suite_add_tcase(s, pool);
    TCase *sd = tcase_create("graceful_shutdown");
    tcase_add_test(sd, shutdown_loses_nothing_accepted);
    tcase_add_test(sd, shutdown_in_flight_request_keeps_its_job_when_corrected);
    tcase_add_test(sd, shutdown_timeout_strikes_and_loses_accepted_work);
    tcase_add_test(sd, shutdown_runs_once);
    suite_add_tcase(s, sd);
    TCase *lk = tcase_create("leak_detector");
    tcase_add_test(lk, leak_seed_demo_never_fires_at_1000);
    tcase_add_test(lk, leak_seed_logic_fires_on_the_spike_and_on_the_jumps);
    tcase_add_test(lk, leak_corrected_fires_on_what_persists);
    tcase_add_test(lk, leak_seed_callback_under_lock_blocks_for_ever);
    suite_add_tcase(s, lk);
    return s;
}

int main(void)
{
    return run_suite(resilience_suite());
}
