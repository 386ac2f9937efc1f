/*
 * lsim: the `sim` Lua module, the binding of core (and, through their own
 * files, of sim/'s patterns and world) for scenarios.
 *
 * Each core type is a userdata with one metatable built from separate
 * luaL_Reg arrays of methods and metamethods, and a check_<type> helper
 * around luaL_checkudata (as Lua's liolib.c does), all made with the
 * bindings' toolkit (lsim_kit.h), which every binding file uses. Misuse
 * raises a Lua error, which carries the scenario's file:line; Go's panics
 * raised inside a binding become Lua errors of the goroutine, so pcall
 * recovers them as recover() would; an expected failure returns nil and a
 * message. A bad options table is a scenario error instead (exit 3).
 *
 * Values sent on channels are Lua values held in the registry while in
 * flight; the receiver takes ownership back.
 */
#ifndef CHANSIM_LSIM_H
#define CHANSIM_LSIM_H

#include <stdbool.h>

#include <lauxlib.h>
#include <lua.h>

#include "chan.h"
#include "lsim_kit.h"
#include "sched.h"

/* Open the module: returns the `sim` table. */
int luaopen_chansim(lua_State *L);
/* Give the module its scheduler (before the run); lsim_sched returns it. */
void lsim_attach(lua_State *L, sched_t *s);
sched_t *lsim_sched(lua_State *L);
/* Bind math.random and math.randomseed to the run's user stream. */
void lsim_bind_math_random(lua_State *L);
/* Simulated CPUs for sim.work (scenario{ gomaxprocs }). */
void lsim_set_gomaxprocs(lua_State *L, int procs);

/* Duration argument: an integer of nanoseconds or a Go duration string;
 * raises "bad duration" naming the value otherwise. */
simtime_t lsim_checkduration(lua_State *L, int idx);
simtime_t lsim_optduration(lua_State *L, int idx, simtime_t def);
/* Raise an error unless the caller runs on a goroutine that may block. */
void lsim_need_goroutine(lua_State *L, const char *what);

/* Channels as Lua values: push a userdata for c, or get c from one. */
void lsim_pushchan(lua_State *L, chan_t *c);
chan_t *lsim_checkchan(lua_State *L, int idx);
/* A channel of int64 flags made in C, read from Lua as booleans. */
void lsim_pushchan_bool(lua_State *L, chan_t *c);
/* A timer's channel of int64 times, read from Lua as times (lsim_time.c). */
void lsim_pushchan_time(lua_State *L, chan_t *c);
chan_t *lsim_optchan(lua_State *L, int idx);
/* t[k] = v for the table on top of the stack (results as Lua tables). */
void lsim_set_int(lua_State *L, const char *k, lua_Integer v);
/* Move the value at idx into a channel slot / back out of one. */
int lsim_ref_value(lua_State *L, int idx);
void lsim_push_ref(lua_State *L, int ref);

/* Register more functions into the sim table (for the channel, time,
 * sync, context, pattern and world bindings, each in its own file). */
/* sim.chan, send, recv, close, range, select (lsim_chan.c). */
void lsim_open_chan(lua_State *L, int simtable);
/* sim.now, sleep, after, timer, ticker, after_func (lsim_time.c). */
void lsim_open_time(lua_State *L, int simtable);
void lsim_open_sync(lua_State *L, int simtable);
/* sim.shared and sim.atomic (lsim_shared.c). */
void lsim_open_shared(lua_State *L, int simtable);
void lsim_open_ctx(lua_State *L, int simtable);
/* sim.counter, sim.gauge, sim.histogram and the bucket helpers
 * (scripts/lsim_metrics.c, on core/metrics.h). */
void lsim_open_metrics(lua_State *L, int simtable);
/* The seed's patterns and the simulated world (scripts/lsim_patterns.c
 * calls each pattern's own lsim_open_<pattern>). */
void lsim_open_patterns(lua_State *L, int simtable);
void lsim_open_breaker(lua_State *L, int simtable);
void lsim_open_worker_pool(lua_State *L, int simtable);
void lsim_open_shutdown(lua_State *L, int simtable);
void lsim_open_leak_detector(lua_State *L, int simtable);
void lsim_open_fanout(lua_State *L, int simtable);
void lsim_open_priority_mux(lua_State *L, int simtable);
void lsim_open_first_response(lua_State *L, int simtable);
void lsim_open_pipeline(lua_State *L, int simtable);
void lsim_open_bounded(lua_State *L, int simtable);
void lsim_open_contention(lua_State *L, int simtable);
void lsim_open_services(lua_State *L, int simtable);
void lsim_open_degradation(lua_State *L, int simtable);
void lsim_open_observability(lua_State *L, int simtable);
void lsim_open_cluster(lua_State *L, int simtable);
void lsim_open_etcd(lua_State *L, int simtable);

/* tostring() that never shows an address: tables, functions, threads and
 * userdata without __tostring print as "table: #12", numbered in the order
 * first printed, so output is the same on every run. Pushes the string. */
const char *lsim_tolstring(lua_State *L, int idx, size_t *len);
/* The number tostring shows for a table, function, thread or userdata
 * ("table: #12"), given in the order objects are first shown. */
lua_Integer lsim_object_number(lua_State *L, int idx);

#endif
