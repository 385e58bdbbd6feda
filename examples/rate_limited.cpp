// examples/rate_limited.cpp: many requests, at most N in flight at once. Every request task is
// started at once; a semaphore with N units makes the others wait (in FIFO order) for a free slot,
// the asyncio idiom for "do not open more than N connections".
// Run: ./rate_limited [--jobs J] [--limit N] [--scale S]   (defaults 20 jobs, limit 3, S = 1.0)
// Shows: asyncio::semaphore as a concurrency limit, its RAII guard, statistics() while it works.
// ctest-args: --jobs 12 --limit 3 --scale 0.01
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <asyncio/asyncio.hpp>

namespace {

using clock_type = std::chrono::steady_clock;

double scale = 1.0;
std::mt19937 rng(7);
int in_flight = 0;
int peak = 0;
clock_type::time_point start;

auto since_start() -> double { return std::chrono::duration<double>(clock_type::now() - start).count(); }

// Stands for a network request: between 0.1 and 0.5 s (scaled).
auto fetch(int id) -> asyncio::task<int> {
  const int ms = 100 + static_cast<int>(rng() % 401);
  co_await asyncio::sleep(std::chrono::microseconds(static_cast<long long>(ms * scale * 1000)));
  co_return id * 10;
}

auto limited_fetch(int id, asyncio::semaphore* slots) -> asyncio::task<int> {
  auto slot = co_await slots->acquire();  // waits while `limit` requests are in flight
  ++in_flight;
  peak = std::max(peak, in_flight);
  std::printf("%6.3f start  %2d  (in flight %d, %s)\n", since_start(), id, in_flight, slots->describe().c_str());
  int result = co_await fetch(id);
  --in_flight;
  std::printf("%6.3f done   %2d\n", since_start(), id);
  co_return result;
}  // the guard gives the slot to the oldest waiting request

auto amain(int jobs, int limit) -> asyncio::task<int> {
  asyncio::semaphore slots(static_cast<std::size_t>(limit));
  std::vector<asyncio::task_handle<int>> tasks;
  for (int id = 0; id < jobs; ++id) tasks.push_back(asyncio::create_task(limited_fetch(id, &slots)));
  long sum = 0;
  for (auto& t : tasks) sum += co_await t;
  std::printf("%d requests, at most %d at once (limit %d), sum of results %ld, %.3f s\n", jobs, peak, limit, sum,
              since_start());
  co_return peak <= limit && slots.value() == static_cast<std::size_t>(limit) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 20, limit = 3;
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if (arg == "--jobs" && a + 1 < argc) jobs = std::atoi(argv[++a]);
    else if (arg == "--limit" && a + 1 < argc) limit = std::atoi(argv[++a]);
    else if (arg == "--scale" && a + 1 < argc) scale = std::atof(argv[++a]);
    else {
      std::fprintf(stderr, "usage: rate_limited [--jobs J] [--limit N] [--scale S]\n");
      return 2;
    }
  }
  if (limit < 1) limit = 1;
  start = clock_type::now();
  return asyncio::run(amain(jobs, limit));
}
