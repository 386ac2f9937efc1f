/* lsim_kit: the bindings' toolkit (options, userdata, metatables, errors,
 * C calling Lua, scenario errors). See lsim_kit.h. */
#include "lsim_kit.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "host_bind.h"
#include "invariant.h"
#include "lsim.h"
#include "lsim_ctx.h"

/* ---- scenario errors ----------------------------------------------------- */

int lsim_scenario_error(lua_State *L, const char *fmt, ...)
{
    char msg[900], at[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    host_where(L, at, sizeof at);
    const char *sep = at[0] ? ": " : "";
    host_t *h = host_of(L);
    if (h) {
        host_usage_fail(h, "%s%s%s", at, sep, msg);
        /* A goroutine parks for good: the run ends (host_usage_fail asked
         * the scheduler to stop) with nothing left that could recover the
         * error. A check between steps cannot park: it fails instead. */
        if (go_self() && !host_in_check(L))
            sched_park(WAIT_EXTERNAL, 0);
    }
    lua_pushfstring(L, "%s%s%s", at, sep, msg);
    return lua_error(L);
}

/* ---- options ------------------------------------------------------------- */

const char *lsim_shown(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return lua_pushfstring(L, "\"%s\"", lua_tostring(L, idx));
    return lsim_tolstring(L, idx, NULL);
}

static bool in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Push "a, b, c". */
static const char *push_list(lua_State *L, const char *const *list)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; list[i]; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, list[i]);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Every key of the table not in known, sorted by its shown text, in one
 * error; lua_next's order never reaches the message. */
static void reject_unknown(const lsim_opts_t *o)
{
    lua_State *L = o->L;
    int list = 0, n = 0;
    lua_pushnil(L);
    while (lua_next(L, o->idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && in_list(o->known, lua_tostring(L, -1)))
            continue;
        if (!list) {
            lua_newtable(L);
            lua_insert(L, -2);
            list = lua_absindex(L, -2);
        }
        lsim_shown(L, -1);
        lua_rawseti(L, list, ++n);
    }
    if (!n)
        return;
    const char **v = lua_newuserdatauv(L, (size_t)n * sizeof *v, 0);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, list, i + 1);
        v[i] = lua_tostring(L, -1); /* anchored in list */
        lua_pop(L, 1);
    }
    qsort(v, (size_t)n, sizeof *v, by_bytes);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < n; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, v[i]);
    }
    luaL_pushresult(&b);
    const char *keys = lua_tostring(L, -1);
    const char *known = push_list(L, o->known);
    lsim_scenario_error(L, "%s: unknown option%s %s (known: %s)", o->fn, n > 1 ? "s" : "", keys, known);
}

static lsim_opts_t start(lua_State *L, int idx, const char *fn, const char *const *known, bool optional)
{
    lsim_opts_t o = {L, 0, fn, known};
    if (optional && lua_isnoneornil(L, idx))
        return o;
    if (lua_type(L, idx) != LUA_TTABLE) {
        lsim_scenario_error(L, "%s: options must be a table (got %s)", fn,
                            lua_isnone(L, idx) ? "nothing" : lsim_shown(L, idx));
    }
    o.idx = lua_absindex(L, idx);
    reject_unknown(&o);
    return o;
}

lsim_opts_t lsim_opts(lua_State *L, int idx, const char *fn, const char *const *known)
{
    return start(L, idx, fn, known, false);
}

lsim_opts_t lsim_opts_opt(lua_State *L, int idx, const char *fn, const char *const *known)
{
    return start(L, idx, fn, known, true);
}

int lsim_opt_push(const lsim_opts_t *o, const char *key)
{
    ASSERTF(in_list(o->known, key), "%s reads option \"%s\", which it does not declare", o->fn, key);
    if (!o->idx) {
        lua_pushnil(o->L);
        return LUA_TNIL;
    }
    return lua_getfield(o->L, o->idx, key);
}

bool lsim_opt_has(const lsim_opts_t *o, const char *key)
{
    bool has = lsim_opt_push(o, key) != LUA_TNIL;
    lua_pop(o->L, 1);
    return has;
}

int lsim_opt_fail(const lsim_opts_t *o, const char *key, int vidx, const char *want)
{
    vidx = lua_absindex(o->L, vidx);
    return lsim_scenario_error(o->L, "%s: %s must be %s (got %s)", o->fn, key, want, lsim_shown(o->L, vidx));
}

int lsim_opts_error(const lsim_opts_t *o, const char *fmt, ...)
{
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lsim_scenario_error(o->L, "%s: %s", o->fn, msg);
}

lua_Integer lsim_opt_int(const lsim_opts_t *o, const char *key, lua_Integer def, lua_Integer lo,
                         lua_Integer hi)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    int exact = 0;
    lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &exact) : 0;
    if (!exact || v < lo || v > hi) {
        const char *want = hi == LUA_MAXINTEGER ? lua_pushfstring(L, "an integer of at least %I", lo)
                                                : lua_pushfstring(L, "an integer from %I to %I", lo, hi);
        lsim_opt_fail(o, key, -2, want);
    }
    lua_pop(L, 1);
    return v;
}

lua_Number lsim_opt_num(const lsim_opts_t *o, const char *key, lua_Number def, lua_Number lo,
                        lua_Number hi)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    lua_Number v = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(v >= lo && v <= hi)) {
        char want[96];
        snprintf(want, sizeof want, "a number from %.14g to %.14g", (double)lo, (double)hi);
        lsim_opt_fail(o, key, -1, want);
    }
    lua_pop(L, 1);
    return v;
}

simtime_t lsim_opt_durval(const lsim_opts_t *o, const char *key, int vidx)
{
    lua_State *L = o->L;
    vidx = lua_absindex(L, vidx);
    int64_t v = 0;
    char err[256];
    if (lua_isinteger(L, vidx))
        v = lua_tointeger(L, vidx);
    else if (lua_type(L, vidx) != LUA_TSTRING || !dur_parse(lua_tostring(L, vidx), &v, err, sizeof err))
        lsim_opt_fail(o, key, vidx, "a duration such as \"250ms\" or integer nanoseconds");
    return v;
}

simtime_t lsim_opt_dur(const lsim_opts_t *o, const char *key, simtime_t def, simtime_t lo, simtime_t hi)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    int64_t v = lsim_opt_durval(o, key, -1);
    if (v < lo || v > hi) {
        char a[48], b[48];
        const char *want = hi == INT64_MAX ? lua_pushfstring(L, "at least %s", dur_format(lo, a, sizeof a))
                                           : lua_pushfstring(L, "from %s to %s", dur_format(lo, a, sizeof a),
                                                             dur_format(hi, b, sizeof b));
        lsim_opt_fail(o, key, -2, want);
    }
    lua_pop(L, 1);
    return v;
}

bool lsim_opt_bool(const lsim_opts_t *o, const char *key, bool def)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, key);
    bool v = def;
    if (t != LUA_TNIL) {
        if (t != LUA_TBOOLEAN)
            lsim_opt_fail(o, key, -1, "true or false");
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

const char *lsim_opt_str(const lsim_opts_t *o, const char *key, const char *def)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, key);
    const char *v = def;
    if (t != LUA_TNIL) {
        if (t != LUA_TSTRING)
            lsim_opt_fail(o, key, -1, "a string");
        v = lua_tostring(L, -1); /* anchored in the options table */
    }
    lua_pop(L, 1);
    return v;
}

int lsim_opt_enum(const lsim_opts_t *o, const char *key, const char *const *choices, int def)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, key);
    int v = def;
    if (t != LUA_TNIL) {
        const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
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
            lsim_opt_fail(o, key, -2, lua_tostring(L, -1));
        }
    }
    lua_pop(L, 1);
    return v;
}

bool lsim_opt_seed_variant(const lsim_opts_t *o)
{
    static const char *const variants[] = {"corrected", "seed", NULL};
    return lsim_opt_enum(o, "variant", variants, 0) == 1;
}

int lsim_opt_func(const lsim_opts_t *o, const char *key)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    if (t != LUA_TFUNCTION)
        lsim_opt_fail(o, key, -1, "a function");
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

ctx_t *lsim_opt_ctx(const lsim_opts_t *o, const char *key)
{
    lua_State *L = o->L;
    ctx_t *c = NULL;
    if (lsim_opt_push(o, key) != LUA_TNIL) {
        if (!luaL_testudata(L, -1, "chansim.context"))
            lsim_opt_fail(o, key, -1, "a sim.context");
        c = lsim_checkctx(L, -1);
    }
    lua_pop(L, 1);
    return c;
}

/* ---- userdata and metatables --------------------------------------------- */

void *lsim_newudata(lua_State *L, size_t size, const char *mt, int nuv)
{
    void *u = lua_newuserdatauv(L, size, nuv);
    luaL_setmetatable(L, mt);
    return u;
}

void lsim_pushbox(lua_State *L, void *p, const char *mt, int keep_idx)
{
    if (keep_idx)
        keep_idx = lua_absindex(L, keep_idx);
    *(void **)lsim_newudata(L, sizeof p, mt, 1) = p;
    if (keep_idx) {
        lua_pushvalue(L, keep_idx);
        lua_setiuservalue(L, -2, 1);
    }
}

/* luaL_checkudata finds the metatable by name, a string lookup in the
 * registry on every method call. This cache remembers, per metatable name
 * (by the address of its string), the address of the metatable last seen,
 * so a check is one pointer comparison. A metatable lives as long as its
 * state, and every metatable is made by lsim_createmeta, which moves the
 * generation on: an entry filled before a state was made (or another
 * state's) is never trusted for it. */
static unsigned meta_gen = 1;
static struct {
    const char *name;
    const void *meta;
    unsigned gen;
} meta_cache[64];

void *lsim_checkudata(lua_State *L, int idx, const char *mt)
{
    unsigned slot = (unsigned)(((uintptr_t)mt >> 3) & 63);
    void *p = lua_touserdata(L, idx);
    if (p && meta_cache[slot].name == mt && meta_cache[slot].gen == meta_gen &&
        lua_getmetatable(L, idx)) {
        bool same = lua_topointer(L, -1) == meta_cache[slot].meta;
        lua_pop(L, 1);
        if (same)
            return p;
    }
    p = luaL_checkudata(L, idx, mt); /* raises Lua's own message on a mismatch */
    lua_getmetatable(L, idx);
    meta_cache[slot].name = mt;
    meta_cache[slot].meta = lua_topointer(L, -1);
    meta_cache[slot].gen = meta_gen;
    lua_pop(L, 1);
    return p;
}

void *lsim_checkbox(lua_State *L, int idx, const char *mt)
{
    return *(void **)lsim_checkudata(L, idx, mt);
}

static int readonly_meta(lua_State *L)
{
    return luaL_error(L, "the metatable of a sim object is read-only (cannot set \"%s\")",
                      luaL_optstring(L, 2, "?"));
}

void lsim_createmeta(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    meta_gen++;
    int mt = lua_gettop(L);
    if (meta)
        luaL_setfuncs(L, meta, 0);
    if (methods) {
        int n = 0;
        while (methods[n].name)
            n++;
        lua_createtable(L, 0, n);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, mt, "__index");
    }
    /* getmetatable(obj) gives a read-only view: a scenario could otherwise
     * add a __gc to it, which every object made after would carry. */
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, mt);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_meta);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setfield(L, mt, "__metatable");
    lua_settop(L, mt - 1);
}

/* ---- errors -------------------------------------------------------------- */

int lsim_push_error(lua_State *L, const go_error_t *err)
{
    lua_pushnil(L);
    lua_pushstring(L, go_error_msg(err));
    return 2;
}

static const char goexit_key = 0;

void lsim_push_goexit(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&goexit_key);
}

bool lsim_is_goexit(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &goexit_key;
}

int lsim_go_panic(lua_State *L, const char *msg)
{
    lua_pushstring(L, msg);
    return lua_error(L);
}

const go_error_t *lsim_go_error(const char *msg)
{
    if (strcmp(msg, GO_ERR_DEADLINE_EXCEEDED.msg) == 0)
        return &GO_ERR_DEADLINE_EXCEEDED;
    if (strcmp(msg, GO_ERR_CANCELED.msg) == 0)
        return &GO_ERR_CANCELED;
    return go_errorf("%s", msg);
}

const go_error_t *lsim_to_go_error(lua_State *L, int idx)
{
    const go_error_t *err = lsim_go_error(lsim_tolstring(L, idx, NULL));
    lua_pop(L, 1);
    return err;
}

/* ---- the patterns' lines ------------------------------------------------- */

static int format_line(char *buf, size_t size, const char *who, const char *text)
{
    simtime_t t = sched_now();
    int n = snprintf(buf, size, "[%lld.%06llds] %s: %s\n", (long long)(t / SIM_SEC),
                     (long long)(t % SIM_SEC / 1000), who, text);
    if (n >= (int)size) {
        n = (int)size - 1;
        buf[n - 1] = '\n';
    }
    return n;
}

void lsim_print_line(host_t *h, const char *who, const char *text)
{
    char buf[640];
    int n = format_line(buf, sizeof buf, who, text);
    if (n > 0)
        host_print(h, buf, (size_t)n);
}

void lsim_log_line(host_t *h, const char *who, const char *text)
{
    char buf[640];
    int n = format_line(buf, sizeof buf, who, text);
    if (n <= 0)
        return;
    host_print(h, buf, (size_t)n);
    sched_emit(EV_LOG, 0, 0, 0, buf);
}

/* ---- C calling Lua ------------------------------------------------------- */

int lsim_pcall(lua_State *L, int nargs, int nresults)
{
    /* The host keeps, in the extra space of every Lua thread a goroutine
     * runs (and of a coroutine while that goroutine resumes it), the record
     * it also gives the goroutine as its userdata. */
    g_t *g = go_self();
    ASSERTF(g && go_userdata(g) && *(void **)lua_getextraspace(L) == go_userdata(g),
            "a Lua callback on a thread that the running goroutine does not run");
    int rc = lua_pcall(L, nargs, nresults, 0);
    host_oom_check(L);
    return rc;
}

int lsim_pack_call(lua_State *L, int first)
{
    first = lua_absindex(L, first);
    luaL_checktype(L, first, LUA_TFUNCTION);
    int n = lua_gettop(L) - first + 1;
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushvalue(L, first + i);
        lua_rawseti(L, -2, i + 1);
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

char *lsim_call_packed(lua_State *L, int packed_ref)
{
    return host_run_here(L, packed_ref);
}

char *lsim_call_ref(lua_State *L, int fn_ref, void (*push)(void *ud, lua_State *M), void *ud)
{
    lua_State *M = host_lua(host_of(L));
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
