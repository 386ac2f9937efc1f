/*
 * host: the Lua scenario host.
 *
 * A scenario is a plain Lua 5.4 file. The host loads it into a sandboxed
 * state (no os.execute, io.popen, file writes, debug library, binary
 * chunks, or modules from outside the scenario's folder and chansim's own
 * library), then runs its top-level chunk as the main goroutine on core's
 * scheduler. Every Lua goroutine runs its own Lua thread on its own
 * coroutine stack and calls its function under lua_pcall there, so an
 * error's longjmp never leaves that stack; blocking calls are ordinary C
 * calls that park the goroutine.
 *
 * The main Lua state is idle while the scheduler runs; the host uses it
 * only between steps (invariants, samplers) and after the run (finally
 * checks). Lua code gets a bounded instruction budget between simulated
 * events and a bounded heap.
 *
 * This header is the host as the command line (scripts/cli/) and the
 * output writers (scripts/out/) see it: options, create/run/destroy, the
 * observers attached before the run and the facts read after it. The
 * bindings see the host through host_bind.h; the host's own files share
 * host_state.h, which maps them.
 *
 * Ownership: host_create returns a host the caller frees with
 * host_destroy, which closes the Lua state and then the scheduler.
 */
#ifndef CHANSIM_HOST_H
#define CHANSIM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sched.h"

/* Exit statuses of `chansim run`. */
enum {
    EXIT_OK = 0,       /* every expectation held */
    EXIT_EXPECT = 1,   /* an expectation failed */
    EXIT_PROGRAM = 2,  /* the simulated program failed: deadlock, panic, leak */
    EXIT_USAGE = 3,    /* a scenario that does not load, or a usage error */
    EXIT_OUTPUT = 4,   /* an output could not be written whole (a file, standard output) */
    EXIT_RACE = 66,    /* --race found a data race and nothing else failed (Go's status) */
};

typedef struct host_param_override {
    const char *name;  /* borrowed from argv */
    const char *value; /* borrowed from argv */
    bool used;         /* matched a declared parameter */
} host_param_override_t;

/* What a series of runs of one scenario in one process share (cache.c). */
typedef struct host_cache host_cache_t;

typedef struct host_options {
    const char *path;          /* the scenario file */
    uint64_t seed;             /* --seed */
    bool seed_given;
    sched_policy_t policy;     /* --strategy */
    int pct_depth;
    int64_t pct_steps;         /* --pct-steps: PCT's horizon in decision points;
                                  0: learned by a calibration run (host_pct_calibrate) */
    simtime_t until;           /* --until; 0: the scenario's duration */
    bool quiet;                /* --quiet: no program output, summary only */
    host_param_override_t *sets; /* --set name=value */
    int nsets;
    size_t mem_limit;          /* bytes of Lua heap; 0: default */
    int64_t instr_budget;      /* Lua instructions between events; 0: default */
    uint64_t max_steps_per_instant; /* goroutine steps with the clock unmoved before the run
                                       stops as a livelock; 0: default */
    size_t stack_size;         /* usable bytes of each goroutine's stack; 0: 256 KiB (the
                                  fuzz target gives more, so that Lua's own C-call limit
                                  rather than the guard page stops a deep recursion) */
    bool record;               /* keep the decision list */
    const uint32_t *replay;    /* decisions to replay */
    size_t replay_len;
    bool replay_strict;        /* stop where the run leaves the list (--schedule) */
    FILE *out;                 /* program output and summary (stdout) */
    bool race;                 /* --race: the race detector (core/race.h) */
    const char *slack_spec;    /* --timer-slack SPEC (borrowed), or NULL */
    timer_slack_t slack;       /* its model */
    int preempt;               /* --preempt N: a decision point every N Lua instructions
                                  (Go's asynchronous preemption; 0: none) */
    bool expect_optional;      /* explore: a scenario's expected failure that does not
                                  happen is no failure of the run */
    sched_chooser_t chooser;   /* decides instead of the policy (shrink), NULL: none */
    void *chooser_ud;
    struct dfs *dfs;           /* SCHED_DFS: the exhaustive search (core/dfs.h); borrowed */
    const char *faults_path;   /* --faults FILE: faults injected by node name (sim/world/faults.h) */
    host_cache_t *cache;       /* shared by a series of runs of this scenario (explore's
                                  workers); borrowed; NULL: none */
} host_options_t;

/* The failure a scenario declares it exists to show (scenario{
 * expect_failure = ... }). */
typedef enum host_expect_kind {
    HOST_EXPECT_NONE,
    HOST_EXPECT_DEADLOCK, /* "deadlock" */
    HOST_EXPECT_LEAK,     /* "leak": goroutines blocked forever after main returned */
    HOST_EXPECT_RACE,     /* "race": a report of the race detector (turned on by it) */
    HOST_EXPECT_PANIC,    /* "panic: PREFIX" */
    HOST_EXPECT_FATAL,    /* "fatal error: PREFIX" */
    HOST_EXPECT_CHECK,    /* "invariant: NAME": a failed check whose message starts so */
} host_expect_kind_t;

/* The kind of an expect_failure value (HOST_EXPECT_NONE: not one). */
host_expect_kind_t host_expect_parse(const char *v);

typedef struct host_expect {
    bool ok;          /* held */
    char *msg;        /* what was expected */
    char *where;      /* file:line of the check */
    simtime_t t;      /* when it was checked (first failure for invariants) */
    int kind;         /* 0 expect, 1 invariant, 2 finally */
    int repeats;      /* further failures with the same message */
} host_expect_t;

typedef struct host host_t;

/* Create a host for one run. Nothing is loaded yet. */
host_t *host_create(const host_options_t *opt);
void host_destroy(host_t *h);

/* A cache for a series of runs of one scenario in this process: its
 * folders, its header's scan and the compiled chunks of the prelude and
 * the scenario, filled by the first run that uses it and reused by the
 * next (each still in a fresh Lua state and scheduler, with the same
 * trace). The caller frees it after the last run. */
host_cache_t *host_cache_new(void);
void host_cache_free(host_cache_t *c);

/* Load and run the scenario. Returns the exit status; a load error (syntax,
 * missing file) prints "file:line: message" to stderr and returns
 * EXIT_USAGE. */
int host_run(host_t *h);

/* PCT's horizon for a run of opt: the decision points of a calibration run
 * (the same scenario, seed and options under PCT without change points),
 * made silently (no output, stderr muted). At least 1. */
int64_t host_pct_calibrate(const host_options_t *opt);
/* The faults the run was given (--faults FILE, or the view's), or NULL. */
const char *host_faults_path(const host_t *h);

/* Only read the scenario header (for `chansim list`): the values of
 * scenario{ name=..., description=... } or NULL. Returns false and fills
 * err on a load error. The strings are owned by the caller (free). */
bool host_read_header(const char *path, char **name, char **description, char *err, size_t errsize);

/* After host_run: the scenario's expect_failure (NULL if none) and whether
 * it happened (-1 none declared, 0 no, 1 yes). When one is declared, the
 * run passes (EXIT_OK) when exactly that failure happened; the checks it
 * names are demonstrations, every other check still guards the run. */
const char *host_expected_failure(const host_t *h);
int host_expected_happened(const host_t *h);
/* Check the --set names against the params the scenario's header
 * declares, without running it: false and "file:1: --set ...: the
 * scenario has no parameter ..." in err for the first unknown one. A
 * scenario whose header the scan does not reach passes (its run checks). */
bool host_check_sets(const host_options_t *opt, char *err, size_t errsize);

/* After host_run: facts for the summary and the outputs. */
sched_t *host_sched(host_t *h);
const char *host_scenario_name(const host_t *h);
sched_result_t host_result(const host_t *h);
size_t host_expectations(const host_t *h, const host_expect_t **list);
uint64_t host_leaked(const host_t *h);
/* PCT's horizon the run used (--pct-steps or calibrated); 0 under other
 * policies. */
int64_t host_pct_steps(const host_t *h);
/* Data races reported (--race), and the first one in one line ("" if none). */
uint64_t host_races(const host_t *h);
const char *host_first_race(const host_t *h);
double host_wall_seconds(const host_t *h);

/* Register an observer of trace events that the CLI's outputs attach before
 * the run starts. Returns false if there is no room. */
bool host_add_sink(host_t *h, trace_sink_t sink, void *ud);
/* The same for the kinds in the mask only (bit 1 << EV_...): the others
 * never reach it. */
bool host_add_sink_kinds(host_t *h, trace_sink_t sink, void *ud, uint64_t kinds);
/* Register an observer of the simulated clock, called just before each jump
 * from `from` to `to` (as sched_set_clock_hook: observation only, it must
 * not change the run), attached before the run like the sinks. Several
 * observers share the scheduler's one clock hook, in the order added.
 * Returns false if there is no room. */
typedef void (*host_clock_fn)(void *ud, simtime_t from, simtime_t to);
bool host_add_clock_observer(host_t *h, host_clock_fn fn, void *ud);
/* Register an observer called after every goroutine step (after the
 * invariants), on the scheduler's stack; observation only, like the clock
 * observers (the view runs its loop there while paused). Returns false if
 * there is no room. */
typedef void (*host_step_fn)(void *ud);
bool host_add_step_observer(host_t *h, host_step_fn fn, void *ud);

/* One frame of a Lua goroutine's stack, for profiles (scripts/out/pprof.c). */
typedef struct host_frame {
    char func[96];  /* its name, "main.main" (the scenario's chunk) or
                       "func@file:N" (an anonymous function, where it is defined) */
    char file[160]; /* the chunk's short source ("scenarios/x.lua") */
    int line;       /* the line running now */
} host_frame_t;
/* The Lua frames of goroutine g, innermost first, C functions left out;
 * at most max. Returns how many: 0 for a goroutine that runs no Lua (a
 * pattern's C goroutine). g is the running goroutine or a parked one. */
int host_goroutine_frames(g_t *g, host_frame_t *out, int max);
/* Whether g runs Lua code (host_goroutine_frames has frames to give). */
bool host_goroutine_is_lua(g_t *g);

#endif
