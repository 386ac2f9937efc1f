/*
 * pipeline: the seed's "Multi-Stage Pipeline Pattern": stages joined by
 * unbuffered channels, each a goroutine that forwards items (failed items
 * pass through untouched), and a parallel stage of N workers.
 *
 * The seed's stages: Validate (nil data fails: "invalid data: nil value"),
 * Transform (a string becomes "Transformed: <s>", an int doubles, anything
 * else fails: "unsupported data type"; metadata transformed_at), Enrich
 * (metadata enriched = true, enriched_at) and ParallelStage(workers,
 * processor) (metadata worker_id; the seed's processor sleeps
 * rand.Intn(100) ms). Every stage returns when ctx is done; items in
 * flight are then dropped.
 *
 * What the parallel stage does to ordering: its workers take items in
 * order, but each finishes after its own random delay, so items leave it
 * (and the pipeline) in the order they finish, not the order they came.
 *
 * Published: a "stage" entity per stage (state idle/busy/done, in, out)
 * and a "worker" entity per parallel worker (idle/busy, processed); the
 * metric pipeline_stage_items_total{stage, direction="in"|"out"}.
 *
 * Ownership: items are values (copied through the channels); everything
 * else is owned by the running scheduler.
 */
#ifndef CHANSIM_PIPELINE_H
#define CHANSIM_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"

/* The Go interface{} values of the seed's Data field. */
typedef enum pipeline_data_kind {
    DATA_NIL,    /* nil */
    DATA_STRING, /* string */
    DATA_INT,    /* int */
    DATA_OTHER,  /* any other type (its name in type_name) */
} pipeline_data_kind_t;

typedef struct pipeline_data_value {
    pipeline_data_kind_t kind;
    int64_t i;             /* DATA_INT */
    char s[160];           /* DATA_STRING (at most 120 bytes given, room for "Transformed: ") */
    const char *type_name; /* DATA_OTHER: e.g. "float64" (interned or static) */
} pipeline_data_value_t;

/* The seed's Metadata map, as fields (a key is present when its flag is). */
typedef struct pipeline_metadata {
    bool has_transformed_at;
    simtime_t transformed_at;
    bool has_enriched;         /* enriched: true */
    simtime_t enriched_at;
    bool has_worker_id;
    int64_t worker_id;
} pipeline_metadata_t;

/* DataItem (the seed's struct, by value). */
typedef struct pipeline_data_item {
    int64_t id;                /* ID */
    pipeline_data_value_t data;         /* Data */
    pipeline_metadata_t metadata;       /* Metadata */
    const go_error_t *error;   /* Error */
} pipeline_data_item_t;

/* PipelineStage: func(ctx, in) <-chan DataItem, as a function and the
 * values it closes over. */
typedef struct pipeline_stage {
    chan_t *(*fn)(ctx_t *ctx, chan_t *in, void *arg);
    void *arg;
} pipeline_stage_t;

typedef struct pipeline pipeline_t;

/* NewPipeline(stages...): copies the list. */
pipeline_t *pipeline_create(const pipeline_stage_t *stages, int n);
/* Free it before sched_destroy would, with the core objects it made (its
 * stage list). None of its goroutines may still run and nobody may use it
 * again; its entity stays, as the view keeps an entity for the whole run.
 * NULL is ignored. */
void pipeline_destroy(pipeline_t *x);
/* Execute: chains every stage from source; returns the last channel. */
chan_t *pipeline_execute(pipeline_t *p, ctx_t *ctx, chan_t *source_ch);

/* Source: a goroutine sends items (copied) in order, then closes. */
chan_t *pipeline_source(ctx_t *ctx, const pipeline_data_item_t *items, int64_t n);

/* The seed's example stages. */
chan_t *pipeline_validate(ctx_t *ctx, chan_t *in);
chan_t *pipeline_transform(ctx_t *ctx, chan_t *in);
chan_t *pipeline_enrich(ctx_t *ctx, chan_t *in);

/* A stage of one of the three functions above. */
pipeline_stage_t pipeline_stage_of(chan_t *(*fn)(ctx_t *ctx, chan_t *in));

/* func(DataItem) DataItem, with its closure. */
typedef pipeline_data_item_t (*pipeline_processor_fn)(pipeline_data_item_t item, void *arg);

/* ParallelStage(workers, processor). */
pipeline_stage_t pipeline_parallel_stage(int workers, pipeline_processor_fn processor, void *arg);

/* The seed's processor: time.Sleep(time.Duration(rand.Intn(100)) *
 * time.Millisecond), here a whole number of milliseconds in [min, max). */
typedef struct pipeline_random_delay {
    simtime_t min, max;        /* seed: 0 and 100ms */
} pipeline_random_delay_t;
pipeline_data_item_t pipeline_random_delay_processor(pipeline_data_item_t item, void *arg);

/* The seed's eight items: 1-4 "item N", 5 nil, 6 "item 6", 7 the int 42,
 * 8 "item 8". items needs room for 8; returns 8. */
int pipeline_seed_items(pipeline_data_item_t *items);

/* fmt's %v of the item's Data ("<nil>" for nil). */
void pipeline_data_value_format(const pipeline_data_value_t *v, char *buf, size_t size);
/* fmt's %v of the Metadata map: "map[enriched:true ... worker_id:2]",
 * keys sorted, times as simulated durations. */
void pipeline_metadata_format(const pipeline_metadata_t *m, char *buf, size_t size);

#endif
