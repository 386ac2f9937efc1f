/*
 * viz_chrome: the parts of a frame around the run's drawing: the header
 * (scenario, clock, play state, outcome), the side panel (legend, details
 * of the selected item, recent events), the timeline with its markers and
 * playhead, and the overlays (keys, messages). See viz_draw.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "viz_draw_int.h"
#include "viz_palette.h"
#include "viz_story.h"

/* ---- text helpers --------------------------------------------------------------- */

static const char *g_name(const viz_snap_t *sn, uint64_t id, char *buf, size_t size)
{
    const viz_sg_t *g = viz_snap_g(sn, id);
    if (g)
        return g->name;
    if (!id)
        return "sched";
    snprintf(buf, size, "g%llu", (unsigned long long)id);
    return buf;
}

static const char *o_name(const viz_snap_t *sn, uint64_t id, char *buf, size_t size)
{
    const char *n = viz_snap_obj_name(sn, id);
    if (n && *n)
        return n;
    snprintf(buf, size, "#%llu", (unsigned long long)id);
    return buf;
}

/* One line for an event, with names where the snapshot knows them. */
static void describe(const viz_snap_t *sn, const trace_event_t *ev, char *buf, size_t size)
{
    char t[32], gb[32], ob[32], ob2[32];
    snprintf(t, sizeof t, "%lld.%03lld", (long long)(ev->t / SIM_SEC), (long long)(ev->t % SIM_SEC / SIM_MS));
    const char *who = g_name(sn, ev->g, gb, sizeof gb);
    const char *d = ev->detail ? ev->detail : "";
    switch (ev->kind) {
    case EV_GO_SPAWN: snprintf(buf, size, "%s %s: go %s", t, who, d); break;
    case EV_GO_RUN: snprintf(buf, size, "%s %s runs", t, who); break;
    case EV_GO_BLOCK:
        if (ev->obj)
            snprintf(buf, size, "%s %s blocks: %s %s", t, who, wait_reason_string((wait_reason_t)ev->a),
                     o_name(sn, ev->obj, ob, sizeof ob));
        else
            snprintf(buf, size, "%s %s blocks: %s", t, who, wait_reason_string((wait_reason_t)ev->a));
        break;
    case EV_GO_WAKE: snprintf(buf, size, "%s %s wakes %s", t, who, g_name(sn, ev->obj, ob, sizeof ob)); break;
    case EV_GO_YIELD: snprintf(buf, size, "%s %s yields", t, who); break;
    case EV_GO_EXIT: snprintf(buf, size, "%s %s exits", t, who); break;
    case EV_CHAN_MAKE: snprintf(buf, size, "%s %s: make(chan, %lld)", t, who, (long long)ev->a); break;
    case EV_CHAN_SEND:
        snprintf(buf, size, "%s %s: %s <- v", t, who, o_name(sn, ev->obj, ob, sizeof ob));
        break;
    case EV_CHAN_RECV:
        snprintf(buf, size, "%s %s: <-%s%s", t, who, o_name(sn, ev->obj, ob, sizeof ob),
                 ev->b ? "" : " (closed)");
        break;
    case EV_CHAN_CLOSE: snprintf(buf, size, "%s %s: close(%s)", t, who, o_name(sn, ev->obj, ob, sizeof ob)); break;
    case EV_SELECT:
        if (ev->a < 0)
            snprintf(buf, size, "%s %s: select default", t, who);
        else
            snprintf(buf, size, "%s %s: select case %lld/%lld", t, who, (long long)ev->a, (long long)ev->b);
        break;
    case EV_TIMER_SET: snprintf(buf, size, "%s %s: timer set", t, who); break;
    case EV_TIMER_STOP: snprintf(buf, size, "%s %s: timer stop", t, who); break;
    case EV_TIMER_FIRE: snprintf(buf, size, "%s timer fires", t); break;
    case EV_LOCK: snprintf(buf, size, "%s %s locks %s", t, who, o_name(sn, ev->obj, ob, sizeof ob)); break;
    case EV_UNLOCK: snprintf(buf, size, "%s %s unlocks %s", t, who, o_name(sn, ev->obj, ob, sizeof ob)); break;
    case EV_CTX_CANCEL: snprintf(buf, size, "%s %s: cancel (%s)", t, who, d); break;
    case EV_PANIC: snprintf(buf, size, "%s %s: PANIC %s", t, who, d); break;
    case EV_FATAL: snprintf(buf, size, "%s FATAL %s", t, d); break;
    case EV_STATE:
        if (ev->b == 1)
            snprintf(buf, size, "%s %s.%s = %lld", t, o_name(sn, ev->obj, ob, sizeof ob), d, (long long)ev->a);
        else
            snprintf(buf, size, "%s %s -> %s", t, o_name(sn, ev->obj, ob, sizeof ob), d);
        break;
    case EV_LOG: {
        /* sim.log lines carry their own time ("[1.2s] name: ..."). */
        const char *s = d[0] == '[' ? strstr(d, "] ") : NULL;
        snprintf(buf, size, "%s %s", t, s ? s + 2 : d);
        break;
    }
    case EV_USER: snprintf(buf, size, "%s event: %s", t, d); break;
    case EV_VIOLATION: snprintf(buf, size, "%s VIOLATION %s", t, d); break;
    case EV_NET_SEND:
        snprintf(buf, size, "%s msg %s -> %s", t, o_name(sn, (uint64_t)ev->a, ob, sizeof ob),
                 o_name(sn, (uint64_t)ev->b, ob2, sizeof ob2));
        break;
    case EV_NET_DELIVER:
        snprintf(buf, size, "%s msg at %s", t, o_name(sn, (uint64_t)ev->b, ob, sizeof ob));
        break;
    case EV_NET_DROP: snprintf(buf, size, "%s msg dropped: %s", t, d); break;
    case EV_FAULT: snprintf(buf, size, "%s FAULT %s", t, d); break;
    default: snprintf(buf, size, "%s %s", t, trace_kind_name(ev->kind)); break;
    }
    /* One line: control characters (a printed line's newlines, tabs)
     * become spaces, runs of them one. */
    char *w = buf;
    bool space = false;
    for (const char *r = buf; *r; r++) {
        bool ctl = (unsigned char)*r < 0x20;
        if (ctl || *r == ' ') {
            if (!space && w != buf)
                *w++ = ' ';
            space = true;
            continue;
        }
        space = false;
        *w++ = *r;
    }
    while (w > buf && w[-1] == ' ')
        w--;
    *w = 0;
}

/* ---- header --------------------------------------------------------------------- */

static void draw_header(viz_gfx_t *g, const viz_layout_t *L, const viz_frame_t *f)
{
    SDL_Rect h = L->header;
    viz_gfx_fill_rect(g, h.x, h.y, h.w, h.h, VIZ_PANEL_ALT);
    viz_gfx_fill_rect(g, h.x, h.y + h.h - 2, h.w, 2, VIZ_BORDER);
    int lh = viz_gfx_line_height(g, VIZ_FONT_TITLE);
    int y = h.y + (h.h - lh) / 2;
    char clock[64], text[96];
    viz_format_clock(f->p, f->extent, clock, sizeof clock);
    snprintf(text, sizeof text, "t = %s", clock);
    int cw = viz_gfx_text_width(g, VIZ_FONT_TITLE, text);
    /* A fixed box for the clock, so the digits do not push things about. */
    int clock_box = viz_gfx_text_width(g, VIZ_FONT_TITLE, "t = 00.000 s") + viz_px(L, 4);
    if (cw > clock_box)
        clock_box = cw;
    int cx = h.w - viz_px(L, 16) - clock_box;
    viz_gfx_text(g, VIZ_FONT_TITLE, VIZ_INK, cx + clock_box - cw, y, text);
    int right = cx - viz_px(L, 14);
    if (f->status && *f->status) {
        int sw = viz_gfx_text_width(g, VIZ_FONT_BOLD, f->status);
        int sy = h.y + (h.h - viz_gfx_line_height(g, VIZ_FONT_BOLD)) / 2;
        viz_gfx_text(g, VIZ_FONT_BOLD, VIZ_INK, right - sw, sy, f->status);
        right -= sw + viz_px(L, 14);
    }
    if (f->slow > 1) {
        /* Played slower around a fault or a failure: say so. */
        char slow[48];
        snprintf(slow, sizeof slow, "slow motion 1/%g", f->slow);
        int sw = viz_gfx_text_width(g, VIZ_FONT_BOLD, slow) + viz_px(L, 12);
        viz_badge(g, VIZ_FONT_BOLD, right - sw, h.y + (h.h - viz_gfx_line_height(g, VIZ_FONT_BOLD)) / 2 - 1, sw,
                  slow, VIZ_C_SLEEP);
        right -= sw + viz_px(L, 14);
    }
    if (f->live) {
        const char *hint = "? keys";
        int hw = viz_gfx_text_width(g, VIZ_FONT_SMALL, hint);
        viz_gfx_text(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, right - hw,
                     h.y + (h.h - viz_gfx_line_height(g, VIZ_FONT_SMALL)) / 2, hint);
        right -= hw + viz_px(L, 14);
    }
    int x = viz_px(L, 16);
    const char *title = f->title && *f->title ? f->title : "(unnamed scenario)";
    int avail = right - x;
    if (f->outcome)
        avail = avail * 55 / 100;
    int tw = viz_gfx_text_fit(g, VIZ_FONT_TITLE, VIZ_INK, x, y, avail, title);
    if (f->outcome) {
        int bx = x + tw + viz_px(L, 16);
        viz_badge(g, VIZ_FONT_BOLD, bx, h.y + (h.h - viz_gfx_line_height(g, VIZ_FONT_BOLD)) / 2 - 1, right - bx,
                  f->outcome, f->outcome_failed ? VIZ_C_FAIL : VIZ_C_RUNNING);
    }
}

/* ---- side panel ----------------------------------------------------------------- */

typedef struct pen {
    viz_gfx_t *g;
    const viz_layout_t *L;
    int x, y, w, bottom;
} pen_t;

static void heading(pen_t *p, const char *s)
{
    if (p->y + viz_gfx_line_height(p->g, VIZ_FONT_BOLD) > p->bottom)
        return;
    p->y += viz_px(p->L, 4);
    viz_gfx_text_fit(p->g, VIZ_FONT_BOLD, VIZ_INK, p->x, p->y, p->w, s);
    p->y += viz_gfx_line_height(p->g, VIZ_FONT_BOLD) + viz_px(p->L, 2);
}

static void textline(pen_t *p, viz_font_t f, uint32_t c, const char *s)
{
    int lh = viz_gfx_line_height(p->g, f);
    if (p->y + lh > p->bottom)
        return;
    viz_gfx_text_fit(p->g, f, c, p->x, p->y, p->w, s);
    p->y += lh;
}

/* "name: value" with the value in ink. */
static void kv(pen_t *p, const char *k, const char *v)
{
    int lh = viz_gfx_line_height(p->g, VIZ_FONT_BODY);
    if (p->y + lh > p->bottom)
        return;
    int kw = viz_gfx_text_fit(p->g, VIZ_FONT_SMALL, VIZ_INK_MUTED, p->x, p->y + viz_px(p->L, 2), p->w / 2, k);
    int vx = p->x + (kw > p->w * 2 / 5 ? kw : p->w * 2 / 5) + viz_px(p->L, 6);
    viz_gfx_text_fit(p->g, VIZ_FONT_BODY, VIZ_INK, vx, p->y, p->x + p->w - vx, v);
    p->y += lh;
}

static bool *chatter_of(const viz_mark_t *m, size_t n);

/* The wait reasons that show as each state. */
static uint64_t state_seen_bits(viz_gstate_t st)
{
    switch (st) {
    case VIZ_G_RUNNING: return 1ull << VIZ_SEEN_CPU;
    case VIZ_G_READY: return ~0ull; /* every goroutine is runnable at first */
    case VIZ_G_RECV: return 1ull << WAIT_CHAN_RECV;
    case VIZ_G_SEND: return 1ull << WAIT_CHAN_SEND;
    case VIZ_G_SELECT: return 1ull << WAIT_SELECT;
    case VIZ_G_SLEEP: return 1ull << WAIT_SLEEP;
    case VIZ_G_SYNC:
        return 1ull << WAIT_SEMACQUIRE | 1ull << WAIT_COND | 1ull << WAIT_MUTEX | 1ull << WAIT_RWMUTEX_RLOCK |
               1ull << WAIT_RWMUTEX_LOCK | 1ull << WAIT_WAITGROUP;
    case VIZ_G_WAIT:
        return 1ull << WAIT_CHAN_RECV_NIL | 1ull << WAIT_CHAN_SEND_NIL | 1ull << WAIT_SELECT_NO_CASES |
               1ull << WAIT_EXTERNAL | 1ull << WAIT_WORLD;
    case VIZ_G_FAILED: return 1ull << VIZ_SEEN_PANIC;
    default: return 0;
    }
}

/* The legend: only what the run shows (over the whole run, as far as the
 * first pass saw it, so it does not change as the run goes). */
static void legend(pen_t *p, const viz_track_t *tr)
{
    uint64_t seen = viz_track_seen(tr);
    heading(p, "goroutines");
    int lh = viz_gfx_line_height(p->g, VIZ_FONT_BODY) + viz_px(p->L, 3);
    int icon = viz_px(p->L, 20);
    for (int s = 0; s < VIZ_G_STATE_COUNT; s++) {
        if (!(seen & state_seen_bits((viz_gstate_t)s)))
            continue;
        if (p->y + lh > p->bottom)
            return;
        uint32_t c = viz_gstate_color((viz_gstate_t)s);
        viz_gfx_shape(p->g, (viz_shape_t)viz_gstate_shape((viz_gstate_t)s), p->x + icon / 2, p->y + lh / 2, icon, c,
                      VIZ_INK);
        viz_gfx_text_fit(p->g, VIZ_FONT_BODY, VIZ_INK, p->x + icon + viz_px(p->L, 8), p->y + viz_px(p->L, 1),
                         p->w - icon - viz_px(p->L, 8), viz_gstate_label((viz_gstate_t)s));
        p->y += lh;
    }
    if (p->y + lh > p->bottom)
        return;
    int sr = viz_px(p->L, 6);
    viz_gfx_fill_circle(p->g, p->x + icon / 2, p->y + lh / 2, sr + 1, VIZ_PANEL);
    viz_gfx_fill_circle(p->g, p->x + icon / 2, p->y + lh / 2, sr - 1, VIZ_C_RUNNING);
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, "");
    p->y -= viz_gfx_line_height(p->g, VIZ_FONT_SMALL);
    viz_gfx_text_fit(p->g, VIZ_FONT_SMALL, VIZ_INK_MUTED, p->x + icon + viz_px(p->L, 8), p->y + viz_px(p->L, 2),
                     p->w - icon,
                     seen & (1ull << VIZ_SEEN_FLASH) ? "ran just now \xc2\xb7 dots: values moving" : "ran just now");
    p->y += lh;
    /* The arrows: waits on, held by, a deadlock's. */
    static const struct { uint32_t c; const char *w; } ar[3] = {
        {VIZ_C_WAIT, "waits on"}, {VIZ_C_HELD, "held by"}, {VIZ_C_FAIL, "deadlock"}};
    uint64_t waits = state_seen_bits(VIZ_G_RECV) | state_seen_bits(VIZ_G_SEND) | state_seen_bits(VIZ_G_SELECT) |
                     state_seen_bits(VIZ_G_SYNC);
    bool show_ar[3] = {(seen & waits) != 0, (seen & (1ull << VIZ_SEEN_HELD)) != 0,
                       (seen & (1ull << VIZ_SEEN_PANIC)) != 0 && (seen & waits) != 0};
    if (p->y + lh <= p->bottom && show_ar[0]) {
        int x = p->x;
        for (int i = 0; i < 3; i++) {
            if (!show_ar[i])
                continue;
            float path[8] = {(float)x, (float)(p->y + lh / 2), (float)(x + 8), (float)(p->y + lh / 2),
                             (float)(x + icon), (float)(p->y + lh / 2), (float)(x + icon + viz_px(p->L, 8)),
                             (float)(p->y + lh / 2)};
            viz_draw_path(p->g, path, 0, 1, (float)viz_px(p->L, 2), ar[i].c, (float)viz_px(p->L, 8));
            x += icon + viz_px(p->L, 12);
            x += viz_gfx_text(p->g, VIZ_FONT_SMALL, VIZ_INK, x, p->y + viz_px(p->L, 2), ar[i].w) + viz_px(p->L, 12);
        }
        p->y += lh;
    }
    bool breaker = (seen & (1ull << VIZ_SEEN_BREAKER)) != 0;
    const viz_mark_t *marks;
    size_t nm = viz_track_marks(tr, &marks);
    bool show_mk[3] = {false, false, false};
    for (size_t i = 0; i < nm; i++) {
        viz_mark_kind_t k = marks[i].kind;
        show_mk[0] |= k == VIZ_MARK_STATE;
        show_mk[1] |= k == VIZ_MARK_FAULT || k == VIZ_MARK_USER;
        show_mk[2] |= k == VIZ_MARK_FAIL || k == VIZ_MARK_PANIC;
    }
    if (!breaker && !show_mk[0] && !show_mk[1] && !show_mk[2])
        return;
    heading(p, breaker ? "breaker \xc2\xb7 timeline" : "timeline");
    if (p->y + lh > p->bottom)
        return;
    int x = p->x;
    if (breaker) {
        static const struct { uint32_t c; const char *w; } br[3] = {
            {VIZ_C_CLOSED, "closed"}, {VIZ_C_HALF, "half-open"}, {VIZ_C_OPEN, "open"}};
        for (int i = 0; i < 3; i++) {
            int tw = viz_gfx_text_width(p->g, VIZ_FONT_SMALL, br[i].w) + viz_px(p->L, 10);
            viz_gfx_fill_rect(p->g, x, p->y, tw, lh - 2, br[i].c);
            viz_gfx_text(p->g, VIZ_FONT_SMALL, viz_gfx_ink_on(br[i].c), x + viz_px(p->L, 5), p->y + viz_px(p->L, 2),
                         br[i].w);
            x += tw + viz_px(p->L, 6);
        }
        p->y += lh + viz_px(p->L, 2);
        if (p->y + lh > p->bottom)
            return;
    }
    x = p->x;
    static const struct { int shape; uint32_t c; const char *w; } mk[3] = {
        {VIZ_SHAPE_TRIANGLE, VIZ_OI_ORANGE, "new state (its colour)"}, {VIZ_SHAPE_DIAMOND, VIZ_OI_PURPLE, "fault/event"},
        {VIZ_SHAPE_CROSS, VIZ_C_FAIL, "failure"}};
    int ms = viz_px(p->L, 14);
    for (int i = 0; i < 3; i++) {
        if (!show_mk[i])
            continue;
        viz_gfx_shape(p->g, (viz_shape_t)mk[i].shape, x + ms / 2, p->y + lh / 2, ms, mk[i].c, VIZ_INK);
        x += ms + viz_px(p->L, 4);
        x += viz_gfx_text(p->g, VIZ_FONT_SMALL, VIZ_INK, x, p->y + viz_px(p->L, 2), mk[i].w) + viz_px(p->L, 10);
    }
    p->y += lh;
    bool *chat = chatter_of(marks, nm);
    bool any = false;
    for (size_t i = 0; chat && i < nm && !any; i++)
        any = chat[i];
    free(chat);
    if (any && p->y + lh <= p->bottom) {
        viz_gfx_fill_rect(p->g, p->x + ms / 2, p->y + lh / 4, 1, lh / 2, VIZ_INK_MUTED);
        viz_gfx_fill_rect(p->g, p->x + ms / 2 + viz_px(p->L, 4), p->y + lh / 4, 1, lh / 2, VIZ_INK_MUTED);
        viz_gfx_text(p->g, VIZ_FONT_SMALL, VIZ_INK, p->x + ms + viz_px(p->L, 4), p->y + viz_px(p->L, 2),
                     "the same event again and again");
        p->y += lh;
    }
}

static void details_goroutine(pen_t *p, const viz_snap_t *sn, const viz_track_t *tr, uint64_t id, simtime_t now)
{
    const viz_sg_t *gs = viz_snap_g(sn, id);
    char b[160], b2[64];
    if (!gs) {
        heading(p, "goroutine");
        textline(p, VIZ_FONT_BODY, VIZ_INK_MUTED, "it has exited");
        return;
    }
    snprintf(b, sizeof b, "goroutine %llu", (unsigned long long)gs->id);
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, b);
    textline(p, VIZ_FONT_LARGE, VIZ_INK, gs->name);
    p->y += viz_px(p->L, 4);
    int lh = viz_gfx_line_height(p->g, VIZ_FONT_BOLD) + viz_px(p->L, 4);
    uint32_t c = viz_gstate_color(gs->st);
    viz_gfx_shape(p->g, (viz_shape_t)viz_gstate_shape(gs->st), p->x + lh / 2, p->y + lh / 2, lh - 4, c, VIZ_INK);
    viz_gfx_text_fit(p->g, VIZ_FONT_BOLD, VIZ_INK, p->x + lh + viz_px(p->L, 6), p->y + 2, p->w - lh,
                     viz_gstate_label(gs->st));
    p->y += lh;
    if (gs->role[0])
        kv(p, "role", gs->role);
    if (gs->reason != WAIT_NONE) {
        kv(p, "wait reason", wait_reason_string(gs->reason));
        if (gs->wait_obj)
            kv(p, "waits on", o_name(sn, gs->wait_obj, b2, sizeof b2));
        dur_format(now - gs->since, b, sizeof b);
        kv(p, "for", b);
    }
    if (gs->created_by)
        kv(p, "created by", g_name(sn, gs->created_by, b2, sizeof b2));
    if (gs->last_run >= 0) {
        viz_format_clock(gs->last_run, 0, b, sizeof b);
        kv(p, "last ran at", b);
    }
    const viz_gtrack_t *t = viz_track_g(tr, id);
    if (t && t->nhist) {
        heading(p, "history");
        for (int k = 0; k < t->nhist; k++) {
            const viz_hist_t *h = &t->hist[(t->hpos + VIZ_HIST - 1 - k) % VIZ_HIST];
            trace_event_t ev = {.t = h->t, .kind = h->kind, .g = id, .obj = h->obj, .a = h->a};
            if (h->kind == EV_GO_SPAWN) {
                ev.g = gs->created_by;
                ev.detail = gs->name;
            }
            if (h->kind == EV_GO_WAKE) {
                ev.g = 0;
                ev.obj = id;
            }
            describe(sn, &ev, b, sizeof b);
            textline(p, VIZ_FONT_MONO, VIZ_INK, b);
        }
    }
}

static void details_chan(pen_t *p, const viz_snap_t *sn, uint64_t id)
{
    const viz_sch_t *c = viz_snap_chan(sn, id);
    char b[160];
    if (!c) {
        textline(p, VIZ_FONT_BODY, VIZ_INK_MUTED, "the channel is gone");
        return;
    }
    snprintf(b, sizeof b, "channel #%llu", (unsigned long long)c->id);
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, b);
    textline(p, VIZ_FONT_LARGE, VIZ_INK, c->name[0] ? c->name : "(unnamed)");
    p->y += viz_px(p->L, 4);
    snprintf(b, sizeof b, "%lld of %lld%s", (long long)c->len, (long long)c->cap, c->cap ? "" : " (unbuffered)");
    kv(p, "buffered", b);
    kv(p, "closed", c->closed ? "yes" : "no");
    snprintf(b, sizeof b, "%llu", (unsigned long long)c->sends);
    kv(p, "sends", b);
    snprintf(b, sizeof b, "%llu", (unsigned long long)c->recvs);
    kv(p, "receives", b);
    for (int dir = 0; dir < 2; dir++) {
        viz_gstate_t want = dir ? VIZ_G_RECV : VIZ_G_SEND;
        size_t n = 0;
        for (size_t i = 0; i < sn->ng; i++)
            n += sn->gs[i].st == want && sn->gs[i].wait_obj == id;
        if (!n)
            continue;
        snprintf(b, sizeof b, "%zu %s waiting:", n, dir ? "receivers" : "senders");
        heading(p, b);
        for (size_t i = 0; i < sn->ng; i++)
            if (sn->gs[i].st == want && sn->gs[i].wait_obj == id)
                textline(p, VIZ_FONT_BODY, VIZ_INK, sn->gs[i].name);
    }
    p->y += viz_px(p->L, 6);
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, "Values are Lua or C data the view");
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, "does not read: it shows their count.");
}

static void details_entity(pen_t *p, const viz_snap_t *sn, uint64_t id, simtime_t now)
{
    const viz_sent_t *e = viz_snap_entity(sn, id);
    char b[160], v[64];
    if (!e) {
        textline(p, VIZ_FONT_BODY, VIZ_INK_MUTED, "gone");
        return;
    }
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, e->kind);
    textline(p, VIZ_FONT_LARGE, VIZ_INK, e->name);
    p->y += viz_px(p->L, 4);
    if (e->state[0]) {
        viz_badge(p->g, VIZ_FONT_BOLD, p->x, p->y, p->w, e->state, viz_entity_state_color(e));
        p->y += viz_gfx_line_height(p->g, VIZ_FONT_BOLD) + viz_px(p->L, 8);
    }
    if (viz_entity_is_breaker(e)) {
        simtime_t left = viz_breaker_left(e, now);
        if (left >= 0) {
            dur_format(left, v, sizeof v);
            kv(p, "half-open in", v);
        }
    }
    if (e->parent) {
        const viz_sent_t *pe = viz_snap_entity(sn, e->parent);
        kv(p, "part of", pe ? pe->name : "?");
    }
    if (e->g) {
        const viz_sg_t *gs = viz_snap_g(sn, e->g);
        snprintf(b, sizeof b, "%s (%s)", gs ? gs->name : "exited", gs ? gs->tag : "-");
        kv(p, "goroutine", b);
    }
    for (int i = 0; i < e->nfields; i++) {
        viz_format_field(e->fname[i], e->fval[i], v, sizeof v);
        kv(p, e->fname[i], v);
    }
}

static void details_lock(pen_t *p, const viz_snap_t *sn, uint64_t id)
{
    char b[160], b2[64];
    const viz_slock_t *l = NULL;
    for (size_t i = 0; i < sn->nlock; i++)
        if (sn->locks[i].id == id)
            l = &sn->locks[i];
    if (!l)
        return;
    static const char *kinds[OBJ_KIND_COUNT] = {[OBJ_MUTEX] = "sync.Mutex", [OBJ_RWMUTEX] = "sync.RWMutex",
                                                [OBJ_SEMAPHORE] = "semaphore", [OBJ_WAITGROUP] = "sync.WaitGroup",
                                                [OBJ_COND] = "sync.Cond"};
    textline(p, VIZ_FONT_SMALL, VIZ_INK_MUTED, kinds[l->kind] ? kinds[l->kind] : "lock");
    textline(p, VIZ_FONT_LARGE, VIZ_INK, l->name[0] ? l->name : "(unnamed)");
    if (l->holder)
        kv(p, "held by", g_name(sn, l->holder, b2, sizeof b2));
    if (l->shared) {
        snprintf(b, sizeof b, "%d", l->shared);
        kv(p, l->kind == OBJ_SEMAPHORE ? "held" : "readers", b);
    }
    snprintf(b, sizeof b, "%u", l->waiters);
    kv(p, "waiting", b);
    for (size_t i = 0; i < sn->ng; i++)
        if (sn->gs[i].st == VIZ_G_SYNC && sn->gs[i].wait_obj == id)
            textline(p, VIZ_FONT_BODY, VIZ_INK, sn->gs[i].name);
}

static void draw_side(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                      const viz_frame_t *f)
{
    SDL_Rect s = L->side;
    if (s.w <= 0)
        return;
    viz_gfx_fill_rect(g, s.x, s.y, s.w, s.h, VIZ_PANEL);
    viz_gfx_fill_rect(g, s.x, s.y, 2, s.h, VIZ_BORDER);
    pen_t p = {g, L, s.x + viz_px(L, 14), s.y + viz_px(L, 8), s.w - viz_px(L, 24), s.y + s.h - viz_px(L, 8)};
    int events_h = s.h * 36 / 100;
    p.bottom = s.y + s.h - events_h;
    if (f->has_sel) {
        switch (f->sel_kind) {
        case VIZ_ITEM_GOROUTINE: details_goroutine(&p, sn, tr, f->sel_id, f->p); break;
        case VIZ_ITEM_CHAN: details_chan(&p, sn, f->sel_id); break;
        case VIZ_ITEM_LOCK: details_lock(&p, sn, f->sel_id); break;
        default: details_entity(&p, sn, f->sel_id, f->p); break;
        }
        p.bottom = s.y + s.h - viz_px(L, 8);
        if (p.y < p.bottom - events_h)
            p.y = p.bottom - events_h;
    } else if (f->story) {
        p.y = viz_draw_story(g, L, f, p.x, p.y, p.w, p.bottom);
        p.bottom = s.y + s.h - viz_px(L, 8);
        p.y = s.y + s.h - events_h;
    } else {
        legend(&p, tr);
        p.bottom = s.y + s.h - viz_px(L, 8);
        p.y = s.y + s.h - events_h;
    }
    viz_gfx_fill_rect(g, s.x + 2, p.y, s.w - 2, 1, VIZ_PANEL_ALT);
    heading(&p, sn->mid_instant ? "events (this step last)" : "recent events");
    char b[192];
    for (size_t i = 0;; i++) {
        const viz_recent_t *r = viz_track_recent(tr, i);
        if (!r || p.y + viz_gfx_line_height(g, VIZ_FONT_MONO) > p.bottom)
            break;
        if (r->ev.kind == EV_TIMER_SET || r->ev.kind == EV_TIMER_STOP || r->ev.kind == EV_CHAN_MAKE ||
            r->ev.kind == EV_METRIC)
            continue;
        describe(sn, &r->ev, b, sizeof b);
        textline(&p, VIZ_FONT_MONO, i == 0 && sn->mid_instant ? VIZ_INK : VIZ_INK_MUTED, b);
    }
}

/* ---- timeline ------------------------------------------------------------------- */

int viz_timeline_x(const viz_layout_t *L, simtime_t t, simtime_t extent)
{
    if (extent <= 0)
        extent = 1;
    if (t < 0)
        t = 0;
    if (t > extent)
        t = extent;
    return L->track.x + (int)((double)t / (double)extent * L->track.w);
}

simtime_t viz_timeline_t(const viz_layout_t *L, int x, simtime_t extent)
{
    if (x <= L->track.x)
        return 0;
    if (x >= L->track.x + L->track.w)
        return extent;
    return (simtime_t)((double)(x - L->track.x) / L->track.w * (double)extent);
}

static simtime_t nice_step(simtime_t extent, int max_ticks)
{
    static const int64_t mult[3] = {1, 2, 5};
    for (int64_t p = 1;; p *= 10)
        for (int i = 0; i < 3; i++) {
            simtime_t s = p * mult[i];
            if (extent / s <= max_ticks)
                return s;
            if (p > INT64_MAX / 100)
                return s;
        }
}

/* Chatter: markers whose kind and text recur at least this often (a
 * keep-alive's event, a ticker's) are drawn as small ticks and never
 * written out, so they do not bury the story. */
#define CHATTER 4

/* For each marker, whether it is chatter (NULL if out of memory: none). */
static bool *chatter_of(const viz_mark_t *m, size_t n)
{
    if (!n)
        return NULL;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t *first = calloc(cap, sizeof *first); /* index + 1 of a text's first marker */
    uint32_t *count = calloc(cap, sizeof *count);
    size_t *slot = malloc(n * sizeof *slot);
    bool *out = calloc(n, sizeof *out);
    if (!first || !count || !slot || !out) {
        free(first);
        free(count);
        free(slot);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t h = 1469598103934665603ull ^ (uint64_t)m[i].kind;
        for (const char *c = m[i].text; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
        size_t j = (size_t)h & (cap - 1);
        while (first[j] && (m[first[j] - 1].kind != m[i].kind || strcmp(m[first[j] - 1].text, m[i].text) != 0))
            j = (j + 1) & (cap - 1);
        if (!first[j])
            first[j] = i + 1;
        count[j]++;
        slot[i] = j;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (m[i].kind == VIZ_MARK_USER || m[i].kind == VIZ_MARK_STATE) && count[slot[i]] >= CHATTER;
    free(first);
    free(count);
    free(slot);
    return out;
}

bool viz_mark_shown(unsigned filter, int kind)
{
    if (!filter)
        return true;
    if (kind == VIZ_MARK_PANIC)
        kind = VIZ_MARK_FAIL;
    return (filter >> kind) & 1u;
}

simtime_t viz_marks_story_end(const viz_track_t *tr)
{
    const viz_mark_t *m;
    size_t nm = viz_track_marks(tr, &m);
    bool *chat = chatter_of(m, nm);
    simtime_t end = 0;
    for (size_t i = 0; i < nm; i++)
        if (m[i].kind != VIZ_MARK_END && !(chat && chat[i]) && m[i].t > end)
            end = m[i].t;
    free(chat);
    return end;
}

simtime_t viz_nice_step(simtime_t extent, int max_ticks)
{
    return nice_step(extent, max_ticks);
}

static void draw_timeline(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                          const viz_frame_t *f)
{
    SDL_Rect b = L->timeline, k = L->track;
    viz_gfx_fill_rect(g, b.x, b.y, b.w, b.h, VIZ_PANEL_ALT);
    viz_gfx_fill_rect(g, b.x, b.y, b.w, 2, VIZ_BORDER);
    simtime_t ext = f->extent > 0 ? f->extent : 1;
    viz_gfx_fill_rect(g, k.x, k.y, k.w, k.h, VIZ_PANEL);
    viz_gfx_rect(g, k.x, k.y, k.w, k.h, 1, VIZ_BORDER);
    if (f->known_end >= 0) {
        int xe = viz_timeline_x(L, f->known_end, ext);
        viz_gfx_fill_rect(g, k.x, k.y, xe - k.x, k.h, 0xC9C8C1u);
    }
    int xp = viz_timeline_x(L, f->p, ext);
    viz_gfx_fill_rect(g, k.x, k.y, xp - k.x, k.h, VIZ_OI_BLUE);
    /* Ticks. */
    simtime_t step = nice_step(ext, k.w / viz_px(L, 90) > 1 ? k.w / viz_px(L, 90) : 1);
    int lh = viz_gfx_line_height(g, VIZ_FONT_SMALL);
    for (simtime_t t = 0; t <= ext; t += step) {
        int x = viz_timeline_x(L, t, ext);
        viz_gfx_fill_rect(g, x, k.y + k.h, 1, viz_px(L, 6), VIZ_INK_MUTED);
        char lab[48];
        dur_format(t, lab, sizeof lab);
        int w = viz_gfx_text_width(g, VIZ_FONT_SMALL, lab);
        int lx = x - w / 2;
        if (lx < b.x + 2)
            lx = b.x + 2;
        if (lx + w > b.x + b.w - 2)
            lx = b.x + b.w - 2 - w;
        if (k.y + k.h + viz_px(L, 7) + lh <= b.y + b.h)
            viz_gfx_text(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, lx, k.y + k.h + viz_px(L, 7), lab);
        if (t > INT64_MAX - step)
            break;
    }
    /* Markers, one per pixel column and kind, the weightiest drawn last
     * (on top): events, state changes, faults, the end, failures. */
    static const int weight[VIZ_MARK_KIND_COUNT] = {
        [VIZ_MARK_STATE] = 2, [VIZ_MARK_FAULT] = 3, [VIZ_MARK_USER] = 1,
        [VIZ_MARK_FAIL] = 5, [VIZ_MARK_PANIC] = 5, [VIZ_MARK_END] = 4,
    };
    const viz_mark_t *m;
    size_t nm = viz_track_marks(tr, &m);
    int ms = viz_px(L, 14), my = k.y - viz_px(L, 4) - ms / 2;
    const viz_mark_t *last_seen = NULL;
    bool *chat = chatter_of(m, nm);
    for (int pass = 1; pass <= 5; pass++) {
        int lastx[VIZ_MARK_KIND_COUNT];
        for (int i = 0; i < VIZ_MARK_KIND_COUNT; i++)
            lastx[i] = -1000;
        for (size_t i = 0; i < nm; i++) {
            bool fail = m[i].kind == VIZ_MARK_FAIL || m[i].kind == VIZ_MARK_PANIC;
            if (weight[m[i].kind] != pass || !viz_mark_shown(f->mark_filter, m[i].kind))
                continue;
            int x = viz_timeline_x(L, m[i].t, ext);
            bool future = m[i].t > f->p;
            if (chat && chat[i]) {
                /* a small tick under the markers' line */
                uint32_t tc = future ? VIZ_INK_FAINT : VIZ_INK_MUTED;
                viz_gfx_fill_rect(g, x, my + ms / 4, 1, ms / 2, tc);
                continue;
            }
            if (x - lastx[m[i].kind] < 3)
                continue;
            lastx[m[i].kind] = x;
            int shape;
            uint32_t c;
            switch (m[i].kind) {
            case VIZ_MARK_STATE: {
                /* coloured by the new state ("breaker: open") */
                const char *w = strrchr(m[i].text, ':');
                const char *word = w ? w + 1 + (w[1] == ' ') : m[i].text;
                static const uint32_t dial[3] = {VIZ_C_CLOSED, VIZ_C_HALF, VIZ_C_OPEN};
                int bs = strstr(m[i].text, "breaker:") ? viz_breaker_state(word) : -1;
                shape = VIZ_SHAPE_TRIANGLE;
                c = bs >= 0 ? dial[bs] : viz_state_color(word);
                break;
            }
            case VIZ_MARK_FAULT: shape = VIZ_SHAPE_DIAMOND; c = VIZ_OI_PURPLE; break;
            case VIZ_MARK_USER: shape = VIZ_SHAPE_DIAMOND; c = VIZ_OI_SKY; break;
            case VIZ_MARK_END: shape = VIZ_SHAPE_SQUARE; c = VIZ_INK; break;
            default: shape = VIZ_SHAPE_CROSS; c = VIZ_C_FAIL; break;
            }
            uint32_t ink = VIZ_INK;
            if (future) {
                c = viz_gfx_mix(c, VIZ_PANEL_ALT, 0.6);
                ink = viz_gfx_mix(ink, VIZ_PANEL_ALT, 0.6);
            }
            if (shape == VIZ_SHAPE_TRIANGLE) {
                /* Pointing up at the axis. */
                float h = (float)ms / 2;
                float t1[6] = {(float)x, (float)my - h, (float)x + h, (float)my + h, (float)x - h, (float)my + h};
                viz_gfx_fill_poly(g, t1, 3, ink);
                float t2[6] = {(float)x, (float)my - h + 3, (float)x + h - 2.5f, (float)my + h - 1.5f,
                               (float)x - h + 2.5f, (float)my + h - 1.5f};
                viz_gfx_fill_poly(g, t2, 3, c);
            } else {
                int size = fail ? ms + viz_px(L, 4) : m[i].kind == VIZ_MARK_USER ? ms * 3 / 4 : ms;
                viz_gfx_shape(g, (viz_shape_t)shape, x, my, size, c, ink);
            }
        }
    }
    /* The last marker passed, in words: of those close before it, the
     * weightiest (a failure, then the end, a fault, a state change). */
    simtime_t newest = -1;
    for (size_t i = nm; i-- > 0;) {
        if (m[i].t > f->p)
            continue;
        if (newest < 0)
            newest = m[i].t;
        if (newest - m[i].t > ext / 20)
            break;
        if ((chat && chat[i]) || !viz_mark_shown(f->mark_filter, m[i].kind))
            continue;
        if (!last_seen || weight[m[i].kind] > weight[last_seen->kind])
            last_seen = &m[i];
    }
    if (last_seen) {
        char lab[160], tc[32];
        viz_format_clock(last_seen->t, ext, tc, sizeof tc);
        snprintf(lab, sizeof lab, "%s  %s", tc, last_seen->text);
        uint32_t c = last_seen->kind == VIZ_MARK_FAIL || last_seen->kind == VIZ_MARK_PANIC ? VIZ_C_FAIL : VIZ_INK;
        viz_gfx_text_fit(g, VIZ_FONT_SMALL, c, k.x, b.y + viz_px(L, 3), k.w / 2, lab);
    }
    free(chat);
    /* The playhead. */
    int ph = viz_px(L, 3);
    viz_gfx_fill_rect(g, xp - ph / 2, b.y + viz_px(L, 6), ph, k.y + k.h + viz_px(L, 4) - b.y - viz_px(L, 6), VIZ_INK);
    float tri = (float)viz_px(L, 8);
    float t3[6] = {(float)xp - tri, (float)b.y + 2, (float)xp + tri, (float)b.y + 2, (float)xp, (float)b.y + 2 + tri};
    viz_gfx_fill_poly(g, t3, 3, VIZ_INK);
    (void)sn;
}

/* ---- overlays ------------------------------------------------------------------- */

static void draw_help(viz_gfx_t *g, const viz_layout_t *L)
{
    static const char *const keys[][2] = {
        {"Space", "play / pause"},
        {"S  or  .", "step: run one goroutine step"},
        {"N", "run to the next marker (state change, fault, failure)"},
        {"D", "next decision (a reproducer: its next decisive step)"},
        {"L", "show / hide a timeline lane per goroutine"},
        {"M", "markers: all, faults and failures, state changes, events"},
        {"+  /  -", "faster / slower (from 1/100 to as fast as it runs)"},
        {"1", "real time (1 simulated second per second)"},
        {"Left / Right", "seek back / forward (Shift: 5 times as far)"},
        {"Home / End", "go to the start / the end"},
        {"click timeline", "seek there (backwards re-runs from the start)"},
        {"click an item", "its details in the side panel; Esc clears"},
        {"P", "save a screenshot (PNG, in the current folder)"},
        {"?  or  H", "show / hide these keys"},
        {"Q  or  close", "close the view (the run then finishes)"},
    };
    int n = (int)(sizeof keys / sizeof keys[0]);
    int lh = viz_gfx_line_height(g, VIZ_FONT_BODY) + viz_px(L, 6);
    int w = viz_px(L, 820), h = lh * n + viz_px(L, 80);
    if (w > L->w - 40)
        w = L->w - 40;
    int x = (L->w - w) / 2, y = (L->h - h) / 2;
    viz_gfx_fill_rect(g, x + 6, y + 6, w, h, 0x777777u);
    viz_gfx_fill_rect(g, x, y, w, h, VIZ_PANEL);
    viz_gfx_rect(g, x, y, w, h, 3, VIZ_INK);
    viz_gfx_text(g, VIZ_FONT_TITLE, VIZ_INK, x + viz_px(L, 20), y + viz_px(L, 12), "Keys");
    int ky = y + viz_px(L, 60), kw = viz_px(L, 200);
    for (int i = 0; i < n; i++) {
        viz_gfx_text_fit(g, VIZ_FONT_BOLD, VIZ_INK, x + viz_px(L, 24), ky + i * lh, kw, keys[i][0]);
        viz_gfx_text_fit(g, VIZ_FONT_BODY, VIZ_INK, x + viz_px(L, 24) + kw, ky + i * lh, w - kw - viz_px(L, 48),
                         keys[i][1]);
    }
}

static void draw_toast(viz_gfx_t *g, const viz_layout_t *L, const char *msg)
{
    int pad = viz_px(L, 10);
    int w = viz_gfx_text_width(g, VIZ_FONT_BOLD, msg) + 2 * pad;
    if (w > L->w - 20)
        w = L->w - 20;
    int h = viz_gfx_line_height(g, VIZ_FONT_BOLD) + 2 * pad;
    int x = L->main.x + viz_px(L, 4), y = L->timeline.y - h - viz_px(L, 10);
    viz_gfx_fill_rect(g, x, y, w, h, VIZ_INK);
    viz_gfx_text_fit(g, VIZ_FONT_BOLD, 0xFFFFFFu, x + pad, y + pad, w - 2 * pad, msg);
}

void viz_draw_chrome(viz_gfx_t *g, const viz_layout_t *L, const viz_snap_t *sn, const viz_track_t *tr,
                     const viz_frame_t *f)
{
    draw_header(g, L, f);
    draw_side(g, L, sn, tr, f);
    draw_timeline(g, L, sn, tr, f);
    viz_draw_lanes(g, L, sn, tr, f);
    if (f->toast && *f->toast)
        draw_toast(g, L, f->toast);
    viz_draw_menu(g, L, f->menu);
    if (f->help)
        draw_help(g, L);
}
