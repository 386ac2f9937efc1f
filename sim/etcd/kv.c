/*
 * kv: etcd's data model. See kv.h for the model.
 *
 * Keys live in one array sorted by memcmp order (binary search, insertion
 * by memmove): simulations hold hundreds of keys, not millions, and a flat
 * array keeps every walk in key order for free. Leases are another array
 * sorted by ID; the keys of a lease are found by a scan. The history is an
 * array of events in revision order; compaction drops a prefix of it.
 *
 * A write request takes the next revision the first time it changes
 * something, so a request that changes nothing (a delete that matched no
 * key, a revoke of a lease without keys, a transaction of reads) leaves
 * the revision alone, as etcd does.
 *
 * Invariants (kv_check, run after every change: in full in debug builds,
 * at the 1st, 2nd, 4th, 8th, ... change otherwise; the O(1) ones on every
 * write in every build): the revision only goes up, by one per request
 * that changes something; every key has 0 < create_rev <= mod_rev <=
 * revision and version >= 1, keys are in strictly increasing byte order,
 * and a key's lease, if any, exists; leases are in increasing ID order;
 * the history is in non-decreasing revision order, every event at most the
 * revision and not before the compaction point; the compaction point is at
 * most the revision.
 */
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invariant.h"
#include "mem.h"

typedef struct lease {
    int64_t id;         /* the lease ID */
    int64_t ttl;        /* granted TTL, seconds */
    simtime_t deadline; /* absolute expiry unless renewed */
} lease_t;

struct kv {
    int64_t rev;           /* the current revision */
    int64_t compact_rev;   /* events before it are gone; 0 if never compacted */
    kv_kv_t *keys;         /* sorted by key */
    size_t nkeys, capkeys;
    lease_t *leases;       /* sorted by id */
    size_t nleases, capleases;
    kv_event_t *hist;      /* in revision order */
    size_t nhist, caphist;
    int64_t min_ttl;       /* seconds */
    int64_t next_lease;    /* counter for IDs from KV_LEASE_ID_BASE */
    /* the write in progress */
    bool writing;          /* a revision has been taken by the current request */
    unsigned long long checks; /* kv_check's sparse counter */
};

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? (cap) * 2 : 16;                                 \
            (arr) = mem_realloc((arr), (cap) * sizeof *(arr));                 \
        }                                                                   \
    } while (0)

const char *kv_strerror(kv_err_t e)
{
    switch (e) {
    case KV_OK: return "";
    case KV_ERR_LEASE_NOT_FOUND: return "etcdserver: requested lease not found";
    case KV_ERR_NO_LEADER: return "etcdserver: no leader";
    case KV_ERR_LEASE_EXISTS: return "etcdserver: lease already exists";
    case KV_ERR_TTL_TOO_LARGE: return "etcdserver: too large lease TTL";
    case KV_ERR_COMPACTED: return "mvcc: required revision has been compacted";
    case KV_ERR_FUTURE_REV: return "mvcc: required revision is a future revision";
    case KV_ERR_DUPLICATE_KEY: return "etcdserver: duplicate key given in txn request";
    case KV_ERR_EMPTY_KEY: return "etcdserver: key is not provided";
    case KV_ERR_COUNT: break;
    }
    return "unknown error";
}

/* ---- small constructors -------------------------------------------------- */

kv_range_opts_t kv_opts_first_create(void)
{
    kv_range_opts_t o;
    memset(&o, 0, sizeof o);
    o.prefix = true;
    o.sort_target = KV_SORT_CREATE;
    o.sort_order = KV_SORT_ASCEND;
    o.limit = 1;
    return o;
}

kv_range_opts_t kv_opts_last_create(void)
{
    kv_range_opts_t o = kv_opts_first_create();
    o.sort_order = KV_SORT_DESCEND;
    return o;
}

kv_op_t kv_op_get(const char *key, const kv_range_opts_t *opts)
{
    kv_op_t op;
    memset(&op, 0, sizeof op);
    op.type = KV_OP_RANGE;
    op.key = key;
    if (opts)
        op.opts = *opts;
    return op;
}

kv_op_t kv_op_put(const char *key, const char *value, int64_t lease)
{
    kv_op_t op;
    memset(&op, 0, sizeof op);
    op.type = KV_OP_PUT;
    op.key = key;
    op.value = value;
    op.lease = lease;
    return op;
}

kv_op_t kv_op_delete(const char *key, bool prefix)
{
    kv_op_t op;
    memset(&op, 0, sizeof op);
    op.type = KV_OP_DELETE;
    op.key = key;
    op.prefix = prefix;
    return op;
}

kv_cmp_t kv_cmp_num(const char *key, kv_cmp_target_t target, kv_cmp_result_t result, int64_t num)
{
    kv_cmp_t c;
    memset(&c, 0, sizeof c);
    c.key = key;
    c.target = target;
    c.result = result;
    c.num = num;
    return c;
}

kv_cmp_t kv_cmp_value(const char *key, kv_cmp_result_t result, const char *value)
{
    kv_cmp_t c;
    memset(&c, 0, sizeof c);
    c.key = key;
    c.target = KV_CMP_VALUE;
    c.result = result;
    c.value = value;
    return c;
}

/* ---- copies and frees ------------------------------------------------------ */

static void op_dup(kv_op_t *d, const kv_op_t *s)
{
    *d = *s;
    d->key = mem_strdup(s->key);
    d->value = s->value ? mem_strdup(s->value) : NULL;
}

static void op_free(kv_op_t *o)
{
    free((char *)o->key);
    free((char *)o->value);
}

kv_txn_t *kv_txn_dup(const kv_txn_t *t)
{
    kv_txn_t *d = mem_malloc(sizeof *d);
    kv_cmp_t *cmps = mem_malloc(t->ncmps * sizeof *cmps);
    kv_op_t *th = mem_malloc(t->nthen * sizeof *th);
    kv_op_t *el = mem_malloc(t->nelse * sizeof *el);
    for (size_t i = 0; i < t->ncmps; i++) {
        cmps[i] = t->cmps[i];
        cmps[i].key = mem_strdup(t->cmps[i].key);
        cmps[i].value = t->cmps[i].value ? mem_strdup(t->cmps[i].value) : NULL;
    }
    for (size_t i = 0; i < t->nthen; i++)
        op_dup(&th[i], &t->then_ops[i]);
    for (size_t i = 0; i < t->nelse; i++)
        op_dup(&el[i], &t->else_ops[i]);
    d->cmps = cmps;
    d->ncmps = t->ncmps;
    d->then_ops = th;
    d->nthen = t->nthen;
    d->else_ops = el;
    d->nelse = t->nelse;
    return d;
}

void kv_txn_free(kv_txn_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncmps; i++) {
        free((char *)t->cmps[i].key);
        free((char *)t->cmps[i].value);
    }
    for (size_t i = 0; i < t->nthen; i++)
        op_free((kv_op_t *)&t->then_ops[i]);
    for (size_t i = 0; i < t->nelse; i++)
        op_free((kv_op_t *)&t->else_ops[i]);
    free((void *)t->cmps);
    free((void *)t->then_ops);
    free((void *)t->else_ops);
    free(t);
}

static size_t slen(const char *s) { return s ? strlen(s) : 0; }

size_t kv_txn_size(const kv_txn_t *t)
{
    size_t n = 16;
    for (size_t i = 0; i < t->ncmps; i++)
        n += 16 + slen(t->cmps[i].key) + slen(t->cmps[i].value);
    for (size_t i = 0; i < t->nthen; i++)
        n += 16 + slen(t->then_ops[i].key) + slen(t->then_ops[i].value);
    for (size_t i = 0; i < t->nelse; i++)
        n += 16 + slen(t->else_ops[i].key) + slen(t->else_ops[i].value);
    return n;
}

void kv_kv_copy(kv_kv_t *d, const kv_kv_t *s)
{
    *d = *s;
    d->key = mem_strdup(s->key);
    d->value = mem_strdup(s->value);
}

void kv_kv_clear(kv_kv_t *kv)
{
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof *kv);
}

static void op_result_clear(kv_op_result_t *r)
{
    for (size_t i = 0; i < r->nkvs; i++)
        kv_kv_clear(&r->kvs[i]);
    free(r->kvs);
    memset(r, 0, sizeof *r);
}

static void op_result_copy(kv_op_result_t *d, const kv_op_result_t *s)
{
    *d = *s;
    d->kvs = s->nkvs ? mem_malloc(s->nkvs * sizeof *d->kvs) : NULL;
    for (size_t i = 0; i < s->nkvs; i++)
        kv_kv_copy(&d->kvs[i], &s->kvs[i]);
}

void kv_result_clear(kv_result_t *r)
{
    if (!r)
        return;
    op_result_clear(&r->op);
    for (size_t i = 0; i < r->nops; i++)
        op_result_clear(&r->ops[i]);
    free(r->ops);
    memset(r, 0, sizeof *r);
}

void kv_result_move(kv_result_t *dst, kv_result_t *src)
{
    kv_result_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

void kv_result_copy(kv_result_t *d, const kv_result_t *s)
{
    *d = *s;
    op_result_copy(&d->op, &s->op);
    d->ops = s->nops ? mem_malloc(s->nops * sizeof *d->ops) : NULL;
    for (size_t i = 0; i < s->nops; i++)
        op_result_copy(&d->ops[i], &s->ops[i]);
}

static size_t op_result_size(const kv_op_result_t *r)
{
    size_t n = 16;
    for (size_t i = 0; i < r->nkvs; i++)
        n += 40 + slen(r->kvs[i].key) + slen(r->kvs[i].value);
    return n;
}

size_t kv_result_size(const kv_result_t *r)
{
    size_t n = 32 + op_result_size(&r->op);
    for (size_t i = 0; i < r->nops; i++)
        n += op_result_size(&r->ops[i]);
    return n;
}

void kv_events_free(kv_event_t *ev, size_t n)
{
    if (!ev)
        return;
    for (size_t i = 0; i < n; i++)
        kv_kv_clear(&ev[i].kv);
    free(ev);
}

/* ---- the store --------------------------------------------------------------- */

kv_t *kv_create(const kv_cfg_t *cfg)
{
    kv_t *kv = mem_malloc(sizeof *kv);
    memset(kv, 0, sizeof *kv);
    kv->rev = 1;
    kv->min_ttl = cfg && cfg->min_ttl_s > 0 ? cfg->min_ttl_s : KV_MIN_TTL_S;
    return kv;
}

void kv_destroy(kv_t *kv)
{
    if (!kv)
        return;
    for (size_t i = 0; i < kv->nkeys; i++)
        kv_kv_clear(&kv->keys[i]);
    free(kv->keys);
    free(kv->leases);
    kv_events_free(kv->hist, kv->nhist);
    free(kv);
}

int64_t kv_revision(const kv_t *kv) { return kv->rev; }
int64_t kv_compact_revision(const kv_t *kv) { return kv->compact_rev; }
size_t kv_key_count(const kv_t *kv) { return kv->nkeys; }

const kv_kv_t *kv_key_at(const kv_t *kv, size_t i)
{
    return i < kv->nkeys ? &kv->keys[i] : NULL;
}

/* First index whose key is >= key. */
static size_t lower_bound(const kv_t *kv, const char *key)
{
    size_t lo = 0, hi = kv->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(kv->keys[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static kv_kv_t *find(const kv_t *kv, const char *key)
{
    size_t i = lower_bound(kv, key);
    if (i < kv->nkeys && strcmp(kv->keys[i].key, key) == 0)
        return &kv->keys[i];
    return NULL;
}

const kv_kv_t *kv_lookup(const kv_t *kv, const char *key) { return find(kv, key); }

bool kv_key_matches(const char *key, const char *watch_key, bool prefix)
{
    if (!prefix)
        return strcmp(key, watch_key) == 0;
    return strncmp(key, watch_key, strlen(watch_key)) == 0;
}

/* The index range [*lo, *hi) of key, or of the keys starting with it. */
static void span(const kv_t *kv, const char *key, bool prefix, size_t *lo, size_t *hi)
{
    size_t i = lower_bound(kv, key);
    *lo = i;
    if (!prefix) {
        *hi = (i < kv->nkeys && strcmp(kv->keys[i].key, key) == 0) ? i + 1 : i;
        return;
    }
    size_t n = strlen(key);
    while (i < kv->nkeys && strncmp(kv->keys[i].key, key, n) == 0)
        i++;
    *hi = i;
}

static lease_t *lease_find(const kv_t *kv, int64_t id)
{
    size_t lo = 0, hi = kv->nleases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kv->leases[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < kv->nleases && kv->leases[lo].id == id)
        return &kv->leases[lo];
    return NULL;
}

void kv_check(const kv_t *kv)
{
    ASSERT(kv->rev >= 1);
    ASSERTF(kv->compact_rev <= kv->rev, "compacted at %lld, revision %lld",
            (long long)kv->compact_rev, (long long)kv->rev);
    for (size_t i = 0; i < kv->nkeys; i++) {
        const kv_kv_t *e = &kv->keys[i];
        ASSERTF(e->create_rev > 0 && e->create_rev <= e->mod_rev && e->mod_rev <= kv->rev,
                "key %s: create_rev %lld, mod_rev %lld, revision %lld", e->key,
                (long long)e->create_rev, (long long)e->mod_rev, (long long)kv->rev);
        ASSERTF(e->version >= 1, "key %s: version %lld", e->key, (long long)e->version);
        ASSERTF(i == 0 || strcmp(kv->keys[i - 1].key, e->key) < 0, "keys out of order at %s", e->key);
        ASSERTF(e->lease == 0 || lease_find(kv, e->lease),
                "key %s attached to lease %llx, which does not exist", e->key,
                (unsigned long long)e->lease);
    }
    for (size_t i = 1; i < kv->nleases; i++)
        ASSERT(kv->leases[i - 1].id < kv->leases[i].id);
    for (size_t i = 0; i < kv->nhist; i++) {
        int64_t r = kv->hist[i].kv.mod_rev;
        ASSERTF(r <= kv->rev && r >= kv->compact_rev, "event at revision %lld (revision %lld, compacted at %lld)",
                (long long)r, (long long)kv->rev, (long long)kv->compact_rev);
        ASSERT(i == 0 || kv->hist[i - 1].kv.mod_rev <= r);
    }
}

/* kv_check after a change: every time in debug builds, sparsely otherwise. */
static void checked(kv_t *kv)
{
    if (INVARIANT_DEEP || invariant_sparse(&kv->checks))
        kv_check(kv);
}

/* The revision of the write in progress, taking it on the first change. */
static int64_t write_rev(kv_t *kv)
{
    if (!kv->writing) {
        int64_t before = kv->rev;
        kv->writing = true;
        kv->rev++;
        ASSERTF(kv->rev > before, "revision %lld after %lld", (long long)kv->rev, (long long)before);
    }
    return kv->rev;
}

static void record(kv_t *kv, kv_event_type_t type, const kv_kv_t *state)
{
    ASSERTF(state->mod_rev == kv->rev, "event at revision %lld, store at %lld",
            (long long)state->mod_rev, (long long)kv->rev);
    ASSERTF(kv->nhist == 0 || kv->hist[kv->nhist - 1].kv.mod_rev <= state->mod_rev,
            "event at revision %lld after one at %lld", (long long)state->mod_rev,
            (long long)kv->hist[kv->nhist - 1].kv.mod_rev);
    GROW(kv->hist, kv->nhist, kv->caphist);
    kv_event_t *ev = &kv->hist[kv->nhist++];
    ev->type = type;
    kv_kv_copy(&ev->kv, state);
}

static void do_put(kv_t *kv, const char *key, const char *value, int64_t lease)
{
    int64_t rev = write_rev(kv);
    kv_kv_t *e = find(kv, key);
    if (e) {
        free(e->value);
        e->value = mem_strdup(value);
        e->mod_rev = rev;
        e->version++;
        e->lease = lease;
    } else {
        size_t i = lower_bound(kv, key);
        GROW(kv->keys, kv->nkeys, kv->capkeys);
        memmove(&kv->keys[i + 1], &kv->keys[i], (kv->nkeys - i) * sizeof *kv->keys);
        kv->nkeys++;
        e = &kv->keys[i];
        e->key = mem_strdup(key);
        e->value = mem_strdup(value);
        e->create_rev = rev;
        e->mod_rev = rev;
        e->version = 1;
        e->lease = lease;
    }
    ASSERT(e->create_rev > 0 && e->create_rev <= e->mod_rev && e->mod_rev == kv->rev);
    ASSERTF(lease == 0 || lease_find(kv, lease), "key %s attached to lease %llx, which does not exist",
            key, (unsigned long long)lease);
    record(kv, KV_EVENT_PUT, e);
}

/* Delete the key at index i. */
static void delete_at(kv_t *kv, size_t i)
{
    int64_t rev = write_rev(kv);
    kv_kv_t gone;
    memset(&gone, 0, sizeof gone);
    gone.key = kv->keys[i].key;
    gone.value = (char *)"";
    gone.mod_rev = rev;
    record(kv, KV_EVENT_DELETE, &gone);
    kv_kv_clear(&kv->keys[i]);
    memmove(&kv->keys[i], &kv->keys[i + 1], (kv->nkeys - i - 1) * sizeof *kv->keys);
    kv->nkeys--;
}

static int64_t do_delete(kv_t *kv, const char *key, bool prefix)
{
    size_t lo, hi;
    span(kv, key, prefix, &lo, &hi);
    /* In key order, so the events of one delete are in key order. */
    int64_t n = (int64_t)(hi - lo);
    for (int64_t k = 0; k < n; k++)
        delete_at(kv, lo);
    return n;
}

/* ---- ranges ----------------------------------------------------------------- */

typedef struct sort_ctx {
    kv_sort_target_t target;
    bool descend;
} sort_ctx_t;

static int cmp_i64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

static int by_target(const kv_kv_t *a, const kv_kv_t *b, kv_sort_target_t t)
{
    switch (t) {
    case KV_SORT_KEY: return strcmp(a->key, b->key);
    case KV_SORT_VERSION: return cmp_i64(a->version, b->version);
    case KV_SORT_CREATE: return cmp_i64(a->create_rev, b->create_rev);
    case KV_SORT_MOD: return cmp_i64(a->mod_rev, b->mod_rev);
    case KV_SORT_VALUE: return strcmp(a->value, b->value);
    }
    return 0;
}

/* Insertion sort of pointers (stable; ranges are short), ties in key order. */
static void sort_kvs(const kv_kv_t **v, size_t n, kv_sort_target_t t, bool descend)
{
    for (size_t i = 1; i < n; i++) {
        const kv_kv_t *x = v[i];
        size_t j = i;
        while (j > 0) {
            int c = by_target(v[j - 1], x, t);
            if (descend)
                c = -c;
            if (c <= 0)
                break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void do_range(const kv_t *kv, const char *key, const kv_range_opts_t *o, kv_op_result_t *r)
{
    size_t lo, hi;
    memset(r, 0, sizeof *r);
    r->type = KV_OP_RANGE;
    span(kv, key, o->prefix, &lo, &hi);
    r->count = (int64_t)(hi - lo);
    const kv_kv_t **v = mem_malloc((hi - lo) * sizeof *v);
    size_t n = 0;
    for (size_t i = lo; i < hi; i++) {
        const kv_kv_t *e = &kv->keys[i];
        if (o->min_create_rev && e->create_rev < o->min_create_rev)
            continue;
        if (o->max_create_rev && e->create_rev > o->max_create_rev)
            continue;
        if (o->min_mod_rev && e->mod_rev < o->min_mod_rev)
            continue;
        if (o->max_mod_rev && e->mod_rev > o->max_mod_rev)
            continue;
        v[n++] = e;
    }
    kv_sort_order_t order = o->sort_order;
    if (o->sort_target != KV_SORT_KEY && order == KV_SORT_NONE)
        order = KV_SORT_ASCEND;
    else if (o->sort_target == KV_SORT_KEY && order == KV_SORT_ASCEND)
        order = KV_SORT_NONE;
    if (order != KV_SORT_NONE)
        sort_kvs(v, n, o->sort_target, order == KV_SORT_DESCEND);
    if (o->limit > 0 && n > (size_t)o->limit) {
        n = (size_t)o->limit;
        r->more = true;
    }
    if (!o->count_only && n > 0) {
        r->kvs = mem_malloc(n * sizeof *r->kvs);
        r->nkvs = n;
        for (size_t i = 0; i < n; i++) {
            kv_kv_copy(&r->kvs[i], v[i]);
            if (o->keys_only) {
                free(r->kvs[i].value);
                r->kvs[i].value = mem_strdup("");
            }
        }
    }
    free(v);
}

/* ---- transactions -------------------------------------------------------------- */

static bool cmp_holds(const kv_t *kv, const kv_cmp_t *c)
{
    const kv_kv_t *e = find(kv, c->key);
    int r;
    if (c->target == KV_CMP_VALUE) {
        if (!e)
            return false; /* etcd: a value compare on a missing key always fails */
        r = strcmp(e->value, c->value ? c->value : "");
    } else {
        int64_t have = 0;
        if (e) {
            switch (c->target) {
            case KV_CMP_VERSION: have = e->version; break;
            case KV_CMP_CREATE: have = e->create_rev; break;
            case KV_CMP_MOD: have = e->mod_rev; break;
            case KV_CMP_LEASE: have = e->lease; break;
            case KV_CMP_VALUE: break;
            }
        }
        r = cmp_i64(have, c->num);
    }
    switch (c->result) {
    case KV_CMP_EQUAL: return r == 0;
    case KV_CMP_NOT_EQUAL: return r != 0;
    case KV_CMP_LESS: return r < 0;
    case KV_CMP_GREATER: return r > 0;
    }
    return false;
}

static bool key_ok(const char *key, bool prefix)
{
    return key && (prefix || key[0] != '\0');
}

static kv_err_t check_ops(const kv_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool pfx = ops[i].type == KV_OP_RANGE ? ops[i].opts.prefix
                 : ops[i].type == KV_OP_DELETE ? ops[i].prefix : false;
        if (!key_ok(ops[i].key, pfx))
            return KV_ERR_EMPTY_KEY;
    }
    /* etcd's checkIntervals: no key put twice, no put inside a delete. */
    for (size_t i = 0; i < n; i++) {
        if (ops[i].type != KV_OP_PUT)
            continue;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            if (ops[j].type == KV_OP_PUT && j < i && strcmp(ops[j].key, ops[i].key) == 0)
                return KV_ERR_DUPLICATE_KEY;
            if (ops[j].type == KV_OP_DELETE &&
                kv_key_matches(ops[i].key, ops[j].key, ops[j].prefix))
                return KV_ERR_DUPLICATE_KEY;
        }
    }
    return KV_OK;
}

static kv_err_t check_leases(const kv_t *kv, const kv_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ops[i].type == KV_OP_PUT && ops[i].lease != 0 && !lease_find(kv, ops[i].lease))
            return KV_ERR_LEASE_NOT_FOUND;
    return KV_OK;
}

static void apply_op(kv_t *kv, const kv_op_t *op, kv_op_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->type = op->type;
    switch (op->type) {
    case KV_OP_RANGE:
        do_range(kv, op->key, &op->opts, r);
        break;
    case KV_OP_PUT:
        do_put(kv, op->key, op->value ? op->value : "", op->lease);
        break;
    case KV_OP_DELETE:
        r->deleted = do_delete(kv, op->key, op->prefix);
        break;
    }
}

kv_err_t kv_txn(kv_t *kv, const kv_txn_t *t, kv_result_t *out)
{
    for (size_t i = 0; i < t->ncmps; i++)
        if (!key_ok(t->cmps[i].key, false))
            return KV_ERR_EMPTY_KEY;
    kv_err_t err = check_ops(t->then_ops, t->nthen);
    if (err == KV_OK)
        err = check_ops(t->else_ops, t->nelse);
    if (err != KV_OK)
        return err;
    bool ok = true;
    for (size_t i = 0; i < t->ncmps && ok; i++)
        ok = cmp_holds(kv, &t->cmps[i]);
    const kv_op_t *ops = ok ? t->then_ops : t->else_ops;
    size_t n = ok ? t->nthen : t->nelse;
    err = check_leases(kv, ops, n);
    if (err != KV_OK)
        return err;
    kv->writing = false;
    kv_op_result_t *res = n ? mem_malloc(n * sizeof *res) : NULL;
    int64_t before = kv->rev;
    for (size_t i = 0; i < n; i++)
        apply_op(kv, &ops[i], &res[i]);
    kv->writing = false;
    ASSERTF(kv->rev == before || kv->rev == before + 1, "a transaction took %lld revisions",
            (long long)(kv->rev - before));
    checked(kv);
    if (out) {
        memset(out, 0, sizeof *out);
        out->revision = kv->rev;
        out->succeeded = ok;
        out->ops = res;
        out->nops = n;
    } else {
        for (size_t i = 0; i < n; i++)
            op_result_clear(&res[i]);
        free(res);
    }
    return KV_OK;
}

/* A single-op request: a transaction of one op, its result moved to op. */
static kv_err_t single(kv_t *kv, const kv_op_t *op, kv_result_t *out)
{
    kv_txn_t t = {NULL, 0, op, 1, NULL, 0};
    kv_result_t r;
    kv_err_t err = kv_txn(kv, &t, &r);
    if (err != KV_OK)
        return err;
    if (out) {
        memset(out, 0, sizeof *out);
        out->revision = r.revision;
        out->succeeded = true;
        out->op = r.ops[0];
        free(r.ops);
    } else {
        kv_result_clear(&r);
    }
    return KV_OK;
}

kv_err_t kv_put(kv_t *kv, const char *key, const char *value, int64_t lease, kv_result_t *out)
{
    kv_op_t op = kv_op_put(key, value, lease);
    return single(kv, &op, out);
}

kv_err_t kv_range(kv_t *kv, const char *key, const kv_range_opts_t *opts, kv_result_t *out)
{
    kv_op_t op = kv_op_get(key, opts);
    return single(kv, &op, out);
}

kv_err_t kv_delete(kv_t *kv, const char *key, bool prefix, kv_result_t *out)
{
    kv_op_t op = kv_op_delete(key, prefix);
    return single(kv, &op, out);
}

/* ---- history ------------------------------------------------------------------- */

static int64_t ev_rev(const kv_event_t *e) { return e->kv.mod_rev; }

/* First history index with revision >= rev. */
static size_t hist_lower(const kv_t *kv, int64_t rev)
{
    size_t lo = 0, hi = kv->nhist;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev_rev(&kv->hist[mid]) < rev)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

kv_err_t kv_compact(kv_t *kv, int64_t rev)
{
    if (rev <= kv->compact_rev)
        return KV_ERR_COMPACTED;
    if (rev > kv->rev)
        return KV_ERR_FUTURE_REV;
    size_t k = hist_lower(kv, rev);
    for (size_t i = 0; i < k; i++)
        kv_kv_clear(&kv->hist[i].kv);
    memmove(kv->hist, kv->hist + k, (kv->nhist - k) * sizeof *kv->hist);
    kv->nhist -= k;
    kv->compact_rev = rev;
    checked(kv);
    return KV_OK;
}

kv_err_t kv_events(const kv_t *kv, const char *key, bool prefix, int64_t start_rev,
                   int64_t end_rev, kv_event_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (start_rev == 0)
        return KV_OK;
    if (start_rev < kv->compact_rev)
        return KV_ERR_COMPACTED;
    size_t cap = 0;
    for (size_t i = hist_lower(kv, start_rev); i < kv->nhist; i++) {
        const kv_event_t *e = &kv->hist[i];
        if (end_rev > 0 && ev_rev(e) > end_rev)
            break;
        if (!kv_key_matches(e->kv.key, key, prefix))
            continue;
        GROW(*out, *n, cap);
        (*out)[*n].type = e->type;
        kv_kv_copy(&(*out)[*n].kv, &e->kv);
        (*n)++;
    }
    return KV_OK;
}

/* ---- leases ------------------------------------------------------------------- */

kv_err_t kv_lease_grant(kv_t *kv, int64_t id, int64_t ttl_s, simtime_t now, kv_result_t *out)
{
    if (ttl_s > KV_MAX_TTL_S)
        return KV_ERR_TTL_TOO_LARGE;
    if (id == 0) {
        do
            id = KV_LEASE_ID_BASE + ++kv->next_lease;
        while (lease_find(kv, id));
    } else if (lease_find(kv, id)) {
        return KV_ERR_LEASE_EXISTS;
    }
    if (ttl_s < kv->min_ttl)
        ttl_s = kv->min_ttl;
    size_t i = 0;
    while (i < kv->nleases && kv->leases[i].id < id)
        i++;
    GROW(kv->leases, kv->nleases, kv->capleases);
    memmove(&kv->leases[i + 1], &kv->leases[i], (kv->nleases - i) * sizeof *kv->leases);
    kv->nleases++;
    kv->leases[i].id = id;
    kv->leases[i].ttl = ttl_s;
    kv->leases[i].deadline = now + ttl_s * SIM_SEC;
    checked(kv);
    if (out) {
        memset(out, 0, sizeof *out);
        out->revision = kv->rev;
        out->lease = id;
        out->ttl = ttl_s;
    }
    return KV_OK;
}

kv_err_t kv_lease_renew(kv_t *kv, int64_t id, simtime_t now, int64_t *ttl_out)
{
    lease_t *l = lease_find(kv, id);
    if (!l)
        return KV_ERR_LEASE_NOT_FOUND;
    l->deadline = now + l->ttl * SIM_SEC;
    if (ttl_out)
        *ttl_out = l->ttl;
    return KV_OK;
}

kv_err_t kv_lease_revoke(kv_t *kv, int64_t id, kv_result_t *out)
{
    lease_t *l = lease_find(kv, id);
    if (!l)
        return KV_ERR_LEASE_NOT_FOUND;
    kv->writing = false;
    int64_t deleted = 0;
    for (size_t i = 0; i < kv->nkeys;) {
        if (kv->keys[i].lease == id) {
            delete_at(kv, i);
            deleted++;
        } else {
            i++;
        }
    }
    kv->writing = false;
    size_t k = (size_t)(l - kv->leases);
    memmove(&kv->leases[k], &kv->leases[k + 1], (kv->nleases - k - 1) * sizeof *kv->leases);
    kv->nleases--;
    checked(kv);
    if (out) {
        memset(out, 0, sizeof *out);
        out->revision = kv->rev;
        out->lease = id;
        out->deleted = deleted;
    }
    return KV_OK;
}

size_t kv_lease_expired(const kv_t *kv, simtime_t now, int64_t *ids, size_t max)
{
    /* Collect, then order by (deadline, id): few leases, so a plain
     * insertion into the output is enough. */
    size_t n = 0;
    const lease_t **v = mem_malloc(kv->nleases * sizeof *v);
    for (size_t i = 0; i < kv->nleases; i++) {
        const lease_t *l = &kv->leases[i];
        if (l->deadline > now)
            continue;
        size_t j = n++;
        while (j > 0 && (v[j - 1]->deadline > l->deadline ||
                         (v[j - 1]->deadline == l->deadline && v[j - 1]->id > l->id))) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = l;
    }
    for (size_t i = 0; i < n && i < max; i++)
        ids[i] = v[i]->id;
    free(v);
    return n;
}

static void lease_info(const kv_t *kv, const lease_t *l, kv_lease_info_t *out)
{
    out->id = l->id;
    out->ttl = l->ttl;
    out->deadline = l->deadline;
    out->nkeys = 0;
    for (size_t i = 0; i < kv->nkeys; i++)
        if (kv->keys[i].lease == l->id)
            out->nkeys++;
}

bool kv_lease_lookup(const kv_t *kv, int64_t id, kv_lease_info_t *out)
{
    const lease_t *l = lease_find(kv, id);
    if (!l)
        return false;
    if (out)
        lease_info(kv, l, out);
    return true;
}

size_t kv_lease_count(const kv_t *kv) { return kv->nleases; }

bool kv_lease_at(const kv_t *kv, size_t i, kv_lease_info_t *out)
{
    if (i >= kv->nleases)
        return false;
    if (out)
        lease_info(kv, &kv->leases[i], out);
    return true;
}

void kv_lease_extend_all(kv_t *kv, simtime_t now, simtime_t extend)
{
    for (size_t i = 0; i < kv->nleases; i++)
        kv->leases[i].deadline = now + extend + kv->leases[i].ttl * SIM_SEC;
}
