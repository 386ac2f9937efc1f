/*
 * lsim_time: simulated time in the `sim` module: sim.now, sim.sleep,
 * sim.after, timers and tickers (Go 1.23's: Stop and Reset discard a
 * pending value) and time.AfterFunc, over core/timer.h. A timer's channel
 * is a channel of int64 times made by lsim_chan.c. See lsim.h.
 */
#include "lsim.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "host_bind.h"
#include "timer.h"

#define TIMER_MT "chansim.timer"

typedef struct ltimer {
    sim_timer_t *t; /* the core timer (owned by the scheduler) */
    bool ticker;    /* a Ticker rather than a Timer */
} ltimer_t;

LSIM_CHECK_UDATA(check_timer, ltimer_t, TIMER_MT)

/* ---- time ---------------------------------------------------------------- */

static int l_now(lua_State *L)
{
    lua_pushinteger(L, sched_now_of(lsim_sched(L)));
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
    lsim_pushchan_time(L, go_after(d));
    return 1;
}

static void push_timer(lua_State *L, sim_timer_t *t, bool ticker)
{
    ltimer_t *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->t = t;
    u->ticker = ticker;
    lsim_pushchan_time(L, timer_chan(t));
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

static const luaL_Reg time_funcs[] = {
    {"now", l_now},     {"sleep", l_sleep},   {"after", l_after},
    {"timer", l_timer}, {"ticker", l_ticker}, {"after_func", l_after_func},
    {NULL, NULL},
};

void lsim_open_time(lua_State *L, int simtable)
{
    static const luaL_Reg timer_meta[] = {{"__index", tm_index}, {NULL, NULL}};
    lsim_createmeta(L, TIMER_MT, timer_meta, NULL);
    lua_pushvalue(L, simtable);
    luaL_setfuncs(L, time_funcs, 0);
    lua_pop(L, 1);
}
