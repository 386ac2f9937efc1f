/*
 * metrics_series: the series of a family — finding or creating the series
 * for a set of label values (metrics_with), and the updates (inc, add, set,
 * sub, observe) with their checks and their EV_METRIC trace events.
 *
 * A family's series are found through its hash index on the label values
 * joined by 0xff (a byte never in UTF-8); the index is for lookup only and
 * never walked, so creation order alone decides every listing.
 */
#include "metrics_internal.h"

#include <stdlib.h>
#include <string.h>

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
        b->p = mem_realloc(b->p, cap);
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
    f->index = mem_calloc(cap, sizeof *f->index);
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
        if (strlen(v) > METRICS_MAX_VALUE || !metrics_utf8_valid(v)) {
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
    s = mem_calloc(1, sizeof *s);
    s->fam = f;
    s->key = key.p;
    s->keylen = key.len;
    s->keyhash = h;
    s->values = mem_calloc(n, sizeof *s->values);
    sbuf_t name = {0};
    sb_puts(&name, f->name);
    for (size_t i = 0; i < n; i++) {
        s->values[i] = mem_strdup(values[i] ? values[i] : "");
        sb_puts(&name, i ? "," : "{");
        sb_puts(&name, f->labels[i]);
        sb_puts(&name, "=\"");
        sb_escape_value(&name, s->values[i]);
        sb_puts(&name, "\"");
    }
    if (n)
        sb_puts(&name, "}");
    s->name = name.p;
    s->name_digest = trace_hash_detail(s->name);
    if (f->type == METRICS_HISTOGRAM)
        s->counts = mem_calloc(f->nbounds + 1, sizeof *s->counts);
    if (f->nseries == f->capseries) {
        f->capseries = f->capseries ? f->capseries * 2 : 4;
        f->series = mem_realloc(f->series, f->capseries * sizeof *f->series);
    }
    f->series[f->nseries++] = s;
    if ((f->nseries) * 2 > f->index_cap)
        index_grow(f);
    else
        index_insert(f, h, (uint32_t)f->nseries);
    if (r->nall == r->capall) {
        r->capall = r->capall ? r->capall * 2 : 16;
        r->all = mem_realloc(r->all, r->capall * sizeof *r->all);
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
        sched_emit_digest(EV_METRIC, s->seq, to_billionths(v), observation, s->name, s->name_digest);
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

