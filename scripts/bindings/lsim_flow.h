/*
 * lsim_flow: what the bindings of the flow patterns share (fan-out/fan-in,
 * priority multiplexing, first response, pipeline, bounded concurrency):
 * a printer for the lines the patterns print and the fields of result
 * tables. Their options are read with the bindings' toolkit (lsim_kit.h).
 */
#ifndef CHANSIM_LSIM_FLOW_H
#define CHANSIM_LSIM_FLOW_H

#include <stdbool.h>

#include <lua.h>

#include "ctx.h"
#include "pattern.h"

/* An out that prints each line as sim.log does ("[1.500000s] worker-2:
 * text") through the host (so --quiet silences it), or a trace-only out
 * when print is false. */
pattern_out_t lflow_out(lua_State *L, bool print);

/* Fields of the table on top of the stack. */
void lflow_set_int(lua_State *L, const char *key, lua_Integer v);
void lflow_set_str(lua_State *L, const char *key, const char *v);
void lflow_set_bool(lua_State *L, const char *key, bool v);
void lflow_set_num(lua_State *L, const char *key, lua_Number v);

#endif
