/*
 * viz_module: the view as a module loaded only when it is asked for.
 *
 * The view needs SDL2, SDL2_ttf and through them X11, Wayland, audio and
 * font libraries: linked into chansim they would be loaded by every run,
 * most of which never open a window. So the view (the viz/ sources and this table)
 * is built as a shared module, chansim-view.so, that `chansim run --view`
 * and `--record` open with dlopen; every other command loads none of
 * those libraries. The module calls core (the scheduler it observes)
 * through the symbols the chansim executable exports, so there is one copy
 * of core in the process.
 *
 * The module exports one symbol, VIZ_MODULE_SYMBOL, a viz_module_t whose
 * abi field must equal VIZ_MODULE_ABI (a module from another build is
 * refused rather than called with the wrong layout).
 */
#ifndef CHANSIM_VIZ_MODULE_H
#define CHANSIM_VIZ_MODULE_H

#include "viz.h"

#define VIZ_MODULE_SYMBOL "chansim_view_module"
#define VIZ_MODULE_FILE "chansim-view.so"
/* Bump when viz_module_t, viz_options_t or the observed core types change. */
#define VIZ_MODULE_ABI 6

typedef struct viz_module {
    int abi;
    viz_t *(*create)(const viz_options_t *opt, char *err, size_t errsize);
    void (*destroy)(viz_t *v);
    void (*run_begin)(viz_t *v, sched_t *s, bool survey);
    void (*set_title)(viz_t *v, const char *title);
    void (*on_event)(void *ud, const trace_event_t *ev);
    void (*on_step)(void *ud);
    void (*on_clock)(void *ud, simtime_t from, simtime_t to);
    void (*mark_failure)(viz_t *v, simtime_t t, uint64_t seq, const char *text);
    bool (*run_end)(viz_t *v, const char *outcome, bool failed);
    void (*run_detach)(viz_t *v);
    bool (*restart_requested)(const viz_t *v);
    uint64_t (*frames_written)(const viz_t *v);
    void (*set_story)(viz_t *v, const viz_story_t *story);
    const char *(*faults_path)(const viz_t *v);
} viz_module_t;

#endif
