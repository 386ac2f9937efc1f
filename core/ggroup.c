/*
 * ggroup: groups of goroutines that fail and pause together, the simulated
 * processes (nodes) of a cluster. See the groups section of sched.h.
 *
 * A frozen group's goroutines that become runnable are held in the group,
 * in the order they became runnable, and go back to the run queue in that
 * order when it thaws. A killed group's goroutines move from the live list
 * to the scheduler's killed list at once: they never run again, and wakes
 * addressed to them are ignored (sched_ready).
 */
#include "sched_internal.h"

static void ggroup_deinit(obj_t *o)
{
    free(((ggroup_t *)o)->held);
}

ggroup_t *ggroup_new(const char *name)
{
    ggroup_t *grp = obj_alloc(sizeof *grp, OBJ_NONE, ggroup_deinit);
    obj_set_name(grp, name);
    return grp;
}

ggroup_t *go_group(const g_t *g) { return g ? g->group : NULL; }
void go_set_group(g_t *g, ggroup_t *grp) { g->group = grp; }
bool ggroup_frozen(const ggroup_t *grp) { return grp->frozen; }
uint64_t ggroup_generation(const ggroup_t *grp) { return grp->generation; }
const char *ggroup_name(const ggroup_t *grp) { return grp->hdr.name ? grp->hdr.name : ""; }

void ggroup_freeze(ggroup_t *grp)
{
    grp->frozen = true;
}

void ggroup_thaw(ggroup_t *grp)
{
    sched_t *s = sched_cur;
    grp->frozen = false;
    for (size_t i = 0; i < grp->nheld; i++)
        if (!grp->held[i]->killed)
            runq_push(s, grp->held[i]);
    grp->nheld = 0;
}

size_t ggroup_kill(ggroup_t *grp)
{
    sched_t *s = sched_cur;
    size_t n = 0;
    g_t *g = s->all_head;
    while (g) {
        g_t *next = g->next;
        if (g->group == grp) {
            unlink_g(s, g);
            g->killed = true;
            g->next = s->killed_head;
            g->prev = NULL;
            if (s->killed_head)
                s->killed_head->prev = g;
            s->killed_head = g;
            s->alive--;
            if (g == s->main_g)
                s->main_g = NULL;
            if (g->state == G_WAITING)
                g->state = G_KILLED;
            n++;
        }
        g = next;
    }
    /* Held goroutines of a frozen group are dropped with it. */
    grp->nheld = 0;
    grp->generation++;
    grp->killed += n;
    emit(s, EV_GO_EXIT, s->running ? s->running->id : 0, grp->hdr.id, (int64_t)n, 1,
         grp->hdr.name);
    return n;
}

uint64_t ggroup_alive(const ggroup_t *grp)
{
    uint64_t n = 0;
    for (g_t *g = sched_cur ? sched_cur->all_head : NULL; g; g = g->next)
        n += g->group == grp;
    return n;
}
