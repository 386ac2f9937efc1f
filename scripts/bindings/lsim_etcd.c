/*
 * lsim_etcd: the etcd-like store, its client, the concurrency recipes, the
 * seed's coordination patterns and the world's checkers, for scenarios.
 * This file binds the store, its client, transactions and watches;
 * lsim_etcd_recipes.c the sessions, recipes and patterns, lsim_checker.c
 * the checkers and the fenced resource (shared: lsim_etcd_internal.h).
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

#include "lsim_etcd_internal.h"
#include "net.h"

ctx_t *lsim_etcd_opt_ctx(lua_State *L, int idx)
{
    return lua_isnoneornil(L, idx) ? ctx_background() : lsim_checkctx(L, idx);
}

int lsim_etcd_fail(lua_State *L, const go_error_t *err)
{
    return lsim_push_error(L, err);
}

int lsim_etcd_ok_or_fail(lua_State *L, const go_error_t *err)
{
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

void lsim_etcd_push_kv(lua_State *L, const kv_kv_t *kv)
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
        lsim_etcd_push_kv(L, &op->kvs[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* ---- server and client ---------------------------------------------------- */

/* sim.etcd_server(node [, { expiry_interval =, service_time =,
 * watch_sync_interval = }]): a store
 * of one; sim.etcd_server({ node, node, node } [, { ...,
 * heartbeat_interval =, election_timeout = }]): a store of 3 (or 5, up to
 * 7) members with its own leader. */
static int l_server(lua_State *L)
{
    etcd_server_cfg_t cfg = etcd_server_cfg_default();
    static const char *const keys[] = {"expiry_interval", "service_time", "heartbeat_interval",
                                       "election_timeout", "watch_sync_interval", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 2, "sim.etcd_server", keys);
    cfg.expiry_interval = lsim_opt_dur(&o, "expiry_interval", cfg.expiry_interval, 1, INT64_MAX);
    cfg.service_time = lsim_opt_dur(&o, "service_time", cfg.service_time, 0, INT64_MAX);
    cfg.heartbeat_interval =
        lsim_opt_dur(&o, "heartbeat_interval", cfg.heartbeat_interval, 1, INT64_MAX);
    cfg.election_timeout = lsim_opt_dur(&o, "election_timeout", cfg.election_timeout, 1, INT64_MAX);
    cfg.watch_sync_interval =
        lsim_opt_dur(&o, "watch_sync_interval", cfg.watch_sync_interval, 1, INT64_MAX);
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
        lsim_etcd_push_kv(L, e);
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
    const go_error_t *err = etcd_put(c, lsim_etcd_opt_ctx(L, 5), k, v, lease, &r);
    int64_t rev = r.revision;
    kv_result_clear(&r);
    if (err)
        return lsim_etcd_fail(L, err);
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
    const go_error_t *err = etcd_get(c, lsim_etcd_opt_ctx(L, 4), k, &o, &r);
    if (err) {
        kv_result_clear(&r);
        return lsim_etcd_fail(L, err);
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
    const go_error_t *err = etcd_delete(c, lsim_etcd_opt_ctx(L, 4), k, prefix, &r);
    int64_t n = r.op.deleted, rev = r.revision;
    kv_result_clear(&r);
    if (err)
        return lsim_etcd_fail(L, err);
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
    const go_error_t *err = etcd_grant(c, lsim_etcd_opt_ctx(L, 3), ttl, &r);
    int64_t lease = r.lease, got = r.ttl;
    kv_result_clear(&r);
    if (err)
        return lsim_etcd_fail(L, err);
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
    const go_error_t *err = etcd_keepalive_once(c, lsim_etcd_opt_ctx(L, 3), lease, &r);
    int64_t ttl = r.ttl;
    kv_result_clear(&r);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushinteger(L, ttl);
    return 1;
}

static int cli_revoke(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    int64_t lease = luaL_checkinteger(L, 2);
    lsim_need_goroutine(L, "etcd revoke");
    kv_result_t r = {0};
    const go_error_t *err = etcd_revoke(c, lsim_etcd_opt_ctx(L, 3), lease, &r);
    int64_t deleted = r.deleted;
    kv_result_clear(&r);
    if (err)
        return lsim_etcd_fail(L, err);
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
    ctx_t *ctx = lsim_etcd_opt_ctx(L, 3);
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
        return lsim_etcd_fail(L, err);
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
    const go_error_t *err = etcd_time_to_live(c, lsim_etcd_opt_ctx(L, 3), lease, &r);
    int64_t ttl = r.ttl, granted = r.granted_ttl, nkeys = r.lease_keys;
    kv_result_clear(&r);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushinteger(L, ttl);
    lua_pushinteger(L, granted);
    lua_pushinteger(L, nkeys);
    return 3;
}

/* ---- watches and Observe: a receiver with :recv() and :cancel() ---------------- */

lwatch_t *lsim_etcd_push_receiver(lua_State *L, const char *mt, ctx_t *parent)
{
    lwatch_t *w = lsim_newudata(L, sizeof *w, mt, 0);
    w->ch = NULL;
    w->ctx = ctx_with_cancel(parent);
    return w;
}

/* w = cli:watch(key [, { prefix =, rev = }] [, ctx]): events from revision
 * rev on (inclusive; default: the next one), in revision order, each
 * revision once, batched as etcd 3.4 sends them (etcd_watch_resp_t: the
 * history in one response stamped with the store's revision, then one per
 * revision). w:recv() blocks for the next response:
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
    lwatch_t *w = lsim_etcd_push_receiver(L, WATCH_MT, lsim_etcd_opt_ctx(L, 4));
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
        lsim_etcd_push_kv(L, &r->events[i].kv);
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

int lsim_etcd_wa_cancel(lua_State *L)
{
    lwatch_t *w = lua_touserdata(L, 1);
    if (!w || (!luaL_testudata(L, 1, WATCH_MT) && !luaL_testudata(L, 1, OBSERVE_MT)))
        return luaL_typeerror(L, 1, "a watch or an observer");
    ctx_cancel(w->ctx);
    return 0;
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
    lsim_createmeta(L, SERVER_MT, NULL, server_m);
    lsim_createmeta(L, CLIENT_MT, NULL, client_m);
    static const luaL_Reg watch_m[] = {{"recv", wa_recv}, {"cancel", lsim_etcd_wa_cancel}, {NULL, NULL}};
    lsim_createmeta(L, WATCH_MT, NULL, watch_m);
    static const luaL_Reg funcs[] = {
        {"etcd_server", l_server},
        {NULL, NULL},
    };
    lua_pushvalue(L, t);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
    lsim_open_etcd_recipes(L, t);
    lsim_open_checker(L, t);
}
