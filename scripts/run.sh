#!/usr/bin/env bash
# Installs what is missing, builds wsqt, and runs an echo server on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh run
# A build folder of its own, so that scripts/test.sh, before or after, finds
# its own configuration in build/.
cmake -S . -B build-run -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSQT_BUILD_TESTS=OFF -DWSQT_BUILD_BENCH=OFF
cmake --build build-run
exec build-run/src/cli/wsqt listen 8080 --host 127.0.0.1 --echo "$@"
