/*
 * host: the run of one scenario, from host_create to host_destroy.
 *
 * host_run opens the scenario (a missing file is exit 3), configures the
 * scheduler (the seed from --seed, else from the header's seed, read by a
 * scan before anything runs, else 1), creates the sandboxed Lua state
 * (sandbox.c) with the checks' guard on it (check.c), loads the chunk and
 * runs it as the main goroutine (lgo.c) until the scheduler stops. The
 * verdict follows, in this order: a scenario error (exit 3), a --set that
 * matched no parameter (exit 3), the program's failure (panic, fatal
 * error, deadlock, or leaks under leaks = "fail": exit 2), then the
 * finally checks, then any failed expectation (exit 1), then the race
 * detector's reports (exit 66). A scenario that declares the failure it
 * exists to show (scenario{ expect_failure }) is judged last: it passes
 * when exactly that failure happened, and fails with the other failure's
 * own status, or 1 when nothing failed (explore: passes).
 *
 * The observers the CLI attaches before the run (trace sinks, clock and
 * step observers) share the scheduler's one hook of each kind, in the
 * order added; the invariants run before the step observers, so the view
 * sees a failed invariant at the step that broke it. The wall clock is
 * read only to tell the user the simulated speed (stderr).
 *
 * Ownership: the caller owns the host (host_create/host_destroy); the
 * host owns the scheduler, the Lua state and everything in host_state.h.
 * The scheduler is destroyed before the Lua state: messages in flight
 * hold registry references it releases into the live state.
 */
#include "host_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "datadir.h"
#include "lsim.h"
#include "invariant.h"
#include "mem.h"
#include "race.h"

/* The host's key in the registry: a light userdata, so that host_of (on
 * every operation's path) costs no string lookup. */
const char host_registry_key = 0;

host_t *host_of(lua_State *L)
{
    /* A goroutine's thread knows its goroutine, which knows the host: the
     * hot path (every channel and lock operation) touches no table. */
    host_t *h = lgo_host_of_thread(L);
    if (h)
        return h;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &host_registry_key);
    h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return h;
}

void host_set_exit_code(host_t *h, int code) { h->exit_code = code; }

void host_print(host_t *h, const char *s, size_t len)
{
    if (!h->opt.quiet)
        fwrite(s, 1, len, h->opt.out);
}

sched_t *host_sched(host_t *h) { return h->s; }
const char *host_scenario_name(const host_t *h) { return h->name ? h->name : ""; }
sched_result_t host_result(const host_t *h) { return h->result; }
uint64_t host_leaked(const host_t *h) { return h->leaked; }
bool host_usage_error(const host_t *h) { return h->usage_error; }
double host_wall_seconds(const host_t *h) { return h->wall; }
lua_State *host_lua(host_t *h) { return h->L; }

size_t host_expectations(const host_t *h, const host_expect_t **list)
{
    *list = h->exp;
    return h->nexp;
}

bool host_add_sink(host_t *h, trace_sink_t sink, void *ud)
{
    return host_add_sink_kinds(h, sink, ud, ~(uint64_t)0);
}

bool host_add_sink_kinds(host_t *h, trace_sink_t sink, void *ud, uint64_t kinds)
{
    if (h->nsinks == (int)(sizeof h->sinks / sizeof h->sinks[0]))
        return false;
    h->sinks[h->nsinks].fn = sink;
    h->sinks[h->nsinks].ud = ud;
    h->sinks[h->nsinks].kinds = kinds;
    h->nsinks++;
    return true;
}

bool host_add_clock_observer(host_t *h, host_clock_fn fn, void *ud)
{
    if (h->nclocks == (int)(sizeof h->clocks / sizeof h->clocks[0]))
        return false;
    h->clocks[h->nclocks].fn = fn;
    h->clocks[h->nclocks].ud = ud;
    h->nclocks++;
    return true;
}

bool host_add_step_observer(host_t *h, host_step_fn fn, void *ud)
{
    if (h->nsteps == (int)(sizeof h->steps / sizeof h->steps[0]))
        return false;
    h->steps[h->nsteps].fn = fn;
    h->steps[h->nsteps].ud = ud;
    h->nsteps++;
    return true;
}

/* The scheduler's one clock hook, fanned out to every observer. */
static void clock_fanout(void *ud, simtime_t from, simtime_t to)
{
    host_t *h = ud;
    for (int i = 0; i < h->nclocks; i++)
        h->clocks[i].fn(h->clocks[i].ud, from, to);
}

void host_usage_fail(host_t *h, const char *fmt, ...)
{
    if (h->usage_error)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->usage_msg, sizeof h->usage_msg, fmt, ap);
    va_end(ap);
    h->usage_error = true;
    if (h->s)
        sched_exit(h->s);
}

/* file:line of the Lua code that called the running C function. */
void host_where(lua_State *L, char *buf, size_t size)
{
    lua_Debug ar;
    buf[0] = 0;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            snprintf(buf, size, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* The scheduler's one step hook: the invariants, then the observers (the
 * view), which so see a failed invariant at the step that broke it. */
void host_step_fanout(void *ud)
{
    host_t *h = ud;
    if (h->ninv)
        check_invariants(h);
    for (int i = 0; i < h->nsteps; i++)
        h->steps[i].fn(h->steps[i].ud);
}

/* ---- create, destroy ---------------------------------------------------- */

host_t *host_create(const host_options_t *opt)
{
    host_t *h = mem_calloc(1, sizeof *h);
    h->opt = *opt;
    if (!h->opt.out)
        h->opt.out = stdout;
    h->mem_limit = opt->mem_limit ? opt->mem_limit : HOST_DEFAULT_MEM_LIMIT;
    h->instr_budget = opt->instr_budget ? opt->instr_budget : HOST_DEFAULT_INSTR_BUDGET;
    h->result = SCHED_DONE;
    h->expect_happened = -1;
    return h;
}

void host_destroy(host_t *h)
{
    if (!h)
        return;
    /* The scheduler first: messages still in flight hold registry
     * references that it releases into the live Lua state. No Lua code
     * runs when the state closes: scenarios have no finalizers (sandbox.c
     * refuses __gc) and the bindings' userdata have none. */
    sched_destroy(h->s);
    h->s = NULL;
    if (h->L)
        lua_close(h->L);
    lgo_free_all(h);
    sandbox_heap_free(&h->heap);
    for (size_t i = 0; i < h->nexp; i++) {
        free(h->exp[i].msg);
        free(h->exp[i].where);
    }
    for (size_t i = 0; i < h->ninv; i++)
        free(h->inv_msg[i]);
    free(h->inv_msg);
    free(h->invariants);
    free(h->inv_failed);
    free(h->finally);
    free(h->exp);
    free(h->name);
    free(h->description);
    free(h->expect_failure);
    faults_free(&h->faults);
    free(h->dir);
    free(h->libdir);
    host_cache_free(h->own_cache);
    free(h);
}

/* ---- the run ------------------------------------------------------------ */

static void main_entry(void *arg)
{
    host_t *h = arg;
    lgo_t *lg = lgo_new(h, h->L, -1, 0, true);
    lua_pop(h->L, 1); /* the chunk, now on the thread */
    faults_arm(&h->faults);
    lgo_entry(lg);
    /* A scenario that declares leaks checks them as goleak does: main's
     * return waits until nothing else can run, and what is still blocked
     * then is leaked. Otherwise the run ends here, as a Go program does. */
    if (h->leaks_declared)
        go_wait_world(SIMTIME_MAX);
}

/* A goroutine blocked for good when main found the world idle is a leak, unless it
 * belongs to a simulated node: a node's servers wait for requests forever
 * by design, as processes do. */
static void count_leak(void *ud, g_t *g)
{
    host_t *h = ud;
    if (!go_group(g))
        h->leaked++;
}

static bool set_dirs(host_t *h)
{
    if (cache_dirs(cache_of(h), &h->dir, &h->libdir))
        return true;
    char *rp = realpath(h->opt.path, NULL);
    if (!rp)
        return false;
    char *slash = strrchr(rp, '/');
    if (slash)
        *slash = 0;
    h->dir = rp;
    h->libdir = realpath(chansim_lua_dir(), NULL);
    cache_keep_dirs(cache_of(h), h->dir, h->libdir);
    return true;
}

/* The scheduler of the run, with the sinks and observers attached. */
static void create_sched(host_t *h)
{
    sched_config_t cfg = sched_config_default();
    cfg.seed = h->opt.seed_given ? h->opt.seed : 1;
    /* The header's seed seeds the streams from the start, so that the run
     * is the one `--seed N` reproduces: reseeding when scenario{} runs
     * would come after main's own start drew from them. A lesson that
     * expects a race turns the detector on from the start as well. */
    char *expect;
    uint64_t hs;
    bool has;
    if (cache_scan(cache_of(h), h->opt.path, &has, &hs, &expect)) {
        if (has && !h->opt.seed_given)
            cfg.seed = hs;
        if (expect && host_expect_parse(expect) == HOST_EXPECT_RACE)
            h->opt.race = true;
    }
    free(expect);
    h->opt.seed = cfg.seed;
    cfg.policy = h->opt.policy;
    cfg.pct_depth = h->opt.pct_depth ? h->opt.pct_depth : 3;
    if (h->opt.pct_steps > 0)
        cfg.pct_steps = h->opt.pct_steps;
    /* Lua's C calls nest deeper than plain C goroutines */
    cfg.stack_size = h->opt.stack_size ? h->opt.stack_size : 256 * 1024;
    cfg.record = h->opt.record;
    cfg.replay = h->opt.replay;
    cfg.replay_len = h->opt.replay_len;
    cfg.replay_strict = h->opt.replay_strict;
    cfg.main_exit_ends_run = true;
    cfg.until = h->opt.until ? h->opt.until : HOST_DEFAULT_UNTIL;
    /* Every policy but FIFO decides at each synchronising operation; a
     * replay does too, since what it replays was recorded so. */
    cfg.sync_points = cfg.policy != SCHED_FIFO;
    cfg.race = h->opt.race;
    cfg.slack = h->opt.slack;
    cfg.max_steps_per_instant = h->opt.max_steps_per_instant ? h->opt.max_steps_per_instant
                                                             : HOST_DEFAULT_MAX_STEPS_PER_INSTANT;
    cfg.max_steps_name = "--max-steps-per-instant";
    cfg.chooser = h->opt.chooser;
    cfg.chooser_ud = h->opt.chooser_ud;
    cfg.dfs = h->opt.dfs;
    h->s = sched_create(&cfg);
    sched_set_frames_hook(h->s, lgo_frames_hook);
    sched_add_sink_kinds(h->s, check_violation_sink, h, (uint64_t)1 << EV_VIOLATION);
    for (int i = 0; i < h->nsinks; i++)
        sched_add_sink_kinds(h->s, h->sinks[i].fn, h->sinks[i].ud, h->sinks[i].kinds);
    if (h->nclocks)
        sched_set_clock_hook(h->s, clock_fanout, h);
    if (h->nsteps)
        sched_set_step_hook(h->s, host_step_fanout, h);
}

/* The sandboxed state with the scenario's chunk on top; an exit status if
 * that fails (reported on stderr), else -1. */
static int open_lua(host_t *h)
{
    h->L = lua_newstate(sandbox_alloc, h);
    if (!h->L) {
        fputs("chansim: cannot create the Lua state\n", stderr);
        return EXIT_PROGRAM;
    }
    lua_State *L = h->L;
    *(lgo_t **)lua_getextraspace(L) = NULL;
    lsim_attach(L, h->s);
    sandbox_open(h, L);
    if (!sandbox_load_prelude(h, L))
        return EXIT_USAGE;
    /* Checks run on this state: guard and bound them (see check_hook). */
    check_build_guard(L);
    lua_sethook(L, check_hook, LUA_MASKCALL | LUA_MASKCOUNT, HOST_HOOK_EVERY);
    /* The chunk: a load error is the scenario's, exit 3. */
    if (cache_load_scenario(cache_of(h), L, h->opt.path) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return EXIT_USAGE;
    }
    return -1;
}

/* How the run ended, before the finally checks: a scenario error or an
 * unused --set (exit 3, reported), the program's failure (exit 2), or
 * EXIT_OK. */
static int verdict(host_t *h)
{
    if (h->usage_error) {
        fprintf(stderr, "%s\n", h->usage_msg);
        return EXIT_USAGE;
    }
    for (int i = 0; i < h->opt.nsets; i++) {
        if (!h->opt.sets[i].used) {
            fprintf(stderr, "%s:1: --set %s: the scenario declares no params (scenario{ params = { ... } })\n",
                    h->opt.path, h->opt.sets[i].name);
            return EXIT_USAGE;
        }
    }
    switch (h->result) {
    case SCHED_PANIC:
    case SCHED_FATAL:
    case SCHED_DEADLOCK:
        fputs(sched_report(h->s), stderr);
        fputs(sched_deadlock_waits(h->s), stderr); /* after Go's text: the waits, the cycle */
        return EXIT_PROGRAM;
    case SCHED_IDLE:
        sched_each_goroutine(h->s, count_leak, h);
        if (h->leaked && h->leaks_fail) {
            fprintf(stderr, "chansim: %llu goroutine%s leaked: blocked forever after main returned "
                            "(scenario{ leaks = \"fail\" }; the summary lists them)\n",
                    (unsigned long long)h->leaked, h->leaked == 1 ? "" : "s");
            return EXIT_PROGRAM;
        }
        return EXIT_OK;
    default:
        return EXIT_OK;
    }
}

/* A failure message matches the expected PREFIX at its start, or after
 * the "file:line: " a Lua error puts before its own message. */
static bool message_matches(const char *msg, const char *prefix)
{
    if (!msg)
        return false;
    size_t n = strlen(prefix);
    if (strncmp(msg, prefix, n) == 0)
        return true;
    const char *colon = strstr(msg, ": ");
    if (colon && colon > msg && colon[-1] >= '0' && colon[-1] <= '9')
        return strncmp(colon + 2, prefix, n) == 0;
    return false;
}

/* The run of a scenario with expect_failure, judged (status: the run's
 * status as any other scenario's): the expected failure alone passes;
 * any other failure keeps its own status; nothing at all fails the run
 * (exit 1) unless explore asked otherwise. */
static int judge_expected(host_t *h, int status)
{
    (void)status;
    const char *v = h->expect_failure;
    sched_result_t r = h->result;
    bool program = r == SCHED_PANIC || r == SCHED_FATAL || r == SCHED_DEADLOCK;
    bool leak = r == SCHED_IDLE && h->leaked && h->leaks_fail;
    bool race = host_races(h) > 0;
    bool happened = false;
    switch (h->expect_kind) {
    case HOST_EXPECT_DEADLOCK:
        happened = r == SCHED_DEADLOCK;
        break;
    case HOST_EXPECT_PANIC:
        happened = r == SCHED_PANIC && message_matches(sched_failure_message(h->s), v + 7);
        break;
    case HOST_EXPECT_FATAL:
        happened = r == SCHED_FATAL && message_matches(sched_failure_message(h->s), v + 13);
        break;
    case HOST_EXPECT_LEAK:
        happened = h->leaked > 0;
        leak = false;
        break;
    case HOST_EXPECT_RACE:
        happened = race;
        race = false;
        break;
    default:
        break;
    }
    if (happened && h->expect_kind != HOST_EXPECT_LEAK && h->expect_kind != HOST_EXPECT_RACE)
        program = false;
    /* The checks: the one the scenario names demonstrates the bug; every
     * other one is a safety check and still fails the run. */
    bool checks = false;
    for (size_t i = 0; i < h->nexp; i++) {
        if (h->exp[i].ok)
            continue;
        if (h->expect_kind == HOST_EXPECT_CHECK && message_matches(h->exp[i].msg, v + 11))
            happened = true;
        else
            checks = true;
    }
    h->expect_happened = happened;
    int other = program || leak ? EXIT_PROGRAM : checks ? EXIT_EXPECT : race ? EXIT_RACE : EXIT_OK;
    if (other != EXIT_OK) {
        fprintf(stderr, "chansim: %s, and the run failed otherwise (scenario{ expect_failure = \"%s\" })\n",
                happened ? "the expected failure happened" : "the expected failure did not happen", v);
        return other;
    }
    if (happened) {
        fprintf(stderr, "expected failure happened: %s\n", v);
        return EXIT_OK;
    }
    if (h->opt.expect_optional)
        return EXIT_OK;
    fprintf(stderr, "chansim: expected failure did not happen: %s (scenario{ expect_failure })%s\n", v,
            h->opt.policy == SCHED_FIFO ? "; under fifo a race may never show: try chansim explore" : "");
    return EXIT_EXPECT;
}

const char *host_expected_failure(const host_t *h) { return h->expect_failure; }
int host_expected_happened(const host_t *h) { return h->expect_failure ? h->expect_happened : -1; }

/* --faults FILE: read and checked before the run (FILE:LINE: message). */
static bool read_faults(host_t *h)
{
    const char *path = h->opt.faults_path;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s:1: cannot open the faults: %s\n", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0;
    char *text = mem_malloc(cap);
    size_t got;
    while ((got = fread(text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            text = mem_realloc(text, cap);
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    text[n] = 0;
    char err[512];
    if (bad) {
        fprintf(stderr, "%s:1: cannot read the faults\n", path);
        free(text);
        return false;
    }
    faults_free(&h->faults);
    bool ok = faults_parse(text, &h->faults, err, sizeof err);
    free(text);
    if (!ok)
        fprintf(stderr, "%s:%s\n", path, err);
    return ok;
}

int host_run(host_t *h)
{
    ASSERT(!h->s); /* one run per host */
    FILE *f = fopen(h->opt.path, "r");
    if (!f) {
        fprintf(stderr, "%s:1: cannot open the scenario: %s\n", h->opt.path, strerror(errno));
        return EXIT_USAGE;
    }
    fclose(f);
    if (h->opt.faults_path && !read_faults(h))
        return EXIT_USAGE;
    if (!set_dirs(h)) {
        fprintf(stderr, "%s:1: cannot resolve the scenario's folder\n", h->opt.path);
        return EXIT_USAGE;
    }
    /* PCT's change points are drawn over the run's length: measured by a
     * calibration run unless given. */
    if (h->opt.policy == SCHED_PCT && h->opt.pct_steps <= 0) {
        /* The calibration and the run share the compiled chunks and the
         * header's scan (cache.c), unless a cache came with the options. */
        if (!h->opt.cache)
            h->opt.cache = h->own_cache = host_cache_new();
        h->opt.pct_steps = host_pct_calibrate(&h->opt);
    }
    create_sched(h);
    int status = open_lua(h);
    if (status >= 0)
        return status;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0); /* wall time for stderr only */
    h->result = sched_run(h->s, main_entry, h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    h->wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    lua_settop(h->L, 0);
    fflush(h->opt.out);
    status = verdict(h);
    if (status == EXIT_USAGE)
        return status;
    check_finally(h);
    fflush(h->opt.out);
    if (status == EXIT_OK)
        for (size_t i = 0; i < h->nexp; i++)
            if (!h->exp[i].ok)
                status = EXIT_EXPECT;
    /* os.Exit(code): the program's own status wins. */
    if (h->result == SCHED_EXITED && h->exit_code)
        status = h->exit_code;
    /* Go's race detector: its reports fail a run that would have passed. */
    if (host_races(h)) {
        fprintf(stderr, "Found %llu data race(s)\n", (unsigned long long)host_races(h));
        if (status == EXIT_OK)
            status = EXIT_RACE;
    }
    if (h->expect_kind != HOST_EXPECT_NONE)
        status = judge_expected(h, status);
    return status;
}

const char *host_faults_path(const host_t *h)
{
    return h->opt.faults_path;
}

int64_t host_pct_steps(const host_t *h)
{
    return h->opt.policy == SCHED_PCT ? h->opt.pct_steps : 0;
}

int64_t host_pct_calibrate(const host_options_t *opt)
{
    host_options_t o = *opt;
    o.policy = SCHED_PCT;
    o.pct_depth = 1; /* no change points: the initial priorities alone */
    o.pct_steps = 1;
    o.quiet = true;
    o.record = false;
    o.replay = NULL;
    o.replay_len = 0;
    o.race = false; /* the detector changes no decision */
    FILE *devnull = fopen("/dev/null", "w");
    o.out = devnull;
    /* The calibration's own failures and warnings are not the run's. */
    fflush(stdout);
    fflush(stderr);
    int saved = dup(2);
    int dn = open("/dev/null", O_WRONLY);
    if (dn >= 0) {
        dup2(dn, 2);
        close(dn);
    }
    /* Nor its accesses: an observer of the run (the failure's explanation)
     * must not see another run's steps. */
    shared_observer_fn obs = shared_observer;
    void *obs_ud = shared_observer_ud;
    shared_set_observer(NULL, NULL);
    host_t *c = host_create(&o);
    host_run(c);
    int64_t k = c->s ? (int64_t)sched_choice_points(c->s) : 1;
    host_destroy(c);
    shared_set_observer(obs, obs_ud);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (devnull)
        fclose(devnull);
    return k < 1 ? 1 : k;
}

uint64_t host_races(const host_t *h)
{
    return h->s ? race_reports(sched_race(h->s)) : 0;
}

const char *host_first_race(const host_t *h)
{
    return h->s ? race_first(sched_race(h->s)) : "";
}
