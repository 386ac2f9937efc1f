/*
 * etcd_server: the store's server on its node. See etcd.h for the model.
 *
 * The server is four files: this one (the object, its boot, the request
 * loop and what a request does, the entities and the trace),
 * etcd_server_lease.c (the lessor: lease entities, revocation, expiry),
 * etcd_server_watch.c (watchers, their messages and the resender) and
 * etcd_server_raft.c (a store of several members: elections, heartbeats,
 * quorum rounds, forwarding). What they share is in etcd_server_internal.h.
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

#include "etcd_server_internal.h"
#include "timer.h"

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
    c.watch_sync_interval = 100 * SIM_MS;
    c.heartbeat_interval = 100 * SIM_MS;
    c.election_timeout = SIM_SEC;
    return c;
}

/* ---- entities and the trace ------------------------------------------------ */

void etcd_server_set_if(entity_t *e, const char *field, int64_t v)
{
    if (entity_get(e, field, INT64_MIN) != v)
        entity_set(e, field, v);
}

void etcd_server_state_if(entity_t *e, const char *state)
{
    if (strcmp(entity_state(e), state) != 0)
        entity_set_state(e, state);
}

void etcd_server_emitf(etcd_server_t *srv, int64_t a, int64_t b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sched_emit(EV_USER, entity_id(srv->entity), a, b, buf);
}

void etcd_server_publish_store(etcd_server_t *srv)
{
    etcd_server_set_if(srv->entity, "revision", kv_revision(srv->kv));
    etcd_server_set_if(srv->entity, "keys", (int64_t)kv_key_count(srv->kv));
    etcd_server_set_if(srv->entity, "leases", (int64_t)kv_lease_count(srv->kv));
    etcd_server_set_if(srv->entity, "watchers", (int64_t)srv->nwatchers);
    etcd_server_set_if(srv->entity, "compact_revision", kv_compact_revision(srv->kv));
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
                    etcd_server_emitf(srv, rev, h->lease, "etcd lock %s holder=%s rev=%lld",
                          entity_name(t->e), hex, (long long)rev);
                else
                    etcd_server_emitf(srv, 0, 0, "etcd lock %s free", entity_name(t->e));
            }
            etcd_server_state_if(t->e, h ? "held" : "free");
            etcd_server_set_if(t->e, "holder_rev", rev);
            etcd_server_set_if(t->e, "holder_lease", h ? h->lease : 0);
            etcd_server_set_if(t->e, "waiters", r.op.count > 0 ? r.op.count - 1 : 0);
        } else {
            const char *val = h ? h->value : NULL;
            bool changed = rev != t->holder_rev ||
                           (val && (!t->leader_value || strcmp(val, t->leader_value) != 0));
            if (changed) {
                if (h)
                    etcd_server_emitf(srv, rev, h->lease, "etcd election %s leader=%s term=%lld",
                          entity_name(t->e), val, (long long)rev);
                else
                    etcd_server_emitf(srv, 0, 0, "etcd election %s no leader", entity_name(t->e));
            }
            free(t->leader_value);
            t->leader_value = val ? mem_strdup(val) : NULL;
            etcd_server_state_if(t->e, h ? (val[0] ? val : "\"\"") : "none");
            etcd_server_set_if(t->e, "term", rev);
            etcd_server_set_if(t->e, "leader_lease", h ? h->lease : 0);
            etcd_server_set_if(t->e, "candidates", r.op.count);
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
bool etcd_server_client_alive(net_node_t *n, uint64_t incarnation)
{
    return net_node_up(n) && net_node_incarnation(n) == incarnation;
}

void etcd_server_reply(etcd_server_t *srv, net_node_t *to, uint32_t port, etcd_resp_t *resp)
{
    net_send(srv->node, to, port, resp, etcd_resp_size(resp), etcd_resp_free);
}

/* After a request that may have written: trace, watchers, entities. */
void etcd_server_after_write(etcd_server_t *srv, int64_t before)
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
                    etcd_server_emitf(srv, k->mod_rev, k->lease, "etcd put %s rev=%lld version=%lld lease=%s",
                          k->key, (long long)k->mod_rev, (long long)k->version, hex);
                } else {
                    etcd_server_emitf(srv, k->mod_rev, 0, "etcd delete %s rev=%lld", k->key,
                          (long long)k->mod_rev);
                }
            }
            kv_events_free(ev, n);
        }
        etcd_server_watch_notify(srv, before);
        publish_tracks(srv);
    }
    etcd_server_lease_publish(srv);
    etcd_server_publish_store(srv);
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

void etcd_server_handle(etcd_server_t *srv, net_msg_t *m)
{
    const etcd_req_t *q = m->payload;
    net_node_t *client = q->origin ? q->origin : m->src;
    if (q->kind == RQ_WATCH_CREATE || q->kind == RQ_WATCH_ACK || q->kind == RQ_WATCH_CANCEL) {
        if (etcd_server_client_alive(client, q->incarnation))
            etcd_server_watch_handle(srv, m, q);
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
            etcd_server_emitf(srv, before, 0, "etcd txn failed: %s", kv_strerror(r->err));
        etcd_server_after_write(srv, before);
        break;
    case RQ_COMPACT:
        r->err = kv_compact(srv->kv, q->num);
        r->result.revision = kv_revision(srv->kv);
        etcd_server_emitf(srv, q->num, 0, "etcd compact rev=%lld%s%s", (long long)q->num,
              r->err ? ": " : "", kv_strerror(r->err));
        etcd_server_publish_store(srv);
        break;
    case RQ_GRANT:
        r->err = kv_lease_grant(srv->kv, q->lease, q->num, now, &r->result);
        if (r->err == KV_OK) {
            etcd_lease_hex(r->result.lease, hex, sizeof hex);
            etcd_server_emitf(srv, r->result.ttl, r->result.lease, "etcd grant lease=%s ttl=%lld", hex,
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
        etcd_server_publish_store(srv);
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
        etcd_server_emitf(srv, r->result.ttl, q->lease, "etcd keepalive lease=%s %s", hex,
              r->err ? "not found" : "renewed");
        etcd_server_lease_publish(srv);
        break;
    }
    case RQ_REVOKE:
        r->err = etcd_server_lease_revoke(srv, q->lease, false, &r->result);
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
    if (etcd_server_client_alive(client, q->incarnation))
        etcd_server_reply(srv, m->src, q->reply_port, r);
    else
        etcd_resp_free(r);
}

/* ---- the request loop and the boot ------------------------------------------------ */

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
        etcd_server_handle(srv, m);
        srv->cur = NULL;
        net_msg_release(m);
    }
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
        etcd_server_emitf(srv, srv->cfg.promote_extend, (int64_t)srv->boots,
              "etcd restart: revision=%lld leases extended", (long long)kv_revision(srv->kv));
        etcd_server_lease_publish(srv);
    }
    srv->boots++;
    srv->lease_wake = chan_make(1, 1);
    srv->resend_wake = chan_make(1, 1);
    srv->sync_wake = NULL; /* the sync loop starts with the first watcher behind */
    entity_set_state(srv->entity, "up");
    net_node_go(srv->node, serve, srv, "etcd.serve");
    net_node_go(srv->node, etcd_server_lease_expire_loop, srv, "etcd.lessor");
    net_node_go(srv->node, etcd_server_watch_resend_loop, srv, "etcd.watch-resend");
    etcd_server_watch_kick(srv);
}

static void boot_fn(net_node_t *n, void *arg) { etcd_server_boot(n, arg); }

void etcd_server_deinit(obj_t *o)
{
    etcd_server_t *srv = (etcd_server_t *)o;
    kv_destroy(srv->kv);
    free(srv->clients);
    for (size_t i = 0; i < srv->nwatchers; i++)
        etcd_server_watch_free(srv->watchers[i]);
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

etcd_server_t *etcd_server_alloc(net_node_t *n, const etcd_server_cfg_t *cfg, const char *state)
{
    etcd_server_t *srv = obj_alloc(sizeof *srv, OBJ_NONE, etcd_server_deinit);
    char name[160];
    snprintf(name, sizeof name, "etcd@%s", net_node_name(n));
    obj_set_name(srv, name);
    srv->node = n;
    srv->cfg = *cfg;
    if (srv->cfg.port == 0)
        srv->cfg.port = ETCD_PORT;
    if (srv->cfg.expiry_interval <= 0)
        srv->cfg.expiry_interval = 500 * SIM_MS;
    if (srv->cfg.watch_retransmit <= 0)
        srv->cfg.watch_retransmit = 500 * SIM_MS;
    if (srv->cfg.watch_sync_interval <= 0)
        srv->cfg.watch_sync_interval = 100 * SIM_MS;
    kv_cfg_t kc = {srv->cfg.min_ttl_s};
    srv->kv = kv_create(&kc);
    srv->entity = entity_new("etcd", name, net_node_entity(n));
    entity_set_state(srv->entity, state);
    return srv;
}

etcd_server_t *etcd_server_new(net_node_t *n, const etcd_server_cfg_t *cfg)
{
    etcd_server_cfg_t c = cfg ? *cfg : etcd_server_cfg_default();
    etcd_server_t *srv = etcd_server_alloc(n, &c, "down");
    etcd_server_publish_store(srv);
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
