/*
 * viz_lanes_draw: the per-goroutine lanes (viz_lanes.h) in their band
 * above the timeline, on the timeline's own axis: a bar per state in the
 * goroutine's state colour (faded beyond the playhead), a tick where it
 * ran, a grey end where it exited, its name at the lane's start and, in a
 * bar wide enough, what it waited on. Several changes within one pixel
 * column are drawn once: periodic chatter becomes a band of ticks.
 */
#include <stdio.h>
#include <string.h>

#include "viz_draw_int.h"
#include "viz_lanes.h"
#include "viz_palette.h"

/* The tag of a lane's state ("RECV", "LOCK", ...). */
static const char *tag_of(const viz_lseg_t *s)
{
    switch (s->st) {
    case VIZ_G_RUNNING: return "CPU";
    case VIZ_G_RECV: return "RECV";
    case VIZ_G_SEND: return "SEND";
    case VIZ_G_SELECT: return "SELECT";
    case VIZ_G_SLEEP: return "SLEEP";
    case VIZ_G_SYNC:
        switch (s->reason) {
        case WAIT_WAITGROUP: return "WG";
        case WAIT_SEMACQUIRE: return "SEMA";
        case WAIT_COND: return "COND";
        case WAIT_RWMUTEX_RLOCK: return "RLOCK";
        default: return "LOCK";
        }
    case VIZ_G_WAIT: return "WAIT";
    case VIZ_G_FAILED: return "PANIC";
    default: return NULL;
    }
}

/* Lanes to draw: the story's goroutines when there is a story, else the
 * first ones in creation order. */
static int lanes_pick(const viz_lanes_t *ls, const viz_frame_t *f, const viz_lane_t **out, int max)
{
    const viz_lane_t *all;
    size_t n = viz_lanes_list(ls, &all, NULL);
    int k = 0;
    if (f && f->story) {
        for (int i = 0; i < f->story->nlanes && k < max; i++) {
            const viz_lane_t *l = viz_lanes_find(ls, f->story->lane_g[i]);
            if (l)
                out[k++] = l;
        }
        if (k)
            return k;
    }
    for (size_t i = 0; i < n && k < max; i++)
        out[k++] = &all[i];
    return k;
}

static void draw_lane(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                      const viz_lane_t *l, SDL_Rect r)
{
    simtime_t ext = f->extent > 0 ? f->extent : 1;
    simtime_t end = f->known_end >= 0 ? f->known_end : f->p;
    int lastcol = -1, label_end = -100000;
    char last_label[96] = "";
    for (uint32_t i = 0; i < l->n; i++) {
        const viz_lseg_t *s = &l->seg[i];
        simtime_t t0 = s->t, t1 = i + 1 < l->n ? l->seg[i + 1].t : end;
        if (t1 < t0)
            t1 = t0;
        int x0 = viz_timeline_x(L, t0, ext), x1 = viz_timeline_x(L, t1, ext);
        bool future = t0 > f->p;
        if (s->st == VIZ_LANE_EXIT) {
            viz_gfx_fill_rect(g, x0, r.y + 1, viz_px(L, 2), r.h - 2, future ? VIZ_GREY : VIZ_INK_MUTED);
            break;
        }
        if (s->st == VIZ_LANE_RUN || x1 <= x0) {
            /* a moment: one tick per pixel column */
            if (x0 == lastcol)
                continue;
            lastcol = x0;
            uint32_t c = s->st == VIZ_LANE_RUN ? VIZ_INK : viz_gstate_color((viz_gstate_t)s->st);
            viz_gfx_fill_rect(g, x0, r.y + r.h / 4, 1, r.h / 2, future ? viz_gfx_mix(c, VIZ_PANEL, 0.6) : c);
            continue;
        }
        if (s->st == VIZ_G_READY && x1 - x0 < 2)
            continue;
        uint32_t c = viz_gstate_color((viz_gstate_t)s->st);
        int xp = viz_timeline_x(L, f->p, ext);
        int split = xp < x0 ? x0 : xp > x1 ? x1 : xp;
        if (split > x0)
            viz_gfx_fill_rect(g, x0, r.y + 2, split - x0, r.h - 4, c);
        if (x1 > split)
            viz_gfx_fill_rect(g, split, r.y + 2, x1 - split, r.h - 4, viz_gfx_mix(c, VIZ_PANEL, 0.6));
        lastcol = x1 - 1;
        /* What it waited on, whole or not at all; the same words again
         * soon after (a ticker's select) are not repeated. */
        const char *tag = tag_of(s);
        int room = x1 - x0 - viz_px(L, 6);
        if (tag && room > 0) {
            char lab[96];
            const char *on = s->obj ? viz_snap_obj_name(sn, s->obj) : NULL;
            snprintf(lab, sizeof lab, "%s%s%.80s", tag, on && *on ? " " : "", on ? on : "");
            if (viz_gfx_text_width(g, VIZ_FONT_SMALL, lab) > room)
                snprintf(lab, sizeof lab, "%s", tag);
            int tw = viz_gfx_text_width(g, VIZ_FONT_SMALL, lab);
            bool again = strcmp(lab, last_label) == 0 && x0 - label_end < viz_px(L, 160);
            if (tw <= room && !again) {
                uint32_t ink = future ? VIZ_INK_MUTED : viz_gfx_ink_on(c);
                viz_gfx_text(g, VIZ_FONT_SMALL, ink, x0 + viz_px(L, 3),
                             r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2, lab);
                snprintf(last_label, sizeof last_label, "%s", lab);
                label_end = x0 + tw;
            }
        }
    }
}

void viz_draw_lanes(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f)
{
    SDL_Rect b = L->lanes;
    if (!f->lanes || b.h <= 0 || L->lanes_rows <= 0)
        return;
    viz_gfx_fill_rect(g, b.x, b.y, b.w, b.h, VIZ_PANEL);
    viz_gfx_fill_rect(g, b.x, b.y, b.w, 1, VIZ_BORDER);
    const viz_lane_t *pick[VIZ_LANES_ROWS_MAX];
    int k = lanes_pick(f->lanes, f, pick, L->lanes_rows);
    int lh = (b.h - viz_px(L, 4)) / L->lanes_rows;
    int lx = L->track.x, lw = L->track.w;
    for (int i = 0; i < k; i++) {
        SDL_Rect r = {lx, b.y + viz_px(L, 2) + i * lh, lw, lh};
        if (i % 2)
            viz_gfx_fill_rect(g, b.x, r.y, b.w, r.h, 0xF7F6F2u);
        draw_lane(g, L, sn, f, pick[i], r);
        /* the name over the lane's start, readable on any bar */
        int tw = viz_gfx_text_width(g, VIZ_FONT_SMALL, pick[i]->name);
        int maxw = lw / 5;
        if (tw > maxw)
            tw = maxw;
        int ty = r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2;
        viz_gfx_fill_rect(g, lx + viz_px(L, 2), r.y + 2, tw + viz_px(L, 6), r.h - 4,
                          viz_gfx_mix(VIZ_PANEL, VIZ_PANEL_ALT, 0.2));
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, lx + viz_px(L, 5), ty, maxw, pick[i]->name);
    }
    /* the playhead, through the lanes */
    int xp = viz_timeline_x(L, f->p, f->extent > 0 ? f->extent : 1);
    viz_gfx_fill_rect(g, xp - 1, b.y + 1, 2, b.h - 1, VIZ_INK);
    uint64_t others;
    const viz_lane_t *all;
    size_t n = viz_lanes_list(f->lanes, &all, &others);
    if ((size_t)k < n + others) {
        char more[64];
        snprintf(more, sizeof more, "+%llu more goroutines", (unsigned long long)(n + others - (size_t)k));
        int w = viz_gfx_text_width(g, VIZ_FONT_SMALL, more);
        viz_gfx_text(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, lx + lw - w, L->timeline.y + viz_px(L, 3), more);
    }
}
