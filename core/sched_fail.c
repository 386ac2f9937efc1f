/*
 * sched_fail: how a simulated program fails — go_panic, go_fatal, the
 * deadlock and stack-overflow reports — and the goroutine dump they print,
 * in Go's format (running goroutine first, then the others in creation
 * order, each with its wait reason, minutes blocked and creator).
 *
 * A failure ends the simulated program, never the process: the report is
 * kept in the scheduler (sched_report) and the loop stops. A stack overflow
 * is the exception: the stack is no longer trustworthy, so the report is
 * written with write(2) and the process exits with status 2.
 */
#include "sched_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "duration.h"
#include "sync.h"

/* sync.c's accessors, weak: a program built without sync.c (it has no
 * locks to report) links without them. */
extern uint64_t mutex_holder(const mutex_t *m) __attribute__((weak));
extern uint64_t rwmutex_holder(const rwmutex_t *rw) __attribute__((weak));
extern int64_t rwmutex_readers(const rwmutex_t *rw) __attribute__((weak));
extern int64_t waitgroup_count(const waitgroup_t *wg) __attribute__((weak));

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
        b->p = mem_realloc(b->p, b->cap);
    }
}

/* Goroutines shown one by one in a dump; the rest are grouped by their
 * state and stack. Go prints every goroutine, which for a deadlock among
 * 100,000 goroutines is megabytes no one reads. */
#define DUMP_SHOWN 100
/* Groups listed for the goroutines past DUMP_SHOWN, most numerous first. */
#define DUMP_GROUPS 10

/* A goroutine's state as Go's header shows it ("chan send", "running"). */
static const char *g_state_text(const g_t *g)
{
    return g->state == G_RUNNING || g->panicked ? "running"
         : g->state == G_RUNNABLE ? "runnable"
         : wait_reason_string(g->reason);
}

/* g's frames as the dump prints them, into frames (size bytes). */
static void g_frames(sched_t *s, g_t *g, char *frames, size_t size)
{
    frames[0] = 0;
    if (s->frames_hook)
        s->frames_hook(g, frames, size);
    if (!frames[0])
        snprintf(frames, size, "%s()\n", g->name);
    else if (frames[strlen(frames) - 1] != '\n' && strlen(frames) + 1 < size)
        strcat(frames, "\n");
}

static void dump_one(sched_t *s, sbuf_t *b, g_t *g)
{
    sb_printf(b, "\ngoroutine %llu [%s", (unsigned long long)g->id, g_state_text(g));
    if (g->state == G_WAITING && !g->panicked) {
        simtime_t mins = (s->now - g->blocked_since) / (60 * SIM_SEC);
        if (mins >= 1)
            sb_printf(b, ", %lld minutes", (long long)mins);
    }
    sb_printf(b, "]:\n");
    char frames[4096];
    g_frames(s, g, frames, sizeof frames);
    sb_printf(b, "%s", frames);
    if (g->created_by)
        sb_printf(b, "created by %s in goroutine %llu\n",
                  g->creator_name ? g->creator_name : "?",
                  (unsigned long long)g->created_by);
}

/* The goroutines past the ones shown, grouped by state and stack. */
typedef struct dump_group {
    uint64_t key;   /* hash of the state and the frames */
    uint64_t count;
    g_t *first;     /* the first of them, in creation order */
} dump_group_t;

static uint64_t fnv(uint64_t h, const char *p)
{
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

static int by_count(const void *a, const void *b)
{
    const dump_group_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first->id < y->first->id ? -1 : x->first->id > y->first->id;
}

static void dump_rest(sched_t *s, sbuf_t *b, g_t *from, uint64_t nrest)
{
    size_t cap = 64, n = 0;
    dump_group_t *gs = mem_calloc(cap, sizeof *gs);
    char frames[4096];
    for (g_t *g = from; g; g = g->next) {
        if (g == s->running)
            continue;
        g_frames(s, g, frames, sizeof frames);
        uint64_t key = fnv(fnv(0xcbf29ce484222325ull, g_state_text(g)), frames);
        size_t i = 0;
        while (i < n && gs[i].key != key)
            i++;
        if (i == n) {
            if (n == cap) {
                cap *= 2;
                gs = mem_realloc(gs, cap * sizeof *gs);
            }
            gs[n++] = (dump_group_t){.key = key, .first = g};
        }
        gs[i].count++;
        if (n > 4096)
            break; /* stacks all different: enough to say so */
    }
    qsort(gs, n, sizeof *gs, by_count);
    sb_printf(b, "\n...%llu more goroutines not shown one by one (the first %d are); by state "
                 "and stack:\n", (unsigned long long)nrest, DUMP_SHOWN);
    uint64_t listed = 0;
    for (size_t i = 0; i < n && i < DUMP_GROUPS; i++) {
        g_t *g = gs[i].first;
        g_frames(s, g, frames, sizeof frames);
        sb_printf(b, "\n%llu goroutine%s [%s] like goroutine %llu:\n%s",
                  (unsigned long long)gs[i].count, gs[i].count == 1 ? "" : "s", g_state_text(g),
                  (unsigned long long)g->id, frames);
        listed += gs[i].count;
    }
    if (listed < nrest)
        sb_printf(b, "\n...and %llu goroutines in other states or stacks\n",
                  (unsigned long long)(nrest - listed));
    free(gs);
}

static void dump_into(sched_t *s, sbuf_t *b)
{
    uint64_t shown = 0;
    if (s->running) {
        dump_one(s, b, s->running);
        shown++;
    }
    g_t *g = s->all_head;
    for (; g && shown < DUMP_SHOWN; g = g->next)
        if (g != s->running) {
            dump_one(s, b, g);
            shown++;
        }
    uint64_t rest = 0;
    for (g_t *r = g; r; r = r->next)
        rest += r != s->running;
    if (rest)
        dump_rest(s, b, g, rest);
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

/* ---- a deadlock's waits and the wait-for cycle ------------------------- */

#define WAITS_SHOWN 100

typedef struct waits {
    obj_t **objs;  /* live objects by id (their list is in creation order) */
    size_t nobjs;
    g_t **gs;      /* goroutines by id */
    size_t ngs;
} waits_t;

static obj_t *obj_by_id(const waits_t *w, uint64_t id)
{
    size_t lo = 0, hi = w->nobjs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->objs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->nobjs && w->objs[lo]->id == id ? w->objs[lo] : NULL;
}

/* The place of goroutine id in w->gs, w->ngs if it is not there. */
static size_t g_index(const waits_t *w, uint64_t id)
{
    size_t lo = 0, hi = w->ngs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->gs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->ngs && w->gs[lo]->id == id ? lo : w->ngs;
}

static g_t *g_by_id(const waits_t *w, uint64_t id)
{
    size_t i = g_index(w, id);
    return i < w->ngs ? w->gs[i] : NULL;
}

static const char *kind_name(trace_obj_kind_t k)
{
    switch (k) {
    case OBJ_CHAN: return "chan";
    case OBJ_MUTEX: return "mutex";
    case OBJ_RWMUTEX: return "rwmutex";
    case OBJ_WAITGROUP: return "waitgroup";
    case OBJ_ONCE: return "once";
    case OBJ_COND: return "cond";
    case OBJ_SEMAPHORE: return "semaphore";
    case OBJ_CONTEXT: return "context";
    default: return "object";
    }
}

static void obj_words(sbuf_t *b, const obj_t *o, uint64_t id)
{
    if (!o)
        sb_printf(b, "object #%llu", (unsigned long long)id);
    else if (o->name)
        sb_printf(b, "%s %s", kind_name(o->kind), o->name);
    else
        sb_printf(b, "%s #%llu", kind_name(o->kind), (unsigned long long)o->id);
}

static void g_words(sbuf_t *b, const g_t *g)
{
    sb_printf(b, "goroutine %llu (%s)", (unsigned long long)g->id, g->name);
}

/* The goroutine g waits for, through a lock it waits on: its holder (0 if
 * none or not a lock). */
static uint64_t waits_for(const waits_t *w, const g_t *g)
{
    if (g->state != G_WAITING || !g->wait_obj)
        return 0;
    obj_t *o = obj_by_id(w, g->wait_obj);
    if (!o)
        return 0;
    if (o->kind == OBJ_MUTEX && mutex_holder)
        return mutex_holder((const mutex_t *)o);
    if (o->kind == OBJ_RWMUTEX && rwmutex_holder)
        return rwmutex_holder((const rwmutex_t *)o);
    return 0;
}

static void collect_obj(void *ud, obj_t *o)
{
    waits_t *w = ud;
    w->objs[w->nobjs++] = o;
}

static size_t count_obj(sched_t *s)
{
    size_t n = 0;
    for (obj_t *o = s->objs.next; o != &s->objs; o = o->next)
        n++;
    return n;
}

/* After a deadlock's dump: what each goroutine waits on (by name) and who
 * holds it, then every wait-for cycle through held locks. */
static void waits_into(sched_t *s, sbuf_t *b)
{
    waits_t w = {0};
    size_t no = count_obj(s);
    w.objs = mem_calloc(no ? no : 1, sizeof *w.objs);
    sched_each_object(s, collect_obj, &w);
    for (g_t *g = s->all_head; g; g = g->next)
        w.ngs++;
    w.gs = mem_calloc(w.ngs ? w.ngs : 1, sizeof *w.gs);
    size_t k = 0;
    for (g_t *g = s->all_head; g; g = g->next)
        w.gs[k++] = g;
    /* objects and goroutines are listed in creation order: by id */
    size_t shown = 0, more = 0;
    for (size_t i = 0; i < w.ngs; i++) {
        g_t *g = w.gs[i];
        if (g->state != G_WAITING || g->panicked)
            continue;
        if (!shown)
            sb_printf(b, "\nwhat each goroutine waits on:\n");
        if (shown++ >= WAITS_SHOWN) {
            more++;
            continue;
        }
        sb_printf(b, "  ");
        g_words(b, g);
        sb_printf(b, " [%s]", wait_reason_string(g->reason));
        if (g->wait_obj) {
            obj_t *o = obj_by_id(&w, g->wait_obj);
            sb_printf(b, ": ");
            obj_words(b, o, g->wait_obj);
            uint64_t h = waits_for(&w, g);
            g_t *hg = h ? g_by_id(&w, h) : NULL;
            if (hg) {
                sb_printf(b, ", held by ");
                g_words(b, hg);
            } else if (o && o->kind == OBJ_RWMUTEX && rwmutex_readers &&
                       rwmutex_readers((const rwmutex_t *)o) > 0) {
                sb_printf(b, ", held by %lld reader(s)", (long long)rwmutex_readers((const rwmutex_t *)o));
            } else if (o && o->kind == OBJ_CHAN) {
                const chan_t *c = (const chan_t *)o;
                if (g->reason == WAIT_CHAN_SEND)
                    sb_printf(b, " (%s; no goroutine receives)", chan_cap(c) ? "full" : "unbuffered");
                else if (g->reason == WAIT_CHAN_RECV)
                    sb_printf(b, " (empty; no goroutine sends or closes it)");
            } else if (o && o->kind == OBJ_WAITGROUP && waitgroup_count) {
                sb_printf(b, " (counter %lld)", (long long)waitgroup_count((const waitgroup_t *)o));
            }
        }
        sb_printf(b, "\n");
    }
    if (more)
        sb_printf(b, "  ... and %zu more\n", more);
    /* Cycles: each waiting goroutine has at most one edge (the holder of
     * the lock it waits on); walk from each, in id order, marking. */
    unsigned char *mark = mem_calloc(w.ngs ? w.ngs : 1, 1); /* 0 new, 1 on this walk, 2 done */
    int cycles = 0;
    for (size_t i = 0; i < w.ngs && cycles < 5; i++) {
        if (mark[i])
            continue;
        size_t at = i;
        for (;;) {
            mark[at] = 1;
            uint64_t h = waits_for(&w, w.gs[at]);
            size_t next = h ? g_index(&w, h) : w.ngs;
            if (next == w.ngs || mark[next] == 2)
                break;
            if (mark[next] == 1) {
                /* a cycle from next back to it */
                sb_printf(b, "%swait-for cycle: ", cycles ? "" : "\n");
                size_t c = next;
                do {
                    g_words(b, w.gs[c]);
                    sb_printf(b, " waits on ");
                    obj_words(b, obj_by_id(&w, w.gs[c]->wait_obj), w.gs[c]->wait_obj);
                    sb_printf(b, " held by ");
                    c = g_index(&w, waits_for(&w, w.gs[c]));
                } while (c != next && c < w.ngs);
                g_words(b, w.gs[next]);
                sb_printf(b, "\n");
                cycles++;
                break;
            }
            at = next;
        }
        /* Done with this walk's goroutines: walk the same path again (a
         * pass over every goroutine here made a dump among 100,000
         * goroutines with no edges quadratic: minutes). */
        for (size_t j = i; j < w.ngs && mark[j] == 1;) {
            mark[j] = 2;
            uint64_t h = waits_for(&w, w.gs[j]);
            j = h ? g_index(&w, h) : w.ngs;
        }
    }
    free(mark);
    free(w.objs);
    free(w.gs);
}

void sched_set_failure(sched_t *s, sched_result_t r, const char *header, const char *msg)
{
    sbuf_t b = {0};
    sb_printf(&b, "%s%s\n", header, msg);
    dump_into(s, &b);
    free(s->waits);
    s->waits = NULL;
    if (r == SCHED_DEADLOCK) {
        sbuf_t wb = {0};
        waits_into(s, &wb);
        s->waits = wb.p;
    }
    free(s->report);
    s->report = b.p;
    free(s->failure);
    s->failure = mem_strdup(msg);
    s->result = r;
    s->stop = true;
}

/* The goroutines that ran most at the current instant, most first (ties
 * by id): at most n, into top; returns how many. */
static int busiest(sched_t *s, g_t **top, int n)
{
    int k = 0;
    for (g_t *g = s->all_head; g; g = g->next) {
        if (g->instant_at != s->now || !g->instant_steps)
            continue;
        if (k == n && g->instant_steps <= top[n - 1]->instant_steps)
            continue;
        int i = k < n ? k++ : n - 1; /* full: the last one drops out */
        while (i > 0 && top[i - 1]->instant_steps < g->instant_steps) {
            top[i] = top[i - 1];
            i--;
        }
        top[i] = g;
    }
    return k;
}

void sched_livelock(sched_t *s)
{
    enum { SHOWN = 5 };
    g_t *top[SHOWN];
    int k = busiest(s, top, SHOWN);
    uint64_t total = s->steps - s->instant_first_step;
    char at[64];
    dur_format(s->now, at, sizeof at);
    sbuf_t b = {0};
    sb_printf(&b, "livelock: %llu goroutine steps at simulated time %s without the clock moving:",
              (unsigned long long)total, at);
    /* The goroutines that took a real share (at least 1%), the first always. */
    for (int i = 0; i < k && (i == 0 || top[i]->instant_steps * 100 >= total); i++)
        sb_printf(&b, "%s goroutine %llu (%s) ran %llu", i ? "," : "",
                  (unsigned long long)top[i]->id, top[i]->name,
                  (unsigned long long)top[i]->instant_steps);
    sb_printf(&b, " (polling in a loop with no simulated time passing, as with yield() or a zero "
                  "sleep?%s%s)", s->cfg.max_steps_name ? " the bound is " : "",
              s->cfg.max_steps_name ? s->cfg.max_steps_name : "");
    emit(s, EV_FATAL, k ? top[0]->id : 0, 0, 0, 0, b.p);
    sched_set_failure(s, SCHED_FATAL, "fatal error: ", b.p);
    free(b.p);
}

__attribute__((noreturn)) static void fail_running(sched_t *s, sched_result_t r, trace_kind_t ev,
                         const char *header, const char *msg)
{
    g_t *g = s->running;
    emit(s, ev, g->id, 0, 0, 0, msg);
    g->panicked = true;
    sched_set_failure(s, r, header, msg);
    /* The goroutine stays parked for good; its stack is freed with the
     * scheduler. */
    g->state = G_WAITING;
    g->reason = WAIT_NONE;
    coro_transfer(&g->ctx, &s->ctx);
    UNREACHABLE(); /* never resumed */
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

void sched_stack_overflow(g_t *g)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf,
                     "runtime: goroutine %llu: stack overflow\nfatal error: stack overflow\n",
                     (unsigned long long)g->id);
    if (n > 0 && write(2, buf, (size_t)n) < 0)
        _exit(2);
    _exit(2);
}

