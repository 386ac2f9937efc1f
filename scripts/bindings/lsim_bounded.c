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

LSIM_CHECK_UDATA(check_exec, lexec_t, EX_MT)

static int l_bounded_executor(lua_State *L)
{
    static const char *const known[] = {"max_concurrent", "timeout", "name", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 1, "sim.bounded_executor", known);
    int64_t max = lsim_opt_int(&o, "max_concurrent", 5, 1, 1000000);
    simtime_t timeout = lsim_opt_dur(&o, "timeout", 500 * SIM_MS, 1, 3600 * SIM_SEC);
    const char *name = lsim_opt_str(&o, "name", NULL);
    lexec_t *u = lsim_newudata(L, sizeof *u, EX_MT, 0);
    u->e = bounded_executor_create(max, timeout, name);
    return 1;
}

static int ex_execute(lua_State *L)
{
    bounded_executor_t *e = check_exec(L, 1)->e;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    ctx_t *ctx = lua_isnoneornil(L, 3) ? ctx_background() : lsim_checkctx(L, 3);
    lsim_need_goroutine(L, "ex:execute");
    lua_settop(L, 2);
    ctx_t *exec_ctx;
    const go_error_t *err = bounded_executor_acquire(e, ctx, &exec_ctx);
    if (err)
        return lsim_push_error(L, err);
    /* Execute the function, releasing the slot however it ends. */
    int rc = lsim_pcall(L, 0, LUA_MULTRET);
    bounded_executor_release(e, exec_ctx);
    if (rc != LUA_OK)
        return lua_error(L);
    return lua_gettop(L) - 1;
}

static int ex_stats(lua_State *L)
{
    bounded_executor_t *e = check_exec(L, 1)->e;
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
    bounded_executor_t *e = check_exec(L, 1)->e;
    lua_pushfstring(L, "bounded_executor(%d of %d in use)", (int)e->in_use, (int)e->max_concurrent);
    return 1;
}

static void read_latency(const lsim_opts_t *o, simtime_t *min, simtime_t *span)
{
    simtime_t lo = lsim_opt_dur(o, "latency_min", 50 * SIM_MS, 0, 3600 * SIM_SEC);
    simtime_t hi = lsim_opt_dur(o, "latency_max", lo + 200 * SIM_MS, 0, 3600 * SIM_SEC);
    if (hi < lo)
        lsim_opts_error(o, "latency_max must not be less than latency_min");
    *min = lo;
    *span = hi - lo;
}

static int l_simulate_operation(lua_State *L)
{
    const char *fn = "sim.simulate_operation";
    static const char *const known[] = {"latency_min", "latency_max", "fail_pct", NULL};
    bounded_operation_t op = {.id = luaL_checkinteger(L, 1), .fail_pct = 10};
    lsim_opts_t o = lsim_opts_opt(L, 2, fn, known);
    read_latency(&o, &op.latency_min, &op.latency_span);
    op.fail_pct = (int)lsim_opt_int(&o, "fail_pct", 10, 0, 100);
    lsim_need_goroutine(L, fn);
    char result[64];
    const go_error_t *err = bounded_simulate_operation(&op, result);
    if (err)
        return lsim_push_error(L, err);
    lua_pushstring(L, result);
    return 1;
}

static int l_bounded_concurrency(lua_State *L)
{
    const char *fn = "sim.bounded_concurrency";
    static const char *const known[] = {"operations", "interval", "max_concurrent", "timeout", "ctx_timeout",
                                        "latency_min", "latency_max", "fail_pct", "print", NULL};
    static const char *const outcomes[] = {"succeeded", "rejected", "failed"};
    lsim_opts_t o = lsim_opts_opt(L, 1, fn, known);
    bounded_demo_config_t cfg = bounded_demo_config_default();
    cfg.operations = lsim_opt_int(&o, "operations", cfg.operations, 0, 1000000);
    cfg.interval = lsim_opt_dur(&o, "interval", cfg.interval, 0, 3600 * SIM_SEC);
    cfg.max_concurrent = lsim_opt_int(&o, "max_concurrent", cfg.max_concurrent, 1, 1000000);
    cfg.timeout = lsim_opt_dur(&o, "timeout", cfg.timeout, 1, 3600 * SIM_SEC);
    cfg.ctx_timeout = lsim_opt_dur(&o, "ctx_timeout", cfg.ctx_timeout, 1, SIMTIME_MAX / 2);
    read_latency(&o, &cfg.latency_min, &cfg.latency_span);
    cfg.fail_pct = (int)lsim_opt_int(&o, "fail_pct", cfg.fail_pct, 0, 100);
    cfg.print = lsim_opt_bool(&o, "print", true);
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
    static const luaL_Reg meta[] = {{"__tostring", ex_tostring}, {NULL, NULL}};
    lsim_createmeta(L, EX_MT, meta, methods);
    lua_pushcfunction(L, l_bounded_executor);
    lua_setfield(L, t, "bounded_executor");
    lua_pushcfunction(L, l_simulate_operation);
    lua_setfield(L, t, "simulate_operation");
    lua_pushcfunction(L, l_bounded_concurrency);
    lua_setfield(L, t, "bounded_concurrency");
}
