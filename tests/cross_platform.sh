#!/bin/sh
# The same program gives the same trace hash on every context switch and
# platform: the prime sieve (docs/examples/sieve.c) built natively, with the
# portable ucontext fallback, and for aarch64 (cross-compiled, run under
# qemu-aarch64) must print the same hash as the build under test.
# usage: cross_platform.sh SOURCE_DIR NATIVE_SIEVE
set -eu
src=$1
native=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
core="$src/core"
files="coro.c rand.c trace.c invariant.c mem.c sched.c sched_state.c sched_fail.c ggroup.c timer.c chan.c goerr.c duration.c cpu.c entity.c race.c dfs.c sync.c"
want=$("$native" | grep "trace hash")
echo "native build:  $want"
fail=0

srcs=""
for f in $files; do srcs="$srcs $core/$f"; done

# shellcheck disable=SC2086
cc -std=c11 -O2 -D_GNU_SOURCE -DCHANSIM_CORO_UCONTEXT -I"$core" $srcs "$src/docs/examples/sieve.c" \
    -o "$tmp/sieve-ucontext"
got=$("$tmp/sieve-ucontext" | grep "trace hash")
echo "ucontext:      $got"
[ "$got" = "$want" ] || { echo "FAIL: the ucontext fallback gives another trace"; fail=1; }

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    echo "FAIL: aarch64-linux-gnu-gcc and qemu-aarch64 are needed (sh .ci/install-deps.sh)"
    exit 1
fi
# shellcheck disable=SC2086
aarch64-linux-gnu-gcc -std=c11 -O2 -D_GNU_SOURCE -static -I"$core" $srcs "$core/coro_aarch64.S" \
    "$src/docs/examples/sieve.c" -o "$tmp/sieve-aarch64"
got=$(qemu-aarch64 "$tmp/sieve-aarch64" | grep "trace hash")
echo "aarch64 (asm): $got"
[ "$got" = "$want" ] || { echo "FAIL: aarch64 gives another trace"; fail=1; }
[ $fail = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
