/*
 * etcd_server_watch: the server's watchers (see etcd_server.c and the
 * delivery rules in etcd_wire.h). A watcher lives from its creation until
 * the client cancels it or its node is no longer the incarnation that made
 * it; the server pushes the events of every write to the watchers they
 * match, and the resender sends again what a client has not acknowledged
 * every watch_retransmit (a compacted range ends the watch, canceled).
 *
 * A watch from a revision the store has already passed is "unsynced", as
 * in etcd 3.4's watchable store: writes do not reach it; the sync loop
 * (etcd's syncWatchersLoop) runs every watch_sync_interval (100ms) from the
 * store's start and sends each of up to 512 unsynced watchers the next
 * 1000 revisions of its history (watchBatchMaxRevs) in one message stamped
 * with the store's revision at that moment (header.revision); a watcher
 * with no more history becomes synced. A watcher whose next revision is
 * compacted is canceled at the sync, as etcd does. What is not modelled:
 * etcd's victims (a watcher whose stream's buffer of 1024 responses is
 * full is retried every 10ms): a simulated stream never fills.
 */
#include <stdlib.h>
#include <string.h>

#include "etcd_server_internal.h"
#include "timer.h"

/* etcd 3.4's watchBatchMaxRevs and maxWatchersPerSync. */
#define WATCH_BATCH_MAX_REVS 1000
#define SYNC_MAX_WATCHERS 512

/* A message covering the watch's revisions (after, last]; header: 0, or the
 * catch-up's stamp. Events before the compaction point are not sent: a
 * caller sends a range that reaches below it only where nothing there
 * matches (a synced watcher's gap since its last message), and a resend
 * of compacted events cancels the watch first. */
static void send_watch(etcd_server_t *srv, watcher_t *w, bool created, int64_t after,
                       int64_t last, int64_t header)
{
    etcd_resp_t *r = etcd_resp_new(RS_WATCH);
    r->watch = w->watch;
    r->created = created;
    r->after_rev = after;
    r->last_rev = last;
    r->header_rev = header;
    r->canceled = w->canceled;
    r->compact_rev = w->compact_rev;
    int64_t from = after + 1 > w->start ? after + 1 : w->start;
    if (from < kv_compact_revision(srv->kv))
        from = kv_compact_revision(srv->kv);
    if (!w->canceled && last >= from)
        kv_events(srv->kv, w->key, w->prefix, from, last, &r->events, &r->nevents);
    w->last_tx = sched_now();
    etcd_server_reply(srv, w->node, w->port, r);
    if (srv->resend_wake)
        chan_try_send(srv->resend_wake, &(char){1});
}

void etcd_server_watch_free(watcher_t *w)
{
    free(w->key);
    free(w->batches);
    free(w);
}

static void watcher_remove(etcd_server_t *srv, size_t i)
{
    etcd_server_watch_free(srv->watchers[i]);
    memmove(&srv->watchers[i], &srv->watchers[i + 1],
            (srv->nwatchers - i - 1) * sizeof *srv->watchers);
    srv->nwatchers--;
}

/* Remove watcher i if its client has crashed or restarted since it watched;
 * true when it did (the caller does not advance i). */
static bool watcher_gone(etcd_server_t *srv, size_t i)
{
    const watcher_t *w = srv->watchers[i];
    if (etcd_server_client_alive(w->node, w->incarnation))
        return false;
    watcher_remove(srv, i);
    return true;
}

/* Push the events of revisions (before, now] to every watcher they match. */
void etcd_server_watch_notify(etcd_server_t *srv, int64_t before)
{
    int64_t rev = kv_revision(srv->kv);
    for (size_t i = 0; i < srv->nwatchers;) {
        if (watcher_gone(srv, i))
            continue;
        watcher_t *w = srv->watchers[i];
        i++;
        if (w->canceled || w->unsynced || rev <= w->sent)
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
        send_watch(srv, w, false, after, rev, 0);
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
    /* etcd: synced if it starts after the store's revision (or at the next
     * one by default); otherwise the sync loop catches it up. */
    w->unsynced = w->start <= rev;
    w->sent = w->unsynced ? w->start - 1 : (w->start - 1 > rev ? w->start - 1 : rev);
    GROW(srv->watchers, srv->nwatchers, srv->capwatchers);
    srv->watchers[srv->nwatchers++] = w;
    etcd_server_emitf(srv, w->start, (int64_t)w->watch, "etcd watch %s%s from=%lld%s", w->key,
          w->prefix ? " prefix" : "", (long long)w->start, w->unsynced ? " unsynced" : "");
    send_watch(srv, w, true, w->start - 1, w->sent, 0);
    etcd_server_publish_store(srv);
    if (w->unsynced)
        etcd_server_watch_kick(srv);
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
        if (w && q->num > w->acked) {
            w->acked = q->num;
            size_t k = 0;
            while (k < w->nbatches && w->batches[k].last <= w->acked)
                k++;
            if (k) { /* batches may be NULL: no pointer arithmetic on it */
                memmove(w->batches, w->batches + k, (w->nbatches - k) * sizeof *w->batches);
                w->nbatches -= k;
            }
        }
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

/* Send again what the client has not acknowledged: the creation, each
 * catch-up message as it was (its range and stamp), then the rest. */
static void resend(etcd_server_t *srv, watcher_t *w)
{
    int64_t from = w->acked < 0 ? w->start - 1 : w->acked;
    if (!w->canceled && from < w->sent && from + 1 < kv_compact_revision(srv->kv)) {
        w->canceled = true;
        w->compact_rev = kv_compact_revision(srv->kv);
        w->unsynced = false;
        etcd_server_emitf(srv, w->compact_rev, (int64_t)w->watch, "etcd watch %s canceled: compacted",
              w->key);
    }
    bool created = w->acked < 0;
    if (!w->canceled) {
        for (size_t k = 0; k < w->nbatches; k++) {
            if (w->batches[k].last <= from)
                continue;
            if (created) {
                send_watch(srv, w, true, w->start - 1, w->start - 1, 0);
                created = false;
            }
            send_watch(srv, w, false, from, w->batches[k].last, w->batches[k].header);
            from = w->batches[k].last;
        }
    }
    if (created || from < w->sent || w->canceled)
        send_watch(srv, w, created, from, w->sent, 0);
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
            if (watcher_gone(srv, i)) {
                etcd_server_publish_store(srv);
                continue;
            }
            watcher_t *w = srv->watchers[i];
            i++;
            if (needs_resend(w) && w->last_tx + srv->cfg.watch_retransmit <= sched_now())
                resend(srv, w);
        }
    }
}

/* ---- the sync loop ---------------------------------------------------------------- */

static bool any_unsynced(const etcd_server_t *srv, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < srv->nwatchers; i++)
        n += srv->watchers[i]->unsynced;
    if (count)
        *count = n;
    return n > 0;
}

static void sync_loop(void *arg);

void etcd_server_watch_kick(etcd_server_t *srv)
{
    if (!any_unsynced(srv, NULL))
        return;
    if (srv->sync_wake) {
        chan_try_send(srv->sync_wake, &(char){1});
        return;
    }
    srv->sync_wake = chan_make(1, 1);
    net_node_go(srv->node, sync_loop, srv, "etcd.watch-sync");
}

/* Catch one unsynced watcher up by one message (or end it, or find it has
 * nothing to catch up). */
static void sync_one(etcd_server_t *srv, watcher_t *w, int64_t rev)
{
    int64_t compact = kv_compact_revision(srv->kv);
    if (w->sent + 1 < compact) {
        w->unsynced = false;
        w->canceled = true;
        w->compact_rev = compact;
        etcd_server_emitf(srv, compact, (int64_t)w->watch, "etcd watch %s canceled: compacted",
              w->key);
        send_watch(srv, w, false, w->sent, w->sent, 0);
        return;
    }
    kv_event_t *ev = NULL;
    size_t n = 0;
    kv_events(srv->kv, w->key, w->prefix, w->sent + 1, rev, &ev, &n);
    int64_t last = rev;
    int revs = 0;
    for (size_t j = 0, prev = 0; j < n; j++) {
        int64_t r = ev[j].kv.mod_rev;
        if (j > 0 && r == ev[prev].kv.mod_rev)
            continue;
        prev = j;
        if (++revs > WATCH_BATCH_MAX_REVS) {
            last = r - 1; /* etcd's moreRev: the rest at the next sync */
            break;
        }
    }
    kv_events_free(ev, n);
    if (n == 0) {
        w->unsynced = false; /* nothing to tell: synced */
        return;
    }
    GROW(w->batches, w->nbatches, w->capbatches);
    w->batches[w->nbatches++] = (catchup_t){last, rev};
    int64_t after = w->sent;
    w->sent = last;
    w->unsynced = last < rev;
    send_watch(srv, w, false, after, last, rev);
}

/* One pass of etcd's syncWatchers over up to SYNC_MAX_WATCHERS unsynced
 * watchers (in creation order; etcd takes them in map order); the number
 * still unsynced after it. */
static size_t sync_pass(etcd_server_t *srv)
{
    int64_t rev = kv_revision(srv->kv);
    size_t chosen = 0;
    for (size_t i = 0; i < srv->nwatchers && chosen < SYNC_MAX_WATCHERS;) {
        if (watcher_gone(srv, i)) {
            etcd_server_publish_store(srv);
            continue;
        }
        watcher_t *w = srv->watchers[i];
        i++;
        if (!w->unsynced)
            continue;
        chosen++;
        sync_one(srv, w, rev);
    }
    size_t left;
    any_unsynced(srv, &left);
    return left;
}

/* etcd's syncWatchersLoop: a pass at every tick of the grid from the
 * store's start, while a watcher is behind; a pass that synced some but
 * left others is followed by another at once (etcd waits the time the pass
 * took, none in simulated time). */
static void sync_loop(void *arg)
{
    etcd_server_t *srv = arg;
    chan_t *wake = srv->sync_wake;
    int leader = srv->leader;
    uint64_t term = srv->term;
    simtime_t iv = srv->cfg.watch_sync_interval;
    for (;;) {
        if (!etcd_server_raft_still_leads(srv, leader, term) || srv->sync_wake != wake)
            return;
        size_t before;
        if (!any_unsynced(srv, &before)) {
            chan_recv(wake, NULL);
            continue;
        }
        simtime_t now = sched_now();
        simtime_t at = now < srv->boot_at ? srv->boot_at
                                          : srv->boot_at + ((now - srv->boot_at) / iv + 1) * iv;
        go_sleep_until(at);
        if (!etcd_server_raft_still_leads(srv, leader, term) || srv->sync_wake != wake)
            return;
        any_unsynced(srv, &before);
        size_t left = sync_pass(srv);
        while (left != 0 && left < before) {
            before = left;
            left = sync_pass(srv);
        }
    }
}
