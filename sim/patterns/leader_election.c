/*
 * leader_election: the seed's LeaderElection, function for function. See
 * leader_election.h for the seed's bugs and the corrections.
 */
#include "leader_election.h"

#include <stdio.h>
#include <string.h>

#include "entity.h"
#include "net.h"
#include "timer.h"

struct leader_election {
    obj_t hdr;                 /* scheduler-owned */
    etcd_client_t *client;
    concurrency_session_t *session;
    concurrency_election_t *election;
    char node_id[128];
    const char *election_id;   /* interned */
    bool is_leader;
    chan_t *leader_ch;         /* int64: 1 leader, 0 follower; holds one */
    chan_t *stop_ch;           /* closed by Close */
    bool seed;
    checker_leadership_t *track;       /* who believes it leads (may be NULL) */
    int64_t term;              /* the term led, or 0 */
    bool announced;            /* corrected: what the watcher last told the reader */
    entity_t *entity;          /* "follower", "campaigning", "leader" */
    ctx_t *watch_ctx;          /* WatchLeader's ctx */
};

static void believe(leader_election_t *le, bool leader)
{
    if (leader) {
        le->term = concurrency_election_rev(le->election);
        entity_set_state(le->entity, "leader");
        entity_set(le->entity, "term", le->term);
        if (le->track)
            checker_leadership_begin(le->track, le->node_id, le->term);
    } else {
        le->term = 0;
        entity_set_state(le->entity, "follower");
        if (le->track)
            checker_leadership_end(le->track, le->node_id);
    }
}

static void notify(leader_election_t *le, bool leader)
{
    int64_t v = leader;
    chan_send(le->leader_ch, &v);
}

const go_error_t *leader_election_create(etcd_client_t *client, const char *election_id,
                                      int64_t ttl_s, bool seed_variant, checker_leadership_t *track,
                                      leader_election_t **out)
{
    *out = NULL;
    net_node_t *n = etcd_client_node(client);
    concurrency_session_opts_t so = {.ttl_s = ttl_s};
    concurrency_session_t *session;
    const go_error_t *err = concurrency_session_new(client, &so, &session);
    if (err)
        return go_errorf("failed to create etcd session: %s", go_error_msg(err));
    leader_election_t *le = obj_alloc(sizeof *le, OBJ_NONE, NULL);
    le->client = client;
    le->session = session;
    le->election = concurrency_election_new(session, election_id);
    snprintf(le->node_id, sizeof le->node_id, "%s-%lld", net_node_name(n), (long long)net_node_clock(n));
    le->election_id = sched_intern(sched_current(), election_id);
    le->leader_ch = chan_make(sizeof(int64_t), 1);
    le->stop_ch = chan_make(0, 0);
    le->seed = seed_variant;
    le->track = track;
    le->entity = entity_new("candidate", le->node_id, net_node_entity(n));
    entity_set_state(le->entity, "follower");
    *out = le;
    return NULL;
}

void leader_election_destroy(leader_election_t *x)
{
    if (!x)
        return;
    chan_free(x->leader_ch);
    chan_free(x->stop_ch);
    obj_free(x);
}

const go_error_t *leader_election_campaign(leader_election_t *le, ctx_t *ctx)
{
    entity_set_state(le->entity, "campaigning");
    const go_error_t *err = concurrency_election_campaign(le->election, ctx, le->node_id);
    if (err) {
        entity_set_state(le->entity, le->is_leader ? "leader" : "follower");
        return go_errorf("failed to campaign: %s", go_error_msg(err));
    }
    if (le->seed) {
        le->is_leader = true;
        believe(le, true);
        notify(le, true); /* the seed's second announcer */
    } else if (!le->is_leader) {
        /* Only the watcher announces; the campaign only believes. */
        le->is_leader = true;
        believe(le, true);
    }
    return NULL;
}

const go_error_t *leader_election_resign(leader_election_t *le, ctx_t *ctx)
{
    if (!le->is_leader)
        return NULL; /* Not the leader */
    const go_error_t *err = concurrency_election_resign(le->election, ctx);
    if (err)
        return go_errorf("failed to resign: %s", go_error_msg(err));
    le->is_leader = false;
    believe(le, false);
    if (le->seed)
        notify(le, false); /* from the reader's own goroutine, into a channel of one */
    return NULL;
}

bool leader_election_is_leader(const leader_election_t *le) { return le->is_leader; }
chan_t *leader_election_changes(const leader_election_t *le) { return le->leader_ch; }
const char *leader_election_node_id(const leader_election_t *le) { return le->node_id; }
concurrency_session_t *leader_election_session(const leader_election_t *le) { return le->session; }
int64_t leader_election_term(const leader_election_t *le) { return le->term; }

/* A receive that is ready now (the select's first cases). */
static bool closed_now(chan_t *c)
{
    bool ok;
    return c && chan_try_recv(c, NULL, &ok);
}

static void watch_loop(void *arg)
{
    leader_election_t *le = arg;
    ctx_t *ctx = le->watch_ctx;
    net_node_t *n = etcd_client_node(le->client);
    for (;;) {
        if (closed_now(le->stop_ch) || closed_now(ctx_done(ctx)))
            break;
        if (!le->seed && closed_now(concurrency_session_done(le->session))) {
            /* The lease is gone: so is any leadership it gave. */
            if (le->is_leader) {
                le->is_leader = false;
                believe(le, false);
            }
            if (le->announced) {
                le->announced = false;
                notify(le, false);
            }
            break;
        }
        /* Get the current leader */
        kv_result_t resp = {0};
        const go_error_t *err = concurrency_election_leader(le->election, ctx, &resp);
        if (err) {
            kv_result_clear(&resp);
            net_node_sleep(n, SIM_SEC);
            continue;
        }
        char key[512];
        snprintf(key, sizeof key, "%s", resp.op.kvs[0].key);
        bool is_leader = strcmp(resp.op.kvs[0].value, le->node_id) == 0;
        kv_result_clear(&resp);
        /* If leadership status changed, notify */
        if (le->seed) {
            if (is_leader != le->is_leader) {
                le->is_leader = is_leader;
                believe(le, is_leader);
                notify(le, is_leader);
            }
        } else if (is_leader != le->announced) {
            /* The one announcer: the reader hears each change once. */
            if (is_leader != le->is_leader) {
                le->is_leader = is_leader;
                believe(le, is_leader);
            }
            le->announced = is_leader;
            notify(le, is_leader);
        }
        /* Watch for changes */
        chan_t *watch = etcd_watch(le->client, ctx, key, NULL);
        select_case_t cs[4] = {
            {.ch = watch, .dir = SELECT_RECV},
            {.ch = le->stop_ch, .dir = SELECT_RECV},
            {.ch = ctx_done(ctx), .dir = SELECT_RECV},
            {.ch = le->seed ? NULL : concurrency_session_done(le->session), .dir = SELECT_RECV},
        };
        etcd_watch_resp_t *wr = NULL;
        cs[0].elem = &wr;
        int i = chan_select(cs, 4, false);
        if (i == 0 && cs[0].ok && wr)
            etcd_watch_resp_free(wr);
        if (i == 1 || i == 2)
            break;
    }
    chan_close(le->leader_ch); /* defer close(le.leaderCh) */
}

void leader_election_watch_leader(leader_election_t *le, ctx_t *ctx)
{
    le->watch_ctx = ctx;
    char name[160];
    snprintf(name, sizeof name, "%s.WatchLeader", le->node_id);
    net_node_go(etcd_client_node(le->client), watch_loop, le, name);
}

void leader_election_close(leader_election_t *le)
{
    chan_close(le->stop_ch);
    if (le->is_leader) {
        ctx_t *ctx = ctx_with_timeout(ctx_background(), 5 * SIM_SEC);
        (void)leader_election_resign(le, ctx);
        ctx_cancel(ctx);
    }
    (void)concurrency_session_close(le->session);
    entity_set_state(le->entity, "closed");
}

const go_error_t *leader_election_get_current_leader(leader_election_t *le, ctx_t *ctx,
                                                     char *out, size_t size)
{
    kv_result_t resp = {0};
    const go_error_t *err = concurrency_election_leader(le->election, ctx, &resp);
    out[0] = 0;
    if (err == &CONCURRENCY_ERR_NO_LEADER) {
        kv_result_clear(&resp);
        return NULL; /* No leader */
    }
    if (err) {
        kv_result_clear(&resp);
        return go_errorf("failed to get leader: %s", go_error_msg(err));
    }
    if (resp.op.nkvs > 0)
        snprintf(out, size, "%s", resp.op.kvs[0].value);
    kv_result_clear(&resp);
    return NULL;
}
