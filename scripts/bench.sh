#!/usr/bin/env bash
# Benchmarks artel on a fixed scenario and prints the figures of
# docs/performance.md: household-years per second at 1 and 2 threads (median
# of REPS runs, alternated so that machine noise hits both alike), parallel
# efficiency, the vectorised kernel against the scalar reference kernel, peak
# memory, the share of time outside the kernels, one replication of 1 000 000
# households, and the ratio to the RNG-bound ceiling.
# Usage: scripts/bench.sh [REPS]   (default 3; about 3 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
scripts/build.sh release >/dev/null
artel=build/release/artel
scenario=configs/nep-1923.toml
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# run LABEL ARGS...: one run; appends "rate rss_kb layout_s sim_s stats_s" to $tmp/LABEL
run() {
  local label="$1"; shift
  rm -f "$tmp/out.h5"*
  /usr/bin/time -f "%M" -o "$tmp/rss" "$artel" run "$scenario" -o "$tmp/out.h5" --progress log "$@" \
    >"$tmp/stdout" 2>/dev/null
  local line
  line="$(grep 'household-years/s;' "$tmp/stdout")"
  /usr/bin/python3 - "$line" "$(cat "$tmp/rss")" >>"$tmp/$label" <<'PY'
import re, sys
line, rss = sys.argv[1], sys.argv[2]
rate = re.search(r"\(([\d.]+) ([kMG]?) ?household-years/s", line)
mult = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[rate.group(2)]
t = [float(x) for x in re.findall(r"([\d.]+) s", line)]
print(float(rate.group(1)) * mult, rss, *t)
PY
}

many=(--replications 40)                          # 5 arms x 40 x 20 000 households x 20 years = 80 M
one=(--replications 1 --set population.villages=10000 --set output.trajectory_households=0)  # 1 000 000 households
for r in $(seq "$reps"); do
  run many1 "${many[@]}" --threads 1
  run many2 "${many[@]}" --threads 2
  run one1 "${one[@]}" --threads 1
  run one2 "${one[@]}" --threads 2
  run ref1 --replications 4 --threads 1 --simd reference
done

/usr/bin/python3 - "$tmp" "$artel" <<'PY'
import statistics, subprocess, sys, json
tmp = sys.argv[1]
def load(label):
    rows = [list(map(float, l.split())) for l in open(f"{tmp}/{label}")]
    return {k: statistics.median(r[i] for r in rows) for i, k in enumerate(["rate", "rss", "layout", "sim", "stats"])}
m1, m2, o1, o2, ref = (load(x) for x in ("many1", "many2", "one1", "one2", "ref1"))
kernel = subprocess.run([sys.argv[2], "run", "configs/nep-1923.toml", "-o", f"{tmp}/k.h5", "--dry-run"],
                        capture_output=True, text=True).stdout
kernel = next((l.split(":", 1)[1].strip() for l in kernel.splitlines() if "kernel" in l), "?")
print(f"artel benchmark (median of runs; kernel {kernel})")
print(f"default scenario, 40 replications (80 M household-years):")
print(f"  1 thread : {m1['rate']/1e6:7.1f} M household-years/s")
print(f"  2 threads: {m2['rate']/1e6:7.1f} M household-years/s   parallel efficiency {m2['rate']/(2*m1['rate']):.0%} ({m2['rate']/m1['rate']:.2f}x)")
print(f"  scalar reference kernel, 1 thread: {ref['rate']/1e6:.1f} M/s -> vectorised is {m1['rate']/ref['rate']:.1f}x")
tot = m2['layout'] + m2['sim'] + m2['stats']
print(f"  peak memory: {m2['rss']/1024:.0f} MiB; time outside the simulation loop (file layout + statistics): "
      f"{(m2['layout'] + m2['stats'])/tot:.1%} of {tot:.1f} s")
print(f"one replication of 1 000 000 households (100 M household-years):")
print(f"  1 thread : {o1['rate']/1e6:7.1f} M/s; 2 threads: {o2['rate']/1e6:7.1f} M/s ({o2['rate']/o1['rate']:.2f}x); "
      f"peak memory {o2['rss']/1024:.0f} MiB")
# RNG ceiling: vector uniform throughput / uniforms per household-year.
out = subprocess.run(["build/release/bench/artel_bench", "--benchmark_filter=BM_UniformSimd/avx3|BM_UniformSimd/avx2",
                      "--benchmark_format=json", "--benchmark_min_time=0.2"], capture_output=True, text=True).stdout
try:
    b = json.loads(out)["benchmarks"]
    u = max(x["items_per_second"] for x in b)
    words = 32  # Philox words a household-year draws on average (docs/performance.md explains the count)
    ceiling = u / words
    print(f"RNG-bound ceiling: {u/1e9:.2f} G uniforms/s / {words} per household-year = {ceiling/1e6:.0f} M household-years/s "
          f"per core; the kernel reaches {m1['rate']/ceiling:.0%} of it")
except Exception as e:  # benchmark binary missing or filtered out
    print(f"RNG-bound ceiling: not measured ({e})")
PY
