/* summary_json: `chansim run --json` (see summary_json.h). */
#include "summary_json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "mem.h"

void json_write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void key(FILE *out, const char *k, bool first)
{
    if (!first)
        fputc(',', out);
    json_write_string(out, k);
    fputc(':', out);
}

static void string_or_null(FILE *out, const char *s)
{
    if (s && *s)
        json_write_string(out, s);
    else
        fputs("null", out);
}

static const char *const expect_kinds[] = {"expect", "invariant", "finally"};

void summary_json_write(FILE *out, host_t *h, const char *path, int status, const char *strategy,
                        const char *reproduce)
{
    sched_t *s = host_sched(h);
    char dur[48];
    simtime_t now = s ? sched_now_of(s) : 0;
    dur_format(now, dur, sizeof dur);
    fputc('{', out);
    key(out, "scenario", true);
    string_or_null(out, host_scenario_name(h));
    key(out, "path", false);
    json_write_string(out, path);
    key(out, "result", false);
    json_write_string(out, s ? sched_result_string(host_result(h)) : "not started");
    key(out, "exit", false);
    fprintf(out, "%d", status);
    key(out, "failure", false);
    string_or_null(out, s ? sched_failure_message(s) : NULL);
    /* the Go-style report of a failed run, else the dump of the leaked goroutines */
    key(out, "report", false);
    if (s && *sched_report(s)) {
        json_write_string(out, sched_report(s));
    } else if (s && host_leaked(h)) {
        size_t cap = 1 << 16;
        char *dump = mem_malloc(cap);
        sched_dump(s, dump, cap);
        json_write_string(out, dump);
        free(dump);
    } else {
        fputs("null", out);
    }
    key(out, "simulated_ns", false);
    fprintf(out, "%" PRId64, (int64_t)now);
    key(out, "simulated", false);
    json_write_string(out, dur);
    key(out, "events", false);
    fprintf(out, "%" PRIu64, s ? sched_trace_events(s) : 0);
    key(out, "goroutines", false);
    fprintf(out, "{\"spawned\":%" PRIu64 ",\"alive\":%" PRIu64 ",\"leaked\":%" PRIu64 "}",
            s ? sched_goroutines_spawned(s) : 0, s ? sched_goroutines_alive(s) : 0, host_leaked(h));
    const host_expect_t *e;
    size_t n = host_expectations(h, &e);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !e[i].ok;
    key(out, "expectations", false);
    fprintf(out, "{\"passed\":%zu,\"failed\":%zu,\"list\":[", n - failed, failed);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",{" : "{", out);
        key(out, "ok", true);
        fputs(e[i].ok ? "true" : "false", out);
        key(out, "kind", false);
        json_write_string(out, e[i].kind >= 0 && e[i].kind <= 2 ? expect_kinds[e[i].kind] : "expect");
        key(out, "message", false);
        json_write_string(out, e[i].msg);
        key(out, "where", false);
        json_write_string(out, e[i].where);
        key(out, "time_ns", false);
        fprintf(out, "%" PRId64, (int64_t)e[i].t);
        key(out, "repeats", false);
        fprintf(out, "%d}", e[i].repeats);
    }
    fputs("]}", out);
    if (host_expected_failure(h)) {
        key(out, "expected_failure", false);
        fputs("{\"failure\":", out);
        json_write_string(out, host_expected_failure(h));
        fprintf(out, ",\"happened\":%s}", host_expected_happened(h) == 1 ? "true" : "false");
    }
    key(out, "trace_hash", false);
    fprintf(out, "\"%016" PRIx64 "\"", s ? sched_trace_hash(s) : 0);
    key(out, "seed", false);
    fprintf(out, "%" PRIu64, s ? sched_seed(s) : 0);
    key(out, "strategy", false);
    json_write_string(out, strategy);
    key(out, "reproduce", false);
    json_write_string(out, reproduce);
    fputs("}\n", out);
}
