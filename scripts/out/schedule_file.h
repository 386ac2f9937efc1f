/*
 * schedule_file: the decision list of a run (--schedule-out FILE), and its
 * reading back for a replay (--schedule FILE).
 *
 * The file is text. Its first line says which run it belongs to:
 *
 *   # chansim schedule 1 scenario=<fnv64 of the scenario's bytes, 16 hex>
 *     seed=N strategy=S preempt=N race=0|1 params=<fnv64 of the --set values>
 *     decisions=N
 *
 * (one line), then the decisions: unsigned integers separated by spaces and
 * newlines, 32 to a line. Lines starting with '#' after the first are
 * comments.
 *
 * The reader refuses, naming the reason: what is not a regular file (a
 * folder, a device), an empty file, binary data, a file with no such first
 * line, a token that is not a decision, fewer or more decisions than the
 * header says (a truncated file), and a schedule of another run: another
 * scenario (or another version of it), another seed (when --seed is
 * given; else the schedule's seed is used), another --preempt, --race or
 * --set values. chansim exits 3 on any of them, before the run.
 */
#ifndef CHANSIM_SCHEDULE_FILE_H
#define CHANSIM_SCHEDULE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"

typedef struct schedule_meta {
    uint64_t scenario;  /* fnv64 of the scenario file's bytes */
    uint64_t seed;
    char strategy[32];  /* "random", "pct:3", "fifo" (what recorded it) */
    int preempt;        /* --preempt */
    bool race;          /* --race */
    uint64_t params;    /* fnv64 of the --set NAME=VALUE, sorted */
    size_t decisions;
} schedule_meta_t;

/* The meta of a run of opt (the scenario's bytes are read); false, with a
 * message in err, if the scenario cannot be read. */
bool schedule_meta_of(const host_options_t *opt, const char *strategy, schedule_meta_t *m, char *err,
                      size_t errsize);

/* Write the header and the decisions (through outfile.h: whole or not at
 * all). False after a message on stderr. */
bool schedule_write(const char *path, const schedule_meta_t *m, const uint32_t *d, size_t n);

/* Read path, check it against the run want (its seed only if seed_given),
 * and return the decisions (malloc'd; *n of them) with the file's header in
 * *got. NULL and a message in err ("FILE: reason") when it is refused. */
uint32_t *schedule_read(const char *path, const schedule_meta_t *want, bool seed_given, schedule_meta_t *got,
                        size_t *n, char *err, size_t errsize);

#endif
