#!/usr/bin/env bash
# Usage: run_fuzz.sh <fuzzer-binary> [seconds, default 30] [seed-corpus-dir, default corpus/ here]
#
# Runs a libFuzzer binary for a bounded time, starting from a seed corpus (by default the one beside
# this script).
# libFuzzer writes the inputs it finds into its first corpus directory, so it works on a copy in a
# temporary directory and the checked-in seeds stay as they are. Exits non-zero on any crash, leak,
# timeout or sanitizer report, and then keeps the temporary directory with the reproducer.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
    echo "usage: $0 <fuzzer-binary> [seconds] [seed-corpus-dir]" >&2
    exit 2
fi
fuzzer=$1
seconds=${2:-30}
if [[ ! -x $fuzzer ]]; then
    echo "$0: $fuzzer is not an executable" >&2
    exit 2
fi
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: seconds must be a positive integer, got '$seconds'" >&2
    exit 2
fi

seeds=${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/corpus}
if [[ ! -d $seeds ]] || [[ -z $(ls -A "$seeds") ]]; then
    echo "$0: seed corpus '$seeds' is not a non-empty directory" >&2
    exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$fuzzer").XXXXXX")
mkdir "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"

status=0
"$fuzzer" "$work/corpus" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -max_len=4096 \
    -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" || status=$?

if [[ $status -ne 0 ]] || [[ -n $(ls -A "$work/artifacts") ]]; then
    echo "$0: $fuzzer failed (exit status $status); reproducers kept in $work/artifacts:" >&2
    ls -l "$work/artifacts" >&2
    exit $((status == 0 ? 1 : status))
fi
rm -rf "$work"
