/* explore: `chansim explore` (see explore.c). */
#ifndef CHANSIM_EXPLORE_H
#define CHANSIM_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

/* The command line's parsers, shared with `chansim run` (chansim.c). */
typedef struct explore_cli {
    bool (*parse_u64)(const char *s, uint64_t *out);
    bool (*parse_strategy)(const char *s, sched_policy_t *p, int *depth);
} explore_cli_t;

/* chansim explore ARGS...: the exit status. */
int explore_main(int argc, char **argv, const explore_cli_t *cli);

#endif
