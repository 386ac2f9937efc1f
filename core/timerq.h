/*
 * timerq: the scheduler's timer queue, internal to core. Code outside core
 * arms its own entries with timer.h's callback timers (timer_entry_*).
 *
 * The queue fires entries in (deadline, arming sequence number) order: one
 * bucket per deadline holding its entries in arming order, a 4-ary
 * min-heap of the buckets (timer.c), and a due batch: entries due at the
 * scheduler's current instant leave the queue for the batch before any
 * fires, and the scheduler's choice function picks the order among them.
 * An entry's idx is its slot in its deadline's bucket, TQ_DUE in
 * the batch, TQ_IDLE when not armed, or TQ_UNTRACKED for an entry armed
 * without an index (a Sleep). Owned by the scheduler (sched_create,
 * sched_destroy); entries belong to whoever embeds them.
 */
#ifndef CHANSIM_TIMERQ_H
#define CHANSIM_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>

#include "sched.h"
#include "timer.h"

typedef struct timerq timerq_t;

/* The running scheduler's timer queue (sched_state.c). */
timerq_t *sched_timerq(sched_t *s);

timerq_t *timerq_create(void);
void timerq_destroy(timerq_t *q);
/* Arm e to fire at when (clamped to the future is not needed: a deadline
 * in the past fires at the next scheduling step). e must be idle. */
void timerq_add(timerq_t *q, tq_entry_t *e, simtime_t when);
/* Arm e as timerq_add does, for an entry that is never disarmed before it
 * fires (a Sleep): the queue keeps no heap index in it, so moving it in
 * the heap touches only the heap array, not the sleeping goroutine's
 * stack. e->idx reads TQ_UNTRACKED while it is in the heap. */
void timerq_add_untracked(timerq_t *q, tq_entry_t *e, simtime_t when);
/* Disarm e; true if it was pending (in the heap or the due batch). Not for
 * an entry armed by timerq_add_untracked. */
bool timerq_remove(timerq_t *q, tq_entry_t *e);
/* The earliest deadline, or SIMTIME_MAX if none is armed. */
simtime_t timerq_next(const timerq_t *q);
size_t timerq_len(const timerq_t *q);
/* Fire every entry due at or before now, in the order the scheduler's
 * choice function gives for entries due at the same instant. */
void timerq_fire_due(sched_t *s, timerq_t *q, simtime_t now);

#endif
