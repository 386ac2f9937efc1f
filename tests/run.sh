#!/bin/sh
# The whole test suite: installs the packages, then builds and runs every
# Check suite through CTest twice, once optimised (-O2) and once at -O0 with
# AddressSanitizer and UndefinedBehaviorSanitizer. Golden trace hashes in
# the suites make the two builds agree on every hash.
set -eu
cd "$(dirname "$0")/.."
sh .ci/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo, -O2)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build (Debug, -O0, ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCHANSIM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    CHANSIM_SANITIZED=1 ctest --output-on-failure -j"$jobs")
