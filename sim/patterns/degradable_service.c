/*
 * degradable_service: the seed's DegradableService, the BoundedExecutor as
 * the service uses it, and SimulateLoad, function for function, on
 * simulated time. See degradable_service.h for the model of the measured
 * figures, the seed's bugs and their corrections.
 */
#include "degradable_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "mem.h"
#include "metrics.h"
#include "pattern.h"
#include "race.h"
#include "sync.h"
#include "timer.h"

static const char *const feature_names[FEATURE_COUNT] = {"analytics", "notifications",
                                                         "recommendations", "fullHistory"};

const char *degradable_service_feature_string(degradable_service_feature_t f)
{
    return (unsigned)f < FEATURE_COUNT ? feature_names[f] : "?";
}

static void metric_set(metrics_series_t *m, int64_t v)
{
    if (m)
        metrics_set(m, (double)v);
}

/* ---- BoundedExecutor ---------------------------------------------------- */

/* A goroutine waiting for a slot: the releaser grants it one (counted in
 * in_flight on its behalf) and wakes it through its channel. */
typedef struct exec_waiter {
    struct exec_waiter *prev, *next; /* FIFO links */
    chan_t *grant;                   /* capacity 1; a value means "your slot" */
    bool granted;                    /* a slot was counted for this waiter */
} exec_waiter_t;

/* The service's metrics in the run's registry (the seed has none for this
 * pattern; the names say what they are). */
enum {
    DM_LEVEL,
    DM_LOAD,
    DM_CHANGES,
    DM_REQUESTS,
    DM_IN_FLIGHT,
    DM_EXECUTING,
    DM_CAPACITY,
    DM_COUNT
};

typedef struct bounded_executor {
    obj_t hdr;                  /* scheduler-owned */
    degradable_service_t *svc;  /* whose concurrency figures it keeps */
    int max_concurrent;         /* cap(semaphore) */
    simtime_t timeout;          /* timeout */
    int in_flight;              /* len(semaphore): slots held */
    exec_waiter_t *head, *tail; /* senders blocked on the semaphore, FIFO */
    int64_t waiting;            /* their number */
    entity_t *entity;           /* fields: capacity, in_flight, waiting */
} bounded_executor_t;

struct degradable_service {
    obj_t hdr;                                 /* scheduler-owned */
    degradable_service_config_t cfg;           /* parameters, copied */
    load_manager_t *load_manager;              /* loadManager */
    bounded_executor_t *worker_pool;           /* workerPool */
    bool cache_enabled;                        /* cacheEnabled (the seed never reads it) */
    bool retry_enabled;                        /* retryEnabled */
    bool feature_flags[FEATURE_COUNT];         /* featureFlags */
    /* What the seed's goroutines share without a lock (race.h): the
     * rules write featureFlags, retryEnabled and workerPool while requests
     * read them. The corrected service keeps its one executor and keeps
     * its flags as atomics (Go's atomic.Bool): never a race. */
    race_var_t flags_var, retry_var, pool_var;
    int64_t request_counter;                   /* requestCounter: arrivals in the window */
    int64_t error_counter;                     /* errorCounter: the seed's error count in the window */
    int64_t completed_counter;                 /* corrected: requests finished in the window */
    int64_t failed_counter;                    /* corrected: of which failed */
    int64_t in_flight;                         /* requests inside handle_request */
    int64_t executing;                         /* requests holding a slot, all executors */
    simtime_t window_start;                    /* start of the metrics window */
    simtime_t busy_at_window_start;            /* cpu_busy_ns then */
    int64_t current_rate;                      /* the load generator's rate now */
    degradable_service_stats_t st;             /* running totals */
    degradable_service_load_update_t *updates; /* malloc'd history */
    size_t nupdates, capupdates;
    entity_t *entity;                                /* flags, retry, in_flight */
    metrics_family_t *fam[DM_COUNT];                 /* degradation_* families, NULL outside a run */
    metrics_series_t *level_gauge;                   /* degradation_service_level{service} */
    metrics_series_t *load_gauge[LOAD_METRIC_COUNT]; /* degradation_load{service,metric} */
    metrics_series_t *in_flight_gauge;               /* degradation_in_flight_requests{service} */
    metrics_series_t *executing_gauge;               /* degradation_executor_in_flight{service} */
    metrics_series_t *capacity_gauge;                /* degradation_executor_capacity{service} */
    size_t changes_seen;                             /* level changes already counted */
};

static void executor_publish(bounded_executor_t *e)
{
    entity_set(e->entity, "in_flight", e->in_flight);
    entity_set(e->entity, "waiting", e->waiting);
}

/* NewBoundedExecutor(maxConcurrent, timeout). */
static bounded_executor_t *new_bounded_executor(degradable_service_t *svc, int max_concurrent,
                                                simtime_t timeout)
{
    bounded_executor_t *e = obj_alloc(sizeof *e, OBJ_NONE, NULL);
    e->svc = svc;
    e->max_concurrent = max_concurrent;
    e->timeout = timeout;
    char name[48];
    svc->st.executors_created++;
    if (svc->st.executors_created == 1)
        snprintf(name, sizeof name, "workerPool");
    else
        snprintf(name, sizeof name, "workerPool#%d", svc->st.executors_created);
    obj_set_name(e, name);
    e->entity = entity_new("executor", name, svc->entity);
    entity_set_state(e->entity, "active");
    entity_set(e->entity, "capacity", max_concurrent);
    executor_publish(e);
    return e;
}

/* A slot is taken (at once or granted to a waiter): the service's
 * concurrency figures, and whether the bound in force was exceeded. */
static void slot_taken(bounded_executor_t *e)
{
    degradable_service_t *s = e->svc;
    s->executing++;
    if (s->executing > s->st.executing_max)
        s->st.executing_max = s->executing;
    if (s->executing > s->worker_pool->max_concurrent)
        s->st.admissions_over_bound++;
    metric_set(s->executing_gauge, s->executing);
}

/* Hand free slots to the waiters in order. */
static void executor_admit(bounded_executor_t *e)
{
    while (e->head && e->in_flight < e->max_concurrent) {
        exec_waiter_t *w = e->head;
        e->head = w->next;
        if (e->head)
            e->head->prev = NULL;
        else
            e->tail = NULL;
        w->next = w->prev = NULL;
        e->waiting--;
        e->in_flight++;
        w->granted = true;
        slot_taken(e);
        chan_try_send(w->grant, NULL);
    }
    executor_publish(e);
}

/* <-e.semaphore */
static void executor_release(bounded_executor_t *e)
{
    e->in_flight--;
    e->svc->executing--;
    metric_set(e->svc->executing_gauge, e->svc->executing);
    executor_admit(e);
}

/* The corrected rules' resize: a new bound and timeout for the same
 * executor; a larger bound admits waiters at once, a smaller one admits
 * nobody until the running requests fall below it. */
static void executor_resize(bounded_executor_t *e, int max_concurrent, simtime_t timeout)
{
    e->max_concurrent = max_concurrent;
    e->timeout = timeout;
    entity_set(e->entity, "capacity", max_concurrent);
    executor_admit(e);
}

static const go_error_t ERR_REJECTED_DEADLINE = {"operation rejected: context deadline exceeded"};
static const go_error_t ERR_REJECTED_CANCELED = {"operation rejected: context canceled"};
static const go_error_t ERR_PROCESSING = {"processing error"};
static const go_error_t ERR_RETRY = {"retry failed"};

static const go_error_t *rejected(const go_error_t *ctx_err)
{
    return ctx_err == &GO_ERR_CANCELED ? &ERR_REJECTED_CANCELED : &ERR_REJECTED_DEADLINE;
}

/* The first half of Execute: execCtx := WithTimeout(ctx, e.timeout), then
 * select { case e.semaphore <- struct{}{}: case <-execCtx.Done(): }.
 * execCtx is a timer and ctx's Done here, which is the same select
 * without a context object per request. NULL: a slot is held. */
static const go_error_t *executor_acquire(bounded_executor_t *e, ctx_t *ctx)
{
    const go_error_t *cerr = ctx_err(ctx);
    if (e->in_flight < e->max_concurrent && !e->head) {
        /* Both cases ready: Go's select picks one at random. */
        if (cerr && sched_decide(sched_current(), CHOICE_SELECT, 2) == 1)
            return rejected(cerr);
        e->in_flight++;
        slot_taken(e);
        executor_publish(e);
        return NULL;
    }
    if (cerr)
        return rejected(cerr);
    exec_waiter_t w = {.grant = chan_make(0, 1)};
    w.prev = e->tail;
    if (e->tail)
        e->tail->next = &w;
    else
        e->head = &w;
    e->tail = &w;
    e->waiting++;
    executor_publish(e);
    sim_timer_t *t = timer_new(e->timeout);
    select_case_t cases[3] = {
        {.ch = w.grant, .dir = SELECT_RECV},
        {.ch = timer_chan(t), .dir = SELECT_RECV},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    int fired = chan_select(cases, 3, false);
    timer_free(t);
    const go_error_t *err = NULL;
    if (fired != 0) {
        if (w.granted) {
            /* Granted at the instant the deadline struck and the select
             * took the deadline: Go's send did not happen; pass it on. */
            executor_release(e);
        } else {
            if (w.prev)
                w.prev->next = w.next;
            else
                e->head = w.next;
            if (w.next)
                w.next->prev = w.prev;
            else
                e->tail = w.prev;
            e->waiting--;
            executor_publish(e);
        }
        err = fired == 2 ? rejected(ctx_err(ctx)) : &ERR_REJECTED_DEADLINE;
        /* Granted, the grant not sent yet: the releaser stopped at the
         * send's decision point in executor_admit (exploring strategies)
         * and sends on this channel when it resumes, after this frame is
         * gone. The channel stays; the run frees it with its objects. */
        if (w.granted && chan_len(w.grant) == 0)
            return err;
    }
    chan_free(w.grant);
    return err;
}

/* ---- DegradableService -------------------------------------------------- */

/* Register the service's families on the run's registry (none outside a
 * run) and make the series of this service. Several services of one name
 * share their series. */
static void register_metrics(degradable_service_t *s)
{
    metrics_registry_t *reg = metrics_current();
    if (!reg)
        return;
    static const char *const l_svc[] = {"service"};
    static const char *const l_load[] = {"service", "metric"};
    static const char *const l_chg[] = {"service", "from", "to"};
    static const char *const l_req[] = {"service", "level", "outcome"};
    static const struct {
        metrics_type_t type;
        metrics_opts_t opts;
    } defs[DM_COUNT] = {
        [DM_LEVEL] = {METRICS_GAUGE, {"degradation_service_level",
                      "Service level: 0 Full, 1 Reduced, 2 Minimal, 3 Emergency (the seed's iota)", l_svc, 1}},
        [DM_LOAD] = {METRICS_GAUGE, {"degradation_load",
                     "The load manager's last figures: cpu, memory and errorRate in percent, requestRate per second",
                     l_load, 2}},
        [DM_CHANGES] = {METRICS_COUNTER, {"degradation_level_changes_total", "Service level changes", l_chg, 3}},
        [DM_REQUESTS] = {METRICS_COUNTER, {"degradation_requests_total",
                         "Requests by the level they started at and their outcome (success, rejected, error)",
                         l_req, 3}},
        [DM_IN_FLIGHT] = {METRICS_GAUGE, {"degradation_in_flight_requests",
                          "Requests inside HandleRequest, waiting for a slot or running (the memory model's input)",
                          l_svc, 1}},
        [DM_EXECUTING] = {METRICS_GAUGE, {"degradation_executor_in_flight",
                          "Requests holding an executor slot, in all executors", l_svc, 1}},
        [DM_CAPACITY] = {METRICS_GAUGE, {"degradation_executor_capacity",
                         "The bound of the current executor", l_svc, 1}},
    };
    for (int i = 0; i < DM_COUNT; i++) {
        s->fam[i] = metrics_register(reg, defs[i].type, &defs[i].opts, NULL);
        if (!s->fam[i])
            go_panic("DegradableService: %s", metrics_last_error(reg));
    }
    const char *n = s->cfg.name;
    s->level_gauge = metrics_withv(s->fam[DM_LEVEL], n, NULL);
    for (int m = 0; m < LOAD_METRIC_COUNT; m++)
        s->load_gauge[m] = metrics_withv(s->fam[DM_LOAD], n, load_manager_metric_string(m), NULL);
    s->in_flight_gauge = metrics_withv(s->fam[DM_IN_FLIGHT], n, NULL);
    s->executing_gauge = metrics_withv(s->fam[DM_EXECUTING], n, NULL);
    s->capacity_gauge = metrics_withv(s->fam[DM_CAPACITY], n, NULL);
    metric_set(s->level_gauge, FULL_SERVICE);
    metric_set(s->capacity_gauge, s->cfg.pool_size[FULL_SERVICE]);
}

/* The load manager's changes since the last look, into the counters. */
static void count_changes(degradable_service_t *s)
{
    const load_manager_level_change_t *list;
    size_t n = load_manager_changes(s->load_manager, &list);
    for (; s->changes_seen < n; s->changes_seen++) {
        const load_manager_level_change_t *c = &list[s->changes_seen];
        if (s->fam[DM_CHANGES])
            metrics_inc(metrics_withv(s->fam[DM_CHANGES], s->cfg.name, load_manager_level_string(c->from),
                                      load_manager_level_string(c->to), NULL));
    }
}

degradable_service_config_t degradable_service_config_default(void)
{
    return (degradable_service_config_t){
        .name = "DegradableService",
        .seed_variant = false,
        .cpu = NULL,
        .cpu_pct = 25,
        .request_bytes = 512 * 1024,
        .memory_budget_bytes = 512ll * 1024 * 1024,
        .failure_pct = 5,
        .request_timeout = 2 * SIM_SEC,
        .update_interval = SIM_SEC,
        .base_rate = 50,
        .peak_rate = 2000,
        .pool_size = {20, 15, 10, 5},
        .pool_timeout = {1 * SIM_SEC, 800 * SIM_MS, 500 * SIM_MS, 300 * SIM_MS},
        .down_pct = 0,
        .min_dwell = 0,
    };
}

static void service_deinit(obj_t *o)
{
    free(((degradable_service_t *)o)->updates);
}

static void publish_flags(degradable_service_t *s)
{
    for (int f = 0; f < FEATURE_COUNT; f++)
        entity_set(s->entity, feature_names[f], s->feature_flags[f]);
    entity_set(s->entity, "retry", s->retry_enabled);
}

static void log_line(const char *line)
{
    sched_emit(EV_LOG, 0, 0, 0, line);
}

/* The seed's three rules: each switches features off and replaces the
 * executor (the old one keeps the slots its requests hold). */
/* A rule writes a flag: a plain write in the seed, an atomic store in the
 * corrected service. */
static void flag_written(degradable_service_t *s, race_var_t *v)
{
    if (s->cfg.seed_variant) {
        shared_write(v);
    } else {
        sched_point_named(v->name);
        race_atomic(v, RACE_STORE);
    }
}

/* A request reads a flag. */
static void flag_read(degradable_service_t *s, race_var_t *v)
{
    if (s->cfg.seed_variant) {
        shared_read(v);
    } else {
        sched_point_named(v->name);
        race_atomic(v, RACE_LOAD);
    }
}

static void rule_reduced_seed(void *ud)
{
    degradable_service_t *service = ud;
    log_line("Applying REDUCED service level: disabling analytics, reducing worker pool to 15");
    flag_written(service, &service->flags_var);
    service->feature_flags[FEATURE_ANALYTICS] = false;
    shared_write(&service->pool_var);
    service->worker_pool = new_bounded_executor(service, service->cfg.pool_size[REDUCED_SERVICE],
                                                service->cfg.pool_timeout[REDUCED_SERVICE]);
    publish_flags(service);
}

static void rule_minimal_seed(void *ud)
{
    degradable_service_t *service = ud;
    log_line("Applying MINIMAL service level: disabling recommendations and notifications, "
             "reducing worker pool to 10, shortening timeouts");
    flag_written(service, &service->flags_var);
    service->feature_flags[FEATURE_RECOMMENDATIONS] = false;
    service->feature_flags[FEATURE_NOTIFICATIONS] = false;
    shared_write(&service->pool_var);
    service->worker_pool = new_bounded_executor(service, service->cfg.pool_size[MINIMAL_SERVICE],
                                                service->cfg.pool_timeout[MINIMAL_SERVICE]);
    publish_flags(service);
}

static void rule_emergency_seed(void *ud)
{
    degradable_service_t *service = ud;
    log_line("Applying EMERGENCY service level: disabling full history and retries, "
             "reducing worker pool to 5, shortening timeouts further");
    flag_written(service, &service->flags_var);
    service->feature_flags[FEATURE_FULL_HISTORY] = false;
    flag_written(service, &service->retry_var);
    service->retry_enabled = false;
    shared_write(&service->pool_var);
    service->worker_pool = new_bounded_executor(service, service->cfg.pool_size[EMERGENCY_SERVICE],
                                                service->cfg.pool_timeout[EMERGENCY_SERVICE]);
    publish_flags(service);
}

/* The corrected rules: each level's whole configuration, Full included,
 * on the one executor. */
static void apply_level(degradable_service_t *s, load_manager_level_t level)
{
    char line[160];
    snprintf(line, sizeof line, "Applying %s service level: worker pool %d, timeout %lldms",
             load_manager_level_string(level), s->cfg.pool_size[level],
             (long long)(s->cfg.pool_timeout[level] / SIM_MS));
    log_line(line);
    flag_written(s, &s->flags_var);
    flag_written(s, &s->retry_var);
    s->feature_flags[FEATURE_ANALYTICS] = level < REDUCED_SERVICE;
    s->feature_flags[FEATURE_RECOMMENDATIONS] = level < MINIMAL_SERVICE;
    s->feature_flags[FEATURE_NOTIFICATIONS] = level < MINIMAL_SERVICE;
    s->feature_flags[FEATURE_FULL_HISTORY] = level < EMERGENCY_SERVICE;
    s->retry_enabled = level < EMERGENCY_SERVICE;
    executor_resize(s->worker_pool, s->cfg.pool_size[level], s->cfg.pool_timeout[level]);
    publish_flags(s);
}

static void rule_full(void *ud) { apply_level(ud, FULL_SERVICE); }
static void rule_reduced(void *ud) { apply_level(ud, REDUCED_SERVICE); }
static void rule_minimal(void *ud) { apply_level(ud, MINIMAL_SERVICE); }
static void rule_emergency(void *ud) { apply_level(ud, EMERGENCY_SERVICE); }

degradable_service_t *degradable_service_create(const degradable_service_config_t *cfg)
{
    degradable_service_t *service = obj_alloc(sizeof *service, OBJ_NONE, service_deinit);
    obj_set_name(service, "DegradableService");
    service->cfg = cfg ? *cfg : degradable_service_config_default();
    service->cfg.name = sched_intern(sched_current(), service->cfg.name ? service->cfg.name : "DegradableService");
    service->entity = entity_new("service", service->cfg.name, NULL);
    entity_set_state(service->entity, !service->cfg.seed_variant ? "corrected"
                                      : service->cfg.inputs == DEGRADATION_INPUTS_SEED ? "seed"
                                                                                        : "seed_measured");
    service->flags_var.name = "featureFlags";
    service->retry_var.name = "retryEnabled";
    service->pool_var.name = "workerPool";
    service->load_manager = load_manager_create();
    load_manager_set_hysteresis(service->load_manager, service->cfg.down_pct,
                                service->cfg.min_dwell);
    service->worker_pool = new_bounded_executor(service, service->cfg.pool_size[FULL_SERVICE],
                                                service->cfg.pool_timeout[FULL_SERVICE]);
    service->cache_enabled = true;
    service->retry_enabled = true;
    for (int f = 0; f < FEATURE_COUNT; f++)
        service->feature_flags[f] = true;
    publish_flags(service);
    entity_set(service->entity, "in_flight", 0);
    /* Configure degradation rules */
    load_manager_t *lm = service->load_manager;
    if (service->cfg.seed_variant) {
        load_manager_set_degradation_rule(lm, REDUCED_SERVICE, rule_reduced_seed, service);
        load_manager_set_degradation_rule(lm, MINIMAL_SERVICE, rule_minimal_seed, service);
        load_manager_set_degradation_rule(lm, EMERGENCY_SERVICE, rule_emergency_seed, service);
    } else {
        load_manager_set_degradation_rule(lm, FULL_SERVICE, rule_full, service);
        load_manager_set_degradation_rule(lm, REDUCED_SERVICE, rule_reduced, service);
        load_manager_set_degradation_rule(lm, MINIMAL_SERVICE, rule_minimal, service);
        load_manager_set_degradation_rule(lm, EMERGENCY_SERVICE, rule_emergency, service);
    }
    register_metrics(service);
    service->window_start = sched_now();
    service->busy_at_window_start = cpu_busy_ns(service->cfg.cpu);
    return service;
}

void degradable_service_destroy(degradable_service_t *x)
{
    if (!x)
        return;
    load_manager_destroy(x->load_manager);
    obj_free(x->worker_pool);
    obj_free(x);
}

load_manager_t *degradable_service_load_manager(degradable_service_t *s) { return s->load_manager; }

/* One of the seed's time.Sleep calls: cpu_pct percent of it on a CPU
 * (queueing when all are busy), the rest waiting. */
static void process_step(degradable_service_t *s, simtime_t d)
{
    if (s->cfg.inputs == DEGRADATION_INPUTS_SEED) {
        go_sleep(d); /* the seed's time.Sleep: no CPU */
        return;
    }
    simtime_t cpu = d * s->cfg.cpu_pct / 100;
    cpu_work(s->cfg.cpu, cpu);
    go_sleep(d - cpu);
}

typedef enum job { JOB_REQUEST, JOB_RETRY } job_t;

/* workerPool.Execute(ctx, func() ...) with the seed's two closures: the
 * request's processing for its level, or the retry's 50ms. */
static const go_error_t *execute(degradable_service_t *s, bounded_executor_t *e, ctx_t *ctx,
                                 job_t job, load_manager_level_t level)
{
    const go_error_t *err = executor_acquire(e, ctx);
    if (err)
        return err;
    if (job == JOB_REQUEST) {
        /* Simulate processing based on service level */
        switch (level) {
        case FULL_SERVICE:
            process_step(s, 100 * SIM_MS); /* Full processing */
            flag_read(s, &s->flags_var);
            if (s->feature_flags[FEATURE_ANALYTICS])
                process_step(s, 50 * SIM_MS); /* Do analytics processing */
            flag_read(s, &s->flags_var);
            if (s->feature_flags[FEATURE_RECOMMENDATIONS])
                process_step(s, 50 * SIM_MS); /* Generate recommendations */
            break;
        case REDUCED_SERVICE:
            process_step(s, 80 * SIM_MS); /* Skip some processing */
            break;
        case MINIMAL_SERVICE:
            process_step(s, 50 * SIM_MS); /* Minimal processing */
            break;
        default:
            process_step(s, 30 * SIM_MS); /* Critical path only */
            break;
        }
    } else {
        process_step(s, 50 * SIM_MS);
    }
    /* Simulate occasional failures */
    if (pattern_chance_pct(s->cfg.failure_pct)) {
        s->error_counter++; /* atomic.AddInt64(&s.errorCounter, 1) */
        s->st.error_counter_total++;
        s->st.processing_errors++;
        err = job == JOB_REQUEST ? &ERR_PROCESSING : &ERR_RETRY;
    }
    executor_release(e); /* defer func() { <-e.semaphore }() */
    return err;
}

static bool is_rejection(const go_error_t *err)
{
    return err == &ERR_REJECTED_DEADLINE || err == &ERR_REJECTED_CANCELED;
}

const go_error_t *degradable_service_handle_request(degradable_service_t *s, ctx_t *ctx,
                                                    const char *request_id)
{
    (void)request_id; /* the seed only formats it into its result */
    simtime_t t0 = sched_now();
    /* Increment request counter */
    s->request_counter++;
    s->st.requests++;
    s->in_flight++;
    if (s->in_flight > s->st.in_flight_max)
        s->st.in_flight_max = s->in_flight;
    entity_set(s->entity, "in_flight", s->in_flight);
    metric_set(s->in_flight_gauge, s->in_flight);
    /* Get current service level */
    load_manager_level_t level = load_manager_get_current_level(s->load_manager);
    s->st.by_level[level]++;
    /* Execute with bounded concurrency */
    shared_read(&s->pool_var);
    const go_error_t *err = execute(s, s->worker_pool, ctx, JOB_REQUEST, level);
    if (err) {
        /* Handle error based on service level */
        flag_read(s, &s->retry_var);
        if (s->retry_enabled && level < MINIMAL_SERVICE) {
            /* Retry once for less severe degradation levels */
            s->st.retries++;
            shared_read(&s->pool_var);
            err = execute(s, s->worker_pool, ctx, JOB_RETRY, level);
            if (!err)
                s->st.retries_succeeded++;
        }
        if (err) {
            s->error_counter++; /* the seed counts the failed request once more */
            s->st.error_counter_total++;
        }
    }
    s->in_flight--;
    entity_set(s->entity, "in_flight", s->in_flight);
    metric_set(s->in_flight_gauge, s->in_flight);
    if (s->fam[DM_REQUESTS])
        metrics_inc(metrics_withv(s->fam[DM_REQUESTS], s->cfg.name, load_manager_level_string(level),
                                  !err ? "success" : is_rejection(err) ? "rejected" : "error", NULL));
    s->completed_counter++;
    if (err) {
        s->failed_counter++;
        s->st.failed++;
        if (is_rejection(err))
            s->st.rejected++;
    } else {
        simtime_t lat = sched_now() - t0;
        s->st.succeeded++;
        s->st.succeeded_by_level[level]++;
        s->st.latency_sum_ns += lat;
        if (lat > s->st.latency_max_ns)
            s->st.latency_max_ns = lat;
    }
    return err;
}

/* One metrics update: cpu and memory are given (the seed's synthetic
 * figures) when synth is not NULL, measured otherwise. */
static void update_metrics(degradable_service_t *s, const int64_t *synth)
{
    simtime_t now = sched_now();
    simtime_t window = now - s->window_start;
    simtime_t busy = cpu_busy_ns(s->cfg.cpu);
    int procs = cpu_procs(s->cfg.cpu);
    int64_t cpu = 0;
    if (procs > 0 && window > 0)
        cpu = (busy - s->busy_at_window_start) * 100 / (procs * window);
    int64_t memory = s->cfg.memory_budget_bytes > 0
                         ? s->in_flight * s->cfg.request_bytes * 100 / s->cfg.memory_budget_bytes
                         : 0;
    if (synth) {
        cpu = synth[0];
        memory = synth[1];
    }
    int64_t rate, errors = 0;
    if (s->cfg.seed_variant) {
        /* Calculate request rate (requests per second): the counter, as
         * if the window were one second. Error rate: the seed's
         * errorCounter over the requests that arrived. */
        rate = s->request_counter;
        if (s->request_counter > 0)
            errors = s->error_counter * 100 / s->request_counter;
    } else {
        rate = window > 0 ? s->request_counter * SIM_SEC / window : 0;
        if (s->completed_counter > 0)
            errors = s->failed_counter * 100 / s->completed_counter;
    }
    s->request_counter = 0;
    s->error_counter = 0;
    s->completed_counter = 0;
    s->failed_counter = 0;
    s->window_start = now;
    s->busy_at_window_start = busy;
    /* Update load manager */
    load_manager_update_metrics(s->load_manager, cpu, memory, rate, errors);
    count_changes(s);
    metric_set(s->level_gauge, load_manager_get_current_level(s->load_manager));
    metric_set(s->load_gauge[METRIC_CPU], cpu);
    metric_set(s->load_gauge[METRIC_MEMORY], memory);
    metric_set(s->load_gauge[METRIC_REQUEST_RATE], rate);
    metric_set(s->load_gauge[METRIC_ERROR_RATE], errors);
    metric_set(s->capacity_gauge, s->worker_pool->max_concurrent);

    if (s->nupdates == s->capupdates) {
        s->capupdates = s->capupdates ? s->capupdates * 2 : 32;
        s->updates = mem_realloc(s->updates, s->capupdates * sizeof *s->updates);
    }
    degradable_service_load_update_t *u = &s->updates[s->nupdates++];
    u->t = now;
    load_manager_get_metrics(s->load_manager, u->metrics);
    u->level = load_manager_get_current_level(s->load_manager);
    u->offered_rate = s->current_rate;
    u->in_flight = s->in_flight;
    u->executing = s->executing;
    u->capacity = s->worker_pool->max_concurrent;
}

void degradable_service_update_metrics(degradable_service_t *s) { update_metrics(s, NULL); }

/* ---- SimulateLoad ------------------------------------------------------- */

/* What the load's goroutines share; lives as long as the run. */
typedef struct load_run {
    obj_t hdr;                  /* scheduler-owned */
    degradable_service_t *s;
    ctx_t *ctx;                /* the caller's context */
    waitgroup_t *wg;           /* the requests (and, corrected, generator and monitor) */
    simtime_t start, duration; /* the test's span */
    int64_t sent;              /* requests started */
} load_run_t;

static void request_goroutine(void *arg)
{
    load_run_t *run = arg;
    ctx_t *req_ctx = ctx_with_timeout(run->ctx, run->s->cfg.request_timeout);
    (void)degradable_service_handle_request(run->s, req_ctx, go_name(go_self()));
    ctx_cancel(req_ctx);
    waitgroup_done(run->wg);
}

static void spawn_request(load_run_t *run)
{
    char name[32];
    waitgroup_add(run->wg, 1);
    snprintf(name, sizeof name, "req-%lld", (long long)++run->sent);
    go_set_role(go_spawn(request_goroutine, run, name), "request");
}

/* The seed's curve: base + progress*2*(peak-base) up to the middle, then
 * back down; integer arithmetic, truncated as Go's int64() conversion. */
static int64_t curve_rate(const load_run_t *run, simtime_t elapsed)
{
    const degradable_service_config_t *c = &run->s->cfg;
    simtime_t d = run->duration;
    simtime_t x = elapsed * 2 < d ? elapsed : d - elapsed;
    return c->base_rate + (c->peak_rate - c->base_rate) * 2 * x / d;
}

/* The seed's generator: a "second" of requests spaced over a full
 * second, then the metrics, then another second of sleep. Its arithmetic
 * is Go's: progress a float64, each figure truncated by int64(). */
static void seed_generator(void *arg)
{
    load_run_t *run = arg;
    degradable_service_t *s = run->s;
    int64_t rate = s->cfg.base_rate; /* requests per second */
    simtime_t end_time = run->start + run->duration;
    double span = (double)(s->cfg.peak_rate - s->cfg.base_rate);
    s->current_rate = rate;
    while (sched_now() < end_time) {
        /* Calculate how many requests to send this second */
        int64_t current_rate = rate;
        if (current_rate == 0)
            go_panic("runtime error: integer divide by zero");
        simtime_t interval = SIM_SEC / current_rate;
        for (int64_t i = 0; i < current_rate; i++) {
            spawn_request(run);
            go_sleep(interval);
        }
        /* Increase load over time */
        double progress = (double)(sched_now() - run->start) / (double)run->duration;
        /* Simulate a load curve that peaks in the middle */
        if (progress < 0.5)
            rate = s->cfg.base_rate + (int64_t)(progress * 2 * span); /* Ramp up to peak */
        else
            rate = s->cfg.base_rate + (int64_t)((1 - progress) * 2 * span); /* Ramp down from peak */
        s->current_rate = rate;
        if (s->cfg.inputs == DEGRADATION_INPUTS_SEED) {
            /* Update load metrics every second: the seed's made-up figures */
            int64_t synth[2];
            synth[0] = 30 + (int64_t)(progress * 70); /* Simulate CPU increasing with load */
            if (progress > 0.5)
                synth[0] = 30 + (int64_t)((1 - progress) * 140);
            synth[1] = 40 + (int64_t)(progress * 55); /* Memory grows and stays high */
            update_metrics(s, synth);
        } else {
            update_metrics(s, NULL);
        }
        /* Wait for next second */
        go_sleep(SIM_SEC);
    }
}

/* Corrected generator: arrivals follow the curve continuously. */
static void generator(void *arg)
{
    load_run_t *run = arg;
    simtime_t end_time = run->start + run->duration;
    simtime_t t = run->start;
    while (t < end_time) {
        go_sleep_until(t);
        int64_t rate = curve_rate(run, t - run->start);
        run->s->current_rate = rate;
        spawn_request(run);
        t += rate > 0 ? SIM_SEC / rate : SIM_SEC;
    }
    waitgroup_done(run->wg);
}

/* Corrected monitor: the metrics every update_interval of the test. */
static void monitor(void *arg)
{
    load_run_t *run = arg;
    simtime_t iv = run->s->cfg.update_interval;
    for (simtime_t t = run->start + iv; t <= run->start + run->duration; t += iv) {
        go_sleep_until(t);
        degradable_service_update_metrics(run->s);
    }
    waitgroup_done(run->wg);
}

void degradable_service_simulate_load(degradable_service_t *s, ctx_t *ctx, simtime_t duration)
{
    load_run_t *run = obj_alloc(sizeof *run, OBJ_NONE, NULL);
    run->s = s;
    run->ctx = ctx;
    run->wg = waitgroup_new();
    run->duration = duration > 0 ? duration : 1;
    /* Reset counters */
    s->request_counter = 0;
    s->error_counter = 0;
    s->completed_counter = 0;
    s->failed_counter = 0;
    s->window_start = run->start = sched_now();
    s->busy_at_window_start = cpu_busy_ns(s->cfg.cpu);
    simtime_t busy0 = s->busy_at_window_start;
    /* Launch load generator */
    if (s->cfg.seed_variant) {
        go_set_role(go_spawn(seed_generator, run, "SimulateLoad.func1"), "generator");
        /* Wait for load test to complete */
        go_sleep(duration);
        waitgroup_wait(run->wg);
    } else {
        waitgroup_add(run->wg, 2);
        go_set_role(go_spawn(generator, run, "SimulateLoad.generator"), "generator");
        go_set_role(go_spawn(monitor, run, "SimulateLoad.monitor"), "monitor");
        waitgroup_wait(run->wg);
    }
    log_line("Load test completed");
    s->st.cpu_busy_ns += cpu_busy_ns(s->cfg.cpu) - busy0;
}

bool degradable_service_feature(const degradable_service_t *s, degradable_service_feature_t f)
{
    return (unsigned)f < FEATURE_COUNT && s->feature_flags[f];
}

bool degradable_service_retry_enabled(const degradable_service_t *s) { return s->retry_enabled; }
int degradable_service_pool_size(const degradable_service_t *s) { return s->worker_pool->max_concurrent; }
simtime_t degradable_service_pool_timeout(const degradable_service_t *s) { return s->worker_pool->timeout; }

degradable_service_stats_t degradable_service_stats(const degradable_service_t *s)
{
    degradable_service_stats_t st = s->st;
    const load_manager_level_change_t *list;
    st.level_changes = (int64_t)load_manager_changes(s->load_manager, &list);
    st.rules_applied = 0;
    for (int l = 0; l < SERVICE_LEVEL_COUNT; l++)
        st.rules_applied += load_manager_rules_applied(s->load_manager, (load_manager_level_t)l);
    return st;
}

size_t degradable_service_updates(const degradable_service_t *s, const degradable_service_load_update_t **list)
{
    *list = s->updates;
    return s->nupdates;
}
