#!/usr/bin/env python3
"""chansim explore --strategy dfs:K: the exhaustive search with a
preemption bound and sleep sets. The racy counter fails under dfs:1 and
its failing schedule replays to the same failure; the mutex-fixed twin
passes every schedule, with the exact counts with and without sleep sets.

usage: dfs_test.py CHANSIM SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile


def main():
    chansim, src = sys.argv[1], sys.argv[2]
    passed = failed = 0

    def report(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok: " + what)
        else:
            failed += 1
            print("FAIL: " + what + ("\n" + detail if detail else ""))

    def explore(scen, *extra, cwd=None):
        p = subprocess.run([chansim, "explore", os.path.join(src, "tests", "scenarios", scen), *extra],
                           capture_output=True, text=True, timeout=600, cwd=cwd)
        return p, [json.loads(l) for l in p.stdout.splitlines() if l.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        p, lines = explore("dfs_lost_update.lua", "--strategy", "dfs:1", cwd=tmp)
        sched = os.path.join(tmp, "dfs_lost_update.dfs.schedule")
        last = lines[-1] if lines else {}
        ok = (p.returncode == 1 and last.get("exit") == 1 and last.get("preemptions") == 1 and
              all(l["exit"] == 0 for l in lines[:-1]) and "failed (exit 1, 1 preemption): no update is lost" in p.stderr
              and "--schedule dfs_lost_update.dfs.schedule" in p.stderr and os.path.exists(sched))
        report(ok, "dfs:1 finds the lost update (%d schedules)" % len(lines), p.stderr + p.stdout)
        if os.path.exists(sched):
            r = subprocess.run([chansim, "run", os.path.join(src, "tests", "scenarios", "dfs_lost_update.lua"),
                                "--seed", "1", "--schedule", sched], capture_output=True, text=True, timeout=60)
            report(r.returncode == 1 and ("trace hash:   " + last.get("hash", "?")) in r.stdout and
                   "[FAIL] no update is lost" in r.stdout,
                   "the failing schedule replays to the same failure and trace",
                   r.stdout + r.stderr)
        # Without a preemption the two increments never interleave.
        p, lines = explore("dfs_lost_update.lua", "--strategy", "dfs:0", cwd=tmp)
        report(p.returncode == 0 and "all 2 schedules up to 0 preemptions passed" in p.stderr,
               "dfs:0: the lost update needs a preemption", p.stderr)

    # The fixed twin: every schedule passes; exact counts with sleep sets
    # and without (trace hashes do not see shared reads and writes: two
    # schedules may share one).
    for k, want, plain in ((1, 15, 17), (2, 51, 116)):
        p, lines = explore("dfs_locked_update.lua", "--strategy", "dfs:%d" % k)
        hashes = {l["hash"] for l in lines}
        report(p.returncode == 0 and len(lines) == want and
               all(l["exit"] == 0 and l["preemptions"] <= k for l in lines) and
               "all %d schedules up to %d preemption%s passed" % (want, k, "" if k == 1 else "s") in p.stderr,
               "dfs:%d with sleep sets: all %d schedules of the mutex-fixed twin pass" % (k, want),
               "%d lines, %d hashes\n%s" % (len(lines), len(hashes), p.stderr))
        p, lines = explore("dfs_locked_update.lua", "--strategy", "dfs:%d" % k, "--no-sleep-sets")
        report(p.returncode == 0 and len(lines) == plain and
               "all %d schedules up to %d preemption%s passed" % (plain, k, "" if k == 1 else "s") in p.stderr,
               "dfs:%d without sleep sets: %d schedules (sleep sets: %d)" % (k, plain, want), p.stderr)
    # Determinism: the same lines twice.
    a = explore("dfs_locked_update.lua", "--strategy", "dfs:2")[0].stdout
    b = explore("dfs_locked_update.lua", "--strategy", "dfs:2")[0].stdout
    report(a == b and a, "dfs:2 twice: the same lines")
    # dfs is explore's: run refuses it as a usage error.
    r = subprocess.run([chansim, "run", os.path.join(src, "tests", "scenarios", "dfs_locked_update.lua"),
                        "--strategy", "dfs:1"], capture_output=True, text=True, timeout=60)
    report(r.returncode == 3 and "explore" in r.stderr, "run --strategy dfs:1: a usage error", r.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
