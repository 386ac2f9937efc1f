/*
 * check: what a run is judged by.
 *
 * Four sources of verdicts, kept in one list (host->exp, in the order
 * checked, which is the summary's order): sim.expect (checked when
 * called), invariants (sim.invariant: after every goroutine step, the
 * first failure of each recorded), finally checks (sim.finally: once after
 * the run) and the world's checkers (sim/world/checker.h), whose
 * violations arrive as EV_VIOLATION trace events and count as failed
 * invariants, a repeated one counted once.
 *
 * Invariants and finally checks run on the main Lua state, outside any
 * goroutine: they observe the simulation and must not change it (core
 * cannot send, lock, panic or spawn outside a goroutine, nor create
 * anything once the run is over). While a check runs, a call hook refuses
 * the sim functions that change the run, and a count hook bounds the
 * check's instructions as the budget bounds a goroutine's.
 *
 * Ownership: the host owns the list and its strings (freed at
 * host_destroy); the registry holds the check functions.
 */
#include "host_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "invariant.h"
#include "mem.h"

/* ---- expectations ------------------------------------------------------- */

/* A new entry at the end of the list. */
static host_expect_t *exp_push(host_t *h)
{
    if (h->nexp == h->capexp) {
        h->capexp = h->capexp ? h->capexp * 2 : 16;
        h->exp = mem_realloc(h->exp, h->capexp * sizeof *h->exp);
    }
    return &h->exp[h->nexp++];
}

void host_add_expect(host_t *h, lua_State *L, bool ok, const char *msg, int kind)
{
    host_expect_t *e = exp_push(h);
    char at[256];
    host_where(L, at, sizeof at);
    e->ok = ok;
    e->repeats = 0;
    e->msg = mem_strdup(msg);
    e->where = mem_strdup(at);
    e->t = sched_now_of(h->s);
    e->kind = kind;
    if (!ok)
        sched_emit(EV_USER, 0, 0, 0, msg);
}

/* The world's checkers (sim/world/checker.h) report violations as trace events:
 * each is a failed invariant of the run. */
void check_violation_sink(void *ud, const trace_event_t *ev)
{
    host_t *h = ud;
    if (ev->kind != EV_VIOLATION || !ev->detail)
        return;
    /* The same violation again (a stale writer writing on): counted once. */
    for (size_t i = 0; i < h->nexp; i++) {
        if (h->exp[i].kind == 1 && strcmp(h->exp[i].where, "checker") == 0 &&
            strcmp(h->exp[i].msg, ev->detail) == 0) {
            h->exp[i].repeats++;
            return;
        }
    }
    host_expect_t *e = exp_push(h);
    e->ok = false;
    e->msg = mem_strdup(ev->detail);
    e->where = mem_strdup("checker");
    e->t = ev->t;
    e->kind = 1;
    e->repeats = 0;
}

/* ---- invariants and finally checks ------------------------------------- */

/* A check (the function of registry ref) failed with msg: recorded where
 * the function is defined, the place to look. */
static void fail_check(host_t *h, lua_State *L, int ref, const char *msg, int kind)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_Debug ar;
    lua_getinfo(L, ">S", &ar);
    host_add_expect(h, L, false, msg, kind);
    ASSERT(h->nexp > 0 && !h->exp[h->nexp - 1].ok);
    char at[300];
    snprintf(at, sizeof at, "%s:%d", ar.short_src, ar.linedefined);
    free(h->exp[h->nexp - 1].where);
    h->exp[h->nexp - 1].where = mem_strdup(at);
}

/* The error value on top of L as text, pushed: a string or a number as it
 * is, anything else as Lua's own interpreter shows it ("(error object is a
 * table value)"); no metamethod runs, since nothing protects this call. */
static const char *error_text(lua_State *L)
{
    int e = lua_gettop(L);
    if (lua_type(L, e) == LUA_TSTRING || lua_type(L, e) == LUA_TNUMBER) {
        lua_pushvalue(L, e);
        return lua_tostring(L, -1);
    }
    return lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, e));
}

/* Invariants after every step; the first failure of each is recorded. */
void check_invariants(host_t *h)
{
    lua_State *L = h->L;
    h->in_check = true;
    for (size_t i = 0; i < h->ninv; i++) {
        if (h->inv_failed[i] >= 0)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->invariants[i]);
        bool ok;
        const char *msg = h->inv_msg[i];
        char buf[1024];
        h->check_instr = 0;
        if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
            snprintf(buf, sizeof buf, "%s (the invariant raised: %s)", msg, error_text(L));
            lua_pop(L, 1);
            msg = buf;
            ok = false;
        } else {
            ok = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
        if (!ok) {
            h->inv_failed[i] = (int)h->nexp;
            fail_check(h, L, h->invariants[i], msg, 1);
        }
    }
    h->in_check = false;
}

void check_finally(host_t *h)
{
    lua_State *L = h->L;
    h->in_check = true;
    for (size_t i = 0; i < h->nfinally; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->finally[i]);
        h->check_instr = 0;
        if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "finally check raised: %s", error_text(L));
            lua_pop(L, 2);
            fail_check(h, L, h->finally[i], msg, 2);
        }
    }
    h->in_check = false;
}

int host_add_invariant(lua_State *L, int fn_idx, const char *msg)
{
    host_t *h = host_of(L);
    size_t n = h->ninv + 1;
    h->invariants = mem_realloc(h->invariants, n * sizeof *h->invariants);
    h->inv_msg = mem_realloc(h->inv_msg, n * sizeof *h->inv_msg);
    h->inv_failed = mem_realloc(h->inv_failed, n * sizeof *h->inv_failed);
    lua_pushvalue(L, fn_idx);
    h->invariants[h->ninv] = luaL_ref(L, LUA_REGISTRYINDEX);
    h->inv_msg[h->ninv] = mem_strdup(msg);
    h->inv_failed[h->ninv] = -1;
    h->ninv = n;
    sched_set_step_hook(h->s, host_step_fanout, h);
    return 0;
}

int host_add_finally(lua_State *L, int fn_idx)
{
    host_t *h = host_of(L);
    h->finally = mem_realloc(h->finally, (h->nfinally + 1) * sizeof *h->finally);
    lua_pushvalue(L, fn_idx);
    h->finally[h->nfinally++] = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

bool host_in_check(lua_State *L)
{
    return host_of(L)->in_check;
}

/* ---- the guard: checks observe, never change -------------------------- */

/* sim functions a check may call. */
static const char *const check_observers[] = {
    "now", "self", "goroutines", "dump", "duration", "format_duration", "seed", "cpu",
    "expect", "log", "event", "metrics_text", "_world_random", "_world_int", NULL,
};

/* Methods that change the run, for core's types. */
static const struct {
    const char *mt;
    const char *methods; /* space-separated, with spaces around */
} check_mutators[] = {
    {"chansim.chan", " send recv try_send try_recv close range "},
    {"chansim.timer", " stop reset "},
    {"chansim.mutex", " lock unlock try_lock "},
    {"chansim.rwmutex", " lock unlock rlock runlock try_lock try_rlock "},
    {"chansim.waitgroup", " add done wait "},
    {"chansim.once", " call "},
    {"chansim.cond", " wait signal broadcast "},
    {"chansim.semaphore", " acquire try_acquire release "},
    {"chansim.errgroup", " go try_go set_limit wait "},
    {"chansim.context", " cancel "},
    {NULL, NULL},
};

static const void *fn_key(lua_CFunction f)
{
    const void *k;
    _Static_assert(sizeof k == sizeof f, "a C function pointer fits in a data pointer");
    memcpy(&k, &f, sizeof k);
    return k;
}

/* refused[f] = name, for the C function at fn (refused: the table's index). */
static void refuse(lua_State *L, int refused, int fn, const char *name)
{
    lua_CFunction f = lua_tocfunction(L, fn);
    if (!f)
        return;
    lua_pushstring(L, name);
    lua_rawsetp(L, refused, fn_key(f));
}

/* Every C function of the table at idx, except the observers if asked. */
static void refuse_table(lua_State *L, int refused, int idx, const char *prefix, bool keep_observers)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_iscfunction(L, -1)) {
            const char *k = lua_tostring(L, -2);
            bool observer = false;
            for (int i = 0; keep_observers && check_observers[i]; i++)
                observer = observer || strcmp(k, check_observers[i]) == 0;
            char name[160];
            snprintf(name, sizeof name, "%s%s", prefix, k);
            if (!observer)
                refuse(L, refused, lua_gettop(L), name);
        }
        lua_pop(L, 1);
    }
}

/* The table of refused functions, in the registry (after the prelude). */
void check_build_guard(lua_State *L)
{
    int top = lua_gettop(L);
    lua_newtable(L);
    int refused = lua_gettop(L);
    if (lua_getglobal(L, "sim") == LUA_TTABLE) {
        int sim = lua_gettop(L);
        refuse_table(L, refused, sim, "sim.", true);
        if (lua_getfield(L, sim, "context") == LUA_TTABLE)
            refuse_table(L, refused, lua_gettop(L), "sim.context.", false);
    }
    for (int i = 0; check_mutators[i].mt; i++) {
        lua_settop(L, refused);
        if (luaL_getmetatable(L, check_mutators[i].mt) != LUA_TTABLE)
            continue;
        int mt = lua_gettop(L);
        const char *type = strchr(check_mutators[i].mt, '.') + 1;
        lua_getfield(L, mt, "__index");
        int index = lua_gettop(L);
        char list[128];
        snprintf(list, sizeof list, "%s", check_mutators[i].methods);
        for (char *m = strtok(list, " "); m; m = strtok(NULL, " ")) {
            lua_settop(L, index);
            if (lua_istable(L, index)) {
                lua_getfield(L, index, m);
            } else if (lua_isfunction(L, index)) {
                /* __index is a function (timers): ask it, with a blank object */
                lua_pushvalue(L, index);
                lua_newuserdatauv(L, 64, 1);
                lua_pushvalue(L, mt);
                lua_setmetatable(L, -2);
                lua_pushstring(L, m);
                if (lua_pcall(L, 2, 1, 0) != LUA_OK)
                    continue;
            } else {
                break;
            }
            char name[160];
            snprintf(name, sizeof name, "%s:%s", type, m);
            refuse(L, refused, lua_gettop(L), name);
        }
    }
    lua_settop(L, refused);
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.check_refused");
    lua_settop(L, top);
}

void check_hook(lua_State *L, lua_Debug *ar)
{
    host_t *h = host_of(L);
    if (!h || !h->in_check)
        return;
    if (ar->event == LUA_HOOKCOUNT) {
        h->check_instr += HOST_HOOK_EVERY;
        if (h->check_instr > h->instr_budget)
            luaL_error(L, "the check ran %I Lua instructions: an infinite loop? (the budget is "
                          "--instr-budget)", (lua_Integer)h->check_instr);
        return;
    }
    if (!lua_getinfo(L, "f", ar))
        return;
    lua_CFunction f = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (!f)
        return;
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.check_refused");
    if (lua_istable(L, -1) && lua_rawgetp(L, -1, fn_key(f)) == LUA_TSTRING) {
        char name[160];
        snprintf(name, sizeof name, "%s", lua_tostring(L, -1));
        lua_settop(L, top);
        luaL_error(L, "%s cannot be called in an invariant or a finally check: checks observe "
                      "the run and must not change it", name);
    }
    lua_settop(L, top);
}
