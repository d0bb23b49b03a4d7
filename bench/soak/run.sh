#!/usr/bin/env bash
# The soak run of wsqt: builds bench_soak and the wsqt echo server (Release),
# runs mixed traffic with connection churn and injected faults against the
# server (with permessage-deflate) for N minutes, and reports whether the
# server's memory and descriptors stay flat. See bench/README.md.
#
# Usage: bench/soak/run.sh [--minutes N] [--build-dir DIR] [--no-build] [-- BENCH_SOAK_OPTIONS...]
#   e.g. bench/soak/run.sh --minutes 60 -- --connections 500 --seed 42
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$source_dir/build-bench
minutes=30
build=1
soak_options=()

while [ $# -gt 0 ]; do
    case $1 in
        --minutes) minutes=$2; shift ;;
        --build-dir) build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --no-build) build=0 ;;
        --) shift; soak_options=("$@"); break ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "soak/run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

# As bench/run.sh configures a build directory of its own.
if [ "$build" = 1 ]; then
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
        generator=()
        command -v ninja >/dev/null && generator=(-G Ninja)
        cmake -S "$source_dir" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
              -DWSQT_BUILD_QML=OFF -DWSQT_BUILD_EXAMPLES=OFF -DWSQT_BUILD_TESTS=OFF >&2
    elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
        echo "soak/run.sh: warning: $build_dir is not a Release build" >&2
    fi
    cmake --build "$build_dir" --target bench_soak bench_echo_wsqt >&2
fi

soak=$build_dir/bench/soak/bench_soak
[ -x "$soak" ] || { echo "soak/run.sh: $soak not found: build first (or drop --no-build)" >&2; exit 1; }
results=$build_dir/bench/results
mkdir -p "$results"
exec "$soak" --minutes "$minutes" --csv "$results/soak-$(date -u +%Y%m%dT%H%M%S).csv" "${soak_options[@]}"
