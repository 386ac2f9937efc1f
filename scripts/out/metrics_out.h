/*
 * metrics_out: the --metrics and --csv files of a run.
 *
 * --metrics is the Prometheus text exposition (version 0.0.4) of the run's
 * registry at the end of the run (core/metrics.h: families in registration
 * order, series in creation order), followed by chansim's own series:
 *   chansim_goroutines                 gauge: goroutines alive
 *   chansim_goroutines_spawned_total   counter: goroutines started
 *   chansim_trace_events_total         counter: events in the trace
 * (each left out if the scenario registered a metric of that name).
 *
 * --csv is a time series sampled every interval of simulated time: a
 * header row, then one row per sample time t = 0, interval, 2*interval,
 * ... up to the end of the run. The first column is time_s (seconds with
 * nine decimals); then one column per series, in the exposition's order
 * (a histogram gives two: name_count{...} and name_sum{...}), then
 * chansim's own series. A column's name is the series' Prometheus name
 * (`requests_total{status="ok"}`), quoted as RFC 4180 says when it holds
 * a comma or a quote. The row at time t holds the values after every
 * event at times <= t; a cell is empty while its series does not exist
 * yet. Numbers are written as in the exposition.
 *
 * The sampler is a clock observer (host_add_clock_observer): when the
 * clock jumps, the state is fixed until the jump's target, so every
 * sample time passed over gets the current values. It only reads the
 * run; equal rows are stored once with a repeat count. At most
 * CSV_MAX_ROWS rows are written (a note on stderr says so if the run
 * had more).
 */
#ifndef CHANSIM_METRICS_OUT_H
#define CHANSIM_METRICS_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sched.h"

#define CSV_MAX_ROWS 5000000

/* Write the exposition of s's metrics (and chansim's own) to f. Returns
 * false if writing failed. */
bool metrics_out_write(sched_t *s, FILE *f);

typedef struct csv_sampler csv_sampler_t;

/* A sampler every interval_ns (> 0) of simulated time. Caller owns; free
 * with csv_sampler_destroy. */
csv_sampler_t *csv_sampler_create(int64_t interval_ns);
void csv_sampler_destroy(csv_sampler_t *c);
/* The clock observer (ud = the sampler). */
void csv_sampler_clock(void *ud, simtime_t from, simtime_t to);
/* Take the samples due up to s's current time and write the CSV to f.
 * Returns false if writing failed. */
bool csv_sampler_finish(csv_sampler_t *c, sched_t *s, FILE *f);

#endif
