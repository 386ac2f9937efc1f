/*
 * patterns_flow: the seed's flow patterns (sim/fanout.c, priority_mux.c,
 * first_response.c, pipeline.c, bounded.c) on the simulated clock.
 *
 * Exact where the seed makes the outcome exact: 17 succeeded and 3 failed
 * with IDs 0, 7 and 14; a cancellation that leaves no goroutine; item 5
 * failing validation and item 7 becoming 84; one worker keeping the
 * pipeline's order; the seed's first_response returning an error although
 * another operation succeeds, at the exact time; a rejection at exactly
 * the acquisition timeout. Statistical where the patterns draw random
 * numbers, with bounds a wrong implementation fails: the success rates of
 * both first_response variants, the events the seed's multiplexer loses
 * under every seed, the pipeline's reordering across seeds, the 10%
 * failures of simulateOperation.
 */
#include "bounded.h"
#include "ctx.h"
#include "fanout.h"
#include "first_response.h"
#include "pipeline.h"
#include "priority_mux.h"
#include "testutil.h"

/* Run fn as main with a seed and a policy; returns the result. */
static sched_result_t run_seeded(void (*fn)(void *), void *arg, uint64_t seed, sched_policy_t policy)
{
    sched_config_t c = sched_config_default();
    c.seed = seed;
    c.policy = policy;
    sched_result_t r;
    sched_t *s = run_with(&c, fn, arg, &r);
    sched_destroy(s);
    return r;
}

/* ======================================================================== */
/* Fan-out/fan-in                                                           */
/* ======================================================================== */

typedef struct fo_case fo_case_t;
struct fo_case {
    fanout_config_t cfg;     /* pattern settings */
    int workers;
    simtime_t cancel_at;     /* 0: none */
    simtime_t timeout;       /* the context's */
    /* results */
    fanout_task_t out[20];
    int64_t got;
    fanout_stats_t st;
    uint64_t alive_after;    /* goroutines alive 1ms after the call */
    void (*check)(fo_case_t *fc); /* run at the end of main, while errors live */
};

static void canceller(void *arg)
{
    ctx_t *c = arg;
    go_sleep_until(250 * SIM_MS);
    ctx_cancel(c);
}

static void fo_main(void *arg)
{
    fo_case_t *fc = arg;
    fanout_task_t tasks[20];
    fanout_make_tasks(tasks, 20);
    ctx_t *ctx = ctx_with_timeout(ctx_background(), fc->timeout);
    if (fc->cancel_at)
        go_spawn(canceller, ctx, "canceller");
    fc->got = fanout_distribute_and_process(ctx, tasks, 20, fc->workers, &fc->cfg, fc->out, &fc->st);
    ctx_cancel(ctx);
    go_sleep(SIM_MS);
    fc->alive_after = sched_goroutines_alive(sched_current());
    if (fc->check)
        fc->check(fc);
}

static void fo_check_seed_demo(fo_case_t *fc)
{
    ck_assert_int_eq(fc->got, 20);
    ck_assert_int_eq(fc->st.succeeded, 17);
    ck_assert_int_eq(fc->st.failed, 3);
    ck_assert_int_eq(fc->st.canceled, 0);
    ck_assert_int_eq(fc->st.missing, 0);
    bool seen[20] = {false};
    for (int i = 0; i < 20; i++) {
        const fanout_task_t *t = &fc->out[i];
        ck_assert_int_ge(t->id, 0);
        ck_assert_int_lt(t->id, 20);
        ck_assert(!seen[t->id]);
        seen[t->id] = true;
        ck_assert_int_ge(t->worker, 0);
        ck_assert_int_lt(t->worker, 5);
        ck_assert_int_eq(t->done_at, 0); /* the seed's worker takes no time */
        if (t->id % 7 == 0) {
            char want[64];
            snprintf(want, sizeof want, "processing error on task %lld", (long long)t->id);
            ck_assert_str_eq(go_error_msg(t->err), want);
            ck_assert_str_eq(t->result, "");
        } else {
            char want[128];
            snprintf(want, sizeof want, "Worker %lld processed: Task %lld input", (long long)t->worker,
                     (long long)t->id);
            ck_assert_ptr_null(t->err);
            ck_assert_str_eq(t->result, want);
        }
    }
    ck_assert_int_eq(fc->alive_after, 1);
}

START_TEST(fanout_seed_demo_17_succeeded_3_failed)
{
    static fo_case_t fc;
    memset(&fc, 0, sizeof fc);
    fc.cfg = fanout_config_default();
    fc.workers = 5;
    fc.timeout = 5 * SIM_SEC;
    fc.check = fo_check_seed_demo;
    ck_assert_int_eq(run_main(fo_main, &fc), SCHED_DONE);
    ck_assert_int_eq(fc.st.succeeded, 17);
}
END_TEST

START_TEST(fanout_through_fan_in_same_outcome)
{
    static fo_case_t fc;
    memset(&fc, 0, sizeof fc);
    fc.cfg = fanout_config_default();
    fc.cfg.use_fan_in = true;
    fc.workers = 5;
    fc.timeout = 5 * SIM_SEC;
    fc.check = fo_check_seed_demo;
    ck_assert_int_eq(run_main(fo_main, &fc), SCHED_DONE);
    ck_assert_int_eq(fc.st.succeeded, 17);
}
END_TEST

/* 100ms of processTask per task, cancelled at 250ms: tasks 0-9 are done at
 * 100ms and 200ms, the rest cancelled or never handed out, under every
 * seed and policy, and no goroutine is left. */
START_TEST(fanout_cancellation_leaves_nothing_behind)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        for (int p = 0; p < 2; p++) {
            static fo_case_t fc;
            memset(&fc, 0, sizeof fc);
            fc.cfg = fanout_config_default();
            fc.cfg.process_min = fc.cfg.process_max = 100 * SIM_MS;
            fc.cfg.use_fan_in = seed % 2 == 0;
            fc.workers = 5;
            fc.timeout = 5 * SIM_SEC;
            fc.cancel_at = 250 * SIM_MS;
            ck_assert_int_eq(run_seeded(fo_main, &fc, seed, p ? SCHED_RANDOM : SCHED_FIFO), SCHED_DONE);
            ck_assert_int_eq(fc.st.succeeded, 8);
            ck_assert_int_eq(fc.st.failed, 2); /* tasks 0 and 7 */
            ck_assert_int_le(fc.st.canceled, 5);
            ck_assert_int_eq(fc.st.canceled + fc.st.missing, 10);
            ck_assert_int_eq(fc.st.elapsed, 250 * SIM_MS);
            for (int64_t i = 0; i < fc.got; i++) {
                const fanout_task_t *t = &fc.out[i];
                if (t->err == &GO_ERR_CANCELED)
                    ck_assert_int_eq(t->done_at, 250 * SIM_MS);
                else
                    ck_assert_int_le(t->id, 9);
            }
            ck_assert_int_eq(fc.alive_after, 1);
        }
    }
}
END_TEST

/* The context's own deadline does the same. */
START_TEST(fanout_deadline_cuts_the_batch)
{
    static fo_case_t fc;
    memset(&fc, 0, sizeof fc);
    fc.cfg = fanout_config_default();
    fc.cfg.fail_every = 0;
    fc.cfg.process_min = fc.cfg.process_max = 100 * SIM_MS;
    fc.workers = 2;
    fc.timeout = 350 * SIM_MS;
    ck_assert_int_eq(run_main(fo_main, &fc), SCHED_DONE);
    ck_assert_int_eq(fc.st.succeeded, 6); /* 2 workers x 3 rounds of 100ms */
    ck_assert_int_eq(fc.st.failed, 0);
    ck_assert_int_eq(fc.st.canceled + fc.st.missing, 14);
    for (int64_t i = 0; i < fc.got; i++)
        if (fc.out[i].err)
            ck_assert_ptr_eq(fc.out[i].err, &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_int_eq(fc.alive_after, 1);
}
END_TEST

/* ======================================================================== */
/* Priority multiplexing                                                    */
/* ======================================================================== */

static const priority_mux_source_t seed_sources[] = {
    {.name = "critical", .interval = 500 * SIM_MS, .priority = 10},
    {.name = "user", .interval = 200 * SIM_MS, .priority = 5},
    {.name = "metrics", .interval = 100 * SIM_MS, .priority = 1},
};

typedef struct pm_case {
    priority_mux_variant_t variant;
    priority_mux_source_t st[3];     /* the sources' final counts */
    int64_t received;
    uint64_t alive_after;
} pm_case_t;

static void pm_main(void *arg)
{
    pm_case_t *pc = arg;
    priority_mux_config_t cfg = priority_mux_config_default();
    cfg.variant = pc->variant;
    cfg.print_forwarded = cfg.print_dropped = false;
    ctx_t *ctx = ctx_with_timeout(ctx_background(), 5 * SIM_SEC);
    priority_mux_t *pm = priority_mux_start(ctx, seed_sources, 3, &cfg);
    priority_mux_event_t ev;
    while (chan_recv(priority_mux_chan(pm), &ev)) /* for event := range multiplexed */
        pc->received++;
    for (int i = 0; i < 3; i++)
        pc->st[i] = *priority_mux_source(pm, i);
    go_sleep(100 * SIM_MS);
    pc->alive_after = sched_goroutines_alive(sched_current());
}

static void pm_check_accounting(const pm_case_t *pc)
{
    int64_t fwd = 0;
    for (int i = 0; i < 3; i++) {
        const priority_mux_source_t *s = &pc->st[i];
        ck_assert_int_eq(s->generated, s->forwarded + s->dropped + s->lost + s->canceled);
        fwd += s->forwarded;
    }
    ck_assert_int_eq(fwd, pc->received);
    ck_assert_int_eq(pc->alive_after, 1);
}

/* The seed's demo, corrected: 9, 24 and 49 events (the 5s ticks lose to
 * the deadline armed before them), every one forwarded at once. */
START_TEST(pmux_corrected_forwards_every_event)
{
    static pm_case_t pc;
    memset(&pc, 0, sizeof pc);
    pc.variant = PMUX_CORRECTED;
    ck_assert_int_eq(run_main(pm_main, &pc), SCHED_DONE);
    ck_assert_int_eq(pc.st[0].generated, 9);
    ck_assert_int_eq(pc.st[1].generated, 24);
    ck_assert_int_eq(pc.st[2].generated, 49);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pc.st[i].forwarded, pc.st[i].generated);
        ck_assert_int_eq(pc.st[i].lost, 0);
        ck_assert_int_eq(pc.st[i].dropped, 0);
        ck_assert_int_eq(pc.st[i].latency_max, 0); /* the consumer is always ready */
    }
    pm_check_accounting(&pc);
}
END_TEST

/* The seed's bug under every seed and both policies: the low priorities
 * lose the events of coinciding ticks, the highest never loses; the
 * corrected variant loses nothing. */
START_TEST(pmux_seed_loses_events_every_seed)
{
    int64_t seed_lost_metrics = 0, seed_lost_user = 0, runs = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        for (int p = 0; p < 2; p++) {
            static pm_case_t s, c;
            memset(&s, 0, sizeof s);
            memset(&c, 0, sizeof c);
            s.variant = PMUX_SEED;
            c.variant = PMUX_CORRECTED;
            sched_policy_t pol = p ? SCHED_RANDOM : SCHED_FIFO;
            ck_assert_int_eq(run_seeded(pm_main, &s, seed, pol), SCHED_DONE);
            ck_assert_int_eq(run_seeded(pm_main, &c, seed, pol), SCHED_DONE);
            pm_check_accounting(&s);
            pm_check_accounting(&c);
            ck_assert_int_eq(s.st[0].lost, 0);
            ck_assert_int_ge(s.st[2].lost, 15); /* metrics: most ticks coincide with another */
            ck_assert_int_ge(s.st[1].lost, 2);  /* user: at the whole seconds */
            for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(c.st[i].lost, 0);
                ck_assert_int_eq(c.st[i].dropped, 0);
            }
            ck_assert_int_lt(s.received, c.received);
            seed_lost_metrics += s.st[2].lost;
            seed_lost_user += s.st[1].lost;
            runs++;
        }
    }
    /* About half of metrics' 49 events and 4 of user's 24. */
    ck_assert_int_ge(seed_lost_metrics, 20 * runs);
    ck_assert_int_le(seed_lost_metrics, 32 * runs);
    ck_assert_int_ge(seed_lost_user, 3 * runs);
    ck_assert_int_le(seed_lost_user, 6 * runs);
}
END_TEST

/* The corrected multiplexer takes the highest priority ready: with "low"
 * #1 held by the multiplexer and "low" #2 and "high" both waiting, the
 * consumer gets low, high, low. */
typedef struct prio_case {
    priority_mux_t *pm;
    char order[8][16];
    simtime_t at[8];
    int n;
    bool emitted[3];
} prio_case_t;

static prio_case_t prio_case;

static void emit_low(void *arg)
{
    (void)arg;
    prio_case.emitted[0] = priority_mux_emit(prio_case.pm, 0, NULL);
}

static void emit_later(void *arg)
{
    int which = (int)(intptr_t)arg; /* 1: low #2, 2: high */
    go_sleep(SIM_MS);
    prio_case.emitted[which] = priority_mux_emit(prio_case.pm, which == 1 ? 0 : 1, NULL);
}

static void prio_main(void *arg)
{
    priority_mux_variant_t variant = (priority_mux_variant_t)(intptr_t)arg;
    static const priority_mux_source_t srcs[] = {
        {.name = "low", .interval = 0, .priority = 1},
        {.name = "high", .interval = 0, .priority = 10},
    };
    priority_mux_config_t cfg = priority_mux_config_default();
    cfg.variant = variant;
    cfg.print_forwarded = cfg.print_dropped = false;
    ctx_t *ctx = ctx_with_timeout(ctx_background(), SIM_SEC);
    prio_case.pm = priority_mux_start(ctx, srcs, 2, &cfg);
    go_spawn(emit_low, NULL, "low-1");
    go_spawn(emit_later, (void *)(intptr_t)1, "low-2");
    go_spawn(emit_later, (void *)(intptr_t)2, "high");
    go_sleep(10 * SIM_MS);
    priority_mux_event_t ev;
    while (prio_case.n < 3 && chan_recv(priority_mux_chan(prio_case.pm), &ev)) {
        snprintf(prio_case.order[prio_case.n], sizeof prio_case.order[0], "%s", ev.source);
        prio_case.at[prio_case.n++] = sched_now();
    }
    ctx_cancel(ctx);
    while (chan_recv(priority_mux_chan(prio_case.pm), &ev))
        ;
}

START_TEST(pmux_corrected_takes_highest_priority_first)
{
    memset(&prio_case, 0, sizeof prio_case);
    ck_assert_int_eq(run_main(prio_main, (void *)(intptr_t)PMUX_CORRECTED), SCHED_DONE);
    ck_assert_int_eq(prio_case.n, 3);
    ck_assert_str_eq(prio_case.order[0], "low");
    ck_assert_str_eq(prio_case.order[1], "high");
    ck_assert_str_eq(prio_case.order[2], "low");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(prio_case.at[i], 10 * SIM_MS);
        ck_assert(prio_case.emitted[i]);
    }
}
END_TEST

/* An event nobody takes is dropped after exactly the send timeout. */
static simtime_t drop_at;
static bool drop_sent;
static void drop_main(void *arg)
{
    (void)arg;
    static const priority_mux_source_t srcs[] = {{.name = "ext", .interval = 0, .priority = 1}};
    priority_mux_config_t cfg = priority_mux_config_default();
    cfg.print_forwarded = cfg.print_dropped = false;
    ctx_t *ctx = ctx_with_timeout(ctx_background(), SIM_SEC);
    priority_mux_t *pm = priority_mux_start(ctx, srcs, 1, &cfg);
    /* The multiplexer takes the first event and waits for a consumer: the
     * second cannot be handed over. */
    ck_assert(priority_mux_emit(pm, 0, NULL));
    drop_sent = priority_mux_emit(pm, 0, NULL);
    drop_at = sched_now();
    ck_assert_int_eq(priority_mux_source(pm, 0)->dropped, 1);
    ctx_cancel(ctx);
    priority_mux_event_t ev;
    while (chan_recv(priority_mux_chan(pm), &ev))
        ;
    ck_assert_int_eq(priority_mux_source(pm, 0)->canceled, 1); /* the one the multiplexer held */
    ck_assert(!priority_mux_emit(pm, 0, NULL));              /* after the end: refused */
}

START_TEST(pmux_drops_after_the_send_timeout)
{
    ck_assert_int_eq(run_main(drop_main, NULL), SCHED_DONE);
    ck_assert(!drop_sent);
    ck_assert_int_eq(drop_at, 50 * SIM_MS);
}
END_TEST

/* ======================================================================== */
/* Timed first response                                                     */
/* ======================================================================== */

typedef struct fr_case {
    first_response_variant_t variant;
    simtime_t timeout;
    struct { const char *name; simtime_t lo, hi; int fail; } ops[3];
    int nops;
    int calls;
    /* results */
    first_response_result_t last;             /* last.from and last.err die with the scheduler: */
    char last_from[48];        /* copies */
    char last_err[256];
    simtime_t last_latency;
    first_response_client_t client;
    uint64_t alive_after;
} fr_case_t;

static void fr_main(void *arg)
{
    fr_case_t *fc = arg;
    first_response_operation_t ops[3];
    first_response_operation_t *ptrs[3];
    for (int i = 0; i < fc->nops; i++) {
        first_response_operation_init(&ops[i], fc->ops[i].name, fc->ops[i].lo, fc->ops[i].hi, fc->ops[i].fail);
        ptrs[i] = &ops[i];
    }
    first_response_client_init(&fc->client, "test");
    for (int k = 0; k < fc->calls; k++) {
        simtime_t t0 = sched_now();
        fc->last = first_response(ctx_background(), fc->timeout, ptrs, fc->nops, fc->variant, &fc->client);
        fc->last_latency = sched_now() - t0;
    }
    snprintf(fc->last_from, sizeof fc->last_from, "%s", fc->last.from ? fc->last.from : "");
    snprintf(fc->last_err, sizeof fc->last_err, "%s", fc->last.err ? go_error_msg(fc->last.err) : "");
    go_sleep(SIM_SEC); /* every operation's goroutine and timer is done */
    fc->alive_after = sched_goroutines_alive(sched_current());
}

static void fr_seed_ops(fr_case_t *fc)
{
    fc->nops = 3;
    fc->ops[0].name = "fast-service";
    fc->ops[0].lo = 50 * SIM_MS;
    fc->ops[0].hi = 150 * SIM_MS;
    fc->ops[1].name = "medium-service";
    fc->ops[1].lo = 100 * SIM_MS;
    fc->ops[1].hi = 300 * SIM_MS;
    fc->ops[2].name = "slow-service";
    fc->ops[2].lo = 200 * SIM_MS;
    fc->ops[2].hi = 500 * SIM_MS;
    for (int i = 0; i < 3; i++)
        fc->ops[i].fail = 10;
}

/* Fixed latencies: fast fails at 50ms, medium succeeds at 100ms, slow at
 * 200ms. The seed's returns fast's error at 50ms; the corrected returns
 * medium's result at 100ms. */
static void fr_fixed(fr_case_t *fc, first_response_variant_t v)
{
    memset(fc, 0, sizeof *fc);
    fc->variant = v;
    fc->timeout = 400 * SIM_MS;
    fc->calls = 1;
    fc->nops = 3;
    fc->ops[0].name = "fast-service";
    fc->ops[0].lo = fc->ops[0].hi = 50 * SIM_MS;
    fc->ops[0].fail = 100;
    fc->ops[1].name = "medium-service";
    fc->ops[1].lo = fc->ops[1].hi = 100 * SIM_MS;
    fc->ops[2].name = "slow-service";
    fc->ops[2].lo = fc->ops[2].hi = 200 * SIM_MS;
}

START_TEST(first_response_seed_returns_an_error_although_another_succeeds)
{
    static fr_case_t fc;
    fr_fixed(&fc, FR_SEED);
    ck_assert_int_eq(run_main(fr_main, &fc), SCHED_DONE);
    ck_assert_str_eq(fc.last_err, "fast-service operation failed");
    ck_assert_int_eq(fc.last_latency, 50 * SIM_MS);
    ck_assert_int_eq(fc.alive_after, 1);

    fr_fixed(&fc, FR_CORRECTED);
    ck_assert_int_eq(run_main(fr_main, &fc), SCHED_DONE);
    ck_assert_ptr_null(fc.last.err);
    ck_assert_str_eq(fc.last.value, "medium-service result");
    ck_assert_str_eq(fc.last_from, "medium-service");
    ck_assert_int_eq(fc.last_latency, 100 * SIM_MS);
    ck_assert_int_eq(fc.alive_after, 1);
}
END_TEST

/* Every operation fails: the corrected variant waits for the last and
 * joins the errors; the seed's returns the first. */
START_TEST(first_response_all_fail)
{
    static fr_case_t fc;
    for (int v = 0; v < 2; v++) {
        fr_fixed(&fc, v ? FR_SEED : FR_CORRECTED);
        for (int i = 0; i < 3; i++)
            fc.ops[i].fail = 100;
        ck_assert_int_eq(run_main(fr_main, &fc), SCHED_DONE);
        if (v) {
            ck_assert_str_eq(fc.last_err, "fast-service operation failed");
            ck_assert_int_eq(fc.last_latency, 50 * SIM_MS);
        } else {
            ck_assert_str_eq(fc.last_err, "fast-service operation failed; medium-service "
                                                        "operation failed; slow-service operation failed");
            ck_assert_int_eq(fc.last_latency, 200 * SIM_MS);
        }
        ck_assert_int_eq(fc.client.errors, 1);
    }
}
END_TEST

/* Nothing answers within the timeout: both fail at exactly the timeout. */
START_TEST(first_response_timeout)
{
    static fr_case_t fc;
    for (int v = 0; v < 2; v++) {
        fr_fixed(&fc, v ? FR_SEED : FR_CORRECTED);
        for (int i = 0; i < 3; i++) {
            fc.ops[i].lo = fc.ops[i].hi = 500 * SIM_MS;
            fc.ops[i].fail = 0;
        }
        ck_assert_int_eq(run_main(fr_main, &fc), SCHED_DONE);
        ck_assert_int_eq(fc.last_latency, 400 * SIM_MS);
        ck_assert_str_eq(fc.last_err,
                         v ? "context deadline exceeded"
                           : "context deadline exceeded; context deadline exceeded; context deadline exceeded");
        ck_assert_int_eq(fc.alive_after, 1);
    }
}
END_TEST

/* The seed's services and numbers, 2000 calls each: the seed's variant
 * fails about 10% (the fast service's own failures win the race), the
 * corrected about 0.4% (all three fail or time out). */
START_TEST(first_response_success_rates)
{
    static fr_case_t s, c;
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    fr_seed_ops(&s);
    fr_seed_ops(&c);
    s.variant = FR_SEED;
    c.variant = FR_CORRECTED;
    s.timeout = c.timeout = 400 * SIM_MS;
    s.calls = c.calls = 2000;
    ck_assert_int_eq(run_seeded(fr_main, &s, 42, SCHED_FIFO), SCHED_DONE);
    ck_assert_int_eq(run_seeded(fr_main, &c, 42, SCHED_FIFO), SCHED_DONE);
    ck_assert_int_eq(s.client.calls, 2000);
    ck_assert_int_eq(c.client.calls, 2000);
    double rs = (double)s.client.successes / 2000, rc = (double)c.client.successes / 2000;
    ck_assert_double_ge(rs, 0.86);
    ck_assert_double_le(rs, 0.935);
    ck_assert_double_ge(rc, 0.985);
    ck_assert_int_lt(s.client.successes, c.client.successes);
    /* The seed's errors come early: its mean latency is lower. */
    ck_assert_int_lt(s.client.latency_sum / 2000, c.client.latency_sum / 2000);
    ck_assert_int_le(c.client.latency_max, 400 * SIM_MS);
    ck_assert_int_eq(s.alive_after, 1);
    ck_assert_int_eq(c.alive_after, 1);
}
END_TEST

/* ======================================================================== */
/* Multi-stage pipeline                                                     */
/* ======================================================================== */

typedef struct pl_case {
    int workers;
    simtime_t timeout;
    pipeline_random_delay_t delay;
    pipeline_data_item_t out[8];
    int n;
    uint64_t alive_after;
    void (*check)(const struct pl_case *pc); /* at the end of main, while errors live */
} pl_case_t;

static void pl_main(void *arg)
{
    pl_case_t *pc = arg;
    ctx_t *ctx = ctx_with_timeout(ctx_background(), pc->timeout);
    pipeline_data_item_t data[8];
    pipeline_seed_items(data);
    pipeline_stage_t stages[4] = {
        pipeline_stage_of(pipeline_validate),
        pipeline_stage_of(pipeline_transform),
        pipeline_parallel_stage(pc->workers, pipeline_random_delay_processor, &pc->delay),
        pipeline_stage_of(pipeline_enrich),
    };
    pipeline_t *p = pipeline_create(stages, 4);
    chan_t *results = pipeline_execute(p, ctx, pipeline_source(ctx, data, 8));
    pipeline_data_item_t r;
    while (chan_recv(results, &r))
        pc->out[pc->n++] = r;
    ctx_cancel(ctx);
    go_sleep(SIM_MS);
    pc->alive_after = sched_goroutines_alive(sched_current());
    if (pc->check)
        pc->check(pc);
}

static pl_case_t *pl_seed(int workers)
{
    static pl_case_t pc;
    memset(&pc, 0, sizeof pc);
    pc.workers = workers;
    pc.timeout = 5 * SIM_SEC;
    pc.delay.max = 100 * SIM_MS;
    return &pc;
}

static const pipeline_data_item_t *find_item(const pl_case_t *pc, int64_t id)
{
    for (int i = 0; i < pc->n; i++)
        if (pc->out[i].id == id)
            return &pc->out[i];
    return NULL;
}

static void pl_check_seed_items(const pl_case_t *pc)
{
    ck_assert_int_eq(pc->n, 8);
    for (int64_t id = 1; id <= 8; id++) {
        const pipeline_data_item_t *it = find_item(pc, id);
        ck_assert_ptr_nonnull(it);
        if (id == 5) {
            ck_assert_str_eq(go_error_msg(it->error), "invalid data: nil value");
            ck_assert(!it->metadata.has_transformed_at);
            ck_assert(!it->metadata.has_worker_id);
            continue;
        }
        ck_assert_ptr_null(it->error);
        ck_assert(it->metadata.has_transformed_at);
        ck_assert(it->metadata.has_enriched);
        ck_assert(it->metadata.has_worker_id);
        ck_assert_int_ge(it->metadata.worker_id, 0);
        ck_assert_int_lt(it->metadata.worker_id, 3);
        ck_assert_int_ge(it->metadata.enriched_at, it->metadata.transformed_at);
        if (id == 7) {
            ck_assert_int_eq(it->data.kind, DATA_INT);
            ck_assert_int_eq(it->data.i, 84);
        } else {
            char want[32];
            snprintf(want, sizeof want, "Transformed: item %lld", (long long)id);
            ck_assert_int_eq(it->data.kind, DATA_STRING);
            ck_assert_str_eq(it->data.s, want);
        }
    }
    char buf[256];
    pipeline_metadata_t m = {.has_transformed_at = true, .transformed_at = 0, .has_enriched = true,
                    .enriched_at = 57 * SIM_MS, .has_worker_id = true, .worker_id = 2};
    pipeline_metadata_format(&m, buf, sizeof buf);
    ck_assert_str_eq(buf, "map[enriched:true enriched_at:57ms transformed_at:0s worker_id:2]");
    ck_assert_int_eq(pc->alive_after, 1);
}

START_TEST(pipeline_seed_demo_items)
{
    pl_case_t *pc = pl_seed(3);
    pc->check = pl_check_seed_items;
    ck_assert_int_eq(run_main(pl_main, pc), SCHED_DONE);
    ck_assert_int_eq(pc->n, 8);
}
END_TEST

/* One worker keeps the order exactly, under every seed. */
START_TEST(pipeline_one_worker_keeps_order)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        pl_case_t *pc = pl_seed(1);
        ck_assert_int_eq(run_seeded(pl_main, pc, seed, seed % 2 ? SCHED_FIFO : SCHED_RANDOM), SCHED_DONE);
        ck_assert_int_eq(pc->n, 8);
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(pc->out[i].id, i + 1);
    }
}
END_TEST

/* Three workers reorder: across 100 seeds, the output is out of order in
 * most runs, and item 5 (failed, so no sleep) comes out before item 4
 * (which sleeps) in most runs. */
START_TEST(pipeline_parallel_stage_reorders)
{
    int reordered = 0, five_before_four = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        pl_case_t *pc = pl_seed(3);
        ck_assert_int_eq(run_seeded(pl_main, pc, seed, SCHED_FIFO), SCHED_DONE);
        ck_assert_int_eq(pc->n, 8);
        bool in_order = true;
        int pos4 = -1, pos5 = -1;
        for (int i = 0; i < 8; i++) {
            in_order = in_order && pc->out[i].id == i + 1;
            if (pc->out[i].id == 4)
                pos4 = i;
            if (pc->out[i].id == 5)
                pos5 = i;
        }
        reordered += !in_order;
        five_before_four += pos5 < pos4;
    }
    ck_assert_int_ge(reordered, 85);
    ck_assert_int_ge(five_before_four, 60);
}
END_TEST

/* A deadline in the middle: the items in flight are dropped, every stage
 * returns. */
START_TEST(pipeline_deadline_drops_in_flight_items)
{
    pl_case_t *pc = pl_seed(1);
    pc->delay.min = pc->delay.max = 100 * SIM_MS; /* exactly 100ms each */
    pc->delay.max += SIM_MS;                       /* [100ms, 101ms): 100ms */
    pc->timeout = 350 * SIM_MS;
    ck_assert_int_eq(run_main(pl_main, pc), SCHED_DONE);
    /* Items 1-3 at 100, 200, 300ms; item 4 would be at 400ms. */
    ck_assert_int_eq(pc->n, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pc->out[i].metadata.enriched_at, (i + 1) * 100 * SIM_MS);
    ck_assert_int_eq(pc->alive_after, 1);
}
END_TEST

/* ======================================================================== */
/* Bounded concurrency                                                      */
/* ======================================================================== */

static bounded_demo_stats_t bd_stats;
static bounded_op_record_t bd_rec[50];

static void bd_main(void *arg)
{
    (void)arg;
    bounded_demo_config_t cfg = bounded_demo_config_default();
    cfg.print = false;
    bounded_concurrency_main(&cfg, &bd_stats, bd_rec);
}

START_TEST(bounded_seed_demo)
{
    int64_t failed = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        memset(&bd_stats, 0, sizeof bd_stats);
        ck_assert_int_eq(run_seeded(bd_main, NULL, seed, SCHED_FIFO), SCHED_DONE);
        ck_assert_int_eq(bd_stats.total, 50);
        ck_assert_int_eq(bd_stats.successful + bd_stats.rejected + bd_stats.failed, 50);
        ck_assert_int_eq(bd_stats.rejected, 0); /* 20/s offered, ~33/s of capacity */
        ck_assert_int_le(bd_stats.in_use_max, 5);
        ck_assert_int_ge(bd_stats.in_use_max, 2);
        for (int i = 0; i < 50; i++) {
            ck_assert_int_eq(bd_rec[i].id, i);
            ck_assert_int_eq(bd_rec[i].start, i * 50 * SIM_MS);
            simtime_t d = bd_rec[i].end - bd_rec[i].start;
            ck_assert_int_ge(d, 50 * SIM_MS);
            ck_assert_int_lt(d, 250 * SIM_MS + 500 * SIM_MS);
        }
        failed += bd_stats.failed;
    }
    /* 10% of 500 operations. */
    ck_assert_int_ge(failed, 30);
    ck_assert_int_le(failed, 75);
}
END_TEST

/* One slot. The first caller holds it from 0 to 300ms; the second, at
 * 10ms, gets it at 300ms (within its 500ms) and holds it to 900ms; the
 * third, at 20ms, would need it before 520ms and is rejected at exactly
 * 520ms; the fourth comes with a cancelled context and is rejected at
 * once. */
typedef struct hold {
    bounded_executor_t *e;
    simtime_t start, d;
    const go_error_t *err;
    simtime_t got_at, end;
    ctx_t *ctx;
} hold_t;

static const go_error_t *hold_fn(void *arg, void *result)
{
    hold_t *h = arg;
    (void)result;
    h->got_at = sched_now();
    go_sleep(h->d);
    return NULL;
}

static void hold_main(void *arg)
{
    hold_t *h = arg;
    go_sleep_until(h->start);
    h->err = bounded_executor_execute(h->e, h->ctx ? h->ctx : ctx_background(), hold_fn, h, NULL);
    h->end = sched_now();
}

static hold_t holds[4];
static void reject_main(void *arg)
{
    (void)arg;
    bounded_executor_t *e = bounded_executor_create(1, 500 * SIM_MS, "one");
    ctx_t *cancelled = ctx_with_cancel(ctx_background());
    ctx_cancel(cancelled);
    holds[0] = (hold_t){.e = e, .start = 0, .d = 300 * SIM_MS};            /* holds 0-300ms */
    holds[1] = (hold_t){.e = e, .start = 10 * SIM_MS, .d = 600 * SIM_MS};  /* gets it at 300ms */
    holds[2] = (hold_t){.e = e, .start = 20 * SIM_MS, .d = 0};             /* rejected at 520ms */
    holds[3] = (hold_t){.e = e, .start = 30 * SIM_MS, .d = 0, .ctx = cancelled}; /* rejected at once */
    for (int i = 0; i < 4; i++)
        go_spawn(hold_main, &holds[i], "hold");
    go_sleep(2 * SIM_SEC);
    ck_assert_int_eq(e->in_use_max, 1);
    ck_assert_int_eq(e->rejected, 2);
    ck_assert_int_eq(e->executed, 2);
    ck_assert_str_eq(go_error_msg(holds[2].err), "operation rejected: context deadline exceeded");
    /* The seed's main would count this one as failed, not rejected. */
    ck_assert_str_eq(go_error_msg(holds[3].err), "operation rejected: context canceled");
}

START_TEST(bounded_rejects_at_the_acquisition_timeout)
{
    ck_assert_int_eq(run_main(reject_main, NULL), SCHED_DONE);
    ck_assert_ptr_null(holds[0].err);
    ck_assert_int_eq(holds[0].got_at, 0);
    ck_assert_ptr_null(holds[1].err);
    ck_assert_int_eq(holds[1].got_at, 300 * SIM_MS);
    ck_assert_ptr_nonnull(holds[2].err);
    ck_assert_int_eq(holds[2].end, 520 * SIM_MS);
    ck_assert_ptr_nonnull(holds[3].err);
    ck_assert_int_eq(holds[3].end, 30 * SIM_MS);
}
END_TEST

/* simulateOperation: whole milliseconds in [50ms, 250ms), 10% failures. */
static int so_fail;
static simtime_t so_min, so_max;
static void so_main(void *arg)
{
    (void)arg;
    so_min = SIMTIME_MAX;
    for (int i = 0; i < 2000; i++) {
        bounded_operation_t op = {.id = i, .latency_min = 50 * SIM_MS, .latency_span = 200 * SIM_MS, .fail_pct = 10};
        char res[64];
        simtime_t t0 = sched_now();
        const go_error_t *err = bounded_simulate_operation(&op, res);
        simtime_t d = sched_now() - t0;
        ck_assert_int_eq(d % SIM_MS, 0);
        so_min = d < so_min ? d : so_min;
        so_max = d > so_max ? d : so_max;
        if (err) {
            char want[64];
            snprintf(want, sizeof want, "operation %d failed", i);
            ck_assert_str_eq(go_error_msg(err), want);
            so_fail++;
        } else {
            char want[64];
            snprintf(want, sizeof want, "Result from operation %d", i);
            ck_assert_str_eq(res, want);
        }
    }
}

START_TEST(bounded_simulate_operation_distribution)
{
    so_fail = 0;
    so_max = 0;
    ck_assert_int_eq(run_main(so_main, NULL), SCHED_DONE);
    ck_assert_int_ge(so_fail, 150);
    ck_assert_int_le(so_fail, 250);
    ck_assert_int_eq(so_min, 50 * SIM_MS);
    ck_assert_int_eq(so_max, 249 * SIM_MS);
}
END_TEST

static Suite *patterns_flow_suite(void)
{
    Suite *s = suite_create("patterns_flow");
    TCase *fo = tcase_create("fanout");
    tcase_add_test(fo, fanout_seed_demo_17_succeeded_3_failed);
    tcase_add_test(fo, fanout_through_fan_in_same_outcome);
    tcase_add_test(fo, fanout_cancellation_leaves_nothing_behind);
    tcase_add_test(fo, fanout_deadline_cuts_the_batch);
    suite_add_tcase(s, fo);
    TCase *pm = tcase_create("priority_mux");
    tcase_set_timeout(pm, 120);
    tcase_add_test(pm, pmux_corrected_forwards_every_event);
    tcase_add_test(pm, pmux_seed_loses_events_every_seed);
    tcase_add_test(pm, pmux_corrected_takes_highest_priority_first);
    tcase_add_test(pm, pmux_drops_after_the_send_timeout);
    suite_add_tcase(s, pm);
    TCase *fr = tcase_create("first_response");
    tcase_set_timeout(fr, 120);
    tcase_add_test(fr, first_response_seed_returns_an_error_although_another_succeeds);
    tcase_add_test(fr, first_response_all_fail);
    tcase_add_test(fr, first_response_timeout);
    tcase_add_test(fr, first_response_success_rates);
    suite_add_tcase(s, fr);
    TCase *pl = tcase_create("pipeline");
    tcase_set_timeout(pl, 120);
    tcase_add_test(pl, pipeline_seed_demo_items);
    tcase_add_test(pl, pipeline_one_worker_keeps_order);
    tcase_add_test(pl, pipeline_parallel_stage_reorders);
    tcase_add_test(pl, pipeline_deadline_drops_in_flight_items);
    suite_add_tcase(s, pl);
    TCase *bd = tcase_create("bounded");
    tcase_add_test(bd, bounded_seed_demo);
    tcase_add_test(bd, bounded_rejects_at_the_acquisition_timeout);
    tcase_add_test(bd, bounded_simulate_operation_distribution);
    suite_add_tcase(s, bd);
    return s;
}

int main(void)
{
    return run_suite(patterns_flow_suite());
}
