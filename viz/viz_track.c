/* viz_track: state learned from the trace. See viz_track.h. */
#include "viz_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 96
#define MAX_MSGS 4096
#define MAX_CUTS 256
/* An entity whose kind is not listed below gets markers for its first
 * state changes only: a worker's busy/idle would bury the timeline. */
#define RARE_CHANGES 3

/* ---- a map from 64-bit ids to record indexes ----------------------------- */

typedef struct idmap {
    uint64_t *keys;  /* 0: empty */
    uint32_t *vals;
    size_t cap, len; /* cap a power of two */
} idmap_t;

static size_t slot_of(const idmap_t *m, uint64_t k)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (m->cap - 1);
}

static uint32_t *map_find(const idmap_t *m, uint64_t k)
{
    if (!m->cap || !k)
        return NULL;
    for (size_t i = slot_of(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k)
            return &m->vals[i];
        if (!m->keys[i])
            return NULL;
    }
}

static bool map_put(idmap_t *m, uint64_t k, uint32_t v)
{
    if ((m->len + 1) * 2 > m->cap) {
        idmap_t n = {0};
        n.cap = m->cap ? m->cap * 2 : 256;
        n.keys = calloc(n.cap, sizeof *n.keys);
        n.vals = calloc(n.cap, sizeof *n.vals);
        if (!n.keys || !n.vals) {
            free(n.keys);
            free(n.vals);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = slot_of(&n, m->keys[i]);
                while (n.keys[j])
                    j = (j + 1) & (n.cap - 1);
                n.keys[j] = m->keys[i];
                n.vals[j] = m->vals[i];
                n.len++;
            }
        free(m->keys);
        free(m->vals);
        *m = n;
    }
    size_t i = slot_of(m, k);
    while (m->keys[i] && m->keys[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->len++;
    m->keys[i] = k;
    m->vals[i] = v;
    return true;
}

/* Linear probing's deletion by backward shift: no tombstones. */
static void map_del(idmap_t *m, uint64_t k)
{
    if (!m->cap || !k)
        return;
    size_t i = slot_of(m, k);
    while (m->keys[i] != k) {
        if (!m->keys[i])
            return;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = 0;
    m->len--;
    for (size_t j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
        size_t home = slot_of(m, m->keys[j]);
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        m->keys[j] = 0;
        i = j;
    }
}

static void map_clear(idmap_t *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- the tracker ---------------------------------------------------------- */

struct viz_track {
    idmap_t gmap;             /* goroutine id -> index in gs */
    viz_gtrack_t *gs;
    uint32_t ng, capg;
    uint32_t *gfree;          /* free slots of gs */
    uint32_t nfree, capfree;
    idmap_t omap;             /* object id -> index in os */
    viz_otrack_t *os;
    uint32_t no, capo;
    viz_mark_t *marks;
    size_t nmarks, capmarks;
    uint64_t mark_seq;        /* trace position of the last event marked */
    bool any_marked;
    bool interesting;
    uint64_t last_g;
    simtime_t last_run_t;
    viz_flash_t flashes[VIZ_FLASHES];
    size_t nflash, flash_pos;
    viz_recent_t recent[VIZ_RECENT];
    size_t nrecent, recent_pos;
    viz_msg_t *msgs;
    size_t nmsgs;
    viz_msg_t done[VIZ_MSG_DONE]; /* ring of finished messages */
    viz_write_t writes[VIZ_WRITES]; /* ring of writes to resources */
    size_t nwrites, write_pos;
    size_t ndone, done_pos;
    simtime_t lat_sum;
    uint64_t lat_n;
    viz_cut_t cuts[MAX_CUTS];
    size_t ncuts;
    viz_series_t *series[MAX_SERIES];
    size_t nseries;
    uint64_t seq;
    viz_flow_edge_t flow[VIZ_FLOW_MAX]; /* kept across restarts */
    size_t nflow;
    bool flow_overflow;
    idmap_t flowmap;          /* an edge's key -> 1 */
    uint64_t seen;            /* kept across restarts: viz_track_seen */
};

uint64_t viz_track_seen(const viz_track_t *tr)
{
    return tr->seen;
}

viz_track_t *viz_track_create(void)
{
    viz_track_t *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->msgs = calloc(MAX_MSGS, sizeof *tr->msgs);
    if (!tr->msgs) {
        free(tr);
        return NULL;
    }
    tr->last_run_t = -1;
    return tr;
}

void viz_track_reset_run(viz_track_t *tr)
{
    map_clear(&tr->gmap);
    map_clear(&tr->omap);
    free(tr->gs);
    free(tr->gfree);
    free(tr->os);
    tr->gs = NULL;
    tr->gfree = NULL;
    tr->os = NULL;
    tr->ng = tr->capg = tr->nfree = tr->capfree = tr->no = tr->capo = 0;
    tr->interesting = false;
    tr->last_g = 0;
    tr->last_run_t = -1;
    tr->nflash = tr->flash_pos = 0;
    tr->nrecent = tr->recent_pos = 0;
    tr->nmsgs = 0;
    tr->ndone = tr->done_pos = 0;
    tr->nwrites = tr->write_pos = 0;
    tr->lat_sum = 0;
    tr->lat_n = 0;
    tr->ncuts = 0;
    for (size_t i = 0; i < tr->nseries; i++)
        free(tr->series[i]);
    tr->nseries = 0;
    tr->seq = 0;
}

void viz_track_destroy(viz_track_t *tr)
{
    if (!tr)
        return;
    viz_track_reset_run(tr);
    map_clear(&tr->flowmap);
    free(tr->marks);
    free(tr->msgs);
    free(tr);
}

static viz_gtrack_t *g_get(viz_track_t *tr, uint64_t id, bool create)
{
    uint32_t *ix = map_find(&tr->gmap, id);
    if (ix)
        return &tr->gs[*ix];
    if (!create || !id)
        return NULL;
    uint32_t i;
    if (tr->nfree) {
        i = tr->gfree[--tr->nfree];
    } else {
        if (tr->ng == tr->capg) {
            uint32_t ncap = tr->capg ? tr->capg * 2 : 256;
            viz_gtrack_t *n = realloc(tr->gs, ncap * sizeof *n);
            if (!n)
                return NULL;
            tr->gs = n;
            tr->capg = ncap;
        }
        i = tr->ng++;
    }
    if (!map_put(&tr->gmap, id, i))
        return NULL;
    viz_gtrack_t *g = &tr->gs[i];
    memset(g, 0, sizeof *g);
    g->id = id;
    g->last_run = -1;
    return g;
}

static void g_drop(viz_track_t *tr, uint64_t id)
{
    uint32_t *ix = map_find(&tr->gmap, id);
    if (!ix)
        return;
    uint32_t i = *ix;
    map_del(&tr->gmap, id);
    if (tr->nfree == tr->capfree) {
        uint32_t ncap = tr->capfree ? tr->capfree * 2 : 256;
        uint32_t *n = realloc(tr->gfree, ncap * sizeof *n);
        if (!n)
            return; /* the slot is lost until the next run: harmless */
        tr->gfree = n;
        tr->capfree = ncap;
    }
    tr->gfree[tr->nfree++] = i;
}

static viz_otrack_t *o_get(viz_track_t *tr, uint64_t id, bool create)
{
    uint32_t *ix = map_find(&tr->omap, id);
    if (ix)
        return &tr->os[*ix];
    if (!create || !id)
        return NULL;
    if (tr->no == tr->capo) {
        uint32_t ncap = tr->capo ? tr->capo * 2 : 256;
        viz_otrack_t *n = realloc(tr->os, ncap * sizeof *n);
        if (!n)
            return NULL;
        tr->os = n;
        tr->capo = ncap;
    }
    uint32_t i = tr->no;
    if (!map_put(&tr->omap, id, i))
        return NULL;
    tr->no++;
    viz_otrack_t *o = &tr->os[i];
    memset(o, 0, sizeof *o);
    o->id = id;
    o->make_cap = -1;
    return o;
}

static void hist_add(viz_gtrack_t *g, const trace_event_t *ev)
{
    viz_hist_t *h = &g->hist[g->hpos];
    h->t = ev->t;
    h->kind = ev->kind;
    h->obj = ev->obj;
    h->a = ev->a;
    g->hpos = (uint8_t)((g->hpos + 1) % VIZ_HIST);
    if (g->nhist < VIZ_HIST)
        g->nhist++;
}

/* src cut to VIZ_TEXT - 1 bytes (as snprintf would, without its cost on
 * every event: 6% of a 10,000-goroutine recording was vfprintf here). */
static void copy_text(char *dst, const char *src)
{
    size_t n = 0;
    if (src)
        while (n < VIZ_TEXT - 1 && src[n]) {
            dst[n] = src[n];
            n++;
        }
    dst[n] = 0;
}

static void mark_add(viz_track_t *tr, simtime_t t, uint64_t seq, viz_mark_kind_t kind, uint64_t obj,
                     const char *text)
{
    tr->interesting = true;
    if (tr->any_marked && seq <= tr->mark_seq)
        return; /* seen in an earlier execution of the same run */
    if (tr->nmarks == tr->capmarks) {
        size_t ncap = tr->capmarks ? tr->capmarks * 2 : 64;
        viz_mark_t *n = realloc(tr->marks, ncap * sizeof *n);
        if (!n)
            return;
        tr->marks = n;
        tr->capmarks = ncap;
    }
    viz_mark_t *m = &tr->marks[tr->nmarks++];
    m->t = t;
    m->seq = seq;
    m->kind = kind;
    m->obj = obj;
    copy_text(m->text, text);
    tr->mark_seq = seq;
    tr->any_marked = true;
}

void viz_track_forget_marks(viz_track_t *tr)
{
    tr->nmarks = 0;
    tr->mark_seq = 0;
    tr->any_marked = false;
}

void viz_track_mark(viz_track_t *tr, simtime_t t, uint64_t seq, viz_mark_kind_t kind, uint64_t obj,
                    const char *text)
{
    char want[VIZ_TEXT];
    copy_text(want, text);
    /* A failed expectation is also a user event in the trace: upgrade it. */
    for (size_t i = tr->nmarks; i-- > 0 && tr->marks[i].t == t;) {
        viz_mark_t *m = &tr->marks[i];
        if (strcmp(m->text, want) == 0) {
            if (kind > m->kind)
                m->kind = kind;
            tr->interesting = true;
            return;
        }
    }
    mark_add(tr, t, seq, kind, obj, text);
}

size_t viz_track_marks(const viz_track_t *tr, const viz_mark_t **list)
{
    *list = tr->marks;
    return tr->nmarks;
}

bool viz_track_take_interesting(viz_track_t *tr)
{
    bool r = tr->interesting;
    tr->interesting = false;
    return r;
}

/* Kinds whose state changes are routine (a worker's busy and idle): no
 * markers, or the timeline would show nothing else. */
static bool kind_never_marked(const char *kind)
{
    static const char *const kinds[] = {
        "worker", "task", "job", "request", "item", "stage", "message", "cpu", "executor", NULL,
    };
    for (int i = 0; kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

/* Kinds whose every state change is worth a marker. */
static bool kind_always_marked(const char *kind)
{
    static const char *const kinds[] = {
        "breaker", "node", "cluster", "load_manager", "level", "election", "leader",
        "lock", "mutex", "semaphore", "pool", "server", NULL,
    };
    for (int i = 0; kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

static void series_add(viz_track_t *tr, uint64_t entity, const char *field, simtime_t t, int64_t v)
{
    viz_series_t *s = NULL;
    for (size_t i = 0; i < tr->nseries; i++)
        if (tr->series[i]->entity == entity && strncmp(tr->series[i]->field, field, sizeof s->field - 1) == 0) {
            s = tr->series[i];
            break;
        }
    if (!s) {
        if (tr->nseries == MAX_SERIES)
            return;
        s = calloc(1, sizeof *s);
        if (!s)
            return;
        s->entity = entity;
        snprintf(s->field, sizeof s->field, "%s", field);
        tr->series[tr->nseries++] = s;
    }
    int last = (s->pos + VIZ_SERIES - 1) % VIZ_SERIES;
    if (s->n && s->t[last] == t) {
        s->v[last] = v; /* several changes at one instant: keep the last */
        return;
    }
    s->t[s->pos] = t;
    s->v[s->pos] = v;
    s->pos = (s->pos + 1) % VIZ_SERIES;
    if (s->n < VIZ_SERIES)
        s->n++;
}

static void on_state(viz_track_t *tr, const trace_event_t *ev)
{
    const char *d = ev->detail ? ev->detail : "";
    viz_otrack_t *o = o_get(tr, ev->obj, false);
    if ((!o || !o->is_entity) && strcmp(d, "cpu") == 0) {
        /* Not an entity's: the simulated CPUs, the emitting goroutine
         * took one (sim.work). (An entity's field named "cpu" is a field.) */
        viz_gtrack_t *g = g_get(tr, ev->g, true);
        if (g)
            g->cpu_pending = true;
        return;
    }
    if (!o) {
        /* The first event of an entity is its creation: detail is the
         * kind, a the parent. */
        o = o_get(tr, ev->obj, true);
        if (!o)
            return;
        o->is_entity = true;
        o->parent = (uint64_t)ev->a;
        snprintf(o->kind, sizeof o->kind, "%s", d);
        if (strcmp(d, "breaker") == 0 || strcmp(d, "circuit_breaker") == 0)
            tr->seen |= 1ull << VIZ_SEEN_BREAKER;
        return;
    }
    if (ev->b == 1) {
        series_add(tr, ev->obj, d, ev->t, ev->a);
        bool refused = strcmp(d, "rejected") == 0;
        if (strcmp(o->kind, "resource") == 0 && (refused || strcmp(d, "accepted") == 0)) {
            viz_write_t *w = &tr->writes[tr->write_pos];
            *w = (viz_write_t){.t = ev->t, .g = ev->g, .entity = ev->obj, .refused = refused};
            tr->write_pos = (tr->write_pos + 1) % VIZ_WRITES;
            if (tr->nwrites < VIZ_WRITES)
                tr->nwrites++;
            if (refused)
                mark_add(tr, ev->t, ev->seq, VIZ_MARK_STATE, ev->obj, "resource: stale write refused");
        }
        return;
    }
    o->state_changes++;
    if (kind_always_marked(o->kind) || (!kind_never_marked(o->kind) && o->state_changes <= RARE_CHANGES)) {
        char text[VIZ_TEXT];
        snprintf(text, sizeof text, "%s: %s", o->kind, d);
        mark_add(tr, ev->t, ev->seq, VIZ_MARK_STATE, ev->obj, text);
    }
}

/* The name starting at *p (up to a space or bracket), advancing *p. */
static bool next_name(const char **p, char *out, size_t size)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    size_t n = 0;
    while (s[n] && s[n] != ' ' && s[n] != ']' && s[n] != '[')
        n++;
    if (n == 0 || n >= size)
        return false;
    memcpy(out, s, n);
    out[n] = 0;
    *p = s + n;
    return true;
}

/* A partition's fault text is "partition [a b] | [c]" (or "one-way" and
 * "->"): every link from the first group to the second is cut. */
static void on_fault(viz_track_t *tr, const char *d)
{
    if (strcmp(d, "heal") == 0) {
        tr->ncuts = 0;
        return;
    }
    bool one_way = strncmp(d, "partition one-way [", 19) == 0;
    const char *p;
    if (one_way)
        p = d + 19;
    else if (strncmp(d, "partition [", 11) == 0)
        p = d + 11;
    else
        return;
    char a[16][24], b[16][24];
    size_t na = 0, nb = 0;
    while (na < 16 && next_name(&p, a[na], sizeof a[na]))
        na++;
    p = strchr(p, '[');
    if (!p)
        return;
    p++;
    while (nb < 16 && next_name(&p, b[nb], sizeof b[nb]))
        nb++;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb && tr->ncuts < MAX_CUTS; j++) {
            viz_cut_t *c = &tr->cuts[tr->ncuts++];
            memcpy(c->a, a[i], sizeof c->a);
            memcpy(c->b, b[j], sizeof c->b);
            c->one_way = one_way;
        }
}

static void msg_drop(viz_track_t *tr, uint64_t id, simtime_t t, bool delivered, const char *why)
{
    for (size_t i = 0; i < tr->nmsgs; i++)
        if (tr->msgs[i].id == id) {
            if (delivered) {
                tr->lat_sum += t - tr->msgs[i].sent;
                tr->lat_n++;
            }
            viz_msg_t *d = &tr->done[tr->done_pos];
            *d = tr->msgs[i];
            d->end = t;
            d->fate = delivered ? VIZ_MSG_DELIVERED : VIZ_MSG_DROPPED;
            snprintf(d->why, sizeof d->why, "%s", why && !delivered ? why : "");
            tr->done_pos = (tr->done_pos + 1) % VIZ_MSG_DONE;
            if (tr->ndone < VIZ_MSG_DONE)
                tr->ndone++;
            memmove(&tr->msgs[i], &tr->msgs[i + 1], (tr->nmsgs - i - 1) * sizeof *tr->msgs);
            tr->nmsgs--;
            return;
        }
}

static void flow_add(viz_track_t *tr, uint64_t chan, uint64_t g, bool send)
{
    if (!g || !chan || tr->flow_overflow)
        return;
    uint64_t key = (chan * 0x9e3779b97f4a7c15ull) ^ (g * 0xc2b2ae3d27d4eb4full) ^ (send ? 1u : 2u);
    if (!key)
        key = 1;
    if (map_find(&tr->flowmap, key))
        return; /* seen (a key collision only hides an edge) */
    if (tr->nflow == VIZ_FLOW_MAX) {
        tr->flow_overflow = true;
        return;
    }
    if (!map_put(&tr->flowmap, key, 1))
        return;
    tr->flow[tr->nflow++] = (viz_flow_edge_t){chan, g, send};
}

size_t viz_track_flow(const viz_track_t *tr, const viz_flow_edge_t **list, bool *overflow)
{
    *list = tr->flow;
    if (overflow)
        *overflow = tr->flow_overflow;
    return tr->nflow;
}

void viz_track_event(viz_track_t *tr, const trace_event_t *ev)
{
    tr->seq = ev->seq;
    viz_recent_t *r = &tr->recent[tr->recent_pos];
    r->ev = *ev;
    if (ev->detail) {
        copy_text(r->text, ev->detail);
        r->ev.detail = r->text;
    }
    tr->recent_pos = (tr->recent_pos + 1) % VIZ_RECENT;
    if (tr->nrecent < VIZ_RECENT)
        tr->nrecent++;

    viz_gtrack_t *g;
    viz_otrack_t *o;
    switch (ev->kind) {
    case EV_GO_SPAWN:
        if ((g = g_get(tr, ev->obj, true)))
            hist_add(g, ev);
        break;
    case EV_GO_RUN:
        if ((g = g_get(tr, ev->g, true))) {
            g->last_run = ev->t;
            g->on_cpu = false;
            g->wait_obj = 0;
        }
        tr->last_g = ev->g;
        tr->last_run_t = ev->t;
        break;
    case EV_GO_BLOCK:
        if ((g = g_get(tr, ev->g, true))) {
            g->wait_obj = ev->obj;
            if (g->cpu_pending && ev->a == WAIT_SLEEP) {
                g->on_cpu = true;
                g->cpu_pending = false;
                tr->seen |= 1ull << VIZ_SEEN_CPU;
            } else if (ev->a >= 0 && ev->a < WAIT_REASON_COUNT) {
                tr->seen |= 1ull << ev->a;
            }
            hist_add(g, ev);
        }
        break;
    case EV_GO_WAKE:
        if ((g = g_get(tr, ev->obj, false)))
            hist_add(g, ev);
        break;
    case EV_GO_EXIT:
        g_drop(tr, ev->g);
        break;
    case EV_CHAN_MAKE:
        if ((o = o_get(tr, ev->obj, true))) {
            o->is_chan = true;
            o->make_cap = ev->a;
        }
        break;
    case EV_CHAN_SEND:
    case EV_CHAN_RECV: {
        bool send = ev->kind == EV_CHAN_SEND;
        if ((o = o_get(tr, ev->obj, true))) {
            o->is_chan = true;
            if (send && !ev->g)
                o->runtime_sent = true;
            if (send) {
                o->sends++;
                o->last_sender = ev->g;
            } else {
                o->recvs++;
                o->last_receiver = ev->g;
            }
        }
        if (!o || !o->runtime_sent) /* not a timer's channel */
            flow_add(tr, ev->obj, ev->g, send);
        if (ev->g)
            tr->seen |= 1ull << VIZ_SEEN_FLASH;
        if ((g = g_get(tr, ev->g, false)))
            hist_add(g, ev);
        viz_flash_t *f = &tr->flashes[tr->flash_pos];
        f->t = ev->t;
        f->chan = ev->obj;
        f->g = ev->g;
        f->send = send;
        tr->flash_pos = (tr->flash_pos + 1) % VIZ_FLASHES;
        if (tr->nflash < VIZ_FLASHES)
            tr->nflash++;
        break;
    }
    case EV_LOCK:
    case EV_UNLOCK:
        if ((o = o_get(tr, ev->obj, true))) {
            o->is_lock = true;
            bool lock = ev->kind == EV_LOCK;
            if (ev->a == 0)
                o->holder = lock ? ev->g : 0;
            if (lock && ev->a == 0)
                tr->seen |= 1ull << VIZ_SEEN_HELD;
            else
                o->shared += lock ? 1 : (o->shared > 0 ? -1 : 0);
        }
        if ((g = g_get(tr, ev->g, false)))
            hist_add(g, ev);
        break;
    case EV_STATE:
        on_state(tr, ev);
        break;
    case EV_PANIC:
    case EV_FATAL:
        if ((g = g_get(tr, ev->g, true)))
            g->failed = true;
        tr->seen |= 1ull << VIZ_SEEN_PANIC;
        mark_add(tr, ev->t, ev->seq, VIZ_MARK_PANIC, ev->g,
                 ev->detail ? ev->detail : (ev->kind == EV_PANIC ? "panic" : "fatal error"));
        break;
    case EV_USER:
        mark_add(tr, ev->t, ev->seq, VIZ_MARK_USER, ev->obj, ev->detail ? ev->detail : "event");
        break;
    case EV_VIOLATION:
        mark_add(tr, ev->t, ev->seq, VIZ_MARK_FAIL, ev->obj, ev->detail ? ev->detail : "violation");
        break;
    case EV_FAULT:
        mark_add(tr, ev->t, ev->seq, VIZ_MARK_FAULT, ev->obj, ev->detail ? ev->detail : "fault");
        if (ev->detail)
            on_fault(tr, ev->detail);
        break;
    case EV_NET_SEND:
        if (tr->nmsgs < MAX_MSGS) {
            viz_msg_t *m = &tr->msgs[tr->nmsgs++];
            m->id = ev->obj;
            m->src = (uint64_t)ev->a;
            m->dst = (uint64_t)ev->b;
            m->sent = ev->t;
            m->end = -1;
            m->fate = VIZ_MSG_FLIGHT;
            m->why[0] = 0;
        }
        break;
    case EV_NET_DELIVER:
    case EV_NET_DROP:
        msg_drop(tr, ev->obj, ev->t, ev->kind == EV_NET_DELIVER, ev->detail);
        break;
    default:
        break;
    }
}

const viz_gtrack_t *viz_track_g(const viz_track_t *tr, uint64_t gid)
{
    uint32_t *ix = map_find(&tr->gmap, gid);
    return ix ? &tr->gs[*ix] : NULL;
}

const viz_otrack_t *viz_track_obj(const viz_track_t *tr, uint64_t id)
{
    uint32_t *ix = map_find(&tr->omap, id);
    return ix ? &tr->os[*ix] : NULL;
}

uint64_t viz_track_last_run(const viz_track_t *tr, simtime_t *when)
{
    if (when)
        *when = tr->last_run_t;
    return tr->last_g;
}

bool viz_track_flash(const viz_track_t *tr, size_t i, viz_flash_t *out)
{
    if (i >= tr->nflash)
        return false;
    *out = tr->flashes[(tr->flash_pos + VIZ_FLASHES - 1 - i) % VIZ_FLASHES];
    return true;
}

const viz_recent_t *viz_track_recent(const viz_track_t *tr, size_t i)
{
    if (i >= tr->nrecent)
        return NULL;
    return &tr->recent[(tr->recent_pos + VIZ_RECENT - 1 - i) % VIZ_RECENT];
}

size_t viz_track_msgs(const viz_track_t *tr, const viz_msg_t **list)
{
    *list = tr->msgs;
    return tr->nmsgs;
}

bool viz_track_write(const viz_track_t *tr, size_t i, viz_write_t *out)
{
    if (i >= tr->nwrites)
        return false;
    *out = tr->writes[(tr->write_pos + VIZ_WRITES - 1 - i) % VIZ_WRITES];
    return true;
}

bool viz_track_msg_done(const viz_track_t *tr, size_t i, viz_msg_t *out)
{
    if (i >= tr->ndone)
        return false;
    *out = tr->done[(tr->done_pos + VIZ_MSG_DONE - 1 - i) % VIZ_MSG_DONE];
    return true;
}

size_t viz_track_cuts(const viz_track_t *tr, const viz_cut_t **list)
{
    *list = tr->cuts;
    return tr->ncuts;
}

simtime_t viz_track_msg_latency(const viz_track_t *tr)
{
    return tr->lat_n ? tr->lat_sum / (simtime_t)tr->lat_n : 0;
}

const viz_series_t *viz_track_series(const viz_track_t *tr, uint64_t entity, const char *field)
{
    for (size_t i = 0; i < tr->nseries; i++)
        if (tr->series[i]->entity == entity && strcmp(tr->series[i]->field, field) == 0)
            return tr->series[i];
    return NULL;
}

uint64_t viz_track_seq(const viz_track_t *tr)
{
    return tr->seq;
}
