/*
 * metrics_internal: the structures of the metrics registry, shared by the
 * files that implement it (metrics.c: registries and families;
 * metrics_series.c: series and their updates; metrics_text.c: names and the
 * text exposition) and by nothing else. Code outside them uses metrics.h.
 *
 * Invariants: families and series live in arrays in creation order and are
 * only appended; the per-family hash index maps label values to a series
 * and is used for lookup only, never walked. Every string a family or
 * series holds is its own copy.
 */
#ifndef CHANSIM_METRICS_INTERNAL_H
#define CHANSIM_METRICS_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "mem.h"
#include "metrics.h"

struct metrics_series {
    metrics_family_t *fam; /* the family it belongs to */
    uint64_t seq;          /* number in the registry, from 1, creation order */
    char **values;         /* label values, one per label name */
    char *key;             /* the values joined by 0xff (never in UTF-8): the lookup key */
    size_t keylen;         /* bytes of key */
    uint64_t keyhash;      /* hash of key */
    char *name;            /* name{label="value",...}, escaped */
    uint64_t name_digest;  /* trace_hash_detail(name), for its events */
    double value;          /* counter or gauge value; histogram sum */
    uint64_t count;        /* histogram: observations */
    uint64_t *counts;      /* histogram: per bucket, nbounds + 1 (the last is +Inf) */
};

struct metrics_family {
    metrics_registry_t *reg; /* the registry it belongs to */
    char *name;              /* the metric name */
    char *help;              /* the help text, unescaped */
    metrics_type_t type;     /* counter, gauge or histogram */
    char **labels;           /* label names */
    size_t nlabels;
    double *bounds;          /* histogram bounds, increasing, without +Inf */
    size_t nbounds;
    metrics_series_t **series; /* creation order */
    size_t nseries, capseries;
    uint32_t *index;         /* open addressing: series index + 1, 0 empty */
    size_t index_cap;        /* power of two, or 0 */
};

struct metrics_registry {
    obj_t hdr;               /* when owned by a scheduler (unused otherwise) */
    sched_t *owner;          /* the scheduler whose trace gets EV_METRIC, or NULL */
    metrics_family_t **fam;  /* registration order */
    size_t nfam, capfam;
    metrics_series_t **all;  /* every series, by seq - 1 */
    size_t nall, capall;
    char err[512];           /* details of the last failure */
};

static inline bool is_nan(double v) { return v != v; }
static inline bool is_inf(double v) { return v > 1.7976931348623157e308 || v < -1.7976931348623157e308; }

static inline void set_err(metrics_registry_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void set_err(metrics_registry_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

static inline uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}


/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
bool metrics_utf8_valid(const char *s);

#endif
