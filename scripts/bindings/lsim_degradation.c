/*
 * lsim_degradation: sim.load_manager{...} and sim.degradable_service{...},
 * the seed's Graceful Degradation (sim/degradation.h).
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
 * variant ("corrected" | "seed"),
 * cpu_pct, request_bytes, memory_budget, failure_pct, request_timeout,
 * update_interval, base_rate, peak_rate, pool_size = {20,15,10,5},
 * pool_timeout = {"1s","800ms","500ms","300ms"}, thresholds = { reduced =
 * { cpu = 70, memory = 80, requestRate = 1000, errorRate = 5 }, minimal =
 * {...}, emergency = {...} } (any subset), down_pct and min_dwell
 * (hysteresis, 0 by default as in the seed). The service needs the
 * scenario's simulated CPUs (scenario{ gomaxprocs = N }): its cpu figure is
 * their measured utilisation. Times in results are integer ns.
 */
#include <string.h>

#include <lauxlib.h>

#include "cpu.h"
#include "degradation.h"
#include "lsim.h"
#include "lsim_ctx.h"

#define LOAD_MANAGER_MT "chansim.load_manager"
#define SERVICE_MT "chansim.degradable_service"

static load_manager_t *check_lm(lua_State *L, int idx)
{
    return *(load_manager_t **)luaL_checkudata(L, idx, LOAD_MANAGER_MT);
}

static degradable_service_t *check_svc(lua_State *L, int idx)
{
    return *(degradable_service_t **)luaL_checkudata(L, idx, SERVICE_MT);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* An optional integer option of the table at index 1, within [lo, hi]. */
static int64_t opt_int(lua_State *L, const char *what, const char *key, int64_t def, int64_t lo,
                       int64_t hi)
{
    lua_getfield(L, 1, key);
    int64_t v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
            return luaL_error(L, "%s: %s must be an integer from %lld to %lld", what, key,
                              (long long)lo, (long long)hi);
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* An optional positive duration option of the table at index 1. */
static simtime_t opt_dur(lua_State *L, const char *what, const char *key, simtime_t def,
                         bool zero_ok)
{
    lua_getfield(L, 1, key);
    simtime_t v = lsim_optduration(L, -1, def);
    lua_pop(L, 1);
    if (v < 0 || (v == 0 && !zero_ok))
        return luaL_error(L, "%s: %s must be %s", what, key, zero_ok ? "zero or more" : "positive");
    return v;
}

static const char *const level_keys[SERVICE_LEVEL_COUNT] = {"full", "reduced", "minimal",
                                                            "emergency"};

/* thresholds = { reduced = { cpu = 70, ... }, ... } onto lm. */
static void read_thresholds(lua_State *L, const char *what, load_manager_t *lm)
{
    lua_getfield(L, 1, "thresholds");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "%s: thresholds must be a table { reduced = {...}, minimal = {...}, emergency = {...} }", what);
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *lk = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int level = -1;
        for (int l = REDUCED_SERVICE; l < SERVICE_LEVEL_COUNT; l++)
            if (strcmp(lk, level_keys[l]) == 0)
                level = l;
        if (level < 0)
            luaL_error(L, "%s: thresholds: unknown level '%s' (want reduced, minimal or emergency)", what, lk);
        if (!lua_istable(L, -1))
            luaL_error(L, "%s: thresholds.%s must be a table", what, lk);
        int lt = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, lt)) {
            const char *mk = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            int m = -1;
            for (int i = 0; i < LOAD_METRIC_COUNT; i++)
                if (strcmp(mk, load_manager_metric_string((load_manager_metric_t)i)) == 0)
                    m = i;
            if (m < 0)
                luaL_error(L, "%s: thresholds.%s: unknown metric '%s' (want cpu, memory, requestRate or errorRate)",
                           what, lk, mk);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                luaL_error(L, "%s: thresholds.%s.%s must be a non-negative integer", what, lk, mk);
            load_manager_set_threshold(lm, (load_manager_service_level_t)level, (load_manager_metric_t)m, lua_tointeger(L, -1));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void check_keys(lua_State *L, const char *what, const char *const *allowed)
{
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        bool ok = false;
        for (int i = 0; k && allowed[i]; i++)
            ok = ok || strcmp(k, allowed[i]) == 0;
        if (!ok)
            luaL_error(L, "%s: unknown option '%s'", what, k ? k : luaL_typename(L, -1));
    }
}

static void push_change(lua_State *L, const load_manager_level_change_t *c)
{
    lua_createtable(L, 0, 12);
    lsim_set_int(L, "t", c->t);
    set_str(L, "from", load_manager_service_level_string(c->from));
    set_str(L, "to", load_manager_service_level_string(c->to));
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

static load_manager_service_level_t check_level(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    for (int l = 0; l < SERVICE_LEVEL_COUNT; l++)
        if (strcmp(name, load_manager_service_level_string((load_manager_service_level_t)l)) == 0 || strcmp(name, level_keys[l]) == 0)
            return (load_manager_service_level_t)l;
    return (load_manager_service_level_t)luaL_error(L, "unknown service level '%s' (want Full, Reduced, Minimal or Emergency)", name);
}

/* ---- sim.load_manager --------------------------------------------------- */

static int l_load_manager(lua_State *L)
{
    static const char *const keys[] = {"thresholds", "down_pct", "min_dwell", NULL};
    const char *what = "sim.load_manager";
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    check_keys(L, what, keys);
    int down = (int)opt_int(L, what, "down_pct", 0, 0, 99);
    simtime_t dwell = opt_dur(L, what, "min_dwell", 0, true);
    lsim_need_goroutine(L, what);
    load_manager_t *lm = load_manager_new();
    read_thresholds(L, what, lm);
    load_manager_set_hysteresis(lm, down, dwell);
    *(load_manager_t **)lua_newuserdatauv(L, sizeof lm, 0) = lm;
    luaL_setmetatable(L, LOAD_MANAGER_MT);
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
    lua_pushstring(L, load_manager_service_level_string(load_manager_get_current_level(lm)));
    return 1;
}

static int lm_level(lua_State *L)
{
    load_manager_t *lm = check_lm(L, 1);
    lsim_need_goroutine(L, "LoadManager.GetCurrentLevel");
    lua_pushstring(L, load_manager_service_level_string(load_manager_get_current_level(lm)));
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
    load_manager_service_level_t l = check_level(L, 2);
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

static void opt_levels_int(lua_State *L, const char *what, const char *key, int *out, int lo, int hi)
{
    lua_getfield(L, 1, key);
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1) || luaL_len(L, -1) != SERVICE_LEVEL_COUNT)
            luaL_error(L, "%s: %s must be a list of 4 integers (Full, Reduced, Minimal, Emergency)", what, key);
        for (int l = 0; l < SERVICE_LEVEL_COUNT; l++) {
            lua_rawgeti(L, -1, l + 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
                luaL_error(L, "%s: %s[%d] must be an integer from %d to %d", what, key, l + 1, lo, hi);
            out[l] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static void opt_levels_dur(lua_State *L, const char *what, const char *key, simtime_t *out)
{
    lua_getfield(L, 1, key);
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1) || luaL_len(L, -1) != SERVICE_LEVEL_COUNT)
            luaL_error(L, "%s: %s must be a list of 4 durations (Full, Reduced, Minimal, Emergency)", what, key);
        for (int l = 0; l < SERVICE_LEVEL_COUNT; l++) {
            lua_rawgeti(L, -1, l + 1);
            out[l] = lsim_checkduration(L, -1);
            if (out[l] <= 0)
                luaL_error(L, "%s: %s[%d] must be positive", what, key, l + 1);
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
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    check_keys(L, what, keys);
    degradable_service_config_t cfg = degradable_service_config_default();
    lua_getfield(L, 1, "variant");
    const char *variant = luaL_optstring(L, -1, "corrected");
    if (strcmp(variant, "corrected") != 0 && strcmp(variant, "seed") != 0)
        return luaL_error(L, "%s: variant must be \"corrected\" or \"seed\"", what);
    cfg.seed_variant = strcmp(variant, "seed") == 0;
    lua_pop(L, 1);
    lua_getfield(L, 1, "name");
    if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0))
        return luaL_error(L, "%s: name must be a non-empty string", what);
    cfg.name = lua_isnil(L, -1) ? "DegradableService" : lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays reachable from the options table */
    /* The CPUs of scenario{ gomaxprocs } (the registry slot lsim.c keeps). */
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.cpu");
    cfg.cpu = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!cfg.cpu)
        return luaL_error(L, "%s: the cpu figure is the measured utilisation of the simulated CPUs: "
                             "set scenario{ gomaxprocs = N }", what);
    cfg.cpu_pct = (int)opt_int(L, what, "cpu_pct", cfg.cpu_pct, 0, 100);
    cfg.request_bytes = opt_int(L, what, "request_bytes", cfg.request_bytes, 0, (int64_t)1 << 40);
    cfg.memory_budget_bytes = opt_int(L, what, "memory_budget", cfg.memory_budget_bytes, 1, (int64_t)1 << 50);
    cfg.failure_pct = (int)opt_int(L, what, "failure_pct", cfg.failure_pct, 0, 100);
    cfg.request_timeout = opt_dur(L, what, "request_timeout", cfg.request_timeout, false);
    cfg.update_interval = opt_dur(L, what, "update_interval", cfg.update_interval, false);
    cfg.base_rate = opt_int(L, what, "base_rate", cfg.base_rate, 1, 1000000);
    cfg.peak_rate = opt_int(L, what, "peak_rate", cfg.peak_rate, 1, 1000000);
    opt_levels_int(L, what, "pool_size", cfg.pool_size, 1, 100000);
    opt_levels_dur(L, what, "pool_timeout", cfg.pool_timeout);
    cfg.down_pct = (int)opt_int(L, what, "down_pct", 0, 0, 99);
    cfg.min_dwell = opt_dur(L, what, "min_dwell", 0, true);
    lsim_need_goroutine(L, what);
    degradable_service_t *s = degradable_service_new(&cfg);
    read_thresholds(L, what, degradable_service_load_manager(s));
    *(degradable_service_t **)lua_newuserdatauv(L, sizeof s, 0) = s;
    luaL_setmetatable(L, SERVICE_MT);
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
        lsim_set_int(L, "time_ns", load_manager_time_at(lm, (load_manager_service_level_t)l));
        lsim_set_int(L, "rules_applied", load_manager_rules_applied(lm, (load_manager_service_level_t)l));
        lua_setfield(L, -2, load_manager_service_level_string((load_manager_service_level_t)l));
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
    lua_pushnil(L);
    lua_pushstring(L, go_error_msg(err));
    return 2;
}

static int svc_update_metrics(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lsim_need_goroutine(L, "DegradableService.update_metrics");
    degradable_service_update_metrics(s);
    lua_pushstring(L, load_manager_service_level_string(load_manager_get_current_level(degradable_service_load_manager(s))));
    return 1;
}

static int svc_level(lua_State *L)
{
    degradable_service_t *s = check_svc(L, 1);
    lsim_need_goroutine(L, "LoadManager.GetCurrentLevel");
    lua_pushstring(L, load_manager_service_level_string(load_manager_get_current_level(degradable_service_load_manager(s))));
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
        set_str(L, "level", load_manager_service_level_string(u->level));
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
    lsim_newmeta(L, LOAD_MANAGER_MT, lm_methods);
    lsim_newmeta(L, SERVICE_MT, svc_methods);
    lua_pushcfunction(L, l_load_manager);
    lua_setfield(L, t, "load_manager");
    lua_pushcfunction(L, l_degradable_service);
    lua_setfield(L, t, "degradable_service");
}
