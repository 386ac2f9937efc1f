/*
 * repro_internal: what the files of the reproducer commands share
 * (repro.c: the file, read and written as JSON; repro_run.c: quiet,
 * observed runs of a reproducer, explore's reproducers, replay FILE and
 * the explanation after a failed run; repro_shrink.c: shrink FILE).
 * Nothing else includes it: the rest of the command sees repro.h.
 */
#ifndef CHANSIM_REPRO_INTERNAL_H
#define CHANSIM_REPRO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "explain.h"
#include "repro.h"

/* The outcome of a quiet run. */
typedef struct outcome {
    int status;
    uint64_t hash, events, preemptions;
    uint32_t *decisions;
    size_t ndecisions;
    uint16_t *digests;
    size_t ndigests;
    char kind[24];
    char *message, *where;
} outcome_t;

/* ---- repro.c ------------------------------------------------------------------ */

/* "fnv1a64:<16 hex>" of the file's content; false if it cannot be read. */
bool repro_file_hash(const char *path, char *out, size_t size);

/* ---- repro_run.c -------------------------------------------------------------- */

/* The run options a reproducer gives (sets point into r). */
void repro_run_options_of(const repro_t *r, host_options_t *opt, host_param_override_t *sets);
void repro_run_free_sets(host_param_override_t *sets, int n);
void repro_run_outcome_free(outcome_t *o);
/* A run with opt (its output and reports thrown away), observed; ex, if
 * given, records the steps. */
void repro_run_quiet(host_options_t opt, explain_t *ex, FILE *devnull, outcome_t *out);
/* The same, and digests false: no event digests kept (out's are empty;
 * preemptions not counted). */
void repro_run_observed(host_options_t opt, explain_t *ex, FILE *devnull, outcome_t *out, bool digests);
/* A reproducer from a failing run's outcome. */
void repro_run_fill(repro_t *r, const host_options_t *opt, const char *strategy,
                    const outcome_t *oc);
/* The same failure kind and message as the reproducer's. */
bool repro_run_same_failure(const outcome_t *oc, const repro_t *r);
/* Read FILE and check its scenario; an exit status on error (R freed), else -1. */
int repro_run_load_checked(const char *cmd, const char *file, bool force, repro_t *r);

#endif
