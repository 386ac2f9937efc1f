/*
 * repro_shrink: chansim shrink FILE (see repro.h). The reproducer's
 * decisions become rules that keep their meaning when earlier decisions
 * change (the k-th decision of goroutine g runs target); ddmin keeps a
 * 1-minimal set of rules that still fails the same way (a rule left out
 * takes the default choice), a single switch away from the default run is
 * tried when that leaves more than one preemption, and the written
 * reproducer keeps the shortest prefix of the best run's decisions that
 * replays it. Every run is one of repro_run.c's quiet runs.
 */
#include "repro_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

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

/* One quiet run of the reproducer's scenario with its decisions made by ch
 * instead of the recorded ones; counted against the run budget. */
static void run_chosen(shrinker_t *sh, chooser_t *ch, outcome_t *oc)
{
    host_options_t opt = sh->base;
    opt.replay = NULL;
    opt.replay_len = 0;
    opt.chooser = choose;
    opt.chooser_ud = ch;
    repro_run_quiet(opt, NULL, sh->devnull, oc);
    sh->runs++;
}

/* Run with rules: true if it fails the same way with no more preemptions
 * than the best so far (fewer if fewer). */
static bool try_rules(shrinker_t *sh, const rule_t *rules, size_t nrules, bool fewer)
{
    if (sh->runs >= sh->max_runs)
        return false;
    chooser_t ch = {.rules = rules, .nrules = nrules};
    outcome_t oc;
    run_chosen(sh, &ch, &oc);
    free(ch.counts);
    bool ok = repro_run_same_failure(&oc, sh->r) &&
              (fewer ? oc.preemptions < sh->best_preemptions : oc.preemptions <= sh->best_preemptions);
    if (ok) {
        repro_run_outcome_free(&sh->best);
        sh->best = oc;
        sh->best_preemptions = oc.preemptions;
    } else {
        repro_run_outcome_free(&oc);
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
    outcome_t oc;
    run_chosen(sh, &alt, &oc);
    repro_run_outcome_free(&oc);
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

/* The command line: FILE, -o OUT, --max-runs N, --force. Returns -1 to go
 * on, or the exit status (help, or a usage error). */
static int shrink_args(int argc, char **argv, const char **file, const char **out, uint64_t *max_runs,
                       bool *force)
{
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
            *out = argv[++i];
        } else if (strcmp(argv[i], "--max-runs") == 0) {
            if (!runopts_parse_u64(argv[++i], max_runs) || *max_runs < 1) {
                fprintf(stderr, "chansim shrink: --max-runs: want an integer of at least 1, got \"%s\"\n",
                        argv[i]);
                shrink_usage(stderr);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--force") == 0) {
            *force = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "chansim shrink: unknown option %s\n", argv[i]);
            shrink_usage(stderr);
            return EXIT_USAGE;
        } else if (*file) {
            fprintf(stderr, "chansim shrink: one reproducer at a time (also got \"%s\")\n", argv[i]);
            shrink_usage(stderr);
            return EXIT_USAGE;
        } else {
            *file = argv[i];
        }
    }
    if (!*file) {
        fprintf(stderr, "chansim shrink: shrink needs a reproducer file\n");
        shrink_usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

/* 1. The run's rules (the decisions that were not the default), then ddmin
 * over them: each one left out takes the default; then one switch each. */
static void shrink_rules(shrinker_t *sh, const outcome_t *first)
{
    chooser_t rec = {.list = sh->r->decisions, .len = sh->r->ndecisions};
    outcome_t again;
    run_chosen(sh, &rec, &again);
    if (again.hash == first->hash) {
        sh->all = rec.seen;
        size_t *c = mem_calloc(rec.nseen ? rec.nseen : 1, sizeof *c);
        for (size_t i = 0; i < rec.nseen; i++)
            c[i] = i;
        ddmin(sh, c, rec.nseen);
        free(c);
    }
    one_switch(sh);
    repro_run_outcome_free(&again);
    free(rec.seen);
    free(rec.counts);
}

/* 2. The shortest prefix of the best run's decisions that replays it (the
 * rest are the defaults): binary search, as a prefix that replays the run
 * stays one when it grows. */
static size_t shortest_prefix(shrinker_t *sh)
{
    size_t lo = 0, hi = sh->best.ndecisions;
    while (lo < hi && sh->runs < sh->max_runs) {
        size_t mid = (lo + hi) / 2;
        host_options_t opt = sh->base;
        opt.replay = sh->best.decisions;
        opt.replay_len = mid;
        outcome_t oc;
        repro_run_quiet(opt, NULL, sh->devnull, &oc);
        sh->runs++;
        if (oc.hash == sh->best.hash)
            hi = mid;
        else
            lo = mid + 1;
        repro_run_outcome_free(&oc);
    }
    return hi;
}

/* The final run of the first keep decisions, recorded, written to out and
 * explained beside the counts before. Returns the exit status. */
static int shrink_finish(shrinker_t *sh, size_t keep, const char *file, const char *out,
                         const outcome_t *before)
{
    const repro_t *r = sh->r;
    host_options_t opt = sh->base;
    opt.replay = sh->best.decisions;
    opt.replay_len = keep;
    explain_t *ex = explain_new();
    outcome_t fin;
    repro_run_quiet(opt, ex, sh->devnull, &fin);
    sh->runs++;
    int result = EXIT_OK;
    if (fin.hash != sh->best.hash || !repro_run_same_failure(&fin, r)) {
        printf("shrink: the shrunk schedule did not replay (a bug in chansim); nothing written\n");
        result = EXIT_PROGRAM;
    } else {
        fin.ndecisions = keep; /* the rest are the defaults */
        repro_t m;
        repro_run_fill(&m, &sh->base, r->strategy, &fin);
        m.seed = r->seed;
        free(m.scenario);
        m.scenario = mem_strdup(r->scenario);
        if (!repro_write(out, &m)) {
            fprintf(stderr, "chansim shrink: cannot write %s: %s\n", out, strerror(errno));
            result = EXIT_USAGE;
        } else {
            printf("shrink: %s: %s: %s\n", file, r->failure_kind, r->failure_message);
            printf("  before: %llu preemption%s, %zu decisions\n", (unsigned long long)before->preemptions,
                   before->preemptions == 1 ? "" : "s", before->ndecisions);
            printf("  after:  %llu preemption%s, %zu decisions (%llu runs)\n",
                   (unsigned long long)fin.preemptions, fin.preemptions == 1 ? "" : "s", keep,
                   (unsigned long long)sh->runs);
            printf("  wrote %s (chansim replay %s)\n", out, out);
            explain_print(ex, stdout, fin.kind, fin.message, EXPLAIN_ROWS);
        }
        repro_free(&m);
    }
    explain_free(ex);
    repro_run_outcome_free(&fin);
    return result;
}

int repro_shrink_main(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    uint64_t max_runs = 5000;
    bool force = false;
    int st = shrink_args(argc, argv, &file, &out, &max_runs, &force);
    if (st >= 0)
        return st;
    repro_t r;
    st = repro_run_load_checked("shrink", file, force, &r);
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
    repro_run_options_of(&r, &sh.base, sets);
    /* The reproducer as it is: it must fail as it says. */
    outcome_t first;
    repro_run_quiet(sh.base, NULL, sh.devnull, &first);
    sh.runs = 1;
    int result;
    if (!repro_run_same_failure(&first, &r)) {
        printf("shrink: %s does not reproduce its failure (%s: %s); got %s%s%s\n", file, r.failure_kind,
               r.failure_message, first.kind[0] ? first.kind : "a passing run", first.kind[0] ? ": " : "",
               first.message ? first.message : "");
        repro_run_outcome_free(&first);
        result = EXIT_EXPECT;
    } else {
        sh.best = first; /* owns first's decisions now */
        sh.best_preemptions = first.preemptions;
        outcome_t before = {.preemptions = first.preemptions, .ndecisions = first.ndecisions};
        shrink_rules(&sh, &first);
        result = shrink_finish(&sh, shortest_prefix(&sh), file, out, &before);
        repro_run_outcome_free(&sh.best);
    }
    if (sh.devnull)
        fclose(sh.devnull);
    repro_run_free_sets(sets, r.nsets);
    free(sets);
    repro_free(&r);
    return result;
}
