#!/usr/bin/env bash
# Sets everything up, builds artel and runs the default scenario
# (configs/nep-1923.toml: five policy arms, 200 replications of 20 000
# households over 1923-1942). Results: nep-1923.h5 in the repository root,
# figures in figures/. Extra arguments go to `artel run`, e.g.
#   scripts/run-default.sh --replications 2000 --threads 2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
out=nep-1923.h5
force=()
if [ -e "$out" ]; then
  echo "run-default: replacing the previous $out (the default run's own output)"
  force=(--force)
fi
./build/release/artel run configs/nep-1923.toml -o "$out" "${force[@]}" "$@"
if [ -x scripts/artel-plot ]; then
  scripts/artel-plot "$out" -o figures && echo "figures: $(pwd)/figures/"
fi
