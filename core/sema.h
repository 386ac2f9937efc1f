/*
 * sema: golang.org/x/sync/semaphore.Weighted on simulated time.
 *
 * Acquire succeeds at once only if the tokens are free and nobody waits (no
 * barging); otherwise the caller queues FIFO. Release wakes waiters in
 * order, stopping at the first that does not fit, so a large request is not
 * starved by small ones. A request larger than the size waits for its
 * context without blocking others.
 *
 * Ownership: owned by the running scheduler; semaphore_free frees it early.
 */
#ifndef CHANSIM_SEMA_H
#define CHANSIM_SEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

typedef struct semaphore semaphore_t;

/* semaphore.NewWeighted(n). */
semaphore_t *semaphore_new(int64_t n);
void semaphore_free(semaphore_t *s);
/* Acquire(ctx, n): NULL on success, else ctx.Err() (already done, or done
 * while waiting; then nothing is held). Blocks ("semacquire"). */
const go_error_t *semaphore_acquire(semaphore_t *s, ctx_t *ctx, int64_t n);
/* TryAcquire(n): false while anybody waits. */
bool semaphore_try_acquire(semaphore_t *s, int64_t n);
/* Release(n): panics "semaphore: released more than held". */
void semaphore_release(semaphore_t *s, int64_t n);
int64_t semaphore_size(const semaphore_t *s);
int64_t semaphore_held(const semaphore_t *s);
size_t semaphore_waiters(const semaphore_t *s);

#endif
