/*
 * sandbox: the Lua state a scenario runs in, and what it may reach.
 *
 * A scenario sees Lua's base, table, string, math, utf8 and coroutine
 * libraries, the `sim` module (with scenario{} also a global), and safe
 * replacements for the rest: load, dofile, loadfile and require read text
 * chunks only, and only from the scenario's folder or chansim's library
 * (realpath, so no ../ or symlink leaves them); print and io.write write
 * the program's output; os and io keep only what cannot break a run
 * (everything else raises an error that says why); debug keeps only
 * traceback; package has no loaders that reach the file system.
 *
 * Invariants: nothing a scenario can call reads the wall clock, the
 * environment or an address, so a run is a function of the scenario, its
 * seed and its options: pairs() visits keys in a fixed order (Lua's own
 * order follows string hashes seeded per process) and tostring() numbers
 * tables in the order first printed. The heap is bounded (--mem-limit):
 * past the bound the allocator fails and Lua raises "not enough memory".
 *
 * Ownership: the state belongs to the host (host.c creates and closes it);
 * the registry holds the host (at &host_registry_key) and Lua's own load
 * ("chansim.load").
 */
#include "host_state.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "datadir.h"
#include "lsim.h"

/* ---- memory ------------------------------------------------------------ */

/* The Lua heap. Lua tells the size of every block it frees or resizes, so
 * a small block needs no header: it is taken from the list of freed blocks
 * of its class (16-byte steps up to HEAP_SMALL), else carved from a slab,
 * and freed onto that list; larger blocks are malloc's. A state makes and
 * frees tens of thousands of small objects a run (strings, tables,
 * closures): a list push and pop instead of malloc and free, and a closed
 * state's small blocks go with a few slab frees. Addresses are no input of
 * a run (the sandbox hides them, and they differ from process to process
 * anyway), so the heap changes no trace. Under AddressSanitizer every block
 * is malloc's, so that the sanitizer still sees each one. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ARENA 0
#endif
#endif
#ifndef HEAP_ARENA
#define HEAP_ARENA 1
#endif
#define HEAP_SLAB ((size_t)64 << 10)

static void *heap_get(lua_heap_t *hp, size_t n)
{
    if (!HEAP_ARENA || n > HEAP_SMALL)
        return malloc(n);
    size_t c = (n - 1) >> 4, sz = (c + 1) << 4;
    void *p = hp->free[c];
    if (p) {
        hp->free[c] = *(void **)p;
        return p;
    }
    if ((size_t)(hp->end - hp->next) < sz) {
        char *slab = malloc(HEAP_SLAB);
        if (!slab)
            return NULL;
        *(void **)slab = hp->slabs;
        hp->slabs = slab;
        hp->next = slab + 16;
        hp->end = slab + HEAP_SLAB;
    }
    p = hp->next;
    hp->next += sz;
    return p;
}

static void heap_put(lua_heap_t *hp, void *p, size_t n)
{
    if (!HEAP_ARENA || n > HEAP_SMALL) {
        free(p);
        return;
    }
    size_t c = (n - 1) >> 4;
    *(void **)p = hp->free[c];
    hp->free[c] = p;
}

void sandbox_heap_free(lua_heap_t *hp)
{
    while (hp->slabs) {
        void *next = *(void **)hp->slabs;
        free(hp->slabs);
        hp->slabs = next;
    }
    memset(hp, 0, sizeof *hp);
}

/* Resize block p of old bytes (0: none) to n > 0 bytes. */
static void *heap_resize(lua_heap_t *hp, void *p, size_t old, size_t n)
{
    if (!p)
        return heap_get(hp, n);
    if (!HEAP_ARENA || (old > HEAP_SMALL && n > HEAP_SMALL))
        return realloc(p, n);
    if (old <= HEAP_SMALL && n <= HEAP_SMALL && (old - 1) >> 4 == (n - 1) >> 4)
        return p; /* the same class */
    void *q = heap_get(hp, n);
    if (!q)
        return NULL;
    memcpy(q, p, old < n ? old : n);
    heap_put(hp, p, old);
    return q;
}

void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    host_t *h = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        if (ptr)
            heap_put(&h->heap, ptr, osize);
        h->mem -= old;
        return NULL;
    }
    if (nsize > old) {
        /* Out of memory for good, the error unwinds with a reserve of a
         * sixteenth of the bound: refusing every allocation on the way
         * would cost a full collection each. */
        size_t bound = h->oom ? h->mem_limit + h->mem_limit / 16 : h->mem_limit;
        if (h->mem - old + nsize > bound) {
            /* Lua answers a refusal with a full collection and asks once
             * more (nothing grows in between): a second refusal in a row
             * is the heap full of live data. */
            if (h->alloc_refused)
                h->oom = true;
            h->alloc_refused = true;
            return NULL; /* Lua raises "not enough memory" */
        }
        h->alloc_refused = false;
    }
    void *p = heap_resize(&h->heap, ptr, old, nsize);
    if (!p)
        return NULL;
    h->mem = h->mem - old + nsize;
    return p;
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

/* setmetatable without finalizers. Lua runs a __gc where its collector
 * happens to step, on whichever goroutine allocated, with debug hooks off:
 * no instruction budget could stop a finalizer that loops, a finalizer
 * that blocks would stop the collector for every goroutine, and one still
 * pending at the end would run after the simulated runtime is gone. So a
 * scenario has none: a metatable with a __gc field (of any value: Lua
 * marks the object at this call, whatever the field holds later) is
 * refused here, and the metatables of the sim module's objects cannot be
 * given one (lsim_createmeta hands out read-only views of them). */
static int l_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc finalizers are not available in a scenario: Lua "
                                 "would run them at points of its collector's choosing, outside the "
                                 "instruction budget (release resources explicitly, or with a "
                                 "<close> variable)");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* pcall and xpcall: Lua's own (upvalue 1), then the out-of-memory check;
 * with a continuation, so that a coroutine may still yield inside. They
 * let runtime.Goexit through: Go's recover returns nil during a Goexit and
 * the goroutine goes on ending, so its error is raised again once the
 * protected call has unwound (closing its to-be-closed variables). */
static int pcall_done(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    host_oom_check(L);
    if (lua_gettop(L) >= 2 && lua_isboolean(L, 1) && !lua_toboolean(L, 1) && lsim_is_goexit(L, 2)) {
        lua_settop(L, 2);
        return lua_error(L);
    }
    return lua_gettop(L);
}

static int l_pcall(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, pcall_done);
    return pcall_done(L, LUA_OK, 0);
}

static int l_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    lsim_tolstring(L, 1, NULL);
    return 1;
}

/* string.format with no address: Lua's %s of a table, function, thread or
 * userdata (luaL_tolstring) and its %p (lua_topointer) would print one.
 * The arguments of %s go through tostring's numbering first, and %p
 * prints that number ("#12"); everything else is Lua's own format (upvalue
 * 1). Lua's str_format reads the format the same way: '%', flags, width,
 * precision, then the conversion. */
static int l_format(lua_State *L)
{
    size_t flen;
    const char *fmt = luaL_checklstring(L, 1, &flen);
    int top = lua_gettop(L), arg = 1;
    /* the format with each %p made a %s: the same length */
    char *nf = lua_newuserdatauv(L, flen + 1, 0);
    memcpy(nf, fmt, flen + 1);
    bool changed = false;
    for (size_t i = 0; i < flen; i++) {
        if (nf[i] != '%')
            continue;
        if (i + 1 < flen && nf[i + 1] == '%') {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < flen && nf[j] && strchr("-+ #0123456789.", nf[j]))
            j++;
        if (j >= flen)
            break; /* Lua's own format reports it */
        i = j;
        arg++;
        char conv = nf[j];
        if ((conv != 's' && conv != 'p') || arg > top)
            continue;
        int t = lua_type(L, arg);
        bool obj = t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TTHREAD ||
                   t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA;
        if (conv == 's' && obj) {
            lsim_tolstring(L, arg, NULL);
            lua_replace(L, arg);
        } else if (conv == 'p') {
            if (obj) {
                lua_pushfstring(L, "#%I", lsim_object_number(L, arg));
            } else {
                lua_pushliteral(L, "(null)"); /* Lua's %p of a value with no address */
            }
            lua_replace(L, arg);
            nf[j] = 's';
            changed = true;
        }
    }
    if (changed) {
        lua_pushlstring(L, nf, flen);
        lua_replace(L, 1);
    }
    lua_pop(L, 1); /* nf */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, top, 1);
    return 1;
}

static void open_string(lua_State *L, int G)
{
    lua_getfield(L, G, "string");
    lua_getfield(L, -1, "format");
    lua_pushcclosure(L, l_format, 1);
    lua_setfield(L, -2, "format");
    lua_pop(L, 1);
}

/* The base library's loaders, print, pairs and tostring replaced (Lua's
 * load kept in the registry for l_load); package without loaders. */
static void open_base(lua_State *L, int G)
{
    lua_getfield(L, G, "load");
    lua_setfield(L, LUA_REGISTRYINDEX, "chansim.load");
    static const luaL_Reg base[] = {
        {"load", l_load},   {"dofile", l_dofile}, {"loadfile", l_loadfile},
        {"require", l_require}, {"print", l_print}, {"pairs", l_pairs},
        {"tostring", l_tostring}, {NULL, NULL},
    };
    for (const luaL_Reg *r = base; r->func; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, G, r->name);
    }
    lua_getfield(L, G, "setmetatable");
    lua_pushcclosure(L, l_setmetatable, 1);
    lua_setfield(L, G, "setmetatable");
    lua_getfield(L, G, "pcall");
    lua_pushcclosure(L, l_pcall, 1);
    lua_setfield(L, G, "pcall");
    lua_getfield(L, G, "xpcall");
    lua_pushcclosure(L, l_pcall, 1);
    lua_setfield(L, G, "xpcall");
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
}

/* os and io: only what keeps a run deterministic and inside the sandbox. */
static void open_os_io(lua_State *L, int G)
{
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
}

/* debug: only traceback; anything else says why it is missing. */
static void open_debug(lua_State *L, int G)
{
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
}

void sandbox_open(host_t *h, lua_State *L)
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
    lua_rawsetp(L, LUA_REGISTRYINDEX, &host_registry_key);
    lua_pushglobaltable(L);
    int G = lua_gettop(L);
    open_base(L, G);
    open_string(L, G);
    open_os_io(L, G);
    open_debug(L, G);
    /* coroutines: tied to the goroutine that resumes them */
    lua_getfield(L, G, "coroutine");
    lgo_wrap_coroutines(L, lua_gettop(L));
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
bool sandbox_load_prelude(host_t *h, lua_State *L)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/prelude.lua", h->libdir ? h->libdir : chansim_lua_dir());
    if (cache_load_prelude(cache_of(h), L, path) != LUA_OK) {
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
