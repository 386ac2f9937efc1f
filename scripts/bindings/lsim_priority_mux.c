/*
 * lsim_priority_mux: sim.priority_mux{...}, the seed's EventSource and
 * PriorityMultiplexer started as the seed's main starts them; the scenario
 * is the consumer.
 *
 *   local mux = sim.priority_mux{ variant = "seed" }
 *   for ev in mux:events() do print(ev.type, ev.source, ev.time) end
 *   local st = mux:stats()   -- st.by_source.metrics.lost, ...
 *
 * Options (the seed's values as defaults): sources = { {name = "critical",
 * interval = "500ms", priority = 10}, {name = "user", interval = "200ms",
 * priority = 5}, {name = "metrics", interval = "100ms", priority = 1} }
 * (interval = 0: an external source fed by mux:emit), send_timeout =
 * "50ms", poll_timeout = "1ms" and idle_wait = "10ms" (the seed variant's
 * sweep), timeout = "5s" (the context's; with ctx only if given), ctx,
 * variant = "corrected" or "seed", print = true (the seed's "Forwarded
 * event" and "Dropped event" lines).
 *
 * Methods: mux:recv() -> event table or nil once closed; mux:events() (an
 * iterator); mux:emit(source [, payload]) -> true if forwarded, false if
 * dropped; mux:stats(); mux:cancel(). An event is { source, type, payload,
 * time, priority, seq, latency }.
 */
#include <string.h>

#include <lauxlib.h>

#include "lsim.h"
#include "lsim_flow.h"
#include "priority_mux.h"

#define FN "sim.priority_mux"
#define PMUX_MT "chansim.priority_mux"
#define MAX_SOURCES 64

typedef struct lpmux {
    priority_mux_t *pm; /* owned by the scheduler */
    ctx_t *ctx;         /* the mux's context (cancelled by mux:cancel) */
    int variant;
} lpmux_t;

LSIM_CHECK_UDATA(check_pmux, lpmux_t, PMUX_MT)

static const priority_mux_source_t seed_sources[] = {
    {.name = "critical", .interval = 500 * SIM_MS, .priority = 10},
    {.name = "user", .interval = 200 * SIM_MS, .priority = 5},
    {.name = "metrics", .interval = 100 * SIM_MS, .priority = 1},
};

/* Read opts.sources into srcs; returns the count. */
static int read_sources(const lsim_opts_t *o, priority_mux_source_t *srcs)
{
    lua_State *L = o->L;
    if (lsim_opt_push(o, "sources") == LUA_TNIL) {
        lua_pop(L, 1);
        memcpy(srcs, seed_sources, sizeof seed_sources);
        return 3;
    }
    if (!lua_istable(L, -1))
        lsim_opt_fail(o, "sources", -1, "a list of {name =, interval =, priority =}");
    int n = (int)luaL_len(L, -1);
    if (n < 1 || n > MAX_SOURCES)
        lsim_opts_error(o, "sources must list from 1 to %d sources (got %d)", MAX_SOURCES, n);
    int st = lua_gettop(L);
    static const char *const known[] = {"name", "interval", "priority", NULL};
    for (int i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, FN ": sources[%d]", i + 1);
        lua_rawgeti(L, st, i + 1);
        lsim_opts_t e = lsim_opts(L, -1, what, known);
        srcs[i].name = lsim_opt_str(&e, "name", ""); /* kept alive by the options table */
        if (!*srcs[i].name || strlen(srcs[i].name) > 40)
            lsim_opts_error(&e, "name must be a string of 1 to 40 characters");
        for (int j = 0; j < i; j++)
            if (strcmp(srcs[j].name, srcs[i].name) == 0)
                lsim_opts_error(o, "two sources are named \"%s\"", srcs[i].name);
        srcs[i].interval = lsim_opt_dur(&e, "interval", -1, 0, 3600 * SIM_SEC);
        if (srcs[i].interval < 0)
            lsim_opts_error(&e, "interval is required (0: an external source fed by mux:emit)");
        srcs[i].priority = (int)lsim_opt_int(&e, "priority", -1, 0, 1000000);
        if (srcs[i].priority < 0)
            lsim_opts_error(&e, "priority is required (an integer >= 0)");
        lua_settop(L, st);
    }
    lua_pop(L, 1);
    return n;
}

static int l_priority_mux(lua_State *L)
{
    static const char *const known[] = {"sources", "send_timeout", "poll_timeout", "idle_wait", "timeout",
                                        "ctx", "variant", "print", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 1, FN, known);
    lsim_need_goroutine(L, FN);
    priority_mux_source_t srcs[MAX_SOURCES];
    memset(srcs, 0, sizeof srcs);
    int n = read_sources(&o, srcs);
    priority_mux_config_t cfg = priority_mux_config_default();
    cfg.send_timeout = lsim_opt_dur(&o, "send_timeout", cfg.send_timeout, 1, 3600 * SIM_SEC);
    cfg.poll_timeout = lsim_opt_dur(&o, "poll_timeout", cfg.poll_timeout, 1, 3600 * SIM_SEC);
    cfg.idle_wait = lsim_opt_dur(&o, "idle_wait", cfg.idle_wait, 1, 3600 * SIM_SEC);
    int variant = lsim_opt_seed_variant(&o);
    cfg.variant = variant == 1 ? PMUX_SEED : PMUX_CORRECTED;
    bool print = lsim_opt_bool(&o, "print", true);
    cfg.print_forwarded = cfg.print_dropped = print;
    cfg.out = lflow_out(L, print);
    ctx_t *parent = lsim_opt_ctx(&o, "ctx");
    bool has_timeout = lsim_opt_has(&o, "timeout");
    simtime_t timeout = lsim_opt_dur(&o, "timeout", 5 * SIM_SEC, 1, SIMTIME_MAX / 2);

    lpmux_t *u = lsim_newudata(L, sizeof *u, PMUX_MT, 0);
    memset(u, 0, sizeof *u);
    /* ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) */
    if (!parent)
        u->ctx = ctx_with_timeout(ctx_background(), timeout);
    else if (has_timeout)
        u->ctx = ctx_with_timeout(parent, timeout);
    else
        u->ctx = ctx_with_cancel(parent);
    u->variant = variant;
    u->pm = priority_mux_start(u->ctx, srcs, n, &cfg);
    return 1;
}

static void push_event(lua_State *L, const priority_mux_event_t *ev)
{
    lua_createtable(L, 0, 7);
    lflow_set_str(L, "source", ev->source);
    lflow_set_str(L, "type", ev->type);
    lflow_set_str(L, "payload", ev->payload);
    lflow_set_int(L, "time", ev->time);
    lflow_set_int(L, "priority", ev->priority);
    lflow_set_int(L, "seq", ev->seq);
    lflow_set_int(L, "latency", sched_now() - ev->time);
}

static int pm_recv(lua_State *L)
{
    lpmux_t *u = check_pmux(L, 1);
    lsim_need_goroutine(L, "mux:recv");
    priority_mux_event_t ev;
    if (!chan_recv(priority_mux_chan(u->pm), &ev))
        return 0;
    push_event(L, &ev);
    return 1;
}

static int pm_events_next(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    return pm_recv(L);
}

static int pm_events(lua_State *L)
{
    check_pmux(L, 1);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, pm_events_next, 1);
    return 1;
}

static int pm_emit(lua_State *L)
{
    lpmux_t *u = check_pmux(L, 1);
    const char *name = luaL_checkstring(L, 2);
    const char *payload = luaL_optstring(L, 3, NULL);
    int i = priority_mux_find(u->pm, name);
    if (i < 0)
        return luaL_error(L, "mux:emit: no source named \"%s\"", name);
    if (priority_mux_source(u->pm, i)->interval != 0)
        return luaL_error(L, "mux:emit: source \"%s\" ticks on its own (give it interval = 0 to feed it)", name);
    lsim_need_goroutine(L, "mux:emit");
    lua_pushboolean(L, priority_mux_emit(u->pm, i, payload));
    return 1;
}

static void push_source_stats(lua_State *L, const priority_mux_source_t *s)
{
    lua_createtable(L, 0, 10);
    lflow_set_str(L, "name", s->name);
    lflow_set_int(L, "priority", s->priority);
    lflow_set_int(L, "interval", s->interval);
    lflow_set_int(L, "generated", s->generated);
    lflow_set_int(L, "forwarded", s->forwarded);
    lflow_set_int(L, "dropped", s->dropped);
    lflow_set_int(L, "lost", s->lost);
    lflow_set_int(L, "canceled", s->canceled);
    lflow_set_int(L, "latency_avg", s->forwarded ? s->latency_sum / s->forwarded : 0);
    lflow_set_int(L, "latency_max", s->latency_max);
}

static int pm_stats(lua_State *L)
{
    lpmux_t *u = check_pmux(L, 1);
    if (go_self())
        priority_mux_settle(u->pm);
    int n = priority_mux_count(u->pm);
    int64_t gen = 0, fwd = 0, drop = 0, lost = 0, canceled = 0;
    lua_createtable(L, 0, 8);
    lflow_set_str(L, "variant", u->variant ? "seed" : "corrected");
    lua_createtable(L, n, 0);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        const priority_mux_source_t *s = priority_mux_source(u->pm, i);
        gen += s->generated;
        fwd += s->forwarded;
        drop += s->dropped;
        lost += s->lost;
        canceled += s->canceled;
        push_source_stats(L, s);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, s->name);
        lua_rawseti(L, -3, i + 1);
    }
    lua_setfield(L, -3, "by_source");
    lua_setfield(L, -2, "sources");
    lflow_set_int(L, "generated", gen);
    lflow_set_int(L, "forwarded", fwd);
    lflow_set_int(L, "dropped", drop);
    lflow_set_int(L, "lost", lost);
    lflow_set_int(L, "canceled", canceled);
    return 1;
}

static int pm_cancel(lua_State *L)
{
    ctx_cancel(check_pmux(L, 1)->ctx);
    return 0;
}

static int pm_tostring(lua_State *L)
{
    lpmux_t *u = check_pmux(L, 1);
    lua_pushfstring(L, "priority_mux(%s, %d sources)", u->variant ? "seed" : "corrected",
                    priority_mux_count(u->pm));
    return 1;
}

void lsim_open_priority_mux(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"recv", pm_recv},   {"events", pm_events}, {"emit", pm_emit},
        {"stats", pm_stats}, {"cancel", pm_cancel}, {NULL, NULL},
    };
    static const luaL_Reg meta[] = {{"__tostring", pm_tostring}, {NULL, NULL}};
    lsim_createmeta(L, PMUX_MT, meta, methods);
    lua_pushcfunction(L, l_priority_mux);
    lua_setfield(L, t, "priority_mux");
}
