#!/usr/bin/env bash
# Benchmarks artel and prints the figures of docs/performance.md, each
# comparison measured side by side in this one run (the machine is shared and
# noisy: runs are alternated and the median of REPS is reported):
#   - the default scenario as it ships (configs/nep-1923.toml: five arms, all
#     mechanisms on, 200 replications): household-years/s at 1 and 2 threads,
#     parallel efficiency, peak memory, and the share of the threads' time
#     spent outside the kernels (statistics, histograms, merging, output),
#     which artel measures in the run itself and prints;
#   - the same work by the independent NumPy implementation
#     (scripts/numpy_model.py), and by artel's scalar reference kernel;
#   - one replication of 1 000 000 households at 1 and 2 threads;
#   - the kernel alone per instruction set, the cost of each step (what
#     switching its mechanism off saves), Philox and uniform throughput and the
#     RNG-bound ceiling (vector uniforms/s / random words per household-year);
#   - the 100-million-household study (configs/study-100m.toml), once, 2 threads.
# Usage: scripts/bench.sh [REPS]   (default 3; about 8 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores; the host is shared)"
scripts/build.sh release >/dev/null
artel=build/release/artel
bench=build/release/bench/artel_bench
scenario=configs/nep-1923.toml
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# run LABEL CONFIG ARGS...: one run; appends "rate rss_kb layout_s sim_s stats_s kernel_share wall_s" to $tmp/LABEL
run() {
  local label="$1" config="$2"; shift 2
  rm -f "$tmp/out.h5"*
  /usr/bin/time -f "%M %e" -o "$tmp/rss" "$artel" run "$config" -o "$tmp/out.h5" --progress log "$@" \
    >"$tmp/stdout" 2>/dev/null
  local line
  line="$(grep 'household-years/s;' "$tmp/stdout")"
  /usr/bin/python3 - "$line" "$(cat "$tmp/rss")" >>"$tmp/$label" <<'PY'
import re, sys
line, (rss, wall) = sys.argv[1], sys.argv[2].split()
rate = re.search(r"\(([\d.]+) ([kMG]?) ?household-years/s", line)
mult = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[rate.group(2)]
t = [float(re.search(rf"{k} ([\d.]+) s", line).group(1)) for k in ("file layout", "simulation and rows", "statistics")]
kern = re.search(r"in the kernels ([\d.]+)%", line)
print(float(rate.group(1)) * mult, rss, *t, float(kern.group(1)) / 100 if kern else "nan", wall)
PY
}
# numpy LABEL ARGS...: the NumPy implementation's rate (household-years/s)
numpy() {
  local label="$1"; shift
  /usr/bin/python3 scripts/numpy_model.py "$scenario" --print-rate "$@" 2>/dev/null | tail -1 >>"$tmp/$label"
}

one=(--replications 1 --set population.villages=10000 --set output.trajectory_households=0)  # 1 000 000 households
for r in $(seq "$reps"); do
  run many1 "$scenario" --threads 1
  run many2 "$scenario" --threads 2
  run one1 "$scenario" "${one[@]}" --threads 1
  run one2 "$scenario" "${one[@]}" --threads 2
  run ref1 "$scenario" --replications 4 --threads 1 --simd reference
  numpy numpy1 --replications 4
done
run study configs/study-100m.toml --threads 2

# The kernel alone, scalar reference against every instruction set, the steps,
# and the random-number figures (Google Benchmark, JSON). Repetitions are
# interleaved at random, so that a burst of load on the shared host spreads
# over all benchmarks instead of spoiling one.
"$bench" --benchmark_filter='BM_Scenario_2000hh_5arms_20y|BM_StepYear_2000hh_sufficiency|BM_StepYear_without|BM_UniformSimd|BM_PhiloxSimd_1block|BM_PhiloxRandom123' \
  --benchmark_min_time=0.2 --benchmark_repetitions="$((reps + 2))" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$tmp/kernel.json" 2>/dev/null || true

# Instructions per household-year of the year step (callgrind: exact and
# independent of the load on the host, unlike times), for the instruction set
# in use (all mechanisms on, and each one off: what it costs) and the scalar
# reference: bench/unit/kernel_unit.cpp runs one 2000-household unit of the
# five arms x 20 years (200 000 household-years).
if command -v valgrind >/dev/null; then
  unit=build/release/bench/artel_kernel_unit
  target="$("$artel" run "$scenario" -o "$tmp/k.h5" --dry-run 2>/dev/null | sed -n 's/.*kernel.*simd \([a-z0-9_]*\).*/\1/p' | head -n 1)"
  count() {  # count TARGET [MECHANISM]: appends "TARGET MECHANISM instructions" to $tmp/instr
    local fn
    if [ "$1" = reference ]; then fn='artel::model::step_year*'; else fn="artel::model::simd_detail::N_${1^^}::StepYear*"; fi
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --toggle-collect="$fn" "$unit" "$@" >/dev/null 2>&1 || return 0
    echo "$1 ${2:-none} $(callgrind_annotate "$tmp/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')" >>"$tmp/instr"
  }
  if [ -n "$target" ]; then
    for m in "" adoption weather reserve credit famine demography market bonus literacy all; do count "$target" $m; done
  fi
  count reference
fi

/usr/bin/python3 - "$tmp" "$artel" <<'PY'
import statistics, subprocess, sys, json
tmp = sys.argv[1]
def load(label):
    rows = [list(map(float, l.split())) for l in open(f"{tmp}/{label}") if l.strip()]
    keys = ["rate", "rss", "layout", "sim", "stats", "kernel", "wall"]
    return {k: statistics.median(r[i] for r in rows) for i, k in enumerate(keys) if all(len(r) > i for r in rows)}
m1, m2, o1, o2, ref, study = (load(x) for x in ("many1", "many2", "one1", "one2", "ref1", "study"))
try:
    npy = statistics.median(float(l) for l in open(f"{tmp}/numpy1") if l.strip())
except (OSError, ValueError, statistics.StatisticsError):
    npy = None
kernel = subprocess.run([sys.argv[2], "run", "configs/nep-1923.toml", "-o", f"{tmp}/k.h5", "--dry-run"],
                        capture_output=True, text=True).stdout
kernel = next((l.split(":", 1)[1].strip() for l in kernel.splitlines() if "kernel" in l), "?")
print(f"artel benchmark (median of runs; kernel {kernel})")
print(f"default scenario (configs/nep-1923.toml: 5 arms, all mechanisms, 200 replications, 400 M household-years):")
print(f"  1 thread : {m1['rate']/1e6:7.1f} M household-years/s")
print(f"  2 threads: {m2['rate']/1e6:7.1f} M household-years/s   parallel efficiency {m2['rate']/(2*m1['rate']):.0%} ({m2['rate']/m1['rate']:.2f}x)")
print(f"  scalar reference kernel, 1 thread: {ref['rate']/1e6:.1f} M/s -> vectorised is {m1['rate']/ref['rate']:.1f}x")
if npy:
    print(f"  NumPy implementation (scripts/numpy_model.py, 4 replications): {npy/1e6:.2f} M/s -> "
          f"artel is {m1['rate']/npy:.1f}x on 1 thread, {m2['rate']/npy:.1f}x on 2")
else:
    print("  NumPy implementation: not measured")
print(f"  peak memory: {m2['rss']/1024:.0f} MiB (2 threads)")
print(f"  time outside the kernels (measured in the run: threads x wall - time in init_block and step_year):")
for lab, m in (("1 thread ", m1), ("2 threads", m2)):
    print(f"    {lab}: {1 - m['kernel']:.1%} of {m['wall']:.1f} s (file layout {m['layout']:.2f} s, statistics "
          f"{m['stats']:.2f} s; the rest is histograms, Gini bins, merging, rows and the checkpoint journal)")
print(f"one replication of 1 000 000 households (100 M household-years):")
print(f"  1 thread : {o1['rate']/1e6:7.1f} M/s; 2 threads: {o2['rate']/1e6:7.1f} M/s ({o2['rate']/o1['rate']:.2f}x); "
      f"peak memory {o2['rss']/1024:.0f} MiB")
print(f"study of 100 M households x 20 years, one arm (configs/study-100m.toml, 2 G household-years), 2 threads:")
print(f"  {study['wall']:.1f} s wall, {study['rate']/1e6:.1f} M household-years/s, peak memory {study['rss']/1024:.0f} MiB")

try:
    b = json.load(open(f"{tmp}/kernel.json"))["benchmarks"]
except Exception as e:
    print(f"kernel benchmark: not measured ({e})")
    sys.exit(0)
med = {x["run_name"]: x for x in b if x.get("aggregate_name") == "median"}
def rate(name):
    return med[name]["items_per_second"] if name in med else None
scen = {n.split("/")[-1]: x for n, x in med.items() if n.startswith("BM_Scenario_2000hh_5arms_20y/")}
best = None
for name, x in scen.items():
    if name != "scalar-ref" and (best is None or x["items_per_second"] > best[1]):
        best = (name, x["items_per_second"], x)
print("kernel alone (init + 5 arms x 20 years of a 2000-household block, 1 thread, median):")
ref_rate = scen["scalar-ref"]["items_per_second"] if "scalar-ref" in scen else None
order = ["scalar-ref", "avx3_zen4", "avx3", "avx2", "sse4", "ssse3", "emu128", "scalar"]
for name, x in sorted(scen.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
    r = x["items_per_second"]
    rel = f"  ({r/ref_rate:.1f}x the scalar reference)" if ref_rate and name != "scalar-ref" else ""
    print(f"  {name:11s}: {r/1e6:6.1f} M household-years/s{rel}")
if best:
    on = rate(f"BM_StepYear_2000hh_sufficiency/{best[0]}")
    rows = [(n.split("/")[1], x["items_per_second"]) for n, x in med.items()
            if n.startswith("BM_StepYear_without/") and n.endswith("/" + best[0])]
    if on and rows:
        print(f"cost of each step ({best[0]}, arm sufficiency, 2000 households; all on: {1e9/on:.1f} ns per household-year):")
        for mech, r in sorted(rows, key=lambda mr: mr[1], reverse=True):
            print(f"  {mech:11s}: {1e9/on - 1e9/r:5.1f} ns per household-year (off: {r/1e6:.1f} M/s)")
uni = {n.split("/")[-1]: x["items_per_second"] for n, x in med.items() if n.startswith("BM_UniformSimd/")}
phx = {n.split("/")[-1]: x["items_per_second"] for n, x in med.items() if n.startswith("BM_PhiloxSimd_1block/")}
r123 = rate("BM_PhiloxRandom123")
if best and best[0] in uni:
    name, krate, x = best
    used, gen = x.get("words_used_per_hhy"), x.get("words_generated_per_hhy")
    u = uni[name]
    print(f"random numbers ({name}): Philox {phx.get(name, 0)/1e9:.2f} G words/s (Random123 scalar "
          f"{(r123 or 0)/1e9:.2f}), uniforms {u/1e9:.2f} G/s")
    print(f"  words per household-year: {used:.1f} read by the model, {gen:.1f} computed by the vector kernel")
    print(f"  RNG-bound ceiling {u/used/1e6:.0f} M household-years/s (words read) or {u/gen/1e6:.0f} M/s (words "
          f"computed); the kernel reaches {krate/(u/used):.0%} / {krate/(u/gen):.0%} of it")
try:
    rows = [l.split() for l in open(f"{tmp}/instr") if l.strip()]
    per = {(t, m): int(ir) / 200000 for t, m, ir in rows}
    print("instructions per household-year in the year step (callgrind; 5 arms x 20 years x 2000 households):")
    for (t, m), v in per.items():
        if m == "none":
            print(f"  {t:11s}: {v:7.0f}")
    offs = [(m, v) for (t, m), v in per.items() if m not in ("none", "all") and (t, "none") in per]
    if offs:
        t = next(t for (t, m) in per if m != "none")
        on = per[(t, "none")]
        print(f"  cost of each step ({t}; what switching it off saves):",
              ", ".join(f"{m} {on - v:.0f}" for m, v in sorted(offs, key=lambda mv: mv[1])),
              f"; with every mechanism off {per.get((t, 'all'), float('nan')):.0f}")
except OSError:
    print("instructions per household-year: not measured (no valgrind)")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
