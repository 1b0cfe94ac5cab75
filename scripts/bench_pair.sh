#!/bin/bash
# Side-by-side timing of two builds of artel_bench on a shared, noisy host.
#
#   scripts/bench_pair.sh ROUNDS BENCH_A BENCH_B [FILTER]
#
# Each round runs A and B at the same time, one per core (taskset), and
# swaps the cores every round, so that a slower core (the other tenant of
# the host) slows both alike; each run reports the best of 3 repetitions of
# the Google Benchmark FILTER (default: the kernel alone on AVX2). Printed:
# every pair, the medians, and the median and quartiles of the paired ratios
# B/A. With A = B the ratios' median comes out within ~1% of 1; single pairs
# spread ±10%, so effects under ~3% are not resolved by 20 rounds.
#
# Example (CHANGELOG.md, 0.4.0):
#   git worktree add /tmp/base03 648a660 && (cd /tmp/base03 && scripts/build.sh release)
#   scripts/bench_pair.sh 20 /tmp/base03/build/release/bench/artel_bench build/release/bench/artel_bench
set -euo pipefail
if [[ $# -lt 3 ]]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
rounds=$1 a=$2 b=$3 filter=${4:-'BM_Scenario_2000hh_5arms_20y/avx2$'}
for x in "$a" "$b"; do [[ -x $x ]] || { echo "not an executable: $x" >&2; exit 2; }; done
out=$(mktemp)
trap 'rm -f "$out" "$out.a" "$out.b"' EXIT

# best items_per_second (in M/s) of 3 repetitions, on core $2
run() {
  ARTEL_BENCH_NO_DRAW_COUNT=1 taskset -c "$2" "$1" --benchmark_filter="$filter" --benchmark_min_time=0.2 \
    --benchmark_repetitions=3 2>/dev/null |
    grep -v '_mean\|_median\|_stddev\|_cv' | grep -o 'items_per_second=[0-9.]*[kMG]*' | cut -d= -f2 |
    /usr/bin/python3 -c '
import sys
f = {"k": 1e-3, "M": 1.0, "G": 1e3}
v = [float(x[:-1]) * f[x[-1]] if x[-1] in f else float(x) / 1e6 for x in sys.stdin.read().split()]
print(max(v) if v else "nan")'
}
for ((i = 0; i < rounds; i++)); do
  if ((i % 2)); then ca=1 cb=0; else ca=0 cb=1; fi
  run "$a" $ca > "$out.a" &
  run "$b" $cb > "$out.b"
  wait
  echo "$(cat "$out.a") $(cat "$out.b")" >> "$out"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$out" <<'EOF'
import statistics as st, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
for a, b in rows:
    print(f"A {a:6.2f}  B {b:6.2f}  B/A {b / a:.3f}")
r = sorted(b / a for a, b in rows)
q = lambda p: r[min(len(r) - 1, int(p * len(r)))]
print(f"medians (M household-years/s): A {st.median(a for a, _ in rows):.2f}  B {st.median(b for _, b in rows):.2f}")
print(f"paired ratio B/A: median {st.median(r):.3f}, quartiles {q(0.25):.3f} {q(0.75):.3f}, {len(r)} pairs")
EOF
