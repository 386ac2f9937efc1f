/*
 * lsim_flow: what the bindings of the flow patterns share (fan-out/fan-in,
 * priority multiplexing, first response, pipeline, bounded concurrency):
 * checked options with clear errors, and a printer for the lines the
 * patterns print.
 *
 * Every option reader takes the options table's stack index and the
 * constructor's name, and raises "sim.<fn>: <key> must be ..." with
 * luaL_error, so the message carries the scenario's file:line. Unknown
 * keys are errors too (a misspelt option would otherwise silently keep its
 * default).
 */
#ifndef CHANSIM_LSIM_FLOW_H
#define CHANSIM_LSIM_FLOW_H

#include <stdbool.h>

#include <lua.h>

#include "ctx.h"
#include "pattern.h"

/* Raise an error naming the first key of the table at idx not in known
 * (a NULL-terminated list). */
void lflow_check_keys(lua_State *L, int idx, const char *fn, const char *const *known);
/* t[key] as an integer in [lo, hi], or def when absent. */
lua_Integer lflow_int(lua_State *L, int idx, const char *fn, const char *key, lua_Integer def,
                      lua_Integer lo, lua_Integer hi);
/* t[key] as a duration (Go syntax or integer ns) in [lo, hi], or def. */
simtime_t lflow_dur(lua_State *L, int idx, const char *fn, const char *key, simtime_t def,
                    simtime_t lo, simtime_t hi);
bool lflow_bool(lua_State *L, int idx, const char *fn, const char *key, bool def);
/* t[key] as one of choices (NULL-terminated); returns its index, or def. */
int lflow_enum(lua_State *L, int idx, const char *fn, const char *key, const char *const *choices, int def);
/* t.ctx as a sim.context, or NULL when absent. */
ctx_t *lflow_ctx(lua_State *L, int idx, const char *fn);
/* Parse a duration at stack index v for the error "sim.<fn>: <what>". */
simtime_t lflow_todur(lua_State *L, int v, const char *fn, const char *what);

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
