/*
 * invariant: the always-on assertion (ASSERT, ASSERTF, UNREACHABLE) ends
 * the process with SIGABRT and a report naming the expression, file:line,
 * the simulated time and the running goroutine; ALWAYS()/NEVER() assert in
 * debug builds and are the bare condition otherwise.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "invariant.h"
#include "testutil.h"

/* ---- a failing assertion inside a goroutine ----------------------------- */

/* One line: FAIL_LINE is the line of the assertion that fires. */
enum { FAIL_LINE = __LINE__ }; static void check_three(const int *x) { ASSERT(*x == 3); }

static void failing_goroutine(void *arg)
{
    go_sleep(1500 * SIM_MS);
    check_three(arg);
}

static void failing_main(void *arg)
{
    go_spawn(failing_goroutine, arg, "main.checker");
    go_sleep(10 * SIM_SEC);
}

static void run_failing(void)
{
    static int x = 2;
    sched_t *s = sched_create(NULL);
    sched_run(s, failing_main, &x);
    sched_destroy(s);
}

START_TEST(assert_aborts)
{
    run_failing();
}
END_TEST

/* Run child() in a forked process; return its wait status and what it
 * wrote to stderr. */
static int run_forked(void (*child)(void), char *err, size_t size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        child();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = read(fds[0], err + len, size - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = 0;
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void ck_assert_aborted(int status, const char *err)
{
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "status %#x, stderr: %s", status, err);
}

START_TEST(assert_report)
{
    char err[2048];
    int status = run_forked(run_failing, err, sizeof err);
    ck_assert_aborted(status, err);
    char want[256];
    ck_assert_msg(strstr(err, "chansim: assertion failed: *x == 3\n"), "stderr: %s", err);
    snprintf(want, sizeof want, "check_invariant.c:%d in check_three\n", FAIL_LINE);
    ck_assert_msg(strstr(err, want), "want %s, stderr: %s", want, err);
    ck_assert_msg(strstr(err, "  at tests/check_invariant.c:") || strstr(err, "/tests/check_invariant.c:"),
                  "stderr: %s", err);
    ck_assert_msg(strstr(err, "simulated time 1.5s, goroutine 2 (main.checker)\n"), "stderr: %s", err);
}
END_TEST

/* ---- ASSERTF's detail, the scheduler's own stack, no scheduler ---------- */

static void failing_hook(void *ud)
{
    int *steps = ud;
    ++*steps;
    ASSERTF(*steps < 3, "step %d", *steps);
}

static void yielding_main(void *arg)
{
    (void)arg;
    go_sleep(2 * SIM_MS);
    for (int i = 0; i < 5; i++)
        go_yield();
}

static void run_failing_hook(void)
{
    static int steps;
    sched_t *s = sched_create(NULL);
    sched_set_step_hook(s, failing_hook, &steps);
    sched_run(s, yielding_main, NULL);
    sched_destroy(s);
}

START_TEST(assertf_on_the_scheduler)
{
    char err[2048];
    int status = run_forked(run_failing_hook, err, sizeof err);
    ck_assert_aborted(status, err);
    ck_assert_msg(strstr(err, "chansim: assertion failed: *steps < 3 (step 3)\n"), "stderr: %s", err);
    ck_assert_msg(strstr(err, " in failing_hook\n"), "stderr: %s", err);
    ck_assert_msg(strstr(err, "simulated time 2ms, on the scheduler (no goroutine)\n"),
                  "stderr: %s", err);
}
END_TEST

static void unreachable_outside(void)
{
    UNREACHABLE();
}

START_TEST(unreachable_outside_a_scheduler)
{
    char err[2048];
    int status = run_forked(unreachable_outside, err, sizeof err);
    ck_assert_aborted(status, err);
    ck_assert_msg(strstr(err, "chansim: assertion failed: unreachable\n"), "stderr: %s", err);
    ck_assert_msg(strstr(err, "  outside a running scheduler\n"), "stderr: %s", err);
}
END_TEST

START_TEST(passing_assertions_do_nothing)
{
    int calls = 0;
    ASSERT(++calls == 1); /* evaluated exactly once */
    ASSERTF(calls == 1, "calls %d", calls);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(ALWAYS(calls == 1), 1);
    ck_assert_int_eq(NEVER(calls == 2), 0);
}
END_TEST

/* ---- ALWAYS and NEVER --------------------------------------------------- */

static void never_true(void)
{
    volatile int n = 5;
    if (NEVER(n > 4))
        _exit(7); /* the defensive branch of a release build */
}

START_TEST(never_asserts_in_debug_builds_only)
{
    char err[2048];
    int status = run_forked(never_true, err, sizeof err);
    if (INVARIANT_DEEP) {
        ck_assert_aborted(status, err);
        ck_assert_msg(strstr(err, "chansim: assertion failed: NEVER(n > 4)\n"), "stderr: %s", err);
    } else {
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status %#x, stderr: %s",
                      status, err);
    }
}
END_TEST

static Suite *invariant_suite(void)
{
    Suite *s = suite_create("invariant");
    TCase *a = tcase_create("errors");
    tcase_set_timeout(a, 60);
    tcase_add_test_raise_signal(a, assert_aborts, SIGABRT);
    tcase_add_test(a, assert_report);
    tcase_add_test(a, assertf_on_the_scheduler);
    tcase_add_test(a, unreachable_outside_a_scheduler);
    suite_add_tcase(s, a);
    TCase *b = tcase_create("semantics");
    tcase_add_test(b, passing_assertions_do_nothing);
    tcase_add_test(b, never_asserts_in_debug_builds_only);
    suite_add_tcase(s, b);
    return s;
}

int main(void)
{
    return run_suite(invariant_suite());
}
