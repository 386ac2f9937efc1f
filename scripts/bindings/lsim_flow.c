/* lsim_flow: printing and result fields for the flow patterns' bindings. See lsim_flow.h. */
#include "lsim_flow.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "lsim.h"

static void print_line(void *ud, const char *text)
{
    g_t *g = go_self();
    lsim_print_line(ud, g ? go_name(g) : "sim", text);
}

pattern_out_t lflow_out(lua_State *L, bool print)
{
    pattern_out_t o = {NULL, NULL};
    if (print) {
        o.line = print_line;
        o.ud = host_of(L);
    }
    return o;
}

void lflow_set_int(lua_State *L, const char *key, lua_Integer v)
{
    lsim_set_int(L, key, v);
}

void lflow_set_str(lua_State *L, const char *key, const char *v)
{
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    lua_setfield(L, -2, key);
}

void lflow_set_bool(lua_State *L, const char *key, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, key);
}

void lflow_set_num(lua_State *L, const char *key, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}
