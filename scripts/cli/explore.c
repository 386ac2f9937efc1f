/*
 * explore: `chansim explore`, schedule exploration.
 *
 * Runs one scenario under many seeds of a scheduling policy (seeded random
 * by default, or PCT) to find an interleaving that breaks an expectation,
 * an invariant or the program itself, and prints the command that
 * reproduces it. The runs are made by --jobs worker processes, forked once
 * each: a worker makes its runs one after another, each in a fresh host (a
 * fresh Lua state and scheduler, as `chansim run` makes), so a run costs no
 * process start and its hash is the one `chansim run` gives. A run that
 * takes its worker down (a stack overflow, a crash of chansim itself) is
 * reported with the worker's exit status and the worker replaced: the
 * other runs never see it. At most --jobs runs at once; the
 * results are JSON lines on standard output, one per run in seed order, so
 * shards (--shard I/N, for GNU parallel, a Slurm array or a Kubernetes
 * indexed Job) merge by concatenation. Progress and the summary go to
 * standard error.
 *
 * A scenario that declares the failure it exists to show (scenario{
 * expect_failure }) is searched for that failure: a run where it happens
 * is "expected" (reached), not a failure; a run where it does not is a
 * pass; any other failure is a failure. Explore then fails (exit 1) when
 * the expected failure was never reached, and --first stops at it.
 */
#include "explore.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dfs.h"
#include "host.h"
#include "mem.h"
#include "outputs.h"
#include "outfile.h"
#include "repro.h"
#include "schedule_file.h"

typedef struct run_slot {
    pid_t pid;        /* the worker, 0 if none */
    int cmd;          /* write end of its command pipe: seeds to run */
    int fd;           /* read end of its result pipe */
    bool busy;        /* a run was sent and its line has not come back */
    uint64_t index;   /* which run, while busy */
    char buf[4096];   /* its result line as it arrives */
    size_t len;
} run_slot_t;

typedef struct result {
    char *line;       /* the JSON line (malloc'd), NULL until done */
    int status;       /* the run's exit status */
    int expected;     /* the scenario's expected failure: -1 none declared, 0 not reached, 1 reached */
    int64_t points;   /* the decision points the run reached */
    uint64_t hash;    /* its trace hash (0: no report) */
    int64_t pct_steps; /* PCT's horizon it was given (0: not PCT) */
} result_t;

/* What a worker is told for one run. */
typedef struct run_cmd {
    uint64_t seed;
    int64_t pct_steps; /* PCT's horizon, 0 under other policies */
} run_cmd_t;

/* JSON string escaping for a message. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* The JSON line of a run that ended with status in host h (its
 * scheduler may be NULL: not started); extra: more fields (",\"k\":v") or
 * "". Returns whether the scenario's expected failure happened (-1 none
 * declared, 0, 1). */
static int write_line(FILE *out, const char *path, host_t *h, int status, uint64_t seed,
                      const char *strategy, int64_t pct_steps, const char *extra)
{
    sched_t *s = host_sched(h);
    const host_expect_t *e;
    size_t n = host_expectations(h, &e);
    size_t failures = 0;
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].ok) {
            failures++;
            if (!first)
                first = e[i].msg;
        }
    }
    if (!first && s && *sched_failure_message(s))
        first = sched_failure_message(s);
    if (!first && host_races(h))
        first = host_first_race(h);
    int expected = host_expected_happened(h);
    if (expected == 1 && first && host_expected_failure(h))
        first = NULL; /* the demonstration is no failure */
    fputs("{\"scenario\":", out);
    json_str(out, path);
    fprintf(out, ",\"seed\":%llu,\"strategy\":", (unsigned long long)seed);
    json_str(out, strategy);
    fprintf(out, ",\"exit\":%d,\"result\":", status);
    json_str(out, s ? sched_result_string(host_result(h)) : "not started");
    fprintf(out, ",\"hash\":\"%016llx\",\"events\":%llu,\"time_ns\":%lld,\"failures\":%zu,"
                 "\"first_failure\":",
            s ? (unsigned long long)sched_trace_hash(s) : 0ull,
            s ? (unsigned long long)sched_trace_events(s) : 0ull,
            s ? (long long)sched_now_of(s) : 0ll, failures);
    if (first)
        json_str(out, first);
    else
        fputs("null", out);
    if (host_expected_failure(h)) {
        fputs(",\"expected_failure\":", out);
        json_str(out, host_expected_failure(h));
        fprintf(out, ",\"expected_happened\":%s", expected == 1 ? "true" : "false");
    }
    fprintf(out, ",\"points\":%llu", s ? (unsigned long long)sched_choice_points(s) : 0ull);
    if (pct_steps > 0)
        fprintf(out, ",\"pct_steps\":%lld", (long long)pct_steps);
    fputs(extra, out);
    fputs("}\n", out);
    return expected;
}

/* In a worker: one run in a fresh host; its exit status, whether the
 * expected failure happened (-1, 0, 1), and its JSON line, separated by
 * spaces, written to out as one line. */
static void one_run(const char *path, host_options_t opt, run_cmd_t cmd, const char *strategy,
                    FILE *devnull, FILE *out)
{
    opt.path = path;
    opt.seed = cmd.seed;
    opt.seed_given = true;
    opt.pct_steps = cmd.pct_steps;
    opt.quiet = true;
    opt.out = devnull;
    opt.expect_optional = true;
    host_t *h = host_create(&opt);
    int status = host_run(h);
    fprintf(out, "%d %d ", status, host_expected_happened(h));
    write_line(out, path, h, status, cmd.seed, strategy, cmd.pct_steps, "");
    fflush(out);
    host_destroy(h);
}

/* A worker: reads runs (run_cmd_t) from cmd until it is closed, makes
 * each run and writes its line to res. Never returns. */
static void worker(int cmd, int res, const char *path, const host_options_t *opt, const char *strategy)
{
    FILE *devnull = fopen("/dev/null", "w");
    int err_fd = open("/dev/null", O_WRONLY);
    if (err_fd >= 0) {
        dup2(err_fd, 2); /* the program's panics and reports: counted, not shown */
        close(err_fd);
    }
    FILE *out = fdopen(res, "w");
    if (!out || !devnull)
        _exit(EXIT_PROGRAM);
    /* The runs share the scenario's compiled chunks and header scan: each
     * run is still a fresh host, none reads or compiles a file again. */
    host_options_t shared = *opt;
    shared.cache = host_cache_new();
    for (;;) {
        run_cmd_t rc;
        size_t got = 0;
        while (got < sizeof rc) {
            ssize_t n = read(cmd, (char *)&rc + got, sizeof rc - got);
            if (n > 0)
                got += (size_t)n;
            else if (n == 0 || errno != EINTR)
                _exit(EXIT_OK); /* no more runs */
        }
        one_run(path, shared, rc, strategy, devnull, out);
    }
}

/* Fork the worker of slot j (its pipes closed in every other worker). */
static bool spawn_worker(run_slot_t *slots, uint64_t jobs, uint64_t j, const char *path,
                         const host_options_t *opt, const char *strategy)
{
    int c[2], r[2];
    if (pipe(c) != 0)
        return false;
    if (pipe(r) != 0) {
        close(c[0]);
        close(c[1]);
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(c[0]);
        close(c[1]);
        close(r[0]);
        close(r[1]);
        return false;
    }
    if (pid == 0) {
        /* A worker dies with chansim explore, however that ends (a signal,
         * a crash): none is left running on its own. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(EXIT_OK);
        /* Another worker's pipes held open here would hide its end. */
        for (uint64_t k = 0; k < jobs; k++) {
            if (k != j && slots[k].pid) {
                close(slots[k].cmd);
                close(slots[k].fd);
            }
        }
        close(c[1]);
        close(r[0]);
        worker(c[0], r[1], path, opt, strategy);
    }
    close(c[0]);
    close(r[1]);
    fcntl(r[0], F_SETFL, O_NONBLOCK); /* one worker's half line never holds up the others */
    slots[j].pid = pid;
    slots[j].cmd = c[1];
    slots[j].fd = r[0];
    slots[j].busy = false;
    slots[j].len = 0;
    return true;
}

/* Send run index to slot's worker. */
static bool send_run(run_slot_t *slot, uint64_t index, run_cmd_t rc)
{
    size_t put = 0;
    while (put < sizeof rc) {
        ssize_t n = write(slot->cmd, (const char *)&rc + put, sizeof rc - put);
        if (n > 0)
            put += (size_t)n;
        else if (n < 0 && errno != EINTR)
            return false;
    }
    slot->busy = true;
    slot->index = index;
    slot->len = 0;
    return true;
}

/* A worker is done (its result pipe closed, or it is told to stop): close
 * its pipes and wait for it; its exit status, as a run's. */
static int reap_worker(run_slot_t *slot, bool *signaled)
{
    close(slot->cmd);
    close(slot->fd);
    int wst = 0;
    while (waitpid(slot->pid, &wst, 0) < 0 && errno == EINTR)
        ;
    slot->pid = 0;
    slot->busy = false;
    *signaled = WIFSIGNALED(wst);
    return WIFEXITED(wst) ? WEXITSTATUS(wst) : EXIT_PROGRAM; /* a crash: counted as a failure */
}

/* Read what a worker wrote. Returns 1 when a whole line (a run's result)
 * is in the buffer, -1 when its pipe is closed (the worker is gone), 0 if
 * more is to come. */
static int drain(run_slot_t *slot)
{
    for (;;) {
        char *nl = memchr(slot->buf, '\n', slot->len);
        if (nl)
            return 1;
        if (slot->len == sizeof slot->buf - 1)
            return 1; /* an over-long line: taken as it is */
        ssize_t n = read(slot->fd, slot->buf + slot->len, sizeof slot->buf - 1 - slot->len);
        if (n > 0) {
            slot->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        return -1;
    }
}

/* The run in slot has its line: record it. */
static void finish(run_slot_t *slot, result_t *results)
{
    result_t *r = &results[slot->index];
    char *nl = memchr(slot->buf, '\n', slot->len);
    size_t end = nl ? (size_t)(nl - slot->buf) + 1 : slot->len;
    char *sp = memchr(slot->buf, ' ', end);
    r->status = atoi(slot->buf);
    r->expected = -1;
    if (sp) {
        r->expected = atoi(sp + 1);
        sp = memchr(sp + 1, ' ', end - (size_t)(sp + 1 - slot->buf));
    }
    r->line = sp ? mem_strndup(sp + 1, end - (size_t)(sp + 1 - slot->buf)) : mem_strndup(slot->buf, end);
    const char *pts = strstr(r->line, ",\"points\":");
    r->points = pts ? strtoll(pts + 10, NULL, 10) : 0;
    const char *hs = strstr(r->line, ",\"hash\":\"");
    r->hash = hs ? strtoull(hs + 9, NULL, 16) : 0;
    memmove(slot->buf, slot->buf + end, slot->len - end);
    slot->len -= end;
    slot->busy = false;
}

/* The worker of slot died during its run: the run is reported with the
 * worker's exit status. */
static void finish_crashed(run_slot_t *slot, result_t *results)
{
    uint64_t index = slot->index;
    bool signaled;
    int status = reap_worker(slot, &signaled);
    result_t *r = &results[index];
    r->status = status == EXIT_OK ? EXIT_PROGRAM : status;
    r->expected = -1;
    char line[160];
    snprintf(line, sizeof line, "{\"exit\":%d,\"result\":\"the run ended without a report%s\"}\n",
             r->status, signaled ? " (killed by a signal)" : "");
    r->line = mem_strdup(line);
}

/* One exploration: the runs of this shard, in seed order, and where they
 * stand. */
typedef struct explore {
    const runopts_t *o;
    uint64_t first_seed;  /* run i uses first_seed + i */
    uint64_t count;       /* runs of this shard */
    uint64_t *idx;        /* their indexes among all the runs */
    result_t *results;    /* by position in idx */
    run_slot_t *slots;    /* o->jobs of them */
    uint64_t next, done, printed, failed;
    uint64_t reached;     /* runs where the expected failure happened */
    bool declared;        /* the scenario declares an expected failure */
    bool stopping;        /* --first saw a failure, or a run could not start */
    bool tty;             /* progress on stderr */
    bool shown;           /* a progress line is on the terminal */
    double t0;            /* wall clock at the start (runs/s, on stderr only) */
    double last_progress; /* wall clock of the last progress line */
    int64_t horizon;      /* PCT: the horizon of the runs sent now */
    uint64_t horizon_upto; /* the runs before this one are in horizon */
} explore_t;

/* PCT's horizon for run i without --pct-steps: the longest run seen so
 * far. To be the same whatever the number of workers, it is learned in
 * generations: runs 2^g-1 .. 2^(g+1)-2 all get the longest of the runs
 * before 2^g-1 (and of the calibration run), and start only once those
 * have ended. False if run i must wait. */
static bool pct_horizon(explore_t *e, uint64_t i, int64_t *out)
{
    *out = 0;
    if (e->o->host.policy != SCHED_PCT)
        return true;
    if (e->o->host.pct_steps > 0) {
        *out = e->o->host.pct_steps;
        return true;
    }
    uint64_t start = 0;
    while (start * 2 + 1 <= i)
        start = start * 2 + 1;
    if (start > e->horizon_upto) {
        for (uint64_t k = e->horizon_upto; k < start; k++) {
            if (!e->results[k].line)
                return false;
        }
        for (uint64_t k = e->horizon_upto; k < start; k++)
            if (e->results[k].points > e->horizon)
                e->horizon = e->results[k].points;
        e->horizon_upto = start;
    }
    *out = e->horizon;
    return true;
}

/* Send runs to the idle workers, starting a worker where there is none. */
static void start_runs(explore_t *e)
{
    for (uint64_t j = 0; j < e->o->jobs && e->next < e->count && !e->stopping; j++) {
        run_slot_t *sl = &e->slots[j];
        if (sl->busy)
            continue;
        if (!sl->pid && !spawn_worker(e->slots, e->o->jobs, j, e->o->host.path, &e->o->host,
                                      e->o->strategy)) {
            fprintf(stderr, "chansim explore: cannot start a worker: %s\n", strerror(errno));
            e->stopping = true;
            break;
        }
        run_cmd_t rc = {.seed = e->first_seed + e->idx[e->next]};
        if (!pct_horizon(e, e->next, &rc.pct_steps))
            break; /* the next generation waits for this one */
        e->results[e->next].pct_steps = rc.pct_steps;
        if (!send_run(sl, e->next, rc)) {
            fprintf(stderr, "chansim explore: a worker is gone: %s\n", strerror(errno));
            bool sig;
            reap_worker(sl, &sig);
            e->stopping = true;
            break;
        }
        e->next++;
    }
}

/* Wait for some run to report and collect the finished ones; false when
 * there is nothing to wait for. */
static bool collect_runs(explore_t *e)
{
    struct pollfd pf[256];
    int map[256], np = 0;
    for (uint64_t j = 0; j < e->o->jobs; j++) {
        if (e->slots[j].busy) {
            pf[np].fd = e->slots[j].fd;
            pf[np].events = POLLIN;
            map[np++] = (int)j;
        }
    }
    if (np == 0)
        return false;
    if (poll(pf, (nfds_t)np, -1) < 0 && errno != EINTR)
        return false;
    for (int p = 0; p < np; p++) {
        if (!(pf[p].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        run_slot_t *sl = &e->slots[map[p]];
        uint64_t index = sl->index;
        int got = drain(sl);
        if (got == 0)
            continue;
        if (got > 0)
            finish(sl, e->results);
        else
            finish_crashed(sl, e->results);
        e->done++;
        e->declared = e->declared || e->results[index].expected >= 0;
        if (e->results[index].expected == 1) {
            e->reached++;
            if (e->o->first)
                e->stopping = true;
        }
        if (e->results[index].status != EXIT_OK) {
            e->failed++;
            if (e->o->first)
                e->stopping = true;
        }
    }
    return true;
}

/* Print the finished prefix, in seed order. */
static void print_ready(explore_t *e)
{
    while (e->printed < e->count && e->results[e->printed].line) {
        fputs(e->results[e->printed].line, stdout);
        e->printed++;
    }
    fflush(stdout);
}

/* The command that reproduces run k, on stderr after what. */
static void print_reproduce(const explore_t *e, uint64_t k, const char *what)
{
    const runopts_t *o = e->o;
    fprintf(stderr, "  %s: chansim run %s --seed %llu --strategy %s", what, o->host.path,
            (unsigned long long)(e->first_seed + e->idx[k]), o->strategy);
    for (int s = 0; s < o->host.nsets; s++)
        fprintf(stderr, " --set %s=%s", o->host.sets[s].name, o->host.sets[s].value);
    if (o->host.race)
        fputs(" --race", stderr);
    if (o->host.preempt)
        fprintf(stderr, " --preempt %d", o->host.preempt);
    if (e->results[k].pct_steps > 0)
        fprintf(stderr, " --pct-steps %lld", (long long)e->results[k].pct_steps);
    fputc('\n', stderr);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Distinct values among n hashes (0s left out): distinct schedules. */
static uint64_t distinct(uint64_t *h, uint64_t n)
{
    qsort(h, n, sizeof *h, cmp_u64);
    uint64_t d = 0;
    for (uint64_t i = 0; i < n; i++)
        d += h[i] && (i == 0 || h[i] != h[i - 1]);
    return d;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The summary on stderr, with the command that reproduces each of the
 * first five failures (and the first run that reached the expected
 * failure of a scenario that declares one). */
static void report(const explore_t *e)
{
    const runopts_t *o = e->o;
    uint64_t *h = mem_calloc(e->count ? e->count : 1, sizeof *h);
    for (uint64_t k = 0; k < e->count; k++)
        h[k] = e->results[k].line ? e->results[k].hash : 0;
    uint64_t nd = distinct(h, e->count);
    free(h);
    double wall = wall_now() - e->t0;
    fprintf(stderr, "explore: %llu runs of %s under %s from seed %llu: %llu failed, "
                    "%llu distinct schedules (trace hashes), %.1f runs/s\n",
            (unsigned long long)e->done, o->host.path, o->strategy,
            (unsigned long long)e->first_seed, (unsigned long long)e->failed,
            (unsigned long long)nd, wall > 0 ? (double)e->done / wall : 0.0);
    uint64_t shown = 0;
    for (uint64_t k = 0; k < e->count && shown < 5; k++) {
        if (!e->results[k].line || e->results[k].status == EXIT_OK)
            continue;
        char what[32];
        snprintf(what, sizeof what, "exit %d", e->results[k].status);
        print_reproduce(e, k, what);
        shown++;
    }
    if (!e->declared)
        return;
    if (!e->reached) {
        fprintf(stderr, "explore: the expected failure was not reached in %llu runs\n",
                (unsigned long long)e->done);
        return;
    }
    for (uint64_t k = 0; k < e->count; k++) {
        if (e->results[k].line && e->results[k].expected == 1) {
            fprintf(stderr, "explore: the expected failure happened in %llu of %llu runs, first in run %llu\n",
                    (unsigned long long)e->reached, (unsigned long long)e->done,
                    (unsigned long long)e->idx[k] + 1);
            print_reproduce(e, k, "expected");
            break;
        }
    }
}

/* A reproducer of each failing run (repro_run.c), the runs made again.
 * False if one could not be written. */
static bool write_reproducers(const explore_t *e)
{
    if (e->o->no_repro || !e->failed)
        return true;
    uint64_t *seeds = mem_calloc(e->count, sizeof *seeds);
    size_t n = 0;
    for (uint64_t k = 0; k < e->count; k++) {
        int st = e->results[k].status;
        /* a run that took its worker down is not made again here */
        if (e->results[k].line && st != EXIT_OK && st != EXIT_USAGE &&
            !strstr(e->results[k].line, "ended without a report"))
            seeds[n++] = e->first_seed + e->idx[k];
    }
    bool ok = repro_explore_write(e->o, e->o->repro_dir, seeds, n);
    free(seeds);
    return ok;
}

/* ---- dfs:K: the exhaustive search, in this process ---------------------- */

/* The command that reproduces a schedule written to file. */
static void dfs_reproduce(FILE *f, const runopts_t *o, uint64_t seed, const char *file)
{
    fprintf(f, "chansim run %s --seed %llu --schedule %s", o->host.path, (unsigned long long)seed, file);
    for (int s = 0; s < o->host.nsets; s++)
        fprintf(f, " --set %s=%s", o->host.sets[s].name, o->host.sets[s].value);
    if (o->host.race)
        fputs(" --race", f);
    if (o->host.preempt)
        fprintf(f, " --preempt %d", o->host.preempt);
}

/* Every schedule with at most K preemptions, one run each from the start,
 * until one fails: a JSON line per schedule on stdout, the verdict on
 * stderr ("all N schedules up to K preemptions passed"). */
static int explore_dfs(const runopts_t *o)
{
    int bound = o->host.pct_depth;
    uint64_t seed = o->host.seed_given ? o->host.seed : 1;
    dfs_t *d = dfs_new(bound, !o->no_sleep_sets);
    /* Every schedule is a fresh host; they share the scenario's compiled
     * chunks, header scan and folders, as a worker's runs do. */
    host_cache_t *cache = host_cache_new();
    FILE *devnull = fopen("/dev/null", "w");
    /* The runs' own reports (panics, races) are counted, not shown: stderr
     * goes to /dev/null while they run, our lines to the saved one. */
    fflush(stderr);
    int saved = dup(2);
    FILE *err = saved >= 0 ? fdopen(saved, "w") : NULL;
    if (!err || !devnull) {
        fprintf(stderr, "chansim explore: %s\n", strerror(errno));
        if (err)
            fclose(err);
        else if (saved >= 0)
            close(saved);
        if (devnull)
            fclose(devnull);
        host_cache_free(cache);
        dfs_free(d);
        return EXIT_USAGE;
    }
    int dn = open("/dev/null", O_WRONLY);
    if (dn >= 0) {
        dup2(dn, 2);
        close(dn);
    }
    double t0 = wall_now(), last = t0;
    bool tty = isatty(saved), shown = false;
    uint64_t schedules = 0, pruned = 0, nh = 0, caph = 0;
    uint64_t *hashes = NULL;
    int status = EXIT_OK, fail_status = EXIT_OK, lost = 0; /* lost: errno of a schedule not written */
    bool limited = false, diverged = false, declared = false, reached = false;
    char fail_msg[512] = "", fail_file[4096] = "";
    int fail_preempt = 0;
    for (;;) {
        host_options_t opt = o->host;
        opt.seed = seed;
        opt.seed_given = true;
        opt.quiet = true;
        opt.out = devnull;
        opt.policy = SCHED_DFS;
        opt.dfs = d;
        opt.expect_optional = true;
        opt.cache = cache;
        host_t *h = host_create(&opt);
        int st = host_run(h);
        sched_t *s = host_sched(h);
        if (!s || st == EXIT_USAGE) {
            /* The scenario does not load: run it plainly for its message. */
            host_destroy(h);
            dup2(saved, 2);
            host_options_t plain = o->host;
            plain.policy = SCHED_FIFO;
            plain.quiet = true;
            plain.out = devnull;
            host_t *p = host_create(&plain);
            status = host_run(p);
            host_destroy(p);
            status = status == EXIT_OK ? EXIT_USAGE : status;
            goto out;
        }
        dfs_run_end(d, s);
        if (dfs_run_diverged(d)) {
            diverged = true;
            host_destroy(h);
            break;
        }
        if (dfs_run_pruned(d)) {
            pruned++;
        } else {
            /* Its decisions: the list --schedule replays. */
            char *extra = NULL;
            size_t elen = 0, nd;
            const uint32_t *dec = dfs_decisions(d, &nd);
            FILE *m = open_memstream(&extra, &elen);
            fprintf(m, ",\"schedule\":%llu,\"preemptions\":%d,\"decisions\":[",
                    (unsigned long long)schedules, dfs_run_preemptions(d));
            for (size_t i = 0; i < nd; i++)
                fprintf(m, "%s%u", i ? "," : "", dec[i]);
            fputc(']', m);
            fclose(m);
            int expected = write_line(stdout, o->host.path, h, st, seed, o->strategy, 0, extra);
            free(extra);
            declared = declared || expected >= 0;
            fflush(stdout);
            schedules++;
            if (nh == caph) {
                caph = caph ? caph * 2 : 256;
                hashes = mem_realloc(hashes, caph * sizeof *hashes);
            }
            hashes[nh++] = sched_trace_hash(s);
            if (expected == 1) {
                /* A lesson's failure, shown: the search has done its job. */
                reached = true;
                fail_preempt = dfs_run_preemptions(d);
            }
            if (st != EXIT_OK || expected == 1) {
                fail_status = st;
                fail_preempt = dfs_run_preemptions(d);
                const char *msg = *sched_failure_message(s) ? sched_failure_message(s) : "";
                const host_expect_t *ex;
                size_t ne = host_expectations(h, &ex);
                for (size_t i = 0; i < ne && !*msg; i++)
                    if (!ex[i].ok)
                        msg = ex[i].msg;
                if (!*msg && host_races(h))
                    msg = host_first_race(h);
                snprintf(fail_msg, sizeof fail_msg, "%s", msg);
                if (o->schedule_out) {
                    snprintf(fail_file, sizeof fail_file, "%s", o->schedule_out);
                } else {
                    const char *base = strrchr(o->host.path, '/');
                    base = base ? base + 1 : o->host.path;
                    size_t bl = strlen(base);
                    if (bl > 4 && strcmp(base + bl - 4, ".lua") == 0)
                        bl -= 4;
                    snprintf(fail_file, sizeof fail_file, "%.*s.dfs.schedule", (int)bl, base);
                }
                schedule_meta_t meta; /* the run it belongs to (schedule_file.h) */
                char merr[512];
                if (!schedule_meta_of(&o->host, "dfs", &meta, merr, sizeof merr)) {
                    fprintf(stderr, "%s\n", merr);
                    fail_file[0] = 0;
                } else {
                    meta.seed = sched_seed(host_sched(h));
                    if (!schedule_write(fail_file, &meta, dec, nd)) {
                        lost = errno ? errno : EIO;
                        fail_file[0] = 0;
                    }
                }
                host_destroy(h);
                break;
            }
        }
        host_destroy(h);
        if (tty && wall_now() - last >= 0.5) {
            last = wall_now();
            fprintf(err, "\r\033[Kexplore: dfs:%d: %llu schedules, %llu cut by sleep sets, %.1f runs/s",
                    bound, (unsigned long long)schedules, (unsigned long long)pruned,
                    (double)(schedules + pruned) / (last - t0));
            fflush(err);
            shown = true;
        }
        if (o->runs_given && schedules >= o->runs) {
            limited = dfs_next(d);
            break;
        }
        if (!dfs_next(d))
            break;
    }
    if (shown)
        fputs("\r\033[K", err);
    double wall = wall_now() - t0;
    uint64_t nd = distinct(hashes, nh);
    if (diverged) {
        fprintf(err, "explore: dfs:%d: a run of %s left the decisions of the schedule it replayed "
                     "(after %llu schedules): the scenario is not deterministic under replay\n",
                bound, o->host.path, (unsigned long long)schedules);
        status = EXIT_PROGRAM;
    } else if (reached) {
        fprintf(err, "explore: dfs:%d: the expected failure happened in schedule %llu of %s "
                     "(%d preemption%s; %llu runs cut by sleep sets)\n",
                bound, (unsigned long long)schedules - 1, o->host.path, fail_preempt,
                fail_preempt == 1 ? "" : "s", (unsigned long long)pruned);
        if (fail_file[0]) {
            fputs("  expected: ", err);
            dfs_reproduce(err, o, seed, fail_file);
            fputc('\n', err);
        }
        status = EXIT_OK;
    } else if (fail_status != EXIT_OK) {
        fprintf(err, "explore: dfs:%d: schedule %llu of %s failed (exit %d, %d preemption%s): %s\n",
                bound, (unsigned long long)schedules - 1, o->host.path, fail_status, fail_preempt,
                fail_preempt == 1 ? "" : "s", fail_msg);
        fprintf(err, "  %llu schedules passed before it, %llu runs cut by sleep sets, %.1f runs/s\n",
                (unsigned long long)schedules - 1, (unsigned long long)pruned,
                wall > 0 ? (double)(schedules + pruned) / wall : 0.0);
        if (fail_file[0]) {
            fputs("  reproduce: ", err);
            dfs_reproduce(err, o, seed, fail_file);
            fputc('\n', err);
        } else {
            fprintf(err, "  (the schedule could not be written: %s)\n", strerror(lost ? lost : errno));
        }
        status = EXIT_EXPECT;
    } else if (limited) {
        fprintf(err, "explore: dfs:%d: %llu schedules of %s passed; stopped by --runs before the "
                     "search ended (%llu cut by sleep sets, %llu distinct, %.1f runs/s)\n",
                bound, (unsigned long long)schedules, o->host.path, (unsigned long long)pruned,
                (unsigned long long)nd, wall > 0 ? (double)(schedules + pruned) / wall : 0.0);
    } else if (declared) {
        fprintf(err, "explore: dfs:%d: the expected failure was not reached in all %llu schedules "
                     "up to %d preemption%s of %s\n", bound, (unsigned long long)schedules, bound,
                bound == 1 ? "" : "s", o->host.path);
        status = EXIT_EXPECT;
    } else {
        fprintf(err, "explore: all %llu schedules up to %d preemption%s passed (%s, seed %llu; "
                     "%llu runs cut by sleep sets, %llu distinct traces, %.1f runs/s)\n",
                (unsigned long long)schedules, bound, bound == 1 ? "" : "s", o->host.path,
                (unsigned long long)seed, (unsigned long long)pruned, (unsigned long long)nd,
                wall > 0 ? (double)(schedules + pruned) / wall : 0.0);
    }
    if (lost) { /* a lost output first, as run's */
        if (reached)
            fprintf(err, "  (the schedule could not be written: %s)\n", strerror(lost));
        status = EXIT_OUTPUT;
    }
out:
    fflush(err);
    dup2(saved, 2);
    fclose(err); /* closes saved */
    fclose(devnull);
    free(hashes);
    host_cache_free(cache);
    dfs_free(d);
    return status;
}

int explore_main(const runopts_t *o)
{
    if (access(o->host.path, R_OK) != 0) {
        fprintf(stderr, "%s:1: cannot open the scenario: %s\n", o->host.path, strerror(errno));
        return EXIT_USAGE;
    }
    out_set_limit((uint64_t)o->max_output); /* each reproducer, the dfs schedule */
    /* The reproducers' folder, checked before any run (outfile.h). */
    out_claim_t repro_dir = {"--repro-dir", o->repro_dir, true};
    if (!o->no_repro && o->repro_dir && !out_check_paths(o->host.path, &repro_dir, 1)) {
        fprintf(stderr, "chansim explore: (--no-repro writes no reproducers)\n");
        return EXIT_USAGE;
    }
    char bad[1024];
    if (!host_check_sets(&o->host, bad, sizeof bad)) { /* once, before any run */
        fprintf(stderr, "%s\n", bad);
        return EXIT_USAGE;
    }
    if (o->host.policy == SCHED_DFS)
        return explore_dfs(o);
    explore_t e = {.o = o, .first_seed = o->host.seed_given ? o->host.seed : 1, .tty = isatty(2),
                   .t0 = wall_now()};
    e.last_progress = e.t0;
    for (uint64_t i = 0; i < o->runs; i++)
        e.count += i % o->shard_n == o->shard_i;
    e.idx = mem_calloc(e.count ? e.count : 1, sizeof *e.idx);
    e.results = mem_calloc(e.count ? e.count : 1, sizeof *e.results);
    e.slots = mem_calloc(o->jobs, sizeof *e.slots);
    for (uint64_t i = 0, k = 0; i < o->runs; i++)
        if (i % o->shard_n == o->shard_i)
            e.idx[k++] = i;
    if (o->host.policy == SCHED_PCT && o->host.pct_steps <= 0) {
        /* The first horizon: a calibration run of the first seed. */
        host_options_t c = o->host;
        c.seed = e.first_seed;
        c.seed_given = true;
        e.horizon = host_pct_calibrate(&c);
    }
    signal(SIGPIPE, SIG_IGN); /* a worker gone is seen as its closed pipe */
    while (e.done < e.next || (e.next < e.count && !e.stopping)) {
        start_runs(&e);
        if (!collect_runs(&e))
            break;
        print_ready(&e);
        if (e.tty && e.done < e.count && wall_now() - e.last_progress >= 0.5) {
            e.last_progress = wall_now();
            double wall = e.last_progress - e.t0;
            fprintf(stderr, "\r\033[Kexplore: %llu/%llu runs, %llu failed, %.1f runs/s",
                    (unsigned long long)e.done, (unsigned long long)e.count,
                    (unsigned long long)e.failed, wall > 0 ? (double)e.done / wall : 0.0);
            e.shown = true;
        }
    }
    for (uint64_t j = 0; j < o->jobs; j++) {
        if (e.slots[j].pid) {
            bool sig;
            reap_worker(&e.slots[j], &sig); /* no more runs: it exits */
        }
    }
    if (e.shown)
        fputs("\r\033[K", stderr);
    print_ready(&e);
    report(&e);
    bool written = write_reproducers(&e);
    for (uint64_t k = 0; k < e.count; k++)
        free(e.results[k].line);
    free(e.idx);
    free(e.results);
    free(e.slots);
    bool unreached = e.declared && !e.reached;
    if (!written)
        return EXIT_OUTPUT; /* a lost output first, as run's */
    return e.failed || unreached ? EXIT_EXPECT : EXIT_OK;
}
