/* explain: the failing interleaving, explained (see explain.h). */
#include "explain.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "race.h"

/* A C access's site, formatted (on_access). */
#define EXPLAIN_SITES 64
typedef struct c_site {
    const char *func, *file;
    int line;
    char site[sizeof ((explain_step_t *)0)->site];
} c_site_t;

typedef struct gname {
    uint64_t id;
    char name[48];
    uint64_t blocked_on; /* the object of its last block while it waits, else 0 */
    bool waiting;
} gname_t;

struct explain {
    explain_step_t *steps; /* a ring of EXPLAIN_KEEP */
    size_t head, len;
    gname_t *gs;
    size_t ng, capg;
    size_t *gidx;   /* the goroutines by id (gfind) */
    size_t capidx;
    sched_t *s;
    c_site_t sites[EXPLAIN_SITES];
    char blocks[WAIT_REASON_COUNT][sizeof ((explain_step_t *)0)->op]; /* "blocks [...]" by reason */
};

explain_t *explain_new(void)
{
    explain_t *x = mem_calloc(1, sizeof *x);
    x->steps = mem_calloc(EXPLAIN_KEEP, sizeof *x->steps);
    return x;
}

void explain_free(explain_t *x)
{
    if (!x)
        return;
    free(x->steps);
    free(x->gs);
    free(x->gidx);
    free(x);
}

/* x->gidx: open addressing over x->gs by id (index + 1; 0 empty). */
static size_t gslot(const explain_t *x, uint64_t id)
{
    size_t mask = x->capidx - 1, j = (size_t)(id * 0x9e3779b97f4a7c15ull >> 17) & mask;
    while (x->gidx[j] && x->gs[x->gidx[j] - 1].id != id)
        j = (j + 1) & mask;
    return j;
}

static gname_t *gfind(explain_t *x, uint64_t id, bool add)
{
    if (x->capidx) {
        size_t j = gslot(x, id);
        if (x->gidx[j])
            return &x->gs[x->gidx[j] - 1];
    }
    if (!add)
        return NULL;
    if (x->ng == x->capg) {
        x->capg = x->capg ? x->capg * 2 : 64;
        x->gs = mem_realloc(x->gs, x->capg * sizeof *x->gs);
    }
    if ((x->ng + 1) * 2 > x->capidx) {
        free(x->gidx);
        x->capidx = x->capidx ? x->capidx * 2 : 128;
        x->gidx = mem_calloc(x->capidx, sizeof *x->gidx);
        for (size_t i = 0; i < x->ng; i++)
            x->gidx[gslot(x, x->gs[i].id)] = i + 1;
    }
    gname_t *g = &x->gs[x->ng++];
    memset(g, 0, sizeof *g);
    g->id = id;
    x->gidx[gslot(x, id)] = x->ng;
    return g;
}

/* snprintf(dst, size, "%s", src) without the formatter (a step per event). */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Appending to a bounded string as snprintf would have written it (cut at
 * size - 1): *len is the length so far, never past size - 1. */
static void put_str(char *dst, size_t size, size_t *len, const char *src)
{
    size_t n = strlen(src);
    if (n > size - 1 - *len)
        n = size - 1 - *len;
    memcpy(dst + *len, src, n);
    *len += n;
    dst[*len] = 0;
}

static void put_int(char *dst, size_t size, size_t *len, long long v)
{
    char d[24];
    size_t i = sizeof d;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    d[--i] = 0;
    do
        d[--i] = (char)('0' + u % 10);
    while ((u /= 10) && i > 1);
    if (v < 0)
        d[--i] = '-';
    put_str(dst, size, len, d + i);
}

/* "g<id>" */
static void g_word(char *dst, size_t size, uint64_t id)
{
    size_t len = 0;
    dst[0] = 0;
    put_str(dst, size, &len, "g");
    char d[24];
    size_t i = sizeof d;
    d[--i] = 0;
    do
        d[--i] = (char)('0' + id % 10);
    while ((id /= 10) && i > 0);
    put_str(dst, size, &len, d + i);
}

static explain_step_t *push(explain_t *x)
{
    size_t at = (x->head + x->len) % EXPLAIN_KEEP;
    if (x->len == EXPLAIN_KEEP)
        x->head = (x->head + 1) % EXPLAIN_KEEP;
    else
        x->len++;
    explain_step_t *st = &x->steps[at];
    st->obj = 0;
    st->who = 0;
    st->var[0] = 0;
    st->site[0] = 0;
    return st;
}

/* Where goroutine g (running) is in the scenario: its innermost Lua frame
 * outside chansim's prelude. */
static void __attribute__((noinline)) lua_site_of(g_t *g, char *buf, size_t size)
{
    host_frame_t fr[8];
    int n = host_goroutine_frames(g, fr, 8);
    for (int i = 0; i < n; i++) {
        if (strstr(fr[i].file, "prelude.lua"))
            continue;
        size_t len = 0;
        put_str(buf, size, &len, fr[i].file);
        put_str(buf, size, &len, ":");
        put_int(buf, size, &len, fr[i].line);
        return;
    }
}

/* seq: the events of the run so far (the step's place); self: the
 * running goroutine (NULL: none). */
static explain_step_t *add_step(explain_t *x, g_t *self, uint64_t seq, uint64_t g, const char *op,
                                uint64_t obj, const char *var)
{
    explain_step_t *st = push(x);
    st->seq = seq;
    sched_t *cur = sched_current();
    st->step = cur ? sched_steps(cur) : 0;
    st->g = g;
    copy_str(st->op, sizeof st->op, op);
    st->obj = obj;
    if (var)
        copy_str(st->var, sizeof st->var, var);
    if (self && go_id(self) == g && host_goroutine_is_lua(self))
        lua_site_of(self, st->site, sizeof st->site);
    return st;
}

static void on_event(void *ud, const trace_event_t *ev)
{
    explain_t *x = ud;
    uint64_t seq = ev->seq + 1;
    g_t *self = go_self();
    gname_t *gn;
    char op[40];
    switch (ev->kind) {
    case EV_GO_SPAWN:
        if ((gn = gfind(x, ev->obj, true)))
            copy_str(gn->name, sizeof gn->name, ev->detail ? ev->detail : "goroutine");
        if (ev->g)
            add_step(x, self, seq, ev->g, "go", 0, NULL)->who = ev->obj;
        break;
    case EV_GO_BLOCK:
        if ((gn = gfind(x, ev->g, true))) {
            gn->waiting = true;
            gn->blocked_on = ev->obj;
        }
        {
            /* "blocks [chan send]", made once per reason */
            bool known = ev->a >= 0 && ev->a < WAIT_REASON_COUNT;
            char *w = known ? x->blocks[ev->a] : op;
            if (!known || !w[0]) {
                size_t len = 0;
                w[0] = 0;
                put_str(w, sizeof op, &len, "blocks [");
                put_str(w, sizeof op, &len, wait_reason_string((wait_reason_t)ev->a));
                put_str(w, sizeof op, &len, "]");
            }
            add_step(x, self, seq, ev->g, w, ev->obj, NULL);
        }
        break;
    case EV_GO_WAKE: /* the only way out of a wait: a goroutine waits until woken */
        if (ev->g)
            add_step(x, self, seq, ev->g, "wakes", 0, NULL)->who = ev->obj;
        if ((gn = gfind(x, ev->obj, false)))
            gn->waiting = false;
        break;
    case EV_GO_YIELD:
        if (ev->a == 1) {
            add_step(x, self, seq, ev->g, "preempted", 0, NULL);
            /* told as the next goroutine's step starts: it ended the step before */
            explain_step_t *st = &x->steps[(x->head + x->len - 1) % EXPLAIN_KEEP];
            if (st->step)
                st->step--;
        }
        break;
    case EV_GO_EXIT:
        add_step(x, self, seq, ev->g, "exits", 0, NULL);
        break;
    case EV_CHAN_SEND:
        add_step(x, self, seq, ev->g, "send", ev->obj, NULL);
        break;
    case EV_CHAN_RECV:
        add_step(x, self, seq, ev->g, ev->b ? "recv" : "recv (closed)", ev->obj, NULL);
        break;
    case EV_CHAN_CLOSE:
        add_step(x, self, seq, ev->g, "close", ev->obj, NULL);
        break;
    case EV_LOCK:
        add_step(x, self, seq, ev->g, ev->a ? "RLock" : "Lock", ev->obj, NULL);
        break;
    case EV_UNLOCK:
        add_step(x, self, seq, ev->g, ev->a ? "RUnlock" : "Unlock", ev->obj, NULL);
        break;
    case EV_CTX_CANCEL:
        add_step(x, self, seq, ev->g, "cancel", ev->obj, NULL);
        break;
    case EV_PANIC:
    case EV_FATAL:
        add_step(x, self, seq, ev->g, ev->kind == EV_PANIC ? "panic" : "fatal", 0,
                 ev->detail ? ev->detail : NULL);
        break;
    default:
        break;
    }
}

/* "func (file.c:line)", the site of a C access without Lua frames. */
static void c_site(char *buf, size_t size, const char *func, const char *file, int line)
{
    const char *base = file ? strrchr(file, '/') : NULL;
    size_t len = 0;
    buf[0] = 0;
    put_str(buf, size, &len, func);
    put_str(buf, size, &len, " (");
    put_str(buf, size, &len, base ? base + 1 : file ? file : "?");
    put_str(buf, size, &len, ":");
    put_int(buf, size, &len, line);
    put_str(buf, size, &len, ")");
}

static void on_access(void *ud, const char *var, const char *op, const char *func,
                      const char *file, int line)
{
    explain_t *x = ud;
    g_t *g = go_self();
    if (!g)
        return;
    sched_t *cur = sched_current();
    add_step(x, g, cur ? sched_trace_events(cur) : 0, go_id(g), op, 0, var);
    explain_step_t *st = &x->steps[(x->head + x->len - 1) % EXPLAIN_KEEP];
    if (!st->site[0] && func) {
        /* formatted once per place: a cache by the place's static strings */
        size_t k = (size_t)(((uintptr_t)func ^ (uintptr_t)file * 31u ^ (uintptr_t)line * 0x9e3779b9u) >> 4) %
                   EXPLAIN_SITES;
        c_site_t *c = &x->sites[k];
        if (c->func != func || c->file != file || c->line != line || !c->func) {
            c->func = func;
            c->file = file;
            c->line = line;
            c_site(c->site, sizeof c->site, func, file, line);
        }
        memcpy(st->site, c->site, sizeof st->site);
    }
}

bool explain_attach(explain_t *x, host_t *h)
{
    shared_set_observer(on_access, x);
    /* only the kinds on_event tells */
    uint64_t kinds = 0;
    static const trace_kind_t told[] = {EV_GO_SPAWN, EV_GO_BLOCK, EV_GO_WAKE, EV_GO_YIELD,
                                        EV_GO_EXIT, EV_CHAN_SEND, EV_CHAN_RECV, EV_CHAN_CLOSE,
                                        EV_LOCK, EV_UNLOCK, EV_CTX_CANCEL, EV_PANIC, EV_FATAL};
    for (size_t i = 0; i < sizeof told / sizeof told[0]; i++)
        kinds |= (uint64_t)1 << told[i];
    return host_add_sink_kinds(h, on_event, x, kinds);
}

static const char *kind_word(trace_obj_kind_t k)
{
    switch (k) {
    case OBJ_CHAN: return "chan";
    case OBJ_MUTEX: return "mutex";
    case OBJ_RWMUTEX: return "rwmutex";
    case OBJ_WAITGROUP: return "waitgroup";
    case OBJ_ONCE: return "once";
    case OBJ_COND: return "cond";
    case OBJ_SEMAPHORE: return "semaphore";
    case OBJ_CONTEXT: return "context";
    default: return "object";
    }
}

/* The distinct objects the kept steps name, in an open-addressed table by
 * id, each with its name once found among the live objects: one pass
 * over the steps, one over the live objects (a lookup each), one more
 * over the steps to copy the names. */
typedef struct obj_name {
    uint64_t obj;              /* 0: an empty entry */
    char name[sizeof ((explain_step_t *)0)->var];
} obj_name_t;

typedef struct namer {
    obj_name_t *tab;
    size_t cap;                /* a power of two */
} namer_t;

static obj_name_t *namer_slot(const namer_t *nm, uint64_t obj)
{
    size_t mask = nm->cap - 1, j = (size_t)(obj * 0x9e3779b97f4a7c15ull >> 17) & mask;
    while (nm->tab[j].obj && nm->tab[j].obj != obj)
        j = (j + 1) & mask;
    return &nm->tab[j];
}

static void name_object(void *ud, obj_t *o)
{
    namer_t *nm = ud;
    obj_name_t *e = namer_slot(nm, o->id);
    if (!e->obj)
        return;
    if (o->name) {
        copy_str(e->name, sizeof e->name, o->name);
    } else {
        size_t len = 0;
        e->name[0] = 0;
        put_str(e->name, sizeof e->name, &len, kind_word(o->kind));
        put_str(e->name, sizeof e->name, &len, "#");
        put_int(e->name, sizeof e->name, &len, (long long)o->id);
    }
}

void explain_detach(explain_t *x, host_t *h)
{
    shared_set_observer(NULL, NULL);
    for (size_t i = 0; i < x->len; i++) { /* the goroutines steps name: "g7" */
        explain_step_t *st = &x->steps[(x->head + i) % EXPLAIN_KEEP];
        if (st->who)
            g_word(st->var, sizeof st->var, st->who);
    }
    /* The objects' names; "#id" for an object no longer alive. */
    namer_t nm = {0};
    size_t n = 0;
    for (size_t i = 0; i < x->len; i++)
        n += x->steps[(x->head + i) % EXPLAIN_KEEP].obj != 0;
    if (!n)
        return;
    nm.cap = 16;
    while (nm.cap < 2 * n)
        nm.cap *= 2;
    nm.tab = mem_calloc(nm.cap, sizeof *nm.tab);
    for (size_t i = 0; i < x->len; i++) {
        explain_step_t *st = &x->steps[(x->head + i) % EXPLAIN_KEEP];
        if (st->obj && !st->var[0]) {
            obj_name_t *e = namer_slot(&nm, st->obj);
            if (!e->obj) {
                e->obj = st->obj;
                size_t len = 0;
                e->name[0] = 0;
                put_str(e->name, sizeof e->name, &len, "#");
                put_int(e->name, sizeof e->name, &len, (long long)st->obj);
            }
        }
    }
    sched_t *s = host_sched(h);
    if (s)
        sched_each_object(s, name_object, &nm);
    for (size_t i = 0; i < x->len; i++) {
        explain_step_t *st = &x->steps[(x->head + i) % EXPLAIN_KEEP];
        if (st->obj && !st->var[0])
            memcpy(st->var, namer_slot(&nm, st->obj)->name, sizeof st->var);
    }
    free(nm.tab);
}

static const explain_step_t *step_at(const explain_t *x, size_t i)
{
    return &x->steps[(x->head + i) % EXPLAIN_KEEP];
}

/* ---- what the failure involves ------------------------------------------ */

#define MAX_INVOLVED 32

typedef struct involved {
    char names[MAX_INVOLVED][64];
    int n;
} involved_t;

static void inv_add(involved_t *v, const char *name)
{
    if (!name || !name[0])
        return;
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->names[i], name) == 0)
            return;
    if (v->n < MAX_INVOLVED)
        snprintf(v->names[v->n++], sizeof v->names[0], "%s", name);
}

static bool inv_has(const involved_t *v, const char *name)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->names[i], name) == 0)
            return true;
    return false;
}

static bool is_access(const explain_step_t *st)
{
    return !st->obj && st->var[0] &&
           (strcmp(st->op, "read") == 0 || strcmp(st->op, "write") == 0 ||
            strncmp(st->op, "atomic.", 7) == 0);
}

/* Names touched by two goroutines or more; accesses only if shared_only. */
static void touched_by_many(const explain_t *x, involved_t *v, bool shared_only)
{
    for (size_t i = 0; i < x->len; i++) {
        const explain_step_t *a = step_at(x, i);
        if (!a->var[0] || (shared_only && !is_access(a)) || (!a->obj && !is_access(a)))
            continue;
        if (inv_has(v, a->var))
            continue;
        for (size_t j = i + 1; j < x->len; j++) {
            const explain_step_t *b = step_at(x, j);
            if (b->g != a->g && strcmp(b->var, a->var) == 0) {
                inv_add(v, a->var);
                break;
            }
        }
    }
}

static void involved_of(const explain_t *x, const char *kind, const char *message, involved_t *v)
{
    v->n = 0;
    if (strcmp(kind, "race") == 0 && message) {
        /* "DATA RACE on counter: ..." or "Read at counter by goroutine
         * 3 (...)": the variable. */
        if (strncmp(message, "DATA RACE on ", 13) == 0) {
            const char *colon = strchr(message + 13, ':');
            char name[64];
            snprintf(name, sizeof name, "%.*s",
                     (int)(colon ? colon - (message + 13) : (long)strlen(message + 13)), message + 13);
            inv_add(v, name);
            return;
        }
        const char *at = strstr(message, " at ");
        const char *by = at ? strstr(at, " by ") : NULL;
        if (at && by) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(by - at - 4), at + 4);
            inv_add(v, name);
        }
        return;
    }
    if (strcmp(kind, "deadlock") == 0) {
        for (size_t i = 0; i < x->ng; i++) {
            if (!x->gs[i].waiting || !x->gs[i].blocked_on)
                continue;
            for (size_t k = x->len; k-- > 0;) {
                const explain_step_t *st = step_at(x, k);
                if (st->obj == x->gs[i].blocked_on) {
                    inv_add(v, st->var);
                    break;
                }
            }
        }
        return;
    }
    if (strcmp(kind, "panic") == 0 || strcmp(kind, "fatal") == 0) {
        /* What the failing goroutine touched last, and for a closed
         * channel every channel closed. */
        uint64_t who = 0;
        for (size_t k = x->len; k-- > 0;) {
            const explain_step_t *st = step_at(x, k);
            if (strcmp(st->op, "panic") == 0 || strcmp(st->op, "fatal") == 0) {
                who = st->g;
                break;
            }
        }
        int got = 0;
        for (size_t k = x->len; k-- > 0 && got < 2;) {
            const explain_step_t *st = step_at(x, k);
            if (st->g == who && st->var[0] && (st->obj || is_access(st))) {
                inv_add(v, st->var);
                got++;
            }
        }
        if (message && strstr(message, "closed channel"))
            for (size_t k = 0; k < x->len; k++)
                if (strcmp(step_at(x, k)->op, "close") == 0)
                    inv_add(v, step_at(x, k)->var);
        if (v->n)
            return;
    }
    /* An expectation, an invariant, a leak: the shared variables several
     * goroutines touched, else any object they shared. */
    touched_by_many(x, v, true);
    if (!v->n)
        touched_by_many(x, v, false);
}

/* ---- printing ------------------------------------------------------------ */

#define COLW 34

static const char *gname_of(const explain_t *x, uint64_t id)
{
    for (size_t i = 0; i < x->ng; i++)
        if (x->gs[i].id == id)
            return x->gs[i].name;
    return "";
}

const char *explain_gname(const explain_t *x, uint64_t id)
{
    return gname_of(x, id);
}

int explain_pick(const explain_t *x, const char *kind, const char *message, int max,
                 const explain_step_t **out, uint64_t *cols, int *ncols_out, char *heading, size_t hsize)
{
    involved_t v;
    involved_of(x, kind, message, &v);
    *ncols_out = 0;
    if (heading && hsize)
        heading[0] = 0;
    if (!v.n || max <= 0)
        return 0;
    /* The last max steps on those objects, with the preemptions and the
     * failure among them. */
    size_t *rows = mem_calloc((size_t)max, sizeof *rows);
    int nrows = 0;
    for (size_t k = x->len; k-- > 0 && nrows < max;) {
        const explain_step_t *st = step_at(x, k);
        bool keep = (st->var[0] && inv_has(&v, st->var)) || strcmp(st->op, "panic") == 0 ||
                    strcmp(st->op, "fatal") == 0;
        if (!keep && strcmp(st->op, "preempted") == 0) {
            /* a preemption of a goroutine that touches them */
            for (size_t j = k + 1; j < x->len; j++) {
                const explain_step_t *n = step_at(x, j);
                if (n->g == st->g && strcmp(n->op, "preempted") != 0) {
                    keep = n->var[0] && inv_has(&v, n->var); /* its next step */
                    break;
                }
            }
        }
        if (keep)
            rows[nrows++] = k;
    }
    int ncols = 0;
    for (int r = nrows; r-- > 0;) {
        uint64_t g = step_at(x, rows[r])->g;
        bool have = false;
        for (int c = 0; c < ncols; c++)
            have |= cols[c] == g;
        if (!have && ncols < EXPLAIN_COLS)
            cols[ncols++] = g;
    }
    for (int a = 1; a < ncols; a++) /* by goroutine id */
        for (int b = a; b > 0 && cols[b] < cols[b - 1]; b--) {
            uint64_t t = cols[b];
            cols[b] = cols[b - 1];
            cols[b - 1] = t;
        }
    for (int r = 0; r < nrows; r++) /* oldest first */
        out[r] = step_at(x, rows[nrows - 1 - r]);
    free(rows);
    *ncols_out = ncols;
    if (heading && hsize) {
        size_t at = 0;
        for (int i = 0; i < v.n && at + 1 < hsize; i++) {
            int k = snprintf(heading + at, hsize - at, "%s%s", i ? ", " : "", v.names[i]);
            if (k < 0)
                break;
            at += (size_t)k;
        }
    }
    return nrows;
}

void explain_print(const explain_t *x, FILE *out, const char *kind, const char *message, int max)
{
    if (max <= 0)
        return;
    const explain_step_t **rows = mem_calloc((size_t)max, sizeof *rows);
    uint64_t cols[EXPLAIN_COLS];
    int ncols;
    char names[512];
    int nrows = explain_pick(x, kind, message, max, rows, cols, &ncols, names, sizeof names);
    if (!nrows) {
        free(rows);
        return;
    }
    fprintf(out, "\n--- the failing interleaving: the last %d steps on %s ---\n%7s", nrows, names, "event");
    for (int c = 0; c < ncols; c++) {
        char head[96];
        snprintf(head, sizeof head, "g%llu %s", (unsigned long long)cols[c], gname_of(x, cols[c]));
        if (c + 1 < ncols)
            fprintf(out, "  %-*.*s", COLW, COLW, head);
        else
            fprintf(out, "  %.*s", COLW, head);
    }
    fputc('\n', out);
    for (int r = 0; r < nrows; r++) {
        const explain_step_t *st = rows[r];
        int col = -1;
        for (int c = 0; c < ncols; c++)
            if (cols[c] == st->g)
                col = c;
        if (col < 0)
            continue;
        fprintf(out, "%7llu", (unsigned long long)st->seq);
        for (int c = 0; c < col; c++)
            fprintf(out, "  %-*s", COLW, "");
        char cell[256];
        snprintf(cell, sizeof cell, "%s%s%s%s%s", st->op, st->var[0] ? " " : "", st->var,
                 st->site[0] ? "  " : "", st->site);
        fprintf(out, "  %s\n", cell);
    }
    free(rows);
}
