/*
 * viz_gfx: drawing primitives of the view on an SDL renderer: filled and
 * outlined shapes, dial sectors, thick lines, and text in the DejaVu fonts
 * with a cache of rendered strings.
 *
 * Everything here draws with integer or single-precision geometry through
 * SDL's renderer (SDL_RenderGeometry for polygons), so the software
 * renderer gives the same pixels for the same calls on every run. Sizes
 * passed in are already scaled; the font sizes follow viz_gfx_set_scale.
 *
 * Ownership: viz_gfx_create borrows the renderer for the life of the
 * object; viz_gfx_destroy frees the fonts and cached textures (before the
 * renderer is destroyed).
 */
#ifndef CHANSIM_VIZ_GFX_H
#define CHANSIM_VIZ_GFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

typedef struct viz_gfx viz_gfx_t;

/* Text styles, each a font and a size at scale 1 (a 1280x720 frame). */
typedef enum viz_font {
    VIZ_FONT_TITLE, /* the scenario's name, the clock */
    VIZ_FONT_LARGE, /* state words on dials and nodes */
    VIZ_FONT_BOLD,  /* card titles, tags */
    VIZ_FONT_BODY,  /* labels */
    VIZ_FONT_SMALL, /* counts, axis labels */
    VIZ_FONT_MONO,  /* the event list */
    VIZ_FONT_COUNT
} viz_font_t;

/* Shapes that tell states apart without colour. */
typedef enum viz_shape {
    VIZ_SHAPE_CIRCLE,   /* running */
    VIZ_SHAPE_TRIANGLE, /* ready to run (a "play" triangle) */
    VIZ_SHAPE_SQUARE,   /* blocked on a channel */
    VIZ_SHAPE_DIAMOND,  /* blocked in select */
    VIZ_SHAPE_RING,     /* sleeping (a clock face) */
    VIZ_SHAPE_BAR,      /* waiting for a lock or a group (a bar: "locked") */
    VIZ_SHAPE_HEX,      /* waiting on something else */
    VIZ_SHAPE_CROSS,    /* failed */
} viz_shape_t;

/* Create for renderer r with the fonts found in font_dir (NULL: the
 * CHANSIM_FONT_DIR environment variable, else Debian's fonts-dejavu-core
 * folder). Returns NULL and fills err if a font is missing. */
viz_gfx_t *viz_gfx_create(SDL_Renderer *r, const char *font_dir, char *err, size_t errsize);
void viz_gfx_destroy(viz_gfx_t *g);
/* Scale every font (1.0 for a 720-pixel-high frame); reopens the fonts
 * when the scale changes. Returns false and fills err on failure. */
bool viz_gfx_set_scale(viz_gfx_t *g, double scale, char *err, size_t errsize);
double viz_gfx_scale(const viz_gfx_t *g);
/* A length of n pixels at scale 1, scaled (at least 1 if n > 0). */
int viz_gfx_px(const viz_gfx_t *g, int n);
/* Start a frame: cached text not used for a while is released. */
void viz_gfx_begin_frame(viz_gfx_t *g);
SDL_Renderer *viz_gfx_renderer(viz_gfx_t *g);

void viz_gfx_fill_rect(viz_gfx_t *g, int x, int y, int w, int h, uint32_t rgb);
void viz_gfx_rect(viz_gfx_t *g, int x, int y, int w, int h, int thick, uint32_t rgb);
void viz_gfx_fill_circle(viz_gfx_t *g, int cx, int cy, int r, uint32_t rgb);
void viz_gfx_ring(viz_gfx_t *g, int cx, int cy, int r, int thick, uint32_t rgb);
/* A convex polygon of n points (xy pairs). */
void viz_gfx_fill_poly(viz_gfx_t *g, const float *xy, int n, uint32_t rgb);
void viz_gfx_line(viz_gfx_t *g, float x0, float y0, float x1, float y1, float thick, uint32_t rgb);
/* The part of a ring between radii r0 < r1 and angles a0 < a1 (radians,
 * 0 pointing right, growing clockwise on screen). */
void viz_gfx_sector(viz_gfx_t *g, int cx, int cy, int r0, int r1, double a0, double a1, uint32_t rgb);
/* A state shape of the given size (its bounding square) centred on cx, cy,
 * filled with rgb and outlined in ink. */
void viz_gfx_shape(viz_gfx_t *g, viz_shape_t s, int cx, int cy, int size, uint32_t rgb, uint32_t ink);

/* Draw text with its top-left corner at x, y; returns its width. */
int viz_gfx_text(viz_gfx_t *g, viz_font_t f, uint32_t rgb, int x, int y, const char *s);
/* Text cut to at most maxw pixels (ending in an ellipsis when cut). */
int viz_gfx_text_fit(viz_gfx_t *g, viz_font_t f, uint32_t rgb, int x, int y, int maxw, const char *s);
/* s told whole where it can be: in the largest font from f down to fmin
 * (by the enum's order) in which it fits; else a dotted name's qualifiers
 * cut to their first letter ("ParallelStage.collector" becomes
 * "P.collector"); else its middle elided, start and end kept (the end
 * tells worker-11 from worker-12). Returns the text (s or buf) and sets
 * *fo to its font. */
const char *viz_gfx_fit_whole(viz_gfx_t *g, viz_font_t f, viz_font_t fmin, int maxw, const char *s, char *buf,
                              size_t size, viz_font_t *fo);
/* Draw viz_gfx_fit_whole's text at x, y (centred on the height of f's
 * line); returns its width. */
int viz_gfx_text_whole(viz_gfx_t *g, viz_font_t f, viz_font_t fmin, uint32_t rgb, int x, int y, int maxw,
                       const char *s);
/* Text centred on cx within maxw pixels. */
void viz_gfx_text_center(viz_gfx_t *g, viz_font_t f, uint32_t rgb, int cx, int y, int maxw, const char *s);
int viz_gfx_text_width(viz_gfx_t *g, viz_font_t f, const char *s);
int viz_gfx_line_height(viz_gfx_t *g, viz_font_t f);

/* Black or white, whichever reads better on rgb. */
uint32_t viz_gfx_ink_on(uint32_t rgb);
/* rgb mixed towards the ground colour by t in [0, 1] (faded). */
uint32_t viz_gfx_mix(uint32_t rgb, uint32_t to, double t);

#endif
