/*
 * Channels and select: SEMANTICS.md sections A and B, item by item, and the
 * fairness tests of Go's runtime/chan_test.go.
 */
#include <math.h>

#include "testutil.h"

/* ---- A. channels ------------------------------------------------------- */

static void make_negative(void *arg) { (void)arg; chan_make(8, -1); }
static void make_huge(void *arg) { (void)arg; chan_make(1024, INT64_MAX / 2); }

START_TEST(a01_makechan_size_out_of_range)
{
    ck_assert_panics(make_negative, NULL, "makechan: size out of range");
    ck_assert_panics(make_huge, NULL, "makechan: size out of range");
}
END_TEST

static int a02_stage;
static void a02_sender(void *arg)
{
    chan_send_i64(arg, 42);
    a02_stage = 2; /* only after a receiver took the value */
}
static void a02_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    go_spawn(a02_sender, c, "sender");
    for (int i = 0; i < 5; i++)
        go_yield();
    ck_assert_int_eq(a02_stage, 0);
    ck_assert_uint_eq(chan_senders(c), 1);
    ck_assert_int_eq(chan_recv_i64(c, NULL), 42);
    go_yield();
    ck_assert_int_eq(a02_stage, 2);
}

START_TEST(a02_unbuffered_send_waits_for_receiver)
{
    ck_assert_int_eq(run_main(a02_main, NULL), SCHED_DONE);
}
END_TEST

static void a03_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 3);
    for (int64_t i = 1; i <= 3; i++)
        chan_send_i64(c, i);
    ck_assert_int_eq(chan_len(c), 3);
    ck_assert(!chan_try_send(c, &(int64_t){4}));
    for (int64_t i = 1; i <= 3; i++)
        ck_assert_int_eq(chan_recv_i64(c, NULL), i);
    ck_assert_int_eq(chan_len(c), 0);
}

START_TEST(a03_buffered_fifo)
{
    ck_assert_int_eq(run_main(a03_main, NULL), SCHED_DONE);
}
END_TEST

static int64_t a04_got[3];
static void a04_recv(void *arg)
{
    intptr_t k = (intptr_t)arg;
    extern chan_t *a04_c;
    a04_got[k] = chan_recv_i64(a04_c, NULL);
}
chan_t *a04_c;
static void a04_main(void *arg)
{
    (void)arg;
    a04_c = chan_make(sizeof(int64_t), 0);
    for (intptr_t k = 0; k < 3; k++) {
        go_spawn(a04_recv, (void *)k, "receiver");
        go_yield(); /* let it queue, in order */
    }
    for (int64_t v = 10; v < 13; v++)
        chan_send_i64(a04_c, v);
    go_yield();
}

START_TEST(a04_send_to_longest_waiting_receiver)
{
    ck_assert_int_eq(run_main(a04_main, NULL), SCHED_DONE);
    ck_assert_int_eq(a04_got[0], 10);
    ck_assert_int_eq(a04_got[1], 11);
    ck_assert_int_eq(a04_got[2], 12);
}
END_TEST

static int a05_sent;
static void a05_sender(void *arg)
{
    chan_send_i64(arg, 3);
    a05_sent = 1;
}
static void a05_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 2);
    chan_send_i64(c, 1);
    chan_send_i64(c, 2);
    go_spawn(a05_sender, c, "sender");
    go_yield();
    ck_assert_int_eq(a05_sent, 0);
    ck_assert_int_eq(chan_recv_i64(c, NULL), 1);
    ck_assert_int_eq(chan_len(c), 2); /* the sender's value moved into the tail */
    go_yield();
    ck_assert_int_eq(a05_sent, 1);
    ck_assert_int_eq(chan_recv_i64(c, NULL), 2);
    ck_assert_int_eq(chan_recv_i64(c, NULL), 3);
}

START_TEST(a05_full_buffer_with_blocked_sender_keeps_fifo)
{
    ck_assert_int_eq(run_main(a05_main, NULL), SCHED_DONE);
}
END_TEST

static void a07_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 5);
    chan_send_i64(c, 1);
    ck_assert_int_eq(chan_len(c), 1);
    ck_assert_int_eq(chan_cap(c), 5);
    ck_assert_int_eq(chan_len(NULL), 0);
    ck_assert_int_eq(chan_cap(NULL), 0);
    sim_timer_t *t = timer_new(SIM_MS);
    go_sleep(2 * SIM_MS);
    /* Fired and holding its value, yet len and cap read 0 (Go 1.23). */
    ck_assert_int_eq(chan_len(timer_chan(t)), 0);
    ck_assert_int_eq(chan_cap(timer_chan(t)), 0);
    bool ok;
    ck_assert(chan_try_recv(timer_chan(t), NULL, &ok));
    ck_assert(ok);
}

START_TEST(a07_len_and_cap)
{
    ck_assert_int_eq(run_main(a07_main, NULL), SCHED_DONE);
}
END_TEST

static void close_nil(void *arg) { (void)arg; chan_close(NULL); }
static void close_twice(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(0, 0);
    chan_close(c);
    chan_close(c);
}
static void send_closed(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 1);
    chan_close(c);
    chan_send_i64(c, 1);
}

START_TEST(a08_a10_close_and_send_panics)
{
    ck_assert_panics(close_nil, NULL, "close of nil channel");
    ck_assert_panics(close_twice, NULL, "close of closed channel");
    ck_assert_panics(send_closed, NULL, "send on closed channel");
}
END_TEST

static int a11_order[8], a11_n;
static void a11_recv(void *arg)
{
    extern chan_t *a11_c;
    bool ok = true;
    chan_recv_i64(a11_c, &ok);
    ck_assert(!ok);
    a11_order[a11_n++] = (int)(intptr_t)arg;
}
chan_t *a11_c;
static void a11_main(void *arg)
{
    (void)arg;
    a11_c = chan_make(sizeof(int64_t), 0);
    for (intptr_t k = 1; k <= 3; k++) {
        go_spawn(a11_recv, (void *)k, "receiver");
        go_yield();
    }
    chan_close(a11_c);
    for (int i = 0; i < 3; i++)
        go_yield();
}

START_TEST(a11_close_wakes_receivers_in_order)
{
    ck_assert_int_eq(run_main(a11_main, NULL), SCHED_DONE);
    ck_assert_int_eq(a11_n, 3);
    ck_assert_int_eq(a11_order[0], 1);
    ck_assert_int_eq(a11_order[1], 2);
    ck_assert_int_eq(a11_order[2], 3);
}
END_TEST

static void a11_blocked_sender(void *arg) { chan_send_i64(arg, 7); }
static void a11_sender_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    go_spawn(a11_blocked_sender, c, "main.sender");
    go_yield();
    chan_close(c);
    go_yield();
}

START_TEST(a11_close_makes_blocked_sender_panic)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, a11_sender_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_PANIC);
    ck_assert_str_eq(sched_failure_message(s), "send on closed channel");
    ck_assert_ptr_nonnull(strstr(sched_report(s), "goroutine 2 [running]:\nmain.sender()\ncreated by main.main in goroutine 1\n"));
    sched_destroy(s);
}
END_TEST

static void a12_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 2);
    chan_send_i64(c, 5);
    chan_send_i64(c, 6);
    chan_close(c);
    bool ok;
    ck_assert_int_eq(chan_recv_i64(c, &ok), 5);
    ck_assert(ok);
    ck_assert_int_eq(chan_recv_i64(c, &ok), 6);
    ck_assert(ok);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(chan_recv_i64(c, &ok), 0);
        ck_assert(!ok);
    }
}

START_TEST(a12_receive_on_closed_drains_then_zero)
{
    ck_assert_int_eq(run_main(a12_main, NULL), SCHED_DONE);
}
END_TEST

static void a13_recv_nil(void *arg) { (void)arg; chan_recv(NULL, NULL); }
static void a13_send_nil(void *arg) { (void)arg; chan_send_i64(NULL, 1); }
static void a13_try_nil(void *arg)
{
    (void)arg;
    ck_assert(!chan_try_send(NULL, &(int64_t){1}));
    ck_assert(!chan_try_recv(NULL, NULL, NULL));
}

static void assert_deadlock_with(void (*fn)(void *), const char *first_goroutine)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, fn, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    const char *head = "fatal error: all goroutines are asleep - deadlock!\n\n";
    ck_assert_msg(strncmp(sched_report(s), head, strlen(head)) == 0, "%s", sched_report(s));
    ck_assert_msg(strstr(sched_report(s), first_goroutine), "want %s in %s", first_goroutine,
                  sched_report(s));
    sched_destroy(s);
}

START_TEST(a13_nil_channel_blocks_forever)
{
    assert_deadlock_with(a13_recv_nil, "goroutine 1 [chan receive (nil chan)]:\nmain.main()\n");
    assert_deadlock_with(a13_send_nil, "goroutine 1 [chan send (nil chan)]:\nmain.main()\n");
    ck_assert_int_eq(run_main(a13_try_nil, NULL), SCHED_DONE);
}
END_TEST

static void a14_producer(void *arg)
{
    for (int64_t i = 1; i <= 10; i++)
        chan_send_i64(arg, i);
    chan_close(arg);
}
static void a14_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 3);
    go_spawn(a14_producer, c, "producer");
    int64_t sum = 0, v;
    int n = 0;
    while (chan_recv(c, &v)) { /* for v := range c */
        sum += v;
        n++;
    }
    ck_assert_int_eq(n, 10);
    ck_assert_int_eq(sum, 55);
}

START_TEST(a14_range_until_closed_and_drained)
{
    ck_assert_int_eq(run_main(a14_main, NULL), SCHED_DONE);
}
END_TEST

static void a16_main(void *arg)
{
    (void)arg;
    chan_t *b = chan_make(0, 4);
    chan_send(b, NULL);
    chan_send(b, NULL);
    ck_assert_int_eq(chan_len(b), 2);
    ck_assert(chan_recv(b, NULL));
    chan_t *u = chan_make(0, 0);
    ck_assert(!chan_try_send(u, NULL));
    chan_close(u);
    ck_assert(!chan_recv(u, NULL));
}

START_TEST(a16_zero_size_elements)
{
    ck_assert_int_eq(run_main(a16_main, NULL), SCHED_DONE);
}
END_TEST

static void a17_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    int64_t one = 1, got;
    select_case_t cs[2] = {
        {.ch = c, .dir = SELECT_SEND, .elem = &one},
        {.ch = c, .dir = SELECT_RECV, .elem = &got},
    };
    chan_select(cs, 2, false);
}

START_TEST(a17_no_rendezvous_with_self)
{
    assert_deadlock_with(a17_main, "goroutine 1 [select]:\n");
}
END_TEST

/* ---- B. select --------------------------------------------------------- */

static void b21_default(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    int64_t v;
    select_case_t cs[1] = {{.ch = c, .dir = SELECT_RECV, .elem = &v}};
    ck_assert_int_eq(chan_select(cs, 1, true), -1);
    chan_t *b = chan_make(sizeof(int64_t), 1);
    select_case_t ss[1] = {{.ch = b, .dir = SELECT_SEND, .elem = &(int64_t){9}}};
    ck_assert_int_eq(chan_select(ss, 1, true), 0);
    ck_assert_int_eq(chan_select(ss, 1, true), -1); /* now full */
}

START_TEST(b21_default_when_nothing_ready)
{
    ck_assert_int_eq(run_main(b21_default, NULL), SCHED_DONE);
}
END_TEST

/* TestSelectFairness: two always-ready channels among four cases. */
#define TRIALS 10000
static int fair_cnt[3];
typedef struct fair {
    chan_t *c1, *c2, *c3, *c4, *out, *done;
} fair_t;
static void fair_selector(void *arg)
{
    fair_t *f = arg;
    for (;;) {
        int64_t b = 0;
        select_case_t cs[4] = {
            {.ch = f->c3, .dir = SELECT_RECV, .elem = &b},
            {.ch = f->c4, .dir = SELECT_RECV, .elem = &b},
            {.ch = f->c1, .dir = SELECT_RECV, .elem = &b},
            {.ch = f->c2, .dir = SELECT_RECV, .elem = &b},
        };
        chan_select(cs, 4, false);
        select_case_t out[2] = {
            {.ch = f->out, .dir = SELECT_SEND, .elem = &b},
            {.ch = f->done, .dir = SELECT_RECV, .elem = NULL},
        };
        if (chan_select(out, 2, false) == 1)
            return;
    }
}
static void fair_main(void *arg)
{
    (void)arg;
    static fair_t f;
    f.c1 = chan_make(sizeof(int64_t), TRIALS + 1);
    f.c2 = chan_make(sizeof(int64_t), TRIALS + 1);
    for (int i = 0; i < TRIALS + 1; i++) {
        chan_send_i64(f.c1, 1);
        chan_send_i64(f.c2, 2);
    }
    f.c3 = chan_make(sizeof(int64_t), 0);
    f.c4 = chan_make(sizeof(int64_t), 0);
    f.out = chan_make(sizeof(int64_t), 0);
    f.done = chan_make(0, 0);
    go_spawn(fair_selector, &f, "selector");
    for (int i = 0; i < TRIALS; i++)
        fair_cnt[chan_recv_i64(f.out, NULL)]++;
    chan_close(f.done);
}

START_TEST(b28_select_fairness)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        fair_cnt[1] = fair_cnt[2] = 0;
        sched_config_t cfg = sched_config_default();
        cfg.seed = seed;
        sched_result_t r;
        sched_t *s = run_with(&cfg, fair_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        sched_destroy(s);
        double ratio = (double)fair_cnt[1] / TRIALS;
        double e = fabs(ratio - 0.5);
        double t = 10 * sqrt(0.25 / TRIALS);
        ck_assert_msg(e <= t, "unfair select: cnt1=%d cnt2=%d", fair_cnt[1], fair_cnt[2]);
        ck_assert_int_eq(fair_cnt[1] + fair_cnt[2], TRIALS);
    }
}
END_TEST

/* TestPseudoRandomSend: select{c<-1; c<-0} gives each value over 10%. */
static int prs_counts[2];
static void prs_recv(void *arg)
{
    for (int i = 0; i < 100; i++)
        prs_counts[chan_recv_i64(arg, NULL)]++;
}
static void prs_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    go_spawn(prs_recv, c, "receiver");
    for (int i = 0; i < 100; i++) {
        int64_t one = 1, zero = 0;
        select_case_t cs[2] = {
            {.ch = c, .dir = SELECT_SEND, .elem = &one},
            {.ch = c, .dir = SELECT_SEND, .elem = &zero},
        };
        chan_select(cs, 2, false);
    }
}

START_TEST(b28_pseudo_random_send)
{
    ck_assert_int_eq(run_main(prs_main, NULL), SCHED_DONE);
    ck_assert_int_gt(prs_counts[0], 10);
    ck_assert_int_gt(prs_counts[1], 10);
}
END_TEST

static void b24_empty(void *arg) { (void)arg; chan_select(NULL, 0, false); }
static void b24_only_nil(void *arg)
{
    (void)arg;
    select_case_t cs[2] = {{.ch = NULL, .dir = SELECT_RECV}, {.ch = NULL, .dir = SELECT_SEND}};
    chan_select(cs, 2, false);
}
static void b25_one_case(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    select_case_t cs[1] = {{.ch = c, .dir = SELECT_RECV}};
    chan_select(cs, 1, false);
}

START_TEST(b24_b25_select_wait_reasons)
{
    assert_deadlock_with(b24_empty, "goroutine 1 [select (no cases)]:\n");
    assert_deadlock_with(b24_only_nil, "goroutine 1 [select]:\n");
    assert_deadlock_with(b25_one_case, "goroutine 1 [chan receive]:\n");
}
END_TEST

static void b26_sender(void *arg) { chan_send_i64(arg, 1); }
static void b26_main(void *arg)
{
    (void)arg;
    chan_t *c1 = chan_make(sizeof(int64_t), 0);
    chan_t *c2 = chan_make(sizeof(int64_t), 0);
    go_spawn(b26_sender, c1, "sender");
    int64_t v = 0;
    select_case_t cs[3] = {
        {.ch = c1, .dir = SELECT_RECV, .elem = &v},
        {.ch = NULL, .dir = SELECT_RECV}, /* nil: never chosen, never queued */
        {.ch = c2, .dir = SELECT_RECV, .elem = &v},
    };
    ck_assert_int_eq(chan_select(cs, 3, false), 0);
    ck_assert_int_eq(v, 1);
    ck_assert(cs[0].ok);
    /* The select left c2's queue: a send on c2 now finds nobody. */
    ck_assert_uint_eq(chan_receivers(c2), 0);
    ck_assert(!chan_try_send(c2, &v));
}

START_TEST(b26_blocked_select_leaves_other_queues)
{
    ck_assert_int_eq(run_main(b26_main, NULL), SCHED_DONE);
}
END_TEST

static void b27_closed_send_case(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    chan_close(c);
    select_case_t cs[1] = {{.ch = c, .dir = SELECT_SEND, .elem = &(int64_t){1}}};
    chan_select(cs, 1, true);
}
static void b27_closer(void *arg) { chan_close(arg); }
static void b27_blocked_send_case(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    chan_t *d = chan_make(sizeof(int64_t), 0);
    go_spawn(b27_closer, c, "closer");
    select_case_t cs[2] = {
        {.ch = c, .dir = SELECT_SEND, .elem = &(int64_t){1}},
        {.ch = d, .dir = SELECT_RECV},
    };
    chan_select(cs, 2, false);
}
static void b27_closed_recv(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    chan_close(c);
    int64_t v = 5;
    select_case_t cs[2] = {{.ch = c, .dir = SELECT_RECV, .elem = &v}, {.ch = NULL, .dir = SELECT_RECV}};
    ck_assert_int_eq(chan_select(cs, 2, false), 0);
    ck_assert(!cs[0].ok);
    ck_assert_int_eq(v, 0);
}

START_TEST(b27_readiness_and_closed_cases)
{
    ck_assert_panics(b27_closed_send_case, NULL, "send on closed channel");
    ck_assert_panics(b27_blocked_send_case, NULL, "send on closed channel");
    ck_assert_int_eq(run_main(b27_closed_recv, NULL), SCHED_DONE);
}
END_TEST

/* TestSelectDuplicateChannel: the same channel in two cases. */
static void dup_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    chan_t *d = chan_make(sizeof(int64_t), 0);
    go_spawn(b26_sender, c, "sender");
    int64_t v = 0;
    select_case_t cs[3] = {
        {.ch = c, .dir = SELECT_RECV, .elem = &v},
        {.ch = d, .dir = SELECT_RECV, .elem = &v},
        {.ch = c, .dir = SELECT_RECV, .elem = &v},
    };
    int i = chan_select(cs, 3, false);
    ck_assert(i == 0 || i == 2);
    ck_assert_uint_eq(chan_receivers(c), 0);
}

START_TEST(b_select_duplicate_channel)
{
    ck_assert_int_eq(run_main(dup_main, NULL), SCHED_DONE);
}
END_TEST

Suite *chan_suite(void)
{
    Suite *s = suite_create("chan");
    TCase *a = tcase_create("channels");
    tcase_add_test(a, a01_makechan_size_out_of_range);
    tcase_add_test(a, a02_unbuffered_send_waits_for_receiver);
    tcase_add_test(a, a03_buffered_fifo);
    tcase_add_test(a, a04_send_to_longest_waiting_receiver);
    tcase_add_test(a, a05_full_buffer_with_blocked_sender_keeps_fifo);
    tcase_add_test(a, a07_len_and_cap);
    tcase_add_test(a, a08_a10_close_and_send_panics);
    tcase_add_test(a, a11_close_wakes_receivers_in_order);
    tcase_add_test(a, a11_close_makes_blocked_sender_panic);
    tcase_add_test(a, a12_receive_on_closed_drains_then_zero);
    tcase_add_test(a, a13_nil_channel_blocks_forever);
    tcase_add_test(a, a14_range_until_closed_and_drained);
    tcase_add_test(a, a16_zero_size_elements);
    tcase_add_test(a, a17_no_rendezvous_with_self);
    suite_add_tcase(s, a);
    TCase *b = tcase_create("select");
    tcase_add_test(b, b21_default_when_nothing_ready);
    tcase_add_test(b, b28_select_fairness);
    tcase_add_test(b, b28_pseudo_random_send);
    tcase_add_test(b, b24_b25_select_wait_reasons);
    tcase_add_test(b, b26_blocked_select_leaves_other_queues);
    tcase_add_test(b, b27_readiness_and_closed_cases);
    tcase_add_test(b, b_select_duplicate_channel);
    suite_add_tcase(s, b);
    return s;
}

int main(void)
{
    return run_suite(chan_suite());
}
