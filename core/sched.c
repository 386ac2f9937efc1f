/*
 * sched: goroutines and the run loop — spawning, the run queue, the choice
 * function, switching between goroutines, the wait primitive (park and
 * ready) and the loop that moves the clock. See sched.h for the model and
 * sched_internal.h for the structures and their invariants.
 *
 * The rest of the scheduler lives beside it: sched_state.c (creation,
 * accessors, interned strings, owned objects, the trace), sched_fail.c
 * (panics, fatal errors, deadlock reports and the goroutine dump) and
 * ggroup.c (groups of goroutines that fail and pause together).
 */
#include "sched_internal.h"

#include "dfs.h"
#include "race.h"

#include <string.h>

sched_t *sched_cur;
bool sched_points_on;

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

/* ---- the choice function ---------------------------------------------- */

static void record(sched_t *s, uint32_t v)
{
    if (s->ndecisions == s->capdecisions) {
        s->capdecisions = s->capdecisions ? s->capdecisions * 2 : 256;
        s->decisions = mem_realloc(s->decisions, s->capdecisions * sizeof *s->decisions);
    }
    s->decisions[s->ndecisions++] = v;
}

/* hint is what the deterministic policies (FIFO, PCT) would choose. */
static uint32_t decide(sched_t *s, sched_choice_t kind, uint32_t n, uint32_t hint)
{
    if (n <= 1)
        return 0;
    uint32_t v;
    if (s->cfg.chooser) {
        /* An outside strategy (a shrinker); its default is a replay's. */
        v = s->cfg.chooser(s->cfg.chooser_ud, s, kind, n);
        if (v >= n)
            v = kind == CHOICE_SELECT ? (uint32_t)rand_below(&s->rng[RAND_SCHED], n) : hint;
        if (s->cfg.record)
            record(s, v);
        return v;
    }
    switch (s->cfg.policy) {
    case SCHED_REPLAY:
        if (s->replay_pos < s->cfg.replay_len && s->cfg.replay[s->replay_pos] == SCHED_DECISION_DEFAULT) {
            s->replay_pos++; /* asked for the default: not a divergence */
            v = kind == CHOICE_SELECT ? (uint32_t)rand_below(&s->rng[RAND_SCHED], n) : hint;
        } else if (s->replay_pos < s->cfg.replay_len && s->cfg.replay[s->replay_pos] < n) {
            v = s->cfg.replay[s->replay_pos++];
        } else {
            /* Out of range for this decision: the entry is used up all
             * the same, so that the ones after it keep their places. */
            if (!s->replay_diverged) {
                s->replay_div_at = s->replay_pos;
                s->replay_div_value = s->replay_pos < s->cfg.replay_len ? s->cfg.replay[s->replay_pos] : UINT32_MAX;
                s->replay_div_offered = n;
                if (s->cfg.replay_strict)
                    sched_exit(s); /* the rest would follow no recorded decision */
            }
            if (s->replay_pos < s->cfg.replay_len)
                s->replay_pos++;
            s->replay_diverged = true;
            v = kind == CHOICE_SELECT ? (uint32_t)rand_below(&s->rng[RAND_SCHED], n) : hint;
        }
        break;
    case SCHED_RANDOM:
        v = (uint32_t)rand_below(&s->rng[RAND_SCHED], n);
        break;
    case SCHED_DFS:
        v = dfs_choose(s->cfg.dfs, s, kind, n);
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
void sched_runq_grow(sched_t *s)
{
    size_t ncap = s->runq_cap ? s->runq_cap * 2 : 64;
    g_t **n = mem_realloc(NULL, ncap * sizeof *n);
    for (size_t i = 0; i < s->runq_len; i++)
        n[i] = s->runq[(s->runq_head + i) & (s->runq_cap - 1)];
    free(s->runq);
    s->runq = n;
    s->runq_head = 0;
    s->runq_cap = ncap;
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

/* Every goroutine in the run queue is RUNNABLE (the queue holds each
 * runnable goroutine once, the running one never). O(runq_len). */
static void runq_check(const sched_t *s)
{
    ASSERT(s->runq_len <= s->runq_cap && s->runq_head < s->runq_cap);
    for (size_t i = 0; i < s->runq_len; i++)
        ASSERT(s->runq[(s->runq_head + i) & (s->runq_cap - 1)]->state == G_RUNNABLE);
}

static g_t *pick_next(sched_t *s)
{
    /* The whole queue while short in debug builds; at power-of-two counts
     * of picks in every build. */
    if ((INVARIANT_DEEP && s->runq_len <= 64) || invariant_sparse(&s->runq_walks))
        runq_check(s);
    uint32_t n = s->runq_len > UINT32_MAX ? UINT32_MAX : (uint32_t)s->runq_len;
    uint32_t hint = 0;
    if (s->cfg.policy == SCHED_PCT) {
        /* The highest priority runs (change points: sched_point_slow). */
        for (uint32_t i = 1; i < n; i++) {
            g_t *a = s->runq[(s->runq_head + i) & (s->runq_cap - 1)];
            g_t *b = s->runq[(s->runq_head + hint) & (s->runq_cap - 1)];
            if (a->pct_prio > b->pct_prio || (a->pct_prio == b->pct_prio && a->id < b->id))
                hint = i;
        }
    } else if (s->cfg.policy == SCHED_REPLAY && s->at_point) {
        /* A replay's default at a decision point: the goroutine at the
         * point goes on (no preemption). */
        for (uint32_t i = 0; i < n; i++)
            if (s->runq[(s->runq_head + i) & (s->runq_cap - 1)] == s->at_point)
                hint = i;
    }
    /* One candidate: nothing to decide or record (as decide would). FIFO
     * takes the head, as decide would, without the general path. */
    uint32_t i = 0;
    if (n == 1 && s->cfg.policy == SCHED_DFS)
        dfs_single(s->cfg.dfs, s, s->runq[s->runq_head]->id);
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
        if (s->runq_len) {
            /* With many goroutines the next one's descriptor and top
             * frames are cold: start loading them a step ahead. */
            const char *nx = (const char *)s->runq[s->runq_head];
            __builtin_prefetch(nx, 1);
            __builtin_prefetch(nx + 64, 1);
            __builtin_prefetch(nx - 64, 1);
            __builtin_prefetch(nx - 128, 1);
        }
        return g;
    }
    return runq_take(s, i);
}

/* ---- goroutines -------------------------------------------------------- */

static void g_entry(void *arg);

static g_t *spawn_on(sched_t *s, coro_pool_t *pool, void (*fn)(void *), void *arg,
                     const char *name);

g_t *go_spawn(void (*fn)(void *), void *arg, const char *name)
{
    sched_t *s = sched_cur;
    ASSERTF(s, "go_spawn outside a running scheduler");
    return spawn_on(s, s->pool, fn, arg, name);
}

g_t *go_spawn_stack(void (*fn)(void *), void *arg, const char *name, size_t stack_size)
{
    sched_t *s = sched_cur;
    ASSERTF(s, "go_spawn_stack outside a running scheduler");
    if (!stack_size)
        return spawn_on(s, s->pool, fn, arg, name);
    int i = 0;
    while (i < SCHED_STACK_SIZES && s->xpool_size[i] && s->xpool_size[i] != stack_size)
        i++;
    ASSERTF(i < SCHED_STACK_SIZES, "go_spawn_stack: more than %d stack sizes in one run",
            SCHED_STACK_SIZES);
    if (!s->xpool_size[i]) {
        s->xpool[i] = coro_pool_create(stack_size);
        s->xpool_size[i] = stack_size;
    }
    return spawn_on(s, s->xpool[i], fn, arg, name);
}

static g_t *spawn_on(sched_t *s, coro_pool_t *pool, void (*fn)(void *), void *arg,
                     const char *name)
{
    coro_stack_t *st = coro_stack_get(pool);
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
    g->pct_prio = PCT_PRIO_START + (int64_t)(rand_u64(&s->rng[RAND_SCHED]) >> 34);
    coro_init(&g->ctx, st->lo, g, g_entry, g);
    g->prev = s->all_tail;
    if (s->all_tail)
        s->all_tail->next = g;
    else
        s->all_head = g;
    s->all_tail = g;
    s->spawned++;
    s->alive++;
    s->world_idle = false;
    emit_dd(s, EV_GO_SPAWN, g->created_by, g->id, (int64_t)g->created_by, 0, g->name,
            name_digest(s, g->name));
    if (s->race) {
        race_t *outer = race_active;
        race_active = s->race; /* main is spawned before the loop starts */
        race_go_start_slow(creator, g);
        race_active = outer;
    }
    runq_push(s, g);
    return g;
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

static inline bool canary_ok(const coro_stack_t *st)
{
    return st->guarded || coro_stack_canary_ok(st);
}

/* Return the stack of a goroutine that ended with a direct switch to the
 * pool: the first thing whoever runs next does. */
static inline void reap(sched_t *s)
{
    if (s->zombie) {
        coro_stack_put(s->zombie->pool, s->zombie);
        s->zombie = NULL;
    }
}

/* The loop's part of a step that may run on a goroutine's stack: nothing
 * stops the run, no timer is due, something is runnable. */
static inline bool over_instant(const sched_t *s)
{
    return s->cfg.max_steps_per_instant &&
           s->steps - s->instant_first_step >= s->cfg.max_steps_per_instant;
}

static inline bool direct_ok(const sched_t *s)
{
    return !s->stop && !s->step_hook && s->runq_len > 0 && timerq_next(s->timers) > s->now &&
           !over_instant(s);
}

/* The next goroutine that may run, or NULL if the run queue holds none:
 * goroutines of killed groups are dropped, those of frozen groups held. */
static inline g_t *next_runnable(sched_t *s)
{
    while (s->runq_len > 0) {
        g_t *g = pick_next(s);
        ASSERT(g->state == G_RUNNABLE);
        if (g->killed) {
            g->state = G_KILLED;
            continue;
        }
        if (g->group && g->group->frozen) {
            ggroup_t *grp = g->group;
            if (grp->nheld == grp->capheld) {
                grp->capheld = grp->capheld ? grp->capheld * 2 : 16;
                grp->held = mem_realloc(grp->held, grp->capheld * sizeof *grp->held);
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
    coro_stack_prefetch_canary(g->stack); /* read when the step ends */
    s->steps++;
    s->last_g = g;
    if (g->instant_at != s->now) {
        g->instant_at = s->now;
        g->instant_steps = 0;
    }
    g->instant_steps++;
    if (s->cfg.policy == SCHED_DFS) {
        /* The step does the operation g stopped at, as g. */
        sched_fp_add(s, SCHED_KEY_G(g->id));
        for (int i = 0; i < g->npend; i++)
            sched_fp_add(s, g->pend[i]);
        g->npend = 0;
    }
    s->running = g;
    g->state = G_RUNNING;
    if (__builtin_expect(s->at_point != NULL, 0)) {
        /* The step after a decision point: nothing to show if the same
         * goroutine goes on, else its preemption. */
        g_t *p = s->at_point;
        s->at_point = NULL;
        if (p == g)
            return;
        emit(s, EV_GO_YIELD, p->id, 0, 1, 0, NULL);
    }
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
    /* A broken canary: the loop reports it, on the thread's own stack (a
     * small stack has no room for the report's library calls). */
    if (direct_ok(s) && canary_ok(g->stack)) {
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
    if (s->race)
        race_go_end_slow(g);
    g->state = G_DEAD;
    if (g == s->main_g) {
        s->main_exited = true;
        if (s->cfg.main_exit_ends_run && !s->main_goexit && !s->stop) {
            s->stop = true;
            /* alive still counts main here */
            s->result = s->world_idle && s->alive > 1 ? SCHED_IDLE : SCHED_DONE;
        }
    }
    if (direct_ok(s) && canary_ok(g->stack)) { /* else the loop reports it */
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

/* main has returned; the run ends when it exits. In Go the process exits
 * after runtime.main's own work (exit hooks, a wait for a panic printing
 * elsewhere), while the goroutines on the other Ps go on: so under the
 * exploring strategies main's return is a decision point like any
 * synchronising operation, where the goroutines runnable at that instant
 * may run first. Under PCT the exit has the lowest priority of all (below
 * the change points' too): whatever is runnable then runs until it blocks,
 * so that a goroutine preempted by a change point before a step that fails
 * after main's last operation (the adaptive pool's autoscaler, whose send
 * on stopCh comes after Shutdown closed it) still takes that step, instead
 * of needing a second change point on main's last few steps. */
static void main_return_point(sched_t *s, g_t *g)
{
    if (g != s->main_g || !s->cfg.sync_points || !s->cfg.main_exit_ends_run || s->main_goexit)
        return;
    s->main_exiting = true;
    sched_point_slow();
}

static void g_entry(void *arg)
{
    g_t *g = arg;
    reap(sched_cur);
    g->fn(g->arg);
    main_return_point(sched_cur, g);
    g_finish(sched_cur, g);
}

g_t *go_self(void) { return sched_cur ? sched_cur->running : NULL; }
uint64_t go_id(const g_t *g) { return g ? g->id : 0; }
const char *go_name(const g_t *g) { return g->name; }
const char *go_role(const g_t *g) { return g->role; }
void *go_userdata(const g_t *g) { return g->ud; }
void go_set_userdata(g_t *g, void *ud) { g->ud = ud; }
void go_set_panic_hook(g_t *g, go_panic_hook_t hook) { g->panic_hook = hook; }
go_panic_hook_t go_panic_hook(const g_t *g) { return g->panic_hook; }
wait_reason_t go_wait_reason(const g_t *g) { return g->state == G_WAITING ? g->reason : WAIT_NONE; }
simtime_t go_blocked_since(const g_t *g) { return g->blocked_since; }
simtime_t go_wake_at(const g_t *g) { return g->state == G_WAITING ? g->wake_at : -1; }
uint64_t go_created_by(const g_t *g) { return g->created_by; }

void go_set_role(g_t *g, const char *role)
{
    g->role = sched_intern(sched_cur, role);
}

void go_set_name(g_t *g, const char *name)
{
    g->name = sched_intern(sched_cur, name);
}

void go_yield(void)
{
    sched_t *s = need_running("go_yield");
    g_t *g = s->running;
    emit(s, EV_GO_YIELD, g->id, 0, 0, 0, NULL);
    if (s->cfg.policy == SCHED_PCT) {
        /* Strict priorities would pick the yielder again at once, and a
         * polling loop (yield until a flag is set) would spin forever. As
         * PCT implementations do, a yield demotes: just below every
         * goroutine runnable now (a change point's level or main's exit
         * included), so that what it waits for runs; it keeps that level,
         * so a yield before any change point still leaves it above the
         * change points' levels. */
        for (size_t i = 0; i < s->runq_len; i++) {
            const g_t *o = s->runq[(s->runq_head + i) & (s->runq_cap - 1)];
            if (o->pct_prio <= g->pct_prio)
                g->pct_prio = o->pct_prio - 1;
        }
    }
    g->state = G_RUNNABLE;
    runq_push(s, g);
    switch_out(s, g);
}

/* A decision point (see sched.h): the running goroutine goes back to the
 * run queue and the next step is chosen among every runnable goroutine,
 * itself included. Nothing to decide when nobody else can run now. */
uint64_t sched_runq_gid(const sched_t *s, uint32_t i)
{
    return i < s->runq_len ? s->runq[(s->runq_head + i) & (s->runq_cap - 1)]->id : 0;
}

uint64_t sched_point_gid(const sched_t *s)
{
    return s->at_point ? s->at_point->id : 0;
}

uint64_t sched_last_gid(const sched_t *s)
{
    return s->running ? s->running->id : s->last_g ? s->last_g->id : 0;
}

void sched_point_slow(void)
{
    uint64_t any = SCHED_KEY_ANY;
    sched_point_keys_slow(&any, 1);
}

void sched_point_named_slow(const char *name)
{
    /* FNV-1a of the name, tagged: never an object's id, never "any". */
    uint64_t h = TRACE_HASH_INIT;
    for (const char *p = name ? name : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h = (h | ((uint64_t)1 << 63)) & ~((uint64_t)1 << 62);
    sched_point_keys_slow(&h, 1);
}

/* The operation at the point (keys) is done in the current step, with no
 * decision before it. */
static void point_in_step(sched_t *s, const uint64_t *keys, int n)
{
    if (s->cfg.policy == SCHED_DFS)
        for (int i = 0; i < n; i++)
            sched_fp_add(s, keys[i]);
}

void sched_point_keys_slow(const uint64_t *keys, int n)
{
    sched_t *s = sched_cur;
    g_t *g = s ? s->running : NULL;
    if (!g || g->killed || s->stop || g->panicked || s->points_held) {
        if (g)
            point_in_step(s, keys, n);
        return;
    }
    s->points++;
    if (s->runq_len == 0 && timerq_next(s->timers) > s->now) {
        point_in_step(s, keys, n);
        return;
    }
    if (s->cfg.policy == SCHED_DFS) {
        /* Done by g's next step, whoever runs first. */
        g->npend = 0;
        for (int i = 0; i < n && g->npend >= 0; i++) {
            if (keys[i] == SCHED_KEY_NONE)
                continue;
            if (keys[i] == SCHED_KEY_ANY || g->npend == SCHED_PEND_KEYS) {
                g->pend[0] = SCHED_KEY_ANY;
                g->npend = 1;
                break;
            }
            g->pend[g->npend++] = keys[i];
        }
        /* The step that ends here also names what g does next: two steps
         * that only start goroutines toward a common object are then
         * dependent, so a preemption bound cannot hide the order that
         * sleep sets would leave to an equivalent schedule past the bound. */
        for (int i = 0; i < g->npend; i++)
            sched_fp_add(s, g->pend[i]);
    }
    /* A point where another goroutine could run: PCT's step. At a change
     * point the running goroutine drops to the change point's priority,
     * before the pick below. */
    s->choice_points++;
    while (s->pct_next < s->pct_nchanges &&
           (int64_t)s->choice_points >= s->pct_changes[s->pct_next].at)
        g->pct_prio = s->pct_changes[s->pct_next++].prio;
    if (g == s->main_g && s->main_exiting)
        g->pct_prio = PCT_PRIO_EXIT; /* the exit comes last (main_return_point) */
    g->state = G_RUNNABLE;
    runq_push(s, g);
    s->at_point = g;
    switch_out(s, g);
}

void sched_points_hold(void)
{
    if (sched_cur)
        sched_cur->points_held++;
}

void sched_points_release(void)
{
    if (sched_cur)
        sched_cur->points_held--;
}

void go_exit(void)
{
    sched_t *s = need_running("go_exit");
    g_t *g = s->running;
    if (g == s->main_g)
        s->main_goexit = true;
    g_finish(s, g);
}

bool go_wait_world(simtime_t deadline)
{
    sched_t *s = need_running("go_wait_world");
    ASSERTF(!s->world_waiter, "two goroutines wait for the world at once");
    s->world_waiter = s->running;
    s->world_deadline = deadline;
    s->world_timed_out = false;
    sched_park(WAIT_WORLD, 0);
    return !s->world_timed_out;
}

/* The loop found nothing runnable and the next event at next: wake the
 * goroutine waiting for the world if the world is idle (no event at all)
 * or its deadline comes first. True if it was woken. */
static bool wake_world_waiter(sched_t *s, simtime_t next)
{
    g_t *w = s->world_waiter;
    if (next != SIMTIME_MAX && next <= s->world_deadline)
        return false;
    if (next != SIMTIME_MAX) {
        /* The deadline first, unless the run's limit comes before it. */
        if (s->cfg.until > 0 && s->world_deadline > s->cfg.until)
            return false;
        if (s->world_deadline > s->now) {
            if (s->clock_hook)
                s->clock_hook(s->clock_ud, s->now, s->world_deadline);
            s->now = s->world_deadline;
        }
        s->world_timed_out = true;
    }
    s->world_waiter = NULL;
    sched_ready(w);
    s->world_idle = next == SIMTIME_MAX;
    return true;
}

void sched_park(wait_reason_t reason, uint64_t obj)
{
    sched_park_until(reason, obj, -1);
}

void sched_park_until(wait_reason_t reason, uint64_t obj, simtime_t wake_at)
{
    sched_t *s = need_running("sched_park");
    g_t *g = s->running;
    g->state = G_WAITING;
    g->reason = reason;
    g->wait_obj = obj;
    g->blocked_since = s->now;
    g->wake_at = wake_at;
    if (s->cfg.policy == SCHED_DFS)
        sched_fp_add(s, obj);
    emit(s, EV_GO_BLOCK, g->id, obj, reason, 0, NULL);
    switch_out(s, g);
}

void sched_ready(g_t *g)
{
    sched_t *s = sched_cur;
    if (g->killed)
        return; /* its process is gone: nothing wakes it */
    ASSERTF(g->state == G_WAITING, "sched_ready on goroutine %llu that is not parked",
            (unsigned long long)g->id);
    g->state = G_RUNNABLE;
    g->reason = WAIT_NONE;
    s->world_idle = false;
    emit(s, EV_GO_WAKE, s->running ? s->running->id : 0, g->id, 0, 0, NULL);
    runq_push(s, g);
}

void sched_each_goroutine(sched_t *s, void (*fn)(void *ud, g_t *g), void *ud)
{
    for (g_t *g = s->all_head; g; g = g->next)
        fn(ud, g);
}

static sched_result_t loop(sched_t *s)
{
    sched_t *outer = sched_cur;
    race_t *outer_race = race_active;
    bool outer_points = sched_points_on;
    sched_cur = s;
    race_active = s->race;
    sched_points_on = s->cfg.sync_points;
    s->stop = false;
    for (;;) {
        if (s->stop)
            break;
        if (__builtin_expect(over_instant(s), 0)) {
            sched_livelock(s);
            break;
        }
        if (timerq_next(s->timers) <= s->now) {
            if (s->cfg.policy == SCHED_DFS)
                sched_fp_add(s, SCHED_KEY_ANY); /* timers' effects: not tracked */
            timerq_fire_due(s, s->timers, s->now);
        }
        if (s->runq_len == 0) {
            if (s->stop)
                break;
            simtime_t next = timerq_next(s->timers);
            if (s->world_waiter && wake_world_waiter(s, next))
                continue;
            if (next == SIMTIME_MAX) {
                if (s->main_g && !s->main_exited) {
                    sched_set_failure(s, SCHED_DEADLOCK, "fatal error: ",
                                "all goroutines are asleep - deadlock!");
                } else if (s->main_goexit && s->alive == 0) {
                    sched_set_failure(s, SCHED_DEADLOCK, "fatal error: ",
                                "no goroutines (main called runtime.Goexit) - deadlock!");
                } else if (s->main_goexit) {
                    sched_set_failure(s, SCHED_DEADLOCK, "fatal error: ",
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
                    s->instant_first_step = s->steps;
                }
                s->result = SCHED_UNTIL;
                break;
            }
            if (s->clock_hook)
                s->clock_hook(s->clock_ud, s->now, next);
            ASSERTF(next >= s->now, "the clock would go back from %lld to %lld",
                    (long long)s->now, (long long)next);
            s->now = next;
            s->instant_first_step = s->steps;
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
                sched_stack_overflow(g);
            if (g->state == G_DEAD) {
                forget_dead(s, g);
                coro_stack_put(g->stack->pool, g->stack);
            }
        }
        if (s->step_hook)
            s->step_hook(s->step_ud);
    }
    sched_cur = outer;
    race_active = outer_race;
    sched_points_on = outer_points;
    return s->result;
}

sched_result_t sched_run(sched_t *s, void (*main_fn)(void *), void *arg)
{
    coro_init_thread(&s->ctx);
    sched_t *outer = sched_cur;
    sched_cur = s;
    s->main_g = go_spawn(main_fn, arg, "main.main");
    sched_cur = outer;
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

