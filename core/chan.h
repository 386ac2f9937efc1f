/*
 * chan: Go's channels and select.
 *
 * A channel carries elements of a fixed size (zero allowed), copied in and
 * out by value. The algorithm is Go's (runtime/chan.go): a send hands its
 * value straight to the longest-waiting receiver, else fills the buffer,
 * else queues; a receive takes from a waiting sender (through the buffer's
 * head when the buffer is full, so order stays FIFO), else from the buffer,
 * else reports a closed channel, else queues. Waiters queue FIFO per
 * channel; an entry of a select that has already fired elsewhere is
 * skipped. close wakes every receiver (zero value, ok false) in queue
 * order, then every sender, each of which panics "send on closed channel".
 *
 * A NULL chan_t* is Go's nil channel: send and receive block forever, a
 * select case on it is never ready, close panics.
 *
 * Ownership: a channel is owned by the scheduler that made it (freed at
 * sched_destroy) unless freed earlier with chan_free. A payload that is a
 * pointer transfers ownership of what it points to from sender to receiver.
 */
#ifndef CHANSIM_CHAN_H
#define CHANSIM_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"

typedef struct chan chan_t;

/* make(chan T, cap) with sizeof(T) == elem_size. Panics "makechan: size out
 * of range" if cap < 0 or the buffer would be too large. */
chan_t *chan_make(size_t elem_size, int64_t cap);
/* Free a channel no goroutine waits on. NULL is ignored. */
void chan_free(chan_t *c);

/* ch <- *elem. Blocks ("chan send"); panics "send on closed channel". */
void chan_send(chan_t *c, const void *elem);
/* v, ok := <-ch into *elem (may be NULL to discard). Blocks ("chan
 * receive"); returns ok (false: closed and drained, *elem zeroed). */
bool chan_recv(chan_t *c, void *elem);
/* Non-blocking forms (select with a default): true if the operation
 * happened. For recv, *ok tells whether a value (not a close) came. */
bool chan_try_send(chan_t *c, const void *elem);
bool chan_try_recv(chan_t *c, void *elem, bool *ok);
/* close(ch). Panics "close of nil channel" / "close of closed channel". */
void chan_close(chan_t *c);
/* len(ch) and cap(ch): 0 and 0 for nil and for timer channels. */
int64_t chan_len(const chan_t *c);
int64_t chan_cap(const chan_t *c);
size_t chan_elem_size(const chan_t *c);
bool chan_closed(const chan_t *c);
/* Goroutines queued to send / receive (for the view and tests). */
size_t chan_senders(const chan_t *c);
size_t chan_receivers(const chan_t *c);

/* Convenience for channels of int64 (the common case in tests). */
void chan_send_i64(chan_t *c, int64_t v);
int64_t chan_recv_i64(chan_t *c, bool *ok);

/* ---- select ------------------------------------------------------------ */

typedef enum select_dir { SELECT_SEND, SELECT_RECV } select_dir_t;

typedef struct select_case {
    chan_t *ch;       /* NULL: a nil-channel case, never ready */
    select_dir_t dir; /* send or receive */
    void *elem;       /* send: the value; receive: where to store (may be NULL) */
    bool ok;          /* receive: set when this case fires */
} select_case_t;

/* Go's select over n cases (n >= 0). Returns the index of the case that
 * fired, or -1 if has_default and none was ready. Among ready cases, one
 * is chosen through the scheduler's choice function (uniformly at random
 * under the FIFO and random policies, as Go). Without ready cases and
 * without default it blocks: "select (no cases)" for select {} (n == 0),
 * "select" otherwise, even when every case is nil; a single case without
 * default blocks as the plain channel operation it compiles to. A send case
 * on a closed channel panics when chosen. */
int chan_select(select_case_t *cases, int n, bool has_default);

/* Internal to core: timers mark their channels so len/cap report 0 and
 * Stop/Reset can drop a stale value. */
void chan_mark_timer(chan_t *c);
/* For views (observation only, nothing here is traced): a context's Done
 * channel is marked as such; a channel a timer or a context's deadline
 * will make ready knows when (chan_due, -1 if nothing will). */
void chan_mark_ctx_done(chan_t *c);
void chan_set_due(chan_t *c, simtime_t t);
bool chan_is_timer(const chan_t *c);
bool chan_is_ctx_done(const chan_t *c);
simtime_t chan_due(const chan_t *c);
/* Visit the goroutines blocked on c (a select's case included until the
 * select fires), receivers first, each queue oldest first. */
void chan_each_waiter(const chan_t *c, void (*fn)(void *ud, uint64_t g, bool send), void *ud);
bool chan_drain(chan_t *c); /* true if a value was dropped */

#endif
