/* cpu: a FIFO pool of simulated CPUs. See cpu.h. */
#include "cpu.h"

#include "timer.h"

typedef struct cpu_waiter {
    struct cpu_waiter *next; /* FIFO link */
    g_t *g;                  /* the waiting goroutine */
} cpu_waiter_t;

struct cpu_pool {
    obj_t hdr;               /* scheduler-owned */
    int procs;               /* CPUs in the pool */
    int busy;                /* CPUs held now */
    cpu_waiter_t *head, *tail; /* goroutines waiting for a CPU */
    size_t nwaiting;
    simtime_t done_ns;       /* CPU time of finished work */
    simtime_t start_sum;     /* sum of start times of work in progress */
};

cpu_pool_t *cpu_pool_new(int procs)
{
    cpu_pool_t *p = obj_alloc(sizeof *p, OBJ_NONE, NULL);
    p->procs = procs < 1 ? 1 : procs;
    obj_set_name(p, "cpu");
    return p;
}

void cpu_work(cpu_pool_t *p, simtime_t d)
{
    if (d <= 0)
        return;
    if (!p) {
        go_sleep(d);
        return;
    }
    if (p->busy == p->procs || p->head) {
        cpu_waiter_t w = {.g = go_self()};
        if (p->tail)
            p->tail->next = &w;
        else
            p->head = &w;
        p->tail = &w;
        p->nwaiting++;
        sched_park(WAIT_CPU, p->hdr.id);
        /* The releaser handed its CPU to us (busy stays counted). */
    } else {
        p->busy++;
    }
    simtime_t start = sched_now();
    p->start_sum += start;
    sched_emit(EV_STATE, p->hdr.id, p->busy, (int64_t)p->nwaiting, "cpu");
    go_sleep(d);
    p->start_sum -= start;
    p->done_ns += sched_now() - start;
    if (p->head) {
        cpu_waiter_t *w = p->head;
        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        p->nwaiting--;
        sched_ready(w->g);
    } else {
        p->busy--;
    }
    sched_emit(EV_STATE, p->hdr.id, p->busy, (int64_t)p->nwaiting, "cpu");
}

int cpu_procs(const cpu_pool_t *p) { return p ? p->procs : 0; }
int cpu_busy(const cpu_pool_t *p) { return p ? p->busy : 0; }
size_t cpu_waiting(const cpu_pool_t *p) { return p ? p->nwaiting : 0; }

simtime_t cpu_busy_ns(const cpu_pool_t *p)
{
    if (!p)
        return 0;
    int running = p->busy;
    return p->done_ns + (simtime_t)running * sched_now() - p->start_sum;
}
