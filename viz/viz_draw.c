/* viz_draw: the main area of a frame. See viz_draw.h. */
#include "viz_draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "viz_draw_int.h"
#include "viz_palette.h"

/* ---- shared helpers (viz_draw_int.h) ---------------------------------------- */

int viz_px(const viz_layout_t *L, int n)
{
    int v = (int)lround(n * L->scale);
    return n > 0 && v < 1 ? 1 : v;
}

void viz_format_clock(simtime_t t, simtime_t extent, char *buf, size_t size)
{
    if (t < 0)
        t = 0;
    long long s = (long long)(t / SIM_SEC), ns = (long long)(t % SIM_SEC);
    if (extent > 0 && extent < 10 * SIM_MS)
        snprintf(buf, size, "%lld.%06lld s", s, ns / 1000);
    else if (s >= 60)
        snprintf(buf, size, "%lldm %02lld.%03lld s", s / 60, s % 60, ns / 1000000);
    else
        snprintf(buf, size, "%lld.%03lld s", s, ns / 1000000);
}

static bool has_word(const char *s, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (strcasestr(s, words[i]))
            return true;
    return false;
}

uint32_t viz_entity_state_color(const viz_sent_t *e)
{
    if (viz_entity_is_breaker(e)) {
        switch (viz_breaker_state(e->state)) {
        case 0: return VIZ_C_CLOSED;
        case 1: return VIZ_C_HALF;
        case 2: return VIZ_C_OPEN;
        default: break;
        }
    }
    return viz_state_color(e->state);
}

uint32_t viz_state_color(const char *state)
{
    static const char *const fail[] = {"fail", "error", "crash", "down", "dead", "deadline",
                                       "cancel", "emergency", "partition", "timeout", "reject",
                                       "panic", NULL};
    static const char *const paused[] = {"pause", "sleep", "frozen", NULL};
    static const char *const half[] = {"half", "candidate", "reduced", "polling", "degraded", NULL};
    static const char *const wait[] = {"wait", "scal", "drain", "shut", "minimal", "lock", NULL};
    static const char *const busy[] = {"busy", "work", "run", "process", "active", "forward",
                                       "call", "up", "healthy", "leader", "serv", "full", NULL};
    static const char *const idle[] = {"idle", "done", "stop", "finish", "closed", "external",
                                       "exit", NULL};
    if (!state || !*state)
        return VIZ_PANEL_ALT;
    if (has_word(state, fail))
        return VIZ_C_FAIL;
    if (has_word(state, paused))
        return VIZ_C_SLEEP;
    if (has_word(state, half))
        return VIZ_C_READY;
    if (has_word(state, wait))
        return VIZ_C_SYNC;
    if (has_word(state, idle))
        return VIZ_PANEL_ALT;
    if (has_word(state, busy))
        return VIZ_C_RUNNING;
    return VIZ_C_CHAN;
}

void viz_badge(viz_gfx_t *g, viz_font_t f, int x, int y, int maxw, const char *text, uint32_t bg)
{
    if (!text || !*text || maxw <= 0)
        return;
    int pad = viz_gfx_px(g, 6);
    int w = viz_gfx_text_width(g, f, text) + 2 * pad;
    if (w > maxw)
        w = maxw;
    int h = viz_gfx_line_height(g, f) + viz_gfx_px(g, 2);
    viz_gfx_fill_rect(g, x, y, w, h, bg);
    viz_gfx_rect(g, x, y, w, h, 1, VIZ_BORDER);
    viz_gfx_text_fit(g, f, viz_gfx_ink_on(bg), x + pad, y + viz_gfx_px(g, 1), w - 2 * pad, text);
}

void viz_card(viz_gfx_t *g, SDL_Rect r, bool selected)
{
    viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, VIZ_PANEL);
    viz_gfx_rect(g, r.x, r.y, r.w, r.h, 1, VIZ_BORDER);
    if (selected)
        viz_gfx_rect(g, r.x - 3, r.y - 3, r.w + 6, r.h + 6, 3, VIZ_SELECT);
}

/* A field's value as text: durations and instants for *_ns, timeouts and
 * "open_until"-like fields, plain integers otherwise. */
void viz_format_field(const char *name, int64_t v, char *buf, size_t size)
{
    static const char *const suffixes[] = {"_ns", "timeout", "until", "_from", "interval", "latency", "_at", NULL};
    size_t n = strlen(name);
    bool dur = false;
    for (int i = 0; suffixes[i]; i++) {
        size_t k = strlen(suffixes[i]);
        dur = dur || (n >= k && strcmp(name + n - k, suffixes[i]) == 0);
    }
    if (dur && v != 0) {
        dur_format(v, buf, size);
        return;
    }
    snprintf(buf, size, "%lld", (long long)v);
}

bool viz_selected(const viz_frame_t *f, const viz_item_t *it)
{
    return f->has_sel && f->sel_kind == it->kind && f->sel_id == it->id;
}

const char *viz_lock_kind_name(int kind)
{
    switch (kind) {
    case OBJ_MUTEX: return "Mutex";
    case OBJ_RWMUTEX: return "RWMutex";
    case OBJ_SEMAPHORE: return "semaphore";
    case OBJ_WAITGROUP: return "WaitGroup";
    case OBJ_COND: return "Cond";
    default: return "lock";
    }
}

/* ---- goroutines ------------------------------------------------------------- */

static void draw_goroutine(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn,
                           const viz_frame_t *f, const viz_item_t *it)
{
    const viz_sg_t *gs = viz_snap_g(sn, it->id);
    if (!gs)
        return;
    uint32_t col = viz_gstate_color(gs->st);
    uint32_t ink = viz_gfx_ink_on(col);
    SDL_Rect r = it->r;
    bool just_ran = sn->just_ran == gs->id;
    bool recent = gs->last_run >= 0 && gs->last_run <= f->p && f->p - gs->last_run < f->flash_ns &&
                  gs->st != VIZ_G_RUNNING;
    bool timed = gs->wake_at >= 0 && (gs->st == VIZ_G_SLEEP || gs->st == VIZ_G_SELECT || gs->st == VIZ_G_RECV);
    if (it->compact) {
        viz_gfx_shape(g, (viz_shape_t)viz_gstate_shape(gs->st), r.x + r.w / 2, r.y + r.h / 2, r.w, col,
                      VIZ_INK);
        if (timed) {
            SDL_Rect under = {r.x, r.y + r.h, r.w, viz_px(L, 5) + 2};
            viz_draw_countdown(g, L, under, gs->since, gs->wake_at, f->p, VIZ_C_TIMER);
        }
        if (just_ran || viz_selected(f, it))
            viz_gfx_rect(g, r.x - 2, r.y - 2, r.w + 4, r.h + 4, 2, VIZ_SELECT);
        return;
    }
    viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, col);
    viz_gfx_rect(g, r.x, r.y, r.w, r.h, 1, VIZ_INK);
    int icon = viz_px(L, it->large ? 30 : 24);
    int cx = r.x + viz_px(L, 6) + icon / 2, cy = r.y + r.h / 2;
    viz_gfx_shape(g, (viz_shape_t)viz_gstate_shape(gs->st), cx, cy, icon, col, ink);
    int tx = r.x + viz_px(L, 12) + icon, tw = r.x + r.w - tx - viz_px(L, 4);
    /* The state, and what it waits on when that has a name or a number
     * shown elsewhere (a channel's row, a lock's card). */
    char tag[96];
    const char *on = gs->wait_obj ? viz_snap_obj_name(sn, gs->wait_obj) : NULL;
    bool named_wait = gs->st == VIZ_G_RECV || gs->st == VIZ_G_SEND || gs->st == VIZ_G_SYNC;
    if (named_wait && on && *on)
        snprintf(tag, sizeof tag, "%s %s", gs->tag, on);
    else if (named_wait && gs->wait_obj && viz_snap_chan(sn, gs->wait_obj))
        snprintf(tag, sizeof tag, "%s #%llu", gs->tag, (unsigned long long)gs->wait_obj);
    else
        snprintf(tag, sizeof tag, "%s", gs->tag);
    if (timed) {
        /* The time left, in tenths of a second (the last one in ms). */
        char d[40];
        viz_format_left(gs->wake_at - f->p, d, sizeof d);
        char with[160];
        snprintf(with, sizeof with, "%.95s %.39s", tag, d);
        /* The shape says the state: when both do not fit, the time. */
        viz_font_t ft = it->large ? VIZ_FONT_LARGE : VIZ_FONT_BOLD;
        if (viz_gfx_text_width(g, ft, with) <= tw)
            memcpy(tag, with, strlen(with) < sizeof tag ? strlen(with) + 1 : sizeof tag);
        else
            snprintf(tag, sizeof tag, "%s", d);
        tag[sizeof tag - 1] = 0;
    }
    viz_font_t f1 = it->large ? VIZ_FONT_LARGE : VIZ_FONT_BOLD, f2 = it->large ? VIZ_FONT_BODY : VIZ_FONT_SMALL;
    int l1 = viz_gfx_line_height(g, f1), l2 = viz_gfx_line_height(g, f2);
    int ty = r.y + (r.h - l1 - l2) / 2;
    /* Never cut into ambiguity: a smaller font, qualifiers abbreviated,
     * the middle elided with the end kept. */
    viz_gfx_text_whole(g, f1, VIZ_FONT_SMALL, ink, tx, ty, tw, tag);
    viz_gfx_text_whole(g, f2, VIZ_FONT_SMALL, ink, tx, ty + l1, tw, gs->name);
    if (recent) {
        /* It ran a moment ago: a spark in the corner. */
        int sr = viz_px(L, 6);
        viz_gfx_fill_circle(g, r.x + r.w - sr - 2, r.y + sr + 2, sr + 1, VIZ_PANEL);
        viz_gfx_fill_circle(g, r.x + r.w - sr - 2, r.y + sr + 2, sr - 1, VIZ_C_RUNNING);
    }
    if (timed)
        viz_draw_countdown(g, L, r, gs->since, gs->wake_at, f->p, VIZ_C_TIMER);
    if (just_ran)
        viz_gfx_rect(g, r.x - 3, r.y - 3, r.w + 6, r.h + 6, 3, VIZ_INK);
    if (viz_selected(f, it)) {
        viz_gfx_rect(g, r.x - 5, r.y - 5, r.w + 10, r.h + 10, 3, VIZ_SELECT);
        viz_gfx_rect(g, r.x - 2, r.y - 2, r.w + 4, r.h + 4, 2, VIZ_PANEL);
    }
}

/* An entity drawn as a token (a pool's worker): coloured by its goroutine
 * when it has one, else by its state word. */
static void draw_child(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                       const viz_frame_t *f, const viz_item_t *it)
{
    const viz_sent_t *e = viz_snap_entity(sn, it->id);
    if (!e)
        return;
    simtime_t xfrom, xuntil;
    bool expiring = viz_entity_expiry(e, tr, f->p, &xfrom, &xuntil);
    const viz_sg_t *gs = e->g ? viz_snap_g(sn, e->g) : NULL;
    uint32_t col = gs ? viz_gstate_color(gs->st) : viz_state_color(e->state);
    int shape = gs ? viz_gstate_shape(gs->st) : VIZ_SHAPE_HEX;
    uint32_t ink = viz_gfx_ink_on(col);
    SDL_Rect r = it->r;
    if (it->compact && r.w > 2 * r.h) {
        /* On a node: a line "candidate leader". */
        uint32_t bg = viz_entity_state_color(e);
        viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, bg);
        viz_gfx_rect(g, r.x, r.y, r.w, r.h, 1, VIZ_BORDER);
        char line[160];
        int n = snprintf(line, sizeof line, "%s %s", e->kind, e->state);
        if (expiring) {
            char d[40];
            viz_format_left(xuntil - f->p, d, sizeof d);
            snprintf(line + n, sizeof line - (size_t)n, " %s", d);
        }
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, viz_gfx_ink_on(bg), r.x + viz_px(L, 4),
                         r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2, r.w - viz_px(L, 8), line);
        if (expiring)
            viz_draw_countdown(g, L, r, xfrom, xuntil, f->p, VIZ_C_TIMER);
        if (viz_selected(f, it))
            viz_gfx_rect(g, r.x - 2, r.y - 2, r.w + 4, r.h + 4, 2, VIZ_SELECT);
        return;
    }
    if (it->compact) {
        viz_gfx_shape(g, (viz_shape_t)shape, r.x + r.w / 2, r.y + r.h / 2, r.w, col, VIZ_INK);
        if (expiring) {
            SDL_Rect under = {r.x, r.y + r.h, r.w, viz_px(L, 5) + 2};
            viz_draw_countdown(g, L, under, xfrom, xuntil, f->p, VIZ_C_TIMER);
        }
        if (viz_selected(f, it))
            viz_gfx_rect(g, r.x - 2, r.y - 2, r.w + 4, r.h + 4, 2, VIZ_SELECT);
        return;
    }
    viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, col);
    viz_gfx_rect(g, r.x, r.y, r.w, r.h, 1, VIZ_INK);
    int icon = viz_px(L, 22);
    viz_gfx_shape(g, (viz_shape_t)shape, r.x + viz_px(L, 6) + icon / 2, r.y + r.h / 2, icon, col, ink);
    int tx = r.x + viz_px(L, 12) + icon, tw = r.x + r.w - tx - viz_px(L, 4);
    /* "pool.worker-3" in the panel of "pool" reads "worker-3". */
    const char *name = e->name;
    const viz_sent_t *pe = e->parent ? viz_snap_entity(sn, e->parent) : NULL;
    size_t pl = pe ? strlen(pe->name) : 0;
    if (pl && strncmp(name, pe->name, pl) == 0 && (name[pl] == '.' || name[pl] == '/' || name[pl] == '-') &&
        name[pl + 1])
        name += pl + 1;
    int l1 = viz_gfx_line_height(g, VIZ_FONT_BOLD), l2 = viz_gfx_line_height(g, VIZ_FONT_SMALL);
    int ty = r.y + (r.h - l1 - l2) / 2;
    viz_gfx_text_fit(g, VIZ_FONT_BOLD, ink, tx, ty, tw, name);
    char line[160];
    int n;
    if (gs)
        n = snprintf(line, sizeof line, "%s \xc2\xb7 %s", e->state, gs->tag);
    else
        n = snprintf(line, sizeof line, "%s", e->state);
    if (expiring) {
        char d[40];
        viz_format_left(xuntil - f->p, d, sizeof d);
        snprintf(line + n, sizeof line - (size_t)n, " \xc2\xb7 %s", d);
    }
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, ink, tx, ty + l1, tw, line);
    if (expiring)
        viz_draw_countdown(g, L, r, xfrom, xuntil, f->p, VIZ_C_TIMER);
    if (viz_selected(f, it))
        viz_gfx_rect(g, r.x - 4, r.y - 4, r.w + 8, r.h + 8, 3, VIZ_SELECT);
}

/* ---- bars ------------------------------------------------------------------- */

/* A bar of len over cap in r: cells when few, a plain fill when many. */
void viz_bar(viz_gfx_t *g, SDL_Rect r, int64_t len, int64_t cap, uint32_t fill, bool closed)
{
    viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, closed ? 0xDDDDDDu : VIZ_PANEL_ALT);
    viz_gfx_rect(g, r.x, r.y, r.w, r.h, 2, VIZ_INK);
    SDL_Rect in = {r.x + 2, r.y + 2, r.w - 4, r.h - 4};
    if (cap <= 0 || in.w <= 0)
        return;
    int64_t l = len < 0 ? 0 : len > cap ? cap : len;
    int fw = (int)((int64_t)in.w * l / cap);
    viz_gfx_fill_rect(g, in.x, in.y, fw, in.h, fill);
    if (cap <= 40 && in.w / cap >= 4) {
        /* Cell separators, in the ground colour, so a cell reads as a slot. */
        for (int64_t i = 1; i < cap; i++) {
            int x = in.x + (int)((int64_t)in.w * i / cap);
            viz_gfx_fill_rect(g, x, in.y, 1, in.h, i < l ? viz_gfx_mix(fill, VIZ_PANEL, 0.45) : 0xC9C8C1u);
        }
    }
}

static void draw_chan(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                      const viz_item_t *it)
{
    const viz_sch_t *c = viz_snap_chan(sn, it->id);
    if (!c)
        return;
    SDL_Rect r = it->r, b = it->part;
    char name[96];
    if (c->name[0])
        snprintf(name, sizeof name, "%s", c->name);
    else
        snprintf(name, sizeof name, "chan #%llu", (unsigned long long)c->id);
    bool full = c->cap > 0 && c->len >= c->cap && !c->closed;
    if (it->compact) {
        /* A connector of the flow: its name over the pipe, its state under. */
        viz_font_t nf = viz_gfx_text_width(g, VIZ_FONT_SMALL, name) <= r.w + viz_px(L, 8) ? VIZ_FONT_SMALL
                                                                                          : VIZ_FONT_MONO;
        viz_gfx_text_center(g, nf, VIZ_INK, r.x + r.w / 2, r.y, r.w + viz_px(L, 10), name);
        if (c->cap > 0)
            viz_bar(g, b, c->len, c->cap, full ? VIZ_C_FAIL : VIZ_C_QUEUE, c->closed);
        else {
            viz_gfx_fill_rect(g, b.x, b.y, b.w, b.h, c->closed ? 0xDDDDDDu : VIZ_PANEL);
            viz_gfx_rect(g, b.x, b.y, b.w, b.h, 2, VIZ_INK);
        }
        char info[64];
        if (c->closed)
            snprintf(info, sizeof info, "closed");
        else if (full)
            snprintf(info, sizeof info, "FULL");
        else if (c->cap > 0)
            snprintf(info, sizeof info, "%lld/%lld", (long long)c->len, (long long)c->cap);
        else
            snprintf(info, sizeof info, "unbuffered");
        viz_gfx_text_center(g, VIZ_FONT_MONO, c->closed || full ? VIZ_C_FAIL : VIZ_INK_MUTED, r.x + r.w / 2,
                            b.y + b.h + 1, r.w + viz_px(L, 10), info);
        if (viz_selected(f, it))
            viz_gfx_rect(g, r.x - 3, r.y - 1, r.w + 6, r.h + 2, 2, VIZ_SELECT);
        return;
    }
    int ty = r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_BODY)) / 2;
    viz_gfx_text_fit(g, VIZ_FONT_BODY, VIZ_INK, r.x, ty, b.x - r.x - viz_px(L, 6), name);
    if (c->cap > 0) {
        viz_bar(g, b, c->len, c->cap, full ? VIZ_C_FAIL : VIZ_C_QUEUE, c->closed);
    } else {
        viz_gfx_fill_rect(g, b.x, b.y, b.w, b.h, c->closed ? 0xDDDDDDu : VIZ_PANEL);
        viz_gfx_rect(g, b.x, b.y, b.w, b.h, 1, VIZ_BORDER);
        viz_gfx_text_center(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, b.x + b.w / 2,
                            b.y + (b.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2, b.w, "unbuffered");
    }
    char info[128];
    int n = snprintf(info, sizeof info, "%s", c->closed ? "closed" : full ? "FULL" : "");
    if (c->cap > 0)
        n += snprintf(info + n, sizeof info - (size_t)n, "%s%lld/%lld", n ? " " : "", (long long)c->len,
                      (long long)c->cap);
    if (c->senders)
        n += snprintf(info + n, sizeof info - (size_t)n, " \xe2\x96\xb6%u send", c->senders);
    if (c->receivers)
        snprintf(info + n, sizeof info - (size_t)n, " \xe2\x97\x80%u recv", c->receivers);
    if (c->due >= 0 && !c->closed) {
        /* A context's deadline (or a timer): the time left, shrinking. */
        char d[40];
        viz_format_left(c->due - f->p, d, sizeof d);
        n += snprintf(info + n, sizeof info - (size_t)n, "%sdeadline in %s", n ? " " : "", d);
    }
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, c->closed || full ? VIZ_C_FAIL : VIZ_INK, b.x + b.w + viz_px(L, 6),
                     r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2,
                     r.x + r.w - b.x - b.w - viz_px(L, 6), info);
    if (viz_selected(f, it))
        viz_gfx_rect(g, r.x - 3, r.y - 1, r.w + 6, r.h + 2, 2, VIZ_SELECT);
}

static void draw_queue(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                       const viz_item_t *it)
{
    const viz_sent_t *e = viz_snap_entity(sn, it->id);
    if (!e)
        return;
    SDL_Rect r = it->r;
    viz_card(g, r, viz_selected(f, it));
    int64_t depth = viz_sent_get(e, "depth", viz_sent_get(e, "len", viz_sent_get(e, "size", 0)));
    int64_t cap = viz_sent_get(e, "capacity", viz_sent_get(e, "cap", viz_sent_get(e, "max", 0)));
    char title[128];
    snprintf(title, sizeof title, "%s", e->name);
    viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, r.x + viz_px(L, 8), r.y + viz_px(L, 4), r.w - viz_px(L, 16),
                     title);
    bool full = cap > 0 && depth >= cap;
    if (cap > 0) {
        viz_bar(g, it->part, depth, cap, full ? VIZ_C_FAIL : VIZ_C_QUEUE, false);
    } else {
        SDL_Rect b = it->part;
        viz_gfx_fill_rect(g, b.x, b.y, b.w, b.h, VIZ_PANEL);
        viz_gfx_rect(g, b.x, b.y, b.w, b.h, 1, VIZ_BORDER);
        viz_gfx_text_center(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, b.x + b.w / 2, b.y, b.w, "unbuffered");
    }
    char line[160];
    int n;
    if (cap > 0)
        n = snprintf(line, sizeof line, "%s%lld / %lld", full ? "FULL " : "", (long long)depth, (long long)cap);
    else
        n = snprintf(line, sizeof line, "depth %lld", (long long)depth);
    /* The queue's other fields (sent, dropped, ...). */
    for (int i = 0; i < e->nfields && n < (int)sizeof line - 24; i++) {
        const char *fn = e->fname[i];
        if (!strcmp(fn, "depth") || !strcmp(fn, "capacity") || !strcmp(fn, "len") || !strcmp(fn, "cap") ||
            !strcmp(fn, "size") || !strcmp(fn, "max"))
            continue;
        n += snprintf(line + n, sizeof line - (size_t)n, " \xc2\xb7 %s %lld", fn, (long long)e->fval[i]);
    }
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, full ? VIZ_C_FAIL : VIZ_INK, r.x + viz_px(L, 8),
                     it->part.y + it->part.h + viz_px(L, 3), r.w - viz_px(L, 16), line);
}

/* ---- breakers --------------------------------------------------------------- */

/* 0 closed, 1 half-open, 2 open, -1 unknown. */
int viz_breaker_state(const char *s)
{
    if (strcasestr(s, "half"))
        return 1;
    if (strcasecmp(s, "open") == 0)
        return 2;
    if (strcasecmp(s, "closed") == 0)
        return 0;
    return -1;
}

/* Simulated time until an open breaker turns half-open, or -1. */
simtime_t viz_breaker_left(const viz_sent_t *e, simtime_t now)
{
    int64_t until = viz_sent_get(e, "open_until", 0);
    if (!until && viz_sent_has(e, "opened_at"))
        until = viz_sent_get(e, "opened_at", 0) + viz_sent_get(e, "reset_timeout", 0);
    if (until <= 0 || viz_breaker_state(e->state) != 2)
        return -1;
    return until > now ? until - now : 0;
}

static void draw_breaker(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                         const viz_item_t *it)
{
    const viz_sent_t *e = viz_snap_entity(sn, it->id);
    if (!e)
        return;
    SDL_Rect r = it->r;
    viz_card(g, r, viz_selected(f, it));
    char title[128];
    snprintf(title, sizeof title, "breaker %s", e->name);
    viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, r.x + viz_px(L, 8), r.y + viz_px(L, 4), r.w - viz_px(L, 16), title);
    int st = viz_breaker_state(e->state);
    static const uint32_t cols[3] = {VIZ_C_CLOSED, VIZ_C_HALF, VIZ_C_OPEN};
    int cx = it->part.x + it->part.w / 2, cy = it->part.y + it->part.h / 2;
    int r1 = viz_px(L, 80), r0 = viz_px(L, 46);
    for (int i = 0; i < 3; i++) {
        double a0 = M_PI + M_PI * i / 3, a1 = M_PI + M_PI * (i + 1) / 3;
        uint32_t c = i == st ? cols[i] : viz_gfx_mix(cols[i], VIZ_PANEL, 0.72);
        viz_gfx_sector(g, cx, cy, r0, r1, a0, a1, c);
        /* A thin gap between sectors. */
        viz_gfx_line(g, (float)(cx + cos(a1) * r0), (float)(cy + sin(a1) * r0), (float)(cx + cos(a1) * r1),
                     (float)(cy + sin(a1) * r1), 2, VIZ_PANEL);
    }
    /* Sector names, inside the arc: they read without the colours. */
    static const char *const names[3] = {"closed", "half", "open"};
    for (int i = 0; i < 3; i++) {
        double a = M_PI + M_PI * (i + 0.5) / 3;
        int lx = cx + (int)lround(cos(a) * (r0 + r1) / 2);
        int ly = cy + (int)lround(sin(a) * (r0 + r1) / 2) - viz_gfx_line_height(g, VIZ_FONT_SMALL) / 2;
        uint32_t c = i == st ? cols[i] : viz_gfx_mix(cols[i], VIZ_PANEL, 0.72);
        viz_gfx_text_center(g, VIZ_FONT_SMALL, viz_gfx_ink_on(c), lx, ly, r1 - r0 + viz_px(L, 20), names[i]);
    }
    if (st >= 0) {
        double a = M_PI + M_PI * (st + 0.5) / 3;
        viz_gfx_line(g, (float)cx, (float)cy, (float)(cx + cos(a) * (r0 - viz_px(L, 4))),
                     (float)(cy + sin(a) * (r0 - viz_px(L, 4))), (float)viz_px(L, 5), VIZ_INK);
    }
    uint32_t hub = st >= 0 ? cols[st] : VIZ_GREY;
    viz_gfx_fill_circle(g, cx, cy, it->part.w / 2 + 2, VIZ_INK);
    viz_gfx_fill_circle(g, cx, cy, it->part.w / 2, hub);
    char word[64];
    snprintf(word, sizeof word, "%s", e->state[0] ? e->state : "?");
    for (char *p = word; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    int y = cy + viz_px(L, 16);
    viz_gfx_text_center(g, VIZ_FONT_LARGE, VIZ_INK, cx, y, r.w - viz_px(L, 8), word);
    y += viz_gfx_line_height(g, VIZ_FONT_LARGE);
    char line[160];
    long long fails = (long long)viz_sent_get(e, "failure_count", viz_sent_get(e, "failures", 0));
    long long succ = (long long)viz_sent_get(e, "success_count", viz_sent_get(e, "successes", 0));
    long long fth = (long long)viz_sent_get(e, "failure_threshold", 0);
    long long sth = (long long)viz_sent_get(e, "success_threshold", 0);
    if (fth && sth)
        snprintf(line, sizeof line, "failures %lld/%lld \xc2\xb7 successes %lld/%lld", fails, fth, succ, sth);
    else
        snprintf(line, sizeof line, "failures %lld \xc2\xb7 successes %lld", fails, succ);
    viz_gfx_text_center(g, VIZ_FONT_SMALL, VIZ_INK, cx, y, r.w - viz_px(L, 8), line);
    y += viz_gfx_line_height(g, VIZ_FONT_SMALL);
    simtime_t left = viz_breaker_left(e, f->p);
    if (left >= 0) {
        char d[48];
        /* Tenths of a second read at a glance; the last second in ms. */
        simtime_t q = left >= SIM_SEC ? 100 * SIM_MS : SIM_MS;
        dur_format((left + q - 1) / q * q, d, sizeof d);
        snprintf(line, sizeof line, "half-open in %s", d);
        viz_gfx_text_center(g, VIZ_FONT_BOLD, VIZ_C_FAIL, cx, y, r.w - viz_px(L, 8), line);
    } else {
        long long req = (long long)viz_sent_get(e, "total_requests", viz_sent_get(e, "requests", 0));
        long long shorts = (long long)viz_sent_get(e, "total_short_circuits", viz_sent_get(e, "short_circuits", 0));
        snprintf(line, sizeof line, "requests %lld \xc2\xb7 short-circuited %lld", req, shorts);
        viz_gfx_text_center(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, cx, y, r.w - viz_px(L, 8), line);
    }
}

/* ---- generic cards, panels, sparklines --------------------------------------- */

/* The field worth charting: a preferred name with a history, else the
 * first field that changed. */
static const viz_series_t *chart_series(const viz_track_t *tr, const viz_sent_t *e)
{
    static const char *const pref[] = {"in_flight", "inflight", "active", "workers", "level",
                                       "depth", "queue", "waiting", "size", "cpu", "load", NULL};
    for (int i = 0; pref[i]; i++) {
        const viz_series_t *s = viz_track_series(tr, e->id, pref[i]);
        if (s && s->n >= 2)
            return s;
    }
    for (int i = 0; i < e->nfields; i++) {
        const viz_series_t *s = viz_track_series(tr, e->id, e->fname[i]);
        if (s && s->n >= 3)
            return s;
    }
    return NULL;
}

/* A step chart of a field's recent history up to p. */
void viz_sparkline(viz_gfx_t *g, const viz_layout_t *L, SDL_Rect r, const viz_series_t *s, simtime_t p)
{
    viz_gfx_fill_rect(g, r.x, r.y, r.w, r.h, 0xF7F7F4u);
    viz_gfx_rect(g, r.x, r.y, r.w, r.h, 1, 0xCFCFCFu);
    if (!s || s->n < 1)
        return;
    int first = (s->pos - s->n + VIZ_SERIES) % VIZ_SERIES;
    simtime_t t0 = s->t[first];
    int64_t lo = s->v[first], hi = s->v[first];
    for (int k = 0; k < s->n; k++) {
        int i = (first + k) % VIZ_SERIES;
        if (s->v[i] < lo)
            lo = s->v[i];
        if (s->v[i] > hi)
            hi = s->v[i];
    }
    if (lo > 0)
        lo = 0;
    if (hi == lo)
        hi = lo + 1;
    simtime_t span = p - t0 > 0 ? p - t0 : 1;
    int lh = viz_gfx_line_height(g, VIZ_FONT_SMALL);
    int ix = r.x + 2, iw = r.w - 4, iy = r.y + lh + 1, ih = r.h - lh - 4;
    if (ih < 4)
        return;
    float px0 = (float)ix, py0 = (float)(iy + ih - (int)((s->v[first] - lo) * ih / (hi - lo)));
    for (int k = 1; k <= s->n; k++) {
        float x1, y1;
        if (k < s->n) {
            int i = (first + k) % VIZ_SERIES;
            x1 = (float)(ix + (double)(s->t[i] - t0) * iw / (double)span);
            y1 = (float)(iy + ih - (int)((s->v[i] - lo) * ih / (hi - lo)));
        } else {
            x1 = (float)(ix + iw);
            y1 = py0;
        }
        viz_gfx_line(g, px0, py0, x1, py0, (float)viz_px(L, 2), VIZ_C_QUEUE);
        viz_gfx_line(g, x1, py0 - 1, x1, y1 + 1, (float)viz_px(L, 2), VIZ_C_QUEUE);
        px0 = x1;
        py0 = y1;
    }
    char lab[64];
    int last = (s->pos + VIZ_SERIES - 1) % VIZ_SERIES;
    snprintf(lab, sizeof lab, "%s %lld (max %lld)", s->field, (long long)s->v[last], (long long)hi);
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, r.x + 4, r.y, r.w - 8, lab);
}

static void draw_entity(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                        const viz_frame_t *f, const viz_item_t *it)
{
    const viz_sent_t *e = viz_snap_entity(sn, it->id);
    if (!e)
        return;
    SDL_Rect r = it->r;
    viz_card(g, r, viz_selected(f, it));
    int x = r.x + viz_px(L, 8), w = r.w - viz_px(L, 16), y = r.y + viz_px(L, 4);
    /* Entities of one kind and name (a pattern run twice) told apart: the
     * kind line says which of them this is. */
    int same = 0, nth = 0;
    for (size_t i = 0; i < sn->nent; i++)
        if (strcmp(sn->ents[i].name, e->name) == 0 && strcmp(sn->ents[i].kind, e->kind) == 0) {
            same++;
            if (sn->ents[i].id == e->id)
                nth = same;
        }
    char kind[96];
    if (same > 1)
        snprintf(kind, sizeof kind, "%s %d of %d", e->kind, nth, same);
    else
        snprintf(kind, sizeof kind, "%s", e->kind);
    bool short_card = it->compact && r.h < viz_px(L, 112); /* a stage of a crowded flow */
    if (!short_card) {
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, x, y, w, kind);
        y += viz_gfx_line_height(g, VIZ_FONT_SMALL);
    }
    /* The name whole: a smaller type before an ellipsis. */
    char name[160];
    if (short_card && same > 1)
        snprintf(name, sizeof name, "%s (%d of %d)", e->name, nth, same);
    else
        snprintf(name, sizeof name, "%s", e->name);
    viz_font_t nf = VIZ_FONT_BOLD;
    if (viz_gfx_text_width(g, nf, name) > w)
        nf = VIZ_FONT_BODY;
    if (viz_gfx_text_width(g, nf, name) > w)
        nf = VIZ_FONT_SMALL;
    viz_gfx_text_fit(g, nf, VIZ_INK, x, y + (viz_gfx_line_height(g, VIZ_FONT_BOLD) - viz_gfx_line_height(g, nf)) / 2,
                     w, name);
    y += viz_gfx_line_height(g, VIZ_FONT_BOLD) + viz_px(L, 2);
    const viz_sg_t *eg = it->compact && e->g ? viz_snap_g(sn, e->g) : NULL;
    if (short_card) {
        /* State word and the goroutine's state on one line. */
        int bw = 0;
        if (e->state[0]) {
            bw = viz_gfx_text_width(g, VIZ_FONT_SMALL, e->state) + viz_px(L, 12);
            bw = bw > w / 2 ? w / 2 : bw;
            viz_badge(g, VIZ_FONT_SMALL, x, y, bw, e->state, viz_entity_state_color(e));
            bw += viz_px(L, 8);
        }
        int sz = viz_px(L, 14);
        if (eg) {
            viz_gfx_shape(g, (viz_shape_t)viz_gstate_shape(eg->st), x + bw + sz / 2, y + sz / 2 + 2, sz,
                          viz_gstate_color(eg->st), VIZ_INK);
            viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, x + bw + sz + viz_px(L, 4), y, w - bw - sz - viz_px(L, 4),
                             eg->tag);
        } else if (e->g) {
            viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, x + bw, y, w - bw, "exited");
        }
        return;
    }
    simtime_t xfrom, xuntil;
    bool expiring = viz_entity_expiry(e, tr, f->p, &xfrom, &xuntil);
    if (e->state[0]) {
        viz_badge(g, VIZ_FONT_BOLD, x, y, w, e->state, viz_entity_state_color(e));
        if (expiring) {
            /* What it counts down to: the time left beside its state. */
            char d[40];
            viz_format_left(xuntil - f->p, d, sizeof d);
            int bw = viz_gfx_text_width(g, VIZ_FONT_BOLD, e->state) + viz_px(L, 20);
            viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, x + bw, y + 1, w - bw, d);
        }
        y += viz_gfx_line_height(g, VIZ_FONT_BOLD) + viz_px(L, 6);
    }
    if (expiring)
        viz_draw_countdown(g, L, r, xfrom, xuntil, f->p, VIZ_C_TIMER);
    if (it->compact && e->g) {
        /* In the flow: what its goroutine does (or that it has exited). */
        int sz = viz_px(L, 16);
        if (eg) {
            uint32_t gc = viz_gstate_color(eg->st);
            viz_gfx_shape(g, (viz_shape_t)viz_gstate_shape(eg->st), x + sz / 2, y + sz / 2 + 1, sz, gc, VIZ_INK);
            viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, x + sz + viz_px(L, 6), y, w - sz - viz_px(L, 6), eg->tag);
            if (eg->wake_at >= 0 && (eg->st == VIZ_G_SLEEP || eg->st == VIZ_G_SELECT || eg->st == VIZ_G_RECV)) {
                SDL_Rect tr_ = {x, y + sz + 2, w, viz_px(L, 5) + 2};
                viz_draw_countdown(g, L, tr_, eg->since, eg->wake_at, f->p, VIZ_C_TIMER);
            }
        } else {
            viz_gfx_ring(g, x + sz / 2, y + sz / 2 + 1, sz / 2 - 1, 2, VIZ_INK_MUTED);
            viz_gfx_line(g, (float)x + 3, (float)(y + sz - 2), (float)(x + sz - 3), (float)y + 4, 2, VIZ_INK_MUTED);
            viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, x + sz + viz_px(L, 6), y, w - sz - viz_px(L, 6),
                             "exited");
        }
        y += viz_px(L, 22);
    }
    const viz_series_t *s = chart_series(tr, e);
    int chart_h = s ? viz_px(L, 46) : 0;
    int room = r.y + r.h - viz_px(L, 4) - y; /* a card of the flow may be short: fields while they fit */
    int rows = e->nfields < 5 ? e->nfields : 5;
    if (rows * viz_px(L, 21) + chart_h > room)
        chart_h = 0;
    if (rows * viz_px(L, 21) > room)
        rows = room / viz_px(L, 21);
    for (int i = 0; i < rows; i++) {
        char v[48];
        viz_format_field(e->fname[i], e->fval[i], v, sizeof v);
        int vw = viz_gfx_text_width(g, VIZ_FONT_BODY, v);
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, x, y + viz_px(L, 2), w - vw - viz_px(L, 8), e->fname[i]);
        viz_gfx_text(g, VIZ_FONT_BODY, VIZ_INK, x + w - vw, y, v);
        y += viz_px(L, 21);
    }
    if (s && chart_h) {
        SDL_Rect sr = {x, r.y + r.h - viz_px(L, 44), w, viz_px(L, 38)};
        viz_sparkline(g, L, sr, s, f->p);
    }
}

static void draw_panel(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                       const viz_frame_t *f, const viz_item_t *it)
{
    const viz_sent_t *e = viz_snap_entity(sn, it->id);
    if (!e)
        return;
    SDL_Rect r = it->r;
    viz_card(g, r, viz_selected(f, it));
    int x = r.x + viz_px(L, 10), y = r.y + viz_px(L, 5);
    char title[160];
    if (strcasecmp(e->kind, e->name) == 0)
        snprintf(title, sizeof title, "%s", e->name);
    else
        snprintf(title, sizeof title, "%s %s", e->kind, e->name);
    if (it->compact) {
        /* A stage of the flow, narrow: the name whole (smaller type before
         * an ellipsis), the state under it, then the tokens. */
        int w = r.w - viz_px(L, 20);
        viz_font_t nf = viz_gfx_text_width(g, VIZ_FONT_BOLD, e->name) <= w   ? VIZ_FONT_BOLD
                        : viz_gfx_text_width(g, VIZ_FONT_BODY, e->name) <= w ? VIZ_FONT_BODY
                                                                             : VIZ_FONT_SMALL;
        viz_gfx_text_fit(g, nf, VIZ_INK, x, y, w, e->name);
        if (e->state[0])
            viz_badge(g, VIZ_FONT_SMALL, x, y + viz_px(L, 24), w, e->state, viz_entity_state_color(e));
        return;
    }
    int tw = viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, x, y, r.w / 2, title);
    if (e->state[0])
        viz_badge(g, VIZ_FONT_BOLD, x + tw + viz_px(L, 10), y - 1, r.w / 3, e->state, viz_entity_state_color(e));
    char line[512];
    int n = 0;
    for (int i = 0; i < e->nfields && n < (int)sizeof line - 64; i++) {
        char v[48];
        viz_format_field(e->fname[i], e->fval[i], v, sizeof v);
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%s %s", n ? "  \xc2\xb7  " : "", e->fname[i], v);
    }
    const viz_series_t *s = chart_series(tr, e);
    int chart_w = s ? viz_px(L, 220) : 0;
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, x, y + viz_px(L, 26), r.w - viz_px(L, 24) - chart_w, line);
    if (s) {
        SDL_Rect sr = {r.x + r.w - chart_w - viz_px(L, 10), r.y + viz_px(L, 6), chart_w, viz_px(L, 44)};
        viz_sparkline(g, L, sr, s, f->p);
    }
}

static void draw_lock(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_frame_t *f,
                      const viz_item_t *it)
{
    const viz_slock_t *l = NULL;
    for (size_t i = 0; i < sn->nlock; i++)
        if (sn->locks[i].id == it->id)
            l = &sn->locks[i];
    if (!l)
        return;
    SDL_Rect r = it->r;
    bool busy = l->holder || l->shared || l->waiters;
    viz_card(g, r, viz_selected(f, it));
    int icon = r.h - viz_px(L, 8);
    viz_gfx_shape(g, VIZ_SHAPE_BAR, r.x + viz_px(L, 4) + icon / 2, r.y + r.h / 2, icon,
                  busy ? VIZ_C_SYNC : VIZ_PANEL_ALT, VIZ_INK);
    char text[192];
    int n;
    if (l->name[0])
        n = snprintf(text, sizeof text, "%s", l->name);
    else
        n = snprintf(text, sizeof text, "%s #%llu", viz_lock_kind_name(l->kind), (unsigned long long)l->id);
    if (l->kind == OBJ_WAITGROUP) {
        if (l->name[0])
            n += snprintf(text + n, sizeof text - (size_t)n, " (WaitGroup)");
    } else if (l->holder) {
        const viz_sg_t *h = viz_snap_g(sn, l->holder);
        n += snprintf(text + n, sizeof text - (size_t)n, ": held by %s", h ? h->name : "?");
    } else if (l->shared) {
        n += snprintf(text + n, sizeof text - (size_t)n, ": %d %s", l->shared,
                      l->kind == OBJ_SEMAPHORE ? "held" : "readers");
    } else {
        n += snprintf(text + n, sizeof text - (size_t)n, ": free");
    }
    if (l->waiters)
        snprintf(text + n, sizeof text - (size_t)n, " \xc2\xb7 %u waiting", l->waiters);
    int tx = r.x + icon + viz_px(L, 10);
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK, tx, r.y + (r.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2,
                     r.x + r.w - tx - viz_px(L, 4), text);
}

static void draw_group(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_item_t *it)
{
    SDL_Rect r = it->r;
    int w = viz_gfx_text(g, VIZ_FONT_BOLD, VIZ_INK, r.x, r.y + viz_px(L, 3), it->label);
    bool chans = strcmp(it->label, "channels") == 0 || strcmp(it->label, "locks and groups") == 0;
    if (it->count < 0) { /* the flow's heading */
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, r.x + w + viz_px(L, 10), r.y + viz_px(L, 5),
                         r.w - w - viz_px(L, 10),
                         "left to right: a stage sends into a channel, the next stage receives from it");
        return;
    }
    if (chans)
        return;
    /* Counts by state, in words (they read without the colours). */
    size_t count[VIZ_G_STATE_COUNT] = {0}, total = 0;
    const char *role = strcmp(it->label, "goroutines") == 0 ? "" : it->label;
    for (size_t i = 0; i < sn->ng; i++)
        if (!sn->gs[i].entity && strcmp(sn->gs[i].role, role) == 0) {
            count[sn->gs[i].st]++;
            total++;
        }
    static const char *const word[VIZ_G_STATE_COUNT] = {"working", "runnable", "receiving", "sending",
                                                        "in select", "sleeping", "waiting on sync",
                                                        "waiting", "panicked"};
    char line[256];
    int n = snprintf(line, sizeof line, "%zu:", total);
    for (int s = 0; s < VIZ_G_STATE_COUNT; s++)
        if (count[s])
            n += snprintf(line + n, sizeof line - (size_t)n, " %zu %s,", count[s], word[s]);
    if (n > 0 && line[n - 1] == ',')
        line[n - 1] = 0;
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, r.x + w + viz_px(L, 10), r.y + viz_px(L, 5),
                     r.w - w - viz_px(L, 10), line);
}

/* Channel operations of the last moments, as dots travelling between the
 * goroutine and the channel's bar. */
static void draw_flashes(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                         const viz_frame_t *f)
{
    viz_flash_t fl;
    int drawn = 0;
    for (size_t i = 0; drawn < 48 && viz_track_flash(tr, i, &fl); i++) {
        if (fl.t > f->p)
            continue;
        if (f->p - fl.t >= f->flash_ns)
            break;
        const viz_item_t *c = viz_layout_find(L, VIZ_ITEM_CHAN, fl.chan);
        const viz_item_t *gi = viz_g_item(L, sn, fl.g);
        if (!c || !gi)
            continue;
        /* Along the path a wait on this channel takes: a send from the
         * goroutine into the bar's left, a receive out of its right. */
        double t = (double)(f->p - fl.t) / (double)f->flash_ns;
        float path[8];
        if (c->compact)
            viz_flow_path(gi->r, c->part, 0, path);
        else
            viz_wait_path(gi->r, c->part, 0.5f, fl.send ? 0.2f : 0.8f, 0, path);
        double at = fl.send ? t : 1 - t;
        float x, y;
        viz_path_point(path, at, &x, &y);
        uint32_t dc = fl.send ? VIZ_C_QUEUE : VIZ_C_RUNNING;
        /* The path, faint, and a short trail behind the dot give its way
         * and direction in a still. */
        viz_draw_path(g, path, 0, 1, (float)viz_px(L, 1), viz_gfx_mix(dc, VIZ_BG, 0.55), 0);
        double tb = fl.send ? fmax(0, at - 0.2) : fmin(1, at + 0.2);
        viz_draw_path(g, path, tb, at, (float)viz_px(L, 3), viz_gfx_mix(dc, VIZ_BG, 0.35), 0);
        viz_gfx_fill_circle(g, (int)x, (int)y, viz_px(L, 6), VIZ_INK);
        viz_gfx_fill_circle(g, (int)x, (int)y, viz_px(L, 4), dc);
        drawn++;
    }
}

/* The paths of the flow: from each stage that sent into a channel of the
 * flow to it, and from it to each stage that received from it, drawn
 * lasting and faint, so a value is seen to travel on a way that is there. */
static void draw_flow_paths(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn)
{
    for (size_t i = 0; i < sn->nflow; i++) {
        const viz_flow_edge_t *e = &sn->flow[i];
        const viz_item_t *c = viz_layout_find(L, VIZ_ITEM_CHAN, e->chan);
        if (!c || !c->compact || !viz_snap_chan(sn, e->chan))
            continue;
        const viz_item_t *gi = viz_g_item(L, sn, e->g);
        if (!gi) {
            /* A stage whose goroutine has exited: its card still stands. */
            for (size_t k = 0; k < sn->nent && !gi; k++)
                if (sn->ents[k].g == e->g)
                    gi = viz_layout_find(L, VIZ_ITEM_ENTITY, sn->ents[k].id);
        }
        if (!gi)
            continue;
        float p[8];
        viz_flow_path(gi->r, c->part, 2, p);
        uint32_t col = viz_gfx_mix(VIZ_INK_MUTED, VIZ_BG, 0.45);
        if (e->send)
            viz_draw_path(g, p, 0, 1, (float)viz_px(L, 2), col, (float)viz_px(L, 8));
        else
            viz_draw_path(g, p, 1, 0, (float)viz_px(L, 2), col, (float)viz_px(L, 8));
    }
}

void viz_draw(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
              const viz_frame_t *f)
{
    SDL_Renderer *r = viz_gfx_renderer(g);
    viz_gfx_begin_frame(g);
    SDL_RenderSetClipRect(r, NULL);
    viz_gfx_fill_rect(g, 0, 0, L->w, L->h, VIZ_BG);
    SDL_Rect clip = {L->main.x - viz_px(L, 8), L->main.y - viz_px(L, 8), L->main.w + viz_px(L, 16),
                     L->main.h + viz_px(L, 16)};
    SDL_RenderSetClipRect(r, &clip);
    for (size_t i = 0; i < L->n; i++)
        if (L->items[i].kind == VIZ_ITEM_CLUSTER)
            viz_draw_cluster(g, L, sn, f, &L->items[i]);
    viz_draw_links(g, L, sn, tr, f, false);
    draw_flow_paths(g, L, sn);
    for (size_t i = 0; i < L->n; i++) {
        const viz_item_t *it = &L->items[i];
        switch (it->kind) {
        case VIZ_ITEM_GOROUTINE: draw_goroutine(g, L, sn, f, it); break;
        case VIZ_ITEM_CHAN: draw_chan(g, L, sn, f, it); break;
        case VIZ_ITEM_LOCK: draw_lock(g, L, sn, f, it); break;
        case VIZ_ITEM_BREAKER: draw_breaker(g, L, sn, f, it); break;
        case VIZ_ITEM_QUEUE: draw_queue(g, L, sn, f, it); break;
        case VIZ_ITEM_NODE: viz_draw_node(g, L, sn, tr, f, it); break;
        case VIZ_ITEM_PANEL: draw_panel(g, L, sn, tr, f, it); break;
        case VIZ_ITEM_CHILD: draw_child(g, L, sn, tr, f, it); break;
        case VIZ_ITEM_ENTITY: draw_entity(g, L, sn, tr, f, it); break;
        case VIZ_ITEM_GROUP: draw_group(g, L, sn, it); break;
        case VIZ_ITEM_MORE: {
            char more[48];
            snprintf(more, sizeof more, "+%d more", it->count);
            viz_font_t mf = it->r.h < viz_gfx_line_height(g, VIZ_FONT_BOLD) ? VIZ_FONT_SMALL : VIZ_FONT_BOLD;
            if (viz_gfx_text_width(g, mf, more) > it->r.w) {
                snprintf(more, sizeof more, "+%d", it->count);
                mf = VIZ_FONT_SMALL;
            }
            viz_gfx_text(g, mf, VIZ_INK_MUTED, it->r.x + viz_px(L, 2),
                         it->r.y + (it->r.h - viz_gfx_line_height(g, mf)) / 2, more);
            break;
        }
        default: break;
        }
    }
    viz_draw_waits(g, L, sn, f);
    viz_draw_links(g, L, sn, tr, f, true);
    draw_flashes(g, L, sn, tr, f);
    SDL_RenderSetClipRect(r, NULL);
    viz_draw_chrome(g, L, sn, tr, f);
}
