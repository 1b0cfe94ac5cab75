#!/usr/bin/env bash
# Sets everything up, builds artel (warnings are errors) and runs every test:
# the C++ suite (Catch2) and the Python suite (pytest) under CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh ci
ctest --preset ci -j "$(nproc)"
