/*
 * cache: what a series of runs of one scenario in one process share.
 *
 * explore's workers make thousands of runs of the same scenario, each in a
 * fresh host (a fresh Lua state and scheduler). What does not change from
 * one run to the next is kept here instead of being redone: the folders
 * (realpath), the header's scan (a Lua state of its own that compiles the
 * scenario), and the compiled chunks of the prelude and of the scenario,
 * kept as Lua's binary dump and loaded from memory (undumping is a small
 * part of compiling, and reads no file). A run loaded from the cache runs
 * the same bytecode, with the same debug information (the dump is not
 * stripped: error messages and tracebacks name the same file:line), as a
 * run that compiles its files. The prelude is not compiled even once: its
 * chunk is built into chansim (prelude_dump.c) and used when the file is
 * still the text it was built from.
 *
 * The cache belongs to the caller (host_cache_new/host_cache_free), who
 * passes it in host_options_t.cache to every run of the series; it serves
 * the first scenario path it is used with and is ignored for any other.
 */
#include "host_state.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "mem.h"

typedef struct chunk {
    char *bytes; /* lua_dump of the compiled chunk, NULL: not cached */
    size_t len, cap;
} chunk_t;

struct host_cache {
    char *path;           /* the scenario it serves (as given) */
    char *dir, *libdir;   /* the folders (realpath), once resolved */
    bool scanned;         /* the header's scan is below */
    bool scan_ok;
    bool has_seed;
    uint64_t seed;
    char *expect;         /* the header's expect_failure, or NULL */
    chunk_t prelude, scenario;
};

host_cache_t *host_cache_new(void) { return mem_calloc(1, sizeof(host_cache_t)); }

void host_cache_free(host_cache_t *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->dir);
    free(c->libdir);
    free(c->expect);
    free(c->prelude.bytes);
    free(c->scenario.bytes);
    free(c);
}

host_cache_t *cache_of(host_t *h)
{
    host_cache_t *c = h->opt.cache;
    if (!c || !h->opt.path)
        return NULL;
    if (!c->path)
        c->path = mem_strdup(h->opt.path);
    return strcmp(c->path, h->opt.path) == 0 ? c : NULL;
}

bool cache_dirs(host_cache_t *c, char **dir, char **libdir)
{
    if (!c || !c->dir)
        return false;
    *dir = mem_strdup(c->dir);
    *libdir = c->libdir ? mem_strdup(c->libdir) : NULL;
    return true;
}

void cache_keep_dirs(host_cache_t *c, const char *dir, const char *libdir)
{
    if (!c || c->dir)
        return;
    c->dir = mem_strdup(dir);
    c->libdir = libdir ? mem_strdup(libdir) : NULL;
}

bool cache_scan(host_cache_t *c, const char *path, bool *has_seed, uint64_t *seed, char **expect)
{
    if (c && c->scanned) {
        *has_seed = c->has_seed;
        *seed = c->seed;
        *expect = c->expect ? mem_strdup(c->expect) : NULL;
        return c->scan_ok;
    }
    char *nm, *desc, err[512];
    bool ok = scenario_scan(path, &nm, &desc, seed, has_seed, expect, err, sizeof err);
    free(nm);
    free(desc);
    if (c) {
        c->scanned = true;
        c->scan_ok = ok;
        c->has_seed = *has_seed;
        c->seed = *seed;
        c->expect = *expect ? mem_strdup(*expect) : NULL;
    }
    return ok;
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    chunk_t *k = ud;
    if (k->len + sz > k->cap) {
        k->cap = (k->len + sz) * 2;
        k->bytes = mem_realloc(k->bytes, k->cap);
    }
    memcpy(k->bytes + k->len, p, sz);
    k->len += sz;
    return 0;
}

/* Load the text chunk of path onto L (as luaL_loadfilex in text mode),
 * from slot k when it holds it, else from the file, kept in k for the
 * next run. */
static int load_chunk(lua_State *L, chunk_t *k, const char *path)
{
    if (k && k->bytes)
        return luaL_loadbufferx(L, k->bytes, k->len, path, "b");
    int rc = luaL_loadfilex(L, path, "t");
    if (rc == LUA_OK && k) {
        k->len = 0;
        if (lua_dump(L, dump_writer, k, 0) != 0 || !k->len) {
            free(k->bytes);
            k->bytes = NULL;
            k->len = k->cap = 0;
        }
    }
    return rc;
}

/* The prelude as compiled when chansim was built (prelude_dump.c): its
 * text, its chunk named "@=", and where that name is in the chunk. */
extern const unsigned char chansim_prelude_text[], chansim_prelude_chunk[];
extern const size_t chansim_prelude_text_len, chansim_prelude_chunk_len, chansim_prelude_name_at;

/* The built-in chunk of the prelude, named "@path" as luaL_loadfilex names
 * it, into k; false (k untouched) if the file at path is not the text it
 * was compiled from (edited since the build, or unreadable). */
static bool builtin_prelude(chunk_t *k, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = chansim_prelude_text_len;
    char *text = mem_malloc(n + 1);
    size_t got = fread(text, 1, n + 1, f);
    fclose(f);
    bool same = got == n && memcmp(text, chansim_prelude_text, n) == 0;
    free(text);
    if (!same)
        return false;
    /* The name as lua_dump writes it: its length plus one in 7-bit groups,
     * most significant first, the last marked by the high bit; then
     * the bytes. */
    size_t plen = strlen(path), size = plen + 2; /* "@" path, plus one */
    unsigned char len[16];
    int nl = 0;
    for (size_t x = size; nl == 0 || x; x >>= 7)
        len[nl++] = (unsigned char)(x & 0x7f);
    len[0] |= 0x80;
    size_t at = chansim_prelude_name_at, rest = at + 3; /* 0x83 "@=" */
    k->cap = k->len = at + (size_t)nl + 1 + plen + (chansim_prelude_chunk_len - rest);
    k->bytes = mem_malloc(k->cap);
    unsigned char *o = (unsigned char *)k->bytes;
    memcpy(o, chansim_prelude_chunk, at);
    o += at;
    for (int i = nl - 1; i >= 0; i--)
        *o++ = len[i];
    *o++ = '@';
    memcpy(o, path, plen);
    o += plen;
    memcpy(o, chansim_prelude_chunk + rest, chansim_prelude_chunk_len - rest);
    return true;
}

int cache_load_prelude(host_cache_t *c, lua_State *L, const char *path)
{
    chunk_t own = {0}, *k = c ? &c->prelude : &own;
    if (!k->bytes && !builtin_prelude(k, path))
        return load_chunk(L, c ? k : NULL, path);
    int rc = luaL_loadbufferx(L, k->bytes, k->len, path, "b");
    free(own.bytes);
    return rc;
}

int cache_load_scenario(host_cache_t *c, lua_State *L, const char *path)
{
    return load_chunk(L, c ? &c->scenario : NULL, path);
}
