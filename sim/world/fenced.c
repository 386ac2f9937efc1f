/* fenced: a resource guarded by fencing tokens. See fenced.h. */
#include "fenced.h"

#include <stdio.h>

#include "entity.h"

struct fenced {
    obj_t hdr;           /* scheduler-owned */
    bool fencing;        /* refuse stale tokens */
    int64_t max_token;   /* highest token accepted */
    const char *max_who; /* who wrote with it (interned) */
    uint64_t accepted, rejected;
    checker_holders_t *writers;  /* writes in progress: at most one */
    entity_t *entity;
};

fenced_t *fenced_new(const char *name, bool fencing)
{
    fenced_t *r = obj_alloc(sizeof *r, OBJ_NONE, NULL);
    r->fencing = fencing;
    char buf[160];
    snprintf(buf, sizeof buf, "%s: one writer at a time", name);
    r->writers = checker_holders_new(buf, 1);
    r->entity = entity_new("resource", name, NULL);
    entity_set_state(r->entity, fencing ? "fenced" : "unfenced");
    return r;
}

const go_error_t *fenced_begin(fenced_t *r, const char *who, int64_t token)
{
    if (r->fencing && token < r->max_token) {
        r->rejected++;
        entity_set(r->entity, "rejected", (int64_t)r->rejected);
        return go_errorf("stale token %lld < %lld", (long long)token, (long long)r->max_token);
    }
    if (token > r->max_token) {
        r->max_token = token;
        r->max_who = sched_intern(sched_current(), who);
    }
    r->accepted++;
    entity_set(r->entity, "accepted", (int64_t)r->accepted);
    entity_set(r->entity, "token", r->max_token);
    checker_holders_enter(r->writers, who);
    return NULL;
}

void fenced_finish(fenced_t *r, const char *who)
{
    checker_holders_leave(r->writers, who);
}

const go_error_t *fenced_write(fenced_t *r, const char *who, int64_t token)
{
    int64_t before = r->max_token;
    const char *last = r->max_who;
    const go_error_t *err = fenced_begin(r, who, token);
    if (err)
        return err;
    fenced_finish(r, who);
    if (token < before)
        checker_fail(checker_holders_checker(r->writers),
                     "stale write: %s wrote with token %lld after %s wrote with token %lld",
                     who, (long long)token, last ? last : "?", (long long)before);
    return NULL;
}

uint64_t fenced_accepted(const fenced_t *r) { return r->accepted; }
uint64_t fenced_rejected(const fenced_t *r) { return r->rejected; }
int64_t fenced_max_token(const fenced_t *r) { return r->max_token; }
checker_t *fenced_checker(fenced_t *r) { return checker_holders_checker(r->writers); }
