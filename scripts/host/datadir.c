/* datadir: where chansim's own files are (see datadir.h). */
#include "datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CHANSIM_SOURCE_DIR
#define CHANSIM_SOURCE_DIR "."
#endif
#ifndef CHANSIM_LUA_DIR
#define CHANSIM_LUA_DIR "scripts/lua"
#endif
/* share/chansim relative to bin/ (set by CMake from the install layout). */
#ifndef CHANSIM_DATADIR_FROM_BIN
#define CHANSIM_DATADIR_FROM_BIN "../share/chansim"
#endif

static bool resolved;
static char datadir[PATH_MAX];
static char luadir[PATH_MAX + 8];

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void resolve(void)
{
    if (resolved)
        return;
    resolved = true;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char cand[PATH_MAX * 2], probe[PATH_MAX * 2 + 32];
            snprintf(cand, sizeof cand, "%s/%s", exe, CHANSIM_DATADIR_FROM_BIN);
            snprintf(probe, sizeof probe, "%s/lua/prelude.lua", cand);
            if (is_file(probe) && realpath(cand, datadir)) {
                snprintf(luadir, sizeof luadir, "%s/lua", datadir);
                return;
            }
        }
    }
    snprintf(datadir, sizeof datadir, "%s", CHANSIM_SOURCE_DIR);
    snprintf(luadir, sizeof luadir, "%s", CHANSIM_LUA_DIR);
}

const char *chansim_datadir(void)
{
    resolve();
    return datadir;
}

const char *chansim_lua_dir(void)
{
    resolve();
    return luadir;
}

void chansim_find_scenario(const char *arg, char *buf, size_t size)
{
    snprintf(buf, size, "%s", arg);
    if (is_file(arg) || strchr(arg, '/') || !*arg)
        return;
    size_t len = strlen(arg);
    const char *ext = len > 4 && strcmp(arg + len - 4, ".lua") == 0 ? "" : ".lua";
    const char *dirs[] = {".", "scenarios", NULL};
    char data_scen[PATH_MAX + 16];
    snprintf(data_scen, sizeof data_scen, "%s/scenarios", chansim_datadir());
    dirs[2] = data_scen;
    for (int i = 0; i < 3; i++) {
        char cand[PATH_MAX * 2];
        snprintf(cand, sizeof cand, "%s/%s%s", dirs[i], arg, ext);
        if (is_file(cand)) {
            snprintf(buf, size, "%s", cand);
            return;
        }
    }
}
