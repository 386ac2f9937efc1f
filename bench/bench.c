/*
 * chansim-bench: the runtime's costs on six workloads, one line each
 * ("name value"), the same workloads and line names as bench/go/bench.go.
 *
 *   pingpong_ns_per_msg     ns per one-way message, unbuffered ping-pong
 *   buffered_ns_per_item    ns per item through a channel of capacity 1024
 *   spawn_exit_ns           ns per goroutine spawn + exit (batches of 1000)
 *   select4_ns              ns per select over 4 receive cases, one ready
 *   timer_ops_per_sec       sleeps completed per CPU second with 1,000,000
 *                           goroutines sleeping
 *   parked_rss_bytes        resident bytes per parked goroutine at 1,000,000
 *   timer_ops_per_sec_small, parked_rss_bytes_small
 *                           the same two with the sleepers on small stacks
 *                           (go_spawn_stack, SMALL_STACK bytes: Go's starting
 *                           2 KiB; the descriptors take about 400 of them)
 *
 * Times are the process's CPU time (CLOCK_PROCESS_CPUTIME_ID), not wall
 * time: the machine is shared. This is not a test and not part of a
 * simulation: it reads that clock and /proc/self/statm, which the simulation never does.
 * Usage: chansim-bench [scale] [stack_kib] [workload]; scale (default 1)
 * multiplies the iteration counts of the four fast workloads, stack_kib
 * sets the goroutine stack size (0 or absent: the scheduler's, 64 KiB),
 * workload runs only one of pingpong, buffered, spawn, select, million.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "sched.h"
#include "timer.h"

static size_t stack_size; /* 0: the scheduler's default */
#define SMALL_STACK 2048   /* the million's small-stack variant */

/* The process's CPU time (user + system, every thread), in ns: on a
 * loaded machine wall time says more about the other processes than about
 * this one. Go's twin reads the same clock. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* Run fn as main of a fresh FIFO scheduler; exit if it fails. */
static void run(void (*fn)(void *), void *arg)
{
    sched_config_t cfg = sched_config_default();
    cfg.stack_size = stack_size;
    cfg.main_exit_ends_run = true;
    sched_t *s = sched_create(&cfg);
    sched_result_t r = sched_run(s, fn, arg);
    if (r != SCHED_DONE) {
        fprintf(stderr, "chansim-bench: run ended with %s\n%s", sched_result_string(r),
                sched_report(s));
        exit(2);
    }
    sched_destroy(s);
}

/* ---- ping-pong ----------------------------------------------------------- */

typedef struct pingpong {
    chan_t *ping, *pong;
    int64_t n;       /* round trips */
    double ns;       /* result: ns per one-way message */
} pingpong_t;

static void ponger(void *arg)
{
    pingpong_t *p = arg;
    for (int64_t i = 0; i < p->n; i++)
        chan_send_i64(p->pong, chan_recv_i64(p->ping, NULL) + 1);
}

static void pingpong_main(void *arg)
{
    pingpong_t *p = arg;
    p->ping = chan_make(sizeof(int64_t), 0);
    p->pong = chan_make(sizeof(int64_t), 0);
    go_spawn(ponger, p, "main.ponger");
    double t0 = cpu_ns();
    int64_t v = 0;
    for (int64_t i = 0; i < p->n; i++) {
        chan_send_i64(p->ping, v);
        v = chan_recv_i64(p->pong, NULL);
    }
    p->ns = (cpu_ns() - t0) / (2.0 * (double)p->n);
    if (v != p->n)
        abort();
}

/* ---- buffered channel ----------------------------------------------------- */

typedef struct buffered {
    chan_t *c;
    int64_t n;
    double ns;
} buffered_t;

static void producer(void *arg)
{
    buffered_t *b = arg;
    for (int64_t i = 0; i < b->n; i++)
        chan_send_i64(b->c, i);
}

static void buffered_main(void *arg)
{
    buffered_t *b = arg;
    b->c = chan_make(sizeof(int64_t), 1024);
    go_spawn(producer, b, "main.producer");
    double t0 = cpu_ns();
    int64_t sum = 0;
    for (int64_t i = 0; i < b->n; i++)
        sum += chan_recv_i64(b->c, NULL);
    b->ns = (cpu_ns() - t0) / (double)b->n;
    if (sum != b->n * (b->n - 1) / 2)
        abort();
}

/* ---- spawn + exit ---------------------------------------------------------- */

typedef struct spawn {
    int64_t n;       /* goroutines in all */
    int64_t done;    /* goroutines that ran */
    double ns;
} spawn_t;

static void nothing(void *arg)
{
    ((spawn_t *)arg)->done++;
}

static void spawn_main(void *arg)
{
    spawn_t *sp = arg;
    double t0 = cpu_ns();
    for (int64_t i = 0; i < sp->n; i += 1000) {
        for (int j = 0; j < 1000; j++)
            go_spawn(nothing, sp, "main.nothing");
        while (sp->done < i + 1000)
            go_yield();
    }
    sp->ns = (cpu_ns() - t0) / (double)sp->n;
}

/* ---- select over 4, one ready ---------------------------------------------- */

typedef struct sel {
    int64_t n;
    double ns;
} sel_t;

static void select_main(void *arg)
{
    sel_t *p = arg;
    chan_t *c[4];
    for (int i = 0; i < 3; i++)
        c[i] = chan_make(sizeof(int64_t), 0);
    c[3] = chan_make(sizeof(int64_t), 1024);
    int64_t v = 0, sum = 0;
    select_case_t cs[4];
    for (int i = 0; i < 4; i++)
        cs[i] = (select_case_t){.ch = c[i], .dir = SELECT_RECV, .elem = &v};
    double total = 0;
    for (int64_t done = 0; done < p->n; done += 1024) {
        /* Refill outside the timed part. */
        for (int64_t i = 0; i < 1024; i++)
            chan_send_i64(c[3], i);
        double t0 = cpu_ns();
        for (int i = 0; i < 1024; i++) {
            if (chan_select(cs, 4, false) != 3)
                abort();
            sum += v;
        }
        total += cpu_ns() - t0;
    }
    p->ns = total / (double)p->n;
    if (sum == 0)
        abort();
}

/* ---- a million goroutines: parked, then sleeping --------------------------- */

typedef struct million {
    int64_t n;          /* goroutines */
    int rounds;         /* sleeps per goroutine */
    size_t stack;       /* the sleepers' stack size (0: the run's) */
    chan_t *start;      /* closed to release the parked goroutines */
    chan_t *done;       /* closed by the last one to finish */
    int64_t finished;
    double rss_per_g;   /* result: resident bytes per parked goroutine */
    double ops_per_sec; /* result: sleeps per CPU second */
} million_t;

static void sleeper(void *arg)
{
    million_t *m = arg;
    chan_recv(m->start, NULL);
    /* Durations from 1 ms to 2 ms, varied by goroutine so that the timer
     * heap sees deadlines out of order. */
    simtime_t d = SIM_MS + (simtime_t)((go_id(go_self()) * 7919) % 1000) * SIM_US;
    for (int i = 0; i < m->rounds; i++)
        go_sleep(d);
    if (++m->finished == m->n)
        chan_close(m->done);
}

static void million_main(void *arg)
{
    million_t *m = arg;
    m->start = chan_make(0, 0);
    m->done = chan_make(0, 0);
    long rss0 = resident_bytes();
    for (int64_t i = 0; i < m->n; i++)
        go_spawn_stack(sleeper, m, "main.sleeper", m->stack);
    go_yield(); /* every goroutine runs once and parks on start */
    long rss1 = resident_bytes();
    m->rss_per_g = (double)(rss1 - rss0) / (double)m->n;
    double t0 = cpu_ns();
    chan_close(m->start);
    chan_recv(m->done, NULL);
    double secs = (cpu_ns() - t0) / 1e9;
    m->ops_per_sec = (double)m->n * m->rounds / secs;
}

/* Whether to run workload name: every one unless argv[3] names one. */
static const char *only;
static int want(const char *name)
{
    return !only || strcmp(only, name) == 0;
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (argc > 2 && atol(argv[2]) > 0)
        stack_size = (size_t)atol(argv[2]) * 1024;
    if (argc > 3)
        only = argv[3];
    if (scale <= 0)
        scale = 1;

    if (want("pingpong")) {
        pingpong_t pp = {.n = (int64_t)(2000000 * scale)};
        run(pingpong_main, &pp);
        printf("pingpong_ns_per_msg %.1f\n", pp.ns);
    }
    if (want("buffered")) {
        buffered_t bu = {.n = (int64_t)(5000000 * scale)};
        run(buffered_main, &bu);
        printf("buffered_ns_per_item %.1f\n", bu.ns);
    }
    if (want("spawn")) {
        spawn_t sp = {.n = (int64_t)(1000000 * scale) / 1000 * 1000};
        run(spawn_main, &sp);
        printf("spawn_exit_ns %.1f\n", sp.ns);
    }
    if (want("select")) {
        sel_t se = {.n = (int64_t)(5000000 * scale) / 1024 * 1024};
        run(select_main, &se);
        printf("select4_ns %.1f\n", se.ns);
    }
    fflush(stdout);
    if (want("million")) {
        million_t mi = {.n = 1000000, .rounds = 5};
        run(million_main, &mi);
        printf("timer_ops_per_sec %.0f\n", mi.ops_per_sec);
        printf("parked_rss_bytes %.0f\n", mi.rss_per_g);
        fflush(stdout);
        million_t ms = {.n = 1000000, .rounds = 5, .stack = SMALL_STACK};
        run(million_main, &ms);
        printf("timer_ops_per_sec_small %.0f\n", ms.ops_per_sec);
        printf("parked_rss_bytes_small %.0f\n", ms.rss_per_g);
    }
    return 0;
}
