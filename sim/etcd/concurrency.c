/*
 * concurrency: Session, Mutex and Election, translated from etcd's
 * client/v3/concurrency (session.go, mutex.go, key.go, election.go) call
 * for call. See concurrency.h.
 *
 * Anything kept across a blocking call lives in a scheduler object (the
 * mutex, the election, an observer), never only on a goroutine's stack:
 * a crash of the client's node kills the goroutine where it blocks, and
 * the scheduler frees its objects at the end of the run.
 */
#include "concurrency.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "timer.h"

const go_error_t CONCURRENCY_ERR_LOCKED = {"mutex: Locked by another session"};
const go_error_t CONCURRENCY_ERR_SESSION_EXPIRED = {"mutex: session is expired"};
const go_error_t CONCURRENCY_ERR_LOCK_RELEASED = {"mutex: lock has already been released"};
const go_error_t CONCURRENCY_ERR_NOT_LEADER = {"election: not leader"};
const go_error_t CONCURRENCY_ERR_NO_LEADER = {"election: no leader"};
const go_error_t CONCURRENCY_ERR_LOST_WATCHER = {"lost watcher waiting for delete"};

/* Replace an owned string. */
static void set_str(char **slot, const char *s)
{
    char *d = mem_strdup(s);
    free(*slot);
    *slot = d;
}

static void emitf(entity_t *e, int64_t a, int64_t b, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void emitf(entity_t *e, int64_t a, int64_t b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sched_emit(EV_USER, entity_id(e), a, b, buf);
}

/* ---- Session ------------------------------------------------------------------ */

struct concurrency_session {
    obj_t hdr;            /* scheduler-owned */
    etcd_client_t *c;
    int64_t lease;        /* the session's lease */
    int64_t ttl;          /* seconds */
    ctx_t *ctx;           /* WithContext, or background */
    ctx_t *ka_ctx;        /* cancelled by Orphan */
    chan_t *ka;           /* KeepAlive's channel */
    chan_t *done;         /* closed when keeping alive ends */
    bool orphaned;        /* Orphan was called */
    entity_t *e;
};

static void session_loop(void *arg)
{
    concurrency_session_t *s = arg;
    etcd_ka_resp_t r;
    /* Go: for range keepAlive { } */
    while (chan_recv(s->ka, &r)) {
        entity_add(s->e, "keepalives", 1);
        entity_set(s->e, "next_keepalive_ns", sched_now() + r.ttl * SIM_SEC / 3);
        /* The lease's expiry as the client believes it, for the view. */
        entity_note(s->e, "lease_until", sched_now() + r.ttl * SIM_SEC);
    }
    chan_close(s->done);
    if (!s->orphaned) {
        entity_set_state(s->e, "expired");
        char hex[32];
        snprintf(hex, sizeof hex, "%llx", (unsigned long long)s->lease);
        emitf(s->e, s->lease, 0, "session %s done: keep-alive ended", hex);
    }
}

const go_error_t *concurrency_session_new(etcd_client_t *c, const concurrency_session_opts_t *opts,
                                          concurrency_session_t **out)
{
    *out = NULL;
    int64_t ttl = opts && opts->ttl_s > 0 ? opts->ttl_s : ETCD_SESSION_TTL_DEFAULT;
    ctx_t *ctx = opts && opts->ctx ? opts->ctx : ctx_background();
    int64_t id = opts ? opts->lease : 0;
    if (id == 0) {
        kv_result_t r;
        const go_error_t *err = etcd_grant(c, ctx, ttl, &r);
        if (err)
            return err;
        id = r.lease;
        kv_result_clear(&r);
    }
    concurrency_session_t *s = obj_alloc(sizeof *s, OBJ_NONE, NULL);
    s->c = c;
    s->lease = id;
    s->ttl = ttl;
    s->ctx = ctx;
    s->ka_ctx = ctx_with_cancel(ctx);
    s->ka = etcd_keepalive(c, s->ka_ctx, id);
    s->done = chan_make(0, 0);
    char name[64];
    snprintf(name, sizeof name, "session %llx", (unsigned long long)id);
    obj_set_name(s, name);
    s->e = entity_new("session", name, net_node_entity(etcd_client_node(c)));
    entity_set_state(s->e, "alive");
    entity_set(s->e, "lease", id);
    entity_set(s->e, "ttl", ttl);
    entity_set(s->e, "keepalives", 0);
    entity_note(s->e, "lease_until", sched_now() + ttl * SIM_SEC);
    if (!net_node_go(etcd_client_node(c), session_loop, s, "etcd.session"))
        chan_close(s->done);
    *out = s;
    return NULL;
}

etcd_client_t *concurrency_session_client(const concurrency_session_t *s) { return s->c; }
int64_t concurrency_session_lease(const concurrency_session_t *s) { return s->lease; }
int64_t concurrency_session_ttl(const concurrency_session_t *s) { return s->ttl; }
chan_t *concurrency_session_done(const concurrency_session_t *s) { return s->done; }
entity_t *concurrency_session_entity(const concurrency_session_t *s) { return s->e; }

void concurrency_session_orphan(concurrency_session_t *s)
{
    if (!s->orphaned) {
        s->orphaned = true;
        if (!chan_closed(s->done))
            entity_set_state(s->e, "orphaned");
    }
    ctx_cancel(s->ka_ctx);
    chan_recv(s->done, NULL);
}

const go_error_t *concurrency_session_close(concurrency_session_t *s)
{
    concurrency_session_orphan(s);
    /* If revoking takes longer than the TTL, the lease is expired anyway. */
    ctx_t *ctx = ctx_with_timeout(s->ctx, s->ttl * SIM_SEC);
    const go_error_t *err = etcd_revoke(s->c, ctx, s->lease, NULL);
    ctx_cancel(ctx);
    entity_set_state(s->e, "closed");
    return err;
}

/* ---- waiting for deletions (key.go) ---------------------------------------------- */

/* waitDelete: watch key from rev until a DELETE event. */
static const go_error_t *wait_delete(etcd_client_t *c, ctx_t *ctx, const char *key, int64_t rev)
{
    ctx_t *cctx = ctx_with_cancel(ctx);
    etcd_watch_opts_t o = {false, rev};
    chan_t *wch = etcd_watch(c, cctx, key, &o);
    const go_error_t *last = NULL;
    etcd_watch_resp_t *wr;
    while (chan_recv(wch, &wr)) {
        bool deleted = false;
        last = wr->err;
        for (size_t i = 0; i < wr->nevents; i++)
            if (wr->events[i].type == KV_EVENT_DELETE)
                deleted = true;
        etcd_watch_resp_free(wr);
        if (deleted) {
            ctx_cancel(cctx);
            return NULL;
        }
    }
    ctx_cancel(cctx);
    if (last)
        return last;
    if (ctx_err(ctx))
        return ctx_err(ctx);
    return &CONCURRENCY_ERR_LOST_WATCHER;
}

/* waitDeletes: until no key of pfx has create revision <= max_create_rev.
 * *slot (owned by the caller's object) holds the key waited on. */
static const go_error_t *wait_deletes(etcd_client_t *c, ctx_t *ctx, const char *pfx,
                                      int64_t max_create_rev, char **slot)
{
    kv_range_opts_t o = kv_opts_last_create();
    o.max_create_rev = max_create_rev;
    for (;;) {
        kv_result_t r;
        const go_error_t *err = etcd_get(c, ctx, pfx, &o, &r);
        if (err)
            return err;
        if (r.op.nkvs == 0) {
            kv_result_clear(&r);
            return NULL;
        }
        set_str(slot, r.op.kvs[0].key);
        int64_t rev = r.revision;
        kv_result_clear(&r);
        err = wait_delete(c, ctx, *slot, rev);
        if (err)
            return err;
    }
}

/* ---- Mutex ------------------------------------------------------------------------ */

struct concurrency_mutex {
    obj_t hdr;            /* scheduler-owned */
    concurrency_session_t *s;
    char *pfx;            /* prefix + "/" */
    char *my_key;         /* "" when none */
    int64_t my_rev;       /* -1 when none */
    int64_t hdr_rev;      /* Header().Revision */
    char *wait_key;       /* the key being waited on */
    entity_t *e;
};

/* prefix + "/": the folder a recipe's keys go in (etcd's pfx). */
static char *with_slash(const char *prefix)
{
    size_t n = strlen(prefix);
    char *p = mem_malloc(n + 2);
    memcpy(p, prefix, n);
    p[n] = '/';
    p[n + 1] = '\0';
    return p;
}

static void mutex_deinit(obj_t *o)
{
    concurrency_mutex_t *m = (concurrency_mutex_t *)o;
    free(m->pfx);
    free(m->my_key);
    free(m->wait_key);
}

concurrency_mutex_t *concurrency_mutex_new(concurrency_session_t *s, const char *prefix)
{
    concurrency_mutex_t *m = obj_alloc(sizeof *m, OBJ_NONE, mutex_deinit);
    m->s = s;
    m->pfx = with_slash(prefix);
    m->my_key = mem_strdup("");
    m->wait_key = mem_strdup("");
    m->my_rev = -1;
    etcd_server_track(etcd_client_server(s->c), m->pfx, ETCD_TRACK_LOCK);
    m->e = entity_new("mutex", prefix, s->e);
    entity_set_state(m->e, "idle");
    entity_set(m->e, "rev", -1);
    return m;
}

static void mutex_held(concurrency_mutex_t *m, int64_t hdr_rev)
{
    m->hdr_rev = hdr_rev;
    entity_set_state(m->e, "held");
    entity_set(m->e, "rev", m->my_rev);
    emitf(m->e, m->my_rev, hdr_rev, "mutex acquired %s rev=%lld header=%lld", m->my_key,
          (long long)m->my_rev, (long long)hdr_rev);
}

static void mutex_reset(concurrency_mutex_t *m)
{
    set_str(&m->my_key, "");
    m->my_rev = -1;
    entity_set_state(m->e, "idle");
    entity_set(m->e, "rev", -1);
}

/* The transaction of tryAcquire; resp keeps its result. */
static const go_error_t *try_acquire(concurrency_mutex_t *m, ctx_t *ctx, kv_result_t *resp)
{
    char key[512];
    snprintf(key, sizeof key, "%s%llx", m->pfx, (unsigned long long)m->s->lease);
    set_str(&m->my_key, key);
    kv_cmp_t cmp = kv_cmp_num(m->my_key, KV_CMP_CREATE, KV_CMP_EQUAL, 0);
    kv_range_opts_t first = kv_opts_first_create();
    kv_op_t then_ops[2] = {kv_op_put(m->my_key, "", m->s->lease), kv_op_get(m->pfx, &first)};
    kv_op_t else_ops[2] = {kv_op_get(m->my_key, NULL), kv_op_get(m->pfx, &first)};
    kv_txn_t t = {&cmp, 1, then_ops, 2, else_ops, 2};
    const go_error_t *err = etcd_txn(m->s->c, ctx, &t, resp);
    if (err)
        return err;
    m->my_rev = resp->revision;
    if (!resp->succeeded && resp->nops > 0 && resp->ops[0].nkvs > 0)
        m->my_rev = resp->ops[0].kvs[0].create_rev;
    entity_set(m->e, "rev", m->my_rev);
    return NULL;
}

/* Whether the transaction's owner read shows this mutex holding the lock. */
static bool owns(const concurrency_mutex_t *m, const kv_result_t *resp)
{
    const kv_op_result_t *owner = resp->nops > 1 ? &resp->ops[1] : NULL;
    return !owner || owner->nkvs == 0 || owner->kvs[0].create_rev == m->my_rev;
}

const go_error_t *concurrency_mutex_try_lock(concurrency_mutex_t *m, ctx_t *ctx)
{
    kv_result_t resp;
    const go_error_t *err = try_acquire(m, ctx, &resp);
    if (err)
        return err;
    if (owns(m, &resp)) {
        int64_t rev = resp.revision;
        kv_result_clear(&resp);
        mutex_held(m, rev);
        return NULL;
    }
    kv_result_clear(&resp);
    /* Cannot lock, so delete the key. */
    err = etcd_delete(m->s->c, ctx, m->my_key, false, NULL);
    if (err)
        return err;
    emitf(m->e, m->my_rev, 0, "mutex trylock failed %s: locked by another session", m->my_key);
    mutex_reset(m);
    return &CONCURRENCY_ERR_LOCKED;
}

const go_error_t *concurrency_mutex_lock(concurrency_mutex_t *m, ctx_t *ctx)
{
    kv_result_t resp;
    const go_error_t *err = try_acquire(m, ctx, &resp);
    if (err)
        return err;
    if (owns(m, &resp)) {
        int64_t rev = resp.revision;
        kv_result_clear(&resp);
        mutex_held(m, rev);
        return NULL;
    }
    kv_result_clear(&resp);
    entity_set_state(m->e, "waiting");
    emitf(m->e, m->my_rev, 0, "mutex waiting %s rev=%lld", m->my_key, (long long)m->my_rev);
    etcd_client_t *c = m->s->c;
    /* Wait for deletion revisions prior to myKey. */
    err = wait_deletes(c, ctx, m->pfx, m->my_rev - 1, &m->wait_key);
    if (err) {
        /* Release the lock key if the wait failed. */
        emitf(m->e, m->my_rev, 0, "mutex wait failed %s: %s", m->my_key, go_error_msg(err));
        concurrency_mutex_unlock(m, ctx_background());
        entity_set_state(m->e, "idle");
        return err;
    }
    /* Make sure the session is not expired and the key still exists. */
    kv_result_t g;
    err = etcd_get(c, ctx, m->my_key, NULL, &g);
    if (err) {
        concurrency_mutex_unlock(m, ctx_background());
        entity_set_state(m->e, "idle");
        return err;
    }
    bool lost = g.op.nkvs == 0;
    int64_t rev = g.revision;
    kv_result_clear(&g);
    if (lost) {
        emitf(m->e, m->my_rev, 0, "mutex %s: session is expired", m->my_key);
        entity_set_state(m->e, "idle");
        return &CONCURRENCY_ERR_SESSION_EXPIRED;
    }
    mutex_held(m, rev);
    return NULL;
}

const go_error_t *concurrency_mutex_unlock(concurrency_mutex_t *m, ctx_t *ctx)
{
    if (m->my_key[0] == '\0' || m->my_rev <= 0)
        return &CONCURRENCY_ERR_LOCK_RELEASED;
    const go_error_t *err = etcd_delete(m->s->c, ctx, m->my_key, false, NULL);
    if (err)
        return err;
    emitf(m->e, m->my_rev, 0, "mutex released %s", m->my_key);
    mutex_reset(m);
    return NULL;
}

kv_cmp_t concurrency_mutex_is_owner(const concurrency_mutex_t *m)
{
    return kv_cmp_num(m->my_key, KV_CMP_CREATE, KV_CMP_EQUAL, m->my_rev);
}

const char *concurrency_mutex_key(const concurrency_mutex_t *m) { return m->my_key; }
int64_t concurrency_mutex_rev(const concurrency_mutex_t *m) { return m->my_rev; }
int64_t concurrency_mutex_header_revision(const concurrency_mutex_t *m) { return m->hdr_rev; }
entity_t *concurrency_mutex_entity(const concurrency_mutex_t *m) { return m->e; }

/* ---- Election ------------------------------------------------------------------------ */

struct concurrency_election {
    obj_t hdr;            /* scheduler-owned */
    concurrency_session_t *s;
    char *pfx;            /* prefix + "/" */
    char *leader_key;     /* "" when not leader */
    int64_t leader_rev;   /* its create revision */
    bool leader;          /* Go's leaderSession != nil */
    int64_t hdr_rev;      /* Header().Revision */
    char *wait_key;       /* the key being waited on */
};

static void election_deinit(obj_t *o)
{
    concurrency_election_t *e = (concurrency_election_t *)o;
    free(e->pfx);
    free(e->leader_key);
    free(e->wait_key);
}

concurrency_election_t *concurrency_election_new(concurrency_session_t *s, const char *prefix)
{
    concurrency_election_t *e = obj_alloc(sizeof *e, OBJ_NONE, election_deinit);
    e->s = s;
    e->pfx = with_slash(prefix);
    e->leader_key = mem_strdup("");
    e->wait_key = mem_strdup("");
    etcd_server_track(etcd_client_server(s->c), e->pfx, ETCD_TRACK_ELECTION);
    return e;
}

const go_error_t *concurrency_election_proclaim(concurrency_election_t *e, ctx_t *ctx, const char *val)
{
    if (!e->leader)
        return &CONCURRENCY_ERR_NOT_LEADER;
    kv_cmp_t cmp = kv_cmp_num(e->leader_key, KV_CMP_CREATE, KV_CMP_EQUAL, e->leader_rev);
    kv_op_t put = kv_op_put(e->leader_key, val, e->s->lease);
    kv_txn_t t = {&cmp, 1, &put, 1, NULL, 0};
    kv_result_t r;
    const go_error_t *err = etcd_txn(e->s->c, ctx, &t, &r);
    if (err)
        return err;
    bool ok = r.succeeded;
    int64_t rev = r.revision;
    kv_result_clear(&r);
    if (!ok) {
        set_str(&e->leader_key, "");
        return &CONCURRENCY_ERR_NOT_LEADER;
    }
    e->hdr_rev = rev;
    emitf(e->s->e, e->leader_rev, rev, "election proclaim %s value=%s", e->pfx, val);
    return NULL;
}

const go_error_t *concurrency_election_resign(concurrency_election_t *e, ctx_t *ctx)
{
    if (!e->leader)
        return NULL;
    kv_cmp_t cmp = kv_cmp_num(e->leader_key, KV_CMP_CREATE, KV_CMP_EQUAL, e->leader_rev);
    kv_op_t del = kv_op_delete(e->leader_key, false);
    kv_txn_t t = {&cmp, 1, &del, 1, NULL, 0};
    kv_result_t r;
    const go_error_t *err = etcd_txn(e->s->c, ctx, &t, &r);
    if (!err) {
        e->hdr_rev = r.revision;
        kv_result_clear(&r);
    }
    emitf(e->s->e, e->leader_rev, 0, "election resign %s key=%s%s%s", e->pfx, e->leader_key,
          err ? ": " : "", err ? go_error_msg(err) : "");
    set_str(&e->leader_key, "");
    e->leader = false;
    return err;
}

const go_error_t *concurrency_election_campaign(concurrency_election_t *e, ctx_t *ctx, const char *val)
{
    concurrency_session_t *s = e->s;
    etcd_client_t *c = s->c;
    char k[512];
    snprintf(k, sizeof k, "%s%llx", e->pfx, (unsigned long long)s->lease);
    kv_cmp_t cmp = kv_cmp_num(k, KV_CMP_CREATE, KV_CMP_EQUAL, 0);
    kv_op_t put = kv_op_put(k, val, s->lease);
    kv_op_t get = kv_op_get(k, NULL);
    kv_txn_t t = {&cmp, 1, &put, 1, &get, 1};
    kv_result_t resp;
    const go_error_t *err = etcd_txn(c, ctx, &t, &resp);
    if (err)
        return err;
    set_str(&e->leader_key, k);
    e->leader_rev = resp.revision;
    e->leader = true;
    int64_t txn_rev = resp.revision;
    bool same_value = true;
    if (!resp.succeeded && resp.nops > 0 && resp.ops[0].nkvs > 0) {
        e->leader_rev = resp.ops[0].kvs[0].create_rev;
        same_value = strcmp(resp.ops[0].kvs[0].value, val) == 0;
    }
    kv_result_clear(&resp);
    emitf(s->e, e->leader_rev, 0, "election campaign %s key=%s rev=%lld value=%s", e->pfx,
          e->leader_key, (long long)e->leader_rev, val);
    if (!same_value) {
        err = concurrency_election_proclaim(e, ctx, val);
        if (err) {
            concurrency_election_resign(e, ctx);
            return err;
        }
    }
    err = wait_deletes(c, ctx, e->pfx, e->leader_rev - 1, &e->wait_key);
    if (err) {
        /* Clean up in case of context cancel. */
        if (ctx_err(ctx))
            concurrency_election_resign(e, ctx_background());
        else
            e->leader = false;
        emitf(s->e, e->leader_rev, 0, "election campaign %s failed: %s", e->pfx,
              go_error_msg(err));
        return err;
    }
    e->hdr_rev = txn_rev;
    emitf(s->e, e->leader_rev, txn_rev, "election won %s key=%s term=%lld", e->pfx,
          e->leader_key, (long long)e->leader_rev);
    return NULL;
}

const go_error_t *concurrency_election_leader(concurrency_election_t *e, ctx_t *ctx, kv_result_t *out)
{
    kv_range_opts_t first = kv_opts_first_create();
    kv_result_t r;
    const go_error_t *err = etcd_get(e->s->c, ctx, e->pfx, &first, &r);
    if (err)
        return err;
    if (r.op.nkvs == 0) {
        kv_result_clear(&r);
        return &CONCURRENCY_ERR_NO_LEADER;
    }
    if (out)
        *out = r;
    else
        kv_result_clear(&r);
    return NULL;
}

const char *concurrency_election_key(const concurrency_election_t *e) { return e->leader_key; }
int64_t concurrency_election_rev(const concurrency_election_t *e) { return e->leader_rev; }
int64_t concurrency_election_header_revision(const concurrency_election_t *e) { return e->hdr_rev; }
bool concurrency_election_is_leader(const concurrency_election_t *e) { return e->leader; }

/* ---- Observe -------------------------------------------------------------------------- */

typedef struct observer {
    obj_t hdr;            /* scheduler-owned */
    concurrency_election_t *e;
    ctx_t *ctx;
    chan_t *out;          /* concurrency_observe_t*, unbuffered */
    char *key;            /* the leader key being followed */
} observer_t;

static void observer_deinit(obj_t *o)
{
    free(((observer_t *)o)->key);
}

static void observe_deinit(obj_t *o)
{
    kv_kv_clear(&((concurrency_observe_t *)o)->kv);
}

void concurrency_observe_free(concurrency_observe_t *o)
{
    obj_free(o);
}

static concurrency_observe_t *observe_new(int64_t revision, const kv_kv_t *kv)
{
    concurrency_observe_t *o = obj_alloc(sizeof *o, OBJ_NONE, observe_deinit);
    o->revision = revision;
    kv_kv_copy(&o->kv, kv);
    return o;
}

/* Send o on the observer's channel unless done is; false (o freed) if done. */
static bool deliver(observer_t *ob, concurrency_observe_t *o, ctx_t *done)
{
    select_case_t cs[2] = {
        {ob->out, SELECT_SEND, &o, false},
        {ctx_done(done), SELECT_RECV, NULL, false},
    };
    if (chan_select(cs, 2, false) == 0)
        return true;
    concurrency_observe_free(o);
    return false;
}

static void observe_loop(void *arg)
{
    observer_t *ob = arg;
    concurrency_election_t *e = ob->e;
    etcd_client_t *c = e->s->c;
    ctx_t *ctx = ob->ctx;
    kv_range_opts_t first = kv_opts_first_create();
    for (;;) {
        kv_result_t resp;
        if (etcd_get(c, ctx, e->pfx, &first, &resp))
            break;
        concurrency_observe_t *cur = NULL;
        if (resp.op.nkvs == 0) {
            /* Wait for the first key put on the prefix. */
            int64_t rev = resp.revision;
            kv_result_clear(&resp);
            ctx_t *cctx = ctx_with_cancel(ctx);
            etcd_watch_opts_t o = {true, rev};
            chan_t *wch = etcd_watch(c, cctx, e->pfx, &o);
            while (!cur) {
                etcd_watch_resp_t *wr;
                if (!chan_recv(wch, &wr))
                    break;
                bool failed = wr->err != NULL;
                for (size_t i = 0; i < wr->nevents && !failed; i++) {
                    if (wr->events[i].type == KV_EVENT_PUT) {
                        /* Only puts: a delete would make observe spin. */
                        cur = observe_new(wr->events[i].kv.mod_rev, &wr->events[i].kv);
                        break;
                    }
                }
                etcd_watch_resp_free(wr);
                if (failed)
                    break;
            }
            ctx_cancel(cctx);
            if (!cur)
                break;
        } else {
            cur = observe_new(resp.revision, &resp.op.kvs[0]);
            kv_result_clear(&resp);
        }
        set_str(&ob->key, cur->kv.key);
        int64_t rev = cur->revision;
        if (!deliver(ob, cur, ctx))
            break;
        /* Follow the leader's key until it is deleted. */
        ctx_t *cctx = ctx_with_cancel(ctx);
        etcd_watch_opts_t o = {false, rev + 1};
        chan_t *wch = etcd_watch(c, cctx, ob->key, &o);
        bool deleted = false, ended = false;
        while (!deleted && !ended) {
            etcd_watch_resp_t *wr;
            if (!chan_recv(wch, &wr)) {
                ended = true;
                break;
            }
            for (size_t i = 0; i < wr->nevents; i++) {
                if (wr->events[i].type == KV_EVENT_DELETE) {
                    deleted = true;
                    break;
                }
                if (!deliver(ob, observe_new(wr->revision, &wr->events[i].kv), cctx)) {
                    ended = true;
                    break;
                }
            }
            etcd_watch_resp_free(wr);
        }
        ctx_cancel(cctx);
        if (ended)
            break;
    }
    chan_close(ob->out);
    obj_free(ob);
}

chan_t *concurrency_election_observe(concurrency_election_t *e, ctx_t *ctx)
{
    observer_t *ob = obj_alloc(sizeof *ob, OBJ_NONE, observer_deinit);
    ob->e = e;
    ob->ctx = ctx;
    ob->out = chan_make(sizeof(concurrency_observe_t *), 0);
    ob->key = mem_strdup("");
    chan_t *out = ob->out;
    if (!net_node_go(etcd_client_node(e->s->c), observe_loop, ob, "etcd.observe")) {
        chan_close(out);
        obj_free(ob);
    }
    return out;
}
