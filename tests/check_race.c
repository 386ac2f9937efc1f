/*
 * The race detector (core/race.h) and the decision points (sched_point):
 * racy programs are reported once per pair of code locations in Go's
 * format; programs synchronised by a mutex, a channel (unbuffered,
 * buffered, or buffered as a semaphore), a WaitGroup, Once, Cond, a
 * context's cancel or an atomic are not; under FIFO a decision point
 * changes nothing, under the random policy it interleaves goroutines at
 * every synchronising operation.
 */
#include "testutil.h"

#include "ctx.h"
#include "race.h"
#include "sync.h"

/* ---- running with the detector ------------------------------------------ */

typedef struct run {
    sched_t *s;
    char *text;   /* what the detector printed */
    size_t len;
    uint64_t reports;
} run_t;

static run_t race_run_policy(void (*fn)(void *), void *arg, sched_policy_t policy, uint64_t seed)
{
    sched_config_t cfg = sched_config_default();
    cfg.race = true;
    cfg.policy = policy;
    cfg.seed = seed;
    cfg.sync_points = policy != SCHED_FIFO;
    run_t r = {0};
    r.s = sched_create(&cfg);
    FILE *f = open_memstream(&r.text, &r.len);
    ck_assert_ptr_nonnull(f);
    race_set_output(sched_race(r.s), f);
    sched_run(r.s, fn, arg);
    fclose(f);
    r.reports = race_reports(sched_race(r.s));
    return r;
}

static run_t race_run(void (*fn)(void *), void *arg)
{
    return race_run_policy(fn, arg, SCHED_FIFO, 1);
}

static void run_done(run_t *r)
{
    sched_destroy(r->s);
    free(r->text);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The shared state of the programs below. */
typedef struct prog {
    race_var_t v;
    int64_t value;
    mutex_t *mu;
    chan_t *ch;
    waitgroup_t *wg;
    once_t *once;
    cond_t *cond;
    ctx_t *ctx;
    race_var_t flag;   /* an atomic */
    int64_t flag_value;
    bool ready;
    int iterations;
} prog_t;

static prog_t *prog_new(void)
{
    static prog_t p;
    memset(&p, 0, sizeof p);
    p.v.name = "counter";
    p.flag.name = "flag";
    p.iterations = 1;
    return &p;
}

static void increment(prog_t *p)
{
    shared_read(&p->v);
    shared_write(&p->v);
    p->value++;
}

/* ---- the racy counter ----------------------------------------------------- */

static void racy_worker(void *arg)
{
    prog_t *p = arg;
    for (int i = 0; i < p->iterations; i++) {
        increment(p);
        go_sleep(SIM_MS); /* the other goroutine runs in between */
    }
    waitgroup_done(p->wg);
}

static void racy_main(void *arg)
{
    prog_t *p = arg;
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 2);
    go_spawn(racy_worker, p, "main.worker");
    go_spawn(racy_worker, p, "main.worker");
    waitgroup_wait(p->wg);
}

START_TEST(racy_counter_reported_like_go)
{
    prog_t *p = prog_new();
    run_t r = race_run(racy_main, p);
    ck_assert_uint_eq(r.reports, 1);
    ck_assert_msg(strncmp(r.text, "==================\nWARNING: DATA RACE\n", 38) == 0, "%s", r.text);
    /* goroutine 3's read races goroutine 2's write: Go's two headers */
    ck_assert_msg(strstr(r.text, "Read at counter by goroutine 3 (main.worker):\n  increment()\n"
                                 "      tests/check_race.c:"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "\nPrevious write at counter by goroutine 2 (main.worker):\n"
                                 "  increment()\n      tests/check_race.c:"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "\nGoroutine 3 (main.worker, running) created at:\n"
                                 "  main.main()\n"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "\nGoroutine 2 (main.worker, running) created at:\n"), "%s", r.text);
    ck_assert_msg(strcmp(r.text + r.len - 19, "==================\n") == 0, "%s", r.text);
    ck_assert_msg(strstr(race_first(sched_race(r.s)), "DATA RACE on counter: read at tests/check_race.c:"),
                  "%s", race_first(sched_race(r.s)));
    run_done(&r);
}
END_TEST

START_TEST(one_report_per_pair)
{
    prog_t *p = prog_new();
    p->iterations = 20;
    run_t r = race_run(racy_main, p);
    /* 20 racy reads and writes each: one report for the pair (and, as Go,
     * one per variable) */
    ck_assert_uint_eq(r.reports, 1);
    ck_assert_uint_eq(count_of(r.text, "WARNING: DATA RACE"), 1);
    run_done(&r);
}
END_TEST

/* ---- synchronised: no report ---------------------------------------------- */

static void mutex_worker(void *arg)
{
    prog_t *p = arg;
    for (int i = 0; i < 5; i++) {
        mutex_lock(p->mu);
        increment(p);
        mutex_unlock(p->mu);
        go_sleep(SIM_MS);
    }
    waitgroup_done(p->wg);
}

static void mutex_main(void *arg)
{
    prog_t *p = arg;
    p->mu = mutex_new();
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 3);
    for (int i = 0; i < 3; i++)
        go_spawn(mutex_worker, p, "main.worker");
    waitgroup_wait(p->wg);
    increment(p); /* after Wait: ordered after every Done */
}

START_TEST(mutex_protected_counter_not_reported)
{
    run_t r = race_run(mutex_main, prog_new());
    ck_assert_uint_eq(r.reports, 0);
    ck_assert_uint_eq(r.len, 0);
    run_done(&r);
    /* nor on any schedule the random policy takes */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        run_t x = race_run_policy(mutex_main, prog_new(), SCHED_RANDOM, seed);
        ck_assert_uint_eq(x.reports, 0);
        run_done(&x);
    }
}
END_TEST

static void handoff_producer(void *arg)
{
    prog_t *p = arg;
    increment(p);
    chan_send_i64(p->ch, 1);
}

static void handoff_main(void *arg)
{
    prog_t *p = arg;
    go_spawn(handoff_producer, p, "main.producer");
    chan_recv_i64(p->ch, NULL);
    increment(p);
}

static void handoff_unbuffered(void *arg)
{
    ((prog_t *)arg)->ch = chan_make(8, 0);
    handoff_main(arg);
}

static void handoff_buffered(void *arg)
{
    ((prog_t *)arg)->ch = chan_make(8, 4);
    handoff_main(arg);
}

START_TEST(channel_handoff_not_reported)
{
    run_t r = race_run(handoff_unbuffered, prog_new());
    ck_assert_uint_eq(r.reports, 0);
    run_done(&r);
    r = race_run(handoff_buffered, prog_new());
    ck_assert_uint_eq(r.reports, 0);
    run_done(&r);
}
END_TEST

/* Without the channel: the same two accesses race. */
static void nohandoff_producer(void *arg)
{
    increment(arg);
}

static void nohandoff_main(void *arg)
{
    go_spawn(nohandoff_producer, arg, "main.producer");
    go_sleep(SIM_MS);
    increment(arg);
}

/* Channels made, used and freed one after another, each handing a value
 * from a goroutine to main (a sync clock per buffer slot): the detector
 * keeps the clocks of the live channels only. */
static void churn_sender(void *arg)
{
    int v = 1;
    chan_send(arg, &v);
}

static void churn_main(void *arg)
{
    size_t *held = arg;
    for (int i = 0; i < 200; i++) {
        chan_t *c = chan_make(sizeof(int), i % 3);
        go_spawn(churn_sender, c, "main.sender");
        int v;
        chan_recv(c, &v);
        chan_free(c);
    }
    *held = race_sync_clocks(sched_race(sched_current()));
}

START_TEST(freed_objects_free_their_clocks)
{
    size_t held = 0;
    run_t r = race_run(churn_main, &held);
    ck_assert_uint_eq(r.reports, 0);
    ck_assert_uint_le(held, 2);
    run_done(&r);
}
END_TEST

START_TEST(unsynchronised_handoff_reported)
{
    run_t r = race_run(nohandoff_main, prog_new());
    ck_assert_uint_eq(r.reports, 1);
    ck_assert_msg(strstr(r.text, "by main goroutine:"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "Goroutine 2 (main.producer, finished) created at:"), "%s", r.text);
    run_done(&r);
}
END_TEST

/* A buffered channel of capacity 1 as a semaphore: send to acquire,
 * receive to release. Only the k-th receive happening before the (k+C)-th
 * send orders the critical sections. */
static void sem_worker(void *arg)
{
    prog_t *p = arg;
    for (int i = 0; i < 3; i++) {
        chan_send_i64(p->ch, 1);
        increment(p);
        go_sleep(SIM_MS);
        chan_recv_i64(p->ch, NULL);
    }
    waitgroup_done(p->wg);
}

static void sem_main(void *arg)
{
    prog_t *p = arg;
    p->ch = chan_make(8, 1);
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 3);
    for (int i = 0; i < 3; i++)
        go_spawn(sem_worker, p, "main.worker");
    waitgroup_wait(p->wg);
}

START_TEST(buffered_channel_semaphore_not_reported)
{
    run_t r = race_run(sem_main, prog_new());
    ck_assert_uint_eq(r.reports, 0);
    run_done(&r);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        run_t x = race_run_policy(sem_main, prog_new(), SCHED_RANDOM, seed);
        ck_assert_uint_eq(x.reports, 0);
        run_done(&x);
    }
}
END_TEST

/* A semaphore of capacity 2 admits two at once: they race. */
static void sem2_main(void *arg)
{
    prog_t *p = arg;
    p->ch = chan_make(8, 2);
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 3);
    for (int i = 0; i < 3; i++)
        go_spawn(sem_worker, p, "main.worker");
    waitgroup_wait(p->wg);
}

START_TEST(semaphore_of_two_reported)
{
    run_t r = race_run(sem2_main, prog_new());
    ck_assert_uint_ge(r.reports, 1);
    run_done(&r);
}
END_TEST

/* Once, Cond, context cancel and an atomic flag publish a write. */
static void once_f(void *arg)
{
    increment(arg);
}

static void once_worker(void *arg)
{
    prog_t *p = arg;
    once_do(p->once, once_f, p);
    shared_read(&p->v);
    waitgroup_done(p->wg);
}

static void once_main(void *arg)
{
    prog_t *p = arg;
    p->once = once_new();
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 3);
    for (int i = 0; i < 3; i++)
        go_spawn(once_worker, p, "main.worker");
    waitgroup_wait(p->wg);
}

static void cond_waiter(void *arg)
{
    prog_t *p = arg;
    mutex_lock(p->mu);
    while (!p->ready)
        cond_wait(p->cond);
    mutex_unlock(p->mu);
    increment(p);
    waitgroup_done(p->wg);
}

static void cond_main(void *arg)
{
    prog_t *p = arg;
    p->mu = mutex_new();
    p->cond = cond_new(p->mu);
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 1);
    go_spawn(cond_waiter, p, "main.waiter");
    go_sleep(SIM_MS);
    increment(p);
    mutex_lock(p->mu);
    p->ready = true;
    cond_signal(p->cond);
    mutex_unlock(p->mu);
    waitgroup_wait(p->wg);
}

static void ctx_worker(void *arg)
{
    prog_t *p = arg;
    chan_recv(ctx_done(p->ctx), NULL);
    increment(p);
}

static void ctx_main(void *arg)
{
    prog_t *p = arg;
    p->ctx = ctx_with_cancel(ctx_background());
    go_spawn(ctx_worker, p, "main.worker");
    go_sleep(SIM_MS);
    increment(p);
    ctx_cancel(p->ctx);
    go_sleep(SIM_MS);
}

static void atomic_reader(void *arg)
{
    prog_t *p = arg;
    for (;;) {
        race_atomic(&p->flag, RACE_LOAD);
        if (p->flag_value)
            break;
        go_sleep(SIM_MS);
    }
    increment(p);
}

static void atomic_main(void *arg)
{
    prog_t *p = arg;
    go_spawn(atomic_reader, p, "main.reader");
    go_sleep(3 * SIM_MS);
    increment(p);
    race_atomic(&p->flag, RACE_STORE);
    p->flag_value = 1;
    go_sleep(10 * SIM_MS);
}

START_TEST(once_cond_ctx_atomic_not_reported)
{
    void (*progs[])(void *) = {once_main, cond_main, ctx_main, atomic_main};
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        run_t r = race_run(progs[i], prog_new());
        ck_assert_msg(r.reports == 0, "program %zu: %s", i, r.text);
        run_done(&r);
    }
}
END_TEST

/* A close and a send not ordered: Go reports a race on the channel. */
static void closer(void *arg)
{
    go_sleep(SIM_MS);
    chan_close(((prog_t *)arg)->ch);
}

static void send_close_main(void *arg)
{
    prog_t *p = arg;
    p->ch = chan_make(8, 4);
    go_spawn(closer, p, "main.closer");
    chan_send_i64(p->ch, 1);
    go_sleep(2 * SIM_MS);
    chan_recv_i64(p->ch, NULL);
}

START_TEST(send_and_close_unordered_reported)
{
    run_t r = race_run(send_close_main, prog_new());
    ck_assert_uint_eq(r.reports, 1);
    ck_assert_msg(strstr(r.text, "Write at channel #"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "  runtime.closechan()\n"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "Previous read at channel #"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "  runtime.chansend()\n"), "%s", r.text);
    run_done(&r);
}
END_TEST

/* ---- decision points ------------------------------------------------------- */

/* Lost update: read, a synchronising operation, write. Without decision
 * points the two goroutines never interleave. */
static void lost_worker(void *arg)
{
    prog_t *p = arg;
    shared_read(&p->v);
    int64_t v = p->value;
    mutex_lock(p->mu); /* uncontended: a decision only when exploring */
    mutex_unlock(p->mu);
    shared_write(&p->v);
    p->value = v + 1;
    waitgroup_done(p->wg);
}

static void lost_main(void *arg)
{
    prog_t *p = arg;
    p->mu = mutex_new();
    p->wg = waitgroup_new();
    waitgroup_add(p->wg, 2);
    go_spawn(lost_worker, p, "main.worker");
    go_spawn(lost_worker, p, "main.worker");
    waitgroup_wait(p->wg);
}

static sched_t *run_points(sched_policy_t policy, uint64_t seed, bool points, prog_t *p)
{
    sched_config_t cfg = sched_config_default();
    cfg.policy = policy;
    cfg.seed = seed;
    cfg.sync_points = points;
    return run_with(&cfg, lost_main, p, NULL);
}

START_TEST(fifo_ignores_decision_points)
{
    prog_t *p = prog_new();
    sched_t *s = run_points(SCHED_FIFO, 1, false, p);
    ck_assert_int_eq(p->value, 2);
    ck_assert_uint_eq(sched_points(s), 0);
    uint64_t h = sched_trace_hash(s);
    sched_destroy(s);
    /* the random policy without points: the same coarse steps */
    p = prog_new();
    s = run_points(SCHED_RANDOM, 1, false, p);
    ck_assert_int_eq(p->value, 2);
    ck_assert_uint_eq(sched_points(s), 0);
    sched_destroy(s);
    (void)h;
}
END_TEST

START_TEST(random_decides_at_every_sync_op)
{
    int lost = 0, kept = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        prog_t *p = prog_new();
        sched_t *s = run_points(SCHED_RANDOM, seed, true, p);
        ck_assert_uint_gt(sched_points(s), 6);
        if (p->value == 1)
            lost++;
        else
            kept++;
        /* the same seed replays the same interleaving */
        prog_t *q = prog_new();
        sched_t *s2 = run_points(SCHED_RANDOM, seed, true, q);
        ck_assert_uint_eq(sched_trace_hash(s), sched_trace_hash(s2));
        ck_assert_int_eq(p->value, q->value);
        sched_destroy(s2);
        sched_destroy(s);
    }
    ck_assert_int_gt(lost, 0);
    ck_assert_int_gt(kept, 0);
}
END_TEST

static Suite *race_suite(void)
{
    Suite *s = suite_create("race");
    TCase *d = tcase_create("detector");
    tcase_add_test(d, racy_counter_reported_like_go);
    tcase_add_test(d, one_report_per_pair);
    tcase_add_test(d, mutex_protected_counter_not_reported);
    tcase_add_test(d, channel_handoff_not_reported);
    tcase_add_test(d, unsynchronised_handoff_reported);
    tcase_add_test(d, buffered_channel_semaphore_not_reported);
    tcase_add_test(d, semaphore_of_two_reported);
    tcase_add_test(d, once_cond_ctx_atomic_not_reported);
    tcase_add_test(d, send_and_close_unordered_reported);
    tcase_add_test(d, freed_objects_free_their_clocks);
    suite_add_tcase(s, d);
    TCase *p = tcase_create("points");
    tcase_add_test(p, fifo_ignores_decision_points);
    tcase_add_test(p, random_decides_at_every_sync_op);
    suite_add_tcase(s, p);
    return s;
}

int main(void)
{
    return run_suite(race_suite());
}
