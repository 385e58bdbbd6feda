#!/usr/bin/env bash
# Log writer: the library's example `log_writer` (examples/) side by side with its peers on the same work
# (bench/README.md, "Log writer": the scenario, the rules every program follows, the goals).
#
# Usage: bench/log_writer.sh [--messages N] [--files F] [--runs R] [--programs "P ..."]
#          defaults 1,000,000 messages, 100 files, 3 runs of every program; --programs picks some of
#          ours cxx py_sync py_aiofiles_task_per_message py_aiofiles_sequential (e.g. "ours cxx")
# Env:   NICE="nice -n 10"   prefix of every build and run command (NICE= to run at normal priority)
#
# Builds (clang++-16, Release -O2, as bench/run.sh; build dir bench/results/build-log-writer) the
# example `log_writer` and the plain blocking C++ peer `bench_log_writer_blocking`; the Python peers
# (bench/peers/log_writer.py, Debian's python3 with python3-aiofiles) run from their source. Then R
# passes, each running every program once in a rotated order, each in a fresh directory under a
# temporary directory in /tmp that is removed at the end. Every program checks its own files (not
# timed) and prints "way <name> total <seconds>". Prints the host, the commit, the median table and
# the ratios for the goals. Raw lines: bench/results/log_writer-<stamp>.txt (git-ignored).
# Without the example's source the peers run alone and the library's rows say "pending".
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
MESSAGES=1000000
FILES=100
RUNS=3
ONLY=""
while (($#)); do
  case $1 in
    --messages) MESSAGES=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --programs) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "log_writer.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
for v in "$MESSAGES" "$FILES" "$RUNS"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "log_writer.sh: counts must be positive integers" >&2; exit 2; }
done
NICE=${NICE-nice -n 10}
PY=/usr/bin/python3   # Debian's python, with Debian's python3-aiofiles
OUT=$REPO/bench/results
BUILD=$OUT/build-log-writer
mkdir -p "$OUT"

# python3-aiofiles is in the project's package list: installed here as root, else the sudo line.
"$REPO/scripts/ensure_deps.sh"
"$PY" -c 'import aiofiles' 2>/dev/null || { echo "log_writer.sh: $PY cannot import aiofiles" >&2; exit 1; }

HAVE_OURS=0
[ -f "$REPO/examples/log_writer.cpp" ] && HAVE_OURS=1
echo "== build: clang++-16 Release -O2 in $BUILD ($( ((HAVE_OURS)) && echo "log_writer, ")bench_log_writer_blocking)"
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
EXAMPLES=OFF
((HAVE_OURS)) && EXAMPLES=ON
$NICE cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DASYNCIO_BUILD_BENCHMARKS=ON -DASYNCIO_BUILD_TESTS=OFF \
  -DASYNCIO_BUILD_EXAMPLES=$EXAMPLES "${LAUNCHER[@]}" >/dev/null
TARGETS=(bench_log_writer_blocking)
((HAVE_OURS)) && TARGETS+=(log_writer)
$NICE ninja -C "$BUILD" -j2 "${TARGETS[@]}" >/dev/null

# Programs: name | implementation label | command (without --dir)
PROGRAMS=(cxx py_sync py_aiofiles_task_per_message py_aiofiles_sequential)
((HAVE_OURS)) && PROGRAMS=(ours "${PROGRAMS[@]}")
if [ -n "$ONLY" ]; then
  for p in $ONLY; do
    [[ " ${PROGRAMS[*]} " == *" $p "* ]] || { echo "log_writer.sh: no program $p here (${PROGRAMS[*]})" >&2; exit 2; }
  done
  read -r -a PROGRAMS <<<"$ONLY"
fi
command_of() {  # program -> CMD, IMPL
  local size=(--messages "$MESSAGES" --files "$FILES")
  case $1 in
    ours) CMD=("$BUILD/examples/log_writer" "${size[@]}"); IMPL=asyncio_cpp ;;
    cxx) CMD=("$BUILD/bench/bench_log_writer_blocking" "${size[@]}"); IMPL=cxx_posix ;;
    py_*) CMD=("$PY" "$REPO/bench/peers/log_writer.py" --way "${1#py_}" "${size[@]}"); IMPL=python ;;
  esac
}

TMP=$(mktemp -d /tmp/log_writer.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
STAMP=$(date +%Y%m%d-%H%M%S)
RAW=$OUT/log_writer-$STAMP.txt
COMMIT="$(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- include src examples bench || echo ' (modified)')"
HOST="$(lscpu | sed -n 's/^Model name: *//p' | head -1), L2 $(lscpu | sed -n 's/^L2 cache: *//p' | head -1), $(nproc) CPUs"
{
  echo "# date: $(date -Is)"
  echo "# command: bench/log_writer.sh --messages $MESSAGES --files $FILES --runs $RUNS${ONLY:+ --programs \"$ONLY\"}"
  echo "# commit: $COMMIT"
  echo "# host: $HOST"
  echo "# kernel: $(uname -r)   /tmp: $(stat -f -c %T /tmp)   debian: $(cat /etc/debian_version)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# ASYNCIO_BACKEND: ${ASYNCIO_BACKEND:-unset, the default}"
  echo "# clang: $(clang++-16 --version | head -1)   python: $("$PY" -c 'import sys; print(sys.version.split()[0])')   aiofiles: $(dpkg-query -W -f='${Version}' python3-aiofiles 2>/dev/null || echo '?')"
} | tee "$RAW"

FAILED=0
n=${#PROGRAMS[@]}
for rep in $(seq 1 "$RUNS"); do
  echo "== pass $rep/$RUNS"
  for j in $(seq 0 $((n - 1))); do
    prog=${PROGRAMS[$(((j + rep - 1) % n))]}  # rotated: each pass starts with the next program
    command_of "$prog"
    dir=$TMP/$prog
    mkdir "$dir"
    rc=0
    $NICE timeout 3600 "${CMD[@]}" --dir "$dir" >"$TMP/out" 2>"$TMP/err" || rc=$?
    if ((rc != 0)); then
      echo "$prog: exit status $rc:" >&2; tail -5 "$TMP/err" >&2
      FAILED=1
    else
      sed -n 's/^way \([A-Za-z0-9_]*\) total \([0-9.eE+-]*\)$/\1 \2/p' "$TMP/out" | while read -r way secs; do
        echo "$IMPL $way $secs pass=$rep load=$(cut -d' ' -f1 /proc/loadavg)"
      done | tee -a "$RAW"
    fi
    rm -rf "$dir"
  done
done
echo "# end: $(date -Is)   load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"

echo
"$PY" - "$RAW" "$HAVE_OURS" <<'PYEOF'
import collections, statistics, sys
raw, have_ours = sys.argv[1], sys.argv[2] == "1"
times = collections.defaultdict(list)
head = {}
for line in open(raw):
    if line.startswith("# "):
        key, _, value = line[2:].partition(": ")
        head[key] = value.strip()
        continue
    p = line.split()
    if len(p) >= 3:
        times[(p[0], p[1])].append(float(p[2]))
med = {k: statistics.median(v) for k, v in times.items()}
order = [("asyncio_cpp", "blocking"), ("asyncio_cpp", "task_per_message"), ("asyncio_cpp", "batched"),
         ("cxx_posix", "blocking_per_message"), ("cxx_posix", "blocking_buffered"), ("cxx_posix", "blocking_batched"),
         ("python", "sync"), ("python", "aiofiles_task_per_message"), ("python", "aiofiles_sequential")]
order += sorted(k for k in times if k not in order)
print(f"{head.get('command', '')}\ncommit {head.get('commit', '?')}, {head.get('date', '?')}\nhost: {head.get('host', '?')}\n")
print("| implementation | way | median s | min..max s | runs |")
print("|---|---|---:|---:|---:|")
for k in order:
    if k in times:
        v = times[k]
        print(f"| {k[0]} | {k[1]} | {med[k]:.3f} | {min(v):.3f}..{max(v):.3f} | {len(v)} |")
    elif k[0] == "asyncio_cpp":
        print(f"| {k[0]} | {k[1]} | {'pending' if not have_ours else 'missing'} | | 0 |")

def ratio(a, b):
    return med[a] / med[b] if a in med and b in med and med[b] > 0 else None

OURS_TPM, OURS_BATCH = ("asyncio_cpp", "task_per_message"), ("asyncio_cpp", "batched")
rows = [  # label, numerator, denominator, goal (op, bound) or None
    ("asyncio_cpp task_per_message / cxx_posix blocking_per_message", OURS_TPM, ("cxx_posix", "blocking_per_message"), ("<=", 1.0)),
    ("asyncio_cpp task_per_message / cxx_posix blocking_buffered (both 64 KiB buffers)", OURS_TPM, ("cxx_posix", "blocking_buffered"), None),
    ("asyncio_cpp batched / cxx_posix blocking_batched", OURS_BATCH, ("cxx_posix", "blocking_batched"), ("<=", 1.0)),
    ("python aiofiles_task_per_message / asyncio_cpp task_per_message", ("python", "aiofiles_task_per_message"), OURS_TPM, (">=", 20.0)),
    ("python sync / asyncio_cpp task_per_message", ("python", "sync"), OURS_TPM, None),
    ("python sync / asyncio_cpp batched", ("python", "sync"), OURS_BATCH, None),
    ("asyncio_cpp blocking / cxx_posix blocking_per_message", ("asyncio_cpp", "blocking"), ("cxx_posix", "blocking_per_message"), None),
    ("python aiofiles_task_per_message / python sync", ("python", "aiofiles_task_per_message"), ("python", "sync"), None),
    ("python aiofiles_sequential / python sync", ("python", "aiofiles_sequential"), ("python", "sync"), None),
    ("python sync / cxx_posix blocking_per_message", ("python", "sync"), ("cxx_posix", "blocking_per_message"), None),
    ("python aiofiles_task_per_message / cxx_posix blocking_per_message", ("python", "aiofiles_task_per_message"), ("cxx_posix", "blocking_per_message"), None),
    ("python sync / cxx_posix blocking_buffered", ("python", "sync"), ("cxx_posix", "blocking_buffered"), None),
    ("cxx_posix blocking_per_message / cxx_posix blocking_batched", ("cxx_posix", "blocking_per_message"), ("cxx_posix", "blocking_batched"), None),
]
print("\n| ratio of median times | x | goal |")
print("|---|---:|---|")
for label, a, b, goal in rows:
    r = ratio(a, b)
    x = f"{r:.2f}" if r is not None else ("pending" if not have_ours and "asyncio_cpp" in label else "n/a")
    if goal is None:
        verdict = ""
    elif r is None:
        verdict = f"{goal[0]} {goal[1]:g}x: " + ("pending" if not have_ours else "n/a")
    else:
        met = r <= goal[1] if goal[0] == "<=" else r >= goal[1]
        verdict = f"{goal[0]} {goal[1]:g}x: {'met' if met else 'MISSED'}"
    print(f"| {label} | {x} | {verdict} |")
if not have_ours:
    print("\nexamples/log_writer.cpp is not in this tree: the library's rows and its goals are pending.")
PYEOF
echo; echo "raw: $RAW"
exit $FAILED
