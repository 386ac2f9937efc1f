/*
 * etcd: an etcd-like store served by a node of the simulated cluster, and
 * its client library (clientv3's KV, Lease and Watch), on sim/net.
 *
 * The server is one goroutine on its node taking requests from its inbox
 * port one at a time in arrival order (so every request is linearizable:
 * it is applied to the store, kv.h, at one instant), answering each by a
 * message, pushing watch events to the watching clients as messages, and a
 * second goroutine that checks lease expiry every 500ms (etcd's lessor),
 * on a grid counted from the server's boot: a lease expires at the first
 * check at or after its deadline, and its keys are deleted then. (The
 * goroutine sleeps through checks that cannot find an expired lease, so an
 * idle store adds nothing to the trace; what expires when is the same.)
 *
 * Model choices (what a real etcd does, and what chansim keeps of it):
 * - Persistence: etcd writes every change to disk before answering, so the
 *   store (keys, revisions, history, leases) survives a crash of its node
 *   and is served again when the node restarts. At the restart every
 *   lease's deadline becomes restart time + promote_extend (etcd's election
 *   timeout, 1s) + its TTL, as etcd's lessor Promote does at a new leader.
 *   Requests in the inbox when the node crashes are lost (their callers
 *   time out); watches are kept, as etcd's clients resume them from the
 *   last revision they received, so no event is lost or repeated.
 * - Transport: clientv3 talks gRPC over TCP, which neither loses,
 *   duplicates nor reorders. The simulated links may do all three, so the
 *   library adds what TCP would: the server drops duplicated requests (a
 *   window of recent request ids per client), the client drops duplicated
 *   or stale replies, and watch events carry their predecessor's revision
 *   so the client reorders them, acknowledges what it has, and the server
 *   resends what is not acknowledged every watch_retransmit. A request or a
 *   reply that is lost is not resent: the call fails with "etcdserver:
 *   request timed out" after request_timeout (the write may still have
 *   happened, as with a real timeout). Keep-alives are resent every 500ms
 *   without a reply, as clientv3's send loop does.
 * - Keep-alive timing, as clientv3 3.4 and 3.5 (lease.go) do it: from a
 *   client's first KeepAlive, a send loop ticks every keepalive_tick
 *   (500ms) and sends a keep-alive for each lease that is due: a new lease
 *   at once (at the next tick for a lease added later), then the first tick
 *   at or after TTL/3 from each reply; an unanswered keep-alive stays due
 *   and goes again at every tick. So renewals come every TTL/3 rounded up to
 *   the grid (TTL 10s: 3.5s; TTL 2s: 1s), and a crashed holder's lease
 *   has between about 2/3 x TTL - 0.5s and TTL left. A keep-alive stream
 *   ends on a reply with TTL <= 0 ("requested lease not found"), when ctx is
 *   done, or when no reply came before its deadline (TTL after the last
 *   reply, first_keepalive_timeout before the first), seen by the deadline
 *   check that ticks every keepalive_check (1s) on the same origin.
 * - A keep-alive for a lease whose deadline has passed but that the expiry
 *   check has not revoked yet is answered after the revocation with "not
 *   found", as etcd's Renew waits for it; it never revives the lease.
 * - Dead clients: the server stops pushing events to a client whose node
 *   crashed or restarted (its TCP connections are gone).
 *
 * Errors are Go-style (goerr.h), static and compared by identity:
 * ctx_err(ctx) when the call's context is done first ("context canceled",
 * "context deadline exceeded"), ETCD_ERR_TIMEOUT when no reply came within
 * the client's request_timeout, and the server's errors below.
 *
 * Trace and view: the server publishes an entity "etcd" under its node's
 * (state "down" until the first boot, then "up": the node's entity shows
 * crashes; fields revision, keys, leases, watchers, compact_revision), one entity
 * "lease" per lease (state "alive", "expired" or "revoked"; fields ttl,
 * deadline_ns, keys), and one entity per tracked prefix ("lock": state
 * "held"/"free", fields holder_rev, holder_lease, waiters; "election":
 * state = the leader's value or "none", fields term = the leader key's
 * create revision, leader_lease, candidates). Every write, grant, renewal,
 * revocation, expiry and compaction is an EV_USER event on the store's
 * entity with detail text ("etcd put /lock/694d000000000001 rev=2").
 *
 * Ownership: servers, clients and watches are owned by the running
 * scheduler. Results go into a caller's kv_result_t (caller owns it;
 * kv_result_clear). Do not hold a result across a blocking call on a node
 * that may crash: a crashed node's stacks are not unwound, so what only they
 * point to leaks. Watch responses are scheduler objects (see below).
 */
#ifndef CHANSIM_ETCD_H
#define CHANSIM_ETCD_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "goerr.h"
#include "kv.h"
#include "net.h"
#include "sched.h"

#define ETCD_PORT 2379 /* the server's port (etcd's client port) */

/* ---- errors -------------------------------------------------------------- */

extern const go_error_t ETCD_ERR_LEASE_NOT_FOUND; /* "etcdserver: requested lease not found" */
extern const go_error_t ETCD_ERR_LEASE_EXISTS;    /* "etcdserver: lease already exists" */
extern const go_error_t ETCD_ERR_TTL_TOO_LARGE;   /* "etcdserver: too large lease TTL" */
extern const go_error_t ETCD_ERR_COMPACTED;       /* "mvcc: required revision has been compacted" */
extern const go_error_t ETCD_ERR_FUTURE_REV;      /* "mvcc: required revision is a future revision" */
extern const go_error_t ETCD_ERR_DUPLICATE_KEY;   /* "etcdserver: duplicate key given in txn request" */
extern const go_error_t ETCD_ERR_EMPTY_KEY;       /* "etcdserver: key is not provided" */
extern const go_error_t ETCD_ERR_TIMEOUT;         /* "etcdserver: request timed out" */
extern const go_error_t ETCD_ERR_NO_LEADER;       /* "etcdserver: no leader" (a keep-alive at a member without one) */

/* The error value for a store error code (NULL for KV_OK). */
const go_error_t *etcd_error(kv_err_t e);

/* ---- the server ------------------------------------------------------------ */

typedef struct etcd_server etcd_server_t;

typedef struct etcd_server_cfg {
    uint32_t port;              /* inbox port for requests; ETCD_PORT */
    simtime_t expiry_interval;  /* lease expiry check period; 500ms */
    int64_t min_ttl_s;          /* minimum lease TTL; 2 (KV_MIN_TTL_S) */
    simtime_t promote_extend;   /* added to lease deadlines at a restart; 1s */
    simtime_t service_time;     /* time to serve one request (fsync, apply); 0 */
    simtime_t watch_retransmit; /* resend unacknowledged watch events after; 500ms */
    simtime_t watch_sync_interval; /* catch-up of watches behind the store; 100ms (etcd's) */
    simtime_t heartbeat_interval; /* several members: the leader's heartbeats; 100ms (etcd's) */
    simtime_t election_timeout;   /* several members: 1s (etcd's); drawn in [1x, 2x) */
} etcd_server_cfg_t;

etcd_server_cfg_t etcd_server_cfg_default(void);

/* A store served on node n (cfg NULL: defaults). Sets n's boot function to
 * etcd_server_boot, so the server starts with net_node_start and again at
 * every restart; if n is already up, it starts at once. Owned by the
 * scheduler. */
etcd_server_t *etcd_server_new(net_node_t *n, const etcd_server_cfg_t *cfg);
/* The boot function (arg: the server), for a host that sets its own boot
 * on the node and starts the server from it. Starts the server goroutines
 * on n and returns. */
void etcd_server_boot(net_node_t *n, void *srv);

/* A store of n members (3 or 5, at most 7), one on each node, electing a
 * leader as etcd's Raft does (etcd_server_raft.c says what is kept of it):
 * terms, heartbeats, pre-vote, CheckQuorum; a leader that is crashed or cut
 * off is replaced by a majority; a minority serves nothing (writes and
 * linearizable reads time out, keep-alives get "etcdserver: no leader");
 * a new leader extends every lease as etcd's Promote. Each node boots its
 * member (net_node_set_boot). Clients (etcd_client_new) talk to one member
 * and fail over to the next when it is down or does not answer. NULL if n
 * is not in 2..7. Owned by the scheduler. */
etcd_server_t *etcd_server_new_cluster(net_node_t *const *nodes, size_t n, const etcd_server_cfg_t *cfg);
/* The member that leads (its index; for a store of one: 0 while its node
 * is up), or -1; *term its term (1 for a store of one). */
int etcd_server_leader(const etcd_server_t *srv, uint64_t *term);
/* When the member that leads (or led last) began to lead: its lessor's
 * Promote; a store of one: its last boot. */
simtime_t etcd_server_leader_since(const etcd_server_t *srv);
/* A store of several members: the endpoints a client can talk to (every
 * member's node, in order); 0 for a store of one. */
size_t etcd_server_endpoints(const etcd_server_t *srv);
net_node_t *etcd_server_endpoint(const etcd_server_t *srv, size_t i);
/* Whether n is a member that is up and knows no leader (a store of
 * several members; false otherwise). */
bool etcd_server_member_leaderless(const etcd_server_t *srv, const net_node_t *n);

/* The node of a store of one; of a store of several, the node of the
 * member that leads or led last. */
net_node_t *etcd_server_node(const etcd_server_t *srv);
entity_t *etcd_server_entity(const etcd_server_t *srv);
/* The store itself, for checkers and tests: read it, never write it (a
 * write bypasses the trace, the entities and the watchers). Borrowed for
 * the life of the server. */
kv_t *etcd_server_kv(etcd_server_t *srv);
/* Requests served so far (duplicates not counted). */
uint64_t etcd_server_requests(const etcd_server_t *srv);

/* What a tracked prefix is, for its entity. */
typedef enum etcd_track_kind { ETCD_TRACK_LOCK, ETCD_TRACK_ELECTION } etcd_track_kind_t;
/* Publish an entity for the keys under prefix ("/lock/" with its slash),
 * recomputed from the store after every change (the holder or leader is the
 * key with the lowest create revision). Called by concurrency_mutex_new and
 * concurrency_election_new; observation only. Tracking a prefix twice is a no-op.
 * Returns the entity. */
entity_t *etcd_server_track(etcd_server_t *srv, const char *prefix, etcd_track_kind_t kind);

/* ---- the client ------------------------------------------------------------ */

typedef struct etcd_client etcd_client_t;

typedef struct etcd_client_cfg {
    simtime_t request_timeout;         /* no reply by then: ETCD_ERR_TIMEOUT; 7s
                                          (etcd's request timeout: 5s + 2 x election timeout) */
    simtime_t first_keepalive_timeout; /* keep-alive deadline before the first reply; 6s
                                          (clientv3: DialTimeout + 1s, the seed's DialTimeout 5s) */
    simtime_t keepalive_tick;          /* the keep-alive send loop's period; 500ms */
    simtime_t keepalive_check;         /* the keep-alive deadline check's period; 1s */
    simtime_t watch_retry;             /* resend an unconfirmed watch creation after; 500ms */
    uint32_t port;                     /* the client's inbox port; 0: 40000 + client number */
} etcd_client_cfg_t;

etcd_client_cfg_t etcd_client_cfg_default(void);

/* A client on node n talking to srv (cfg NULL: defaults); NULL if n is
 * down. Starts its receiving goroutine on n; crashing n ends it, and the
 * client with it (make a new one after a restart). Callers may run on any
 * node; the client's messages leave from n. Owned by the scheduler. */
etcd_client_t *etcd_client_new(etcd_server_t *srv, net_node_t *n, const etcd_client_cfg_t *cfg);
/* Client.Close: pending and later calls fail with GO_ERR_CANCELED
 * ("context canceled", as clientv3's calls do once its context is
 * cancelled by Close), watches and keep-alives end, the receiving goroutine
 * exits. */
void etcd_client_close(etcd_client_t *c);
net_node_t *etcd_client_node(const etcd_client_t *c);
etcd_server_t *etcd_client_server(const etcd_client_t *c);
const etcd_client_cfg_t *etcd_client_cfg(const etcd_client_t *c);
/* Unique in the run, from 1, in creation order. */
uint64_t etcd_client_id(const etcd_client_t *c);

/* Every call blocks the calling goroutine until the reply, ctx is done, or
 * the request timeout; returns NULL or the error. ctx may be
 * ctx_background(). out may be NULL; it is overwritten (not cleared) and
 * is filled only on success. */

/* Put(key, value, WithLease(lease)); lease 0 for none. out->revision is
 * the put's revision. */
const go_error_t *etcd_put(etcd_client_t *c, ctx_t *ctx, const char *key, const char *value,
                           int64_t lease, kv_result_t *out);
/* Get(key, opts): out->op.kvs, out->op.count, out->op.more; opts NULL: one key. */
const go_error_t *etcd_get(etcd_client_t *c, ctx_t *ctx, const char *key,
                           const kv_range_opts_t *opts, kv_result_t *out);
/* Delete(key [, WithPrefix()]): out->op.deleted. */
const go_error_t *etcd_delete(etcd_client_t *c, ctx_t *ctx, const char *key, bool prefix,
                              kv_result_t *out);
/* Txn(If(...).Then(...).Else(...)): out->succeeded, out->ops. */
const go_error_t *etcd_txn(etcd_client_t *c, ctx_t *ctx, const kv_txn_t *t, kv_result_t *out);
/* Compact(rev). */
const go_error_t *etcd_compact(etcd_client_t *c, ctx_t *ctx, int64_t rev, kv_result_t *out);

/* Grant(ttl): out->lease (the ID), out->ttl (raised to the minimum). */
const go_error_t *etcd_grant(etcd_client_t *c, ctx_t *ctx, int64_t ttl_s, kv_result_t *out);
/* KeepAliveOnce(lease): out->ttl; ETCD_ERR_LEASE_NOT_FOUND if the lease is
 * unknown, revoked or expired. */
const go_error_t *etcd_keepalive_once(etcd_client_t *c, ctx_t *ctx, int64_t lease,
                                      kv_result_t *out);
/* Revoke(lease): its keys are deleted in one revision; out->deleted. */
const go_error_t *etcd_revoke(etcd_client_t *c, ctx_t *ctx, int64_t lease, kv_result_t *out);
/* TimeToLive(lease): out->ttl = whole seconds left, rounded down (-1 if
 * the lease is gone, with no error, as etcd), out->granted_ttl,
 * out->lease_keys. */
const go_error_t *etcd_time_to_live(etcd_client_t *c, ctx_t *ctx, int64_t lease,
                                    kv_result_t *out);

/* One keep-alive reply, as KeepAlive's channel carries it (by value). */
typedef struct etcd_ka_resp {
    int64_t lease;    /* the lease ID */
    int64_t ttl;      /* its TTL in seconds, > 0 */
    int64_t revision; /* the header's revision */
} etcd_ka_resp_t;

/* KeepAlive(ctx, lease): keeps the lease alive from a goroutine on the
 * client's node, on the keep-alive ticks above: the first keep-alive at
 * once, each next one at the first tick TTL/3 after the previous reply,
 * sent again at every tick while unanswered.
 * Returns a channel of etcd_ka_resp_t (capacity 16; a reply is dropped if
 * it is full, as clientv3 does) that is closed when keeping alive ends:
 * ctx done, a reply with TTL <= 0, no reply before the deadline, or the
 * client closed. The channel is owned by the scheduler. */
chan_t *etcd_keepalive(etcd_client_t *c, ctx_t *ctx, int64_t lease);

/* ---- watches ------------------------------------------------------------------ */

typedef struct etcd_watch_opts {
    bool prefix;       /* every key starting with key */
    int64_t start_rev; /* first revision to report (inclusive); 0: the one after the
                          store's revision when the server registers the watch */
} etcd_watch_opts_t;

/* A watch response, as etcd 3.4 sends them: the history of a watch from a
 * revision the store has reached comes from the server's next sync of
 * such watches (every watch_sync_interval from its boot), in responses of
 * up to 1000 revisions (a sync each), stamped with the store's revision at
 * the sync; after it, the events of one revision per response (a
 * transaction's writes together), stamped with the revision; or the
 * watch's end. A scheduler object: the receiver may free
 * it with etcd_watch_resp_free; otherwise it lives until sched_destroy. */
typedef struct etcd_watch_resp {
    obj_t obj;                /* scheduler bookkeeping, not for users */
    int64_t revision;         /* header.revision: the store's when it was sent */
    kv_event_t *events;       /* in revision order, a revision's in the order it made them */
    size_t nevents;
    bool canceled;            /* the watch ends with this response */
    int64_t compact_revision; /* set if it ended because of compaction */
    const go_error_t *err;    /* why it ended (ETCD_ERR_COMPACTED), or NULL */
} etcd_watch_resp_t;

void etcd_watch_resp_free(etcd_watch_resp_t *r);

/* Watch(ctx, key, opts): returns at once (the creation goes to the server
 * in the background and is resent until confirmed) a channel of
 * etcd_watch_resp_t pointers, unbuffered as clientv3's WatchChan, that
 * receives the events from start_rev on in revision order, each revision
 * once, without gaps (batched as etcd_watch_resp_t says). The channel is closed when ctx is done, the client is
 * closed, or after a response with canceled set (start_rev or the watch's
 * position compacted: "mvcc: required revision has been compacted"). A
 * goroutine on the client's node feeds it. The channel is owned by the
 * scheduler; pointers received transfer ownership of the response. */
chan_t *etcd_watch(etcd_client_t *c, ctx_t *ctx, const char *key, const etcd_watch_opts_t *opts);

#endif
