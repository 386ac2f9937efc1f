/* lsim_flow: options and printing for the flow patterns' bindings. See lsim_flow.h. */
#include "lsim_flow.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "duration.h"
#include "host_bind.h"
#include "lsim.h"
#include "lsim_ctx.h"

/* The value at idx as an error message shows it: strings quoted. Pushes it. */
static const char *shown(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return lua_pushfstring(L, "\"%s\"", lua_tostring(L, idx));
    return lsim_tolstring(L, idx, NULL);
}

void lflow_check_keys(lua_State *L, int idx, const char *fn, const char *const *known)
{
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        bool ok = false;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; known[i] && !ok; i++)
                ok = strcmp(lua_tostring(L, -1), known[i]) == 0;
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; known[i]; i++) {
                if (i)
                    luaL_addstring(&b, ", ");
                luaL_addstring(&b, known[i]);
            }
            luaL_pushresult(&b);
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
            luaL_error(L, "%s: unknown option \"%s\" (known: %s)", fn, k, lua_tostring(L, -1));
        }
    }
}

lua_Integer lflow_int(lua_State *L, int idx, const char *fn, const char *key, lua_Integer def,
                      lua_Integer lo, lua_Integer hi)
{
    lua_getfield(L, idx, key);
    lua_Integer v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
            luaL_error(L, "%s: %s must be an integer from %I to %I (got %s)", fn, key, lo, hi, shown(L, -1));
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

simtime_t lflow_todur(lua_State *L, int v, const char *fn, const char *what)
{
    if (lua_isinteger(L, v))
        return lua_tointeger(L, v);
    if (lua_type(L, v) == LUA_TSTRING) {
        int64_t d;
        char err[256];
        if (!dur_parse(lua_tostring(L, v), &d, err, sizeof err))
            luaL_error(L, "%s: %s: %s", fn, what, err);
        return d;
    }
    return luaL_error(L, "%s: %s must be a duration such as \"250ms\" or integer nanoseconds (got %s)",
                      fn, what, shown(L, v));
}

simtime_t lflow_dur(lua_State *L, int idx, const char *fn, const char *key, simtime_t def,
                    simtime_t lo, simtime_t hi)
{
    lua_getfield(L, idx, key);
    simtime_t v = def;
    if (!lua_isnil(L, -1)) {
        v = lflow_todur(L, -1, fn, key);
        if (v < lo || v > hi) {
            char a[48], b[48];
            luaL_error(L, "%s: %s must be from %s to %s (got %s)", fn, key, dur_format(lo, a, sizeof a),
                       dur_format(hi, b, sizeof b), shown(L, -1));
        }
    }
    lua_pop(L, 1);
    return v;
}

bool lflow_bool(lua_State *L, int idx, const char *fn, const char *key, bool def)
{
    lua_getfield(L, idx, key);
    bool v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1))
            luaL_error(L, "%s: %s must be true or false (got %s)", fn, key, shown(L, -1));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

int lflow_enum(lua_State *L, int idx, const char *fn, const char *key, const char *const *choices, int def)
{
    lua_getfield(L, idx, key);
    int v = def;
    if (!lua_isnil(L, -1)) {
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        v = -1;
        for (int i = 0; s && choices[i]; i++)
            if (strcmp(s, choices[i]) == 0)
                v = i;
        if (v < 0) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; choices[i]; i++) {
                if (i)
                    luaL_addstring(&b, choices[i + 1] ? ", " : " or ");
                luaL_addchar(&b, '"');
                luaL_addstring(&b, choices[i]);
                luaL_addchar(&b, '"');
            }
            luaL_pushresult(&b);
            const char *want = lua_tostring(L, -1);
            const char *got = shown(L, -2);
            luaL_error(L, "%s: %s must be %s (got %s)", fn, key, want, got);
        }
    }
    lua_pop(L, 1);
    return v;
}

ctx_t *lflow_ctx(lua_State *L, int idx, const char *fn)
{
    lua_getfield(L, idx, "ctx");
    ctx_t *c = NULL;
    if (!lua_isnil(L, -1)) {
        if (!luaL_testudata(L, -1, "chansim.context"))
            luaL_error(L, "%s: ctx must be a sim.context (got %s)", fn, shown(L, -1));
        c = lsim_checkctx(L, -1);
    }
    lua_pop(L, 1);
    return c;
}

static void print_line(void *ud, const char *text)
{
    host_t *h = ud;
    simtime_t t = sched_now();
    g_t *g = go_self();
    char buf[640];
    int n = snprintf(buf, sizeof buf, "[%lld.%06llds] %s: %s\n", (long long)(t / SIM_SEC),
                     (long long)(t % SIM_SEC / 1000), g ? go_name(g) : "sim", text);
    if (n >= (int)sizeof buf) {
        n = (int)sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    host_print(h, buf, (size_t)n);
}

pattern_out_t lflow_out(lua_State *L, bool print)
{
    pattern_out_t o = {NULL, NULL};
    if (print) {
        o.line = print_line;
        o.ud = host_of(L);
    }
    return o;
}

void lflow_set_int(lua_State *L, const char *key, lua_Integer v)
{
    lsim_set_int(L, key, v);
}

void lflow_set_str(lua_State *L, const char *key, const char *v)
{
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    lua_setfield(L, -2, key);
}

void lflow_set_bool(lua_State *L, const char *key, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, key);
}

void lflow_set_num(lua_State *L, const char *key, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}
