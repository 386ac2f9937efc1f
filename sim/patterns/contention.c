/*
 * contention: the seed's SharedResource and runContentionTest, on
 * simulated time. Function for function with the seed's Go (see
 * contention.h for the seed's bug and the correction).
 */
#include "contention.h"

#include <stdio.h>
#include <stdlib.h>

#include "entity.h"
#include "pattern.h"
#include "race.h"
#include "sync.h"
#include "timer.h"

/* SharedResource simulates a resource with different locking strategies. */
typedef struct shared_resource {
    char name[64];
    int64_t value;
    race_var_t value_var;    /* value as the goroutines share it (race.h) */
    mutex_t *mutex;
    rwmutex_t *rw_mutex;
    mutex_t *log_mutex;
    int64_t access_count;
    int64_t reads, writes;
    simtime_t read_wait_max, write_wait_max;
    entity_t *entity;        /* the resource, for the trace and the view */
} shared_resource_t;

static void note_wait(simtime_t *max, simtime_t since)
{
    simtime_t w = sched_now() - since;
    if (w > *max)
        *max = w;
}

/* logAccess logs an access to the resource (the seed keeps the last 100
 * messages; the count is what it reports). */
static void log_access(shared_resource_t *r)
{
    mutex_lock(r->log_mutex);
    r->access_count++;
    entity_set(r->entity, "accesses", r->access_count);
    mutex_unlock(r->log_mutex);
}

/* UpdateWithMutex updates the resource using a standard mutex. */
static void update_with_mutex(shared_resource_t *r, int64_t val)
{
    simtime_t t0 = sched_now();
    mutex_lock(r->mutex);
    note_wait(&r->write_wait_max, t0);
    /* Simulate some work */
    go_sleep((1 + pattern_intn(5)) * SIM_MS);
    shared_read(&r->value_var);
    shared_write(&r->value_var);
    r->value += val;
    r->writes++;
    log_access(r);
    mutex_unlock(r->mutex);
}

/* ReadWithMutex reads the resource using a standard mutex. */
static int64_t read_with_mutex(shared_resource_t *r)
{
    simtime_t t0 = sched_now();
    mutex_lock(r->mutex);
    note_wait(&r->read_wait_max, t0);
    go_sleep((1 + pattern_intn(2)) * SIM_MS);
    shared_read(&r->value_var);
    int64_t v = r->value;
    r->reads++;
    log_access(r);
    mutex_unlock(r->mutex);
    return v;
}

/* UpdateWithRWMutex updates the resource using a read-write mutex. */
static void update_with_rwmutex(shared_resource_t *r, int64_t val)
{
    simtime_t t0 = sched_now();
    rwmutex_lock(r->rw_mutex);
    note_wait(&r->write_wait_max, t0);
    go_sleep((1 + pattern_intn(5)) * SIM_MS);
    shared_read(&r->value_var);
    shared_write(&r->value_var);
    r->value += val;
    r->writes++;
    log_access(r);
    rwmutex_unlock(r->rw_mutex);
}

/* ReadWithRWMutex reads the resource using a read-write mutex. */
static int64_t read_with_rwmutex(shared_resource_t *r)
{
    simtime_t t0 = sched_now();
    rwmutex_rlock(r->rw_mutex);
    note_wait(&r->read_wait_max, t0);
    go_sleep((1 + pattern_intn(2)) * SIM_MS);
    shared_read(&r->value_var);
    int64_t v = r->value;
    r->reads++;
    log_access(r);
    rwmutex_runlock(r->rw_mutex);
    return v;
}

/* GetStats' read of value. The seed reads it holding logMutex, which does
 * not guard value, while the writers write it holding mutex or rwMutex: a
 * data race (go run -race reports it; so does chansim run --race). The
 * corrected test reads it once its goroutines are done (after wg.Wait). */
static int64_t get_stats_value(shared_resource_t *r)
{
    shared_read(&r->value_var);
    return r->value;
}

typedef struct actor {
    shared_resource_t *r;
    ctx_t *ctx;
    waitgroup_t *wg;
    bool use_rwmutex;
} actor_t;

/* ctx.Done() is ready: the select's first case. */
static bool done(ctx_t *ctx)
{
    select_case_t c[1] = {{.ch = ctx_done(ctx), .dir = SELECT_RECV}};
    return chan_select(c, 1, true) == 0;
}

static void writer(void *arg)
{
    actor_t *a = arg;
    while (!done(a->ctx)) {
        if (a->use_rwmutex)
            update_with_rwmutex(a->r, pattern_intn(10));
        else
            update_with_mutex(a->r, pattern_intn(10));
        go_sleep(pattern_intn(10) * SIM_MS);
    }
    waitgroup_done(a->wg);
}

static void reader(void *arg)
{
    actor_t *a = arg;
    while (!done(a->ctx)) {
        if (a->use_rwmutex)
            (void)read_with_rwmutex(a->r);
        else
            (void)read_with_mutex(a->r);
        go_sleep(pattern_intn(5) * SIM_MS);
    }
    waitgroup_done(a->wg);
}

/* The actors' arguments live as long as the run: the scheduler frees them. */
static void actors_deinit(obj_t *o) { (void)o; }

contention_stats_t contention_run_test(ctx_t *ctx, bool use_rwmutex, int readers, int writers,
                                       simtime_t duration, bool seed_variant)
{
    typedef struct holder {
        obj_t hdr;
        shared_resource_t r;
        actor_t a;
    } holder_t;
    holder_t *h = obj_alloc(sizeof *h, OBJ_NONE, actors_deinit);
    shared_resource_t *r = &h->r;
    snprintf(r->name, sizeof r->name, "Resource-%s-%d-%d", use_rwmutex ? "true" : "false",
             readers, writers);
    r->mutex = mutex_new();
    r->rw_mutex = rwmutex_new();
    r->log_mutex = mutex_new();
    r->value_var.name = "value";
    obj_set_name(r->mutex, "mutex");
    obj_set_name(r->rw_mutex, "rwMutex");
    obj_set_name(r->log_mutex, "logMutex");
    r->entity = entity_new("resource", r->name, NULL);
    entity_set_state(r->entity, use_rwmutex ? "rwmutex" : "mutex");

    /* The corrected test owns a context it cancels when it is done. */
    ctx_t *run_ctx = seed_variant ? ctx : ctx_with_cancel(ctx);
    h->a = (actor_t){.r = r, .ctx = run_ctx, .wg = waitgroup_new(), .use_rwmutex = use_rwmutex};
    simtime_t start = sched_now();
    char name[64];
    for (int i = 0; i < writers; i++) {
        waitgroup_add(h->a.wg, 1);
        snprintf(name, sizeof name, "writer-%d", i);
        go_set_role(go_spawn(writer, &h->a, name), "writer");
    }
    for (int i = 0; i < readers; i++) {
        waitgroup_add(h->a.wg, 1);
        snprintf(name, sizeof name, "reader-%d", i);
        go_set_role(go_spawn(reader, &h->a, name), "reader");
    }
    /* Run for a fixed duration */
    go_sleep(duration);

    contention_stats_t st = {
        .use_rwmutex = use_rwmutex,
        .readers = readers,
        .writers = writers,
        .final_value = seed_variant ? get_stats_value(r) : 0,
        .access_count = r->access_count,
        .reads = r->reads,
        .writes = r->writes,
        .duration = sched_now() - start,
        .read_wait_max_ns = r->read_wait_max,
        .write_wait_max_ns = r->write_wait_max,
    };
    if (use_rwmutex) {
        st.lock_contended = rwmutex_contended(r->rw_mutex);
        st.lock_wait_ns = rwmutex_wait_ns(r->rw_mutex);
    } else {
        st.lock_contended = mutex_contended(r->mutex);
        st.lock_wait_ns = mutex_wait_ns(r->mutex);
    }
    st.log_contended = mutex_contended(r->log_mutex);
    st.log_wait_ns = mutex_wait_ns(r->log_mutex);
    if (!seed_variant) {
        ctx_cancel(run_ctx);
        waitgroup_wait(h->a.wg);
        st.final_value = get_stats_value(r);
    }
    st.goroutines_after = sched_goroutines_alive(sched_current());
    return st;
}
