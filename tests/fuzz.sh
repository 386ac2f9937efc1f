#!/bin/sh
# Fuzz the scenario loader and the Lua API with libFuzzer (Debian's clang-14
# and libclang-rt-14-dev, installed by .ci/install-deps.sh), under
# AddressSanitizer, LeakSanitizer and UBSan. docs/limits.md, "Fuzzing", says
# more.
#
#   sh tests/fuzz.sh                 fuzz until stopped (Ctrl-C), on one core
#   sh tests/fuzz.sh 3600            fuzz for an hour
#   JOBS=2 sh tests/fuzz.sh 28800    eight hours on 2 cores (libFuzzer -fork)
#   sh tests/fuzz.sh --ci            the test suite's run (CTest "fuzz" in the
#                                    sanitized build): 1,500 inputs from seed 1
#                                    (about a minute of CPU), nothing kept but
#                                    a failing input
#   sh tests/fuzz.sh --build-only    only build the target
#   sh tests/fuzz.sh FILE...         re-run saved inputs (a crash-* file)
#   sh tests/fuzz.sh --minimize FILE shrink a failing input to a smaller one
#                                    that fails the same way
#
# The target is tests/fuzz/fuzz_scenario.c, built in $CHANSIM_FUZZ_BUILD
# (default build-fuzz/). New inputs that reach new code go to
# $CHANSIM_FUZZ_CORPUS (default build-fuzz/corpus/, kept between runs: a
# long run goes on from where the last one stopped); the seeds are
# scenarios/ and tests/broken/. A crash, a sanitizer report, a leak or an
# input slower than 60 s (--ci: 600 s) is saved as build-fuzz/crash-*, leak-*, timeout-*
# or oom-* and the fuzzing goes on: re-run one with `sh tests/fuzz.sh FILE`,
# or as a scenario with `chansim run FILE`.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${CHANSIM_FUZZ_BUILD:-$src/build-fuzz}
mode=long
secs=0
case "${1:-}" in
    --ci) mode=ci ;;
    --build-only) mode=build ;;
    --minimize) mode=minimize; shift ;;
    "") ;;
    *[!0-9]*) mode=files ;;
    *) secs=$1 ;;
esac

cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
    echo "fuzz.sh: clang is needed (apt-get install clang-14 libclang-rt-14-dev)" >&2
    # --ci: CTest's "fuzz" reports a skip (SKIP_RETURN_CODE 77), not a pass.
    if [ "$mode" = ci ]; then
        echo "fuzz.sh: SKIPPED: no clang, the scenario fuzzer was not run" >&2
        exit 77
    fi
    exit 1
fi
launcher=""
if command -v ccache >/dev/null; then launcher="-DCMAKE_C_COMPILER_LAUNCHER=ccache"; fi
log="$build/fuzz-build.log"
mkdir -p "$build"
# shellcheck disable=SC2086
if ! cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
        -DCHANSIM_SANITIZE=ON -DCHANSIM_FUZZ=ON $launcher >"$log" 2>&1 ||
   ! cmake --build "$build" --target chansim-fuzz-scenario -j"${BUILD_JOBS:-2}" >>"$log" 2>&1; then
    tail -40 "$log" >&2
    exit 1
fi
fuzzer="$build/tests/chansim-fuzz-scenario"
[ "$mode" = build ] && exit 0

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
# -timeout: a generous wall-clock bound (an input costs milliseconds to a
# few seconds: the fuzz target bounds every run by steps and instructions,
# not time); in --ci ten minutes, so that a loaded machine (the slowest
# seed, deep_recursion.lua, took 34 s of wall clock at 10% of a core) never
# turns a slow input into a failure, while a hang still fails the test.
timeout=60
[ "$mode" = ci ] && timeout=600
common="-dict=$src/tests/fuzz/scenario.dict -max_len=8192 -timeout=$timeout -rss_limit_mb=2560 -close_fd_mask=3"

if [ "$mode" = files ]; then
    # shellcheck disable=SC2086
    exec "$fuzzer" $common "$@"
fi
if [ "$mode" = minimize ]; then
    [ $# -eq 1 ] || { echo "usage: sh tests/fuzz.sh --minimize FILE" >&2; exit 3; }
    # shellcheck disable=SC2086
    exec "$fuzzer" $common -minimize_crash=1 -runs="${FUZZ_RUNS:-2000}" \
        -exact_artifact_path="$1.min" "$1"
fi

seeds="$src/scenarios $src/tests/broken"
if [ "$mode" = ci ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/chansim-fuzz-ci.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # Deterministic: a fixed seed and a fixed number of inputs over the seed
    # corpus (no time budget), so a pass is a pass on every machine and a
    # failure fails again.
    status=0
    # shellcheck disable=SC2086
    "$fuzzer" $common -seed=1 -runs="${FUZZ_RUNS:-1500}" -artifact_prefix="$work/" \
        -print_final_stats=1 "$work" $seeds || status=$?
    found=""
    for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
        [ -f "$f" ] && found="$found $f"
    done
    if [ -n "$found" ]; then
        mkdir -p "$build/ci-failures"
        for f in $found; do
            cp "$f" "$build/ci-failures/"
            { echo "--- $build/ci-failures/$(basename "$f") (re-run: sh tests/fuzz.sh FILE)"
              head -c 2000 "$f"; echo; } >&2
        done
        exit 1
    fi
    exit $status
fi

corpus=${CHANSIM_FUZZ_CORPUS:-$build/corpus}
mkdir -p "$corpus"
# libFuzzer's fork mode: JOBS processes fuzz at once, and a failing input
# is saved and the fuzzing goes on (-ignore_crashes), so that a night's run
# collects every failure instead of stopping at the first.
set -- $common -artifact_prefix="$build/" -print_final_stats=1 -fork="${JOBS:-1}" -ignore_crashes=1
[ "$secs" -gt 0 ] && set -- "$@" -max_total_time="$secs"
# shellcheck disable=SC2086
exec "$fuzzer" "$@" "$corpus" $seeds
