/*
 * sync: Go's Mutex, RWMutex, WaitGroup, Once and Cond on the scheduler's
 * wait primitive (the .go files of src/sync).
 *
 * Mutex follows Go's fairness rules: waiters queue FIFO and compete with
 * new arrivals; a waiter that has waited over 1ms of simulated time puts
 * the mutex in starvation mode, where Unlock hands it directly to the
 * oldest waiter and newcomers queue at the tail; back to normal when the
 * new owner is the last waiter or waited under 1ms. RWMutex prefers
 * writers: a writer waiting in Lock blocks new readers. Misuse is fatal, as
 * in Go ("fatal error: sync: unlock of unlocked mutex"); WaitGroup misuse
 * panics.
 *
 * Ownership: every object is owned by the running scheduler (freed at
 * sched_destroy, or earlier by its *_free with nobody waiting).
 */
#ifndef CHANSIM_SYNC_H
#define CHANSIM_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

typedef struct mutex mutex_t;
typedef struct rwmutex rwmutex_t;
typedef struct waitgroup waitgroup_t;
typedef struct once once_t;
typedef struct cond cond_t;

mutex_t *mutex_new(void);
void mutex_free(mutex_t *m);
/* Lock blocks ("sync.Mutex.Lock"); Unlock of an unlocked mutex is fatal
 * "sync: unlock of unlocked mutex". A mutex is not owned by a goroutine. */
void mutex_lock(mutex_t *m);
void mutex_unlock(mutex_t *m);
bool mutex_try_lock(mutex_t *m);
bool mutex_locked(const mutex_t *m);
/* The goroutine that holds it (the last to lock it), 0 if unlocked: for
 * deadlock reports (Go's Mutex has no owner; this is only who locked it). */
uint64_t mutex_holder(const mutex_t *m);
bool mutex_starving(const mutex_t *m);
/* Contention figures for the mutex profile: acquisitions that had to wait
 * and the total simulated time spent waiting. */
uint64_t mutex_contended(const mutex_t *m);
simtime_t mutex_wait_ns(const mutex_t *m);

rwmutex_t *rwmutex_new(void);
void rwmutex_free(rwmutex_t *rw);
void rwmutex_rlock(rwmutex_t *rw);   /* blocks "sync.RWMutex.RLock" */
void rwmutex_runlock(rwmutex_t *rw); /* fatal "sync: RUnlock of unlocked RWMutex" */
void rwmutex_lock(rwmutex_t *rw);    /* blocks "sync.RWMutex.Lock" */
void rwmutex_unlock(rwmutex_t *rw);  /* fatal "sync: Unlock of unlocked RWMutex" */
bool rwmutex_try_lock(rwmutex_t *rw);
bool rwmutex_try_rlock(rwmutex_t *rw);
int64_t rwmutex_readers(const rwmutex_t *rw); /* active readers */
bool rwmutex_writer(const rwmutex_t *rw);     /* a writer holds it */
uint64_t rwmutex_holder(const rwmutex_t *rw); /* that writer's goroutine, else 0 */
uint64_t rwmutex_contended(const rwmutex_t *rw);
simtime_t rwmutex_wait_ns(const rwmutex_t *rw);

waitgroup_t *waitgroup_new(void);
void waitgroup_free(waitgroup_t *wg);
/* Add(delta): panics "sync: negative WaitGroup counter"; zero releases all
 * waiters. */
void waitgroup_add(waitgroup_t *wg, int64_t delta);
void waitgroup_done(waitgroup_t *wg);
/* Wait blocks ("sync.WaitGroup.Wait", the Go 1.25 name). */
void waitgroup_wait(waitgroup_t *wg);
int64_t waitgroup_count(const waitgroup_t *wg);

once_t *once_new(void);
void once_free(once_t *o);
/* Do(f): only the first call runs f; no call returns before f returns; a
 * panicking f still counts; Do inside f deadlocks. */
void once_do(once_t *o, void (*f)(void *), void *arg);

/* A Cond on a Mutex (Go's L). */
cond_t *cond_new(mutex_t *l);
void cond_free(cond_t *c);
/* Wait: unlocks L, parks ("sync.Cond.Wait"), relocks L before returning. */
void cond_wait(cond_t *c);
void cond_signal(cond_t *c);    /* wakes the oldest waiter */
void cond_broadcast(cond_t *c); /* wakes all */

#endif
