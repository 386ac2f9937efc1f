/*
 * sema: golang.org/x/sync/semaphore.Weighted (the current version, which
 * fails at once when ctx is already done). See sema.h for the semantics.
 *
 * A blocked Acquire is a waiter record queued FIFO on the semaphore; its
 * goroutine parks ("semacquire") until one of two things wakes it: Release
 * granting its tokens (notify_waiters), or its context being cancelled.
 * Go selects on ctx.Done() and a per-waiter ready channel; chansim parks
 * once and lets the context wake it instead: an AfterFunc registered on
 * the context removes the waiter from the queue and readies it. Whichever
 * comes first decides the waiter's state; the other finds it decided and
 * does nothing. As in Go, a waiter granted its tokens whose context is
 * done by the time it runs gives them back and returns ctx.Err(), so a
 * failed Acquire never holds anything.
 *
 * The trace shows each acquisition as EV_LOCK and each release as
 * EV_UNLOCK, both shared (a = 1) with the token count in b, emitted by the
 * goroutine that acquires or releases.
 *
 * Ownership: the semaphore is scheduler-owned. A waiter record is a
 * scheduler-owned object with two references, the waiting goroutine's and
 * (while it may still run) the AfterFunc's; the last to let go frees it,
 * so an AfterFunc that runs after the Acquire returned never touches a dead
 * stack frame. ctx.h has no way to free an AfterFunc registration, so each
 * Acquire that blocked on a cancellable context leaves that small object to
 * the scheduler until sched_destroy.
 */
#include "sema.h"

#include <stddef.h>

#include "race.h"

typedef enum sema_wstate {
    SW_QUEUED,   /* in the queue, parked */
    SW_GRANTED,  /* Release gave it its tokens and readied it */
    SW_CANCELED, /* its context removed it from the queue and readied it */
} sema_wstate_t;

typedef struct sema_waiter {
    obj_t hdr;                       /* scheduler-owned, freed by the last reference */
    struct sema_waiter *prev, *next; /* links in the queue while queued */
    semaphore_t *sem;                /* the semaphore it waits on */
    g_t *g;                          /* the parked goroutine */
    int64_t n;                       /* tokens requested */
    sema_wstate_t state;             /* see sema_wstate_t */
    int refs;                        /* the goroutine's, plus the AfterFunc's */
} sema_waiter_t;

struct semaphore {
    obj_t hdr;                    /* scheduler-owned object */
    int64_t size;                 /* tokens in all */
    int64_t cur;                  /* tokens held */
    sema_waiter_t *first, *last;  /* waiters, oldest first */
    size_t nwaiters;              /* their number */
};

semaphore_t *semaphore_new(int64_t n)
{
    semaphore_t *s = obj_alloc(sizeof *s, OBJ_SEMAPHORE, NULL);
    s->size = n;
    return s;
}

void semaphore_free(semaphore_t *s)
{
    obj_free(s);
}

int64_t semaphore_size(const semaphore_t *s) { return s->size; }
int64_t semaphore_held(const semaphore_t *s) { return s->cur; }
size_t semaphore_waiters(const semaphore_t *s) { return s->nwaiters; }

static void enqueue(semaphore_t *s, sema_waiter_t *w)
{
    w->next = NULL;
    w->prev = s->last;
    if (s->last)
        s->last->next = w;
    else
        s->first = w;
    s->last = w;
    s->nwaiters++;
}

static void unlink_waiter(semaphore_t *s, sema_waiter_t *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->first = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->last = w->prev;
    w->prev = w->next = NULL;
    s->nwaiters--;
}

static void put(sema_waiter_t *w)
{
    if (--w->refs == 0)
        obj_free(w);
}

/* Grant tokens to waiters in order, stopping at the first that does not
 * fit, so a large request is not overtaken by small ones. */
static void notify_waiters(semaphore_t *s)
{
    sema_waiter_t *w;
    while ((w = s->first) && s->size - s->cur >= w->n) {
        s->cur += w->n;
        unlink_waiter(s, w);
        w->state = SW_GRANTED;
        sched_ready(w->g);
    }
}

/* The context's AfterFunc: runs in its own goroutine once ctx is done. */
static void cancel_waiter(void *arg)
{
    sema_waiter_t *w = arg;
    if (w->state == SW_QUEUED) {
        semaphore_t *s = w->sem;
        bool front = s->first == w;
        unlink_waiter(s, w);
        /* Leaving the head may let the next waiters fit. */
        if (front && s->size > s->cur)
            notify_waiters(s);
        w->state = SW_CANCELED;
        sched_ready(w->g);
    }
    put(w);
}

static void release(semaphore_t *s, int64_t n)
{
    race_release_merge(s->hdr.id, 0);
    s->cur -= n;
    if (s->cur < 0)
        go_panic("semaphore: released more than held");
    sched_emit(EV_UNLOCK, s->hdr.id, 1, n, NULL);
    notify_waiters(s);
}

const go_error_t *semaphore_acquire(semaphore_t *s, ctx_t *ctx, int64_t n)
{
    if (!ctx)
        go_panic("runtime error: invalid memory address or nil pointer dereference");
    sched_point();
    /* A context already done fails even if tokens are free. */
    const go_error_t *err = ctx_err(ctx);
    if (err)
        return err;
    if (s->size - s->cur >= n && s->nwaiters == 0) {
        s->cur += n;
        race_acquire(s->hdr.id, 0);
        sched_emit(EV_LOCK, s->hdr.id, 1, n, NULL);
        return NULL;
    }
    chan_t *done = ctx_done(ctx);
    if (n > s->size) {
        /* Doomed: wait for the context without blocking anybody else. */
        chan_recv(done, NULL);
        return ctx_err(ctx);
    }
    sema_waiter_t *w = obj_alloc(sizeof *w, OBJ_NONE, NULL);
    w->sem = s;
    w->g = go_self();
    w->n = n;
    w->state = SW_QUEUED;
    w->refs = 1;
    enqueue(s, w);
    ctx_after_t *after = NULL;
    if (done) {
        w->refs++;
        after = ctx_after_func(ctx, cancel_waiter, w);
    }
    sched_park(WAIT_SEMACQUIRE, s->hdr.id);
    if (after && ctx_after_stop(after))
        w->refs--; /* the AfterFunc will never run */
    if (w->state == SW_GRANTED) {
        race_acquire(s->hdr.id, 0);
        sched_emit(EV_LOCK, s->hdr.id, 1, n, NULL);
        /* Granted; but a context done meanwhile still fails the call. */
        err = ctx_err(ctx);
        if (err)
            release(s, n);
    } else {
        err = ctx_err(ctx);
    }
    put(w);
    return err;
}

bool semaphore_try_acquire(semaphore_t *s, int64_t n)
{
    sched_point_on(s->hdr.id);
    if (s->size - s->cur < n || s->nwaiters != 0)
        return false;
    race_acquire(s->hdr.id, 0);
    s->cur += n;
    sched_emit(EV_LOCK, s->hdr.id, 1, n, NULL);
    return true;
}

void semaphore_release(semaphore_t *s, int64_t n)
{
    sched_point_on(s->hdr.id);
    release(s, n);
}
