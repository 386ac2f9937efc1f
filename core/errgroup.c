/*
 * errgroup: golang.org/x/sync/errgroup, built as Go builds it: a WaitGroup
 * counts the goroutines, a buffered channel of empty tokens enforces the
 * limit (Go sends a token before starting a goroutine and the goroutine
 * takes one back when it returns, so Go blocks in "chan send" at the limit
 * and TryGo is a non-blocking send), and the first non-nil error is kept
 * and, for a group made by errgroup_with_context, cancels the context with
 * that error as its cause. Wait cancels that context too, as Go's does.
 *
 * Ownership: the group, its WaitGroup, its token channels and the record
 * each started goroutine carries are scheduler-owned; a goroutine frees its
 * record when it returns, and sched_destroy frees the rest.
 */
#include "errgroup.h"

#include "sync.h"

struct errgroup {
    obj_t hdr;                /* scheduler-owned object */
    ctx_t *cancel;            /* WithContext's context, cancelled with the cause; or NULL */
    waitgroup_t *wg;          /* the started goroutines not yet returned */
    chan_t *sem;              /* the limit's tokens (elements of size 0), or NULL: no limit */
    bool err_set;             /* Go's errOnce has fired */
    const go_error_t *err;    /* the first non-nil error */
    int active;               /* goroutines started and not yet returned */
};

/* What a started goroutine runs. */
typedef struct eg_task {
    obj_t hdr;          /* scheduler-owned, freed when the goroutine returns */
    errgroup_t *g;      /* its group */
    errgroup_fn_t f;    /* the function */
    void *arg;          /* its argument */
} eg_task_t;

errgroup_t *errgroup_new(void)
{
    errgroup_t *g = obj_alloc(sizeof *g, OBJ_ERRGROUP, NULL);
    g->wg = waitgroup_new();
    return g;
}

errgroup_t *errgroup_with_context(ctx_t *parent, ctx_t **ctx)
{
    ctx_t *c = ctx_with_cancel(parent);
    errgroup_t *g = errgroup_new();
    g->cancel = c;
    if (ctx)
        *ctx = c;
    return g;
}

static void task_entry(void *arg)
{
    eg_task_t *t = arg;
    errgroup_t *g = t->g;
    const go_error_t *err = t->f(t->arg);
    obj_free(t);
    if (err && !g->err_set) {
        g->err_set = true;
        g->err = err;
        if (g->cancel)
            ctx_cancel_cause(g->cancel, err);
    }
    /* Go's done(): give the token back (to the current limit's channel, as
     * Go reads g.sem anew), then leave the WaitGroup. */
    if (g->sem)
        chan_recv(g->sem, NULL);
    g->active--;
    waitgroup_done(g->wg);
}

static g_t *start(errgroup_t *g, errgroup_fn_t f, void *arg, const char *name)
{
    waitgroup_add(g->wg, 1);
    g->active++;
    eg_task_t *t = obj_alloc(sizeof *t, OBJ_NONE, NULL);
    t->g = g;
    t->f = f;
    t->arg = arg;
    return go_spawn(task_entry, t, name ? name : "errgroup.(*Group).Go.func1");
}

g_t *errgroup_go_named(errgroup_t *g, errgroup_fn_t f, void *arg, const char *name)
{
    if (g->sem)
        chan_send(g->sem, NULL);
    return start(g, f, arg, name);
}

g_t *errgroup_try_go_named(errgroup_t *g, errgroup_fn_t f, void *arg, const char *name)
{
    if (g->sem && !chan_try_send(g->sem, NULL))
        return NULL;
    return start(g, f, arg, name);
}

void errgroup_go(errgroup_t *g, errgroup_fn_t f, void *arg) { (void)errgroup_go_named(g, f, arg, NULL); }

bool errgroup_try_go(errgroup_t *g, errgroup_fn_t f, void *arg)
{
    return errgroup_try_go_named(g, f, arg, NULL) != NULL;
}

void errgroup_set_limit(errgroup_t *g, int n)
{
    if (n < 0) {
        g->sem = NULL;
        return;
    }
    int64_t held = chan_len(g->sem);
    if (held != 0)
        go_panic("errgroup: modify limit while %lld goroutines in the group are still active",
                 (long long)held);
    /* The old channel may still have a blocked Go on it (limit 0): it is
     * left to the scheduler rather than freed. */
    g->sem = chan_make(0, n);
}

const go_error_t *errgroup_wait(errgroup_t *g)
{
    waitgroup_wait(g->wg);
    if (g->cancel)
        ctx_cancel_cause(g->cancel, g->err);
    return g->err;
}

int errgroup_active(const errgroup_t *g) { return g->active; }
