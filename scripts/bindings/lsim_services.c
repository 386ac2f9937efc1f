/*
 * lsim_services: sim.service{...}, the seed's context-propagation Service.
 *
 *   local D = sim.service{ name = "ServiceD", processing = "100ms" }
 *   local B = sim.service{ name = "ServiceB", processing = "200ms", deps = { D, E } }
 *   local result, err, spans = A:process(ctx, "req-1")
 *
 * spans lists every call in order: { service, depth, start, finish,
 * work_start, err, struck } with times in ns.
 */
#include <lauxlib.h>

#include "lsim.h"
#include "lsim_ctx.h"
#include "service.h"

#define SERVICE_MT "chansim.service"

LSIM_CHECK_BOX(check_service, service_t, SERVICE_MT)

static int l_service(lua_State *L)
{
    static const char *const keys[] = {"name", "processing", "dep_timeout", "deps", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.service", keys);
    const char *name = lsim_opt_str(&o, "name", NULL);
    if (!name)
        return lsim_opts_error(&o, "name is required");
    if (!lsim_opt_has(&o, "processing"))
        return lsim_opts_error(&o, "processing is required (a duration such as \"100ms\")");
    simtime_t p = lsim_opt_dur(&o, "processing", 0, 0, INT64_MAX);
    simtime_t dt = lsim_opt_dur(&o, "dep_timeout", 500 * SIM_MS, INT64_MIN, INT64_MAX);
    service_t *deps[SERVICE_MAX_DEPS];
    int n = 0;
    int t = lsim_opt_push(&o, "deps"); /* kept on the stack: the new userdata keeps it alive */
    if (t != LUA_TNIL) {
        if (t != LUA_TTABLE)
            return lsim_opt_fail(&o, "deps", -1, "a list of sim.service");
        int k = lua_gettop(L);
        n = (int)luaL_len(L, k);
        if (n > SERVICE_MAX_DEPS)
            return lsim_opts_error(&o, "at most %d dependencies", SERVICE_MAX_DEPS);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, k, i + 1);
            if (!luaL_testudata(L, -1, SERVICE_MT))
                return lsim_opts_error(&o, "deps[%d] must be a sim.service (got %s)", i + 1, lsim_shown(L, -1));
            deps[i] = check_service(L, -1);
            lua_pop(L, 1);
        }
    }
    service_t *s = service_create(name, p, deps, n);
    s->dep_timeout = dt;
    lsim_pushbox(L, s, SERVICE_MT, -1); /* keeps the dependencies' userdata alive with this one */
    return 1;
}

/* result, err, spans = svc:process(ctx, request_id) */
static int svc_process(lua_State *L)
{
    service_t *s = check_service(L, 1);
    ctx_t *ctx = lsim_checkctx(L, 2);
    const char *id = luaL_checkstring(L, 3);
    lsim_need_goroutine(L, "Service.Process");
    service_request_trace_t tr = {0};
    char out[256];
    const go_error_t *err = service_process(s, ctx, id, &tr, out, sizeof out);
    if (err)
        lua_pushnil(L);
    else
        lua_pushstring(L, out);
    if (err)
        lua_pushstring(L, go_error_msg(err));
    else
        lua_pushnil(L);
    lua_createtable(L, (int)tr.nspans, 0);
    for (size_t i = 0; i < tr.nspans; i++) {
        service_span_t *sp = &tr.spans[i];
        lua_createtable(L, 0, 8);
        lua_pushstring(L, sp->svc->name);
        lua_setfield(L, -2, "service");
        lsim_set_int(L, "depth", sp->depth);
        lsim_set_int(L, "start", sp->start);
        lsim_set_int(L, "finish", sp->end);
        lsim_set_int(L, "work_start", sp->work_start);
        if (sp->err) {
            lua_pushstring(L, go_error_msg(sp->err));
            lua_setfield(L, -2, "err");
        }
        lua_pushboolean(L, sp->struck_here);
        lua_setfield(L, -2, "struck");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    service_request_trace_free(&tr);
    return 3;
}

/* svc:critical_path() -> ns the graph needs without deadlines */
static int svc_critical_path(lua_State *L)
{
    lua_pushinteger(L, service_critical_path(check_service(L, 1)));
    return 1;
}

static int svc_name(lua_State *L)
{
    lua_pushstring(L, check_service(L, 1)->name);
    return 1;
}

void lsim_open_services(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"process", svc_process}, {"critical_path", svc_critical_path}, {"name", svc_name},
        {NULL, NULL},
    };
    lsim_createmeta(L, SERVICE_MT, NULL, methods);
    lua_pushcfunction(L, l_service);
    lua_setfield(L, t, "service");
}
