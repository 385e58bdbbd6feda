#!/usr/bin/env bash
# Syscalls per request of an echo server under a fixed load (counts, which a noisy machine does not
# move much, unlike req/s). Needs root (perf tracepoints) and the binaries that bench/echo.sh builds.
#
#   bench/echo_syscalls.sh NAME SIZE [SECONDS]     NAME: asyncio_cpp | asyncio_cpp_bp0 | c_epoll | asio_coro
#   (asyncio_cpp_bp0: our server with loop_options::busy_poll off; LIGHT=1: sleeps and wake-ups only)
#
# Server on CPU 1, echo_load -c 100 on CPU 0; after a 1 s warm-up, perf stat counts the server's
# syscalls (by type, plus the EAGAIN returns and short reads/writes) over SECONDS (default 3);
# requests in that window = bytes the server's sockets received (ss -ti) / SIZE, exactly. Prints one
# line per counter: count and count per request; then user/sys CPU us per request (/proc/PID/stat).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/results/echo-build
name=$1; size=$2; secs=${3:-3}
port=$((19800 + RANDOM % 100))
case $name in
  asyncio_cpp) CMD=("$ROOT/build-bench/bench/bench_echo_server" $port) ;;
  asyncio_cpp_bp0) CMD=("$ROOT/build-bench/bench/bench_echo_server" $port 0) ;;
  c_epoll)     CMD=("$OUT/echo_epoll" $port) ;;
  asio_coro)   CMD=("$OUT/echo_asio" $port) ;;
  *) echo "unknown server $name"; exit 1 ;;
esac
ulimit -n 65536 2>/dev/null || true
taskset -c 1 "${CMD[@]}" >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 0.3
taskset -c 0 "$OUT/echo_load" -h 127.0.0.1 -p $port -c 100 -s "$size" -d $((secs + 3)) -w 1 >/tmp/echo_sc_load.$$ 2>&1 &
lpid=$!
sleep 1.2
rx() { ss -tinH state established "( sport = :$port )" | grep -o 'bytes_received:[0-9]*' | cut -d: -f2 | awk '{s+=$1} END {printf "%.0f\n", s}'; }
cpu() { awk '{print $14, $15}' /proc/$spid/stat; }
# the load generator's CPU and voluntary context switches (its sleeps in epoll_wait): it saturates
# its core, so what it spends per request bounds req/s
# ksoftirqd on each CPU (loopback receive work deferred there is nobody's process CPU) and the
# server's voluntary (sleeps in epoll_wait) / involuntary (preempted) context switches
ksirq() { for c in 0 1; do awk '{printf "%d ", $14 + $15}' /proc/$(pgrep -x ksoftirqd/$c)/stat; done
          awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {n = $2} END {printf "%d %d", v, n}' /proc/$spid/status; }
lcpu() { echo "$(awk '{print $14 + $15}' /proc/$lpid/stat) $(awk '/^voluntary_ctxt/ {print $2}' /proc/$lpid/status)"; }
E=task-clock,context-switches,cpu-migrations${EXTRA_EVENTS:+,$EXTRA_EVENTS}  # e.g. probe_libc:malloc (perf probe -x libc malloc)
for s in read write recvfrom sendto recvmsg sendmsg readv writev epoll_wait epoll_pwait epoll_ctl \
         futex mmap munmap brk madvise rt_sigprocmask accept4 setsockopt getsockopt ioctl fcntl; do
  E="$E,syscalls:sys_enter_$s"
done
F=()
for s in read recvfrom; do
  F+=(-e syscalls:sys_exit_$s --filter 'ret == -11')          # EAGAIN reads
  F+=(-e syscalls:sys_exit_$s --filter "ret >= 0 && ret < $size")  # reads shorter than a message
done
F+=(-e syscalls:sys_enter_epoll_wait --filter 'timeout == 0')   # polls that may not block
F+=(-e syscalls:sys_exit_epoll_wait --filter 'ret == 0')          # polls that found nothing
for s in write sendto; do
  F+=(-e syscalls:sys_exit_$s --filter 'ret == -11')
  F+=(-e syscalls:sys_exit_$s --filter "ret >= 0 && ret < $size")
done
# LIGHT=1: no syscall tracepoints on the server. Tracing every syscall slows the server enough
# that it never runs out of work, so it never sleeps: use LIGHT=1 to count its sleeps and the
# wake-up IPIs (cpu1_*) as they are in bench/echo.sh.
if [ "${LIGHT:-0}" = 1 ]; then E=task-clock,context-switches,cpu-migrations; F=(); fi
# Whole-CPU time (/proc/stat, incl. softirq, which tick accounting charges to no process: the
# loopback receive path and the wake-ups it does run there) and, system-wide on CPU 1, the
# wake-up IPIs it receives and its context switches: a server that sleeps in epoll_wait must be
# woken by the load generator's send() on CPU 0 (try_to_wake_up + IPI; on this VM an exit).
pcpu() { awk '/^cpu[01] / {printf "%d %d ", $2 + $3 + $4 + $7 + $8, $8}' /proc/stat; }
perf stat -x, -a -C 1 -e irq_vectors:call_function_single_entry,irq_vectors:reschedule_entry,sched:sched_switch \
  -o /tmp/echo_sc_c1.$$ -- sleep "$secs" &
c1perf=$!
export -f rx cpu lcpu ksirq pcpu; export port spid lpid secs
# The window is the inner command's run (perf enables the counters before starting it), so the
# bytes and CPU read inside it bracket exactly what was counted.
# The load generator's own epoll_wait calls per request (how batched the server's replies reach it).
perf stat -x, -e task-clock,syscalls:sys_enter_epoll_wait -p $lpid -o /tmp/echo_sc_lperf.$$ -- sleep "$secs" &
lperf=$!
perf stat -x, -e "$E" "${F[@]}" -p $spid -o /tmp/echo_sc_perf.$$ -- \
  bash -c 'echo "$(rx) $(cpu) $(lcpu) $(ksirq) $(pcpu)" >/tmp/echo_sc_w0.'$$'; sleep "$secs"; echo "$(rx) $(cpu) $(lcpu) $(ksirq) $(pcpu)" >/tmp/echo_sc_w1.'$$
wait $lperf $c1perf
read -r rx0 c0u c0s l0 v0 k00 k10 sv0 sn0 b00 q00 b10 q10 </tmp/echo_sc_w0.$$; read -r rx1 c1u c1s l1 v1 k01 k11 sv1 sn1 b01 q01 b11 q11 </tmp/echo_sc_w1.$$
wait $lpid
kill $spid; wait $spid 2>/dev/null
req=$(( (rx1 - rx0) / size ))
tck=$(getconf CLK_TCK)
echo "# $name size=$size window=${secs}s requests=$req ($(grep -o 'rps=[0-9]*' /tmp/echo_sc_load.$$) over the load's run) load: $(cut -d' ' -f1 /proc/loadavg)"
# perf -x, lines: value,unit,event,... ; filtered events appear in order: EAGAIN, short (per syscall)
awk -F, -v req="$req" '
  /^#/ || NF < 3 { next }
  { ev = $3; sub(/^syscalls:sys_(enter|exit)_/, "", ev); sub(/^probe_libc:/, "", ev)
    if ($3 ~ /sys_enter_epoll_wait/ && seen_ew++) ev = "epoll_wait(timeout=0)"
    else if ($3 ~ /sys_exit_epoll_wait/) ev = "epoll_wait=0 events"
    else if ($3 ~ /sys_exit_/) { k[ev]++; ev = ev (k[ev] == 1 ? "=EAGAIN" : "<size") }
    v = $1; if (v == "<not counted>" || v == "<not supported>") v = 0
    if (v + 0 == 0 && ev !~ /task-clock|context|EAGAIN|<size|epoll|read|write|recv|send|malloc|free/) next
    if (ev == "task-clock") printf "%-22s %12.0f ms %7.2f us/req\n", ev, v, v * 1000 / req; else
    printf "%-22s %12.0f %10.4f /req\n", ev, v, (req > 0 ? v / req : 0) }' /tmp/echo_sc_perf.$$
awk -v u=$(( c1u - c0u )) -v s=$(( c1s - c0s )) -v l=$(( l1 - l0 )) -v v=$(( v1 - v0 )) -v t="$tck" -v req="$req" 'BEGIN {
  printf "%-22s %12.2f us/req\n%-22s %12.2f us/req\n%-22s %12.2f us/req\n", "cpu_user", u / t / req * 1e6,
         "cpu_sys", s / t / req * 1e6, "cpu_total", (u + s) / t / req * 1e6
  printf "%-22s %12.2f us/req\n%-22s %12.4f /req\n", "load_gen_cpu", l / t / req * 1e6, "load_gen_sleeps", v / req }'
awk -v a=$(( k01 - k00 )) -v b=$(( k11 - k10 )) -v v=$(( sv1 - sv0 )) -v n=$(( sn1 - sn0 )) -v t="$tck" -v req="$req" -v secs="$secs" 'BEGIN {
  printf "%-22s %12.4f /req\n%-22s %12.4f /req\n", "server_sleeps", v / req, "server_preempted", n / req
  printf "%-22s %12.1f %% of CPU0\n%-22s %12.1f %% of CPU1\n", "ksoftirqd/0", a / t / secs * 100, "ksoftirqd/1", b / t / secs * 100 }'
awk -F, -v req="$req" '$3 == "task-clock" { printf "%-22s %12.2f us/req\n", "load_gen_task_clock", $1 * 1000 / req }
  $3 ~ /epoll_wait/ { printf "%-22s %12.0f %10.4f /req\n", "load_gen_epoll_wait", $1, $1 / req }' /tmp/echo_sc_lperf.$$
awk -v b0=$(( b01 - b00 )) -v q0=$(( q01 - q00 )) -v b1=$(( b11 - b10 )) -v q1=$(( q11 - q10 )) -v t="$tck" -v req="$req" 'BEGIN {
  printf "%-22s %12.2f us/req (softirq %.2f)\n%-22s %12.2f us/req (softirq %.2f)\n", "cpu0_busy", b0 / t / req * 1e6, q0 / t / req * 1e6,
         "cpu1_busy", b1 / t / req * 1e6, q1 / t / req * 1e6 }'
awk -F, -v req="$req" '!/^#/ && NF > 2 { ev = $3; sub(/^.*:/, "", ev); printf "%-22s %12.0f %10.4f /req\n", "cpu1_" ev, $1, $1 / req }' /tmp/echo_sc_c1.$$
rm -f /tmp/echo_sc_lperf.$$ /tmp/echo_sc_c1.$$
rm -f /tmp/echo_sc_perf.$$ /tmp/echo_sc_load.$$ /tmp/echo_sc_w0.$$ /tmp/echo_sc_w1.$$
