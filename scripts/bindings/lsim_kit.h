/*
 * lsim_kit: the toolkit every binding of the `sim` module is written with.
 *
 * A binding (scripts/bindings/lsim_<pattern>.c) turns Lua calls into calls
 * of a C pattern and back. What they all need is here, once:
 *
 *   options      lsim_opts() starts reading a Lua options table: it rejects
 *                unknown keys (every one, sorted, in one message), then
 *                lsim_opt_int/num/dur/bool/str/enum/func/ctx read one key
 *                each, type-check it, range-check it and apply its default.
 *                A bad option is a scenario error (below), never a panic.
 *   userdata     LSIM_CHECK_UDATA / LSIM_CHECK_BOX declare a file's typed
 *                check_<type>() around luaL_checkudata (liolib's tolstream);
 *                lsim_newudata and lsim_pushbox make them.
 *   metatables   lsim_createmeta(name, metamethods, methods), as liolib.c's
 *                createmeta: the methods become __index.
 *   errors       lsim_push_error pushes Go's `nil, err`; lsim_go_error maps
 *                a Lua error value to a Go error (context's sentinels by
 *                their text).
 *   calling Lua  the one funnel for C calling back into Lua. lsim_pcall
 *                calls a function on the caller's own Lua thread (a pattern
 *                calling back, on the same goroutine, the function a binding
 *                was given); it checks that the thread belongs to the running
 *                goroutine, so an error's longjmp never crosses goroutine
 *                stacks. lsim_call_ref / lsim_call_packed run a function as
 *                the body of a C goroutine, on a fresh Lua thread with its
 *                own pcall (an error there panics the program, as in Go).
 *   scenario     lsim_scenario_error reports "file:line: message" at the
 *   errors       scenario's line and ends the run with exit status 3.
 *
 * Messages have one shape:
 *   sim.fn: unknown option "x" (known: a, b, c)
 *   sim.fn: unknown options "x", "y" (known: a, b, c)
 *   sim.fn: key must be <what> (got <value>)      strings quoted
 *
 * Scenario errors vs panics: an option table is the scenario's own text, so
 * a bad option is the scenario's error (exit 3) wherever it is read, in the
 * main goroutine or any other, at load or at run time: the run ends at
 * once and pcall cannot recover it. A bad argument given to an ordinary
 * call at run time (sim.sleep("3 parsecs")) stays a Lua error, that is a
 * panic of the goroutine (exit 2), as in Go. An invariant cannot park: the
 * run is ended all the same (exit 3) and the message is also raised as a
 * Lua error of the check. A finally check runs after the verdict: there the
 * message fails the check (exit 1) and is shown with it.
 */
#ifndef CHANSIM_LSIM_KIT_H
#define CHANSIM_LSIM_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>

#include "ctx.h"
#include "goerr.h"
#include "host_bind.h"
#include "sched.h"

/* ---- scenario errors ----------------------------------------------------- */

/* Report "file:line: message" (the innermost Lua line calling the running C
 * function) as the scenario's error and end the run with exit status 3.
 * Does not return. Without a host (a bare lua_State) it raises the message
 * as a Lua error. */
int lsim_scenario_error(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options ------------------------------------------------------------- */

typedef struct lsim_opts {
    lua_State *L;
    int idx;                  /* absolute index of the table; 0: none given */
    const char *fn;           /* the caller's name in messages: "sim.breaker" */
    const char *const *known; /* the keys it takes, NULL-terminated */
} lsim_opts_t;

/* Start reading the options table at idx for fn, which takes the keys in
 * known (NULL-terminated, in the order messages list them). A table is
 * required; lsim_opts_opt also takes nil or none (every option then has its
 * default). Every key not in known is reported, sorted, in one error. */
lsim_opts_t lsim_opts(lua_State *L, int idx, const char *fn, const char *const *known);
lsim_opts_t lsim_opts_opt(lua_State *L, int idx, const char *fn, const char *const *known);

/* Whether key is given (not nil). */
bool lsim_opt_has(const lsim_opts_t *o, const char *key);
/* An integer in [lo, hi]. */
lua_Integer lsim_opt_int(const lsim_opts_t *o, const char *key, lua_Integer def, lua_Integer lo,
                         lua_Integer hi);
/* A number in [lo, hi]. */
lua_Number lsim_opt_num(const lsim_opts_t *o, const char *key, lua_Number def, lua_Number lo,
                        lua_Number hi);
/* A duration (Go syntax such as "250ms", or integer nanoseconds) in [lo, hi]. */
simtime_t lsim_opt_dur(const lsim_opts_t *o, const char *key, simtime_t def, simtime_t lo, simtime_t hi);
/* The value at vidx (an element of option key) as a duration, unchecked range. */
simtime_t lsim_opt_durval(const lsim_opts_t *o, const char *key, int vidx);
bool lsim_opt_bool(const lsim_opts_t *o, const char *key, bool def);
/* A string; valid while the options table lives (copy it to keep it). */
const char *lsim_opt_str(const lsim_opts_t *o, const char *key, const char *def);
/* One of choices (NULL-terminated): its index, or def when absent. */
int lsim_opt_enum(const lsim_opts_t *o, const char *key, const char *const *choices, int def);
/* variant = "corrected" (the default) or "seed": true for the seed's. */
bool lsim_opt_seed_variant(const lsim_opts_t *o);
/* A function: a registry reference (the main state's registry is shared by
 * every thread), or LUA_NOREF when absent. */
int lsim_opt_func(const lsim_opts_t *o, const char *key);
/* A sim.context, or NULL when absent. */
ctx_t *lsim_opt_ctx(const lsim_opts_t *o, const char *key);
/* Push the raw value of key (nil when absent) and return its Lua type, for
 * options of a shape of their own (tables, lists); report a bad one with
 * lsim_opt_fail. */
int lsim_opt_push(const lsim_opts_t *o, const char *key);
/* Report "fn: key must be <want> (got <value at vidx>)" as a scenario error. */
int lsim_opt_fail(const lsim_opts_t *o, const char *key, int vidx, const char *want);
/* Report "fn: <message>" as a scenario error. */
int lsim_opts_error(const lsim_opts_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value at idx as messages show it (strings quoted, no addresses).
 * Pushes it. */
const char *lsim_shown(lua_State *L, int idx);

/* ---- userdata and metatables --------------------------------------------- */

/* A userdata of size bytes with the metatable mt and nuv user values. */
void *lsim_newudata(lua_State *L, size_t size, const char *mt, int nuv);
/* A "box": a userdata holding the pointer p to an object owned elsewhere
 * (by the scheduler), with metatable mt. keep_idx, unless 0, is a value
 * kept alive as the box's user value 1 (what p was made from). */
void lsim_pushbox(lua_State *L, void *p, const char *mt, int keep_idx);
/* The userdata at idx, which must have metatable mt (luaL_checkudata,
 * with the metatable's address cached: no string lookup once warm). */
void *lsim_checkudata(lua_State *L, int idx, const char *mt);
/* The pointer in the box at idx, which must have metatable mt. */
void *lsim_checkbox(lua_State *L, int idx, const char *mt);

/* Declare `static T *fn(lua_State *L, int idx)` checking the userdata at
 * idx: UDATA for a userdata that is a T, BOX for one holding a T *. */
#define LSIM_CHECK_UDATA(fn, T, mt)                                                               \
    static inline T *fn(lua_State *L, int idx) { return (T *)lsim_checkudata(L, idx, (mt)); }
#define LSIM_CHECK_BOX(fn, T, mt)                                                                 \
    static inline T *fn(lua_State *L, int idx) { return (T *)lsim_checkbox(L, idx, (mt)); }

/* Create the metatable name with the metamethods in meta and, unless
 * methods is NULL, a table of methods as its __index (liolib's createmeta).
 * Either array may be NULL. Leaves the stack as it was. */
void lsim_createmeta(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods);

/* ---- errors -------------------------------------------------------------- */

/* A panic of Go's runtime or library raised from a binding: the message
 * exactly as Go has it, with no Lua "file:line:" in front, both in the
 * value pcall recovers and in the final "panic:" line. Does not return. */
int lsim_go_panic(lua_State *L, const char *msg);
/* runtime.Goexit's error value (sim.goexit), and whether idx holds it. */
void lsim_push_goexit(lua_State *L);
bool lsim_is_goexit(lua_State *L, int idx);
/* Push Go's `nil, err` (err's message) and return 2 (the count). */
int lsim_push_error(lua_State *L, const go_error_t *err);
/* A Go error for a message: context's sentinel errors by their text (so a
 * Lua function that returns ctx:err() stays errors.Is-equal), otherwise a
 * new error with the message. */
const go_error_t *lsim_go_error(const char *msg);
/* The Lua value at idx as a Go error (shown without addresses). */
const go_error_t *lsim_to_go_error(lua_State *L, int idx);

/* ---- the patterns' lines ------------------------------------------------- */

/* Print "[1.500000s] who: text" through the host (so --quiet silences it),
 * as sim.log prints; lsim_log_line also records it as an EV_LOG event. */
void lsim_print_line(host_t *h, const char *who, const char *text);
void lsim_log_line(host_t *h, const char *who, const char *text);

/* ---- C calling Lua ------------------------------------------------------- */

/* lua_pcall on L itself: the function below its nargs arguments on top of
 * L. L must be the Lua thread of the running goroutine (or of a coroutine
 * it is running); anything else is a bug, reported and aborted, because an
 * error would longjmp onto another goroutine's stack. Returns Lua's status;
 * on an error its value is on top. */
int lsim_pcall(lua_State *L, int nargs, int nresults);

/* Run the function fn_ref (a registry reference, kept) as the body of the
 * running C goroutine, on a fresh Lua thread of the main state with its own
 * pcall, with the values push(ud, M) pushes on the main state M as its
 * arguments (push may be NULL). Returns its first result as a string the
 * caller frees, or NULL for nil. A Lua error panics the program, as an
 * error in any goroutine does. L is any state of the run. */
char *lsim_call_ref(lua_State *L, int fn_ref, void (*push)(void *ud, lua_State *M), void *ud);
/* As lsim_call_ref for a packed registry reference to the sequence
 * {fn, args...} (consumed). */
char *lsim_call_packed(lua_State *L, int packed_ref);
/* Pack the function at first and every value after it into {fn, args...}
 * in the registry (for lsim_call_packed later). */
int lsim_pack_call(lua_State *L, int first);

#endif
