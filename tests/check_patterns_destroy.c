/*
 * patterns_destroy: every pattern's X_create has an X_destroy that gives
 * back, before sched_destroy, every core object the constructor made (its
 * channels, locks, wait groups, timers and the object itself), keeping only
 * its entities, which the view shows for the whole run. Each test counts
 * the live objects that are not entities before the constructor, after it
 * and after the destroyer; the ASan build checks that nothing is freed twice
 * when sched_destroy runs afterwards.
 */
#include "bounded.h"
#include "breaker.h"
#include "degradable_service.h"
#include "leak_detector.h"
#include "load_manager.h"
#include "pipeline.h"
#include "service.h"
#include "shutdown.h"
#include "testutil.h"
#include "worker_pool.h"

static void count_one(void *ud, obj_t *o)
{
    if (o->kind != OBJ_ENTITY)
        ++*(int *)ud;
}

/* Live objects of the running scheduler, entities left out. */
static int live(void)
{
    int n = 0;
    sched_each_object(sched_current(), count_one, &n);
    return n;
}

/* Live objects of one kind. */
typedef struct {
    trace_obj_kind_t kind;
    int n;
} kind_count_t;

static void count_kind(void *ud, obj_t *o)
{
    kind_count_t *k = ud;
    if (o->kind == k->kind)
        k->n++;
}

static int live_kind(trace_obj_kind_t kind)
{
    kind_count_t k = {kind, 0};
    sched_each_object(sched_current(), count_kind, &k);
    return k.n;
}

/* The run's metrics registry is made the first time a pattern registers a
 * series; make it before counting. */
static void warm_up(void)
{
    breaker_destroy(breaker_create("warm-up", NULL));
}

typedef struct {
    int before, made, after;
} counts_t;

static void check_counts(const counts_t *c)
{
    ck_assert_int_gt(c->made, c->before);
    ck_assert_int_eq(c->after, c->before);
}

#define DESTROY_TEST(name, body)                                                                   \
    static void name##_main(void *arg)                                                             \
    {                                                                                              \
        counts_t *c = arg;                                                                         \
        warm_up();                                                                                 \
        c->before = live();                                                                        \
        body                                                                                       \
    }                                                                                              \
    START_TEST(name)                                                                               \
    {                                                                                              \
        counts_t c = {0};                                                                          \
        ck_assert_int_eq(run_main(name##_main, &c), SCHED_DONE);                                     \
        check_counts(&c);                                                                          \
    }                                                                                              \
    END_TEST

DESTROY_TEST(bounded_executor_gives_back_its_objects, {
    bounded_executor_t *e = bounded_executor_create(3, SIM_SEC, "ex");
    c->made = live();
    bounded_executor_destroy(e);
    c->after = live();
})

DESTROY_TEST(breaker_gives_back_its_objects, {
    breaker_t *cb = breaker_create("cb", NULL);
    c->made = live();
    breaker_destroy(cb);
    c->after = live();
})

DESTROY_TEST(load_manager_gives_back_its_objects, {
    load_manager_t *lm = load_manager_create();
    load_manager_update_metrics(lm, 90, 10, 10, 0); /* a change: its history is allocated */
    c->made = live();
    load_manager_destroy(lm);
    c->after = live();
})

DESTROY_TEST(degradable_service_gives_back_its_objects, {
    degradable_service_t *s = degradable_service_create(NULL);
    c->made = live();
    degradable_service_destroy(s);
    c->after = live();
})

DESTROY_TEST(leak_detector_gives_back_its_objects, {
    leak_detector_t *ld = leak_detector_create(SIM_SEC, 1.5, 5, NULL);
    c->made = live();
    leak_detector_destroy(ld);
    c->after = live();
})

static chan_t *pass(ctx_t *ctx, chan_t *in, void *arg)
{
    (void)ctx;
    (void)arg;
    return in;
}

DESTROY_TEST(pipeline_gives_back_its_objects, {
    pipeline_stage_t st;
    st.fn = pass;
    st.arg = NULL;
    pipeline_t *p = pipeline_create(&st, 1);
    c->made = live();
    pipeline_destroy(p);
    c->after = live();
})

DESTROY_TEST(service_gives_back_its_objects, {
    service_t *s = service_create("db", 10 * SIM_MS, NULL, 0);
    c->made = live();
    service_destroy(s);
    c->after = live();
})

DESTROY_TEST(shutdown_and_server_give_back_their_objects, {
    shutdown_t *gs = shutdown_create(SIM_SEC, NULL);
    shutdown_server_t *srv = shutdown_server_create(":8080", gs, NULL);
    c->made = live();
    shutdown_server_destroy(srv);
    shutdown_destroy(gs);
    c->after = live();
})

/* The pool's goroutines make objects of their own (each worker's argument,
 * the autoscaler's ticker) that stay with the scheduler, as Go leaves them
 * to the collector; what the constructor made must all go. */
static void worker_pool_main(void *arg)
{
    int *freed = arg;
    warm_up();
    ctx_t *ctx = ctx_with_cancel(ctx_background());
    worker_pool_t *p = worker_pool_create(ctx, NULL);
    worker_pool_shutdown(p);
    go_sleep(10 * SIM_SEC); /* the autoscaler and the workers return */
    static const trace_obj_kind_t kinds[] = {OBJ_CHAN, OBJ_MUTEX, OBJ_WAITGROUP, OBJ_NONE};
    int before[4];
    for (int i = 0; i < 4; i++)
        before[i] = live_kind(kinds[i]);
    worker_pool_destroy(p);
    for (int i = 0; i < 4; i++)
        freed[i] = before[i] - live_kind(kinds[i]);
    ctx_cancel(ctx);
}

START_TEST(worker_pool_gives_back_its_objects_after_shutdown)
{
    int freed[4] = {0};
    ck_assert_int_eq(run_main(worker_pool_main, freed), SCHED_DONE);
    ck_assert_int_eq(freed[0], 3); /* job queue, result queue, stop channel */
    ck_assert_int_eq(freed[1], 1); /* its lock */
    ck_assert_int_eq(freed[2], 1); /* the workers' wait group */
    ck_assert_int_eq(freed[3], 1); /* the pool */
}
END_TEST

DESTROY_TEST(destroy_ignores_null, {
    c->made = c->before + 1;
    bounded_executor_destroy(NULL);
    breaker_destroy(NULL);
    load_manager_destroy(NULL);
    degradable_service_destroy(NULL);
    leak_detector_destroy(NULL);
    pipeline_destroy(NULL);
    service_destroy(NULL);
    shutdown_destroy(NULL);
    shutdown_server_destroy(NULL);
    worker_pool_destroy(NULL);
    c->after = live();
})

int main(void)
{
    Suite *s = suite_create("patterns_destroy");
    TCase *tc = tcase_create("destroy");
    tcase_add_test(tc, bounded_executor_gives_back_its_objects);
    tcase_add_test(tc, breaker_gives_back_its_objects);
    tcase_add_test(tc, load_manager_gives_back_its_objects);
    tcase_add_test(tc, degradable_service_gives_back_its_objects);
    tcase_add_test(tc, leak_detector_gives_back_its_objects);
    tcase_add_test(tc, pipeline_gives_back_its_objects);
    tcase_add_test(tc, service_gives_back_its_objects);
    tcase_add_test(tc, shutdown_and_server_give_back_their_objects);
    tcase_add_test(tc, worker_pool_gives_back_its_objects_after_shutdown);
    tcase_add_test(tc, destroy_ignores_null);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
