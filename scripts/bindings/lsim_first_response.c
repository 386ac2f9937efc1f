/*
 * lsim_first_response: sim.first_response{...}, a client that makes the
 * seed's hedged calls (firstResponse over simulateDistributedOperation).
 *
 *   local fr = sim.first_response{ variant = "seed" }
 *   local r = fr:call("400ms")        -- one firstResponse(ctx, 400ms, ops...)
 *   if r.err then print("All operations failed or timed out: " .. r.err) end
 *
 * Options (the seed's values as defaults): operations = { {name =
 * "fast-service", min = "50ms", max = "150ms", fail_pct = 10}, {name =
 * "medium-service", min = "100ms", max = "300ms"}, {name = "slow-service",
 * min = "200ms", max = "500ms"} } (fail_pct defaults to the seed's 10),
 * timeout = "400ms" (used when call gets none), variant = "corrected" or
 * "seed", name = "firstResponse" (the client entity's name).
 *
 * Methods: fr:call([timeout [, ctx]]) -> { ok, value, err, from, latency };
 * fr:set(name, {min =, max =, fail_pct =}) changes an operation from now on
 * (a fault: a slow or failing backend); fr:stats() -> { calls, successes,
 * errors, success_rate, latency_avg, latency_max, operations = { {name,
 * calls, ok, failed, canceled, wins}, ... } }.
 */
#include <string.h>

#include <lauxlib.h>

#include "first_response.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "lsim_flow.h"

#define FN "sim.first_response"
#define FR_MT "chansim.first_response"
#define MAX_OPS 32

typedef struct lfr {
    first_response_operation_t *ops;      /* n, scheduler-owned */
    first_response_operation_t **op_ptrs; /* the list firstResponse takes */
    int n;
    first_response_client_t *client;   /* scheduler-owned */
    simtime_t timeout;
    int variant;
} lfr_t;

static lfr_t *check_fr(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, FR_MT);
}

/* Read {min =, max =, fail_pct =} at idx into op (fields absent: kept). */
static void read_behaviour(lua_State *L, int idx, const char *what, first_response_operation_t *op)
{
    op->min_latency = lflow_dur(L, idx, what, "min", op->min_latency, 0, 3600 * SIM_SEC);
    op->max_latency = lflow_dur(L, idx, what, "max", op->max_latency, 0, 3600 * SIM_SEC);
    op->fail_pct = (int)lflow_int(L, idx, what, "fail_pct", op->fail_pct, 0, 100);
    if (op->max_latency < op->min_latency)
        luaL_error(L, "%s: max must not be less than min", what);
}

static void publish_behaviour(first_response_operation_t *op)
{
    entity_set(op->entity, "min_latency_ns", op->min_latency);
    entity_set(op->entity, "max_latency_ns", op->max_latency);
    entity_set(op->entity, "fail_pct", op->fail_pct);
}

static int l_first_response(lua_State *L)
{
    static const char *const known[] = {"operations", "timeout", "variant", "name", NULL};
    static const char *const op_known[] = {"name", "min", "max", "fail_pct", NULL};
    static const char *const variants[] = {"corrected", "seed", NULL};
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    lflow_check_keys(L, 1, FN, known);
    simtime_t timeout = lflow_dur(L, 1, FN, "timeout", 400 * SIM_MS, 1, 3600 * SIM_SEC);
    int variant = lflow_enum(L, 1, FN, "variant", variants, 0);
    lua_getfield(L, 1, "name");
    const char *cname = luaL_optstring(L, -1, "firstResponse");
    lua_pop(L, 1); /* the string stays alive in the options table */

    /* Read the operations before allocating anything. */
    first_response_operation_t tmp[MAX_OPS];
    char names[MAX_OPS][48];
    int n = 3;
    memset(tmp, 0, sizeof tmp);
    lua_getfield(L, 1, "operations");
    if (lua_isnil(L, -1)) {
        static const struct { const char *name; simtime_t lo, hi; } seed[] = {
            {"fast-service", 50 * SIM_MS, 150 * SIM_MS},    /* fastButUnreliable */
            {"medium-service", 100 * SIM_MS, 300 * SIM_MS}, /* mediumLatency */
            {"slow-service", 200 * SIM_MS, 500 * SIM_MS},   /* slowButReliable */
        };
        for (int i = 0; i < 3; i++) {
            strcpy(names[i], seed[i].name);
            tmp[i].min_latency = seed[i].lo;
            tmp[i].max_latency = seed[i].hi;
            tmp[i].fail_pct = 10;
        }
    } else {
        if (!lua_istable(L, -1))
            return luaL_error(L, FN ": operations must be a list of {name =, min =, max =, fail_pct =}");
        n = (int)luaL_len(L, -1);
        if (n < 1 || n > MAX_OPS)
            return luaL_error(L, FN ": operations must list from 1 to %d operations (got %d)", MAX_OPS, n);
        int ot = lua_gettop(L);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, ot, i + 1);
            int e = lua_gettop(L);
            if (!lua_istable(L, e))
                return luaL_error(L, FN ": operations[%d] must be a table {name =, min =, max =, fail_pct =}", i + 1);
            lflow_check_keys(L, e, FN ": operations[i]", op_known);
            lua_getfield(L, e, "name");
            if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0 || lua_rawlen(L, -1) >= sizeof names[0])
                return luaL_error(L, FN ": operations[%d].name must be a string of 1 to %d characters", i + 1,
                                  (int)sizeof names[0] - 1);
            strcpy(names[i], lua_tostring(L, -1));
            lua_pop(L, 1);
            for (int j = 0; j < i; j++)
                if (strcmp(names[j], names[i]) == 0)
                    return luaL_error(L, FN ": two operations are named \"%s\"", names[i]);
            lua_getfield(L, e, "min");
            lua_getfield(L, e, "max");
            if (lua_isnil(L, -1) || lua_isnil(L, -2))
                return luaL_error(L, FN ": operations[%d] needs min and max latencies", i + 1);
            lua_pop(L, 2);
            tmp[i].fail_pct = 10;
            read_behaviour(L, e, FN, &tmp[i]);
            lua_settop(L, ot);
        }
    }
    lua_pop(L, 1);

    lfr_t *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, FR_MT);
    u->n = n;
    u->timeout = timeout;
    u->variant = variant;
    u->ops = pattern_alloc((size_t)n * sizeof *u->ops);
    u->op_ptrs = pattern_alloc((size_t)n * sizeof *u->op_ptrs);
    u->client = pattern_alloc(sizeof *u->client);
    first_response_client_init(u->client, cname);
    for (int i = 0; i < n; i++) {
        first_response_operation_init(&u->ops[i], names[i], tmp[i].min_latency, tmp[i].max_latency, tmp[i].fail_pct);
        u->op_ptrs[i] = &u->ops[i];
    }
    return 1;
}

static int fr_call(lua_State *L)
{
    lfr_t *u = check_fr(L, 1);
    simtime_t timeout = u->timeout;
    if (!lua_isnoneornil(L, 2)) {
        timeout = lflow_todur(L, 2, "fr:call", "timeout");
        if (timeout <= 0)
            return luaL_error(L, "fr:call: timeout must be positive");
    }
    ctx_t *ctx = lua_isnoneornil(L, 3) ? ctx_background() : lsim_checkctx(L, 3);
    lsim_need_goroutine(L, "fr:call");
    simtime_t t0 = sched_now();
    first_response_result_t r = first_response(ctx, timeout, u->op_ptrs, u->n, u->variant ? FR_SEED : FR_CORRECTED, u->client);
    lua_createtable(L, 0, 5);
    lflow_set_bool(L, "ok", r.err == NULL);
    lflow_set_str(L, "value", r.err ? NULL : r.value);
    lflow_set_str(L, "err", r.err ? go_error_msg(r.err) : NULL);
    lflow_set_str(L, "from", r.from);
    lflow_set_int(L, "latency", sched_now() - t0);
    return 1;
}

static int fr_set(lua_State *L)
{
    lfr_t *u = check_fr(L, 1);
    const char *name = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const known[] = {"min", "max", "fail_pct", NULL};
    lflow_check_keys(L, 3, "fr:set", known);
    for (int i = 0; i < u->n; i++) {
        if (strcmp(u->ops[i].name, name) == 0) {
            first_response_operation_t tmp = u->ops[i];
            read_behaviour(L, 3, "fr:set", &tmp);
            u->ops[i].min_latency = tmp.min_latency;
            u->ops[i].max_latency = tmp.max_latency;
            u->ops[i].fail_pct = tmp.fail_pct;
            publish_behaviour(&u->ops[i]);
            return 0;
        }
    }
    return luaL_error(L, "fr:set: no operation named \"%s\"", name);
}

static int fr_stats(lua_State *L)
{
    lfr_t *u = check_fr(L, 1);
    const first_response_client_t *c = u->client;
    lua_createtable(L, 0, 8);
    lflow_set_str(L, "variant", u->variant ? "seed" : "corrected");
    lflow_set_int(L, "calls", c->calls);
    lflow_set_int(L, "successes", c->successes);
    lflow_set_int(L, "errors", c->errors);
    lflow_set_num(L, "success_rate", c->calls ? (lua_Number)c->successes / (lua_Number)c->calls : 0);
    lflow_set_int(L, "latency_avg", c->calls ? c->latency_sum / c->calls : 0);
    lflow_set_int(L, "latency_max", c->latency_max);
    lua_createtable(L, u->n, 0);
    for (int i = 0; i < u->n; i++) {
        const first_response_operation_t *op = &u->ops[i];
        lua_createtable(L, 0, 7);
        lflow_set_str(L, "name", op->name);
        lflow_set_int(L, "calls", op->calls);
        lflow_set_int(L, "ok", op->ok);
        lflow_set_int(L, "failed", op->failed);
        lflow_set_int(L, "canceled", op->canceled);
        lflow_set_int(L, "wins", op->wins);
        lflow_set_int(L, "in_flight", op->in_flight);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "operations");
    return 1;
}

static int fr_tostring(lua_State *L)
{
    lfr_t *u = check_fr(L, 1);
    lua_pushfstring(L, "first_response(%s, %d operations)", u->variant ? "seed" : "corrected", u->n);
    return 1;
}

void lsim_open_first_response(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"call", fr_call}, {"set", fr_set}, {"stats", fr_stats}, {NULL, NULL},
    };
    luaL_newmetatable(L, FR_MT);
    luaL_newlibtable(L, methods);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, fr_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_first_response);
    lua_setfield(L, t, "first_response");
}
