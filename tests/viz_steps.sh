#!/bin/sh
# viz_steps: a race at one instant, seen step by step.
#  1. --record-steps gives a run that takes no simulated time a frame per
#     goroutine step (without it: a frame at 0 and one at the end), and
#     the frames differ.
#  2. replay FILE --record DIR writes exactly one frame per decisive step
#     of the explanation it prints, and one at the end; the highlighted
#     step moves from frame to frame and the last step's frame marks the
#     failure in vermillion in the side panel.
#  3. replay FILE --view: the decision key (D) moves the highlighted step.
#
# usage: viz_steps.sh CHANSIM SCENARIOS_DIR
set -u
chansim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scen=$(cd "$2" && pwd)/bugs/check_then_act.lua
here=$(cd "$(dirname "$0")" && pwd)
. "$here/headless.sh"
count() { ls "$1" | grep -c '^frame_.*\.png$'; }
distinct() { (cd "$1" && md5sum frame_*.png | cut -d' ' -f1 | sort -u | wc -l); }

# 1. frames per step
"$chansim" run "$scen" --seed 3 --strategy random --record "$tmp/plain" >/dev/null 2>"$tmp/err" ||
    fail "run --record: $(cat "$tmp/err")"
"$chansim" run "$scen" --seed 3 --strategy random --record "$tmp/steps" --record-steps >/dev/null 2>"$tmp/err" ||
    fail "run --record --record-steps: $(cat "$tmp/err")"
plain=$(count "$tmp/plain")
steps=$(count "$tmp/steps")
[ "$steps" -ge $((plain + 8)) ] || fail "--record-steps wrote $steps frames, without it $plain: not one per step"
d=$(distinct "$tmp/steps")
[ "$d" -ge 5 ] || fail "--record-steps: only $d distinct frames of $steps"
"$chansim" run "$scen" --record-steps >/dev/null 2>&1 && fail "--record-steps without --record was accepted"

# 2. a reproducer's decisive steps, recorded
(cd "$tmp" && "$chansim" explore "$scen" --strategy random --runs 3 --race --repro-dir "$tmp/repro" >/dev/null 2>&1)
repro=$tmp/repro/check_then_act-random-seed3.json
[ -f "$repro" ] || fail "explore wrote no reproducer for seed 3: $(ls "$tmp/repro" 2>&1)"
"$chansim" replay "$repro" --record "$tmp/story" >"$tmp/out" 2>"$tmp/err" || fail "replay --record: $(cat "$tmp/err")"
grep -q '^reproduced' "$tmp/out" || fail "replay --record did not reproduce: $(cat "$tmp/out")"
rows=$(sed -n '/^--- the failing interleaving/,$p' "$tmp/out" | grep -c '^ *[0-9][0-9]*  ')
[ "$rows" -ge 3 ] || fail "the explanation has $rows steps: $(cat "$tmp/out")"
n=$(count "$tmp/story")
[ "$n" = $((rows + 1)) ] || fail "replay --record wrote $n frames for $rows decisive steps (want one each and the end)"
d=$(distinct "$tmp/story")
[ "$d" -ge $((rows / 2)) ] || fail "replay --record: only $d distinct frames of $n"
[ "$(grep -c 'WARNING: DATA RACE' "$tmp/err")" = 1 ] || fail "the race was reported more than once"
first=$(python3 "$here/png_stats.py" "$tmp/story/frame_000001.png" --count D55E00 952 60 1280 440) || fail "png"
lastf=$(printf 'frame_%06d.png' "$rows")
last=$(python3 "$here/png_stats.py" "$tmp/story/$lastf" --count D55E00 952 60 1280 440) || fail "png"
[ "$last" -ge $((first + 100)) ] || fail "the failing step's frame has $last vermillion pixels in the side panel, the first $first"

# 3. the decision key in a window (SDL's dummy driver, scripted)
"$chansim" replay "$repro" --view --paused \
    --view-script "wait 300ms,shot $tmp/a.png,d,d,wait 300ms,shot $tmp/b.png,quit" >/dev/null 2>"$tmp/err" ||
    fail "replay --view: $(cat "$tmp/err")"
[ -f "$tmp/a.png" ] && [ -f "$tmp/b.png" ] || fail "replay --view: no shots: $(cat "$tmp/err")"
cmp -s "$tmp/a.png" "$tmp/b.png" && fail "the decision key (D) did not move the view to the next decisive step"
echo "viz_steps: ok ($steps frames per step against $plain; $rows decisive steps, $n frames; $first -> $last red)"
