#!/usr/bin/env python3
"""Reproducers, replay FILE, shrink and the failing interleaving.

On tests/scenarios/lost_update.lua (two unsynchronised increments of a
shared counter, which lose an update with one preemption):
- explore writes one reproducer per failing run, whole (valid JSON, no
  temporary file left), named after the scenario, strategy and seed;
- `chansim replay FILE` says "reproduced (hash H)" with the hash explore
  reported for that seed, exit 0, and prints the failing interleaving (the
  counter's reads and writes with their file:line, in goroutine columns);
- a reproducer whose decisions were edited says "diverged at event N: ...",
  exit 1; one whose scenario changed is refused (exit 3) unless --force;
- shrink brings every reproducer down to at most one preemption (the bug
  needs one), prints the counts before and after, and the shrunk file
  replays "reproduced";
- `replay SCENARIO --seed N` without --strategy or --schedule is a usage
  error (exit 3), and a --set the scenario does not declare is refused
  once, before any run, by run, replay and explore;
- a failed `chansim run` prints the failing interleaving on stderr.

usage: repro_test.py CHANSIM SOURCE_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

chansim, src = sys.argv[1], sys.argv[2]
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run(args, cwd):
    return subprocess.run([chansim] + args, cwd=cwd, capture_output=True, text=True, timeout=300)


tmp = tempfile.mkdtemp()
try:
    scen = os.path.join(tmp, "lost_update.lua")
    shutil.copy(os.path.join(src, "tests", "scenarios", "lost_update.lua"), scen)

    # explore: one reproducer per failing run.
    r = run(["explore", "lost_update.lua", "--runs", "30", "--jobs", "2"], tmp)
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    failing = {l["seed"]: l for l in lines if l["exit"] != 0}
    rdir = os.path.join(tmp, "repro")
    files = sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []
    check(len(failing) >= 2, f"explore finds the lost update ({len(failing)} of 30 runs)")
    check(len(files) == len(failing), f"a reproducer per failing run: {files}")
    check(all(re.fullmatch(r"lost_update-random-seed\d+\.json", f) for f in files),
          f"reproducers named SCENARIO-STRATEGY-seedN.json: {files}")
    check("reproducer" in r.stderr and "chansim replay repro/" in r.stderr,
          "explore says where the reproducers are:\n" + r.stderr)

    for f in files:
        seed = int(re.search(r"seed(\d+)", f).group(1))
        path = os.path.join("repro", f)
        with open(os.path.join(tmp, path)) as fh:
            obj = json.load(fh)
        check(obj["seed"] == seed and obj["trace_hash"] == failing[seed]["hash"],
              f"{f}: the seed and hash of explore's line")
        check(obj["failure"] == {"kind": "expectation", "message": "no update lost",
                                 "where": "lost_update.lua:19"}, f"{f}: the failure: {obj['failure']}")
        rp = run(["replay", path], tmp)
        check(rp.returncode == 0 and f"reproduced (hash {obj['trace_hash']})" in rp.stdout,
              f"replay {f}: exit {rp.returncode}\n{rp.stdout}{rp.stderr}")
        check("the failing interleaving" in rp.stdout and "read counter  lost_update.lua:13" in rp.stdout
              and "write counter  lost_update.lua:14" in rp.stdout,
              f"replay {f}: the interleaving of the counter's accesses:\n{rp.stdout}")

    first = os.path.join("repro", files[0]) if files else None
    if first:
        with open(os.path.join(tmp, first)) as fh:
            obj = json.load(fh)
        # An edited schedule: it goes another way, and says where.
        edited = dict(obj)
        edited["decisions"] = [1 - d if d in (0, 1) else d for d in obj["decisions"]]
        with open(os.path.join(tmp, "edited.json"), "w") as fh:
            json.dump(edited, fh)
        rp = run(["replay", "edited.json"], tmp)
        m = re.search(r"diverged at event (\d+): ", rp.stdout)
        check(rp.returncode == 1 and m, f"an edited schedule: diverged, exit 1: {rp.returncode}\n{rp.stdout}")
        # A changed scenario: refused, unless forced.
        with open(scen, "a") as fh:
            fh.write("-- edited\n")
        rp = run(["replay", first], tmp)
        check(rp.returncode == 3 and "changed since the reproducer was written" in rp.stderr
              and "--force" in rp.stderr, f"a changed scenario refused: {rp.returncode} {rp.stderr}")
        rp = run(["replay", first, "--force"], tmp)
        check(rp.returncode == 0 and "reproduced" in rp.stdout,
              f"--force: replayed (a comment changes no event): {rp.returncode} {rp.stdout}")
        shutil.copy(os.path.join(src, "tests", "scenarios", "lost_update.lua"), scen)
        rp = run(["replay", first, "--seed", "3"], tmp)
        check(rp.returncode == 3 and "carries its own seed" in rp.stderr, "replay FILE --seed: refused")

    # shrink: one preemption, and the shrunk file reproduces.
    for f in files:
        path = os.path.join("repro", f)
        out = path.replace(".json", ".min.json")
        s = run(["shrink", path], tmp)
        m = re.search(r"before: (\d+) preemptions?, (\d+) decisions\n  after:  (\d+) preemptions?, (\d+) decisions",
                      s.stdout)
        check(s.returncode == 0 and m, f"shrink {f}: exit {s.returncode}\n{s.stdout}{s.stderr}")
        if not m:
            continue
        bp, bd, ap, ad = map(int, m.groups())
        check(ap <= 1 and ap <= bp and ad <= bd, f"shrink {f}: {bp}/{bd} -> {ap}/{ad} (at most 1 preemption)")
        with open(os.path.join(tmp, out)) as fh:
            mobj = json.load(fh)
        check(mobj["preemptions"] == ap and len(mobj["decisions"]) == ad and
              mobj["failure"]["message"] == "no update lost", f"{out}: its counts and failure")
        rp = run(["replay", out], tmp)
        check(rp.returncode == 0 and "reproduced (hash " + mobj["trace_hash"] in rp.stdout,
              f"replay {out}: {rp.returncode}\n{rp.stdout}")
        check("the failing interleaving" in s.stdout, f"shrink {f}: the interleaving")

    bad = run(["shrink", "nonexistent.json"], tmp)
    check(bad.returncode == 3, f"shrink of a missing file: exit 3 ({bad.returncode})")

    # replay --seed without a strategy: a usage error, not a FIFO run.
    rp = run(["replay", "lost_update.lua", "--seed", "4"], tmp)
    check(rp.returncode == 3 and "needs --strategy" in rp.stderr and "--- chansim summary" not in rp.stdout,
          f"replay --seed without --strategy: exit 3: {rp.returncode} {rp.stderr[:200]}")
    rp = run(["replay", "lost_update.lua", "--seed", "4", "--strategy", "random"], tmp)
    check(rp.returncode in (0, 1), f"replay --seed --strategy runs: {rp.returncode}")

    # A mistyped --set: refused once, before any run.
    for args in (["run", "lost_update.lua", "--set", "m=3"],
                 ["replay", "lost_update.lua", "--seed", "1", "--strategy", "random", "--set", "m=3"],
                 ["explore", "lost_update.lua", "--runs", "5", "--set", "m=3"]):
        rp = run(args, tmp)
        check(rp.returncode == 3 and rp.stderr.count('the scenario has no parameter "m"') == 1
              and "(it has: n)" in rp.stderr and rp.stdout == "",
              f"{args[0]} --set m=3: refused once before any run: {rp.returncode}\n{rp.stdout}{rp.stderr}")

    # A failed run explains itself.
    seed = min(failing) if failing else 1
    rp = run(["run", "lost_update.lua", "--seed", str(seed), "--strategy", "random"], tmp)
    check(rp.returncode == 1 and "the failing interleaving" in rp.stderr
          and "write counter  lost_update.lua:14" in rp.stderr,
          f"run: the failing interleaving on stderr:\n{rp.stderr}")
    # Under --race the failure is the race; the interleaving shows the
    # racing variable's accesses.
    r = run(["explore", "lost_update.lua", "--runs", "3", "--race", "--repro-dir", "race"], tmp)
    rfiles = sorted(os.listdir(os.path.join(tmp, "race"))) if os.path.isdir(os.path.join(tmp, "race")) else []
    check(len(rfiles) == 3, f"--race: every run races, a reproducer each: {rfiles}")
    if rfiles:
        rp = run(["replay", os.path.join("race", rfiles[0])], tmp)
        check(rp.returncode == 0 and "): race: DATA RACE on counter" in rp.stdout
              and "steps on counter ---" in rp.stdout and "read counter  lost_update.lua:13" in rp.stdout,
              f"replay of a race: the race and its interleaving:\n{rp.stdout}")

    # Under PCT a calibration run comes first: its steps are not the run's
    # (each row of the interleaving is an event of the run explained).
    # The same run with its horizon given (no calibration) tells the same.
    def story(args):
        rp = run(["run", "lost_update.lua", "--seed", "2", "--race"] + args, tmp)
        return rp, rp.stderr.split("the failing interleaving", 1)[-1].split("--- chansim summary")[0]
    rp, told = story(["--strategy", "pct:3"])
    m = re.search(r"--pct-steps (\d+)", rp.stdout)
    rows = re.findall(r"^ +(\d+)  ", told, re.M)
    check(rp.returncode == 66 and m and rows and all(int(x) > 0 for x in rows),
          f"pct: no step of the calibration run in the interleaving:\n{rp.stdout}{rp.stderr}")
    if m:
        check(story(["--strategy", "pct:3", "--pct-steps", m.group(1)])[1] == told,
              "pct: the interleaving is the same with the horizon given")

    # A lock-order deadlock: Go's report, then the waits, the cycle and the
    # interleaving on the locks.
    with open(os.path.join(tmp, "lockorder.lua"), "w") as fh:
        fh.write('scenario{ name = "lock order", description = "opposite lock orders" }\n'
                 'local a, b = sim.mutex("a"), sim.mutex("b")\n'
                 'local wg = sim.waitgroup("wg")\n'
                 'wg:add(2)\n'
                 'sim.go("left", function() a:lock(); sim.sleep("1ms"); b:lock(); wg:done() end)\n'
                 'sim.go("right", function() b:lock(); sim.sleep("1ms"); a:lock(); wg:done() end)\n'
                 'wg:wait()\n')
    rp = run(["run", "lockorder.lua"], tmp)
    e = rp.stderr
    check(rp.returncode == 2 and e.startswith("fatal error: all goroutines are asleep - deadlock!")
          and "goroutine 2 (left) [sync.Mutex.Lock]: mutex b, held by goroutine 3 (right)" in e
          and "wait-for cycle: goroutine 2 (left) waits on mutex b held by goroutine 3 (right) waits on "
              "mutex a held by goroutine 2 (left)" in e
          and e.index("goroutine 1 [") < e.index("what each goroutine waits on")
          and "Lock a  lockorder.lua:5" in e and "blocks [sync.Mutex.Lock] b  lockorder.lua:5" in e,
          f"a lock-order deadlock: waits, cycle and interleaving after Go's report:\n{e}")

    ok = run(["run", "lost_update.lua"], tmp)
    check(ok.returncode == 0 and "interleaving" not in ok.stderr, "a passing run explains nothing")
finally:
    shutil.rmtree(tmp)

print(f"repro_test: {checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
