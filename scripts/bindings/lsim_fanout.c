/*
 * lsim_fanout: sim.fan_out_fan_in{...}, the seed's distributeAndProcess
 * with its main's setup (a 5s context, 20 tasks, 5 workers).
 *
 *   local r = sim.fan_out_fan_in{ tasks = 20, workers = 5 }
 *   print(string.format("Summary: %d succeeded, %d failed", r.succeeded, r.failed))
 *
 * Options (the seed's values as defaults): tasks = 20, workers = 5,
 * fail_every = 7 (0: none), fail_pct = 0 (extra random failures),
 * timeout = "5s" (the context's; with ctx, a timeout under it only if
 * given), ctx = a sim.context to cancel the run from outside, process = nil
 * (the seed's worker does no work; a duration, or {min, max}, makes each
 * worker call the seed's processTask for that long), collect = "direct"
 * (the seed's loop over resultsCh) or "fan_in" (through the seed's fanIn).
 * Returns { succeeded, failed, canceled, missing, elapsed, results = {
 * {id, input, result, err, worker, done_at}, ... } } in collection order.
 */
#include <lauxlib.h>

#include "fanout.h"
#include "lsim.h"
#include "lsim_flow.h"

#define FN "sim.fan_out_fan_in"

static void read_process(const lsim_opts_t *o, fanout_config_t *cfg)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, "process");
    if (t == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        if (lua_isnil(L, -2) || lua_isnil(L, -1))
            lsim_opt_fail(o, "process", -3, "a duration or {min, max}");
        cfg->process_min = lsim_opt_durval(o, "process", -2);
        cfg->process_max = lsim_opt_durval(o, "process", -1);
        lua_pop(L, 2);
    } else if (t != LUA_TNIL) {
        cfg->process_min = cfg->process_max = lsim_opt_durval(o, "process", -1);
    }
    if (cfg->process_min < 0 || cfg->process_max < cfg->process_min)
        lsim_opt_fail(o, "process", -1, "a positive duration or {min, max} with min <= max");
    lua_pop(L, 1);
}

static int l_fan_out_fan_in(lua_State *L)
{
    static const char *const known[] = {"tasks", "workers", "fail_every", "fail_pct", "timeout", "ctx",
                                        "process", "collect", NULL};
    static const char *const collects[] = {"direct", "fan_in", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 1, FN, known);
    lsim_need_goroutine(L, FN);
    int64_t n = lsim_opt_int(&o, "tasks", 20, 0, 1000000);
    int workers = (int)lsim_opt_int(&o, "workers", 5, 1, 100000);
    fanout_config_t cfg = fanout_config_default();
    cfg.fail_every = lsim_opt_int(&o, "fail_every", 7, 0, INT64_MAX);
    cfg.fail_pct = (int)lsim_opt_int(&o, "fail_pct", 0, 0, 100);
    read_process(&o, &cfg);
    cfg.use_fan_in = lsim_opt_enum(&o, "collect", collects, 0) == 1;
    ctx_t *parent = lsim_opt_ctx(&o, "ctx");
    bool has_timeout = lsim_opt_has(&o, "timeout");
    simtime_t timeout = lsim_opt_dur(&o, "timeout", 5 * SIM_SEC, 1, SIMTIME_MAX / 2);

    fanout_task_t *tasks = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *tasks, 0);
    fanout_task_t *out = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *out, 0);
    fanout_make_tasks(tasks, n);

    /* ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second);
     * defer cancel() */
    ctx_t *ctx;
    if (!parent)
        ctx = ctx_with_timeout(ctx_background(), timeout);
    else if (has_timeout)
        ctx = ctx_with_timeout(parent, timeout);
    else
        ctx = ctx_with_cancel(parent);
    fanout_stats_t st;
    int64_t got = fanout_distribute_and_process(ctx, tasks, n, workers, &cfg, out, &st);
    ctx_cancel(ctx);

    lua_createtable(L, 0, 8);
    lflow_set_int(L, "tasks", n);
    lflow_set_int(L, "workers", workers);
    lflow_set_int(L, "succeeded", st.succeeded);
    lflow_set_int(L, "failed", st.failed);
    lflow_set_int(L, "canceled", st.canceled);
    lflow_set_int(L, "missing", st.missing);
    lflow_set_int(L, "elapsed", st.elapsed);
    lua_createtable(L, (int)(got < n ? got : n), 0);
    for (int64_t i = 0; i < got && i < n; i++) {
        const fanout_task_t *t = &out[i];
        lua_createtable(L, 0, 6);
        lflow_set_int(L, "id", t->id);
        lflow_set_str(L, "input", t->input);
        lflow_set_str(L, "result", t->err ? NULL : t->result);
        lflow_set_str(L, "err", t->err ? go_error_msg(t->err) : NULL);
        lflow_set_int(L, "worker", t->worker);
        lflow_set_int(L, "done_at", t->done_at);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "results");
    return 1;
}

void lsim_open_fanout(lua_State *L, int t)
{
    lua_pushcfunction(L, l_fan_out_fan_in);
    lua_setfield(L, t, "fan_out_fan_in");
}
