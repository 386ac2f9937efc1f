/*
 * cpu: simulated CPUs (Go's GOMAXPROCS) for code that consumes CPU time.
 *
 * cpu_work(d) holds one of the pool's CPUs for d of simulated time; when
 * all are busy the caller queues FIFO ("runnable" in a dump: it is ready
 * but has no CPU). A CPU is held until the work is done (no time slicing),
 * so queueing delay, utilisation and contention are measured, not assumed.
 * With no pool (procs 0) work simply takes d.
 *
 * Ownership: the pool is owned by the running scheduler.
 */
#ifndef CHANSIM_CPU_H
#define CHANSIM_CPU_H

#include <stddef.h>

#include "sched.h"

typedef struct cpu_pool cpu_pool_t;

/* A pool of procs CPUs (procs >= 1). */
cpu_pool_t *cpu_pool_new(int procs);
/* Hold a CPU for d (d <= 0 returns at once). p NULL: just sleep d. */
void cpu_work(cpu_pool_t *p, simtime_t d);
int cpu_procs(const cpu_pool_t *p);
/* CPUs busy now, and goroutines waiting for one. */
int cpu_busy(const cpu_pool_t *p);
size_t cpu_waiting(const cpu_pool_t *p);
/* Total CPU-nanoseconds of work done up to now (including work in
 * progress), for utilisation = delta busy / (procs * delta time). */
simtime_t cpu_busy_ns(const cpu_pool_t *p);

#endif
