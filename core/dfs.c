/*
 * dfs: the exhaustive search's stack of decisions, its preemption bound
 * and its sleep sets. See dfs.h.
 *
 * Invariants:
 * - frames 0..pos-1 are the decisions of the run so far, in order; a run
 *   replays the frames it finds and pushes new ones past them;
 * - a frame's alternatives marked done had their whole subtree searched;
 *   chosen is never done while the frame is on the stack;
 * - a sleeper's gid is runnable at its frame (the sleep set is cut down to
 *   the runnable goroutines when the frame is made).
 */
#include "dfs.h"

#include <string.h>

#include "mem.h"
#include "sched_internal.h"

typedef struct fp {
    uint64_t k[SCHED_STEP_KEYS];
    int n;
} fp_t;

typedef struct alt {
    uint64_t gid;  /* CHOICE_RUNNABLE: the goroutine at this index */
    fp_t fp;       /* union of its step's footprints in the runs that took it */
    bool done;     /* its subtree is searched */
} alt_t;

typedef struct sleeper {
    uint64_t gid;
    fp_t fp;
} sleeper_t;

typedef struct frame {
    sched_choice_t kind;
    uint32_t n;
    uint32_t chosen;
    alt_t *alts;          /* CHOICE_RUNNABLE: n of them; else NULL */
    uint64_t point_gid;   /* the goroutine whose decision point this is, 0 if none */
    int preempt_before;   /* preemptions on the path before this decision */
    sleeper_t *z;         /* the sleep set on entering it */
    int nz;
} frame_t;

struct dfs {
    int bound;
    bool sleep;
    frame_t *st;
    size_t n, cap;        /* frames on the stack */
    size_t pos;           /* decisions of the current run so far */
    long last_runnable;   /* the current run's last CHOICE_RUNNABLE frame, -1 if none */
    int path_preempt;     /* preemptions of the current run so far */
    bool pruned, diverged, cut;
    uint32_t *dec;
    size_t ndec, capdec;
};

dfs_t *dfs_new(int max_preemptions, bool sleep_sets)
{
    dfs_t *d = mem_calloc(1, sizeof *d);
    d->bound = max_preemptions;
    d->sleep = sleep_sets;
    d->last_runnable = -1;
    return d;
}

static void frame_free(frame_t *f)
{
    free(f->alts);
    free(f->z);
    memset(f, 0, sizeof *f);
}

void dfs_free(dfs_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        frame_free(&d->st[i]);
    free(d->st);
    free(d->dec);
    free(d);
}

/* ---- footprints ------------------------------------------------------- */

static bool fp_any(const fp_t *f)
{
    return f->n > 0 && f->k[0] == SCHED_KEY_ANY;
}

static bool fp_has(const fp_t *f, uint64_t key)
{
    for (int i = 0; i < f->n; i++)
        if (f->k[i] == key)
            return true;
    return false;
}

static void fp_add(fp_t *f, uint64_t key)
{
    if (fp_any(f) || fp_has(f, key))
        return;
    if (key == SCHED_KEY_ANY || f->n == SCHED_STEP_KEYS) {
        f->k[0] = SCHED_KEY_ANY;
        f->n = 1;
        return;
    }
    f->k[f->n++] = key;
}

static bool independent(const fp_t *a, const fp_t *b)
{
    if (fp_any(a) || fp_any(b))
        return false;
    for (int i = 0; i < a->n; i++)
        if (fp_has(b, a->k[i]))
            return false;
    return true;
}

/* The step that began at the current run's last CHOICE_RUNNABLE decision
 * ends here: its footprint joins its alternative's. */
static void close_step(dfs_t *d, sched_t *s)
{
    if (d->last_runnable >= 0) {
        frame_t *f = &d->st[d->last_runnable];
        fp_t *fp = &f->alts[f->chosen].fp;
        for (int i = 0; i < s->nfp; i++)
            fp_add(fp, s->fp[i]);
    }
    s->nfp = 0;
}

/* ---- alternatives ------------------------------------------------------ */

static bool asleep(const frame_t *f, uint64_t gid)
{
    for (int i = 0; i < f->nz; i++)
        if (f->z[i].gid == gid)
            return true;
    return false;
}

static bool allowed(const dfs_t *d, const frame_t *f, uint32_t i)
{
    if (!f->alts)
        return true;
    const alt_t *a = &f->alts[i];
    if (a->done || asleep(f, a->gid))
        return false;
    return f->point_gid == 0 || a->gid == f->point_gid || f->preempt_before < d->bound;
}

/* The first allowed alternative in search order (the goroutine at its
 * point first: no preemption), or -1. */
static long first_allowed(const dfs_t *d, const frame_t *f)
{
    if (!f->alts) {
        for (uint32_t i = 0; i < f->n; i++)
            if (allowed(d, f, i))
                return i;
        return -1;
    }
    for (uint32_t i = 0; i < f->n; i++)
        if (f->alts[i].gid == f->point_gid && allowed(d, f, i))
            return i;
    for (uint32_t i = 0; i < f->n; i++)
        if (f->alts[i].gid != f->point_gid && allowed(d, f, i))
            return i;
    return -1;
}

/* The sleep set on entering a new decision f: the parent decision's
 * sleepers and searched alternatives whose steps are independent of the
 * step taken since (and that did not run in it), still runnable at f. */
static void inherit_sleepers(dfs_t *d, frame_t *f)
{
    if (!d->sleep || d->last_runnable < 0)
        return;
    const frame_t *p = &d->st[d->last_runnable];
    const alt_t *took = &p->alts[p->chosen];
    size_t cap = (size_t)p->nz + p->n;
    f->z = mem_calloc(cap ? cap : 1, sizeof *f->z);
    for (size_t i = 0; i < (size_t)p->nz + p->n; i++) {
        uint64_t gid;
        const fp_t *fp;
        if (i < (size_t)p->nz) {
            gid = p->z[i].gid;
            fp = &p->z[i].fp;
        } else {
            const alt_t *a = &p->alts[i - (size_t)p->nz];
            if (!a->done)
                continue;
            gid = a->gid;
            fp = &a->fp;
        }
        if (gid == took->gid || fp_has(&took->fp, SCHED_KEY_G(gid)) || !independent(fp, &took->fp))
            continue;
        bool runnable = false;
        for (uint32_t j = 0; j < f->n && !runnable; j++)
            runnable = f->alts[j].gid == gid;
        if (!runnable || asleep(f, gid))
            continue;
        f->z[f->nz].gid = gid;
        f->z[f->nz].fp = *fp;
        f->nz++;
    }
}

/* Does goroutine gid sleep now, in the middle of the step taken at the
 * last decision (s's footprint so far)? */
static bool sleeps_now(const dfs_t *d, const sched_t *s, uint64_t gid)
{
    if (!d->sleep || d->last_runnable < 0)
        return false;
    const frame_t *p = &d->st[d->last_runnable];
    if (p->alts[p->chosen].gid == gid)
        return false;
    fp_t now = {.n = 0};
    for (int i = 0; i < s->nfp; i++)
        fp_add(&now, s->fp[i]);
    if (fp_has(&now, SCHED_KEY_G(gid)))
        return false;
    for (int i = 0; i < p->nz; i++)
        if (p->z[i].gid == gid)
            return independent(&p->z[i].fp, &now);
    for (uint32_t i = 0; i < p->n; i++)
        if (p->alts[i].gid == gid && p->alts[i].done)
            return independent(&p->alts[i].fp, &now);
    return false;
}

/* ---- the scheduler's side ---------------------------------------------- */

static void cut(dfs_t *d, sched_t *s);

void dfs_single(dfs_t *d, sched_t *s, uint64_t gid)
{
    if (d->cut || d->pos < d->n)
        return; /* in the prefix: it was not asleep when recorded */
    if (sleeps_now(d, s, gid)) {
        d->pruned = true;
        cut(d, s);
    }
}

static void cut(dfs_t *d, sched_t *s)
{
    d->cut = true;
    sched_exit(s);
}

uint32_t dfs_choose(dfs_t *d, sched_t *s, sched_choice_t kind, uint32_t n)
{
    if (d->cut)
        return 0;
    if (kind == CHOICE_RUNNABLE)
        close_step(d, s);
    if (d->pos < d->n) {
        /* The prefix: the decisions already taken, checked against what
         * the run offers now. */
        frame_t *f = &d->st[d->pos];
        bool same = f->kind == kind && f->n == n;
        if (same && f->alts)
            for (uint32_t i = 0; i < n && same; i++)
                same = f->alts[i].gid == s->runq[(s->runq_head + i) & (s->runq_cap - 1)]->id;
        if (!same) {
            d->diverged = true;
            cut(d, s);
            return 0;
        }
        if (f->alts) {
            d->last_runnable = (long)d->pos;
            if (f->point_gid && f->alts[f->chosen].gid != f->point_gid)
                d->path_preempt++;
        }
        d->pos++;
        return f->chosen;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->st = mem_realloc(d->st, d->cap * sizeof *d->st);
    }
    frame_t *f = &d->st[d->n];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->n = n;
    f->preempt_before = d->path_preempt;
    if (kind == CHOICE_RUNNABLE) {
        f->alts = mem_calloc(n, sizeof *f->alts);
        for (uint32_t i = 0; i < n; i++)
            f->alts[i].gid = s->runq[(s->runq_head + i) & (s->runq_cap - 1)]->id;
        f->point_gid = s->at_point ? s->at_point->id : 0;
        inherit_sleepers(d, f);
    }
    long c = first_allowed(d, f);
    if (c < 0) {
        /* Every alternative sleeps (or would exceed the bound): whatever
         * follows was seen in an equivalent schedule. */
        frame_free(f);
        d->pruned = true;
        cut(d, s);
        return 0;
    }
    f->chosen = (uint32_t)c;
    if (f->alts) {
        d->last_runnable = (long)d->n;
        if (f->point_gid && f->alts[c].gid != f->point_gid)
            d->path_preempt++;
    }
    d->n++;
    d->pos++;
    return f->chosen;
}

void dfs_run_end(dfs_t *d, sched_t *s)
{
    if (!d->cut)
        close_step(d, s);
    if (d->pos < d->n && !d->cut)
        d->diverged = true; /* the run ended before its recorded prefix */
    if (d->capdec < d->pos + 1) {
        d->capdec = d->pos + 64;
        d->dec = mem_realloc(d->dec, d->capdec * sizeof *d->dec);
    }
    d->ndec = d->pos;
    for (size_t i = 0; i < d->pos && i < d->n; i++)
        d->dec[i] = d->st[i].chosen;
}

bool dfs_run_pruned(const dfs_t *d) { return d->pruned; }
bool dfs_run_diverged(const dfs_t *d) { return d->diverged; }
int dfs_run_preemptions(const dfs_t *d) { return d->path_preempt; }

const uint32_t *dfs_decisions(dfs_t *d, size_t *n)
{
    *n = d->ndec;
    return d->dec;
}

bool dfs_next(dfs_t *d)
{
    /* Frames past the run's end (a cut or a divergence) are not its. */
    while (d->n > d->pos)
        frame_free(&d->st[--d->n]);
    d->pos = 0;
    d->last_runnable = -1;
    d->path_preempt = 0;
    d->pruned = d->cut = false;
    if (d->diverged)
        return false;
    while (d->n > 0) {
        frame_t *f = &d->st[d->n - 1];
        long c;
        if (f->alts) {
            f->alts[f->chosen].done = true;
            c = first_allowed(d, f);
        } else {
            /* A select's case or a due timer: every one, in index order. */
            c = f->chosen + 1 < f->n ? (long)f->chosen + 1 : -1;
        }
        if (c >= 0) {
            f->chosen = (uint32_t)c;
            return true;
        }
        frame_free(f);
        d->n--;
    }
    return false;
}
