#!/usr/bin/env python3
"""The command line under hostile conditions: output paths, signals, lost
standard output, output limits and bad schedule files.

usage: hardening_test.py CHANSIM SOURCE_DIR

- output paths are checked before the run: the scenario itself, two outputs
  naming one file, a missing folder: exit 3 with the reason, nothing run;
  a device is written in place (never replaced by a regular file);
- SIGINT, SIGTERM and SIGHUP leave no FILE.partial-PID behind, and chansim
  dies of the signal; killing explore takes its workers down;
- standard output to /dev/full, closed, or cut by a file-size limit: exit 4
  with a message, never 0;
- --max-output stops a run that writes without end: exit 4, no file;
- bad schedule files (empty, binary, a folder, truncated, corrupt, another
  scenario's or seed's, an edited decision, one that runs out) are refused
  with exit 3 naming what does not match.
"""
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

CHANSIM = sys.argv[1]
SRC = sys.argv[2]
failures = 0
checks = 0


def check(ok, what, detail=""):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
        print("FAIL:", what)
        if detail:
            print("   ", detail[-2000:])


def run(args, **kw):
    p = subprocess.run([CHANSIM] + args, capture_output=True, text=True, timeout=120, **kw)
    return p.returncode, p.stdout, p.stderr


def partials(d):
    return [f for f in os.listdir(d) if ".partial-" in f]


tmp = tempfile.mkdtemp(prefix="chansim_hardening.")
os.chdir(tmp)
hello = os.path.join(SRC, "scenarios", "hello.lua")
pool = os.path.join(SRC, "scenarios", "worker_pool.lua")
with open("spin.lua", "w") as f:
    f.write('scenario{ name = "spin", duration = "1000h" }\n'
            'sim.go(function() while true do sim.sleep("1ms") end end)\n'
            'sim.sleep("999h")\n')
with open("chatty.lua", "w") as f:
    f.write('scenario{ name = "chatty", duration = "1000h" }\n'
            'for i = 1, 1e9 do print(string.rep("x", 1000)) sim.sleep("1ms") end\n')
with open("mine.lua", "w") as f:
    f.write('scenario{ name = "mine" }\nprint("hi")\n')

# ---- output paths -----------------------------------------------------------
before = open("mine.lua").read()
for flag in ["--trace", "--log", "--metrics", "--csv", "--schedule-out"]:
    rc, out, err = run(["run", "mine.lua", flag, "mine.lua"])
    check(rc == 3 and "the scenario itself" in err and out == "", f"{flag} SCENARIO refused", err)
check(open("mine.lua").read() == before, "the scenario is untouched")
rc, out, err = run(["run", "mine.lua", "--trace", "./../" + os.path.basename(tmp) + "/mine.lua"])
check(rc == 3 and "the scenario itself" in err, "the scenario by another name refused", err)
rc, out, err = run(["run", "mine.lua", "--trace", "F", "--log", "F"])
check(rc == 3 and "the same file as --log F" in err and "not written" not in err,
      "--trace F --log F refused before the run", err)
check(not os.path.exists("F"), "no F written")
for flag in ["--trace", "--log", "--metrics", "--csv", "--schedule-out", "--pprof", "--record"]:
    rc, out, err = run(["run", "mine.lua", flag, os.path.join(tmp, "no", "such", "x.out")])
    check(rc == 3 and "No such file or directory" in err and "hi" not in out,
          f"{flag} in a missing folder: exit 3 before the run", err)
rc, out, err = run(["explore", "mine.lua", "--runs", "2", "--repro-dir", os.path.join(tmp, "no", "such", "r")])
check(rc == 3 and "--repro-dir" in err and "No such file or directory" in err and out == "",
      "explore --repro-dir in a missing folder: exit 3 before any run", err)
rc, out, err = run(["explore", "mine.lua", "--runs", "2", "--repro-dir", "spin.lua"])
check(rc == 3 and "not a folder" in err, "explore --repro-dir FILE: exit 3", err)
rc, out, err = run(["explore", "mine.lua", "--runs", "2", "--repro-dir", "spin.lua/r"])
check(rc == 3 and "Not a directory" in err and "Permission denied" not in err and out == "",
      "explore --repro-dir FILE/r: the reason is Not a directory", err)
rc, out, err = run(["run", "mine.lua", "--pprof", "spin.lua/p"])
check(rc == 3 and "Not a directory" in err, "run --pprof FILE/p: Not a directory", err)
rc, out, err = run(["run", "mine.lua", "--trace", tmp])
check(rc == 3 and "Is a directory" in err, "--trace FOLDER refused", err)
rc, out, err = run(["run", "mine.lua", "--quiet", "--trace", "/dev/null", "--log", "/dev/null"])
check(rc == 0 and os.path.exists("/dev/null") and not os.path.isfile("/dev/null"),
      "/dev/null written in place, still a device", err)
rc, out, err = run(["run", "mine.lua", "--quiet", "--log", "-"])
check(rc == 0 and "main" in out, "--log - writes the log on standard output", out + err)
check(partials(tmp) == [], "no temporary file left by the path checks")

# ---- signals ------------------------------------------------------------------
for sig in [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]:
    p = subprocess.Popen([CHANSIM, "run", "spin.lua", "--quiet", "--trace", "t.json", "--log", "l.txt",
                          "--csv", "c.csv"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while len(partials(tmp)) < 3 and time.time() < deadline:
        time.sleep(0.02)
    check(len(partials(tmp)) == 3, f"{sig.name}: the run is writing", str(partials(tmp)))
    p.send_signal(sig)
    rc = p.wait(timeout=30)
    check(rc == -sig, f"{sig.name}: chansim dies of the signal", str(rc))
    check(partials(tmp) == [], f"{sig.name}: no FILE.partial-PID left", str(partials(tmp)))
    check(not os.path.exists("t.json"), f"{sig.name}: no half trace")

p = subprocess.Popen([CHANSIM, "explore", "spin.lua", "--jobs", "2", "--runs", "4"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(d))
            except OSError:
                pass
    return kids


deadline = time.time() + 30
while len(children(p.pid)) < 2 and time.time() < deadline:
    time.sleep(0.02)
workers = children(p.pid)
check(len(workers) == 2, "explore started its workers", str(workers))
p.send_signal(signal.SIGKILL)  # no chance to clean up: the workers go with it
p.wait(timeout=30)
deadline = time.time() + 10
while any(os.path.exists(f"/proc/{w}") and open(f"/proc/{w}/stat").read().split()[2] != "Z"
          for w in workers) and time.time() < deadline:
    time.sleep(0.05)
alive = [w for w in workers if os.path.exists(f"/proc/{w}") and open(f"/proc/{w}/stat").read().split()[2] != "Z"]
check(alive == [], "killing explore takes its workers down", str(alive))

# ---- lost standard output --------------------------------------------------------
with open("/dev/full", "w") as full:
    p = subprocess.run([CHANSIM, "run", "mine.lua"], stdout=full, stderr=subprocess.PIPE, text=True)
check(p.returncode == 4 and "standard output" in p.stderr and "No space left" in p.stderr,
      "stdout to /dev/full: exit 4", p.stderr)
with open("/dev/full", "w") as full:
    p = subprocess.run([CHANSIM, "explore", "mine.lua", "--runs", "3"], stdout=full, stderr=subprocess.PIPE,
                       text=True)
check(p.returncode == 4 and "No space left" in p.stderr, "explore's JSON to /dev/full: exit 4", p.stderr)
p = subprocess.run([CHANSIM, "run", "mine.lua"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                   preexec_fn=lambda: os.close(1))
check(p.returncode == 4 and "Bad file descriptor" in p.stderr, "closed stdout: exit 4", p.stderr)


def small_fsize():
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))


with open("cut.txt", "w") as cut:
    p = subprocess.run([CHANSIM, "run", pool], stdout=cut, stderr=subprocess.PIPE, text=True,
                       preexec_fn=small_fsize)
check(p.returncode == 4 and "File too large" in p.stderr, "stdout cut by a file-size limit: exit 4",
      f"{p.returncode} {p.stderr}")
rc, out, err = run(["run", pool, "--trace", "big.json", "--quiet"], preexec_fn=small_fsize)
check(rc == 4 and "File too large" in err and not os.path.exists("big.json") and partials(tmp) == [],
      "a trace cut by a file-size limit: exit 4, no file", err)

# ---- --max-output --------------------------------------------------------------------
rc, out, err = run(["run", "spin.lua", "--quiet", "--trace", "t.json", "--max-output", "1"])
check(rc == 4 and "output limit of 1 MiB" in err and "the run is stopped" in err and
      not os.path.exists("t.json") and partials(tmp) == [], "--max-output stops a trace without end", err)
check("result:       stopped: an output reached its limit" in out, "the summary says why", out)
rc, out, err = run(["run", "chatty.lua", "--max-output", "1"])
check(rc == 4 and "standard output: the output limit" in err and len(out) < 1200000,
      "--max-output bounds the program's output", err)
# explore's files: a reproducer of 1.5 MiB (300,000 decisions) under --max-output 1.
with open("big.lua", "w") as f:
    f.write('scenario{ name = "big", duration = "1000h" }\nlocal c = sim.chan()\n'
            'for w = 1, 3 do sim.go(function() for i = 1, 1e9 do c:send(i) end end) end\n'
            'for i = 1, 150000 do c:recv() end\nerror("enough")\n')
rc, out, err = run(["explore", "big.lua", "--runs", "1", "--repro-dir", "bigr", "--max-output", "1"])
check(rc == 4 and "output limit of 1 MiB" in err and os.listdir("bigr") == [],
      "explore --max-output: the reproducer not kept, exit 4", err)
rc, out, err = run(["explore", "mine.lua", "--help"])
check("--max-output MIB" in out, "--max-output in explore --help", out)
rc, out, err = run(["run", "mine.lua", "--help"])
check("--max-output MIB" in out and "exit 4" in out, "--max-output in --help", out)
rc, out, err = run(["--help"])
check("4 an output could not be written" in out, "exit 4 in chansim --help", out)

# ---- schedule files ------------------------------------------------------------------------
rc, out, err = run(["run", pool, "--quiet", "--strategy", "random", "--seed", "3", "--schedule-out", "s.txt"])
check(rc == 0, "a schedule recorded", err)
lines = open("s.txt").read().split("\n")
check(lines[0].startswith("# chansim schedule 1 scenario=") and " seed=3 " in lines[0] and
      " strategy=random " in lines[0], "the schedule names its run", lines[0])
rc2, out2, err2 = run(["replay", pool, "--quiet", "--schedule", "s.txt"])
check(rc2 == 0 and [l for l in out2.split("\n") if "trace hash" in l] ==
      [l for l in out.split("\n") if "trace hash" in l], "replay without --seed takes the schedule's", err2)
os.mkdir("adir")
with open("empty", "w"):
    pass
with open("bin", "wb") as f:
    f.write(b"\x7fELF\x02\x01\x01\x00" * 10)
with open("trunc", "w") as f:
    f.write("\n".join(lines)[:len(lines[0]) + 40])
with open("corrupt", "w") as f:
    f.write(lines[0] + "\n" + lines[1].replace(" ", " 9x", 1) + "\n" + "\n".join(lines[2:]))
with open("old", "w") as f:
    f.write("1 0 2 1\n")
bad = [("empty", [pool], "an empty file"), ("bin", [pool], "binary data"), ("adir", [pool], "a folder"),
       ("trunc", [pool], "truncated"), ("corrupt", [pool], "is not a decision"),
       ("old", [pool], "not a schedule written by --schedule-out"),
       ("s.txt", [hello], "another scenario"), ("s.txt", [pool, "--seed", "4"], "recorded with --seed 3"),
       ("s.txt", [pool, "--preempt", "10"], "--preempt 0"),
       ("s.txt", [pool, "--set", "variant=seed"], "--set"), ("nosuch", [pool], "No such file")]
for name, args, why in bad:
    rc, out, err = run(["run"] + args + ["--schedule", name])
    check(rc == 3 and why in err and "summary" not in out, f"--schedule {name} {args[1:]}: exit 3, {why}", err)

# A schedule whose header matches but whose decisions do not: a decision the
# run cannot take (an edited file), or a run that needs more decisions than
# recorded. Refused (exit 3) where the run leaves it, naming the decision, and
# no output kept.
first = lines[1].split()
with open("edited", "w") as f:
    f.write(lines[0] + "\n" + " ".join(["999999"] + first[1:]) + "\n" + "\n".join(lines[2:]))
rc, out, err = run(["run", pool, "--schedule", "edited", "--trace", "e.json", "--log", "e.log"])
check(rc == 3 and "decision 1 of " in err and "is 999999, but the run offers" in err and
      "does not belong to this run" in err and "summary" not in out,
      "--schedule with an edited decision: exit 3 naming it", f"{rc} {err}")
check(not os.path.exists("e.json") and not os.path.exists("e.log") and partials(tmp) == [],
      "--schedule with an edited decision: no output kept", str(os.listdir(tmp)))
with open("two.lua", "w") as f:
    f.write('scenario{ name = "two", duration = "1s" }\n'
            'local ch = sim.chan(0)\n'
            'for w = 1, 2 do sim.go(function() while true do sim.sleep("1ms"); ch:send(w) end end) end\n'
            'for i = 1, 800 do ch:recv() end\n')
rc, out, err = run(["run", "two.lua", "--quiet", "--strategy", "random", "--seed", "3", "--until", "100ms",
                    "--schedule-out", "short.txt"])
check(rc == 0, "a schedule recorded with --until", err)
rc, out, err = run(["run", "two.lua", "--quiet", "--schedule", "short.txt", "--until", "100ms"])
check(rc == 0 and "left the recorded schedule" not in err, "replayed as recorded", err)
rc, out, err = run(["run", "two.lua", "--schedule", "short.txt", "--trace", "s.json"])
check(rc == 3 and "the run needs more than its" in err and "shorter --until" in err and
      not os.path.exists("s.json") and partials(tmp) == [],
      "--schedule that runs out: exit 3, no output kept", f"{rc} {err}")

print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
