/*
 * summary_json: the summary of `chansim run --json` as one JSON object on
 * one line (docs/schemas/run-summary.schema.json), for graders and CI:
 * the scenario, how the run ended, its exit status, simulated time,
 * events, goroutines, leaks, every expectation with where and when it was
 * checked, the trace hash, the seed, the strategy and the command that
 * reproduces the run. Everything in it is determined by the run (no wall
 * time), so the same run prints the same bytes.
 */
#ifndef CHANSIM_SUMMARY_JSON_H
#define CHANSIM_SUMMARY_JSON_H

#include <stdio.h>

#include "host.h"

/* Write the object and a newline. path is the scenario's path as run,
 * strategy its name ("pct:3"), reproduce the command line. */
void summary_json_write(FILE *out, host_t *h, const char *path, int status, const char *strategy,
                        const char *reproduce);

/* s as a JSON string, quoted and escaped (UTF-8 passes through). */
void json_write_string(FILE *out, const char *s);

#endif
