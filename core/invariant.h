/*
 * invariant: assertions that stay on in every build, and SQLite's
 * ALWAYS()/NEVER() for defensive branches.
 *
 * ASSERT(expr) checks one condition. When it is false the process ends with
 * abort() (SIGABRT) after one report on standard error that names the
 * expression, where it is (file:line and function) and where the simulation
 * was (the simulated time and the running goroutine's id and name):
 *
 *     chansim: assertion failed: q->len > 0
 *       at core/chan.c:212 in chan_send
 *       simulated time 1.5s, goroutine 7 (main.worker)
 *
 * NDEBUG does not turn it off (the house style: assertions on in every
 * build, as TigerBeetle's). A failed assertion is a bug in chansim, never
 * the simulated program's fault: that one panics as Go would (go_panic,
 * exit 2) and a bad scenario is a scenario error (exit 3).
 *
 * ASSERTF(expr, fmt, ...) adds a sentence of detail (printf format) after
 * the expression; UNREACHABLE() marks a place control never reaches.
 *
 * ALWAYS(x) and NEVER(x) wrap the condition of a defensive branch, one that
 * handles a case believed impossible (SQLite's os.c and btree.c). In debug
 * builds (no NDEBUG, or CHANSIM_INVARIANTS defined) they assert that the
 * belief holds; in release builds they are just the condition, so the
 * defensive branch still runs:
 *
 *     if (NEVER(n > cap)) return -1;
 *
 * INVARIANT_DEEP is 1 in those same debug builds and 0 otherwise: it guards
 * checks that cost more than O(1) (walking a queue or a heap) on hot paths,
 * as in `if (INVARIANT_DEEP) chan_check_queues(c);`. The Debug+ASan build
 * of the test suite runs with them on.
 */
#ifndef CHANSIM_INVARIANT_H
#define CHANSIM_INVARIANT_H

#if !defined(NDEBUG) || defined(CHANSIM_INVARIANTS)
#define INVARIANT_DEEP 1
#else
#define INVARIANT_DEEP 0
#endif

#define ASSERT(expr)                                                                      \
    (__builtin_expect(!!(expr), 1) ? (void)0 : invariant_fail(__FILE__, __LINE__, __func__, #expr))

#define ASSERTF(expr, ...)                                                                \
    (__builtin_expect(!!(expr), 1) ? (void)0                                              \
                                   : invariant_failf(__FILE__, __LINE__, __func__, #expr, __VA_ARGS__))

#define UNREACHABLE() invariant_fail(__FILE__, __LINE__, __func__, "unreachable")

#if INVARIANT_DEEP
#define ALWAYS(x) (__builtin_expect(!!(x), 1) ? 1 : (invariant_fail(__FILE__, __LINE__, __func__, "ALWAYS(" #x ")"), 0))
#define NEVER(x) (__builtin_expect(!!(x), 0) ? (invariant_fail(__FILE__, __LINE__, __func__, "NEVER(" #x ")"), 1) : 0)
#else
#define ALWAYS(x) (!!(x))
#define NEVER(x) (!!(x))
#endif

/* For O(n) checks at low frequency in every build: true at the 1st, 2nd,
 * 4th, 8th, ... call with the same counter, so k operations pay for
 * O(log k) walks. The counter belongs to the structure checked; reading
 * it changes nothing the simulation sees. */
static inline int invariant_sparse(unsigned long long *counter)
{
    unsigned long long n = ++*counter;
    return (n & (n - 1)) == 0;
}

/* Report a failed assertion (see above) and abort(). */
void invariant_fail(const char *file, int line, const char *func, const char *expr)
    __attribute__((noreturn, cold));
/* The same with a sentence of detail after the expression. */
void invariant_failf(const char *file, int line, const char *func, const char *expr,
                     const char *fmt, ...) __attribute__((noreturn, cold, format(printf, 5, 6)));

#endif
