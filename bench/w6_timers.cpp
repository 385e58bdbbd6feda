// W6 timers: 1,000,000 tasks each sleep a delay in 0..1000 ms (the peers' LCG, seed 42), handles
// kept in a vector and awaited one by one (as tokio). Reported: process CPU time (getrusage) over
// the span / 1M, the better "cost per timer" figure, and (wall - 1 s) / 1M (docs/benchmarks.md §2.6).
#include <asyncio/asyncio.hpp>

#include "common.hpp"

namespace {

constexpr int n_timers = 1'000'000;

asyncio::task<void> sleeper(int ms) { co_await asyncio::sleep(std::chrono::milliseconds(ms)); }

struct result {
  double wall, cpu;
};

asyncio::task<result> sleep_all(std::vector<int> delays) {
  auto t0 = bench::wall_clock::now();
  double c0 = bench::cpu_seconds();
  std::vector<asyncio::task_handle<void>> handles;
  handles.reserve(delays.size());
  for (int d : delays) handles.push_back(asyncio::create_task(sleeper(d)));
  for (auto& h : handles) {
    co_await h;
    h.detach();
  }
  co_return result{bench::seconds_since(t0), bench::cpu_seconds() - c0};
}

}  // namespace

int main() {
  auto delays = bench::delays_ms(n_timers);  // precomputed before timing starts, as the peers
  result r = asyncio::run(sleep_all(std::move(delays)));
  bench::emit("W6_timers_wall", bench::peer_name(), (r.wall - 1.0) * 1e6 / n_timers, "us/timer");
  bench::emit("W6_timers_cpu", bench::peer_name(), r.cpu * 1e6 / n_timers, "us/timer");
}
