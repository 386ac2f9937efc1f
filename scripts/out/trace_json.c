/*
 * trace_json: the Chrome trace-event JSON writer. See trace_json.h for
 * what is written.
 *
 * State kept: one small record per goroutine id (a dense array: ids count
 * up from 1), one per channel and one per object that published a state
 * (found through a hash map keyed by object id, used for lookup only),
 * and the roles seen. Nothing is ever listed in hash order: the end of the
 * document walks goroutines by id and entities in creation order.
 */
#include "trace_json.h"

#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "mem.h"
#include "metrics.h"

/* Fixed processes; roles get pids from PID_ROLES on. */
enum { PID_CHANSIM = 1, PID_CHANNELS = 2, PID_METRICS = 3, PID_ENTITIES = 4, PID_ROLES = 10 };
#define ENTITY_TID_BASE 1000000000LL /* entity threads, apart from goroutine ids */
#define NAME_MAX_BYTES 200           /* longest slice, instant or track name */
#define TEXT_MAX_BYTES 4096          /* longest text in args */
#define NET_FLOW (1ull << 62)        /* in a channel's queue: the flow is a message's */

enum { GS_NEW, GS_RUNNING, GS_BLOCKED, GS_RUNNABLE, GS_DEAD };

typedef struct gstate {
    uint8_t state;        /* GS_* */
    bool named;           /* its thread metadata is written */
    bool in_work;         /* between sim.work's CPU acquire and release */
    int pid;              /* its role's process */
    const char *name;     /* the name last written (interned by the scheduler) */
    const char *open;     /* the open B slice's name (static or interned), or NULL */
    int64_t since;        /* when it became runnable */
    uint64_t spawn_flow;  /* flow from its go statement to its first run, or 0 */
} gstate_t;

typedef struct chstate {
    int64_t cap;          /* capacity, -1 if its make was not seen */
    int64_t last_len;     /* last length written as a counter, -1 none */
    bool counted;         /* a goroutine sent on it: its length is a counter */
    int8_t side;          /* the queue holds flows of sends (1) or of receives (-1) */
    uint64_t *q;          /* pending flow ids (0: a send that starts no arrow;
                           * NET_FLOW set: a network message's arrow) */
    uint32_t head, len, capq;
} chstate_t;

typedef struct estate {
    bool entity;          /* a pattern entity (else: a CPU pool or another object) */
    int64_t tid;          /* the entity's thread */
    char *label;          /* "<kind> <name>" */
    char *open;           /* the open state slice's name (owned), or NULL */
} estate_t;

/* Object id -> index + 1 (or a flow id); lookup only. */
typedef struct u64map {
    uint64_t *keys;
    uint64_t *vals;       /* 0: empty slot */
    size_t cap, len;
} u64map_t;

typedef struct role {
    const char *role;     /* interned by the scheduler, or NULL */
    int pid;
} role_t;

struct trace_json {
    FILE *f;              /* borrowed */
    bool first;           /* nothing written after the opening yet */
    uint64_t next_flow;   /* last flow id given */
    gstate_t *g;          /* by goroutine id */
    size_t ng;
    u64map_t chmap;
    chstate_t *ch;
    size_t nch, capch;
    u64map_t stmap;
    estate_t *st;         /* in first-seen order */
    size_t nst, capst;
    role_t *roles;        /* in first-use order */
    size_t nroles, caproles;
    size_t nentities;
    bool pid_named[PID_ROLES];
    u64map_t netmap;      /* network message id -> its flow id */
    uint64_t anon_chan;   /* the channel the scheduler just sent on, if */
    bool anon_valid;      /* ... the last event was that send, queued without an arrow */
};

/* ---- the map ------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static uint64_t map_get(const u64map_t *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask; m->vals[i]; i = (i + 1) & mask)
        if (m->keys[i] == key)
            return m->vals[i];
    return 0;
}

static void map_put(u64map_t *m, uint64_t key, uint64_t val)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        uint64_t *nk = mem_malloc(ncap * sizeof *nk);
        uint64_t *nv = mem_malloc(ncap * sizeof *nv);
        memset(nv, 0, ncap * sizeof *nv);
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->vals[i])
                continue;
            size_t j = mix64(m->keys[i]) & (ncap - 1);
            while (nv[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    size_t mask = m->cap - 1;
    size_t i = mix64(key) & mask;
    while (m->vals[i])
        i = (i + 1) & mask;
    m->keys[i] = key;
    m->vals[i] = val;
    m->len++;
}

/* ---- JSON output --------------------------------------------------------- */

/* A JSON string of at most max bytes of s: escapes, and U+FFFD for bytes
 * that are not UTF-8 (scenario text may hold any bytes). */
static void put_str(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t used = 0;
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        size_t n = 0;
        if (c >= 0x80) {
            unsigned cp = 0, min = 0;
            if ((c & 0xe0) == 0xc0) {
                n = 1, cp = c & 0x1f, min = 0x80;
            } else if ((c & 0xf0) == 0xe0) {
                n = 2, cp = c & 0x0f, min = 0x800;
            } else if ((c & 0xf8) == 0xf0) {
                n = 3, cp = c & 0x07, min = 0x10000;
            }
            bool ok = n > 0;
            for (size_t i = 1; ok && i <= n; i++) {
                ok = (p[i] & 0xc0) == 0x80;
                cp = (cp << 6) | (p[i] & 0x3f);
            }
            ok = ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
            if (!ok) {
                if (used + 3 > max)
                    break;
                fputs("\\ufffd", f);
                used += 3;
                p++;
                continue;
            }
            if (used + n + 1 > max)
                break;
            fwrite(p, 1, n + 1, f);
            used += n + 1;
            p += n + 1;
            continue;
        }
        if (used + 1 > max)
            break;
        used++;
        p++;
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc((int)c, f);
        }
    }
    fputc('"', f);
}

/* Microseconds with the nanoseconds as decimals: 1250000 ns -> 1250.000. */
static void put_us(FILE *f, int64_t ns)
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    fprintf(f, "%s%llu.%03llu", sign, (unsigned long long)(u / 1000), (unsigned long long)(u % 1000));
}

static void sep(trace_json_t *j)
{
    if (!j->first)
        fputs(",\n", j->f);
    j->first = false;
}

/* {"ph":ph,"name":name,"pid":pid,"tid":tid,"ts":t  -- the caller closes. */
static void open_event(trace_json_t *j, const char *ph, const char *name, int pid, int64_t tid,
                       int64_t t)
{
    sep(j);
    fprintf(j->f, "{\"ph\":\"%s\",\"name\":", ph);
    put_str(j->f, name, NAME_MAX_BYTES);
    fprintf(j->f, ",\"pid\":%d,\"tid\":%lld,\"ts\":", pid, (long long)tid);
    put_us(j->f, t);
}

static void meta_name(trace_json_t *j, const char *what, int pid, int64_t tid, const char *name)
{
    open_event(j, "M", what, pid, tid, 0);
    fputs(",\"args\":{\"name\":", j->f);
    put_str(j->f, name, NAME_MAX_BYTES);
    fputs("}}", j->f);
}

static void meta_sort(trace_json_t *j, const char *what, int pid, int64_t tid, int64_t index)
{
    open_event(j, "M", what, pid, tid, 0);
    fprintf(j->f, ",\"args\":{\"sort_index\":%lld}}", (long long)index);
}

static void name_process(trace_json_t *j, int pid, const char *name)
{
    meta_name(j, "process_name", pid, 0, name);
    meta_sort(j, "process_sort_index", pid, 0, pid);
}

static int fixed_pid(trace_json_t *j, int pid)
{
    static const char *const names[PID_ROLES] = {
        [PID_CHANSIM] = "chansim", [PID_CHANNELS] = "channels",
        [PID_METRICS] = "metrics", [PID_ENTITIES] = "entities",
    };
    if (!j->pid_named[pid]) {
        j->pid_named[pid] = true;
        name_process(j, pid, names[pid]);
    }
    return pid;
}

static int role_pid(trace_json_t *j, const char *role)
{
    for (size_t i = 0; i < j->nroles; i++)
        if (j->roles[i].role == role ||
            (role && j->roles[i].role && strcmp(j->roles[i].role, role) == 0))
            return j->roles[i].pid;
    if (j->nroles == j->caproles) {
        j->caproles = j->caproles ? j->caproles * 2 : 8;
        j->roles = mem_realloc(j->roles, j->caproles * sizeof *j->roles);
    }
    int pid = PID_ROLES + (int)j->nroles;
    j->roles[j->nroles].role = role;
    j->roles[j->nroles].pid = pid;
    j->nroles++;
    if (role) {
        char name[NAME_MAX_BYTES];
        snprintf(name, sizeof name, "role: %s", role);
        name_process(j, pid, name);
    } else {
        name_process(j, pid, "goroutines");
    }
    return pid;
}

/* ---- goroutines ---------------------------------------------------------- */

static gstate_t *gstate(trace_json_t *j, uint64_t id)
{
    if (id >= j->ng) {
        size_t n = j->ng ? j->ng : 64;
        while (n <= id)
            n *= 2;
        j->g = mem_realloc(j->g, n * sizeof *j->g);
        memset(j->g + j->ng, 0, (n - j->ng) * sizeof *j->g);
        j->ng = n;
    }
    return &j->g[id];
}

/* Name the goroutine's thread the first time it runs (its role then picks
 * the process) and again whenever its name changed. */
static void name_thread(trace_json_t *j, gstate_t *gs, uint64_t id)
{
    g_t *g = go_self();
    bool self = g && go_id(g) == id;
    const char *name = self ? go_name(g) : gs->name;
    if (!gs->named) {
        gs->named = true;
        gs->pid = role_pid(j, self ? go_role(g) : NULL);
        gs->name = name ? name : "goroutine";
        meta_name(j, "thread_name", gs->pid, (int64_t)id, gs->name);
        meta_sort(j, "thread_sort_index", gs->pid, (int64_t)id, (int64_t)id);
    } else if (name && name != gs->name && strcmp(name, gs->name) != 0) {
        gs->name = name;
        meta_name(j, "thread_name", gs->pid, (int64_t)id, name);
    }
}

static void slice_begin(trace_json_t *j, gstate_t *gs, uint64_t id, const char *name, int64_t t,
                        uint64_t obj)
{
    open_event(j, "B", name, gs->pid, (int64_t)id, t);
    if (obj)
        fprintf(j->f, ",\"args\":{\"object\":%llu}", (unsigned long long)obj);
    fputc('}', j->f);
    gs->open = name;
}

static void slice_end(trace_json_t *j, gstate_t *gs, uint64_t id, int64_t t)
{
    if (!gs->open)
        return;
    open_event(j, "E", gs->open, gs->pid, (int64_t)id, t);
    fputc('}', j->f);
    gs->open = NULL;
}

static void flow(trace_json_t *j, const char *ph, const char *name, const char *cat, int pid,
                 int64_t tid, int64_t t, uint64_t id)
{
    open_event(j, ph, name, pid, tid, t);
    fprintf(j->f, ",\"cat\":\"%s\",\"id\":%llu%s}", cat, (unsigned long long)id,
            ph[0] == 'f' ? ",\"bp\":\"e\"" : "");
}

/* Where an event of goroutine id (0: the scheduler) is drawn. */
static void thread_of(trace_json_t *j, uint64_t id, int *pid, int64_t *tid)
{
    gstate_t *gs = id ? gstate(j, id) : NULL;
    if (gs && gs->named) {
        *pid = gs->pid;
        *tid = (int64_t)id;
    } else {
        *pid = fixed_pid(j, PID_CHANSIM);
        *tid = 0;
    }
}

static void on_spawn(trace_json_t *j, const trace_event_t *ev)
{
    gstate_t *child = gstate(j, ev->obj);
    child->state = GS_RUNNABLE;
    child->since = ev->t;
    child->name = ev->detail;
    if (ev->g) {
        gstate_t *parent = gstate(j, ev->g);
        if (parent->named && parent->state == GS_RUNNING) {
            uint64_t id = ++j->next_flow;
            flow(j, "s", "go", "spawn", parent->pid, (int64_t)ev->g, ev->t, id);
            gstate(j, ev->obj)->spawn_flow = id; /* gstate may have moved */
        }
    }
}

static void on_run(trace_json_t *j, const trace_event_t *ev)
{
    gstate_t *gs = gstate(j, ev->g);
    name_thread(j, gs, ev->g);
    slice_end(j, gs, ev->g, ev->t);
    if (gs->state == GS_RUNNABLE && ev->t > gs->since) {
        open_event(j, "X", "runnable", gs->pid, (int64_t)ev->g, gs->since);
        fputs(",\"dur\":", j->f);
        put_us(j->f, ev->t - gs->since);
        fputc('}', j->f);
    }
    gs->state = GS_RUNNING;
    slice_begin(j, gs, ev->g, "running", ev->t, 0);
    if (gs->spawn_flow) {
        flow(j, "f", "go", "spawn", gs->pid, (int64_t)ev->g, ev->t, gs->spawn_flow);
        gs->spawn_flow = 0;
    }
}

static void on_block(trace_json_t *j, const trace_event_t *ev)
{
    gstate_t *gs = gstate(j, ev->g);
    if (!gs->named)
        return;
    slice_end(j, gs, ev->g, ev->t);
    wait_reason_t r = (wait_reason_t)ev->a;
    const char *name = r == WAIT_SLEEP && gs->in_work ? "work" : wait_reason_string(r);
    gs->state = GS_BLOCKED;
    slice_begin(j, gs, ev->g, name && *name ? name : "blocked", ev->t, ev->obj);
}

static void on_wake(trace_json_t *j, const trace_event_t *ev)
{
    gstate_t *gs = gstate(j, ev->obj);
    if (gs->state != GS_BLOCKED)
        return;
    slice_end(j, gs, ev->obj, ev->t);
    gs->state = GS_RUNNABLE;
    gs->since = ev->t;
}

static void on_yield_or_exit(trace_json_t *j, const trace_event_t *ev)
{
    gstate_t *gs = gstate(j, ev->g);
    slice_end(j, gs, ev->g, ev->t);
    gs->state = ev->kind == EV_GO_EXIT ? GS_DEAD : GS_RUNNABLE;
    gs->since = ev->t;
    gs->in_work = false;
}

/* ---- channels ------------------------------------------------------------ */

static chstate_t *chstate(trace_json_t *j, uint64_t obj)
{
    uint64_t v = map_get(&j->chmap, obj);
    if (v)
        return &j->ch[v - 1];
    if (j->nch == j->capch) {
        j->capch = j->capch ? j->capch * 2 : 64;
        j->ch = mem_realloc(j->ch, j->capch * sizeof *j->ch);
    }
    chstate_t *c = &j->ch[j->nch++];
    memset(c, 0, sizeof *c);
    c->cap = -1;
    c->last_len = -1;
    map_put(&j->chmap, obj, j->nch);
    return c;
}

static void q_push(chstate_t *c, uint64_t id)
{
    if (c->len == c->capq) {
        uint32_t ncap = c->capq ? c->capq * 2 : 4;
        uint64_t *nq = mem_malloc(ncap * sizeof *nq);
        for (uint32_t i = 0; i < c->len; i++)
            nq[i] = c->q[(c->head + i) % c->capq];
        free(c->q);
        c->q = nq;
        c->capq = ncap;
        c->head = 0;
    }
    c->q[(c->head + c->len) % c->capq] = id;
    c->len++;
}

static uint64_t q_pop(chstate_t *c)
{
    uint64_t id = c->q[c->head];
    c->head = (c->head + 1) % c->capq;
    c->len--;
    return id;
}

/* Pair this end of a transfer with the oldest unpaired other end on the
 * channel, or queue it; returns the flow id (0: no arrow). side is 1 for
 * a send, -1 for a receive; want_id is false for sends that start no
 * arrow. */
static uint64_t pair(trace_json_t *j, chstate_t *c, int8_t side, bool want_id)
{
    if (c->len > 0 && c->side == -side)
        return q_pop(c);
    uint64_t id = want_id ? ++j->next_flow : 0;
    c->side = side;
    q_push(c, id);
    return id;
}

static void chan_depth(trace_json_t *j, uint64_t obj, chstate_t *c, int64_t len, int64_t t)
{
    if (!c->counted || c->cap <= 0 || len == c->last_len)
        return;
    c->last_len = len;
    char name[64];
    snprintf(name, sizeof name, "chan #%llu (cap %lld)", (unsigned long long)obj, (long long)c->cap);
    open_event(j, "C", name, fixed_pid(j, PID_CHANNELS), 0, t);
    fprintf(j->f, ",\"args\":{\"len\":%lld}}", (long long)len);
}

static void on_chan(trace_json_t *j, const trace_event_t *ev)
{
    chstate_t *c = chstate(j, ev->obj);
    char name[48];
    snprintf(name, sizeof name, "chan #%llu", (unsigned long long)ev->obj);
    int pid;
    int64_t tid;
    thread_of(j, ev->g, &pid, &tid);
    bool by_goroutine = ev->g != 0 && tid != 0;
    if (ev->kind == EV_CHAN_SEND) {
        if (ev->g)
            c->counted = true;
        if (!by_goroutine && !(c->len > 0 && c->side == -1)) {
            /* Queued without an arrow: a network delivery may give it one. */
            j->anon_chan = ev->obj;
            j->anon_valid = true;
        }
        uint64_t id = pair(j, c, 1, by_goroutine);
        if (id && by_goroutine)
            flow(j, "s", name, "chan", pid, tid, ev->t, id);
    } else if (ev->b) { /* a receive that got a value */
        uint64_t id = pair(j, c, -1, by_goroutine);
        /* A flow's two ends carry the same name and category (Perfetto
         * pairs them by id, category and name). */
        if (id & NET_FLOW && by_goroutine)
            flow(j, "f", "message", "net", pid, tid, ev->t, id & ~NET_FLOW);
        else if (id && by_goroutine)
            flow(j, "f", name, "chan", pid, tid, ev->t, id);
    }
    chan_depth(j, ev->obj, c, ev->a, ev->t);
}

/* ---- states, metrics, instants ------------------------------------------- */

static estate_t *estate(trace_json_t *j, uint64_t obj, const char *detail, bool *fresh)
{
    uint64_t v = map_get(&j->stmap, obj);
    *fresh = v == 0;
    if (v)
        return &j->st[v - 1];
    if (j->nst == j->capst) {
        j->capst = j->capst ? j->capst * 2 : 16;
        j->st = mem_realloc(j->st, j->capst * sizeof *j->st);
    }
    estate_t *e = &j->st[j->nst++];
    memset(e, 0, sizeof *e);
    map_put(&j->stmap, obj, j->nst);
    sched_t *s = sched_current();
    entity_t *en = s ? entity_find(s, obj) : NULL;
    if (en) {
        e->entity = true;
        e->tid = ENTITY_TID_BASE + (int64_t)j->nentities++;
        size_t n = strlen(entity_kind(en)) + strlen(entity_name(en)) + 2;
        e->label = mem_malloc(n);
        snprintf(e->label, n, "%s %s", entity_kind(en), entity_name(en));
        int pid = fixed_pid(j, PID_ENTITIES);
        meta_name(j, "thread_name", pid, e->tid, e->label);
        meta_sort(j, "thread_sort_index", pid, e->tid, e->tid - ENTITY_TID_BASE);
    }
    return e;
}

static void on_state(trace_json_t *j, const trace_event_t *ev)
{
    bool fresh;
    estate_t *e = estate(j, ev->obj, ev->detail, &fresh);
    const char *d = ev->detail ? ev->detail : "";
    if (e->entity) {
        if (fresh)
            return; /* the entity's creation (a = parent, detail = kind) */
        if (ev->b == 1) { /* a numeric field */
            open_event(j, "C", e->label, PID_ENTITIES, 0, ev->t);
            fputs(",\"args\":{", j->f);
            put_str(j->f, d, NAME_MAX_BYTES);
            fprintf(j->f, ":%lld}}", (long long)ev->a);
            return;
        }
        if (e->open) {
            open_event(j, "E", e->open, PID_ENTITIES, e->tid, ev->t);
            fputc('}', j->f);
        }
        size_t n = strlen(d) + 1;
        e->open = mem_realloc(e->open, n);
        memcpy(e->open, d, n);
        open_event(j, "B", e->open, PID_ENTITIES, e->tid, ev->t);
        fputc('}', j->f);
        return;
    }
    if (strcmp(d, "cpu") == 0) {
        /* a simulated CPU taken (before sim.work's time) or given back */
        open_event(j, "C", "cpu", fixed_pid(j, PID_CHANSIM), 0, ev->t);
        fprintf(j->f, ",\"args\":{\"busy\":%lld,\"waiting\":%lld}}", (long long)ev->a, (long long)ev->b);
        if (ev->g) {
            gstate_t *gs = gstate(j, ev->g);
            gs->in_work = !gs->in_work;
        }
        return;
    }
    char name[NAME_MAX_BYTES];
    snprintf(name, sizeof name, "%s #%llu", d, (unsigned long long)ev->obj);
    open_event(j, "C", name, fixed_pid(j, PID_CHANSIM), 0, ev->t);
    fprintf(j->f, ",\"args\":{\"a\":%lld,\"b\":%lld}}", (long long)ev->a, (long long)ev->b);
}

static void on_metric(trace_json_t *j, const trace_event_t *ev)
{
    if (ev->b != 0)
        return; /* a histogram's observation: no single value to draw */
    metrics_series_t *s = metrics_series_by_seq(metrics_registry_find(sched_current()), ev->obj);
    double v = s ? metrics_value(s) : (double)ev->a / 1e9;
    char num[48];
    metrics_format_value(v, num, sizeof num);
    if (num[0] == 'N' || num[1] == 'I') /* NaN, +Inf, -Inf: not JSON numbers */
        return;
    open_event(j, "C", ev->detail ? ev->detail : "metric", fixed_pid(j, PID_METRICS), 0, ev->t);
    fprintf(j->f, ",\"args\":{\"value\":%s}}", num);
}

/* An instant: on the goroutine's thread (scope "t") or global ("g"). */
static void instant(trace_json_t *j, const trace_event_t *ev, const char *name, const char *cat,
                    bool global, const char *text)
{
    int pid;
    int64_t tid;
    if (global) {
        pid = fixed_pid(j, PID_CHANSIM);
        tid = 0;
    } else {
        thread_of(j, ev->g, &pid, &tid);
    }
    open_event(j, "i", name, pid, tid, ev->t);
    fprintf(j->f, ",\"cat\":\"%s\",\"s\":\"%s\"", cat, global ? "g" : "t");
    if (text) {
        fputs(",\"args\":{\"text\":", j->f);
        put_str(j->f, text, TEXT_MAX_BYTES);
        fputc('}', j->f);
    } else if (ev->kind == EV_USER) {
        fprintf(j->f, ",\"args\":{\"object\":%llu,\"a\":%lld,\"b\":%lld}", (unsigned long long)ev->obj,
                (long long)ev->a, (long long)ev->b);
    }
    fputc('}', j->f);
}

static void on_log(trace_json_t *j, const trace_event_t *ev)
{
    /* The instant's name is the line without its ending. */
    char name[NAME_MAX_BYTES];
    snprintf(name, sizeof name, "%s", ev->detail ? ev->detail : "");
    name[strcspn(name, "\n")] = 0;
    instant(j, ev, name, "log", false, ev->detail);
}

static void on_fault(trace_json_t *j, const trace_event_t *ev)
{
    char name[NAME_MAX_BYTES];
    snprintf(name, sizeof name, "%s%s", ev->kind == EV_PANIC ? "panic: " : "fatal error: ",
             ev->detail ? ev->detail : "");
    instant(j, ev, name, "fault", true, ev->detail);
}

/* A message sent between nodes: an arrow from the sending goroutine to the
 * goroutine that takes it from the destination's inbox. The delivery (by
 * the scheduler, when the network's latency has passed) puts the message
 * into the inbox channel just before it emits net.deliver; that queued
 * send gets the message's arrow. */
static void on_net(trace_json_t *j, const trace_event_t *ev, bool anon_valid)
{
    int pid;
    int64_t tid;
    thread_of(j, ev->g, &pid, &tid);
    if (ev->kind == EV_NET_SEND) {
        if (!tid)
            return;
        uint64_t id = ++j->next_flow;
        map_put(&j->netmap, ev->obj, id);
        open_event(j, "s", "message", pid, tid, ev->t);
        fprintf(j->f, ",\"cat\":\"net\",\"id\":%llu,\"args\":{\"msg\":%llu,\"from\":%lld,\"to\":%lld}}",
                (unsigned long long)id, (unsigned long long)ev->obj, (long long)ev->a,
                (long long)ev->b);
        return;
    }
    if (ev->kind == EV_NET_DELIVER) {
        uint64_t id = map_get(&j->netmap, ev->obj);
        uint64_t v = anon_valid ? map_get(&j->chmap, j->anon_chan) : 0;
        if (id && v) {
            chstate_t *c = &j->ch[v - 1];
            if (c->len > 0 && c->side == 1)
                c->q[(c->head + c->len - 1) % c->capq] = id | NET_FLOW;
        }
        return;
    }
    char name[NAME_MAX_BYTES];
    snprintf(name, sizeof name, "drop msg #%llu: %s", (unsigned long long)ev->obj,
             ev->detail ? ev->detail : "");
    open_event(j, "i", name, pid, tid, ev->t);
    fprintf(j->f, ",\"cat\":\"net\",\"s\":\"t\",\"args\":{\"from\":%lld,\"to\":%lld}}",
            (long long)ev->a, (long long)ev->b);
}

typedef struct alive_set {
    uint8_t *alive; /* by goroutine id */
    size_t n;
} alive_set_t;

static void mark_alive(void *ud, g_t *g)
{
    alive_set_t *a = ud;
    uint64_t id = go_id(g);
    if (id < a->n)
        a->alive[id] = 1;
}

/* A group (a simulated process) was killed: its goroutines never run
 * again and emit nothing more, so end their slices here. */
static void on_group_kill(trace_json_t *j, const trace_event_t *ev)
{
    char name[NAME_MAX_BYTES];
    snprintf(name, sizeof name, "kill %s (%lld goroutines)", ev->detail ? ev->detail : "group",
             (long long)ev->a);
    instant(j, ev, name, "fault", true, NULL);
    sched_t *s = sched_current();
    if (!s || !j->ng)
        return;
    alive_set_t a = {mem_calloc(j->ng, 1), j->ng};
    sched_each_goroutine(s, mark_alive, &a);
    for (size_t id = 1; id < j->ng; id++) {
        gstate_t *gs = &j->g[id];
        if (a.alive[id] || id == ev->g || gs->state == GS_NEW || gs->state == GS_DEAD)
            continue;
        slice_end(j, gs, id, ev->t);
        if (gs->named) {
            open_event(j, "i", "killed", gs->pid, (int64_t)id, ev->t);
            fputs(",\"cat\":\"fault\",\"s\":\"t\"}", j->f);
        }
        gs->state = GS_DEAD;
    }
    free(a.alive);
}

void trace_json_sink(void *ud, const trace_event_t *ev)
{
    trace_json_t *j = ud;
    bool anon_valid = j->anon_valid;
    j->anon_valid = false;
    switch (ev->kind) {
    case EV_GO_SPAWN: on_spawn(j, ev); break;
    case EV_GO_RUN: on_run(j, ev); break;
    case EV_GO_BLOCK: on_block(j, ev); break;
    case EV_GO_WAKE: on_wake(j, ev); break;
    case EV_GO_YIELD: on_yield_or_exit(j, ev); break;
    case EV_GO_EXIT:
        if (ev->b == 1)
            on_group_kill(j, ev); /* obj: the group, a: goroutines ended */
        else
            on_yield_or_exit(j, ev);
        break;
    case EV_CHAN_MAKE: chstate(j, ev->obj)->cap = ev->a; break;
    case EV_CHAN_SEND:
    case EV_CHAN_RECV: on_chan(j, ev); break;
    case EV_CHAN_CLOSE: {
        char name[48];
        snprintf(name, sizeof name, "close chan #%llu", (unsigned long long)ev->obj);
        instant(j, ev, name, "chan", false, NULL);
        break;
    }
    case EV_CTX_CANCEL: instant(j, ev, ev->detail ? ev->detail : "context canceled", "context", false, NULL); break;
    case EV_STATE: on_state(j, ev); break;
    case EV_METRIC: on_metric(j, ev); break;
    case EV_LOG: on_log(j, ev); break;
    case EV_USER: instant(j, ev, ev->detail ? ev->detail : "user", "user", true, NULL); break;
    case EV_PANIC:
    case EV_FATAL: on_fault(j, ev); break;
    case EV_FAULT: instant(j, ev, ev->detail ? ev->detail : "fault", "fault", true, NULL); break;
    case EV_VIOLATION: instant(j, ev, ev->detail ? ev->detail : "violation", "violation", true, NULL); break;
    case EV_NET_SEND:
    case EV_NET_DELIVER:
    case EV_NET_DROP: on_net(j, ev, anon_valid); break;
    default: break; /* select, timers, locks: visible through blocks and wakes */
    }
}

/* ---- the document ---------------------------------------------------------- */

trace_json_t *trace_json_create(FILE *f)
{
    trace_json_t *j = mem_malloc(sizeof *j);
    memset(j, 0, sizeof *j);
    j->f = f;
    j->first = true;
    fputs("{\"traceEvents\":[\n", f);
    fixed_pid(j, PID_CHANSIM);
    meta_name(j, "thread_name", PID_CHANSIM, 0, "scheduler");
    return j;
}

bool trace_json_finish(trace_json_t *j, simtime_t end, const char *scenario, uint64_t seed,
                       uint64_t hash)
{
    for (size_t id = 0; id < j->ng; id++)
        slice_end(j, &j->g[id], id, end);
    for (size_t i = 0; i < j->nst; i++)
        if (j->st[i].entity && j->st[i].open) {
            open_event(j, "E", j->st[i].open, PID_ENTITIES, j->st[i].tid, end);
            fputc('}', j->f);
            free(j->st[i].open);
            j->st[i].open = NULL;
        }
    fputs("\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"generator\":\"chansim\",\"scenario\":", j->f);
    put_str(j->f, scenario ? scenario : "", NAME_MAX_BYTES);
    fprintf(j->f, ",\"seed\":\"%llu\",\"trace_hash\":\"%016llx\",\"end_ns\":%lld}}\n",
            (unsigned long long)seed, (unsigned long long)hash, (long long)end);
    return fflush(j->f) == 0 && !ferror(j->f);
}

void trace_json_destroy(trace_json_t *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nch; i++)
        free(j->ch[i].q);
    for (size_t i = 0; i < j->nst; i++) {
        free(j->st[i].label);
        free(j->st[i].open);
    }
    free(j->ch);
    free(j->chmap.keys);
    free(j->chmap.vals);
    free(j->st);
    free(j->stmap.keys);
    free(j->stmap.vals);
    free(j->netmap.keys);
    free(j->netmap.vals);
    free(j->roles);
    free(j->g);
    free(j);
}
