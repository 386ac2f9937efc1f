/* checker: invariants checked as the run goes. See checker.h. */
#include "checker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct checker {
    obj_t hdr;                   /* scheduler-owned; hdr.name is the name */
    checker_violation_t *v;      /* violations in the order found */
    size_t nv;
};

static void checker_deinit(obj_t *o)
{
    checker_t *c = (checker_t *)o;
    for (size_t i = 0; i < c->nv; i++)
        free(c->v[i].what);
    free(c->v);
}

checker_t *checker_new(const char *name)
{
    checker_t *c = obj_alloc(sizeof *c, OBJ_NONE, checker_deinit);
    obj_set_name(c, name);
    return c;
}

const char *checker_name(const checker_t *c) { return c->hdr.name ? c->hdr.name : ""; }

void checker_fail(checker_t *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->v = mem_realloc(c->v, (c->nv + 1) * sizeof *c->v);
    c->v[c->nv].t = sched_now();
    c->v[c->nv].what = mem_strdup(msg);
    c->nv++;
    char ev[640];
    snprintf(ev, sizeof ev, "%s: %s", checker_name(c), msg);
    sched_emit(EV_VIOLATION, c->hdr.id, (int64_t)c->nv, 0, ev);
}

size_t checker_violations(const checker_t *c, const checker_violation_t **list)
{
    *list = c->v;
    return c->nv;
}

/* ---- holders ------------------------------------------------------------------ */

#define MAX_NAMES 64

struct checker_holders {
    obj_t hdr;                    /* scheduler-owned */
    checker_t *check;             /* its violations */
    int limit;                    /* how many may be inside */
    const char *inside[MAX_NAMES]; /* interned names, in order of entry */
    int n, max_n;
    entity_t *entity;             /* for the trace and the view */
};

checker_holders_t *checker_holders_new(const char *name, int limit)
{
    checker_holders_t *h = obj_alloc(sizeof *h, OBJ_NONE, NULL);
    h->check = checker_new(name);
    h->limit = limit;
    h->entity = entity_new("holders", name, NULL);
    entity_set(h->entity, "limit", limit);
    entity_set(h->entity, "inside", 0);
    return h;
}

void checker_holders_enter(checker_holders_t *h, const char *who)
{
    if (h->n == MAX_NAMES)
        return;
    h->inside[h->n++] = sched_intern(sched_current(), who);
    if (h->n > h->max_n)
        h->max_n = h->n;
    entity_set(h->entity, "inside", h->n);
    entity_set_state(h->entity, who);
    if (h->n > h->limit) {
        char list[256];
        size_t w = 0;
        for (int i = 0; i < h->n && w < sizeof list; i++)
            w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", h->inside[i]);
        checker_fail(h->check, "%d inside at once (limit %d): %s", h->n, h->limit, list);
    }
}

void checker_holders_leave(checker_holders_t *h, const char *who)
{
    for (int i = 0; i < h->n; i++) {
        if (strcmp(h->inside[i], who) == 0) {
            memmove(&h->inside[i], &h->inside[i + 1], (size_t)(h->n - i - 1) * sizeof h->inside[0]);
            h->n--;
            entity_set(h->entity, "inside", h->n);
            entity_set_state(h->entity, h->n ? h->inside[h->n - 1] : "free");
            return;
        }
    }
}

int checker_holders_inside(const checker_holders_t *h) { return h->n; }
int checker_holders_max_inside(const checker_holders_t *h) { return h->max_n; }
checker_t *checker_holders_checker(checker_holders_t *h) { return h->check; }

/* ---- leadership ---------------------------------------------------------------- */

typedef struct belief {
    const char *who;  /* interned */
    int64_t term;     /* the term it believes it leads */
} belief_t;

struct checker_leadership {
    obj_t hdr;                 /* scheduler-owned */
    checker_t *per_term;       /* two leaders in one term */
    checker_t *per_instant;    /* two leaders at one instant */
    belief_t b[MAX_NAMES];     /* current believers, in order */
    int n;
    uint64_t changes;
    entity_t *entity;          /* leader and term, for the view */
};

checker_leadership_t *checker_leadership_new(const char *name)
{
    checker_leadership_t *l = obj_alloc(sizeof *l, OBJ_NONE, NULL);
    char buf[160];
    snprintf(buf, sizeof buf, "%s: one leader per term", name);
    l->per_term = checker_new(buf);
    snprintf(buf, sizeof buf, "%s: one leader at any instant", name);
    l->per_instant = checker_new(buf);
    l->entity = entity_new("election", name, NULL);
    entity_set_state(l->entity, "no leader");
    return l;
}

void checker_leadership_begin(checker_leadership_t *l, const char *who, int64_t term)
{
    checker_leadership_end(l, who);
    for (int i = 0; i < l->n; i++) {
        if (l->b[i].term == term)
            checker_fail(l->per_term, "%s and %s both lead term %lld", l->b[i].who, who,
                         (long long)term);
    }
    if (l->n > 0)
        checker_fail(l->per_instant, "%s leads term %lld while %s still believes it leads term %lld",
                     who, (long long)term, l->b[l->n - 1].who, (long long)l->b[l->n - 1].term);
    if (l->n == MAX_NAMES)
        return;
    l->b[l->n++] = (belief_t){sched_intern(sched_current(), who), term};
    l->changes++;
    entity_set_state(l->entity, who);
    entity_set(l->entity, "term", term);
    entity_set(l->entity, "leaders", l->n);
    entity_set(l->entity, "changes", (int64_t)l->changes);
}

void checker_leadership_end(checker_leadership_t *l, const char *who)
{
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->b[i].who, who) == 0) {
            memmove(&l->b[i], &l->b[i + 1], (size_t)(l->n - i - 1) * sizeof l->b[0]);
            l->n--;
            entity_set(l->entity, "leaders", l->n);
            entity_set_state(l->entity, l->n ? l->b[l->n - 1].who : "no leader");
            return;
        }
    }
}

checker_t *checker_leadership_term_checker(checker_leadership_t *l) { return l->per_term; }
checker_t *checker_leadership_instant_checker(checker_leadership_t *l) { return l->per_instant; }
uint64_t checker_leadership_changes(const checker_leadership_t *l) { return l->changes; }

/* ---- acknowledged writes -------------------------------------------------------- */

typedef struct ack {
    const char *key;  /* interned */
    int64_t rev;      /* the newest acknowledged revision */
} ack_t;

struct checker_acked_writes {
    obj_t hdr;        /* scheduler-owned */
    checker_t *check;
    ack_t *acks;      /* one per key, in first-ack order */
    size_t n, cap;
    uint64_t count;   /* acknowledgements recorded */
};

static void acked_deinit(obj_t *o)
{
    free(((checker_acked_writes_t *)o)->acks);
}

checker_acked_writes_t *checker_acked_writes_new(const char *name)
{
    checker_acked_writes_t *a = obj_alloc(sizeof *a, OBJ_NONE, acked_deinit);
    char buf[160];
    snprintf(buf, sizeof buf, "%s: no acknowledged write lost", name);
    a->check = checker_new(buf);
    return a;
}

static ack_t *find_ack(checker_acked_writes_t *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->acks[i].key, key) == 0)
            return &a->acks[i];
    return NULL;
}

void checker_acked_writes_ack(checker_acked_writes_t *a, const char *key, int64_t rev)
{
    a->count++;
    ack_t *k = find_ack(a, key);
    if (!k) {
        if (a->n == a->cap) {
            size_t ncap = a->cap ? a->cap * 2 : 16;
            a->acks = mem_realloc(a->acks, ncap * sizeof *a->acks);
            a->cap = ncap;
        }
        k = &a->acks[a->n++];
        k->key = sched_intern(sched_current(), key);
        k->rev = 0;
    }
    if (rev > k->rev)
        k->rev = rev;
}

void checker_acked_writes_observe(checker_acked_writes_t *a, const char *key, int64_t rev)
{
    ack_t *k = find_ack(a, key);
    if (!k || rev >= k->rev)
        return;
    if (rev == 0)
        checker_fail(a->check, "%s is gone, although its write at revision %lld was acknowledged",
                     key, (long long)k->rev);
    else
        checker_fail(a->check, "%s reads at revision %lld, older than its acknowledged write at %lld",
                     key, (long long)rev, (long long)k->rev);
}

uint64_t checker_acked_writes_count(const checker_acked_writes_t *a) { return a->count; }
checker_t *checker_acked_writes_checker(checker_acked_writes_t *a) { return a->check; }
