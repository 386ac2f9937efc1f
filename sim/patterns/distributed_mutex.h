/*
 * distributed_mutex: the seed's DistributedMutex, a wrapper around etcd's
 * concurrency.Mutex with a node ID, a lock path and a re-entrant count.
 *
 * The seed's bugs (variant "seed" keeps them):
 * - isLocked and lockCount belong to the instance, not to a goroutine, and
 *   nothing guards them: two goroutines of one node that call Lock both
 *   see isLocked false, both call Mutex.Lock through the same session, the
 *   second returns at once (same key), and both are in the critical
 *   section. The corrected wrapper serialises local callers with a local
 *   sync.Mutex and counts re-entry only for the goroutine that holds it.
 * - GetLockOwner reads the prefix sorted by key and returns the first
 *   key's value: not the holder (the lowest create revision) and, since
 *   concurrency.Mutex writes an empty value, always "". The corrected one
 *   returns the holder's key.
 * - IsLocked stays true after the session's lease is lost (a pause, a
 *   partition): the holder goes on believing it holds the lock. The
 *   corrected IsLocked is false once the session is done; the real fix is
 *   fencing (fenced.h).
 */
#ifndef CHANSIM_DISTRIBUTED_MUTEX_H
#define CHANSIM_DISTRIBUTED_MUTEX_H

#include <stdbool.h>

#include "concurrency.h"
#include "sync.h"

typedef struct distributed_mutex distributed_mutex_t;

/* NewDistributedMutex(client, lockPath): a session with TTL ttl_s (the
 * seed's 10) and a Mutex on lock_path. */
const go_error_t *distributed_mutex_create(etcd_client_t *client, const char *lock_path,
                                        int64_t ttl_s, bool seed_variant,
                                        distributed_mutex_t **out);
/* Free it before sched_destroy would, with the core objects it made (its
 * local lock; its session, ended by Close, stays with the scheduler). None
 * of its goroutines may still run and nobody may use it again; its entity
 * stays, as the view keeps an entity for the whole run. NULL is ignored. */
void distributed_mutex_destroy(distributed_mutex_t *x);
const go_error_t *distributed_mutex_lock(distributed_mutex_t *dm, ctx_t *ctx);
const go_error_t *distributed_mutex_unlock(distributed_mutex_t *dm, ctx_t *ctx);
void distributed_mutex_close(distributed_mutex_t *dm);
bool distributed_mutex_is_locked(distributed_mutex_t *dm);
int distributed_mutex_lock_count(const distributed_mutex_t *dm);
/* GetLockOwner(ctx): the owner string into out (see the bug above). */
const go_error_t *distributed_mutex_get_lock_owner(distributed_mutex_t *dm, ctx_t *ctx,
                                                   char *out, size_t size);
const char *distributed_mutex_node_id(const distributed_mutex_t *dm);
concurrency_mutex_t *distributed_mutex_inner(const distributed_mutex_t *dm);
concurrency_session_t *distributed_mutex_session(const distributed_mutex_t *dm);

#endif
