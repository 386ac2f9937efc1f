/* patterns: shared helpers of the seed's patterns. See patterns.h. */
#include "patterns.h"

#include "rand.h"

simtime_t sim_uniform_latency(simtime_t lo, simtime_t hi)
{
    if (hi <= lo)
        return lo;
    return rand_range(sched_rand(sched_current(), RAND_WORLD), lo, hi);
}

bool sim_chance_pct(int pct)
{
    return (int64_t)rand_below(sched_rand(sched_current(), RAND_WORLD), 100) < pct;
}

int64_t sim_intn(int64_t n)
{
    return n <= 0 ? 0 : (int64_t)rand_below(sched_rand(sched_current(), RAND_WORLD), (uint64_t)n);
}
