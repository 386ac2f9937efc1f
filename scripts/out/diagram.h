/*
 * diagram: the run as a space-time diagram in SVG (--diagram FILE.svg),
 * the Lamport/message picture: one vertical line per goroutine (or, when
 * the run is a cluster whose nodes exchange messages, one per node), time
 * going down, and an arrow for each value handed from one goroutine to
 * another through a channel (a send paired with the receive that took it,
 * per channel in FIFO order) or each message between nodes. A dropped
 * message ends in a cross; faults (crash, pause, partition, heal) are
 * marked on their node's line or across the diagram; panics are red
 * crosses and an exited goroutine's line ends in a bar.
 *
 * Rows, not a time scale: each drawn event takes the next row in trace
 * order, so events of one instant (a race in zero time) stay apart, and
 * the left margin gives the simulated time wherever it changes.
 *
 * The writer is a trace sink that keeps what it will draw (bounded: the
 * first DIAGRAM_MAX_LANES lines and DIAGRAM_MAX_ROWS rows, the rest
 * counted in a note); diagram_finish writes the whole file. Everything
 * written is a function of the events, so the same run writes the same
 * bytes. Classes in the SVG (for tests and style sheets): lane, chan,
 * net, drop, fault, panic, exit, time.
 */
#ifndef CHANSIM_DIAGRAM_H
#define CHANSIM_DIAGRAM_H

#include <stdbool.h>
#include <stdio.h>

#include "sched.h"

#define DIAGRAM_MAX_LANES 64
#define DIAGRAM_MAX_ROWS 4000

typedef struct diagram diagram_t;

diagram_t *diagram_create(void);
void diagram_destroy(diagram_t *d);
/* The trace sink (ud = the diagram). */
void diagram_sink(void *ud, const trace_event_t *ev);
/* Write the SVG to f; s (may be NULL) names the nodes. False if a write
 * failed. */
bool diagram_write(diagram_t *d, sched_t *s, const char *scenario, FILE *f);

#endif
