/*
 * lsim_bounded: the seed's BoundedExecutor for scenarios, its
 * simulateOperation, and its main.
 *
 *   local ex = sim.bounded_executor{ max_concurrent = 5, timeout = "500ms" }
 *   local v, err = ex:execute(function() return sim.simulate_operation(7) end)
 *
 *   local r = sim.bounded_concurrency{}     -- the seed's main: 50 operations
 *   print(r.total, r.successful, r.rejected, r.failed)
 *
 * sim.bounded_executor{ max_concurrent = 5, timeout = "500ms", name } ->
 * executor; ex:execute(fn [, ctx]) waits up to timeout for a slot (nil,
 * "operation rejected: context deadline exceeded" if none came), then
 * calls fn() holding the slot and returns what fn returns; ex:stats() ->
 * { capacity, in_use, in_use_max, waiting, executed, rejected }.
 *
 * sim.simulate_operation(id [, {latency_min = "50ms", latency_max =
 * "250ms", fail_pct = 10}]) -> "Result from operation <id>" or nil,
 * "operation <id> failed", after a latency of whole milliseconds in [min,
 * max).
 *
 * sim.bounded_concurrency{ operations = 50, interval = "50ms",
 * max_concurrent = 5, timeout = "500ms", ctx_timeout = "5s", latency_min =
 * "50ms", latency_max = "250ms", fail_pct = 10, print = true } -> { total,
 * successful, rejected, failed, in_use_max, elapsed, operations = { {id,
 * outcome = "succeeded"|"rejected"|"failed", start, finish, message}, ...
 * } }.
 */
#include <string.h>

#include <lauxlib.h>

#include "bounded.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "lsim_flow.h"

#define EX_MT "chansim.bounded_executor"

typedef struct lexec {
    bounded_executor_t *e; /* scheduler-owned */
} lexec_t;

static bounded_executor_t *check_exec(lua_State *L, int idx)
{
    return ((lexec_t *)luaL_checkudata(L, idx, EX_MT))->e;
}

static int l_bounded_executor(lua_State *L)
{
    static const char *const known[] = {"max_concurrent", "timeout", "name", NULL};
    const char *fn = "sim.bounded_executor";
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    lflow_check_keys(L, 1, fn, known);
    int64_t max = lflow_int(L, 1, fn, "max_concurrent", 5, 1, 1000000);
    simtime_t timeout = lflow_dur(L, 1, fn, "timeout", 500 * SIM_MS, 1, 3600 * SIM_SEC);
    lua_getfield(L, 1, "name");
    const char *name = luaL_optstring(L, -1, NULL);
    lexec_t *u = lua_newuserdatauv(L, sizeof *u, 0);
    luaL_setmetatable(L, EX_MT);
    u->e = bounded_executor_new(max, timeout, name);
    return 1;
}

static int ex_execute(lua_State *L)
{
    bounded_executor_t *e = check_exec(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    ctx_t *ctx = lua_isnoneornil(L, 3) ? ctx_background() : lsim_checkctx(L, 3);
    lsim_need_goroutine(L, "ex:execute");
    lua_settop(L, 2);
    ctx_t *exec_ctx;
    const go_error_t *err = bounded_executor_acquire(e, ctx, &exec_ctx);
    if (err) {
        lua_pushnil(L);
        lua_pushstring(L, go_error_msg(err));
        return 2;
    }
    /* Execute the function, releasing the slot however it ends. */
    int rc = lua_pcall(L, 0, LUA_MULTRET, 0);
    bounded_executor_release(e, exec_ctx);
    if (rc != LUA_OK)
        return lua_error(L);
    return lua_gettop(L) - 1;
}

static int ex_stats(lua_State *L)
{
    bounded_executor_t *e = check_exec(L, 1);
    lua_createtable(L, 0, 6);
    lflow_set_int(L, "capacity", e->max_concurrent);
    lflow_set_int(L, "in_use", e->in_use);
    lflow_set_int(L, "in_use_max", e->in_use_max);
    lflow_set_int(L, "waiting", e->waiting);
    lflow_set_int(L, "executed", e->executed);
    lflow_set_int(L, "rejected", e->rejected);
    return 1;
}

static int ex_tostring(lua_State *L)
{
    bounded_executor_t *e = check_exec(L, 1);
    lua_pushfstring(L, "bounded_executor(%d of %d in use)", (int)e->in_use, (int)e->max_concurrent);
    return 1;
}

static void read_latency(lua_State *L, int idx, const char *fn, simtime_t *min, simtime_t *span)
{
    simtime_t lo = lflow_dur(L, idx, fn, "latency_min", 50 * SIM_MS, 0, 3600 * SIM_SEC);
    simtime_t hi = lflow_dur(L, idx, fn, "latency_max", lo + 200 * SIM_MS, 0, 3600 * SIM_SEC);
    if (hi < lo)
        luaL_error(L, "%s: latency_max must not be less than latency_min", fn);
    *min = lo;
    *span = hi - lo;
}

static int l_simulate_operation(lua_State *L)
{
    const char *fn = "sim.simulate_operation";
    static const char *const known[] = {"latency_min", "latency_max", "fail_pct", NULL};
    bounded_operation_t op = {.id = luaL_checkinteger(L, 1), .fail_pct = 10};
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    lflow_check_keys(L, 2, fn, known);
    read_latency(L, 2, fn, &op.latency_min, &op.latency_span);
    op.fail_pct = (int)lflow_int(L, 2, fn, "fail_pct", 10, 0, 100);
    lsim_need_goroutine(L, fn);
    char result[64];
    const go_error_t *err = bounded_simulate_operation(&op, result);
    if (err) {
        lua_pushnil(L);
        lua_pushstring(L, go_error_msg(err));
        return 2;
    }
    lua_pushstring(L, result);
    return 1;
}

static int l_bounded_concurrency(lua_State *L)
{
    const char *fn = "sim.bounded_concurrency";
    static const char *const known[] = {"operations", "interval", "max_concurrent", "timeout", "ctx_timeout",
                                        "latency_min", "latency_max", "fail_pct", "print", NULL};
    static const char *const outcomes[] = {"succeeded", "rejected", "failed"};
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    lflow_check_keys(L, 1, fn, known);
    bounded_demo_config_t cfg = bounded_demo_config_default();
    cfg.operations = lflow_int(L, 1, fn, "operations", cfg.operations, 0, 1000000);
    cfg.interval = lflow_dur(L, 1, fn, "interval", cfg.interval, 0, 3600 * SIM_SEC);
    cfg.max_concurrent = lflow_int(L, 1, fn, "max_concurrent", cfg.max_concurrent, 1, 1000000);
    cfg.timeout = lflow_dur(L, 1, fn, "timeout", cfg.timeout, 1, 3600 * SIM_SEC);
    cfg.ctx_timeout = lflow_dur(L, 1, fn, "ctx_timeout", cfg.ctx_timeout, 1, SIMTIME_MAX / 2);
    read_latency(L, 1, fn, &cfg.latency_min, &cfg.latency_span);
    cfg.fail_pct = (int)lflow_int(L, 1, fn, "fail_pct", cfg.fail_pct, 0, 100);
    cfg.print = lflow_bool(L, 1, fn, "print", true);
    cfg.out = lflow_out(L, cfg.print);
    lsim_need_goroutine(L, fn);
    bounded_op_record_t *rec = lua_newuserdatauv(L, (size_t)(cfg.operations ? cfg.operations : 1) * sizeof *rec, 0);
    memset(rec, 0, (size_t)(cfg.operations ? cfg.operations : 1) * sizeof *rec);
    bounded_demo_stats_t st;
    bounded_concurrency_main(&cfg, &st, rec);
    lua_createtable(L, 0, 8);
    lflow_set_int(L, "total", st.total);
    lflow_set_int(L, "successful", st.successful);
    lflow_set_int(L, "rejected", st.rejected);
    lflow_set_int(L, "failed", st.failed);
    lflow_set_int(L, "in_use_max", st.in_use_max);
    lflow_set_int(L, "elapsed", st.elapsed);
    lua_createtable(L, (int)cfg.operations, 0);
    for (int64_t i = 0; i < cfg.operations; i++) {
        lua_createtable(L, 0, 5);
        lflow_set_int(L, "id", rec[i].id);
        lflow_set_str(L, "outcome", outcomes[rec[i].outcome]);
        lflow_set_int(L, "start", rec[i].start);
        lflow_set_int(L, "finish", rec[i].end);
        lflow_set_str(L, "message", rec[i].msg);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "operations");
    return 1;
}

void lsim_open_bounded(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {{"execute", ex_execute}, {"stats", ex_stats}, {NULL, NULL}};
    luaL_newmetatable(L, EX_MT);
    luaL_newlibtable(L, methods);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ex_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_bounded_executor);
    lua_setfield(L, t, "bounded_executor");
    lua_pushcfunction(L, l_simulate_operation);
    lua_setfield(L, t, "simulate_operation");
    lua_pushcfunction(L, l_bounded_concurrency);
    lua_setfield(L, t, "bounded_concurrency");
}
