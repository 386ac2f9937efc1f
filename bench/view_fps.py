#!/usr/bin/env python3
"""view_fps.py [CHANSIM]: what the view costs with many goroutines, as
ratios measured in one run of this script (CPU time, bench/cputime.py's
way: a loaded machine stretches wall time, not CPU time).

bench/lua/many_goroutines.lua with n = 100 and n = 10,000 goroutines:
  run_s       the run alone (chansim run --quiet)
  view_s      the same recorded with one frame a second (--record --fps 1):
              the view's two passes and its tracking of every event
  frames_s    the same at 20 frames a second: view_s plus 38 more frames
  fps         frames drawn per CPU second: 38 / (frames_s - view_s)
and the ratios: view_s / run_s (the view's overhead on the run), and
fps at 10,000 against fps at 100 (how much slower a frame of 10,000
goroutines draws; the view counts what it cannot show one by one).
The live window's first pass is bounded to 2 s of wall time; its frames
cost what these do."""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
chansim = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(here), "build", "chansim")
scen = os.path.join(here, "lua", "many_goroutines.lua")


def cpu(*args):
    out = subprocess.run([sys.executable, os.path.join(here, "cputime.py"), chansim, "run", scen] + list(args),
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("view_fps: chansim %s failed: %s" % (" ".join(args), out.stderr))
    return float(out.stdout)


env = dict(os.environ, SDL_VIDEODRIVER="dummy")
os.environ.update(env)
fps = {}
for n in (100, 10000):
    with tempfile.TemporaryDirectory() as d:
        run = cpu("--set", "n=%d" % n, "--quiet")
        view = cpu("--set", "n=%d" % n, "--quiet", "--record", os.path.join(d, "a"), "--fps", "1")
        frames = cpu("--set", "n=%d" % n, "--quiet", "--record", os.path.join(d, "b"), "--fps", "20")
    fps[n] = 38 / max(frames - view, 1e-3)
    print("n=%-6d run_s %.2f  view_s %.2f  frames_s %.2f  fps %.1f  view/run %.2f"
          % (n, run, view, frames, fps[n], view / run))
print("fps at 10000 / fps at 100: %.2f" % (fps[10000] / fps[100]))
