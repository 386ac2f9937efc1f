/*
 * repro_run: the runs a reproducer makes (see repro.h). A quiet run throws
 * its output and reports away and is observed: its decisions, the digest
 * of each event, its preemptions, its failure. On it: explore's
 * reproducers (a failing seed run again with its decisions recorded),
 * replay FILE (the decisions read back; "reproduced", or where it
 * diverged) and the explanation after a failed `chansim run`.
 */
#include "repro_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "outfile.h"
#include "viz.h"

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
void repro_run_options_of(const repro_t *r, host_options_t *opt, host_param_override_t *sets)
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

void repro_run_free_sets(host_param_override_t *sets, int n)
{
    for (int i = 0; i < n; i++)
        free((char *)sets[i].name);
}

void repro_run_outcome_free(outcome_t *o)
{
    free(o->decisions);
    free(o->digests);
    free(o->message);
    free(o->where);
    memset(o, 0, sizeof *o);
}

/* A run with opt (its output and reports thrown away), observed; ex, if
 * given, records the steps. */
void repro_run_quiet(host_options_t opt, explain_t *ex, FILE *devnull, outcome_t *out)
{
    repro_run_observed(opt, ex, devnull, out, true);
}

void repro_run_observed(host_options_t opt, explain_t *ex, FILE *devnull, outcome_t *out, bool digests)
{
    memset(out, 0, sizeof *out);
    opt.quiet = true;
    opt.out = devnull;
    opt.record = true;
    for (int i = 0; i < opt.nsets; i++)
        opt.sets[i].used = false;
    observed_t ob = {.diverged_at = UINT64_MAX};
    int saved = out_mute_stderr();
    host_t *h = host_create(&opt);
    if (digests)
        host_add_sink(h, observe, &ob);
    if (ex)
        explain_attach(ex, h);
    out->status = host_run(h);
    if (ex)
        explain_detach(ex, h);
    out_unmute_stderr(saved);
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
void repro_run_fill(repro_t *r, const host_options_t *opt, const char *strategy,
                       const outcome_t *oc)
{
    memset(r, 0, sizeof *r);
    r->scenario = mem_strdup(opt->path);
    if (!repro_file_hash(opt->path, r->scenario_hash, sizeof r->scenario_hash))
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

bool repro_explore_write(const runopts_t *o, const char *dir, const uint64_t *seeds, size_t n)
{
    if (!n)
        return true;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "chansim explore: cannot create %s: %s (no reproducers written)\n", dir,
                strerror(errno));
        return false;
    }
    bool ok = true;
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
        repro_run_quiet(opt, NULL, devnull, &oc);
        if (oc.kind[0]) {
            repro_t r;
            repro_run_fill(&r, &opt, o->strategy, &oc);
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%.*s-%s-seed%llu.json", dir, (int)blen, base, strat,
                     (unsigned long long)seeds[i]);
            if (repro_write(path, &r)) {
                if (!written++)
                    snprintf(first, sizeof first, "%s", path);
            } else {
                fprintf(stderr, "chansim explore: cannot write %s: %s\n", path, strerror(errno));
                ok = false;
            }
            repro_free(&r);
        }
        repro_run_outcome_free(&oc);
        free(sets);
    }
    if (devnull)
        fclose(devnull);
    if (written)
        fprintf(stderr, "explore: %zu reproducer%s in %s/ (chansim replay %s; chansim shrink %s)\n",
                written, written == 1 ? "" : "s", dir, first, first);
    return ok;
}

/* ---- replay FILE ----------------------------------------------------------------- */

/* The explanation's steps as the view shows them. */
static void story_of(const explain_t *ex, const char *kind, const char *message, viz_story_t *st)
{
    memset(st, 0, sizeof *st);
    const explain_step_t *rows[VIZ_STORY_ROWS];
    uint64_t cols[EXPLAIN_COLS];
    int ncols;
    char about[512];
    int n = explain_pick(ex, kind, message, EXPLAIN_ROWS < VIZ_STORY_ROWS ? EXPLAIN_ROWS : VIZ_STORY_ROWS, rows, cols, &ncols, about, sizeof about);
    if (n <= 0)
        return;
    snprintf(st->about, sizeof st->about, "%.*s", (int)sizeof st->about - 1, about);
    snprintf(st->failure, sizeof st->failure, "%s: %s", kind, message);
    st->nlanes = ncols < VIZ_STORY_LANES ? ncols : VIZ_STORY_LANES;
    for (int c = 0; c < st->nlanes; c++)
    {
        snprintf(st->lanes[c], sizeof st->lanes[c], "g%llu %s", (unsigned long long)cols[c],
                 explain_gname(ex, cols[c]));
        st->lane_g[c] = cols[c];
    }
    for (int r = 0; r < n; r++) {
        int lane = -1;
        for (int c = 0; c < st->nlanes; c++)
            if (cols[c] == rows[r]->g)
                lane = c;
        if (lane < 0)
            continue;
        viz_story_row_t *row = &st->rows[st->nrows++];
        row->step = rows[r]->step;
        row->lane = lane;
        snprintf(row->text, sizeof row->text, "%.39s%s%.54s", rows[r]->op, rows[r]->var[0] ? " " : "", rows[r]->var);
        const char *site = strrchr(rows[r]->site, '/');
        snprintf(row->site, sizeof row->site, "%.63s", site ? site + 1 : rows[r]->site);
    }
}

/* replay FILE --view or --record: the same run again under the view,
 * stepping through the decisive steps (its output was printed by the
 * replay already). Returns the exit status the view adds (EXIT_OK if
 * none). */
static int replay_view(runopts_t *o, const host_options_t *base, const viz_story_t *st)
{
    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) {
        fprintf(stderr, "chansim replay: cannot open /dev/null: %s\n", strerror(errno));
        return EXIT_PROGRAM;
    }
    host_options_t opt = *base;
    opt.out = devnull;
    o->view.story = st->nrows ? st : NULL;
    o->view.mute_reports = true;
    outputs_t none;
    outputs_init(&none);
    int status;
    host_t *h = viewrun_run(&o->view, &opt, &none, &status);
    if (h && status != EXIT_USAGE && !outputs_finish(&none, h))
        status = EXIT_OUTPUT;
    outputs_deinit(&none);
    host_destroy(h);
    o->view.story = NULL;
    fclose(devnull);
    if (!h || status == EXIT_USAGE || status == EXIT_OUTPUT)
        return status;
    return EXIT_OK;
}

bool repro_run_same_failure(const outcome_t *oc, const repro_t *r)
{
    return strcmp(oc->kind, r->failure_kind) == 0 && oc->message &&
           strcmp(oc->message, r->failure_message) == 0;
}

/* Read FILE and check its scenario; an exit status on error (R freed), else -1. */
int repro_run_load_checked(const char *cmd, const char *file, bool force, repro_t *r)
{
    char err[512];
    if (!repro_read(file, r, err, sizeof err)) {
        fprintf(stderr, "chansim %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    char now[32];
    if (!repro_file_hash(r->scenario, now, sizeof now)) {
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
                               "values: chansim replay FILE [--force] [--quiet] [--view | --record DIR]");
    repro_t r;
    int st = repro_run_load_checked("replay", file, o->force, &r);
    if (st >= 0)
        return st;
    host_param_override_t *sets = mem_calloc((size_t)r.nsets + 1, sizeof *sets);
    host_options_t opt;
    repro_run_options_of(&r, &opt, sets);
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
    viz_story_t *story = viewrun_wanted(&o->view) ? mem_calloc(1, sizeof *story) : NULL;
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
            explain_print(ex, stdout, k, m, EXPLAIN_ROWS);
        if (failed && story)
            story_of(ex, k, m, story);
    }
    host_destroy(h);
    explain_free(ex);
    if (story && result != EXIT_USAGE) {
        fflush(stdout);
        int vs = replay_view(o, &opt, story);
        if (vs != EXIT_OK)
            result = vs;
    }
    free(story);
    free(ob.digests);
    repro_run_free_sets(sets, r.nsets);
    free(sets);
    repro_free(&r);
    return result;
}

/* ---- the explanation after a failed run ---------------------------------------- */

void repro_explain_recorded(const explain_t *ex, host_t *failed, int status, FILE *out)
{
    const char *fk, *fm, *fw;
    if (failed && repro_failure_of(failed, status, &fk, &fm, &fw))
        explain_print(ex, out, fk, fm, EXPLAIN_ROWS);
}

void repro_explain_run(const host_options_t *base, host_t *failed, int status, FILE *out)
{
    host_options_t opt = *base;
    /* The failure is the run's own; the run is made again without the race
     * detector, which changes no schedule (tests/race_schedule_test.py):
     * the same steps at a fraction of the cost. */
    const char *fk, *fm, *fw;
    bool have = failed && repro_failure_of(failed, status, &fk, &fm, &fw);
    opt.race = false;
    host_param_override_t *sets = mem_calloc((size_t)opt.nsets + 1, sizeof *sets);
    memcpy(sets, opt.sets, (size_t)opt.nsets * sizeof *sets);
    opt.sets = sets;
    opt.record = false;
    FILE *devnull = fopen("/dev/null", "w");
    explain_t *ex = explain_new();
    outcome_t oc;
    repro_run_observed(opt, ex, devnull, &oc, false); /* no digests: nothing compares them */
    if (have)
        explain_print(ex, out, fk, fm, EXPLAIN_ROWS);
    else if (oc.kind[0])
        explain_print(ex, out, oc.kind, oc.message, EXPLAIN_ROWS);
    repro_run_outcome_free(&oc);
    explain_free(ex);
    if (devnull)
        fclose(devnull);
    free(sets);
}
