/*
 * viz_live: the window. Its loop runs inside the scheduler's hooks (see
 * viz.h): the state of the run is frozen while the loop runs, so input,
 * snapshot and drawing happen with the simulation stopped, and returning
 * from the hook is how the simulation advances. Input comes from the
 * keyboard and the mouse, or from a script (--view-script) whose commands
 * become the same SDL events.
 */
#include "viz_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "viz_draw_int.h"
#include "viz_png.h"

#define FRAME_MS 16       /* the loop's pace when idle (about 60 frames a second) */
#define BUSY_DRAW_MS 40   /* while running flat out, a frame at most this often */

static uint64_t wall_ms(void)
{
    return SDL_GetTicks64();
}

static void toast(viz_t *v, const char *fmt, const char *arg)
{
    snprintf(v->toast, sizeof v->toast, fmt, arg);
    v->toast_until = wall_ms() + 2500;
    v->dirty = true;
}

/* ---- scripted input ------------------------------------------------------------ */

static void parse_script(viz_t *v, const char *script)
{
    const char *p = script;
    while (p && *p && v->nscript < VIZ_SCRIPT_MAX) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n) {
            char *cmd = malloc(n + 1);
            if (!cmd)
                return;
            memcpy(cmd, p, n);
            cmd[n] = 0;
            v->script[v->nscript++] = cmd;
        }
        p = e ? e + 1 : NULL;
    }
}

static void push_key(viz_t *v, SDL_Keycode sym, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.windowID = SDL_GetWindowID(v->win);
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = sym;
    e.key.keysym.mod = mod;
    SDL_PushEvent(&e);
}

static void push_click(viz_t *v, int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.windowID = SDL_GetWindowID(v->win);
    e.button.button = SDL_BUTTON_LEFT;
    e.button.state = SDL_PRESSED;
    e.button.clicks = 1;
    e.button.x = x;
    e.button.y = y;
    SDL_PushEvent(&e);
}

static void seek_to(viz_t *v, simtime_t t);

/* Run the script's next command if it is due. */
static void script_tick(viz_t *v)
{
    if (v->script_pos >= v->nscript)
        return;
    /* A shot asked for is taken (with the next frame) before the script
     * goes on: "shot a.png,quit" saves a.png. */
    if (v->shot_req)
        return;
    if (v->script_wait_end) {
        if (!v->ended || v->seeking)
            return;
        v->script_wait_end = false;
    }
    if (wall_ms() < v->script_wait_until)
        return;
    const char *c = v->script[v->script_pos++];
    char arg[1024];
    int x, y;
    int64_t d;
    char err[128];
    if (sscanf(c, "wait %1023s", arg) == 1 && strcmp(c, "wait-end") != 0) {
        if (dur_parse(arg, &d, err, sizeof err))
            v->script_wait_until = wall_ms() + (uint64_t)(d / 1000000);
        else
            fprintf(stderr, "chansim: --view-script: %s: %s\n", c, err);
    } else if (strcmp(c, "wait-end") == 0) {
        v->script_wait_end = true;
    } else if (sscanf(c, "shot %1023s", arg) == 1) {
        v->shot_req = true;
        snprintf(v->shot_path, sizeof v->shot_path, "%s", arg);
    } else if (sscanf(c, "click %d %d", &x, &y) == 2) {
        push_click(v, x, y);
    } else if (strncmp(c, "click-on ", 9) == 0) {
        /* Where the last frame drew it: a node, a link, a row of the
         * fault menu (by the start of its label). */
        char a[128] = "", b[128] = "";
        bool ok = false;
        if (sscanf(c, "click-on node %127s", a) == 1) {
            viz_box_t whole, part;
            ok = viz_find(v, "node", a, &whole, &part);
            x = part.x + part.w / 2;
            y = part.y + part.h / 2;
        } else if (sscanf(c, "click-on link %127s %127s", a, b) == 2) {
            float fx, fy;
            ok = v->lay_valid && viz_link_point(&v->lay, v->snap, a, b, 0.5, &fx, &fy);
            x = (int)fx;
            y = (int)fy;
        } else if (strncmp(c, "click-on menu ", 14) == 0) {
            ok = viz_inject_point(v, c + 14, &x, &y);
        }
        if (ok)
            push_click(v, x, y);
        else
            fprintf(stderr, "chansim: --view-script: %s: not drawn\n", c);
    } else if (sscanf(c, "seek %1023s", arg) == 1) {
        if (dur_parse(arg, &d, err, sizeof err))
            seek_to(v, d);
        else
            fprintf(stderr, "chansim: --view-script: %s: %s\n", c, err);
    } else if (strcmp(c, "quit") == 0) {
        SDL_Event e;
        memset(&e, 0, sizeof e);
        e.type = SDL_QUIT;
        SDL_PushEvent(&e);
    } else {
        static const struct { const char *name; SDL_Keycode sym; Uint16 mod; } keys[] = {
            {"space", SDLK_SPACE, 0}, {"left", SDLK_LEFT, 0}, {"right", SDLK_RIGHT, 0},
            {"shift+left", SDLK_LEFT, KMOD_LSHIFT}, {"shift+right", SDLK_RIGHT, KMOD_LSHIFT},
            {"home", SDLK_HOME, 0}, {"end", SDLK_END, 0}, {"esc", SDLK_ESCAPE, 0},
            {"escape", SDLK_ESCAPE, 0}, {"?", SDLK_SLASH, KMOD_LSHIFT}, {"+", SDLK_PLUS, 0},
            {"-", SDLK_MINUS, 0}, {"step", SDLK_s, 0}, {"next", SDLK_n, 0}, {"help", SDLK_h, 0},
            {"decision", SDLK_d, 0},
        };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(c, keys[i].name) == 0) {
                push_key(v, keys[i].sym, keys[i].mod);
                return;
            }
        if (strlen(c) == 1) {
            push_key(v, (SDL_Keycode)(unsigned char)c[0], 0);
            return;
        }
        fprintf(stderr, "chansim: --view-script: unknown command \"%s\"\n", c);
    }
}

/* ---- the window ------------------------------------------------------------------ */

bool viz_live_open(viz_t *v, const viz_options_t *opt, char *err, size_t errsize)
{
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errsize, "cannot open a window: %s (no display? --record DIR records frames without one)",
                 SDL_GetError());
        return false;
    }
    v->sdl_video = true;
    /* With no display SDL may settle for a driver that shows nothing (its
     * "offscreen" or "dummy" ones): a window nobody can see or close is
     * an error, unless a script drives it. */
    const char *drv = SDL_GetCurrentVideoDriver();
    if (!opt->script && drv && (strcmp(drv, "dummy") == 0 || strcmp(drv, "offscreen") == 0 ||
                                strcmp(drv, "evdev") == 0)) {
        snprintf(err, errsize, "no display to open a window on (SDL's video driver is \"%s\"; "
                 "is DISPLAY set?): --record DIR records frames without one", drv);
        return false;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "0");
    v->win = SDL_CreateWindow("chansim", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, v->width, v->height,
                              SDL_WINDOW_RESIZABLE);
    if (!v->win) {
        snprintf(err, errsize, "cannot open a window: %s", SDL_GetError());
        return false;
    }
    SDL_SetWindowMinimumSize(v->win, 640, 400);
    v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_ACCELERATED);
    if (!v->ren)
        v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
    if (!v->ren) {
        snprintf(err, errsize, "no renderer for the window: %s", SDL_GetError());
        return false;
    }
    v->gfx = viz_gfx_create(v->ren, v->font_dir, err, errsize);
    if (!v->gfx)
        return false;
    double want = opt->speed > 0 ? opt->speed : 1.0;
    v->speed_idx = 6;
    for (int i = 0; i < VIZ_SPEEDS - 1; i++)
        if (fabs(log(viz_speed_of(i) / want)) < fabs(log(viz_speed_of(v->speed_idx) / want)))
            v->speed_idx = i;
    v->playing = !opt->paused;
    if (opt->script)
        parse_script(v, opt->script);
    v->wall_last = wall_ms();
    return true;
}

void viz_live_close(viz_t *v)
{
    if (v->ren)
        SDL_DestroyRenderer(v->ren);
    v->ren = NULL;
    if (v->win)
        SDL_DestroyWindow(v->win);
    v->win = NULL;
    if (v->sdl_video)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    v->sdl_video = false;
    SDL_Quit();
}

/* While a first pass runs ahead to find the run's end and markers. */
static void splash(viz_t *v)
{
    int w, h;
    SDL_GetRendererOutputSize(v->ren, &w, &h);
    char err[256];
    viz_gfx_set_scale(v->gfx, fmin((double)w / 1280, (double)h / 720), err, sizeof err);
    viz_gfx_begin_frame(v->gfx);
    viz_gfx_fill_rect(v->gfx, 0, 0, w, h, 0xF4F3EEu);
    viz_gfx_text_center(v->gfx, VIZ_FONT_LARGE, 0x161616u, w / 2, h / 2 - 20, w - 40,
                        "running the scenario ahead to draw its timeline\xe2\x80\xa6");
    SDL_RenderPresent(v->ren);
    SDL_PumpEvents();
}

void viz_live_begin(viz_t *v)
{
    if (v->survey) {
        splash(v);
        return;
    }
    v->restart_req = false;
    v->step_req = v->stop_at_step = false;
    v->next_req = v->stop_at_mark = false;
    v->decision_req = v->stop_at_decision = false;
    if (!v->seeking)
        v->p = 0;
    /* Opened paused: stop after the first step. */
    if (!v->playing && !v->seeking && !v->ended)
        v->stop_at_step = true;
    v->steps_since_poll = 0;
    v->wall_last = wall_ms();
}

static void set_status(viz_t *v)
{
    double sp = viz_speed_of(v->speed_idx);
    char spd[32];
    if (sp <= 0)
        snprintf(spd, sizeof spd, "max");
    else
        snprintf(spd, sizeof spd, "%gx", sp);
    if (v->ended && v->p >= v->end_t && !v->seeking)
        snprintf(v->status, sizeof v->status, "ended");
    else if (v->seeking)
        snprintf(v->status, sizeof v->status, "seeking...");
    else if (v->stop_at_mark)
        snprintf(v->status, sizeof v->status, "to the next marker...");
    else if (v->stop_at_decision)
        snprintf(v->status, sizeof v->status, "to the next decision...");
    else if (v->playing)
        snprintf(v->status, sizeof v->status, "\xe2\x96\xb6 %s", spd);
    else
        snprintf(v->status, sizeof v->status, "\xe2\x80\x96 paused (%s)", spd);
}

static void screenshot(viz_t *v)
{
    int w, h;
    SDL_GetRendererOutputSize(v->ren, &w, &h);
    char path[1024], err[512];
    if (v->shot_path[0]) {
        snprintf(path, sizeof path, "%s", v->shot_path);
    } else {
        for (int i = 1; i < 10000; i++) {
            snprintf(path, sizeof path, "chansim-shot-%03d.png", i);
            if (access(path, F_OK) != 0)
                break;
        }
    }
    v->shot_path[0] = 0;
    uint32_t *px = malloc((size_t)w * (size_t)h * 4);
    if (!px || SDL_RenderReadPixels(v->ren, NULL, SDL_PIXELFORMAT_ARGB8888, px, w * 4) != 0) {
        free(px);
        toast(v, "screenshot failed: %s", SDL_GetError());
        fprintf(stderr, "chansim: view: screenshot %s not saved: %s\n", path, SDL_GetError());
        return;
    }
    if (viz_png_write(path, px, w, h, w * 4, err, sizeof err)) {
        toast(v, "saved %s", path);
        fprintf(stderr, "chansim: view: saved %s\n", path);
    } else {
        toast(v, "screenshot not saved: %s", err);
        fprintf(stderr, "chansim: view: screenshot %s not saved: %s\n", path, err);
    }
    free(px);
}

/* Draw the current snapshot at the playhead and show it. A screenshot is
 * read from a frame drawn without the toast (the view's own message is
 * not part of the picture); the frame shown then has it. */
static void present(viz_t *v)
{
    if (v->closed || !v->ren)
        return;
    if (v->snap_stale && v->s) {
        viz_refresh(v, v->snap_mid);
        v->snap_stale = false;
    }
    set_status(v);
    int w, h;
    SDL_GetRendererOutputSize(v->ren, &w, &h);
    if (v->lay_w != w || v->lay_h != h)
        v->lay_valid = false;
    if (!v->lay_valid) {
        double scale = fmin((double)w / 1280, (double)h / 720);
        char err[256];
        if (!viz_gfx_set_scale(v->gfx, scale, err, sizeof err))
            fprintf(stderr, "chansim: view: %s\n", err);
        v->lay.lanes_rows = viz_lanes_rows(v);
        viz_layout_build(&v->lay, v->snap, w, h, viz_gfx_scale(v->gfx));
        v->lay_valid = true;
        v->lay_w = w;
        v->lay_h = h;
    }
    viz_frame_t f;
    viz_frame_facts(v, &f, v->p);
    if (v->shot_req) {
        v->shot_req = false;
        const char *t = f.toast;
        f.toast = NULL;
        viz_draw(v->gfx, &v->lay, v->snap, v->tr, &f);
        screenshot(v);
        viz_frame_facts(v, &f, v->p);
        if (f.toast != t || f.toast)
            viz_draw(v->gfx, &v->lay, v->snap, v->tr, &f);
    } else {
        viz_draw(v->gfx, &v->lay, v->snap, v->tr, &f);
    }
    SDL_RenderPresent(v->ren);
    v->wall_drawn = wall_ms();
    v->toast_drawn = f.toast != NULL;
    v->dirty = false;
}

/* Paused, the frame changes only with input, a toast appearing or going,
 * a script's command or the run moving: otherwise the loop sleeps in
 * SDL_WaitEventTimeout and draws nothing. */
static bool needs_frame(const viz_t *v)
{
    if (v->dirty || v->shot_req || v->snap_stale)
        return true;
    bool toast_up = v->toast_until > wall_ms();
    return toast_up != v->toast_drawn;
}

/* Wait for input for at most ms, or until the toast goes or a script's
 * wait ends. */
static void idle_wait(viz_t *v, uint64_t ms)
{
    uint64_t now = wall_ms();
    if (v->toast_drawn && v->toast_until > now && v->toast_until - now < ms)
        ms = v->toast_until - now;
    if (v->script_pos < v->nscript) {
        uint64_t until = v->script_wait_until > now ? v->script_wait_until - now : 0;
        ms = until < FRAME_MS ? FRAME_MS : until < ms ? until : ms;
    }
    SDL_WaitEventTimeout(NULL, (int)ms);
}

static void seek_to(viz_t *v, simtime_t t)
{
    if (t < 0)
        t = 0;
    if (v->known_end >= 0 && t > v->known_end)
        t = v->known_end;
    v->seeking = true;
    v->seek_target = t;
    v->stop_at_mark = v->stop_at_step = v->stop_at_decision = false;
    v->dirty = true;
}

static void select_at(viz_t *v, int x, int y)
{
    if (!v->lay_valid)
        return;
    if (viz_inject_click(v, x, y))
        return;
    if (y >= v->lay.timeline.y) {
        seek_to(v, viz_timeline_t(&v->lay, x, viz_extent(v, v->p)));
        return;
    }
    /* A node or a link: the menu of faults to inject. */
    viz_inject_open(v, x, y);
    const viz_item_t *it = viz_layout_hit(&v->lay, x, y);
    if (!it || it->kind == VIZ_ITEM_CLUSTER) {
        v->has_sel = false;
        return;
    }
    v->has_sel = true;
    v->sel_kind = it->kind;
    v->sel_id = it->id;
}

static void on_key(viz_t *v, const SDL_Keysym *k)
{
    bool shift = (k->mod & KMOD_SHIFT) != 0;
    simtime_t ext = viz_extent(v, v->p);
    simtime_t base = v->seeking ? v->seek_target : v->p;
    simtime_t jump = ext / 50 > 0 ? ext / 50 : 1;
    switch (k->sym) {
    case SDLK_SPACE:
        if (v->ended && v->p >= v->end_t)
            toast(v, "%s", "the run has ended: Home replays it, Left goes back");
        else
            v->playing = !v->playing;
        break;
    case SDLK_s:
    case SDLK_PERIOD:
        if (v->ended)
            toast(v, "%s", "the run has ended: Home replays it");
        else
            v->step_req = true;
        break;
    case SDLK_d:
        if (v->ended)
            toast(v, "%s", "the run has ended: Home replays it");
        else if (v->story && viz_story_reached(v) >= v->story->nrows - 1)
            toast(v, "%s", "that was the last decisive step: End shows how the run ends");
        else
            v->decision_req = true;
        break;
    case SDLK_l:
        v->show_lanes = !v->show_lanes;
        v->lay_valid = false;
        break;
    case SDLK_m: {
        /* the timeline's markers: all, then each kind of story alone */
        static const struct {
            unsigned bits;
            const char *what;
        } cycle[] = {
            {0, "every kind"},
            {VIZ_MARKS_FAULT | VIZ_MARKS_FAILURE | VIZ_MARKS_END, "faults and failures"},
            {VIZ_MARKS_STATE | VIZ_MARKS_END, "state changes"},
            {VIZ_MARKS_EVENT | VIZ_MARKS_END, "the scenario's events"},
        };
        int n = (int)(sizeof cycle / sizeof cycle[0]), i = 0;
        while (i < n && cycle[i].bits != v->mark_filter)
            i++;
        i = i < n ? (i + 1) % n : 0;
        v->mark_filter = cycle[i].bits;
        toast(v, "markers: %s", cycle[i].what);
        break;
    }
    case SDLK_n:
        if (v->ended)
            toast(v, "%s", "the run has ended: Home replays it");
        else
            v->next_req = true;
        break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
    case SDLK_RIGHTBRACKET:
        if (v->speed_idx < VIZ_SPEEDS - 1)
            v->speed_idx++;
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
    case SDLK_LEFTBRACKET:
        if (v->speed_idx > 0)
            v->speed_idx--;
        break;
    case SDLK_1:
        v->speed_idx = 6;
        break;
    case SDLK_LEFT:
        seek_to(v, base - jump * (shift ? 5 : 1));
        break;
    case SDLK_RIGHT:
        seek_to(v, base + jump * (shift ? 5 : 1));
        break;
    case SDLK_HOME:
        seek_to(v, 0);
        break;
    case SDLK_END:
        seek_to(v, v->known_end >= 0 ? v->known_end : ext);
        break;
    case SDLK_p:
    case SDLK_PRINTSCREEN:
        v->shot_req = true;
        break;
    case SDLK_h:
    case SDLK_F1:
    case SDLK_QUESTION:
        v->help = !v->help;
        break;
    case SDLK_SLASH:
        if (shift)
            v->help = !v->help;
        break;
    case SDLK_ESCAPE:
        if (v->menu.open)
            v->menu.open = false;
        else if (v->help)
            v->help = false;
        else
            v->has_sel = false;
        break;
    case SDLK_q:
        v->closed = true;
        break;
    default:
        break;
    }
}

static void handle_input(viz_t *v)
{
    script_tick(v);
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        if (e.type != SDL_MOUSEMOTION && e.type != SDL_KEYUP && e.type != SDL_MOUSEBUTTONUP &&
            e.type != SDL_TEXTINPUT)
            v->dirty = true;
        switch (e.type) {
        case SDL_QUIT:
            v->closed = true;
            break;
        case SDL_WINDOWEVENT:
            if (e.window.event == SDL_WINDOWEVENT_CLOSE)
                v->closed = true;
            else if (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                v->lay_valid = false;
            break;
        case SDL_KEYDOWN:
            on_key(v, &e.key.keysym);
            break;
        case SDL_MOUSEBUTTONDOWN:
            if (e.button.button == SDL_BUTTON_LEFT)
                select_at(v, e.button.x, e.button.y);
            break;
        default:
            break;
        }
    }
    if (v->closed && v->shot_req) {
        v->shot_req = false;
        fprintf(stderr, "chansim: view: screenshot %s not saved: the window closed first\n",
                v->shot_path[0] ? v->shot_path : "(P)");
    }
    if (v->closed && v->win) {
        SDL_HideWindow(v->win);
        fprintf(stderr, "chansim: view closed; the run goes on to its end\n");
    }
}

/* While the run goes on without stopping (seeking, running to a marker,
 * full speed), keep the window alive now and then. */
static void keep_alive(viz_t *v, bool mid_instant)
{
    uint64_t now = wall_ms();
    if (now - v->wall_drawn < BUSY_DRAW_MS)
        return;
    handle_input(v);
    if (v->closed || v->restart_req)
        return;
    v->snap_stale = true;
    v->snap_mid = mid_instant;
    simtime_t keep = v->p;
    v->p = sched_now_of(v->s);
    present(v);
    if (v->seeking)
        v->p = keep;
}

/* The loop, with the run's state valid from lo to hi (lo == hi between
 * two steps of one instant). Returns when the run should go on. */
static void pump(viz_t *v, simtime_t lo, simtime_t hi, bool mid_instant)
{
    /* The snapshot is taken when a frame is drawn: most hooks only move
     * the playhead through a short interval and return. */
    v->snap_stale = true;
    v->snap_mid = mid_instant;
    if (v->p < lo)
        v->p = lo;
    if (v->p > hi)
        v->p = hi;
    for (;;) {
        uint64_t start = wall_ms();
        handle_input(v);
        if (v->closed || v->restart_req)
            return;
        if (v->seeking) {
            simtime_t t = v->seek_target;
            if (t < lo) {
                v->restart_req = true;
                return;
            } else if (!v->ended && (mid_instant ? t > lo : t >= hi)) {
                return; /* forward: the run goes on without drawing */
            } else {
                v->p = t > hi ? hi : t;
                v->seeking = false;
                v->playing = false;
                v->dirty = true;
            }
        }
        if (v->ended) {
            v->step_req = v->next_req = v->decision_req = false;
            v->playing = false;
        }
        if (v->decision_req) {
            v->decision_req = false;
            v->stop_at_decision = true;
            v->playing = false;
            v->decision_base = v->story ? (uint64_t)(viz_story_reached(v) + 1) : sched_choice_points(v->s);
            return;
        }
        if (v->step_req) {
            v->step_req = false;
            v->stop_at_step = true;
            v->playing = false;
            return;
        }
        if (v->next_req) {
            v->next_req = false;
            v->stop_at_mark = true;
            viz_track_take_interesting(v->tr);
            return;
        }
        uint64_t now = wall_ms();
        if (v->playing) {
            double sp = viz_speed_of(v->speed_idx);
            if (mid_instant) {
                v->wall_last = now;
                return;
            }
            if (sp <= 0) {
                v->p = hi;
                if (now - v->wall_drawn >= BUSY_DRAW_MS)
                    present(v);
                v->wall_last = now;
                return;
            }
            simtime_t adv = (simtime_t)((double)(now - v->wall_last) * sp * 1e6 / viz_slow_at(v, v->p, sp));
            v->wall_last = now;
            if (v->p + adv >= hi) {
                v->p = hi;
                return;
            }
            v->p += adv;
        } else {
            v->wall_last = now;
            if (!needs_frame(v)) {
                idle_wait(v, 250);
                continue;
            }
        }
        present(v);
        uint64_t spent = wall_ms() - start;
        if (spent < FRAME_MS)
            SDL_Delay((Uint32)(FRAME_MS - spent));
    }
}

void viz_live_clock(viz_t *v, simtime_t from, simtime_t to)
{
    if (v->closed || v->restart_req)
        return;
    if (v->seeking) {
        if (v->seek_target >= to) {
            keep_alive(v, false);
            return;
        }
        v->p = v->seek_target > from ? v->seek_target : from;
        v->seeking = false;
        v->playing = false;
        pump(v, from, to, false);
        return;
    }
    if (v->stop_at_mark || v->stop_at_step || v->stop_at_decision) {
        keep_alive(v, false);
        return;
    }
    pump(v, from, to, false);
}

/* The step just taken reached what the decision key asked for: the next
 * decisive step of a story, else the next decision point at which another
 * goroutine could have run (under FIFO, which has none, the next step). */
static bool decision_reached(const viz_t *v)
{
    if (v->story)
        return viz_story_reached(v) >= (int)v->decision_base;
    if (sched_policy(v->s) == SCHED_FIFO)
        return true;
    return sched_choice_points(v->s) > v->decision_base;
}

void viz_live_step(viz_t *v)
{
    if (v->closed || v->restart_req)
        return;
    simtime_t now = sched_now_of(v->s);
    if (v->stop_at_step) {
        v->stop_at_step = false;
        v->p = now;
        pump(v, now, now, true);
        return;
    }
    if (v->stop_at_decision && decision_reached(v)) {
        v->stop_at_decision = false;
        v->p = now;
        pump(v, now, now, true);
        return;
    }
    if (v->stop_at_mark && viz_track_take_interesting(v->tr)) {
        v->stop_at_mark = false;
        v->playing = false;
        v->p = now;
        pump(v, now, now, true);
        return;
    }
    if (++v->steps_since_poll < 256)
        return;
    v->steps_since_poll = 0;
    keep_alive(v, true);
    if (!v->closed && !v->restart_req && !v->playing && !v->seeking && !v->stop_at_mark &&
        !v->stop_at_decision) {
        /* Paused while running flat out: stop here. */
        v->p = now;
        pump(v, now, now, true);
    }
}

void viz_live_end(viz_t *v)
{
    if (v->closed)
        return;
    v->stop_at_mark = v->stop_at_step = v->stop_at_decision = false;
    if (v->seeking && v->seek_target >= v->end_t)
        v->seeking = false;
    if (!v->seeking)
        v->p = v->end_t;
    v->playing = false;
    pump(v, v->end_t, v->end_t, false);
}
