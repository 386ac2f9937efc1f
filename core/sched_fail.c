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

#include "duration.h"

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

void sched_set_failure(sched_t *s, sched_result_t r, const char *header, const char *msg)
{
    sbuf_t b = {0};
    sb_printf(&b, "%s%s\n", header, msg);
    dump_into(s, &b);
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

