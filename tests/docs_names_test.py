#!/usr/bin/env python3
"""The docs name what the code has, and the code has what the docs name:
every public function of the running `sim` module (tests/types/walk_sim.lua
lists them, with every method of an instance of each class) is named in the
user docs (docs/lua-api.md, with docs/patterns.md and docs/cluster.md for
the patterns and the cluster), and every `sim.NAME` the docs write exists in
the module; every method is named in the docs, and every `:method(` the
docs' Lua examples call is a method of some class.

usage: docs_names_test.py CHANSIM SOURCE_DIR
"""
import re
import subprocess
import sys

chansim, src = sys.argv[1], sys.argv[2]
DOCS = ["docs/lua-api.md", "docs/patterns.md", "docs/cluster.md", "docs/view.md", "docs/outputs.md"]
text = {d: open(src + "/" + d).read() for d in DOCS}
alltext = "\n".join(text.values())
failures, checks = [], 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


r = subprocess.run([chansim, "run", src + "/tests/types/walk_sim.lua"], capture_output=True, text=True)
check(r.returncode == 0, "walk_sim.lua ran: " + r.stderr[-500:])
fns, methods = set(), set()
for line in r.stdout.splitlines():
    p = line.split()
    if len(p) >= 2 and p[0] == "fn" and not p[1].split(".")[-1].startswith("_"):
        fns.add(p[1])
    elif len(p) >= 3 and p[0] == "method":
        methods.add(p[2])
check(len(fns) > 50, "the module has its functions (%d)" % len(fns))
tables = {f.rsplit(".", 1)[0] for f in fns} | {"sim"}
for f in list(fns):
    parts = f.split(".")
    for i in range(2, len(parts)):
        tables.add(".".join(parts[:i]))

def code_of(t):
    """The doc's code: inline spans and blocks."""
    return "\n".join(re.findall(r"```.*?```", t, re.S) + re.findall(r"`[^`\n]+`", t))


alltext_code = code_of(alltext)

# The module, named in the docs: sim.a.b itself, or b( in a doc that names sim.a.
for f in sorted(fns):
    parent, leaf = f.rsplit(".", 1)
    named = re.search(re.escape(f) + r"\b", alltext) is not None
    if not named and parent != "sim":
        named = any(parent in t and re.search(r"\b" + re.escape(leaf) + r"\b", code_of(t)) for t in text.values())
    check(named, "%s is in the module but no doc names it (%s)" % (f, ", ".join(DOCS[:3])))

# The docs' names, in the module.
FIELDS = {"sim.params"}  # values, not functions
for d, t in text.items():
    for m in sorted(set(re.findall(r"\bsim(?:\.[A-Za-z_][A-Za-z0-9_]*)+", t))):
        name = m
        ok = name in fns or name in tables or name in FIELDS or any(name.startswith(x + ".") for x in FIELDS)
        check(ok, "%s names %s, which the module does not have" % (d, name))

# Methods: each named in the docs; each called in a doc's Lua, real.
for m in sorted(methods):
    check(re.search(r"\b" + re.escape(m) + r"\b", alltext_code) is not None,
          "the method %s is on an instance but no doc names it" % m)
# Every method any binding or the prelude defines (the classes the walk
# does not build, such as the store's clients, included).
import glob
defined = set(methods)
for f in glob.glob(src + "/scripts/bindings/*.c"):
    defined |= set(re.findall(r'\{"([a-z_][a-z0-9_]*)",\s*\w+\}', open(f).read()))
defined |= set(re.findall(r"^function \w+:(\w+)\(", open(src + "/scripts/lua/prelude.lua").read(), re.M))
LUA_METHODS = {"format", "sample", "rep", "sub", "gsub", "match", "find", "byte", "upper", "lower"}
for d, t in text.items():
    for block in re.findall(r"```lua\n(.*?)```", t, re.S):
        for m in sorted(set(re.findall(r"\w:(\w+)\(", block))):
            check(m in defined or m in LUA_METHODS,
                  "%s calls :%s(...) in an example, which no sim object has" % (d, m))

print("docs_names: %d checks, %d failed (%d functions, %d methods)" % (checks, len(failures), len(fns), len(methods)))
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
