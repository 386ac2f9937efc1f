/*
 * trace_json: the run as a Chrome trace-event JSON document, which
 * Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * The writer is a trace sink: it turns each event into JSON lines as the
 * run goes, so memory stays bounded by the live goroutines and channels,
 * not by the length of the run. What it writes:
 *
 * - goroutines are threads (tid = goroutine id, named with "M"
 *   thread_name events, renamed if the program renames them), grouped
 *   into one process per role (the role a goroutine has when it first
 *   runs; no role: "goroutines"), pids from 10 in order of first use;
 * - each goroutine's life as slices, one open at a time (B/E): "running"
 *   from go.run to its block, yield or exit; a blocked slice named by
 *   Go's wait reason ("chan receive", "sync.Mutex.Lock", "sleep"; "work"
 *   while sim.work holds a simulated CPU) until it is woken; "runnable"
 *   (an X slice) when it waited to run after being woken;
 * - channel send -> receive as flow events (s/f, cat "chan"), a send and
 *   a receive paired per channel in FIFO order (sends by the scheduler,
 *   a timer's, start no arrow), go statements as flows (cat "spawn")
 *   from the spawner to the goroutine's first run, and messages between
 *   simulated nodes (cat "net") from the sender to the goroutine that
 *   takes the message from the destination's inbox;
 * - counters ("C"): buffered channels' lengths (pid 2 "channels"), metric
 *   values of counters and gauges (pid 3 "metrics"), simulated CPUs and
 *   other state numbers (pid 1 "chansim"), numeric fields of pattern
 *   entities (pid 4 "entities");
 * - pattern entities' state words ("closed", "open", "leader") as slices
 *   on one thread per entity (pid 4);
 * - instants ("i"): log lines, context cancellations and dropped messages
 *   on the thread that caused them; user events, panics, fatal errors,
 *   faults (partitions, crashes) and group kills as global instants.
 *
 * A flow's two ends always carry the same name and category, as Perfetto
 * pairs them by id, category and name. docs/outputs.md has the table.
 *
 * Timestamps are microseconds with the nanoseconds as three decimals
 * ("ts":1250.000 is 1.25 ms of simulated time). Everything written is a
 * function of the events, so the same run writes the same bytes.
 *
 * Ownership: the writer borrows the FILE it writes to; the caller opens,
 * commits or aborts it (outputs.c uses an atomic_file_t).
 */
#ifndef CHANSIM_TRACE_JSON_H
#define CHANSIM_TRACE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sched.h"

typedef struct trace_json trace_json_t;

/* A writer on f (borrowed until trace_json_destroy); writes the document's
 * opening at once. Caller owns; free with trace_json_destroy. */
trace_json_t *trace_json_create(FILE *f);
void trace_json_destroy(trace_json_t *j);

/* The trace sink (ud = the writer); install with host_add_sink. */
void trace_json_sink(void *ud, const trace_event_t *ev);

/* End the document at simulated time end: close the slices still open
 * (goroutines blocked for ever, entities' last states), then write the
 * closing with the run's facts in "otherData". scenario may be NULL.
 * Returns false if a write failed. */
bool trace_json_finish(trace_json_t *j, simtime_t end, const char *scenario, uint64_t seed,
                       uint64_t hash);

#endif
