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

/* The node's own timer (RaftScope's): the soonest expiry published by the
 * node or by what runs on it (an election timeout, a session's lease),
 * not a store's records (its leases and locks, kept for others). */
static bool node_timer(const viz_snap_t *sn, const viz_track_t *tr, const viz_sent_t *node, simtime_t now,
                       simtime_t *from, simtime_t *until)
{
    bool any = false;
    for (size_t i = 0; i < sn->nent; i++) {
        const viz_sent_t *e = &sn->ents[i];
        if (e != node) {
            if (strcmp(e->kind, "lease") == 0 || strcmp(e->kind, "lock") == 0 || viz_entity_is_node(e))
                continue;
            /* Its nearest node ancestor must be this node. */
            const viz_sent_t *p = e;
            bool mine = false;
            for (int d = 0; d < 8 && p && p->parent; d++) {
                p = viz_snap_entity(sn, p->parent);
                if (p && viz_entity_is_node(p)) {
                    mine = p == node;
                    break;
                }
            }
            if (!mine)
                continue;
        }
        simtime_t f, u;
        if (viz_entity_expiry(e, tr, now, &f, &u) && (!any || u < *until)) {
            *from = f;
            *until = u;
            any = true;
        }
    }
    return any;
}

void viz_draw_node(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                   const viz_frame_t *f, const viz_item_t *it)
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
    /* Its timer as an arc round it that shrinks, clockwise from the top,
     * as the time runs out. */
    simtime_t tfrom = 0, tuntil = 0;
    if (!crashed && node_timer(sn, tr, e, f->p, &tfrom, &tuntil) && tuntil > tfrom) {
        double left = (double)(tuntil - f->p) / (double)(tuntil - tfrom);
        if (left > 1)
            left = 1;
        int r0 = rad + viz_px(L, 1), r1 = rad + viz_px(L, 7);
        viz_gfx_sector(g, cx, cy, r0, r1, 0, 2 * M_PI, VIZ_PANEL_ALT);
        viz_gfx_sector(g, cx, cy, r0, r1, -M_PI / 2, -M_PI / 2 + 2 * M_PI * left, VIZ_C_TIMER);
    }
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

/* ---- links and messages -------------------------------------------------------- */

/* A link's path: a polyline from one node's circle to the other's. */
typedef struct route {
    float x[8], y[8];
    int n;
    float len;
} route_t;

static void route_add(route_t *r, float x, float y)
{
    if (r->n > 0)
        r->len += hypotf(x - r->x[r->n - 1], y - r->y[r->n - 1]);
    r->x[r->n] = x;
    r->y[r->n] = y;
    r->n++;
}

/* The point at fraction t of the route's length. */
static void route_point(const route_t *r, double t, float *x, float *y)
{
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    float want = (float)t * r->len;
    for (int i = 1; i < r->n; i++) {
        float seg = hypotf(r->x[i] - r->x[i - 1], r->y[i] - r->y[i - 1]);
        if (want <= seg || i == r->n - 1) {
            float u = seg > 0 ? want / seg : 0;
            if (u > 1)
                u = 1;
            *x = r->x[i - 1] + (r->x[i] - r->x[i - 1]) * u;
            *y = r->y[i - 1] + (r->y[i] - r->y[i - 1]) * u;
            return;
        }
        want -= seg;
    }
    *x = r->x[0];
    *y = r->y[0];
}

/* The route between t0 and t1, solid or dashed. */
static void route_stroke(viz_gfx_t *g, const route_t *r, double t0, double t1, float thick, uint32_t rgb,
                         float dash)
{
    if (dash <= 0 && t0 <= 0 && t1 >= 1) {
        for (int i = 1; i < r->n; i++)
            viz_gfx_line(g, r->x[i - 1], r->y[i - 1], r->x[i], r->y[i], thick, rgb);
        return;
    }
    int steps = (int)(r->len / (dash > 0 ? dash : 6.0f)) + 2;
    float px0, py0;
    route_point(r, t0, &px0, &py0);
    for (int s = 1; s <= steps; s++) {
        float x, y;
        route_point(r, t0 + (t1 - t0) * s / steps, &x, &y);
        if (dash <= 0 || s % 2)
            viz_gfx_line(g, px0, py0, x, y, thick, rgb);
        px0 = x;
        py0 = y;
    }
}

/* The nodes of a's row, left to right: a's index and the row's size. */
static void row_index(const viz_layout_t *L, const viz_item_t *a, int *index, int *count)
{
    *index = 0;
    *count = 0;
    for (size_t i = 0; i < L->n; i++) {
        const viz_item_t *it = &L->items[i];
        if (it->kind != VIZ_ITEM_NODE || it->r.y != a->r.y)
            continue;
        if (it->r.x < a->r.x)
            (*index)++;
        (*count)++;
    }
}

/* The route of the link between two nodes of a row: straight between
 * neighbours; else up from a's top, along its lane above the row (clear
 * of the crowns), and down into b's top. */
static bool link_route(const viz_layout_t *L, const viz_item_t *a, const viz_item_t *b, route_t *r)
{
    memset(r, 0, sizeof *r);
    if (a->r.y != b->r.y || a == b)
        return false;
    bool rev = b->r.x < a->r.x;
    if (rev) {
        const viz_item_t *t = a;
        a = b;
        b = t;
    }
    int ia, ib, n;
    row_index(L, a, &ia, &n);
    row_index(L, b, &ib, &n);
    int x0, y0, x1, y1;
    node_center(L, a, &x0, &y0);
    node_center(L, b, &x1, &y1);
    float rad = (float)viz_px(L, 38) + 1.0f;
    int lane = viz_node_lane(n, ia, ib, NULL);
    if (lane < 0) {
        route_add(r, (float)x0 + rad, (float)y0);
        route_add(r, (float)x1 - rad, (float)y1);
    } else {
        /* Higher lanes leave nearer the top, so risers do not cross. */
        float dx = rad * (0.9f - 0.1f * (float)lane);
        if (dx < rad * 0.66f)
            dx = rad * 0.66f;
        float dy = sqrtf(rad * rad - dx * dx);
        float ly = (float)y0 - (float)viz_px(L, 74 + VIZ_LANE_GAP * lane);
        float ch = (float)viz_px(L, 5);
        route_add(r, (float)x0 + dx, (float)y0 - dy);
        route_add(r, (float)x0 + dx, ly + ch);
        route_add(r, (float)x0 + dx + ch, ly);
        route_add(r, (float)x1 - dx - ch, ly);
        route_add(r, (float)x1 - dx, ly + ch);
        route_add(r, (float)x1 - dx, (float)y1 - dy);
    }
    if (rev) {
        for (int i = 0; i < r->n / 2; i++) {
            float tx = r->x[i], ty = r->y[i];
            r->x[i] = r->x[r->n - 1 - i];
            r->y[i] = r->y[r->n - 1 - i];
            r->x[r->n - 1 - i] = tx;
            r->y[r->n - 1 - i] = ty;
        }
    }
    return true;
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

bool viz_link_point(const viz_layout_t *L, const viz_snap_t *sn, const char *a, const char *b, double t, float *x,
                    float *y)
{
    const viz_item_t *ia = node_item_by_name(L, sn, a), *ib = node_item_by_name(L, sn, b);
    route_t r;
    if (!ia || !ib || !link_route(L, ia, ib, &r))
        return false;
    route_point(&r, t, x, y);
    return true;
}

static bool link_cut(const viz_cut_t *cuts, size_t ncuts, const char *a, const char *b)
{
    for (size_t k = 0; k < ncuts; k++)
        if ((!strcmp(cuts[k].a, a) && !strcmp(cuts[k].b, b)) || (!strcmp(cuts[k].b, a) && !strcmp(cuts[k].a, b)))
            return true;
    return false;
}

/* The side a partition sets apart: the smaller of the two sides its cuts
 * join (the first side on a tie, the one a fault names first: an isolated
 * node, the leader cut off from the store). */
static bool set_apart(const viz_cut_t *cuts, size_t ncuts, const char *name, char *from, size_t fromsize)
{
    char seen_a[16][24], seen_b[16][24];
    size_t na = 0, nb = 0;
    bool in_a = false, in_b = false;
    for (size_t k = 0; k < ncuts; k++) {
        bool fa = false, fb = false;
        for (size_t i = 0; i < na; i++)
            fa |= !strcmp(seen_a[i], cuts[k].a);
        for (size_t i = 0; i < nb; i++)
            fb |= !strcmp(seen_b[i], cuts[k].b);
        if (!fa && na < 16)
            memcpy(seen_a[na++], cuts[k].a, sizeof seen_a[0]);
        if (!fb && nb < 16)
            memcpy(seen_b[nb++], cuts[k].b, sizeof seen_b[0]);
        in_a |= !strcmp(cuts[k].a, name);
        in_b |= !strcmp(cuts[k].b, name);
    }
    bool apart = na <= nb ? in_a : in_b;
    if (apart && from) {
        size_t w = 0;
        from[0] = 0;
        size_t no = na <= nb ? nb : na;
        for (size_t i = 0; i < no && w + 2 < fromsize; i++)
            w += (size_t)snprintf(from + w, fromsize - w, "%s%s", i ? " " : "", na <= nb ? seen_b[i] : seen_a[i]);
    }
    return apart;
}

/* How far along its route a dropped message dies: at the cut (the link's
 * middle) for a partition or a loss on the wire, at the receiver when it
 * was down or its inbox full. */
static double death_point(const char *why)
{
    return !strcmp(why, "partition") || !strcmp(why, "loss") || !why[0] ? 0.5 : 0.9;
}

/* One message at the playhead: its dot on the way, or a dropped one's end.
 * Messages take at least the frame's minimum flight time on screen; a
 * message still in flight on a cut link stops at the cut (it will be lost
 * there when due). */
static void draw_message(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                         const viz_msg_t *m, simtime_t lat, const viz_cut_t *cuts, size_t ncuts)
{
    const char *sa = viz_snap_obj_name(sn, m->src), *sb = viz_snap_obj_name(sn, m->dst);
    if (!sa || !sb)
        return;
    const viz_item_t *a = node_item_by_name(L, sn, sa), *b = node_item_by_name(L, sn, sb);
    route_t r;
    if (!a || !b || !link_route(L, a, b, &r))
        return;
    simtime_t p = f->p, min = f->msg_ns > 0 ? f->msg_ns : 1;
    if (p < m->sent)
        return;
    double t;
    if (m->fate == VIZ_MSG_DROPPED) {
        double at = death_point(m->why);
        simtime_t travel = m->end - m->sent;
        if (travel < (simtime_t)(at * (double)min))
            travel = (simtime_t)(at * (double)min);
        if (travel < 1)
            travel = 1;
        simtime_t burst = min;
        if (p <= m->sent + travel) {
            t = at * (double)(p - m->sent) / (double)travel;
        } else if (p <= m->sent + travel + burst) {
            /* It dies: a red cross and a ring, and why. */
            float x, y;
            route_point(&r, at, &x, &y);
            double u = (double)(p - m->sent - travel) / (double)burst;
            float k = (float)viz_px(L, 8);
            viz_gfx_ring(g, (int)x, (int)y, viz_px(L, 9) + (int)(u * viz_px(L, 10)), viz_px(L, 2), VIZ_C_FAIL);
            viz_gfx_line(g, x - k, y - k, x + k, y + k, (float)viz_px(L, 4), VIZ_C_FAIL);
            viz_gfx_line(g, x - k, y + k, x + k, y - k, (float)viz_px(L, 4), VIZ_C_FAIL);
            char txt[40];
            snprintf(txt, sizeof txt, "lost: %s", m->why[0] ? m->why : "dropped");
            viz_gfx_text(g, VIZ_FONT_SMALL, VIZ_C_FAIL, (int)x + viz_px(L, 12), (int)y + viz_px(L, 4), txt);
            return;
        } else {
            return;
        }
    } else {
        simtime_t dur = m->fate == VIZ_MSG_DELIVERED ? m->end - m->sent : lat;
        if (dur < min)
            dur = min;
        if (p > m->sent + dur)
            return;
        t = (double)(p - m->sent) / (double)dur;
        if (m->fate == VIZ_MSG_FLIGHT) {
            if (t > 0.95)
                t = 0.95;
            if (t > 0.5 && link_cut(cuts, ncuts, sa, sb))
                t = 0.5;
        }
    }
    float x, y;
    route_point(&r, t, &x, &y);
    viz_gfx_fill_circle(g, (int)x, (int)y, viz_px(L, 7), VIZ_INK);
    viz_gfx_fill_circle(g, (int)x, (int)y, viz_px(L, 5), VIZ_C_QUEUE);
}

/* ---- who believes what: lock holders, leaders, split brain -------------------- */

/* The node item an entity runs on (its nearest node ancestor), or NULL. */
static const viz_item_t *node_of(const viz_layout_t *L, const viz_snap_t *sn, const viz_sent_t *e)
{
    const viz_sent_t *p = e;
    for (int d = 0; d < 8 && p && p->parent; d++) {
        p = viz_snap_entity(sn, p->parent);
        if (p && viz_entity_is_node(p))
            return viz_layout_find(L, VIZ_ITEM_NODE, p->id);
    }
    return NULL;
}

static bool holds(const viz_sent_t *e)
{
    return strcasecmp(e->state, "held") == 0 || strcasecmp(e->state, "locked") == 0 ||
           strcasecmp(e->state, "owner") == 0;
}

/* A lock's short name: what follows its last slash. */
static const char *short_name(const char *s)
{
    const char *sl = strrchr(s, '/');
    return sl && sl[1] ? sl + 1 : s;
}

#define BELIEVERS 16

/* The nodes that believe they hold a lock (an entity on them in state
 * held), and whether another node believes it holds the same one (split
 * brain); the nodes that believe they lead, two or more being split brain
 * too. Fills text with the row's note ("split brain: node1 and node2 both
 * hold storage"). */
typedef struct belief {
    const viz_item_t *node;
    const viz_sent_t *lock; /* NULL: a leader */
    bool split;
} belief_t;

static size_t beliefs(const viz_layout_t *L, const viz_snap_t *sn, belief_t *b, char *text, size_t size)
{
    size_t n = 0;
    text[0] = 0;
    for (size_t i = 0; i < sn->nent && n < BELIEVERS; i++) {
        const viz_sent_t *e = &sn->ents[i];
        /* A store's own record of a lock (kind "lock") is the authority,
         * not a belief. */
        if (!holds(e) || viz_entity_is_node(e) || strcmp(e->kind, "lock") == 0)
            continue;
        const viz_item_t *it = node_of(L, sn, e);
        if (it)
            b[n++] = (belief_t){it, e, false};
    }
    for (size_t i = 0; i < L->n && n < BELIEVERS; i++) {
        const viz_item_t *it = &L->items[i];
        const viz_sent_t *e = it->kind == VIZ_ITEM_NODE ? viz_snap_entity(sn, it->id) : NULL;
        if (e && viz_node_leadership(sn, e))
            b[n++] = (belief_t){it, NULL, false};
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            bool same = b[i].lock && b[j].lock ? strcmp(b[i].lock->name, b[j].lock->name) == 0
                                               : !b[i].lock && !b[j].lock && b[i].node->r.y == b[j].node->r.y;
            if (!same || b[i].node == b[j].node)
                continue;
            if (!text[0]) {
                const viz_sent_t *ni = viz_snap_entity(sn, b[i].node->id), *nj = viz_snap_entity(sn, b[j].node->id);
                if (b[i].lock)
                    snprintf(text, size, "split brain: %s and %s both hold %s", ni ? ni->name : "?",
                             nj ? nj->name : "?", short_name(b[i].lock->name));
                else
                    snprintf(text, size, "split brain: %s and %s both lead", ni ? ni->name : "?", nj ? nj->name : "?");
            }
            b[i].split = b[j].split = true;
        }
    return n;
}

/* The marks of belief on the nodes: a padlock and "holds NAME" at the top
 * left of a holder; a thick vermillion ring round every node of a split
 * brain. */
static void draw_beliefs(viz_gfx_t *g, const viz_layout_t *L, const belief_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int cx, cy;
        node_center(L, b[i].node, &cx, &cy);
        int rad = viz_px(L, 38);
        if (b[i].split) {
            viz_gfx_ring(g, cx, cy, rad + viz_px(L, 9), viz_px(L, 5), VIZ_C_FAIL);
        }
        if (!b[i].lock)
            continue;
        uint32_t col = b[i].split ? VIZ_C_FAIL : VIZ_C_HELD;
        int x = b[i].node->r.x + viz_px(L, 4), y = b[i].node->r.y + viz_px(L, 2);
        int s = viz_px(L, 16);
        viz_gfx_shape(g, VIZ_SHAPE_BAR, x + s / 2, y + s / 2 + viz_px(L, 2), s, col, VIZ_INK);
        char t[64];
        snprintf(t, sizeof t, "holds %s", short_name(b[i].lock->name));
        /* Beside the crown's place on a leader, else the node's width. */
        int right = b[i].node->r.x + b[i].node->r.w - viz_px(L, 4);
        for (size_t j = 0; j < n; j++)
            if (!b[j].lock && b[j].node == b[i].node)
                right = cx - viz_px(L, 26);
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, col, x + s + viz_px(L, 3), y + viz_px(L, 1), right - (x + s + viz_px(L, 3)),
                         t);
    }
}

/* Writes to a guarded resource: each travels from its writer's node to the
 * resource's card; a refused one is crossed out there ("REFUSED: stale
 * token"), an accepted one ticked, for a while after it arrived. */
static void draw_writes(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                        const viz_frame_t *f)
{
    simtime_t fly = f->msg_ns > 0 ? f->msg_ns : 1, show = 3 * fly;
    viz_write_t w;
    for (size_t i = 0; viz_track_write(tr, i, &w); i++) {
        if (f->p < w.t || f->p > w.t + fly + show)
            continue;
        const viz_item_t *res = viz_layout_find_any(L, w.entity, false);
        if (!res)
            continue;
        const viz_sg_t *wg = viz_snap_g(sn, w.g);
        const viz_item_t *from = wg && wg->role[0] ? node_item_by_name(L, sn, wg->role) : NULL;
        if (f->p < w.t + fly) {
            if (!from)
                continue;
            /* From the writer's circle, over what is listed under it. */
            float pts[8], x, y;
            int cx, cy, rad = viz_px(L, 38);
            node_center(L, from, &cx, &cy);
            SDL_Rect circle = {cx - rad, cy - rad, 2 * rad, 2 * rad};
            viz_wait_path(circle, res->r, 0.5f, 0.5f, 2, pts);
            viz_path_point(pts, (double)(f->p - w.t) / (double)fly, &x, &y);
            const char *t = "write";
            int tw = viz_gfx_text_width(g, VIZ_FONT_SMALL, t) + viz_px(L, 14);
            int th = viz_gfx_line_height(g, VIZ_FONT_SMALL) + viz_px(L, 4);
            viz_gfx_fill_rect(g, (int)x - tw / 2 - 2, (int)y - th / 2 - 2, tw + 4, th + 4, VIZ_INK);
            viz_badge(g, VIZ_FONT_SMALL, (int)x - tw / 2, (int)y - th / 2, tw, t, VIZ_OI_BLUE);
            continue;
        }
        /* Arrived: the verdict on the card. */
        SDL_Rect r = res->r;
        int by = r.y + r.h - viz_px(L, 30);
        if (w.refused) {
            float k = (float)viz_px(L, 26), cx = (float)(r.x + r.w - viz_px(L, 36)), cy = (float)(r.y + viz_px(L, 36));
            viz_gfx_line(g, cx - k, cy - k, cx + k, cy + k, (float)viz_px(L, 7), VIZ_C_FAIL);
            viz_gfx_line(g, cx - k, cy + k, cx + k, cy - k, (float)viz_px(L, 7), VIZ_C_FAIL);
            char t[80];
            const viz_sent_t *e = viz_snap_entity(sn, w.entity);
            const char *who = from ? viz_snap_entity(sn, from->id)->name : NULL;
            if (e && viz_sent_has(e, "token"))
                snprintf(t, sizeof t, "REFUSED: token < %lld", (long long)viz_sent_get(e, "token", 0));
            else
                snprintf(t, sizeof t, "REFUSED");
            viz_badge(g, VIZ_FONT_BOLD, r.x + viz_px(L, 6), by, r.w - viz_px(L, 12), t, VIZ_C_FAIL);
            snprintf(t, sizeof t, "%s%sstale write", who ? who : "a", who ? "'s " : " ");
            viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_C_FAIL, r.x + viz_px(L, 8),
                             by - viz_gfx_line_height(g, VIZ_FONT_SMALL) - viz_px(L, 1), r.w - viz_px(L, 16), t);
        } else if (f->p < w.t + fly + show / 3) {
            viz_badge(g, VIZ_FONT_SMALL, r.x + viz_px(L, 6), by, r.w - viz_px(L, 12), "write accepted",
                      VIZ_C_RUNNING);
        }
    }
}

/* Links between the nodes of each row, the cut ones marked, the side a
 * partition sets apart, and the messages travelling on them. Drawn under
 * the nodes (messages: over them). */
void viz_draw_links(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                       const viz_frame_t *f, bool messages)
{
    const viz_cut_t *cuts;
    size_t ncuts = viz_track_cuts(tr, &cuts);
    if (messages) {
        draw_writes(g, L, sn, tr, f);
        const viz_msg_t *msgs;
        size_t nm = viz_track_msgs(tr, &msgs);
        simtime_t lat = viz_track_msg_latency(tr);
        size_t drawn = 0;
        for (size_t i = 0; i < nm && drawn < 400; i++, drawn++)
            draw_message(g, L, sn, f, &msgs[i], lat, cuts, ncuts);
        viz_msg_t m;
        for (size_t i = 0; drawn < 600 && viz_track_msg_done(tr, i, &m); i++) {
            if (m.end + 2 * f->msg_ns < f->p && m.sent + 2 * f->msg_ns < f->p)
                continue;
            draw_message(g, L, sn, f, &m, lat, cuts, ncuts);
            drawn++;
        }
        return;
    }
    /* The side set apart: a tinted ground behind its nodes, and who is cut
     * off from whom at the right of the row's title. */
    char said[160];
    size_t nsaid = 0;
    said[0] = 0;
    for (size_t i = 0; i < L->n && ncuts; i++) {
        const viz_item_t *a = &L->items[i];
        const viz_sent_t *ea = a->kind == VIZ_ITEM_NODE ? viz_snap_entity(sn, a->id) : NULL;
        char from[96];
        if (!ea || !set_apart(cuts, ncuts, ea->name, from, sizeof from))
            continue;
        SDL_Rect r = {a->r.x + viz_px(L, 2), a->r.y - viz_px(L, 2), a->r.w - viz_px(L, 4), viz_px(L, 157)};
        viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, 0xFBE3D6u);
        for (int x = r.x; x < r.x + r.w; x += viz_px(L, 12)) {
            int w = viz_px(L, 6) < r.x + r.w - x ? viz_px(L, 6) : r.x + r.w - x;
            viz_gfx_fill_rect(g, x, r.y, w, viz_px(L, 2), VIZ_C_FAIL);
            viz_gfx_fill_rect(g, x, r.y + r.h - viz_px(L, 2), w, viz_px(L, 2), VIZ_C_FAIL);
        }
        for (int y = r.y; y < r.y + r.h; y += viz_px(L, 12)) {
            int h = viz_px(L, 6) < r.y + r.h - y ? viz_px(L, 6) : r.y + r.h - y;
            viz_gfx_fill_rect(g, r.x, y, viz_px(L, 2), h, VIZ_C_FAIL);
            viz_gfx_fill_rect(g, r.x + r.w - viz_px(L, 2), y, viz_px(L, 2), h, VIZ_C_FAIL);
        }
        if (nsaid < sizeof said)
            nsaid += (size_t)snprintf(said + nsaid, sizeof said - nsaid, "%s%s", nsaid ? " " : "", ea->name);
        if (nsaid < sizeof said && !strchr(said, '|'))
            snprintf(said + nsaid, sizeof said - nsaid, "|%s", from);
    }
    belief_t bel[BELIEVERS];
    char split[160];
    size_t nbel = beliefs(L, sn, bel, split, sizeof split);
    if (nsaid || split[0]) {
        /* "node3 cut off from etcd", "split brain: ...", in the title band
         * of the row. */
        char *bar = strchr(said, '|');
        char text[360];
        size_t w = 0;
        text[0] = 0;
        if (split[0])
            w = (size_t)snprintf(text, sizeof text, "%s", split);
        if (bar) {
            *bar = 0;
            snprintf(text + w, sizeof text - w, "%s%s cut off from %s", w ? " \xc2\xb7 " : "", said, bar + 1);
        } else if (nsaid) {
            snprintf(text + w, sizeof text - w, "%s%s cut off", w ? " \xc2\xb7 " : "", said);
        }
        for (size_t i = 0; i < L->n; i++) {
            const viz_item_t *row = &L->items[i];
            if (row->kind != VIZ_ITEM_CLUSTER)
                continue;
            int tw = viz_gfx_text_width(g, VIZ_FONT_BOLD, text);
            if (tw > row->r.w / 2)
                tw = row->r.w / 2;
            viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_C_FAIL, row->r.x + row->r.w - tw - viz_px(L, 10),
                             row->r.y + viz_px(L, 4), tw, text);
            break;
        }
    }
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
            route_t r;
            if (!eb || !link_route(L, a, b, &r))
                continue;
            bool cut = link_cut(cuts, ncuts, ea->name, eb->name);
            if (!cut) {
                route_stroke(g, &r, 0, 1, 2.0f, 0xB0B0B0u, 0);
                continue;
            }
            route_stroke(g, &r, 0, 1, (float)viz_px(L, 3), VIZ_C_FAIL, (float)viz_px(L, 7));
            float x, y;
            route_point(&r, 0.5, &x, &y);
            float k = (float)viz_px(L, 9);
            viz_gfx_line(g, x - k, y - k, x + k, y + k, (float)viz_px(L, 4), VIZ_C_FAIL);
            viz_gfx_line(g, x - k, y + k, x + k, y - k, (float)viz_px(L, 4), VIZ_C_FAIL);
        }
    }
    draw_beliefs(g, L, bel, nbel);
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

