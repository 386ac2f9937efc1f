/*
 * lsim_etcd: the etcd-like store, its client, the concurrency recipes, the
 * seed's coordination patterns and the world's checkers, for scenarios.
 *
 *   local store = sim.etcd_server(c:node("etcd"))          -- boots with the node
 *   local cli = store:client(c:node("n1"))
 *   cli:put("/k", "v"); local kvs, rev = cli:get("/k", { prefix = true })
 *   local s = sim.etcd_session(cli, { ttl = 10 })
 *   local m = sim.etcd_mutex(s, "/locks/x"); m:lock(ctx); m:token(); m:unlock(ctx)
 *   local e = sim.etcd_election(s, "/elections/x"); e:campaign("me", ctx)
 *   local r = cli:txn{ compare = { m:is_owner() }, success = { { put = "/k", value = "v" } } }
 *   local w = cli:watch("/k", { prefix = true, rev = 5 }); local resp = w:recv()
 *   local dm = sim.distributed_mutex{ client = cli, lock_path = "/locks/x" }
 *   local le = sim.leader_election{ client = cli, election_id = "/elections/x", track = lead }
 *   local sem = sim.distributed_semaphore{ client = cli, path = "/sem", count = 3, fair = true }
 *   local res = sim.fenced_resource{ name = "storage", fencing = true }
 *
 * Calls that talk to the store block the calling goroutine; they return
 * their results, or nil and the error's message (Go's (value, error)).
 * Contexts are optional: sim.context.background() when omitted.
 */
#include <string.h>

#include <lauxlib.h>

#include "checker.h"
#include "distributed_mutex.h"
#include "distributed_semaphore.h"
#include "etcd.h"
#include "concurrency.h"
#include "fenced.h"
#include "leader_election.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "net.h"

#define SERVER_MT "chansim.etcd_server"
#define CLIENT_MT "chansim.etcd_client"
#define SESSION_MT "chansim.etcd_session"
#define EMUTEX_MT "chansim.etcd_mutex"
#define ELECTION_MT "chansim.etcd_election"
#define DMUTEX_MT "chansim.distributed_mutex"
#define LEADER_MT "chansim.leader_election"
#define DSEM_MT "chansim.distributed_semaphore"
#define HOLDERS_MT "chansim.holders"
#define LEADERSHIP_MT "chansim.leadership"
#define FENCED_MT "chansim.fenced_resource"
#define ACKED_MT "chansim.acked_writes"
#define WATCH_MT "chansim.etcd_watch"
#define OBSERVE_MT "chansim.etcd_observe"
#define NODE_MT "chansim.node" /* lsim_cluster.c's */

/* Every userdata here is a box (lsim_pushbox) holding a pointer to a
 * scheduler-owned object; uservalue 1 keeps what it was made from alive
 * (its client, session, ...). */

static ctx_t *opt_ctx(lua_State *L, int idx)
{
    return lua_isnoneornil(L, idx) ? ctx_background() : lsim_checkctx(L, idx);
}

static int fail(lua_State *L, const go_error_t *err)
{
    return lsim_push_error(L, err);
}

static void push_kv(lua_State *L, const kv_kv_t *kv)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, kv->key);
    lua_setfield(L, -2, "key");
    lua_pushstring(L, kv->value ? kv->value : "");
    lua_setfield(L, -2, "value");
    lsim_set_int(L, "create_rev", kv->create_rev);
    lsim_set_int(L, "mod_rev", kv->mod_rev);
    lsim_set_int(L, "version", kv->version);
    lsim_set_int(L, "lease", kv->lease);
}

static void push_kvs(lua_State *L, const kv_op_result_t *op)
{
    lua_createtable(L, (int)op->nkvs, 0);
    for (size_t i = 0; i < op->nkvs; i++) {
        push_kv(L, &op->kvs[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* ---- server and client ---------------------------------------------------- */

/* sim.etcd_server(node [, { expiry_interval =, service_time = }]): a store
 * of one; sim.etcd_server({ node, node, node } [, { ...,
 * heartbeat_interval =, election_timeout = }]): a store of 3 (or 5, up to
 * 7) members with its own leader. */
static int l_server(lua_State *L)
{
    etcd_server_cfg_t cfg = etcd_server_cfg_default();
    static const char *const keys[] = {"expiry_interval", "service_time", "heartbeat_interval",
                                       "election_timeout", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 2, "sim.etcd_server", keys);
    cfg.expiry_interval = lsim_opt_dur(&o, "expiry_interval", cfg.expiry_interval, 1, INT64_MAX);
    cfg.service_time = lsim_opt_dur(&o, "service_time", cfg.service_time, 0, INT64_MAX);
    cfg.heartbeat_interval =
        lsim_opt_dur(&o, "heartbeat_interval", cfg.heartbeat_interval, 1, INT64_MAX);
    cfg.election_timeout = lsim_opt_dur(&o, "election_timeout", cfg.election_timeout, 1, INT64_MAX);
    if (lua_istable(L, 1) && !luaL_testudata(L, 1, NODE_MT)) {
        net_node_t *nodes[7];
        lua_Integer n = luaL_len(L, 1);
        if (n < 2 || n > 7)
            return lsim_scenario_error(L, "sim.etcd_server: a store of several members takes 2 to 7 "
                                          "nodes (got %lld)", (long long)n);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, 1, i);
            nodes[i - 1] = lsim_checkbox(L, -1, NODE_MT);
            lua_pop(L, 1);
        }
        lsim_pushbox(L, etcd_server_new_cluster(nodes, (size_t)n, &cfg), SERVER_MT, 1);
        return 1;
    }
    net_node_t *n = lsim_checkbox(L, 1, NODE_MT);
    etcd_server_t *srv = etcd_server_new(n, &cfg);
    net_node_set_boot(n, etcd_server_boot, srv);
    lsim_pushbox(L, srv, SERVER_MT, 1);
    return 1;
}

/* name, term = store:leader(): the node of the member that leads and its
 * term, or nil when there is none (a store of one: its node while up). */
static int srv_leader(lua_State *L)
{
    etcd_server_t *srv = lsim_checkbox(L, 1, SERVER_MT);
    uint64_t term;
    int i = etcd_server_leader(srv, &term);
    if (i < 0) {
        lua_pushnil(L);
        return 1;
    }
    net_node_t *n = etcd_server_endpoints(srv) ? etcd_server_endpoint(srv, (size_t)i)
                                                : etcd_server_node(srv);
    lua_pushstring(L, net_node_name(n));
    lua_pushinteger(L, (lua_Integer)term);
    return 2;
}

/* store:client(node [, { request_timeout = }]) */
static int srv_client(lua_State *L)
{
    etcd_server_t *srv = lsim_checkbox(L, 1, SERVER_MT);
    net_node_t *n = lsim_checkbox(L, 2, NODE_MT);
    etcd_client_cfg_t cfg = etcd_client_cfg_default();
    static const char *const keys[] = {"request_timeout", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 3, "store:client", keys);
    cfg.request_timeout = lsim_opt_dur(&o, "request_timeout", cfg.request_timeout, 0, INT64_MAX);
    if (!net_node_up(n))
        return luaL_error(L, "etcd client on %s: the node is down", net_node_name(n));
    lsim_pushbox(L, etcd_client_new(srv, n, &cfg), CLIENT_MT, 2);
    return 1;
}

/* store:revision(), store:keys() (the server's truth, for checks) */
static int srv_revision(lua_State *L)
{
    lua_pushinteger(L, kv_revision(etcd_server_kv(lsim_checkbox(L, 1, SERVER_MT))));
    return 1;
}

static int srv_keys(lua_State *L)
{
    kv_t *kv = etcd_server_kv(lsim_checkbox(L, 1, SERVER_MT));
    const char *prefix = luaL_optstring(L, 2, "");
    size_t pl = strlen(prefix);
    lua_newtable(L);
    lua_Integer k = 0;
    for (size_t i = 0; i < kv_key_count(kv); i++) {
        const kv_kv_t *e = kv_key_at(kv, i);
        if (strncmp(e->key, prefix, pl) != 0)
            continue;
        push_kv(L, e);
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

static int cli_put(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    const char *k = luaL_checkstring(L, 2), *v = luaL_checkstring(L, 3);
    int64_t lease = luaL_optinteger(L, 4, 0);
    lsim_need_goroutine(L, "etcd put");
    kv_result_t r = {0};
    const go_error_t *err = etcd_put(c, opt_ctx(L, 5), k, v, lease, &r);
    int64_t rev = r.revision;
    kv_result_clear(&r);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, rev);
    return 1;
}

/* kvs, rev = cli:get(key [, { prefix =, sort = "key"|"create"|"mod", order = "asc"|"desc", limit = }] [, ctx]) */
static int cli_get(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    const char *k = luaL_checkstring(L, 2);
    kv_range_opts_t o = {0};
    static const char *const keys[] = {"prefix", "sort", "order", "limit", NULL};
    static const char *const sorts[] = {"key", "create", "mod", NULL};
    static const char *const orders[] = {"asc", "desc", NULL};
    lsim_opts_t opt = lsim_opts_opt(L, 3, "cli:get", keys);
    o.prefix = lsim_opt_bool(&opt, "prefix", false);
    o.limit = lsim_opt_int(&opt, "limit", 0, 0, LUA_MAXINTEGER);
    int sort = lsim_opt_enum(&opt, "sort", sorts, 0);
    o.sort_target = sort == 1 ? KV_SORT_CREATE : sort == 2 ? KV_SORT_MOD : o.sort_target;
    o.sort_order = lsim_opt_enum(&opt, "order", orders, 0) == 1 ? KV_SORT_DESCEND : KV_SORT_ASCEND;
    lsim_need_goroutine(L, "etcd get");
    kv_result_t r = {0};
    const go_error_t *err = etcd_get(c, opt_ctx(L, 4), k, &o, &r);
    if (err) {
        kv_result_clear(&r);
        return fail(L, err);
    }
    push_kvs(L, &r.op);
    lua_pushinteger(L, r.revision);
    kv_result_clear(&r);
    return 2;
}

static int cli_delete(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    const char *k = luaL_checkstring(L, 2);
    bool prefix = lua_toboolean(L, 3);
    lsim_need_goroutine(L, "etcd delete");
    kv_result_t r = {0};
    const go_error_t *err = etcd_delete(c, opt_ctx(L, 4), k, prefix, &r);
    int64_t n = r.op.deleted, rev = r.revision;
    kv_result_clear(&r);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, n);
    lua_pushinteger(L, rev);
    return 2;
}

static int cli_grant(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    int64_t ttl = luaL_checkinteger(L, 2);
    lsim_need_goroutine(L, "etcd grant");
    kv_result_t r = {0};
    const go_error_t *err = etcd_grant(c, opt_ctx(L, 3), ttl, &r);
    int64_t lease = r.lease, got = r.ttl;
    kv_result_clear(&r);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, lease);
    lua_pushinteger(L, got);
    return 2;
}

static int cli_keepalive_once(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    int64_t lease = luaL_checkinteger(L, 2);
    lsim_need_goroutine(L, "etcd keepalive");
    kv_result_t r = {0};
    const go_error_t *err = etcd_keepalive_once(c, opt_ctx(L, 3), lease, &r);
    int64_t ttl = r.ttl;
    kv_result_clear(&r);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, ttl);
    return 1;
}

static int cli_revoke(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    int64_t lease = luaL_checkinteger(L, 2);
    lsim_need_goroutine(L, "etcd revoke");
    kv_result_t r = {0};
    const go_error_t *err = etcd_revoke(c, opt_ctx(L, 3), lease, &r);
    int64_t deleted = r.deleted;
    kv_result_clear(&r);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, deleted);
    return 1;
}


/* ---- transactions ------------------------------------------------------------ */

/* A compare: { key = k, target = "value"|"version"|"create"|"mod"|"lease",
 * op = "="|"!="|"<"|">", value = v }, clientv3.Compare(Target(k), op, v). */
static kv_cmp_t read_cmp(lua_State *L, int idx)
{
    static const char *const keys[] = {"key", "target", "op", "value", NULL};
    static const char *const targets[] = {"value", "version", "create", "mod", "lease", NULL};
    static const char *const ops[] = {"=", "!=", "<", ">", NULL};
    lsim_opts_t o = lsim_opts(L, idx, "cli:txn compare", keys);
    if (!lsim_opt_has(&o, "key"))
        lsim_opts_error(&o, "key is required");
    const char *key = lsim_opt_str(&o, "key", "");
    int target = lsim_opt_enum(&o, "target", targets, 0);
    kv_cmp_result_t res = (kv_cmp_result_t)lsim_opt_enum(&o, "op", ops, 0);
    if (target == 0) {
        lsim_opt_push(&o, "value");
        if (lua_type(L, -1) != LUA_TSTRING && !lua_isnil(L, -1))
            lsim_opt_fail(&o, "value", -1, "a string for target \"value\"");
        lua_pop(L, 1);
        return kv_cmp_value(key, res, lsim_opt_str(&o, "value", ""));
    }
    static const kv_cmp_target_t tmap[] = {KV_CMP_VALUE, KV_CMP_VERSION, KV_CMP_CREATE, KV_CMP_MOD,
                                           KV_CMP_LEASE};
    int64_t num = lsim_opt_int(&o, "value", 0, LUA_MININTEGER, LUA_MAXINTEGER);
    return kv_cmp_num(key, tmap[target], res, num);
}

/* An op: { put = k, value = v, lease = id } | { get = k, prefix =, sort =,
 * order =, limit = } | { delete = k, prefix = }. */
static kv_op_t read_op(lua_State *L, int idx)
{
    static const char *const keys[] = {"put", "get", "delete", "value", "lease", "prefix",
                                       "sort", "order", "limit", NULL};
    static const char *const sorts[] = {"key", "create", "mod", NULL};
    static const char *const orders[] = {"asc", "desc", NULL};
    lsim_opts_t o = lsim_opts(L, idx, "cli:txn op", keys);
    int kinds = lsim_opt_has(&o, "put") + lsim_opt_has(&o, "get") + lsim_opt_has(&o, "delete");
    if (kinds != 1)
        lsim_opts_error(&o, "an op has exactly one of put, get, delete");
    kv_op_t op;
    if (lsim_opt_has(&o, "put")) {
        op = kv_op_put(lsim_opt_str(&o, "put", ""), lsim_opt_str(&o, "value", ""),
                       lsim_opt_int(&o, "lease", 0, 0, LUA_MAXINTEGER));
    } else if (lsim_opt_has(&o, "delete")) {
        op = kv_op_delete(lsim_opt_str(&o, "delete", ""), lsim_opt_bool(&o, "prefix", false));
    } else {
        kv_range_opts_t ro = {0};
        ro.prefix = lsim_opt_bool(&o, "prefix", false);
        ro.limit = lsim_opt_int(&o, "limit", 0, 0, LUA_MAXINTEGER);
        int sort = lsim_opt_enum(&o, "sort", sorts, 0);
        ro.sort_target = sort == 1 ? KV_SORT_CREATE : sort == 2 ? KV_SORT_MOD : KV_SORT_KEY;
        ro.sort_order = lsim_opt_enum(&o, "order", orders, 0) == 1 ? KV_SORT_DESCEND : KV_SORT_ASCEND;
        op = kv_op_get(lsim_opt_str(&o, "get", ""), &ro);
    }
    return op;
}

/* The list at key of the txn table, read into a scratch userdata left on
 * the stack (collected after the call); *n its length. Strings stay in the
 * tables. */
static void *read_list(const lsim_opts_t *o, const char *key, size_t elem, size_t *n, int is_cmp)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, key);
    *n = 0;
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (t != LUA_TTABLE)
        lsim_opt_fail(o, key, -1, "a list of tables");
    int list = lua_gettop(L);
    size_t len = (size_t)lua_rawlen(L, list);
    void *arr = lua_newuserdatauv(L, len ? len * elem : 1, 0); /* stays on the stack */
    for (size_t i = 0; i < len; i++) {
        if (lua_rawgeti(L, list, (lua_Integer)i + 1) != LUA_TTABLE)
            lsim_opt_fail(o, key, -1, "a list of tables");
        int e = lua_gettop(L);
        if (is_cmp)
            ((kv_cmp_t *)arr)[i] = read_cmp(L, e);
        else
            ((kv_op_t *)arr)[i] = read_op(L, e);
        lua_pop(L, 1);
    }
    lua_remove(L, list);
    *n = len;
    return arr;
}

static void push_op_result(lua_State *L, const kv_op_result_t *r)
{
    lua_createtable(L, 0, 4);
    switch (r->type) {
    case KV_OP_RANGE:
        push_kvs(L, r);
        lua_setfield(L, -2, "kvs");
        lsim_set_int(L, "count", r->count);
        lua_pushboolean(L, r->more);
        lua_setfield(L, -2, "more");
        lua_pushliteral(L, "get");
        break;
    case KV_OP_PUT:
        lua_pushliteral(L, "put");
        break;
    case KV_OP_DELETE:
        lsim_set_int(L, "deleted", r->deleted);
        lua_pushliteral(L, "delete");
        break;
    }
    lua_setfield(L, -2, "type");
}

/* res = cli:txn{ compare = {...}, success = {...}, failure = {...} } [, ctx]:
 * res.succeeded, res.revision (the store's revision after the txn: one new
 * revision for all its writes), res.responses (one per op of the branch
 * that ran: { type = "get", kvs =, count =, more = }, { type = "put" },
 * { type = "delete", deleted = }). */
static int cli_txn(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    static const char *const keys[] = {"compare", "success", "failure", NULL};
    lsim_opts_t o = lsim_opts(L, 2, "cli:txn", keys);
    ctx_t *ctx = opt_ctx(L, 3);
    lua_settop(L, 3); /* the scratch arrays go above */
    kv_txn_t t = {0};
    t.cmps = read_list(&o, "compare", sizeof(kv_cmp_t), &t.ncmps, 1);
    t.then_ops = read_list(&o, "success", sizeof(kv_op_t), &t.nthen, 0);
    t.else_ops = read_list(&o, "failure", sizeof(kv_op_t), &t.nelse, 0);
    lsim_need_goroutine(L, "etcd txn");
    kv_result_t r = {0};
    const go_error_t *err = etcd_txn(c, ctx, &t, &r);
    if (err) {
        kv_result_clear(&r);
        return fail(L, err);
    }
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, r.succeeded);
    lua_setfield(L, -2, "succeeded");
    lsim_set_int(L, "revision", r.revision);
    lua_createtable(L, (int)r.nops, 0);
    for (size_t i = 0; i < r.nops; i++) {
        push_op_result(L, &r.ops[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "responses");
    kv_result_clear(&r);
    return 1;
}

/* ttl, granted_ttl, nkeys = cli:time_to_live(lease [, ctx]): seconds left
 * (rounded down; -1 when the lease is gone, with no error, as etcd). */
static int cli_time_to_live(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    int64_t lease = luaL_checkinteger(L, 2);
    lsim_need_goroutine(L, "etcd time_to_live");
    kv_result_t r = {0};
    const go_error_t *err = etcd_time_to_live(c, opt_ctx(L, 3), lease, &r);
    int64_t ttl = r.ttl, granted = r.granted_ttl, nkeys = r.lease_keys;
    kv_result_clear(&r);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, ttl);
    lua_pushinteger(L, granted);
    lua_pushinteger(L, nkeys);
    return 3;
}

/* ---- watches and Observe: a receiver with :recv() and :cancel() ---------------- */

typedef struct lwatch {
    chan_t *ch;   /* the C channel of response pointers */
    ctx_t *ctx;   /* a child of the caller's context, cancelled by :cancel() */
} lwatch_t;

static lwatch_t *push_receiver(lua_State *L, const char *mt, ctx_t *parent)
{
    lwatch_t *w = lsim_newudata(L, sizeof *w, mt, 0);
    w->ch = NULL;
    w->ctx = ctx_with_cancel(parent);
    return w;
}

/* w = cli:watch(key [, { prefix =, rev = }] [, ctx]): events from revision
 * rev on (inclusive; default: the next one), in revision order, each
 * revision once. w:recv() blocks for the next revision's response:
 * { revision =, events = { { type = "put"|"delete", kv = {...} }, ... } },
 * or { canceled = true, err =, compact_revision = } when the watch ends on
 * an error; nil once it is closed. w:cancel() ends it. */
static int cli_watch(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    const char *key = luaL_checkstring(L, 2);
    static const char *const keys[] = {"prefix", "rev", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 3, "cli:watch", keys);
    etcd_watch_opts_t wo = {0};
    wo.prefix = lsim_opt_bool(&o, "prefix", false);
    wo.start_rev = lsim_opt_int(&o, "rev", 0, 0, LUA_MAXINTEGER);
    lwatch_t *w = push_receiver(L, WATCH_MT, opt_ctx(L, 4));
    w->ch = etcd_watch(c, w->ctx, key, &wo);
    return 1;
}

static int wa_recv(lua_State *L)
{
    lwatch_t *w = luaL_checkudata(L, 1, WATCH_MT);
    lsim_need_goroutine(L, "watch recv");
    etcd_watch_resp_t *r = NULL;
    if (!chan_recv(w->ch, &r) || !r) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 4);
    lsim_set_int(L, "revision", r->revision);
    lua_createtable(L, (int)r->nevents, 0);
    for (size_t i = 0; i < r->nevents; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, r->events[i].type == KV_EVENT_PUT ? "put" : "delete");
        lua_setfield(L, -2, "type");
        push_kv(L, &r->events[i].kv);
        lua_setfield(L, -2, "kv");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "events");
    if (r->canceled) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "canceled");
        lsim_set_int(L, "compact_revision", r->compact_revision);
        if (r->err) {
            lua_pushstring(L, go_error_msg(r->err));
            lua_setfield(L, -2, "err");
        }
    }
    etcd_watch_resp_free(r);
    return 1;
}

static int wa_cancel(lua_State *L)
{
    lwatch_t *w = lua_touserdata(L, 1);
    if (!w || (!luaL_testudata(L, 1, WATCH_MT) && !luaL_testudata(L, 1, OBSERVE_MT)))
        return luaL_typeerror(L, 1, "a watch or an observer");
    ctx_cancel(w->ctx);
    return 0;
}

/* ---- sessions, mutexes, elections -------------------------------------------- */

static int l_session(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    concurrency_session_opts_t o = {0};
    static const char *const keys[] = {"ttl", "ctx", NULL};
    lsim_opts_t opt = lsim_opts_opt(L, 2, "cli:session", keys);
    o.ttl_s = lsim_opt_int(&opt, "ttl", 0, 0, LUA_MAXINTEGER);
    o.ctx = lsim_opt_ctx(&opt, "ctx");
    lsim_need_goroutine(L, "etcd session");
    concurrency_session_t *s;
    const go_error_t *err = concurrency_session_new(c, &o, &s);
    if (err)
        return fail(L, err);
    lsim_pushbox(L, s, SESSION_MT, 1);
    return 1;
}

static int ses_lease(lua_State *L)
{
    lua_pushinteger(L, concurrency_session_lease(lsim_checkbox(L, 1, SESSION_MT)));
    return 1;
}

static int ses_done(lua_State *L)
{
    lsim_pushchan(L, concurrency_session_done(lsim_checkbox(L, 1, SESSION_MT)));
    return 1;
}

static int ses_close(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_need_goroutine(L, "session close");
    const go_error_t *err = concurrency_session_close(s);
    if (err)
        return fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int ses_orphan(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_need_goroutine(L, "session orphan");
    concurrency_session_orphan(s);
    return 0;
}

static int l_emutex(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_pushbox(L, concurrency_mutex_new(s, luaL_checkstring(L, 2)), EMUTEX_MT, 1);
    return 1;
}

static int ok_or_fail(lua_State *L, const go_error_t *err)
{
    if (err)
        return fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int em_lock(lua_State *L)
{
    concurrency_mutex_t *m = lsim_checkbox(L, 1, EMUTEX_MT);
    lsim_need_goroutine(L, "Mutex.Lock");
    return ok_or_fail(L, concurrency_mutex_lock(m, opt_ctx(L, 2)));
}

static int em_try_lock(lua_State *L)
{
    concurrency_mutex_t *m = lsim_checkbox(L, 1, EMUTEX_MT);
    lsim_need_goroutine(L, "Mutex.TryLock");
    return ok_or_fail(L, concurrency_mutex_try_lock(m, opt_ctx(L, 2)));
}

static int em_unlock(lua_State *L)
{
    concurrency_mutex_t *m = lsim_checkbox(L, 1, EMUTEX_MT);
    lsim_need_goroutine(L, "Mutex.Unlock");
    return ok_or_fail(L, concurrency_mutex_unlock(m, opt_ctx(L, 2)));
}

static int em_key(lua_State *L)
{
    lua_pushstring(L, concurrency_mutex_key(lsim_checkbox(L, 1, EMUTEX_MT)));
    return 1;
}

/* m:token(): the revision at which the lock was acquired (a fencing token) */
static int em_token(lua_State *L)
{
    lua_pushinteger(L, concurrency_mutex_header_revision(lsim_checkbox(L, 1, EMUTEX_MT)));
    return 1;
}

/* m:is_owner(): IsOwner() as a compare for cli:txn: { key = m:key(),
 * target = "create", op = "=", value = the key's create revision }. */
static int em_is_owner(lua_State *L)
{
    kv_cmp_t c = concurrency_mutex_is_owner(lsim_checkbox(L, 1, EMUTEX_MT));
    lua_createtable(L, 0, 4);
    lua_pushstring(L, c.key);
    lua_setfield(L, -2, "key");
    lua_pushliteral(L, "create");
    lua_setfield(L, -2, "target");
    lua_pushliteral(L, "=");
    lua_setfield(L, -2, "op");
    lsim_set_int(L, "value", c.num);
    return 1;
}

static int l_election(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_pushbox(L, concurrency_election_new(s, luaL_checkstring(L, 2)), ELECTION_MT, 1);
    return 1;
}

static int el_campaign(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    const char *val = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "Election.Campaign");
    return ok_or_fail(L, concurrency_election_campaign(e, opt_ctx(L, 3), val));
}

static int el_proclaim(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    const char *val = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "Election.Proclaim");
    return ok_or_fail(L, concurrency_election_proclaim(e, opt_ctx(L, 3), val));
}

static int el_resign(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    lsim_need_goroutine(L, "Election.Resign");
    return ok_or_fail(L, concurrency_election_resign(e, opt_ctx(L, 2)));
}

/* value, key, term = e:leader([ctx]) */
static int el_leader(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    lsim_need_goroutine(L, "Election.Leader");
    kv_result_t r = {0};
    const go_error_t *err = concurrency_election_leader(e, opt_ctx(L, 2), &r);
    if (err) {
        kv_result_clear(&r);
        return fail(L, err);
    }
    lua_pushstring(L, r.op.kvs[0].value);
    lua_pushstring(L, r.op.kvs[0].key);
    lua_pushinteger(L, r.op.kvs[0].create_rev);
    kv_result_clear(&r);
    return 3;
}

static int el_is_leader(lua_State *L)
{
    lua_pushboolean(L, concurrency_election_is_leader(lsim_checkbox(L, 1, ELECTION_MT)));
    return 1;
}

static int el_term(lua_State *L)
{
    lua_pushinteger(L, concurrency_election_rev(lsim_checkbox(L, 1, ELECTION_MT)));
    return 1;
}

/* o = e:observe([ctx]): the current leader once there is one, then every
 * change of leader or of its value. o:recv() blocks for the next one:
 * { key =, value =, create_rev = (the term), revision = }, or nil once it
 * is closed; o:cancel() ends it. */
static int el_observe(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    lwatch_t *w = push_receiver(L, OBSERVE_MT, opt_ctx(L, 2));
    w->ch = concurrency_election_observe(e, w->ctx);
    return 1;
}

static int ob_recv(lua_State *L)
{
    lwatch_t *w = luaL_checkudata(L, 1, OBSERVE_MT);
    lsim_need_goroutine(L, "observe recv");
    concurrency_observe_t *r = NULL;
    if (!chan_recv(w->ch, &r) || !r) {
        lua_pushnil(L);
        return 1;
    }
    push_kv(L, &r->kv);
    lsim_set_int(L, "revision", r->revision);
    concurrency_observe_free(r);
    return 1;
}

/* ---- the seed's patterns -------------------------------------------------------- */

static etcd_client_t *field_client(const lsim_opts_t *o)
{
    if (lsim_opt_push(o, "client") == LUA_TNIL || !luaL_testudata(o->L, -1, CLIENT_MT))
        lsim_opt_fail(o, "client", -1, "an etcd client (store:client(node))");
    etcd_client_t *c = lsim_checkbox(o->L, -1, CLIENT_MT);
    lua_pop(o->L, 1);
    return c;
}

/* The box of an optional key, which must have metatable mt, or NULL. */
static void *field_box(const lsim_opts_t *o, const char *key, const char *mt, const char *want)
{
    void *p = NULL;
    if (lsim_opt_push(o, key) != LUA_TNIL) {
        if (!luaL_testudata(o->L, -1, mt))
            lsim_opt_fail(o, key, -1, want);
        p = lsim_checkbox(o->L, -1, mt);
    }
    lua_pop(o->L, 1);
    return p;
}

/* sim.distributed_mutex{ client =, lock_path = "/locks/my-critical-section", ttl = 10, variant = } */
static int l_dmutex(lua_State *L)
{
    static const char *const keys[] = {"client", "lock_path", "ttl", "variant", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.distributed_mutex", keys);
    etcd_client_t *c = field_client(&o);
    const char *path = lsim_opt_str(&o, "lock_path", "/locks/my-critical-section");
    int64_t ttl = lsim_opt_int(&o, "ttl", 10, LUA_MININTEGER, LUA_MAXINTEGER);
    bool seed = lsim_opt_seed_variant(&o);
    lsim_need_goroutine(L, "NewDistributedMutex");
    distributed_mutex_t *dm;
    const go_error_t *err = distributed_mutex_create(c, path, ttl, seed, &dm);
    if (err)
        return fail(L, err);
    lua_getfield(L, 1, "client");
    lsim_pushbox(L, dm, DMUTEX_MT, -1);
    return 1;
}

static int dm_lock(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.Lock");
    return ok_or_fail(L, distributed_mutex_lock(dm, opt_ctx(L, 2)));
}

static int dm_unlock(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.Unlock");
    return ok_or_fail(L, distributed_mutex_unlock(dm, opt_ctx(L, 2)));
}

static int dm_close(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.Close");
    distributed_mutex_close(dm);
    return 0;
}

static int dm_is_locked(lua_State *L)
{
    lua_pushboolean(L, distributed_mutex_is_locked(lsim_checkbox(L, 1, DMUTEX_MT)));
    return 1;
}

static int dm_lock_count(lua_State *L)
{
    lua_pushinteger(L, distributed_mutex_lock_count(lsim_checkbox(L, 1, DMUTEX_MT)));
    return 1;
}

static int dm_owner(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.GetLockOwner");
    char out[512];
    const go_error_t *err = distributed_mutex_get_lock_owner(dm, opt_ctx(L, 2), out, sizeof out);
    if (err)
        return fail(L, err);
    lua_pushstring(L, out);
    return 1;
}

static int dm_node_id(lua_State *L)
{
    lua_pushstring(L, distributed_mutex_node_id(lsim_checkbox(L, 1, DMUTEX_MT)));
    return 1;
}

static int dm_token(lua_State *L)
{
    lua_pushinteger(L, concurrency_mutex_header_revision(distributed_mutex_inner(lsim_checkbox(L, 1, DMUTEX_MT))));
    return 1;
}

static int dm_session_done(lua_State *L)
{
    lsim_pushchan(L, concurrency_session_done(distributed_mutex_session(lsim_checkbox(L, 1, DMUTEX_MT))));
    return 1;
}

/* sim.leader_election{ client =, election_id = "/elections/my-service-leader", ttl = 10,
 *                      variant =, track = sim.leadership(...) } */
static int l_leader(lua_State *L)
{
    static const char *const keys[] = {"client", "election_id", "ttl", "variant", "track", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.leader_election", keys);
    etcd_client_t *c = field_client(&o);
    const char *id = lsim_opt_str(&o, "election_id", "/elections/my-service-leader");
    int64_t ttl = lsim_opt_int(&o, "ttl", 10, LUA_MININTEGER, LUA_MAXINTEGER);
    bool seed = lsim_opt_seed_variant(&o);
    checker_leadership_t *track = field_box(&o, "track", LEADERSHIP_MT, "a sim.leadership");
    lsim_need_goroutine(L, "NewLeaderElection");
    leader_election_t *le;
    const go_error_t *err = leader_election_create(c, id, ttl, seed, track, &le);
    if (err)
        return fail(L, err);
    lua_getfield(L, 1, "client");
    lsim_pushbox(L, le, LEADER_MT, -1);
    return 1;
}

static int le_campaign(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.Campaign");
    return ok_or_fail(L, leader_election_campaign(le, opt_ctx(L, 2)));
}

static int le_resign(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.Resign");
    return ok_or_fail(L, leader_election_resign(le, opt_ctx(L, 2)));
}

static int le_is_leader(lua_State *L)
{
    lua_pushboolean(L, leader_election_is_leader(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

/* le:changes(): the LeaderChanges channel; values are true or false */
static int le_changes(lua_State *L)
{
    lsim_pushchan_bool(L, leader_election_changes(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

static int le_watch_leader(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    leader_election_watch_leader(le, opt_ctx(L, 2));
    return 0;
}

static int le_close(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.Close");
    leader_election_close(le);
    return 0;
}

static int le_current_leader(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.GetCurrentLeader");
    char out[512];
    const go_error_t *err = leader_election_get_current_leader(le, opt_ctx(L, 2), out, sizeof out);
    if (err)
        return fail(L, err);
    lua_pushstring(L, out);
    return 1;
}

static int le_node_id(lua_State *L)
{
    lua_pushstring(L, leader_election_node_id(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

static int le_term(lua_State *L)
{
    lua_pushinteger(L, leader_election_term(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

/* sim.distributed_semaphore{ client =, path = "/semaphores/connection-limit", count = 3,
 *                            ttl = 10, fair = false, track = sim.holders{...} } */
static int l_dsem(lua_State *L)
{
    static const char *const keys[] = {"client", "path", "count", "ttl", "fair", "track", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.distributed_semaphore", keys);
    etcd_client_t *c = field_client(&o);
    const char *path = lsim_opt_str(&o, "path", "/semaphores/connection-limit");
    int64_t count = lsim_opt_int(&o, "count", 3, 1, 64);
    int64_t ttl = lsim_opt_int(&o, "ttl", 10, LUA_MININTEGER, LUA_MAXINTEGER);
    bool fair = lsim_opt_bool(&o, "fair", false);
    checker_holders_t *track = field_box(&o, "track", HOLDERS_MT, "a sim.holders");
    lsim_need_goroutine(L, "NewDistributedSemaphore");
    distributed_semaphore_t *ds;
    const go_error_t *err = distributed_semaphore_create(c, path, (int)count, ttl, fair, track, &ds);
    if (err)
        return fail(L, err);
    lua_getfield(L, 1, "client");
    lsim_pushbox(L, ds, DSEM_MT, -1);
    return 1;
}

static int ds_acquire(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    lsim_need_goroutine(L, "DistributedSemaphore.Acquire");
    char id[512];
    const go_error_t *err = distributed_semaphore_acquire(ds, opt_ctx(L, 2), id, sizeof id);
    if (err)
        return fail(L, err);
    lua_pushstring(L, id);
    return 1;
}

/* id = sem:try_acquire(timeout [, ctx]) (TryAcquireWithTimeout) */
static int ds_try_acquire(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    simtime_t timeout = lsim_checkduration(L, 2);
    lsim_need_goroutine(L, "DistributedSemaphore.TryAcquireWithTimeout");
    char id[512];
    const go_error_t *err =
        distributed_semaphore_try_acquire_with_timeout(ds, opt_ctx(L, 3), timeout, id, sizeof id);
    if (err)
        return fail(L, err);
    lua_pushstring(L, id);
    return 1;
}

static int ds_release(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    const char *id = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "DistributedSemaphore.Release");
    return ok_or_fail(L, distributed_semaphore_release(ds, opt_ctx(L, 3), id));
}

static int ds_available(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    lsim_need_goroutine(L, "DistributedSemaphore.GetAvailable");
    int n;
    const go_error_t *err = distributed_semaphore_get_available(ds, opt_ctx(L, 2), &n);
    if (err)
        return fail(L, err);
    lua_pushinteger(L, n);
    return 1;
}

static int ds_close(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    lsim_need_goroutine(L, "DistributedSemaphore.Close");
    distributed_semaphore_close(ds);
    return 0;
}

static int ds_stats(lua_State *L)
{
    distributed_semaphore_stats_t st = distributed_semaphore_stats(lsim_checkbox(L, 1, DSEM_MT));
    lua_createtable(L, 0, 6);
    lsim_set_int(L, "acquired", (lua_Integer)st.acquired);
    lsim_set_int(L, "attempts", (lua_Integer)st.attempts);
    lsim_set_int(L, "rejected", (lua_Integer)st.rejected);
    lsim_set_int(L, "timeouts", (lua_Integer)st.timeouts);
    lsim_set_int(L, "wait_ns", st.wait_ns);
    lsim_set_int(L, "wait_max_ns", st.wait_max_ns);
    return 1;
}

/* ---- checkers and the fenced resource ---------------------------------------------- */

static void push_violations(lua_State *L, checker_t *c)
{
    const checker_violation_t *v;
    size_t n = checker_violations(c, &v);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lsim_set_int(L, "t", v[i].t);
        lua_pushstring(L, v[i].what);
        lua_setfield(L, -2, "what");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* sim.holders{ name =, limit = 1 }: h:enter(who), h:leave(who), h:inside(), h:violations() */
static int l_holders(lua_State *L)
{
    static const char *const keys[] = {"name", "limit", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.holders", keys);
    const char *name = lsim_opt_str(&o, "name", "holders");
    int64_t limit = lsim_opt_int(&o, "limit", 1, 1, INT32_MAX);
    lsim_pushbox(L, checker_holders_new(name, (int)limit), HOLDERS_MT, 0);
    return 1;
}

static int ho_enter(lua_State *L)
{
    checker_holders_enter(lsim_checkbox(L, 1, HOLDERS_MT), luaL_checkstring(L, 2));
    return 0;
}

static int ho_leave(lua_State *L)
{
    checker_holders_leave(lsim_checkbox(L, 1, HOLDERS_MT), luaL_checkstring(L, 2));
    return 0;
}

static int ho_inside(lua_State *L)
{
    checker_holders_t *h = lsim_checkbox(L, 1, HOLDERS_MT);
    lua_pushinteger(L, checker_holders_inside(h));
    lua_pushinteger(L, checker_holders_max_inside(h));
    return 2;
}

static int ho_violations(lua_State *L)
{
    push_violations(L, checker_holders_checker(lsim_checkbox(L, 1, HOLDERS_MT)));
    return 1;
}

/* sim.leadership(name): who believes it leads, checked per term and per instant */
static int l_leadership(lua_State *L)
{
    lsim_pushbox(L, checker_leadership_new(luaL_checkstring(L, 1)), LEADERSHIP_MT, 0);
    return 1;
}

static int ls_violations(lua_State *L)
{
    checker_leadership_t *l = lsim_checkbox(L, 1, LEADERSHIP_MT);
    push_violations(L, checker_leadership_term_checker(l));
    push_violations(L, checker_leadership_instant_checker(l));
    return 2;
}

static int ls_changes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checker_leadership_changes(lsim_checkbox(L, 1, LEADERSHIP_MT)));
    return 1;
}

static int ls_begin(lua_State *L)
{
    checker_leadership_begin(lsim_checkbox(L, 1, LEADERSHIP_MT), luaL_checkstring(L, 2), luaL_checkinteger(L, 3));
    return 0;
}

static int ls_finish(lua_State *L)
{
    checker_leadership_end(lsim_checkbox(L, 1, LEADERSHIP_MT), luaL_checkstring(L, 2));
    return 0;
}

/* sim.fenced_resource{ name =, fencing = true } */
static int l_fenced(lua_State *L)
{
    static const char *const keys[] = {"name", "fencing", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.fenced_resource", keys);
    const char *name = lsim_opt_str(&o, "name", "resource");
    bool fencing = lsim_opt_bool(&o, "fencing", true);
    lsim_pushbox(L, fenced_new(name, fencing), FENCED_MT, 0);
    return 1;
}

/* ok, err = r:begin(who, token) */
static int fr_begin(lua_State *L)
{
    fenced_t *r = lsim_checkbox(L, 1, FENCED_MT);
    return ok_or_fail(L, fenced_begin(r, luaL_checkstring(L, 2), luaL_checkinteger(L, 3)));
}

/* ok, err = r:write(who, token) */
static int fr_write(lua_State *L)
{
    fenced_t *r = lsim_checkbox(L, 1, FENCED_MT);
    return ok_or_fail(L, fenced_write(r, luaL_checkstring(L, 2), luaL_checkinteger(L, 3)));
}

static int fr_finish(lua_State *L)
{
    fenced_finish(lsim_checkbox(L, 1, FENCED_MT), luaL_checkstring(L, 2));
    return 0;
}

static int fr_stats(lua_State *L)
{
    fenced_t *r = lsim_checkbox(L, 1, FENCED_MT);
    lua_createtable(L, 0, 3);
    lsim_set_int(L, "accepted", (lua_Integer)fenced_accepted(r));
    lsim_set_int(L, "rejected", (lua_Integer)fenced_rejected(r));
    lsim_set_int(L, "max_token", fenced_max_token(r));
    return 1;
}

static int fr_violations(lua_State *L)
{
    push_violations(L, fenced_checker(lsim_checkbox(L, 1, FENCED_MT)));
    return 1;
}

/* sim.acked_writes(name): a:ack(key, rev) after an acknowledged put,
 * a:observe(key, mod_rev) after a read (0: absent), a:violations() */
static int l_acked(lua_State *L)
{
    lsim_pushbox(L, checker_acked_writes_new(luaL_checkstring(L, 1)), ACKED_MT, 0);
    return 1;
}

static int ak_ack(lua_State *L)
{
    checker_acked_writes_ack(lsim_checkbox(L, 1, ACKED_MT), luaL_checkstring(L, 2), luaL_checkinteger(L, 3));
    return 0;
}

static int ak_observe(lua_State *L)
{
    checker_acked_writes_observe(lsim_checkbox(L, 1, ACKED_MT), luaL_checkstring(L, 2), luaL_checkinteger(L, 3));
    return 0;
}

static int ak_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checker_acked_writes_count(lsim_checkbox(L, 1, ACKED_MT)));
    return 1;
}

static int ak_violations(lua_State *L)
{
    push_violations(L, checker_acked_writes_checker(lsim_checkbox(L, 1, ACKED_MT)));
    return 1;
}

/* ---- registration ------------------------------------------------------------------ */

void lsim_open_etcd(lua_State *L, int t)
{
    static const luaL_Reg server_m[] = {
        {"client", srv_client}, {"revision", srv_revision}, {"keys", srv_keys},
        {"leader", srv_leader}, {NULL, NULL},
    };
    static const luaL_Reg client_m[] = {
        {"put", cli_put},       {"get", cli_get},     {"delete", cli_delete},
        {"grant", cli_grant},   {"keepalive_once", cli_keepalive_once},
        {"revoke", cli_revoke}, {"txn", cli_txn}, {"time_to_live", cli_time_to_live},
        {"watch", cli_watch},   {NULL, NULL},
    };
    static const luaL_Reg session_m[] = {
        {"lease", ses_lease}, {"done", ses_done}, {"close", ses_close}, {"orphan", ses_orphan},
        {NULL, NULL},
    };
    static const luaL_Reg emutex_m[] = {
        {"lock", em_lock}, {"try_lock", em_try_lock}, {"unlock", em_unlock},
        {"key", em_key},   {"token", em_token},       {"is_owner", em_is_owner},
        {NULL, NULL},
    };
    static const luaL_Reg election_m[] = {
        {"campaign", el_campaign},   {"proclaim", el_proclaim}, {"resign", el_resign},
        {"leader", el_leader},       {"is_leader", el_is_leader}, {"term", el_term},
        {"observe", el_observe},     {NULL, NULL},
    };
    static const luaL_Reg dmutex_m[] = {
        {"lock", dm_lock},       {"unlock", dm_unlock},   {"close", dm_close},
        {"is_locked", dm_is_locked}, {"lock_count", dm_lock_count}, {"owner", dm_owner},
        {"node_id", dm_node_id}, {"token", dm_token},     {"session_done", dm_session_done},
        {NULL, NULL},
    };
    static const luaL_Reg leader_m[] = {
        {"campaign", le_campaign},   {"resign", le_resign},   {"is_leader", le_is_leader},
        {"changes", le_changes},     {"watch_leader", le_watch_leader}, {"close", le_close},
        {"current_leader", le_current_leader}, {"node_id", le_node_id}, {"term", le_term},
        {NULL, NULL},
    };
    static const luaL_Reg dsem_m[] = {
        {"acquire", ds_acquire}, {"try_acquire", ds_try_acquire}, {"release", ds_release},
        {"available", ds_available}, {"close", ds_close}, {"stats", ds_stats}, {NULL, NULL},
    };
    static const luaL_Reg holders_m[] = {
        {"enter", ho_enter}, {"leave", ho_leave}, {"inside", ho_inside},
        {"violations", ho_violations}, {NULL, NULL},
    };
    static const luaL_Reg leadership_m[] = {
        {"violations", ls_violations}, {"changes", ls_changes},
        {"begin", ls_begin}, {"finish", ls_finish}, {NULL, NULL},
    };
    static const luaL_Reg fenced_m[] = {
        {"begin", fr_begin}, {"finish", fr_finish}, {"write", fr_write}, {"stats", fr_stats},
        {"violations", fr_violations}, {NULL, NULL},
    };
    lsim_createmeta(L, SERVER_MT, NULL, server_m);
    lsim_createmeta(L, CLIENT_MT, NULL, client_m);
    lsim_createmeta(L, SESSION_MT, NULL, session_m);
    lsim_createmeta(L, EMUTEX_MT, NULL, emutex_m);
    lsim_createmeta(L, ELECTION_MT, NULL, election_m);
    lsim_createmeta(L, DMUTEX_MT, NULL, dmutex_m);
    lsim_createmeta(L, LEADER_MT, NULL, leader_m);
    lsim_createmeta(L, DSEM_MT, NULL, dsem_m);
    lsim_createmeta(L, HOLDERS_MT, NULL, holders_m);
    lsim_createmeta(L, LEADERSHIP_MT, NULL, leadership_m);
    lsim_createmeta(L, FENCED_MT, NULL, fenced_m);
    static const luaL_Reg acked_m[] = {
        {"ack", ak_ack}, {"observe", ak_observe}, {"count", ak_count},
        {"violations", ak_violations}, {NULL, NULL},
    };
    lsim_createmeta(L, ACKED_MT, NULL, acked_m);
    static const luaL_Reg watch_m[] = {{"recv", wa_recv}, {"cancel", wa_cancel}, {NULL, NULL}};
    static const luaL_Reg observe_m[] = {{"recv", ob_recv}, {"cancel", wa_cancel}, {NULL, NULL}};
    lsim_createmeta(L, WATCH_MT, NULL, watch_m);
    lsim_createmeta(L, OBSERVE_MT, NULL, observe_m);
    static const luaL_Reg funcs[] = {
        {"etcd_server", l_server},       {"etcd_session", l_session},
        {"etcd_mutex", l_emutex},        {"etcd_election", l_election},
        {"distributed_mutex", l_dmutex}, {"leader_election", l_leader},
        {"distributed_semaphore", l_dsem}, {"holders", l_holders},
        {"leadership", l_leadership},    {"fenced_resource", l_fenced},
        {"acked_writes", l_acked},
        {NULL, NULL},
    };
    lua_pushvalue(L, t);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
