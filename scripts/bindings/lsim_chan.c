/*
 * lsim_chan: channels and select in the `sim` module (Go's chan, <-, close,
 * range and select). A channel is a userdata over a core channel (chan.h);
 * its slot is one int: nil, booleans and small integers travel inline,
 * any other Lua value as a registry reference the receiver takes back.
 * A channel made by C for timers carries int64 times, one made for flags
 * booleans. See lsim.h.
 */
#include "lsim.h"

#include <limits.h>
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"

#define CHAN_MT "chansim.chan"

/* What a channel carries, seen from Lua. */
enum { LCHAN_VALUES, LCHAN_TIME, LCHAN_EMPTY, LCHAN_BOOL };

typedef struct lchan {
    const void *tag; /* &lchan_tag: what check_lchan looks at first */
    chan_t *c;  /* the core channel (owned by the scheduler) */
    int kind;   /* LCHAN_VALUES: registry refs; LCHAN_TIME: int64 times */
} lchan_t;

/* ---- channel values ------------------------------------------------------ */

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

void lsim_pushchan_time(lua_State *L, chan_t *c)
{
    push_lchan(L, c, LCHAN_TIME);
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
    /* Lua cannot tell a case with no channel ({}, or a key left out) from
     * a nil channel's case ({recv = ctx:done()} of a context that is never
     * cancelled: Go's nil channel, never ready). Beside a case that can
     * fire, or a default, it is Go's nil channel; a select that nothing
     * can ever fire is the scenario's error, naming its cases (sim.select{}
     * blocks for ever on purpose). */
    if (n > 0 && !has_default) {
        int live = 0;
        while (live < n && !cases[live].ch)
            live++;
        if (live == n) {
            for (int i = 0; i < n; i++)
                if (cases[i].dir == SELECT_SEND)
                    chan_value_drop(L, slots[i].ref);
            if (n == 1)
                return lsim_scenario_error(L, "sim.select case 1 has no channel ({} or a nil recv or "
                                              "send) and there is no default: the select could never "
                                              "fire (sim.select{} blocks for ever on purpose)");
            return lsim_scenario_error(L, "sim.select cases 1 to %d have no channel ({} or a nil recv "
                                          "or send) and there is no default: the select could never "
                                          "fire (sim.select{} blocks for ever on purpose)", n);
        }
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

static const luaL_Reg chan_funcs[] = {
    {"chan", l_chan},     {"send", l_send},   {"recv", l_recv},
    {"close", l_close},   {"range", l_range}, {"select", l_select},
    {NULL, NULL},
};

void lsim_open_chan(lua_State *L, int simtable)
{
    lsim_createmeta(L, CHAN_MT, chan_meta, chan_methods);
    lua_pushvalue(L, simtable);
    luaL_setfuncs(L, chan_funcs, 0);
    lua_pop(L, 1);
}
