/*
 * mem: the allocator family returns usable memory or ends the process with
 * the one out-of-memory message; zero-byte requests follow mem.h.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "testutil.h"

START_TEST(copies_and_zeroes)
{
    char *s = mem_strdup("chan send");
    ck_assert_str_eq(s, "chan send");
    char *t = mem_strndup("chan send", 4);
    ck_assert_str_eq(t, "chan");
    char *u = mem_strndup("go", 10);
    ck_assert_str_eq(u, "go");
    int *z = mem_calloc(16, sizeof *z);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(z[i], 0);
    z = mem_realloc(z, 1024 * sizeof *z);
    ck_assert_int_eq(z[15], 0); /* kept across the move */
    void *empty = mem_malloc(0); /* a block, if of no bytes */
    ck_assert_ptr_nonnull(empty);
    free(empty);
    ck_assert_ptr_null(mem_realloc(z, 0)); /* frees, as realloc */
    free(s);
    free(t);
    free(u);
}
END_TEST

static void exhaust(void)
{
    /* More than any address space: every malloc refuses it. */
    void *p = mem_malloc(SIZE_MAX / 2);
    free(p);
}

START_TEST(out_of_memory_aborts_with_one_message)
{
    /* AddressSanitizer reports such a request itself (allocation-size-too-big). */
    if (getenv("CHANSIM_SANITIZED"))
        return;
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        exhaust();
        _exit(0);
    }
    close(fds[1]);
    char err[256];
    ssize_t n = read(fds[0], err, sizeof err - 1);
    err[n > 0 ? n : 0] = 0;
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
    ck_assert_str_eq(err, "chansim: out of memory\n");
}
END_TEST

static Suite *mem_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *a = tcase_create("semantics");
    tcase_add_test(a, copies_and_zeroes);
    suite_add_tcase(s, a);
    TCase *b = tcase_create("errors");
    tcase_add_test(b, out_of_memory_aborts_with_one_message);
    suite_add_tcase(s, b);
    return s;
}

int main(void)
{
    return run_suite(mem_suite());
}
