#!/usr/bin/env bash
# What each side of the echo benchmark pays per request: the load generator (echo_load -c 100, CPU 0)
# and the server (CPU 1), counted system-wide per CPU over SECS (default 3) after a 1.2 s warm-up.
# Needs root (perf tracepoints) and the binaries bench/echo.sh builds.
#
#   bench/echo_cpu_counts.sh NAME SIZE [SECS]    NAME: asyncio_cpp | c_epoll | asio_coro | any command
#   SRV=path/to/bench_echo_server SRVENV="VAR=1"  another build of our server (A/B), its environment
#   LIGHT=1    sleeps, wake-up IPIs and CPU only (no syscall tracepoints: they slow both sides)
#   PROF=0     also record a cpu-clock profile of CPU 0 into /tmp/netw/prof.data (perf report --comms echo_load)
#
# Per request (requests = bytes the server's sockets received in the window / SIZE): context switches,
# IPIs received (call_function_single = remote wake-ups), wake-ups, loopback packets, syscalls by type
# and the EAGAIN ones, pure ACKs (xmit_len<200), then busy time per CPU from /proc/stat (softirq
# included) and the two processes' user/sys CPU and voluntary context switches (their sleeps).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/results/echo-build
mkdir -p /tmp/netw
name=$1; size=$2; secs=${3:-3}
port=$((19900 + RANDOM % 90))
case $name in
  asyncio_cpp) CMD=(env ${SRVENV:-X=1} "${SRV:-$ROOT/build-bench/bench/bench_echo_server}" $port) ;;
  c_epoll)     CMD=("$OUT/echo_epoll" $port) ;;
  asio_coro)   CMD=("$OUT/echo_asio" $port) ;;
  *) CMD=($name $port) ;;
esac
taskset -c 1 "${CMD[@]}" >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 0.3
taskset -c 0 "$OUT/echo_load" -h 127.0.0.1 -p $port -c 100 -s "$size" -d $((secs + 3)) -w 1 >/tmp/netw/load.$$ 2>&1 &
lpid=$!
sleep 1.2
rx() { ss -tinH state established "( sport = :$port )" | grep -o 'bytes_received:[0-9]*' | cut -d: -f2 | awk '{s+=$1} END {printf "%.0f\n", s}'; }
pcpu() { awk '/^cpu[01] / {printf "%d %d %d ", $2 + $3 + $4 + $7 + $8, $8, $7}' /proc/stat; awk '{printf "%d %d ", $14, $15}' /proc/$lpid/stat; awk '{printf "%d %d ", $14, $15}' /proc/$spid/stat; awk '/^voluntary_ctxt/ {printf "%d ", $2}' /proc/$lpid/status /proc/$spid/status; }
export -f rx pcpu; export port lpid spid; export PROF=${PROF:-}
E=context-switches,irq_vectors:call_function_single_entry,irq_vectors:reschedule_entry,sched:sched_wake_idle_without_ipi,sched:sched_waking,net:netif_rx,sock:sk_data_ready,raw_syscalls:sys_enter,skb:skb_copy_datagram_iovec,irq_vectors:local_timer_entry
if [ -n "${LIGHT:-}" ]; then E=context-switches,irq_vectors:call_function_single_entry,irq_vectors:reschedule_entry,sched:sched_waking; XF=(); else
XF=(-e net:net_dev_xmit --filter 'len < 200' -e syscalls:sys_enter_epoll_wait -e syscalls:sys_exit_epoll_wait --filter 'ret == 0' -e syscalls:sys_enter_recvfrom -e syscalls:sys_exit_recvfrom --filter 'ret == -11' -e syscalls:sys_enter_sendto -e syscalls:sys_enter_read -e syscalls:sys_exit_read --filter 'ret == -11' -e syscalls:sys_enter_write); fi
perf stat -x, -a -A -C 0,1 -e "$E" "${XF[@]}" -o /tmp/netw/stat.$$ -- \
  bash -c 'echo $(rx) $(pcpu) >/tmp/netw/rx0.'$$'; if [ -n "${PROF:-}" ]; then perf record -q -o /tmp/netw/prof.data -C ${PROF} -F 4000 -e cpu-clock -g -- sleep '$secs' 2>/dev/null; else sleep '$secs'; fi; echo $(rx) $(pcpu) >/tmp/netw/rx1.'$$
wait $lpid
kill $spid; wait $spid 2>/dev/null
read -r r0 b00 q00 i00 b10 q10 i10 lu0 ls0 su0 ss0 lv0 sv0 </tmp/netw/rx0.$$; read -r r1 b01 q01 i01 b11 q11 i11 lu1 ls1 su1 ss1 lv1 sv1 </tmp/netw/rx1.$$
req=$(( (r1 - r0) / size ))
echo "# $name size=$size req=$req rps~$((req / secs)) $(grep -o 'rps=[0-9]*' /tmp/netw/load.$$) load=$(cut -d' ' -f1 /proc/loadavg)"
awk -F, -v req=$req '!/^#/ && NF>3 { ev=$4; sub(/^.*:/,"",ev); if (ev=="net_dev_xmit") ev="xmit_len<200"; if (ev ~ /sys_exit/) ev = ev (ev ~ /epoll/ ? "=0" : "=EAGAIN"); x=($2+0)/req; if (ev=="cpu-clock") x=x*1000; v[ev]=v[ev] " " sprintf("%9.4f", x); if (!(ev in seen)) {seen[ev]=1; order[++n]=ev} }
  END { printf "%-28s %9s %9s\n", "per request", "CPU0", "CPU1"; for (i=1;i<=n;i++) printf "%-28s%s\n", order[i], v[order[i]] }' /tmp/netw/stat.$$
awk -v t=$(getconf CLK_TCK) -v req=$req -v a="$((b01-b00)) $((q01-q00)) $((i01-i00)) $((b11-b10)) $((q11-q10)) $((i11-i10)) $((lu1-lu0)) $((ls1-ls0)) $((su1-su0)) $((ss1-ss0)) $((lv1-lv0)) $((sv1-sv0))" 'BEGIN { split(a, x, " "); f = 1e6 / t / req
  printf "%-28s %9.3f %9.3f   (us/req, /proc/stat)\n", "busy", x[1]*f, x[4]*f
  printf "%-28s %9.3f %9.3f\n", "  softirq", x[2]*f, x[5]*f
  printf "%-28s %9.3f %9.3f\n", "  irq", x[3]*f, x[6]*f
  printf "%-28s %9.3f %9.3f   (client, server)\n", "proc user", x[7]*f, x[9]*f
  printf "%-28s %9.3f %9.3f\n", "proc sys", x[8]*f, x[10]*f
  printf "%-28s %9.3f %9.3f\n", "proc total", (x[7]+x[8])*f, (x[9]+x[10])*f
  printf "%-28s %9.4f %9.4f   (client, server)\n", "sleeps (vcsw) /req", x[11]/req, x[12]/req }'
rm -f /tmp/netw/*.$$
