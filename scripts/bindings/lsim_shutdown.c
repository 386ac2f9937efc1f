/*
 * lsim_shutdown: sim.graceful_shutdown{...}, the seed's GracefulShutdown
 * with its HTTP server and worker pool.
 *
 *   local gs = sim.graceful_shutdown{ timeout = "5s" }   -- variant, log
 *   gs:start()                                           -- signal.Notify(SIGINT, SIGTERM)
 *   local server = gs:server{ addr = ":8080", handler = function(req) return 202, "ok" end }
 *   server:start()
 *   local pool = gs:worker_pool{ workers = 3, buffer = 10 }
 *   gs:add_shutdown_func("database", function(ctx) sim.sleep("300ms") end)
 *   sim.at("2.05s", function() gs:signal("SIGTERM") end)
 *   local status, body = server:request("Job 1")       -- nil, "connection refused"
 *   local ok, err = pool:submit_job("Job 1")
 *   gs:wait()
 *
 * The server's handler (default: the seed's "Hello, World!") runs in the
 * requesting goroutine and returns a status and a body; a Lua error there
 * answers 500. A shutdown function runs in its own goroutine with the
 * shutdown context and returns nil or an error string; { after = {...} }
 * names functions it waits for (corrected variant only). Options of
 * gs:server: addr = ":8080", handler, drain (corrected default "500ms",
 * ignored by the seed's variant). Options of gs:worker_pool: workers = 3,
 * buffer = 10, job_time = "100ms", after (corrected default
 * "http-server"; ignored by the seed's variant).
 */
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "lsim_kit.h"
#include "shutdown.h"

#define GS_MT "chansim.graceful_shutdown"
#define SERVER_MT "chansim.server"
#define WP_MT "chansim.shutdown_worker_pool"

typedef struct lgs {
    shutdown_t *gs; /* scheduler-owned */
    host_t *h;
    bool log;
    bool seed;
} lgs_t;

typedef struct lserver {
    shutdown_server_t *s;
    lgs_t *g;
    int handler_ref;         /* LUA_NOREF: the seed's handler */
} lserver_t;

typedef struct lwp {
    shutdown_worker_pool_t *wp;
    lgs_t *g;
} lwp_t;

LSIM_CHECK_UDATA(check_gs, lgs_t, GS_MT)
LSIM_CHECK_UDATA(check_server, lserver_t, SERVER_MT)
LSIM_CHECK_UDATA(check_wp, lwp_t, WP_MT)

static void gs_log(void *ud, const char *line)
{
    lgs_t *g = ud;
    if (g->log)
        lsim_log_line(g->h, "shutdown", line);
}

static void keep(lua_State *L)
{
    lua_pushvalue(L, -1);
    luaL_ref(L, LUA_REGISTRYINDEX);
}

static const char *const gs_keys[] = {"timeout", "variant", "log", NULL};

/* sim.graceful_shutdown{ timeout = "5s", variant, log = true } */
static int l_graceful_shutdown(lua_State *L)
{
    lsim_opts_t opt = lsim_opts_opt(L, 1, "sim.graceful_shutdown", gs_keys);
    simtime_t timeout = lsim_opt_dur(&opt, "timeout", 5 * SIM_SEC, 1, INT64_MAX);
    bool seed = lsim_opt_seed_variant(&opt);
    bool log = lsim_opt_bool(&opt, "log", true);
    lgs_t *g = lsim_newudata(L, sizeof *g, GS_MT, 0);
    memset(g, 0, sizeof *g);
    g->h = host_of(L);
    g->log = log;
    g->seed = seed;
    keep(L);
    shutdown_options_t o = {gs_log, g, seed};
    g->gs = shutdown_create(timeout, &o);
    return 1;
}

static int gs_start_l(lua_State *L)
{
    shutdown_start(check_gs(L, 1)->gs);
    return 0;
}

/* gs:signal("SIGTERM" | "SIGINT") -> delivered */
static int gs_signal_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    const char *sig = luaL_optstring(L, 2, "SIGTERM");
    if (strcmp(sig, "SIGTERM") != 0 && strcmp(sig, "SIGINT") != 0)
        return luaL_error(L, "GracefulShutdown: signal must be \"SIGTERM\" or \"SIGINT\", got \"%s\"", sig);
    lua_pushboolean(L, shutdown_signal(g->gs, sig));
    return 1;
}

static int gs_shutdown_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    lsim_need_goroutine(L, "GracefulShutdown.Shutdown");
    shutdown_shutdown(g->gs);
    return 0;
}

static int gs_wait_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    lsim_need_goroutine(L, "GracefulShutdown.Wait");
    shutdown_wait(g->gs);
    return 0;
}

static int gs_is_shutting_down_l(lua_State *L)
{
    lua_pushboolean(L, shutdown_is_shutting_down(check_gs(L, 1)->gs));
    return 1;
}

/* A shutdown function written in Lua, run by its goroutine. */
typedef struct lfunc {
    host_t *h;
    int ref;
} lfunc_t;

static void push_ctx(void *ud, lua_State *M)
{
    lsim_pushctx(M, ud);
}

static const go_error_t *lua_shutdown_func(ctx_t *ctx, void *arg)
{
    lfunc_t *f = arg;
    char *r = lsim_call_ref(host_lua(f->h), f->ref, push_ctx, ctx);
    if (!r)
        return NULL;
    const go_error_t *err = lsim_go_error(r);
    free(r);
    return err;
}

/* gs:add_shutdown_func(name, fn [, { after = { "http-server", ... } }]) */
static int gs_add_shutdown_func_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    const char *name = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    const char *after[SHUTDOWN_MAX_AFTER];
    int nafter = 0;
    static const char *const keys[] = {"after", NULL};
    lsim_opts_t opt = lsim_opts_opt(L, 4, "AddShutdownFunc", keys);
    int t = lsim_opt_push(&opt, "after");
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        after[nafter++] = lua_tostring(L, -1);
    } else if (t == LUA_TTABLE) {
        int n = (int)luaL_len(L, -1);
        if (n > SHUTDOWN_MAX_AFTER)
            return lsim_opts_error(&opt, "at most %d names in after", SHUTDOWN_MAX_AFTER);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            if (!lua_isstring(L, -1))
                return lsim_opt_fail(&opt, "after", -1, "a list of names");
            after[nafter++] = lua_tostring(L, -1);
            lua_pop(L, 1); /* the string stays alive in the table */
        }
    } else if (t != LUA_TNIL) {
        return lsim_opt_fail(&opt, "after", -1, "a name or a list of names");
    }
    lfunc_t *f = lua_newuserdatauv(L, sizeof *f, 0);
    f->h = g->h;
    lua_pushvalue(L, 3);
    f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_ref(L, LUA_REGISTRYINDEX); /* keep f for the run */
    shutdown_add_shutdown_func(g->gs, name, lua_shutdown_func, f, after, nafter);
    return 0;
}

/* gs:report() -> { signal, signal_at, started, finished, timed_out,
 *                  funcs = { { name, err, started, finished }, ... } }
 * (times in ns, -1 for "not yet") */
static int gs_report_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    shutdown_report_t r;
    shutdown_get_report(g->gs, &r);
    lua_createtable(L, 0, 6);
    if (r.signal) {
        lua_pushstring(L, r.signal);
        lua_setfield(L, -2, "signal");
    }
    lsim_set_int(L, "signal_at", r.signal_at);
    lsim_set_int(L, "started", r.started);
    lsim_set_int(L, "finished", r.finished);
    lua_pushboolean(L, r.timed_out);
    lua_setfield(L, -2, "timed_out");
    lsim_set_int(L, "timeout", shutdown_timeout(g->gs));
    lua_createtable(L, r.nfuncs, 0);
    for (int i = 0; i < r.nfuncs; i++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, r.funcs[i].name);
        lua_setfield(L, -2, "name");
        if (r.funcs[i].err) {
            lua_pushstring(L, go_error_msg(r.funcs[i].err));
            lua_setfield(L, -2, "err");
        }
        lsim_set_int(L, "started", r.funcs[i].started);
        lsim_set_int(L, "finished", r.funcs[i].finished);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "funcs");
    return 1;
}

/* ---- the server ------------------------------------------------------------ */

typedef struct call {
    lua_State *L;
} call_t;

/* The scenario's handler, in the requesting goroutine's own Lua thread. */
static int lua_handler(void *ud, void *call_ud, shutdown_server_t *s, const char *request, char *body,
                       size_t size)
{
    lserver_t *ls = ud;
    call_t *c = call_ud;
    lua_State *L = c->L;
    (void)s;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->handler_ref);
    lua_pushstring(L, request);
    if (lsim_pcall(L, 1, 2) != LUA_OK) {
        snprintf(body, size, "%s", lsim_tolstring(L, -1, NULL));
        lua_pop(L, 2);
        return 500; /* net/http recovers a panicking handler */
    }
    int status = lua_isinteger(L, -2) ? (int)lua_tointeger(L, -2) : 500;
    if (!lua_isnil(L, -1))
        snprintf(body, size, "%s", lsim_tolstring(L, -1, NULL));
    else if (!lua_isinteger(L, -2))
        snprintf(body, size, "handler returned %s, not a status code", luaL_typename(L, -2));
    lua_settop(L, lua_gettop(L) - (lua_isnil(L, -1) ? 2 : 3));
    return status;
}

static const char *const server_keys[] = {"addr", "handler", "drain", NULL};

/* gs:server{ addr = ":8080", handler = fn(req) -> status, body, drain } */
static int gs_server_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    lsim_opts_t opt = lsim_opts_opt(L, 2, "GracefulShutdown:server", server_keys);
    const char *addr = lsim_opt_str(&opt, "addr", ":8080");
    simtime_t drain = lsim_opt_dur(&opt, "drain", g->seed ? 0 : 500 * SIM_MS, 0, INT64_MAX);
    int ref = lsim_opt_func(&opt, "handler");
    lserver_t *ls = lsim_newudata(L, sizeof *ls, SERVER_MT, 0);
    memset(ls, 0, sizeof *ls);
    ls->g = g;
    ls->handler_ref = ref;
    keep(L);
    shutdown_server_options_t o = {0};
    if (ref != LUA_NOREF) {
        o.handler = lua_handler;
        o.handler_ud = ls;
    }
    o.drain = drain;
    o.log = gs_log;
    o.log_ud = g;
    o.seed_variant = g->seed;
    ls->s = shutdown_server_create(addr, g->gs, &o);
    return 1;
}

static int srv_start_l(lua_State *L)
{
    shutdown_server_start(check_server(L, 1)->s);
    return 0;
}

/* status, body | nil, "connection refused" = server:request(req) */
static int srv_request_l(lua_State *L)
{
    lserver_t *ls = check_server(L, 1);
    const char *req = luaL_optstring(L, 2, "GET /");
    lsim_need_goroutine(L, "a request");
    char body[512];
    call_t c = {L};
    int status = shutdown_server_request(ls->s, req, body, sizeof body, &c);
    if (status == 0) {
        lua_pushnil(L);
        lua_pushstring(L, body);
        return 2;
    }
    lua_pushinteger(L, status);
    lua_pushstring(L, body);
    return 2;
}

static int srv_stats_l(lua_State *L)
{
    shutdown_server_stats_t st;
    shutdown_server_get_stats(check_server(L, 1)->s, &st);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, st.state);
    lua_setfield(L, -2, "state");
    lsim_set_int(L, "in_flight", st.in_flight);
    lsim_set_int(L, "status_200", st.by_status_200);
    lsim_set_int(L, "status_202", st.by_status_202);
    lsim_set_int(L, "status_503", st.by_status_503);
    lsim_set_int(L, "other_status", st.other_status);
    lsim_set_int(L, "refused", st.refused);
    lsim_set_int(L, "listener_closed_at", st.listener_closed_at);
    return 1;
}

/* ---- the worker pool --------------------------------------------------------- */

static const char *const wp_keys[] = {"workers", "buffer", "job_time", "after", NULL};

/* gs:worker_pool{ workers = 3, buffer = 10, job_time = "100ms", after } */
static int gs_worker_pool_l(lua_State *L)
{
    lgs_t *g = check_gs(L, 1);
    lsim_opts_t opt = lsim_opts_opt(L, 2, "GracefulShutdown:worker_pool", wp_keys);
    int workers = (int)lsim_opt_int(&opt, "workers", 3, 1, 10000);
    int buffer = (int)lsim_opt_int(&opt, "buffer", 10, 0, 10000000);
    simtime_t job_time = lsim_opt_dur(&opt, "job_time", 100 * SIM_MS, 1, INT64_MAX);
    const char *after = lsim_opt_str(&opt, "after", g->seed ? NULL : "http-server");
    lwp_t *lw = lsim_newudata(L, sizeof *lw, WP_MT, 0);
    memset(lw, 0, sizeof *lw);
    lw->g = g;
    keep(L);
    shutdown_worker_pool_options_t o = {0};
    o.job_time = job_time;
    o.after = after;
    o.log = gs_log;
    o.log_ud = g;
    o.seed_variant = g->seed;
    lw->wp = shutdown_worker_pool_create(workers, buffer, g->gs, &o);
    return 1;
}

/* true | nil, err = pool:submit_job(name) */
static int wp_submit_job_l(lua_State *L)
{
    lwp_t *lw = check_wp(L, 1);
    const char *job = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "WorkerPool.SubmitJob");
    const go_error_t *err = shutdown_worker_pool_submit_job(lw->wp, job);
    if (err)
        return lsim_push_error(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* pool:jobs() -> { { name, refused, submitted, started, finished, worker, final }, ... } */
static int wp_jobs_l(lua_State *L)
{
    lwp_t *lw = check_wp(L, 1);
    size_t n;
    const shutdown_worker_pool_job_t *jobs = shutdown_worker_pool_jobs(lw->wp, &n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 7);
        lua_pushstring(L, jobs[i].name);
        lua_setfield(L, -2, "name");
        if (jobs[i].refused) {
            lua_pushstring(L, go_error_msg(jobs[i].refused));
            lua_setfield(L, -2, "refused");
        }
        lsim_set_int(L, "submitted", jobs[i].submitted);
        lsim_set_int(L, "started", jobs[i].started);
        lsim_set_int(L, "finished", jobs[i].finished);
        lsim_set_int(L, "worker", jobs[i].worker);
        lua_pushboolean(L, jobs[i].final);
        lua_setfield(L, -2, "final");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int wp_queue_depth_l(lua_State *L)
{
    lua_pushinteger(L, shutdown_worker_pool_queue_depth(check_wp(L, 1)->wp));
    return 1;
}

void lsim_open_shutdown(lua_State *L, int t)
{
    static const luaL_Reg gs_methods[] = {
        {"start", gs_start_l},
        {"signal", gs_signal_l},
        {"shutdown", gs_shutdown_l},
        {"wait", gs_wait_l},
        {"is_shutting_down", gs_is_shutting_down_l},
        {"add_shutdown_func", gs_add_shutdown_func_l},
        {"report", gs_report_l},
        {"server", gs_server_l},
        {"worker_pool", gs_worker_pool_l},
        {NULL, NULL},
    };
    static const luaL_Reg server_methods[] = {
        {"start", srv_start_l}, {"request", srv_request_l}, {"stats", srv_stats_l}, {NULL, NULL},
    };
    static const luaL_Reg wp_methods[] = {
        {"submit_job", wp_submit_job_l}, {"jobs", wp_jobs_l}, {"queue_depth", wp_queue_depth_l},
        {NULL, NULL},
    };
    lsim_createmeta(L, GS_MT, NULL, gs_methods);
    lsim_createmeta(L, SERVER_MT, NULL, server_methods);
    lsim_createmeta(L, WP_MT, NULL, wp_methods);
    lua_pushcfunction(L, l_graceful_shutdown);
    lua_setfield(L, t, "graceful_shutdown");
}
