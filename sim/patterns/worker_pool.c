/*
 * worker_pool: the seed's AdaptiveWorkerPool, function for function, with
 * the corrected variant's changes marked where they differ. See
 * worker_pool.h.
 *
 * Go's atomics become plain fields: one goroutine runs at a time in the
 * simulation, so atomic.AddInt32 is an ordinary increment here. Channels,
 * the WaitGroup, the ticker and the selects are core's, with Go's
 * semantics.
 */
#include "worker_pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "pattern.h"
#include "race.h"
#include "sync.h"
#include "timer.h"

const go_error_t WORKER_POOL_ERR_JOB_QUEUE_FULL = {"job queue is full"};
const go_error_t WORKER_POOL_ERR_SHUT_DOWN = {"pool is shut down"};

/* The seed's PoolMetrics and gauges, registered as adaptive_pool_<x>{pool}. */
enum {
    M_TOTAL_JOBS,
    M_COMPLETED_JOBS,
    M_FAILED_JOBS,
    M_REJECTED_JOBS,
    M_QUEUE_HIGH_WATER,
    M_WORKERS,
    M_ACTIVE_WORKERS,
    M_PENDING_JOBS,
    M_AVERAGE_LATENCY,
    M_COUNT
};

/* One of the seed's atomic operations on v (see the struct). */
static void atomic_op(race_var_t *v, race_atomic_op_t op)
{
    sched_point_named(v->name);
    race_atomic(v, op);
}

/* AdaptiveWorkerPool implements a worker pool that scales based on load */
struct worker_pool {
    obj_t hdr;                 /* scheduler-owned */
    chan_t *job_queue;         /* chan Job, cap queue_size */
    chan_t *result_queue;      /* chan Result, cap queue_size */
    int32_t worker_count;      /* workers started and not yet exited */
    int32_t active_workers;    /* workers processing a job */
    int32_t max_workers;
    int32_t min_workers;
    int32_t pending_jobs;      /* submitted, not yet taken by a worker */
    mutex_t *mu;               /* unused by the seed; the corrected Submit/Shutdown */
    chan_t *stop_ch;           /* chan struct{}: scale-down signals; closed last */
    waitgroup_t *worker_wg;
    worker_pool_metrics_t metrics;
    simtime_t scale_interval;
    double scale_threshold;    /* threshold for scaling (0-1) */
    /* chansim */
    ctx_t *ctx;                /* the ctx the pool was made with */
    worker_pool_options_t opt;
    const char *name;          /* interned */
    bool closed;               /* corrected: Shutdown began */
    /* The seed's atomics (atomic.AddInt32 / LoadInt32 on workerCount,
     * activeWorkers, pendingJobs) and the corrected closed flag: each
     * operation is a scheduling decision when exploring and synchronises
     * for the race detector, as sync/atomic does in Go (race.h). */
    race_var_t a_workers, a_active, a_pending, a_closed;
    int32_t retire_pending;    /* corrected: scale-downs no idle worker took yet */
    int64_t rejected;          /* Submit calls that returned an error */
    int64_t buffer_high_water; /* max len(jobQueue) */
    int64_t started;           /* workers ever started (names them) */
    worker_pool_scale_event_t *events;
    size_t nevents, capevents;
    entity_t *entity;
    pattern_metric_t out[M_COUNT];
};

/* One worker goroutine's state (the closure of startWorker's go func()). */
typedef struct worker {
    obj_t hdr;                 /* scheduler-owned */
    worker_pool_t *p;
    ctx_t *ctx;
    entity_t *entity;
} worker_t;

worker_pool_options_t worker_pool_options_default(void)
{
    worker_pool_options_t o = {0};
    o.name = "pool";
    o.min_workers = 5;
    o.max_workers = 20;
    o.queue_size = 100;
    o.scale_interval = 500 * SIM_MS;
    o.scale_threshold = 0.7;
    o.scale_up_fraction = 0.25;
    o.scale_down_fraction = 0.15;
    o.failure_pct = 10;
    return o;
}

#define logf_(p, ...) pattern_logf((p)->opt.log, (p)->opt.log_ud, __VA_ARGS__)

static void publish(worker_pool_t *p)
{
    entity_t *e = p->entity;
    pattern_pub(e, "current_workers", p->worker_count);
    pattern_pub(e, "active_workers", p->active_workers);
    pattern_pub(e, "pending_jobs", p->pending_jobs);
    pattern_pub(e, "queue_depth", chan_len(p->job_queue));
    pattern_pub(e, "queue_high_water", p->metrics.queue_high_water);
    pattern_pub(e, "total_jobs", p->metrics.total_jobs);
    pattern_pub(e, "completed_jobs", p->metrics.completed_jobs);
    pattern_pub(e, "failed_jobs", p->metrics.failed_jobs);
    pattern_pub(e, "rejected_jobs", p->rejected);
    pattern_metric_set(&p->out[M_TOTAL_JOBS], p->metrics.total_jobs);
    pattern_metric_set(&p->out[M_COMPLETED_JOBS], p->metrics.completed_jobs);
    pattern_metric_set(&p->out[M_FAILED_JOBS], p->metrics.failed_jobs);
    pattern_metric_set(&p->out[M_REJECTED_JOBS], p->rejected);
    pattern_metric_set(&p->out[M_QUEUE_HIGH_WATER], p->metrics.queue_high_water);
    pattern_metric_set(&p->out[M_WORKERS], p->worker_count);
    pattern_metric_set(&p->out[M_ACTIVE_WORKERS], p->active_workers);
    pattern_metric_set(&p->out[M_PENDING_JOBS], p->pending_jobs);
    if (p->metrics.completed_jobs > 0)
        pattern_metric_set(&p->out[M_AVERAGE_LATENCY], p->metrics.total_latency / p->metrics.completed_jobs);
}

static void register_metrics(worker_pool_t *p)
{
    static const pattern_metric_def_t defs[M_COUNT] = {
        {METRICS_COUNTER, "adaptive_pool_total_jobs", "Jobs accepted by Submit", 1},
        {METRICS_COUNTER, "adaptive_pool_completed_jobs", "Jobs processed (failed ones included, as the seed counts)", 1},
        {METRICS_COUNTER, "adaptive_pool_failed_jobs", "Jobs that failed", 1},
        {METRICS_COUNTER, "adaptive_pool_rejected_jobs", "Submit calls that returned an error", 1},
        {METRICS_GAUGE, "adaptive_pool_queue_high_water", "Most jobs pending at once", 1},
        {METRICS_GAUGE, "adaptive_pool_workers", "Workers running (workerCount)", 1},
        {METRICS_GAUGE, "adaptive_pool_active_workers", "Workers processing a job (activeWorkers)", 1},
        {METRICS_GAUGE, "adaptive_pool_pending_jobs", "Jobs submitted and not yet started (pendingJobs)", 1},
        {METRICS_GAUGE, "adaptive_pool_average_latency_seconds", "totalLatency / completedJobs", 1e-9},
    };
    pattern_metrics_init(p->out, defs, M_COUNT, "pool", p->name);
}

static void pool_deinit(obj_t *o)
{
    worker_pool_t *p = (worker_pool_t *)o;
    free(p->events);
    p->events = NULL;
}

static void record_event(worker_pool_t *p, const worker_pool_scale_event_t *ev)
{
    if (p->nevents == p->capevents) {
        size_t cap = p->capevents ? p->capevents * 2 : 16;
        p->events = mem_realloc(p->events, cap * sizeof *p->events);
        p->capevents = cap;
    }
    p->events[p->nevents++] = *ev;
    sched_emit(EV_USER, entity_id(p->entity), (int64_t)ev->direction * ev->count, ev->delivered,
               "pool.scale");
}

static int max_int(int a, int b) { return a > b ? a : b; }

static void start_worker(worker_pool_t *p, ctx_t *ctx);
static void autoscaler(void *arg);

/* NewAdaptiveWorkerPool creates a new adaptive worker pool */
worker_pool_t *worker_pool_create(ctx_t *ctx, const worker_pool_options_t *opt)
{
    worker_pool_t *p = obj_alloc(sizeof *p, OBJ_NONE, pool_deinit);
    p->opt = opt ? *opt : worker_pool_options_default();
    if (!p->opt.name)
        p->opt.name = "pool";
    p->name = sched_intern(sched_current(), p->opt.name);
    p->opt.name = p->name;
    obj_set_name(p, p->name);
    p->job_queue = chan_make(sizeof(worker_pool_job_t), p->opt.queue_size);
    p->result_queue = chan_make(sizeof(worker_pool_result_t), p->opt.queue_size);
    obj_set_name(p->job_queue, "jobQueue");
    obj_set_name(p->result_queue, "resultQueue");
    p->min_workers = p->opt.min_workers;
    p->max_workers = p->opt.max_workers;
    p->worker_count = 0;
    p->active_workers = 0;
    p->pending_jobs = 0;
    p->a_workers.name = "workerCount";
    p->a_active.name = "activeWorkers";
    p->a_pending.name = "pendingJobs";
    p->a_closed.name = "closed";
    p->mu = mutex_new();
    p->stop_ch = chan_make(0, 0);
    obj_set_name(p->stop_ch, "stopCh");
    p->worker_wg = waitgroup_new();
    p->scale_interval = p->opt.scale_interval;
    p->scale_threshold = p->opt.scale_threshold; // Scale up when 70% of workers are busy
    p->ctx = ctx;
    p->entity = entity_new("pool", p->name, NULL);
    entity_set(p->entity, "queue_capacity", p->opt.queue_size);
    entity_set(p->entity, "min_workers", p->min_workers);
    entity_set(p->entity, "max_workers", p->max_workers);
    entity_set_state(p->entity, "running");
    register_metrics(p);

    // Start the minimum number of workers
    for (int i = 0; i < p->opt.min_workers; i++)
        start_worker(p, ctx);

    // Start the autoscaler
    char name[96];
    snprintf(name, sizeof name, "%s.autoscaler", p->name);
    g_t *g = go_spawn(autoscaler, p, name);
    go_set_role(g, "autoscaler");
    publish(p);
    return p;
}

void worker_pool_destroy(worker_pool_t *x)
{
    if (!x)
        return;
    chan_free(x->job_queue);
    chan_free(x->result_queue);
    chan_free(x->stop_ch);
    mutex_free(x->mu);
    waitgroup_free(x->worker_wg);
    obj_free(x);
}

static void set_worker_state(worker_t *w, const char *state)
{
    entity_set_state(w->entity, state);
}

/* The body of startWorker's goroutine. */
static void worker(void *arg)
{
    worker_t *w = arg;
    worker_pool_t *p = w->p;
    bool seed = p->opt.seed_variant;
    bool active = false;
    entity_set_goroutine(w->entity, go_id(go_self()));
    set_worker_state(w, "idle");

    for (;;) {
        worker_pool_job_t job;
        select_case_t cases[3] = {
            {.ch = p->job_queue, .dir = SELECT_RECV, .elem = &job},
            {.ch = p->stop_ch, .dir = SELECT_RECV},
            {.ch = ctx_done(w->ctx), .dir = SELECT_RECV},
        };
        int fired = chan_select(cases, 3, false);
        if (fired != 0)
            goto out; // case <-p.stopCh: return / case <-ctx.Done(): return
        if (!cases[0].ok)
            goto out; // Channel closed

        // Mark worker as active
        atomic_op(&p->a_active, RACE_RMW);
        p->active_workers++;
        atomic_op(&p->a_pending, RACE_RMW);
        p->pending_jobs--;
        active = true;
        set_worker_state(w, "busy");
        publish(p);

        // Process the job
        simtime_t start_time = sched_now();
        worker_pool_result_t result;

        // Simulate processing with potential failures
        go_sleep(job.duration);

        if (pattern_chance_pct(p->opt.failure_pct)) { // 10% failure rate
            result.job_id = job.id;
            result.err = go_errorf("processing error on job %lld", (long long)job.id);
            result.latency = sched_now() - start_time;
            p->metrics.failed_jobs++;
        } else {
            result.job_id = job.id;
            result.err = NULL; /* Output: "Processed result for job N" */
            result.latency = sched_now() - start_time;
        }

        // Update metrics
        p->metrics.completed_jobs++;
        p->metrics.total_latency += result.latency;
        publish(p);

        // Send the result
        select_case_t send[2] = {
            {.ch = p->result_queue, .dir = SELECT_SEND, .elem = &result},
            {.ch = ctx_done(w->ctx), .dir = SELECT_RECV},
        };
        if (chan_select(send, 2, false) == 1)
            goto out; /* the seed returns with activeWorkers still counting it */

        // Mark worker as inactive
        atomic_op(&p->a_active, RACE_RMW);
        p->active_workers--;
        active = false;
        set_worker_state(w, "idle");
        publish(p);

        /* corrected: a scale-down decided while this worker was busy */
        if (!seed && p->retire_pending > 0) {
            p->retire_pending--;
            goto out;
        }
    }
out:
    if (active && !seed) {
        atomic_op(&p->a_active, RACE_RMW);
        p->active_workers--; /* corrected: every exit path */
    }
    atomic_op(&p->a_workers, RACE_RMW);
    p->worker_count--;       // defer atomic.AddInt32(&p.workerCount, -1)
    set_worker_state(w, "exited");
    publish(p);
    waitgroup_done(p->worker_wg); // defer p.workerWg.Done()
}

/* startWorker launches a new worker goroutine */
static void start_worker(worker_pool_t *p, ctx_t *ctx)
{
    waitgroup_add(p->worker_wg, 1);
    atomic_op(&p->a_workers, RACE_RMW);
    p->worker_count++;

    worker_t *w = obj_alloc(sizeof *w, OBJ_NONE, NULL);
    w->p = p;
    w->ctx = ctx;
    char name[96];
    snprintf(name, sizeof name, "%s.worker-%lld", p->name, (long long)++p->started);
    w->entity = entity_new("worker", name, p->entity);
    g_t *g = go_spawn(worker, w, name);
    go_set_role(g, "worker");
}

/* adjustWorkerCount scales the worker pool up or down based on current load */
static void adjust_worker_count(worker_pool_t *p, ctx_t *ctx)
{
    bool seed = p->opt.seed_variant;
    if (!seed) {
        atomic_op(&p->a_closed, RACE_LOAD);
        if (p->closed)
            return; /* corrected: no scaling once Shutdown began */
    }
    atomic_op(&p->a_workers, RACE_LOAD);
    int32_t current_workers = p->worker_count;
    if (!seed)
        current_workers -= p->retire_pending; /* corrected: those are leaving */
    atomic_op(&p->a_active, RACE_LOAD);
    int32_t active_workers = p->active_workers;
    atomic_op(&p->a_pending, RACE_LOAD);
    int32_t pending_jobs = p->pending_jobs;

    // Calculate utilization
    double utilization = 0;
    if (current_workers > 0)
        utilization = (double)active_workers / (double)current_workers;

    // Scale up if utilization is high and there are pending jobs
    if (utilization >= p->scale_threshold && pending_jobs > 0 && current_workers < p->max_workers) {
        // Calculate how many workers to add (up to 25% more, at least 1)
        int to_add = max_int(1, (int)((double)current_workers * p->opt.scale_up_fraction));

        // Don't exceed max workers
        if (current_workers + to_add > p->max_workers)
            to_add = p->max_workers - current_workers;

        logf_(p, "Scaling up: Adding %d workers (utilization: %.2f, pending: %d)", to_add,
              utilization, (int)pending_jobs);
        worker_pool_scale_event_t ev = {sched_now(), +1, to_add, to_add, current_workers, active_workers,
                                 pending_jobs, utilization};
        record_event(p, &ev);

        for (int i = 0; i < to_add; i++)
            start_worker(p, ctx);
    }

    // Scale down if utilization is low and we have more than minimum workers
    if (utilization < p->scale_threshold * 0.5 && current_workers > p->min_workers && pending_jobs == 0) {
        // Calculate how many workers to remove (up to 15% fewer, at least 1)
        int to_remove = max_int(1, (int)((double)current_workers * p->opt.scale_down_fraction));

        // Don't go below min workers
        if (current_workers - to_remove < p->min_workers)
            to_remove = current_workers - p->min_workers;

        logf_(p, "Scaling down: Removing %d workers (utilization: %.2f)", to_remove, utilization);

        // Signal workers to stop
        int delivered = 0;
        /* corrected: the signals are sent under mu while the pool is not
         * closed; Shutdown marks it closed under mu before it closes
         * stopCh, so no signal can meet the close (the seed's can: a
         * send on a closed channel when Shutdown runs between the loads
         * above and the send). */
        if (!seed) {
            mutex_lock(p->mu);
            atomic_op(&p->a_closed, RACE_LOAD);
            if (p->closed)
                to_remove = 0;
        }
        for (int i = 0; i < to_remove; i++) {
            char signal = 0; /* struct{}{} */
            if (chan_try_send(p->stop_ch, &signal))
                delivered++;
            else if (!seed)
                p->retire_pending++; /* corrected: the next worker to finish a job leaves */
            /* seed: default: "If channel is full, we've already signaled
             * enough workers" -- break only leaves the select; the signal
             * is lost */
        }
        if (!seed)
            mutex_unlock(p->mu);
        worker_pool_scale_event_t ev = {sched_now(), -1, to_remove, delivered, current_workers,
                                 active_workers, pending_jobs, utilization};
        record_event(p, &ev);
    }
    publish(p);
}

/* autoscaler adjusts the number of workers based on load */
static void autoscaler(void *arg)
{
    worker_pool_t *p = arg;
    ctx_t *ctx = p->ctx;
    sim_timer_t *ticker = ticker_new(p->scale_interval);

    for (;;) {
        select_case_t cases[3] = {
            {.ch = timer_chan(ticker), .dir = SELECT_RECV},
            {.ch = p->stop_ch, .dir = SELECT_RECV},
            {.ch = ctx_done(ctx), .dir = SELECT_RECV},
        };
        if (chan_select(cases, 3, false) != 0)
            break;
        adjust_worker_count(p, ctx);
    }
    ticker_stop(ticker); // defer ticker.Stop()
}

/* Submit adds a job to the pool */
const go_error_t *worker_pool_submit(worker_pool_t *p, ctx_t *ctx, worker_pool_job_t job)
{
    bool seed = p->opt.seed_variant;
    if (!seed) {
        /* corrected: refuse after Shutdown instead of sending on a closed
         * channel, and count the job pending before a worker can take it */
        mutex_lock(p->mu);
        if (p->closed) {
            mutex_unlock(p->mu);
            p->rejected++;
            publish(p);
            return &WORKER_POOL_ERR_SHUT_DOWN;
        }
        atomic_op(&p->a_pending, RACE_RMW);
        p->pending_jobs++;
    }
    select_case_t cases[2] = {
        {.ch = p->job_queue, .dir = SELECT_SEND, .elem = &job},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    int fired = chan_select(cases, 2, true);
    const go_error_t *err = NULL;
    if (fired == 0) {
        p->metrics.total_jobs++;
        if (seed) {
            atomic_op(&p->a_pending, RACE_RMW);
            p->pending_jobs++;
        }

        // Update high water mark for queue
        atomic_op(&p->a_pending, RACE_LOAD);
        int32_t pending = p->pending_jobs;
        if (pending > p->metrics.queue_high_water)
            p->metrics.queue_high_water = pending;
        if (chan_len(p->job_queue) > p->buffer_high_water)
            p->buffer_high_water = chan_len(p->job_queue);
    } else {
        if (!seed) {
            atomic_op(&p->a_pending, RACE_RMW);
            p->pending_jobs--;
        }
        p->rejected++;
        err = fired == 1 ? ctx_err(ctx) : &WORKER_POOL_ERR_JOB_QUEUE_FULL;
    }
    if (!seed)
        mutex_unlock(p->mu);
    publish(p);
    return err;
}

/* Results returns the channel for receiving results */
chan_t *worker_pool_results(worker_pool_t *p) { return p->result_queue; }

/* Shutdown gracefully shuts down the worker pool */
void worker_pool_shutdown(worker_pool_t *p)
{
    if (!p->opt.seed_variant) {
        mutex_lock(p->mu);
        atomic_op(&p->a_closed, RACE_STORE);
        p->closed = true;
        mutex_unlock(p->mu);
    }
    entity_set_state(p->entity, "shutting down");
    chan_close(p->job_queue);
    waitgroup_wait(p->worker_wg);
    chan_close(p->result_queue);
    chan_close(p->stop_ch);
    entity_set_state(p->entity, "stopped");
    publish(p);
}

/* GetMetrics returns the current pool metrics */
worker_pool_metrics_t worker_pool_get_metrics(worker_pool_t *p)
{
    int64_t completed = p->metrics.completed_jobs;
    worker_pool_metrics_t metrics = {
        .total_jobs = p->metrics.total_jobs,
        .completed_jobs = completed,
        .failed_jobs = p->metrics.failed_jobs,
        .queue_high_water = p->metrics.queue_high_water,
    };

    // Calculate average latency
    if (completed > 0)
        metrics.total_latency = p->metrics.total_latency / completed;

    return metrics;
}

int32_t worker_pool_worker_count(const worker_pool_t *p) { return p->worker_count; }
int32_t worker_pool_active_workers(const worker_pool_t *p) { return p->active_workers; }
int32_t worker_pool_pending_jobs(const worker_pool_t *p) { return p->pending_jobs; }
int64_t worker_pool_queue_depth(const worker_pool_t *p) { return chan_len(p->job_queue); }
int64_t worker_pool_rejected_jobs(const worker_pool_t *p) { return p->rejected; }
int64_t worker_pool_buffer_high_water(const worker_pool_t *p) { return p->buffer_high_water; }
int64_t worker_pool_workers_started(const worker_pool_t *p) { return p->started; }
entity_t *worker_pool_entity(const worker_pool_t *p) { return p->entity; }
const worker_pool_options_t *worker_pool_options(const worker_pool_t *p) { return &p->opt; }

const worker_pool_scale_event_t *worker_pool_scale_events(const worker_pool_t *p, size_t *n)
{
    *n = p->nevents;
    return p->events;
}
