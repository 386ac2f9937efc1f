/* viz_layout: the generic layout. See viz_layout.h. */
#include "viz_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sizes at scale 1 (a 1280x720 frame). */
enum {
    HEADER_H = 56,
    TIMELINE_H = 78,
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

typedef struct lay {
    viz_layout_t *L;
    const viz_snap_t *sn;
    double s;
    bool flow;          /* a flow was laid out (its channels are placed) */
} lay_t;

static int px(const lay_t *c, int n)
{
    int v = (int)lround(n * c->s);
    return n > 0 && v < 1 ? 1 : v;
}

static SDL_Rect rect(int x, int y, int w, int h)
{
    SDL_Rect r = {x, y, w, h};
    return r;
}

static viz_item_t *add(lay_t *c, viz_item_kind_t kind, uint64_t id, SDL_Rect r)
{
    viz_layout_t *L = c->L;
    if (L->n == L->cap) {
        size_t ncap = L->cap ? L->cap * 2 : 256;
        viz_item_t *n = realloc(L->items, ncap * sizeof *n);
        if (!n)
            return NULL;
        L->items = n;
        L->cap = ncap;
    }
    viz_item_t *it = &L->items[L->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->id = id;
    it->r = r;
    it->part = r;
    return it;
}

void viz_layout_init(viz_layout_t *L)
{
    memset(L, 0, sizeof *L);
}

void viz_layout_deinit(viz_layout_t *L)
{
    free(L->items);
    memset(L, 0, sizeof *L);
}

bool viz_entity_is_queue(const viz_sent_t *e)
{
    return strcmp(e->kind, "queue") == 0 ||
           (viz_sent_has(e, "depth") && viz_sent_has(e, "capacity"));
}

bool viz_entity_is_breaker(const viz_sent_t *e)
{
    return strcmp(e->kind, "breaker") == 0 || strcmp(e->kind, "circuit_breaker") == 0;
}

bool viz_entity_is_node(const viz_sent_t *e)
{
    return strcmp(e->kind, "node") == 0;
}

/* ---- entities -------------------------------------------------------------- */

/* How each entity is placed. */
typedef enum place {
    PLACE_CARD,    /* a card of its own in the flow */
    PLACE_PANEL,   /* a panel with its descendants inside */
    PLACE_CHILD,   /* inside its top ancestor's panel */
    PLACE_NODE,    /* a node in its cluster's row */
    PLACE_CLUSTER, /* the heading of a row of nodes */
    PLACE_ON_NODE, /* listed on a node (its descendants) */
    PLACE_FLOW,    /* a stage of the flow of values (viz_layout's lay_flow) */
} place_t;

typedef struct eplace {
    place_t place;
    size_t top;     /* index of the top ancestor (self if none) */
    size_t node;    /* PLACE_ON_NODE: index of the node */
} eplace_t;

static size_t ent_index(const viz_snap_t *sn, uint64_t id)
{
    const viz_sent_t *e = viz_snap_entity(sn, id);
    return e ? (size_t)(e - sn->ents) : (size_t)-1;
}

static void classify(const viz_snap_t *sn, eplace_t *pl)
{
    size_t n = sn->nent;
    bool *has_desc = calloc(n + 1, sizeof *has_desc);
    bool *has_node = calloc(n + 1, sizeof *has_node);
    for (size_t i = 0; i < n; i++) {
        pl[i].top = i;
        pl[i].node = (size_t)-1;
        /* Walk up (bounded: a cycle cannot be built, but be safe). */
        size_t cur = i;
        for (int depth = 0; depth < 32; depth++) {
            size_t p = sn->ents[cur].parent ? ent_index(sn, sn->ents[cur].parent) : (size_t)-1;
            if (p == (size_t)-1)
                break;
            if (viz_entity_is_node(&sn->ents[p]) && pl[i].node == (size_t)-1 && !viz_entity_is_node(&sn->ents[i]))
                pl[i].node = p;
            cur = p;
        }
        pl[i].top = cur;
    }
    for (size_t i = 0; i < n; i++) {
        if (pl[i].top != i && has_desc)
            has_desc[pl[i].top] = true;
        if (viz_entity_is_node(&sn->ents[i]) && has_node)
            has_node[pl[i].top] = true;
    }
    for (size_t i = 0; i < n; i++) {
        const viz_sent_t *e = &sn->ents[i];
        if (viz_entity_is_node(e))
            pl[i].place = PLACE_NODE;
        else if (pl[i].node != (size_t)-1)
            pl[i].place = PLACE_ON_NODE;
        else if (pl[i].top == i && has_node && has_node[i])
            pl[i].place = PLACE_CLUSTER;
        else if (pl[i].top != i && has_node && has_node[pl[i].top])
            pl[i].place = PLACE_CARD; /* beside a cluster, not on a node */
        else if (pl[i].top != i)
            pl[i].place = PLACE_CHILD;
        else if (has_desc && has_desc[i])
            pl[i].place = PLACE_PANEL;
        else
            pl[i].place = PLACE_CARD;
    }
    free(has_desc);
    free(has_node);
}

static int entity_card_h(const lay_t *c, const viz_sent_t *e)
{
    int rows = e->nfields < 5 ? e->nfields : 5;
    return px(c, 40 + 30 + 21 * rows + 46);
}

/* Goroutines drawn on a node: those whose role is the node's name. */
static bool on_node(const viz_sg_t *g, const viz_sent_t *node)
{
    return g->role[0] && strcmp(g->role, node->name) == 0;
}

/* Lay out the cluster rows; returns the new y. */
static int lay_clusters(lay_t *c, const eplace_t *pl, int y, bool *g_taken)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    /* Clusters in creation order; nodes without a cluster share a row. */
    for (size_t pass = 0; pass <= sn->nent; pass++) {
        uint64_t cluster = 0;
        size_t ci = pass;
        if (pass < sn->nent) {
            if (pl[pass].place != PLACE_CLUSTER)
                continue;
            cluster = sn->ents[pass].id;
        } else {
            ci = (size_t)-1;
        }
        size_t nn = 0;
        for (size_t i = 0; i < sn->nent; i++)
            if (pl[i].place == PLACE_NODE &&
                (ci == (size_t)-1 ? pl[i].top == i : pl[i].top == ci))
                nn++;
        if (!nn)
            continue;
        int node_w = px(c, NODE_W);
        int avail = L->main.w;
        if ((int)nn * node_w > avail)
            node_w = avail / (int)nn;
        int row_h = px(c, CLUSTER_TITLE_H + NODE_H);
        viz_item_t *row = add(c, VIZ_ITEM_CLUSTER, cluster, rect(L->main.x, y, L->main.w, row_h));
        (void)row;
        int k = 0;
        for (size_t i = 0; i < sn->nent; i++) {
            if (pl[i].place != PLACE_NODE || (ci == (size_t)-1 ? pl[i].top != i : pl[i].top != ci))
                continue;
            const viz_sent_t *e = &sn->ents[i];
            int x = L->main.x + k * node_w;
            int ny = y + px(c, CLUSTER_TITLE_H);
            viz_item_t *it = add(c, VIZ_ITEM_NODE, e->id, rect(x, ny, node_w - px(c, GAP), px(c, NODE_H)));
            if (!it)
                return y + row_h;
            /* The crown's box above the circle. */
            int cx = x + (node_w - px(c, GAP)) / 2;
            it->part = rect(cx - px(c, 22), ny + px(c, 4), px(c, 44), px(c, 26));
            /* What runs on it (a candidate, a session), one line each. */
            int cy = ny + px(c, 156), chips = 0;
            for (size_t j = 0; j < sn->nent; j++) {
                if (pl[j].place != PLACE_ON_NODE || pl[j].node != i)
                    continue;
                if (chips++ >= NODE_CHIPS)
                    continue;
                viz_item_t *ch = add(c, VIZ_ITEM_CHILD, sn->ents[j].id,
                                     rect(x + px(c, 6), cy, node_w - px(c, GAP) - px(c, 12), px(c, NODE_CHIP_H - 2)));
                if (ch) {
                    ch->compact = true;
                    ch->parent = e->id;
                }
                cy += px(c, NODE_CHIP_H);
            }
            /* Its goroutines, small, under the rest; "+N" in the last
             * slots when they do not all fit. */
            int gx0 = x + px(c, 8), gy0 = cy + px(c, 4);
            int step = px(c, SMALL_TOK + SMALL_GAP);
            int per = (node_w - px(c, GAP) - px(c, 12)) / step;
            int rows = (ny + px(c, NODE_H) - gy0) / step;
            if (per < 3)
                per = 3;
            size_t cap = rows > 0 ? (size_t)per * (size_t)rows : 0, total = 0, slot = 0;
            for (size_t j = 0; j < sn->ng; j++)
                total += !g_taken[j] && on_node(&sn->gs[j], e);
            size_t shown = total <= cap ? total : (cap >= 3 ? cap - 3 : 0);
            for (size_t j = 0; j < sn->ng; j++) {
                if (g_taken[j] || !on_node(&sn->gs[j], e))
                    continue;
                g_taken[j] = true;
                if (slot >= shown)
                    continue;
                int gx = gx0 + (int)(slot % (size_t)per) * step, gy = gy0 + (int)(slot / (size_t)per) * step;
                viz_item_t *gt = add(c, VIZ_ITEM_GOROUTINE, sn->gs[j].id,
                                     rect(gx, gy, px(c, SMALL_TOK), px(c, SMALL_TOK)));
                if (gt) {
                    gt->compact = true;
                    gt->parent = e->id;
                }
                slot++;
            }
            if (total > shown && cap >= 3) {
                int gx = gx0 + (int)(slot % (size_t)per) * step, gy = gy0 + (int)(slot / (size_t)per) * step;
                viz_item_t *m = add(c, VIZ_ITEM_MORE, 0, rect(gx, gy, 3 * step, px(c, SMALL_TOK)));
                if (m)
                    m->count = (int)(total - shown);
            }
            k++;
        }
        y += row_h + px(c, GAP);
    }
    return y;
}

/* A panel: an entity and its descendants (queues as bars, the rest as
 * tokens). Returns its height. */
static int lay_panel(lay_t *c, size_t pi, const eplace_t *pl, int x, int y, int w)
{
    const viz_snap_t *sn = c->sn;
    size_t nq = 0, nt = 0;
    for (size_t i = 0; i < sn->nent; i++) {
        if (pl[i].place != PLACE_CHILD || pl[i].top != pi)
            continue;
        if (viz_entity_is_queue(&sn->ents[i]))
            nq++;
        else
            nt++;
    }
    int inner = w - 2 * px(c, GAP);
    int qw = px(c, MINIQ_W), qh = px(c, MINIQ_H);
    if (qw > inner)
        qw = inner; /* a narrow panel (a stage of the flow) */
    int qper = inner / (qw + px(c, GAP));
    if (qper < 1)
        qper = 1;
    int qrows = nq ? (int)((nq + (size_t)qper - 1) / (size_t)qper) : 0;
    int inner_rows = (int)((nt * (size_t)px(c, TOK_W + TOK_GAP) + (size_t)inner - 1) / (size_t)(inner > 0 ? inner : 1));
    bool compact = nt > 24 || inner_rows > 3;
    int tw = compact ? px(c, SMALL_TOK) : px(c, TOK_W), th = compact ? px(c, SMALL_TOK) : px(c, TOK_H);
    int tg = compact ? px(c, SMALL_GAP) : px(c, TOK_GAP);
    int tper = inner / (tw + tg);
    if (tper < 1)
        tper = 1;
    int trows = nt ? (int)((nt + (size_t)tper - 1) / (size_t)tper) : 0;
    int h = px(c, PANEL_TITLE_H) + qrows * (qh + px(c, GAP)) + trows * (th + tg) + px(c, GAP);
    viz_item_t *p = add(c, VIZ_ITEM_PANEL, sn->ents[pi].id, rect(x, y, w, h));
    if (!p)
        return h;
    int qy = y + px(c, PANEL_TITLE_H), k = 0;
    for (size_t i = 0; i < sn->nent; i++) {
        if (pl[i].place != PLACE_CHILD || pl[i].top != pi || !viz_entity_is_queue(&sn->ents[i]))
            continue;
        int col = k % qper, row = k / qper;
        viz_item_t *q = add(c, VIZ_ITEM_QUEUE, sn->ents[i].id,
                            rect(x + px(c, GAP) + col * (qw + px(c, GAP)), qy + row * (qh + px(c, GAP)), qw, qh));
        if (q) {
            q->parent = sn->ents[pi].id;
            q->part = rect(q->r.x + px(c, 8), q->r.y + px(c, 26), q->r.w - px(c, 16), px(c, 18));
        }
        k++;
    }
    int ty = qy + qrows * (qh + px(c, GAP));
    k = 0;
    for (size_t i = 0; i < sn->nent; i++) {
        if (pl[i].place != PLACE_CHILD || pl[i].top != pi || viz_entity_is_queue(&sn->ents[i]))
            continue;
        int col = k % tper, row = k / tper;
        viz_item_t *t = add(c, VIZ_ITEM_CHILD, sn->ents[i].id,
                            rect(x + px(c, GAP) + col * (tw + tg), ty + row * (th + tg), tw, th));
        if (t) {
            t->compact = compact;
            t->parent = sn->ents[pi].id;
        }
        k++;
    }
    return h;
}


/* ---- the flow of values ---------------------------------------------------- */

/* A run whose goroutines pass values along channels (a pipeline, a
 * fan-out/fan-in, a multiplexer) is drawn left to right: each stage (an
 * entity with its goroutine, or a goroutine alone) in a column after the
 * stages that feed it, its channels between the columns as connectors, so
 * a value travels on a short path from a stage into a channel and out to
 * the next. The flow is what the tracker saw over the run (a first pass
 * sees it all), so the columns stand from the first frame. */

#define FLOW_ACTORS 16
#define FLOW_CHANS 24
#define FLOW_COLS 7

typedef struct factor {
    size_t ent;     /* the entity drawn (a card or a panel), or (size_t)-1 */
    uint64_t g;     /* else the goroutine drawn as a token */
    int col;
    int h;
    int y;
} factor_t;

typedef struct fchan {
    uint64_t id;
    uint32_t from, to; /* bit sets of actors sending into it, receiving from it */
    int gap;           /* the gap (after column gap) it is drawn in */
    int y;
} fchan_t;

typedef struct flow {
    factor_t a[FLOW_ACTORS];
    size_t na;
    fchan_t ch[FLOW_CHANS];
    size_t nch;
} flow_t;

/* The actor of goroutine gid: its entity's top card or panel, or itself;
 * -1 when it is drawn elsewhere (on a node) or the flow is full. */
static int flow_actor(flow_t *fw, const viz_snap_t *sn, const eplace_t *pl, uint64_t gid)
{
    size_t ent = (size_t)-1;
    for (size_t i = 0; i < sn->nent; i++)
        if (sn->ents[i].g == gid) {
            size_t top = pl[i].top;
            if (pl[top].place != PLACE_CARD && pl[top].place != PLACE_PANEL)
                return -1;
            if (viz_entity_is_breaker(&sn->ents[top]) || viz_entity_is_queue(&sn->ents[top]))
                return -1;
            ent = top;
            break;
        }
    if (ent == (size_t)-1) {
        const viz_sg_t *g = viz_snap_g(sn, gid);
        if (!g || g->entity)
            return -1; /* gone (its name with it), or a worker of something else */
    }
    for (size_t k = 0; k < fw->na; k++)
        if (ent != (size_t)-1 ? fw->a[k].ent == ent : fw->a[k].ent == (size_t)-1 && fw->a[k].g == gid)
            return (int)k;
    if (fw->na == FLOW_ACTORS)
        return -2;
    fw->a[fw->na] = (factor_t){ent, ent == (size_t)-1 ? gid : 0, 0, 0, 0};
    return (int)fw->na++;
}

static bool flow_dfs(const flow_t *fw, const uint32_t *adj, size_t k, uint8_t *mark, uint32_t *back)
{
    mark[k] = 1;
    for (size_t j = 0; j < fw->na; j++) {
        if (!(adj[k] & (1u << j)))
            continue;
        if (mark[j] == 1)
            back[k] |= 1u << j; /* a value going back upstream: not a column edge */
        else if (!mark[j])
            flow_dfs(fw, adj, j, mark, back);
    }
    mark[k] = 2;
    return true;
}

static int actor_w(const lay_t *c, const factor_t *a, int col_w)
{
    (void)c;
    (void)a;
    return col_w;
}

static int actor_h(lay_t *c, const viz_snap_t *sn, const eplace_t *pl, const factor_t *a, int w)
{
    if (a->ent == (size_t)-1)
        return px(c, TOK_L_H);
    if (pl[a->ent].place == PLACE_PANEL) {
        /* As lay_panel lays it out at this width (its items taken back). */
        size_t first = c->L->n;
        int h = lay_panel(c, a->ent, pl, 0, 0, w);
        c->L->n = first;
        return -h; /* a panel cannot be shortened */
    }
    return entity_card_h(c, &sn->ents[a->ent]) + px(c, 22); /* and its goroutine's line */
}

/* Lay out the flow, if the run has one; returns the new y. */
static int lay_flow(lay_t *c, eplace_t *pl, int y, bool *g_taken)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    if (sn->flow_overflow || sn->nflow < 2)
        return y;
    for (size_t i = 0; i < sn->nch; i++)
        ((viz_sch_t *)&sn->chans[i])->in_flow = false;
    flow_t fw;
    memset(&fw, 0, sizeof fw);
    for (size_t i = 0; i < sn->nflow; i++) {
        const viz_flow_edge_t *e = &sn->flow[i];
        const viz_sch_t *ch = viz_snap_chan(sn, e->chan);
        if (!ch || ch->ctx_done)
            continue;
        int k = flow_actor(&fw, sn, pl, e->g);
        if (k == -2)
            return y; /* too many stages: the generic layout */
        if (k < 0)
            continue;
        size_t j = 0;
        while (j < fw.nch && fw.ch[j].id != e->chan)
            j++;
        if (j == fw.nch) {
            if (fw.nch == FLOW_CHANS)
                return y;
            fw.ch[fw.nch++].id = e->chan;
        }
        if (e->send)
            fw.ch[j].from |= 1u << k;
        else
            fw.ch[j].to |= 1u << k;
    }
    /* Channels joining two different stages; the stages they join. */
    uint32_t used = 0, adj[FLOW_ACTORS] = {0};
    size_t nc = 0;
    for (size_t j = 0; j < fw.nch; j++) {
        fchan_t *f = &fw.ch[j];
        if (!f->from || !f->to || (f->from == f->to && !(f->from & (f->from - 1))))
            continue;
        used |= f->from | f->to;
        for (size_t a = 0; a < fw.na; a++)
            if (f->from & (1u << a))
                adj[a] |= f->to & ~(1u << a);
        fw.ch[nc++] = *f;
    }
    fw.nch = nc;
    size_t nused = 0;
    for (size_t a = 0; a < fw.na; a++)
        nused += (used >> a) & 1u;
    if (nc == 0 || nused < 2)
        return y;
    /* Columns: the longest chain of stages feeding each, values going back
     * upstream (a reply) left out. */
    uint8_t mark[FLOW_ACTORS] = {0};
    uint32_t back[FLOW_ACTORS] = {0};
    for (size_t a = 0; a < fw.na; a++)
        if (!mark[a] && (used >> a & 1u))
            flow_dfs(&fw, adj, a, mark, back);
    for (size_t round = 0; round < fw.na; round++)
        for (size_t a = 0; a < fw.na; a++)
            for (size_t b = 0; b < fw.na; b++)
                if ((adj[a] & ~back[a]) & (1u << b) && fw.a[b].col < fw.a[a].col + 1)
                    fw.a[b].col = fw.a[a].col + 1;
    int ncols = 0;
    for (size_t a = 0; a < fw.na; a++)
        if ((used >> a & 1u) && fw.a[a].col + 1 > ncols)
            ncols = fw.a[a].col + 1;
    if (ncols < 2 || ncols > FLOW_COLS)
        return y;
    /* Widths: the channels' gaps first, the stages share the rest. */
    int W = L->main.w;
    size_t longest = 0;
    for (size_t j = 0; j < fw.nch; j++) {
        const viz_sch_t *ch = viz_snap_chan(sn, fw.ch[j].id);
        size_t n = ch && ch->name[0] ? strlen(ch->name) : 8;
        longest = n > longest ? n : longest;
    }
    /* A channel's name whole over its pipe when the stages keep 150 pixels. */
    int cg = px(c, 52 + 8 * (int)(longest < 10 ? 10 : longest));
    if ((W - (ncols - 1) * cg) / ncols < px(c, 150))
        cg = (W - ncols * px(c, 150)) / (ncols - 1);
    if (cg < px(c, 120))
        cg = px(c, 120);
    int cw = (W - (ncols - 1) * cg) / ncols;
    if (cw < px(c, 130)) {
        cg = px(c, 120);
        cw = (W - (ncols - 1) * cg) / ncols;
    }
    /* A long flow that would squeeze its stages snakes: the first half
     * left to right, the rest right to left under it, the channel between
     * the halves in the turn. */
    int nrows = 1, per_row = ncols;
    if (cw < px(c, 150) && ncols >= 4) {
        nrows = 2;
        per_row = (ncols + 1) / 2;
        cg = px(c, 52 + 8 * (int)(longest < 10 ? 10 : longest));
        if ((W - (per_row - 1) * cg) / per_row < px(c, 150))
            cg = (W - per_row * px(c, 150)) / (per_row > 1 ? per_row - 1 : 1);
        if (cg < px(c, 120))
            cg = px(c, 120);
        cw = (W - (per_row - 1) * cg) / per_row;
    }
    if (cw > px(c, ENTITY_W + 40))
        cw = px(c, ENTITY_W + 40);
    if (cw < px(c, 96))
        return y;
    int span = per_row * cw + (per_row - 1) * cg;
    int x0 = L->main.x + (W - span) / 2;
    int colx[FLOW_COLS], colrow[FLOW_COLS];
    for (int k = 0; k < ncols; k++) {
        colrow[k] = k < per_row ? 0 : 1;
        int slot = k < per_row ? k : per_row - 1 - (k - per_row);
        colx[k] = x0 + slot * (cw + cg);
    }
    /* Heights: each column's stages stacked, a row as tall as its tallest
     * column; cards give up fields (not their name, state and goroutine)
     * to leave the rest of the run a few rows. */
    int head = px(c, SECTION_HEAD_H);
    int bottom = L->main.y + L->main.h;
    int ch_h = px(c, 46);
    int turn = nrows > 1 ? ch_h + 2 * px(c, GAP) : 0;
    int col_n[FLOW_COLS] = {0}, stack = 1;
    for (size_t a = 0; a < fw.na; a++)
        if (used >> a & 1u && ++col_n[fw.a[a].col] > stack)
            stack = col_n[fw.a[a].col];
    int sgap = px(c, GAP) * 2;
    int budget = ((bottom - y - head - turn - 2 * px(c, GROUP_HEAD_H)) / nrows - (stack - 1) * sgap) / stack;
    if (budget < px(c, 60))
        return y; /* no room: the generic layout */
    int col_h[FLOW_COLS] = {0};
    for (size_t a = 0; a < fw.na; a++) {
        if (!(used >> a & 1u))
            continue;
        factor_t *f = &fw.a[a];
        f->h = actor_h(c, sn, pl, f, actor_w(c, f, cw));
        if (f->h < 0) {
            f->h = -f->h;
            if (f->h > budget * stack)
                return y; /* no room: the generic layout */
        } else if (f->h > budget) {
            f->h = budget;
        }
        if (col_h[f->col])
            col_h[f->col] += sgap;
        f->y = col_h[f->col];
        col_h[f->col] += f->h;
    }
    int row_h[2] = {0, 0};
    for (int k = 0; k < ncols; k++)
        row_h[colrow[k]] = col_h[k] > row_h[colrow[k]] ? col_h[k] : row_h[colrow[k]];
    int fh = row_h[0] + turn + row_h[1];
    viz_item_t *hd = add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, W, head));
    if (hd) {
        snprintf(hd->label, sizeof hd->label, "flow of values");
        hd->count = -1;
    }
    y += head;
    int row_y[2] = {y, y + row_h[0] + turn};
    /* The stages, each column centred on its row's height. */
    for (size_t a = 0; a < fw.na; a++) {
        if (!(used >> a & 1u))
            continue;
        factor_t *f = &fw.a[a];
        int x = colx[f->col];
        f->y += row_y[colrow[f->col]] + (row_h[colrow[f->col]] - col_h[f->col]) / 2;
        if (f->ent == (size_t)-1) {
            viz_item_t *it = add(c, VIZ_ITEM_GOROUTINE, f->g, rect(x, f->y, cw, f->h));
            if (it)
                it->large = true;
            for (size_t i = 0; i < sn->ng; i++)
                if (sn->gs[i].id == f->g)
                    g_taken[i] = true;
        } else if (pl[f->ent].place == PLACE_PANEL) {
            size_t first = L->n;
            lay_panel(c, f->ent, pl, x, f->y, cw);
            if (first < L->n && L->items[first].kind == VIZ_ITEM_PANEL)
                L->items[first].compact = true;
            pl[f->ent].place = PLACE_FLOW;
        } else {
            viz_item_t *it = add(c, VIZ_ITEM_ENTITY, sn->ents[f->ent].id, rect(x, f->y, cw, f->h));
            if (it)
                it->compact = true; /* drawn with its goroutine's state */
            pl[f->ent].place = PLACE_FLOW;
        }
    }
    /* The channels: in the gap after their first sender's column, level
     * with the stages they join, one under the other when they share a gap;
     * the channel of the turn under its sender. */
    for (size_t j = 0; j < fw.nch; j++) {
        fchan_t *f = &fw.ch[j];
        int gap = FLOW_COLS, sum = 0, n = 0;
        for (size_t a = 0; a < fw.na; a++) {
            if (f->from & (1u << a)) {
                gap = fw.a[a].col < gap ? fw.a[a].col : gap;
                sum += fw.a[a].y + fw.a[a].h / 2;
                n++;
            }
        }
        int to_y = 0, tn = 0;
        for (size_t a = 0; a < fw.na; a++)
            if (f->to & (1u << a)) {
                to_y += fw.a[a].y + fw.a[a].h / 2;
                tn++;
            }
        if (gap >= ncols - 1)
            gap = ncols - 2;
        f->gap = gap;
        if (colrow[gap] != colrow[gap + 1]) {
            f->y = row_y[0] + row_h[0] + px(c, GAP);
            continue;
        }
        int cy = (sum / (n ? n : 1) + to_y / (tn ? tn : 1)) / 2;
        if (n == 1) {
            /* Level with its one sender's card, so the value leaves it sideways. */
            for (size_t a = 0; a < fw.na; a++)
                if (f->from & (1u << a)) {
                    int lo = fw.a[a].y + ch_h / 2, hi = fw.a[a].y + fw.a[a].h - ch_h / 2;
                    cy = cy < lo ? lo : cy > hi ? hi : cy;
                }
        }
        f->y = cy - ch_h / 2;
    }
    /* Keep channels of one gap apart (in order of their centre). */
    for (int gcol = 0; gcol < ncols - 1; gcol++) {
        for (;;) {
            bool moved = false;
            for (size_t j = 0; j < fw.nch; j++)
                for (size_t k = 0; k < fw.nch; k++) {
                    fchan_t *p = &fw.ch[j], *q = &fw.ch[k];
                    if (j == k || p->gap != gcol || q->gap != gcol)
                        continue;
                    if (p->y <= q->y && (p->y < q->y || j < k) && q->y < p->y + ch_h + px(c, 8)) {
                        q->y = p->y + ch_h + px(c, 8);
                        moved = true;
                    }
                }
            if (!moved)
                break;
        }
    }
    int end = y + fh;
    for (size_t j = 0; j < fw.nch; j++) {
        fchan_t *f = &fw.ch[j];
        int x, w;
        if (colrow[f->gap] != colrow[f->gap + 1]) {
            w = cg - px(c, 12);
            w = w > cw ? cw : w;
            x = colx[f->gap] + (cw - w) / 2;
        } else {
            /* Room either side for the paths in and out. */
            int left = colx[f->gap] < colx[f->gap + 1] ? colx[f->gap] : colx[f->gap + 1];
            x = left + cw + px(c, 22);
            w = cg - px(c, 44);
        }
        viz_item_t *it = add(c, VIZ_ITEM_CHAN, f->id, rect(x, f->y, w, ch_h));
        if (it) {
            it->compact = true;
            it->part = rect(x, f->y + px(c, 18), w, px(c, 16));
        }
        viz_sch_t *ch = (viz_sch_t *)viz_snap_chan(sn, f->id);
        if (ch)
            ch->in_flow = true;
        if (f->y + ch_h > end)
            end = f->y + ch_h;
    }
    return end + px(c, GAP);
}

/* The cards and panels, flowing left to right; returns the new y. */
static int lay_cards(lay_t *c, const eplace_t *pl, int y)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    int x = L->main.x, row_h = 0;
    int right = L->main.x + L->main.w;
    for (size_t i = 0; i < sn->nent; i++) {
        const viz_sent_t *e = &sn->ents[i];
        if (pl[i].place == PLACE_PANEL) {
            if (x != L->main.x) {
                y += row_h + px(c, GAP);
                x = L->main.x;
                row_h = 0;
            }
            y += lay_panel(c, i, pl, L->main.x, y, L->main.w) + px(c, GAP);
            continue;
        }
        if (pl[i].place != PLACE_CARD)
            continue;
        int w, h;
        viz_item_kind_t kind;
        if (viz_entity_is_breaker(e)) {
            kind = VIZ_ITEM_BREAKER;
            w = px(c, BREAKER_W);
            h = px(c, BREAKER_H);
        } else if (viz_entity_is_queue(e)) {
            kind = VIZ_ITEM_QUEUE;
            w = px(c, QUEUE_W);
            h = px(c, QUEUE_H);
        } else {
            kind = VIZ_ITEM_ENTITY;
            w = px(c, ENTITY_W);
            h = entity_card_h(c, e);
        }
        if (x + w > right && x != L->main.x) {
            y += row_h + px(c, GAP);
            x = L->main.x;
            row_h = 0;
        }
        viz_item_t *it = add(c, kind, e->id, rect(x, y, w, h));
        if (it && kind == VIZ_ITEM_BREAKER) {
            /* The hub of the dial. */
            int cx = x + w / 2, cy = y + px(c, 36 + 80);
            it->part = rect(cx - px(c, 13), cy - px(c, 13), px(c, 26), px(c, 26));
        } else if (it && kind == VIZ_ITEM_QUEUE) {
            it->part = rect(x + px(c, 10), y + px(c, 34), w - px(c, 20), px(c, 24));
        }
        x += w + px(c, GAP);
        if (h > row_h)
            row_h = h;
    }
    if (x != L->main.x)
        y += row_h + px(c, GAP);
    return y;
}

/* ---- goroutines, channels, locks ------------------------------------------ */

#define MAX_GROUPS 32

typedef struct group {
    const char *role;   /* "" for none */
    size_t n;           /* goroutines in it */
} group_t;

/* Token sizes: 0 small shapes, 1 normal, 2 large. */
static void tok_size(const lay_t *c, int size, int *tw, int *th, int *gap)
{
    static const int w[3] = {SMALL_TOK, TOK_W, TOK_L_W}, h[3] = {SMALL_TOK, TOK_H, TOK_L_H},
                     g[3] = {SMALL_GAP, TOK_GAP, TOK_GAP};
    *tw = px(c, w[size]);
    *th = px(c, h[size]);
    *gap = px(c, g[size]);
}

static int group_height(const lay_t *c, size_t n, int size, int w)
{
    int tw, th, gap;
    tok_size(c, size, &tw, &th, &gap);
    int per = w / (tw + gap);
    if (per < 1)
        per = 1;
    int rows = (int)((n + (size_t)per - 1) / (size_t)per);
    return px(c, GROUP_HEAD_H) + rows * (th + gap);
}

/* A channel worth a row: one with a name, a buffer, waiters or traffic;
 * not the closed, unnamed, unbuffered channels that contexts and done
 * signals leave behind by the thousand. */
static bool chan_shown(const viz_sch_t *ch)
{
    if (ch->in_flow)
        return false; /* drawn in the flow */
    if (ch->senders || ch->receivers)
        return true;
    if (ch->ctx_done)
        return false; /* a context's Done channel: while waited on */
    if (ch->name[0])
        return true;
    if (ch->closed)
        return ch->cap > 0 && ch->len > 0;
    return ch->cap > 0 || ch->sends || ch->recvs;
}

static bool lock_shown(const viz_slock_t *l)
{
    return l->holder || l->shared || l->waiters || l->name[0];
}

static int imin(int a, int b)
{
    return a < b ? a : b;
}

static void lay_rest(lay_t *c, bool *g_taken, int y)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    int bottom = L->main.y + L->main.h;
    int w = L->main.w;
    group_t groups[MAX_GROUPS];
    size_t ngroups = 0, ngs = 0;
    size_t *gi = malloc((sn->ng + 1) * sizeof *gi); /* group of each goroutine */
    if (!gi)
        return;
    for (size_t i = 0; i < sn->ng; i++) {
        if (g_taken[i] || sn->gs[i].entity)
            continue;
        size_t k = 0;
        while (k < ngroups && strcmp(groups[k].role, sn->gs[i].role) != 0)
            k++;
        if (k == ngroups) {
            if (ngroups == MAX_GROUPS)
                k = MAX_GROUPS - 1; /* the last group takes the rest */
            else
                groups[ngroups++] = (group_t){sn->gs[i].role, 0};
        }
        groups[k].n++;
        gi[i] = k;
        ngs++;
    }
    size_t nch = 0, nlock = 0;
    for (size_t i = 0; i < sn->nch; i++)
        nch += chan_shown(&sn->chans[i]);
    for (size_t i = 0; i < sn->nlock; i++)
        nlock += lock_shown(&sn->locks[i]);
    int cols = w >= px(c, 780) ? 2 : 1;
    int head = px(c, SECTION_HEAD_H), row = px(c, CHAN_ROW_H);
    int ch_rows = (int)((nch + (size_t)cols - 1) / (size_t)cols);
    int ch_need = nch ? head + ch_rows * row : 0;
    int ch_min = nch ? head + row : 0;
    int lper = w / (px(c, LOCK_W) + px(c, GAP));
    if (lper < 1)
        lper = 1;
    int lrow = px(c, LOCK_H) + px(c, 4);
    int lk_rows = (int)((nlock + (size_t)lper - 1) / (size_t)lper);
    int lk_need = nlock ? head + lk_rows * lrow : 0;
    int lk_min = nlock ? head + lrow : 0; /* goroutines first; these take what is left */
    int avail = bottom - y;
    /* Room first for every group's heading and a row of small tokens, then
     * a row of channels, then a row of locks; the rest to the tokens. */
    int heads = (int)ngroups * px(c, GROUP_HEAD_H);
    int g_floor = ngroups ? heads + px(c, SMALL_TOK + SMALL_GAP) : 0;
    if (g_floor + ch_min + lk_min > avail) {
        lk_min = 0;
        if (g_floor + ch_min > avail)
            ch_min = 0;
    }
    /* The largest tokens that leave the channels and locks that room. */
    int size = 0, g_need = 0;
    for (int sz = 2; sz >= 0; sz--) {
        if (sz == 2 && ngs > 12)
            continue;
        int need = 0;
        for (size_t k = 0; k < ngroups; k++)
            need += group_height(c, groups[k].n, sz, w);
        if (need + ch_min + lk_min <= avail || sz == 0) {
            size = sz;
            g_need = need;
            break;
        }
    }
    int g_budget = imin(g_need, avail - ch_min - lk_min);
    int tw, th, gap;
    tok_size(c, size, &tw, &th, &gap);
    int per = w / (tw + gap);
    if (per < 1)
        per = 1;
    /* Every group gets at least its heading (which counts its goroutines
     * by state): the tokens of a group leave room for the headings after. */
    if (g_budget < heads)
        g_budget = imin(heads, avail);
    int gy = y, glimit_all = y + g_budget;
    int heads_fit = g_budget / px(c, GROUP_HEAD_H);
    for (size_t k = 0; k < ngroups; k++) {
        int later = imin((int)(ngroups - k - 1), heads_fit - (int)k - 1);
        int glimit = glimit_all - (later > 0 ? later : 0) * px(c, GROUP_HEAD_H);
        if (gy + px(c, GROUP_HEAD_H) > glimit)
            break;
        /* A small group (of small or normal tokens) shares its heading's
         * row: its tokens in the right half. */
        bool inline_row = size < 2 && (int)groups[k].n * (tw + gap) <= w / 2 &&
                          gy + imin(th, px(c, GROUP_HEAD_H)) <= glimit;
        viz_item_t *hd = add(c, VIZ_ITEM_GROUP, k,
                             rect(L->main.x, gy, inline_row ? w / 2 - gap : w, px(c, GROUP_HEAD_H)));
        if (hd)
            snprintf(hd->label, sizeof hd->label, "%s", groups[k].role[0] ? groups[k].role : "goroutines");
        if (inline_row) {
            int col = 0;
            for (size_t i = 0; i < sn->ng; i++) {
                if (g_taken[i] || sn->gs[i].entity || gi[i] != k)
                    continue;
                viz_item_t *it = add(c, VIZ_ITEM_GOROUTINE, sn->gs[i].id,
                                     rect(L->main.x + w / 2 + col * (tw + gap), gy, tw, th));
                if (it)
                    it->compact = size == 0;
                col++;
            }
            gy += (th > px(c, GROUP_HEAD_H) ? th : px(c, GROUP_HEAD_H)) + gap;
            continue;
        }
        gy += px(c, GROUP_HEAD_H);
        int col = 0, rows_used = 0;
        size_t left_out = 0, placed = 0;
        bool full = false;
        for (size_t i = 0; i < sn->ng; i++) {
            if (g_taken[i] || sn->gs[i].entity || gi[i] != k)
                continue;
            if (full) {
                left_out++;
                continue;
            }
            int ty = gy + rows_used * (th + gap);
            /* Keep the last slot of the last row for "+N more" when more
             * than one goroutine is still to come. */
            bool last_row = ty + 2 * (th + gap) > glimit;
            bool more_after = placed + 1 < groups[k].n;
            int keep = size == 0 ? 5 : 1; /* slots the "+N more" text needs */
            if (ty + th > glimit || (last_row && col >= per - keep && more_after)) {
                full = true;
                left_out++;
                continue;
            }
            viz_item_t *it = add(c, VIZ_ITEM_GOROUTINE, sn->gs[i].id,
                                 rect(L->main.x + col * (tw + gap), ty, tw, th));
            if (it) {
                it->compact = size == 0;
                it->large = size == 2;
            }
            placed++;
            if (++col == per) {
                col = 0;
                rows_used++;
            }
        }
        if (left_out && gy + rows_used * (th + gap) + th <= glimit) {
            int ty = gy + rows_used * (th + gap);
            viz_item_t *m = add(c, VIZ_ITEM_MORE, 0,
                                rect(L->main.x + col * (tw + gap), ty, px(c, 140), th));
            if (m)
                m->count = (int)left_out;
            rows_used++;
        } else if (col) {
            rows_used++;
        }
        gy += rows_used * (th + gap);
        if (gy > glimit)
            gy = glimit;
    }
    free(gi);
    y = gy;
    /* Room left over goes first to lanes above the channels and the locks,
     * where the arrows of waits bend (viz_waits.c) clear of any text. */
    int slack = bottom - y - ch_need - lk_need;
    int lane1 = nch && slack > 0 ? imin(px(c, 56), slack / 2) : 0;
    int lane2 = nlock && slack - lane1 > 0 ? imin(px(c, 40), slack - lane1) : 0;
    y += lane1;
    /* Channels, in two columns when wide, then locks with what is left. */
    int ch_space = imin(ch_need, bottom - y - lk_min);
    if (nch && ch_space >= head + row) {
        viz_item_t *hd = add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, w, head));
        if (hd)
            snprintf(hd->label, sizeof hd->label, "channels");
        int rows = (ch_space - head) / row;
        int colw = w / cols;
        size_t k = 0, slots = (size_t)rows * (size_t)cols;
        size_t left_out = 0;
        for (size_t i = 0; i < sn->nch; i++) {
            if (!chan_shown(&sn->chans[i]))
                continue;
            if (nch > slots && k + 1 >= slots) {
                left_out++;
                continue;
            }
            int col = (int)(k % (size_t)cols), r = (int)(k / (size_t)cols);
            int cy = y + head + r * row;
            viz_item_t *it = add(c, VIZ_ITEM_CHAN, sn->chans[i].id,
                                 rect(L->main.x + col * colw, cy, colw - px(c, GAP), row - px(c, 4)));
            if (it) {
                int label_w = px(c, 150);
                int bar_w = it->r.w - label_w - px(c, 150);
                if (bar_w < px(c, 60))
                    bar_w = px(c, 60);
                it->part = rect(it->r.x + label_w, it->r.y + px(c, 4), bar_w, it->r.h - px(c, 8));
            }
            k++;
        }
        if (left_out) {
            int col = (int)(k % (size_t)cols), r = (int)(k / (size_t)cols);
            viz_item_t *m = add(c, VIZ_ITEM_MORE, 1, rect(L->main.x + col * colw, y + head + r * row, colw, row));
            if (m)
                m->count = (int)left_out;
        }
        y += head + ((int)(k + (left_out ? 1 : 0)) + cols - 1) / cols * row;
    }
    y += lane2;
    int lk_space = imin(lk_need, bottom - y);
    if (nlock && lk_space >= head + px(c, LOCK_H)) {
        viz_item_t *hd = add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, w, head));
        if (hd)
            snprintf(hd->label, sizeof hd->label, "locks and groups");
        int ly = y + head, k = 0;
        for (size_t i = 0; i < sn->nlock; i++) {
            if (!lock_shown(&sn->locks[i]))
                continue;
            int col = k % lper, r = k / lper;
            int yy = ly + r * lrow;
            if (yy + px(c, LOCK_H) > y + lk_space)
                break;
            add(c, VIZ_ITEM_LOCK, sn->locks[i].id,
                rect(L->main.x + col * (px(c, LOCK_W) + px(c, GAP)), yy, px(c, LOCK_W), px(c, LOCK_H)));
            k++;
        }
    }
}

void viz_layout_build(viz_layout_t *L, const viz_snap_t *sn, int w, int h, double scale)
{
    lay_t c = {L, sn, scale, false};
    L->n = 0;
    L->w = w;
    L->h = h;
    L->scale = scale;
    int side_w = px(&c, SIDE_W);
    if (side_w > w * 36 / 100)
        side_w = w * 36 / 100;
    L->header = rect(0, 0, w, px(&c, HEADER_H));
    L->timeline = rect(0, h - px(&c, TIMELINE_H), w, px(&c, TIMELINE_H));
    L->side = rect(w - side_w, L->header.h, side_w, h - L->header.h - L->timeline.h);
    L->main = rect(px(&c, PAD), L->header.h + px(&c, PAD), w - side_w - 2 * px(&c, PAD),
                   h - L->header.h - L->timeline.h - 2 * px(&c, PAD));
    L->track = rect(px(&c, 24), L->timeline.y + px(&c, 40), w - px(&c, 48), px(&c, 6));

    eplace_t *pl = calloc(sn->nent + 1, sizeof *pl);
    bool *g_taken = calloc(sn->ng + 1, sizeof *g_taken);
    if (!pl || !g_taken) {
        free(pl);
        free(g_taken);
        return;
    }
    classify(sn, pl);
    int y = L->main.y;
    y = lay_clusters(&c, pl, y, g_taken);
    y = lay_flow(&c, pl, y, g_taken);
    y = lay_cards(&c, pl, y);
    lay_rest(&c, g_taken, y);
    free(pl);
    free(g_taken);
}

/* Items inside others come later in the list: search from the end. */
const viz_item_t *viz_layout_hit(const viz_layout_t *L, int x, int y)
{
    for (size_t i = L->n; i-- > 0;) {
        const viz_item_t *it = &L->items[i];
        if (it->kind == VIZ_ITEM_GROUP || it->kind == VIZ_ITEM_MORE)
            continue;
        if (x >= it->r.x && x < it->r.x + it->r.w && y >= it->r.y && y < it->r.y + it->r.h)
            return it;
    }
    return NULL;
}

const viz_item_t *viz_layout_find(const viz_layout_t *L, viz_item_kind_t kind, uint64_t id)
{
    for (size_t i = 0; i < L->n; i++)
        if (L->items[i].kind == kind && L->items[i].id == id)
            return &L->items[i];
    return NULL;
}

const viz_item_t *viz_layout_find_any(const viz_layout_t *L, uint64_t id, bool goroutine)
{
    for (size_t i = 0; i < L->n; i++) {
        const viz_item_t *it = &L->items[i];
        if (it->id != id || it->kind == VIZ_ITEM_GROUP || it->kind == VIZ_ITEM_MORE)
            continue;
        if ((it->kind == VIZ_ITEM_GOROUTINE) == goroutine)
            return it;
    }
    return NULL;
}
