/*
 * etcd_server_internal: the server object and what the files of the
 * store's server share (etcd_server.c: boot, the request loop, entities and
 * the trace; etcd_server_lease.c: the lessor; etcd_server_watch.c: the
 * watchers; etcd_server_raft.c: a store of several members). Nothing else
 * includes it: the rest of chansim sees etcd.h, the client etcd_wire.h.
 *
 * The server object is scheduler-owned and outlives crashes (that is the
 * persistence); every array in it is owned by it and freed by
 * etcd_server_deinit.
 */
#ifndef CHANSIM_ETCD_SERVER_INTERNAL_H
#define CHANSIM_ETCD_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "etcd.h"
#include "etcd_wire.h"
#include "mem.h"

/* Request numbers remembered per client, up to this far below the highest
 * seen: a request older than that is taken for a duplicate. */
#define DEDUP_WINDOW 4096

typedef struct srv_client {
    uint64_t id;          /* the client's number */
    uint64_t max_id;      /* highest request number seen */
    uint64_t seen[DEDUP_WINDOW / 64]; /* bit (n % DEDUP_WINDOW): request n seen, for
                                         n in (max_id - DEDUP_WINDOW, max_id] */
} srv_client_t;

/* A catch-up message: it covered revisions up to last (from the previous
 * one's last, or the watch's start) and was stamped with the store's
 * revision at its sync (etcd's header.revision). */
typedef struct catchup {
    int64_t last, header;
} catchup_t;

typedef struct watcher {
    uint64_t client, watch; /* the client's number and its watch number */
    net_node_t *node;           /* the client's node */
    uint32_t port;          /* its inbox port */
    uint64_t incarnation;   /* the node's incarnation when the watch was made */
    char *key;              /* the key or prefix (owned) */
    bool prefix;
    int64_t start;          /* first revision reported */
    int64_t acked;          /* revision the client has; -1 until it has the creation */
    int64_t sent;           /* revisions covered by messages sent so far */
    bool unsynced;          /* behind the store: caught up by the sync loop, not by writes */
    catchup_t *batches;     /* catch-up messages sent and not yet acknowledged, in order */
    size_t nbatches, capbatches;
    simtime_t last_tx;      /* when a message last went out */
    bool canceled;          /* ended by the server; resent until the client cancels */
    int64_t compact_rev;    /* the compaction point that ended it */
} watcher_t;

typedef struct deferred {
    net_node_t *node;           /* where to answer */
    uint32_t port;
    net_node_t *origin;         /* a forwarded request's client (see etcd_wire.h), or NULL */
    uint32_t origin_port;
    uint64_t id;            /* the request number */
    bool stream;            /* answer to a keep-alive loop */
    int64_t lease;          /* the expired lease */
} deferred_t;

typedef struct lease_ent {
    int64_t id;             /* the lease */
    entity_t *e;            /* its entity */
    bool alive;             /* not yet revoked or expired */
} lease_ent_t;

typedef struct track {
    char *prefix;           /* with its trailing slash (owned) */
    etcd_track_kind_t kind;
    entity_t *e;
    int64_t holder_rev;     /* create revision of the holder seen last, 0 if none */
    char *leader_value;     /* election: the leader's value seen last (owned) */
} track_t;

typedef struct member member_t;

struct etcd_server {
    obj_t hdr;                  /* scheduler-owned */
    member_t *members;          /* a store of several (etcd_server_new_cluster); NULL for one */
    size_t nmembers;
    int leader;                 /* the member that leads, -1 if none (several members) */
    simtime_t leader_since;     /* when it began to lead */
    uint64_t term;              /* its term */
    net_node_t *node;               /* where it runs */
    etcd_server_cfg_t cfg;
    kv_t *kv;                   /* the store: survives crashes (persisted) */
    entity_t *entity;           /* the store's entity */
    simtime_t boot_at;          /* start of the expiry grid */
    uint64_t boots;             /* boots so far */
    uint64_t requests;          /* served */
    uint64_t next_client;       /* client numbers */
    srv_client_t *clients;      /* by number (client n at index n - 1) */
    size_t nclients, capclients;
    watcher_t **watchers;       /* in creation order */
    size_t nwatchers, capwatchers;
    deferred_t *deferred;       /* keep-alives of expired leases, answered at revocation */
    size_t ndeferred, capdeferred;
    lease_ent_t *leases;        /* every lease ever granted, in grant order */
    size_t nleases, capleases;
    track_t *tracks;            /* tracked prefixes */
    size_t ntracks, captracks;
    net_msg_t *cur;             /* the request being served, or NULL */
    uint64_t cur_boot;          /* the boot that took cur */
    chan_t *lease_wake;         /* cap 1: a grant may want an earlier check (this boot's) */
    chan_t *resend_wake;        /* cap 1: a watch message awaits acknowledgement (this boot's) */
    chan_t *sync_wake;          /* cap 1: a watcher is unsynced (this boot's; NULL until
                                 * the first one starts the sync loop) */
};

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? (cap) * 2 : 8;                                  \
            (arr) = mem_realloc((arr), (cap) * sizeof *(arr));                 \
        }                                                                   \
    } while (0)

/* ---- etcd_server.c ------------------------------------------------------------ */

/* Set an entity's field or state only when it changes (no event otherwise). */
void etcd_server_set_if(entity_t *e, const char *field, int64_t v);
void etcd_server_state_if(entity_t *e, const char *state);
/* A user event on the store's entity. */
void etcd_server_emitf(etcd_server_t *srv, int64_t a, int64_t b, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The store's counters on its entity. */
void etcd_server_publish_store(etcd_server_t *srv);
/* Whether a client's node is still the incarnation that talked to us. */
bool etcd_server_client_alive(net_node_t *n, uint64_t incarnation);
void etcd_server_reply(etcd_server_t *srv, net_node_t *to, uint32_t port, etcd_resp_t *resp);
/* After a request that may have written: trace, watchers, entities. */
void etcd_server_after_write(etcd_server_t *srv, int64_t before);
/* Serve one request (the leader's, in a store of several members). */
void etcd_server_handle(etcd_server_t *srv, net_msg_t *m);
void etcd_server_deinit(obj_t *o);
/* A store on node n with cfg's defaults filled in, its key space and its
 * entity (in state), not yet booted: etcd_server_new and the store of
 * several members build on it. */
etcd_server_t *etcd_server_alloc(net_node_t *n, const etcd_server_cfg_t *cfg, const char *state);

/* ---- etcd_server_lease.c ------------------------------------------------------ */

/* The live leases' deadlines and key counts on their entities. */
void etcd_server_lease_publish(etcd_server_t *srv);
/* Revoke a lease (by request or expiry); the store's error. */
kv_err_t etcd_server_lease_revoke(etcd_server_t *srv, int64_t id, bool expired, kv_result_t *out);
/* The lessor's goroutine (the server's argument). */
void etcd_server_lease_expire_loop(void *arg);

/* ---- etcd_server_watch.c ------------------------------------------------------ */

void etcd_server_watch_free(watcher_t *w);
/* Push the events of revisions (before, now] to every watcher they match. */
void etcd_server_watch_notify(etcd_server_t *srv, int64_t before);
/* A watch creation, acknowledgement or cancellation. */
void etcd_server_watch_handle(etcd_server_t *srv, net_msg_t *m, const etcd_req_t *q);
/* The watch resender's goroutine (the server's argument). */
void etcd_server_watch_resend_loop(void *arg);
/* etcd's syncWatchersLoop: catches watchers behind the store up, on the
 * grid of watch_sync_interval from boot_at. Starts the loop on the
 * server's node (the first time a boot has a watcher behind) or wakes it;
 * nothing if no watcher is behind. */
void etcd_server_watch_kick(etcd_server_t *srv);

/* ---- etcd_server_raft.c ------------------------------------------------------- */

/* Whether leader still leads in term (always, for a store of one). */
bool etcd_server_raft_still_leads(const etcd_server_t *srv, int leader, uint64_t term);
/* A round of heartbeats answered by a majority (true for a store of one). */
bool etcd_server_raft_leader_quorum(etcd_server_t *srv);

#endif
