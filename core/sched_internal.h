/*
 * sched_internal: the scheduler's private structures, shared by the files
 * that implement it (sched.c, sched_state.c, sched_fail.c, ggroup.c) and by
 * nothing else. Code outside those files uses sched.h.
 *
 * Invariants:
 * - exactly one goroutine is RUNNING while the loop has transferred to it;
 *   the loop itself runs on the thread's own stack, and a goroutine whose
 *   step ends may take the loop's next step itself and switch straight to
 *   the next goroutine (switch_out), with the same decisions and events;
 * - a goroutine is in the run queue if and only if it is RUNNABLE;
 * - the live goroutines form one list in creation order (the dump's and the
 *   view's order), never an order taken from addresses;
 * - a goroutine's descriptor lives at the top of its own stack, so a parked
 *   goroutine costs one touched page plus nothing else.
 */
#ifndef CHANSIM_SCHED_INTERNAL_H
#define CHANSIM_SCHED_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>

#include "coro.h"
#include "invariant.h"
#include "mem.h"
#include "sched.h"
#include "timer.h"
#include "timerq.h"

/* The keys a step may remember (sched_point_keys), and those of a whole
 * step between two decisions (more: SCHED_KEY_ANY). */
/* PCT's priority levels, highest first: a goroutine's starting priority
 * (PCT_PRIO_START plus a 30-bit draw); the change points' (1 .. d-1);
 * main's exit (sched.c, main_return_point). A yield demotes the goroutine
 * just below every runnable one (go_yield), so a yield before any change
 * point lands between the starting priorities and the change points'. */
#define PCT_PRIO_START ((int64_t)1 << 40)
#define PCT_PRIO_EXIT (INT64_MIN / 2)

#define SCHED_PEND_KEYS 4
/* Stack sizes a run may ask go_spawn_stack for besides its default. */
#define SCHED_STACK_SIZES 4
#define SCHED_STEP_KEYS 24
/* A goroutine's key in a step's footprint (it ran in that step). */
#define SCHED_KEY_G(id) (((uint64_t)1 << 62) | (id))

typedef enum g_state { G_RUNNABLE, G_RUNNING, G_WAITING, G_DEAD, G_KILLED } g_state_t;

/* A group of goroutines that fail and pause together: a simulated
 * process (a node of a cluster). */
struct ggroup {
    obj_t hdr;            /* scheduler-owned; hdr.name is the group's name */
    bool frozen;          /* paused: its goroutines do not run */
    g_t **held;           /* runnable members held while frozen, in order */
    size_t nheld, capheld;
    uint64_t generation;  /* bumped by every kill */
    uint64_t killed;      /* goroutines ended by kills */
};

struct g {
    coro_t ctx;                 /* saved context while not running */
    coro_stack_t *stack;        /* the stack this descriptor sits on */
    uint64_t id;                /* 1 for main, then in spawn order */
    g_state_t state;            /* see g_state_t */
    wait_reason_t reason;       /* why it is parked (WAITING only) */
    uint64_t wait_obj;          /* what it is parked on, for the trace */
    simtime_t blocked_since;    /* when it last parked */
    simtime_t wake_at;          /* parked until then (a sleep), -1 if not timed */
    const char *name;           /* interned */
    const char *role;           /* interned, or NULL */
    uint64_t created_by;        /* creator's id, 0 for main */
    const char *creator_name;   /* interned name of the creator */
    void (*fn)(void *);         /* entry point */
    void *arg;                  /* its argument */
    g_t *prev, *next;           /* the live list, creation order */
    void *ud;                   /* extension data (the Lua host's) */
    go_panic_hook_t panic_hook; /* see go_set_panic_hook */
    int64_t pct_prio;           /* PCT priority: higher runs first */
    uint64_t pend[SCHED_PEND_KEYS]; /* SCHED_DFS: keys of the operation it stopped at */
    int npend;
    bool panicked;              /* stopped by its own panic or fatal error */
    bool killed;                /* its group was killed: it never runs again */
    ggroup_t *group;            /* its process, or NULL */
    simtime_t instant_at;       /* the instant of its last step */
    uint64_t instant_steps;     /* its steps at that instant (the livelock report) */
};

typedef struct intern_entry {
    const char *str;
    uint64_t hash;
} intern_entry_t;

struct sched {
    sched_config_t cfg;         /* as given, replay list borrowed */
    coro_t ctx;                 /* the loop's own context */
    coro_pool_t *pool;          /* goroutine stacks */
    coro_pool_t *xpool[SCHED_STACK_SIZES]; /* those of go_spawn_stack's other sizes */
    size_t xpool_size[SCHED_STACK_SIZES];  /* the sizes asked for, 0: unused */
    timerq_t *timers;           /* pending timers */
    simtime_t now;              /* the simulated clock */
    rand_t rng[RAND_STREAM_COUNT];

    g_t **runq;                 /* ring of RUNNABLE goroutines */
    size_t runq_head, runq_len, runq_cap;
    unsigned long long runq_walks; /* invariant_sparse's counter for runq_check */

    g_t *running;               /* RUNNING goroutine or NULL */
    g_t *all_head, *all_tail;   /* live goroutines, creation order */
    g_t *killed_head;           /* goroutines of killed groups, not yet gone */
    g_t *main_g;                /* goroutine 1 while it lives */
    g_t *last_g;                /* last goroutine resumed (sched_last_gid) */
    bool main_exited;           /* main returned or called Goexit */
    bool main_goexit;           /* main called Goexit */
    g_t *world_waiter;          /* parked in go_wait_world, or NULL */
    simtime_t world_deadline;   /* its deadline (SIMTIME_MAX: none) */
    bool world_timed_out;       /* its wait ended at the deadline */
    bool world_idle;            /* the world was found idle and nothing woke since */
    uint64_t next_gid;
    uint64_t spawned, alive, steps;
    uint64_t instant_first_step; /* steps when the clock last moved (livelock bound) */
    uint64_t points;            /* decision points reached (sched_point) */
    uint64_t choice_points;     /* those where another goroutine could run (PCT's steps) */
    struct race *race;          /* the race detector, or NULL (cfg.race) */
    g_t *at_point;              /* the goroutine whose decision point ended the step */
    int points_held;            /* sched_points_hold nesting */
    uint64_t fp[SCHED_STEP_KEYS]; /* SCHED_DFS: what the steps since the last
                                     decision touched (keys), and who ran */
    int nfp;

    bool stop;                  /* end the loop before the next step */
    sched_result_t result;      /* why the run ended */
    char *report;               /* Go-style failure report ("" if none) */
    char *failure;              /* panic or fatal message alone */
    char *waits;                /* a deadlock's waits and wait-for cycles (NULL if none) */

    uint32_t *decisions;        /* recorded decision list */
    size_t ndecisions, capdecisions;
    size_t replay_pos;
    bool replay_diverged;
    size_t replay_div_at;       /* the first divergence: its index in the list, */
    uint32_t replay_div_value;  /* the value there (UINT32_MAX: the list had run out) */
    uint32_t replay_div_offered; /* and the choices the run offered */
    struct pct_change { int64_t at; int64_t prio; } *pct_changes;
                                /* PCT's change points, ascending by `at` (a
                                   count of decision points); prio is the
                                   priority the running goroutine drops to */
    int pct_nchanges, pct_next;
    bool main_exiting;          /* main returned, at its exit's decision point */

    obj_t objs;                 /* sentinel of the live object list */
    uint64_t next_obj;

    intern_entry_t *intern;     /* open addressing, lookup only */
    size_t intern_cap, intern_len;
    const char *intern_last;    /* the string last interned: spawns repeat names */
    const char *name_dd_str;    /* an interned name and its trace digest, */
    uint64_t name_dd;           /* cached for spawn events */
    coro_stack_t *zombie;       /* stack of a goroutine that ended with a direct
                                   switch, pooled by whoever runs next (reap) */

    uint64_t hash, nevents;
    struct { trace_sink_t fn; void *ud; uint64_t kinds; } sinks[8];
    int nsinks;
    uint64_t sink_kinds;   /* the union of the sinks' kinds */
    go_frames_hook_t frames_hook;
    struct ctx *ctx_roots[2];   /* context.Background and TODO, lazily made by ctx.c */
    void (*step_hook)(void *ud);             /* after every goroutine step */
    void *step_ud;
    void (*clock_hook)(void *ud, simtime_t from, simtime_t to); /* before the clock jumps */
    void *clock_ud;
};

/* The scheduler running on this thread (sched_current), or NULL. */
extern sched_t *sched_cur;

/* Hand an event to the sinks (out of line: most runs have none). */
void sched_emit_sinks(sched_t *s, uint64_t seq, trace_kind_t kind, uint64_t gid, uint64_t obj,
                      int64_t a, int64_t b, const char *detail) __attribute__((noinline));

/* Record an event whose detail's digest is known (trace_hash_detail).
 * Inline: every channel operation and switch emits. */
static inline __attribute__((always_inline)) void emit_dd(sched_t *s, trace_kind_t kind,
                                                          uint64_t gid, uint64_t obj, int64_t a,
                                                          int64_t b, const char *detail,
                                                          uint64_t detail_dd)
{
    uint64_t seq = s->nevents++;
    s->hash = trace_hash_fold(s->hash, trace_hash_digest(s->now, kind, gid, obj, a, b), detail_dd);
    if ((s->sink_kinds >> kind) & 1)
        sched_emit_sinks(s, seq, kind, gid, obj, a, b, detail);
}

static inline __attribute__((always_inline)) void emit(sched_t *s, trace_kind_t kind,
                                                       uint64_t gid, uint64_t obj, int64_t a,
                                                       int64_t b, const char *detail)
{
    emit_dd(s, kind, gid, obj, a, b, detail, detail ? trace_hash_detail(detail) : 0);
}

/* Stop the run as a livelock: cfg.max_steps_per_instant steps with the
 * clock unmoved (sched_fail.c). */
void sched_livelock(sched_t *s);
/* Add key to the footprint of the steps since the last decision. */
static inline void sched_fp_add(sched_t *s, uint64_t key)
{
    if (key == SCHED_KEY_NONE)
        return;
    if (s->nfp > 0 && s->fp[0] == SCHED_KEY_ANY)
        return;
    for (int i = 0; i < s->nfp; i++)
        if (s->fp[i] == key)
            return;
    if (key == SCHED_KEY_ANY || s->nfp == SCHED_STEP_KEYS) {
        s->fp[0] = SCHED_KEY_ANY;
        s->nfp = 1;
        return;
    }
    s->fp[s->nfp++] = key;
}

/* Double the run queue's ring (sched.c). */
void sched_runq_grow(sched_t *s);

static inline void runq_push(sched_t *s, g_t *g)
{
    ASSERT(g->state == G_RUNNABLE);
    if (s->runq_len == s->runq_cap)
        sched_runq_grow(s);
    s->runq[(s->runq_head + s->runq_len) & (s->runq_cap - 1)] = g;
    s->runq_len++;
}

static inline void unlink_g(sched_t *s, g_t *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        s->all_head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        s->all_tail = g->prev;
    g->prev = g->next = NULL;
}

static inline sched_t *need_running(const char *what)
{
    sched_t *s = sched_cur;
    ASSERTF(s && s->running, "%s called outside a goroutine", what);
    return s;
}

/* End the run with a failure report: header and msg, then the goroutine
 * dump (sched_fail.c). */
void sched_set_failure(sched_t *s, sched_result_t r, const char *header, const char *msg);
/* Report a goroutine's stack overflow and end the process (sched_fail.c). */
void sched_stack_overflow(g_t *g) __attribute__((noreturn, cold));

#endif
