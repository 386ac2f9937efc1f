/* runopts: the run options' one table (see runopts.h). */
#include "runopts.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "invariant.h"
#include "mem.h"
#include "repro.h"
#include "viz.h"

typedef struct runopts_flag runopts_flag_t;

/* Check the value v of flag f and store it into o; false if it is bad. */
typedef bool (*runopts_set_fn)(runopts_t *o, const runopts_flag_t *f, const char *v);

struct runopts_flag {
    const char *name;   /* "--seed" */
    const char *arg;    /* its value in --help ("N"); NULL: a switch */
    unsigned cmds;      /* the subcommands that take it (RUNOPTS_ bits) */
    runopts_set_fn set; /* checks and stores the value */
    size_t at;          /* offset in runopts_t of the field set writes */
    double min, max;    /* bounds of a number, for the generic setters */
    const char *want;   /* what a bad value should be: "--seed: want ..." */
    const char *help;   /* the --help text; "\n" starts an indented line */
};

/* ---- values --------------------------------------------------------------- */

bool runopts_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!(*s >= '0' && *s <= '9'))
        return false; /* strtoull would skip spaces and take a sign */
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

bool runopts_parse_strategy(const char *s, sched_policy_t *p, int *depth)
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
        if (!runopts_parse_u64(s + 4, &d) || d < 1 || d > 64)
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
    if (strncmp(s, "dfs:", 4) == 0) {
        /* explore only: its preemption bound in depth */
        uint64_t k;
        if (!runopts_parse_u64(s + 4, &k) || k > 1000)
            return false;
        *p = SCHED_DFS;
        *depth = (int)k;
        return true;
    }
    return false;
}

/* ---- setters -------------------------------------------------------------- */

#define FIELD(o, f, type) ((type *)(void *)((char *)(o) + (f)->at))

static bool set_switch(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)v;
    *FIELD(o, f, bool) = true;
    return true;
}

static bool set_string(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    *FIELD(o, f, const char *) = v;
    return true;
}

/* An unsigned integer from min to max, into a uint64_t. */
static bool set_u64(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    uint64_t n;
    if (!runopts_parse_u64(v, &n) || (double)n < f->min || (double)n > f->max)
        return false;
    *FIELD(o, f, uint64_t) = n;
    return true;
}

/* The same into an int64_t. */
static bool set_i64(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    uint64_t n;
    if (!runopts_parse_u64(v, &n) || (double)n < f->min || (double)n > f->max)
        return false;
    *FIELD(o, f, int64_t) = (int64_t)n;
    return true;
}

/* The same into an int. */
static bool set_int(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || (double)n < f->min || (double)n > f->max)
        return false;
    *FIELD(o, f, int) = (int)n;
    return true;
}

/* MiB from min to max, into a size_t of bytes. */
static bool set_mib(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    uint64_t mib;
    if (!runopts_parse_u64(v, &mib) || (double)mib < f->min || (double)mib > f->max)
        return false;
    *FIELD(o, f, size_t) = (size_t)mib << 20;
    return true;
}

/* A real number from min to max, into a double. */
static bool set_real(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= f->min && x <= f->max))
        return false;
    *FIELD(o, f, double) = x;
    return true;
}

/* Whether v is a well-formed Go duration too long for an int64_t of
 * nanoseconds (dur_parse refuses both alike, as Go does). */
static bool dur_too_large(const char *v)
{
    static const struct { const char *name; long double ns; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6},
        {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    const char *s = v;
    if (*s == '+')
        s++;
    long double total = 0;
    while (*s) {
        if (!((*s >= '0' && *s <= '9') || *s == '.'))
            return false;
        char *end;
        long double x = strtold(s, &end);
        if (end == s)
            return false;
        s = end;
        size_t ulen = 0;
        while (s[ulen] && s[ulen] != '.' && !(s[ulen] >= '0' && s[ulen] <= '9'))
            ulen++;
        long double unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == ulen && memcmp(units[i].name, s, ulen) == 0)
                unit = units[i].ns;
        if (unit == 0)
            return false;
        s += ulen;
        total += x * unit;
    }
    return total > (long double)INT64_MAX;
}

/* A Go duration of at least min nanoseconds, into an int64_t. */
static bool set_duration(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    char err[256];
    int64_t d;
    if (!dur_parse(v, &d, err, sizeof err)) {
        if (dur_too_large(v))
            snprintf(o->why, sizeof o->why, "\"%s\" is too large: durations go up to "
                     "2562047h47m16.854775807s (about 292 years)", v);
        return false;
    }
    if ((double)d < f->min)
        return false;
    *FIELD(o, f, int64_t) = d;
    return true;
}

static bool set_seed(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    if (!runopts_parse_u64(v, &o->host.seed))
        return false;
    o->host.seed_given = true;
    return true;
}

static bool set_strategy(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    if (!runopts_parse_strategy(v, &o->host.policy, &o->host.pct_depth))
        return false;
    o->strategy = v;
    return true;
}

/* --set NAME=VALUE, repeatable: the name is copied, the value borrowed. */
static bool set_param(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return false;
    ASSERT(o->host.nsets < o->argc); /* sets has a slot per argument */
    host_param_override_t *s = &o->host.sets[o->host.nsets++];
    s->name = mem_strndup(v, (size_t)(eq - v));
    s->value = eq + 1;
    return true;
}

static bool set_schedule_out(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    o->schedule_out = v;
    o->host.record = true;
    return true;
}

static bool set_size(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    int w, h;
    char x;
    if (sscanf(v, "%d%c%d", &w, &x, &h) != 3 || (x != 'x' && x != 'X') || w < 320 || h < 200 ||
        w > 7680 || h > 4320)
        return false;
    o->view.width = w;
    o->view.height = h;
    return true;
}

/* --markers state,fault,event,failure,end: the kinds the timeline shows. */
static bool set_markers(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    static const struct {
        const char *name;
        unsigned bit;
    } kinds[] = {{"state", VIZ_MARKS_STATE}, {"fault", VIZ_MARKS_FAULT}, {"event", VIZ_MARKS_EVENT},
                 {"failure", VIZ_MARKS_FAILURE}, {"end", VIZ_MARKS_END}};
    unsigned bits = 0;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool known = false;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strlen(kinds[i].name) == n && strncmp(kinds[i].name, p, n) == 0) {
                bits |= kinds[i].bit;
                known = true;
            }
        if (!known)
            return false;
        p += n;
        if (*p == ',' && *++p == 0)
            return false;
    }
    if (!bits)
        return false;
    o->view.markers = bits;
    return true;
}

static bool set_slack(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    char err[256];
    if (!timer_slack_parse(v, &o->host.slack, err, sizeof err))
        return false;
    o->host.slack_spec = v;
    return true;
}

static bool set_runs(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    if (!set_u64(o, f, v))
        return false;
    o->runs_given = true;
    return true;
}

static bool set_shard(runopts_t *o, const runopts_flag_t *f, const char *v)
{
    (void)f;
    const char *slash = strchr(v, '/');
    if (!slash)
        return false;
    char first[32];
    snprintf(first, sizeof first, "%.*s", (int)(slash - v), v);
    return runopts_parse_u64(first, &o->shard_i) && runopts_parse_u64(slash + 1, &o->shard_n) &&
           o->shard_n >= 1 && o->shard_i < o->shard_n;
}

/* ---- the table ------------------------------------------------------------ */

#define RUN (RUNOPTS_RUN | RUNOPTS_REPLAY)
#define ALL (RUNOPTS_RUN | RUNOPTS_REPLAY | RUNOPTS_EXPLORE)
#define EXPLORE RUNOPTS_EXPLORE
#define AT(field) offsetof(runopts_t, field)
#define U64_MAX ((double)UINT64_MAX)

/* In --help order. A name may have a row per subcommand (--seed means the
 * first seed to explore); the first row that the subcommand takes counts. */
static const runopts_flag_t flags[] = {
    {"--runs", "N", EXPLORE, set_runs, AT(runs), 1, U64_MAX, "an integer of at least 1",
     "runs to make (default 100; dfs: every schedule)"},
    {"--seed", "N", EXPLORE, set_seed, 0, 0, 0, "a non-negative integer",
     "the first seed (default 1); run i uses seed N+i"},
    {"--strategy", "S", EXPLORE, set_strategy, 0, 0, 0, "fifo, random, pct:D (D from 1 to 64) or dfs:K",
     "random (default), pct:D, fifo, or dfs:K: every schedule with\nat most K preemptions (docs/strategies.md)"},
    {"--no-sleep-sets", NULL, EXPLORE, set_switch, AT(no_sleep_sets), 0, 0, NULL,
     "dfs: no sleep sets (every interleaving, to compare counts)"},
    {"--jobs", "N", EXPLORE, set_u64, AT(jobs), 1, 256, "from 1 to 256", "runs at once, on N worker processes (default 1)"},
    {"--shard", "I/N", EXPLORE, set_shard, 0, 0, 0, "I/N with I from 0 to N-1",
     "only the runs whose index is I modulo N (I from 0)"},
    {"--first", NULL, EXPLORE, set_switch, AT(first), 0, 0, NULL, "stop at the first failing run"},
    {"--repro-dir", "DIR", EXPLORE, set_string, AT(repro_dir), 0, 0, NULL,
     "write a reproducer of each failing run in DIR (default repro)"},
    {"--no-repro", NULL, EXPLORE, set_switch, AT(no_repro), 0, 0, NULL, "write no reproducers"},
    {"--max-output", "MIB", EXPLORE, set_mib, AT(max_output), 1, 1048576, "MiB from 1 to 1048576",
     "bound on each file written: a reproducer, the dfs schedule\n(default 1024); past it the file is not kept, exit 4"},
    {"--force", NULL, RUNOPTS_REPLAY, set_switch, AT(force), 0, 0, NULL,
     "replay FILE: even if the scenario changed since FILE was written"},
    {"--seed", "N", RUN, set_seed, 0, 0, 0, "a non-negative integer",
     "seed of every random stream (default: the scenario's, else 1)"},
    {"--until", "DURATION", ALL, set_duration, AT(host.until), 1, 0, "a positive duration such as 30s",
     "stop at this simulated time (Go syntax: 250ms, 1.5s, 2m)"},
    {"--strategy", "S", RUN, set_strategy, 0, 0, 0, "fifo, random or pct:D (D from 1 to 64)",
     "scheduling policy: fifo (default), random, pct:D"},
    {"--pct-steps", "N", ALL, set_i64, AT(host.pct_steps), 1, (double)INT64_MAX, "an integer of at least 1",
     "PCT's horizon: decision points its change points are drawn\nover (default: learned, see the manual)"},
    {"--set", "NAME=VALUE", ALL, set_param, 0, 0, 0, "NAME=VALUE", "override a scenario parameter (repeatable)"},
    {"--log", "FILE", RUN, set_string, AT(outs.log_path), 0, 0, NULL, "the event trace as text, one event per line"},
    {"--trace", "FILE.json", RUN, set_string, AT(outs.trace_path), 0, 0, NULL, "Chrome trace-event JSON (open in Perfetto)"},
    {"--diagram", "FILE.svg", RUN, set_string, AT(outs.diagram_path), 0, 0, NULL,
     "a space-time diagram in SVG: a line per goroutine (or node),\nan arrow per value handed over (or message)"},
    {"--metrics", "FILE.prom", RUN, set_string, AT(outs.metrics_path), 0, 0, NULL,
     "Prometheus text-format metrics at the end of the run"},
    {"--csv", "FILE", RUN, set_string, AT(outs.csv_path), 0, 0, NULL, "time series of the metrics, sampled in simulated time"},
    {"--csv-interval", "D", RUN, set_duration, AT(outs.csv_interval), 1, 0, "a positive duration",
     "sampling interval for --csv (default 100ms)"},
    {"--pprof", "DIR", RUN, set_string, AT(outs.pprof_dir), 0, 0, NULL,
     "Go's profiles in simulated time: DIR/goroutine.pb.gz,\nDIR/mutex.pb.gz, DIR/block.pb.gz (go tool pprof -top FILE)"},
    {"--schedule-out", "FILE", RUN, set_schedule_out, 0, 0, 0, NULL,
     "write the scheduling decisions taken (for replay)"},
    {"--schedule-out", "FILE", EXPLORE, set_string, AT(schedule_out), 0, 0, NULL,
     "dfs: where the first failing schedule goes (default:\nSCENARIO.dfs.schedule in the current folder)"},
    {"--schedule", "FILE", RUN, set_string, AT(schedule_in), 0, 0, NULL,
     "replay the decisions in FILE (written by --schedule-out)"},
    {"--max-output", "MIB", RUN, set_mib, AT(max_output), 1, 1048576, "MiB from 1 to 1048576",
     "bound on each output file and on the program's output\n(default 1024); past it the run stops, exit 4"},
    {"--quiet", NULL, RUN, set_switch, AT(host.quiet), 0, 0, NULL, "no program output, only the summary"},
    {"--json", NULL, RUN, set_switch, AT(json), 0, 0, NULL,
     "the summary as one JSON object on standard output, the\nprogram's output on standard error (docs/schemas/)"},
    {"--mem-limit", "MIB", ALL, set_mib, AT(host.mem_limit), 1, 65536, "MiB from 1 to 65536",
     "bound on the scenario's Lua heap (default 512)"},
    {"--instr-budget", "N", ALL, set_i64, AT(host.instr_budget), 1000, (double)INT64_MAX, "an integer of at least 1000",
     "Lua instructions allowed between simulated events\nbefore a run is stopped as an infinite loop (default 100000000)"},
    {"--max-steps-per-instant", "N", ALL, set_u64, AT(host.max_steps_per_instant), 1000, U64_MAX,
     "an integer of at least 1000",
     "goroutine steps allowed while simulated time stands still\nbefore a run is stopped as a livelock (default 1000000)"},
    {"--race", NULL, ALL, set_switch, AT(host.race), 0, 0, NULL,
     "Go's race detector: report unsynchronised accesses to shared\nvariables (exit 66 if it finds one and nothing else failed)"},
    {"--preempt", "N", ALL, set_int, AT(host.preempt), 1, 1000000, "Lua instructions from 1 to 1000000",
     "Go's asynchronous preemption: a scheduling decision every N\nLua instructions (under random, pct and replay)"},
    {"--faults", "FILE", ALL, set_string, AT(host.faults_path), 0, 0, NULL,
     "faults injected by node name, one a line: TIME crash|restart|\npause|resume|isolate NODE, TIME partition A.. | B.., TIME heal\n(the view writes one when a fault is injected by clicking)"},
    {"--timer-slack", "SPEC", ALL, set_slack, 0, 0, 0, "off, a duration, uniform:MIN,MAX, exp:MEAN, linux or go-linux",
     "every sleep and timer fires late by a drawn amount, as real\nsleeps overshoot: off (default), 50us, uniform:1us,60us,\nexp:20us, or linux (uniform 1us to 60us)"},
    {"--help", NULL, ALL, NULL, 0, 0, 0, NULL, "this text"},
    {"--view", NULL, RUN, set_switch, AT(view.live), 0, 0, NULL, "animate the run in a window (keys: ? in the window)"},
    {"--record", "DIR", RUN, set_string, AT(view.record_dir), 0, 0, NULL,
     "write the animation as PNG frames DIR/frame_000001.png ...\n(no display needed); frames already in DIR are replaced;\n"
     "DIR ending in .gif: one animated GIF; in .mp4: a video (ffmpeg)"},
    {"--fps", "N", RUN, set_int, AT(view.fps), 1, 240, "frames per second from 1 to 240",
     "frames per second of --record's video (default 30)"},
    {"--speed", "X", RUN, set_real, AT(view.speed), 0.001, 1e6, "a factor from 0.001 to 1000000",
     "simulated seconds per second of video or of playback (default 1)"},
    {"--slowdown", "X", RUN, set_real, AT(view.slowdown), 1, 100, "a factor from 1 to 100",
     "play X times slower around faults and failures (default 4;\n1: never slow down)"},
    {"--size", "WxH", RUN, set_size, 0, 0, 0, "WIDTHxHEIGHT from 320x200 to 7680x4320",
     "frame or window size (default 1280x720)"},
    {"--record-steps", NULL, RUN, set_switch, AT(view.record_steps), 0, 0, NULL,
     "--record: also a frame after every goroutine step (a race at\none instant gets a frame per step)"},
    {"--lanes", NULL, RUN, set_switch, AT(view.lanes), 0, 0, NULL,
     "--view, --record: a timeline lane per goroutine (L in the window)"},
    {"--markers", "KINDS", RUN, set_markers, 0, 0, 0, "a list of state, fault, event, failure, end",
     "--view, --record: the timeline's markers of these kinds only,\ne.g. fault,failure (M in the window cycles)"},
    {"--paused", NULL, RUN, set_switch, AT(view.paused), 0, 0, NULL, "--view: start paused (step with S, play with Space)"},
    {"--view-script", "CMDS", RUN, set_string, AT(view.script), 0, 0, NULL,
     "--view: scripted input, commas between: a key, wait 500ms,\nwait-end, seek 2.5s, click X Y, click-on node|link|menu WHAT,\nshot FILE.png, quit; e.g. \"wait 1s,space,s,shot a.png,quit\""},
};

#define NFLAGS (sizeof flags / sizeof flags[0])

/* ---- usage ---------------------------------------------------------------- */

static const struct {
    unsigned cmd;
    const char *name;
    const char *head; /* before the flags */
    const char *tail; /* after them */
} commands[] = {
    {RUNOPTS_RUN, "run", "usage: chansim run SCENARIO.lua [options]\n\n", ""},
    {RUNOPTS_REPLAY, "replay",
     "usage: chansim replay FILE.json [--force] [--quiet] [--view | --record DIR]\n"
     "       chansim replay SCENARIO.lua --seed N --strategy S [options of chansim run]\n"
     "       chansim replay SCENARIO.lua --seed N --schedule FILE [options of chansim run]\n\n"
     "Reproduces one run exactly: a reproducer written by `chansim explore` (it\n"
     "prints \"reproduced (hash ...)\" and exits 0, or \"diverged at event N: ...\"\n"
     "and exits 1; a scenario changed since is refused without --force), or the\n"
     "seed and strategy a failing run reported, or a schedule written by\n"
     "--schedule-out.\n\n",
     ""},
    {RUNOPTS_EXPLORE, "explore",
     "usage: chansim explore SCENARIO.lua [options]\n\n"
     "Runs the scenario under many seeds of a scheduling policy and reports the\n"
     "runs that fail (exit 1, 2 or 66: a data race under --race), with the\n"
     "command that reproduces each.\n\n",
     "\nStandard output: one JSON line per run, in seed order:\n"
     "  {\"scenario\":..., \"seed\":N, \"strategy\":..., \"exit\":N, \"result\":...,\n"
     "   \"hash\":..., \"events\":N, \"time_ns\":N, \"failures\":N, \"first_failure\":...}\n"
     "Exit status: 0 every run passed, 1 some run failed, 3 a usage error.\n"},
};

static int command_index(unsigned cmd)
{
    for (int i = 0; i < (int)(sizeof commands / sizeof commands[0]); i++)
        if (commands[i].cmd == cmd)
            return i;
    return 0;
}

void runopts_usage(FILE *f, unsigned cmd)
{
    int c = command_index(cmd);
    fputs(commands[c].head, f);
    for (size_t i = 0; i < NFLAGS; i++) {
        if (!(flags[i].cmds & cmd))
            continue;
        char left[64];
        if (!flags[i].set)
            snprintf(left, sizeof left, "-h, %s", flags[i].name);
        else
            snprintf(left, sizeof left, "%s%s%s", flags[i].name, flags[i].arg ? " " : "",
                     flags[i].arg ? flags[i].arg : "");
        /* A flag too long for its column gets a line of its own. */
        if (strlen(left) > 21)
            fprintf(f, "  %s\n%24s", left, "");
        else
            fprintf(f, "  %-22s", left);
        for (const char *h = flags[i].help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n')
                fprintf(f, "%24s", "");
        }
        fputc('\n', f);
    }
    fputs(commands[c].tail, f);
}

static int vfail(unsigned cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "chansim%s%s: ", cmd == RUNOPTS_EXPLORE ? " " : "",
            cmd == RUNOPTS_EXPLORE ? "explore" : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    runopts_usage(stderr, cmd);
    return EXIT_USAGE;
}

static int fail(unsigned cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(unsigned cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = vfail(cmd, fmt, ap);
    va_end(ap);
    return st;
}

int runopts_fail(const runopts_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = vfail(o->cmd, fmt, ap);
    va_end(ap);
    return st;
}

/* ---- parsing -------------------------------------------------------------- */

static const runopts_flag_t *find_flag(const char *name, unsigned cmd)
{
    if (strcmp(name, "-h") == 0)
        name = "--help";
    for (size_t i = 0; i < NFLAGS; i++)
        if ((flags[i].cmds & cmd) && strcmp(flags[i].name, name) == 0)
            return &flags[i];
    return NULL;
}

static void init(runopts_t *o, unsigned cmd, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->argc = argc;
    o->argv = argv;
    o->host.sets = mem_calloc((size_t)argc + 1, sizeof *o->host.sets);
    outputs_init(&o->outs);
    viewrun_init(&o->view);
    o->runs = 100;
    o->jobs = 1;
    o->shard_n = 1;
    o->repro_dir = "repro";
    if (cmd == RUNOPTS_EXPLORE) {
        o->host.policy = SCHED_RANDOM;
        o->strategy = "random";
    }
}

/* Flags that only make sense together, or not together. */
static int check_combination(runopts_t *o)
{
    const char *cmdname = commands[command_index(o->cmd)].name;
    if (!o->host.path)
        return runopts_fail(o, "%s needs a scenario file", cmdname);
    if (o->cmd == RUNOPTS_REPLAY && !repro_is_file(o->host.path)) {
        if (!o->host.seed_given && !o->schedule_in)
            return runopts_fail(o, "replay needs --seed N (the seed of the run to reproduce) or --schedule FILE");
        /* Without a strategy the seed alone would silently make a FIFO run. */
        if (!o->strategy && !o->schedule_in)
            return runopts_fail(o, "replay --seed N needs --strategy S (the strategy of the run to "
                                   "reproduce) or --schedule FILE");
    }
    if (o->force && (o->cmd != RUNOPTS_REPLAY || !repro_is_file(o->host.path)))
        return runopts_fail(o, "--force is for chansim replay FILE.json");
    if (o->view.live && o->view.record_dir)
        return runopts_fail(o, "--view and --record: one or the other");
    if (o->view.lanes && !viewrun_wanted(&o->view))
        return runopts_fail(o, "--lanes is for --view or --record");
    if (o->view.markers && !viewrun_wanted(&o->view))
        return runopts_fail(o, "--markers is for --view or --record");
    if (o->view.record_steps && !o->view.record_dir)
        return runopts_fail(o, "--record-steps is for --record (a window steps with S and D)");
    if (o->cmd == RUNOPTS_EXPLORE && o->host.seed_given && o->runs - 1 > UINT64_MAX - o->host.seed)
        return runopts_fail(o, "--seed %llu with --runs %llu: the last run's seed would pass "
                               "18446744073709551615 (run i uses seed N+i)",
                            (unsigned long long)o->host.seed, (unsigned long long)o->runs);
    if (o->host.policy == SCHED_DFS && o->cmd != RUNOPTS_EXPLORE)
        return runopts_fail(o, "--strategy dfs:K is explore's (an exhaustive search over runs)");
    if (o->host.policy == SCHED_DFS && (o->jobs > 1 || o->shard_n > 1))
        return runopts_fail(o, "dfs:K runs in one process: no --jobs or --shard");
    return -1;
}

int runopts_parse(runopts_t *o, unsigned cmd, int argc, char **argv)
{
    init(o, cmd, argc, argv);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (o->host.path)
                return fail(cmd, "one scenario at a time (also got \"%s\")", a);
            o->host.path = a;
            continue;
        }
        const runopts_flag_t *f = find_flag(a, cmd);
        if (!f)
            return fail(cmd, "unknown option %s", a);
        if (!f->set) {
            runopts_usage(stdout, cmd);
            return EXIT_OK;
        }
        const char *v = NULL;
        if (f->arg) {
            if (i + 1 >= argc)
                return fail(cmd, "%s needs a value", a);
            v = argv[++i];
        }
        o->why[0] = 0;
        if (!f->set(o, f, v))
            return o->why[0] ? fail(cmd, "%s: %s", a, o->why)
                             : fail(cmd, "%s: want %s, got \"%s\"", a, f->want, v);
    }
    return check_combination(o);
}

void runopts_deinit(runopts_t *o)
{
    for (int i = 0; i < o->host.nsets; i++)
        free((char *)o->host.sets[i].name);
    free(o->host.sets);
    o->host.sets = NULL;
    o->host.nsets = 0;
    viewrun_deinit(&o->view);
}
