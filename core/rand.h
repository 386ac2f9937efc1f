/*
 * rand: seeded pseudo-random streams, identical on every platform.
 *
 * xoshiro256** seeded through SplitMix64; integers in a range by Lemire's
 * multiply-and-reject method, doubles from the top 53 bits. Only integer
 * arithmetic decides a draw, so every build and platform gets the same
 * sequence. A run has one stream per purpose (scheduler, world, user), each
 * derived from the run's seed and the purpose, so that drawing from one
 * never shifts another.
 */
#ifndef CHANSIM_RAND_H
#define CHANSIM_RAND_H

#include <stdint.h>

typedef struct rand {
    uint64_t s[4]; /* xoshiro256** state; never all zero */
} rand_t;

typedef enum rand_stream {
    RAND_SCHED, /* scheduling decisions */
    RAND_WORLD, /* workload, latencies, faults */
    RAND_USER,  /* the program's own draws (math.random) */
    RAND_SLACK, /* timer slack (sched_config.slack) */
    RAND_STREAM_COUNT
} rand_stream_t;

/* Seed a stream from a seed and a purpose. */
void rand_seed(rand_t *r, uint64_t seed, uint64_t purpose);
uint64_t rand_u64(rand_t *r);
/* Uniform in [0, n); n > 0. */
uint64_t rand_below(rand_t *r, uint64_t n);
/* Uniform in [lo, hi] (inclusive); lo <= hi. */
int64_t rand_range(rand_t *r, int64_t lo, int64_t hi);
/* Uniform in [0, 1). */
double rand_double(rand_t *r);
/* SplitMix64 step, for deriving seeds. */
uint64_t rand_splitmix(uint64_t *state);

#endif
