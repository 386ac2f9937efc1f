/*
 * shutdown: the seed's GracefulShutdown, Server and WorkerPool, function
 * for function, with the corrected variant's changes marked where they
 * differ. See shutdown.h.
 */
#include "shutdown.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "pattern.h"
#include "sync.h"
#include "timer.h"

static const go_error_t ERR_WP_SHUTTING_DOWN = {"worker pool is shutting down"};
static const go_error_t ERR_WP_QUEUE_FULL = {"job queue is full"};

static void vlog(pattern_log_fn log, void *ud, const char *fmt, va_list ap)
{
    if (!log)
        return;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    log(ud, line);
}

/* Count one event in a two-label counter family (registered on first use). */
static void count2(const char *family, const char *help, const char *l1, const char *v1,
                   const char *l2, const char *v2)
{
    metrics_registry_t *r = metrics_current();
    if (!r)
        return;
    const char *labels[2] = {l1, l2};
    metrics_opts_t o = {.name = family, .help = help, .labels = labels, .nlabels = 2};
    metrics_family_t *f = metrics_register(r, METRICS_COUNTER, &o, NULL);
    metrics_series_t *s = f ? metrics_withv(f, v1, v2, (const char *)NULL) : NULL;
    if (s)
        metrics_inc(s);
}

/* ======================================================================== */
/* GracefulShutdown                                                         */
/* ======================================================================== */

typedef struct gs_func {
    const char *name;            /* interned */
    shutdown_func_t fn;
    void *arg;
    const char *after[SHUTDOWN_MAX_AFTER]; /* interned names to wait for (corrected) */
    int nafter;
    chan_t *done;                /* closed when fn returned */
    const go_error_t *err;
    simtime_t started, finished;
    ctx_t *ctx;                  /* the shutdown context, once started */
    shutdown_t *gs;
} gs_func_t;

/* GracefulShutdown manages the graceful shutdown process */
struct shutdown {
    obj_t hdr;                   /* scheduler-owned */
    simtime_t timeout;
    gs_func_t shutdown_funcs[SHUTDOWN_MAX_FUNCS];
    int nfuncs;
    waitgroup_t *wg;
    chan_t *shutdown_ch;         /* chan struct{}: closed when shutting down */
    chan_t *done_ch;             /* chan struct{}: closed when done */
    chan_t *signal_ch;           /* chan os.Signal, cap 1 (after Start) */
    chan_t *shutdown_complete;   /* closed when every func returned */
    shutdown_options_t opt;
    const char *signal;          /* received, or NULL */
    simtime_t signal_at, started, finished;
    bool timed_out;
    entity_t *entity;
};

static void gs_logf(shutdown_t *gs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gs_logf(shutdown_t *gs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(gs->opt.log, gs->opt.log_ud, fmt, ap);
    va_end(ap);
}

/* NewGracefulShutdown creates a new graceful shutdown manager */
shutdown_t *shutdown_create(simtime_t timeout, const shutdown_options_t *opt)
{
    shutdown_t *gs = obj_alloc(sizeof *gs, OBJ_NONE, NULL);
    obj_set_name(gs, "GracefulShutdown");
    if (opt)
        gs->opt = *opt;
    gs->timeout = timeout;
    gs->shutdown_ch = chan_make(0, 0);
    gs->done_ch = chan_make(0, 0);
    obj_set_name(gs->shutdown_ch, "shutdownCh");
    obj_set_name(gs->done_ch, "doneCh");
    gs->wg = waitgroup_new();
    gs->signal_at = gs->started = gs->finished = -1;
    gs->entity = entity_new("shutdown", "graceful-shutdown", NULL);
    entity_set(gs->entity, "timeout", timeout);
    entity_set_state(gs->entity, "running");
    return gs;
}

void shutdown_destroy(shutdown_t *x)
{
    if (!x)
        return;
    for (int i = 0; i < x->nfuncs; i++)
        chan_free(x->shutdown_funcs[i].done);
    chan_free(x->shutdown_ch);
    chan_free(x->done_ch);
    chan_free(x->signal_ch);
    chan_free(x->shutdown_complete);
    waitgroup_free(x->wg);
    obj_free(x);
}

/* AddShutdownFunc adds a function to be called during shutdown */
void shutdown_add_shutdown_func(shutdown_t *gs, const char *name, shutdown_func_t fn, void *arg,
                                const char *const *after, int nafter)
{
    if (gs->nfuncs == SHUTDOWN_MAX_FUNCS)
        go_panic("graceful shutdown: more than %d shutdown functions", SHUTDOWN_MAX_FUNCS);
    gs_func_t *f = &gs->shutdown_funcs[gs->nfuncs++];
    sched_t *s = sched_current();
    f->name = sched_intern(s, name);
    f->fn = fn;
    f->arg = arg;
    f->nafter = nafter < SHUTDOWN_MAX_AFTER ? nafter : SHUTDOWN_MAX_AFTER;
    for (int i = 0; i < f->nafter; i++)
        f->after[i] = sched_intern(s, after[i]);
    f->done = chan_make(0, 0);
    f->started = f->finished = -1;
    f->gs = gs;
}

/* os.Signal as the runtime numbers them here: what Notify carries. */
static const char *const signal_names[] = {"SIGINT", "SIGTERM"};
static const char *const signal_strings[] = {"interrupt", "terminated"}; /* syscall.Signal.String() */

static void signal_waiter(void *arg)
{
    shutdown_t *gs = arg;
    int sig = 0;
    select_case_t cases[2] = {
        {.ch = gs->signal_ch, .dir = SELECT_RECV, .elem = &sig},
        {.ch = gs->shutdown_ch, .dir = SELECT_RECV},
    };
    if (chan_select(cases, 2, false) == 0) {
        gs->signal = signal_names[sig];
        gs->signal_at = sched_now();
        gs_logf(gs, "Received signal: %s", signal_strings[sig]);
        shutdown_shutdown(gs);
    }
    // case <-gs.shutdownCh: Shutdown triggered programmatically
}

/* Start begins listening for shutdown signals */
void shutdown_start(shutdown_t *gs)
{
    gs->signal_ch = chan_make(sizeof(int), 1); /* signal.Notify(signalCh, SIGINT, SIGTERM) */
    obj_set_name(gs->signal_ch, "signalCh");
    g_t *g = go_spawn(signal_waiter, gs, "shutdown.signals");
    go_set_role(g, "signals");
}

bool shutdown_signal(shutdown_t *gs, const char *sig)
{
    int code = -1;
    for (int i = 0; i < 2; i++)
        if (strcmp(sig, signal_names[i]) == 0)
            code = i;
    if (code < 0 || !gs->signal_ch)
        return false;
    sched_emit(EV_USER, entity_id(gs->entity), code, 0, sig);
    return chan_try_send(gs->signal_ch, &code);
}

/* The goroutine of one shutdown function (the seed's wrapped function). */
static void run_shutdown_func(void *arg)
{
    gs_func_t *f = arg;
    shutdown_t *gs = f->gs;
    /* corrected: first wait for the functions this one must follow */
    if (!gs->opt.seed_variant) {
        for (int i = 0; i < f->nafter; i++) {
            for (int j = 0; j < gs->nfuncs; j++) {
                gs_func_t *g = &gs->shutdown_funcs[j];
                if (g == f || strcmp(g->name, f->after[i]) != 0)
                    continue;
                select_case_t cases[2] = {
                    {.ch = g->done, .dir = SELECT_RECV},
                    {.ch = ctx_done(f->ctx), .dir = SELECT_RECV},
                };
                chan_select(cases, 2, false);
            }
        }
    }
    f->started = sched_now();
    gs_logf(gs, "Shutting down %s...", f->name);
    const go_error_t *err = f->fn(f->ctx, f->arg);
    if (err)
        gs_logf(gs, "Error shutting down %s: %s", f->name, go_error_msg(err));
    else
        gs_logf(gs, "%s shutdown complete", f->name);
    f->err = err;
    f->finished = sched_now();
    chan_close(f->done);
    waitgroup_done(gs->wg); // defer gs.wg.Done()
}

static void wait_all(void *arg)
{
    shutdown_t *gs = arg;
    waitgroup_wait(gs->wg);
    chan_close(gs->shutdown_complete);
}

/* Shutdown initiates the graceful shutdown process */
void shutdown_shutdown(shutdown_t *gs)
{
    // Ensure we only shut down once
    bool ok;
    if (chan_try_recv(gs->shutdown_ch, NULL, &ok))
        return; // Already shutting down
    chan_close(gs->shutdown_ch);
    gs->started = sched_now();
    entity_set_state(gs->entity, "shutting down");
    entity_set(gs->entity, "deadline_ns", gs->started + gs->timeout); /* the view counts down to it */

    gs_logf(gs, "Starting graceful shutdown...");

    // Create a context with timeout
    ctx_t *ctx = ctx_with_timeout(ctx_background(), gs->timeout);

    // Execute all shutdown functions
    for (int i = 0; i < gs->nfuncs; i++) {
        gs_func_t *f = &gs->shutdown_funcs[i];
        f->ctx = ctx;
        waitgroup_add(gs->wg, 1);
        char name[96];
        snprintf(name, sizeof name, "shutdown %s", f->name);
        g_t *g = go_spawn(run_shutdown_func, f, name);
        go_set_role(g, "shutdown");
    }

    // Wait for all shutdown functions to complete or timeout
    gs->shutdown_complete = chan_make(0, 0);
    go_spawn(wait_all, gs, "shutdown.wait");

    select_case_t cases[2] = {
        {.ch = gs->shutdown_complete, .dir = SELECT_RECV},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    if (chan_select(cases, 2, false) == 0) {
        gs_logf(gs, "Graceful shutdown completed successfully");
        entity_set_state(gs->entity, "completed");
        entity_set(gs->entity, "deadline_ns", 0);
    } else {
        gs_logf(gs, "Graceful shutdown timed out");
        gs->timed_out = true;
        entity_set_state(gs->entity, "timed out");
        entity_set(gs->entity, "deadline_ns", 0);
    }
    ctx_cancel(ctx); // defer cancel()
    gs->finished = sched_now();
    pattern_metric_t m;
    pattern_metric_init(&m, METRICS_GAUGE, "graceful_shutdown_timed_out",
                    "1 if the last graceful shutdown hit its timeout", "manager", "main", 1);
    pattern_metric_set(&m, gs->timed_out ? 1 : 0);
    pattern_metric_init(&m, METRICS_GAUGE, "graceful_shutdown_duration_seconds",
                    "How long the last graceful shutdown took", "manager", "main", 1e-9);
    pattern_metric_set(&m, gs->finished - gs->started);

    chan_close(gs->done_ch);
}

/* Wait blocks until shutdown is complete */
void shutdown_wait(shutdown_t *gs)
{
    chan_recv(gs->done_ch, NULL);
}

/* IsShuttingDown returns whether shutdown has been initiated */
bool shutdown_is_shutting_down(shutdown_t *gs)
{
    bool ok;
    return chan_try_recv(gs->shutdown_ch, NULL, &ok); /* select { case <-shutdownCh: true; default: false } */
}

void shutdown_get_report(const shutdown_t *gs, shutdown_report_t *out)
{
    memset(out, 0, sizeof *out);
    out->signal = gs->signal;
    out->signal_at = gs->signal_at;
    out->started = gs->started;
    out->finished = gs->finished;
    out->timed_out = gs->timed_out;
    out->nfuncs = gs->nfuncs;
    for (int i = 0; i < gs->nfuncs; i++) {
        const gs_func_t *f = &gs->shutdown_funcs[i];
        out->funcs[i].name = f->name;
        out->funcs[i].err = f->err;
        out->funcs[i].started = f->started;
        out->funcs[i].finished = f->finished;
    }
}

simtime_t shutdown_timeout(const shutdown_t *gs) { return gs->timeout; }
bool shutdown_seed_variant(const shutdown_t *gs) { return gs->opt.seed_variant; }

/* ======================================================================== */
/* Server                                                                   */
/* ======================================================================== */

/* Example HTTP server with graceful shutdown */
struct shutdown_server {
    obj_t hdr;                   /* scheduler-owned */
    const char *addr;            /* interned */
    shutdown_t *shutdown;
    shutdown_server_options_t opt;
    bool listening;              /* Start called and the listener open */
    int64_t in_flight;
    int64_t by200, by202, by503, other, refused;
    simtime_t listener_closed_at;
    entity_t *entity;
};

static void srv_logf(shutdown_server_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void srv_logf(shutdown_server_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(s->opt.log, s->opt.log_ud, fmt, ap);
    va_end(ap);
}

static void srv_publish(shutdown_server_t *s)
{
    pattern_pub(s->entity, "in_flight", s->in_flight);
    pattern_pub(s->entity, "ok", s->by200 + s->by202);
    pattern_pub(s->entity, "unavailable", s->by503);
    pattern_pub(s->entity, "refused", s->refused);
}

/* server.Shutdown(ctx) of net/http: stop accepting, then wait for the
 * requests in flight, polling with a growing interval (1ms doubling to
 * 500ms), or until ctx is done. */
static const go_error_t *http_server_shutdown(ctx_t *ctx, void *arg)
{
    shutdown_server_t *s = arg;
    entity_set_state(s->entity, "shutting down");
    if (!s->opt.seed_variant && s->opt.drain > 0) {
        /* corrected: keep the listener open for the drain period; the
         * handler answers 503 so a load balancer takes us out of rotation */
        sim_timer_t *t = timer_new(s->opt.drain);
        select_case_t cases[2] = {
            {.ch = timer_chan(t), .dir = SELECT_RECV},
            {.ch = ctx_done(ctx), .dir = SELECT_RECV},
        };
        chan_select(cases, 2, false);
        timer_free(t);
    }
    s->listening = false; /* close the listener: new connections are refused */
    s->listener_closed_at = sched_now();
    simtime_t interval = SIM_MS;
    while (s->in_flight > 0) {
        sim_timer_t *t = timer_new(interval);
        select_case_t cases[2] = {
            {.ch = timer_chan(t), .dir = SELECT_RECV},
            {.ch = ctx_done(ctx), .dir = SELECT_RECV},
        };
        int fired = chan_select(cases, 2, false);
        timer_free(t);
        if (fired == 1)
            return ctx_err(ctx);
        interval *= 2;
        if (interval > 500 * SIM_MS)
            interval = 500 * SIM_MS;
    }
    entity_set_state(s->entity, "stopped");
    return NULL;
}

/* NewServer creates a new HTTP server with graceful shutdown */
shutdown_server_t *shutdown_server_create(const char *addr, shutdown_t *gs, const shutdown_server_options_t *opt)
{
    shutdown_server_t *s = obj_alloc(sizeof *s, OBJ_NONE, NULL);
    s->addr = sched_intern(sched_current(), addr);
    obj_set_name(s, s->addr);
    s->shutdown = gs;
    if (opt)
        s->opt = *opt;
    s->listener_closed_at = -1;
    s->entity = entity_new("server", s->addr, NULL);
    entity_set_state(s->entity, "idle");
    srv_publish(s);

    // Register shutdown handler
    shutdown_add_shutdown_func(gs, "http-server", http_server_shutdown, s, NULL, 0);
    return s;
}

void shutdown_server_destroy(shutdown_server_t *x)
{
    if (!x)
        return;
    obj_free(x);
}

/* Start starts the HTTP server */
void shutdown_server_start(shutdown_server_t *s)
{
    srv_logf(s, "Starting HTTP server on %s", s->addr);
    s->listening = true;
    entity_set_state(s->entity, "serving");
}

int shutdown_server_request(shutdown_server_t *s, const char *request, char *body, size_t size, void *call_ud)
{
    char dummy[8];
    if (!body || !size) {
        body = dummy;
        size = sizeof dummy;
    }
    body[0] = 0;
    const char *code;
    int status;
    if (!s->listening) {
        s->refused++;
        snprintf(body, size, "connection refused");
        count2("graceful_shutdown_requests_total", "Requests by status code", "server", s->addr, "code",
               "refused");
        srv_publish(s);
        return 0;
    }
    s->in_flight++;
    srv_publish(s);
    // Check if we're shutting down
    if (shutdown_is_shutting_down(s->shutdown)) {
        status = 503; /* http.StatusServiceUnavailable */
        snprintf(body, size, "Server is shutting down");
    } else if (s->opt.handler) {
        status = s->opt.handler(s->opt.handler_ud, call_ud, s, request, body, size);
    } else {
        // Normal request handling
        status = 200;
        snprintf(body, size, "Hello, World!");
    }
    s->in_flight--;
    switch (status) {
    case 200:
        s->by200++;
        code = "200";
        break;
    case 202:
        s->by202++;
        code = "202";
        break;
    case 503:
        s->by503++;
        code = "503";
        break;
    default:
        s->other++;
        code = "other";
        break;
    }
    count2("graceful_shutdown_requests_total", "Requests by status code", "server", s->addr, "code", code);
    srv_publish(s);
    return status;
}

void shutdown_server_get_stats(const shutdown_server_t *s, shutdown_server_stats_t *out)
{
    out->state = entity_state(s->entity);
    out->in_flight = s->in_flight;
    out->by_status_200 = s->by200;
    out->by_status_202 = s->by202;
    out->by_status_503 = s->by503;
    out->other_status = s->other;
    out->refused = s->refused;
    out->listener_closed_at = s->listener_closed_at;
}

const char *shutdown_server_addr(const shutdown_server_t *s) { return s->addr; }

/* ======================================================================== */
/* WorkerPool                                                               */
/* ======================================================================== */

/* Example worker pool with graceful shutdown */
struct shutdown_worker_pool {
    obj_t hdr;                   /* scheduler-owned */
    chan_t *job_ch;              /* chan string (here: the job's index) */
    shutdown_t *shutdown;
    waitgroup_t *wg;
    mutex_t *mu;                 /* corrected: SubmitJob against the close */
    bool closed;                 /* corrected: the pool's own shutdown began */
    shutdown_worker_pool_options_t opt;
    shutdown_worker_pool_job_t *jobs;
    size_t njobs, capjobs;
    entity_t *entity;
};

typedef struct wp_worker {
    obj_t hdr;
    shutdown_worker_pool_t *wp;
    int id;
    entity_t *entity;
} wp_worker_t;

static void wp_logf(shutdown_worker_pool_t *wp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wp_logf(shutdown_worker_pool_t *wp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(wp->opt.log, wp->opt.log_ud, fmt, ap);
    va_end(ap);
}

static void wp_publish(shutdown_worker_pool_t *wp)
{
    int64_t accepted = 0, completed = 0;
    for (size_t i = 0; i < wp->njobs; i++) {
        if (!wp->jobs[i].refused)
            accepted++;
        if (wp->jobs[i].finished >= 0)
            completed++;
    }
    pattern_pub(wp->entity, "queue_depth", chan_len(wp->job_ch));
    pattern_pub(wp->entity, "accepted", accepted);
    pattern_pub(wp->entity, "completed", completed);
}

static void wp_deinit(obj_t *o)
{
    shutdown_worker_pool_t *wp = (shutdown_worker_pool_t *)o;
    free(wp->jobs);
    wp->jobs = NULL;
}

/* worker processes jobs */
static void wp_worker(void *arg)
{
    wp_worker_t *w = arg;
    shutdown_worker_pool_t *wp = w->wp;
    entity_set_goroutine(w->entity, go_id(go_self()));
    entity_set_state(w->entity, "idle");
    wp_logf(wp, "Worker %d started", w->id);

    int64_t idx;
    while (chan_recv(wp->job_ch, &idx)) {
        shutdown_worker_pool_job_t *job = &wp->jobs[idx];
        // Check if we're shutting down
        if (shutdown_is_shutting_down(wp->shutdown)) {
            wp_logf(wp, "Worker %d processing final jobs before shutdown", w->id);
            job->final = true;
        }

        // Process the job
        wp_logf(wp, "Worker %d processing job: %s", w->id, job->name);
        job->started = sched_now();
        job->worker = w->id;
        entity_set_state(w->entity, "busy");
        wp_publish(wp);
        go_sleep(wp->opt.job_time); // Simulate work
        job = &wp->jobs[idx];       /* the array may have grown meanwhile */
        job->finished = sched_now();
        entity_set_state(w->entity, "idle");
        count2("graceful_shutdown_jobs_total", "Jobs by outcome", "pool", "worker-pool", "outcome",
               "completed");
        wp_publish(wp);
    }

    wp_logf(wp, "Worker %d stopped", w->id);
    entity_set_state(w->entity, "stopped");
    waitgroup_done(wp->wg); // defer wp.wg.Done()
}

typedef struct wg_closer {
    obj_t hdr; /* scheduler-owned: the waiter may never finish */
    waitgroup_t *wg;
    chan_t *done_ch;
} wg_closer_t;

static void wait_then_close(void *arg)
{
    wg_closer_t *c = arg;
    waitgroup_wait(c->wg);
    chan_close(c->done_ch);
}

/* The "worker-pool" shutdown func registered by NewWorkerPool. */
static const go_error_t *wp_shutdown(ctx_t *ctx, void *arg)
{
    shutdown_worker_pool_t *wp = arg;
    wp_logf(wp, "Closing job channel...");
    entity_set_state(wp->entity, "closing");
    if (!wp->opt.seed_variant) {
        mutex_lock(wp->mu);
        wp->closed = true;
        chan_close(wp->job_ch);
        mutex_unlock(wp->mu);
    } else {
        chan_close(wp->job_ch);
    }

    // Wait for all workers to finish
    wg_closer_t *c = obj_alloc(sizeof *c, OBJ_NONE, NULL);
    c->wg = wp->wg;
    c->done_ch = chan_make(0, 0);
    chan_t *done_ch = c->done_ch;
    go_spawn(wait_then_close, c, "worker-pool.wait");

    select_case_t cases[2] = {
        {.ch = done_ch, .dir = SELECT_RECV},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    if (chan_select(cases, 2, false) == 0) {
        entity_set_state(wp->entity, "stopped");
        return NULL;
    }
    return ctx_err(ctx);
}

/* NewWorkerPool creates a new worker pool with graceful shutdown */
shutdown_worker_pool_t *shutdown_worker_pool_create(int worker_count, int job_buffer_size,
                                                 shutdown_t *gs, const shutdown_worker_pool_options_t *opt)
{
    shutdown_worker_pool_t *wp = obj_alloc(sizeof *wp, OBJ_NONE, wp_deinit);
    obj_set_name(wp, "WorkerPool");
    if (opt)
        wp->opt = *opt;
    if (wp->opt.job_time <= 0)
        wp->opt.job_time = 100 * SIM_MS;
    wp->job_ch = chan_make(sizeof(int64_t), job_buffer_size);
    obj_set_name(wp->job_ch, "jobCh");
    wp->shutdown = gs;
    wp->wg = waitgroup_new();
    wp->mu = mutex_new();
    wp->entity = entity_new("pool", "worker-pool", NULL);
    entity_set(wp->entity, "queue_capacity", job_buffer_size);
    entity_set(wp->entity, "workers", worker_count);
    entity_set_state(wp->entity, "running");
    wp_publish(wp);

    // Start workers
    for (int i = 0; i < worker_count; i++) {
        waitgroup_add(wp->wg, 1);
        wp_worker_t *w = obj_alloc(sizeof *w, OBJ_NONE, NULL);
        w->wp = wp;
        w->id = i;
        char name[64];
        snprintf(name, sizeof name, "worker-pool.worker-%d", i);
        w->entity = entity_new("worker", name, wp->entity);
        g_t *g = go_spawn(wp_worker, w, name);
        go_set_role(g, "worker");
    }

    // Register shutdown handler
    const char *after[1] = {wp->opt.after};
    shutdown_add_shutdown_func(gs, "worker-pool", wp_shutdown, wp, after,
                               (!wp->opt.seed_variant && wp->opt.after) ? 1 : 0);
    return wp;
}

void shutdown_worker_pool_destroy(shutdown_worker_pool_t *x)
{
    if (!x)
        return;
    chan_free(x->job_ch);
    waitgroup_free(x->wg);
    mutex_free(x->mu);
    obj_free(x);
}

static shutdown_worker_pool_job_t *record_job(shutdown_worker_pool_t *wp, const char *job)
{
    if (wp->njobs == wp->capjobs) {
        size_t cap = wp->capjobs ? wp->capjobs * 2 : 32;
        wp->jobs = mem_realloc(wp->jobs, cap * sizeof *wp->jobs);
        wp->capjobs = cap;
    }
    shutdown_worker_pool_job_t *j = &wp->jobs[wp->njobs++];
    memset(j, 0, sizeof *j);
    j->name = sched_intern(sched_current(), job);
    j->submitted = sched_now();
    j->started = j->finished = -1;
    j->worker = -1;
    return j;
}

/* SubmitJob submits a job to the worker pool */
const go_error_t *shutdown_worker_pool_submit_job(shutdown_worker_pool_t *wp, const char *job)
{
    shutdown_worker_pool_job_t *j = record_job(wp, job);
    int64_t idx = (int64_t)(wp->njobs - 1);
    const go_error_t *err = NULL;
    if (wp->opt.seed_variant) {
        if (shutdown_is_shutting_down(wp->shutdown)) {
            err = &ERR_WP_SHUTTING_DOWN;
        } else if (!chan_try_send(wp->job_ch, &idx)) {
            err = &ERR_WP_QUEUE_FULL;
        }
    } else {
        /* corrected: the pool's own state, checked and sent under its lock */
        mutex_lock(wp->mu);
        if (wp->closed)
            err = &ERR_WP_SHUTTING_DOWN;
        else if (!chan_try_send(wp->job_ch, &idx))
            err = &ERR_WP_QUEUE_FULL;
        mutex_unlock(wp->mu);
    }
    j = &wp->jobs[idx];
    j->refused = err;
    count2("graceful_shutdown_jobs_total", "Jobs by outcome", "pool", "worker-pool", "outcome",
           err ? "refused" : "accepted");
    wp_publish(wp);
    return err;
}

const shutdown_worker_pool_job_t *shutdown_worker_pool_jobs(const shutdown_worker_pool_t *wp, size_t *n)
{
    *n = wp->njobs;
    return wp->jobs;
}

int64_t shutdown_worker_pool_queue_depth(const shutdown_worker_pool_t *wp) { return chan_len(wp->job_ch); }
