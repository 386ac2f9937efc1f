/*
 * etcd_server_raft: a store of several members (etcd_server_new_cluster).
 *
 * etcd runs its members as a Raft group; chansim keeps what a client sees
 * of it. The committed state (the kv store, leases, watchers) is one, as
 * Raft makes it; members differ in what they know: their term, their vote,
 * the leader they follow, and the revision they have heard of. Elections
 * and heartbeats are messages between the members' nodes (port 2380):
 * - A follower that hears no heartbeat for its election timeout (drawn in
 *   [election_timeout, 2 x election_timeout), as etcd's randomized timeout)
 *   asks the others for a pre-vote (etcd 3.5's default, --pre-vote); with a
 *   majority it raises its term and asks for votes; with a majority of
 *   votes it leads. A member grants a vote once per term, to a candidate
 *   that has heard of at least the revisions it has, and ignores
 *   candidates while it hears from a leader (CheckQuorum's leader lease).
 * - The leader sends heartbeats every heartbeat_interval; a message with a
 *   higher term makes any member a follower of that term; a leader that has
 *   not heard from a majority within an election timeout steps down
 *   (CheckQuorum, which etcd enables).
 * - A new leader does what etcd's lessor Promote does: every lease's
 *   deadline becomes now + promote_extend + its TTL; only the leader
 *   expires leases, every expiry check at a quorum.
 * - Requests: a member that leads serves a request once a majority has
 *   answered a heartbeat sent for it (a write is committed, a read is
 *   linearizable: ReadIndex); a follower forwards the request to its leader
 *   and relays the reply; a member that knows no leader answers a
 *   keep-alive "etcdserver: no leader" at once and lets anything else time
 *   out ("etcdserver: request timed out"), as etcd's minority does.
 * - Watches are kept by the store and fed from the leader's node.
 * A crashed member keeps its term and vote (etcd persists them).
 */
#include <stdio.h>
#include <stdlib.h>

#include "etcd_server_internal.h"
#include "rand.h"
#include "timer.h"

#define PEER_PORT 2380
#define RELAY_PORT 2381
#define MAX_MEMBERS 7

typedef enum { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER } role_t;

typedef enum { PM_HEARTBEAT, PM_HEARTBEAT_ACK, PM_PREVOTE, PM_PREVOTE_RESP, PM_VOTE, PM_VOTE_RESP } pm_kind_t;

typedef struct peer_msg {
    pm_kind_t kind;
    int from;
    uint64_t term;   /* the sender's term (a pre-vote: the term it would take) */
    int64_t rev;     /* heartbeat: the leader's revision; votes: the candidate's */
    uint64_t seq;    /* heartbeat and its ack: the leader's round */
    bool granted;    /* vote and pre-vote answers */
} peer_msg_t;

struct member {
    etcd_server_t *srv;
    int idx;
    net_node_t *node;
    entity_t *entity;
    role_t role;
    uint64_t term;
    int voted_for;           /* in term, -1 none */
    int leader;              /* the leader it follows, -1 none */
    int64_t known_rev;       /* the highest revision it has heard of */
    simtime_t heard_at;      /* the leader's last heartbeat (followers) */
    simtime_t timeout;       /* this period's election timeout */
    int votes;               /* as a (pre-)candidate */
    uint64_t seq;            /* leader: heartbeat rounds sent */
    uint64_t acked_seq[MAX_MEMBERS];
    simtime_t acked_at[MAX_MEMBERS];
    simtime_t quorum_check;  /* leader: when CheckQuorum looks next */
    chan_t *acks;            /* closed when an ack comes or the member steps down (then replaced) */
    chan_t *led;             /* while it knows no leader and a proposal waits: closed when it
                              * learns of one (NULL otherwise) */
    net_msg_t *cur;          /* the request in hand (released at the next boot) */
};

/* Wake everyone waiting for acks (closed and replaced: a broadcast). */
static void acks_signal(member_t *mb)
{
    chan_t *old = mb->acks;
    mb->acks = chan_make(0, 0);
    chan_close(old);
}

bool etcd_server_raft_still_leads(const etcd_server_t *srv, int leader, uint64_t term)
{
    return srv->nmembers == 0 || (srv->leader == leader && srv->term == term && leader >= 0);
}

static int majority(const etcd_server_t *srv) { return (int)srv->nmembers / 2 + 1; }

static void peer_send(member_t *mb, int to, pm_kind_t kind, uint64_t term, bool granted)
{
    etcd_server_t *srv = mb->srv;
    peer_msg_t *pm = mem_calloc(1, sizeof *pm);
    pm->kind = kind;
    pm->from = mb->idx;
    pm->term = term;
    pm->rev = mb->role == LEADER ? kv_revision(srv->kv) : mb->known_rev;
    pm->seq = mb->seq;
    pm->granted = granted;
    net_send(mb->node, srv->members[to].node, PEER_PORT, pm, 32, free);
}

static void broadcast(member_t *mb, pm_kind_t kind, uint64_t term)
{
    for (size_t i = 0; i < mb->srv->nmembers; i++)
        if ((int)i != mb->idx)
            peer_send(mb, (int)i, kind, term, false);
}

static simtime_t draw_timeout(const etcd_server_t *srv)
{
    simtime_t e = srv->cfg.election_timeout;
    return e + (simtime_t)rand_below(sched_rand(sched_current(), RAND_WORLD), (uint64_t)e);
}

static void publish_members(etcd_server_t *srv)
{
    etcd_server_set_if(srv->entity, "term", (int64_t)srv->term);
    etcd_server_set_if(srv->entity, "leader", srv->leader >= 0 ? srv->leader + 1 : 0);
    etcd_server_state_if(srv->entity, srv->leader >= 0 ? "up" : "no leader");
    for (size_t i = 0; i < srv->nmembers; i++) {
        member_t *mb = &srv->members[i];
        static const char *const names[] = {"follower", "pre-candidate", "candidate", "leader"};
        etcd_server_state_if(mb->entity, net_node_up(mb->node) ? names[mb->role] : "down");
        etcd_server_set_if(mb->entity, "term", (int64_t)mb->term);
        if (mb->leader >= 0 && mb->led) {
            chan_close(mb->led); /* the proposals waiting for a leader go on */
            mb->led = NULL;
        }
    }
}

static void step_down(member_t *mb, uint64_t term, int leader)
{
    etcd_server_t *srv = mb->srv;
    bool led = mb->role == LEADER;
    if (led)
        mb->known_rev = kv_revision(srv->kv); /* it has what it committed */
    if (term > mb->term) {
        mb->term = term;
        mb->voted_for = -1;
    }
    mb->role = FOLLOWER;
    mb->leader = leader;
    if (led && srv->leader == mb->idx) {
        srv->leader = -1;
        etcd_server_emitf(srv, (int64_t)mb->term, mb->idx + 1, "etcd member %s steps down (term %llu)",
              net_node_name(mb->node), (unsigned long long)mb->term);
        acks_signal(mb);
    }
    publish_members(srv);
}

static void become_leader(member_t *mb)
{
    etcd_server_t *srv = mb->srv;
    simtime_t now = sched_now();
    mb->role = LEADER;
    mb->leader = mb->idx;
    for (size_t i = 0; i < srv->nmembers; i++) {
        mb->acked_at[i] = now; /* a fresh leader has the election's majority */
        mb->acked_seq[i] = 0;
    }
    mb->quorum_check = now + srv->cfg.election_timeout;
    srv->leader = mb->idx;
    srv->leader_since = now;
    srv->term = mb->term;
    srv->node = mb->node;
    srv->boot_at = now;
    srv->ndeferred = 0; /* their streams were to the old leader */
    kv_lease_extend_all(srv->kv, now, srv->cfg.promote_extend);
    etcd_server_emitf(srv, (int64_t)mb->term, mb->idx + 1, "etcd member %s leads term %llu: leases extended",
          net_node_name(mb->node), (unsigned long long)mb->term);
    etcd_server_lease_publish(srv);
    publish_members(srv);
    srv->lease_wake = chan_make(1, 1);
    srv->resend_wake = chan_make(1, 1);
    srv->sync_wake = NULL;
    net_node_go(mb->node, etcd_server_lease_expire_loop, srv, "etcd.lessor");
    net_node_go(mb->node, etcd_server_watch_resend_loop, srv, "etcd.watch-resend");
    etcd_server_watch_kick(srv);
    mb->seq++;
    broadcast(mb, PM_HEARTBEAT, mb->term);
}

static void start_election(member_t *mb, bool pre)
{
    etcd_server_t *srv = mb->srv;
    mb->role = pre ? PRE_CANDIDATE : CANDIDATE;
    mb->leader = -1;
    mb->votes = 1;
    mb->heard_at = sched_now();
    mb->timeout = draw_timeout(srv);
    if (!pre) {
        mb->term++;
        mb->voted_for = mb->idx;
        etcd_server_emitf(srv, (int64_t)mb->term, mb->idx + 1, "etcd member %s campaigns for term %llu",
              net_node_name(mb->node), (unsigned long long)mb->term);
    }
    publish_members(srv);
    if (mb->votes >= majority(srv)) {
        if (pre)
            start_election(mb, false);
        else
            become_leader(mb);
        return;
    }
    broadcast(mb, pre ? PM_PREVOTE : PM_VOTE, pre ? mb->term + 1 : mb->term);
}

/* Whether it hears from a leader (CheckQuorum's lease: it ignores candidates). */
static bool in_lease(const member_t *mb)
{
    if (mb->role == LEADER)
        return true;
    return mb->leader >= 0 && sched_now() - mb->heard_at < mb->srv->cfg.election_timeout;
}

static void peer_recv(member_t *mb, const peer_msg_t *pm)
{
    etcd_server_t *srv = mb->srv;
    simtime_t now = sched_now();
    if (pm->kind != PM_PREVOTE && pm->kind != PM_PREVOTE_RESP && pm->term > mb->term) {
        if (pm->kind == PM_VOTE && in_lease(mb))
            return; /* a leader is alive: not disrupted */
        step_down(mb, pm->term, pm->kind == PM_HEARTBEAT ? pm->from : -1);
    }
    switch (pm->kind) {
    case PM_HEARTBEAT:
        if (pm->term < mb->term) {
            peer_send(mb, pm->from, PM_HEARTBEAT_ACK, mb->term, false); /* tells it it is stale */
            return;
        }
        if (mb->role != FOLLOWER || mb->leader != pm->from) {
            mb->role = FOLLOWER;
            mb->leader = pm->from;
            publish_members(srv);
        }
        mb->heard_at = now;
        if (pm->rev > mb->known_rev)
            mb->known_rev = pm->rev;
        {
            uint64_t seq = mb->seq;
            mb->seq = pm->seq; /* echo the leader's round */
            peer_send(mb, pm->from, PM_HEARTBEAT_ACK, mb->term, true);
            mb->seq = seq;
        }
        break;
    case PM_HEARTBEAT_ACK:
        if (mb->role != LEADER || pm->term != mb->term)
            return;
        mb->acked_at[pm->from] = now;
        if (pm->seq > mb->acked_seq[pm->from])
            mb->acked_seq[pm->from] = pm->seq;
        acks_signal(mb);
        break;
    case PM_PREVOTE:
    case PM_VOTE: {
        bool grant = false;
        if (pm->term >= mb->term && !in_lease(mb) && pm->rev >= mb->known_rev) {
            if (pm->kind == PM_PREVOTE) {
                grant = pm->term > mb->term;
            } else if (mb->voted_for < 0 || mb->voted_for == pm->from) {
                grant = true;
                mb->voted_for = pm->from;
                mb->heard_at = now; /* granting resets its own timer */
            }
        }
        peer_send(mb, pm->from, pm->kind == PM_VOTE ? PM_VOTE_RESP : PM_PREVOTE_RESP,
                  pm->kind == PM_VOTE ? mb->term : pm->term, grant);
        break;
    }
    case PM_PREVOTE_RESP:
        if (mb->role == PRE_CANDIDATE && pm->granted && pm->term == mb->term + 1 &&
            ++mb->votes >= majority(srv))
            start_election(mb, false);
        break;
    case PM_VOTE_RESP:
        if (mb->role == CANDIDATE && pm->granted && pm->term == mb->term &&
            ++mb->votes >= majority(srv))
            become_leader(mb);
        break;
    }
}

static void raft_loop(void *arg)
{
    member_t *mb = arg;
    etcd_server_t *srv = mb->srv;
    chan_t *in = net_node_inbox(mb->node, PEER_PORT);
    simtime_t next_beat = sched_now();
    for (;;) {
        simtime_t now = sched_now();
        if (mb->role == LEADER) {
            if (now >= mb->quorum_check) {
                int heard = 1;
                for (size_t i = 0; i < srv->nmembers; i++)
                    if ((int)i != mb->idx && now - mb->acked_at[i] < srv->cfg.election_timeout)
                        heard++;
                if (heard < majority(srv)) {
                    step_down(mb, mb->term, -1);
                    mb->heard_at = now;
                    mb->timeout = draw_timeout(srv);
                    continue;
                }
                mb->quorum_check = now + srv->cfg.election_timeout;
            }
            if (now >= next_beat) {
                mb->seq++;
                broadcast(mb, PM_HEARTBEAT, mb->term);
                next_beat = now + srv->cfg.heartbeat_interval;
            }
        } else if (now - mb->heard_at >= mb->timeout) {
            start_election(mb, true);
            continue;
        }
        simtime_t until = mb->role == LEADER ? (next_beat < mb->quorum_check ? next_beat : mb->quorum_check)
                                              : mb->heard_at + mb->timeout;
        /* The election timer, for the view alone (it moves at every
         * heartbeat: no trace event); a leader has none. */
        entity_note(mb->entity, "election_from", mb->role == LEADER ? 0 : mb->heard_at);
        entity_note(mb->entity, "election_until", mb->role == LEADER ? 0 : mb->heard_at + mb->timeout);
        sim_timer_t *t = timer_new(until > now ? until - now : 0);
        net_msg_t *m = NULL;
        select_case_t cs[2] = {
            {in, SELECT_RECV, &m, false},
            {timer_chan(t), SELECT_RECV, NULL, false},
        };
        int i = chan_select(cs, 2, false);
        timer_stop(t);
        timer_free(t);
        if (i == 0 && m) {
            peer_recv(mb, m->payload);
            net_msg_release(m);
            if (mb->role == LEADER && sched_now() >= next_beat)
                continue;
        }
    }
}

/* The leader's round for one request: a heartbeat, and a majority's
 * answers to it (or to a later one). False if it stopped leading first.
 * *round (if not NULL) is the heartbeat's number. */
static bool quorum_round_n(member_t *mb, uint64_t *round)
{
    etcd_server_t *srv = mb->srv;
    uint64_t term = mb->term;
    uint64_t seq = ++mb->seq;
    if (round)
        *round = seq;
    broadcast(mb, PM_HEARTBEAT, mb->term);
    for (;;) {
        if (mb->role != LEADER || mb->term != term)
            return false;
        int n = 1;
        for (size_t i = 0; i < srv->nmembers; i++)
            if ((int)i != mb->idx && mb->acked_seq[i] >= seq)
                n++;
        if (n >= majority(srv))
            return true;
        chan_recv(mb->acks, NULL); /* closed at the next ack or step-down */
    }
}

static bool quorum_round(member_t *mb) { return quorum_round_n(mb, NULL); }

/* The members that answered round have the entry the request wrote: they
 * have heard of its revision (what a vote compares). */
static void committed(member_t *mb, uint64_t round)
{
    etcd_server_t *srv = mb->srv;
    int64_t rev = kv_revision(srv->kv);
    mb->known_rev = rev;
    for (size_t i = 0; i < srv->nmembers; i++)
        if ((int)i != mb->idx && mb->acked_seq[i] >= round && srv->members[i].known_rev < rev)
            srv->members[i].known_rev = rev;
}

bool etcd_server_raft_leader_quorum(etcd_server_t *srv)
{
    if (srv->nmembers == 0)
        return true;
    if (srv->leader < 0)
        return false;
    member_t *mb = &srv->members[srv->leader];
    return quorum_round(mb);
}

/* A proposal at a member that knows no leader: etcd 3.4's raft node holds
 * it (its proposal channel is nil without a leader) until a leader is
 * known, then forwards it; the server gives up after its request timeout
 * (5s + 2 election timeouts: 7s), answering "context deadline exceeded",
 * which the client's own 7s timeout stands for (etcd_client_call). */
typedef struct parked {
    obj_t hdr;               /* scheduler-owned: freed with the run if its node crashes */
    member_t *mb;
    etcd_req_t *q;           /* owned until forwarded */
    net_node_t *src;         /* the client's node */
    chan_t *led;             /* the member's, when it parked */
} parked_t;

static void parked_deinit(obj_t *o)
{
    parked_t *p = (parked_t *)o;
    if (p->q)
        etcd_req_free(p->q);
}

static void park_loop(void *arg)
{
    parked_t *p = arg;
    member_t *mb = p->mb;
    etcd_server_t *srv = mb->srv;
    sim_timer_t *t = timer_new(5 * SIM_SEC + 2 * srv->cfg.election_timeout);
    select_case_t cs[2] = {
        {p->led, SELECT_RECV, NULL, false},
        {timer_chan(t), SELECT_RECV, NULL, false},
    };
    int i = chan_select(cs, 2, false);
    timer_stop(t);
    timer_free(t);
    if (i == 0 && mb->leader >= 0) {
        /* forwarded as a follower forwards (to itself if it now leads: one
         * hop of its own link, where etcd proposes locally) */
        etcd_req_t *f = p->q;
        p->q = NULL;
        f->origin = p->src;
        f->origin_port = f->reply_port;
        f->reply_port = RELAY_PORT;
        net_send(mb->node, srv->members[mb->leader].node, srv->cfg.port, f, etcd_req_size(f),
                 etcd_req_free);
    }
    obj_free(p);
}

static void park(member_t *mb, const net_msg_t *m)
{
    if (!mb->led)
        mb->led = chan_make(0, 0);
    parked_t *p = obj_alloc(sizeof *p, OBJ_NONE, parked_deinit);
    p->mb = mb;
    p->q = etcd_req_dup(m->payload);
    p->src = m->src;
    p->led = mb->led;
    net_node_go(mb->node, park_loop, p, "etcd.wait-leader");
}

bool etcd_server_member_leaderless(const etcd_server_t *srv, const net_node_t *n)
{
    for (size_t i = 0; i < srv->nmembers; i++)
        if (srv->members[i].node == n)
            return net_node_up(n) && srv->members[i].leader < 0;
    return false;
}

static void member_serve(void *arg)
{
    member_t *mb = arg;
    etcd_server_t *srv = mb->srv;
    chan_t *in = net_node_inbox(mb->node, srv->cfg.port);
    for (;;) {
        net_msg_t *m;
        chan_recv(in, &m);
        mb->cur = m;
        const etcd_req_t *q = m->payload;
        bool watch = q->kind == RQ_WATCH_CREATE || q->kind == RQ_WATCH_ACK || q->kind == RQ_WATCH_CANCEL;
        if (mb->role == LEADER) {
            uint64_t round = 0;
            if ((watch || quorum_round_n(mb, &round)) && mb->role == LEADER) {
                if (srv->cfg.service_time > 0)
                    go_sleep(srv->cfg.service_time);
                if (mb->role == LEADER) {
                    etcd_server_handle(srv, m);
                    if (!watch)
                        committed(mb, round);
                }
            }
        } else if (q->origin) {
            /* forwarded to a member that no longer leads: lost */
        } else if (mb->leader >= 0) {
            etcd_req_t *f = etcd_req_dup(q);
            f->origin = m->src;
            f->origin_port = q->reply_port;
            f->reply_port = RELAY_PORT;
            net_send(mb->node, srv->members[mb->leader].node, srv->cfg.port, f, etcd_req_size(f),
                     etcd_req_free);
        } else if (q->kind == RQ_KEEPALIVE) {
            etcd_resp_t *r = etcd_resp_new(RS_REPLY);
            r->id = q->id;
            r->stream = q->stream;
            r->lease = q->lease;
            r->err = KV_ERR_NO_LEADER;
            r->result.lease = q->lease;
            net_send(mb->node, m->src, q->reply_port, r, etcd_resp_size(r), etcd_resp_free);
        } else if (etcd_req_waits_for_leader(q)) {
            park(mb, m);
        }
        mb->cur = NULL;
        net_msg_release(m);
    }
}

static void member_relay(void *arg)
{
    member_t *mb = arg;
    chan_t *in = net_node_inbox(mb->node, RELAY_PORT);
    for (;;) {
        net_msg_t *m;
        chan_recv(in, &m);
        const etcd_resp_t *r = m->payload;
        if (r->origin) {
            etcd_resp_t *d = etcd_resp_dup(r);
            d->origin = NULL;
            net_send(mb->node, r->origin, r->origin_port, d, etcd_resp_size(d), etcd_resp_free);
        }
        net_msg_release(m);
    }
}

static void member_boot(net_node_t *n, void *arg)
{
    member_t *mb = arg;
    etcd_server_t *srv = mb->srv;
    (void)n;
    if (mb->cur) {
        net_msg_release(mb->cur);
        mb->cur = NULL;
    }
    mb->role = FOLLOWER;
    mb->leader = -1;
    mb->led = NULL; /* its waiting proposals died with it */
    mb->heard_at = sched_now();
    mb->timeout = draw_timeout(srv);
    mb->acks = chan_make(0, 0);
    if (srv->leader == mb->idx)
        srv->leader = -1; /* it crashed leading */
    publish_members(srv);
    net_node_go(n, raft_loop, mb, "etcd.raft");
    net_node_go(n, member_serve, mb, "etcd.serve");
    net_node_go(n, member_relay, mb, "etcd.relay");
}

etcd_server_t *etcd_server_new_cluster(net_node_t *const *nodes, size_t n, const etcd_server_cfg_t *cfg)
{
    if (n < 2 || n > MAX_MEMBERS)
        return NULL;
    etcd_server_cfg_t c = cfg ? *cfg : etcd_server_cfg_default();
    etcd_server_cfg_t d = etcd_server_cfg_default();
    if (c.heartbeat_interval <= 0)
        c.heartbeat_interval = d.heartbeat_interval;
    if (c.election_timeout <= 0)
        c.election_timeout = d.election_timeout;
    /* Built as a store of one on the first node, which it then is not. */
    etcd_server_t *srv = etcd_server_alloc(nodes[0], &c, "no leader");
    srv->members = mem_calloc(n, sizeof *srv->members);
    srv->nmembers = n;
    srv->leader = -1;
    for (size_t i = 0; i < n; i++) {
        member_t *mb = &srv->members[i];
        mb->srv = srv;
        mb->idx = (int)i;
        mb->node = nodes[i];
        mb->voted_for = -1;
        mb->leader = -1;
        char mname[160];
        snprintf(mname, sizeof mname, "member@%s", net_node_name(nodes[i]));
        mb->entity = entity_new("etcd-member", mname, net_node_entity(nodes[i]));
        entity_set_state(mb->entity, "down");
    }
    etcd_server_publish_store(srv);
    for (size_t i = 0; i < n; i++) {
        net_node_set_boot(nodes[i], member_boot, &srv->members[i]);
        if (net_node_up(nodes[i]))
            member_boot(nodes[i], &srv->members[i]);
    }
    return srv;
}

int etcd_server_leader(const etcd_server_t *srv, uint64_t *term)
{
    if (term)
        *term = srv->nmembers ? srv->term : 1;
    if (srv->nmembers == 0)
        return net_node_up(srv->node) ? 0 : -1;
    if (srv->leader < 0 || !net_node_up(srv->members[srv->leader].node))
        return -1;
    return srv->leader;
}

simtime_t etcd_server_leader_since(const etcd_server_t *srv)
{
    return srv->nmembers ? srv->leader_since : srv->boot_at;
}

size_t etcd_server_endpoints(const etcd_server_t *srv) { return srv->nmembers; }
net_node_t *etcd_server_endpoint(const etcd_server_t *srv, size_t i)
{
    return i < srv->nmembers ? srv->members[i].node : NULL;
}
