#!/usr/bin/env python3
"""Every scenario's parameters at their edges: no scenario may crash on its
own parameters.

For each scenarios/*.lua, the parameters its header declares
(scenario{ params = { ... } }, read by lua5.4 with a stub `scenario`) are
set one at a time to edge values: an integer to 1 and 4x its default, a
number to 0 and 1, a boolean to the other one, a duration to 1ms and 4x its
default (0 is no edge: a rate, a count or a period of 0 is refused by the
calls they go to), a string to each value the scenario documents or compares it
with (`--set name=value` in its comments, `params.name == "value"`). A run
may pass (0), fail an expectation or an invariant (1), end in a Go panic
(2) or refuse a value with a scenario error naming the option (3); it must
not end in a Lua error of the scenario's own code (a panic whose message is
`file:line: ...`, such as "attempt to index a nil value"), by a signal, or
past the time limit.

usage: scenario_params.py CHANSIM SOURCE_DIR
"""
import concurrent.futures
import os
import re
import subprocess
import sys

LUA_HEADER = r'''
local path = ...
local captured
local any = setmetatable({}, { __index = function() return function() end end,
                               __call = function() end })
sim = any
scenario = function(t) captured = t; error("header read", 0) end
local fn = assert(loadfile(path))
pcall(fn)
if captured and type(captured.params) == "table" then
  local names = {}
  for k in pairs(captured.params) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = captured.params[k]
    local kind = math.type(v) or type(v)
    print(k .. "\t" .. kind .. "\t" .. tostring(v))
  end
end
'''

DUR = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)$")


def params_of(path):
    p = subprocess.run(["lua5.4", "-", path], input=LUA_HEADER, capture_output=True, text=True,
                       timeout=30)
    out = []
    for line in p.stdout.splitlines():
        name, kind, value = line.split("\t", 2)
        out.append((name, kind, value))
    return out


def edges(path, name, kind, value):
    if kind == "boolean":
        return ["false" if value == "true" else "true"]
    if kind == "integer":
        return sorted({"1", str(max(int(value), 1) * 4)}, key=int)
    if kind == "float":
        return ["0", "1"]
    if kind == "string":
        m = DUR.match(value)
        if m:
            n, unit = m.groups()
            big = float(n) * 4
            return ["1ms", ("%g" % big) + unit]
        text = open(path).read()
        vals = set(re.findall(r"--set " + re.escape(name) + r"=([A-Za-z0-9_.-]*[A-Za-z0-9_])", text))
        vals |= set(re.findall(r"\." + re.escape(name) + r'\s*[=~]=\s*"([^"]*)"', text))
        vals.discard(value)
        return sorted(vals)
    return []


LUA_ERROR = re.compile(r"^panic: \S+\.lua:\d+: ", re.M)


def run(chansim, path, name, val):
    cmd = [chansim, "run", path, "--quiet", "--set", "%s=%s" % (name, val)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return cmd, "timed out after 300s"
    rc = p.returncode
    if rc < 0:
        return cmd, "killed by signal %d" % -rc
    if rc not in (0, 1, 2, 3):
        return cmd, "exit status %d" % rc
    if rc == 2:
        m = LUA_ERROR.search(p.stderr)
        if m:
            line = p.stderr[m.start():].splitlines()[0]
            return cmd, "a Lua error of the scenario: " + line
    if rc == 3 and ("attempt to" in p.stderr or "--set" in p.stderr):
        return cmd, "scenario error: " + p.stderr.strip().splitlines()[-1]
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        if bad in p.stderr:
            return cmd, bad
    return cmd, None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    chansim, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    scen = os.path.join(src, "scenarios")
    jobs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for f in sorted(os.listdir(scen)):
            if not f.endswith(".lua"):
                continue
            path = os.path.join(scen, f)
            for name, kind, value in params_of(path):
                for val in edges(path, name, kind, value):
                    jobs.append(pool.submit(run, chansim, path, name, val))
    failed = 0
    for j in jobs:
        cmd, why = j.result()
        if why:
            failed += 1
            print("FAIL: %s: %s" % (" ".join(cmd), why))
    print("scenario_params: %d runs, %d failed" % (len(jobs), failed))
    return 1 if failed or not jobs else 0


if __name__ == "__main__":
    sys.exit(main())
