/*
 * repro: reproducer files (see repro.h for what one holds and the commands
 * that use it). This file reads and writes them: the scenario's content
 * hash, the JSON written whole or not at all, and a small JSON reader for
 * the reproducer's own shape. repro_run.c makes the runs (explore's
 * reproducers, replay FILE, the explanation after a failed run),
 * repro_shrink.c shrinks; they share repro_internal.h.
 */
#include "repro_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "outfile.h"
#include "summary_json.h"

/* ---- the scenario's content hash ------------------------------------------ */

bool repro_file_hash(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint64_t h = 0xcbf29ce484222325ull;
    int c;
    while ((c = getc(f)) != EOF) {
        h ^= (uint64_t)(unsigned char)c;
        h *= 0x100000001b3ull;
    }
    fclose(f);
    snprintf(out, size, "fnv1a64:%016llx", (unsigned long long)h);
    return true;
}

/* ---- the reproducer --------------------------------------------------------- */

void repro_free(repro_t *r)
{
    free(r->scenario);
    free(r->version);
    free(r->strategy);
    for (int i = 0; i < r->nsets; i++)
        free(r->sets[i]);
    free(r->sets);
    free(r->decisions);
    free(r->digests);
    free(r->failure_kind);
    free(r->failure_message);
    free(r->failure_where);
    memset(r, 0, sizeof *r);
}

bool repro_is_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    int c;
    while ((c = getc(f)) != EOF && isspace(c))
        ;
    fclose(f);
    return c == '{';
}

bool repro_write(const char *path, const repro_t *r)
{
    atomic_file_t af; /* whole or not at all, bounded, removed on a signal (outfile.h) */
    if (!atomic_open(&af, path))
        return false;
    FILE *f = af.f;
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"chansim\": ", REPRO_FORMAT);
    json_write_string(f, r->version);
    fputs(",\n  \"scenario\": ", f);
    json_write_string(f, r->scenario);
    fprintf(f, ",\n  \"scenario_hash\": \"%s\",\n  \"seed\": %llu,\n  \"strategy\": ", r->scenario_hash,
            (unsigned long long)r->seed);
    json_write_string(f, r->strategy);
    fputs(",\n  \"sets\": [", f);
    for (int i = 0; i < r->nsets; i++) {
        fputs(i ? ", " : "", f);
        json_write_string(f, r->sets[i]);
    }
    fprintf(f, "],\n  \"race\": %s,\n  \"preempt\": %d,\n  \"until_ns\": %lld,\n"
               "  \"instr_budget\": %lld,\n  \"mem_limit\": %llu,\n  \"decisions\": [",
            r->race ? "true" : "false", r->preempt, (long long)r->until_ns,
            (long long)r->instr_budget, (unsigned long long)r->mem_limit);
    for (size_t i = 0; i < r->ndecisions; i++)
        fprintf(f, "%s%u", i ? (i % 32 ? ", " : ",\n    ") : "", r->decisions[i]);
    fprintf(f, "],\n  \"preemptions\": %llu,\n  \"trace_hash\": \"%016llx\",\n  \"events\": %llu,\n"
               "  \"event_digests\": \"",
            (unsigned long long)r->preemptions, (unsigned long long)r->trace_hash,
            (unsigned long long)r->events);
    for (size_t i = 0; i < r->ndigests; i++)
        fprintf(f, "%04x", r->digests[i]);
    fprintf(f, "\",\n  \"exit\": %d,\n  \"failure\": {\"kind\": ", r->exit);
    json_write_string(f, r->failure_kind);
    fputs(", \"message\": ", f);
    json_write_string(f, r->failure_message);
    fputs(", \"where\": ", f);
    json_write_string(f, r->failure_where ? r->failure_where : "");
    fputs("}\n}\n", f);
    if (!atomic_commit(&af)) {
        errno = af.err ? af.err : EIO;
        return false;
    }
    return true;
}

/* ---- reading: a small JSON reader for the reproducer's own shape ------------ */

typedef struct jr {
    const char *p, *end;
    char err[160];
} jr_t;

static void jr_ws(jr_t *j)
{
    while (j->p < j->end && isspace((unsigned char)*j->p))
        j->p++;
}

static bool jr_fail(jr_t *j, const char *what)
{
    if (!j->err[0])
        snprintf(j->err, sizeof j->err, "%s at byte %ld", what, (long)(j->end - j->p));
    return false;
}

static bool jr_lit(jr_t *j, char c)
{
    jr_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return true;
    }
    return false;
}

static char *jr_string(jr_t *j)
{
    jr_ws(j);
    if (j->p >= j->end || *j->p != '"') {
        jr_fail(j, "a string expected");
        return NULL;
    }
    j->p++;
    size_t cap = 64, n = 0;
    char *s = mem_calloc(cap, 1);
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\' && j->p < j->end) {
            char e = *j->p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int k = 0; k < 4 && j->p < j->end; k++) {
                    char h = *j->p++;
                    v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
                }
                c = v < 0x80 ? (char)v : '?';
                break;
            }
            default: c = e; break;
            }
        }
        if (n + 2 >= cap) {
            cap *= 2;
            s = mem_realloc(s, cap);
        }
        s[n++] = c;
    }
    s[n] = 0;
    if (j->p >= j->end) {
        free(s);
        jr_fail(j, "an unterminated string");
        return NULL;
    }
    j->p++;
    return s;
}

static bool jr_int(jr_t *j, int64_t *out, uint64_t *uout)
{
    jr_ws(j);
    char *e;
    errno = 0;
    if (j->p < j->end && *j->p == '-') {
        long long v = strtoll(j->p, &e, 10);
        if (e == j->p || errno)
            return jr_fail(j, "an integer expected");
        if (out)
            *out = v;
        if (uout)
            *uout = (uint64_t)v;
    } else {
        unsigned long long v = strtoull(j->p, &e, 10);
        if (e == j->p || errno)
            return jr_fail(j, "an integer expected");
        if (out)
            *out = (int64_t)v;
        if (uout)
            *uout = v;
    }
    j->p = e;
    return true;
}

static bool jr_bool(jr_t *j, bool *out)
{
    jr_ws(j);
    if ((size_t)(j->end - j->p) >= 4 && strncmp(j->p, "true", 4) == 0) {
        j->p += 4;
        *out = true;
        return true;
    }
    if ((size_t)(j->end - j->p) >= 5 && strncmp(j->p, "false", 5) == 0) {
        j->p += 5;
        *out = false;
        return true;
    }
    return jr_fail(j, "true or false expected");
}

/* Skip any value (fields a later version may add). */
static bool jr_skip(jr_t *j)
{
    jr_ws(j);
    if (j->p >= j->end)
        return jr_fail(j, "a value expected");
    if (*j->p == '"') {
        free(jr_string(j));
        return !j->err[0];
    }
    if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        j->p++;
        if (jr_lit(j, close))
            return true;
        do {
            if (close == '}') {
                free(jr_string(j));
                if (!jr_lit(j, ':'))
                    return jr_fail(j, "':' expected");
            }
            if (!jr_skip(j))
                return false;
        } while (jr_lit(j, ','));
        return jr_lit(j, close) || jr_fail(j, "a closing bracket expected");
    }
    while (j->p < j->end && (isalnum((unsigned char)*j->p) || *j->p == '-' || *j->p == '.' ||
                             *j->p == '+'))
        j->p++;
    return true;
}

static bool read_failure(jr_t *j, repro_t *r)
{
    if (!jr_lit(j, '{'))
        return jr_fail(j, "failure: an object expected");
    if (jr_lit(j, '}'))
        return true;
    do {
        char *k = jr_string(j);
        if (!k || !jr_lit(j, ':')) {
            free(k);
            return jr_fail(j, "':' expected");
        }
        char **dst = strcmp(k, "kind") == 0      ? &r->failure_kind
                   : strcmp(k, "message") == 0 ? &r->failure_message
                   : strcmp(k, "where") == 0   ? &r->failure_where
                                               : NULL;
        free(k);
        if (dst) {
            free(*dst);
            *dst = jr_string(j);
            if (!*dst)
                return false;
        } else if (!jr_skip(j)) {
            return false;
        }
    } while (jr_lit(j, ','));
    return jr_lit(j, '}') || jr_fail(j, "'}' expected");
}

static bool read_member(jr_t *j, repro_t *r, const char *k, bool *format_ok)
{
    int64_t iv;
    uint64_t uv;
    if (strcmp(k, "format") == 0) {
        char *f = jr_string(j);
        *format_ok = f && strcmp(f, REPRO_FORMAT) == 0;
        free(f);
        return !j->err[0];
    }
    if (strcmp(k, "chansim") == 0)
        return (r->version = jr_string(j)) != NULL;
    if (strcmp(k, "scenario") == 0)
        return (r->scenario = jr_string(j)) != NULL;
    if (strcmp(k, "strategy") == 0)
        return (r->strategy = jr_string(j)) != NULL;
    if (strcmp(k, "scenario_hash") == 0) {
        char *h = jr_string(j);
        if (h)
            snprintf(r->scenario_hash, sizeof r->scenario_hash, "%s", h);
        free(h);
        return h != NULL;
    }
    if (strcmp(k, "trace_hash") == 0) {
        char *h = jr_string(j);
        if (h)
            r->trace_hash = strtoull(h, NULL, 16);
        free(h);
        return h != NULL;
    }
    if (strcmp(k, "event_digests") == 0) {
        char *h = jr_string(j);
        if (!h)
            return false;
        size_t n = strlen(h) / 4;
        r->digests = mem_calloc(n ? n : 1, sizeof *r->digests);
        for (size_t i = 0; i < n; i++) {
            char q[5] = {h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3], 0};
            r->digests[i] = (uint16_t)strtoul(q, NULL, 16);
        }
        r->ndigests = n;
        free(h);
        return true;
    }
    if (strcmp(k, "seed") == 0)
        return jr_int(j, NULL, &r->seed);
    if (strcmp(k, "preempt") == 0) {
        if (!jr_int(j, &iv, NULL))
            return false;
        r->preempt = (int)iv;
        return true;
    }
    if (strcmp(k, "until_ns") == 0)
        return jr_int(j, &r->until_ns, NULL);
    if (strcmp(k, "instr_budget") == 0)
        return jr_int(j, &r->instr_budget, NULL);
    if (strcmp(k, "mem_limit") == 0)
        return jr_int(j, NULL, &r->mem_limit);
    if (strcmp(k, "preemptions") == 0)
        return jr_int(j, NULL, &r->preemptions);
    if (strcmp(k, "events") == 0)
        return jr_int(j, NULL, &r->events);
    if (strcmp(k, "exit") == 0) {
        if (!jr_int(j, &iv, NULL))
            return false;
        r->exit = (int)iv;
        return true;
    }
    if (strcmp(k, "race") == 0)
        return jr_bool(j, &r->race);
    if (strcmp(k, "failure") == 0)
        return read_failure(j, r);
    if (strcmp(k, "sets") == 0) {
        if (!jr_lit(j, '['))
            return jr_fail(j, "sets: an array expected");
        if (jr_lit(j, ']'))
            return true;
        do {
            char *s = jr_string(j);
            if (!s)
                return false;
            r->sets = mem_realloc(r->sets, (size_t)(r->nsets + 1) * sizeof *r->sets);
            r->sets[r->nsets++] = s;
        } while (jr_lit(j, ','));
        return jr_lit(j, ']') || jr_fail(j, "']' expected");
    }
    if (strcmp(k, "decisions") == 0) {
        if (!jr_lit(j, '['))
            return jr_fail(j, "decisions: an array expected");
        if (jr_lit(j, ']'))
            return true;
        size_t cap = 0;
        do {
            if (!jr_int(j, NULL, &uv))
                return false;
            if (uv > UINT32_MAX)
                return jr_fail(j, "a decision out of range");
            if (r->ndecisions == cap) {
                cap = cap ? cap * 2 : 256;
                r->decisions = mem_realloc(r->decisions, cap * sizeof *r->decisions);
            }
            r->decisions[r->ndecisions++] = (uint32_t)uv;
        } while (jr_lit(j, ','));
        return jr_lit(j, ']') || jr_fail(j, "']' expected");
    }
    return jr_skip(j);
}

bool repro_read(const char *path, repro_t *r, char *err, size_t errsize)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = mem_calloc(cap, 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = mem_realloc(buf, cap);
        }
    }
    fclose(f);
    jr_t j = {.p = buf, .end = buf + n};
    bool format_ok = false;
    bool ok = jr_lit(&j, '{');
    if (!ok)
        jr_fail(&j, "a JSON object expected");
    if (ok && !jr_lit(&j, '}')) {
        do {
            char *k = jr_string(&j);
            if (!k || !jr_lit(&j, ':')) {
                free(k);
                ok = jr_fail(&j, "a member expected");
                break;
            }
            ok = read_member(&j, r, k, &format_ok);
            free(k);
        } while (ok && jr_lit(&j, ','));
        if (ok && !jr_lit(&j, '}'))
            ok = jr_fail(&j, "'}' expected");
    }
    free(buf);
    if (ok && !format_ok)
        ok = snprintf(j.err, sizeof j.err, "not a chansim reproducer (format \"%s\" expected)",
                      REPRO_FORMAT) < 0;
    if (ok && (!r->scenario || !r->strategy || !r->failure_kind || !r->failure_message))
        ok = snprintf(j.err, sizeof j.err, "scenario, strategy and failure are required") < 0;
    if (!ok) {
        snprintf(err, errsize, "%s: %s", path, j.err[0] ? j.err : "malformed");
        repro_free(r);
    }
    return ok;
}
