/*
 * chan: channels and select, following runtime/chan.go and
 * runtime/select.go. See chan.h for the semantics.
 *
 * A blocked operation is a sudog (Go's name) on the blocked goroutine's own
 * stack, queued on the channel. The goroutine that completes it copies the
 * value, records the outcome in the sudog and makes the owner runnable. A
 * blocked select queues one sudog per non-nil case; the first counterparty
 * to reach one marks the select as fired, and entries of a fired select
 * still queued elsewhere are skipped until their owner removes them.
 */
#include "chan.h"

#include <stdlib.h>
#include <string.h>

#include "invariant.h"
#include "mem.h"
#include "race.h"

typedef struct selstate {
    int fired;  /* index of the case that fired, or -1 */
} selstate_t;

typedef struct sudog {
    struct sudog *prev, *next; /* the channel's wait queue */
    g_t *g;                    /* the parked goroutine */
    void *elem;                /* send: the value; receive: the destination */
    selstate_t *sel;           /* the select it belongs to, or NULL */
    int case_idx;              /* its case in that select */
    bool success;              /* completed by a counterparty (false: closed) */
    uint64_t peer;             /* the goroutine that completed it */
    chan_t *c;                 /* the channel it is queued on */
    bool queued;               /* currently linked in c's queue */
} sudog_t;

typedef struct waitq {
    sudog_t *first, *last;
} waitq_t;

struct chan {
    obj_t hdr;          /* scheduler-owned object */
    size_t elem_size;   /* bytes per element, may be 0 */
    int64_t cap;        /* buffer capacity */
    int64_t count;      /* elements buffered */
    int64_t head;       /* index of the oldest buffered element */
    char *buf;          /* cap * elem_size bytes */
    bool closed;        /* close has been called */
    bool is_timer;      /* a timer's channel: len and cap read 0 */
    bool is_ctx_done;   /* a context's Done channel */
    simtime_t due;      /* when a timer or a deadline makes it ready, -1 if none */
    waitq_t recvq;      /* blocked receivers, oldest first */
    waitq_t sendq;      /* blocked senders, oldest first */
};

#define CHAN_MAX_BUFFER_BYTES ((int64_t)1 << 40)

static void chan_deinit(obj_t *o)
{
    free(((chan_t *)o)->buf);
}

chan_t *chan_make(size_t elem_size, int64_t cap)
{
    if (cap < 0 || (elem_size > 0 && cap > CHAN_MAX_BUFFER_BYTES / (int64_t)elem_size))
        go_panic("makechan: size out of range");
    chan_t *c = obj_alloc(sizeof *c, OBJ_CHAN, chan_deinit);
    c->elem_size = elem_size;
    c->cap = cap;
    c->due = -1;
    if (cap > 0 && elem_size > 0) {
        c->buf = malloc((size_t)cap * elem_size);
        if (!c->buf) {
            obj_free(c);
            go_panic("makechan: size out of range");
        }
    }
    sched_emit(EV_CHAN_MAKE, c->hdr.id, cap, (int64_t)elem_size, NULL);
    return c;
}

void chan_free(chan_t *c)
{
    obj_free(c);
}

int64_t chan_len(const chan_t *c) { return c && !c->is_timer ? c->count : 0; }
int64_t chan_cap(const chan_t *c) { return c && !c->is_timer ? c->cap : 0; }
size_t chan_elem_size(const chan_t *c) { return c ? c->elem_size : 0; }
bool chan_closed(const chan_t *c) { return c && c->closed; }
void chan_mark_timer(chan_t *c) { c->is_timer = true; }
void chan_mark_ctx_done(chan_t *c) { c->is_ctx_done = true; }
void chan_set_due(chan_t *c, simtime_t t)
{
    if (c)
        c->due = t;
}
bool chan_is_timer(const chan_t *c) { return c && c->is_timer; }
bool chan_is_ctx_done(const chan_t *c) { return c && c->is_ctx_done; }
simtime_t chan_due(const chan_t *c) { return c ? c->due : -1; }

void chan_each_waiter(const chan_t *c, void (*fn)(void *ud, uint64_t g, bool send), void *ud)
{
    for (int dir = 0; dir < 2; dir++)
        for (const sudog_t *s = (dir ? c->sendq : c->recvq).first; s; s = s->next)
            if (!s->sel || s->sel->fired < 0)
                fn(ud, go_id(s->g), dir == 1);
}

bool chan_drain(chan_t *c)
{
    bool had = c->count > 0;
    c->count = 0;
    c->head = 0;
    return had;
}

static size_t waitq_len(const waitq_t *q)
{
    size_t n = 0;
    for (sudog_t *s = q->first; s; s = s->next)
        if (!s->sel || s->sel->fired < 0)
            n++;
    return n;
}

size_t chan_senders(const chan_t *c) { return c ? waitq_len(&c->sendq) : 0; }
size_t chan_receivers(const chan_t *c) { return c ? waitq_len(&c->recvq) : 0; }

/* ---- wait queues ------------------------------------------------------- */

/* The queue's links agree in both directions and every sudog on it is
 * queued on c; at most limit entries are visited (then the walk has checked
 * a prefix). O(limit). */
static void waitq_check(const waitq_t *q, const chan_t *c, size_t limit)
{
    const sudog_t *prev = NULL;
    size_t n = 0;
    for (const sudog_t *s = q->first; s && n < limit; prev = s, s = s->next, n++) {
        ASSERT(s->prev == prev);
        ASSERT(s->queued);
        ASSERT(s->c == c);
    }
    if (n < limit)
        ASSERT(q->last == prev);
}

/* Walks of the wait queues: every enqueue in debug builds (64 entries at
 * most), and at power-of-two counts of enqueues in every build (all). */
static unsigned long long waitq_walks;

static void enqueue(waitq_t *q, sudog_t *s)
{
    ASSERT(!s->queued);
    ASSERT((q->first == NULL) == (q->last == NULL));
    if (INVARIANT_DEEP)
        waitq_check(q, s->c, 64);
    if (invariant_sparse(&waitq_walks))
        waitq_check(q, s->c, SIZE_MAX);
    s->queued = true;
    s->next = NULL;
    s->prev = q->last;
    if (q->last)
        q->last->next = s;
    else
        q->first = s;
    q->last = s;
}

static void unlink_sudog(waitq_t *q, sudog_t *s)
{
    if (!s->queued)
        return;
    /* s is on this queue: its neighbours, or the ends, point at it. */
    ASSERT(s->prev ? s->prev->next == s : q->first == s);
    ASSERT(s->next ? s->next->prev == s : q->last == s);
    s->queued = false;
    if (s->prev)
        s->prev->next = s->next;
    else
        q->first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        q->last = s->prev;
    s->prev = s->next = NULL;
}

/* The oldest waiter that can still complete, removed from the queue; a
 * select that fired elsewhere is skipped. Marks a select as fired. */
static sudog_t *dequeue(waitq_t *q)
{
    for (;;) {
        sudog_t *s = q->first;
        if (!s)
            return NULL;
        unlink_sudog(q, s);
        if (s->sel) {
            if (s->sel->fired >= 0)
                continue;
            s->sel->fired = s->case_idx;
        }
        return s;
    }
}

static bool has_waiter(const waitq_t *q)
{
    for (sudog_t *s = q->first; s; s = s->next)
        if (!s->sel || s->sel->fired < 0)
            return true;
    return false;
}

/* ---- element copies ---------------------------------------------------- */

static inline void copy_elem(const chan_t *c, void *dst, const void *src)
{
    if (!dst)
        return;
    if (c->elem_size == 8)
        memcpy(dst, src, 8); /* the common case, without a call */
    else if (c->elem_size)
        memcpy(dst, src, c->elem_size);
}

static inline void zero_elem(const chan_t *c, void *dst)
{
    if (dst && c->elem_size)
        memset(dst, 0, c->elem_size);
}

static inline char *slot(const chan_t *c, int64_t i)
{
    if (!c->buf) /* elements of size 0 (chan struct{}) take no buffer */
        return NULL;
    int64_t at = c->head + i; /* head < cap and i <= cap: no division */
    if (at >= c->cap)
        at -= c->cap;
    return c->buf + (size_t)at * c->elem_size;
}

static uint64_t self_id(void)
{
    return go_id(go_self());
}

/* Complete a waiting sudog and make its goroutine runnable. */
static void wake(sudog_t *s, bool success)
{
    s->success = success;
    s->peer = self_id();
    sched_ready(s->g);
}

/* ---- the race detector's view (race.h) ----------------------------------
 * A send completes through the buffer (or hands over to a receiver), a
 * receive completes from it (or from a sender): the clocks move as in Go's
 * chan.go under -race. g NULL is the running goroutine. */

/* g sent on c (its value entered the buffer or went to a receiver). */
static inline void race_sent(chan_t *c, g_t *g)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_chan_buffered_slow(g, c->hdr.id, c->cap, true);
}

static inline void race_received(chan_t *c, g_t *g)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_chan_buffered_slow(g, c->hdr.id, c->cap, false);
}

/* A value passed from sender to receiver: an unbuffered rendezvous, or a
 * buffered channel's send and receive of one element (Go pretends it
 * went through the buffer). */
static inline void race_handoff(chan_t *c, g_t *sender, g_t *receiver)
{
    if (__builtin_expect(race_active != NULL, 0)) {
        if (c->cap == 0) {
            race_chan_sync_slow(sender, receiver, c->hdr.id);
        } else {
            race_chan_buffered_slow(sender, c->hdr.id, c->cap, true);
            race_chan_buffered_slow(receiver, c->hdr.id, c->cap, false);
        }
    }
}

/* ---- the operations, immediate part ------------------------------------ */

/* Send now if possible. Returns true if done. Panics on a closed channel. */
static bool send_now(chan_t *c, const void *elem)
{
    if (__builtin_expect(race_active != NULL, 0))
        race_chan_send_check_slow(c->hdr.id, c->hdr.name);
    if (c->closed)
        go_panic("send on closed channel");
    sudog_t *r = dequeue(&c->recvq);
    if (r) {
        /* Buffer empty (else no receiver would wait): hand over directly. */
        race_handoff(c, NULL, r->g);
        copy_elem(c, r->elem, elem);
        uint64_t to = go_id(r->g);
        wake(r, true);
        sched_emit(EV_CHAN_SEND, c->hdr.id, c->count, (int64_t)to, NULL);
        return true;
    }
    if (c->count < c->cap) {
        race_sent(c, NULL);
        if (c->elem_size)
            copy_elem(c, slot(c, c->count), elem);
        c->count++;
        sched_emit(EV_CHAN_SEND, c->hdr.id, c->count, 0, NULL);
        return true;
    }
    return false;
}

/* Receive now if possible. Returns true if done, with *ok. */
static bool recv_now(chan_t *c, void *elem, bool *ok)
{
    if (c->closed && c->count == 0) {
        race_acquire(c->hdr.id, 0);
        zero_elem(c, elem);
        *ok = false;
        sched_emit(EV_CHAN_RECV, c->hdr.id, 0, 0, NULL);
        return true;
    }
    sudog_t *s = c->closed ? NULL : dequeue(&c->sendq);
    if (s) {
        if (c->cap == 0) {
            race_handoff(c, s->g, NULL);
            copy_elem(c, elem, s->elem);
        } else {
            /* The head's value, then the sender's into the freed slot. */
            race_received(c, NULL);
            race_sent(c, s->g);
            /* Full buffer: take the head, the sender's value goes to the
             * tail, so global order stays the order of sends. */
            copy_elem(c, elem, slot(c, 0));
            if (c->elem_size)
                copy_elem(c, slot(c, 0), s->elem);
            c->head = c->head + 1 == c->cap ? 0 : c->head + 1;
        }
        wake(s, true);
        *ok = true;
        sched_emit(EV_CHAN_RECV, c->hdr.id, c->count, 1, NULL);
        return true;
    }
    if (c->count > 0) {
        race_received(c, NULL);
        copy_elem(c, elem, slot(c, 0));
        c->head = c->head + 1 == c->cap ? 0 : c->head + 1;
        c->count--;
        *ok = true;
        sched_emit(EV_CHAN_RECV, c->hdr.id, c->count, 1, NULL);
        return true;
    }
    return false;
}

/* ---- blocking operations ----------------------------------------------- */

void chan_send(chan_t *c, const void *elem)
{
    sched_point_on(c ? c->hdr.id : SCHED_KEY_NONE);
    if (!c) {
        sched_park(WAIT_CHAN_SEND_NIL, 0);
        go_fatal("unreachable: woke from a nil channel send");
    }
    if (send_now(c, elem))
        return;
    sudog_t s = {.g = go_self(), .elem = (void *)elem, .c = c};
    enqueue(&c->sendq, &s);
    sched_park(WAIT_CHAN_SEND, c->hdr.id);
    if (!s.success)
        go_panic("send on closed channel");
    sched_emit(EV_CHAN_SEND, c->hdr.id, c->count, (int64_t)s.peer, NULL);
}

bool chan_recv(chan_t *c, void *elem)
{
    sched_point_on(c ? c->hdr.id : SCHED_KEY_NONE);
    if (!c) {
        sched_park(WAIT_CHAN_RECV_NIL, 0);
        go_fatal("unreachable: woke from a nil channel receive");
    }
    bool ok;
    if (recv_now(c, elem, &ok))
        return ok;
    sudog_t s = {.g = go_self(), .elem = elem, .c = c};
    enqueue(&c->recvq, &s);
    sched_park(WAIT_CHAN_RECV, c->hdr.id);
    if (!s.success)
        zero_elem(c, elem);
    sched_emit(EV_CHAN_RECV, c->hdr.id, c->count, s.success, NULL);
    return s.success;
}

bool chan_try_send(chan_t *c, const void *elem)
{
    sched_point_on(c ? c->hdr.id : SCHED_KEY_NONE);
    if (!c)
        return false;
    return send_now(c, elem);
}

bool chan_try_recv(chan_t *c, void *elem, bool *ok)
{
    sched_point_on(c ? c->hdr.id : SCHED_KEY_NONE);
    bool okv = false;
    bool done = c && recv_now(c, elem, &okv);
    if (ok)
        *ok = okv;
    return done;
}

void chan_close(chan_t *c)
{
    sched_point_on(c ? c->hdr.id : SCHED_KEY_NONE);
    if (!c)
        go_panic("close of nil channel");
    if (c->closed)
        go_panic("close of closed channel");
    if (__builtin_expect(race_active != NULL, 0))
        race_chan_close_slow(c->hdr.id, c->hdr.name);
    c->closed = true;
    sched_emit(EV_CHAN_CLOSE, c->hdr.id, c->count, 0, NULL);
    /* Receivers first, then senders, each in queue order (a documented
     * choice: Go leaves the order in which they run unspecified). */
    sudog_t *s;
    while ((s = dequeue(&c->recvq))) {
        zero_elem(c, s->elem);
        if (__builtin_expect(race_active != NULL, 0))
            race_acquire_slow(s->g, c->hdr.id, 0);
        wake(s, false);
    }
    while ((s = dequeue(&c->sendq))) {
        if (__builtin_expect(race_active != NULL, 0))
            race_acquire_slow(s->g, c->hdr.id, 0);
        wake(s, false);
    }
}

void chan_send_i64(chan_t *c, int64_t v)
{
    chan_send(c, &v);
}

int64_t chan_recv_i64(chan_t *c, bool *ok)
{
    int64_t v = 0;
    bool okv = chan_recv(c, &v);
    if (ok)
        *ok = okv;
    return v;
}

/* ---- select ------------------------------------------------------------ */

static bool case_ready(const select_case_t *k)
{
    chan_t *c = k->ch;
    if (k->dir == SELECT_SEND)
        return c->closed || has_waiter(&c->recvq) || c->count < c->cap;
    return has_waiter(&c->sendq) || c->count > 0 || c->closed;
}

#define SELECT_STACK_CASES 16
/* A blocked select's waiters on the goroutine's stack, up to this many
 * cases (more: on the heap): small stacks (go_spawn_stack) leave about
 * 1.6 KiB for frames. */
#define SELECT_STACK_SUDOGS 6
#define SELECT_KEYS 4

/* A select's decision point: its channels are its keys (many: any). */
static void select_point(const select_case_t *cases, int n)
{
    uint64_t keys[SELECT_KEYS] = {0};
    int nk = 0;
    for (int i = 0; i < n; i++) {
        if (!cases[i].ch)
            continue;
        if (nk == SELECT_KEYS) {
            sched_point();
            return;
        }
        keys[nk++] = cases[i].ch->hdr.id;
    }
    sched_point_keys(keys, nk);
}

int chan_select(select_case_t *cases, int n, bool has_default)
{
    int live = 0, only = -1;
    for (int i = 0; i < n; i++) {
        cases[i].ok = false;
        if (cases[i].ch) {
            live++;
            only = i;
        }
    }
    /* One case and no default compiles to a plain channel operation (whose
     * decision point is its own). */
    if (!(n == 1 && !has_default) && sched_points_on)
        select_point(cases, n);
    if (n == 1 && !has_default) {
        select_case_t *k = &cases[0];
        if (k->dir == SELECT_SEND)
            chan_send(k->ch, k->elem);
        else
            k->ok = chan_recv(k->ch, k->elem);
        sched_emit(EV_SELECT, 0, 0, n, NULL);
        return 0;
    }
    (void)only;

    /* Which cases can proceed now; one is chosen through the scheduler. */
    int ready_stack[SELECT_STACK_CASES];
    int *ready = n <= SELECT_STACK_CASES ? ready_stack : mem_malloc((size_t)n * sizeof *ready);
    int nready = 0;
    for (int i = 0; i < n; i++)
        if (cases[i].ch && case_ready(&cases[i]))
            ready[nready++] = i;
    if (nready > 0) {
        int i = ready[sched_decide(sched_current(), CHOICE_SELECT, (uint32_t)nready)];
        if (ready != ready_stack)
            free(ready);
        select_case_t *k = &cases[i];
        sched_emit(EV_SELECT, 0, i, n, NULL);
        if (k->dir == SELECT_SEND) {
            bool done = send_now(k->ch, k->elem);
            (void)done;
        } else {
            recv_now(k->ch, k->elem, &k->ok);
        }
        return i;
    }
    if (ready != ready_stack)
        free(ready);
    if (has_default) {
        sched_emit(EV_SELECT, 0, -1, n, NULL);
        return -1;
    }
    if (live == 0) {
        sched_park(n == 0 ? WAIT_SELECT_NO_CASES : WAIT_SELECT, 0);
        go_fatal("unreachable: woke from a select with no cases");
    }

    /* Block on every non-nil case. */
    sudog_t sg_stack[SELECT_STACK_SUDOGS];
    sudog_t *sg = n <= SELECT_STACK_SUDOGS ? sg_stack : mem_calloc((size_t)n, sizeof *sg);
    selstate_t sel = {.fired = -1};
    g_t *self = go_self();
    uint64_t first_obj = 0;
    for (int i = 0; i < n; i++) {
        memset(&sg[i], 0, sizeof sg[i]);
        if (!cases[i].ch)
            continue;
        sg[i].g = self;
        sg[i].elem = cases[i].elem;
        sg[i].sel = &sel;
        sg[i].case_idx = i;
        sg[i].c = cases[i].ch;
        if (!first_obj)
            first_obj = cases[i].ch->hdr.id;
        enqueue(cases[i].dir == SELECT_SEND ? &cases[i].ch->sendq : &cases[i].ch->recvq, &sg[i]);
    }
    sched_park(WAIT_SELECT, first_obj);
    int won = sel.fired;
    bool success = sg[won].success;
    uint64_t peer = sg[won].peer;
    /* Leave every other queue (the fired sudog is already dequeued). */
    for (int i = 0; i < n; i++) {
        if (i == won || !cases[i].ch)
            continue;
        waitq_t *q = cases[i].dir == SELECT_SEND ? &cases[i].ch->sendq : &cases[i].ch->recvq;
        unlink_sudog(q, &sg[i]);
    }
    if (sg != sg_stack)
        free(sg);
    select_case_t *k = &cases[won];
    sched_emit(EV_SELECT, 0, won, n, NULL);
    if (k->dir == SELECT_SEND) {
        if (!success)
            go_panic("send on closed channel");
        sched_emit(EV_CHAN_SEND, k->ch->hdr.id, k->ch->count, (int64_t)peer, NULL);
    } else {
        k->ok = success;
        if (!success)
            zero_elem(k->ch, k->elem);
        sched_emit(EV_CHAN_RECV, k->ch->hdr.id, k->ch->count, success, NULL);
    }
    return won;
}
