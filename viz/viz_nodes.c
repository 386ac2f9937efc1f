/*
 * viz_nodes: the simulated world in a frame: a cluster's row of nodes
 * (the leader's crown and term, crashed and paused nodes), the links
 * between them (cut ones dashed and crossed), and messages travelling
 * along the links. See viz_draw.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz_draw_int.h"
#include "viz_palette.h"

bool viz_node_is_leader(const viz_sent_t *e)
{
    return strcasecmp(e->state, "leader") == 0 || viz_sent_get(e, "leader", 0) != 0 ||
           viz_sent_get(e, "is_leader", 0) != 0;
}

/* The node itself, or what runs on it (an election's candidate), when
 * it says "leader"; NULL if neither does. */
const viz_sent_t *viz_node_leadership(const viz_snap_t *sn, const viz_sent_t *node)
{
    if (viz_node_is_leader(node))
        return node;
    for (size_t i = 0; i < sn->nent; i++) {
        const viz_sent_t *e = &sn->ents[i];
        if (!viz_node_is_leader(e) || e == node)
            continue;
        const viz_sent_t *p = e;
        for (int d = 0; d < 8 && p && p->parent; d++) {
            if (p->parent == node->id)
                return e;
            p = viz_snap_entity(sn, p->parent);
        }
    }
    return NULL;
}

static void crown(viz_gfx_t *g, SDL_Rect b)
{
    float x = (float)b.x, y = (float)b.y, w = (float)b.w, h = (float)b.h;
    float pts[14] = {x, y + h, x, y + h * 0.25f, x + w * 0.25f, y + h * 0.6f, x + w * 0.5f, y,
                     x + w * 0.75f, y + h * 0.6f, x + w, y + h * 0.25f, x + w, y + h};
    /* Outline, then the gold. The polygon is not convex: draw it as
     * triangles from the base's midpoint, which sees every vertex. */
    for (int pass = 0; pass < 2; pass++) {
        float grow = pass == 0 ? 2.0f : 0.0f;
        uint32_t c = pass == 0 ? VIZ_INK : VIZ_C_LEADER;
        float cx = x + w / 2, cy = y + h + grow * 0.5f;
        for (int i = 0; i < 6; i++) {
            float t[6] = {cx, cy, pts[2 * i] + (pts[2 * i] < cx ? -grow : grow), pts[2 * i + 1] - grow,
                          pts[2 * i + 2] + (pts[2 * i + 2] < cx ? -grow : grow), pts[2 * i + 3] - grow};
            viz_gfx_fill_poly(g, t, 3, c);
        }
    }
    viz_gfx_fill_rect(g, b.x, b.y + b.h - 4, b.w, 4, VIZ_INK);
}

static void node_center(const viz_layout_t *L, const viz_item_t *it, int *cx, int *cy)
{
    *cx = it->r.x + it->r.w / 2;
    *cy = it->r.y + viz_px(L, 32 + 40);
}

void viz_draw_node(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                      const viz_item_t *it)
{
    const viz_sent_t *e = viz_snap_entity(sn, it->id);
    if (!e)
        return;
    int cx, cy;
    node_center(L, it, &cx, &cy);
    int rad = viz_px(L, 38);
    const viz_sent_t *lead = viz_node_leadership(sn, e);
    bool leader = lead != NULL;
    const char *s = e->state;
    bool crashed = strcasestr(s, "crash") || strcasecmp(s, "down") == 0 || strcasestr(s, "dead");
    bool paused = strcasestr(s, "pause") != NULL;
    uint32_t fill = crashed ? 0xCFCFCFu : paused ? VIZ_C_SLEEP : leader ? VIZ_C_RUNNING
                  : strcasestr(s, "candidate") ? VIZ_C_READY : VIZ_PANEL;
    if (viz_selected(f, it))
        viz_gfx_ring(g, cx, cy, rad + viz_px(L, 8), 3, VIZ_SELECT);
    viz_gfx_fill_circle(g, cx, cy, rad, VIZ_INK);
    viz_gfx_fill_circle(g, cx, cy, rad - viz_px(L, 3), fill);
    uint32_t ink = viz_gfx_ink_on(fill);
    /* The name as large as fits in the circle. */
    viz_font_t nf = VIZ_FONT_LARGE;
    if (viz_gfx_text_width(g, nf, e->name) > 2 * rad - viz_px(L, 10))
        nf = VIZ_FONT_BOLD;
    if (viz_gfx_text_width(g, nf, e->name) > 2 * rad - viz_px(L, 10))
        nf = VIZ_FONT_SMALL;
    viz_gfx_text_center(g, nf, ink, cx, cy - viz_gfx_line_height(g, nf) / 2, 2 * rad - viz_px(L, 6), e->name);
    if (crashed) {
        float k = (float)rad * 0.75f;
        viz_gfx_line(g, (float)cx - k, (float)cy - k, (float)cx + k, (float)cy + k, (float)viz_px(L, 5), VIZ_C_FAIL);
        viz_gfx_line(g, (float)cx - k, (float)cy + k, (float)cx + k, (float)cy - k, (float)viz_px(L, 5), VIZ_C_FAIL);
    }
    if (paused) {
        int bw = viz_px(L, 7), bh = viz_px(L, 22);
        viz_gfx_fill_rect(g, cx + rad - bw * 3, cy - rad, bw, bh, VIZ_INK);
        viz_gfx_fill_rect(g, cx + rad - bw, cy - rad, bw, bh, VIZ_INK);
    }
    if (leader)
        crown(g, it->part);
    int y = cy + rad + viz_px(L, 4), w = it->r.w - viz_px(L, 4);
    char line[96];
    if (leader && strcasecmp(s, "leader") != 0)
        snprintf(line, sizeof line, "LEADER \xc2\xb7 %s", s);
    else
        snprintf(line, sizeof line, "%s", leader ? "LEADER" : s);
    viz_gfx_text_center(g, VIZ_FONT_BOLD, crashed ? VIZ_C_FAIL : VIZ_INK, cx, y, w, line);
    y += viz_gfx_line_height(g, VIZ_FONT_BOLD);
    int n = 0;
    line[0] = 0;
    const viz_sent_t *te = lead && viz_sent_has(lead, "term") ? lead : e;
    if (viz_sent_has(te, "term"))
        n += snprintf(line, sizeof line, "term %lld", (long long)viz_sent_get(te, "term", 0));
    if (viz_sent_has(e, "incarnation") && viz_sent_get(e, "incarnation", 0))
        snprintf(line + n, sizeof line - (size_t)n, "%sincarnation %lld", n ? " \xc2\xb7 " : "",
                 (long long)viz_sent_get(e, "incarnation", 0));
    viz_gfx_text_center(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, cx, y, w, line);
}

/* A point on the arc joining two nodes of a row (a quadratic curve above
 * them), at t in [0, 1]. */
static void arc_point(float x0, float y0, float x1, float y1, float lift, float t, float *x, float *y)
{
    float mx = (x0 + x1) / 2, my = (y0 + y1) / 2 - lift;
    float u = 1 - t;
    *x = u * u * x0 + 2 * u * t * mx + t * t * x1;
    *y = u * u * y0 + 2 * u * t * my + t * t * y1;
}

static const viz_item_t *node_item_by_name(const viz_layout_t *L, const viz_snap_t *sn, const char *name)
{
    for (size_t i = 0; i < L->n; i++) {
        const viz_item_t *it = &L->items[i];
        if (it->kind != VIZ_ITEM_NODE)
            continue;
        const viz_sent_t *e = viz_snap_entity(sn, it->id);
        if (e && strcmp(e->name, name) == 0)
            return it;
    }
    return NULL;
}

/* Links between the nodes of each row, the cut ones marked, and the
 * messages travelling on them. Drawn under the nodes. */
void viz_draw_links(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                       const viz_frame_t *f, bool messages)
{
    const viz_cut_t *cuts;
    size_t ncuts = viz_track_cuts(tr, &cuts);
    for (size_t i = 0; i < L->n; i++) {
        const viz_item_t *a = &L->items[i];
        if (a->kind != VIZ_ITEM_NODE)
            continue;
        const viz_sent_t *ea = viz_snap_entity(sn, a->id);
        for (size_t j = i + 1; j < L->n && ea; j++) {
            const viz_item_t *b = &L->items[j];
            if (b->kind != VIZ_ITEM_NODE || b->r.y != a->r.y)
                continue;
            const viz_sent_t *eb = viz_snap_entity(sn, b->id);
            if (!eb)
                continue;
            bool cut = false;
            for (size_t k = 0; k < ncuts; k++)
                if ((!strcmp(cuts[k].a, ea->name) && !strcmp(cuts[k].b, eb->name)) ||
                    (!strcmp(cuts[k].b, ea->name) && !strcmp(cuts[k].a, eb->name)))
                    cut = true;
            int x0, y0, x1, y1;
            node_center(L, a, &x0, &y0);
            node_center(L, b, &x1, &y1);
            float lift = (float)viz_px(L, 30) + (float)(x1 - x0) * 0.12f;
            if (messages)
                continue;
            float px0 = (float)x0, py0 = (float)y0;
            for (int s = 1; s <= 24; s++) {
                float x, y;
                arc_point((float)x0, (float)y0, (float)x1, (float)y1, lift, (float)s / 24, &x, &y);
                if (!cut || s % 2)
                    viz_gfx_line(g, px0, py0, x, y, cut ? (float)viz_px(L, 3) : 2.0f, cut ? VIZ_C_FAIL : 0xB0B0B0u);
                px0 = x;
                py0 = y;
            }
            if (cut) {
                float x, y;
                arc_point((float)x0, (float)y0, (float)x1, (float)y1, lift, 0.5f, &x, &y);
                float k = (float)viz_px(L, 9);
                viz_gfx_line(g, x - k, y - k, x + k, y + k, (float)viz_px(L, 4), VIZ_C_FAIL);
                viz_gfx_line(g, x - k, y + k, x + k, y - k, (float)viz_px(L, 4), VIZ_C_FAIL);
            }
        }
    }
    if (!messages)
        return;
    const viz_msg_t *msgs;
    size_t nm = viz_track_msgs(tr, &msgs);
    simtime_t lat = viz_track_msg_latency(tr);
    for (size_t i = 0; i < nm && i < 400; i++) {
        const char *sa = viz_snap_obj_name(sn, msgs[i].src), *sb = viz_snap_obj_name(sn, msgs[i].dst);
        if (!sa || !sb)
            continue;
        const viz_item_t *a = node_item_by_name(L, sn, sa), *b = node_item_by_name(L, sn, sb);
        if (!a || !b || a == b)
            continue;
        int x0, y0, x1, y1;
        node_center(L, a, &x0, &y0);
        node_center(L, b, &x1, &y1);
        bool rev = x1 < x0;
        float lift = (float)viz_px(L, 30) + (float)abs(x1 - x0) * 0.12f;
        double t = lat > 0 ? (double)(f->p - msgs[i].sent) / (double)lat : 0.5;
        if (t < 0.05)
            t = 0.05;
        if (t > 0.95)
            t = 0.95;
        float x, y;
        if (rev)
            arc_point((float)x1, (float)y1, (float)x0, (float)y0, lift, (float)(1 - t), &x, &y);
        else
            arc_point((float)x0, (float)y0, (float)x1, (float)y1, lift, (float)t, &x, &y);
        viz_gfx_fill_circle(g, (int)x, (int)y, viz_px(L, 7), VIZ_INK);
        viz_gfx_fill_circle(g, (int)x, (int)y, viz_px(L, 5), VIZ_C_QUEUE);
    }
}

void viz_draw_cluster(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                         const viz_item_t *it)
{
    SDL_Rect r = it->r;
    viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, 0xFBFBF8u);
    viz_gfx_rect(g, r.x, r.y, r.w, r.h, 1, VIZ_BORDER);
    const viz_sent_t *e = it->id ? viz_snap_entity(sn, it->id) : NULL;
    char title[128];
    snprintf(title, sizeof title, "%s", e ? e->name : "nodes");
    int x = r.x + viz_px(L, 8);
    int w = viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, x, r.y + viz_px(L, 4), r.w / 2, title);
    if (e && e->state[0]) {
        char st[96];
        int64_t cuts = viz_sent_get(e, "cut_links", 0);
        if (cuts)
            snprintf(st, sizeof st, "%s (%lld links cut)", e->state, (long long)cuts);
        else
            snprintf(st, sizeof st, "%s", e->state);
        viz_badge(g, VIZ_FONT_BOLD, x + w + viz_px(L, 10), r.y + viz_px(L, 3), r.w / 2, st,
                  viz_state_color(e->state));
    }
    (void)f;
}

