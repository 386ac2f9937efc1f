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

/* A heap slot keeps its entry's key, so that sifting reads only the heap
 * array: with a million sleeping goroutines the entries are spread over a
 * million stacks, and reading them level by level was most of the cost of
 * a timer. The heap is 4-ary (half the levels of a binary one; the four
 * children share a cache line or two). Keys are unique (the sequence
 * number), so the order of firing is the same whatever the heap's shape. */
typedef struct tq_slot {
    simtime_t when;      /* the entry's deadline */
    uint64_t seq;        /* the entry's arming number */
    tq_entry_t *e;       /* the entry */
    bool tracked;        /* e->idx is kept equal to this slot's index */
} tq_slot_t;

struct timerq {
    tq_slot_t *heap;     /* min-heap on (when, seq) */
    size_t n, cap;
    tq_entry_t **due;    /* the batch being fired: [due_head, ndue) in (when, seq) order */
    size_t due_head, ndue, capdue;
    uint64_t seq;        /* arming counter */
    unsigned long long walks; /* invariant_sparse's counter for timerq_check */
};

timerq_t *timerq_create(void)
{
    return mem_calloc(1, sizeof(timerq_t));
}

void timerq_destroy(timerq_t *q)
{
    if (!q)
        return;
    free(q->heap);
    free(q->due);
    free(q);
}

static inline bool before(const tq_slot_t *a, const tq_slot_t *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

#define TQ_ARITY 4

/* Put slot x at index i (and tell its entry, if tracked). */
static inline void place(timerq_t *q, size_t i, tq_slot_t x)
{
    q->heap[i] = x;
    if (x.tracked)
        x.e->idx = (int64_t)i;
}

/* Move the slot at i up to its place; returns where it ends. */
static size_t sift_up(timerq_t *q, size_t i)
{
    tq_slot_t x = q->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / TQ_ARITY;
        if (!before(&x, &q->heap[p]))
            break;
        place(q, i, q->heap[p]);
        i = p;
    }
    place(q, i, x);
    return i;
}

/* Move the slot at i down to its place; returns where it ends. */
static size_t sift_down(timerq_t *q, size_t i)
{
    tq_slot_t x = q->heap[i];
    for (;;) {
        size_t c = TQ_ARITY * i + 1;
        if (c >= q->n)
            break;
        size_t end = c + TQ_ARITY < q->n ? c + TQ_ARITY : q->n;
        size_t m = c;
        for (size_t k = c + 1; k < end; k++)
            if (before(&q->heap[k], &q->heap[m]))
                m = k;
        if (!before(&q->heap[m], &x))
            break;
        place(q, i, q->heap[m]);
        i = m;
    }
    place(q, i, x);
    return i;
}

/* The heap is ordered (no slot before its parent), every tracked entry
 * knows its slot, and every entry of the due batch reads TQ_DUE. O(n). */
static void timerq_check(const timerq_t *q)
{
    for (size_t i = 0; i < q->n; i++) {
        const tq_slot_t *x = &q->heap[i];
        if (i > 0)
            ASSERT(!before(x, &q->heap[(i - 1) / TQ_ARITY]));
        if (x->tracked)
            ASSERT(x->e->idx == (int64_t)i);
    }
    for (size_t i = q->due_head; i < q->ndue; i++)
        ASSERT(q->due[i]->idx == TQ_DUE);
}

/* After a change: the whole heap while small in debug builds, and at
 * power-of-two counts of changes in every build. */
static inline void timerq_checkpoint(timerq_t *q)
{
    if ((INVARIANT_DEEP && q->n <= 64) || invariant_sparse(&q->walks))
        timerq_check(q);
}

static void heap_add(timerq_t *q, tq_entry_t *e, simtime_t when, bool tracked)
{
    ASSERTF(e->idx == TQ_IDLE, "timer entry armed twice");
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->heap = mem_realloc(q->heap, q->cap * sizeof *q->heap);
    }
    e->when = when;
    e->seq = q->seq++;
    if (!tracked)
        e->idx = TQ_UNTRACKED;
    q->heap[q->n++] = (tq_slot_t){.when = when, .seq = e->seq, .e = e, .tracked = tracked};
    sift_up(q, q->n - 1);
    timerq_checkpoint(q);
}

void timerq_add(timerq_t *q, tq_entry_t *e, simtime_t when)
{
    heap_add(q, e, when, true);
}

void timerq_add_untracked(timerq_t *q, tq_entry_t *e, simtime_t when)
{
    heap_add(q, e, when, false);
}

static void heap_remove_at(timerq_t *q, size_t i)
{
    tq_slot_t last = q->heap[--q->n];
    if (i < q->n) {
        q->heap[i] = last;
        sift_up(q, sift_down(q, i));
    }
}

bool timerq_remove(timerq_t *q, tq_entry_t *e)
{
    ASSERTF(e->idx != TQ_UNTRACKED, "timerq_remove on an entry armed by timerq_add_untracked");
    if (e->idx >= 0) {
        ASSERT((size_t)e->idx < q->n && q->heap[e->idx].e == e); /* e is in this queue */
        heap_remove_at(q, (size_t)e->idx);
        e->idx = TQ_IDLE;
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

size_t timerq_len(const timerq_t *q) { return q->n; }

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
        tq_entry_t *e = q->heap[0].e;
        heap_remove_at(q, 0);
        if (q->ndue == q->capdue) {
            q->capdue = q->capdue ? q->capdue * 2 : 16;
            q->due = mem_realloc(q->due, q->capdue * sizeof *q->due);
        }
        e->idx = TQ_DUE;
        q->due[q->ndue++] = e;
    }
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
