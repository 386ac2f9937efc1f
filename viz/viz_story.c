/*
 * viz_story: a reproducer's decisive steps in the side panel, as lanes of
 * a per-goroutine timeline read downwards: one thin lane per goroutine, a
 * dot in its lane for each step it took, the step's words beside it. The
 * step the run has reached is highlighted, those still ahead are faint,
 * and the last (where the run fails) is a vermillion cross.
 */
#include <stdio.h>
#include <string.h>

#include "viz_draw_int.h"
#include "viz_palette.h"
#include "viz_story.h"

#define LANE_W 16

/* The line number of "file.lua:22" (":22"), or the site itself. */
static const char *short_site(const char *site)
{
    const char *c = strrchr(site, ':');
    return c && c[1] >= '0' && c[1] <= '9' ? c : site;
}

int viz_draw_story(viz_gfx_t *g, const viz_layout_t *L, const viz_frame_t *f, int x, int y, int w, int bottom)
{
    const viz_story_t *st = f->story;
    if (!st || st->nrows <= 0)
        return y;
    int lh_b = viz_gfx_line_height(g, VIZ_FONT_BOLD), lh_s = viz_gfx_line_height(g, VIZ_FONT_SMALL);
    if (y + lh_b > bottom)
        return y;
    y += viz_px(L, 4);
    viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, x, y, w, "the failing interleaving");
    y += lh_b;
    char line[256];
    snprintf(line, sizeof line, "on %s; D: next step", st->about);
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, x, y, w, line);
    y += lh_s + viz_px(L, 2);
    /* The lanes' key: "1 main.main  2 withdraw1 ..." over as many lines as
     * it takes. */
    int kx = x;
    for (int i = 0; i < st->nlanes; i++) {
        char k[64];
        snprintf(k, sizeof k, "%d %s", i + 1, st->lanes[i]);
        int kw = viz_gfx_text_width(g, VIZ_FONT_SMALL, k);
        if (kx > x && kx + kw > x + w) {
            kx = x;
            y += lh_s;
        }
        if (y + lh_s > bottom)
            return y;
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, kx, y, w, k);
        kx += kw + viz_px(L, 12);
    }
    y += lh_s + viz_px(L, 4);
    int lane_w = viz_px(L, LANE_W), lanes_w = lane_w * st->nlanes;
    /* The lane numbers over their lanes. */
    for (int i = 0; i < st->nlanes; i++) {
        char n[16];
        snprintf(n, sizeof n, "%d", i + 1);
        viz_gfx_text_center(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, x + i * lane_w + lane_w / 2, y, lane_w, n);
    }
    y += lh_s;
    int row_h = lh_s + viz_px(L, 3);
    int fit = (bottom - y) / row_h;
    if (fit <= 0)
        return y;
    int first = 0;
    if (st->nrows > fit) { /* keep the step reached in sight */
        first = f->story_at - fit / 2;
        if (first > st->nrows - fit)
            first = st->nrows - fit;
        if (first < 0)
            first = 0;
    }
    int last = first + fit < st->nrows ? first + fit : st->nrows;
    int top = y;
    for (int i = 0; i < st->nlanes; i++)
        viz_gfx_fill_rect(g, x + i * lane_w + lane_w / 2, top, 1, (last - first) * row_h, VIZ_GREY);
    for (int r = first; r < last; r++) {
        const viz_story_row_t *row = &st->rows[r];
        bool failing = r == st->nrows - 1, reached = r <= f->story_at, now = r == f->story_at;
        if (now)
            viz_gfx_fill_rect(g, x - viz_px(L, 4), y, w + viz_px(L, 8), row_h,
                              viz_gfx_mix(VIZ_OI_YELLOW, VIZ_PANEL, 0.55));
        int cx = x + row->lane * lane_w + lane_w / 2, cy = y + row_h / 2;
        uint32_t ink = failing ? VIZ_C_FAIL : reached ? VIZ_INK : VIZ_INK_FAINT;
        if (failing)
            viz_gfx_shape(g, VIZ_SHAPE_CROSS, cx, cy, viz_px(L, 12), reached ? VIZ_C_FAIL : VIZ_INK_FAINT,
                          reached ? VIZ_C_FAIL : VIZ_INK_FAINT);
        else if (now)
            viz_gfx_fill_circle(g, cx, cy, viz_px(L, 5), VIZ_INK);
        else
            viz_gfx_fill_circle(g, cx, cy, viz_px(L, 3), ink);
        int tx = x + lanes_w + viz_px(L, 6), tw = x + w - tx;
        const char *who = st->lanes[row->lane];
        const char *sp = strchr(who, ' '); /* "g3 withdraw2": the name */
        snprintf(line, sizeof line, "%s %s%s%s", sp ? sp + 1 : who, row->text, row->site[0] ? " " : "",
                 short_site(row->site));
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, ink, tx, y + (row_h - lh_s) / 2, tw, line);
        if (now) /* underlined: told apart without its colour */
            viz_gfx_fill_rect(g, tx, y + row_h - viz_px(L, 2), tw, 1, VIZ_INK);
        y += row_h;
    }
    if (f->story_at >= st->nrows - 1 && st->failure[0] && y + lh_s <= bottom) {
        snprintf(line, sizeof line, "fails: %s", st->failure);
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_C_FAIL, x, y + viz_px(L, 2), w, line);
        y += lh_s + viz_px(L, 2);
    }
    return y + viz_px(L, 4);
}
