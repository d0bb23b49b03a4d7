#!/usr/bin/env bash
# Installs what is missing, builds wsqt with its tests, and runs the whole
# suite through ctest: the normal build, then the fuzzers for a bounded time,
# then the suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
