/*
 * viz_story: a reproducer's decisive steps drawn as a per-goroutine
 * timeline in the side panel (see viz_story.c). Internal to viz/.
 */
#ifndef CHANSIM_VIZ_STORY_H
#define CHANSIM_VIZ_STORY_H

#include "viz_draw.h"

/* Draw f->story from x, y within width w, above bottom; returns the y
 * below it. */
int viz_draw_story(viz_gfx_t *g, const viz_layout_t *L, const viz_frame_t *f, int x, int y, int w, int bottom);

#endif
