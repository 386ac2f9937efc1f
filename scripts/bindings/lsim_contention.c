/*
 * lsim_contention: sim.contention_test{...}, the seed's runContentionTest.
 *
 *   local st = sim.contention_test{ rwmutex = true, readers = 50, writers = 5,
 *                                   duration = "5s", variant = "corrected" }
 *   print(st.access_count, st.lock_wait_ns)
 */
#include <string.h>

#include <lauxlib.h>

#include "contention.h"
#include "lsim.h"
#include "lsim_ctx.h"

static int opt_int(lua_State *L, const char *key, int def, int lo, int hi)
{
    lua_getfield(L, 1, key);
    int v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
            return luaL_error(L, "sim.contention_test: %s must be an integer from %d to %d", key, lo, hi);
        v = (int)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int l_contention_test(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lsim_need_goroutine(L, "sim.contention_test");
    lua_getfield(L, 1, "rwmutex");
    bool rw = lua_toboolean(L, -1);
    lua_getfield(L, 1, "duration");
    simtime_t d = lsim_optduration(L, -1, 5 * SIM_SEC);
    lua_getfield(L, 1, "variant");
    const char *variant = luaL_optstring(L, -1, "corrected");
    if (strcmp(variant, "corrected") != 0 && strcmp(variant, "seed") != 0)
        return luaL_error(L, "sim.contention_test: variant must be \"corrected\" or \"seed\"");
    bool seed = strcmp(variant, "seed") == 0;
    lua_getfield(L, 1, "ctx");
    ctx_t *ctx = lua_isnil(L, -1) ? ctx_background() : lsim_checkctx(L, -1);
    lua_pop(L, 4);
    if (d <= 0)
        return luaL_error(L, "sim.contention_test: duration must be positive");
    int readers = opt_int(L, "readers", 5, 0, 100000);
    int writers = opt_int(L, "writers", 5, 0, 100000);
    contention_stats_t st = contention_run_test(ctx, rw, readers, writers, d, seed);
    lua_createtable(L, 0, 16);
    lua_pushboolean(L, st.use_rwmutex);
    lua_setfield(L, -2, "rwmutex");
    lsim_set_int(L, "readers", st.readers);
    lsim_set_int(L, "writers", st.writers);
    lsim_set_int(L, "final_value", st.final_value);
    lsim_set_int(L, "access_count", st.access_count);
    lsim_set_int(L, "reads", st.reads);
    lsim_set_int(L, "writes", st.writes);
    lsim_set_int(L, "duration_ns", st.duration);
    lsim_set_int(L, "lock_contended", (lua_Integer)st.lock_contended);
    lsim_set_int(L, "lock_wait_ns", st.lock_wait_ns);
    lsim_set_int(L, "log_contended", (lua_Integer)st.log_contended);
    lsim_set_int(L, "log_wait_ns", st.log_wait_ns);
    lsim_set_int(L, "read_wait_max_ns", st.read_wait_max_ns);
    lsim_set_int(L, "write_wait_max_ns", st.write_wait_max_ns);
    lsim_set_int(L, "goroutines_after", (lua_Integer)st.goroutines_after);
    return 1;
}

void lsim_open_contention(lua_State *L, int t)
{
    lua_pushcfunction(L, l_contention_test);
    lua_setfield(L, t, "contention_test");
}
