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

static service_t *check_service(lua_State *L, int idx)
{
    return *(service_t **)luaL_checkudata(L, idx, SERVICE_MT);
}

static int l_service(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    const char *name = lua_tostring(L, -1);
    if (!name)
        return luaL_error(L, "sim.service: name is required");
    lua_getfield(L, 1, "processing");
    simtime_t p = lsim_checkduration(L, -1);
    if (p < 0)
        return luaL_error(L, "sim.service: processing must not be negative");
    lua_getfield(L, 1, "dep_timeout");
    simtime_t dt = lsim_optduration(L, -1, 500 * SIM_MS);
    service_t *deps[SERVICE_MAX_DEPS];
    int n = 0;
    lua_getfield(L, 1, "deps");
    if (!lua_isnil(L, -1)) {
        luaL_checktype(L, -1, LUA_TTABLE);
        int k = lua_gettop(L);
        n = (int)luaL_len(L, k);
        if (n > SERVICE_MAX_DEPS)
            return luaL_error(L, "sim.service: at most %d dependencies", SERVICE_MAX_DEPS);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, k, i + 1);
            deps[i] = check_service(L, -1);
            lua_pop(L, 1);
        }
    }
    service_t *s = service_new(name, p, deps, n);
    s->dep_timeout = dt;
    *(service_t **)lua_newuserdatauv(L, sizeof s, 1) = s;
    luaL_setmetatable(L, SERVICE_MT);
    /* Keep the dependencies' userdata alive with this one. */
    lua_getfield(L, 1, "deps");
    lua_setiuservalue(L, -2, 1);
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
    luaL_newmetatable(L, SERVICE_MT);
    luaL_newlibtable(L, methods);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_service);
    lua_setfield(L, t, "service");
}
