/*
 * metrics_text: the names of types and errors, and the Prometheus text
 * exposition format (version 0.0.4) of a registry: families in
 * registration order, series in creation order, histograms as _bucket
 * lines with cumulative counts, then _sum and _count.
 */
#include "metrics_internal.h"

#include <stdlib.h>
#include <string.h>

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
