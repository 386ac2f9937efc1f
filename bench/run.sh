#!/bin/sh
# Build chansim-bench (bench/bench.c) and its Go twin (bench/go/bench.go),
# run them alternately REPS times (default 5) so that both see the same
# machine, and print the median of each figure and the ratios:
#   Go / chansim for the ns figures (how many times faster chansim is),
#   chansim / Go for timer operations per second (target >= 3),
#   chansim / Go for resident bytes per parked goroutine, on the run's
#   default 64 KiB stacks (one page each) and on 2 KiB small stacks
#   (go_spawn_stack; target <= 1),
#   SimGrid's 2,500 ns per message (the low end of its 2,500-3,800) /
#   chansim's ping-pong (target >= 30);
#   process start: `chansim run scenarios/hello.lua` (20 starts per rep)
#   against the same command with the view module preloaded (the display,
#   audio and font libraries every run used to load) and against
#   `lua5.4 -e ''` (the floor: an interpreter that does nothing);
#   Lua-level: each scenario of bench/lua/ as a whole `chansim run` process
#   (its millions of steps at simulated time 0 are allowed explicitly)
#   against its Go twin (bench/go/twins), by CPU time (bench/cputime.py),
#   Go / chansim (how many times faster chansim is; target >= 1 for
#   pingpong);
#   exploration throughput (bench/explore_rate.py): explore's runs per CPU
#   second against `chansim run` processes per CPU second on the four
#   pattern scenarios (target: >= 1,000 runs/s on 2 cores);
#   the race detector's overhead (bench/race_overhead.py): pattern scenarios
#   with --race against the same runs without, by instructions (callgrind,
#   when valgrind is installed) and maximum RSS (target <= 3).
# Environment: BUILD_DIR (default build-bench at the top), REPS,
# STACK_KIB (goroutine stack size for chansim; default the scheduler's).
# Needs cmake, a C compiler and Debian's golang-go; no network.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build-bench}
reps=${REPS:-5}
stack_kib=${STACK_KIB:-}

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" --target chansim-bench chansim -j2 >/dev/null
mkdir -p "$build/bench"
(cd "$here/go" && GOFLAGS= GOCACHE="${GOCACHE:-$build/go-cache}" \
    go build -o "$build/bench/go-bench" bench.go)
(cd "$here/go/twins" && GOFLAGS= GOCACHE="${GOCACHE:-$build/go-cache}" \
    go build -o "$build/bench/go-twins" main.go)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=1
while [ "$i" -le "$reps" ]; do
    echo "run $i/$reps: chansim" >&2
    if [ -n "$stack_kib" ]; then
        "$build/bench/chansim-bench" 1 "$stack_kib" >"$out/c.$i"
    else
        "$build/bench/chansim-bench" >"$out/c.$i"
    fi
    echo "run $i/$reps: go" >&2
    GOMAXPROCS=1 "$build/bench/go-bench" >"$out/go.$i"
    i=$((i + 1))
done

# starts CMD...: ms per start of CMD, over 20 starts.
starts() {
    t0=$(date +%s%N)
    k=0
    while [ $k -lt 20 ]; do
        "$@" >/dev/null 2>&1
        k=$((k + 1))
    done
    t1=$(date +%s%N)
    awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f\n", d / 20 / 1e6 }'
}
i=1
while [ "$i" -le "$reps" ]; do
    echo "run $i/$reps: process start" >&2
    {
        echo "start_ms $(starts env "$build/chansim" run "$root/scenarios/hello.lua")"
        echo "start_view_libs_ms $(starts env LD_PRELOAD="$build/chansim-view.so" "$build/chansim" run "$root/scenarios/hello.lua")"
        echo "start_lua_ms $(starts env lua5.4 -e '')"
    } >"$out/start.$i"
    i=$((i + 1))
done

# The Lua-level workloads and their sizes (bench/lua/NAME.lua, twins NAME N).
lua_work="pingpong:1000000 buffered:2000000 select:2000000 spawn:1000000 timers:100000 mutex:2000000"
i=1
while [ "$i" -le "$reps" ]; do
    echo "run $i/$reps: Lua-level workloads and their Go twins" >&2
    for wn in $lua_work; do
        w=${wn%%:*}
        n=${wn#*:}
        echo "lua_${w}_s $(python3 "$here/cputime.py" "$build/chansim" run --quiet --max-steps-per-instant 4000000000 "$here/lua/$w.lua" --set n="$n")" >>"$out/lua.$i"
        echo "lua_${w}_s $(GOMAXPROCS=1 python3 "$here/cputime.py" "$build/bench/go-twins" "$w" "$n")" >>"$out/luago.$i"
    done
    i=$((i + 1))
done

# median NAME PREFIX: the median of NAME's values over the runs PREFIX.*
median() {
    cat "$out/$2".* | awk -v n="$1" '$1 == n { print $2 }' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '%-22s %14s %14s %10s  %s\n' workload chansim go ratio "(median of $reps runs each)"
for name in pingpong_ns_per_msg buffered_ns_per_item spawn_exit_ns select4_ns \
            timer_ops_per_sec parked_rss_bytes timer_ops_per_sec_small parked_rss_bytes_small; do
    c=$(median "$name" c)
    g=$(median "${name%_small}" go)
    case $name in
    timer_ops_per_sec) r=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", c / g }'); what="chansim/Go (target >= 3)";;
    timer_ops_per_sec_small) r=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", c / g }'); what="chansim/Go, sleepers on 2 KiB stacks";;
    parked_rss_bytes) r=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", c / g }'); what="chansim/Go, the run's 64 KiB stacks (one page touched each)";;
    parked_rss_bytes_small) r=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", c / g }'); what="chansim/Go, 2 KiB stacks (go_spawn_stack; target <= 1)";;
    buffered_ns_per_item) r=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", g / c }'); what="Go/chansim (target >= 3)";;
    *) r=$(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.2f", g / c }'); what="Go/chansim (target >= 3)";;
    esac
    printf '%-22s %14s %14s %10s  %s\n' "$name" "$c" "$g" "$r" "$what"
done
pp=$(median pingpong_ns_per_msg c)
awk -v c="$pp" 'BEGIN { printf "%-22s %14s %14s %10.1f  %s\n", "simgrid_pingpong", c, 2500, 2500 / c, "SimGrid 2,500 ns/chansim (target >= 30)" }'
sv=$(median start_ms start)
vl=$(median start_view_libs_ms start)
lu=$(median start_lua_ms start)
awk -v c="$sv" -v v="$vl" 'BEGIN { printf "%-22s %14s %14s %10.2f  %s\n", "start_ms", c, v, v / c, "with view libs/chansim (baseline: view module preloaded)" }'
awk -v c="$sv" -v l="$lu" 'BEGIN { printf "%-22s %14s %14s %10.2f  %s\n", "start_ms_vs_lua", c, l, c / l, "chansim/lua5.4 -e \x27\x27 (the floor)" }'
for wn in $lua_work; do
    w=${wn%%:*}
    c=$(median "lua_${w}_s" lua)
    g=$(median "lua_${w}_s" luago)
    awk -v w="lua_$w" -v n="${wn#*:}" -v c="$c" -v g="$g" 'BEGIN { printf "%-22s %14s %14s %10.2f  %s\n", w, c, g, g / c, "Go/chansim, CPU s of the whole process, n=" n }'
done

# Exploration throughput: explore's workers against one process per run.
python3 "$here/explore_rate.py" --chansim "$build/chansim" --reps "$reps"

# The race detector's overhead: each pattern scenario with --race against the
# same run without it, measured here in the same invocation (instructions are
# the same on a loaded machine; the seed's races make --race exit 66).
python3 "$here/race_overhead.py" --chansim "$build/chansim"
