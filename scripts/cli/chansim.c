/*
 * chansim: the command-line program.
 *
 *   chansim run SCENARIO.lua [options]   run a scenario and summarise it
 *   chansim list [DIR]                   name and description of each scenario
 *
 * Standard output carries only what the simulation determines (the
 * program's output and the summary), so two runs with one seed print the
 * same bytes; wall-clock figures and progress go to standard error.
 * Exit status: 0 expectations held, 1 an expectation failed, 2 the
 * simulated program failed, 3 a scenario or usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "datadir.h"
#include "duration.h"
#include "explore.h"
#include "host.h"
#include "newscen.h"
#include "summary_json.h"
#include "outputs.h"
#include "viewrun.h"

#define CHANSIM_VERSION "0.1.0"

static const char *prog = "chansim";

static void usage_main(FILE *f)
{
    fprintf(f,
            "chansim %s: a deterministic simulator of Go's concurrency patterns\n"
            "\n"
            "usage:\n"
            "  chansim run SCENARIO.lua [options]   run a scenario (chansim run --help); a NAME\n"
            "                                       runs scenarios/NAME.lua or the installed one\n"
            "  chansim list [DIR]                   list the scenarios in DIR (default: scenarios)\n"
            "  chansim explore SCENARIO.lua [opts]  search seeds for a failing schedule (explore --help)\n"
            "  chansim replay SCENARIO.lua --seed N reproduce one run exactly (also --schedule FILE)\n"
            "  chansim new NAME                     write NAME.lua, a scenario skeleton that passes\n"
            "  chansim --help | --version\n"
            "\n"
            "exit status: 0 expectations held, 1 an expectation failed,\n"
            "             2 the simulated program failed (deadlock, panic, leak),\n"
            "             3 a scenario or usage error\n",
            CHANSIM_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: chansim run SCENARIO.lua [options]\n"
            "\n"
            "  --seed N              seed of every random stream (default: the scenario's, else 1)\n"
            "  --until DURATION      stop at this simulated time (Go syntax: 250ms, 1.5s, 2m)\n"
            "  --strategy S          scheduling policy: fifo (default), random, pct:D\n"
            "  --set NAME=VALUE      override a scenario parameter (repeatable)\n"
            "  --log FILE            the event trace as text, one event per line\n"
            "  --trace FILE.json     Chrome trace-event JSON (open in Perfetto)\n"
            "  --metrics FILE.prom   Prometheus text-format metrics at the end of the run\n"
            "  --csv FILE            time series of the metrics, sampled in simulated time\n"
            "  --csv-interval D      sampling interval for --csv (default 100ms)\n"
            "  --pprof DIR           Go's profiles in simulated time: DIR/goroutine.pb.gz,\n"
            "                        DIR/mutex.pb.gz, DIR/block.pb.gz (go tool pprof -top FILE)\n"
            "  --schedule-out FILE   write the scheduling decisions taken (for replay)\n"
            "  --schedule FILE       replay the decisions in FILE (written by --schedule-out)\n"
            "  --quiet               no program output, only the summary\n"
            "  --json                the summary as one JSON object on standard output, the\n"
            "                        program's output on standard error (docs/schemas/)\n"
            "  --mem-limit MIB       bound on the scenario's Lua heap (default 512)\n"
            "  --instr-budget N      Lua instructions allowed between simulated events\n"
            "                        before a run is stopped as an infinite loop (default 100000000)\n"
            "  -h, --help            this text\n");
    viewrun_usage(f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    usage_run(stderr);
    return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

static bool parse_strategy(const char *s, sched_policy_t *p, int *depth)
{
    if (strcmp(s, "fifo") == 0) {
        *p = SCHED_FIFO;
        return true;
    }
    if (strcmp(s, "random") == 0) {
        *p = SCHED_RANDOM;
        return true;
    }
    if (strncmp(s, "pct:", 4) == 0) {
        uint64_t d;
        if (!parse_u64(s + 4, &d) || d < 1 || d > 64)
            return false;
        *p = SCHED_PCT;
        *depth = (int)d;
        return true;
    }
    if (strcmp(s, "pct") == 0) {
        *p = SCHED_PCT;
        *depth = 3;
        return true;
    }
    return false;
}

static const char *strategy_name(sched_policy_t p, int depth, char *buf, size_t size)
{
    switch (p) {
    case SCHED_RANDOM: return "random";
    case SCHED_PCT: snprintf(buf, size, "pct:%d", depth); return buf;
    case SCHED_REPLAY: return "replay";
    default: return "fifo";
    }
}

/* Read a decision list: whitespace-separated unsigned integers. */
static uint32_t *read_schedule(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1024, n = 0;
    uint32_t *v = malloc(cap * sizeof *v);
    unsigned long x;
    while (v && fscanf(f, "%lu", &x) == 1) {
        if (n == cap) {
            cap *= 2;
            uint32_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                v = NULL;
                break;
            }
            v = nv;
        }
        v[n++] = (uint32_t)x;
    }
    fclose(f);
    *len = n;
    return v;
}

/* The command line that reproduces the run. */
static void write_reproduce(FILE *out, host_t *h, const host_options_t *opt, int argc, char **argv)
{
    char sb[32];
    fprintf(out, "chansim run %s --seed %llu", opt->path, (unsigned long long)sched_seed(host_sched(h)));
    if (opt->policy != SCHED_REPLAY) /* a replay is reproduced by its --schedule, below */
        fprintf(out, " --strategy %s", strategy_name(opt->policy, opt->pct_depth, sb, sizeof sb));
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "--until") == 0 ||
             strcmp(argv[i], "--schedule") == 0) && i + 1 < argc) {
            fprintf(out, " %s %s", argv[i], argv[i + 1]);
            i++;
        }
    }
}

static void print_summary(FILE *out, host_t *h, const host_options_t *opt, int status,
                          int argc, char **argv)
{
    sched_t *s = host_sched(h);
    char t[48], dur[48];
    trace_format_time(sched_now_of(s), t, sizeof t);
    fprintf(out, "\n--- chansim summary ---\n");
    fprintf(out, "scenario:     %s (%s)\n", *host_scenario_name(h) ? host_scenario_name(h) : "-",
            opt->path);
    const char *res;
    switch (host_result(h)) {
    case SCHED_PANIC: res = "panic"; break;
    case SCHED_FATAL: res = "fatal error"; break;
    case SCHED_DEADLOCK: res = "deadlock"; break;
    case SCHED_UNTIL: res = "time limit reached"; break;
    case SCHED_EXITED: res = "sim.exit()"; break;
    case SCHED_IDLE: res = "finished (nothing left to run)"; break;
    default: res = "finished"; break;
    }
    fprintf(out, "result:       %s\n", res);
    fprintf(out, "simulated:    %s (%ss)\n", dur_format(sched_now_of(s), dur, sizeof dur), t);
    fprintf(out, "events:       %llu\n", (unsigned long long)sched_trace_events(s));
    fprintf(out, "goroutines:   %llu spawned, %llu alive at the end\n",
            (unsigned long long)sched_goroutines_spawned(s),
            (unsigned long long)sched_goroutines_alive(s));
    if (host_leaked(h)) {
        fprintf(out, "leaked:       %llu goroutines blocked forever after main returned:\n",
                (unsigned long long)host_leaked(h));
        size_t cap = 1 << 16;
        char *dump = malloc(cap);
        if (dump) {
            sched_dump(s, dump, cap);
            fputs(dump, out);
            free(dump);
        }
    }
    const host_expect_t *e;
    size_t n = host_expectations(h, &e);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !e[i].ok;
    fprintf(out, "expectations: %zu passed, %zu failed\n", n - failed, failed);
    for (size_t i = 0; i < n; i++) {
        char et[48];
        trace_format_time(e[i].t, et, sizeof et);
        const char *kind = e[i].kind == 1 ? "invariant " : e[i].kind == 2 ? "finally " : "";
        fprintf(out, "  [%s] %s%s (%s, at %ss", e[i].ok ? "pass" : "FAIL", kind, e[i].msg,
                e[i].where, et);
        if (e[i].repeats)
            fprintf(out, ", and %d times more", e[i].repeats);
        fputs(")\n", out);
    }
    fprintf(out, "trace hash:   %016llx\n", (unsigned long long)sched_trace_hash(s));
    fprintf(out, "seed:         %llu\n", (unsigned long long)sched_seed(s));
    fprintf(out, "reproduce:    ");
    write_reproduce(out, h, opt, argc, argv);
    fprintf(out, "\nexit status:  %d\n", status);
}

/* --json: the summary as one JSON object (scripts/out/summary_json.h). */
static void print_summary_json(FILE *out, host_t *h, const host_options_t *opt, int status,
                               int argc, char **argv)
{
    char *repro = NULL, sb[32];
    size_t len = 0;
    FILE *m = open_memstream(&repro, &len);
    if (m) {
        write_reproduce(m, h, opt, argc, argv);
        fclose(m);
    }
    summary_json_write(out, h, opt->path, status, strategy_name(opt->policy, opt->pct_depth, sb, sizeof sb),
                       repro ? repro : "");
    free(repro);
}

static void free_sets(host_param_override_t *sets, int n)
{
    for (int i = 0; i < n; i++)
        free((char *)sets[i].name);
    free(sets);
}

/* A usage error while reading run's options: free what they hold (the
 * --set names), then print the message and the usage. */
#define RUN_USAGE(...)                          \
    do {                                        \
        free_sets(sets, opt.nsets);             \
        return usage_error(__VA_ARGS__);        \
    } while (0)

/* Progress of a long run on a terminal: the simulated clock, events and
 * goroutines, twice a second of wall time, on standard error (the wall
 * clock only paces the display; the run never sees it). */
typedef struct progress {
    host_t *h;
    uint64_t steps;     /* steps since the last look at the wall clock */
    double last;        /* wall seconds of the last line */
    bool shown;         /* a line is on the terminal */
} progress_t;

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress_step(void *ud)
{
    progress_t *p = ud;
    if (++p->steps < 4096)
        return;
    p->steps = 0;
    double now = wall_now();
    if (p->last == 0) {
        p->last = now;
        return;
    }
    if (now - p->last < 0.5)
        return;
    p->last = now;
    sched_t *s = host_sched(p->h);
    char t[48], until[48];
    dur_format(sched_now_of(s), t, sizeof t);
    dur_format(sched_until(s), until, sizeof until);
    fprintf(stderr, "\r\033[Ksimulated %s of %s, %llu events, %llu goroutines", t, until,
            (unsigned long long)sched_trace_events(s),
            (unsigned long long)sched_goroutines_alive(s));
    p->shown = true;
}

static int cmd_run(int argc, char **argv)
{
    host_options_t opt;
    memset(&opt, 0, sizeof opt);
    outputs_t outs;
    outputs_init(&outs);
    const char *schedule_in = NULL, *schedule_out = NULL;
    host_param_override_t *sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets)
        return EXIT_PROGRAM;
    opt.sets = sets;
    viewrun_t view; /* --view, --record and their options */
    viewrun_init(&view);
    char verr[256];
    int vtook;
    bool json = false; /* --json */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            free_sets(sets, opt.nsets);
            usage_run(stdout);
            return EXIT_OK;
        } else if ((vtook = viewrun_option(&view, a, v, verr, sizeof verr)) != 0) {
            if (vtook < 0) {
                free_sets(sets, opt.nsets);
                return usage_error("%s", verr);
            }
            takes = vtook == 2;
        } else if (strcmp(a, "--quiet") == 0) {
            opt.quiet = true;
            takes = false;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
            takes = false;
        } else if (a[0] == '-' && a[1] == '-') {
            static const char *const known[] = {
                "--seed", "--until", "--strategy", "--set", "--log", "--trace", "--metrics",
                "--csv", "--csv-interval", "--schedule", "--schedule-out", "--mem-limit",
                "--instr-budget", "--pprof", NULL,
            };
            bool is_known = false;
            for (int k = 0; known[k]; k++)
                is_known = is_known || strcmp(a, known[k]) == 0;
            if (!is_known)
                RUN_USAGE("unknown option %s", a);
            if (!v)
                RUN_USAGE("%s needs a value", a);
            if (strcmp(a, "--seed") == 0) {
                if (!parse_u64(v, &opt.seed))
                    RUN_USAGE("--seed: want a non-negative integer, got \"%s\"", v);
                opt.seed_given = true;
            } else if (strcmp(a, "--until") == 0) {
                char err[256];
                if (!dur_parse(v, &opt.until, err, sizeof err) || opt.until <= 0)
                    RUN_USAGE("--until: want a positive duration such as 30s, got \"%s\"", v);
            } else if (strcmp(a, "--strategy") == 0) {
                if (!parse_strategy(v, &opt.policy, &opt.pct_depth))
                    RUN_USAGE("--strategy: want fifo, random or pct:D (D from 1 to 64), got \"%s\"", v);
            } else if (strcmp(a, "--set") == 0) {
                const char *eq = strchr(v, '=');
                if (!eq || eq == v)
                    RUN_USAGE("--set: want NAME=VALUE, got \"%s\"", v);
                char *name = strndup(v, (size_t)(eq - v));
                sets[opt.nsets].name = name;
                sets[opt.nsets].value = eq + 1;
                opt.nsets++;
            } else if (strcmp(a, "--log") == 0) {
                outs.log_path = v;
            } else if (strcmp(a, "--trace") == 0) {
                outs.trace_path = v;
            } else if (strcmp(a, "--metrics") == 0) {
                outs.metrics_path = v;
            } else if (strcmp(a, "--csv") == 0) {
                outs.csv_path = v;
            } else if (strcmp(a, "--pprof") == 0) {
                outs.pprof_dir = v;
            } else if (strcmp(a, "--csv-interval") == 0) {
                char err[256];
                if (!dur_parse(v, &outs.csv_interval, err, sizeof err) || outs.csv_interval <= 0)
                    RUN_USAGE("--csv-interval: want a positive duration, got \"%s\"", v);
            } else if (strcmp(a, "--schedule") == 0) {
                schedule_in = v;
            } else if (strcmp(a, "--schedule-out") == 0) {
                schedule_out = v;
                opt.record = true;
            } else if (strcmp(a, "--mem-limit") == 0) {
                uint64_t mib;
                if (!parse_u64(v, &mib) || mib < 1 || mib > 65536)
                    RUN_USAGE("--mem-limit: want MiB from 1 to 65536, got \"%s\"", v);
                opt.mem_limit = (size_t)mib << 20;
            } else if (strcmp(a, "--instr-budget") == 0) {
                uint64_t n;
                if (!parse_u64(v, &n) || n < 1000)
                    RUN_USAGE("--instr-budget: want an integer of at least 1000, got \"%s\"", v);
                opt.instr_budget = (int64_t)n;
            } else {
                RUN_USAGE("unknown option %s", a);
            }
        } else if (a[0] == '-') {
            RUN_USAGE("unknown option %s", a);
        } else {
            if (opt.path)
                RUN_USAGE("one scenario at a time (also got \"%s\")", a);
            opt.path = a;
            takes = false;
        }
        if (takes)
            i++;
    }
    if (!opt.path)
        RUN_USAGE("%s", "run needs a scenario file");
    char found[4096]; /* `chansim run hello`: a scenario by name */
    chansim_find_scenario(opt.path, found, sizeof found);
    opt.path = found;
    uint32_t *replay = NULL;
    if (schedule_in) {
        replay = read_schedule(schedule_in, &opt.replay_len);
        if (!replay) {
            fprintf(stderr, "%s: cannot read the schedule %s: %s\n", prog, schedule_in, strerror(errno));
            free_sets(sets, opt.nsets);
            return EXIT_USAGE;
        }
        opt.replay = replay;
        opt.policy = SCHED_REPLAY;
    }
    opt.out = json ? stderr : stdout; /* --json: standard output is the summary alone */
    host_t *h;
    int status;
    if (viewrun_wanted(&view)) {
        /* The run under the view (it may run the scenario more than once). */
        h = viewrun_run(&view, &opt, &outs, &status);
        if (!h) {
            viewrun_deinit(&view);
            free_sets(sets, opt.nsets);
            free(replay);
            return status;
        }
    } else {
        h = host_create(&opt);
        if (!outputs_attach(&outs, h)) {
            host_destroy(h);
            free_sets(sets, opt.nsets);
            free(replay);
            return EXIT_USAGE;
        }
        progress_t prog_state = {.h = h};
        if (isatty(2))
            host_add_step_observer(h, progress_step, &prog_state);
        status = host_run(h);
        if (prog_state.shown)
            fputs("\r\033[K", stderr);
    }
    if (status == EXIT_USAGE && !host_sched(h)) {
        outputs_deinit(&outs); /* the run never started: remove the temporary files */
        host_destroy(h);
        free_sets(sets, opt.nsets);
        free(replay);
        return status;
    }
    if (status != EXIT_USAGE) {
        if (!outputs_finish(&outs, h))
            status = status ? status : EXIT_PROGRAM;
        if (schedule_out) {
            size_t n;
            const uint32_t *d = sched_decisions(host_sched(h), &n);
            if (!outputs_write_schedule(schedule_out, d, n))
                status = status ? status : EXIT_PROGRAM;
        }
        if (json)
            print_summary_json(stdout, h, &opt, status, argc, argv);
        else
            print_summary(stdout, h, &opt, status, argc, argv);
        if (opt.policy == SCHED_REPLAY && sched_replay_diverged(host_sched(h)))
            fprintf(stderr, "%s: warning: the run left the recorded schedule (a different scenario, "
                            "seed or build?)\n", prog);
        double wall = host_wall_seconds(h);
        double sim = (double)sched_now_of(host_sched(h)) / 1e9;
        fprintf(stderr, "%s: %.3fs of wall time, %.1fx simulated speed\n", prog, wall,
                wall > 0 ? sim / wall : 0.0);
    }
    outputs_deinit(&outs);
    host_destroy(h);
    viewrun_deinit(&view);
    for (int i = 0; i < opt.nsets; i++)
        free((char *)sets[i].name);
    free(sets);
    free(replay);
    return status;
}

/* chansim replay SCENARIO --seed N [--strategy S] [--schedule FILE] [run options]:
 * a run that must name its seed, so that it reproduces one exactly (the
 * line `chansim explore` prints). */
static int cmd_replay(int argc, char **argv)
{
    bool seed = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: chansim replay SCENARIO.lua --seed N [--strategy S] [--schedule FILE]\n"
                   "                      [--view] [any option of chansim run]\n\n"
                   "Reproduces one run exactly: the seed (and strategy) a failing run of\n"
                   "`chansim explore` reported, or a schedule written by --schedule-out.\n");
            return EXIT_OK;
        }
        seed = seed || strcmp(argv[i], "--seed") == 0;
    }
    if (!seed) {
        fprintf(stderr, "%s: replay needs --seed N (the seed of the run to reproduce)\n", prog);
        return EXIT_USAGE;
    }
    return cmd_run(argc, argv);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(int argc, char **argv)
{
    /* ./scenarios, else the scenarios chansim came with */
    char shipped[PATH_MAX + 16];
    snprintf(shipped, sizeof shipped, "%s/scenarios", chansim_datadir());
    struct stat st;
    const char *dir = stat("scenarios", &st) == 0 && S_ISDIR(st.st_mode) ? "scenarios" : shipped;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: chansim list [DIR]\n\nPrints the name and description of each scenario in DIR "
                   "(default: ./scenarios if there is one,\nelse the scenarios installed with chansim).\n");
            return EXIT_OK;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "%s: list: unknown option %s\n", prog, argv[i]);
            return EXIT_USAGE;
        }
        dir = argv[i];
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: list: cannot open %s: %s\n", prog, dir, strerror(errno));
        return EXIT_USAGE;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".lua") == 0) {
            char **nn = realloc(names, (n + 1) * sizeof *names);
            if (!nn)
                break;
            names = nn;
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    int status = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX * 2], err[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *name, *desc;
        if (!host_read_header(path, &name, &desc, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            status = EXIT_USAGE;
        }
        printf("%-36s %s\n", path, name ? name : "(no scenario{} header)");
        if (desc)
            printf("%-36s   %s\n", "", desc);
        free(name);
        free(desc);
        free(names[i]);
    }
    free(names);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage_main(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("chansim %s\n", CHANSIM_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    if (strcmp(cmd, "explore") == 0) {
        explore_cli_t cli = {parse_u64, parse_strategy};
        return explore_main(argc - 2, argv + 2, &cli);
    }
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    if (strcmp(cmd, "new") == 0)
        return new_main(argc - 2, argv + 2);
    fprintf(stderr, "%s: unknown command \"%s\"\n", prog, cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
