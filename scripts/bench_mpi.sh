#!/usr/bin/env bash
# Weak and strong scaling of MPI ranks on this machine (loopback), for
# docs/performance.md ("Ranks: scaling, and what clusters will cost").
# Every configuration runs REPEAT times (default 3), alternated; the table
# gives the best wall time of the whole command (mpirun's start, the file's
# layout, the run, the statistics) and the median, and the efficiency from
# the best times.
#
#   scripts/bench_mpi.sh [REPEAT]      (needs the mpi build: scripts/build.sh mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-3}
exe=${ARTEL_MPI_EXE:-build/mpi/artel}
[ -x "$exe" ] || { echo "no $exe: build it with scripts/build.sh mpi" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_rmaps_base_oversubscribe=1
# Each rank bound to its own cores, as many as its threads (mpirun binds a
# rank to one core by default: a rank of 2 threads would run on one).
# The default population (200 villages x 100 households), five arms, 20 years.
scenario=configs/nep-1923.toml
per_rank=${PER_RANK:-24}  # replications per rank (weak scaling) = 48 M household-years

# name ranks threads replications [extra --set ...]
configs=(
  "weak-1x1    1 1 $((per_rank))"
  "weak-2x1    2 1 $((2 * per_rank))"
  "weak-1x2    1 2 $((2 * per_rank))"
  "strong-1x1  1 1 $((2 * per_rank))"
  "strong-2x1  2 1 $((2 * per_rank))"
  "strong-1x2  1 2 $((2 * per_rank))"
  "huge-1x1    1 1 1 --set population.villages=10000"
  "huge-2x1    2 1 1 --set population.villages=10000"
)
declare -A times
for ((k = 0; k < repeat; ++k)); do
  for c in "${configs[@]}"; do
    read -r name ranks threads reps extra <<<"$c"
    out="$work/$name.h5"
    rm -f "$out"
    start=$(date +%s.%N)
    OMP_NUM_THREADS=$threads mpirun --allow-run-as-root -np "$ranks" --map-by "slot:PE=$threads" --bind-to core "$exe" run "$scenario" -o "$out" --quiet \
      --threads "$threads" --replications "$reps" $extra >/dev/null
    end=$(date +%s.%N)
    times[$name]+="$(echo "$end - $start" | bc) "
  done
done
best() { tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -g | head -n 1; }
median() { tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
printf "%-12s %6s %8s %10s %10s %10s\n" config ranks threads best_s median_s efficiency
for c in "${configs[@]}"; do
  read -r name ranks threads reps _ <<<"$c"
  b=$(best "$name")
  case $name in
    weak-*) eff=$(echo "scale=3; $(best weak-1x1) / $b" | bc) ;;
    strong-*) eff=$(echo "scale=3; $(best strong-1x1) / ($b * $ranks * $threads)" | bc) ;;
    huge-*) eff=$(echo "scale=3; $(best huge-1x1) / ($b * $ranks * $threads)" | bc) ;;
  esac
  printf "%-12s %6s %8s %10.2f %10.2f %10s\n" "$name" "$ranks" "$threads" "$b" "$(median "$name")" "$eff"
done
