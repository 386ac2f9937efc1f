/*
 * errgroup: SEMANTICS.md item 67, golang.org/x/sync/errgroup, with the
 * tests of its errgroup_test.go ported to simulated time (TestZeroGroup,
 * TestWithContext, TestGoLimit, TestTryGo) plus the limit's panics and
 * blocking.
 */
#include "ctx.h"
#include "errgroup.h"
#include "testutil.h"

static const go_error_t *ok_fn(void *arg)
{
    (void)arg;
    go_sleep(SIM_MS);
    return NULL;
}

/* Returns the error in arg after (its index) ms. */
typedef struct delayed {
    simtime_t after;
    const go_error_t *err;
} delayed_t;

static const go_error_t *delayed_fn(void *arg)
{
    delayed_t *d = arg;
    go_sleep(d->after);
    return d->err;
}

static void zero_group_main(void *arg)
{
    (void)arg;
    const go_error_t *e1 = go_errorf("errgroup_test: 1");
    const go_error_t *e2 = go_errorf("errgroup_test: 2");
    /* TestZeroGroup's cases: the first error in time order wins. */
    struct {
        delayed_t d[3];
        int n;
        const go_error_t *want;
    } cases[] = {
        {{{0, NULL}}, 1, NULL},
        {{{0, e1}}, 1, e1},
        {{{SIM_MS, NULL}, {2 * SIM_MS, e1}, {3 * SIM_MS, NULL}}, 3, e1},
        {{{2 * SIM_MS, e1}, {SIM_MS, e2}}, 2, e2},
        {{{SIM_MS, e1}, {2 * SIM_MS, e2}}, 2, e1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errgroup_t *g = errgroup_new();
        for (int k = 0; k < cases[i].n; k++)
            errgroup_go(g, delayed_fn, &cases[i].d[k]);
        ck_assert_int_eq(errgroup_active(g), cases[i].n);
        ck_assert_ptr_eq(errgroup_wait(g), cases[i].want);
        ck_assert_int_eq(errgroup_active(g), 0);
    }
}

START_TEST(zero_group)
{
    ck_assert_int_eq(run_main(zero_group_main, NULL), SCHED_DONE);
}
END_TEST

static const go_error_t *wait_for_ctx(void *arg)
{
    ctx_t *ctx = arg;
    chan_recv(ctx_done(ctx), NULL);
    return ctx_err(ctx);
}

static void with_context_main(void *arg)
{
    (void)arg;
    const go_error_t *e = go_errorf("errgroup_test: boom");
    ctx_t *ctx;
    errgroup_t *g = errgroup_with_context(ctx_background(), &ctx);
    ck_assert_ptr_null(ctx_err(ctx));
    static delayed_t d;
    d.after = 2 * SIM_MS;
    d.err = e;
    errgroup_go(g, wait_for_ctx, ctx);
    errgroup_go(g, wait_for_ctx, ctx);
    errgroup_go(g, delayed_fn, &d);
    go_sleep(SIM_MS);
    ck_assert_ptr_null(ctx_err(ctx));
    ck_assert_ptr_eq(errgroup_wait(g), e); /* not the Canceled of the others */
    ck_assert_int_eq(sched_now(), 2 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(ctx), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(ctx_cause(ctx), e);

    /* Without an error, Wait still cancels the context (cause Canceled). */
    ctx_t *ctx2;
    errgroup_t *g2 = errgroup_with_context(ctx_background(), &ctx2);
    errgroup_go(g2, ok_fn, NULL);
    ck_assert_ptr_null(errgroup_wait(g2));
    ck_assert_ptr_eq(ctx_err(ctx2), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(ctx_cause(ctx2), &GO_ERR_CANCELED);
}

/* TestWithContext: the first error cancels the context with it as cause. */
START_TEST(with_context_first_error_cancels)
{
    ck_assert_int_eq(run_main(with_context_main, NULL), SCHED_DONE);
}
END_TEST

#define GO_LIMIT 10

static struct {
    int active, max_active;
} lf;

static const go_error_t *limited_fn(void *arg)
{
    (void)arg;
    int n = ++lf.active;
    if (n > lf.max_active)
        lf.max_active = n;
    if (n > GO_LIMIT)
        return go_errorf("saw %d active goroutines; want <= %d", n, GO_LIMIT);
    go_sleep(SIM_US); /* give the others a chance to increment active */
    lf.active--;
    return NULL;
}

static void go_limit_main(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    errgroup_set_limit(g, GO_LIMIT);
    for (int i = 0; i <= 1 << 10; i++) {
        errgroup_go(g, limited_fn, NULL);
        ck_assert_int_le(errgroup_active(g), GO_LIMIT);
    }
    const go_error_t *err = errgroup_wait(g);
    ck_assert_msg(err == NULL, "%s", go_error_msg(err));
}

/* TestGoLimit: never more than 10 active. */
START_TEST(go_limit)
{
    for (int p = 0; p < 2; p++) {
        memset(&lf, 0, sizeof lf);
        sched_config_t cfg = sched_config_default();
        cfg.policy = p ? SCHED_RANDOM : SCHED_FIFO;
        sched_result_t r;
        sched_t *s = run_with(&cfg, go_limit_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        sched_destroy(s);
        ck_assert_int_eq(lf.max_active, GO_LIMIT);
    }
}
END_TEST

static chan_t *try_ch;

static const go_error_t *send_fn(void *arg)
{
    (void)arg;
    chan_send(try_ch, NULL);
    return NULL;
}

static void drain(void *arg)
{
    for (intptr_t i = 0; i < (intptr_t)arg; i++)
        chan_recv(try_ch, NULL);
}

static void try_go_main(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    const int n = 42;
    errgroup_set_limit(g, 42);
    try_ch = chan_make(0, 0);
    for (int i = 0; i < n; i++)
        ck_assert_msg(errgroup_try_go(g, send_fn, NULL), "TryGo failed at call %d", i);
    ck_assert(!errgroup_try_go(g, send_fn, NULL));
    go_spawn(drain, (void *)(intptr_t)n, "main.drain");
    errgroup_wait(g);

    ck_assert(errgroup_try_go(g, send_fn, NULL));
    go_spawn(drain, (void *)(intptr_t)1, "main.drain");
    errgroup_wait(g);

    /* Switch limit. */
    errgroup_set_limit(g, 1);
    ck_assert(errgroup_try_go(g, send_fn, NULL));
    ck_assert(!errgroup_try_go(g, send_fn, NULL));
    go_spawn(drain, (void *)(intptr_t)1, "main.drain");
    errgroup_wait(g);

    /* Block all calls. */
    errgroup_set_limit(g, 0);
    for (int i = 0; i < 1 << 10; i++)
        ck_assert(!errgroup_try_go(g, send_fn, NULL));
    errgroup_wait(g);

    /* No limit. */
    errgroup_set_limit(g, -1);
    for (int i = 0; i < 100; i++)
        ck_assert(errgroup_try_go(g, ok_fn, NULL));
    ck_assert_int_eq(errgroup_active(g), 100);
    ck_assert_ptr_null(errgroup_wait(g));
}

/* TestTryGo, then an unlimited group. */
START_TEST(try_go)
{
    ck_assert_int_eq(run_main(try_go_main, NULL), SCHED_DONE);
}
END_TEST

/* Named goroutines: the name given, or Go's errgroup.(*Group).Go.func1. */
static void named_main(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    g_t *a = errgroup_go_named(g, ok_fn, NULL, "fetcher");
    ck_assert_str_eq(go_name(a), "fetcher");
    g_t *b = errgroup_go_named(g, ok_fn, NULL, NULL);
    ck_assert_str_eq(go_name(b), "errgroup.(*Group).Go.func1");
    errgroup_set_limit(g, -1);
    ck_assert_ptr_null(errgroup_wait(g));
    errgroup_set_limit(g, 1);
    g_t *c = errgroup_try_go_named(g, ok_fn, NULL, "indexer");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(go_name(c), "indexer");
    ck_assert_ptr_null(errgroup_try_go_named(g, ok_fn, NULL, "refused")); /* at the limit */
    ck_assert_ptr_null(errgroup_wait(g));
}

START_TEST(go_named)
{
    ck_assert_int_eq(run_main(named_main, NULL), SCHED_DONE);
}
END_TEST

static void set_limit_active(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    errgroup_set_limit(g, 2);
    errgroup_go(g, ok_fn, NULL);
    errgroup_set_limit(g, 3);
}

static void set_limit_negative_active(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    errgroup_set_limit(g, 2);
    errgroup_go(g, ok_fn, NULL);
    errgroup_set_limit(g, -1); /* allowed: no channel to check */
    errgroup_go(g, ok_fn, NULL);
    ck_assert_int_eq(errgroup_active(g), 2);
    ck_assert_ptr_null(errgroup_wait(g));
}

START_TEST(set_limit_while_active_panics)
{
    ck_assert_panics(set_limit_active, NULL,
                     "errgroup: modify limit while 1 goroutines in the group are still active");
    ck_assert_int_eq(run_main(set_limit_negative_active, NULL), SCHED_DONE);
}
END_TEST

static simtime_t third_started;

static const go_error_t *stamp_fn(void *arg)
{
    (void)arg;
    third_started = sched_now();
    return NULL;
}

static void go_blocks_main(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    errgroup_set_limit(g, 2);
    errgroup_go(g, ok_fn, NULL);
    errgroup_go(g, ok_fn, NULL);
    errgroup_go(g, stamp_fn, NULL); /* blocks until one returns, at 1ms */
    ck_assert_int_eq(sched_now(), SIM_MS);
    ck_assert_ptr_null(errgroup_wait(g));
    ck_assert_int_eq(third_started, SIM_MS);
}

static void go_blocked_forever(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    errgroup_set_limit(g, 0);
    errgroup_go(g, ok_fn, NULL);
}

START_TEST(go_blocks_at_limit)
{
    ck_assert_int_eq(run_main(go_blocks_main, NULL), SCHED_DONE);
    /* SetLimit(0): Go blocks every call ("chan send" on the token channel). */
    sched_result_t r;
    sched_t *s = run_with(NULL, go_blocked_forever, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_msg(strstr(sched_report(s), "goroutine 1 [chan send]:\n"), "%s", sched_report(s));
    sched_destroy(s);
}
END_TEST

static void wait_reason_main(void *arg)
{
    (void)arg;
    errgroup_t *g = errgroup_new();
    errgroup_go(g, ok_fn, NULL);
    errgroup_wait(g);
    g = errgroup_new();
    errgroup_go(g, wait_for_ctx, ctx_background()); /* Done is nil: forever */
    errgroup_wait(g);
}

START_TEST(wait_blocks_in_waitgroup)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, wait_reason_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_msg(strstr(sched_report(s), "goroutine 1 [sync.WaitGroup.Wait]:\n"), "%s",
                  sched_report(s));
    ck_assert_msg(strstr(sched_report(s), "[chan receive (nil chan)]:\nerrgroup.(*Group).Go.func1()\n"),
                  "%s", sched_report(s));
    sched_destroy(s);
}
END_TEST

Suite *errgroup_suite(void)
{
    Suite *s = suite_create("errgroup");
    TCase *x = tcase_create("x_sync_tests");
    tcase_add_test(x, zero_group);
    tcase_add_test(x, with_context_first_error_cancels);
    tcase_add_test(x, go_limit);
    tcase_add_test(x, try_go);
    tcase_add_test(x, go_named);
    suite_add_tcase(s, x);
    TCase *l = tcase_create("limits");
    tcase_add_test(l, set_limit_while_active_panics);
    tcase_add_test(l, go_blocks_at_limit);
    tcase_add_test(l, wait_blocks_in_waitgroup);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    return run_suite(errgroup_suite());
}
