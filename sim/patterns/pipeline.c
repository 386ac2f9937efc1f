/*
 * pipeline: the seed's Pipeline, Source, Validate, Transform, Enrich and
 * ParallelStage, function for function. See pipeline.h.
 *
 * Each stage's goroutine gets a small argument struct (what the Go closure
 * captures); `defer close(out)` is the close at the end of its entry
 * function.
 */
#include "pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "pattern.h"
#include "sync.h"
#include "timer.h"

struct pipeline {
    pipeline_stage_t *stages;
    int n;
};

pipeline_t *pipeline_create(const pipeline_stage_t *stages, int n)
{
    pipeline_t *p = pattern_alloc(sizeof *p);
    p->stages = pattern_alloc((size_t)(n > 0 ? n : 1) * sizeof *p->stages);
    if (n > 0)
        memcpy(p->stages, stages, (size_t)n * sizeof *stages);
    p->n = n;
    return p;
}

void pipeline_destroy(pipeline_t *x)
{
    if (!x)
        return;
    pattern_free(x->stages);
    pattern_free(x);
}

chan_t *pipeline_execute(pipeline_t *p, ctx_t *ctx, chan_t *source_ch)
{
    /* Start with the source channel */
    chan_t *current = source_ch;
    /* Apply each stage in sequence */
    for (int i = 0; i < p->n; i++)
        current = p->stages[i].fn(ctx, current, p->stages[i].arg);
    return current;
}

/* select { case out <- item: case <-ctx.Done(): return } -- false: return. */
static bool send_item(ctx_t *ctx, chan_t *out, pipeline_data_item_t *item)
{
    select_case_t cases[2] = {
        {.ch = out, .dir = SELECT_SEND, .elem = item},
        {.ch = ctx_done(ctx), .dir = SELECT_RECV},
    };
    return chan_select(cases, 2, false) == 0;
}

/* What a stage goroutine closes over. */
typedef struct stage_arg {
    ctx_t *ctx;
    chan_t *in, *out;
    entity_t *e;
    metrics_series_t *m_in, *m_out; /* pipeline_stage_items_total{stage, direction} */
} stage_arg_t;

static stage_arg_t *new_stage(ctx_t *ctx, chan_t *in, const char *name, entity_t **e_out)
{
    stage_arg_t *a = pattern_alloc(sizeof *a);
    a->ctx = ctx;
    a->in = in;
    a->out = chan_make(sizeof(pipeline_data_item_t), 0);
    obj_set_name(a->out, name);
    a->e = entity_new("stage", name, NULL);
    entity_set_state(a->e, "idle");
    entity_set(a->e, "in", 0);
    entity_set(a->e, "out", 0);
    static const char help[] = "Items into and out of each pipeline stage.";
    a->m_in = pattern_series(METRICS_COUNTER, "pipeline_stage_items_total", help, "stage", name, "direction", "in");
    a->m_out = pattern_series(METRICS_COUNTER, "pipeline_stage_items_total", help, "stage", name, "direction",
                           "out");
    if (e_out)
        *e_out = a->e;
    return a;
}

static void stage_spawn(void (*fn)(void *), stage_arg_t *a, const char *name)
{
    g_t *g = go_spawn(fn, a, name);
    go_set_role(g, "stage");
    entity_set_goroutine(a->e, go_id(g));
}

/* Receive the next item, publishing the stage's state. */
static bool stage_recv(stage_arg_t *a, pipeline_data_item_t *item)
{
    entity_set_state(a->e, "idle");
    if (!chan_recv(a->in, item))
        return false;
    entity_add(a->e, "in", 1);
    pattern_series_inc(a->m_in);
    entity_set_state(a->e, "busy");
    return true;
}

static bool stage_send(stage_arg_t *a, pipeline_data_item_t *item)
{
    if (!send_item(a->ctx, a->out, item))
        return false;
    entity_add(a->e, "out", 1);
    pattern_series_inc(a->m_out);
    return true;
}

static void stage_close(stage_arg_t *a)
{
    chan_close(a->out); /* defer close(out) */
    entity_set_state(a->e, "done");
}

/* ---- Source -------------------------------------------------------------- */

typedef struct source_arg {
    stage_arg_t st;
    const pipeline_data_item_t *items; /* pattern_alloc copy */
    int64_t n;
} source_arg_t;

static void source_main(void *p)
{
    source_arg_t *a = p;
    entity_set_state(a->st.e, "busy");
    for (int64_t i = 0; i < a->n; i++) {
        pipeline_data_item_t item = a->items[i];
        if (!stage_send(&a->st, &item))
            break; /* case <-ctx.Done(): return */
    }
    stage_close(&a->st);
}

chan_t *pipeline_source(ctx_t *ctx, const pipeline_data_item_t *items, int64_t n)
{
    source_arg_t *a = pattern_alloc(sizeof *a);
    stage_arg_t *st = new_stage(ctx, NULL, "Source", NULL);
    a->st = *st;
    pipeline_data_item_t *copy = pattern_alloc((size_t)(n > 0 ? n : 1) * sizeof *copy);
    if (n > 0)
        memcpy(copy, items, (size_t)n * sizeof *copy);
    a->items = copy;
    a->n = n;
    g_t *g = go_spawn(source_main, a, "Source");
    go_set_role(g, "source");
    entity_set_goroutine(a->st.e, go_id(g));
    return a->st.out;
}

/* ---- Validate ------------------------------------------------------------ */

static void validate_main(void *p)
{
    stage_arg_t *a = p;
    pipeline_data_item_t item;
    while (stage_recv(a, &item)) { /* for item := range in */
        /* Skip already failed items */
        if (item.error) {
            if (!stage_send(a, &item))
                break;
            continue;
        }
        /* Perform validation */
        if (item.data.kind == DATA_NIL)
            item.error = go_errorf("invalid data: nil value");
        /* Forward the item */
        if (!stage_send(a, &item))
            break;
    }
    stage_close(a);
}

chan_t *pipeline_validate(ctx_t *ctx, chan_t *in)
{
    stage_arg_t *a = new_stage(ctx, in, "Validate", NULL);
    stage_spawn(validate_main, a, "Validate");
    return a->out;
}

/* ---- Transform ----------------------------------------------------------- */

static void transform_main(void *p)
{
    stage_arg_t *a = p;
    pipeline_data_item_t item;
    while (stage_recv(a, &item)) {
        /* Skip already failed items */
        if (item.error) {
            if (!stage_send(a, &item))
                break;
            continue;
        }
        /* Apply transformation */
        switch (item.data.kind) { /* switch v := item.Data.(type) */
        case DATA_STRING: {
            char v[sizeof item.data.s];
            memcpy(v, item.data.s, sizeof v);
            snprintf(item.data.s, sizeof item.data.s, "Transformed: %.140s", v);
            break;
        }
        case DATA_INT:
            item.data.i = item.data.i * 2;
            break;
        default:
            item.error = go_errorf("unsupported data type");
        }
        /* Add metadata */
        item.metadata.has_transformed_at = true;
        item.metadata.transformed_at = sched_now();
        /* Forward the item */
        if (!stage_send(a, &item))
            break;
    }
    stage_close(a);
}

chan_t *pipeline_transform(ctx_t *ctx, chan_t *in)
{
    stage_arg_t *a = new_stage(ctx, in, "Transform", NULL);
    stage_spawn(transform_main, a, "Transform");
    return a->out;
}

/* ---- Enrich -------------------------------------------------------------- */

static void enrich_main(void *p)
{
    stage_arg_t *a = p;
    pipeline_data_item_t item;
    while (stage_recv(a, &item)) {
        /* Skip already failed items */
        if (item.error) {
            if (!stage_send(a, &item))
                break;
            continue;
        }
        /* Add enrichment data */
        item.metadata.has_enriched = true;
        item.metadata.enriched_at = sched_now();
        /* Forward the item */
        if (!stage_send(a, &item))
            break;
    }
    stage_close(a);
}

chan_t *pipeline_enrich(ctx_t *ctx, chan_t *in)
{
    stage_arg_t *a = new_stage(ctx, in, "Enrich", NULL);
    stage_spawn(enrich_main, a, "Enrich");
    return a->out;
}

static chan_t *call_plain(ctx_t *ctx, chan_t *in, void *arg)
{
    chan_t *(*fn)(ctx_t *, chan_t *);
    memcpy(&fn, arg, sizeof fn);
    return fn(ctx, in);
}

pipeline_stage_t pipeline_stage_of(chan_t *(*fn)(ctx_t *ctx, chan_t *in))
{
    void *box = pattern_alloc(sizeof fn);
    memcpy(box, &fn, sizeof fn);
    return (pipeline_stage_t){.fn = call_plain, .arg = box};
}

/* ---- ParallelStage ------------------------------------------------------- */

typedef struct parallel_cfg {
    int workers;
    pipeline_processor_fn processor;
    void *arg;
} parallel_cfg_t;

typedef struct parallel_worker_arg {
    stage_arg_t *st;           /* shared: ctx, in, out, the stage entity */
    const parallel_cfg_t *cfg;
    int worker_id;
    entity_t *e;               /* this worker */
    waitgroup_t *wg;
} parallel_worker_arg_t;

static void parallel_worker_main(void *p)
{
    parallel_worker_arg_t *a = p;
    stage_arg_t *st = a->st;
    pipeline_data_item_t item;
    /* defer wg.Done() */
    while (chan_recv(st->in, &item)) { /* for item := range in */
        entity_add(st->e, "in", 1);
        pattern_series_inc(st->m_in);
        entity_set_state(a->e, "busy");
        /* Skip already failed items */
        if (item.error) {
            bool sent = send_item(st->ctx, st->out, &item);
            entity_set_state(a->e, "idle");
            if (!sent)
                break;
            entity_add(st->e, "out", 1);
            pattern_series_inc(st->m_out);
            continue;
        }
        /* Process the item */
        pipeline_data_item_t processed_item = a->cfg->processor(item, a->cfg->arg);
        /* Add worker metadata */
        processed_item.metadata.has_worker_id = true;
        processed_item.metadata.worker_id = a->worker_id;
        entity_add(a->e, "processed", 1);
        /* Forward the processed item */
        bool sent = send_item(st->ctx, st->out, &processed_item);
        entity_set_state(a->e, "idle");
        if (!sent)
            break;
        entity_add(st->e, "out", 1);
        pattern_series_inc(st->m_out);
    }
    entity_set_state(a->e, "done");
    waitgroup_done(a->wg);
}

typedef struct parallel_closer_arg {
    waitgroup_t *wg;
    stage_arg_t *st;
} parallel_closer_arg_t;

static void parallel_closer_main(void *p)
{
    parallel_closer_arg_t *a = p;
    waitgroup_wait(a->wg);
    stage_close(a->st);
}

static chan_t *parallel_run(ctx_t *ctx, chan_t *in, void *arg)
{
    const parallel_cfg_t *cfg = arg;
    stage_arg_t *st = new_stage(ctx, in, "ParallelStage", NULL);
    entity_set(st->e, "workers", cfg->workers);
    entity_set_state(st->e, "running");
    /* Start a fixed number of workers */
    waitgroup_t *wg = waitgroup_new();
    waitgroup_add(wg, cfg->workers);
    for (int i = 0; i < cfg->workers; i++) {
        parallel_worker_arg_t *a = pattern_alloc(sizeof *a);
        char name[48];
        snprintf(name, sizeof name, "ParallelStage.worker-%d", i);
        *a = (parallel_worker_arg_t){.st = st, .cfg = cfg, .worker_id = i, .wg = wg};
        a->e = entity_new("worker", name, st->e);
        entity_set_state(a->e, "idle");
        entity_set(a->e, "processed", 0);
        g_t *g = go_spawn(parallel_worker_main, a, name);
        go_set_role(g, "worker");
        entity_set_goroutine(a->e, go_id(g));
    }
    /* Close the output channel when all workers are done */
    parallel_closer_arg_t *c = pattern_alloc(sizeof *c);
    c->wg = wg;
    c->st = st;
    go_spawn(parallel_closer_main, c, "ParallelStage.closer");
    return st->out;
}

pipeline_stage_t pipeline_parallel_stage(int workers, pipeline_processor_fn processor, void *arg)
{
    parallel_cfg_t *cfg = pattern_alloc(sizeof *cfg);
    *cfg = (parallel_cfg_t){.workers = workers, .processor = processor, .arg = arg};
    return (pipeline_stage_t){.fn = parallel_run, .arg = cfg};
}

pipeline_data_item_t pipeline_random_delay_processor(pipeline_data_item_t item, void *arg)
{
    const pipeline_random_delay_t *d = arg;
    /* Simulate processing time */
    simtime_t span = d->max - d->min;
    go_sleep(d->min + pattern_rand_units(span, SIM_MS));
    return item;
}

/* ---- the seed's data and fmt's %v ----------------------------------------- */

int pipeline_seed_items(pipeline_data_item_t *items)
{
    memset(items, 0, 8 * sizeof *items);
    for (int i = 0; i < 8; i++) {
        items[i].id = i + 1;
        items[i].data.kind = DATA_STRING;
        snprintf(items[i].data.s, sizeof items[i].data.s, "item %d", i + 1);
    }
    items[4].data.kind = DATA_NIL; /* {ID: 5, Data: nil}: This will fail validation */
    items[4].data.s[0] = '\0';
    items[6].data.kind = DATA_INT; /* {ID: 7, Data: 42}: Different type */
    items[6].data.i = 42;
    items[6].data.s[0] = '\0';
    return 8;
}

void pipeline_data_value_format(const pipeline_data_value_t *v, char *buf, size_t size)
{
    switch (v->kind) {
    case DATA_NIL:
        snprintf(buf, size, "<nil>");
        break;
    case DATA_STRING:
        snprintf(buf, size, "%s", v->s);
        break;
    case DATA_INT:
        snprintf(buf, size, "%" PRId64, v->i);
        break;
    default:
        snprintf(buf, size, "(%s)", v->type_name ? v->type_name : "?");
    }
}

void pipeline_metadata_format(const pipeline_metadata_t *m, char *buf, size_t size)
{
    char a[48], b[48];
    size_t len = 0;
    int w = snprintf(buf, size, "map[");
    len = w > 0 ? (size_t)w : 0;
    const char *sep = "";
#define APPEND(...)                                                          \
    do {                                                                     \
        if (len < size) {                                                    \
            int n_ = snprintf(buf + len, size - len, __VA_ARGS__);           \
            len += n_ > 0 ? (size_t)n_ : 0;                                  \
        }                                                                    \
        sep = " ";                                                           \
    } while (0)
    /* Go prints map keys sorted. */
    if (m->has_enriched) {
        APPEND("%senriched:true", sep);
        APPEND("%senriched_at:%s", sep, dur_format(m->enriched_at, a, sizeof a));
    }
    if (m->has_transformed_at)
        APPEND("%stransformed_at:%s", sep, dur_format(m->transformed_at, b, sizeof b));
    if (m->has_worker_id)
        APPEND("%sworker_id:%" PRId64, sep, m->worker_id);
    APPEND("]");
#undef APPEND
}
