#!/usr/bin/env python3
"""docs/types/sim.lua, the Lua Language Server definition of the `sim`
module, against the module itself: every function of the running module
(tests/types/walk_sim.lua lists them) is declared and every declared one
exists; every method of the classes it declares exists on an instance and
every method of the instances is declared; each declaration has a one-line
description and a ---@param for each parameter; the file is valid Lua.

usage: lua_types_test.py CHANSIM SOURCE_DIR
"""
import re
import shutil
import subprocess
import sys

chansim, src = sys.argv[1], sys.argv[2]
types_path = src + "/docs/types/sim.lua"
text = open(types_path).read()
lines = text.splitlines()
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


# The file as Lua: it must parse (the Lua Language Server reads it as Lua).
luac = shutil.which("luac5.4") or shutil.which("luac")
check(luac is not None, "luac5.4 is needed (the lua5.4 package)")
if luac:
    r = subprocess.run([luac, "-p", types_path], capture_output=True, text=True)
    check(r.returncode == 0, "docs/types/sim.lua does not parse: " + r.stderr.strip())
check(lines[0].startswith("---@meta"), "docs/types/sim.lua starts with ---@meta")

# Declarations: module functions, and classes (---@class sim.X, local X = {})
# with their methods.
declared_fns = {}
declared_methods = {}
class_of_local = {}
for i, line in enumerate(lines):
    m = re.match(r"^local (\w+) = \{\}$", line)
    if m and i > 0:
        j = i - 1
        while j >= 0 and lines[j].startswith("---@") and not lines[j].startswith("---@class"):
            j -= 1
        c = re.match(r"^---@class sim\.(\w+)", lines[j]) if j >= 0 else None
        if c:
            class_of_local[m.group(1)] = c.group(1)
    m = re.match(r"^function (sim(?:\.\w+)+)\((.*)\) end$", line)
    if m:
        declared_fns[m.group(1)] = (i, m.group(2))
    m = re.match(r"^function (\w+):(\w+)\((.*)\) end$", line)
    if m:
        declared_methods.setdefault(m.group(1), {})[m.group(2)] = (i, m.group(3))


def doc_block(i):
    """The ---comment lines just above line i."""
    block = []
    j = i - 1
    while j >= 0 and lines[j].startswith("---"):
        block.insert(0, lines[j])
        j -= 1
    return block


def check_doc(name, i, params):
    block = doc_block(i)
    desc = [b for b in block if not b.startswith("---@")]
    check(len(desc) >= 1 and len(desc[0]) > 4, f"{name}: a one-line description (---text) above it")
    for p in [p.strip() for p in params.split(",") if p.strip()]:
        pat = r"---@param \.\.\. \S" if p == "..." else rf"---@param {p}\?? \S"
        check(any(re.match(pat, b) for b in block), f"{name}: ---@param {p} with its type")


for name, (i, params) in declared_fns.items():
    check_doc(name, i, params)
for local, methods in declared_methods.items():
    check(local in class_of_local, f"{local}: methods of a local without ---@class sim.X above it")
    for m, (i, params) in methods.items():
        check_doc(f"{class_of_local.get(local, local)}:{m}", i, params)

# The module as the running chansim has it.
probe = ",".join(f"{class_of_local[l]}.{m}" for l, ms in declared_methods.items() if l in class_of_local
                 for m in ms)
r = subprocess.run([chansim, "run", src + "/tests/types/walk_sim.lua", "--set", "probe=" + probe],
                   capture_output=True, text=True)
check(r.returncode == 0, f"walk_sim.lua ran (exit {r.returncode}): {r.stderr.strip()}")
actual_fns = set()
actual_methods = {}
indexed = set()
probed = {}
for line in r.stdout.splitlines():
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "fn":
        if not parts[1].split(".")[-1].startswith("_"):  # sim._world_*: the prelude's own
            actual_fns.add(parts[1])
    elif parts[0] == "method":
        actual_methods.setdefault(parts[1], set()).add(parts[2])
    elif parts[0] == "index":
        indexed.add(parts[1])
    elif parts[0] == "probe":
        probed[(parts[1], parts[2])] = parts[3]
check(len(actual_fns) > 50, f"walk_sim.lua listed the module ({len(actual_fns)} functions)")

for f in sorted(actual_fns - set(declared_fns)):
    check(False, f"{f} is in the module but not declared in docs/types/sim.lua")
for f in sorted(set(declared_fns) - actual_fns):
    check(False, f"{f} is declared in docs/types/sim.lua but not in the module")
for local, methods in declared_methods.items():
    cls = class_of_local.get(local)
    if cls in indexed:
        for m in methods:
            check(probed.get((cls, m)) == "function", f"sim.{cls}:{m} is declared but an instance has no such method")
        continue
    have = actual_methods.get(cls)
    check(have is not None, f"sim.{cls}: walk_sim.lua makes no instance of it")
    if have is None:
        continue
    for m in sorted(have - set(methods)):
        check(False, f"sim.{cls}:{m} is a method of the module's {cls} but not declared in docs/types/sim.lua")
    for m in sorted(set(methods) - have):
        check(False, f"sim.{cls}:{m} is declared in docs/types/sim.lua but the module's {cls} has no such method")

for f in failures:
    print("FAIL:", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed "
      f"({len(declared_fns)} functions, {sum(len(m) for m in declared_methods.values())} methods declared)")
sys.exit(1 if failures else 0)
