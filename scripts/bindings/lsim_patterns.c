/*
 * lsim_patterns: registers the Lua constructors of the seed's patterns and
 * of the simulated world, one line per pattern's binding file
 * (scripts/lsim_<pattern>.c), plus sim.entity for scenarios that publish
 * their own entities to the trace and the view.
 */
#include <lauxlib.h>

#include "entity.h"
#include "lsim.h"
#include "net.h"

#define ENTITY_MT "chansim.entity"

LSIM_CHECK_BOX(check_entity, entity_t, ENTITY_MT)

/* sim.entity(kind, name [, parent]): parent is an entity, or a cluster's
 * node (the entity goes under the node's own, drawn with the node). */
static int l_entity(lua_State *L)
{
    const char *kind = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    entity_t *parent = NULL;
    if (luaL_testudata(L, 3, "chansim.node"))
        parent = net_node_entity(lsim_checkbox(L, 3, "chansim.node"));
    else if (!lua_isnoneornil(L, 3) && !luaL_testudata(L, 3, ENTITY_MT))
        return luaL_typeerror(L, 3, "a sim.entity or a cluster's node");
    else if (!lua_isnoneornil(L, 3))
        parent = check_entity(L, 3);
    lsim_pushbox(L, entity_new(kind, name, parent), ENTITY_MT, 0);
    return 1;
}

static int en_state(lua_State *L)
{
    entity_set_state(check_entity(L, 1), luaL_checkstring(L, 2));
    return 0;
}

static int en_set(lua_State *L)
{
    entity_set(check_entity(L, 1), luaL_checkstring(L, 2), luaL_checkinteger(L, 3));
    return 0;
}

static int en_get(lua_State *L)
{
    lua_pushinteger(L, entity_get(check_entity(L, 1), luaL_checkstring(L, 2), luaL_optinteger(L, 3, 0)));
    return 1;
}

static int en_add(lua_State *L)
{
    lua_pushinteger(L, entity_add(check_entity(L, 1), luaL_checkstring(L, 2), luaL_optinteger(L, 3, 1)));
    return 1;
}

void lsim_open_patterns(lua_State *L, int t)
{
    static const luaL_Reg methods[] = {
        {"state", en_state}, {"set", en_set}, {"get", en_get}, {"add", en_add}, {NULL, NULL},
    };
    lsim_createmeta(L, ENTITY_MT, NULL, methods);
    lua_pushcfunction(L, l_entity);
    lua_setfield(L, t, "entity");
    /* The seed's patterns: each binding file adds its constructors. */
    lsim_open_breaker(L, t);
    lsim_open_worker_pool(L, t);
    lsim_open_shutdown(L, t);
    lsim_open_leak_detector(L, t);
    lsim_open_fanout(L, t);
    lsim_open_priority_mux(L, t);
    lsim_open_first_response(L, t);
    lsim_open_pipeline(L, t);
    lsim_open_bounded(L, t);
    lsim_open_contention(L, t);
    lsim_open_services(L, t);
    lsim_open_degradation(L, t);
    lsim_open_observability(L, t);
    lsim_open_cluster(L, t);
    lsim_open_etcd(L, t);
}
