/* lsim_ctx: contexts as Lua values (see lsim_ctx.c). */
#ifndef CHANSIM_LSIM_CTX_H
#define CHANSIM_LSIM_CTX_H

#include <lua.h>

#include "ctx.h"

void lsim_pushctx(lua_State *L, ctx_t *c);
ctx_t *lsim_checkctx(lua_State *L, int idx);

#endif
