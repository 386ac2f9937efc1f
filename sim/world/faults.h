/*
 * faults: a schedule of faults injected into a run's clusters, by node
 * name: `chansim run SCENARIO --faults FILE`, and what the view writes
 * when a fault is injected by clicking a node or a link (docs/view.md).
 *
 * A schedule is text, one fault a line: a simulated time (a Go duration,
 * "2.5s", "1500ms") and what happens then:
 *
 *     2.5s crash node1
 *     4s restart node1
 *     6s pause node2          (resume node2 to end it)
 *     8s isolate node3        (cut from every other node)
 *     9s partition node1 node2 | etcd
 *     12s heal                (every cluster)
 *
 * Blank lines and lines starting with # are skipped. Each fault is a
 * time.AfterFunc armed when the run starts: at its time it runs in a
 * goroutine of its own and finds its node among the clusters then alive
 * (a name no cluster has is reported on standard error and skipped). A
 * run with the same scenario, seed and schedule is the same run.
 *
 * Ownership: faults_parse fills a schedule the caller frees with
 * faults_free; faults_arm borrows it until the run ends.
 */
#ifndef CHANSIM_FAULTS_H
#define CHANSIM_FAULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sched.h"

typedef struct faults_entry {
    simtime_t at;
    char what[160]; /* "crash node1", "partition a b | c", "heal" */
} faults_entry_t;

typedef struct faults {
    faults_entry_t *v;
    size_t n;
} faults_t;

/* Parse a schedule. False with "LINE: message" in err (nothing kept). */
bool faults_parse(const char *text, faults_t *out, char *err, size_t errsize);
void faults_free(faults_t *f);
/* From a goroutine of a running scheduler at time 0: each fault happens
 * at its time. */
void faults_arm(const faults_t *f);
/* Apply one fault now. False with the reason in err. */
bool faults_apply(const char *what, char *err, size_t errsize);

#endif
