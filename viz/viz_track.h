/*
 * viz_track: what the view learns from the trace as a run goes.
 *
 * The scheduler's accessors tell a goroutine's wait reason but not what it
 * waits on, when it last ran, or what it did before; a channel's length
 * but not how many values went through it; an entity's fields but not
 * their history. The tracker reads every trace event (it is a trace sink)
 * and keeps exactly that: per goroutine, the object it parked on, when it
 * last ran, whether it holds a simulated CPU, and its last few events; per
 * channel, the capacity it was made with and its traffic; per lock, its
 * holders; per entity, its kind and the recent values of its fields; the
 * recent channel operations (drawn as moving dots) and messages in flight;
 * and the timeline's markers.
 *
 * It never touches the scheduler: a sink runs on the emitting goroutine's
 * stack, so the work per event is a few table updates.
 *
 * Markers survive a restart of the run (a seek backwards re-executes from
 * the start): a marker is added only for an event beyond the last one
 * marked, by trace position, so a re-execution does not repeat them and
 * the timeline keeps showing what lies ahead. Everything else is per run.
 *
 * Ownership: viz_track_create returns a tracker freed by
 * viz_track_destroy. Pointers it returns are borrowed until the next event
 * or reset.
 */
#ifndef CHANSIM_VIZ_TRACK_H
#define CHANSIM_VIZ_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"
#include "trace.h"

#define VIZ_HIST 8       /* events remembered per goroutine */
#define VIZ_SERIES 160   /* points remembered per charted field */
#define VIZ_FLASHES 512  /* channel operations remembered for animation */
#define VIZ_RECENT 64    /* events remembered for the event list */
#define VIZ_TEXT 64      /* bytes of a remembered detail text */

typedef enum viz_mark_kind {
    VIZ_MARK_STATE, /* an entity changed state (a breaker opened, a new leader) */
    VIZ_MARK_FAULT, /* an injected fault (crash, partition, heal) */
    VIZ_MARK_USER,  /* the scenario's own event (sim.emit) */
    VIZ_MARK_FAIL,  /* an expectation or invariant failed */
    VIZ_MARK_PANIC, /* a panic or fatal error */
    VIZ_MARK_END,   /* the run ended; text: how */
    VIZ_MARK_KIND_COUNT
} viz_mark_kind_t;

typedef struct viz_mark {
    simtime_t t;           /* when */
    uint64_t seq;          /* trace position of the event */
    viz_mark_kind_t kind;
    uint64_t obj;          /* the entity or object concerned, or 0 */
    char text[VIZ_TEXT];   /* "breaker: open", the failed expectation, ... */
} viz_mark_t;

/* One remembered event of a goroutine. */
typedef struct viz_hist {
    simtime_t t;
    uint64_t obj;       /* what it concerned */
    int64_t a;          /* the event's a (the wait reason of a block) */
    trace_kind_t kind;
} viz_hist_t;

typedef struct viz_gtrack {
    uint64_t id;          /* goroutine id */
    uint64_t wait_obj;    /* what it last parked on (0: nothing named) */
    simtime_t last_run;   /* when it last ran (-1: never) */
    bool cpu_pending;     /* took a simulated CPU; its next sleep is work */
    bool on_cpu;          /* sleeping while holding a CPU: working */
    bool failed;          /* panicked or hit a fatal error */
    uint8_t nhist, hpos;  /* ring of its last events */
    viz_hist_t hist[VIZ_HIST];
} viz_gtrack_t;

typedef struct viz_otrack {
    uint64_t id;            /* object id */
    bool is_chan, is_lock, is_entity;
    int64_t make_cap;       /* channel: capacity asked at make (timers differ) */
    uint64_t sends, recvs;  /* channel: completed operations */
    uint64_t last_sender, last_receiver; /* channel: goroutine ids */
    uint64_t holder;        /* lock: exclusive holder's goroutine id */
    int32_t shared;         /* lock: shared holders (readers, semaphore) */
    uint64_t parent;        /* entity: parent entity id */
    char kind[24];          /* entity: its kind */
    uint64_t state_changes; /* entity: state words set */
    bool runtime_sent;      /* channel: the runtime sent on it (a timer's) */
} viz_otrack_t;

/* A channel operation, for the moving dots. */
typedef struct viz_flash {
    simtime_t t;
    uint64_t chan, g;
    bool send;
} viz_flash_t;

/* What became of a message between nodes. */
typedef enum viz_msg_fate {
    VIZ_MSG_FLIGHT,    /* in flight */
    VIZ_MSG_DELIVERED, /* reached its inbox */
    VIZ_MSG_DROPPED,   /* lost: why says where (partition, loss, node down, inbox full) */
} viz_msg_fate_t;

/* A message between nodes (EV_NET_SEND until delivered or dropped). */
typedef struct viz_msg {
    uint64_t id;
    uint64_t src, dst;   /* node object ids */
    simtime_t sent;
    simtime_t end;       /* when it was delivered or dropped (fate not FLIGHT) */
    viz_msg_fate_t fate;
    char why[16];        /* VIZ_MSG_DROPPED: the drop's reason */
} viz_msg_t;

#define VIZ_MSG_DONE 512 /* finished messages remembered (they stay drawn a little longer) */

/* A cut link of a partition, by node names (from the fault's text). */
typedef struct viz_cut {
    char a[24], b[24];
    bool one_way;        /* only a -> b is cut */
} viz_cut_t;

/* A recent event, kept for the event list. */
typedef struct viz_recent {
    trace_event_t ev;        /* ev.detail points into text (or NULL) */
    char text[VIZ_TEXT];
} viz_recent_t;

/* The history of one numeric field of an entity. */
typedef struct viz_series {
    uint64_t entity;
    char field[24];
    int n, pos;             /* points kept, next slot */
    simtime_t t[VIZ_SERIES];
    int64_t v[VIZ_SERIES];
} viz_series_t;

typedef struct viz_track viz_track_t;

viz_track_t *viz_track_create(void);
void viz_track_destroy(viz_track_t *tr);
/* A new run starts: forget everything but the markers. */
void viz_track_reset_run(viz_track_t *tr);
/* Take one trace event (the sink). */
void viz_track_event(viz_track_t *tr, const trace_event_t *ev);

/* Add a marker from outside the trace (a failed expectation seen by the
 * host, the run's end). seq orders it among the trace's events; a marker
 * of the same time and text already present is upgraded, not repeated. */
void viz_track_mark(viz_track_t *tr, simtime_t t, uint64_t seq, viz_mark_kind_t kind, uint64_t obj,
                    const char *text);
size_t viz_track_marks(const viz_track_t *tr, const viz_mark_t **list);
/* Forget every marker (a new branch of the run: what lay ahead is gone;
 * the next execution marks again from its start). */
void viz_track_forget_marks(viz_track_t *tr);
/* True once after each event that made (or would have made) a marker. */
bool viz_track_take_interesting(viz_track_t *tr);

const viz_gtrack_t *viz_track_g(const viz_track_t *tr, uint64_t gid);
const viz_otrack_t *viz_track_obj(const viz_track_t *tr, uint64_t id);
/* The goroutine that ran last, and when. */
uint64_t viz_track_last_run(const viz_track_t *tr, simtime_t *when);
/* The i-th most recent channel operation (0: the latest); false past the
 * end. */
bool viz_track_flash(const viz_track_t *tr, size_t i, viz_flash_t *out);
/* The i-th most recent event (0: the latest). */
const viz_recent_t *viz_track_recent(const viz_track_t *tr, size_t i);
/* Messages in flight. */
size_t viz_track_msgs(const viz_track_t *tr, const viz_msg_t **list);
/* A write to a guarded resource (an entity of kind "resource" whose
 * field accepted or rejected grows): who wrote (the goroutine, whose
 * role names its node) and whether the resource refused it. */
typedef struct viz_write {
    simtime_t t;
    uint64_t g, entity;
    bool refused;
} viz_write_t;
#define VIZ_WRITES 64

/* The i-th most recent write (0: the latest); false past the end. */
bool viz_track_write(const viz_track_t *tr, size_t i, viz_write_t *out);
/* The i-th most recently finished message (0: the latest); false past
 * the end. The view keeps drawing a message for a minimum flight time
 * after it arrived, and a dropped one dying where it was lost. */
bool viz_track_msg_done(const viz_track_t *tr, size_t i, viz_msg_t *out);
/* Average delivery time of messages so far (0: none delivered). */
simtime_t viz_track_msg_latency(const viz_track_t *tr);
/* Links cut by partitions in force (healed ones are forgotten). */
size_t viz_track_cuts(const viz_track_t *tr, const viz_cut_t **list);
/* The history of an entity's field, or NULL. */
const viz_series_t *viz_track_series(const viz_track_t *tr, uint64_t entity, const char *field);
/* A goroutine that sent to or received from a channel (the flow of
 * values: who feeds which channel, who drains it). Kept across restarts,
 * like the markers, so that a first pass knows the whole flow and the
 * layout reserves its place from the start. */
typedef struct viz_flow_edge {
    uint64_t chan, g;
    bool send;
} viz_flow_edge_t;

#define VIZ_FLOW_MAX 256 /* edges kept; past this the run is no flow to draw */

/* The edges seen so far, in the order first seen; *overflow is set when
 * more than VIZ_FLOW_MAX were seen. */
size_t viz_track_flow(const viz_track_t *tr, const viz_flow_edge_t **list, bool *overflow);
/* What the run has shown so far, over every restart (so a first pass knows
 * it all): the legend lists only these. Bits 0 .. WAIT_REASON_COUNT-1: a
 * goroutine parked for that reason; then the VIZ_SEEN_ bits. */
enum {
    VIZ_SEEN_CPU = 24,      /* worked on a simulated CPU */
    VIZ_SEEN_PANIC = 25,    /* a panic or fatal error */
    VIZ_SEEN_HELD = 26,     /* a lock held (the held-by arrow) */
    VIZ_SEEN_BREAKER = 27,  /* a circuit breaker */
    VIZ_SEEN_FLASH = 28,    /* a channel operation (the moving dots) */
};
uint64_t viz_track_seen(const viz_track_t *tr);
/* The last trace position seen. */
uint64_t viz_track_seq(const viz_track_t *tr);

#endif
