#!/usr/bin/env python3
"""cputime.py CMD...: run CMD (its output discarded) and print the CPU
seconds (user + system) it used. bench/run.sh compares whole processes by
CPU time rather than wall time: a Go program's time.Sleep waits real time
that chansim's simulated clock skips, and a loaded machine stretches wall
time."""
import resource
import subprocess
import sys

before = resource.getrusage(resource.RUSAGE_CHILDREN)  # what a launcher spent before exec
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if proc.returncode != 0:
    sys.exit("cputime: %s exited %d" % (" ".join(sys.argv[1:]), proc.returncode))
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f" % (r.ru_utime + r.ru_stime - before.ru_utime - before.ru_stime))
