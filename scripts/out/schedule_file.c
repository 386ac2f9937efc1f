/* schedule_file: a run's decisions, written and read back. See schedule_file.h. */
#include "schedule_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "outfile.h"

#define HEADER "# chansim schedule 1 "
#define MAX_FILE (256u << 20) /* a schedule of tens of millions of decisions */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool schedule_meta_of(const host_options_t *opt, const char *strategy, schedule_meta_t *m, char *err,
                      size_t errsize)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(opt->path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s:1: cannot open the scenario: %s", opt->path, strerror(errno));
        return false;
    }
    uint64_t h = FNV_INIT;
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv(h, buf, got);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errsize, "%s:1: cannot read the scenario", opt->path);
        return false;
    }
    m->scenario = h;
    m->seed = opt->seed;
    snprintf(m->strategy, sizeof m->strategy, "%s", strategy ? strategy : "fifo");
    m->preempt = opt->preempt;
    m->race = opt->race;
    char **sets = mem_calloc((size_t)opt->nsets + 1, sizeof *sets);
    for (int i = 0; i < opt->nsets; i++) {
        size_t n = strlen(opt->sets[i].name) + strlen(opt->sets[i].value) + 2;
        sets[i] = mem_malloc(n);
        snprintf(sets[i], n, "%s=%s", opt->sets[i].name, opt->sets[i].value);
    }
    qsort(sets, (size_t)opt->nsets, sizeof *sets, cmp_str);
    h = FNV_INIT;
    for (int i = 0; i < opt->nsets; i++) {
        h = fnv(h, sets[i], strlen(sets[i]) + 1);
        free(sets[i]);
    }
    free(sets);
    m->params = h;
    return true;
}

bool schedule_write(const char *path, const schedule_meta_t *m, const uint32_t *d, size_t n)
{
    atomic_file_t a;
    if (!atomic_open(&a, path))
        return false;
    fprintf(a.f, HEADER "scenario=%016" PRIx64 " seed=%" PRIu64 " strategy=%s preempt=%d race=%d params=%016" PRIx64
                        " decisions=%zu\n",
            m->scenario, m->seed, m->strategy, m->preempt, m->race ? 1 : 0, m->params, n);
    for (size_t i = 0; i < n; i++)
        fprintf(a.f, "%u%c", d[i], (i % 32 == 31 || i + 1 == n) ? '\n' : ' ');
    return atomic_commit(&a);
}

static void *refuse(char *err, size_t errsize, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void *refuse(char *err, size_t errsize, const char *path, const char *fmt, ...)
{
    int k = snprintf(err, errsize, "%s: ", path);
    if (k < 0 || (size_t)k >= errsize)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errsize - (size_t)k, fmt, ap);
    va_end(ap);
    return NULL;
}

/* The header's fields; false if one is missing or malformed. */
static bool parse_header(const char *line, schedule_meta_t *m)
{
    memset(m, 0, sizeof *m);
    unsigned seen = 0;
    const char *p = line + strlen(HEADER);
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ' ');
        if (!end)
            end = p + strlen(p);
        if (!eq || eq > end)
            return false;
        char key[32], val[64];
        if ((size_t)(eq - p) >= sizeof key || (size_t)(end - eq - 1) >= sizeof val)
            return false;
        snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
        snprintf(val, sizeof val, "%.*s", (int)(end - eq - 1), eq + 1);
        char *rest;
        errno = 0;
        if (strcmp(key, "scenario") == 0) {
            m->scenario = strtoull(val, &rest, 16);
            seen |= 1;
        } else if (strcmp(key, "seed") == 0) {
            m->seed = strtoull(val, &rest, 10);
            seen |= 2;
        } else if (strcmp(key, "strategy") == 0) {
            snprintf(m->strategy, sizeof m->strategy, "%.31s", val);
            rest = val + strlen(val);
            seen |= 4;
        } else if (strcmp(key, "preempt") == 0) {
            m->preempt = (int)strtol(val, &rest, 10);
            seen |= 8;
        } else if (strcmp(key, "race") == 0) {
            m->race = strtol(val, &rest, 10) != 0;
            seen |= 16;
        } else if (strcmp(key, "params") == 0) {
            m->params = strtoull(val, &rest, 16);
            seen |= 32;
        } else if (strcmp(key, "decisions") == 0) {
            m->decisions = (size_t)strtoull(val, &rest, 10);
            seen |= 64;
        } else {
            rest = val; /* a field of a later version: ignored */
            rest += strlen(rest);
        }
        if (!*val || *rest || errno)
            return false;
        p = end;
    }
    return seen == 127;
}

/* The whole file as text, if it is a regular, non-empty, not too big file
 * of printable text; *size is its length. */
static char *read_text(const char *path, size_t *size, char *err, size_t errsize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return refuse(err, errsize, path, "cannot read the schedule: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        close(fd);
        return refuse(err, errsize, path, "%s, not a schedule written by --schedule-out",
                      dir ? "a folder" : "not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return refuse(err, errsize, path, "an empty file, not a schedule written by --schedule-out");
    }
    if ((uint64_t)st.st_size > MAX_FILE) {
        close(fd);
        return refuse(err, errsize, path, "%lld bytes: too big for a schedule (at most %u MiB)",
                      (long long)st.st_size, MAX_FILE >> 20);
    }
    *size = (size_t)st.st_size;
    char *text = mem_malloc(*size + 1);
    size_t have = 0;
    while (have < *size) {
        ssize_t r = read(fd, text + have, *size - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    close(fd);
    text[have] = 0;
    if (have != *size) {
        free(text);
        return refuse(err, errsize, path, "cannot read the schedule: it changed while read");
    }
    for (size_t i = 0; i < *size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f) {
            free(text);
            return refuse(err, errsize, path, "binary data at byte %zu, not a schedule written by "
                                              "--schedule-out", i);
        }
    }
    return text;
}

/* Whether the first line says the schedule belongs to this run (the same
 * scenario, seed if given, --preempt, --race and --set values). */
static bool belongs(const char *path, const schedule_meta_t *want, bool seed_given, const schedule_meta_t *got,
                    char *err, size_t errsize)
{
    if (got->scenario != want->scenario) {
        refuse(err, errsize, path, "recorded for another scenario, or another version of it (scenario "
                                   "hash %016" PRIx64 "; this one is %016" PRIx64 ")",
               got->scenario, want->scenario);
        return false;
    }
    if (seed_given && got->seed != want->seed) {
        refuse(err, errsize, path, "recorded with --seed %" PRIu64 "; this run has --seed %" PRIu64,
               got->seed, want->seed);
        return false;
    }
    if (got->preempt != want->preempt) {
        refuse(err, errsize, path, "recorded with --preempt %d; this run has --preempt %d", got->preempt,
               want->preempt);
        return false;
    }
    if (got->race != want->race) {
        refuse(err, errsize, path, "recorded %s --race; this run is %s it", got->race ? "with" : "without",
               want->race ? "with" : "without");
        return false;
    }
    if (got->params != want->params) {
        refuse(err, errsize, path, "recorded with other --set values than this run's");
        return false;
    }
    return true;
}

/* The decisions after the first line: unsigned integers separated by white
 * space, # comments to the end of a line; exactly as many as it says. */
static uint32_t *read_decisions(const char *path, char *p, size_t want, size_t *n, char *err, size_t errsize)
{
    size_t cap = want < (1u << 20) ? want + 1 : 1u << 20, count = 0;
    uint32_t *d = mem_malloc(cap * sizeof *d);
    int line = 2;
    while (*p) {
        if (*p == '\n') {
            line++;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
            continue;
        }
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        char *end;
        errno = 0;
        unsigned long long v = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : (end = p, 0);
        if (end == p || errno || v > UINT32_MAX || (*end && *end != ' ' && *end != '\n' && *end != '\t' &&
                                                   *end != '\r')) {
            int len = 0;
            while (p[len] && p[len] != ' ' && p[len] != '\n' && len < 20)
                len++;
            free(d);
            return refuse(err, errsize, path, "line %d: \"%.*s\" is not a decision (an unsigned integer)", line,
                          len, p);
        }
        if (count == want) {
            free(d);
            return refuse(err, errsize, path, "line %d: more decisions than the %zu its first line says", line,
                          want);
        }
        if (count == cap) {
            cap *= 2;
            d = mem_realloc(d, cap * sizeof *d);
        }
        d[count++] = (uint32_t)v;
        p = end;
    }
    if (count != want) {
        free(d);
        return refuse(err, errsize, path, "truncated: %zu decisions of the %zu its first line says", count, want);
    }
    *n = count;
    return d;
}

uint32_t *schedule_read(const char *path, const schedule_meta_t *want, bool seed_given, schedule_meta_t *got,
                        size_t *n, char *err, size_t errsize)
{
    *n = 0;
    size_t size = 0;
    char *text = read_text(path, &size, err, errsize);
    if (!text)
        return NULL;
    uint32_t *d = NULL;
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = 0;
    if (nl && nl > text && nl[-1] == '\r')
        nl[-1] = 0;
    if (strncmp(text, HEADER, strlen(HEADER)) != 0)
        refuse(err, errsize, path, "no \"%s...\" first line: not a schedule written by --schedule-out "
                                   "(or written by an older chansim: record it again)", HEADER);
    else if (!parse_header(text, got))
        refuse(err, errsize, path, "a malformed first line (want scenario=, seed=, strategy=, preempt=, "
                                   "race=, params= and decisions=)");
    else if (belongs(path, want, seed_given, got, err, errsize))
        d = read_decisions(path, nl ? nl + 1 : text + size, got->decisions, n, err, errsize);
    free(text);
    return d;
}
