#!/bin/sh
# viz_window: the view in a real window. Under Xvfb (a virtual X server)
# `chansim run --view` opens its window; xdotool finds it and presses keys
# as a user would (step, play, run to the next marker, the keys overlay,
# the screenshot key, quit). The screenshot must show a drawn frame (many
# colours, not a flat ground) and the run must end as it does without the
# view, with the same trace hash. A second run drives the window with
# --view-script (SDL events), seeks back and forth (a seek back re-runs the
# scenario) and checks the same.
#
# Nothing is skipped: without Xvfb, xvfb-run, xdotool or python3 the test
# fails and names the package to install (.ci/install-deps.sh).
#
# usage: viz_window.sh CHANSIM SCENARIO.lua
set -u
chansim=$1
scenario=$2
here=$(cd "$(dirname "$0")" && pwd)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

command -v Xvfb >/dev/null 2>&1 || fail "Xvfb is missing: install the xvfb package (.ci/install-deps.sh)"
command -v xvfb-run >/dev/null 2>&1 || fail "xvfb-run is missing: install the xvfb package (.ci/install-deps.sh)"
command -v xdotool >/dev/null 2>&1 || fail "xdotool is missing: install the xdotool package (.ci/install-deps.sh)"
command -v python3 >/dev/null 2>&1 || fail "python3 is missing (.ci/install-deps.sh)"

if [ -z "${CHANSIM_IN_XVFB:-}" ]; then
    # xvfb-run -a looks for a free display from the one given: start at one
    # of our own, so that test runs in parallel (other build folders) do
    # not race for :99.
    CHANSIM_IN_XVFB=1 exec xvfb-run -a -n $((100 + $$ % 800)) -s "-screen 0 1600x1000x24" sh "$0" "$@"
fi
[ -n "${DISPLAY:-}" ] || fail "xvfb-run gave no DISPLAY"
unset SDL_VIDEODRIVER

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || fail "no temporary folder"

"$chansim" run "$scenario" --quiet >plain.txt 2>plain.err
plain_status=$?
want=$(sed -n 's/^trace hash: *//p' plain.txt)
[ -n "$want" ] || fail "the plain run printed no trace hash: $(cat plain.err)"

# 1. Real key presses.
"$chansim" run "$scenario" --quiet --view --paused >view.txt 2>view.err &
pid=$!
wid=$(timeout 30 xdotool search --sync --onlyvisible --name '^chansim' 2>/dev/null | head -n 1)
if [ -z "$wid" ]; then
    kill "$pid" 2>/dev/null
    fail "no chansim window appeared: $(cat view.err)"
fi
xdotool windowfocus --sync "$wid" 2>/dev/null || true
press() {
    if ! xdotool key --window "$wid" "$1"; then
        kill "$pid" 2>/dev/null
        wait "$pid"
        fail "xdotool could not press $1 (the window is gone; chansim exited with $?): $(tail -n 40 view.err)"
    fi
    sleep "${2:-0.3}"
}
press s
press s
press period
press space 1.0
press n 0.6
press question 0.4
press question 0.2
press p 0.8
press p 0.8
# The last key closes the window: chansim may be gone before xdotool sends
# the key's release, which is then an X error, not a failure.
xdotool key --window "$wid" q 2>/dev/null || true
wait "$pid"
view_status=$?
[ "$view_status" = "$plain_status" ] || fail "exit status $view_status with --view, $plain_status without: $(cat view.err)"
got=$(sed -n 's/^trace hash: *//p' view.txt)
[ "$got" = "$want" ] || fail "trace hash $got with --view, $want without"
[ -f chansim-shot-001.png ] || fail "the screenshot key saved nothing: $(cat view.err)"
python3 "$here/png_stats.py" chansim-shot-001.png || fail "the screenshot is blank"
# Paused, the second shot shows the same frame: the toast saying the first
# was saved is the view's own message, not part of the picture.
[ -f chansim-shot-002.png ] || fail "the second screenshot was not saved: $(cat view.err)"
cmp -s chansim-shot-001.png chansim-shot-002.png ||
    fail "two screenshots of the paused view differ (the toast of the first in the second?)"

# 2. Scripted input: step, play, seek forward and back (a re-run), the end.
"$chansim" run "$scenario" --quiet --view --paused --view-script \
    "wait 300ms,s,s,space,wait 700ms,right,right,wait 400ms,left,wait 600ms,shot $tmp/scripted.png,end,wait-end,shot $tmp/end.png,quit" \
    >script.txt 2>script.err
script_status=$?
[ "$script_status" = "$plain_status" ] || fail "exit status $script_status with --view-script, $plain_status without: $(cat script.err)"
got=$(sed -n 's/^trace hash: *//p' script.txt)
[ "$got" = "$want" ] || fail "trace hash $got with --view-script, $want without"
for f in scripted.png end.png; do
    [ -f "$f" ] || fail "--view-script saved no $f: $(cat script.err)"
    python3 "$here/png_stats.py" "$f" || fail "$f is blank"
done
# A shot that cannot be written says so (and the run still ends as usual).
"$chansim" run "$scenario" --quiet --view --paused --view-script "shot $tmp/no/such/dir/x.png,quit" \
    >bad.txt 2>bad.err
[ "$?" = "$plain_status" ] || fail "a screenshot that could not be written changed the exit status: $(cat bad.err)"
grep -q "screenshot $tmp/no/such/dir/x.png not saved" bad.err ||
    fail "a screenshot that could not be written was not reported: $(cat bad.err)"

echo "viz_window: ok (trace hash $want)"
