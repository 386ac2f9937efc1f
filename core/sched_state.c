/*
 * sched_state: the scheduler as a container — creation and destruction,
 * its accessors, interned strings, the objects it owns, the trace's sinks
 * and the hooks of hosts and views. See sched.h; the structures are in
 * sched_internal.h.
 *
 * Ownership: every interned string and every object is freed by
 * sched_destroy, objects newest first, after the stacks of goroutines still
 * parked (their frames are never resumed).
 */
#include "sched_internal.h"

#include "race.h"

#include <string.h>

#include "duration.h"

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
    [WAIT_WORLD] = "wait for the world",
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
    return sched_cur && sched_cur->running ? sched_cur->running->id : 0;
}

sched_t *sched_create(const sched_config_t *cfg)
{
    sched_t *s = mem_calloc(1, sizeof *s);
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
    s->report = mem_calloc(1, 1);
    s->failure = mem_calloc(1, 1);
    if (s->cfg.policy == SCHED_PCT && s->cfg.pct_depth > 1) {
        /* Burckhardt et al. 2010: d-1 change points drawn uniformly over
         * the run's k steps (here decision points, k = pct_steps); the
         * i-th one drawn lowers the running goroutine to priority i, below
         * every starting priority (PCT_PRIO_START and up). */
        s->pct_nchanges = s->cfg.pct_depth - 1;
        s->pct_changes = mem_calloc((size_t)s->pct_nchanges, sizeof *s->pct_changes);
        for (int i = 0; i < s->pct_nchanges; i++) {
            s->pct_changes[i].at = rand_range(&s->rng[RAND_SCHED], 1, s->cfg.pct_steps);
            s->pct_changes[i].prio = i + 1;
        }
        /* insertion sort by step: a handful of entries */
        for (int i = 1; i < s->pct_nchanges; i++)
            for (int j = i; j > 0 && s->pct_changes[j - 1].at > s->pct_changes[j].at; j--) {
                struct pct_change t = s->pct_changes[j];
                s->pct_changes[j] = s->pct_changes[j - 1];
                s->pct_changes[j - 1] = t;
            }
    }
    if (s->cfg.race)
        s->race = race_new(s);
    coro_install_overflow_handler(overflow_who);
    return s;
}

void sched_destroy(sched_t *s)
{
    if (!s)
        return;
    if (sched_cur == s)
        sched_cur = NULL;
    /* Goroutines still parked: drop their stacks; their frames are never
     * resumed. The descriptor is read before its stack goes back. */
    for (int list = 0; list < 2; list++) {
        g_t *g = list == 0 ? s->all_head : s->killed_head;
        while (g) {
            g_t *next = g->next;
            coro_stack_put(g->stack->pool, g->stack);
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
    race_free(s->race);
    timerq_destroy(s->timers);
    coro_pool_destroy(s->pool);
    for (int i = 0; i < SCHED_STACK_SIZES; i++)
        coro_pool_destroy(s->xpool[i]);
    for (size_t i = 0; i < s->intern_cap; i++)
        free((void *)s->intern[i].str);
    free(s->intern);
    free(s->runq);
    free(s->decisions);
    free(s->pct_changes);
    free(s->report);
    free(s->failure);
    free(s->waits);
    free(s);
}

sched_t *sched_current(void) { return sched_cur; }
simtime_t sched_now_of(const sched_t *s) { return s->now; }
uint64_t sched_seed(const sched_t *s) { return s->cfg.seed; }
sched_policy_t sched_policy(const sched_t *s) { return s->cfg.policy; }
uint64_t sched_goroutines_spawned(const sched_t *s) { return s->spawned; }
uint64_t sched_goroutines_alive(const sched_t *s) { return s->alive; }
uint64_t sched_steps(const sched_t *s) { return s->steps; }
const char *sched_report(const sched_t *s) { return s->report; }
const char *sched_failure_message(const sched_t *s) { return s->failure; }
const char *sched_deadlock_waits(const sched_t *s) { return s->waits ? s->waits : ""; }
bool sched_replay_diverged(const sched_t *s) { return s->replay_diverged; }
bool sched_replay_divergence(const sched_t *s, size_t *index, uint32_t *value, uint32_t *offered)
{
    if (!s->replay_diverged)
        return false;
    *index = s->replay_div_at;
    *value = s->replay_div_value;
    *offered = s->replay_div_offered;
    return true;
}
rand_t *sched_rand(sched_t *s, rand_stream_t which) { return &s->rng[which]; }
timerq_t *sched_timerq(sched_t *s) { return s->timers; }
struct ctx **sched_ctx_roots(sched_t *s) { return s->ctx_roots; }
void sched_set_until(sched_t *s, simtime_t until) { s->cfg.until = until; }
void sched_exit(sched_t *s) { s->stop = true; s->result = SCHED_EXITED; }
void sched_set_frames_hook(sched_t *s, go_frames_hook_t hook) { s->frames_hook = hook; }
uint64_t sched_points(const sched_t *s) { return s->points; }
uint64_t sched_choice_points(const sched_t *s) { return s->choice_points; }
struct race *sched_race(const sched_t *s) { return s->race; }

size_t sched_frames(sched_t *s, g_t *g, char *buf, size_t size)
{
    if (!size)
        return 0;
    buf[0] = 0;
    if (s->frames_hook)
        s->frames_hook(g, buf, size);
    return strlen(buf);
}

simtime_t sched_now(void)
{
    return sched_cur ? sched_cur->now : 0;
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
        intern_entry_t *n = mem_calloc(ncap, sizeof *n);
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
    char *copy = mem_strdup(str);
    s->intern[j].str = copy;
    s->intern[j].hash = h;
    s->intern_len++;
    s->intern_last = copy;
    return copy;
}

/* ---- objects ----------------------------------------------------------- */

void *obj_alloc(size_t size, trace_obj_kind_t kind, void (*deinit)(obj_t *))
{
    sched_t *s = sched_cur;
    ASSERTF(s, "core object created outside a running scheduler");
    obj_t *o = mem_calloc(1, size);
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
    if (sched_cur && sched_cur->race)
        race_obj_free_slow(sched_cur->race, o->id);
    if (o->deinit)
        o->deinit(o);
    free(o);
}

void obj_set_name(void *p, const char *name)
{
    obj_t *o = p;
    o->name = sched_cur ? sched_intern(sched_cur, name) : NULL;
}

uint64_t obj_id(const void *p)
{
    return p ? ((const obj_t *)p)->id : 0;
}

/* ---- trace ------------------------------------------------------------- */

/* Hand an event to the sinks (out of line: most runs have none). */
void sched_emit_sinks(sched_t *s, uint64_t seq, trace_kind_t kind, uint64_t gid, uint64_t obj,
                      int64_t a, int64_t b, const char *detail)
{
    trace_event_t ev = {
        .t = s->now, .seq = seq, .kind = kind, .g = gid,
        .obj = obj, .a = a, .b = b, .detail = detail,
    };
    for (int i = 0; i < s->nsinks; i++)
        if ((s->sinks[i].kinds >> kind) & 1)
            s->sinks[i].fn(s->sinks[i].ud, &ev);
}

void sched_emit(trace_kind_t kind, uint64_t obj, int64_t a, int64_t b, const char *detail)
{
    sched_t *s = sched_cur;
    if (!s)
        return;
    emit(s, kind, s->running ? s->running->id : 0, obj, a, b, detail);
}

void sched_emit_digest(trace_kind_t kind, uint64_t obj, int64_t a, int64_t b, const char *detail,
                       uint64_t detail_digest)
{
    sched_t *s = sched_cur;
    if (!s)
        return;
    emit_dd(s, kind, s->running ? s->running->id : 0, obj, a, b, detail, detail_digest);
}

uint64_t sched_trace_hash(const sched_t *s) { return s->hash; }
uint64_t sched_trace_events(const sched_t *s) { return s->nevents; }

_Static_assert(EV_KIND_COUNT <= 64, "a sink's kinds are one bit each in a uint64_t");

int sched_add_sink_kinds(sched_t *s, trace_sink_t sink, void *ud, uint64_t kinds)
{
    if (s->nsinks == (int)(sizeof s->sinks / sizeof s->sinks[0]))
        return -1;
    s->sinks[s->nsinks].fn = sink;
    s->sinks[s->nsinks].ud = ud;
    s->sinks[s->nsinks].kinds = kinds;
    s->sink_kinds |= kinds;
    return s->nsinks++;
}

int sched_add_sink(sched_t *s, trace_sink_t sink, void *ud)
{
    return sched_add_sink_kinds(s, sink, ud, ~(uint64_t)0);
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


void sched_set_timer_slack(sched_t *s, timer_slack_t slack)
{
    s->cfg.slack = slack;
}

/* ln(x) for x > 0 in plain arithmetic (no libm in core, and the same bits
 * on every platform): x = m * 2^e with m in [1, 2), ln m by atanh's series. */
static double plain_log(double x)
{
    int e = 0;
    while (x >= 2.0) {
        x /= 2.0;
        e++;
    }
    while (x < 1.0) {
        x *= 2.0;
        e--;
    }
    double z = (x - 1.0) / (x + 1.0), z2 = z * z, term = z, sum = 0.0;
    for (int k = 1; k < 60; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2.0 * sum + e * 0.69314718055994530942;
}

static simtime_t slack_draw(sched_t *s)
{
    const timer_slack_t *k = &s->cfg.slack;
    rand_t *r = &s->rng[RAND_SLACK];
    switch (k->kind) {
    case SLACK_CONSTANT:
        return k->a;
    case SLACK_UNIFORM:
        return rand_range(r, k->a, k->b);
    case SLACK_EXP: {
        double u = rand_double(r); /* [0, 1) */
        double v = -(double)k->a * plain_log(1.0 - u);
        return v > 1e18 ? (simtime_t)1e18 : (simtime_t)(v + 0.5);
    }
    default:
        return 0;
    }
}

simtime_t sched_timer_slack(sched_t *s, simtime_t d)
{
    simtime_t late = slack_draw(s);
    simtime_t g = s->cfg.slack.round;
    if (g > 0 && d > 0 && d % g != 0) {
        simtime_t up = g - d % g;
        late = late > SIMTIME_MAX - up ? SIMTIME_MAX : late + up;
    }
    return late;
}

bool timer_slack_parse(const char *spec, timer_slack_t *out, char *err, size_t errsize)
{
    timer_slack_t k = {SLACK_OFF, 0, 0, 0};
    char e[256];
    if (strcmp(spec, "off") == 0) {
        *out = k;
        return true;
    }
    if (strcmp(spec, "linux") == 0) {
        k.kind = SLACK_UNIFORM;
        k.a = 1 * SIM_US;
        k.b = 60 * SIM_US;
        *out = k;
        return true;
    }
    if (strcmp(spec, "go-linux") == 0) {
        /* Measured with Go 1.19 on Linux (median of 300 sleeps): 100us
         * and 500us take 1.12ms, 1ms 1.12ms, 1.5ms 2.24ms, 3ms 3.24ms,
         * 20ms 20.29ms. */
        k.kind = SLACK_UNIFORM;
        k.a = 100 * SIM_US;
        k.b = 250 * SIM_US;
        k.round = SIM_MS;
        *out = k;
        return true;
    }
    if (strncmp(spec, "uniform:", 8) == 0) {
        char lo[64];
        const char *comma = strchr(spec + 8, ',');
        if (!comma || (size_t)(comma - spec - 8) >= sizeof lo) {
            snprintf(err, errsize, "timer slack \"%s\": want uniform:MIN,MAX", spec);
            return false;
        }
        snprintf(lo, sizeof lo, "%.*s", (int)(comma - spec - 8), spec + 8);
        if (!dur_parse(lo, &k.a, e, sizeof e) || !dur_parse(comma + 1, &k.b, e, sizeof e) ||
            k.a < 0 || k.b < k.a) {
            snprintf(err, errsize, "timer slack \"%s\": want uniform:MIN,MAX with 0 <= MIN <= MAX", spec);
            return false;
        }
        k.kind = SLACK_UNIFORM;
    } else if (strncmp(spec, "exp:", 4) == 0) {
        if (!dur_parse(spec + 4, &k.a, e, sizeof e) || k.a <= 0) {
            snprintf(err, errsize, "timer slack \"%s\": want exp:MEAN with a positive mean", spec);
            return false;
        }
        k.kind = SLACK_EXP;
    } else {
        if (!dur_parse(spec, &k.a, e, sizeof e) || k.a < 0) {
            snprintf(err, errsize, "timer slack \"%s\": want off, a duration, uniform:MIN,MAX, "
                                   "exp:MEAN, linux or go-linux", spec);
            return false;
        }
        k.kind = k.a ? SLACK_CONSTANT : SLACK_OFF;
    }
    *out = k;
    return true;
}
