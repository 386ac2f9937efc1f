#!/usr/bin/env python3
"""Every `chansim run` command line in the user docs runs as the doc says.

    docs_commands_test.py CHANSIM SOURCE_DIR

A command line is a line of a code block (fenced, not Lua, or indented) of
README.md or docs/*.md that starts (after `$ ` or after `&&`) with
`chansim run` or `./build/chansim run`, and names no placeholder (an
upper-case word such as SCENARIO or FILE, `...`, `[`). Each runs through
sh, as written (a trailing backslash joins the next line), in a folder of
its own that sees the source's scenarios/ and bench/, with `chansim` on the
PATH, /tmp/ paths moved into that folder, and, for `--view`, SDL's dummy
video driver and a `--view-script` that plays the run to its end and
quits (unless the line has its own). What the doc implies is checked:

- the exit status: `exit N` in the line's comment or in a sentence right
  after the block that starts with `(exit N`, `exit status: N` in the
  output the doc shows, else 0;
- text in double quotes in the line's comment appears in the output;
- a line whose comment says `when X is installed` is refused (exit 3,
  naming X) when X is not on the PATH, and runs (exit 0) when it is;
- the output the doc shows: in a block with `$ ` prompts, the lines after
  a command up to the next prompt; in a block without, the lines right
  after a command that are not commands themselves. Each shown line
  (`...` stands for lines left out) appears in the output.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 300
CMD_START = re.compile(r"^(?:\$\s+)?(?:.*&&\s*)?(\./build/chansim run\b.*|chansim run\b.*)$")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{1,}\b|\.\.\.|\[")
NOT_OUTPUT = re.compile(r"^(\$ |chansim |\./build/|go |sh |cmake |python3 |git |\(|#)")


def strip_comment(line):
    """The command and its trailing comment (# outside quotes)."""
    q = None
    for i, ch in enumerate(line):
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def code_blocks(text):
    """(first line number, lines, prompted, text after the block)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)", lines[i])
        if m:
            lang = m.group(2)
            j = i + 1
            while j < len(lines) and not re.match(r"^\s*```", lines[j]):
                j += 1
            body = lines[i + 1:j]
            if lang != "lua":
                yield i + 2, body, any(l.lstrip().startswith("$ ") for l in body), \
                    "\n".join(lines[j + 1:j + 4])
            i = j + 1
            continue
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            body = [l[4:] for l in lines[i:j]]
            while body and not body[-1].strip():
                body.pop()
            yield i + 1, body, any(l.startswith("$ ") for l in body), "\n".join(lines[j:j + 3])
            i = j
            continue
        i += 1


def commands(src):
    files = [os.path.join(src, "README.md")] + sorted(
        os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
    for path in files:
        text = open(path, encoding="utf-8").read()
        for first, body, prompted, after in code_blocks(text):
            k = 0
            while k < len(body):
                raw = body[k].strip()
                lineno = first + k
                k += 1
                while raw.endswith("\\") and k < len(body):
                    raw = raw[:-1].rstrip() + " " + body[k].strip()
                    k += 1
                cmd, comment = strip_comment(raw)
                m = CMD_START.match(cmd)
                if not m or PLACEHOLDER.search(re.split(r"\||&&", m.group(1))[0]):
                    continue
                shown = []
                while k < len(body):
                    nxt = body[k].strip()
                    if prompted:
                        if nxt.startswith("$ "):
                            break
                    elif not nxt or NOT_OUTPUT.match(nxt):
                        break
                    shown.append(nxt)
                    k += 1
                yield os.path.relpath(path, src), lineno, m.group(1), comment, shown, \
                    after if k >= len(body) else ""


def expected_exit(comment, shown, after):
    m = re.search(r"when (\S+) is installed", comment)
    if m and not shutil.which(m.group(1)):
        return 3  # refused, naming what is missing (checked by the caller)
    for text in (comment, after.lstrip()[:12] if after.lstrip().startswith("(exit") else ""):
        m = re.search(r"\bexit (\d+)", text)
        if m:
            return int(m.group(1))
    for line in shown:
        m = re.match(r"exit status:\s+(\d+)$", line)
        if m:
            return int(m.group(1))
    return 0


def main():
    chansim, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    failures, ran = [], 0
    top = tempfile.mkdtemp(prefix="chansim-docs-commands-")
    try:
        bindir = os.path.join(top, "bin")
        os.mkdir(bindir)
        os.symlink(chansim, os.path.join(bindir, "chansim"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                   SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        for n, (doc, line, cmd, comment, shown, after) in enumerate(commands(src)):
            where = "%s:%d: %s" % (doc, line, cmd)
            cwd = os.path.join(top, "run%d" % n)
            os.mkdir(cwd)
            for d in ("scenarios", "bench"):
                os.symlink(os.path.join(src, d), os.path.join(cwd, d))
            run = cmd.replace("./build/chansim", "chansim").replace("/tmp/", cwd + "/")
            if "--view" in run.split() and "--view-script" not in run:
                run = re.sub(r"(chansim run [^|&]*)", r"\1 --view-script end,wait-end,quit", run, 1)
            want = expected_exit(comment, shown, after)
            try:
                p = subprocess.run(["sh", "-c", run + " 2>&1"], cwd=cwd, env=env, timeout=TIMEOUT,
                                   stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                failures.append("%s: still running after %ds" % (where, TIMEOUT))
                continue
            ran += 1
            out = p.stdout.decode("utf-8", "replace")
            if p.returncode != want:
                failures.append("%s: exit %d, the doc implies %d\n%s" % (where, p.returncode, want,
                                                                        out[-1500:]))
                continue
            musts = re.findall(r'"([^"]+)"', comment) + [s for s in shown if s and s != "..."]
            m = re.search(r"when (\S+) is installed", comment)
            if m and not shutil.which(m.group(1)):
                musts.append(m.group(1))
            for s in musts:
                if s not in out and " ".join(s.split()) not in " ".join(out.split()):
                    failures.append("%s: the output lacks %r\n%s" % (where, s, out[-1500:]))
                    break
    finally:
        shutil.rmtree(top, ignore_errors=True)
    for f in failures:
        print("FAIL " + f + "\n")
    print("docs_commands: %d command lines run, %d failed" % (ran, len(failures)))
    if ran < 50:
        print("FAIL: too few command lines found (%d): the extraction is broken" % ran)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
