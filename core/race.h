/*
 * race: Go's race detector over simulated memory (`chansim run --race`).
 *
 * Happens-before with vector clocks (FastTrack: a variable remembers the
 * epoch of its last write and the epoch of its last read, or a clock of
 * reads when several goroutines read it concurrently). Every goroutine has
 * a clock; a synchronising operation moves clocks the way Go's race
 * runtime does (runtime/race.go, sync's race annotations):
 * - go f(): the child starts with its creator's clock;
 * - channels: the k-th receive from a buffered channel of capacity C
 *   happens before the (k+C)-th send completes, a send before the receive
 *   of its value (one clock per buffer slot, as Go's racenotify); an
 *   unbuffered send and its receive synchronise both ways (racesync);
 *   close happens before a receive that sees it; a send and a close of the
 *   same channel that are not ordered are a race on the channel, as in Go;
 * - Mutex: Unlock before the next Lock; RWMutex: Unlock before RLock and
 *   Lock, RUnlock before Lock; WaitGroup: Add/Done before the Wait they
 *   release; Once: f before every Do that returns; Cond: Signal and
 *   Broadcast before the Wait they wake; context: cancel before Err() and
 *   before a receive from Done(); atomics: each operation on a variable
 *   synchronises with the earlier ones (sequentially consistent, as Go's
 *   sync/atomic); the cluster's messages: a send before its delivery.
 *
 * A shared variable (race_var_t) is a plain struct embedded where the
 * simulated program keeps the value (a C pattern's field, a Lua
 * sim.shared); it needs no registration: zeroed memory is a fresh
 * variable, and a variable last touched by an earlier run is fresh again.
 * Each access names its code location; accesses not ordered by
 * happens-before, one of them a write, are reported once per pair of code
 * locations and once per variable (Go's suppress_equal_stacks and
 * suppress_equal_addresses) in Go's format ("WARNING: DATA RACE", the two accesses with
 * their frames, where each goroutine was created) on standard error.
 *
 * Costs: nothing when --race is off (one predictable test of race_active at
 * each hook). On: a clock per live goroutine (slots are reused) and per
 * live synchronising object (freed with it: race_obj_free_slow), whose
 * length is the number of goroutine slots in its causal past.
 *
 * Ownership: the detector is owned by its scheduler (sched_config.race).
 */
#ifndef CHANSIM_RACE_H
#define CHANSIM_RACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"

typedef struct race race_t;

/* A shared variable's shadow: zero it (or leave it zeroed by obj_alloc)
 * and give it a name (static or interned: borrowed for the run). */
typedef struct race_var {
    const char *name;          /* shown in reports ("value") */
    uint32_t gen;              /* the detector that owns the fields below */
    uint32_t w_tid, w_clk;     /* epoch of the last write (0: none) */
    uint32_t r_tid, r_clk;     /* epoch of the last read; r_tid RACE_SHARED: reads in rs */
    const char *w_site, *r_site; /* their code locations (interned frames) */
    struct race_reads *rs;     /* concurrent reads, owned by the detector */
    uint64_t w_gid, r_gid;     /* the goroutines of those two accesses */
    uint64_t id;               /* the detector's number for it (atomics' clock) */
    bool reported;             /* a race on it was reported: no more (as Go) */
} race_var_t;

#define RACE_SHARED UINT32_MAX

/* The detector of the running scheduler, NULL when none runs or --race is
 * off: every hook below tests it inline first. Internal to core. */
extern race_t *race_active;

/* Create / free (sched_create and sched_destroy do this). */
race_t *race_new(sched_t *s);
void race_free(race_t *r);

/* Reports so far, and the first one's two lines ("Read at x by goroutine
 * 7 (reader-0)" ... ) for summaries; "" if none. */
uint64_t race_reports(const race_t *r);
const char *race_first(const race_t *r);
/* Where reports go (default stderr; NULL: nowhere, counted only). */
void race_set_output(race_t *r, void *file);

/* An object (obj_t id) is freed: its sync clocks go with it, so that the
 * detector's memory follows the live objects, not all that ever were
 * (called by obj_free). */
void race_obj_free_slow(race_t *r, uint64_t obj);
/* Sync clocks held now (objects' and atomics'), for tests. */
size_t race_sync_clocks(const race_t *r);

/* ---- goroutines (called by the scheduler) ------------------------------ */
void race_go_start_slow(g_t *parent, g_t *child);
void race_go_end_slow(g_t *g);

/* ---- accesses ----------------------------------------------------------
 * func/file/line: the C code location (func NULL: only the running
 * goroutine's frames, for bindings). Each is also a scheduling decision
 * when exploring (see shared.h for the combined hooks). */
void race_read_slow(race_var_t *v, const char *func, const char *file, int line);
void race_write_slow(race_var_t *v, const char *func, const char *file, int line);

static inline void race_read_at(race_var_t *v, const char *func, const char *file, int line)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_read_slow(v, func, file, line);
}

static inline void race_write_at(race_var_t *v, const char *func, const char *file, int line)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_write_slow(v, func, file, line);
}

/* ---- synchronisation ----------------------------------------------------
 * A sync clock is named by (obj, sub): obj an obj_t id, sub a part of it
 * (RWMutex's reader and writer sides, a channel's slots). g NULL: the
 * running goroutine (or the proxy, see race_proxy_begin). */
void race_acquire_slow(g_t *g, uint64_t obj, uint64_t sub);
void race_release_slow(g_t *g, uint64_t obj, uint64_t sub);       /* store */
void race_release_merge_slow(g_t *g, uint64_t obj, uint64_t sub); /* join */

static inline void race_acquire(uint64_t obj, uint64_t sub)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_acquire_slow(NULL, obj, sub);
}

static inline void race_release(uint64_t obj, uint64_t sub)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_release_slow(NULL, obj, sub);
}

static inline void race_release_merge(uint64_t obj, uint64_t sub)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_release_merge_slow(NULL, obj, sub);
}

/* Atomics on a variable: load acquires, store releases, read-modify-write
 * does both (a failed CompareAndSwap is a load). Never a race. */
typedef enum race_atomic_op { RACE_LOAD, RACE_STORE, RACE_RMW } race_atomic_op_t;
void race_atomic_slow(race_var_t *v, race_atomic_op_t op);
static inline void race_atomic(race_var_t *v, race_atomic_op_t op)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_atomic_slow(v, op);
}

/* Channels (core/chan.c): a buffered send or receive completed by or for
 * g (NULL: the running goroutine) on channel obj of capacity cap > 0; an
 * unbuffered rendezvous of sender and receiver; a close; a receive that
 * saw the close (g NULL or a waiter woken by close); a send's check of the
 * channel against a concurrent close. */
void race_chan_buffered_slow(g_t *g, uint64_t chan, int64_t cap, bool send);
void race_chan_sync_slow(g_t *sender, g_t *receiver, uint64_t chan);
void race_chan_close_slow(uint64_t chan, const char *name);
void race_chan_send_check_slow(uint64_t chan, const char *name);

/* While the scheduler itself acts on behalf of a simulated party (the
 * network delivering a message), its synchronisations use the clock
 * (obj, sub) instead of a goroutine's. Nested calls are not supported. */
void race_proxy_begin(uint64_t obj, uint64_t sub);
void race_proxy_end(void);

/* ---- an observer of shared accesses --------------------------------------
 * For tools that explain a failing run (the CLI's timeline): called after
 * each access to shared memory or an atomic takes effect, with the
 * variable's name, the operation ("read", "write", "atomic.Add", ...) and
 * the C code location (func NULL: a binding's, the running goroutine's
 * frames tell). Observation only; one process-wide observer, set around a
 * run. One inline test when unset. */
typedef void (*shared_observer_fn)(void *ud, const char *var, const char *op, const char *func,
                                   const char *file, int line);
extern shared_observer_fn shared_observer;
extern void *shared_observer_ud;
void shared_set_observer(shared_observer_fn fn, void *ud);

static inline void shared_note(const char *var, const char *op, const char *func,
                               const char *file, int line)
{
    if (__builtin_expect(shared_observer != NULL, 0))
        shared_observer(shared_observer_ud, var, op, func, file, line);
}

/* ---- the hooks C code uses for memory Go shares between goroutines ------
 * shared_read(&v) / shared_write(&v) just before the program reads or
 * writes the value v shadows: a scheduling decision when exploring
 * (sched_point) and an access for the detector, at the caller's file:line.
 * Both are one inline test each when neither is on. */
#define shared_read(v) shared_access_at((v), false, __func__, __FILE__, __LINE__)
#define shared_write(v) shared_access_at((v), true, __func__, __FILE__, __LINE__)

static inline void shared_access_at(race_var_t *v, bool write, const char *func,
                                    const char *file, int line)
{
    sched_point_named(v->name);
    if (write)
        race_write_at(v, func, file, line);
    else
        race_read_at(v, func, file, line);
    shared_note(v->name, write ? "write" : "read", func, file, line);
}

#endif
