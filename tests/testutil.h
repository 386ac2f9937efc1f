/*
 * Helpers shared by the Check suites: run a function as the main goroutine
 * of a fresh scheduler with a fixed seed and keep the scheduler for the
 * assertions that follow.
 */
#ifndef CHANSIM_TESTUTIL_H
#define CHANSIM_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "sched.h"
#include "timer.h"

/* Run fn(arg) as main under cfg (NULL: Go's defaults, seed 1). The caller
 * destroys the returned scheduler. */
static inline sched_t *run_with(const sched_config_t *cfg, void (*fn)(void *), void *arg,
                                sched_result_t *result)
{
    sched_config_t c = cfg ? *cfg : sched_config_default();
    sched_t *s = sched_create(&c);
    sched_result_t r = sched_run(s, fn, arg);
    if (result)
        *result = r;
    return s;
}

/* Run fn as main and return the result, destroying the scheduler. */
static inline sched_result_t run_main(void (*fn)(void *), void *arg)
{
    sched_result_t r;
    sched_t *s = run_with(NULL, fn, arg, &r);
    sched_destroy(s);
    return r;
}

/* Run fn as main; assert that it panicked with exactly msg. */
#define ck_assert_panics(fn, arg, msg)                                         \
    do {                                                                       \
        sched_result_t r_;                                                     \
        sched_t *s_ = run_with(NULL, (fn), (arg), &r_);                        \
        ck_assert_int_eq(r_, SCHED_PANIC);                                     \
        ck_assert_str_eq(sched_failure_message(s_), (msg));                    \
        char want_[512];                                                       \
        snprintf(want_, sizeof want_, "panic: %s\n", (msg));                   \
        ck_assert_msg(strncmp(sched_report(s_), want_, strlen(want_)) == 0,    \
                      "report: %s", sched_report(s_));                         \
        sched_destroy(s_);                                                     \
    } while (0)

#define ck_assert_fatal(fn, arg, msg)                                          \
    do {                                                                       \
        sched_result_t r_;                                                     \
        sched_t *s_ = run_with(NULL, (fn), (arg), &r_);                        \
        ck_assert_int_eq(r_, SCHED_FATAL);                                     \
        ck_assert_str_eq(sched_failure_message(s_), (msg));                    \
        sched_destroy(s_);                                                     \
    } while (0)

/* Run a Check suite in fork mode and return the process exit status. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
