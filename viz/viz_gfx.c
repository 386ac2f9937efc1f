/* viz_gfx: drawing primitives and cached text. See viz_gfx.h. */
#include "viz_gfx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_ttf.h>

#include "viz_palette.h"

#define DEFAULT_FONT_DIR "/usr/share/fonts/truetype/dejavu"
#define CACHE_CAP 4096     /* slots of the text cache (a power of two) */
#define CACHE_HIGH 2048    /* entries above which old ones are dropped */
#define CACHE_KEEP 30      /* frames an unused entry survives a sweep */

/* A rendered string. */
typedef struct text_entry {
    uint64_t hash;       /* of font, colour and text; 0: empty slot */
    char *s;             /* the text (owned) */
    viz_font_t f;
    uint32_t rgb;
    SDL_Texture *tex;    /* owned; NULL for the empty string */
    int w, h;
    uint64_t used;       /* frame it was last drawn in */
} text_entry_t;

struct viz_gfx {
    SDL_Renderer *r;               /* borrowed */
    char *font_dir;                /* owned */
    double scale;                  /* font scale, 0 before the first set */
    TTF_Font *font[VIZ_FONT_COUNT];
    text_entry_t *cache;           /* CACHE_CAP slots, open addressing */
    size_t ncache;
    uint64_t frame;
};

static const struct {
    const char *file; /* in the font folder */
    int size;         /* pixels at scale 1 */
} font_spec[VIZ_FONT_COUNT] = {
    [VIZ_FONT_TITLE] = {"DejaVuSans-Bold.ttf", 28},
    [VIZ_FONT_LARGE] = {"DejaVuSans-Bold.ttf", 21},
    [VIZ_FONT_BOLD] = {"DejaVuSans-Bold.ttf", 17},
    [VIZ_FONT_BODY] = {"DejaVuSans.ttf", 17},
    [VIZ_FONT_SMALL] = {"DejaVuSans.ttf", 15},
    [VIZ_FONT_MONO] = {"DejaVuSansMono.ttf", 14},
};

static void set_color(viz_gfx_t *g, uint32_t rgb)
{
    SDL_SetRenderDrawColor(g->r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
}

static void close_fonts(viz_gfx_t *g)
{
    for (int i = 0; i < VIZ_FONT_COUNT; i++) {
        if (g->font[i])
            TTF_CloseFont(g->font[i]);
        g->font[i] = NULL;
    }
}

static void cache_clear(viz_gfx_t *g)
{
    for (size_t i = 0; i < CACHE_CAP; i++) {
        text_entry_t *e = &g->cache[i];
        if (!e->hash)
            continue;
        if (e->tex)
            SDL_DestroyTexture(e->tex);
        free(e->s);
        memset(e, 0, sizeof *e);
    }
    g->ncache = 0;
}

viz_gfx_t *viz_gfx_create(SDL_Renderer *r, const char *font_dir, char *err, size_t errsize)
{
    /* TTF_Init counts its callers; viz_gfx_destroy calls TTF_Quit. */
    if (TTF_Init() != 0) {
        snprintf(err, errsize, "SDL_ttf: %s", TTF_GetError());
        return NULL;
    }
    viz_gfx_t *g = calloc(1, sizeof *g);
    if (!g) {
        TTF_Quit();
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    g->r = r;
    g->cache = calloc(CACHE_CAP, sizeof *g->cache);
    if (!font_dir)
        font_dir = getenv("CHANSIM_FONT_DIR");
    if (!font_dir || !*font_dir)
        font_dir = DEFAULT_FONT_DIR;
    g->font_dir = strdup(font_dir);
    if (!g->cache || !g->font_dir) {
        snprintf(err, errsize, "out of memory");
        viz_gfx_destroy(g);
        return NULL;
    }
    if (!viz_gfx_set_scale(g, 1.0, err, errsize)) {
        viz_gfx_destroy(g);
        return NULL;
    }
    return g;
}

void viz_gfx_destroy(viz_gfx_t *g)
{
    if (!g)
        return;
    if (g->cache) {
        cache_clear(g);
        free(g->cache);
    }
    close_fonts(g);
    free(g->font_dir);
    free(g);
    TTF_Quit();
}

bool viz_gfx_set_scale(viz_gfx_t *g, double scale, char *err, size_t errsize)
{
    if (scale < 0.5)
        scale = 0.5;
    if (scale > 4)
        scale = 4;
    if (g->scale == scale && g->font[0])
        return true;
    cache_clear(g);
    close_fonts(g);
    for (int i = 0; i < VIZ_FONT_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", g->font_dir, font_spec[i].file);
        int px = (int)lround(font_spec[i].size * scale);
        g->font[i] = TTF_OpenFont(path, px < 6 ? 6 : px);
        if (!g->font[i]) {
            snprintf(err, errsize,
                     "cannot open the font %s (%s): install fonts-dejavu-core "
                     "(.ci/install-deps.sh) or set CHANSIM_FONT_DIR to a folder holding "
                     "DejaVuSans.ttf, DejaVuSans-Bold.ttf and DejaVuSansMono.ttf",
                     path, TTF_GetError());
            close_fonts(g);
            return false;
        }
        TTF_SetFontHinting(g->font[i], TTF_HINTING_LIGHT);
    }
    g->scale = scale;
    return true;
}

double viz_gfx_scale(const viz_gfx_t *g) { return g->scale; }
SDL_Renderer *viz_gfx_renderer(viz_gfx_t *g) { return g->r; }

int viz_gfx_px(const viz_gfx_t *g, int n)
{
    if (n <= 0)
        return n;
    int v = (int)lround(n * g->scale);
    return v < 1 ? 1 : v;
}

/* Drop the entries not drawn in the last CACHE_KEEP frames. */
static void cache_sweep(viz_gfx_t *g)
{
    text_entry_t *old = g->cache;
    text_entry_t *nc = calloc(CACHE_CAP, sizeof *nc);
    if (!nc) {
        cache_clear(g);
        return;
    }
    g->cache = nc;
    g->ncache = 0;
    for (size_t i = 0; i < CACHE_CAP; i++) {
        text_entry_t *e = &old[i];
        if (!e->hash)
            continue;
        if (e->used + CACHE_KEEP < g->frame) {
            if (e->tex)
                SDL_DestroyTexture(e->tex);
            free(e->s);
            continue;
        }
        size_t j = e->hash & (CACHE_CAP - 1);
        while (nc[j].hash)
            j = (j + 1) & (CACHE_CAP - 1);
        nc[j] = *e;
        g->ncache++;
    }
    free(old);
    if (g->ncache > CACHE_HIGH)
        cache_clear(g);
}

void viz_gfx_begin_frame(viz_gfx_t *g)
{
    g->frame++;
    if (g->ncache > CACHE_HIGH)
        cache_sweep(g);
}

static uint64_t text_hash(viz_font_t f, uint32_t rgb, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = (h ^ (uint64_t)f) * 0x100000001b3ull;
    h = (h ^ rgb) * 0x100000001b3ull;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h ? h : 1;
}

/* The cached rendering of s, made on first use; NULL if it cannot be. */
static text_entry_t *text_get(viz_gfx_t *g, viz_font_t f, uint32_t rgb, const char *s)
{
    uint64_t h = text_hash(f, rgb, s);
    size_t j = h & (CACHE_CAP - 1);
    while (g->cache[j].hash) {
        text_entry_t *e = &g->cache[j];
        if (e->hash == h && e->f == f && e->rgb == rgb && strcmp(e->s, s) == 0) {
            e->used = g->frame;
            return e;
        }
        j = (j + 1) & (CACHE_CAP - 1);
    }
    if (g->ncache + 1 >= CACHE_CAP) {
        cache_clear(g);
        j = h & (CACHE_CAP - 1);
    }
    text_entry_t e = {.hash = h, .f = f, .rgb = rgb, .used = g->frame};
    e.s = strdup(s);
    if (!e.s)
        return NULL;
    if (*s) {
        SDL_Color c = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
        SDL_Surface *surf = TTF_RenderUTF8_Blended(g->font[f], s, c);
        if (!surf) {
            free(e.s);
            return NULL;
        }
        e.tex = SDL_CreateTextureFromSurface(g->r, surf);
        e.w = surf->w;
        e.h = surf->h;
        SDL_FreeSurface(surf);
        if (!e.tex) {
            free(e.s);
            return NULL;
        }
    } else {
        e.h = TTF_FontHeight(g->font[f]);
    }
    g->cache[j] = e;
    g->ncache++;
    return &g->cache[j];
}

int viz_gfx_text(viz_gfx_t *g, viz_font_t f, uint32_t rgb, int x, int y, const char *s)
{
    text_entry_t *e = text_get(g, f, rgb, s ? s : "");
    if (!e)
        return 0;
    if (e->tex) {
        SDL_Rect dst = {x, y, e->w, e->h};
        SDL_RenderCopy(g->r, e->tex, NULL, &dst);
    }
    return e->w;
}

int viz_gfx_text_width(viz_gfx_t *g, viz_font_t f, const char *s)
{
    int w = 0, h = 0;
    if (!s || !*s)
        return 0;
    if (TTF_SizeUTF8(g->font[f], s, &w, &h) != 0)
        return 0;
    return w;
}

int viz_gfx_line_height(viz_gfx_t *g, viz_font_t f)
{
    return TTF_FontHeight(g->font[f]);
}

/* The longest prefix of s (cut on a UTF-8 boundary) that fits in maxw
 * with an ellipsis after it, written to buf. */
static const char *fit(viz_gfx_t *g, viz_font_t f, int maxw, const char *s, char *buf, size_t size)
{
    if (viz_gfx_text_width(g, f, s) <= maxw)
        return s;
    size_t len = strlen(s);
    if (len + 4 > size)
        len = size - 4;
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        size_t cut = mid;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(buf, s, cut);
        memcpy(buf + cut, "\xe2\x80\xa6", 4);
        if (viz_gfx_text_width(g, f, buf) <= maxw)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t cut = lo;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(buf, s, cut);
    memcpy(buf + cut, "\xe2\x80\xa6", 4);
    return buf;
}

int viz_gfx_text_fit(viz_gfx_t *g, viz_font_t f, uint32_t rgb, int x, int y, int maxw, const char *s)
{
    char buf[512];
    if (maxw <= 0)
        return 0;
    return viz_gfx_text(g, f, rgb, x, y, fit(g, f, maxw, s ? s : "", buf, sizeof buf));
}

/* buf = s (len bytes) with n characters' worth kept, the first half from
 * the start and the rest from the end, an ellipsis between; cuts fall on
 * UTF-8 character boundaries. buf holds at least n + 4 bytes. */
static void elide_middle(const char *s, size_t len, size_t n, char *buf)
{
    size_t head = (n + 1) / 2, tail = n / 2;
    while (head > 0 && ((unsigned char)s[head] & 0xC0) == 0x80)
        head--;
    size_t from = len - tail;
    while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80)
        from++;
    memcpy(buf, s, head);
    memcpy(buf + head, "\xe2\x80\xa6", 3);
    memcpy(buf + head + 3, s + from, len - from + 1);
}

/* s with its middle elided to at most maxw pixels in f: n characters kept,
 * the first half from the start and the rest from the end. */
static const char *fit_middle(viz_gfx_t *g, viz_font_t f, int maxw, const char *s, char *buf, size_t size)
{
    size_t len = strlen(s);
    size_t lo = 0, hi = len < size - 4 ? len : size - 4;
    while (lo < hi) {
        size_t n = (lo + hi + 1) / 2;
        elide_middle(s, len, n, buf);
        if (viz_gfx_text_width(g, f, buf) <= maxw)
            lo = n;
        else
            hi = n - 1;
    }
    elide_middle(s, len, lo, buf);
    return buf;
}

const char *viz_gfx_fit_whole(viz_gfx_t *g, viz_font_t f, viz_font_t fmin, int maxw, const char *s, char *buf,
                              size_t size, viz_font_t *fo)
{
    s = s ? s : "";
    *fo = fmin;
    for (int i = (int)f; i <= (int)fmin; i++)
        if (viz_gfx_text_width(g, (viz_font_t)i, s) <= maxw) {
            *fo = (viz_font_t)i;
            return s;
        }
    if (size < 8)
        return s;
    /* A dotted name: each qualifier by its first letter, the last part whole. */
    const char *last = strrchr(s, '.');
    if (last && last != s && last[1]) {
        size_t k = 0;
        for (const char *p = s; p < last && k + 3 < size; p++)
            if (p == s || p[-1] == '.')
                buf[k++] = *p, buf[k++] = '.';
        snprintf(buf + k, size - k, "%s", last + 1);
        if (viz_gfx_text_width(g, fmin, buf) <= maxw)
            return buf;
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", buf);
        return fit_middle(g, fmin, maxw, tmp, buf, size);
    }
    return fit_middle(g, fmin, maxw, s, buf, size);
}

int viz_gfx_text_whole(viz_gfx_t *g, viz_font_t f, viz_font_t fmin, uint32_t rgb, int x, int y, int maxw,
                       const char *s)
{
    char buf[512];
    if (maxw <= 0)
        return 0;
    viz_font_t fo;
    const char *t = viz_gfx_fit_whole(g, f, fmin, maxw, s, buf, sizeof buf, &fo);
    int dy = (viz_gfx_line_height(g, f) - viz_gfx_line_height(g, fo)) / 2;
    return viz_gfx_text(g, fo, rgb, x, y + dy, t);
}

void viz_gfx_text_center(viz_gfx_t *g, viz_font_t f, uint32_t rgb, int cx, int y, int maxw, const char *s)
{
    char buf[512];
    if (maxw <= 0)
        return;
    const char *t = fit(g, f, maxw, s ? s : "", buf, sizeof buf);
    int w = viz_gfx_text_width(g, f, t);
    viz_gfx_text(g, f, rgb, cx - w / 2, y, t);
}

/* ---- shapes ------------------------------------------------------------- */

void viz_gfx_fill_rect(viz_gfx_t *g, int x, int y, int w, int h, uint32_t rgb)
{
    if (w <= 0 || h <= 0)
        return;
    SDL_Rect r = {x, y, w, h};
    set_color(g, rgb);
    SDL_RenderFillRect(g->r, &r);
}

void viz_gfx_rect(viz_gfx_t *g, int x, int y, int w, int h, int thick, uint32_t rgb)
{
    if (thick * 2 >= w || thick * 2 >= h) {
        viz_gfx_fill_rect(g, x, y, w, h, rgb);
        return;
    }
    viz_gfx_fill_rect(g, x, y, w, thick, rgb);
    viz_gfx_fill_rect(g, x, y + h - thick, w, thick, rgb);
    viz_gfx_fill_rect(g, x, y + thick, thick, h - 2 * thick, rgb);
    viz_gfx_fill_rect(g, x + w - thick, y + thick, thick, h - 2 * thick, rgb);
}

/* Half-width of a disc of radius r (in half pixels) at row offset dy. */
static int half_width(int r, int dy)
{
    long v = (long)r * r - (long)dy * dy;
    if (v <= 0)
        return 0;
    long x = (long)sqrt((double)v);
    while ((x + 1) * (x + 1) <= v)
        x++;
    while (x * x > v)
        x--;
    return (int)x;
}

void viz_gfx_fill_circle(viz_gfx_t *g, int cx, int cy, int r, uint32_t rgb)
{
    if (r <= 0)
        return;
    set_color(g, rgb);
    for (int dy = -r; dy <= r; dy++) {
        int hw = half_width(r, dy);
        SDL_Rect row = {cx - hw, cy + dy, 2 * hw + 1, 1};
        SDL_RenderFillRect(g->r, &row);
    }
}

void viz_gfx_ring(viz_gfx_t *g, int cx, int cy, int r, int thick, uint32_t rgb)
{
    if (r <= 0 || thick <= 0)
        return;
    int ri = r - thick;
    if (ri <= 0) {
        viz_gfx_fill_circle(g, cx, cy, r, rgb);
        return;
    }
    set_color(g, rgb);
    for (int dy = -r; dy <= r; dy++) {
        int ho = half_width(r, dy);
        int hi = dy > -ri && dy < ri ? half_width(ri, dy) : -1;
        if (hi < 0) {
            SDL_Rect row = {cx - ho, cy + dy, 2 * ho + 1, 1};
            SDL_RenderFillRect(g->r, &row);
        } else {
            SDL_Rect a = {cx - ho, cy + dy, ho - hi, 1};
            SDL_Rect b = {cx + hi + 1, cy + dy, ho - hi, 1};
            SDL_RenderFillRect(g->r, &a);
            SDL_RenderFillRect(g->r, &b);
        }
    }
}

static SDL_Vertex vertex(float x, float y, uint32_t rgb)
{
    SDL_Vertex v;
    v.position.x = x;
    v.position.y = y;
    v.color.r = (Uint8)(rgb >> 16);
    v.color.g = (Uint8)(rgb >> 8);
    v.color.b = (Uint8)rgb;
    v.color.a = 255;
    v.tex_coord.x = 0;
    v.tex_coord.y = 0;
    return v;
}

void viz_gfx_fill_poly(viz_gfx_t *g, const float *xy, int n, uint32_t rgb)
{
    enum { MAXP = 64 };
    if (n < 3 || n > MAXP)
        return;
    SDL_Vertex v[MAXP];
    int idx[3 * MAXP];
    for (int i = 0; i < n; i++)
        v[i] = vertex(xy[2 * i], xy[2 * i + 1], rgb);
    int k = 0;
    for (int i = 1; i + 1 < n; i++) {
        idx[k++] = 0;
        idx[k++] = i;
        idx[k++] = i + 1;
    }
    SDL_RenderGeometry(g->r, NULL, v, n, idx, k);
}

void viz_gfx_line(viz_gfx_t *g, float x0, float y0, float x1, float y1, float thick, uint32_t rgb)
{
    float dx = x1 - x0, dy = y1 - y0;
    float len = sqrtf(dx * dx + dy * dy);
    if (len < 0.01f)
        return;
    float nx = -dy / len * thick / 2, ny = dx / len * thick / 2;
    float q[8] = {x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny};
    viz_gfx_fill_poly(g, q, 4, rgb);
}

void viz_gfx_sector(viz_gfx_t *g, int cx, int cy, int r0, int r1, double a0, double a1, uint32_t rgb)
{
    enum { SEG = 24 };
    SDL_Vertex v[2 * (SEG + 1)];
    int idx[6 * SEG];
    for (int i = 0; i <= SEG; i++) {
        double a = a0 + (a1 - a0) * i / SEG;
        float c = (float)cos(a), s = (float)sin(a);
        v[2 * i] = vertex((float)cx + c * (float)r0, (float)cy + s * (float)r0, rgb);
        v[2 * i + 1] = vertex((float)cx + c * (float)r1, (float)cy + s * (float)r1, rgb);
    }
    int k = 0;
    for (int i = 0; i < SEG; i++) {
        int a = 2 * i, b = 2 * i + 1, c = 2 * i + 2, d = 2 * i + 3;
        idx[k++] = a;
        idx[k++] = b;
        idx[k++] = d;
        idx[k++] = a;
        idx[k++] = d;
        idx[k++] = c;
    }
    SDL_RenderGeometry(g->r, NULL, v, 2 * (SEG + 1), idx, k);
}

/* A state shape filling a square of side size centred on cx, cy. */
static void shape_fill(viz_gfx_t *g, viz_shape_t s, float cx, float cy, float size, uint32_t rgb)
{
    float h = size / 2;
    switch (s) {
    case VIZ_SHAPE_CIRCLE:
        viz_gfx_fill_circle(g, (int)lroundf(cx), (int)lroundf(cy), (int)lroundf(h), rgb);
        break;
    case VIZ_SHAPE_TRIANGLE: {
        float p[6] = {cx - h * 0.8f, cy - h, cx + h, cy, cx - h * 0.8f, cy + h};
        viz_gfx_fill_poly(g, p, 3, rgb);
        break;
    }
    case VIZ_SHAPE_SQUARE: {
        float k = h * 0.86f;
        viz_gfx_fill_rect(g, (int)lroundf(cx - k), (int)lroundf(cy - k), (int)lroundf(2 * k),
                          (int)lroundf(2 * k), rgb);
        break;
    }
    case VIZ_SHAPE_DIAMOND: {
        float p[8] = {cx, cy - h, cx + h, cy, cx, cy + h, cx - h, cy};
        viz_gfx_fill_poly(g, p, 4, rgb);
        break;
    }
    case VIZ_SHAPE_HEX: {
        float p[12];
        for (int i = 0; i < 6; i++) {
            double a = M_PI / 3 * i;
            p[2 * i] = cx + h * (float)cos(a);
            p[2 * i + 1] = cy + h * (float)sin(a);
        }
        viz_gfx_fill_poly(g, p, 6, rgb);
        break;
    }
    case VIZ_SHAPE_RING:
    case VIZ_SHAPE_BAR:
    case VIZ_SHAPE_CROSS:
        break; /* drawn with their outline in viz_gfx_shape */
    }
}

void viz_gfx_shape(viz_gfx_t *g, viz_shape_t s, int cx, int cy, int size, uint32_t rgb, uint32_t ink)
{
    float t = size >= 24 ? 2.0f : 1.0f;
    float fx = (float)cx, fy = (float)cy, fs = (float)size;
    switch (s) {
    case VIZ_SHAPE_RING: { /* a clock: a thick ring and two hands */
        int r = size / 2;
        viz_gfx_fill_circle(g, cx, cy, r, ink);
        viz_gfx_fill_circle(g, cx, cy, r - (int)t, rgb);
        viz_gfx_fill_circle(g, cx, cy, r * 5 / 10, 0xFFFFFFu);
        viz_gfx_line(g, fx, fy, fx, fy - fs * 0.22f, t, ink);
        viz_gfx_line(g, fx, fy, fx + fs * 0.18f, fy, t, ink);
        break;
    }
    case VIZ_SHAPE_BAR: { /* a padlock: a shackle over a body */
        int r = size * 3 / 10;
        viz_gfx_ring(g, cx, cy - size / 8, r, size / 8 + (int)t, ink);
        viz_gfx_ring(g, cx, cy - size / 8, r - (int)t, size / 8 - (int)t > 0 ? size / 8 - (int)t : 1, rgb);
        int bw = size * 8 / 10, bh = size / 2;
        viz_gfx_fill_rect(g, cx - bw / 2, cy, bw, bh, ink);
        viz_gfx_fill_rect(g, cx - bw / 2 + (int)t, cy + (int)t, bw - 2 * (int)t, bh - 2 * (int)t, rgb);
        break;
    }
    case VIZ_SHAPE_CROSS: {
        float h = fs * 0.42f;
        viz_gfx_line(g, fx - h, fy - h, fx + h, fy + h, fs * 0.28f, ink);
        viz_gfx_line(g, fx - h, fy + h, fx + h, fy - h, fs * 0.28f, ink);
        viz_gfx_line(g, fx - h + t, fy - h + t, fx + h - t, fy + h - t, fs * 0.28f - 2 * t, rgb);
        viz_gfx_line(g, fx - h + t, fy + h - t, fx + h - t, fy - h + t, fs * 0.28f - 2 * t, rgb);
        break;
    }
    default:
        shape_fill(g, s, fx, fy, fs, ink);
        shape_fill(g, s, fx, fy, fs - 2.6f * t, rgb);
        break;
    }
}

uint32_t viz_gfx_ink_on(uint32_t rgb)
{
    int r = (int)(rgb >> 16 & 255), gg = (int)(rgb >> 8 & 255), b = (int)(rgb & 255);
    /* Perceived lightness (ITU-R BT.601 weights, integer). */
    int y = (299 * r + 587 * gg + 114 * b) / 1000;
    return y >= 140 ? VIZ_INK : 0xFFFFFFu;
}

uint32_t viz_gfx_mix(uint32_t rgb, uint32_t to, double t)
{
    uint32_t out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        double a = (double)(rgb >> sh & 255), b = (double)(to >> sh & 255);
        int v = (int)lround(a + (b - a) * t);
        out |= (uint32_t)(v < 0 ? 0 : v > 255 ? 255 : v) << sh;
    }
    return out;
}
