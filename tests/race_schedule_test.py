#!/usr/bin/env python3
"""The race detector changes no schedule: explore with --race makes the
same runs (the same trace hash, run by run) as without it.

usage: race_schedule_test.py CHANSIM SOURCE_DIR

The detector only observes; a run whose schedule moves with it reads
memory the detector's allocations reuse (a use after free). The case
kept here: the corrected degradable service's executor granted a slot
to a waiter whose deadline struck while the releaser stood at the
grant's decision point; the waiter freed its grant channel and the
releaser then sent on it (under a sanitizer build: a use after free at
once; otherwise a trace hash that moved with --race, and once a false
data race on the freed channel).
"""
import json
import os
import subprocess
import sys

CASES = [
    # scenario, strategy, runs (random from seed 1 reaches the grant in runs 5, 6 and more)
    ("scenarios/bugs/degradation_rules_fixed.lua", "random", 40),
    ("scenarios/bugs/degradation_rules_fixed.lua", "pct:3", 8),
]


def hashes(chansim, path, strategy, runs, race):
    cmd = [chansim, "explore", path, "--strategy", strategy, "--seed", "1", "--runs", str(runs),
           "--no-repro"] + (["--race"] if race else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            if "seed" in d:  # a run's line (not the summary)
                out.append((d["seed"], d["hash"], d["exit"]))
    return p.returncode, out, p.stderr


def main():
    chansim, src = sys.argv[1], sys.argv[2]
    failed = 0
    for rel, strategy, runs in CASES:
        path = os.path.join(src, rel)
        rc0, plain, err0 = hashes(chansim, path, strategy, runs, False)
        rc1, raced, err1 = hashes(chansim, path, strategy, runs, True)
        if rc0 != 0 or rc1 != 0 or len(plain) != runs or plain != raced:
            failed += 1
            print("FAIL: %s under %s: %d runs, exit %d without --race and %d with it" % (rel, strategy, runs, rc0, rc1))
            for a, b in zip(plain, raced):
                if a != b:
                    print("  seed %s: %s without --race, %s with it" % (a[0], a[1:], b[1:]))
            print(err1[-1500:])
        else:
            print("ok: %s under %s: %d runs, the same hashes with --race" % (rel, strategy, runs))
    if failed:
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
