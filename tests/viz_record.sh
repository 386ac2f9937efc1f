#!/bin/sh
# viz_record: `chansim run --record DIR` without a display. Recorded twice,
# a scenario gives the same frames byte for byte, named frame_000001.png
# on; the runs have the trace hash and output of a run without recording;
# frames are drawn (not blank); a bad option is a usage error (exit 3).
# Recorded into FILE.gif, the same frames make an animated GIF (identical
# twice, checked by tests/gif_stats.py); FILE.mp4 needs ffmpeg.
#
# usage: viz_record.sh CHANSIM SCENARIO.lua
set -u
chansim=$1
scenario=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/headless.sh"
command -v python3 >/dev/null 2>&1 || fail "python3 is missing (.ci/install-deps.sh)"

"$chansim" run "$scenario" >"$tmp/plain.txt" 2>"$tmp/plain.err"
plain_status=$?
for run in a b; do
    "$chansim" run "$scenario" --record "$tmp/$run" --fps 4 --size 960x540 >"$tmp/$run.txt" 2>"$tmp/$run.err"
    status=$?
    [ "$status" = "$plain_status" ] || fail "exit status $status with --record, $plain_status without: $(cat "$tmp/$run.err")"
    cmp -s "$tmp/plain.txt" "$tmp/$run.txt" || fail "the output with --record differs from the output without"
done
n=$(ls "$tmp/a" | wc -l)
[ "$n" -ge 2 ] || fail "only $n frames recorded"
[ -f "$tmp/a/frame_000001.png" ] || fail "no frame_000001.png"
[ "$(ls "$tmp/b" | wc -l)" = "$n" ] || fail "the second recording has $(ls "$tmp/b" | wc -l) frames, the first $n"
for f in "$tmp"/a/*; do
    cmp -s "$f" "$tmp/b/$(basename "$f")" || fail "$(basename "$f") differs between two recordings"
done
last=$(ls "$tmp/a" | tail -n 1)
python3 "$here/png_stats.py" "$tmp/a/frame_000001.png" || fail "the first frame is blank"
python3 "$here/png_stats.py" "$tmp/a/$last" || fail "the last frame is blank"
# Recording again into the folder replaces its frames.
"$chansim" run "$scenario" --record "$tmp/a" --fps 2 --size 960x540 >/dev/null 2>&1
n2=$(ls "$tmp/a" | wc -l)
[ "$n2" -lt "$n" ] || fail "a second recording at half the rate left $n2 frames (the first had $n)"
"$chansim" run "$scenario" --record "$tmp/c" --size 10x10 >/dev/null 2>&1
[ $? = 3 ] || fail "--size 10x10 is not a usage error"

# The same frames as one animated GIF: byte-identical twice, as many
# frames as the folder got, their delays adding up to the video's time
# (4 frames a second: 25 hundredths each), the last frame drawn.
for run in a b; do
    "$chansim" run "$scenario" --record "$tmp/$run.gif" --fps 4 --size 960x540 >"$tmp/gif$run.txt" 2>"$tmp/gif$run.err"
    [ "$?" = "$plain_status" ] || fail "exit status $? with --record FILE.gif: $(cat "$tmp/gif$run.err")"
done
cmp -s "$tmp/a.gif" "$tmp/b.gif" || fail "the GIF differs between two recordings"
set -- $(python3 "$here/gif_stats.py" "$tmp/a.gif") || fail "the GIF does not decode"
[ "$1x$2" = 960x540 ] || fail "the GIF is $1x$2, not 960x540"
[ "$3" = "$n" ] || fail "the GIF has $3 frames, the folder $n"
[ "$4" = "$((25 * n))" ] || fail "the GIF's delays add up to $4 hundredths of a second, not $((25 * n))"
[ "$5" -ge 12 ] || fail "the GIF's last frame has $5 colours: blank?"
# An MP4 is ffmpeg's: without it, a clear error and no file.
if ! command -v ffmpeg >/dev/null 2>&1; then
    "$chansim" run "$scenario" --record "$tmp/a.mp4" >/dev/null 2>"$tmp/mp4.err"
    [ "$?" = 3 ] || fail "--record FILE.mp4 without ffmpeg is not an error"
    grep -q "needs ffmpeg" "$tmp/mp4.err" || fail "--record FILE.mp4 without ffmpeg: $(cat "$tmp/mp4.err")"
    [ ! -e "$tmp/a.mp4" ] || fail "--record FILE.mp4 without ffmpeg left a file"
else
    "$chansim" run "$scenario" --record "$tmp/a.mp4" --fps 4 >/dev/null 2>"$tmp/mp4.err"
    [ -s "$tmp/a.mp4" ] || fail "--record FILE.mp4 wrote nothing: $(cat "$tmp/mp4.err")"
fi
echo "viz_record: ok ($n frames, identical twice, as PNG files and as a GIF)"
