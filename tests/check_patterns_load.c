/*
 * patterns_load: the seed's Graceful Degradation (sim/patterns/degradable_service.h, load_manager.h) and
 * Observability Integration (sim/observability.h).
 *
 * The LoadManager's level logic is asserted exactly: each threshold at,
 * just below and above it, the order of the checks (levels from Emergency
 * down, metrics cpu, memory, requestRate, errorRate), the callback and the
 * rule run once per entry into a level, hysteresis. The service: the
 * executor bound held by the corrected variant and exceeded by the seed's,
 * the seed's half-rate 2s load loop, its double-counted errors, its
 * missing restore, and the measured CPU utilisation against a known load.
 * Observability: the seed's metric names, help texts, labels and buckets,
 * and the number of series with and without the job-ID label.
 */
#include "cpu.h"
#include "ctx.h"
#include "degradable_service.h"
#include "metrics.h"
#include "observability.h"
#include "testutil.h"

/* ---- LoadManager: thresholds and order ---------------------------------- */

static struct {
    int calls;                           /* on_level_change calls */
    load_manager_level_t from[16], to[16];    /* their arguments */
    int rule_runs[SERVICE_LEVEL_COUNT];  /* runs of each rule */
    int order[32];                       /* 100 + level for a callback, level for a rule */
    int norder;
} rec;

static void record_change(void *ud, load_manager_level_t from, load_manager_level_t to, const load_manager_level_change_t *why)
{
    (void)ud;
    (void)why;
    if (rec.calls < 16) {
        rec.from[rec.calls] = from;
        rec.to[rec.calls] = to;
    }
    rec.calls++;
    if (rec.norder < 32)
        rec.order[rec.norder++] = 100 + (int)to;
}

static void record_rule(void *ud)
{
    int level = (int)(intptr_t)ud;
    rec.rule_runs[level]++;
    if (rec.norder < 32)
        rec.order[rec.norder++] = level;
}

static load_manager_t *recording_manager(void)
{
    memset(&rec, 0, sizeof rec);
    load_manager_t *lm = load_manager_create();
    load_manager_set_on_level_change(lm, record_change, NULL);
    for (int l = REDUCED_SERVICE; l < SERVICE_LEVEL_COUNT; l++)
        load_manager_set_degradation_rule(lm, (load_manager_level_t)l, record_rule, (void *)(intptr_t)l);
    return lm;
}

/* The level for one set of figures, from a fresh manager. */
static load_manager_level_t level_of(int64_t cpu, int64_t mem, int64_t rate, int64_t err)
{
    load_manager_t *lm = load_manager_create();
    load_manager_update_metrics(lm, cpu, mem, rate, err);
    return load_manager_get_current_level(lm);
}

static void thresholds_main(void *arg)
{
    (void)arg;
    /* The seed's table, each metric alone, at the threshold and one below. */
    static const int64_t thr[SERVICE_LEVEL_COUNT][LOAD_METRIC_COUNT] = {
        {0}, {70, 80, 1000, 5}, {85, 90, 2000, 10}, {95, 95, 3000, 20},
    };
    for (int level = REDUCED_SERVICE; level < SERVICE_LEVEL_COUNT; level++) {
        for (int m = 0; m < LOAD_METRIC_COUNT; m++) {
            int64_t v[LOAD_METRIC_COUNT] = {0};
            v[m] = thr[level][m];
            ck_assert_int_eq(level_of(v[0], v[1], v[2], v[3]), level);
            v[m] = thr[level][m] - 1; /* one below: the level under it */
            ck_assert_int_eq(level_of(v[0], v[1], v[2], v[3]), level - 1);
        }
    }
    ck_assert_int_eq(level_of(0, 0, 0, 0), FULL_SERVICE);
    ck_assert_int_eq(level_of(69, 79, 999, 4), FULL_SERVICE);
    ck_assert_int_eq(level_of(100, 100, 100000, 100), EMERGENCY_SERVICE);
    /* Thresholds are read back as set. */
    load_manager_t *lm = load_manager_create();
    ck_assert_int_eq(load_manager_threshold(lm, MINIMAL_SERVICE, METRIC_REQUEST_RATE), 2000);
    load_manager_set_threshold(lm, REDUCED_SERVICE, METRIC_CPU, 50);
    load_manager_update_metrics(lm, 50, 0, 0, 0);
    ck_assert_int_eq(load_manager_get_current_level(lm), REDUCED_SERVICE);
}

START_TEST(seed_thresholds)
{
    ck_assert_int_eq(run_main(thresholds_main, NULL), SCHED_DONE);
}
END_TEST

static void order_main(void *arg)
{
    (void)arg;
    load_manager_t *lm = recording_manager();
    const load_manager_level_change_t *ch;
    /* The level comes first: a Minimal cpu loses to an Emergency error rate. */
    load_manager_update_metrics(lm, 86, 0, 0, 20);
    ck_assert_int_eq(load_manager_get_current_level(lm), EMERGENCY_SERVICE);
    ck_assert_uint_eq(load_manager_changes(lm, &ch), 1);
    ck_assert_int_eq(ch[0].cause_metric, METRIC_ERROR_RATE);
    ck_assert_str_eq(ch[0].cause, "errorRate 20 >= 20 (Emergency)");
    /* Within a level, cpu, memory, requestRate, errorRate: the first wins. */
    lm = recording_manager();
    load_manager_update_metrics(lm, 10, 96, 3000, 25);
    load_manager_changes(lm, &ch);
    ck_assert_int_eq(ch[0].cause_metric, METRIC_MEMORY);
    ck_assert_int_eq(ch[0].cause_value, 96);
    ck_assert_int_eq(ch[0].cause_threshold, 95);
    ck_assert_str_eq(ch[0].cause, "memory 96 >= 95 (Emergency)");
    /* Falling: the cause names the metric that holds the new level. */
    load_manager_update_metrics(lm, 10, 0, 1500, 0);
    ck_assert_uint_eq(load_manager_changes(lm, &ch), 2);
    ck_assert_int_eq(ch[1].to, REDUCED_SERVICE);
    ck_assert_int_eq(ch[1].cause_metric, METRIC_REQUEST_RATE);
    ck_assert_str_eq(ch[1].cause, "nothing reaches Minimal's thresholds; requestRate 1500 >= 1000 (Reduced)");
    load_manager_update_metrics(lm, 10, 0, 0, 0);
    ck_assert_uint_eq(load_manager_changes(lm, &ch), 3);
    ck_assert_int_eq(ch[2].cause_metric, -1);
    ck_assert_str_eq(ch[2].cause,
                     "nothing reaches Reduced's thresholds (cpu 10, memory 0, rate 0, errors 0)");
    int64_t m[LOAD_METRIC_COUNT];
    load_manager_get_metrics(lm, m);
    ck_assert_int_eq(m[METRIC_CPU], 10);
}

START_TEST(order_of_checks)
{
    ck_assert_int_eq(run_main(order_main, NULL), SCHED_DONE);
}
END_TEST

static void rules_main(void *arg)
{
    (void)arg;
    load_manager_t *lm = recording_manager();
    load_manager_update_metrics(lm, 72, 0, 0, 0);   /* Full -> Reduced */
    load_manager_update_metrics(lm, 80, 0, 0, 0);   /* stays */
    load_manager_update_metrics(lm, 72, 0, 0, 0);   /* stays */
    ck_assert_int_eq(rec.calls, 1);
    ck_assert_int_eq(rec.rule_runs[REDUCED_SERVICE], 1);
    load_manager_update_metrics(lm, 99, 0, 0, 0);   /* -> Emergency, skipping Minimal */
    ck_assert_int_eq(rec.rule_runs[MINIMAL_SERVICE], 0);
    ck_assert_int_eq(rec.rule_runs[EMERGENCY_SERVICE], 1);
    load_manager_update_metrics(lm, 71, 0, 0, 0);   /* -> Reduced again */
    ck_assert_int_eq(rec.rule_runs[REDUCED_SERVICE], 2);
    load_manager_update_metrics(lm, 0, 0, 0, 0);    /* -> Full: the seed has no rule */
    ck_assert_int_eq(rec.calls, 4);
    ck_assert_int_eq(rec.from[3], REDUCED_SERVICE);
    ck_assert_int_eq(rec.to[3], FULL_SERVICE);
    ck_assert_int_eq(load_manager_rules_applied(lm, REDUCED_SERVICE), 2);
    ck_assert_int_eq(load_manager_rules_applied(lm, FULL_SERVICE), 0);
    /* The callback runs before the rule, at every change. */
    static const int want[] = {101, 1, 103, 3, 101, 1, 100};
    ck_assert_int_eq(rec.norder, 7);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(rec.order[i], want[i]);
}

START_TEST(rules_once_per_entry)
{
    ck_assert_int_eq(run_main(rules_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- hysteresis ---------------------------------------------------------- */

static void hysteresis_main(void *arg)
{
    (void)arg;
    /* A band of 20%: Reduced's cpu 70 is left only below 56. */
    load_manager_t *lm = load_manager_create();
    load_manager_set_hysteresis(lm, 20, 0);
    load_manager_update_metrics(lm, 70, 0, 0, 0);
    load_manager_update_metrics(lm, 56, 0, 0, 0);
    ck_assert_int_eq(load_manager_get_current_level(lm), REDUCED_SERVICE);
    load_manager_update_metrics(lm, 55, 0, 0, 0);
    ck_assert_int_eq(load_manager_get_current_level(lm), FULL_SERVICE);
    /* Rising ignores the band; falling from Emergency stops where the
     * lowered thresholds still hold (cpu 70 >= 85*0.8 = 68: Minimal). */
    load_manager_update_metrics(lm, 95, 0, 0, 0);
    load_manager_update_metrics(lm, 70, 0, 0, 0);
    ck_assert_int_eq(load_manager_get_current_level(lm), MINIMAL_SERVICE);
    const load_manager_level_change_t *ch;
    size_t n = load_manager_changes(lm, &ch);
    ck_assert_int_eq(ch[n - 1].cause_threshold, 68);
    ck_assert_str_eq(ch[n - 1].cause,
                     "nothing reaches Emergency's thresholds less 20%; cpu 70 >= 68 (Minimal)");

    /* A dwell of 5s: falling waits until 5s after the level was entered. */
    lm = load_manager_create();
    load_manager_set_hysteresis(lm, 0, 5 * SIM_SEC);
    load_manager_update_metrics(lm, 90, 0, 0, 0); /* Minimal at t0 */
    go_sleep(4 * SIM_SEC);
    load_manager_update_metrics(lm, 0, 0, 0, 0);
    ck_assert_int_eq(load_manager_get_current_level(lm), MINIMAL_SERVICE);
    go_sleep(SIM_SEC);
    load_manager_update_metrics(lm, 0, 0, 0, 0);
    ck_assert_int_eq(load_manager_get_current_level(lm), FULL_SERVICE);
    ck_assert_int_eq(load_manager_time_at(lm, MINIMAL_SERVICE), 5 * SIM_SEC);

    /* An oscillating cpu (72, 40, 72, 40, ...): a change at every update
     * without hysteresis, one with a band wide enough. */
    load_manager_t *none = load_manager_create();
    load_manager_t *band = load_manager_create();
    load_manager_set_hysteresis(band, 50, 0);
    for (int i = 0; i < 20; i++) {
        int64_t cpu = i % 2 ? 40 : 72;
        load_manager_update_metrics(none, cpu, 0, 0, 0);
        load_manager_update_metrics(band, cpu, 0, 0, 0);
    }
    ck_assert_uint_eq(load_manager_changes(none, &ch), 20);
    ck_assert_uint_eq(load_manager_changes(band, &ch), 1);
}

START_TEST(hysteresis_reduces_changes)
{
    ck_assert_int_eq(run_main(hysteresis_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- the service ----------------------------------------------------------- */

static struct {
    bool seed;
    degradable_service_stats_t st;
    size_t nupdates;
    degradable_service_load_update_t updates[64];
    bool flags_after[FEATURE_COUNT];
    bool retry_after;
    int pool_after;
    load_manager_level_t level_after;
} svc_out;

static void load_test_main(void *arg)
{
    (void)arg;
    degradable_service_config_t cfg = degradable_service_config_default();
    cfg.seed_variant = svc_out.seed;
    cfg.cpu = cpu_pool_new(4);
    degradable_service_t *s = degradable_service_create(&cfg);
    degradable_service_simulate_load(s, ctx_background(), 30 * SIM_SEC);
    svc_out.st = degradable_service_stats(s);
    const degradable_service_load_update_t *u;
    svc_out.nupdates = degradable_service_updates(s, &u);
    for (size_t i = 0; i < svc_out.nupdates && i < 64; i++)
        svc_out.updates[i] = u[i];
    /* The load is gone: figures of an idle service, twice (a dwell-free
     * manager falls at once). */
    load_manager_t *lm = degradable_service_load_manager(s);
    load_manager_update_metrics(lm, 0, 0, 0, 0);
    load_manager_update_metrics(lm, 0, 0, 0, 0);
    svc_out.level_after = load_manager_get_current_level(lm);
    for (int f = 0; f < FEATURE_COUNT; f++)
        svc_out.flags_after[f] = degradable_service_feature(s, (degradable_service_feature_t)f);
    svc_out.retry_after = degradable_service_retry_enabled(s);
    svc_out.pool_after = degradable_service_pool_size(s);
}

static void run_load_test(bool seed, uint64_t rseed)
{
    memset(&svc_out, 0, sizeof svc_out);
    svc_out.seed = seed;
    sched_config_t cfg = sched_config_default();
    cfg.seed = rseed;
    sched_result_t r;
    sched_t *s = run_with(&cfg, load_test_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    sched_destroy(s);
}

START_TEST(corrected_executor_bound_holds)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        run_load_test(false, seed);
        ck_assert_int_le(svc_out.st.executing_max, 20);
        ck_assert_int_eq(svc_out.st.executing_max, 20);
        ck_assert_int_eq(svc_out.st.admissions_over_bound, 0);
        ck_assert_int_eq(svc_out.st.executors_created, 1);
        ck_assert_int_gt(svc_out.st.level_changes, 0);
        /* The whole curve: sum over 30s of 50 + 1950*2*min(t, 30-t)/30. */
        ck_assert_int_gt(svc_out.st.requests, 30000);
        ck_assert_int_lt(svc_out.st.requests, 31500);
        ck_assert_uint_eq(svc_out.nupdates, 30);
        ck_assert_int_eq(svc_out.updates[0].t, SIM_SEC);
        ck_assert_int_eq(svc_out.updates[29].t, 30 * SIM_SEC);
        /* The rate is per second of the window: ~50 + 130/2 at 1s. */
        ck_assert_int_ge(svc_out.updates[0].metrics[METRIC_REQUEST_RATE], 100);
        ck_assert_int_le(svc_out.updates[0].metrics[METRIC_REQUEST_RATE], 130);
        /* Back at Full with everything restored. */
        ck_assert_int_eq(svc_out.level_after, FULL_SERVICE);
        ck_assert_int_eq(svc_out.pool_after, 20);
        ck_assert(svc_out.retry_after);
        for (int f = 0; f < FEATURE_COUNT; f++)
            ck_assert(svc_out.flags_after[f]);
    }
}
END_TEST

START_TEST(seed_executor_bound_exceeded)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        run_load_test(true, seed);
        ck_assert_int_gt(svc_out.st.executing_max, 20);
        ck_assert_int_gt(svc_out.st.admissions_over_bound, 0);
        ck_assert_int_ge(svc_out.st.executors_created, 2);
        /* The 2s loop: half the requests, updates every ~2s, and the
         * window's count reported as the rate per second. */
        ck_assert_int_lt(svc_out.st.requests, 17000);
        ck_assert_int_gt(svc_out.st.requests, 14000);
        ck_assert_uint_le(svc_out.nupdates, 16);
        ck_assert_uint_ge(svc_out.nupdates, 15);
        ck_assert_int_eq(svc_out.updates[0].metrics[METRIC_REQUEST_RATE], 50);
        simtime_t gap = svc_out.updates[1].t - svc_out.updates[0].t;
        ck_assert_int_gt(gap, 1900 * SIM_MS);
        ck_assert_int_le(gap, 2 * SIM_SEC);
        /* Nothing restored: the pool and retries stay as the rules left them. */
        ck_assert_int_eq(svc_out.level_after, FULL_SERVICE);
        ck_assert_int_lt(svc_out.pool_after, 20);
        ck_assert(!svc_out.retry_after);
        ck_assert(!svc_out.flags_after[FEATURE_FULL_HISTORY]);
    }
}
END_TEST

/* Every attempt fails: the seed's errorCounter counts 3 for a request that
 * fails and is retried, the corrected error rate counts the request once. */
static int64_t error_rate_of_failing_request(bool seed)
{
    degradable_service_config_t cfg = degradable_service_config_default();
    cfg.seed_variant = seed;
    cfg.failure_pct = 100;
    degradable_service_t *s = degradable_service_create(&cfg);
    const go_error_t *err = degradable_service_handle_request(s, ctx_background(), "req-1");
    ck_assert_str_eq(go_error_msg(err), "retry failed");
    degradable_service_stats_t st = degradable_service_stats(s);
    ck_assert_int_eq(st.error_counter_total, 3);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_int_eq(st.retries, 1);
    go_sleep(SIM_SEC);
    degradable_service_update_metrics(s);
    int64_t m[LOAD_METRIC_COUNT];
    load_manager_get_metrics(degradable_service_load_manager(s), m);
    return m[METRIC_ERROR_RATE];
}

static void error_count_main(void *arg)
{
    (void)arg;
    ck_assert_int_eq(error_rate_of_failing_request(true), 300);
    ck_assert_int_eq(error_rate_of_failing_request(false), 100);
}

START_TEST(seed_double_counts_errors)
{
    ck_assert_int_eq(run_main(error_count_main, NULL), SCHED_DONE);
}
END_TEST

/* ---- measured CPU ---------------------------------------------------------- */

static struct {
    cpu_pool_t *cpu;
    degradable_service_t *s;
    int64_t cpu_pct_seen[4];
} cpu_out;

static void burn(void *arg)
{
    cpu_work(cpu_out.cpu, (simtime_t)(intptr_t)arg);
}

static void request(void *arg)
{
    (void)arg;
    (void)degradable_service_handle_request(cpu_out.s, ctx_background(), "r");
}

static void cpu_main(void *arg)
{
    (void)arg;
    cpu_out.cpu = cpu_pool_new(2);
    degradable_service_config_t cfg = degradable_service_config_default();
    cfg.cpu = cpu_out.cpu;
    cfg.cpu_pct = 10;  /* Full: 200ms a request, 20ms of it on a CPU */
    cfg.failure_pct = 0;
    cpu_out.s = degradable_service_create(&cfg);
    int64_t m[LOAD_METRIC_COUNT];
    load_manager_t *lm = degradable_service_load_manager(cpu_out.s);
    /* Window 1: 300ms + 200ms of CPU work on 2 CPUs over 1s: 25%. */
    go_spawn(burn, (void *)(intptr_t)(300 * SIM_MS), "burn");
    go_spawn(burn, (void *)(intptr_t)(200 * SIM_MS), "burn");
    go_sleep(SIM_SEC);
    degradable_service_update_metrics(cpu_out.s);
    load_manager_get_metrics(lm, m);
    cpu_out.cpu_pct_seen[0] = m[METRIC_CPU];
    /* Window 2: 3 CPU-seconds asked of 2 CPUs in 1s: saturated, 100%. */
    for (int i = 0; i < 6; i++)
        go_spawn(burn, (void *)(intptr_t)(500 * SIM_MS), "burn");
    go_sleep(SIM_SEC);
    degradable_service_update_metrics(cpu_out.s);
    load_manager_get_metrics(lm, m);
    cpu_out.cpu_pct_seen[1] = m[METRIC_CPU];
    /* The rest of the queued work (1s) runs in window 3. */
    go_sleep(2 * SIM_SEC);
    degradable_service_update_metrics(cpu_out.s);
    load_manager_get_metrics(lm, m);
    cpu_out.cpu_pct_seen[2] = m[METRIC_CPU];
    ck_assert_int_eq(load_manager_get_current_level(lm), FULL_SERVICE);
    /* Window 5: 30 requests at Full, 20ms apart: 30 x 20ms on 2 CPUs = 30%. */
    for (int i = 0; i < 30; i++) {
        go_spawn(request, NULL, "request");
        go_sleep(20 * SIM_MS);
    }
    go_sleep(SIM_SEC - 30 * 20 * SIM_MS);
    degradable_service_update_metrics(cpu_out.s);
    load_manager_get_metrics(lm, m);
    cpu_out.cpu_pct_seen[3] = m[METRIC_CPU];
    go_sleep(SIM_SEC);
}

START_TEST(measured_cpu_matches_known_load)
{
    ck_assert_int_eq(run_main(cpu_main, NULL), SCHED_DONE);
    ck_assert_int_eq(cpu_out.cpu_pct_seen[0], 25);
    ck_assert_int_eq(cpu_out.cpu_pct_seen[1], 100);
    ck_assert_int_eq(cpu_out.cpu_pct_seen[2], 25); /* 1 CPU-second over 2 CPUs x 2s */
    ck_assert_int_eq(cpu_out.cpu_pct_seen[3], 30);
}
END_TEST

/* ---- observability --------------------------------------------------------- */

static struct {
    bool seed;
    simtime_t wait;
    observability_series_count_t count;
    observability_pool_stats_t high, low;
    bool names_ok;
    char text_line[256];
    bool text_has_line;
    double depth_mid;
} obs_out;

/* The seed's main on a private registry. */
static void obs_demo_main(void *arg)
{
    (void)arg;
    observability_metrics_t *m = observability_metrics_create(NULL, obs_out.seed, SIM_SEC);
    ck_assert_ptr_nonnull(m);
    observability_pool_t *high = observability_pool_create("high-priority", 5, 10, m);
    observability_pool_t *low = observability_pool_create("low-priority", 3, 20, m);
    sched_t *s = sched_current();
    for (int i = 0; i < 20; i++) {
        observability_job_t hj = {.work = 100 * SIM_MS, .fail_one_in = 10, .priority = 2,
                        .result = sched_intern(s, "high priority result"),
                        .error = sched_intern(s, "high priority job failed")};
        snprintf(hj.id, sizeof hj.id, "high-%d", i);
        observability_job_t lj = {.work = 200 * SIM_MS, .fail_one_in = 5, .priority = 1,
                        .result = sched_intern(s, "low priority result"),
                        .error = sched_intern(s, "low priority job failed")};
        snprintf(lj.id, sizeof lj.id, "low-%d", i);
        ck_assert_ptr_null(observability_pool_submit(high, &hj));
        ck_assert_ptr_null(observability_pool_submit(low, &lj));
        go_sleep(50 * SIM_MS);
    }
    go_sleep(obs_out.wait);
    observability_pool_shutdown(high);
    observability_pool_shutdown(low);
    observability_metrics_stop(m);
    obs_out.count = observability_metrics_count(m);
    obs_out.high = observability_pool_stats(high);
    obs_out.low = observability_pool_stats(low);
    /* The seed's names, help texts, labels and buckets. */
    metrics_family_t *rq = observability_metrics_family(m, OBS_REQUESTS_TOTAL);
    metrics_family_t *du = observability_metrics_family(m, OBS_REQUEST_DURATION);
    const double *b;
    size_t nb = metrics_family_buckets(du, &b);
    obs_out.names_ok = strcmp(metrics_family_name(rq), "requests_total") == 0
                       && strcmp(metrics_family_help(rq), "Total number of requests processed") == 0
                       && metrics_family_type(rq) == METRICS_COUNTER
                       && strcmp(metrics_family_name(du), "request_duration_seconds") == 0
                       && strcmp(metrics_family_help(du), "Request duration in seconds") == 0
                       && metrics_family_type(du) == METRICS_HISTOGRAM && nb == 10 && b[0] == 0.001
                       && b[9] == 0.512
                       && strcmp(metrics_family_label(rq, 0), "service") == 0
                       && strcmp(metrics_family_label(rq, metrics_family_nlabels(rq) - 1), "status") == 0
                       && strcmp(metrics_family_name(observability_metrics_family(m, OBS_GOROUTINES)), "goroutines_total") == 0
                       && strcmp(metrics_family_help(observability_metrics_family(m, OBS_IN_FLIGHT)),
                                 "Current number of in-flight requests") == 0
                       && strcmp(metrics_family_label(observability_metrics_family(m, OBS_ERRORS_TOTAL), 1), "type") == 0;
    if (obs_out.seed)
        obs_out.names_ok = obs_out.names_ok && metrics_family_nlabels(rq) == 3
                           && strcmp(metrics_family_label(rq, 1), "endpoint") == 0
                           && metrics_family_nlabels(du) == 2;
    else
        obs_out.names_ok = obs_out.names_ok && metrics_family_nlabels(rq) == 2 && metrics_family_nlabels(du) == 1;
    char *text = metrics_text(observability_metrics_registry(m), NULL);
    obs_out.text_has_line = text && strstr(text, obs_out.text_line);
    free(text);
}

static void run_obs(bool seed, simtime_t wait, uint64_t rseed, const char *line)
{
    memset(&obs_out, 0, sizeof obs_out);
    obs_out.seed = seed;
    obs_out.wait = wait;
    snprintf(obs_out.text_line, sizeof obs_out.text_line, "%s", line);
    sched_config_t cfg = sched_config_default();
    cfg.seed = rseed;
    sched_result_t r;
    sched_t *s = run_with(&cfg, obs_demo_main, NULL, &r);
    ck_assert_int_eq(r, SCHED_DONE);
    sched_destroy(s);
}

/* Series of a set where every pool had a success and an error. */
START_TEST(series_with_and_without_job_id)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        run_obs(true, 5 * SIM_SEC, seed,
                "requests_total{service=\"high-priority\",endpoint=\"high-0\",status=");
        ck_assert(obs_out.names_ok);
        ck_assert(obs_out.text_has_line);
        int64_t ran = obs_out.high.succeeded + obs_out.high.failed + obs_out.low.succeeded + obs_out.low.failed;
        ck_assert_int_eq(ran, 40);
        size_t errs = (obs_out.high.failed > 0) + (obs_out.low.failed > 0);
        ck_assert_uint_eq(obs_out.count.series[OBS_REQUESTS_TOTAL], 40);
        ck_assert_uint_eq(obs_out.count.series[OBS_REQUEST_DURATION], 40);
        ck_assert_uint_eq(obs_out.count.samples[OBS_REQUEST_DURATION], 40 * 13);
        ck_assert_uint_eq(obs_out.count.series[OBS_ERRORS_TOTAL], errs);
        ck_assert_uint_eq(obs_out.count.series_total, 40 + 40 + 1 + 2 + 2 + errs + 2);

        run_obs(false, 5 * SIM_SEC, seed, "requests_total{service=\"high-priority\",status=\"success\"}");
        ck_assert(obs_out.names_ok);
        ck_assert(obs_out.text_has_line);
        size_t statuses = (obs_out.high.succeeded > 0) + (obs_out.high.failed > 0)
                          + (obs_out.low.succeeded > 0) + (obs_out.low.failed > 0);
        errs = (obs_out.high.failed > 0) + (obs_out.low.failed > 0);
        ck_assert_uint_eq(obs_out.count.series[OBS_REQUESTS_TOTAL], statuses);
        ck_assert_uint_eq(obs_out.count.series[OBS_REQUEST_DURATION], 2);
        ck_assert_uint_eq(obs_out.count.samples[OBS_REQUEST_DURATION], 2 * 13);
        ck_assert_uint_eq(obs_out.count.series_total, statuses + 2 + 1 + 2 + 2 + errs + 2);
        ck_assert_uint_le(obs_out.count.series_total, 15);
    }
}
END_TEST

/* Shutdown 10ms after the last submission: the corrected pools drain their
 * queues; the seed's workers may take the shutdown case and drop jobs. */
START_TEST(shutdown_drains_or_drops)
{
    int64_t seed_lost = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        run_obs(false, 10 * SIM_MS, seed, "");
        ck_assert_int_eq(obs_out.high.lost + obs_out.low.lost, 0);
        ck_assert_int_eq(obs_out.low.succeeded + obs_out.low.failed, 20);
        run_obs(true, 10 * SIM_MS, seed, "");
        seed_lost += obs_out.high.lost + obs_out.low.lost;
        ck_assert_int_eq(obs_out.low.succeeded + obs_out.low.failed + obs_out.low.lost, 20);
    }
    ck_assert_int_gt(seed_lost, 0);
}
END_TEST

/* queue_depth while jobs run: one worker, three jobs of 100ms at t=0. At
 * 150ms job 2 runs and job 3 waits: the depth is 1; the seed's gauge still
 * says 2 (set at job 1's end, before the worker took job 2). */
static void depth_main(void *arg)
{
    (void)arg;
    observability_metrics_t *m = observability_metrics_create(NULL, obs_out.seed, SIM_SEC);
    observability_pool_t *p = observability_pool_create("p", 1, 5, m);
    go_yield(); /* the worker waits on the queue */
    for (int i = 0; i < 3; i++) {
        observability_job_t j = {.work = 100 * SIM_MS, .fail_one_in = 0};
        snprintf(j.id, sizeof j.id, "j%d", i);
        j.result = j.error = "";
        observability_pool_submit(p, &j);
    }
    go_sleep(150 * SIM_MS);
    metrics_series_t *s = metrics_withv(observability_metrics_family(m, OBS_QUEUE_DEPTH), "p", NULL);
    obs_out.depth_mid = metrics_value(s);
    ck_assert_int_eq(observability_pool_get_metrics(p).queue_size, 1);
    ck_assert_int_eq(observability_pool_get_metrics(p).processing, 1);
    observability_pool_shutdown(p);
    observability_metrics_stop(m);
}

START_TEST(queue_depth_gauge)
{
    memset(&obs_out, 0, sizeof obs_out);
    obs_out.seed = true;
    ck_assert_int_eq(run_main(depth_main, NULL), SCHED_DONE);
    ck_assert(obs_out.depth_mid == 2.0);
    memset(&obs_out, 0, sizeof obs_out);
    ck_assert_int_eq(run_main(depth_main, NULL), SCHED_DONE);
    ck_assert(obs_out.depth_mid == 1.0);
}
END_TEST

/* Registering the other variant on the same registry is refused (same
 * names, other labels), with no partial registration to clean up. */
static void clash_main(void *arg)
{
    (void)arg;
    metrics_registry_t *reg = metrics_current();
    observability_metrics_t *a = observability_metrics_create(reg, false, SIM_SEC);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(observability_metrics_create(reg, true, SIM_SEC));
    ck_assert_ptr_nonnull(observability_metrics_create(reg, false, SIM_SEC)); /* the same set again is fine */
    observability_metrics_stop(a);
}

START_TEST(variants_clash_on_one_registry)
{
    ck_assert_int_eq(run_main(clash_main, NULL), SCHED_DONE);
}
END_TEST

Suite *patterns_load_suite(void)
{
    Suite *s = suite_create("patterns_load");
    TCase *lv = tcase_create("levels");
    tcase_add_test(lv, seed_thresholds);
    tcase_add_test(lv, order_of_checks);
    tcase_add_test(lv, rules_once_per_entry);
    tcase_add_test(lv, hysteresis_reduces_changes);
    suite_add_tcase(s, lv);
    TCase *sv = tcase_create("service");
    tcase_set_timeout(sv, 60);
    tcase_add_test(sv, corrected_executor_bound_holds);
    tcase_add_test(sv, seed_executor_bound_exceeded);
    tcase_add_test(sv, seed_double_counts_errors);
    tcase_add_test(sv, measured_cpu_matches_known_load);
    suite_add_tcase(s, sv);
    TCase *ob = tcase_create("observability");
    tcase_add_test(ob, series_with_and_without_job_id);
    tcase_add_test(ob, shutdown_drains_or_drops);
    tcase_add_test(ob, queue_depth_gauge);
    tcase_add_test(ob, variants_clash_on_one_registry);
    suite_add_tcase(s, ob);
    return s;
}

int main(void)
{
    return run_suite(patterns_load_suite());
}
