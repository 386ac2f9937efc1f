/*
 * viz_layout_int: what the files of the layout share (viz_layout.c: the
 * frame's bands, the entities, a cluster's nodes, panels and cards;
 * viz_layout_flow.c: the flow of values; viz_layout_rest.c: the
 * goroutines, channels and locks not drawn elsewhere). Internal to viz/.
 */
#ifndef CHANSIM_VIZ_LAYOUT_INT_H
#define CHANSIM_VIZ_LAYOUT_INT_H

#include <math.h>

#include "viz_layout.h"

/* Sizes at scale 1 (a 1280x720 frame). */
enum {
    HEADER_H = 56,
    TIMELINE_H = 78,
    LANE_H = 17,           /* a goroutine's lane */
    LANES_AXIS_H = 17,     /* the lanes' time axis, under them */
    SIDE_W = 330,
    PAD = 12,
    GAP = 10,
    BREAKER_W = 290,
    BREAKER_H = 200,
    QUEUE_W = 270,
    QUEUE_H = 86,
    ENTITY_W = 250,
    PANEL_TITLE_H = 56,
    MINIQ_W = 240,
    MINIQ_H = 66,
    NODE_W = 180,
    NODE_H = 272,
    NODE_CHIP_H = 22,
    NODE_CHIPS = 3,
    CLUSTER_TITLE_H = 30,
    TOK_W = 150,
    TOK_H = 52,
    TOK_L_W = 190,
    TOK_L_H = 66,
    TOK_GAP = 6,
    SMALL_TOK = 20,
    SMALL_GAP = 4,
    GROUP_HEAD_H = 26,
    SECTION_HEAD_H = 26,
    CHAN_ROW_H = 32,
    LOCK_W = 290,
    LOCK_H = 32,
};

/* One build's state. */
typedef struct viz_lay {
    viz_layout_t *L;
    const viz_snap_t *sn;
    double s;
    bool flow;          /* a flow was laid out (its channels are placed) */
    bool small_tokens;  /* viz_layout_panel draws its tokens small (a flow's
                           stage that would not fit otherwise) */
} viz_lay_t;

/* n pixels at scale 1, at the layout's scale (never 0 for n > 0). */
static inline int px(const viz_lay_t *c, int n)
{
    int v = (int)lround(n * c->s);
    return n > 0 && v < 1 ? 1 : v;
}

static inline SDL_Rect rect(int x, int y, int w, int h)
{
    SDL_Rect r = {x, y, w, h};
    return r;
}

/* How each entity is placed. */
typedef enum viz_place {
    VIZ_PLACE_CARD,    /* a card of its own in the flow */
    VIZ_PLACE_PANEL,   /* a panel with its descendants inside */
    VIZ_PLACE_CHILD,   /* inside its top ancestor's panel */
    VIZ_PLACE_NODE,    /* a node in its cluster's row */
    VIZ_PLACE_CLUSTER, /* the heading of a row of nodes */
    VIZ_PLACE_ON_NODE, /* listed on a node (its descendants) */
    VIZ_PLACE_FLOW,    /* a stage of the flow of values (viz_layout_flow.c) */
} viz_place_t;

typedef struct viz_eplace {
    viz_place_t place;
    size_t top;     /* index of the top ancestor (self if none) */
    size_t node;    /* VIZ_PLACE_ON_NODE: index of the node */
} viz_eplace_t;

/* A new item (its part the whole), or NULL when out of memory. */
viz_item_t *viz_layout_add(viz_lay_t *c, viz_item_kind_t kind, uint64_t id, SDL_Rect r);
/* The height of an entity's card (its fields, up to five). */
int viz_layout_card_h(const viz_lay_t *c, const viz_sent_t *e);
/* A panel: an entity and its descendants (queues as bars, the rest as
 * tokens) at x, y, w wide. Returns its height. */
int viz_layout_panel(viz_lay_t *c, size_t pi, const viz_eplace_t *pl, int x, int y, int w);
/* The flow of values, if the run has one (viz_layout_flow.c); marks the
 * stages it places (VIZ_PLACE_FLOW, g_taken) and returns the new y. */
int viz_layout_flow(viz_lay_t *c, viz_eplace_t *pl, int y, bool *g_taken);
/* The goroutines not yet placed, grouped by role, then the channels and
 * the locks, in what is left from y down (viz_layout_rest.c). */
void viz_layout_rest(viz_lay_t *c, bool *g_taken, int y);

#endif
