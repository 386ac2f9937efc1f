/* outputs: the files of a run, written whole or not at all. See outputs.h. */
#include "outputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagram.h"
#include "mem.h"
#include "metrics_out.h"
#include "pprof.h"
#include "trace.h"
#include "trace_json.h"

/* ---- --log ---------------------------------------------------------------- */

static void log_sink(void *ud, const trace_event_t *ev)
{
    atomic_file_t *a = ud;
    char line[2048];
    int n = trace_format(ev, line, sizeof line);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    /* A log event's text already ends with its newline. */
    while (len > 0 && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    if (fwrite(line, 1, len, a->f) != len)
        a->failed = true;
}

void outputs_init(outputs_t *o)
{
    memset(o, 0, sizeof *o);
    o->csv_interval = 100 * 1000000LL;
}

/* A big buffer: the trace writes a few lines per scheduling step. */
static bool open_buffered(atomic_file_t *a, const char *path)
{
    if (!atomic_open(a, path))
        return false;
    setvbuf(a->f, NULL, _IOFBF, 1 << 20);
    return true;
}

static bool attach_failed(outputs_t *o, const char *what)
{
    if (what)
        fprintf(stderr, "chansim: cannot attach %s: too many observers\n", what);
    outputs_deinit(o);
    return false;
}

bool outputs_attach(outputs_t *o, host_t *h)
{
    if (o->log_path) {
        if (!atomic_open(&o->log, o->log_path))
            return attach_failed(o, NULL);
        if (!host_add_sink(h, log_sink, &o->log))
            return attach_failed(o, "--log");
    }
    if (o->trace_path) {
        if (!open_buffered(&o->trace, o->trace_path))
            return attach_failed(o, NULL);
        o->json = trace_json_create(o->trace.f);
        if (!host_add_sink(h, trace_json_sink, o->json))
            return attach_failed(o, "--trace");
    }
    if (o->metrics_path && !atomic_open(&o->metrics, o->metrics_path))
        return attach_failed(o, NULL);
    if (o->csv_path) {
        if (!open_buffered(&o->csv_file, o->csv_path))
            return attach_failed(o, NULL);
        o->csv = csv_sampler_create(o->csv_interval);
        if (!host_add_clock_observer(h, csv_sampler_clock, o->csv))
            return attach_failed(o, "--csv");
    }
    if (o->pprof_dir && !(o->pprof = pprof_attach(h, o->pprof_dir)))
        return attach_failed(o, NULL);
    if (o->diagram_path) {
        if (!open_buffered(&o->diagram_file, o->diagram_path))
            return attach_failed(o, NULL);
        o->diagram = diagram_create();
        if (!host_add_sink(h, diagram_sink, o->diagram))
            return attach_failed(o, "--diagram");
    }
    return true;
}

bool outputs_finish(outputs_t *o, host_t *h)
{
    bool ok = true;
    sched_t *s = host_sched(h);
    if (o->log.f)
        ok = atomic_commit(&o->log) && ok;
    if (o->trace.f && s) {
        if (!trace_json_finish(o->json, sched_now_of(s), host_scenario_name(h), sched_seed(s),
                               sched_trace_hash(s)))
            o->trace.failed = true;
        ok = atomic_commit(&o->trace) && ok;
    }
    if (o->metrics.f && s) {
        if (!metrics_out_write(s, o->metrics.f))
            o->metrics.failed = true;
        ok = atomic_commit(&o->metrics) && ok;
    }
    if (o->csv_file.f && s) {
        if (!csv_sampler_finish(o->csv, s, o->csv_file.f))
            o->csv_file.failed = true;
        ok = atomic_commit(&o->csv_file) && ok;
    }
    if (o->pprof && s)
        ok = pprof_finish(o->pprof, h) && ok;
    if (o->diagram_file.f && s) {
        if (!diagram_write(o->diagram, s, host_scenario_name(h), o->diagram_file.f))
            o->diagram_file.failed = true;
        ok = atomic_commit(&o->diagram_file) && ok;
    }
    return ok;
}

void outputs_deinit(outputs_t *o)
{
    atomic_file_t *files[] = {&o->log, &o->trace, &o->metrics, &o->csv_file, &o->diagram_file};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (files[i]->f)
            atomic_abort(files[i]);
    trace_json_destroy(o->json);
    o->json = NULL;
    csv_sampler_destroy(o->csv);
    o->csv = NULL;
    pprof_free(o->pprof);
    o->pprof = NULL;
    diagram_destroy(o->diagram);
    o->diagram = NULL;
}

bool outputs_limited(const outputs_t *o)
{
    return o->log.limited || o->trace.limited || o->metrics.limited || o->csv_file.limited;
}
