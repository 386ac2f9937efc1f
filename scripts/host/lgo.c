/*
 * lgo: Lua goroutines, a Lua thread running on a core goroutine.
 *
 * Every goroutine a scenario starts (sim.go, the top-level chunk as main,
 * a node's servers) gets a Lua thread of its own, created from the main
 * state and pinned in the registry while it runs, and calls its function
 * under lua_pcall on its own coroutine stack: an error's longjmp never
 * leaves that stack. The thread's extra space points at its lgo_t, which
 * the core goroutine's userdata points at too (LGO_MAGIC tells it from a C
 * goroutine's), so each side finds the other.
 *
 * Invariants: a Go panic raised inside a binding (core's panic hook)
 * becomes a Lua error in the Lua thread that is running, so pcall recovers
 * it as recover() would, and a coroutine's error unwinds to its resume. An
 * error that leaves the goroutine's function is the program's panic (or
 * Go's fatal out-of-memory for Lua's memory error). A goroutine runs at
 * most the instruction budget of Lua instructions between two simulated
 * events, or the run stops as an infinite loop.
 *
 * Ownership: every lgo_t is on its host's `all` list and freed by
 * lgo_free_all at host_destroy, so tracebacks can be read after the run;
 * the Lua thread is released (luaL_unref) when its function returns.
 */
#include "host_state.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "invariant.h"
#include "lsim.h"
#include "mem.h"

#define LGO_MAGIC 0x6c676f21u

/* A Lua goroutine: a Lua thread running on a core goroutine. */
struct lgo {
    unsigned magic;         /* LGO_MAGIC: tells a Lua goroutine's userdata */
    struct lgo *next_all;   /* every Lua goroutine of the host */
    host_t *h;              /* the host */
    lua_State *T;           /* its thread, kept alive by ref */
    lua_State *cur;         /* the Lua coroutine it runs now, or NULL: T itself */
    int ref;                /* registry reference to T */
    int nargs;              /* arguments waiting on T's stack */
    g_t *g;                 /* the core goroutine */
    char *panic_frames;     /* frames captured where an error was raised */
    int64_t instr;          /* instructions since the last simulated event */
    uint64_t last_steps;    /* scheduler steps when last counted */
    int64_t preempt_instr;  /* instructions since the last preemption point (--preempt) */
    bool is_main;           /* the scenario's top-level chunk */
};

static lgo_t *lgo_of_thread(lua_State *T)
{
    return *(lgo_t **)lua_getextraspace(T);
}

host_t *lgo_host_of_thread(lua_State *T)
{
    lgo_t *lg = lgo_of_thread(T);
    return lg && lg->magic == LGO_MAGIC ? lg->h : NULL;
}

/* ---- frames (Go-style tracebacks of Lua goroutines) --------------------- */

/* Frames shown at the top and at the bottom of a deep stack, with Go's
 * "...additional frames elided..." between them. */
#define FRAMES_TOP 50
#define FRAMES_BOTTOM 10

/* The deepest valid level of T's stack from `first` on (first - 1 if none).
 * lua_getstack(level) walks `level` frames, so counting the levels one by
 * one takes quadratic time on a runaway recursion (a million frames);
 * doubling, then bisecting, takes a few dozen walks. */
static int deepest_level(lua_State *T, int first)
{
    lua_Debug ar;
    if (!lua_getstack(T, first, &ar))
        return first - 1;
    int lo = first, hi = first + 1; /* lo is valid; hi is unknown, then invalid */
    while (lua_getstack(T, hi, &ar)) {
        lo = hi;
        hi = hi * 2 + 1;
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (lua_getstack(T, mid, &ar))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static size_t frames_of(lua_State *T, int first_level, const char *gname, char *buf, size_t size)
{
    size_t n = 0;
    lua_Debug ar;
    int last_lua = deepest_level(T, first_level);
    for (int level = first_level; level <= last_lua && n + 1 < size; level++) {
        if (level == first_level + FRAMES_TOP && last_lua - level >= FRAMES_BOTTOM) {
            int w = snprintf(buf + n, size - n, "...additional frames elided...\n");
            n = w < 0 ? n : n + (size_t)w >= size ? size - 1 : n + (size_t)w;
            level = last_lua - FRAMES_BOTTOM + 1;
        }
        if (!lua_getstack(T, level, &ar))
            break;
        lua_getinfo(T, "Sln", &ar);
        const char *fname = ar.name ? ar.name : "?";
        if (level == last_lua)
            fname = gname;
        else if (strcmp(ar.what, "main") == 0)
            fname = "main.main";
        int w;
        if (strcmp(ar.what, "C") == 0)
            w = snprintf(buf + n, size - n, "%s(...)\n\t[C]\n", fname);
        else
            w = snprintf(buf + n, size - n, "%s(...)\n\t%s:%d\n", fname, ar.short_src,
                         ar.currentline);
        if (w < 0)
            break;
        n += (size_t)w;
        if (n >= size)
            n = size - 1;
    }
    return n;
}

void lgo_frames_hook(g_t *g, char *buf, size_t size)
{
    lgo_t *lg = go_userdata(g);
    if (!lg || lg->magic != LGO_MAGIC)
        return;
    if (lg->panic_frames) {
        snprintf(buf, size, "%s", lg->panic_frames);
        return;
    }
    frames_of(lg->T, 0, go_name(g), buf, size);
}

bool host_goroutine_is_lua(g_t *g)
{
    lgo_t *lg = go_userdata(g);
    return lg && lg->magic == LGO_MAGIC && lg->T;
}

int host_goroutine_frames(g_t *g, host_frame_t *out, int max)
{
    lgo_t *lg = go_userdata(g);
    if (!lg || lg->magic != LGO_MAGIC || !lg->T)
        return 0;
    lua_State *T = lg->T;
    lua_Debug ar;
    int n = 0;
    for (int level = 0; n < max && lua_getstack(T, level, &ar); level++) {
        lua_getinfo(T, "Sln", &ar);
        if (strcmp(ar.what, "C") == 0)
            continue;
        host_frame_t *f = &out[n++];
        if (strcmp(ar.what, "main") == 0)
            snprintf(f->func, sizeof f->func, "main.main");
        else if (ar.name)
            snprintf(f->func, sizeof f->func, "%s", ar.name);
        else
            snprintf(f->func, sizeof f->func, "func@%s:%d", ar.short_src, ar.linedefined);
        snprintf(f->file, sizeof f->file, "%s", ar.short_src);
        f->line = ar.currentline;
    }
    return n;
}

/* The message handler of every goroutine's pcall: keeps the frames where
 * the error was raised and the message as a string. */
static int msgh(lua_State *T)
{
    lgo_t *lg = lgo_of_thread(T);
    if (lsim_is_goexit(T, 1))
        return 1; /* runtime.Goexit: no panic, no frames */
    const char *msg = lua_tostring(T, 1);
    if (!msg) {
        if (luaL_callmeta(T, 1, "__tostring") && lua_type(T, -1) == LUA_TSTRING)
            msg = lua_tostring(T, -1);
        else
            msg = lua_pushfstring(T, "(error object is a %s value)", luaL_typename(T, 1));
    }
    if (lg && !lg->panic_frames) {
        char buf[4096];
        frames_of(T, 1, lg->g ? go_name(lg->g) : "?", buf, sizeof buf);
        lg->panic_frames = mem_strdup(buf);
    }
    lua_pushstring(T, msg);
    return 1;
}

/* A core panic inside a Lua goroutine becomes a Lua error there, so that
 * pcall can recover it as Go's recover would. It is raised in the Lua
 * thread that is running: a coroutine's error must unwind to its resume,
 * never jump past it to the goroutine's own pcall. */
static void panic_hook(g_t *g, const char *msg)
{
    lgo_t *lg = go_userdata(g);
    if (!lg || lg->magic != LGO_MAGIC || lg->h->in_check)
        return;
    lua_State *T = lg->cur ? lg->cur : lg->T;
    lua_pushstring(T, msg);
    lua_error(T);
}

/* ---- the instruction budget --------------------------------------------- */

/* Instructions between two calls of a goroutine's count hook: --preempt's
 * N when it is shorter than the budget's period. */
static int hook_every(const host_t *h)
{
    int p = h->opt.preempt;
    return p > 0 && p < HOST_HOOK_EVERY ? p : HOST_HOOK_EVERY;
}

static void count_hook(lua_State *T, lua_Debug *ar)
{
    (void)ar;
    lgo_t *lg = lgo_of_thread(T);
    if (!lg)
        return;
    uint64_t steps = sched_steps(lg->h->s);
    if (steps != lg->last_steps) {
        lg->last_steps = steps;
        lg->instr = 0;
    }
    if (lg->h->opt.preempt > 0 && lg->g && !lg->h->in_check) {
        /* Go's asynchronous preemption: a decision point between two
         * instructions. Being switched out is no simulated event: the
         * budget goes on counting (a spinning goroutine still ends). */
        lg->preempt_instr += hook_every(lg->h);
        if (lg->preempt_instr >= lg->h->opt.preempt) {
            lg->preempt_instr = 0;
            sched_point();
            lg->last_steps = sched_steps(lg->h->s);
        }
    }
    lg->instr += hook_every(lg->h);
    if (lg->instr > lg->h->instr_budget) {
        char at[256];
        lua_Debug d;
        at[0] = 0;
        if (lua_getstack(T, 0, &d)) {
            lua_getinfo(T, "Sl", &d);
            snprintf(at, sizeof at, "%s:%d", d.short_src, d.currentline);
        }
        go_fatal("goroutine %llu (%s) ran %lld Lua instructions without reaching a simulated "
                 "event at %s: an infinite loop? (the budget is --instr-budget)",
                 (unsigned long long)go_id(lg->g), go_name(lg->g),
                 (long long)lg->instr, at);
    }
}

/* ---- Lua goroutines ----------------------------------------------------- */

__attribute__((noreturn)) static void oom_fatal(host_t *h)
{
    go_fatal("not enough memory: the scenario's Lua heap reached its bound of %zu MiB "
             "(--mem-limit)", h->mem_limit >> 20);
    UNREACHABLE();
}

void host_oom_check(lua_State *L)
{
    host_t *h = host_of(L);
    if (!h || !h->oom)
        return;
    if (h->in_check || !go_self()) {
        lua_pushliteral(L, "not enough memory");
        lua_error(L);
    }
    oom_fatal(h);
}

/* An error left a goroutine's function: a panic of the program, or, for
 * Lua's memory error, Go's fatal out-of-memory naming the bound. */
static void lgo_fail(lgo_t *lg, int rc)
{
    const char *msg = lua_tostring(lg->T, -1);
    go_set_panic_hook(lg->g, NULL);
    if (rc == LUA_ERRMEM || lg->h->oom || (msg && strcmp(msg, "not enough memory") == 0))
        oom_fatal(lg->h);
    go_panic("%s", msg ? msg : "?");
}

/* Call lg's function on the running goroutine, under pcall with msgh,
 * leaving nresults results on its thread; an error does not return. */
static void lgo_release(lgo_t *lg);

static void lgo_call(lgo_t *lg, int nresults)
{
    ASSERT(lg->ref != LUA_NOREF); /* the thread is pinned until it returns */
    lua_State *T = lg->T;
    lg->g = go_self();
    go_set_userdata(lg->g, lg);
    go_set_panic_hook(lg->g, panic_hook);
    lg->last_steps = sched_steps(lg->h->s);
    int base = lua_gettop(T) - lg->nargs; /* the function's index */
    lua_pushcfunction(T, msgh);
    lua_insert(T, base);
    int rc = lua_pcall(T, lg->nargs, nresults, base);
    if (rc != LUA_OK && lsim_is_goexit(T, -1)) {
        /* runtime.Goexit: the to-be-closed variables were closed on the
         * way out; main's Goexit is core's (the program goes on without
         * it), any other goroutine just ends. */
        lua_settop(T, 0);
        if (lg->is_main) {
            lgo_release(lg);
            go_exit();
        }
        for (int i = 0; i < nresults; i++)
            lua_pushnil(T);
        return;
    }
    if (rc != LUA_OK)
        lgo_fail(lg, rc);
}

/* The function returned: its thread may now be collected. */
static void lgo_release(lgo_t *lg)
{
    lua_settop(lg->T, 0);
    luaL_unref(lg->T, LUA_REGISTRYINDEX, lg->ref);
    lg->ref = LUA_NOREF;
}

void lgo_entry(void *arg)
{
    lgo_t *lg = arg;
    lgo_call(lg, 0);
    lgo_release(lg); /* the goroutine ends */
    go_set_userdata(lg->g, NULL);
}

lgo_t *lgo_new(host_t *h, lua_State *L, int fn_idx, int nargs, bool is_main)
{
    lgo_t *lg = mem_calloc(1, sizeof *lg);
    lg->magic = LGO_MAGIC;
    lg->h = h;
    lg->is_main = is_main;
    lg->next_all = h->all;
    h->all = lg;
    fn_idx = lua_absindex(L, fn_idx);
    /* The function and its arguments are copied through L onto T, and T
     * later takes the message handler too: both stacks must have room for
     * a count the scenario chooses (sim.go(fn, table.unpack(t))). Callers
     * that can raise a Lua error check L first (luaL_checkstack); this is
     * the last line, where only the heap's bound can fail. */
    if (!lua_checkstack(L, nargs + 2))
        go_fatal("not enough memory: the scenario's Lua heap reached its bound of %zu MiB "
                 "(--mem-limit) copying %d arguments", h->mem_limit >> 20, nargs);
    lua_State *T = lua_newthread(L);
    lg->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lg->T = T;
    *(lgo_t **)lua_getextraspace(T) = lg;
    lua_sethook(T, count_hook, LUA_MASKCOUNT, hook_every(h));
    if (!lua_checkstack(T, nargs + 2))
        go_fatal("not enough memory: the scenario's Lua heap reached its bound of %zu MiB "
                 "(--mem-limit) copying %d arguments", h->mem_limit >> 20, nargs);
    lua_pushvalue(L, fn_idx);
    for (int i = 1; i <= nargs; i++)
        lua_pushvalue(L, fn_idx + i);
    lua_xmove(L, T, nargs + 1);
    lg->nargs = nargs;
    return lg;
}

void lgo_free_all(host_t *h)
{
    while (h->all) {
        lgo_t *n = h->all->next_all;
        free(h->all->panic_frames);
        free(h->all);
        h->all = n;
    }
}

g_t *host_spawn(lua_State *L, int fn_idx, int nargs, const char *name, const char *role)
{
    host_t *h = host_of(L);
    luaL_checkstack(L, nargs + 2, "too many arguments for a goroutine");
    char defname[256];
    if (!name) {
        lua_Debug ar;
        lua_pushvalue(L, fn_idx);
        lua_getinfo(L, ">S", &ar);
        snprintf(defname, sizeof defname, "func@%s:%d", ar.short_src, ar.linedefined);
        name = defname;
    }
    lgo_t *lg = lgo_new(h, L, fn_idx, nargs, false);
    g_t *g = go_spawn(lgo_entry, lg, name);
    if (role)
        go_set_role(g, role);
    return g;
}

/* ---- Lua coroutines inside goroutines -------------------------------- */

/* A Lua coroutine runs on the C stack of the goroutine that resumes it.
 * resume, wrap and close tie it to that goroutine for the time it runs:
 * its thread gets the goroutine's record (so the instruction budget counts
 * its instructions) and the record names it as the running thread (so a
 * simulated panic raised by a binding becomes an error of the coroutine,
 * which resume returns as in plain Lua). Upvalue 1 is the library's own
 * function; co is the coroutine, or NULL if the argument is not one (the
 * library function then reports it). */
static int co_call(lua_State *L, lua_State *co)
{
    lgo_t *lg = lgo_of_thread(L);
    lua_State *prev = NULL;
    if (lg && co) {
        *(lgo_t **)lua_getextraspace(co) = lg;
        prev = lg->cur;
        lg->cur = co;
    }
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int rc = lua_pcall(L, n, LUA_MULTRET, 0);
    if (lg && co)
        lg->cur = prev;
    host_oom_check(L); /* resume returns a coroutine's errors, the memory error too */
    if (rc != LUA_OK)
        return lua_error(L); /* wrap's error, passed on */
    /* runtime.Goexit inside the coroutine: it goes on out of the resume */
    if (lua_gettop(L) >= 2 && lua_isboolean(L, 1) && !lua_toboolean(L, 1) && lsim_is_goexit(L, 2)) {
        lua_settop(L, 2);
        return lua_error(L);
    }
    return lua_gettop(L);
}

static int l_co_resume(lua_State *L)
{
    return co_call(L, lua_tothread(L, 1));
}

/* The function coroutine.wrap returns: upvalue 1 the library's, 2 its
 * coroutine. */
static int co_wrapped(lua_State *L)
{
    return co_call(L, lua_tothread(L, lua_upvalueindex(2)));
}

static int l_co_wrap(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    /* Lua's wrap keeps its coroutine as its function's first upvalue. */
    if (!lua_getupvalue(L, -1, 1))
        lua_pushnil(L);
    lua_pushcclosure(L, co_wrapped, 2);
    return 1;
}

static void wrap_co(lua_State *L, int co_table, const char *name, lua_CFunction f)
{
    lua_getfield(L, co_table, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, co_table, name);
}

void lgo_wrap_coroutines(lua_State *L, int co_table)
{
    wrap_co(L, co_table, "resume", l_co_resume);
    wrap_co(L, co_table, "wrap", l_co_wrap);
    wrap_co(L, co_table, "close", l_co_resume);
}

/* ---- running Lua functions as goroutine bodies ---------------------------- */

char *host_run_here(lua_State *L, int packed_ref)
{
    host_t *h = host_of(L);
    lua_State *M = h->L;
    lua_rawgeti(M, LUA_REGISTRYINDEX, packed_ref);
    int t = lua_gettop(M);
    int n = (int)lua_rawlen(M, t);
    if (!lua_checkstack(M, n + 2))
        go_fatal("not enough memory: the scenario's Lua heap reached its bound of %zu MiB "
                 "(--mem-limit) copying %d arguments", h->mem_limit >> 20, n - 1);
    for (int i = 1; i <= n; i++)
        lua_rawgeti(M, t, i);
    lgo_t *lg = lgo_new(h, M, t + 1, n - 1, false);
    lua_settop(M, t - 1);
    luaL_unref(M, LUA_REGISTRYINDEX, packed_ref);
    void *old_ud = go_userdata(go_self()); /* the C goroutine's own */
    lgo_call(lg, 1);
    char *result = NULL;
    if (!lua_isnil(lg->T, -1)) {
        /* The value itself stays reachable (host_last_result), its text is
         * the deterministic one: never an address. */
        lua_pushvalue(lg->T, -1);
        lua_setfield(lg->T, LUA_REGISTRYINDEX, "chansim.last_result");
        result = mem_strdup(lsim_tolstring(lg->T, -1, NULL));
    }
    lgo_release(lg);
    go_set_userdata(lg->g, old_ud);
    go_set_panic_hook(lg->g, NULL);
    return result;
}
