/*
 * etcd_server_watch: the server's watchers (see etcd_server.c and the
 * delivery rules in etcd_wire.h). A watcher lives from its creation until
 * the client cancels it or its node is no longer the incarnation that made
 * it; the server pushes the events of every write to the watchers they
 * match, and the resender sends again what a client has not acknowledged
 * every watch_retransmit (a compacted range ends the watch, canceled).
 */
#include <stdlib.h>
#include <string.h>

#include "etcd_server_internal.h"
#include "timer.h"

static void send_watch(etcd_server_t *srv, watcher_t *w, bool created, int64_t after,
                       int64_t last)
{
    etcd_resp_t *r = etcd_resp_new(RS_WATCH);
    r->watch = w->watch;
    r->created = created;
    r->after_rev = after;
    r->last_rev = last;
    r->synced_rev = w->synced;
    r->canceled = w->canceled;
    r->compact_rev = w->compact_rev;
    if (!w->canceled && last >= after + 1 && last >= w->start)
        kv_events(srv->kv, w->key, w->prefix, after + 1 > w->start ? after + 1 : w->start, last,
                  &r->events, &r->nevents);
    w->last_tx = sched_now();
    etcd_server_reply(srv, w->node, w->port, r);
    if (srv->resend_wake)
        chan_try_send(srv->resend_wake, &(char){1});
}

void etcd_server_watch_free(watcher_t *w)
{
    free(w->key);
    free(w);
}

static void watcher_remove(etcd_server_t *srv, size_t i)
{
    etcd_server_watch_free(srv->watchers[i]);
    memmove(&srv->watchers[i], &srv->watchers[i + 1],
            (srv->nwatchers - i - 1) * sizeof *srv->watchers);
    srv->nwatchers--;
}

/* Push the events of revisions (before, now] to every watcher they match. */
void etcd_server_watch_notify(etcd_server_t *srv, int64_t before)
{
    int64_t rev = kv_revision(srv->kv);
    for (size_t i = 0; i < srv->nwatchers;) {
        watcher_t *w = srv->watchers[i];
        if (!etcd_server_client_alive(w->node, w->incarnation)) {
            watcher_remove(srv, i);
            continue;
        }
        i++;
        if (w->canceled || rev <= w->sent)
            continue;
        int64_t from = before + 1 > w->sent + 1 ? before + 1 : w->sent + 1;
        kv_event_t *ev;
        size_t n;
        if (kv_events(srv->kv, w->key, w->prefix, from, rev, &ev, &n) != KV_OK)
            continue;
        kv_events_free(ev, n);
        if (n == 0)
            continue;
        int64_t after = w->sent;
        w->sent = rev;
        send_watch(srv, w, false, after, rev);
    }
}

static watcher_t *find_watcher(etcd_server_t *srv, uint64_t client, uint64_t watch, size_t *at)
{
    for (size_t i = 0; i < srv->nwatchers; i++) {
        if (srv->watchers[i]->client == client && srv->watchers[i]->watch == watch) {
            if (at)
                *at = i;
            return srv->watchers[i];
        }
    }
    return NULL;
}

static void watch_create(etcd_server_t *srv, net_msg_t *m, const etcd_req_t *q)
{
    if (find_watcher(srv, q->client, q->watch, NULL))
        return; /* a resent creation: the resender answers it */
    watcher_t *w = mem_calloc(1, sizeof *w);
    int64_t rev = kv_revision(srv->kv);
    w->client = q->client;
    w->watch = q->watch;
    w->node = q->origin ? q->origin : m->src;
    w->port = q->origin ? q->origin_port : q->reply_port;
    w->incarnation = q->origin ? q->incarnation : net_node_incarnation(m->src);
    w->key = mem_strdup(q->key);
    w->prefix = q->prefix;
    w->start = q->num > 0 ? q->num : rev + 1;
    w->acked = -1;
    w->synced = rev;
    w->sent = w->start - 1 > rev ? w->start - 1 : rev;
    if (w->start < kv_compact_revision(srv->kv)) {
        w->canceled = true;
        w->compact_rev = kv_compact_revision(srv->kv);
    }
    GROW(srv->watchers, srv->nwatchers, srv->capwatchers);
    srv->watchers[srv->nwatchers++] = w;
    etcd_server_emitf(srv, w->start, (int64_t)w->watch, "etcd watch %s%s from=%lld%s", w->key,
          w->prefix ? " prefix" : "", (long long)w->start, w->canceled ? " compacted" : "");
    send_watch(srv, w, true, w->start - 1, w->sent);
    etcd_server_publish_store(srv);
}

void etcd_server_watch_handle(etcd_server_t *srv, net_msg_t *m, const etcd_req_t *q)
{
    size_t at;
    watcher_t *w;
    switch (q->kind) {
    case RQ_WATCH_CREATE:
        watch_create(srv, m, q);
        break;
    case RQ_WATCH_ACK:
        w = find_watcher(srv, q->client, q->watch, NULL);
        if (w && q->num > w->acked)
            w->acked = q->num;
        break;
    case RQ_WATCH_CANCEL:
        if (find_watcher(srv, q->client, q->watch, &at)) {
            watcher_remove(srv, at);
            etcd_server_publish_store(srv);
        }
        break;
    default:
        break;
    }
}

static bool needs_resend(const watcher_t *w)
{
    return w->canceled || w->acked < 0 || w->acked < w->sent;
}

static void resend(etcd_server_t *srv, watcher_t *w)
{
    int64_t from = w->acked < 0 ? w->start : w->acked + 1;
    if (!w->canceled && from <= w->sent && from < kv_compact_revision(srv->kv)) {
        w->canceled = true;
        w->compact_rev = kv_compact_revision(srv->kv);
        etcd_server_emitf(srv, w->compact_rev, (int64_t)w->watch, "etcd watch %s canceled: compacted",
              w->key);
    }
    if (w->acked < 0)
        send_watch(srv, w, true, w->start - 1, w->sent);
    else
        send_watch(srv, w, false, w->acked, w->sent);
}

void etcd_server_watch_resend_loop(void *arg)
{
    etcd_server_t *srv = arg;
    chan_t *wake = srv->resend_wake;
    int leader = srv->leader;
    uint64_t term = srv->term;
    for (;;) {
        if (!etcd_server_raft_still_leads(srv, leader, term))
            return;
        simtime_t due = SIMTIME_MAX;
        for (size_t i = 0; i < srv->nwatchers; i++) {
            watcher_t *w = srv->watchers[i];
            if (needs_resend(w) && w->last_tx + srv->cfg.watch_retransmit < due)
                due = w->last_tx + srv->cfg.watch_retransmit;
        }
        if (due == SIMTIME_MAX) {
            chan_recv(wake, NULL);
            continue;
        }
        if (due > sched_now()) {
            go_sleep_until(due);
            continue;
        }
        for (size_t i = 0; i < srv->nwatchers;) {
            watcher_t *w = srv->watchers[i];
            if (!etcd_server_client_alive(w->node, w->incarnation)) {
                watcher_remove(srv, i);
                etcd_server_publish_store(srv);
                continue;
            }
            i++;
            if (needs_resend(w) && w->last_tx + srv->cfg.watch_retransmit <= sched_now())
                resend(srv, w);
        }
    }
}
