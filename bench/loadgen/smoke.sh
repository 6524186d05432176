#!/bin/bash
# bench_smoke: starts interop_server on a free port and runs a few seconds of each main scenario
# of qsio-loadgen against it, failing unless every run counts operations and no errors.
# usage: smoke.sh INTEROP_SERVER QSIO_LOADGEN
set -u
server=$1
loadgen=$2
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$server" --port 0 >"$work/server.out" 2>"$work/server.err" &
pid=$!
url=
# A sanitizer build on a loaded machine can take seconds to start.
for _ in $(seq 1 600); do
    url=$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$work/server.out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "interop_server did not start:"
    cat "$work/server.out" "$work/server.err"
    exit 1
fi
echo "server at $url"

failed=0
run() {
    local name=$1
    shift
    local out="$work/$name.json"
    echo "== $name: qsio-loadgen $*"
    if ! "$loadgen" --url "$url" --json --timeout 30 "$@" >"$out" 2>"$work/$name.err"; then
        echo "FAIL $name: exit status $?"
        cat "$work/$name.err"
        failed=1
        return
    fi
    cat "$out"
    if ! grep -q '"ops":[1-9]' "$out"; then
        echo "FAIL $name: no operation counted"
        failed=1
    fi
    if ! grep -q '"errors_total":0,' "$out"; then
        echo "FAIL $name: errors"
        failed=1
    fi
    if ! grep -q '"missing":0,' "$out"; then
        echo "FAIL $name: missing broadcast deliveries"
        failed=1
    fi
}

run echo --scenario echo --clients 20 --duration 2 --warmup 0.5
run broadcast --scenario broadcast --clients 50 --duration 2 --warmup 0.5
# The cluster runs' options (bench/cluster.py), with the same server on both sides.
run broadcast-split --scenario rooms --clients 30 --rooms 3 --duration 1 --warmup 0.3 \
    --receivers-url "$url" --local-receivers 4 --rate 200 --window 8
run polling --scenario polling --clients 5 --duration 2 --warmup 0.5
run churn --scenario churn --clients 10 --duration 1 --warmup 0.2
run soak --scenario soak --clients 20 --duration 2 --warmup 0 --lifetime 0.2-0.8 \
    --interval 0.05 --broadcast-share 0.2 --polling-share 0.3 --rooms 3 --progress 0

if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: interop_server died"
    cat "$work/server.err"
    failed=1
fi
[ "$failed" = 0 ] && echo "bench_smoke: all scenarios passed"
exit "$failed"
