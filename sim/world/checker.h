/*
 * checker: invariants of the simulated world, checked as the run goes.
 *
 * A checker watches one property (mutual exclusion as the protected
 * resource sees it, one leader per term, at most N semaphore holders) and
 * records every violation with the simulated time and a sentence that says
 * what happened. Each violation is an EV_VIOLATION trace event, so the log,
 * the Perfetto export and the view mark the moment, and the host reports it
 * as a failed invariant.
 *
 * Ownership: owned by the running scheduler.
 */
#ifndef CHANSIM_CHECKER_H
#define CHANSIM_CHECKER_H

#include <stddef.h>
#include <stdint.h>

#include "entity.h"
#include "sched.h"

typedef struct checker checker_t;

typedef struct checker_violation {
    simtime_t t;  /* when */
    char *what;   /* the sentence */
} checker_violation_t;

checker_t *checker_new(const char *name);
/* Record a violation now. */
void checker_fail(checker_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t checker_violations(const checker_t *c, const checker_violation_t **list);
const char *checker_name(const checker_t *c);

/* ---- mutual exclusion over holders of something --------------------------- */

/* Holders enter and leave; more than `limit` inside at once is a
 * violation (limit 1: mutual exclusion; N: a semaphore). */
typedef struct checker_holders checker_holders_t;
checker_holders_t *checker_holders_new(const char *name, int limit);
void checker_holders_enter(checker_holders_t *h, const char *who);
void checker_holders_leave(checker_holders_t *h, const char *who);
int checker_holders_inside(const checker_holders_t *h);
int checker_holders_max_inside(const checker_holders_t *h);
checker_t *checker_holders_checker(checker_holders_t *h);

/* ---- leadership ----------------------------------------------------------- */

/* Nodes say when they believe they lead (with the term: the leader key's
 * create revision) and when they stop. Two believers in one term violate
 * the per-term check; two believers at one instant, whatever their terms,
 * violate the instant check (split brain). */
typedef struct checker_leadership checker_leadership_t;
checker_leadership_t *checker_leadership_new(const char *name);
void checker_leadership_begin(checker_leadership_t *l, const char *who, int64_t term);
void checker_leadership_end(checker_leadership_t *l, const char *who);
checker_t *checker_leadership_term_checker(checker_leadership_t *l);
checker_t *checker_leadership_instant_checker(checker_leadership_t *l);
/* Leadership changes seen so far. */
uint64_t checker_leadership_changes(const checker_leadership_t *l);

/* ---- acknowledged writes ---------------------------------------------------- */

/* A client records each write the store acknowledged (the key and the
 * revision of the ack); a later read that shows the key at an older
 * revision, or not at all, means an acknowledged write was lost (or a read
 * went stale): a violation. */
typedef struct checker_acked_writes checker_acked_writes_t;
checker_acked_writes_t *checker_acked_writes_new(const char *name);
void checker_acked_writes_ack(checker_acked_writes_t *a, const char *key, int64_t rev);
/* A read of key found it at mod revision rev (0: absent). */
void checker_acked_writes_observe(checker_acked_writes_t *a, const char *key, int64_t rev);
uint64_t checker_acked_writes_count(const checker_acked_writes_t *a);
checker_t *checker_acked_writes_checker(checker_acked_writes_t *a);

#endif
