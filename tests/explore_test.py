#!/usr/bin/env python3
"""chansim explore's workers: every run's line has the hash `chansim run`
gives for its seed (runs made one after another in a long-lived worker,
each in a fresh host), and a run that takes its worker down is reported
with the worker's status while the other runs go on in a new worker.

usage: explore_test.py CHANSIM SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def run_hash(chansim, scen, seed, extra=(), strategy="random"):
    p = subprocess.run([chansim, "run", scen, "--seed", str(seed), "--strategy", strategy,
                        "--quiet", *extra], capture_output=True, text=True, timeout=300)
    for line in p.stdout.splitlines():
        if line.startswith("trace hash:"):
            return line.split()[-1], p.returncode
    return None, p.returncode


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


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

    # Hashes: six runs of each pattern scenario on two workers, under
    # random and under PCT (a worker's runs share the compiled scenario and
    # prelude: each run's trace is still the one `chansim run` makes).
    for name in ["worker_pool", "circuit_breaker", "priority_mux", "graceful_shutdown"]:
        scen = os.path.join(src, "scenarios", name + ".lua")
        for strategy in ("random", "pct:3"):
            p = subprocess.run([chansim, "explore", scen, "--runs", "6", "--jobs", "2", "--no-repro",
                                "--strategy", strategy],
                               capture_output=True, text=True, timeout=600)
            lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
            bad = []
            if [l.get("seed") for l in lines] != [1, 2, 3, 4, 5, 6]:
                bad.append("seeds %s" % [l.get("seed") for l in lines])
            for l in lines:
                extra = ["--pct-steps", str(l["pct_steps"])] if "pct_steps" in l else []
                h, code = run_hash(chansim, scen, l["seed"], extra, strategy)
                if h != l["hash"] or code != l["exit"]:
                    bad.append("seed %d: explore %s exit %d, run %s exit %d" %
                               (l["seed"], l["hash"], l["exit"], h, code))
            report(not bad and len(lines) == 6,
                   "explore %s under %s: each run's hash and exit are chansim run's" % (name, strategy),
                   "\n".join(bad) + "\n" + p.stderr)

    # PCT over the run's real choice points (a learned horizon) finds the
    # lost update in a fair share of 100 runs; drawn over a fixed horizon
    # of 10,000 steps (as before), its change points fall past the end of
    # a run of a few choice points and it finds none. Each failing line is
    # reproduced by `chansim run` with the horizon it names.
    lost = os.path.join(src, "tests", "scenarios", "dfs_lost_update.lua")
    counts = []
    for extra in ([], ["--pct-steps", "10000"]):
        p = subprocess.run([chansim, "explore", lost, "--strategy", "pct:2", "--runs", "100", "--jobs", "2",
                            *extra], capture_output=True, text=True, timeout=600)
        lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        counts.append(sum(l["exit"] == 1 for l in lines))
        if not extra:
            learned = lines
    bad = []
    for l in [l for l in learned if l["exit"] == 1][:2]:
        pr = subprocess.run([chansim, "run", lost, "--seed", str(l["seed"]), "--strategy", "pct:2",
                             "--pct-steps", str(l["pct_steps"]), "--quiet"],
                            capture_output=True, text=True, timeout=300)
        if "trace hash:   " + l["hash"] not in pr.stdout or pr.returncode != 1:
            bad.append("seed %d: run gives exit %d" % (l["seed"], pr.returncode))
    report(counts[0] >= 5 and counts[1] == 0 and not bad,
           "pct:2 finds the lost update in %d of 100 runs with a learned horizon, %d with 10,000 steps; "
           "reproduced by chansim run --pct-steps" % tuple(counts), "\n".join(bad))
    scen = os.path.join(src, "scenarios", "worker_pool.lua")
    # The learned horizon does not depend on the number of workers.
    outs = []
    for jobs in ("1", "3"):
        outs.append(subprocess.run([chansim, "explore", scen, "--set", "variant=seed", "--strategy",
                                    "pct:3", "--runs", "24", "--jobs", jobs],
                                   capture_output=True, text=True, timeout=600).stdout)
    report(outs[0] == outs[1] and outs[0].count("\n") == 24,
           "explore pct:3: the same lines with --jobs 1 and --jobs 3 (horizon learned in generations)")

    # A run that takes its worker down: the scenario spins forever for some
    # seeds; the test kills the worker that spins (it alone uses CPU for
    # long), and explore reports that run and goes on with a new worker.
    with tempfile.TemporaryDirectory() as tmp:
        scen = os.path.join(tmp, "spin.lua")
        with open(scen, "w") as f:
            f.write('scenario{ name = "spin", description = "spins for some seeds" }\n'
                    'sim.go(function() sim.sleep("1ms") end)\n'
                    'sim.sleep("2ms")\n'
                    'if math.random(1, 3) == 1 then while true do end end\n'
                    'sim.log("done")\n')
        spins = {}
        for seed in range(1, 9):
            pr = subprocess.run([chansim, "run", scen, "--seed", str(seed), "--strategy", "random",
                                 "--quiet", "--instr-budget", "2000000"],
                                capture_output=True, text=True, timeout=300)
            spins[seed] = pr.returncode != 0
        p = subprocess.Popen([chansim, "explore", scen, "--runs", "8", "--jobs", "2", "--no-repro",
                              "--instr-budget", "1000000000000000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed = 0
        gone = set()  # a killed worker stays a child until explore reaps it
        deadline = time.time() + 300
        while p.poll() is None and time.time() < deadline:
            for c in children(p.pid):
                if c not in gone and cpu_seconds(c) > 0.5:
                    try:
                        os.kill(c, 9)
                        killed += 1
                        gone.add(c)
                    except OSError:
                        pass
            time.sleep(0.05)
        if p.poll() is None:
            p.kill()
        out, err = p.communicate()
        lines = [json.loads(l) for l in out.splitlines() if l.strip()]
        bad = []
        if len(lines) != 8:
            bad.append("%d lines" % len(lines))
        for seed, l in zip(range(1, 9), lines):
            if spins[seed]:
                if l.get("exit") != 2 or "killed by a signal" not in l.get("result", ""):
                    bad.append("seed %d spins: %s" % (seed, l))
            else:
                h, code = run_hash(chansim, scen, seed)
                if l.get("seed") != seed or l.get("hash") != h or l.get("exit") != code:
                    bad.append("seed %d: %s, run gives %s exit %d" % (seed, l, h, code))
        nspin = sum(spins.values())
        report(nspin > 0 and nspin < 8 and killed == nspin and not bad and p.returncode == 1,
               "explore: %d runs whose worker was killed reported, the %d others exact" %
               (nspin, 8 - nspin),
               "killed %d, exit %s\n%s\n%s\n%s" % (killed, p.returncode, "\n".join(bad), out, err))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
