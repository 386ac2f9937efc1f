/*
 * explore: `chansim explore`, schedule exploration.
 *
 * Runs one scenario under many seeds of a scheduling policy (seeded random
 * by default, or PCT) to find an interleaving that breaks an expectation,
 * an invariant or the program itself, and prints the command that
 * reproduces it. Each run is a child process (a panic or a stack overflow
 * in one run never takes the others down), --jobs of them at once; the
 * results are JSON lines on standard output, one per run in seed order, so
 * shards (--shard I/N, for GNU parallel, a Slurm array or a Kubernetes
 * indexed Job) merge by concatenation. Progress and the summary go to
 * standard error.
 */
#include "explore.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"
#include "mem.h"

typedef struct run_slot {
    pid_t pid;        /* the child, 0 if free */
    int fd;           /* read end of its result pipe */
    uint64_t index;   /* which run */
    char buf[4096];   /* its JSON line as it arrives */
    size_t len;
} run_slot_t;

typedef struct result {
    char *line;       /* the JSON line (malloc'd), NULL until done */
    int status;       /* the run's exit status */
} result_t;

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

/* In the child: one run, its JSON line written to fd. Returns the status. */
static int one_run(const char *path, host_options_t opt, uint64_t seed, const char *strategy, int fd)
{
    FILE *devnull = fopen("/dev/null", "w");
    int err_fd = open("/dev/null", O_WRONLY);
    if (err_fd >= 0) {
        dup2(err_fd, 2); /* the program's panics and reports: counted, not shown */
        close(err_fd);
    }
    opt.path = path;
    opt.seed = seed;
    opt.seed_given = true;
    opt.quiet = true;
    opt.out = devnull ? devnull : stdout;
    host_t *h = host_create(&opt);
    int status = host_run(h);
    FILE *out = fdopen(fd, "w");
    if (!out)
        _exit(EXIT_PROGRAM);
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
    fputs("}\n", out);
    fclose(out);
    host_destroy(h);
    if (devnull)
        fclose(devnull);
    return status;
}

static bool start(run_slot_t *slot, uint64_t index, const char *path, const host_options_t *opt,
                  uint64_t seed, const char *strategy)
{
    int p[2];
    if (pipe(p) != 0)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return false;
    }
    if (pid == 0) {
        close(p[0]);
        _exit(one_run(path, *opt, seed, strategy, p[1]));
    }
    close(p[1]);
    slot->pid = pid;
    slot->fd = p[0];
    slot->index = index;
    slot->len = 0;
    return true;
}

/* Read what a child wrote; true when its pipe is closed. */
static bool drain(run_slot_t *slot)
{
    for (;;) {
        ssize_t n = read(slot->fd, slot->buf + slot->len, sizeof slot->buf - 1 - slot->len);
        if (n > 0) {
            slot->len += (size_t)n;
            if (slot->len == sizeof slot->buf - 1)
                return false;
            continue;
        }
        if (n == 0)
            return true;
        if (errno == EINTR)
            continue;
        return true;
    }
}

static void finish(run_slot_t *slot, result_t *results)
{
    int wst = 0;
    while (waitpid(slot->pid, &wst, 0) < 0 && errno == EINTR)
        ;
    close(slot->fd);
    result_t *r = &results[slot->index];
    slot->buf[slot->len] = 0;
    if (WIFEXITED(wst)) {
        r->status = WEXITSTATUS(wst);
    } else {
        r->status = EXIT_PROGRAM; /* a crash of chansim itself: counted as a failure */
    }
    if (slot->len == 0) {
        char line[160];
        snprintf(line, sizeof line, "{\"exit\":%d,\"result\":\"the run ended without a report%s\"}\n",
                 r->status, WIFSIGNALED(wst) ? " (killed by a signal)" : "");
        r->line = mem_strdup(line);
    } else {
        r->line = mem_strdup(slot->buf);
    }
    slot->pid = 0;
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
    bool stopping;        /* --first saw a failure, or a run could not start */
    bool tty;             /* progress on stderr */
} explore_t;

/* Start runs in the free slots. */
static void start_runs(explore_t *e)
{
    for (uint64_t j = 0; j < e->o->jobs && e->next < e->count && !e->stopping; j++) {
        if (e->slots[j].pid)
            continue;
        if (!start(&e->slots[j], e->next, e->o->host.path, &e->o->host,
                   e->first_seed + e->idx[e->next], e->o->strategy)) {
            fprintf(stderr, "chansim explore: cannot start a run: %s\n", strerror(errno));
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
        if (e->slots[j].pid) {
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
        if (!drain(sl))
            continue;
        finish(sl, e->results);
        e->done++;
        if (e->results[sl->index].status != EXIT_OK) {
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

/* The summary on stderr, with the command that reproduces each of the
 * first five failures. */
static void report(const explore_t *e)
{
    const runopts_t *o = e->o;
    fprintf(stderr, "explore: %llu runs of %s under %s from seed %llu: %llu failed\n",
            (unsigned long long)e->done, o->host.path, o->strategy,
            (unsigned long long)e->first_seed, (unsigned long long)e->failed);
    uint64_t shown = 0;
    for (uint64_t k = 0; k < e->count && shown < 5; k++) {
        if (!e->results[k].line || e->results[k].status == EXIT_OK)
            continue;
        fprintf(stderr, "  exit %d: chansim run %s --seed %llu --strategy %s", e->results[k].status,
                o->host.path, (unsigned long long)(e->first_seed + e->idx[k]), o->strategy);
        for (int s = 0; s < o->host.nsets; s++)
            fprintf(stderr, " --set %s=%s", o->host.sets[s].name, o->host.sets[s].value);
        if (o->host.race)
            fputs(" --race", stderr);
        if (o->host.preempt)
            fprintf(stderr, " --preempt %d", o->host.preempt);
        fputc('\n', stderr);
        shown++;
    }
}

int explore_main(const runopts_t *o)
{
    if (access(o->host.path, R_OK) != 0) {
        fprintf(stderr, "%s:1: cannot open the scenario: %s\n", o->host.path, strerror(errno));
        return EXIT_USAGE;
    }
    explore_t e = {.o = o, .first_seed = o->host.seed_given ? o->host.seed : 1, .tty = isatty(2)};
    for (uint64_t i = 0; i < o->runs; i++)
        e.count += i % o->shard_n == o->shard_i;
    e.idx = mem_calloc(e.count ? e.count : 1, sizeof *e.idx);
    e.results = mem_calloc(e.count ? e.count : 1, sizeof *e.results);
    e.slots = mem_calloc(o->jobs, sizeof *e.slots);
    for (uint64_t i = 0, k = 0; i < o->runs; i++)
        if (i % o->shard_n == o->shard_i)
            e.idx[k++] = i;
    while (e.done < e.next || (e.next < e.count && !e.stopping)) {
        start_runs(&e);
        if (!collect_runs(&e))
            break;
        print_ready(&e);
        if (e.tty)
            fprintf(stderr, "\rexplore: %llu/%llu runs, %llu failed", (unsigned long long)e.done,
                    (unsigned long long)e.count, (unsigned long long)e.failed);
    }
    if (e.tty)
        fputc('\n', stderr);
    print_ready(&e);
    report(&e);
    for (uint64_t k = 0; k < e.count; k++)
        free(e.results[k].line);
    free(e.idx);
    free(e.results);
    free(e.slots);
    return e.failed ? EXIT_EXPECT : EXIT_OK;
}
