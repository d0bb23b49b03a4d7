#!/usr/bin/env bash
# The echo benchmarks of wsqt: builds the load generator and the echo servers
# (wsqt, QtWebSockets, a QTcpSocket byte echo, a raw epoll echo, ws on Node,
# and uWebSockets where BENCH_UWS_ECHO names its echo), runs the scenarios
# S1-S7R, S8 (S2 beside idle connections), CS (connect storm), HB (heartbeat)
# and the client scenarios C1-C2 with the server and the load generator pinned
# to one core each, the thread scaling scenario S2T with the server on several
# cores, and the attack scenario A1 (decompression bombs), three runs each,
# and prints Markdown tables of medians and ratios. See bench/README.md.
#
# Usage: bench/run.sh [--build-dir DIR] [--no-build] [--runs N] [--warmup S]
#                     [--duration S] [--only S1,S4,...] [--impls wsqt,ws,...]
#                     [--idle-sizes 10000,50000] [--threads-list 1,2,...]
#                     [--loadgens K] [--nice N] [--profile SCENARIO] [--smoke]
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$source_dir/build-bench
build=1
runs=3
warmup=1
duration=5
only=""
impls="raw qtcp wsqt wsqt-qtcp uws qtws ws"
threads_list="1 2"
loadgens=1
profile=""
smoke=0
niceness=""
# S6, S8 and HB run once for each of these numbers of idle connections, S6D
# for the first; a size the descriptor limit cannot take is skipped.
idle_sizes="10000 50000"
# CS: connections opened at once, under the 50-connection accept queue of a
# QTcpServer (wsqt's and QtWebSockets' default), so that no SYN is dropped.
storm_connections=10000
storm_batch=48
# HB: the heartbeat's interval, and how long the CPU time is measured.
ping_interval=1000
heartbeat_seconds=6
server_cpu=${BENCH_SERVER_CPU:-0}
load_cpu=${BENCH_LOAD_CPU:-1}

while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --no-build) build=0 ;;
        --runs) runs=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --duration) duration=$2; shift ;;
        --only) only=${2//,/ }; shift ;;
        --impls) impls=${2//,/ }; shift ;;
        --idle-sizes) idle_sizes=${2//,/ }; shift ;;
        --threads-list) threads_list=${2//,/ }; shift ;;
        --loadgens) loadgens=$2; shift ;;
        --profile) profile=$2; shift ;;
        --nice) niceness=$2; shift ;;
        --smoke) smoke=1; build=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if ! [[ "$loadgens" =~ ^[1-9][0-9]?$ ]] || [ "$loadgens" -gt 64 ]; then
    echo "run.sh: --loadgens takes 1 to 64" >&2
    exit 2
fi
for n in $threads_list; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "run.sh: --threads-list takes numbers: $n" >&2; exit 2; }
done
for n in $idle_sizes; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --idle-sizes takes numbers: $n" >&2; exit 2; }
done
idle_sizes=$(echo "$idle_sizes" | tr ' ' '\n' | sort -nu | tr '\n' ' ')
first_idle_size=${idle_sizes%% *}
# N = 0 (the server's own thread) is the baseline of every ratio.
threads_list="0 $(for n in $threads_list; do [ "$n" != 0 ] && echo "$n"; done | sort -nu | tr '\n' ' ')"

loadgen=$build_dir/bench/loadgen/bench_loadgen
node_dir=$build_dir/bench/servers/node
work=$(mktemp -d)
results=$work/results
server_pid=""
server_port=""
holder_pid=""

cleanup() {
    stop_holder || true
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

log() { echo "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

# --- setting up ---------------------------------------------------------

build_programs() {
    local targets=(bench_loadgen bench_echo_raw bench_echo_qtcp bench_echo_wsqt bench_client_wsqt)
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
        local generator=()
        command -v ninja >/dev/null && generator=(-G Ninja)
        cmake -S "$source_dir" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
              -DWSQT_BUILD_QML=OFF -DWSQT_BUILD_EXAMPLES=OFF -DWSQT_BUILD_TESTS=OFF >&2
    elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build_dir/CMakeCache.txt"; then
        log "run.sh: warning: $build_dir is not a Release build"
    fi
    # QtWebSockets is optional: its programs exist only where it was found.
    if grep -q '^Qt6WebSockets_DIR:PATH=/' "$build_dir/CMakeCache.txt"; then
        targets+=(bench_echo_qtws bench_client_qtws)
    fi
    cmake --build "$build_dir" --target "${targets[@]}" >&2
}

# ws and bufferutil go into the build tree, never the source tree.
install_node_packages() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        log "run.sh: node or npm not found: ws is left out"
        return 1
    fi
    mkdir -p "$node_dir"
    if ! cmp -s "$source_dir/bench/servers/node/package.json" "$node_dir/package.json" \
            || [ ! -d "$node_dir/node_modules/ws" ] || [ ! -d "$node_dir/node_modules/bufferutil" ]; then
        cp "$source_dir/bench/servers/node/package.json" "$node_dir/package.json"
        # bufferutil's install script only picks a prebuilt addon, which loads without it.
        npm install --no-audit --no-fund --no-package-lock --ignore-scripts --prefix "$node_dir" >&2
    fi
}

have_impl() {
    case $1 in
        raw) [ -x "$build_dir/bench/servers/bench_echo_raw" ] ;;
        qtcp) [ -x "$build_dir/bench/servers/bench_echo_qtcp" ] ;;
        wsqt|wsqt-qtcp|wsqt-t*|wsqt-ping) [ -x "$build_dir/bench/servers/bench_echo_wsqt" ] ;;
        qtws) [ -x "$build_dir/bench/servers/bench_echo_qtws" ] ;;
        ws) [ -d "$node_dir/node_modules/ws" ] && command -v node >/dev/null ;;
        # Built outside the tree (bench/README.md says how).
        uws) [ -n "${BENCH_UWS_ECHO:-}" ] && [ -x "$BENCH_UWS_ECHO" ] ;;
        *) return 1 ;;
    esac
}

pin_server=()
pin_load=()
# S2T: the server on several cores, and the CPU of each load generator.
pin_threaded_server=()
threaded_server_cpus=""
threaded_load_cpus=()
cores_shared=0
setup_pinning() {
    if [ "$smoke" = 1 ]; then
        return
    fi
    local cpus
    cpus=$(nproc)
    if command -v taskset >/dev/null && [ "$cpus" -ge 2 ]; then
        pin_server=(taskset -c "$server_cpu")
        pin_load=(taskset -c "$load_cpu")
        # The load generators take the last cores, the server all the others;
        # with fewer than two left for it, the server has every core and
        # shares some with the load generators.
        local k
        for ((k = 0; k < loadgens; k++)); do
            threaded_load_cpus+=($(( (cpus - loadgens + k + cpus * loadgens) % cpus )))
        done
        if [ $((cpus - loadgens)) -ge 2 ]; then
            threaded_server_cpus=0-$((cpus - loadgens - 1))
        else
            threaded_server_cpus=0-$((cpus - 1))
            cores_shared=1
        fi
        pin_threaded_server=(taskset -c "$threaded_server_cpus")
    else
        log "run.sh: warning: no taskset or fewer than 2 cores: nothing is pinned"
    fi
    # On a shared machine, a higher priority keeps other work off the two
    # cores; negative values need root.
    if [ -n "$niceness" ]; then
        pin_server=(nice -n "$niceness" "${pin_server[@]}")
        pin_load=(nice -n "$niceness" "${pin_load[@]}")
        pin_threaded_server=(nice -n "$niceness" "${pin_threaded_server[@]}")
    fi
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

# --- servers --------------------------------------------------------------

# start_server IMPL [ARGS...]: sets server_pid and server_port. The server is
# started under server_pin when that is set, under pin_server otherwise.
server_pin=()
start_server() {
    local impl=$1
    shift
    local command
    case $impl in
        raw) command=("$build_dir/bench/servers/bench_echo_raw") ;;
        qtcp) command=("$build_dir/bench/servers/bench_echo_qtcp") ;;
        wsqt) command=("$build_dir/bench/servers/bench_echo_wsqt") ;;
        # wsqt over QTcpSocket instead of its lean transport.
        wsqt-qtcp) command=(env WSQT_NO_LEAN_TRANSPORT=1 "$build_dir/bench/servers/bench_echo_wsqt") ;;
        wsqt-t*) command=("$build_dir/bench/servers/bench_echo_wsqt" --threads "${impl#wsqt-t}") ;;
        wsqt-ping) command=("$build_dir/bench/servers/bench_echo_wsqt" --ping-interval "$ping_interval") ;;
        qtws) command=("$build_dir/bench/servers/bench_echo_qtws") ;;
        ws) command=(env NODE_PATH="$node_dir/node_modules" node "$source_dir/bench/servers/node/ws_echo.js") ;;
        uws) command=("$BENCH_UWS_ECHO") ;;
        serve) command=("$loadgen" --serve) ;;
        *) die "unknown implementation $impl" ;;
    esac
    local pin=("${pin_server[@]}")
    [ ${#server_pin[@]} -gt 0 ] && pin=("${server_pin[@]}")
    : >"$work/server.out"
    "${pin[@]}" "${command[@]}" "$@" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    local tries=0
    until server_port=$(awk '/^listening [0-9]+$/ { print $2; exit }' "$work/server.out") && [ -n "$server_port" ]; do
        if ! kill -0 "$server_pid" 2>/dev/null || [ $((tries += 1)) -gt 200 ]; then
            cat "$work/server.err" >&2
            die "the $impl echo server did not start"
        fi
        sleep 0.05
    done
}

stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

# start_holder N [LOADGEN ARGS...]: a second load generator opens N idle
# connections to the server and holds them (answering pings) until
# stop_holder; returns once all are open, or 1 when it failed.
start_holder() {
    local n=$1
    shift
    # Emptied first: the wait below must not find the last holder's lines.
    : >"$work/holder.out"
    "${pin_load[@]}" "$loadgen" --port "$server_port" --server-pid "$server_pid" --idle "$n" --hold "$@" \
        --label hold >"$work/holder.out" 2>"$work/holder.err" &
    holder_pid=$!
    until grep -q '^result ' "$work/holder.out"; do
        if ! kill -0 "$holder_pid" 2>/dev/null; then
            wait "$holder_pid" 2>/dev/null || true
            holder_pid=""
            return 1
        fi
        sleep 0.1
    done
}

# stop_holder: its "held" line goes to $work/holder.out; 1 when the holder
# had failed before (a connection closed by the server, say).
stop_holder() {
    [ -n "$holder_pid" ] || return 0
    kill -TERM "$holder_pid" 2>/dev/null || true
    local status=0
    wait "$holder_pid" 2>/dev/null || status=$?
    holder_pid=""
    return "$status"
}

# --- scenarios ------------------------------------------------------------

server_scenarios="S1 S2 S3 S4 S5 S6 S6D S7 S7R S8 CS HB S2T"
# Run once for each of idle_sizes, as SCENARIO/N.
sized_scenarios="S6 S8 HB"
client_scenarios="C1 C2"
attack_scenarios="A1"
# A1: this many bomb connections, each sending one message that inflates to
# bomb_size zero bytes.
bombs=8
bomb_size=$((1 << 30))

describe() {
    case $1 in
        S1) echo "1 connection, 1 in flight, 64 B binary" ;;
        S2) echo "64 connections x 16 in flight, 64 B binary" ;;
        S3) echo "16 connections x 8 in flight, 16 KiB binary" ;;
        S4) echo "4 connections x 4 in flight, 1 MiB binary" ;;
        S5) echo "64 connections x 16 in flight, 64 B text (UTF-8 validated)" ;;
        S6/*) echo "${1#*/} idle connections: server RSS per connection" ;;
        S6D) echo "$first_idle_size idle connections, permessage-deflate negotiated: server RSS per connection" ;;
        S7) echo "64 connections x 4 in flight, 1 KiB JSON text, permessage-deflate" ;;
        S7R) echo "64 connections x 4 in flight, 1 KiB random binary, permessage-deflate" ;;
        S8/*) echo "S2 while ${1#*/} idle connections are held" ;;
        CS) echo "$storm_connections connections opened and upgraded, $storm_batch at a time" ;;
        HB/*) echo "${1#*/} idle connections, wsqt's heartbeat every $ping_interval ms" ;;
        S2T) echo "as S2, the wsqt server with N worker threads on several cores" ;;
        C1) echo "client: 64 connections x 16 in flight, 64 B binary" ;;
        C2) echo "client: 16 connections x 8 in flight, 16 KiB binary" ;;
        A1) echo "$bombs decompression bombs ($((bomb_size >> 20)) MiB of zeros each, about 1 MB compressed)" \
                 "and a probe connection: 64 B every 20 ms" ;;
    esac
}

# The load generator's arguments for a server scenario.
scenario_args() {
    case $1 in
        S1) echo "--connections 1 --inflight 1 --size 64" ;;
        S2) echo "--connections 64 --inflight 16 --size 64" ;;
        S3) echo "--connections 16 --inflight 8 --size 16384" ;;
        S4) echo "--connections 4 --inflight 4 --size 1048576" ;;
        S5) echo "--connections 64 --inflight 16 --size 64 --text" ;;
        S6/*) echo "--idle ${1#*/}" ;;
        S6D) echo "--idle $first_idle_size --deflate" ;;
        CS) echo "--idle $storm_connections --settle 0 --connect-batch $storm_batch" ;;
        S7) echo "--connections 64 --inflight 4 --size 1024 --json --deflate" ;;
        S7R) echo "--connections 64 --inflight 4 --size 1024 --deflate" ;;
        # The connections are shared among the load generators (--loadgens).
        S2T) echo "--connections 64 --inflight 16 --size 64" ;;
        C1) echo "--connections 64 --inflight 16 --size 64" ;;
        C2) echo "--connections 16 --inflight 8 --size 16384" ;;
    esac
}

scenario_impls() {
    local wanted
    case $1 in
        S6D|S7|S7R|A1) wanted="wsqt ws" ;;
        S6/*) wanted="raw qtcp wsqt wsqt-qtcp uws qtws ws" ;;
        S2|S4|S5) wanted="raw qtcp wsqt uws qtws ws" ;;
        S8/*|CS) wanted="raw wsqt uws qtws ws" ;;
        # ws has no heartbeat of its own, and uws_echo none configured: wsqt
        # with its heartbeat, and without it as the baseline.
        HB/*) wanted="wsqt-ping wsqt" ;;
        S2T) wanted=$(for n in $threads_list; do echo "wsqt-t$n"; done) ;;
        C*) wanted="raw wsqt qtws ws" ;;
        *) wanted="raw qtcp wsqt qtws ws" ;;
    esac
    local impl base result=""
    for impl in $wanted; do
        # wsqt-tN and wsqt-ping are asked for as wsqt.
        base=${impl%-t*}
        base=${base%-ping}
        case " $impls " in *" $base "*) ;; *) continue ;; esac
        if [[ $1 == C[0-9]* ]]; then
            case $impl in
                raw) [ -x "$loadgen" ] ;;
                wsqt) [ -x "$build_dir/bench/clients/bench_client_wsqt" ] ;;
                qtws) [ -x "$build_dir/bench/clients/bench_client_qtws" ] ;;
                ws) have_impl ws ;;
            esac || continue
        else
            have_impl "$impl" || continue
        fi
        result+="$impl "
    done
    echo "$result"
}

# The servers' arguments for a scenario.
server_args_for() {
    case $1 in
        S6D|S7|S7R|A1) echo "--deflate" ;;
    esac
}

# Sums the result lines of load generators that ran side by side into one:
# counts and rates add up, latencies and the generators' own CPU are the
# largest, the server's CPU time is the first generator's (each measured it
# over nearly the same window).
combine_results() {
    awk '
    {
        for (i = 2; i <= NF; i++) {
            p = index($i, "="); k = substr($i, 1, p - 1); x = substr($i, p + 1)
            if (NR == 1) { keys[++n] = k; v[k] = x; continue }
            if (k ~ /^(connections|messages)$/) v[k] = sprintf("%d", v[k] + x)
            else if (k ~ /^(msgs_per_s|mb_per_s)$/) v[k] = sprintf("%.2f", v[k] + x)
            else if (k ~ /^(p50_us|p99_us|own_cpu_pct)$/ && x + 0 > v[k] + 0) v[k] = x
        }
    }
    END {
        if ("server_cpu_pct" in v && v["msgs_per_s"] > 0)
            v["server_cpu_us_per_msg"] = sprintf("%.3f", v["server_cpu_pct"] * 1e4 / v["msgs_per_s"])
        line = "result"
        for (i = 1; i <= n; i++) line = line " " keys[i] "=" v[keys[i]]
        print line
    }'
}

# run_server_scenario SCENARIO RUN IMPL: one measurement, appended to $results.
run_server_scenario() {
    local scenario=$1 run=$2 impl=$3
    local args mode=()
    args=$(scenario_args "$scenario")
    local server_args
    read -ra server_args <<<"$(server_args_for "$scenario")"
    case $impl in raw|qtcp) mode=(--raw) ;; esac
    local generators=1
    if [ "$scenario" = S2T ]; then
        server_pin=("${pin_threaded_server[@]}")
        generators=$loadgens
    fi
    start_server "$impl" "${server_args[@]}"
    server_pin=()
    local timing=(--warmup "$warmup" --duration "$duration")
    case $scenario in S6*|CS) timing=() ;; esac
    local k pids=() pin connections share=()
    read -r _ connections _ <<<"$args"
    for ((k = 0; k < generators; k++)); do
        pin=("${pin_load[@]}")
        if [ "$scenario" = S2T ] && [ ${#threaded_load_cpus[@]} -gt 0 ]; then
            # The last word of pin_load is its CPU.
            pin=("${pin_load[@]:0:${#pin_load[@]}-1}" "${threaded_load_cpus[k]}")
        fi
        # Several generators share the scenario's connections (a later
        # --connections overrides the scenario's).
        [ "$generators" -gt 1 ] && share=(--connections $((connections / generators + (k < connections % generators))))
        # shellcheck disable=SC2086
        "${pin[@]}" "$loadgen" --port "$server_port" --server-pid "$server_pid" "${mode[@]}" $args "${share[@]}" \
            "${timing[@]}" --label "$scenario" >"$work/result.$k" 2>"$work/loadgen.$k.err" &
        pids+=($!)
    done
    local failed=0
    for k in "${!pids[@]}"; do
        wait "${pids[k]}" || { failed=1; cat "$work/loadgen.$k.err" >&2; }
    done
    stop_server
    [ "$failed" = 0 ] || die "$scenario run $run against $impl failed"
    echo "$scenario $run $impl $(cat "$work"/result.* | grep -h '^result ' | combine_results)" >>"$results"
    rm -f "$work"/result.* "$work"/loadgen.*.err
}

# run_client_scenario SCENARIO RUN IMPL: the client under test against the
# epoll echo, appended to $results.
run_client_scenario() {
    local scenario=$1 run=$2 impl=$3
    local connections inflight size
    read -r _ connections _ inflight _ size <<<"$(scenario_args "$scenario")"
    start_server serve
    local url="ws://127.0.0.1:$server_port/"
    local common=(--connections "$connections" --inflight "$inflight" --size "$size"
                  --warmup "$warmup" --duration "$duration" --label "$scenario")
    local command
    case $impl in
        raw) command=("$loadgen" --port "$server_port" "${common[@]}") ;;
        wsqt) command=("$build_dir/bench/clients/bench_client_wsqt" --url "$url" "${common[@]}") ;;
        qtws) command=("$build_dir/bench/clients/bench_client_qtws" --url "$url" "${common[@]}") ;;
        ws) command=(env NODE_PATH="$node_dir/node_modules" node "$source_dir/bench/servers/node/ws_client.js"
                     --url "$url" "${common[@]}") ;;
    esac
    "${pin_load[@]}" "${command[@]}" >"$work/result" 2>"$work/client.err" || {
        cat "$work/client.err" >&2
        stop_server
        die "$scenario run $run with the $impl client failed"
    }
    stop_server
    echo "$scenario $run $impl $(grep '^result ' "$work/result")" >>"$results"
}

# run_attack_scenario SCENARIO RUN IMPL: the bombs against a fresh server,
# appended to $results. A server that fails under the attack (ends the probe
# connection, exits) is a result, recorded as failed=1 with the load
# generator's error, not the end of the benchmark.
run_attack_scenario() {
    local scenario=$1 run=$2 impl=$3
    local server_args
    read -ra server_args <<<"$(server_args_for "$scenario")"
    start_server "$impl" "${server_args[@]}"
    local status=0
    "${pin_load[@]}" "$loadgen" --port "$server_port" --server-pid "$server_pid" --deflate \
        --bombs "$bombs" --bomb-size "$bomb_size" --label "$scenario" >"$work/result" 2>"$work/loadgen.err" \
        || status=$?
    if [ "$status" = 0 ]; then
        stop_server
        echo "$scenario $run $impl $(grep '^result ' "$work/result")" >>"$results"
        return
    fi
    # 1: what the load generator saw go wrong; anything else is its own failure.
    if [ "$status" != 1 ]; then
        cat "$work/loadgen.err" >&2
        stop_server
        die "$scenario run $run against $impl failed"
    fi
    local error server_status=0
    error=$(sed -n 's/^loadgen: //p' "$work/loadgen.err" | head -1)
    # Killed here, a server reports 143 (SIGTERM); any other status is its own exit.
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || server_status=$?
    server_pid=""
    [ "$server_status" = 143 ] || error+="; the server exited with status $server_status"
    log "$scenario run $run against $impl failed: $error"
    tail -n 20 "$work/server.err" >&2
    echo "$scenario $run $impl result failed=1 error=${error// /_}" >>"$results"
}

# record_failure SCENARIO RUN IMPL TEXT: a server or load generator that failed
# in S8, CS or HB is a row of the table (with the load generator's error and
# the server's last words), not the end of the benchmark.
record_failure() {
    local scenario=$1 run=$2 impl=$3 error=$4
    if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
        local status=0
        wait "$server_pid" 2>/dev/null || status=$?
        server_pid=""
        error+="; the server exited with status $status"
    fi
    log "$scenario run $run against $impl failed: $error"
    tail -n 5 "$work/server.err" >&2
    echo "$scenario $run $impl result failed=1 error=${error// /_}" >>"$results"
}

# The load generator's first error message in FILE.
loadgen_error() {
    sed -n 's/^loadgen: //p' "$1" | grep -v '^warning' | head -1
}

# Descriptors a server needs for a scenario: its connections and a margin for
# its own (event loop, Node's).
descriptors_needed() {
    case $1 in
        S6/*|HB/*) echo $(( ${1#*/} + 100 )) ;;
        S6D) echo $((first_idle_size + 100)) ;;
        S8/*) echo $(( ${1#*/} + 64 + 100 )) ;;
        CS) echo $((storm_connections + 100)) ;;
        *) echo 0 ;;
    esac
}

# run_idle_load_scenario S8/N RUN IMPL: S2 alone, then again on the same
# server while a second load generator holds N idle connections to it;
# appends one line, the keys of each S2 result prefixed with alone_ and idle_.
run_idle_load_scenario() {
    local scenario=$1 run=$2 impl=$3 n=${1#*/}
    local s2 mode=() alone with
    s2=$(scenario_args S2)
    case $impl in raw|qtcp) mode=(--raw) ;; esac
    start_server "$impl"
    local pump=("${pin_load[@]}" "$loadgen" --port "$server_port" --server-pid "$server_pid" "${mode[@]}")
    # shellcheck disable=SC2086
    if ! alone=$("${pump[@]}" $s2 --warmup "$warmup" --duration "$duration" --label S2 2>"$work/loadgen.err"); then
        record_failure "$scenario" "$run" "$impl" "S2 alone: $(loadgen_error "$work/loadgen.err")"
        stop_server
        return
    fi
    if ! start_holder "$n" "${mode[@]}" --settle 1; then
        record_failure "$scenario" "$run" "$impl" "opening the idle connections: $(loadgen_error "$work/holder.err")"
        stop_server
        return
    fi
    # shellcheck disable=SC2086
    with=$("${pump[@]}" $s2 --warmup "$warmup" --duration "$duration" --label S2 2>"$work/loadgen.err") \
        || with="failed $(loadgen_error "$work/loadgen.err")"
    if ! stop_holder; then
        record_failure "$scenario" "$run" "$impl" "holding the idle connections: $(loadgen_error "$work/holder.err")"
    elif [[ $with == failed* ]]; then
        record_failure "$scenario" "$run" "$impl" "S2 beside the idle connections: ${with#failed }"
    else
        local line
        line=$(awk -v alone="$alone" -v with="$with" -v opened="$(grep '^result ' "$work/holder.out")" '
            function prefixed(text, prefix,    n, f, i, p, out) {
                n = split(text, f, " ")
                for (i = 2; i <= n; i++) {
                    out = out " " prefix f[i]
                    p = index(f[i], "=")
                    x[prefix substr(f[i], 1, p - 1)] = substr(f[i], p + 1)
                }
                return out
            }
            BEGIN {
                line = prefixed(alone, "alone_") prefixed(with, "idle_")
                match(opened, /connects_per_s=[0-9.]+/)
                # The server CPU time per message too: unlike the rate, other work on
                # the machine hardly moves it.
                printf "result%s idle_connections_opened_per_s=%s ratio=%.4f cpu_ratio=%.4f\n", line,
                    substr(opened, RSTART + 15, RLENGTH - 15),
                    (x["alone_msgs_per_s"] > 0 ? x["idle_msgs_per_s"] / x["alone_msgs_per_s"] : 0),
                    (x["alone_server_cpu_us_per_msg"] > 0 ? x["idle_server_cpu_us_per_msg"] / x["alone_server_cpu_us_per_msg"] : 0)
            }')
        echo "$scenario $run $impl $line" >>"$results"
    fi
    stop_server
}

# run_storm_scenario CS RUN IMPL: storm_connections opened and upgraded
# against a fresh server, storm_batch at a time.
run_storm_scenario() {
    local scenario=$1 run=$2 impl=$3 mode=()
    case $impl in raw|qtcp) mode=(--raw) ;; esac
    start_server "$impl"
    # shellcheck disable=SC2046
    if "${pin_load[@]}" "$loadgen" --port "$server_port" --server-pid "$server_pid" "${mode[@]}" \
            $(scenario_args "$scenario") --label "$scenario" >"$work/result" 2>"$work/loadgen.err"; then
        echo "$scenario $run $impl $(grep '^result ' "$work/result")" >>"$results"
    else
        record_failure "$scenario" "$run" "$impl" "$(loadgen_error "$work/loadgen.err")"
    fi
    stop_server
}

# run_heartbeat_scenario HB/N RUN IMPL: N idle connections held (their pings
# answered) for heartbeat_seconds; the server's CPU time over that while, per
# ping interval ("tick") and per connection.
run_heartbeat_scenario() {
    local scenario=$1 run=$2 impl=$3 n=${1#*/}
    start_server "$impl"
    # Two seconds for the handshakes' work to end before the measurement.
    if ! start_holder "$n" --settle 2; then
        record_failure "$scenario" "$run" "$impl" "opening the idle connections: $(loadgen_error "$work/holder.err")"
        stop_server
        return
    fi
    sleep "$heartbeat_seconds"
    if ! stop_holder; then
        record_failure "$scenario" "$run" "$impl" "$(loadgen_error "$work/holder.err")"
        stop_server
        return
    fi
    stop_server
    awk -v prefix="$scenario $run $impl" -v interval="$ping_interval" '
        /^held / {
            for (i = 2; i <= NF; i++) { p = index($i, "="); v[substr($i, 1, p - 1)] = substr($i, p + 1) }
            ticks = v["seconds"] * 1000 / interval
            printf "%s result connections=%d seconds=%s pings=%d server_cpu_s=%s ping_interval_ms=%d" \
                " pings_per_s=%.1f server_cpu_pct=%.3f us_per_tick=%.1f us_per_tick_per_connection=%.4f%s\n",
                prefix, v["connections"], v["seconds"], v["pings"], v["server_cpu_s"], interval,
                v["pings"] / v["seconds"], 100 * v["server_cpu_s"] / v["seconds"], 1e6 * v["server_cpu_s"] / ticks,
                1e6 * v["server_cpu_s"] / ticks / v["connections"],
                (v["pings"] > 0 ? sprintf(" us_per_ping=%.3f", 1e6 * v["server_cpu_s"] / v["pings"]) : "")
        }' "$work/holder.out" >>"$results"
}

# --- the table --------------------------------------------------------------

# The awk functions both tables use: a median, a metric's median over the runs
# of one scenario and implementation, and the median of per-run ratios, from
# the values v[SCENARIO, IMPL, RUN, KEY] that read_line() fills.
# shellcheck disable=SC2016
awk_medians='
    function median(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        if (n == 0) return ""
        for (i = 2; i <= n; i++) {
            t = a[i] + 0
            for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
            a[j + 1] = t
        }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function field(sc, im, name,    list, n, r, i, k) {
        list = ""
        n = split(runsof[sc, im], r, " ")
        for (i = 1; i <= n; i++) {
            k = sc SUBSEP im SUBSEP r[i] SUBSEP name
            if (k in v) list = list " " v[k]
        }
        return median(list)
    }
    function ratio(sc, im, ref, metric,    list, n, r, i, a, b) {
        if (!((sc, ref) in known) || ref == im) return "-"
        list = ""
        n = split(runsof[sc, im], r, " ")
        for (i = 1; i <= n; i++) {
            a = v[sc, im, r[i], metric]; b = v[sc, ref, r[i], metric]
            if (a != "" && b + 0 > 0) list = list " " a / b
        }
        return list == "" ? "-" : sprintf("%.2f", median(list))
    }
    function show(x, format) { return x == "" ? "-" : sprintf(format, x) }
    # The empty cells of a row: " - |" n times.
    function dashes(n,    out) { out = ""; while (n-- > 0) out = out " - |"; return out }
    # How many runs of an implementation failed; the last error goes to failure_text.
    function failures(sc, im,    n, r, i, count) {
        count = 0
        n = split(runsof[sc, im], r, " ")
        for (i = 1; i <= n; i++) {
            if (!v[sc, im, r[i], "failed"]) continue
            count++
            failure_text = v[sc, im, r[i], "error"]
            gsub(/_/, " ", failure_text)
        }
        return count
    }
    # A row label: the name, and runs that failed (the value of a row is the
    # median of the runs that did not).
    function labelled(sc, im, label,    k, n) {
        k = failures(sc, im)
        if (k == 0) return label
        n = split(runsof[sc, im], dummy, " ")
        return label " (failed in " k " of " n " runs: " failure_text ")"
    }
    # A skipped scenario (descriptor limit): its one line names the implementation "all".
    function skipped_text(sc) {
        return "skipped: RLIMIT_NOFILE " v[sc, "all", 1, "skipped"] " (the server needs " v[sc, "all", 1, "needed"] " descriptors)"
    }
    function read_line(    i, p) {
        sc = $1; run = $2; im = $3
        if (!(sc in scseen)) { scseen[sc] = 1; scenarios[++nsc] = sc }
        if (!((sc, im) in known)) { known[sc, im] = 1; impls[sc] = impls[sc] " " im }
        runsof[sc, im] = runsof[sc, im] " " run
        for (i = 5; i <= NF; i++) { p = index($i, "="); if (p) v[sc, im, run, substr($i, 1, p - 1)] = substr($i, p + 1) }
        # Messages per second of the server CPU time: the measure of its efficiency
        # where the load generator, not the server, sets the pace.
        if (v[sc, im, run, "server_cpu_pct"] > 0)
            v[sc, im, run, "msgs_per_cpu_s"] = v[sc, im, run, "msgs_per_s"] * 100 / v[sc, im, run, "server_cpu_pct"]
        if (v[sc, im, run, "connect_server_cpu_pct"] > 0)
            v[sc, im, run, "connects_per_cpu_s"] = v[sc, im, run, "connects_per_s"] * 100 / v[sc, im, run, "connect_server_cpu_pct"]
    }
    BEGIN {
        name["raw"] = "raw TCP echo (epoll)"; name["qtcp"] = "QTcpSocket echo"; name["wsqt"] = "wsqt"
        name["qtws"] = "QtWebSockets"; name["ws"] = "ws + bufferutil"; name["uws"] = "uWebSockets"
        name["wsqt-qtcp"] = "wsqt (QTcpSocket transport)"
    }
'

# Reads "SCENARIO RUN IMPL result key=value..." lines; prints the Markdown table
# of medians over the runs, each ratio being the median of the per-run ratios.
# S2T has a table of its own (make_scaling_table).
make_table() {
    awk -v descriptions="$1" "$awk_medians"'
    BEGIN {
        n = split(descriptions, lines, "\n")
        for (i = 1; i <= n; i++) { p = index(lines[i], " "); what[substr(lines[i], 1, p - 1)] = substr(lines[i], p + 1) }
    }
    # These have tables of their own.
    $1 ~ /^(S2T|A[0-9]*|CS|S8\/.*|HB\/.*)$/ { next }
    {
        read_line()
        # Client scenarios: the side under test is the one whose CPU is reported.
        if (sc ~ /^C/ && v[sc, im, run, "msgs_per_s"] > 0) {
            v[sc, im, run, "server_cpu_pct"] = v[sc, im, run, "own_cpu_pct"]
            v[sc, im, run, "server_cpu_us_per_msg"] = v[sc, im, run, "own_cpu_pct"] * 1e4 / v[sc, im, run, "msgs_per_s"]
            delete v[sc, im, run, "own_cpu_pct"]
        }
    }
    END {
        print "| Scenario | Implementation | msgs/s | MB/s | p50 µs | p99 µs | CPU % | CPU µs/msg | loadgen CPU % | KB/conn | payload/wire | ×raw | ×QtWS | ×ws | ×uWS |"
        print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (s = 1; s <= nsc; s++) {
            sc = scenarios[s]
            metric = sc ~ /^S6/ ? "kb_per_connection" : "msgs_per_s"
            m = split(impls[sc], list, " ")
            for (i = 1; i <= m; i++) {
                im = list[i]
                if (im == "all") {
                    printf "| %s: %s | %s |%s\n", sc, what[sc], skipped_text(sc), dashes(13)
                    continue
                }
                label = sc ~ /^C/ ? (im == "raw" ? "epoll client (loadgen)" : name[im] " client") : name[im]
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                    (i == 1 ? sc ": " what[sc] : ""), label,
                    show(field(sc, im, "msgs_per_s"), "%.0f"), show(field(sc, im, "mb_per_s"), "%.1f"),
                    show(field(sc, im, "p50_us"), "%.1f"), show(field(sc, im, "p99_us"), "%.1f"),
                    show(field(sc, im, "server_cpu_pct"), "%.0f"), show(field(sc, im, "server_cpu_us_per_msg"), "%.2f"),
                    show(field(sc, im, "own_cpu_pct"), "%.0f"), show(field(sc, im, "kb_per_connection"), "%.1f"),
                    show(field(sc, im, "compression_ratio"), "%.2f"),
                    ratio(sc, im, "raw", metric), ratio(sc, im, "qtws", metric), ratio(sc, im, "ws", metric),
                    ratio(sc, im, "uws", metric)
            }
        }
    }'
}

# S2T: messages per second for each number of worker threads, and the ratio
# to the server's own thread alone (N = 0).
make_scaling_table() {
    awk "$awk_medians"'
    $1 == "S2T" { read_line() }
    END {
        if (!("S2T" in scseen)) exit
        print "| Worker threads | msgs/s | ×N=0 | p50 µs | p99 µs | server CPU % | CPU µs/msg | loadgen CPU % |"
        print "|---:|---:|---:|---:|---:|---:|---:|---:|"
        m = split(impls["S2T"], list, " ")
        for (i = 1; i <= m; i++) {
            im = list[i]
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", substr(im, 7),
                show(field("S2T", im, "msgs_per_s"), "%.0f"), ratio("S2T", im, "wsqt-t0", "msgs_per_s"),
                show(field("S2T", im, "p50_us"), "%.1f"), show(field("S2T", im, "p99_us"), "%.1f"),
                show(field("S2T", im, "server_cpu_pct"), "%.0f"), show(field("S2T", im, "server_cpu_us_per_msg"), "%.2f"),
                show(field("S2T", im, "own_cpu_pct"), "%.0f")
        }
    }'
}

# S8: S2 alone and beside N idle connections, on one server in each run; the
# ratio is the median of the per-run ratios.
make_idle_load_table() {
    awk "$awk_medians"'
    $1 ~ /^S8\// { read_line() }
    END {
        if (nsc == 0) exit
        print "| Idle connections | Implementation | S2 alone msgs/s | S2 beside idle msgs/s | beside/alone | server CPU µs/msg alone | beside idle | beside/alone | p99 µs alone | p99 µs beside idle | loadgen CPU % | idle connections opened/s |"
        print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (s = 1; s <= nsc; s++) {
            sc = scenarios[s]
            m = split(impls[sc], list, " ")
            for (i = 1; i <= m; i++) {
                im = list[i]
                if (im == "all") { printf "| %s | %s |%s\n", substr(sc, 4), skipped_text(sc), dashes(10); continue }
                own = field(sc, im, "alone_own_cpu_pct")
                if (field(sc, im, "idle_own_cpu_pct") > own) own = field(sc, im, "idle_own_cpu_pct")
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", substr(sc, 4), labelled(sc, im, name[im]),
                    show(field(sc, im, "alone_msgs_per_s"), "%.0f"), show(field(sc, im, "idle_msgs_per_s"), "%.0f"),
                    show(field(sc, im, "ratio"), "%.2f"),
                    show(field(sc, im, "alone_server_cpu_us_per_msg"), "%.2f"), show(field(sc, im, "idle_server_cpu_us_per_msg"), "%.2f"),
                    show(field(sc, im, "cpu_ratio"), "%.2f"),
                    show(field(sc, im, "alone_p99_us"), "%.1f"), show(field(sc, im, "idle_p99_us"), "%.1f"),
                    show(own, "%.0f"), show(field(sc, im, "idle_connections_opened_per_s"), "%.0f")
            }
        }
    }'
}

# CS: connections opened and upgraded per second, and per second of the
# server's CPU time (the measure where the load generator sets the pace).
make_storm_table() {
    awk "$awk_medians"'
    $1 == "CS" { read_line() }
    END {
        if (nsc == 0) exit
        print "| Implementation | connects/s | storm s | server CPU % | loadgen CPU % | connects per server CPU-s | server KB/conn | ×QtWS | ×ws | ×uWS |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        m = split(impls["CS"], list, " ")
        for (i = 1; i <= m; i++) {
            im = list[i]
            if (im == "all") { printf "| %s |%s\n", skipped_text("CS"), dashes(9); continue }
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", labelled("CS", im, name[im]),
                show(field("CS", im, "connects_per_s"), "%.0f"), show(field("CS", im, "connect_s"), "%.3f"),
                show(field("CS", im, "connect_server_cpu_pct"), "%.0f"), show(field("CS", im, "connect_own_cpu_pct"), "%.0f"),
                show(field("CS", im, "connects_per_cpu_s"), "%.0f"), show(field("CS", im, "kb_per_connection"), "%.1f"),
                ratio("CS", im, "qtws", "connects_per_s"), ratio("CS", im, "ws", "connects_per_s"),
                ratio("CS", im, "uws", "connects_per_s")
        }
    }'
}

# HB: the server's CPU time while it holds N idle connections, with wsqt's
# heartbeat and without it, per ping interval ("tick") and per connection.
make_heartbeat_table() {
    awk -v interval="$ping_interval" "$awk_medians"'
    $1 ~ /^HB\// { read_line() }
    END {
        if (nsc == 0) exit
        name["wsqt-ping"] = "wsqt, pingInterval " interval " ms"
        name["wsqt"] = "wsqt, no heartbeat (baseline)"
        print "| Idle connections | Server | window s | pings/s | server CPU % | CPU µs per tick | CPU µs per tick and connection | CPU µs per ping |"
        print "|---:|---|---:|---:|---:|---:|---:|---:|"
        for (s = 1; s <= nsc; s++) {
            sc = scenarios[s]
            m = split(impls[sc], list, " ")
            for (i = 1; i <= m; i++) {
                im = list[i]
                if (im == "all") { printf "| %s | %s |%s\n", substr(sc, 4), skipped_text(sc), dashes(6); continue }
                printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", substr(sc, 4), labelled(sc, im, name[im]),
                    show(field(sc, im, "seconds"), "%.1f"), show(field(sc, im, "pings_per_s"), "%.0f"),
                    show(field(sc, im, "server_cpu_pct"), "%.2f"), show(field(sc, im, "us_per_tick"), "%.0f"),
                    show(field(sc, im, "us_per_tick_per_connection"), "%.3f"), show(field(sc, im, "us_per_ping"), "%.2f")
            }
        }
    }'
}

# wsqt beside uWebSockets: messages per second of the server's CPU time.
make_uws_table() {
    awk "$awk_medians"'
    $1 ~ /^S[245]$/ && ($3 == "wsqt" || $3 == "uws") { read_line() }
    END {
        header = 0
        for (s = 1; s <= nsc; s++) {
            sc = scenarios[s]
            if (!((sc, "wsqt") in known) || !((sc, "uws") in known)) continue
            if (!header++) {
                print "| Scenario | wsqt msgs/s | wsqt msgs per CPU-s | uWebSockets msgs/s | uWebSockets msgs per CPU-s | wsqt/uWS per CPU-s |"
                print "|---|---:|---:|---:|---:|---:|"
            }
            printf "| %s | %s | %s | %s | %s | %s |\n", sc,
                show(field(sc, "wsqt", "msgs_per_s"), "%.0f"), show(field(sc, "wsqt", "msgs_per_cpu_s"), "%.0f"),
                show(field(sc, "uws", "msgs_per_s"), "%.0f"), show(field(sc, "uws", "msgs_per_cpu_s"), "%.0f"),
                ratio(sc, "wsqt", "uws", "msgs_per_cpu_s")
        }
    }'
}

# A1: one row for each run of each implementation; the worst run is what counts.
make_attack_table() {
    awk '
    $1 == "A1" {
        for (i = 5; i <= NF; i++) { p = index($i, "="); if (p) v[substr($i, 1, p - 1)] = substr($i, p + 1) }
        if (!header++) {
            print "| Implementation | run | probes echoed/sent | p99 ms | max ms | server RSS before MiB | peak RSS growth MiB | bombs refused (close codes) | attack s | server CPU s |"
            print "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
        }
        name = $3 == "ws" ? "ws + bufferutil" : $3
        if (v["failed"]) {
            error = v["error"]
            gsub(/_/, " ", error)
            printf "| %s | %s | failed: %s | - | - | - | - | - | - | - |\n", name, $2, error
            delete v
            next
        }
        # "1009:5,1013:3" reads "5 × 1009, 3 × 1013".
        n = split(v["close_codes"], codes, ",")
        refused = ""
        for (i = 1; i <= n; i++) { split(codes[i], c, ":"); refused = refused (i > 1 ? ", " : "") c[2] " × " c[1] }
        growth = v["server_peak_rss_kb"] - v["server_rss_before_kb"]
        printf "| %s | %s | %s/%s | %.1f | %.1f | %.1f | %.1f%s | %s | %.2f | %.2f |\n",
            name, $2, v["probes_echoed"], v["probes_sent"], v["p99_ms"], v["max_ms"],
            v["server_rss_before_kb"] / 1024, growth / 1024, v["peak_reset"] == "yes" ? "" : " (since start)",
            refused, v["attack_s"], v["server_cpu_s"]
        delete v
    }'
}

# The targets of doc/performance.md, checked on the wsqt rows.
check_targets() {
    awk '
    function med(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    {
        for (i = 5; i <= NF; i++) { p = index($i, "="); if (p) v[$1, $3, $2, substr($i, 1, p - 1)] = substr($i, p + 1) }
        runs[$1, $3] = runs[$1, $3] " " $2
        if (!($1 in sc)) { sc[$1] = 1; seen[++nseen] = $1 }
        if (v[$1, $3, $2, "server_cpu_pct"] > 0)
            v[$1, $3, $2, "msgs_per_cpu_s"] = v[$1, $3, $2, "msgs_per_s"] * 100 / v[$1, $3, $2, "server_cpu_pct"]
    }
    function ratio(s, a, b, metric,    n, r, i, list) {
        list = ""
        n = split(runs[s, a], r, " ")
        for (i = 1; i <= n; i++) if (v[s, b, r[i], metric] + 0 > 0 && v[s, a, r[i], metric] != "") list = list " " v[s, a, r[i], metric] / v[s, b, r[i], metric]
        return med(list)
    }
    # The median of one value over the runs that have it.
    function median_of(s, a, metric,    n, r, i, list) {
        list = ""
        n = split(runs[s, a], r, " ")
        for (i = 1; i <= n; i++) if (v[s, a, r[i], metric] != "") list = list " " v[s, a, r[i], metric]
        return med(list)
    }
    function check(text, value, ok) {
        if (value == "") return
        printf "- %s: %.3f %s\n", text, value, ok ? "(met)" : "(NOT met)"
        failed += !ok
    }
    END {
        minimum["S1"] = 0.95; minimum["S2"] = 0.65; minimum["S3"] = 0.30; minimum["S4"] = 0.75; minimum["S5"] = 0.65
        split("S1 S2 S3 S4 S5", order, " ")
        for (i = 1; i <= 5; i++) {
            s = order[i]
            if (!((s, "wsqt") in runs)) continue
            check(s " wsqt/raw msgs/s >= " minimum[s], ratio(s, "wsqt", "raw", "msgs_per_s"), ratio(s, "wsqt", "raw", "msgs_per_s") >= minimum[s])
        }
        for (i = 1; i <= nseen; i++) {
            s = seen[i]
            if (s !~ /^S6/ || !((s, "wsqt") in runs)) continue
            # Without compression 2 KB; with permessage-deflate negotiated 3 KB.
            limit = s == "S6D" ? 3 : 2
            kb = median_of(s, "wsqt", "kb_per_connection")
            check(s " wsqt KB per idle connection <= " limit, kb, kb <= limit)
        }
        for (i = 1; i <= nseen; i++) {
            s = seen[i]
            if (s !~ /^(S[1-7]|C[0-9])/ || s == "S2T" || !((s, "wsqt") in runs)) continue
            if (s ~ /^S6/) {
                # Memory: lower is better.
                if ((s, "qtws") in runs) { x = ratio(s, "qtws", "wsqt", "kb_per_connection"); check(s " QtWebSockets/wsqt KB per connection >= 1.3", x, x >= 1.3) }
                if ((s, "ws") in runs) { x = ratio(s, "ws", "wsqt", "kb_per_connection"); check(s " ws/wsqt KB per connection >= 1", x, x >= 1) }
                continue
            }
            if ((s, "qtws") in runs) { x = ratio(s, "wsqt", "qtws", "msgs_per_s"); check(s " wsqt/QtWebSockets msgs/s >= 1.3", x, x >= 1.3) }
            if ((s, "ws") in runs) { x = ratio(s, "wsqt", "ws", "msgs_per_s"); check(s " wsqt/ws msgs/s >= 1", x, x >= 1) }
            if (s ~ /^S[245]$/ && (s, "uws") in runs) {
                x = ratio(s, "wsqt", "uws", "msgs_per_cpu_s")
                check(s " wsqt/uWebSockets msgs per server CPU-second >= 1", x, x >= 1)
            }
        }
        # S8: idle connections cost the busy ones (almost) nothing; CS: the connect storm.
        for (i = 1; i <= nseen; i++) {
            s = seen[i]
            if (s !~ /^(S8\/|CS$)/) continue
            if ((s, "all") in runs) { printf "- %s: skipped (RLIMIT_NOFILE %s)\n", s, v[s, "all", 1, "skipped"]; continue }
            if (!((s, "wsqt") in runs)) continue
            if (s == "CS") {
                if ((s, "qtws") in runs) { x = ratio(s, "wsqt", "qtws", "connects_per_s"); check("CS wsqt/QtWebSockets connects/s >= 2", x, x >= 2) }
                if ((s, "ws") in runs) { x = ratio(s, "wsqt", "ws", "connects_per_s"); check("CS wsqt/ws connects/s >= 1", x, x >= 1) }
                continue
            }
            x = median_of(s, "wsqt", "ratio")
            if (x == "") { printf "- %s wsqt: failed in every run (NOT met)\n", s; failed++; continue }
            check(s " wsqt S2 msgs/s beside the idle connections / alone >= 0.9", x, x >= 0.9)
        }
        # A1: in every run, every probe echoed within a second.
        if (("A1", "wsqt") in runs) {
            n = split(runs["A1", "wsqt"], r, " ")
            worst = 0; missing = 0; broken = 0
            for (i = 1; i <= n; i++) {
                if (v["A1", "wsqt", r[i], "failed"]) { broken++; continue }
                if (v["A1", "wsqt", r[i], "max_ms"] + 0 > worst) worst = v["A1", "wsqt", r[i], "max_ms"] + 0
                missing += v["A1", "wsqt", r[i], "probes_sent"] - v["A1", "wsqt", r[i], "probes_echoed"]
            }
            ok = !broken && missing == 0 && worst <= 1000
            if (broken)
                printf "- A1 wsqt: the server failed under the attack in %d run(s) (NOT met)\n", broken
            else
                printf "- A1 wsqt: every probe echoed (%d missing) and max latency <= 1000 ms: %.1f ms %s\n",
                    missing, worst, ok ? "(met)" : "(NOT met)"
            failed += !ok
        }
        printf "\n%d target(s) not met.\n", failed
    }'
}

# --- profiling --------------------------------------------------------------

# The wsqt server under perf for one scenario: the functions with the most self time.
profile_scenario() {
    local scenario=$1
    [ "${scenario:0:1}" != A ] || die "--profile does not take the attack scenario $scenario"
    command -v perf >/dev/null || die "perf is not installed (Debian: linux-perf)"
    [ "$scenario" != S6 ] || scenario=S6/$first_idle_size
    local args
    args=$(scenario_args "$scenario")
    # S8 and HB take two load generators, which this does not run.
    [ -n "$args" ] || die "--profile does not take $scenario"
    local server_args impl=wsqt
    read -ra server_args <<<"$(server_args_for "$scenario")"
    if [ "$scenario" = S2T ]; then
        # The largest number of worker threads asked for, on several cores.
        impl=wsqt-t${threads_list##* }
        server_pin=("${pin_threaded_server[@]}")
    fi
    start_server "$impl" "${server_args[@]}"
    server_pin=()
    # cpu-clock works where hardware counters are not exposed (virtual machines).
    perf record -e cpu-clock -F 2000 -g -p "$server_pid" -o "$work/perf.data" >/dev/null 2>&1 &
    local perf_pid=$!
    # shellcheck disable=SC2086
    "${pin_load[@]}" "$loadgen" --port "$server_port" --server-pid "$server_pid" $args \
        --warmup "$warmup" --duration "$duration" --label "$scenario"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    stop_server
    echo
    echo "Self time of the wsqt server under $scenario ($(describe "$scenario")), by library:"
    perf report -i "$work/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | head -12
    echo
    echo "By function:"
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | head -50
}

# --- smoke test -------------------------------------------------------------

# A very short pass: every program starts and moves verified messages.
smoke_run() {
    "$@" | tee -a "$work/smoke" || die "smoke: failed: $*"
}

smoke() {
    local short=(--warmup 0.2 --duration 0.5 --verify)
    local impl
    : >"$work/smoke"
    for impl in raw qtcp; do
        start_server "$impl"
        smoke_run "$loadgen" --raw --port "$server_port" --connections 8 --inflight 4 --size 4096 "${short[@]}" \
            --label "smoke-$impl"
        stop_server
    done
    for impl in wsqt qtws uws; do
        have_impl "$impl" || continue
        start_server "$impl"
        smoke_run "$loadgen" --port "$server_port" --server-pid "$server_pid" --connections 64 --inflight 16 \
            --size 64 --warmup 0.2 --duration 1 --verify --label "smoke-S2-$impl"
        smoke_run "$loadgen" --port "$server_port" --connections 4 --inflight 2 --size 100000 --text "${short[@]}" \
            --label "smoke-text-$impl"
        smoke_run "$loadgen" --port "$server_port" --server-pid "$server_pid" --idle 200 --settle 0.2 \
            --label "smoke-idle-$impl"
        stop_server
    done
    start_server wsqt --deflate
    smoke_run "$loadgen" --port "$server_port" --connections 8 --inflight 4 --size 1024 --json --deflate \
        "${short[@]}" --label smoke-deflate-wsqt
    smoke_run "$loadgen" --port "$server_port" --connections 8 --inflight 4 --size 1024 --deflate \
        "${short[@]}" --label smoke-deflate-binary-wsqt
    smoke_run "$loadgen" --port "$server_port" --server-pid "$server_pid" --idle 200 --settle 0.2 --deflate \
        --label smoke-idle-deflate-wsqt
    # Past maxPayload (100 MiB), so that the server refuses both bombs.
    smoke_run "$loadgen" --port "$server_port" --server-pid "$server_pid" --deflate --bombs 2 \
        --bomb-size $((128 << 20)) --attack-timeout 20 --label smoke-bombs-wsqt
    stop_server
    start_server wsqt-qtcp
    smoke_run "$loadgen" --port "$server_port" --connections 8 --inflight 4 --size 4096 "${short[@]}" \
        --label smoke-wsqt-qtcp
    stop_server
    start_server wsqt-t2
    smoke_run "$loadgen" --port "$server_port" --server-pid "$server_pid" --connections 16 --inflight 8 \
        --size 64 "${short[@]}" --label smoke-threads-wsqt
    stop_server
    # Held idle connections (S8, HB) answer the heartbeat's pings.
    start_server wsqt --ping-interval 200
    start_holder 50 --settle 0.2 || die "smoke: the idle connections did not open: $(loadgen_error "$work/holder.err")"
    sleep 1
    stop_holder || die "smoke: holding idle connections failed: $(loadgen_error "$work/holder.err")"
    stop_server
    grep '^held ' "$work/holder.out" | tee -a "$work/smoke"
    grep -q '^held .* pings=[1-9]' "$work/holder.out" || die "smoke: no ping was answered"
    start_server serve
    smoke_run "$loadgen" --port "$server_port" --connections 4 --inflight 4 --size 70000 "${short[@]}" \
        --label smoke-client-loadgen
    local client
    for client in wsqt qtws; do
        [ -x "$build_dir/bench/clients/bench_client_$client" ] || continue
        smoke_run "$build_dir/bench/clients/bench_client_$client" --url "ws://127.0.0.1:$server_port/" \
            --connections 4 --inflight 4 --size 64 --warmup 0.2 --duration 0.5 --label "smoke-client-$client"
    done
    stop_server
    if grep '^result ' "$work/smoke" | grep -Eq ' messages=0 | msgs_per_s=0\.0 '; then
        die "smoke: a run moved no message"
    fi
    echo "smoke: $(grep -c '^result ' "$work/smoke") runs, all moved verified messages"
}

# --- main -------------------------------------------------------------------

[ "$build" = 1 ] && build_programs
[ -x "$loadgen" ] || die "$loadgen not found: build first (or drop --no-build)"
setup_pinning

if [ "$smoke" = 1 ]; then
    smoke
    exit 0
fi

if [[ " $impls " == *" ws "* ]]; then
    install_node_packages || true
fi

if [ -n "$profile" ]; then
    profile_scenario "$profile"
    exit 0
fi

selected=""
for scenario in $server_scenarios $client_scenarios $attack_scenarios; do
    if [[ " $sized_scenarios " == *" $scenario "* ]]; then
        # --only S8 takes every size, --only S8/10000 one.
        for n in $idle_sizes; do
            if [ -z "$only" ] || [[ " $only " == *" $scenario "* || " $only " == *" $scenario/$n "* ]]; then
                selected+="$scenario/$n "
            fi
        done
    elif [ -z "$only" ] || [[ " $only " == *" $scenario "* ]]; then
        selected+="$scenario "
    fi
done

: >"$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
file_limit=$(ulimit -Hn)
for scenario in $selected; do
    scenario_impl_list=$(scenario_impls "$scenario")
    # The hard limit cannot be raised without CAP_SYS_RESOURCE: a size that
    # does not fit is a row saying so, and runs where the limit allows.
    needed=$(descriptors_needed "$scenario")
    if [ -n "$scenario_impl_list" ] && [ "$file_limit" != unlimited ] && [ "$needed" -gt "$file_limit" ]; then
        log "$scenario skipped: the server needs $needed descriptors, RLIMIT_NOFILE allows $file_limit"
        echo "$scenario 1 all result skipped=$file_limit needed=$needed" >>"$results"
        continue
    fi
    for run in $(seq 1 "$runs"); do
        # All implementations in each run, so that a drift of the machine
        # touches them alike and each ratio compares measurements of one run.
        for impl in $scenario_impl_list; do
            log "$scenario run $run: $impl"
            case $scenario in
                C[0-9]*) run_client_scenario "$scenario" "$run" "$impl" ;;
                A*) run_attack_scenario "$scenario" "$run" "$impl" ;;
                S8/*) run_idle_load_scenario "$scenario" "$run" "$impl" ;;
                CS) run_storm_scenario "$scenario" "$run" "$impl" ;;
                HB/*) run_heartbeat_scenario "$scenario" "$run" "$impl" ;;
                *) run_server_scenario "$scenario" "$run" "$impl" ;;
            esac
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

descriptions=""
for scenario in $selected; do
    descriptions+="$scenario $(describe "$scenario")"$'\n'
done

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
qt_version=$(awk -F'"' '/^#define QT_VERSION_STR/ { print $2 }' \
             "$(find /usr/include -path '*QtCore/qtcore-config.h' 2>/dev/null | head -1)" 2>/dev/null || true)
[ -n "$qt_version" ] || qt_version=$(pkg-config --modversion Qt6Core 2>/dev/null || echo unknown)
ws_version=$(node -p "require('$node_dir/node_modules/ws/package.json').version" 2>/dev/null || echo "-")
node_version=$(node --version 2>/dev/null || echo "-")

echo "## wsqt echo benchmarks, $started"
echo
echo "- Machine: $cpu_model, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
     "Linux $(uname -r); load average $load_before before, $load_after after"
echo "- Server on CPU $server_cpu, load generator on CPU $load_cpu (taskset${niceness:+, nice $niceness}), 127.0.0.1;" \
     "$runs runs of ${warmup} s warm-up + ${duration} s each; medians, ratios are medians of per-run ratios"
echo "- Qt $qt_version, Node $node_version, ws $ws_version with bufferutil"
if [[ " $impls " == *" uws "* ]] && have_impl uws; then
    echo "- uWebSockets: $BENCH_UWS_ECHO"
fi
echo "- RLIMIT_NOFILE: $(ulimit -Sn) (hard $file_limit)"
echo
# S2T, S8, CS, HB and A1 have tables of their own: the main one only where another scenario ran.
if grep -qvE '^(S2T|A[0-9]*|CS|S8/[0-9]+|HB/[0-9]+) ' "$results"; then
    make_table "$descriptions" <"$results"
    echo
    echo "CPU % and CPU µs/msg: the server's (the client's in C1-C2), all its threads. loadgen CPU %:"
    echo "the load generator's own core. MB/s: payload bytes one way. payload/wire: the echoes' payload"
    echo "bytes over the bytes of their frames' payloads as received, compressed or not (the compression"
    echo "ratio of the server's replies). S6 and S6D ratios compare KB per connection (lower is better);"
    echo "all others compare msgs/s."
    echo
fi
if grep -q '^S[245] [0-9]* uws ' "$results"; then
    echo "### wsqt beside uWebSockets, per server CPU-second"
    echo
    echo "Messages echoed per second of the server's CPU time (all its threads), each server on one core;"
    echo "the ratio is the median of the per-run ratios. Where a server does not fill its core (the load"
    echo "generator sets the pace), this is the figure that compares them."
    echo
    make_uws_table <"$results"
    echo
fi
if grep -q '^S8/' "$results"; then
    echo "### Small messages beside idle connections (S8)"
    echo
    echo "S2 ($(describe S2)) against a fresh server, then again on the same server while a second load"
    echo "generator holds N idle WebSocket connections to it (upgraded, then silent; plain TCP for the raw"
    echo "echo), opened from 127.0.0.2, .3, ... beside/alone: S2 beside the idle connections over S2 alone,"
    echo "the median of the per-run ratios; target for wsqt: 0.9 or more for msgs/s. The server's CPU time per"
    echo "message (and its ratio) is what other work on the machine moves least."
    echo
    make_idle_load_table <"$results"
    echo
fi
if grep -q '^CS ' "$results"; then
    echo "### Connect storm (CS)"
    echo
    echo "$(describe CS), from the first connect() to the last 101 (for the raw echo: a byte's round trip)."
    echo "CPU % over that while; where the load generator's is near 100 %, it set the pace, and connects per"
    echo "server CPU-second compare the servers. Targets for wsqt: 2 × QtWebSockets and 1 × ws or more."
    echo
    make_storm_table <"$results"
    echo
fi
if grep -q '^HB/' "$results"; then
    echo "### Heartbeat tick (HB)"
    echo
    echo "The wsqt echo with --ping-interval $ping_interval (WsServerOptions::pingInterval) holding N idle"
    echo "connections whose pings the load generator answers, and the same without a heartbeat as the"
    echo "baseline; the server's CPU time over ${heartbeat_seconds} s after the connections settled, per ping interval"
    echo "(a tick) and per connection. ws has no heartbeat of its own, and the uWebSockets echo runs with"
    echo "idleTimeout 0 (no automatic pings): no peer is comparable, wsqt is measured alone."
    echo
    make_heartbeat_table <"$results"
    echo
fi
if [[ " $selected " == *" S2T "* ]] && [ -n "$(scenario_impls S2T)" ]; then
    echo "### Thread scaling (S2T)"
    echo
    load_cpus=${threaded_load_cpus[*]:-any}
    echo "$(describe S2), against the wsqt echo with --threads N (WsServerOptions::workerThreads;"
    echo "N = 0: the connections stay in the server's own thread). The server on CPUs ${threaded_server_cpus:-any}," \
         "$loadgens load generator(s) on CPU ${load_cpus// /,}, sharing the connections; the ratio is to N = 0."
    echo
    make_scaling_table <"$results"
    echo
    if [ "$cores_shared" = 1 ]; then
        echo "With $(nproc) cores the server shares a core with the load generator: these figures only show"
        echo "that connections are served from the worker threads, not how far they scale. On a machine with"
        echo "more cores: bench/run.sh --only S2T --threads-list 1,2,4,8,16 --loadgens 4"
        echo
    fi
fi
if [[ " $selected " == *" A1 "* ]] && [ -n "$(scenario_impls A1)" ]; then
    echo "### Decompression bombs (A1)"
    echo
    echo "$(describe A1)."
    echo "Each bomb connection negotiates permessage-deflate and sends one compressed binary message,"
    echo "all at once; the server is to refuse them (wsqt: 1009 past maxPayload, 100 MiB, or 1013 past"
    echo "maxReceiveMemory, 256 MiB for all messages being received; ws: 1009 past maxPayload). The"
    echo "probe connection (no deflate) times each echo from the moment it was due; the attack ends when"
    echo "the server has closed every bomb connection (60 s at most). Peak RSS growth: the server's"
    echo "VmHWM, reset as the attack starts, over its RSS then. Target: in every run every probe echoed,"
    echo "the longest within 1000 ms."
    echo
    make_attack_table <"$results"
    echo
fi
echo "### Targets"
echo
check_targets <"$results"
echo
echo "Raw results: $(mkdir -p "$build_dir/bench/results" && cp "$results" \
    "$build_dir/bench/results/$(date -u +%Y%m%dT%H%M%S).txt" && ls -t "$build_dir/bench/results/"* | head -1)"
