/*
 * host_state: the state the host's files share, and nothing else includes.
 *
 * The host is five files, one concept each:
 *
 *   host.c      the run: create, run (sched config, the Lua state, the
 *               verdict), destroy; the observers the CLI attaches; the
 *               facts read after the run
 *   sandbox.c   the sandboxed Lua state: the bounded heap, the safe
 *               library (loaders that stay in the scenario's folder,
 *               print, io.write, deterministic pairs/tostring), the prelude
 *   lgo.c       Lua goroutines: a Lua thread on a core goroutine, its
 *               pcall and Go-style frames, the instruction budget, Lua
 *               coroutines inside goroutines, C goroutines running a Lua body
 *   check.c     what the run is judged by: expectations, invariants after
 *               every step, finally checks, the world checkers' violations,
 *               and the guard that keeps checks from changing the run
 *   scenario.c  the scenario{} header (name, seed, duration, gomaxprocs,
 *               params with --set, leaks, expect_failure) and its scan for
 *               `chansim list`
 *   cache.c     what a series of runs of one scenario shares: folders,
 *               the header's scan, the compiled prelude and scenario
 *
 * host.h is the CLI's view of the host, host_bind.h the bindings'. The
 * host owns everything reachable from struct host: the Lua state, the
 * scheduler, every lgo_t (freed at host_destroy, not when its goroutine
 * ends, so a frames hook may still read it) and every string in it.
 */
#ifndef CHANSIM_HOST_STATE_H
#define CHANSIM_HOST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "host.h"
#include "host_bind.h"
#include "faults.h"
#include "sched.h"

#define HOST_DEFAULT_MEM_LIMIT ((size_t)512 << 20)
#define HOST_DEFAULT_INSTR_BUDGET ((int64_t)100000000)
#define HOST_DEFAULT_MAX_STEPS_PER_INSTANT ((uint64_t)1000000)
#define HOST_DEFAULT_UNTIL (3600 * SIM_SEC)
/* Lua instructions between two calls of a count hook (goroutines, checks). */
#define HOST_HOOK_EVERY 1000

/* A Lua goroutine: a Lua thread running on a core goroutine (lgo.c). */
typedef struct lgo lgo_t;

/* The Lua heap's small blocks (sandbox.c): sizes up to HEAP_SMALL bytes,
 * in classes of 16 bytes, each with its list of freed blocks, carved from
 * slabs freed together when the state is closed. */
#define HEAP_SMALL 512
typedef struct lua_heap {
    void *free[HEAP_SMALL / 16];
    char *next, *end;       /* the rest of the newest slab */
    void *slabs;            /* every slab, linked through its first word */
} lua_heap_t;

struct host {
    host_options_t opt;     /* as given; strings borrowed */
    lua_heap_t heap;        /* where the Lua state's small blocks live */
    host_cache_t *own_cache; /* made for a PCT run and its calibration, or NULL */
    lua_State *L;           /* the main state, idle during the run */
    faults_t faults;        /* --faults: armed when main starts */
    sched_t *s;             /* the scheduler of the run */
    size_t mem, mem_limit;  /* Lua heap in use and its bound */
    bool alloc_refused;     /* the last growth was refused (Lua collects, then asks again) */
    bool oom;               /* refused again after that collection: out of memory for good */
    int64_t instr_budget;
    char *dir;              /* the scenario's folder (realpath) */
    char *libdir;           /* chansim's Lua library folder (realpath) */
    lgo_t *all;             /* every Lua goroutine */
    char *name;             /* scenario{ name } */
    char *description;      /* scenario{ description } */
    bool header_seen;
    bool leaks_fail;        /* scenario{ leaks = "fail" } */
    char *expect_failure;   /* scenario{ expect_failure }, or NULL */
    host_expect_kind_t expect_kind;
    int expect_happened;    /* after host_run: -1 none declared, 0 no, 1 yes */
    int exit_code;          /* sim.exit(code) */
    bool leaks_declared;    /* scenario{ leaks = ... }: main's return waits for the world */
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
    struct { trace_sink_t fn; void *ud; uint64_t kinds; } sinks[6];
    int nsinks;
    struct { host_clock_fn fn; void *ud; } clocks[4]; /* clock observers, in order */
    int nclocks;
    struct { host_step_fn fn; void *ud; } steps[4]; /* step observers, in order */
    int nsteps;
};

/* host.c */
/* The registry key of the host (sandbox.c sets it, host_of reads it). */
extern const char host_registry_key;
/* The scheduler's one step hook: the invariants, then the step observers. */
void host_step_fanout(void *ud);

/* sandbox.c */
/* Lua's allocator, bounded by h->mem_limit (ud is the host). */
void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Free the heap's slabs, after lua_close of the state sandbox_alloc served. */
void sandbox_heap_free(lua_heap_t *heap);
/* Open the safe library and the sim module into L. */
void sandbox_open(host_t *h, lua_State *L);
/* Run the prelude (the Lua half of sim); false: reported on stderr. */
bool sandbox_load_prelude(host_t *h, lua_State *L);

/* lgo.c */
/* A Lua goroutine for the function at fn_idx of L and the nargs values
 * after it (copied onto its new thread); owned by h (h->all). */
lgo_t *lgo_new(host_t *h, lua_State *L, int fn_idx, int nargs, bool is_main);
/* The body of a Lua goroutine's core goroutine (arg: its lgo_t). */
void lgo_entry(void *arg);
/* The host of the Lua goroutine that thread T runs, or NULL when T is not a
 * goroutine's thread (the main state, a coroutine not resumed yet). */
host_t *lgo_host_of_thread(lua_State *T);
/* The scheduler's frames hook: a Lua goroutine's Go-style traceback. */
void lgo_frames_hook(g_t *g, char *buf, size_t size);
/* Free every Lua goroutine record of h. */
void lgo_free_all(host_t *h);
/* Tie coroutine.resume, wrap and close (in the table at co_table) to the
 * goroutine that resumes the coroutine. */
void lgo_wrap_coroutines(lua_State *L, int co_table);

/* check.c */
/* Build the table of functions a check may not call (after the prelude). */
void check_build_guard(lua_State *L);
/* The main state's hook while checks run: the guard and the budget. */
void check_hook(lua_State *L, lua_Debug *ar);
/* Run the invariants not yet failed (after every step). */
void check_invariants(host_t *h);
/* Run the finally checks (after the run). */
void check_finally(host_t *h);
/* The trace sink that turns the world checkers' violations into failed
 * invariants. */
void check_violation_sink(void *ud, const trace_event_t *ev);

/* scenario.c */
/* The header's fields without running the scenario; *seed is set (and
 * *has_seed true) when the header gives an integer seed. *name and
 * *description are the caller's to free (NULL if absent). */
bool scenario_scan(const char *path, char **name, char **description, uint64_t *seed,
                   bool *has_seed, char **expect, char *err, size_t errsize);

/* cache.c */
/* The host's cache if it serves this scenario, else NULL. */
host_cache_t *cache_of(host_t *h);
/* The folders kept by an earlier run (copies, the caller's): false if none. */
bool cache_dirs(host_cache_t *c, char **dir, char **libdir);
void cache_keep_dirs(host_cache_t *c, const char *dir, const char *libdir);
/* scenario_scan's seed and expect_failure (*expect the caller's), kept
 * after the first scan; c may be NULL (no cache). */
bool cache_scan(host_cache_t *c, const char *path, bool *has_seed, uint64_t *seed, char **expect);
/* luaL_loadfilex(L, path, "t") of the prelude or the scenario, from the
 * compiled chunk kept by an earlier run; c may be NULL (no cache). */
int cache_load_prelude(host_cache_t *c, lua_State *L, const char *path);
int cache_load_scenario(host_cache_t *c, lua_State *L, const char *path);

#endif
