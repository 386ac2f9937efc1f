/*
 * priority_mux: the seed's EventSource and PriorityMultiplexer, function
 * for function, with the corrected multiplexer beside the seed's. See
 * priority_mux.h for what each variant does and what is counted.
 */
#include "priority_mux.h"

#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "sync.h"
#include "timer.h"

priority_mux_config_t priority_mux_config_default(void)
{
    priority_mux_config_t c;
    memset(&c, 0, sizeof c);
    c.send_timeout = 50 * SIM_MS;
    c.poll_timeout = 1 * SIM_MS;
    c.idle_wait = 10 * SIM_MS;
    c.variant = PMUX_CORRECTED;
    c.print_forwarded = true;
    c.print_dropped = true;
    return c;
}

struct priority_mux {
    ctx_t *ctx;
    priority_mux_config_t cfg;
    priority_mux_source_t *sources; /* n entries, pattern_alloc */
    int n;
    chan_t *multiplexed;
};

/* ---- EventSource ------------------------------------------------------- */

/* Generate an event (the seed's Event literal). */
static priority_mux_event_t make_event(priority_mux_source_t *src)
{
    priority_mux_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.source = src->name;
    snprintf(ev.type, sizeof ev.type, "event-type-%lld", (long long)pattern_intn(3));
    snprintf(ev.payload, sizeof ev.payload, "data from %s", src->name);
    ev.time = sched_now();
    ev.priority = src->priority;
    ev.seq = ++src->generated;
    entity_set(src->entity, "generated", src->generated);
    pattern_series_inc(src->m_generated);
    return ev;
}

enum { SENT, SOURCE_DONE, DROPPED };

/* Try to send the event: the seed's inner select. */
static int send_or_drop(priority_mux_source_t *src, priority_mux_event_t *ev)
{
    const priority_mux_config_t *cfg = src->cfg;
    select_case_t cases[3] = {
        {.ch = src->ch_orig, .dir = SELECT_SEND, .elem = ev},
        {.ch = ctx_done(src->ctx), .dir = SELECT_RECV},
        {.ch = go_after(cfg->send_timeout), .dir = SELECT_RECV},
    };
    switch (chan_select(cases, 3, false)) {
    case 0:
        return SENT; /* Event sent successfully */
    case 1:
        src->canceled++;
        entity_set(src->entity, "canceled", src->canceled);
        pattern_series_inc(src->m_canceled);
        return SOURCE_DONE;
    default:
        /* Couldn't send within timeout, log and continue */
        src->dropped++;
        entity_set(src->entity, "dropped", src->dropped);
        pattern_series_inc(src->m_dropped);
        if (cfg->print_dropped)
            pattern_printf(&cfg->out, "Warning: Dropped event from %s due to backpressure", src->name);
        return DROPPED;
    }
}

static void event_source_main(void *p)
{
    priority_mux_source_t *src = p;
    sim_timer_t *ticker = ticker_new(src->interval);
    entity_set_state(src->entity, "running");
    for (;;) {
        int64_t tick;
        select_case_t cases[2] = {
            {.ch = timer_chan(ticker), .dir = SELECT_RECV, .elem = &tick},
            {.ch = ctx_done(src->ctx), .dir = SELECT_RECV},
        };
        if (chan_select(cases, 2, false) == 1)
            break; /* case <-ctx.Done(): return */
        /* Generate an event, then try to send it */
        priority_mux_event_t ev = make_event(src);
        if (send_or_drop(src, &ev) == SOURCE_DONE)
            break;
    }
    ticker_stop(ticker);      /* defer ticker.Stop() */
    chan_close(src->ch_orig); /* defer close(ch) */
    entity_set_state(src->entity, "closed");
    src->finished = true;
}

/* An external source's channel closes once ctx is done and no emitter is
 * still trying to send on it. */
static void external_closer_main(void *p)
{
    priority_mux_source_t *src = p;
    chan_recv(ctx_done(src->ctx), NULL);
    waitgroup_wait(src->inflight);
    chan_close(src->ch_orig);
    entity_set_state(src->entity, "closed");
    src->finished = true;
}

chan_t *priority_mux_event_source(ctx_t *ctx, priority_mux_source_t *src, const priority_mux_config_t *cfg)
{
    src->ctx = ctx;
    src->cfg = cfg;
    src->ch = src->ch_orig = chan_make(sizeof(priority_mux_event_t), 0);
    char name[96];
    snprintf(name, sizeof name, "EventSource(%s)", src->name);
    obj_set_name(src->ch, name);
    src->entity = entity_new("source", src->name, NULL);
    entity_set(src->entity, "priority", src->priority);
    entity_set(src->entity, "interval_ns", src->interval);
    entity_set(src->entity, "generated", 0);
    entity_set(src->entity, "forwarded", 0);
    entity_set(src->entity, "dropped", 0);
    entity_set(src->entity, "lost", 0);
    entity_set(src->entity, "canceled", 0);
    static const char help[] = "Events of each source, by what became of them.";
    const char *v = cfg->variant == PMUX_SEED ? "seed" : "corrected";
    src->m_generated = pattern_series3(METRICS_COUNTER, "priority_mux_events_total", help, "variant", v, "source",
                                    src->name, "outcome", "generated");
    src->m_forwarded = pattern_series3(METRICS_COUNTER, "priority_mux_events_total", help, "variant", v, "source",
                                    src->name, "outcome", "forwarded");
    src->m_dropped = pattern_series3(METRICS_COUNTER, "priority_mux_events_total", help, "variant", v, "source",
                                  src->name, "outcome", "dropped");
    src->m_lost = pattern_series3(METRICS_COUNTER, "priority_mux_events_total", help, "variant", v, "source",
                               src->name, "outcome", "lost");
    src->m_canceled = pattern_series3(METRICS_COUNTER, "priority_mux_events_total", help, "variant", v, "source",
                                   src->name, "outcome", "canceled");
    src->m_latency = pattern_series(METRICS_HISTOGRAM, "priority_mux_latency_seconds",
                                 "From an event's generation to its delivery.", "variant", v, "source", src->name);
    if (src->interval > 0) {
        g_t *g = go_spawn(event_source_main, src, name);
        go_set_role(g, "source");
        entity_set_goroutine(src->entity, go_id(g)); /* the view draws it on its card */
    } else {
        src->inflight = waitgroup_new();
        entity_set_state(src->entity, "external");
        if (ctx_done(ctx)) {
            snprintf(name, sizeof name, "EventSource(%s).closer", src->name);
            go_spawn(external_closer_main, src, name);
        }
    }
    return src->ch;
}

/* ---- PriorityMultiplexer ----------------------------------------------- */

typedef struct mux_arg {
    ctx_t *ctx;
    priority_mux_source_t *sources;
    int n;
    const priority_mux_config_t *cfg;
    chan_t *multiplexed;
    entity_t *e;
    chan_t **chs;     /* the seed's sources map values: NULL once closed */
    int *order;       /* scratch: visiting order */
    select_case_t *cases;
    int *case_src;
} mux_arg_t;

static priority_mux_source_t *source_of(mux_arg_t *a, const priority_mux_event_t *ev)
{
    for (int i = 0; i < a->n; i++)
        if (a->sources[i].name == ev->source)
            return &a->sources[i];
    return NULL;
}

static void count_lost(mux_arg_t *a, const priority_mux_event_t *ev)
{
    priority_mux_source_t *src = source_of(a, ev);
    src->lost++;
    entity_set(src->entity, "lost", src->lost);
    pattern_series_inc(src->m_lost);
    entity_add(a->e, "lost", 1);
}

static void count_canceled(mux_arg_t *a, const priority_mux_event_t *ev)
{
    priority_mux_source_t *src = source_of(a, ev);
    src->canceled++;
    entity_set(src->entity, "canceled", src->canceled);
    pattern_series_inc(src->m_canceled);
}

/* Forward ev; false if ctx ended first (the event is then lost). */
static bool forward(mux_arg_t *a, priority_mux_event_t *ev)
{
    entity_set_state(a->e, "forwarding");
    select_case_t cases[2] = {
        {.ch = a->multiplexed, .dir = SELECT_SEND, .elem = ev},
        {.ch = ctx_done(a->ctx), .dir = SELECT_RECV},
    };
    if (chan_select(cases, 2, false) == 1) {
        count_canceled(a, ev);
        return false;
    }
    priority_mux_source_t *src = source_of(a, ev);
    simtime_t lat = sched_now() - ev->time;
    src->forwarded++;
    src->latency_sum += lat;
    if (lat > src->latency_max)
        src->latency_max = lat;
    entity_set(src->entity, "forwarded", src->forwarded);
    entity_add(a->e, "forwarded", 1);
    pattern_series_inc(src->m_forwarded);
    pattern_series_observe_ns(src->m_latency, lat);
    if (a->cfg->print_forwarded)
        pattern_printf(&a->cfg->out, "Forwarded event from %s (priority %d)", src->name, src->priority);
    return true;
}

/* Go's map iteration order: random, here through the scheduler's choice
 * function so that exploration and replay see it. */
static void map_order(int *order, int n)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sched_decide(sched_current(), CHOICE_SELECT, (uint32_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* The seed's loop. */
static void mux_seed(mux_arg_t *a)
{
    /* Keep track of active sources */
    int remaining = a->n;
    while (remaining > 0) {
        /* Find the highest priority source with available events */
        int highest_priority = -1;
        priority_mux_event_t selected_event;
        memset(&selected_event, 0, sizeof selected_event);
        entity_set_state(a->e, "polling");
        map_order(a->order, a->n);
        for (int k = 0; k < a->n; k++) { /* for name, ch := range sources */
            int i = a->order[k];
            if (!a->chs[i])
                continue; /* This source is already closed */
            /* Try to receive from this source with a short timeout */
            priority_mux_event_t ev;
            select_case_t cases[2] = {
                {.ch = a->chs[i], .dir = SELECT_RECV, .elem = &ev},
                {.ch = go_after(a->cfg->poll_timeout), .dir = SELECT_RECV},
            };
            if (chan_select(cases, 2, false) == 1)
                continue; /* No event available from this source right now */
            if (!cases[0].ok) {
                a->chs[i] = NULL; /* Source is closed, remove it */
                remaining--;
                continue;
            }
            /* Check if this source has higher priority than current selection */
            int priority = a->sources[i].priority;
            if (highest_priority == -1 || priority > highest_priority) {
                if (highest_priority != -1)
                    count_lost(a, &selected_event); /* the seed overwrites it */
                highest_priority = priority;
                selected_event = ev;
            } else {
                count_lost(a, &ev); /* the seed drops it on the floor */
            }
        }
        /* If we found an event, try to send it */
        if (highest_priority != -1) {
            if (!forward(a, &selected_event))
                return;
        } else {
            /* No events available from any source, wait a bit */
            entity_set_state(a->e, "idle");
            select_case_t cases[2] = {
                {.ch = go_after(a->cfg->idle_wait), .dir = SELECT_RECV},
                {.ch = ctx_done(a->ctx), .dir = SELECT_RECV},
            };
            if (chan_select(cases, 2, false) == 1)
                return;
        }
    }
}

/* The corrected loop: the ready event of the highest priority, else wait
 * on every source at once; every event received is forwarded. */
static void mux_corrected(mux_arg_t *a)
{
    /* Visit in priority order, ties in declaration order. */
    for (int i = 0; i < a->n; i++)
        a->order[i] = i;
    for (int i = 1; i < a->n; i++)
        for (int j = i; j > 0 && a->sources[a->order[j]].priority > a->sources[a->order[j - 1]].priority; j--) {
            int t = a->order[j];
            a->order[j] = a->order[j - 1];
            a->order[j - 1] = t;
        }
    int remaining = a->n;
    while (remaining > 0) {
        priority_mux_event_t ev;
        int from = -1;
        entity_set_state(a->e, "polling");
        for (int k = 0; k < a->n && from < 0; k++) {
            int i = a->order[k];
            bool ok;
            if (!a->chs[i] || !chan_try_recv(a->chs[i], &ev, &ok))
                continue;
            if (!ok) {
                a->chs[i] = NULL;
                remaining--;
                continue;
            }
            from = i;
        }
        if (from < 0) {
            if (remaining == 0)
                break;
            entity_set_state(a->e, "waiting");
            int m = 0;
            for (int k = 0; k < a->n; k++) {
                int i = a->order[k];
                if (!a->chs[i])
                    continue;
                a->cases[m] = (select_case_t){.ch = a->chs[i], .dir = SELECT_RECV, .elem = &ev};
                a->case_src[m++] = i;
            }
            a->cases[m] = (select_case_t){.ch = ctx_done(a->ctx), .dir = SELECT_RECV};
            int c = chan_select(a->cases, m + 1, false);
            if (c == m)
                return;
            if (!a->cases[c].ok) {
                a->chs[a->case_src[c]] = NULL;
                remaining--;
                continue;
            }
        }
        if (!forward(a, &ev))
            return;
    }
}

static void multiplexer_main(void *p)
{
    mux_arg_t *a = p;
    /* defer close(multiplexed) */
    if (a->cfg->variant == PMUX_SEED)
        mux_seed(a);
    else
        mux_corrected(a);
    chan_close(a->multiplexed);
    entity_set_state(a->e, "done");
}

chan_t *priority_mux(ctx_t *ctx, priority_mux_source_t *sources, int n, const priority_mux_config_t *cfg)
{
    chan_t *multiplexed = chan_make(sizeof(priority_mux_event_t), 0);
    obj_set_name(multiplexed, "multiplexed");
    mux_arg_t *a = pattern_alloc(sizeof *a);
    a->ctx = ctx;
    a->sources = sources;
    a->n = n;
    a->cfg = cfg;
    a->multiplexed = multiplexed;
    a->chs = pattern_alloc((size_t)(n ? n : 1) * sizeof *a->chs);
    a->order = pattern_alloc((size_t)(n ? n : 1) * sizeof *a->order);
    a->cases = pattern_alloc((size_t)(n + 1) * sizeof *a->cases);
    a->case_src = pattern_alloc((size_t)(n + 1) * sizeof *a->case_src);
    for (int i = 0; i < n; i++)
        a->chs[i] = sources[i].ch;
    a->e = entity_new("multiplexer", cfg->variant == PMUX_SEED ? "PriorityMultiplexer (seed)"
                                                               : "PriorityMultiplexer", NULL);
    entity_set(a->e, "forwarded", 0);
    entity_set(a->e, "lost", 0);
    g_t *g = go_spawn(multiplexer_main, a, "PriorityMultiplexer");
    go_set_role(g, "multiplexer");
    entity_set_goroutine(a->e, go_id(g));
    return multiplexed;
}

/* ---- the seed's main, minus its consumer ------------------------------- */

priority_mux_t *priority_mux_start(ctx_t *ctx, const priority_mux_source_t *sources, int n, const priority_mux_config_t *cfg)
{
    priority_mux_t *pm = pattern_alloc(sizeof *pm);
    pm->ctx = ctx;
    pm->cfg = cfg ? *cfg : priority_mux_config_default();
    pm->n = n;
    pm->sources = pattern_alloc((size_t)(n ? n : 1) * sizeof *pm->sources);
    for (int i = 0; i < n; i++) {
        priority_mux_source_t *s = &pm->sources[i];
        memset(s, 0, sizeof *s);
        s->name = sched_intern(sched_current(), sources[i].name);
        s->interval = sources[i].interval;
        s->priority = sources[i].priority;
        priority_mux_event_source(ctx, s, &pm->cfg);
    }
    pm->multiplexed = priority_mux(ctx, pm->sources, n, &pm->cfg);
    return pm;
}

chan_t *priority_mux_chan(const priority_mux_t *pm) { return pm->multiplexed; }
int priority_mux_count(const priority_mux_t *pm) { return pm->n; }

void priority_mux_settle(const priority_mux_t *pm)
{
    if (!ctx_err(pm->ctx))
        return;
    for (int i = 0; i < pm->n; i++)
        while (!pm->sources[i].finished)
            go_yield();
}
const priority_mux_source_t *priority_mux_source(const priority_mux_t *pm, int i) { return &pm->sources[i]; }

int priority_mux_find(const priority_mux_t *pm, const char *name)
{
    for (int i = 0; i < pm->n; i++)
        if (strcmp(pm->sources[i].name, name) == 0)
            return i;
    return -1;
}

bool priority_mux_emit(priority_mux_t *pm, int i, const char *payload)
{
    priority_mux_source_t *src = &pm->sources[i];
    if (ctx_err(pm->ctx))
        return false;
    waitgroup_add(src->inflight, 1);
    priority_mux_event_t ev = make_event(src);
    if (payload)
        snprintf(ev.payload, sizeof ev.payload, "%s", payload);
    int r = send_or_drop(src, &ev);
    waitgroup_done(src->inflight);
    return r == SENT;
}
