/*
 * lsim: the core of the `sim` module: goroutines, CPUs, logging, checks,
 * the seeded math.random, tostring without addresses, and the module's
 * table itself. Channels and select are in lsim_chan.c, time and timers in
 * lsim_time.c. See lsim.h.
 */
#include "lsim.h"

#include <stdio.h>

#include <lauxlib.h>

#include "cpu.h"
#include "duration.h"
#include "host_bind.h"
#include "rand.h"

sched_t *lsim_sched(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.sched");
    sched_t *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

void lsim_attach(lua_State *L, sched_t *s)
{
    lua_pushlightuserdata(L, s);
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.sched");
}

void lsim_need_goroutine(lua_State *L, const char *what)
{
    if (host_in_check(L) || !go_self())
        luaL_error(L, "%s cannot wait here: invariants and finally checks run between "
                      "steps and must not block", what);
}

/* ---- durations ----------------------------------------------------------- */

simtime_t lsim_checkduration(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx))
        return lua_tointeger(L, idx);
    if (lua_type(L, idx) == LUA_TNUMBER)
        return luaL_error(L, "bad duration %s: give integer nanoseconds or a string such as \"1.5s\"",
                          lua_tostring(L, idx));
    if (lua_type(L, idx) == LUA_TSTRING) {
        int64_t d;
        char err[256];
        if (!dur_parse(lua_tostring(L, idx), &d, err, sizeof err))
            return luaL_error(L, "bad duration \"%s\": %s", lua_tostring(L, idx), err);
        return d;
    }
    return luaL_error(L, "bad duration: want a string such as \"250ms\" or integer nanoseconds, got %s",
                      luaL_typename(L, idx));
}

simtime_t lsim_optduration(lua_State *L, int idx, simtime_t def)
{
    return lua_isnoneornil(L, idx) ? def : lsim_checkduration(L, idx);
}

void lsim_set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}


/* ---- goroutines ---------------------------------------------------------- */

/* sim.go(fn, ...), sim.go("name", fn, ...), sim.go({name=, role=}, fn, ...) */
static int l_go(lua_State *L)
{
    const char *name = NULL, *role = NULL;
    int fn = 1;
    if (lua_type(L, 1) == LUA_TSTRING) {
        name = lua_tostring(L, 1);
        fn = 2;
    } else if (lua_istable(L, 1)) {
        static const char *const keys[] = {"name", "role", NULL};
        lsim_opts_t o = lsim_opts(L, 1, "sim.go", keys);
        name = lsim_opt_str(&o, "name", NULL); /* the strings stay alive in the table */
        role = lsim_opt_str(&o, "role", NULL);
        fn = 2;
    }
    luaL_checktype(L, fn, LUA_TFUNCTION);
    int nargs = lua_gettop(L) - fn;
    host_spawn(L, fn, nargs, name, role);
    return 0;
}

/* sim._go_world(name, fn): a goroutine of the world, outside every node
 * (sim.at and sim.every): a node's pause or crash neither holds nor ends
 * it, even when a goroutine of that node started it. */
static int l_go_world(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    g_t *g = host_spawn(L, 2, lua_gettop(L) - 2, name, NULL);
    go_set_group(g, NULL);
    return 0;
}

static int l_yield(lua_State *L)
{
    lsim_need_goroutine(L, "yield");
    go_yield();
    return 0;
}

/* sim.exit([code]): os.Exit(code), the run's exit status (0 by default). */
static int l_exit(lua_State *L)
{
    lua_Integer code = luaL_optinteger(L, 1, 0);
    luaL_argcheck(L, code >= 0 && code <= 255, 1, "want an exit status from 0 to 255");
    lsim_need_goroutine(L, "exit");
    host_set_exit_code(host_of(L), (int)code);
    sched_exit(lsim_sched(L));
    sched_park(WAIT_EXTERNAL, 0); /* never resumed: the run ends */
    return 0;
}

/* sim.run([d]): main waits for the world (go_wait_world): true when
 * nothing else can ever run, false when d passed first. */
static int l_run(lua_State *L)
{
    simtime_t deadline = SIMTIME_MAX;
    if (!lua_isnoneornil(L, 1)) {
        simtime_t d = lsim_checkduration(L, 1);
        if (d < 0)
            return luaL_argerror(L, 1, "want a duration >= 0");
        simtime_t now = sched_now_of(lsim_sched(L));
        deadline = d > SIMTIME_MAX - now ? SIMTIME_MAX : now + d;
    }
    lsim_need_goroutine(L, "run");
    g_t *g = go_self();
    if (go_id(g) != 1)
        return luaL_error(L, "sim.run: only main waits for the world (this is goroutine %d, %s)",
                          (int)go_id(g), go_name(g));
    lua_pushboolean(L, go_wait_world(deadline));
    return 1;
}

/* sim.goexit(): runtime.Goexit. An error no pcall keeps (the sandbox's
 * pcall raises it again), so that the goroutine's to-be-closed variables
 * (Lua's deferred calls) are closed on the way out; the goroutine then
 * ends (lgo.c). */
static int l_goexit(lua_State *L)
{
    lsim_need_goroutine(L, "goexit");
    lsim_push_goexit(L);
    return lua_error(L);
}

/* sim.panic(v): Go's panic(v). The value itself is raised, a string with
 * no "file:line:" in front, so that recover (pcall) returns what was
 * given (an error such as ctx:err() stays equal to itself); panic(nil) is
 * Go 1.21's *runtime.PanicNilError. */
static int l_panic(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        return lsim_go_panic(L, "panic called with nil argument (use runtime.Goexit instead?)");
    lua_settop(L, 1);
    return lua_error(L);
}

static int l_self(lua_State *L)
{
    g_t *g = go_self();
    if (!g)
        return 0;
    lua_pushinteger(L, (lua_Integer)go_id(g));
    lua_pushstring(L, go_name(g));
    return 2;
}

static int l_goroutines(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)sched_goroutines_alive(lsim_sched(L)));
    return 1;
}

static int l_dump(lua_State *L)
{
    sched_t *s = lsim_sched(L);
    size_t cap = 1 << 16;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, cap);
    size_t n = sched_dump(s, p, cap);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* ---- CPUs ---------------------------------------------------------------- */

static cpu_pool_t *cpu_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.cpu");
    cpu_pool_t *p = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return p;
}

void lsim_set_gomaxprocs(lua_State *L, int procs)
{
    lua_pushlightuserdata(L, cpu_pool_new(procs));
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.cpu");
}

static int l_work(lua_State *L)
{
    simtime_t d = lsim_checkduration(L, 1);
    lsim_need_goroutine(L, "work");
    cpu_work(cpu_of(L), d);
    return 0;
}

/* sim.cpu() -> { procs, busy, waiting, busy_ns } */
static int l_cpu(lua_State *L)
{
    cpu_pool_t *p = cpu_of(L);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, cpu_procs(p));
    lua_setfield(L, -2, "procs");
    lua_pushinteger(L, cpu_busy(p));
    lua_setfield(L, -2, "busy");
    lua_pushinteger(L, (lua_Integer)cpu_waiting(p));
    lua_setfield(L, -2, "waiting");
    lua_pushinteger(L, cpu_busy_ns(p));
    lua_setfield(L, -2, "busy_ns");
    return 1;
}

/* ---- output and checks --------------------------------------------------- */

static int l_log(lua_State *L)
{
    host_t *h = host_of(L);
    simtime_t t = sched_now_of(lsim_sched(L));
    g_t *g = go_self();
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char head[160];
    snprintf(head, sizeof head, "[%lld.%06llds] %s: ", (long long)(t / SIM_SEC),
             (long long)(t % SIM_SEC / 1000), g ? go_name(g) : "sim");
    luaL_addstring(&b, head);
    for (int i = 1; i <= n; i++) {
        lsim_tolstring(L, i, NULL);
        if (i > 1)
            luaL_addchar(&b, ' ');
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    host_print(h, s, len);
    sched_emit(EV_LOG, 0, 0, 0, s);
    return 0;
}

static int l_expect(lua_State *L)
{
    bool ok = lua_toboolean(L, 1);
    const char *msg = luaL_optstring(L, 2, "expectation");
    host_add_expect(host_of(L), L, ok, msg, 0);
    lua_pushboolean(L, ok);
    return 1;
}

static int l_invariant(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *msg = luaL_optstring(L, 2, "invariant");
    host_add_invariant(L, 1, msg);
    return 0;
}

static int l_finally(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    host_add_finally(L, 1);
    return 0;
}

static int l_scenario(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    host_set_header(host_of(L), L, 1);
    if (host_usage_error(host_of(L)))
        sched_park(WAIT_EXTERNAL, 0); /* the run ends: exit 3 */
    return 0;
}

static int l_duration(lua_State *L)
{
    lua_pushinteger(L, lsim_checkduration(L, 1));
    return 1;
}

static int l_format_duration(lua_State *L)
{
    char buf[48];
    lua_pushstring(L, dur_format(luaL_checkinteger(L, 1), buf, sizeof buf));
    return 1;
}

static int l_seed(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)sched_seed(lsim_sched(L)));
    return 1;
}

/* sim.event(what, obj, a, b): a user event in the trace. */
static int l_event(lua_State *L)
{
    const char *what = luaL_checkstring(L, 1);
    sched_emit(EV_USER, (uint64_t)luaL_optinteger(L, 2, 0), luaL_optinteger(L, 3, 0),
               luaL_optinteger(L, 4, 0), what);
    return 0;
}

/* ---- math.random on the user stream --------------------------------------- */

static rand_t *user_rand(lua_State *L)
{
    return sched_rand(lsim_sched(L), RAND_USER);
}

static int l_random(lua_State *L)
{
    rand_t *r = user_rand(L);
    lua_Integer lo, hi;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, rand_double(r));
        return 1;
    case 1:
        lo = 1;
        hi = luaL_checkinteger(L, 1);
        if (hi == 0) {
            lua_pushinteger(L, (lua_Integer)rand_u64(r));
            return 1;
        }
        break;
    case 2:
        lo = luaL_checkinteger(L, 1);
        hi = luaL_checkinteger(L, 2);
        break;
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    luaL_argcheck(L, lo <= hi, lua_gettop(L), "interval is empty");
    lua_pushinteger(L, rand_range(r, lo, hi));
    return 1;
}

static int l_randomseed(lua_State *L)
{
    uint64_t seed = lua_isnoneornil(L, 1) ? sched_seed(lsim_sched(L))
                                          : (uint64_t)luaL_checkinteger(L, 1);
    rand_seed(user_rand(L), seed, RAND_USER + 1);
    return 0;
}

/* The world stream, for the prelude's distributions and load shapes. */
static int l_world_random(lua_State *L)
{
    lua_pushnumber(L, rand_double(sched_rand(lsim_sched(L), RAND_WORLD)));
    return 1;
}

static int l_world_int(lua_State *L)
{
    lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
    luaL_argcheck(L, lo <= hi, 2, "interval is empty");
    lua_pushinteger(L, rand_range(sched_rand(lsim_sched(L), RAND_WORLD), lo, hi));
    return 1;
}

void lsim_bind_math_random(lua_State *L)
{
    lua_getglobal(L, "math");
    lua_pushcfunction(L, l_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, l_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}

/* ---- tostring without addresses ------------------------------------------ */

lua_Integer lsim_object_number(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    /* Number objects in the order they are first shown (weak keys). */
    if (lua_getfield(L, LUA_REGISTRYINDEX, "chansim.ids") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_newtable(L);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "chansim.ids");
    }
    lua_pushvalue(L, idx);
    lua_Integer id;
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
        id = lua_tointeger(L, -1);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        lua_getfield(L, LUA_REGISTRYINDEX, "chansim.nextid");
        id = lua_tointeger(L, -1) + 1;
        lua_pop(L, 1);
        lua_pushinteger(L, id);
        lua_setfield(L, LUA_REGISTRYINDEX, "chansim.nextid");
        lua_pushvalue(L, idx);
        lua_pushinteger(L, id);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    return id;
}

const char *lsim_tolstring(lua_State *L, int idx, size_t *len)
{
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t != LUA_TTABLE && t != LUA_TFUNCTION && t != LUA_TTHREAD && t != LUA_TUSERDATA &&
        t != LUA_TLIGHTUSERDATA)
        return luaL_tolstring(L, idx, len);
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return luaL_tolstring(L, idx, len);
    }
    lua_Integer id = lsim_object_number(L, idx);
    const char *kind = luaL_typename(L, idx);
    int ty = luaL_getmetafield(L, idx, "__name");
    if (ty == LUA_TSTRING) {
        lua_pushfstring(L, "%s: #%I", lua_tostring(L, -1), id);
        lua_remove(L, -2);
    } else {
        if (ty != LUA_TNIL)
            lua_pop(L, 1);
        lua_pushfstring(L, "%s: #%I", kind, id);
    }
    return lua_tolstring(L, -1, len);
}

/* ---- the module ---------------------------------------------------------- */

static const luaL_Reg sim_funcs[] = {
    {"scenario", l_scenario},
    {"go", l_go},
    {"_go_world", l_go_world},
    {"yield", l_yield},
    {"exit", l_exit},
    {"goexit", l_goexit},
    {"panic", l_panic},
    {"run", l_run},
    {"self", l_self},
    {"goroutines", l_goroutines},
    {"dump", l_dump},
    {"work", l_work},
    {"cpu", l_cpu},
    {"log", l_log},
    {"expect", l_expect},
    {"invariant", l_invariant},
    {"finally", l_finally},
    {"duration", l_duration},
    {"format_duration", l_format_duration},
    {"seed", l_seed},
    {"event", l_event},
    {"_world_random", l_world_random},
    {"_world_int", l_world_int},
    {NULL, NULL},
};

int luaopen_chansim(lua_State *L)
{
    luaL_newlib(L, sim_funcs);
    int t = lua_gettop(L);
    lsim_open_chan(L, t);
    lsim_open_time(L, t);
    lua_newtable(L);
    lua_setfield(L, t, "params");
    lsim_open_sync(L, t);
    lsim_open_ctx(L, t);
    lsim_open_shared(L, t);
    lsim_open_metrics(L, t);
    lsim_open_patterns(L, t);
    return 1;
}
