/*
 * lsim_sync: sim.mutex, sim.rwmutex, sim.waitgroup, sim.once, sim.cond,
 * sim.semaphore and sim.errgroup: the binding of core's sync, sema and
 * errgroup. Method names are Go's in lower snake case.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "ctx.h"
#include "errgroup.h"
#include "host_bind.h"
#include "lsim.h"
#include "lsim_ctx.h"
#include "mem.h"
#include "sema.h"
#include "sync.h"

#define MUTEX_MT "chansim.mutex"
#define RWMUTEX_MT "chansim.rwmutex"
#define WG_MT "chansim.waitgroup"
#define ONCE_MT "chansim.once"
#define COND_MT "chansim.cond"
#define SEMA_MT "chansim.semaphore"
#define EG_MT "chansim.errgroup"

/* Every userdata here is a box (lsim_pushbox) holding a pointer to a
 * scheduler-owned core object. */

static void name_from(lua_State *L, int idx, void *obj)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        obj_set_name(obj, lua_tostring(L, idx));
}

/* ---- Mutex ------------------------------------------------------------- */

static int l_mutex(lua_State *L)
{
    mutex_t *m = mutex_new();
    name_from(L, 1, m);
    lsim_pushbox(L, m, MUTEX_MT, 0);
    return 1;
}

static int mu_lock(lua_State *L)
{
    mutex_t *m = lsim_checkbox(L, 1, MUTEX_MT);
    lsim_need_goroutine(L, "Mutex.Lock");
    mutex_lock(m);
    return 0;
}

static int mu_unlock(lua_State *L)
{
    mutex_unlock(lsim_checkbox(L, 1, MUTEX_MT));
    return 0;
}

static int mu_try_lock(lua_State *L)
{
    lua_pushboolean(L, mutex_try_lock(lsim_checkbox(L, 1, MUTEX_MT)));
    return 1;
}

/* mu:stats() -> { contended = n, wait_ns = t } (the mutex profile) */
static int mu_stats(lua_State *L)
{
    mutex_t *m = lsim_checkbox(L, 1, MUTEX_MT);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)mutex_contended(m));
    lua_setfield(L, -2, "contended");
    lua_pushinteger(L, mutex_wait_ns(m));
    lua_setfield(L, -2, "wait_ns");
    return 1;
}

static const luaL_Reg mutex_methods[] = {
    {"lock", mu_lock}, {"unlock", mu_unlock}, {"try_lock", mu_try_lock},
    {"stats", mu_stats}, {NULL, NULL},
};

/* ---- RWMutex ------------------------------------------------------------- */

static int l_rwmutex(lua_State *L)
{
    rwmutex_t *rw = rwmutex_new();
    name_from(L, 1, rw);
    lsim_pushbox(L, rw, RWMUTEX_MT, 0);
    return 1;
}

static int rw_lock(lua_State *L)
{
    rwmutex_t *rw = lsim_checkbox(L, 1, RWMUTEX_MT);
    lsim_need_goroutine(L, "RWMutex.Lock");
    rwmutex_lock(rw);
    return 0;
}

static int rw_unlock(lua_State *L)
{
    rwmutex_unlock(lsim_checkbox(L, 1, RWMUTEX_MT));
    return 0;
}

static int rw_rlock(lua_State *L)
{
    rwmutex_t *rw = lsim_checkbox(L, 1, RWMUTEX_MT);
    lsim_need_goroutine(L, "RWMutex.RLock");
    rwmutex_rlock(rw);
    return 0;
}

static int rw_runlock(lua_State *L)
{
    rwmutex_runlock(lsim_checkbox(L, 1, RWMUTEX_MT));
    return 0;
}

static int rw_try_lock(lua_State *L)
{
    lua_pushboolean(L, rwmutex_try_lock(lsim_checkbox(L, 1, RWMUTEX_MT)));
    return 1;
}

static int rw_try_rlock(lua_State *L)
{
    lua_pushboolean(L, rwmutex_try_rlock(lsim_checkbox(L, 1, RWMUTEX_MT)));
    return 1;
}

static int rw_stats(lua_State *L)
{
    rwmutex_t *rw = lsim_checkbox(L, 1, RWMUTEX_MT);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)rwmutex_contended(rw));
    lua_setfield(L, -2, "contended");
    lua_pushinteger(L, rwmutex_wait_ns(rw));
    lua_setfield(L, -2, "wait_ns");
    return 1;
}

static const luaL_Reg rwmutex_methods[] = {
    {"lock", rw_lock},       {"unlock", rw_unlock},     {"rlock", rw_rlock},
    {"runlock", rw_runlock}, {"try_lock", rw_try_lock}, {"try_rlock", rw_try_rlock},
    {"stats", rw_stats},     {NULL, NULL},
};

/* ---- WaitGroup ----------------------------------------------------------- */

static int l_waitgroup(lua_State *L)
{
    waitgroup_t *wg = waitgroup_new();
    name_from(L, 1, wg);
    lsim_pushbox(L, wg, WG_MT, 0);
    return 1;
}

static int wg_add(lua_State *L)
{
    waitgroup_add(lsim_checkbox(L, 1, WG_MT), luaL_optinteger(L, 2, 1));
    return 0;
}

static int wg_done(lua_State *L)
{
    waitgroup_done(lsim_checkbox(L, 1, WG_MT));
    return 0;
}

static int wg_wait(lua_State *L)
{
    waitgroup_t *wg = lsim_checkbox(L, 1, WG_MT);
    lsim_need_goroutine(L, "WaitGroup.Wait");
    waitgroup_wait(wg);
    return 0;
}

static int wg_count(lua_State *L)
{
    lua_pushinteger(L, waitgroup_count(lsim_checkbox(L, 1, WG_MT)));
    return 1;
}

static const luaL_Reg wg_methods[] = {
    {"add", wg_add}, {"done", wg_done}, {"wait", wg_wait}, {"count", wg_count}, {NULL, NULL},
};

/* ---- Once ---------------------------------------------------------------- */

typedef struct once_call {
    lua_State *L;   /* the calling thread, with the function on top */
    bool failed;    /* f raised an error (re-raised after Do returns) */
} once_call_t;

static void once_body(void *arg)
{
    once_call_t *c = arg;
    /* A panicking f still counts as done (Go's deferred done.Store(1)), so
     * the error is caught here and re-raised once Do has returned. */
    c->failed = lsim_pcall(c->L, 0, 0) != LUA_OK;
}

static int l_once(lua_State *L)
{
    lsim_pushbox(L, once_new(), ONCE_MT, 0);
    return 1;
}

static int once_call(lua_State *L)
{
    once_t *o = lsim_checkbox(L, 1, ONCE_MT);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lsim_need_goroutine(L, "Once.Do");
    lua_settop(L, 2);
    once_call_t c = {.L = L, .failed = false};
    once_do(o, once_body, &c);
    if (c.failed)
        return lua_error(L);
    return 0;
}

static const luaL_Reg once_methods[] = {{"call", once_call}, {NULL, NULL}};

/* ---- Cond ---------------------------------------------------------------- */

static int l_cond(lua_State *L)
{
    mutex_t *m = lsim_checkbox(L, 1, MUTEX_MT);
    lsim_pushbox(L, cond_new(m), COND_MT, 0);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1); /* keep L alive with the Cond */
    return 1;
}

static int cond_wait_l(lua_State *L)
{
    cond_t *c = lsim_checkbox(L, 1, COND_MT);
    lsim_need_goroutine(L, "Cond.Wait");
    cond_wait(c);
    return 0;
}

static int cond_signal_l(lua_State *L)
{
    cond_signal(lsim_checkbox(L, 1, COND_MT));
    return 0;
}

static int cond_broadcast_l(lua_State *L)
{
    cond_broadcast(lsim_checkbox(L, 1, COND_MT));
    return 0;
}

static const luaL_Reg cond_methods[] = {
    {"wait", cond_wait_l}, {"signal", cond_signal_l}, {"broadcast", cond_broadcast_l},
    {NULL, NULL},
};

/* ---- semaphore.Weighted -------------------------------------------------- */

static int l_semaphore(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "size must not be negative");
    semaphore_t *s = semaphore_new(n);
    name_from(L, 2, s);
    lsim_pushbox(L, s, SEMA_MT, 0);
    return 1;
}

/* ok, err = sem:acquire([n [, ctx]]) */
static int sem_acquire(lua_State *L)
{
    semaphore_t *s = lsim_checkbox(L, 1, SEMA_MT);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    ctx_t *c = lua_isnoneornil(L, 3) ? ctx_background() : lsim_checkctx(L, 3);
    lsim_need_goroutine(L, "Semaphore.Acquire");
    const go_error_t *err = semaphore_acquire(s, c, n);
    if (err)
        return lsim_push_error(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int sem_try_acquire(lua_State *L)
{
    lua_pushboolean(L, semaphore_try_acquire(lsim_checkbox(L, 1, SEMA_MT), luaL_optinteger(L, 2, 1)));
    return 1;
}

static int sem_release(lua_State *L)
{
    semaphore_release(lsim_checkbox(L, 1, SEMA_MT), luaL_optinteger(L, 2, 1));
    return 0;
}

static int sem_held(lua_State *L)
{
    lua_pushinteger(L, semaphore_held(lsim_checkbox(L, 1, SEMA_MT)));
    return 1;
}

static const luaL_Reg sema_methods[] = {
    {"acquire", sem_acquire}, {"try_acquire", sem_try_acquire},
    {"release", sem_release}, {"held", sem_held}, {NULL, NULL},
};

/* ---- errgroup ------------------------------------------------------------ */

typedef struct eg_job {
    lua_State *L; /* the main state (idle), to reach the host */
    int packed;   /* registry ref of {fn, args...} */
    int pin;      /* registry ref of the job's own userdata, until its goroutine starts */
} eg_job_t;

static const go_error_t *eg_body(void *arg)
{
    eg_job_t job = *(eg_job_t *)arg;
    luaL_unref(job.L, LUA_REGISTRYINDEX, job.pin); /* arg is garbage from here */
    char *r = lsim_call_packed(job.L, job.packed);
    if (!r)
        return NULL;
    const go_error_t *err = lsim_go_error(r);
    free(r);
    /* A non-string error stays a value: g:wait() returns the value the
     * function returned, found by the error's identity. */
    lua_State *M = job.L;
    lua_getfield(M, LUA_REGISTRYINDEX, "chansim.last_result");
    if (lua_type(M, -1) != LUA_TSTRING) {
        if (lua_getfield(M, LUA_REGISTRYINDEX, "chansim.errgroup_values") != LUA_TTABLE) {
            lua_pop(M, 1);
            lua_newtable(M);
            lua_pushvalue(M, -1);
            lua_setfield(M, LUA_REGISTRYINDEX, "chansim.errgroup_values");
        }
        lua_pushvalue(M, -2);
        lua_rawsetp(M, -2, err);
        lua_pop(M, 1);
    }
    lua_pop(M, 1);
    return err;
}

/* g, ctx = sim.errgroup([parent]) */
static int l_errgroup(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lsim_pushbox(L, errgroup_new(), EG_MT, 0);
        return 1;
    }
    ctx_t *derived;
    errgroup_t *g = errgroup_with_context(lsim_checkctx(L, 1), &derived);
    lsim_pushbox(L, g, EG_MT, 0);
    lsim_pushctx(L, derived);
    return 2;
}

static eg_job_t *pack_job(lua_State *L, int first)
{
    int packed = lsim_pack_call(L, first);
    /* A userdata pinned in the registry, not malloc'd: a goroutine that
     * never starts (the run ends first) leaves it to lua_close to free. */
    eg_job_t *job = lua_newuserdatauv(L, sizeof *job, 0);
    job->L = host_lua(host_of(L));
    job->packed = packed;
    job->pin = luaL_ref(L, LUA_REGISTRYINDEX);
    return job;
}

/* g:go(fn, ...), g:go("name", fn, ...), g:go({ name =, role = }, fn, ...),
 * as sim.go names its goroutines; the same for g:try_go. Returns the index
 * of the function; *name and *role are interned (or NULL). */
static int eg_name(lua_State *L, const char *what, const char **name, const char **role)
{
    *name = *role = NULL;
    if (lua_type(L, 2) == LUA_TSTRING) {
        *name = lua_tostring(L, 2);
    } else if (lua_istable(L, 2)) {
        static const char *const keys[] = {"name", "role", NULL};
        lsim_opts_t o = lsim_opts(L, 2, what, keys);
        *name = lsim_opt_str(&o, "name", NULL);
        *role = lsim_opt_str(&o, "role", NULL);
    } else {
        luaL_checktype(L, 2, LUA_TFUNCTION);
        return 2;
    }
    luaL_checktype(L, 3, LUA_TFUNCTION);
    sched_t *s = sched_current();
    if (*name)
        *name = sched_intern(s, *name);
    if (*role)
        *role = sched_intern(s, *role);
    return 3;
}

static int eg_go(lua_State *L)
{
    errgroup_t *g = lsim_checkbox(L, 1, EG_MT);
    lsim_need_goroutine(L, "errgroup.Go");
    const char *name, *role;
    int fn = eg_name(L, "errgroup.Go", &name, &role);
    eg_job_t *job = pack_job(L, fn);
    g_t *t = errgroup_go_named(g, eg_body, job, name);
    if (role)
        go_set_role(t, role);
    return 0;
}

static int eg_try_go(lua_State *L)
{
    errgroup_t *g = lsim_checkbox(L, 1, EG_MT);
    const char *name, *role;
    int fn = eg_name(L, "errgroup.TryGo", &name, &role);
    eg_job_t *job = pack_job(L, fn);
    g_t *t = errgroup_try_go_named(g, eg_body, job, name);
    bool ok = t != NULL;
    if (ok && role)
        go_set_role(t, role);
    if (!ok) {
        luaL_unref(L, LUA_REGISTRYINDEX, job->packed);
        luaL_unref(L, LUA_REGISTRYINDEX, job->pin);
    }
    lua_pushboolean(L, ok);
    return 1;
}

static int eg_set_limit(lua_State *L)
{
    errgroup_set_limit(lsim_checkbox(L, 1, EG_MT), (int)luaL_checkinteger(L, 2));
    return 0;
}

/* err = g:wait()  (nil when every function returned nil) */
static int eg_wait(lua_State *L)
{
    errgroup_t *g = lsim_checkbox(L, 1, EG_MT);
    lsim_need_goroutine(L, "errgroup.Wait");
    const go_error_t *err = errgroup_wait(g);
    if (!err) {
        lua_pushnil(L);
        return 1;
    }
    if (lua_getfield(L, LUA_REGISTRYINDEX, "chansim.errgroup_values") == LUA_TTABLE &&
        lua_rawgetp(L, -1, err) != LUA_TNIL)
        return 1; /* the value the function returned */
    lua_pushstring(L, go_error_msg(err));
    return 1;
}

static const luaL_Reg eg_methods[] = {
    {"go", eg_go}, {"try_go", eg_try_go}, {"set_limit", eg_set_limit}, {"wait", eg_wait},
    {NULL, NULL},
};

/* ---- registration -------------------------------------------------------- */

void lsim_open_sync(lua_State *L, int t)
{
    lsim_createmeta(L, MUTEX_MT, NULL, mutex_methods);
    lsim_createmeta(L, RWMUTEX_MT, NULL, rwmutex_methods);
    lsim_createmeta(L, WG_MT, NULL, wg_methods);
    lsim_createmeta(L, ONCE_MT, NULL, once_methods);
    lsim_createmeta(L, COND_MT, NULL, cond_methods);
    lsim_createmeta(L, SEMA_MT, NULL, sema_methods);
    lsim_createmeta(L, EG_MT, NULL, eg_methods);
    static const luaL_Reg funcs[] = {
        {"mutex", l_mutex},         {"rwmutex", l_rwmutex}, {"waitgroup", l_waitgroup},
        {"once", l_once},           {"cond", l_cond},       {"semaphore", l_semaphore},
        {"errgroup", l_errgroup},   {NULL, NULL},
    };
    lua_pushvalue(L, t);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
