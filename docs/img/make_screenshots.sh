#!/bin/sh
# Regenerates the screenshots in docs/img/ with the view itself: each
# scenario is recorded headless (chansim run --record, no display needed)
# and the frame at a chosen simulated time is kept. Frames are
# deterministic, so running this twice gives the same files; commit them
# when the view or a scenario changes.
#
# usage: docs/img/make_screenshots.sh [CHANSIM]   (default: build/chansim,
#        configured and built first if missing)
set -eu
cd "$(dirname "$0")/../.."
chansim=${1:-build/chansim}
if [ ! -x "$chansim" ]; then
    cmake -S . -B build >/dev/null
    cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target chansim >/dev/null
    chansim=build/chansim
fi
out=docs/img
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fps=4

# shot NAME SCENARIO SECONDS [SPEED [FLAG]]: the frame at SECONDS of
# simulated time ("end": the last frame, how the run ended), recorded at
# SPEED simulated seconds per second of video (default 1; below 1 the
# moving values are drawn closer together in time), with a view FLAG.
shot() {
    name=$1 scenario=$2 at=$3 speed=${4:-1} flag=${5:-}
    rm -rf "$tmp/frames"
    "$chansim" run "scenarios/$scenario" --record "$tmp/frames" --fps "$fps" --speed "$speed" --slowdown 1 $flag \
        >/dev/null 2>"$tmp/err" || true
    if [ "$at" = end ]; then
        frame=$(ls "$tmp/frames" | tail -n 1)
    else
        frame=$(awk -v t="$at" -v f="$fps" -v s="$speed" 'BEGIN { printf "frame_%06d.png", int(t * f / s + 0.5) + 1 }')
    fi
    if [ ! -f "$tmp/frames/$frame" ]; then
        echo "make_screenshots: $scenario gave no $frame" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
    cp "$tmp/frames/$frame" "$out/$name.png"
    echo "$out/$name.png  ($scenario, $at)"
}

shot ping_pong ping_pong.lua 0.25
shot deadlock deadlock.lua end
shot circuit_breaker_open circuit_breaker.lua 5
shot circuit_breaker_half_open circuit_breaker.lua 9.25
shot worker_pool worker_pool.lua 2.5
shot worker_pool_lanes worker_pool.lua 5 1 --lanes
shot fan_out_fan_in fan_out_fan_in.lua 0.25 0.25
shot pipeline pipeline.lua 0.1 0.1
shot contention contention.lua 12
shot graceful_degradation graceful_degradation.lua 19.5
shot leader_election leader_election.lua 34.5
shot election_partition election_partition.lua 9

# A reproducer replayed step by step (docs/view.md, "Replaying a
# reproducer"): the frame of its fourth decisive step.
"$chansim" explore scenarios/bugs/check_then_act.lua --strategy random --runs 3 --race \
    --repro-dir "$tmp/repro" >/dev/null 2>&1 || true
rm -rf "$tmp/frames"
"$chansim" replay "$tmp/repro/check_then_act-random-seed3.json" --record "$tmp/frames" >/dev/null 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    exit 1
}
cp "$tmp/frames/frame_000004.png" "$out/replay_check_then_act.png"
echo "$out/replay_check_then_act.png  (bugs/check_then_act.lua, a reproducer's step 4)"
shot split_brain split_brain_fencing.lua 7.25
shot fencing_refused split_brain_fencing.lua 12.75
