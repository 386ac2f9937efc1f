/*
 * sched: goroutines, the run loop, the choice function, the wait primitive,
 * failures and the goroutine dump. See sched.h for the model.
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
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro.h"
#include "timer.h"

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
    bool panicked;              /* stopped by its own panic or fatal error */
    bool killed;                /* its group was killed: it never runs again */
    ggroup_t *group;            /* its process, or NULL */
};

typedef struct intern_entry {
    const char *str;
    uint64_t hash;
} intern_entry_t;

struct sched {
    sched_config_t cfg;         /* as given, replay list borrowed */
    coro_t ctx;                 /* the loop's own context */
    coro_pool_t *pool;          /* goroutine stacks */
    timerq_t *timers;           /* pending timers */
    simtime_t now;              /* the simulated clock */
    rand_t rng[RAND_STREAM_COUNT];

    g_t **runq;                 /* ring of RUNNABLE goroutines */
    size_t runq_head, runq_len, runq_cap;

    g_t *running;               /* RUNNING goroutine or NULL */
    g_t *all_head, *all_tail;   /* live goroutines, creation order */
    g_t *killed_head;           /* goroutines of killed groups, not yet gone */
    g_t *main_g;                /* goroutine 1 while it lives */
    g_t *last_g;                /* last goroutine resumed (PCT) */
    bool main_exited;           /* main returned or called Goexit */
    bool main_goexit;           /* main called Goexit */
    uint64_t next_gid;
    uint64_t spawned, alive, steps;

    bool stop;                  /* end the loop before the next step */
    sched_result_t result;      /* why the run ended */
    char *report;               /* Go-style failure report ("" if none) */
    char *failure;              /* panic or fatal message alone */

    uint32_t *decisions;        /* recorded decision list */
    size_t ndecisions, capdecisions;
    size_t replay_pos;
    bool replay_diverged;
    int64_t *pct_changes;       /* PCT change points, ascending */
    int pct_nchanges, pct_next;

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
    struct { trace_sink_t fn; void *ud; } sinks[8];
    int nsinks;
    go_frames_hook_t frames_hook;
    struct ctx *ctx_roots[2];   /* context.Background and TODO, lazily made by ctx.c */
    void (*step_hook)(void *ud);             /* after every goroutine step */
    void *step_ud;
    void (*clock_hook)(void *ud, simtime_t from, simtime_t to); /* before the clock jumps */
    void *clock_ud;
};

static sched_t *cur; /* the scheduler running on this thread */

static const char *const reason_text[WAIT_REASON_COUNT] = {
    [WAIT_NONE] = "",
    [WAIT_CHAN_RECV] = "chan receive",
    [WAIT_CHAN_SEND] = "chan send",
    [WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
    [WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
    [WAIT_SELECT] = "select",
    [WAIT_SELECT_NO_CASES] = "select (no cases)",
    [WAIT_SLEEP] = "sleep",
    [WAIT_SEMACQUIRE] = "semacquire",
    [WAIT_COND] = "sync.Cond.Wait",
    [WAIT_MUTEX] = "sync.Mutex.Lock",
    [WAIT_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
    [WAIT_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
    [WAIT_WAITGROUP] = "sync.WaitGroup.Wait",
    [WAIT_CPU] = "runnable",
    [WAIT_EXTERNAL] = "wait",
};

const char *wait_reason_string(wait_reason_t r)
{
    return (unsigned)r < WAIT_REASON_COUNT ? reason_text[r] : "?";
}

const char *sched_result_string(sched_result_t r)
{
    switch (r) {
    case SCHED_DONE: return "done";
    case SCHED_IDLE: return "idle";
    case SCHED_UNTIL: return "time limit";
    case SCHED_EXITED: return "exit";
    case SCHED_PANIC: return "panic";
    case SCHED_FATAL: return "fatal error";
    case SCHED_DEADLOCK: return "deadlock";
    }
    return "?";
}

static void die_oom(void)
{
    fputs("chansim: out of memory\n", stderr);
    abort();
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p && n)
        die_oom();
    return p;
}

static void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n, m);
    if (!p)
        die_oom();
    return p;
}

sched_config_t sched_config_default(void)
{
    sched_config_t c;
    memset(&c, 0, sizeof c);
    c.seed = 1;
    c.policy = SCHED_FIFO;
    c.pct_depth = 3;
    c.pct_steps = 10000;
    c.main_exit_ends_run = true;
    return c;
}

static uint64_t overflow_who(void *addr)
{
    (void)addr;
    return cur && cur->running ? cur->running->id : 0;
}

sched_t *sched_create(const sched_config_t *cfg)
{
    sched_t *s = xcalloc(1, sizeof *s);
    s->cfg = cfg ? *cfg : sched_config_default();
    if (s->cfg.pct_depth < 1)
        s->cfg.pct_depth = 1;
    if (s->cfg.pct_steps < 1)
        s->cfg.pct_steps = 1;
    s->pool = coro_pool_create(s->cfg.stack_size ? s->cfg.stack_size : 64 * 1024);
    s->timers = timerq_create();
    for (int i = 0; i < RAND_STREAM_COUNT; i++)
        rand_seed(&s->rng[i], s->cfg.seed, (uint64_t)i + 1);
    s->objs.prev = s->objs.next = &s->objs;
    s->next_gid = 1;
    s->next_obj = 1;
    s->hash = TRACE_HASH_INIT;
    s->report = xcalloc(1, 1);
    s->failure = xcalloc(1, 1);
    if (s->cfg.policy == SCHED_PCT && s->cfg.pct_depth > 1) {
        s->pct_nchanges = s->cfg.pct_depth - 1;
        s->pct_changes = xcalloc((size_t)s->pct_nchanges, sizeof *s->pct_changes);
        for (int i = 0; i < s->pct_nchanges; i++)
            s->pct_changes[i] = rand_range(&s->rng[RAND_SCHED], 1, s->cfg.pct_steps);
        /* insertion sort: a handful of entries */
        for (int i = 1; i < s->pct_nchanges; i++)
            for (int j = i; j > 0 && s->pct_changes[j - 1] > s->pct_changes[j]; j--) {
                int64_t t = s->pct_changes[j];
                s->pct_changes[j] = s->pct_changes[j - 1];
                s->pct_changes[j - 1] = t;
            }
    }
    coro_install_overflow_handler(overflow_who);
    return s;
}

void sched_destroy(sched_t *s)
{
    if (!s)
        return;
    if (cur == s)
        cur = NULL;
    /* Goroutines still parked: drop their stacks; their frames are never
     * resumed. The descriptor is read before its stack goes back. */
    for (int list = 0; list < 2; list++) {
        g_t *g = list == 0 ? s->all_head : s->killed_head;
        while (g) {
            g_t *next = g->next;
            coro_stack_put(s->pool, g->stack);
            g = next;
        }
    }
    /* Objects, newest first. */
    obj_t *o = s->objs.prev;
    while (o != &s->objs) {
        obj_t *prev = o->prev;
        if (o->deinit)
            o->deinit(o);
        free(o);
        o = prev;
    }
    timerq_destroy(s->timers);
    coro_pool_destroy(s->pool);
    for (size_t i = 0; i < s->intern_cap; i++)
        free((void *)s->intern[i].str);
    free(s->intern);
    free(s->runq);
    free(s->decisions);
    free(s->pct_changes);
    free(s->report);
    free(s->failure);
    free(s);
}

sched_t *sched_current(void) { return cur; }
simtime_t sched_now_of(const sched_t *s) { return s->now; }
uint64_t sched_seed(const sched_t *s) { return s->cfg.seed; }
sched_policy_t sched_policy(const sched_t *s) { return s->cfg.policy; }
uint64_t sched_goroutines_spawned(const sched_t *s) { return s->spawned; }
uint64_t sched_goroutines_alive(const sched_t *s) { return s->alive; }
uint64_t sched_steps(const sched_t *s) { return s->steps; }
const char *sched_report(const sched_t *s) { return s->report; }
const char *sched_failure_message(const sched_t *s) { return s->failure; }
bool sched_replay_diverged(const sched_t *s) { return s->replay_diverged; }
rand_t *sched_rand(sched_t *s, rand_stream_t which) { return &s->rng[which]; }
struct timerq *sched_timerq(sched_t *s) { return s->timers; }
struct ctx **sched_ctx_roots(sched_t *s) { return s->ctx_roots; }
void sched_set_until(sched_t *s, simtime_t until) { s->cfg.until = until; }
void sched_exit(sched_t *s) { s->stop = true; s->result = SCHED_EXITED; }
void sched_set_frames_hook(sched_t *s, go_frames_hook_t hook) { s->frames_hook = hook; }

simtime_t sched_now(void)
{
    return cur ? cur->now : 0;
}

const uint32_t *sched_decisions(const sched_t *s, size_t *len)
{
    *len = s->ndecisions;
    return s->decisions;
}

/* ---- strings ----------------------------------------------------------- */

static uint64_t str_hash(const char *p)
{
    uint64_t h = TRACE_HASH_INIT;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

const char *sched_intern(sched_t *s, const char *str)
{
    if (!str)
        return NULL;
    if (s->intern_last && strcmp(s->intern_last, str) == 0)
        return s->intern_last;
    if (s->intern_len * 2 >= s->intern_cap) {
        size_t ncap = s->intern_cap ? s->intern_cap * 2 : 64;
        intern_entry_t *n = xcalloc(ncap, sizeof *n);
        for (size_t i = 0; i < s->intern_cap; i++) {
            if (!s->intern[i].str)
                continue;
            size_t j = s->intern[i].hash & (ncap - 1);
            while (n[j].str)
                j = (j + 1) & (ncap - 1);
            n[j] = s->intern[i];
        }
        free(s->intern);
        s->intern = n;
        s->intern_cap = ncap;
    }
    uint64_t h = str_hash(str);
    size_t j = h & (s->intern_cap - 1);
    while (s->intern[j].str) {
        if (s->intern[j].hash == h && strcmp(s->intern[j].str, str) == 0)
            return s->intern_last = s->intern[j].str;
        j = (j + 1) & (s->intern_cap - 1);
    }
    char *copy = strdup(str);
    if (!copy)
        die_oom();
    s->intern[j].str = copy;
    s->intern[j].hash = h;
    s->intern_len++;
    s->intern_last = copy;
    return copy;
}

/* ---- objects ----------------------------------------------------------- */

void *obj_alloc(size_t size, trace_obj_kind_t kind, void (*deinit)(obj_t *))
{
    sched_t *s = cur;
    if (!s) {
        fputs("chansim: core object created outside a running scheduler\n", stderr);
        abort();
    }
    obj_t *o = xcalloc(1, size);
    o->id = s->next_obj++;
    o->kind = kind;
    o->deinit = deinit;
    o->prev = s->objs.prev;
    o->next = &s->objs;
    s->objs.prev->next = o;
    s->objs.prev = o;
    return o;
}

void obj_free(void *p)
{
    obj_t *o = p;
    if (!o)
        return;
    o->prev->next = o->next;
    o->next->prev = o->prev;
    if (o->deinit)
        o->deinit(o);
    free(o);
}

void obj_set_name(void *p, const char *name)
{
    obj_t *o = p;
    o->name = cur ? sched_intern(cur, name) : NULL;
}

uint64_t obj_id(const void *p)
{
    return p ? ((const obj_t *)p)->id : 0;
}

/* ---- trace ------------------------------------------------------------- */

/* Hand an event to the sinks (out of line: most runs have none). */
static __attribute__((noinline)) void emit_sinks(sched_t *s, uint64_t seq, trace_kind_t kind,
                                                 uint64_t gid, uint64_t obj, int64_t a,
                                                 int64_t b, const char *detail)
{
    trace_event_t ev = {
        .t = s->now, .seq = seq, .kind = kind, .g = gid,
        .obj = obj, .a = a, .b = b, .detail = detail,
    };
    for (int i = 0; i < s->nsinks; i++)
        s->sinks[i].fn(s->sinks[i].ud, &ev);
}

/* Record an event whose detail's digest is known (trace_hash_detail).
 * Inline: every channel operation and switch emits. */
static inline __attribute__((always_inline)) void emit_dd(sched_t *s, trace_kind_t kind,
                                                          uint64_t gid, uint64_t obj, int64_t a,
                                                          int64_t b, const char *detail,
                                                          uint64_t detail_dd)
{
    uint64_t seq = s->nevents++;
    s->hash = trace_hash_fold(s->hash, trace_hash_digest(s->now, kind, gid, obj, a, b), detail_dd);
    if (s->nsinks)
        emit_sinks(s, seq, kind, gid, obj, a, b, detail);
}

static inline __attribute__((always_inline)) void emit(sched_t *s, trace_kind_t kind,
                                                       uint64_t gid, uint64_t obj, int64_t a,
                                                       int64_t b, const char *detail)
{
    emit_dd(s, kind, gid, obj, a, b, detail, detail ? trace_hash_detail(detail) : 0);
}

/* The trace digest of an interned name; the last one is cached (interned
 * strings never change, so the pointer identifies the text). */
static uint64_t name_digest(sched_t *s, const char *interned)
{
    if (interned != s->name_dd_str) {
        s->name_dd_str = interned;
        s->name_dd = trace_hash_detail(interned);
    }
    return s->name_dd;
}

void sched_emit(trace_kind_t kind, uint64_t obj, int64_t a, int64_t b, const char *detail)
{
    sched_t *s = cur;
    if (!s)
        return;
    emit(s, kind, s->running ? s->running->id : 0, obj, a, b, detail);
}

uint64_t sched_trace_hash(const sched_t *s) { return s->hash; }
uint64_t sched_trace_events(const sched_t *s) { return s->nevents; }

int sched_add_sink(sched_t *s, trace_sink_t sink, void *ud)
{
    if (s->nsinks == (int)(sizeof s->sinks / sizeof s->sinks[0]))
        return -1;
    s->sinks[s->nsinks].fn = sink;
    s->sinks[s->nsinks].ud = ud;
    return s->nsinks++;
}

/* ---- the choice function ---------------------------------------------- */

static void record(sched_t *s, uint32_t v)
{
    if (s->ndecisions == s->capdecisions) {
        s->capdecisions = s->capdecisions ? s->capdecisions * 2 : 256;
        s->decisions = xrealloc(s->decisions, s->capdecisions * sizeof *s->decisions);
    }
    s->decisions[s->ndecisions++] = v;
}

/* hint is what the deterministic policies (FIFO, PCT) would choose. */
static uint32_t decide(sched_t *s, sched_choice_t kind, uint32_t n, uint32_t hint)
{
    if (n <= 1)
        return 0;
    uint32_t v;
    switch (s->cfg.policy) {
    case SCHED_REPLAY:
        if (s->replay_pos < s->cfg.replay_len && s->cfg.replay[s->replay_pos] < n) {
            v = s->cfg.replay[s->replay_pos++];
        } else {
            s->replay_diverged = true;
            v = kind == CHOICE_SELECT ? (uint32_t)rand_below(&s->rng[RAND_SCHED], n) : hint;
        }
        break;
    case SCHED_RANDOM:
        v = (uint32_t)rand_below(&s->rng[RAND_SCHED], n);
        break;
    case SCHED_FIFO:
    case SCHED_PCT:
    default:
        v = kind == CHOICE_SELECT ? (uint32_t)rand_below(&s->rng[RAND_SCHED], n) : hint;
        break;
    }
    if (s->cfg.record)
        record(s, v);
    return v;
}

uint32_t sched_decide(sched_t *s, sched_choice_t kind, uint32_t n)
{
    return decide(s, kind, n, 0);
}

/* ---- run queue ---------------------------------------------------------- */

/* The ring's capacity is a power of two (64, doubled): positions wrap by a
 * mask, not a division. */
static void runq_grow(sched_t *s)
{
    size_t ncap = s->runq_cap ? s->runq_cap * 2 : 64;
    g_t **n = xrealloc(NULL, ncap * sizeof *n);
    for (size_t i = 0; i < s->runq_len; i++)
        n[i] = s->runq[(s->runq_head + i) & (s->runq_cap - 1)];
    free(s->runq);
    s->runq = n;
    s->runq_head = 0;
    s->runq_cap = ncap;
}

static inline void runq_push(sched_t *s, g_t *g)
{
    if (s->runq_len == s->runq_cap)
        runq_grow(s);
    s->runq[(s->runq_head + s->runq_len) & (s->runq_cap - 1)] = g;
    s->runq_len++;
}

static g_t *runq_take(sched_t *s, size_t i)
{
    size_t at = (s->runq_head + i) & (s->runq_cap - 1);
    g_t *g = s->runq[at];
    /* The head fills the gap: order among the rest stays deterministic. */
    s->runq[at] = s->runq[s->runq_head];
    s->runq_head = (s->runq_head + 1) & (s->runq_cap - 1);
    s->runq_len--;
    return g;
}

static g_t *pick_next(sched_t *s)
{
    uint32_t n = s->runq_len > UINT32_MAX ? UINT32_MAX : (uint32_t)s->runq_len;
    uint32_t hint = 0;
    if (s->cfg.policy == SCHED_PCT) {
        if (s->pct_next < s->pct_nchanges && (int64_t)s->steps >= s->pct_changes[s->pct_next]) {
            if (s->last_g)
                s->last_g->pct_prio = s->pct_nchanges - s->pct_next;
            s->pct_next++;
        }
        for (uint32_t i = 1; i < n; i++) {
            g_t *a = s->runq[(s->runq_head + i) & (s->runq_cap - 1)];
            g_t *b = s->runq[(s->runq_head + hint) & (s->runq_cap - 1)];
            if (a->pct_prio > b->pct_prio || (a->pct_prio == b->pct_prio && a->id < b->id))
                hint = i;
        }
    }
    /* One candidate: nothing to decide or record (as decide would). FIFO
     * takes the head, as decide would, without the general path. */
    uint32_t i = 0;
    if (n > 1) {
        if (s->cfg.policy == SCHED_FIFO) {
            if (s->cfg.record)
                record(s, 0);
        } else {
            i = decide(s, CHOICE_RUNNABLE, n, hint);
        }
    }
    if (i == 0) {
        g_t *g = s->runq[s->runq_head];
        s->runq_head = (s->runq_head + 1) & (s->runq_cap - 1);
        s->runq_len--;
        return g;
    }
    return runq_take(s, i);
}

/* ---- goroutines -------------------------------------------------------- */

static void g_entry(void *arg);

g_t *go_spawn(void (*fn)(void *), void *arg, const char *name)
{
    sched_t *s = cur;
    if (!s) {
        fputs("chansim: go_spawn outside a running scheduler\n", stderr);
        abort();
    }
    coro_stack_t *st = coro_stack_get(s->pool);
    uintptr_t top = (uintptr_t)st->lo + st->size; /* coro_stack_top */
    g_t *g = (g_t *)((top - sizeof(g_t)) & ~(uintptr_t)63);
    /* A copy of a zero descriptor: memset's "rep stos" costs more to start
     * than the few vector stores of a copy. */
    static const g_t g_zero;
    *g = g_zero;
    g->stack = st;
    g->id = s->next_gid++;
    g->state = G_RUNNABLE;
    if (!name)
        name = "goroutine";
    /* Spawns mostly repeat the last name: sched_intern's first test, here. */
    g->name = s->intern_last && strcmp(s->intern_last, name) == 0 ? s->intern_last
                                                                  : sched_intern(s, name);
    g->fn = fn;
    g->arg = arg;
    g_t *creator = s->running;
    g->created_by = creator ? creator->id : 0;
    g->creator_name = creator ? creator->name : NULL;
    g->group = creator ? creator->group : NULL;
    /* rand_below(r, 1 << 30) is exactly the top 30 bits of one draw (a
     * power of two never rejects); every policy draws it, so that the
     * scheduler's stream does not depend on the policy. */
    g->pct_prio = s->cfg.pct_depth + (int64_t)(rand_u64(&s->rng[RAND_SCHED]) >> 34);
    coro_init(&g->ctx, st->lo, g, g_entry, g);
    g->prev = s->all_tail;
    if (s->all_tail)
        s->all_tail->next = g;
    else
        s->all_head = g;
    s->all_tail = g;
    s->spawned++;
    s->alive++;
    emit_dd(s, EV_GO_SPAWN, g->created_by, g->id, (int64_t)g->created_by, 0, g->name,
            name_digest(s, g->name));
    runq_push(s, g);
    return g;
}

static void unlink_g(sched_t *s, g_t *g)
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

/* ---- switching -----------------------------------------------------------
 *
 * A step ends when the running goroutine parks, yields or ends. The loop
 * then checks its stack's canary, buries it if it ended, and, unless the
 * run stops or a timer is due or nothing is runnable, picks the next
 * goroutine and switches to it. When none of those exceptions holds (and
 * no step hook wants the scheduler's stack), the goroutine does the same
 * itself and switches straight to the next one (switch_out): one context
 * switch instead of two, the same decisions in the same order, the same
 * events. A goroutine that ends that way is still on its stack when it
 * switches: the stack goes back to the pool as soon as the next one runs
 * (reap). */

static void stack_overflow(g_t *g) __attribute__((noreturn));

static inline bool canary_ok(const coro_stack_t *st)
{
    return st->guarded || coro_stack_canary_ok(st);
}

/* Return the stack of a goroutine that ended with a direct switch to the
 * pool: the first thing whoever runs next does. */
static inline void reap(sched_t *s)
{
    if (s->zombie) {
        coro_stack_put(s->pool, s->zombie);
        s->zombie = NULL;
    }
}

/* The loop's part of a step that may run on a goroutine's stack: nothing
 * stops the run, no timer is due, something is runnable. */
static inline bool direct_ok(const sched_t *s)
{
    return !s->stop && !s->step_hook && s->runq_len > 0 && timerq_next(s->timers) > s->now;
}

/* The next goroutine that may run, or NULL if the run queue holds none:
 * goroutines of killed groups are dropped, those of frozen groups held. */
static inline g_t *next_runnable(sched_t *s)
{
    while (s->runq_len > 0) {
        g_t *g = pick_next(s);
        if (g->killed) {
            g->state = G_KILLED;
            continue;
        }
        if (g->group && g->group->frozen) {
            ggroup_t *grp = g->group;
            if (grp->nheld == grp->capheld) {
                grp->capheld = grp->capheld ? grp->capheld * 2 : 16;
                grp->held = xrealloc(grp->held, grp->capheld * sizeof *grp->held);
            }
            grp->held[grp->nheld++] = g;
            continue;
        }
        return g;
    }
    return NULL;
}

/* Begin a step of g. */
static inline void start_step(sched_t *s, g_t *g)
{
    s->steps++;
    s->last_g = g;
    s->running = g;
    g->state = G_RUNNING;
    emit(s, EV_GO_RUN, g->id, 0, 0, 0, NULL);
}

/* A goroutine has ended: everything but returning its stack, which the
 * caller may still be running on. */
static inline void forget_dead(sched_t *s, g_t *g)
{
    if (g->killed) {
        /* It ran on after its group was killed (the kill came from
         * itself) and has now returned. */
        if (g->prev)
            g->prev->next = g->next;
        else
            s->killed_head = g->next;
        if (g->next)
            g->next->prev = g->prev;
    } else {
        unlink_g(s, g);
        s->alive--;
        if (g == s->main_g)
            s->main_g = NULL;
    }
    if (s->last_g == g)
        s->last_g = NULL;
}

/* Leave the running goroutine g, RUNNABLE (queued) or WAITING, for the
 * next one or for the loop. Returns when g runs again. */
static void switch_out(sched_t *s, g_t *g)
{
    if (direct_ok(s)) {
        if (!canary_ok(g->stack))
            stack_overflow(g);
        g_t *n = next_runnable(s);
        if (n) {
            start_step(s, n);
            if (n != g) {
                coro_transfer(&g->ctx, &n->ctx);
                reap(s);
            }
            return;
        }
        /* All dropped or held: the loop moves the clock. */
    }
    coro_transfer(&g->ctx, &s->ctx);
    reap(s);
}

/* End the running goroutine: mark it dead and leave its stack for good. */
static void g_finish(sched_t *s, g_t *g)
{
    emit(s, EV_GO_EXIT, g->id, 0, 0, 0, NULL);
    g->state = G_DEAD;
    if (g == s->main_g) {
        s->main_exited = true;
        if (s->cfg.main_exit_ends_run && !s->main_goexit && !s->stop) {
            s->stop = true;
            s->result = SCHED_DONE;
        }
    }
    if (direct_ok(s)) {
        if (!canary_ok(g->stack))
            stack_overflow(g);
        forget_dead(s, g);
        s->zombie = g->stack;
        g_t *n = next_runnable(s);
        if (n) {
            start_step(s, n);
            coro_exit_to(&g->ctx, &n->ctx);
        }
        /* Buried already: the loop finds no goroutine to handle. */
        s->running = NULL;
    }
    coro_exit_to(&g->ctx, &s->ctx);
}

static void g_entry(void *arg)
{
    g_t *g = arg;
    reap(cur);
    g->fn(g->arg);
    g_finish(cur, g);
}

g_t *go_self(void) { return cur ? cur->running : NULL; }
uint64_t go_id(const g_t *g) { return g ? g->id : 0; }
const char *go_name(const g_t *g) { return g->name; }
const char *go_role(const g_t *g) { return g->role; }
void *go_userdata(const g_t *g) { return g->ud; }
void go_set_userdata(g_t *g, void *ud) { g->ud = ud; }
void go_set_panic_hook(g_t *g, go_panic_hook_t hook) { g->panic_hook = hook; }
go_panic_hook_t go_panic_hook(const g_t *g) { return g->panic_hook; }
wait_reason_t go_wait_reason(const g_t *g) { return g->state == G_WAITING ? g->reason : WAIT_NONE; }
simtime_t go_blocked_since(const g_t *g) { return g->blocked_since; }
uint64_t go_created_by(const g_t *g) { return g->created_by; }

void go_set_role(g_t *g, const char *role)
{
    g->role = sched_intern(cur, role);
}

void go_set_name(g_t *g, const char *name)
{
    g->name = sched_intern(cur, name);
}

static sched_t *need_running(const char *what)
{
    sched_t *s = cur;
    if (!s || !s->running) {
        fprintf(stderr, "chansim: %s called outside a goroutine\n", what);
        abort();
    }
    return s;
}

void go_yield(void)
{
    sched_t *s = need_running("go_yield");
    g_t *g = s->running;
    emit(s, EV_GO_YIELD, g->id, 0, 0, 0, NULL);
    g->state = G_RUNNABLE;
    runq_push(s, g);
    switch_out(s, g);
}

void go_exit(void)
{
    sched_t *s = need_running("go_exit");
    g_t *g = s->running;
    if (g == s->main_g)
        s->main_goexit = true;
    g_finish(s, g);
}

void sched_park(wait_reason_t reason, uint64_t obj)
{
    sched_t *s = need_running("sched_park");
    g_t *g = s->running;
    g->state = G_WAITING;
    g->reason = reason;
    g->wait_obj = obj;
    g->blocked_since = s->now;
    emit(s, EV_GO_BLOCK, g->id, obj, reason, 0, NULL);
    switch_out(s, g);
}

void sched_ready(g_t *g)
{
    sched_t *s = cur;
    if (g->killed)
        return; /* its process is gone: nothing wakes it */
    if (g->state != G_WAITING) {
        fprintf(stderr, "chansim: sched_ready on goroutine %llu that is not parked\n",
                (unsigned long long)g->id);
        abort();
    }
    g->state = G_RUNNABLE;
    g->reason = WAIT_NONE;
    emit(s, EV_GO_WAKE, s->running ? s->running->id : 0, g->id, 0, 0, NULL);
    runq_push(s, g);
}

void sched_each_goroutine(sched_t *s, void (*fn)(void *ud, g_t *g), void *ud)
{
    for (g_t *g = s->all_head; g; g = g->next)
        fn(ud, g);
}

/* ---- the dump and failures --------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
}

static void dump_one(sched_t *s, sbuf_t *b, g_t *g)
{
    const char *state = g->state == G_RUNNING || g->panicked ? "running"
                      : g->state == G_RUNNABLE ? "runnable"
                      : reason_text[g->reason];
    sb_printf(b, "\ngoroutine %llu [%s", (unsigned long long)g->id, state);
    if (g->state == G_WAITING && !g->panicked) {
        simtime_t mins = (s->now - g->blocked_since) / (60 * SIM_SEC);
        if (mins >= 1)
            sb_printf(b, ", %lld minutes", (long long)mins);
    }
    sb_printf(b, "]:\n");
    char frames[4096];
    frames[0] = 0;
    if (s->frames_hook)
        s->frames_hook(g, frames, sizeof frames);
    if (frames[0]) {
        sb_printf(b, "%s", frames);
        if (frames[strlen(frames) - 1] != '\n')
            sb_printf(b, "\n");
    } else {
        sb_printf(b, "%s()\n", g->name);
    }
    if (g->created_by)
        sb_printf(b, "created by %s in goroutine %llu\n",
                  g->creator_name ? g->creator_name : "?",
                  (unsigned long long)g->created_by);
}

static void dump_into(sched_t *s, sbuf_t *b)
{
    if (s->running)
        dump_one(s, b, s->running);
    for (g_t *g = s->all_head; g; g = g->next)
        if (g != s->running)
            dump_one(s, b, g);
}

size_t sched_dump(sched_t *s, char *buf, size_t size)
{
    sbuf_t b = {0};
    dump_into(s, &b);
    size_t n = b.len < size ? b.len : (size ? size - 1 : 0);
    if (size) {
        if (b.p)
            memcpy(buf, b.p, n);
        buf[n] = 0;
    }
    free(b.p);
    return n;
}

static void set_failure(sched_t *s, sched_result_t r, const char *header, const char *msg)
{
    sbuf_t b = {0};
    sb_printf(&b, "%s%s\n", header, msg);
    dump_into(s, &b);
    free(s->report);
    s->report = b.p;
    free(s->failure);
    s->failure = strdup(msg);
    if (!s->failure)
        die_oom();
    s->result = r;
    s->stop = true;
}

__attribute__((noreturn)) static void fail_running(sched_t *s, sched_result_t r, trace_kind_t ev,
                         const char *header, const char *msg)
{
    g_t *g = s->running;
    emit(s, ev, g->id, 0, 0, 0, msg);
    g->panicked = true;
    set_failure(s, r, header, msg);
    /* The goroutine stays parked for good; its stack is freed with the
     * scheduler. */
    g->state = G_WAITING;
    g->reason = WAIT_NONE;
    coro_transfer(&g->ctx, &s->ctx);
    abort(); /* never resumed */
}

void go_panic(const char *fmt, ...)
{
    sched_t *s = need_running("go_panic");
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_t *g = s->running;
    if (g->panic_hook)
        g->panic_hook(g, msg);
    fail_running(s, SCHED_PANIC, EV_PANIC, "panic: ", msg);
}

void go_fatal(const char *fmt, ...)
{
    sched_t *s = need_running("go_fatal");
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_running(s, SCHED_FATAL, EV_FATAL, "fatal error: ", msg);
}

/* ---- the loop ---------------------------------------------------------- */

static void stack_overflow(g_t *g)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf,
                     "runtime: goroutine %llu: stack overflow\nfatal error: stack overflow\n",
                     (unsigned long long)g->id);
    if (n > 0 && write(2, buf, (size_t)n) < 0)
        _exit(2);
    _exit(2);
}

static sched_result_t loop(sched_t *s)
{
    sched_t *outer = cur;
    cur = s;
    s->stop = false;
    for (;;) {
        if (s->stop)
            break;
        if (timerq_next(s->timers) <= s->now)
            timerq_fire_due(s, s->timers, s->now);
        if (s->runq_len == 0) {
            if (s->stop)
                break;
            simtime_t next = timerq_next(s->timers);
            if (next == SIMTIME_MAX) {
                if (s->main_g && !s->main_exited) {
                    set_failure(s, SCHED_DEADLOCK, "fatal error: ",
                                "all goroutines are asleep - deadlock!");
                } else if (s->main_goexit && s->alive == 0) {
                    set_failure(s, SCHED_DEADLOCK, "fatal error: ",
                                "no goroutines (main called runtime.Goexit) - deadlock!");
                } else if (s->main_goexit) {
                    set_failure(s, SCHED_DEADLOCK, "fatal error: ",
                                "all goroutines are asleep - deadlock!");
                } else {
                    s->result = s->alive ? SCHED_IDLE : SCHED_DONE;
                }
                break;
            }
            if (s->cfg.until > 0 && next > s->cfg.until) {
                /* A limit already passed stops here: time never goes back. */
                if (s->cfg.until > s->now) {
                    if (s->clock_hook)
                        s->clock_hook(s->clock_ud, s->now, s->cfg.until);
                    s->now = s->cfg.until;
                }
                s->result = SCHED_UNTIL;
                break;
            }
            if (s->clock_hook)
                s->clock_hook(s->clock_ud, s->now, next);
            s->now = next;
            continue;
        }
        g_t *g = next_runnable(s);
        if (!g)
            continue;
        start_step(s, g);
        coro_transfer(&s->ctx, &g->ctx);
        reap(s);
        /* Goroutines may have switched among themselves since (switch_out):
         * the one back here is the one running now, or none if it ended
         * and was buried already. */
        g = s->running;
        s->running = NULL;
        if (g) {
            /* Dead goroutines too: a stack whose canary was overwritten
             * must not go back to the pool, where the next owner would be
             * blamed. */
            if (!canary_ok(g->stack))
                stack_overflow(g);
            if (g->state == G_DEAD) {
                forget_dead(s, g);
                coro_stack_put(s->pool, g->stack);
            }
        }
        if (s->step_hook)
            s->step_hook(s->step_ud);
    }
    cur = outer;
    return s->result;
}

sched_result_t sched_run(sched_t *s, void (*main_fn)(void *), void *arg)
{
    coro_init_thread(&s->ctx);
    sched_t *outer = cur;
    cur = s;
    s->main_g = go_spawn(main_fn, arg, "main.main");
    cur = outer;
    s->result = SCHED_DONE;
    return loop(s);
}

sched_result_t sched_resume(sched_t *s)
{
    if (s->result != SCHED_UNTIL)
        return s->result;
    s->result = SCHED_DONE;
    return loop(s);
}

void sched_set_step_hook(sched_t *s, void (*fn)(void *ud), void *ud)
{
    s->step_hook = fn;
    s->step_ud = ud;
}

void sched_set_clock_hook(sched_t *s, void (*fn)(void *ud, simtime_t from, simtime_t to), void *ud)
{
    s->clock_hook = fn;
    s->clock_ud = ud;
}

void sched_reseed(sched_t *s, uint64_t seed)
{
    s->cfg.seed = seed;
    for (int i = 0; i < RAND_STREAM_COUNT; i++)
        rand_seed(&s->rng[i], seed, (uint64_t)i + 1);
}

simtime_t sched_until(const sched_t *s)
{
    return s->cfg.until;
}

bool sched_main_exited(const sched_t *s)
{
    return s->main_exited;
}

void sched_each_object(sched_t *s, void (*fn)(void *ud, obj_t *o), void *ud)
{
    for (obj_t *o = s->objs.next; o != &s->objs; o = o->next)
        fn(ud, o);
}

/* ---- groups (simulated processes) --------------------------------------- */

static void ggroup_deinit(obj_t *o)
{
    free(((ggroup_t *)o)->held);
}

ggroup_t *ggroup_new(const char *name)
{
    ggroup_t *grp = obj_alloc(sizeof *grp, OBJ_NONE, ggroup_deinit);
    obj_set_name(grp, name);
    return grp;
}

ggroup_t *go_group(const g_t *g) { return g ? g->group : NULL; }
void go_set_group(g_t *g, ggroup_t *grp) { g->group = grp; }
bool ggroup_frozen(const ggroup_t *grp) { return grp->frozen; }
uint64_t ggroup_generation(const ggroup_t *grp) { return grp->generation; }
const char *ggroup_name(const ggroup_t *grp) { return grp->hdr.name ? grp->hdr.name : ""; }

void ggroup_freeze(ggroup_t *grp)
{
    grp->frozen = true;
}

void ggroup_thaw(ggroup_t *grp)
{
    sched_t *s = cur;
    grp->frozen = false;
    for (size_t i = 0; i < grp->nheld; i++)
        if (!grp->held[i]->killed)
            runq_push(s, grp->held[i]);
    grp->nheld = 0;
}

size_t ggroup_kill(ggroup_t *grp)
{
    sched_t *s = cur;
    size_t n = 0;
    g_t *g = s->all_head;
    while (g) {
        g_t *next = g->next;
        if (g->group == grp) {
            unlink_g(s, g);
            g->killed = true;
            g->next = s->killed_head;
            g->prev = NULL;
            if (s->killed_head)
                s->killed_head->prev = g;
            s->killed_head = g;
            s->alive--;
            if (g == s->main_g)
                s->main_g = NULL;
            if (g->state == G_WAITING)
                g->state = G_KILLED;
            n++;
        }
        g = next;
    }
    /* Held goroutines of a frozen group are dropped with it. */
    grp->nheld = 0;
    grp->generation++;
    grp->killed += n;
    emit(s, EV_GO_EXIT, s->running ? s->running->id : 0, grp->hdr.id, (int64_t)n, 1,
         grp->hdr.name);
    return n;
}

uint64_t ggroup_alive(const ggroup_t *grp)
{
    uint64_t n = 0;
    for (g_t *g = cur ? cur->all_head : NULL; g; g = g->next)
        n += g->group == grp;
    return n;
}
