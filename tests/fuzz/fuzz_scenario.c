/*
 * fuzz_scenario: libFuzzer's target for the scenario loader and the Lua API.
 *
 * Each input is a scenario: its bytes are written to a file and run by a
 * fresh host, as `chansim run FILE --quiet` would, with tight bounds (a
 * 64 MiB Lua heap, 2,000,000 instructions between events, 2 simulated
 * seconds, at most 1 MiB of output) so that an input costs milliseconds.
 * Any outcome the host reports is fine (a scenario error, a panic, a
 * deadlock); a crash, a sanitizer report, a leak or a hang is a bug.
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

static char path[64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/chansim-fuzz.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/scenario.lua", dir);
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
        .until = 2 * SIM_SEC,
    };
    host_t *h = host_create(&opt);
    host_run(h);
    host_destroy(h);
    return 0;
}
