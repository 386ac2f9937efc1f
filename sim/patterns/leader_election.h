/*
 * leader_election: the seed's LeaderElection, a wrapper around etcd's
 * concurrency.Election with a node ID, a leadership channel and a watcher.
 *
 * The seed's bugs (variant "seed" keeps them):
 * - Two goroutines announce the same change: Campaign sends true on
 *   leaderCh when it wins, and WatchLeader sends true when it sees the
 *   leader key name this node. The application sees "I am the leader"
 *   twice and does the leader's work twice.
 * - leaderCh holds one value and Resign sends on it from the goroutine
 *   that reads it (the seed's main loop resigns inside its range loop):
 *   if a notification is already waiting, main blocks on its own send for
 *   good, and the watcher, blocked on its next send, with it.
 * - WatchLeader closes leaderCh on its way out while Campaign may still
 *   send on it: "send on closed channel".
 * - Nothing watches the session: a leader whose lease expired (a pause, a
 *   partition) goes on believing it leads (see checker.h's instant check).
 * The corrected wrapper has one sender (the watcher), which closes the
 * channel it alone writes, and ends leadership when the session is done.
 */
#ifndef CHANSIM_LEADER_ELECTION_H
#define CHANSIM_LEADER_ELECTION_H

#include <stdbool.h>

#include "checker.h"
#include "concurrency.h"

typedef struct leader_election leader_election_t;

/* NewLeaderElection(client, electionID): session TTL ttl_s (seed: 10).
 * track (may be NULL) is told who believes it leads, for the checkers. */
const go_error_t *leader_election_create(etcd_client_t *client, const char *election_id,
                                      int64_t ttl_s, bool seed_variant, checker_leadership_t *track,
                                      leader_election_t **out);
/* Free it before sched_destroy would, with the core objects it made (its two
 * channels; its session, ended by Close, stays with the scheduler). None of
 * its goroutines may still run and nobody may use it again; its entity
 * stays, as the view keeps an entity for the whole run. NULL is ignored. */
void leader_election_destroy(leader_election_t *x);
/* Campaign(ctx): blocks until leader (or an error). */
const go_error_t *leader_election_campaign(leader_election_t *le, ctx_t *ctx);
/* Resign(ctx): gives up leadership (nil if not leader). */
const go_error_t *leader_election_resign(leader_election_t *le, ctx_t *ctx);
bool leader_election_is_leader(const leader_election_t *le);
/* LeaderChanges(): a channel of int64 (1: became leader, 0: lost it). */
chan_t *leader_election_changes(const leader_election_t *le);
/* WatchLeader(ctx): starts the watcher goroutine on the client's node. */
void leader_election_watch_leader(leader_election_t *le, ctx_t *ctx);
void leader_election_close(leader_election_t *le);
/* GetCurrentLeader(ctx): the leader's value (its node ID) into out, "" if
 * none. */
const go_error_t *leader_election_get_current_leader(leader_election_t *le, ctx_t *ctx,
                                                     char *out, size_t size);
const char *leader_election_node_id(const leader_election_t *le);
concurrency_session_t *leader_election_session(const leader_election_t *le);
/* The term this node leads (the leader key's create revision), or 0. */
int64_t leader_election_term(const leader_election_t *le);

#endif
