/*
 * chansim new NAME: write a scenario skeleton that runs and passes at once.
 *
 * NAME is a scenario name (letters, digits, _ and -) or a path ending in
 * .lua; the file is NAME.lua in the current folder, or the path. An
 * existing file is never replaced. The skeleton has what every scenario
 * has: a header comment, scenario{} with a description, seed, duration and
 * parameters (so --set works), goroutines talking over a channel, and
 * expectations; `chansim run NAME.lua` passes (exit 0) as written.
 */
#include "newscen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

static const char skeleton[] =
    "-- %s: what this scenario shows, in a sentence or two.\n"
    "--\n"
    "-- Run it:   chansim run %s\n"
    "--           chansim run %s --set workers=8 --seed 7 --strategy random\n"
    "-- Explore:  chansim explore %s --runs 200\n"
    "-- The sim module: docs/lua-api.md; completion in editors: docs/editors.md.\n"
    "\n"
    "scenario{\n"
    "  name = \"%s\",\n"
    "  description = \"workers square numbers from a channel; the results are summed\",\n"
    "  seed = 1,\n"
    "  duration = \"10s\",\n"
    "  leaks = \"fail\",                 -- a goroutine left blocked fails the run\n"
    "  params = { workers = 3, jobs = 10, work = \"10ms\" },\n"
    "}\n"
    "\n"
    "local P = sim.params\n"
    "local jobs = sim.chan(P.jobs)       -- make(chan any, jobs)\n"
    "local results = sim.chan()          -- unbuffered\n"
    "local wg = sim.waitgroup()\n"
    "\n"
    "for w = 1, P.workers do\n"
    "  wg:add(1)\n"
    "  sim.go(\"worker-\" .. w, function()\n"
    "    for n in jobs:range() do         -- until jobs is closed\n"
    "      sim.sleep(P.work)              -- simulated time\n"
    "      results:send(n * n)\n"
    "    end\n"
    "    wg:done()\n"
    "  end)\n"
    "end\n"
    "\n"
    "sim.go(\"closer\", function()\n"
    "  wg:wait()\n"
    "  results:close()\n"
    "end)\n"
    "\n"
    "for n = 1, P.jobs do jobs:send(n) end\n"
    "jobs:close()\n"
    "\n"
    "local sum, count = 0, 0\n"
    "for v in results:range() do\n"
    "  sum, count = sum + v, count + 1\n"
    "end\n"
    "sim.log(\"sum of squares:\", sum)\n"
    "\n"
    "sim.expect(count == P.jobs, \"every job has a result\")\n"
    "sim.expect(sum == P.jobs * (P.jobs + 1) * (2 * P.jobs + 1) // 6, \"the sum of the squares\")\n"
    "sim.finally(function()\n"
    "  sim.expect(sim.goroutines() == 0, \"no goroutine left behind\")\n"
    "end)\n";

static void usage(FILE *f)
{
    fprintf(f, "usage: chansim new NAME | PATH.lua\n\n"
               "Writes a scenario skeleton to NAME.lua (or PATH.lua) that runs and passes at\n"
               "once: a header comment, scenario{} with its parameters, goroutines and a\n"
               "channel, and expectations. An existing file is never replaced.\n");
}

int new_main(int argc, char **argv)
{
    const char *arg = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "chansim: new: unknown option %s\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (arg) {
            fprintf(stderr, "chansim: new: one scenario at a time (also got \"%s\")\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
        arg = argv[i];
    }
    if (!arg) {
        fprintf(stderr, "chansim: new needs a NAME\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    char path[4096], name[256];
    size_t len = strlen(arg);
    bool is_path = len > 4 && strcmp(arg + len - 4, ".lua") == 0;
    const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
    size_t blen = strlen(base) - (is_path ? 4 : 0);
    bool ok = blen > 0 && blen < sizeof name && (is_path || base == arg);
    for (size_t i = 0; ok && i < blen; i++) {
        char c = base[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '-';
    }
    if (!ok) {
        fprintf(stderr, "chansim: new: want a NAME of letters, digits, _ and - (or a path ending in .lua), "
                        "got \"%s\"\n", arg);
        return EXIT_USAGE;
    }
    snprintf(name, sizeof name, "%.*s", (int)blen, base);
    snprintf(path, sizeof path, is_path ? "%s" : "%s.lua", arg);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        fprintf(stderr, "chansim: new: cannot create %s: %s\n", path,
                errno == EEXIST ? "it exists (chansim new never replaces a file)" : strerror(errno));
        return EXIT_USAGE;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        fprintf(stderr, "chansim: new: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    fprintf(f, skeleton, name, path, path, path, name);
    if (fclose(f) != 0) {
        unlink(path);
        fprintf(stderr, "chansim: new: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    printf("wrote %s: run it with `chansim run %s`\n", path, path);
    return EXIT_OK;
}
