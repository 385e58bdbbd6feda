#!/usr/bin/env bash
# A/B alternation of echo servers through the peers' measure.py (waits for a quiet second, retries
# disturbed runs), the same load as bench/echo.sh (echo_load -c 100, server CPU 1, load CPU 0):
#
#   bench/echo_ab.sh "old=build-old/bench/bench_echo_server" "new=build-bench/bench/bench_echo_server" \
#                    "asio=bench/results/echo-build/echo_asio"
#   (each argument: LABEL=[VAR=value ...] COMMAND; the port is appended)
#   REPS (rounds, default 3), DUR (s, 5), SIZES ("1024 16384"), MAX_WAIT (s, 20), TRIES (2)
#
# One line per run (req/s, server and load generator CPU us per request, disturb, load), appended to
# RES (default /tmp/netw/ab-TIME.txt), then the medians per server and size of the runs with
# disturb <= 5 %.
set -u
cd "$(dirname "$0")/.."
OUT=$PWD/bench/results/echo-build
PEERS=${PEERS_DIR:-$PWD/../shared/peers/net}
[ -d "$PEERS" ] || PEERS=/work/shared/peers/net
mkdir -p /tmp/netw
REPS=${REPS:-3}; DUR=${DUR:-5}; SIZES=${SIZES:-"1024 16384"}; MAX_WAIT=${MAX_WAIT:-20}; TRIES=${TRIES:-2}
RES=${RES:-/tmp/netw/ab-$(date +%H%M%S).txt}
port=19600
for rep in $(seq $REPS); do
  for spec in "$@"; do
    label=${spec%%=*}; cmd=${spec#*=}
    for size in $SIZES; do
      port=$((port + 1))
      taskset -c 1 env $cmd $port >/dev/null 2>&1 &
      pid=$!
      for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
      sleep 0.3
      spid=$(pgrep -P $pid | head -1); spid=${spid:-$pid}
      raw=$(mktemp)
      /usr/bin/python3 $PEERS/tools/measure.py --server-pid $pid --out "$raw" --tries $TRIES --max-foreign 5 --max-wait $MAX_WAIT -- \
        taskset -c 0 $OUT/echo_load -h 127.0.0.1 -p $port -c 100 -s $size -d $DUR -w 1 >/dev/null 2>&1
      rps=$(sed -n 's/.*RESULT rps=\([0-9]*\).*/\1/p' "$raw")
      srv=$(sed -n 's/.*server_proc=\([0-9.]*\)%.*/\1/p' "$raw")
      ldr=$(sed -n 's/.*loader_proc=\([0-9.]*\)%.*/\1/p' "$raw")
      dist=$(sed -n 's/.*disturb=\([0-9.]*\)%.*/\1/p' "$raw")
      sw=$(awk '/^voluntary_ctxt/ {print $2}' /proc/$spid/status)
      awk -v l=$label -v z=$size -v r="$rps" -v s="$srv" -v d="$ldr" -v x="$dist" -v sw="$sw" -v rep=$rep -v ld="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "%-10s %5d %7d srv_us=%.2f ldr_us=%.2f srv=%s%% ldr=%s%% disturb=%s%% srv_vcsw=%d rep=%d load=%s\n", l, z, r, s/100/r*1e6, d/100/r*1e6, s, d, x, sw, rep, ld }' | tee -a $RES
      rm -f "$raw"
      kill $pid; wait $pid 2>/dev/null; sleep 0.3
    done
  done
done
echo "# medians (runs with disturb <= 5)"
awk '{ split($8, a, "="); d = a[2] + 0; if (d > 5) next; k = $1 " " $2; n[k]++; r[k, n[k]] = $3; split($4, b, "="); c[k, n[k]] = b[2]; split($5, e, "="); l[k, n[k]] = e[2] }
  function med(arr, k, m,   i, j, t, v) { for (i = 1; i <= m; i++) v[i] = arr[k, i]; for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t } return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
  END { for (k in n) printf "%-18s n=%d rps=%.0f srv_us=%.2f ldr_us=%.2f\n", k, n[k], med(r, k, n[k]), med(c, k, n[k]), med(l, k, n[k]) }' $RES | sort
