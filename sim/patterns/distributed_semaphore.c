/*
 * distributed_semaphore: the seed's DistributedSemaphore, function for function,
 * and the fair variant ordered by create revision. See distributed_semaphore.h.
 */
#include "distributed_semaphore.h"

#include <stdio.h>
#include <string.h>

#include "entity.h"
#include "net.h"
#include "sync.h"
#include "timer.h"

#define MAX_HELD 64

struct distributed_semaphore {
    obj_t hdr;                    /* scheduler-owned */
    etcd_client_t *client;
    concurrency_session_t *session;
    const char *sem_path;         /* interned */
    char node_id[128];
    int count;                    /* permits */
    const char *resources[MAX_HELD]; /* held resource IDs (interned) */
    int nresources;
    mutex_t *mu;                  /* the seed's ds.mu */
    bool fair;                    /* the fair variant */
    checker_holders_t *track;             /* who holds a permit (may be NULL) */
    distributed_semaphore_stats_t st;
    uint64_t seq;                 /* makes resource IDs unique */
    entity_t *entity;
};

const go_error_t *distributed_semaphore_create(etcd_client_t *client, const char *sem_path,
                                            int count, int64_t ttl_s, bool fair,
                                            checker_holders_t *track, distributed_semaphore_t **out)
{
    *out = NULL;
    net_node_t *n = etcd_client_node(client);
    concurrency_session_opts_t so = {.ttl_s = ttl_s};
    concurrency_session_t *session;
    const go_error_t *err = concurrency_session_new(client, &so, &session);
    if (err)
        return go_errorf("failed to create etcd session: %s", go_error_msg(err));
    distributed_semaphore_t *ds = obj_alloc(sizeof *ds, OBJ_NONE, NULL);
    ds->client = client;
    ds->session = session;
    ds->sem_path = sched_intern(sched_current(), sem_path);
    snprintf(ds->node_id, sizeof ds->node_id, "%s-%lld", net_node_name(n), (long long)net_node_clock(n));
    ds->count = count;
    ds->mu = mutex_new();
    ds->fair = fair;
    ds->track = track;
    ds->entity = entity_new("semaphore", ds->node_id, net_node_entity(n));
    entity_set(ds->entity, "held", 0);
    *out = ds;
    return NULL;
}

void distributed_semaphore_destroy(distributed_semaphore_t *x)
{
    if (!x)
        return;
    mutex_free(x->mu);
    obj_free(x);
}

static void make_id(distributed_semaphore_t *ds, char *id, size_t size)
{
    /* resourceID := semPath/nodeID-time.Now().UnixNano() (+ a sequence,
     * since simulated time does not move between two calls) */
    net_node_t *n = etcd_client_node(ds->client);
    snprintf(id, size, "%s/%s-%lld-%llu", ds->sem_path, ds->node_id, (long long)net_node_clock(n),
             (unsigned long long)++ds->seq);
}

static void took(distributed_semaphore_t *ds, const char *id)
{
    if (ds->nresources < MAX_HELD)
        ds->resources[ds->nresources++] = sched_intern(sched_current(), id);
    ds->st.acquired++;
    entity_set(ds->entity, "held", ds->nresources);
    if (ds->track)
        checker_holders_enter(ds->track, id);
}

/* The seed's Acquire: put, count, and give up if over the limit. */
static const go_error_t *acquire_seed(distributed_semaphore_t *ds, ctx_t *ctx, char *id,
                                      size_t size)
{
    mutex_lock(ds->mu);
    ds->st.attempts++;
    make_id(ds, id, size);
    kv_result_t r = {0};
    /* Try to create the resource key with a lease */
    const go_error_t *err = etcd_put(ds->client, ctx, id, ds->node_id,
                                     concurrency_session_lease(ds->session), &r);
    kv_result_clear(&r);
    if (err) {
        mutex_unlock(ds->mu);
        return go_errorf("failed to create resource: %s", go_error_msg(err));
    }
    /* Get all resources to check if we're within the limit */
    kv_range_opts_t opts = {.prefix = true, .count_only = true};
    err = etcd_get(ds->client, ctx, ds->sem_path, &opts, &r);
    int64_t n = r.op.count;
    kv_result_clear(&r);
    if (err) {
        (void)etcd_delete(ds->client, ctx, id, false, &r);
        kv_result_clear(&r);
        mutex_unlock(ds->mu);
        return go_errorf("failed to get resources: %s", go_error_msg(err));
    }
    /* Check if we're within the semaphore limit */
    if (n > ds->count) {
        (void)etcd_delete(ds->client, ctx, id, false, &r);
        kv_result_clear(&r);
        ds->st.rejected++;
        mutex_unlock(ds->mu);
        return go_errorf("semaphore limit reached");
    }
    took(ds, id);
    mutex_unlock(ds->mu);
    return NULL;
}

/* The fair Acquire: a place in line by create revision, then wait. */
static const go_error_t *acquire_fair(distributed_semaphore_t *ds, ctx_t *ctx, char *id,
                                      size_t size)
{
    ds->st.attempts++;
    make_id(ds, id, size);
    kv_result_t r = {0};
    const go_error_t *err = etcd_put(ds->client, ctx, id, ds->node_id,
                                     concurrency_session_lease(ds->session), &r);
    kv_result_clear(&r);
    if (err)
        return go_errorf("failed to create resource: %s", go_error_msg(err));
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/", ds->sem_path);
    for (;;) {
        kv_range_opts_t opts = {.prefix = true, .keys_only = true,
                                .sort_target = KV_SORT_CREATE, .sort_order = KV_SORT_ASCEND,
                                .limit = ds->count};
        err = etcd_get(ds->client, ctx, prefix, &opts, &r);
        if (err)
            break;
        bool mine = false;
        for (size_t i = 0; i < r.op.nkvs; i++)
            mine = mine || strcmp(r.op.kvs[i].key, id) == 0;
        int64_t rev = r.revision;
        kv_result_clear(&r);
        if (mine) {
            took(ds, id);
            return NULL;
        }
        /* Wait for a delete under the prefix after what we read. */
        etcd_watch_opts_t wo = {.prefix = true, .start_rev = rev + 1};
        ctx_t *wctx = ctx_with_cancel(ctx);
        chan_t *w = etcd_watch(ds->client, wctx, prefix, &wo);
        bool deleted = false;
        while (!deleted) {
            etcd_watch_resp_t *wr = NULL;
            select_case_t cs[2] = {
                {.ch = w, .dir = SELECT_RECV, .elem = &wr},
                {.ch = ctx_done(ctx), .dir = SELECT_RECV},
            };
            int i = chan_select(cs, 2, false);
            if (i == 1 || !cs[0].ok)
                break;
            for (size_t k = 0; k < wr->nevents; k++)
                deleted = deleted || wr->events[k].type == KV_EVENT_DELETE;
            etcd_watch_resp_free(wr);
        }
        ctx_cancel(wctx);
        if (ctx_err(ctx)) {
            err = ctx_err(ctx);
            break;
        }
    }
    /* Give up our place in line. */
    ctx_t *cleanup = ctx_with_timeout(ctx_background(), 5 * SIM_SEC);
    (void)etcd_delete(ds->client, cleanup, id, false, &r);
    kv_result_clear(&r);
    ctx_cancel(cleanup);
    ds->st.rejected++;
    return go_errorf("failed to acquire: %s", go_error_msg(err));
}

const go_error_t *distributed_semaphore_acquire(distributed_semaphore_t *ds, ctx_t *ctx,
                                                char *id, size_t size)
{
    return ds->fair ? acquire_fair(ds, ctx, id, size) : acquire_seed(ds, ctx, id, size);
}

const go_error_t *distributed_semaphore_release(distributed_semaphore_t *ds, ctx_t *ctx,
                                                const char *id)
{
    if (!ds->fair)
        mutex_lock(ds->mu);
    int at = -1;
    for (int i = 0; i < ds->nresources; i++)
        if (strcmp(ds->resources[i], id) == 0)
            at = i;
    const go_error_t *err = NULL;
    if (at < 0) {
        err = go_errorf("resource not owned by this semaphore instance");
        goto out;
    }
    /* The holder has stopped using the resource before it gives the permit
     * back: from the delete on, another may hold it. */
    if (ds->track)
        checker_holders_leave(ds->track, id);
    const char *held = ds->resources[at];
    kv_result_t r = {0};
    err = etcd_delete(ds->client, ctx, id, false, &r);
    kv_result_clear(&r);
    if (err) {
        err = go_errorf("failed to delete resource: %s", go_error_msg(err));
        goto out;
    }
    /* Other workers may have released while the delete was in flight:
     * find the entry again. */
    for (int i = 0; i < ds->nresources; i++) {
        if (ds->resources[i] == held) {
            memmove(&ds->resources[i], &ds->resources[i + 1],
                    (size_t)(ds->nresources - i - 1) * sizeof ds->resources[0]);
            ds->nresources--;
            break;
        }
    }
    entity_set(ds->entity, "held", ds->nresources);
out:
    if (!ds->fair)
        mutex_unlock(ds->mu);
    return err;
}

const go_error_t *distributed_semaphore_try_acquire_with_timeout(distributed_semaphore_t *ds,
                                                                 ctx_t *ctx, simtime_t timeout,
                                                                 char *id, size_t size)
{
    simtime_t start = sched_now();
    ctx_t *timeout_ctx = ctx_with_timeout(ctx, timeout);
    const go_error_t *err;
    if (ds->fair) {
        err = distributed_semaphore_acquire(ds, timeout_ctx, id, size);
        goto done;
    }
    /* Try to acquire immediately first */
    err = distributed_semaphore_acquire(ds, ctx, id, size);
    if (!err)
        goto done;
    /* If that fails, retry with exponential backoff */
    simtime_t backoff = 50 * SIM_MS, max_backoff = SIM_SEC;
    for (;;) {
        sim_timer_t *t = timer_new(backoff);
        select_case_t cs[2] = {
            {.ch = ctx_done(timeout_ctx), .dir = SELECT_RECV},
            {.ch = timer_chan(t), .dir = SELECT_RECV},
        };
        int i = chan_select(cs, 2, false);
        timer_free(t);
        if (i == 0) {
            err = go_errorf("timeout waiting for semaphore: %s", go_error_msg(ctx_err(timeout_ctx)));
            break;
        }
        err = distributed_semaphore_acquire(ds, ctx, id, size);
        if (!err)
            break;
        backoff *= 2;
        if (backoff > max_backoff)
            backoff = max_backoff;
    }
done:
    ctx_cancel(timeout_ctx);
    if (err) {
        ds->st.timeouts++;
    } else {
        simtime_t w = sched_now() - start;
        ds->st.wait_ns += w;
        if (w > ds->st.wait_max_ns)
            ds->st.wait_max_ns = w;
    }
    return err;
}

const go_error_t *distributed_semaphore_get_available(distributed_semaphore_t *ds, ctx_t *ctx,
                                                      int *available)
{
    kv_range_opts_t opts = {.prefix = true, .count_only = true};
    kv_result_t r = {0};
    const go_error_t *err = etcd_get(ds->client, ctx, ds->sem_path, &opts, &r);
    *available = err ? 0 : ds->count - (int)r.op.count;
    kv_result_clear(&r);
    if (err)
        return go_errorf("failed to get resources: %s", go_error_msg(err));
    return NULL;
}

void distributed_semaphore_close(distributed_semaphore_t *ds)
{
    ctx_t *ctx = ctx_with_timeout(ctx_background(), 5 * SIM_SEC);
    while (ds->nresources > 0) {
        const char *id = ds->resources[ds->nresources - 1];
        (void)distributed_semaphore_release(ds, ctx, id);
        if (ds->nresources > 0 && ds->resources[ds->nresources - 1] == id)
            ds->nresources--; /* could not delete: forget it, the lease will */
    }
    ctx_cancel(ctx);
    (void)concurrency_session_close(ds->session);
}

distributed_semaphore_stats_t distributed_semaphore_stats(const distributed_semaphore_t *ds) { return ds->st; }
