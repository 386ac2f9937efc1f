/*
 * lsim_ctx: sim.context, the binding of core's context package.
 *
 *   local ctx, cancel = sim.context.with_timeout(sim.context.background(), "500ms")
 *   sim.select{ {recv = ctx:done()}, {recv = results} }
 *   print(ctx:err())   -- nil, or "context deadline exceeded"
 *
 * Errors are their messages as strings. Values are keyed by any Lua value
 * but nil: a string or number is equal to itself, a table or function is
 * a key of its own (Go's unexported key type), as in ctx_key below.
 */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "lsim.h"
#include "lsim_ctx.h"

#define CTX_MT "chansim.context"

void lsim_pushctx(lua_State *L, ctx_t *c)
{
    lsim_pushbox(L, c, CTX_MT, 0);
}

ctx_t *lsim_checkctx(lua_State *L, int idx)
{
    return lsim_checkbox(L, idx, CTX_MT);
}

static int cancel_closure(lua_State *L)
{
    ctx_t *c = lua_touserdata(L, lua_upvalueindex(1));
    if (host_in_check(L)) /* the host's check guard cannot see closures */
        return luaL_error(L, "cancel cannot be called in an invariant or a finally check: checks "
                             "observe the run and must not change it");
    if (lua_isnoneornil(L, 1))
        ctx_cancel(c);
    else
        ctx_cancel_cause(c, go_errorf("%s", luaL_checkstring(L, 1)));
    return 0;
}

/* Push ctx and its cancel function, as Go returns them. */
static int push_with_cancel(lua_State *L, ctx_t *c)
{
    lsim_pushctx(L, c);
    lua_pushlightuserdata(L, c);
    lua_pushcclosure(L, cancel_closure, 1);
    return 2;
}

static int l_background(lua_State *L)
{
    lsim_pushctx(L, ctx_background());
    return 1;
}

static int l_todo(lua_State *L)
{
    lsim_pushctx(L, ctx_todo());
    return 1;
}

static int l_with_cancel(lua_State *L)
{
    return push_with_cancel(L, ctx_with_cancel(lsim_checkctx(L, 1)));
}

static int l_with_timeout(lua_State *L)
{
    ctx_t *p = lsim_checkctx(L, 1);
    simtime_t d = lsim_checkduration(L, 2);
    if (lua_isnoneornil(L, 3))
        return push_with_cancel(L, ctx_with_timeout(p, d));
    return push_with_cancel(L, ctx_with_timeout_cause(p, d, go_errorf("%s", luaL_checkstring(L, 3))));
}

static int l_with_deadline(lua_State *L)
{
    ctx_t *p = lsim_checkctx(L, 1);
    simtime_t t = lsim_checkduration(L, 2);
    if (lua_isnoneornil(L, 3))
        return push_with_cancel(L, ctx_with_deadline(p, t));
    return push_with_cancel(L, ctx_with_deadline_cause(p, t, go_errorf("%s", luaL_checkstring(L, 3))));
}

/* The core's key for the Lua value at idx: strings interned (equal strings,
 * one key), numbers and booleans by their type and text, other values by
 * their identity, kept alive for the run so that no other object takes
 * their place. Never shown: only compared. */
static const void *ctx_key(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TNONE:
        luaL_argerror(L, idx, "nil key"); /* Go: panic("nil key") */
        return NULL;
    case LUA_TSTRING:
        return sched_intern(sched_current(), lua_tostring(L, idx));
    case LUA_TNUMBER:
    case LUA_TBOOLEAN: {
        char buf[64];
        if (lua_type(L, idx) == LUA_TBOOLEAN)
            snprintf(buf, sizeof buf, "\001bool:%d", lua_toboolean(L, idx));
        else if (lua_isinteger(L, idx))
            snprintf(buf, sizeof buf, "\001num:%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, sizeof buf, "\001num:%.17g", lua_tonumber(L, idx));
        return sched_intern(sched_current(), buf);
    }
    default:
        if (lua_getfield(L, LUA_REGISTRYINDEX, "chansim.ctx_keys") != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, LUA_REGISTRYINDEX, "chansim.ctx_keys");
        }
        lua_pushvalue(L, idx);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        return lua_topointer(L, idx);
    }
}

static int l_with_value(lua_State *L)
{
    ctx_t *p = lsim_checkctx(L, 1);
    const void *k = ctx_key(L, 2);
    luaL_checkany(L, 3);
    lua_pushvalue(L, 3);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX); /* lives for the run */
    lsim_pushctx(L, ctx_with_value(p, k, (void *)(intptr_t)(ref + 1)));
    return 1;
}

/* WithDeadlineCause(parent, t, cause), WithTimeoutCause(parent, d, cause) */
static int l_with_deadline_cause(lua_State *L)
{
    ctx_t *p = lsim_checkctx(L, 1);
    simtime_t t = lsim_checkduration(L, 2);
    const char *cause = luaL_checkstring(L, 3);
    return push_with_cancel(L, ctx_with_deadline_cause(p, t, go_errorf("%s", cause)));
}

static int l_with_timeout_cause(lua_State *L)
{
    ctx_t *p = lsim_checkctx(L, 1);
    simtime_t d = lsim_checkduration(L, 2);
    const char *cause = luaL_checkstring(L, 3);
    return push_with_cancel(L, ctx_with_timeout_cause(p, d, go_errorf("%s", cause)));
}

/* context.Cause(c) */
static int l_cause(lua_State *L)
{
    const go_error_t *e = ctx_cause(lsim_checkctx(L, 1));
    if (e)
        lua_pushstring(L, go_error_msg(e));
    else
        lua_pushnil(L);
    return 1;
}

/* context.AfterFunc(c, f) -> stop: f runs in its own goroutine once c is
 * done; stop() is true if it kept f from starting. */
typedef struct ctx_after_fn {
    lua_State *M; /* the main state */
    int ref;      /* the function */
} ctx_after_fn_t;

static void ctx_after_entry(void *arg)
{
    ctx_after_fn_t *a = arg;
    free(lsim_call_ref(a->M, a->ref, NULL, NULL));
}

static int after_stop(lua_State *L)
{
    lua_pushboolean(L, ctx_after_stop(lua_touserdata(L, lua_upvalueindex(1))));
    return 1;
}

static int l_after_func(lua_State *L)
{
    ctx_t *c = lsim_checkctx(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    ctx_after_fn_t *a = lua_newuserdatauv(L, sizeof *a, 0);
    a->M = host_lua(host_of(L));
    lua_pushvalue(L, 2);
    a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_ref(L, LUA_REGISTRYINDEX); /* pins a for the run */
    lua_pushlightuserdata(L, ctx_after_func(c, ctx_after_entry, a));
    lua_pushcclosure(L, after_stop, 1);
    return 1;
}

static int l_without_cancel(lua_State *L)
{
    lsim_pushctx(L, ctx_without_cancel(lsim_checkctx(L, 1)));
    return 1;
}

static int c_done(lua_State *L)
{
    lsim_pushchan(L, ctx_done(lsim_checkctx(L, 1)));
    return 1;
}

static int c_err(lua_State *L)
{
    const go_error_t *e = ctx_err(lsim_checkctx(L, 1));
    if (e)
        lua_pushstring(L, go_error_msg(e));
    else
        lua_pushnil(L);
    return 1;
}

static int c_cause(lua_State *L)
{
    const go_error_t *e = ctx_cause(lsim_checkctx(L, 1));
    if (e)
        lua_pushstring(L, go_error_msg(e));
    else
        lua_pushnil(L);
    return 1;
}

static int c_deadline(lua_State *L)
{
    simtime_t d;
    if (!ctx_deadline(lsim_checkctx(L, 1), &d))
        return 0;
    lua_pushinteger(L, d);
    return 1;
}

static int c_value(lua_State *L)
{
    ctx_t *c = lsim_checkctx(L, 1);
    const void *k = ctx_key(L, 2);
    intptr_t v = (intptr_t)ctx_value(c, k);
    if (!v)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)(v - 1));
    return 1;
}

static int c_cancel(lua_State *L)
{
    ctx_cancel(lsim_checkctx(L, 1));
    return 0;
}

static int c_tostring(lua_State *L)
{
    lua_pushstring(L, ctx_string(lsim_checkctx(L, 1)));
    return 1;
}

void lsim_open_ctx(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"done", c_done},   {"err", c_err},       {"cause", c_cause},
        {"deadline", c_deadline}, {"value", c_value}, {"cancel", c_cancel},
        {NULL, NULL},
    };
    static const luaL_Reg meta[] = {{"__tostring", c_tostring}, {NULL, NULL}};
    lsim_createmeta(L, CTX_MT, meta, methods);
    static const luaL_Reg funcs[] = {
        {"background", l_background},       {"todo", l_todo},
        {"with_cancel", l_with_cancel},     {"with_timeout", l_with_timeout},
        {"with_deadline", l_with_deadline}, {"with_value", l_with_value},
        {"without_cancel", l_without_cancel},
        {"with_cancel_cause", l_with_cancel}, /* its cancel takes a cause */
        {"with_deadline_cause", l_with_deadline_cause},
        {"with_timeout_cause", l_with_timeout_cause},
        {"cause", l_cause},                 {"after_func", l_after_func},
        {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, t, "context");
}
