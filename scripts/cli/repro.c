/* repro: reproducer files, replay FILE and shrink (see repro.h). */
#include "repro.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain.h"
#include "mem.h"
#include "outfile.h"
#include "summary_json.h"

/* ---- the scenario's content hash ------------------------------------------ */

static bool file_hash(const char *path, char *out, size_t size)
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

/* ---- failures --------------------------------------------------------------- */

bool repro_failure_of(host_t *h, int status, const char **kind, const char **message,
                      const char **where)
{
    *kind = *message = *where = "";
    if (status == EXIT_OK || status == EXIT_USAGE)
        return false;
    sched_t *s = host_sched(h);
    switch (s ? host_result(h) : SCHED_DONE) {
    case SCHED_PANIC:
        *kind = "panic";
        *message = sched_failure_message(s);
        return true;
    case SCHED_FATAL:
        *kind = "fatal";
        *message = sched_failure_message(s);
        return true;
    case SCHED_DEADLOCK:
        *kind = "deadlock";
        *message = sched_failure_message(s);
        return true;
    default:
        break;
    }
    const host_expect_t *e;
    size_t n = host_expectations(h, &e);
    for (size_t i = 0; i < n; i++) {
        if (!e[i].ok) {
            static const char *const kinds[] = {"expectation", "invariant", "finally"};
            *kind = kinds[e[i].kind >= 0 && e[i].kind <= 2 ? e[i].kind : 0];
            *message = e[i].msg;
            *where = e[i].where;
            return true;
        }
    }
    if (host_expected_failure(h) && host_expected_happened(h) == 0) {
        *kind = "expected_failure";
        *message = host_expected_failure(h);
        return true;
    }
    if (status == EXIT_PROGRAM && host_leaked(h)) {
        *kind = "leak";
        *message = "goroutines blocked forever after main returned";
        return true;
    }
    if (host_races(h)) {
        *kind = "race";
        *message = host_first_race(h);
        return true;
    }
    *kind = "exit";
    *message = "the run failed";
    return true;
}

/* ---- one run, observed -------------------------------------------------------- */

typedef struct observed {
    uint16_t *digests;
    size_t ndigests, cap;
    uint64_t preemptions;
    const uint16_t *expect;   /* the reproducer's digests, to find a divergence */
    size_t nexpect;
    uint64_t diverged_at;     /* first event that differs, UINT64_MAX: none yet */
    char diverged_text[256];  /* that event, as --log prints it */
} observed_t;

static void observe(void *ud, const trace_event_t *ev)
{
    observed_t *o = ud;
    if (ev->kind == EV_GO_YIELD && ev->a == 1)
        o->preemptions++;
    uint16_t d = (uint16_t)(trace_hash_event(TRACE_HASH_INIT, ev) >> 48);
    if (o->ndigests < REPRO_MAX_DIGESTS) {
        if (o->ndigests == o->cap) {
            o->cap = o->cap ? o->cap * 2 : 1024;
            o->digests = mem_realloc(o->digests, o->cap * sizeof *o->digests);
        }
        o->digests[o->ndigests++] = d;
    }
    if (o->expect && o->diverged_at == UINT64_MAX &&
        (ev->seq >= o->nexpect ? ev->seq < REPRO_MAX_DIGESTS : o->expect[ev->seq] != d)) {
        o->diverged_at = ev->seq;
        trace_format(ev, o->diverged_text, sizeof o->diverged_text);
    }
}

/* The run options a reproducer gives (sets point into r). */
static void options_of(const repro_t *r, host_options_t *opt, host_param_override_t *sets)
{
    memset(opt, 0, sizeof *opt);
    opt->path = r->scenario;
    opt->seed = r->seed;
    opt->seed_given = true;
    opt->policy = SCHED_REPLAY;
    opt->record = true;
    opt->replay = r->decisions;
    opt->replay_len = r->ndecisions;
    opt->race = r->race;
    opt->preempt = r->preempt;
    opt->until = r->until_ns;
    opt->instr_budget = r->instr_budget;
    opt->mem_limit = (size_t)r->mem_limit;
    for (int i = 0; i < r->nsets; i++) {
        const char *eq = strchr(r->sets[i], '=');
        sets[i].name = eq ? mem_strndup(r->sets[i], (size_t)(eq - r->sets[i])) : mem_strdup(r->sets[i]);
        sets[i].value = eq ? eq + 1 : "";
        sets[i].used = false;
    }
    opt->sets = sets;
    opt->nsets = r->nsets;
    opt->out = stdout;
}

static void free_sets(host_param_override_t *sets, int n)
{
    for (int i = 0; i < n; i++)
        free((char *)sets[i].name);
}

/* Standard error to /dev/null around quiet runs (the program's panics and
 * race reports); returns the saved descriptor. */
static int mute_stderr(void)
{
    fflush(stderr);
    int saved = dup(2);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, 2);
        close(null);
    }
    return saved;
}

static void unmute_stderr(int saved)
{
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
}

/* The outcome of a quiet run. */
typedef struct outcome {
    int status;
    uint64_t hash, events, preemptions;
    uint32_t *decisions;
    size_t ndecisions;
    uint16_t *digests;
    size_t ndigests;
    char kind[24];
    char *message, *where;
} outcome_t;

static void outcome_free(outcome_t *o)
{
    free(o->decisions);
    free(o->digests);
    free(o->message);
    free(o->where);
    memset(o, 0, sizeof *o);
}

/* A run with opt (its output and reports thrown away), observed; ex, if
 * given, records the steps. */
static void quiet_run(host_options_t opt, explain_t *ex, FILE *devnull, outcome_t *out)
{
    memset(out, 0, sizeof *out);
    opt.quiet = true;
    opt.out = devnull;
    opt.record = true;
    for (int i = 0; i < opt.nsets; i++)
        opt.sets[i].used = false;
    observed_t ob = {.diverged_at = UINT64_MAX};
    int saved = mute_stderr();
    host_t *h = host_create(&opt);
    host_add_sink(h, observe, &ob);
    if (ex)
        explain_attach(ex, h);
    out->status = host_run(h);
    if (ex)
        explain_detach(ex, h);
    unmute_stderr(saved);
    sched_t *s = host_sched(h);
    if (s) {
        out->hash = sched_trace_hash(s);
        out->events = sched_trace_events(s);
        size_t n;
        const uint32_t *d = sched_decisions(s, &n);
        out->decisions = mem_calloc(n ? n : 1, sizeof *out->decisions);
        if (n)
            memcpy(out->decisions, d, n * sizeof *d);
        out->ndecisions = n;
    }
    out->preemptions = ob.preemptions;
    out->digests = ob.digests;
    out->ndigests = ob.ndigests;
    const char *k, *m, *w;
    if (repro_failure_of(h, out->status, &k, &m, &w)) {
        snprintf(out->kind, sizeof out->kind, "%s", k);
        out->message = mem_strdup(m);
        out->where = mem_strdup(w);
    }
    host_destroy(h);
}

/* A reproducer from a failing run's outcome. */
static void fill_repro(repro_t *r, const host_options_t *opt, const char *strategy,
                       const outcome_t *oc)
{
    memset(r, 0, sizeof *r);
    r->scenario = mem_strdup(opt->path);
    if (!file_hash(opt->path, r->scenario_hash, sizeof r->scenario_hash))
        snprintf(r->scenario_hash, sizeof r->scenario_hash, "fnv1a64:?");
    r->version = mem_strdup(CHANSIM_VERSION);
    r->seed = opt->seed;
    r->strategy = mem_strdup(strategy);
    r->nsets = opt->nsets;
    r->sets = mem_calloc((size_t)opt->nsets + 1, sizeof *r->sets);
    for (int i = 0; i < opt->nsets; i++) {
        size_t a = strlen(opt->sets[i].name), b = strlen(opt->sets[i].value);
        r->sets[i] = mem_calloc(a + b + 2, 1);
        snprintf(r->sets[i], a + b + 2, "%s=%s", opt->sets[i].name, opt->sets[i].value);
    }
    r->race = opt->race;
    r->preempt = opt->preempt;
    r->until_ns = opt->until;
    r->instr_budget = opt->instr_budget;
    r->mem_limit = opt->mem_limit;
    r->decisions = mem_calloc(oc->ndecisions ? oc->ndecisions : 1, sizeof *r->decisions);
    if (oc->ndecisions)
        memcpy(r->decisions, oc->decisions, oc->ndecisions * sizeof *r->decisions);
    r->ndecisions = oc->ndecisions;
    r->preemptions = oc->preemptions;
    r->trace_hash = oc->hash;
    r->events = oc->events;
    r->digests = mem_calloc(oc->ndigests ? oc->ndigests : 1, sizeof *r->digests);
    if (oc->ndigests)
        memcpy(r->digests, oc->digests, oc->ndigests * sizeof *r->digests);
    r->ndigests = oc->ndigests;
    r->exit = oc->status;
    r->failure_kind = mem_strdup(oc->kind);
    r->failure_message = mem_strdup(oc->message ? oc->message : "");
    r->failure_where = mem_strdup(oc->where ? oc->where : "");
}

/* ---- explore's reproducers --------------------------------------------------- */

void repro_explore_write(const runopts_t *o, const char *dir, const uint64_t *seeds, size_t n)
{
    if (!n)
        return;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "chansim explore: cannot create %s: %s (no reproducers written)\n", dir,
                strerror(errno));
        return;
    }
    FILE *devnull = fopen("/dev/null", "w");
    const char *base = strrchr(o->host.path, '/');
    base = base ? base + 1 : o->host.path;
    size_t blen = strlen(base);
    if (blen > 4 && strcmp(base + blen - 4, ".lua") == 0)
        blen -= 4;
    char strat[32];
    snprintf(strat, sizeof strat, "%s", o->strategy);
    for (char *c = strat; *c; c++)
        if (*c == ':')
            *c = '-';
    size_t written = 0;
    char first[PATH_MAX] = "";
    for (size_t i = 0; i < n; i++) {
        host_options_t opt = o->host;
        host_param_override_t *sets = mem_calloc((size_t)opt.nsets + 1, sizeof *sets);
        memcpy(sets, opt.sets, (size_t)opt.nsets * sizeof *sets);
        opt.sets = sets;
        opt.seed = seeds[i];
        opt.seed_given = true;
        outcome_t oc;
        quiet_run(opt, NULL, devnull, &oc);
        if (oc.kind[0]) {
            repro_t r;
            fill_repro(&r, &opt, o->strategy, &oc);
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%.*s-%s-seed%llu.json", dir, (int)blen, base, strat,
                     (unsigned long long)seeds[i]);
            if (repro_write(path, &r)) {
                if (!written++)
                    snprintf(first, sizeof first, "%s", path);
            } else {
                fprintf(stderr, "chansim explore: cannot write %s: %s\n", path, strerror(errno));
            }
            repro_free(&r);
        }
        outcome_free(&oc);
        free(sets);
    }
    if (devnull)
        fclose(devnull);
    if (written)
        fprintf(stderr, "explore: %zu reproducer%s in %s/ (chansim replay %s; chansim shrink %s)\n",
                written, written == 1 ? "" : "s", dir, first, first);
}

/* ---- replay FILE ----------------------------------------------------------------- */

static bool same_failure(const outcome_t *oc, const repro_t *r)
{
    return strcmp(oc->kind, r->failure_kind) == 0 && oc->message &&
           strcmp(oc->message, r->failure_message) == 0;
}

/* Read FILE and check its scenario; an exit status on error (R freed), else -1. */
static int load_checked(const char *cmd, const char *file, bool force, repro_t *r)
{
    char err[512];
    if (!repro_read(file, r, err, sizeof err)) {
        fprintf(stderr, "chansim %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    char now[32];
    if (!file_hash(r->scenario, now, sizeof now)) {
        fprintf(stderr, "chansim %s: %s: cannot open the scenario %s: %s\n", cmd, file, r->scenario,
                strerror(errno));
        repro_free(r);
        return EXIT_USAGE;
    }
    if (strcmp(now, r->scenario_hash) != 0) {
        if (!force) {
            fprintf(stderr, "chansim %s: %s: the scenario %s changed since the reproducer was written "
                            "(%s, now %s); --force replays it anyway\n",
                    cmd, file, r->scenario, r->scenario_hash, now);
            repro_free(r);
            return EXIT_USAGE;
        }
        fprintf(stderr, "chansim %s: warning: the scenario %s changed since the reproducer was written\n",
                cmd, r->scenario);
    }
    if (r->version && strcmp(r->version, CHANSIM_VERSION) != 0)
        fprintf(stderr, "chansim %s: warning: written by chansim %s, this is %s\n", cmd, r->version,
                CHANSIM_VERSION);
    return -1;
}

int repro_replay_main(runopts_t *o)
{
    const char *file = o->host.path;
    if (o->host.seed_given || o->host.nsets || o->strategy || o->schedule_in)
        return runopts_fail(o, "a reproducer carries its own seed, strategy, schedule and --set "
                               "values: chansim replay FILE [--force] [--quiet]");
    repro_t r;
    int st = load_checked("replay", file, o->force, &r);
    if (st >= 0)
        return st;
    host_param_override_t *sets = mem_calloc((size_t)r.nsets + 1, sizeof *sets);
    host_options_t opt;
    options_of(&r, &opt, sets);
    opt.quiet = o->host.quiet;
    observed_t ob = {.diverged_at = UINT64_MAX, .expect = r.digests, .nexpect = r.ndigests};
    explain_t *ex = explain_new();
    host_t *h = host_create(&opt);
    host_add_sink(h, observe, &ob);
    explain_attach(ex, h);
    int status = host_run(h);
    explain_detach(ex, h);
    fflush(stdout);
    sched_t *s = host_sched(h);
    int result;
    if (status == EXIT_USAGE) {
        result = EXIT_USAGE;
    } else {
        uint64_t hash = sched_trace_hash(s), events = sched_trace_events(s);
        const char *k, *m, *w;
        bool failed = repro_failure_of(h, status, &k, &m, &w);
        bool same = hash == r.trace_hash && events == r.events;
        if (same) {
            printf("reproduced (hash %016llx): %s: %s\n", (unsigned long long)hash, k, m);
            result = EXIT_OK;
        } else {
            uint64_t at = ob.diverged_at;
            if (at == UINT64_MAX) /* every digest kept matched: the lengths differ */
                at = events < r.events ? events : (r.ndigests < events ? r.ndigests : r.events);
            if (ob.diverged_at != UINT64_MAX)
                printf("diverged at event %llu: %s\n", (unsigned long long)at, ob.diverged_text);
            else if (events < r.events)
                printf("diverged at event %llu: the run ended there, the reproducer has %llu events\n",
                       (unsigned long long)at, (unsigned long long)r.events);
            else
                printf("diverged at event %llu: the run went on past the reproducer's %llu events\n",
                       (unsigned long long)at, (unsigned long long)r.events);
            printf("  expected hash %016llx, %s: %s\n  got      hash %016llx, %s%s%s\n",
                   (unsigned long long)r.trace_hash, r.failure_kind, r.failure_message,
                   (unsigned long long)hash, failed ? k : "passed", failed ? ": " : "", failed ? m : "");
            result = EXIT_EXPECT;
        }
        if (failed)
            explain_print(ex, stdout, k, m, 16);
    }
    host_destroy(h);
    explain_free(ex);
    free(ob.digests);
    free_sets(sets, r.nsets);
    free(sets);
    repro_free(&r);
    return result;
}

/* ---- shrink ------------------------------------------------------------------------ */

/* A schedule as rules that keep their meaning when earlier decisions
 * change: "the k-th decision of goroutine g (at its decision point, or
 * after it parked) runs goroutine target" (for a select or a timer: takes
 * alternative target). Decisions without a rule take the default: the
 * goroutine at a point goes on, else the run queue's head. */
typedef struct rule {
    uint64_t g;
    uint64_t k;
    int kind;
    uint64_t target;
} rule_t;

typedef struct chooser {
    /* record: the decisions of a list, positionally, noting the rules */
    const uint32_t *list;
    size_t len, pos;
    rule_t *seen;
    size_t nseen, capseen;
    /* apply: the rules kept; with alternatives, every other choice each
     * run-queue decision had is noted in seen */
    const rule_t *rules;
    size_t nrules;
    bool alternatives;
    uint64_t *counts; /* decisions so far, by goroutine id */
    size_t ncounts;
} chooser_t;

static uint64_t next_count(chooser_t *c, uint64_t g)
{
    if (g >= c->ncounts) {
        size_t n = c->ncounts ? c->ncounts : 64;
        while (n <= g)
            n *= 2;
        c->counts = mem_realloc(c->counts, n * sizeof *c->counts);
        memset(c->counts + c->ncounts, 0, (n - c->ncounts) * sizeof *c->counts);
        c->ncounts = n;
    }
    return c->counts[g]++;
}

static void note(chooser_t *c, rule_t r)
{
    if (c->nseen == c->capseen) {
        c->capseen = c->capseen ? c->capseen * 2 : 64;
        c->seen = mem_realloc(c->seen, c->capseen * sizeof *c->seen);
    }
    c->seen[c->nseen++] = r;
}

static uint32_t choose(void *ud, sched_t *s, sched_choice_t kind, uint32_t n)
{
    chooser_t *c = ud;
    uint64_t pt = kind == CHOICE_RUNNABLE ? sched_point_gid(s) : 0;
    uint64_t owner = pt ? pt : sched_last_gid(s);
    uint64_t k = next_count(c, owner);
    if (c->list) {
        uint32_t v = c->pos < c->len ? c->list[c->pos++] : n;
        if (v >= n)
            return n;
        uint64_t target = v;
        bool dflt;
        if (kind == CHOICE_RUNNABLE) {
            target = sched_runq_gid(s, v);
            dflt = target == (pt ? pt : sched_runq_gid(s, 0));
        } else {
            dflt = kind == CHOICE_TIMER && v == 0;
        }
        if (!dflt)
            note(c, (rule_t){.g = owner, .k = k, .kind = (int)kind, .target = target});
        return v;
    }
    if (c->alternatives && kind == CHOICE_RUNNABLE && c->nseen < 100000) {
        uint64_t d = pt ? pt : sched_runq_gid(s, 0);
        for (uint32_t q = 0; q < n; q++)
            if (sched_runq_gid(s, q) != d)
                note(c, (rule_t){.g = owner, .k = k, .kind = (int)kind, .target = sched_runq_gid(s, q)});
    }
    for (size_t i = 0; i < c->nrules; i++) {
        const rule_t *r = &c->rules[i];
        if (r->g != owner || r->k != k || r->kind != (int)kind)
            continue;
        if (kind != CHOICE_RUNNABLE)
            return r->target < n ? (uint32_t)r->target : n;
        for (uint32_t q = 0; q < n; q++)
            if (sched_runq_gid(s, q) == r->target)
                return q;
        return n; /* not runnable here: the default */
    }
    return n;
}

typedef struct shrinker {
    const repro_t *r;
    host_options_t base;
    FILE *devnull;
    const rule_t *all;    /* the original run's rules */
    uint64_t best_preemptions;
    uint64_t runs, max_runs;
    outcome_t best;       /* the smallest failing run so far */
} shrinker_t;

/* Run with rules: true if it fails the same way with no more preemptions
 * than the best so far (fewer if fewer). */
static bool try_rules(shrinker_t *sh, const rule_t *rules, size_t nrules, bool fewer)
{
    if (sh->runs >= sh->max_runs)
        return false;
    chooser_t ch = {.rules = rules, .nrules = nrules};
    host_options_t opt = sh->base;
    opt.replay = NULL;
    opt.replay_len = 0;
    opt.chooser = choose;
    opt.chooser_ud = &ch;
    outcome_t oc;
    quiet_run(opt, NULL, sh->devnull, &oc);
    sh->runs++;
    free(ch.counts);
    bool ok = same_failure(&oc, sh->r) &&
              (fewer ? oc.preemptions < sh->best_preemptions : oc.preemptions <= sh->best_preemptions);
    if (ok) {
        outcome_free(&sh->best);
        sh->best = oc;
        sh->best_preemptions = oc.preemptions;
    } else {
        outcome_free(&oc);
    }
    return ok;
}

/* The same with the rules at the positions in keep. */
static bool try_keep(shrinker_t *sh, const size_t *keep, size_t nkeep)
{
    rule_t *rules = mem_calloc(nkeep ? nkeep : 1, sizeof *rules);
    for (size_t i = 0; i < nkeep; i++)
        rules[i] = sh->all[keep[i]];
    bool ok = try_rules(sh, rules, nkeep, false);
    free(rules);
    return ok;
}

/* Fewest preemptions first: when ddmin left more than one, a schedule
 * with a single rule (one switch away from the default run, at any of its
 * run-queue decisions) that fails the same way with fewer. */
static void one_switch(shrinker_t *sh)
{
    if (sh->best_preemptions <= 1)
        return;
    chooser_t alt = {.alternatives = true};
    host_options_t opt = sh->base;
    opt.replay = NULL;
    opt.replay_len = 0;
    opt.chooser = choose;
    opt.chooser_ud = &alt;
    outcome_t oc;
    quiet_run(opt, NULL, sh->devnull, &oc);
    sh->runs++;
    outcome_free(&oc);
    for (size_t i = 0; i < alt.nseen && sh->runs < sh->max_runs; i++)
        if (try_rules(sh, &alt.seen[i], 1, true) && sh->best_preemptions <= 1)
            break;
    free(alt.seen);
    free(alt.counts);
}

/* Zeller's ddmin over the rules in c: a 1-minimal subset that still fails
 * the same way. */
static size_t ddmin(shrinker_t *sh, size_t *c, size_t nc)
{
    if (try_keep(sh, c, 0))
        return 0;
    size_t n = 2;
    size_t *tmp = mem_calloc(nc ? nc : 1, sizeof *tmp);
    while (nc >= 2 && sh->runs < sh->max_runs) {
        bool reduced = false;
        size_t chunk = (nc + n - 1) / n;
        for (size_t start = 0; start < nc && !reduced; start += chunk) {
            size_t len = start + chunk > nc ? nc - start : chunk;
            if (try_keep(sh, c + start, len)) {
                memmove(c, c + start, len * sizeof *c);
                nc = len;
                n = 2;
                reduced = true;
            }
        }
        for (size_t start = 0; start < nc && !reduced && n > 2; start += chunk) {
            size_t len = start + chunk > nc ? nc - start : chunk, m = 0;
            for (size_t i = 0; i < nc; i++)
                if (i < start || i >= start + len)
                    tmp[m++] = c[i];
            if (try_keep(sh, tmp, m)) {
                memcpy(c, tmp, m * sizeof *c);
                nc = m;
                n = n - 1 > 2 ? n - 1 : 2;
                reduced = true;
            }
        }
        if (!reduced) {
            if (n >= nc)
                break;
            n = n * 2 > nc ? nc : n * 2;
        }
    }
    free(tmp);
    return nc;
}

static void shrink_usage(FILE *f)
{
    fputs("usage: chansim shrink FILE [-o OUT] [--max-runs N] [--force]\n\n"
          "Minimises the schedule of a reproducer (written by chansim explore) while the\n"
          "run fails the same way (same failure kind and message): fewest preemptions,\n"
          "then fewest decisions, by delta debugging over the decision list (a removed\n"
          "decision takes the default choice: the goroutine at a decision point goes on).\n"
          "Writes the minimal reproducer to OUT (default: FILE with .min.json) and prints\n"
          "the counts before and after, and the failing interleaving.\n\n"
          "  -o OUT           where to write the minimal reproducer\n"
          "  --max-runs N     runs to spend at most (default 5000)\n"
          "  --force          shrink even if the scenario changed since FILE was written\n"
          "  -h, --help       this text\n"
          "\nExit status: 0 a minimal reproducer written, 1 FILE does not reproduce its\n"
          "failure, 3 a usage error.\n",
          f);
}

int repro_shrink_main(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    uint64_t max_runs = 5000;
    bool force = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            shrink_usage(stdout);
            return EXIT_OK;
        }
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--max-runs") == 0) && i + 1 >= argc) {
            fprintf(stderr, "chansim shrink: %s needs a value\n", argv[i]);
            shrink_usage(stderr);
            return EXIT_USAGE;
        }
        if (strcmp(argv[i], "-o") == 0) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--max-runs") == 0) {
            if (!runopts_parse_u64(argv[++i], &max_runs) || max_runs < 1) {
                fprintf(stderr, "chansim shrink: --max-runs: want an integer of at least 1, got \"%s\"\n",
                        argv[i]);
                shrink_usage(stderr);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "chansim shrink: unknown option %s\n", argv[i]);
            shrink_usage(stderr);
            return EXIT_USAGE;
        } else if (file) {
            fprintf(stderr, "chansim shrink: one reproducer at a time (also got \"%s\")\n", argv[i]);
            shrink_usage(stderr);
            return EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        fprintf(stderr, "chansim shrink: shrink needs a reproducer file\n");
        shrink_usage(stderr);
        return EXIT_USAGE;
    }
    repro_t r;
    int st = load_checked("shrink", file, force, &r);
    if (st >= 0)
        return st;
    char outbuf[PATH_MAX];
    if (!out) {
        size_t len = strlen(file);
        if (len > 5 && strcmp(file + len - 5, ".json") == 0)
            len -= 5;
        snprintf(outbuf, sizeof outbuf, "%.*s.min.json", (int)len, file);
        out = outbuf;
    }
    host_param_override_t *sets = mem_calloc((size_t)r.nsets + 1, sizeof *sets);
    shrinker_t sh = {.r = &r, .devnull = fopen("/dev/null", "w"), .max_runs = max_runs};
    options_of(&r, &sh.base, sets);
    /* The reproducer as it is: it must fail as it says. */
    outcome_t first;
    quiet_run(sh.base, NULL, sh.devnull, &first);
    sh.runs = 1;
    int result = EXIT_OK;
    if (!same_failure(&first, &r)) {
        printf("shrink: %s does not reproduce its failure (%s: %s); got %s%s%s\n", file, r.failure_kind,
               r.failure_message, first.kind[0] ? first.kind : "a passing run", first.kind[0] ? ": " : "",
               first.message ? first.message : "");
        outcome_free(&first);
        result = EXIT_EXPECT;
        goto done;
    }
    sh.best = first;
    sh.best_preemptions = first.preemptions;
    uint64_t before_p = first.preemptions;
    size_t before_d = first.ndecisions;
    /* 1. The run's rules (the decisions that were not the default), then
     * ddmin over them: each one left out takes the default. */
    chooser_t rec = {.list = r.decisions, .len = r.ndecisions};
    host_options_t ropt = sh.base;
    ropt.replay = NULL;
    ropt.replay_len = 0;
    ropt.chooser = choose;
    ropt.chooser_ud = &rec;
    outcome_t again;
    quiet_run(ropt, NULL, sh.devnull, &again);
    sh.runs++;
    if (again.hash == first.hash) {
        sh.all = rec.seen;
        size_t *c = mem_calloc(rec.nseen ? rec.nseen : 1, sizeof *c);
        for (size_t i = 0; i < rec.nseen; i++)
            c[i] = i;
        ddmin(&sh, c, rec.nseen);
        free(c);
    }
    one_switch(&sh);
    outcome_free(&again);
    free(rec.seen);
    free(rec.counts);
    /* 2. The shortest prefix of the best run's decisions that replays it
     * (the rest are the defaults): binary search, as a prefix that
     * replays the run stays one when it grows. */
    uint32_t *full = sh.best.decisions;
    size_t lo = 0, hi = sh.best.ndecisions;
    uint64_t want = sh.best.hash;
    while (lo < hi && sh.runs < sh.max_runs) {
        size_t mid = (lo + hi) / 2;
        host_options_t opt = sh.base;
        opt.replay = full;
        opt.replay_len = mid;
        outcome_t oc;
        quiet_run(opt, NULL, sh.devnull, &oc);
        sh.runs++;
        if (oc.hash == want)
            hi = mid;
        else
            lo = mid + 1;
        outcome_free(&oc);
    }
    size_t keep = hi;
    /* The final run, recorded and explained. */
    host_options_t opt = sh.base;
    opt.replay = full;
    opt.replay_len = keep;
    explain_t *ex = explain_new();
    outcome_t fin;
    quiet_run(opt, ex, sh.devnull, &fin);
    sh.runs++;
    if (fin.hash != want || !same_failure(&fin, &r)) {
        printf("shrink: the shrunk schedule did not replay (a bug in chansim); nothing written\n");
        result = EXIT_PROGRAM;
    } else {
        fin.ndecisions = keep; /* the rest are the defaults */
        repro_t m;
        fill_repro(&m, &sh.base, r.strategy, &fin);
        m.seed = r.seed;
        free(m.scenario);
        m.scenario = mem_strdup(r.scenario);
        if (!repro_write(out, &m)) {
            fprintf(stderr, "chansim shrink: cannot write %s: %s\n", out, strerror(errno));
            result = EXIT_USAGE;
        } else {
            printf("shrink: %s: %s: %s\n", file, r.failure_kind, r.failure_message);
            printf("  before: %llu preemption%s, %zu decisions\n", (unsigned long long)before_p,
                   before_p == 1 ? "" : "s", before_d);
            printf("  after:  %llu preemption%s, %zu decisions (%llu runs)\n",
                   (unsigned long long)fin.preemptions, fin.preemptions == 1 ? "" : "s", keep,
                   (unsigned long long)sh.runs);
            printf("  wrote %s (chansim replay %s)\n", out, out);
            explain_print(ex, stdout, fin.kind, fin.message, 16);
        }
        repro_free(&m);
    }
    explain_free(ex);
    outcome_free(&fin);
    outcome_free(&sh.best);
done:
    if (sh.devnull)
        fclose(sh.devnull);
    free_sets(sets, r.nsets);
    free(sets);
    repro_free(&r);
    return result;
}

/* ---- the explanation after a failed run ---------------------------------------- */

void repro_explain_run(const host_options_t *base, FILE *out)
{
    host_options_t opt = *base;
    host_param_override_t *sets = mem_calloc((size_t)opt.nsets + 1, sizeof *sets);
    memcpy(sets, opt.sets, (size_t)opt.nsets * sizeof *sets);
    opt.sets = sets;
    opt.record = false;
    FILE *devnull = fopen("/dev/null", "w");
    explain_t *ex = explain_new();
    outcome_t oc;
    quiet_run(opt, ex, devnull, &oc);
    if (oc.kind[0])
        explain_print(ex, out, oc.kind, oc.message, 16);
    outcome_free(&oc);
    explain_free(ex);
    if (devnull)
        fclose(devnull);
    free(sets);
}
