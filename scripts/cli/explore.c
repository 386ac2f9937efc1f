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

#include "duration.h"
#include "host.h"

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

static void usage_explore(FILE *f)
{
    fprintf(f,
            "usage: chansim explore SCENARIO.lua [options]\n"
            "\n"
            "Runs the scenario under many seeds of a scheduling policy and reports the\n"
            "runs that fail (exit 1 or 2), with the command that reproduces each.\n"
            "\n"
            "  --runs N             runs to make (default 100)\n"
            "  --seed N             the first seed (default 1); run i uses seed N+i\n"
            "  --strategy S         random (default), pct:D or fifo\n"
            "  --jobs N             runs at once, each in its own process (default 1)\n"
            "  --shard I/N          only the runs whose index is I modulo N (I from 0)\n"
            "  --first              stop at the first failing run\n"
            "  --until DURATION     stop each run at this simulated time\n"
            "  --set NAME=VALUE     override a scenario parameter (repeatable)\n"
            "  --instr-budget N, --mem-limit MIB   as for chansim run\n"
            "\n"
            "Standard output: one JSON line per run, in seed order:\n"
            "  {\"scenario\":..., \"seed\":N, \"strategy\":..., \"exit\":N, \"result\":...,\n"
            "   \"hash\":..., \"events\":N, \"time_ns\":N, \"failures\":N, \"first_failure\":...}\n"
            "Exit status: 0 every run passed, 1 some run failed, 3 a usage error.\n");
}

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
        r->line = strdup(line);
    } else {
        r->line = strdup(slot->buf);
    }
    slot->pid = 0;
}

int explore_main(int argc, char **argv, const explore_cli_t *cli)
{
    host_options_t opt;
    memset(&opt, 0, sizeof opt);
    const char *path = NULL;
    uint64_t runs = 100, first_seed = 1, jobs = 1, shard_i = 0, shard_n = 1;
    bool stop_first = false;
    const char *strategy = "random";
    opt.policy = SCHED_RANDOM;
    host_param_override_t *sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets)
        return EXIT_PROGRAM;
    opt.sets = sets;
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage_explore(stdout);
            status = EXIT_OK;
            goto out;
        }
        if (strcmp(a, "--first") == 0) {
            stop_first = true;
            continue;
        }
        if (a[0] != '-') {
            if (path) {
                fprintf(stderr, "chansim explore: one scenario at a time\n");
                goto usage;
            }
            path = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "chansim explore: %s needs a value\n", a);
            goto usage;
        }
        i++;
        bool ok = true;
        if (strcmp(a, "--runs") == 0) {
            ok = cli->parse_u64(v, &runs) && runs >= 1;
        } else if (strcmp(a, "--seed") == 0) {
            ok = cli->parse_u64(v, &first_seed);
        } else if (strcmp(a, "--jobs") == 0) {
            ok = cli->parse_u64(v, &jobs) && jobs >= 1 && jobs <= 256;
        } else if (strcmp(a, "--strategy") == 0) {
            ok = cli->parse_strategy(v, &opt.policy, &opt.pct_depth);
            strategy = v;
        } else if (strcmp(a, "--shard") == 0) {
            char *slash = strchr(v, '/');
            ok = slash != NULL;
            if (ok) {
                char first[32];
                snprintf(first, sizeof first, "%.*s", (int)(slash - v), v);
                ok = cli->parse_u64(first, &shard_i) && cli->parse_u64(slash + 1, &shard_n) &&
                     shard_n >= 1 && shard_i < shard_n;
            }
        } else if (strcmp(a, "--until") == 0) {
            char err[256];
            ok = dur_parse(v, &opt.until, err, sizeof err) && opt.until > 0;
        } else if (strcmp(a, "--set") == 0) {
            const char *eq = strchr(v, '=');
            ok = eq && eq != v;
            if (ok) {
                sets[opt.nsets].name = strndup(v, (size_t)(eq - v));
                sets[opt.nsets].value = eq + 1;
                opt.nsets++;
            }
        } else if (strcmp(a, "--instr-budget") == 0) {
            uint64_t n;
            ok = cli->parse_u64(v, &n) && n >= 1000;
            opt.instr_budget = (int64_t)n;
        } else if (strcmp(a, "--mem-limit") == 0) {
            uint64_t mib;
            ok = cli->parse_u64(v, &mib) && mib >= 1 && mib <= 65536;
            opt.mem_limit = (size_t)mib << 20;
        } else {
            fprintf(stderr, "chansim explore: unknown option %s\n", a);
            goto usage;
        }
        if (!ok) {
            fprintf(stderr, "chansim explore: bad value for %s: \"%s\"\n", a, v);
            goto usage;
        }
    }
    if (!path) {
        fprintf(stderr, "chansim explore: which scenario?\n");
        goto usage;
    }
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "%s:1: cannot open the scenario: %s\n", path, strerror(errno));
        goto out;
    }

    /* The runs of this shard, in seed order. */
    uint64_t count = 0;
    for (uint64_t i = 0; i < runs; i++)
        count += i % shard_n == shard_i;
    uint64_t *idx = calloc(count ? count : 1, sizeof *idx);
    result_t *results = calloc(count ? count : 1, sizeof *results);
    run_slot_t *slots = calloc(jobs, sizeof *slots);
    if (!idx || !results || !slots) {
        free(idx);
        free(results);
        free(slots);
        status = EXIT_PROGRAM;
        goto out;
    }
    for (uint64_t i = 0, k = 0; i < runs; i++)
        if (i % shard_n == shard_i)
            idx[k++] = i;
    uint64_t next = 0, done = 0, printed = 0, failed = 0;
    bool stopping = false, tty = isatty(2);
    while (done < next || (next < count && !stopping)) {
        for (uint64_t j = 0; j < jobs && next < count && !stopping; j++) {
            if (slots[j].pid)
                continue;
            if (!start(&slots[j], next, path, &opt, first_seed + idx[next], strategy)) {
                fprintf(stderr, "chansim explore: cannot start a run: %s\n", strerror(errno));
                stopping = true;
                break;
            }
            next++;
        }
        struct pollfd pf[256];
        int map[256], np = 0;
        for (uint64_t j = 0; j < jobs; j++) {
            if (slots[j].pid) {
                pf[np].fd = slots[j].fd;
                pf[np].events = POLLIN;
                map[np++] = (int)j;
            }
        }
        if (np == 0)
            break;
        if (poll(pf, (nfds_t)np, -1) < 0 && errno != EINTR)
            break;
        for (int p = 0; p < np; p++) {
            if (!(pf[p].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            run_slot_t *sl = &slots[map[p]];
            if (!drain(sl))
                continue;
            finish(sl, results);
            done++;
            if (results[sl->index].status != EXIT_OK) {
                failed++;
                if (stop_first)
                    stopping = true;
            }
        }
        /* Print the finished prefix, in seed order. */
        while (printed < count && results[printed].line) {
            fputs(results[printed].line, stdout);
            printed++;
        }
        fflush(stdout);
        if (tty)
            fprintf(stderr, "\rexplore: %llu/%llu runs, %llu failed", (unsigned long long)done,
                    (unsigned long long)count, (unsigned long long)failed);
    }
    if (tty)
        fputc('\n', stderr);
    while (printed < count && results[printed].line) {
        fputs(results[printed].line, stdout);
        printed++;
    }
    fprintf(stderr, "explore: %llu runs of %s under %s from seed %llu: %llu failed\n",
            (unsigned long long)done, path, strategy, (unsigned long long)first_seed,
            (unsigned long long)failed);
    uint64_t shown = 0;
    for (uint64_t k = 0; k < count && shown < 5; k++) {
        if (!results[k].line || results[k].status == EXIT_OK)
            continue;
        fprintf(stderr, "  exit %d: chansim run %s --seed %llu --strategy %s", results[k].status,
                path, (unsigned long long)(first_seed + idx[k]), strategy);
        for (int s = 0; s < opt.nsets; s++)
            fprintf(stderr, " --set %s=%s", sets[s].name, sets[s].value);
        fputc('\n', stderr);
        shown++;
    }
    for (uint64_t k = 0; k < count; k++)
        free(results[k].line);
    free(idx);
    free(results);
    free(slots);
    status = failed ? EXIT_EXPECT : EXIT_OK;
    goto out;
usage:
    usage_explore(stderr);
    status = EXIT_USAGE;
out:
    for (int s = 0; s < opt.nsets; s++)
        free((char *)sets[s].name);
    free(sets);
    return status;
}
