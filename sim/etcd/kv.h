/*
 * kv: etcd's data model as a pure, deterministic data structure (etcd's
 * mvcc and lessor packages, without the disk and without raft).
 *
 * The store has one global revision, 1 when empty, raised by exactly one
 * for every request that changes something: a put, a delete that deletes at
 * least one key, a transaction whose chosen branch changes at least one
 * key, a lease revocation or expiry that deletes at least one key. Keys are
 * kept sorted in byte order (memcmp), so a prefix is a contiguous range.
 * Each key carries its create revision, its mod revision, its version (1 at
 * creation, +1 per put; a deleted key is gone, and a new put recreates it at
 * version 1 with a new create revision) and the lease it is attached to.
 *
 * Leases have a TTL in whole seconds (raised to the minimum, 2s by default,
 * as etcd's default timing enforces) and an absolute deadline in simulated
 * nanoseconds. The store never reads a clock: every lease call takes `now`,
 * and kv_lease_expired lists the leases whose deadline is not after a given
 * time; the server (etcd.c) decides when to look (every 500ms) and revokes
 * them. Revoking a lease deletes every key attached to it in one revision.
 *
 * Every change is kept as an event (PUT or DELETE with the key's state after
 * the change) in a history ordered by revision, then by the order of the
 * changes within the revision; watches read it from any revision not older
 * than the compaction point. kv_compact drops the events before a revision;
 * reading them afterwards is "mvcc: required revision has been compacted".
 *
 * Nothing here calls the scheduler: the store is unit-testable on its own.
 *
 * Ownership: the store owns its keys, values, leases and history (malloc'd;
 * kv_destroy frees them). Strings passed in (keys, values, ops, compares)
 * are borrowed for the call and copied when kept. Results are written into
 * a kv_result_t the caller provides; their arrays and strings are malloc'd
 * and owned by the caller, released with kv_result_clear. Events are
 * returned the same way and released with kv_events_free.
 */
#ifndef CHANSIM_KV_H
#define CHANSIM_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h" /* simtime_t only: the store never calls the scheduler */

/* Expected failures, with etcd's messages (kv_strerror). */
typedef enum kv_err {
    KV_OK = 0,
    KV_ERR_LEASE_NOT_FOUND, /* "etcdserver: requested lease not found" */
    KV_ERR_LEASE_EXISTS,    /* "etcdserver: lease already exists" */
    KV_ERR_TTL_TOO_LARGE,   /* "etcdserver: too large lease TTL" */
    KV_ERR_COMPACTED,       /* "mvcc: required revision has been compacted" */
    KV_ERR_FUTURE_REV,      /* "mvcc: required revision is a future revision" */
    KV_ERR_DUPLICATE_KEY,   /* "etcdserver: duplicate key given in txn request" */
    KV_ERR_EMPTY_KEY,       /* "etcdserver: key is not provided" */
    KV_ERR_NO_LEADER,       /* "etcdserver: no leader" (a member of a store of several; never the store's own) */
    KV_ERR_COUNT
} kv_err_t;

/* etcd's text for an error code ("" for KV_OK). Static. */
const char *kv_strerror(kv_err_t e);

/* The server's defaults, as etcd with default timing has them. */
#define KV_MIN_TTL_S 2            /* minimum lease TTL (1.5 x election timeout, rounded up) */
#define KV_MAX_TTL_S 9000000000LL /* etcd's MaxLeaseTTL */
/* Lease IDs are allocated from this base upwards (etcd's look: 694d...). */
#define KV_LEASE_ID_BASE 0x694d000000000000LL

/* ---- keys and values --------------------------------------------------- */

/* A key's state (mvccpb.KeyValue). In a result or an event the strings are
 * owned by whoever owns that result or event. */
typedef struct kv_kv {
    char *key;          /* the key, NUL-terminated */
    char *value;        /* the value ("" for a delete event or keys_only) */
    int64_t create_rev; /* revision of the put that created the key (0 in a delete event) */
    int64_t mod_rev;    /* revision of its last change (the delete's, in a delete event) */
    int64_t version;    /* puts since creation (0 in a delete event) */
    int64_t lease;      /* attached lease, 0 if none */
} kv_kv_t;

typedef enum kv_sort_target {
    KV_SORT_KEY,     /* byte order of keys (the default) */
    KV_SORT_VERSION,
    KV_SORT_CREATE,  /* create revision */
    KV_SORT_MOD,     /* mod revision */
    KV_SORT_VALUE,
} kv_sort_target_t;

typedef enum kv_sort_order {
    KV_SORT_NONE,    /* key order; ascending by the target if the target is not KEY */
    KV_SORT_ASCEND,
    KV_SORT_DESCEND,
} kv_sort_order_t;

/* Options of a range read (Get). Zero is a plain single-key read. As in
 * etcd, filters and sorting apply to the whole range before the limit, and
 * the result's count is the number of keys in the range before filters. */
typedef struct kv_range_opts {
    bool prefix;                  /* every key starting with key ("" = all keys) */
    kv_sort_target_t sort_target; /* what to sort by */
    kv_sort_order_t sort_order;   /* which way */
    int64_t limit;                /* at most this many kvs; 0: no limit */
    int64_t min_create_rev;       /* keep create_rev >= this; 0: no bound */
    int64_t max_create_rev;       /* keep create_rev <= this; 0: no bound */
    int64_t min_mod_rev;          /* keep mod_rev >= this; 0: no bound */
    int64_t max_mod_rev;          /* keep mod_rev <= this; 0: no bound */
    bool keys_only;               /* values left empty */
    bool count_only;              /* no kvs, only the count */
} kv_range_opts_t;

/* clientv3.WithFirstCreate() / WithLastCreate(): the oldest / newest key
 * of a prefix by create revision. */
kv_range_opts_t kv_opts_first_create(void);
kv_range_opts_t kv_opts_last_create(void);

/* ---- transactions ------------------------------------------------------ */

typedef enum kv_op_type { KV_OP_RANGE, KV_OP_PUT, KV_OP_DELETE } kv_op_type_t;

/* One operation (clientv3.Op). Strings are borrowed by the call that gets
 * the op, except in a copy made by kv_txn_dup, which owns them. */
typedef struct kv_op {
    kv_op_type_t type;
    const char *key;      /* the key, or the prefix (range: opts.prefix; delete: prefix) */
    const char *value;    /* put: the value (NULL = "") */
    int64_t lease;        /* put: lease to attach, 0 for none (a put without a lease detaches) */
    bool prefix;          /* delete: every key starting with key */
    kv_range_opts_t opts; /* range: the read's options */
} kv_op_t;

/* Constructors for the common ops (strings borrowed, not copied). */
kv_op_t kv_op_get(const char *key, const kv_range_opts_t *opts /* NULL: plain */);
kv_op_t kv_op_put(const char *key, const char *value, int64_t lease);
kv_op_t kv_op_delete(const char *key, bool prefix);

typedef enum kv_cmp_target {
    KV_CMP_VALUE,   /* compares value (a missing key never matches a value compare) */
    KV_CMP_VERSION, /* version (0 for a missing key) */
    KV_CMP_CREATE,  /* create revision (0 for a missing key) */
    KV_CMP_MOD,     /* mod revision (0 for a missing key) */
    KV_CMP_LEASE,   /* attached lease (0 for none or a missing key) */
} kv_cmp_target_t;

typedef enum kv_cmp_result {
    KV_CMP_EQUAL,     /* = */
    KV_CMP_NOT_EQUAL, /* != */
    KV_CMP_LESS,      /* < */
    KV_CMP_GREATER,   /* > */
} kv_cmp_result_t;

/* A compare on one key (clientv3.Compare). */
typedef struct kv_cmp {
    const char *key;          /* the key */
    kv_cmp_target_t target;   /* what of it */
    kv_cmp_result_t result;   /* how */
    int64_t num;              /* the operand for VERSION, CREATE, MOD, LEASE */
    const char *value;        /* the operand for VALUE (NULL = "") */
} kv_cmp_t;

/* Constructors: kv_cmp_num(key, KV_CMP_CREATE, KV_CMP_EQUAL, 0) is
 * Compare(CreateRevision(key), "=", 0). Strings borrowed. */
kv_cmp_t kv_cmp_num(const char *key, kv_cmp_target_t target, kv_cmp_result_t result, int64_t num);
kv_cmp_t kv_cmp_value(const char *key, kv_cmp_result_t result, const char *value);

/* If(cmps...).Then(then_ops...).Else(else_ops...). All compares must hold
 * for the then branch. Arrays and strings are borrowed by kv_txn. */
typedef struct kv_txn {
    const kv_cmp_t *cmps;
    size_t ncmps;
    const kv_op_t *then_ops;
    size_t nthen;
    const kv_op_t *else_ops;
    size_t nelse;
} kv_txn_t;

/* A deep copy (arrays and strings malloc'd): free with kv_txn_free. */
kv_txn_t *kv_txn_dup(const kv_txn_t *t);
void kv_txn_free(kv_txn_t *t);
/* Bytes the request would take on the wire (keys, values, overhead), for
 * bandwidth. */
size_t kv_txn_size(const kv_txn_t *t);

/* The result of one op of a transaction (or of a single-op request). */
typedef struct kv_op_result {
    kv_op_type_t type;
    kv_kv_t *kvs;    /* range: the kvs, malloc'd */
    size_t nkvs;
    int64_t count;   /* range: keys in the range, before filters and limit */
    bool more;       /* range: the limit cut some off */
    int64_t deleted; /* delete: keys deleted */
} kv_op_result_t;

/* What a request returns. For a single-op request (kv_put, kv_range,
 * kv_delete, and the client's etcd_put/get/delete) the op's result is in
 * `op` and `ops` is empty; a transaction's are in `ops`, one per op of the
 * branch that ran. Caller owns the arrays; release with kv_result_clear. */
typedef struct kv_result {
    int64_t revision;    /* the store's revision after the request (the response header's) */
    bool succeeded;      /* txn: the compares held and the then branch ran */
    kv_op_result_t op;   /* a single op's result */
    kv_op_result_t *ops; /* txn: per-op results */
    size_t nops;
    int64_t lease;       /* lease calls: the lease ID */
    int64_t ttl;         /* lease calls: the TTL in seconds (grant, keep-alive;
                            time-to-live: seconds left, -1 if the lease is gone) */
    int64_t granted_ttl; /* time-to-live: the TTL granted */
    int64_t lease_keys;  /* time-to-live: keys attached */
    int64_t deleted;     /* revoke/expiry: keys deleted with the lease */
} kv_result_t;

/* Free what a result holds and zero it. NULL is ignored. */
void kv_result_clear(kv_result_t *r);
/* Move src into dst (dst is cleared first; src is zeroed). */
void kv_result_move(kv_result_t *dst, kv_result_t *src);
/* A deep copy into dst (dst is overwritten, not cleared). */
void kv_result_copy(kv_result_t *dst, const kv_result_t *src);
/* Bytes it takes on the wire. */
size_t kv_result_size(const kv_result_t *r);
/* Deep copy / free of one kv (strings malloc'd). */
void kv_kv_copy(kv_kv_t *dst, const kv_kv_t *src);
void kv_kv_clear(kv_kv_t *kv);

/* ---- events (the history watches read) --------------------------------- */

typedef enum kv_event_type { KV_EVENT_PUT, KV_EVENT_DELETE } kv_event_type_t;

typedef struct kv_event {
    kv_event_type_t type;
    kv_kv_t kv;   /* PUT: the key after the put; DELETE: key and mod_rev (the delete's) only */
} kv_event_t;

/* Free an array of n events (and their strings). NULL is ignored. */
void kv_events_free(kv_event_t *ev, size_t n);

/* ---- the store ---------------------------------------------------------- */

typedef struct kv kv_t;

typedef struct kv_cfg {
    int64_t min_ttl_s;  /* leases granted shorter get this; 0: KV_MIN_TTL_S */
} kv_cfg_t;

/* A new empty store at revision 1. cfg NULL: defaults. Caller owns; free
 * with kv_destroy. */
kv_t *kv_create(const kv_cfg_t *cfg);
void kv_destroy(kv_t *kv);

int64_t kv_revision(const kv_t *kv);
/* The compaction point: events before it are gone (0 if never compacted). */
int64_t kv_compact_revision(const kv_t *kv);
size_t kv_key_count(const kv_t *kv);
/* The i-th key in byte order (borrowed until the next write), or NULL. */
const kv_kv_t *kv_key_at(const kv_t *kv, size_t i);
/* The current state of key (borrowed until the next write), or NULL. */
const kv_kv_t *kv_lookup(const kv_t *kv, const char *key);

/* Put(key, value, WithLease(lease)): one new revision. Errors: EMPTY_KEY,
 * LEASE_NOT_FOUND (lease != 0 and not granted). out may be NULL. */
kv_err_t kv_put(kv_t *kv, const char *key, const char *value, int64_t lease, kv_result_t *out);
/* Get(key, opts...): out->op holds the kvs. Errors: EMPTY_KEY (key empty
 * without prefix). */
kv_err_t kv_range(kv_t *kv, const char *key, const kv_range_opts_t *opts, kv_result_t *out);
/* Delete(key [, WithPrefix()]): every key deleted in one new revision, none
 * if nothing matched. out->op.deleted counts them. */
kv_err_t kv_delete(kv_t *kv, const char *key, bool prefix, kv_result_t *out);
/* Txn: evaluate every compare, run one branch; all its writes share one
 * new revision (none if they change nothing); reads in the branch see the
 * branch's earlier writes. Errors (the store unchanged): EMPTY_KEY,
 * LEASE_NOT_FOUND (a put with an unknown lease, in either branch),
 * DUPLICATE_KEY (a branch writes one key twice: two puts, or a put inside
 * a delete). */
kv_err_t kv_txn(kv_t *kv, const kv_txn_t *t, kv_result_t *out);
/* Compact(rev): drop history before rev. Errors: COMPACTED (rev not after
 * the current compaction point), FUTURE_REV (rev > the revision). */
kv_err_t kv_compact(kv_t *kv, int64_t rev);

/* The events of revisions [start_rev, end_rev] (end_rev 0: up to now) on
 * key, or on every key starting with key if prefix, in revision order.
 * start_rev 0 means the next revision (no events). *out is malloc'd (NULL
 * if none); free with kv_events_free. Errors: COMPACTED if start_rev is
 * before the compaction point. */
kv_err_t kv_events(const kv_t *kv, const char *key, bool prefix, int64_t start_rev,
                   int64_t end_rev, kv_event_t **out, size_t *n);
/* Check the store's invariants (kv.c lists them); a broken one aborts
 * with a report (core/invariant.h). The store runs it itself after every
 * change (sparsely in release builds); tests call it after their own. */
void kv_check(const kv_t *kv);

/* Whether a key matches a watch on key/prefix (byte order, "" prefix = all). */
bool kv_key_matches(const char *key, const char *watch_key, bool prefix);

/* ---- leases ------------------------------------------------------------- */

/* What the store knows of a lease. */
typedef struct kv_lease_info {
    int64_t id;         /* the lease ID */
    int64_t ttl;        /* granted TTL in seconds (after the minimum) */
    simtime_t deadline; /* absolute simulated time it expires at unless renewed */
    size_t nkeys;       /* keys attached */
} kv_lease_info_t;

/* LeaseGrant(ttl) at time now: id 0 picks the next free ID from
 * KV_LEASE_ID_BASE; ttl below the minimum is raised to it. deadline = now
 * + ttl seconds. out->lease and out->ttl are set. Errors: LEASE_EXISTS,
 * TTL_TOO_LARGE. */
kv_err_t kv_lease_grant(kv_t *kv, int64_t id, int64_t ttl_s, simtime_t now, kv_result_t *out);
/* LeaseKeepAlive at now: deadline = now + ttl; *ttl_out = the TTL.
 * Errors: LEASE_NOT_FOUND (unknown, revoked). A lease whose deadline has
 * passed but that was not revoked yet is still renewed here; the server
 * decides whether to allow that (etcd does not: see etcd.c). */
kv_err_t kv_lease_renew(kv_t *kv, int64_t id, simtime_t now, int64_t *ttl_out);
/* LeaseRevoke: delete the lease and every key attached to it, the keys in
 * one revision (none if it had no keys). out->deleted counts them.
 * Errors: LEASE_NOT_FOUND. */
kv_err_t kv_lease_revoke(kv_t *kv, int64_t id, kv_result_t *out);
/* Leases whose deadline is <= now, in (deadline, id) order: up to max IDs
 * into ids; returns how many there are in all. */
size_t kv_lease_expired(const kv_t *kv, simtime_t now, int64_t *ids, size_t max);
/* A lease's state; false if there is no such lease. */
bool kv_lease_lookup(const kv_t *kv, int64_t id, kv_lease_info_t *out);
size_t kv_lease_count(const kv_t *kv);
/* The i-th lease in ID order; false past the end. */
bool kv_lease_at(const kv_t *kv, size_t i, kv_lease_info_t *out);
/* etcd's Promote at a new leader or a restart: every lease's deadline
 * becomes now + extend + its TTL. */
void kv_lease_extend_all(kv_t *kv, simtime_t now, simtime_t extend);

#endif
