/*
 * time: SEMANTICS.md section D (Sleep, Timer, After, AfterFunc, Ticker,
 * Tick), item by item, on the simulated clock, and the order in which
 * timers due at the same instant fire under each scheduling policy.
 */
#include "testutil.h"

/* Run fn as main under cfg with a trace sink attached before the run;
 * returns the scheduler for the caller to destroy. */
static sched_t *run_traced(const sched_config_t *cfg, void (*fn)(void *), void *arg,
                           trace_sink_t sink, void *ud, sched_result_t *result)
{
    sched_config_t c = cfg ? *cfg : sched_config_default();
    sched_t *s = sched_create(&c);
    ck_assert_int_ge(sched_add_sink(s, sink, ud), 0);
    *result = sched_run(s, fn, arg);
    return s;
}

static int64_t recv_time(chan_t *c)
{
    bool ok = false;
    int64_t v = chan_recv_i64(c, &ok);
    ck_assert(ok);
    return v;
}

/* Non-blocking receive: true and *v if a value was waiting. */
static bool poll_time(chan_t *c, int64_t *v)
{
    bool ok = false;
    int64_t tmp = -1;
    bool got = chan_try_recv(c, &tmp, &ok);
    if (got) {
        ck_assert(ok);
        if (v)
            *v = tmp;
    }
    return got;
}

/* ---- 38. Sleep ----------------------------------------------------------- */

static int d38_ran;
static void d38_flag(void *arg) { (void)arg; d38_ran = 1; }
static void d38_sleeper(void *arg) { go_sleep((simtime_t)(intptr_t)arg); }
static void d38_main(void *arg)
{
    (void)arg;
    go_spawn(d38_flag, NULL, "flag");
    go_sleep(0);
    go_sleep(-SIM_SEC);
    /* Returned at once: no time passed and nobody else ran. */
    ck_assert_int_eq(sched_now(), 0);
    ck_assert_int_eq(d38_ran, 0);

    g_t *g = go_spawn(d38_sleeper, (void *)(intptr_t)SIM_SEC, "sleeper");
    go_yield();
    ck_assert_int_eq(d38_ran, 1);
    ck_assert_int_eq(go_wait_reason(g), WAIT_SLEEP);
    ck_assert_str_eq(wait_reason_string(go_wait_reason(g)), "sleep");

    go_sleep(1500 * SIM_MS);
    ck_assert_int_eq(sched_now(), 1500 * SIM_MS);
    go_sleep(SIM_NS);
    ck_assert_int_eq(sched_now(), 1500 * SIM_MS + 1);
}

START_TEST(d38_sleep)
{
    ck_assert_int_eq(run_main(d38_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 39. a timer sends its fire time once --------------------------------- */

static void d39_main(void *arg)
{
    (void)arg;
    sim_timer_t *t = timer_new(100 * SIM_MS);
    go_sleep(250 * SIM_MS);
    /* The value is the scheduled fire time, not the time of the receive. */
    ck_assert_int_eq(recv_time(timer_chan(t)), 100 * SIM_MS);
    ck_assert_int_eq(sched_now(), 250 * SIM_MS);
    go_sleep(SIM_SEC);
    ck_assert(!poll_time(timer_chan(t), NULL)); /* once only */

    /* A blocked receiver wakes exactly at the fire time. */
    sim_timer_t *t2 = timer_new(40 * SIM_MS);
    ck_assert_int_eq(recv_time(timer_chan(t2)), 1290 * SIM_MS);
    ck_assert_int_eq(sched_now(), 1290 * SIM_MS);

    /* d <= 0 fires at once with the current time (Go's when()). */
    sim_timer_t *t3 = timer_new(-5 * SIM_SEC);
    sim_timer_t *t4 = timer_new(0);
    ck_assert_int_eq(recv_time(timer_chan(t3)), 1290 * SIM_MS);
    ck_assert_int_eq(recv_time(timer_chan(t4)), 1290 * SIM_MS);
    ck_assert_int_eq(sched_now(), 1290 * SIM_MS);
}

START_TEST(d39_timer_sends_fire_time_once)
{
    ck_assert_int_eq(run_main(d39_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 40. timer channels read len 0, cap 0 --------------------------------- */

static void d40_main(void *arg)
{
    (void)arg;
    sim_timer_t *t = timer_new(SIM_MS);
    ck_assert_int_eq(chan_len(timer_chan(t)), 0);
    ck_assert_int_eq(chan_cap(timer_chan(t)), 0);
    go_sleep(2 * SIM_MS);
    /* Fired, its value waiting: still 0 and 0. */
    ck_assert_int_eq(chan_len(timer_chan(t)), 0);
    ck_assert_int_eq(chan_cap(timer_chan(t)), 0);
    int64_t v;
    ck_assert(poll_time(timer_chan(t), &v));
    ck_assert_int_eq(v, SIM_MS);
    sim_timer_t *tk = ticker_new(SIM_MS);
    go_sleep(5 * SIM_MS);
    ck_assert_int_eq(chan_len(timer_chan(tk)), 0);
    ck_assert_int_eq(chan_cap(timer_chan(tk)), 0);
}

START_TEST(d40_timer_channel_len_cap_zero)
{
    ck_assert_int_eq(run_main(d40_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 41. Stop ------------------------------------------------------------ */

static void d41_main(void *arg)
{
    (void)arg;
    /* Before it fires: true, and nothing ever arrives. */
    sim_timer_t *a = timer_new(100 * SIM_MS);
    go_sleep(50 * SIM_MS);
    ck_assert(timer_stop(a));
    go_sleep(SIM_SEC);
    ck_assert(!poll_time(timer_chan(a), NULL));
    ck_assert(!timer_stop(a)); /* already stopped */

    /* Fired but not received: from the user's view the channel is
     * synchronous, so Stop still stops it (true) and the stale value is
     * gone (Go 1.23). */
    sim_timer_t *b = timer_new(100 * SIM_MS);
    go_sleep(200 * SIM_MS);
    ck_assert(timer_stop(b));
    ck_assert(!poll_time(timer_chan(b), NULL));

    /* Fired and received: false. */
    sim_timer_t *c = timer_new(100 * SIM_MS);
    recv_time(timer_chan(c));
    ck_assert(!timer_stop(c));
}

START_TEST(d41_stop)
{
    ck_assert_int_eq(run_main(d41_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 42. Reset ----------------------------------------------------------- */

static void d42_main(void *arg)
{
    (void)arg;
    /* Active: true; only the new setting fires. */
    sim_timer_t *a = timer_new(100 * SIM_MS);
    go_sleep(60 * SIM_MS);
    ck_assert(timer_reset(a, 100 * SIM_MS));
    go_sleep(50 * SIM_MS); /* 110ms: past the old deadline */
    ck_assert(!poll_time(timer_chan(a), NULL));
    ck_assert_int_eq(recv_time(timer_chan(a)), 160 * SIM_MS);
    ck_assert_int_eq(sched_now(), 160 * SIM_MS);

    /* Fired, value pending: Reset drops it (true) and the next value is
     * the new fire time, never the stale one. */
    ck_assert(!timer_reset(a, 40 * SIM_MS)); /* received: inactive */
    go_sleep(100 * SIM_MS);                  /* 260ms: fired at 200ms */
    ck_assert(timer_reset(a, 30 * SIM_MS));
    ck_assert(!poll_time(timer_chan(a), NULL));
    ck_assert_int_eq(recv_time(timer_chan(a)), 290 * SIM_MS);

    /* Received, so inactive: false. After Stop: false, and it runs again. */
    ck_assert(!timer_reset(a, SIM_SEC));
    ck_assert(timer_stop(a));
    ck_assert(!timer_reset(a, 10 * SIM_MS));
    ck_assert_int_eq(recv_time(timer_chan(a)), 300 * SIM_MS);
}

START_TEST(d42_reset)
{
    ck_assert_int_eq(run_main(d42_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 43. uninitialised timers ---------------------------------------------- */

static void d43_stop(void *arg) { (void)arg; timer_stop(NULL); }
static void d43_reset(void *arg) { (void)arg; timer_reset(NULL, SIM_SEC); }
static void d43_ticker_reset(void *arg) { (void)arg; ticker_reset(NULL, SIM_SEC); }
static void d43_ticker_stop(void *arg) { (void)arg; ticker_stop(NULL); }

START_TEST(d43_uninitialized_timer_panics)
{
    ck_assert_panics(d43_stop, NULL, "time: Stop called on uninitialized Timer");
    ck_assert_panics(d43_reset, NULL, "time: Reset called on uninitialized Timer");
    ck_assert_panics(d43_ticker_reset, NULL, "time: Reset called on uninitialized Ticker");
    /* Go keeps Ticker.Stop on an uninitialised Ticker silent (issue 21874). */
    ck_assert_int_eq(run_main(d43_ticker_stop, NULL), SCHED_DONE);
}
END_TEST

/* ---- 44. After and AfterFunc ---------------------------------------------- */

static uint64_t d44_gid;
static simtime_t d44_at;
static int d44_calls;
static chan_t *d44_gate;
static void d44_f(void *arg)
{
    d44_gid = go_id(go_self());
    ck_assert_str_eq(go_name(go_self()), "time.goFunc");
    d44_at = sched_now();
    d44_calls += (int)(intptr_t)arg;
    if (d44_gate)
        chan_recv(d44_gate, NULL); /* stays running (parked) inside f */
}
static void d44_main(void *arg)
{
    (void)arg;
    chan_t *c = go_after(200 * SIM_MS);
    ck_assert_int_eq(chan_len(c), 0);
    ck_assert_int_eq(chan_cap(c), 0);
    ck_assert_int_eq(recv_time(c), 200 * SIM_MS);
    ck_assert_int_eq(sched_now(), 200 * SIM_MS);

    /* AfterFunc: f in its own goroutine at the fire time; Stop false after. */
    sim_timer_t *t = timer_after_func(100 * SIM_MS, d44_f, (void *)(intptr_t)1);
    ck_assert_ptr_null(timer_chan(t));
    go_sleep(SIM_SEC);
    ck_assert_int_eq(d44_calls, 1);
    ck_assert_uint_ne(d44_gid, 0);
    ck_assert_uint_ne(d44_gid, go_id(go_self()));
    ck_assert_int_eq(d44_at, 300 * SIM_MS);
    ck_assert(!timer_stop(t));

    /* Stopped before firing: true, and f never runs. */
    sim_timer_t *u = timer_after_func(100 * SIM_MS, d44_f, (void *)(intptr_t)10);
    go_sleep(99 * SIM_MS);
    ck_assert(timer_stop(u));
    go_sleep(SIM_SEC);
    ck_assert_int_eq(d44_calls, 1);

    /* f started and still running: Stop is false and does not wait. */
    d44_gate = chan_make(0, 0);
    sim_timer_t *w = timer_after_func(10 * SIM_MS, d44_f, (void *)(intptr_t)100);
    go_sleep(20 * SIM_MS);
    ck_assert_int_eq(d44_calls, 101);
    ck_assert(!timer_stop(w));
    chan_close(d44_gate);
}

START_TEST(d44_after_and_after_func)
{
    ck_assert_int_eq(run_main(d44_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 45. ticker arguments -------------------------------------------------- */

static void d45_new_zero(void *arg) { (void)arg; ticker_new(0); }
static void d45_new_negative(void *arg) { (void)arg; ticker_new(-SIM_SEC); }
static void d45_reset_zero(void *arg)
{
    (void)arg;
    sim_timer_t *t = ticker_new(SIM_SEC);
    ticker_reset(t, 0);
}
static void d45_tick(void *arg)
{
    (void)arg;
    ck_assert_ptr_null(go_tick(0));
    ck_assert_ptr_null(go_tick(-SIM_SEC));
    chan_t *c = go_tick(10 * SIM_MS);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(recv_time(c), 10 * SIM_MS);
    ck_assert_int_eq(recv_time(c), 20 * SIM_MS);
}

START_TEST(d45_ticker_non_positive_intervals)
{
    ck_assert_panics(d45_new_zero, NULL, "non-positive interval for NewTicker");
    ck_assert_panics(d45_new_negative, NULL, "non-positive interval for NewTicker");
    ck_assert_panics(d45_reset_zero, NULL, "non-positive interval for Ticker.Reset");
    ck_assert_int_eq(run_main(d45_tick, NULL), SCHED_DONE);
}
END_TEST

/* ---- 46. a lagging receiver loses ticks, phase kept -------------------------- */

static void d46_main(void *arg)
{
    (void)arg;
    sim_timer_t *t = ticker_new(100 * SIM_MS);
    go_sleep(350 * SIM_MS);
    /* One tick held (the oldest); 200ms and 300ms were dropped. */
    ck_assert_int_eq(recv_time(timer_chan(t)), 100 * SIM_MS);
    ck_assert(!poll_time(timer_chan(t), NULL));
    /* Phase kept: the next tick is on the 100ms grid, not 350+100. */
    ck_assert_int_eq(recv_time(timer_chan(t)), 400 * SIM_MS);
    ck_assert_int_eq(sched_now(), 400 * SIM_MS);
    ck_assert_int_eq(recv_time(timer_chan(t)), 500 * SIM_MS);
    ticker_stop(t);
}

START_TEST(d46_ticker_drops_ticks_keeps_phase)
{
    ck_assert_int_eq(run_main(d46_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 47. Ticker.Stop and Ticker.Reset -------------------------------------- */

static void d47_main(void *arg)
{
    (void)arg;
    sim_timer_t *t = ticker_new(100 * SIM_MS);
    ck_assert_int_eq(recv_time(timer_chan(t)), 100 * SIM_MS);
    go_sleep(150 * SIM_MS); /* 250ms: the 200ms tick waits */
    ticker_stop(t);
    /* No tick after Stop (the waiting one is dropped too), and the channel
     * stays open: a receive would block, so the timeout case wins. */
    ck_assert(!chan_closed(timer_chan(t)));
    select_case_t cs[2] = {
        {.ch = timer_chan(t), .dir = SELECT_RECV},
        {.ch = go_after(SIM_SEC), .dir = SELECT_RECV},
    };
    ck_assert_int_eq(chan_select(cs, 2, false), 1);
    ck_assert_int_eq(sched_now(), 1250 * SIM_MS);

    /* Reset: the next tick comes d after the reset, then every d. */
    ticker_reset(t, 300 * SIM_MS);
    ck_assert_int_eq(recv_time(timer_chan(t)), 1550 * SIM_MS);
    go_sleep(50 * SIM_MS);
    ticker_reset(t, 40 * SIM_MS); /* 1600ms */
    ck_assert_int_eq(recv_time(timer_chan(t)), 1640 * SIM_MS);
    ck_assert_int_eq(recv_time(timer_chan(t)), 1680 * SIM_MS);
    ticker_stop(t);
}

START_TEST(d47_ticker_stop_and_reset)
{
    ck_assert_int_eq(run_main(d47_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 48. overflowing fire times are clamped -------------------------------- */

typedef struct timer_sets {
    int64_t when[16]; /* deadlines of EV_TIMER_SET events, in order */
    int n;
} timer_sets_t;

static void d48_sink(void *ud, const trace_event_t *ev)
{
    timer_sets_t *ts = ud;
    if (ev->kind == EV_TIMER_SET && ts->n < 16)
        ts->when[ts->n++] = ev->a;
}
static void d48_nop(void *arg) { (void)arg; }
static void d48_main(void *arg)
{
    (void)arg;
    go_sleep(SIM_SEC);
    sim_timer_t *t = timer_new(INT64_MAX);
    sim_timer_t *f = timer_after_func(INT64_MAX - 5, d48_nop, NULL);
    sim_timer_t *k = ticker_new(INT64_MAX);
    go_sleep(3600 * SIM_SEC);
    /* Without the clamp now + d wraps negative and everything fires. */
    ck_assert(!poll_time(timer_chan(t), NULL));
    ck_assert(!poll_time(timer_chan(k), NULL));
    ck_assert(timer_reset(t, INT64_MAX)); /* still pending: true */
    ck_assert(timer_stop(t));
    ck_assert(timer_stop(f));
    ticker_stop(k);
}

START_TEST(d48_overflowing_fire_time_clamped)
{
    timer_sets_t ts = {0};
    sched_result_t r;
    sched_t *s = run_traced(NULL, d48_main, NULL, d48_sink, &ts, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_int_eq(ts.n, 4);
    for (int i = 0; i < ts.n; i++)
        ck_assert_int_eq(ts.when[i], SIMTIME_MAX);
    sched_destroy(s);
}
END_TEST

/* ---- simultaneous timers ------------------------------------------------- */

typedef struct fire_order {
    uint64_t obj[8]; /* timer object ids in firing order */
    int n;
} fire_order_t;

static void order_sink(void *ud, const trace_event_t *ev)
{
    fire_order_t *fo = ud;
    if (ev->kind == EV_TIMER_FIRE && fo->n < 8)
        fo->obj[fo->n++] = ev->obj;
}

static uint64_t order_ids[5];
static void order_main(void *arg)
{
    (void)arg;
    /* Five timers all due at 100ms, armed in the order 1, 2, 3, 4, 0: the
     * first is re-armed last, and the last one is armed at 50ms. */
    sim_timer_t *t[5];
    for (int i = 0; i < 4; i++)
        t[i] = timer_new(100 * SIM_MS);
    ck_assert(timer_reset(t[0], 100 * SIM_MS));
    go_sleep(50 * SIM_MS);
    t[4] = timer_new(50 * SIM_MS);
    for (int i = 0; i < 5; i++)
        order_ids[i] = obj_id(t[i]);
    go_sleep(SIM_SEC);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(recv_time(timer_chan(t[i])), 100 * SIM_MS);
}

/* The firing order as a string of timer indexes, e.g. "12304". */
static void order_string(const fire_order_t *fo, char *buf)
{
    for (int i = 0; i < fo->n; i++) {
        buf[i] = '?';
        for (int k = 0; k < 5; k++)
            if (fo->obj[i] == order_ids[k])
                buf[i] = (char)('0' + k);
    }
    buf[fo->n] = 0;
}

START_TEST(fifo_simultaneous_timers_fire_in_arming_order)
{
    fire_order_t fo = {0};
    sched_result_t r;
    sched_t *s = run_traced(NULL, order_main, NULL, order_sink, &fo, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    char got[16];
    order_string(&fo, got);
    ck_assert_str_eq(got, "12304");
    sched_destroy(s);
}
END_TEST

START_TEST(random_simultaneous_timers_vary_with_seed)
{
    char first[16] = "";
    int distinct = 1;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sched_config_t cfg = sched_config_default();
        cfg.policy = SCHED_RANDOM;
        cfg.seed = seed;
        fire_order_t fo = {0};
        sched_result_t r;
        sched_t *s = run_traced(&cfg, order_main, NULL, order_sink, &fo, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        char got[16];
        order_string(&fo, got);
        /* Always a permutation of the five timers. */
        ck_assert_int_eq(fo.n, 5);
        for (int k = 0; k < 5; k++)
            ck_assert_ptr_nonnull(strchr(got, '0' + k));
        if (seed == 1)
            strcpy(first, got);
        else if (strcmp(got, first) != 0)
            distinct++;
        /* The same seed gives the same order again. */
        fire_order_t again = {0};
        sched_t *s2 = run_traced(&cfg, order_main, NULL, order_sink, &again, &r);
        char got2[16];
        order_string(&again, got2);
        ck_assert_str_eq(got2, got);
        sched_destroy(s2);
        sched_destroy(s);
    }
    ck_assert_int_gt(distinct, 1);
}
END_TEST

/* ---- callback timers (timer_entry_*) ------------------------------------- */

typedef struct alarm {
    tq_entry_t e;       /* armed on the scheduler's queue */
    int id;             /* which alarm */
    int *order;         /* where firings are appended */
    int *nfired;
    simtime_t fired_at;
} alarm_t;

static void alarm_fire(tq_entry_t *e)
{
    alarm_t *a = (alarm_t *)((char *)e - offsetof(alarm_t, e));
    a->fired_at = sched_now();
    a->order[(*a->nfired)++] = a->id;
    ck_assert(!timer_entry_pending(e)); /* idle again while it fires */
}

static void alarms_main(void *arg)
{
    (void)arg;
    int order[4], nfired = 0;
    alarm_t a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (alarm_t){.id = i, .order = order, .nfired = &nfired};
        timer_entry_init(&a[i].e, alarm_fire, 0);
        ck_assert(!timer_entry_pending(&a[i].e));
        ck_assert(!timer_entry_disarm(&a[i].e));
    }
    timer_entry_arm(&a[2].e, 5 * SIM_MS);
    timer_entry_arm(&a[0].e, 5 * SIM_MS);
    timer_entry_arm(&a[1].e, 3 * SIM_MS);
    timer_entry_arm(&a[3].e, 4 * SIM_MS);
    ck_assert(timer_entry_pending(&a[3].e));
    ck_assert(timer_entry_disarm(&a[3].e));
    ck_assert(!timer_entry_pending(&a[3].e));
    go_sleep(10 * SIM_MS);
    /* By deadline, then in arming order (FIFO) at one instant; a disarmed
     * entry never fires. */
    ck_assert_int_eq(nfired, 3);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 0);
    ck_assert_int_eq(a[1].fired_at, 3 * SIM_MS);
    ck_assert_int_eq(a[0].fired_at, 5 * SIM_MS);
    ck_assert(!timer_entry_disarm(&a[0].e)); /* fired: nothing to disarm */
    /* Armed again after firing. */
    timer_entry_arm(&a[0].e, sched_now() + SIM_MS);
    go_sleep(2 * SIM_MS);
    ck_assert_int_eq(nfired, 4);
    ck_assert_int_eq(a[0].fired_at, 11 * SIM_MS);
}

START_TEST(callback_timers_fire_by_deadline_then_arming_order)
{
    ck_assert_int_eq(run_main(alarms_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- timer slack -------------------------------------------------------- */

/* go-linux: a wait lasts its duration rounded up to a whole millisecond,
 * then 100us to 250us more (Go 1.19's sleeps on Linux, measured). */
static void slack_go_main(void *arg)
{
    (void)arg;
    static const struct {
        simtime_t d, lo; /* the sleep, the least it lasts */
    } cases[] = {
        {100 * SIM_US, 1100 * SIM_US}, {500 * SIM_US, 1100 * SIM_US}, {SIM_MS, 1100 * SIM_US},
        {1500 * SIM_US, 2100 * SIM_US}, {3 * SIM_MS, 3100 * SIM_US}, {20 * SIM_MS, 20100 * SIM_US},
    };
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            simtime_t t0 = sched_now();
            go_sleep(cases[i].d);
            simtime_t took = sched_now() - t0;
            ck_assert_int_ge(took, cases[i].lo);
            ck_assert_int_le(took, cases[i].lo + 150 * SIM_US);
        }
    }
    /* A timer's fire time is late the same way. */
    simtime_t t0 = sched_now();
    sim_timer_t *t = timer_new(400 * SIM_US);
    int64_t at = recv_time(timer_chan(t));
    ck_assert_int_ge(at - t0, 1100 * SIM_US);
    ck_assert_int_le(at - t0, 1250 * SIM_US);
    timer_free(t);
}

START_TEST(slack_go_linux_rounds_up_to_milliseconds)
{
    timer_slack_t k;
    char err[128];
    ck_assert(timer_slack_parse("go-linux", &k, err, sizeof err));
    ck_assert_int_eq(k.round, SIM_MS);
    ck_assert(!timer_slack_parse("go-windows", &k, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "go-linux"));
    ck_assert(timer_slack_parse("linux", &k, err, sizeof err));
    ck_assert_int_eq(k.round, 0);
    sched_config_t c = sched_config_default();
    ck_assert(timer_slack_parse("go-linux", &c.slack, err, sizeof err));
    sched_t *s = sched_create(&c);
    ck_assert_int_eq(sched_run(s, slack_go_main, NULL), SCHED_DONE);
    sched_destroy(s);
}
END_TEST

Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *sem = tcase_create("semantics");
    tcase_add_test(sem, d38_sleep);
    tcase_add_test(sem, d39_timer_sends_fire_time_once);
    tcase_add_test(sem, d40_timer_channel_len_cap_zero);
    tcase_add_test(sem, d41_stop);
    tcase_add_test(sem, d42_reset);
    tcase_add_test(sem, d44_after_and_after_func);
    tcase_add_test(sem, d46_ticker_drops_ticks_keeps_phase);
    tcase_add_test(sem, d47_ticker_stop_and_reset);
    suite_add_tcase(s, sem);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, d43_uninitialized_timer_panics);
    tcase_add_test(err, d45_ticker_non_positive_intervals);
    suite_add_tcase(s, err);
    TCase *lim = tcase_create("limits");
    tcase_add_test(lim, d48_overflowing_fire_time_clamped);
    suite_add_tcase(s, lim);
    TCase *cb = tcase_create("callback");
    tcase_add_test(cb, callback_timers_fire_by_deadline_then_arming_order);
    suite_add_tcase(s, cb);
    TCase *ord = tcase_create("order");
    tcase_add_test(ord, fifo_simultaneous_timers_fire_in_arming_order);
    tcase_add_test(ord, random_simultaneous_timers_vary_with_seed);
    suite_add_tcase(s, ord);
    TCase *sl = tcase_create("slack");
    tcase_add_test(sl, slack_go_linux_rounds_up_to_milliseconds);
    suite_add_tcase(s, sl);
    return s;
}

int main(void)
{
    return run_suite(timer_suite());
}
