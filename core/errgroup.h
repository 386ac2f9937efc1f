/*
 * errgroup: golang.org/x/sync/errgroup on simulated time.
 *
 * A group runs goroutines and Wait returns the first non-nil error. Made
 * with errgroup_with_context, that first error also cancels the group's
 * context with the error as cause. SetLimit bounds the active goroutines:
 * Go blocks at the limit, TryGo returns false; a negative limit means no
 * limit; changing the limit while goroutines are active panics "errgroup:
 * modify limit while N goroutines in the group are still active".
 *
 * Ownership: owned by the running scheduler.
 */
#ifndef CHANSIM_ERRGROUP_H
#define CHANSIM_ERRGROUP_H

#include <stdbool.h>

#include "ctx.h"

typedef struct errgroup errgroup_t;
typedef const go_error_t *(*errgroup_fn_t)(void *arg);

/* A zero Group: no context, no limit. */
errgroup_t *errgroup_new(void);
/* errgroup.WithContext(parent): *ctx receives the derived context. */
errgroup_t *errgroup_with_context(ctx_t *parent, ctx_t **ctx);
/* Go(f): runs f(arg) in a new goroutine; blocks while at the limit. */
void errgroup_go(errgroup_t *g, errgroup_fn_t f, void *arg);
/* TryGo(f): false (and f not started) if at the limit. */
bool errgroup_try_go(errgroup_t *g, errgroup_fn_t f, void *arg);
/* Go and TryGo with the new goroutine named name (copied; NULL: Go's
 * "errgroup.(*Group).Go.func1"); they return it (TryGo: NULL if at the
 * limit), valid while it lives, for its role to be set. */
g_t *errgroup_go_named(errgroup_t *g, errgroup_fn_t f, void *arg, const char *name);
g_t *errgroup_try_go_named(errgroup_t *g, errgroup_fn_t f, void *arg, const char *name);
/* SetLimit(n). */
void errgroup_set_limit(errgroup_t *g, int n);
/* Wait(): blocks until every goroutine returned; the first error or NULL.
 * Cancels the context of WithContext. */
const go_error_t *errgroup_wait(errgroup_t *g);
/* Goroutines started and not yet returned. */
int errgroup_active(const errgroup_t *g);

#endif
