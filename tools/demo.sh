#!/usr/bin/env bash
# Builds QSocketIo and runs the demo server on http://127.0.0.1:${PORT:-3000}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
cmake -S "$root" -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target echo_server
exec ./build/examples/echo/echo_server "$@"
