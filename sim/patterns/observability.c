/*
 * observability: the seed's Metrics and InstrumentedWorkerPool, function
 * for function, on core's metrics registry and simulated time. See
 * observability.h for the seed's bugs and their corrections.
 */
#include "observability.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "mem.h"
#include "pattern.h"
#include "sync.h"
#include "timer.h"

struct observability_metrics {
    obj_t hdr;                                  /* scheduler-owned */
    metrics_registry_t *reg;                    /* where the families live */
    bool own_reg;                               /* a private registry, freed with the set */
    bool seed_variant;                          /* job ID as a label, and the other bugs */
    metrics_family_t *fam[OBS_FAMILY_COUNT];    /* the seed's seven metrics */
    metrics_series_t *goroutine_gauge;          /* goroutineGauge */
    simtime_t collector_interval;               /* the collector's sleep (seed: 1s) */
    chan_t *stop;                               /* corrected: closed to stop the collector */
};

static void obs_metrics_deinit(obj_t *o)
{
    observability_metrics_t *m = (observability_metrics_t *)o;
    if (m->own_reg)
        metrics_registry_destroy(m->reg);
}

/* The seed's collector: go func() { for { Set(NumGoroutine()); Sleep(1s) } }().
 * The corrected one also waits on m->stop. */
static void goroutine_collector(void *arg)
{
    observability_metrics_t *m = arg;
    for (;;) {
        metrics_set(m->goroutine_gauge, (double)sched_goroutines_alive(sched_current()));
        if (m->seed_variant) {
            go_sleep(m->collector_interval);
            continue;
        }
        sim_timer_t *t = timer_new(m->collector_interval);
        select_case_t c[2] = {
            {.ch = timer_chan(t), .dir = SELECT_RECV},
            {.ch = m->stop, .dir = SELECT_RECV},
        };
        int fired = chan_select(c, 2, false);
        timer_free(t);
        if (fired == 1)
            return;
    }
}

observability_metrics_t *observability_metrics_create(metrics_registry_t *reg, bool seed_variant, simtime_t collector_interval)
{
    bool own = reg == NULL;
    if (own)
        reg = metrics_registry_create();
    /* Labels: the seed's, or without the job ID (endpoint). */
    static const char *const req_labels_seed[] = {"service", "endpoint", "status"};
    static const char *const req_labels[] = {"service", "status"};
    static const char *const dur_labels_seed[] = {"service", "endpoint"};
    static const char *const dur_labels[] = {"service"};
    static const char *const pool_labels[] = {"pool"};
    static const char *const queue_labels[] = {"queue"};
    static const char *const err_labels[] = {"service", "type"};
    static const char *const svc_labels[] = {"service"};
    double buckets[10];
    metrics_exponential_buckets(0.001, 2, 10, buckets); /* 1ms to ~1s */
    const metrics_opts_t opts[OBS_FAMILY_COUNT] = {
        [OBS_REQUESTS_TOTAL] = {.name = "requests_total", .help = "Total number of requests processed",
                                .labels = seed_variant ? req_labels_seed : req_labels,
                                .nlabels = seed_variant ? 3 : 2},
        [OBS_REQUEST_DURATION] = {.name = "request_duration_seconds", .help = "Request duration in seconds",
                                  .labels = seed_variant ? dur_labels_seed : dur_labels,
                                  .nlabels = seed_variant ? 2 : 1, .buckets = buckets, .nbuckets = 10},
        [OBS_GOROUTINES] = {.name = "goroutines_total", .help = "Current number of goroutines"},
        [OBS_WORKER_POOL_SIZE] = {.name = "worker_pool_size", .help = "Current size of worker pools",
                                  .labels = pool_labels, .nlabels = 1},
        [OBS_QUEUE_DEPTH] = {.name = "queue_depth", .help = "Current depth of work queues",
                             .labels = queue_labels, .nlabels = 1},
        [OBS_ERRORS_TOTAL] = {.name = "errors_total", .help = "Total number of errors",
                              .labels = err_labels, .nlabels = 2},
        [OBS_IN_FLIGHT] = {.name = "in_flight_requests", .help = "Current number of in-flight requests",
                           .labels = svc_labels, .nlabels = 1},
    };
    static const metrics_type_t types[OBS_FAMILY_COUNT] = {
        METRICS_COUNTER, METRICS_HISTOGRAM, METRICS_GAUGE, METRICS_GAUGE,
        METRICS_GAUGE,   METRICS_COUNTER,   METRICS_GAUGE,
    };
    metrics_family_t *fam[OBS_FAMILY_COUNT];
    /* Register all metrics (reg.MustRegister: here a refusal is returned). */
    for (int i = 0; i < OBS_FAMILY_COUNT; i++) {
        fam[i] = metrics_register(reg, types[i], &opts[i], NULL);
        if (!fam[i]) {
            if (own)
                metrics_registry_destroy(reg);
            return NULL;
        }
    }
    observability_metrics_t *m = obj_alloc(sizeof *m, OBJ_NONE, obs_metrics_deinit);
    obj_set_name(m, "Metrics");
    m->reg = reg;
    m->own_reg = own;
    m->seed_variant = seed_variant;
    memcpy(m->fam, fam, sizeof fam);
    m->goroutine_gauge = metrics_only(fam[OBS_GOROUTINES]);
    m->collector_interval = collector_interval;
    m->stop = chan_make(0, 0);
    /* Start goroutine collector */
    if (collector_interval > 0)
        go_set_role(go_spawn(goroutine_collector, m, "NewMetrics.func1"), "collector");
    return m;
}

void observability_metrics_destroy(observability_metrics_t *x)
{
    if (!x)
        return;
    chan_free(x->stop);
    obj_free(x);
}

void observability_metrics_stop(observability_metrics_t *m)
{
    if (!m->seed_variant && !chan_closed(m->stop))
        chan_close(m->stop);
}

metrics_registry_t *observability_metrics_registry(const observability_metrics_t *m) { return m->reg; }
bool observability_metrics_seed_variant(const observability_metrics_t *m) { return m->seed_variant; }

metrics_family_t *observability_metrics_family(const observability_metrics_t *m, int which)
{
    return which >= 0 && which < OBS_FAMILY_COUNT ? m->fam[which] : NULL;
}

observability_series_count_t observability_metrics_count(const observability_metrics_t *m)
{
    observability_series_count_t c = {0};
    for (int i = 0; i < OBS_FAMILY_COUNT; i++) {
        size_t n = metrics_series_count(m->fam[i]);
        c.series[i] = n;
        c.series_total += n;
        /* Samples in the exposition: one per counter or gauge series; a
         * histogram series has a bucket per bound, +Inf, _sum and _count. */
        const double *bounds;
        size_t nb = metrics_family_buckets(m->fam[i], &bounds);
        c.samples[i] = metrics_family_type(m->fam[i]) == METRICS_HISTOGRAM ? n * (nb + 3) : n;
        c.samples_total += c.samples[i];
    }
    return c;
}

/* ---- InstrumentedWorkerPool -------------------------------------------- */

struct observability_pool {
    obj_t hdr;                  /* scheduler-owned */
    const char *name;           /* name (interned) */
    int workers;                /* workers */
    chan_t *queue;              /* chan Job (observability_job_t by value) */
    observability_metrics_t *metrics;     /* metrics */
    waitgroup_t *wg;            /* wg */
    chan_t *shutdown;           /* shutdown */
    int32_t processing;         /* processing */
    observability_pool_stats_t st;        /* counts for the report */
    observability_job_log_t *log;         /* outcomes, malloc'd */
    size_t nlog, caplog;
    entity_t *entity;           /* the pool: depth, capacity, processing */
    entity_t **worker_entity;   /* one per worker: idle / busy */
    struct worker_arg *wargs;   /* the workers' arguments, malloc'd */
};

typedef struct worker_arg {
    observability_pool_t *p; /* the pool */
    int index;                     /* which worker */
} worker_arg_t;

static void pool_deinit(obj_t *o)
{
    observability_pool_t *p = (observability_pool_t *)o;
    free(p->log);
    free(p->worker_entity);
    free(p->wargs);
}

static metrics_series_t *pool_series(observability_pool_t *p, int fam, const char *a,
                                     const char *b, const char *c)
{
    const char *v[3] = {a, b, c};
    size_t n = metrics_family_nlabels(p->metrics->fam[fam]);
    metrics_series_t *s = metrics_with(p->metrics->fam[fam], v, n, NULL);
    if (!s)
        go_panic("observability: %s", metrics_last_error(p->metrics->reg));
    return s;
}

static void set_queue_depth(observability_pool_t *p)
{
    int64_t len = chan_len(p->queue);
    metrics_set(pool_series(p, OBS_QUEUE_DEPTH, p->name, NULL, NULL), (double)len);
    entity_set(p->entity, "depth", len);
    if (len > p->st.queue_max)
        p->st.queue_max = len;
}

static void log_job(observability_pool_t *p, const observability_job_t *job, bool ok, const char *msg)
{
    if (p->nlog == p->caplog) {
        p->caplog = p->caplog ? 2 * p->caplog : 64;
        p->log = mem_realloc(p->log, p->caplog * sizeof *p->log);
    }
    sched_t *s = sched_current();
    p->log[p->nlog++] = (observability_job_log_t){
        .t = sched_now(), .id = sched_intern(s, job->id), .ok = ok, .message = msg,
    };
    char line[256];
    snprintf(line, sizeof line, "[%s] Job %s %s: %s", p->name, job->id, ok ? "succeeded" : "failed", msg);
    sched_emit(EV_LOG, 0, ok, 0, line);
}

/* job.Handler(ctx): the seed's closures, sleep then maybe fail. */
static bool run_handler(const observability_job_t *job, ctx_t *ctx)
{
    (void)ctx; /* the seed's handlers never look at it */
    go_sleep(job->work); /* Simulate work */
    return !(job->fail_one_in > 0 && pattern_intn(job->fail_one_in) == 0); /* occasional errors */
}

static void process(observability_pool_t *p, int index, const observability_job_t *job)
{
    observability_metrics_t *m = p->metrics;
    /* Update metrics */
    p->processing++;
    metrics_inc(pool_series(p, OBS_IN_FLIGHT, p->name, NULL, NULL));
    entity_set(p->entity, "processing", p->processing);
    entity_set_state(p->worker_entity[index], "busy");
    if (!m->seed_variant)
        set_queue_depth(p); /* the job has left the queue */
    /* Process the job with tracing */
    ctx_t *ctx = ctx_with_timeout(ctx_background(), 5 * SIM_SEC);
    simtime_t start_time = sched_now();
    bool ok = run_handler(job, ctx);
    simtime_t duration = sched_now() - start_time;
    /* Update metrics based on result */
    const char *id = m->seed_variant ? job->id : NULL;
    metrics_observe(m->seed_variant ? pool_series(p, OBS_REQUEST_DURATION, p->name, id, NULL)
                                    : pool_series(p, OBS_REQUEST_DURATION, p->name, NULL, NULL),
                    (double)duration / 1e9);
    const char *status = ok ? "success" : "error";
    metrics_series_t *req = m->seed_variant ? pool_series(p, OBS_REQUESTS_TOTAL, p->name, id, status)
                                            : pool_series(p, OBS_REQUESTS_TOTAL, p->name, status, NULL);
    if (!ok)
        metrics_inc(pool_series(p, OBS_ERRORS_TOTAL, p->name, "job_error", NULL));
    metrics_inc(req);
    if (ok)
        p->st.succeeded++;
    else
        p->st.failed++;
    log_job(p, job, ok, ok ? job->result : job->error);
    /* Update in-flight metrics */
    p->processing--;
    metrics_sub(pool_series(p, OBS_IN_FLIGHT, p->name, NULL, NULL), 1);
    entity_set(p->entity, "processing", p->processing);
    entity_set_state(p->worker_entity[index], "idle");
    /* Update queue depth metric */
    set_queue_depth(p);
    ctx_cancel(ctx); /* Always cancel the context */
}

/* worker processes jobs from the queue */
static void worker(void *arg)
{
    worker_arg_t *w = arg;
    observability_pool_t *p = w->p;
    for (;;) {
        observability_job_t job;
        select_case_t c[2] = {
            {.ch = p->queue, .dir = SELECT_RECV, .elem = &job},
            {.ch = p->shutdown, .dir = SELECT_RECV},
        };
        int fired = chan_select(c, 2, false);
        if (fired == 1 || !c[0].ok)
            break; /* shutdown, or the channel closed */
        process(p, w->index, &job);
    }
    entity_set_state(p->worker_entity[w->index], "stopped");
    waitgroup_done(p->wg);
}

observability_pool_t *observability_pool_create(const char *name, int workers,
                                             int queue_size, observability_metrics_t *metrics)
{
    observability_pool_t *pool = obj_alloc(sizeof *pool, OBJ_NONE, pool_deinit);
    pool->name = sched_intern(sched_current(), name);
    obj_set_name(pool, name);
    pool->workers = workers;
    pool->queue = chan_make(sizeof(observability_job_t), queue_size);
    pool->metrics = metrics;
    pool->wg = waitgroup_new();
    pool->shutdown = chan_make(0, 0);
    pool->entity = entity_new("pool", name, NULL);
    entity_set_state(pool->entity, "running");
    entity_set(pool->entity, "workers", workers);
    entity_set(pool->entity, "capacity", queue_size);
    entity_set(pool->entity, "depth", 0);
    entity_set(pool->entity, "processing", 0);
    pool->worker_entity = mem_calloc((size_t)(workers > 0 ? workers : 1), sizeof *pool->worker_entity);
    pool->wargs = mem_calloc((size_t)(workers > 0 ? workers : 1), sizeof *pool->wargs);
    /* Update initial metrics */
    metrics_set(pool_series(pool, OBS_WORKER_POOL_SIZE, name, NULL, NULL), workers);
    metrics_set(pool_series(pool, OBS_QUEUE_DEPTH, name, NULL, NULL), 0);
    /* Start workers */
    char wname[96];
    for (int i = 0; i < workers; i++) {
        snprintf(wname, sizeof wname, "%s-worker-%d", name, i + 1);
        pool->worker_entity[i] = entity_new("worker", wname, pool->entity);
        entity_set_state(pool->worker_entity[i], "idle");
        worker_arg_t *w = &pool->wargs[i];
        *w = (worker_arg_t){.p = pool, .index = i};
        waitgroup_add(pool->wg, 1);
        g_t *g = go_spawn(worker, w, wname);
        go_set_role(g, "worker");
        entity_set_goroutine(pool->worker_entity[i], go_id(g));
    }
    return pool;
}

void observability_pool_destroy(observability_pool_t *x)
{
    if (!x)
        return;
    chan_free(x->queue);
    chan_free(x->shutdown);
    waitgroup_free(x->wg);
    obj_free(x);
}

static const go_error_t ERR_QUEUE_FULL = {"queue is full"};

const go_error_t *observability_pool_submit(observability_pool_t *p, const observability_job_t *job)
{
    if (chan_try_send(p->queue, job)) {
        /* Update queue depth metric */
        p->st.submitted++;
        set_queue_depth(p);
        return NULL;
    }
    metrics_inc(pool_series(p, OBS_ERRORS_TOTAL, p->name, "queue_full", NULL));
    p->st.rejected++;
    return &ERR_QUEUE_FULL;
}

void observability_pool_shutdown(observability_pool_t *p)
{
    if (p->metrics->seed_variant) {
        chan_close(p->shutdown);
        chan_close(p->queue);
    } else {
        chan_close(p->queue); /* workers drain the queue, then see it closed */
    }
    waitgroup_wait(p->wg);
    if (!p->metrics->seed_variant)
        chan_close(p->shutdown);
    p->st.lost = chan_len(p->queue);
    /* Update metrics */
    metrics_set(pool_series(p, OBS_WORKER_POOL_SIZE, p->name, NULL, NULL), 0);
    metrics_set(pool_series(p, OBS_QUEUE_DEPTH, p->name, NULL, NULL), 0);
    metrics_set(pool_series(p, OBS_IN_FLIGHT, p->name, NULL, NULL), 0);
    entity_set_state(p->entity, "shut down");
}

observability_pool_metrics_t observability_pool_get_metrics(const observability_pool_t *p)
{
    return (observability_pool_metrics_t){
        .workers = p->workers, .queue_size = chan_len(p->queue), .processing = p->processing,
    };
}

observability_pool_stats_t observability_pool_stats(const observability_pool_t *p) { return p->st; }

size_t observability_pool_log(const observability_pool_t *p, const observability_job_log_t **list)
{
    *list = p->log;
    return p->nlog;
}

const char *observability_pool_name(const observability_pool_t *p) { return p->name; }
