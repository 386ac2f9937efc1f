#!/usr/bin/env python3
"""The JSON Schemas in docs/schemas/ against what chansim prints.

run-summary.schema.json: `chansim run --json` on scenarios that pass, fail
an expectation or an invariant, deadlock, panic and leak: standard output
is one line, one object, valid against the schema, whose exit equals the
exit status, whose hash and counts equal the text summary's, the same bytes
on a second run; its reproduce line gives the same trace hash again.
explore-line.schema.json: every line of `chansim explore`.
reproducer.schema.json: the reproducers explore writes for failing runs
and the minimal one shrink writes. The schemas are
valid Draft 2020-12 schemas, and reject objects with a field missing, an
unknown field or a malformed hash (so they are not vacuous).

Uses Debian's python3-jsonschema (the system python3).
usage: schemas_test.py CHANSIM SOURCE_DIR
"""
import copy
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import jsonschema

chansim, src = sys.argv[1], sys.argv[2]
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def load(name):
    with open(os.path.join(src, "docs", "schemas", name)) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


summary_v = load("run-summary.schema.json")
explore_v = load("explore-line.schema.json")


def valid(v, obj):
    errs = sorted(v.iter_errors(obj), key=lambda e: list(e.path))
    return "; ".join(f"{list(e.path)}: {e.message}" for e in errs[:3])


os.chdir(src)
tmp = tempfile.mkdtemp()
failing = os.path.join(tmp, "failing.lua")
with open(failing, "w") as f:
    f.write('scenario{ name = "failing", description = "an expectation and an invariant fail", duration = "1s" }\n'
            'local n = 0\n'
            'sim.invariant(function() return n < 3 end, "n stays below 3")\n'
            'for i = 1, 5 do n = n + 1; sim.sleep("10ms") end\n'
            'sim.expect(n == 4, "n is \\"four\\"\\tafter the loop")\n')

runs = [
    (["scenarios/hello.lua"], 0),
    (["scenarios/hello.lua", "--strategy", "pct:3", "--seed", "9"], 0),
    ([failing], 1),
    (["scenarios/deadlock.lua"], 2),
    (["scenarios/panic_send_closed.lua"], 2),
    (["scenarios/leak.lua"], 0),  # leaks reported, not failed (its header)
    (["scenarios/circuit_breaker.lua", "--until", "2s"], None),
]
seen_results = set()
for args, want_exit in runs:
    name = " ".join(args)
    r = subprocess.run([chansim, "run"] + args + ["--json"], capture_output=True, text=True)
    text = subprocess.run([chansim, "run"] + args + ["--quiet"], capture_output=True, text=True)
    lines = r.stdout.splitlines()
    check(len(lines) == 1, f"{name}: --json prints one line ({len(lines)})")
    try:
        obj = json.loads(r.stdout)
    except ValueError as e:
        check(False, f"{name}: --json prints JSON: {e}")
        continue
    err = valid(summary_v, obj)
    check(not err, f"{name}: valid against run-summary.schema.json: {err}")
    check(obj.get("exit") == r.returncode, f"{name}: exit {obj.get('exit')} = the exit status {r.returncode}")
    if want_exit is not None:
        check(r.returncode == want_exit, f"{name}: exit status {r.returncode}, want {want_exit}")
    m = re.search(r"^trace hash:\s+(\w+)", text.stdout, re.M)
    check(m and obj.get("trace_hash") == m.group(1), f"{name}: the text summary's trace hash")
    m = re.search(r"^expectations: (\d+) passed, (\d+) failed", text.stdout, re.M)
    ex = obj.get("expectations", {})
    check(m and (ex.get("passed"), ex.get("failed")) == (int(m.group(1)), int(m.group(2))),
          f"{name}: the text summary's expectation counts")
    check(len(ex.get("list", [])) == ex.get("passed", -1) + ex.get("failed", -1),
          f"{name}: every expectation listed")
    again = subprocess.run([chansim, "run"] + args + ["--json"], capture_output=True, text=True)
    check(again.stdout == r.stdout, f"{name}: the same bytes on a second run")
    repro = shlex.split(obj.get("reproduce", ""))
    if repro[:2] == ["chansim", "run"]:
        rr = subprocess.run([chansim] + repro[1:] + ["--json"], capture_output=True, text=True)
        try:
            check(json.loads(rr.stdout).get("trace_hash") == obj.get("trace_hash"),
                  f"{name}: the reproduce line gives the same trace hash")
        except ValueError:
            check(False, f"{name}: the reproduce line runs with --json")
    seen_results.add(obj.get("result"))
    if args[0] == failing:
        kinds = {(e["kind"], e["ok"]) for e in ex.get("list", [])}
        check(("invariant", False) in kinds and ("expect", False) in kinds,
              f"{name}: a failed invariant and a failed expectation listed")
        check(any(e["message"] == 'n is "four"\tafter the loop' for e in ex.get("list", [])),
              f"{name}: quotes and tabs of a message escaped and read back")
    if "leak" in args[0]:
        check(obj["goroutines"]["leaked"] > 0 and obj["report"], f"{name}: leaked goroutines and their dump")
    if "deadlock" in args[0] or "panic" in args[0]:
        check(obj["failure"] and obj["report"] and obj["failure"] in obj["report"],
              f"{name}: the failure and Go's report")
check({"done", "deadlock", "panic", "time limit"} <= seen_results, f"results covered: {sorted(seen_results)}")

# --json keeps standard output for the summary: the program's output goes to stderr.
r = subprocess.run([chansim, "run", "scenarios/hello.lua", "--json"], capture_output=True, text=True)
plain = subprocess.run([chansim, "run", "scenarios/hello.lua"], capture_output=True, text=True)
first_line = plain.stdout.splitlines()[0] if plain.stdout else ""
check(first_line and first_line in r.stderr and first_line not in r.stdout,
      "--json: the program's output on standard error")

# explore's lines.
for scen, extra in (("scenarios/deadlock.lua", []), ("scenarios/hello.lua", ["--strategy", "pct:2"]),
                    ("scenarios/split_brain_fencing.lua", ["--until", "3s"]), (failing, [])):
    r = subprocess.run([chansim, "explore", scen, "--runs", "4", "--jobs", "2", "--no-repro"] + extra,
                       capture_output=True, text=True)
    lines = r.stdout.splitlines()
    check(len(lines) == 4, f"explore {scen}: four lines ({len(lines)})")
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError as e:
            check(False, f"explore {scen}: a JSON line: {e}")
            continue
        err = valid(explore_v, obj)
        check(not err, f"explore {scen}: valid against explore-line.schema.json: {err}")
check(not valid(explore_v, {"exit": 2, "result": "the run ended without a report (killed by a signal)"}),
      "explore: the line of a run that ended without a report")

# The schemas reject what they should.
good = json.loads(subprocess.run([chansim, "explore", "scenarios/hello.lua", "--runs", "1"],
                                 capture_output=True, text=True).stdout)
good_summary = json.loads(subprocess.run([chansim, "run", "scenarios/hello.lua", "--json"],
                                         capture_output=True, text=True).stdout)
for v, base, what in ((explore_v, good, "explore-line"), (summary_v, good_summary, "run-summary")):
    for mutate, why in ((lambda o: o.pop("seed"), "a missing field"),
                        (lambda o: o.update(extra=1), "an unknown field"),
                        (lambda o: o.update(trace_hash="xyz", hash="xyz"), "a malformed hash"),
                        (lambda o: o.update(exit=7), "an exit status chansim never gives")):
        bad = copy.deepcopy(base)
        mutate(bad)
        check(bool(valid(v, bad)), f"{what}.schema.json rejects {why}")

# reproducer.schema.json: the files explore writes for failing runs, and
# the one shrink writes.
repro_v = load("reproducer.schema.json")
rdir = os.path.join(tmp, "repro")
r = subprocess.run([chansim, "explore", "tests/scenarios/lost_update.lua", "--runs", "20",
                    "--repro-dir", rdir], capture_output=True, text=True)
files = sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []
nfail = sum(1 for line in r.stdout.splitlines() if json.loads(line)["exit"] != 0)
check(nfail > 0 and len(files) == nfail, f"explore: a reproducer per failing run ({len(files)} for {nfail})")
good_repro = None
for name in files:
    with open(os.path.join(rdir, name)) as f:
        obj = json.load(f)
    err = valid(repro_v, obj)
    check(not err, f"{name}: valid against reproducer.schema.json: {err}")
    good_repro = good_repro or obj
if files:
    first = os.path.join(rdir, files[0])
    out = os.path.join(tmp, "min.json")
    s = subprocess.run([chansim, "shrink", first, "-o", out], capture_output=True, text=True)
    check(s.returncode == 0 and os.path.exists(out), f"shrink {first}: exit {s.returncode}: {s.stderr}")
    if os.path.exists(out):
        with open(out) as f:
            err = valid(repro_v, json.load(f))
        check(not err, f"the shrunk reproducer: valid against reproducer.schema.json: {err}")
        os.unlink(out)
if good_repro:
    for mutate, why in ((lambda o: o.pop("decisions"), "a missing field"),
                        (lambda o: o.update(extra=1), "an unknown field"),
                        (lambda o: o.update(trace_hash="xyz"), "a malformed hash"),
                        (lambda o: o.update(format="chansim-reproducer/0"), "another format"),
                        (lambda o: o["failure"].update(kind="oops"), "an unknown failure kind"),
                        (lambda o: o.update(exit=0), "a run that passed")):
        bad = copy.deepcopy(good_repro)
        mutate(bad)
        check(bool(valid(repro_v, bad)), f"reproducer.schema.json rejects {why}")
for name in files:
    os.unlink(os.path.join(rdir, name))
if os.path.isdir(rdir):
    os.rmdir(rdir)

os.unlink(failing)
os.rmdir(tmp)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
