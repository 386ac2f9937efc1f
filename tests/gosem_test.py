#!/usr/bin/env python3
"""Go's semantics, program by program: tests/gosem/NAME.lua is a scenario
whose header comments say what Go does with the same program
(tests/gosem/NAME.go, when there is one):

    --| a line the program prints (all of them, in order: the whole output)
    --! exit N            the exit status (default 0)
    --? text              a substring of standard error (repeatable)
    --= twice             run it twice: the same bytes and trace hash

The scenario's output is standard output up to chansim's summary. Where
the .go sibling exists and the installed Go can build it (a file may need a
newer Go: a line `// needs go1.21`), the Go program is run too and must print
the same lines and exit with the same status; otherwise only chansim is
checked.

usage: gosem_test.py CHANSIM SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

chansim, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
d = os.path.join(src, "tests", "gosem")
failures, checks = [], 0


def check(ok, name, why):
    global checks
    checks += 1
    if not ok:
        failures.append("%s: %s" % (name, why))
    return ok


def want_of(path):
    lines, status, err, twice = [], 0, [], False
    for l in open(path).read().splitlines():
        if l.startswith("--| ") or l == "--|":
            lines.append(l[4:])
        elif l.startswith("--! exit "):
            status = int(l[9:])
        elif l.startswith("--? "):
            err.append(l[4:])
        elif l.startswith("--= twice"):
            twice = True
    return lines, status, err, twice


def program_output(out):
    i = out.find("\n--- chansim summary ---")
    return out[:i] if i >= 0 else out


tmp = tempfile.mkdtemp(prefix="chansim-gosem-")
ADDR = re.compile(r"0x[0-9a-fA-F]{6,}")
go = shutil.which("go")
go_minor = 0
if go:
    v = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout
    m = re.match(r"go1\.(\d+)", v.strip())
    go_minor = int(m.group(1)) if m else 0
for f in sorted(os.listdir(d)):
    if not f.endswith(".lua"):
        continue
    name = f[:-4]
    lines, status, err, twice = want_of(os.path.join(d, f))
    want = "".join(l + "\n" for l in lines)
    runs = []
    for _ in range(2 if twice else 1):
        p = subprocess.run([chansim, "run", f], cwd=d, capture_output=True, timeout=120)
        out, e = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        runs.append(p.stdout)
        check(p.returncode == status, name, "exit %d, want %d\nstderr:\n%s" % (p.returncode, status, e[-2000:]))
        check(program_output(out) == want, name, "printed:\n%s\nwant:\n%s" % (program_output(out), want))
        for s in err:
            check(s in e, name, "stderr lacks %r:\n%s" % (s, e[-2000:]))
        check(not ADDR.search(out) and not ADDR.search(e), name, "an address reached the output")
    if twice:
        check(runs[0] == runs[1], name, "two runs differ")
    gofile = os.path.join(d, name + ".go")
    if go and os.path.exists(gofile):
        exe = os.path.join(tmp, name)
        env = dict(os.environ, GO111MODULE="off", GOCACHE=os.environ.get("GOCACHE", os.path.join(tmp, "gocache")))
        need = re.search(r"^// needs go1\.(\d+)", open(gofile).read(), re.M)
        if need and int(need.group(1)) > go_minor:
            continue  # needs a newer Go than the installed one
        b = subprocess.run([go, "build", "-o", exe, gofile], cwd=d, capture_output=True, timeout=300, env=env)
        be = b.stderr.decode("utf-8", "replace")
        if "build constraints exclude" in be:
            continue  # needs a newer Go than the installed one
        if not check(b.returncode == 0, name + ".go", "go build failed:\n" + be[-1500:]):
            continue
        p = subprocess.run([exe], cwd=d, capture_output=True, timeout=120)
        out, e = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        check(out == want, name + ".go", "Go printed:\n%s\nwant:\n%s" % (out, want))
        check(p.returncode == status, name + ".go", "Go exit %d, want %d\n%s" % (p.returncode, status, e[-1500:]))
        for s in err:
            if not s.startswith("chansim"):
                check(s in e, name + ".go", "Go's stderr lacks %r:\n%s" % (s, e[-1500:]))

shutil.rmtree(tmp, ignore_errors=True)
print("gosem: %d checks, %d failed" % (checks, len(failures)))
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
