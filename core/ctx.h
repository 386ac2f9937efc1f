/*
 * ctx: Go's context package on simulated time (src/context/context.go).
 *
 * A context is a node of a tree. Background and TODO are roots that are
 * never cancelled and have a nil Done channel. A cancellable context closes
 * its Done channel once, on its own cancel, on its parent's, or when its
 * deadline passes, whichever comes first; Err() is then fixed forever
 * (GO_ERR_CANCELED or GO_ERR_DEADLINE_EXCEEDED) and Cause() holds the first
 * cause. Cancelling a context cancels its descendants, in the order they
 * were created (Go keeps them in a map; chansim's order is deterministic),
 * and detaches it from its parent.
 *
 * Ownership: every context is owned by the running scheduler and lives
 * until sched_destroy; Background and TODO are per scheduler.
 */
#ifndef CHANSIM_CTX_H
#define CHANSIM_CTX_H

#include <stdbool.h>

#include "chan.h"
#include "goerr.h"
#include "sched.h"

typedef struct ctx ctx_t;

/* context.Background() / context.TODO(): never cancelled, no deadline, no
 * values, Done is NULL (a nil channel). */
ctx_t *ctx_background(void);
ctx_t *ctx_todo(void);

/* context.WithCancel(parent); cancel with ctx_cancel(ctx). Panics "cannot
 * create context from nil parent" if parent is NULL. Deriving from a
 * cancelled parent gives a cancelled context. */
ctx_t *ctx_with_cancel(ctx_t *parent);
/* context.WithDeadline(parent, d): effective deadline min(parent's, d); a
 * deadline not after now cancels at once with DeadlineExceeded. */
ctx_t *ctx_with_deadline(ctx_t *parent, simtime_t deadline);
/* context.WithTimeout(parent, d) = WithDeadline(parent, now + d). */
ctx_t *ctx_with_timeout(ctx_t *parent, simtime_t d);
/* WithDeadlineCause / WithTimeoutCause: cause is set only when the deadline
 * passes. */
ctx_t *ctx_with_deadline_cause(ctx_t *parent, simtime_t deadline, const go_error_t *cause);
ctx_t *ctx_with_timeout_cause(ctx_t *parent, simtime_t d, const go_error_t *cause);
/* context.WithValue(parent, key, val): panics "cannot create context from
 * nil parent" / "nil key". Keys compare by identity. */
ctx_t *ctx_with_value(ctx_t *parent, const void *key, void *val);
/* context.WithoutCancel(parent): values kept, never cancelled. */
ctx_t *ctx_without_cancel(ctx_t *parent);

/* The CancelFunc of a context made by with_cancel/deadline/timeout:
 * cancel with GO_ERR_CANCELED; repeated calls do nothing. Stops the
 * deadline timer. No-op on contexts that cannot be cancelled. */
void ctx_cancel(ctx_t *c);
/* The CancelCauseFunc: cause NULL means GO_ERR_CANCELED. */
void ctx_cancel_cause(ctx_t *c, const go_error_t *cause);

/* Done(): closed when the context is cancelled; NULL if it never can be. */
chan_t *ctx_done(ctx_t *c);
/* Err(): NULL until Done is closed. */
const go_error_t *ctx_err(ctx_t *c);
/* context.Cause(c): NULL before cancellation. */
const go_error_t *ctx_cause(ctx_t *c);
/* Deadline(): true and *deadline if the context has one. */
bool ctx_deadline(ctx_t *c, simtime_t *deadline);
/* Value(key): innermost value for key, or NULL. */
void *ctx_value(ctx_t *c, const void *key);
/* The context's name as Go prints it ("context.Background",
 * "context.Background.WithCancel", ...). Borrowed until sched_destroy. */
const char *ctx_string(ctx_t *c);

/* context.AfterFunc(c, f): runs f(arg) in its own goroutine once c is done
 * (at once if it already is). */
typedef struct ctx_after ctx_after_t;
ctx_after_t *ctx_after_func(ctx_t *c, void (*f)(void *), void *arg);
/* stop(): true only if it prevented f from being started. */
bool ctx_after_stop(ctx_after_t *a);

#endif
