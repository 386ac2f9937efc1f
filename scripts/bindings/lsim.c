/*
 * lsim: the core of the `sim` module: goroutines, channels, select, time,
 * CPUs, logging, checks and the seeded math.random. See lsim.h.
 */
#include "lsim.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "cpu.h"
#include "duration.h"
#include "host_bind.h"
#include "rand.h"
#include "timer.h"

#define CHAN_MT "chansim.chan"
#define TIMER_MT "chansim.timer"

/* What a channel carries, seen from Lua. */
enum { LCHAN_VALUES, LCHAN_TIME, LCHAN_EMPTY, LCHAN_BOOL };

typedef struct lchan {
    const void *tag; /* &lchan_tag: what check_lchan looks at first */
    chan_t *c;  /* the core channel (owned by the scheduler) */
    int kind;   /* LCHAN_VALUES: registry refs; LCHAN_TIME: int64 times */
} lchan_t;

typedef struct ltimer {
    sim_timer_t *t; /* the core timer (owned by the scheduler) */
    bool ticker;    /* a Ticker rather than a Timer */
} ltimer_t;

static sched_t *sched_of(lua_State *L)
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

/* ---- channel values ------------------------------------------------------ */

void lsim_set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

int lsim_ref_value(lua_State *L, int idx)
{
    lua_pushvalue(L, idx);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

void lsim_push_ref(lua_State *L, int ref)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
}

/* A Lua value in a channel slot (one int, as the core channel was made
 * with): nil, a boolean or a small non-negative integer is carried in the
 * int itself; anything else is a registry reference (> 0). A channel's
 * element size is in its trace, so the slot stays one int; the common
 * values then cost no registry traffic at all. */
enum { CV_NIL = LUA_REFNIL, CV_FALSE = -2, CV_TRUE = -3, CV_INT0 = -8 };

static int chan_value_take(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return CV_NIL;
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? CV_TRUE : CV_FALSE;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            lua_Integer v = lua_tointeger(L, idx);
            if (v >= 0 && v <= (lua_Integer)CV_INT0 - INT_MIN)
                return (int)((lua_Integer)CV_INT0 - v);
        }
        break;
    default:
        break;
    }
    return lsim_ref_value(L, idx);
}

/* Push the value of a slot and release its reference, if it has one. */
static void chan_value_push(lua_State *L, int e)
{
    if (e > 0)
        lsim_push_ref(L, e);
    else if (e <= CV_INT0)
        lua_pushinteger(L, (lua_Integer)CV_INT0 - e);
    else if (e == CV_TRUE || e == CV_FALSE)
        lua_pushboolean(L, e == CV_TRUE);
    else
        lua_pushnil(L);
}

/* Drop a slot's value that was never delivered. */
static void chan_value_drop(lua_State *L, int e)
{
    if (e > 0)
        luaL_unref(L, LUA_REGISTRYINDEX, e);
}

/* Every channel operation checks its receiver: a full userdata of a
 * channel's size whose first word is this tag is a channel (a scenario
 * cannot make userdata nor change one's metatable, and no other type starts
 * with this address), without the metatable lookup; anything else goes
 * through the kit's check and its error. */
static const char lchan_tag;

static inline lchan_t *check_lchan(lua_State *L, int idx)
{
    lchan_t *u = lua_touserdata(L, idx);
    if (u && lua_rawlen(L, idx) == sizeof *u && u->tag == &lchan_tag)
        return u;
    return lsim_checkudata(L, idx, CHAN_MT);
}

LSIM_CHECK_UDATA(check_timer, ltimer_t, TIMER_MT)

static void push_lchan(lua_State *L, chan_t *c, int kind)
{
    lchan_t *u = lsim_newudata(L, sizeof *u, CHAN_MT, 0);
    u->tag = &lchan_tag;
    u->c = c;
    u->kind = kind;
}

void lsim_pushchan(lua_State *L, chan_t *c)
{
    if (!c)
        lua_pushnil(L);
    else
        push_lchan(L, c, chan_elem_size(c) == 0 ? LCHAN_EMPTY : LCHAN_VALUES);
}

void lsim_pushchan_bool(lua_State *L, chan_t *c)
{
    if (!c)
        lua_pushnil(L);
    else
        push_lchan(L, c, LCHAN_BOOL);
}

chan_t *lsim_checkchan(lua_State *L, int idx)
{
    return check_lchan(L, idx)->c;
}

chan_t *lsim_optchan(lua_State *L, int idx)
{
    return lua_isnoneornil(L, idx) ? NULL : lsim_checkchan(L, idx);
}

/* The zero value a channel declared (sim.chan(cap, name, zero)): what a
 * receive from it gives once it is closed and drained. Pushes nil if none. */
static void push_zero(lua_State *L, chan_t *c)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, "chansim.chan_zero") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    lua_rawgetp(L, -1, c);
    lua_remove(L, -2);
}

/* Push a received element: a Lua value (taking its ref back) or a time;
 * the channel's zero value for a receive that found it closed. */
static void push_elem(lua_State *L, chan_t *c, int kind, const void *elem, bool ok)
{
    if (!ok) {
        if (kind == LCHAN_VALUES && c)
            push_zero(L, c);
        else if (kind == LCHAN_BOOL || kind == LCHAN_EMPTY)
            lua_pushboolean(L, 0);
        else if (kind == LCHAN_TIME)
            lua_pushinteger(L, 0);
        else
            lua_pushnil(L);
    } else if (kind == LCHAN_EMPTY) {
        lua_pushboolean(L, 1);
    } else if (kind == LCHAN_BOOL) {
        lua_pushboolean(L, *(const int64_t *)elem != 0);
    } else if (kind == LCHAN_TIME) {
        lua_pushinteger(L, *(const int64_t *)elem);
    } else {
        chan_value_push(L, *(const int *)elem);
    }
}

/* ---- channels ------------------------------------------------------------ */

/* sim.chan([cap [, name [, zero]]]): zero is the element type's zero
 * value, received once the channel is closed and drained (default nil). */
static int l_chan(lua_State *L)
{
    lua_Integer cap = luaL_optinteger(L, 1, 0);
    chan_t *c = chan_make(sizeof(int), cap);
    if (lua_type(L, 2) == LUA_TSTRING)
        obj_set_name(c, lua_tostring(L, 2));
    if (!lua_isnoneornil(L, 3)) {
        if (lua_getfield(L, LUA_REGISTRYINDEX, "chansim.chan_zero") != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, LUA_REGISTRYINDEX, "chansim.chan_zero");
        }
        lua_pushvalue(L, 3);
        lua_rawsetp(L, -2, c);
        lua_pop(L, 1);
    }
    push_lchan(L, c, LCHAN_VALUES);
    return 1;
}

static void send_value(lua_State *L, chan_t *c, int kind, int idx)
{
    if (kind == LCHAN_TIME)
        luaL_error(L, "invalid operation: send to a receive-only timer channel");
    if (kind != LCHAN_VALUES)
        luaL_error(L, "invalid operation: send to a receive-only channel");
    lsim_need_goroutine(L, "send");
    if (chan_closed(c)) {
        lua_pushliteral(L, "send on closed channel");
        lua_error(L);
    }
    int ref = chan_value_take(L, idx);
    chan_send(c, &ref);
}

static int recv_value(lua_State *L, chan_t *c, int kind)
{
    lsim_need_goroutine(L, "receive");
    union {
        int ref;
        int64_t t;
    } elem;
    bool ok = chan_recv(c, &elem);
    push_elem(L, c, kind, &elem, ok);
    lua_pushboolean(L, ok);
    return 2;
}

static int ch_send(lua_State *L)
{
    lchan_t *u = check_lchan(L, 1);
    luaL_checkany(L, 2);
    send_value(L, u->c, u->kind, 2);
    return 0;
}

static int ch_recv(lua_State *L)
{
    lchan_t *u = check_lchan(L, 1);
    return recv_value(L, u->c, u->kind);
}

static int ch_try_send(lua_State *L)
{
    lchan_t *u = check_lchan(L, 1);
    luaL_checkany(L, 2);
    if (u->kind != LCHAN_VALUES)
        return luaL_error(L, "invalid operation: send to a receive-only channel");
    if (chan_closed(u->c)) {
        lua_pushliteral(L, "send on closed channel");
        return lua_error(L);
    }
    int ref = chan_value_take(L, 2);
    bool done = chan_try_send(u->c, &ref);
    if (!done)
        chan_value_drop(L, ref);
    lua_pushboolean(L, done);
    return 1;
}

/* v, ok, received = ch:try_recv() */
static int ch_try_recv(lua_State *L)
{
    lchan_t *u = check_lchan(L, 1);
    union {
        int ref;
        int64_t t;
    } elem;
    bool ok = false;
    bool done = chan_try_recv(u->c, &elem, &ok);
    if (done)
        push_elem(L, u->c, u->kind, &elem, ok);
    else
        lua_pushnil(L);
    lua_pushboolean(L, ok);
    lua_pushboolean(L, done);
    return 3;
}

static int ch_close(lua_State *L)
{
    lchan_t *u = check_lchan(L, 1);
    if (u->kind == LCHAN_TIME)
        return luaL_error(L, "invalid operation: close of a receive-only timer channel");
    chan_close(u->c);
    return 0;
}

static int ch_len(lua_State *L)
{
    lua_pushinteger(L, chan_len(check_lchan(L, 1)->c));
    return 1;
}

static int ch_cap(lua_State *L)
{
    lua_pushinteger(L, chan_cap(check_lchan(L, 1)->c));
    return 1;
}

static int ch_range_next(lua_State *L)
{
    lchan_t *u = check_lchan(L, lua_upvalueindex(1));
    recv_value(L, u->c, u->kind);
    if (!lua_toboolean(L, -1)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pop(L, 1);
    return 1;
}

/* for v in ch:range() do ... end  (ends when closed and drained) */
static int ch_range(lua_State *L)
{
    check_lchan(L, 1);
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, ch_range_next, 1);
    return 1;
}

static int ch_tostring(lua_State *L)
{
    lchan_t *u = check_lchan(L, 1);
    lua_pushfstring(L, "chan#%d(len %d, cap %d%s)", (int)obj_id(u->c), (int)chan_len(u->c),
                    (int)chan_cap(u->c), chan_closed(u->c) ? ", closed" : "");
    return 1;
}

static int ch_id(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)obj_id(check_lchan(L, 1)->c));
    return 1;
}

static const luaL_Reg chan_methods[] = {
    {"send", ch_send},     {"recv", ch_recv},   {"try_send", ch_try_send},
    {"try_recv", ch_try_recv}, {"close", ch_close}, {"len", ch_len},
    {"cap", ch_cap},       {"range", ch_range}, {"id", ch_id},
    {NULL, NULL},
};

static const luaL_Reg chan_meta[] = {
    {"__tostring", ch_tostring},
    {"__len", ch_len},
    {NULL, NULL},
};

/* sim.send(ch, v) / sim.recv(ch): as the methods, but a nil channel blocks
 * forever, as in Go. */
static int l_send(lua_State *L)
{
    if (lua_isnil(L, 1)) {
        lsim_need_goroutine(L, "send");
        chan_send(NULL, NULL);
        return 0;
    }
    return ch_send(L);
}

static int l_recv(lua_State *L)
{
    if (lua_isnil(L, 1)) {
        lsim_need_goroutine(L, "receive");
        chan_recv(NULL, NULL);
        return 0;
    }
    return ch_recv(L);
}

/* sim.close(ch): as ch:close(), and Go's panic for a nil channel. */
static int l_close(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        return lsim_go_panic(L, "close of nil channel");
    return ch_close(L);
}

/* for v in sim.range(ch): as ch:range(); a nil channel blocks forever. */
static int l_range(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lsim_need_goroutine(L, "receive");
        chan_recv(NULL, NULL);
        return 0;
    }
    return ch_range(L);
}

/* ---- select -------------------------------------------------------------- */

/* i, v, ok = sim.select{ {recv = ch1}, {send = ch2, value = x}, default = true } */
static int l_select(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = (int)luaL_len(L, 1);
    lua_getfield(L, 1, "default");
    bool has_default = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!has_default)
        lsim_need_goroutine(L, "select");
    if (n > 4096)
        return luaL_error(L, "select with %d cases: at most 4096", n);
    select_case_t *cases = n ? lua_newuserdatauv(L, (size_t)n * sizeof *cases, 0) : NULL;
    union slot {
        int ref;
        int64_t t;
    } *slots = n ? lua_newuserdatauv(L, (size_t)n * sizeof *slots, 0) : NULL;
    int *kinds = n ? lua_newuserdatauv(L, (size_t)n * sizeof *kinds, 0) : NULL;
    /* Evaluate every case once, in order, before choosing (Go's rule). */
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, 1, i + 1);
        if (!lua_istable(L, -1))
            return luaL_error(L, "select case %d: want a table such as {recv = ch} or "
                                 "{send = ch, value = v}", i + 1);
        int k = lua_gettop(L);
        /* A misspelt key ({rcev = ch}) would leave a nil-channel case that
         * blocks forever in silence: the scenario's error instead. */
        static const char *const case_keys[] = {"recv", "send", "value", NULL};
        char what[48];
        snprintf(what, sizeof what, "sim.select case %d", i + 1);
        lsim_opts(L, k, what, case_keys);
        memset(&cases[i], 0, sizeof cases[i]);
        kinds[i] = LCHAN_VALUES;
        slots[i].ref = LUA_NOREF;
        lua_getfield(L, k, "send");
        lua_getfield(L, k, "recv");
        if (!lua_isnil(L, -2) && !lua_isnil(L, -1))
            return luaL_error(L, "select case %d: both send and recv", i + 1);
        if (!lua_isnil(L, -2)) {
            lchan_t *u = luaL_testudata(L, -2, CHAN_MT);
            if (!u)
                return luaL_error(L, "select case %d: send wants a channel", i + 1);
            if (u->kind != LCHAN_VALUES)
                return luaL_error(L, "select case %d: send to a receive-only channel", i + 1);
            cases[i].ch = u->c;
            cases[i].dir = SELECT_SEND;
            lua_getfield(L, k, "value");
            slots[i].ref = chan_value_take(L, -1);
            lua_pop(L, 1);
        } else if (!lua_isnil(L, -1)) {
            lchan_t *u = luaL_testudata(L, -1, CHAN_MT);
            if (!u)
                return luaL_error(L, "select case %d: recv wants a channel", i + 1);
            cases[i].ch = u->c;
            cases[i].dir = SELECT_RECV;
            kinds[i] = u->kind;
        } else {
            /* A nil channel: never ready, never queued. */
            lua_getfield(L, k, "value");
            cases[i].dir = lua_isnil(L, -1) ? SELECT_RECV : SELECT_SEND;
            lua_pop(L, 1);
        }
        cases[i].elem = &slots[i];
        lua_settop(L, k - 1);
    }
    int won = chan_select(cases, n, has_default);
    for (int i = 0; i < n; i++)
        if (i != won && cases[i].dir == SELECT_SEND)
            chan_value_drop(L, slots[i].ref);
    if (won < 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, won + 1);
    if (cases[won].dir == SELECT_RECV) {
        push_elem(L, cases[won].ch, kinds[won], &slots[won], cases[won].ok);
        lua_pushboolean(L, cases[won].ok);
        return 3;
    }
    return 1;
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
    sched_exit(sched_of(L));
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
        simtime_t now = sched_now_of(sched_of(L));
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
    lua_pushinteger(L, (lua_Integer)sched_goroutines_alive(sched_of(L)));
    return 1;
}

static int l_dump(lua_State *L)
{
    sched_t *s = sched_of(L);
    size_t cap = 1 << 16;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, cap);
    size_t n = sched_dump(s, p, cap);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* ---- time ---------------------------------------------------------------- */

static int l_now(lua_State *L)
{
    lua_pushinteger(L, sched_now_of(sched_of(L)));
    return 1;
}

static int l_sleep(lua_State *L)
{
    simtime_t d = lsim_checkduration(L, 1);
    lsim_need_goroutine(L, "sleep");
    go_sleep(d);
    return 0;
}

static int l_after(lua_State *L)
{
    simtime_t d = lsim_checkduration(L, 1);
    push_lchan(L, go_after(d), LCHAN_TIME);
    return 1;
}

static void push_timer(lua_State *L, sim_timer_t *t, bool ticker)
{
    ltimer_t *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->t = t;
    u->ticker = ticker;
    push_lchan(L, timer_chan(t), LCHAN_TIME);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, TIMER_MT);
}

/* time.AfterFunc(d, f): f runs in its own goroutine ("time.goFunc") when
 * the timer fires; the timer has stop and reset, and no channel. */
typedef struct after_fn {
    lua_State *M; /* the main state */
    int ref;      /* the function, kept for the run (reset may fire it again) */
} after_fn_t;

static void after_func_entry(void *arg)
{
    after_fn_t *a = arg;
    free(lsim_call_ref(a->M, a->ref, NULL, NULL));
}

static int l_after_func(lua_State *L)
{
    simtime_t d = lsim_checkduration(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    /* the closure's state lives as long as the run: a userdata kept in the
     * registry with the function */
    after_fn_t *a = lua_newuserdatauv(L, sizeof *a, 0);
    a->M = host_lua(host_of(L));
    lua_pushvalue(L, 2);
    a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_ref(L, LUA_REGISTRYINDEX); /* pins the userdata */
    ltimer_t *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->t = timer_after_func(d, after_func_entry, a);
    u->ticker = false;
    lua_pushnil(L); /* t.c is nil, as AfterFunc's Timer.C */
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, TIMER_MT);
    return 1;
}

static int l_timer(lua_State *L)
{
    push_timer(L, timer_new(lsim_checkduration(L, 1)), false);
    return 1;
}

static int l_ticker(lua_State *L)
{
    simtime_t d = lsim_checkduration(L, 1);
    if (d <= 0)
        return lsim_go_panic(L, "non-positive interval for NewTicker");
    push_timer(L, ticker_new(d), true);
    return 1;
}

static int tm_stop(lua_State *L)
{
    ltimer_t *u = check_timer(L, 1);
    if (u->ticker) {
        ticker_stop(u->t);
        return 0;
    }
    lua_pushboolean(L, timer_stop(u->t));
    return 1;
}

static int tm_reset(lua_State *L)
{
    ltimer_t *u = check_timer(L, 1);
    simtime_t d = lsim_checkduration(L, 2);
    if (u->ticker) {
        if (d <= 0)
            return lsim_go_panic(L, "non-positive interval for Ticker.Reset");
        ticker_reset(u->t, d);
        return 0;
    }
    lua_pushboolean(L, timer_reset(u->t, d));
    return 1;
}

static int tm_index(lua_State *L)
{
    check_timer(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "c") == 0) {
        lua_getiuservalue(L, 1, 1);
        return 1;
    }
    if (strcmp(k, "stop") == 0) {
        lua_pushcfunction(L, tm_stop);
        return 1;
    }
    if (strcmp(k, "reset") == 0) {
        lua_pushcfunction(L, tm_reset);
        return 1;
    }
    return 0;
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
    simtime_t t = sched_now_of(sched_of(L));
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
    lua_pushinteger(L, (lua_Integer)sched_seed(sched_of(L)));
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
    return sched_rand(sched_of(L), RAND_USER);
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
    uint64_t seed = lua_isnoneornil(L, 1) ? sched_seed(sched_of(L))
                                          : (uint64_t)luaL_checkinteger(L, 1);
    rand_seed(user_rand(L), seed, RAND_USER + 1);
    return 0;
}

/* The world stream, for the prelude's distributions and load shapes. */
static int l_world_random(lua_State *L)
{
    lua_pushnumber(L, rand_double(sched_rand(sched_of(L), RAND_WORLD)));
    return 1;
}

static int l_world_int(lua_State *L)
{
    lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
    luaL_argcheck(L, lo <= hi, 2, "interval is empty");
    lua_pushinteger(L, rand_range(sched_rand(sched_of(L), RAND_WORLD), lo, hi));
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
    {"close", l_close},
    {"range", l_range},
    {"after_func", l_after_func},
    {"run", l_run},
    {"self", l_self},
    {"goroutines", l_goroutines},
    {"dump", l_dump},
    {"chan", l_chan},
    {"send", l_send},
    {"recv", l_recv},
    {"select", l_select},
    {"now", l_now},
    {"sleep", l_sleep},
    {"after", l_after},
    {"timer", l_timer},
    {"ticker", l_ticker},
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
    lsim_createmeta(L, CHAN_MT, chan_meta, chan_methods);
    static const luaL_Reg timer_meta[] = {{"__index", tm_index}, {NULL, NULL}};
    lsim_createmeta(L, TIMER_MT, timer_meta, NULL);
    luaL_newlib(L, sim_funcs);
    int t = lua_gettop(L);
    lua_newtable(L);
    lua_setfield(L, t, "params");
    lsim_open_sync(L, t);
    lsim_open_ctx(L, t);
    lsim_open_shared(L, t);
    lsim_open_metrics(L, t);
    lsim_open_patterns(L, t);
    return 1;
}
