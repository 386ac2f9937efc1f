#!/usr/bin/env python3
"""chansim run --diagram FILE.svg: the space-time diagram, parsed as XML.

pipeline: one line per goroutine the run spawned, one arrow per value
handed from one goroutine to another (each receive paired with the oldest
unmatched send of its channel by a goroutine, computed here from the run's
--log), each arrow named by its channel. election_partition: one line per
node, one arrow per delivered message, one dropped arrow per dropped
message, one mark per fault, all counted from --log. Two runs write the
same bytes; the trace hash is that of a run without --diagram; a diagram
that cannot be created leaves no file and fails the run.

usage: diagram_test.py CHANSIM SOURCE_DIR
"""
import collections
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

chansim, src = sys.argv[1], sys.argv[2]
SVG = "{http://www.w3.org/2000/svg}"
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run(scenario, *args):
    p = subprocess.run([chansim, "run", os.path.join(src, "scenarios", scenario), *args],
                       capture_output=True, text=True)
    m = re.search(r"trace hash:\s+(\w+)", p.stdout)
    return p.returncode, m.group(1) if m else None


def classes(root):
    c = collections.Counter()
    for el in root.iter():
        if el.get("class"):
            c[(el.tag.replace(SVG, ""), el.get("class"))] += 1
    return c


def handoffs(log):
    """Values handed over: a receive paired with the oldest pending send of
    its channel by a goroutine (not the runtime's, a timer's)."""
    pending = collections.defaultdict(collections.deque)
    n = 0
    for line in open(log):
        f = line.split()
        if len(f) < 4:
            continue
        if f[2] == "chan.send" and f[1] != "g0":
            pending[f[3]].append(f[1])
        elif f[2] == "chan.recv" and pending[f[3]]:
            sender = pending[f[3]].popleft()
            n += sender != f[1]
    return n


def count(log, kind):
    return sum(1 for line in open(log) if line.split()[2:3] == [kind])


with tempfile.TemporaryDirectory() as tmp:
    # Goroutines and channels.
    svg, log = os.path.join(tmp, "p.svg"), os.path.join(tmp, "p.log")
    rc, h = run("pipeline.lua", "--diagram", svg, "--log", log)
    check(rc == 0, "pipeline with --diagram exits 0")
    root = ET.parse(svg).getroot()
    c = classes(root)
    check(c[("line", "lane")] == count(log, "go.spawn"),
          "pipeline: %d lines for %d goroutines" % (c[("line", "lane")], count(log, "go.spawn")))
    want = handoffs(log)
    check(want > 0 and c[("line", "chan")] == want, "pipeline: %d channel arrows, want %d" % (c[("line", "chan")], want))
    names = {t.text for line in root.iter(SVG + "line") if line.get("class") == "chan"
             for t in line.iter(SVG + "title")}
    check(names == {"Source", "Validate", "Transform", "ParallelStage", "Enrich"},
          "pipeline: arrows named by their channels: %s" % sorted(names))
    for line in root.iter(SVG + "line"):
        if line.get("class") == "chan":
            check(float(line.get("y2")) > float(line.get("y1")), "an arrow goes down (later)")
            break
    svg2 = os.path.join(tmp, "p2.svg")
    rc2, h2 = run("pipeline.lua", "--diagram", svg2)
    check(open(svg, "rb").read() == open(svg2, "rb").read(), "pipeline: two runs write the same bytes")
    rc3, h3 = run("pipeline.lua")
    check(h == h3 and h is not None, "pipeline: the trace hash is unchanged by --diagram")

    # Nodes and messages.
    svg, log = os.path.join(tmp, "e.svg"), os.path.join(tmp, "e.log")
    rc, h = run("election_partition.lua", "--diagram", svg, "--log", log)
    root = ET.parse(svg).getroot()
    c = classes(root)
    delivered, dropped, faults = count(log, "net.deliver"), count(log, "net.drop"), count(log, "fault")
    check(delivered > 0 and c[("line", "net")] == delivered,
          "election_partition: %d message arrows, want %d" % (c[("line", "net")], delivered))
    check(dropped > 0 and c[("line", "drop")] == dropped,
          "election_partition: %d dropped arrows, want %d" % (c[("line", "drop")], dropped))
    check(c[("g", "fault")] == faults, "election_partition: %d fault marks, want %d" % (c[("g", "fault")], faults))
    heads = [t.text for t in root.iter(SVG + "text") if t.get("class") == "head"]
    check(c[("line", "lane")] == len(heads) and "node1" in heads and "node2" in heads and "node3" in heads,
          "election_partition: a line per node: %s" % heads)

    # Whole or not at all.
    bad = os.path.join(tmp, "no", "such", "dir", "d.svg")
    rc, _ = run("pipeline.lua", "--diagram", bad)
    check(rc != 0 and not os.path.exists(bad), "an uncreatable diagram fails the run and leaves no file")
    check(not [f for f in os.listdir(tmp) if "partial" in f], "no partial file left behind")

print("diagram: %d failures" % len(failures))
sys.exit(1 if failures else 0)
