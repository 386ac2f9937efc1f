/*
 * net: the simulated cluster: nodes, the links between them, messages, and
 * the faults of Jepsen, Toxiproxy and Chaos Mesh.
 *
 * A node is a simulated process: a goroutine group (core/sched.h) with a
 * name, a boot function run at start and at every restart, a local clock
 * with offset and drift, and inboxes (one per port) that receive messages.
 * Goroutines on a node talk to other nodes only by messages; channels,
 * locks and timers stay node-local. Crashing a node kills its goroutines
 * and drops its inboxes (state lost); pausing it freezes them (a SIGSTOP
 * or a long GC pause), and its timers and messages wait for the resume.
 *
 * A message is sent over the directed link (src, dst): it is delivered
 * after the link's latency plus jitter (and a serialisation delay when the
 * link has a bandwidth), unless the link loses it; it may be duplicated or
 * held back (reordered). Partitions are checked when a message would be
 * delivered, so a message in flight when a partition starts is lost, as on
 * a real network. Every send, delivery, drop and fault is a trace event.
 *
 * Randomness comes from the run's world stream; time from the simulated
 * clock. Ownership: the cluster, its nodes and their inboxes are owned by
 * the running scheduler. A message's payload is reference counted: the
 * receiver owns one reference and releases it with net_msg_release.
 */
#ifndef CHANSIM_NET_H
#define CHANSIM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "entity.h"
#include "sched.h"

typedef struct net_cluster net_cluster_t;
typedef struct net_node net_node_t;

/* Settings of a directed link. Probabilities are in parts per million. */
typedef struct net_link_cfg {
    simtime_t latency;       /* base one-way delay */
    simtime_t jitter;        /* plus a uniform draw in [0, jitter] */
    uint32_t loss_ppm;       /* messages dropped */
    uint32_t dup_ppm;        /* messages delivered twice */
    uint32_t reorder_ppm;    /* messages held back by reorder_delay */
    simtime_t reorder_delay; /* extra delay of a held-back message */
    int64_t bandwidth_bps;   /* bytes per second; 0: unlimited */
} net_link_cfg_t;

/* A link with 1ms latency and nothing else. */
net_link_cfg_t net_link_cfg_default(void);

typedef struct net_msg {
    net_node_t *src, *dst;       /* endpoints */
    uint32_t port;           /* the inbox it goes to */
    uint64_t id;             /* unique in the run, in send order */
    simtime_t sent_at;       /* when it was sent */
    size_t size;             /* bytes, for bandwidth */
    void *payload;           /* the content; freed by free_payload at the last release */
    void (*free_payload)(void *payload);
    int refs;                /* references held (a duplicate adds one) */
} net_msg_t;

/* ---- the cluster and its nodes ----------------------------------------- */

net_cluster_t *net_cluster_new(const char *name);
/* Add a node; its goroutines start with its boot function (net_node_set_boot)
 * when net_node_start is called. Names are unique. */
net_node_t *net_cluster_add_node(net_cluster_t *c, const char *name);
net_node_t *net_cluster_node(net_cluster_t *c, const char *name);
size_t net_cluster_node_count(const net_cluster_t *c);
net_node_t *net_cluster_node_at(const net_cluster_t *c, size_t i);
entity_t *net_cluster_entity(const net_cluster_t *c);

/* The boot function runs in a new goroutine of the node at net_node_start and
 * after every restart. */
void net_node_set_boot(net_node_t *n, void (*boot)(net_node_t *n, void *arg), void *arg);
void net_node_start(net_node_t *n);
/* Run fn(arg) in a new goroutine on the node (NULL if the node is down). */
g_t *net_node_go(net_node_t *n, void (*fn)(void *), void *arg, const char *name);
/* Move a goroutine just started elsewhere onto the node (the Lua host
 * starts its goroutines itself). False if the node is down. */
bool net_node_adopt(net_node_t *n, g_t *g);
/* The node the running goroutine belongs to, or NULL. */
net_node_t *net_node_self(net_cluster_t *c);

const char *net_node_name(const net_node_t *n);
net_cluster_t *net_node_cluster(const net_node_t *n);
entity_t *net_node_entity(const net_node_t *n);
bool net_node_up(const net_node_t *n);      /* started and not crashed */
bool net_node_paused(const net_node_t *n);
/* Incarnation: 0 at the first start, +1 at every restart. */
uint64_t net_node_incarnation(const net_node_t *n);

/* ---- faults -------------------------------------------------------------- */

/* Crash: every goroutine of the node ends, its inboxes are dropped, and
 * messages to it are lost until it restarts. */
void net_node_crash(net_node_t *n);
/* Restart a crashed node: new inboxes, the boot function runs again. */
void net_node_restart(net_node_t *n);
/* Pause and resume (SIGSTOP / SIGCONT, a stop-the-world GC pause). */
void net_node_pause(net_node_t *n);
void net_node_resume(net_node_t *n);
/* The node's clock: offset plus drift in parts per million. */
void net_node_set_clock(net_node_t *n, simtime_t offset, int64_t drift_ppm);
/* The node's local reading of the time. */
simtime_t net_node_clock(const net_node_t *n);
/* Sleep d as measured by the node's own clock. */
void net_node_sleep(net_node_t *n, simtime_t d);

/* Settings for every link without its own, and for one directed link. */
void net_cluster_set_default_link(net_cluster_t *c, const net_link_cfg_t *cfg);
void net_cluster_set_link(net_cluster_t *c, net_node_t *src, net_node_t *dst, const net_link_cfg_t *cfg);
const net_link_cfg_t *net_cluster_link(net_cluster_t *c, net_node_t *src, net_node_t *dst);

/* Cut every link from a node in side_a to a node in side_b (and back,
 * unless one_way). Partitions accumulate until net_cluster_heal. */
void net_cluster_partition(net_cluster_t *c, net_node_t *const *side_a, size_t na, net_node_t *const *side_b,
                           size_t nb, bool one_way);
/* Isolate one node from every other. */
void net_cluster_isolate(net_cluster_t *c, net_node_t *n);
/* Split the nodes into a majority and a minority (the minority is the
 * ceil(n/2)-1 nodes after the first floor(n/2)+1 in creation order). */
void net_cluster_partition_majority(net_cluster_t *c);
void net_cluster_heal(net_cluster_t *c);
/* True if messages from src to dst are cut. */
bool net_cluster_cut(const net_cluster_t *c, const net_node_t *src, const net_node_t *dst);

/* ---- messages ------------------------------------------------------------ */

/* Send payload from src to dst's inbox port. The message takes ownership of
 * payload (freed by free_payload, which may be NULL). Returns the
 * message's id. Sending from a down node does nothing (returns 0). */
uint64_t net_send(net_node_t *src, net_node_t *dst, uint32_t port, void *payload, size_t size,
                  void (*free_payload)(void *));
/* The inbox of a port of a node: a channel of net_msg_t pointers, made on
 * first use and dropped when the node crashes. A receiver owns the message
 * it receives and calls net_msg_release. NULL while the node is down. */
chan_t *net_node_inbox(net_node_t *n, uint32_t port);
void net_msg_release(net_msg_t *m);

/* The node of that name in any cluster of the running scheduler (the
 * first made), or NULL. */
net_node_t *net_node_find(const char *name);
/* Heal every cluster of the running scheduler. */
void net_heal_all(void);

/* Counters of the whole cluster. */
typedef struct net_stats {
    uint64_t sent, delivered, lost, cut, dropped_down, duplicated, reordered;
} net_stats_t;
net_stats_t net_cluster_stats(const net_cluster_t *c);

#endif
