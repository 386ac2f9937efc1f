/*
 * sched: the deterministic scheduler, its goroutines and simulated time.
 *
 * One scheduler runs one simulated program on one OS thread. Time is an
 * integer count of nanoseconds that moves only when no goroutine can run:
 * the clock then jumps to the next timer. Every scheduling decision (which
 * runnable goroutine runs next, which ready select case fires, which of
 * several timers due at the same instant fires first) goes through one
 * choice function, sched_decide(), whose policy is fixed per run: FIFO,
 * seeded random, PCT of depth d, or replay of a recorded decision list.
 *
 * Blocking is one primitive: a goroutine parks with a wait reason
 * (sched_park) and something else makes it runnable again (sched_ready).
 * Channels, timers, locks and contexts are all built on that pair.
 *
 * Failures follow Go: go_panic() ends the program with "panic: <msg>" and a
 * goroutine dump, go_fatal() with "fatal error: <msg>"; when every goroutine
 * is blocked and no timer is pending, "fatal error: all goroutines are
 * asleep - deadlock!". These end the simulated program, never the process:
 * sched_run() returns and the report is in sched_report().
 *
 * Ownership: the scheduler owns every goroutine, stack and core object
 * (obj_t) created while it runs and frees them all in sched_destroy(),
 * including those of goroutines still parked when the run stopped.
 *
 * There is one running scheduler per thread at a time (sched_current());
 * the goroutine-side API (go_*, chan_*, ...) acts on it.
 */
#ifndef CHANSIM_SCHED_H
#define CHANSIM_SCHED_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rand.h"
#include "trace.h"

typedef int64_t simtime_t; /* simulated nanoseconds since the run started */

#define SIM_NS ((simtime_t)1)
#define SIM_US ((simtime_t)1000)
#define SIM_MS ((simtime_t)1000000)
#define SIM_SEC ((simtime_t)1000000000)
#define SIMTIME_MAX INT64_MAX /* "never" */

typedef struct sched sched_t;
typedef struct g g_t;

/* Scheduling policies: where each decision comes from. */
typedef enum sched_policy {
    SCHED_FIFO,   /* run queue in order; select cases at random (as Go) */
    SCHED_RANDOM, /* every decision uniformly at random */
    SCHED_PCT,    /* probabilistic concurrency testing, depth pct_depth */
    SCHED_REPLAY, /* decisions read back from a recorded list */
    SCHED_DFS,    /* decisions from an exhaustive search (dfs.h) */
} sched_policy_t;

/* The kinds of decision that pass through sched_decide(). */
typedef enum sched_choice {
    CHOICE_RUNNABLE, /* which runnable goroutine runs next */
    CHOICE_SELECT,   /* which ready select case fires */
    CHOICE_TIMER,    /* which of the timers due at one instant fires next */
} sched_choice_t;

/* Go's wait reasons (runtime2.go, go1.23; WaitGroup as in 1.25). */
typedef enum wait_reason {
    WAIT_NONE,
    WAIT_CHAN_RECV,
    WAIT_CHAN_SEND,
    WAIT_CHAN_RECV_NIL,
    WAIT_CHAN_SEND_NIL,
    WAIT_SELECT,
    WAIT_SELECT_NO_CASES,
    WAIT_SLEEP,
    WAIT_SEMACQUIRE,
    WAIT_COND,
    WAIT_MUTEX,
    WAIT_RWMUTEX_RLOCK,
    WAIT_RWMUTEX_LOCK,
    WAIT_WAITGROUP,
    WAIT_CPU,        /* chansim: waiting for a simulated CPU (sim.work) */
    WAIT_EXTERNAL,   /* chansim: parked by an extension (sim world, Lua) */
    WAIT_WORLD,      /* chansim: main waits for the world (go_wait_world) */
    WAIT_REASON_COUNT
} wait_reason_t;

/* Go's text for a wait reason ("chan receive", "sync.Mutex.Lock", ...). */
const char *wait_reason_string(wait_reason_t r);

typedef enum sched_result {
    SCHED_DONE,     /* main returned (Go: the program exits) or all finished */
    SCHED_IDLE,     /* nothing could run, no timer pending: main returned earlier
                       (main_exit_ends_run off) or after go_wait_world found it so */
    SCHED_UNTIL,    /* the time limit was reached */
    SCHED_EXITED,   /* sched_exit() was called */
    SCHED_PANIC,    /* an unrecovered panic */
    SCHED_FATAL,    /* a fatal error (sync misuse, stack overflow) */
    SCHED_DEADLOCK, /* all goroutines asleep while main was blocked */
} sched_result_t;

const char *sched_result_string(sched_result_t r);

/* An outside strategy (cfg.chooser, with the replay policy): called for
 * every decision among n >= 2 alternatives; returns the choice, or n or
 * more for the replay's default (see SCHED_DECISION_DEFAULT). It may look
 * at the run queue (sched_runq_gid and the two after it). */
typedef uint32_t (*sched_chooser_t)(void *ud, sched_t *s, sched_choice_t kind, uint32_t n);

/* Timer slack: how late each timer fires after its due time, as real
 * sleeps overshoot (Linux's timer slack, Go's timer granularity). Off by
 * default: a timer fires at exactly its time. */
typedef enum slack_kind {
    SLACK_OFF,
    SLACK_CONSTANT, /* always a */
    SLACK_UNIFORM,  /* uniform in [a, b] */
    SLACK_EXP,      /* exponential with mean a */
} slack_kind_t;

typedef struct timer_slack {
    slack_kind_t kind;
    simtime_t a, b;
    simtime_t round; /* > 0: a wait first lasts its duration rounded up to a multiple of this */
} timer_slack_t;

/* Parse "off", "D" (constant), "uniform:D1,D2", "exp:D", "linux" (uniform
 * 1us to 60us: Linux's default 50us slack and Go's timer granularity) or
 * "go-linux" (Go 1.19's sleeps on Linux as measured: the netpoller waits
 * in whole milliseconds, so a wait lasts its duration rounded up to a
 * whole millisecond, plus 100us to 250us), D in Go's duration syntax.
 * False with a message in err on a bad spec. */
bool timer_slack_parse(const char *spec, timer_slack_t *out, char *err, size_t errsize);

typedef struct sched_config {
    uint64_t seed;              /* seeds every random stream */
    sched_policy_t policy;      /* where decisions come from */
    int pct_depth;              /* PCT's d (bug depth), >= 1 */
    int64_t pct_steps;          /* PCT's horizon: the run's choice points (sched_choice_points) */
    size_t stack_size;          /* bytes per goroutine stack; 0: 64 KiB. Below a page
                                   (at least 1 KiB): small stacks packed several to a
                                   page, a canary between them and no guard page, for
                                   goroutines with shallow frames (coro.h; the
                                   descriptors take about 400 bytes of each) */
    bool record;                /* keep the decision list (sched_decisions) */
    const uint32_t *replay;     /* decisions to replay (SCHED_REPLAY); borrowed for the run */
    size_t replay_len;          /* number of entries in replay */
    bool replay_strict;         /* stop the run where it leaves the list (sched_replay_divergence) */
    bool main_exit_ends_run;    /* Go: the program ends when main returns */
    simtime_t until;            /* stop at this simulated time; 0: no limit */
    bool sync_points;           /* every synchronising operation is a decision (sched_point) */
    bool race;                  /* run the race detector (race.h) */
    timer_slack_t slack;        /* timers fire late by a drawn amount (off: exactly) */
    uint64_t max_steps_per_instant; /* goroutine steps allowed while the clock stays at one
                                       instant before the run stops as a livelock (a fatal
                                       error naming the goroutines that ran); 0: no bound */
    const char *max_steps_name; /* how the livelock message names that bound (a flag), or NULL */
    sched_chooser_t chooser;    /* decides instead of the policy (NULL: the policy) */
    void *chooser_ud;
    struct dfs *dfs;            /* SCHED_DFS: the search the decisions come from; borrowed */
} sched_config_t;

/* A config with Go's defaults: FIFO, seed 1, the program ends with main. */
sched_config_t sched_config_default(void);

/* Create a scheduler. Caller owns; free with sched_destroy. */
sched_t *sched_create(const sched_config_t *cfg);
/* Free the scheduler and everything it owns. Not while it runs. */
void sched_destroy(sched_t *s);

/* Run main_fn(arg) as goroutine 1 ("main.main" unless renamed) until the
 * program ends; returns why. May be called again to continue after
 * SCHED_UNTIL with a later limit (sched_set_until). */
sched_result_t sched_run(sched_t *s, void (*main_fn)(void *), void *arg);
/* Continue a run stopped by its time limit. */
sched_result_t sched_resume(sched_t *s);
void sched_set_until(sched_t *s, simtime_t until);

/* The Go-style report of a failed run (panic, fatal error, deadlock, with
 * the goroutine dump), or "" if none. Borrowed until sched_destroy. */
const char *sched_report(const sched_t *s);
/* The panic or fatal message alone ("send on closed channel"), or "". */
const char *sched_failure_message(const sched_t *s);
/* After a deadlock, what Go does not print, to print after its report:
 * what each goroutine waits on, by name, and who holds it (a Mutex or
 * RWMutex: the goroutine that locked it), then each wait-for cycle
 * through held locks ("wait-for cycle: goroutine 2 (left) waits on mutex
 * b held by goroutine 3 (right) waits on mutex a held by goroutine 2
 * (left)"); "" otherwise. Borrowed until sched_destroy. */
const char *sched_deadlock_waits(const sched_t *s);

/* The scheduler running on this thread, or NULL outside sched_run. */
sched_t *sched_current(void);
simtime_t sched_now_of(const sched_t *s);
uint64_t sched_seed(const sched_t *s);
sched_policy_t sched_policy(const sched_t *s);

/* Counters of the run. */
uint64_t sched_goroutines_spawned(const sched_t *s);
uint64_t sched_goroutines_alive(const sched_t *s);
uint64_t sched_steps(const sched_t *s);   /* goroutine resumptions */

/* The decisions taken (when cfg.record), for replay. Borrowed until the
 * next decision or sched_destroy. Only decisions among two or more
 * alternatives are listed. */
const uint32_t *sched_decisions(const sched_t *s, size_t *len);
/* In a replayed decision list: take the default choice here (the
 * goroutine at a decision point goes on; the run queue's head otherwise;
 * a select case from the seed's stream), as when the list has run out,
 * but without counting as a divergence. Shrinking uses it. */
#define SCHED_DECISION_DEFAULT UINT32_MAX
/* For a run-queue decision a chooser may look at the queue: */
/* The goroutine at place i of the run queue (0 past its end). */
uint64_t sched_runq_gid(const sched_t *s, uint32_t i);
/* The goroutine at the decision point being decided (it is in the queue
 * too), 0 when the decision is not at a point (a goroutine parked or
 * ended). */
uint64_t sched_point_gid(const sched_t *s);
/* The goroutine running, or that ran last. */
uint64_t sched_last_gid(const sched_t *s);
/* True if a replay ran out of, or contradicted, its decision list. */
bool sched_replay_diverged(const sched_t *s);
/* Where a replay first left its list: the entry's index, its value
 * (UINT32_MAX when the list had run out) and the choices the run offered
 * there. False if it did not. */
bool sched_replay_divergence(const sched_t *s, size_t *index, uint32_t *value, uint32_t *offered);

/* The one choice function: a number in [0, n) for a decision of the given
 * kind, from the run's policy. n must be >= 1. */
uint32_t sched_decide(sched_t *s, sched_choice_t kind, uint32_t n);

/* ---- decision points ----------------------------------------------------
 * With cfg.sync_points (the exploring policies: random, PCT, replay), every
 * synchronising operation of a goroutine is a scheduling decision whether
 * or not it blocks: just before it takes effect, the running goroutine goes
 * back to the run queue and sched_decide picks who runs next among all
 * runnable goroutines, itself included (a preemption when it is not
 * picked: "go.yield" with a = 1 in the trace). Channel operations, select,
 * Mutex/RWMutex, WaitGroup, Once, Cond, semaphores, context cancel and
 * Err, shared variables and atomics call sched_point(); goroutine start is
 * one already (go_spawn queues the new goroutine). Without sync_points
 * (FIFO) a point is one inline test and changes nothing. */
extern bool sched_points_on; /* internal: cfg.sync_points of the running scheduler */
void sched_point_slow(void);
static inline void sched_point(void)
{
    if (__builtin_expect(sched_points_on, 0))
        sched_point_slow();
}
/* The same for an operation on what keys name: the exhaustive search
 * (dfs.h) does not reorder two steps that touch nothing in common. A key
 * is an obj_t id; SCHED_KEY_NONE: nothing shared (a preemption between
 * two Lua statements); sched_point() is SCHED_KEY_ANY (depends on
 * everything). sched_point_named: a variable known by its name (a shared
 * variable, an atomic), the same key in every run. */
#define SCHED_KEY_NONE ((uint64_t)0)
#define SCHED_KEY_ANY UINT64_MAX
void sched_point_keys_slow(const uint64_t *keys, int n);
void sched_point_named_slow(const char *name);
static inline void sched_point_on(uint64_t key)
{
    if (__builtin_expect(sched_points_on, 0))
        sched_point_keys_slow(&key, 1);
}
static inline void sched_point_keys(const uint64_t *keys, int n)
{
    if (__builtin_expect(sched_points_on, 0))
        sched_point_keys_slow(keys, n);
}
static inline void sched_point_named(const char *name)
{
    if (__builtin_expect(sched_points_on, 0))
        sched_point_named_slow(name);
}
/* Suspend decision points while a composite operation has a waiter
 * registered that must not be woken before it parks (Cond.Wait's unlock,
 * a context's cancel); nests. Internal to core. */
void sched_points_hold(void);
void sched_points_release(void);
/* Decision points reached so far. */
uint64_t sched_points(const sched_t *s);
/* Those of them at which another goroutine could run (others runnable or
 * a timer due): PCT's steps, and a run's length for its horizon. */
uint64_t sched_choice_points(const sched_t *s);
/* The run's race detector, or NULL without cfg.race. */
struct race *sched_race(const sched_t *s);

/* The run's random streams, split by purpose so that the schedule policy
 * does not change what the workload draws. */
rand_t *sched_rand(sched_t *s, rand_stream_t which);

/* Stop the run at the end of the current step (a scenario's sim.exit). */
void sched_exit(sched_t *s);

/* ---- goroutines ------------------------------------------------------- */

/* Start fn(arg) as a new goroutine of the running scheduler, named name
 * (copied; NULL gives "goroutine"). Returns its handle, valid while the
 * goroutine lives. */
g_t *go_spawn(void (*fn)(void *), void *arg, const char *name);
/* go_spawn on a stack of stack_size bytes instead of the run's
 * (sched_config_t.stack_size; 0: the run's). Below a page, a small stack
 * (at least 1 KiB, in steps of 256 bytes): several share a page, with a
 * zero canary between neighbours instead of a guard page, and about 400
 * bytes of it hold the goroutine's descriptors. For goroutines whose
 * frames stay shallow (a 2 KiB stack leaves about 1.6 KiB: enough for a
 * loop over channel operations, sleeps and selects of a few cases, not
 * for stdio or a trace sink writing from the goroutine's step, nor for
 * the Lua host's goroutines). An overflow that reaches the canary is
 * reported as "fatal error: stack overflow" at the goroutine's next
 * switch. At most 4 sizes besides the run's per run. */
g_t *go_spawn_stack(void (*fn)(void *), void *arg, const char *name, size_t stack_size);
/* The running goroutine (NULL on the scheduler's own stack). */
g_t *go_self(void);
uint64_t go_id(const g_t *g);
const char *go_name(const g_t *g);
const char *go_role(const g_t *g);
/* Set the role shown by the trace and the view ("worker", "stage", ...);
 * copied. */
void go_set_role(g_t *g, const char *role);
void go_set_name(g_t *g, const char *name);
/* Per-goroutine pointer for extensions (the Lua host keeps its thread). */
void *go_userdata(const g_t *g);
void go_set_userdata(g_t *g, void *ud);

/* runtime.Gosched: let other runnable goroutines run first. Also the
 * explicit preemption point for programs that want one. */
void go_yield(void);
/* runtime.Goexit: end the running goroutine. Does not return. */
void go_exit(void);
/* Main hands the run to the world: the running goroutine parks until no
 * goroutine can run and no timer is pending (returns true: the world is
 * idle; goroutines still blocked then are blocked for good), or until the
 * next event would come after deadline (absolute; SIMTIME_MAX: none), the
 * clock then moved to deadline (returns false). The run's time limit ends
 * the run while it waits. One waiter at a time. When main returns after
 * the world was found idle, and nothing was woken or started since, with
 * goroutines still alive, the run's result is SCHED_IDLE. */
bool go_wait_world(simtime_t deadline);
/* The current simulated time. */
simtime_t sched_now(void);

/* panic(msg): ends the program with "panic: <msg>" unless the goroutine
 * has a panic hook that recovers (the Lua host turns it into an error).
 * Does not return to its caller. */
void go_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* throw(msg): "fatal error: <msg>", never recoverable. Does not return. */
void go_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A hook run by go_panic on the panicking goroutine before the program
 * fails. It may unwind the goroutine's own stack (longjmp within it, as
 * lua_error does) to recover; if it returns, the panic proceeds. */
typedef void (*go_panic_hook_t)(g_t *g, const char *msg);
void go_set_panic_hook(g_t *g, go_panic_hook_t hook);
/* The goroutine's panic hook, or NULL (to chain to it from another). */
go_panic_hook_t go_panic_hook(const g_t *g);

/* Frames for the goroutine dump: writes the goroutine's frames (lines
 * such as "main.worker()\n\tscenario.lua:12") into buf. Without a hook
 * the dump prints "<name>()". */
typedef void (*go_frames_hook_t)(g_t *g, char *buf, size_t size);
void sched_set_frames_hook(sched_t *s, go_frames_hook_t hook);
/* The frames hook's text for g ("" without a hook); returns its length. */
size_t sched_frames(sched_t *s, g_t *g, char *buf, size_t size);

/* ---- groups: goroutines that fail and pause together ------------------- */

/* A group is a simulated process (a node of a cluster): a goroutine belongs
 * to its creator's group unless moved. Freezing a group (a paused process,
 * SIGSTOP or a long GC pause) holds its goroutines when they become
 * runnable; their timers and messages wait; thawing runs them again in the
 * order they became runnable. Killing a group (a crash) ends every
 * goroutine in it at once: none runs again, wakes are ignored, and they no
 * longer count as alive or appear in dumps. Owned by the scheduler. */
typedef struct ggroup ggroup_t;
ggroup_t *ggroup_new(const char *name);
ggroup_t *go_group(const g_t *g);
void go_set_group(g_t *g, ggroup_t *grp);
void ggroup_freeze(ggroup_t *grp);
void ggroup_thaw(ggroup_t *grp);
bool ggroup_frozen(const ggroup_t *grp);
/* Kill every goroutine of the group; returns how many. The running
 * goroutine may be among them: it runs on until it blocks. */
size_t ggroup_kill(ggroup_t *grp);
/* Kills so far (a new incarnation after each). */
uint64_t ggroup_generation(const ggroup_t *grp);
uint64_t ggroup_alive(const ggroup_t *grp);
const char *ggroup_name(const ggroup_t *grp);

/* ---- the wait primitive ------------------------------------------------ */

/* Park the running goroutine with a wait reason; returns when another
 * goroutine or a timer calls sched_ready on it. obj names what it waits on
 * (an obj_t id, 0 if none) for the trace and the view. */
void sched_park(wait_reason_t reason, uint64_t obj);
/* The same, for a park a timer ends at wake_at (a sleep): views show the
 * time left (go_wake_at); nothing else differs. */
void sched_park_until(wait_reason_t reason, uint64_t obj, simtime_t wake_at);
/* Make a parked goroutine runnable. */
void sched_ready(g_t *g);
/* The reason a goroutine is parked (WAIT_NONE if it is not). */
wait_reason_t go_wait_reason(const g_t *g);

/* ---- objects the scheduler owns --------------------------------------- */

/* Every core object starts with this header; the scheduler frees the
 * objects still alive at sched_destroy, newest first. */
typedef struct obj {
    struct obj *prev, *next;   /* the scheduler's list of live objects */
    void (*deinit)(struct obj *o); /* releases what the object holds, or NULL */
    uint64_t id;               /* unique in the run, in creation order */
    const char *name;          /* interned; NULL if unnamed */
    trace_obj_kind_t kind;     /* what the object is */
} obj_t;

/* Allocate a zeroed object of size bytes owned by the running scheduler. */
void *obj_alloc(size_t size, trace_obj_kind_t kind, void (*deinit)(obj_t *));
/* Free an object before the run ends. NULL is ignored. */
void obj_free(void *o);
/* Give an object a name (copied) for the trace and the view. */
void obj_set_name(void *o, const char *name);
uint64_t obj_id(const void *o);

/* Visit the live objects in creation order. */
void sched_each_object(sched_t *s, void (*fn)(void *ud, obj_t *o), void *ud);

/* Intern a string for the life of the scheduler. */
const char *sched_intern(sched_t *s, const char *str);

/* ---- the trace --------------------------------------------------------- */

/* Record an event at the current time on behalf of the running goroutine.
 * detail is borrowed for the call. */
void sched_emit(trace_kind_t kind, uint64_t obj, int64_t a, int64_t b, const char *detail);
/* The same with detail's digest computed once by the caller
 * (trace_hash_detail(detail), for a detail emitted again and again: an
 * entity's field, a metric's series): the same event, the same hash. */
void sched_emit_digest(trace_kind_t kind, uint64_t obj, int64_t a, int64_t b, const char *detail,
                       uint64_t detail_digest);
/* Hash of every event so far. */
uint64_t sched_trace_hash(const sched_t *s);
uint64_t sched_trace_events(const sched_t *s);
/* Receive every event as it happens. At most 8 sinks; -1 when full. */
typedef void (*trace_sink_t)(void *ud, const trace_event_t *ev);
int sched_add_sink(sched_t *s, trace_sink_t sink, void *ud);
/* The same for the events whose kind k has bit (1 << k) set in kinds: an
 * event no sink wants costs only its fold into the trace hash. */
int sched_add_sink_kinds(sched_t *s, trace_sink_t sink, void *ud, uint64_t kinds);

/* Visit goroutines alive, in creation order (for dumps, views, leaks). */
void sched_each_goroutine(sched_t *s, void (*fn)(void *ud, g_t *g), void *ud);
/* The time at which g last parked. */
simtime_t go_blocked_since(const g_t *g);
/* When a timed park (a sleep) ends, -1 if g is not in one. */
simtime_t go_wake_at(const g_t *g);
uint64_t go_created_by(const g_t *g);
/* The goroutine dump (Go's format) of every live goroutine, current first.
 * Returns bytes written (truncated to size). */
size_t sched_dump(sched_t *s, char *buf, size_t size);

/* ---- hooks for hosts and views (observation only) --------------------- */

/* Called on the scheduler's stack after every goroutine step (invariant
 * checks). It must not block or change simulation state it does not own. */
void sched_set_step_hook(sched_t *s, void (*fn)(void *ud), void *ud);
/* Called just before the clock jumps from `from` to `to` (samplers,
 * snapshots). Observation only: it must not change simulation state. */
void sched_set_clock_hook(sched_t *s, void (*fn)(void *ud, simtime_t from, simtime_t to), void *ud);
/* Reseed every random stream (a scenario's header may set its seed before
 * anything has been drawn). */
void sched_reseed(sched_t *s, uint64_t seed);
/* Set the timer slack model (before the timers it should affect are set). */
void sched_set_timer_slack(sched_t *s, timer_slack_t slack);
/* How late a wait of d > 0 ends under the slack model (0 when off): a
 * draw from its own random stream, after rounding d up if the model
 * rounds. */
simtime_t sched_timer_slack(sched_t *s, simtime_t d);
simtime_t sched_until(const sched_t *s);
bool sched_main_exited(const sched_t *s);

/* Internal to core: the scheduler's two root contexts (context.Background
 * and context.TODO), NULL until ctx.c creates them on first use. The slots
 * only point at scheduler-owned objects; the scheduler frees nothing
 * through them. */
struct ctx;
struct ctx **sched_ctx_roots(sched_t *s);

#endif
