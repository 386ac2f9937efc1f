/*
 * viewrun: `chansim run --view` and `chansim run --record DIR`: a scenario
 * run under the view (viz/). The host (Lua) and the view (SDL) meet only
 * here, so viz/ knows nothing of Lua and the host nothing of SDL.
 *
 * The view observes the run through the host's observers: a trace sink, a
 * step observer and a clock observer (host_add_sink,
 * host_add_step_observer, host_add_clock_observer). Seeking backwards is
 * deterministic re-execution: the run is stopped (sched_exit) and the
 * scenario runs again from the start with the same options (seed, policy,
 * --set values, replayed schedule), the view fast-forwarding to the target.
 * The runs are all equal up to where each stops, so the program's output
 * is passed on once: a run's bytes already printed by an earlier run are
 * skipped. The run left at the end (and summarised) is always a complete
 * one: closing the window lets the run go on to its end without it.
 *
 * The scenario first runs once silently (its output and reports
 * withheld), to learn where the run ends and where its markers are, so the
 * timeline shows the whole run from the first frame; then it runs for the
 * view. A window's first pass gives up after two seconds of wall time (the
 * timeline then grows as the run goes).
 *
 * Ownership: the caller owns the viewrun_t (viewrun_init/deinit); the host
 * returned by viewrun_run is the caller's to destroy, before
 * viewrun_deinit.
 */
#ifndef CHANSIM_VIEWRUN_H
#define CHANSIM_VIEWRUN_H

#include <stdbool.h>
#include <stdio.h>

#include "host.h"
#include "outputs.h"

/* The settings are set by the run options' table (runopts.c). */
typedef struct viewrun {
    bool live;              /* --view */
    const char *record_dir; /* --record DIR (borrowed from argv) */
    int fps;                /* --fps N */
    int width, height;      /* --size WxH */
    double speed;           /* --speed X */
    double slowdown;        /* --slowdown X (0: the view's default) */
    const char *script;     /* --view-script "cmd,cmd,..." (borrowed) */
    bool paused;            /* --paused */
    bool record_steps;      /* --record-steps */
    bool lanes;             /* --lanes */
    unsigned markers;       /* --markers KINDS: VIZ_MARKS_ bits (0: all) */
    const struct viz_story *story; /* replay FILE: the decisive steps to show (borrowed) */
    bool mute_reports;      /* the run's reports on stderr were printed already (replay FILE) */
    struct viz *viz;        /* the view while it lives */
    FILE *out;              /* the program's output, passed on once */
    struct viewrun_out *sink_state;
} viewrun_t;

void viewrun_init(viewrun_t *vr);
void viewrun_deinit(viewrun_t *vr);
/* --view or --record was given. */
bool viewrun_wanted(const viewrun_t *vr);
/* Run the scenario under the view; outs holds the outputs' settings and is
 * attached to the run that is kept. Returns that run's host with *status
 * as host_run's, or NULL (and *status) if the view or the outputs could
 * not start or the scenario did not load (reported on stderr). */
host_t *viewrun_run(viewrun_t *vr, const host_options_t *opt, outputs_t *outs, int *status);

#endif
