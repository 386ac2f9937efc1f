/*
 * distributed_semaphore: the seed's DistributedSemaphore on the etcd-like store,
 * and a fair variant.
 *
 * The seed's algorithm: put a key under the semaphore's prefix (attached
 * to the session's lease), count the keys under the prefix, and if there
 * are more than the limit, delete the key again and fail ("semaphore limit
 * reached"); TryAcquireWithTimeout retries with a backoff doubling from
 * 50ms to 1s. Its weaknesses, shown under contention: the count includes
 * keys of acquirers that are about to give up, so simultaneous acquirers
 * can all count too many and all back off (nobody is admitted although
 * permits are free); nothing orders waiters, so an unlucky one can be
 * overtaken again and again (starvation); and a local sync.Mutex is held
 * across the network calls, so the workers of one process take turns even
 * when permits are free.
 *
 * The fair variant orders acquirers by their key's create revision: an
 * acquirer holds a permit when its key is among the first `count` keys of
 * the prefix, and otherwise waits (by watching the prefix) until keys
 * before it are deleted. First come, first served; no retries.
 */
#ifndef CHANSIM_DISTRIBUTED_SEMAPHORE_H
#define CHANSIM_DISTRIBUTED_SEMAPHORE_H

#include <stdbool.h>

#include "checker.h"
#include "concurrency.h"

typedef struct distributed_semaphore distributed_semaphore_t;

typedef struct distributed_semaphore_stats {
    uint64_t acquired;   /* permits taken */
    uint64_t attempts;   /* Acquire calls (the seed's retries included) */
    uint64_t rejected;   /* "semaphore limit reached" */
    uint64_t timeouts;   /* TryAcquireWithTimeout gave up */
    simtime_t wait_ns;   /* total time from first attempt to permit */
    simtime_t wait_max_ns;
} distributed_semaphore_stats_t;

/* NewDistributedSemaphore(client, semPath, count): a session with TTL
 * ttl_s (the seed's 10). track (may be NULL) is told who holds a permit. */
const go_error_t *distributed_semaphore_create(etcd_client_t *client, const char *sem_path,
                                            int count, int64_t ttl_s, bool fair,
                                            checker_holders_t *track, distributed_semaphore_t **out);
/* Free it before sched_destroy would, with the core objects it made (its
 * lock; its session, ended by Close, stays with the scheduler). None of its
 * goroutines may still run and nobody may use it again; its entity stays, as
 * the view keeps an entity for the whole run. NULL is ignored. */
void distributed_semaphore_destroy(distributed_semaphore_t *x);
/* Acquire(ctx): the resource ID (into id) or an error. */
const go_error_t *distributed_semaphore_acquire(distributed_semaphore_t *ds, ctx_t *ctx,
                                                char *id, size_t size);
/* Release(ctx, resourceID). */
const go_error_t *distributed_semaphore_release(distributed_semaphore_t *ds, ctx_t *ctx,
                                                const char *id);
/* TryAcquireWithTimeout(ctx, timeout). */
const go_error_t *distributed_semaphore_try_acquire_with_timeout(distributed_semaphore_t *ds,
                                                                 ctx_t *ctx, simtime_t timeout,
                                                                 char *id, size_t size);
/* GetAvailable(ctx): count minus the keys under the prefix. */
const go_error_t *distributed_semaphore_get_available(distributed_semaphore_t *ds, ctx_t *ctx,
                                                      int *available);
void distributed_semaphore_close(distributed_semaphore_t *ds);
distributed_semaphore_stats_t distributed_semaphore_stats(const distributed_semaphore_t *ds);

#endif
