/*
 * flow: what the flow patterns (fan-out/fan-in, priority multiplexing,
 * first response, pipeline, bounded concurrency) share: where their printed
 * lines go, and scheduler-owned memory for their state.
 *
 * The seed's Go prints with fmt.Printf and log.Printf. Here a pattern
 * prints through a flow_out_t: every line is an EV_LOG trace event, and is
 * also handed to the out's line function (the Lua host prints it) when one
 * is set. Pattern state lives in flow_alloc memory, owned by the running
 * scheduler and freed at sched_destroy, so a run stopped in the middle (a
 * time limit, a panic) leaks nothing.
 */
#ifndef CHANSIM_FLOW_H
#define CHANSIM_FLOW_H

#include <stddef.h>

#include "sched.h"

typedef struct flow_out {
    void (*line)(void *ud, const char *text); /* prints one line (no newline); NULL: trace only */
    void *ud;                                 /* passed to line */
} flow_out_t;

/* Format a line and publish it: an EV_LOG event, then out->line if set.
 * out may be NULL (trace only). */
void flow_printf(const flow_out_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* size zeroed bytes owned by the running scheduler until sched_destroy. */
void *flow_alloc(size_t size);

/* rand.Intn(n) on the world stream scaled to a duration: a whole number of
 * units in [0, max / unit), as the seed's time.Duration(rand.Intn(100)) *
 * time.Millisecond. 0 if max < unit. */
simtime_t flow_rand_units(simtime_t max, simtime_t unit);

#endif
