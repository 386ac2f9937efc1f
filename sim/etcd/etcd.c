/*
 * etcd: the client library (clientv3's KV, Lease and Watch) and the wire
 * helpers. See etcd.h for the model, etcd_wire.h for the messages and
 * etcd_server.c (and its etcd_server_*.c) for the server.
 *
 * One receiving goroutine per client takes every message from the client's
 * inbox and hands it on without ever blocking: a reply to the pending call
 * with its request number (the caller waits on the call's channel, which
 * the receiver closes), a keep-alive reply to the keep-alive loops of its
 * lease, watch events to their watch's queue (a goroutine per watch feeds
 * the watch's unbuffered channel from it). Calls, keep-alive loops and
 * watches are scheduler objects, so a crash that kills their goroutines
 * leaks nothing; replies are moved into them, never left in a channel.
 */
#include "etcd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_wire.h"
#include "mem.h"
#include "timer.h"

const go_error_t ETCD_ERR_LEASE_NOT_FOUND = {"etcdserver: requested lease not found"};
const go_error_t ETCD_ERR_LEASE_EXISTS = {"etcdserver: lease already exists"};
const go_error_t ETCD_ERR_TTL_TOO_LARGE = {"etcdserver: too large lease TTL"};
const go_error_t ETCD_ERR_COMPACTED = {"mvcc: required revision has been compacted"};
const go_error_t ETCD_ERR_FUTURE_REV = {"mvcc: required revision is a future revision"};
const go_error_t ETCD_ERR_DUPLICATE_KEY = {"etcdserver: duplicate key given in txn request"};
const go_error_t ETCD_ERR_EMPTY_KEY = {"etcdserver: key is not provided"};
const go_error_t ETCD_ERR_TIMEOUT = {"etcdserver: request timed out"};
const go_error_t ETCD_ERR_NO_LEADER = {"etcdserver: no leader"};

const go_error_t *etcd_error(kv_err_t e)
{
    switch (e) {
    case KV_OK: return NULL;
    case KV_ERR_LEASE_NOT_FOUND: return &ETCD_ERR_LEASE_NOT_FOUND;
    case KV_ERR_LEASE_EXISTS: return &ETCD_ERR_LEASE_EXISTS;
    case KV_ERR_TTL_TOO_LARGE: return &ETCD_ERR_TTL_TOO_LARGE;
    case KV_ERR_COMPACTED: return &ETCD_ERR_COMPACTED;
    case KV_ERR_FUTURE_REV: return &ETCD_ERR_FUTURE_REV;
    case KV_ERR_DUPLICATE_KEY: return &ETCD_ERR_DUPLICATE_KEY;
    case KV_ERR_EMPTY_KEY: return &ETCD_ERR_EMPTY_KEY;
    case KV_ERR_NO_LEADER: return &ETCD_ERR_NO_LEADER;
    case KV_ERR_COUNT: break;
    }
    return go_errorf("%s", kv_strerror(e));
}

/* ---- wire helpers -------------------------------------------------------- */

etcd_req_t *etcd_req_new(etcd_req_kind_t kind)
{
    etcd_req_t *r = mem_calloc(1, sizeof *r);
    r->kind = kind;
    return r;
}

void etcd_req_free(void *p)
{
    etcd_req_t *r = p;
    if (!r)
        return;
    kv_txn_free(r->txn);
    free(r->key);
    free(r);
}

bool etcd_req_waits_for_leader(const etcd_req_t *q)
{
    switch (q->kind) {
    case RQ_TXN:
        for (size_t i = 0; i < q->txn->nthen; i++)
            if (q->txn->then_ops[i].type != KV_OP_RANGE)
                return true;
        for (size_t i = 0; i < q->txn->nelse; i++)
            if (q->txn->else_ops[i].type != KV_OP_RANGE)
                return true;
        return false;
    case RQ_COMPACT:
    case RQ_GRANT:
    case RQ_REVOKE:
    case RQ_TTL:
        return true;
    default:
        return false;
    }
}

size_t etcd_req_size(const etcd_req_t *r)
{
    return 48 + (r->txn ? kv_txn_size(r->txn) : 0) + (r->key ? strlen(r->key) : 0);
}

etcd_req_t *etcd_req_dup(const etcd_req_t *r)
{
    etcd_req_t *d = mem_malloc(sizeof *d);
    *d = *r;
    d->txn = r->txn ? kv_txn_dup(r->txn) : NULL;
    d->key = r->key ? mem_strdup(r->key) : NULL;
    return d;
}

etcd_resp_t *etcd_resp_dup(const etcd_resp_t *r)
{
    etcd_resp_t *d = mem_malloc(sizeof *d);
    *d = *r;
    kv_result_copy(&d->result, &r->result);
    d->events = NULL;
    d->nevents = 0;
    if (r->nevents) {
        d->events = mem_malloc(r->nevents * sizeof *d->events);
        for (size_t i = 0; i < r->nevents; i++) {
            d->events[i].type = r->events[i].type;
            kv_kv_copy(&d->events[i].kv, &r->events[i].kv);
        }
        d->nevents = r->nevents;
    }
    return d;
}

etcd_resp_t *etcd_resp_new(etcd_resp_kind_t kind)
{
    etcd_resp_t *r = mem_calloc(1, sizeof *r);
    r->kind = kind;
    return r;
}

void etcd_resp_free(void *p)
{
    etcd_resp_t *r = p;
    if (!r)
        return;
    kv_result_clear(&r->result);
    kv_events_free(r->events, r->nevents);
    free(r);
}

size_t etcd_resp_size(const etcd_resp_t *r)
{
    size_t n = 48 + kv_result_size(&r->result);
    for (size_t i = 0; i < r->nevents; i++)
        n += 48 + strlen(r->events[i].kv.key) + strlen(r->events[i].kv.value);
    return n;
}

void etcd_lease_hex(int64_t lease, char *buf, size_t size)
{
    snprintf(buf, size, "%llx", (unsigned long long)lease);
}

/* ---- the client ---------------------------------------------------------- */

typedef struct call {
    obj_t hdr;              /* scheduler-owned */
    struct call *next;      /* the client's pending calls */
    uint64_t id;            /* the request number */
    chan_t *done;           /* closed by the receiver when the reply is in, or on Close */
    bool replied;           /* done is closed */
    bool closed;            /* the client was closed */
    kv_err_t err;           /* the server's error */
    kv_result_t result;     /* the reply's result, moved here */
} call_t;

typedef struct ka {
    obj_t hdr;              /* scheduler-owned */
    struct ka *next;        /* the client's keep-alive loops */
    etcd_client_t *c;
    int64_t lease;
    ctx_t *ctx;
    chan_t *out;            /* etcd_ka_resp_t, capacity 16 */
    chan_t *wake;           /* capacity 1: a reply is in */
    bool got;               /* a reply is waiting for the loop */
    int64_t ttl, revision;  /* that reply */
} ka_t;

typedef struct cwatch {
    obj_t hdr;              /* scheduler-owned */
    struct cwatch *next;    /* the client's watches */
    etcd_client_t *c;
    uint64_t id;            /* the watch number */
    ctx_t *ctx;
    char *key;              /* owned */
    bool prefix;
    int64_t start_rev;
    chan_t *out;            /* etcd_watch_resp_t*, unbuffered: the user's */
    chan_t *wake;           /* capacity 1: the queue grew */
    bool confirmed;         /* a message of the watch has come */
    int64_t have;           /* revisions received through; -1 before the creation */
    bool ended;             /* a canceled response is queued: nothing after it */
    etcd_watch_resp_t **q;  /* responses to deliver, from index head */
    size_t head, nq, capq;
    etcd_resp_t **early;    /* messages that came before their predecessors (owned copies) */
    size_t nearly, capearly;
} cwatch_t;

struct etcd_client {
    obj_t hdr;              /* scheduler-owned */
    etcd_server_t *srv;
    net_node_t *node;           /* where it runs */
    net_node_t *srv_node;
    uint32_t srv_port;
    uint64_t id;            /* client number */
    uint32_t port;          /* its inbox port */
    uint64_t incarnation;   /* its node's incarnation at creation */
    etcd_client_cfg_t cfg;
    uint64_t next_req, next_watch;
    call_t *calls;
    ka_t *kas;
    cwatch_t *watches;
    chan_t *inbox;
    chan_t *closed_ch;      /* closed by etcd_client_close */
    bool closed;
    size_t ep;              /* a store of several members: the endpoint in use */
    bool ka_started;        /* the lessor's loops run (from the first KeepAlive) */
    simtime_t ka_epoch;     /* when they started: their ticks count from here */
};

etcd_client_cfg_t etcd_client_cfg_default(void)
{
    etcd_client_cfg_t c;
    memset(&c, 0, sizeof c);
    c.request_timeout = 7 * SIM_SEC;
    c.first_keepalive_timeout = 6 * SIM_SEC;
    c.keepalive_tick = 500 * SIM_MS;
    c.keepalive_check = SIM_SEC;
    c.watch_retry = 500 * SIM_MS;
    return c;
}

net_node_t *etcd_client_node(const etcd_client_t *c) { return c->node; }
etcd_server_t *etcd_client_server(const etcd_client_t *c) { return c->srv; }
const etcd_client_cfg_t *etcd_client_cfg(const etcd_client_t *c) { return &c->cfg; }
uint64_t etcd_client_id(const etcd_client_t *c) { return c->id; }

/* The member requests go to: a store of one has one; with several, the
 * endpoint in use, or the next one whose node is up (a crashed member
 * refuses the connection, and the client moves on at once). */
static net_node_t *ep_node(etcd_client_t *c)
{
    size_t n = etcd_server_endpoints(c->srv);
    if (n == 0)
        return c->srv_node;
    for (size_t k = 0; k < n; k++) {
        net_node_t *e = etcd_server_endpoint(c->srv, (c->ep + k) % n);
        if (net_node_up(e)) {
            c->ep = (c->ep + k) % n;
            return e;
        }
    }
    return etcd_server_endpoint(c->srv, c->ep);
}

/* The member in use did not answer (or knows no leader): the next one. */
static void ep_fail(etcd_client_t *c)
{
    size_t n = etcd_server_endpoints(c->srv);
    if (n)
        c->ep = (c->ep + 1) % n;
}

static void send_req(etcd_client_t *c, etcd_req_t *q)
{
    q->client = c->id;
    q->reply_port = c->port;
    q->incarnation = c->incarnation;
    net_send(c->node, ep_node(c), c->srv_port, q, etcd_req_size(q), etcd_req_free);
}

static void send_watch_msg(etcd_client_t *c, etcd_req_kind_t kind, uint64_t watch, int64_t num)
{
    etcd_req_t *q = etcd_req_new(kind);
    q->watch = watch;
    q->num = num;
    send_req(c, q);
}

/* ---- dispatching replies ------------------------------------------------- */

static void reply_call(etcd_client_t *c, etcd_resp_t *r)
{
    for (call_t *k = c->calls; k; k = k->next) {
        if (k->id != r->id)
            continue;
        if (k->replied)
            return; /* a duplicate */
        k->replied = true;
        k->err = r->err;
        kv_result_move(&k->result, &r->result);
        chan_close(k->done);
        return;
    }
}

static void reply_keepalive(etcd_client_t *c, const etcd_resp_t *r)
{
    if (r->err == KV_ERR_NO_LEADER) {
        ep_fail(c); /* the stream goes to another member; the tick resends */
        return;
    }
    for (ka_t *k = c->kas; k; k = k->next) {
        if (k->lease != r->lease)
            continue;
        k->got = true;
        k->ttl = r->err == KV_OK ? r->result.ttl : 0;
        k->revision = r->result.revision;
        chan_try_send(k->wake, &(char){1});
    }
}

static void wake_watch(cwatch_t *w)
{
    chan_try_send(w->wake, &(char){1});
}

static void resp_obj_deinit(obj_t *o)
{
    etcd_watch_resp_t *r = (etcd_watch_resp_t *)o;
    kv_events_free(r->events, r->nevents);
}

void etcd_watch_resp_free(etcd_watch_resp_t *r)
{
    obj_free(r);
}

static etcd_watch_resp_t *resp_obj_new(void)
{
    return obj_alloc(sizeof(etcd_watch_resp_t), OBJ_NONE, resp_obj_deinit);
}

static void enqueue(cwatch_t *w, etcd_watch_resp_t *r)
{
    if (w->nq == w->capq) {
        w->capq = w->capq ? w->capq * 2 : 8;
        w->q = mem_realloc(w->q, w->capq * sizeof *w->q);
    }
    w->q[w->nq++] = r;
}

static etcd_watch_resp_t *resp_of(const etcd_resp_t *r, size_t i, size_t j, int64_t header)
{
    etcd_watch_resp_t *o = resp_obj_new();
    o->revision = header;
    o->nevents = j - i;
    o->events = mem_calloc(o->nevents, sizeof *o->events);
    for (size_t k = i; k < j; k++) {
        o->events[k - i].type = r->events[k].type;
        kv_kv_copy(&o->events[k - i].kv, &r->events[k].kv);
    }
    return o;
}

/* Queue the events of r beyond what w has, as etcd 3.4 sends them: a
 * catch-up message (the server's sync of a watch behind the store, at most
 * 1000 revisions) as one response stamped with the store's revision at the
 * sync; any other, one response per revision, stamped with the revision
 * (a transaction's events together, in its order). */
static void apply_watch(cwatch_t *w, const etcd_resp_t *r)
{
    size_t i = 0;
    while (i < r->nevents && r->events[i].kv.mod_rev <= w->have)
        i++;
    if (r->header_rev && i < r->nevents) {
        enqueue(w, resp_of(r, i, r->nevents, r->header_rev));
        i = r->nevents;
    }
    while (i < r->nevents) {
        int64_t rev = r->events[i].kv.mod_rev;
        size_t j = i;
        while (j < r->nevents && r->events[j].kv.mod_rev == rev)
            j++;
        enqueue(w, resp_of(r, i, j, rev));
        i = j;
    }
    if (r->last_rev > w->have)
        w->have = r->last_rev;
}

static etcd_resp_t *resp_copy(const etcd_resp_t *r)
{
    etcd_resp_t *d = etcd_resp_new(r->kind);
    *d = *r;
    memset(&d->result, 0, sizeof d->result);
    d->events = r->nevents ? mem_calloc(r->nevents, sizeof *d->events) : NULL;
    for (size_t i = 0; i < r->nevents; i++) {
        d->events[i].type = r->events[i].type;
        kv_kv_copy(&d->events[i].kv, &r->events[i].kv);
    }
    return d;
}

static void stash(cwatch_t *w, const etcd_resp_t *r)
{
    if (w->nearly == w->capearly) {
        w->capearly = w->capearly ? w->capearly * 2 : 4;
        w->early = mem_realloc(w->early, w->capearly * sizeof *w->early);
    }
    w->early[w->nearly++] = resp_copy(r);
}

static void watch_message(etcd_client_t *c, const etcd_resp_t *r)
{
    cwatch_t *w = c->watches;
    while (w && w->id != r->watch)
        w = w->next;
    if (!w || w->ended) {
        /* A watch we no longer have: tell the server again. */
        if (!w)
            send_watch_msg(c, RQ_WATCH_CANCEL, r->watch, 0);
        return;
    }
    w->confirmed = true;
    if (r->canceled) {
        etcd_watch_resp_t *o = resp_obj_new();
        o->revision = r->compact_rev;
        o->canceled = true;
        o->compact_revision = r->compact_rev;
        o->err = r->compact_rev ? &ETCD_ERR_COMPACTED : NULL;
        enqueue(w, o);
        w->ended = true;
        send_watch_msg(c, RQ_WATCH_CANCEL, w->id, 0);
        wake_watch(w);
        return;
    }
    if (w->have < 0 && r->created)
        w->have = r->after_rev;
    if (w->have < 0 || r->after_rev > w->have) {
        stash(w, r); /* came before its predecessor */
        if (w->have >= 0)
            send_watch_msg(c, RQ_WATCH_ACK, w->id, w->have);
        return;
    }
    apply_watch(w, r);
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < w->nearly; i++) {
            etcd_resp_t *e = w->early[i];
            if (e->after_rev > w->have)
                continue;
            apply_watch(w, e);
            etcd_resp_free(e);
            memmove(&w->early[i], &w->early[i + 1], (w->nearly - i - 1) * sizeof *w->early);
            w->nearly--;
            more = true;
            break;
        }
    }
    send_watch_msg(c, RQ_WATCH_ACK, w->id, w->have);
    wake_watch(w);
}

static void dispatch(etcd_client_t *c, net_msg_t *m)
{
    etcd_resp_t *r = m->payload;
    if (r->kind == RS_WATCH)
        watch_message(c, r);
    else if (r->stream)
        reply_keepalive(c, r);
    else
        reply_call(c, r);
}

static void recv_loop(void *arg)
{
    etcd_client_t *c = arg;
    for (;;) {
        net_msg_t *m = NULL;
        select_case_t cs[2] = {
            {c->inbox, SELECT_RECV, &m, false},
            {c->closed_ch, SELECT_RECV, NULL, false},
        };
        if (chan_select(cs, 2, false) == 1)
            return;
        dispatch(c, m);
        net_msg_release(m);
    }
}

etcd_client_t *etcd_client_new(etcd_server_t *srv, net_node_t *n, const etcd_client_cfg_t *cfg)
{
    if (!net_node_up(n))
        return NULL;
    etcd_client_t *c = obj_alloc(sizeof *c, OBJ_NONE, NULL);
    c->srv = srv;
    c->node = n;
    c->srv_node = etcd_server_node(srv);
    c->srv_port = etcd_server_port(srv);
    c->cfg = cfg ? *cfg : etcd_client_cfg_default();
    etcd_client_cfg_t d = etcd_client_cfg_default();
    if (c->cfg.request_timeout <= 0)
        c->cfg.request_timeout = d.request_timeout;
    if (c->cfg.first_keepalive_timeout <= 0)
        c->cfg.first_keepalive_timeout = d.first_keepalive_timeout;
    if (c->cfg.keepalive_tick <= 0)
        c->cfg.keepalive_tick = d.keepalive_tick;
    if (c->cfg.keepalive_check <= 0)
        c->cfg.keepalive_check = d.keepalive_check;
    if (c->cfg.watch_retry <= 0)
        c->cfg.watch_retry = d.watch_retry;
    c->id = etcd_server_register(srv);
    c->port = c->cfg.port ? c->cfg.port : 40000 + (uint32_t)c->id;
    c->incarnation = net_node_incarnation(n);
    char name[160];
    snprintf(name, sizeof name, "etcd-client-%llu@%s", (unsigned long long)c->id, net_node_name(n));
    obj_set_name(c, name);
    c->inbox = net_node_inbox(n, c->port);
    c->closed_ch = chan_make(0, 0);
    net_node_go(n, recv_loop, c, "etcd.client");
    return c;
}

void etcd_client_close(etcd_client_t *c)
{
    if (c->closed)
        return;
    c->closed = true;
    chan_close(c->closed_ch);
    for (call_t *k = c->calls; k; k = k->next) {
        if (k->replied)
            continue;
        k->closed = true;
        k->replied = true;
        chan_close(k->done);
    }
}

/* ---- unary calls ------------------------------------------------------------ */

static void call_deinit(obj_t *o)
{
    kv_result_clear(&((call_t *)o)->result);
}

static void unlink_call(etcd_client_t *c, call_t *k)
{
    for (call_t **p = &c->calls; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            return;
        }
    }
}

/* Send q (taking it) and wait for its reply, ctx or the request timeout. */
static const go_error_t *call(etcd_client_t *c, ctx_t *ctx, etcd_req_t *q, kv_result_t *out)
{
    if (c->closed) {
        etcd_req_free(q);
        return &GO_ERR_CANCELED;
    }
    if (ctx_err(ctx)) {
        etcd_req_free(q);
        return ctx_err(ctx);
    }
    call_t *k = obj_alloc(sizeof *k, OBJ_NONE, call_deinit);
    k->id = q->id = ++c->next_req;
    k->done = chan_make(0, 0);
    k->next = c->calls;
    c->calls = k;
    bool proposal = etcd_req_waits_for_leader(q);
    net_node_t *to = ep_node(c);
    send_req(c, q);
    sim_timer_t *t = timer_new(c->cfg.request_timeout);
    select_case_t cs[3] = {
        {k->done, SELECT_RECV, NULL, false},
        {ctx_done(ctx), SELECT_RECV, NULL, false},
        {timer_chan(t), SELECT_RECV, NULL, false},
    };
    int i = chan_select(cs, 3, false);
    timer_stop(t);
    timer_free(t);
    unlink_call(c, k);
    const go_error_t *err;
    if (i == 0 && k->closed)
        err = &GO_ERR_CANCELED;
    else if (i == 0 && k->err != KV_OK)
        err = etcd_error(k->err);
    else if (i == 0)
        err = NULL;
    else if (i == 1)
        err = ctx_err(ctx);
    else if (proposal && etcd_server_member_leaderless(c->srv, to))
        err = &GO_ERR_DEADLINE_EXCEEDED; /* the member's own timeout: it held the proposal
                                          * for want of a leader (etcd 3.4's raft node) */
    else
        err = &ETCD_ERR_TIMEOUT;
    if ((i != 0 && err != &GO_ERR_CANCELED) || (i == 0 && !k->closed && k->err == KV_ERR_NO_LEADER))
        ep_fail(c); /* no answer from that member, or no leader: the next one next time */
    if (!err && out) {
        *out = k->result;
        memset(&k->result, 0, sizeof k->result);
    }
    chan_free(k->done);
    obj_free(k);
    return err;
}

static const go_error_t *single(etcd_client_t *c, ctx_t *ctx, const kv_op_t *op,
                                kv_result_t *out)
{
    kv_txn_t t = {NULL, 0, op, 1, NULL, 0};
    etcd_req_t *q = etcd_req_new(RQ_TXN);
    q->txn = kv_txn_dup(&t);
    q->single = true;
    return call(c, ctx, q, out);
}

const go_error_t *etcd_put(etcd_client_t *c, ctx_t *ctx, const char *key, const char *value,
                           int64_t lease, kv_result_t *out)
{
    kv_op_t op = kv_op_put(key, value, lease);
    return single(c, ctx, &op, out);
}

const go_error_t *etcd_get(etcd_client_t *c, ctx_t *ctx, const char *key,
                           const kv_range_opts_t *opts, kv_result_t *out)
{
    kv_op_t op = kv_op_get(key, opts);
    return single(c, ctx, &op, out);
}

const go_error_t *etcd_delete(etcd_client_t *c, ctx_t *ctx, const char *key, bool prefix,
                              kv_result_t *out)
{
    kv_op_t op = kv_op_delete(key, prefix);
    return single(c, ctx, &op, out);
}

const go_error_t *etcd_txn(etcd_client_t *c, ctx_t *ctx, const kv_txn_t *t, kv_result_t *out)
{
    etcd_req_t *q = etcd_req_new(RQ_TXN);
    q->txn = kv_txn_dup(t);
    return call(c, ctx, q, out);
}

const go_error_t *etcd_compact(etcd_client_t *c, ctx_t *ctx, int64_t rev, kv_result_t *out)
{
    etcd_req_t *q = etcd_req_new(RQ_COMPACT);
    q->num = rev;
    return call(c, ctx, q, out);
}

const go_error_t *etcd_grant(etcd_client_t *c, ctx_t *ctx, int64_t ttl_s, kv_result_t *out)
{
    etcd_req_t *q = etcd_req_new(RQ_GRANT);
    q->num = ttl_s;
    return call(c, ctx, q, out);
}

const go_error_t *etcd_keepalive_once(etcd_client_t *c, ctx_t *ctx, int64_t lease,
                                      kv_result_t *out)
{
    etcd_req_t *q = etcd_req_new(RQ_KEEPALIVE);
    q->lease = lease;
    return call(c, ctx, q, out);
}

const go_error_t *etcd_revoke(etcd_client_t *c, ctx_t *ctx, int64_t lease, kv_result_t *out)
{
    etcd_req_t *q = etcd_req_new(RQ_REVOKE);
    q->lease = lease;
    return call(c, ctx, q, out);
}

const go_error_t *etcd_time_to_live(etcd_client_t *c, ctx_t *ctx, int64_t lease,
                                    kv_result_t *out)
{
    etcd_req_t *q = etcd_req_new(RQ_TTL);
    q->lease = lease;
    return call(c, ctx, q, out);
}

/* ---- keep-alive ------------------------------------------------------------- */

static void unlink_ka(etcd_client_t *c, ka_t *k)
{
    for (ka_t **p = &c->kas; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            return;
        }
    }
}

/* The first tick of the grid epoch + k * period (k >= 0) at or after t. */
static simtime_t tick_at_or_after(simtime_t epoch, simtime_t period, simtime_t t)
{
    if (t <= epoch)
        return epoch;
    return epoch + (t - epoch + period - 1) / period * period;
}

/* The first tick of the grid epoch + k * period (k >= 1) strictly after t. */
static simtime_t tick_after(simtime_t epoch, simtime_t period, simtime_t t)
{
    if (t < epoch)
        return epoch + period;
    return epoch + ((t - epoch) / period + 1) * period;
}

/* clientv3's lessor for one lease (3.4 and 3.5 lease.go): sendKeepAliveLoop
 * wakes every keepalive_tick from the client's first KeepAlive and sends a
 * keep-alive for the lease when its nextKeepAlive has come (at once for a
 * new lease, now + TTL/3 after each reply; no reply keeps it due, so an
 * unanswered keep-alive is sent again at every tick); deadlineLoop wakes
 * every keepalive_check and ends the lease's keep-alive when its deadline
 * (TTL after the last reply, first_keepalive_timeout before the first) has
 * passed; a reply with TTL <= 0 ends it at once. */
static void ka_loop(void *arg)
{
    ka_t *k = arg;
    etcd_client_t *c = k->c;
    const simtime_t epoch = c->ka_epoch, tick = c->cfg.keepalive_tick;
    simtime_t deadline = sched_now() + c->cfg.first_keepalive_timeout;
    simtime_t next = sched_now(), sent_at = -1;
    while (!c->closed && !ctx_err(k->ctx)) {
        simtime_t now = sched_now();
        if (k->got) {
            k->got = false;
            if (k->ttl <= 0)
                break; /* the lease is gone */
            next = now + k->ttl * SIM_SEC / 3;
            deadline = now + k->ttl * SIM_SEC;
            etcd_ka_resp_t resp = {k->lease, k->ttl, k->revision};
            chan_try_send(k->out, &resp);
            continue;
        }
        simtime_t check = tick_after(epoch, c->cfg.keepalive_check, deadline);
        if (now >= check)
            break; /* no reply in time: the lease may have expired */
        if (now >= next && now != sent_at && tick_at_or_after(epoch, tick, now) == now) {
            etcd_req_t *q = etcd_req_new(RQ_KEEPALIVE);
            q->lease = k->lease;
            q->stream = true;
            q->id = ++c->next_req;
            send_req(c, q);
            sent_at = now;
        }
        simtime_t until = tick_at_or_after(epoch, tick, next > now ? next : now + 1);
        if (until > check)
            until = check;
        sim_timer_t *t = timer_new(until - now);
        select_case_t cs[4] = {
            {k->wake, SELECT_RECV, NULL, false},
            {ctx_done(k->ctx), SELECT_RECV, NULL, false},
            {c->closed_ch, SELECT_RECV, NULL, false},
            {timer_chan(t), SELECT_RECV, NULL, false},
        };
        chan_select(cs, 4, false);
        timer_stop(t);
        timer_free(t);
    }
    chan_close(k->out);
    unlink_ka(c, k);
    obj_free(k);
}

chan_t *etcd_keepalive(etcd_client_t *c, ctx_t *ctx, int64_t lease)
{
    ka_t *k = obj_alloc(sizeof *k, OBJ_NONE, NULL);
    k->c = c;
    k->lease = lease;
    k->ctx = ctx;
    k->out = chan_make(sizeof(etcd_ka_resp_t), 16);
    k->wake = chan_make(1, 1);
    chan_t *out = k->out;
    k->next = c->kas;
    c->kas = k;
    if (!c->ka_started) {
        c->ka_started = true;
        c->ka_epoch = sched_now();
    }
    if (c->closed || !net_node_go(c->node, ka_loop, k, "etcd.keepalive")) {
        chan_close(out);
        unlink_ka(c, k);
        obj_free(k);
    }
    return out;
}

/* ---- watches ------------------------------------------------------------------ */

static void cwatch_deinit(obj_t *o)
{
    cwatch_t *w = (cwatch_t *)o;
    free(w->key);
    free(w->q); /* the responses are scheduler objects */
    for (size_t i = 0; i < w->nearly; i++)
        etcd_resp_free(w->early[i]);
    free(w->early);
}

static void unlink_watch(etcd_client_t *c, cwatch_t *w)
{
    for (cwatch_t **p = &c->watches; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}

static void send_create(cwatch_t *w)
{
    etcd_req_t *q = etcd_req_new(RQ_WATCH_CREATE);
    q->watch = w->id;
    q->key = mem_strdup(w->key);
    q->prefix = w->prefix;
    q->num = w->start_rev;
    send_req(w->c, q);
}

static void watch_loop(void *arg)
{
    cwatch_t *w = arg;
    etcd_client_t *c = w->c;
    send_create(w);
    for (;;) {
        if (c->closed || ctx_err(w->ctx))
            break;
        if (w->head < w->nq) {
            etcd_watch_resp_t *r = w->q[w->head];
            bool last = r->canceled; /* once sent, r is the receiver's */
            select_case_t cs[3] = {
                {w->out, SELECT_SEND, &r, false},
                {ctx_done(w->ctx), SELECT_RECV, NULL, false},
                {c->closed_ch, SELECT_RECV, NULL, false},
            };
            if (chan_select(cs, 3, false) != 0)
                break;
            w->head++;
            if (last)
                break;
            continue;
        }
        sim_timer_t *t = w->confirmed ? NULL : timer_new(c->cfg.watch_retry);
        select_case_t cs[4] = {
            {w->wake, SELECT_RECV, NULL, false},
            {ctx_done(w->ctx), SELECT_RECV, NULL, false},
            {c->closed_ch, SELECT_RECV, NULL, false},
            {t ? timer_chan(t) : NULL, SELECT_RECV, NULL, false},
        };
        int i = chan_select(cs, 4, false);
        if (t) {
            timer_stop(t);
            timer_free(t);
        }
        if (i == 3 && !w->confirmed)
            send_create(w); /* the creation or its answer was lost */
    }
    chan_close(w->out);
    if (!c->closed)
        send_watch_msg(c, RQ_WATCH_CANCEL, w->id, 0);
    unlink_watch(c, w);
    for (size_t i = w->head; i < w->nq; i++)
        obj_free(w->q[i]);
    obj_free(w);
}

chan_t *etcd_watch(etcd_client_t *c, ctx_t *ctx, const char *key, const etcd_watch_opts_t *opts)
{
    cwatch_t *w = obj_alloc(sizeof *w, OBJ_NONE, cwatch_deinit);
    w->c = c;
    w->id = ++c->next_watch;
    w->ctx = ctx;
    w->key = mem_strdup(key);
    w->prefix = opts && opts->prefix;
    w->start_rev = opts ? opts->start_rev : 0;
    w->have = -1;
    w->out = chan_make(sizeof(etcd_watch_resp_t *), 0);
    w->wake = chan_make(1, 1);
    chan_t *out = w->out;
    w->next = c->watches;
    c->watches = w;
    if (c->closed || !net_node_go(c->node, watch_loop, w, "etcd.watch")) {
        chan_close(out);
        unlink_watch(c, w);
        obj_free(w);
    }
    return out;
}
