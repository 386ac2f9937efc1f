#!/usr/bin/env python3
"""Runs to the first failure for every bug of the zoo (scenarios/bugs/),
per search strategy: the median over several seed starts.

usage: bench/race_zoo.py [--chansim PATH] [--starts N] [--limit N]
                         [--strategies random,pct:3] [BUG ...]

For each racy lesson (scenarios/bugs/NAME.lua, whose fixed twin is
NAME_fixed.lua) and each strategy, `chansim explore --first` runs from
seed starts 1, 1001, 2001, ... until the lesson's expected failure
happens; the run number where it did (1 = the first run) is the figure.
A start that did not reach it within --limit runs counts as limit+1 and
is shown as ">LIMIT". Targets (issue's): PCT <= 100 and random <= 200
runs (median). Runs are counted, never timed: the figures are the same
on every machine.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
TARGETS = {"random": 200, "pct": 100, "dfs": 100}


def runs_to_first(chansim, path, strategy, start, limit, extra):
    p = subprocess.run([chansim, "explore", path, "--strategy", strategy, "--seed", str(start),
                        "--runs", str(limit), "--first"] + extra,
                       capture_output=True, text=True, timeout=3600)
    m = re.search(r"the expected failure happened in \d+ of \d+ runs, first in run (\d+)", p.stderr)
    if m:
        return int(m.group(1))
    if "the expected failure was not reached" in p.stderr:
        return limit + 1
    sys.exit("%s under %s from seed %d: explore failed otherwise (exit %d):\n%s"
             % (path, strategy, start, p.returncode, p.stderr[-2000:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chansim", default=os.path.join(SRC, "build", "chansim"))
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--strategies", default="random,pct:3")
    ap.add_argument("bugs", nargs="*")
    a = ap.parse_args()
    bugs_dir = os.path.join(SRC, "scenarios", "bugs")
    names = a.bugs or sorted(f[:-4] for f in os.listdir(bugs_dir)
                             if f.endswith(".lua") and not f.endswith("_fixed.lua"))
    strategies = a.strategies.split(",")
    starts = [1 + 1000 * i for i in range(a.starts)]
    w = max(len(n) for n in names)
    print("runs to the first failure, median over %d seed starts (%s), at most %d runs each"
          % (len(starts), ", ".join(map(str, starts)), a.limit))
    print("%-*s  %s" % (w, "bug", "  ".join("%-22s" % s for s in strategies)))
    missed = []
    for name in names:
        path = os.path.join(bugs_dir, name + ".lua")
        cells = []
        for st in strategies:
            got = [runs_to_first(a.chansim, path, st, s, a.limit, []) for s in starts]
            med = statistics.median(got)
            shown = ">%d" % a.limit if med > a.limit else "%g" % med
            cells.append("%-22s" % ("%s (%s)" % (shown, " ".join(
                ">" if g > a.limit else str(g) for g in got))))
            target = TARGETS.get(st.split(":")[0])
            if target and med > target:
                missed.append("%s under %s: median %s > %d" % (name, st, shown, target))
        print("%-*s  %s" % (w, name, "  ".join(cells)), flush=True)
    if missed:
        print("\nover target:\n  " + "\n  ".join(missed))


if __name__ == "__main__":
    main()
