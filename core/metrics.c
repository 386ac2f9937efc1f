/*
 * metrics: the registry and its families — creating, finding and freeing
 * registries (one per scheduler), registering families with their checks on
 * names, labels and buckets, and reading them back. See metrics.h for the
 * model and metrics_internal.h for the structures and their invariants.
 *
 * Series (one per set of label values) and their updates are in
 * metrics_series.c; type and error names and the Prometheus text
 * exposition in metrics_text.c.
 */
#include "metrics_internal.h"

#include <stdlib.h>
#include <string.h>

const double metrics_default_buckets[METRICS_DEFAULT_NBUCKETS] = {
    .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
};

/* ---- small helpers ------------------------------------------------------- */

bool metrics_utf8_valid(const char *s)
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
    return mem_calloc(1, sizeof(metrics_registry_t));
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
    if (!metrics_utf8_valid(help)) {
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
    metrics_family_t *f = mem_calloc(1, sizeof *f);
    f->reg = r;
    f->name = mem_strdup(name);
    f->help = mem_strdup(help);
    f->type = type;
    f->nlabels = o->nlabels;
    f->labels = mem_calloc(o->nlabels, sizeof *f->labels);
    for (size_t i = 0; i < o->nlabels; i++)
        f->labels[i] = mem_strdup(o->labels[i]);
    if (type == METRICS_HISTOGRAM) {
        f->nbounds = nbounds;
        f->bounds = mem_malloc(nbounds * sizeof *f->bounds);
        memcpy(f->bounds, bounds, nbounds * sizeof *f->bounds);
    }
    if (r->nfam == r->capfam) {
        r->capfam = r->capfam ? r->capfam * 2 : 8;
        r->fam = mem_realloc(r->fam, r->capfam * sizeof *r->fam);
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

