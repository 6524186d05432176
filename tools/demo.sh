#!/usr/bin/env bash
# Builds QSocketIo and runs the chat demo (page and Socket.IO) on http://127.0.0.1:${PORT:-3000}/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
cmake -S "$root" -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target chat_server
exec ./build/examples/chat/chat_server "$@"
