/*
 * sync: Mutex, RWMutex, WaitGroup, Once and Cond, following Go's src/sync
 * on the scheduler's one wait primitive. See sync.h for the semantics.
 *
 * Every waiter is a record on the blocked goroutine's own stack, linked into
 * the object's FIFO queue while it waits; whoever wakes it unlinks it, so a
 * record is never touched after its owner has resumed. Simulated goroutines
 * never run in parallel, so Go's atomics become plain fields and Go's
 * runtime semaphores become these queues: a release always finds its
 * acquirer already parked, because nothing runs between the two.
 *
 * Mutex keeps Go's state bits as fields: locked, woken (a woken waiter is
 * on its way, so Unlock does not wake another) and starving, plus the
 * queue of waiters. In normal mode Unlock wakes the oldest waiter, which
 * then competes with goroutines arriving meanwhile; if it loses it goes
 * back to the FRONT of the queue and, once it has waited over 1ms of
 * simulated time since it first blocked, switches the mutex to starvation
 * mode. In starvation mode Unlock hands ownership to the oldest waiter
 * directly (the mutex never appears unlocked, so newcomers queue at the
 * tail); the new owner switches back to normal mode if it is the last
 * waiter or waited 1ms or less. Go's spinning has no counterpart. Go's
 * direct handoff also yields the unlocker's processor to the new owner;
 * here the owner just becomes runnable, which changes no outcome of the
 * lock itself.
 *
 * RWMutex and Once reuse Go's layering on an internal Mutex (which emits
 * no trace events of its own). A writer first takes the internal Mutex,
 * so a second writer shows "sync.Mutex.Lock" in a dump, as in Go; then it
 * announces itself by subtracting RW_MAX_READERS from the reader count and
 * waits ("sync.RWMutex.Lock") for the readers already inside. Once holds
 * its internal Mutex while f runs, so a Do inside f blocks in
 * "sync.Mutex.Lock" and deadlocks, as in Go; while f runs, Once keeps a
 * scheduler-owned frame so that a panicking f still counts (see below).
 *
 * The trace: Mutex and RWMutex emit EV_LOCK when an acquisition completes
 * (on the acquiring goroutine, after any wait) and EV_UNLOCK on release,
 * with a = 0 for exclusive and 1 for shared.
 *
 * Ownership: every object is owned by the running scheduler; the records
 * on goroutine stacks are borrowed by the queues while their owners park.
 */
#include "sync.h"

#include <stddef.h>

#include "race.h"

/* Go's starvationThresholdNs. */
#define MUTEX_STARVATION_NS SIM_MS
/* Go's rwmutexMaxReaders. */
#define RW_MAX_READERS ((int64_t)1 << 30)

_Static_assert(MUTEX_STARVATION_NS == 1000000, "the starvation threshold is 1ms");

/* ---- wait queues ------------------------------------------------------- */

typedef struct waiter {
    struct waiter *prev, *next; /* links in the queue while queued */
    g_t *g;                     /* the parked goroutine */
    bool handoff;               /* Mutex: ownership was handed over directly */
} waiter_t;

typedef struct wqueue {
    waiter_t *first, *last; /* oldest first */
    size_t n;               /* records queued */
} wqueue_t;

static void wq_push_back(wqueue_t *q, waiter_t *w)
{
    w->next = NULL;
    w->prev = q->last;
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
    q->n++;
}

static void wq_push_front(wqueue_t *q, waiter_t *w)
{
    w->prev = NULL;
    w->next = q->first;
    if (q->first)
        q->first->prev = w;
    else
        q->last = w;
    q->first = w;
    q->n++;
}

static waiter_t *wq_pop_front(wqueue_t *q)
{
    waiter_t *w = q->first;
    if (!w)
        return NULL;
    q->first = w->next;
    if (q->first)
        q->first->prev = NULL;
    else
        q->last = NULL;
    w->prev = w->next = NULL;
    q->n--;
    return w;
}

/* Park the running goroutine on q (at the back or the front). */
static void wq_park(wqueue_t *q, waiter_t *w, bool front, wait_reason_t reason, uint64_t obj)
{
    w->g = go_self();
    w->handoff = false;
    if (front)
        wq_push_front(q, w);
    else
        wq_push_back(q, w);
    sched_park(reason, obj);
}

/* Wake every waiter of q, oldest first. */
static void wq_ready_all(wqueue_t *q)
{
    waiter_t *w;
    while ((w = wq_pop_front(q)))
        sched_ready(w->g);
}

/* ---- the mutex core ----------------------------------------------------- */

/* Go's Mutex without its trace events: shared by Mutex, RWMutex's writer
 * lock and Once. */
typedef struct mu_core {
    bool locked;        /* held by somebody */
    bool woken;         /* a waiter woken in normal mode has not yet run */
    bool starving;      /* starvation mode: Unlock hands off directly */
    wqueue_t q;         /* waiters; requeued ones go to the front */
    uint64_t contended; /* acquisitions that had to wait */
    simtime_t wait_ns;  /* their total wait */
} mu_core_t;

static bool mu_try_lock(mu_core_t *m)
{
    if (m->locked || m->starving)
        return false;
    m->locked = true;
    return true;
}

/* Lock m on behalf of the running goroutine; obj names the object for the
 * trace. Returns true if it had to wait. */
static bool mu_lock(mu_core_t *m, uint64_t obj)
{
    if (mu_try_lock(m))
        return false;
    simtime_t start = sched_now();
    bool requeue = false;
    for (;;) {
        waiter_t w;
        /* Go queues a goroutine that has waited before at the front
         * (queueLifo), so losing a race does not cost it its place. */
        wq_park(&m->q, &w, requeue, WAIT_MUTEX, obj);
        bool starving = sched_now() - start > MUTEX_STARVATION_NS;
        if (w.handoff) {
            /* Starvation mode: Unlock made us the owner; locked stayed set. */
            if (!starving || m->q.n == 0)
                m->starving = false;
            break;
        }
        /* Normal mode: compete with whoever arrived since Unlock. */
        m->woken = false;
        if (mu_try_lock(m))
            break;
        if (starving)
            m->starving = true;
        requeue = true;
    }
    m->contended++;
    m->wait_ns += sched_now() - start;
    return true;
}

static void mu_unlock(mu_core_t *m)
{
    if (!m->locked)
        go_fatal("sync: unlock of unlocked mutex");
    if (m->starving) {
        waiter_t *w = wq_pop_front(&m->q);
        if (w) {
            w->handoff = true; /* the mutex stays locked: it is w's now */
            sched_ready(w->g);
            return;
        }
        m->starving = false; /* defensive: starvation implies a waiter */
    }
    m->locked = false;
    if (m->q.n == 0 || m->woken)
        return;
    waiter_t *w = wq_pop_front(&m->q);
    m->woken = true;
    sched_ready(w->g);
}

/* ---- Mutex ------------------------------------------------------------- */

struct mutex {
    obj_t hdr;     /* scheduler-owned object */
    mu_core_t mu;  /* the state and its waiters */
    uint64_t holder; /* the goroutine that locked it last while locked, else 0 (reports) */
};

static uint64_t self_id(void)
{
    g_t *g = go_self();
    return g ? go_id(g) : 0;
}

mutex_t *mutex_new(void)
{
    return obj_alloc(sizeof(mutex_t), OBJ_MUTEX, NULL);
}

void mutex_free(mutex_t *m)
{
    obj_free(m);
}

/* Race clocks (race.h), as Go's sync under -race: a Mutex's Unlock
 * releases to its Lock; an RWMutex's writer Unlock releases to RLock and
 * Lock (sub 0, Go's readerSem), RUnlock merges into what Lock acquires
 * (sub 1, Go's writerSem); WaitGroup's Add/Done merge into Wait's; Once's
 * f releases to every Do that returns; Signal and Broadcast merge into the
 * Wait they wake. */
enum { RW_READ = 0, RW_WRITE = 1 };

void mutex_lock(mutex_t *m)
{
    sched_point_on(m->hdr.id);
    mu_lock(&m->mu, m->hdr.id);
    m->holder = self_id();
    race_acquire(m->hdr.id, 0);
    sched_emit(EV_LOCK, m->hdr.id, 0, 0, NULL);
}

/* Unlock without a decision point (Cond.Wait, with its waiter queued). */
static void unlock_here(mutex_t *m)
{
    if (!m->mu.locked)
        go_fatal("sync: unlock of unlocked mutex");
    race_release(m->hdr.id, 0);
    sched_emit(EV_UNLOCK, m->hdr.id, 0, 0, NULL);
    m->holder = 0;
    mu_unlock(&m->mu);
}

void mutex_unlock(mutex_t *m)
{
    sched_point_on(m->hdr.id);
    unlock_here(m);
}

bool mutex_try_lock(mutex_t *m)
{
    sched_point_on(m->hdr.id);
    if (!mu_try_lock(&m->mu))
        return false;
    m->holder = self_id();
    race_acquire(m->hdr.id, 0);
    sched_emit(EV_LOCK, m->hdr.id, 0, 0, NULL);
    return true;
}

bool mutex_locked(const mutex_t *m) { return m->mu.locked; }
uint64_t mutex_holder(const mutex_t *m) { return m->mu.locked ? m->holder : 0; }
bool mutex_starving(const mutex_t *m) { return m->mu.starving; }
uint64_t mutex_contended(const mutex_t *m) { return m->mu.contended; }
simtime_t mutex_wait_ns(const mutex_t *m) { return m->mu.wait_ns; }

/* ---- RWMutex ----------------------------------------------------------- */

struct rwmutex {
    obj_t hdr;              /* scheduler-owned object */
    mu_core_t w;            /* held by the writer, pending or active */
    int64_t reader_count;   /* Go's readerCount: readers inside or queued,
                             * minus RW_MAX_READERS while a writer is
                             * pending or holds the lock */
    int64_t reader_wait;    /* readers the pending writer still waits for */
    int64_t readers;        /* readers holding the lock (for the view) */
    bool writer_holds;      /* a writer holds the lock */
    uint64_t holder;        /* that writer (reports), else 0 */
    wqueue_t readerq;       /* readers queued behind a writer, FIFO */
    g_t *writer;            /* the pending writer parked for readers, or NULL */
    uint64_t contended;     /* acquisitions (either kind) that waited */
    simtime_t wait_ns;      /* their total wait */
};

rwmutex_t *rwmutex_new(void)
{
    return obj_alloc(sizeof(rwmutex_t), OBJ_RWMUTEX, NULL);
}

void rwmutex_free(rwmutex_t *rw)
{
    obj_free(rw);
}

void rwmutex_rlock(rwmutex_t *rw)
{
    sched_point_on(rw->hdr.id);
    if (++rw->reader_count < 0) {
        /* A writer is pending or active: wait until its Unlock, which
         * counts this reader in before waking it. */
        simtime_t start = sched_now();
        waiter_t w;
        wq_park(&rw->readerq, &w, false, WAIT_RWMUTEX_RLOCK, rw->hdr.id);
        rw->contended++;
        rw->wait_ns += sched_now() - start;
    } else {
        rw->readers++;
    }
    race_acquire(rw->hdr.id, RW_READ);
    sched_emit(EV_LOCK, rw->hdr.id, 1, 0, NULL);
}

bool rwmutex_try_rlock(rwmutex_t *rw)
{
    sched_point_on(rw->hdr.id);
    if (rw->reader_count < 0)
        return false;
    rw->reader_count++;
    rw->readers++;
    race_acquire(rw->hdr.id, RW_READ);
    sched_emit(EV_LOCK, rw->hdr.id, 1, 0, NULL);
    return true;
}

void rwmutex_runlock(rwmutex_t *rw)
{
    sched_point_on(rw->hdr.id);
    int64_t r = rw->reader_count - 1;
    if (r < 0 && (r + 1 == 0 || r + 1 == -RW_MAX_READERS))
        go_fatal("sync: RUnlock of unlocked RWMutex");
    race_release_merge(rw->hdr.id, RW_WRITE);
    rw->reader_count = r;
    rw->readers--;
    sched_emit(EV_UNLOCK, rw->hdr.id, 1, 0, NULL);
    if (r < 0 && --rw->reader_wait == 0) {
        /* The last reader the pending writer waited for: it may go. */
        g_t *g = rw->writer;
        rw->writer = NULL;
        sched_ready(g);
    }
}

void rwmutex_lock(rwmutex_t *rw)
{
    sched_point_on(rw->hdr.id);
    simtime_t start = sched_now();
    bool waited = mu_lock(&rw->w, rw->hdr.id);
    /* Announce the writer; r readers are still inside. */
    int64_t r = rw->reader_count;
    rw->reader_count -= RW_MAX_READERS;
    if (r != 0 && (rw->reader_wait += r) != 0) {
        rw->writer = go_self();
        sched_park(WAIT_RWMUTEX_LOCK, rw->hdr.id);
        waited = true;
    }
    rw->writer_holds = true;
    if (waited) {
        rw->contended++;
        rw->wait_ns += sched_now() - start;
    }
    rw->holder = self_id();
    race_acquire(rw->hdr.id, RW_READ);
    race_acquire(rw->hdr.id, RW_WRITE);
    sched_emit(EV_LOCK, rw->hdr.id, 0, 0, NULL);
}

bool rwmutex_try_lock(rwmutex_t *rw)
{
    sched_point_on(rw->hdr.id);
    if (!mu_try_lock(&rw->w))
        return false;
    if (rw->reader_count != 0) {
        mu_unlock(&rw->w);
        return false;
    }
    rw->reader_count = -RW_MAX_READERS;
    rw->writer_holds = true;
    rw->holder = self_id();
    race_acquire(rw->hdr.id, RW_READ);
    race_acquire(rw->hdr.id, RW_WRITE);
    sched_emit(EV_LOCK, rw->hdr.id, 0, 0, NULL);
    return true;
}

void rwmutex_unlock(rwmutex_t *rw)
{
    sched_point_on(rw->hdr.id);
    int64_t r = rw->reader_count + RW_MAX_READERS;
    if (r >= RW_MAX_READERS)
        go_fatal("sync: Unlock of unlocked RWMutex");
    race_release(rw->hdr.id, RW_READ);
    rw->reader_count = r;
    rw->writer_holds = false;
    rw->holder = 0;
    sched_emit(EV_UNLOCK, rw->hdr.id, 0, 0, NULL);
    /* Release every reader that queued behind this writer: they already
     * counted themselves in reader_count. */
    for (int64_t i = 0; i < r; i++) {
        waiter_t *w = wq_pop_front(&rw->readerq);
        if (!w)
            break;
        rw->readers++;
        sched_ready(w->g);
    }
    mu_unlock(&rw->w);
}

int64_t rwmutex_readers(const rwmutex_t *rw) { return rw->readers; }
bool rwmutex_writer(const rwmutex_t *rw) { return rw->writer_holds; }
uint64_t rwmutex_holder(const rwmutex_t *rw) { return rw->writer_holds ? rw->holder : 0; }
uint64_t rwmutex_contended(const rwmutex_t *rw) { return rw->contended; }
simtime_t rwmutex_wait_ns(const rwmutex_t *rw) { return rw->wait_ns; }

/* ---- WaitGroup --------------------------------------------------------- */

struct waitgroup {
    obj_t hdr;      /* scheduler-owned object */
    int64_t count;  /* the counter */
    wqueue_t q;     /* goroutines in Wait, oldest first */
};

waitgroup_t *waitgroup_new(void)
{
    return obj_alloc(sizeof(waitgroup_t), OBJ_WAITGROUP, NULL);
}

void waitgroup_free(waitgroup_t *wg)
{
    obj_free(wg);
}

void waitgroup_add(waitgroup_t *wg, int64_t delta)
{
    sched_point_on(wg->hdr.id);
    if (delta < 0)
        race_release_merge(wg->hdr.id, 0);
    int64_t v = wg->count + delta;
    wg->count = v;
    if (v < 0)
        go_panic("sync: negative WaitGroup counter");
    /* Go's "Add called concurrently with Wait" needs a waiter while the
     * counter is 0; here waiters exist only while it is positive, and
     * the counter reaching 0 releases them all at once. */
    if (v > 0 || wg->q.n == 0)
        return;
    wq_ready_all(&wg->q);
}

void waitgroup_done(waitgroup_t *wg)
{
    waitgroup_add(wg, -1);
}

void waitgroup_wait(waitgroup_t *wg)
{
    sched_point_on(wg->hdr.id);
    if (wg->count == 0) {
        race_acquire(wg->hdr.id, 0);
        return;
    }
    waiter_t w;
    wq_park(&wg->q, &w, false, WAIT_WAITGROUP, wg->hdr.id);
    race_acquire(wg->hdr.id, 0);
    /* Released at zero; an Add (and perhaps a Wait) since then reused
     * the group before this Wait returned. */
    if (wg->count != 0 || wg->q.n != 0)
        go_panic("sync: WaitGroup is reused before previous Wait has returned");
}

int64_t waitgroup_count(const waitgroup_t *wg) { return wg->count; }

/* ---- Once -------------------------------------------------------------- */

struct once {
    obj_t hdr;     /* scheduler-owned object */
    bool done;     /* f has returned (or panicked) */
    mu_core_t mu;  /* held while f runs: later callers wait for it */
};

/* A Do that is running f. If f panics, Go's deferred done.Store(1) and
 * m.Unlock() still run. Here a panic hook, installed on the goroutine for
 * the duration of f, does that work for the innermost Do of the goroutine
 * and then passes the panic on to the host's hook (the one the outermost
 * Do displaced), which may recover by unwinding the goroutine's stack:
 * - to a point inside f (the Lua host's pcall around f): f then returns
 *   normally and its Do, seeing the frame already finished, just returns;
 *   an enclosing Do is untouched, so nested Dos stay exact;
 * - to a point outside the Do (a C host's longjmp): the Once is done and
 *   unlocked, as in Go.
 * Limits: a host that recovers inside f and then blocks before f returns
 * lets other callers of Do return early; one that unwinds past several
 * nested Dos at once leaves the outer ones locked; go_exit inside f leaves
 * the Once locked (Go would run the deferred Unlock in all three cases).
 *
 * The hook has no argument, so it finds its frame in a per-thread list by
 * scheduler and goroutine id. A frame is a scheduler-owned object whose
 * deinit unlinks it, so a run that ends while f is parked (deadlock, time
 * limit, another goroutine's panic) leaves no stale entry behind. */
typedef struct once_frame {
    obj_t hdr;                 /* scheduler-owned; deinit unlinks */
    struct once_frame *next;   /* the thread's active frames, newest first */
    struct once_frame **pprev; /* the link that points here, or NULL */
    sched_t *sched;            /* the scheduler of the goroutine */
    uint64_t gid;              /* the goroutine running f */
    once_t *o;                 /* the Once */
    go_panic_hook_t prev;      /* the goroutine's hook before this Do */
    bool panicked;             /* the hook finished the Once already */
} once_frame_t;

static _Thread_local once_frame_t *once_frames;

static void once_frame_unlink(obj_t *obj)
{
    once_frame_t *f = (once_frame_t *)obj;
    if (!f->pprev)
        return;
    *f->pprev = f->next;
    if (f->next)
        f->next->pprev = f->pprev;
    f->next = NULL;
    f->pprev = NULL;
}

static bool once_frame_of(const once_frame_t *f, const sched_t *s, uint64_t gid)
{
    return f->sched == s && f->gid == gid;
}

static void once_finish(once_t *o)
{
    race_release_merge(o->hdr.id, 0);
    o->done = true;
    mu_unlock(&o->mu);
}

static void once_panic_hook(g_t *g, const char *msg)
{
    sched_t *s = sched_current();
    uint64_t gid = go_id(g);
    once_frame_t *f = once_frames;
    while (f && !once_frame_of(f, s, gid))
        f = f->next;
    if (!f)
        return;
    once_frame_unlink(&f->hdr);
    f->panicked = true;
    go_set_panic_hook(g, f->prev);
    /* The host's hook: the one the outermost remaining Do displaced. */
    go_panic_hook_t host = f->prev;
    for (once_frame_t *e = once_frames; e; e = e->next)
        if (once_frame_of(e, s, gid))
            host = e->prev;
    once_finish(f->o);
    if (host)
        host(g, msg);
}

once_t *once_new(void)
{
    return obj_alloc(sizeof(once_t), OBJ_ONCE, NULL);
}

void once_free(once_t *o)
{
    obj_free(o);
}

void once_do(once_t *o, void (*f)(void *), void *arg)
{
    sched_point_on(o->hdr.id);
    if (o->done) {
        race_acquire(o->hdr.id, 0);
        return;
    }
    mu_lock(&o->mu, o->hdr.id);
    if (o->done) {
        mu_unlock(&o->mu);
        race_acquire(o->hdr.id, 0);
        return;
    }
    g_t *g = go_self();
    once_frame_t *fr = obj_alloc(sizeof *fr, OBJ_NONE, once_frame_unlink);
    fr->sched = sched_current();
    fr->gid = go_id(g);
    fr->o = o;
    fr->prev = go_panic_hook(g);
    fr->next = once_frames;
    if (once_frames)
        once_frames->pprev = &fr->next;
    fr->pprev = &once_frames;
    once_frames = fr;
    go_set_panic_hook(g, once_panic_hook);
    f(arg);
    bool finished = fr->panicked; /* recovered inside f: already done */
    if (!finished)
        go_set_panic_hook(g, fr->prev);
    obj_free(fr);
    if (!finished)
        once_finish(o);
}

/* ---- Cond -------------------------------------------------------------- */

struct cond {
    obj_t hdr;    /* scheduler-owned object */
    mutex_t *l;   /* Go's L, borrowed */
    wqueue_t q;   /* goroutines in Wait, oldest first (Go's ticket order) */
};

cond_t *cond_new(mutex_t *l)
{
    cond_t *c = obj_alloc(sizeof(cond_t), OBJ_COND, NULL);
    c->l = l;
    return c;
}

void cond_free(cond_t *c)
{
    obj_free(c);
}

void cond_wait(cond_t *c)
{
    if (!c->l)
        go_panic("runtime error: invalid memory address or nil pointer dereference");
    /* Go takes its ticket before unlocking L, so a Signal sent between
     * the Unlock and the park is not lost; here nothing runs in between. */
    uint64_t keys[2] = {c->hdr.id, c->l->hdr.id};
    sched_point_keys(keys, 2);
    waiter_t w = {.g = go_self()};
    wq_push_back(&c->q, &w);
    unlock_here(c->l);
    sched_park(WAIT_COND, c->hdr.id);
    race_acquire(c->hdr.id, 0);
    mutex_lock(c->l);
}

void cond_signal(cond_t *c)
{
    sched_point_on(c->hdr.id);
    race_release_merge(c->hdr.id, 0);
    waiter_t *w = wq_pop_front(&c->q);
    if (w)
        sched_ready(w->g);
}

void cond_broadcast(cond_t *c)
{
    sched_point_on(c->hdr.id);
    race_release_merge(c->hdr.id, 0);
    wq_ready_all(&c->q);
}
