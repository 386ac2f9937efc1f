/*
 * viz_int: the view's state, shared by viz.c (life cycle, observers,
 * recording, test access) and viz_live.c (the window's loop, input and
 * scripted input). Internal to viz/.
 */
#ifndef CHANSIM_VIZ_INT_H
#define CHANSIM_VIZ_INT_H

#include <SDL.h>

#include "viz.h"
#include "viz_draw.h"
#include "viz_gfx.h"
#include "viz_lanes.h"
#include "viz_layout.h"
#include "viz_snap.h"
#include "viz_track.h"

#define VIZ_SPEEDS 15       /* entries of the speed table, the last "as fast as it runs" */
#define VIZ_SCRIPT_MAX 128  /* commands of a scripted input */

struct viz {
    viz_mode_t mode;
    int width, height;      /* frame (record, offscreen) or initial window size */
    int fps;
    double speed;
    double slowdown;        /* around faults and failures; 1: never */
    char *record_dir;       /* owned: a folder of PNG frames, or a movie's file */
    struct viz_movie *movie; /* recording into a GIF or an MP4 */
    char *font_dir;         /* owned, or NULL */
    SDL_Window *win;        /* VIZ_WINDOW */
    SDL_Renderer *ren;
    SDL_Surface *surf;      /* VIZ_RECORD, VIZ_OFFSCREEN: the frame */
    bool sdl_video;         /* SDL_Init(SDL_INIT_VIDEO) done by us */
    viz_gfx_t *gfx;
    viz_track_t *tr;
    struct viz_lanes *lanes; /* the per-goroutine lanes, learnt over every run */
    bool show_lanes;        /* draw them */
    unsigned mark_filter;   /* the timeline's marker kinds shown (1 << VIZ_MARK_...); 0: all */
    viz_snap_t *snap;
    viz_layout_t lay;
    bool lay_valid;         /* lay matches snap and the size */
    bool snap_stale;        /* window: the run moved since the snapshot */
    bool snap_mid;          /* ... and stopped between two steps of an instant */
    int lay_w, lay_h;
    sched_t *s;             /* the observed run, or NULL */
    bool survey;            /* this run only collects markers */
    char title[160];
    simtime_t known_end;    /* where a complete run ends, -1 unknown */
    bool ended;             /* the current run ended */
    simtime_t end_t;
    char outcome[200];
    bool outcome_failed;
    char error[512];        /* first recording error */
    char status[96];        /* the header's play state */

    /* recording */
    simtime_t frame_ns;     /* simulated time between frames */
    uint64_t frames;        /* written so far */
    simtime_t next_frame;   /* time of the next frame */
    bool last_at_end;       /* a frame was drawn at the run's end */
    bool record_steps;      /* a frame after every goroutine step too */
    viz_story_t *story;     /* owned: the decisive steps, or NULL */
    int story_next;         /* recording: the next row to draw */
    int story_at;           /* the row a recorded frame shows (-1: none) */

    /* live */
    simtime_t p;            /* the playhead */
    bool playing;
    int speed_idx;          /* into the speed table */
    bool step_req;          /* run one step, then stop */
    bool stop_at_step;
    bool next_req;          /* run to the next marker */
    bool stop_at_mark;
    bool decision_req;      /* run to the next decision (or decisive step) */
    bool stop_at_decision;
    uint64_t decision_base; /* choice points (or steps) when it was asked */
    bool seeking;           /* going to seek_target */
    simtime_t seek_target;
    bool restart_req;
    bool closed;
    bool help;
    bool has_sel;
    viz_item_kind_t sel_kind;
    uint64_t sel_id;
    viz_menu_t menu;        /* the fault menu (viz_inject.c) */
    char *faults_text;      /* the schedule of faults: the given one, then those injected */
    size_t faults_len;
    char faults_file[1024]; /* where it was written ("" until a fault is injected) */
    char toast[1600];
    uint64_t toast_until;   /* wall ms */
    uint64_t wall_last;     /* wall ms of the last playhead advance */
    uint64_t wall_drawn;    /* wall ms of the last frame presented */
    bool dirty;             /* something changed since the last frame presented
                               (input, a toast, the run): paused, an unchanged
                               frame is not drawn again */
    bool toast_drawn;       /* the last frame presented showed the toast */
    uint64_t steps_since_poll;
    bool shot_req;
    char shot_path[1024];   /* "" : a fresh chansim-shot-N.png */
    /* scripted input */
    char *script[VIZ_SCRIPT_MAX];
    int nscript, script_pos;
    uint64_t script_wait_until;
    bool script_wait_end;
};

/* Speeds: simulated seconds per wall second (the last: unlimited). */
double viz_speed_of(int idx);
/* The goroutine lanes the layout makes room for (0: none shown). */
int viz_lanes_rows(const viz_t *v);
/* Make sure snap and layout show the current state of the run. */
void viz_refresh(viz_t *v, bool mid_instant);
/* Fill a frame's facts for the playhead p. */
void viz_frame_facts(viz_t *v, viz_frame_t *f, simtime_t p);
/* How many times slower playback goes at simulated time t (1: not
 * slowed): around faults and failures, from a little before to a
 * second of playback (at speed sp) after. */
double viz_slow_at(const viz_t *v, simtime_t t, double sp);
/* The timeline's extent. */
simtime_t viz_extent(const viz_t *v, simtime_t p);
/* The story's row the run has reached: the last whose step has run (-1:
 * none yet, or no story). */
int viz_story_reached(const viz_t *v);

/* viz_inject.c: faults injected by clicking. */
void viz_inject_init(viz_t *v, const char *given);
void viz_inject_deinit(viz_t *v);
/* A click on a node or a link opens the menu (true if it did). */
bool viz_inject_open(viz_t *v, int x, int y);
/* A click while the menu is open: a row injects its fault; the menu closes.
 * True if the click was on the menu. */
bool viz_inject_click(viz_t *v, int x, int y);
/* The centre of the menu's row whose label starts with label. */
bool viz_inject_point(const viz_t *v, const char *label, int *x, int *y);

/* viz_live.c */
bool viz_live_open(viz_t *v, const viz_options_t *opt, char *err, size_t errsize);
void viz_live_close(viz_t *v);
void viz_live_clock(viz_t *v, simtime_t from, simtime_t to);
void viz_live_step(viz_t *v);
void viz_live_end(viz_t *v);
void viz_live_begin(viz_t *v);

#endif
