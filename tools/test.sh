#!/usr/bin/env bash
# The whole test suite: set-up, a normal build with every test, the same suite built with
# AddressSanitizer + UndefinedBehaviorSanitizer, and a bounded libFuzzer run of the decoders.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh || exit 1

jobs=$(nproc)
passed=0
failed=0
status=0

run_suite() { # name build-dir ctest-args...
    local name=$1 dir=$2
    shift 2
    echo "=== $name"
    local log
    log=$(mktemp)
    ctest --test-dir "$dir" --output-on-failure --timeout 600 "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local line
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$name: ctest ran no test"
        status=1
    else
        local total fail
        fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + total - fail))
        failed=$((failed + fail))
    fi
    [ "$rc" -eq 0 ] || status=1
    rm -f "$log"
}

build() { # dir target cmake-args...
    local dir=$1 target=$2
    shift 2
    cmake -S "$root" -B "$dir" -G Ninja "$@" >/dev/null && cmake --build "$dir" -j "$jobs" --target "$target"
}

echo "=== build"
if build build all -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
    run_suite "tests" build -j "$jobs"
else
    echo "build failed"
    status=1
fi

echo "=== sanitizer build (ASan + UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
if build build-asan all -DCMAKE_BUILD_TYPE=Debug -DQSIO_SANITIZE=ON; then
    run_suite "tests under ASan/UBSan" build-asan -j "$jobs"
else
    echo "sanitizer build failed"
    status=1
fi

echo "=== fuzzing"
fuzz_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DQSIO_FUZZ=ON -DQSIO_BUILD_TESTS=ON)
if CXX=clang++-14 build build-fuzz fuzz_enginecodec "${fuzz_args[@]}" \
    && CXX=clang++-14 build build-fuzz fuzz_socketiocodec "${fuzz_args[@]}"; then
    run_suite "fuzz" build-fuzz -R '^fuzz_'
else
    echo "fuzz build failed"
    status=1
fi

echo "total: $passed passed, $failed failed"
exit $status
