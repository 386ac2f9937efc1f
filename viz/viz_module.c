/* The view module's one export. See viz_module.h. */
#include "viz_module.h"

__attribute__((visibility("default"))) extern const viz_module_t chansim_view_module;

const viz_module_t chansim_view_module = {
    .abi = VIZ_MODULE_ABI,
    .create = viz_create,
    .destroy = viz_destroy,
    .run_begin = viz_run_begin,
    .set_title = viz_set_title,
    .on_event = viz_on_event,
    .on_step = viz_on_step,
    .on_clock = viz_on_clock,
    .mark_failure = viz_mark_failure,
    .run_end = viz_run_end,
    .run_detach = viz_run_detach,
    .restart_requested = viz_restart_requested,
    .frames_written = viz_frames_written,
    .set_story = viz_set_story,
    .faults_path = viz_faults_path,
};
