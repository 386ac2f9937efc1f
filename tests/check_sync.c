/*
 * sync: SEMANTICS.md items 32 and 36 (sync blocking counts as asleep; sync
 * misuse is fatal) and 60-65 (Mutex, its fairness, RWMutex, WaitGroup,
 * Once, Cond), each on simulated time with the FIFO policy and seed 1
 * unless a test says otherwise.
 */
#include <setjmp.h>

#include "sync.h"
#include "testutil.h"

/* The deadlock report, with the given goroutine header in it. */
static void assert_deadlock_with(void (*fn)(void *), const char *want)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, fn, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    const char *head = "fatal error: all goroutines are asleep - deadlock!\n\n";
    ck_assert_msg(strncmp(sched_report(s), head, strlen(head)) == 0, "%s", sched_report(s));
    ck_assert_msg(strstr(sched_report(s), want), "want %s in %s", want, sched_report(s));
    sched_destroy(s);
}

/* A fatal error whose report starts with Go's "fatal error: <msg>". */
static void assert_fatal_report(void (*fn)(void *), const char *msg)
{
    ck_assert_fatal(fn, NULL, msg);
    sched_result_t r;
    sched_t *s = run_with(NULL, fn, NULL, &r);
    char want[256];
    snprintf(want, sizeof want, "fatal error: %s\n\ngoroutine 1 [running]:\n", msg);
    ck_assert_msg(strncmp(sched_report(s), want, strlen(want)) == 0, "%s", sched_report(s));
    sched_destroy(s);
}

/* ---- 60. Mutex --------------------------------------------------------- */

#define EXCL_G 8
#define EXCL_N 50

static struct {
    mutex_t *m;
    int inside, max_inside;
    int64_t counter;
    chan_t *done;
} ex;

static void excl_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < EXCL_N; i++) {
        mutex_lock(ex.m);
        ex.inside++;
        if (ex.inside > ex.max_inside)
            ex.max_inside = ex.inside;
        int64_t v = ex.counter;
        if (i % 3 == 0)
            go_sleep(SIM_US);
        else
            go_yield();
        ex.counter = v + 1;
        ex.inside--;
        mutex_unlock(ex.m);
        go_yield();
    }
    chan_send(ex.done, NULL);
}

static void excl_main(void *arg)
{
    (void)arg;
    ex.m = mutex_new();
    ex.done = chan_make(0, EXCL_G);
    for (int i = 0; i < EXCL_G; i++)
        go_spawn(excl_worker, NULL, "main.worker");
    for (int i = 0; i < EXCL_G; i++)
        chan_recv(ex.done, NULL);
    ck_assert(!mutex_locked(ex.m));
}

START_TEST(f60_mutex_excludes)
{
    for (int p = 0; p < 2; p++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            memset(&ex, 0, sizeof ex);
            sched_config_t cfg = sched_config_default();
            cfg.seed = seed;
            cfg.policy = p ? SCHED_RANDOM : SCHED_FIFO;
            sched_result_t r;
            sched_t *s = run_with(&cfg, excl_main, NULL, &r);
            ck_assert_int_eq(r, SCHED_DONE);
            sched_destroy(s);
            ck_assert_int_eq(ex.counter, EXCL_G * EXCL_N);
            ck_assert_int_eq(ex.max_inside, 1);
        }
    }
}
END_TEST

static void double_lock(void *arg)
{
    (void)arg;
    mutex_t *m = mutex_new();
    mutex_lock(m);
    mutex_lock(m);
}

START_TEST(c32_double_lock_in_main_deadlocks)
{
    assert_deadlock_with(double_lock, "goroutine 1 [sync.Mutex.Lock]:\nmain.main()\n");
}
END_TEST

static void unlock_unlocked(void *arg)
{
    (void)arg;
    mutex_unlock(mutex_new());
}

static void unlock_twice(void *arg)
{
    (void)arg;
    mutex_t *m = mutex_new();
    mutex_lock(m);
    mutex_unlock(m);
    mutex_unlock(m);
}

START_TEST(c36_unlock_of_unlocked_mutex_is_fatal)
{
    assert_fatal_report(unlock_unlocked, "sync: unlock of unlocked mutex");
    assert_fatal_report(unlock_twice, "sync: unlock of unlocked mutex");
}
END_TEST

/* A mutex is not owned: another goroutine may unlock it. */
static void not_owned_unlocker(void *arg)
{
    mutex_unlock(arg);
}

static void not_owned_main(void *arg)
{
    (void)arg;
    mutex_t *m = mutex_new();
    ck_assert(!mutex_locked(m)); /* the zero value is unlocked */
    mutex_lock(m);
    go_spawn(not_owned_unlocker, m, "main.unlocker");
    mutex_lock(m); /* released by the other goroutine */
    ck_assert(mutex_locked(m));
    mutex_unlock(m);
}

START_TEST(f60_zero_value_and_not_owned)
{
    ck_assert_int_eq(run_main(not_owned_main, NULL), SCHED_DONE);
}
END_TEST

static void trylock_main(void *arg)
{
    (void)arg;
    mutex_t *m = mutex_new();
    ck_assert(mutex_try_lock(m));
    ck_assert(mutex_locked(m));
    ck_assert(!mutex_try_lock(m));
    mutex_unlock(m);
    ck_assert(mutex_try_lock(m));
    mutex_unlock(m);
    ck_assert(!mutex_locked(m));
}

START_TEST(f60_trylock)
{
    ck_assert_int_eq(run_main(trylock_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 61. Mutex fairness ------------------------------------------------ */

static struct {
    mutex_t *m;
    char order[16];
    int n;
    simtime_t hold;       /* how long a waiter holds the lock */
    bool starving_seen;   /* mutex_starving while the holder ran */
} fair;

static void fair_waiter(void *arg)
{
    mutex_lock(fair.m);
    fair.order[fair.n++] = *(const char *)arg;
    fair.starving_seen |= mutex_starving(fair.m);
    go_sleep(fair.hold);
    mutex_unlock(fair.m);
}

/* A woken waiter loses to a newcomer, but it is then first in line. */
static void normal_mode_main(void *arg)
{
    (void)arg;
    fair.m = mutex_new();
    mutex_lock(fair.m);
    go_spawn(fair_waiter, "W", "main.w");
    go_yield(); /* W queues */
    mutex_unlock(fair.m); /* wakes W, which has not run yet */
    ck_assert(!mutex_locked(fair.m));
    ck_assert(mutex_try_lock(fair.m)); /* main barges in (normal mode) */
    go_yield();                        /* W runs, loses, requeues at the front */
    ck_assert(!mutex_starving(fair.m)); /* W waited 0 < 1ms */
    go_spawn(fair_waiter, "X", "main.x");
    go_yield(); /* X queues behind W */
    mutex_unlock(fair.m);
    go_sleep(SIM_MS);
    ck_assert_int_eq(fair.n, 2);
    ck_assert_str_eq(fair.order, "WX"); /* W kept its place at the front */
}

START_TEST(f61_normal_mode_barging_and_front_requeue)
{
    memset(&fair, 0, sizeof fair);
    ck_assert_int_eq(run_main(normal_mode_main, NULL), SCHED_DONE);
}
END_TEST

/* A waiter that has waited over 1ms and loses switches the mutex to
 * starvation mode; Unlock then hands the mutex straight to it. */
static void starvation_main(void *arg)
{
    (void)arg;
    fair.m = mutex_new();
    mutex_lock(fair.m);
    go_spawn(fair_waiter, "W", "main.w");
    go_yield(); /* W queues at t=0 */
    go_sleep(2 * SIM_MS);
    mutex_unlock(fair.m); /* wakes W */
    ck_assert(mutex_try_lock(fair.m)); /* barge once more */
    go_yield(); /* W loses again after 2ms: starvation mode */
    ck_assert(mutex_starving(fair.m));
    ck_assert(!mutex_try_lock(fair.m));
    go_spawn(fair_waiter, "X", "main.x");
    go_yield(); /* X queues at the tail */
    mutex_unlock(fair.m);
    /* Direct handoff: W owns the mutex before it even runs. */
    ck_assert(mutex_locked(fair.m));
    ck_assert(!mutex_try_lock(fair.m));
    ck_assert_int_eq(fair.n, 0);
    go_sleep(SIM_MS);
    ck_assert_str_eq(fair.order, "WX");
    /* W (waited 2ms, X behind it) kept starvation mode; X waited under
     * 1ms and switched back. */
    ck_assert(!mutex_starving(fair.m));
    ck_assert(!mutex_locked(fair.m));
    ck_assert(mutex_try_lock(fair.m));
    mutex_unlock(fair.m);
}

START_TEST(f61_starvation_mode_and_direct_handoff)
{
    memset(&fair, 0, sizeof fair);
    ck_assert_int_eq(run_main(starvation_main, NULL), SCHED_DONE);
    ck_assert(fair.starving_seen); /* W held it in starvation mode */
}
END_TEST

/* The last waiter leaves starvation mode even after waiting over 1ms. */
static void last_waiter_main(void *arg)
{
    (void)arg;
    fair.m = mutex_new();
    fair.hold = 3 * SIM_MS;
    mutex_lock(fair.m);
    go_spawn(fair_waiter, "W", "main.w");
    go_yield();
    go_sleep(2 * SIM_MS);
    mutex_unlock(fair.m);
    ck_assert(mutex_try_lock(fair.m));
    go_yield(); /* starvation mode */
    go_spawn(fair_waiter, "X", "main.x");
    go_yield();
    mutex_unlock(fair.m); /* to W, which holds it 3ms: X waits > 1ms */
    go_sleep(SIM_US);
    ck_assert(mutex_starving(fair.m));
    go_sleep(3 * SIM_MS); /* W unlocks: handoff to X, the last waiter */
    ck_assert_str_eq(fair.order, "WX");
    ck_assert(!mutex_starving(fair.m));
    ck_assert(mutex_locked(fair.m)); /* X holds it */
    go_sleep(4 * SIM_MS);
    ck_assert(!mutex_locked(fair.m));
}

START_TEST(f61_last_waiter_ends_starvation)
{
    memset(&fair, 0, sizeof fair);
    ck_assert_int_eq(run_main(last_waiter_main, NULL), SCHED_DONE);
}
END_TEST

/* Contention figures: acquisitions that waited and their total wait. */
static void profile_locker(void *arg)
{
    mutex_lock(arg);
    mutex_unlock(arg);
}

static void profile_main(void *arg)
{
    (void)arg;
    mutex_t *m = mutex_new();
    mutex_lock(m);
    mutex_unlock(m);
    ck_assert_uint_eq(mutex_contended(m), 0);
    mutex_lock(m);
    go_spawn(profile_locker, m, "main.a");
    go_spawn(profile_locker, m, "main.b");
    go_yield();
    go_sleep(3 * SIM_MS);
    mutex_unlock(m); /* a, then b, get it at 3ms */
    go_sleep(SIM_MS);
    ck_assert_uint_eq(mutex_contended(m), 2);
    ck_assert_int_eq(mutex_wait_ns(m), 6 * SIM_MS); /* both waited 3ms */
    ck_assert(!mutex_starving(m));
}

START_TEST(f61_contention_profile)
{
    ck_assert_int_eq(run_main(profile_main, NULL), SCHED_DONE);
}
END_TEST

/* EV_LOCK / EV_UNLOCK with a = 0 (exclusive) or 1 (shared). */
static int lock_events[2][2]; /* [lock or unlock][a] */

static void count_locks(void *ud, const trace_event_t *ev)
{
    (void)ud;
    if ((ev->kind == EV_LOCK || ev->kind == EV_UNLOCK) && ev->a >= 0 && ev->a <= 1)
        lock_events[ev->kind == EV_UNLOCK][ev->a]++;
}

static void trace_main(void *arg)
{
    (void)arg;
    mutex_t *m = mutex_new();
    mutex_lock(m);
    mutex_unlock(m);
    ck_assert(mutex_try_lock(m));
    mutex_unlock(m);
    rwmutex_t *rw = rwmutex_new();
    rwmutex_rlock(rw);
    rwmutex_rlock(rw);
    rwmutex_runlock(rw);
    rwmutex_runlock(rw);
    rwmutex_lock(rw);
    rwmutex_unlock(rw);
}

START_TEST(f60_trace_events)
{
    memset(lock_events, 0, sizeof lock_events);
    sched_config_t cfg = sched_config_default();
    sched_t *s = sched_create(&cfg);
    sched_add_sink(s, count_locks, NULL);
    ck_assert_int_eq(sched_run(s, trace_main, NULL), SCHED_DONE);
    sched_destroy(s);
    ck_assert_int_eq(lock_events[0][0], 3);
    ck_assert_int_eq(lock_events[1][0], 3);
    ck_assert_int_eq(lock_events[0][1], 2);
    ck_assert_int_eq(lock_events[1][1], 2);
}
END_TEST

/* A sink that asks for some kinds gets exactly those; the trace hash folds
 * every event whatever the sinks ask for. */
static int kinds_seen[EV_KIND_COUNT];

static void count_kinds(void *ud, const trace_event_t *ev)
{
    (void)ud;
    kinds_seen[ev->kind]++;
}

START_TEST(sink_gets_only_its_kinds)
{
    memset(kinds_seen, 0, sizeof kinds_seen);
    sched_config_t cfg = sched_config_default();
    sched_t *all = sched_create(&cfg);
    ck_assert_int_eq(sched_run(all, trace_main, NULL), SCHED_DONE);
    sched_t *s = sched_create(&cfg);
    ck_assert_int_ge(sched_add_sink_kinds(s, count_kinds, NULL, (uint64_t)1 << EV_UNLOCK), 0);
    ck_assert_int_eq(sched_run(s, trace_main, NULL), SCHED_DONE);
    ck_assert_uint_eq(sched_trace_hash(s), sched_trace_hash(all));
    ck_assert_uint_eq(sched_trace_events(s), sched_trace_events(all));
    sched_destroy(all);
    sched_destroy(s);
    for (int k = 0; k < EV_KIND_COUNT; k++)
        ck_assert_int_eq(kinds_seen[k], k == EV_UNLOCK ? 5 : 0);
}
END_TEST

/* ---- 62. RWMutex ------------------------------------------------------- */

static struct {
    rwmutex_t *rw;
    char order[16];
    int n;
    int64_t max_readers;
} rwf;

static void rw_reader(void *arg)
{
    rwmutex_rlock(rwf.rw);
    rwf.order[rwf.n++] = *(const char *)arg;
    if (rwmutex_readers(rwf.rw) > rwf.max_readers)
        rwf.max_readers = rwmutex_readers(rwf.rw);
    ck_assert(!rwmutex_writer(rwf.rw));
    go_sleep(SIM_MS);
    rwmutex_runlock(rwf.rw);
}

static void rw_writer(void *arg)
{
    rwmutex_lock(rwf.rw);
    rwf.order[rwf.n++] = *(const char *)arg;
    ck_assert(rwmutex_writer(rwf.rw));
    ck_assert_int_eq(rwmutex_readers(rwf.rw), 0);
    go_sleep(SIM_MS);
    rwmutex_unlock(rwf.rw);
}

static void many_readers_main(void *arg)
{
    (void)arg;
    rwf.rw = rwmutex_new();
    go_spawn(rw_reader, "a", "main.reader");
    go_spawn(rw_reader, "b", "main.reader");
    go_spawn(rw_reader, "c", "main.reader");
    go_sleep(SIM_US);
    ck_assert_int_eq(rwmutex_readers(rwf.rw), 3);
    ck_assert(!rwmutex_try_lock(rwf.rw));
    ck_assert(rwmutex_try_rlock(rwf.rw));
    rwmutex_runlock(rwf.rw);
    go_sleep(2 * SIM_MS);
    ck_assert_int_eq(rwmutex_readers(rwf.rw), 0);
    ck_assert(rwmutex_try_lock(rwf.rw));
    ck_assert(!rwmutex_try_rlock(rwf.rw));
    ck_assert(!rwmutex_try_lock(rwf.rw));
    rwmutex_unlock(rwf.rw);
}

START_TEST(f62_many_readers_or_one_writer)
{
    memset(&rwf, 0, sizeof rwf);
    ck_assert_int_eq(run_main(many_readers_main, NULL), SCHED_DONE);
    ck_assert_int_eq(rwf.max_readers, 3);
}
END_TEST

/* A writer blocked in Lock blocks new readers; its Unlock releases all the
 * readers that queued behind it at once; a second writer waits on the
 * writers' mutex ("sync.Mutex.Lock", as in Go). */
static void writer_pref_main(void *arg)
{
    (void)arg;
    rwf.rw = rwmutex_new();
    rwmutex_rlock(rwf.rw);
    g_t *w = go_spawn(rw_writer, "W", "main.writer");
    go_yield();
    ck_assert_int_eq(go_wait_reason(w), WAIT_RWMUTEX_LOCK);
    ck_assert(!rwmutex_try_rlock(rwf.rw)); /* a writer is pending */
    g_t *r1 = go_spawn(rw_reader, "1", "main.reader");
    g_t *r2 = go_spawn(rw_reader, "2", "main.reader");
    g_t *w2 = go_spawn(rw_writer, "V", "main.writer");
    g_t *r3 = go_spawn(rw_reader, "3", "main.reader");
    go_yield();
    ck_assert_int_eq(go_wait_reason(r1), WAIT_RWMUTEX_RLOCK);
    ck_assert_int_eq(go_wait_reason(r2), WAIT_RWMUTEX_RLOCK);
    ck_assert_int_eq(go_wait_reason(r3), WAIT_RWMUTEX_RLOCK);
    ck_assert_int_eq(go_wait_reason(w2), WAIT_MUTEX);
    ck_assert_str_eq(wait_reason_string(go_wait_reason(w2)), "sync.Mutex.Lock");
    ck_assert_int_eq(rwf.n, 0);
    rwmutex_runlock(rwf.rw); /* the last reader leaves: W goes */
    go_sleep(SIM_US);
    ck_assert_str_eq(rwf.order, "W");
    go_sleep(SIM_MS); /* W unlocks: readers 1, 2, 3 enter together */
    ck_assert_str_eq(rwf.order, "W123");
    ck_assert_int_eq(rwmutex_readers(rwf.rw), 3);
    ck_assert(!rwmutex_writer(rwf.rw));
    go_sleep(3 * SIM_MS); /* then the second writer */
    ck_assert_str_eq(rwf.order, "W123V");
    ck_assert_int_eq(rwf.max_readers, 3);
    /* Contention: W (for main's read lock), 1, 2, 3 (behind W) and V. */
    ck_assert_uint_eq(rwmutex_contended(rwf.rw), 5);
    /* W waited no time (main unlocked at once), the readers 1ms each, V
     * 1ms for W and 1ms for the readers. */
    ck_assert_int_eq(rwmutex_wait_ns(rwf.rw), 5 * SIM_MS);
}

START_TEST(f62_writer_preference)
{
    memset(&rwf, 0, sizeof rwf);
    ck_assert_int_eq(run_main(writer_pref_main, NULL), SCHED_DONE);
}
END_TEST

static void recursive_writer(void *arg)
{
    rwmutex_lock(arg);
    rwmutex_unlock(arg);
}

static void recursive_rlock(void *arg)
{
    (void)arg;
    rwmutex_t *rw = rwmutex_new();
    rwmutex_rlock(rw);
    go_spawn(recursive_writer, rw, "main.writer");
    go_yield();
    rwmutex_rlock(rw); /* behind the pending writer, which waits for us */
}

START_TEST(f62_recursive_read_lock_deadlocks)
{
    assert_deadlock_with(recursive_rlock, "goroutine 1 [sync.RWMutex.RLock]:\nmain.main()\n");
    assert_deadlock_with(recursive_rlock, "goroutine 2 [sync.RWMutex.Lock]:\n");
}
END_TEST

static void runlock_unlocked(void *arg)
{
    (void)arg;
    rwmutex_runlock(rwmutex_new());
}

static void runlock_write_locked(void *arg)
{
    (void)arg;
    rwmutex_t *rw = rwmutex_new();
    rwmutex_lock(rw);
    rwmutex_runlock(rw);
}

static void unlock_unlocked_rw(void *arg)
{
    (void)arg;
    rwmutex_unlock(rwmutex_new());
}

static void unlock_read_locked(void *arg)
{
    (void)arg;
    rwmutex_t *rw = rwmutex_new();
    rwmutex_rlock(rw);
    rwmutex_unlock(rw);
}

START_TEST(f62_misuse_is_fatal)
{
    assert_fatal_report(runlock_unlocked, "sync: RUnlock of unlocked RWMutex");
    assert_fatal_report(runlock_write_locked, "sync: RUnlock of unlocked RWMutex");
    assert_fatal_report(unlock_unlocked_rw, "sync: Unlock of unlocked RWMutex");
    assert_fatal_report(unlock_read_locked, "sync: Unlock of unlocked RWMutex");
}
END_TEST

/* ---- 63. WaitGroup ----------------------------------------------------- */

static void wg_negative(void *arg)
{
    (void)arg;
    waitgroup_t *wg = waitgroup_new();
    waitgroup_add(wg, 1);
    waitgroup_done(wg);
    waitgroup_done(wg);
}

START_TEST(f63_negative_counter_panics)
{
    ck_assert_panics(wg_negative, NULL, "sync: negative WaitGroup counter");
}
END_TEST

static struct {
    waitgroup_t *wg;
    int released;
    simtime_t at[4];
} wgf;

static void wg_waiter(void *arg)
{
    waitgroup_wait(wgf.wg);
    wgf.at[(intptr_t)arg] = sched_now();
    wgf.released++;
}

static void wg_worker(void *arg)
{
    go_sleep((simtime_t)(intptr_t)arg * SIM_MS);
    waitgroup_done(wgf.wg);
}

static void wg_main(void *arg)
{
    (void)arg;
    wgf.wg = waitgroup_new();
    waitgroup_wait(wgf.wg); /* zero: returns at once */
    waitgroup_add(wgf.wg, 3);
    ck_assert_int_eq(waitgroup_count(wgf.wg), 3);
    g_t *w[3];
    for (intptr_t i = 0; i < 3; i++)
        w[i] = go_spawn(wg_waiter, (void *)i, "main.waiter");
    for (intptr_t i = 1; i <= 3; i++)
        go_spawn(wg_worker, (void *)i, "main.worker");
    go_yield();
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(go_wait_reason(w[i]), WAIT_WAITGROUP);
        ck_assert_str_eq(wait_reason_string(go_wait_reason(w[i])), "sync.WaitGroup.Wait");
    }
    waitgroup_wait(wgf.wg);
    ck_assert_int_eq(sched_now(), 3 * SIM_MS);
    go_yield();
    ck_assert_int_eq(wgf.released, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(wgf.at[i], 3 * SIM_MS);
}

START_TEST(f63_zero_releases_all_waiters)
{
    memset(&wgf, 0, sizeof wgf);
    ck_assert_int_eq(run_main(wg_main, NULL), SCHED_DONE);
}
END_TEST

static void wg_wait_forever(void *arg)
{
    (void)arg;
    waitgroup_t *wg = waitgroup_new();
    waitgroup_add(wg, 1);
    waitgroup_wait(wg);
}

START_TEST(f63_wait_reason_in_dump)
{
    assert_deadlock_with(wg_wait_forever, "goroutine 1 [sync.WaitGroup.Wait]:\nmain.main()\n");
}
END_TEST

static void wg_reuse_waiter(void *arg)
{
    waitgroup_wait(arg);
}

static void wg_reuse(void *arg)
{
    (void)arg;
    waitgroup_t *wg = waitgroup_new();
    waitgroup_add(wg, 1);
    go_spawn(wg_reuse_waiter, wg, "main.waiter");
    go_yield();
    waitgroup_done(wg);   /* releases the waiter, which has not run yet */
    waitgroup_add(wg, 1); /* reused before that Wait returned */
    go_yield();
}

START_TEST(f63_reused_before_wait_returned_panics)
{
    ck_assert_panics(wg_reuse, NULL, "sync: WaitGroup is reused before previous Wait has returned");
}
END_TEST

/* ---- 64. Once ---------------------------------------------------------- */

static struct {
    once_t *o;
    int runs, other_runs;
    simtime_t f_returned, b_returned;
    g_t *b;
    bool recovered;
    int after;
} of;

static void once_f(void *arg)
{
    (void)arg;
    of.runs++;
    go_sleep(5 * SIM_MS);
    of.f_returned = sched_now();
}

static void once_other(void *arg)
{
    (void)arg;
    of.other_runs++;
}

static void once_b(void *arg)
{
    (void)arg;
    once_do(of.o, once_other, NULL);
    of.b_returned = sched_now();
}

static void once_a(void *arg)
{
    (void)arg;
    once_do(of.o, once_f, NULL);
}

static void once_main(void *arg)
{
    (void)arg;
    of.o = once_new();
    go_spawn(once_a, NULL, "main.a");
    go_yield(); /* a is inside f */
    of.b = go_spawn(once_b, NULL, "main.b");
    go_yield();
    ck_assert_str_eq(wait_reason_string(go_wait_reason(of.b)), "sync.Mutex.Lock");
    go_sleep(10 * SIM_MS);
    once_do(of.o, once_other, NULL);
    once_do(of.o, once_f, NULL);
}

START_TEST(f64_only_first_do_runs_and_others_wait)
{
    memset(&of, 0, sizeof of);
    ck_assert_int_eq(run_main(once_main, NULL), SCHED_DONE);
    ck_assert_int_eq(of.runs, 1);
    ck_assert_int_eq(of.other_runs, 0);
    ck_assert_int_eq(of.f_returned, 5 * SIM_MS);
    ck_assert_int_eq(of.b_returned, 5 * SIM_MS); /* not before f returned */
}
END_TEST

static void once_recursive_f(void *arg)
{
    once_do(arg, once_other, NULL);
}

static void once_recursive(void *arg)
{
    (void)arg;
    once_t *o = once_new();
    once_do(o, once_recursive_f, o);
}

START_TEST(f64_do_inside_f_deadlocks)
{
    assert_deadlock_with(once_recursive, "goroutine 1 [sync.Mutex.Lock]:\nmain.main()\n");
}
END_TEST

static void once_panicky(void *arg)
{
    (void)arg;
    of.runs++;
    go_sleep(SIM_MS);
    go_panic("boom");
}

static void once_panic_main(void *arg)
{
    (void)arg;
    once_do(once_new(), once_panicky, NULL);
}

/* A recovering host: the panic hook unwinds to a point on the same
 * goroutine's stack (as the Lua host's lua_error does). */
static jmp_buf recover_point;
static void recover_hook(g_t *g, const char *msg)
{
    (void)g;
    ck_assert_str_eq(msg, "boom");
    longjmp(recover_point, 1);
}

static void once_recovering(void *arg)
{
    (void)arg;
    g_t *self = go_self();
    go_set_panic_hook(self, recover_hook);
    if (setjmp(recover_point) == 0)
        once_do(of.o, once_panicky, NULL);
    else
        of.recovered = true;
    ck_assert_ptr_eq(go_panic_hook(self), recover_hook); /* the Do's hook is gone */
    go_set_panic_hook(self, NULL);
    once_do(of.o, once_other, NULL); /* f counted although it panicked */
    of.after++;
}

static void once_recover_main(void *arg)
{
    (void)arg;
    of.o = once_new();
    go_spawn(once_recovering, NULL, "main.recovering");
    go_yield();
    of.b = go_spawn(once_b, NULL, "main.b");
    go_sleep(5 * SIM_MS);
}

/* Recovery inside f, as the Lua host's pcall around f does, with Dos
 * nested: the inner Do completes when its f returns, and the outer Once
 * stays locked until the outer f returns. */
static jmp_buf *recover_target;
static void target_hook(g_t *g, const char *msg)
{
    (void)g;
    (void)msg;
    longjmp(*recover_target, 1);
}

static struct {
    once_t *outer, *inner;
    int inner_recovered;
    simtime_t outer_f_returned, waiter_returned;
    g_t *waiter;
} nf;

static void inner_f(void *arg)
{
    (void)arg;
    jmp_buf here;
    jmp_buf *saved = recover_target;
    recover_target = &here;
    if (setjmp(here) == 0)
        go_panic("inner boom");
    else
        nf.inner_recovered++;
    recover_target = saved;
}

static void outer_f(void *arg)
{
    (void)arg;
    once_do(nf.inner, inner_f, NULL);
    /* Back to the outer Do's hook, which is neither the host's nor none. */
    ck_assert_ptr_nonnull(go_panic_hook(go_self()));
    ck_assert_ptr_ne(go_panic_hook(go_self()), target_hook);
    go_sleep(2 * SIM_MS); /* the outer Once must stay locked meanwhile */
    nf.outer_f_returned = sched_now();
}

static void nested_waiter(void *arg)
{
    (void)arg;
    once_do(nf.outer, once_other, NULL);
    nf.waiter_returned = sched_now();
}

static void nested_recover_main(void *arg)
{
    (void)arg;
    nf.outer = once_new();
    nf.inner = once_new();
    g_t *self = go_self();
    go_set_panic_hook(self, target_hook);
    go_spawn(nested_waiter, NULL, "main.waiter");
    once_do(nf.outer, outer_f, NULL);
    ck_assert_ptr_eq(go_panic_hook(self), target_hook);
    once_do(nf.inner, once_other, NULL); /* the panicked inner f counted */
    go_set_panic_hook(self, NULL);
    go_yield();
}

START_TEST(f64_recovery_inside_f_with_nested_dos)
{
    memset(&nf, 0, sizeof nf);
    memset(&of, 0, sizeof of);
    ck_assert_int_eq(run_main(nested_recover_main, NULL), SCHED_DONE);
    ck_assert_int_eq(nf.inner_recovered, 1);
    ck_assert_int_eq(nf.outer_f_returned, 2 * SIM_MS);
    ck_assert_int_eq(nf.waiter_returned, 2 * SIM_MS); /* not before the outer f returned */
    ck_assert_int_eq(of.other_runs, 0);
}
END_TEST

START_TEST(f64_panicking_f_still_counts)
{
    memset(&of, 0, sizeof of);
    /* Unrecovered, the panic ends the program. */
    ck_assert_panics(once_panic_main, NULL, "boom");
    /* A run that ends while f is parked leaves nothing behind for the
     * next run on this thread. */
    assert_deadlock_with(once_recursive, "goroutine 1 [sync.Mutex.Lock]:\n");
    memset(&of, 0, sizeof of);
    ck_assert_int_eq(run_main(once_recover_main, NULL), SCHED_DONE);
    ck_assert(of.recovered);
    ck_assert_int_eq(of.runs, 1);
    ck_assert_int_eq(of.other_runs, 0);
    ck_assert_int_eq(of.after, 1);
    ck_assert_int_eq(of.b_returned, SIM_MS); /* the waiting Do was released */
}
END_TEST

/* ---- 65. Cond ---------------------------------------------------------- */

static struct {
    mutex_t *l;
    cond_t *c;
    char order[16];
    int n, inside, max_inside;
} cf;

static void cond_waiter(void *arg)
{
    mutex_lock(cf.l);
    cond_wait(cf.c);
    ck_assert(mutex_locked(cf.l)); /* relocked */
    cf.inside++;
    if (cf.inside > cf.max_inside)
        cf.max_inside = cf.inside;
    cf.order[cf.n++] = *(const char *)arg;
    go_yield();
    cf.inside--;
    mutex_unlock(cf.l);
}

static void cond_signal_main(void *arg)
{
    (void)arg;
    cf.l = mutex_new();
    cf.c = cond_new(cf.l);
    cond_signal(cf.c); /* nobody waits: lost */
    g_t *g[3];
    g[0] = go_spawn(cond_waiter, "a", "main.waiter");
    g[1] = go_spawn(cond_waiter, "b", "main.waiter");
    g[2] = go_spawn(cond_waiter, "c", "main.waiter");
    go_yield();
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(wait_reason_string(go_wait_reason(g[i])), "sync.Cond.Wait");
    ck_assert(!mutex_locked(cf.l)); /* Wait unlocked L */
    for (int i = 1; i <= 3; i++) {
        mutex_lock(cf.l);
        cond_signal(cf.c);
        mutex_unlock(cf.l);
        go_sleep(SIM_MS);
        ck_assert_int_eq(cf.n, i);
    }
    ck_assert_str_eq(cf.order, "abc"); /* the oldest waiter first */
}

START_TEST(f65_signal_wakes_oldest)
{
    memset(&cf, 0, sizeof cf);
    ck_assert_int_eq(run_main(cond_signal_main, NULL), SCHED_DONE);
}
END_TEST

static void cond_broadcast_main(void *arg)
{
    (void)arg;
    cf.l = mutex_new();
    cf.c = cond_new(cf.l);
    static const char names[] = "abcd";
    for (int i = 0; i < 4; i++)
        go_spawn(cond_waiter, (void *)&names[i], "main.waiter");
    go_yield();
    mutex_lock(cf.l);
    cond_broadcast(cf.c);
    ck_assert_int_eq(cf.n, 0); /* they need L, which main holds */
    mutex_unlock(cf.l);
    go_sleep(SIM_MS);
    ck_assert_int_eq(cf.n, 4);
    ck_assert_int_eq(cf.max_inside, 1); /* each relocked L in turn */
    cond_broadcast(cf.c); /* nobody waits */
}

START_TEST(f65_broadcast_wakes_all)
{
    memset(&cf, 0, sizeof cf);
    ck_assert_int_eq(run_main(cond_broadcast_main, NULL), SCHED_DONE);
}
END_TEST

Suite *sync_suite(void)
{
    Suite *s = suite_create("sync");
    TCase *m = tcase_create("mutex");
    tcase_add_test(m, f60_mutex_excludes);
    tcase_add_test(m, c32_double_lock_in_main_deadlocks);
    tcase_add_test(m, c36_unlock_of_unlocked_mutex_is_fatal);
    tcase_add_test(m, f60_zero_value_and_not_owned);
    tcase_add_test(m, f60_trylock);
    tcase_add_test(m, f60_trace_events);
    tcase_add_test(m, sink_gets_only_its_kinds);
    suite_add_tcase(s, m);
    TCase *f = tcase_create("fairness");
    tcase_add_test(f, f61_normal_mode_barging_and_front_requeue);
    tcase_add_test(f, f61_starvation_mode_and_direct_handoff);
    tcase_add_test(f, f61_last_waiter_ends_starvation);
    tcase_add_test(f, f61_contention_profile);
    suite_add_tcase(s, f);
    TCase *rw = tcase_create("rwmutex");
    tcase_add_test(rw, f62_many_readers_or_one_writer);
    tcase_add_test(rw, f62_writer_preference);
    tcase_add_test(rw, f62_recursive_read_lock_deadlocks);
    tcase_add_test(rw, f62_misuse_is_fatal);
    suite_add_tcase(s, rw);
    TCase *wg = tcase_create("waitgroup");
    tcase_add_test(wg, f63_negative_counter_panics);
    tcase_add_test(wg, f63_zero_releases_all_waiters);
    tcase_add_test(wg, f63_wait_reason_in_dump);
    tcase_add_test(wg, f63_reused_before_wait_returned_panics);
    suite_add_tcase(s, wg);
    TCase *o = tcase_create("once");
    tcase_add_test(o, f64_only_first_do_runs_and_others_wait);
    tcase_add_test(o, f64_do_inside_f_deadlocks);
    tcase_add_test(o, f64_panicking_f_still_counts);
    tcase_add_test(o, f64_recovery_inside_f_with_nested_dos);
    suite_add_tcase(s, o);
    TCase *c = tcase_create("cond");
    tcase_add_test(c, f65_signal_wakes_oldest);
    tcase_add_test(c, f65_broadcast_wakes_all);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return run_suite(sync_suite());
}
