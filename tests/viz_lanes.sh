#!/bin/sh
# viz_lanes: --lanes draws a timeline lane per goroutine above the
# timeline. In worker_pool.lua's frame at 5s, the band holds the sleeping
# colour (the workers' and main's sleeps) and select's blue (the workers
# waiting for jobs, the autoscaler's ticker) over thousands of pixels; the
# same frame without --lanes holds neither there. The timeline's first
# marker (the pool's state "running") is drawn in the colour of its new
# state (bluish green), not in one colour for every state change. An
# event that recurs (a keep-alive's) is a small tick, not a marker.
#
# usage: viz_lanes.sh CHANSIM SCENARIOS_DIR
set -u
chansim=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/headless.sh"
"$chansim" run "$2/worker_pool.lua" --record "$tmp/l" --fps 4 --lanes >/dev/null 2>"$tmp/err" ||
    fail "--lanes: $(cat "$tmp/err")"
"$chansim" run "$2/worker_pool.lua" --record "$tmp/n" --fps 4 >/dev/null 2>"$tmp/err" || fail "$(cat "$tmp/err")"
f=frame_000021.png # 5s at 4 frames a second
count() { python3 "$here/png_stats.py" "$1" --count "$2" 24 505 1256 640 || fail "cannot read $1"; }
sleep_l=$(count "$tmp/l/$f" CC79A7)
select_l=$(count "$tmp/l/$f" 0072B2)
sleep_n=$(count "$tmp/n/$f" CC79A7)
select_n=$(count "$tmp/n/$f" 0072B2)
[ "$sleep_l" -ge 5000 ] || fail "the lanes hold $sleep_l sleeping pixels"
[ "$select_l" -ge 3000 ] || fail "the lanes hold $select_l select pixels"
[ "$sleep_n" -le 500 ] && [ "$select_n" -le 500 ] || fail "without --lanes the band holds $sleep_n, $select_n"
green=$(python3 "$here/png_stats.py" "$tmp/l/$f" --count 009E73 12 660 36 684) || fail "png"
[ "$green" -ge 10 ] || fail "the first state marker is not in its new state's colour ($green green pixels)"
# L in a window (SDL's dummy driver, scripted) shows them
"$chansim" run "$2/worker_pool.lua" --view --paused --view-script \
    "seek 5s,wait 300ms,shot $tmp/a.png,l,wait 300ms,shot $tmp/b.png,quit" >/dev/null 2>"$tmp/err" ||
    fail "--view: $(cat "$tmp/err")"
a=$(count "$tmp/a.png" CC79A7)
b=$(count "$tmp/b.png" CC79A7)
[ "$b" -ge $((a + 3000)) ] || fail "L in the window: $a sleeping pixels in the band before, $b after"
"$chansim" run "$2/worker_pool.lua" --lanes --until 1s >/dev/null 2>&1 && fail "--lanes without a view was accepted"
# Chatter: leader_election's periodic events (keep-alives) are ticks on
# the timeline, not diamonds burying the elections' markers.
"$chansim" run "$2/leader_election.lua" --record "$tmp/e" --fps 2 >/dev/null 2>"$tmp/err" || fail "$(cat "$tmp/err")"
e=frame_000070.png # 34.5s
sky=$(python3 "$here/png_stats.py" "$tmp/e/$e" --count 56B4E9 24 660 730 684) || fail "png"
ticks=$(python3 "$here/png_stats.py" "$tmp/e/$e" --count 555555 24 660 730 684) || fail "png"
[ "$sky" -le 250 ] && [ "$ticks" -ge 40 ] ||
    fail "leader_election's repeated events: $sky pixels of event diamonds, $ticks of ticks before the playhead"
# The lanes' axis is the story's: in tests/scenarios/lanes_story.lua the
# story ends at 2s (waiter, blocked on a mutex from the start, exits) and
# the run at 20s; the ticker's receives go on but tell nothing. At 10s the
# lanes span 0 to 2.5s, so the waiter's orange wait reaches past the
# middle of the frame (on the run's axis it would stop at a tenth), and
# the ticker's forty receives are one label ("RECV x40") at its lane's
# start, none further along.
"$chansim" run "$here/scenarios/lanes_story.lua" --record "$tmp/s" --fps 1 --lanes >/dev/null 2>"$tmp/err" ||
    fail "lanes_story: $(cat "$tmp/err")"
s=$tmp/s/frame_000011.png
orange=$(python3 "$here/png_stats.py" "$s" --count E69F00 640 560 940 630) || fail "png"
[ "$orange" -ge 2000 ] || fail "the lanes are not on the story's axis ($orange pixels of the waiter's wait past the middle)"
late=$(python3 "$here/png_stats.py" "$s" --count 161616 300 591 1250 604) || fail "png"
first=$(python3 "$here/png_stats.py" "$s" --count 161616 75 591 200 604) || fail "png"
[ "$late" -eq 0 ] && [ "$first" -ge 20 ] ||
    fail "the ticker's receives are not one counted label ($first text pixels at its start, $late further)"
# --markers: only the kinds chosen (worker_pool's first marker, a state
# change, is gone when only faults and failures are asked for)
"$chansim" run "$2/worker_pool.lua" --record "$tmp/m" --fps 4 --markers fault,failure >/dev/null 2>"$tmp/err" ||
    fail "--markers: $(cat "$tmp/err")"
green=$(python3 "$here/png_stats.py" "$tmp/m/$f" --count 009E73 12 660 36 684) || fail "png"
[ "$green" -eq 0 ] || fail "--markers fault,failure still draws the state marker ($green green pixels)"
"$chansim" run "$2/worker_pool.lua" --record "$tmp/x" --markers faults >/dev/null 2>&1
[ $? -eq 3 ] || fail "--markers faults (no such kind) was not refused with exit 3"
echo "viz_lanes: ok (sleep $sleep_l, select $select_l pixels in the lanes; $sleep_n, $select_n without)"
