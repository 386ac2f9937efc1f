/*
 * repro: reproducer files, `chansim replay FILE` and `chansim shrink FILE`.
 *
 * A reproducer is one JSON object (docs/schemas/reproducer.schema.json,
 * format "chansim-reproducer/1") that says everything a failing run
 * depended on: the scenario's path and a hash of its content, chansim's
 * version, the seed, the strategy, the --set parameters and the other run
 * options that change a run (--race, --preempt, --until, the Lua bounds),
 * the scheduling decisions the run took, and what came of it: its trace
 * hash, its events (with a 16-bit digest of each, so that a replay that
 * goes another way says at which event), its exit status and its failure
 * (kind and message). `chansim explore` writes one per failing run; they
 * are written whole or not at all (a temporary file renamed).
 *
 * replay FILE runs the decisions again (the replay policy: every decision
 * read back, the default choice where the list ends) and says
 * "reproduced (hash ...)" when the run is the recorded one, else "diverged
 * at event N: ..." (exit 1). A scenario whose content hash changed is
 * refused (exit 3) unless --force.
 *
 * shrink FILE minimises the schedule while the run fails the same way
 * (same failure kind and message): ddmin over the decisions, each removed
 * decision replaced by the default choice (the goroutine at a decision
 * point goes on, so a removed decision is a preemption less), then the
 * shortest prefix of the resulting decisions that replays the same run.
 * It writes the minimal reproducer (-o OUT, default FILE with .min.json)
 * and prints the preemptions and decisions before and after.
 */
#ifndef CHANSIM_REPRO_H
#define CHANSIM_REPRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "explain.h"
#include "host.h"
#include "runopts.h"

#define REPRO_FORMAT "chansim-reproducer/1"
/* Event digests kept in a reproducer: the first this many events. */
#define REPRO_MAX_DIGESTS 65536

typedef struct repro {
    char *scenario;        /* the path as given to explore */
    char scenario_hash[32];/* "fnv1a64:<16 hex>" of its content */
    char *version;         /* chansim's */
    uint64_t seed;
    char *strategy;        /* "random", "pct:3", ... as explored */
    char **sets;           /* "NAME=VALUE" */
    int nsets;
    bool race;
    int preempt;
    int64_t until_ns;      /* 0: the scenario's */
    int64_t instr_budget;  /* 0: default */
    uint64_t mem_limit;    /* bytes, 0: default */
    uint32_t *decisions;
    size_t ndecisions;
    uint64_t preemptions;  /* preemptions at decision points in the run */
    uint64_t trace_hash;
    uint64_t events;
    uint16_t *digests;     /* one per event, at most REPRO_MAX_DIGESTS */
    size_t ndigests;
    int exit;
    char *failure_kind;    /* "expectation", "invariant", "finally", "panic",
                              "fatal", "deadlock", "leak", "race", "expected_failure"
                              (a declared expect_failure did not happen) */
    char *failure_message;
    char *failure_where;   /* file:line of a failed check, "" otherwise */
} repro_t;

void repro_free(repro_t *r);
/* Is path a reproducer (its first non-blank byte '{')? */
bool repro_is_file(const char *path);
/* Read path into r; false with a message in err. */
bool repro_read(const char *path, repro_t *r, char *err, size_t errsize);
/* Write r to path whole or not at all; false (errno) if it could not. */
bool repro_write(const char *path, const repro_t *r);

/* The failure of a finished run: its kind, message and, for a check, its
 * file:line (static or borrowed from h). False if the run passed. */
bool repro_failure_of(host_t *h, int status, const char **kind, const char **message,
                      const char **where);

/* explore: a reproducer for each failing seed, in dir (created if
 * missing); the runs are made again here with the decisions recorded.
 * Prints the files written on stderr. False if one could not be written
 * (the folder, a write, --max-output): explore's exit status is then 4. */
bool repro_explore_write(const runopts_t *o, const char *dir, const uint64_t *seeds, size_t n);

/* chansim replay FILE (o parsed as replay's options: --force, --quiet). */
int repro_replay_main(runopts_t *o);
/* chansim shrink FILE [-o OUT] [--max-runs N] */
int repro_shrink_main(int argc, char **argv);
/* After a failed `chansim run` (failed: its host, status: its exit
 * status): the run made again with a recorder, without the race detector,
 * and the interleaving of failed's failure printed on out. */
void repro_explain_run(const host_options_t *opt, host_t *failed, int status, FILE *out);
/* The same from the steps ex recorded during the failed run itself
 * (attached before it ran, detached after): no second run. */
void repro_explain_recorded(const explain_t *ex, host_t *failed, int status, FILE *out);

#endif
