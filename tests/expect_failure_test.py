#!/usr/bin/env python3
"""scenario{ expect_failure = ... }: a lesson broken on purpose passes when
exactly its failure happens and fails otherwise; explore searches for it and
does not count it as a failure.

usage: expect_failure_test.py CHANSIM
"""
import json
import os
import subprocess
import sys
import tempfile

SCENARIOS = {
    "deadlock.lua": '''
scenario{ name = "t", description = "t", expect_failure = "deadlock",
  params = { fixed = false } }
local ch = sim.chan(1)
if sim.params.fixed then ch:send(1) end
ch:recv()
''',
    "panic.lua": '''
scenario{ name = "t", description = "t", expect_failure = "panic: send on closed channel",
  params = { other = "none" } }
local ch = sim.chan(1)
if sim.params.other == "fixed" then return end
if sim.params.other == "deadlock" then ch:recv() end
if sim.params.other == "lua" then error("boom") end
ch:close()
ch:send(1)
''',
    "luapanic.lua": '''
scenario{ name = "t", description = "t", expect_failure = "panic: boom" }
error("boom")
''',
    "race.lua": '''
scenario{ name = "t", description = "t", expect_failure = "race", params = { locked = false } }
local c = sim.shared("c", 0)
local mu = sim.mutex()
local wg = sim.waitgroup()
wg:add(1)
sim.go(function() mu:lock(); c.value = 1; mu:unlock(); wg:done() end)
if sim.params.locked then mu:lock() end
c.value = 2
if sim.params.locked then mu:unlock() end
wg:wait()
''',
    "leak.lua": '''
scenario{ name = "t", description = "t", expect_failure = "leak", params = { fixed = false } }
local ch = sim.chan()
sim.go(function() ch:recv() end)
if sim.params.fixed then ch:send(1) end
''',
    "check.lua": '''
scenario{ name = "t", description = "t", expect_failure = "invariant: no update lost",
  params = { safety = false } }
local c = sim.shared("c", 0)
local wg = sim.waitgroup()
wg:add(2)
for i = 1, 2 do
  sim.go(function() local v = c.value; c.value = v + 1; wg:done() end)
end
wg:wait()
sim.expect(c.value == 2, "no update lost")
sim.expect(not sim.params.safety, "a safety check")
''',
    "bad.lua": '''
scenario{ name = "t", description = "t", expect_failure = "crash" }
''',
}


def main():
    chansim = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="chansim-expect-")
    for name, text in SCENARIOS.items():
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    failures = []

    def run(args, want_exit, want_err=(), want_out=()):
        p = subprocess.run([chansim] + args, capture_output=True, text=True, timeout=120)
        ok = p.returncode == want_exit and all(w in p.stderr for w in want_err) \
            and all(w in p.stdout for w in want_out)
        print(("ok: " if ok else "FAIL: ") + " ".join(args) + " -> %d" % p.returncode)
        if not ok:
            failures.append(args)
            print("  want exit %d, err %r, out %r\n  stdout: %s\n  stderr: %s"
                  % (want_exit, want_err, want_out, p.stdout[-1500:], p.stderr[-1500:]))
        return p

    def s(name):
        return os.path.join(tmp, name)

    # The expected failure alone: exit 0 and a clear line.
    run(["run", s("deadlock.lua")], 0, ["fatal error: all goroutines are asleep - deadlock!",
                                        "expected failure happened: deadlock"],
        ["expected failure: deadlock (happened)", "exit status:  0"])
    run(["run", s("panic.lua")], 0, ["panic: send on closed channel",
                                     "expected failure happened: panic: send on closed channel"])
    run(["run", s("luapanic.lua")], 0, ["expected failure happened: panic: boom"])
    run(["run", s("race.lua")], 0, ["WARNING: DATA RACE", "expected failure happened: race"])
    run(["run", s("leak.lua")], 0, ["expected failure happened: leak"])
    # Nothing failed: exit 1.
    run(["run", s("deadlock.lua"), "--set", "fixed=true"], 1,
        ["expected failure did not happen: deadlock"], ["expected failure: deadlock (did not happen)"])
    run(["run", s("panic.lua"), "--set", "other=fixed"], 1, ["expected failure did not happen"])
    run(["run", s("race.lua"), "--set", "locked=true"], 1, ["expected failure did not happen: race"])
    run(["run", s("leak.lua"), "--set", "fixed=true"], 1, ["expected failure did not happen: leak"])
    run(["run", s("check.lua")], 1, ["expected failure did not happen",
                                     "under fifo a race may never show"])
    # Another failure: its own status.
    run(["run", s("panic.lua"), "--set", "other=deadlock"], 2,
        ["all goroutines are asleep", "the expected failure did not happen, and the run failed otherwise"])
    run(["run", s("panic.lua"), "--set", "other=lua"], 2, ["panic: ", "boom"])
    # A bad value: a scenario error.
    run(["run", s("bad.lua")], 3, ["expect_failure: want \"deadlock\""])
    # The named check demonstrates; another failed check is a safety failure.
    p = run(["explore", s("check.lua"), "--runs", "40", "--strategy", "random"], 0,
            ["the expected failure happened in"])
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    reached = [l for l in lines if l.get("expected_happened")]
    if not reached or any(l["exit"] != 0 for l in lines) or \
            any(l["expected_failure"] != "invariant: no update lost" for l in lines):
        failures.append("explore lines")
        print("FAIL: explore lines: %s" % p.stdout[:800])
    else:
        seed = reached[0]["seed"]
        run(["run", s("check.lua"), "--strategy", "random", "--seed", str(seed)], 0,
            ["expected failure happened: invariant: no update lost"])
        run(["run", s("check.lua"), "--strategy", "random", "--seed", str(seed), "--set", "safety=true"],
            1, ["the expected failure happened, and the run failed otherwise"])
    run(["explore", s("check.lua"), "--runs", "40", "--strategy", "random", "--set", "safety=true",
         "--no-repro"], 1,
        ["40 failed"])
    # --first stops at the first run that reaches it.
    p = run(["explore", s("check.lua"), "--runs", "40", "--strategy", "random", "--first"], 0,
            ["first in run"])
    # Never reached: explore fails.
    run(["explore", s("deadlock.lua"), "--runs", "5", "--set", "fixed=true", "--no-repro"], 1,
        ["the expected failure was not reached in 5 runs"])
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
