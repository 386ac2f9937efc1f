/*
 * Goroutine groups (simulated processes): freeze holds a group's goroutines
 * and thaw runs them on; kill ends them for good.
 */
#include "testutil.h"

static ggroup_t *grp;
static int ticks;

static void ticker_loop(void *arg)
{
    (void)arg;
    for (;;) {
        go_sleep(10 * SIM_MS);
        ticks++;
    }
}

static void freeze_main(void *arg)
{
    (void)arg;
    grp = ggroup_new("node-1");
    g_t *g = go_spawn(ticker_loop, NULL, "ticker");
    go_set_group(g, grp);
    go_sleep(55 * SIM_MS);
    ck_assert_int_eq(ticks, 5);
    ggroup_freeze(grp);
    go_sleep(100 * SIM_MS);
    ck_assert_int_eq(ticks, 5); /* paused: its timer fired, it did not run */
    ggroup_thaw(grp);
    go_yield();
    ck_assert_int_eq(ticks, 6); /* the held wake-up runs on resume */
    go_sleep(52 * SIM_MS); /* ticks at 165, 175, ..., 205 ms */
    ck_assert_int_eq(ticks, 11);
    ck_assert_uint_eq(ggroup_alive(grp), 1);
    ck_assert_uint_eq(ggroup_kill(grp), 1);
    ck_assert_uint_eq(ggroup_alive(grp), 0);
    go_sleep(100 * SIM_MS);
    ck_assert_int_eq(ticks, 11); /* crashed: never runs again */
    ck_assert_uint_eq(ggroup_generation(grp), 1);
}

START_TEST(freeze_thaw_kill)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, freeze_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_uint_eq(sched_goroutines_alive(s), 0);
    sched_destroy(s);
}
END_TEST

static chan_t *inbox;
static void waiter(void *arg)
{
    (void)arg;
    chan_recv(inbox, NULL);
    ck_abort_msg("a killed goroutine ran");
}

static void killed_waiter_main(void *arg)
{
    (void)arg;
    grp = ggroup_new("node-2");
    inbox = chan_make(sizeof(int64_t), 0);
    g_t *g = go_spawn(waiter, NULL, "waiter");
    go_set_group(g, grp);
    go_yield();
    ggroup_kill(grp);
    char dump[4096];
    sched_dump(sched_current(), dump, sizeof dump);
    ck_assert_ptr_null(strstr(dump, "waiter"));
    /* The dead receiver still sits in the channel's queue: the value is
     * lost with it, as a message to a crashed process is. */
    chan_send_i64(inbox, 1);
    go_yield();
}

START_TEST(killed_goroutines_never_run)
{
    ck_assert_int_eq(run_main(killed_waiter_main, NULL), SCHED_DONE);
}
END_TEST

static void self_kill(void *arg)
{
    (void)arg;
    ggroup_kill(go_group(go_self()));
    /* runs on until it blocks, then never again */
    go_sleep(SIM_MS);
    ck_abort_msg("resumed after its own crash");
}

static void self_kill_main(void *arg)
{
    (void)arg;
    grp = ggroup_new("node-3");
    g_t *g = go_spawn(self_kill, NULL, "suicidal");
    go_set_group(g, grp);
    go_sleep(10 * SIM_MS);
    ck_assert_uint_eq(sched_goroutines_alive(sched_current()), 1);
}

START_TEST(a_group_can_kill_itself)
{
    ck_assert_int_eq(run_main(self_kill_main, NULL), SCHED_DONE);
}
END_TEST

static void child(void *arg)
{
    (void)arg;
    ck_assert_ptr_eq(go_group(go_self()), grp);
}

static void parent(void *arg)
{
    (void)arg;
    go_spawn(child, NULL, "child");
}

static void inherit_main(void *arg)
{
    (void)arg;
    grp = ggroup_new("node-4");
    go_set_group(go_spawn(parent, NULL, "parent"), grp);
    go_sleep(SIM_MS);
    ck_assert_ptr_null(go_group(go_self()));
}

START_TEST(children_inherit_the_group)
{
    ck_assert_int_eq(run_main(inherit_main, NULL), SCHED_DONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group");
    TCase *tc = tcase_create("semantics");
    tcase_add_test(tc, freeze_thaw_kill);
    tcase_add_test(tc, killed_goroutines_never_run);
    tcase_add_test(tc, a_group_can_kill_itself);
    tcase_add_test(tc, children_inherit_the_group);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
