/*
 * scenario: the scenario{} header, a scenario's first statement.
 *
 *   scenario{ name = "...", description = "...", seed = 7, duration = "30s",
 *             gomaxprocs = 4, params = { workers = 3 }, leaks = "fail",
 *             expect_failure = "panic: send on closed channel" }
 *
 * host_set_header applies it to the run (sim.scenario and the global
 * scenario call it): the seed unless --seed was given, the duration as the
 * run's limit unless --until was, the simulated CPUs, sim.params with the
 * --set overrides type-checked against each parameter's default, whether
 * leaked goroutines fail the run, and the failure a lesson exists to show
 * (expect_failure, judged by host_run). Any mistake (an unknown field, a
 * wrong type, a --set for no parameter) is a scenario error: exit 3 with
 * file:line, reported once.
 *
 * scenario_scan reads the header without running the scenario: a bare Lua
 * state in which scenario{} records its fields and stops the chunk, and
 * anything else the scan does not provide stops it too. `chansim list`
 * shows its name and description; host_run seeds the run with its seed
 * from the start.
 *
 * Ownership: the header's strings are the host's (freed at host_destroy);
 * the scan's are the caller's.
 */
#include "host_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "duration.h"
#include "lsim.h"
#include "mem.h"

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
    "name", "description", "seed", "duration", "gomaxprocs", "params", "leaks", "expect_failure",
    "timer_slack", NULL,
};

/* Unknown keys are mistakes worth naming. */
static bool header_known_keys(host_t *h, lua_State *L, int idx, const char *at)
{
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
                               "seed, duration, gomaxprocs, params, leaks, expect_failure, timer_slack)", at, k);
            lua_pop(L, 1);
            return false;
        }
    }
    return true;
}

/* A string field's copy (the host's), or NULL if it is not a string. */
static char *header_string(lua_State *L, int idx, const char *key)
{
    lua_getfield(L, idx, key);
    char *v = lua_type(L, -1) == LUA_TSTRING ? mem_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    return v;
}

/* seed, duration and gomaxprocs: how the run goes. */
static bool header_run(host_t *h, lua_State *L, int idx, const char *at)
{
    char err[512] = "";
    lua_getfield(L, idx, "seed");
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1)) {
            host_usage_fail(h, "%s: scenario seed: want an integer", at);
            lua_pop(L, 1);
            return false;
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
        return false;
    }
    if (h->duration < 0) {
        host_usage_fail(h, "%s: scenario duration must not be negative", at);
        return false;
    }
    if (h->duration > 0 && !h->opt.until)
        sched_set_until(h->s, h->duration);
    lua_getfield(L, idx, "gomaxprocs");
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 4096) {
            host_usage_fail(h, "%s: scenario gomaxprocs: want an integer from 1 to 4096", at);
            lua_pop(L, 1);
            return false;
        }
        h->gomaxprocs = (int)lua_tointeger(L, -1);
        lsim_set_gomaxprocs(L, h->gomaxprocs);
    }
    lua_pop(L, 1);
    return true;
}

/* params: copied into sim.params with --set applied; left on the stack
 * (for leaks) when it returns true. */
static bool header_params(host_t *h, lua_State *L, int idx, const char *at)
{
    char err[512] = "";
    lua_getfield(L, idx, "params");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    } else if (!lua_istable(L, -1)) {
        host_usage_fail(h, "%s: scenario params: want a table", at);
        lua_pop(L, 1);
        return false;
    }
    int p = lua_gettop(L);
    if (!apply_sets(h, L, p, err, sizeof err)) {
        host_usage_fail(h, "%s", err);
        lua_pop(L, 1);
        return false;
    }
    lua_getglobal(L, "sim");
    lua_pushvalue(L, p);
    lua_setfield(L, -2, "params");
    lua_pop(L, 1);
    return true;
}

/* leaks: "fail", "report", or a function of the params (at p) giving one,
 * so that a parameter can choose (--set strict=true). */
static void header_leaks(host_t *h, lua_State *L, int idx, int p, const char *at)
{
    lua_getfield(L, idx, "leaks");
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, p);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            host_usage_fail(h, "%s: scenario leaks: the function raised: %s", at,
                            lua_tostring(L, -1));
            lua_pop(L, 1);
            return;
        }
    }
    if (!lua_isnil(L, -1)) {
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!v || (strcmp(v, "fail") != 0 && strcmp(v, "report") != 0)) {
            host_usage_fail(h, "%s: scenario leaks: want \"fail\" or \"report\" (or a function "
                               "of the params that returns one)", at);
            lua_pop(L, 1);
            return;
        }
        h->leaks_fail = strcmp(v, "fail") == 0;
        h->leaks_declared = true;
    }
    lua_pop(L, 1);
}

/* expect_failure: "deadlock", "leak", "race", "panic: PREFIX", "fatal
 * error: PREFIX" or "invariant: NAME" (a check's message). */
static void header_expect_failure(host_t *h, lua_State *L, int idx, const char *at)
{
    lua_getfield(L, idx, "expect_failure");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    host_expect_kind_t kind = v ? host_expect_parse(v) : HOST_EXPECT_NONE;
    if (kind == HOST_EXPECT_NONE) {
        host_usage_fail(h, "%s: scenario expect_failure: want \"deadlock\", \"leak\", \"race\", "
                           "\"panic: MESSAGE\", \"fatal error: MESSAGE\" or \"invariant: NAME\"", at);
        lua_pop(L, 1);
        return;
    }
    if (kind == HOST_EXPECT_RACE && !h->opt.race) {
        /* The detector is chosen before the run starts, from the scan. */
        host_usage_fail(h, "%s: scenario expect_failure = \"race\": the scenario{} header must be "
                           "the scenario's first statement (the race detector starts with the run)", at);
        lua_pop(L, 1);
        return;
    }
    free(h->expect_failure);
    h->expect_failure = mem_strdup(v);
    h->expect_kind = kind;
    if (kind == HOST_EXPECT_LEAK)
        h->leaks_declared = true; /* main's return waits for the world, as goleak does */
    lua_pop(L, 1);
}

host_expect_kind_t host_expect_parse(const char *v)
{
    if (strcmp(v, "deadlock") == 0)
        return HOST_EXPECT_DEADLOCK;
    if (strcmp(v, "leak") == 0)
        return HOST_EXPECT_LEAK;
    if (strcmp(v, "race") == 0)
        return HOST_EXPECT_RACE;
    if (strncmp(v, "panic: ", 7) == 0 && v[7])
        return HOST_EXPECT_PANIC;
    if (strncmp(v, "fatal error: ", 13) == 0 && v[13])
        return HOST_EXPECT_FATAL;
    if (strncmp(v, "invariant: ", 11) == 0 && v[11])
        return HOST_EXPECT_CHECK;
    return HOST_EXPECT_NONE;
}

void host_set_header(host_t *h, lua_State *L, int idx)
{
    char at[256];
    host_where(L, at, sizeof at);
    idx = lua_absindex(L, idx);
    if (h->header_seen) {
        host_usage_fail(h, "%s: scenario{} given twice", at);
        return;
    }
    h->header_seen = true;
    if (!header_known_keys(h, L, idx, at))
        return;
    free(h->name);
    h->name = header_string(L, idx, "name");
    free(h->description);
    h->description = header_string(L, idx, "description");
    /* timer_slack: the world's timers fire late (--timer-slack overrides) */
    lua_getfield(L, idx, "timer_slack");
    if (!lua_isnil(L, -1)) {
        timer_slack_t k;
        char err[256];
        if (lua_type(L, -1) != LUA_TSTRING ||
            !timer_slack_parse(lua_tostring(L, -1), &k, err, sizeof err)) {
            host_usage_fail(h, "%s: scenario timer_slack: %s", at,
                            lua_type(L, -1) == LUA_TSTRING ? err : "want a string such as \"linux\"");
            lua_pop(L, 1);
            return;
        }
        if (!h->opt.slack_spec)
            sched_set_timer_slack(h->s, k);
    }
    lua_pop(L, 1);
    if (!header_run(h, L, idx, at) || !header_params(h, L, idx, at))
        return;
    header_leaks(h, L, idx, lua_gettop(L), at);
    lua_pop(L, 1); /* params */
    header_expect_failure(h, L, idx, at);
}

/* ---- the scan (chansim list, and the seed before the run) ------------- */

static int l_header_only(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.name");
    lua_getfield(L, 1, "description");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.description");
    lua_getfield(L, 1, "seed");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.seed");
    lua_getfield(L, 1, "expect_failure");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.expect_failure");
    lua_getfield(L, 1, "params");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.params");
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.hdr.seen");
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

static bool scan(const char *path, char **name, char **description, uint64_t *seed,
                 bool *has_seed, char **expect, const host_param_override_t *sets, int nsets,
                 char *bad, size_t badsize, char *err, size_t errsize);

/* The header's fields without running the scenario; *seed is set (and
 * *has_seed true) when the header gives an integer seed; *expect (if not
 * NULL) is the expect_failure string, or NULL. */
bool scenario_scan(const char *path, char **name, char **description, uint64_t *seed,
                   bool *has_seed, char **expect, char *err, size_t errsize)
{
    return scan(path, name, description, seed, has_seed, expect, NULL, 0, NULL, 0, err, errsize);
}

bool host_check_sets(const host_options_t *opt, char *err, size_t errsize)
{
    if (!opt->nsets)
        return true;
    char *name, *desc, e[512];
    uint64_t seed;
    bool has_seed;
    err[0] = 0;
    scan(opt->path, &name, &desc, &seed, &has_seed, NULL, opt->sets, opt->nsets, err, errsize, e,
         sizeof e);
    free(name);
    free(desc);
    return !err[0];
}

static bool scan(const char *path, char **name, char **description, uint64_t *seed,
                 bool *has_seed, char **expect, const host_param_override_t *sets, int nsets,
                 char *bad, size_t badsize, char *err, size_t errsize)
{
    *name = *description = NULL;
    if (expect)
        *expect = NULL;
    *has_seed = false;
    host_t bound; /* only its heap bound and count, for sandbox_alloc */
    memset(&bound, 0, sizeof bound);
    bound.mem_limit = (size_t)64 << 20;
    lua_State *L = lua_newstate(sandbox_alloc, &bound);
    if (!L) {
        snprintf(err, errsize, "%s:1: cannot create a Lua state", path);
        return false;
    }
    *(void **)lua_getextraspace(L) = NULL; /* no goroutine runs this state */
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pop(L, 2);
    /* Any other global (sim, require, ...) stops the scan: the header is
     * the scenario's first statement by convention. pcall and xpcall stop
     * it too: they would catch the scan's own stop (its instruction bound,
     * a full heap) and go on, in a loop for ever. */
    lua_newtable(L);
    lua_pushcfunction(L, l_header_only);
    lua_setfield(L, -2, "scenario");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "sim");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_header_only);
    lua_setglobal(L, "scenario");
    static const char *const stops[] = {
        "require", "dofile", "loadfile", "load", "print", "collectgarbage", "pcall", "xpcall", NULL,
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
    } else {
        /* The chunk stops at its header ("chansim.header.done") or at
         * something the scan does not provide: either way the header, if
         * any, was read before. */
        lua_pcall(L, 0, 0, 0);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.name");
    if (lua_type(L, -1) == LUA_TSTRING)
        *name = mem_strdup(lua_tostring(L, -1));
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.description");
    if (lua_type(L, -1) == LUA_TSTRING)
        *description = mem_strdup(lua_tostring(L, -1));
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.seed");
    if (lua_isinteger(L, -1)) {
        *seed = (uint64_t)lua_tointeger(L, -1);
        *has_seed = true;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.expect_failure");
    if (expect && lua_type(L, -1) == LUA_TSTRING)
        *expect = mem_strdup(lua_tostring(L, -1));
    /* --set names the header's params do not declare (only when the scan
     * reached the header: a scenario that computes its header first is
     * checked when it runs). */
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.seen");
    bool seen = lua_toboolean(L, -1);
    lua_getfield(L, LUA_REGISTRYINDEX, "chansim.hdr.params");
    int params = lua_gettop(L);
    for (int i = 0; seen && i < nsets && bad && !bad[0]; i++) {
        bool known = false;
        if (lua_istable(L, params)) {
            lua_getfield(L, params, sets[i].name);
            known = !lua_isnil(L, -1);
            lua_pop(L, 1);
        }
        if (known)
            continue;
        size_t at = (size_t)snprintf(bad, badsize, "%s:1: --set %s=%s: the scenario has no parameter \"%s\"",
                                     path, sets[i].name, sets[i].value, sets[i].name);
        if (!lua_istable(L, params)) {
            snprintf(bad + (at < badsize ? at : badsize - 1), at < badsize ? badsize - at : 1,
                     " (it declares no params: scenario{ params = { ... } })");
            continue;
        }
        /* The ones it has, in sorted order. */
        char names[64][64];
        int n = 0;
        lua_pushnil(L);
        while (lua_next(L, params) && n < 64) {
            if (lua_type(L, -2) == LUA_TSTRING)
                snprintf(names[n++], sizeof names[0], "%s", lua_tostring(L, -2));
            lua_pop(L, 1);
        }
        for (int a = 1; a < n; a++)
            for (int b = a; b > 0 && strcmp(names[b], names[b - 1]) < 0; b--) {
                char t[64];
                memcpy(t, names[b], sizeof t);
                memcpy(names[b], names[b - 1], sizeof t);
                memcpy(names[b - 1], t, sizeof t);
            }
        for (int k = 0; k < n && at + 1 < badsize; k++)
            at += (size_t)snprintf(bad + at, badsize - at, "%s%s", k ? ", " : " (it has: ", names[k]);
        if (n && at + 1 < badsize)
            snprintf(bad + at, badsize - at, ")");
    }
    lua_close(L);
    sandbox_heap_free(&bound.heap);
    return ok;
}

bool host_read_header(const char *path, char **name, char **description, char *err, size_t errsize)
{
    uint64_t seed;
    bool has_seed;
    return scenario_scan(path, name, description, &seed, &has_seed, NULL, err, errsize);
}
