/* viewrun: a run under the view. See viewrun.h. */
#include "viewrun.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "outfile.h"
#include "viz_module.h"

/* The program's output through the runs: bytes up to `forwarded` were
 * printed by an earlier run and are skipped. */
typedef struct viewrun_out {
    FILE *real;          /* where the output goes (stdout) */
    uint64_t pos;        /* bytes this run has written */
    uint64_t forwarded;  /* bytes printed so far, over all runs */
    bool muted;          /* a silent pass, or a run being abandoned */
} viewrun_out_t;

static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
    viewrun_out_t *o = cookie;
    uint64_t start = o->pos;
    o->pos += n;
    if (o->muted || o->pos <= o->forwarded)
        return (ssize_t)n;
    size_t skip = start < o->forwarded ? (size_t)(o->forwarded - start) : 0;
    if (fwrite(buf + skip, 1, n - skip, o->real) != n - skip)
        return -1;
    fflush(o->real);
    o->forwarded = o->pos;
    return (ssize_t)n;
}

/* ---- the view module -------------------------------------------------------- */

/* The loaded view (viz_module.h); NULL until a run asks for it. */
static const viz_module_t *V;

#ifndef CHANSIM_VIEW_FROM_BIN
#define CHANSIM_VIEW_FROM_BIN "../lib/chansim"
#endif

/* Open chansim-view.so: $CHANSIM_VIEW_MODULE if set, else beside the
 * executable (the build tree), else in <prefix>/<libdir>/chansim when the
 * executable is <prefix>/<bindir>/chansim (an installed prefix). */
static const viz_module_t *view_load(char *err, size_t errsize)
{
    if (V)
        return V;
    char cand[3][PATH_MAX + 64];
    int n = 0;
    const char *env = getenv("CHANSIM_VIEW_MODULE");
    if (env && *env) {
        snprintf(cand[n++], sizeof cand[0], "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len > 0) {
            exe[len] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(cand[n++], sizeof cand[0], "%s/" VIZ_MODULE_FILE, exe);
                snprintf(cand[n++], sizeof cand[0], "%s/" CHANSIM_VIEW_FROM_BIN "/" VIZ_MODULE_FILE, exe);
            }
        }
    }
    char why[512] = "";
    for (int i = 0; i < n; i++) {
        if (access(cand[i], F_OK) != 0) {
            if (!*why)
                snprintf(why, sizeof why, "%.400s: %s", cand[i], strerror(errno));
            continue;
        }
        void *lib = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            snprintf(err, errsize, "cannot load the view: %s", dlerror());
            return NULL;
        }
        const viz_module_t *m = dlsym(lib, VIZ_MODULE_SYMBOL);
        if (!m || m->abi != VIZ_MODULE_ABI) {
            snprintf(err, errsize, "cannot load the view: %.400s is not this chansim's view module", cand[i]);
            dlclose(lib);
            return NULL;
        }
        V = m; /* kept loaded for the life of the process */
        return V;
    }
    snprintf(err, errsize, "cannot find the view module " VIZ_MODULE_FILE " (%s)",
             *why ? why : "no candidate path");
    return NULL;
}

void viewrun_init(viewrun_t *vr)
{
    memset(vr, 0, sizeof *vr);
}

void viewrun_deinit(viewrun_t *vr)
{
    if (vr->out)
        fclose(vr->out);
    free(vr->sink_state);
    if (vr->viz)
        V->destroy(vr->viz);
    memset(vr, 0, sizeof *vr);
}

bool viewrun_wanted(const viewrun_t *vr)
{
    return vr->live || vr->record_dir;
}

/* ---- one run -------------------------------------------------------------------- */

/* A window's first pass gives up after this long (wall time): the
 * timeline then grows as the run goes, as it does without a first pass. */
#define SURVEY_WALL_LIMIT 2.0

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* for the first pass's bound only */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run_ctx {
    viewrun_t *vr;
    host_t *h;
    bool survey;        /* the recorder's silent first pass */
    bool begun;         /* the view was told the run started */
    bool exiting;       /* sched_exit was called for a restart */
    const char *title;  /* the name last passed to the view */
    size_t nexp;        /* expectations already looked at */
    double deadline;    /* a window's first pass stops at this wall time (0: never) */
    unsigned ticks;     /* observer calls, to look at the clock now and then */
} run_ctx_t;

static void begin(run_ctx_t *c)
{
    if (c->begun || !host_sched(c->h))
        return;
    c->begun = true;
    V->run_begin(c->vr->viz, host_sched(c->h), c->survey);
}

/* Between steps: the scenario's name, the failed expectations. */
static void sync_host(run_ctx_t *c)
{
    const char *t = host_scenario_name(c->h);
    if (t != c->title) {
        c->title = t;
        V->set_title(c->vr->viz, t);
    }
    const host_expect_t *e;
    size_t n = host_expectations(c->h, &e);
    sched_t *s = host_sched(c->h);
    for (; c->nexp < n; c->nexp++)
        if (!e[c->nexp].ok) {
            uint64_t ev = s ? sched_trace_events(s) : 0;
            V->mark_failure(c->vr->viz, e[c->nexp].t, ev ? ev - 1 : 0, e[c->nexp].msg);
        }
}

/* The user went back in time, or a first pass ran out of time: abandon
 * this run. */
static void check_restart(run_ctx_t *c)
{
    if (c->exiting)
        return;
    if (c->deadline > 0 && (++c->ticks & 1023) == 0 && wall_now() > c->deadline) {
        c->exiting = true;
        sched_exit(host_sched(c->h));
        return;
    }
    if (!V->restart_requested(c->vr->viz))
        return;
    c->exiting = true;
    c->vr->sink_state->muted = true;
    sched_exit(host_sched(c->h));
}

static void on_event(void *ud, const trace_event_t *ev)
{
    run_ctx_t *c = ud;
    begin(c);
    V->on_event(c->vr->viz, ev);
}

static void on_step(void *ud)
{
    run_ctx_t *c = ud;
    begin(c);
    sync_host(c);
    if (c->exiting)
        return;
    if (!c->survey)
        V->on_step(c->vr->viz);
    check_restart(c);
}

static void on_clock(void *ud, simtime_t from, simtime_t to)
{
    run_ctx_t *c = ud;
    begin(c);
    sync_host(c);
    if (c->exiting)
        return;
    if (!c->survey)
        V->on_clock(c->vr->viz, from, to);
    check_restart(c);
}

/* How the run ended, in a few words. */
static bool outcome(host_t *h, int status, char *buf, size_t size)
{
    bool failed = status != EXIT_OK;
    int n;
    switch (host_result(h)) {
    case SCHED_PANIC: n = snprintf(buf, size, "panic: %s", sched_failure_message(host_sched(h))); break;
    case SCHED_FATAL: n = snprintf(buf, size, "fatal error: %s", sched_failure_message(host_sched(h))); break;
    case SCHED_DEADLOCK: n = snprintf(buf, size, "deadlock: all goroutines are asleep"); break;
    case SCHED_UNTIL: n = snprintf(buf, size, "time limit reached"); break;
    case SCHED_EXITED: n = snprintf(buf, size, "sim.exit()"); break;
    case SCHED_IDLE:
        if (host_leaked(h))
            n = snprintf(buf, size, "finished; %llu goroutines blocked forever",
                         (unsigned long long)host_leaked(h));
        else
            n = snprintf(buf, size, "finished");
        break;
    default: n = snprintf(buf, size, "finished"); break;
    }
    const host_expect_t *e;
    size_t ne = host_expectations(h, &e), bad = 0;
    for (size_t i = 0; i < ne; i++)
        bad += !e[i].ok;
    if (bad && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " \xc2\xb7 %zu expectation%s failed", bad, bad == 1 ? "" : "s");
    return failed;
}

/* The view and the program's output stream, before the first pass; false
 * (and *status) if either cannot start (reported on stderr). */
static bool open_view(viewrun_t *vr, const host_options_t *opt, int *status)
{
    char err[1024];
    /* A scenario that cannot be read is reported before any window opens. */
    FILE *probe = fopen(opt->path, "r");
    if (!probe) {
        fprintf(stderr, "%s:1: cannot open the scenario: %s\n", opt->path, strerror(errno));
        *status = EXIT_USAGE;
        return false;
    }
    fclose(probe);
    viz_options_t vo = {
        .mode = vr->live ? VIZ_WINDOW : VIZ_RECORD,
        .width = vr->width,
        .height = vr->height,
        .fps = vr->fps,
        .speed = vr->speed,
        .slowdown = vr->slowdown,
        .faults_path = opt->faults_path,
        .record_dir = vr->record_dir,
        .script = vr->script,
        .paused = vr->paused,
        .record_steps = vr->record_steps,
        .lanes = vr->lanes,
        .markers = vr->markers,
    };
    if (!vr->live)
        setenv("SDL_VIDEODRIVER", "dummy", 0); /* a recorder never needs a display */
    if (!view_load(err, sizeof err)) {
        fprintf(stderr, "chansim: %s%s\n", vr->live ? "--view: " : "--record: ", err);
        *status = EXIT_USAGE;
        return NULL;
    }
    vr->viz = V->create(&vo, err, sizeof err);
    if (!vr->viz) {
        fprintf(stderr, "chansim: %s%s\n", vr->live ? "--view: " : "--record: ", err);
        *status = EXIT_USAGE;
        return false;
    }
    if (vr->story)
        V->set_story(vr->viz, vr->story);
    vr->sink_state = mem_calloc(1, sizeof *vr->sink_state);
    vr->sink_state->real = opt->out ? opt->out : stdout;
    cookie_io_functions_t io = {.write = out_write};
    vr->out = fopencookie(vr->sink_state, "w", io);
    if (!vr->out) {
        fprintf(stderr, "chansim: cannot set up the program's output: %s\n", strerror(errno));
        *status = EXIT_PROGRAM;
        return false;
    }
    setvbuf(vr->out, NULL, _IOLBF, 0);
    return true;
}

/* One pass of the scenario under the view: the survey or a real run.
 * Returns its host with *st as host_run's, or NULL (and *st) if the pass
 * could not be set up. c is filled for the caller to look at. */
static host_t *one_pass(viewrun_t *vr, const host_options_t *opt, outputs_t *outs, bool survey,
                        run_ctx_t *c, int *st)
{
    host_options_t o = *opt;
    o.out = vr->out;
    /* Faults injected in the window: the run goes on as that branch. */
    if (V->faults_path(vr->viz))
        o.faults_path = V->faults_path(vr->viz);
    vr->sink_state->pos = 0;
    vr->sink_state->muted = survey;
    host_t *h = host_create(&o);
    if (!survey && !outputs_attach(outs, h)) {
        host_destroy(h);
        *st = EXIT_USAGE;
        return NULL;
    }
    *c = (run_ctx_t){.vr = vr, .h = h, .survey = survey};
    if (survey && vr->live)
        c->deadline = wall_now() + SURVEY_WALL_LIMIT;
    if (!host_add_sink(h, on_event, c) || !host_add_step_observer(h, on_step, c) ||
        !host_add_clock_observer(h, on_clock, c)) {
        fprintf(stderr, "chansim: the view cannot observe the run (too many observers)\n");
        if (!survey)
            outputs_deinit(outs);
        host_destroy(h);
        *st = EXIT_PROGRAM;
        return NULL;
    }
    int saved_err = survey || vr->mute_reports ? out_mute_stderr() : -1;
    *st = host_run(h);
    out_unmute_stderr(saved_err);
    return h;
}

host_t *viewrun_run(viewrun_t *vr, const host_options_t *opt, outputs_t *outs, int *status)
{
    if (!open_view(vr, opt, status))
        return NULL;
    outputs_t pristine = *outs;
    /* A first pass finds the run's end and markers for the timeline. */
    bool survey = true;
    for (;;) {
        *outs = pristine;
        run_ctx_t c;
        int st;
        host_t *h = one_pass(vr, opt, outs, survey, &c, &st);
        if (!h) {
            *status = st;
            return NULL;
        }
        if (st == EXIT_USAGE && !host_sched(h)) {
            host_destroy(h);
            if (survey) {
                survey = false; /* the real pass reports the error */
                continue;
            }
            outputs_deinit(outs);
            *status = st;
            return NULL;
        }
        begin(&c);
        sync_host(&c);
        if (!c.exiting) {
            char oc[256];
            bool failed = outcome(h, st, oc, sizeof oc);
            if (c.begun && !V->run_end(vr->viz, oc, failed)) {
                if (vr->mute_reports)
                    fprintf(stderr, "chansim: --record: the frames could not all be written\n");
                if (st == EXIT_OK)
                    st = EXIT_PROGRAM;
            }
        }
        V->run_detach(vr->viz);
        if (V->restart_requested(vr->viz) || survey) {
            if (!survey)
                outputs_deinit(outs);
            host_destroy(h);
            survey = false;
            continue;
        }
        if (vr->record_dir)
            fprintf(stderr, "chansim: recorded %llu frames in %s\n",
                    (unsigned long long)V->frames_written(vr->viz), vr->record_dir);
        *status = st;
        return h;
    }
}
