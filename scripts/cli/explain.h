/*
 * explain: the failing interleaving, explained.
 *
 * A recorder attached to a run (a trace sink and the shared-access
 * observer of core/race.h) keeps each goroutine's synchronising steps:
 * channel operations, locks, blocks and wakes, preemptions at decision
 * points, spawns, panics, and every access to a sim.shared variable or a
 * sim.atomic (or the shared state of a C pattern), each with the object's
 * name and the scenario's file:line where the goroutine was. After a
 * failure, explain_print picks the objects the failure involves (the
 * racing variable, the objects of a deadlock's waits, what the panicking
 * goroutine last touched, or the shared variables several goroutines
 * touched when an expectation failed) and prints the last steps that touch
 * them, in one column per goroutine, in the order they happened.
 *
 * Observation only: attaching a recorder never changes the run or its
 * hash. The steps are kept in memory (at most EXPLAIN_KEEP, the oldest
 * dropped first).
 *
 * Ownership: explain_new returns a recorder freed with explain_free; it
 * must outlive the run it is attached to (explain_attach before host_run,
 * explain_detach after it).
 */
#ifndef CHANSIM_EXPLAIN_H
#define CHANSIM_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "host.h"

#define EXPLAIN_KEEP 65536
#define EXPLAIN_ROWS 16 /* the rows printed after a failure, and shown by the view */

typedef struct explain_step {
    uint64_t seq;     /* events of the run before it (its place) */
    uint64_t step;    /* the goroutine step it happened in (sched_steps) */
    uint64_t g;       /* the goroutine */
    char op[40];      /* "send", "write", "Lock", "preempted", ... */
    uint64_t obj;     /* the object's id (0: a shared variable, see var) */
    uint64_t who;     /* a goroutine the step names ("go", "wakes"): var says "g<who>" */
    char var[64];     /* a shared variable's name, or the object's when known */
    char site[96];    /* file:line in the scenario, or the C function */
} explain_step_t;

typedef struct explain explain_t;

explain_t *explain_new(void);
void explain_free(explain_t *x);
/* Before host_run: the sink and the observer. */
bool explain_attach(explain_t *x, host_t *h);
/* After host_run (before host_destroy): object and goroutine names are
 * read from the scheduler, the observer is removed. */
void explain_detach(explain_t *x, host_t *h);

/* The decisive steps of a failed run as columns per goroutine; at most
 * max rows. kind and message: the failure (repro.h's kinds). Prints
 * nothing if no step touches what the failure involves. */
void explain_print(const explain_t *x, FILE *out, const char *kind, const char *message, int max);

/* The same steps as data, for the view: rows[] (room for max) gets them
 * in the order they happened, cols[] (room for EXPLAIN_COLS) the
 * goroutines' columns by id, heading what they touch ("balance, mu").
 * Returns the number of rows (0: nothing to show). The pointers are
 * valid until explain_free. */
#define EXPLAIN_COLS 8
int explain_pick(const explain_t *x, const char *kind, const char *message, int max,
                 const explain_step_t **rows, uint64_t *cols, int *ncols, char *heading, size_t hsize);
/* A goroutine's name ("" if unknown). */
const char *explain_gname(const explain_t *x, uint64_t id);

#endif
