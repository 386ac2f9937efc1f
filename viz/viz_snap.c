/* viz_snap: snapshots of a run. See viz_snap.h. */
#include "viz_snap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "viz_gfx.h"
#include "viz_palette.h"

#define ARENA_BLOCK 65536

/* Strings of a snapshot: blocks that are kept and reused. */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    char data[];
} arena_block_t;

typedef struct viz_arena {
    arena_block_t *first, *cur;
} viz_arena_t;

static const char *arena_str(viz_arena_t *a, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    for (;;) {
        if (a->cur && a->cur->used + n <= a->cur->size) {
            char *d = a->cur->data + a->cur->used;
            memcpy(d, s, n);
            a->cur->used += n;
            return d;
        }
        if (a->cur && a->cur->next) {
            a->cur = a->cur->next;
            a->cur->used = 0;
            continue;
        }
        size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        arena_block_t *b = malloc(sizeof *b + size);
        if (!b)
            return "";
        b->next = NULL;
        b->used = 0;
        b->size = size;
        if (a->cur)
            a->cur->next = b;
        else
            a->first = b;
        a->cur = b;
    }
}

static void arena_reset(viz_arena_t *a)
{
    a->cur = a->first;
    if (a->cur)
        a->cur->used = 0;
}

viz_snap_t *viz_snap_create(void)
{
    viz_snap_t *sn = calloc(1, sizeof *sn);
    if (!sn)
        return NULL;
    sn->arena = calloc(1, sizeof *sn->arena);
    if (!sn->arena) {
        free(sn);
        return NULL;
    }
    return sn;
}

void viz_snap_destroy(viz_snap_t *sn)
{
    if (!sn)
        return;
    arena_block_t *b = sn->arena->first;
    while (b) {
        arena_block_t *n = b->next;
        free(b);
        b = n;
    }
    free(sn->arena);
    free(sn->gs);
    free(sn->chans);
    free(sn->locks);
    free(sn->ents);
    free(sn->aliases);
    free(sn->waits);
    free(sn);
}

/* Make room for one more element in a growable array. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

typedef struct take_ctx {
    viz_snap_t *sn;
    const viz_track_t *tr;
    bool ok;
    uint64_t chan_id;   /* the channel whose waiters are visited */
    simtime_t due;      /* and when a timer makes it ready */
} take_ctx_t;

static void take_waiter(void *ud, uint64_t gid, bool send)
{
    take_ctx_t *c = ud;
    viz_snap_t *sn = c->sn;
    if (!grow((void **)&sn->waits, &sn->capwait, sn->nwait, sizeof *sn->waits)) {
        c->ok = false;
        return;
    }
    sn->waits[sn->nwait++] = (viz_swait_t){gid, c->chan_id, send};
    viz_sg_t *g = (viz_sg_t *)viz_snap_g(sn, gid);
    if (g && c->due >= 0 && (g->wake_at < 0 || c->due < g->wake_at))
        g->wake_at = c->due;
}

static const char *sync_tag(wait_reason_t r)
{
    switch (r) {
    case WAIT_MUTEX: return "LOCK";
    case WAIT_RWMUTEX_LOCK: return "LOCK";
    case WAIT_RWMUTEX_RLOCK: return "RLOCK";
    case WAIT_WAITGROUP: return "WG";
    case WAIT_SEMACQUIRE: return "SEMA";
    case WAIT_COND: return "COND";
    default: return "SYNC";
    }
}

static void take_g(void *ud, g_t *g)
{
    take_ctx_t *c = ud;
    viz_snap_t *sn = c->sn;
    if (!grow((void **)&sn->gs, &sn->capg, sn->ng, sizeof *sn->gs)) {
        c->ok = false;
        return;
    }
    viz_sg_t *v = &sn->gs[sn->ng++];
    memset(v, 0, sizeof *v);
    v->id = go_id(g);
    v->name = arena_str(sn->arena, go_name(g));
    v->role = arena_str(sn->arena, go_role(g));
    v->reason = go_wait_reason(g);
    v->since = go_blocked_since(g);
    v->created_by = go_created_by(g);
    v->last_run = -1;
    v->wake_at = go_wake_at(g);
    const viz_gtrack_t *t = viz_track_g(c->tr, v->id);
    bool on_cpu = false, failed = false;
    if (t) {
        v->wait_obj = t->wait_obj;
        v->last_run = t->last_run;
        on_cpu = t->on_cpu;
        failed = t->failed;
    }
    switch (v->reason) {
    case WAIT_NONE: v->st = VIZ_G_READY; v->tag = "READY"; break;
    case WAIT_CPU: v->st = VIZ_G_READY; v->tag = "READY"; break;
    case WAIT_CHAN_RECV: v->st = VIZ_G_RECV; v->tag = "RECV"; break;
    case WAIT_CHAN_SEND: v->st = VIZ_G_SEND; v->tag = "SEND"; break;
    case WAIT_CHAN_RECV_NIL:
    case WAIT_CHAN_SEND_NIL: v->st = VIZ_G_WAIT; v->tag = "NIL CHAN"; break;
    case WAIT_SELECT: v->st = VIZ_G_SELECT; v->tag = "SELECT"; break;
    case WAIT_SELECT_NO_CASES: v->st = VIZ_G_WAIT; v->tag = "SELECT{}"; break;
    case WAIT_SLEEP:
        if (on_cpu) {
            v->st = VIZ_G_RUNNING;
            v->tag = "CPU";
        } else {
            v->st = VIZ_G_SLEEP;
            v->tag = "SLEEP";
        }
        break;
    case WAIT_SEMACQUIRE:
    case WAIT_COND:
    case WAIT_MUTEX:
    case WAIT_RWMUTEX_RLOCK:
    case WAIT_RWMUTEX_LOCK:
    case WAIT_WAITGROUP: v->st = VIZ_G_SYNC; v->tag = sync_tag(v->reason); break;
    default: v->st = VIZ_G_WAIT; v->tag = "WAIT"; break;
    }
    if (failed) {
        v->st = VIZ_G_FAILED;
        v->tag = "PANIC";
    }
}

static void take_obj(void *ud, obj_t *o)
{
    take_ctx_t *c = ud;
    viz_snap_t *sn = c->sn;
    const viz_otrack_t *t = viz_track_obj(c->tr, o->id);
    switch (o->kind) {
    case OBJ_CHAN: {
        chan_t *ch = (chan_t *)o;
        c->chan_id = o->id;
        c->due = chan_due(ch);
        chan_each_waiter(ch, take_waiter, c);
        /* A timer's channel is not drawn (its waiters show its time). */
        if (chan_is_timer(ch) || (t && t->make_cap >= 0 && t->make_cap != chan_cap(ch)))
            return;
        if (!grow((void **)&sn->chans, &sn->capch, sn->nch, sizeof *sn->chans)) {
            c->ok = false;
            return;
        }
        viz_sch_t *v = &sn->chans[sn->nch++];
        memset(v, 0, sizeof *v);
        v->id = o->id;
        v->name = arena_str(sn->arena, o->name);
        v->len = chan_len(ch);
        v->cap = chan_cap(ch);
        v->closed = chan_closed(ch);
        v->senders = (uint32_t)chan_senders(ch);
        v->receivers = (uint32_t)chan_receivers(ch);
        v->ctx_done = chan_is_ctx_done(ch);
        v->due = chan_due(ch);
        if (v->ctx_done && !o->name) {
            char nm[48];
            snprintf(nm, sizeof nm, "ctx.Done() #%llu", (unsigned long long)o->id);
            v->name = arena_str(sn->arena, nm);
        }
        if (t) {
            v->sends = t->sends;
            v->recvs = t->recvs;
            v->last_sender = t->last_sender;
            v->last_receiver = t->last_receiver;
        }
        break;
    }
    case OBJ_MUTEX:
    case OBJ_RWMUTEX:
    case OBJ_SEMAPHORE:
    case OBJ_WAITGROUP:
    case OBJ_COND: {
        if (!grow((void **)&sn->locks, &sn->caplock, sn->nlock, sizeof *sn->locks)) {
            c->ok = false;
            return;
        }
        viz_slock_t *v = &sn->locks[sn->nlock++];
        memset(v, 0, sizeof *v);
        v->id = o->id;
        v->kind = o->kind;
        v->name = arena_str(sn->arena, o->name);
        if (t) {
            v->holder = t->holder;
            v->shared = t->shared;
        }
        break;
    }
    case OBJ_NODE:
        /* The world's nodes: named like their published entities, and
         * named by message events: aliases. */
        if (o->name) {
            if (!grow((void **)&sn->aliases, &sn->capalias, sn->nalias, sizeof *sn->aliases)) {
                c->ok = false;
                return;
            }
            viz_salias_t *a = &sn->aliases[sn->nalias++];
            a->id = o->id;
            a->name = arena_str(sn->arena, o->name);
        }
        break;
    default:
        break;
    }
}

static void take_entity(void *ud, entity_t *e)
{
    take_ctx_t *c = ud;
    viz_snap_t *sn = c->sn;
    if (!grow((void **)&sn->ents, &sn->capent, sn->nent, sizeof *sn->ents)) {
        c->ok = false;
        return;
    }
    viz_sent_t *v = &sn->ents[sn->nent++];
    memset(v, 0, sizeof *v);
    v->id = entity_id(e);
    v->parent = entity_parent(e) ? entity_id(entity_parent(e)) : 0;
    v->g = entity_goroutine(e);
    v->kind = arena_str(sn->arena, entity_kind(e));
    v->name = arena_str(sn->arena, entity_name(e));
    v->state = arena_str(sn->arena, entity_state(e));
    const char *const *names;
    const int64_t *vals;
    size_t n = entity_fields(e, &names, &vals);
    for (size_t i = 0; i < n && i < ENTITY_MAX_FIELDS; i++) {
        v->fname[i] = arena_str(sn->arena, names[i]);
        v->fval[i] = vals[i];
    }
    v->nfields = (int)(n < ENTITY_MAX_FIELDS ? n : ENTITY_MAX_FIELDS);
}

static int cmp_lock_waiter(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

bool viz_snap_take(viz_snap_t *sn, sched_t *s, const viz_track_t *tr, bool mid_instant)
{
    arena_reset(sn->arena);
    sn->ng = sn->nch = sn->nlock = sn->nent = sn->nalias = sn->nwait = 0;
    sn->t = sched_now_of(s);
    sn->mid_instant = mid_instant;
    sn->just_ran = mid_instant ? viz_track_last_run(tr, NULL) : 0;
    sn->events = sched_trace_events(s);
    sn->spawned = sched_goroutines_spawned(s);
    take_ctx_t c = {sn, tr, true, 0, -1};
    const viz_flow_edge_t *fl;
    sn->nflow = viz_track_flow(tr, &fl, &sn->flow_overflow);
    memcpy(sn->flow, fl, sn->nflow * sizeof *fl);
    sched_each_goroutine(s, take_g, &c);
    sched_each_object(s, take_obj, &c);
    entity_each(s, take_entity, &c);
    /* Waiters per lock: the goroutines parked on it. */
    if (sn->nlock) {
        uint64_t *w = malloc(sn->ng * sizeof *w + 1);
        size_t nw = 0;
        if (w) {
            for (size_t i = 0; i < sn->ng; i++)
                if (sn->gs[i].st == VIZ_G_SYNC && sn->gs[i].wait_obj)
                    w[nw++] = sn->gs[i].wait_obj;
            qsort(w, nw, sizeof *w, cmp_lock_waiter);
            size_t j = 0;
            for (size_t i = 0; i < sn->nlock; i++) {
                while (j < nw && w[j] < sn->locks[i].id)
                    j++;
                while (j < nw && w[j] == sn->locks[i].id) {
                    sn->locks[i].waiters++;
                    j++;
                }
            }
            free(w);
        }
    }
    /* A goroutine tied to an entity (a worker) is drawn on it. */
    for (size_t i = 0; i < sn->nent; i++) {
        if (!sn->ents[i].g)
            continue;
        viz_sg_t *g = (viz_sg_t *)viz_snap_g(sn, sn->ents[i].g);
        if (g)
            g->entity = sn->ents[i].id;
    }
    return c.ok;
}

/* Arrays are in creation order, so by ascending id: binary search. */
#define FIND_BY_ID(arr, n, want)                                    \
    do {                                                            \
        size_t lo_ = 0, hi_ = (n);                                  \
        while (lo_ < hi_) {                                         \
            size_t mid_ = (lo_ + hi_) / 2;                          \
            if ((arr)[mid_].id < (want))                            \
                lo_ = mid_ + 1;                                     \
            else                                                    \
                hi_ = mid_;                                         \
        }                                                           \
        return lo_ < (n) && (arr)[lo_].id == (want) ? &(arr)[lo_] : NULL; \
    } while (0)

const viz_sg_t *viz_snap_g(const viz_snap_t *sn, uint64_t id) { FIND_BY_ID(sn->gs, sn->ng, id); }
const viz_sent_t *viz_snap_entity(const viz_snap_t *sn, uint64_t id) { FIND_BY_ID(sn->ents, sn->nent, id); }
const viz_sch_t *viz_snap_chan(const viz_snap_t *sn, uint64_t id) { FIND_BY_ID(sn->chans, sn->nch, id); }
static const viz_slock_t *snap_lock(const viz_snap_t *sn, uint64_t id) { FIND_BY_ID(sn->locks, sn->nlock, id); }
static const viz_salias_t *snap_alias(const viz_snap_t *sn, uint64_t id) { FIND_BY_ID(sn->aliases, sn->nalias, id); }

const char *viz_snap_obj_name(const viz_snap_t *sn, uint64_t id)
{
    const viz_sch_t *c = viz_snap_chan(sn, id);
    if (c)
        return c->name;
    const viz_slock_t *l = snap_lock(sn, id);
    if (l)
        return l->name;
    const viz_sent_t *e = viz_snap_entity(sn, id);
    if (e)
        return e->name;
    const viz_salias_t *a = snap_alias(sn, id);
    if (a)
        return a->name;
    return NULL;
}

int64_t viz_sent_get(const viz_sent_t *e, const char *field, int64_t def)
{
    for (int i = 0; i < e->nfields; i++)
        if (strcmp(e->fname[i], field) == 0)
            return e->fval[i];
    return def;
}

bool viz_sent_has(const viz_sent_t *e, const char *field)
{
    for (int i = 0; i < e->nfields; i++)
        if (strcmp(e->fname[i], field) == 0)
            return true;
    return false;
}

uint32_t viz_gstate_color(viz_gstate_t st)
{
    switch (st) {
    case VIZ_G_RUNNING: return VIZ_C_RUNNING;
    case VIZ_G_READY: return VIZ_C_READY;
    case VIZ_G_RECV:
    case VIZ_G_SEND: return VIZ_C_CHAN;
    case VIZ_G_SELECT: return VIZ_C_SELECT;
    case VIZ_G_SLEEP: return VIZ_C_SLEEP;
    case VIZ_G_SYNC: return VIZ_C_SYNC;
    case VIZ_G_FAILED: return VIZ_C_FAIL;
    default: return VIZ_GREY;
    }
}

int viz_gstate_shape(viz_gstate_t st)
{
    switch (st) {
    case VIZ_G_RUNNING: return VIZ_SHAPE_CIRCLE;
    case VIZ_G_READY: return VIZ_SHAPE_TRIANGLE;
    case VIZ_G_RECV:
    case VIZ_G_SEND: return VIZ_SHAPE_SQUARE;
    case VIZ_G_SELECT: return VIZ_SHAPE_DIAMOND;
    case VIZ_G_SLEEP: return VIZ_SHAPE_RING;
    case VIZ_G_SYNC: return VIZ_SHAPE_BAR;
    case VIZ_G_FAILED: return VIZ_SHAPE_CROSS;
    default: return VIZ_SHAPE_HEX;
    }
}

const char *viz_gstate_label(viz_gstate_t st)
{
    switch (st) {
    case VIZ_G_RUNNING: return "working (on a CPU)";
    case VIZ_G_READY: return "runnable";
    case VIZ_G_RECV: return "blocked: receive";
    case VIZ_G_SEND: return "blocked: send";
    case VIZ_G_SELECT: return "blocked: select";
    case VIZ_G_SLEEP: return "sleeping / timer";
    case VIZ_G_SYNC: return "waiting: lock, group";
    case VIZ_G_FAILED: return "panicked";
    default: return "waiting: other";
    }
}
