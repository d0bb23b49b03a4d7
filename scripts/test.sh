#!/usr/bin/env bash
# Installs what is missing, builds wsqt with its tests, and runs the whole
# suite through ctest: the normal build and its API reference, then the
# fuzzers for a bounded time, then the suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)

echo "== build and test"
# Every option the suite needs is set, whatever an earlier configure of build/ chose.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWSQT_BUILD_TESTS=ON -DWSQT_BUILD_BENCH=ON \
      -DWSQT_BUILD_EXAMPLES=ON -DWSQT_BUILD_QML=ON -DWSQT_WITH_ZLIB=ON -DWSQT_BUILD_DOCS=ON
cmake --build build -j "$jobs"
# A suite that finds no test fails.
ctest --test-dir build --output-on-failure --no-tests=error -j "$jobs"

echo "== the API reference: no public member undocumented, no Doxygen warning"
cmake --build build --target docs

echo "== the fuzzers, each for a bounded time"
FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/fuzz.sh

echo "== the small build, with Clang and no warning allowed: without zlib (no permessage-deflate),"
echo "   the lean transport and the QML module"
cmake -S . -B build-small-clang -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_CXX_FLAGS=-Werror -DWSQT_WITH_ZLIB=OFF -DWSQT_LEAN_TRANSPORT=OFF -DWSQT_BUILD_QML=OFF \
      -DWSQT_BUILD_TESTS=OFF -DWSQT_BUILD_BENCH=OFF -DWSQT_BUILD_EXAMPLES=OFF
cmake --build build-small-clang -j "$jobs"

echo "== the whole suite under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
      -DWSQT_SANITIZE=ON -DWSQT_BUILD_BENCH=OFF -DWSQT_BUILD_TESTS=ON
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
    ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$jobs"
