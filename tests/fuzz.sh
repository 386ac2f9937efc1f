#!/bin/sh
# Fuzz the scenario loader and the Lua API with libFuzzer (clang, Debian's
# clang and libclang-rt-14-dev), under AddressSanitizer and UBSan.
#
#   sh tests/fuzz.sh                 fuzz until stopped (Ctrl-C), on one core
#   sh tests/fuzz.sh 3600            fuzz for an hour
#   sh tests/fuzz.sh --ci            the CI's run: a fixed seed and number of
#                                    inputs (about a minute), nothing kept
#   JOBS=4 sh tests/fuzz.sh 28800    eight hours on 4 cores (libFuzzer -jobs)
#   sh tests/fuzz.sh --build-only    only build the target
#   sh tests/fuzz.sh FILE...         re-run saved inputs (a crash-* file)
#
# The target is tests/fuzz/fuzz_scenario.c, built in $CHANSIM_FUZZ_BUILD
# (default build-fuzz/). New inputs that reach new code go to
# $CHANSIM_FUZZ_CORPUS (default build-fuzz/corpus/, kept between runs: a
# long run goes on from where the last one stopped); the seeds are
# scenarios/ and tests/broken/. A crash, a sanitizer report, a leak or an
# input slower than 10 s stops the run and is saved as build-fuzz/crash-*,
# leak-* or timeout-*: re-run it with `sh tests/fuzz.sh FILE`, or as a
# scenario with `chansim run FILE`.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${CHANSIM_FUZZ_BUILD:-$src/build-fuzz}
mode=long
secs=0
case "${1:-}" in
    --ci) mode=ci ;;
    --build-only) mode=build ;;
    "") ;;
    *[!0-9]*) mode=files ;;
    *) secs=$1 ;;
esac

cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
    echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
fi
launcher=""
if command -v ccache >/dev/null; then launcher="-DCMAKE_C_COMPILER_LAUNCHER=ccache"; fi
# shellcheck disable=SC2086
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug -DCHANSIM_SANITIZE=ON \
      -DCHANSIM_FUZZ=ON $launcher >/dev/null
log="$build/fuzz-build.log"
if ! cmake --build "$build" --target chansim-fuzz-scenario -j"${BUILD_JOBS:-2}" >"$log" 2>&1; then
    tail -40 "$log" >&2
    exit 1
fi
fuzzer="$build/tests/chansim-fuzz-scenario"
[ "$mode" = build ] && exit 0

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
common="-dict=$src/tests/fuzz/scenario.dict -max_len=8192 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3"

if [ "$mode" = files ]; then
    # shellcheck disable=SC2086
    exec "$fuzzer" $common "$@"
fi

seeds="$src/scenarios $src/tests/broken"
if [ "$mode" = ci ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/chansim-fuzz-ci.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # Deterministic: a fixed seed and a fixed number of inputs over the seed
    # corpus, so a pass is a pass on every machine (no time budget).
    # shellcheck disable=SC2086
    "$fuzzer" $common -seed=1 -runs="${FUZZ_RUNS:-6000}" -artifact_prefix="$work/" "$work" $seeds
    status=$?
    if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
        echo "fuzz.sh: the fuzzer saved a failing input:" "$work"/crash-* "$work"/leak-* "$work"/timeout-* >&2
        for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
            [ -f "$f" ] && { echo "--- $f"; head -c 2000 "$f"; echo; } >&2
        done
        exit 1
    fi
    exit $status
fi

corpus=${CHANSIM_FUZZ_CORPUS:-$build/corpus}
mkdir -p "$corpus"
jobs=${JOBS:-1}
set -- $common -artifact_prefix="$build/" -print_final_stats=1
[ "$secs" -gt 0 ] && set -- "$@" -max_total_time="$secs"
[ "$jobs" -gt 1 ] && set -- "$@" -jobs="$jobs" -workers="$jobs"
# shellcheck disable=SC2086
exec "$fuzzer" "$@" "$corpus" $seeds
