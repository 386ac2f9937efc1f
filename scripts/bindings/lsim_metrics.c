/*
 * lsim_metrics: sim.counter, sim.gauge and sim.histogram, the binding of
 * core's metrics registry (see core/metrics.h), with Prometheus's names:
 *
 *   local req = sim.counter{ name = "requests_total", help = "...",
 *                            labels = {"service", "status"} }
 *   req:with{ service = "api", status = "ok" }:inc()
 *   req:labels("api", "error"):add(2)
 *   local dur = sim.histogram{ name = "request_duration_seconds",
 *                              buckets = sim.exponential_buckets(0.001, 2, 10) }
 *   dur:observe(0.25)               -- seconds, as Prometheus wants
 *   dur:observe_duration("250ms")   -- a duration, observed in seconds
 *
 * A metric object is a userdata holding its family and, for a plain metric
 * or a label set picked with :with / :labels, its series. Families and
 * series belong to the run's registry (scheduler-owned), so the userdata
 * holds only borrowed pointers and has no __gc. Misuse (a bad name, a
 * counter going down, a missing label) raises a Lua error with the
 * scenario's file:line, which inside a goroutine is a panic of the
 * simulated program, as the same misuse panics in Go.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lsim.h"
#include "metrics.h"

#define METRIC_MT "chansim.metric"

typedef struct lmetric {
    metrics_family_t *f; /* the family (borrowed from the run's registry) */
    metrics_series_t *s; /* the series, or NULL for a vector without labels picked */
} lmetric_t;

LSIM_CHECK_UDATA(check_metric, lmetric_t, METRIC_MT)

static void push_metric(lua_State *L, metrics_family_t *f, metrics_series_t *s)
{
    lmetric_t *m = lsim_newudata(L, sizeof *m, METRIC_MT, 0);
    m->f = f;
    m->s = s;
}

/* ---- constructors ------------------------------------------------------- */

static const char *const counter_keys[] = {"name", "help", "labels", NULL};
static const char *const histogram_keys[] = {"name", "help", "labels", "buckets", NULL};

/* Fill out with the sequence at the table's key (numbers or strings);
 * returns the count. */
static size_t list_field(const lsim_opts_t *o, const char *key, bool numbers, const char **names,
                         double *values, size_t max)
{
    lua_State *L = o->L;
    int t = lsim_opt_push(o, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE)
        lsim_opt_fail(o, key, -1, numbers ? "a list of numbers" : "a list of strings");
    int list = lua_gettop(L);
    lua_Integer n = luaL_len(L, list);
    if (n < 0 || (size_t)n > max)
        lsim_opts_error(o, "%s has %d entries, at most %d", key, (int)n, (int)max);
    for (lua_Integer i = 1; i <= n; i++) {
        int et = lua_rawgeti(L, list, i);
        if (et != (numbers ? LUA_TNUMBER : LUA_TSTRING))
            lsim_opts_error(o, "%s[%d] must be a %s (got %s)", key, (int)i, numbers ? "number" : "string",
                            lsim_shown(L, -1));
        if (numbers)
            values[i - 1] = lua_tonumber(L, -1);
        else
            names[i - 1] = lua_tostring(L, -1); /* alive in the list */
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* the list stays alive in the options table */
    return (size_t)n;
}

static int new_metric(lua_State *L, metrics_type_t type, const char *what)
{
    metrics_opts_t o = {0};
    const char *labels[METRICS_MAX_LABELS];
    double *buckets = NULL;
    if (lua_type(L, 1) == LUA_TSTRING) {
        /* sim.counter("name" [, "help"]) */
        o.name = lua_tostring(L, 1);
        o.help = luaL_optstring(L, 2, "");
    } else {
        lsim_opts_t opt = lsim_opts(L, 1, what, type == METRICS_HISTOGRAM ? histogram_keys : counter_keys);
        o.name = lsim_opt_str(&opt, "name", NULL);
        if (!o.name)
            return lsim_opts_error(&opt, "name is required (a Prometheus name such as \"requests_total\")");
        o.help = lsim_opt_str(&opt, "help", NULL);
        o.labels = labels;
        o.nlabels = list_field(&opt, "labels", false, labels, NULL, METRICS_MAX_LABELS);
        if (type == METRICS_HISTOGRAM) {
            buckets = lua_newuserdatauv(L, METRICS_MAX_BUCKETS * sizeof *buckets, 0);
            o.buckets = buckets;
            o.nbuckets = list_field(&opt, "buckets", true, NULL, buckets, METRICS_MAX_BUCKETS);
        }
    }
    metrics_registry_t *r = metrics_registry_of(lsim_sched(L));
    if (!r)
        return luaL_error(L, "%s: metrics are registered while the scenario runs (not in "
                             "finally checks)", what);
    metrics_family_t *f = metrics_register(r, type, &o, NULL);
    if (!f)
        return luaL_error(L, "%s: %s", what, metrics_last_error(r));
    push_metric(L, f, metrics_only(f));
    return 1;
}

static int l_counter(lua_State *L) { return new_metric(L, METRICS_COUNTER, "sim.counter"); }
static int l_gauge(lua_State *L) { return new_metric(L, METRICS_GAUGE, "sim.gauge"); }
static int l_histogram(lua_State *L) { return new_metric(L, METRICS_HISTOGRAM, "sim.histogram"); }

static int push_buckets(lua_State *L, const double *b, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, b[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static size_t check_count(lua_State *L, int idx, const char *what)
{
    lua_Integer n = luaL_checkinteger(L, idx);
    if (n < 1)
        luaL_error(L, "%s needs a positive count", what);
    if (n > METRICS_MAX_BUCKETS)
        luaL_error(L, "%s: %d buckets, at most %d", what, (int)n, METRICS_MAX_BUCKETS);
    return (size_t)n;
}

/* sim.exponential_buckets(start, factor, count), as prometheus.ExponentialBuckets */
static int l_exponential_buckets(lua_State *L)
{
    double start = luaL_checknumber(L, 1), factor = luaL_checknumber(L, 2);
    size_t n = check_count(L, 3, "ExponentialBuckets");
    if (!(start > 0))
        return luaL_error(L, "ExponentialBuckets needs a positive start value");
    if (!(factor > 1))
        return luaL_error(L, "ExponentialBuckets needs a factor greater than 1");
    double *b = lua_newuserdatauv(L, n * sizeof *b, 0);
    if (metrics_exponential_buckets(start, factor, n, b) != METRICS_OK)
        return luaL_error(L, "ExponentialBuckets: bad arguments");
    return push_buckets(L, b, n);
}

/* sim.linear_buckets(start, width, count), as prometheus.LinearBuckets */
static int l_linear_buckets(lua_State *L)
{
    double start = luaL_checknumber(L, 1), width = luaL_checknumber(L, 2);
    size_t n = check_count(L, 3, "LinearBuckets");
    if (!(width > 0))
        return luaL_error(L, "LinearBuckets needs a positive width");
    double *b = lua_newuserdatauv(L, n * sizeof *b, 0);
    if (metrics_linear_buckets(start, width, n, b) != METRICS_OK)
        return luaL_error(L, "LinearBuckets: bad arguments");
    return push_buckets(L, b, n);
}

/* sim.metrics_text(): the Prometheus exposition of the run so far. */
static int l_metrics_text(lua_State *L)
{
    size_t len = 0;
    char *text = metrics_text(metrics_registry_find(lsim_sched(L)), &len);
    if (!text)
        return luaL_error(L, "sim.metrics_text: out of memory");
    lua_pushlstring(L, text, len);
    free(text);
    return 1;
}

/* ---- label sets ---------------------------------------------------------- */

static const char *label_value(lua_State *L, int idx, const char *label)
{
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
        return lua_tostring(L, idx); /* numbers become strings in place */
    luaL_error(L, "label %s: want a string (or number) value, got %s", label, luaL_typename(L, idx));
    return NULL;
}

static int pick(lua_State *L, lmetric_t *m, const char *const *values, size_t n)
{
    metrics_series_t *s = metrics_with(m->f, values, n, NULL);
    if (!s)
        return luaL_error(L, "%s", metrics_last_error(metrics_family_registry(m->f)));
    push_metric(L, m->f, s);
    return 1;
}

/* m:with{ label = value, ... } (Go's With(prometheus.Labels{...})) */
static int m_with(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t n = metrics_family_nlabels(m->f);
    const char *values[METRICS_MAX_LABELS];
    luaL_checkstack(L, (int)n + 4, "too many labels");
    for (size_t i = 0; i < n; i++) {
        const char *label = metrics_family_label(m->f, i);
        if (lua_getfield(L, 2, label) == LUA_TNIL)
            return luaL_error(L, "%s:with{}: label %s is missing", metrics_family_name(m->f), label);
        values[i] = label_value(L, -1, label); /* stays on the stack */
    }
    /* Anything else in the table is a label the metric does not have. */
    const char *extra = NULL; /* the least unknown name, so the message is always the same */
    bool nonstring = false;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        lua_pop(L, 1);
        bool known = false;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            for (size_t i = 0; i < n; i++)
                known = known || strcmp(k, metrics_family_label(m->f, i)) == 0;
            if (!known && (!extra || strcmp(k, extra) < 0))
                extra = k;
        } else {
            nonstring = true;
        }
    }
    if (extra)
        return luaL_error(L, "%s:with{}: the metric has no label %s", metrics_family_name(m->f),
                          extra);
    if (nonstring)
        return luaL_error(L, "%s:with{}: labels are given by name, as with{label = \"value\"}",
                          metrics_family_name(m->f));
    return pick(L, m, values, n);
}

/* m:labels(v1, v2, ...) (Go's WithLabelValues) */
static int m_labels(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    size_t n = (size_t)(lua_gettop(L) - 1);
    size_t nf = metrics_family_nlabels(m->f);
    const char *values[METRICS_MAX_LABELS + 1] = {0};
    if (n != nf) /* core reports the mismatch; more than it can hold still mismatches */
        return pick(L, m, values, n > METRICS_MAX_LABELS + 1 ? METRICS_MAX_LABELS + 1 : n);
    for (size_t i = 0; i < n; i++)
        values[i] = label_value(L, (int)i + 2, metrics_family_label(m->f, i));
    return pick(L, m, values, n);
}

/* ---- updates ------------------------------------------------------------- */

static metrics_series_t *need_series(lua_State *L, lmetric_t *m)
{
    if (m->s)
        return m->s;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t n = metrics_family_nlabels(m->f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, metrics_family_label(m->f, i));
    }
    luaL_pushresult(&b);
    luaL_error(L, "%s has labels (%s): pick a series with :with{...} or :labels(...) first",
               metrics_family_name(m->f), lua_tostring(L, -1));
    return NULL;
}

static int checked(lua_State *L, lmetric_t *m, metrics_err_t e)
{
    if (e == METRICS_EDECREASE)
        return lsim_go_panic(L, "counter cannot decrease in value"); /* Go's panic */
    if (e != METRICS_OK)
        return luaL_error(L, "%s %s: %s", metrics_type_name(metrics_family_type(m->f)),
                          metrics_family_name(m->f), metrics_strerror(e));
    return 0;
}

static void need_type(lua_State *L, lmetric_t *m, unsigned types, const char *method)
{
    metrics_type_t t = metrics_family_type(m->f);
    if (!(types & (1u << t)))
        luaL_error(L, "%s %s has no method %s", metrics_type_name(t), metrics_family_name(m->f),
                   method);
}

#define T_COUNTER (1u << METRICS_COUNTER)
#define T_GAUGE (1u << METRICS_GAUGE)
#define T_HISTOGRAM (1u << METRICS_HISTOGRAM)

static int m_inc(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_COUNTER | T_GAUGE, "inc");
    double v = luaL_optnumber(L, 2, 1);
    return checked(L, m, metrics_add(need_series(L, m), v));
}

static int m_add(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_COUNTER | T_GAUGE, "add");
    double v = luaL_checknumber(L, 2);
    return checked(L, m, metrics_add(need_series(L, m), v));
}

static int m_dec(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_GAUGE, "dec");
    double v = luaL_optnumber(L, 2, 1);
    return checked(L, m, metrics_sub(need_series(L, m), v));
}

static int m_sub(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_GAUGE, "sub");
    double v = luaL_checknumber(L, 2);
    return checked(L, m, metrics_sub(need_series(L, m), v));
}

static int m_set(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_GAUGE, "set");
    double v = luaL_checknumber(L, 2);
    return checked(L, m, metrics_set(need_series(L, m), v));
}

/* Go's SetToCurrentTime, in simulated seconds. */
static int m_set_to_current_time(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_GAUGE, "set_to_current_time");
    double now = (double)sched_now_of(lsim_sched(L)) / 1e9;
    return checked(L, m, metrics_set(need_series(L, m), now));
}

static int m_observe(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_HISTOGRAM, "observe");
    double v = luaL_checknumber(L, 2);
    return checked(L, m, metrics_observe(need_series(L, m), v));
}

/* h:observe_duration(d): a duration (ns or "250ms") observed in seconds. */
static int m_observe_duration(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_HISTOGRAM, "observe_duration");
    simtime_t d = lsim_checkduration(L, 2);
    return checked(L, m, metrics_observe(need_series(L, m), (double)d / 1e9));
}

/* ---- reading ------------------------------------------------------------- */

static int m_value(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_COUNTER | T_GAUGE, "value (a histogram has count and sum)");
    double v = metrics_value(need_series(L, m));
    /* Whole numbers as Lua integers, so that print shows 18, not 18.0. */
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(lua_Integer)v)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
    return 1;
}

static int m_count(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_HISTOGRAM, "count");
    lua_pushinteger(L, (lua_Integer)metrics_hist_count(need_series(L, m)));
    return 1;
}

static int m_sum(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    need_type(L, m, T_HISTOGRAM, "sum");
    lua_pushnumber(L, metrics_hist_sum(need_series(L, m)));
    return 1;
}

static int m_name(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    lua_pushstring(L, m->s ? metrics_series_name(m->s) : metrics_family_name(m->f));
    return 1;
}

static int m_tostring(lua_State *L)
{
    lmetric_t *m = check_metric(L, 1);
    const char *type = metrics_type_name(metrics_family_type(m->f));
    if (!m->s) {
        lua_pushfstring(L, "%s %s (%d series)", type, metrics_family_name(m->f),
                        (int)metrics_series_count(m->f));
        return 1;
    }
    char num[48];
    if (metrics_family_type(m->f) == METRICS_HISTOGRAM) {
        metrics_format_value(metrics_hist_sum(m->s), num, sizeof num);
        lua_pushfstring(L, "%s %s count=%I sum=%s", type, metrics_series_name(m->s),
                        (lua_Integer)metrics_hist_count(m->s), num);
    } else {
        metrics_format_value(metrics_value(m->s), num, sizeof num);
        lua_pushfstring(L, "%s %s = %s", type, metrics_series_name(m->s), num);
    }
    return 1;
}

static const luaL_Reg metric_methods[] = {
    {"inc", m_inc},
    {"add", m_add},
    {"dec", m_dec},
    {"sub", m_sub},
    {"set", m_set},
    {"set_to_current_time", m_set_to_current_time},
    {"observe", m_observe},
    {"observe_duration", m_observe_duration},
    {"with", m_with},
    {"labels", m_labels},
    {"value", m_value},
    {"count", m_count},
    {"sum", m_sum},
    {"name", m_name},
    {NULL, NULL},
};

static const luaL_Reg metric_meta[] = {
    {"__tostring", m_tostring},
    {NULL, NULL},
};

void lsim_open_metrics(lua_State *L, int simtable)
{
    lsim_createmeta(L, METRIC_MT, metric_meta, metric_methods);
    static const luaL_Reg funcs[] = {
        {"counter", l_counter},
        {"gauge", l_gauge},
        {"histogram", l_histogram},
        {"exponential_buckets", l_exponential_buckets},
        {"linear_buckets", l_linear_buckets},
        {"metrics_text", l_metrics_text},
        {NULL, NULL},
    };
    lua_pushvalue(L, simtable);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
