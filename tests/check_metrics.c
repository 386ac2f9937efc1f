/*
 * metrics: the registry's semantics (families, vectors, creation order,
 * re-registration), the exact exposition text of a small registry, the
 * bucket helpers, the errors of bad names, labels and buckets, and the
 * registry of a running scheduler with its EV_METRIC events.
 */
#include "testutil.h"

#include "metrics.h"

static const char *const service_status[] = {"service", "status"};

/* ---- semantics ------------------------------------------------------------ */

START_TEST(plain_families_have_one_series_from_the_start)
{
    metrics_registry_t *r = metrics_registry_create();
    metrics_opts_t o = {.name = "jobs_total", .help = "Jobs."};
    metrics_family_t *f = metrics_register(r, METRICS_COUNTER, &o, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(metrics_series_count(f), 1);
    metrics_series_t *s = metrics_only(f);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(metrics_series_seq(s), 1);
    ck_assert_str_eq(metrics_series_name(s), "jobs_total");
    ck_assert(metrics_value(s) == 0);
    ck_assert_int_eq(metrics_inc(s), METRICS_OK);
    ck_assert_int_eq(metrics_add(s, 2.5), METRICS_OK);
    ck_assert(metrics_value(s) == 3.5);
    ck_assert_ptr_eq(metrics_with(f, NULL, 0, NULL), s);
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(vectors_make_series_on_first_use_in_creation_order)
{
    metrics_registry_t *r = metrics_registry_create();
    metrics_opts_t o = {.name = "requests_total", .labels = service_status, .nlabels = 2};
    metrics_family_t *f = metrics_register(r, METRICS_COUNTER, &o, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(metrics_series_count(f), 0);
    ck_assert_ptr_null(metrics_only(f));
    metrics_series_t *b = metrics_withv(f, "web", "ok", NULL);
    metrics_series_t *a = metrics_withv(f, "api", "ok", NULL);
    metrics_series_t *b2 = metrics_withv(f, "web", "ok", NULL);
    ck_assert_ptr_eq(b, b2);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(metrics_series_count(f), 2);
    ck_assert_ptr_eq(metrics_series_at(f, 0), b); /* creation order, not sorted */
    ck_assert_ptr_eq(metrics_series_at(f, 1), a);
    ck_assert_str_eq(metrics_series_label(a, 0), "api");
    ck_assert_str_eq(metrics_series_label(a, 1), "ok");
    ck_assert_str_eq(metrics_series_name(a), "requests_total{service=\"api\",status=\"ok\"}");
    /* Many label sets: the index grows and every one is still found. */
    char buf[32];
    for (int i = 0; i < 500; i++) {
        snprintf(buf, sizeof buf, "v%d", i);
        metrics_series_t *s = metrics_withv(f, "bulk", buf, NULL);
        ck_assert_int_eq(metrics_add(s, i), METRICS_OK);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(buf, sizeof buf, "v%d", i);
        metrics_series_t *s = metrics_withv(f, "bulk", buf, NULL);
        ck_assert(metrics_value(s) == i);
        ck_assert_ptr_eq(metrics_series_at(f, (size_t)i + 2), s);
    }
    ck_assert_uint_eq(metrics_series_total(r), 502);
    ck_assert_ptr_eq(metrics_series_by_seq(r, 1), b);
    ck_assert_ptr_eq(metrics_series_by_seq(r, 2), a);
    ck_assert_ptr_null(metrics_series_by_seq(r, 503));
    ck_assert_ptr_null(metrics_series_by_seq(r, 0));
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(families_keep_registration_order)
{
    metrics_registry_t *r = metrics_registry_create();
    const char *names[] = {"zeta", "alpha", "mid"};
    for (int i = 0; i < 3; i++) {
        metrics_opts_t o = {.name = names[i]};
        ck_assert_ptr_nonnull(metrics_register(r, METRICS_GAUGE, &o, NULL));
    }
    ck_assert_uint_eq(metrics_family_count(r), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(metrics_family_name(metrics_family_at(r, i)), names[i]);
    ck_assert_ptr_eq(metrics_family_find(r, "alpha"), metrics_family_at(r, 1));
    ck_assert_ptr_null(metrics_family_find(r, "beta"));
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(identical_registration_returns_the_same_family)
{
    metrics_registry_t *r = metrics_registry_create();
    double b[3] = {0.1, 1, 10};
    metrics_opts_t o = {.name = "lat_seconds", .help = "Latency.", .labels = service_status,
                        .nlabels = 1, .buckets = b, .nbuckets = 3};
    metrics_family_t *f1 = metrics_register(r, METRICS_HISTOGRAM, &o, NULL);
    metrics_family_t *f2 = metrics_register(r, METRICS_HISTOGRAM, &o, NULL);
    ck_assert_ptr_nonnull(f1);
    ck_assert_ptr_eq(f1, f2);
    ck_assert_uint_eq(metrics_family_count(r), 1);
    metrics_err_t e;
    o.help = "Other help.";
    ck_assert_ptr_null(metrics_register(r, METRICS_HISTOGRAM, &o, &e));
    ck_assert_int_eq(e, METRICS_EEXISTS);
    ck_assert_str_eq(metrics_last_error(r),
                     "a metric named lat_seconds is already registered with a different help");
    o.help = "Latency.";
    o.nbuckets = 2;
    ck_assert_ptr_null(metrics_register(r, METRICS_HISTOGRAM, &o, &e));
    ck_assert_int_eq(e, METRICS_EEXISTS);
    ck_assert_ptr_nonnull(strstr(metrics_last_error(r), "different buckets"));
    ck_assert_ptr_null(metrics_register(r, METRICS_GAUGE, &o, &e));
    ck_assert_int_eq(e, METRICS_EEXISTS);
    ck_assert_ptr_nonnull(strstr(metrics_last_error(r), "different type"));
    o.nlabels = 2;
    o.nbuckets = 3;
    ck_assert_ptr_null(metrics_register(r, METRICS_HISTOGRAM, &o, &e));
    ck_assert_int_eq(e, METRICS_EEXISTS);
    ck_assert_ptr_nonnull(strstr(metrics_last_error(r), "different label names"));
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(counters_gauges_histograms)
{
    metrics_registry_t *r = metrics_registry_create();
    metrics_opts_t oc = {.name = "c_total"};
    metrics_opts_t og = {.name = "g"};
    double b[3] = {1, 2, 4};
    metrics_opts_t oh = {.name = "h", .buckets = b, .nbuckets = 3};
    metrics_series_t *c = metrics_only(metrics_register(r, METRICS_COUNTER, &oc, NULL));
    metrics_series_t *g = metrics_only(metrics_register(r, METRICS_GAUGE, &og, NULL));
    metrics_series_t *h = metrics_only(metrics_register(r, METRICS_HISTOGRAM, &oh, NULL));
    ck_assert_int_eq(metrics_add(c, 0), METRICS_OK);
    ck_assert_int_eq(metrics_add(c, -1), METRICS_EDECREASE);
    ck_assert_str_eq(metrics_last_error(r), "counter c_total: counter cannot decrease in value");
    ck_assert_int_eq(metrics_add(c, 0.0 / 0.0), METRICS_EDECREASE);
    ck_assert_int_eq(metrics_set(c, 5), METRICS_ETYPE);
    ck_assert_int_eq(metrics_observe(c, 5), METRICS_ETYPE);
    ck_assert(metrics_value(c) == 0);

    ck_assert_int_eq(metrics_set(g, 10), METRICS_OK);
    ck_assert_int_eq(metrics_inc(g), METRICS_OK);
    ck_assert_int_eq(metrics_sub(g, 3), METRICS_OK);
    ck_assert_int_eq(metrics_add(g, -0.5), METRICS_OK);
    ck_assert(metrics_value(g) == 7.5);
    ck_assert_int_eq(metrics_observe(g, 1), METRICS_ETYPE);

    ck_assert_int_eq(metrics_inc(h), METRICS_ETYPE);
    ck_assert_int_eq(metrics_set(h, 1), METRICS_ETYPE);
    /* le is inclusive: 1 goes in the first bucket, 1.5 in the second. */
    double obs[] = {0.5, 1, 1.5, 4, 4.0001, 100};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        ck_assert_int_eq(metrics_observe(h, obs[i]), METRICS_OK);
    const uint64_t *counts = metrics_hist_counts(h);
    ck_assert_uint_eq(counts[0], 2);
    ck_assert_uint_eq(counts[1], 1);
    ck_assert_uint_eq(counts[2], 1);
    ck_assert_uint_eq(counts[3], 2);
    ck_assert_uint_eq(metrics_hist_count(h), 6);
    ck_assert(metrics_hist_sum(h) == 0.5 + 1 + 1.5 + 4 + 4.0001 + 100);
    metrics_registry_destroy(r);
}
END_TEST

/* ---- the registry of a running scheduler ----------------------------------- */

typedef struct seen {
    int metric_events;
    trace_event_t last;
    char detail[128];
} seen_t;

static void metric_sink(void *ud, const trace_event_t *ev)
{
    seen_t *s = ud;
    if (ev->kind != EV_METRIC)
        return;
    s->metric_events++;
    s->last = *ev;
    snprintf(s->detail, sizeof s->detail, "%s", ev->detail ? ev->detail : "");
    s->last.detail = s->detail;
}

static void sched_main(void *arg)
{
    (void)arg;
    metrics_registry_t *r = metrics_current();
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_eq(metrics_registry_of(sched_current()), r);
    metrics_series_t *c = metrics_new_counter("served_total", "Served.");
    ck_assert_ptr_nonnull(c);
    go_sleep(SIM_SEC);
    metrics_inc(c);
    metrics_opts_t o = {.name = "depth", .labels = service_status, .nlabels = 1};
    metrics_family_t *f = metrics_register(r, METRICS_GAUGE, &o, NULL);
    metrics_set(metrics_withv(f, "q\"1", NULL), 1.25);
    metrics_series_t *h = metrics_new_histogram("wait_seconds", "", NULL, 0);
    metrics_observe(h, 0.003);
    ck_assert_ptr_null(metrics_new_counter("served_total", "Other help."));
    ck_assert_ptr_nonnull(strstr(metrics_last_error(r), "different help"));
}

static sched_t *run_metrics_main(seen_t *seen, uint64_t *hash)
{
    sched_config_t cfg = sched_config_default();
    sched_t *s = sched_create(&cfg);
    ck_assert_ptr_null(metrics_registry_find(s));
    ck_assert_ptr_null(metrics_registry_of(s)); /* not running: cannot make one */
    ck_assert_int_ge(sched_add_sink(s, metric_sink, seen), 0);
    ck_assert_int_eq(sched_run(s, sched_main, NULL), SCHED_DONE);
    *hash = sched_trace_hash(s);
    return s;
}

START_TEST(scheduler_registry_and_events)
{
    seen_t seen = {0};
    uint64_t h1, h2;
    sched_t *s = run_metrics_main(&seen, &h1);
    metrics_registry_t *r = metrics_registry_find(s);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(metrics_family_count(r), 3);
    ck_assert_int_eq(seen.metric_events, 3);
    ck_assert_int_eq(seen.last.kind, EV_METRIC);
    ck_assert_uint_eq(seen.last.obj, 3); /* wait_seconds: the third series */
    ck_assert_int_eq(seen.last.a, 3000000);
    ck_assert_int_eq(seen.last.b, 1);
    ck_assert_int_eq(seen.last.t, SIM_SEC);
    ck_assert_str_eq(seen.last.detail, "wait_seconds");
    char *text = metrics_text(r, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "served_total 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "depth{service=\"q\\\"1\"} 1.25\n"));
    ck_assert_ptr_nonnull(strstr(text, "wait_seconds_bucket{le=\"0.005\"} 1\n"));
    free(text);
    /* After the run, updates change the value but emit nothing. */
    metrics_inc(metrics_only(metrics_family_at(r, 0)));
    ck_assert_int_eq(seen.metric_events, 3);
    sched_destroy(s);

    /* A second scheduler gets a registry of its own, and the same hash. */
    seen_t seen2 = {0};
    sched_t *s2 = run_metrics_main(&seen2, &h2);
    metrics_registry_t *r2 = metrics_registry_find(s2);
    ck_assert_ptr_nonnull(r2);
    ck_assert(metrics_value(metrics_only(metrics_family_at(r2, 0))) == 1);
    ck_assert_uint_eq(h1, h2);
    sched_destroy(s2);
}
END_TEST

static void no_metrics_main(void *arg) { (void)arg; go_sleep(SIM_MS); }

START_TEST(schedulers_without_metrics_have_no_registry)
{
    sched_t *a = run_with(NULL, no_metrics_main, NULL, NULL);
    ck_assert_ptr_null(metrics_registry_find(a));
    seen_t seen = {0};
    uint64_t h;
    sched_t *b = run_metrics_main(&seen, &h);
    ck_assert_ptr_null(metrics_registry_find(a));
    ck_assert_ptr_nonnull(metrics_registry_find(b));
    sched_destroy(b);
    ck_assert_ptr_null(metrics_registry_find(a));
    sched_destroy(a);
    ck_assert_ptr_null(metrics_current()); /* outside a run */
    ck_assert_ptr_null(metrics_new_counter("x_total", ""));
}
END_TEST

/* ---- exposition ------------------------------------------------------------ */

static const char expected_text[] =
    "# HELP requests_total Total number of requests processed\n"
    "# TYPE requests_total counter\n"
    "requests_total{service=\"api\",status=\"ok\"} 2\n"
    "requests_total{service=\"api\",status=\"error\"} 1\n"
    "# HELP goroutines_total Current number of goroutines\n"
    "# TYPE goroutines_total gauge\n"
    "goroutines_total 2.5\n"
    "# HELP request_duration_seconds Request duration in seconds\n"
    "# TYPE request_duration_seconds histogram\n"
    "request_duration_seconds_bucket{service=\"api\",le=\"0.001\"} 1\n"
    "request_duration_seconds_bucket{service=\"api\",le=\"0.002\"} 1\n"
    "request_duration_seconds_bucket{service=\"api\",le=\"0.004\"} 2\n"
    "request_duration_seconds_bucket{service=\"api\",le=\"0.008\"} 2\n"
    "request_duration_seconds_bucket{service=\"api\",le=\"+Inf\"} 3\n"
    "request_duration_seconds_sum{service=\"api\"} 2.0048828125\n"
    "request_duration_seconds_count{service=\"api\"} 3\n"
    "# HELP queue_depth Line one\\nwith \\\\ backslash\n"
    "# TYPE queue_depth gauge\n"
    "queue_depth{queue=\"a\\\"b\\\\c\\nd\"} -3\n"
    "# TYPE errors_total counter\n"
    "errors_total 0\n";

START_TEST(exposition_text_exact)
{
    metrics_registry_t *r = metrics_registry_create();
    metrics_opts_t oreq = {.name = "requests_total", .help = "Total number of requests processed",
                           .labels = service_status, .nlabels = 2};
    metrics_family_t *req = metrics_register(r, METRICS_COUNTER, &oreq, NULL);
    metrics_opts_t ogo = {.name = "goroutines_total", .help = "Current number of goroutines"};
    metrics_family_t *go = metrics_register(r, METRICS_GAUGE, &ogo, NULL);
    double b[4];
    ck_assert_int_eq(metrics_exponential_buckets(0.001, 2, 4, b), METRICS_OK);
    metrics_opts_t odur = {.name = "request_duration_seconds", .help = "Request duration in seconds",
                           .labels = service_status, .nlabels = 1, .buckets = b, .nbuckets = 4};
    metrics_family_t *dur = metrics_register(r, METRICS_HISTOGRAM, &odur, NULL);
    const char *queue[] = {"queue"};
    metrics_opts_t oq = {.name = "queue_depth", .help = "Line one\nwith \\ backslash",
                         .labels = queue, .nlabels = 1};
    metrics_family_t *q = metrics_register(r, METRICS_GAUGE, &oq, NULL);
    metrics_opts_t ounused = {.name = "unused_total", .help = "Never used.", .labels = queue,
                              .nlabels = 1};
    ck_assert_ptr_nonnull(metrics_register(r, METRICS_COUNTER, &ounused, NULL));
    metrics_opts_t oerr = {.name = "errors_total"};
    ck_assert_ptr_nonnull(metrics_register(r, METRICS_COUNTER, &oerr, NULL));

    metrics_series_t *ok = metrics_withv(req, "api", "ok", NULL);
    metrics_inc(metrics_withv(req, "api", "ok", NULL));
    metrics_inc(metrics_withv(req, "api", "error", NULL));
    metrics_inc(ok);
    metrics_set(metrics_only(go), 2.5);
    metrics_series_t *api = metrics_withv(dur, "api", NULL);
    metrics_observe(api, 0.0009765625); /* 2^-10: le 0.001 */
    metrics_observe(api, 0.00390625);   /* 2^-8: le 0.004 */
    metrics_observe(api, 2);            /* +Inf */
    metrics_set(metrics_withv(q, "a\"b\\c\nd", NULL), -3);

    size_t len = 0;
    char *text = metrics_text(r, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, expected_text);
    ck_assert_uint_eq(len, strlen(expected_text));
    free(text);

    /* The same text through a FILE. */
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    ck_assert_int_eq(metrics_write_text(r, f), 0);
    fclose(f);
    ck_assert_str_eq(buf, expected_text);
    free(buf);
    metrics_registry_destroy(r);

    /* An empty registry writes nothing. */
    r = metrics_registry_create();
    text = metrics_text(r, &len);
    ck_assert_str_eq(text, "");
    free(text);
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(values_are_printed_deterministically)
{
    struct { double v; const char *want; } cases[] = {
        {0, "0"}, {-0.0, "0"}, {1, "1"}, {-42, "-42"}, {2.5, "2.5"}, {0.1, "0.1"},
        {0.001, "0.001"}, {1e-05, "1e-05"}, {1234567, "1234567"}, {1e15, "1000000000000000"},
        {1e20, "1e+20"}, {0.1 + 0.2, "0.30000000000000004"}, {1.0 / 3, "0.3333333333333333"},
        {1.0 / 0.0, "+Inf"}, {-1.0 / 0.0, "-Inf"}, {0.0 / 0.0, "NaN"},
        {9007199254740993.0, "9007199254740992"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        metrics_format_value(cases[i].v, buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i].want);
    }
}
END_TEST

/* ---- buckets --------------------------------------------------------------- */

START_TEST(exponential_buckets_as_go)
{
    double b[10];
    ck_assert_int_eq(metrics_exponential_buckets(0.001, 2, 10, b), METRICS_OK);
    const char *want[10] = {"0.001", "0.002", "0.004", "0.008", "0.016",
                            "0.032", "0.064", "0.128", "0.256", "0.512"};
    char buf[40];
    for (int i = 0; i < 10; i++) {
        metrics_format_value(b[i], buf, sizeof buf);
        ck_assert_str_eq(buf, want[i]);
    }
    /* Each bound is the last times the factor, as Go multiplies. */
    double x = 0.001;
    for (int i = 0; i < 10; i++, x *= 2)
        ck_assert(b[i] == x);
    double c[3] = {-1, -1, -1};
    ck_assert_int_eq(metrics_exponential_buckets(100, 10, 3, c), METRICS_OK);
    ck_assert(c[0] == 100 && c[1] == 1000 && c[2] == 10000);
    ck_assert_int_eq(metrics_exponential_buckets(0, 2, 3, c), METRICS_EBUCKETS);
    ck_assert_int_eq(metrics_exponential_buckets(-1, 2, 3, c), METRICS_EBUCKETS);
    ck_assert_int_eq(metrics_exponential_buckets(1, 1, 3, c), METRICS_EBUCKETS);
    ck_assert_int_eq(metrics_exponential_buckets(1, 0.5, 3, c), METRICS_EBUCKETS);
    ck_assert_int_eq(metrics_exponential_buckets(1, 2, 0, c), METRICS_EBUCKETS);
    ck_assert(c[0] == 100); /* untouched on error */
}
END_TEST

START_TEST(linear_and_default_buckets)
{
    double b[4];
    ck_assert_int_eq(metrics_linear_buckets(1, 0.5, 4, b), METRICS_OK);
    ck_assert(b[0] == 1 && b[1] == 1.5 && b[2] == 2 && b[3] == 2.5);
    ck_assert_int_eq(metrics_linear_buckets(1, 0, 4, b), METRICS_EBUCKETS);
    ck_assert_int_eq(metrics_linear_buckets(1, 1, 0, b), METRICS_EBUCKETS);

    metrics_registry_t *r = metrics_registry_create();
    metrics_opts_t o = {.name = "d"};
    metrics_family_t *f = metrics_register(r, METRICS_HISTOGRAM, &o, NULL);
    const double *bounds;
    ck_assert_uint_eq(metrics_family_buckets(f, &bounds), METRICS_DEFAULT_NBUCKETS);
    ck_assert(bounds[0] == 0.005 && bounds[10] == 10);
    /* A final +Inf is implicit and dropped. */
    double withinf[3] = {1, 2, 1.0 / 0.0};
    metrics_opts_t oi = {.name = "i", .buckets = withinf, .nbuckets = 3};
    f = metrics_register(r, METRICS_HISTOGRAM, &oi, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(metrics_family_buckets(f, &bounds), 2);
    metrics_registry_destroy(r);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

static metrics_err_t try_register(metrics_registry_t *r, metrics_type_t t, const char *name,
                                  const char *const *labels, size_t nlabels)
{
    metrics_opts_t o = {.name = name, .labels = labels, .nlabels = nlabels};
    metrics_err_t e = METRICS_OK;
    metrics_family_t *f = metrics_register(r, t, &o, &e);
    ck_assert((f == NULL) == (e != METRICS_OK));
    return e;
}

START_TEST(metric_names_are_validated)
{
    metrics_registry_t *r = metrics_registry_create();
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "ok_name:sub_total", NULL, 0), METRICS_OK);
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "_x", NULL, 0), METRICS_OK);
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "", NULL, 0), METRICS_EBADNAME);
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "1abc", NULL, 0), METRICS_EBADNAME);
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "has-dash", NULL, 0), METRICS_EBADNAME);
    ck_assert_str_eq(metrics_last_error(r),
                     "invalid metric name \"has-dash\": want letters, digits, '_' and ':', not "
                     "starting with a digit, at most 200 bytes");
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "has space", NULL, 0), METRICS_EBADNAME);
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "caf\xc3\xa9", NULL, 0), METRICS_EBADNAME);
    metrics_opts_t o = {.name = NULL};
    metrics_err_t e;
    ck_assert_ptr_null(metrics_register(r, METRICS_GAUGE, &o, &e));
    ck_assert_int_eq(e, METRICS_EBADNAME);
    ck_assert_str_eq(metrics_strerror(METRICS_EBADNAME), "invalid metric name");
    ck_assert_str_eq(metrics_err_name(METRICS_EBADNAME), "METRICS_EBADNAME");
    ck_assert_ptr_null(metrics_register(NULL, METRICS_GAUGE, &o, &e));
    ck_assert_int_eq(e, METRICS_ENOREG);
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(label_names_are_validated)
{
    metrics_registry_t *r = metrics_registry_create();
    const char *bad[] = {"9lives", "with-dash", "", "a:b"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(try_register(r, METRICS_COUNTER, "x_total", &bad[i], 1), METRICS_EBADLABEL);
    const char *reserved[] = {"__name__"};
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "x_total", reserved, 1), METRICS_EBADLABEL);
    ck_assert_ptr_nonnull(strstr(metrics_last_error(r), "reserved"));
    const char *dup[] = {"a", "b", "a"};
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "x_total", dup, 3), METRICS_EBADLABEL);
    ck_assert_str_eq(metrics_last_error(r), "metric x_total: label name \"a\" given twice");
    const char *le[] = {"le"};
    ck_assert_int_eq(try_register(r, METRICS_HISTOGRAM, "h", le, 1), METRICS_EBADLABEL);
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "g", le, 1), METRICS_OK); /* le only matters in histograms */
    const char *many[METRICS_MAX_LABELS + 1];
    char names[METRICS_MAX_LABELS + 1][8];
    for (int i = 0; i <= METRICS_MAX_LABELS; i++) {
        snprintf(names[i], sizeof names[i], "l%d", i);
        many[i] = names[i];
    }
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "many", many, METRICS_MAX_LABELS + 1),
                     METRICS_EBADLABEL);
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "many", many, METRICS_MAX_LABELS), METRICS_OK);
    ck_assert_uint_eq(metrics_family_count(r), 2); /* nothing registered by a failure */
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(label_values_are_checked)
{
    metrics_registry_t *r = metrics_registry_create();
    metrics_opts_t o = {.name = "requests_total", .labels = service_status, .nlabels = 2};
    metrics_family_t *f = metrics_register(r, METRICS_COUNTER, &o, NULL);
    metrics_err_t e;
    const char *one[] = {"api"};
    ck_assert_ptr_null(metrics_with(f, one, 1, &e));
    ck_assert_int_eq(e, METRICS_ELABELS);
    ck_assert_str_eq(metrics_last_error(r),
                     "metric requests_total has 2 labels (service, status), got 1 value");
    ck_assert_ptr_null(metrics_withv(f, "a", "b", "c", NULL));
    ck_assert_ptr_null(metrics_withv(f, NULL));
    const char *bad_utf8[] = {"api", "\xff\xfe"};
    ck_assert_ptr_null(metrics_with(f, bad_utf8, 2, &e));
    ck_assert_int_eq(e, METRICS_EBADVALUE);
    const char *surrogate[] = {"api", "\xed\xa0\x80"};
    ck_assert_ptr_null(metrics_with(f, surrogate, 2, &e));
    ck_assert_int_eq(e, METRICS_EBADVALUE);
    const char *good[] = {"caf\xc3\xa9", "\xf0\x9f\x98\x80"};
    ck_assert_ptr_nonnull(metrics_with(f, good, 2, &e));
    ck_assert_int_eq(e, METRICS_OK);
    ck_assert_uint_eq(metrics_series_count(f), 1);
    /* A family without labels takes no values. */
    metrics_opts_t op = {.name = "plain"};
    metrics_family_t *p = metrics_register(r, METRICS_GAUGE, &op, NULL);
    ck_assert_ptr_null(metrics_with(p, one, 1, &e));
    ck_assert_int_eq(e, METRICS_ELABELS);
    ck_assert_str_eq(metrics_last_error(r), "metric plain has 0 labels, got 1 value");
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(buckets_are_validated)
{
    metrics_registry_t *r = metrics_registry_create();
    metrics_err_t e;
    double dec[3] = {1, 3, 2};
    metrics_opts_t o = {.name = "h", .buckets = dec, .nbuckets = 3};
    ck_assert_ptr_null(metrics_register(r, METRICS_HISTOGRAM, &o, &e));
    ck_assert_int_eq(e, METRICS_EBUCKETS);
    ck_assert_str_eq(metrics_last_error(r), "histogram h: buckets must be in increasing order: 3 >= 2");
    double same[2] = {1, 1};
    o.buckets = same;
    o.nbuckets = 2;
    ck_assert_ptr_null(metrics_register(r, METRICS_HISTOGRAM, &o, &e));
    ck_assert_int_eq(e, METRICS_EBUCKETS);
    double nan[2] = {1, 0.0 / 0.0};
    o.buckets = nan;
    ck_assert_ptr_null(metrics_register(r, METRICS_HISTOGRAM, &o, &e));
    ck_assert_int_eq(e, METRICS_EBUCKETS);
    ck_assert_uint_eq(metrics_family_count(r), 0);
    metrics_registry_destroy(r);
}
END_TEST

START_TEST(sample_names_must_not_collide)
{
    metrics_registry_t *r = metrics_registry_create();
    ck_assert_int_eq(try_register(r, METRICS_HISTOGRAM, "latency", NULL, 0), METRICS_OK);
    ck_assert_int_eq(try_register(r, METRICS_COUNTER, "latency_count", NULL, 0), METRICS_EEXISTS);
    ck_assert_str_eq(metrics_last_error(r),
                     "metric latency_count (counter) collides with histogram latency, whose "
                     "samples include latency_count");
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "latency_sum", NULL, 0), METRICS_EEXISTS);
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "latency_bucket", NULL, 0), METRICS_EEXISTS);
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "x_sum", NULL, 0), METRICS_OK);
    ck_assert_int_eq(try_register(r, METRICS_HISTOGRAM, "x", NULL, 0), METRICS_EEXISTS);
    ck_assert_int_eq(try_register(r, METRICS_GAUGE, "latency_total", NULL, 0), METRICS_OK);
    metrics_registry_destroy(r);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *sem = tcase_create("semantics");
    tcase_add_test(sem, plain_families_have_one_series_from_the_start);
    tcase_add_test(sem, vectors_make_series_on_first_use_in_creation_order);
    tcase_add_test(sem, families_keep_registration_order);
    tcase_add_test(sem, identical_registration_returns_the_same_family);
    tcase_add_test(sem, counters_gauges_histograms);
    tcase_add_test(sem, scheduler_registry_and_events);
    tcase_add_test(sem, schedulers_without_metrics_have_no_registry);
    suite_add_tcase(s, sem);
    TCase *exp = tcase_create("exposition");
    tcase_add_test(exp, exposition_text_exact);
    tcase_add_test(exp, values_are_printed_deterministically);
    suite_add_tcase(s, exp);
    TCase *bk = tcase_create("buckets");
    tcase_add_test(bk, exponential_buckets_as_go);
    tcase_add_test(bk, linear_and_default_buckets);
    suite_add_tcase(s, bk);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, metric_names_are_validated);
    tcase_add_test(err, label_names_are_validated);
    tcase_add_test(err, label_values_are_checked);
    tcase_add_test(err, buckets_are_validated);
    tcase_add_test(err, sample_names_must_not_collide);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    return run_suite(metrics_suite());
}
