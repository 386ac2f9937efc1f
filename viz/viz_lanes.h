/*
 * viz_lanes: per-goroutine timeline lanes, as Go's execution tracer draws
 * them: one lane per goroutine along the run's time axis, coloured by
 * what the goroutine did (working on a CPU, runnable, blocked on a
 * channel, in select, sleeping, waiting for a lock), a tick where it ran,
 * and what it blocked on written in the bar when there is room.
 *
 * The lanes are learnt from the trace, like the timeline's markers: over
 * every restart of the run (a seek backwards re-executes from the start),
 * an event is taken only beyond the last one taken, so the view's first
 * pass knows the whole run and the lanes show what lies ahead (faded).
 * The first VIZ_LANES_KEEP goroutines are followed; each keeps at most
 * VIZ_LANE_SEGS changes. Drawing aggregates per pixel column, so periodic
 * chatter (a ticker, keep-alives) makes a band of ticks, never a wall of
 * labels.
 *
 * Ownership: viz_lanes_create returns lanes freed by viz_lanes_destroy.
 */
#ifndef CHANSIM_VIZ_LANES_H
#define CHANSIM_VIZ_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"
#include "viz_snap.h"

#define VIZ_LANES_KEEP 64
#define VIZ_LANE_SEGS 8192
#define VIZ_LANES_ROWS_MAX 8 /* lanes drawn at most */
#define VIZ_LANE_KINDS 16    /* kinds of wait a lane remembers */

/* A lane's states: the goroutine states of viz_snap.h, and these. */
enum {
    VIZ_LANE_RUN = VIZ_G_STATE_COUNT, /* it ran (no simulated time passes) */
    VIZ_LANE_EXIT,                     /* it has exited */
};

typedef struct viz_lseg {
    simtime_t t;       /* from when */
    uint64_t obj;      /* what it blocked on, or 0 */
    uint8_t st;        /* viz_gstate_t or VIZ_LANE_ */
    uint8_t reason;    /* the wait reason of a block */
} viz_lseg_t;

typedef struct viz_lane {
    uint64_t g;
    char name[48];
    viz_lseg_t *seg;
    uint32_t n, cap;
    bool cpu_pending;  /* took a simulated CPU: its next sleep is work */
    uint64_t seen[VIZ_LANE_KINDS]; /* the kinds of wait it has been in */
    uint32_t nseen;
} viz_lane_t;

typedef struct viz_lanes viz_lanes_t;

viz_lanes_t *viz_lanes_create(void);
void viz_lanes_destroy(viz_lanes_t *ls);
/* Take one trace event (a sink). */
void viz_lanes_event(viz_lanes_t *ls, const trace_event_t *ev);
/* The lanes in creation order, and how many goroutines were not followed. */
size_t viz_lanes_list(const viz_lanes_t *ls, const viz_lane_t **list, uint64_t *others);
/* The end of the story the lanes tell: the last time a followed
 * goroutine was spawned, exited, or waited in a way it had not waited
 * before (a state on an object new to it), before the run's end `end`
 * (main exiting as the run ends tells nothing). A goroutine that only
 * goes round the same waits (a ticker, keep-alives) adds nothing past its
 * first round; 0 when nothing was followed. */
simtime_t viz_lanes_story_end(const viz_lanes_t *ls, simtime_t end);
/* The lane of goroutine g, or NULL. */
const viz_lane_t *viz_lanes_find(const viz_lanes_t *ls, uint64_t g);

#endif
