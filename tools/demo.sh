#!/usr/bin/env bash
# Builds QSocketIo and runs the chat demo (page and Socket.IO) on http://127.0.0.1:${PORT:-3000}/,
# with the admin namespace on, the official admin web UI at /admin-ui/, and the Qt admin app
# (qsocketio-admin) connected to it when there is a display. Extra arguments go to chat_server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
cmake -S "$root" -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target chat_server qsocketio-admin

args=(--admin)
ui=tests/browser/node_modules/@socket.io/admin-ui/ui/dist
if [ -f "$ui/index.html" ]; then
    args+=(--admin-ui "$ui" --admin-fonts tests/browser/node_modules)
fi

log=$(mktemp)
admin_pid=""
cleanup() {
    [ -n "$admin_pid" ] && kill "$admin_pid" 2>/dev/null || true
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

./build/examples/chat/chat_server "${args[@]}" "$@" > >(tee "$log") 2>&1 &
server_pid=$!

url=""
for _ in $(seq 100); do
    url=$(sed -n 's|^chat demo on \(http://[^ ]*\)/$|\1|p' "$log")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    wait "$server_pid" || exit $?
    exit 1
fi

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    ./build/admin_app/qsocketio-admin --connect --url "$url" &
    admin_pid=$!
    echo "admin app: qsocketio-admin connected to $url (close its window any time)"
else
    echo "no display here: on a desktop, run ./build/admin_app/qsocketio-admin --connect --url $url"
fi
echo "Ctrl+C stops the demo"
wait "$server_pid"
