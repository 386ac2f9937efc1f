#!/usr/bin/env python3
"""chansim run --pprof DIR: Go's profiles, read by Go's own pprof.

For each scenario: `go tool pprof -top` opens goroutine.pb.gz, mutex.pb.gz
and block.pb.gz; the delays and counts that pprof reads back (-raw) equal
those computed independently from the run's text log (--log: each go.block
to the go.wake of the same goroutine); the frames name the Go function the
goroutines wait in and the scenario's Lua file:line or the pattern's C
goroutine; two runs write the same bytes, and the trace hash is that of a
run without --pprof. A --pprof that is a file, not a folder, is a usage
error.

usage: pprof_test.py CHANSIM SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

chansim, src = sys.argv[1], sys.argv[2]
go = shutil.which("go") or "/usr/lib/go/bin/go"
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what)


BLOCK = {"chan receive", "chan send", "chan receive (nil chan)", "chan send (nil chan)", "select",
         "select (no cases)", "semacquire", "sync.Cond.Wait", "sync.Mutex.Lock",
         "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait"}
MUTEX = {"sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock"}


def from_log(path):
    """Contentions and delay (ns) of the block and mutex profiles, from the log."""
    pending = {}
    totals = {"block": [0, 0], "mutex": [0, 0]}
    for line in open(path):
        f = line.split()
        if len(f) < 4 or not re.match(r"^\d+\.\d{9}$", f[0]):
            continue
        sec, frac = f[0].split(".")
        t = int(sec) * 1000000000 + int(frac)
        if f[2] == "go.block":
            m = re.match(r".*go\.block \[(.*)\] #\d+$", line.strip())
            pending[f[1]] = (t, m.group(1) if m else "")
        elif f[2] == "go.wake" and f[3] in pending:
            since, reason = pending.pop(f[3])
            for name, kinds in (("block", BLOCK), ("mutex", MUTEX)):
                if reason in kinds:
                    totals[name][0] += 1
                    totals[name][1] += t - since
    return totals


def raw_totals(path):
    """Sum of each sample value as `go tool pprof -raw` reads the file."""
    r = subprocess.run([go, "tool", "pprof", "-raw", path], capture_output=True, text=True)
    sums = None
    in_samples = False
    for line in r.stdout.splitlines():
        if line.startswith("Samples:"):
            in_samples = True
            continue
        if in_samples:
            m = re.match(r"^\s+([\d\s]+):", line)
            if m:
                vals = [int(v) for v in m.group(1).split()]
                sums = [a + b for a, b in zip(sums, vals)] if sums else vals
            elif not line.startswith(" ") and "/" not in line:
                break
    return r.returncode, sums or [0, 0]


def run(args):
    return subprocess.run([chansim, "run"] + args, capture_output=True, text=True)


def trace_hash(out):
    m = re.search(r"^trace hash:\s+(\w+)", out, re.M)
    return m.group(1) if m else None


tmp = tempfile.mkdtemp()
try:
    cases = [
        # scenario, functions pprof -top must show in (profile: names)
        ("contention.lua", {"mutex": ["sync.(*Mutex).Lock", "sync.(*RWMutex).RLock", "reader", "writer"]}),
        ("mutex_vs_rwmutex.lua", {"mutex": ["sync.(*Mutex).Lock", "func@scenarios/mutex_vs_rwmutex.lua:"],
                                  "block": ["sync.(*WaitGroup).Wait", "main.main"]}),
        ("leak.lua", {"goroutine": ["runtime.chansend", "func@scenarios/leak.lua:"]}),
        ("leak_detection.lua", {"goroutine": ["runtime.selectgo"], "block": ["runtime.selectgo"]}),
        ("producer_consumer_poisson.lua", {"block": ["runtime.chanrecv", "runtime.chansend"]}),
        ("worker_pool.lua", {"block": ["pool.worker"]}),
    ]
    os.chdir(src)  # scenario paths as users type them (frames name scenarios/x.lua)
    for name, want in cases:
        scen = "scenarios/" + name
        d1, d2 = os.path.join(tmp, name + ".1"), os.path.join(tmp, name + ".2")
        log = os.path.join(tmp, name + ".log")
        plain = run([scen, "--quiet"])
        r1 = run([scen, "--quiet", "--pprof", d1, "--log", log])
        r2 = run([scen, "--quiet", "--pprof", d2])
        check(r1.returncode == plain.returncode, f"{name}: the same exit status with --pprof")
        check(trace_hash(r1.stdout) == trace_hash(plain.stdout) and trace_hash(plain.stdout),
              f"{name}: the same trace hash with --pprof")
        totals = from_log(log)
        for prof in ("goroutine", "mutex", "block"):
            f1, f2 = os.path.join(d1, prof + ".pb.gz"), os.path.join(d2, prof + ".pb.gz")
            check(os.path.isfile(f1), f"{name}: {prof}.pb.gz written")
            if not os.path.isfile(f1):
                continue
            check(open(f1, "rb").read()[:2] == b"\x1f\x8b", f"{name}: {prof}.pb.gz is gzip")
            check(os.path.isfile(f2) and open(f1, "rb").read() == open(f2, "rb").read(),
                  f"{name}: {prof}.pb.gz has the same bytes on a second run")
            top = subprocess.run([go, "tool", "pprof", "-top", f1], capture_output=True, text=True)
            check(top.returncode == 0, f"{name}: go tool pprof -top {prof}.pb.gz: {top.stderr.strip()}")
            expect_type = "goroutine" if prof == "goroutine" else "delay"
            check(f"Type: {expect_type}" in top.stdout, f"{name}: {prof} profile's type is {expect_type}")
            for fn in want.get(prof, []):
                check(fn in top.stdout, f"{name}: go tool pprof -top {prof}.pb.gz shows {fn}")
            rc, sums = raw_totals(f1)
            check(rc == 0, f"{name}: go tool pprof -raw {prof}.pb.gz")
            if prof in ("mutex", "block"):
                check(sums == totals[prof],
                      f"{name}: {prof} contentions and delay read by pprof {sums} = from the log {totals[prof]}")
            if prof == "goroutine":
                alive = re.search(r"(\d+) alive at the end", r1.stdout)
                check(alive and sums[0] == int(alive.group(1)),
                      f"{name}: goroutine profile counts {sums[0]} = alive at the end {alive and alive.group(1)}")
        if name == "leak.lua":
            tags = subprocess.run([go, "tool", "pprof", "-tags", os.path.join(d1, "goroutine.pb.gz")],
                                  capture_output=True, text=True)
            check("wait_reason" in tags.stdout and "chan send" in tags.stdout,
                  "leak.lua: goroutine profile's wait_reason label (pprof -tags)")

    # Usage errors: --pprof naming a file, or without a value.
    afile = os.path.join(tmp, "a_file")
    open(afile, "w").close()
    r = run(["scenarios/hello.lua", "--pprof", afile])
    check(r.returncode == 3 and "not a folder" in r.stderr, f"--pprof FILE: exit 3, not a folder ({r.returncode})")
    r = run(["scenarios/hello.lua", "--pprof"])
    check(r.returncode == 3, "--pprof without a value: exit 3")
finally:
    shutil.rmtree(tmp)

print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
