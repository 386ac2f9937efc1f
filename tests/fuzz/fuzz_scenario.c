/*
 * fuzz_scenario: libFuzzer's target for the scenario loader and the Lua API.
 *
 * Each input is a scenario: its bytes are written to a file and run by a
 * fresh host, as `chansim run FILE --quiet` would, with tight bounds (a
 * 64 MiB Lua heap, 2,000,000 instructions between events, 10,000 steps
 * with the clock unmoved, 2 simulated seconds, at most 1 MiB of output,
 * and 100,000 goroutine steps in all: the run is stopped there, as
 * os.Exit would) so that an input costs milliseconds, not seconds.
 * Any outcome the host reports is fine (a scenario error, a panic, a
 * deadlock); a crash, a sanitizer report, a leak or a hang is a bug.
 *
 * Goroutine stacks are 1 MiB here (256 KiB in chansim): the target is built
 * at -O0 with sanitizers and coverage, whose frames are several times
 * larger, and with chansim's size a recursion through a C function (a
 * string.gsub callback calling itself) reaches the guard page before Lua's
 * own limit of 200 C levels. The guard page ends the process (Go's fatal
 * "stack overflow", _exit(2)), which would end the fuzzing with it and keep
 * no input; _exit is wrapped (-Wl,--wrap=_exit) into abort() so that a
 * process that still dies that way is a crash libFuzzer saves.
 *
 * Built by tests/fuzz.sh with clang (-fsanitize=fuzzer,address,undefined);
 * the seed corpus is scenarios/ and tests/broken/, the dictionary
 * tests/fuzz/scenario.dict (the sim module's names).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "outfile.h"

enum { MAX_STEPS = 100000 };

static char dir[] = "/tmp/chansim-fuzz.XXXXXX";
static char path[64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __wrap__exit(int status);

void __wrap__exit(int status)
{
    (void)status;
    abort();
}

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

typedef struct {
    host_t *h;
    long steps;
} budget_t;

/* The run's whole budget of goroutine steps: past it the run ends as if
 * the program had called os.Exit (the output limit stops a run so too). */
static void count_step(void *ud)
{
    budget_t *b = ud;
    if (++b->steps == MAX_STEPS)
        sched_exit(host_sched(b->h));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/scenario.lua", dir);
    atexit(cleanup);
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    out_set_limit(1 << 20);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) /* a scenario is source text, not a bulk input */
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    host_options_t opt = {
        .path = path,
        .seed = 1,
        .seed_given = true,
        .quiet = true,
        .out = devnull,
        .mem_limit = (size_t)64 << 20,
        .instr_budget = 2000000,
        .max_steps_per_instant = 10000,
        .until = 2 * SIM_SEC,
        .stack_size = (size_t)1 << 20,
    };
    host_t *h = host_create(&opt);
    budget_t b = {.h = h};
    if (!host_add_step_observer(h, count_step, &b))
        abort();
    host_run(h);
    host_destroy(h);
    return 0;
}
