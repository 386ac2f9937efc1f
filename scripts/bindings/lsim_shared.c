/*
 * lsim_shared: sim.shared and sim.atomic, memory that goroutines share.
 *
 * Plain Lua values are private to the simulation's cooperative steps: a
 * goroutine is switched out only at a simulated event. A shared variable
 * is memory as Go's goroutines see it: every read and write is a
 * scheduling decision under the exploring strategies (random, pct:D,
 * replay) and an access the race detector checks (--race), so that
 *
 *     local c = sim.shared("counter", 0)
 *     sim.go(function() c.value = c.value + 1 end)
 *
 * from two goroutines loses an update on some schedules and is reported
 * as a DATA RACE on every schedule. sim.atomic is Go's sync/atomic on an
 * integer: Load, Store, Add, Swap and CompareAndSwap, each one decision
 * and never a race (each synchronises with the earlier ones).
 *
 *   v = sim.shared(name, init)   v.value / v:read()   v.value = x / v:write(x)
 *   a = sim.atomic(name, init)   a:load() a:store(x) a:add(d) a:swap(x)
 *                                a:compare_and_swap(old, new)
 *   sim.strategy()               "fifo", "random", "pct", "replay" or "dfs"
 */
#include <string.h>

#include "lsim.h"
#include "lsim_kit.h"
#include "race.h"

#define SHARED_MT "chansim.shared"
#define ATOMIC_MT "chansim.atomic"

typedef struct lshared {
    race_var_t v; /* the detector's shadow; the value is user value 1 */
} lshared_t;

typedef struct latomic {
    race_var_t v;     /* its clock (atomics synchronise) */
    lua_Integer x;    /* the value */
} latomic_t;

LSIM_CHECK_UDATA(check_shared, lshared_t, SHARED_MT)
LSIM_CHECK_UDATA(check_atomic, latomic_t, ATOMIC_MT)

/* The variable's name, interned for the run (reports outlive the call). */
static const char *run_name(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    sched_t *s = sched_current();
    return s ? sched_intern(s, name) : "?";
}

/* ---- sim.shared ---------------------------------------------------------- */

static int l_shared(lua_State *L)
{
    const char *name = run_name(L, 1);
    lua_settop(L, 2);
    lshared_t *sv = lsim_newudata(L, sizeof *sv, SHARED_MT, 1);
    memset(sv, 0, sizeof *sv);
    sv->v.name = name;
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static void shared_read_l(lua_State *L, lshared_t *sv)
{
    sched_point_named(sv->v.name);
    race_read_at(&sv->v, NULL, NULL, 0);
    shared_note(sv->v.name, "read", NULL, NULL, 0);
    lua_getiuservalue(L, 1, 1);
}

static void shared_write_l(lua_State *L, lshared_t *sv, int vidx)
{
    sched_point_named(sv->v.name);
    race_write_at(&sv->v, NULL, NULL, 0);
    shared_note(sv->v.name, "write", NULL, NULL, 0);
    lua_pushvalue(L, vidx);
    lua_setiuservalue(L, 1, 1);
}

static int sh_read(lua_State *L)
{
    shared_read_l(L, check_shared(L, 1));
    return 1;
}

static int sh_write(lua_State *L)
{
    lshared_t *sv = check_shared(L, 1);
    luaL_checkany(L, 2);
    shared_write_l(L, sv, 2);
    return 0;
}

/* v.value reads, v.read / v.write / v.name are the methods and the name. */
static int sh_index(lua_State *L)
{
    lshared_t *sv = check_shared(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "value") == 0)
        shared_read_l(L, sv);
    else if (strcmp(k, "read") == 0)
        lua_pushcfunction(L, sh_read);
    else if (strcmp(k, "write") == 0)
        lua_pushcfunction(L, sh_write);
    else if (strcmp(k, "name") == 0)
        lua_pushstring(L, sv->v.name);
    else
        lua_pushnil(L);
    return 1;
}

static int sh_newindex(lua_State *L)
{
    lshared_t *sv = check_shared(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "value") != 0)
        return lsim_scenario_error(L, "sim.shared %s: only .value can be set (got .%s)",
                                   sv->v.name, k);
    shared_write_l(L, sv, 3);
    return 0;
}

static int sh_tostring(lua_State *L)
{
    lshared_t *sv = check_shared(L, 1);
    lua_pushfstring(L, "shared %s", sv->v.name);
    return 1;
}

/* ---- sim.atomic ---------------------------------------------------------- */

static int l_atomic(lua_State *L)
{
    const char *name = run_name(L, 1);
    lua_Integer init = luaL_optinteger(L, 2, 0);
    latomic_t *a = lsim_newudata(L, sizeof *a, ATOMIC_MT, 0);
    memset(a, 0, sizeof *a);
    a->v.name = name;
    a->x = init;
    return 1;
}

/* One atomic operation: a decision point, then its clocks. */
static latomic_t *atomic_op(lua_State *L, race_atomic_op_t op, const char *what)
{
    latomic_t *a = check_atomic(L, 1);
    sched_point_named(a->v.name);
    race_atomic(&a->v, op);
    shared_note(a->v.name, what, NULL, NULL, 0);
    return a;
}

static int at_load(lua_State *L)
{
    lua_pushinteger(L, atomic_op(L, RACE_LOAD, "atomic.Load")->x);
    return 1;
}

static int at_store(lua_State *L)
{
    lua_Integer x = luaL_checkinteger(L, 2);
    atomic_op(L, RACE_STORE, "atomic.Store")->x = x;
    return 0;
}

/* Add returns the new value (Go's AddInt64); wraps as Go's int64 does. */
static int at_add(lua_State *L)
{
    lua_Integer d = luaL_checkinteger(L, 2);
    latomic_t *a = atomic_op(L, RACE_RMW, "atomic.Add");
    a->x = (lua_Integer)((lua_Unsigned)a->x + (lua_Unsigned)d);
    lua_pushinteger(L, a->x);
    return 1;
}

/* Swap returns the old value. */
static int at_swap(lua_State *L)
{
    lua_Integer x = luaL_checkinteger(L, 2);
    latomic_t *a = atomic_op(L, RACE_RMW, "atomic.Swap");
    lua_pushinteger(L, a->x);
    a->x = x;
    return 1;
}

/* CompareAndSwap(old, new) -> swapped; a failed one is a load. */
static int at_cas(lua_State *L)
{
    latomic_t *a = check_atomic(L, 1);
    lua_Integer old = luaL_checkinteger(L, 2);
    lua_Integer x = luaL_checkinteger(L, 3);
    sched_point_named(a->v.name);
    bool swapped = a->x == old;
    race_atomic(&a->v, swapped ? RACE_RMW : RACE_LOAD);
    shared_note(a->v.name, "atomic.CompareAndSwap", NULL, NULL, 0);
    if (swapped)
        a->x = x;
    lua_pushboolean(L, swapped);
    return 1;
}

static int at_tostring(lua_State *L)
{
    latomic_t *a = check_atomic(L, 1);
    lua_pushfstring(L, "atomic %s", a->v.name);
    return 1;
}

/* sim.strategy() -> "fifo", "random", "pct", "replay" or "dfs": whether every
 * synchronising operation is a scheduling decision in this run. */
static int l_strategy(lua_State *L)
{
    sched_t *s = sched_current();
    static const char *const names[] = {"fifo", "random", "pct", "replay", "dfs"};
    sched_policy_t p = s ? sched_policy(s) : SCHED_FIFO;
    lua_pushstring(L, (unsigned)p < 5 ? names[p] : "fifo");
    return 1;
}

void lsim_open_shared(lua_State *L, int simtable)
{
    static const luaL_Reg shared_meta[] = {
        {"__index", sh_index}, {"__newindex", sh_newindex}, {"__tostring", sh_tostring},
        {NULL, NULL},
    };
    lsim_createmeta(L, SHARED_MT, shared_meta, NULL);
    static const luaL_Reg atomic_meta[] = {{"__tostring", at_tostring}, {NULL, NULL}};
    static const luaL_Reg atomic_methods[] = {
        {"load", at_load}, {"store", at_store}, {"add", at_add}, {"swap", at_swap},
        {"compare_and_swap", at_cas}, {NULL, NULL},
    };
    lsim_createmeta(L, ATOMIC_MT, atomic_meta, atomic_methods);
    static const luaL_Reg funcs[] = {
        {"shared", l_shared}, {"atomic", l_atomic}, {"strategy", l_strategy}, {NULL, NULL},
    };
    lua_pushvalue(L, simtable);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
