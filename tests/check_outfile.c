/*
 * check_outfile: the output layer (scripts/out/outfile.h) and the schedule
 * reader (scripts/out/schedule_file.h) under failure.
 *
 * Fault injection in SQLite's manner: a clean write of an output counts its
 * operations (create, each write(2), fsync, close, rename); then each of
 * them in turn is made to fail, over a file that did not exist and over one
 * that did. Every time: the writer says it failed, a clear message names
 * the file and the reason, no FILE.partial-PID is left, and the file is
 * either absent or still holds its old bytes, never a part of the new.
 * Also: the output limit, writing in place to a device and a FIFO, the
 * checks of output paths before a run, a signal removing the temporary
 * file, and every kind of bad schedule file refused with its reason.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "outfile.h"
#include "schedule_file.h"

/* ---- a scratch folder and the captured stderr ----------------------------- */

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_outfile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    out_fault_hook = NULL;
    out_set_limit(0);
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Files in the folder whose name holds ".partial-". */
static int partials(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".partial-") != NULL;
    if (d)
        closedir(d);
    return n;
}

static char errbuf[8192];
static int saved_err = -1;
static char errpath[300];

static void capture_stderr(void)
{
    fflush(stderr);
    snprintf(errpath, sizeof errpath, "%s/.stderr", dir);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    saved_err = dup(2);
    dup2(fd, 2);
    close(fd);
}

static const char *captured(void)
{
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    FILE *f = fopen(errpath, "r");
    size_t n = f ? fread(errbuf, 1, sizeof errbuf - 1, f) : 0;
    errbuf[n] = 0;
    if (f)
        fclose(f);
    unlink(errpath);
    return errbuf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 22);
    *len = fread(b, 1, 1 << 22, f);
    fclose(f);
    return b;
}

/* ---- fault injection ---------------------------------------------------------- */

static int count[5];   /* operations seen, by kind */
static int fail_op = -1, fail_at = -1; /* the fail_at-th operation of kind fail_op fails */
static int injected;

static int hook(out_op_t op, const char *path)
{
    (void)path;
    int k = count[op]++;
    if ((int)op == fail_op && k == fail_at) {
        injected++;
        return op == OUT_OP_WRITE ? ENOSPC : EIO;
    }
    return 0;
}

/* Write a 300 KB output (several write(2) calls) to path; true if kept. */
static bool write_output(const char *path)
{
    atomic_file_t a;
    if (!atomic_open(&a, path))
        return false;
    for (int i = 0; i < 3000; i++)
        fprintf(a.f, "%06d %092d\n", i, i);
    return atomic_commit(&a);
}

static void inject_all(bool existed)
{
    char path[300];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    static const char old[] = "the old content\n";
    out_fault_hook = hook;
    /* the clean run: how many operations of each kind */
    memset(count, 0, sizeof count);
    fail_op = -1;
    ck_assert(write_output(path));
    int total[5];
    memcpy(total, count, sizeof total);
    ck_assert_int_eq(total[OUT_OP_OPEN], 1);
    ck_assert_int_ge(total[OUT_OP_WRITE], 3);
    ck_assert_int_eq(total[OUT_OP_FSYNC], 1);
    ck_assert_int_eq(total[OUT_OP_CLOSE], 1);
    ck_assert_int_eq(total[OUT_OP_RENAME], 1);
    int runs = 0;
    for (int op = 0; op < 5; op++) {
        for (int at = 0; at < total[op]; at++) {
            unlink(path);
            if (existed) {
                FILE *f = fopen(path, "w");
                fputs(old, f);
                fclose(f);
            }
            memset(count, 0, sizeof count);
            fail_op = op;
            fail_at = at;
            injected = 0;
            capture_stderr();
            bool kept = write_output(path);
            const char *msg = captured();
            ck_assert_int_eq(injected, 1);
            ck_assert_msg(!kept, "op %d #%d: a failed output was kept", op, at);
            ck_assert_msg(partials() == 0, "op %d #%d: a temporary file was left", op, at);
            /* the message names the file and the reason */
            ck_assert_msg(strstr(msg, path) != NULL, "op %d #%d: %s", op, at, msg);
            const char *why = strerror(op == OUT_OP_WRITE ? ENOSPC : EIO);
            ck_assert_msg(strstr(msg, why) != NULL, "op %d #%d: no reason in: %s", op, at, msg);
            size_t len;
            char *got = slurp(path, &len);
            if (existed) {
                ck_assert_msg(got && len == strlen(old) && memcmp(got, old, len) == 0,
                              "op %d #%d: the old file was damaged", op, at);
            } else {
                ck_assert_msg(!got, "op %d #%d: a file appeared", op, at);
            }
            free(got);
            runs++;
        }
    }
    ck_assert_int_ge(runs, 7);
    out_fault_hook = NULL;
}

START_TEST(fault_each_operation_new_file) { inject_all(false); }
END_TEST

START_TEST(fault_each_operation_existing_file) { inject_all(true); }
END_TEST

/* ---- the output limit ------------------------------------------------------- */

START_TEST(limit_reached_not_kept)
{
    char path[300];
    snprintf(path, sizeof path, "%s/big.txt", dir);
    out_set_limit(100000);
    capture_stderr();
    atomic_file_t a;
    ck_assert(atomic_open(&a, path));
    for (int i = 0; i < 3000; i++)
        fprintf(a.f, "%06d %092d\n", i, i);
    ck_assert(!atomic_commit(&a));
    const char *msg = captured();
    ck_assert(a.limited);
    ck_assert_msg(strstr(msg, "--max-output") && strstr(msg, "was not written"), "%s", msg);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(partials(), 0);
    /* under the limit: kept */
    out_set_limit(1000000);
    ck_assert(write_output(path));
    ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(stream_to_full_device_fails)
{
    int fd = open("/dev/full", O_WRONLY);
    ck_assert_int_ge(fd, 0);
    FILE *f = out_wrap_stream(fd, "standard output");
    ck_assert_ptr_nonnull(f);
    fputs("hello\n", f);
    capture_stderr();
    ck_assert(!out_stream_check(f));
    const char *msg = captured();
    ck_assert_msg(strstr(msg, "standard output") && strstr(msg, strerror(ENOSPC)), "%s", msg);
    out_stream_close(f);
    close(fd);
}
END_TEST

/* ---- in place ------------------------------------------------------------------ */

START_TEST(device_written_in_place)
{
    atomic_file_t a;
    ck_assert(atomic_open(&a, "/dev/null"));
    ck_assert_ptr_null(a.tmp);
    fputs("x\n", a.f);
    ck_assert(atomic_commit(&a));
    struct stat st;
    ck_assert_int_eq(stat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
}
END_TEST

START_TEST(fifo_written_in_place)
{
    char path[300];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rd, 0);
    atomic_file_t a;
    ck_assert(atomic_open(&a, path));
    ck_assert_ptr_null(a.tmp);
    fputs("through the fifo\n", a.f);
    ck_assert(atomic_commit(&a));
    char buf[64] = {0};
    ck_assert_int_eq(read(rd, buf, sizeof buf - 1), 17);
    ck_assert_str_eq(buf, "through the fifo\n");
    close(rd);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

/* ---- paths checked before a run ---------------------------------------------------- */

START_TEST(paths_checked)
{
    char scen[300], other[300], missing[300];
    snprintf(scen, sizeof scen, "%s/s.lua", dir);
    snprintf(other, sizeof other, "%s/../%s/s.lua", dir, strrchr(dir, '/') + 1);
    snprintf(missing, sizeof missing, "%s/no/such/t.json", dir);
    FILE *f = fopen(scen, "w");
    fputs("-- scenario\n", f);
    fclose(f);
    out_claim_t c[2] = {{"--trace", scen, false}, {NULL, NULL, false}};
    capture_stderr();
    ck_assert(!out_check_paths(scen, c, 1));
    ck_assert_msg(strstr(captured(), "the scenario itself"), "%s", errbuf);
    c[0].path = other; /* the same file by another name */
    capture_stderr();
    ck_assert(!out_check_paths(scen, c, 1));
    ck_assert_msg(strstr(captured(), "the scenario itself"), "%s", errbuf);
    char t[300];
    snprintf(t, sizeof t, "%s/t", dir);
    out_claim_t two[2] = {{"--log", t, false}, {"--trace", t, false}};
    capture_stderr();
    ck_assert(!out_check_paths(scen, two, 2));
    ck_assert_msg(strstr(captured(), "--trace") && strstr(errbuf, "the same file as --log"), "%s", errbuf);
    two[0].path = two[1].path = "-";
    capture_stderr();
    ck_assert(!out_check_paths(scen, two, 2));
    captured();
    two[0].path = two[1].path = "/dev/null"; /* a device takes any number */
    ck_assert(out_check_paths(scen, two, 2));
    c[0].path = missing;
    capture_stderr();
    ck_assert(!out_check_paths(scen, c, 1));
    ck_assert_msg(strstr(captured(), strerror(ENOENT)), "%s", errbuf);
    c[0].path = dir; /* a folder where a file is wanted */
    capture_stderr();
    ck_assert(!out_check_paths(scen, c, 1));
    ck_assert_msg(strstr(captured(), strerror(EISDIR)), "%s", errbuf);
    out_claim_t d = {"--pprof", scen, true}; /* a file where a folder is wanted */
    capture_stderr();
    ck_assert(!out_check_paths(NULL, &d, 1));
    ck_assert_msg(strstr(captured(), "not a folder"), "%s", errbuf);
    c[0].path = t; /* fine: nothing left behind by the check */
    ck_assert(out_check_paths(scen, c, 1));
    ck_assert_int_eq(access(t, F_OK), -1);
    ck_assert_int_eq(partials(), 0);
}
END_TEST

/* ---- a signal removes the temporary file ----------------------------------------------- */

START_TEST(signal_removes_partial)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/sig%zu.txt", dir, i);
        int ready[2];
        ck_assert_int_eq(pipe(ready), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            out_process_init();
            atomic_file_t a;
            if (!atomic_open(&a, path))
                _exit(9);
            fputs("partly written\n", a.f);
            fflush(a.f);
            if (write(ready[1], "r", 1) != 1)
                _exit(9);
            for (;;)
                pause();
        }
        close(ready[1]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        close(ready[0]);
        ck_assert_int_eq(partials(), 1);
        kill(pid, sigs[i]);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i], "ended by the signal itself");
        ck_assert_int_eq(partials(), 0);
        ck_assert_int_eq(access(path, F_OK), -1);
    }
}
END_TEST

/* ---- schedule files --------------------------------------------------------------------------- */

static schedule_meta_t want;
static char scen_path[300];

static void make_meta(void)
{
    snprintf(scen_path, sizeof scen_path, "%s/scen.lua", dir);
    FILE *f = fopen(scen_path, "w");
    fputs("scenario{ name = 'x' }\n", f);
    fclose(f);
    host_options_t opt = {.path = scen_path, .seed = 7};
    char err[256];
    ck_assert(schedule_meta_of(&opt, "random", &want, err, sizeof err));
}

static const char *read_error(const char *content, size_t len, bool seed_given)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sched", dir);
    FILE *f = fopen(path, "wb");
    fwrite(content, 1, len, f);
    fclose(f);
    static char err[1024];
    err[0] = 0;
    schedule_meta_t got;
    size_t n;
    uint32_t *d = schedule_read(path, &want, seed_given, &got, &n, err, sizeof err);
    if (d) {
        free(d);
        return NULL;
    }
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "the error names the file: %s", err);
    return err;
}

#define REFUSED(text, seed_given, why)                                                         \
    do {                                                                                       \
        const char *e_ = read_error((text), sizeof(text) - 1, (seed_given));                   \
        ck_assert_msg(e_ != NULL, "accepted: %s", (text));                                     \
        ck_assert_msg(strstr(e_, (why)) != NULL, "want \"%s\" in: %s", (why), e_);             \
    } while (0)

START_TEST(schedule_round_trip)
{
    make_meta();
    char path[300];
    snprintf(path, sizeof path, "%s/s.txt", dir);
    uint32_t d[40];
    for (int i = 0; i < 40; i++)
        d[i] = (uint32_t)(i * 7 % 5);
    ck_assert(schedule_write(path, &want, d, 40));
    schedule_meta_t got;
    size_t n;
    char err[512];
    uint32_t *r = schedule_read(path, &want, true, &got, &n, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(n, 40);
    ck_assert_mem_eq(r, d, sizeof d);
    ck_assert_uint_eq(got.seed, 7);
    ck_assert_str_eq(got.strategy, "random");
    free(r);
}
END_TEST

START_TEST(schedule_bad_files_refused)
{
    make_meta();
    char head[512];
    snprintf(head, sizeof head,
             "# chansim schedule 1 scenario=%016llx seed=7 strategy=random preempt=0 race=0 params=%016llx",
             (unsigned long long)want.scenario, (unsigned long long)want.params);
    char text[2048];
    REFUSED("", true, "an empty file");
    REFUSED("\x7f" "ELF\x02\x01\x01\0\0\0", true, "binary data");
    REFUSED("1 0 2 1 0\n", true, "not a schedule written by --schedule-out");
    REFUSED("# chansim schedule 1 scenario=zz\n1 2\n", true, "malformed first line");
    /* truncated: fewer decisions than said */
    snprintf(text, sizeof text, "%s decisions=5\n1 0 2\n", head);
    const char *e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "truncated: 3 decisions of the 5"), "%s", e ? e : "accepted");
    /* corrupt: a token that is not a decision */
    snprintf(text, sizeof text, "%s decisions=3\n1 x7 2\n", head);
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "line 2: \"x7\" is not a decision"), "%s", e ? e : "accepted");
    snprintf(text, sizeof text, "%s decisions=2\n1 -2\n", head);
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "is not a decision"), "%s", e ? e : "accepted");
    snprintf(text, sizeof text, "%s decisions=1\n1 2\n", head);
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "more decisions than the 1"), "%s", e ? e : "accepted");
    /* another scenario, seed, preempt, race, --set */
    snprintf(text, sizeof text,
             "# chansim schedule 1 scenario=0123456789abcdef seed=7 strategy=random preempt=0 race=0 "
             "params=%016llx decisions=1\n0\n",
             (unsigned long long)want.params);
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "another scenario"), "%s", e ? e : "accepted");
    snprintf(text, sizeof text, "%s decisions=1\n0\n", head);
    ck_assert_ptr_null(read_error(text, strlen(text), true));
    char *s7 = strstr(text, "seed=7");
    s7[5] = '8';
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "recorded with --seed 8; this run has --seed 7"), "%s", e ? e : "accepted");
    ck_assert_ptr_null(read_error(text, strlen(text), false)); /* no --seed: the file's */
    snprintf(text, sizeof text, "%s decisions=1\n0\n", head);
    char *p = strstr(text, "preempt=0");
    p[8] = '5';
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "--preempt 5"), "%s", e ? e : "accepted");
    snprintf(text, sizeof text, "%s decisions=1\n0\n", head);
    p = strstr(text, "race=0");
    p[5] = '1';
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "recorded with --race"), "%s", e ? e : "accepted");
    snprintf(text, sizeof text, "%s decisions=1\n0\n", head);
    p = strstr(text, "params=");
    p[7] = p[7] == '0' ? '1' : '0';
    e = read_error(text, strlen(text), true);
    ck_assert_msg(e && strstr(e, "other --set values"), "%s", e ? e : "accepted");
    /* a folder, a missing file */
    char err[512];
    schedule_meta_t got;
    size_t n;
    ck_assert_ptr_null(schedule_read(dir, &want, true, &got, &n, err, sizeof err));
    ck_assert_msg(strstr(err, "a folder"), "%s", err);
    ck_assert_ptr_null(schedule_read("/dev/null", &want, true, &got, &n, err, sizeof err));
    ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", dir);
    ck_assert_ptr_null(schedule_read(missing, &want, true, &got, &n, err, sizeof err));
    ck_assert_msg(strstr(err, strerror(ENOENT)), "%s", err);
}
END_TEST

static Suite *outfile_suite(void)
{
    Suite *s = suite_create("outfile");
    TCase *tc = tcase_create("outfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fault_each_operation_new_file);
    tcase_add_test(tc, fault_each_operation_existing_file);
    tcase_add_test(tc, limit_reached_not_kept);
    tcase_add_test(tc, stream_to_full_device_fails);
    tcase_add_test(tc, device_written_in_place);
    tcase_add_test(tc, fifo_written_in_place);
    tcase_add_test(tc, paths_checked);
    tcase_add_test(tc, signal_removes_partial);
    tcase_add_test(tc, schedule_round_trip);
    tcase_add_test(tc, schedule_bad_files_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(outfile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
