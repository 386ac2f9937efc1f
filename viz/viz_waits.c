/*
 * viz_waits: who waits on what, and for how long.
 *
 * Every blocked goroutine drawn on the canvas gets a lasting arrow to what
 * it waits on: the channel's bar (a send enters at the bar's left, a
 * receive leaves at its right, so values read left to right), each case
 * of a blocked select, the lock, semaphore, Cond or WaitGroup's card. A
 * held lock has an arrow to its holder. Arrows of a deadlock are red: all
 * of them once the run ended in one, and at any time those of a wait-for
 * cycle through locks (g waits for a lock held by h, which waits for a
 * lock held by ... g).
 *
 * Paths are cubic curves leaving and entering vertically (horizontally
 * between items side by side); a value moving along a channel follows the
 * same curve (viz_wait_path), so what moves travels on what is drawn.
 *
 * Timed waits (a sleep, a select with a time.After or a context deadline
 * among its cases) shrink: a bar along the token's bottom edge empties as
 * the wake-up approaches (viz_draw_countdown).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "viz_draw_int.h"
#include "viz_palette.h"

#define ARROWS_MAX 400 /* more blocked goroutines than this: no arrows (a cloud, not a picture) */

void viz_wait_path(SDL_Rect a, SDL_Rect b, float ax_frac, float bx_frac, float gap, float pts[8])
{
    float ax = (float)a.x + (float)a.w * ax_frac, bx = (float)b.x + (float)b.w * bx_frac;
    float x0, y0, x1, y1, dx0 = 0, dy0 = 0, dx1 = 0, dy1 = 0;
    if (b.y >= a.y + a.h) { /* b below a */
        x0 = ax, y0 = (float)(a.y + a.h), x1 = bx, y1 = (float)b.y - gap;
        float d = fmaxf((y1 - y0) / 2, 8);
        dy0 = d, dy1 = -d;
    } else if (b.y + b.h <= a.y) { /* above */
        x0 = ax, y0 = (float)a.y, x1 = bx, y1 = (float)(b.y + b.h) + gap;
        float d = fmaxf((y0 - y1) / 2, 8);
        dy0 = -d, dy1 = d;
    } else { /* side by side */
        bool right = b.x >= a.x + a.w / 2;
        y0 = (float)a.y + (float)a.h / 2, y1 = (float)b.y + (float)b.h / 2;
        x0 = right ? (float)(a.x + a.w) : (float)a.x;
        x1 = right ? (float)b.x - gap : (float)(b.x + b.w) + gap;
        float d = fmaxf(fabsf(x1 - x0) / 2, 8);
        dx0 = right ? d : -d, dx1 = right ? -d : d;
    }
    pts[0] = x0, pts[1] = y0;
    pts[2] = x0 + dx0, pts[3] = y0 + dy0;
    pts[4] = x1 + dx1, pts[5] = y1 + dy1;
    pts[6] = x1, pts[7] = y1;
}

void viz_flow_path(SDL_Rect a, SDL_Rect b, float gap, float pts[8])
{
    if (b.x < a.x + a.w && b.x + b.w > a.x) {
        /* One over the other (the turn of a snaking flow): straight down or up. */
        float bx = (float)b.x + (float)b.w / 2;
        float x0 = fminf(fmaxf(bx, (float)a.x + 8), (float)(a.x + a.w) - 8);
        bool below = b.y >= a.y + a.h / 2;
        float y0 = below ? (float)(a.y + a.h) : (float)a.y;
        float y1 = below ? (float)b.y - gap : (float)(b.y + b.h) + gap;
        float d = (y1 - y0) / 3;
        pts[0] = x0, pts[1] = y0, pts[2] = x0, pts[3] = y0 + d;
        pts[4] = bx, pts[5] = y1 - d, pts[6] = bx, pts[7] = y1;
        return;
    }
    bool right = b.x >= a.x + a.w / 2;
    float y1 = (float)b.y + (float)b.h / 2;
    float lo = (float)a.y + fminf(12, (float)a.h / 2), hi = (float)(a.y + a.h) - fminf(12, (float)a.h / 2);
    float y0 = fminf(fmaxf(y1, lo), hi);
    float x0 = right ? (float)(a.x + a.w) : (float)a.x;
    float x1 = right ? (float)b.x - gap : (float)(b.x + b.w) + gap;
    float d = fmaxf(fabsf(x1 - x0) / 2, 8);
    pts[0] = x0, pts[1] = y0;
    pts[2] = x0 + (right ? d : -d), pts[3] = y0;
    pts[4] = x1 + (right ? -d : d), pts[5] = y1;
    pts[6] = x1, pts[7] = y1;
}

void viz_path_point(const float p[8], double t, float *x, float *y)
{
    double u = 1 - t;
    double a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
    *x = (float)(a * p[0] + b * p[2] + c * p[4] + d * p[6]);
    *y = (float)(a * p[1] + b * p[3] + c * p[5] + d * p[7]);
}

/* The curve from t0 to t1, with an arrowhead at t1 if head > 0. */
void viz_draw_path(viz_gfx_t *g, const float p[8], double t0, double t1, float thick, uint32_t rgb, float head)
{
    const int n = 28;
    float px, py;
    viz_path_point(p, t0, &px, &py);
    for (int i = 1; i <= n; i++) {
        float x, y;
        viz_path_point(p, t0 + (t1 - t0) * i / n, &x, &y);
        viz_gfx_line(g, px, py, x, y, thick, rgb);
        px = x, py = y;
    }
    if (head <= 0)
        return;
    float bx, by;
    viz_path_point(p, t1 - 0.04 * (t1 - t0), &bx, &by);
    float dx = px - bx, dy = py - by, len = sqrtf(dx * dx + dy * dy);
    if (len < 1e-3f)
        return;
    dx /= len, dy /= len;
    float tri[6] = {px, py, px - dx * head - dy * head * 0.55f, py - dy * head + dx * head * 0.55f,
                    px - dx * head + dy * head * 0.55f, py - dy * head - dx * head * 0.55f};
    viz_gfx_fill_poly(g, tri, 3, rgb);
}

/* Where a goroutine is drawn: its token, or its entity's (a worker). */
const viz_item_t *viz_g_item(const viz_layout_t *L, const viz_snap_t *sn, uint64_t gid)
{
    const viz_item_t *it = viz_layout_find(L, VIZ_ITEM_GOROUTINE, gid);
    if (it)
        return it;
    const viz_sg_t *gs = viz_snap_g(sn, gid);
    if (!gs || !gs->entity)
        return NULL;
    it = viz_layout_find(L, VIZ_ITEM_CHILD, gs->entity);
    return it ? it : viz_layout_find(L, VIZ_ITEM_ENTITY, gs->entity); /* a stage's card */
}

static const viz_slock_t *find_lock(const viz_snap_t *sn, uint64_t id)
{
    for (size_t i = 0; i < sn->nlock; i++)
        if (sn->locks[i].id == id)
            return &sn->locks[i];
    return NULL;
}

/* True if g's wait leads through lock holders back to g. */
static bool on_lock_cycle(const viz_snap_t *sn, const viz_sg_t *g)
{
    const viz_sg_t *cur = g;
    for (size_t step = 0; step <= sn->ng; step++) {
        if (cur->st != VIZ_G_SYNC || !cur->wait_obj)
            return false;
        const viz_slock_t *l = find_lock(sn, cur->wait_obj);
        if (!l || !l->holder)
            return false;
        if (l->holder == g->id)
            return true;
        cur = viz_snap_g(sn, l->holder);
        if (!cur)
            return false;
    }
    return false;
}

bool viz_in_deadlock(const viz_snap_t *sn, const viz_frame_t *f, const viz_sg_t *g)
{
    bool blocked = g->st == VIZ_G_RECV || g->st == VIZ_G_SEND || g->st == VIZ_G_SELECT ||
                   g->st == VIZ_G_SYNC || g->st == VIZ_G_WAIT;
    if (!blocked)
        return false;
    if (f->outcome && strstr(f->outcome, "deadlock"))
        return true;
    return on_lock_cycle(sn, g);
}

/* Anchor of a wait on a channel's bar: a send enters at the left, a
 * receive leaves at the right. */
static float chan_anchor(bool send)
{
    return send ? 0.2f : 0.8f;
}

void viz_draw_waits(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f)
{
    size_t blocked = 0;
    for (size_t i = 0; i < sn->ng; i++)
        blocked += sn->gs[i].st >= VIZ_G_RECV && sn->gs[i].st <= VIZ_G_SYNC && sn->gs[i].st != VIZ_G_SLEEP;
    if (blocked > ARROWS_MAX)
        return;
    float gap = (float)viz_px(L, 3);
    for (size_t i = 0; i < sn->ng; i++) {
        const viz_sg_t *gs = &sn->gs[i];
        if (gs->st != VIZ_G_RECV && gs->st != VIZ_G_SEND && gs->st != VIZ_G_SELECT && gs->st != VIZ_G_SYNC)
            continue;
        const viz_item_t *gi = viz_g_item(L, sn, gs->id);
        if (!gi)
            continue;
        bool dead = viz_in_deadlock(sn, f, gs);
        bool small = gi->compact;
        uint32_t col = dead ? VIZ_C_FAIL : VIZ_C_WAIT;
        float thick = (float)viz_px(L, dead ? 3 : small ? 1 : 2);
        float head = (float)viz_px(L, small ? 7 : 10);
        if (gs->st == VIZ_G_SYNC) {
            const viz_item_t *li = gs->wait_obj ? viz_layout_find(L, VIZ_ITEM_LOCK, gs->wait_obj) : NULL;
            if (!li)
                continue;
            float p[8];
            viz_wait_path(gi->r, li->r, 0.5f, 0.85f, gap, p);
            viz_draw_path(g, p, 0, 1, thick, col, head);
            continue;
        }
        /* A channel operation: its channel; a select: every case. */
        for (size_t k = 0; k < sn->nwait; k++) {
            const viz_swait_t *w = &sn->waits[k];
            if (w->g != gs->id)
                continue;
            const viz_item_t *ci = viz_layout_find(L, VIZ_ITEM_CHAN, w->chan);
            if (!ci)
                continue;
            float p[8];
            if (ci->compact)
                viz_flow_path(gi->r, ci->part, gap, p);
            else
                viz_wait_path(gi->r, ci->part, 0.5f, chan_anchor(w->send), gap, p);
            viz_draw_path(g, p, 0, 1, thick, col, head);
        }
    }
    /* A held lock points at its holder. */
    for (size_t i = 0; i < sn->nlock; i++) {
        const viz_slock_t *l = &sn->locks[i];
        if (!l->holder || l->kind == OBJ_WAITGROUP)
            continue;
        const viz_item_t *li = viz_layout_find(L, VIZ_ITEM_LOCK, l->id);
        const viz_item_t *hi = viz_g_item(L, sn, l->holder);
        const viz_sg_t *h = viz_snap_g(sn, l->holder);
        if (!li || !hi || !h)
            continue;
        bool dead = viz_in_deadlock(sn, f, h);
        float p[8];
        viz_wait_path(li->r, hi->r, 0.7f, 0.5f, gap, p);
        viz_draw_path(g, p, 0, 1, (float)viz_px(L, dead ? 3 : 2), dead ? VIZ_C_FAIL : VIZ_C_HELD,
                      (float)viz_px(L, 10));
    }
}

void viz_format_left(simtime_t left, char *buf, size_t size)
{
    if (left < 0)
        left = 0;
    simtime_t q = left >= SIM_SEC ? 100 * SIM_MS : left >= 10 * SIM_MS ? SIM_MS : SIM_US;
    dur_format((left + q - 1) / q * q, buf, size);
}

void viz_draw_countdown(viz_gfx_t *g, const viz_layout_t *L, SDL_Rect r, simtime_t from, simtime_t until,
                        simtime_t p, uint32_t fill)
{
    if (until < 0 || until <= from)
        return;
    double left = p >= until ? 0 : p <= from ? 1 : (double)(until - p) / (double)(until - from);
    int h = viz_px(L, 5);
    int y = r.y + r.h - h - 1;
    viz_gfx_fill_rect(g, r.x + 1, y, r.w - 2, h, VIZ_PANEL);
    viz_gfx_fill_rect(g, r.x + 1, y, (int)lround((r.w - 2) * left), h, fill);
    viz_gfx_line(g, (float)r.x + 1, (float)y - 0.5f, (float)(r.x + r.w - 1), (float)y - 0.5f, 1, VIZ_INK);
}

bool viz_entity_expiry(const viz_sent_t *e, const viz_track_t *tr, simtime_t now, simtime_t *from, simtime_t *until)
{
    if (strcmp(e->kind, "breaker") == 0 || strcmp(e->kind, "circuit_breaker") == 0)
        return false;
    for (int i = 0; i < e->nfields; i++) {
        const char *n = e->fname[i];
        size_t len = strlen(n);
        bool is = strcmp(n, "deadline_ns") == 0 || strcmp(n, "expires_at") == 0 ||
                  (len > 6 && strcmp(n + len - 6, "_until") == 0);
        if (!is || e->fval[i] <= now)
            continue;
        *until = e->fval[i];
        *from = now;
        const viz_series_t *s = tr ? viz_track_series(tr, e->id, n) : NULL;
        bool found = false;
        if (s) {
            /* The earliest of the latest run of points equal to the value. */
            for (int k = 0; k < s->n; k++) {
                int j = (s->pos - 1 - k + 2 * VIZ_SERIES) % VIZ_SERIES;
                if (s->t[j] > now)
                    continue;
                if (s->v[j] != *until)
                    break;
                *from = s->t[j];
                found = true;
            }
        }
        if (!found && len > 6 && strcmp(n + len - 6, "_until") == 0) {
            /* X_from beside X_until: when the time started. */
            char fromname[64];
            snprintf(fromname, sizeof fromname, "%.*s_from", (int)(len - 6), n);
            int64_t f0 = viz_sent_get(e, fromname, -1);
            if (f0 >= 0 && f0 <= now && f0 < *until) {
                *from = f0;
                found = true;
            }
        }
        if (!found) {
            int64_t ttl = viz_sent_get(e, "ttl", 0);
            if (ttl > 0 && *until - ttl * 1000000000LL <= now)
                *from = *until - ttl * 1000000000LL;
        }
        return true;
    }
    return false;
}
