/*
 * host_bind: the host as the `sim` module's bindings (scripts/bindings/)
 * see it, and no more: which host a Lua state belongs to, the program's
 * output, goroutines whose body is Lua, the scenario header, the checks,
 * and a scenario error (exit 3).
 *
 * Every function here is called from C code that Lua called, on the Lua
 * state L of the running goroutine (or of the main state, for a check),
 * and the host must have been created and be running (host_run). Nothing
 * returned is the caller's to free unless the declaration says so.
 */
#ifndef CHANSIM_HOST_BIND_H
#define CHANSIM_HOST_BIND_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "sched.h"

typedef struct host host_t;

/* The host of the running scenario (every Lua state and thread of a run
 * knows it). A Lua state's extra space holds the Lua goroutine its thread
 * runs: a state made outside the host must set it to NULL. */
host_t *host_of(lua_State *L);
/* The main Lua state: idle during the run, the one to keep references in
 * that outlive a goroutine (host_run_here takes them from there). */
lua_State *host_lua(host_t *h);

/* The program's output (stdout unless --quiet), as print() writes it. */
void host_print(host_t *h, const char *s, size_t len);

/* Start a Lua goroutine running the function at fn_idx with the nargs
 * values after it, named name (NULL: "func@file:line" of the function)
 * with the given role (NULL: none); returns it (valid while it lives). */
g_t *host_spawn(lua_State *L, int fn_idx, int nargs, const char *name, const char *role);
/* Run a Lua function as the body of the running (C) goroutine, on a fresh
 * Lua thread with its own pcall. packed_ref is a registry reference in
 * host_lua's state to a sequence {fn, args...} (consumed). Returns fn's
 * first result as a string the caller frees (tostring's text: no
 * address), or NULL if it was nil; the value itself is left in the
 * registry as "chansim.last_result" until the next call, for a caller that
 * keeps values as values (errgroup). A Lua error panics the program, as an
 * error in any goroutine does. */
char *host_run_here(lua_State *L, int packed_ref);

/* scenario{...}: the header table at idx (name, description, seed,
 * duration, gomaxprocs, params, leaks). A bad header is a usage error. */
void host_set_header(host_t *h, lua_State *L, int idx);
/* A scenario error: "file:line: message" on stderr after the run, which
 * ends now with exit 3. Only the first one counts. */
void host_usage_fail(host_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* host_usage_fail was called: the running goroutine should stop. */
bool host_usage_error(const host_t *h);

/* sim.expect: record an expectation (kind 0) checked now at the caller's
 * file:line; a failed one is also a trace event. */
void host_add_expect(host_t *h, lua_State *L, bool ok, const char *msg, int kind);
/* sim.invariant: the function at fn_idx must return true after every
 * step; msg says what it checks. Returns 0 (a Lua C function's result). */
int host_add_invariant(lua_State *L, int fn_idx, const char *msg);
/* sim.finally: the function at fn_idx runs once after the run. */
int host_add_finally(lua_State *L, int fn_idx);
/* An invariant or finally check is running on L: nothing may block or
 * change the run. */
bool host_in_check(lua_State *L);
/* After a protected call (pcall, a coroutine's resume, a callback): if the
 * Lua heap ran out for good, end the run with Go's fatal out-of-memory
 * error (in a check, raise the memory error again). Go cannot recover
 * from running out of memory, and a scenario that caught it and went on
 * would only make Lua collect the full heap at every allocation. */
void host_oom_check(lua_State *L);
/* os.Exit(code): the status the run ends with (sim.exit). */
void host_set_exit_code(host_t *h, int code);
/* file:line of the Lua code that called the running C function ("" if none). */
void host_where(lua_State *L, char *buf, size_t size);

#endif
