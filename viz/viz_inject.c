/*
 * viz_inject: faults injected from the window. A click on a node or a
 * link opens a small menu (crash, pause, isolate, restart, resume, cut
 * the link, heal); the chosen fault is added at the playhead's time to the
 * view's fault schedule (sim/world/faults.h), written whole to
 * chansim-faults.txt, and the run starts again with it and comes back to
 * the playhead: from there on it is the new branch, which `chansim run
 * SCENARIO --faults chansim-faults.txt` replays exactly. See viz_int.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz_draw_int.h"
#include "viz_int.h"
#include "viz_palette.h"

#define FAULTS_FILE "chansim-faults.txt"

void viz_inject_init(viz_t *v, const char *given)
{
    v->faults_text = NULL;
    v->faults_len = 0;
    v->faults_file[0] = 0;
    if (!given)
        return;
    /* The schedule the run was given: the branch continues it. */
    FILE *f = fopen(given, "r");
    if (!f)
        return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        char *t = realloc(v->faults_text, v->faults_len + n + 1);
        if (!t)
            break;
        v->faults_text = t;
        memcpy(t + v->faults_len, buf, n);
        v->faults_len += n;
        t[v->faults_len] = 0;
    }
    fclose(f);
    if (v->faults_len && v->faults_text[v->faults_len - 1] != '\n') {
        char *t = realloc(v->faults_text, v->faults_len + 2);
        if (t) {
            v->faults_text = t;
            t[v->faults_len++] = '\n';
            t[v->faults_len] = 0;
        }
    }
}

void viz_inject_deinit(viz_t *v)
{
    free(v->faults_text);
    v->faults_text = NULL;
    v->faults_len = 0;
}

const char *viz_faults_path(const viz_t *v)
{
    return v->faults_file[0] ? v->faults_file : NULL;
}

static void add_item(viz_menu_t *m, const char *label, const char *what)
{
    if (m->n >= VIZ_MENU_ITEMS)
        return;
    snprintf(m->label[m->n], sizeof m->label[0], "%s", label);
    snprintf(m->what[m->n], sizeof m->what[0], "%s", what);
    m->n++;
}

/* The nodes of the link under x, y (within a few pixels of its path). */
static bool link_at(const viz_t *v, int x, int y, const char **a, const char **b)
{
    const viz_layout_t *L = &v->lay;
    float best = (float)viz_px(L, 8);
    bool found = false;
    for (size_t i = 0; i < L->n; i++) {
        const viz_sent_t *ea = L->items[i].kind == VIZ_ITEM_NODE ? viz_snap_entity(v->snap, L->items[i].id) : NULL;
        for (size_t j = i + 1; ea && j < L->n; j++) {
            const viz_sent_t *eb =
                L->items[j].kind == VIZ_ITEM_NODE ? viz_snap_entity(v->snap, L->items[j].id) : NULL;
            if (!eb)
                continue;
            for (int k = 0; k <= 64; k++) {
                float px, py;
                if (!viz_link_point(L, v->snap, ea->name, eb->name, k / 64.0, &px, &py))
                    break;
                float d = hypotf(px - (float)x, py - (float)y);
                if (d < best) {
                    best = d;
                    *a = ea->name;
                    *b = eb->name;
                    found = true;
                }
            }
        }
    }
    return found;
}

static void place(viz_t *v, int x, int y)
{
    viz_menu_t *m = &v->menu;
    viz_gfx_t *g = v->gfx;
    int pad = viz_px(&v->lay, 10);
    m->row_h = viz_gfx_line_height(g, VIZ_FONT_BOLD) + viz_px(&v->lay, 10);
    m->head_h = viz_gfx_line_height(g, VIZ_FONT_SMALL) + viz_px(&v->lay, 8);
    int w = viz_gfx_text_width(g, VIZ_FONT_SMALL, m->title);
    for (int i = 0; i < m->n; i++) {
        int lw = viz_gfx_text_width(g, VIZ_FONT_BOLD, m->label[i]);
        w = lw > w ? lw : w;
    }
    m->w = w + 2 * pad;
    int h = m->head_h + m->n * m->row_h + viz_px(&v->lay, 4);
    m->x = x + viz_px(&v->lay, 10);
    m->y = y + viz_px(&v->lay, 10);
    if (m->x + m->w > v->lay.w)
        m->x = v->lay.w - m->w - 4;
    if (m->y + h > v->lay.h)
        m->y = v->lay.h - h - 4;
}

bool viz_inject_open(viz_t *v, int x, int y)
{
    viz_menu_t *m = &v->menu;
    memset(m, 0, sizeof *m);
    if (!v->lay_valid || !v->s || v->ended)
        return false;
    const viz_cut_t *cuts;
    bool any_cut = viz_track_cuts(v->tr, &cuts) > 0;
    char t[96], l[64];
    const viz_item_t *it = viz_layout_hit(&v->lay, x, y);
    const char *a = NULL, *b = NULL;
    bool on_link = false;
    if (!it || it->kind == VIZ_ITEM_CLUSTER) {
        on_link = link_at(v, x, y, &a, &b);
    } else if (it->kind == VIZ_ITEM_NODE) {
        /* A node's box spans its column: off its circle, a link wins. */
        int cx = it->r.x + it->r.w / 2, cy = it->r.y + viz_px(&v->lay, 72);
        if (hypot(x - cx, y - cy) > viz_px(&v->lay, 46) && link_at(v, x, y, &a, &b))
            on_link = true;
    }
    if (it && it->kind == VIZ_ITEM_NODE && !on_link) {
        const viz_sent_t *e = viz_snap_entity(v->snap, it->id);
        if (!e)
            return false;
        snprintf(m->title, sizeof m->title, "inject into %s", e->name);
        bool crashed = strcasestr(e->state, "crash") != NULL, paused = strcasestr(e->state, "pause") != NULL;
#define ITEM(label, verb)                                    \
        do {                                                 \
            snprintf(l, sizeof l, "%s", label);              \
            snprintf(t, sizeof t, "%s %s", verb, e->name);   \
            add_item(m, l, t);                               \
        } while (0)
        if (crashed) {
            ITEM("restart", "restart");
        } else {
            ITEM("crash", "crash");
            if (paused)
                ITEM("resume", "resume");
            else
                ITEM("pause", "pause");
            ITEM("isolate (cut all its links)", "isolate");
        }
#undef ITEM
    } else if (on_link) {
        snprintf(m->title, sizeof m->title, "inject into the link %s \xe2\x80\x93 %s", a, b);
        snprintf(l, sizeof l, "cut %s \xe2\x80\x93 %s", a, b);
        snprintf(t, sizeof t, "partition %s | %s", a, b);
        add_item(m, l, t);
    } else {
        return false;
    }
    if (any_cut)
        add_item(m, "heal every partition", "heal");
    m->open = true;
    place(v, x, y);
    return true;
}

/* Write the schedule whole: a temporary file renamed over the old. */
static bool write_faults(viz_t *v, char *err, size_t errsize)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", FAULTS_FILE);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errsize, "cannot write %s", tmp);
        return false;
    }
    bool ok = fwrite(v->faults_text, 1, v->faults_len, f) == v->faults_len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, FAULTS_FILE) != 0) {
        remove(tmp);
        snprintf(err, errsize, "cannot write %s", FAULTS_FILE);
        return false;
    }
    snprintf(v->faults_file, sizeof v->faults_file, "%s", FAULTS_FILE);
    return true;
}

static void inject(viz_t *v, const char *what)
{
    simtime_t at = v->p;
    char line[160];
    int n = snprintf(line, sizeof line, "%lld.%09llds %s\n", (long long)(at / SIM_SEC),
                     (long long)(at % SIM_SEC), what);
    char *t = realloc(v->faults_text, v->faults_len + (size_t)n + 1);
    if (!t)
        return;
    v->faults_text = t;
    memcpy(t + v->faults_len, line, (size_t)n + 1);
    v->faults_len += (size_t)n;
    char err[256];
    if (!write_faults(v, err, sizeof err)) {
        /* Not written: no branch that could not be replayed. */
        v->faults_len -= (size_t)n;
        v->faults_text[v->faults_len] = 0;
        snprintf(v->toast, sizeof v->toast, "%s: the fault is not injected", err);
    } else {
        char clock[48];
        viz_format_clock(at, viz_extent(v, at), clock, sizeof clock);
        snprintf(v->toast, sizeof v->toast, "%s at %s: a new branch (replay it: --faults %s)", what, clock,
                 FAULTS_FILE);
        fprintf(stderr, "chansim: view: injected %s at %s; the run goes on as a new branch "
                        "(chansim run ... --faults %s replays it)\n", what, clock, FAULTS_FILE);
        /* Run again with the schedule and come back here. What lay ahead
         * belonged to the other branch: the timeline learns this one's as
         * it goes; the selection's ids may differ in it. */
        viz_track_forget_marks(v->tr);
        v->known_end = -1;
        v->has_sel = false;
        v->seeking = true;
        v->seek_target = at;
        v->restart_req = true;
    }
    v->toast_until = SDL_GetTicks64() + 4000;
    v->dirty = true;
}

bool viz_inject_click(viz_t *v, int x, int y)
{
    viz_menu_t *m = &v->menu;
    if (!m->open)
        return false;
    m->open = false;
    v->dirty = true;
    int h = m->head_h + m->n * m->row_h;
    if (x < m->x || x >= m->x + m->w || y < m->y || y >= m->y + h)
        return false;
    int row = (y - m->y - m->head_h) / m->row_h;
    if (y >= m->y + m->head_h && row >= 0 && row < m->n)
        inject(v, m->what[row]);
    return true;
}

bool viz_inject_point(const viz_t *v, const char *label, int *x, int *y)
{
    const viz_menu_t *m = &v->menu;
    for (int i = 0; m->open && i < m->n; i++)
        if (strncmp(m->label[i], label, strlen(label)) == 0) {
            *x = m->x + m->w / 2;
            *y = m->y + m->head_h + i * m->row_h + m->row_h / 2;
            return true;
        }
    return false;
}

void viz_draw_menu(viz_gfx_t *g, const viz_layout_t *L, const viz_menu_t *m)
{
    if (!m || !m->open)
        return;
    int h = m->head_h + m->n * m->row_h + viz_px(L, 4);
    viz_gfx_fill_rect(g, m->x + 3, m->y + 3, m->w, h, VIZ_BORDER);
    viz_gfx_fill_rect(g, m->x, m->y, m->w, h, VIZ_PANEL);
    viz_gfx_rect(g, m->x, m->y, m->w, h, 2, VIZ_INK);
    int pad = viz_px(L, 10);
    viz_gfx_text_fit(g, VIZ_FONT_SMALL, VIZ_INK_MUTED, m->x + pad, m->y + viz_px(L, 4), m->w - 2 * pad, m->title);
    for (int i = 0; i < m->n; i++) {
        int ry = m->y + m->head_h + i * m->row_h;
        viz_gfx_fill_rect(g, m->x + viz_px(L, 4), ry, m->w - viz_px(L, 8), 1, VIZ_PANEL_ALT);
        uint32_t ink = strncmp(m->what[i], "heal", 4) == 0 ? VIZ_INK : VIZ_C_FAIL;
        viz_gfx_text_fit(g, VIZ_FONT_BOLD, ink, m->x + pad, ry + viz_px(L, 5), m->w - 2 * pad, m->label[i]);
    }
}
