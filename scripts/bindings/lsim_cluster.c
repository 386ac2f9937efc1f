/*
 * lsim_cluster: sim.cluster{...}, nodes, links, messages and faults.
 *
 *   local c = sim.cluster{ nodes = { "n1", "n2", "n3" }, latency = "2ms", jitter = "1ms" }
 *   c:node("n1"):on_boot(function(n) ... end)   -- runs at start and after restarts
 *   c:start()
 *   c:node("n2"):go(function() ... end)          -- a goroutine on n2
 *   n1:send(n2, "port", value); local v, from = n2:recv("port", "100ms")
 *   sim.at("5s", function() c:partition({ "n1" }, { "n2", "n3" }) end)
 *   n1:crash(); n1:restart(); n1:pause(); n1:resume(); c:heal()
 *
 * Ports are names; a message carries any Lua value (held in the registry
 * while in flight). Fault names follow Jepsen, Toxiproxy and Chaos Mesh.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "lsim.h"
#include "mem.h"
#include "net.h"
#include "timer.h"

#define CLUSTER_MT "chansim.cluster"
#define NODE_MT "chansim.node"

LSIM_CHECK_BOX(check_cluster, net_cluster_t, CLUSTER_MT)
LSIM_CHECK_BOX(check_node, net_node_t, NODE_MT)

/* Nodes are pushed as one userdata each, kept in the cluster's uservalue
 * table by name, so a node compares equal to itself from Lua. */
static void push_node(lua_State *L, int cluster_idx, net_node_t *n)
{
    cluster_idx = lua_absindex(L, cluster_idx);
    lua_getiuservalue(L, cluster_idx, 1);
    if (lua_getfield(L, -1, net_node_name(n)) == LUA_TUSERDATA) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lsim_pushbox(L, n, NODE_MT, cluster_idx); /* the node keeps its cluster alive */
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, net_node_name(n));
    lua_remove(L, -2);
}

/* A node argument: a node userdata or a node's name. */
static net_node_t *to_node(lua_State *L, net_cluster_t *c, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        net_node_t *n = net_cluster_node(c, lua_tostring(L, idx));
        if (!n)
            luaL_error(L, "no node named \"%s\" in the cluster", lua_tostring(L, idx));
        return n;
    }
    return check_node(L, idx);
}

/* Link settings: latency, jitter, loss, dup, reorder (as probabilities
 * in [0, 1]), reorder_delay, bandwidth (bytes per second). */
static const char *const link_keys[] = {
    "latency", "jitter", "loss", "dup", "reorder", "reorder_delay", "bandwidth", NULL,
};
static const char *const cluster_keys[] = {
    "name", "nodes", "latency", "jitter", "loss", "dup", "reorder", "reorder_delay", "bandwidth", NULL,
};

static uint32_t ppm(const lsim_opts_t *o, const char *key, uint32_t def)
{
    if (!lsim_opt_has(o, key))
        return def;
    return (uint32_t)(lsim_opt_num(o, key, 0, 0, 1) * 1e6 + 0.5);
}

static net_link_cfg_t link_from(const lsim_opts_t *o, net_link_cfg_t l)
{
    l.latency = lsim_opt_dur(o, "latency", l.latency, 0, INT64_MAX);
    l.jitter = lsim_opt_dur(o, "jitter", l.jitter, 0, INT64_MAX);
    l.reorder_delay = lsim_opt_dur(o, "reorder_delay", l.reorder_delay ? l.reorder_delay : 10 * SIM_MS, 0,
                                   INT64_MAX);
    l.bandwidth_bps = lsim_opt_int(o, "bandwidth", l.bandwidth_bps, 0, LUA_MAXINTEGER);
    l.loss_ppm = ppm(o, "loss", l.loss_ppm);
    l.dup_ppm = ppm(o, "dup", l.dup_ppm);
    l.reorder_ppm = ppm(o, "reorder", l.reorder_ppm);
    return l;
}

/* sim.cluster{ name =, nodes = { ... }, latency =, jitter =, loss =, ... } */
static int l_cluster(lua_State *L)
{
    lsim_opts_t o = lsim_opts(L, 1, "sim.cluster", cluster_keys);
    const char *name = lsim_opt_str(&o, "name", "cluster");
    net_link_cfg_t l = link_from(&o, net_link_cfg_default());
    int nt = lsim_opt_push(&o, "nodes");
    if (nt != LUA_TNIL && nt != LUA_TTABLE)
        return lsim_opt_fail(&o, "nodes", -1, "a list of names");
    net_cluster_t *c = net_cluster_new(name);
    net_cluster_set_default_link(c, &(net_link_cfg_t){0});
    net_cluster_set_default_link(c, &l);
    lsim_pushbox(L, c, CLUSTER_MT, 0);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 1);
    if (nt == LUA_TTABLE) {
        int k = lua_gettop(L) - 1;
        for (lua_Integer i = 1; i <= luaL_len(L, k); i++) {
            lua_rawgeti(L, k, i);
            const char *nn = lua_tostring(L, -1);
            if (!nn)
                return lsim_opts_error(&o, "nodes must be names (got %s)", lsim_shown(L, -1));
            if (net_cluster_node(c, nn))
                return lsim_opts_error(&o, "node \"%s\" given twice", nn);
            net_cluster_add_node(c, nn);
            lua_pop(L, 1);
        }
    }
    return 1;
}

static int cl_node(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    push_node(L, 1, to_node(L, c, 2));
    return 1;
}

static int cl_add_node(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    const char *nn = luaL_checkstring(L, 2);
    if (net_cluster_node(c, nn))
        return luaL_error(L, "node \"%s\" exists already", nn);
    push_node(L, 1, net_cluster_add_node(c, nn));
    return 1;
}

static int cl_nodes(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    lua_createtable(L, (int)net_cluster_node_count(c), 0);
    for (size_t i = 0; i < net_cluster_node_count(c); i++) {
        push_node(L, 1, net_cluster_node_at(c, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int cl_start(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    for (size_t i = 0; i < net_cluster_node_count(c); i++)
        net_node_start(net_cluster_node_at(c, i));
    return 0;
}

static size_t side(lua_State *L, net_cluster_t *c, int idx, net_node_t **out, size_t cap)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, idx);
    if (n > cap)
        luaL_error(L, "partition: too many nodes");
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        out[i] = to_node(L, c, -1);
        lua_pop(L, 1);
    }
    return n;
}

static int partition(lua_State *L, bool one_way)
{
    net_cluster_t *c = check_cluster(L, 1);
    size_t cap = net_cluster_node_count(c);
    net_node_t **a = lua_newuserdatauv(L, (cap + 1) * sizeof *a, 0);
    net_node_t **b = lua_newuserdatauv(L, (cap + 1) * sizeof *b, 0);
    size_t na = side(L, c, 2, a, cap), nb = side(L, c, 3, b, cap);
    net_cluster_partition(c, a, na, b, nb, one_way);
    return 0;
}

/* c:partition({ "n1" }, { "n2", "n3" }): both ways */
static int cl_partition(lua_State *L) { return partition(L, false); }
/* c:partition_one_way({ "n1" }, { "n2" }): n1's messages to n2 are lost */
static int cl_partition_one_way(lua_State *L) { return partition(L, true); }

static int cl_isolate(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    net_cluster_isolate(c, to_node(L, c, 2));
    return 0;
}

static int cl_majority(lua_State *L)
{
    net_cluster_partition_majority(check_cluster(L, 1));
    return 0;
}

static int cl_heal(lua_State *L)
{
    net_cluster_heal(check_cluster(L, 1));
    return 0;
}

/* c:link(a, b, { latency =, ... }): the directed link a -> b */
static int cl_link(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    net_node_t *a = to_node(L, c, 2), *b = to_node(L, c, 3);
    lsim_opts_t o = lsim_opts(L, 4, "c:link", link_keys);
    net_link_cfg_t l = link_from(&o, *net_cluster_link(c, a, b));
    net_cluster_set_link(c, a, b, &l);
    return 0;
}

static int cl_default_link(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    lsim_opts_t o = lsim_opts(L, 2, "c:default_link", link_keys);
    net_link_cfg_t l = link_from(&o, net_link_cfg_default());
    net_cluster_set_default_link(c, &l);
    return 0;
}

static int cl_stats(lua_State *L)
{
    net_stats_t st = net_cluster_stats(check_cluster(L, 1));
    lua_createtable(L, 0, 7);
    const struct { const char *k; uint64_t v; } f[] = {
        {"sent", st.sent}, {"delivered", st.delivered}, {"lost", st.lost}, {"cut", st.cut},
        {"dropped_down", st.dropped_down}, {"duplicated", st.duplicated},
        {"reordered", st.reordered},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        lua_pushinteger(L, (lua_Integer)f[i].v);
        lua_setfield(L, -2, f[i].k);
    }
    return 1;
}

/* ---- nodes ------------------------------------------------------------- */

/* n:go(fn, ...) or n:go("name", fn, ...): a goroutine on the node; nil if
 * the node is down. */
static int nd_go(lua_State *L)
{
    net_node_t *n = check_node(L, 1);
    const char *name = NULL;
    int fn = 2;
    if (lua_type(L, 2) == LUA_TSTRING) {
        name = lua_tostring(L, 2);
        fn = 3;
    }
    luaL_checktype(L, fn, LUA_TFUNCTION);
    if (!net_node_up(n))
        return 0;
    char buf[256];
    if (!name) {
        lua_Debug ar;
        lua_pushvalue(L, fn);
        lua_getinfo(L, ">S", &ar);
        snprintf(buf, sizeof buf, "%s/func@%s:%d", net_node_name(n), ar.short_src, ar.linedefined);
    } else {
        snprintf(buf, sizeof buf, "%s/%s", net_node_name(n), name); /* "n1/main" */
    }
    name = buf;
    g_t *g = host_spawn(L, fn, lua_gettop(L) - fn, name, net_node_name(n));
    net_node_adopt(n, g);
    lua_pushinteger(L, (lua_Integer)go_id(g));
    return 1;
}

typedef struct lboot {
    lua_State *L; /* the main state (idle while goroutines run) */
    int fn_ref;   /* the boot function, kept for every restart */
    int node_ref; /* the node's userdata */
} lboot_t;

static void boot_lua(net_node_t *n, void *arg)
{
    lboot_t *b = arg;
    lua_State *L = b->L;
    (void)n;
    lua_createtable(L, 2, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->fn_ref);
    lua_rawseti(L, -2, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->node_ref);
    lua_rawseti(L, -2, 2);
    int packed = luaL_ref(L, LUA_REGISTRYINDEX);
    free(lsim_call_packed(L, packed));
}

/* n:on_boot(fn): fn(n) runs in a goroutine of the node at start and after
 * every restart (the node's main). */
static int nd_on_boot(lua_State *L)
{
    net_node_t *n = check_node(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lboot_t *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->L = host_lua(host_of(L));
    lua_pushvalue(L, 2);
    b->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 1);
    b->node_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* keep b alive for the run */
    luaL_ref(L, LUA_REGISTRYINDEX);
    net_node_set_boot(n, boot_lua, b);
    return 0;
}

static int nd_start(lua_State *L)
{
    net_node_start(check_node(L, 1));
    return 0;
}

typedef struct lpayload {
    lua_State *L; /* the main state */
    int ref;      /* the value */
} lpayload_t;

static void free_lpayload(void *p)
{
    lpayload_t *lp = p;
    /* At the end of a run the Lua state may be gone before the scheduler
     * frees messages still in flight: the registry goes with it then. */
    if (lp->L)
        luaL_unref(lp->L, LUA_REGISTRYINDEX, lp->ref);
    free(lp);
}

static uint32_t port_of(lua_State *L, int idx)
{
    const char *s = luaL_checkstring(L, idx);
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* n:send(to, port, value [, size]): a message from n to node `to`. */
static int nd_send(lua_State *L)
{
    net_node_t *n = check_node(L, 1);
    net_node_t *to = to_node(L, net_node_cluster(n), 2);
    uint32_t port = port_of(L, 3);
    luaL_checkany(L, 4);
    lua_Integer size = luaL_optinteger(L, 5, 64);
    lpayload_t *p = mem_malloc(sizeof *p);
    p->L = host_lua(host_of(L));
    p->ref = lsim_ref_value(L, 4);
    lua_pushinteger(L, (lua_Integer)net_send(n, to, port, p, (size_t)size, free_lpayload));
    return 1;
}

/* v, from = n:recv(port [, timeout]): the next message on the port, or nil
 * and "timeout" when the timeout passes first. */
static int nd_recv(lua_State *L)
{
    net_node_t *n = check_node(L, 1);
    uint32_t port = port_of(L, 2);
    simtime_t timeout = lsim_optduration(L, 3, -1);
    lsim_need_goroutine(L, "node:recv");
    chan_t *in = net_node_inbox(n, port);
    if (!in)
        return luaL_error(L, "node %s is down", net_node_name(n));
    net_msg_t *m = NULL;
    if (timeout < 0) {
        chan_recv(in, &m);
    } else {
        sim_timer_t *t = timer_new(timeout);
        select_case_t cs[2] = {
            {.ch = in, .dir = SELECT_RECV, .elem = &m},
            {.ch = timer_chan(t), .dir = SELECT_RECV},
        };
        int i = chan_select(cs, 2, false);
        timer_free(t);
        if (i == 1) {
            lua_pushnil(L);
            lua_pushliteral(L, "timeout");
            return 2;
        }
    }
    lpayload_t *p = m->payload;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    net_node_t *src = m->src;
    net_msg_release(m);
    /* the sender, as a node userdata, through the cluster's userdata that
     * this node's keeps */
    lua_getiuservalue(L, 1, 1);
    push_node(L, -1, src);
    lua_remove(L, -2);
    return 2;
}

static int nd_crash(lua_State *L) { net_node_crash(check_node(L, 1)); return 0; }
static int nd_restart(lua_State *L) { net_node_restart(check_node(L, 1)); return 0; }
static int nd_pause(lua_State *L) { net_node_pause(check_node(L, 1)); return 0; }
static int nd_resume(lua_State *L) { net_node_resume(check_node(L, 1)); return 0; }

static int nd_name(lua_State *L)
{
    lua_pushstring(L, net_node_name(check_node(L, 1)));
    return 1;
}

static int nd_up(lua_State *L)
{
    lua_pushboolean(L, net_node_up(check_node(L, 1)));
    return 1;
}

static int nd_paused(lua_State *L)
{
    lua_pushboolean(L, net_node_paused(check_node(L, 1)));
    return 1;
}

/* n:clock() -> the node's local time; n:set_clock(offset, drift_ppm) */
static int nd_clock(lua_State *L)
{
    lua_pushinteger(L, net_node_clock(check_node(L, 1)));
    return 1;
}

static int nd_set_clock(lua_State *L)
{
    net_node_t *n = check_node(L, 1);
    net_node_set_clock(n, lsim_optduration(L, 2, 0), luaL_optinteger(L, 3, 0));
    return 0;
}

static int nd_sleep(lua_State *L)
{
    net_node_t *n = check_node(L, 1);
    simtime_t d = lsim_checkduration(L, 2);
    lsim_need_goroutine(L, "node:sleep");
    net_node_sleep(n, d);
    return 0;
}

static int nd_incarnation(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)net_node_incarnation(check_node(L, 1)));
    return 1;
}

static int nd_tostring(lua_State *L)
{
    lua_pushfstring(L, "node %s", net_node_name(check_node(L, 1)));
    return 1;
}

/* sim.node() -> the node the running goroutine is on, or nil */
static int l_self_node(lua_State *L)
{
    net_cluster_t *c = check_cluster(L, 1);
    net_node_t *n = net_node_self(c);
    if (!n)
        return 0;
    push_node(L, 1, n);
    return 1;
}

void lsim_open_cluster(lua_State *L, int t)
{
    static const luaL_Reg cl_methods[] = {
        {"node", cl_node},           {"add_node", cl_add_node}, {"nodes", cl_nodes},
        {"start", cl_start},         {"partition", cl_partition},
        {"partition_one_way", cl_partition_one_way},
        {"isolate", cl_isolate},     {"majority", cl_majority}, {"heal", cl_heal},
        {"link", cl_link},           {"default_link", cl_default_link},
        {"stats", cl_stats},         {"self", l_self_node},     {NULL, NULL},
    };
    static const luaL_Reg nd_methods[] = {
        {"go", nd_go},           {"on_boot", nd_on_boot}, {"start", nd_start},
        {"send", nd_send},       {"recv", nd_recv},       {"crash", nd_crash},
        {"restart", nd_restart}, {"pause", nd_pause},     {"resume", nd_resume},
        {"name", nd_name},       {"up", nd_up},           {"paused", nd_paused},
        {"clock", nd_clock},     {"set_clock", nd_set_clock}, {"sleep", nd_sleep},
        {"incarnation", nd_incarnation}, {NULL, NULL},
    };
    static const luaL_Reg nd_meta[] = {{"__tostring", nd_tostring}, {NULL, NULL}};
    lsim_createmeta(L, CLUSTER_MT, NULL, cl_methods);
    lsim_createmeta(L, NODE_MT, nd_meta, nd_methods);
    lua_pushcfunction(L, l_cluster);
    lua_setfield(L, t, "cluster");
}
