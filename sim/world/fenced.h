/*
 * fenced: a protected resource that a lock holder writes to, with or
 * without fencing tokens (Kleppmann's fix for the lease hazard; etcd
 * issues 11456 and 11457; Jepsen's etcd analysis).
 *
 * A writer begins a write with its token (the lock's revision, which grows
 * from holder to holder) and finishes it later, or writes at once. With fencing the resource
 * remembers the highest token it has seen and refuses a write with a
 * lower one ("stale token"). Either way it records who is writing, so two
 * writes in progress at once is a mutual-exclusion violation as the
 * resource sees it (checker.h): without fencing, a holder paused past its
 * lease comes back and writes alongside the new holder.
 *
 * Ownership: owned by the running scheduler.
 */
#ifndef CHANSIM_FENCED_H
#define CHANSIM_FENCED_H

#include <stdbool.h>
#include <stdint.h>

#include "checker.h"
#include "goerr.h"

typedef struct fenced fenced_t;

fenced_t *fenced_new(const char *name, bool fencing);
/* Begin a write by who with token: NULL if accepted, else the refusal
 * ("stale token 7 < 12"). */
const go_error_t *fenced_begin(fenced_t *r, const char *who, int64_t token);
void fenced_finish(fenced_t *r, const char *who);
/* One write, begun and finished at once: NULL if accepted. Without
 * fencing, a write whose token is lower than one already seen is accepted
 * and is a violation (a stale holder wrote after the new one). */
const go_error_t *fenced_write(fenced_t *r, const char *who, int64_t token);
uint64_t fenced_accepted(const fenced_t *r);
uint64_t fenced_rejected(const fenced_t *r);
int64_t fenced_max_token(const fenced_t *r);
checker_t *fenced_checker(fenced_t *r);

#endif
