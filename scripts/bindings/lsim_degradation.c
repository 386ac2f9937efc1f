/*
 * lsim_degradation: sim.load_manager{...} and sim.degradable_service{...},
 * the seed's Graceful Degradation (sim/patterns/degradable_service.h, load_manager.h).
 *
 *   local svc = sim.degradable_service{ variant = "corrected", cpu_pct = 25 }
 *   local st = svc:simulate_load("30s")
 *   for _, c in ipairs(svc:changes()) do print(c.t, c.from, c.to, c.cause) end
 *
 *   local lm = sim.load_manager{ down_pct = 20, min_dwell = "5s" }
 *   lm:update_metrics(72, 40, 300, 1)   --> "Reduced"
 *
 * Options (the seed's values as defaults): name ("DegradableService": the
 * entity's name and the service label of its degradation_* metrics),
 * variant ("corrected" | "seed": the seed's logic and made-up cpu and memory |
 * "seed_measured": the seed's logic, measured cpu and memory),
 * cpu_pct, request_bytes, memory_budget, failure_pct, request_timeout,
 * update_interval, base_rate, peak_rate, pool_size = {20,15,10,5},
 * pool_timeout = {"1s","800ms","500ms","300ms"}, thresholds = { reduced =
 * { cpu = 70, memory = 80, requestRate = 1000, errorRate = 5 }, minimal =
 * {...}, emergency = {...} } (any subset), down_pct and min_dwell
 * (hysteresis, 0 by default as in the seed). Unless variant = "seed" the
 * service needs the scenario's simulated CPUs (scenario{ gomaxprocs = N }):
 * its cpu figure is their measured utilisation. Times in results are
 * integer ns.
 */
#include <string.h>

#include <lauxlib.h>

#include "cpu.h"
#include "degradable_service.h"
#include "lsim.h"
#include "lsim_ctx.h"

#define LOAD_MANAGER_MT "chansim.load_manager"
#define SERVICE_MT "chansim.degradable_service"

LSIM_CHECK_BOX(check_lm, load_manager_t, LOAD_MANAGER_MT)
LSIM_CHECK_BOX(check_svc, degradable_service_t, SERVICE_MT)

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static const char *const level_keys[SERVICE_LEVEL_COUNT + 1] = {"full", "reduced", "minimal",
                                                                "emergency", NULL};

/* thresholds = { reduced = { cpu = 70, ... }, ... } onto lm. */
static void read_thresholds(const lsim_opts_t *o, load_manager_t *lm)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, "thresholds") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    char what[96];
    snprintf(what, sizeof what, "%s: thresholds", o->fn);
    lsim_opts_t levels = lsim_opts(L, -1, what, level_keys + REDUCED_SERVICE);
    const char *metrics[LOAD_METRIC_COUNT + 1];
    for (int m = 0; m < LOAD_METRIC_COUNT; m++)
        metrics[m] = load_manager_metric_string((load_manager_metric_t)m);
    metrics[LOAD_METRIC_COUNT] = NULL;
    for (int l = REDUCED_SERVICE; l < SERVICE_LEVEL_COUNT; l++) {
        if (lsim_opt_push(&levels, level_keys[l]) == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        char lwhat[128];
        snprintf(lwhat, sizeof lwhat, "%s.%s", what, level_keys[l]);
        lsim_opts_t lt = lsim_opts(L, -1, lwhat, metrics);
        for (int m = 0; m < LOAD_METRIC_COUNT; m++)
            if (lsim_opt_has(&lt, metrics[m]))
                load_manager_set_threshold(lm, (load_manager_level_t)l, (load_manager_metric_t)m,
                                           lsim_opt_int(&lt, metrics[m], 0, 0, LUA_MAXINTEGER));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void push_change(lua_State *L, const load_manager_level_change_t *c)
{
    lua_createtable(L, 0, 12);
    lsim_set_int(L, "t", c->t);
    set_str(L, "from", load_manager_level_string(c->from));
    set_str(L, "to", load_manager_level_string(c->to));
    set_str(L, "cause", c->cause);
    if (c->cause_metric >= 0) {
        set_str(L, "metric", load_manager_metric_string((load_manager_metric_t)c->cause_metric));
        lsim_set_int(L, "value", c->cause_value);
        lsim_set_int(L, "threshold", c->cause_threshold);
    }
    lsim_set_int(L, "cpu", c->metrics[METRIC_CPU]);
    lsim_set_int(L, "memory", c->metrics[METRIC_MEMORY]);
    lsim_set_int(L, "rate", c->metrics[METRIC_REQUEST_RATE]);
    lsim_set_int(L, "errors", c->metrics[METRIC_ERROR_RATE]);
}

static int push_changes(lua_State *L, load_manager_t *lm)
{
    const load_manager_level_change_t *list;
    size_t n = load_manager_changes(lm, &list);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_change(L, &list[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int push_metrics(lua_State *L, load_manager_t *lm)
{
    int64_t m[LOAD_METRIC_COUNT];
    load_manager_get_metrics(lm, m);
    lua_createtable(L, 0, LOAD_METRIC_COUNT);
    for (int i = 0; i < LOAD_METRIC_COUNT; i++)
        lsim_set_int(L, load_manager_metric_string((load_manager_metric_t)i), m[i]);
    return 1;
}

static load_manager_level_t check_level(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    for (int l = 0; l < SERVICE_LEVEL_COUNT; l++)
        if (strcmp(name, load_manager_level_string((load_manager_level_t)l)) == 0 || strcmp(name, level_keys[l]) == 0)
            return (load_manager_level_t)l;
    return (load_manager_level_t)luaL_error(L, "unknown service level '%s' (want Full, Reduced, Minimal or Emergency)", name);
}

/* ---- sim.load_manager --------------------------------------------------- */

static int l_load_manager(lua_State *L)
{
    static const char *const keys[] = {"thresholds", "down_pct", "min_dwell", NULL};
    const char *what = "sim.load_manager";
    lsim_opts_t o = lsim_opts_opt(L, 1, what, keys);
    int down = (int)lsim_opt_int(&o, "down_pct", 0, 0, 99);
    simtime_t dwell = lsim_opt_dur(&o, "min_dwell", 0, 0, INT64_MAX);
    lsim_need_goroutine(L, what);
    load_manager_t *lm = load_manager_create();
    read_thresholds(&o, lm);
    load_manager_set_hysteresis(lm, down, dwell);
    lsim_pushbox(L, lm, LOAD_MANAGER_MT, 0);
    return 1;
}

/* lm:update_metrics(cpu, memory, request_rate, error_rate) -> level */
static int lm_update_metrics(lua_State *L)
{
    load_manager_t *lm = check_lm(L, 1);
    int64_t v[LOAD_METRIC_COUNT];
    for (int i = 0; i < LOAD_METRIC_COUNT; i++)
        v[i] = luaL_checkinteger(L, i + 2);
    lsim_need_goroutine(L, "LoadManager.UpdateMetrics");
    load_manager_update_metrics(lm, v[0], v[1], v[2], v[3]);
    lua_pushstring(L, load_manager_level_string(load_manager_get_current_level(lm)));
    return 1;
}

static int lm_level(lua_State *L)
{
    load_manager_t *lm = check_lm(L, 1);
    lsim_need_goroutine(L, "LoadManager.GetCurrentLevel");
    lua_pushstring(L, load_manager_level_string(load_manager_get_current_level(lm)));
    return 1;
}

static int lm_metrics(lua_State *L)
{
    load_manager_t *lm = check_lm(L, 1);
    lsim_need_goroutine(L, "LoadManager.GetMetrics");
    return push_metrics(L, lm);
}

static int lm_changes(lua_State *L) { return push_changes(L, check_lm(L, 1)); }

/* lm:threshold(level, metric) */
static int lm_threshold(lua_State *L)
{
    load_manager_t *lm = check_lm(L, 1);
    load_manager_level_t l = check_level(L, 2);
    const char *mk = luaL_checkstring(L, 3);
    for (int m = 0; m < LOAD_METRIC_COUNT; m++) {
        if (strcmp(mk, load_manager_metric_string((load_manager_metric_t)m)) == 0) {
            lua_pushinteger(L, load_manager_threshold(lm, l, (load_manager_metric_t)m));
            return 1;
        }
    }
    return luaL_error(L, "unknown metric '%s' (want cpu, memory, requestRate or errorRate)", mk);
}

/* lm:time_at(level) -> ns spent at the level */
static int lm_time_at(lua_State *L)
{
    load_manager_t *lm = check_lm(L, 1);
    lua_pushinteger(L, load_manager_time_at(lm, check_level(L, 2)));
    return 1;
}

/* ---- sim.degradable_service --------------------------------------------- */

static void opt_levels_int(const lsim_opts_t *o, const char *key, int *out, int lo, int hi)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, key) != LUA_TNIL) {
        if (!lua_istable(L, -1) || luaL_len(L, -1) != SERVICE_LEVEL_COUNT)
            lsim_opt_fail(o, key, -1, "a list of 4 integers (Full, Reduced, Minimal, Emergency)");
        for (int l = 0; l < SERVICE_LEVEL_COUNT; l++) {
            lua_rawgeti(L, -1, l + 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
                lsim_opts_error(o, "%s[%d] must be an integer from %d to %d (got %s)", key, l + 1, lo, hi,
                                lsim_shown(L, -1));
            out[l] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static void opt_levels_dur(const lsim_opts_t *o, const char *key, simtime_t *out)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, key) != LUA_TNIL) {
        if (!lua_istable(L, -1) || luaL_len(L, -1) != SERVICE_LEVEL_COUNT)
            lsim_opt_fail(o, key, -1, "a list of 4 durations (Full, Reduced, Minimal, Emergency)");
        for (int l = 0; l < SERVICE_LEVEL_COUNT; l++) {
            lua_rawgeti(L, -1, l + 1);
            out[l] = lsim_opt_durval(o, key, -1);
            if (out[l] <= 0)
                lsim_opts_error(o, "%s[%d] must be positive (got %s)", key, l + 1, lsim_shown(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static int l_degradable_service(lua_State *L)
{
    static const char *const keys[] = {
        "name", "variant", "cpu_pct", "request_bytes", "memory_budget", "failure_pct", "request_timeout",
        "update_interval", "base_rate", "peak_rate", "pool_size", "pool_timeout", "thresholds",
        "down_pct", "min_dwell", NULL,
    };
    const char *what = "sim.degradable_service";
    lsim_opts_t o = lsim_opts_opt(L, 1, what, keys);
    degradable_service_config_t cfg = degradable_service_config_default();
    /* seed: the seed's logic with its made-up cpu and memory; seed_measured:
     * its logic with the measured ones; corrected: measured. */
    static const char *const variants[] = {"corrected", "seed", "seed_measured", NULL};
    int variant = lsim_opt_enum(&o, "variant", variants, 0);
    cfg.seed_variant = variant != 0;
    cfg.inputs = variant == 1 ? DEGRADATION_INPUTS_SEED : DEGRADATION_INPUTS_MEASURED;
    cfg.name = lsim_opt_str(&o, "name", "DegradableService"); /* reachable from the options table */
    if (!*cfg.name)
        return lsim_opts_error(&o, "name must be a non-empty string");
    /* The CPUs of scenario{ gomaxprocs } (the registry slot lsim.c keeps). */
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.cpu");
    cfg.cpu = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!cfg.cpu && cfg.inputs == DEGRADATION_INPUTS_MEASURED)
        return luaL_error(L, "%s: the cpu figure is the measured utilisation of the simulated CPUs: "
                             "set scenario{ gomaxprocs = N }", what);
    cfg.cpu_pct = (int)lsim_opt_int(&o, "cpu_pct", cfg.cpu_pct, 0, 100);
    cfg.request_bytes = lsim_opt_int(&o, "request_bytes", cfg.request_bytes, 0, (int64_t)1 << 40);
    cfg.memory_budget_bytes = lsim_opt_int(&o, "memory_budget", cfg.memory_budget_bytes, 1, (int64_t)1 << 50);
    cfg.failure_pct = (int)lsim_opt_int(&o, "failure_pct", cfg.failure_pct, 0, 100);
    cfg.request_timeout = lsim_opt_dur(&o, "request_timeout", cfg.request_timeout, 1, INT64_MAX);
    cfg.update_interval = lsim_opt_dur(&o, "update_interval", cfg.update_interval, 1, INT64_MAX);
    cfg.base_rate = lsim_opt_int(&o, "base_rate", cfg.base_rate, 1, 1000000);
    cfg.peak_rate = lsim_opt_int(&o, "peak_rate", cfg.peak_rate, 1, 1000000);
    opt_levels_int(&o, "pool_size", cfg.pool_size, 1, 100000);
    opt_levels_dur(&o, "pool_timeout", cfg.pool_timeout);
    cfg.down_pct = (int)lsim_opt_int(&o, "down_pct", 0, 0, 99);
    cfg.min_dwell = lsim_opt_dur(&o, "min_dwell", 0, 0, INT64_MAX);
    lsim_need_goroutine(L, what);
    degradable_service_t *s = degradable_service_create(&cfg);
    read_thresholds(&o, degradable_service_load_manager(s));
    lsim_pushbox(L, s, SERVICE_MT, 0);
    return 1;
}

static int push_stats(lua_State *L, degradable_service_t *s)
{
    degradable_service_stats_t st = degradable_service_stats(s);
    lua_createtable(L, 0, 24);
    lsim_set_int(L, "requests", st.requests);
    lsim_set_int(L, "succeeded", st.succeeded);
    lsim_set_int(L, "failed", st.failed);
    lsim_set_int(L, "rejected", st.rejected);
    lsim_set_int(L, "processing_errors", st.processing_errors);
    lsim_set_int(L, "retries", st.retries);
    lsim_set_int(L, "retries_succeeded", st.retries_succeeded);
    lsim_set_int(L, "error_counter_total", st.error_counter_total);
    lsim_set_int(L, "executing_max", st.executing_max);
    lsim_set_int(L, "admissions_over_bound", st.admissions_over_bound);
    lsim_set_int(L, "in_flight_max", st.in_flight_max);
    lsim_set_int(L, "executors_created", st.executors_created);
    lsim_set_int(L, "level_changes", st.level_changes);
    lsim_set_int(L, "rules_applied", st.rules_applied);
    lsim_set_int(L, "latency_avg_ns", st.succeeded ? st.latency_sum_ns / st.succeeded : 0);
    lsim_set_int(L, "latency_max_ns", st.latency_max_ns);
    lsim_set_int(L, "cpu_busy_ns", st.cpu_busy_ns);
    load_manager_t *lm = degradable_service_load_manager(s);
    lua_createtable(L, 0, SERVICE_LEVEL_COUNT);
    for (int l = 0; l < SERVICE_LEVEL_COUNT; l++) {
        lua_createtable(L, 0, 4);
        lsim_set_int(L, "requests", st.by_level[l]);
        lsim_set_int(L, "succeeded", st.succeeded_by_level[l]);
        lsim_set_int(L, "time_ns", load_manager_time_at(lm, (load_manager_level_t)l));
        lsim_set_int(L, "rules_applied", load_manager_rules_applied(lm, (load_manager_level_t)l));
        lua_setfield(L, -2, load_manager_level_string((load_manager_level_t)l));
    }
    lua_setfield(L, -2, "by_level");
    return 1;
}

/* svc:simulate_load(duration [, ctx]) -> stats */
static int svc_simulate_load(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    simtime_t d = lsim_optduration(L, 2, 30 * SIM_SEC);
    if (d <= 0)
        return luaL_error(L, "DegradableService.SimulateLoad: duration must be positive");
    ctx_t *ctx = lua_isnoneornil(L, 3) ? ctx_background() : lsim_checkctx(L, 3);
    lsim_need_goroutine(L, "DegradableService.SimulateLoad");
    degradable_service_simulate_load(s, ctx, d);
    return push_stats(L, s);
}

/* svc:handle_request(ctx, id) -> true | nil, err */
static int svc_handle_request(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    ctx_t *ctx = lsim_checkctx(L, 2);
    const char *id = luaL_optstring(L, 3, "req");
    lsim_need_goroutine(L, "DegradableService.HandleRequest");
    const go_error_t *err = degradable_service_handle_request(s, ctx, id);
    if (!err) {
        lua_pushboolean(L, 1);
        return 1;
    }
    return lsim_push_error(L, err);
}

static int svc_update_metrics(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lsim_need_goroutine(L, "DegradableService.update_metrics");
    degradable_service_update_metrics(s);
    lua_pushstring(L, load_manager_level_string(load_manager_get_current_level(degradable_service_load_manager(s))));
    return 1;
}

static int svc_level(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lsim_need_goroutine(L, "LoadManager.GetCurrentLevel");
    lua_pushstring(L, load_manager_level_string(load_manager_get_current_level(degradable_service_load_manager(s))));
    return 1;
}

static int svc_metrics(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lsim_need_goroutine(L, "LoadManager.GetMetrics");
    return push_metrics(L, degradable_service_load_manager(s));
}

static int svc_changes(lua_State *L)
{
    return push_changes(L, degradable_service_load_manager(check_svc(L, 1)));
}

static int svc_updates(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    const degradable_service_load_update_t *list;
    size_t n = degradable_service_updates(s, &list);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        const degradable_service_load_update_t *u = &list[i];
        lua_createtable(L, 0, 10);
        lsim_set_int(L, "t", u->t);
        lsim_set_int(L, "cpu", u->metrics[METRIC_CPU]);
        lsim_set_int(L, "memory", u->metrics[METRIC_MEMORY]);
        lsim_set_int(L, "rate", u->metrics[METRIC_REQUEST_RATE]);
        lsim_set_int(L, "errors", u->metrics[METRIC_ERROR_RATE]);
        set_str(L, "level", load_manager_level_string(u->level));
        lsim_set_int(L, "offered_rate", u->offered_rate);
        lsim_set_int(L, "in_flight", u->in_flight);
        lsim_set_int(L, "executing", u->executing);
        lsim_set_int(L, "capacity", u->capacity);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int svc_stats(lua_State *L) { return push_stats(L, check_svc(L, 1)); }

/* svc:flags() -> { analytics, notifications, recommendations, fullHistory,
 * retry, pool, pool_timeout } */
static int svc_flags(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lua_createtable(L, 0, 8);
    for (int f = 0; f < FEATURE_COUNT; f++) {
        lua_pushboolean(L, degradable_service_feature(s, (degradable_service_feature_t)f));
        lua_setfield(L, -2, degradable_service_feature_string((degradable_service_feature_t)f));
    }
    lua_pushboolean(L, degradable_service_retry_enabled(s));
    lua_setfield(L, -2, "retry");
    lsim_set_int(L, "pool", degradable_service_pool_size(s));
    lsim_set_int(L, "pool_timeout", degradable_service_pool_timeout(s));
    return 1;
}

static int svc_time_at(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lua_pushinteger(L, load_manager_time_at(degradable_service_load_manager(s), check_level(L, 2)));
    return 1;
}

void lsim_open_degradation(lua_State *L, int t)
{
    static const luaL_Reg lm_methods[] = {
        {"update_metrics", lm_update_metrics}, {"level", lm_level}, {"metrics", lm_metrics},
        {"changes", lm_changes}, {"threshold", lm_threshold}, {"time_at", lm_time_at},
        {NULL, NULL},
    };
    static const luaL_Reg svc_methods[] = {
        {"simulate_load", svc_simulate_load}, {"handle_request", svc_handle_request},
        {"update_metrics", svc_update_metrics}, {"level", svc_level}, {"metrics", svc_metrics},
        {"changes", svc_changes}, {"updates", svc_updates}, {"stats", svc_stats},
        {"flags", svc_flags}, {"time_at", svc_time_at}, {NULL, NULL},
    };
    lsim_createmeta(L, LOAD_MANAGER_MT, NULL, lm_methods);
    lsim_createmeta(L, SERVICE_MT, NULL, svc_methods);
    lua_pushcfunction(L, l_load_manager);
    lua_setfield(L, t, "load_manager");
    lua_pushcfunction(L, l_degradable_service);
    lua_setfield(L, t, "degradable_service");
}
