/*
 * etcd_server: the store's server on its node. See etcd.h for the model.
 *
 * Three goroutines per incarnation of the node: the request loop (one
 * request at a time, in arrival order), the lease-expiry check (on a 500ms
 * grid counted from the boot; it sleeps until the grid point at or after
 * the earliest deadline, which finds exactly what a check every 500ms
 * finds), and the watch resender (wakes only while some watch message is
 * unacknowledged). Everything they share lives in the server object, which
 * outlives crashes: that is the persistence. The channels they wait on are
 * made anew at every boot, because a crashed goroutine stays queued on a
 * channel it was waiting on and would swallow a wake-up.
 *
 * The request being served is kept in the server object, so a crash in the
 * middle of a (slow, service_time > 0) request does not leak it: the next
 * boot releases it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "etcd_wire.h"
#include "mem.h"
#include "rand.h"
#include "timer.h"

/* Request numbers remembered per client, up to this far below the highest
 * seen: a request older than that is taken for a duplicate. */
#define DEDUP_WINDOW 4096

typedef struct srv_client {
    uint64_t id;          /* the client's number */
    uint64_t max_id;      /* highest request number seen */
    uint64_t seen[DEDUP_WINDOW / 64]; /* bit (n % DEDUP_WINDOW): request n seen, for
                                         n in (max_id - DEDUP_WINDOW, max_id] */
} srv_client_t;

typedef struct watcher {
    uint64_t client, watch; /* the client's number and its watch number */
    net_node_t *node;           /* the client's node */
    uint32_t port;          /* its inbox port */
    uint64_t incarnation;   /* the node's incarnation when the watch was made */
    char *key;              /* the key or prefix (owned) */
    bool prefix;
    int64_t start;          /* first revision reported */
    int64_t acked;          /* revision the client has; -1 until it has the creation */
    int64_t sent;           /* revisions covered by messages sent so far */
    simtime_t last_tx;      /* when a message last went out */
    bool canceled;          /* ended by the server; resent until the client cancels */
    int64_t compact_rev;    /* the compaction point that ended it */
} watcher_t;

typedef struct deferred {
    net_node_t *node;           /* where to answer */
    uint32_t port;
    net_node_t *origin;         /* a forwarded request's client (see etcd_wire.h), or NULL */
    uint32_t origin_port;
    uint64_t id;            /* the request number */
    bool stream;            /* answer to a keep-alive loop */
    int64_t lease;          /* the expired lease */
} deferred_t;

typedef struct lease_ent {
    int64_t id;             /* the lease */
    entity_t *e;            /* its entity */
    bool alive;             /* not yet revoked or expired */
} lease_ent_t;

typedef struct track {
    char *prefix;           /* with its trailing slash (owned) */
    etcd_track_kind_t kind;
    entity_t *e;
    int64_t holder_rev;     /* create revision of the holder seen last, 0 if none */
    char *leader_value;     /* election: the leader's value seen last (owned) */
} track_t;

typedef struct member member_t;

struct etcd_server {
    obj_t hdr;                  /* scheduler-owned */
    member_t *members;          /* a store of several (etcd_server_new_cluster); NULL for one */
    size_t nmembers;
    int leader;                 /* the member that leads, -1 if none (several members) */
    simtime_t leader_since;     /* when it began to lead */
    uint64_t term;              /* its term */
    net_node_t *node;               /* where it runs */
    etcd_server_cfg_t cfg;
    kv_t *kv;                   /* the store: survives crashes (persisted) */
    entity_t *entity;           /* the store's entity */
    simtime_t boot_at;          /* start of the expiry grid */
    uint64_t boots;             /* boots so far */
    uint64_t requests;          /* served */
    uint64_t next_client;       /* client numbers */
    srv_client_t *clients;      /* by number (client n at index n - 1) */
    size_t nclients, capclients;
    watcher_t **watchers;       /* in creation order */
    size_t nwatchers, capwatchers;
    deferred_t *deferred;       /* keep-alives of expired leases, answered at revocation */
    size_t ndeferred, capdeferred;
    lease_ent_t *leases;        /* every lease ever granted, in grant order */
    size_t nleases, capleases;
    track_t *tracks;            /* tracked prefixes */
    size_t ntracks, captracks;
    net_msg_t *cur;             /* the request being served, or NULL */
    uint64_t cur_boot;          /* the boot that took cur */
    chan_t *lease_wake;         /* cap 1: a grant may want an earlier check (this boot's) */
    chan_t *resend_wake;        /* cap 1: a watch message awaits acknowledgement (this boot's) */
};

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? (cap) * 2 : 8;                                  \
            (arr) = mem_realloc((arr), (cap) * sizeof *(arr));                 \
        }                                                                   \
    } while (0)

etcd_server_cfg_t etcd_server_cfg_default(void)
{
    etcd_server_cfg_t c;
    memset(&c, 0, sizeof c);
    c.port = ETCD_PORT;
    c.expiry_interval = 500 * SIM_MS;
    c.min_ttl_s = KV_MIN_TTL_S;
    c.promote_extend = SIM_SEC;
    c.service_time = 0;
    c.watch_retransmit = 500 * SIM_MS;
    c.heartbeat_interval = 100 * SIM_MS;
    c.election_timeout = SIM_SEC;
    return c;
}

/* ---- entities and the trace ------------------------------------------------ */

static void set_if(entity_t *e, const char *field, int64_t v)
{
    if (entity_get(e, field, INT64_MIN) != v)
        entity_set(e, field, v);
}

static void state_if(entity_t *e, const char *state)
{
    if (strcmp(entity_state(e), state) != 0)
        entity_set_state(e, state);
}

static void emitf(etcd_server_t *srv, int64_t a, int64_t b, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void emitf(etcd_server_t *srv, int64_t a, int64_t b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sched_emit(EV_USER, entity_id(srv->entity), a, b, buf);
}

static void publish_store(etcd_server_t *srv)
{
    set_if(srv->entity, "revision", kv_revision(srv->kv));
    set_if(srv->entity, "keys", (int64_t)kv_key_count(srv->kv));
    set_if(srv->entity, "leases", (int64_t)kv_lease_count(srv->kv));
    set_if(srv->entity, "watchers", (int64_t)srv->nwatchers);
    set_if(srv->entity, "compact_revision", kv_compact_revision(srv->kv));
}

static lease_ent_t *lease_ent(etcd_server_t *srv, int64_t id)
{
    for (size_t i = srv->nleases; i > 0; i--)
        if (srv->leases[i - 1].id == id)
            return &srv->leases[i - 1];
    return NULL;
}

static void publish_leases(etcd_server_t *srv)
{
    for (size_t i = 0; i < srv->nleases; i++) {
        lease_ent_t *le = &srv->leases[i];
        kv_lease_info_t info;
        if (!le->alive || !kv_lease_lookup(srv->kv, le->id, &info))
            continue;
        set_if(le->e, "deadline_ns", info.deadline);
        set_if(le->e, "keys", (int64_t)info.nkeys);
    }
}

static void publish_tracks(etcd_server_t *srv)
{
    for (size_t i = 0; i < srv->ntracks; i++) {
        track_t *t = &srv->tracks[i];
        kv_range_opts_t o = kv_opts_first_create();
        kv_result_t r;
        if (kv_range(srv->kv, t->prefix, &o, &r) != KV_OK)
            continue;
        const kv_kv_t *h = r.op.nkvs ? &r.op.kvs[0] : NULL;
        char hex[32] = "";
        if (h)
            etcd_lease_hex(h->lease, hex, sizeof hex);
        int64_t rev = h ? h->create_rev : 0;
        if (t->kind == ETCD_TRACK_LOCK) {
            if (rev != t->holder_rev) {
                if (h)
                    emitf(srv, rev, h->lease, "etcd lock %s holder=%s rev=%lld",
                          entity_name(t->e), hex, (long long)rev);
                else
                    emitf(srv, 0, 0, "etcd lock %s free", entity_name(t->e));
            }
            state_if(t->e, h ? "held" : "free");
            set_if(t->e, "holder_rev", rev);
            set_if(t->e, "holder_lease", h ? h->lease : 0);
            set_if(t->e, "waiters", r.op.count > 0 ? r.op.count - 1 : 0);
        } else {
            const char *val = h ? h->value : NULL;
            bool changed = rev != t->holder_rev ||
                           (val && (!t->leader_value || strcmp(val, t->leader_value) != 0));
            if (changed) {
                if (h)
                    emitf(srv, rev, h->lease, "etcd election %s leader=%s term=%lld",
                          entity_name(t->e), val, (long long)rev);
                else
                    emitf(srv, 0, 0, "etcd election %s no leader", entity_name(t->e));
            }
            free(t->leader_value);
            t->leader_value = val ? mem_strdup(val) : NULL;
            state_if(t->e, h ? (val[0] ? val : "\"\"") : "none");
            set_if(t->e, "term", rev);
            set_if(t->e, "leader_lease", h ? h->lease : 0);
            set_if(t->e, "candidates", r.op.count);
        }
        t->holder_rev = rev;
        kv_result_clear(&r);
    }
}

entity_t *etcd_server_track(etcd_server_t *srv, const char *prefix, etcd_track_kind_t kind)
{
    for (size_t i = 0; i < srv->ntracks; i++)
        if (strcmp(srv->tracks[i].prefix, prefix) == 0)
            return srv->tracks[i].e;
    GROW(srv->tracks, srv->ntracks, srv->captracks);
    track_t *t = &srv->tracks[srv->ntracks++];
    memset(t, 0, sizeof *t);
    t->prefix = mem_strdup(prefix);
    t->kind = kind;
    /* The entity's name is the prefix as the program gave it, without the
     * slash the recipes add. */
    size_t n = strlen(prefix);
    char *name = mem_strdup(prefix);
    if (n > 1 && name[n - 1] == '/')
        name[n - 1] = '\0';
    t->e = entity_new(kind == ETCD_TRACK_LOCK ? "lock" : "election", name, srv->entity);
    free(name);
    t->holder_rev = -1; /* publish at once */
    publish_tracks(srv);
    return t->e;
}

/* ---- messages out ------------------------------------------------------------ */

/* Whether a client's node is still the incarnation that talked to us: a
 * crashed or restarted node's connections are gone. */
static bool client_alive(net_node_t *n, uint64_t incarnation)
{
    return net_node_up(n) && net_node_incarnation(n) == incarnation;
}

static void reply(etcd_server_t *srv, net_node_t *to, uint32_t port, etcd_resp_t *resp)
{
    net_send(srv->node, to, port, resp, etcd_resp_size(resp), etcd_resp_free);
}

static void send_watch(etcd_server_t *srv, watcher_t *w, bool created, int64_t after,
                       int64_t last)
{
    etcd_resp_t *r = etcd_resp_new(RS_WATCH);
    r->watch = w->watch;
    r->created = created;
    r->after_rev = after;
    r->last_rev = last;
    r->canceled = w->canceled;
    r->compact_rev = w->compact_rev;
    if (!w->canceled && last >= after + 1 && last >= w->start)
        kv_events(srv->kv, w->key, w->prefix, after + 1 > w->start ? after + 1 : w->start, last,
                  &r->events, &r->nevents);
    w->last_tx = sched_now();
    reply(srv, w->node, w->port, r);
    if (srv->resend_wake)
        chan_try_send(srv->resend_wake, &(char){1});
}

static void watcher_free(watcher_t *w)
{
    free(w->key);
    free(w);
}

static void watcher_remove(etcd_server_t *srv, size_t i)
{
    watcher_free(srv->watchers[i]);
    memmove(&srv->watchers[i], &srv->watchers[i + 1],
            (srv->nwatchers - i - 1) * sizeof *srv->watchers);
    srv->nwatchers--;
}

/* Push the events of revisions (before, now] to every watcher they match. */
static void notify(etcd_server_t *srv, int64_t before)
{
    int64_t rev = kv_revision(srv->kv);
    for (size_t i = 0; i < srv->nwatchers;) {
        watcher_t *w = srv->watchers[i];
        if (!client_alive(w->node, w->incarnation)) {
            watcher_remove(srv, i);
            continue;
        }
        i++;
        if (w->canceled || rev <= w->sent)
            continue;
        int64_t from = before + 1 > w->sent + 1 ? before + 1 : w->sent + 1;
        kv_event_t *ev;
        size_t n;
        if (kv_events(srv->kv, w->key, w->prefix, from, rev, &ev, &n) != KV_OK)
            continue;
        kv_events_free(ev, n);
        if (n == 0)
            continue;
        int64_t after = w->sent;
        w->sent = rev;
        send_watch(srv, w, false, after, rev);
    }
}

/* After a request that may have written: trace, watchers, entities. */
static void after_write(etcd_server_t *srv, int64_t before)
{
    int64_t rev = kv_revision(srv->kv);
    if (rev != before) {
        kv_event_t *ev;
        size_t n;
        if (kv_events(srv->kv, "", true, before + 1, rev, &ev, &n) == KV_OK) {
            for (size_t i = 0; i < n; i++) {
                const kv_kv_t *k = &ev[i].kv;
                if (ev[i].type == KV_EVENT_PUT) {
                    char hex[32] = "0";
                    etcd_lease_hex(k->lease, hex, sizeof hex);
                    emitf(srv, k->mod_rev, k->lease, "etcd put %s rev=%lld version=%lld lease=%s",
                          k->key, (long long)k->mod_rev, (long long)k->version, hex);
                } else {
                    emitf(srv, k->mod_rev, 0, "etcd delete %s rev=%lld", k->key,
                          (long long)k->mod_rev);
                }
            }
            kv_events_free(ev, n);
        }
        notify(srv, before);
        publish_tracks(srv);
    }
    publish_leases(srv);
    publish_store(srv);
}

/* Answer the deferred keep-alives of leases that no longer exist. */
static void answer_deferred(etcd_server_t *srv)
{
    for (size_t i = 0; i < srv->ndeferred;) {
        deferred_t *d = &srv->deferred[i];
        if (kv_lease_lookup(srv->kv, d->lease, NULL)) {
            i++;
            continue;
        }
        etcd_resp_t *r = etcd_resp_new(RS_REPLY);
        r->id = d->id;
        r->stream = d->stream;
        r->lease = d->lease;
        r->err = KV_ERR_LEASE_NOT_FOUND;
        r->result.lease = d->lease;
        r->result.revision = kv_revision(srv->kv);
        r->origin = d->origin;
        r->origin_port = d->origin_port;
        reply(srv, d->node, d->port, r);
        memmove(d, d + 1, (srv->ndeferred - i - 1) * sizeof *d);
        srv->ndeferred--;
    }
}

/* Revoke a lease (by request or expiry); the store's error. */
static kv_err_t revoke(etcd_server_t *srv, int64_t id, bool expired, kv_result_t *out)
{
    int64_t before = kv_revision(srv->kv);
    kv_result_t r;
    kv_err_t err = kv_lease_revoke(srv->kv, id, &r);
    if (err != KV_OK)
        return err;
    char hex[32];
    etcd_lease_hex(id, hex, sizeof hex);
    emitf(srv, r.revision, id, "etcd %s lease=%s deleted=%lld rev=%lld",
          expired ? "expire" : "revoke", hex, (long long)r.deleted, (long long)r.revision);
    lease_ent_t *le = lease_ent(srv, id);
    if (le) {
        le->alive = false;
        set_if(le->e, "keys", 0);
        entity_set_state(le->e, expired ? "expired" : "revoked");
    }
    after_write(srv, before);
    answer_deferred(srv);
    if (out)
        *out = r;
    else
        kv_result_clear(&r);
    return KV_OK;
}

/* ---- requests ------------------------------------------------------------------- */

static srv_client_t *client_rec(etcd_server_t *srv, uint64_t id)
{
    if (id == 0 || id > srv->nclients)
        return NULL;
    return &srv->clients[id - 1];
}

static bool bit_get(const srv_client_t *c, uint64_t n)
{
    n %= DEDUP_WINDOW;
    return (c->seen[n / 64] >> (n % 64)) & 1;
}

static void bit_put(srv_client_t *c, uint64_t n, bool v)
{
    n %= DEDUP_WINDOW;
    if (v)
        c->seen[n / 64] |= (uint64_t)1 << (n % 64);
    else
        c->seen[n / 64] &= ~((uint64_t)1 << (n % 64));
}

/* True if the request number was seen before (a duplicated message). */
static bool seen(srv_client_t *c, uint64_t id)
{
    if (id > c->max_id) {
        /* Forget the numbers the window moves past. */
        uint64_t from = id - c->max_id >= DEDUP_WINDOW ? id - DEDUP_WINDOW + 1 : c->max_id + 1;
        for (uint64_t n = from; n < id; n++)
            bit_put(c, n, false);
        bit_put(c, id, true);
        c->max_id = id;
        return false;
    }
    if (c->max_id - id >= DEDUP_WINDOW)
        return true; /* too old to tell: taken for a duplicate */
    if (bit_get(c, id))
        return true;
    bit_put(c, id, true);
    return false;
}

static watcher_t *find_watcher(etcd_server_t *srv, uint64_t client, uint64_t watch, size_t *at)
{
    for (size_t i = 0; i < srv->nwatchers; i++) {
        if (srv->watchers[i]->client == client && srv->watchers[i]->watch == watch) {
            if (at)
                *at = i;
            return srv->watchers[i];
        }
    }
    return NULL;
}

static void watch_create(etcd_server_t *srv, net_msg_t *m, const etcd_req_t *q)
{
    if (find_watcher(srv, q->client, q->watch, NULL))
        return; /* a resent creation: the resender answers it */
    watcher_t *w = mem_calloc(1, sizeof *w);
    int64_t rev = kv_revision(srv->kv);
    w->client = q->client;
    w->watch = q->watch;
    w->node = q->origin ? q->origin : m->src;
    w->port = q->origin ? q->origin_port : q->reply_port;
    w->incarnation = q->origin ? q->incarnation : net_node_incarnation(m->src);
    w->key = mem_strdup(q->key);
    w->prefix = q->prefix;
    w->start = q->num > 0 ? q->num : rev + 1;
    w->acked = -1;
    w->sent = w->start - 1 > rev ? w->start - 1 : rev;
    if (w->start < kv_compact_revision(srv->kv)) {
        w->canceled = true;
        w->compact_rev = kv_compact_revision(srv->kv);
    }
    GROW(srv->watchers, srv->nwatchers, srv->capwatchers);
    srv->watchers[srv->nwatchers++] = w;
    emitf(srv, w->start, (int64_t)w->watch, "etcd watch %s%s from=%lld%s", w->key,
          w->prefix ? " prefix" : "", (long long)w->start, w->canceled ? " compacted" : "");
    send_watch(srv, w, true, w->start - 1, w->sent);
    publish_store(srv);
}

static void handle_watch(etcd_server_t *srv, net_msg_t *m, const etcd_req_t *q)
{
    size_t at;
    watcher_t *w;
    switch (q->kind) {
    case RQ_WATCH_CREATE:
        watch_create(srv, m, q);
        break;
    case RQ_WATCH_ACK:
        w = find_watcher(srv, q->client, q->watch, NULL);
        if (w && q->num > w->acked)
            w->acked = q->num;
        break;
    case RQ_WATCH_CANCEL:
        if (find_watcher(srv, q->client, q->watch, &at)) {
            watcher_remove(srv, at);
            publish_store(srv);
        }
        break;
    default:
        break;
    }
}

static void handle(etcd_server_t *srv, net_msg_t *m)
{
    const etcd_req_t *q = m->payload;
    net_node_t *client = q->origin ? q->origin : m->src;
    if (q->kind == RQ_WATCH_CREATE || q->kind == RQ_WATCH_ACK || q->kind == RQ_WATCH_CANCEL) {
        if (client_alive(client, q->incarnation))
            handle_watch(srv, m, q);
        return;
    }
    srv_client_t *c = client_rec(srv, q->client);
    if (c && seen(c, q->id))
        return;
    srv->requests++;
    simtime_t now = sched_now();
    int64_t before = kv_revision(srv->kv);
    etcd_resp_t *r = etcd_resp_new(RS_REPLY);
    r->id = q->id;
    r->stream = q->stream;
    r->lease = q->lease;
    r->origin = q->origin;
    r->origin_port = q->origin_port;
    char hex[32];
    etcd_lease_hex(q->lease, hex, sizeof hex);
    switch (q->kind) {
    case RQ_TXN:
        r->err = kv_txn(srv->kv, q->txn, &r->result);
        if (r->err == KV_OK && q->single && r->result.nops == 1) {
            r->result.op = r->result.ops[0];
            free(r->result.ops);
            r->result.ops = NULL;
            r->result.nops = 0;
        }
        if (r->err != KV_OK)
            emitf(srv, before, 0, "etcd txn failed: %s", kv_strerror(r->err));
        after_write(srv, before);
        break;
    case RQ_COMPACT:
        r->err = kv_compact(srv->kv, q->num);
        r->result.revision = kv_revision(srv->kv);
        emitf(srv, q->num, 0, "etcd compact rev=%lld%s%s", (long long)q->num,
              r->err ? ": " : "", kv_strerror(r->err));
        publish_store(srv);
        break;
    case RQ_GRANT:
        r->err = kv_lease_grant(srv->kv, q->lease, q->num, now, &r->result);
        if (r->err == KV_OK) {
            etcd_lease_hex(r->result.lease, hex, sizeof hex);
            emitf(srv, r->result.ttl, r->result.lease, "etcd grant lease=%s ttl=%lld", hex,
                  (long long)r->result.ttl);
            GROW(srv->leases, srv->nleases, srv->capleases);
            lease_ent_t *le = &srv->leases[srv->nleases++];
            le->id = r->result.lease;
            le->alive = true;
            le->e = entity_new("lease", hex, srv->entity);
            entity_set_state(le->e, "alive");
            entity_set(le->e, "ttl", r->result.ttl);
            entity_set(le->e, "deadline_ns", now + r->result.ttl * SIM_SEC);
            entity_set(le->e, "keys", 0);
            if (srv->lease_wake)
                chan_try_send(srv->lease_wake, &(char){1});
        }
        publish_store(srv);
        break;
    case RQ_KEEPALIVE: {
        kv_lease_info_t info;
        r->result.lease = q->lease;
        if (kv_lease_lookup(srv->kv, q->lease, &info) && info.deadline <= now) {
            /* Expired, not yet revoked: etcd's Renew waits for the
             * revocation and then answers "not found". */
            GROW(srv->deferred, srv->ndeferred, srv->capdeferred);
            srv->deferred[srv->ndeferred++] = (deferred_t){
                m->src, q->reply_port, q->origin, q->origin_port, q->id, q->stream, q->lease};
            etcd_resp_free(r);
            return;
        }
        r->err = kv_lease_renew(srv->kv, q->lease, now, &r->result.ttl);
        r->result.revision = kv_revision(srv->kv);
        emitf(srv, r->result.ttl, q->lease, "etcd keepalive lease=%s %s", hex,
              r->err ? "not found" : "renewed");
        publish_leases(srv);
        break;
    }
    case RQ_REVOKE:
        r->err = revoke(srv, q->lease, false, &r->result);
        if (r->err != KV_OK)
            r->result.revision = kv_revision(srv->kv);
        break;
    case RQ_TTL: {
        kv_lease_info_t info;
        r->result.revision = kv_revision(srv->kv);
        r->result.lease = q->lease;
        if (kv_lease_lookup(srv->kv, q->lease, &info)) {
            simtime_t left = info.deadline - now;
            r->result.ttl = left > 0 ? left / SIM_SEC : 0;
            r->result.granted_ttl = info.ttl;
            r->result.lease_keys = (int64_t)info.nkeys;
        } else {
            r->result.ttl = -1;
        }
        break;
    }
    default:
        break;
    }
    if (client_alive(client, q->incarnation))
        reply(srv, m->src, q->reply_port, r);
    else
        etcd_resp_free(r);
}

/* ---- the goroutines ------------------------------------------------------------- */

static void serve(void *arg)
{
    etcd_server_t *srv = arg;
    chan_t *in = net_node_inbox(srv->node, srv->cfg.port);
    uint64_t boot = srv->boots;
    for (;;) {
        net_msg_t *m;
        chan_recv(in, &m);
        srv->cur = m;
        srv->cur_boot = boot;
        if (srv->cfg.service_time > 0)
            go_sleep(srv->cfg.service_time);
        handle(srv, m);
        srv->cur = NULL;
        net_msg_release(m);
    }
}

/* The first expiry check at or after t. */
static simtime_t grid_ceil(const etcd_server_t *srv, simtime_t t)
{
    simtime_t iv = srv->cfg.expiry_interval;
    if (t <= srv->boot_at)
        return srv->boot_at;
    simtime_t k = (t - srv->boot_at + iv - 1) / iv;
    return srv->boot_at + k * iv;
}

static bool still_leads(const etcd_server_t *srv, int leader, uint64_t term);
static bool leader_quorum(etcd_server_t *srv);

static void expire_loop(void *arg)
{
    etcd_server_t *srv = arg;
    chan_t *wake = srv->lease_wake;
    int leader = srv->leader;
    uint64_t term = srv->term;
    for (;;) {
        if (!still_leads(srv, leader, term))
            return; /* another member's lessor runs now */
        simtime_t first = SIMTIME_MAX;
        kv_lease_info_t info;
        for (size_t i = 0; kv_lease_at(srv->kv, i, &info); i++)
            if (info.deadline < first)
                first = info.deadline;
        if (first == SIMTIME_MAX) {
            chan_recv(wake, NULL);
            continue;
        }
        simtime_t at = grid_ceil(srv, first);
        if (at > sched_now()) {
            sim_timer_t *t = timer_new(at - sched_now());
            select_case_t cs[2] = {
                {timer_chan(t), SELECT_RECV, NULL, false},
                {wake, SELECT_RECV, NULL, false},
            };
            chan_select(cs, 2, false);
            timer_stop(t);
            timer_free(t);
            continue; /* recompute: a grant may have come, or it is time */
        }
        /* A revocation is a proposal: it needs the quorum (several members). */
        if (!leader_quorum(srv) || !still_leads(srv, leader, term))
            continue;
        int64_t ids[64];
        size_t n = kv_lease_expired(srv->kv, sched_now(), ids, 64);
        if (n > 64)
            n = 64; /* the rest at the next pass, at the same instant */
        for (size_t i = 0; i < n; i++)
            revoke(srv, ids[i], true, NULL);
    }
}

static bool needs_resend(const watcher_t *w)
{
    return w->canceled || w->acked < 0 || w->acked < w->sent;
}

static void resend(etcd_server_t *srv, watcher_t *w)
{
    int64_t from = w->acked < 0 ? w->start : w->acked + 1;
    if (!w->canceled && from <= w->sent && from < kv_compact_revision(srv->kv)) {
        w->canceled = true;
        w->compact_rev = kv_compact_revision(srv->kv);
        emitf(srv, w->compact_rev, (int64_t)w->watch, "etcd watch %s canceled: compacted",
              w->key);
    }
    if (w->acked < 0)
        send_watch(srv, w, true, w->start - 1, w->sent);
    else
        send_watch(srv, w, false, w->acked, w->sent);
}

static void resend_loop(void *arg)
{
    etcd_server_t *srv = arg;
    chan_t *wake = srv->resend_wake;
    int leader = srv->leader;
    uint64_t term = srv->term;
    for (;;) {
        if (!still_leads(srv, leader, term))
            return;
        simtime_t due = SIMTIME_MAX;
        for (size_t i = 0; i < srv->nwatchers; i++) {
            watcher_t *w = srv->watchers[i];
            if (needs_resend(w) && w->last_tx + srv->cfg.watch_retransmit < due)
                due = w->last_tx + srv->cfg.watch_retransmit;
        }
        if (due == SIMTIME_MAX) {
            chan_recv(wake, NULL);
            continue;
        }
        if (due > sched_now()) {
            go_sleep_until(due);
            continue;
        }
        for (size_t i = 0; i < srv->nwatchers;) {
            watcher_t *w = srv->watchers[i];
            if (!client_alive(w->node, w->incarnation)) {
                watcher_remove(srv, i);
                publish_store(srv);
                continue;
            }
            i++;
            if (needs_resend(w) && w->last_tx + srv->cfg.watch_retransmit <= sched_now())
                resend(srv, w);
        }
    }
}


/* ---- a store of several members ------------------------------------------------------ */

/* etcd runs its members as a Raft group; chansim keeps what a client sees
 * of it. The committed state (the kv store, leases, watchers) is one, as
 * Raft makes it; members differ in what they know: their term, their vote,
 * the leader they follow, and the revision they have heard of. Elections
 * and heartbeats are messages between the members' nodes (port 2380):
 * - A follower that hears no heartbeat for its election timeout (drawn in
 *   [election_timeout, 2 x election_timeout), as etcd's randomized timeout)
 *   asks the others for a pre-vote (etcd 3.5's default, --pre-vote); with a
 *   majority it raises its term and asks for votes; with a majority of
 *   votes it leads. A member grants a vote once per term, to a candidate
 *   that has heard of at least the revisions it has, and ignores
 *   candidates while it hears from a leader (CheckQuorum's leader lease).
 * - The leader sends heartbeats every heartbeat_interval; a message with a
 *   higher term makes any member a follower of that term; a leader that has
 *   not heard from a majority within an election timeout steps down
 *   (CheckQuorum, which etcd enables).
 * - A new leader does what etcd's lessor Promote does: every lease's
 *   deadline becomes now + promote_extend + its TTL; only the leader
 *   expires leases, every expiry check at a quorum.
 * - Requests: a member that leads serves a request once a majority has
 *   answered a heartbeat sent for it (a write is committed, a read is
 *   linearizable: ReadIndex); a follower forwards the request to its leader
 *   and relays the reply; a member that knows no leader answers a
 *   keep-alive "etcdserver: no leader" at once and lets anything else time
 *   out ("etcdserver: request timed out"), as etcd's minority does.
 * - Watches are kept by the store and fed from the leader's node.
 * A crashed member keeps its term and vote (etcd persists them). */

#define PEER_PORT 2380
#define RELAY_PORT 2381
#define MAX_MEMBERS 7

typedef enum { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER } role_t;

typedef enum { PM_HEARTBEAT, PM_HEARTBEAT_ACK, PM_PREVOTE, PM_PREVOTE_RESP, PM_VOTE, PM_VOTE_RESP } pm_kind_t;

typedef struct peer_msg {
    pm_kind_t kind;
    int from;
    uint64_t term;   /* the sender's term (a pre-vote: the term it would take) */
    int64_t rev;     /* heartbeat: the leader's revision; votes: the candidate's */
    uint64_t seq;    /* heartbeat and its ack: the leader's round */
    bool granted;    /* vote and pre-vote answers */
} peer_msg_t;

struct member {
    etcd_server_t *srv;
    int idx;
    net_node_t *node;
    entity_t *entity;
    role_t role;
    uint64_t term;
    int voted_for;           /* in term, -1 none */
    int leader;              /* the leader it follows, -1 none */
    int64_t known_rev;       /* the highest revision it has heard of */
    simtime_t heard_at;      /* the leader's last heartbeat (followers) */
    simtime_t timeout;       /* this period's election timeout */
    int votes;               /* as a (pre-)candidate */
    uint64_t seq;            /* leader: heartbeat rounds sent */
    uint64_t acked_seq[MAX_MEMBERS];
    simtime_t acked_at[MAX_MEMBERS];
    simtime_t quorum_check;  /* leader: when CheckQuorum looks next */
    chan_t *acks;            /* closed when an ack comes or the member steps down (then replaced) */
    net_msg_t *cur;          /* the request in hand (released at the next boot) */
};

static void server_deinit(obj_t *o);

/* Wake everyone waiting for acks (closed and replaced: a broadcast). */
static void acks_signal(member_t *mb)
{
    chan_t *old = mb->acks;
    mb->acks = chan_make(0, 0);
    chan_close(old);
}

static bool still_leads(const etcd_server_t *srv, int leader, uint64_t term)
{
    return srv->nmembers == 0 || (srv->leader == leader && srv->term == term && leader >= 0);
}

static int majority(const etcd_server_t *srv) { return (int)srv->nmembers / 2 + 1; }

static void peer_send(member_t *mb, int to, pm_kind_t kind, uint64_t term, bool granted)
{
    etcd_server_t *srv = mb->srv;
    peer_msg_t *pm = mem_calloc(1, sizeof *pm);
    pm->kind = kind;
    pm->from = mb->idx;
    pm->term = term;
    pm->rev = mb->role == LEADER ? kv_revision(srv->kv) : mb->known_rev;
    pm->seq = mb->seq;
    pm->granted = granted;
    net_send(mb->node, srv->members[to].node, PEER_PORT, pm, 32, free);
}

static void broadcast(member_t *mb, pm_kind_t kind, uint64_t term)
{
    for (size_t i = 0; i < mb->srv->nmembers; i++)
        if ((int)i != mb->idx)
            peer_send(mb, (int)i, kind, term, false);
}

static simtime_t draw_timeout(const etcd_server_t *srv)
{
    simtime_t e = srv->cfg.election_timeout;
    return e + (simtime_t)rand_below(sched_rand(sched_current(), RAND_WORLD), (uint64_t)e);
}

static void publish_members(etcd_server_t *srv)
{
    set_if(srv->entity, "term", (int64_t)srv->term);
    set_if(srv->entity, "leader", srv->leader >= 0 ? srv->leader + 1 : 0);
    state_if(srv->entity, srv->leader >= 0 ? "up" : "no leader");
    for (size_t i = 0; i < srv->nmembers; i++) {
        member_t *mb = &srv->members[i];
        static const char *const names[] = {"follower", "pre-candidate", "candidate", "leader"};
        state_if(mb->entity, net_node_up(mb->node) ? names[mb->role] : "down");
        set_if(mb->entity, "term", (int64_t)mb->term);
    }
}

static void step_down(member_t *mb, uint64_t term, int leader)
{
    etcd_server_t *srv = mb->srv;
    bool led = mb->role == LEADER;
    if (led)
        mb->known_rev = kv_revision(srv->kv); /* it has what it committed */
    if (term > mb->term) {
        mb->term = term;
        mb->voted_for = -1;
    }
    mb->role = FOLLOWER;
    mb->leader = leader;
    if (led && srv->leader == mb->idx) {
        srv->leader = -1;
        emitf(srv, (int64_t)mb->term, mb->idx + 1, "etcd member %s steps down (term %llu)",
              net_node_name(mb->node), (unsigned long long)mb->term);
        acks_signal(mb);
    }
    publish_members(srv);
}

static void become_leader(member_t *mb)
{
    etcd_server_t *srv = mb->srv;
    simtime_t now = sched_now();
    mb->role = LEADER;
    mb->leader = mb->idx;
    for (size_t i = 0; i < srv->nmembers; i++) {
        mb->acked_at[i] = now; /* a fresh leader has the election's majority */
        mb->acked_seq[i] = 0;
    }
    mb->quorum_check = now + srv->cfg.election_timeout;
    srv->leader = mb->idx;
    srv->leader_since = now;
    srv->term = mb->term;
    srv->node = mb->node;
    srv->boot_at = now;
    srv->ndeferred = 0; /* their streams were to the old leader */
    kv_lease_extend_all(srv->kv, now, srv->cfg.promote_extend);
    emitf(srv, (int64_t)mb->term, mb->idx + 1, "etcd member %s leads term %llu: leases extended",
          net_node_name(mb->node), (unsigned long long)mb->term);
    publish_leases(srv);
    publish_members(srv);
    srv->lease_wake = chan_make(1, 1);
    srv->resend_wake = chan_make(1, 1);
    net_node_go(mb->node, expire_loop, srv, "etcd.lessor");
    net_node_go(mb->node, resend_loop, srv, "etcd.watch-resend");
    mb->seq++;
    broadcast(mb, PM_HEARTBEAT, mb->term);
}

static void start_election(member_t *mb, bool pre)
{
    etcd_server_t *srv = mb->srv;
    mb->role = pre ? PRE_CANDIDATE : CANDIDATE;
    mb->leader = -1;
    mb->votes = 1;
    mb->heard_at = sched_now();
    mb->timeout = draw_timeout(srv);
    if (!pre) {
        mb->term++;
        mb->voted_for = mb->idx;
        emitf(srv, (int64_t)mb->term, mb->idx + 1, "etcd member %s campaigns for term %llu",
              net_node_name(mb->node), (unsigned long long)mb->term);
    }
    publish_members(srv);
    if (mb->votes >= majority(srv)) {
        if (pre)
            start_election(mb, false);
        else
            become_leader(mb);
        return;
    }
    broadcast(mb, pre ? PM_PREVOTE : PM_VOTE, pre ? mb->term + 1 : mb->term);
}

/* Whether it hears from a leader (CheckQuorum's lease: it ignores candidates). */
static bool in_lease(const member_t *mb)
{
    if (mb->role == LEADER)
        return true;
    return mb->leader >= 0 && sched_now() - mb->heard_at < mb->srv->cfg.election_timeout;
}

static void peer_recv(member_t *mb, const peer_msg_t *pm)
{
    etcd_server_t *srv = mb->srv;
    simtime_t now = sched_now();
    if (pm->kind != PM_PREVOTE && pm->kind != PM_PREVOTE_RESP && pm->term > mb->term) {
        if (pm->kind == PM_VOTE && in_lease(mb))
            return; /* a leader is alive: not disrupted */
        step_down(mb, pm->term, pm->kind == PM_HEARTBEAT ? pm->from : -1);
    }
    switch (pm->kind) {
    case PM_HEARTBEAT:
        if (pm->term < mb->term) {
            peer_send(mb, pm->from, PM_HEARTBEAT_ACK, mb->term, false); /* tells it it is stale */
            return;
        }
        if (mb->role != FOLLOWER || mb->leader != pm->from) {
            mb->role = FOLLOWER;
            mb->leader = pm->from;
            publish_members(srv);
        }
        mb->heard_at = now;
        if (pm->rev > mb->known_rev)
            mb->known_rev = pm->rev;
        {
            uint64_t seq = mb->seq;
            mb->seq = pm->seq; /* echo the leader's round */
            peer_send(mb, pm->from, PM_HEARTBEAT_ACK, mb->term, true);
            mb->seq = seq;
        }
        break;
    case PM_HEARTBEAT_ACK:
        if (mb->role != LEADER || pm->term != mb->term)
            return;
        mb->acked_at[pm->from] = now;
        if (pm->seq > mb->acked_seq[pm->from])
            mb->acked_seq[pm->from] = pm->seq;
        acks_signal(mb);
        break;
    case PM_PREVOTE:
    case PM_VOTE: {
        bool grant = false;
        if (pm->term >= mb->term && !in_lease(mb) && pm->rev >= mb->known_rev) {
            if (pm->kind == PM_PREVOTE) {
                grant = pm->term > mb->term;
            } else if (mb->voted_for < 0 || mb->voted_for == pm->from) {
                grant = true;
                mb->voted_for = pm->from;
                mb->heard_at = now; /* granting resets its own timer */
            }
        }
        peer_send(mb, pm->from, pm->kind == PM_VOTE ? PM_VOTE_RESP : PM_PREVOTE_RESP,
                  pm->kind == PM_VOTE ? mb->term : pm->term, grant);
        break;
    }
    case PM_PREVOTE_RESP:
        if (mb->role == PRE_CANDIDATE && pm->granted && pm->term == mb->term + 1 &&
            ++mb->votes >= majority(srv))
            start_election(mb, false);
        break;
    case PM_VOTE_RESP:
        if (mb->role == CANDIDATE && pm->granted && pm->term == mb->term &&
            ++mb->votes >= majority(srv))
            become_leader(mb);
        break;
    }
}

static void raft_loop(void *arg)
{
    member_t *mb = arg;
    etcd_server_t *srv = mb->srv;
    chan_t *in = net_node_inbox(mb->node, PEER_PORT);
    simtime_t next_beat = sched_now();
    for (;;) {
        simtime_t now = sched_now();
        if (mb->role == LEADER) {
            if (now >= mb->quorum_check) {
                int heard = 1;
                for (size_t i = 0; i < srv->nmembers; i++)
                    if ((int)i != mb->idx && now - mb->acked_at[i] < srv->cfg.election_timeout)
                        heard++;
                if (heard < majority(srv)) {
                    step_down(mb, mb->term, -1);
                    mb->heard_at = now;
                    mb->timeout = draw_timeout(srv);
                    continue;
                }
                mb->quorum_check = now + srv->cfg.election_timeout;
            }
            if (now >= next_beat) {
                mb->seq++;
                broadcast(mb, PM_HEARTBEAT, mb->term);
                next_beat = now + srv->cfg.heartbeat_interval;
            }
        } else if (now - mb->heard_at >= mb->timeout) {
            start_election(mb, true);
            continue;
        }
        simtime_t until = mb->role == LEADER ? (next_beat < mb->quorum_check ? next_beat : mb->quorum_check)
                                              : mb->heard_at + mb->timeout;
        sim_timer_t *t = timer_new(until > now ? until - now : 0);
        net_msg_t *m = NULL;
        select_case_t cs[2] = {
            {in, SELECT_RECV, &m, false},
            {timer_chan(t), SELECT_RECV, NULL, false},
        };
        int i = chan_select(cs, 2, false);
        timer_stop(t);
        timer_free(t);
        if (i == 0 && m) {
            peer_recv(mb, m->payload);
            net_msg_release(m);
            if (mb->role == LEADER && sched_now() >= next_beat)
                continue;
        }
    }
}

/* The leader's round for one request: a heartbeat, and a majority's
 * answers to it (or to a later one). False if it stopped leading first.
 * *round (if not NULL) is the heartbeat's number. */
static bool quorum_round_n(member_t *mb, uint64_t *round)
{
    etcd_server_t *srv = mb->srv;
    uint64_t term = mb->term;
    uint64_t seq = ++mb->seq;
    if (round)
        *round = seq;
    broadcast(mb, PM_HEARTBEAT, mb->term);
    for (;;) {
        if (mb->role != LEADER || mb->term != term)
            return false;
        int n = 1;
        for (size_t i = 0; i < srv->nmembers; i++)
            if ((int)i != mb->idx && mb->acked_seq[i] >= seq)
                n++;
        if (n >= majority(srv))
            return true;
        chan_recv(mb->acks, NULL); /* closed at the next ack or step-down */
    }
}

static bool quorum_round(member_t *mb) { return quorum_round_n(mb, NULL); }

/* The members that answered round have the entry the request wrote: they
 * have heard of its revision (what a vote compares). */
static void committed(member_t *mb, uint64_t round)
{
    etcd_server_t *srv = mb->srv;
    int64_t rev = kv_revision(srv->kv);
    mb->known_rev = rev;
    for (size_t i = 0; i < srv->nmembers; i++)
        if ((int)i != mb->idx && mb->acked_seq[i] >= round && srv->members[i].known_rev < rev)
            srv->members[i].known_rev = rev;
}

static bool leader_quorum(etcd_server_t *srv)
{
    if (srv->nmembers == 0)
        return true;
    if (srv->leader < 0)
        return false;
    member_t *mb = &srv->members[srv->leader];
    return quorum_round(mb);
}

static void member_serve(void *arg)
{
    member_t *mb = arg;
    etcd_server_t *srv = mb->srv;
    chan_t *in = net_node_inbox(mb->node, srv->cfg.port);
    for (;;) {
        net_msg_t *m;
        chan_recv(in, &m);
        mb->cur = m;
        const etcd_req_t *q = m->payload;
        bool watch = q->kind == RQ_WATCH_CREATE || q->kind == RQ_WATCH_ACK || q->kind == RQ_WATCH_CANCEL;
        if (mb->role == LEADER) {
            uint64_t round = 0;
            if ((watch || quorum_round_n(mb, &round)) && mb->role == LEADER) {
                if (srv->cfg.service_time > 0)
                    go_sleep(srv->cfg.service_time);
                if (mb->role == LEADER) {
                    handle(srv, m);
                    if (!watch)
                        committed(mb, round);
                }
            }
        } else if (q->origin) {
            /* forwarded to a member that no longer leads: lost */
        } else if (mb->leader >= 0) {
            etcd_req_t *f = etcd_req_dup(q);
            f->origin = m->src;
            f->origin_port = q->reply_port;
            f->reply_port = RELAY_PORT;
            net_send(mb->node, srv->members[mb->leader].node, srv->cfg.port, f, etcd_req_size(f),
                     etcd_req_free);
        } else if (q->kind == RQ_KEEPALIVE) {
            etcd_resp_t *r = etcd_resp_new(RS_REPLY);
            r->id = q->id;
            r->stream = q->stream;
            r->lease = q->lease;
            r->err = KV_ERR_NO_LEADER;
            r->result.lease = q->lease;
            net_send(mb->node, m->src, q->reply_port, r, etcd_resp_size(r), etcd_resp_free);
        }
        mb->cur = NULL;
        net_msg_release(m);
    }
}

static void member_relay(void *arg)
{
    member_t *mb = arg;
    chan_t *in = net_node_inbox(mb->node, RELAY_PORT);
    for (;;) {
        net_msg_t *m;
        chan_recv(in, &m);
        const etcd_resp_t *r = m->payload;
        if (r->origin) {
            etcd_resp_t *d = etcd_resp_dup(r);
            d->origin = NULL;
            net_send(mb->node, r->origin, r->origin_port, d, etcd_resp_size(d), etcd_resp_free);
        }
        net_msg_release(m);
    }
}

static void member_boot(net_node_t *n, void *arg)
{
    member_t *mb = arg;
    etcd_server_t *srv = mb->srv;
    (void)n;
    if (mb->cur) {
        net_msg_release(mb->cur);
        mb->cur = NULL;
    }
    mb->role = FOLLOWER;
    mb->leader = -1;
    mb->heard_at = sched_now();
    mb->timeout = draw_timeout(srv);
    mb->acks = chan_make(0, 0);
    if (srv->leader == mb->idx)
        srv->leader = -1; /* it crashed leading */
    publish_members(srv);
    net_node_go(n, raft_loop, mb, "etcd.raft");
    net_node_go(n, member_serve, mb, "etcd.serve");
    net_node_go(n, member_relay, mb, "etcd.relay");
}

etcd_server_t *etcd_server_new_cluster(net_node_t *const *nodes, size_t n, const etcd_server_cfg_t *cfg)
{
    if (n < 2 || n > MAX_MEMBERS)
        return NULL;
    etcd_server_cfg_t c = cfg ? *cfg : etcd_server_cfg_default();
    etcd_server_cfg_t d = etcd_server_cfg_default();
    if (c.heartbeat_interval <= 0)
        c.heartbeat_interval = d.heartbeat_interval;
    if (c.election_timeout <= 0)
        c.election_timeout = d.election_timeout;
    /* Built as a store of one on the first node, which it then is not. */
    etcd_server_t *srv = obj_alloc(sizeof *srv, OBJ_NONE, server_deinit);
    char name[160];
    snprintf(name, sizeof name, "etcd@%s", net_node_name(nodes[0]));
    obj_set_name(srv, name);
    srv->node = nodes[0];
    srv->cfg = c;
    if (srv->cfg.port == 0)
        srv->cfg.port = ETCD_PORT;
    if (srv->cfg.expiry_interval <= 0)
        srv->cfg.expiry_interval = 500 * SIM_MS;
    if (srv->cfg.watch_retransmit <= 0)
        srv->cfg.watch_retransmit = 500 * SIM_MS;
    kv_cfg_t kc = {srv->cfg.min_ttl_s};
    srv->kv = kv_create(&kc);
    srv->entity = entity_new("etcd", name, net_node_entity(nodes[0]));
    entity_set_state(srv->entity, "no leader");
    srv->members = mem_calloc(n, sizeof *srv->members);
    srv->nmembers = n;
    srv->leader = -1;
    for (size_t i = 0; i < n; i++) {
        member_t *mb = &srv->members[i];
        mb->srv = srv;
        mb->idx = (int)i;
        mb->node = nodes[i];
        mb->voted_for = -1;
        mb->leader = -1;
        char mname[160];
        snprintf(mname, sizeof mname, "member@%s", net_node_name(nodes[i]));
        mb->entity = entity_new("etcd-member", mname, net_node_entity(nodes[i]));
        entity_set_state(mb->entity, "down");
    }
    publish_store(srv);
    for (size_t i = 0; i < n; i++) {
        net_node_set_boot(nodes[i], member_boot, &srv->members[i]);
        if (net_node_up(nodes[i]))
            member_boot(nodes[i], &srv->members[i]);
    }
    return srv;
}

int etcd_server_leader(const etcd_server_t *srv, uint64_t *term)
{
    if (term)
        *term = srv->nmembers ? srv->term : 1;
    if (srv->nmembers == 0)
        return net_node_up(srv->node) ? 0 : -1;
    if (srv->leader < 0 || !net_node_up(srv->members[srv->leader].node))
        return -1;
    return srv->leader;
}

simtime_t etcd_server_leader_since(const etcd_server_t *srv)
{
    return srv->nmembers ? srv->leader_since : srv->boot_at;
}

size_t etcd_server_endpoints(const etcd_server_t *srv) { return srv->nmembers; }
net_node_t *etcd_server_endpoint(const etcd_server_t *srv, size_t i)
{
    return i < srv->nmembers ? srv->members[i].node : NULL;
}

void etcd_server_boot(net_node_t *n, void *arg)
{
    etcd_server_t *srv = arg;
    (void)n;
    if (srv->cur) {
        /* A crash interrupted this request: it is lost with the process. */
        net_msg_release(srv->cur);
        srv->cur = NULL;
    }
    srv->ndeferred = 0; /* their connections died with the process */
    srv->boot_at = sched_now();
    if (srv->boots > 0) {
        /* etcd's lessor Promote: every lease gets its TTL again, plus the
         * election timeout, from the moment the server leads again. */
        kv_lease_extend_all(srv->kv, sched_now(), srv->cfg.promote_extend);
        emitf(srv, srv->cfg.promote_extend, (int64_t)srv->boots,
              "etcd restart: revision=%lld leases extended", (long long)kv_revision(srv->kv));
        publish_leases(srv);
    }
    srv->boots++;
    srv->lease_wake = chan_make(1, 1);
    srv->resend_wake = chan_make(1, 1);
    entity_set_state(srv->entity, "up");
    net_node_go(srv->node, serve, srv, "etcd.serve");
    net_node_go(srv->node, expire_loop, srv, "etcd.lessor");
    net_node_go(srv->node, resend_loop, srv, "etcd.watch-resend");
}

static void boot_fn(net_node_t *n, void *arg) { etcd_server_boot(n, arg); }

static void server_deinit(obj_t *o)
{
    etcd_server_t *srv = (etcd_server_t *)o;
    kv_destroy(srv->kv);
    free(srv->clients);
    for (size_t i = 0; i < srv->nwatchers; i++)
        watcher_free(srv->watchers[i]);
    free(srv->watchers);
    free(srv->deferred);
    free(srv->leases);
    for (size_t i = 0; i < srv->ntracks; i++) {
        free(srv->tracks[i].prefix);
        free(srv->tracks[i].leader_value);
    }
    free(srv->tracks);
    free(srv->members);
    /* srv->cur is a scheduler object: the scheduler frees it itself. */
}

etcd_server_t *etcd_server_new(net_node_t *n, const etcd_server_cfg_t *cfg)
{
    etcd_server_t *srv = obj_alloc(sizeof *srv, OBJ_NONE, server_deinit);
    char name[160];
    snprintf(name, sizeof name, "etcd@%s", net_node_name(n));
    obj_set_name(srv, name);
    srv->node = n;
    srv->cfg = cfg ? *cfg : etcd_server_cfg_default();
    if (srv->cfg.port == 0)
        srv->cfg.port = ETCD_PORT;
    if (srv->cfg.expiry_interval <= 0)
        srv->cfg.expiry_interval = 500 * SIM_MS;
    if (srv->cfg.watch_retransmit <= 0)
        srv->cfg.watch_retransmit = 500 * SIM_MS;
    kv_cfg_t kc = {srv->cfg.min_ttl_s};
    srv->kv = kv_create(&kc);
    srv->entity = entity_new("etcd", name, net_node_entity(n));
    entity_set_state(srv->entity, "down");
    publish_store(srv);
    net_node_set_boot(n, boot_fn, srv);
    if (net_node_up(n))
        etcd_server_boot(n, srv);
    return srv;
}

net_node_t *etcd_server_node(const etcd_server_t *srv) { return srv->node; }
entity_t *etcd_server_entity(const etcd_server_t *srv) { return srv->entity; }
kv_t *etcd_server_kv(etcd_server_t *srv) { return srv->kv; }
uint64_t etcd_server_requests(const etcd_server_t *srv) { return srv->requests; }

/* ---- for the client (etcd_wire.h) ------------------------------------------------ */

uint64_t etcd_server_register(etcd_server_t *srv)
{
    GROW(srv->clients, srv->nclients, srv->capclients);
    srv_client_t *c = &srv->clients[srv->nclients++];
    memset(c, 0, sizeof *c);
    c->id = ++srv->next_client;
    return c->id;
}

uint32_t etcd_server_port(const etcd_server_t *srv) { return srv->cfg.port; }
