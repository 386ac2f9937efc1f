/*
 * metrics: the registry, its families and series, and the Prometheus text
 * exposition. See metrics.h for the model.
 *
 * Invariants: families and series live in arrays in creation order and are
 * only appended; the per-family hash index maps label values to a series
 * and is used for lookup only, never walked. Every string a family or
 * series holds is its own copy.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct metrics_series {
    metrics_family_t *fam; /* the family it belongs to */
    uint64_t seq;          /* number in the registry, from 1, creation order */
    char **values;         /* label values, one per label name */
    char *key;             /* the values joined by 0xff (never in UTF-8): the lookup key */
    size_t keylen;         /* bytes of key */
    uint64_t keyhash;      /* hash of key */
    char *name;            /* name{label="value",...}, escaped */
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

const double metrics_default_buckets[METRICS_DEFAULT_NBUCKETS] = {
    .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
};

/* ---- small helpers ------------------------------------------------------- */

static void die_oom(void)
{
    fputs("chansim: out of memory (metrics)\n", stderr);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die_oom();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

static bool is_nan(double v) { return v != v; }
static bool is_inf(double v) { return v > 1.7976931348623157e308 || v < -1.7976931348623157e308; }

static void set_err(metrics_registry_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(metrics_registry_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            min = 0x80;
            c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            min = 0x800;
            c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

/* ---- names and errors ---------------------------------------------------- */

const char *metrics_type_name(metrics_type_t t)
{
    switch (t) {
    case METRICS_COUNTER: return "counter";
    case METRICS_GAUGE: return "gauge";
    case METRICS_HISTOGRAM: return "histogram";
    }
    return "untyped";
}

const char *metrics_strerror(metrics_err_t e)
{
    switch (e) {
    case METRICS_OK: return "no error";
    case METRICS_EBADNAME: return "invalid metric name";
    case METRICS_EBADLABEL: return "invalid label name";
    case METRICS_EBADVALUE: return "invalid label value";
    case METRICS_ELABELS: return "inconsistent label cardinality";
    case METRICS_EBUCKETS: return "invalid histogram buckets";
    case METRICS_EEXISTS: return "metric already registered differently";
    case METRICS_EDECREASE: return "counter cannot decrease in value";
    case METRICS_ETYPE: return "operation not supported by this metric type";
    case METRICS_ENOREG: return "no metrics registry (no scheduler running)";
    }
    return "unknown error";
}

const char *metrics_err_name(metrics_err_t e)
{
    switch (e) {
    case METRICS_OK: return "METRICS_OK";
    case METRICS_EBADNAME: return "METRICS_EBADNAME";
    case METRICS_EBADLABEL: return "METRICS_EBADLABEL";
    case METRICS_EBADVALUE: return "METRICS_EBADVALUE";
    case METRICS_ELABELS: return "METRICS_ELABELS";
    case METRICS_EBUCKETS: return "METRICS_EBUCKETS";
    case METRICS_EEXISTS: return "METRICS_EEXISTS";
    case METRICS_EDECREASE: return "METRICS_EDECREASE";
    case METRICS_ETYPE: return "METRICS_ETYPE";
    case METRICS_ENOREG: return "METRICS_ENOREG";
    }
    return "METRICS_E?";
}

static bool valid_metric_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > METRICS_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0))
            return false;
    }
    return true;
}

static bool valid_label_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > METRICS_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0))
            return false;
    }
    return true;
}

/* ---- buckets ------------------------------------------------------------- */

metrics_err_t metrics_exponential_buckets(double start, double factor, size_t count, double *out)
{
    if (count < 1 || !(start > 0) || !(factor > 1) || is_inf(start) || is_inf(factor))
        return METRICS_EBUCKETS;
    /* As Go computes them: each bound is the last times factor. */
    for (size_t i = 0; i < count; i++) {
        out[i] = start;
        start *= factor;
    }
    return METRICS_OK;
}

metrics_err_t metrics_linear_buckets(double start, double width, size_t count, double *out)
{
    if (count < 1 || !(width > 0) || is_nan(start) || is_inf(start) || is_inf(width))
        return METRICS_EBUCKETS;
    for (size_t i = 0; i < count; i++) {
        out[i] = start;
        start += width;
    }
    return METRICS_OK;
}

/* ---- registries ---------------------------------------------------------- */

/* The last lookup of a scheduler's registry: (s, its registry or NULL).
 * A scheduler gets a registry only through metrics_registry_of, which
 * updates this entry, and a registry's end clears it, so the entry is
 * never stale (even when a new scheduler reuses an old one's address).
 * One scheduler runs per thread, and core runs on one thread. */
static sched_t *cache_sched;
static metrics_registry_t *cache_reg;

static void series_free(metrics_series_t *s, size_t nlabels)
{
    for (size_t i = 0; i < nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->key);
    free(s->name);
    free(s->counts);
    free(s);
}

static void family_free(metrics_family_t *f)
{
    for (size_t i = 0; i < f->nseries; i++)
        series_free(f->series[i], f->nlabels);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->labels);
    free(f->series);
    free(f->index);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

static void registry_deinit(obj_t *o)
{
    metrics_registry_t *r = (metrics_registry_t *)o;
    if (cache_reg == r) {
        cache_reg = NULL;
        cache_sched = NULL;
    }
    for (size_t i = 0; i < r->nfam; i++)
        family_free(r->fam[i]);
    free(r->fam);
    free(r->all);
    r->fam = NULL;
    r->all = NULL;
    r->nfam = r->nall = 0;
}

metrics_registry_t *metrics_registry_create(void)
{
    return xcalloc(1, sizeof(metrics_registry_t));
}

void metrics_registry_destroy(metrics_registry_t *r)
{
    if (!r)
        return;
    registry_deinit(&r->hdr);
    free(r);
}

typedef struct find_reg {
    metrics_registry_t *found;
} find_reg_t;

static void visit_for_registry(void *ud, obj_t *o)
{
    find_reg_t *f = ud;
    if (!f->found && o->deinit == registry_deinit)
        f->found = (metrics_registry_t *)o;
}

metrics_registry_t *metrics_registry_find(sched_t *s)
{
    if (!s)
        return NULL;
    if (cache_sched == s)
        return cache_reg;
    find_reg_t f = {NULL};
    sched_each_object(s, visit_for_registry, &f);
    cache_sched = s;
    cache_reg = f.found;
    return f.found;
}

metrics_registry_t *metrics_registry_of(sched_t *s)
{
    metrics_registry_t *r = metrics_registry_find(s);
    if (r || !s || s != sched_current())
        return r;
    r = obj_alloc(sizeof *r, OBJ_NONE, registry_deinit);
    r->owner = s;
    cache_sched = s;
    cache_reg = r;
    return r;
}

metrics_registry_t *metrics_current(void)
{
    return metrics_registry_of(sched_current());
}

const char *metrics_last_error(const metrics_registry_t *r)
{
    return r ? r->err : "no metrics registry (no scheduler running)";
}

/* ---- families ------------------------------------------------------------ */

/* The sample names a family writes, for collision checks. */
static size_t sample_names(metrics_type_t t, const char *name, char out[4][METRICS_MAX_NAME + 16])
{
    snprintf(out[0], sizeof out[0], "%s", name);
    if (t != METRICS_HISTOGRAM)
        return 1;
    snprintf(out[1], sizeof out[1], "%s_bucket", name);
    snprintf(out[2], sizeof out[2], "%s_sum", name);
    snprintf(out[3], sizeof out[3], "%s_count", name);
    return 4;
}

static bool same_family(const metrics_family_t *f, metrics_type_t type, const char *help,
                        const metrics_opts_t *o, const double *bounds, size_t nbounds,
                        const char **why)
{
    if (f->type != type) {
        *why = "type";
        return false;
    }
    if (strcmp(f->help, help) != 0) {
        *why = "help";
        return false;
    }
    if (f->nlabels != o->nlabels) {
        *why = "label names";
        return false;
    }
    for (size_t i = 0; i < o->nlabels; i++)
        if (strcmp(f->labels[i], o->labels[i]) != 0) {
            *why = "label names";
            return false;
        }
    if (type == METRICS_HISTOGRAM) {
        bool same = f->nbounds == nbounds;
        for (size_t i = 0; same && i < nbounds; i++)
            same = f->bounds[i] == bounds[i];
        if (!same) {
            *why = "buckets";
            return false;
        }
    }
    return true;
}

static metrics_family_t *fail(metrics_err_t *err, metrics_err_t e)
{
    if (err)
        *err = e;
    return NULL;
}

metrics_family_t *metrics_register(metrics_registry_t *r, metrics_type_t type,
                                   const metrics_opts_t *o, metrics_err_t *err)
{
    if (err)
        *err = METRICS_OK;
    if (!r)
        return fail(err, METRICS_ENOREG);
    r->err[0] = 0;
    const char *name = o->name ? o->name : "";
    const char *help = o->help ? o->help : "";
    if (type != METRICS_COUNTER && type != METRICS_GAUGE && type != METRICS_HISTOGRAM) {
        set_err(r, "metric %s: unknown type %d", name, (int)type);
        return fail(err, METRICS_ETYPE);
    }
    if (!valid_metric_name(name)) {
        set_err(r, "invalid metric name \"%.*s\": want letters, digits, '_' and ':', not starting "
                   "with a digit, at most %d bytes", METRICS_MAX_NAME, name, METRICS_MAX_NAME);
        return fail(err, METRICS_EBADNAME);
    }
    if (!utf8_valid(help)) {
        set_err(r, "metric %s: the help text is not UTF-8", name);
        return fail(err, METRICS_EBADNAME);
    }
    if (o->nlabels > METRICS_MAX_LABELS) {
        set_err(r, "metric %s: %zu label names, at most %d", name, o->nlabels, METRICS_MAX_LABELS);
        return fail(err, METRICS_EBADLABEL);
    }
    for (size_t i = 0; i < o->nlabels; i++) {
        const char *l = o->labels[i] ? o->labels[i] : "";
        if (!valid_label_name(l)) {
            set_err(r, "metric %s: invalid label name \"%.*s\": want letters, digits and '_', not "
                       "starting with a digit", name, METRICS_MAX_NAME, l);
            return fail(err, METRICS_EBADLABEL);
        }
        if (l[0] == '_' && l[1] == '_') {
            set_err(r, "metric %s: label name \"%s\" is reserved (names starting with \"__\" are "
                       "Prometheus's own)", name, l);
            return fail(err, METRICS_EBADLABEL);
        }
        if (type == METRICS_HISTOGRAM && strcmp(l, "le") == 0) {
            set_err(r, "metric %s: \"le\" is not allowed as a label name in a histogram", name);
            return fail(err, METRICS_EBADLABEL);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->labels[j], l) == 0) {
                set_err(r, "metric %s: label name \"%s\" given twice", name, l);
                return fail(err, METRICS_EBADLABEL);
            }
    }
    /* Buckets: the defaults when none; a final +Inf is implicit. */
    const double *bounds = NULL;
    size_t nbounds = 0;
    if (type == METRICS_HISTOGRAM) {
        bounds = o->buckets;
        nbounds = o->buckets ? o->nbuckets : 0;
        if (nbounds == 0) {
            bounds = metrics_default_buckets;
            nbounds = METRICS_DEFAULT_NBUCKETS;
        }
        if (bounds[nbounds - 1] > 0 && is_inf(bounds[nbounds - 1]))
            nbounds--;
        if (nbounds > METRICS_MAX_BUCKETS) {
            set_err(r, "histogram %s: %zu buckets, at most %d", name, nbounds, METRICS_MAX_BUCKETS);
            return fail(err, METRICS_EBUCKETS);
        }
        for (size_t i = 0; i < nbounds; i++) {
            if (is_nan(bounds[i]) || is_inf(bounds[i])) {
                set_err(r, "histogram %s: bucket %zu is not a finite number", name, i + 1);
                return fail(err, METRICS_EBUCKETS);
            }
            if (i > 0 && !(bounds[i] > bounds[i - 1])) {
                char a[40], b[40];
                metrics_format_value(bounds[i - 1], a, sizeof a);
                metrics_format_value(bounds[i], b, sizeof b);
                set_err(r, "histogram %s: buckets must be in increasing order: %s >= %s", name, a, b);
                return fail(err, METRICS_EBUCKETS);
            }
        }
    }
    /* The same name again: the same family, or an error. */
    char mine[4][METRICS_MAX_NAME + 16], theirs[4][METRICS_MAX_NAME + 16];
    size_t nmine = sample_names(type, name, mine);
    for (size_t i = 0; i < r->nfam; i++) {
        metrics_family_t *f = r->fam[i];
        if (strcmp(f->name, name) == 0) {
            const char *why = "";
            if (same_family(f, type, help, o, bounds, nbounds, &why))
                return f;
            set_err(r, "a metric named %s is already registered with a different %s", name, why);
            return fail(err, METRICS_EEXISTS);
        }
        size_t ntheirs = sample_names(f->type, f->name, theirs);
        for (size_t a = 0; a < nmine; a++)
            for (size_t b = 0; b < ntheirs; b++)
                if (strcmp(mine[a], theirs[b]) == 0) {
                    set_err(r, "metric %s (%s) collides with %s %s, whose samples include %s",
                            name, metrics_type_name(type), metrics_type_name(f->type), f->name,
                            theirs[b]);
                    return fail(err, METRICS_EEXISTS);
                }
    }
    metrics_family_t *f = xcalloc(1, sizeof *f);
    f->reg = r;
    f->name = xstrdup(name);
    f->help = xstrdup(help);
    f->type = type;
    f->nlabels = o->nlabels;
    f->labels = xcalloc(o->nlabels, sizeof *f->labels);
    for (size_t i = 0; i < o->nlabels; i++)
        f->labels[i] = xstrdup(o->labels[i]);
    if (type == METRICS_HISTOGRAM) {
        f->nbounds = nbounds;
        f->bounds = xmalloc(nbounds * sizeof *f->bounds);
        memcpy(f->bounds, bounds, nbounds * sizeof *f->bounds);
    }
    if (r->nfam == r->capfam) {
        r->capfam = r->capfam ? r->capfam * 2 : 8;
        r->fam = xrealloc(r->fam, r->capfam * sizeof *r->fam);
    }
    r->fam[r->nfam++] = f;
    if (f->nlabels == 0)
        metrics_with(f, NULL, 0, NULL); /* the only series, shown from the start */
    return f;
}

static metrics_series_t *only_of(metrics_family_t *f)
{
    return f ? metrics_only(f) : NULL;
}

metrics_series_t *metrics_new_counter(const char *name, const char *help)
{
    metrics_opts_t o = {.name = name, .help = help};
    return only_of(metrics_register(metrics_current(), METRICS_COUNTER, &o, NULL));
}

metrics_series_t *metrics_new_gauge(const char *name, const char *help)
{
    metrics_opts_t o = {.name = name, .help = help};
    return only_of(metrics_register(metrics_current(), METRICS_GAUGE, &o, NULL));
}

metrics_series_t *metrics_new_histogram(const char *name, const char *help,
                                        const double *buckets, size_t nbuckets)
{
    metrics_opts_t o = {.name = name, .help = help, .buckets = buckets, .nbuckets = nbuckets};
    return only_of(metrics_register(metrics_current(), METRICS_HISTOGRAM, &o, NULL));
}

/* ---- series -------------------------------------------------------------- */

/* Append an escaped label value to a growing string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf_t;

static void sb_putn(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_puts(sbuf_t *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_escape_value(sbuf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_putn(b, "\\\\", 2);
        else if (*s == '"')
            sb_putn(b, "\\\"", 2);
        else if (*s == '\n')
            sb_putn(b, "\\n", 2);
        else
            sb_putn(b, s, 1);
    }
}

static void index_insert(metrics_family_t *f, uint64_t hash, uint32_t slot_value)
{
    size_t mask = f->index_cap - 1;
    size_t j = hash & mask;
    while (f->index[j])
        j = (j + 1) & mask;
    f->index[j] = slot_value;
}

static void index_grow(metrics_family_t *f)
{
    size_t cap = f->index_cap ? f->index_cap * 2 : 16;
    free(f->index);
    f->index = xcalloc(cap, sizeof *f->index);
    f->index_cap = cap;
    for (size_t i = 0; i < f->nseries; i++)
        index_insert(f, f->series[i]->keyhash, (uint32_t)(i + 1));
}

static metrics_series_t *index_find(const metrics_family_t *f, const char *key, size_t keylen,
                                    uint64_t hash)
{
    if (!f->index_cap)
        return NULL;
    size_t mask = f->index_cap - 1;
    for (size_t j = hash & mask; f->index[j]; j = (j + 1) & mask) {
        metrics_series_t *s = f->series[f->index[j] - 1];
        if (s->keyhash == hash && s->keylen == keylen && memcmp(s->key, key, keylen) == 0)
            return s;
    }
    return NULL;
}

metrics_series_t *metrics_with(metrics_family_t *f, const char *const *values, size_t n,
                               metrics_err_t *err)
{
    metrics_registry_t *r = f->reg;
    if (err)
        *err = METRICS_OK;
    if (n != f->nlabels) {
        sbuf_t names = {0};
        for (size_t i = 0; i < f->nlabels; i++) {
            if (i)
                sb_puts(&names, ", ");
            sb_puts(&names, f->labels[i]);
        }
        set_err(r, "metric %s has %zu label%s%s%s%s, got %zu value%s", f->name, f->nlabels,
                f->nlabels == 1 ? "" : "s", f->nlabels ? " (" : "", names.p ? names.p : "",
                f->nlabels ? ")" : "", n, n == 1 ? "" : "s");
        free(names.p);
        if (err)
            *err = METRICS_ELABELS;
        return NULL;
    }
    sbuf_t key = {0};
    sb_putn(&key, "", 0);
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] ? values[i] : "";
        if (strlen(v) > METRICS_MAX_VALUE || !utf8_valid(v)) {
            set_err(r, "metric %s: the value of label %s is %s", f->name, f->labels[i],
                    strlen(v) > METRICS_MAX_VALUE ? "too long" : "not valid UTF-8");
            free(key.p);
            if (err)
                *err = METRICS_EBADVALUE;
            return NULL;
        }
        if (i)
            sb_putn(&key, "\xff", 1);
        sb_puts(&key, v);
    }
    uint64_t h = hash_bytes(key.p, key.len);
    metrics_series_t *s = index_find(f, key.p, key.len, h);
    if (s) {
        free(key.p);
        return s;
    }
    s = xcalloc(1, sizeof *s);
    s->fam = f;
    s->key = key.p;
    s->keylen = key.len;
    s->keyhash = h;
    s->values = xcalloc(n, sizeof *s->values);
    sbuf_t name = {0};
    sb_puts(&name, f->name);
    for (size_t i = 0; i < n; i++) {
        s->values[i] = xstrdup(values[i] ? values[i] : "");
        sb_puts(&name, i ? "," : "{");
        sb_puts(&name, f->labels[i]);
        sb_puts(&name, "=\"");
        sb_escape_value(&name, s->values[i]);
        sb_puts(&name, "\"");
    }
    if (n)
        sb_puts(&name, "}");
    s->name = name.p;
    if (f->type == METRICS_HISTOGRAM)
        s->counts = xcalloc(f->nbounds + 1, sizeof *s->counts);
    if (f->nseries == f->capseries) {
        f->capseries = f->capseries ? f->capseries * 2 : 4;
        f->series = xrealloc(f->series, f->capseries * sizeof *f->series);
    }
    f->series[f->nseries++] = s;
    if ((f->nseries) * 2 > f->index_cap)
        index_grow(f);
    else
        index_insert(f, h, (uint32_t)f->nseries);
    if (r->nall == r->capall) {
        r->capall = r->capall ? r->capall * 2 : 16;
        r->all = xrealloc(r->all, r->capall * sizeof *r->all);
    }
    r->all[r->nall++] = s;
    s->seq = r->nall;
    return s;
}

metrics_series_t *metrics_withv(metrics_family_t *f, ...)
{
    const char *values[METRICS_MAX_LABELS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, f);
    for (const char *v; (v = va_arg(ap, const char *)) != NULL;) {
        if (n < METRICS_MAX_LABELS + 1)
            values[n] = v;
        n++;
    }
    va_end(ap);
    if (n > METRICS_MAX_LABELS + 1)
        n = METRICS_MAX_LABELS + 1; /* reported as a cardinality mismatch */
    return metrics_with(f, values, n, NULL);
}

metrics_series_t *metrics_only(metrics_family_t *f)
{
    return f->nlabels == 0 && f->nseries == 1 ? f->series[0] : NULL;
}

/* ---- updates ------------------------------------------------------------- */

/* v in billionths, rounded half away from zero and saturated. */
static int64_t to_billionths(double v)
{
    if (is_nan(v))
        return 0;
    double x = v * 1e9;
    if (x >= 9.2e18)
        return INT64_MAX;
    if (x <= -9.2e18)
        return INT64_MIN;
    return (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
}

static void traced(const metrics_series_t *s, double v, int64_t observation)
{
    sched_t *owner = s->fam->reg->owner;
    if (owner && owner == sched_current())
        sched_emit(EV_METRIC, s->seq, to_billionths(v), observation, s->name);
}

metrics_err_t metrics_inc(metrics_series_t *s)
{
    return metrics_add(s, 1);
}

metrics_err_t metrics_add(metrics_series_t *s, double v)
{
    metrics_family_t *f = s->fam;
    if (f->type == METRICS_HISTOGRAM) {
        set_err(f->reg, "histogram %s: use observe, not add or inc", f->name);
        return METRICS_ETYPE;
    }
    if (f->type == METRICS_COUNTER && !(v >= 0)) {
        set_err(f->reg, "counter %s: counter cannot decrease in value", f->name);
        return METRICS_EDECREASE;
    }
    s->value += v;
    traced(s, s->value, 0);
    return METRICS_OK;
}

metrics_err_t metrics_set(metrics_series_t *s, double v)
{
    metrics_family_t *f = s->fam;
    if (f->type != METRICS_GAUGE) {
        set_err(f->reg, "%s %s: only a gauge can be set", metrics_type_name(f->type), f->name);
        return METRICS_ETYPE;
    }
    s->value = v;
    traced(s, s->value, 0);
    return METRICS_OK;
}

metrics_err_t metrics_sub(metrics_series_t *s, double v)
{
    metrics_family_t *f = s->fam;
    if (f->type != METRICS_GAUGE) {
        set_err(f->reg, "%s %s: only a gauge can go down", metrics_type_name(f->type), f->name);
        return METRICS_ETYPE;
    }
    return metrics_add(s, -v);
}

metrics_err_t metrics_observe(metrics_series_t *s, double v)
{
    metrics_family_t *f = s->fam;
    if (f->type != METRICS_HISTOGRAM) {
        set_err(f->reg, "%s %s: only a histogram observes", metrics_type_name(f->type), f->name);
        return METRICS_ETYPE;
    }
    /* The first bound >= v (Prometheus's le); NaN lands in +Inf. */
    size_t lo = 0, hi = f->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    s->counts[lo]++;
    s->count++;
    s->value += v;
    traced(s, v, 1);
    return METRICS_OK;
}

/* ---- reading ------------------------------------------------------------- */

size_t metrics_family_count(const metrics_registry_t *r) { return r ? r->nfam : 0; }

metrics_family_t *metrics_family_at(const metrics_registry_t *r, size_t i)
{
    return r && i < r->nfam ? r->fam[i] : NULL;
}

metrics_family_t *metrics_family_find(const metrics_registry_t *r, const char *name)
{
    for (size_t i = 0; r && i < r->nfam; i++)
        if (strcmp(r->fam[i]->name, name) == 0)
            return r->fam[i];
    return NULL;
}

size_t metrics_series_total(const metrics_registry_t *r) { return r ? r->nall : 0; }

metrics_series_t *metrics_series_by_seq(const metrics_registry_t *r, uint64_t seq)
{
    return r && seq >= 1 && seq <= r->nall ? r->all[seq - 1] : NULL;
}

metrics_registry_t *metrics_family_registry(const metrics_family_t *f) { return f->reg; }
const char *metrics_family_name(const metrics_family_t *f) { return f->name; }
const char *metrics_family_help(const metrics_family_t *f) { return f->help; }
metrics_type_t metrics_family_type(const metrics_family_t *f) { return f->type; }
size_t metrics_family_nlabels(const metrics_family_t *f) { return f->nlabels; }

const char *metrics_family_label(const metrics_family_t *f, size_t i)
{
    return i < f->nlabels ? f->labels[i] : NULL;
}

size_t metrics_family_buckets(const metrics_family_t *f, const double **bounds)
{
    *bounds = f->bounds;
    return f->nbounds;
}

size_t metrics_series_count(const metrics_family_t *f) { return f->nseries; }

metrics_series_t *metrics_series_at(const metrics_family_t *f, size_t i)
{
    return i < f->nseries ? f->series[i] : NULL;
}

metrics_family_t *metrics_series_family(const metrics_series_t *s) { return s->fam; }
uint64_t metrics_series_seq(const metrics_series_t *s) { return s->seq; }

const char *metrics_series_label(const metrics_series_t *s, size_t i)
{
    return i < s->fam->nlabels ? s->values[i] : NULL;
}

const char *metrics_series_name(const metrics_series_t *s) { return s->name; }
double metrics_value(const metrics_series_t *s) { return s->value; }
uint64_t metrics_hist_count(const metrics_series_t *s) { return s->count; }
double metrics_hist_sum(const metrics_series_t *s) { return s->value; }
const uint64_t *metrics_hist_counts(const metrics_series_t *s) { return s->counts; }

/* ---- exposition ---------------------------------------------------------- */

int metrics_format_value(double v, char *buf, size_t size)
{
    if (is_nan(v))
        return snprintf(buf, size, "NaN");
    if (is_inf(v))
        return snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
    if (v == 0)
        return snprintf(buf, size, "0");
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
        return snprintf(buf, size, "%lld", (long long)(int64_t)v);
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return snprintf(buf, size, "%s", tmp);
}

static void put_help(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void put_value_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '"')
            fputs("\\\"", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* {a="x",b="y"[,le="..."]}; nothing when there is nothing to write. */
static void put_labels(FILE *f, const metrics_series_t *s, const char *le)
{
    const metrics_family_t *fam = s->fam;
    if (fam->nlabels == 0 && !le)
        return;
    fputc('{', f);
    for (size_t i = 0; i < fam->nlabels; i++) {
        if (i)
            fputc(',', f);
        fprintf(f, "%s=\"", fam->labels[i]);
        put_value_escaped(f, s->values[i]);
        fputc('"', f);
    }
    if (le)
        fprintf(f, "%sle=\"%s\"", fam->nlabels ? "," : "", le);
    fputc('}', f);
}

static void put_family(FILE *f, const metrics_family_t *fam)
{
    if (fam->nseries == 0)
        return; /* a vector nobody used: Go's registry gathers nothing for it */
    if (fam->help[0]) {
        fprintf(f, "# HELP %s ", fam->name);
        put_help(f, fam->help);
        fputc('\n', f);
    }
    fprintf(f, "# TYPE %s %s\n", fam->name, metrics_type_name(fam->type));
    char num[48], le[48];
    for (size_t i = 0; i < fam->nseries; i++) {
        const metrics_series_t *s = fam->series[i];
        if (fam->type != METRICS_HISTOGRAM) {
            fputs(fam->name, f);
            put_labels(f, s, NULL);
            metrics_format_value(s->value, num, sizeof num);
            fprintf(f, " %s\n", num);
            continue;
        }
        uint64_t cum = 0;
        for (size_t b = 0; b <= fam->nbounds; b++) {
            cum += s->counts[b];
            if (b < fam->nbounds)
                metrics_format_value(fam->bounds[b], le, sizeof le);
            else
                snprintf(le, sizeof le, "+Inf");
            fprintf(f, "%s_bucket", fam->name);
            put_labels(f, s, le);
            fprintf(f, " %llu\n", (unsigned long long)cum);
        }
        fprintf(f, "%s_sum", fam->name);
        put_labels(f, s, NULL);
        metrics_format_value(s->value, num, sizeof num);
        fprintf(f, " %s\n", num);
        fprintf(f, "%s_count", fam->name);
        put_labels(f, s, NULL);
        fprintf(f, " %llu\n", (unsigned long long)s->count);
    }
}

int metrics_write_text(const metrics_registry_t *r, FILE *f)
{
    for (size_t i = 0; r && i < r->nfam; i++)
        put_family(f, r->fam[i]);
    return ferror(f) ? -1 : 0;
}

char *metrics_text(const metrics_registry_t *r, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    int rc = metrics_write_text(r, f);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}
