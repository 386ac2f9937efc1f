#!/bin/sh
# viz_deadlock: the last frame of a recorded deadlock draws the waits in
# red. Between the header and the timeline, left of the side panel, the
# frame of deadlock.lua holds vermillion only where the arrows of the
# deadlocked goroutines are (no token, card or badge there is vermillion);
# an earlier frame, before the run has ended in the deadlock, holds none.
#
# usage: viz_deadlock.sh CHANSIM SCENARIOS_DIR
set -u
chansim=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/headless.sh"
"$chansim" run "$2/deadlock.lua" --record "$tmp/f" --fps 100 >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "deadlock.lua did not end in a deadlock (exit 2): $(cat "$tmp/err")"
last=$(ls "$tmp/f" | tail -n 1)
red=$(python3 "$here/png_stats.py" "$tmp/f/$last" --count D55E00 0 60 940 640) || fail "cannot read $last"
[ "$red" -ge 400 ] || fail "the deadlock's last frame has $red vermillion pixels in its drawing: no red waits"
before=$(python3 "$here/png_stats.py" "$tmp/f/frame_000002.png" --count D55E00 0 60 940 640) || fail "cannot read frame 2"
[ "$before" = 0 ] || fail "frame 2, before the deadlock, has $before vermillion pixels in its drawing"
echo "viz_deadlock: ok ($red red pixels at the end, none before)"
