/*
 * timer: the timer heap with its due batch, Sleep, Timer, Ticker, After and
 * AfterFunc. See timer.h for the semantics.
 */
#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invariant.h"
#include "mem.h"
#include "timerq.h"

/* Entries are grouped by deadline: a bucket holds every entry armed for
 * one instant, in arming order (so in sequence order), and a 4-ary
 * min-heap orders the buckets by their instant. A million goroutines
 * sleeping over a few thousand distinct instants cost a few thousand heap
 * slots, not a million: arming is a lookup in a small hash index and an
 * append, firing takes a whole bucket, already in (when, seq) order, to
 * the due batch. The order of firing is the one a heap on (when, seq)
 * gives, whatever the heap's shape.
 *
 * Removal is lazy inside a bucket (its slot becomes NULL, the bucket is
 * compacted when mostly empty); a bucket left with no entry leaves the
 * index at once and is dropped from the heap when it reaches the top, or
 * when dropped buckets outnumber the live ones (the heap is then rebuilt
 * without them). A tracked entry's idx is its slot in its bucket; an
 * untracked one (a Sleep) is never written while it waits, so arming and
 * firing touch the sleeping goroutine's stack only when it is armed and
 * when it fires. */
typedef struct tq_bucket {
    simtime_t when;           /* the instant of every entry in it */
    tq_entry_t **v;           /* entries in arming order; NULL where removed */
    uint32_t n, cap;          /* slots used, allocated */
    uint32_t live;            /* non-NULL slots */
    bool dropped;             /* out of the index, empty, waiting in the heap */
    struct tq_bucket *next_free;
} tq_bucket_t;

typedef struct tq_slot {
    simtime_t when;           /* the bucket's instant, kept for sifting */
    tq_bucket_t *b;
} tq_slot_t;

struct timerq {
    tq_slot_t *heap;          /* min-heap of buckets on when */
    size_t n, cap;
    tq_bucket_t **index;      /* open addressing: when -> its bucket (not dropped) */
    size_t index_cap, index_len;
    tq_bucket_t *free_buckets; /* for reuse, with their slot arrays */
    size_t live;              /* entries armed, not yet due */
    size_t dropped;           /* dropped buckets still in the heap */
    tq_entry_t **due;         /* the batch being fired: [due_head, ndue) in (when, seq) order */
    size_t due_head, ndue, capdue;
    uint64_t seq;             /* arming counter */
    unsigned long long walks; /* invariant_sparse's counter for timerq_check */
};

timerq_t *timerq_create(void)
{
    return mem_calloc(1, sizeof(timerq_t));
}

static void bucket_free_mem(tq_bucket_t *b)
{
    free(b->v);
    free(b);
}

void timerq_destroy(timerq_t *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++)
        bucket_free_mem(q->heap[i].b);
    while (q->free_buckets) {
        tq_bucket_t *b = q->free_buckets;
        q->free_buckets = b->next_free;
        bucket_free_mem(b);
    }
    free(q->heap);
    free(q->index);
    free(q->due);
    free(q);
}

/* ---- the index: instant -> bucket ---------------------------------------- */

static inline size_t index_hash(simtime_t when, size_t mask)
{
    uint64_t x = (uint64_t)when;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & mask;
}

static tq_bucket_t *index_find(const timerq_t *q, simtime_t when)
{
    if (!q->index_cap)
        return NULL;
    size_t mask = q->index_cap - 1;
    for (size_t i = index_hash(when, mask);; i = (i + 1) & mask) {
        tq_bucket_t *b = q->index[i];
        if (!b || b->when == when)
            return b;
    }
}

static void index_put_raw(timerq_t *q, tq_bucket_t *b)
{
    size_t mask = q->index_cap - 1;
    size_t i = index_hash(b->when, mask);
    while (q->index[i])
        i = (i + 1) & mask;
    q->index[i] = b;
}

static void index_put(timerq_t *q, tq_bucket_t *b)
{
    if (2 * (q->index_len + 1) > q->index_cap) {
        tq_bucket_t **old = q->index;
        size_t oldcap = q->index_cap;
        q->index_cap = oldcap ? 2 * oldcap : 64;
        q->index = mem_calloc(q->index_cap, sizeof *q->index);
        for (size_t i = 0; i < oldcap; i++)
            if (old[i])
                index_put_raw(q, old[i]);
        free(old);
    }
    index_put_raw(q, b);
    q->index_len++;
}

/* Remove b, shifting back the entries of its probe run. */
static void index_del(timerq_t *q, const tq_bucket_t *b)
{
    size_t mask = q->index_cap - 1;
    size_t i = index_hash(b->when, mask);
    while (q->index[i] != b)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; q->index[j]; j = (j + 1) & mask) {
        size_t h = index_hash(q->index[j]->when, mask);
        /* Move j's bucket into the hole at i unless its home lies in (i, j]. */
        bool home_between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!home_between) {
            q->index[i] = q->index[j];
            i = j;
        }
    }
    q->index[i] = NULL;
    q->index_len--;
}

/* ---- the heap of buckets --------------------------------------------------- */

#define TQ_ARITY 4

static size_t sift_up(timerq_t *q, size_t i)
{
    tq_slot_t x = q->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / TQ_ARITY;
        if (!(x.when < q->heap[p].when))
            break;
        q->heap[i] = q->heap[p];
        i = p;
    }
    q->heap[i] = x;
    return i;
}

static void sift_down(timerq_t *q, size_t i)
{
    tq_slot_t x = q->heap[i];
    for (;;) {
        size_t c = TQ_ARITY * i + 1;
        if (c >= q->n)
            break;
        size_t end = c + TQ_ARITY < q->n ? c + TQ_ARITY : q->n;
        size_t m = c;
        for (size_t k = c + 1; k < end; k++)
            if (q->heap[k].when < q->heap[m].when)
                m = k;
        if (!(q->heap[m].when < x.when))
            break;
        q->heap[i] = q->heap[m];
        i = m;
    }
    q->heap[i] = x;
}

static tq_bucket_t *heap_pop(timerq_t *q)
{
    tq_bucket_t *b = q->heap[0].b;
    q->heap[0] = q->heap[--q->n];
    if (q->n)
        sift_down(q, 0);
    return b;
}

static tq_bucket_t *bucket_new(timerq_t *q, simtime_t when)
{
    tq_bucket_t *b = q->free_buckets;
    if (b)
        q->free_buckets = b->next_free;
    else
        b = mem_calloc(1, sizeof *b);
    b->when = when;
    b->n = b->live = 0;
    b->dropped = false;
    b->next_free = NULL;
    return b;
}

static void bucket_recycle(timerq_t *q, tq_bucket_t *b)
{
    b->next_free = q->free_buckets;
    q->free_buckets = b;
}

/* Drop the dropped buckets at the top, so that the top is a bucket with
 * entries; rebuild the heap without dropped buckets once they outnumber
 * the others. */
static void heap_tidy(timerq_t *q)
{
    while (q->n && q->heap[0].b->dropped) {
        bucket_recycle(q, heap_pop(q));
        q->dropped--;
    }
    if (q->dropped > 64 && q->dropped > q->n / 2) {
        size_t k = 0;
        for (size_t i = 0; i < q->n; i++) {
            if (q->heap[i].b->dropped)
                bucket_recycle(q, q->heap[i].b);
            else
                q->heap[k++] = q->heap[i];
        }
        q->n = k;
        q->dropped = 0;
        for (size_t i = q->n / TQ_ARITY + 1; i-- > 0;)
            if (i < q->n)
                sift_down(q, i);
    }
}

/* The heap is ordered, its top holds entries, the index holds exactly the
 * heap's buckets that are not dropped, every bucket counts its entries,
 * every tracked entry knows its slot, and every entry of the due batch
 * reads TQ_DUE. O(n). */
static void timerq_check(const timerq_t *q)
{
    size_t live = 0, dropped = 0, indexed = 0;
    ASSERT(!q->n || !q->heap[0].b->dropped);
    for (size_t i = 0; i < q->n; i++) {
        const tq_bucket_t *b = q->heap[i].b;
        ASSERT(q->heap[i].when == b->when);
        if (i > 0)
            ASSERT(!(b->when < q->heap[(i - 1) / TQ_ARITY].when));
        if (b->dropped) {
            ASSERT(b->live == 0);
            dropped++;
            continue;
        }
        indexed++;
        ASSERT(index_find(q, b->when) == b);
        uint32_t k = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            tq_entry_t *e = b->v[j];
            if (!e)
                continue;
            k++;
            /* The entries themselves (each on its own goroutine's stack,
             * with a million sleepers a million cold pages) in debug
             * builds only. */
            if (INVARIANT_DEEP) {
                ASSERT(e->when == b->when);
                ASSERT(e->idx == TQ_UNTRACKED || e->idx == (int64_t)j);
            }
        }
        ASSERT(k == b->live && k > 0);
        live += k;
    }
    ASSERT(live == q->live && dropped == q->dropped && indexed == q->index_len);
    for (size_t i = q->due_head; i < q->ndue; i++)
        ASSERT(q->due[i]->idx == TQ_DUE);
}

/* After a change: the whole queue while small in debug builds, and at
 * power-of-two counts of changes in every build. */
static inline void timerq_checkpoint(timerq_t *q)
{
    if ((INVARIANT_DEEP && q->live <= 64) || invariant_sparse(&q->walks))
        timerq_check(q);
}

static void queue_add(timerq_t *q, tq_entry_t *e, simtime_t when, bool tracked)
{
    ASSERTF(e->idx == TQ_IDLE, "timer entry armed twice");
    tq_bucket_t *b = index_find(q, when);
    if (!b) {
        b = bucket_new(q, when);
        index_put(q, b);
        if (q->n == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 64;
            q->heap = mem_realloc(q->heap, q->cap * sizeof *q->heap);
        }
        q->heap[q->n++] = (tq_slot_t){.when = when, .b = b};
        sift_up(q, q->n - 1);
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->v = mem_realloc(b->v, b->cap * sizeof *b->v);
    }
    e->when = when;
    e->seq = q->seq++;
    e->idx = tracked ? (int64_t)b->n : TQ_UNTRACKED;
    b->v[b->n++] = e;
    b->live++;
    q->live++;
    timerq_checkpoint(q);
}

void timerq_add(timerq_t *q, tq_entry_t *e, simtime_t when)
{
    queue_add(q, e, when, true);
}

void timerq_add_untracked(timerq_t *q, tq_entry_t *e, simtime_t when)
{
    queue_add(q, e, when, false);
}

/* Close the gaps of a bucket mostly emptied by removals. */
static void bucket_compact(tq_bucket_t *b)
{
    uint32_t k = 0;
    for (uint32_t j = 0; j < b->n; j++) {
        tq_entry_t *e = b->v[j];
        if (!e)
            continue;
        if (e->idx != TQ_UNTRACKED)
            e->idx = (int64_t)k;
        b->v[k++] = e;
    }
    b->n = k;
}

bool timerq_remove(timerq_t *q, tq_entry_t *e)
{
    ASSERTF(e->idx != TQ_UNTRACKED, "timerq_remove on an entry armed by timerq_add_untracked");
    if (e->idx >= 0) {
        tq_bucket_t *b = index_find(q, e->when);
        ASSERT(b && (size_t)e->idx < b->n && b->v[e->idx] == e); /* e is in this queue */
        b->v[e->idx] = NULL;
        e->idx = TQ_IDLE;
        b->live--;
        q->live--;
        if (b->live == 0) {
            index_del(q, b);
            b->dropped = true;
            q->dropped++;
            heap_tidy(q);
        } else if (b->n - b->live > 32 && b->n - b->live > b->live) {
            bucket_compact(b);
        }
        timerq_checkpoint(q);
        return true;
    }
    if (e->idx == TQ_DUE) {
        for (size_t i = q->due_head; i < q->ndue; i++) {
            if (q->due[i] == e) {
                memmove(&q->due[i], &q->due[i + 1], (q->ndue - i - 1) * sizeof *q->due);
                q->ndue--;
                break;
            }
        }
        e->idx = TQ_IDLE;
        return true;
    }
    return false;
}

simtime_t timerq_next(const timerq_t *q)
{
    return q->n ? q->heap[0].when : SIMTIME_MAX;
}

size_t timerq_len(const timerq_t *q) { return q->live; }

/* ---- callback timers ----------------------------------------------------- */

void timer_entry_init(tq_entry_t *e, void (*fire)(tq_entry_t *e), uint64_t obj)
{
    e->when = 0;
    e->seq = 0;
    e->idx = TQ_IDLE;
    e->fire = fire;
    e->obj = obj;
}

void timer_entry_arm(tq_entry_t *e, simtime_t when)
{
    sched_t *s = sched_current();
    ASSERTF(s, "timer_entry_arm outside a running scheduler");
    ASSERTF(e->idx == TQ_IDLE, "timer_entry_arm on an entry already armed");
    timerq_add(sched_timerq(s), e, when);
}

bool timer_entry_disarm(tq_entry_t *e)
{
    if (e->idx == TQ_IDLE)
        return false;
    sched_t *s = sched_current();
    return s ? timerq_remove(sched_timerq(s), e) : false;
}

bool timer_entry_pending(const tq_entry_t *e)
{
    return e->idx != TQ_IDLE;
}

void timerq_fire_due(sched_t *s, timerq_t *q, simtime_t now)
{
    while (q->n && q->heap[0].when <= now) {
        tq_bucket_t *b = heap_pop(q);
        if (b->dropped) {
            q->dropped--;
            bucket_recycle(q, b);
            continue;
        }
        index_del(q, b);
        if (q->ndue + b->live > q->capdue) {
            while (q->ndue + b->live > q->capdue)
                q->capdue = q->capdue ? q->capdue * 2 : 16;
            q->due = mem_realloc(q->due, q->capdue * sizeof *q->due);
        }
        for (uint32_t j = 0; j < b->n; j++) {
            tq_entry_t *e = b->v[j];
            if (j + 8 < b->n && b->v[j + 8])
                __builtin_prefetch(b->v[j + 8], 1); /* each on its own stack */
            if (e) {
                e->idx = TQ_DUE;
                q->due[q->ndue++] = e;
            }
        }
        q->live -= b->live;
        bucket_recycle(q, b);
    }
    heap_tidy(q);
    while (q->due_head < q->ndue) {
        size_t left = q->ndue - q->due_head;
        size_t i = q->due_head + sched_decide(s, CHOICE_TIMER, (uint32_t)left);
        tq_entry_t *e = q->due[i];
        ASSERT(e->idx == TQ_DUE && e->when <= now);
        /* Close the gap from the nearer end, keeping the order: taking the
         * first (FIFO) costs nothing, so a million timers due at once
         * fire in linear time. */
        if (i - q->due_head < q->ndue - i - 1) {
            memmove(&q->due[q->due_head + 1], &q->due[q->due_head],
                    (i - q->due_head) * sizeof *q->due);
            q->due_head++;
        } else {
            memmove(&q->due[i], &q->due[i + 1], (q->ndue - i - 1) * sizeof *q->due);
            q->ndue--;
        }
        e->idx = TQ_IDLE;
        e->fire(e);
    }
    q->due_head = q->ndue = 0;
}

/* ---- Sleep ------------------------------------------------------------- */

typedef struct sleeper {
    tq_entry_t e;  /* first: the entry is the sleeper */
    g_t *g;        /* the goroutine to wake */
} sleeper_t;

static void sleeper_fire(tq_entry_t *e)
{
    sched_ready(((sleeper_t *)e)->g);
}

void go_sleep_until(simtime_t t)
{
    sched_t *s = sched_current();
    if (t <= sched_now_of(s))
        return;
    sleeper_t sl = {.e = {.idx = TQ_IDLE, .fire = sleeper_fire}, .g = go_self()};
    timerq_add_untracked(sched_timerq(s), &sl.e, t); /* nothing cancels a sleep */
    sched_park_until(WAIT_SLEEP, 0, t);
}

static simtime_t deadline_after(simtime_t d)
{
    simtime_t now = sched_now();
    if (d <= 0)
        return now; /* Go's when(): a non-positive d means now */
    if (d > SIMTIME_MAX - now)
        return SIMTIME_MAX; /* Go clamps a fire time that would overflow */
    return now + d;
}

/* A sleep's, a timer's or a ticker's first fire time: late by the run's
 * timer slack, if any (a real sleep always overshoots). */
static simtime_t deadline_late(simtime_t d)
{
    simtime_t when = deadline_after(d);
    simtime_t late = d > 0 ? sched_timer_slack(sched_current(), d) : 0;
    return late > SIMTIME_MAX - when ? SIMTIME_MAX : when + late;
}

void go_sleep(simtime_t d)
{
    if (d <= 0)
        return;
    go_sleep_until(deadline_late(d));
}

/* ---- Timer, Ticker, AfterFunc ------------------------------------------ */

struct sim_timer {
    obj_t hdr;               /* scheduler-owned object */
    tq_entry_t e;            /* the queue entry while armed */
    chan_t *c;               /* the channel (NULL for AfterFunc) */
    simtime_t period;        /* ticker period; 0 for a one-shot timer */
    void (*f)(void *);       /* AfterFunc's function */
    void *farg;              /* its argument */
};

#define TIMER_OF(entry) ((sim_timer_t *)((char *)(entry) - offsetof(sim_timer_t, e)))

static void afterfunc_entry(void *arg)
{
    sim_timer_t *t = arg;
    t->f(t->farg);
}

static void timer_fire(tq_entry_t *e)
{
    sim_timer_t *t = TIMER_OF(e);
    sched_emit(EV_TIMER_FIRE, t->hdr.id, e->when, 0, NULL);
    if (t->f) {
        go_spawn(afterfunc_entry, t, "time.goFunc");
        return;
    }
    int64_t v = e->when;
    /* One value at most waits in the channel: a lagging receiver loses
     * ticks, never blocks the clock. */
    chan_try_send(t->c, &v);
    chan_set_due(t->c, -1);
    if (t->period > 0) {
        simtime_t next = deadline_after(t->period);
        timerq_add(sched_timerq(sched_current()), &t->e, next);
        chan_set_due(t->c, next);
    }
}

static void timer_deinit(obj_t *o)
{
    sim_timer_t *t = (sim_timer_t *)o;
    if (t->e.idx != TQ_IDLE && sched_current())
        timerq_remove(sched_timerq(sched_current()), &t->e);
}

static sim_timer_t *timer_alloc(simtime_t d, simtime_t period, bool with_chan)
{
    sim_timer_t *t = obj_alloc(sizeof *t, OBJ_TIMER, timer_deinit);
    t->e.idx = TQ_IDLE;
    t->e.fire = timer_fire;
    t->e.obj = t->hdr.id;
    t->period = period;
    if (with_chan) {
        t->c = chan_make(sizeof(int64_t), 1);
        chan_mark_timer(t->c);
    }
    simtime_t when = deadline_late(d);
    timerq_add(sched_timerq(sched_current()), &t->e, when);
    chan_set_due(t->c, when);
    sched_emit(EV_TIMER_SET, t->hdr.id, when, period, NULL);
    return t;
}

sim_timer_t *timer_new(simtime_t d)
{
    return timer_alloc(d, 0, true);
}

sim_timer_t *timer_after_func(simtime_t d, void (*f)(void *), void *arg)
{
    sim_timer_t *t = timer_alloc(d, 0, false);
    t->f = f;
    t->farg = arg;
    return t;
}

chan_t *timer_chan(const sim_timer_t *t) { return t ? t->c : NULL; }

bool timer_stop(sim_timer_t *t)
{
    if (!t)
        go_panic("time: Stop called on uninitialized Timer");
    bool active = timerq_remove(sched_timerq(sched_current()), &t->e);
    /* Go 1.23: a fired value nobody received yet counts as pending. */
    if (t->c && chan_drain(t->c))
        active = true;
    chan_set_due(t->c, -1);
    sched_emit(EV_TIMER_STOP, t->hdr.id, active, 0, NULL);
    return active;
}

bool timer_reset(sim_timer_t *t, simtime_t d)
{
    if (!t)
        go_panic("time: Reset called on uninitialized Timer");
    timerq_t *q = sched_timerq(sched_current());
    bool active = timerq_remove(q, &t->e);
    if (t->c && chan_drain(t->c))
        active = true; /* as in Stop */
    simtime_t when = deadline_late(d);
    timerq_add(q, &t->e, when);
    chan_set_due(t->c, when);
    sched_emit(EV_TIMER_SET, t->hdr.id, when, t->period, NULL);
    return active;
}

void timer_free(sim_timer_t *t)
{
    if (!t)
        return;
    chan_t *c = t->c;
    obj_free(t);
    chan_free(c);
}

chan_t *go_after(simtime_t d)
{
    return timer_new(d)->c;
}

sim_timer_t *ticker_new(simtime_t d)
{
    if (d <= 0)
        go_panic("non-positive interval for NewTicker");
    return timer_alloc(d, d, true);
}

void ticker_stop(sim_timer_t *t)
{
    if (!t)
        return; /* Go does not panic here, for old programs (issue 21874) */
    timerq_remove(sched_timerq(sched_current()), &t->e);
    chan_drain(t->c);
    chan_set_due(t->c, -1);
    sched_emit(EV_TIMER_STOP, t->hdr.id, 0, 0, NULL);
}

void ticker_reset(sim_timer_t *t, simtime_t d)
{
    if (d <= 0)
        go_panic("non-positive interval for Ticker.Reset");
    if (!t)
        go_panic("time: Reset called on uninitialized Ticker");
    timerq_t *q = sched_timerq(sched_current());
    timerq_remove(q, &t->e);
    chan_drain(t->c);
    t->period = d;
    simtime_t when = deadline_after(d);
    timerq_add(q, &t->e, when);
    chan_set_due(t->c, when);
    sched_emit(EV_TIMER_SET, t->hdr.id, when, d, NULL);
}

chan_t *go_tick(simtime_t d)
{
    if (d <= 0)
        return NULL;
    return ticker_new(d)->c;
}
