/*
 * context: SEMANTICS.md section E (Go's context package), item by item,
 * with results, errors, causes and times on the simulated clock; plus the
 * names contexts print, the trace events of cancellation and determinism.
 */
#include "ctx.h"
#include "testutil.h"
#include "timerq.h"

/* Run fn as main with a trace sink attached before the run; returns the
 * scheduler for the caller to destroy. */
static sched_t *run_traced(void (*fn)(void *), trace_sink_t sink, void *ud, sched_result_t *result)
{
    sched_config_t c = sched_config_default();
    sched_t *s = sched_create(&c);
    ck_assert_int_ge(sched_add_sink(s, sink, ud), 0);
    *result = sched_run(s, fn, NULL);
    return s;
}

/* Done is closed: a receive completes at once with ok false. */
static bool is_done(ctx_t *c)
{
    bool ok = true;
    bool got = chan_try_recv(ctx_done(c), NULL, &ok);
    if (got)
        ck_assert(!ok);
    return got;
}

/* Block until c is done; returns the simulated time it happened. */
static simtime_t wait_done(ctx_t *c)
{
    ck_assert(!chan_recv(ctx_done(c), NULL));
    return sched_now();
}

static size_t pending_timers(void)
{
    return timerq_len(sched_timerq(sched_current()));
}

/* Cancel events seen by a trace sink. */
typedef struct cancels {
    uint64_t obj[32];      /* context ids, in order */
    simtime_t t[32];       /* when */
    char detail[32][64];   /* the error message */
    int n;
} cancels_t;

static void cancel_sink(void *ud, const trace_event_t *ev)
{
    cancels_t *cs = ud;
    if (ev->kind != EV_CTX_CANCEL || cs->n >= 32)
        return;
    cs->obj[cs->n] = ev->obj;
    cs->t[cs->n] = ev->t;
    snprintf(cs->detail[cs->n], sizeof cs->detail[0], "%s", ev->detail ? ev->detail : "");
    cs->n++;
}

static void canceller(void *arg)
{
    go_sleep(50 * SIM_MS);
    ctx_cancel(arg);
}

static const int key_a = 1, key_b = 1; /* equal contents, distinct keys */

/* ---- 49. Background and TODO ------------------------------------------- */

static uint64_t e49_bg_id;
static void e49_root(ctx_t *c, const char *name)
{
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(ctx_done(c));
    ck_assert_ptr_null(ctx_err(c));
    ck_assert_ptr_null(ctx_cause(c));
    simtime_t d = 7;
    ck_assert(!ctx_deadline(c, &d));
    ck_assert_int_eq(d, 7);
    ck_assert_ptr_null(ctx_value(c, &key_a));
    ck_assert_str_eq(ctx_string(c), name);
    ctx_cancel(c); /* not cancellable: nothing happens */
    ck_assert_ptr_null(ctx_err(c));
    /* Done is a nil channel: never ready. */
    select_case_t cs = {.ch = ctx_done(c), .dir = SELECT_RECV};
    ck_assert_int_eq(chan_select(&cs, 1, true), -1);
}
static void e49_main(void *arg)
{
    (void)arg;
    ctx_t *bg = ctx_background(), *todo = ctx_todo();
    ck_assert_ptr_eq(bg, ctx_background());
    ck_assert_ptr_eq(todo, ctx_todo());
    ck_assert_ptr_ne(bg, todo);
    e49_root(bg, "context.Background");
    e49_root(todo, "context.TODO");
    go_sleep(24 * 3600 * SIM_SEC);
    ck_assert_ptr_null(ctx_err(bg));
    e49_bg_id = obj_id(bg);
}
static ctx_t *e49_seen;
static void e49_grab(void *arg) { (void)arg; e49_seen = ctx_background(); }

START_TEST(e49_background_and_todo)
{
    ck_assert_int_eq(run_main(e49_main, NULL), SCHED_DONE);
    uint64_t first = e49_bg_id;
    ck_assert_uint_ne(first, 0);
    ck_assert_int_eq(run_main(e49_main, NULL), SCHED_DONE);
    ck_assert_uint_eq(e49_bg_id, first); /* deterministic per scheduler */
    /* Two live schedulers have a Background each. */
    sched_t *a = run_with(NULL, e49_grab, NULL, NULL);
    ctx_t *in_a = e49_seen;
    sched_t *b = run_with(NULL, e49_grab, NULL, NULL);
    ck_assert_ptr_nonnull(in_a);
    ck_assert_ptr_ne(e49_seen, in_a);
    sched_destroy(b);
    sched_destroy(a);
}
END_TEST

/* ---- 50. the sentinel errors ------------------------------------------- */

static void e50_main(void *arg)
{
    (void)arg;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_cancel(c);
    ck_assert_ptr_eq(ctx_err(c), &GO_ERR_CANCELED);
    ck_assert_str_eq(go_error_msg(ctx_err(c)), "context canceled");
    ctx_t *d = ctx_with_timeout(ctx_background(), SIM_MS);
    wait_done(d);
    ck_assert_ptr_eq(ctx_err(d), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_str_eq(go_error_msg(ctx_err(d)), "context deadline exceeded");
}

START_TEST(e50_canceled_and_deadline_exceeded_strings)
{
    ck_assert_str_eq(go_error_msg(&GO_ERR_CANCELED), "context canceled");
    ck_assert_str_eq(go_error_msg(&GO_ERR_DEADLINE_EXCEEDED), "context deadline exceeded");
    ck_assert_str_eq(go_error_msg(NULL), "<nil>");
    ck_assert_int_eq(run_main(e50_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 51. Err is nil until Done closes, then fixed ---------------------- */

static void e51_main(void *arg)
{
    (void)arg;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ck_assert_ptr_null(ctx_err(c));
    ck_assert_ptr_null(ctx_cause(c));
    ck_assert(!is_done(c));
    go_spawn(canceller, c, "canceller");
    ck_assert_int_eq(wait_done(c), 50 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(c), &GO_ERR_CANCELED);
    ctx_cancel_cause(c, go_errorf("later"));
    ck_assert_ptr_eq(ctx_err(c), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(ctx_cause(c), &GO_ERR_CANCELED);
    ck_assert(is_done(c)); /* closed for good */

    /* Cancelled before its deadline: stays Canceled after it passes. */
    ctx_t *d = ctx_with_timeout(ctx_background(), 100 * SIM_MS);
    ctx_cancel(d);
    go_sleep(SIM_SEC);
    ck_assert_ptr_eq(ctx_err(d), &GO_ERR_CANCELED);

    /* Expired: a later cancel does not change Err or Cause. */
    ctx_t *e = ctx_with_timeout(ctx_background(), 10 * SIM_MS);
    go_sleep(20 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(e), &GO_ERR_DEADLINE_EXCEEDED);
    ctx_cancel_cause(e, go_errorf("too late"));
    ck_assert_ptr_eq(ctx_err(e), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_cause(e), &GO_ERR_DEADLINE_EXCEEDED);
}

START_TEST(e51_err_nil_until_done_then_fixed)
{
    ck_assert_int_eq(run_main(e51_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 52. WithCancel ------------------------------------------------------ */

static uint64_t e52_ids[6];
static const go_error_t *e52_cause;
static simtime_t e52_woke;
static void e52_waiter(void *arg) { e52_woke = wait_done(arg); }
static void e52_main(void *arg)
{
    (void)arg;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c1 = ctx_with_cancel(p);
    ctx_t *c1a = ctx_with_timeout(c1, 3600 * SIM_SEC);
    ctx_t *v = ctx_with_value(p, &key_a, "v");
    ctx_t *c2 = ctx_with_cancel(v); /* registered with p through v */
    ctx_t *c3 = ctx_with_cancel(p);
    ctx_t *all[6] = {p, c1, c1a, v, c2, c3};
    for (int i = 0; i < 6; i++)
        e52_ids[i] = obj_id(all[i]);
    go_spawn(e52_waiter, c2, "waiter");
    ck_assert_uint_eq(pending_timers(), 1);

    /* A child's cancel leaves its parent and siblings alone. */
    go_sleep(10 * SIM_MS);
    ctx_cancel(c3);
    ck_assert_ptr_eq(ctx_err(c3), &GO_ERR_CANCELED);
    ck_assert_ptr_null(ctx_err(p));
    ck_assert_ptr_null(ctx_err(c1));
    ck_assert_ptr_null(ctx_err(c2));

    /* The parent's cancel reaches every descendant, same err and cause;
     * c2's Done closes at that instant. */
    go_sleep(30 * SIM_MS);
    e52_cause = go_errorf("shutdown");
    ctx_cancel_cause(p, e52_cause);
    ctx_t *desc[4] = {p, c1, c1a, c2};
    for (int i = 0; i < 4; i++) {
        ck_assert(is_done(desc[i]));
        ck_assert_ptr_eq(ctx_err(desc[i]), &GO_ERR_CANCELED);
        ck_assert_ptr_eq(ctx_cause(desc[i]), e52_cause);
    }
    ck_assert_ptr_eq(ctx_cause(c3), &GO_ERR_CANCELED); /* its own, first */
    ck_assert_uint_eq(pending_timers(), 0); /* c1a's deadline timer stopped */
    go_yield();
    ck_assert_int_eq(e52_woke, 40 * SIM_MS);

    /* Repeated cancels do nothing (no event, cause unchanged). */
    ctx_cancel(p);
    ctx_cancel_cause(c1, go_errorf("again"));
    ck_assert_ptr_eq(ctx_cause(c1), e52_cause);
}

START_TEST(e52_with_cancel_propagates_in_creation_order)
{
    cancels_t cs = {0};
    sched_result_t r;
    sched_t *s = run_traced(e52_main, cancel_sink, &cs, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    /* c3 alone at 10ms, then p and its descendants depth-first in
     * creation order at 40ms; the value node v has no Done of its own. */
    uint64_t want[5] = {e52_ids[5], e52_ids[0], e52_ids[1], e52_ids[2], e52_ids[4]};
    ck_assert_int_eq(cs.n, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(cs.obj[i], want[i]);
        ck_assert_int_eq(cs.t[i], i == 0 ? 10 * SIM_MS : 40 * SIM_MS);
        ck_assert_str_eq(cs.detail[i], "context canceled");
    }
    sched_destroy(s);
}
END_TEST

/* ---- 53. deriving from a cancelled parent -------------------------------- */

static void e53_main(void *arg)
{
    (void)arg;
    ctx_t *p = ctx_with_cancel(ctx_background());
    const go_error_t *why = go_errorf("parent gone");
    ctx_cancel_cause(p, why);
    size_t timers = pending_timers();

    ctx_t *kids[5] = {
        ctx_with_cancel(p),
        ctx_with_timeout(p, 3600 * SIM_SEC),
        ctx_with_deadline_cause(p, 0, go_errorf("mine")),
        ctx_with_value(p, &key_a, "x"),
        ctx_with_cancel(ctx_with_value(p, &key_b, "y")),
    };
    for (int i = 0; i < 5; i++) {
        ck_assert(is_done(kids[i]));
        ck_assert_ptr_eq(ctx_err(kids[i]), &GO_ERR_CANCELED); /* not DeadlineExceeded */
        ck_assert_ptr_eq(ctx_cause(kids[i]), why);
    }
    ck_assert_uint_eq(pending_timers(), timers); /* no deadline timer armed */

    /* From an expired parent: DeadlineExceeded. */
    ctx_t *q = ctx_with_timeout(ctx_background(), 10 * SIM_MS);
    go_sleep(20 * SIM_MS);
    ctx_t *k = ctx_with_cancel(q);
    ck_assert(is_done(k));
    ck_assert_ptr_eq(ctx_err(k), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_cause(k), &GO_ERR_DEADLINE_EXCEEDED);
}

START_TEST(e53_derived_from_cancelled_parent_is_cancelled)
{
    ck_assert_int_eq(run_main(e53_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 54. WithDeadline ---------------------------------------------------- */

static void e54_main(void *arg)
{
    (void)arg;
    simtime_t d;
    /* The parent's earlier deadline wins: the child is a plain WithCancel. */
    ctx_t *p = ctx_with_deadline(ctx_background(), 100 * SIM_MS);
    ctx_t *c = ctx_with_deadline(p, 500 * SIM_MS);
    ck_assert(ctx_deadline(c, &d));
    ck_assert_int_eq(d, 100 * SIM_MS);
    ck_assert_str_eq(ctx_string(c),
                     "context.Background.WithDeadline(2000-01-01 00:00:00.1 +0000 UTC [100ms])"
                     ".WithCancel");
    ck_assert_int_eq(wait_done(c), 100 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(c), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_err(p), &GO_ERR_DEADLINE_EXCEEDED);

    /* The child's earlier deadline fires first; the parent lives on. */
    ctx_t *p2 = ctx_with_deadline(ctx_background(), 1100 * SIM_MS);
    ctx_t *c2 = ctx_with_deadline(p2, 300 * SIM_MS);
    ck_assert(ctx_deadline(c2, &d));
    ck_assert_int_eq(d, 300 * SIM_MS);
    ck_assert_int_eq(wait_done(c2), 300 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(c2), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_null(ctx_err(p2));
    ck_assert(ctx_deadline(p2, &d));
    ck_assert_int_eq(d, 1100 * SIM_MS);
    ck_assert_int_eq(wait_done(p2), 1100 * SIM_MS);

    /* A deadline not after now cancels at once, without a timer. */
    size_t timers = pending_timers();
    simtime_t past[3] = {sched_now(), sched_now() - 1, 0};
    for (int i = 0; i < 3; i++) {
        ctx_t *x = ctx_with_deadline(ctx_background(), past[i]);
        ck_assert(is_done(x));
        ck_assert_ptr_eq(ctx_err(x), &GO_ERR_DEADLINE_EXCEEDED);
        ck_assert_ptr_eq(ctx_cause(x), &GO_ERR_DEADLINE_EXCEEDED);
    }
    ck_assert_uint_eq(pending_timers(), timers);
    ck_assert_int_eq(sched_now(), 1100 * SIM_MS);

    /* cancel() stops the timer. */
    ctx_t *y = ctx_with_deadline(ctx_background(), sched_now() + 3600 * SIM_SEC);
    ck_assert_uint_eq(pending_timers(), timers + 1);
    ctx_cancel(y);
    ck_assert_uint_eq(pending_timers(), timers);
    ck_assert_ptr_eq(ctx_err(y), &GO_ERR_CANCELED);
}

/* With the timer stopped nothing is pending: the deadlock is reported at
 * once, not an hour later. */
static void e54_stop_then_block(void *arg)
{
    (void)arg;
    ctx_t *y = ctx_with_deadline(ctx_background(), 3600 * SIM_SEC);
    ctx_cancel(y);
    chan_recv(NULL, NULL);
}

START_TEST(e54_with_deadline)
{
    ck_assert_int_eq(run_main(e54_main, NULL), SCHED_DONE);
    sched_result_t r;
    sched_t *s = run_with(NULL, e54_stop_then_block, NULL, &r);
    ck_assert_int_eq(r, SCHED_DEADLOCK);
    ck_assert_int_eq(sched_now_of(s), 0);
    sched_destroy(s);
}
END_TEST

/* ---- 55. WithTimeout ----------------------------------------------------- */

static void e55_main(void *arg)
{
    (void)arg;
    go_sleep(100 * SIM_MS);
    ctx_t *t = ctx_with_timeout(ctx_background(), 300 * SIM_MS);
    simtime_t d;
    ck_assert(ctx_deadline(t, &d));
    ck_assert_int_eq(d, 400 * SIM_MS);
    ck_assert_str_eq(ctx_string(t),
                     "context.Background.WithDeadline(2000-01-01 00:00:00.4 +0000 UTC [300ms])");
    ck_assert_int_eq(wait_done(t), 400 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(t), &GO_ERR_DEADLINE_EXCEEDED);
    go_sleep(50 * SIM_MS);
    ck_assert_str_eq(ctx_string(t),
                     "context.Background.WithDeadline(2000-01-01 00:00:00.4 +0000 UTC [-50ms])");

    /* Non-positive timeouts expire at once. */
    ck_assert_ptr_eq(ctx_err(ctx_with_timeout(ctx_background(), 0)), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_err(ctx_with_timeout(ctx_background(), -SIM_SEC)),
                     &GO_ERR_DEADLINE_EXCEEDED);
    /* A timeout that would overflow is clamped, not wrapped into the past. */
    ctx_t *never = ctx_with_timeout(ctx_background(), INT64_MAX);
    ck_assert_ptr_null(ctx_err(never));
    ck_assert(ctx_deadline(never, &d));
    ck_assert_int_eq(d, SIMTIME_MAX);
    ctx_cancel(never);
}

START_TEST(e55_with_timeout_fires_at_now_plus_d)
{
    ck_assert_int_eq(run_main(e55_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 56. causes ---------------------------------------------------------- */

static void e56_main(void *arg)
{
    (void)arg;
    const go_error_t *x = go_errorf("disk full"), *y = go_errorf("other");
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *k = ctx_with_cancel(c);
    ck_assert_ptr_null(ctx_cause(c));
    ctx_cancel_cause(c, x);
    ck_assert_ptr_eq(ctx_err(c), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(ctx_cause(c), x);
    ck_assert_ptr_eq(ctx_cause(k), x);
    ck_assert_ptr_eq(ctx_cause(ctx_with_value(c, &key_a, NULL)), x);
    ctx_cancel_cause(c, y); /* the first cancellation wins */
    ck_assert_ptr_eq(ctx_cause(c), x);

    ctx_t *n = ctx_with_cancel(ctx_background());
    ctx_cancel_cause(n, NULL); /* nil cause means Canceled */
    ck_assert_ptr_eq(ctx_cause(n), &GO_ERR_CANCELED);

    /* WithTimeoutCause: the cause only when the deadline passes. */
    ctx_t *t = ctx_with_timeout_cause(ctx_background(), 100 * SIM_MS, x);
    ctx_t *tk = ctx_with_cancel(t);
    ck_assert_ptr_null(ctx_cause(t));
    ck_assert_int_eq(wait_done(t), 100 * SIM_MS);
    ck_assert_ptr_eq(ctx_err(t), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_cause(t), x);
    ck_assert_ptr_eq(ctx_err(tk), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_cause(tk), x);

    ctx_t *t2 = ctx_with_timeout_cause(ctx_background(), 100 * SIM_MS, x);
    ctx_cancel(t2); /* cancelled first: not the deadline's cause */
    ck_assert_ptr_eq(ctx_err(t2), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(ctx_cause(t2), &GO_ERR_CANCELED);
    go_sleep(SIM_SEC);
    ck_assert_ptr_eq(ctx_cause(t2), &GO_ERR_CANCELED);

    /* WithDeadlineCause with a past deadline: the cause at once. */
    ctx_t *t3 = ctx_with_deadline_cause(ctx_background(), sched_now(), y);
    ck_assert_ptr_eq(ctx_err(t3), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_ptr_eq(ctx_cause(t3), y);

    /* WithoutCancel hides the cause along with the cancellation. */
    ck_assert_ptr_null(ctx_cause(ctx_without_cancel(c)));
}

START_TEST(e56_causes)
{
    ck_assert_int_eq(run_main(e56_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 57. WithValue --------------------------------------------------------- */

static void e57_nil_parent(void *arg) { (void)arg; ctx_with_value(NULL, &key_a, "v"); }
static void e57_nil_key(void *arg) { (void)arg; ctx_with_value(ctx_background(), NULL, "v"); }
static void e57_cancel_nil(void *arg) { (void)arg; ctx_with_cancel(NULL); }
static void e57_timeout_nil(void *arg) { (void)arg; ctx_with_timeout(NULL, SIM_SEC); }
static void e57_deadline_nil(void *arg) { (void)arg; ctx_with_deadline_cause(NULL, SIM_SEC, NULL); }
static void e57_without_nil(void *arg) { (void)arg; ctx_without_cancel(NULL); }

static void e57_main(void *arg)
{
    (void)arg;
    char a[] = "a", b[] = "b", c[] = "c";
    ctx_t *v1 = ctx_with_value(ctx_background(), &key_a, a);
    ctx_t *mid = ctx_with_timeout(ctx_with_cancel(v1), SIM_SEC);
    ctx_t *v2 = ctx_with_value(mid, &key_b, b);
    ctx_t *v3 = ctx_with_value(v2, &key_a, c);
    ck_assert_ptr_eq(ctx_value(v3, &key_a), c); /* innermost wins */
    ck_assert_ptr_eq(ctx_value(v3, &key_b), b); /* walks up */
    ck_assert_ptr_eq(ctx_value(v2, &key_a), a);
    ck_assert_ptr_null(ctx_value(v1, &key_b)); /* keys compare by identity */
    ck_assert_ptr_null(ctx_value(ctx_background(), &key_a));
    ck_assert_ptr_null(ctx_value(v3, NULL));
    ck_assert_ptr_eq(ctx_value(ctx_without_cancel(v3), &key_a), c);
    /* A value node shares its parent's Done, Err and Deadline. */
    ck_assert_ptr_eq(ctx_done(v2), ctx_done(mid));
    simtime_t d;
    ck_assert(ctx_deadline(v3, &d));
    ck_assert_int_eq(d, SIM_SEC);
    ctx_cancel(v3); /* a value node cannot be cancelled itself */
    ck_assert_ptr_null(ctx_err(v3));
    ctx_cancel(mid);
    ck_assert_ptr_eq(ctx_err(v3), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(ctx_value(v3, &key_b), b); /* values outlive cancellation */
}

START_TEST(e57_with_value)
{
    ck_assert_panics(e57_nil_parent, NULL, "cannot create context from nil parent");
    ck_assert_panics(e57_nil_key, NULL, "nil key");
    ck_assert_panics(e57_cancel_nil, NULL, "cannot create context from nil parent");
    ck_assert_panics(e57_timeout_nil, NULL, "cannot create context from nil parent");
    ck_assert_panics(e57_deadline_nil, NULL, "cannot create context from nil parent");
    ck_assert_panics(e57_without_nil, NULL, "cannot create context from nil parent");
    ck_assert_int_eq(run_main(e57_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 58. AfterFunc --------------------------------------------------------- */

static int e58_calls[4];
static uint64_t e58_gid[4];
static simtime_t e58_at[4];
static int e58_order[8], e58_n;
static void e58_f(void *arg)
{
    int i = (int)(intptr_t)arg;
    e58_calls[i]++;
    e58_gid[i] = go_id(go_self());
    e58_at[i] = sched_now();
    ck_assert_str_eq(go_name(go_self()), "context.AfterFunc");
    e58_order[e58_n++] = i;
}
static void e58_main(void *arg)
{
    (void)arg;
    /* Runs in its own goroutine when the context is cancelled; stop() is
     * then false. Several run in registration order. */
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_after_t *a0 = ctx_after_func(c, e58_f, (void *)0);
    ctx_after_t *a1 = ctx_after_func(ctx_with_value(c, &key_a, NULL), e58_f, (void *)1);
    go_spawn(canceller, c, "canceller");
    go_sleep(SIM_SEC);
    ck_assert_int_eq(e58_calls[0], 1);
    ck_assert_int_eq(e58_calls[1], 1);
    ck_assert_int_eq(e58_at[0], 50 * SIM_MS);
    ck_assert_uint_ne(e58_gid[0], go_id(go_self()));
    ck_assert_uint_ne(e58_gid[0], e58_gid[1]);
    ck_assert_int_eq(e58_n, 2);
    ck_assert_int_eq(e58_order[0], 0);
    ck_assert_int_eq(e58_order[1], 1);
    ck_assert(!ctx_after_stop(a0));
    ck_assert(!ctx_after_stop(a1));

    /* stop() before the cancel prevents f: true once, then false. */
    ctx_t *d = ctx_with_timeout(ctx_background(), 100 * SIM_MS);
    ctx_after_t *a2 = ctx_after_func(d, e58_f, (void *)2);
    ck_assert(ctx_after_stop(a2));
    ck_assert(!ctx_after_stop(a2));
    ck_assert_int_eq(wait_done(d), 1100 * SIM_MS);
    go_sleep(SIM_SEC);
    ck_assert_int_eq(e58_calls[2], 0);
    ck_assert_ptr_null(ctx_err(ctx_background()));

    /* Already done: f is started at once, so stop() is false even before
     * f has had a chance to run. */
    ctx_after_t *a3 = ctx_after_func(d, e58_f, (void *)3);
    ck_assert(!ctx_after_stop(a3));
    ck_assert_int_eq(e58_calls[3], 0);
    go_yield();
    ck_assert_int_eq(e58_calls[3], 1);
    ck_assert_int_eq(e58_at[3], 2100 * SIM_MS);

    /* On a context that is never cancelled f never runs; stop() is true. */
    ctx_after_t *never = ctx_after_func(ctx_background(), e58_f, (void *)2);
    go_sleep(SIM_SEC);
    ck_assert(ctx_after_stop(never));
    ck_assert_int_eq(e58_calls[2], 0);
}

START_TEST(e58_after_func)
{
    ck_assert_int_eq(run_main(e58_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- 59. WithoutCancel ------------------------------------------------------ */

static void e59_main(void *arg)
{
    (void)arg;
    char v[] = "kept";
    ctx_t *p = ctx_with_timeout(ctx_with_value(ctx_background(), &key_a, v), 100 * SIM_MS);
    ctx_t *w = ctx_without_cancel(p);
    ctx_t *wk = ctx_with_cancel(w);
    ck_assert_ptr_null(ctx_done(w));
    ck_assert(!ctx_deadline(w, NULL));
    ck_assert(!ctx_deadline(wk, NULL));
    ck_assert_ptr_eq(ctx_value(w, &key_a), v);
    ck_assert_str_eq(ctx_string(wk), "context.Background.WithValue(void *, void *)"
                                     ".WithDeadline(2000-01-01 00:00:00.1 +0000 UTC [100ms])"
                                     ".WithoutCancel.WithCancel");
    ck_assert_int_eq(wait_done(p), 100 * SIM_MS);
    ctx_cancel(w); /* nothing to cancel */
    go_sleep(SIM_SEC);
    ck_assert_ptr_null(ctx_err(w));
    ck_assert_ptr_null(ctx_cause(w));
    ck_assert_ptr_null(ctx_err(wk)); /* its child does not inherit p's cancel */
    ck_assert(!is_done(wk));
    ck_assert_ptr_eq(ctx_value(wk, &key_a), v);
}

START_TEST(e59_without_cancel_never_cancelled)
{
    ck_assert_int_eq(run_main(e59_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- names, trace, determinism ------------------------------------------- */

static void names_main(void *arg)
{
    (void)arg;
    ctx_t *bg = ctx_background();
    ck_assert_str_eq(ctx_string(ctx_with_cancel(bg)), "context.Background.WithCancel");
    ck_assert_str_eq(ctx_string(ctx_with_cancel(ctx_todo())), "context.TODO.WithCancel");
    ck_assert_str_eq(ctx_string(ctx_with_value(bg, &key_a, NULL)),
                     "context.Background.WithValue(void *, <nil>)");
    ck_assert_str_eq(ctx_string(ctx_without_cancel(ctx_with_cancel(bg))),
                     "context.Background.WithCancel.WithoutCancel");
    go_sleep(90 * 60 * SIM_SEC + 1);
    ck_assert_str_eq(ctx_string(ctx_with_timeout(bg, 1500 * SIM_MS)),
                     "context.Background.WithDeadline(2000-01-01 01:30:01.500000001 +0000 UTC"
                     " [1.5s])");
    ck_assert_str_eq(ctx_string(ctx_with_deadline(bg, 40LL * 24 * 3600 * SIM_SEC)),
                     "context.Background.WithDeadline(2000-02-10 00:00:00 +0000 UTC"
                     " [958h29m59.999999999s])");
}

START_TEST(names)
{
    ck_assert_int_eq(run_main(names_main, NULL), SCHED_DONE);
}
END_TEST

static void trace_main(void *arg)
{
    (void)arg;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *t = ctx_with_timeout(p, 250 * SIM_MS);
    ctx_after_func(t, e58_f, (void *)0);
    wait_done(t);
    ctx_cancel(p);
}

START_TEST(trace_cancel_events_and_determinism)
{
    cancels_t c1 = {0}, c2 = {0};
    sched_result_t r;
    sched_t *s1 = run_traced(trace_main, cancel_sink, &c1, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    sched_t *s2 = run_traced(trace_main, cancel_sink, &c2, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    /* The deadline at 250ms, then the parent; the AfterFunc's hidden node
     * emits nothing. */
    ck_assert_int_eq(c1.n, 2);
    ck_assert_str_eq(c1.detail[0], "context deadline exceeded");
    ck_assert_int_eq(c1.t[0], 250 * SIM_MS);
    ck_assert_str_eq(c1.detail[1], "context canceled");
    ck_assert_int_eq(c1.t[1], 250 * SIM_MS);
    ck_assert_uint_eq(sched_trace_hash(s1), sched_trace_hash(s2));
    ck_assert_uint_eq(sched_trace_events(s1), sched_trace_events(s2));
    ck_assert_int_eq(c2.n, 2);
    ck_assert_uint_eq(c1.obj[0], c2.obj[0]);
    sched_destroy(s2);
    sched_destroy(s1);
}
END_TEST

Suite *ctx_suite(void)
{
    Suite *s = suite_create("ctx");
    TCase *sem = tcase_create("semantics");
    tcase_add_test(sem, e49_background_and_todo);
    tcase_add_test(sem, e50_canceled_and_deadline_exceeded_strings);
    tcase_add_test(sem, e51_err_nil_until_done_then_fixed);
    tcase_add_test(sem, e52_with_cancel_propagates_in_creation_order);
    tcase_add_test(sem, e53_derived_from_cancelled_parent_is_cancelled);
    tcase_add_test(sem, e54_with_deadline);
    tcase_add_test(sem, e55_with_timeout_fires_at_now_plus_d);
    tcase_add_test(sem, e56_causes);
    tcase_add_test(sem, e58_after_func);
    tcase_add_test(sem, e59_without_cancel_never_cancelled);
    suite_add_tcase(s, sem);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, e57_with_value);
    suite_add_tcase(s, err);
    TCase *obs = tcase_create("observation");
    tcase_add_test(obs, names);
    tcase_add_test(obs, trace_cancel_events_and_determinism);
    suite_add_tcase(s, obs);
    return s;
}

int main(void)
{
    return run_suite(ctx_suite());
}
