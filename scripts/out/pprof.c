/*
 * pprof: Go's goroutine, mutex and block profiles of a run (see pprof.h).
 *
 * Collection: a trace sink sees each goroutine block (go.block: the
 * goroutine, its wait reason) while the blocking goroutine is still
 * running, takes its stack there, and sees the wake (go.wake) that ends
 * the wait; the delay between them goes to the block profile, and to the
 * mutex profile for locks. The goroutine profile is taken after the run
 * from the goroutines still alive.
 *
 * Stacks are interned: a frame (function, file) is a Function, a frame at
 * a line a Location, a list of Locations a stack; each gets the next id
 * when first seen, so ids, and the file's bytes, follow the run's order.
 *
 * Encoding: a small protobuf writer (varints, length-delimited fields) for
 * the messages of profile.proto that Go's runtime/pprof writes: Profile,
 * ValueType, Sample, Label, Mapping, Location, Line, Function; zlib's deflate with
 * a gzip wrapper (mtime 0) compresses it.
 */
#include "pprof.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "mem.h"
#include "outputs.h"

/* ---- interning byte strings ---------------------------------------------- */

typedef struct interner {
    char **keys;      /* by index, in insertion order */
    size_t *lens;
    size_t n, cap;
    uint32_t *slots;  /* open addressing: index + 1, 0 empty */
    size_t nslots;
} interner_t;

static uint64_t hash_bytes(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void intern_grow(interner_t *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 256;
    uint32_t *slots = mem_calloc(ns, sizeof *slots);
    for (size_t i = 0; i < t->n; i++) {
        size_t j = hash_bytes(t->keys[i], t->lens[i]) & (ns - 1);
        while (slots[j])
            j = (j + 1) & (ns - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
}

/* The index of key, added if new. */
static uint32_t intern(interner_t *t, const void *key, size_t len)
{
    if ((t->n + 1) * 2 > t->nslots)
        intern_grow(t);
    size_t j = hash_bytes(key, len) & (t->nslots - 1);
    while (t->slots[j]) {
        uint32_t i = t->slots[j] - 1;
        if (t->lens[i] == len && memcmp(t->keys[i], key, len) == 0)
            return i;
        j = (j + 1) & (t->nslots - 1);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->keys = mem_realloc(t->keys, t->cap * sizeof *t->keys);
        t->lens = mem_realloc(t->lens, t->cap * sizeof *t->lens);
    }
    char *copy = mem_malloc(len + 1);
    memcpy(copy, key, len);
    copy[len] = 0;
    t->keys[t->n] = copy;
    t->lens[t->n] = len;
    t->slots[j] = (uint32_t)t->n + 1;
    return (uint32_t)t->n++;
}

static uint32_t intern_str(interner_t *t, const char *s)
{
    return intern(t, s, strlen(s));
}

static void intern_free(interner_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->lens);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- the profiles' data ---------------------------------------------------- */

#define MAX_FRAMES 64

typedef struct func_key {
    uint32_t name, file; /* string indexes */
} func_key_t;

typedef struct loc_key {
    uint32_t func;       /* function index */
    int32_t line;
} loc_key_t;

typedef struct pending {
    int64_t since;       /* simulated time of the block */
    uint32_t stack;      /* stack index */
    uint8_t reason;      /* wait_reason_t */
    bool waiting;
} pending_t;

typedef struct counts {
    int64_t *count, *delay; /* by stack index (block, mutex) or sample key (goroutine) */
    size_t cap;
} counts_t;

struct pprof {
    char *dir;
    interner_t strings;  /* index 0 is "" */
    interner_t funcs;    /* func_key_t */
    interner_t locs;     /* loc_key_t */
    interner_t stacks;   /* arrays of location indexes, innermost first */
    interner_t gkeys;    /* goroutine samples: {stack, reason} */
    pending_t *pending;  /* by goroutine id */
    size_t npending;
    counts_t block, mutex, gor;
};

/* The Go function a goroutine waits in, as the innermost frame. */
static const char *wait_function(wait_reason_t r)
{
    switch (r) {
    case WAIT_CHAN_RECV:
    case WAIT_CHAN_RECV_NIL: return "runtime.chanrecv";
    case WAIT_CHAN_SEND:
    case WAIT_CHAN_SEND_NIL: return "runtime.chansend";
    case WAIT_SELECT:
    case WAIT_SELECT_NO_CASES: return "runtime.selectgo";
    case WAIT_SLEEP: return "time.Sleep";
    case WAIT_SEMACQUIRE: return "runtime.semacquire";
    case WAIT_COND: return "sync.(*Cond).Wait";
    case WAIT_MUTEX: return "sync.(*Mutex).Lock";
    case WAIT_RWMUTEX_RLOCK: return "sync.(*RWMutex).RLock";
    case WAIT_RWMUTEX_LOCK: return "sync.(*RWMutex).Lock";
    case WAIT_WAITGROUP: return "sync.(*WaitGroup).Wait";
    case WAIT_CPU: return "chansim.work";
    case WAIT_EXTERNAL: return "chansim.wait";
    case WAIT_WORLD: return "chansim.run";
    default: return NULL;
    }
}

/* Go's block profile: channel operations, select, sync's waits (not
 * sleeps, CPU or the simulated network). */
static bool is_block(wait_reason_t r)
{
    switch (r) {
    case WAIT_CHAN_RECV:
    case WAIT_CHAN_SEND:
    case WAIT_CHAN_RECV_NIL:
    case WAIT_CHAN_SEND_NIL:
    case WAIT_SELECT:
    case WAIT_SELECT_NO_CASES:
    case WAIT_SEMACQUIRE:
    case WAIT_COND:
    case WAIT_MUTEX:
    case WAIT_RWMUTEX_RLOCK:
    case WAIT_RWMUTEX_LOCK:
    case WAIT_WAITGROUP: return true;
    default: return false;
    }
}

/* Go's mutex profile: sync.Mutex and sync.RWMutex. */
static bool is_mutex(wait_reason_t r)
{
    return r == WAIT_MUTEX || r == WAIT_RWMUTEX_RLOCK || r == WAIT_RWMUTEX_LOCK;
}

static uint32_t location(pprof_t *p, const char *func, const char *file, int line)
{
    func_key_t fk = {intern_str(&p->strings, func), intern_str(&p->strings, file)};
    loc_key_t lk = {intern(&p->funcs, &fk, sizeof fk), line};
    return intern(&p->locs, &lk, sizeof lk);
}

/* A C goroutine's frame: its name without the number that tells its
 * copies apart ("pool.worker-3" -> "pool.worker"). */
static void c_name(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s", name && *name ? name : "goroutine");
    size_t n = strlen(buf);
    size_t end = n;
    while (end > 0 && buf[end - 1] >= '0' && buf[end - 1] <= '9')
        end--;
    if (end > 0 && end < n && (buf[end - 1] == '-' || buf[end - 1] == ' ' || buf[end - 1] == '#'))
        buf[end - 1] = 0;
}

static uint32_t stack_of(pprof_t *p, g_t *g, wait_reason_t reason)
{
    uint32_t locs[MAX_FRAMES + 1];
    int n = 0;
    const char *wf = wait_function(reason);
    if (wf)
        locs[n++] = location(p, wf, "", 0);
    host_frame_t frames[MAX_FRAMES];
    int nf = host_goroutine_frames(g, frames, MAX_FRAMES);
    for (int i = 0; i < nf; i++)
        locs[n++] = location(p, frames[i].func, frames[i].file, frames[i].line);
    if (nf == 0) {
        char name[128];
        c_name(go_name(g), name, sizeof name);
        locs[n++] = location(p, name, "", 0);
    }
    return intern(&p->stacks, locs, (size_t)n * sizeof locs[0]);
}

static void counts_add(counts_t *c, uint32_t i, int64_t count, int64_t delay)
{
    if (i >= c->cap) {
        size_t nc = c->cap ? c->cap : 64;
        while (nc <= i)
            nc *= 2;
        c->count = mem_realloc(c->count, nc * sizeof *c->count);
        c->delay = mem_realloc(c->delay, nc * sizeof *c->delay);
        memset(c->count + c->cap, 0, (nc - c->cap) * sizeof *c->count);
        memset(c->delay + c->cap, 0, (nc - c->cap) * sizeof *c->delay);
        c->cap = nc;
    }
    c->count[i] += count;
    c->delay[i] += delay;
}

static void sink(void *ud, const trace_event_t *ev)
{
    pprof_t *p = ud;
    if (ev->kind == EV_GO_BLOCK) {
        wait_reason_t r = (wait_reason_t)ev->a;
        g_t *g = go_self();
        if (!is_block(r) || !g || go_id(g) != ev->g)
            return;
        if (ev->g >= p->npending) {
            size_t nn = p->npending ? p->npending : 256;
            while (nn <= ev->g)
                nn *= 2;
            pending_t *np = mem_realloc(p->pending, nn * sizeof *np);
            memset(np + p->npending, 0, (nn - p->npending) * sizeof *np);
            p->pending = np;
            p->npending = nn;
        }
        pending_t *w = &p->pending[ev->g];
        w->since = ev->t;
        w->stack = stack_of(p, g, r);
        w->reason = (uint8_t)r;
        w->waiting = true;
    } else if (ev->kind == EV_GO_WAKE) {
        if (ev->obj >= p->npending || !p->pending[ev->obj].waiting)
            return;
        pending_t *w = &p->pending[ev->obj];
        w->waiting = false;
        int64_t delay = ev->t - w->since;
        counts_add(&p->block, w->stack, 1, delay);
        if (is_mutex((wait_reason_t)w->reason))
            counts_add(&p->mutex, w->stack, 1, delay);
    }
}

pprof_t *pprof_attach(host_t *h, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            fprintf(stderr, "chansim: --pprof %s: not a folder\n", dir);
            return NULL;
        }
    } else if (mkdir(dir, 0777) != 0) {
        fprintf(stderr, "chansim: --pprof: cannot create the folder %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    pprof_t *p = mem_calloc(1, sizeof *p);
    p->dir = mem_strdup(dir);
    intern_str(&p->strings, "");
    if (!host_add_sink(h, sink, p)) {
        fprintf(stderr, "chansim: --pprof: too many outputs\n");
        pprof_free(p);
        return NULL;
    }
    return p;
}

/* ---- protobuf ------------------------------------------------------------ */

typedef struct pb {
    uint8_t *b;
    size_t n, cap;
} pb_t;

static void pb_put(pb_t *pb, const void *data, size_t len)
{
    if (pb->n + len > pb->cap) {
        size_t nc = pb->cap ? pb->cap : 1024;
        while (nc < pb->n + len)
            nc *= 2;
        pb->b = mem_realloc(pb->b, nc);
        pb->cap = nc;
    }
    memcpy(pb->b + pb->n, data, len);
    pb->n += len;
}

static void pb_varint(pb_t *pb, uint64_t v)
{
    uint8_t buf[10];
    size_t n = 0;
    do {
        buf[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            buf[n] |= 0x80;
        n++;
    } while (v);
    pb_put(pb, buf, n);
}

/* field = varint (wire type 0); zero is the default and is left out. */
static void pb_int(pb_t *pb, int field, int64_t v)
{
    if (v == 0)
        return;
    pb_varint(pb, (uint64_t)field << 3);
    pb_varint(pb, (uint64_t)v);
}

/* field = bytes (wire type 2). */
static void pb_bytes(pb_t *pb, int field, const void *data, size_t len)
{
    pb_varint(pb, (uint64_t)field << 3 | 2);
    pb_varint(pb, len);
    pb_put(pb, data, len);
}

/* field = an embedded message, then the message buffer is emptied. */
static void pb_msg(pb_t *pb, int field, pb_t *sub)
{
    pb_bytes(pb, field, sub->b, sub->n);
    sub->n = 0;
}

/* field = packed repeated varints. */
static void pb_packed(pb_t *pb, int field, pb_t *tmp, const int64_t *v, size_t n)
{
    tmp->n = 0;
    for (size_t i = 0; i < n; i++)
        pb_varint(tmp, (uint64_t)v[i]);
    pb_msg(pb, field, tmp);
}

/* ValueType { type = 1, unit = 2 } */
static void value_type(pprof_t *p, pb_t *pb, int field, pb_t *tmp, const char *type, const char *unit)
{
    tmp->n = 0;
    pb_int(tmp, 1, intern_str(&p->strings, type));
    pb_int(tmp, 2, intern_str(&p->strings, unit));
    pb_msg(pb, field, tmp);
}

typedef enum { PROF_GOROUTINE, PROF_MUTEX, PROF_BLOCK } prof_kind_t;

typedef struct gkey {
    uint32_t stack;
    uint32_t reason;
} gkey_t;

/* Profile (profile.proto): sample_type = 1, sample = 2, mapping = 3, location = 4,
 * function = 5, string_table = 6, duration_nanos = 10, period_type = 11,
 * period = 12, comment = 13, default_sample_type = 14. */
static void encode(pprof_t *p, prof_kind_t kind, int64_t duration, const char *comment, pb_t *out)
{
    pb_t tmp = {0}, sub = {0}, sub2 = {0};
    const counts_t *c = kind == PROF_GOROUTINE ? &p->gor : kind == PROF_MUTEX ? &p->mutex : &p->block;
    size_t nsamples = kind == PROF_GOROUTINE ? p->gkeys.n : p->stacks.n;
    /* The string table is written last (its strings are interned while the
     * rest is encoded), so the rest goes to body first. */
    pb_t body = {0};
    if (kind == PROF_GOROUTINE) {
        value_type(p, &body, 1, &tmp, "goroutine", "count");
    } else {
        value_type(p, &body, 1, &tmp, "contentions", "count");
        value_type(p, &body, 1, &tmp, "delay", "nanoseconds");
    }
    uint32_t label_key = intern_str(&p->strings, "wait_reason");
    for (size_t i = 0; i < nsamples && i < c->cap; i++) {
        if (!c->count[i])
            continue;
        uint32_t stack = (uint32_t)i;
        const gkey_t *gk = NULL;
        if (kind == PROF_GOROUTINE) {
            gk = (const gkey_t *)p->gkeys.keys[i];
            stack = gk->stack;
        }
        const uint32_t *locs = (const uint32_t *)p->stacks.keys[stack];
        size_t nl = p->stacks.lens[stack] / sizeof *locs;
        int64_t ids[MAX_FRAMES + 1];
        for (size_t k = 0; k < nl; k++)
            ids[k] = (int64_t)locs[k] + 1;
        sub.n = 0;
        pb_packed(&sub, 1, &tmp, ids, nl); /* Sample.location_id */
        int64_t vals[2] = {c->count[i], c->delay[i]};
        pb_packed(&sub, 2, &tmp, vals, kind == PROF_GOROUTINE ? 1 : 2); /* Sample.value */
        if (gk) { /* Label { key = 1, str = 2 } */
            wait_reason_t r = (wait_reason_t)gk->reason;
            sub2.n = 0;
            pb_int(&sub2, 1, label_key);
            pb_int(&sub2, 2, intern_str(&p->strings, r == WAIT_NONE ? "running" : wait_reason_string(r)));
            pb_msg(&sub, 3, &sub2);
        }
        pb_msg(&body, 2, &sub);
    }
    /* Mapping { id = 1, filename = 5, has_functions = 7, has_filenames = 8,
     * has_line_numbers = 9 }: one, the scenario, already symbolized (so
     * pprof looks for no binary). */
    sub.n = 0;
    pb_int(&sub, 1, 1);
    pb_int(&sub, 5, intern_str(&p->strings, "chansim"));
    pb_int(&sub, 7, 1);
    pb_int(&sub, 8, 1);
    pb_int(&sub, 9, 1);
    pb_msg(&body, 3, &sub);
    /* Location { id = 1, mapping_id = 2, line = 4 }, Line { function_id = 1, line = 2 } */
    for (size_t i = 0; i < p->locs.n; i++) {
        const loc_key_t *lk = (const loc_key_t *)p->locs.keys[i];
        sub.n = 0;
        pb_int(&sub, 1, (int64_t)i + 1);
        pb_int(&sub, 2, 1);
        sub2.n = 0;
        pb_int(&sub2, 1, (int64_t)lk->func + 1);
        pb_int(&sub2, 2, lk->line);
        pb_msg(&sub, 4, &sub2);
        pb_msg(&body, 4, &sub);
    }
    /* Function { id = 1, name = 2, system_name = 3, filename = 4 } */
    for (size_t i = 0; i < p->funcs.n; i++) {
        const func_key_t *fk = (const func_key_t *)p->funcs.keys[i];
        sub.n = 0;
        pb_int(&sub, 1, (int64_t)i + 1);
        pb_int(&sub, 2, fk->name);
        pb_int(&sub, 3, fk->name);
        pb_int(&sub, 4, fk->file);
        pb_msg(&body, 5, &sub);
    }
    pb_int(&body, 10, duration);
    if (kind == PROF_GOROUTINE)
        value_type(p, &body, 11, &tmp, "goroutine", "count");
    else
        value_type(p, &body, 11, &tmp, "contentions", "count");
    pb_int(&body, 12, 1);
    pb_int(&body, 13, intern_str(&p->strings, comment));
    if (kind != PROF_GOROUTINE)
        pb_int(&body, 14, intern_str(&p->strings, "delay"));
    /* string_table = 6: every string, "" first */
    out->n = 0;
    for (size_t i = 0; i < p->strings.n; i++)
        pb_bytes(out, 6, p->strings.keys[i], p->strings.lens[i]);
    pb_put(out, body.b, body.n);
    free(body.b);
    free(tmp.b);
    free(sub.b);
    free(sub2.b);
}

/* gzip (deflate with the gzip wrapper, mtime 0) data into f. */
static bool gzip_to(FILE *f, const uint8_t *data, size_t len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    uint8_t buf[16384];
    int rc;
    bool ok = true;
    do {
        zs.next_out = buf;
        zs.avail_out = sizeof buf;
        rc = deflate(&zs, Z_FINISH);
        size_t got = sizeof buf - zs.avail_out;
        if (rc == Z_STREAM_ERROR || fwrite(buf, 1, got, f) != got)
            ok = false;
    } while (ok && rc != Z_STREAM_END);
    deflateEnd(&zs);
    return ok;
}

typedef struct gwalk {
    pprof_t *p;
} gwalk_t;

static void take_goroutine(void *ud, g_t *g)
{
    pprof_t *p = ((gwalk_t *)ud)->p;
    wait_reason_t r = go_wait_reason(g);
    gkey_t k = {stack_of(p, g, r), (uint32_t)r};
    counts_add(&p->gor, intern(&p->gkeys, &k, sizeof k), 1, 0);
}

bool pprof_finish(pprof_t *p, host_t *h)
{
    sched_t *s = host_sched(h);
    if (!s)
        return false;
    gwalk_t gw = {p};
    sched_each_goroutine(s, take_goroutine, &gw);
    char comment[512];
    snprintf(comment, sizeof comment, "chansim: %s, seed %llu; simulated time", host_scenario_name(h),
             (unsigned long long)sched_seed(s));
    static const struct {
        prof_kind_t kind;
        const char *name;
    } files[] = {{PROF_GOROUTINE, "goroutine.pb.gz"}, {PROF_MUTEX, "mutex.pb.gz"}, {PROF_BLOCK, "block.pb.gz"}};
    bool ok = true;
    pb_t out = {0};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", p->dir, files[i].name);
        encode(p, files[i].kind, sched_now_of(s), comment, &out);
        atomic_file_t af;
        if (!atomic_open(&af, path)) {
            ok = false;
            break;
        }
        if (!gzip_to(af.f, out.b, out.n))
            af.failed = true;
        if (!atomic_commit(&af))
            ok = false;
    }
    free(out.b);
    return ok;
}

void pprof_free(pprof_t *p)
{
    if (!p)
        return;
    intern_free(&p->strings);
    intern_free(&p->funcs);
    intern_free(&p->locs);
    intern_free(&p->stacks);
    intern_free(&p->gkeys);
    free(p->pending);
    free(p->block.count);
    free(p->block.delay);
    free(p->mutex.count);
    free(p->mutex.delay);
    free(p->gor.count);
    free(p->gor.delay);
    free(p->dir);
    free(p);
}
