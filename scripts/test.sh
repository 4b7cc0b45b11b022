#!/bin/sh
# test.sh - builds Mamori and runs every test (the README's test command).
#
#  1. a gcc build with -Werror: the code must compile warning-free;
#  2. a clang build with AddressSanitizer, UndefinedBehaviorSanitizer and
#     the libFuzzer harnesses, in which ctest runs the whole suite: unit
#     tests, table tests on fixture trees, end-to-end scripts, live smoke
#     tests on this machine, and each fuzzer for a few seconds.
# Installs the Debian packages it needs when they are missing.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build/gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMM_WERROR=ON >/dev/null
cmake --build build/gcc -j"$JOBS"

CC=clang cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DMM_SANITIZE=ON -DMM_FUZZ=ON \
	-DMM_WERROR=ON >/dev/null
cmake --build build/test -j"$JOBS"
cd build/test
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure -j"$JOBS" "$@"
