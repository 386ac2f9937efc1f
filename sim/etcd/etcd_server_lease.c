/*
 * etcd_server_lease: the server's lessor (see etcd_server.c). Every lease
 * ever granted has an entity (alive, then revoked or expired); the expiry
 * check runs on a grid of expiry_interval counted from the boot (or from
 * the election of the leader), waking at the grid point at or after the
 * earliest deadline; a keep-alive of a lease that expired but is not yet
 * revoked waits for the revocation and is then answered "not found".
 */
#include <stdlib.h>
#include <string.h>

#include "etcd_server_internal.h"
#include "timer.h"

static lease_ent_t *lease_ent(etcd_server_t *srv, int64_t id)
{
    for (size_t i = srv->nleases; i > 0; i--)
        if (srv->leases[i - 1].id == id)
            return &srv->leases[i - 1];
    return NULL;
}

void etcd_server_lease_publish(etcd_server_t *srv)
{
    for (size_t i = 0; i < srv->nleases; i++) {
        lease_ent_t *le = &srv->leases[i];
        kv_lease_info_t info;
        if (!le->alive || !kv_lease_lookup(srv->kv, le->id, &info))
            continue;
        etcd_server_set_if(le->e, "deadline_ns", info.deadline);
        etcd_server_set_if(le->e, "keys", (int64_t)info.nkeys);
    }
}

/* Answer the deferred keep-alives of leases that no longer exist. */
static void answer_deferred(etcd_server_t *srv)
{
    for (size_t i = 0; i < srv->ndeferred;) {
        deferred_t *d = &srv->deferred[i];
        if (kv_lease_lookup(srv->kv, d->lease, NULL)) {
            i++;
            continue;
        }
        etcd_resp_t *r = etcd_resp_new(RS_REPLY);
        r->id = d->id;
        r->stream = d->stream;
        r->lease = d->lease;
        r->err = KV_ERR_LEASE_NOT_FOUND;
        r->result.lease = d->lease;
        r->result.revision = kv_revision(srv->kv);
        r->origin = d->origin;
        r->origin_port = d->origin_port;
        etcd_server_reply(srv, d->node, d->port, r);
        memmove(d, d + 1, (srv->ndeferred - i - 1) * sizeof *d);
        srv->ndeferred--;
    }
}

/* Revoke a lease (by request or expiry); the store's error. */
kv_err_t etcd_server_lease_revoke(etcd_server_t *srv, int64_t id, bool expired, kv_result_t *out)
{
    int64_t before = kv_revision(srv->kv);
    kv_result_t r;
    kv_err_t err = kv_lease_revoke(srv->kv, id, &r);
    if (err != KV_OK)
        return err;
    char hex[32];
    etcd_lease_hex(id, hex, sizeof hex);
    etcd_server_emitf(srv, r.revision, id, "etcd %s lease=%s deleted=%lld rev=%lld",
          expired ? "expire" : "revoke", hex, (long long)r.deleted, (long long)r.revision);
    lease_ent_t *le = lease_ent(srv, id);
    if (le) {
        le->alive = false;
        etcd_server_set_if(le->e, "keys", 0);
        entity_set_state(le->e, expired ? "expired" : "revoked");
    }
    etcd_server_after_write(srv, before);
    answer_deferred(srv);
    if (out)
        *out = r;
    else
        kv_result_clear(&r);
    return KV_OK;
}

/* The first expiry check at or after t. */
static simtime_t grid_ceil(const etcd_server_t *srv, simtime_t t)
{
    simtime_t iv = srv->cfg.expiry_interval;
    if (t <= srv->boot_at)
        return srv->boot_at;
    simtime_t k = (t - srv->boot_at + iv - 1) / iv;
    return srv->boot_at + k * iv;
}

void etcd_server_lease_expire_loop(void *arg)
{
    etcd_server_t *srv = arg;
    chan_t *wake = srv->lease_wake;
    int leader = srv->leader;
    uint64_t term = srv->term;
    for (;;) {
        if (!etcd_server_raft_still_leads(srv, leader, term))
            return; /* another member's lessor runs now */
        simtime_t first = SIMTIME_MAX;
        kv_lease_info_t info;
        for (size_t i = 0; kv_lease_at(srv->kv, i, &info); i++)
            if (info.deadline < first)
                first = info.deadline;
        if (first == SIMTIME_MAX) {
            chan_recv(wake, NULL);
            continue;
        }
        simtime_t at = grid_ceil(srv, first);
        if (at > sched_now()) {
            sim_timer_t *t = timer_new(at - sched_now());
            select_case_t cs[2] = {
                {timer_chan(t), SELECT_RECV, NULL, false},
                {wake, SELECT_RECV, NULL, false},
            };
            chan_select(cs, 2, false);
            timer_stop(t);
            timer_free(t);
            continue; /* recompute: a grant may have come, or it is time */
        }
        /* A revocation is a proposal: it needs the quorum (several members). */
        if (!etcd_server_raft_leader_quorum(srv) || !etcd_server_raft_still_leads(srv, leader, term))
            continue;
        int64_t ids[64];
        size_t n = kv_lease_expired(srv->kv, sched_now(), ids, 64);
        if (n > 64)
            n = 64; /* the rest at the next pass, at the same instant */
        for (size_t i = 0; i < n; i++)
            etcd_server_lease_revoke(srv, ids[i], true, NULL);
    }
}
