/*
 * lsim_breaker: sim.breaker{...}, the seed's CircuitBreaker, and
 * sim.simulate_service, the seed's simulateService.
 *
 *   local cb = sim.breaker{ name = "example-service", failure_threshold = 3,
 *                           success_threshold = 2, reset_timeout = "5s",
 *                           on_state_change = function(name, from, to) ... end }
 *   local result, err = cb:execute(function(ctx)
 *     return sim.simulate_service(ctx, "example-service", 80, "300ms")
 *   end, "1s")
 *   print(cb:state(), cb:metrics().total_failures)
 *
 * execute(fn [, timeout | ctx]) calls fn(ctx) synchronously in the calling
 * goroutine; ctx is a fresh context with the timeout (or the given ctx, or
 * Background). fn returns a result, or nil and an error string; a Lua
 * error raised by fn also counts as a failure and comes back as the error.
 * An error equal to "context deadline exceeded" counts as a timeout, as
 * errors.Is(err, context.DeadlineExceeded) does in the seed. execute
 * returns the result, or nil and the error ("circuit breaker is open",
 * "too many requests" when rejected).
 */
#include <string.h>

#include <lauxlib.h>

#include "breaker.h"
#include "host_bind.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "lsim_kit.h"

#define BREAKER_MT "chansim.breaker"
#define CTX_MT "chansim.context" /* lsim_ctx.c's metatable */

typedef struct lbreaker {
    breaker_t *cb; /* scheduler-owned */
    host_t *h;
    int on_change_ref;     /* on_state_change, or LUA_NOREF */
    bool log;              /* print the seed's log.Printf lines */
} lbreaker_t;

LSIM_CHECK_UDATA(check_breaker, lbreaker_t, BREAKER_MT)

static void breaker_log(void *ud, const char *line)
{
    lbreaker_t *b = ud;
    if (b->log)
        lsim_log_line(b->h, breaker_name(b->cb), line);
}

typedef struct change {
    const char *name;
    breaker_state_t from, to;
} change_t;

static void push_change(void *ud, lua_State *M)
{
    change_t *c = ud;
    lua_pushstring(M, c->name);
    lua_pushstring(M, breaker_state_string(c->from));
    lua_pushstring(M, breaker_state_string(c->to));
}

static void on_state_change(void *ud, const char *name, breaker_state_t from,
                            breaker_state_t to)
{
    lbreaker_t *b = ud;
    change_t c = {name, from, to};
    free(lsim_call_ref(host_lua(b->h), b->on_change_ref, push_change, &c));
}

static const char *const breaker_keys[] = {
    "name", "failure_threshold", "success_threshold", "reset_timeout", "on_state_change",
    "variant", "log", NULL,
};

/* sim.breaker{ name, failure_threshold = 3, success_threshold = 2,
 *              reset_timeout = "5s", on_state_change, variant, log = true } */
static int l_breaker(lua_State *L)
{
    lsim_opts_t opt = lsim_opts_opt(L, 1, "sim.breaker", breaker_keys);
    /* The seed demo's values (NewCircuitBreaker's own are 5, 3, 10s). */
    breaker_options_t o = breaker_defaults();
    o.failure_threshold = lsim_opt_int(&opt, "failure_threshold", 3, 1, 1000000);
    o.success_threshold = lsim_opt_int(&opt, "success_threshold", 2, 1, 1000000);
    o.reset_timeout = lsim_opt_dur(&opt, "reset_timeout", 5 * SIM_SEC, 1, INT64_MAX);
    o.seed_variant = lsim_opt_seed_variant(&opt);
    const char *name = lsim_opt_str(&opt, "name", "breaker");
    bool log = lsim_opt_bool(&opt, "log", true);
    int ref = lsim_opt_func(&opt, "on_state_change");

    lbreaker_t *b = lsim_newudata(L, sizeof *b, BREAKER_MT, 0);
    memset(b, 0, sizeof *b);
    b->h = host_of(L);
    b->on_change_ref = ref;
    b->log = log;
    if (ref != LUA_NOREF) {
        o.on_state_change = on_state_change;
        o.on_state_change_ud = b;
    }
    o.log = breaker_log;
    o.log_ud = b;
    /* The userdata must outlive the breaker's callbacks: keep it in the
     * registry for the run (the breaker is scheduler-owned anyway). */
    lua_pushvalue(L, -1);
    luaL_ref(L, LUA_REGISTRYINDEX);
    b->cb = breaker_create(name, &o);
    return 1;
}

typedef struct exec_arg {
    lua_State *L;
    int fn_idx;     /* the function to run */
    ctx_t *ctx;     /* its context */
    int result_idx; /* where its result is kept (stack slot) */
} exec_arg_t;

/* The protected function: fn(ctx) under pcall, in the calling goroutine. */
static const go_error_t *exec_fn(void *ud)
{
    exec_arg_t *a = ud;
    lua_State *L = a->L;
    lua_pushvalue(L, a->fn_idx);
    lsim_pushctx(L, a->ctx);
    if (lsim_pcall(L, 1, 2) != LUA_OK) {
        const go_error_t *err = lsim_to_go_error(L, -1);
        lua_pop(L, 1);
        return err;
    }
    if (!lua_isnil(L, -1)) {
        const go_error_t *err = lsim_to_go_error(L, -1);
        lua_pop(L, 2);
        return err;
    }
    lua_pop(L, 1);
    lua_replace(L, a->result_idx);
    return NULL;
}

/* result | nil, err = cb:execute(fn [, timeout | ctx]) */
static int br_execute(lua_State *L)
{
    lbreaker_t *b = check_breaker(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lsim_need_goroutine(L, "CircuitBreaker.Execute");
    ctx_t *ctx;
    bool own = false;
    if (lua_isnoneornil(L, 3)) {
        ctx = ctx_background();
    } else if (luaL_testudata(L, 3, CTX_MT)) {
        ctx = lsim_checkctx(L, 3);
    } else {
        simtime_t d = lsim_checkduration(L, 3);
        if (d <= 0)
            return luaL_error(L, "CircuitBreaker.Execute: the timeout must be positive");
        ctx = ctx_with_timeout(ctx_background(), d);
        own = true;
    }
    lua_settop(L, 2);
    lua_pushnil(L); /* 3: the result */
    exec_arg_t a = {L, 2, ctx, 3};
    const go_error_t *err = breaker_execute(b->cb, ctx, exec_fn, &a);
    if (own)
        ctx_cancel(ctx); /* cancel() // Always cancel the context */
    if (err)
        return lsim_push_error(L, err);
    lua_settop(L, 3);
    return 1;
}

static int br_state(lua_State *L)
{
    lua_pushstring(L, breaker_state_string(breaker_get_state(check_breaker(L, 1)->cb)));
    return 1;
}

/* cb:metrics(): GetMetrics() (durations in ns) plus chansim's fields. */
static int br_metrics(lua_State *L)
{
    lbreaker_t *b = check_breaker(L, 1);
    breaker_metrics_t m = breaker_get_metrics(b->cb);
    lua_createtable(L, 0, 20);
    lua_pushstring(L, breaker_state_string(m.state));
    lua_setfield(L, -2, "state");
    lsim_set_int(L, "total_requests", m.total_requests);
    lsim_set_int(L, "total_successes", m.total_successes);
    lsim_set_int(L, "total_failures", m.total_failures);
    lsim_set_int(L, "total_timeouts", m.total_timeouts);
    lsim_set_int(L, "total_short_circuits", m.total_short_circuits);
    lsim_set_int(L, "consecutive_successes", m.consecutive_successes);
    lsim_set_int(L, "consecutive_failures", m.consecutive_failures);
    lsim_set_int(L, "average_response_time", m.average_response_time);
    lsim_set_int(L, "last_state_change_ago", m.last_state_change_ago);
    lsim_set_int(L, "failure_count", m.failure_count);
    lsim_set_int(L, "success_count", m.success_count);
    lsim_set_int(L, "last_state_change", m.last_state_change);
    lsim_set_int(L, "open_until", m.open_until);
    lsim_set_int(L, "in_flight", m.in_flight);
    lsim_set_int(L, "half_open_admitted", m.half_open_admitted);
    lsim_set_int(L, "half_open_admitted_max", m.half_open_admitted_max);
    lsim_set_int(L, "stale_results", m.stale_results);
    lsim_set_int(L, "transitions", m.transitions);
    return 1;
}

static int br_name(lua_State *L)
{
    lua_pushstring(L, breaker_name(check_breaker(L, 1)->cb));
    return 1;
}

static int br_entity(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)entity_id(breaker_entity(check_breaker(L, 1)->cb)));
    return 1;
}

static int br_tostring(lua_State *L)
{
    lbreaker_t *b = check_breaker(L, 1);
    lua_pushfstring(L, "breaker(%s, %s)", breaker_name(b->cb),
                    breaker_state_string(breaker_get_state(b->cb)));
    return 1;
}

/* result | nil, err = sim.simulate_service(ctx, id, failure_rate, latency) */
static int l_simulate_service(lua_State *L)
{
    ctx_t *ctx = lsim_checkctx(L, 1);
    const char *id = luaL_checkstring(L, 2);
    lua_Integer rate = luaL_checkinteger(L, 3);
    luaL_argcheck(L, rate >= 0 && rate <= 100, 3, "failure rate must be a percentage from 0 to 100");
    simtime_t latency = lsim_checkduration(L, 4);
    luaL_argcheck(L, latency >= 0, 4, "latency must not be negative");
    lsim_need_goroutine(L, "simulateService");
    char out[256];
    const go_error_t *err = breaker_simulate_service(ctx, id, (int)rate, latency, out, sizeof out);
    if (err)
        return lsim_push_error(L, err);
    lua_pushstring(L, out);
    return 1;
}

void lsim_open_breaker(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"execute", br_execute}, {"state", br_state}, {"metrics", br_metrics},
        {"name", br_name},       {"entity", br_entity}, {NULL, NULL},
    };
    static const luaL_Reg meta[] = {{"__tostring", br_tostring}, {NULL, NULL}};
    lsim_createmeta(L, BREAKER_MT, meta, methods);
    lua_pushcfunction(L, l_breaker);
    lua_setfield(L, t, "breaker");
    lua_pushcfunction(L, l_simulate_service);
    lua_setfield(L, t, "simulate_service");
}
