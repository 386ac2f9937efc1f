#!/usr/bin/env python3
"""Every Lua example in the user docs is a tested scenario.

    docs_examples_test.py CHANSIM SOURCE_DIR

Each ```lua block of README.md and docs/*.md carries, on the line before
it, an HTML comment (invisible on the rendered page) saying what it is:

    <!-- example scenario -->        a whole scenario: run as it is
    <!-- example fragment            a piece of one: run between a setup
    setup:                           and a teardown (Lua lines), so that
      ...                            what it needs exists and what it
    teardown:                        produced can be printed
      ...
    exit: 0                          the exit status (0 when not said)
    out: text                        a line of output must contain text
    -->                              (out: may repeat)
    <!-- example excerpt FILE -->    lines of FILE, in order: FILE holds
                                     them and runs (exit 0, or exit:)
    <!-- example reference -->       a list of calls with placeholders
                                     (... for a body), not a program;
                                     docs_names_test.py checks its names
    <!-- example other -->           not chansim's Lua (an editor's config)

A block without a comment fails the test, so a new example is a decision
to test it or to say why not; a scenario, fragment or excerpt that stops
working (a renamed function, a changed message) fails it too.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 120
KINDS = ("scenario", "fragment", "excerpt", "reference", "other")
BLOCK = re.compile(r"^```lua\n(.*?)^```", re.S | re.M)
MARK = re.compile(r"<!--\s*example\s+(\w+)([^\n]*)\n?(.*?)-->\s*\Z", re.S)


def parse_mark(text):
    """The comment just before a block: (kind, argument, sections) or None."""
    m = MARK.search(text)
    if not m:
        return None
    kind, arg, body = m.group(1), m.group(2).strip(), m.group(3)
    sec = {"setup": [], "teardown": [], "exit": [], "out": []}
    cur = None
    for line in body.split("\n"):
        km = re.match(r"^(setup|teardown|exit|out):\s*(.*)$", line)
        if km:
            cur = km.group(1)
            if km.group(2):
                sec[cur].append(km.group(2))
        elif cur in ("setup", "teardown"):
            sec[cur].append(line[2:] if line.startswith("  ") else line)
        elif line.strip():
            raise ValueError("unexpected line in the example comment: %r" % line)
    return kind, arg, sec


def blocks(src):
    files = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
    for path in files:
        text = open(path, encoding="utf-8").read()
        for m in BLOCK.finditer(text):
            before = text[:m.start()]
            line = before.count("\n") + 1
            # the comment must end on the line right before the fence
            tail = before[before.rfind("<!--"):] if "<!--" in before else ""
            mark = None
            if tail and tail.rstrip("\n").endswith("-->") and before.endswith("-->\n"):
                mark = parse_mark(tail)
            yield os.path.relpath(path, src), line, m.group(1), mark


def run(chansim, path, cwd):
    p = subprocess.run([chansim, "run", path], cwd=cwd, capture_output=True,
                       text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def main():
    chansim, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    failures, counts = [], {k: 0 for k in KINDS}
    tmp = tempfile.mkdtemp(prefix="docs_examples.")
    for doc, line, body, mark in blocks(src):
        where = "%s:%d" % (doc, line)
        if mark is None:
            failures.append("%s: a ```lua block with no <!-- example KIND --> comment before it" % where)
            continue
        kind, arg, sec = mark
        if kind not in KINDS:
            failures.append("%s: unknown example kind %r" % (where, kind))
            continue
        counts[kind] += 1
        if kind in ("reference", "other"):
            continue
        want_exit = int(sec["exit"][0]) if sec["exit"] else 0
        if kind == "excerpt":
            target = os.path.join(src, arg)
            if not arg or not os.path.isfile(target):
                failures.append("%s: excerpt of %r, which is not a file" % (where, arg))
                continue
            have = [l.strip() for l in open(target, encoding="utf-8").read().split("\n")]
            want = [l.strip() for l in body.split("\n") if l.strip()]
            i = 0
            for l in have:
                if i < len(want) and l == want[i]:
                    i += 1
            if i < len(want):
                failures.append("%s: %s does not hold the excerpt's line %r (in order)" % (where, arg, want[i]))
                continue
            path = target
        else:
            prog = body if kind == "scenario" else \
                "\n".join(sec["setup"]) + "\n" + body + "\n" + "\n".join(sec["teardown"]) + "\n"
            path = os.path.join(tmp, "%s_%d.lua" % (re.sub(r"\W", "_", doc), line))
            with open(path, "w", encoding="utf-8") as f:
                f.write(prog)
        try:
            code, out, err = run(chansim, path, src)
        except subprocess.TimeoutExpired:
            failures.append("%s: timed out" % where)
            continue
        if code != want_exit:
            failures.append("%s: exit %d, want %d (run %s)\n%s%s" % (where, code, want_exit, path,
                                                                   out[-800:], err[-800:]))
            continue
        for o in sec["out"]:
            if o not in out:
                failures.append("%s: output lacks %r (run %s)\n%s" % (where, o, path, out[-800:]))
    print("docs examples: %s" % ", ".join("%d %s" % (counts[k], k) for k in KINDS))
    for f in failures:
        print("FAIL " + f)
    if not failures:
        print("ok")
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
