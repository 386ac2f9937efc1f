/*
 * chansim: the command-line program.
 *
 *   chansim run SCENARIO.lua [options]   run a scenario and summarise it
 *   chansim replay SCENARIO.lua --seed N reproduce one run exactly
 *   chansim replay FILE.json             re-run a reproducer (repro_run.c)
 *   chansim shrink FILE.json             minimise a reproducer (repro_shrink.c)
 *   chansim explore SCENARIO.lua [opts]  search seeds for a failing schedule
 *   chansim list [DIR]                   name and description of each scenario
 *   chansim new NAME                     a scenario skeleton (newscen.c)
 *
 * run, replay and explore take their options from one table (runopts.c);
 * the view (viewrun.c) and explore (explore.c) have their own files.
 *
 * Standard output carries only what the simulation determines (the
 * program's output and the summary), so two runs with one seed print the
 * same bytes; wall-clock figures and progress go to standard error.
 * Exit status: 0 expectations held, 1 an expectation failed, 2 the
 * simulated program failed, 3 a scenario or usage error, 4 an output
 * (a file or standard output) could not be written whole.
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
#include "explain.h"
#include "host.h"
#include "newscen.h"
#include "repro.h"
#include "outputs.h"
#include "schedule_file.h"
#include "summary_json.h"
#include "runopts.h"
#include "viewrun.h"


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
            "  chansim replay SCENARIO.lua --seed N reproduce one run exactly (with --strategy S\n"
            "                                       or --schedule FILE)\n"
            "  chansim replay FILE.json             re-run a reproducer written by explore\n"
            "  chansim shrink FILE.json [-o OUT]    minimise a reproducer's schedule\n"
            "  chansim new NAME                     write NAME.lua, a scenario skeleton that passes\n"
            "  chansim --help | --version\n"
            "\n"
            "exit status: 0 expectations held, 1 an expectation failed,\n"
            "             2 the simulated program failed (deadlock, panic, leak),\n"
            "             3 a scenario or usage error, 4 an output could not be written\n"
            "             (a file, or standard output), 66 a data race (--race)\n",
            CHANSIM_VERSION);
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

/* The command line that reproduces the run. */
static void write_reproduce(FILE *out, host_t *h, const host_options_t *opt, int argc, char **argv)
{
    char sb[32];
    fprintf(out, "chansim run %s --seed %llu", opt->path, (unsigned long long)sched_seed(host_sched(h)));
    if (opt->policy != SCHED_REPLAY) /* a replay is reproduced by its --schedule, below */
        fprintf(out, " --strategy %s", strategy_name(opt->policy, opt->pct_depth, sb, sizeof sb));
    if (opt->policy == SCHED_PCT && host_pct_steps(h) > 0)
        fprintf(out, " --pct-steps %lld", (long long)host_pct_steps(h));
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "--until") == 0 ||
             strcmp(argv[i], "--schedule") == 0) && i + 1 < argc) {
            fprintf(out, " %s %s", argv[i], argv[i + 1]);
            i++;
        }
    }
    if (opt->race)
        fputs(" --race", out);
    if (opt->preempt)
        fprintf(out, " --preempt %d", opt->preempt);
    if (opt->slack_spec)
        fprintf(out, " --timer-slack %s", opt->slack_spec);
    if (host_faults_path(h))
        fprintf(out, " --faults %s", host_faults_path(h));
}

/* An output reached --max-output and stopped the run (its result reads
 * SCHED_EXITED, as sim.exit's). */
static bool output_limited;

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
    case SCHED_EXITED: res = output_limited ? "stopped: an output reached its limit (--max-output)"
                                            : "sim.exit()"; break;
    case SCHED_PANIC: res = "panic"; break;
    case SCHED_FATAL: res = "fatal error"; break;
    case SCHED_DEADLOCK: res = "deadlock"; break;
    case SCHED_UNTIL: res = "time limit reached"; break;
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
    if (opt->race)
        fprintf(out, "data races:   %llu\n", (unsigned long long)host_races(h));
    if (host_expected_failure(h))
        fprintf(out, "expected failure: %s (%s)\n", host_expected_failure(h),
                host_expected_happened(h) == 1 ? "happened" : "did not happen");
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


/* The run without the view: the outputs attached, progress on a terminal.
 * NULL (and *status) if the outputs cannot be created. */
/* ex, if given, records the steps for the explanation of a failure. */
static host_t *run_plain(runopts_t *o, explain_t *ex, int *status)
{
    host_t *h = host_create(&o->host);
    if (!outputs_attach(&o->outs, h)) {
        host_destroy(h);
        *status = EXIT_USAGE;
        return NULL;
    }
    progress_t prog_state = {.h = h};
    if (isatty(2))
        host_add_step_observer(h, progress_step, &prog_state);
    if (ex)
        explain_attach(ex, h);
    *status = host_run(h);
    if (ex)
        explain_detach(ex, h);
    if (prog_state.shown)
        fputs("\r\033[K", stderr);
    return h;
}

/* After a run that started: the outputs, the schedule, the summary, and
 * the wall-clock figures on stderr. Returns the exit status. */
static int finish_run(runopts_t *o, host_t *h, int status, schedule_meta_t *meta)
{
    size_t at;
    uint32_t value, offered;
    if (o->host.replay_strict && sched_replay_divergence(host_sched(h), &at, &value, &offered)) {
        /* The schedule matched the run's header but not the run: refused as
         * a bad schedule; no output is kept (outputs_deinit removes them). */
        out_stream_check(o->host.out);
        if (value == UINT32_MAX)
            fprintf(stderr, "%s: %s: the run needs more than its %zu decisions: the schedule does not "
                            "belong to this run (recorded with a shorter --until, or by another version "
                            "of chansim or of the scenario's modules?); nothing was written\n",
                    prog, o->schedule_in, o->host.replay_len);
        else
            fprintf(stderr, "%s: %s: decision %zu of %zu is %u, but the run offers %u choices there: the "
                            "schedule does not belong to this run (edited, or recorded by another version "
                            "of chansim or of the scenario's modules?); nothing was written\n",
                    prog, o->schedule_in, at + 1, o->host.replay_len, (unsigned)value, (unsigned)offered);
        return EXIT_USAGE;
    }
    bool out_ok = out_stream_check(o->host.out); /* the program's output, before the summary */
    out_ok = outputs_finish(&o->outs, h) && out_ok;
    output_limited = outputs_limited(&o->outs) || out_stream_limited(o->host.out);
    if (o->schedule_out && !output_limited) {
        size_t n;
        const uint32_t *d = sched_decisions(host_sched(h), &n);
        char sb[32];
        meta->seed = sched_seed(host_sched(h));
        snprintf(meta->strategy, sizeof meta->strategy, "%s",
                 strategy_name(o->host.policy, o->host.pct_depth, sb, sizeof sb));
        out_ok = schedule_write(o->schedule_out, meta, d, n) && out_ok;
    } else if (o->schedule_out) {
        fprintf(stderr, "%s: %s was not written: the run was stopped\n", prog, o->schedule_out);
        out_ok = false;
    }
    if (!out_ok)
        status = EXIT_OUTPUT; /* what the run found did not all reach its files */
    if (o->json)
        print_summary_json(stdout, h, &o->host, status, o->argc, o->argv);
    else
        print_summary(stdout, h, &o->host, status, o->argc, o->argv);
    if (o->host.policy == SCHED_REPLAY && sched_replay_diverged(host_sched(h)))
        fprintf(stderr, "%s: warning: the run left the recorded schedule (a different scenario, "
                        "seed or build?)\n", prog);
    double wall = host_wall_seconds(h);
    double sim = (double)sched_now_of(host_sched(h)) / 1e9;
    fprintf(stderr, "%s: %.3fs of wall time, %.1fx simulated speed\n", prog, wall,
            wall > 0 ? sim / wall : 0.0);
    return status;
}

/* Every output path of the run, checked before it starts (outfile.h). */
static bool check_output_paths(const runopts_t *o)
{
    const char *rec = o->view.record_dir;
    size_t rl = rec ? strlen(rec) : 0;
    bool rec_file = rl > 4 && (strcmp(rec + rl - 4, ".gif") == 0 || strcmp(rec + rl - 4, ".mp4") == 0);
    const out_claim_t claims[] = {
        {"--log", o->outs.log_path, false},
        {"--trace", o->outs.trace_path, false},
        {"--metrics", o->outs.metrics_path, false},
        {"--csv", o->outs.csv_path, false},
        {"--schedule-out", o->schedule_out, false},
        {"--pprof", o->outs.pprof_dir, true},
        {"--record", rec, !rec_file},
    };
    return out_check_paths(o->host.path, claims, sizeof claims / sizeof claims[0]);
}

/* chansim run, and chansim replay (a run that names its seed, so that it
 * reproduces one exactly: the line `chansim explore` prints). */
static int cmd_run(runopts_t *o)
{
    out_set_limit((uint64_t)o->max_output); /* replay FILE's outputs too */
    if (o->cmd == RUNOPTS_REPLAY && repro_is_file(o->host.path))
        return repro_replay_main(o);
    char found[4096]; /* `chansim run hello`: a scenario by name */
    chansim_find_scenario(o->host.path, found, sizeof found);
    o->host.path = found;
    if (!check_output_paths(o))
        return EXIT_USAGE;
    uint32_t *replay = NULL;
    schedule_meta_t meta;
    char err[1024];
    if ((o->schedule_in || o->schedule_out) &&
        !schedule_meta_of(&o->host, o->strategy, &meta, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    if (o->schedule_in) {
        schedule_meta_t got;
        replay = schedule_read(o->schedule_in, &meta, o->host.seed_given, &got, &o->host.replay_len, err,
                               sizeof err);
        if (!replay) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return EXIT_USAGE;
        }
        if (!o->host.seed_given) { /* the schedule's seed */
            o->host.seed = got.seed;
            o->host.seed_given = true;
        }
        o->host.replay = replay;
        o->host.replay_strict = true; /* leaving it is a refused schedule (finish_run) */
        o->host.policy = SCHED_REPLAY;
    }
    char bad[1024];
    if (!host_check_sets(&o->host, bad, sizeof bad)) { /* before anything runs */
        fprintf(stderr, "%s\n", bad);
        free(replay);
        o->host.path = NULL;
        return EXIT_USAGE;
    }
    /* --json: standard output is the summary alone. The program's output is
     * bounded and checked (outfile.h). */
    FILE *std = o->json ? stderr : stdout;
    fflush(std);
    FILE *prog_out = out_wrap_stream(fileno(std), o->json ? "standard error" : "standard output");
    o->host.out = prog_out ? prog_out : std;
    int status;
    host_t *h;
    /* Under --race the steps are recorded as the run goes (the detector
     * costs more than the recorder): a failure is explained without a
     * second run. A plain run that passes pays nothing for it. */
    explain_t *ex = NULL;
    if (viewrun_wanted(&o->view)) { /* it may run the scenario more than once */
        h = viewrun_run(&o->view, &o->host, &o->outs, &status);
    } else {
        if (o->host.race)
            ex = explain_new();
        h = run_plain(o, ex, &status);
    }
    /* A scenario error (exit 3) leaves no output and no summary. */
    if (h && status != EXIT_USAGE)
        status = finish_run(o, h, status, &meta);
    /* The failing interleaving, from the same run made again with a
     * recorder (a passing run pays nothing for it; a run stopped by its
     * outputs is not made again). */
    if (h && status != EXIT_OK && status != EXIT_USAGE && status != EXIT_OUTPUT && !viewrun_wanted(&o->view)) {
        if (ex)
            repro_explain_recorded(ex, h, status, stderr);
        else
            repro_explain_run(&o->host, h, status, stderr);
    }
    explain_free(ex);
    outputs_deinit(&o->outs); /* removes the temporary files of a run that never started */
    host_destroy(h);
    out_stream_close(prog_out);
    o->host.out = NULL;
    free(replay);
    o->host.path = NULL; /* found goes out of scope */
    return status;
}

/* The subcommands that take the run options: parsed once, from one table. */
static int cmd_with_runopts(unsigned cmd, int argc, char **argv)
{
    runopts_t o;
    int status = runopts_parse(&o, cmd, argc, argv);
    if (status < 0)
        status = cmd == RUNOPTS_EXPLORE ? explore_main(&o) : cmd_run(&o);
    runopts_deinit(&o);
    return status;
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


static int run_main(int argc, char **argv);

int main(int argc, char **argv)
{
    out_process_init();
    int status = run_main(argc, argv);
    /* Standard output lost (a full disk, /dev/full, a closed descriptor, a
     * file-size limit) is a failed output, never a silent success. */
    if (!out_close_stdio(stdout, "standard output"))
        status = EXIT_OUTPUT;
    return status;
}

static int run_main(int argc, char **argv)
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
        return cmd_with_runopts(RUNOPTS_RUN, argc - 2, argv + 2);
    if (strcmp(cmd, "replay") == 0)
        return cmd_with_runopts(RUNOPTS_REPLAY, argc - 2, argv + 2);
    if (strcmp(cmd, "explore") == 0)
        return cmd_with_runopts(RUNOPTS_EXPLORE, argc - 2, argv + 2);
    if (strcmp(cmd, "shrink") == 0)
        return repro_shrink_main(argc - 2, argv + 2);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    if (strcmp(cmd, "new") == 0)
        return new_main(argc - 2, argv + 2);
    fprintf(stderr, "%s: unknown command \"%s\"\n", prog, cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
