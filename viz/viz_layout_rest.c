/* viz_layout_rest: the goroutines not drawn on a node, an entity or the
 * flow, grouped by role, then the channels and the locks. See viz_layout.h
 * and viz_layout_int.h. */
#include "viz_layout_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- goroutines, channels, locks ------------------------------------------ */

#define MAX_GROUPS 32

typedef struct viz_group {
    const char *role;   /* "" for none */
    size_t n;           /* goroutines in it */
} viz_group_t;

/* Token sizes: 0 small shapes, 1 normal, 2 large. */
static void tok_size(const viz_lay_t *c, int size, int *tw, int *th, int *gap)
{
    static const int w[3] = {SMALL_TOK, TOK_W, TOK_L_W}, h[3] = {SMALL_TOK, TOK_H, TOK_L_H},
                     g[3] = {SMALL_GAP, TOK_GAP, TOK_GAP};
    *tw = px(c, w[size]);
    *th = px(c, h[size]);
    *gap = px(c, g[size]);
}

static int group_height(const viz_lay_t *c, size_t n, int size, int w)
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

/* What the rest is made of and how much room each part asks for. */
typedef struct viz_rest {
    viz_group_t groups[MAX_GROUPS];
    size_t ngroups, ngs;  /* groups; goroutines in them */
    size_t *gi;           /* the group of each goroutine of the snapshot */
    size_t nch, nlock;    /* channels and locks shown */
    int cols;             /* channel columns */
    int head, row;        /* a section's heading; a channel's row */
    int ch_need, ch_min;  /* room for every channel; for a row of them */
    int lper, lrow;       /* locks per row; a row's height */
    int lk_need, lk_min;  /* room for every lock; for a row of them */
    int size;             /* token size: 0 small shapes, 1 normal, 2 large */
    int g_budget;         /* room for the groups */
} viz_rest_t;

/* The goroutines not placed yet, grouped by role (the last group takes
 * the rest past MAX_GROUPS); the channels and locks to show. False when
 * out of memory. */
static bool rest_count(viz_lay_t *c, const bool *g_taken, viz_rest_t *r)
{
    const viz_snap_t *sn = c->sn;
    r->gi = malloc((sn->ng + 1) * sizeof *r->gi);
    if (!r->gi)
        return false;
    for (size_t i = 0; i < sn->ng; i++) {
        if (g_taken[i] || sn->gs[i].entity)
            continue;
        size_t k = 0;
        while (k < r->ngroups && strcmp(r->groups[k].role, sn->gs[i].role) != 0)
            k++;
        if (k == r->ngroups) {
            if (r->ngroups == MAX_GROUPS)
                k = MAX_GROUPS - 1;
            else
                r->groups[r->ngroups++] = (viz_group_t){sn->gs[i].role, 0};
        }
        r->groups[k].n++;
        r->gi[i] = k;
        r->ngs++;
    }
    for (size_t i = 0; i < sn->nch; i++)
        r->nch += chan_shown(&sn->chans[i]);
    for (size_t i = 0; i < sn->nlock; i++)
        r->nlock += lock_shown(&sn->locks[i]);
    return true;
}

/* The room each part asks for, and the largest tokens that leave the
 * channels and locks a row each: room first for every group's heading and
 * a row of small tokens, then a row of channels, then a row of locks; the
 * rest to the tokens. */
static void rest_budget(viz_lay_t *c, viz_rest_t *r, int avail)
{
    int w = c->L->main.w;
    r->cols = w >= px(c, 780) ? 2 : 1;
    r->head = px(c, SECTION_HEAD_H);
    r->row = px(c, CHAN_ROW_H);
    int ch_rows = (int)((r->nch + (size_t)r->cols - 1) / (size_t)r->cols);
    r->ch_need = r->nch ? r->head + ch_rows * r->row : 0;
    r->ch_min = r->nch ? r->head + r->row : 0;
    r->lper = w / (px(c, LOCK_W) + px(c, GAP));
    if (r->lper < 1)
        r->lper = 1;
    r->lrow = px(c, LOCK_H) + px(c, 4);
    int lk_rows = (int)((r->nlock + (size_t)r->lper - 1) / (size_t)r->lper);
    r->lk_need = r->nlock ? r->head + lk_rows * r->lrow : 0;
    r->lk_min = r->nlock ? r->head + r->lrow : 0; /* goroutines first; these take what is left */
    int heads = (int)r->ngroups * px(c, GROUP_HEAD_H);
    int g_floor = r->ngroups ? heads + px(c, SMALL_TOK + SMALL_GAP) : 0;
    if (g_floor + r->ch_min + r->lk_min > avail) {
        r->lk_min = 0;
        if (g_floor + r->ch_min > avail)
            r->ch_min = 0;
    }
    int g_need = 0;
    for (int sz = 2; sz >= 0; sz--) {
        if (sz == 2 && r->ngs > 12)
            continue;
        int need = 0;
        for (size_t k = 0; k < r->ngroups; k++)
            need += group_height(c, r->groups[k].n, sz, w);
        if (need + r->ch_min + r->lk_min <= avail || sz == 0) {
            r->size = sz;
            g_need = need;
            break;
        }
    }
    r->g_budget = imin(g_need, avail - r->ch_min - r->lk_min);
    /* Every group gets at least its heading (which counts its goroutines
     * by state). */
    if (r->g_budget < heads)
        r->g_budget = imin(heads, avail);
}

/* A small group (of small or normal tokens) sharing its heading's row:
 * its tokens in the right half. Returns the y below it. */
static int rest_inline_group(viz_lay_t *c, const bool *g_taken, const viz_rest_t *r, size_t k, int gy)
{
    const viz_snap_t *sn = c->sn;
    int w = c->L->main.w, tw, th, gap;
    tok_size(c, r->size, &tw, &th, &gap);
    int col = 0;
    for (size_t i = 0; i < sn->ng; i++) {
        if (g_taken[i] || sn->gs[i].entity || r->gi[i] != k)
            continue;
        viz_item_t *it = viz_layout_add(c, VIZ_ITEM_GOROUTINE, sn->gs[i].id,
                             rect(c->L->main.x + w / 2 + col * (tw + gap), gy, tw, th));
        if (it)
            it->compact = r->size == 0;
        col++;
    }
    return gy + (th > px(c, GROUP_HEAD_H) ? th : px(c, GROUP_HEAD_H)) + gap;
}

/* A group's tokens in rows from gy down to glimit, "+N more" for those
 * that do not fit. Returns the y below them. */
static int rest_group_rows(viz_lay_t *c, const bool *g_taken, const viz_rest_t *r, size_t k, int gy, int glimit)
{
    const viz_snap_t *sn = c->sn;
    int w = c->L->main.w, tw, th, gap;
    tok_size(c, r->size, &tw, &th, &gap);
    int per = w / (tw + gap);
    if (per < 1)
        per = 1;
    int col = 0, rows_used = 0;
    size_t left_out = 0, placed = 0;
    bool full = false;
    for (size_t i = 0; i < sn->ng; i++) {
        if (g_taken[i] || sn->gs[i].entity || r->gi[i] != k)
            continue;
        if (full) {
            left_out++;
            continue;
        }
        int ty = gy + rows_used * (th + gap);
        /* Keep the last slot of the last row for "+N more" when more than
         * one goroutine is still to come. */
        bool last_row = ty + 2 * (th + gap) > glimit;
        bool more_after = placed + 1 < r->groups[k].n;
        int keep = r->size == 0 ? 5 : 1; /* slots the "+N more" text needs */
        if (ty + th > glimit || (last_row && col >= per - keep && more_after)) {
            full = true;
            left_out++;
            continue;
        }
        viz_item_t *it = viz_layout_add(c, VIZ_ITEM_GOROUTINE, sn->gs[i].id,
                             rect(c->L->main.x + col * (tw + gap), ty, tw, th));
        if (it) {
            it->compact = r->size == 0;
            it->large = r->size == 2;
        }
        placed++;
        if (++col == per) {
            col = 0;
            rows_used++;
        }
    }
    if (left_out && gy + rows_used * (th + gap) + th <= glimit) {
        int ty = gy + rows_used * (th + gap);
        viz_item_t *m = viz_layout_add(c, VIZ_ITEM_MORE, 0, rect(c->L->main.x + col * (tw + gap), ty, px(c, 140), th));
        if (m)
            m->count = (int)left_out;
        rows_used++;
    } else if (col) {
        rows_used++;
    }
    gy += rows_used * (th + gap);
    return gy > glimit ? glimit : gy;
}

/* The groups, each under its heading, from y; returns the y below them. */
static int rest_groups(viz_lay_t *c, const bool *g_taken, const viz_rest_t *r, int y)
{
    int w = c->L->main.w, tw, th, gap;
    tok_size(c, r->size, &tw, &th, &gap);
    int gy = y, glimit_all = y + r->g_budget;
    int heads_fit = r->g_budget / px(c, GROUP_HEAD_H);
    for (size_t k = 0; k < r->ngroups; k++) {
        /* The tokens of a group leave room for the headings after. */
        int later = imin((int)(r->ngroups - k - 1), heads_fit - (int)k - 1);
        int glimit = glimit_all - (later > 0 ? later : 0) * px(c, GROUP_HEAD_H);
        if (gy + px(c, GROUP_HEAD_H) > glimit)
            break;
        bool inline_row = r->size < 2 && (int)r->groups[k].n * (tw + gap) <= w / 2 &&
                          gy + imin(th, px(c, GROUP_HEAD_H)) <= glimit;
        viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, k,
                             rect(c->L->main.x, gy, inline_row ? w / 2 - gap : w, px(c, GROUP_HEAD_H)));
        if (hd)
            snprintf(hd->label, sizeof hd->label, "%s", r->groups[k].role[0] ? r->groups[k].role : "goroutines");
        if (inline_row)
            gy = rest_inline_group(c, g_taken, r, k, gy);
        else
            gy = rest_group_rows(c, g_taken, r, k, gy + px(c, GROUP_HEAD_H), glimit);
    }
    return gy;
}

/* The channels in ch_space from y, in two columns when wide; returns the
 * y below them. */
static int rest_chans(viz_lay_t *c, const viz_rest_t *r, int y, int ch_space)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    int head = r->head, row = r->row, cols = r->cols;
    viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, L->main.w, head));
    if (hd)
        snprintf(hd->label, sizeof hd->label, "channels");
    int rows = (ch_space - head) / row;
    int colw = L->main.w / cols;
    size_t k = 0, slots = (size_t)rows * (size_t)cols, left_out = 0;
    for (size_t i = 0; i < sn->nch; i++) {
        if (!chan_shown(&sn->chans[i]))
            continue;
        if (r->nch > slots && k + 1 >= slots) {
            left_out++;
            continue;
        }
        int col = (int)(k % (size_t)cols), rr = (int)(k / (size_t)cols);
        int cy = y + head + rr * row;
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
        int col = (int)(k % (size_t)cols), rr = (int)(k / (size_t)cols);
        viz_item_t *m = viz_layout_add(c, VIZ_ITEM_MORE, 1, rect(L->main.x + col * colw, y + head + rr * row, colw, row));
        if (m)
            m->count = (int)left_out;
    }
    return y + head + ((int)(k + (left_out ? 1 : 0)) + cols - 1) / cols * row;
}

/* The locks in lk_space from y. */
static void rest_locks(viz_lay_t *c, const viz_rest_t *r, int y, int lk_space)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, L->main.w, r->head));
    if (hd)
        snprintf(hd->label, sizeof hd->label, "locks and groups");
    int ly = y + r->head, k = 0;
    for (size_t i = 0; i < sn->nlock; i++) {
        if (!lock_shown(&sn->locks[i]))
            continue;
        int col = k % r->lper, rr = k / r->lper;
        int yy = ly + rr * r->lrow;
        if (yy + px(c, LOCK_H) > y + lk_space)
            break;
        viz_layout_add(c, VIZ_ITEM_LOCK, sn->locks[i].id,
            rect(L->main.x + col * (px(c, LOCK_W) + px(c, GAP)), yy, px(c, LOCK_W), px(c, LOCK_H)));
        k++;
    }
}

void viz_layout_rest(viz_lay_t *c, bool *g_taken, int y)
{
    int bottom = c->L->main.y + c->L->main.h;
    viz_rest_t r;
    memset(&r, 0, sizeof r);
    if (!rest_count(c, g_taken, &r))
        return;
    rest_budget(c, &r, bottom - y);
    y = rest_groups(c, g_taken, &r, y);
    free(r.gi);
    /* Room left over goes first to lanes above the channels and the locks,
     * where the arrows of waits bend (viz_waits.c) clear of any text. */
    int slack = bottom - y - r.ch_need - r.lk_need;
    int lane1 = r.nch && slack > 0 ? imin(px(c, 56), slack / 2) : 0;
    int lane2 = r.nlock && slack - lane1 > 0 ? imin(px(c, 40), slack - lane1) : 0;
    y += lane1;
    /* Channels, then locks with what is left. */
    int ch_space = imin(r.ch_need, bottom - y - r.lk_min);
    if (r.nch && ch_space >= r.head + r.row)
        y = rest_chans(c, &r, y, ch_space);
    y += lane2;
    int lk_space = imin(r.lk_need, bottom - y);
    if (r.nlock && lk_space >= r.head + px(c, LOCK_H))
        rest_locks(c, &r, y, lk_space);
}
