/*
 * lsim_observability: sim.observability_metrics{...} and
 * sim.instrumented_pool{...}, the seed's Metrics and InstrumentedWorkerPool
 * (sim/observability.h), on the run's metrics registry, so that
 * `chansim run --metrics FILE.prom` writes them.
 *
 *   local m = sim.observability_metrics{ variant = "corrected" }
 *   local high = sim.instrumented_pool{ name = "high-priority", workers = 5,
 *                                       queue = 10, metrics = m }
 *   local ok, err = high:submit{ id = "high-1", work = "100ms", fail_one_in = 10 }
 *   print(high:metrics().processing)
 *   high:shutdown()
 *   print(m:count().series)
 *
 * observability_metrics options: variant ("corrected" | "seed": the job ID
 * as a label), private (true: a registry of its own that --metrics does not
 * see, for comparisons), collector (false: no goroutine collector, for
 * comparisons whose goroutines_total nobody reads), collector_interval
 * (seed: "1s"). Pool options,
 * the seed's high-priority pool as defaults: name ("high-priority"),
 * workers (5), queue (10), metrics (required). Job fields: id (required),
 * work ("100ms"), fail_one_in (10: rand.Intn(10) == 0 fails; 0 never),
 * priority (2), result ("high priority result"), error ("high priority job
 * failed").
 */
#include <string.h>

#include <lauxlib.h>

#include "lsim.h"
#include "observability.h"

#define OBS_METRICS_MT "chansim.observability_metrics"
#define POOL_MT "chansim.instrumented_pool"

LSIM_CHECK_BOX(check_metrics, observability_metrics_t, OBS_METRICS_MT)
LSIM_CHECK_BOX(check_pool, observability_pool_t, POOL_MT)

static const char *const family_names[OBS_FAMILY_COUNT] = {
    "requests_total", "request_duration_seconds", "goroutines_total", "worker_pool_size",
    "queue_depth", "errors_total", "in_flight_requests",
};

/* ---- sim.observability_metrics ----------------------------------------- */

static int l_metrics(lua_State *L)
{
    static const char *const keys[] = {"variant", "private", "collector", "collector_interval", NULL};
    const char *what = "sim.observability_metrics";
    lsim_opts_t o = lsim_opts_opt(L, 1, what, keys);
    bool seed = lsim_opt_seed_variant(&o);
    bool priv = lsim_opt_bool(&o, "private", false);
    simtime_t iv = lsim_opt_dur(&o, "collector_interval", SIM_SEC, 1, INT64_MAX);
    if (!lsim_opt_bool(&o, "collector", true))
        iv = 0; /* no collector goroutine */
    lsim_need_goroutine(L, what);
    metrics_registry_t *reg = priv ? NULL : metrics_current();
    if (!priv && !reg)
        return luaL_error(L, "%s: no metrics registry (not inside a run)", what);
    observability_metrics_t *m = observability_metrics_create(reg, seed, iv);
    if (!m)
        return luaL_error(L, "%s: %s (a variant can be registered only once per run: "
                             "use private = true for the other)", what,
                          reg ? metrics_last_error(reg) : "cannot register the metrics");
    lsim_pushbox(L, m, OBS_METRICS_MT, 0);
    return 1;
}

static int m_stop(lua_State *L)
{
    observability_metrics_t *m = check_metrics(L, 1);
    lsim_need_goroutine(L, "Metrics.stop");
    observability_metrics_stop(m);
    return 0;
}

/* m:count() -> { series, samples, families = { name = { series, samples } } } */
static int m_count(lua_State *L)
{
    observability_series_count_t c = observability_metrics_count(check_metrics(L, 1));
    lua_createtable(L, 0, 3);
    lsim_set_int(L, "series", (lua_Integer)c.series_total);
    lsim_set_int(L, "samples", (lua_Integer)c.samples_total);
    lua_createtable(L, 0, OBS_FAMILY_COUNT);
    for (int i = 0; i < OBS_FAMILY_COUNT; i++) {
        lua_createtable(L, 0, 2);
        lsim_set_int(L, "series", (lua_Integer)c.series[i]);
        lsim_set_int(L, "samples", (lua_Integer)c.samples[i]);
        lua_setfield(L, -2, family_names[i]);
    }
    lua_setfield(L, -2, "families");
    return 1;
}

/* m:families() -> the seven names in registration order */
static int m_families(lua_State *L)
{
    (void)check_metrics(L, 1);
    lua_createtable(L, OBS_FAMILY_COUNT, 0);
    for (int i = 0; i < OBS_FAMILY_COUNT; i++) {
        lua_pushstring(L, family_names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* m:labels(family) -> the family's label names */
static int m_labels(lua_State *L)
{
    observability_metrics_t *m = check_metrics(L, 1);
    const char *name = luaL_checkstring(L, 2);
    for (int i = 0; i < OBS_FAMILY_COUNT; i++) {
        if (strcmp(name, family_names[i]) == 0) {
            metrics_family_t *f = observability_metrics_family(m, i);
            size_t n = metrics_family_nlabels(f);
            lua_createtable(L, (int)n, 0);
            for (size_t k = 0; k < n; k++) {
                lua_pushstring(L, metrics_family_label(f, k));
                lua_rawseti(L, -2, (lua_Integer)k + 1);
            }
            return 1;
        }
    }
    return luaL_error(L, "Metrics.labels: no metric named '%s'", name);
}

static int m_variant(lua_State *L)
{
    lua_pushstring(L, observability_metrics_seed_variant(check_metrics(L, 1)) ? "seed" : "corrected");
    return 1;
}

/* ---- sim.instrumented_pool ---------------------------------------------- */

static int l_pool(lua_State *L)
{
    static const char *const keys[] = {"name", "workers", "queue", "metrics", NULL};
    const char *what = "sim.instrumented_pool";
    lsim_opts_t o = lsim_opts(L, 1, what, keys);
    const char *name = lsim_opt_str(&o, "name", "high-priority");
    if (!*name)
        return lsim_opts_error(&o, "name must not be empty");
    int workers = (int)lsim_opt_int(&o, "workers", 5, 1, 10000);
    int queue = (int)lsim_opt_int(&o, "queue", 10, 0, 1000000);
    if (lsim_opt_push(&o, "metrics") == LUA_TNIL)
        return lsim_opts_error(&o, "metrics is required (sim.observability_metrics{...})");
    if (!luaL_testudata(L, -1, OBS_METRICS_MT))
        return lsim_opt_fail(&o, "metrics", -1, "a sim.observability_metrics");
    observability_metrics_t *m = check_metrics(L, -1);
    lsim_need_goroutine(L, what);
    observability_pool_t *p = observability_pool_create(name, workers, queue, m);
    lsim_pushbox(L, p, POOL_MT, -1); /* keeps the metrics userdata alive with the pool's */
    return 1;
}

/* pool:submit{ id, work, fail_one_in, priority, result, error } -> true | nil, err */
static int p_submit(lua_State *L)
{
    static const char *const keys[] = {"id", "work", "fail_one_in", "priority", "result", "error", NULL};
    const char *what = "InstrumentedWorkerPool.Submit";
    observability_pool_t *p = check_pool(L, 1);
    lsim_opts_t o = lsim_opts(L, 2, what, keys);
    observability_job_t job = {0};
    const char *id = lsim_opt_str(&o, "id", NULL);
    if (!id || !*id)
        return lsim_opts_error(&o, "the job needs an id");
    if (strlen(id) >= sizeof job.id)
        return lsim_opts_error(&o, "id is longer than %d bytes", (int)sizeof job.id - 1);
    memcpy(job.id, id, strlen(id) + 1);
    job.work = lsim_opt_dur(&o, "work", 100 * SIM_MS, 0, INT64_MAX);
    job.fail_one_in = (int)lsim_opt_int(&o, "fail_one_in", 10, 0, 1000000000);
    job.priority = (int)lsim_opt_int(&o, "priority", 2, -1000000, 1000000);
    sched_t *s = sched_current();
    job.result = sched_intern(s, lsim_opt_str(&o, "result", "high priority result"));
    job.error = sched_intern(s, lsim_opt_str(&o, "error", "high priority job failed"));
    lsim_need_goroutine(L, what);
    const go_error_t *err = observability_pool_submit(p, &job);
    if (!err) {
        lua_pushboolean(L, 1);
        return 1;
    }
    return lsim_push_error(L, err);
}

static int p_shutdown(lua_State *L)
{
    observability_pool_t *p = check_pool(L, 1);
    lsim_need_goroutine(L, "InstrumentedWorkerPool.Shutdown");
    observability_pool_shutdown(p);
    return 0;
}

/* pool:metrics() -> GetMetrics(): { workers, queue_size, processing } */
static int p_metrics(lua_State *L)
{
    observability_pool_metrics_t pm = observability_pool_get_metrics(check_pool(L, 1));
    lua_createtable(L, 0, 3);
    lsim_set_int(L, "workers", pm.workers);
    lsim_set_int(L, "queue_size", pm.queue_size);
    lsim_set_int(L, "processing", pm.processing);
    return 1;
}

static int p_stats(lua_State *L)
{
    observability_pool_stats_t st = observability_pool_stats(check_pool(L, 1));
    lua_createtable(L, 0, 6);
    lsim_set_int(L, "submitted", st.submitted);
    lsim_set_int(L, "rejected", st.rejected);
    lsim_set_int(L, "succeeded", st.succeeded);
    lsim_set_int(L, "failed", st.failed);
    lsim_set_int(L, "lost", st.lost);
    lsim_set_int(L, "queue_max", st.queue_max);
    return 1;
}

/* pool:log() -> { { t, id, ok, message }, ... } in the order jobs finished */
static int p_log(lua_State *L)
{
    const observability_job_log_t *list;
    size_t n = observability_pool_log(check_pool(L, 1), &list);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 4);
        lsim_set_int(L, "t", list[i].t);
        lua_pushstring(L, list[i].id);
        lua_setfield(L, -2, "id");
        lua_pushboolean(L, list[i].ok);
        lua_setfield(L, -2, "ok");
        lua_pushstring(L, list[i].message);
        lua_setfield(L, -2, "message");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int p_name(lua_State *L)
{
    lua_pushstring(L, observability_pool_name(check_pool(L, 1)));
    return 1;
}

void lsim_open_observability(lua_State *L, int t)
{
    static const luaL_Reg m_methods[] = {
        {"stop", m_stop}, {"count", m_count}, {"families", m_families},
        {"labels", m_labels}, {"variant", m_variant}, {NULL, NULL},
    };
    static const luaL_Reg p_methods[] = {
        {"submit", p_submit}, {"shutdown", p_shutdown}, {"metrics", p_metrics},
        {"stats", p_stats}, {"log", p_log}, {"name", p_name}, {NULL, NULL},
    };
    lsim_createmeta(L, OBS_METRICS_MT, NULL, m_methods);
    lsim_createmeta(L, POOL_MT, NULL, p_methods);
    lua_pushcfunction(L, l_metrics);
    lua_setfield(L, t, "observability_metrics");
    lua_pushcfunction(L, l_pool);
    lua_setfield(L, t, "instrumented_pool");
}
