/*
 * contention: the seed's "Contention Profiling" section: a SharedResource
 * guarded by a Mutex or an RWMutex, writers and readers hammering it, and a
 * mutex profile (contended acquisitions and total wait per lock) measured
 * on the simulated clock, like pprof's mutex profile.
 *
 * The seed's bug: runContentionTest's goroutines stop only when ctx is
 * cancelled, and main's ctx is cancelled only when main returns, which it
 * never does (select {}). So every test's readers and writers keep running
 * through all the tests after it: goroutines leak, 10 then 20, 75, 130.
 * The corrected test cancels its own context after the run and waits for
 * its goroutines (variant "corrected", the default).
 */
#ifndef CHANSIM_CONTENTION_H
#define CHANSIM_CONTENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

typedef struct contention_stats {
    bool use_rwmutex;          /* which lock guarded the value */
    int readers, writers;      /* goroutines of each kind */
    int64_t final_value;       /* r.value at the end */
    int64_t access_count;      /* r.accessCount at the end */
    int64_t reads, writes;     /* accesses of each kind */
    simtime_t duration;        /* how long the test ran */
    uint64_t lock_contended;   /* acquisitions of the resource lock that waited */
    simtime_t lock_wait_ns;    /* total time spent waiting for it */
    uint64_t log_contended;    /* the same for logMutex */
    simtime_t log_wait_ns;
    simtime_t read_wait_max_ns;  /* longest single wait of a reader */
    simtime_t write_wait_max_ns; /* longest single wait of a writer */
    uint64_t goroutines_after; /* goroutines alive when the test returned */
} contention_stats_t;

/* runContentionTest(ctx, useRWMutex, readers, writers), running for
 * duration. With seed_variant, its goroutines outlive it (the seed's bug);
 * otherwise they are cancelled and waited for. */
contention_stats_t contention_run_test(ctx_t *ctx, bool use_rwmutex, int readers, int writers,
                                       simtime_t duration, bool seed_variant);

#endif
