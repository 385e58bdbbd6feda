#!/usr/bin/env bash
# Builds this library's micro-benchmarks and the peer programs, runs them side by side through the
# peers' harness (same pre-fault and quiet-machine rules), and prints the median table, the ratios to
# asyncio_cpp and the goals (how a run works, the workloads, the goals: docs/benchmarks.md §1-3).
#
# Usage: bench/run.sh [REPS]          REPS interleaved passes (default 3)
# Env:   WORKLOADS="w1_spawn w2_switch ..."  subset (default: every workload this library has)
#        PEERS="asyncio_cpp asyncio_cpp-gcc asyncio uvloop asio tokio go"  subset (default: all)
#        PEERS_DIR=/path/to/peers/micro  (default: the peers' micro directory beside the repository)
#        QUIET_MAX_WAIT / QUIET_CORES (see harness.py)
# Output: bench/results/{raw,env,table}-<stamp>.* (git-ignored); builds under bench/results/build-*.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
REPS=${1:-3}
PY=/usr/bin/python3   # Debian's python: it has uvloop
OUT=$REPO/bench/results
mkdir -p "$OUT"

if [ -z "${PEERS_DIR:-}" ]; then
  # The peers' directory beside the repository; worktrees under wt/ look one level further up.
  for d in "$REPO/../shared/peers/micro" "$REPO/../../shared/peers/micro"; do
    if [ -f "$d/harness.py" ]; then PEERS_DIR=$(cd "$d" && pwd); break; fi
  done
fi
[ -n "${PEERS_DIR:-}" ] && [ -f "$PEERS_DIR/harness.py" ] || { echo "peers not found: set PEERS_DIR" >&2; exit 1; }

OURS_ALL="w1_spawn w2_switch w3_memory w4_to_thread w5_queue w6_timers lock"
HAVE=""
for w in $OURS_ALL; do [ -f "$REPO/bench/$w.cpp" ] && HAVE="$HAVE $w"; done
WORKLOADS=${WORKLOADS:-$HAVE}
PEERS=${PEERS:-asyncio_cpp asyncio_cpp-gcc asyncio uvloop asio tokio go}
want() { [[ " $PEERS " == *" $1 "* ]]; }

echo "== build: asyncio_cpp (clang++-16, Release -O2) and asyncio_cpp-gcc (g++, Release -O2)"
build_ours() {  # dir compiler
  cmake -S "$REPO" -B "$1" -G Ninja -DCMAKE_CXX_COMPILER="$2" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DASYNCIO_BUILD_BENCHMARKS=ON \
    -DASYNCIO_BUILD_TESTS=OFF -DASYNCIO_BUILD_EXAMPLES=OFF >/dev/null
  ninja -C "$1" -j2 >/dev/null
}
want asyncio_cpp && build_ours "$OUT/build-clang" clang++-16
want asyncio_cpp-gcc && build_ours "$OUT/build-gcc" g++

echo "== build: peers from $PEERS_DIR (asio: g++ -O2; go build; cargo build --release --offline)"
PB=$OUT/peers
mkdir -p "$PB"
PEER_WORKLOADS=""
for w in $WORKLOADS; do [ -f "$PEERS_DIR/asio/$w.cpp" ] && PEER_WORKLOADS="$PEER_WORKLOADS $w"; done
if want asio; then
  for w in $PEER_WORKLOADS; do g++ -O2 -std=c++20 -pthread -o "$PB/asio_$w" "$PEERS_DIR/asio/$w.cpp" & done
  wait
fi
if want go; then
  (cd "$PEERS_DIR/go" && for w in $PEER_WORKLOADS; do go build -o "$PB/go_$w" "./$w"; done)
  [[ " $WORKLOADS " == *" lock "* ]] && go build -o "$PB/go_lock" "$REPO/bench/peers/lock.go"
fi
TOKIO=0
if want tokio; then
  # Debian's crates (librust-tokio-dev) in /usr/share/cargo/registry; the peers dir is read-only,
  # so the target dir is ours.
  if (cd "$PEERS_DIR/tokio" && cargo build --release --offline -q --target-dir "$PB/tokio-target"); then
    TOKIO=1
  else
    echo "tokio: does not build offline here (is librust-tokio-dev installed?); skipped" >&2
  fi
fi

STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/raw-$STAMP.txt
ENVF=$OUT/env-$STAMP.txt
{
  echo "date: $(date -Is)"
  echo "command: bench/run.sh $REPS  WORKLOADS=\"${WORKLOADS# }\"  PEERS=\"$PEERS\""
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- include src bench || echo ' (modified)')"
  echo "nproc: $(nproc)   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
  echo "kernel: $(uname -r)   debian: $(cat /etc/debian_version)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "clang: $(clang++-16 --version | head -1)   g++: $(g++ --version | head -1)"
  echo "python: $($PY -c 'import sys; print(sys.version.split()[0])')   uvloop: $($PY -c 'import uvloop; print(uvloop.__version__)' 2>/dev/null || echo none)"
  echo "go: $(go version 2>/dev/null | cut -d' ' -f3)   rust: $(rustc --version 2>/dev/null)   tokio built: $TOKIO"
  echo "boost: $(grep 'define BOOST_LIB_VERSION' /usr/include/boost/version.hpp | cut -d'"' -f2)"
} | tee "$ENVF"

run() { "$PY" "$PEERS_DIR/harness.py" "$LOG" "$rep" -- timeout 300 "$@" || true; }

for rep in $(seq 1 "$REPS"); do
  echo "== pass $rep/$REPS"
  for w in $WORKLOADS; do
    # Same rule as the peers' own runs: only the RSS-heavy timed workloads get pre-faulted memory.
    case $w in w1_spawn|w6_timers) export PREFAULT_MB=2560 ;; *) export PREFAULT_MB=0 ;; esac
    if want asyncio_cpp; then
      run "$OUT/build-clang/bench/bench_$w"
      [ $w = w1_spawn ] && run "$OUT/build-clang/bench/bench_$w" --lazy
    fi
    if want asyncio_cpp-gcc; then
      run "$OUT/build-gcc/bench/bench_$w"
      [ $w = w1_spawn ] && run "$OUT/build-gcc/bench/bench_$w" --lazy
    fi
    if [ $w = lock ]; then  # peers written here (bench/peers), not in PEERS_DIR
      want asyncio && run "$PY" "$REPO/bench/peers/lock.py" asyncio
      want uvloop && run "$PY" "$REPO/bench/peers/lock.py" uvloop
      want go && run env GOMAXPROCS=1 "$PB/go_lock"
      continue
    fi
    [[ " $PEER_WORKLOADS " == *" $w "* ]] || continue
    want asyncio && run "$PY" "$PEERS_DIR/py/$w.py" asyncio
    want uvloop && run "$PY" "$PEERS_DIR/py/$w.py" uvloop
    want asio && run "$PB/asio_$w"
    if [ $TOKIO = 1 ]; then
      run "$PB/tokio-target/release/$w"
      [ $w = w4_to_thread ] && run "$PB/tokio-target/release/$w" 4
    fi
    if want go; then
      # As the peers' own runs: W2 is a one-thread ping-pong (P=1 only); W4 is goroutine-per-job (P=2 only).
      [ $w != w4_to_thread ] && run env GOMAXPROCS=1 "$PB/go_$w"
      [ $w != w2_switch ] && run env GOMAXPROCS=2 "$PB/go_$w"
    fi
  done
done

echo "end: $(date -Is)   load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$ENVF"
"$PY" "$REPO/bench/report.py" "$LOG" | tee "$OUT/table-$STAMP.md"
echo; echo "raw: $LOG   env: $ENVF   table: $OUT/table-$STAMP.md"
