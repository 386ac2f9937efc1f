/*
 * timer: the timer queue, Sleep, and Go's time.Timer, time.Ticker,
 * time.After and time.AfterFunc on simulated time.
 *
 * The queue orders timers by (deadline, sequence number), so
 * timers due at the same instant have a defined order; when several are
 * due at once, the scheduler's choice function picks the order in which
 * they fire (FIFO by sequence under the FIFO policy). Due timers leave the
 * heap for a due batch before any fires; stopping a timer in the batch
 * removes it from there, so a stopped timer never fires.
 *
 * Go 1.23 semantics: a timer's channel reports len 0 and cap 0; Stop and
 * Reset guarantee that no value from the previous setting is received; a
 * ticker's channel holds at most one tick, ticks are dropped while the
 * receiver lags and the phase is kept.
 */
#ifndef CHANSIM_TIMER_H
#define CHANSIM_TIMER_H

#include <stdbool.h>

#include "chan.h"
#include "sched.h"

/* An entry of the timer queue, embedded in whatever waits on time. Its
 * fields belong to the queue: set them only through timer_entry_init and
 * the calls below (core's own timers use the queue directly, timerq.h). */
typedef struct tq_entry {
    simtime_t when;                  /* absolute deadline */
    uint64_t seq;                    /* tie-break: order of arming */
    int64_t idx;                     /* slot in the queue, or TQ_IDLE / TQ_DUE / TQ_UNTRACKED */
    void (*fire)(struct tq_entry *e); /* called on the scheduler's stack */
    uint64_t obj;                    /* object id for the trace, or 0 */
} tq_entry_t;

#define TQ_IDLE (-1)
#define TQ_DUE (-2)
#define TQ_UNTRACKED (-3) /* armed by timerq_add_untracked */

/* ---- callback timers --------------------------------------------------
 *
 * For extensions that act at a simulated instant without a goroutine of
 * their own (the network's message deliveries): an entry embedded in the
 * caller's struct, armed on the running scheduler's timer queue. When the
 * clock reaches its deadline, fire(e) runs on the scheduler's stack: it
 * must not block, and it may arm entries, make goroutines runnable, send
 * without blocking and emit trace events. Entries due at the same instant
 * fire in the order the scheduler's choice function gives (arming order
 * under FIFO), as every timer does. The caller recovers its struct from e
 * with offsetof. */

/* Make e an idle entry that calls fire(e) when it is due; obj names it in
 * the trace (an object id, or 0). */
void timer_entry_init(tq_entry_t *e, void (*fire)(tq_entry_t *e), uint64_t obj);
/* Arm an idle entry to fire at the absolute simulated time when (a time
 * already past fires at the next scheduling step). Only while a scheduler
 * runs. */
void timer_entry_arm(tq_entry_t *e, simtime_t when);
/* Disarm e: true if it was pending, false if it was idle or has fired (or
 * no scheduler runs, as while sched_destroy frees the objects). */
bool timer_entry_disarm(tq_entry_t *e);
/* True while e is armed and has not fired. */
bool timer_entry_pending(const tq_entry_t *e);

/* time.Sleep(d): returns at once if d <= 0, else parks ("sleep") for d. */
void go_sleep(simtime_t d);
/* Sleep until an absolute simulated time. */
void go_sleep_until(simtime_t t);

typedef struct sim_timer sim_timer_t;

/* time.NewTimer(d): a timer whose channel C receives the fire time (an
 * int64 of simulated ns) once. Owned by the scheduler; timer_free frees it
 * early. */
sim_timer_t *timer_new(simtime_t d);
/* time.AfterFunc(d, f): runs f(arg) in its own goroutine after d. */
sim_timer_t *timer_after_func(simtime_t d, void (*f)(void *), void *arg);
/* The timer's channel (NULL for an AfterFunc timer). */
chan_t *timer_chan(const sim_timer_t *t);
/* Timer.Stop: true if it stopped the timer before its value was received
 * (Go 1.23: a fired value still waiting in the channel is dropped and
 * counts as pending). */
bool timer_stop(sim_timer_t *t);
/* Timer.Reset(d): true if the timer was active (pending, or fired with its
 * value not yet received; that value is dropped). d <= 0 fires at once. */
bool timer_reset(sim_timer_t *t, simtime_t d);
void timer_free(sim_timer_t *t);
/* time.After(d) = NewTimer(d).C. */
chan_t *go_after(simtime_t d);

/* time.NewTicker(d): panics "non-positive interval for NewTicker" if
 * d <= 0. Its channel holds one tick. */
sim_timer_t *ticker_new(simtime_t d);
/* Ticker.Stop: no more ticks; the channel is not closed. NULL is ignored,
 * as Go ignores Stop on an uninitialised Ticker. */
void ticker_stop(sim_timer_t *t);
/* Ticker.Reset(d): next tick d from now; panics "non-positive interval for
 * Ticker.Reset" if d <= 0. */
void ticker_reset(sim_timer_t *t, simtime_t d);
/* time.Tick(d): the channel of a new ticker, or NULL if d <= 0. */
chan_t *go_tick(simtime_t d);

#endif
