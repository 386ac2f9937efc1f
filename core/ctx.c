/*
 * ctx: Go's context package (src/context/context.go, go1.23) on the
 * scheduler's objects and simulated time. See ctx.h for the contract.
 *
 * Every context is one node kind of struct ctx. The cancellable kinds
 * (WithCancel, WithDeadline, and the hidden node behind each AfterFunc) are
 * "cancelers": they hold the error, the cause and their children. A child
 * registers with its nearest cancelable ancestor, found by walking up
 * through WithValue nodes and stopping at WithoutCancel or a root (which
 * can never be cancelled), as Go's parentCancelCtx does. Children are kept
 * in a list in creation order, which is the order in which a cancellation
 * reaches them (Go uses a map, so its order is unspecified).
 *
 * Invariants:
 * - err is NULL until the node is cancelled and never changes afterwards;
 *   cause is set in the same step;
 * - a node is linked in its canceler's child list if and only if both are
 *   uncancelled; cancelling a node empties its list and unlinks it;
 * - a WithDeadline node's timer is armed only while it is uncancelled.
 *
 * Ownership: nodes and their Done channels are scheduler-owned objects
 * (freed at sched_destroy, never earlier), so pointers between nodes stay
 * valid for the whole run. Background and TODO are made on first use and
 * kept in the scheduler's root slots.
 *
 * Choices where Go has no C equivalent: a deadline timer cancels its
 * context directly on the scheduler's stack when it fires (Go runs the
 * cancel in a time.AfterFunc goroutine; the instant is the same); the
 * WithValue name prints key and value by their C type, "void *", or
 * "<nil>" for a NULL value (Go prints the dynamic type of a value that is
 * neither a string nor a Stringer); a WithDeadline name prints the deadline
 * as Go's Time.String would inside a testing/synctest bubble (the clock
 * starts at 2000-01-01 00:00:00 UTC, no monotonic reading). Calls on a
 * NULL context panic as a Go method call on a nil interface would.
 */
#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "invariant.h"
#include "mem.h"
#include "race.h"
#include "timer.h"
#include "timerq.h"

typedef enum ctx_kind {
    CTX_BACKGROUND,     /* context.Background() */
    CTX_TODO,           /* context.TODO() */
    CTX_CANCEL,         /* WithCancel, WithCancelCause */
    CTX_DEADLINE,       /* WithDeadline, WithTimeout and their Cause forms */
    CTX_VALUE,          /* WithValue */
    CTX_WITHOUT_CANCEL, /* WithoutCancel */
    CTX_AFTER_FUNC,     /* the hidden node of an AfterFunc registration */
} ctx_kind_t;

struct ctx {
    obj_t hdr;                      /* scheduler-owned object */
    ctx_kind_t kind;                /* which context this is */
    ctx_t *parent;                  /* the context it was derived from; NULL for roots */
    /* Cancelers (CANCEL, DEADLINE, AFTER_FUNC) only: */
    chan_t *done;                   /* closed on cancel; NULL for AFTER_FUNC */
    const go_error_t *err;          /* Err(): NULL until cancelled, then fixed */
    const go_error_t *cause;        /* Cause(): set with err */
    ctx_t *canceler;                /* the ancestor it is registered with, or NULL */
    ctx_t *first_child, *last_child; /* registered children, creation order */
    ctx_t *prev_sib, *next_sib;     /* links in the canceler's child list */
    /* DEADLINE only: */
    tq_entry_t timer;               /* fires at deadline while armed */
    simtime_t deadline;             /* absolute deadline */
    const go_error_t *deadline_cause; /* cause when the deadline passes, or NULL */
    /* VALUE only: */
    const void *key;                /* compared by identity, never NULL */
    void *val;                      /* the value, borrowed from the caller */
};

struct ctx_after {
    ctx_t node;         /* first: the node registered with the context */
    void (*f)(void *);  /* the function to run once the context is done */
    void *arg;          /* its argument */
    bool once;          /* Go's sync.Once: f started or stop() succeeded */
};

#define NIL_DEREF "runtime error: invalid memory address or nil pointer dereference"

static ctx_t *need(ctx_t *c)
{
    if (!c)
        go_panic(NIL_DEREF);
    return c;
}

static ctx_t *node_new(size_t size, ctx_kind_t kind, ctx_t *parent)
{
    ctx_t *c = obj_alloc(size, OBJ_CONTEXT, NULL);
    c->kind = kind;
    c->parent = parent;
    c->timer.idx = TQ_IDLE;
    return c;
}

/* ---- roots ------------------------------------------------------------- */

static ctx_t *root(ctx_kind_t kind)
{
    sched_t *s = sched_current();
    ASSERTF(s, "context used outside a running scheduler");
    ctx_t **slot = &sched_ctx_roots(s)[kind == CTX_TODO];
    if (!*slot) {
        *slot = node_new(sizeof(ctx_t), kind, NULL);
        obj_set_name(*slot, kind == CTX_TODO ? "context.TODO" : "context.Background");
    }
    return *slot;
}

ctx_t *ctx_background(void) { return root(CTX_BACKGROUND); }
ctx_t *ctx_todo(void) { return root(CTX_TODO); }

/* ---- the tree ---------------------------------------------------------- */

/* The nearest ancestor (or c itself) that can be cancelled and that a
 * child of c registers with: Go's parentCancelCtx. NULL if c can never be
 * cancelled. */
static ctx_t *canceler_of(ctx_t *c)
{
    while (c) {
        switch (c->kind) {
        case CTX_CANCEL:
        case CTX_DEADLINE:
        case CTX_AFTER_FUNC:
            return c;
        case CTX_VALUE:
            c = c->parent;
            break;
        case CTX_BACKGROUND:
        case CTX_TODO:
        case CTX_WITHOUT_CANCEL:
            return NULL;
        }
    }
    return NULL;
}

static void link_child(ctx_t *p, ctx_t *c)
{
    c->canceler = p;
    c->next_sib = NULL;
    c->prev_sib = p->last_child;
    if (p->last_child)
        p->last_child->next_sib = c;
    else
        p->first_child = c;
    p->last_child = c;
}

static void unlink_child(ctx_t *c)
{
    ctx_t *p = c->canceler;
    if (!p)
        return;
    if (c->prev_sib)
        c->prev_sib->next_sib = c->next_sib;
    else
        p->first_child = c->next_sib;
    if (c->next_sib)
        c->next_sib->prev_sib = c->prev_sib;
    else
        p->last_child = c->prev_sib;
    c->prev_sib = c->next_sib = NULL;
    c->canceler = NULL;
}

static void after_entry(void *arg)
{
    struct ctx_after *a = arg;
    a->f(a->arg);
}

/* Go's cancelCtx.cancel and its timerCtx/afterFuncCtx overrides: the first
 * call fixes err and cause, closes Done, cancels the children in creation
 * order with the same err and cause, stops the deadline timer and, if
 * remove, unlinks c from its canceler. */
static void cancel(ctx_t *c, bool remove, const go_error_t *err, const go_error_t *cause)
{
    if (!cause)
        cause = err;
    if (c->err)
        return;
    /* No decision point inside (closing Done is one): the tree is half
     * cancelled until this returns. */
    sched_points_hold();
    c->err = err;
    c->cause = cause;
    /* Go's cancelCtx sets err under its mutex: cancel happens before Err()
     * reports it (race.h). */
    race_release_merge(c->hdr.id, 0);
    if (c->kind != CTX_AFTER_FUNC)
        sched_emit(EV_CTX_CANCEL, c->hdr.id, 0, 0, err->msg);
    if (c->done)
        chan_close(c->done);
    ctx_t *child = c->first_child;
    c->first_child = c->last_child = NULL;
    while (child) {
        ctx_t *next = child->next_sib;
        child->prev_sib = child->next_sib = NULL;
        child->canceler = NULL;
        cancel(child, false, err, cause);
        child = next;
    }
    if (remove)
        unlink_child(c);
    if (c->kind == CTX_DEADLINE && c->timer.idx != TQ_IDLE)
        timerq_remove(sched_timerq(sched_current()), &c->timer);
    if (c->kind == CTX_AFTER_FUNC) {
        struct ctx_after *a = (struct ctx_after *)c;
        if (!a->once) {
            a->once = true;
            go_spawn(after_entry, a, "context.AfterFunc");
        }
    }
    sched_points_release();
}

/* Go's propagateCancel: arrange for child to be cancelled with parent. */
static void propagate(ctx_t *parent, ctx_t *child)
{
    ctx_t *p = canceler_of(parent);
    if (!p)
        return; /* the parent is never cancelled */
    if (p->err)
        cancel(child, false, p->err, p->cause);
    else
        link_child(p, child);
}

static ctx_t *need_parent(ctx_t *parent)
{
    if (!parent)
        go_panic("cannot create context from nil parent");
    return parent;
}

/* ---- derived contexts -------------------------------------------------- */

ctx_t *ctx_with_cancel(ctx_t *parent)
{
    need_parent(parent);
    ctx_t *c = node_new(sizeof(ctx_t), CTX_CANCEL, parent);
    c->done = chan_make(0, 0);
    chan_mark_ctx_done(c->done);
    simtime_t inherited;
    if (ctx_deadline(parent, &inherited))
        chan_set_due(c->done, inherited);
    propagate(parent, c);
    return c;
}

static void deadline_fire(tq_entry_t *e)
{
    ctx_t *c = (ctx_t *)((char *)e - offsetof(ctx_t, timer));
    cancel(c, true, &GO_ERR_DEADLINE_EXCEEDED, c->deadline_cause);
}

ctx_t *ctx_with_deadline_cause(ctx_t *parent, simtime_t deadline, const go_error_t *cause)
{
    need_parent(parent);
    simtime_t cur;
    if (ctx_deadline(parent, &cur) && cur < deadline)
        return ctx_with_cancel(parent); /* the parent's deadline comes first */
    ctx_t *c = node_new(sizeof(ctx_t), CTX_DEADLINE, parent);
    c->done = chan_make(0, 0);
    chan_mark_ctx_done(c->done);
    chan_set_due(c->done, deadline);
    c->deadline = deadline;
    c->deadline_cause = cause;
    c->timer.fire = deadline_fire;
    c->timer.obj = c->hdr.id;
    propagate(parent, c);
    if (deadline <= sched_now()) {
        cancel(c, true, &GO_ERR_DEADLINE_EXCEEDED, cause);
        return c;
    }
    if (!c->err)
        timerq_add(sched_timerq(sched_current()), &c->timer, deadline);
    return c;
}

ctx_t *ctx_with_deadline(ctx_t *parent, simtime_t deadline)
{
    return ctx_with_deadline_cause(parent, deadline, NULL);
}

/* now + d, saturating as Go clamps a deadline that would overflow. */
static simtime_t after_now(simtime_t d)
{
    simtime_t now = sched_now();
    if (d > 0 && d > SIMTIME_MAX - now)
        return SIMTIME_MAX;
    if (d < 0 && now < INT64_MIN - d)
        return INT64_MIN;
    return now + d;
}

ctx_t *ctx_with_timeout_cause(ctx_t *parent, simtime_t d, const go_error_t *cause)
{
    return ctx_with_deadline_cause(parent, after_now(d), cause);
}

ctx_t *ctx_with_timeout(ctx_t *parent, simtime_t d)
{
    return ctx_with_deadline_cause(parent, after_now(d), NULL);
}

ctx_t *ctx_with_value(ctx_t *parent, const void *key, void *val)
{
    need_parent(parent);
    if (!key)
        go_panic("nil key");
    ctx_t *c = node_new(sizeof(ctx_t), CTX_VALUE, parent);
    c->key = key;
    c->val = val;
    return c;
}

ctx_t *ctx_without_cancel(ctx_t *parent)
{
    need_parent(parent);
    return node_new(sizeof(ctx_t), CTX_WITHOUT_CANCEL, parent);
}

void ctx_cancel(ctx_t *c)
{
    ctx_cancel_cause(c, NULL);
}

void ctx_cancel_cause(ctx_t *c, const go_error_t *cause)
{
    need(c);
    sched_point();
    if (c->kind == CTX_CANCEL || c->kind == CTX_DEADLINE)
        cancel(c, true, &GO_ERR_CANCELED, cause);
}

/* ---- the Context interface --------------------------------------------- */

chan_t *ctx_done(ctx_t *c)
{
    need(c);
    while (c->kind == CTX_VALUE)
        c = c->parent;
    return c->kind == CTX_CANCEL || c->kind == CTX_DEADLINE ? c->done : NULL;
}

const go_error_t *ctx_err(ctx_t *c)
{
    need(c);
    sched_point();
    while (c->kind == CTX_VALUE)
        c = c->parent;
    if (c->kind != CTX_CANCEL && c->kind != CTX_DEADLINE)
        return NULL;
    if (c->err)
        race_acquire(c->hdr.id, 0);
    return c->err;
}

const go_error_t *ctx_cause(ctx_t *c)
{
    ctx_t *p = canceler_of(need(c));
    return p ? p->cause : NULL;
}

bool ctx_deadline(ctx_t *c, simtime_t *deadline)
{
    need(c);
    for (;;) {
        switch (c->kind) {
        case CTX_DEADLINE:
            if (deadline)
                *deadline = c->deadline;
            return true;
        case CTX_CANCEL:
        case CTX_VALUE:
        case CTX_AFTER_FUNC:
            c = c->parent;
            break;
        case CTX_BACKGROUND:
        case CTX_TODO:
        case CTX_WITHOUT_CANCEL:
            return false;
        }
    }
}

void *ctx_value(ctx_t *c, const void *key)
{
    for (c = need(c); c; c = c->parent)
        if (c->kind == CTX_VALUE && c->key == key)
            return c->val;
    return NULL;
}

/* ---- names ------------------------------------------------------------- */

typedef struct strbuf {
    char *p;          /* heap text, NUL-terminated */
    size_t len, cap;  /* bytes used (without the NUL) and allocated */
} strbuf_t;

static void sb_add(strbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->len + n + 1) * 2;
        b->p = mem_realloc(b->p, ncap);
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

/* Go's Time.String of a simulated instant, the clock starting at
 * 2000-01-01 00:00:00 UTC as in testing/synctest:
 * "2000-01-01 00:00:00.3 +0000 UTC". */
static void format_instant(simtime_t t, char *buf, size_t size)
{
    int64_t secs = t / SIM_SEC, nsec = t % SIM_SEC;
    if (nsec < 0) {
        nsec += SIM_SEC;
        secs--;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    /* Days since 2000-01-01 to a civil date (H. Hinnant's days_from_civil
     * inverse, shifted from 1970 by 10957 days). */
    int64_t z = days + 10957 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    char frac[16] = "";
    if (nsec) {
        snprintf(frac, sizeof frac, ".%09lld", (long long)nsec);
        size_t n = strlen(frac);
        while (frac[n - 1] == '0')
            frac[--n] = 0;
    }
    snprintf(buf, size, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld%s +0000 UTC",
             (long long)year, (long long)month, (long long)day, (long long)(sod / 3600),
             (long long)(sod / 60 % 60), (long long)(sod % 60), frac);
}

static void name_into(strbuf_t *b, ctx_t *c)
{
    switch (c->kind) {
    case CTX_BACKGROUND:
        sb_add(b, "context.Background");
        return;
    case CTX_TODO:
        sb_add(b, "context.TODO");
        return;
    case CTX_CANCEL:
        name_into(b, c->parent);
        sb_add(b, ".WithCancel");
        return;
    case CTX_DEADLINE: {
        char when[64], until[32];
        format_instant(c->deadline, when, sizeof when);
        simtime_t now = sched_now();
        simtime_t left = c->deadline < 0 && now > INT64_MAX + c->deadline ? INT64_MIN
                                                                          : c->deadline - now;
        dur_format(left, until, sizeof until);
        name_into(b, c->parent);
        sb_add(b, ".WithDeadline(");
        sb_add(b, when);
        sb_add(b, " [");
        sb_add(b, until);
        sb_add(b, "])");
        return;
    }
    case CTX_VALUE:
        name_into(b, c->parent);
        sb_add(b, ".WithValue(void *, ");
        sb_add(b, c->val ? "void *" : "<nil>");
        sb_add(b, ")");
        return;
    case CTX_WITHOUT_CANCEL:
        name_into(b, c->parent);
        sb_add(b, ".WithoutCancel");
        return;
    case CTX_AFTER_FUNC: /* Go's afterFuncCtx prints as its cancelCtx */
        name_into(b, c->parent);
        sb_add(b, ".WithCancel");
        return;
    }
}

const char *ctx_string(ctx_t *c)
{
    need(c);
    strbuf_t b = {0};
    name_into(&b, c);
    const char *s = sched_intern(sched_current(), b.p);
    free(b.p);
    return s;
}

/* ---- AfterFunc --------------------------------------------------------- */

ctx_after_t *ctx_after_func(ctx_t *c, void (*f)(void *), void *arg)
{
    need(c);
    struct ctx_after *a =
        (struct ctx_after *)node_new(sizeof(struct ctx_after), CTX_AFTER_FUNC, c);
    a->f = f;
    a->arg = arg;
    propagate(c, &a->node);
    return a;
}

bool ctx_after_stop(ctx_after_t *a)
{
    if (!a)
        go_panic(NIL_DEREF);
    if (a->once)
        return false;
    a->once = true;
    cancel(&a->node, true, &GO_ERR_CANCELED, NULL);
    return true;
}
