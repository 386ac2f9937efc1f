/*
 * check_viz: the view, headless. Key moments of small simulated programs,
 * built directly on core's API, are drawn into an offscreen frame and its
 * pixels checked: a blocked goroutine's colour, a queue bar's length
 * against its depth, a breaker dial's colour when closed, open and
 * half-open, the leader's crown moving after a crash. A run recorded twice
 * gives byte-identical PNG frames, and observing a run does not change its
 * trace hash. The PNG writer is checked by decoding what it wrote.
 *
 * The view needs the DejaVu fonts (fonts-dejavu-core); without them every
 * test fails saying so.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "chan.h"
#include "entity.h"
#include "sched.h"
#include "sync.h"
#include "testutil.h"
#include "net.h"
#include "timer.h"
#include "viz.h"
#include "viz_gfx.h"
#include "viz_layout.h"
#include "viz_palette.h"
#include "viz_png.h"

#define W 1280
#define H 720

/* A view drawing into memory, on a scheduler with Go's defaults (seed 1). */
typedef struct fixture {
    viz_t *v;
    sched_t *s;
} fixture_t;

static viz_t *new_view(viz_mode_t mode, const char *dir, int w, int h)
{
    viz_options_t o = {.mode = mode, .width = w, .height = h, .record_dir = dir, .fps = 10};
    char err[1024];
    viz_t *v = viz_create(&o, err, sizeof err);
    ck_assert_msg(v != NULL, "the view did not start: %s", err);
    return v;
}

/* Start fn as main under the view; the run stops at `until`. */
static fixture_t start(void (*fn)(void *), void *arg, simtime_t until, sched_result_t *r)
{
    fixture_t f;
    f.v = new_view(VIZ_OFFSCREEN, NULL, W, H);
    sched_config_t cfg = sched_config_default();
    cfg.until = until;
    cfg.main_exit_ends_run = false;
    f.s = sched_create(&cfg);
    sched_add_sink(f.s, viz_on_event, f.v);
    viz_run_begin(f.v, f.s, false);
    viz_set_title(f.v, "check_viz");
    sched_result_t res = sched_run(f.s, fn, arg);
    if (r)
        *r = res;
    return f;
}

static void finish(fixture_t *f)
{
    viz_run_detach(f->v);
    sched_destroy(f->s);
    viz_destroy(f->v);
}

/* Go on to the next time limit. */
static void advance(fixture_t *f, simtime_t until)
{
    sched_set_until(f->s, until);
    ck_assert_int_eq(sched_resume(f->s), SCHED_UNTIL);
}

static viz_box_t part_of(viz_t *v, const char *kind, const char *name)
{
    viz_box_t whole, part;
    ck_assert_msg(viz_find(v, kind, name, &whole, &part), "%s %s is not drawn", kind, name);
    return part;
}

#define ck_assert_color(v, x, y, want)                                                         \
    do {                                                                                       \
        uint32_t got_ = viz_pixel((v), (x), (y));                                              \
        ck_assert_msg(got_ == (uint32_t)(want), "pixel (%d, %d) is %06x, want %06x", (int)(x), \
                      (int)(y), (unsigned)got_, (unsigned)(want));                             \
    } while (0)

/* ---- goroutines ---------------------------------------------------------- */

static chan_t *never;

static void waiter(void *arg)
{
    (void)arg;
    chan_recv(never, NULL); /* blocks for good: "chan receive" */
}

static void sleeper(void *arg)
{
    (void)arg;
    go_sleep(100 * SIM_SEC);
}

static void blocked_main(void *arg)
{
    (void)arg;
    never = chan_make(sizeof(int64_t), 0);
    obj_set_name(never, "never");
    go_spawn(waiter, NULL, "waiter");
    go_spawn(sleeper, NULL, "sleeper");
    go_sleep(100 * SIM_SEC);
}

START_TEST(blocked_goroutine_color)
{
    fixture_t f = start(blocked_main, NULL, SIM_SEC, NULL);
    ck_assert(viz_render(f.v, SIM_SEC));
    viz_box_t b = part_of(f.v, "goroutine", "waiter");
    /* Blocked on a channel: sky blue, inside its outline. */
    ck_assert_color(f.v, b.x + 3, b.y + 3, VIZ_C_CHAN);
    ck_assert_color(f.v, b.x + b.w - 3, b.y + b.h - 3, VIZ_C_CHAN);
    b = part_of(f.v, "goroutine", "sleeper");
    ck_assert_color(f.v, b.x + 3, b.y + 3, VIZ_C_SLEEP);
    /* The colours differ: a sleeping and a blocked goroutine are told
     * apart (their tags and shapes differ too). */
    ck_assert_uint_ne(VIZ_C_CHAN, VIZ_C_SLEEP);
    /* The channel it waits on has a row, with its receiver counted. */
    part_of(f.v, "chan", "never");
    finish(&f);
}
END_TEST

/* ---- time you can watch: a published expiry -------------------------------- */

static void lease_main(void *arg)
{
    (void)arg;
    go_sleep(SIM_SEC);
    entity_t *e = entity_new("lease", "lease-1", NULL);
    entity_set_state(e, "alive");
    entity_set(e, "ttl", 10);
    entity_set(e, "deadline_ns", sched_now() + 10 * SIM_SEC); /* expires at 11 s */
    go_sleep(100 * SIM_SEC);
}

START_TEST(expiry_counts_down)
{
    fixture_t f = start(lease_main, NULL, 2 * SIM_SEC, NULL);
    ck_assert(viz_render(f.v, 2 * SIM_SEC));
    viz_box_t whole;
    ck_assert(viz_find(f.v, "entity", "lease-1", &whole, NULL));
    /* 9 of 10 s left: the bar along the card's bottom is nearly full. */
    int y = whole.y + whole.h - 4;
    ck_assert_color(f.v, whole.x + whole.w * 8 / 10, y, VIZ_C_TIMER);
    /* 3 of 10 s left at 8 s: it has emptied from the right. */
    advance(&f, 8 * SIM_SEC);
    ck_assert(viz_render(f.v, 8 * SIM_SEC));
    ck_assert(viz_find(f.v, "entity", "lease-1", &whole, NULL));
    ck_assert_color(f.v, whole.x + whole.w * 8 / 10, y, VIZ_PANEL);
    ck_assert_color(f.v, whole.x + whole.w * 2 / 10, y, VIZ_C_TIMER);
    /* Past it, no bar. */
    advance(&f, 12 * SIM_SEC);
    ck_assert(viz_render(f.v, 12 * SIM_SEC));
    ck_assert_color(f.v, whole.x + whole.w * 2 / 10, y, VIZ_PANEL);
    finish(&f);
}
END_TEST

/* ---- who waits on what, and for how long -------------------------------------- */

/* Pixels of colour want within r pixels of (x, y). */
static int pixels_near(viz_t *v, int x, int y, int r, uint32_t want)
{
    int n = 0;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            n += viz_pixel(v, x + dx, y + dy) == want;
    return n;
}

/* ---- the flow of values ------------------------------------------------------ */

/* Four producers, each into its own channel ("in-0" .. "in-3"), a merger
 * taking ten values a second from them into "merged", and main
 * draining "merged": a fan-in like a priority multiplexer's (in turn, so
 * that every input has carried a value by the first frame checked). */
static chan_t *flow_in[4], *flow_merged;

static void flow_producer(void *arg)
{
    chan_t *ch = arg;
    for (int64_t v = 0;; v++)
        chan_send(ch, &v);
}

static void flow_merger(void *arg)
{
    (void)arg;
    for (int i = 0;; i = (i + 1) % 4) {
        int64_t v;
        chan_recv(flow_in[i], &v);
        chan_send(flow_merged, &v);
        go_sleep(SIM_SEC / 10);
    }
}

static void flow_main(void *arg)
{
    (void)arg;
    flow_merged = chan_make(sizeof(int64_t), 0);
    obj_set_name(flow_merged, "merged");
    static const char *const names[] = {"in-0", "in-1", "in-2", "in-3"};
    static const char *const gnames[] = {"producer-0", "producer-1", "producer-2", "producer-3"};
    for (int i = 0; i < 4; i++) {
        flow_in[i] = chan_make(sizeof(int64_t), 0);
        obj_set_name(flow_in[i], names[i]);
        go_spawn(flow_producer, flow_in[i], gnames[i]);
    }
    go_spawn(flow_merger, NULL, "merger");
    for (;;) {
        int64_t v;
        chan_recv(flow_merged, &v);
    }
}

START_TEST(flow_left_to_right)
{
    fixture_t f = start(flow_main, NULL, 3 * SIM_SEC, NULL);
    ck_assert(viz_render(f.v, 3 * SIM_SEC));
    if (getenv("CHECK_VIZ_SAVE")) {
        char err[256];
        viz_save_png(f.v, getenv("CHECK_VIZ_SAVE"), err, sizeof err);
    }
    viz_box_t merger, mainbox, mbar;
    ck_assert(viz_find(f.v, "goroutine", "merger", &merger, NULL));
    ck_assert(viz_find(f.v, "goroutine", "main.main", &mainbox, NULL));
    static const char *const names[] = {"in-0", "in-1", "in-2", "in-3"};
    static const char *const gnames[] = {"producer-0", "producer-1", "producer-2", "producer-3"};
    viz_box_t bars[4];
    for (int i = 0; i < 4; i++) {
        /* Every input drawn (none folded into "+N more"), between its
         * producer and the merger. */
        viz_box_t p, bar = part_of(f.v, "chan", names[i]);
        bars[i] = bar;
        ck_assert(viz_find(f.v, "goroutine", gnames[i], &p, NULL));
        ck_assert_int_le(p.x + p.w, bar.x);
        ck_assert_int_le(bar.x + bar.w, merger.x);
        /* A path runs level from the producer's side into the bar's left
         * end (the way its values go, and its wait's arrow), with nothing
         * but the ground above and below it. */
        int y = bar.y + bar.h / 2;
        ck_assert_msg(y > p.y && y < p.y + p.h, "the bar of %s is not level with its producer", names[i]);
        int mid = (p.x + p.w + bar.x) / 2;
        ck_assert_int_lt(pixels_near(f.v, mid, y, 2, VIZ_BG), 25);
        ck_assert_color(f.v, mid, y - 14, VIZ_BG);
        ck_assert_color(f.v, mid, y + 14, VIZ_BG);
    }
    /* The legend lists only what the run shows: no lock, no breaker, no
     * panic here (orange and vermillion nowhere in the side panel). */
    int side_orange = 0, side_red = 0;
    for (int y = 60; y < 420; y++)
        for (int x = 956; x < W; x++) {
            uint32_t c = viz_pixel(f.v, x, y);
            side_orange += c == VIZ_C_SYNC;
            side_red += c == VIZ_C_FAIL;
        }
    ck_assert_int_eq(side_orange, 0);
    ck_assert_int_eq(side_red, 0);
    mbar = part_of(f.v, "chan", "merged");
    ck_assert_int_le(merger.x + merger.w, mbar.x);
    ck_assert_int_le(mbar.x + mbar.w, mainbox.x);
    /* Stable: later, every channel is where it was. */
    ck_assert(viz_render(f.v, 3 * SIM_SEC));
    advance(&f, 6 * SIM_SEC);
    ck_assert(viz_render(f.v, 6 * SIM_SEC));
    for (int i = 0; i < 4; i++) {
        viz_box_t b = part_of(f.v, "chan", names[i]);
        ck_assert_int_eq(b.x, bars[i].x);
        ck_assert_int_eq(b.y, bars[i].y);
    }
    finish(&f);
}
END_TEST

/* A pipeline of six stages (a generator, two stages, a parallel stage of
 * three workers drawn as a panel, a stage, main) is too long for one row:
 * it snakes, and the narrow panel draws its workers small rather than
 * falling back to the generic layout. Live, the flow is what was seen so
 * far: checked once every channel has carried a value, and again later
 * while the stages still run: nothing has moved. */
static chan_t *pipe_c[5];
static entity_t *pipe_par;
static int pipe_workers_left;

static void pipe_gen(void *arg)
{
    (void)arg;
    for (int64_t v = 0; v < 20; v++)
        chan_send(pipe_c[0], &v);
    chan_close(pipe_c[0]);
}

static void pipe_stage(void *arg)
{
    int i = (int)(intptr_t)arg;
    int64_t v;
    while (chan_recv(pipe_c[i], &v))
        chan_send(pipe_c[i + 1], &v);
    chan_close(pipe_c[i + 1]);
}

static void pipe_worker(void *arg)
{
    entity_set_goroutine(arg, go_id(go_self()));
    int64_t v;
    while (chan_recv(pipe_c[2], &v)) {
        go_sleep(SIM_SEC);
        chan_send(pipe_c[3], &v);
    }
    if (--pipe_workers_left == 0)
        chan_close(pipe_c[3]);
}

static void pipe_main(void *arg)
{
    (void)arg;
    static const char *const names[] = {"c0", "c1", "c2", "c3", "c4"};
    for (int i = 0; i < 5; i++) {
        pipe_c[i] = chan_make(sizeof(int64_t), 0);
        obj_set_name(pipe_c[i], names[i]);
    }
    pipe_par = entity_new("stage", "par", NULL);
    pipe_workers_left = 3;
    for (int i = 0; i < 3; i++) {
        char wn[8];
        snprintf(wn, sizeof wn, "w%d", i);
        go_spawn(pipe_worker, entity_new("worker", wn, pipe_par), "worker");
    }
    go_spawn(pipe_gen, NULL, "gen");
    go_spawn(pipe_stage, (void *)(intptr_t)0, "s1");
    go_spawn(pipe_stage, (void *)(intptr_t)1, "s2");
    go_spawn(pipe_stage, (void *)(intptr_t)3, "s4");
    int64_t v;
    while (chan_recv(pipe_c[4], &v))
        ;
    go_sleep(100 * SIM_SEC);
}

START_TEST(flow_snakes_and_stands)
{
    fixture_t f = start(pipe_main, NULL, 3 * SIM_SEC / 2, NULL);
    ck_assert(viz_render(f.v, 3 * SIM_SEC / 2));
    if (getenv("CHECK_VIZ_SAVE")) {
        char err[256];
        viz_save_png(f.v, getenv("CHECK_VIZ_SAVE"), err, sizeof err);
    }
    /* In the flow: each stage's channel level with it, on its right
     * (the generic layout puts channels in rows under the goroutines). */
    viz_box_t gen, par, b[5];
    ck_assert(viz_find(f.v, "goroutine", "gen", &gen, NULL));
    ck_assert(viz_find(f.v, "panel", "par", &par, NULL));
    static const char *const names[] = {"c0", "c1", "c2", "c3", "c4"};
    for (int i = 0; i < 5; i++)
        b[i] = part_of(f.v, "chan", names[i]);
    int y = b[0].y + b[0].h / 2;
    ck_assert_msg(y > gen.y && y < gen.y + gen.h, "c0 is not level with its sender: no flow");
    ck_assert_int_le(gen.x + gen.w, b[0].x);
    /* The parallel stage is on the second row (the flow turned). */
    ck_assert_int_gt(par.y, gen.y + gen.h);
    advance(&f, 4 * SIM_SEC);
    ck_assert(viz_render(f.v, 4 * SIM_SEC));
    for (int i = 0; i < 5; i++) {
        viz_box_t c = part_of(f.v, "chan", names[i]);
        ck_assert_msg(c.x == b[i].x && c.y == b[i].y, "%s moved from (%d, %d) to (%d, %d)", names[i], b[i].x,
                      b[i].y, c.x, c.y);
    }
    finish(&f);
}
END_TEST

/* A flow with a channel that would skip a column: "src" -> c1 -> "mid"
 * -> c2 -> main, and "far" -> "long" -> main (nothing feeds "far" or
 * "src"). No path crosses a stage: "far" stands beside "mid" when that
 * column has room, or else "long" is drawn in the gap before main with
 * its path from "far" level at a height where "mid" is not. (Before, "far"
 * stood with "src" and the path from "long" to main crossed "mid".) */
static chan_t *skip_c1, *skip_c2, *skip_long;

static void skip_src(void *arg)
{
    (void)arg;
    for (int64_t v = 0;; v++)
        chan_send(skip_c1, &v);
}

static void skip_mid(void *arg)
{
    (void)arg;
    for (int64_t v;;) {
        chan_recv(skip_c1, &v);
        chan_send(skip_c2, &v);
    }
}

static void skip_far(void *arg)
{
    (void)arg;
    for (int64_t v = 0;; v++)
        chan_send(skip_long, &v);
}

static void skip_main(void *arg)
{
    (void)arg;
    skip_c1 = chan_make(sizeof(int64_t), 0);
    skip_c2 = chan_make(sizeof(int64_t), 0);
    skip_long = chan_make(sizeof(int64_t), 0);
    obj_set_name(skip_c1, "c1");
    obj_set_name(skip_c2, "c2");
    obj_set_name(skip_long, "long");
    go_spawn(skip_far, NULL, "far");
    go_spawn(skip_src, NULL, "src");
    go_spawn(skip_mid, NULL, "mid");
    for (int64_t v;;) {
        chan_recv(skip_c2, &v);
        chan_recv(skip_long, &v);
        go_sleep(SIM_SEC / 10);
    }
}

START_TEST(flow_path_skips_no_card)
{
    fixture_t f = start(skip_main, NULL, SIM_SEC, NULL);
    ck_assert(viz_render(f.v, SIM_SEC));
    if (getenv("CHECK_VIZ_SAVE")) {
        char err[256];
        viz_save_png(f.v, getenv("CHECK_VIZ_SAVE"), err, sizeof err);
    }
    viz_box_t far, mid, mainbox;
    ck_assert(viz_find(f.v, "goroutine", "far", &far, NULL));
    ck_assert(viz_find(f.v, "goroutine", "mid", &mid, NULL));
    ck_assert(viz_find(f.v, "goroutine", "main.main", &mainbox, NULL));
    /* "long" in the gap before main; "far" beside "mid" in the second
     * column (it has room there), or else left of it with the path level
     * at a height clear of "mid". */
    viz_box_t lng = part_of(f.v, "chan", "long");
    ck_assert_msg(lng.x >= mid.x + mid.w && lng.x + lng.w <= mainbox.x,
                  "long is not in the gap before main (x %d, mid ends at %d)", lng.x, mid.x + mid.w);
    int y = lng.y + lng.h / 2;
    ck_assert_msg(y > far.y && y < far.y + far.h, "the path of long is not level with far");
    if (far.x + far.w < mid.x)
        ck_assert_msg(y < mid.y || y > mid.y + mid.h, "the path of long (y %d) crosses mid (%d..%d)", y, mid.y,
                      mid.y + mid.h);
    else
        ck_assert_int_eq(far.x, mid.x);
    finish(&f);
}
END_TEST

/* A wait's arrow leaves the token's bottom centre and enters the target
 * from above at frac of its width (3 pixels short): its curve has vertical
 * tangents at both ends, so its middle is the middle of the two ends. */
static int arrow_pixels(viz_t *v, viz_box_t from, viz_box_t to, double frac, uint32_t colour)
{
    int x0 = from.x + from.w / 2, y0 = from.y + from.h;
    int x1 = to.x + (int)(to.w * frac), y1 = to.y - 3;
    ck_assert_msg(y1 > y0 + 10, "the target is not below the goroutine");
    return pixels_near(v, (x0 + x1) / 2, (y0 + y1) / 2, 5, colour);
}

START_TEST(wait_arrow_and_countdown)
{
    fixture_t f = start(blocked_main, NULL, SIM_SEC, NULL);
    ck_assert(viz_render(f.v, SIM_SEC));
    viz_box_t g, whole, c = part_of(f.v, "chan", "never");
    ck_assert(viz_find(f.v, "goroutine", "waiter", &g, NULL));
    /* The receiver's arrow enters the bar at its right (values leave
     * there); nothing of the kind where a sender's would be. */
    ck_assert_int_gt(arrow_pixels(f.v, g, c, 0.8, VIZ_C_WAIT), 0);
    ck_assert_int_eq(arrow_pixels(f.v, g, c, 0.2, VIZ_C_WAIT), 0);
    /* The sleeper's 100 s: after 1 s its bar is nearly full, after 60 s
     * less than half is left. */
    ck_assert(viz_find(f.v, "goroutine", "sleeper", &whole, NULL));
    int y = whole.y + whole.h - 4;
    ck_assert_color(f.v, whole.x + whole.w * 9 / 10, y, VIZ_C_TIMER);
    ck_assert(viz_render(f.v, 60 * SIM_SEC));
    ck_assert_color(f.v, whole.x + whole.w * 9 / 10, y, VIZ_PANEL);
    ck_assert_color(f.v, whole.x + whole.w * 3 / 10, y, VIZ_C_TIMER);
    finish(&f);
}
END_TEST

static mutex_t *lock_a, *lock_b;

/* Takes first, pauses, then takes second: two of them in opposite order
 * wait for each other for good. */
static void locker(void *arg)
{
    mutex_t **order = arg;
    mutex_lock(order[0]);
    go_sleep(SIM_MS);
    mutex_lock(order[1]);
}

static mutex_t *ab[2], *ba[2];

static void lock_cycle_main(void *arg)
{
    bool cycle = *(bool *)arg;
    lock_a = mutex_new();
    obj_set_name(lock_a, "A");
    lock_b = mutex_new();
    obj_set_name(lock_b, "B");
    ab[0] = lock_a, ab[1] = lock_b;
    ba[0] = lock_b, ba[1] = lock_a;
    go_spawn(locker, ab, "first");
    if (cycle) {
        go_spawn(locker, ba, "second");
    } else {
        mutex_lock(lock_b); /* main holds B and sleeps: no cycle */
    }
    go_sleep(100 * SIM_SEC);
}

START_TEST(deadlock_cycle_in_red)
{
    for (int cycle = 0; cycle < 2; cycle++) {
        bool arg = cycle;
        fixture_t f = start(lock_cycle_main, &arg, SIM_SEC, NULL);
        ck_assert(viz_render(f.v, SIM_SEC));
        viz_box_t g, b;
        ck_assert(viz_find(f.v, "goroutine", "first", &g, NULL));
        ck_assert(viz_find(f.v, "lock", "B", &b, NULL));
        /* "first" holds A and waits for B: an arrow to B's card, red when
         * B's holder waits for A (a cycle), in the wait colour otherwise. */
        int red = arrow_pixels(f.v, g, b, 0.85, VIZ_C_FAIL);
        int plain = arrow_pixels(f.v, g, b, 0.85, VIZ_C_WAIT);
        if (cycle) {
            ck_assert_msg(red > 0 && plain == 0, "a wait on a lock cycle: %d red, %d plain pixels", red, plain);
        } else {
            ck_assert_msg(red == 0 && plain > 0, "a wait off any cycle: %d red, %d plain pixels", red, plain);
        }
        finish(&f);
    }
}
END_TEST

/* ---- queues and channels ---------------------------------------------------- */

static const int64_t depths[] = {0, 3, 7, 12};

static void queue_main(void *arg)
{
    (void)arg;
    entity_t *q = entity_new("queue", "jobs", NULL);
    entity_set(q, "capacity", 12);
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        entity_set(q, "depth", depths[i]);
        go_sleep(SIM_SEC);
    }
}

/* The x where the bar's fill ends: the first pixel of the middle row that
 * is neither the fill nor a cell separator within it. */
static int fill_end(viz_t *v, viz_box_t b, uint32_t fill)
{
    int y = b.y + b.h / 2;
    int x = b.x + 2;
    while (x < b.x + b.w - 2) {
        uint32_t c = viz_pixel(v, x, y);
        bool sep = viz_pixel(v, x - 1, y) == fill && viz_pixel(v, x + 1, y) == fill;
        if (c != fill && !sep)
            break;
        x++;
    }
    return x;
}

START_TEST(queue_bar_length)
{
    fixture_t f = start(queue_main, NULL, SIM_SEC / 2, NULL);
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        if (i)
            advance(&f, (simtime_t)i * SIM_SEC + SIM_SEC / 2);
        ck_assert(viz_render(f.v, sched_now_of(f.s)));
        viz_box_t b = part_of(f.v, "queue", "jobs");
        int inner = b.w - 4;
        int want = b.x + 2 + (int)(inner * depths[i] / 12);
        uint32_t fill = depths[i] == 12 ? VIZ_C_FAIL : VIZ_C_QUEUE; /* full: the warning colour */
        int got = fill_end(f.v, b, fill);
        ck_assert_msg(abs(got - want) <= 1, "depth %lld of 12: the fill ends at x=%d, want %d (bar %d..%d)",
                      (long long)depths[i], got, want, b.x, b.x + b.w);
    }
    finish(&f);
}
END_TEST

static void chan_main(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 4);
    obj_set_name(c, "buffered");
    chan_send_i64(c, 1);
    chan_send_i64(c, 2);
    chan_send_i64(c, 3);
    go_sleep(10 * SIM_SEC);
}

START_TEST(channel_bar_length)
{
    fixture_t f = start(chan_main, NULL, SIM_SEC, NULL);
    ck_assert(viz_render(f.v, SIM_SEC));
    viz_box_t b = part_of(f.v, "chan", "buffered");
    int want = b.x + 2 + (b.w - 4) * 3 / 4;
    int got = fill_end(f.v, b, VIZ_C_QUEUE);
    ck_assert_msg(abs(got - want) <= 1, "3 of 4: the fill ends at %d, want %d", got, want);
    finish(&f);
}
END_TEST

/* ---- breakers ----------------------------------------------------------------- */

static const char *const breaker_states[] = {"closed", "open", "half-open", "closed"};

static void breaker_main(void *arg)
{
    (void)arg;
    entity_t *b = entity_new("breaker", "payments", NULL);
    entity_set(b, "failure_threshold", 3);
    entity_set(b, "success_threshold", 2);
    for (size_t i = 0; i < 4; i++) {
        entity_set_state(b, breaker_states[i]);
        if (strcmp(breaker_states[i], "open") == 0)
            entity_set(b, "open_until", sched_now() + 5 * SIM_SEC);
        else
            entity_set(b, "open_until", 0);
        go_sleep(SIM_SEC);
    }
}

START_TEST(breaker_dial_color)
{
    static const uint32_t want[4] = {VIZ_C_CLOSED, VIZ_C_OPEN, VIZ_C_HALF, VIZ_C_CLOSED};
    fixture_t f = start(breaker_main, NULL, SIM_SEC / 2, NULL);
    for (size_t i = 0; i < 4; i++) {
        if (i)
            advance(&f, (simtime_t)i * SIM_SEC + SIM_SEC / 2);
        ck_assert(viz_render(f.v, sched_now_of(f.s)));
        viz_box_t hub = part_of(f.v, "breaker", "payments");
        /* The hub at the needle's base takes the state's colour. */
        uint32_t got = viz_pixel(f.v, hub.x + hub.w / 2, hub.y + hub.h / 2);
        ck_assert_msg(got == want[i], "breaker %s: hub %06x, want %06x", breaker_states[i], (unsigned)got,
                      (unsigned)want[i]);
    }
    ck_assert_uint_ne(VIZ_C_CLOSED, VIZ_C_OPEN);
    finish(&f);
}
END_TEST

/* ---- nodes and their leader ----------------------------------------------------- */

static void cluster_main(void *arg)
{
    (void)arg;
    entity_t *c = entity_new("cluster", "etcd", NULL);
    entity_t *n[3];
    const char *names[3] = {"n1", "n2", "n3"};
    for (int i = 0; i < 3; i++) {
        n[i] = entity_new("node", names[i], c);
        entity_set_state(n[i], "follower");
        entity_set(n[i], "term", 1);
    }
    entity_set_state(n[0], "leader");
    go_sleep(SIM_SEC);
    /* n1 crashes; n2 wins the election of term 2. */
    entity_set_state(n[0], "crashed");
    entity_set_state(n[1], "candidate");
    entity_set(n[1], "term", 2);
    entity_set(n[2], "term", 2);
    entity_set_state(n[1], "leader");
    go_sleep(SIM_SEC);
}

static bool crowned(viz_t *v, const char *node)
{
    viz_box_t c = part_of(v, "node", node);
    /* The crown's gold, just above its dark base. */
    return viz_pixel(v, c.x + c.w / 2, c.y + c.h - 7) == VIZ_C_LEADER;
}

START_TEST(leader_crown_moves)
{
    fixture_t f = start(cluster_main, NULL, SIM_SEC / 2, NULL);
    ck_assert(viz_render(f.v, SIM_SEC / 2));
    ck_assert(crowned(f.v, "n1"));
    ck_assert(!crowned(f.v, "n2"));
    ck_assert(!crowned(f.v, "n3"));
    advance(&f, SIM_SEC + SIM_SEC / 2);
    ck_assert(viz_render(f.v, sched_now_of(f.s)));
    ck_assert(!crowned(f.v, "n1"));
    ck_assert(crowned(f.v, "n2"));
    ck_assert(!crowned(f.v, "n3"));
    finish(&f);
}
END_TEST

/* A node's own timer (RaftScope's): n1's member publishes its election
 * timer for the view alone (from 0.5s to 2.5s); n2 leads and has none. */
static void timer_main(void *arg)
{
    (void)arg;
    entity_t *c = entity_new("cluster", "etcd", NULL);
    entity_t *n1 = entity_new("node", "n1", c), *n2 = entity_new("node", "n2", c);
    entity_set_state(n1, "follower");
    entity_set_state(n2, "leader");
    entity_t *m = entity_new("etcd-member", "member@n1", n1);
    entity_set_state(m, "follower");
    uint64_t before = sched_trace_events(sched_current());
    entity_note(m, "election_from", SIM_SEC / 2);
    entity_note(m, "election_until", SIM_SEC / 2 + 2 * SIM_SEC);
    /* no trace event: the trace (and its hash) does not see it */
    ck_assert_uint_eq(sched_trace_events(sched_current()), before);
    go_sleep(10 * SIM_SEC);
}

/* Pixels of the timer's colour on the ring round a node, at angle a
 * (radians, clockwise from the right). */
static int arc_at(viz_t *v, const char *node, double a)
{
    viz_box_t whole, part;
    ck_assert(viz_find(v, "node", node, &whole, &part));
    int cx = part.x + part.w / 2, cy = whole.y + 72;
    int x = cx + (int)lround(cos(a) * 42), y = cy + (int)lround(sin(a) * 42);
    return pixels_near(v, x, y, 1, VIZ_C_TIMER);
}

START_TEST(node_timer_arc)
{
    fixture_t f = start(timer_main, NULL, SIM_SEC, NULL);
    ck_assert(viz_render(f.v, SIM_SEC));
    /* 1.5 of 2 s left: the arc runs clockwise from the top past the
     * bottom and the left, not through the last quarter (top left). */
    ck_assert_int_gt(arc_at(f.v, "n1", 0), 3);
    ck_assert_int_gt(arc_at(f.v, "n1", M_PI / 2), 3);
    ck_assert_int_gt(arc_at(f.v, "n1", M_PI * 0.95), 3);
    ck_assert_int_eq(arc_at(f.v, "n1", -M_PI * 0.6), 0);
    /* the leader has no timer */
    ck_assert_int_eq(arc_at(f.v, "n2", M_PI / 2), 0);
    /* 0.25 of 2 s left at 2.25s: only the first eighth, right of the top */
    advance(&f, 2250 * SIM_MS);
    ck_assert(viz_render(f.v, 2250 * SIM_MS));
    ck_assert_int_gt(arc_at(f.v, "n1", -M_PI * 0.4), 3);
    ck_assert_int_eq(arc_at(f.v, "n1", 0), 0);
    ck_assert_int_eq(arc_at(f.v, "n1", M_PI / 2), 0);
    /* expired: no arc */
    advance(&f, 3 * SIM_SEC);
    ck_assert(viz_render(f.v, 3 * SIM_SEC));
    ck_assert_int_eq(arc_at(f.v, "n1", -M_PI * 0.4), 0);
    finish(&f);
}
END_TEST

/* ---- messages between nodes -------------------------------------------------- */

static net_node_t *wn[4];

/* n1 sends to n3 every 200ms (10ms on the wire). At 1.005s, with a message
 * in flight, n3 is cut off from n1 (the message is lost at its delivery,
 * 1.010s); the partition heals at 1.1s. */
static void wire_sender(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        net_send(wn[0], wn[2], 1, NULL, 0, NULL);
        go_sleep(200 * SIM_MS);
    }
}

static void wire_main(void *arg)
{
    (void)arg;
    net_cluster_t *c = net_cluster_new("cl");
    const char *names[4] = {"n1", "n2", "n3", "n4"};
    for (int i = 0; i < 4; i++)
        wn[i] = net_cluster_add_node(c, names[i]);
    net_link_cfg_t l = net_link_cfg_default();
    l.latency = 10 * SIM_MS;
    net_cluster_set_default_link(c, &l);
    for (int i = 0; i < 4; i++)
        net_node_start(wn[i]);
    net_node_go(wn[0], wire_sender, NULL, "sender");
    go_sleep(SIM_SEC + 5 * SIM_MS);
    net_cluster_partition(c, &wn[2], 1, &wn[0], 1, false);
    go_sleep(95 * SIM_MS);
    net_cluster_heal(c);
    go_sleep(SIM_SEC);
}

/* How many pixels of a colour within r of (x, y). */
static int colour_near(viz_t *v, int x, int y, int r, uint32_t want)
{
    int n = 0;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            n += viz_pixel(v, x + dx, y + dy) == want;
    return n;
}

START_TEST(links_clear_of_nodes)
{
    /* The lanes: links whose spans overlap never share one. */
    int nl = 0;
    ck_assert_int_eq(viz_node_lane(4, 0, 1, &nl), -1);
    ck_assert_int_eq(nl, 3);
    ck_assert_int_ne(viz_node_lane(4, 0, 2, NULL), viz_node_lane(4, 1, 3, NULL));
    ck_assert_int_ne(viz_node_lane(4, 0, 3, NULL), viz_node_lane(4, 0, 2, NULL));
    ck_assert_int_ne(viz_node_lane(4, 0, 3, NULL), viz_node_lane(4, 1, 3, NULL));
    ck_assert_int_eq(viz_node_lane(5, 0, 2, NULL), viz_node_lane(5, 2, 4, NULL)); /* they only touch */
    fixture_t f = start(wire_main, NULL, SIM_SEC / 2, NULL);
    ck_assert(viz_render(f.v, SIM_SEC / 2));
    const char *names[4] = {"n1", "n2", "n3", "n4"};
    viz_box_t box[4];
    for (int i = 0; i < 4; i++)
        ck_assert(viz_find(f.v, "node", names[i], &box[i], NULL));
    /* No link passes over another node: its crown and circle (the top 120
     * pixels of its box). */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            if (i == j)
                continue;
            int xy[2 * 64];
            ck_assert_msg(viz_link_points(f.v, names[i], names[j], xy, 64), "%s-%s not drawn", names[i], names[j]);
            for (int k = 0; k < 64; k++)
                for (int o = 0; o < 4; o++) {
                    if (o == i || o == j)
                        continue;
                    bool inside = xy[2 * k] >= box[o].x && xy[2 * k] < box[o].x + box[o].w &&
                                  xy[2 * k + 1] >= box[o].y && xy[2 * k + 1] < box[o].y + 120;
                    ck_assert_msg(!inside, "the link %s-%s passes over %s at (%d, %d)", names[i], names[j],
                                  names[o], xy[2 * k], xy[2 * k + 1]);
                }
        }
    finish(&f);
}
END_TEST

START_TEST(messages_fly_and_die_at_the_cut)
{
    /* The first message, sent at 0 and delivered at 10ms, is still drawn
     * on its way at 100ms (the least flight on screen is half a second of
     * video: 0.5s here), a fifth of the way. */
    fixture_t f = start(wire_main, NULL, 100 * SIM_MS, NULL);
    ck_assert(viz_render(f.v, 100 * SIM_MS));
    int xy[2 * 101];
    ck_assert(viz_link_points(f.v, "n1", "n3", xy, 101));
    ck_assert_msg(colour_near(f.v, xy[2 * 20], xy[2 * 20 + 1], 4, VIZ_C_QUEUE) > 10,
                  "no message a fifth of the way from n1 to n3");
    ck_assert_int_eq(colour_near(f.v, xy[2 * 80], xy[2 * 80 + 1], 4, VIZ_C_QUEUE), 0);
    /* Cut: the link is dashed red, n3 set apart on a tinted ground. */
    advance(&f, SIM_SEC + 8 * SIM_MS);
    ck_assert(viz_render(f.v, SIM_SEC + 8 * SIM_MS));
    ck_assert(viz_link_points(f.v, "n1", "n3", xy, 101));
    int red = 0;
    for (int k = 10; k < 90; k++)
        red += viz_pixel(f.v, xy[2 * k], xy[2 * k + 1]) == VIZ_C_FAIL;
    ck_assert_msg(red > 20, "the cut link is not red (%d of 80 points)", red);
    viz_box_t n3, n2;
    ck_assert(viz_find(f.v, "node", "n3", &n3, NULL));
    ck_assert(viz_find(f.v, "node", "n2", &n2, NULL));
    ck_assert_color(f.v, n3.x + 8, n3.y + 40, 0xFBE3D6u);
    ck_assert_uint_ne(viz_pixel(f.v, n2.x + 8, n2.y + 40), 0xFBE3D6u);
    /* The message sent at 1.0s was lost at 1.010s. Healed at 1.1s, the
     * link is plain again, and the lost message dies at its middle, in
     * red, a quarter of a second after it was sent (half its flight). */
    advance(&f, SIM_SEC + 300 * SIM_MS);
    ck_assert(viz_render(f.v, SIM_SEC + 150 * SIM_MS));
    ck_assert(viz_link_points(f.v, "n1", "n3", xy, 101));
    ck_assert_int_eq(colour_near(f.v, xy[2 * 50], xy[2 * 50 + 1], 12, VIZ_C_FAIL), 0);
    ck_assert_msg(colour_near(f.v, xy[2 * 30], xy[2 * 30 + 1], 4, VIZ_C_QUEUE) > 10, "the lost message is not on its way");
    ck_assert(viz_render(f.v, SIM_SEC + 300 * SIM_MS));
    ck_assert_msg(colour_near(f.v, xy[2 * 50], xy[2 * 50 + 1], 12, VIZ_C_FAIL) > 20, "the lost message does not die at the cut");
    ck_assert_int_eq(colour_near(f.v, xy[2 * 50], xy[2 * 50 + 1], 4, VIZ_C_QUEUE), 0);
    finish(&f);
}
END_TEST

/* Split brain: n1 holds /locks/x (0.5s); at 1s n1 is paused, still
 * believing it holds it, and n2 takes it too; at 2s n1 writes to the
 * resource with its old token and is refused. */
static entity_t *sb_res;

static void sb_writer(void *arg)
{
    (void)arg;
    go_sleep(2 * SIM_SEC);
    entity_set(sb_res, "rejected", 1);
    go_sleep(SIM_SEC);
}

static void split_main(void *arg)
{
    (void)arg;
    entity_t *c = entity_new("cluster", "cl", NULL);
    entity_t *n1 = entity_new("node", "n1", c), *n2 = entity_new("node", "n2", c);
    entity_new("node", "n3", c);
    entity_t *m1 = entity_new("mutex", "/locks/x", n1), *m2 = entity_new("mutex", "/locks/x", n2);
    entity_set_state(m1, "idle");
    entity_set_state(m2, "idle");
    sb_res = entity_new("resource", "storage", NULL);
    entity_set(sb_res, "accepted", 1);
    entity_set(sb_res, "token", 4);
    g_t *w = go_spawn(sb_writer, NULL, "writer");
    go_set_role(w, "n1");
    go_sleep(SIM_SEC / 2);
    entity_set_state(m1, "held");
    go_sleep(SIM_SEC / 2);
    entity_set_state(n1, "paused");
    entity_set_state(m2, "held");
    go_sleep(3 * SIM_SEC);
}

/* The vermillion ring round a node's circle, at its right. */
static bool ringed(viz_t *v, const char *node)
{
    viz_box_t whole, part;
    ck_assert(viz_find(v, "node", node, &whole, &part));
    int cx = part.x + part.w / 2, cy = whole.y + 72;
    return colour_near(v, cx + 38 + 9, cy, 2, VIZ_C_FAIL) > 5;
}

static int colour_in(viz_t *v, viz_box_t b, uint32_t want)
{
    int n = 0;
    for (int y = b.y; y < b.y + b.h; y++)
        for (int x = b.x; x < b.x + b.w; x++)
            n += viz_pixel(v, x, y) == want;
    return n;
}

START_TEST(split_brain_and_refused_write)
{
    /* One holder: no split brain. */
    fixture_t f = start(split_main, NULL, 700 * SIM_MS, NULL);
    ck_assert(viz_render(f.v, 700 * SIM_MS));
    ck_assert(!ringed(f.v, "n1"));
    ck_assert(!ringed(f.v, "n2"));
    /* Two nodes believe they hold the same lock: both marked at once. */
    advance(&f, 1500 * SIM_MS);
    ck_assert(viz_render(f.v, 1500 * SIM_MS));
    ck_assert(ringed(f.v, "n1"));
    ck_assert(ringed(f.v, "n2"));
    ck_assert(!ringed(f.v, "n3"));
    viz_box_t card;
    ck_assert(viz_find(f.v, "entity", "storage", &card, NULL));
    ck_assert_int_eq(colour_in(f.v, card, VIZ_C_FAIL), 0);
    /* The stale write travels from n1 to the resource (half a second),
     * then the resource refuses it in red. */
    advance(&f, 2200 * SIM_MS);
    ck_assert(viz_render(f.v, 2250 * SIM_MS));
    ck_assert_int_eq(colour_in(f.v, card, VIZ_C_FAIL), 0);
    viz_box_t n1;
    ck_assert(viz_find(f.v, "node", "n1", &n1, NULL));
    viz_box_t between = {n1.x, n1.y + 115, card.x + card.w - n1.x, card.y - n1.y - 115 + 20};
    if (card.x < n1.x) {
        between.x = card.x;
        between.w = n1.x + n1.w - card.x;
    }
    ck_assert_msg(colour_in(f.v, between, VIZ_OI_BLUE) > 100, "the write is not on its way");
    ck_assert(viz_render(f.v, 2600 * SIM_MS));
    ck_assert_msg(colour_in(f.v, between, VIZ_OI_BLUE) < 20, "the write is still on its way");
    ck_assert_msg(colour_in(f.v, card, VIZ_C_FAIL) > 300, "the refusal is not drawn on the resource");
    finish(&f);
}
END_TEST

/* Record wire_main into dir at 10 frames a second, slowed around faults by
 * `slow`; the frames written. */
static uint64_t record_wire(const char *dir, double slow)
{
    viz_options_t o = {.mode = VIZ_RECORD, .width = 640, .height = 360, .record_dir = dir, .fps = 10, .slowdown = slow};
    char err[1024];
    viz_t *v = viz_create(&o, err, sizeof err);
    ck_assert_msg(v != NULL, "%s", err);
    sched_config_t cfg = sched_config_default();
    cfg.main_exit_ends_run = false;
    sched_t *s = sched_create(&cfg);
    sched_add_sink(s, viz_on_event, v);
    sched_set_clock_hook(s, viz_on_clock, v);
    sched_set_step_hook(s, viz_on_step, v);
    viz_run_begin(v, s, false);
    sched_run(s, wire_main, NULL);
    ck_assert(viz_run_end(v, "finished", false));
    uint64_t n = viz_frames_written(v);
    viz_run_detach(v);
    sched_destroy(s);
    viz_destroy(v);
    return n;
}

static void remove_dir(const char *dir);

START_TEST(recording_slows_down_at_faults)
{
    char dir[] = "/tmp/check_viz_slow_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    uint64_t plain = record_wire(dir, 1), slowed = record_wire(dir, 4);
    remove_dir(dir);
    /* The run lasts 2.1s: 22 frames at 10 a second. The partition and the
     * heal are a tenth of a second apart: from the first to a second
     * after the second (its quarter before falls on the first), 1.195s
     * played four times slower: 36 frames more. */
    ck_assert_uint_eq(plain, 22);
    ck_assert_uint_ge(slowed, plain + 30);
}
END_TEST

/* ---- recording ------------------------------------------------------------------ */

static chan_t *ping_ch, *pong_ch;

static void player(void *arg)
{
    bool ping = arg != NULL;
    entity_t *e = entity_new("worker", ping ? "ping" : "pong", NULL);
    for (int i = 0; i < 5; i++) {
        bool ok;
        chan_recv_i64(ping ? ping_ch : pong_ch, &ok);
        entity_set_state(e, "busy");
        go_sleep(70 * SIM_MS);
        entity_set_state(e, "idle");
        chan_send_i64(ping ? pong_ch : ping_ch, i);
    }
}

static void record_main(void *arg)
{
    (void)arg;
    ping_ch = chan_make(sizeof(int64_t), 1);
    pong_ch = chan_make(sizeof(int64_t), 1);
    obj_set_name(ping_ch, "to_ping");
    obj_set_name(pong_ch, "to_pong");
    entity_t *q = entity_new("queue", "backlog", NULL);
    entity_set(q, "capacity", 8);
    go_spawn(player, (void *)1, "ping");
    go_spawn(player, NULL, "pong");
    chan_send_i64(ping_ch, 0);
    for (int i = 0; i < 8; i++) {
        entity_set(q, "depth", i);
        go_sleep(100 * SIM_MS);
    }
}

/* Record record_main into dir; returns the trace hash of the run. */
static uint64_t record_into(const char *dir, bool observe, uint64_t *frames)
{
    viz_t *v = observe ? new_view(VIZ_RECORD, dir, 640, 360) : NULL;
    sched_config_t cfg = sched_config_default();
    cfg.main_exit_ends_run = false;
    sched_t *s = sched_create(&cfg);
    if (v) {
        sched_add_sink(s, viz_on_event, v);
        sched_set_clock_hook(s, viz_on_clock, v);
        sched_set_step_hook(s, viz_on_step, v);
        viz_run_begin(v, s, false);
        viz_set_title(v, "recorded");
    }
    sched_run(s, record_main, NULL);
    if (v) {
        ck_assert(viz_run_end(v, "finished", false));
        *frames = viz_frames_written(v);
        ck_assert_ptr_null(viz_error(v));
        viz_run_detach(v);
    }
    uint64_t hash = sched_trace_hash(s);
    sched_destroy(s);
    viz_destroy(v);
    return hash;
}

static bool same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = false;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        }
    closedir(d);
    rmdir(dir);
}

START_TEST(recorded_twice_identical)
{
    char base[] = "/tmp/check_viz_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(base));
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/a", base);
    snprintf(b, sizeof b, "%s/b", base);
    uint64_t na = 0, nb = 0, unused;
    uint64_t ha = record_into(a, true, &na);
    uint64_t hb = record_into(b, true, &nb);
    uint64_t plain = record_into(NULL, false, &unused);
    /* Observing does not change the run. */
    ck_assert_uint_eq(ha, plain);
    ck_assert_uint_eq(hb, plain);
    /* 0.8s at 10 frames a second: frames at 0, 0.1, ..., 0.8 (the end). */
    ck_assert_uint_eq(na, 9);
    ck_assert_uint_eq(na, nb);
    for (uint64_t i = 1; i <= na; i++) {
        char fa[4300], fb[4300];
        snprintf(fa, sizeof fa, "%s/frame_%06llu.png", a, (unsigned long long)i);
        snprintf(fb, sizeof fb, "%s/frame_%06llu.png", b, (unsigned long long)i);
        ck_assert_msg(access(fa, R_OK) == 0, "%s is missing", fa);
        ck_assert_msg(same_file(fa, fb), "%s and %s differ", fa, fb);
    }
    char extra[4300];
    snprintf(extra, sizeof extra, "%s/frame_%06llu.png", a, (unsigned long long)na + 1);
    ck_assert_int_ne(access(extra, F_OK), 0);
    remove_dir(a);
    remove_dir(b);
    rmdir(base);
}
END_TEST

/* ---- the PNG writer -------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(png_decodes)
{
    enum { PW = 7, PH = 5 };
    uint32_t px[PW * PH];
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++)
            px[y * PW + x] = (uint32_t)(x * 37) << 16 | (uint32_t)(y * 51) << 8 | (uint32_t)((x * y * 13) & 255);
    char path[] = "/tmp/check_viz_png_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char err[256];
    ck_assert_msg(viz_png_write(path, px, PW, PH, PW * 4, err, sizeof err), "%s", err);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    remove(path);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ck_assert(n > 8 && memcmp(buf, sig, 8) == 0);
    /* Walk the chunks, checking each CRC; inflate IDAT and undo Sub. */
    size_t at = 8;
    unsigned char raw[PH * (PW * 3 + 1)];
    uLongf rawlen = sizeof raw;
    bool seen_end = false;
    while (at + 12 <= n) {
        uint32_t len = be32(buf + at);
        const unsigned char *type = buf + at + 4, *data = buf + at + 8;
        uLong crc = crc32(crc32(0L, Z_NULL, 0), type, 4 + len);
        ck_assert_uint_eq(crc, be32(data + len));
        if (memcmp(type, "IHDR", 4) == 0) {
            ck_assert_uint_eq(be32(data), PW);
            ck_assert_uint_eq(be32(data + 4), PH);
            ck_assert_int_eq(data[8], 8);
            ck_assert_int_eq(data[9], 2);
        } else if (memcmp(type, "IDAT", 4) == 0) {
            ck_assert_int_eq(uncompress(raw, &rawlen, data, len), Z_OK);
            ck_assert_uint_eq(rawlen, sizeof raw);
        } else if (memcmp(type, "IEND", 4) == 0) {
            seen_end = true;
        }
        at += 12 + len;
    }
    ck_assert(seen_end);
    for (int y = 0; y < PH; y++) {
        unsigned char *row = raw + y * (PW * 3 + 1);
        ck_assert_int_eq(row[0], 1); /* Sub */
        for (int i = 4; i <= PW * 3; i++)
            row[i] = (unsigned char)(row[i] + row[i - 3]);
        for (int x = 0; x < PW; x++) {
            uint32_t got = (uint32_t)row[1 + 3 * x] << 16 | (uint32_t)row[2 + 3 * x] << 8 | row[3 + 3 * x];
            ck_assert_uint_eq(got, px[y * PW + x]);
        }
    }
}
END_TEST

/* ---- errors --------------------------------------------------------------------- */

/* A token's text is never cut into ambiguity: a smaller font first, then
 * a dotted name's qualifiers by their first letter, then the middle elided
 * with the end kept (worker-11 and worker-12 stay apart). */
START_TEST(names_told_whole)
{
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, 200, 100, 32, SDL_PIXELFORMAT_ARGB8888);
    ck_assert_ptr_nonnull(surf);
    SDL_Renderer *r = SDL_CreateSoftwareRenderer(surf);
    ck_assert_ptr_nonnull(r);
    char err[1024], buf[128];
    viz_gfx_t *g = viz_gfx_create(r, NULL, err, sizeof err);
    ck_assert_msg(g != NULL, "%s", err);
    viz_font_t fo;
    /* Too wide in bold, whole in the small font. */
    const char *tag = "RECV resultQueue";
    int w = viz_gfx_text_width(g, VIZ_FONT_SMALL, tag);
    ck_assert_int_gt(viz_gfx_text_width(g, VIZ_FONT_BOLD, tag), w);
    ck_assert_str_eq(viz_gfx_fit_whole(g, VIZ_FONT_BOLD, VIZ_FONT_SMALL, w, tag, buf, sizeof buf, &fo), tag);
    ck_assert_int_eq(fo, VIZ_FONT_SMALL);
    /* A dotted name: its qualifier abbreviated, the name whole. */
    w = viz_gfx_text_width(g, VIZ_FONT_SMALL, "P.closer");
    ck_assert_str_eq(viz_gfx_fit_whole(g, VIZ_FONT_SMALL, VIZ_FONT_SMALL, w, "ParallelStage.closer", buf, sizeof buf,
                                       &fo), "P.closer");
    /* Names that differ at the end still differ when elided. */
    char a[128], b[128];
    w = viz_gfx_text_width(g, VIZ_FONT_SMALL, "worker-1");
    snprintf(a, sizeof a, "%s", viz_gfx_fit_whole(g, VIZ_FONT_SMALL, VIZ_FONT_SMALL, w, "background-worker-11",
                                                  buf, sizeof buf, &fo));
    snprintf(b, sizeof b, "%s", viz_gfx_fit_whole(g, VIZ_FONT_SMALL, VIZ_FONT_SMALL, w, "background-worker-12",
                                                  buf, sizeof buf, &fo));
    ck_assert_int_le(viz_gfx_text_width(g, VIZ_FONT_SMALL, a), w);
    ck_assert_str_ne(a, b);
    ck_assert_msg(strlen(a) >= 2 && strcmp(a + strlen(a) - 2, "11") == 0, "%s does not keep its end", a);
    viz_gfx_destroy(g);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(surf);
}
END_TEST

START_TEST(missing_fonts_are_named)
{
    viz_options_t o = {.mode = VIZ_OFFSCREEN, .width = 320, .height = 200, .font_dir = "/nonexistent"};
    char err[1024];
    viz_t *v = viz_create(&o, err, sizeof err);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(err, "fonts-dejavu-core") != NULL, "the error does not say what to install: %s", err);
}
END_TEST

static Suite *viz_suite(void)
{
    Suite *s = suite_create("viz");
    TCase *draw = tcase_create("drawing");
    tcase_set_timeout(draw, 120);
    tcase_add_test(draw, blocked_goroutine_color);
    tcase_add_test(draw, queue_bar_length);
    tcase_add_test(draw, channel_bar_length);
    tcase_add_test(draw, breaker_dial_color);
    tcase_add_test(draw, leader_crown_moves);
    tcase_add_test(draw, node_timer_arc);
    tcase_add_test(draw, wait_arrow_and_countdown);
    tcase_add_test(draw, deadlock_cycle_in_red);
    tcase_add_test(draw, flow_left_to_right);
    tcase_add_test(draw, flow_snakes_and_stands);
    tcase_add_test(draw, flow_path_skips_no_card);
    tcase_add_test(draw, names_told_whole);
    tcase_add_test(draw, expiry_counts_down);
    tcase_add_test(draw, links_clear_of_nodes);
    tcase_add_test(draw, messages_fly_and_die_at_the_cut);
    tcase_add_test(draw, split_brain_and_refused_write);
    suite_add_tcase(s, draw);
    TCase *rec = tcase_create("recording");
    tcase_set_timeout(rec, 240);
    tcase_add_test(rec, recorded_twice_identical);
    tcase_add_test(rec, png_decodes);
    tcase_add_test(rec, recording_slows_down_at_faults);
    suite_add_tcase(s, rec);
    TCase *errs = tcase_create("errors");
    tcase_add_test(errs, missing_fonts_are_named);
    suite_add_tcase(s, errs);
    return s;
}

int main(void)
{
    return run_suite(viz_suite());
}
