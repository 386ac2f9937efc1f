/*
 * dfs: exhaustive depth-first search over a program's schedules
 * (`chansim explore --strategy dfs:K`).
 *
 * Stateless: each schedule is a run from the start (a fresh scheduler
 * whose cfg.policy is SCHED_DFS and cfg.dfs this search). The search keeps
 * the stack of decisions of the current run (every sched_decide among two
 * or more alternatives: who runs next, which ready select case fires,
 * which due timer fires first); a run replays the stack's prefix, then
 * takes the first alternative allowed at each new decision. After the run,
 * dfs_next moves the deepest decision that has an alternative left to it
 * and drops the decisions below; the search ends when no decision has one.
 *
 * Preemption bound K: at a decision point of a goroutine (sched_point),
 * running another goroutine than it is a preemption; a schedule has at most
 * K of them (choosing among goroutines after a block, a yield or an exit
 * costs nothing, as in CHESS).
 *
 * Sleep sets (Godefroid 1996): a step is everything that runs from one
 * decision to the next; its footprint is the keys of the operations it did
 * (channels, mutexes, wait groups, ... by object id; shared variables and
 * atomics by name; SCHED_KEY_ANY for what is not tracked: a select of many
 * channels, a context's cancel, timers firing) and the goroutines that ran
 * in it. Once the subtree after running goroutine g at a decision is
 * searched, g sleeps in its later siblings' subtrees until a step
 * dependent on g's (a common key) runs: running g there would only reorder
 * independent steps, already seen. A run in which every allowed
 * alternative sleeps is cut (pruned) and is not a schedule. Plain Lua
 * values shared without sim.shared are not tracked: as in Go, a program
 * must synchronise them for the reduction to hold (--race says if not).
 * With a preemption bound, sleep sets may skip some schedules within the
 * bound that only a reordering beyond it would reach (Musuvathi and Qadeer
 * 2007); without it (a bound no run reaches) the reduction is exact.
 *
 * Ownership: the caller owns the search (dfs_new / dfs_free); schedulers
 * borrow it.
 */
#ifndef CHANSIM_DFS_H
#define CHANSIM_DFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"

typedef struct dfs dfs_t;

/* A search with at most max_preemptions preemptions per schedule, with
 * sleep sets or without. */
dfs_t *dfs_new(int max_preemptions, bool sleep_sets);
void dfs_free(dfs_t *d);

/* Called by the scheduler for each decision among n >= 2 alternatives. */
uint32_t dfs_choose(dfs_t *d, sched_t *s, sched_choice_t kind, uint32_t n);

/* Called by the scheduler when goroutine gid alone can run: if it sleeps,
 * the run is cut. */
void dfs_single(dfs_t *d, sched_t *s, uint64_t gid);

/* After a run under the search (before its scheduler is destroyed): close
 * the run. Then: was it cut by the sleep sets (not a schedule)? did it
 * leave the recorded prefix (the program is not deterministic)? */
void dfs_run_end(dfs_t *d, sched_t *s);
bool dfs_run_pruned(const dfs_t *d);
bool dfs_run_diverged(const dfs_t *d);
/* The decisions of the run just made: a replay list (--schedule). */
const uint32_t *dfs_decisions(dfs_t *d, size_t *n);
/* Prepare the next schedule; false when every one has been run. */
bool dfs_next(dfs_t *d);
/* Preemptions in the run just made. */
int dfs_run_preemptions(const dfs_t *d);

#endif
