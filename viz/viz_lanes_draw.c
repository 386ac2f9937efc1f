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

#include "duration.h"
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

simtime_t viz_lanes_extent(const struct viz_lanes *ls, const viz_track_t *tr, simtime_t extent)
{
    simtime_t end = viz_lanes_story_end(ls, extent);
    simtime_t mend = tr ? viz_marks_story_end(tr) : 0;
    if (mend > end)
        end = mend;
    if (end <= 0 || extent <= 0)
        return extent;
    /* a tenth more, up to a round step of a tenth of it */
    simtime_t want = end + end / 10;
    simtime_t step = viz_nice_step(want, 10);
    want = (want + step - 1) / step * step;
    return want <= extent * 4 / 5 ? want : extent;
}

/* Periodic chatter: the waits of the same kind on the same object that
 * follow segment i with nothing else between but runs (a ticker's
 * receive, a keep-alive's), i included; *last: the last of them. */
static int repeats(const viz_lane_t *l, uint32_t i, uint32_t *last)
{
    const viz_lseg_t *s = &l->seg[i];
    int n = 1;
    *last = i;
    for (uint32_t j = i + 1; j < l->n; j++) {
        const viz_lseg_t *o = &l->seg[j];
        if (o->st == VIZ_LANE_RUN || o->st == VIZ_G_READY)
            continue;
        if (o->st != s->st || o->obj != s->obj || o->reason != s->reason)
            break;
        n++;
        *last = j;
    }
    return n;
}

/* At least this many waits in a row on the same thing are chatter: one
 * label counts them. */
#define LANE_CHATTER 4

static void draw_lane(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                      const viz_lane_t *l, SDL_Rect r, simtime_t ext, int minx)
{
    simtime_t end = f->known_end >= 0 ? f->known_end : f->p;
    int lastcol = -1, label_end = -100000;
    char last_label[96] = "";
    uint32_t chatter_to = 0; /* segments up to this one are in a counted run */
    bool in_chatter = false;
    /* a counted run's label, written over its bars once they are drawn */
    struct {
        int x;
        uint32_t ink;
        char lab[96];
    } pend[16];
    int npend = 0;
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
        /* labels start clear of the lane's name */
        int lx0 = x0 + viz_px(L, 3) > minx ? x0 + viz_px(L, 3) : minx;
        int room = x1 - lx0 - viz_px(L, 3);
        if (in_chatter && i <= chatter_to)
            continue; /* counted already */
        in_chatter = false;
        int reps = 0;
        if (tag) {
            uint32_t last;
            int n = repeats(l, i, &last);
            if (n >= LANE_CHATTER) {
                /* one label for the whole run: "RECV tick ×40" */
                in_chatter = true;
                chatter_to = last;
                reps = n;
                simtime_t te = last + 1 < l->n ? l->seg[last + 1].t : end;
                room = viz_timeline_x(L, te, ext) - lx0 - viz_px(L, 3);
            }
        }
        if (tag && room > 0) {
            char lab[96];
            const char *on = s->obj ? viz_snap_obj_name(sn, s->obj) : NULL;
            snprintf(lab, sizeof lab, "%s%s%.60s", tag, on && *on ? " " : "", on ? on : "");
            if (reps) {
                size_t k = strlen(lab);
                snprintf(lab + k, sizeof lab - k, " \xc3\x97%d", reps);
            }
            if (viz_gfx_text_width(g, VIZ_FONT_SMALL, lab) > room) {
                if (reps)
                    snprintf(lab, sizeof lab, "%s \xc3\x97%d", tag, reps);
                else
                    snprintf(lab, sizeof lab, "%s", tag);
            }
            int tw = viz_gfx_text_width(g, VIZ_FONT_SMALL, lab);
            bool again = strcmp(lab, last_label) == 0 && lx0 - label_end < viz_px(L, 160);
            if (tw <= room && !again) {
                uint32_t ink = future ? VIZ_INK_MUTED : viz_gfx_ink_on(c);
                if (reps && npend < 16) {
                    pend[npend].x = lx0;
                    pend[npend].ink = ink;
                    snprintf(pend[npend].lab, sizeof pend[npend].lab, "%s", lab);
                    npend++;
                } else if (!reps) {
                    viz_gfx_text(g, VIZ_FONT_SMALL, ink, lx0,
                                 r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2, lab);
                }
                snprintf(last_label, sizeof last_label, "%s", lab);
                label_end = lx0 + tw;
            }
        }
    }
    for (int k = 0; k < npend; k++)
        viz_gfx_text(g, VIZ_FONT_SMALL, pend[k].ink, pend[k].x, r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2,
                     pend[k].lab);
}

void viz_draw_lanes(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                    const viz_frame_t *f)
{
    SDL_Rect b = L->lanes;
    if (!f->lanes || b.h <= 0 || L->lanes_rows <= 0)
        return;
    viz_gfx_fill_rect(g, b.x, b.y, b.w, b.h, VIZ_PANEL);
    viz_gfx_fill_rect(g, b.x, b.y, b.w, 1, VIZ_BORDER);
    simtime_t full = f->extent > 0 ? f->extent : 1;
    simtime_t ext = viz_lanes_extent(f->lanes, tr, full);
    bool own = ext < full;
    const viz_lane_t *pick[VIZ_LANES_ROWS_MAX];
    int k = lanes_pick(f->lanes, f, pick, L->lanes_rows);
    int ah = L->lanes_axis_h;
    int lh = (b.h - viz_px(L, 4) - ah) / L->lanes_rows;
    int lx = L->track.x, lw = L->track.w;
    for (int i = 0; i < k; i++) {
        SDL_Rect r = {lx, b.y + viz_px(L, 2) + i * lh, lw, lh};
        if (i % 2)
            viz_gfx_fill_rect(g, b.x, r.y, b.w, r.h, 0xF7F6F2u);
        /* the name over the lane's start, readable on any bar */
        int tw = viz_gfx_text_width(g, VIZ_FONT_SMALL, pick[i]->name);
        int maxw = lw / 5;
        if (tw > maxw)
            tw = maxw;
        draw_lane(g, L, sn, f, pick[i], r, ext, lx + tw + viz_px(L, 12));
        int ty = r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2;
        viz_gfx_fill_rect(g, lx + viz_px(L, 2), r.y + 2, tw + viz_px(L, 6), r.h - 4,
                          viz_gfx_mix(VIZ_PANEL, VIZ_PANEL_ALT, 0.2));
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, lx + viz_px(L, 5), ty, maxw, pick[i]->name);
    }
    /* The lanes' time axis, in its strip under them: the timeline's, or
     * the story's span when that is well short of the run (then a faint
     * line through the lanes at each round step, and on the timeline a
     * bracket under the span the lanes cover). */
    int ay = b.y + b.h - ah;
    viz_gfx_fill_rect(g, b.x, ay, b.w, 1, VIZ_BORDER);
    simtime_t step = viz_nice_step(ext, lw / viz_px(L, 90) > 1 ? lw / viz_px(L, 90) : 1);
    for (simtime_t t = 0; ah > 0 && t <= ext; t += step) {
        int x = viz_timeline_x(L, t, ext);
        if (own && t > 0)
            viz_gfx_fill_rect(g, x, b.y + 1, 1, ay - b.y - 1, VIZ_INK_FAINT);
        viz_gfx_fill_rect(g, x, ay, 1, viz_px(L, 4), VIZ_INK_MUTED);
        char lab[32];
        dur_format(t, lab, sizeof lab);
        int w = viz_gfx_text_width(g, VIZ_FONT_SMALL, lab);
        int tx = x - w / 2;
        if (tx < lx)
            tx = lx;
        if (tx + w > lx + lw)
            tx = lx + lw - w;
        viz_gfx_text(g, VIZ_FONT_SMALL, own ? VIZ_INK : VIZ_INK_MUTED, tx,
                     ay + (ah - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2 + 1, lab);
        if (t > INT64_MAX - step)
            break;
    }
    if (own) {
        int xe = viz_timeline_x(L, ext, full);
        int by = L->track.y + L->track.h + viz_px(L, 2);
        viz_gfx_fill_rect(g, lx, by, xe - lx, viz_px(L, 2), VIZ_INK);
        viz_gfx_fill_rect(g, xe - viz_px(L, 2), by - viz_px(L, 8), viz_px(L, 2), viz_px(L, 10), VIZ_INK);
    }
    /* the playhead, through the lanes (past the story's span: at its end,
     * dashed) */
    int xp = viz_timeline_x(L, f->p, ext);
    if (f->p <= ext)
        viz_gfx_fill_rect(g, xp - 1, b.y + 1, 2, ay - b.y - 1, VIZ_INK);
    else
        for (int y = b.y + 1; y < ay; y += viz_px(L, 8))
            viz_gfx_fill_rect(g, xp - 1, y, 2, viz_px(L, 4), VIZ_INK);
    uint64_t others;
    const viz_lane_t *all;
    size_t n = viz_lanes_list(f->lanes, &all, &others);
    char more[128] = "";
    int mn = 0;
    if (own) {
        char span[32];
        dur_format(ext, span, sizeof span);
        mn = snprintf(more, sizeof more, "lanes: the story, 0 to %s", span);
    }
    if ((size_t)k < n + others)
        snprintf(more + mn, sizeof more - (size_t)mn, "%s+%llu more goroutines", mn ? " \xc2\xb7 " : "",
                 (unsigned long long)(n + others - (size_t)k));
    if (more[0]) {
        int w = viz_gfx_text_width(g, VIZ_FONT_SMALL, more);
        viz_gfx_text(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, lx + lw - w, L->timeline.y + viz_px(L, 3), more);
    }
}
