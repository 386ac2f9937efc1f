/*
 * viz_draw: draws one frame from a snapshot, its layout and the tracker.
 *
 * Drawing reads and never writes: the snapshot, the tracker (frozen while
 * the simulation is stopped in a hook) and the frame's own facts (the
 * playhead, the timeline's extent, what is selected). Everything that moves
 * between two snapshots (the clock, items travelling along a channel or a
 * link, the playhead) is a function of the playhead's simulated time only,
 * so a recorded frame depends on nothing else and a run recorded twice
 * gives the same pixels.
 */
#ifndef CHANSIM_VIZ_DRAW_H
#define CHANSIM_VIZ_DRAW_H

#include <stdbool.h>

#include "viz.h"
#include "viz_gfx.h"
#include "viz_layout.h"
#include "viz_snap.h"
#include "viz_track.h"

/* The window's menu of faults to inject into a node or a link
 * (viz_inject.c): where it is and what each row does. */
#define VIZ_MENU_ITEMS 6
typedef struct viz_menu {
    bool open;
    int x, y, w, row_h, head_h;
    int n;
    char title[96];
    char label[VIZ_MENU_ITEMS][64];  /* "crash", "cut node1 - node2" */
    char what[VIZ_MENU_ITEMS][96];   /* the fault: "crash node1", "partition a | b" */
} viz_menu_t;

typedef struct viz_frame {
    simtime_t p;             /* the playhead: the instant shown */
    simtime_t extent;        /* the timeline's right end */
    simtime_t known_end;     /* where the run ends if known, else -1 */
    simtime_t flash_ns;      /* how long an operation stays animated */
    simtime_t msg_ns;        /* the least time a message between nodes is
                                drawn travelling (and a lost one dying) */
    double slow;             /* playback slowed by this factor around a fault
                                or failure (0 or 1: not slowed) */
    const char *title;       /* the scenario's name */
    const char *status;      /* "paused", "playing 2x", "recording", ... */
    bool live;               /* a window: hints for the keys */
    bool help;               /* the keys overlay */
    bool has_sel;            /* an item is selected */
    viz_item_kind_t sel_kind;
    uint64_t sel_id;
    const char *toast;       /* a short message ("saved shot.png") or NULL */
    const viz_menu_t *menu;  /* the fault menu, or NULL */
    const char *outcome;     /* how the run ended, once p reached its end */
    bool outcome_failed;     /* the end is a failure (deadlock, panic) */
    const viz_story_t *story; /* a reproducer's decisive steps, or NULL */
    int story_at;            /* the row reached (-1: none yet) */
    const struct viz_lanes *lanes; /* per-goroutine lanes to draw, or NULL */
    unsigned mark_filter;    /* the timeline's marker kinds shown (1 << VIZ_MARK_...); 0: all */
} viz_frame_t;

void viz_draw(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
              const viz_frame_t *f);

/* Format simulated time for the clock ("12.345 s"). */
void viz_format_clock(simtime_t t, simtime_t extent, char *buf, size_t size);

#endif
