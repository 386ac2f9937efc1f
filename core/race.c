/*
 * race: the detector. See race.h for the model and the rules.
 *
 * A goroutine's thread id is its goroutine id; its clock starts at 1 for
 * itself, and moves on at every release it makes. Sync clocks live in a
 * table keyed by (obj, sub) whose entries never move (the table holds
 * pointers), so an operation may hold two of them at once. Reads and
 * writes follow FastTrack (Flanagan and Freund, PLDI 2009): a variable
 * keeps the epoch (tid, clock) of its last write and of its last read,
 * widening the read epoch to a list of epochs only while reads are
 * concurrent. Code locations are interned strings of Go-style frames, so
 * that two accesses from the same place compare equal by pointer.
 *
 * Reports follow Go's format (runtime/race, TSan's Go output) with two
 * differences that simulated memory imposes: the variable's name stands
 * where Go prints an address, and a goroutine's name follows its id.
 */
#include "race.h"

#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

race_t *race_active;
shared_observer_fn shared_observer;
void *shared_observer_ud;

void shared_set_observer(shared_observer_fn fn, void *ud)
{
    shared_observer = fn;
    shared_observer_ud = ud;
}

typedef struct vc {
    uint32_t *c;     /* c[tid]: the latest event of tid known here */
    uint32_t n, cap; /* entries in use (absent ones are 0), allocated */
} vc_t;

/* A goroutine, by goroutine id: what reports say about it and the slot
 * (thread id) its clock lives in. */
typedef struct rgo {
    const char *name;    /* interned */
    const char *created; /* frames of the go statement, or NULL */
    uint32_t slot;       /* its thread id while it runs (0: not started) */
    bool finished;       /* returned */
} rgo_t;

/* A thread id. A goroutine that returns gives its slot back and the next
 * goroutine to start takes it, its clock going on from where the last
 * occupant's stopped: clocks stay as long as the goroutines alive at once,
 * not as all that ever ran (TSan reuses thread slots the same way). The
 * price is that a goroutine seems to happen after everything its slot's
 * earlier occupants did. */
typedef struct rslot {
    vc_t vc;             /* the occupant's clock (the buffer is kept for the next) */
    uint32_t last;       /* the last occupant's own clock when it returned */
} rslot_t;

typedef struct rsync {
    uint64_t obj, sub;      /* the key */
    struct rsync *sib;      /* the object's other clocks, from its head (sub SUB_HEAD) */
    vc_t vc;                /* the sync clock */
    uint64_t nsend, nrecv;  /* channels: sends and receives so far (sub META) */
    race_var_t state;       /* channels: send against close (sub META) */
    const char *chan_name;  /* channels: the name state's is made of (borrowed) */
} rsync_t;

typedef struct read_ent {
    uint32_t tid, clk;
    const char *site;
    uint64_t gid;        /* the goroutine that read */
} read_ent_t;

struct race_reads {
    struct race_reads *next_all; /* the detector's list, for freeing */
    read_ent_t *e;               /* in the order the readers came (reports take the first) */
    uint32_t n, cap;
    uint32_t *at;                /* at[tid]: 1 + tid's index in e, 0 if none */
    uint32_t nat;
};

typedef struct pair {
    const char *a, *b; /* top locations of a reported pair, a <= b */
} pair_t;

/* A code location already formatted: the C location (func, file, line)
 * and the goroutine's frames (interned text, NULL if none) it was made
 * from. An access from the same place formats nothing again. */
typedef struct site_ent {
    const char *func, *file, *frames;
    int line;
    const char *site; /* interned */
} site_ent_t;

struct race {
    sched_t *s;
    uint32_t gen;           /* tells this detector's variables from older ones */
    rgo_t *gs;              /* by goroutine id */
    size_t ngs;
    rslot_t *slots;         /* by thread id, from 1 */
    uint32_t nslots, capslots;
    uint32_t *free_slots;   /* returned slots, reused last first */
    uint32_t nfree, capfree;
    rsync_t **tab;          /* open addressing, lookup only: never iterated */
    size_t tabcap, tablen;
    rsync_t *spare;         /* removed entries (by sib), their buffers kept for the next */
    struct race_reads *reads_all;
    uint64_t next_var;
    uint64_t nreports;
    char *first;            /* the first report's summary line */
    FILE *out;
    pair_t *pairs;          /* reported pairs (a handful: linear search) */
    size_t npairs, cappairs;
    site_ent_t *sites;      /* formatted locations (open addressing) */
    size_t sitecap, sitelen;
    bool proxy;             /* race_proxy_begin is in effect */
    uint64_t proxy_obj, proxy_sub;
};

/* Channel sync clocks: sub 0 is close, 1 the counters and the state, 2 + i
 * the buffer slot i (unbuffered: slot 0). */
enum { SUB_CLOSE = 0, SUB_META = 1, SUB_SLOT = 2 };
/* An object's list of clocks (an entry without a clock), so that they go
 * when the object does (race_obj_free_slow). Atomics (obj 0) have none. */
#define SUB_HEAD UINT64_MAX

static uint32_t next_gen;

static void *xalloc(void *p, size_t n)
{
    return mem_realloc(p, n);
}

/* ---- vector clocks ------------------------------------------------------ */

static inline uint32_t vc_get(const vc_t *v, uint32_t t)
{
    return t < v->n ? v->c[t] : 0;
}

static void vc_reserve(vc_t *v, uint32_t n)
{
    if (n <= v->n)
        return;
    if (n > v->cap) {
        uint32_t cap = v->cap ? v->cap : 8;
        while (cap < n)
            cap *= 2;
        v->c = xalloc(v->c, (size_t)cap * sizeof *v->c);
        v->cap = cap;
    }
    memset(v->c + v->n, 0, (size_t)(n - v->n) * sizeof *v->c);
    v->n = n;
}

static void vc_set(vc_t *v, uint32_t t, uint32_t x)
{
    vc_reserve(v, t + 1);
    v->c[t] = x;
}

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-loop-vectorize")))
#endif
static void vc_join(vc_t *dst, const vc_t *src)
{
    vc_reserve(dst, src->n);
    /* a max per entry, stored unconditionally, as signed (clocks stay
     * below 2^31): SSE2 vectorises it (clocks run to thousands of
     * entries, the goroutines of a run at once) */
    int32_t *restrict d = (int32_t *)dst->c;
    const int32_t *restrict c = (const int32_t *)src->c;
    uint32_t n = src->n;
    for (uint32_t i = 0; i < n; i++)
        d[i] = c[i] > d[i] ? c[i] : d[i];
}

/* A sync clock is mostly written whole by a release and kept as long as
 * its object (a cancelled context until the run ends): its buffer is the
 * clock's exact length, not the next power of two. */
static void vc_copy(vc_t *dst, const vc_t *src)
{
    if (src->n > dst->cap) {
        uint32_t cap = src->n;
        free(dst->c);
        dst->c = xalloc(NULL, (size_t)cap * sizeof *dst->c);
        dst->cap = cap;
    }
    if (src->n)
        memcpy(dst->c, src->c, (size_t)src->n * sizeof *src->c);
    dst->n = src->n;
}

/* ---- the detector ------------------------------------------------------- */

race_t *race_new(sched_t *s)
{
    race_t *r = xalloc(NULL, sizeof *r);
    memset(r, 0, sizeof *r);
    r->s = s;
    r->gen = ++next_gen;
    if (r->gen == 0)
        r->gen = ++next_gen;
    r->out = stderr;
    r->first = xalloc(NULL, 1);
    r->first[0] = 0;
    return r;
}

void race_free(race_t *r)
{
    if (!r)
        return;
    if (race_active == r)
        race_active = NULL;
    free(r->gs);
    for (uint32_t i = 1; i < r->nslots; i++) /* slot 0 (the proxy's) is never used */
        free(r->slots[i].vc.c);
    free(r->slots);
    free(r->free_slots);
    for (size_t i = 0; i < r->tabcap; i++) {
        if (r->tab[i]) {
            free(r->tab[i]->vc.c);
            free(r->tab[i]);
        }
    }
    free(r->tab);
    while (r->spare) {
        rsync_t *next = r->spare->sib;
        free(r->spare->vc.c);
        free(r->spare);
        r->spare = next;
    }
    struct race_reads *rs = r->reads_all;
    while (rs) {
        struct race_reads *next = rs->next_all;
        free(rs->e);
        free(rs->at);
        free(rs);
        rs = next;
    }
    free(r->pairs);
    free(r->sites);
    free(r->first);
    free(r);
}

size_t race_sync_clocks(const race_t *r) { return r ? r->tablen : 0; }
uint64_t race_reports(const race_t *r) { return r ? r->nreports : 0; }
const char *race_first(const race_t *r) { return r ? r->first : ""; }
void race_set_output(race_t *r, void *file) { r->out = file; }

static uint64_t key_hash(uint64_t obj, uint64_t sub)
{
    uint64_t h = obj * 0x9e3779b97f4a7c15ull ^ (sub + 0x632be59bd9b4e019ull) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

static rsync_t *sync_find(race_t *r, uint64_t obj, uint64_t sub)
{
    if (!r->tabcap)
        return NULL;
    size_t mask = r->tabcap - 1;
    for (size_t j = key_hash(obj, sub) & mask;; j = (j + 1) & mask) {
        rsync_t *e = r->tab[j];
        if (!e)
            return NULL;
        if (e->obj == obj && e->sub == sub)
            return e;
    }
}

static rsync_t *sync_insert(race_t *r, uint64_t obj, uint64_t sub);

static rsync_t *sync_get(race_t *r, uint64_t obj, uint64_t sub)
{
    rsync_t *e = sync_find(r, obj, sub);
    if (e)
        return e;
    rsync_t *head = NULL;
    if (obj != 0) {
        head = sync_find(r, obj, SUB_HEAD);
        if (!head)
            head = sync_insert(r, obj, SUB_HEAD);
    }
    e = sync_insert(r, obj, sub);
    if (head) {
        e->sib = head->sib;
        head->sib = e;
    }
    return e;
}

/* Remove entry e from the table (backward-shift deletion: the entries
 * after it in its probe run move up, so lookups need no tombstones). */
static void sync_remove(race_t *r, rsync_t *e)
{
    size_t mask = r->tabcap - 1;
    size_t i = key_hash(e->obj, e->sub) & mask;
    while (r->tab[i] != e)
        i = (i + 1) & mask;
    size_t j = i;
    for (;;) {
        r->tab[i] = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (!r->tab[j])
                goto done;
            size_t k = key_hash(r->tab[j]->obj, r->tab[j]->sub) & mask;
            /* tab[j] stays if its home k lies cyclically in (i, j] */
            bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays)
                break;
        }
        r->tab[i] = r->tab[j];
        i = j;
    }
done:
    r->tablen--;
    e->sib = r->spare; /* a run frees objects as it makes them: the next takes it */
    r->spare = e;
}

void race_obj_free_slow(race_t *r, uint64_t obj)
{
    rsync_t *head = obj ? sync_find(r, obj, SUB_HEAD) : NULL;
    if (!head)
        return;
    rsync_t *e = head->sib;
    while (e) {
        rsync_t *next = e->sib;
        sync_remove(r, e);
        e = next;
    }
    sync_remove(r, head);
}

static rsync_t *sync_insert(race_t *r, uint64_t obj, uint64_t sub)
{
    rsync_t *e;
    if ((r->tablen + 1) * 2 > r->tabcap) {
        size_t ncap = r->tabcap ? r->tabcap * 2 : 256;
        rsync_t **n = xalloc(NULL, ncap * sizeof *n);
        memset(n, 0, ncap * sizeof *n);
        for (size_t i = 0; i < r->tabcap; i++) {
            rsync_t *x = r->tab[i];
            if (!x)
                continue;
            size_t j = key_hash(x->obj, x->sub) & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = x;
        }
        free(r->tab);
        r->tab = n;
        r->tabcap = ncap;
    }
    if (r->spare) {
        e = r->spare;
        r->spare = e->sib;
        vc_t vc = {.c = e->vc.c, .cap = e->vc.cap};
        memset(e, 0, sizeof *e);
        e->vc = vc;
    } else {
        e = xalloc(NULL, sizeof *e);
        memset(e, 0, sizeof *e);
    }
    e->obj = obj;
    e->sub = sub;
    size_t j = key_hash(obj, sub) & (r->tabcap - 1);
    while (r->tab[j])
        j = (j + 1) & (r->tabcap - 1);
    r->tab[j] = e;
    r->tablen++;
    return e;
}

/* The record of goroutine id (zeroed when new). */
static rgo_t *rgo_get(race_t *r, uint64_t id)
{
    if (id >= r->ngs) {
        size_t n = r->ngs ? r->ngs : 64;
        while (n <= id)
            n *= 2;
        r->gs = xalloc(r->gs, n * sizeof *r->gs);
        memset(r->gs + r->ngs, 0, (n - r->ngs) * sizeof *r->gs);
        r->ngs = n;
    }
    return &r->gs[id];
}

/* Give a starting goroutine a slot: its clock, empty but for itself. */
static uint32_t slot_take_bare(race_t *r);

static uint32_t slot_take(race_t *r)
{
    uint32_t t = slot_take_bare(r);
    vc_set(&r->slots[t].vc, t, r->slots[t].last + 1);
    return t;
}

/* A slot whose clock is empty, not even its own entry set (the caller
 * sets the whole clock: race_go_start_slow copies the creator's). */
static uint32_t slot_take_bare(race_t *r)
{
    uint32_t t;
    if (r->nfree) {
        t = r->free_slots[--r->nfree];
    } else {
        if (r->nslots == 0)
            r->nslots = 1; /* 0 is the proxy's */
        if (r->nslots >= r->capslots) {
            r->capslots = r->capslots ? r->capslots * 2 : 64;
            r->slots = xalloc(r->slots, r->capslots * sizeof *r->slots);
        }
        t = r->nslots++;
        memset(&r->slots[t], 0, sizeof r->slots[t]);
    }
    r->slots[t].vc.n = 0;
    return t;
}

/* The goroutine's record, started (a goroutine the detector has not seen
 * start, such as main, starts now with an empty clock). */
static rgo_t *rgo_of(race_t *r, g_t *g)
{
    rgo_t *rg = rgo_get(r, go_id(g));
    if (!rg->slot) {
        rg->slot = slot_take(r);
        if (!rg->name)
            rg->name = go_name(g);
    }
    return rg;
}

/* The clock that acts for g (NULL: the running goroutine, else the proxy);
 * *tid is its slot, 0 for the proxy. NULL if nobody acts. */
static vc_t *actor(race_t *r, g_t *g, uint32_t *tid)
{
    if (!g)
        g = go_self();
    if (g) {
        rgo_t *rg = rgo_of(r, g);
        *tid = rg->slot;
        return &r->slots[rg->slot].vc;
    }
    if (r->proxy) {
        *tid = 0;
        return &sync_get(r, r->proxy_obj, r->proxy_sub)->vc;
    }
    return NULL;
}

static inline void tick(vc_t *c, uint32_t tid)
{
    if (tid)
        c->c[tid]++;
}

/* ---- code locations ----------------------------------------------------- */

/* A C file's path from the source tree's root (core/..., sim/...). */
static const char *short_file(const char *file)
{
    static const char *const roots[] = {"/core/", "/sim/", "/scripts/", "/viz/", "/tests/"};
    const char *best = NULL; /* the last root in the path: the tree's own */
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        for (const char *p = strstr(file, roots[i]); p; p = strstr(p + 1, roots[i]))
            if (!best || p > best)
                best = p;
    return best ? best + 1 : file;
}

/* Append the goroutine's frames as the dump prints them ("fn(...)\n\tloc")
 * in the race report's form ("  fn()\n      loc"), C frames left out. */
static size_t add_frames(char *buf, size_t n, size_t size, const char *frames)
{
    char fr[4096];
    if (!frames)
        return n;
    snprintf(fr, sizeof fr, "%s", frames);
    int kept = 0;
    char *p = fr;
    while (*p && kept < 16) {
        char *fn = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = 0;
        p = nl + 1;
        if (*fn == '\t' || strncmp(fn, "...", 3) == 0)
            continue;
        const char *loc = "";
        if (*p == '\t') {
            loc = p + 1;
            nl = strchr(p, '\n');
            if (nl) {
                *nl = 0;
                p = nl + 1;
            } else {
                p += strlen(p);
            }
        }
        if (strcmp(loc, "[C]") == 0)
            continue;
        char *paren = strstr(fn, "(...)");
        if (paren)
            *paren = 0;
        int w = snprintf(buf + n, size - n, "  %s()\n      %s\n", fn, loc);
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
        kept++;
    }
    return n;
}

static const char *site_format(race_t *r, g_t *g, const char *func, const char *file, int line,
                               const char *frames, bool *by_name)
{
    char buf[4096];
    size_t n = 0;
    buf[0] = 0;
    *by_name = false;
    if (func) {
        int w = file && *file
                    ? snprintf(buf, sizeof buf, "  %s()\n      %s:%d\n", func, short_file(file), line)
                    : snprintf(buf, sizeof buf, "  %s()\n", func);
        if (w > 0 && (size_t)w < sizeof buf)
            n = (size_t)w;
    }
    n = add_frames(buf, n, sizeof buf, frames);
    if (n == 0 && g) {
        snprintf(buf, sizeof buf, "  %s()\n", go_name(g));
        *by_name = true;
    }
    return sched_intern(r->s, buf);
}

static size_t site_hash(const char *func, const char *file, int line, const char *frames)
{
    uint64_t h = (uint64_t)(uintptr_t)func * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)(uintptr_t)file * 0xff51afd7ed558ccdull;
    h ^= (uint64_t)(uintptr_t)frames * 0xc4ceb9fe1a85ec53ull;
    h ^= (uint64_t)(uint32_t)line * 0x632be59bd9b4e019ull;
    return (size_t)(h ^ (h >> 31));
}

/* g's code location: the C location (func NULL: none) and g's frames,
 * as the report prints them, interned. Formatted once per distinct
 * location and frames: the C strings are static, so their addresses
 * name them, and the frames' text is interned. */
static const char *site_of(race_t *r, g_t *g, const char *func, const char *file, int line)
{
    char fr[4096];
    fr[0] = 0;
    const char *frames = NULL;
    if (g && sched_frames(r->s, g, fr, sizeof fr))
        frames = sched_intern(r->s, fr);
    if (r->sitecap) {
        size_t mask = r->sitecap - 1;
        for (size_t j = site_hash(func, file, line, frames) & mask; r->sites[j].site; j = (j + 1) & mask) {
            const site_ent_t *e = &r->sites[j];
            if (e->func == func && e->file == file && e->line == line && e->frames == frames)
                return e->site;
        }
    }
    bool by_name;
    const char *site = site_format(r, g, func, file, line, frames, &by_name);
    if (by_name) /* the goroutine's name: not a property of the place */
        return site;
    if ((r->sitelen + 1) * 2 > r->sitecap) {
        size_t ncap = r->sitecap ? r->sitecap * 2 : 64;
        site_ent_t *n = xalloc(NULL, ncap * sizeof *n);
        memset(n, 0, ncap * sizeof *n);
        for (size_t i = 0; i < r->sitecap; i++) {
            const site_ent_t *e = &r->sites[i];
            if (!e->site)
                continue;
            size_t j = site_hash(e->func, e->file, e->line, e->frames) & (ncap - 1);
            while (n[j].site)
                j = (j + 1) & (ncap - 1);
            n[j] = *e;
        }
        free(r->sites);
        r->sites = n;
        r->sitecap = ncap;
    }
    size_t j = site_hash(func, file, line, frames) & (r->sitecap - 1);
    while (r->sites[j].site)
        j = (j + 1) & (r->sitecap - 1);
    r->sites[j] = (site_ent_t){func, file, frames, line, site};
    r->sitelen++;
    return site;
}

/* The first location of a site ("sim/patterns/contention.c:62"), for
 * telling pairs apart. */
static const char *top_of(race_t *r, const char *site)
{
    if (!site)
        return "";
    const char *p = strstr(site, "\n      ");
    if (!p)
        return site;
    p += 7;
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char buf[512];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, p, len);
    buf[len] = 0;
    return sched_intern(r->s, buf);
}

/* ---- reports ------------------------------------------------------------ */

static void who(race_t *r, uint64_t gid, char *buf, size_t size)
{
    if (gid == 1) {
        snprintf(buf, size, "main goroutine");
        return;
    }
    const rgo_t *g = gid < r->ngs ? &r->gs[gid] : NULL;
    snprintf(buf, size, "goroutine %llu (%s)", (unsigned long long)gid,
             g && g->name ? g->name : "?");
}

static void created_block(race_t *r, FILE *f, uint64_t gid)
{
    if (gid <= 1)
        return;
    const rgo_t *g = gid < r->ngs ? &r->gs[gid] : NULL;
    fprintf(f, "\nGoroutine %llu (%s, %s) created at:\n", (unsigned long long)gid,
            g && g->name ? g->name : "?", g && g->finished ? "finished" : "running");
    fputs(g && g->created ? g->created : "  ?()\n", f);
}

static bool seen_pair(race_t *r, const char *a, const char *b)
{
    if (strcmp(a, b) > 0) {
        const char *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < r->npairs; i++)
        if (r->pairs[i].a == a && r->pairs[i].b == b)
            return true;
    if (r->npairs == r->cappairs) {
        r->cappairs = r->cappairs ? r->cappairs * 2 : 16;
        r->pairs = xalloc(r->pairs, r->cappairs * sizeof *r->pairs);
    }
    r->pairs[r->npairs++] = (pair_t){a, b};
    return false;
}

/* A channel's state as a variable (a send against a close). Its name
 * ("channel jobs") is made only if a report prints it: chan_lazy marks
 * it, chan_name keeps what it is made of. */
static const char chan_lazy[] = "channel";

static race_var_t *chan_state(race_t *r, uint64_t chan, const char *name)
{
    rsync_t *m = sync_get(r, chan, SUB_META);
    if (!m->state.name) {
        m->state.name = chan_lazy;
        m->chan_name = name;
    }
    return &m->state;
}

/* The name a report prints for v. */
static const char *var_name(race_t *r, race_var_t *v)
{
    if (v->name != chan_lazy)
        return v->name ? v->name : "?";
    rsync_t *m = (rsync_t *)((char *)v - offsetof(rsync_t, state));
    char buf[160];
    if (m->chan_name)
        snprintf(buf, sizeof buf, "channel %s", m->chan_name);
    else
        snprintf(buf, sizeof buf, "channel #%llu", (unsigned long long)m->obj);
    v->name = sched_intern(r->s, buf);
    return v->name;
}

static void report(race_t *r, race_var_t *v, bool write, uint64_t tid, const char *site,
                   bool prev_write, uint64_t prev_tid, const char *prev_site)
{
    const char *ta = top_of(r, site), *tb = top_of(r, prev_site);
    if (v->reported || seen_pair(r, ta, tb))
        return;
    v->reported = true;
    r->nreports++;
    const char *name = var_name(r, v);
    char w1[160], w2[160];
    who(r, tid, w1, sizeof w1);
    who(r, prev_tid, w2, sizeof w2);
    if (r->nreports == 1) {
        size_t len = strlen(name) + strlen(w1) + strlen(w2) + strlen(ta) + strlen(tb) + 96;
        free(r->first);
        r->first = xalloc(NULL, len);
        snprintf(r->first, len, "DATA RACE on %s: %s at %s by %s, previous %s at %s by %s", name,
                 write ? "write" : "read", ta, w1, prev_write ? "write" : "read", tb, w2);
    }
    FILE *f = r->out;
    if (!f)
        return;
    fputs("==================\nWARNING: DATA RACE\n", f);
    fprintf(f, "%s at %s by %s:\n%s", write ? "Write" : "Read", name, w1, site ? site : "");
    fprintf(f, "\nPrevious %s at %s by %s:\n%s", prev_write ? "write" : "read", name, w2,
            prev_site ? prev_site : "");
    created_block(r, f, tid);
    if (prev_tid != tid)
        created_block(r, f, prev_tid);
    fputs("==================\n", f);
    fflush(f);
}

/* ---- accesses ----------------------------------------------------------- */

static void var_fresh(race_t *r, race_var_t *v)
{
    if (v->gen == r->gen)
        return;
    v->gen = r->gen;
    v->w_tid = v->w_clk = v->r_tid = v->r_clk = 0;
    v->w_gid = v->r_gid = 0;
    v->w_site = v->r_site = NULL;
    v->rs = NULL;
    v->reported = false;
    v->id = ++r->next_var;
}

static struct race_reads *reads_new(race_t *r)
{
    struct race_reads *rs = xalloc(NULL, sizeof *rs);
    memset(rs, 0, sizeof *rs);
    rs->next_all = r->reads_all;
    r->reads_all = rs;
    return rs;
}

/* tid's entry in rs, NULL if none (an index by thread id: a variable that
 * every request reads has as many entries as goroutines run at once). */
static inline read_ent_t *reads_of(const struct race_reads *rs, uint32_t tid)
{
    return tid < rs->nat && rs->at[tid] ? &rs->e[rs->at[tid] - 1] : NULL;
}

static void reads_clear(struct race_reads *rs)
{
    for (uint32_t i = 0; i < rs->n; i++)
        rs->at[rs->e[i].tid] = 0;
    rs->n = 0;
}

static void reads_set(struct race_reads *rs, uint32_t tid, uint32_t clk, const char *site,
                      uint64_t gid)
{
    read_ent_t *x = reads_of(rs, tid);
    if (x) {
        x->clk = clk;
        x->site = site;
        x->gid = gid;
        return;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 4;
        rs->e = xalloc(rs->e, rs->cap * sizeof *rs->e);
    }
    if (tid >= rs->nat) {
        uint32_t nat = rs->nat ? rs->nat : 16;
        while (nat <= tid)
            nat *= 2;
        rs->at = xalloc(rs->at, (size_t)nat * sizeof *rs->at);
        memset(rs->at + rs->nat, 0, (size_t)(nat - rs->nat) * sizeof *rs->at);
        rs->nat = nat;
    }
    rs->e[rs->n++] = (read_ent_t){tid, clk, site, gid};
    rs->at[tid] = rs->n;
}

void race_read_slow(race_var_t *v, const char *func, const char *file, int line)
{
    race_t *r = race_active;
    g_t *g = go_self();
    if (!g)
        return;
    uint32_t tid;
    vc_t *c = actor(r, g, &tid);
    var_fresh(r, v);
    uint32_t e = vc_get(c, tid);
    if (v->r_tid == tid && v->r_clk == e)
        return;
    if (v->r_tid == RACE_SHARED) {
        const read_ent_t *x = reads_of(v->rs, tid);
        if (x && x->clk == e)
            return;
    }
    const char *site = site_of(r, g, func, file, line);
    uint64_t gid = go_id(g);
    if (v->w_clk && v->w_tid != tid && v->w_clk > vc_get(c, v->w_tid))
        report(r, v, false, gid, site, true, v->w_gid, v->w_site);
    if (v->r_tid == RACE_SHARED) {
        reads_set(v->rs, tid, e, site, gid);
    } else if (v->r_clk == 0 || v->r_tid == tid || v->r_clk <= vc_get(c, v->r_tid)) {
        v->r_tid = tid;
        v->r_clk = e;
        v->r_site = site;
        v->r_gid = gid;
    } else {
        if (!v->rs)
            v->rs = reads_new(r);
        reads_clear(v->rs);
        reads_set(v->rs, v->r_tid, v->r_clk, v->r_site, v->r_gid);
        reads_set(v->rs, tid, e, site, gid);
        v->r_tid = RACE_SHARED;
        v->r_clk = 0;
        v->r_site = NULL;
    }
}

void race_write_slow(race_var_t *v, const char *func, const char *file, int line)
{
    race_t *r = race_active;
    g_t *g = go_self();
    if (!g)
        return;
    uint32_t tid;
    vc_t *c = actor(r, g, &tid);
    var_fresh(r, v);
    uint32_t e = vc_get(c, tid);
    if (v->w_tid == tid && v->w_clk == e && v->r_clk == 0 && v->r_tid != RACE_SHARED)
        return;
    const char *site = site_of(r, g, func, file, line);
    uint64_t gid = go_id(g);
    if (v->w_clk && v->w_tid != tid && v->w_clk > vc_get(c, v->w_tid)) {
        report(r, v, true, gid, site, true, v->w_gid, v->w_site);
    } else if (v->r_tid == RACE_SHARED) {
        for (uint32_t i = 0; i < v->rs->n; i++) {
            read_ent_t *x = &v->rs->e[i];
            if (x->tid != tid && x->clk > vc_get(c, x->tid)) {
                report(r, v, true, gid, site, false, x->gid, x->site);
                break;
            }
        }
    } else if (v->r_clk && v->r_tid != tid && v->r_clk > vc_get(c, v->r_tid)) {
        report(r, v, true, gid, site, false, v->r_gid, v->r_site);
    }
    v->w_tid = tid;
    v->w_clk = e;
    v->w_site = site;
    v->w_gid = gid;
    v->r_tid = v->r_clk = 0;
    v->r_site = NULL;
}

/* ---- goroutines --------------------------------------------------------- */

void race_go_start_slow(g_t *parent, g_t *child)
{
    race_t *r = race_active;
    const char *site = parent ? site_of(r, parent, NULL, NULL, 0) : NULL;
    uint32_t pslot = parent ? rgo_of(r, parent)->slot : 0;
    rgo_t *c = rgo_get(r, go_id(child));
    uint32_t own = 0;
    if (parent && !c->slot) { /* its clock is the creator's: nothing to clear first */
        c->slot = slot_take_bare(r);
        own = r->slots[c->slot].last + 1;
    } else {
        c = rgo_of(r, child);
        own = vc_get(&r->slots[c->slot].vc, c->slot);
    }
    c->name = go_name(child);
    if (parent) {
        /* The child knows what its creator knew, then itself. */
        uint32_t t = c->slot;
        vc_copy(&r->slots[t].vc, &r->slots[pslot].vc);
        vc_set(&r->slots[t].vc, t, own);
        tick(&r->slots[pslot].vc, pslot);
        r->gs[go_id(child)].created = site;
    }
}

void race_go_end_slow(g_t *g)
{
    race_t *r = race_active;
    rgo_t *rg = rgo_of(r, g);
    rg->name = go_name(g);
    rg->finished = true;
    uint32_t t = rg->slot;
    r->slots[t].last = vc_get(&r->slots[t].vc, t);
    if (r->nfree == r->capfree) {
        r->capfree = r->capfree ? r->capfree * 2 : 64;
        r->free_slots = xalloc(r->free_slots, r->capfree * sizeof *r->free_slots);
    }
    r->free_slots[r->nfree++] = t;
}

/* ---- synchronisation ---------------------------------------------------- */

void race_acquire_slow(g_t *g, uint64_t obj, uint64_t sub)
{
    race_t *r = race_active;
    uint32_t tid;
    vc_t *c = actor(r, g, &tid);
    rsync_t *s = sync_find(r, obj, sub);
    if (c && s)
        vc_join(c, &s->vc);
}

void race_release_slow(g_t *g, uint64_t obj, uint64_t sub)
{
    race_t *r = race_active;
    uint32_t tid;
    vc_t *c = actor(r, g, &tid);
    if (!c)
        return;
    rsync_t *s = sync_get(r, obj, sub);
    vc_copy(&s->vc, c);
    tick(c, tid);
}

void race_release_merge_slow(g_t *g, uint64_t obj, uint64_t sub)
{
    race_t *r = race_active;
    uint32_t tid;
    vc_t *c = actor(r, g, &tid);
    if (!c)
        return;
    rsync_t *s = sync_get(r, obj, sub);
    if (s->vc.n == 0)
        vc_copy(&s->vc, c); /* the first release: the same, at the exact size */
    else
        vc_join(&s->vc, c);
    tick(c, tid);
}

void race_atomic_slow(race_var_t *v, race_atomic_op_t op)
{
    race_t *r = race_active;
    var_fresh(r, v);
    switch (op) {
    case RACE_LOAD:
        race_acquire_slow(NULL, 0, v->id);
        break;
    case RACE_STORE:
        race_release_slow(NULL, 0, v->id);
        break;
    case RACE_RMW:
        race_acquire_slow(NULL, 0, v->id);
        race_release_merge_slow(NULL, 0, v->id);
        break;
    }
}

void race_chan_buffered_slow(g_t *g, uint64_t chan, int64_t cap, bool send)
{
    race_t *r = race_active;
    rsync_t *m = sync_get(r, chan, SUB_META);
    uint64_t k = send ? m->nsend++ : m->nrecv++;
    uint64_t slot = cap > 0 ? k % (uint64_t)cap : 0;
    /* Go's racenotify: acquire and release the slot's clock. */
    race_acquire_slow(g, chan, SUB_SLOT + slot);
    race_release_slow(g, chan, SUB_SLOT + slot);
}

void race_chan_sync_slow(g_t *sender, g_t *receiver, uint64_t chan)
{
    /* Go's racesync: both ways, through the channel's slot 0. */
    race_release_slow(sender, chan, SUB_SLOT);
    race_acquire_slow(receiver, chan, SUB_SLOT);
    race_release_slow(receiver, chan, SUB_SLOT);
    race_acquire_slow(sender, chan, SUB_SLOT);
}

void race_chan_close_slow(uint64_t chan, const char *name)
{
    race_t *r = race_active;
    race_write_slow(chan_state(r, chan, name), "runtime.closechan", NULL, 0);
    race_release_slow(NULL, chan, SUB_CLOSE);
}

void race_chan_send_check_slow(uint64_t chan, const char *name)
{
    race_t *r = race_active;
    race_read_slow(chan_state(r, chan, name), "runtime.chansend", NULL, 0);
}

void race_proxy_begin(uint64_t obj, uint64_t sub)
{
    race_t *r = race_active;
    if (!r)
        return;
    r->proxy = true;
    r->proxy_obj = obj;
    r->proxy_sub = sub;
}

void race_proxy_end(void)
{
    if (race_active)
        race_active->proxy = false;
}
