/*
 * host: loads a scenario into a sandboxed Lua state and runs it on core's
 * scheduler. See host.h for the model.
 */
#include "host.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "duration.h"
#include "lsim.h"

#define DEFAULT_MEM_LIMIT ((size_t)512 << 20)
#define DEFAULT_INSTR_BUDGET ((int64_t)100000000)
#define DEFAULT_UNTIL (3600 * SIM_SEC)
#define HOOK_EVERY 1000
#define LGO_MAGIC 0x6c676f21u

#ifndef CHANSIM_LUA_DIR
#define CHANSIM_LUA_DIR "scripts/lua"
#endif

/* A Lua goroutine: a Lua thread running on a core goroutine. */
typedef struct lgo {
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
    bool is_main;           /* the scenario's top-level chunk */
} lgo_t;

struct host {
    host_options_t opt;     /* as given; strings borrowed */
    lua_State *L;           /* the main state, idle during the run */
    sched_t *s;             /* the scheduler of the run */
    size_t mem, mem_limit;  /* Lua heap in use and its bound */
    int64_t instr_budget;
    char *dir;              /* the scenario's folder (realpath) */
    char *libdir;           /* chansim's Lua library folder (realpath) */
    lgo_t *all;             /* every Lua goroutine */
    char *name;             /* scenario{ name } */
    char *description;      /* scenario{ description } */
    bool header_seen;
    bool leaks_fail;        /* scenario{ leaks = "fail" } */
    int gomaxprocs;         /* scenario{ gomaxprocs } (0: unlimited CPUs) */
    simtime_t duration;     /* scenario{ duration } */
    host_expect_t *exp;     /* expectations, in the order checked */
    size_t nexp, capexp;
    int *invariants;        /* registry refs of invariant functions */
    char **inv_msg;
    int *inv_failed;        /* index into exp of the first failure, or -1 */
    size_t ninv;
    int *finally;           /* registry refs of end-of-run checks */
    size_t nfinally;
    bool in_check;          /* running an invariant (nothing may block) */
    int64_t check_instr;    /* Lua instructions of the check running now */
    bool usage_error;       /* a header or --set error: exit 3 */
    char usage_msg[1024];
    sched_result_t result;
    uint64_t leaked;
    double wall;            /* wall seconds of the run (stderr only) */
    struct { trace_sink_t fn; void *ud; } sinks[6];
    int nsinks;
    struct { host_clock_fn fn; void *ud; } clocks[4]; /* clock observers, in order */
    int nclocks;
    struct { host_step_fn fn; void *ud; } steps[4]; /* step observers, in order */
    int nsteps;
};

static bool scan_header(const char *path, char **name, char **description, uint64_t *seed,
                        bool *has_seed, char *err, size_t errsize);

/* ---- memory ------------------------------------------------------------ */

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    host_t *h = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->mem -= old;
        return NULL;
    }
    if (nsize > old && h->mem - old + nsize > h->mem_limit)
        return NULL; /* Lua raises "not enough memory" */
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    h->mem = h->mem - old + nsize;
    return p;
}

/* ---- small helpers ------------------------------------------------------ */

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("chansim: out of memory\n", stderr);
        exit(EXIT_PROGRAM);
    }
    return d;
}

host_t *host_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.host");
    host_t *h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return h;
}

static lgo_t *lgo_of_thread(lua_State *T)
{
    return *(lgo_t **)lua_getextraspace(T);
}

void host_print(host_t *h, const char *s, size_t len)
{
    if (!h->opt.quiet)
        fwrite(s, 1, len, h->opt.out);
}

bool host_quiet(const host_t *h) { return h->opt.quiet; }
sched_t *host_sched(host_t *h) { return h->s; }
const char *host_scenario_name(const host_t *h) { return h->name ? h->name : ""; }
sched_result_t host_result(const host_t *h) { return h->result; }
uint64_t host_leaked(const host_t *h) { return h->leaked; }
bool host_usage_error(const host_t *h) { return h->usage_error; }
double host_wall_seconds(const host_t *h) { return h->wall; }
lua_State *host_lua(host_t *h) { return h->L; }

size_t host_expectations(const host_t *h, const host_expect_t **list)
{
    *list = h->exp;
    return h->nexp;
}

bool host_add_sink(host_t *h, trace_sink_t sink, void *ud)
{
    if (h->nsinks == (int)(sizeof h->sinks / sizeof h->sinks[0]))
        return false;
    h->sinks[h->nsinks].fn = sink;
    h->sinks[h->nsinks].ud = ud;
    h->nsinks++;
    return true;
}

bool host_add_clock_observer(host_t *h, host_clock_fn fn, void *ud)
{
    if (h->nclocks == (int)(sizeof h->clocks / sizeof h->clocks[0]))
        return false;
    h->clocks[h->nclocks].fn = fn;
    h->clocks[h->nclocks].ud = ud;
    h->nclocks++;
    return true;
}

bool host_add_step_observer(host_t *h, host_step_fn fn, void *ud)
{
    if (h->nsteps == (int)(sizeof h->steps / sizeof h->steps[0]))
        return false;
    h->steps[h->nsteps].fn = fn;
    h->steps[h->nsteps].ud = ud;
    h->nsteps++;
    return true;
}

/* The scheduler's one clock hook, fanned out to every observer. */
static void clock_fanout(void *ud, simtime_t from, simtime_t to)
{
    host_t *h = ud;
    for (int i = 0; i < h->nclocks; i++)
        h->clocks[i].fn(h->clocks[i].ud, from, to);
}

void host_usage_fail(host_t *h, const char *fmt, ...)
{
    if (h->usage_error)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->usage_msg, sizeof h->usage_msg, fmt, ap);
    va_end(ap);
    h->usage_error = true;
    if (h->s)
        sched_exit(h->s);
}

/* file:line of the Lua code that called the running C function. */
static void where(lua_State *L, char *buf, size_t size)
{
    lua_Debug ar;
    buf[0] = 0;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            snprintf(buf, size, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
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

static void frames_hook(g_t *g, char *buf, size_t size)
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

/* The message handler of every goroutine's pcall: keeps the frames where
 * the error was raised and the message as a string. */
static int msgh(lua_State *T)
{
    lgo_t *lg = lgo_of_thread(T);
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
        lg->panic_frames = xstrdup(buf);
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
    lg->instr += HOOK_EVERY;
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

void host_touch(lua_State *L)
{
    lgo_t *lg = lgo_of_thread(L);
    if (lg)
        lg->instr = 0;
}

/* ---- Lua goroutines ----------------------------------------------------- */

/* An error left a goroutine's function: a panic of the program, or, for
 * Lua's memory error, Go's fatal out-of-memory naming the bound. */
static void lgo_fail(lgo_t *lg, int rc)
{
    const char *msg = lua_tostring(lg->T, -1);
    go_set_panic_hook(lg->g, NULL);
    if (rc == LUA_ERRMEM || (msg && strcmp(msg, "not enough memory") == 0))
        go_fatal("not enough memory: the scenario's Lua heap reached its bound of %zu MiB "
                 "(--mem-limit)", lg->h->mem_limit >> 20);
    go_panic("%s", msg ? msg : "?");
}

static void lgo_entry(void *arg)
{
    lgo_t *lg = arg;
    lua_State *T = lg->T;
    lg->g = go_self();
    go_set_userdata(lg->g, lg);
    go_set_panic_hook(lg->g, panic_hook);
    lg->last_steps = sched_steps(lg->h->s);
    int base = lua_gettop(T) - lg->nargs; /* the function's index */
    lua_pushcfunction(T, msgh);
    lua_insert(T, base);
    int rc = lua_pcall(T, lg->nargs, 0, base);
    if (rc != LUA_OK)
        lgo_fail(lg, rc);
    lua_settop(T, 0);
    /* The thread may now be collected; the goroutine ends. */
    luaL_unref(T, LUA_REGISTRYINDEX, lg->ref);
    lg->ref = LUA_NOREF;
    go_set_userdata(lg->g, NULL);
}

static lgo_t *lgo_new(host_t *h, lua_State *L, int fn_idx, int nargs, bool is_main)
{
    lgo_t *lg = calloc(1, sizeof *lg);
    if (!lg)
        luaL_error(L, "out of memory");
    lg->magic = LGO_MAGIC;
    lg->h = h;
    lg->is_main = is_main;
    lg->next_all = h->all;
    h->all = lg;
    fn_idx = lua_absindex(L, fn_idx);
    lua_State *T = lua_newthread(L);
    lg->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lg->T = T;
    *(lgo_t **)lua_getextraspace(T) = lg;
    lua_sethook(T, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    lua_pushvalue(L, fn_idx);
    for (int i = 1; i <= nargs; i++)
        lua_pushvalue(L, fn_idx + i);
    lua_xmove(L, T, nargs + 1);
    lg->nargs = nargs;
    return lg;
}

g_t *host_spawn(lua_State *L, int fn_idx, int nargs, const char *name, const char *role)
{
    host_t *h = host_of(L);
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

/* ---- the scenario header ------------------------------------------------ */

static bool field_duration(lua_State *L, int idx, const char *key, simtime_t *out, char *err, size_t errsize)
{
    lua_getfield(L, idx, key);
    bool ok = true;
    if (lua_isinteger(L, -1)) {
        *out = lua_tointeger(L, -1);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        char e[256];
        if (!dur_parse(lua_tostring(L, -1), out, e, sizeof e)) {
            snprintf(err, errsize, "scenario %s: %s", key, e);
            ok = false;
        }
    } else if (!lua_isnil(L, -1)) {
        snprintf(err, errsize, "scenario %s: want a duration such as \"30s\", got %s", key,
                 luaL_typename(L, -1));
        ok = false;
    }
    lua_pop(L, 1);
    return ok;
}

/* Apply --set overrides to params (the table at idx), type-checked against
 * each parameter's default. */
static bool apply_sets(host_t *h, lua_State *L, int idx, char *err, size_t errsize)
{
    for (int i = 0; i < h->opt.nsets; i++) {
        host_param_override_t *o = &h->opt.sets[i];
        lua_getfield(L, idx, o->name);
        int t = lua_type(L, -1);
        lua_pop(L, 1);
        if (t == LUA_TNIL) {
            snprintf(err, errsize, "--set %s=%s: the scenario has no parameter \"%s\"", o->name,
                     o->value, o->name);
            return false;
        }
        o->used = true;
        if (t == LUA_TNUMBER) {
            char *end;
            errno = 0;
            long long iv = strtoll(o->value, &end, 10);
            lua_getfield(L, idx, o->name);
            bool is_int = lua_isinteger(L, -1);
            lua_pop(L, 1);
            if (*o->value && *end == 0 && errno == 0) {
                lua_pushinteger(L, iv);
            } else {
                errno = 0;
                double dv = strtod(o->value, &end);
                if (!*o->value || *end != 0 || errno != 0 || is_int) {
                    snprintf(err, errsize, "--set %s=%s: want %s", o->name, o->value,
                             is_int ? "an integer" : "a number");
                    return false;
                }
                lua_pushnumber(L, dv);
            }
        } else if (t == LUA_TBOOLEAN) {
            if (strcmp(o->value, "true") == 0)
                lua_pushboolean(L, 1);
            else if (strcmp(o->value, "false") == 0)
                lua_pushboolean(L, 0);
            else {
                snprintf(err, errsize, "--set %s=%s: want true or false", o->name, o->value);
                return false;
            }
        } else if (t == LUA_TSTRING) {
            lua_getfield(L, idx, o->name);
            char e[256];
            int64_t d;
            /* A parameter whose default is a duration takes durations only. */
            bool was_dur = dur_parse(lua_tostring(L, -1), &d, e, sizeof e);
            lua_pop(L, 1);
            if (was_dur && !dur_parse(o->value, &d, e, sizeof e)) {
                snprintf(err, errsize, "--set %s=%s: %s", o->name, o->value, e);
                return false;
            }
            lua_pushstring(L, o->value);
        } else {
            snprintf(err, errsize, "--set %s: parameter of type %s cannot be set", o->name,
                     lua_typename(L, t));
            return false;
        }
        lua_setfield(L, idx, o->name);
    }
    return true;
}

static const char *const header_keys[] = {
    "name", "description", "seed", "duration", "gomaxprocs", "params", "leaks", NULL,
};

void host_set_header(host_t *h, lua_State *L, int idx)
{
    char err[512] = "";
    char at[256];
    where(L, at, sizeof at);
    idx = lua_absindex(L, idx);
    if (h->header_seen) {
        host_usage_fail(h, "%s: scenario{} given twice", at);
        return;
    }
    h->header_seen = true;
    /* Unknown keys are mistakes worth naming. */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        bool known = false;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; header_keys[i]; i++)
                known = known || strcmp(lua_tostring(L, -1), header_keys[i]) == 0;
        if (!known) {
            const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
            host_usage_fail(h, "%s: scenario{}: unknown field \"%s\" (known: name, description, "
                               "seed, duration, gomaxprocs, params, leaks)", at, k);
            lua_pop(L, 1);
            return;
        }
    }
    lua_getfield(L, idx, "name");
    free(h->name);
    h->name = lua_type(L, -1) == LUA_TSTRING ? xstrdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    lua_getfield(L, idx, "description");
    free(h->description);
    h->description = lua_type(L, -1) == LUA_TSTRING ? xstrdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    lua_getfield(L, idx, "seed");
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1)) {
            host_usage_fail(h, "%s: scenario seed: want an integer", at);
            lua_pop(L, 1);
            return;
        }
        if (!h->opt.seed_given) {
            h->opt.seed = (uint64_t)lua_tointeger(L, -1);
            if (sched_seed(h->s) != h->opt.seed)
                sched_reseed(h->s, h->opt.seed);
        }
    }
    lua_pop(L, 1);
    if (!field_duration(L, idx, "duration", &h->duration, err, sizeof err)) {
        host_usage_fail(h, "%s: %s", at, err);
        return;
    }
    if (h->duration < 0) {
        host_usage_fail(h, "%s: scenario duration must not be negative", at);
        return;
    }
    if (h->duration > 0 && !h->opt.until)
        sched_set_until(h->s, h->duration);
    lua_getfield(L, idx, "gomaxprocs");
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 4096) {
            host_usage_fail(h, "%s: scenario gomaxprocs: want an integer from 1 to 4096", at);
            lua_pop(L, 1);
            return;
        }
        h->gomaxprocs = (int)lua_tointeger(L, -1);
        lsim_set_gomaxprocs(L, h->gomaxprocs);
    }
    lua_pop(L, 1);
    /* params: copied into sim.params with --set applied. */
    lua_getfield(L, idx, "params");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    } else if (!lua_istable(L, -1)) {
        host_usage_fail(h, "%s: scenario params: want a table", at);
        lua_pop(L, 1);
        return;
    }
    int p = lua_gettop(L);
    if (!apply_sets(h, L, p, err, sizeof err)) {
        host_usage_fail(h, "%s", err);
        lua_pop(L, 1);
        return;
    }
    lua_getglobal(L, "sim");
    lua_pushvalue(L, p);
    lua_setfield(L, -2, "params");
    lua_pop(L, 1);
    /* leaks: "fail", "report", or a function of the params giving one, so
     * that a parameter can choose (--set strict=true). */
    lua_getfield(L, idx, "leaks");
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, p);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            host_usage_fail(h, "%s: scenario leaks: the function raised: %s", at,
                            lua_tostring(L, -1));
            lua_pop(L, 2);
            return;
        }
    }
    if (!lua_isnil(L, -1)) {
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!v || (strcmp(v, "fail") != 0 && strcmp(v, "report") != 0)) {
            host_usage_fail(h, "%s: scenario leaks: want \"fail\" or \"report\" (or a function "
                               "of the params that returns one)", at);
            lua_pop(L, 2);
            return;
        }
        h->leaks_fail = strcmp(v, "fail") == 0;
    }
    lua_pop(L, 2);
}

void host_add_expect(host_t *h, lua_State *L, bool ok, const char *msg, int kind)
{
    if (h->nexp == h->capexp) {
        h->capexp = h->capexp ? h->capexp * 2 : 16;
        h->exp = realloc(h->exp, h->capexp * sizeof *h->exp);
        if (!h->exp)
            luaL_error(L, "out of memory");
    }
    char at[256];
    where(L, at, sizeof at);
    host_expect_t *e = &h->exp[h->nexp++];
    e->ok = ok;
    e->repeats = 0;
    e->msg = xstrdup(msg);
    e->where = xstrdup(at);
    e->t = sched_now_of(h->s);
    e->kind = kind;
    if (!ok)
        sched_emit(EV_USER, 0, 0, 0, msg);
}

/* ---- the sandbox -------------------------------------------------------- */

static int l_forbidden(lua_State *L)
{
    return luaL_error(L, "%s", lua_tostring(L, lua_upvalueindex(1)));
}

/* debug's __index: any field but traceback. */
static int l_debug_missing(lua_State *L)
{
    return luaL_error(L, "debug.%s: %s", luaL_optstring(L, 2, "?"),
                      lua_tostring(L, lua_upvalueindex(1)));
}

static void forbid(lua_State *L, int table, const char *name, const char *why)
{
    lua_pushstring(L, why);
    lua_pushcclosure(L, l_forbidden, 1);
    lua_setfield(L, table, name);
}

/* Is path inside the scenario's folder or chansim's library? */
static char *allowed_path(host_t *h, const char *path)
{
    char *rp = realpath(path, NULL);
    if (!rp)
        return NULL;
    size_t dl = strlen(h->dir), ll = h->libdir ? strlen(h->libdir) : 0;
    if ((strncmp(rp, h->dir, dl) == 0 && rp[dl] == '/') ||
        (h->libdir && strncmp(rp, h->libdir, ll) == 0 && rp[ll] == '/'))
        return rp;
    free(rp);
    return NULL;
}

static int load_allowed(lua_State *L, host_t *h, const char *path)
{
    char *rp = allowed_path(h, path);
    if (!rp)
        return luaL_error(L, "cannot load \"%s\": scenarios may load files only from their own "
                             "folder and chansim's library", path);
    int rc = luaL_loadfilex(L, path, "t");
    free(rp);
    if (rc != LUA_OK)
        return lua_error(L);
    return 1;
}

static int l_dofile(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    load_allowed(L, host_of(L), path);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

static int l_loadfile(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    load_allowed(L, host_of(L), path);
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]) with text chunks only. */
static int l_load(lua_State *L)
{
    luaL_checkany(L, 1);
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.load");
    lua_pushvalue(L, 1);
    if (top >= 2)
        lua_pushvalue(L, 2);
    else
        lua_pushnil(L); /* not index 2: that is now the function itself */
    lua_pushliteral(L, "t");
    if (top >= 4)
        lua_pushvalue(L, 4);
    lua_call(L, top >= 4 ? 4 : 3, LUA_MULTRET);
    return lua_gettop(L) - top;
}

static int l_require(lua_State *L)
{
    const char *mod = luaL_checkstring(L, 1);
    for (const char *p = mod; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.'))
            return luaL_error(L, "require \"%s\": module names are letters, digits, _ and .", mod);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, mod);
    if (lua_toboolean(L, -1))
        return 1;
    lua_pop(L, 1);
    host_t *h = host_of(L);
    char rel[512];
    snprintf(rel, sizeof rel, "%s", mod);
    for (char *p = rel; *p; p++)
        if (*p == '.')
            *p = '/';
    const char *dirs[2] = {h->dir, h->libdir};
    for (int i = 0; i < 2; i++) {
        if (!dirs[i])
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s.lua", dirs[i], rel);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        fclose(f);
        load_allowed(L, h, path);
        lua_pushstring(L, mod);
        lua_call(L, 1, 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
        }
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, mod);
        return 1;
    }
    return luaL_error(L, "module \"%s\" not found in the scenario's folder or chansim's library", mod);
}

static int l_print(lua_State *L)
{
    host_t *h = host_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = lsim_tolstring(L, i, &len);
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_addvalue(&b);
        (void)s;
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    host_print(h, s, len);
    sched_emit(EV_LOG, 0, 0, 0, s);
    return 0;
}

static int l_io_write(lua_State *L)
{
    host_t *h = host_of(L);
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_checklstring(L, i, &len);
        host_print(h, s, len);
    }
    return 0;
}

/* ---- determinism of the Lua library ----------------------------------- */

/* Lua seeds its string hashes from the clock and addresses, so pairs()
 * would visit string keys in a different order on every run. The sandbox's
 * pairs visits keys in a fixed order instead: integers ascending, then
 * floats, then strings in byte order, then booleans, then other keys in
 * the order lsim_tolstring numbers them. */
static int key_rank(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER: return lua_isinteger(L, idx) ? 0 : 1;
    case LUA_TSTRING: return 2;
    case LUA_TBOOLEAN: return 3;
    default: return 4;
    }
}

static bool key_less(lua_State *L, int a, int b)
{
    int ra = key_rank(L, a), rb = key_rank(L, b);
    if (ra != rb)
        return ra < rb;
    switch (ra) {
    case 0: return lua_tointeger(L, a) < lua_tointeger(L, b);
    case 1: return lua_tonumber(L, a) < lua_tonumber(L, b);
    case 2: {
        size_t la, lb;
        const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
        int c = memcmp(sa, sb, la < lb ? la : lb);
        return c < 0 || (c == 0 && la < lb);
    }
    case 3: return !lua_toboolean(L, a) && lua_toboolean(L, b);
    default: {
        lsim_tolstring(L, a, NULL);
        lsim_tolstring(L, b, NULL);
        bool lt = strcmp(lua_tostring(L, -2), lua_tostring(L, -1)) < 0;
        lua_pop(L, 2);
        return lt;
    }
    }
}

/* The iterator: upvalue 1 the sorted key list, 2 the position. */
static int sorted_next(lua_State *L)
{
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;
    for (;; i++) {
        if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL)
            return 0;
        lua_pushvalue(L, -1);
        lua_gettable(L, 1);
        if (!lua_isnil(L, -1))
            break; /* skip keys removed during the traversal */
        lua_pop(L, 2);
    }
    lua_pushinteger(L, i);
    lua_replace(L, lua_upvalueindex(2));
    return 2;
}

static int l_pairs(lua_State *L)
{
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_newtable(L);
    int keys = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++n);
    }
    /* insertion sort on the key list through the stack (tables here are
     * scenario-sized) */
    for (lua_Integer i = 2; i <= n; i++) {
        lua_rawgeti(L, keys, i);
        lua_Integer j = i - 1;
        while (j >= 1) {
            lua_rawgeti(L, keys, j);
            bool lt = key_less(L, -2, -1);
            if (!lt) {
                lua_pop(L, 1);
                break;
            }
            lua_rawseti(L, keys, j + 1);
            j--;
        }
        lua_rawseti(L, keys, j + 1);
    }
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, sorted_next, 2);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int l_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    lsim_tolstring(L, 1, NULL);
    return 1;
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
    if (rc != LUA_OK)
        return lua_error(L); /* wrap's error, passed on */
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

/* ---- checks: invariants and finally functions -------------------------- */

/* Checks run on the main state between steps and after the run, outside
 * any goroutine: they observe the simulation and must not change it (core
 * cannot send, lock, panic or spawn outside a goroutine, nor create
 * anything once the run is over). While a check runs, a call hook refuses
 * the sim functions that change the run, and a count hook bounds the
 * check's instructions as the budget bounds a goroutine's. */

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
static void build_check_guard(lua_State *L)
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

static void check_hook(lua_State *L, lua_Debug *ar)
{
    host_t *h = host_of(L);
    if (!h || !h->in_check)
        return;
    if (ar->event == LUA_HOOKCOUNT) {
        h->check_instr += HOOK_EVERY;
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

static void open_sandbox(host_t *h, lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},     {LUA_LOADLIBNAME, luaopen_package},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_COLIBNAME, luaopen_coroutine}, {NULL, NULL},
    };
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, h);
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.host");
    lua_pushglobaltable(L);
    int G = lua_gettop(L);
    lua_getfield(L, G, "load");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.load");
    lua_pushcfunction(L, l_load);
    lua_setfield(L, G, "load");
    lua_pushcfunction(L, l_dofile);
    lua_setfield(L, G, "dofile");
    lua_pushcfunction(L, l_loadfile);
    lua_setfield(L, G, "loadfile");
    lua_pushcfunction(L, l_require);
    lua_setfield(L, G, "require");
    lua_pushcfunction(L, l_print);
    lua_setfield(L, G, "print");
    lua_pushcfunction(L, l_pairs);
    lua_setfield(L, G, "pairs");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, G, "tostring");
    /* package: no C loaders, no searchers that reach the file system. */
    lua_getfield(L, G, "package");
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "path");
    lua_newtable(L);
    lua_setfield(L, -2, "searchers");
    lua_pop(L, 1);
    /* os: only what keeps a run deterministic. */
    lua_newtable(L);
    int os = lua_gettop(L);
    forbid(L, os, "time", "os.time is not available in a scenario: it would break determinism (use sim.now())");
    forbid(L, os, "clock", "os.clock is not available in a scenario: it would break determinism (use sim.now())");
    forbid(L, os, "date", "os.date is not available in a scenario: it would break determinism (use sim.now())");
    forbid(L, os, "execute", "os.execute is not available in a scenario (sandbox)");
    forbid(L, os, "exit", "os.exit is not available in a scenario: use sim.exit()");
    forbid(L, os, "getenv", "os.getenv is not available in a scenario: use scenario params and --set");
    forbid(L, os, "remove", "os.remove is not available in a scenario (sandbox)");
    forbid(L, os, "rename", "os.rename is not available in a scenario (sandbox)");
    forbid(L, os, "tmpname", "os.tmpname is not available in a scenario (sandbox)");
    lua_setfield(L, G, "os");
    /* io: write to the program's output; nothing else. */
    lua_newtable(L);
    int io = lua_gettop(L);
    lua_pushcfunction(L, l_io_write);
    lua_setfield(L, io, "write");
    forbid(L, io, "open", "io.open is not available in a scenario (sandbox): use --log, --csv or --metrics for output");
    forbid(L, io, "popen", "io.popen is not available in a scenario (sandbox)");
    forbid(L, io, "read", "io.read is not available in a scenario (sandbox)");
    forbid(L, io, "lines", "io.lines is not available in a scenario (sandbox)");
    forbid(L, io, "output", "io.output is not available in a scenario (sandbox)");
    forbid(L, io, "input", "io.input is not available in a scenario (sandbox)");
    lua_setfield(L, G, "io");
    forbid(L, G, "collectgarbage", "collectgarbage is not available in a scenario");
    /* debug: only traceback; anything else says why it is missing. */
    lua_pushcfunction(L, luaopen_debug);
    lua_call(L, 0, 1); /* the library's table, not registered as a module */
    lua_newtable(L);
    lua_getfield(L, -2, "traceback");
    lua_setfield(L, -2, "traceback");
    lua_newtable(L);
    lua_pushliteral(L, "the debug library is not available in a scenario (sandbox): only "
                       "debug.traceback is");
    lua_pushcclosure(L, l_debug_missing, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, G, "debug");
    lua_pop(L, 1);
    /* coroutines: tied to the goroutine that resumes them */
    lua_getfield(L, G, "coroutine");
    int co = lua_gettop(L);
    wrap_co(L, co, "resume", l_co_resume);
    wrap_co(L, co, "wrap", l_co_wrap);
    wrap_co(L, co, "close", l_co_resume);
    lua_pop(L, 2);
    /* sim, with scenario{} also as a global. */
    luaL_requiref(L, "sim", luaopen_chansim, 1);
    lua_getfield(L, -1, "scenario");
    lua_setglobal(L, "scenario");
    lua_pop(L, 1);
    lsim_bind_math_random(L);
}

/* The Lua half of the module (load shapes, distributions, at/every),
 * from chansim's library folder. */
static bool load_prelude(host_t *h, lua_State *L)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/prelude.lua", h->libdir ? h->libdir : CHANSIM_LUA_DIR);
    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        fprintf(stderr, "chansim: cannot load its Lua library: %s\n", lua_tostring(L, -1));
        return false;
    }
    lua_getglobal(L, "sim");
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "chansim: error in its Lua library: %s\n", lua_tostring(L, -1));
        return false;
    }
    return true;
}

/* ---- run ---------------------------------------------------------------- */

host_t *host_create(const host_options_t *opt)
{
    host_t *h = calloc(1, sizeof *h);
    if (!h) {
        fputs("chansim: out of memory\n", stderr);
        exit(EXIT_PROGRAM);
    }
    h->opt = *opt;
    if (!h->opt.out)
        h->opt.out = stdout;
    h->mem_limit = opt->mem_limit ? opt->mem_limit : DEFAULT_MEM_LIMIT;
    h->instr_budget = opt->instr_budget ? opt->instr_budget : DEFAULT_INSTR_BUDGET;
    h->result = SCHED_DONE;
    return h;
}

void host_destroy(host_t *h)
{
    if (!h)
        return;
    /* The scheduler first: messages still in flight hold registry
     * references that it releases into the live Lua state. Nothing in Lua
     * needs the scheduler when closing (no userdata has a __gc). */
    sched_destroy(h->s);
    h->s = NULL;
    if (h->L)
        lua_close(h->L);
    while (h->all) {
        lgo_t *n = h->all->next_all;
        free(h->all->panic_frames);
        free(h->all);
        h->all = n;
    }
    for (size_t i = 0; i < h->nexp; i++) {
        free(h->exp[i].msg);
        free(h->exp[i].where);
    }
    for (size_t i = 0; i < h->ninv; i++)
        free(h->inv_msg[i]);
    free(h->inv_msg);
    free(h->invariants);
    free(h->inv_failed);
    free(h->finally);
    free(h->exp);
    free(h->name);
    free(h->description);
    free(h->dir);
    free(h->libdir);
    free(h);
}

/* The world's checkers (sim/checker.h) report violations as trace events:
 * each is a failed invariant of the run. */
static void violation_sink(void *ud, const trace_event_t *ev)
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
    if (h->nexp == h->capexp) {
        size_t ncap = h->capexp ? h->capexp * 2 : 16;
        host_expect_t *n = realloc(h->exp, ncap * sizeof *n);
        if (!n)
            return;
        h->exp = n;
        h->capexp = ncap;
    }
    host_expect_t *e = &h->exp[h->nexp++];
    e->ok = false;
    e->msg = xstrdup(ev->detail);
    e->where = xstrdup("checker");
    e->t = ev->t;
    e->kind = 1;
    e->repeats = 0;
}

static void main_entry(void *arg)
{
    host_t *h = arg;
    lgo_t *lg = lgo_new(h, h->L, -1, 0, true);
    lua_pop(h->L, 1); /* the chunk, now on the thread */
    lgo_entry(lg);
}

/* Invariants after every step; the first failure of each is recorded. */
static void step_hook(void *ud)
{
    host_t *h = ud;
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
            snprintf(buf, sizeof buf, "%s (the invariant raised: %s)", msg, lua_tostring(L, -1));
            msg = buf;
            ok = false;
        } else {
            ok = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
        if (!ok) {
            h->inv_failed[i] = (int)h->nexp;
            lua_rawgeti(L, LUA_REGISTRYINDEX, h->invariants[i]);
            lua_Debug ar;
            lua_getinfo(L, ">S", &ar);
            host_add_expect(h, L, false, msg, 1);
            char at[300];
            snprintf(at, sizeof at, "%s:%d", ar.short_src, ar.linedefined);
            free(h->exp[h->nexp - 1].where);
            h->exp[h->nexp - 1].where = xstrdup(at);
        }
    }
    h->in_check = false;
}

/* The scheduler's one step hook: the invariants, then the observers (the
 * view), which so see a failed invariant at the step that broke it. */
static void step_fanout(void *ud)
{
    host_t *h = ud;
    if (h->ninv)
        step_hook(h);
    for (int i = 0; i < h->nsteps; i++)
        h->steps[i].fn(h->steps[i].ud);
}

int lsim_add_invariant(lua_State *L, int fn_idx, const char *msg)
{
    host_t *h = host_of(L);
    size_t n = h->ninv + 1;
    h->invariants = realloc(h->invariants, n * sizeof *h->invariants);
    h->inv_msg = realloc(h->inv_msg, n * sizeof *h->inv_msg);
    h->inv_failed = realloc(h->inv_failed, n * sizeof *h->inv_failed);
    if (!h->invariants || !h->inv_msg || !h->inv_failed)
        return luaL_error(L, "out of memory");
    lua_pushvalue(L, fn_idx);
    h->invariants[h->ninv] = luaL_ref(L, LUA_REGISTRYINDEX);
    h->inv_msg[h->ninv] = xstrdup(msg);
    h->inv_failed[h->ninv] = -1;
    h->ninv = n;
    sched_set_step_hook(h->s, step_fanout, h);
    return 0;
}

int lsim_add_finally(lua_State *L, int fn_idx)
{
    host_t *h = host_of(L);
    h->finally = realloc(h->finally, (h->nfinally + 1) * sizeof *h->finally);
    if (!h->finally)
        return luaL_error(L, "out of memory");
    lua_pushvalue(L, fn_idx);
    h->finally[h->nfinally++] = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

bool lsim_in_check(lua_State *L)
{
    return host_of(L)->in_check;
}

/* A goroutine blocked for good after main returned is a leak, unless it
 * belongs to a simulated node: a node's servers wait for requests forever
 * by design, as processes do. */
static void count_leak(void *ud, g_t *g)
{
    host_t *h = ud;
    if (!go_group(g))
        h->leaked++;
}

static bool set_dirs(host_t *h)
{
    char *rp = realpath(h->opt.path, NULL);
    if (!rp)
        return false;
    char *slash = strrchr(rp, '/');
    if (slash)
        *slash = 0;
    h->dir = rp;
    h->libdir = realpath(CHANSIM_LUA_DIR, NULL);
    return true;
}

int host_run(host_t *h)
{
    FILE *f = fopen(h->opt.path, "r");
    if (!f) {
        fprintf(stderr, "%s:1: cannot open the scenario: %s\n", h->opt.path, strerror(errno));
        return EXIT_USAGE;
    }
    fclose(f);
    if (!set_dirs(h)) {
        fprintf(stderr, "%s:1: cannot resolve the scenario's folder\n", h->opt.path);
        return EXIT_USAGE;
    }
    sched_config_t cfg = sched_config_default();
    cfg.seed = h->opt.seed_given ? h->opt.seed : 1;
    if (!h->opt.seed_given) {
        /* The header's seed seeds the streams from the start, so that the
         * run is the one `--seed N` reproduces: reseeding when scenario{}
         * runs would come after main's own start drew from them. */
        char *nm, *desc, err[512];
        uint64_t hs;
        bool has;
        if (scan_header(h->opt.path, &nm, &desc, &hs, &has, err, sizeof err) && has)
            cfg.seed = hs;
        free(nm);
        free(desc);
    }
    h->opt.seed = cfg.seed;
    cfg.policy = h->opt.policy;
    cfg.pct_depth = h->opt.pct_depth ? h->opt.pct_depth : 3;
    cfg.stack_size = 256 * 1024; /* Lua's C calls nest deeper than plain C goroutines */
    cfg.record = h->opt.record;
    cfg.replay = h->opt.replay;
    cfg.replay_len = h->opt.replay_len;
    cfg.main_exit_ends_run = false;
    cfg.until = h->opt.until ? h->opt.until : DEFAULT_UNTIL;
    h->s = sched_create(&cfg);
    sched_set_frames_hook(h->s, frames_hook);
    sched_add_sink(h->s, violation_sink, h);
    for (int i = 0; i < h->nsinks; i++)
        sched_add_sink(h->s, h->sinks[i].fn, h->sinks[i].ud);
    if (h->nclocks)
        sched_set_clock_hook(h->s, clock_fanout, h);
    if (h->nsteps)
        sched_set_step_hook(h->s, step_fanout, h);

    h->L = lua_newstate(l_alloc, h);
    if (!h->L) {
        fputs("chansim: cannot create the Lua state\n", stderr);
        return EXIT_PROGRAM;
    }
    *(lgo_t **)lua_getextraspace(h->L) = NULL;
    lua_State *L = h->L;
    lsim_attach(L, h->s);
    open_sandbox(h, L);
    if (!load_prelude(h, L))
        return EXIT_USAGE;
    /* Checks run on this state: guard and bound them (see check_hook). */
    build_check_guard(L);
    lua_sethook(L, check_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOOK_EVERY);

    /* The chunk: a load error is the scenario's, exit 3. */
    if (luaL_loadfilex(L, h->opt.path, "t") != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return EXIT_USAGE;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0); /* wall time for stderr only */
    h->result = sched_run(h->s, main_entry, h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    h->wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    lua_settop(L, 0);
    fflush(h->opt.out);

    if (h->usage_error) {
        fprintf(stderr, "%s\n", h->usage_msg);
        return EXIT_USAGE;
    }
    for (int i = 0; i < h->opt.nsets; i++) {
        if (!h->opt.sets[i].used) {
            fprintf(stderr, "%s:1: --set %s: the scenario declares no params (scenario{ params = { ... } })\n",
                    h->opt.path, h->opt.sets[i].name);
            return EXIT_USAGE;
        }
    }
    int status = EXIT_OK;
    switch (h->result) {
    case SCHED_PANIC:
    case SCHED_FATAL:
    case SCHED_DEADLOCK:
        fputs(sched_report(h->s), stderr);
        status = EXIT_PROGRAM;
        break;
    case SCHED_IDLE:
        sched_each_goroutine(h->s, count_leak, h);
        if (h->leaked && h->leaks_fail) {
            fprintf(stderr, "chansim: %llu goroutine%s leaked: blocked forever after main returned "
                            "(scenario{ leaks = \"fail\" }; the summary lists them)\n",
                    (unsigned long long)h->leaked, h->leaked == 1 ? "" : "s");
            status = EXIT_PROGRAM;
        }
        break;
    default:
        break;
    }
    /* End-of-run checks. */
    h->in_check = true;
    for (size_t i = 0; i < h->nfinally; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->finally[i]);
        h->check_instr = 0;
        if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "finally check raised: %s", lua_tostring(L, -1));
            lua_pop(L, 1);
            lua_rawgeti(L, LUA_REGISTRYINDEX, h->finally[i]);
            lua_Debug ar;
            lua_getinfo(L, ">S", &ar);
            host_add_expect(h, L, false, msg, 2);
            char at[300];
            snprintf(at, sizeof at, "%s:%d", ar.short_src, ar.linedefined);
            free(h->exp[h->nexp - 1].where);
            h->exp[h->nexp - 1].where = xstrdup(at);
        }
    }
    h->in_check = false;
    fflush(h->opt.out);
    if (status == EXIT_OK)
        for (size_t i = 0; i < h->nexp; i++)
            if (!h->exp[i].ok)
                status = EXIT_EXPECT;
    return status;
}

/* ---- chansim list ------------------------------------------------------- */

static int l_header_only(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.name");
    lua_getfield(L, 1, "description");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.description");
    lua_getfield(L, 1, "seed");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.seed");
    lua_pushliteral(L, "chansim.header.done");
    return lua_error(L);
}

static int l_header_stop(lua_State *L)
{
    lua_pushliteral(L, "chansim.header.done");
    return lua_error(L);
}

/* The scan runs a scenario's top-level code until its header: bound it. */
static void header_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    l_header_stop(L);
}

/* The header's fields without running the scenario; *seed is set (and
 * *has_seed true) when the header gives an integer seed. */
static bool scan_header(const char *path, char **name, char **description, uint64_t *seed,
                        bool *has_seed, char *err, size_t errsize)
{
    *name = *description = NULL;
    *has_seed = false;
    host_t bound; /* only its heap bound and count, for l_alloc */
    memset(&bound, 0, sizeof bound);
    bound.mem_limit = (size_t)64 << 20;
    lua_State *L = lua_newstate(l_alloc, &bound);
    if (!L) {
        snprintf(err, errsize, "%s:1: cannot create a Lua state", path);
        return false;
    }
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pop(L, 2);
    /* Any other global (sim, require, ...) stops the scan: the header is
     * the scenario's first statement by convention. */
    lua_newtable(L);
    lua_pushcfunction(L, l_header_only);
    lua_setfield(L, -2, "scenario");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "sim");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_header_only);
    lua_setglobal(L, "scenario");
    static const char *const stops[] = {
        "require", "dofile", "loadfile", "load", "print", "collectgarbage", NULL,
    };
    for (int i = 0; stops[i]; i++) {
        lua_pushcfunction(L, l_header_stop);
        lua_setglobal(L, stops[i]);
    }
    lua_sethook(L, header_hook, LUA_MASKCOUNT, 10000000);
    bool ok = true;
    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        snprintf(err, errsize, "%s", lua_tostring(L, -1));
        ok = false;
    } else if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        if (!m || !strstr(m, "chansim.header.done")) {
            /* Top-level code ran into something the scan does not
             * provide: the header, if any, was read before it. */
        }
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.name");
    if (lua_type(L, -1) == LUA_TSTRING)
        *name = xstrdup(lua_tostring(L, -1));
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.description");
    if (lua_type(L, -1) == LUA_TSTRING)
        *description = xstrdup(lua_tostring(L, -1));
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.seed");
    if (lua_isinteger(L, -1)) {
        *seed = (uint64_t)lua_tointeger(L, -1);
        *has_seed = true;
    }
    lua_close(L);
    return ok;
}

bool host_read_header(const char *path, char **name, char **description, char *err, size_t errsize)
{
    uint64_t seed;
    bool has_seed;
    return scan_header(path, name, description, &seed, &has_seed, err, errsize);
}

/* ---- running Lua functions as goroutine bodies ---------------------------- */

typedef struct here {
    host_t *h;
    int ref;        /* registry ref of {fn, args...} */
    char *result;   /* first result as a string, or NULL for nil */
} here_t;

char *host_run_here(lua_State *L, int packed_ref)
{
    host_t *h = host_of(L);
    lua_State *M = h->L;
    lua_rawgeti(M, LUA_REGISTRYINDEX, packed_ref);
    int t = lua_gettop(M);
    int n = (int)lua_rawlen(M, t);
    for (int i = 1; i <= n; i++)
        lua_rawgeti(M, t, i);
    lgo_t *lg = lgo_new(h, M, t + 1, n - 1, false);
    lua_settop(M, t - 1);
    luaL_unref(M, LUA_REGISTRYINDEX, packed_ref);
    lua_State *T = lg->T;
    lg->g = go_self();
    void *old_ud = go_userdata(lg->g);
    go_set_userdata(lg->g, lg);
    go_set_panic_hook(lg->g, panic_hook);
    lg->last_steps = sched_steps(h->s);
    int base = lua_gettop(T) - lg->nargs;
    lua_pushcfunction(T, msgh);
    lua_insert(T, base);
    char *result = NULL;
    int rc = lua_pcall(T, lg->nargs, 1, base);
    if (rc != LUA_OK)
        lgo_fail(lg, rc);
    if (!lua_isnil(T, -1)) {
        const char *r = luaL_tolstring(T, -1, NULL);
        result = xstrdup(r);
    }
    lua_settop(T, 0);
    luaL_unref(T, LUA_REGISTRYINDEX, lg->ref);
    lg->ref = LUA_NOREF;
    go_set_userdata(lg->g, old_ud);
    go_set_panic_hook(lg->g, NULL);
    return result;
}
