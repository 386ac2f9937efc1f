/*
 * outputs: the files a run writes: the text event log (--log), the Chrome
 * trace-event JSON (--trace), Prometheus metrics (--metrics), CSV time
 * series (--csv), Go's pprof profiles (--pprof DIR, pprof.h), the
 * space-time diagram (--diagram FILE.svg, diagram.h) and the
 * decision list (--schedule-out).
 *
 * Each file is written through outfile.h: to a temporary name beside its
 * final one, renamed only when complete (an output is whole or absent,
 * never half-written), bounded by --max-output, every write checked.
 * Outputs observe the run through trace sinks and the clock; they never
 * change it, so a run with outputs has the same trace hash as one without.
 */
#ifndef CHANSIM_OUTPUTS_H
#define CHANSIM_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host.h"
#include "outfile.h"

typedef struct outputs {
    const char *log_path;     /* --log */
    const char *trace_path;   /* --trace */
    const char *metrics_path; /* --metrics */
    const char *csv_path;     /* --csv */
    int64_t csv_interval;     /* --csv-interval, ns */
    const char *pprof_dir;    /* --pprof */
    const char *diagram_path; /* --diagram */
    atomic_file_t log;        /* the files, open from attach to finish */
    atomic_file_t trace;
    atomic_file_t metrics;
    atomic_file_t csv_file;
    atomic_file_t diagram_file;
    struct trace_json *json;  /* state of the --trace writer (scripts/trace_json.h) */
    struct csv_sampler *csv;  /* state of the --csv sampler (scripts/metrics_out.h) */
    struct pprof *pprof;      /* state of the --pprof profiles (scripts/out/pprof.h) */
    struct diagram *diagram;  /* state of the --diagram writer (scripts/out/diagram.h) */
} outputs_t;

void outputs_init(outputs_t *o);
/* Open the files and attach the sinks and the clock observer before the
 * run. Prints an error and returns false (leaving no file behind) if a
 * file cannot be created. */
bool outputs_attach(outputs_t *o, host_t *h);
/* After the run: finish and rename every file. False if one failed. */
bool outputs_finish(outputs_t *o, host_t *h);
/* Remove the temporary files of outputs not finished (a run that did not
 * start) and free the writers. Always call it, after finish or instead. */
void outputs_deinit(outputs_t *o);
/* True if an output reached the limit (--max-output) and stopped the run. */
bool outputs_limited(const outputs_t *o);

#endif
