/*
 * The etcd-like store (sim/kv), its server and client (sim/etcd) and the
 * concurrency recipes (sim/etcd/concurrency): one test per item 68-84 of
 * SEMANTICS.md section G, with exact simulated times where the model makes
 * them exact, plus crashes, timeouts, a lossy network and determinism.
 * Where an item there is shorter than the real code, the tests follow the
 * real code: keep-alives (item 69, "the next due at now+TTL/3") go at the
 * client's 500ms tick once due (item 97, clientv3 3.4/3.5 lease.go); a
 * watch from a revision the store has reached (item 84) gets its history
 * at the store's next 100ms sync of such watches (etcd 3.4's
 * syncWatchersLoop; measured on etcd 3.4.23, docs/cluster.md).
 *
 * Times: links have 1ms latency unless a test says otherwise, so a call
 * from a client takes 2ms (request 1ms, reply 1ms); the server boots at 0
 * and checks lease expiry on the 500ms grid from 0.
 */
#include <signal.h>
#include <stdio.h>

#include "etcd.h"
#include "concurrency.h"
#include "kv.h"
#include "net.h"
#include "testutil.h"

#define MS SIM_MS
#define SEC SIM_SEC

/* ---- kv: the data model without a scheduler -------------------------------- */

START_TEST(kv_revisions_item83)
{
    kv_t *kv = kv_create(NULL);
    kv_result_t r;
    ck_assert_int_eq(kv_revision(kv), 1);
    ck_assert_int_eq(kv_put(kv, "/a", "1", 0, &r), KV_OK);
    ck_assert_int_eq(r.revision, 2);
    kv_result_clear(&r);
    kv_put(kv, "/a", "2", 0, NULL);
    const kv_kv_t *a = kv_lookup(kv, "/a");
    ck_assert_int_eq(a->create_rev, 2);
    ck_assert_int_eq(a->mod_rev, 3);
    ck_assert_int_eq(a->version, 2);
    ck_assert_str_eq(a->value, "2");
    /* A delete of nothing is no write. */
    ck_assert_int_eq(kv_delete(kv, "/nothing", false, &r), KV_OK);
    ck_assert_int_eq(r.op.deleted, 0);
    ck_assert_int_eq(r.revision, 3);
    kv_result_clear(&r);
    /* Delete resets: the key comes back at version 1, new create revision. */
    kv_delete(kv, "/a", false, NULL);
    ck_assert_int_eq(kv_revision(kv), 4);
    ck_assert_ptr_null(kv_lookup(kv, "/a"));
    kv_put(kv, "/a", "3", 0, NULL);
    a = kv_lookup(kv, "/a");
    ck_assert_int_eq(a->version, 1);
    ck_assert_int_eq(a->create_rev, 5);
    /* A transaction with three writes takes one revision. */
    kv_op_t ops[3] = {kv_op_put("/b", "x", 0), kv_op_put("/c", "y", 0), kv_op_delete("/a", false)};
    kv_txn_t t = {NULL, 0, ops, 3, NULL, 0};
    ck_assert_int_eq(kv_txn(kv, &t, &r), KV_OK);
    ck_assert_int_eq(r.revision, 6);
    kv_result_clear(&r);
    ck_assert_int_eq(kv_lookup(kv, "/b")->mod_rev, 6);
    ck_assert_int_eq(kv_lookup(kv, "/c")->create_rev, 6);
    /* A transaction of reads takes none. */
    kv_op_t get = kv_op_get("/b", NULL);
    kv_txn_t rt = {NULL, 0, &get, 1, NULL, 0};
    kv_txn(kv, &rt, &r);
    ck_assert_int_eq(r.revision, 6);
    ck_assert_str_eq(r.ops[0].kvs[0].value, "x");
    kv_result_clear(&r);
    ck_assert_int_eq(kv_put(kv, "", "v", 0, NULL), KV_ERR_EMPTY_KEY);
    kv_destroy(kv);
}
END_TEST

START_TEST(kv_ranges)
{
    kv_t *kv = kv_create(NULL);
    /* Created in this order: create revisions 2..6. */
    const char *keys[] = {"/p/c", "/p/a", "/q", "/p/b", "/p"};
    for (int i = 0; i < 5; i++)
        kv_put(kv, keys[i], keys[i], 0, NULL);
    kv_result_t r;
    kv_range_opts_t o = {.prefix = true};
    kv_range(kv, "/p/", &o, &r);
    ck_assert_uint_eq(r.op.nkvs, 3);
    ck_assert_str_eq(r.op.kvs[0].key, "/p/a"); /* byte order */
    ck_assert_str_eq(r.op.kvs[1].key, "/p/b");
    ck_assert_str_eq(r.op.kvs[2].key, "/p/c");
    kv_result_clear(&r);
    o = kv_opts_first_create();
    kv_range(kv, "/p/", &o, &r);
    ck_assert_uint_eq(r.op.nkvs, 1);
    ck_assert_str_eq(r.op.kvs[0].key, "/p/c");
    ck_assert_int_eq(r.op.count, 3);
    ck_assert(r.op.more);
    kv_result_clear(&r);
    o = kv_opts_last_create();
    kv_range(kv, "/p/", &o, &r);
    ck_assert_str_eq(r.op.kvs[0].key, "/p/b");
    kv_result_clear(&r);
    o.max_create_rev = 4; /* newest created at or before 4 */
    kv_range(kv, "/p/", &o, &r);
    ck_assert_str_eq(r.op.kvs[0].key, "/p/a");
    ck_assert_int_eq(r.op.count, 3); /* etcd: count before filters */
    kv_result_clear(&r);
    o = (kv_range_opts_t){.prefix = true, .limit = 2};
    kv_range(kv, "", &o, &r); /* "" with prefix: every key */
    ck_assert_int_eq(r.op.count, 5);
    ck_assert_uint_eq(r.op.nkvs, 2);
    ck_assert_str_eq(r.op.kvs[0].key, "/p");
    kv_result_clear(&r);
    o = (kv_range_opts_t){.prefix = true, .count_only = true};
    kv_range(kv, "/p", &o, &r);
    ck_assert_int_eq(r.op.count, 4);
    ck_assert_uint_eq(r.op.nkvs, 0);
    kv_result_clear(&r);
    kv_destroy(kv);
}
END_TEST

START_TEST(kv_txn_compares_atomic)
{
    kv_t *kv = kv_create(NULL);
    kv_put(kv, "/k", "v1", 0, NULL); /* rev 2 */
    kv_put(kv, "/k", "v2", 0, NULL); /* rev 3, version 2 */
    struct {
        kv_cmp_t c;
        bool holds;
    } cases[] = {
        {kv_cmp_value("/k", KV_CMP_EQUAL, "v2"), true},
        {kv_cmp_value("/k", KV_CMP_NOT_EQUAL, "v2"), false},
        {kv_cmp_value("/k", KV_CMP_LESS, "v3"), true},
        {kv_cmp_value("/k", KV_CMP_GREATER, "v3"), false},
        {kv_cmp_value("/missing", KV_CMP_NOT_EQUAL, "x"), false}, /* never on a missing key */
        {kv_cmp_num("/k", KV_CMP_VERSION, KV_CMP_EQUAL, 2), true},
        {kv_cmp_num("/k", KV_CMP_VERSION, KV_CMP_GREATER, 1), true},
        {kv_cmp_num("/k", KV_CMP_CREATE, KV_CMP_EQUAL, 2), true},
        {kv_cmp_num("/k", KV_CMP_CREATE, KV_CMP_LESS, 2), false},
        {kv_cmp_num("/k", KV_CMP_MOD, KV_CMP_EQUAL, 3), true},
        {kv_cmp_num("/k", KV_CMP_MOD, KV_CMP_NOT_EQUAL, 3), false},
        {kv_cmp_num("/missing", KV_CMP_CREATE, KV_CMP_EQUAL, 0), true},
        {kv_cmp_num("/missing", KV_CMP_VERSION, KV_CMP_LESS, 1), true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kv_op_t get = kv_op_get("/k", NULL);
        kv_txn_t t = {&cases[i].c, 1, &get, 1, NULL, 0};
        kv_result_t r;
        ck_assert_int_eq(kv_txn(kv, &t, &r), KV_OK);
        ck_assert_msg(r.succeeded == cases[i].holds, "compare %zu", i);
        kv_result_clear(&r);
    }
    /* All compares must hold; the else branch runs atomically otherwise. */
    kv_cmp_t cmps[2] = {kv_cmp_value("/k", KV_CMP_EQUAL, "v2"),
                        kv_cmp_num("/k", KV_CMP_VERSION, KV_CMP_EQUAL, 9)};
    kv_op_t then_ops[1] = {kv_op_put("/then", "t", 0)};
    kv_op_t else_ops[3] = {kv_op_put("/e1", "a", 0), kv_op_put("/e2", "b", 0),
                           kv_op_get("/e", &(kv_range_opts_t){.prefix = true})};
    kv_txn_t t = {cmps, 2, then_ops, 1, else_ops, 3};
    kv_result_t r;
    ck_assert_int_eq(kv_txn(kv, &t, &r), KV_OK);
    ck_assert(!r.succeeded);
    ck_assert_int_eq(r.revision, 4);
    ck_assert_uint_eq(r.nops, 3);
    ck_assert_uint_eq(r.ops[2].nkvs, 2); /* reads see the branch's writes */
    kv_result_clear(&r);
    ck_assert_ptr_null(kv_lookup(kv, "/then"));
    /* Errors leave the store unchanged. */
    kv_op_t dup[2] = {kv_op_put("/d", "1", 0), kv_op_put("/d", "2", 0)};
    kv_txn_t td = {NULL, 0, dup, 2, NULL, 0};
    ck_assert_int_eq(kv_txn(kv, &td, NULL), KV_ERR_DUPLICATE_KEY);
    kv_op_t bad[2] = {kv_op_put("/x", "1", 0), kv_op_put("/y", "2", 12345)};
    kv_txn_t tb = {NULL, 0, bad, 2, NULL, 0};
    ck_assert_int_eq(kv_txn(kv, &tb, NULL), KV_ERR_LEASE_NOT_FOUND);
    ck_assert_ptr_null(kv_lookup(kv, "/x"));
    ck_assert_int_eq(kv_revision(kv), 4);
    kv_destroy(kv);
}
END_TEST

START_TEST(kv_leases_item70)
{
    kv_t *kv = kv_create(NULL);
    kv_result_t r;
    ck_assert_int_eq(kv_lease_grant(kv, 0, 1, 0, &r), KV_OK);
    ck_assert_int_eq(r.ttl, 2); /* minimum TTL */
    int64_t l1 = r.lease;
    ck_assert_int_eq(l1, KV_LEASE_ID_BASE + 1);
    kv_lease_grant(kv, 0, 10, 0, &r);
    int64_t l2 = r.lease;
    ck_assert_int_eq(kv_lease_grant(kv, l2, 5, 0, NULL), KV_ERR_LEASE_EXISTS);
    ck_assert_int_eq(kv_lease_grant(kv, 0, KV_MAX_TTL_S + 1, 0, NULL), KV_ERR_TTL_TOO_LARGE);
    kv_put(kv, "/a", "", l1, NULL);
    kv_put(kv, "/b", "", l1, NULL);
    kv_put(kv, "/c", "", l2, NULL);
    ck_assert_int_eq(kv_revision(kv), 4);
    int64_t ids[4];
    ck_assert_uint_eq(kv_lease_expired(kv, 2 * SEC - 1, ids, 4), 0);
    ck_assert_uint_eq(kv_lease_expired(kv, 2 * SEC, ids, 4), 1);
    ck_assert_int_eq(ids[0], l1);
    int64_t ttl;
    ck_assert_int_eq(kv_lease_renew(kv, l1, 1 * SEC, &ttl), KV_OK);
    ck_assert_int_eq(ttl, 2);
    kv_lease_info_t info;
    ck_assert(kv_lease_lookup(kv, l1, &info));
    ck_assert_int_eq(info.deadline, 3 * SEC);
    ck_assert_uint_eq(info.nkeys, 2);
    /* Revoke deletes the lease's keys in one revision. */
    ck_assert_int_eq(kv_lease_revoke(kv, l1, &r), KV_OK);
    ck_assert_int_eq(r.deleted, 2);
    ck_assert_int_eq(r.revision, 5);
    ck_assert_ptr_null(kv_lookup(kv, "/a"));
    ck_assert_ptr_nonnull(kv_lookup(kv, "/c"));
    ck_assert_int_eq(kv_lease_renew(kv, l1, 0, NULL), KV_ERR_LEASE_NOT_FOUND);
    ck_assert_int_eq(kv_lease_revoke(kv, l1, NULL), KV_ERR_LEASE_NOT_FOUND);
    ck_assert_int_eq(kv_put(kv, "/z", "", l1, NULL), KV_ERR_LEASE_NOT_FOUND);
    /* A lease without keys revokes without a revision. */
    kv_lease_grant(kv, 0, 5, 0, &r);
    kv_lease_revoke(kv, r.lease, NULL);
    ck_assert_int_eq(kv_revision(kv), 5);
    /* Promote: deadline = now + extend + TTL. */
    kv_lease_extend_all(kv, 100 * SEC, SEC);
    kv_lease_lookup(kv, l2, &info);
    ck_assert_int_eq(info.deadline, 111 * SEC);
    kv_destroy(kv);
}
END_TEST

START_TEST(kv_history_item84)
{
    kv_t *kv = kv_create(NULL);
    kv_put(kv, "/w/a", "1", 0, NULL); /* 2 */
    kv_put(kv, "/x", "1", 0, NULL);   /* 3 */
    kv_put(kv, "/w/b", "1", 0, NULL); /* 4 */
    kv_delete(kv, "/w/", true, NULL); /* 5: two events */
    kv_event_t *ev;
    size_t n;
    ck_assert_int_eq(kv_events(kv, "/w/", true, 4, 0, &ev, &n), KV_OK);
    ck_assert_uint_eq(n, 3); /* start inclusive */
    ck_assert_int_eq(ev[0].kv.mod_rev, 4);
    ck_assert_int_eq(ev[1].type, KV_EVENT_DELETE);
    ck_assert_str_eq(ev[1].kv.key, "/w/a");
    ck_assert_int_eq(ev[1].kv.mod_rev, 5);
    ck_assert_int_eq(ev[2].kv.mod_rev, 5);
    kv_events_free(ev, n);
    ck_assert_int_eq(kv_events(kv, "/x", false, 1, 0, &ev, &n), KV_OK);
    ck_assert_uint_eq(n, 1);
    kv_events_free(ev, n);
    ck_assert_int_eq(kv_compact(kv, 4), KV_OK);
    ck_assert_int_eq(kv_events(kv, "/w/", true, 3, 0, &ev, &n), KV_ERR_COMPACTED);
    ck_assert_int_eq(kv_events(kv, "/w/", true, 4, 0, &ev, &n), KV_OK);
    ck_assert_uint_eq(n, 3);
    kv_events_free(ev, n);
    ck_assert_int_eq(kv_compact(kv, 4), KV_ERR_COMPACTED);
    ck_assert_int_eq(kv_compact(kv, 9), KV_ERR_FUTURE_REV);
    ck_assert_str_eq(kv_strerror(KV_ERR_COMPACTED), "mvcc: required revision has been compacted");
    kv_destroy(kv);
}
END_TEST

/* ---- the simulated cluster ----------------------------------------------------- */

#define MAXN 8

static net_cluster_t *cl;
static net_node_t *sn, *cn[MAXN];
static etcd_server_t *srv;
static etcd_client_t *cli[MAXN];

/* A store on node "etcd" and n client nodes "n0".."n{n-1}", each with a
 * client, links of the given latency. */
static void world(int n, simtime_t latency)
{
    cl = net_cluster_new("test");
    net_link_cfg_t l = net_link_cfg_default();
    l.latency = latency;
    net_cluster_set_default_link(cl, &l);
    sn = net_cluster_add_node(cl, "etcd");
    srv = etcd_server_new(sn, NULL);
    net_node_start(sn);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        cn[i] = net_cluster_add_node(cl, name);
        net_node_start(cn[i]);
        cli[i] = etcd_client_new(srv, cn[i], NULL);
    }
}

static ctx_t *bg(void) { return ctx_background(); }

static concurrency_session_t *session(int i, int64_t ttl)
{
    concurrency_session_t *s;
    concurrency_session_opts_t o = {.ttl_s = ttl};
    ck_assert_ptr_null(concurrency_session_new(cli[i], &o, &s));
    return s;
}

static void run_ok(void (*fn)(void *))
{
    sched_result_t r;
    sched_t *s = run_with(NULL, fn, NULL, &r);
    ck_assert_msg(r == SCHED_DONE, "result %s: %s", sched_result_string(r), sched_report(s));
    sched_destroy(s);
}

#define RUN(name)                                                                          \
    START_TEST(name) { run_ok(name##_main); }                                              \
    END_TEST

static bool lease_exists(int64_t id)
{
    return kv_lease_lookup(etcd_server_kv(srv), id, NULL);
}

/* ---- 68: Session ----------------------------------------------------------------- */

static simtime_t done_at;
static void wait_done(void *arg)
{
    chan_recv(concurrency_session_done(arg), NULL);
    done_at = sched_now();
}

static void session_item68_main(void *arg)
{
    (void)arg;
    world(2, MS);
    /* Default TTL 60s; a grant then keep-alive. */
    concurrency_session_t *s;
    ck_assert_ptr_null(concurrency_session_new(cli[0], NULL, &s));
    ck_assert_int_eq(concurrency_session_ttl(s), 60);
    kv_lease_info_t info;
    ck_assert(kv_lease_lookup(etcd_server_kv(srv), concurrency_session_lease(s), &info));
    ck_assert_int_eq(info.ttl, 60);
    ck_assert_int_eq(sched_now(), 2 * MS);
    /* Done closes when keep-alive ends: here the lease is revoked by
     * someone else at 1s. cli[0]'s keep-alive loop ticks every 500ms from
     * its first KeepAlive (2ms), so this second lease's first keep-alive
     * waits for the tick at 0.502s (replied 0.504s); the next is due TTL/3
     * later (2.504s), sent at the tick 3.002s and answered "not found" at
     * 3.004s. */
    concurrency_session_t *s6 = session(0, 6); /* granted at 4ms */
    ck_assert_int_eq(sched_now(), 4 * MS);
    done_at = -1;
    go_spawn(wait_done, s6, "wait-done");
    go_sleep_until(SEC);
    ck_assert_ptr_null(etcd_revoke(cli[1], bg(), concurrency_session_lease(s6), NULL));
    go_sleep_until(4 * SEC);
    ck_assert_int_eq(done_at, 3 * SEC + 4 * MS);
    ck_assert_str_eq(entity_state(concurrency_session_entity(s6)), "expired");
    /* Done closes when the session's context is cancelled. */
    ctx_t *ctx = ctx_with_cancel(bg());
    concurrency_session_opts_t o = {.ttl_s = 6, .ctx = ctx};
    concurrency_session_t *sc;
    ck_assert_ptr_null(concurrency_session_new(cli[0], &o, &sc));
    ctx_cancel(ctx);
    go_yield();
    go_yield();
    ck_assert(chan_closed(concurrency_session_done(sc)));
    /* Close revokes the lease: its keys go. */
    concurrency_session_t *s2 = session(1, 10);
    ck_assert_ptr_null(etcd_put(cli[1], bg(), "/owned", "x", concurrency_session_lease(s2), NULL));
    ck_assert_ptr_null(concurrency_session_close(s2));
    ck_assert(chan_closed(concurrency_session_done(s2)));
    ck_assert(!lease_exists(concurrency_session_lease(s2)));
    ck_assert_ptr_null(kv_lookup(etcd_server_kv(srv), "/owned"));
    ck_assert_str_eq(entity_state(concurrency_session_entity(s2)), "closed");
    /* Done closes when no reply comes before the deadline (TTL after the
     * last reply), seen by the deadline check that ticks every second from
     * the client's first KeepAlive: cut n1 off after its first keep-alive. */
    go_sleep_until(10 * SEC);
    concurrency_session_t *sp = session(1, 6); /* grant 10.000-10.002 */
    /* cli[1]'s ticks count from 4.004s (s2's first keep-alive): this one
     * goes at 10.004s, renewed at 10.005s, replied 10.006s */
    done_at = -1;
    go_spawn(wait_done, sp, "wait-done");
    go_sleep_until(11 * SEC);
    net_cluster_isolate(cl, cn[1]);
    go_sleep_until(20 * SEC);
    /* deadline 16.006s; the checks at 16.004s and 17.004s: ends at the second */
    ck_assert_int_eq(done_at, 17 * SEC + 4 * MS);
    /* Renewed at the server at 10.005s: expired by the check at 16.5s. */
    ck_assert(!lease_exists(concurrency_session_lease(sp)));
    net_cluster_heal(cl);
}
RUN(session_item68)

/* ---- 69 and 97: keep-alive timing ------------------------------------------------------- */
/* Item 69's "next due at now+TTL/3 after each response" is when a renewal
 * becomes due; it goes at the first tick of the client's 500ms send loop
 * after that (item 97), so TTL/3 on the grid (TTL 6s: every 2s) and TTL/3
 * rounded up to it otherwise (ka_latency: TTL 10s, every 3.5s). */

static simtime_t ka_at[16];
static int nka;

static void ka_exact_main(void *arg)
{
    (void)arg;
    world(1, 0); /* zero latency: the times are the protocol's alone */
    kv_result_t r;
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 6, &r));
    chan_t *ka = etcd_keepalive(cli[0], bg(), r.lease);
    etcd_ka_resp_t resp;
    nka = 0;
    while (nka < 5 && chan_recv(ka, &resp)) {
        ck_assert_int_eq(resp.ttl, 6);
        ka_at[nka++] = sched_now();
    }
    /* At once, then TTL/3 after each reply. */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ka_at[i], i * 2 * SEC);
    /* A reply with TTL <= 0 ends it: revoke, and the next keep-alive (due
     * 10s) finds the lease gone. */
    ck_assert_ptr_null(etcd_revoke(cli[0], bg(), r.lease, NULL));
    ck_assert(!chan_recv(ka, &resp));
    ck_assert_int_eq(sched_now(), 10 * SEC);
}
RUN(ka_exact)

static void ka_latency_main(void *arg)
{
    (void)arg;
    world(1, MS);
    kv_result_t r;
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 10, &r)); /* replied at 2ms */
    chan_t *ka = etcd_keepalive(cli[0], bg(), r.lease);
    etcd_ka_resp_t resp;
    /* The send loop ticks every 500ms from 2ms (this first KeepAlive): the
     * first keep-alive at once (replied 4ms); each next one is due TTL/3
     * (3.333s) after a reply and goes at the first tick after that: 3.502s,
     * 7.002s, 10.502s, each replied 2ms later. Every 3.5s, not 3.333s. */
    static const simtime_t replies[] = {4 * MS, 3504 * MS, 7004 * MS, 10504 * MS};
    for (int i = 0; i < 4; i++) {
        ck_assert(chan_recv(ka, &resp));
        ck_assert_int_eq(sched_now(), replies[i]);
    }
    /* An unanswered keep-alive stays due and goes again at every tick: cut
     * the link from 10.504s to 15.2s; due 13.837s, sent at 14.002s,
     * 14.502s, 15.002s (all lost), then 15.502s, replied 15.504s. */
    net_cluster_isolate(cl, cn[0]);
    go_sleep_until(15200 * MS);
    net_cluster_heal(cl);
    ck_assert(chan_recv(ka, &resp));
    ck_assert_int_eq(sched_now(), 15504 * MS);
}
RUN(ka_latency)

/* ---- 70: server leases ---------------------------------------------------------------- */

static void lease_server_item70_main(void *arg)
{
    (void)arg;
    world(2, MS);
    kv_result_t r;
    /* Minimum TTL: a 1s lease is granted for 2s. */
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 1, &r));
    ck_assert_int_eq(r.ttl, 2);
    ck_assert_int_eq(etcd_revoke(cli[0], bg(), r.lease, NULL) == NULL, 1);
    /* Renewing an unknown lease. */
    ck_assert_ptr_eq(etcd_keepalive_once(cli[0], bg(), 0x1234, NULL), &ETCD_ERR_LEASE_NOT_FOUND);
    ck_assert_ptr_eq(etcd_revoke(cli[0], bg(), 0x1234, NULL), &ETCD_ERR_LEASE_NOT_FOUND);
    ck_assert_ptr_eq(etcd_put(cli[0], bg(), "/k", "", 0x1234, NULL), &ETCD_ERR_LEASE_NOT_FOUND);
    ck_assert_str_eq(go_error_msg(&ETCD_ERR_LEASE_NOT_FOUND),
                     "etcdserver: requested lease not found");
    /* Revoke deletes all attached keys in one revision: one watch response. */
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 30, &r));
    int64_t l = r.lease;
    for (int i = 0; i < 3; i++) {
        char k[16];
        snprintf(k, sizeof k, "/r/%d", i);
        ck_assert_ptr_null(etcd_put(cli[0], bg(), k, "v", l, NULL));
    }

    int64_t rev = kv_revision(etcd_server_kv(srv));
    ctx_t *wctx = ctx_with_cancel(bg());
    etcd_watch_opts_t wo = {.prefix = true, .start_rev = rev + 1};
    chan_t *w = etcd_watch(cli[1], wctx, "/r/", &wo);
    ck_assert_ptr_null(etcd_revoke(cli[0], bg(), l, &r));
    ck_assert_int_eq(r.revision, rev + 1);
    etcd_watch_resp_t *wr;
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->revision, rev + 1);
    ck_assert_uint_eq(wr->nevents, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(wr->events[i].type, KV_EVENT_DELETE);
    etcd_watch_resp_free(wr);
    ctx_cancel(wctx);
    /* Expiry on the 500ms grid: granted at 0.301s (TTL 2: deadline 2.301s),
     * expired by the check at 2.5s; the delete reaches a watcher at 2.501s. */
    go_sleep_until(300 * MS);
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 2, &r));
    l = r.lease;
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/e", "v", l, &r)); /* at 0.303s */
    wo = (etcd_watch_opts_t){.start_rev = r.revision + 1};
    w = etcd_watch(cli[1], bg(), "/e", &wo);
    /* A keep-alive of the expired (not yet revoked) lease at 2.4s waits for
     * the revocation, then "not found". */
    go_sleep_until(2400 * MS);
    ck_assert_ptr_eq(etcd_keepalive_once(cli[0], bg(), l, NULL), &ETCD_ERR_LEASE_NOT_FOUND);
    ck_assert_int_eq(sched_now(), 2501 * MS);
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->events[0].type, KV_EVENT_DELETE);
    ck_assert_int_eq(sched_now(), 2501 * MS);
    etcd_watch_resp_free(wr);
    /* TimeToLive: whole seconds left, rounded down, as etcd. */
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 30, &r));
    l = r.lease;
    simtime_t granted = sched_now() - MS; /* at the server */
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/ttl", "v", l, NULL));
    go_sleep_until(granted + 2600 * MS - MS);
    ck_assert_ptr_null(etcd_time_to_live(cli[0], bg(), l, &r));
    ck_assert_int_eq(r.ttl, 27); /* 27.4s left */
    ck_assert_int_eq(r.granted_ttl, 30);
    ck_assert_int_eq(r.lease_keys, 1);
    ck_assert_ptr_null(etcd_time_to_live(cli[0], bg(), 0x1234, &r));
    ck_assert_int_eq(r.ttl, -1);
}
RUN(lease_server_item70)

/* The lease entities: alive, then revoked or expired. */
static char ent_hex1[32], ent_hex2[32];
static int ent_found;

static void visit_lease(void *ud, entity_t *e)
{
    (void)ud;
    if (strcmp(entity_kind(e), "lease") != 0)
        return;
    if (strcmp(entity_name(e), ent_hex1) == 0) {
        ck_assert_str_eq(entity_state(e), "expired");
        ent_found++;
    }
    if (strcmp(entity_name(e), ent_hex2) == 0) {
        ck_assert_str_eq(entity_state(e), "revoked");
        ck_assert_int_eq(entity_get(e, "ttl", 0), 60);
        ent_found++;
    }
}

static void lease_entities_main(void *arg)
{
    (void)arg;
    world(1, MS);
    kv_result_t r1, r2;
    etcd_grant(cli[0], bg(), 2, &r1);
    etcd_grant(cli[0], bg(), 60, &r2);
    etcd_revoke(cli[0], bg(), r2.lease, NULL);
    go_sleep(5 * SEC);
    snprintf(ent_hex1, sizeof ent_hex1, "%llx", (unsigned long long)r1.lease);
    snprintf(ent_hex2, sizeof ent_hex2, "%llx", (unsigned long long)r2.lease);
    ent_found = 0;
    entity_each(sched_current(), visit_lease, NULL);
    ck_assert_int_eq(ent_found, 2);
    ck_assert_int_eq(entity_get(etcd_server_entity(srv), "leases", -1), 0);
}
RUN(lease_entities)

/* ---- 71-78: Mutex ------------------------------------------------------------------------ */

static void mutex_key_item71_main(void *arg)
{
    (void)arg;
    world(2, MS);
    concurrency_session_t *s = session(0, 10);
    concurrency_mutex_t *m = concurrency_mutex_new(s, "/lk");
    uint64_t before = etcd_server_requests(srv);
    int64_t rev = kv_revision(etcd_server_kv(srv));
    simtime_t t0 = sched_now();
    ck_assert_ptr_null(concurrency_mutex_lock(m, bg()));
    /* One transaction: one request, one revision, one round trip. */
    ck_assert_uint_eq(etcd_server_requests(srv) - before, 1 + 1 /* the session's keep-alive */);
    ck_assert_int_eq(sched_now() - t0, 2 * MS);
    ck_assert_int_eq(kv_revision(etcd_server_kv(srv)), rev + 1);
    char want[64];
    snprintf(want, sizeof want, "/lk/%llx", (unsigned long long)concurrency_session_lease(s));
    ck_assert_str_eq(concurrency_mutex_key(m), want);
    ck_assert_int_eq(concurrency_mutex_rev(m), rev + 1);
    ck_assert_int_eq(concurrency_mutex_header_revision(m), rev + 1);
    const kv_kv_t *k = kv_lookup(etcd_server_kv(srv), want);
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->lease, concurrency_session_lease(s));
    /* The holder is the key with the lowest create revision (the store's view). */
    concurrency_session_t *s2 = session(1, 10);
    concurrency_mutex_t *m2 = concurrency_mutex_new(s2, "/lk");
    ck_assert_ptr_eq(concurrency_mutex_try_lock(m2, bg()), &CONCURRENCY_ERR_LOCKED);
    entity_t *lk = etcd_server_track(srv, "/lk/", ETCD_TRACK_LOCK);
    ck_assert_str_eq(entity_name(lk), "/lk");
    ck_assert_str_eq(entity_state(lk), "held");
    ck_assert_int_eq(entity_get(lk, "holder_rev", 0), rev + 1);
    ck_assert_int_eq(entity_get(lk, "holder_lease", 0), concurrency_session_lease(s));
    ck_assert_str_eq(entity_state(concurrency_mutex_entity(m)), "held");
}
RUN(mutex_key_item71)

typedef struct locker {
    concurrency_mutex_t *m;
    ctx_t *ctx;
    const go_error_t *err;
    simtime_t at;
    bool done;
} locker_t;

static void lock_g(void *arg)
{
    locker_t *l = arg;
    l->err = concurrency_mutex_lock(l->m, l->ctx ? l->ctx : bg());
    l->at = sched_now();
    l->done = true;
}

static void mutex_wait_item72_main(void *arg)
{
    (void)arg;
    world(3, MS);
    concurrency_session_t *sa = session(0, 30), *sb = session(1, 30), *sc = session(2, 30);
    concurrency_mutex_t *a = concurrency_mutex_new(sa, "/lk");
    ck_assert_ptr_null(concurrency_mutex_lock(a, bg()));
    static locker_t b, c;
    b = (locker_t){concurrency_mutex_new(sb, "/lk"), NULL, NULL, 0, false};
    c = (locker_t){concurrency_mutex_new(sc, "/lk"), NULL, NULL, 0, false};
    net_node_go(cn[1], lock_g, &b, "lock-b");
    go_sleep(10 * MS);
    net_node_go(cn[2], lock_g, &c, "lock-c");
    go_sleep(SEC);
    ck_assert(!b.done && !c.done);
    ck_assert_str_eq(entity_state(concurrency_mutex_entity(c.m)), "waiting");
    /* c waits for b's key (the newest older than its own), not a's:
     * delete b's key (its lease revoked) and c, finding a older, waits on. */
    ck_assert_ptr_null(etcd_revoke(cli[0], bg(), concurrency_session_lease(sb), NULL));
    go_sleep(SEC);
    ck_assert(!c.done);
    ck_assert(!b.done); /* b still waits for a's key */
    simtime_t t = sched_now();
    ck_assert_ptr_null(concurrency_mutex_unlock(a, bg())); /* deleted at t+1ms */
    go_sleep(SEC);
    /* c: delete event at t+2ms, a Get (t+4ms) finds nothing older, its own
     * key read again (t+6ms). */
    ck_assert(c.done);
    ck_assert_ptr_null(c.err);
    ck_assert_int_eq(c.at, t + 6 * MS);
    /* b: its key is gone when its wait ends: the session is expired. */
    ck_assert(b.done);
    ck_assert_ptr_eq(b.err, &CONCURRENCY_ERR_SESSION_EXPIRED);
    ck_assert_str_eq(go_error_msg(b.err), "mutex: session is expired");
}
RUN(mutex_wait_item72)

/* A handoff soon after the waiter began to wait waits for the store's
 * watch sync: the waiter watches its predecessor's key from the revision of
 * its last read (the store's revision then), a revision the store has
 * reached, so its watch is caught up by the 100ms sync, not by the delete.
 * Measured on etcd 3.4.23: a watch from the store's revision, then a
 * write of its key: the event came 4.7ms to 132ms after the write (15
 * tries at random times). */
static void mutex_handoff_sync_item72_main(void *arg)
{
    (void)arg;
    world(2, MS);
    concurrency_session_t *sa = session(0, 30), *sb = session(1, 30);
    concurrency_mutex_t *a = concurrency_mutex_new(sa, "/hs");
    go_sleep_until(200 * MS);
    ck_assert_ptr_null(concurrency_mutex_lock(a, bg())); /* 200ms to 202ms */
    static locker_t b;
    b = (locker_t){concurrency_mutex_new(sb, "/hs"), NULL, NULL, 0, false};
    net_node_go(cn[1], lock_g, &b, "lock-b"); /* its watch made at 207ms */
    go_sleep_until(220 * MS);
    ck_assert(!b.done);
    ck_assert_ptr_null(concurrency_mutex_unlock(a, bg())); /* deleted at 221ms */
    go_sleep(SEC);
    /* The delete reaches b with the sync at 300ms (at 301ms); its Get
     * (303ms) finds nothing older; its own key read again (305ms). */
    ck_assert(b.done);
    ck_assert_ptr_null(b.err);
    ck_assert_int_eq(b.at, 305 * MS);
    /* A handoff a sync after the wait began is at once: b unlocks at
     * 1.5s, long after a waits (a's watch synced at the sync after it). */
    static locker_t a2;
    a2 = (locker_t){a, NULL, NULL, 0, false};
    net_node_go(cn[0], lock_g, &a2, "lock-a");
    go_sleep_until(1500 * MS);
    ck_assert(!a2.done);
    ck_assert_ptr_null(concurrency_mutex_unlock(b.m, bg())); /* deleted 1.501s */
    go_sleep(SEC);
    ck_assert(a2.done);
    ck_assert_ptr_null(a2.err);
    ck_assert_int_eq(a2.at, 1506 * MS);
}
RUN(mutex_handoff_sync_item72)

static void mutex_wait_fails_item73_main(void *arg)
{
    (void)arg;
    world(2, MS);
    concurrency_session_t *sa = session(0, 30), *sb = session(1, 30);
    concurrency_mutex_t *a = concurrency_mutex_new(sa, "/lk");
    ck_assert_ptr_null(concurrency_mutex_lock(a, bg()));
    concurrency_mutex_t *b = concurrency_mutex_new(sb, "/lk");
    simtime_t t = sched_now();
    ctx_t *ctx = ctx_with_timeout(bg(), SEC);
    const go_error_t *err = concurrency_mutex_lock(b, ctx);
    ck_assert_ptr_eq(err, &GO_ERR_DEADLINE_EXCEEDED);
    /* The deadline at t+1s, then its own key deleted (2ms). */
    ck_assert_int_eq(sched_now(), t + SEC + 2 * MS);
    kv_result_t r;
    kv_range_opts_t o = {.prefix = true};
    ck_assert_ptr_null(etcd_get(cli[1], bg(), "/lk/", &o, &r));
    ck_assert_uint_eq(r.op.nkvs, 1);
    ck_assert_str_eq(r.op.kvs[0].key, concurrency_mutex_key(a));
    kv_result_clear(&r);
    ck_assert_ptr_eq(concurrency_mutex_unlock(b, bg()), &CONCURRENCY_ERR_LOCK_RELEASED);
}
RUN(mutex_wait_fails_item73)

static int trylock_wins, trylock_locked;
static void trylock_g(void *arg)
{
    concurrency_mutex_t *m = arg;
    const go_error_t *err = concurrency_mutex_try_lock(m, bg());
    if (!err)
        trylock_wins++;
    else if (err == &CONCURRENCY_ERR_LOCKED)
        trylock_locked++;
}

static void trylock_item74_main(void *arg)
{
    (void)arg;
    world(5, MS);
    concurrency_mutex_t *m[5];
    for (int i = 0; i < 5; i++)
        m[i] = concurrency_mutex_new(session(i, 30), "/try");
    trylock_wins = trylock_locked = 0;
    for (int i = 0; i < 5; i++)
        net_node_go(cn[i], trylock_g, m[i], "trylock");
    go_sleep(SEC);
    ck_assert_int_eq(trylock_wins, 1);
    ck_assert_int_eq(trylock_locked, 4);
    /* The losers deleted their keys. */
    kv_result_t r;
    kv_range_opts_t o = {.prefix = true};
    ck_assert_ptr_null(etcd_get(cli[0], bg(), "/try/", &o, &r));
    ck_assert_uint_eq(r.op.nkvs, 1);
    kv_result_clear(&r);
    ck_assert_str_eq(go_error_msg(&CONCURRENCY_ERR_LOCKED), "mutex: Locked by another session");
}
RUN(trylock_item74)

static void unlock_released_item75_main(void *arg)
{
    (void)arg;
    world(1, MS);
    concurrency_mutex_t *m = concurrency_mutex_new(session(0, 30), "/lk");
    ck_assert_ptr_eq(concurrency_mutex_unlock(m, bg()), &CONCURRENCY_ERR_LOCK_RELEASED);
    ck_assert_str_eq(go_error_msg(&CONCURRENCY_ERR_LOCK_RELEASED), "mutex: lock has already been released");
    ck_assert_ptr_null(concurrency_mutex_lock(m, bg()));
    ck_assert_ptr_null(concurrency_mutex_unlock(m, bg()));
    ck_assert_str_eq(concurrency_mutex_key(m), "");
    ck_assert_int_eq(concurrency_mutex_rev(m), -1);
    ck_assert_ptr_eq(concurrency_mutex_unlock(m, bg()), &CONCURRENCY_ERR_LOCK_RELEASED);
}
RUN(unlock_released_item75)

static void relock_item76_main(void *arg)
{
    (void)arg;
    world(1, MS);
    concurrency_session_t *s = session(0, 30);
    concurrency_mutex_t *m1 = concurrency_mutex_new(s, "/lk"), *m2 = concurrency_mutex_new(s, "/lk");
    ck_assert_ptr_null(concurrency_mutex_lock(m1, bg()));
    int64_t rev = kv_revision(etcd_server_kv(srv));
    simtime_t t = sched_now();
    ck_assert_ptr_null(concurrency_mutex_lock(m2, bg())); /* at once: same key */
    ck_assert_int_eq(sched_now(), t + 2 * MS);
    ck_assert_str_eq(concurrency_mutex_key(m2), concurrency_mutex_key(m1));
    ck_assert_int_eq(concurrency_mutex_rev(m2), concurrency_mutex_rev(m1));
    ck_assert_int_eq(kv_revision(etcd_server_kv(srv)), rev); /* nothing written */
    ck_assert_ptr_null(concurrency_mutex_lock(m1, bg())); /* the same object again */
    ck_assert_int_eq(sched_now(), t + 4 * MS);
}
RUN(relock_item76)

/* 77: lock order is create-revision order, one holder at a time. */
static int holders, max_holders, norder;
static int64_t order_rev[MAXN];
static void order_g(void *arg)
{
    concurrency_mutex_t *m = arg;
    ck_assert_ptr_null(concurrency_mutex_lock(m, bg()));
    holders++;
    if (holders > max_holders)
        max_holders = holders;
    order_rev[norder++] = concurrency_mutex_rev(m);
    go_sleep(100 * MS);
    holders--;
    ck_assert_ptr_null(concurrency_mutex_unlock(m, bg()));
}

static void lock_order_item77_main(void *arg)
{
    (void)arg;
    world(6, MS);
    concurrency_mutex_t *m[6];
    for (int i = 0; i < 6; i++)
        m[i] = concurrency_mutex_new(session(i, 30), "/order");
    holders = max_holders = norder = 0;
    /* Arrivals in the order 3, 0, 5, 1, 4, 2. */
    int arrive[6] = {3, 0, 5, 1, 4, 2};
    for (int i = 0; i < 6; i++) {
        net_node_go(cn[arrive[i]], order_g, m[arrive[i]], "locker");
        go_sleep(5 * MS);
    }
    go_sleep(5 * SEC);
    ck_assert_int_eq(norder, 6);
    ck_assert_int_eq(max_holders, 1);
    for (int i = 1; i < 6; i++)
        ck_assert_int_lt(order_rev[i - 1], order_rev[i]);
}
RUN(lock_order_item77)

/* The same contention with every client starting at the same instant, under
 * a random schedule: still one holder at a time, still in revision order. */
static void lock_order_random_main(void *arg)
{
    (void)arg;
    world(6, MS);
    concurrency_mutex_t *m[6];
    for (int i = 0; i < 6; i++)
        m[i] = concurrency_mutex_new(session(i, 30), "/order");
    holders = max_holders = norder = 0;
    for (int i = 0; i < 6; i++)
        net_node_go(cn[i], order_g, m[i], "locker");
    go_sleep(5 * SEC);
    ck_assert_int_eq(norder, 6);
    ck_assert_int_eq(max_holders, 1);
    for (int i = 1; i < 6; i++)
        ck_assert_int_lt(order_rev[i - 1], order_rev[i]);
}

START_TEST(lock_order_random)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        sched_config_t cfg = sched_config_default();
        cfg.policy = SCHED_RANDOM;
        cfg.seed = seed;
        sched_result_t r;
        sched_t *s = run_with(&cfg, lock_order_random_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        sched_destroy(s);
    }
}
END_TEST

static void is_owner_item78_main(void *arg)
{
    (void)arg;
    world(2, MS);
    concurrency_session_t *sa = session(0, 30), *sb = session(1, 30);
    concurrency_mutex_t *a = concurrency_mutex_new(sa, "/lk"), *b = concurrency_mutex_new(sb, "/lk");
    ck_assert_ptr_null(concurrency_mutex_lock(a, bg()));
    int64_t token_a = concurrency_mutex_header_revision(a);
    kv_cmp_t own = concurrency_mutex_is_owner(a);
    ck_assert_int_eq(own.target, KV_CMP_CREATE);
    ck_assert_int_eq(own.result, KV_CMP_EQUAL);
    ck_assert_int_eq(own.num, concurrency_mutex_rev(a));
    ck_assert_str_eq(own.key, concurrency_mutex_key(a));
    kv_op_t put = kv_op_put("/resource", "from a", 0);
    kv_txn_t t = {&own, 1, &put, 1, NULL, 0};
    kv_result_t r;
    ck_assert_ptr_null(etcd_txn(cli[0], bg(), &t, &r));
    ck_assert(r.succeeded);
    kv_result_clear(&r);
    /* a's lease is lost (revoked behind its back), b takes the lock; a
     * still believes it holds it, but its guarded write fails. */
    ck_assert_ptr_null(etcd_revoke(cli[1], bg(), concurrency_session_lease(sa), NULL));
    ck_assert_ptr_null(concurrency_mutex_lock(b, bg()));
    ck_assert_int_gt(concurrency_mutex_header_revision(b), token_a); /* a fencing token */
    own = concurrency_mutex_is_owner(a);
    put = kv_op_put("/resource", "stale write from a", 0);
    ck_assert_ptr_null(etcd_txn(cli[0], bg(), &t, &r));
    ck_assert(!r.succeeded);
    kv_result_clear(&r);
    ck_assert_str_eq(kv_lookup(etcd_server_kv(srv), "/resource")->value, "from a");
}
RUN(is_owner_item78)

/* A lock held by a crashed node is taken by another once the lease
 * expires: no earlier than TTL after the holder's last renewal. */
static void crash_holder_g(void *arg)
{
    (void)arg;
    concurrency_mutex_t *m = concurrency_mutex_new(session(0, 6), "/lk");
    ck_assert_ptr_null(concurrency_mutex_lock(m, bg()));
    go_sleep(SIMTIME_MAX / 4); /* holds it forever */
}

static simtime_t crash_at_t;
static simtime_t handoff_at;

static void crash_handoff_main(void *arg)
{
    (void)arg;
    world(2, MS);
    net_node_go(cn[0], crash_holder_g, NULL, "holder");
    /* n0: grant 0-2ms; its keep-alive loop ticks from 2ms: the first
     * keep-alive at 2ms (renewed at the server at 3ms, replied 4ms), the
     * next due 2.004s and sent at the tick 2.502s (renewed 2.503s), then
     * 5.002s (renewed 5.003s). The lock txn at 2ms..4ms. */
    go_sleep(500 * MS);
    static locker_t w;
    w = (locker_t){concurrency_mutex_new(session(1, 6), "/lk"), NULL, NULL, 0, false};
    net_node_go(cn[1], lock_g, &w, "waiter");
    go_sleep_until(crash_at_t);
    net_node_crash(cn[0]);
    go_sleep_until(30 * SEC);
    ck_assert(w.done);
    ck_assert_ptr_null(w.err);
    handoff_at = w.at;
    net_node_restart(cn[0]);
}

/* SEMANTICS item 97: the lock comes back between 2/3 TTL - 500ms and TTL
 * (+ the expiry grid) after its holder crashed, depending on where the
 * crash falls between two renewals. */
START_TEST(crash_handoff)
{
    /* Just before the renewal at 2.503s: the last was at 3ms, deadline
     * 6.003s, expired at the 6.5s check; the delete reaches the waiter at
     * 6.501s, a Get and a re-read: 6.505s, 4.004s after the crash. */
    crash_at_t = 2501 * MS;
    run_ok(crash_handoff_main);
    ck_assert_int_eq(handoff_at, 6505 * MS);
    ck_assert_int_ge(handoff_at - crash_at_t, 4 * SEC - 500 * MS);
    /* Just after it: deadline 8.503s, expired at 9s, held from 9.005s,
     * 6.501s after the crash. */
    crash_at_t = 2504 * MS;
    run_ok(crash_handoff_main);
    ck_assert_int_eq(handoff_at, 9005 * MS);
    ck_assert_int_le(handoff_at - crash_at_t, 6 * SEC + 505 * MS); /* + the expiry grid, + 5ms of messages */
}
END_TEST

/* A holder paused past its lease (a long GC pause): the lock passes on at
 * the expiry; when the holder wakes, its session is already done and a
 * write guarded by IsOwner fails. */
static bool paused_done;
static bool paused_write_ok;
static simtime_t paused_write_at;
static void paused_holder_g(void *arg)
{
    (void)arg;
    concurrency_session_t *s = session(0, 5);
    concurrency_mutex_t *m = concurrency_mutex_new(s, "/lk");
    ck_assert_ptr_null(concurrency_mutex_lock(m, bg()));
    go_sleep(12 * SEC); /* paused from 1s to 11s in the middle of this */
    paused_done = chan_closed(concurrency_session_done(s));
    kv_cmp_t own = concurrency_mutex_is_owner(m);
    kv_op_t put = kv_op_put("/resource", "late", 0);
    kv_txn_t t = {&own, 1, &put, 1, NULL, 0};
    kv_result_t r;
    ck_assert_ptr_null(etcd_txn(cli[0], bg(), &t, &r));
    paused_write_ok = r.succeeded;
    paused_write_at = sched_now();
    kv_result_clear(&r);
}

static void pause_holder_main(void *arg)
{
    (void)arg;
    world(2, MS);
    net_node_go(cn[0], paused_holder_g, NULL, "holder");
    go_sleep(500 * MS);
    static locker_t w;
    w = (locker_t){concurrency_mutex_new(session(1, 5), "/lk"), NULL, NULL, 0, false};
    net_node_go(cn[1], lock_g, &w, "waiter");
    go_sleep_until(SEC);
    net_node_pause(cn[0]); /* its next keep-alive was due at 1.670s */
    go_sleep_until(11 * SEC);
    ck_assert(w.done);
    ck_assert_ptr_null(w.err);
    /* Renewed at the server at 3ms: deadline 5.003s, expired at the 5.5s
     * check, the waiter holds the lock from 5.505s. */
    ck_assert_int_eq(w.at, 5505 * MS);
    net_node_resume(cn[0]);
    go_sleep_until(20 * SEC);
    ck_assert(paused_done); /* its keep-alive deadline passed while it slept */
    ck_assert(!paused_write_ok);
    ck_assert_int_eq(paused_write_at, 4 * MS + 12 * SEC + 2 * MS);
}
RUN(pause_holder)

/* ---- 79-82: Election ----------------------------------------------------------------------- */

typedef struct campaigner {
    concurrency_election_t *e;
    ctx_t *ctx;
    const char *val;
    const go_error_t *err;
    simtime_t at;
    bool done;
} campaigner_t;

static void campaign_g(void *arg)
{
    campaigner_t *c = arg;
    c->err = concurrency_election_campaign(c->e, c->ctx ? c->ctx : bg(), c->val);
    c->at = sched_now();
    c->done = true;
}

static void campaign_item79_main(void *arg)
{
    (void)arg;
    world(3, MS);
    concurrency_session_t *sa = session(0, 30), *sb = session(1, 30);
    concurrency_election_t *ea = concurrency_election_new(sa, "/el");
    ck_assert_ptr_null(concurrency_election_campaign(ea, bg(), "node-a"));
    char want[64];
    snprintf(want, sizeof want, "/el/%llx", (unsigned long long)concurrency_session_lease(sa));
    ck_assert_str_eq(concurrency_election_key(ea), want);
    ck_assert_str_eq(kv_lookup(etcd_server_kv(srv), want)->value, "node-a");
    ck_assert(concurrency_election_is_leader(ea));
    entity_t *el = etcd_server_track(srv, "/el/", ETCD_TRACK_ELECTION);
    ck_assert_str_eq(entity_state(el), "node-a");
    ck_assert_int_eq(entity_get(el, "term", 0), concurrency_election_rev(ea));
    /* b waits for every older key; cancelling its ctx resigns (deletes its key). */
    static campaigner_t b;
    ctx_t *ctx = ctx_with_cancel(bg());
    b = (campaigner_t){concurrency_election_new(sb, "/el"), ctx, "node-b", NULL, 0, false};
    net_node_go(cn[1], campaign_g, &b, "campaign-b");
    go_sleep(SEC);
    ck_assert(!b.done);
    ck_assert_int_eq(entity_get(el, "candidates", 0), 2);
    ctx_cancel(ctx);
    go_sleep(SEC);
    ck_assert(b.done);
    ck_assert_ptr_eq(b.err, &GO_ERR_CANCELED);
    snprintf(want, sizeof want, "/el/%llx", (unsigned long long)concurrency_session_lease(sb));
    ck_assert_ptr_null(kv_lookup(etcd_server_kv(srv), want));
    /* Campaigning again with a new value on an existing key proclaims it. */
    ck_assert_ptr_null(concurrency_election_campaign(ea, bg(), "node-a2"));
    ck_assert_str_eq(kv_lookup(etcd_server_kv(srv), concurrency_election_key(ea))->value, "node-a2");
    ck_assert_str_eq(entity_state(el), "node-a2");
    /* A later candidate becomes leader when the leader resigns. */
    static campaigner_t c;
    c = (campaigner_t){concurrency_election_new(session(2, 30), "/el"), NULL, "node-c", NULL, 0, false};
    net_node_go(cn[2], campaign_g, &c, "campaign-c");
    go_sleep(SEC);
    ck_assert(!c.done);
    simtime_t t = sched_now();
    ck_assert_ptr_null(concurrency_election_resign(ea, bg()));
    go_sleep(SEC);
    ck_assert(c.done);
    ck_assert_ptr_null(c.err);
    ck_assert_int_eq(c.at, t + 4 * MS); /* delete event +2ms, a Get +2ms */
    ck_assert_int_eq(entity_get(el, "term", 0), concurrency_election_rev(c.e));
}
RUN(campaign_item79)

static void proclaim_item80_main(void *arg)
{
    (void)arg;
    world(2, MS);
    concurrency_session_t *sa = session(0, 30);
    concurrency_election_t *e = concurrency_election_new(sa, "/el");
    ck_assert_ptr_eq(concurrency_election_proclaim(e, bg(), "x"), &CONCURRENCY_ERR_NOT_LEADER);
    ck_assert_str_eq(go_error_msg(&CONCURRENCY_ERR_NOT_LEADER), "election: not leader");
    ck_assert_ptr_null(concurrency_election_campaign(e, bg(), "v1"));
    ck_assert_ptr_null(concurrency_election_proclaim(e, bg(), "v2"));
    const kv_kv_t *k = kv_lookup(etcd_server_kv(srv), concurrency_election_key(e));
    ck_assert_str_eq(k->value, "v2");
    ck_assert_int_eq(k->version, 2);
    ck_assert_int_eq(concurrency_election_header_revision(e), k->mod_rev);
    /* The key is lost (lease revoked): the compare on its create revision fails. */
    ck_assert_ptr_null(etcd_revoke(cli[1], bg(), concurrency_session_lease(sa), NULL));
    ck_assert_ptr_eq(concurrency_election_proclaim(e, bg(), "v3"), &CONCURRENCY_ERR_NOT_LEADER);
    ck_assert_str_eq(concurrency_election_key(e), "");
    ck_assert_uint_eq(kv_key_count(etcd_server_kv(srv)), 0);
}
RUN(proclaim_item80)

static void resign_leader_item81_main(void *arg)
{
    (void)arg;
    world(2, MS);
    concurrency_election_t *a = concurrency_election_new(session(0, 30), "/el");
    concurrency_election_t *b = concurrency_election_new(session(1, 30), "/el");
    ck_assert_ptr_eq(concurrency_election_leader(a, bg(), NULL), &CONCURRENCY_ERR_NO_LEADER);
    ck_assert_str_eq(go_error_msg(&CONCURRENCY_ERR_NO_LEADER), "election: no leader");
    ck_assert_ptr_null(concurrency_election_resign(a, bg())); /* not leader: nil */
    ck_assert_ptr_null(concurrency_election_campaign(a, bg(), "a"));
    static campaigner_t cb;
    cb = (campaigner_t){b, NULL, "b", NULL, 0, false};
    net_node_go(cn[1], campaign_g, &cb, "campaign-b");
    go_sleep(SEC);
    kv_result_t r;
    ck_assert_ptr_null(concurrency_election_leader(b, bg(), &r));
    ck_assert_str_eq(r.op.kvs[0].value, "a"); /* the oldest key */
    kv_result_clear(&r);
    ck_assert_ptr_null(concurrency_election_resign(a, bg()));
    ck_assert(!concurrency_election_is_leader(a));
    go_sleep(SEC);
    ck_assert(cb.done);
    ck_assert_ptr_null(concurrency_election_leader(a, bg(), &r));
    ck_assert_str_eq(r.op.kvs[0].value, "b");
    kv_result_clear(&r);
    ck_assert_ptr_null(concurrency_election_resign(b, bg()));
    ck_assert_ptr_eq(concurrency_election_leader(a, bg(), NULL), &CONCURRENCY_ERR_NO_LEADER);
}
RUN(resign_leader_item81)

static void observe_item82_main(void *arg)
{
    (void)arg;
    world(3, MS);
    concurrency_election_t *a = concurrency_election_new(session(0, 30), "/el");
    concurrency_election_t *b = concurrency_election_new(session(1, 30), "/el");
    concurrency_election_t *obs = concurrency_election_new(session(2, 30), "/el");
    ctx_t *ctx = ctx_with_cancel(bg());
    chan_t *ch = concurrency_election_observe(obs, ctx);
    go_sleep(100 * MS); /* no leader yet: observe waits for the first put */
    ck_assert_ptr_null(concurrency_election_campaign(a, bg(), "a1"));
    concurrency_observe_t *o;
    ck_assert(chan_recv(ch, &o));
    ck_assert_str_eq(o->kv.value, "a1");
    ck_assert_int_eq(o->kv.version, 1);
    int64_t term_a = o->kv.create_rev;
    concurrency_observe_free(o);
    ck_assert_ptr_null(concurrency_election_proclaim(a, bg(), "a2"));
    ck_assert(chan_recv(ch, &o));
    ck_assert_str_eq(o->kv.value, "a2");
    ck_assert_int_eq(o->kv.version, 2);
    ck_assert_int_eq(o->kv.create_rev, term_a);
    ck_assert_int_eq(o->revision, o->kv.mod_rev);
    concurrency_observe_free(o);
    static campaigner_t cb;
    cb = (campaigner_t){b, NULL, "b1", NULL, 0, false};
    net_node_go(cn[1], campaign_g, &cb, "campaign-b");
    go_sleep(SEC);
    ck_assert_ptr_null(concurrency_election_resign(a, bg()));
    ck_assert(chan_recv(ch, &o));
    ck_assert_str_eq(o->kv.value, "b1");
    ck_assert_int_gt(o->kv.create_rev, term_a);
    concurrency_observe_free(o);
    ctx_cancel(ctx);
    ck_assert(!chan_recv(ch, &o)); /* closes on cancel */
}
RUN(observe_item82)

/* ---- 83: revisions through the client ------------------------------------------------------- */

static void revisions_item83_main(void *arg)
{
    (void)arg;
    world(1, MS);
    kv_result_t r;
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/a", "1", 0, &r));
    ck_assert_int_eq(r.revision, 2);
    kv_result_clear(&r);
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/a", "2", 0, &r));
    ck_assert_int_eq(r.revision, 3);
    kv_result_clear(&r);
    ck_assert_ptr_null(etcd_get(cli[0], bg(), "/a", NULL, &r));
    ck_assert_int_eq(r.op.kvs[0].create_rev, 2);
    ck_assert_int_eq(r.op.kvs[0].mod_rev, 3);
    ck_assert_int_eq(r.op.kvs[0].version, 2);
    ck_assert_int_eq(r.revision, 3);
    kv_result_clear(&r);
    ck_assert_ptr_null(etcd_delete(cli[0], bg(), "/a", false, &r));
    ck_assert_int_eq(r.op.deleted, 1);
    ck_assert_int_eq(r.revision, 4);
    kv_result_clear(&r);
    kv_cmp_t c = kv_cmp_num("/a", KV_CMP_VERSION, KV_CMP_EQUAL, 0);
    kv_op_t ops[2] = {kv_op_put("/a", "new", 0), kv_op_put("/b", "x", 0)};
    kv_txn_t t = {&c, 1, ops, 2, NULL, 0};
    ck_assert_ptr_null(etcd_txn(cli[0], bg(), &t, &r));
    ck_assert(r.succeeded);
    ck_assert_int_eq(r.revision, 5);
    kv_result_clear(&r);
    ck_assert_ptr_null(etcd_get(cli[0], bg(), "/a", NULL, &r));
    ck_assert_int_eq(r.op.kvs[0].version, 1); /* delete reset it */
    ck_assert_int_eq(r.op.kvs[0].create_rev, 5);
    kv_result_clear(&r);
    ck_assert_ptr_eq(etcd_put(cli[0], bg(), "", "x", 0, NULL), &ETCD_ERR_EMPTY_KEY);
    kv_op_t dup[2] = {kv_op_put("/d", "1", 0), kv_op_put("/d", "2", 0)};
    kv_txn_t td = {NULL, 0, dup, 2, NULL, 0};
    ck_assert_ptr_eq(etcd_txn(cli[0], bg(), &td, NULL), &ETCD_ERR_DUPLICATE_KEY);
    ck_assert_int_eq(kv_revision(etcd_server_kv(srv)), 5);
    ck_assert_int_eq(entity_get(etcd_server_entity(srv), "revision", 0), 5);
}
RUN(revisions_item83)

/* ---- 84: watches -------------------------------------------------------------------------------- */

static void watch_item84_main(void *arg)
{
    (void)arg;
    world(2, MS);
    kv_result_t r;
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/w/a", "1", 0, &r)); /* rev 2 */
    kv_result_clear(&r);
    etcd_put(cli[0], bg(), "/other", "1", 0, NULL); /* rev 3, at 4ms */
    ctx_t *ctx = ctx_with_cancel(bg());
    etcd_watch_opts_t o = {.prefix = true, .start_rev = 2}; /* inclusive */
    chan_t *w = etcd_watch(cli[1], ctx, "/w/", &o);
    etcd_watch_resp_t *wr;
    /* The history comes stamped with the store's revision (etcd's header),
     * from the store's sync of watches behind it: 100ms after its start. */
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(sched_now(), 101 * MS);
    ck_assert_int_eq(wr->revision, 3);
    ck_assert_uint_eq(wr->nevents, 1);
    ck_assert_str_eq(wr->events[0].kv.key, "/w/a");
    ck_assert_int_eq(wr->events[0].kv.mod_rev, 2);
    etcd_watch_resp_free(wr);
    /* A transaction's writes arrive together, in one response. */
    kv_op_t ops[3] = {kv_op_put("/w/b", "1", 0), kv_op_put("/w/c", "1", 0),
                      kv_op_delete("/w/a", false)};
    kv_txn_t t = {NULL, 0, ops, 3, NULL, 0};
    ck_assert_ptr_null(etcd_txn(cli[0], bg(), &t, NULL)); /* rev 4 */
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->revision, 4);
    ck_assert_uint_eq(wr->nevents, 3);
    ck_assert_int_eq(wr->events[0].type, KV_EVENT_PUT);
    ck_assert_int_eq(wr->events[2].type, KV_EVENT_DELETE);
    etcd_watch_resp_free(wr);
    ctx_cancel(ctx);
    ck_assert(!chan_recv(w, &wr));
    /* Compacted history is an error that ends the watch, at the sync too
     * (measured: the creation at once, the cancel up to 100ms later). */
    ck_assert_ptr_null(etcd_compact(cli[0], bg(), 4, NULL));
    ck_assert_ptr_eq(etcd_compact(cli[0], bg(), 4, NULL), &ETCD_ERR_COMPACTED);
    simtime_t made = sched_now();
    o.start_rev = 2;
    w = etcd_watch(cli[1], bg(), "/w/", &o);
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(sched_now(), (made / (100 * MS) + 1) * 100 * MS + MS);
    ck_assert(wr->canceled);
    ck_assert_ptr_eq(wr->err, &ETCD_ERR_COMPACTED);
    ck_assert_int_eq(wr->compact_revision, 4);
    etcd_watch_resp_free(wr);
    ck_assert(!chan_recv(w, &wr));
    o.start_rev = 4; /* the compaction point itself is still there */
    w = etcd_watch(cli[1], bg(), "/w/", &o);
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->revision, 4);
    etcd_watch_resp_free(wr);
}
RUN(watch_item84)

/* A watch from an old revision, as etcd 3.4's client sees it (measured
 * with etcdctl watch --rev -w json and the HTTP gateway against etcd
 * 3.4.23): the creation is answered at once; the history comes at the
 * store's next sync of watches behind it (every 100ms from its start:
 * measured 0.1ms to 101.6ms after the creation's answer, 30 watches made
 * at random times), in one response stamped with the store's revision at
 * that sync, events in revision order and a transaction's in its own
 * order, up to 1000 revisions per response, the next 1000 at the next
 * sync; then one response per revision. */
static void watch_catch_up_main(void *arg)
{
    (void)arg;
    world(2, MS);
    etcd_put(cli[0], bg(), "/c/a", "1", 0, NULL); /* rev 2 */
    kv_op_t ops[2] = {kv_op_put("/c/z", "1", 0), kv_op_put("/c/m", "1", 0)};
    kv_txn_t t = {NULL, 0, ops, 2, NULL, 0};
    ck_assert_ptr_null(etcd_txn(cli[0], bg(), &t, NULL)); /* rev 3 */
    etcd_put(cli[0], bg(), "/x", "1", 0, NULL);   /* rev 4 */
    etcd_delete(cli[0], bg(), "/c/a", false, NULL); /* rev 5 */
    etcd_put(cli[0], bg(), "/x", "2", 0, NULL);   /* rev 6, at 10ms */
    ctx_t *ctx = ctx_with_cancel(bg());
    etcd_watch_opts_t o = {.prefix = true, .start_rev = 1};
    chan_t *w = etcd_watch(cli[1], ctx, "/c/", &o);
    /* Written after the watch was made, before the sync: in the history,
     * which is stamped with the revision at the sync. */
    etcd_put(cli[0], bg(), "/c/n", "1", 0, NULL); /* rev 7, at 12ms */
    etcd_put(cli[0], bg(), "/x", "3", 0, NULL);   /* rev 8 */
    etcd_watch_resp_t *wr;
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(sched_now(), 101 * MS); /* the sync at 100ms, 1ms away */
    ck_assert_int_eq(wr->revision, 8);
    ck_assert_uint_eq(wr->nevents, 5);
    static const char *const keys[] = {"/c/a", "/c/z", "/c/m", "/c/a", "/c/n"};
    static const int64_t revs[] = {2, 3, 3, 5, 7};
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(wr->events[i].kv.key, keys[i]);
        ck_assert_int_eq(wr->events[i].kv.mod_rev, revs[i]);
    }
    ck_assert_int_eq(wr->events[3].type, KV_EVENT_DELETE);
    etcd_watch_resp_free(wr);
    etcd_put(cli[0], bg(), "/c/d", "1", 0, NULL); /* rev 9: live */
    etcd_put(cli[0], bg(), "/x", "4", 0, NULL);   /* rev 10 */
    etcd_put(cli[0], bg(), "/c/e", "1", 0, NULL); /* rev 11 */
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->revision, 9);
    ck_assert_uint_eq(wr->nevents, 1);
    etcd_watch_resp_free(wr);
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->revision, 11);
    etcd_watch_resp_free(wr);
    ctx_cancel(ctx);
    /* 1100 revisions of history: 1000 in the first response, 100 in the
     * second, a sync later, both stamped with the store's revision. */
    for (int i = 0; i < 1100; i++)
        ck_assert_ptr_null(etcd_put(cli[0], bg(), "/b/k", "v", 0, NULL)); /* revs 12..1111 */
    etcd_put(cli[0], bg(), "/x", "5", 0, NULL); /* rev 1112 */
    simtime_t made = sched_now();
    simtime_t sync = (made / (100 * MS) + 1) * 100 * MS;
    w = etcd_watch(cli[1], bg(), "/b/", &o);
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(sched_now(), sync + MS);
    ck_assert_int_eq(wr->revision, 1112);
    ck_assert_uint_eq(wr->nevents, 1000);
    ck_assert_int_eq(wr->events[0].kv.mod_rev, 12);
    ck_assert_int_eq(wr->events[999].kv.mod_rev, 1011);
    etcd_watch_resp_free(wr);
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(sched_now(), sync + 100 * MS + MS);
    ck_assert_int_eq(wr->revision, 1112);
    ck_assert_uint_eq(wr->nevents, 100);
    ck_assert_int_eq(wr->events[99].kv.mod_rev, 1111);
    etcd_watch_resp_free(wr);
}
RUN(watch_catch_up)

/* Watches that need no history are synced at once: from the next revision
 * (the default), from a future one, and one whose history holds nothing of
 * its key (synced at the sync, with no response). A synced watch keeps
 * getting its key's writes after a compaction passes its last response. */
static void watch_synced_main(void *arg)
{
    (void)arg;
    world(2, MS);
    for (int i = 0; i < 3; i++)
        etcd_put(cli[0], bg(), "/o", "v", 0, NULL); /* revs 2..4 */
    etcd_watch_opts_t o = {.start_rev = 2};
    chan_t *w = etcd_watch(cli[1], bg(), "/s", &o); /* behind, but nothing of /s */
    chan_t *d = etcd_watch(cli[1], bg(), "/s", NULL);
    o.start_rev = 6;
    chan_t *f = etcd_watch(cli[1], bg(), "/s", &o);
    go_sleep(200 * MS);
    etcd_put(cli[0], bg(), "/s", "1", 0, NULL); /* rev 5, at 207ms */
    etcd_watch_resp_t *wr;
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(sched_now(), 208 * MS);
    ck_assert_int_eq(wr->revision, 5);
    etcd_watch_resp_free(wr);
    ck_assert(chan_recv(d, &wr));
    ck_assert_int_eq(wr->revision, 5);
    etcd_watch_resp_free(wr);
    for (int i = 0; i < 3; i++)
        etcd_put(cli[0], bg(), "/o", "v", 0, NULL); /* revs 6..8 */
    ck_assert_ptr_null(etcd_compact(cli[0], bg(), 8, NULL));
    etcd_put(cli[0], bg(), "/s", "2", 0, NULL); /* rev 9 */
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->revision, 9);
    ck_assert_uint_eq(wr->nevents, 1);
    ck_assert_str_eq(wr->events[0].kv.value, "2");
    etcd_watch_resp_free(wr);
    ck_assert(chan_recv(d, &wr));
    ck_assert_int_eq(wr->revision, 9);
    ck_assert_uint_eq(wr->nevents, 1);
    etcd_watch_resp_free(wr);
    ck_assert(chan_recv(f, &wr)); /* from 6: rev 5 was not for it */
    ck_assert_int_eq(wr->revision, 9);
    ck_assert_uint_eq(wr->nevents, 1);
    etcd_watch_resp_free(wr);
}
RUN(watch_synced)

/* Many watches behind the store: a sync takes 512 of them (etcd's
 * maxWatchersPerSync) and, having synced some, goes on at once with the
 * rest; a watch with more than 1000 revisions to catch up waits for the
 * next sync while others are caught up. The sync grid restarts with the
 * store: after a restart at 1.25s the next sync is at 1.35s. */
static int caught;
static simtime_t caught_at;
static void catch_one(void *arg)
{
    etcd_watch_resp_t *wr;
    ck_assert(chan_recv(arg, &wr));
    ck_assert_int_eq(wr->revision, 3);
    etcd_watch_resp_free(wr);
    caught++;
    caught_at = sched_now();
}

static void watch_sync_many_main(void *arg)
{
    (void)arg;
    world(2, MS);
    etcd_put(cli[0], bg(), "/m", "1", 0, NULL); /* rev 2 */
    etcd_put(cli[0], bg(), "/m", "2", 0, NULL); /* rev 3, at 4ms */
    etcd_watch_opts_t o = {.start_rev = 2};
    caught = 0;
    for (int i = 0; i < 600; i++)
        go_spawn(catch_one, etcd_watch(cli[1], bg(), "/m", &o), "catch");
    go_sleep(300 * MS);
    ck_assert_int_eq(caught, 600);
    ck_assert_int_eq(caught_at, 101 * MS); /* all at the first sync */
    /* A crash and restart: the grid starts again from the boot. */
    go_sleep_until(SEC);
    net_node_crash(sn);
    go_sleep_until(1250 * MS);
    net_node_restart(sn);
    go_sleep_until(1260 * MS);
    caught = 0;
    go_spawn(catch_one, etcd_watch(cli[1], bg(), "/m", &o), "catch");
    go_sleep(200 * MS);
    ck_assert_int_eq(caught, 1);
    ck_assert_int_eq(caught_at, 1351 * MS);
}
RUN(watch_sync_many)

/* Watches over a link that loses, duplicates and reorders: every revision
 * once, in order, no gaps. */
static int64_t seen_rev[400];
static int nseen;
static void watch_reader(void *arg)
{
    chan_t *w = arg;
    etcd_watch_resp_t *wr;
    while (chan_recv(w, &wr)) {
        /* One write per revision: a response of several is a catch-up (the
         * creation came late over a lossy link, after writes). */
        ck_assert_uint_ge(wr->nevents, 1);
        for (size_t i = 0; i < wr->nevents; i++) {
            ck_assert_int_le(wr->events[i].kv.mod_rev, wr->revision);
            seen_rev[nseen++] = wr->events[i].kv.mod_rev;
        }
        etcd_watch_resp_free(wr);
    }
}

static void watch_lossy_main(void *arg)
{
    (void)arg;
    world(2, MS);
    net_link_cfg_t l = net_link_cfg_default();
    l.loss_ppm = 200000;     /* 20% */
    l.dup_ppm = 200000;      /* 20% */
    l.reorder_ppm = 300000;  /* 30% held back 5ms */
    l.reorder_delay = 5 * MS;
    l.jitter = 3 * MS;
    net_cluster_set_link(cl, sn, cn[1], &l);
    net_cluster_set_link(cl, cn[1], sn, &l);
    ctx_t *ctx = ctx_with_cancel(bg());
    etcd_watch_opts_t o = {.prefix = true, .start_rev = 2};
    chan_t *w = etcd_watch(cli[1], ctx, "/l/", &o);
    nseen = 0;
    go_spawn(watch_reader, w, "reader");
    for (int i = 0; i < 200; i++) {
        char k[16];
        snprintf(k, sizeof k, "/l/%d", i % 7);
        ck_assert_ptr_null(etcd_put(cli[0], bg(), k, "v", 0, NULL));
        go_sleep(3 * MS);
    }
    go_sleep(20 * SEC);
    ck_assert_int_eq(nseen, 200);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(seen_rev[i], 2 + i);
    ctx_cancel(ctx);
}
RUN(watch_lossy)

/* TCP does not duplicate: the server drops requests it has seen, so a
 * link that duplicates every message still applies each put once; and many
 * concurrent requests of one client, arriving in any order, are all served. */
static int puts_ok;
static void put_g(void *arg)
{
    char k[32];
    snprintf(k, sizeof k, "/many/%d", (int)(intptr_t)arg);
    if (!etcd_put(cli[0], bg(), k, "v", 0, NULL))
        puts_ok++;
}

static void duplicates_main(void *arg)
{
    (void)arg;
    world(1, MS);
    net_link_cfg_t l = net_link_cfg_default();
    l.dup_ppm = 1000000; /* every message twice */
    l.jitter = 5 * MS;
    net_cluster_set_link(cl, cn[0], sn, &l);
    net_cluster_set_link(cl, sn, cn[0], &l);
    for (int i = 0; i < 10; i++) {
        kv_result_t r;
        ck_assert_ptr_null(etcd_put(cli[0], bg(), "/dup", "v", 0, &r));
        ck_assert_int_eq(r.revision, 2 + i);
        kv_result_clear(&r);
    }
    ck_assert_int_eq(kv_lookup(etcd_server_kv(srv), "/dup")->version, 10);
    puts_ok = 0;
    for (int i = 0; i < 300; i++)
        go_spawn(put_g, (void *)(intptr_t)i, "put");
    go_sleep(SEC);
    ck_assert_int_eq(puts_ok, 300);
    ck_assert_int_eq(kv_revision(etcd_server_kv(srv)), 11 + 300);
}
RUN(duplicates)

/* ---- timeouts, crashes, close --------------------------------------------------------------------- */

static void timeouts_main(void *arg)
{
    (void)arg;
    world(1, MS);
    net_cluster_isolate(cl, cn[0]);
    simtime_t t = sched_now();
    ck_assert_ptr_eq(etcd_put(cli[0], bg(), "/k", "v", 0, NULL), &ETCD_ERR_TIMEOUT);
    ck_assert_int_eq(sched_now(), t + 7 * SEC);
    ck_assert_str_eq(go_error_msg(&ETCD_ERR_TIMEOUT), "etcdserver: request timed out");
    t = sched_now();
    ctx_t *ctx = ctx_with_timeout(bg(), SEC);
    ck_assert_ptr_eq(etcd_put(cli[0], ctx, "/k", "v", 0, NULL), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_int_eq(sched_now(), t + SEC);
    net_cluster_heal(cl);
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/k", "v", 0, NULL));
    /* A closed client: "context canceled". */
    etcd_client_close(cli[0]);
    ck_assert_ptr_eq(etcd_get(cli[0], bg(), "/k", NULL, NULL), &GO_ERR_CANCELED);
}
RUN(timeouts)

/* The store's node crashes and restarts: the data survives (it is on
 * disk), leases get their TTL again plus the election timeout, requests
 * sent meanwhile time out. */
static void server_restart_main(void *arg)
{
    (void)arg;
    world(1, MS);
    kv_result_t r;
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 10, &r));
    int64_t l = r.lease;
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/persist", "v", l, NULL));
    int64_t rev = kv_revision(etcd_server_kv(srv));
    go_sleep_until(SEC);
    net_node_crash(sn);
    ck_assert_ptr_eq(etcd_get(cli[0], bg(), "/persist", NULL, NULL), &ETCD_ERR_TIMEOUT);
    ck_assert_int_eq(sched_now(), 8 * SEC);
    /* Down past the lease's deadline (10.001s): nobody expires it while down. */
    go_sleep_until(20 * SEC);
    net_node_restart(sn);
    go_yield();
    go_yield();
    kv_lease_info_t info;
    ck_assert(kv_lease_lookup(etcd_server_kv(srv), l, &info));
    ck_assert_int_eq(info.deadline, 20 * SEC + SEC + 10 * SEC);
    ck_assert_ptr_null(etcd_get(cli[0], bg(), "/persist", NULL, &r));
    ck_assert_uint_eq(r.op.nkvs, 1);
    ck_assert_int_eq(r.revision, rev);
    kv_result_clear(&r);
    /* Expired at the check at 31s (the grid restarts at the boot, 20s). */
    ctx_t *ctx = ctx_with_cancel(bg());
    etcd_watch_opts_t o = {.start_rev = rev + 1};
    chan_t *w = etcd_watch(cli[0], ctx, "/persist", &o);
    etcd_watch_resp_t *wr;
    ck_assert(chan_recv(w, &wr));
    ck_assert_int_eq(wr->events[0].type, KV_EVENT_DELETE);
    ck_assert_int_eq(sched_now(), 31 * SEC + MS);
    etcd_watch_resp_free(wr);
    ctx_cancel(ctx);
}
RUN(server_restart)

/* A watch survives a restart of the store: events written after it resume. */
static void watch_restart_main(void *arg)
{
    (void)arg;
    world(2, MS);
    ctx_t *ctx = ctx_with_cancel(bg());
    etcd_watch_opts_t o = {.start_rev = 2};
    chan_t *w = etcd_watch(cli[1], ctx, "/k", &o);
    nseen = 0;
    go_spawn(watch_reader, w, "reader");
    etcd_put(cli[0], bg(), "/k", "1", 0, NULL);
    net_node_crash(sn);
    go_sleep(SEC);
    net_node_restart(sn);
    go_sleep(SEC);
    etcd_put(cli[0], bg(), "/k", "2", 0, NULL);
    go_sleep(SEC);
    ck_assert_int_eq(nseen, 2);
    ck_assert_int_eq(seen_rev[0], 2);
    ck_assert_int_eq(seen_rev[1], 3);
    ctx_cancel(ctx);
}
RUN(watch_restart)

/* Same seed, same policy: the same trace. */
static void contended_main(void *arg)
{
    (void)arg;
    world(4, MS);
    net_link_cfg_t l = net_link_cfg_default();
    l.jitter = 2 * MS;
    net_cluster_set_default_link(cl, &l);
    concurrency_mutex_t *m[4];
    for (int i = 0; i < 4; i++)
        m[i] = concurrency_mutex_new(session(i, 5), "/det");
    holders = max_holders = norder = 0;
    for (int i = 0; i < 4; i++)
        net_node_go(cn[i], order_g, m[i], "locker");
    go_sleep(3 * SEC);
    net_node_crash(cn[2]);
    go_sleep(10 * SEC);
}

START_TEST(deterministic)
{
    uint64_t h[2];
    for (int i = 0; i < 2; i++) {
        sched_config_t cfg = sched_config_default();
        cfg.policy = SCHED_RANDOM;
        cfg.seed = 42;
        sched_result_t r;
        sched_t *s = run_with(&cfg, contended_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        h[i] = sched_trace_hash(s);
        sched_destroy(s);
    }
    ck_assert_uint_eq(h[0], h[1]);
}
END_TEST

/* ---- a store of several members (etcd_server_new_cluster) ------------------------ */

static net_node_t *mn[5];

/* n members e0.. and one client node c0 (cli[0], endpoints in member
 * order, starting at e0), 1ms links; returns once a leader is elected. */
static void world_members(int n)
{
    cl = net_cluster_new("test");
    net_link_cfg_t l = net_link_cfg_default();
    l.latency = MS;
    net_cluster_set_default_link(cl, &l);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "e%d", i);
        mn[i] = net_cluster_add_node(cl, name);
        net_node_start(mn[i]);
    }
    srv = etcd_server_new_cluster(mn, (size_t)n, NULL);
    cn[0] = net_cluster_add_node(cl, "c0");
    net_node_start(cn[0]);
    cli[0] = etcd_client_new(srv, cn[0], NULL);
    while (etcd_server_leader(srv, NULL) < 0)
        go_sleep(MS);
}

static simtime_t timed_put(const char *k, const go_error_t **err)
{
    simtime_t t0 = sched_now();
    *err = etcd_put(cli[0], bg(), k, "v", 0, NULL);
    return sched_now() - t0;
}

/* The first election, and what a write costs: a round to a majority. */
static void members_write_main(void *arg)
{
    (void)arg;
    world_members(3);
    uint64_t term;
    int leader = etcd_server_leader(srv, &term);
    ck_assert_int_eq(term, 1);
    /* a follower times out after [1s, 2s) without a leader, then a
     * pre-vote and a vote, 2ms each */
    ck_assert_int_ge(etcd_server_leader_since(srv), SEC + 4 * MS);
    ck_assert_int_lt(etcd_server_leader_since(srv), 2 * SEC + 4 * MS);
    const go_error_t *err;
    /* at the leader: request 1ms, a heartbeat round to a majority 2ms,
     * reply 1ms; at a follower, forwarded and relayed: 2ms more */
    simtime_t dt = timed_put("/a", &err);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(dt, leader == 0 ? 4 * MS : 6 * MS);
    ck_assert_int_eq(kv_revision(etcd_server_kv(srv)), 2);
    /* a linearizable read costs the same round */
    kv_result_t r;
    simtime_t t0 = sched_now();
    ck_assert_ptr_null(etcd_get(cli[0], bg(), "/a", NULL, &r));
    ck_assert_int_eq(sched_now() - t0, leader == 0 ? 4 * MS : 6 * MS);
    ck_assert_str_eq(r.op.kvs[0].value, "v");
    kv_result_clear(&r);
}
RUN(members_write)

/* The leader crashes: a request forwarded to it is lost (the client's
 * timeout, 7s), the other two elect a leader of term 2 within two
 * election timeouts, which extends every lease (Promote: now + 1s + TTL);
 * a client whose member is down moves to the next at once. */
static void members_crash_main(void *arg)
{
    (void)arg;
    world_members(3);
    uint64_t term;
    int leader = etcd_server_leader(srv, &term);
    kv_result_t r;
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 30, &r));
    int64_t lease = r.lease;
    simtime_t crash = sched_now();
    net_node_crash(mn[leader]);
    while (etcd_server_leader(srv, &term) < 0)
        go_sleep(MS);
    ck_assert_int_eq(term, 2);
    simtime_t since = etcd_server_leader_since(srv);
    /* the followers last heard from it at most 100ms before the crash */
    ck_assert_int_gt(since - crash, SEC - 100 * MS);
    ck_assert_int_le(since - crash, 2 * SEC + 4 * MS);
    kv_lease_info_t info;
    ck_assert(kv_lease_lookup(etcd_server_kv(srv), lease, &info));
    ck_assert_int_eq(info.deadline, since + SEC + 30 * SEC);
    /* writes go on through the surviving members */
    const go_error_t *err;
    simtime_t dt = timed_put("/after", &err);
    ck_assert_ptr_null(err);
    ck_assert_int_le(dt, 6 * MS);
    /* the old leader comes back as a follower of term 2 */
    net_node_restart(mn[leader]);
    go_sleep(3 * SEC);
    ck_assert_int_ne(etcd_server_leader(srv, &term), leader);
    ck_assert_int_eq(term, 2);
}
RUN(members_crash)

/* A member cut off from the others (not from its client): while it still
 * follows the old leader its forwards are lost; once it has no leader, a
 * keep-alive is answered "etcdserver: no leader" at once, a write times
 * out (7s) and the client moves to the next member, where it succeeds. */
static void members_minority_main(void *arg)
{
    (void)arg;
    world_members(3);
    int leader = etcd_server_leader(srv, NULL);
    if (leader == 0) {
        /* make e0 a follower: crash the leader, wait for another, restart it */
        net_node_crash(mn[0]);
        while (etcd_server_leader(srv, NULL) < 0)
            go_sleep(MS);
        net_node_restart(mn[0]);
        go_sleep(SEC);
        leader = etcd_server_leader(srv, NULL);
    }
    ck_assert_int_ne(leader, 0);
    kv_result_t r;
    ck_assert_ptr_null(etcd_grant(cli[0], bg(), 30, &r));
    int64_t lease = r.lease;
    net_node_t *others[2] = {mn[1], mn[2]};
    net_cluster_partition(cl, &mn[0], 1, others, 2, false);
    go_sleep(3 * SEC); /* e0's election timeout (< 2s) has passed: no leader */
    simtime_t t0 = sched_now();
    ck_assert_ptr_eq(etcd_keepalive_once(cli[0], bg(), lease, NULL), &ETCD_ERR_NO_LEADER);
    ck_assert_int_eq(sched_now() - t0, 2 * MS);
    ck_assert_str_eq(go_error_msg(&ETCD_ERR_NO_LEADER), "etcdserver: no leader");
    /* "no leader" moved the client on: this put goes to e1 */
    const go_error_t *err;
    simtime_t dt = timed_put("/majority", &err);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(dt, leader == 1 ? 4 * MS : 6 * MS);
    /* back to e0 (its turn again after e2): a write there waits for a
     * leader and gives up at 7s with the server's context error (measured
     * on etcd 3.4.23, a member whose two peers were stopped: "context
     * deadline exceeded" after 7.2s and 7.3s); a read there is dropped and
     * times out as a linearizable read does */
    etcd_client_t *c2 = etcd_client_new(srv, cn[0], NULL); /* starts at e0 */
    t0 = sched_now();
    ck_assert_ptr_eq(etcd_get(c2, bg(), "/majority", NULL, NULL), &ETCD_ERR_TIMEOUT);
    ck_assert_int_eq(sched_now() - t0, 7 * SEC);
    c2 = etcd_client_new(srv, cn[0], NULL);
    t0 = sched_now();
    ck_assert_ptr_eq(etcd_put(c2, bg(), "/minority", "v", 0, NULL), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_str_eq(go_error_msg(&GO_ERR_DEADLINE_EXCEEDED), "context deadline exceeded");
    ck_assert_int_eq(sched_now() - t0, 7 * SEC);
    ck_assert_ptr_null(kv_lookup(etcd_server_kv(srv), "/minority"));
    /* ... and the next one goes to e1 */
    t0 = sched_now();
    ck_assert_ptr_null(etcd_put(c2, bg(), "/minority", "v", 0, NULL));
    ck_assert_int_le(sched_now() - t0, 6 * MS);
    net_cluster_heal(cl);
    go_sleep(3 * SEC);
    uint64_t term;
    ck_assert_int_ge(etcd_server_leader(srv, &term), 0);
}
RUN(members_minority)

/* The leader cut off from the other members (not from clients): the two
 * elect a leader of term 2; the old one steps down (CheckQuorum) and, with
 * pre-vote, cannot raise the term while cut off, so after the heal it
 * follows term 2 and the term stays 2. */
static void members_leader_partition_main(void *arg)
{
    (void)arg;
    world_members(3);
    uint64_t term;
    int old = etcd_server_leader(srv, &term);
    net_node_t *others[2];
    for (int i = 0, k = 0; i < 3; i++)
        if (i != old)
            others[k++] = mn[i];
    simtime_t cut = sched_now();
    net_cluster_partition(cl, &mn[old], 1, others, 2, false);
    int now_leader;
    while ((now_leader = etcd_server_leader(srv, &term)) < 0 || now_leader == old)
        go_sleep(MS);
    ck_assert_int_eq(term, 2);
    ck_assert_int_gt(etcd_server_leader_since(srv) - cut, SEC - 100 * MS);
    ck_assert_int_le(etcd_server_leader_since(srv) - cut, 2 * SEC + 4 * MS);
    go_sleep(5 * SEC); /* the old leader, alone, keeps trying (pre-votes only) */
    net_cluster_heal(cl);
    go_sleep(SEC);
    ck_assert_int_eq(etcd_server_leader(srv, &term), now_leader);
    ck_assert_int_eq(term, 2);
    /* and the store serves again through its first member: 4ms at the
     * leader, 6ms through a follower */
    const go_error_t *err;
    simtime_t dt = timed_put("/y", &err);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(dt, now_leader == 0 ? 4 * MS : 6 * MS);
}
RUN(members_leader_partition)

/* A write that reaches a member while it knows no leader (an election
 * after the leader crashed) waits for the election and then goes through,
 * as etcd 3.4's raft node holds a proposal until it has a leader; a read
 * there is dropped (linearizable reads need a leader) and times out. */
static void members_write_in_election_main(void *arg)
{
    (void)arg;
    world_members(3);
    int old = etcd_server_leader(srv, NULL);
    go_sleep(50 * MS); /* every member follows it */
    net_node_crash(mn[old]);
    /* a new client talks to the first member that is up; wait until that
     * one knows no leader (it has started an election, or heard one) */
    int first = old == 0 ? 1 : 0;
    while (!etcd_server_member_leaderless(srv, mn[first]))
        go_sleep(MS);
    ck_assert_int_lt(etcd_server_leader(srv, NULL), 0);
    etcd_client_t *pinned = etcd_client_new(srv, cn[0], NULL);
    simtime_t t0 = sched_now();
    ck_assert_ptr_null(etcd_put(pinned, bg(), "/during", "v", 0, NULL));
    simtime_t since = etcd_server_leader_since(srv);
    ck_assert_int_gt(since, t0);
    /* done soon after the election: the held proposal forwarded (or, at a
     * member that now leads, sent to itself) and committed */
    ck_assert_int_le(sched_now() - since, 10 * MS);
    ck_assert_int_lt(sched_now() - t0, 7 * SEC);
    ck_assert_ptr_nonnull(kv_lookup(etcd_server_kv(srv), "/during"));
}
RUN(members_write_in_election)

/* Watches through a leader crash: a watch made while there is no leader
 * is created once a leader is elected (the client resends its creation
 * every 500ms) and caught up by the new leader's sync (its grid starts
 * when it leads); a live watch goes on with the writes after the new
 * leader's election, each revision once, in order. */
static simtime_t members_watch_at;
static void members_watch_reader(void *arg)
{
    etcd_watch_resp_t *wr;
    while (chan_recv(arg, &wr)) {
        for (size_t i = 0; i < wr->nevents; i++)
            seen_rev[nseen++] = wr->events[i].kv.mod_rev;
        members_watch_at = sched_now();
        etcd_watch_resp_free(wr);
    }
}

static void members_watch_main(void *arg)
{
    (void)arg;
    world_members(3);
    int old = etcd_server_leader(srv, NULL);
    nseen = 0;
    go_spawn(members_watch_reader, etcd_watch(cli[0], bg(), "/mw", NULL), "live");
    go_sleep(10 * MS);
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_null(etcd_put(cli[0], bg(), "/mw", "v", 0, NULL)); /* revs 2..4 */
    go_sleep(10 * MS);
    ck_assert_int_eq(nseen, 3);
    net_node_crash(mn[old]);
    go_sleep(10 * MS);
    etcd_watch_opts_t o = {.start_rev = 2};
    chan_t *late = etcd_watch(cli[0], bg(), "/mw", &o);
    while (etcd_server_leader(srv, NULL) < 0)
        go_sleep(MS);
    simtime_t since = etcd_server_leader_since(srv);
    etcd_watch_resp_t *wr;
    ck_assert(chan_recv(late, &wr));
    /* created at the client's first resend after the election, synced at
     * the new leader's next 100ms tick after that */
    ck_assert_int_eq(wr->revision, 4);
    ck_assert_uint_eq(wr->nevents, 3);
    /* fed from the leader's node: 1ms away */
    ck_assert_int_eq((sched_now() - since) % (100 * MS), MS);
    ck_assert_int_le(sched_now() - since, 600 * MS);
    etcd_watch_resp_free(wr);
    ck_assert_ptr_null(etcd_put(cli[0], bg(), "/mw", "w", 0, NULL)); /* rev 5 */
    ck_assert(chan_recv(late, &wr));
    ck_assert_int_eq(wr->revision, 5);
    etcd_watch_resp_free(wr);
    go_sleep(10 * MS);
    ck_assert_int_eq(nseen, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(seen_rev[i], 2 + i);
}
RUN(members_watch)

/* The store's invariants (kv_check) hold through a seeded mix of every
 * write, lease call and compaction; and a broken one aborts. */
START_TEST(kv_invariants)
{
    kv_t *kv = kv_create(NULL);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int64_t leases[8] = {0};
    int64_t prev = kv_revision(kv);
    for (int step = 0; step < 2000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64: the test's own stream */
        char key[16];
        snprintf(key, sizeof key, "/k/%d", (int)(x % 23));
        int64_t lease = leases[(x >> 8) % 8];
        kv_result_t r;
        switch ((x >> 16) % 7) {
        case 0:
        case 1:
            kv_put(kv, key, "v", lease, NULL); /* LEASE_NOT_FOUND for a revoked one */
            break;
        case 2:
            kv_delete(kv, key, (x >> 24) & 1, NULL);
            break;
        case 3:
            if (kv_lease_grant(kv, 0, 2 + (int64_t)((x >> 24) % 10), step * SIM_MS, &r) == KV_OK)
                leases[(x >> 32) % 8] = r.lease;
            break;
        case 4:
            kv_lease_revoke(kv, lease, NULL);
            break;
        case 5: {
            kv_cmp_t c = kv_cmp_num(key, KV_CMP_CREATE, KV_CMP_EQUAL, 0);
            kv_op_t ops[2] = {kv_op_put(key, "t", lease), kv_op_delete("/k/1", true)};
            kv_txn_t t = {&c, 1, ops, 2, ops + 1, 1};
            if (kv_txn(kv, &t, &r) == KV_OK)
                kv_result_clear(&r);
            break;
        }
        case 6:
            if ((x >> 40) % 50 == 0)
                kv_compact(kv, kv_revision(kv) - (int64_t)((x >> 48) % 3));
            break;
        }
        kv_check(kv);
        ck_assert_int_ge(kv_revision(kv), prev);
        ck_assert_int_le(kv_revision(kv), prev + 1);
        prev = kv_revision(kv);
    }
    ck_assert_int_gt(kv_revision(kv), 400);
    ck_assert_int_gt(kv_compact_revision(kv), 0);
    kv_destroy(kv);
}
END_TEST

/* A key whose mod revision is past the store's revision (written behind
 * the store's back): kv_check aborts. */
START_TEST(kv_invariant_broken)
{
    kv_t *kv = kv_create(NULL);
    kv_put(kv, "/a", "1", 0, NULL);
    ((kv_kv_t *)kv_lookup(kv, "/a"))->mod_rev = kv_revision(kv) + 1;
    kv_check(kv);
}
END_TEST

/* A key attached to a lease that does not exist: kv_check aborts. */
START_TEST(kv_invariant_lease)
{
    kv_t *kv = kv_create(NULL);
    kv_put(kv, "/a", "1", 0, NULL);
    ((kv_kv_t *)kv_lookup(kv, "/a"))->lease = 0x1234;
    kv_check(kv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("etcd");
    TCase *t = tcase_create("kv");
    tcase_add_test(t, kv_revisions_item83);
    tcase_add_test(t, kv_ranges);
    tcase_add_test(t, kv_txn_compares_atomic);
    tcase_add_test(t, kv_leases_item70);
    tcase_add_test(t, kv_history_item84);
    tcase_add_test(t, kv_invariants);
    tcase_add_test_raise_signal(t, kv_invariant_broken, SIGABRT);
    tcase_add_test_raise_signal(t, kv_invariant_lease, SIGABRT);
    suite_add_tcase(s, t);
    t = tcase_create("leases");
    tcase_add_test(t, session_item68);
    tcase_add_test(t, ka_exact);
    tcase_add_test(t, ka_latency);
    tcase_add_test(t, lease_server_item70);
    tcase_add_test(t, lease_entities);
    suite_add_tcase(s, t);
    t = tcase_create("mutex");
    tcase_add_test(t, mutex_key_item71);
    tcase_add_test(t, mutex_wait_item72);
    tcase_add_test(t, mutex_wait_fails_item73);
    tcase_add_test(t, trylock_item74);
    tcase_add_test(t, unlock_released_item75);
    tcase_add_test(t, relock_item76);
    tcase_add_test(t, lock_order_item77);
    tcase_add_test(t, lock_order_random);
    tcase_add_test(t, is_owner_item78);
    tcase_add_test(t, crash_handoff);
    tcase_add_test(t, pause_holder);
    suite_add_tcase(s, t);
    t = tcase_create("election");
    tcase_add_test(t, campaign_item79);
    tcase_add_test(t, proclaim_item80);
    tcase_add_test(t, resign_leader_item81);
    tcase_add_test(t, observe_item82);
    suite_add_tcase(s, t);
    t = tcase_create("members");
    tcase_add_test(t, members_write);
    tcase_add_test(t, members_crash);
    tcase_add_test(t, members_minority);
    tcase_add_test(t, members_leader_partition);
    tcase_add_test(t, members_watch);
    tcase_add_test(t, members_write_in_election);
    suite_add_tcase(s, t);
    t = tcase_create("store");
    tcase_add_test(t, revisions_item83);
    tcase_add_test(t, watch_item84);
    tcase_add_test(t, watch_catch_up);
    tcase_add_test(t, mutex_handoff_sync_item72);
    tcase_add_test(t, watch_synced);
    tcase_add_test(t, watch_sync_many);
    tcase_add_test(t, watch_lossy);
    tcase_add_test(t, duplicates);
    tcase_add_test(t, timeouts);
    tcase_add_test(t, server_restart);
    tcase_add_test(t, watch_restart);
    tcase_add_test(t, deterministic);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
