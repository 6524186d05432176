#!/usr/bin/env bash
# Installs what building and testing QSocketIo needs on Debian 12, then the npm packages of the
# interop tests, the chat example (its socket.io client bundle) and the browser test. Safe to run
# again: it installs only what is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
    cmake ninja-build g++ pkg-config
    qt6-base-dev qt6-websockets-dev qt6-httpserver-dev qt6-tools-dev qt6-l10n-tools qt6-charts-dev
    libgl-dev libssl-dev openssl libcrypt-dev
    clang-14 libclang-rt-14-dev
    curl
    chromium
    xvfb xauth
    python3-socketio python3-requests python3-websocket python3-aiohttp
    libhiredis-dev libmsgpack-cxx-dev redis-server nginx-light
)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for dir in tests/interop examples/chat tests/browser; do
    lock="$root/$dir/package-lock.json"
    stamp="$root/$dir/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || ! cmp -s <(sha1sum <"$lock") "$root/$dir/node_modules/.qsio-lock-sha1" 2>/dev/null; then
        echo "setup: npm ci in $dir"
        (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error)
        sha1sum <"$lock" >"$root/$dir/node_modules/.qsio-lock-sha1"
    fi
done
