/* viz_layout_flow: the flow of values, laid out left to right. See
 * viz_layout.h and viz_layout_int.h. */
#include "viz_layout_int.h"

#include <stdio.h>
#include <string.h>

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

typedef struct viz_factor {
    size_t ent;     /* the entity drawn (a card or a panel), or (size_t)-1 */
    uint64_t g;     /* else the goroutine drawn as a token */
    int col;
    int h;
    int y;
    bool small;     /* a panel whose tokens are drawn small to fit */
} viz_factor_t;

typedef struct viz_fchan {
    uint64_t id;
    uint32_t from, to; /* bit sets of actors sending into it, receiving from it */
    int gap;           /* the gap (after column gap) it is drawn in */
    int y;
} viz_fchan_t;

typedef struct viz_flow {
    viz_factor_t a[FLOW_ACTORS];
    size_t na;
    viz_fchan_t ch[FLOW_CHANS];
    size_t nch;
} viz_flow_t;

/* The actor of goroutine gid: its entity's top card or panel, or itself;
 * -1 when it is drawn elsewhere (on a node) or the flow is full. */
static int flow_actor(viz_flow_t *fw, const viz_snap_t *sn, const viz_eplace_t *pl, uint64_t gid)
{
    size_t ent = (size_t)-1;
    for (size_t i = 0; i < sn->nent; i++)
        if (sn->ents[i].g == gid) {
            size_t top = pl[i].top;
            if (pl[top].place != VIZ_PLACE_CARD && pl[top].place != VIZ_PLACE_PANEL)
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
        for (size_t i = 0; g->role[0] && i < sn->nent; i++)
            if (viz_entity_is_node(&sn->ents[i]) && strcmp(sn->ents[i].name, g->role) == 0)
                return -1; /* drawn on its node */
    }
    for (size_t k = 0; k < fw->na; k++)
        if (ent != (size_t)-1 ? fw->a[k].ent == ent : fw->a[k].ent == (size_t)-1 && fw->a[k].g == gid)
            return (int)k;
    if (fw->na == FLOW_ACTORS)
        return -2;
    fw->a[fw->na] = (viz_factor_t){ent, ent == (size_t)-1 ? gid : 0, 0, 0, 0, false};
    return (int)fw->na++;
}

static bool flow_dfs(const viz_flow_t *fw, const uint32_t *adj, size_t k, uint8_t *mark, uint32_t *back)
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

static int actor_w(const viz_lay_t *c, const viz_factor_t *a, int col_w)
{
    (void)c;
    (void)a;
    return col_w;
}

static int actor_h(viz_lay_t *c, const viz_snap_t *sn, const viz_eplace_t *pl, const viz_factor_t *a, int w)
{
    if (a->ent == (size_t)-1)
        return px(c, TOK_L_H);
    if (pl[a->ent].place == VIZ_PLACE_PANEL) {
        /* As viz_layout_panel lays it out at this width (its items taken
         * back). */
        size_t first = c->L->n;
        c->small_tokens = a->small;
        int h = viz_layout_panel(c, a->ent, pl, 0, 0, w);
        c->small_tokens = false;
        c->L->n = first;
        return -h; /* a panel cannot be shortened */
    }
    return viz_layout_card_h(c, &sn->ents[a->ent]) + px(c, 22); /* and its goroutine's line */
}

/* Where the flow goes: its columns, their widths and rows, their heights. */
typedef struct viz_flow_geom {
    uint32_t used;                 /* the stages joined by a channel (bits) */
    uint32_t adj[FLOW_ACTORS];     /* stage a sends to the stages adj[a] */
    uint32_t back[FLOW_ACTORS];    /* ... of which these go back upstream */
    int ncols, nrows, per_row;
    int cw, cg;                    /* a column's width, a gap's */
    int colx[FLOW_COLS], colrow[FLOW_COLS];
    int col_h[FLOW_COLS];          /* a column's stages stacked */
    int row_h[2], row_y[2];
    int ch_h, turn;                /* a channel's height; the turn's between rows */
} viz_flow_geom_t;

/* The flow's stages and channels from the edges the tracker saw. False
 * when there are too many for a flow (the generic layout then). */
static bool flow_collect(viz_lay_t *c, const viz_eplace_t *pl, viz_flow_t *fw)
{
    const viz_snap_t *sn = c->sn;
    for (size_t i = 0; i < sn->nch; i++)
        ((viz_sch_t *)&sn->chans[i])->in_flow = false;
    memset(fw, 0, sizeof *fw);
    for (size_t i = 0; i < sn->nflow; i++) {
        const viz_flow_edge_t *e = &sn->flow[i];
        const viz_sch_t *ch = viz_snap_chan(sn, e->chan);
        if (ch && ch->ctx_done)
            continue; /* a channel gone since (freed) keeps its place: the flow stands */
        int k = flow_actor(fw, sn, pl, e->g);
        if (k == -2)
            return false; /* too many stages */
        if (k < 0)
            continue;
        size_t j = 0;
        while (j < fw->nch && fw->ch[j].id != e->chan)
            j++;
        if (j == fw->nch) {
            if (fw->nch == FLOW_CHANS)
                return false;
            fw->ch[fw->nch++].id = e->chan;
        }
        if (e->send)
            fw->ch[j].from |= 1u << k;
        else
            fw->ch[j].to |= 1u << k;
    }
    return true;
}

/* Keep the channels joining two different stages, note the stages they
 * join, and give each stage its column: the longest chain of stages
 * feeding it, values going back upstream (a reply) left out. False if
 * what is left is no flow. */
static bool flow_columns(viz_flow_t *fw, viz_flow_geom_t *ge)
{
    size_t nc = 0;
    for (size_t j = 0; j < fw->nch; j++) {
        viz_fchan_t *f = &fw->ch[j];
        if (!f->from || !f->to || (f->from == f->to && !(f->from & (f->from - 1))))
            continue;
        ge->used |= f->from | f->to;
        for (size_t a = 0; a < fw->na; a++)
            if (f->from & (1u << a))
                ge->adj[a] |= f->to & ~(1u << a);
        fw->ch[nc++] = *f;
    }
    fw->nch = nc;
    size_t nused = 0;
    for (size_t a = 0; a < fw->na; a++)
        nused += (ge->used >> a) & 1u;
    if (nc == 0 || nused < 2)
        return false;
    uint8_t mark[FLOW_ACTORS] = {0};
    uint32_t back[FLOW_ACTORS] = {0};
    for (size_t a = 0; a < fw->na; a++)
        if (!mark[a] && (ge->used >> a & 1u))
            flow_dfs(fw, ge->adj, a, mark, back);
    for (size_t round = 0; round < fw->na; round++)
        for (size_t a = 0; a < fw->na; a++)
            for (size_t b = 0; b < fw->na; b++)
                if ((ge->adj[a] & ~back[a]) & (1u << b) && fw->a[b].col < fw->a[a].col + 1)
                    fw->a[b].col = fw->a[a].col + 1;
    memcpy(ge->back, back, sizeof back);
    ge->ncols = 0;
    for (size_t a = 0; a < fw->na; a++)
        if ((ge->used >> a & 1u) && fw->a[a].col + 1 > ge->ncols)
            ge->ncols = fw->a[a].col + 1;
    return ge->ncols >= 2 && ge->ncols <= FLOW_COLS;
}

/* Widths: the channels' gaps first (a channel's name whole over its pipe
 * when the stages keep 150 pixels), the stages share the rest. A long
 * flow that would squeeze its stages snakes: the first half left to
 * right, the rest right to left under it, the channel between the halves
 * in the turn. False if the stages would be too narrow. */
static bool flow_widths(viz_lay_t *c, const viz_flow_t *fw, viz_flow_geom_t *ge)
{
    const viz_snap_t *sn = c->sn;
    int W = c->L->main.w, ncols = ge->ncols;
    size_t longest = 0;
    for (size_t j = 0; j < fw->nch; j++) {
        const viz_sch_t *ch = viz_snap_chan(sn, fw->ch[j].id);
        size_t n = ch && ch->name[0] ? strlen(ch->name) : 8;
        longest = n > longest ? n : longest;
    }
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
        return false;
    int span = per_row * cw + (per_row - 1) * cg;
    int x0 = c->L->main.x + (W - span) / 2;
    for (int k = 0; k < ncols; k++) {
        ge->colrow[k] = k < per_row ? 0 : 1;
        int slot = k < per_row ? k : per_row - 1 - (k - per_row);
        ge->colx[k] = x0 + slot * (cw + cg);
    }
    ge->cw = cw;
    ge->cg = cg;
    ge->nrows = nrows;
    ge->per_row = per_row;
    return true;
}

/* A stage that nothing feeds moves from the far left to just before
 * the first stage it feeds, when that column has room for it (it grows
 * no taller than the tallest) and it leaves its own column not empty:
 * its channel then joins two neighbouring columns and its path crosses no
 * other stage (fan_out_fan_in's first fan-out beside the merge). */
static void flow_pull_sources(viz_flow_t *fw, const viz_flow_geom_t *ge, int sgap)
{
    int col_h[FLOW_COLS] = {0}, col_n[FLOW_COLS] = {0}, tallest = 0;
    uint32_t fed = 0;
    for (size_t a = 0; a < fw->na; a++) {
        if (!(ge->used >> a & 1u))
            continue;
        fed |= ge->adj[a] & ~ge->back[a];
        const viz_factor_t *f = &fw->a[a];
        col_h[f->col] += (col_n[f->col]++ ? sgap : 0) + f->h;
        tallest = col_h[f->col] > tallest ? col_h[f->col] : tallest;
    }
    for (size_t a = 0; a < fw->na; a++) {
        viz_factor_t *f = &fw->a[a];
        if (!(ge->used >> a & 1u) || (fed >> a & 1u) || col_n[f->col] < 2)
            continue;
        int first = -1;
        for (size_t b = 0; b < fw->na; b++)
            if ((ge->adj[a] & ~ge->back[a]) >> b & 1u && (first < 0 || fw->a[b].col < first))
                first = fw->a[b].col;
        int to = first - 1;
        if (to <= f->col || col_h[to] + (col_n[to] ? sgap : 0) + f->h > tallest)
            continue;
        col_h[f->col] -= f->h + sgap;
        col_n[f->col]--;
        col_h[to] += (col_n[to]++ ? sgap : 0) + f->h;
        f->col = to;
    }
}

/* Heights: each column's stages stacked, a row as tall as its tallest
 * column; cards give up fields (not their name, state and goroutine) to
 * leave the rest of the run a few rows. False if there is no room. */
static bool flow_heights(viz_lay_t *c, const viz_eplace_t *pl, viz_flow_t *fw, viz_flow_geom_t *ge, int y)
{
    viz_layout_t *L = c->L;
    int head = px(c, SECTION_HEAD_H), bottom = L->main.y + L->main.h;
    ge->ch_h = px(c, 46);
    ge->turn = ge->nrows > 1 ? ge->ch_h + 2 * px(c, GAP) : 0;
    int col_n[FLOW_COLS] = {0}, stack = 1;
    for (size_t a = 0; a < fw->na; a++)
        if (ge->used >> a & 1u && ++col_n[fw->a[a].col] > stack)
            stack = col_n[fw->a[a].col];
    int sgap = px(c, GAP) * 2;
    int budget = ((bottom - y - head - ge->turn - 2 * px(c, GROUP_HEAD_H)) / ge->nrows - (stack - 1) * sgap) / stack;
    if (budget < px(c, 60))
        return false;
    for (size_t a = 0; a < fw->na; a++) {
        if (!(ge->used >> a & 1u))
            continue;
        viz_factor_t *f = &fw->a[a];
        f->h = actor_h(c, c->sn, pl, f, actor_w(c, f, ge->cw));
        if (f->h < 0 && -f->h > budget * stack) {
            /* A narrow panel stacks its tokens one to a row: small
             * shapes side by side instead (a pipeline's parallel stage). */
            f->small = true;
            f->h = actor_h(c, c->sn, pl, f, actor_w(c, f, ge->cw));
        }
        if (f->h < 0) {
            f->h = -f->h;
            if (f->h > budget * stack)
                return false;
        } else if (f->h > budget) {
            f->h = budget;
        }
    }
    flow_pull_sources(fw, ge, sgap);
    for (size_t a = 0; a < fw->na; a++) {
        if (!(ge->used >> a & 1u))
            continue;
        viz_factor_t *f = &fw->a[a];
        if (ge->col_h[f->col])
            ge->col_h[f->col] += sgap;
        f->y = ge->col_h[f->col];
        ge->col_h[f->col] += f->h;
    }
    for (int k = 0; k < ge->ncols; k++)
        if (ge->col_h[k] > ge->row_h[ge->colrow[k]])
            ge->row_h[ge->colrow[k]] = ge->col_h[k];
    return true;
}

/* The stages, each column centred on its row's height. */
static void flow_place_stages(viz_lay_t *c, viz_eplace_t *pl, viz_flow_t *fw, const viz_flow_geom_t *ge,
                              bool *g_taken)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    for (size_t a = 0; a < fw->na; a++) {
        if (!(ge->used >> a & 1u))
            continue;
        viz_factor_t *f = &fw->a[a];
        int x = ge->colx[f->col], row = ge->colrow[f->col];
        f->y += ge->row_y[row] + (ge->row_h[row] - ge->col_h[f->col]) / 2;
        if (f->ent == (size_t)-1) {
            viz_item_t *it = viz_layout_add(c, VIZ_ITEM_GOROUTINE, f->g, rect(x, f->y, ge->cw, f->h));
            if (it)
                it->large = true;
            for (size_t i = 0; i < sn->ng; i++)
                if (sn->gs[i].id == f->g)
                    g_taken[i] = true;
        } else if (pl[f->ent].place == VIZ_PLACE_PANEL) {
            size_t first = L->n;
            c->small_tokens = f->small;
            viz_layout_panel(c, f->ent, pl, x, f->y, ge->cw);
            c->small_tokens = false;
            if (first < L->n && L->items[first].kind == VIZ_ITEM_PANEL)
                L->items[first].compact = true;
            pl[f->ent].place = VIZ_PLACE_FLOW;
        } else {
            viz_item_t *it = viz_layout_add(c, VIZ_ITEM_ENTITY, sn->ents[f->ent].id, rect(x, f->y, ge->cw, f->h));
            if (it)
                it->compact = true; /* drawn with its goroutine's state */
            pl[f->ent].place = VIZ_PLACE_FLOW;
        }
    }
}

/* A channel whose one sender is columns away from its first receiver
 * moves to the gap just before that receiver, at a height level with its
 * sender where no stage of the columns between stands: its path then runs
 * straight past them instead of across a card (fan_out_fan_in's first
 * fan-out sends past the second to the merge). Left where it is if there
 * is no such height. */
static void flow_skip_columns(viz_lay_t *c, const viz_flow_t *fw, const viz_flow_geom_t *ge, viz_fchan_t *f,
                              const viz_factor_t *snd, int *cy)
{
    int r = FLOW_COLS;
    for (size_t a = 0; a < fw->na; a++)
        if (f->to & (1u << a) && fw->a[a].col > snd->col && fw->a[a].col < r)
            r = fw->a[a].col;
    if (r == FLOW_COLS || r <= snd->col + 1)
        return;
    for (int k = snd->col; k <= r; k++)
        if (ge->colrow[k] != ge->colrow[snd->col])
            return;
    /* Only the path passes the columns between (the bar is in the gap
     * after them): it keeps clear of their stages by a few pixels. */
    int half = px(c, 8);
    int lo = snd->y + px(c, 12), hi = snd->y + snd->h - px(c, 12);
    /* Candidates: where it is, the sender's ends, either side of each stage between. */
    int cand[2 + 2 * FLOW_ACTORS], nc = 0;
    cand[nc++] = *cy;
    cand[nc++] = lo;
    cand[nc++] = hi;
    for (size_t a = 0; a < fw->na && nc + 2 <= (int)(sizeof cand / sizeof cand[0]); a++)
        if (ge->used >> a & 1u && fw->a[a].col > snd->col && fw->a[a].col < r) {
            cand[nc++] = fw->a[a].y - half - 1;
            cand[nc++] = fw->a[a].y + fw->a[a].h + half + 1;
        }
    int best = -1, bestd = 0;
    for (int i = 0; i < nc; i++) {
        int y = cand[i];
        bool ok = y >= lo && y <= hi;
        for (size_t a = 0; ok && a < fw->na; a++)
            if (ge->used >> a & 1u && fw->a[a].col > snd->col && fw->a[a].col < r)
                ok = y + half <= fw->a[a].y || y - half >= fw->a[a].y + fw->a[a].h;
        int d = y > *cy ? y - *cy : *cy - y;
        if (ok && (best < 0 || d < bestd)) {
            best = i;
            bestd = d;
        }
    }
    if (best < 0)
        return;
    *cy = cand[best];
    f->gap = r - 1;
}

/* The channels' heights: in the gap after their first sender's column,
 * level with the stages they join, one under the other when they share a
 * gap; the channel of the turn under its sender. */
static void flow_chan_heights(viz_lay_t *c, viz_flow_t *fw, const viz_flow_geom_t *ge)
{
    int ch_h = ge->ch_h;
    for (size_t j = 0; j < fw->nch; j++) {
        viz_fchan_t *f = &fw->ch[j];
        int gap = FLOW_COLS, sum = 0, n = 0, to_y = 0, tn = 0;
        for (size_t a = 0; a < fw->na; a++) {
            if (f->from & (1u << a)) {
                gap = fw->a[a].col < gap ? fw->a[a].col : gap;
                sum += fw->a[a].y + fw->a[a].h / 2;
                n++;
            }
            if (f->to & (1u << a)) {
                to_y += fw->a[a].y + fw->a[a].h / 2;
                tn++;
            }
        }
        if (gap >= ge->ncols - 1)
            gap = ge->ncols - 2;
        f->gap = gap;
        if (ge->colrow[gap] != ge->colrow[gap + 1]) {
            f->y = ge->row_y[0] + ge->row_h[0] + px(c, GAP);
            continue;
        }
        int cy = (sum / (n ? n : 1) + to_y / (tn ? tn : 1)) / 2;
        if (n == 1) {
            /* Level with its one sender's card, so the value leaves it sideways. */
            for (size_t a = 0; a < fw->na; a++)
                if (f->from & (1u << a)) {
                    int lo = fw->a[a].y + ch_h / 2, hi = fw->a[a].y + fw->a[a].h - ch_h / 2;
                    cy = cy < lo ? lo : cy > hi ? hi : cy;
                    flow_skip_columns(c, fw, ge, f, &fw->a[a], &cy);
                }
        }
        f->y = cy - ch_h / 2;
    }
    /* Keep channels of one gap apart (in order of their centre). */
    for (int gcol = 0; gcol < ge->ncols - 1; gcol++) {
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t j = 0; j < fw->nch; j++)
                for (size_t k = 0; k < fw->nch; k++) {
                    viz_fchan_t *p = &fw->ch[j], *q = &fw->ch[k];
                    if (j == k || p->gap != gcol || q->gap != gcol)
                        continue;
                    if (p->y <= q->y && (p->y < q->y || j < k) && q->y < p->y + ch_h + px(c, 8)) {
                        q->y = p->y + ch_h + px(c, 8);
                        moved = true;
                    }
                }
        }
    }
}

/* The channels' items, with room either side for the paths in and out;
 * returns the lowest y they reach (at least end). */
static int flow_place_chans(viz_lay_t *c, const viz_flow_t *fw, const viz_flow_geom_t *ge, int end)
{
    int cw = ge->cw, cg = ge->cg, ch_h = ge->ch_h;
    for (size_t j = 0; j < fw->nch; j++) {
        const viz_fchan_t *f = &fw->ch[j];
        int x, w;
        if (ge->colrow[f->gap] != ge->colrow[f->gap + 1]) {
            w = cg - px(c, 12);
            w = w > cw ? cw : w;
            x = ge->colx[f->gap] + (cw - w) / 2;
        } else {
            int left = ge->colx[f->gap] < ge->colx[f->gap + 1] ? ge->colx[f->gap] : ge->colx[f->gap + 1];
            x = left + cw + px(c, 22);
            w = cg - px(c, 44);
        }
        viz_item_t *it = viz_layout_add(c, VIZ_ITEM_CHAN, f->id, rect(x, f->y, w, ch_h));
        if (it) {
            it->compact = true;
            it->part = rect(x, f->y + px(c, 18), w, px(c, 16));
        }
        viz_sch_t *ch = (viz_sch_t *)viz_snap_chan(c->sn, f->id);
        if (ch)
            ch->in_flow = true;
        if (f->y + ch_h > end)
            end = f->y + ch_h;
    }
    return end;
}

/* Lay out the flow, if the run has one; returns the new y. */
int viz_layout_flow(viz_lay_t *c, viz_eplace_t *pl, int y, bool *g_taken)
{
    const viz_snap_t *sn = c->sn;
    viz_layout_t *L = c->L;
    if (sn->flow_overflow || sn->nflow < 2)
        return y;
    viz_flow_t fw;
    viz_flow_geom_t ge;
    memset(&ge, 0, sizeof ge);
    if (!flow_collect(c, pl, &fw) || !flow_columns(&fw, &ge) || !flow_widths(c, &fw, &ge) ||
        !flow_heights(c, pl, &fw, &ge, y))
        return y; /* no flow, or no room for it: the generic layout */
    int head = px(c, SECTION_HEAD_H);
    viz_item_t *hd = viz_layout_add(c, VIZ_ITEM_GROUP, 0, rect(L->main.x, y, L->main.w, head));
    if (hd) {
        snprintf(hd->label, sizeof hd->label, "flow of values");
        hd->count = -1;
    }
    y += head;
    ge.row_y[0] = y;
    ge.row_y[1] = y + ge.row_h[0] + ge.turn;
    flow_place_stages(c, pl, &fw, &ge, g_taken);
    flow_chan_heights(c, &fw, &ge);
    int end = flow_place_chans(c, &fw, &ge, y + ge.row_h[0] + ge.turn + ge.row_h[1]);
    return end + px(c, GAP);
}
