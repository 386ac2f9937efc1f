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

bool atomic_open(atomic_file_t *a, const char *path)
{
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 32;
    a->path = mem_strdup(path);
    a->tmp = mem_malloc(n);
    snprintf(a->tmp, n, "%s.partial-%d", path, (int)getpid());
    a->f = fopen(a->tmp, "w");
    if (!a->f) {
        fprintf(stderr, "chansim: cannot create %s: %s\n", path, strerror(errno));
        free(a->path);
        free(a->tmp);
        a->path = a->tmp = NULL;
        return false;
    }
    return true;
}

bool atomic_commit(atomic_file_t *a)
{
    if (!a->f)
        return false;
    bool ok = !a->failed && !ferror(a->f);
    if (fclose(a->f) != 0)
        ok = false;
    a->f = NULL;
    if (ok && rename(a->tmp, a->path) != 0) {
        fprintf(stderr, "chansim: cannot write %s: %s\n", a->path, strerror(errno));
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "chansim: %s was not written\n", a->path);
        unlink(a->tmp);
    }
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    return ok;
}

void atomic_abort(atomic_file_t *a)
{
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp);
    }
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

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

bool outputs_write_schedule(const char *path, const uint32_t *d, size_t n)
{
    atomic_file_t a;
    if (!atomic_open(&a, path))
        return false;
    for (size_t i = 0; i < n; i++)
        if (fprintf(a.f, "%u%c", d[i], (i % 32 == 31 || i + 1 == n) ? '\n' : ' ') < 0)
            a.failed = true;
    return atomic_commit(&a);
}
