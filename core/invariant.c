/*
 * invariant: the report of a failed assertion. See invariant.h.
 *
 * The report is written in one fprintf to an unbuffered stderr and says
 * where the simulation stood: the running scheduler's clock (in Go's
 * duration syntax) and its running goroutine, "on the scheduler" between
 * steps, or "outside a running scheduler". It reads that state and changes
 * nothing, so it is safe from any point of core, sim or the view.
 */
#include "invariant.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "duration.h"
#include "sched.h"

static void report(const char *file, int line, const char *func, const char *expr,
                   const char *detail) __attribute__((noreturn));
static void report(const char *file, int line, const char *func, const char *expr,
                   const char *detail)
{
    char where[160];
    sched_t *s = sched_current();
    if (!s) {
        snprintf(where, sizeof where, "outside a running scheduler");
    } else {
        char t[32];
        dur_format(sched_now_of(s), t, sizeof t);
        g_t *g = go_self();
        if (g)
            snprintf(where, sizeof where, "simulated time %s, goroutine %llu (%s)", t,
                     (unsigned long long)go_id(g), go_name(g));
        else
            snprintf(where, sizeof where, "simulated time %s, on the scheduler (no goroutine)", t);
    }
    fprintf(stderr, "chansim: assertion failed: %s%s%s%s\n  at %s:%d in %s\n  %s\n", expr,
            detail ? " (" : "", detail ? detail : "", detail ? ")" : "", file, line, func, where);
    fflush(stderr);
    abort();
}

void invariant_fail(const char *file, int line, const char *func, const char *expr)
{
    report(file, line, func, expr, NULL);
}

void invariant_failf(const char *file, int line, const char *func, const char *expr,
                     const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    report(file, line, func, expr, detail);
}
