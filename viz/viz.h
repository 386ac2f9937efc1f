/*
 * viz: the view of a run, live in a window or recorded as PNG frames.
 *
 * The view observes a run through three callbacks the host attaches to the
 * scheduler: a trace sink (viz_on_event), a step hook (viz_on_step, after
 * every goroutine step) and a clock hook (viz_on_clock, before the clock
 * jumps). It only reads: it never changes simulation state, so a run with
 * the view has the same trace hash as a run without.
 *
 * Recording (VIZ_RECORD): frames are sampled at fixed simulated-time
 * intervals (speed / fps seconds apart). When the clock is about to jump
 * from `from` to `to`, every event up to `from` has happened and nothing
 * happens before `to`, so the frames due in [from, to) are drawn from the
 * state as it is, then written as frame_000001.png, frame_000002.png, ...
 * Nothing but simulated time decides what a frame shows: a run recorded
 * twice gives identical files. The recorder needs no display (SDL's
 * software renderer draws into a surface).
 *
 * Live (VIZ_WINDOW): the hooks are where the view's loop runs, raylib
 * style: poll input, let the simulation advance as far as the playhead
 * allows (by returning from the hook), take a snapshot, draw only from the
 * snapshot, present. Paused, the loop stays in the hook; stepping returns
 * until the next goroutine step. Seeking forward lets the run go on
 * without drawing to the target; seeking backwards asks the host to stop
 * this run (viz_restart_requested) and run the scenario again from the
 * start with the same seed and policy: the view then fast-forwards to the
 * target, which is deterministic re-execution.
 *
 * Conventions for entities a pattern publishes (see docs/view.md): a
 * breaker (kind "breaker") has the state closed, open or half-open and the
 * fields failure_count, success_count, failure_threshold,
 * success_threshold and open_until; a queue (kind "queue", or any entity
 * with depth and capacity fields) is drawn as a bar; a node (kind "node")
 * is the leader when its state is "leader" or its field leader is not 0,
 * with its term in the field term; an entity with children (a pool and its
 * workers) is a panel of their tokens; goroutines whose role is a node's
 * name are drawn on that node.
 *
 * Ownership: viz_create returns a view the caller frees with viz_destroy
 * (after the observed scheduler is destroyed or detached).
 */
#ifndef CHANSIM_VIZ_H
#define CHANSIM_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"
#include "trace.h"

typedef struct viz viz_t;

typedef enum viz_mode {
    VIZ_WINDOW,    /* a window driven by keys and the mouse */
    VIZ_RECORD,    /* PNG frames into a folder; no display needed */
    VIZ_OFFSCREEN, /* frames in memory only (tests: viz_render, viz_pixel) */
} viz_mode_t;

/* Kinds of the timeline's markers, for viz_options_t.markers (a failure
 * is a failed expectation, a panic or a fatal error). */
#define VIZ_MARKS_STATE (1u << 0)
#define VIZ_MARKS_FAULT (1u << 1)
#define VIZ_MARKS_EVENT (1u << 2)
#define VIZ_MARKS_FAILURE (1u << 3)
#define VIZ_MARKS_END (1u << 5)

typedef struct viz_options {
    viz_mode_t mode;
    int width, height;       /* window or frame size; 0: 1280 x 720 */
    int fps;                 /* recorded frames per second of video; 0: 30 */
    double speed;            /* simulated seconds per second of video (record), or
                                the initial playback speed (window); 0: 1 */
    const char *record_dir;  /* VIZ_RECORD: the folder, made if missing; borrowed */
    const char *script;      /* VIZ_WINDOW: scripted input, e.g.
                                "wait 1s,space,s,shot a.png,end,quit"; borrowed */
    const char *font_dir;    /* NULL: $CHANSIM_FONT_DIR, else fonts-dejavu-core's */
    bool paused;             /* VIZ_WINDOW: start paused */
    bool record_steps;       /* VIZ_RECORD: also a frame after every goroutine step, so
                                that what happens at one instant gets a frame per step */
    bool lanes;              /* per-goroutine timeline lanes above the timeline */
    unsigned markers;        /* the timeline's marker kinds shown, VIZ_MARKS_ bits; 0: all */
    const char *faults_path; /* VIZ_WINDOW: the run's --faults file, continued by injected faults */
    double slowdown;         /* play this many times slower around a fault or a
                                failure (known from the first pass); 0: 4, 1: never */
} viz_options_t;

/* The decisive steps of a failing run (a reproducer's explanation): one
 * row per step, in the order they happened, each in its goroutine's lane.
 * The last row is where the run fails. Recorded, such a run gets one
 * frame per row (and one at its end) instead of frames at fixed times; in
 * a window, the decision key goes from row to row. */
#define VIZ_STORY_LANES 8
#define VIZ_STORY_ROWS 32
typedef struct viz_story_row {
    uint64_t step;           /* the goroutine step it happened in (sched_steps) */
    int lane;                /* its goroutine's lane */
    char text[96];           /* what it did: "read balance", "Lock mu", "preempted" */
    char site[64];           /* where, "check_then_act.lua:22", or "" */
} viz_story_row_t;

typedef struct viz_story {
    char about[120];                     /* what the steps touch ("balance") */
    char failure[160];                   /* how the run fails */
    int nlanes;
    char lanes[VIZ_STORY_LANES][48];     /* "g3 withdraw2" */
    uint64_t lane_g[VIZ_STORY_LANES];    /* their goroutines */
    int nrows;
    viz_story_row_t rows[VIZ_STORY_ROWS];
} viz_story_t;

/* The view's fault schedule once a fault was injected by clicking (the
 * file chansim-faults.txt), else NULL: the host runs again with it. */
const char *viz_faults_path(const viz_t *v);

/* Open the window or the offscreen surface. Returns NULL and fills err
 * (no display, no font, a folder that cannot be made). */
viz_t *viz_create(const viz_options_t *opt, char *err, size_t errsize);
void viz_destroy(viz_t *v);

/* A run starts on s (not yet running). survey: this run only collects the
 * timeline's markers and the run's end (a recorder's first pass), draws
 * nothing. Attach viz_on_event as a trace sink, viz_on_step and
 * viz_on_clock as the step and clock observers, with v as their ud. */
void viz_run_begin(viz_t *v, sched_t *s, bool survey);
/* The scenario's name, for the header (copied). */
void viz_set_title(viz_t *v, const char *title);
/* The decisive steps to show and step through (copied; NULL: none). */
void viz_set_story(viz_t *v, const viz_story_t *story);
/* The observers. */
void viz_on_event(void *ud, const trace_event_t *ev);
void viz_on_step(void *ud);
void viz_on_clock(void *ud, simtime_t from, simtime_t to);
/* A failed expectation or invariant the host saw (text copied): a marker.
 * seq is the trace position (sched_trace_events - 1). */
void viz_mark_failure(viz_t *v, simtime_t t, uint64_t seq, const char *text);
/* The run ended (its scheduler still alive): outcome in words, failed if
 * it is a failure. A recorder writes its last frames; a window shows the
 * end until the user closes it or seeks back. Returns false if a frame
 * could not be written (the error is printed). */
bool viz_run_end(viz_t *v, const char *outcome, bool failed);
/* The scheduler is about to be destroyed. */
void viz_run_detach(viz_t *v);

/* The user asked to go back in time: stop this run (sched_exit), start it
 * again from the beginning and call viz_run_begin: the view fast-forwards
 * to where it was asked to go. */
bool viz_restart_requested(const viz_t *v);
/* The window was closed: the view ignores the rest of the run. */
bool viz_closed(const viz_t *v);
/* Recorder: frames written so far, and the first write error. */
uint64_t viz_frames_written(const viz_t *v);
const char *viz_error(const viz_t *v);

/* ---- for tests and tools -------------------------------------------------- */

typedef struct viz_box {
    int x, y, w, h;
} viz_box_t;

/* Draw the observed run's current state with the playhead at t into the
 * frame buffer (VIZ_OFFSCREEN or VIZ_RECORD). */
bool viz_render(viz_t *v, simtime_t t);
/* The colour 0xRRGGBB of a pixel of the last frame drawn. */
uint32_t viz_pixel(const viz_t *v, int x, int y);
/* Where the last frame drew an item: kind is "goroutine", "chan",
 * "queue", "breaker", "node", "entity" (any card) or "lock"; name its
 * name. whole: the item; part: its telling part (a token's body, a bar, a
 * dial's hub, a node's crown). False if not drawn. */
bool viz_find(const viz_t *v, const char *kind, const char *name, viz_box_t *whole, viz_box_t *part);
/* The link between nodes a and b as the last frame drew it: n points (x, y
 * pairs into xy) evenly spaced along it from a to b. False if not drawn. */
bool viz_link_points(const viz_t *v, const char *a, const char *b, int *xy, int n);
/* Save the last frame as PNG. */
bool viz_save_png(const viz_t *v, const char *path, char *err, size_t errsize);
/* The frame size. */
void viz_size(const viz_t *v, int *w, int *h);

#endif
