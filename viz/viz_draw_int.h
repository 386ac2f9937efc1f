/*
 * viz_draw_int: helpers shared by the drawing files of the view (the main
 * area in viz_draw.c, the header, side panel, timeline and overlays in
 * viz_chrome.c). Internal to viz/.
 */
#ifndef CHANSIM_VIZ_DRAW_INT_H
#define CHANSIM_VIZ_DRAW_INT_H

#include "viz_draw.h"

/* n pixels at scale 1, scaled to the layout. */
int viz_px(const viz_layout_t *L, int n);
/* The colour of an entity's state word ("open", "idle", "crashed"). */
uint32_t viz_state_color(const char *state);
/* The colour of an entity's state: a breaker's own, else by the word. */
uint32_t viz_entity_state_color(const viz_sent_t *e);
/* Text on a coloured box. */
void viz_badge(viz_gfx_t *g, viz_font_t f, int x, int y, int maxw, const char *text, uint32_t bg);
/* A white card with its outline (and the selection's). */
void viz_card(viz_gfx_t *g, SDL_Rect r, bool selected);
/* A bar of len over cap. */
void viz_bar(viz_gfx_t *g, SDL_Rect r, int64_t len, int64_t cap, uint32_t fill, bool closed);
/* A field's value as text (durations for times). */
void viz_format_field(const char *name, int64_t v, char *buf, size_t size);
bool viz_selected(const viz_frame_t *f, const viz_item_t *it);
/* "Mutex", "WaitGroup", ... for an object kind. */
const char *viz_lock_kind_name(int kind);
/* A breaker's state: 0 closed, 1 half-open, 2 open, -1 unknown. */
int viz_breaker_state(const char *s);
/* Time until an open breaker turns half-open, or -1. */
simtime_t viz_breaker_left(const viz_sent_t *e, simtime_t now);
bool viz_node_is_leader(const viz_sent_t *e);
const viz_sent_t *viz_node_leadership(const viz_snap_t *sn, const viz_sent_t *node);
void viz_sparkline(viz_gfx_t *g, const viz_layout_t *L, SDL_Rect r, const viz_series_t *s, simtime_t p);
/* The world (viz_nodes.c): a cluster's row, a node, the links between
 * nodes (messages: the dots travelling on them, drawn last). */
void viz_draw_cluster(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                      const viz_item_t *it);
void viz_draw_node(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                   const viz_frame_t *f, const viz_item_t *it);
void viz_draw_links(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                    const viz_frame_t *f, bool messages);
/* The point at fraction t along the link from node a to node b (by
 * name), as drawn; false if they are not joined. */
bool viz_link_point(const viz_layout_t *L, const viz_snap_t *sn, const char *a, const char *b, double t, float *x,
                    float *y);
/* The fault menu over everything (viz_inject.c). */
void viz_draw_menu(viz_gfx_t *g, const viz_layout_t *L, const viz_menu_t *m);
/* Who waits on what (viz_waits.c). A path between two items (a cubic
 * curve, 8 floats: start, two controls, end), leaving a at ax_frac of its
 * width and entering b at bx_frac of its width, gap pixels short of b. */
void viz_wait_path(SDL_Rect a, SDL_Rect b, float ax_frac, float bx_frac, float gap, float pts[8]);
/* The same between a stage of the flow and a channel of the flow: always
 * from side to side (a stage's side level with the channel). */
void viz_flow_path(SDL_Rect a, SDL_Rect b, float gap, float pts[8]);
void viz_path_point(const float p[8], double t, float *x, float *y);
void viz_draw_path(viz_gfx_t *g, const float p[8], double t0, double t1, float thick, uint32_t rgb, float head);
/* Where a goroutine is drawn (its token, or its worker's), or NULL. */
const viz_item_t *viz_g_item(const viz_layout_t *L, const viz_snap_t *sn, uint64_t gid);
/* g is blocked in a deadlock: the run ended in one, or g's wait is on a
 * cycle of locks and holders. */
bool viz_in_deadlock(const viz_snap_t *sn, const viz_frame_t *f, const viz_sg_t *g);
/* The arrows from blocked goroutines and from held locks. */
void viz_draw_waits(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f);
/* Time left as a clock reads it: tenths of a second, ms under a second. */
void viz_format_left(simtime_t left, char *buf, size_t size);
/* A bar along r's bottom edge that empties from `from` to `until`. */
void viz_draw_countdown(viz_gfx_t *g, const viz_layout_t *L, SDL_Rect r, simtime_t from, simtime_t until,
                        simtime_t p, uint32_t fill);
/* An entity's published expiry (docs/view.md): a field "deadline_ns",
 * "expires_at" or "..._until" holding a simulated time still ahead of now
 * (a breaker's open_until is its dial's). *from is when that value was
 * set (from the field's history), or the expiry minus a "ttl" field in
 * seconds, or now. */
bool viz_entity_expiry(const viz_sent_t *e, const viz_track_t *tr, simtime_t now, simtime_t *from, simtime_t *until);
/* Header, side panel, timeline and overlays (viz_chrome.c). */
void viz_draw_chrome(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                     const viz_frame_t *f);
/* The per-goroutine lanes (viz_lanes_draw.c), in their band. */
void viz_draw_lanes(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                    const viz_frame_t *f);
/* The lanes' time axis: the story's span (viz_lanes_story_end and the
 * last marker that is not chatter, with a margin, rounded) when it is
 * well short of the timeline's extent, else the extent. */
simtime_t viz_lanes_extent(const struct viz_lanes *ls, const viz_track_t *tr, simtime_t extent);
/* The time of the timeline's x (and back). */
int viz_timeline_x(const viz_layout_t *L, simtime_t t, simtime_t extent);
/* Whether a marker of this kind passes the filter (a set of 1 << kind,
 * panics counted as failures; 0: every kind). */
bool viz_mark_shown(unsigned filter, int kind);
/* The last marker that tells the story: not the end, not chatter (0: none). */
simtime_t viz_marks_story_end(const viz_track_t *tr);
/* A round step (1, 2 or 5 times a power of ten) giving at most max_ticks. */
simtime_t viz_nice_step(simtime_t extent, int max_ticks);
simtime_t viz_timeline_t(const viz_layout_t *L, int x, simtime_t extent);

#endif
