#!/usr/bin/env bash
# Sets everything up, builds artel and runs every test:
#  1. the libFuzzer target of the scenario parser for a bounded time
#     (ARTEL_FUZZ_SECONDS, default 60): any crash, hang or sanitizer report fails;
#  2. the C++ suite under AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. the release build with warnings as errors, and the whole suite under CTest
#     (C++ with Catch2, Python with pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs="$(nproc)"

echo "== fuzzing the scenario parser for ${ARTEL_FUZZ_SECONDS:-60} s"
scripts/build.sh fuzz
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/* configs/*.toml "$corpus"/
./build/fuzz/fuzz_scenario "$corpus" -max_total_time="${ARTEL_FUZZ_SECONDS:-60}" -timeout=10 \
  -rss_limit_mb=2048 -artifact_prefix="$corpus/" -print_final_stats=1 2>&1 | tail -n 12
echo "fuzzing: no crash, hang or sanitizer report"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j "$jobs" -E '^python$'

echo "== release build (warnings are errors) and all tests"
scripts/build.sh ci
ctest --preset ci -j "$jobs"

