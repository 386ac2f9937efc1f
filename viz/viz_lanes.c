/* viz_lanes: per-goroutine timeline lanes (see viz_lanes.h). */
#include "viz_lanes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct viz_lanes {
    viz_lane_t lane[VIZ_LANES_KEEP];
    size_t n;
    uint64_t others;   /* goroutines spawned past the first VIZ_LANES_KEEP */
    uint64_t next_seq; /* events before this were taken (by an earlier run) */
    simtime_t story_end;
    simtime_t story_before; /* the instant of news before story_end's */
};

viz_lanes_t *viz_lanes_create(void)
{
    return calloc(1, sizeof(viz_lanes_t));
}

void viz_lanes_destroy(viz_lanes_t *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; i < ls->n; i++)
        free(ls->lane[i].seg);
    free(ls);
}

static viz_lane_t *find(viz_lanes_t *ls, uint64_t g)
{
    for (size_t i = 0; i < ls->n; i++)
        if (ls->lane[i].g == g)
            return &ls->lane[i];
    return NULL;
}

const viz_lane_t *viz_lanes_find(const viz_lanes_t *ls, uint64_t g)
{
    return find((viz_lanes_t *)ls, g);
}

size_t viz_lanes_list(const viz_lanes_t *ls, const viz_lane_t **list, uint64_t *others)
{
    *list = ls->lane;
    if (others)
        *others = ls->others;
    return ls->n;
}

simtime_t viz_lanes_story_end(const viz_lanes_t *ls, simtime_t end)
{
    return ls->story_end >= end ? ls->story_before : ls->story_end;
}

/* Something new happens in lane l at t: the story goes on at least to t. */
static void story(viz_lanes_t *ls, simtime_t t)
{
    if (t > ls->story_end) {
        ls->story_before = ls->story_end;
        ls->story_end = t;
    }
}

/* A wait of lane l: new to it (a state on an object it never waited on
 * that way), the story goes on. A sleep's timer is new each time: sleeps
 * count as one kind. */
static void story_wait(viz_lanes_t *ls, viz_lane_t *l, simtime_t t, int st, uint64_t obj, int reason)
{
    if (!l || st == VIZ_G_READY || st == VIZ_LANE_RUN)
        return;
    if (st == VIZ_G_SLEEP || st == VIZ_G_RUNNING)
        obj = 0;
    uint64_t key = (obj << 16) ^ ((uint64_t)st << 8) ^ (uint64_t)reason;
    for (uint32_t i = 0; i < l->nseen; i++)
        if (l->seen[i] == key)
            return;
    if (l->nseen < VIZ_LANE_KINDS)
        l->seen[l->nseen++] = key;
    story(ls, t);
}

static void add(viz_lane_t *l, simtime_t t, int st, uint64_t obj, int reason)
{
    if (!l)
        return;
    if (l->n && l->seg[l->n - 1].st == VIZ_LANE_EXIT)
        return;
    /* The same state again, or a change at the same instant as the last
     * one that was not a run: the last one is replaced. */
    if (l->n && l->seg[l->n - 1].st == st && l->seg[l->n - 1].obj == obj)
        return;
    if (l->n && l->seg[l->n - 1].t == t && l->seg[l->n - 1].st != VIZ_LANE_RUN) {
        l->seg[l->n - 1] = (viz_lseg_t){t, obj, (uint8_t)st, (uint8_t)reason};
        return;
    }
    if (l->n == VIZ_LANE_SEGS)
        return;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 16;
        viz_lseg_t *s = realloc(l->seg, cap * sizeof *s);
        if (!s)
            return;
        l->seg = s;
        l->cap = cap;
    }
    l->seg[l->n++] = (viz_lseg_t){t, obj, (uint8_t)st, (uint8_t)reason};
}

static int state_of(wait_reason_t r, bool cpu)
{
    switch (r) {
    case WAIT_NONE:
    case WAIT_CPU: return VIZ_G_READY;
    case WAIT_CHAN_RECV: return VIZ_G_RECV;
    case WAIT_CHAN_SEND: return VIZ_G_SEND;
    case WAIT_SELECT: return VIZ_G_SELECT;
    case WAIT_SLEEP: return cpu ? VIZ_G_RUNNING : VIZ_G_SLEEP;
    case WAIT_SEMACQUIRE:
    case WAIT_COND:
    case WAIT_MUTEX:
    case WAIT_RWMUTEX_RLOCK:
    case WAIT_RWMUTEX_LOCK:
    case WAIT_WAITGROUP: return VIZ_G_SYNC;
    default: return VIZ_G_WAIT;
    }
}

void viz_lanes_event(viz_lanes_t *ls, const trace_event_t *ev)
{
    if (ev->seq < ls->next_seq)
        return; /* a restarted run going over what was taken already */
    ls->next_seq = ev->seq + 1;
    viz_lane_t *l;
    switch (ev->kind) {
    case EV_GO_SPAWN:
        if (ls->n == VIZ_LANES_KEEP) {
            ls->others++;
            break;
        }
        l = &ls->lane[ls->n++];
        memset(l, 0, sizeof *l);
        l->g = ev->obj;
        snprintf(l->name, sizeof l->name, "%s", ev->detail ? ev->detail : "goroutine");
        add(l, ev->t, VIZ_G_READY, 0, 0);
        story(ls, ev->t);
        break;
    case EV_GO_RUN:
        add(find(ls, ev->g), ev->t, VIZ_LANE_RUN, 0, 0);
        break;
    case EV_GO_YIELD:
        add(find(ls, ev->g), ev->t, VIZ_G_READY, 0, 0);
        break;
    case EV_GO_BLOCK:
        if ((l = find(ls, ev->g))) {
            bool cpu = l->cpu_pending && ev->a == WAIT_SLEEP;
            if (ev->a == WAIT_SLEEP)
                l->cpu_pending = false;
            int st = state_of((wait_reason_t)ev->a, cpu);
            story_wait(ls, l, ev->t, st, ev->obj, (int)ev->a);
            add(l, ev->t, st, ev->obj, (int)ev->a);
        }
        break;
    case EV_GO_WAKE:
        add(find(ls, ev->obj), ev->t, VIZ_G_READY, 0, 0);
        break;
    case EV_GO_EXIT:
        if ((l = find(ls, ev->g))) {
            add(l, ev->t, VIZ_LANE_EXIT, 0, 0);
            story(ls, ev->t);
        }
        break;
    case EV_PANIC:
    case EV_FATAL:
        if ((l = find(ls, ev->g))) {
            add(l, ev->t, VIZ_G_FAILED, 0, 0);
            story(ls, ev->t);
        }
        break;
    case EV_STATE:
        /* sim.work took a simulated CPU (not an entity's field "cpu") */
        if (ev->b != 1 && ev->detail && strcmp(ev->detail, "cpu") == 0 && ev->g && (l = find(ls, ev->g)))
            l->cpu_pending = true;
        break;
    default:
        break;
    }
}
