#!/usr/bin/env python3
"""The race detector's overhead on pattern scenarios: each `chansim run`
with --race against the same run without it, in the same invocation, by
instructions executed (valgrind's callgrind, "Collected") and by maximum
resident memory. Instruction counts are the same on a loaded machine and
an idle one; wall time is not. The whole process is measured, so a run
that the detector fails (exit 66) includes the failing interleaving
printed after it (its steps recorded during the run: no second run).

usage: bench/race_overhead.py [--chansim PATH]
Target (the race lab's): --race / plain <= 3.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SCENARIOS = [
    ("graceful_degradation variant=seed", ["scenarios/graceful_degradation.lua", "--set", "variant=seed"]),
    ("contention variant=seed", ["scenarios/contention.lua", "--set", "variant=seed"]),
    ("worker_pool", ["scenarios/worker_pool.lua"]),
]


# Runs cmd in a fresh child and prints its exit status and maximum RSS (KiB).
RSS = ("import resource, subprocess, sys\n"
       "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
       "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def run(cmd):
    """(instructions or None, max RSS in KiB) of cmd; exit 0 and 66 pass."""
    out = subprocess.run([sys.executable, "-c", RSS] + cmd, capture_output=True, text=True, cwd=SRC).stdout
    status, rss = (int(x) for x in out.split())
    if status not in (0, 66):
        sys.exit("race_overhead: %s exited %d" % (" ".join(cmd), status))
    ins = None
    if shutil.which("valgrind"):
        v = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=SRC)
        m = re.search(r"Collected : (\d+)", v.stderr)
        ins = int(m.group(1)) if m else None
    return ins, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chansim", default=os.path.join(SRC, "build", "chansim"))
    a = ap.parse_args()
    print("%-36s %14s %14s %7s %10s %10s %7s" % ("race detector", "plain instr", "--race instr", "ratio",
                                                "plain KiB", "--race KiB", "ratio"))
    for name, args in SCENARIOS:
        base = [a.chansim, "run", "--quiet"] + args
        pi, pr = run(base)
        ri, rr = run(base + ["--race"])
        ratio = "%.2f" % (ri / pi) if pi and ri else "n/a"
        print("%-36s %14s %14s %7s %10d %10d %7.2f" % (name, pi or "n/a", ri or "n/a", ratio, pr, rr, rr / pr))
    print("(instructions: valgrind --tool=callgrind; target --race/plain <= 3)")


if __name__ == "__main__":
    main()
