#!/usr/bin/env bash
# Builds the libFuzzer targets of the core with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs each for FUZZ_SECONDS seconds from a
# copy of its seed corpus. Fails if any target finds a crash, a leak, a
# timeout or a broken contract; the inputs that did are kept in
# <build>/fuzz-artifacts (replay one with <build>/fuzz/<target>_replay FILE),
# the logs in <build>/fuzz-logs.
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 30)
#   FUZZ_JOBS       targets run at the same time (default 2)
#   FUZZ_TARGETS    the targets to run (default all of them)
#   FUZZ_BUILD_DIR  the build directory (default build-fuzz)
#   FUZZ_CORPUS_DIR where corpora grow from run to run (default: a temporary
#                   directory, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
build=${FUZZ_BUILD_DIR:-build-fuzz}
read -r -a targets <<< "${FUZZ_TARGETS:-fuzz_receiver fuzz_connection fuzz_http fuzz_tokens fuzz_utf8}"

# The longest input each target is given, and its dictionary.
declare -A max_len=([fuzz_receiver]=8192 [fuzz_connection]=8192 [fuzz_http]=4096
                    [fuzz_tokens]=1024 [fuzz_utf8]=4096)
declare -A dict=([fuzz_receiver]=frames [fuzz_connection]=frames [fuzz_http]=http
                 [fuzz_tokens]=tokens [fuzz_utf8]=utf8)

if ! command -v clang++ >/dev/null; then
    echo "clang++ is needed (scripts/deps.sh test installs it)" >&2
    exit 1
fi

echo "== building the fuzz targets in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DWSQT_SANITIZE=ON -DWSQT_BUILD_FUZZ=ON \
    -DWSQT_BUILD_TESTS=OFF -DWSQT_BUILD_EXAMPLES=OFF -DWSQT_BUILD_QML=OFF -DWSQT_BUILD_BENCH=OFF >/dev/null
build_targets=()
for target in "${targets[@]}"; do
    build_targets+=("$target" "${target}_replay")
done
cmake --build "$build" --target "${build_targets[@]}"

artifacts=$PWD/$build/fuzz-artifacts
logs=$PWD/$build/fuzz-logs
mkdir -p "$artifacts" "$logs"
if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
    corpora=$FUZZ_CORPUS_DIR
    mkdir -p "$corpora"
else
    corpora=$(mktemp -d)
    trap 'rm -rf "$corpora"' EXIT
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}

run_target() {
    local target=$1
    local corpus=$corpora/$target
    "$build/fuzz/${target}_replay" --write-corpus "$corpus" >/dev/null
    "$build/fuzz/$target" "$corpus" -max_total_time="$seconds" -max_len="${max_len[$target]}" \
        -dict="fuzz/dict/${dict[$target]}.dict" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$target-" >"$logs/$target.log" 2>&1
}

echo "== fuzzing ${targets[*]} for ${seconds} s each, $jobs at a time"
declare -A pids=()
failed=()
finish() {
    local target=$1
    if wait "${pids[$target]}"; then
        local runs
        runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$target.log" | grep -o '[0-9]*$')
        echo "$target: $runs runs, no failure"
    else
        echo "$target: FAILED, see $logs/$target.log"
        grep -E 'contract violated|ERROR: |SUMMARY: |Test unit written' "$logs/$target.log" | head -5 | sed 's/^/    /'
        failed+=("$target")
    fi
    unset "pids[$target]"
}
for target in "${targets[@]}"; do
    while [ "${#pids[@]}" -ge "$jobs" ]; do
        # Wait for whichever running target started first.
        for running in "${targets[@]}"; do
            if [ -n "${pids[$running]:-}" ]; then
                finish "$running"
                break
            fi
        done
    done
    run_target "$target" &
    pids[$target]=$!
done
for target in "${targets[@]}"; do
    if [ -n "${pids[$target]:-}" ]; then
        finish "$target"
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "== failing targets: ${failed[*]} (inputs in $artifacts)"
    exit 1
fi
echo "== no failure"
