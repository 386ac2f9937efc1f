/*
 * lsim_resilience: small helpers shared by the bindings of the worker
 * pool, the circuit breaker, graceful shutdown and the leak detector
 * (scripts/lsim_worker_pool.c, lsim_breaker.c, lsim_shutdown.c,
 * lsim_leak_detector.c): option tables checked with clear errors, the
 * patterns' own log lines, and Lua callbacks run from C goroutines.
 *
 * Option errors are raised with luaL_error at level 1 so the message
 * carries the scenario's file:line of the constructor call.
 */
#ifndef CHANSIM_LSIM_RESILIENCE_H
#define CHANSIM_LSIM_RESILIENCE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "duration.h"
#include "host_bind.h"
#include "lsim.h"

/* Raise an error naming the first key of options table idx (in byte
 * order, so the message is the same on every run) that is not in known. */
static inline void lres_check_keys(lua_State *L, int idx, const char *ctor, const char *const *known)
{
    const char *bad = NULL;
    char badbuf[64];
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            luaL_error(L, "%s: option keys must be names", ctor);
            return;
        }
        const char *k = lua_tostring(L, -1);
        bool ok = false;
        for (const char *const *p = known; *p; p++)
            if (strcmp(*p, k) == 0)
                ok = true;
        if (!ok && (!bad || strcmp(k, bad) < 0)) {
            snprintf(badbuf, sizeof badbuf, "%s", k);
            bad = badbuf;
        }
    }
    if (bad) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (const char *const *p = known; *p; p++) {
            if (p != known)
                luaL_addstring(&b, ", ");
            luaL_addstring(&b, *p);
        }
        luaL_pushresult(&b);
        luaL_error(L, "%s: unknown option \"%s\" (known: %s)", ctor, bad, lua_tostring(L, -1));
    }
}

/* An integer option in [lo, hi], or def if absent. */
static inline lua_Integer lres_int(lua_State *L, int idx, const char *ctor, const char *key,
                                   lua_Integer def, lua_Integer lo, lua_Integer hi)
{
    lua_getfield(L, idx, key);
    lua_Integer v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1))
            luaL_error(L, "%s: %s must be an integer, got %s", ctor, key, luaL_typename(L, -1));
        v = lua_tointeger(L, -1);
        if (v < lo || v > hi)
            luaL_error(L, "%s: %s must be from %I to %I, got %I", ctor, key, lo, hi, v);
    }
    lua_pop(L, 1);
    return v;
}

/* A number option in [lo, hi], or def if absent. */
static inline double lres_num(lua_State *L, int idx, const char *ctor, const char *key, double def,
                              double lo, double hi)
{
    lua_getfield(L, idx, key);
    double v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "%s: %s must be a number, got %s", ctor, key, luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
        if (!(v >= lo && v <= hi))
            luaL_error(L, "%s: %s must be from %f to %f, got %f", ctor, key, lo, hi, v);
    }
    lua_pop(L, 1);
    return v;
}

/* A duration option (Go syntax or integer ns) >= min, or def if absent. */
static inline simtime_t lres_duration(lua_State *L, int idx, const char *ctor, const char *key,
                                      simtime_t def, simtime_t min)
{
    lua_getfield(L, idx, key);
    simtime_t v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING && !lua_isinteger(L, -1))
            luaL_error(L, "%s: %s must be a duration such as \"500ms\", got %s", ctor, key,
                       luaL_typename(L, -1));
        v = lsim_checkduration(L, -1);
        if (v < min) {
            char a[48], b[48];
            luaL_error(L, "%s: %s must be at least %s, got %s", ctor, key, dur_format(min, a, sizeof a),
                       dur_format(v, b, sizeof b));
        }
    }
    lua_pop(L, 1);
    return v;
}

/* A boolean option, or def if absent. */
static inline bool lres_bool(lua_State *L, int idx, const char *ctor, const char *key, bool def)
{
    lua_getfield(L, idx, key);
    bool v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1))
            luaL_error(L, "%s: %s must be true or false, got %s", ctor, key, luaL_typename(L, -1));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* variant = "corrected" (default) or "seed": true for the seed's. */
static inline bool lres_seed_variant(lua_State *L, int idx, const char *ctor)
{
    lua_getfield(L, idx, "variant");
    bool seed = false;
    if (!lua_isnil(L, -1)) {
        const char *v = lua_tostring(L, -1);
        if (!v || (strcmp(v, "seed") != 0 && strcmp(v, "corrected") != 0))
            luaL_error(L, "%s: variant must be \"corrected\" or \"seed\"", ctor);
        seed = strcmp(v, "seed") == 0;
    }
    lua_pop(L, 1);
    return seed;
}

/* A string option, or def if absent. The string stays valid while the
 * options table lives; copy it if kept. */
static inline const char *lres_string(lua_State *L, int idx, const char *ctor, const char *key,
                                      const char *def)
{
    lua_getfield(L, idx, key);
    const char *v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: %s must be a string, got %s", ctor, key, luaL_typename(L, -1));
        v = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* A function option: a registry reference (in the main state's registry,
 * shared by every thread), or LUA_NOREF if absent. */
static inline int lres_func(lua_State *L, int idx, const char *ctor, const char *key)
{
    lua_getfield(L, idx, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    if (!lua_isfunction(L, -1))
        luaL_error(L, "%s: %s must be a function, got %s", ctor, key, luaL_typename(L, -1));
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* A pattern's log line, printed as sim.log prints ("[1.500000s] who:
 * text") and recorded as an EV_LOG event. */
static inline void lres_log(host_t *h, const char *who, const char *line)
{
    simtime_t t = sched_now();
    char buf[640];
    int n = snprintf(buf, sizeof buf, "[%lld.%06llds] %s: %s\n", (long long)(t / SIM_SEC),
                     (long long)(t % SIM_SEC / 1000), who, line);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    host_print(h, buf, (size_t)n);
    sched_emit(EV_LOG, 0, 0, 0, buf);
}

/* Call the Lua function fn_ref with the values pushed by push(ud, M) as
 * its arguments, in the running goroutine (C or Lua), on a fresh Lua
 * thread of the main state. Returns the first result as a string the
 * caller frees, or NULL for nil. A Lua error panics the program, as an
 * error in any goroutine does. */
static inline char *lres_call(host_t *h, int fn_ref, void (*push)(void *ud, lua_State *M), void *ud)
{
    lua_State *M = host_lua(h);
    int base = lua_gettop(M);
    lua_newtable(M);
    lua_rawgeti(M, LUA_REGISTRYINDEX, fn_ref);
    lua_rawseti(M, base + 1, 1);
    if (push) {
        push(ud, M);
        int n = lua_gettop(M) - (base + 1);
        for (int i = n; i >= 1; i--)
            lua_rawseti(M, base + 1, i + 1);
    }
    int ref = luaL_ref(M, LUA_REGISTRYINDEX);
    return host_run_here(M, ref);
}

#endif
