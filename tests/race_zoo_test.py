#!/usr/bin/env python3
"""The bug zoo (scenarios/bugs/): every lesson is found by explore within a
stated budget of runs, under each strategy named for it, and its fixed
twin passes the same budget, with the race detector on.

usage: race_zoo_test.py CHANSIM SOURCE_DIR

Each lesson declares its failure (scenario{ expect_failure }), so
`chansim explore LESSON --first` exits 0 and says "the expected failure
happened in ..., first in run K" once a run reaches it; K <= the budget
is asserted. Explore is deterministic (runs from --seed 1), so K is the
same on every machine: the budgets are figures, not timings. The twin
(NAME_fixed.lua) runs the whole budget under the same strategies with
--race: every run passes, no data race. Under a sanitizer build
(CHANSIM_SANITIZED set) the twins run at most SANITIZED_RUNS runs, the
lessons their full budget (they stop at the first hit).
"""
import os
import re
import subprocess
import sys

# lesson -> {strategy: budget in runs}. The bench (bench/race_zoo.py) gives
# the medians over several seed starts; these budgets hold from seed 1.
ZOO = {
    "lost_update":          {"random": 20, "pct:3": 20},
    "check_then_act":       {"random": 20, "pct:3": 20},
    "double_init":          {"random": 20, "pct:3": 20},
    "send_after_close":     {"random": 20, "pct:3": 20},
    "lock_order":           {"random": 20, "pct:3": 30},
    "missed_wakeup":        {"random": 20, "pct:3": 20},
    "net_reorder":          {"random": 20, "pct:3": 20},
    "two_preemptions":      {"random": 20, "pct:3": 100},  # pct:3: run 85 (the monitor's yield demotes it)
    "pool_shutdown":        {"random": 60, "pct:3": 40},
    "contention_getstats":  {"random": 5, "pct:3": 5},
    "degradation_rules":    {"random": 5, "pct:3": 5},
    "priority_mux_loss":    {"random": 10, "pct:3": 5},  # pct:3: mux:stats() polls with yields
    "first_response_error": {"random": 20, "pct:3": 20},
    "election_stuck":       {"random": 10, "pct:3": 10},
    "shutdown_submit":      {"random": 40, "pct:3": 20},
    "breaker_half_open":    {"random": 10, "pct:3": 10},
}
SANITIZED_RUNS = 4
# The twins' budget is the lesson's, at most this many (the twins of cheap
# lessons pass far more: bench/race_zoo.py and explore --runs show it).
TWIN_RUNS = 30


# The seed's own pool (not the zoo's short lesson): the autoscaler's send on
# stopCh after Shutdown closed it, at the last instant of a run of about
# 1,250 choice points. It needs main's exit to come after the autoscaler's
# send (main's return is a decision point, and PCT's lowest priority).
POOL_PCT_RUNS = 500


def named_figure(chansim, src, fail):
    import tempfile
    path = os.path.join(src, "scenarios", "worker_pool.lua")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [chansim, "explore", path, "--set", "variant=seed", "--strategy", "pct:3", "--seed", "1",
               "--runs", str(POOL_PCT_RUNS), "--first"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp)
        m = re.search(r"from seed 1: 1 failed.*\n  exit 2: (chansim run .*)", p.stderr)
        if not m:
            fail("worker_pool variant=seed under pct:3: no failing run in %d runs (exit %d):\n%s"
                 % (POOL_PCT_RUNS, p.returncode, p.stderr[-1200:]))
            return
        args = m.group(1).split()[2:]
        r = subprocess.run([chansim, "run"] + args + ["--quiet"], capture_output=True, text=True,
                           timeout=600, cwd=src)
        if r.returncode != 2 or "panic: send on closed channel" not in r.stderr:
            fail("%s: not the seed's shutdown panic (exit %d):\n%s" % (m.group(1), r.returncode, r.stderr[-1200:]))
        else:
            print("ok: worker_pool variant=seed under pct:3: %s panics \"send on closed channel\" (budget %d)"
                  % (m.group(1), POOL_PCT_RUNS))


def main():
    chansim, src = sys.argv[1], sys.argv[2]
    bugs = os.path.join(src, "scenarios", "bugs")
    sanitized = bool(os.environ.get("CHANSIM_SANITIZED"))
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg)

    present = sorted(f[:-4] for f in os.listdir(bugs) if f.endswith(".lua") and not f.endswith("_fixed.lua"))
    if present != sorted(ZOO):
        fail("the zoo's lessons %s are not the test's %s" % (present, sorted(ZOO)))
    if len(present) < 8 + 8:
        fail("fewer than 16 lessons")
    for name, budgets in sorted(ZOO.items()):
        lesson = os.path.join(bugs, name + ".lua")
        twin = os.path.join(bugs, name + "_fixed.lua")
        if not os.path.exists(twin):
            fail("%s has no fixed twin %s" % (name, twin))
            continue
        with open(lesson) as f:
            head = f.read(3000)
        if "expect_failure" not in head or "-- Find it:" not in head or "What to watch" not in head:
            fail("%s: the header comment (what to watch, the command) or expect_failure is missing" % name)
        for strategy, budget in budgets.items():
            cmd = [chansim, "explore", lesson, "--strategy", strategy, "--seed", "1",
                   "--runs", str(budget), "--first"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            m = re.search(r"the expected failure happened in \d+ of \d+ runs, first in run (\d+)", p.stderr)
            if p.returncode != 0 or not m:
                fail("%s under %s: not found in %d runs (exit %d):\n%s"
                     % (name, strategy, budget, p.returncode, p.stderr[-1200:]))
            else:
                print("ok: %s under %s: found in run %s (budget %d)" % (name, strategy, m.group(1), budget))
            runs = min(budget, TWIN_RUNS, SANITIZED_RUNS if sanitized else budget)
            cmd = [chansim, "explore", twin, "--strategy", strategy, "--seed", "1",
                   "--runs", str(runs), "--race"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            want = "explore: %d runs of %s under %s from seed 1: 0 failed" % (runs, twin, strategy)
            if p.returncode != 0 or want not in p.stderr:
                fail("%s_fixed under %s --race: not every one of %d runs passed (exit %d):\n%s"
                     % (name, strategy, runs, p.returncode, p.stderr[-1200:]))
            else:
                print("ok: %s_fixed under %s --race: %d runs passed" % (name, strategy, runs))
        # The twin is no lesson: plain `chansim run` passes it; the lesson
        # under fifo either shows its failure (exit 0) or says it did not (exit 1).
        p = subprocess.run([chansim, "run", twin, "--quiet"], capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            fail("chansim run %s: exit %d\n%s" % (twin, p.returncode, p.stderr[-800:]))
        p = subprocess.run([chansim, "run", lesson, "--quiet"], capture_output=True, text=True, timeout=600)
        if not ((p.returncode == 0 and "expected failure happened" in p.stderr) or
                (p.returncode == 1 and "expected failure did not happen" in p.stderr)):
            fail("chansim run %s: exit %d\n%s" % (lesson, p.returncode, p.stderr[-800:]))
    named_figure(chansim, src, fail)
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
