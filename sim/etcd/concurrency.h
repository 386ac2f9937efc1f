/*
 * concurrency: etcd's client/v3/concurrency package (Session, Mutex,
 * Election) on the simulated client (etcd.h), step for step as etcd's Go
 * code does it, so that the same races and the same hazards appear.
 *
 * Session: a lease (granted with the session's TTL, 60s by default) kept
 * alive by etcd_keepalive from a goroutine on the client's node; Done is
 * closed when keeping alive ends (the lease expired or was not found, no
 * reply before the deadline, the session's ctx done, Orphan or Close).
 * Close orphans the session and revokes the lease (with a timeout of TTL).
 *
 * Mutex (prefix p): the key is p + "/" + the session's lease ID in
 * lowercase hex. Lock runs one transaction: if the key's create revision
 * is 0, put it (attached to the lease), else get it; and get the key of
 * the prefix with the lowest create revision, the holder. If that is not
 * its own key, it waits for the deletion of the newest key created before
 * its own (a Get with WithLastCreate and WithMaxCreateRev, then a watch
 * from the Get's revision), repeating until no older key is left, then
 * reads its own key again: gone means "mutex: session is expired". If the
 * wait fails (ctx done, watch error) it deletes its own key and returns the
 * error. Lock order is thus create-revision order, one holder at a time,
 * and a holder whose lease expires loses the lock without knowing: use
 * IsOwner() in the protected transaction, or the revision as a fencing
 * token (concurrency_mutex_header_revision).
 *
 * Election (prefix p): Campaign puts p + "/" + lease hex with the value
 * (or proclaims the value if the key exists), then waits for every older
 * key to go, as Lock does; on ctx done it resigns. Proclaim rewrites the
 * value only while the key's create revision is the one it campaigned
 * with; Resign deletes it; Leader reads the oldest key; Observe follows the
 * leader's key from put to put and on to the next leader.
 *
 * Every function that talks to the store blocks the calling goroutine and
 * returns a Go-style error (NULL on success): the store's and the
 * client's errors (etcd.h) and the package's own below.
 *
 * Trace and view: each session publishes an entity "session" (under its
 * client's node; state "alive", then "expired", "orphaned" or "closed";
 * fields lease, ttl, keepalives, next_keepalive_ns) and each Mutex an
 * entity "mutex" (under its session; state "idle", "waiting", "held";
 * field rev); the store publishes the prefixes' truth (etcd_server_track).
 * Lock and campaign outcomes are EV_USER events.
 *
 * Ownership: sessions, mutexes and elections are owned by the running
 * scheduler; strings passed in are copied; strings returned are borrowed
 * from the object until its next call.
 */
#ifndef CHANSIM_CONCURRENCY_H
#define CHANSIM_CONCURRENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "etcd.h"
#include "goerr.h"
#include "kv.h"

/* The package's errors, compared by identity. */
extern const go_error_t CONCURRENCY_ERR_LOCKED;          /* "mutex: Locked by another session" */
extern const go_error_t CONCURRENCY_ERR_SESSION_EXPIRED; /* "mutex: session is expired" */
extern const go_error_t CONCURRENCY_ERR_LOCK_RELEASED;   /* "mutex: lock has already been released" */
extern const go_error_t CONCURRENCY_ERR_NOT_LEADER;      /* "election: not leader" */
extern const go_error_t CONCURRENCY_ERR_NO_LEADER;       /* "election: no leader" */
extern const go_error_t CONCURRENCY_ERR_LOST_WATCHER;    /* "lost watcher waiting for delete" */

#define ETCD_SESSION_TTL_DEFAULT 60 /* concurrency.defaultSessionTTL, seconds */

/* ---- Session --------------------------------------------------------------- */

typedef struct concurrency_session concurrency_session_t;

typedef struct concurrency_session_opts {
    int64_t ttl_s; /* WithTTL; <= 0: 60 */
    int64_t lease; /* WithLease: keep this lease alive instead of granting one; 0: grant */
    ctx_t *ctx;    /* WithContext: for the grant, keeping alive and Close; NULL: background */
} concurrency_session_opts_t;

/* NewSession(client, opts...): grants the lease (unless opts->lease) and
 * starts keeping it alive. opts NULL: defaults. On success *out is the
 * session; on error (the grant's) *out is NULL. */
const go_error_t *concurrency_session_new(etcd_client_t *c, const concurrency_session_opts_t *opts,
                                          concurrency_session_t **out);
etcd_client_t *concurrency_session_client(const concurrency_session_t *s);
/* Lease(): the lease ID. */
int64_t concurrency_session_lease(const concurrency_session_t *s);
int64_t concurrency_session_ttl(const concurrency_session_t *s);
/* Done(): closed when keeping alive ends. Owned by the scheduler. */
chan_t *concurrency_session_done(const concurrency_session_t *s);
/* Orphan(): stop keeping alive and wait for Done; the lease is left to
 * expire. */
void concurrency_session_orphan(concurrency_session_t *s);
/* Close(): Orphan, then Revoke the lease with a timeout of the TTL. */
const go_error_t *concurrency_session_close(concurrency_session_t *s);
entity_t *concurrency_session_entity(const concurrency_session_t *s);

/* ---- Mutex ------------------------------------------------------------------ */

typedef struct concurrency_mutex concurrency_mutex_t;

/* NewMutex(session, prefix): keys go under prefix + "/". Tracks the
 * prefix at the store for the view (etcd_server_track). */
concurrency_mutex_t *concurrency_mutex_new(concurrency_session_t *s, const char *prefix);
/* Lock(ctx): returns once held (NULL), or the error: ctx's, the store's,
 * CONCURRENCY_ERR_SESSION_EXPIRED (the key was gone when the wait ended). A second
 * Lock through the same session and prefix returns at once. */
const go_error_t *concurrency_mutex_lock(concurrency_mutex_t *m, ctx_t *ctx);
/* TryLock(ctx): NULL if now held; CONCURRENCY_ERR_LOCKED (after deleting its own
 * key) if another session holds it. */
const go_error_t *concurrency_mutex_try_lock(concurrency_mutex_t *m, ctx_t *ctx);
/* Unlock(ctx): deletes the key; CONCURRENCY_ERR_LOCK_RELEASED if nothing is held
 * (never locked, or already unlocked). */
const go_error_t *concurrency_mutex_unlock(concurrency_mutex_t *m, ctx_t *ctx);
/* IsOwner(): the compare "CreateRevision(Key()) == my revision", to put in
 * a transaction's If. Its key is borrowed from m until the next call. */
kv_cmp_t concurrency_mutex_is_owner(const concurrency_mutex_t *m);
/* Key(): the lock key ("" before Lock and after Unlock; Go has "\x00"
 * after Unlock). Borrowed until the next call on m. */
const char *concurrency_mutex_key(const concurrency_mutex_t *m);
/* The key's create revision (-1 when none): the lock's place in line. */
int64_t concurrency_mutex_rev(const concurrency_mutex_t *m);
/* Header().Revision: the store's revision when the lock was acquired (0
 * before), increasing from holder to holder: a fencing token. */
int64_t concurrency_mutex_header_revision(const concurrency_mutex_t *m);
entity_t *concurrency_mutex_entity(const concurrency_mutex_t *m);

/* ---- Election ---------------------------------------------------------------- */

typedef struct concurrency_election concurrency_election_t;

/* NewElection(session, prefix): keys go under prefix + "/". Tracks the
 * prefix at the store for the view. */
concurrency_election_t *concurrency_election_new(concurrency_session_t *s, const char *prefix);
/* Campaign(ctx, val): returns NULL once leader. On error: ctx's (the
 * candidacy is resigned when ctx is done), the store's, or Proclaim's.
 * As in etcd, it does not check that its key still exists when the wait
 * ends. */
const go_error_t *concurrency_election_campaign(concurrency_election_t *e, ctx_t *ctx, const char *val);
/* Proclaim(ctx, val): CONCURRENCY_ERR_NOT_LEADER if this election never won or its
 * key's create revision changed (the key was lost). */
const go_error_t *concurrency_election_proclaim(concurrency_election_t *e, ctx_t *ctx, const char *val);
/* Resign(ctx): NULL if not leader; else deletes the key if it is still the
 * one campaigned with. */
const go_error_t *concurrency_election_resign(concurrency_election_t *e, ctx_t *ctx);
/* Leader(ctx): out->op.kvs[0] is the leader's key and value;
 * CONCURRENCY_ERR_NO_LEADER if there is none. */
const go_error_t *concurrency_election_leader(concurrency_election_t *e, ctx_t *ctx, kv_result_t *out);

/* What Observe delivers: the leader's key after a change. A scheduler
 * object: free with concurrency_observe_free or leave it to sched_destroy. */
typedef struct concurrency_observe {
    obj_t obj;        /* scheduler bookkeeping, not for users */
    int64_t revision; /* the header's revision (the put's, for a put) */
    kv_kv_t kv;       /* the leader's key, value, create revision (the term) */
} concurrency_observe_t;

void concurrency_observe_free(concurrency_observe_t *o);

/* Observe(ctx): an unbuffered channel of concurrency_observe_t pointers: the
 * current leader (once there is one), then every put on the leader's key
 * (versions increasing), then the next leader after the key is deleted;
 * closed when ctx is done or the watch fails. A goroutine on the client's
 * node feeds it. */
chan_t *concurrency_election_observe(concurrency_election_t *e, ctx_t *ctx);

/* Key(), Rev(), Header().Revision: the leader key ("" if not leader), its
 * create revision (the term), the revision of the last successful
 * campaign, proclaim or resign. */
const char *concurrency_election_key(const concurrency_election_t *e);
int64_t concurrency_election_rev(const concurrency_election_t *e);
int64_t concurrency_election_header_revision(const concurrency_election_t *e);
/* Whether Campaign has won and Resign/Proclaim failure has not since
 * cleared it (etcd's leaderSession != nil). */
bool concurrency_election_is_leader(const concurrency_election_t *e);

#endif
