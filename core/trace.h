/*
 * trace: the events of a run, their stable text form and their hash.
 *
 * Everything observable in a run is an event: a goroutine spawned, run,
 * blocked (with its wait reason), woken or ended; a channel made, sent on,
 * received from or closed; a select's choice; a timer fired; a lock taken
 * or released; a panic; a pattern's state change. The hash folds each
 * event's fields (never addresses, never wall time) into 64 bits as the
 * event happens, so two runs agree on the hash exactly when they agree on
 * every event. The text form is made only when somebody reads it.
 */
#ifndef CHANSIM_TRACE_H
#define CHANSIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

typedef enum trace_kind {
    EV_GO_SPAWN,    /* obj: new goroutine id; a: creator id; detail: name */
    EV_GO_RUN,      /* the goroutine starts or resumes running */
    EV_GO_BLOCK,    /* a: wait reason; obj: what it waits on */
    EV_GO_WAKE,     /* obj: goroutine made runnable */
    EV_GO_YIELD,    /* runtime.Gosched; a = 1: preempted at a decision point */
    EV_GO_EXIT,     /* the goroutine returned */
    EV_CHAN_MAKE,   /* obj: channel; a: capacity */
    EV_CHAN_SEND,   /* obj: channel; a: buffered count after; b: receiver id or 0 */
    EV_CHAN_RECV,   /* obj: channel; a: buffered count after; b: 1 if ok */
    EV_CHAN_CLOSE,  /* obj: channel */
    EV_SELECT,      /* a: chosen case (-1 default); b: number of cases */
    EV_TIMER_SET,   /* obj: timer; a: deadline */
    EV_TIMER_STOP,  /* obj: timer */
    EV_TIMER_FIRE,  /* obj: timer */
    EV_LOCK,        /* obj: lock; a: 0 exclusive, 1 shared */
    EV_UNLOCK,      /* obj: lock; a: 0 exclusive, 1 shared */
    EV_CTX_CANCEL,  /* obj: context; detail: the error */
    EV_PANIC,       /* detail: the message */
    EV_FATAL,       /* detail: the message */
    EV_STATE,       /* obj: entity; a, b: entity-defined; detail: new state */
    EV_METRIC,      /* obj: metric; a: value */
    EV_LOG,         /* detail: a line the program printed */
    EV_USER,        /* obj, a, b, detail: defined by sim/ or a scenario */
    EV_NET_SEND,    /* obj: message id; a: source node; b: destination node */
    EV_NET_DELIVER, /* obj: message id; a: source node; b: destination node */
    EV_NET_DROP,    /* obj: message id; a, b: nodes; detail: why */
    EV_FAULT,       /* obj: node or cluster; detail: the fault ("crash n1") */
    EV_VIOLATION,   /* obj: checker; a: its violations so far; detail: "checker: what happened" */
    EV_KIND_COUNT
} trace_kind_t;

typedef enum trace_obj_kind {
    OBJ_NONE,
    OBJ_GOROUTINE,
    OBJ_CHAN,
    OBJ_TIMER,
    OBJ_MUTEX,
    OBJ_RWMUTEX,
    OBJ_WAITGROUP,
    OBJ_ONCE,
    OBJ_COND,
    OBJ_SEMAPHORE,
    OBJ_ERRGROUP,
    OBJ_CONTEXT,
    OBJ_ENTITY,     /* a published entity (entity.h); nothing else has this kind */
    OBJ_NODE,       /* a node or cluster of the simulated world (sim/net.h) */
    OBJ_KIND_COUNT
} trace_obj_kind_t;

typedef struct trace_event {
    int64_t t;          /* simulated nanoseconds */
    uint64_t seq;       /* position in the run, from 0 */
    trace_kind_t kind;  /* what happened */
    uint64_t g;         /* goroutine that caused it (0: the scheduler) */
    uint64_t obj;       /* object it concerns (see trace_kind_t) */
    int64_t a, b;       /* kind-specific values */
    const char *detail; /* kind-specific text or NULL; borrowed */
} trace_event_t;

/* The event kind's stable name ("chan.send"). */
const char *trace_kind_name(trace_kind_t k);
/* Fold an event into a running hash. */
uint64_t trace_hash_event(uint64_t h, const trace_event_t *ev);
/* The hash before any event. */
#define TRACE_HASH_INIT 0xcbf29ce484222325ull

/* Internal to core: trace_hash_event in parts, inline for the scheduler's
 * hot path. An event's fields are first reduced to one word, each field
 * multiplied on its own (these run in parallel), the detail text to
 * another word that does not depend on the running hash either (so it can
 * be computed once for an interned name); then one mixing step folds the
 * event into the running hash. The chain from event to event is that one
 * step: a few cycles, where a step per field made tracing the largest cost
 * of a channel operation. Every field changes the hash: with the others
 * fixed, each step is a bijection of it. */
static inline uint64_t trace_hash_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t trace_hash_mix(uint64_t h, uint64_t x)
{
    h ^= x * 0x9e3779b97f4a7c15ull;
    return trace_hash_rotl(h, 31) * 0xff51afd7ed558ccdull;
}

/* The fields but the detail, as one word: each field times one odd
 * constant (a bijection), rotated to its own place. Fields that are
 * constants where the event is emitted cost nothing. */
static inline uint64_t trace_hash_digest(int64_t t, trace_kind_t kind, uint64_t g, uint64_t obj,
                                         int64_t a, int64_t b)
{
    const uint64_t m = 0x9e3779b97f4a7c15ull;
    return (uint64_t)t * m ^ trace_hash_rotl((uint64_t)kind * m, 11) ^
           trace_hash_rotl(g * m, 22) ^ trace_hash_rotl(obj * m, 33) ^
           trace_hash_rotl((uint64_t)a * m, 44) ^ trace_hash_rotl((uint64_t)b * m, 55);
}

/* The detail text as one word (never 0 in practice; NULL counts as 0). */
uint64_t trace_hash_detail(const char *detail);

/* Fold an event, given its digest and its detail's, into h. */
static inline uint64_t trace_hash_fold(uint64_t h, uint64_t digest, uint64_t detail_digest)
{
    return trace_hash_mix(h, digest ^ detail_digest);
}
/* The stable one-line text of an event, without a newline; returns the
 * length snprintf would have written. */
int trace_format(const trace_event_t *ev, char *buf, size_t size);
/* Format simulated time as seconds with nine decimals ("1.250000000"). */
int trace_format_time(int64_t t, char *buf, size_t size);

#endif
