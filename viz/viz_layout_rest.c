/* viz_layout_rest: the goroutines not drawn on a node, an entity or the
 * flow, grouped by role, then the channels and the locks. See viz_layout.h
 * and viz_layout_int.h. */
#include "viz_layout_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void viz_layout_rest(lay_t *c, bool *g_taken, int y)
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
        viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, k,
                             rect(L->main.x, gy, inline_row ? w / 2 - gap : w, px(c, GROUP_HEAD_H)));
        if (hd)
            snprintf(hd->label, sizeof hd->label, "%s", groups[k].role[0] ? groups[k].role : "goroutines");
        if (inline_row) {
            int col = 0;
            for (size_t i = 0; i < sn->ng; i++) {
                if (g_taken[i] || sn->gs[i].entity || gi[i] != k)
                    continue;
                viz_item_t *it = viz_layout_add(c, VIZ_ITEM_GOROUTINE, sn->gs[i].id,
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
            viz_item_t *it = viz_layout_add(c, VIZ_ITEM_GOROUTINE, sn->gs[i].id,
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
            viz_item_t *m = viz_layout_add(c, VIZ_ITEM_MORE, 0,
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
        viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, w, head));
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
            viz_item_t *it = viz_layout_add(c, VIZ_ITEM_CHAN, sn->chans[i].id,
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
            viz_item_t *m = viz_layout_add(c, VIZ_ITEM_MORE, 1, rect(L->main.x + col * colw, y + head + r * row, colw, row));
            if (m)
                m->count = (int)left_out;
        }
        y += head + ((int)(k + (left_out ? 1 : 0)) + cols - 1) / cols * row;
    }
    y += lane2;
    int lk_space = imin(lk_need, bottom - y);
    if (nlock && lk_space >= head + px(c, LOCK_H)) {
        viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, w, head));
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
            viz_layout_add(c, VIZ_ITEM_LOCK, sn->locks[i].id,
                rect(L->main.x + col * (px(c, LOCK_W) + px(c, GAP)), yy, px(c, LOCK_W), px(c, LOCK_H)));
            k++;
        }
    }
}
