/*
 * datadir: where chansim's own files are (its Lua library, its scenarios).
 *
 * An installed chansim finds them under share/chansim next to its bin/
 * folder (PREFIX/bin/chansim, PREFIX/share/chansim), wherever the prefix is
 * (`cmake --install --prefix P`, a .deb, an unpacked copy); a chansim run
 * from its build tree finds the source tree it was built from.
 */
#ifndef CHANSIM_DATADIR_H
#define CHANSIM_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

/* The folder holding scenarios/ (and, once installed, lua/ and docs/):
 * PREFIX/share/chansim of an installed chansim, else the source tree.
 * Resolved once; borrowed for the life of the process. */
const char *chansim_datadir(void);
/* The folder of chansim's Lua library (prelude.lua). */
const char *chansim_lua_dir(void);
/* The scenario a command line names: the path itself if it is a file, else
 * NAME.lua in the current folder, then NAME or NAME.lua in ./scenarios,
 * then in the data folder's scenarios/ (`chansim run hello`). Writes the path to use into buf (the argument
 * unchanged when nothing matches, so that the error names it). */
void chansim_find_scenario(const char *arg, char *buf, size_t size);

#endif
