/*
 * metrics_out: the Prometheus exposition file and the CSV sampler. See
 * metrics_out.h for the formats.
 *
 * The sampler stores samples as segments: a first time, a number of rows
 * at the sampling interval, and the values then. Values are laid out by
 * series number (creation order across the registry), each series taking
 * one slot (counter, gauge) or two (histogram: count, sum), after the
 * slots of chansim's own series; a series made later only appends slots,
 * so an older segment is a prefix of the layout. The CSV's column order is
 * chosen only when writing.
 */
#include "metrics_out.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "metrics.h"
#include "trace.h"

/* chansim's own series. */
enum { BUILTIN_GOROUTINES, BUILTIN_SPAWNED, BUILTIN_EVENTS, NBUILTIN };

static const struct {
    const char *name;
    const char *type;
    const char *help;
} builtins[NBUILTIN] = {
    [BUILTIN_GOROUTINES] = {"chansim_goroutines", "gauge",
                            "Goroutines alive in the simulated program."},
    [BUILTIN_SPAWNED] = {"chansim_goroutines_spawned_total", "counter",
                         "Goroutines started since the run began."},
    [BUILTIN_EVENTS] = {"chansim_trace_events_total", "counter", "Events in the run's trace."},
};

static void builtin_values(sched_t *s, double *v)
{
    v[BUILTIN_GOROUTINES] = (double)sched_goroutines_alive(s);
    v[BUILTIN_SPAWNED] = (double)sched_goroutines_spawned(s);
    v[BUILTIN_EVENTS] = (double)sched_trace_events(s);
}

/* ---- --metrics ----------------------------------------------------------- */

bool metrics_out_write(sched_t *s, FILE *f)
{
    metrics_registry_t *r = metrics_registry_find(s);
    if (metrics_write_text(r, f) != 0)
        return false;
    double v[NBUILTIN];
    builtin_values(s, v);
    for (int i = 0; i < NBUILTIN; i++) {
        if (metrics_family_find(r, builtins[i].name))
            continue; /* the scenario's own metric of that name wins */
        char num[48];
        metrics_format_value(v[i], num, sizeof num);
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", builtins[i].name, builtins[i].help,
                builtins[i].name, builtins[i].type, builtins[i].name, num);
    }
    return fflush(f) == 0 && !ferror(f);
}

/* ---- --csv --------------------------------------------------------------- */

typedef struct segment {
    int64_t t0;     /* the first row's time */
    uint64_t rows;  /* rows at t0, t0 + interval, ... */
    size_t nvals;   /* slots recorded */
    double *vals;
} segment_t;

struct csv_sampler {
    int64_t interval;     /* ns between rows */
    int64_t next;         /* the next row's time */
    uint64_t rows;        /* rows so far */
    bool truncated;       /* CSV_MAX_ROWS reached */
    segment_t *seg;
    size_t nseg, capseg;
    size_t *slot;         /* by series number - 1: its first slot */
    size_t nslot;         /* series with a slot */
    size_t width;         /* slots in the layout */
};

csv_sampler_t *csv_sampler_create(int64_t interval_ns)
{
    csv_sampler_t *c = mem_malloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->interval = interval_ns > 0 ? interval_ns : 1;
    c->width = NBUILTIN;
    return c;
}

void csv_sampler_destroy(csv_sampler_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nseg; i++)
        free(c->seg[i].vals);
    free(c->seg);
    free(c->slot);
    free(c);
}

static size_t series_width(const metrics_series_t *s)
{
    return metrics_family_type(metrics_series_family(s)) == METRICS_HISTOGRAM ? 2 : 1;
}

/* rows rows from time t with the values of now. */
static void record(csv_sampler_t *c, sched_t *s, int64_t t, uint64_t rows)
{
    if (c->rows + rows > CSV_MAX_ROWS) {
        c->truncated = true;
        rows = CSV_MAX_ROWS - c->rows;
    }
    if (rows == 0)
        return;
    metrics_registry_t *r = metrics_registry_find(s);
    size_t total = metrics_series_total(r);
    if (total > c->nslot) {
        c->slot = mem_realloc(c->slot, total * sizeof *c->slot);
        for (size_t i = c->nslot; i < total; i++) {
            c->slot[i] = c->width;
            c->width += series_width(metrics_series_by_seq(r, i + 1));
        }
        c->nslot = total;
    }
    double *v = mem_malloc(c->width * sizeof *v);
    builtin_values(s, v);
    for (size_t i = 0; i < total; i++) {
        const metrics_series_t *ser = metrics_series_by_seq(r, i + 1);
        size_t k = c->slot[i];
        if (series_width(ser) == 2) {
            v[k] = (double)metrics_hist_count(ser);
            v[k + 1] = metrics_hist_sum(ser);
        } else {
            v[k] = metrics_value(ser);
        }
    }
    c->rows += rows;
    /* The same values as the segment before, and right after it: extend it. */
    if (c->nseg) {
        segment_t *last = &c->seg[c->nseg - 1];
        if (last->nvals == c->width && last->t0 + (int64_t)last->rows * c->interval == t &&
            memcmp(last->vals, v, c->width * sizeof *v) == 0) {
            last->rows += rows;
            free(v);
            return;
        }
    }
    if (c->nseg == c->capseg) {
        c->capseg = c->capseg ? c->capseg * 2 : 64;
        c->seg = mem_realloc(c->seg, c->capseg * sizeof *c->seg);
    }
    c->seg[c->nseg++] = (segment_t){.t0 = t, .rows = rows, .nvals = c->width, .vals = v};
}

void csv_sampler_clock(void *ud, simtime_t from, simtime_t to)
{
    csv_sampler_t *c = ud;
    (void)from;
    sched_t *s = sched_current();
    if (!s || c->truncated || c->next >= to)
        return;
    /* Every row time in [next, to) sees the state as it is now. */
    uint64_t rows = (uint64_t)((to - 1 - c->next) / c->interval) + 1;
    record(c, s, c->next, rows);
    c->next += (int64_t)rows * c->interval;
}

/* A CSV cell: quoted (quotes doubled) when it holds , " CR or LF. */
static void put_cell(FILE *f, const char *a, const char *b, const char *rest)
{
    size_t n = strlen(a) + strlen(b) + strlen(rest);
    char *cell = mem_malloc(n + 1);
    snprintf(cell, n + 1, "%s%s%s", a, b, rest);
    if (strpbrk(cell, ",\"\r\n")) {
        fputc('"', f);
        for (const char *p = cell; *p; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    } else {
        fputs(cell, f);
    }
    free(cell);
}

bool csv_sampler_finish(csv_sampler_t *c, sched_t *s, FILE *f)
{
    simtime_t end = sched_now_of(s);
    if (!c->truncated && c->next <= end) {
        uint64_t rows = (uint64_t)((end - c->next) / c->interval) + 1;
        record(c, s, c->next, rows);
        c->next += (int64_t)rows * c->interval;
    }
    if (c->truncated)
        fprintf(stderr, "chansim: --csv: the run has more than %d samples; only the first %d "
                        "were written (use a larger --csv-interval)\n", CSV_MAX_ROWS, CSV_MAX_ROWS);
    /* Columns: the registry's series in exposition order, then chansim's. */
    metrics_registry_t *r = metrics_registry_find(s);
    size_t total = metrics_series_total(r);
    size_t *col = mem_malloc((total * 2 + NBUILTIN) * sizeof *col);
    size_t ncol = 0;
    fputs("time_s", f);
    for (size_t fi = 0; fi < metrics_family_count(r); fi++) {
        metrics_family_t *fam = metrics_family_at(r, fi);
        const char *fname = metrics_family_name(fam);
        size_t flen = strlen(fname);
        for (size_t si = 0; si < metrics_series_count(fam); si++) {
            metrics_series_t *ser = metrics_series_at(fam, si);
            size_t seq = (size_t)metrics_series_seq(ser);
            if (seq > c->nslot)
                continue; /* made after the last sample */
            const char *labels = metrics_series_name(ser) + flen;
            size_t k = c->slot[seq - 1];
            fputc(',', f);
            if (series_width(ser) == 2) {
                put_cell(f, fname, "_count", labels);
                fputc(',', f);
                put_cell(f, fname, "_sum", labels);
                col[ncol++] = k;
                col[ncol++] = k + 1;
            } else {
                put_cell(f, fname, "", labels);
                col[ncol++] = k;
            }
        }
    }
    for (size_t i = 0; i < NBUILTIN; i++) {
        if (metrics_family_find(r, builtins[i].name))
            continue;
        fputc(',', f);
        put_cell(f, builtins[i].name, "", "");
        col[ncol++] = i;
    }
    fputc('\n', f);
    char num[48], ts[48];
    for (size_t i = 0; i < c->nseg; i++) {
        const segment_t *sg = &c->seg[i];
        for (uint64_t row = 0; row < sg->rows; row++) {
            trace_format_time(sg->t0 + (int64_t)row * c->interval, ts, sizeof ts);
            fputs(ts, f);
            for (size_t k = 0; k < ncol; k++) {
                fputc(',', f);
                if (col[k] < sg->nvals) {
                    metrics_format_value(sg->vals[col[k]], num, sizeof num);
                    fputs(num, f);
                }
            }
            if (fputc('\n', f) == EOF)
                break;
        }
    }
    free(col);
    return fflush(f) == 0 && !ferror(f);
}
