#!/usr/bin/env bash
# A/B of this library's micro-benchmarks between two builds (e.g. a commit before and after a
# refactoring), alternated in one run so that both see the same machine state:
#
#   bench/ab_micro.sh OLD_BUILD_DIR NEW_BUILD_DIR          # each built with -DASYNCIO_BUILD_BENCHMARKS=ON
#   REPS=7 WORKLOADS="w1_spawn w2_switch w6_timers" bench/ab_micro.sh old/build new/build
#
# A build dir is what bench/run.sh makes (Release -O2): it holds bench/bench_<workload>. Each round
# runs every workload once with OLD then once with NEW (the order flips every round), after waiting
# up to 10 s for a quiet second (1-minute load below LOAD_MAX, default 1.5). It prints every
# measurement, then per workload and metric the median of each side and NEW/OLD (below 1 = NEW is
# faster for times, above 1 = NEW is faster for rates), and the host line (docs/benchmarks.md §1).
set -euo pipefail
old=${1:?old build dir}; new=${2:?new build dir}
REPS=${REPS:-5}
WORKLOADS=${WORKLOADS:-"w1_spawn w2_switch w6_timers"}
LOAD_MAX=${LOAD_MAX:-1.5}
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

quiet() {
  for _ in $(seq 20); do
    awk -v m="$LOAD_MAX" '{ exit !($1 < m) }' /proc/loadavg && return
    sleep 0.5
  done
}

echo "host: $(lscpu | sed -n 's/^Model name: *//p' | head -1); L2 $(lscpu | sed -n 's/^L2 cache: *//p'); $(date -u +%FT%TZ)"
for rep in $(seq "$REPS"); do
  if ((rep % 2)); then order="old new"; else order="new old"; fi
  for w in $WORKLOADS; do
    for side in $order; do
      dir=$old; [[ $side == new ]] && dir=$new
      quiet
      "$dir/bench/bench_$w" | while read -r workload _peer value unit; do
        echo "$side $workload $value $unit" | tee -a "$raw"
      done
    done
  done
done

python3 - "$raw" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, workload, value, unit = line.split()
    rows.setdefault((workload, unit), {}).setdefault(side, []).append(float(value))
print(f"{'workload':<20} {'unit':<12} {'old median':>11} {'new median':>11} {'new/old':>8}")
for (workload, unit), sides in sorted(rows.items()):
    o, n = statistics.median(sides.get("old", [0])), statistics.median(sides.get("new", [0]))
    print(f"{workload:<20} {unit:<12} {o:>11.4g} {n:>11.4g} {n / o if o else 0:>8.3f}")
EOF
