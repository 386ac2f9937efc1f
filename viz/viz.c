/* viz: life cycle, observers, recording and test access. See viz.h. */
#include "viz_int.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "viz_draw_int.h"
#include "viz_movie.h"
#include "viz_palette.h"
#include "viz_png.h"

#define DEFAULT_W 1280
#define DEFAULT_H 720
#define FLASH_FRAMES 8 /* a recorded operation's dot travels for this many frames */
#define MSG_WALL 0.5   /* a message between nodes travels at least this long
                          (seconds of video or of playback) */

static char *dup_or_null(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

/* mkdir -p. */
static bool make_dirs(const char *path, char *err, size_t errsize)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errsize, "cannot make the folder %s: %s", buf, strerror(errno));
                return false;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errsize, "%s is not a folder", path);
        return false;
    }
    return true;
}

/* Frames of an earlier recording would mix with this one's. */
static void remove_old_frames(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        unsigned n;
        char tail[8];
        if (sscanf(e->d_name, "frame_%6u.%4s", &n, tail) == 2 && strcmp(tail, "png") == 0 &&
            strlen(e->d_name) == strlen("frame_000000.png")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    }
    closedir(d);
}

double viz_speed_of(int idx)
{
    static const double sp[VIZ_SPEEDS] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 1000, 0};
    if (idx < 0)
        idx = 0;
    if (idx >= VIZ_SPEEDS)
        idx = VIZ_SPEEDS - 1;
    return sp[idx];
}

viz_t *viz_create(const viz_options_t *opt, char *err, size_t errsize)
{
    viz_t *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    v->mode = opt->mode;
    v->width = opt->width > 0 ? opt->width : DEFAULT_W;
    v->height = opt->height > 0 ? opt->height : DEFAULT_H;
    v->fps = opt->fps > 0 ? opt->fps : 30;
    v->speed = opt->speed > 0 ? opt->speed : 1.0;
    v->slowdown = opt->slowdown >= 1 ? opt->slowdown : 4.0;
    viz_inject_init(v, opt->faults_path);
    v->frame_ns = (simtime_t)llround((double)SIM_SEC * v->speed / v->fps);
    if (v->frame_ns < 1)
        v->frame_ns = 1;
    v->known_end = -1;
    v->record_steps = opt->record_steps;
    v->story_at = -1;
    v->record_dir = dup_or_null(opt->record_dir);
    v->font_dir = dup_or_null(opt->font_dir);
    v->tr = viz_track_create();
    v->lanes = viz_lanes_create();
    v->show_lanes = opt->lanes;
    v->mark_filter = opt->markers;
    v->snap = viz_snap_create();
    viz_layout_init(&v->lay);
    if (!v->tr || !v->snap || !v->lanes) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    if (v->mode == VIZ_WINDOW) {
        if (!viz_live_open(v, opt, err, errsize))
            goto fail;
        return v;
    }
    if (v->mode == VIZ_RECORD) {
        if (!v->record_dir) {
            snprintf(err, errsize, "recording needs a folder");
            goto fail;
        }
        if (viz_movie_path(v->record_dir)) {
            v->movie = viz_movie_open(v->record_dir, v->width, v->height, v->fps, err, errsize);
            if (!v->movie)
                goto fail;
        } else {
            if (!make_dirs(v->record_dir, err, errsize))
                goto fail;
            remove_old_frames(v->record_dir);
        }
    }
    /* No display: the software renderer draws into a surface. */
    v->surf = SDL_CreateRGBSurfaceWithFormat(0, v->width, v->height, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!v->surf) {
        snprintf(err, errsize, "SDL: cannot make a %dx%d frame: %s", v->width, v->height, SDL_GetError());
        goto fail;
    }
    v->ren = SDL_CreateSoftwareRenderer(v->surf);
    if (!v->ren) {
        snprintf(err, errsize, "SDL: no software renderer: %s", SDL_GetError());
        goto fail;
    }
    v->gfx = viz_gfx_create(v->ren, v->font_dir, err, errsize);
    if (!v->gfx)
        goto fail;
    return v;
fail:
    viz_destroy(v);
    return NULL;
}

void viz_destroy(viz_t *v)
{
    if (!v)
        return;
    viz_movie_abort(v->movie); /* a run that did not end: no half movie */
    viz_gfx_destroy(v->gfx);
    if (v->mode == VIZ_WINDOW)
        viz_live_close(v);
    if (v->ren)
        SDL_DestroyRenderer(v->ren);
    if (v->surf)
        SDL_FreeSurface(v->surf);
    viz_layout_deinit(&v->lay);
    viz_snap_destroy(v->snap);
    viz_track_destroy(v->tr);
    viz_lanes_destroy(v->lanes);
    for (int i = 0; i < v->nscript; i++)
        free(v->script[i]);
    free(v->story);
    viz_inject_deinit(v);
    free(v->record_dir);
    free(v->font_dir);
    free(v);
}

void viz_run_begin(viz_t *v, sched_t *s, bool survey)
{
    v->s = s;
    v->survey = survey;
    viz_track_reset_run(v->tr);
    v->ended = false;
    v->outcome[0] = 0;
    v->outcome_failed = false;
    v->lay_valid = false;
    if (!survey) {
        v->frames = 0;
        v->next_frame = 0;
        v->last_at_end = false;
        v->story_next = 0;
        v->story_at = -1;
    }
    if (v->mode == VIZ_WINDOW)
        viz_live_begin(v);
}

void viz_set_title(viz_t *v, const char *title)
{
    if (!title || strcmp(v->title, title) == 0)
        return;
    snprintf(v->title, sizeof v->title, "%s", title);
    if (v->win) {
        char t[200];
        snprintf(t, sizeof t, "chansim: %s", title);
        SDL_SetWindowTitle(v->win, t);
    }
}

void viz_set_story(viz_t *v, const viz_story_t *story)
{
    free(v->story);
    v->story = NULL;
    if (!story || story->nrows <= 0)
        return;
    v->story = malloc(sizeof *v->story);
    if (v->story)
        *v->story = *story;
}

int viz_story_reached(const viz_t *v)
{
    if (!v->story || !v->s)
        return -1;
    uint64_t steps = sched_steps(v->s);
    int at = -1;
    for (int i = 0; i < v->story->nrows && v->story->rows[i].step <= steps; i++)
        at = i;
    return at;
}

void viz_on_event(void *ud, const trace_event_t *ev)
{
    viz_t *v = ud;
    if (v->s) {
        viz_track_event(v->tr, ev);
        viz_lanes_event(v->lanes, ev);
    }
}

void viz_mark_failure(viz_t *v, simtime_t t, uint64_t seq, const char *text)
{
    viz_track_mark(v->tr, t, seq, VIZ_MARK_FAIL, 0, text);
}

bool viz_restart_requested(const viz_t *v) { return v->restart_req; }
bool viz_closed(const viz_t *v) { return v->closed; }
uint64_t viz_frames_written(const viz_t *v) { return v->frames; }
const char *viz_error(const viz_t *v) { return v->error[0] ? v->error : NULL; }

void viz_size(const viz_t *v, int *w, int *h)
{
    if (v->win && v->ren) {
        SDL_GetRendererOutputSize(v->ren, w, h);
        return;
    }
    *w = v->width;
    *h = v->height;
}

/* ---- frames ------------------------------------------------------------------ */

void viz_refresh(viz_t *v, bool mid_instant)
{
    if (v->s)
        viz_snap_take(v->snap, v->s, v->tr, mid_instant);
    v->lay_valid = false;
}

int viz_lanes_rows(const viz_t *v)
{
    if (!v->show_lanes)
        return 0;
    const viz_lane_t *all;
    size_t n = viz_lanes_list(v->lanes, &all, NULL);
    if (v->story && v->story->nlanes > 0)
        n = (size_t)v->story->nlanes;
    return n < VIZ_LANES_ROWS_MAX ? (int)n : VIZ_LANES_ROWS_MAX;
}

static void ensure_layout(viz_t *v, int w, int h)
{
    if (v->lay_valid && v->lay_w == w && v->lay_h == h)
        return;
    v->lay.lanes_rows = viz_lanes_rows(v);
    double scale = fmin((double)w / DEFAULT_W, (double)h / DEFAULT_H);
    char err[256];
    if (!viz_gfx_set_scale(v->gfx, scale, err, sizeof err))
        fprintf(stderr, "chansim: view: %s\n", err);
    viz_layout_build(&v->lay, v->snap, w, h, viz_gfx_scale(v->gfx));
    v->lay_valid = true;
    v->lay_w = w;
    v->lay_h = h;
}

/* A "nice" length (1, 2 or 5 times a power of ten) of at least t. */
static simtime_t nice_ceil(simtime_t t)
{
    for (simtime_t p = SIM_MS;; p *= 10) {
        if (t <= p)
            return p;
        if (t <= 2 * p)
            return 2 * p;
        if (t <= 5 * p)
            return 5 * p;
        if (p > INT64_MAX / 20)
            return t;
    }
}

_Static_assert(VIZ_MARKS_STATE == 1u << VIZ_MARK_STATE && VIZ_MARKS_FAULT == 1u << VIZ_MARK_FAULT &&
                   VIZ_MARKS_EVENT == 1u << VIZ_MARK_USER && VIZ_MARKS_FAILURE == 1u << VIZ_MARK_FAIL &&
                   VIZ_MARKS_END == 1u << VIZ_MARK_END,
               "the options' marker kinds are the tracker's");

simtime_t viz_extent(const viz_t *v, simtime_t p)
{
    if (v->known_end > 0)
        return v->known_end;
    if (v->known_end == 0)
        return SIM_SEC; /* a run that takes no simulated time */
    simtime_t until = v->s ? sched_until(v->s) : 0;
    if (until > 0 && until <= 600 * SIM_SEC)
        return until;
    simtime_t now = v->s ? sched_now_of(v->s) : 0;
    simtime_t m = p > now ? p : now;
    return nice_ceil(m + m / 4 > SIM_SEC ? m + m / 4 : SIM_SEC);
}

void viz_frame_facts(viz_t *v, viz_frame_t *f, simtime_t p)
{
    memset(f, 0, sizeof *f);
    f->p = p;
    f->extent = viz_extent(v, p);
    f->known_end = v->known_end;
    f->title = v->title;
    if (v->mode == VIZ_WINDOW) {
        double sp = viz_speed_of(v->speed_idx);
        f->flash_ns = sp > 0 ? (simtime_t)(sp * 0.4 * SIM_SEC) : 50 * SIM_MS;
        f->msg_ns = sp > 0 ? (simtime_t)(sp * MSG_WALL * SIM_SEC) : 60 * SIM_MS;
        f->slow = viz_slow_at(v, p, sp > 0 ? sp : 1);
        f->live = true;
        f->status = v->status;
        f->help = v->help;
        f->has_sel = v->has_sel;
        f->sel_kind = v->sel_kind;
        f->sel_id = v->sel_id;
        f->toast = v->toast_until > SDL_GetTicks64() ? v->toast : NULL;
        f->menu = &v->menu;
    } else {
        f->flash_ns = FLASH_FRAMES * v->frame_ns;
        f->msg_ns = (simtime_t)(v->speed * MSG_WALL * SIM_SEC);
        if (f->msg_ns < 2 * v->frame_ns)
            f->msg_ns = 2 * v->frame_ns;
        f->slow = v->story ? 1 : viz_slow_at(v, p, v->speed); /* a story's frames are its steps */
    }
    if (f->flash_ns < 1)
        f->flash_ns = 1;
    f->story = v->story;
    f->lanes = v->show_lanes ? v->lanes : NULL;
    f->mark_filter = v->mark_filter;
    f->story_at = v->mode == VIZ_RECORD ? v->story_at : viz_story_reached(v);
    if (f->msg_ns < 1)
        f->msg_ns = 1;
    if (v->ended && p >= v->end_t && v->outcome[0]) {
        f->outcome = v->outcome;
        f->outcome_failed = v->outcome_failed;
    }
}

double viz_slow_at(const viz_t *v, simtime_t t, double sp)
{
    if (v->slowdown <= 1)
        return 1;
    /* A second of playback at the normal speed after it, a quarter before. */
    simtime_t after = (simtime_t)(sp * SIM_SEC), before = after / 4;
    const viz_mark_t *m;
    size_t n = viz_track_marks(v->tr, &m);
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind != VIZ_MARK_FAULT && m[i].kind != VIZ_MARK_FAIL && m[i].kind != VIZ_MARK_PANIC)
            continue;
        if (m[i].kind == VIZ_MARK_FAULT && strncmp(m[i].text, "start ", 6) == 0)
            continue; /* a node booting is no fault */
        if (t >= m[i].t - before && t <= m[i].t + after)
            return v->slowdown;
    }
    return 1;
}

/* The simulated time from a recorded frame at t to the next. */
static simtime_t frame_step(const viz_t *v, simtime_t t)
{
    simtime_t d = (simtime_t)((double)v->frame_ns / viz_slow_at(v, t, v->speed));
    return d > 0 ? d : 1;
}

/* Draw the current snapshot with the playhead at p. */
static void draw_at(viz_t *v, simtime_t p)
{
    int w, h;
    viz_size(v, &w, &h);
    ensure_layout(v, w, h);
    viz_frame_t f;
    viz_frame_facts(v, &f, p);
    viz_draw(v->gfx, &v->lay, v->snap, v->tr, &f);
    SDL_RenderFlush(v->ren);
}

static bool write_frame(viz_t *v, simtime_t p)
{
    if (v->error[0])
        return false;
    draw_at(v, p);
    char path[4096], err[512];
    if (v->movie) {
        if (!viz_movie_add(v->movie, v->surf->pixels, v->surf->pitch, err, sizeof err)) {
            snprintf(v->error, sizeof v->error, "%s", err);
            fprintf(stderr, "chansim: --record: %s\n", err);
            return false;
        }
        v->frames++;
        return true;
    }
    snprintf(path, sizeof path, "%s/frame_%06llu.png", v->record_dir, (unsigned long long)v->frames + 1);
    if (!viz_png_write(path, v->surf->pixels, v->surf->w, v->surf->h, v->surf->pitch, err, sizeof err)) {
        snprintf(v->error, sizeof v->error, "%s", err);
        fprintf(stderr, "chansim: --record: %s\n", err);
        return false;
    }
    v->frames++;
    return true;
}

/* Recording a story: a frame for each row whose step has run, in order. */
static bool story_frames(viz_t *v)
{
    uint64_t steps = sched_steps(v->s);
    bool fresh = false;
    while (v->story_next < v->story->nrows && v->story->rows[v->story_next].step <= steps) {
        if (!fresh) {
            viz_refresh(v, true);
            fresh = true;
        }
        v->story_at = v->story_next;
        if (!write_frame(v, sched_now_of(v->s)))
            return false;
        v->story_next++;
    }
    return true;
}

void viz_on_clock(void *ud, simtime_t from, simtime_t to)
{
    viz_t *v = ud;
    if (!v->s || v->survey)
        return;
    if (v->mode == VIZ_WINDOW) {
        viz_live_clock(v, from, to);
        return;
    }
    /* A story is told by its steps, not by the clock. */
    if (v->mode != VIZ_RECORD || v->story || v->error[0] || v->next_frame >= to)
        return;
    /* The state holds from `from` until `to`: draw every frame due. */
    viz_refresh(v, false);
    for (; v->next_frame < to; v->next_frame += frame_step(v, v->next_frame))
        if (!write_frame(v, v->next_frame))
            return;
}

void viz_on_step(void *ud)
{
    viz_t *v = ud;
    if (!v->s || v->survey)
        return;
    if (v->mode == VIZ_WINDOW) {
        viz_live_step(v);
    } else if (v->mode == VIZ_RECORD && !v->error[0]) {
        if (v->story) {
            story_frames(v);
        } else if (v->record_steps) {
            /* One frame per step: a race at one instant is seen step by step. */
            viz_refresh(v, true);
            write_frame(v, sched_now_of(v->s));
        }
    }
}

bool viz_run_end(viz_t *v, const char *outcome, bool failed)
{
    if (!v->s)
        return true;
    v->ended = true;
    v->end_t = sched_now_of(v->s);
    snprintf(v->outcome, sizeof v->outcome, "%s", outcome ? outcome : "");
    v->outcome_failed = failed;
    viz_track_mark(v->tr, v->end_t, sched_trace_events(v->s), failed ? VIZ_MARK_PANIC : VIZ_MARK_END, 0,
                   v->outcome);
    v->known_end = v->end_t;
    if (v->survey)
        return true;
    if (v->mode == VIZ_RECORD) {
        if (v->story) {
            /* The rows not drawn yet, then the end: the failure shown. */
            if (!story_frames(v))
                return false;
            v->story_at = v->story->nrows - 1;
            v->next_frame = v->end_t + 1; /* no frames at fixed times */
        }
        viz_refresh(v, false);
        simtime_t last = v->story ? v->end_t - 1 : -1;
        for (; v->next_frame <= v->end_t; v->next_frame += frame_step(v, v->next_frame)) {
            last = v->next_frame;
            if (!write_frame(v, v->next_frame))
                return false;
        }
        /* One more frame at the very end unless the grid hit it: it shows
         * how the run ended. */
        if (last != v->end_t && !write_frame(v, v->end_t))
            return false;
        if (v->movie && !v->error[0]) {
            char err[512];
            struct viz_movie *m = v->movie;
            v->movie = NULL;
            if (!viz_movie_close(m, err, sizeof err)) {
                snprintf(v->error, sizeof v->error, "%s", err);
                fprintf(stderr, "chansim: --record: %s\n", err);
            }
        }
        return !v->error[0];
    }
    if (v->mode == VIZ_WINDOW)
        viz_live_end(v);
    return true;
}

void viz_run_detach(viz_t *v)
{
    v->s = NULL;
    v->lay_valid = false;
}

/* ---- test access ------------------------------------------------------------- */

bool viz_render(viz_t *v, simtime_t t)
{
    if (!v->surf || !v->s)
        return false;
    viz_refresh(v, false);
    draw_at(v, t);
    return true;
}

uint32_t viz_pixel(const viz_t *v, int x, int y)
{
    if (!v->surf || x < 0 || y < 0 || x >= v->surf->w || y >= v->surf->h)
        return 0;
    const uint32_t *row = (const uint32_t *)((const unsigned char *)v->surf->pixels + (size_t)y * (size_t)v->surf->pitch);
    return row[x] & 0xFFFFFFu;
}

static const char *item_name(const viz_t *v, const viz_item_t *it)
{
    const viz_snap_t *sn = v->snap;
    switch (it->kind) {
    case VIZ_ITEM_GOROUTINE: {
        const viz_sg_t *g = viz_snap_g(sn, it->id);
        return g ? g->name : NULL;
    }
    case VIZ_ITEM_CHAN:
    case VIZ_ITEM_LOCK:
        return viz_snap_obj_name(sn, it->id);
    default: {
        const viz_sent_t *e = viz_snap_entity(sn, it->id);
        return e ? e->name : NULL;
    }
    }
}

static bool kind_matches(const char *kind, viz_item_kind_t k)
{
    static const char *const names[VIZ_ITEM_KIND_COUNT] = {
        [VIZ_ITEM_GOROUTINE] = "goroutine", [VIZ_ITEM_CHAN] = "chan", [VIZ_ITEM_LOCK] = "lock",
        [VIZ_ITEM_BREAKER] = "breaker", [VIZ_ITEM_QUEUE] = "queue", [VIZ_ITEM_CLUSTER] = "cluster",
        [VIZ_ITEM_NODE] = "node", [VIZ_ITEM_PANEL] = "panel", [VIZ_ITEM_CHILD] = "child",
        [VIZ_ITEM_ENTITY] = "entity",
    };
    if (!names[k])
        return false;
    if (strcmp(kind, "entity") == 0)
        return k >= VIZ_ITEM_BREAKER && k <= VIZ_ITEM_ENTITY;
    return strcmp(kind, names[k]) == 0;
}

bool viz_find(const viz_t *v, const char *kind, const char *name, viz_box_t *whole, viz_box_t *part)
{
    if (!v->lay_valid)
        return false;
    for (size_t i = 0; i < v->lay.n; i++) {
        const viz_item_t *it = &v->lay.items[i];
        if (!kind_matches(kind, it->kind))
            continue;
        const char *n = item_name(v, it);
        if (!n || strcmp(n, name) != 0)
            continue;
        if (whole)
            *whole = (viz_box_t){it->r.x, it->r.y, it->r.w, it->r.h};
        if (part)
            *part = (viz_box_t){it->part.x, it->part.y, it->part.w, it->part.h};
        return true;
    }
    return false;
}

bool viz_link_points(const viz_t *v, const char *a, const char *b, int *xy, int n)
{
    if (!v->lay_valid || n < 2)
        return false;
    for (int i = 0; i < n; i++) {
        float x, y;
        if (!viz_link_point(&v->lay, v->snap, a, b, (double)i / (n - 1), &x, &y))
            return false;
        xy[2 * i] = (int)lroundf(x);
        xy[2 * i + 1] = (int)lroundf(y);
    }
    return true;
}

bool viz_save_png(const viz_t *v, const char *path, char *err, size_t errsize)
{
    if (!v->surf) {
        snprintf(err, errsize, "no frame buffer (a window saves with its screenshot key)");
        return false;
    }
    return viz_png_write(path, v->surf->pixels, v->surf->w, v->surf->h, v->surf->pitch, err, errsize);
}
