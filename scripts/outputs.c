/* outputs: the files of a run, written whole or not at all. See outputs.h. */
#include "outputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

bool atomic_open(atomic_file_t *a, const char *path)
{
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 32;
    a->path = strdup(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        free(a->path);
        free(a->tmp);
        return false;
    }
    snprintf(a->tmp, n, "%s.partial-%d", path, (int)getpid());
    a->f = fopen(a->tmp, "w");
    if (!a->f) {
        fprintf(stderr, "chansim: cannot create %s: %s\n", path, strerror(errno));
        free(a->path);
        free(a->tmp);
        a->path = a->tmp = NULL;
        return false;
    }
    return true;
}

bool atomic_commit(atomic_file_t *a)
{
    if (!a->f)
        return false;
    bool ok = !a->failed && !ferror(a->f);
    if (fclose(a->f) != 0)
        ok = false;
    a->f = NULL;
    if (ok && rename(a->tmp, a->path) != 0) {
        fprintf(stderr, "chansim: cannot write %s: %s\n", a->path, strerror(errno));
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "chansim: %s was not written\n", a->path);
        unlink(a->tmp);
    }
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    return ok;
}

void atomic_abort(atomic_file_t *a)
{
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp);
    }
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

/* ---- --log ---------------------------------------------------------------- */

static void log_sink(void *ud, const trace_event_t *ev)
{
    atomic_file_t *a = ud;
    char line[2048];
    int n = trace_format(ev, line, sizeof line);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    /* A log event's text already ends with its newline. */
    while (len > 0 && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    if (fwrite(line, 1, len, a->f) != len)
        a->failed = true;
}

void outputs_init(outputs_t *o)
{
    memset(o, 0, sizeof *o);
    o->csv_interval = 100 * 1000000LL;
}

bool outputs_attach(outputs_t *o, host_t *h)
{
    if (o->log_path) {
        if (!atomic_open(&o->log, o->log_path))
            return false;
        host_add_sink(h, log_sink, &o->log);
    }
    if (o->trace_path || o->metrics_path || o->csv_path) {
        fprintf(stderr, "chansim: --trace, --metrics and --csv are not in this build yet\n");
        return false;
    }
    return true;
}

bool outputs_finish(outputs_t *o, host_t *h)
{
    bool ok = true;
    if (o->log_path)
        ok = atomic_commit(&o->log) && ok;
    (void)h;
    return ok;
}

void outputs_deinit(outputs_t *o)
{
    if (o->log.f)
        atomic_abort(&o->log);
}

bool outputs_write_schedule(const char *path, const uint32_t *d, size_t n)
{
    atomic_file_t a;
    if (!atomic_open(&a, path))
        return false;
    for (size_t i = 0; i < n; i++)
        if (fprintf(a.f, "%u%c", d[i], (i % 32 == 31 || i + 1 == n) ? '\n' : ' ') < 0)
            a.failed = true;
    return atomic_commit(&a);
}
