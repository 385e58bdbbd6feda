#pragma once
// Helpers shared by the micro-benchmarks. Each program prints lines "workload peer value unit", the
// peers' format (their harness tags each line with the background load; docs/benchmarks.md §1), so
// this library can be measured in the same run and by the same rules as the peers.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>

#ifndef ASYNCIO_BENCH_PEER
#define ASYNCIO_BENCH_PEER "asyncio_cpp"
#endif

namespace bench {

using wall_clock = std::chrono::steady_clock;

/// Seconds elapsed since t0 on the monotonic clock.
inline auto seconds_since(wall_clock::time_point t0) -> double {
  return std::chrono::duration<double>(wall_clock::now() - t0).count();
}

/// The peer name printed in the second column: "asyncio_cpp" (clang build) or "asyncio_cpp-gcc",
/// plus a variant suffix such as "-lazy".
inline auto peer_name(const char* variant = "") -> std::string {
  return std::string(ASYNCIO_BENCH_PEER) + variant;
}

inline void emit(const char* workload, const std::string& peer, double value, const char* unit) {
  std::printf("%s %s %.6g %s\n", workload, peer.c_str(), value, unit);
  std::fflush(stdout);
}

/// VmRSS of this process in bytes (what the peers read, /proc/self/status).
inline auto rss_bytes() -> long {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kb = std::strtol(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

/// User + system CPU time of the process (getrusage), in seconds.
inline auto cpu_seconds() -> double {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  auto tv = [](timeval t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return tv(r.ru_utime) + tv(r.ru_stime);
}

/// n delays in 0..1000 ms from the 64-bit LCG with seed 42 that every peer program uses, so all
/// runtimes sleep the same multiset of durations.
inline auto delays_ms(int n) -> std::vector<int> {
  std::vector<int> out(static_cast<std::size_t>(n));
  std::uint64_t x = 42;
  for (int& d : out) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    d = static_cast<int>((x >> 33) % 1001);
  }
  return out;
}

/// True if argv contains `flag`.
inline auto has_flag(int argc, char** argv, const char* flag) -> bool {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return true;
  return false;
}

/// Exits with a message when a benchmark computed a wrong result (a benchmark that measures a
/// broken run measures nothing).
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark check failed: %s\n", what);
    std::exit(1);
  }
}

}  // namespace bench
