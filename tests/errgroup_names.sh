#!/bin/sh
# errgroup goroutines named from Lua show their names in the goroutine dump,
# the race detector's report and the trace.
#   errgroup_names.sh CHANSIM SCENARIO WORKDIR
set -u
chansim=$1 scen=$2 dir=$3
mkdir -p "$dir"
fail() { echo "errgroup_names: $*" >&2; exit 1; }

"$chansim" run "$scen" --quiet --trace "$dir/eg.json" >"$dir/dump.out" 2>"$dir/dump.err"
[ $? -eq 2 ] || fail "the deadlock did not exit 2"
for want in 'stuck-recv(...)' 'stuck-send(...)' 'goroutine 2 (stuck-recv) [chan receive]' \
            'goroutine 3 (stuck-send) [chan send]'; do
    grep -qF "$want" "$dir/dump.out" "$dir/dump.err" || fail "the dump lacks '$want'"
done
for want in '"args":{"name":"stuck-recv"}' '"args":{"name":"stuck-send"}'; do
    tr -d ' \n' <"$dir/eg.json" | grep -qF "$want" || fail "the trace lacks $want"
done

"$chansim" run "$scen" --quiet --set mode=race --race >"$dir/race.out" 2>"$dir/race.err"
[ $? -eq 66 ] || fail "the race did not exit 66"
for want in 'Write at c by goroutine 3 (writer-b)' 'Previous write at c by goroutine 2 (writer-a)' \
            'Goroutine 3 (writer-b, running) created at' 'Goroutine 2 (writer-a, finished) created at'; do
    grep -qF "$want" "$dir/race.out" "$dir/race.err" || fail "the race report lacks '$want'"
done
echo "errgroup_names: ok"
