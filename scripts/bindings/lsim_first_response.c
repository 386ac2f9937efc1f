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

LSIM_CHECK_UDATA(check_fr, lfr_t, FR_MT)

/* Read {min =, max =, fail_pct =} into op (fields absent: kept). */
static void read_behaviour(const lsim_opts_t *o, first_response_operation_t *op)
{
    op->min_latency = lsim_opt_dur(o, "min", op->min_latency, 0, 3600 * SIM_SEC);
    op->max_latency = lsim_opt_dur(o, "max", op->max_latency, 0, 3600 * SIM_SEC);
    op->fail_pct = (int)lsim_opt_int(o, "fail_pct", op->fail_pct, 0, 100);
    if (op->max_latency < op->min_latency)
        lsim_opts_error(o, "max must not be less than min");
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
    lsim_opts_t o = lsim_opts_opt(L, 1, FN, known);
    simtime_t timeout = lsim_opt_dur(&o, "timeout", 400 * SIM_MS, 1, 3600 * SIM_SEC);
    int variant = lsim_opt_seed_variant(&o);
    const char *cname = lsim_opt_str(&o, "name", "firstResponse");

    /* Read the operations before allocating anything. */
    first_response_operation_t tmp[MAX_OPS];
    char names[MAX_OPS][48];
    int n = 3;
    memset(tmp, 0, sizeof tmp);
    if (lsim_opt_push(&o, "operations") == LUA_TNIL) {
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
            return lsim_opt_fail(&o, "operations", -1, "a list of {name =, min =, max =, fail_pct =}");
        n = (int)luaL_len(L, -1);
        if (n < 1 || n > MAX_OPS)
            return lsim_opts_error(&o, "operations must list from 1 to %d operations (got %d)", MAX_OPS, n);
        int ot = lua_gettop(L);
        for (int i = 0; i < n; i++) {
            char what[64];
            snprintf(what, sizeof what, FN ": operations[%d]", i + 1);
            lua_rawgeti(L, ot, i + 1);
            lsim_opts_t e = lsim_opts(L, -1, what, op_known);
            const char *name = lsim_opt_str(&e, "name", "");
            if (!*name || strlen(name) >= sizeof names[0])
                return lsim_opts_error(&e, "name must be a string of 1 to %d characters", (int)sizeof names[0] - 1);
            strcpy(names[i], name);
            for (int j = 0; j < i; j++)
                if (strcmp(names[j], names[i]) == 0)
                    return lsim_opts_error(&o, "two operations are named \"%s\"", names[i]);
            if (!lsim_opt_has(&e, "min") || !lsim_opt_has(&e, "max"))
                return lsim_opts_error(&e, "needs min and max latencies");
            tmp[i].fail_pct = 10;
            read_behaviour(&e, &tmp[i]);
            lua_settop(L, ot);
        }
    }
    lua_pop(L, 1);

    lfr_t *u = lsim_newudata(L, sizeof *u, FR_MT, 0);
    memset(u, 0, sizeof *u);
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
        timeout = lsim_checkduration(L, 2);
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
    static const char *const known[] = {"min", "max", "fail_pct", NULL};
    lsim_opts_t o = lsim_opts(L, 3, "fr:set", known);
    for (int i = 0; i < u->n; i++) {
        if (strcmp(u->ops[i].name, name) == 0) {
            first_response_operation_t tmp = u->ops[i];
            read_behaviour(&o, &tmp);
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
    static const luaL_Reg meta[] = {{"__tostring", fr_tostring}, {NULL, NULL}};
    lsim_createmeta(L, FR_MT, meta, methods);
    lua_pushcfunction(L, l_first_response);
    lua_setfield(L, t, "first_response");
}
