/*
 * sema: SEMANTICS.md item 66, golang.org/x/sync/semaphore.Weighted, with
 * the tests of its semaphore_test.go ported to simulated time
 * (TestWeighted, TestWeightedPanic, TestWeightedTryAcquire,
 * TestWeightedAcquire, TestWeightedDoesntBlockIfTooBig,
 * TestLargeAcquireDoesntStarve, TestAllocCancelDoesntStarve) and the
 * queueing rules one by one.
 */
#include "ctx.h"
#include "errgroup.h"
#include "sema.h"
#include "sync.h"
#include "testutil.h"

/* ---- semaphore_test.go ------------------------------------------------- */

#define HAMMER_G 8
#define HAMMER_LOOPS 200

static struct {
    semaphore_t *sem;
    int64_t max_held;
    chan_t *done;
} hf;

static void hammer(void *arg)
{
    int64_t n = (int64_t)(intptr_t)arg;
    rand_t *r = sched_rand(sched_current(), RAND_USER);
    for (int i = 0; i < HAMMER_LOOPS; i++) {
        ck_assert_ptr_null(semaphore_acquire(hf.sem, ctx_background(), n));
        if (semaphore_held(hf.sem) > hf.max_held)
            hf.max_held = semaphore_held(hf.sem);
        go_sleep((simtime_t)rand_below(r, 1000) * SIM_NS);
        semaphore_release(hf.sem, n);
    }
    chan_send(hf.done, NULL);
}

static void weighted_main(void *arg)
{
    (void)arg;
    hf.sem = semaphore_new(HAMMER_G);
    hf.done = chan_make(0, HAMMER_G);
    for (int i = 0; i < HAMMER_G; i++)
        go_spawn(hammer, (void *)(intptr_t)(i + 1), "main.hammer");
    for (int i = 0; i < HAMMER_G; i++)
        chan_recv(hf.done, NULL);
    ck_assert_int_eq(semaphore_held(hf.sem), 0);
    ck_assert_uint_eq(semaphore_waiters(hf.sem), 0);
}

/* TestWeighted: n goroutines acquiring 1..n of n tokens at random. */
START_TEST(weighted_hammer)
{
    for (int p = 0; p < 2; p++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            memset(&hf, 0, sizeof hf);
            sched_config_t cfg = sched_config_default();
            cfg.seed = seed;
            cfg.policy = p ? SCHED_RANDOM : SCHED_FIFO;
            sched_result_t r;
            sched_t *s = run_with(&cfg, weighted_main, NULL, &r);
            ck_assert_int_eq(r, SCHED_DONE);
            sched_destroy(s);
            ck_assert_int_le(hf.max_held, HAMMER_G);
            ck_assert_int_gt(hf.max_held, 0);
        }
    }
}
END_TEST

static void over_release(void *arg)
{
    (void)arg;
    semaphore_release(semaphore_new(1), 1);
}

static void over_release_held(void *arg)
{
    (void)arg;
    semaphore_t *s = semaphore_new(4);
    ck_assert(semaphore_try_acquire(s, 2));
    semaphore_release(s, 3);
}

/* TestWeightedPanic. */
START_TEST(weighted_panic)
{
    ck_assert_panics(over_release, NULL, "semaphore: released more than held");
    ck_assert_panics(over_release_held, NULL, "semaphore: released more than held");
}
END_TEST

static bool tries[4];

static void try_acquire_main(void *arg)
{
    (void)arg;
    ctx_t *ctx = ctx_background();
    semaphore_t *sem = semaphore_new(2);
    ck_assert_ptr_null(semaphore_acquire(sem, ctx, 1));
    tries[0] = semaphore_try_acquire(sem, 1);
    tries[1] = semaphore_try_acquire(sem, 1);
    semaphore_release(sem, 2);
    tries[2] = semaphore_try_acquire(sem, 1);
    ck_assert_ptr_null(semaphore_acquire(sem, ctx, 1));
    tries[3] = semaphore_try_acquire(sem, 1);
}

/* TestWeightedTryAcquire: [true, false, true, false]. */
START_TEST(weighted_try_acquire)
{
    memset(tries, 0, sizeof tries);
    ck_assert_int_eq(run_main(try_acquire_main, NULL), SCHED_DONE);
    ck_assert(tries[0]);
    ck_assert(!tries[1]);
    ck_assert(tries[2]);
    ck_assert(!tries[3]);
}
END_TEST

static bool timed_acquire(semaphore_t *sem, int64_t n)
{
    ctx_t *ctx = ctx_with_timeout(ctx_background(), 10 * SIM_MS);
    const go_error_t *err = semaphore_acquire(sem, ctx, n);
    ctx_cancel(ctx);
    return err == NULL;
}

static void acquire_main(void *arg)
{
    (void)arg;
    ctx_t *ctx = ctx_background();
    semaphore_t *sem = semaphore_new(2);
    ck_assert_ptr_null(semaphore_acquire(sem, ctx, 1));
    tries[0] = timed_acquire(sem, 1);
    simtime_t t0 = sched_now();
    tries[1] = timed_acquire(sem, 1); /* waits out its 10ms */
    ck_assert_int_eq(sched_now() - t0, 10 * SIM_MS);
    ck_assert_uint_eq(semaphore_waiters(sem), 0); /* it left the queue */
    semaphore_release(sem, 2);
    tries[2] = timed_acquire(sem, 1);
    ck_assert_ptr_null(semaphore_acquire(sem, ctx, 1));
    tries[3] = timed_acquire(sem, 1);
    ck_assert_int_eq(semaphore_held(sem), 2);
}

/* TestWeightedAcquire: the same with a 10ms timeout per acquire. */
START_TEST(weighted_acquire)
{
    memset(tries, 0, sizeof tries);
    ck_assert_int_eq(run_main(acquire_main, NULL), SCHED_DONE);
    ck_assert(tries[0]);
    ck_assert(!tries[1]);
    ck_assert(tries[2]);
    ck_assert(!tries[3]);
}
END_TEST

static struct {
    semaphore_t *sem;
    ctx_t *ctx;
    bool running;
    waitgroup_t *wg;
    const go_error_t *big_err;
    bool big_returned;
} tf;

static void too_big(void *arg)
{
    (void)arg;
    tf.big_err = semaphore_acquire(tf.sem, tf.ctx, 3);
    tf.big_returned = true;
}

static const go_error_t *small_acquire(void *arg)
{
    ctx_t *ctx = arg;
    const go_error_t *err = semaphore_acquire(tf.sem, ctx, 1);
    if (!err) {
        go_sleep(SIM_MS);
        semaphore_release(tf.sem, 1);
    }
    return err;
}

static void too_big_main(void *arg)
{
    (void)arg;
    tf.sem = semaphore_new(2);
    tf.ctx = ctx_with_cancel(ctx_background());
    g_t *big = go_spawn(too_big, NULL, "main.big");
    go_yield();
    /* Doomed: it waits on the context, not in the queue. */
    ck_assert_int_eq(go_wait_reason(big), WAIT_CHAN_RECV);
    ck_assert_uint_eq(semaphore_waiters(tf.sem), 0);
    ctx_t *gctx;
    errgroup_t *g = errgroup_with_context(ctx_background(), &gctx);
    for (int i = 2 * 3; i > 0; i--)
        errgroup_go(g, small_acquire, gctx);
    ck_assert_ptr_null(errgroup_wait(g));
    ck_assert(!tf.big_returned);
    ctx_cancel(tf.ctx);
    go_yield();
    ck_assert(tf.big_returned);
    ck_assert_ptr_eq(tf.big_err, &GO_ERR_CANCELED);
}

/* TestWeightedDoesntBlockIfTooBig. */
START_TEST(weighted_doesnt_block_if_too_big)
{
    memset(&tf, 0, sizeof tf);
    ck_assert_int_eq(run_main(too_big_main, NULL), SCHED_DONE);
}
END_TEST

#define LARGE_N 8

static void large_worker(void *arg)
{
    (void)arg;
    while (tf.running) {
        go_sleep(SIM_MS);
        semaphore_release(tf.sem, 1);
        ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx_background(), 1));
    }
    semaphore_release(tf.sem, 1);
    waitgroup_done(tf.wg);
}

static void large_main(void *arg)
{
    (void)arg;
    ctx_t *ctx = ctx_background();
    tf.sem = semaphore_new(LARGE_N);
    tf.running = true;
    tf.wg = waitgroup_new();
    waitgroup_add(tf.wg, LARGE_N);
    for (int i = LARGE_N; i > 0; i--) {
        ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx, 1));
        go_spawn(large_worker, NULL, "main.worker");
    }
    ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx, LARGE_N));
    /* The workers' releases go to the head of the queue first: the large
     * request is served after one round of 1ms sleeps. */
    ck_assert_int_eq(sched_now(), SIM_MS);
    tf.running = false;
    semaphore_release(tf.sem, LARGE_N);
    waitgroup_wait(tf.wg);
    ck_assert_int_eq(semaphore_held(tf.sem), 0);
}

/* TestLargeAcquireDoesntStarve: small requests keep one token free at all
 * times, yet the large request queued first is served. */
START_TEST(large_acquire_doesnt_starve)
{
    memset(&tf, 0, sizeof tf);
    ck_assert_int_eq(run_main(large_main, NULL), SCHED_DONE);
}
END_TEST

static void alloc_big(void *arg)
{
    (void)arg;
    tf.big_err = semaphore_acquire(tf.sem, tf.ctx, 10);
    tf.big_returned = true;
}

static void cancel_it(void *arg)
{
    ctx_cancel(arg);
}

static void alloc_cancel_main(void *arg)
{
    (void)arg;
    tf.sem = semaphore_new(10);
    ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx_background(), 1));
    tf.ctx = ctx_with_cancel(ctx_background());
    go_spawn(alloc_big, NULL, "main.big");
    /* Wait until the Acquire(10) blocks. */
    while (semaphore_try_acquire(tf.sem, 1)) {
        semaphore_release(tf.sem, 1);
        go_yield();
    }
    go_spawn(cancel_it, tf.ctx, "main.cancel");
    ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx_background(), 1));
    semaphore_release(tf.sem, 1);
    go_yield();
    ck_assert(tf.big_returned);
    ck_assert_ptr_eq(tf.big_err, &GO_ERR_CANCELED);
}

/* TestAllocCancelDoesntStarve: the cancelled head of the queue lets the
 * request behind it through. */
START_TEST(alloc_cancel_doesnt_starve)
{
    memset(&tf, 0, sizeof tf);
    ck_assert_int_eq(run_main(alloc_cancel_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- the rules one by one ---------------------------------------------- */

static void ctx_done_main(void *arg)
{
    (void)arg;
    semaphore_t *sem = semaphore_new(5);
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_cancel(c);
    /* Tokens are free, yet a done context fails at once. */
    ck_assert_ptr_eq(semaphore_acquire(sem, c, 1), &GO_ERR_CANCELED);
    ctx_t *d = ctx_with_timeout(ctx_background(), 0);
    ck_assert_ptr_eq(semaphore_acquire(sem, d, 1), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_int_eq(semaphore_held(sem), 0);
    ck_assert_int_eq(sched_now(), 0);
    ck_assert_int_eq(semaphore_size(sem), 5);
}

START_TEST(ctx_already_done_fails_at_once)
{
    ck_assert_int_eq(run_main(ctx_done_main, NULL), SCHED_DONE);
}
END_TEST

static struct {
    semaphore_t *sem;
    char order[16];
    int n;
} qf;

typedef struct req {
    char name;
    int64_t n;
} req_t;

static void queued_acquire(void *arg)
{
    req_t *r = arg;
    ck_assert_ptr_null(semaphore_acquire(qf.sem, ctx_background(), r->n));
    qf.order[qf.n++] = r->name;
}

static void fifo_main(void *arg)
{
    (void)arg;
    static req_t a = {'a', 2}, b = {'b', 2}, c = {'c', 1};
    qf.sem = semaphore_new(3);
    ck_assert_ptr_null(semaphore_acquire(qf.sem, ctx_background(), 3));
    g_t *ga = go_spawn(queued_acquire, &a, "main.a");
    go_spawn(queued_acquire, &b, "main.b");
    go_spawn(queued_acquire, &c, "main.c");
    go_yield();
    ck_assert_uint_eq(semaphore_waiters(qf.sem), 3);
    ck_assert_str_eq(wait_reason_string(go_wait_reason(ga)), "semacquire");
    semaphore_release(qf.sem, 3);
    /* a fits; b does not, and c (which would) stays behind it. */
    ck_assert_int_eq(semaphore_held(qf.sem), 2);
    ck_assert_uint_eq(semaphore_waiters(qf.sem), 2);
    ck_assert(!semaphore_try_acquire(qf.sem, 1)); /* waiters exist: no barging */
    go_yield();
    ck_assert_str_eq(qf.order, "a");
    semaphore_release(qf.sem, 2); /* b and then c */
    go_yield();
    ck_assert_str_eq(qf.order, "abc");
    ck_assert_int_eq(semaphore_held(qf.sem), 3);
}

START_TEST(fifo_stops_at_first_that_does_not_fit)
{
    memset(&qf, 0, sizeof qf);
    ck_assert_int_eq(run_main(fifo_main, NULL), SCHED_DONE);
}
END_TEST

static void barging_main(void *arg)
{
    (void)arg;
    static req_t big = {'B', 2}, small = {'s', 1};
    qf.sem = semaphore_new(2);
    ck_assert_ptr_null(semaphore_acquire(qf.sem, ctx_background(), 1));
    go_spawn(queued_acquire, &big, "main.big");
    go_yield();
    /* One token is free, but the big request waits first: a small Acquire
     * queues behind it instead of barging in. */
    go_spawn(queued_acquire, &small, "main.small");
    go_yield();
    ck_assert_uint_eq(semaphore_waiters(qf.sem), 2);
    ck_assert_int_eq(semaphore_held(qf.sem), 1);
    semaphore_release(qf.sem, 1);
    go_yield();
    ck_assert_str_eq(qf.order, "B");
    semaphore_release(qf.sem, 2);
    go_yield();
    ck_assert_str_eq(qf.order, "Bs");
}

START_TEST(no_barging)
{
    memset(&qf, 0, sizeof qf);
    ck_assert_int_eq(run_main(barging_main, NULL), SCHED_DONE);
}
END_TEST

static void cancel_waiter_acquire(void *arg)
{
    (void)arg;
    tf.big_err = semaphore_acquire(tf.sem, tf.ctx, 1);
    tf.big_returned = true;
}

static void cancel_while_waiting_main(void *arg)
{
    (void)arg;
    tf.sem = semaphore_new(1);
    ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx_background(), 1));
    tf.ctx = ctx_with_cancel(ctx_background());
    go_spawn(cancel_waiter_acquire, NULL, "main.waiter");
    go_yield();
    ck_assert_uint_eq(semaphore_waiters(tf.sem), 1);
    ctx_cancel(tf.ctx);
    go_sleep(SIM_MS);
    ck_assert(tf.big_returned);
    ck_assert_ptr_eq(tf.big_err, &GO_ERR_CANCELED);
    ck_assert_uint_eq(semaphore_waiters(tf.sem), 0);
    ck_assert_int_eq(semaphore_held(tf.sem), 1);
    semaphore_release(tf.sem, 1);
    ck_assert_int_eq(semaphore_held(tf.sem), 0);
}

START_TEST(ctx_done_while_waiting_leaves_queue)
{
    memset(&tf, 0, sizeof tf);
    ck_assert_int_eq(run_main(cancel_while_waiting_main, NULL), SCHED_DONE);
}
END_TEST

static void granted_then_cancelled_main(void *arg)
{
    (void)arg;
    tf.sem = semaphore_new(1);
    ck_assert_ptr_null(semaphore_acquire(tf.sem, ctx_background(), 1));
    tf.ctx = ctx_with_cancel(ctx_background());
    go_spawn(cancel_waiter_acquire, NULL, "main.waiter");
    go_yield();
    /* Both before the waiter runs again: it is granted the token, and its
     * context is done. Go returns ctx.Err() and puts the token back. */
    ctx_cancel(tf.ctx);
    semaphore_release(tf.sem, 1);
    ck_assert_int_eq(semaphore_held(tf.sem), 1); /* granted */
    go_sleep(SIM_MS);
    ck_assert(tf.big_returned);
    ck_assert_ptr_eq(tf.big_err, &GO_ERR_CANCELED);
    ck_assert_int_eq(semaphore_held(tf.sem), 0);
}

START_TEST(granted_while_cancelled_gives_back)
{
    memset(&tf, 0, sizeof tf);
    ck_assert_int_eq(run_main(granted_then_cancelled_main, NULL), SCHED_DONE);
}
END_TEST

static void acquire_forever(void *arg)
{
    (void)arg;
    semaphore_t *sem = semaphore_new(1);
    ck_assert_ptr_null(semaphore_acquire(sem, ctx_background(), 1));
    semaphore_acquire(sem, ctx_background(), 1);
}

START_TEST(blocked_acquire_is_asleep)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, acquire_forever, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_msg(strstr(sched_report(s), "goroutine 1 [semacquire]:\nmain.main()\n"), "%s",
                  sched_report(s));
    sched_destroy(s);
}
END_TEST

Suite *sema_suite(void)
{
    Suite *s = suite_create("sema");
    TCase *x = tcase_create("x_sync_tests");
    tcase_add_test(x, weighted_hammer);
    tcase_add_test(x, weighted_panic);
    tcase_add_test(x, weighted_try_acquire);
    tcase_add_test(x, weighted_acquire);
    tcase_add_test(x, weighted_doesnt_block_if_too_big);
    tcase_add_test(x, large_acquire_doesnt_starve);
    tcase_add_test(x, alloc_cancel_doesnt_starve);
    suite_add_tcase(s, x);
    TCase *q = tcase_create("semantics");
    tcase_add_test(q, ctx_already_done_fails_at_once);
    tcase_add_test(q, fifo_stops_at_first_that_does_not_fit);
    tcase_add_test(q, no_barging);
    tcase_add_test(q, ctx_done_while_waiting_leaves_queue);
    tcase_add_test(q, granted_while_cancelled_gives_back);
    tcase_add_test(q, blocked_acquire_is_asleep);
    suite_add_tcase(s, q);
    return s;
}

int main(void)
{
    return run_suite(sema_suite());
}
