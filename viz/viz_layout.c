/* viz_layout: the generic layout. See viz_layout.h. The flow of values is
 * in viz_layout_flow.c, the goroutines, channels and locks in
 * viz_layout_rest.c (viz_layout_int.h). */
#include "viz_layout_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

viz_item_t *viz_layout_add(viz_lay_t *c, viz_item_kind_t kind, uint64_t id, SDL_Rect r)
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

static size_t ent_index(const viz_snap_t *sn, uint64_t id)
{
    const viz_sent_t *e = viz_snap_entity(sn, id);
    return e ? (size_t)(e - sn->ents) : (size_t)-1;
}

static void classify(const viz_snap_t *sn, viz_eplace_t *pl)
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
            pl[i].place = VIZ_PLACE_NODE;
        else if (pl[i].node != (size_t)-1)
            pl[i].place = VIZ_PLACE_ON_NODE;
        else if (pl[i].top == i && has_node && has_node[i])
            pl[i].place = VIZ_PLACE_CLUSTER;
        else if (pl[i].top != i && has_node && has_node[pl[i].top])
            pl[i].place = VIZ_PLACE_CARD; /* beside a cluster, not on a node */
        else if (pl[i].top != i)
            pl[i].place = VIZ_PLACE_CHILD;
        else if (has_desc && has_desc[i])
            pl[i].place = VIZ_PLACE_PANEL;
        else
            pl[i].place = VIZ_PLACE_CARD;
    }
    free(has_desc);
    free(has_node);
}

int viz_layout_card_h(const viz_lay_t *c, const viz_sent_t *e)
{
    int rows = e->nfields < 5 ? e->nfields : 5;
    return px(c, 40 + 30 + 21 * rows + 46);
}

int viz_node_lane(int n, int i, int j, int *nlanes)
{
    if (i > j) {
        int t = i;
        i = j;
        j = t;
    }
    enum { N = 9 };
    if (n > N) {
        /* Too many to keep apart: one lane per span. */
        if (nlanes)
            *nlanes = n - 2 < VIZ_LANES_MAX ? n - 2 : VIZ_LANES_MAX;
        int l = j - i - 2;
        return j - i < 2 ? -1 : l < VIZ_LANES_MAX - 1 ? l : VIZ_LANES_MAX - 1;
    }
    /* Shorter spans lower, each in the lowest lane where no link already
     * there overlaps it (touching at a node is no overlap). */
    int lane_of[N][N], used = 0;
    int lo[N * N], hi[N * N], ln[N * N], nl = 0;
    for (int span = 2; span < n; span++)
        for (int a = 0; a + span < n; a++) {
            int b = a + span, l = 0;
            for (bool clash = true; clash; ) {
                clash = false;
                for (int k = 0; k < nl; k++)
                    if (ln[k] == l && a < hi[k] && lo[k] < b) {
                        clash = true;
                        l++;
                        break;
                    }
            }
            lo[nl] = a;
            hi[nl] = b;
            ln[nl++] = l;
            lane_of[a][b] = l;
            if (l + 1 > used)
                used = l + 1;
        }
    if (nlanes)
        *nlanes = used < VIZ_LANES_MAX ? used : VIZ_LANES_MAX;
    if (j - i < 2 || j >= n || i < 0)
        return -1;
    int l = lane_of[i][j];
    return l < VIZ_LANES_MAX ? l : VIZ_LANES_MAX - 1;
}

/* Goroutines drawn on a node: those whose role is the node's name. */
static bool on_node(const viz_sg_t *g, const viz_sent_t *node)
{
    return g->role[0] && strcmp(g->role, node->name) == 0;
}

/* Lay out the cluster rows; returns the new y. */
static int lay_clusters(viz_lay_t *c, const viz_eplace_t *pl, int y, bool *g_taken)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    /* Clusters in creation order; nodes without a cluster share a row. */
    for (size_t pass = 0; pass <= sn->nent; pass++) {
        uint64_t cluster = 0;
        size_t ci = pass;
        if (pass < sn->nent) {
            if (pl[pass].place != VIZ_PLACE_CLUSTER)
                continue;
            cluster = sn->ents[pass].id;
        } else {
            ci = (size_t)-1;
        }
        size_t nn = 0;
        for (size_t i = 0; i < sn->nent; i++)
            if (pl[i].place == VIZ_PLACE_NODE &&
                (ci == (size_t)-1 ? pl[i].top == i : pl[i].top == ci))
                nn++;
        if (!nn)
            continue;
        int node_w = px(c, NODE_W);
        int avail = L->main.w;
        if ((int)nn * node_w > avail)
            node_w = avail / (int)nn;
        /* Lanes above the nodes for the links that pass others: room for
         * all but the first, between the row's title and the crowns. */
        int nlanes = 0;
        viz_node_lane((int)nn, 0, 0, &nlanes);
        int lanes_h = nlanes > 1 ? (nlanes - 1) * VIZ_LANE_GAP : 0;
        int row_h = px(c, CLUSTER_TITLE_H + lanes_h + NODE_H);
        viz_item_t *row = viz_layout_add(c, VIZ_ITEM_CLUSTER, cluster, rect(L->main.x, y, L->main.w, row_h));
        (void)row;
        int k = 0;
        for (size_t i = 0; i < sn->nent; i++) {
            if (pl[i].place != VIZ_PLACE_NODE || (ci == (size_t)-1 ? pl[i].top != i : pl[i].top != ci))
                continue;
            const viz_sent_t *e = &sn->ents[i];
            int x = L->main.x + k * node_w;
            int ny = y + px(c, CLUSTER_TITLE_H + lanes_h);
            viz_item_t *it = viz_layout_add(c, VIZ_ITEM_NODE, e->id, rect(x, ny, node_w - px(c, GAP), px(c, NODE_H)));
            if (!it)
                return y + row_h;
            /* The crown's box above the circle. */
            int cx = x + (node_w - px(c, GAP)) / 2;
            it->part = rect(cx - px(c, 22), ny + px(c, 4), px(c, 44), px(c, 26));
            /* What runs on it (a candidate, a session), one line each. */
            int cy = ny + px(c, 156), chips = 0;
            for (size_t j = 0; j < sn->nent; j++) {
                if (pl[j].place != VIZ_PLACE_ON_NODE || pl[j].node != i)
                    continue;
                if (chips++ >= NODE_CHIPS)
                    continue;
                viz_item_t *ch = viz_layout_add(c, VIZ_ITEM_CHILD, sn->ents[j].id,
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
                viz_item_t *gt = viz_layout_add(c, VIZ_ITEM_GOROUTINE, sn->gs[j].id,
                                     rect(gx, gy, px(c, SMALL_TOK), px(c, SMALL_TOK)));
                if (gt) {
                    gt->compact = true;
                    gt->parent = e->id;
                }
                slot++;
            }
            if (total > shown && cap >= 3) {
                int gx = gx0 + (int)(slot % (size_t)per) * step, gy = gy0 + (int)(slot / (size_t)per) * step;
                viz_item_t *m = viz_layout_add(c, VIZ_ITEM_MORE, 0, rect(gx, gy, 3 * step, px(c, SMALL_TOK)));
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
int viz_layout_panel(viz_lay_t *c, size_t pi, const viz_eplace_t *pl, int x, int y, int w)
{
    const viz_snap_t *sn = c->sn;
    size_t nq = 0, nt = 0;
    for (size_t i = 0; i < sn->nent; i++) {
        if (pl[i].place != VIZ_PLACE_CHILD || pl[i].top != pi)
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
    bool compact = c->small_tokens || nt > 24 || inner_rows > 3;
    int tw = compact ? px(c, SMALL_TOK) : px(c, TOK_W), th = compact ? px(c, SMALL_TOK) : px(c, TOK_H);
    int tg = compact ? px(c, SMALL_GAP) : px(c, TOK_GAP);
    int tper = inner / (tw + tg);
    if (tper < 1)
        tper = 1;
    int trows = nt ? (int)((nt + (size_t)tper - 1) / (size_t)tper) : 0;
    int h = px(c, PANEL_TITLE_H) + qrows * (qh + px(c, GAP)) + trows * (th + tg) + px(c, GAP);
    viz_item_t *p = viz_layout_add(c, VIZ_ITEM_PANEL, sn->ents[pi].id, rect(x, y, w, h));
    if (!p)
        return h;
    int qy = y + px(c, PANEL_TITLE_H), k = 0;
    for (size_t i = 0; i < sn->nent; i++) {
        if (pl[i].place != VIZ_PLACE_CHILD || pl[i].top != pi || !viz_entity_is_queue(&sn->ents[i]))
            continue;
        int col = k % qper, row = k / qper;
        viz_item_t *q = viz_layout_add(c, VIZ_ITEM_QUEUE, sn->ents[i].id,
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
        if (pl[i].place != VIZ_PLACE_CHILD || pl[i].top != pi || viz_entity_is_queue(&sn->ents[i]))
            continue;
        int col = k % tper, row = k / tper;
        viz_item_t *t = viz_layout_add(c, VIZ_ITEM_CHILD, sn->ents[i].id,
                            rect(x + px(c, GAP) + col * (tw + tg), ty + row * (th + tg), tw, th));
        if (t) {
            t->compact = compact;
            t->parent = sn->ents[pi].id;
        }
        k++;
    }
    return h;
}


/* The cards and panels, flowing left to right; returns the new y. */
static int lay_cards(viz_lay_t *c, const viz_eplace_t *pl, int y)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    int x = L->main.x, row_h = 0;
    int right = L->main.x + L->main.w;
    for (size_t i = 0; i < sn->nent; i++) {
        const viz_sent_t *e = &sn->ents[i];
        if (pl[i].place == VIZ_PLACE_PANEL) {
            if (x != L->main.x) {
                y += row_h + px(c, GAP);
                x = L->main.x;
                row_h = 0;
            }
            y += viz_layout_panel(c, i, pl, L->main.x, y, L->main.w) + px(c, GAP);
            continue;
        }
        if (pl[i].place != VIZ_PLACE_CARD)
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
            h = viz_layout_card_h(c, e);
        }
        if (x + w > right && x != L->main.x) {
            y += row_h + px(c, GAP);
            x = L->main.x;
            row_h = 0;
        }
        viz_item_t *it = viz_layout_add(c, kind, e->id, rect(x, y, w, h));
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

void viz_layout_build(viz_layout_t *L, const viz_snap_t *sn, int w, int h, double scale)
{
    viz_lay_t c = {L, sn, scale, false, false};
    L->n = 0;
    L->w = w;
    L->h = h;
    L->scale = scale;
    int side_w = px(&c, SIDE_W);
    if (side_w > w * 36 / 100)
        side_w = w * 36 / 100;
    L->header = rect(0, 0, w, px(&c, HEADER_H));
    L->timeline = rect(0, h - px(&c, TIMELINE_H), w, px(&c, TIMELINE_H));
    int lanes_h = L->lanes_rows > 0 ? L->lanes_rows * px(&c, LANE_H) + px(&c, 4 + LANES_AXIS_H) : 0;
    L->lanes_axis_h = L->lanes_rows > 0 ? px(&c, LANES_AXIS_H) : 0;
    if (lanes_h > (h - L->header.h - L->timeline.h) / 3)
        lanes_h = (h - L->header.h - L->timeline.h) / 3;
    L->lanes = rect(0, L->timeline.y - lanes_h, w, lanes_h);
    L->side = rect(w - side_w, L->header.h, side_w, h - L->header.h - L->timeline.h - lanes_h);
    L->main = rect(px(&c, PAD), L->header.h + px(&c, PAD), w - side_w - 2 * px(&c, PAD),
                   h - L->header.h - L->timeline.h - lanes_h - 2 * px(&c, PAD));
    L->track = rect(px(&c, 24), L->timeline.y + px(&c, 40), w - px(&c, 48), px(&c, 6));

    viz_eplace_t *pl = calloc(sn->nent + 1, sizeof *pl);
    bool *g_taken = calloc(sn->ng + 1, sizeof *g_taken);
    if (!pl || !g_taken) {
        free(pl);
        free(g_taken);
        return;
    }
    classify(sn, pl);
    int y = L->main.y;
    y = lay_clusters(&c, pl, y, g_taken);
    y = viz_layout_flow(&c, pl, y, g_taken);
    y = lay_cards(&c, pl, y);
    viz_layout_rest(&c, g_taken, y);
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
