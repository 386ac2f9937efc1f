/*
 * viz_snap: a snapshot of a run at one instant, the only thing the view
 * draws from.
 *
 * Taking a snapshot reads the scheduler through core's accessors
 * (goroutines, channels, locks, entities) and the tracker, and copies what
 * it needs, strings included, so that drawing touches neither and the
 * simulation is never changed by the view. Snapshots are reused: arrays
 * and the string arena keep their memory from one snapshot to the next.
 *
 * Ownership: viz_snap_create returns a snapshot freed by viz_snap_destroy;
 * its contents are valid until the next viz_snap_take.
 */
#ifndef CHANSIM_VIZ_SNAP_H
#define CHANSIM_VIZ_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entity.h"
#include "sched.h"
#include "viz_track.h"

/* What a goroutine is doing, as the view shows it. */
typedef enum viz_gstate {
    VIZ_G_RUNNING, /* working on a simulated CPU (sim.work) */
    VIZ_G_READY,   /* runnable: waiting for its turn or for a CPU */
    VIZ_G_RECV,    /* blocked receiving from a channel */
    VIZ_G_SEND,    /* blocked sending on a channel */
    VIZ_G_SELECT,  /* blocked in select */
    VIZ_G_SLEEP,   /* sleeping (time.Sleep, a timer) */
    VIZ_G_SYNC,    /* waiting for a lock, a WaitGroup, a semaphore, a Cond */
    VIZ_G_WAIT,    /* waiting on something else (nil channel, the world) */
    VIZ_G_FAILED,  /* panicked */
    VIZ_G_STATE_COUNT
} viz_gstate_t;

typedef struct viz_sg {
    uint64_t id;
    const char *name;
    const char *role;      /* "" if none */
    viz_gstate_t st;
    wait_reason_t reason;
    const char *tag;       /* short state word drawn on it ("RECV", "LOCK") */
    uint64_t wait_obj;     /* what it waits on, 0 if unknown */
    simtime_t since;       /* when it parked */
    simtime_t last_run;    /* when it last ran, -1 never */
    uint64_t created_by;
    uint64_t entity;       /* the entity it belongs to (a worker), or 0 */
    simtime_t wake_at;     /* a timer ends its wait then (a sleep, a select's
                              time.After or context deadline), -1 if none */
} viz_sg_t;

typedef struct viz_sch {
    uint64_t id;
    const char *name;      /* "" if unnamed */
    int64_t len, cap;
    bool closed;
    uint32_t senders, receivers; /* goroutines queued on it */
    uint64_t sends, recvs;
    uint64_t last_sender, last_receiver;
    bool ctx_done;         /* a context's Done channel (named "ctx.Done()") */
    simtime_t due;         /* a deadline makes it ready then, -1 if none */
    bool in_flow;          /* set by the layout: drawn as a connector of the flow */
} viz_sch_t;

/* A goroutine queued on a channel: a blocked send or receive, or one case
 * of a blocked select (one entry per case). Timers' channels included. */
typedef struct viz_swait {
    uint64_t g, chan;
    bool send;
} viz_swait_t;

typedef struct viz_slock {
    uint64_t id;
    const char *name;
    trace_obj_kind_t kind; /* OBJ_MUTEX, OBJ_RWMUTEX, OBJ_SEMAPHORE, ... */
    uint64_t holder;       /* exclusive holder, 0 if none */
    int32_t shared;        /* shared holders */
    uint32_t waiters;
} viz_slock_t;

typedef struct viz_sent {
    uint64_t id;
    uint64_t parent;       /* 0 if none */
    uint64_t g;            /* its goroutine, 0 if none */
    const char *kind, *name, *state;
    int nfields;
    const char *fname[ENTITY_MAX_FIELDS];
    int64_t fval[ENTITY_MAX_FIELDS];
} viz_sent_t;

/* A named object of the world that is not an entity (a node's process),
 * so that events naming it (messages) can be drawn on its entity. */
typedef struct viz_salias {
    uint64_t id;
    const char *name;
} viz_salias_t;

typedef struct viz_snap {
    simtime_t t;           /* the instant: every event up to it has happened */
    bool mid_instant;      /* taken between two steps of one instant */
    uint64_t just_ran;     /* goroutine of the last step (when stepping) */
    uint64_t events;       /* trace events so far */
    uint64_t spawned;
    viz_sg_t *gs;
    size_t ng, capg;
    viz_sch_t *chans;
    size_t nch, capch;
    viz_slock_t *locks;
    size_t nlock, caplock;
    viz_sent_t *ents;
    size_t nent, capent;
    viz_salias_t *aliases;
    size_t nalias, capalias;
    viz_swait_t *waits;    /* by channel in creation order */
    size_t nwait, capwait;
    struct viz_arena *arena; /* the strings */
    viz_flow_edge_t flow[VIZ_FLOW_MAX]; /* who sent to and received from
                              which channel, over the whole run as far as
                              known (a first pass knows it all) */
    size_t nflow;
    bool flow_overflow;    /* too many to draw as a flow */
} viz_snap_t;

viz_snap_t *viz_snap_create(void);
void viz_snap_destroy(viz_snap_t *sn);
/* Fill sn from the scheduler s (not running a goroutine) and tracker tr.
 * Returns false if memory ran out (the snapshot is then partial). */
bool viz_snap_take(viz_snap_t *sn, sched_t *s, const viz_track_t *tr, bool mid_instant);
/* Lookups by id (NULL if absent). */
const viz_sg_t *viz_snap_g(const viz_snap_t *sn, uint64_t id);
const viz_sent_t *viz_snap_entity(const viz_snap_t *sn, uint64_t id);
const viz_sch_t *viz_snap_chan(const viz_snap_t *sn, uint64_t id);
/* The name of any object the snapshot knows (channel, lock, entity,
 * alias), or NULL. */
const char *viz_snap_obj_name(const viz_snap_t *sn, uint64_t id);
/* A field of an entity, or def. */
int64_t viz_sent_get(const viz_sent_t *e, const char *field, int64_t def);
bool viz_sent_has(const viz_sent_t *e, const char *field);

/* The colour, shape index (viz_shape_t) and legend text of a state. */
uint32_t viz_gstate_color(viz_gstate_t st);
int viz_gstate_shape(viz_gstate_t st);
const char *viz_gstate_label(viz_gstate_t st);

#endif
