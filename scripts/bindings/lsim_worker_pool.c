/*
 * lsim_worker_pool: sim.worker_pool{...}, the seed's AdaptiveWorkerPool.
 *
 *   local ctx, cancel = sim.context.with_timeout(sim.context.background(), "10s")
 *   local pool = sim.worker_pool{ ctx = ctx }          -- min 5, max 20, queue 100
 *   sim.go("results", function()
 *     for r in pool:results() do print(r.job_id, r.err or r.output, r.latency) end
 *   end)
 *   local ok, err = pool:submit{ id = 7 }              -- duration drawn 50-250ms
 *   local m = pool:metrics()                           -- the seed's PoolMetrics and more
 *   pool:shutdown()
 *
 * Options (the seed's values as defaults): name, min_workers = 5,
 * max_workers = 20, queue_size = 100, scale_interval = "500ms",
 * scale_threshold = 0.7, scale_up = 0.25, scale_down = 0.15,
 * failure_rate = 10 (percent), job_min = "50ms", job_max = "250ms" (a job
 * without a duration takes job_min + rand.Intn(job_max - job_min) whole
 * milliseconds, as the seed's main draws them), ctx (default Background),
 * variant = "corrected" | "seed", log = true (print the seed's "Scaling
 * up/down" lines).
 */
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "lsim_kit.h"
#include "pattern.h"
#include "worker_pool.h"

#define POOL_MT "chansim.worker_pool"

typedef struct lpool {
    worker_pool_t *p; /* scheduler-owned */
    host_t *h;
    bool log;
    simtime_t job_min, job_max;
    int64_t next_id;           /* ids for jobs submitted without one */
} lpool_t;

LSIM_CHECK_UDATA(check_pool, lpool_t, POOL_MT)

static void pool_log(void *ud, const char *line)
{
    lpool_t *lp = ud;
    if (lp->log)
        lsim_log_line(lp->h, worker_pool_options(lp->p)->name, line);
}

static const char *const pool_keys[] = {
    "name", "min_workers", "max_workers", "queue_size", "scale_interval", "scale_threshold",
    "scale_up", "scale_down", "failure_rate", "job_min", "job_max", "ctx", "variant", "log", NULL,
};

static int l_worker_pool(lua_State *L)
{
    lsim_opts_t opt = lsim_opts_opt(L, 1, "sim.worker_pool", pool_keys);
    worker_pool_options_t o = worker_pool_options_default();
    o.min_workers = (int)lsim_opt_int(&opt, "min_workers", o.min_workers, 1, 100000);
    o.max_workers = (int)lsim_opt_int(&opt, "max_workers", o.max_workers, 1, 100000);
    if (o.max_workers < o.min_workers)
        return lsim_opts_error(&opt, "max_workers (%d) must not be below min_workers (%d)", o.max_workers,
                               o.min_workers);
    o.queue_size = (int)lsim_opt_int(&opt, "queue_size", o.queue_size, 0, 10000000);
    o.scale_interval = lsim_opt_dur(&opt, "scale_interval", o.scale_interval, 1, INT64_MAX);
    o.scale_threshold = lsim_opt_num(&opt, "scale_threshold", o.scale_threshold, 0.0, 1.0);
    if (o.scale_threshold <= 0)
        return lsim_opts_error(&opt, "scale_threshold must be above 0");
    o.scale_up_fraction = lsim_opt_num(&opt, "scale_up", o.scale_up_fraction, 0.0, 10.0);
    o.scale_down_fraction = lsim_opt_num(&opt, "scale_down", o.scale_down_fraction, 0.0, 1.0);
    o.failure_pct = (int)lsim_opt_int(&opt, "failure_rate", o.failure_pct, 0, 100);
    o.seed_variant = lsim_opt_seed_variant(&opt);
    simtime_t job_min = lsim_opt_dur(&opt, "job_min", 50 * SIM_MS, 0, INT64_MAX);
    simtime_t job_max = lsim_opt_dur(&opt, "job_max", 250 * SIM_MS, 0, INT64_MAX);
    if (job_max < job_min)
        return lsim_opts_error(&opt, "job_max must not be below job_min");
    bool log = lsim_opt_bool(&opt, "log", true);
    o.name = lsim_opt_str(&opt, "name", "pool");
    ctx_t *ctx = lsim_opt_ctx(&opt, "ctx");
    if (!ctx)
        ctx = ctx_background();

    lpool_t *lp = lsim_newudata(L, sizeof *lp, POOL_MT, 0);
    memset(lp, 0, sizeof *lp);
    lp->h = host_of(L);
    lp->log = log;
    lp->job_min = job_min;
    lp->job_max = job_max;
    /* The pool's goroutines log through lp for the whole run. */
    lua_pushvalue(L, -1);
    luaL_ref(L, LUA_REGISTRYINDEX);
    o.log = pool_log;
    o.log_ud = lp;
    lp->p = worker_pool_create(ctx, &o);
    return 1;
}

/* ok | nil, err = pool:submit([id | { id =, duration = }] [, ctx]) */
static int pl_submit(lua_State *L)
{
    lpool_t *lp = check_pool(L, 1);
    lsim_need_goroutine(L, "AdaptiveWorkerPool.Submit");
    worker_pool_job_t job;
    job.id = ++lp->next_id;
    job.duration = -1;
    if (lua_isinteger(L, 2)) {
        job.id = lua_tointeger(L, 2);
    } else if (lua_istable(L, 2)) {
        static const char *const job_keys[] = {"id", "duration", NULL};
        lsim_opts_t opt = lsim_opts(L, 2, "AdaptiveWorkerPool.Submit", job_keys);
        job.id = lsim_opt_int(&opt, "id", job.id, LUA_MININTEGER, LUA_MAXINTEGER);
        job.duration = lsim_opt_dur(&opt, "duration", -1, 0, INT64_MAX);
    } else if (!lua_isnoneornil(L, 2)) {
        return luaL_error(L, "AdaptiveWorkerPool.Submit: want a job id or { id =, duration = }");
    }
    if (job.duration < 0) {
        // Create jobs with variable processing times
        int64_t span_ms = (lp->job_max - lp->job_min) / SIM_MS;
        job.duration = lp->job_min + pattern_intn(span_ms) * SIM_MS;
    }
    ctx_t *ctx = lua_isnoneornil(L, 3) ? ctx_background() : lsim_checkctx(L, 3);
    const go_error_t *err = worker_pool_submit(lp->p, ctx, job);
    if (err)
        return lsim_push_error(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int pl_results_next(lua_State *L)
{
    lpool_t *lp = check_pool(L, lua_upvalueindex(1));
    lsim_need_goroutine(L, "range over Results()");
    worker_pool_result_t r;
    if (!chan_recv(worker_pool_results(lp->p), &r)) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 4);
    lsim_set_int(L, "job_id", r.job_id);
    lsim_set_int(L, "latency", r.latency);
    if (r.err) {
        lua_pushstring(L, go_error_msg(r.err));
        lua_setfield(L, -2, "err");
    } else {
        lua_pushfstring(L, "Processed result for job %I", (lua_Integer)r.job_id);
        lua_setfield(L, -2, "output");
    }
    return 1;
}

/* for r in pool:results() do ... end: range over Results() until Shutdown. */
static int pl_results(lua_State *L)
{
    check_pool(L, 1);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, pl_results_next, 1);
    return 1;
}

/* pool:metrics(): GetMetrics() with the average latency as
 * average_latency, plus the gauges main prints and chansim's figures. */
static int pl_metrics(lua_State *L)
{
    lpool_t *lp = check_pool(L, 1);
    worker_pool_metrics_t m = worker_pool_get_metrics(lp->p);
    lua_createtable(L, 0, 12);
    lsim_set_int(L, "total_jobs", m.total_jobs);
    lsim_set_int(L, "completed_jobs", m.completed_jobs);
    lsim_set_int(L, "failed_jobs", m.failed_jobs);
    lsim_set_int(L, "average_latency", m.total_latency);
    lsim_set_int(L, "queue_high_water", m.queue_high_water);
    lsim_set_int(L, "current_workers", worker_pool_worker_count(lp->p));
    lsim_set_int(L, "active_workers", worker_pool_active_workers(lp->p));
    lsim_set_int(L, "pending_jobs", worker_pool_pending_jobs(lp->p));
    lsim_set_int(L, "queue_depth", worker_pool_queue_depth(lp->p));
    lsim_set_int(L, "rejected", worker_pool_rejected_jobs(lp->p));
    lsim_set_int(L, "buffer_high_water", worker_pool_buffer_high_water(lp->p));
    lsim_set_int(L, "workers_started", worker_pool_workers_started(lp->p));
    return 1;
}

static int pl_shutdown(lua_State *L)
{
    lpool_t *lp = check_pool(L, 1);
    lsim_need_goroutine(L, "AdaptiveWorkerPool.Shutdown");
    worker_pool_shutdown(lp->p);
    return 0;
}

/* pool:scale_events(): every decision of adjustWorkerCount, in order:
 * { t, action = "up" | "down", count, delivered, workers, active,
 *   pending, utilization } */
static int pl_scale_events(lua_State *L)
{
    lpool_t *lp = check_pool(L, 1);
    size_t n;
    const worker_pool_scale_event_t *ev = worker_pool_scale_events(lp->p, &n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 8);
        lsim_set_int(L, "t", ev[i].t);
        lua_pushstring(L, ev[i].direction > 0 ? "up" : "down");
        lua_setfield(L, -2, "action");
        lsim_set_int(L, "count", ev[i].count);
        lsim_set_int(L, "delivered", ev[i].delivered);
        lsim_set_int(L, "workers", ev[i].workers);
        lsim_set_int(L, "active", ev[i].active);
        lsim_set_int(L, "pending", ev[i].pending);
        lua_pushnumber(L, ev[i].utilization);
        lua_setfield(L, -2, "utilization");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int pl_entity(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)entity_id(worker_pool_entity(check_pool(L, 1)->p)));
    return 1;
}

static int pl_tostring(lua_State *L)
{
    lpool_t *lp = check_pool(L, 1);
    lua_pushfstring(L, "worker_pool(%s, %d workers)", worker_pool_options(lp->p)->name,
                    (int)worker_pool_worker_count(lp->p));
    return 1;
}

void lsim_open_worker_pool(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"submit", pl_submit},     {"results", pl_results},           {"metrics", pl_metrics},
        {"shutdown", pl_shutdown}, {"scale_events", pl_scale_events}, {"entity", pl_entity},
        {NULL, NULL},
    };
    static const luaL_Reg meta[] = {{"__tostring", pl_tostring}, {NULL, NULL}};
    lsim_createmeta(L, POOL_MT, meta, methods);
    lua_pushcfunction(L, l_worker_pool);
    lua_setfield(L, t, "worker_pool");
}
