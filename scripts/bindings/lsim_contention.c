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

static int l_contention_test(lua_State *L)
{
    static const char *const keys[] = {"rwmutex", "readers", "writers", "duration", "variant", "ctx", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.contention_test", keys);
    lsim_need_goroutine(L, "sim.contention_test");
    bool rw = lsim_opt_bool(&o, "rwmutex", false);
    simtime_t d = lsim_opt_dur(&o, "duration", 5 * SIM_SEC, 1, INT64_MAX);
    bool seed = lsim_opt_seed_variant(&o);
    ctx_t *ctx = lsim_opt_ctx(&o, "ctx");
    if (!ctx)
        ctx = ctx_background();
    int readers = (int)lsim_opt_int(&o, "readers", 5, 0, 100000);
    int writers = (int)lsim_opt_int(&o, "writers", 5, 0, 100000);
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
