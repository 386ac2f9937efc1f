/*
 * net: nodes, links, messages and faults. See net.h for the model.
 *
 * A message in flight is a delivery object armed on the timer queue; when
 * it fires, the partition table and the destination's state decide whether
 * it lands in the inbox. Messages and deliveries are objects of the
 * scheduler, so a run that stops with messages in flight frees them all.
 */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "race.h"
#include "rand.h"
#include "timer.h"

#define INBOX_CAPACITY 65536
#define PPM 1000000

typedef struct link_override {
    net_node_t *src, *dst;   /* the directed link */
    net_link_cfg_t cfg;      /* its settings */
} link_override_t;

typedef struct cut {
    net_node_t *src, *dst;   /* messages from src to dst are lost */
} cut_t;

struct net_cluster {
    obj_t hdr;                 /* scheduler-owned; hdr.name is the name */
    net_node_t **nodes;            /* creation order */
    size_t nnodes;
    net_link_cfg_t deflt;          /* links without their own settings */
    link_override_t *links;    /* per-link settings, in the order set */
    size_t nlinks;
    cut_t *cuts;               /* the partition, as cut directed links */
    size_t ncuts;
    net_stats_t st;            /* counters */
    uint64_t next_msg;         /* message ids */
    entity_t *entity;          /* the cluster, for the trace and the view */
};

typedef struct inbox {
    uint32_t port;             /* the port */
    chan_t *ch;                /* channel of net_msg_t* */
} inbox_t;

struct net_node {
    obj_t hdr;                 /* scheduler-owned; hdr.name is the name */
    net_cluster_t *c;              /* its cluster */
    ggroup_t *grp;             /* its goroutines */
    bool started, crashed, paused;
    uint64_t incarnation;      /* restarts so far */
    void (*boot)(net_node_t *n, void *arg);
    void *boot_arg;
    simtime_t clock_offset;    /* local clock = now + offset + drift */
    int64_t drift_ppm;
    simtime_t tx_free_at;      /* when its network interface is free (bandwidth) */
    inbox_t *inboxes;          /* ports in first-use order */
    size_t ninboxes;
    entity_t *entity;          /* the node, for the trace and the view */
};

typedef struct msg_obj {
    obj_t hdr;                 /* scheduler-owned */
    net_msg_t m;               /* the message */
} msg_obj_t;

typedef struct delivery {
    obj_t hdr;                 /* scheduler-owned */
    tq_entry_t e;              /* armed until it lands or is dropped */
    net_msg_t *m;              /* one reference held */
} delivery_t;

net_link_cfg_t net_link_cfg_default(void)
{
    net_link_cfg_t l;
    memset(&l, 0, sizeof l);
    l.latency = SIM_MS;
    return l;
}

/* ---- the cluster --------------------------------------------------------- */

static void cluster_deinit(obj_t *o)
{
    net_cluster_t *c = (net_cluster_t *)o;
    free(c->nodes);
    free(c->links);
    free(c->cuts);
}

net_cluster_t *net_cluster_new(const char *name)
{
    net_cluster_t *c = obj_alloc(sizeof *c, OBJ_NODE, cluster_deinit);
    obj_set_name(c, name ? name : "cluster");
    c->deflt = net_link_cfg_default();
    c->entity = entity_new("cluster", name ? name : "cluster", NULL);
    entity_set_state(c->entity, "healthy");
    return c;
}

static void node_deinit(obj_t *o)
{
    free(((net_node_t *)o)->inboxes);
}

net_node_t *net_cluster_add_node(net_cluster_t *c, const char *name)
{
    net_node_t *n = obj_alloc(sizeof *n, OBJ_NODE, node_deinit);
    obj_set_name(n, name);
    n->c = c;
    n->grp = ggroup_new(name);
    n->entity = entity_new("node", name, c->entity);
    entity_set_state(n->entity, "down");
    c->nodes = mem_realloc(c->nodes, (c->nnodes + 1) * sizeof *c->nodes);
    c->nodes[c->nnodes++] = n;
    entity_set(c->entity, "nodes", (int64_t)c->nnodes);
    return n;
}

net_node_t *net_cluster_node(net_cluster_t *c, const char *name)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (strcmp(c->nodes[i]->hdr.name, name) == 0)
            return c->nodes[i];
    return NULL;
}

size_t net_cluster_node_count(const net_cluster_t *c) { return c->nnodes; }
net_node_t *net_cluster_node_at(const net_cluster_t *c, size_t i) { return i < c->nnodes ? c->nodes[i] : NULL; }
entity_t *net_cluster_entity(const net_cluster_t *c) { return c->entity; }
net_stats_t net_cluster_stats(const net_cluster_t *c) { return c->st; }

const char *net_node_name(const net_node_t *n) { return n->hdr.name; }
net_cluster_t *net_node_cluster(const net_node_t *n) { return n->c; }
entity_t *net_node_entity(const net_node_t *n) { return n->entity; }
bool net_node_up(const net_node_t *n) { return n->started && !n->crashed; }
bool net_node_paused(const net_node_t *n) { return n->paused; }
uint64_t net_node_incarnation(const net_node_t *n) { return n->incarnation; }

net_node_t *net_node_self(net_cluster_t *c)
{
    ggroup_t *grp = go_group(go_self());
    if (!grp)
        return NULL;
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i]->grp == grp)
            return c->nodes[i];
    return NULL;
}

static void fault(net_node_t *n, net_cluster_t *c, const char *what)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s %s", what, n ? n->hdr.name : c->hdr.name);
    sched_emit(EV_FAULT, n ? n->hdr.id : c->hdr.id, 0, 0, buf);
}

/* ---- finding nodes by name --------------------------------------------------- */

typedef struct find {
    const char *name;
    net_node_t *node;
} find_t;

static void find_node(void *ud, obj_t *o)
{
    find_t *f = ud;
    if (!f->node && o->deinit == node_deinit && o->name && strcmp(o->name, f->name) == 0)
        f->node = (net_node_t *)o;
}

net_node_t *net_node_find(const char *name)
{
    find_t f = {name, NULL};
    sched_each_object(sched_current(), find_node, &f);
    return f.node;
}

static void heal_one(void *ud, obj_t *o)
{
    (void)ud;
    if (o->deinit == cluster_deinit && ((net_cluster_t *)o)->ncuts)
        net_cluster_heal((net_cluster_t *)o);
}

void net_heal_all(void)
{
    sched_each_object(sched_current(), heal_one, NULL);
}

/* ---- goroutines on nodes ---------------------------------------------------- */

g_t *net_node_go(net_node_t *n, void (*fn)(void *), void *arg, const char *name)
{
    if (!net_node_up(n))
        return NULL;
    g_t *g = go_spawn(fn, arg, name);
    go_set_group(g, n->grp);
    go_set_role(g, n->hdr.name);
    return g;
}

bool net_node_adopt(net_node_t *n, g_t *g)
{
    if (!net_node_up(n))
        return false;
    go_set_group(g, n->grp);
    if (!go_role(g))
        go_set_role(g, n->hdr.name);
    return true;
}

static void boot_entry(void *arg)
{
    net_node_t *n = arg;
    n->boot(n, n->boot_arg);
}

static void boot(net_node_t *n)
{
    if (!n->boot)
        return;
    char name[128];
    snprintf(name, sizeof name, "%s.boot", n->hdr.name);
    net_node_go(n, boot_entry, n, name);
}

void net_node_set_boot(net_node_t *n, void (*fn)(net_node_t *n, void *arg), void *arg)
{
    n->boot = fn;
    n->boot_arg = arg;
}

void net_node_start(net_node_t *n)
{
    if (n->started)
        return;
    n->started = true;
    entity_set_state(n->entity, "up");
    fault(n, n->c, "start");
    boot(n);
}

/* ---- faults ----------------------------------------------------------------- */

void net_node_crash(net_node_t *n)
{
    if (!net_node_up(n))
        return;
    fault(n, n->c, "crash");
    n->crashed = true;
    n->paused = false;
    ggroup_thaw(n->grp); /* nothing held survives: the kill drops it */
    ggroup_kill(n->grp);
    /* State is lost: the inboxes go with their messages. */
    n->ninboxes = 0;
    entity_set_state(n->entity, "crashed");
}

void net_node_restart(net_node_t *n)
{
    if (!n->started || !n->crashed)
        return;
    n->crashed = false;
    n->incarnation++;
    entity_set(n->entity, "incarnation", (int64_t)n->incarnation);
    entity_set_state(n->entity, "up");
    fault(n, n->c, "restart");
    boot(n);
}

void net_node_pause(net_node_t *n)
{
    if (!net_node_up(n) || n->paused)
        return;
    n->paused = true;
    ggroup_freeze(n->grp);
    entity_set_state(n->entity, "paused");
    fault(n, n->c, "pause");
}

void net_node_resume(net_node_t *n)
{
    if (!n->paused)
        return;
    n->paused = false;
    ggroup_thaw(n->grp);
    entity_set_state(n->entity, net_node_up(n) ? "up" : "crashed");
    fault(n, n->c, "resume");
}

void net_node_set_clock(net_node_t *n, simtime_t offset, int64_t drift_ppm)
{
    n->clock_offset = offset;
    n->drift_ppm = drift_ppm;
    entity_set(n->entity, "clock_offset_ns", offset);
    entity_set(n->entity, "drift_ppm", drift_ppm);
}

simtime_t net_node_clock(const net_node_t *n)
{
    simtime_t now = sched_now();
    __int128 drift = (__int128)now * n->drift_ppm / PPM;
    return now + n->clock_offset + (simtime_t)drift;
}

void net_node_sleep(net_node_t *n, simtime_t d)
{
    if (d <= 0)
        return;
    /* d of local time passes in d / (1 + drift) of true time. */
    __int128 real = (__int128)d * PPM / (PPM + n->drift_ppm);
    go_sleep(real > 0 ? (simtime_t)real : 1);
}

/* ---- links and partitions --------------------------------------------------- */

void net_cluster_set_default_link(net_cluster_t *c, const net_link_cfg_t *cfg)
{
    c->deflt = *cfg;
}

void net_cluster_set_link(net_cluster_t *c, net_node_t *src, net_node_t *dst, const net_link_cfg_t *cfg)
{
    for (size_t i = 0; i < c->nlinks; i++) {
        if (c->links[i].src == src && c->links[i].dst == dst) {
            c->links[i].cfg = *cfg;
            return;
        }
    }
    c->links = mem_realloc(c->links, (c->nlinks + 1) * sizeof *c->links);
    c->links[c->nlinks++] = (link_override_t){src, dst, *cfg};
}

const net_link_cfg_t *net_cluster_link(net_cluster_t *c, net_node_t *src, net_node_t *dst)
{
    for (size_t i = 0; i < c->nlinks; i++)
        if (c->links[i].src == src && c->links[i].dst == dst)
            return &c->links[i].cfg;
    return &c->deflt;
}

bool net_cluster_cut(const net_cluster_t *c, const net_node_t *src, const net_node_t *dst)
{
    for (size_t i = 0; i < c->ncuts; i++)
        if (c->cuts[i].src == src && c->cuts[i].dst == dst)
            return true;
    return false;
}

static void add_cut(net_cluster_t *c, net_node_t *src, net_node_t *dst)
{
    if (src == dst || net_cluster_cut(c, src, dst))
        return;
    c->cuts = mem_realloc(c->cuts, (c->ncuts + 1) * sizeof *c->cuts);
    c->cuts[c->ncuts++] = (cut_t){src, dst};
}

void net_cluster_partition(net_cluster_t *c, net_node_t *const *a, size_t na, net_node_t *const *b, size_t nb,
                           bool one_way)
{
    char buf[512];
    size_t w = (size_t)snprintf(buf, sizeof buf, "partition %s[", one_way ? "one-way " : "");
    for (size_t i = 0; i < na && w < sizeof buf; i++)
        w += (size_t)snprintf(buf + w, sizeof buf - w, "%s%s", i ? " " : "", a[i]->hdr.name);
    if (w < sizeof buf)
        w += (size_t)snprintf(buf + w, sizeof buf - w, "] %s [", one_way ? "->" : "|");
    for (size_t i = 0; i < nb && w < sizeof buf; i++)
        w += (size_t)snprintf(buf + w, sizeof buf - w, "%s%s", i ? " " : "", b[i]->hdr.name);
    if (w < sizeof buf)
        snprintf(buf + w, sizeof buf - w, "]");
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            add_cut(c, a[i], b[j]);
            if (!one_way)
                add_cut(c, b[j], a[i]);
        }
    }
    sched_emit(EV_FAULT, c->hdr.id, (int64_t)c->ncuts, 0, buf);
    entity_set(c->entity, "cut_links", (int64_t)c->ncuts);
    entity_set_state(c->entity, "partitioned");
}

void net_cluster_isolate(net_cluster_t *c, net_node_t *n)
{
    net_node_t **others = mem_malloc(c->nnodes * sizeof *others);
    size_t k = 0;
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i] != n)
            others[k++] = c->nodes[i];
    net_cluster_partition(c, &n, 1, others, k, false);
    free(others);
}

void net_cluster_partition_majority(net_cluster_t *c)
{
    size_t maj = c->nnodes / 2 + 1;
    if (maj >= c->nnodes)
        return;
    net_cluster_partition(c, c->nodes, maj, c->nodes + maj, c->nnodes - maj, false);
}

void net_cluster_heal(net_cluster_t *c)
{
    c->ncuts = 0;
    sched_emit(EV_FAULT, c->hdr.id, 0, 0, "heal");
    entity_set(c->entity, "cut_links", 0);
    entity_set_state(c->entity, "healthy");
}

/* ---- messages ----------------------------------------------------------------- */

static void msg_deinit(obj_t *o)
{
    net_msg_t *m = &((msg_obj_t *)o)->m;
    if (m->free_payload && m->payload)
        m->free_payload(m->payload);
    m->payload = NULL;
}

void net_msg_release(net_msg_t *m)
{
    if (!m || --m->refs > 0)
        return;
    obj_free((char *)m - offsetof(msg_obj_t, m));
}

chan_t *net_node_inbox(net_node_t *n, uint32_t port)
{
    if (!net_node_up(n))
        return NULL;
    for (size_t i = 0; i < n->ninboxes; i++)
        if (n->inboxes[i].port == port)
            return n->inboxes[i].ch;
    chan_t *ch = chan_make(sizeof(net_msg_t *), INBOX_CAPACITY);
    char name[128];
    snprintf(name, sizeof name, "%s:%u", n->hdr.name, port);
    obj_set_name(ch, name);
    n->inboxes = mem_realloc(n->inboxes, (n->ninboxes + 1) * sizeof *n->inboxes);
    n->inboxes[n->ninboxes++] = (inbox_t){port, ch};
    return ch;
}

static void drop(net_cluster_t *c, net_msg_t *m, const char *why, uint64_t *counter)
{
    (*counter)++;
    sched_emit(EV_NET_DROP, m->id, (int64_t)m->src->hdr.id, (int64_t)m->dst->hdr.id, why);
}

static void delivery_deinit(obj_t *o)
{
    delivery_t *d = (delivery_t *)o;
    timer_entry_disarm(&d->e);
    /* The message is an object too: the scheduler frees it on its own. */
}

static void deliver(tq_entry_t *e)
{
    delivery_t *d = (delivery_t *)((char *)e - offsetof(delivery_t, e));
    net_msg_t *m = d->m;
    net_cluster_t *c = m->dst->c;
    obj_free(d);
    if (net_cluster_cut(c, m->src, m->dst)) {
        drop(c, m, "partition", &c->st.cut);
        net_msg_release(m);
        return;
    }
    chan_t *in = net_node_inbox(m->dst, m->port);
    if (!in) {
        drop(c, m, "node down", &c->st.dropped_down);
        net_msg_release(m);
        return;
    }
    /* The race detector: the send happens before the receive of the
     * delivered message (the delivery acts with the message's clock). */
    race_proxy_begin(((msg_obj_t *)((char *)m - offsetof(msg_obj_t, m)))->hdr.id, 0);
    bool sent = chan_try_send(in, &m);
    race_proxy_end();
    if (!sent) {
        drop(c, m, "inbox full", &c->st.lost);
        net_msg_release(m);
        return;
    }
    c->st.delivered++;
    sched_emit(EV_NET_DELIVER, m->id, (int64_t)m->src->hdr.id, (int64_t)m->dst->hdr.id, NULL);
}

static bool draw_ppm(uint32_t ppm)
{
    return ppm > 0 && rand_below(sched_rand(sched_current(), RAND_WORLD), PPM) < ppm;
}

/* Put m in flight: it reaches dst's inbox (or is dropped) after delay. */
static void schedule(net_msg_t *m, simtime_t delay)
{
    delivery_t *d = obj_alloc(sizeof *d, OBJ_NONE, delivery_deinit);
    timer_entry_init(&d->e, deliver, m->id);
    d->m = m;
    timer_entry_arm(&d->e, sched_now() + delay);
}

uint64_t net_send(net_node_t *src, net_node_t *dst, uint32_t port, void *payload, size_t size,
                  void (*free_payload)(void *))
{
    net_cluster_t *c = src->c;
    if (!net_node_up(src)) {
        if (free_payload && payload)
            free_payload(payload);
        return 0;
    }
    msg_obj_t *mo = obj_alloc(sizeof *mo, OBJ_NONE, msg_deinit);
    net_msg_t *m = &mo->m;
    m->src = src;
    m->dst = dst;
    m->port = port;
    m->id = ++c->next_msg;
    m->sent_at = sched_now();
    m->size = size;
    m->payload = payload;
    m->free_payload = free_payload;
    m->refs = 1;
    race_release(mo->hdr.id, 0); /* the sender's clock travels with the message */
    c->st.sent++;
    sched_emit(EV_NET_SEND, m->id, (int64_t)src->hdr.id, (int64_t)dst->hdr.id, NULL);
    const net_link_cfg_t *l = net_cluster_link(c, src, dst);
    uint64_t id = m->id;
    if (draw_ppm(l->loss_ppm)) {
        drop(c, m, "loss", &c->st.lost);
        net_msg_release(m);
        return id;
    }
    simtime_t delay = l->latency;
    if (l->jitter > 0)
        delay += rand_range(sched_rand(sched_current(), RAND_WORLD), 0, l->jitter);
    if (l->bandwidth_bps > 0) {
        /* Serialise behind earlier messages of the same sender. */
        simtime_t tx = (simtime_t)((__int128)size * SIM_SEC / l->bandwidth_bps);
        simtime_t start = src->tx_free_at > sched_now() ? src->tx_free_at : sched_now();
        src->tx_free_at = start + tx;
        delay += src->tx_free_at - sched_now();
    }
    if (draw_ppm(l->reorder_ppm)) {
        c->st.reordered++;
        delay += l->reorder_delay;
    }
    if (draw_ppm(l->dup_ppm)) {
        c->st.duplicated++;
        m->refs++;
        simtime_t again = delay;
        if (l->jitter > 0)
            again = l->latency + rand_range(sched_rand(sched_current(), RAND_WORLD), 0, l->jitter);
        schedule(m, again);
    }
    schedule(m, delay);
    return id;
}
