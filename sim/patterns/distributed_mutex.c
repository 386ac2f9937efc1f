/*
 * distributed_mutex: the seed's DistributedMutex, function for function. See
 * distributed_mutex.h for the seed's bugs and the corrections.
 */
#include "distributed_mutex.h"

#include <stdio.h>
#include <string.h>

#include "entity.h"
#include "net.h"

struct distributed_mutex {
    obj_t hdr;                 /* scheduler-owned */
    etcd_client_t *client;
    concurrency_session_t *session;
    concurrency_mutex_t *mutex;
    const char *lock_path;     /* interned */
    char node_id[128];         /* hostname-nanotime, as the seed makes it */
    bool is_locked;
    int lock_count;
    bool seed;                 /* keep the seed's behaviour */
    mutex_t *local;            /* corrected: serialises this node's callers */
    uint64_t owner_g;          /* corrected: the goroutine holding it */
    entity_t *entity;          /* "idle", "locking", "locked" */
};

const go_error_t *distributed_mutex_create(etcd_client_t *client, const char *lock_path,
                                        int64_t ttl_s, bool seed_variant,
                                        distributed_mutex_t **out)
{
    *out = NULL;
    /* Generate a unique node ID */
    net_node_t *n = etcd_client_node(client);
    char id[128];
    snprintf(id, sizeof id, "%s-%lld", net_node_name(n), (long long)net_node_clock(n));
    /* Create a session with keep-alive */
    concurrency_session_opts_t so = {.ttl_s = ttl_s};
    concurrency_session_t *session;
    const go_error_t *err = concurrency_session_new(client, &so, &session);
    if (err)
        return go_errorf("failed to create etcd session: %s", go_error_msg(err));
    distributed_mutex_t *dm = obj_alloc(sizeof *dm, OBJ_NONE, NULL);
    dm->client = client;
    dm->session = session;
    dm->mutex = concurrency_mutex_new(session, lock_path);
    dm->lock_path = sched_intern(sched_current(), lock_path);
    snprintf(dm->node_id, sizeof dm->node_id, "%s", id);
    dm->seed = seed_variant;
    dm->local = mutex_new();
    dm->entity = entity_new("dmutex", id, net_node_entity(n));
    entity_set_state(dm->entity, "idle");
    *out = dm;
    return NULL;
}

void distributed_mutex_destroy(distributed_mutex_t *x)
{
    if (!x)
        return;
    mutex_free(x->local);
    obj_free(x);
}

const go_error_t *distributed_mutex_lock(distributed_mutex_t *dm, ctx_t *ctx)
{
    uint64_t me = go_id(go_self());
    if (dm->seed) {
        if (dm->is_locked) {
            dm->lock_count++;
            return NULL; /* Already locked by this instance */
        }
    } else {
        if (dm->is_locked && dm->owner_g == me) {
            dm->lock_count++;
            return NULL; /* re-entry by the goroutine that holds it */
        }
        mutex_lock(dm->local); /* other goroutines of this node wait here */
    }
    entity_set_state(dm->entity, "locking");
    /* Try to acquire the lock */
    const go_error_t *err = concurrency_mutex_lock(dm->mutex, ctx);
    if (err) {
        if (!dm->seed)
            mutex_unlock(dm->local);
        entity_set_state(dm->entity, "idle");
        return go_errorf("failed to acquire lock: %s", go_error_msg(err));
    }
    dm->is_locked = true;
    dm->lock_count = 1;
    dm->owner_g = me;
    entity_set_state(dm->entity, "locked");
    entity_set(dm->entity, "token", concurrency_mutex_header_revision(dm->mutex));
    return NULL;
}

const go_error_t *distributed_mutex_unlock(distributed_mutex_t *dm, ctx_t *ctx)
{
    if (!dm->is_locked)
        return go_errorf("mutex is not locked");
    dm->lock_count--;
    if (dm->lock_count > 0)
        return NULL; /* Still held by other operations */
    /* Release the lock */
    const go_error_t *err = concurrency_mutex_unlock(dm->mutex, ctx);
    if (err)
        return go_errorf("failed to release lock: %s", go_error_msg(err));
    dm->is_locked = false;
    dm->owner_g = 0;
    entity_set_state(dm->entity, "idle");
    if (!dm->seed)
        mutex_unlock(dm->local);
    return NULL;
}

void distributed_mutex_close(distributed_mutex_t *dm)
{
    if (dm->is_locked) {
        ctx_t *ctx = ctx_with_timeout(ctx_background(), 5 * SIM_SEC);
        (void)distributed_mutex_unlock(dm, ctx);
        ctx_cancel(ctx);
    }
    (void)concurrency_session_close(dm->session);
    entity_set_state(dm->entity, "closed");
}

bool distributed_mutex_is_locked(distributed_mutex_t *dm)
{
    if (!dm->seed && dm->is_locked) {
        /* The lease is gone: whatever isLocked says, the lock is lost. */
        bool ok;
        if (chan_try_recv(concurrency_session_done(dm->session), NULL, &ok))
            return false;
    }
    return dm->is_locked;
}

int distributed_mutex_lock_count(const distributed_mutex_t *dm) { return dm->lock_count; }
const char *distributed_mutex_node_id(const distributed_mutex_t *dm) { return dm->node_id; }
concurrency_mutex_t *distributed_mutex_inner(const distributed_mutex_t *dm) { return dm->mutex; }
concurrency_session_t *distributed_mutex_session(const distributed_mutex_t *dm) { return dm->session; }

const go_error_t *distributed_mutex_get_lock_owner(distributed_mutex_t *dm, ctx_t *ctx,
                                                   char *out, size_t size)
{
    kv_range_opts_t opts = {.prefix = true};
    if (!dm->seed) {
        /* The holder is the oldest-created key under the prefix. */
        opts.sort_target = KV_SORT_CREATE;
        opts.sort_order = KV_SORT_ASCEND;
        opts.limit = 1;
    }
    kv_result_t r = {0};
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s%s", dm->lock_path, dm->seed ? "" : "/");
    const go_error_t *err = etcd_get(dm->client, ctx, prefix, &opts, &r);
    if (err) {
        kv_result_clear(&r);
        return go_errorf("failed to get lock info: %s", go_error_msg(err));
    }
    out[0] = 0;
    if (r.op.nkvs > 0)
        snprintf(out, size, "%s", dm->seed ? r.op.kvs[0].value : r.op.kvs[0].key);
    kv_result_clear(&r);
    return NULL;
}
