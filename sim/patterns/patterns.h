/*
 * patterns: what the seed's patterns share: a simulated job (latency drawn
 * from a range, failure with a probability, both from the world stream),
 * so each pattern's file can read like the seed's Go.
 */
#ifndef CHANSIM_PATTERNS_H
#define CHANSIM_PATTERNS_H

#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

/* A latency uniform in [lo, hi] from the run's world stream. */
simtime_t sim_uniform_latency(simtime_t lo, simtime_t hi);
/* True with probability pct/100 (the seed's rand.Intn(100) < pct). */
bool sim_chance_pct(int pct);
/* rand.Intn(n) on the world stream. */
int64_t sim_intn(int64_t n);

#endif
