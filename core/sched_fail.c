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

static void dump_one(sched_t *s, sbuf_t *b, g_t *g)
{
    const char *state = g->state == G_RUNNING || g->panicked ? "running"
                      : g->state == G_RUNNABLE ? "runnable"
                      : wait_reason_string(g->reason);
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

