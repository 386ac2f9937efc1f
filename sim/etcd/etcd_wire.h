/*
 * etcd_wire: the messages between the etcd client (etcd.c) and server
 * (etcd_server.c and etcd_server_*.c). Private to them.
 *
 * Every message payload is malloc'd by its sender and handed to net_send
 * with its free function, so the network owns it until the receiver's
 * net_msg_release; receivers copy or move what they keep. A payload may be
 * delivered twice (a duplicating link), so a receiver that moves data out
 * of a payload must make sure it will ignore the second copy.
 *
 * Watch delivery: a watch message covers the revisions (after_rev,
 * last_rev] of its watch and carries every matching event in that range.
 * The client applies a message only when after_rev is not beyond what it
 * has, keeps messages that arrive early, and acknowledges the revision it
 * has; the server resends (acked, sent] until acknowledged. The first
 * message of a watch has `created` set and tells the client where the
 * watch starts. A watch behind the store (from a past revision) gets its
 * history from the server's sync loop, in catch-up messages (header_rev
 * set), each one response at the client; a message without header_rev
 * makes one response per revision.
 */
#ifndef CHANSIM_ETCD_WIRE_H
#define CHANSIM_ETCD_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "etcd.h"
#include "kv.h"

typedef enum etcd_req_kind {
    RQ_TXN,          /* txn (single: a put, get or delete) */
    RQ_COMPACT,      /* num: the revision */
    RQ_GRANT,        /* num: TTL, lease: the wanted ID or 0 */
    RQ_KEEPALIVE,    /* lease */
    RQ_REVOKE,       /* lease */
    RQ_TTL,          /* lease: TimeToLive */
    RQ_WATCH_CREATE, /* watch, key, prefix, num: start revision */
    RQ_WATCH_ACK,    /* watch, num: the revision the client has */
    RQ_WATCH_CANCEL, /* watch */
} etcd_req_kind_t;

typedef struct etcd_req {
    etcd_req_kind_t kind;
    uint64_t client;      /* the client's number */
    uint64_t id;          /* request number within the client, from 1 (0 for watch messages) */
    uint32_t reply_port;  /* the client's inbox port */
    uint64_t incarnation; /* the client's node's incarnation when the client was made */
    bool single;          /* RQ_TXN: a single-op request */
    bool stream;          /* RQ_KEEPALIVE: from a keep-alive loop (reply routed by lease) */
    kv_txn_t *txn;        /* RQ_TXN: owned */
    int64_t num;          /* see the kinds */
    int64_t lease;        /* see the kinds */
    uint64_t watch;       /* watch messages: the client's watch number */
    char *key;            /* RQ_WATCH_CREATE: owned */
    bool prefix;          /* RQ_WATCH_CREATE */
    /* A store of several members: a request a follower forwards to the
     * leader carries its client's node and port here (reply_port is then
     * the follower's relay port); NULL for a request from a client. */
    net_node_t *origin;
    uint32_t origin_port;
} etcd_req_t;

typedef enum etcd_resp_kind {
    RS_REPLY, /* the reply to a request */
    RS_WATCH, /* a watch message */
} etcd_resp_kind_t;

typedef struct etcd_resp {
    etcd_resp_kind_t kind;
    uint64_t id;          /* RS_REPLY: the request's number */
    bool stream;          /* RS_REPLY to a keep-alive loop: route by lease */
    int64_t lease;        /* RS_REPLY to a keep-alive: the lease */
    kv_err_t err;         /* RS_REPLY: the store's error, or KV_OK */
    kv_result_t result;   /* RS_REPLY: owned */
    uint64_t watch;       /* RS_WATCH: the client's watch number */
    bool created;         /* RS_WATCH: the watch's first message */
    bool canceled;        /* RS_WATCH: the server ended the watch */
    int64_t compact_rev;  /* RS_WATCH canceled by compaction: the compaction point */
    int64_t after_rev;    /* RS_WATCH: covers (after_rev, last_rev] */
    int64_t last_rev;
    int64_t header_rev;   /* RS_WATCH: 0, or a catch-up message: its events make one
                           * response stamped with this (the store's revision at its sync) */
    kv_event_t *events;   /* RS_WATCH: owned */
    size_t nevents;
    net_node_t *origin;   /* RS_REPLY to a forwarded request: where the relay sends it */
    uint32_t origin_port;
} etcd_resp_t;

/* Allocate zeroed; free (with what they own). */
etcd_req_t *etcd_req_new(etcd_req_kind_t kind);
void etcd_req_free(void *req);
size_t etcd_req_size(const etcd_req_t *r);
/* Deep copies (a forwarded request, a relayed reply). */
etcd_req_t *etcd_req_dup(const etcd_req_t *r);
etcd_resp_t *etcd_resp_dup(const etcd_resp_t *r);
etcd_resp_t *etcd_resp_new(etcd_resp_kind_t kind);
/* Whether a request is a Raft proposal in etcd 3.4 (a write, a
 * compaction, a lease grant or revoke) or waits for a leader as one does
 * (TimeToLive): at a member without a leader it waits for one (up to the
 * server's 7s, then "context deadline exceeded"); a read-only txn is a
 * linearizable read instead ("etcdserver: request timed out"). */
bool etcd_req_waits_for_leader(const etcd_req_t *q);
void etcd_resp_free(void *resp);
size_t etcd_resp_size(const etcd_resp_t *r);

/* The server's side of a client's creation (etcd_server.c): a client
 * number, from 1; and the port requests go to. */
uint64_t etcd_server_register(etcd_server_t *srv);
uint32_t etcd_server_port(const etcd_server_t *srv);


/* The lease ID as etcd prints it in keys: lowercase hex, no padding. */
void etcd_lease_hex(int64_t lease, char *buf, size_t size);

#endif
