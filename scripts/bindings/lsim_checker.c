/*
 * lsim_checker: the world's checkers (sim/world/checker.h) and the fenced
 * resource (fenced.h), for scenarios: sim.holders (at most limit inside),
 * sim.leadership (one leader per term and per instant), sim.acked_writes
 * (an acknowledged write is never lost) and sim.fenced_resource (writes
 * checked against fencing tokens). Each has :violations(), a list of
 * { t =, what = }. The etcd patterns of lsim_etcd_recipes.c report to them.
 */
#include <lauxlib.h>

#include "checker.h"
#include "fenced.h"
#include "lsim_etcd_internal.h"

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
    return lsim_etcd_ok_or_fail(L, fenced_begin(r, luaL_checkstring(L, 2), luaL_checkinteger(L, 3)));
}

/* ok, err = r:write(who, token) */
static int fr_write(lua_State *L)
{
    fenced_t *r = lsim_checkbox(L, 1, FENCED_MT);
    return lsim_etcd_ok_or_fail(L, fenced_write(r, luaL_checkstring(L, 2), luaL_checkinteger(L, 3)));
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

void lsim_open_checker(lua_State *L, int t)
{
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
    lsim_createmeta(L, HOLDERS_MT, NULL, holders_m);
    lsim_createmeta(L, LEADERSHIP_MT, NULL, leadership_m);
    lsim_createmeta(L, FENCED_MT, NULL, fenced_m);
    static const luaL_Reg acked_m[] = {
        {"ack", ak_ack}, {"observe", ak_observe}, {"count", ak_count},
        {"violations", ak_violations}, {NULL, NULL},
    };
    lsim_createmeta(L, ACKED_MT, NULL, acked_m);
    static const luaL_Reg funcs[] = {
        {"holders", l_holders},
        {"leadership", l_leadership},    {"fenced_resource", l_fenced},
        {"acked_writes", l_acked},
        {NULL, NULL},
    };
    lua_pushvalue(L, t);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
