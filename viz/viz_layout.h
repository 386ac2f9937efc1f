/*
 * viz_layout: where everything goes, computed from a snapshot and the
 * frame's size.
 *
 * The layout is generic: it is driven by what the run contains, not by
 * which scenario runs. From top to bottom: the cluster's nodes (entities
 * of kind "node") in a row with their goroutines; the cards of the other
 * entities (circuit breakers as dials, queues as bars, entities with
 * children such as a pool and its workers as a panel of tokens, anything
 * else as a card of its state and fields); the goroutines not drawn on an
 * entity, grouped by role in creation order; the channels as bars; the
 * locks. When the goroutines do not fit they are drawn small, and what
 * still does not fit is counted ("+40 more"). Right of the main area is the
 * side panel (legend, details of the selected item, recent events); the
 * timeline runs along the bottom.
 *
 * The layout keeps each item's rectangle, so a click is hit-tested against
 * exactly what was drawn, and tests can find an item's pixels.
 *
 * Ownership: the caller owns the layout (viz_layout_init/deinit); item
 * pointers are valid until the next build.
 */
#ifndef CHANSIM_VIZ_LAYOUT_H
#define CHANSIM_VIZ_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "viz_snap.h"

typedef enum viz_item_kind {
    VIZ_ITEM_GOROUTINE, /* a goroutine token; id: goroutine */
    VIZ_ITEM_CHAN,      /* a channel's bar; id: channel */
    VIZ_ITEM_LOCK,      /* a lock; id: lock */
    VIZ_ITEM_BREAKER,   /* a breaker's dial; id: entity */
    VIZ_ITEM_QUEUE,     /* a queue's bar; id: entity */
    VIZ_ITEM_CLUSTER,   /* the row of a cluster's nodes; id: cluster entity or 0 */
    VIZ_ITEM_NODE,      /* a node; id: entity */
    VIZ_ITEM_PANEL,     /* an entity with children; id: entity */
    VIZ_ITEM_CHILD,     /* an entity drawn as a token in its panel; id: entity */
    VIZ_ITEM_ENTITY,    /* any other entity's card; id: entity */
    VIZ_ITEM_GROUP,     /* the heading of a goroutine group; label */
    VIZ_ITEM_MORE,      /* "+N more"; count */
    VIZ_ITEM_KIND_COUNT
} viz_item_kind_t;

typedef struct viz_item {
    viz_item_kind_t kind;
    uint64_t id;
    SDL_Rect r;          /* the whole item (what a click selects) */
    SDL_Rect part;       /* its telling part: a token's body, a bar, a
                            dial's hub, a node's crown */
    bool compact;        /* a goroutine drawn as a small shape */
    bool large;          /* a goroutine drawn large (few of them) */
    uint64_t parent;     /* node or panel it is drawn in, or 0 */
    int count;           /* VIZ_ITEM_MORE: how many were left out */
    char label[64];      /* VIZ_ITEM_GROUP: the heading */
} viz_item_t;

typedef struct viz_layout {
    int w, h;              /* the frame */
    double scale;          /* 1.0 at 720 pixels high */
    SDL_Rect header;       /* scenario name, clock, play state */
    SDL_Rect main;         /* the drawing of the run */
    SDL_Rect side;         /* legend, details, events */
    SDL_Rect timeline;     /* the timeline's band */
    SDL_Rect track;        /* the timeline's axis (time maps onto its x) */
    int lanes_rows;        /* set before a build: goroutine lanes to make room for (0: none) */
    int lanes_axis_h;      /* the strip under the lanes for their time axis */
    SDL_Rect lanes;        /* their band, above the timeline */
    viz_item_t *items;
    size_t n, cap;
} viz_layout_t;

void viz_layout_init(viz_layout_t *L);
void viz_layout_deinit(viz_layout_t *L);
/* Lay out sn on a w x h frame at the given scale. */
void viz_layout_build(viz_layout_t *L, const viz_snap_t *sn, int w, int h, double scale);
/* The item under x, y (the innermost: a token before its panel), or NULL. */
const viz_item_t *viz_layout_hit(const viz_layout_t *L, int x, int y);
/* The item of a kind and id, or NULL. */
const viz_item_t *viz_layout_find(const viz_layout_t *L, viz_item_kind_t kind, uint64_t id);
/* The item showing an object of any kind (goroutine, channel, entity). */
const viz_item_t *viz_layout_find_any(const viz_layout_t *L, uint64_t id, bool goroutine);

/* The links of a row of n nodes: neighbours are joined straight; a link
 * between nodes i < j further apart runs above the row in a lane of its
 * own (no two links whose spans overlap share one), so that it never
 * passes over a node between them. Returns the lane of (i, j) from 0 (the
 * lowest), -1 for neighbours; *nlanes (if not NULL) gets the lanes the
 * row needs. */
int viz_node_lane(int n, int i, int j, int *nlanes);
#define VIZ_LANE_GAP 7   /* pixels between lanes, at scale 1 */
#define VIZ_LANES_MAX 6  /* lanes drawn apart; more share the top one */

/* How an entity is drawn (by kind and fields). */
bool viz_entity_is_queue(const viz_sent_t *e);
bool viz_entity_is_breaker(const viz_sent_t *e);
bool viz_entity_is_node(const viz_sent_t *e);

#endif
