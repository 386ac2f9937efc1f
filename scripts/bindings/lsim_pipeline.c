/*
 * lsim_pipeline: sim.pipeline{...}, the seed's NewPipeline(Validate,
 * Transform, ParallelStage(3, ...), Enrich) and its Execute.
 *
 *   local p = sim.pipeline{}                 -- the seed's stages and numbers
 *   for _, r in ipairs(p:execute()) do print(r.text) end   -- the seed's 8 items
 *
 * Options (the seed's values as defaults): stages = {"validate",
 * "transform", "parallel", "enrich"} (any sequence of those names), workers
 * = 3 (the parallel stage's), min_delay = 0 and max_delay = "100ms" (the
 * parallel processor sleeps a whole number of milliseconds in [min, max):
 * the seed's rand.Intn(100) ms), timeout = "5s" (the context's; with ctx
 * only if given), ctx.
 *
 * Methods: p:execute([items]) runs the seed's Source over items (default:
 * the seed's eight) and returns every result in output order; or stream:
 * p:start(), p:submit(data [, id]) (blocks while the pipeline is full;
 * false once the context is done), p:close(), p:recv() / p:results().
 * Items are {id =, data =} tables or plain values (id = position); data
 * may be a string, an integer, nil, or anything else (which Transform
 * rejects). A result is { id, data, err, metadata = { transformed_at,
 * enriched, enriched_at, worker_id }, text (the seed's printed line),
 * out_at }. p:stats() -> { submitted, received, failed, overtaken (results
 * that came out after one with a larger id), order = {ids...} }.
 */
#include <string.h>

#include <lauxlib.h>

#include "lsim.h"
#include "lsim_flow.h"
#include "pipeline.h"

#define FN "sim.pipeline"
#define PIPE_MT "chansim.pipeline"
#define MAX_STAGES 16

typedef struct lpipe {
    pipeline_t *p;         /* scheduler-owned */
    ctx_t *ctx;
    chan_t *feed;          /* streaming: the source channel */
    chan_t *out;           /* the last stage's channel */
    int state;             /* 0 new, 1 running, 2 source closed */
    int64_t next_id, submitted, received, failed, max_id, overtaken;
    int order_ref;         /* registry: the list of ids in output order */
} lpipe_t;

LSIM_CHECK_UDATA(check_pipe, lpipe_t, PIPE_MT)

static int l_pipeline(lua_State *L)
{
    static const char *const known[] = {"stages", "workers", "min_delay", "max_delay", "timeout", "ctx", NULL};
    static const char *const names[] = {"validate", "transform", "parallel", "enrich", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 1, FN, known);
    int workers = (int)lsim_opt_int(&o, "workers", 3, 1, 100000);
    simtime_t dmin = lsim_opt_dur(&o, "min_delay", 0, 0, 3600 * SIM_SEC);
    simtime_t dmax = lsim_opt_dur(&o, "max_delay", 100 * SIM_MS, 0, 3600 * SIM_SEC);
    if (dmax < dmin)
        return lsim_opts_error(&o, "max_delay must not be less than min_delay");
    ctx_t *parent = lsim_opt_ctx(&o, "ctx");
    bool has_timeout = lsim_opt_has(&o, "timeout");
    simtime_t timeout = lsim_opt_dur(&o, "timeout", 5 * SIM_SEC, 1, SIMTIME_MAX / 2);

    int kinds[MAX_STAGES] = {0, 1, 2, 3};
    int n = 4;
    if (lsim_opt_push(&o, "stages") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            return lsim_opt_fail(&o, "stages", -1, "a list of \"validate\", \"transform\", \"parallel\", \"enrich\"");
        n = (int)luaL_len(L, -1);
        if (n < 1 || n > MAX_STAGES)
            return lsim_opts_error(&o, "stages must list from 1 to %d stages (got %d)", MAX_STAGES, n);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, -1, i + 1);
            const char *s = lua_tostring(L, -1);
            kinds[i] = -1;
            for (int k = 0; s && names[k]; k++)
                if (strcmp(s, names[k]) == 0)
                    kinds[i] = k;
            if (kinds[i] < 0)
                return lsim_opts_error(&o, "stages[%d] must be \"validate\", \"transform\", \"parallel\" or \"enrich\" (got %s)",
                                       i + 1, lsim_shown(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    pipeline_random_delay_t *delay = pattern_alloc(sizeof *delay);
    delay->min = dmin;
    delay->max = dmax;
    pipeline_stage_t stages[MAX_STAGES];
    for (int i = 0; i < n; i++) {
        switch (kinds[i]) {
        case 0: stages[i] = pipeline_stage_of(pipeline_validate); break;
        case 1: stages[i] = pipeline_stage_of(pipeline_transform); break;
        case 2: stages[i] = pipeline_parallel_stage(workers, pipeline_random_delay_processor, delay); break;
        default: stages[i] = pipeline_stage_of(pipeline_enrich); break;
        }
    }
    lpipe_t *u = lsim_newudata(L, sizeof *u, PIPE_MT, 1);
    memset(u, 0, sizeof *u);
    u->p = pipeline_create(stages, n);
    lua_newtable(L);
    u->order_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* The context is made when the pipeline starts, so that its timeout
     * runs from then: keep what it is made from as the user value. */
    lua_newtable(L);
    if (parent) {
        lua_getfield(L, 1, "ctx");
        lua_setfield(L, -2, "ctx");
    }
    lua_pushinteger(L, has_timeout || !parent ? timeout : 0);
    lua_setfield(L, -2, "timeout");
    lua_setiuservalue(L, -2, 1);
    return 1;
}

/* Read a Lua item at idx into *item (id defaults to def_id). */
static void to_item(lua_State *L, int idx, int64_t def_id, pipeline_data_item_t *item, const char *what)
{
    idx = lua_absindex(L, idx);
    memset(item, 0, sizeof *item);
    item->id = def_id;
    int v = idx;
    if (lua_istable(L, idx)) {
        static const char *const known[] = {"id", "data", NULL};
        lsim_opts_t o = lsim_opts(L, idx, what, known);
        item->id = lsim_opt_int(&o, "id", def_id, INT64_MIN, INT64_MAX);
        lua_getfield(L, idx, "data");
        v = lua_gettop(L);
    }
    switch (lua_type(L, v)) {
    case LUA_TNIL:
        item->data.kind = DATA_NIL;
        break;
    case LUA_TSTRING:
        if (lua_rawlen(L, v) > 120)
            luaL_error(L, "%s: a string item is at most 120 bytes long", what);
        item->data.kind = DATA_STRING;
        memcpy(item->data.s, lua_tostring(L, v), lua_rawlen(L, v) + 1);
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, v)) {
            item->data.kind = DATA_INT;
            item->data.i = lua_tointeger(L, v);
        } else {
            item->data.kind = DATA_OTHER;
            item->data.type_name = "float64";
        }
        break;
    case LUA_TBOOLEAN:
        item->data.kind = DATA_OTHER;
        item->data.type_name = "bool";
        break;
    default:
        item->data.kind = DATA_OTHER;
        item->data.type_name = luaL_typename(L, v); /* a static string of Lua's */
    }
    if (v != idx)
        lua_pop(L, 1);
}

/* ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) */
static void make_ctx(lua_State *L, lpipe_t *u, int self)
{
    ctx_t *parent = NULL;
    simtime_t timeout = 0;
    lua_getiuservalue(L, self, 1);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "ctx");
        if (!lua_isnil(L, -1))
            parent = *(ctx_t **)lua_touserdata(L, -1);
        lua_getfield(L, -2, "timeout");
        timeout = lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    ctx_t *base = parent ? parent : ctx_background();
    u->ctx = timeout > 0 ? ctx_with_timeout(base, timeout) : ctx_with_cancel(base);
}

static void push_result(lua_State *L, lpipe_t *u, const pipeline_data_item_t *r)
{
    char data[200], meta[256], text[600];
    pipeline_data_value_format(&r->data, data, sizeof data);
    lua_createtable(L, 0, 7);
    lflow_set_int(L, "id", r->id);
    switch (r->data.kind) {
    case DATA_NIL: lua_pushnil(L); break;
    case DATA_STRING: lua_pushstring(L, r->data.s); break;
    case DATA_INT: lua_pushinteger(L, r->data.i); break;
    default: lua_pushstring(L, data); break;
    }
    lua_setfield(L, -2, "data");
    lflow_set_str(L, "err", r->error ? go_error_msg(r->error) : NULL);
    lua_createtable(L, 0, 4);
    const pipeline_metadata_t *m = &r->metadata;
    if (m->has_transformed_at)
        lflow_set_int(L, "transformed_at", m->transformed_at);
    if (m->has_enriched) {
        lflow_set_bool(L, "enriched", true);
        lflow_set_int(L, "enriched_at", m->enriched_at);
    }
    if (m->has_worker_id)
        lflow_set_int(L, "worker_id", m->worker_id);
    lua_setfield(L, -2, "metadata");
    if (r->error) {
        snprintf(text, sizeof text, "Item %lld failed: %s", (long long)r->id, go_error_msg(r->error));
    } else {
        pipeline_metadata_format(m, meta, sizeof meta);
        snprintf(text, sizeof text, "Item %lld processed: %s with metadata: %s", (long long)r->id, data, meta);
    }
    lflow_set_str(L, "text", text);
    lflow_set_int(L, "out_at", sched_now());
    /* counts */
    u->received++;
    if (r->error)
        u->failed++;
    if (u->received > 1 && r->id < u->max_id)
        u->overtaken++;
    if (u->received == 1 || r->id > u->max_id)
        u->max_id = r->id;
    lua_rawgeti(L, LUA_REGISTRYINDEX, u->order_ref);
    lua_pushinteger(L, r->id);
    lua_rawseti(L, -2, (lua_Integer)u->received);
    lua_pop(L, 1);
}

static int pp_recv(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    if (u->state == 0)
        return luaL_error(L, "p:recv: the pipeline has not started (p:start() or p:execute())");
    lsim_need_goroutine(L, "p:recv");
    pipeline_data_item_t r;
    if (!chan_recv(u->out, &r))
        return 0;
    push_result(L, u, &r);
    return 1;
}

static int pp_results_next(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    return pp_recv(L);
}

static int pp_results(lua_State *L)
{
    check_pipe(L, 1);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, pp_results_next, 1);
    return 1;
}

static int pp_execute(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    if (u->state != 0)
        return luaL_error(L, "p:execute: this pipeline has already run (make another with sim.pipeline)");
    lsim_need_goroutine(L, "p:execute");
    int64_t n;
    pipeline_data_item_t *items;
    if (lua_isnoneornil(L, 2)) {
        items = lua_newuserdatauv(L, 8 * sizeof *items, 0);
        n = pipeline_seed_items(items);
    } else {
        luaL_checktype(L, 2, LUA_TTABLE);
        n = (int64_t)luaL_len(L, 2);
        if (n > 1000000)
            return luaL_error(L, "p:execute: at most 1000000 items");
        items = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *items, 0);
        for (int64_t i = 0; i < n; i++) {
            lua_rawgeti(L, 2, (lua_Integer)i + 1);
            to_item(L, -1, i + 1, &items[i], "p:execute");
            lua_pop(L, 1);
        }
    }
    u->submitted = n;
    make_ctx(L, u, 1);
    /* source := Source(ctx, data); results := pipeline.Execute(ctx, source) */
    u->out = pipeline_execute(u->p, u->ctx, pipeline_source(u->ctx, items, n));
    u->state = 2;
    lua_newtable(L);
    int t = lua_gettop(L);
    pipeline_data_item_t r;
    lua_Integer k = 0;
    while (chan_recv(u->out, &r)) { /* for result := range results */
        push_result(L, u, &r);
        lua_rawseti(L, t, ++k);
    }
    ctx_cancel(u->ctx); /* defer cancel() */
    return 1;
}

static int pp_start(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    if (u->state != 0)
        return luaL_error(L, "p:start: this pipeline has already started");
    make_ctx(L, u, 1);
    u->feed = chan_make(sizeof(pipeline_data_item_t), 0);
    obj_set_name(u->feed, "Source");
    u->out = pipeline_execute(u->p, u->ctx, u->feed);
    u->state = 1;
    return 0;
}

static int pp_submit(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    if (u->state != 1 || !u->feed)
        return luaL_error(L, u->state == 0 ? "p:submit: call p:start() first" : "p:submit: the source is closed");
    luaL_checkany(L, 2);
    pipeline_data_item_t item;
    lua_pushvalue(L, 2);
    to_item(L, -1, u->next_id + 1, &item, "p:submit");
    lua_pop(L, 1);
    if (!lua_isnoneornil(L, 3))
        item.id = luaL_checkinteger(L, 3);
    u->next_id = item.id;
    lsim_need_goroutine(L, "p:submit");
    select_case_t cases[2] = {
        {.ch = u->feed, .dir = SELECT_SEND, .elem = &item},
        {.ch = ctx_done(u->ctx), .dir = SELECT_RECV},
    };
    bool sent = chan_select(cases, 2, false) == 0;
    if (sent)
        u->submitted++;
    lua_pushboolean(L, sent);
    return 1;
}

static int pp_close(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    if (u->state != 1 || !u->feed)
        return luaL_error(L, "p:close: the pipeline is not streaming (p:start() first, and close once)");
    chan_close(u->feed);
    u->state = 2;
    return 0;
}

static int pp_cancel(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    if (u->ctx)
        ctx_cancel(u->ctx);
    return 0;
}

static int pp_stats(lua_State *L)
{
    lpipe_t *u = check_pipe(L, 1);
    lua_createtable(L, 0, 6);
    lflow_set_int(L, "submitted", u->submitted);
    lflow_set_int(L, "received", u->received);
    lflow_set_int(L, "failed", u->failed);
    lflow_set_int(L, "overtaken", u->overtaken);
    lua_rawgeti(L, LUA_REGISTRYINDEX, u->order_ref);
    lua_setfield(L, -2, "order");
    return 1;
}

void lsim_open_pipeline(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"execute", pp_execute}, {"start", pp_start}, {"submit", pp_submit}, {"close", pp_close},
        {"recv", pp_recv},       {"results", pp_results}, {"cancel", pp_cancel}, {"stats", pp_stats},
        {NULL, NULL},
    };
    lsim_createmeta(L, PIPE_MT, NULL, methods);
    lua_pushcfunction(L, l_pipeline);
    lua_setfield(L, t, "pipeline");
}
