/*
 * runopts: the options of `chansim run`, `replay`, `explore` and the view,
 * one table parsed once.
 *
 * Each flag is one row of the table in runopts.c: its name, its argument
 * (shown in --help; none for a switch), which subcommands take it, the
 * setter that checks its value and stores it into a field of runopts_t,
 * the bounds and the "want ..." of a bad value, and its help text. The
 * parser, the --help text of each subcommand and the error messages all
 * come from that table, so a flag cannot be parsed by one subcommand and
 * forgotten by another, or documented and not accepted.
 *
 * Errors: an unknown flag, a missing or bad value, a second scenario or
 * none, and flags that exclude each other print "chansim: message" and the
 * subcommand's usage on standard error: exit status 3.
 *
 * Adding a flag: a field in runopts_t (or in the host's options, the
 * outputs or the view it embeds) and one row of the table, using one of
 * the generic setters (switch, string, integer or duration in bounds) or a
 * setter of its own.
 *
 * Ownership: runopts_parse fills a runopts_t the caller frees with
 * runopts_deinit; its strings are borrowed from argv.
 */
#ifndef CHANSIM_RUNOPTS_H
#define CHANSIM_RUNOPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host.h"
#include "outputs.h"
#include "viewrun.h"

#define CHANSIM_VERSION "0.1.0"

/* The subcommands, as bits of a flag's `cmds`. */
enum {
    RUNOPTS_RUN = 1,     /* chansim run */
    RUNOPTS_REPLAY = 2,  /* chansim replay: a run that names its seed */
    RUNOPTS_EXPLORE = 4, /* chansim explore: many runs over seeds */
};

typedef struct runopts {
    unsigned cmd;              /* the subcommand parsed for (one RUNOPTS_ bit) */
    host_options_t host;       /* the scenario, seed, strategy, --set, bounds */
    outputs_t outs;            /* --log, --trace, --metrics, --csv (run, replay) */
    viewrun_t view;            /* --view, --record and their settings */
    const char *strategy;      /* --strategy as given ("random" for explore) */
    const char *schedule_in;   /* --schedule FILE */
    const char *schedule_out;  /* --schedule-out FILE */
    bool json;                 /* --json: the summary as JSON, alone on stdout */
    size_t max_output;         /* --max-output, bytes (0: the default, outfile.h) */
    uint64_t runs;             /* explore --runs (default 100) */
    bool runs_given;           /* --runs was given (dfs: else no limit) */
    bool no_sleep_sets;        /* explore --no-sleep-sets (dfs) */
    uint64_t jobs;             /* explore --jobs (default 1) */
    uint64_t shard_i, shard_n; /* explore --shard I/N (default 0/1) */
    bool first;                /* explore --first */
    const char *repro_dir;     /* explore --repro-dir (default "repro") */
    bool no_repro;             /* explore --no-repro */
    bool force;                /* replay FILE --force: the scenario may have changed */
    int argc;                  /* the arguments after the subcommand */
    char **argv;
    char why[160];             /* a setter's own reason for refusing a value ("" if none) */
} runopts_t;

/* Parse the arguments after the subcommand cmd into o (initialised here).
 * Returns -1 to go on, else the exit status to end with: EXIT_OK after
 * --help (the usage on stdout), EXIT_USAGE after a bad flag (reported with
 * the usage on stderr). Call runopts_deinit in every case. */
int runopts_parse(runopts_t *o, unsigned cmd, int argc, char **argv);
void runopts_deinit(runopts_t *o);
/* The usage of subcommand cmd, from the table. */
void runopts_usage(FILE *f, unsigned cmd);
/* A usage error found after parsing: "chansim: message" and the usage on
 * stderr; returns EXIT_USAGE. */
int runopts_fail(const runopts_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value parsers the table uses, for other command-line code. */
bool runopts_parse_u64(const char *s, uint64_t *out);
bool runopts_parse_strategy(const char *s, sched_policy_t *p, int *depth);

#endif
