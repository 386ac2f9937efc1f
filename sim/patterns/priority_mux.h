/*
 * priority_mux: the seed's "Multiplexing with Select": EventSource and
 * PriorityMultiplexer.
 *
 * Each source is a goroutine that, on every tick of its ticker, makes an
 * Event and tries to send it on its own unbuffered channel for at most the
 * send timeout (the seed's 50ms), else drops it with a warning. The
 * multiplexer reads the sources and forwards events on one channel,
 * preferring higher priorities. The seed's sources: critical (500ms,
 * priority 10), user (200ms, 5), metrics (100ms, 1).
 *
 * Two multiplexers:
 *  - PMUX_SEED, the seed's: a sweep visits every source in map order (a
 *    random order, as Go's map iteration) with a 1ms receive timeout each,
 *    keeps only the highest-priority event received in the sweep and
 *    forwards it; every other event received in that sweep is LOST (it
 *    was taken from its source and never forwarded). With no event in a
 *    sweep it waits 10ms.
 *  - PMUX_CORRECTED: take, without waiting, the ready event of the highest
 *    priority; if none is ready, block on all sources at once; forward
 *    every event received. Nothing received is ever lost; under overload
 *    the low priorities wait (and their sources drop) first.
 *
 * A source with interval 0 is external: it has no goroutine and ticker,
 * and priority_mux_emit makes its events (a load generator's arrivals),
 * each with the same send-or-drop select as a ticking source.
 *
 * Counted per source: generated, forwarded, dropped (send timeout at the
 * source), lost (received by the multiplexer and never forwarded), canceled
 * (in hand, at the source or the multiplexer, when the context ended), and
 * the latency from generation to forwarding (the consumer's receive: the
 * channel is unbuffered). generated = forwarded + dropped + lost + canceled
 * once the run is over. Published: a "multiplexer" entity (state
 * polling/waiting/forwarding/idle/done) and a "source" entity per source
 * with the same counts; metrics priority_mux_events_total{variant, source,
 * outcome} and the histogram priority_mux_latency_seconds{variant, source}.
 *
 * Ownership: all state is owned by the running scheduler.
 */
#ifndef CHANSIM_PRIORITY_MUX_H
#define CHANSIM_PRIORITY_MUX_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "pattern.h"

/* Event: a message of the system (the seed's struct, by value). */
typedef struct priority_mux_event {
    const char *source;  /* Source (interned) */
    char type[16];       /* Type: "event-type-N", N = rand.Intn(3) */
    char payload[64];    /* Payload: "data from <source>" */
    simtime_t time;      /* Time: when the source made it */
    /* chansim: */
    int priority;        /* the source's priority */
    int64_t seq;         /* the source's event number, from 1 */
} priority_mux_event_t;

typedef enum priority_mux_variant { PMUX_CORRECTED, PMUX_SEED } priority_mux_variant_t;

typedef struct priority_mux_config {
    simtime_t send_timeout; /* the source's send-or-drop timeout (50ms) */
    simtime_t poll_timeout; /* seed variant: per-source receive timeout (1ms) */
    simtime_t idle_wait;    /* seed variant: wait after an empty sweep (10ms) */
    priority_mux_variant_t variant;
    bool print_forwarded;   /* print "Forwarded event from ..." (the seed does) */
    bool print_dropped;     /* print "Warning: Dropped event ..." (the seed does) */
    pattern_out_t out;
} priority_mux_config_t;

/* The seed's values, corrected variant, printing on. */
priority_mux_config_t priority_mux_config_default(void);

/* A source, its channel and its counts (the seed's two maps, sources and
 * priorities, as one array entry per name). */
typedef struct priority_mux_source {
    const char *name;       /* interned */
    simtime_t interval;     /* ticker period; 0: external */
    int priority;
    chan_t *ch;             /* the source's channel; the seed variant sets it NULL when closed */
    chan_t *ch_orig;        /* the channel as made */
    entity_t *entity;
    /* counts */
    int64_t generated, forwarded, dropped, lost, canceled;
    simtime_t latency_sum, latency_max;
    /* metrics: priority_mux_events_total{variant, source, outcome}, by outcome */
    metrics_series_t *m_generated, *m_forwarded, *m_dropped, *m_lost, *m_canceled;
    metrics_series_t *m_latency;       /* priority_mux_latency_seconds{variant, source} */
    /* external sources: emitters in flight, so the channel closes after them */
    struct waitgroup *inflight;
    const priority_mux_config_t *cfg;
    ctx_t *ctx;
    bool finished;          /* its goroutine (or closer) has closed its channel */
} priority_mux_source_t;

/* EventSource(ctx, name, interval, priority) for src (name, interval and
 * priority set by the caller): starts the source's goroutine and returns
 * its channel, closed when ctx is done. */
chan_t *priority_mux_event_source(ctx_t *ctx, priority_mux_source_t *src, const priority_mux_config_t *cfg);

/* PriorityMultiplexer(ctx, sources, priorities): starts the multiplexer
 * over n sources (their ch set) and returns the multiplexed channel,
 * closed when it stops. */
chan_t *priority_mux(ctx_t *ctx, priority_mux_source_t *sources, int n, const priority_mux_config_t *cfg);

/* The whole of the seed's main, minus its consumer loop. */
typedef struct priority_mux priority_mux_t;

/* Start n sources (copied) and the multiplexer under ctx. */
priority_mux_t *priority_mux_start(ctx_t *ctx, const priority_mux_source_t *sources, int n, const priority_mux_config_t *cfg);
/* The multiplexed channel (elements are priority_mux_event_t). */
chan_t *priority_mux_chan(const priority_mux_t *pm);
int priority_mux_count(const priority_mux_t *pm);
/* Source i (counts readable at any time). */
const priority_mux_source_t *priority_mux_source(const priority_mux_t *pm, int i);
/* Once ctx is done, let every source finish its accounting (an event cut
 * off by the deadline counts as canceled in the source's own goroutine,
 * which may run after the multiplexer has closed its channel). Yields the
 * caller until then; returns at once before ctx is done. */
void priority_mux_settle(const priority_mux_t *pm);
/* The index of the source named name, or -1. */
int priority_mux_find(const priority_mux_t *pm, const char *name);
/* One event of external source i, sent with the source's send-or-drop
 * select on the caller's goroutine; payload NULL: the seed's. Returns true
 * if the multiplexer took it, false if dropped (or ctx already done). */
bool priority_mux_emit(priority_mux_t *pm, int i, const char *payload);

#endif
