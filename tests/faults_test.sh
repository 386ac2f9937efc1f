#!/bin/sh
# faults: --faults FILE injects crashes, pauses and partitions by node
# name at the times it gives; the run says how to reproduce it; the same
# schedule gives the same run; a bad schedule is a usage error naming its
# line. Then the view: clicking a node under SDL's dummy driver (synthesised
# mouse events) and choosing "crash" injects the crash at the playhead, writes
# chansim-faults.txt, and the run goes on as that branch: the same trace as
# `chansim run --faults chansim-faults.txt`.
# usage: faults_test.sh CHANSIM SCENARIOS_DIR
chansim=$1
scen=$2/leader_election.lua
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
hash_of() { sed -n 's/^trace hash: *//p' "$1"; }

printf '# a crash and a restart\n3s crash node1\n5s restart node1\n\n6.5s partition node2 | etcd node3\n7s heal\n' > f.txt
"$chansim" run "$scen" --until 8s --faults f.txt --log log.txt > a.txt 2>a.err
grep -q '^3.000000000 g[0-9]* fault #[0-9]* crash node1$' log.txt || fail "no crash of node1 at 3s in the log"
grep -q '^5.000000000 g[0-9]* fault #[0-9]* restart node1$' log.txt || fail "no restart of node1 at 5s"
grep -q '^6.500000000 g[0-9]* fault #[0-9]* partition \[node2\] | \[etcd node3\]$' log.txt || fail "no partition at 6.5s"
grep -q '^7.000000000 g[0-9]* fault #[0-9]* heal$' log.txt || fail "no heal at 7s"
grep -q 'reproduce: .* --faults f.txt' a.txt || fail "the summary does not say --faults f.txt"
"$chansim" run "$scen" --until 8s --faults f.txt > b.txt 2>&1
[ "$(hash_of a.txt)" = "$(hash_of b.txt)" ] || fail "the same faults give another run"
"$chansim" run "$scen" --until 8s > c.txt 2>&1
[ "$(hash_of a.txt)" != "$(hash_of c.txt)" ] || fail "the faults changed nothing"

printf '1s crash node1\n2s explode node1\n' > bad.txt
"$chansim" run "$scen" --faults bad.txt > /dev/null 2>bad.err
[ $? = 3 ] || fail "a bad fault is not a usage error"
grep -q '^bad.txt:2: unknown fault "explode"' bad.err || fail "the bad fault's line is not named: $(cat bad.err)"
printf 'soon crash node1\n' > bad2.txt
"$chansim" run "$scen" --faults bad2.txt > /dev/null 2>bad.err
[ $? = 3 ] || fail "a bad time is not a usage error"
"$chansim" run "$scen" --faults missing.txt > /dev/null 2>bad.err
[ $? = 3 ] || fail "a missing schedule is not a usage error"
printf '1s crash node9\n' > none.txt
"$chansim" run "$scen" --until 2s --faults none.txt > /dev/null 2>none.err
grep -q 'no node node9' none.err || fail "a node the run lacks is not reported"
# The view: under SDL's dummy driver, paused at 2s, a click on node1 opens
# the menu, a click on "crash" injects it; the run goes on as that branch.
unset DISPLAY
export SDL_VIDEODRIVER=dummy
rm -f chansim-faults.txt
"$chansim" run "$scen" --until 6s --view --paused --view-script \
    "seek 2s,wait 300ms,click-on node node1,wait 200ms,shot menu.png,click-on menu crash,wait 300ms,seek 3s,wait 300ms,shot after.png,end,wait-end,quit" \
    > view.txt 2> view.err
[ -f chansim-faults.txt ] || fail "no chansim-faults.txt after the click: $(cat view.err)"
grep -qx '2.000000000s crash node1' chansim-faults.txt || fail "the schedule is not the crash at 2s: $(cat chansim-faults.txt)"
grep -q 'reproduce: .* --faults chansim-faults.txt' view.txt || fail "the view's run does not say --faults chansim-faults.txt"
"$chansim" run "$scen" --until 6s --faults chansim-faults.txt > replay.txt 2>&1
[ "$(hash_of view.txt)" = "$(hash_of replay.txt)" ] || fail "the branch made in the view is not the run --faults replays"
"$chansim" run "$scen" --until 6s > plain.txt 2>&1
[ "$(hash_of view.txt)" != "$(hash_of plain.txt)" ] || fail "the click changed nothing"
python3 "$here/png_stats.py" menu.png >/dev/null || fail "the menu's shot is blank"
# A click on the link between node1 and node2, then "cut": a partition.
rm -f chansim-faults.txt
"$chansim" run "$scen" --until 4s --view --paused --view-script \
    "seek 1s,wait 300ms,click-on link node1 node2,wait 200ms,click-on menu cut,wait 300ms,end,wait-end,quit" \
    > view2.txt 2> view2.err
grep -qx '1.000000000s partition node1 | node2' chansim-faults.txt || fail "the link's cut is not in the schedule: $(cat view2.err)"
echo "faults: ok"
