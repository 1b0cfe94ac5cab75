#!/usr/bin/env bash
# Sets everything up, builds artel and runs every test:
#  1. the libFuzzer target of the scenario parser for a bounded time
#     (ARTEL_FUZZ_SECONDS, default 60): any crash, hang or sanitizer report fails;
#  2. the C++ suite under AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. the release build with warnings as errors, and the whole suite under CTest
#     (C++ with Catch2, Python with pytest), with the artel executable built
#     by clang as well, whose results must be the same bit for bit;
#  4. the MPI build (preset mpi, warnings as errors): ranks under mpirun give
#     the serial build's file, fail and resume; a one-node Slurm runs the
#     sbatch script (tests/mpi/, docs/clusters.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs="$(nproc)"

# The release build (stage 3) compiles in the background from the start: the
# fuzzer runs on one core and the sanitizer build spends most of its time in
# one large translation unit (kernels/simd/step_simd.cpp, every instruction
# set), so the second core would otherwise sit idle.
ci_log="$(mktemp)"
corpus="$(mktemp -d)"
setsid scripts/build.sh ci >"$ci_log" 2>&1 &  # its own process group, to stop it on failure
ci_build=$!
trap 'kill -- "-$ci_build" 2>/dev/null || true; rm -rf "$corpus" "$ci_log"' EXIT

echo "== fuzzing the scenario parser for ${ARTEL_FUZZ_SECONDS:-60} s"
scripts/build.sh fuzz
cp tests/fuzz/corpus/* configs/*.toml "$corpus"/
./build/fuzz/fuzz_scenario "$corpus" -max_total_time="${ARTEL_FUZZ_SECONDS:-60}" -timeout=10 \
  -rss_limit_mb=2048 -artifact_prefix="$corpus/" -print_final_stats=1 2>&1 | tail -n 12
echo "fuzzing: no crash, hang or sanitizer report"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j "$jobs" -E '^python$'

echo "== release build (warnings are errors) and all tests"
if ! wait "$ci_build"; then
  cat "$ci_log"
  echo "release build failed" >&2
  exit 1
fi
tail -n 3 "$ci_log"
echo "== the executable built by clang too (tests/python/test_output.py compares its results)"
scripts/build.sh clang | tail -n 1
ARTEL_EXE_CLANG="$PWD/build/clang/artel" ctest --preset ci -j "$jobs"

echo "== the MPI build (preset mpi): ranks under mpirun, and a one-node Slurm (docs/clusters.md)"
mpi_start=$SECONDS
cmake --preset mpi -DARTEL_WERROR=ON >/dev/null
cmake --build --preset mpi -j "$jobs" --target artel | tail -n 1
echo "MPI build: $((SECONDS - mpi_start)) s"
ARTEL_SERIAL_EXE="$PWD/build/ci/artel" ctest --preset mpi -R '^mpi$'
echo "MPI stage (build and tests): $((SECONDS - mpi_start)) s"
