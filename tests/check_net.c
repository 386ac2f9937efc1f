/*
 * The simulated network: delivery times, loss, partitions, crashes,
 * pauses, restarts, clocks and bandwidth, all on the simulated clock.
 */
#include "net.h"
#include "testutil.h"

static net_cluster_t *c;
static net_node_t *a, *b;
static simtime_t got_at[16];
static int64_t got_val[16];
static int ngot;

static void free_i64(void *p) { free(p); }

static void send_i64(net_node_t *src, net_node_t *dst, int64_t v)
{
    int64_t *p = malloc(sizeof *p);
    *p = v;
    net_send(src, dst, 1, p, 100, free_i64);
}

/* b's boot: record every message of port 1 with its arrival time. */
static void receiver(net_node_t *n, void *arg)
{
    (void)arg;
    chan_t *in = net_node_inbox(n, 1);
    for (;;) {
        net_msg_t *m;
        chan_recv(in, &m);
        got_at[ngot] = sched_now();
        got_val[ngot] = *(int64_t *)m->payload;
        ngot++;
        net_msg_release(m);
    }
}

static void setup_pair(void)
{
    c = net_cluster_new("test");
    a = net_cluster_add_node(c, "a");
    b = net_cluster_add_node(c, "b");
    net_node_set_boot(b, receiver, NULL);
    net_node_start(a);
    net_node_start(b);
    go_yield(); /* let b's boot goroutine reach its inbox */
    ngot = 0;
}

static void latency_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_link_cfg_t l = net_link_cfg_default();
    l.latency = 20 * SIM_MS;
    net_cluster_set_link(c, a, b, &l);
    send_i64(a, b, 7);
    go_sleep(SIM_SEC);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got_at[0], 20 * SIM_MS);
    ck_assert_int_eq(got_val[0], 7);
    net_stats_t st = net_cluster_stats(c);
    ck_assert_uint_eq(st.sent, 1);
    ck_assert_uint_eq(st.delivered, 1);
}

START_TEST(delivery_after_the_link_latency)
{
    ck_assert_int_eq(run_main(latency_main, NULL), SCHED_DONE);
}
END_TEST

static void partition_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_cluster_partition(c, &a, 1, &b, 1, true); /* a -> b cut only */
    send_i64(a, b, 1);
    go_sleep(10 * SIM_MS);
    ck_assert_int_eq(ngot, 0);
    ck_assert(net_cluster_cut(c, a, b));
    ck_assert(!net_cluster_cut(c, b, a));
    /* A message in flight when the partition starts is lost. */
    net_cluster_heal(c);
    send_i64(a, b, 2);
    net_cluster_isolate(c, b);
    go_sleep(10 * SIM_MS);
    ck_assert_int_eq(ngot, 0);
    net_cluster_heal(c);
    send_i64(a, b, 3);
    go_sleep(10 * SIM_MS);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got_val[0], 3);
    ck_assert_uint_eq(net_cluster_stats(c).cut, 2);
}

START_TEST(partitions_cut_messages_at_delivery)
{
    ck_assert_int_eq(run_main(partition_main, NULL), SCHED_DONE);
}
END_TEST

static void crash_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_node_crash(b);
    ck_assert(!net_node_up(b));
    send_i64(a, b, 1);
    go_sleep(10 * SIM_MS);
    ck_assert_int_eq(ngot, 0);
    ck_assert_uint_eq(net_cluster_stats(c).dropped_down, 1);
    net_node_restart(b); /* boots a fresh receiver */
    ck_assert_uint_eq(net_node_incarnation(b), 1);
    go_yield();
    send_i64(a, b, 2);
    go_sleep(10 * SIM_MS);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got_val[0], 2);
}

START_TEST(crash_loses_messages_restart_boots_again)
{
    ck_assert_int_eq(run_main(crash_main, NULL), SCHED_DONE);
}
END_TEST

static void pause_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_node_pause(b);
    send_i64(a, b, 1);
    go_sleep(100 * SIM_MS);
    ck_assert_int_eq(ngot, 0); /* delivered to the inbox, not processed */
    net_node_resume(b);
    go_yield();
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got_at[0], 100 * SIM_MS); /* processed on resume */
}

START_TEST(a_paused_node_processes_on_resume)
{
    ck_assert_int_eq(run_main(pause_main, NULL), SCHED_DONE);
}
END_TEST

static void loss_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_link_cfg_t l = net_link_cfg_default();
    l.loss_ppm = 250000; /* 25% */
    net_cluster_set_default_link(c, &l);
    for (int i = 0; i < 400; i++) {
        int64_t *p = malloc(sizeof *p);
        *p = i;
        net_send(a, b, 2, p, 8, free_i64); /* port 2: nobody reads, just count */
    }
    go_sleep(SIM_SEC);
    net_stats_t st = net_cluster_stats(c);
    ck_assert_uint_eq(st.sent, 400);
    ck_assert_uint_eq(st.lost + st.delivered, 400);
    /* 100 expected; a binomial sd of about 8.7 */
    ck_assert_uint_gt(st.lost, 60);
    ck_assert_uint_lt(st.lost, 140);
}

START_TEST(loss_rate_as_configured)
{
    ck_assert_int_eq(run_main(loss_main, NULL), SCHED_DONE);
}
END_TEST

static void bandwidth_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_link_cfg_t l = net_link_cfg_default();
    l.latency = 0;
    l.bandwidth_bps = 1000; /* 100-byte messages take 100ms each */
    net_cluster_set_link(c, a, b, &l);
    send_i64(a, b, 1);
    send_i64(a, b, 2);
    go_sleep(SIM_SEC);
    ck_assert_int_eq(ngot, 2);
    ck_assert_int_eq(got_at[0], 100 * SIM_MS);
    ck_assert_int_eq(got_at[1], 200 * SIM_MS);
}

START_TEST(bandwidth_serialises_messages)
{
    ck_assert_int_eq(run_main(bandwidth_main, NULL), SCHED_DONE);
}
END_TEST

static void clock_main(void *arg)
{
    (void)arg;
    setup_pair();
    net_node_set_clock(a, 5 * SIM_SEC, 100000); /* +5s, and 10% fast */
    go_sleep(SIM_SEC);
    ck_assert_int_eq(net_node_clock(a), SIM_SEC + 5 * SIM_SEC + SIM_SEC / 10);
    ck_assert_int_eq(net_node_clock(b), SIM_SEC);
    simtime_t t0 = sched_now();
    net_node_sleep(a, 1100 * SIM_MS); /* 1.1s of a's time is 1s of true time */
    ck_assert_int_eq(sched_now() - t0, SIM_SEC);
}

START_TEST(node_clocks_offset_and_drift)
{
    ck_assert_int_eq(run_main(clock_main, NULL), SCHED_DONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("network");
    tcase_add_test(tc, delivery_after_the_link_latency);
    tcase_add_test(tc, partitions_cut_messages_at_delivery);
    tcase_add_test(tc, crash_loses_messages_restart_boots_again);
    tcase_add_test(tc, a_paused_node_processes_on_resume);
    tcase_add_test(tc, loss_rate_as_configured);
    tcase_add_test(tc, bandwidth_serialises_messages);
    tcase_add_test(tc, node_clocks_offset_and_drift);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
