#!/usr/bin/env python3
"""Exploration throughput of the pattern scenarios: `chansim explore`'s runs
per CPU second against `chansim run` processes per CPU second, both
measured here, in the same invocation, on the same scenario and seeds.

explore makes its runs in long-lived forked workers, each run a fresh Lua
state and scheduler; the baseline starts one `chansim run` process per
seed (what a shell loop, or explore before its workers, did). Both are
measured by CPU time (user + system of every process, the workers
included), not wall time: the machine is shared, and wall time there
says little. "on 2 cores" is the CPU rate times two, what two workers
(--jobs 2) make on two otherwise idle cores; the wall rate of the same
explore, on this machine as loaded now, is printed beside it.

usage: bench/explore_rate.py [--chansim PATH] [--runs N] [--procs M] [--reps R]
Target (the performance issue's): >= 1,000 runs/s on 2 cores for each.
"""
import argparse
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SCENARIOS = ["worker_pool", "circuit_breaker", "priority_mux", "graceful_shutdown"]


def cpu_of(cmd, ok=(0, 1)):
    """(CPU seconds, wall seconds) of cmd and its children; exit statuses in
    ok pass (explore exits 1 when a run fails, which is a result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=SRC)
    wall = time.monotonic() - t0
    if p.returncode not in ok:
        sys.exit("explore_rate: %s exited %d" % (" ".join(cmd), p.returncode))
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime - before.ru_utime - before.ru_stime, wall


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chansim", default=os.path.join(SRC, "build", "chansim"))
    ap.add_argument("--runs", type=int, default=2000, help="runs per explore")
    ap.add_argument("--procs", type=int, default=100, help="chansim run processes per measure")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    print("%-18s %12s %12s %7s %12s %12s  %s" % ("explore, random", "runs/CPU s", "procs/CPU s", "ratio",
                                                  "on 2 cores", "wall runs/s", "(median of %d)" % a.reps))
    for name in SCENARIOS:
        path = "scenarios/%s.lua" % name
        ex, pr, wl = [], [], []
        for _ in range(a.reps):
            cpu, wall = cpu_of([a.chansim, "explore", path, "--runs", str(a.runs), "--jobs", "2",
                                "--no-repro"])
            ex.append(a.runs / cpu)
            wl.append(a.runs / wall)
            cpu = 0.0
            for seed in range(1, a.procs + 1):
                c, _ = cpu_of([a.chansim, "run", path, "--quiet", "--seed", str(seed), "--strategy", "random"])
                cpu += c
            pr.append(a.procs / cpu)
        e, p = median(ex), median(pr)
        print("%-18s %12.0f %12.0f %7.2f %12.0f %12.0f  %s" % (name, e, p, e / p, 2 * e, median(wl),
                                                               "explore/run (target: on 2 cores >= 1000)"))


if __name__ == "__main__":
    main()
