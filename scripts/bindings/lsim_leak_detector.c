/*
 * lsim_leak_detector: sim.leak_detector{...}, the seed's LeakDetector,
 * and sim.goroutine_profile(), the seed's dumpStacks condensed.
 *
 *   local d = sim.leak_detector{ interval = "500ms", threshold = 0.05, sample_size = 10,
 *                                alert_threshold = 1000,
 *                                on_leak = function(count, samples) ... end }
 *   d:start()                       -- sleeps the 100ms warm-up, takes the baseline
 *   print(d:stats().baseline_count)
 *   for _, g in ipairs(sim.goroutine_profile()) do print(g.count, g.reason, g.name) end
 *   d:stop()
 *
 * Options: name, interval = "500ms", threshold = 0.05, sample_size = 10,
 * alert_threshold = 1000 (the seed's default; SetAlertThreshold),
 * warmup = "100ms", on_leak (SetOnLeakDetected; without one the seed's
 * "WARNING: Potential goroutine leak detected!" is logged), variant =
 * "corrected" | "seed", log = true. on_leak(count, samples) runs in the
 * detector's goroutine.
 */
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "leak_detector.h"
#include "lsim.h"
#include "lsim_kit.h"

#define LD_MT "chansim.leak_detector"

typedef struct lld {
    leak_detector_t *ld; /* scheduler-owned */
    host_t *h;
    bool log;
    int on_leak_ref;     /* LUA_NOREF: the seed's default */
} lld_t;

LSIM_CHECK_UDATA(check_ld, lld_t, LD_MT)

static void ld_log(void *ud, const char *line)
{
    lld_t *l = ud;
    if (l->log)
        lsim_log_line(l->h, leak_detector_name(l->ld), line);
}

typedef struct leak_args {
    int count;
    const int *samples;
    int n;
} leak_args_t;

static void push_leak(void *ud, lua_State *M)
{
    leak_args_t *a = ud;
    lua_pushinteger(M, a->count);
    lua_createtable(M, a->n, 0);
    for (int i = 0; i < a->n; i++) {
        lua_pushinteger(M, a->samples[i]);
        lua_rawseti(M, -2, i + 1);
    }
}

static void lua_on_leak(void *ud, int count, const int *samples, int nsamples)
{
    lld_t *l = ud;
    leak_args_t a = {count, samples, nsamples};
    free(lsim_call_ref(host_lua(l->h), l->on_leak_ref, push_leak, &a));
}

static const char *const ld_keys[] = {
    "name", "interval", "threshold", "sample_size", "alert_threshold", "warmup", "on_leak",
    "variant", "log", NULL,
};

static int l_leak_detector(lua_State *L)
{
    lsim_opts_t opt = lsim_opts_opt(L, 1, "sim.leak_detector", ld_keys);
    simtime_t interval = lsim_opt_dur(&opt, "interval", 500 * SIM_MS, 1, INT64_MAX);
    double threshold = lsim_opt_num(&opt, "threshold", 0.05, 0.0, 1e9);
    int sample_size = (int)lsim_opt_int(&opt, "sample_size", 10, 1, LEAK_DETECTOR_MAX_SAMPLES);
    int alert = (int)lsim_opt_int(&opt, "alert_threshold", 1000, 0, 100000000);
    leak_detector_options_t o = {0};
    o.warmup = lsim_opt_dur(&opt, "warmup", 100 * SIM_MS, 1, INT64_MAX);
    o.seed_variant = lsim_opt_seed_variant(&opt);
    o.name = lsim_opt_str(&opt, "name", "leak-detector");
    bool log = lsim_opt_bool(&opt, "log", true);
    int ref = lsim_opt_func(&opt, "on_leak");

    lld_t *l = lsim_newudata(L, sizeof *l, LD_MT, 0);
    memset(l, 0, sizeof *l);
    l->h = host_of(L);
    l->log = log;
    l->on_leak_ref = ref;
    lua_pushvalue(L, -1);
    luaL_ref(L, LUA_REGISTRYINDEX); /* its goroutine logs and calls back for the run */
    o.log = ld_log;
    o.log_ud = l;
    l->ld = leak_detector_create(interval, threshold, sample_size, &o);
    leak_detector_set_alert_threshold(l->ld, alert);
    if (ref != LUA_NOREF)
        leak_detector_set_on_leak_detected(l->ld, lua_on_leak, l);
    return 1;
}

static int ld_start_l(lua_State *L)
{
    lld_t *l = check_ld(L, 1);
    lsim_need_goroutine(L, "LeakDetector.Start");
    leak_detector_start(l->ld);
    return 0;
}

static int ld_stop_l(lua_State *L)
{
    leak_detector_stop(check_ld(L, 1)->ld);
    return 0;
}

static int ld_set_alert_threshold_l(lua_State *L)
{
    lld_t *l = check_ld(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0 && n <= 100000000, 2, "alert threshold out of range");
    leak_detector_set_alert_threshold(l->ld, (int)n);
    return 0;
}

static int ld_set_on_leak_detected_l(lua_State *L)
{
    lld_t *l = check_ld(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    l->on_leak_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    leak_detector_set_on_leak_detected(l->ld, lua_on_leak, l);
    return 0;
}

/* d:stats(): GetStats() { current_count, baseline_count, previous_count,
 * samples, alert_threshold } plus alerts */
static int ld_stats_l(lua_State *L)
{
    lld_t *l = check_ld(L, 1);
    leak_detector_stats_t *st = lua_newuserdatauv(L, sizeof *st, 0); /* large: off the C stack */
    leak_detector_get_stats(l->ld, st);
    lua_createtable(L, 0, 6);
    lsim_set_int(L, "current_count", st->current_count);
    lsim_set_int(L, "baseline_count", st->baseline_count);
    lsim_set_int(L, "previous_count", st->previous_count);
    lsim_set_int(L, "alert_threshold", st->alert_threshold);
    lsim_set_int(L, "alerts", st->alerts);
    lua_createtable(L, st->nsamples, 0);
    for (int i = 0; i < st->nsamples; i++) {
        lua_pushinteger(L, st->samples[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "samples");
    return 1;
}

/* d:alerts() -> { { t, count, window_min }, ... } */
static int ld_alerts_l(lua_State *L)
{
    lld_t *l = check_ld(L, 1);
    size_t n;
    const leak_detector_alert_t *a = leak_detector_alerts(l->ld, &n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 3);
        lsim_set_int(L, "t", a[i].t);
        lsim_set_int(L, "count", a[i].count);
        lsim_set_int(L, "window_min", a[i].window_min);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int ld_entity_l(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)entity_id(leak_detector_entity(check_ld(L, 1)->ld)));
    return 1;
}

/* sim.goroutine_profile() -> { { count, reason, name, created_by, first_id,
 *                                oldest_blocked_since }, ... } */
static int l_goroutine_profile(lua_State *L)
{
    sched_t *s = sched_current();
    if (!s)
        return luaL_error(L, "sim.goroutine_profile: no run in progress");
    size_t max = 256;
    leak_detector_goroutine_group_t *g = lua_newuserdatauv(L, max * sizeof *g, 0);
    size_t n = leak_detector_goroutine_profile(s, g, max);
    if (n > max)
        n = max;
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 6);
        lsim_set_int(L, "count", g[i].count);
        lua_pushstring(L, g[i].reason == WAIT_NONE ? "running" : wait_reason_string(g[i].reason));
        lua_setfield(L, -2, "reason");
        lua_pushstring(L, g[i].name);
        lua_setfield(L, -2, "name");
        lsim_set_int(L, "created_by", (lua_Integer)g[i].created_by);
        lsim_set_int(L, "first_id", (lua_Integer)g[i].first_id);
        lsim_set_int(L, "oldest_blocked_since", g[i].oldest_blocked_since);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

void lsim_open_leak_detector(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"start", ld_start_l},
        {"stop", ld_stop_l},
        {"set_alert_threshold", ld_set_alert_threshold_l},
        {"set_on_leak_detected", ld_set_on_leak_detected_l},
        {"stats", ld_stats_l},
        {"alerts", ld_alerts_l},
        {"entity", ld_entity_l},
        {NULL, NULL},
    };
    lsim_createmeta(L, LD_MT, NULL, methods);
    lua_pushcfunction(L, l_leak_detector);
    lua_setfield(L, t, "leak_detector");
    lua_pushcfunction(L, l_goroutine_profile);
    lua_setfield(L, t, "goroutine_profile");
}
