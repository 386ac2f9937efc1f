/*
 * The scheduler: determinism (same seed, same trace; different seeds,
 * different interleavings), record and replay, the FIFO and PCT policies,
 * golden trace hashes that every build must reproduce (-O2 and the -O0
 * sanitizer build check the same constants), Go's deadlock report, the
 * stack-overflow report, 100,000 goroutines, Gosched order, the time limit
 * and sched_exit.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "coro.h"
#include "sync.h"
#include "testutil.h"

/* ---- a racy program ---------------------------------------------------- */

/* RACY_G goroutines each increment a shared counter RACY_N times with a
 * Gosched between the read and the write, so updates are lost depending on
 * the interleaving. Each step is recorded in a text log and as a user event
 * in the trace. */
#define RACY_G 4
#define RACY_N 8

typedef struct racy {
    int64_t counter;   /* the shared variable */
    char log[4096];    /* "g2:0 g3:0 g2:1 ..." (goroutine:value read) */
    size_t len;        /* bytes used in log */
} racy_t;

static racy_t racy;

static void racy_worker(void *arg)
{
    chan_t *done = arg;
    for (int i = 0; i < RACY_N; i++) {
        int64_t v = racy.counter;
        racy.len += (size_t)snprintf(racy.log + racy.len, sizeof racy.log - racy.len, "g%llu:%lld ",
                                     (unsigned long long)go_id(go_self()), (long long)v);
        sched_emit(EV_USER, 0, v, 0, "read");
        go_yield();
        racy.counter = v + 1;
    }
    chan_send(done, NULL);
}

static void racy_main(void *arg)
{
    (void)arg;
    /* Wait by blocking, not by polling: under PCT a polling main with the
     * highest priority would never let the workers run. */
    chan_t *done = chan_make(0, RACY_G);
    for (int i = 0; i < RACY_G; i++)
        go_spawn(racy_worker, done, "main.worker");
    for (int i = 0; i < RACY_G; i++)
        chan_recv(done, NULL);
}

typedef struct run_out {
    sched_result_t result;
    uint64_t hash, events, steps;
    int64_t counter;
    char log[4096];
} run_out_t;

static run_out_t run_racy(const sched_config_t *cfg, uint32_t **decisions, size_t *ndecisions)
{
    memset(&racy, 0, sizeof racy);
    run_out_t o;
    sched_t *s = run_with(cfg, racy_main, NULL, &o.result);
    o.hash = sched_trace_hash(s);
    o.events = sched_trace_events(s);
    o.steps = sched_steps(s);
    o.counter = racy.counter;
    memcpy(o.log, racy.log, sizeof o.log);
    if (decisions) {
        size_t n;
        const uint32_t *d = sched_decisions(s, &n);
        *decisions = malloc((n ? n : 1) * sizeof **decisions);
        ck_assert_ptr_nonnull(*decisions);
        if (n)
            memcpy(*decisions, d, n * sizeof **decisions);
        *ndecisions = n;
    }
    sched_destroy(s);
    return o;
}

static sched_config_t policy_cfg(sched_policy_t policy, uint64_t seed)
{
    sched_config_t c = sched_config_default();
    c.policy = policy;
    c.seed = seed;
    return c;
}

START_TEST(random_same_seed_same_trace)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sched_config_t cfg = policy_cfg(SCHED_RANDOM, seed);
        run_out_t a = run_racy(&cfg, NULL, NULL);
        run_out_t b = run_racy(&cfg, NULL, NULL);
        ck_assert_int_eq(a.result, SCHED_DONE);
        ck_assert_int_eq(b.result, SCHED_DONE);
        ck_assert_uint_eq(a.hash, b.hash);
        ck_assert_uint_eq(a.events, b.events);
        ck_assert_int_eq(a.counter, b.counter);
        ck_assert_str_eq(a.log, b.log);
    }
}
END_TEST

START_TEST(random_seeds_give_different_interleavings)
{
    enum { SEEDS = 8 };
    static run_out_t out[SEEDS];
    for (int i = 0; i < SEEDS; i++) {
        sched_config_t cfg = policy_cfg(SCHED_RANDOM, (uint64_t)i + 1);
        out[i] = run_racy(&cfg, NULL, NULL);
        ck_assert_int_eq(out[i].result, SCHED_DONE);
        /* Lost updates: never more than every increment. */
        ck_assert_int_le(out[i].counter, RACY_G * RACY_N);
        ck_assert_int_ge(out[i].counter, 1);
    }
    /* Every pair of seeds gives a different interleaving, hence trace. */
    for (int i = 0; i < SEEDS; i++)
        for (int j = i + 1; j < SEEDS; j++) {
            ck_assert_msg(out[i].hash != out[j].hash, "seeds %d and %d: same hash", i + 1, j + 1);
            ck_assert_str_ne(out[i].log, out[j].log);
        }
    /* FIFO interleaves round-robin: each read sees the same stale value
     * as the RACY_G - 1 others, so exactly RACY_N increments survive. */
    sched_config_t fifo = policy_cfg(SCHED_FIFO, 1);
    run_out_t f = run_racy(&fifo, NULL, NULL);
    ck_assert_int_eq(f.counter, RACY_N);
    ck_assert(strncmp(f.log, "g2:0 g3:0 g4:0 g5:0 g2:1 g3:1 ", 30) == 0);
}
END_TEST

/* ---- record and replay -------------------------------------------------- */

START_TEST(record_then_replay_is_identical)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sched_config_t rec = policy_cfg(SCHED_RANDOM, seed);
        rec.record = true;
        uint32_t *d;
        size_t nd;
        run_out_t a = run_racy(&rec, &d, &nd);
        ck_assert_int_eq(a.result, SCHED_DONE);
        ck_assert_uint_gt(nd, 0);

        sched_config_t rep = policy_cfg(SCHED_REPLAY, seed);
        rep.replay = d;
        rep.replay_len = nd;
        memset(&racy, 0, sizeof racy);
        sched_result_t r;
        sched_t *s = run_with(&rep, racy_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        ck_assert_uint_eq(sched_trace_hash(s), a.hash);
        ck_assert_uint_eq(sched_trace_events(s), a.events);
        ck_assert(!sched_replay_diverged(s));
        ck_assert_str_eq(racy.log, a.log);
        sched_destroy(s);

        /* A cut list runs out: the replay says so. */
        rep.replay_len = nd / 2;
        memset(&racy, 0, sizeof racy);
        s = run_with(&rep, racy_main, NULL, &r);
        ck_assert(sched_replay_diverged(s));
        size_t at;
        uint32_t value, offered;
        ck_assert(sched_replay_divergence(s, &at, &value, &offered));
        ck_assert_uint_eq(at, nd / 2);
        ck_assert_uint_eq(value, UINT32_MAX); /* it ran out */
        ck_assert_uint_ge(offered, 2);
        ck_assert_int_eq(r, SCHED_DONE); /* not strict: the run goes on */
        sched_destroy(s);

        /* Strict (--schedule): an entry the run cannot take stops it there,
         * and the divergence names the entry, its value and the choices. */
        uint32_t *edited = malloc(nd * sizeof *edited);
        memcpy(edited, d, nd * sizeof *edited);
        edited[nd / 3] = 999999;
        rep.replay = edited;
        rep.replay_len = nd;
        rep.replay_strict = true;
        memset(&racy, 0, sizeof racy);
        s = run_with(&rep, racy_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_EXITED);
        ck_assert(sched_replay_divergence(s, &at, &value, &offered));
        ck_assert_uint_eq(at, nd / 3);
        ck_assert_uint_eq(value, 999999);
        ck_assert_uint_ge(offered, 2);
        ck_assert_uint_lt(sched_trace_events(s), a.events);
        sched_destroy(s);
        free(edited);
        free(d);
    }
}
END_TEST

/* ---- FIFO and PCT ------------------------------------------------------ */

static char order[256];
static size_t order_len;

static void note(const char *what)
{
    order_len += (size_t)snprintf(order + order_len, sizeof order - order_len, "%s ", what);
}

static void fifo_worker(void *arg)
{
    note(arg);
}

static void fifo_sleeper(void *arg)
{
    chan_recv(arg, NULL);
    note(go_name(go_self()));
}

static void fifo_main(void *arg)
{
    (void)arg;
    go_spawn(fifo_worker, "a", "a");
    go_spawn(fifo_worker, "b", "b");
    go_spawn(fifo_worker, "c", "c");
    note("m");
    go_yield();
    note("m");
    /* Woken goroutines run in the order they were made runnable. */
    chan_t *c = chan_make(0, 0);
    go_spawn(fifo_sleeper, c, "x");
    go_spawn(fifo_sleeper, c, "y");
    go_spawn(fifo_sleeper, c, "z");
    go_yield(); /* all three park, x first */
    chan_close(c);
    note("m");
    go_yield();
    note("m");
}

START_TEST(fifo_runs_in_order)
{
    order_len = 0;
    order[0] = 0;
    ck_assert_int_eq(run_main(fifo_main, NULL), SCHED_DONE);
    ck_assert_str_eq(order, "m a b c m m x y z m ");
}
END_TEST

START_TEST(pct_is_deterministic_per_seed)
{
    uint64_t hashes[6];
    for (int d = 1; d <= 3; d++) {
        for (uint64_t seed = 1; seed <= 6; seed++) {
            sched_config_t cfg = policy_cfg(SCHED_PCT, seed);
            cfg.pct_depth = d;
            cfg.pct_steps = 200;
            run_out_t a = run_racy(&cfg, NULL, NULL);
            run_out_t b = run_racy(&cfg, NULL, NULL);
            ck_assert_int_eq(a.result, SCHED_DONE);
            ck_assert_uint_eq(a.hash, b.hash);
            ck_assert_str_eq(a.log, b.log);
            hashes[seed - 1] = a.hash;
        }
        /* Priorities come from the seed: not every seed gives one order. */
        int distinct = 0;
        for (int i = 0; i < 6; i++) {
            bool seen = false;
            for (int j = 0; j < i; j++)
                seen = seen || hashes[j] == hashes[i];
            distinct += !seen;
        }
        ck_assert_int_ge(distinct, 2);
    }
    /* Depth 1: no change points, but each worker yields between its
     * read and its write, and a yield demotes the yielder below the
     * runnable ones: the next worker reads the same value, updates are
     * lost (strict priorities would run one worker to its end). */
    sched_config_t one = policy_cfg(SCHED_PCT, 7);
    one.pct_depth = 1;
    run_out_t o = run_racy(&one, NULL, NULL);
    ck_assert_int_lt(o.counter, RACY_G * RACY_N);
}
END_TEST

/* main polls a flag with yields until a worker of lower priority sets it. */
static bool poll_flag;

static void poll_setter(void *arg)
{
    (void)arg;
    poll_flag = true;
}

static void poll_main(void *arg)
{
    (void)arg;
    poll_flag = false;
    go_spawn(poll_setter, NULL, "setter");
    while (!poll_flag)
        go_yield();
}

START_TEST(pct_yield_demotes)
{
    /* Whatever the priorities, a polling loop ends: the yielder drops
     * below the setter (without that, the seeds where main's priority is
     * the higher would spin until the livelock bound). */
    for (uint64_t seed = 1; seed <= 8; seed++) {
        for (int d = 1; d <= 3; d++) {
            sched_config_t cfg = policy_cfg(SCHED_PCT, seed);
            cfg.pct_depth = d;
            cfg.pct_steps = 4;
            cfg.max_steps_per_instant = 1000;
            sched_t *s = sched_create(&cfg);
            ck_assert_int_eq(sched_run(s, poll_main, NULL), SCHED_DONE);
            ck_assert(poll_flag);
            sched_destroy(s);
        }
    }
}
END_TEST

/* ---- golden traces ------------------------------------------------------ */

/* The prime sieve of docs/examples/sieve.c (Go's test/chan/sieve1.go):
 * the first 25 primes. */
static void sieve_generate(void *arg)
{
    chan_t *ch = arg;
    for (int64_t i = 2;; i++)
        chan_send_i64(ch, i);
}

typedef struct filter_args {
    chan_t *in, *out;
    int64_t prime;
} filter_args_t;

static void sieve_filter(void *arg)
{
    filter_args_t *f = arg;
    for (;;) {
        int64_t i = chan_recv_i64(f->in, NULL);
        if (i % f->prime != 0)
            chan_send_i64(f->out, i);
    }
}

static filter_args_t sieve_filters[25];
static int64_t sieve_primes[25];

static void sieve_main(void *arg)
{
    (void)arg;
    chan_t *ch = chan_make(sizeof(int64_t), 0);
    go_spawn(sieve_generate, ch, "main.Generate");
    for (int i = 0; i < 25; i++) {
        int64_t prime = chan_recv_i64(ch, NULL);
        sieve_primes[i] = prime;
        chan_t *ch1 = chan_make(sizeof(int64_t), 0);
        sieve_filters[i] = (filter_args_t){.in = ch, .out = ch1, .prime = prime};
        go_spawn(sieve_filter, &sieve_filters[i], "main.Filter");
        ch = ch1;
    }
}

/* Checked once by hand against docs/examples/sieve.c; every build must
 * reproduce them. */
#define SIEVE_HASH 0xc5322cc043c38f0dull
#define SIEVE_EVENTS 2764

START_TEST(golden_sieve)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, sieve_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_int_eq(sieve_primes[0], 2);
    ck_assert_int_eq(sieve_primes[24], 97);
    ck_assert_uint_eq(sched_goroutines_spawned(s), 27);
    ck_assert_uint_eq(sched_trace_events(s), SIEVE_EVENTS);
    ck_assert_msg(sched_trace_hash(s) == SIEVE_HASH, "hash %016llx",
                  (unsigned long long)sched_trace_hash(s));
    sched_destroy(s);
}
END_TEST

/* A select-heavy program: three producers at different paces, a
 * multiplexer selecting over them, a timeout and a quit channel, a
 * consumer polling with default, and sends chosen by select. */
typedef struct mux {
    chan_t *in[3];   /* producers' channels */
    chan_t *out;     /* the multiplexer's output (buffered) */
    chan_t *quit;    /* closed by main to stop everyone */
    chan_t *odd, *even; /* two sinks chosen by a send select */
    int64_t got[3];  /* values the multiplexer forwarded, per producer */
    int64_t timeouts, polls, sunk;
} mux_t;

static mux_t mux;

static void mux_producer(void *arg)
{
    intptr_t k = (intptr_t)arg;
    for (int64_t v = 0;; v++) {
        go_sleep((simtime_t)(k + 1) * SIM_MS);
        select_case_t cs[2] = {
            {.ch = mux.in[k], .dir = SELECT_SEND, .elem = &v},
            {.ch = mux.quit, .dir = SELECT_RECV},
        };
        if (chan_select(cs, 2, false) == 1)
            return;
    }
}

static void mux_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t v;
        select_case_t cs[5] = {
            {.ch = mux.in[0], .dir = SELECT_RECV, .elem = &v},
            {.ch = mux.in[1], .dir = SELECT_RECV, .elem = &v},
            {.ch = mux.in[2], .dir = SELECT_RECV, .elem = &v},
            {.ch = go_after(SIM_MS / 2), .dir = SELECT_RECV, .elem = NULL},
            {.ch = mux.quit, .dir = SELECT_RECV},
        };
        int i = chan_select(cs, 5, false);
        if (i == 4)
            return;
        if (i == 3) {
            mux.timeouts++;
            continue;
        }
        mux.got[i]++;
        int64_t tagged = v * 4 + i;
        select_case_t o[3] = {
            {.ch = mux.out, .dir = SELECT_SEND, .elem = &tagged},
            {.ch = mux.odd, .dir = SELECT_SEND, .elem = &tagged},
            {.ch = mux.even, .dir = SELECT_SEND, .elem = &tagged},
        };
        chan_select(o, 3, false);
    }
}

static void mux_sink(void *arg)
{
    chan_t *c = arg;
    bool ok;
    for (;;) {
        chan_recv_i64(c, &ok);
        if (!ok)
            return;
        mux.sunk++;
    }
}

static void mux_main(void *arg)
{
    (void)arg;
    memset(&mux, 0, sizeof mux);
    for (int k = 0; k < 3; k++)
        mux.in[k] = chan_make(sizeof(int64_t), k); /* caps 0, 1, 2 */
    mux.out = chan_make(sizeof(int64_t), 4);
    mux.quit = chan_make(0, 0);
    mux.odd = chan_make(sizeof(int64_t), 0);
    mux.even = chan_make(sizeof(int64_t), 0);
    for (intptr_t k = 0; k < 3; k++)
        go_spawn(mux_producer, (void *)k, "main.producer");
    go_spawn(mux_loop, NULL, "main.mux");
    go_spawn(mux_sink, mux.odd, "main.sink");
    go_spawn(mux_sink, mux.even, "main.sink");
    int64_t seen = 0;
    while (sched_now() < 50 * SIM_MS) {
        int64_t v;
        select_case_t cs[1] = {{.ch = mux.out, .dir = SELECT_RECV, .elem = &v}};
        if (chan_select(cs, 1, true) == 0) {
            seen++;
            continue;
        }
        mux.polls++;
        go_sleep(SIM_MS / 4);
    }
    /* Quit first: the multiplexer may be sending to a sink, which must
     * still be open then. */
    chan_close(mux.quit);
    go_sleep(10 * SIM_MS);
    chan_close(mux.odd);
    chan_close(mux.even);
    go_sleep(SIM_MS);
    ck_assert_int_gt(seen, 0);
    ck_assert_int_gt(mux.sunk, 0);
    ck_assert_int_gt(mux.timeouts, 0);
}

#define MUX_HASH 0x96bbc10220deaa9full
#define MUX_EVENTS 3383

START_TEST(golden_select_heavy)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, mux_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_msg(sched_trace_hash(s) == MUX_HASH && sched_trace_events(s) == MUX_EVENTS,
                  "hash %016llx events %llu", (unsigned long long)sched_trace_hash(s),
                  (unsigned long long)sched_trace_events(s));
    sched_destroy(s);
}
END_TEST

/* A step hook makes the loop take every step on its own stack; without
 * one, goroutines switch straight to the next (switch_out). Both ways must
 * give the same trace. */
static int hook_calls;
static void count_step(void *ud)
{
    (void)ud;
    hook_calls++;
}

static uint64_t hash_of(sched_config_t cfg, void (*fn)(void *), bool hook, uint64_t *events)
{
    memset(&racy, 0, sizeof racy);
    sched_t *s = sched_create(&cfg);
    if (hook)
        sched_set_step_hook(s, count_step, NULL);
    sched_result_t r = sched_run(s, fn, NULL);
    ck_assert_int_eq(r, SCHED_DONE);
    uint64_t h = sched_trace_hash(s);
    *events = sched_trace_events(s);
    sched_destroy(s);
    return h;
}

START_TEST(direct_switch_matches_loop)
{
    void (*programs[])(void *) = {sieve_main, mux_main, racy_main};
    sched_policy_t policies[] = {SCHED_FIFO, SCHED_RANDOM, SCHED_PCT};
    for (size_t p = 0; p < sizeof programs / sizeof programs[0]; p++)
        for (size_t k = 0; k < sizeof policies / sizeof policies[0]; k++) {
            sched_config_t cfg = policy_cfg(policies[k], 3);
            uint64_t e1, e2;
            hook_calls = 0;
            uint64_t h1 = hash_of(cfg, programs[p], false, &e1);
            ck_assert_int_eq(hook_calls, 0);
            uint64_t h2 = hash_of(cfg, programs[p], true, &e2);
            ck_assert_int_gt(hook_calls, 0);
            ck_assert_uint_eq(h1, h2);
            ck_assert_uint_eq(e1, e2);
        }
}
END_TEST

/* Many timers due at the same instant: FIFO fires them in the order they
 * were armed, the random policy in some permutation; either way in linear
 * time (they used to cost a copy of the whole batch each). */
#define SAME_DEADLINE 20000
static int64_t woke[SAME_DEADLINE];
static int64_t nwoke;

static void same_deadline_sleeper(void *arg)
{
    go_sleep(SIM_SEC);
    woke[nwoke++] = (int64_t)(intptr_t)arg;
}

static void same_deadline_main(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < SAME_DEADLINE; i++)
        go_spawn(same_deadline_sleeper, (void *)i, "main.sleeper");
    go_sleep(2 * SIM_SEC);
}

START_TEST(timers_due_at_once)
{
    for (int k = 0; k < 2; k++) {
        nwoke = 0;
        sched_config_t cfg = policy_cfg(k == 0 ? SCHED_FIFO : SCHED_RANDOM, 5);
        sched_result_t r;
        sched_t *s = run_with(&cfg, same_deadline_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        ck_assert_int_eq(nwoke, SAME_DEADLINE);
        static bool seen[SAME_DEADLINE];
        memset(seen, 0, sizeof seen);
        int64_t in_order = 0;
        for (int64_t i = 0; i < SAME_DEADLINE; i++) {
            ck_assert(!seen[woke[i]]);
            seen[woke[i]] = true;
            in_order += woke[i] == i;
        }
        if (k == 0)
            ck_assert_int_eq(in_order, SAME_DEADLINE);
        else
            ck_assert_int_lt(in_order, SAME_DEADLINE / 100);
        sched_destroy(s);
    }
}
END_TEST

/* ---- the deadlock report ------------------------------------------------ */

static chan_t *dl_c;

static void dl_recv(void *arg)
{
    (void)arg;
    chan_recv(dl_c, NULL);
}

static void dl_send_later(void *arg)
{
    (void)arg;
    go_sleep(30 * SIM_SEC);
    chan_send_i64(dl_c, 1);
}

static void dl_select(void *arg)
{
    (void)arg;
    go_spawn(dl_recv, NULL, "main.grandchild");
    chan_t *other = chan_make(sizeof(int64_t), 0);
    select_case_t cs[2] = {{.ch = dl_c, .dir = SELECT_RECV}, {.ch = other, .dir = SELECT_RECV}};
    go_sleep(90 * SIM_SEC);
    chan_select(cs, 2, false);
}

static void dl_main(void *arg)
{
    (void)arg;
    dl_c = chan_make(sizeof(int64_t), 0);
    go_spawn(dl_recv, NULL, "main.receiver");
    go_spawn(dl_select, NULL, "main.selector");
    go_spawn(dl_send_later, NULL, "main.sender");
    go_sleep(3 * 60 * SIM_SEC);
    chan_t *never = chan_make(sizeof(int64_t), 0);
    chan_recv(never, NULL);
}

START_TEST(deadlock_report_format)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, dl_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    /* The sender's value went to the first receiver (goroutine 2); the
     * grandchild (5) parked at 0 s, the selector at 90 s. */
    ck_assert_str_eq(sched_report(s),
                     "fatal error: all goroutines are asleep - deadlock!\n"
                     "\n"
                     "goroutine 1 [chan receive]:\n"
                     "main.main()\n"
                     "\n"
                     "goroutine 3 [select, 1 minutes]:\n"
                     "main.selector()\n"
                     "created by main.main in goroutine 1\n"
                     "\n"
                     "goroutine 5 [chan receive, 3 minutes]:\n"
                     "main.grandchild()\n"
                     "created by main.selector in goroutine 3\n");
    ck_assert_str_eq(sched_failure_message(s), "all goroutines are asleep - deadlock!");
    ck_assert_int_eq(sched_now_of(s), 3 * 60 * SIM_SEC);
    sched_destroy(s);
}
END_TEST

/* A lock-order deadlock: left holds a and wants b, right the reverse;
 * a third goroutine waits on a named channel nobody receives from. */
static mutex_t *lo_a, *lo_b;

static void lo_left(void *arg)
{
    (void)arg;
    mutex_lock(lo_a);
    go_sleep(SIM_MS);
    mutex_lock(lo_b);
}

static void lo_right(void *arg)
{
    (void)arg;
    mutex_lock(lo_b);
    go_sleep(SIM_MS);
    mutex_lock(lo_a);
}

static void lo_main(void *arg)
{
    (void)arg;
    lo_a = mutex_new();
    obj_set_name(lo_a, "a");
    lo_b = mutex_new();
    obj_set_name(lo_b, "b");
    go_spawn(lo_left, NULL, "left");
    go_spawn(lo_right, NULL, "right");
    chan_t *c = chan_make(sizeof(int64_t), 0);
    obj_set_name(c, "results");
    chan_send_i64(c, 1);
}

START_TEST(deadlock_waits_and_cycle)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, lo_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    /* Go's report first, unchanged; the waits and the cycle on their own. */
    ck_assert_ptr_null(strstr(sched_report(s), "wait-for"));
    ck_assert_str_eq(sched_deadlock_waits(s),
                     "\n"
                     "what each goroutine waits on:\n"
                     "  goroutine 1 (main.main) [chan send]: chan results (unbuffered; no goroutine receives)\n"
                     "  goroutine 2 (left) [sync.Mutex.Lock]: mutex b, held by goroutine 3 (right)\n"
                     "  goroutine 3 (right) [sync.Mutex.Lock]: mutex a, held by goroutine 2 (left)\n"
                     "\n"
                     "wait-for cycle: goroutine 2 (left) waits on mutex b held by goroutine 3 (right) "
                     "waits on mutex a held by goroutine 2 (left)\n");
    sched_destroy(s);
    /* No cycle in the WaitGroup-style deadlock above; no waits after a panic. */
    s = run_with(NULL, dl_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_ptr_nonnull(strstr(sched_deadlock_waits(s), "goroutine 3 (main.selector) [select]: chan #"));
    ck_assert_ptr_null(strstr(sched_deadlock_waits(s), "wait-for cycle"));
    sched_destroy(s);
}
END_TEST

static void goexit_main(void *arg)
{
    (void)arg;
    go_exit();
}

static void goexit_child(void *arg)
{
    (void)arg;
    go_sleep(SIM_SEC);
}

static void goexit_after_child(void *arg)
{
    (void)arg;
    go_spawn(goexit_child, NULL, "main.child");
    go_exit();
}

static void goexit_blocked_child(void *arg)
{
    (void)arg;
    go_spawn(dl_recv, NULL, "main.child");
    dl_c = chan_make(0, 0);
    go_exit();
}

START_TEST(deadlock_main_goexit)
{
    const char *want = "fatal error: no goroutines (main called runtime.Goexit) - deadlock!\n";
    sched_result_t r;
    sched_t *s = run_with(NULL, goexit_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_str_eq(sched_report(s), want);
    sched_destroy(s);

    /* Other goroutines run to their end first (Go keeps running them). */
    s = run_with(NULL, goexit_after_child, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_str_eq(sched_report(s), want);
    ck_assert_int_eq(sched_now_of(s), SIM_SEC);
    sched_destroy(s);

    /* One left blocked: the ordinary deadlock. */
    s = run_with(NULL, goexit_blocked_child, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_str_eq(sched_report(s),
                     "fatal error: all goroutines are asleep - deadlock!\n"
                     "\n"
                     "goroutine 2 [chan receive]:\n"
                     "main.child()\n"
                     "created by main.main in goroutine 1\n");
    sched_destroy(s);
}
END_TEST

/* ---- stack overflow ----------------------------------------------------- */

static volatile bool keep_recursing = true;

static int recurse(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    pad[sizeof pad - 1] = (char)depth;
    if (!keep_recursing)
        return depth;
    return recurse(depth + 1) + pad[0] + pad[sizeof pad - 1];
}

static void overflow_goroutine(void *arg)
{
    (void)arg;
    recurse(0);
}

static void overflow_main(void *arg)
{
    (void)arg;
    go_spawn(overflow_goroutine, NULL, "main.deep");
    go_yield();
}

/* Run child() in a forked process; return its exit status word and what it
 * wrote to stderr. */
static int run_forked(void (*child)(void), char *err, size_t size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        child();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], err + len, size - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = 0;
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void overflow_child(void)
{
    sched_t *s = sched_create(NULL);
    sched_run(s, overflow_main, NULL);
    sched_destroy(s);
}

START_TEST(stack_overflow_guarded)
{
    char err[1024];
    int status = run_forked(overflow_child, err, sizeof err);
    ck_assert_msg(WIFEXITED(status), "status %#x, stderr: %s", status, err);
    ck_assert_int_eq(WEXITSTATUS(status), 2);
    ck_assert_msg(strstr(err, "goroutine 2: stack overflow\n"), "stderr: %s", err);
    ck_assert_msg(strstr(err, "fatal error: stack overflow\n"), "stderr: %s", err);
}
END_TEST

/* Beyond CORO_GUARDED_MAX stacks there is no guard page: an overflow that
 * reaches the zero canary is caught at the goroutine's next switch. The
 * goroutine goes just below its stack (through the canary into the page
 * before its slab's first stack), then yields. */
static void shallow_overflow(char *floor)
{
    volatile char pad[256];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = 0x5a; /* volatile: every byte is written */
    if ((char *)pad > floor)
        shallow_overflow(floor);
    pad[0] = 1;
}

static bool canary_then_exit; /* return at once instead of yielding */

static void canary_goroutine(void *arg)
{
    size_t stack_size = (size_t)(uintptr_t)arg;
    char here;
    /* Frames start a little below the stack's top; go 1 KiB below its
     * bottom. */
    shallow_overflow(&here - stack_size - 1024);
    if (!canary_then_exit)
        go_yield();
}

static void park_forever(void *arg)
{
    chan_recv(arg, NULL);
}

static void canary_main(void *arg)
{
    chan_t *c = chan_make(0, 0);
    /* main and these take the guarded stacks: the deep goroutine gets the
     * first stack of the first unguarded slab, whose canary lies in the
     * slab's first page (no one's frames, so AddressSanitizer builds see
     * the canary report rather than a write into a parked goroutine's). */
    for (int i = 0; i < CORO_GUARDED_MAX - 1; i++)
        go_spawn(park_forever, c, "main.parked");
    go_spawn(canary_goroutine, arg, "main.deep");
    go_yield();
}

static void canary_child(void)
{
    sched_config_t cfg = sched_config_default();
    cfg.stack_size = 16 * 1024;
    sched_t *s = sched_create(&cfg);
    sched_run(s, canary_main, (void *)(uintptr_t)cfg.stack_size);
    sched_destroy(s);
}

START_TEST(stack_overflow_canary)
{
    /* Caught when the goroutine switches out, and also when it ends
     * without ever switching (its stack must not go back to the pool). */
    for (int exit_at_once = 0; exit_at_once <= 1; exit_at_once++) {
        canary_then_exit = exit_at_once;
        char err[1024];
        int status = run_forked(canary_child, err, sizeof err);
        ck_assert_msg(WIFEXITED(status), "status %#x, stderr: %s", status, err);
        ck_assert_int_eq(WEXITSTATUS(status), 2);
        char want[64];
        snprintf(want, sizeof want, "goroutine %d: stack overflow\n", CORO_GUARDED_MAX + 1);
        ck_assert_msg(strstr(err, want), "stderr: %s", err);
    }
}
END_TEST

/* Small stacks (go_spawn_stack below a page) have no guard page: a write
 * just below one, into its canary, is caught at the goroutine's next
 * switch. The goroutine takes stack 0 of the first slab of its size,
 * which starts CORO_CANARY_BYTES into a page whose first bytes are that
 * canary (no one's frames or descriptor). */
static void small_canary_goroutine(void *arg)
{
    (void)arg;
    char here;
    volatile char *canary = (volatile char *)((uintptr_t)&here & ~(uintptr_t)4095);
    canary[8] = 1; /* what a frame overflowing the stack would write */
    go_yield();
}

static void small_canary_main(void *arg)
{
    (void)arg;
    go_spawn_stack(small_canary_goroutine, NULL, "main.deep", 2048);
    go_yield();
}

static void small_canary_child(void)
{
    sched_t *s = sched_create(NULL);
    sched_run(s, small_canary_main, NULL);
    sched_destroy(s);
}

START_TEST(stack_overflow_small_stack)
{
    ck_assert_int_eq(sysconf(_SC_PAGESIZE), 4096);
    char err[1024];
    int status = run_forked(small_canary_child, err, sizeof err);
    ck_assert_msg(WIFEXITED(status), "status %#x, stderr: %s", status, err);
    ck_assert_int_eq(WEXITSTATUS(status), 2);
    ck_assert_msg(strstr(err, "goroutine 2: stack overflow\n"), "stderr: %s", err);
}
END_TEST

/* Goroutines on 2 KiB stacks: a blocked select over two channels, a
 * sleep, a send; each pair of neighbours shares a page. */
#define SMALL_GS 20000

typedef struct small_run {
    chan_t *a, *b, *out;
    int64_t done;
} small_run_t;

static void small_worker(void *arg)
{
    small_run_t *r = arg;
    int64_t v = 0;
    select_case_t cs[2] = {{.ch = r->a, .dir = SELECT_RECV, .elem = &v},
                           {.ch = r->b, .dir = SELECT_RECV, .elem = &v}};
    int i = chan_select(cs, 2, false);
    ck_assert_int_eq(i, 1);
    ck_assert_int_eq(v, 5);
    go_sleep(SIM_MS + (simtime_t)(go_id(go_self()) % 7) * SIM_US);
    chan_send_i64(r->out, v);
}

static void small_main(void *arg)
{
    small_run_t *r = arg;
    r->a = chan_make(sizeof(int64_t), 0);
    r->b = chan_make(sizeof(int64_t), 0);
    r->out = chan_make(sizeof(int64_t), 16);
    long long size = 2048;
    g_t *prev = NULL;
    for (int i = 0; i < SMALL_GS; i++) {
        g_t *g = go_spawn_stack(small_worker, r, "main.small", (size_t)size);
        if (prev) /* stacks follow each other, size bytes apart */
            ck_assert_int_eq(llabs((long long)((char *)prev - (char *)g)), size);
        prev = (i % 64 == 63) ? NULL : g; /* slabs of 64 */
    }
    go_yield();
    ck_assert_uint_eq(chan_receivers(r->b), SMALL_GS);
    for (int i = 0; i < SMALL_GS; i++)
        chan_send_i64(r->b, 5);
    int64_t sum = 0;
    for (int i = 0; i < SMALL_GS; i++)
        sum += chan_recv_i64(r->out, NULL);
    ck_assert_int_eq(sum, 5 * SMALL_GS);
    r->done = 1;
}

START_TEST(small_stacks_many)
{
    /* A sanitized debug build's frames (redzones, no inlining) do not fit
     * in a small stack: the overflow is reported (stack_overflow_small_stack
     * covers that), the workload is for optimised builds. */
    if (getenv("CHANSIM_SANITIZED"))
        return;
    small_run_t r = {0};
    sched_t *s = sched_create(NULL);
    ck_assert_int_eq(sched_run(s, small_main, &r), SCHED_DONE);
    ck_assert_int_eq(r.done, 1);
    sched_destroy(s);
}
END_TEST

/* ---- 100,000 goroutines -------------------------------------------------- */

#define MANY 100000

static int64_t many_finished;

static void many_worker(void *arg)
{
    int64_t v = chan_recv_i64(arg, NULL);
    ck_assert_int_eq(v, 7);
    many_finished++;
}

static void many_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    for (int i = 0; i < MANY; i++)
        go_spawn(many_worker, c, "main.worker");
    go_yield(); /* every worker runs once and parks */
    sched_t *s = sched_current();
    ck_assert_uint_eq(sched_goroutines_alive(s), MANY + 1);
    ck_assert_uint_eq(chan_receivers(c), MANY);
    ck_assert_int_eq(many_finished, 0);
    /* Each send hands its value to the longest-waiting receiver. */
    for (int i = 0; i < MANY; i++)
        chan_send_i64(c, 7);
    ck_assert_uint_eq(chan_receivers(c), 0);
}

START_TEST(hundred_thousand_goroutines)
{
    sched_config_t cfg = sched_config_default();
    cfg.main_exit_ends_run = false; /* run until every goroutine is done */
    many_finished = 0;
    sched_result_t r;
    sched_t *s = run_with(&cfg, many_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_int_eq(many_finished, MANY);
    ck_assert_uint_eq(sched_goroutines_spawned(s), MANY + 1);
    ck_assert_uint_eq(sched_goroutines_alive(s), 0);
    sched_destroy(s);
}
END_TEST

/* ---- Gosched, the time limit, sched_exit --------------------------------- */

static void yield_worker(void *arg)
{
    const char *name = arg;
    char buf[8];
    for (int i = 1; i <= 3; i++) {
        snprintf(buf, sizeof buf, "%s%d", name, i);
        note(buf);
        go_yield();
    }
}

static void yield_main(void *arg)
{
    (void)arg;
    go_spawn(yield_worker, "a", "main.a");
    go_spawn(yield_worker, "b", "main.b");
    note("m1");
    go_yield();
    note("m2");
    go_yield();
    note("m3");
    while (sched_goroutines_alive(sched_current()) > 1)
        go_yield();
    note("m4");
}

START_TEST(yield_round_robin)
{
    order_len = 0;
    order[0] = 0;
    sched_result_t r;
    sched_t *s = run_with(NULL, yield_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_str_eq(order, "m1 a1 b1 m2 a2 b2 m3 a3 b3 m4 ");
    ck_assert_int_eq(sched_now_of(s), 0); /* yielding never moves time */
    sched_destroy(s);
}
END_TEST

static int ticks;

static void ticking(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        go_sleep(SIM_SEC);
        ticks++;
    }
}

START_TEST(until_stops_and_resumes)
{
    ticks = 0;
    sched_config_t cfg = sched_config_default();
    cfg.until = 3 * SIM_SEC + SIM_SEC / 2;
    sched_result_t r;
    sched_t *s = run_with(&cfg, ticking, NULL, &r);
    ck_assert_int_eq(r, SCHED_UNTIL);
    ck_assert_int_eq(sched_now_of(s), 3 * SIM_SEC + SIM_SEC / 2);
    ck_assert_int_eq(ticks, 3);

    /* A timer due exactly at the limit fires before the run stops. */
    sched_set_until(s, 7 * SIM_SEC);
    ck_assert_int_eq(sched_resume(s), SCHED_UNTIL);
    ck_assert_int_eq(sched_now_of(s), 7 * SIM_SEC);
    ck_assert_int_eq(ticks, 7);

    /* A limit already passed stops at once and never moves time back. */
    sched_set_until(s, 5 * SIM_SEC);
    ck_assert_int_eq(sched_resume(s), SCHED_UNTIL);
    ck_assert_int_eq(sched_now_of(s), 7 * SIM_SEC);
    ck_assert_int_eq(ticks, 7);

    sched_set_until(s, 0);
    ck_assert_int_eq(sched_resume(s), SCHED_DONE);
    ck_assert_int_eq(ticks, 10);
    ck_assert_int_eq(sched_now_of(s), 10 * SIM_SEC);
    ck_assert_int_eq(sched_resume(s), SCHED_DONE); /* nothing more to do */
    sched_destroy(s);
}
END_TEST

static int exit_after;

static void spinner(void *arg)
{
    (void)arg;
    for (;;) {
        exit_after++;
        go_yield();
    }
}

static void exit_main(void *arg)
{
    (void)arg;
    go_spawn(spinner, NULL, "main.spinner");
    go_yield();
    go_yield();
    ck_assert_int_eq(exit_after, 2);
    sched_exit(sched_current());
    note("after-exit"); /* the current step runs to its end */
    go_yield();
    note("never");
}

START_TEST(exit_stops_at_end_of_step)
{
    order_len = 0;
    order[0] = 0;
    exit_after = 0;
    sched_result_t r;
    sched_t *s = run_with(NULL, exit_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_EXITED);
    ck_assert_str_eq(order, "after-exit ");
    ck_assert_int_eq(exit_after, 2);
    ck_assert_uint_eq(sched_goroutines_alive(s), 2);
    ck_assert_int_eq(sched_resume(s), SCHED_EXITED);
    sched_destroy(s); /* frees both parked stacks */
}
END_TEST

/* A goroutine that yields forever while another sleeps: the clock cannot
 * move, and the bound on steps at one instant stops the run. */
static void sleeper_main(void *arg)
{
    (void)arg;
    go_spawn(spinner, NULL, "main.spinner");
    go_sleep(SIM_SEC);
    note("woke");
}

START_TEST(livelock_stops_at_bound)
{
    order_len = 0;
    order[0] = 0;
    exit_after = 0;
    sched_config_t cfg = sched_config_default();
    cfg.max_steps_per_instant = 5000;
    cfg.max_steps_name = "--the-bound";
    sched_result_t r;
    sched_t *s = run_with(&cfg, sleeper_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_FATAL);
    ck_assert_str_eq(order, "");
    ck_assert_int_eq(exit_after, 4999); /* main's first step, then the spinner's */
    ck_assert_int_eq(sched_now_of(s), 0);
    const char *rep = sched_report(s);
    ck_assert_ptr_nonnull(strstr(rep, "fatal error: livelock: 5000 goroutine steps at simulated "
                                      "time 0s without the clock moving: goroutine 2 "
                                      "(main.spinner) ran 4999 ("));
    ck_assert_ptr_nonnull(strstr(rep, "the bound is --the-bound)"));
    ck_assert_ptr_nonnull(strstr(rep, "goroutine 2 [runnable]:"));
    sched_destroy(s);
}
END_TEST

/* Steps at earlier instants do not count: the bound is per instant. */
static void ticker_spin(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        for (int j = 0; j < 3000; j++)
            go_yield();
        go_sleep(SIM_MS);
    }
    note("done");
}

START_TEST(livelock_bound_is_per_instant)
{
    order_len = 0;
    order[0] = 0;
    sched_config_t cfg = sched_config_default();
    cfg.max_steps_per_instant = 5000;
    sched_result_t r;
    sched_t *s = run_with(&cfg, ticker_spin, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    ck_assert_str_eq(order, "done ");
    sched_destroy(s);
}
END_TEST

Suite *sched_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *d = tcase_create("determinism");
    tcase_add_test(d, random_same_seed_same_trace);
    tcase_add_test(d, random_seeds_give_different_interleavings);
    tcase_add_test(d, record_then_replay_is_identical);
    tcase_add_test(d, fifo_runs_in_order);
    tcase_add_test(d, pct_is_deterministic_per_seed);
    tcase_add_test(d, pct_yield_demotes);
    tcase_add_test(d, golden_sieve);
    tcase_add_test(d, golden_select_heavy);
    tcase_add_test(d, direct_switch_matches_loop);
    suite_add_tcase(s, d);
    TCase *e = tcase_create("errors");
    /* The canary test maps thousands of guarded stacks: seconds on a
     * loaded machine, beyond Check's default 4 s. */
    tcase_set_timeout(e, 60);
    tcase_add_test(e, deadlock_report_format);
    tcase_add_test(e, deadlock_waits_and_cycle);
    tcase_add_test(e, deadlock_main_goexit);
    tcase_add_test(e, stack_overflow_guarded);
    tcase_add_test(e, stack_overflow_canary);
    tcase_add_test(e, stack_overflow_small_stack);
    suite_add_tcase(s, e);
    TCase *l = tcase_create("limits");
    tcase_set_timeout(l, 240);
    tcase_add_test(l, hundred_thousand_goroutines);
    tcase_add_test(l, small_stacks_many);
    tcase_add_test(l, timers_due_at_once);
    tcase_add_test(l, yield_round_robin);
    tcase_add_test(l, until_stops_and_resumes);
    tcase_add_test(l, exit_stops_at_end_of_step);
    tcase_add_test(l, livelock_stops_at_bound);
    tcase_add_test(l, livelock_bound_is_per_instant);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    return run_suite(sched_suite());
}
