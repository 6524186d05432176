#!/usr/bin/env bash
# Makes docs/images/admin-app.png: the admin app's dashboard watching interop_server --admin while
# a few socket.io-client clients (Node) chat in rooms. Builds what is missing first.
#   bash tools/screenshot-admin.sh [OUTPUT.png]
# Environment: BUILD_DIR (default build), TAB (0 dashboard, 1 connections...), DELAY_MS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
out=${1:-$root/docs/images/admin-app.png}
tab=${TAB:-0}
delay=${DELAY_MS:-16000}

for tool in xvfb-run node cmake ninja; do
    command -v "$tool" >/dev/null || { echo "screenshot-admin: $tool is missing (bash tools/setup.sh)" >&2; exit 1; }
done
[ -d "$root/tests/interop/node_modules/socket.io-client" ] ||
    { echo "screenshot-admin: run npm ci in tests/interop first" >&2; exit 1; }
[ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --target qsocketio-admin interop_server -- -j2

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$build/tests/interop_server" --admin --port 0 >"$work/server.out" &
pids+=($!)
for _ in $(seq 100); do
    grep -q "listening on" "$work/server.out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$url" ] || { echo "screenshot-admin: the server did not start" >&2; exit 1; }

# Clients with some life in them: rooms, messages back and forth, one on polling only, one on
# the /custom namespace.
cat >"$work/clients.mjs" <<'JS'
import { createRequire } from 'node:module';
const [url, modules] = process.argv.slice(2);
const { io } = createRequire(modules + '/noop.js')('socket.io-client');
const rooms = ['lobby', 'lobby', 'support', 'games', 'games', 'lobby'];
const sockets = rooms.map((room, i) => {
    const s = io(url, i === 2 ? { transports: ['polling'] } : {});
    s.on('connect', () => s.emit('join', room, () => {}));
    return s;
});
io(url + '/custom', { auth: { user: 'dashboard-demo' } });
let n = 0;
setInterval(() => {
    const s = sockets[n++ % sockets.length];
    s.emit('message', { text: 'hello #' + n, at: Date.now(), padding: 'x'.repeat(200 * (n % 7)) });
    if (n % 3 === 0) s.emit('broadcast', { n });
}, 250);
JS
node "$work/clients.mjs" "$url" "$root/tests/interop/node_modules" &
pids+=($!)
sleep 2 # the clients connect first: the charts start from their level, not from zero

mkdir -p "$(dirname "$out")"
# A fresh settings folder: no window geometry or login of the user's own.
XDG_CONFIG_HOME="$work/config" QT_QPA_PLATFORM=xcb \
    xvfb-run -a -s "-screen 0 1280x860x24" \
    "$build/admin_app/qsocketio-admin" --url "$url" --connect --lang "${LANG_UI:-en}" \
    --screenshot "$out" --screenshot-delay "$delay" --screenshot-tab "$tab"
echo "screenshot-admin: wrote $out"
