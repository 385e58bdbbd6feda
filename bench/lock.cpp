// Lock: 1,000,000 acquire/release pairs on one asyncio::lock.
//  - lock_uncontended: one task, `auto g = co_await m.acquire();` then the guard releases it.
//  - lock_contended: 100 tasks each take the lock 10,000 times and yield (sleep(0s)) while holding
//    it, so that every acquire by the others waits and release hands the lock over (FIFO, fair).
// Value: wall time / 1M acquisitions. Peer program for Python: bench/peers/lock.py.
#include <asyncio/asyncio.hpp>

#include "common.hpp"

namespace {

using namespace std::chrono_literals;
constexpr int n_acquires = 1'000'000;
constexpr int n_contenders = 100;

asyncio::task<double> uncontended() {
  asyncio::lock m;
  long long counter = 0;
  auto t0 = bench::wall_clock::now();
  for (int i = 0; i < n_acquires; ++i) {
    auto g = co_await m.acquire();
    ++counter;
  }
  double dt = bench::seconds_since(t0);
  bench::check(counter == n_acquires, "lock counter");
  co_return dt;
}

asyncio::task<void> contender(asyncio::lock& m, long long& counter, int n) {
  for (int i = 0; i < n; ++i) {
    auto g = co_await m.acquire();
    ++counter;
    co_await asyncio::sleep(0s);  // hold it across a switch: the others queue up behind
  }
}

asyncio::task<double> contended() {
  asyncio::lock m;
  long long counter = 0;
  auto t0 = bench::wall_clock::now();
  std::vector<asyncio::task_handle<void>> hs;
  for (int t = 0; t < n_contenders; ++t)
    hs.push_back(asyncio::create_task(contender(m, counter, n_acquires / n_contenders)));
  for (auto& h : hs) co_await h;
  double dt = bench::seconds_since(t0);
  bench::check(counter == n_acquires, "lock counter");
  co_return dt;
}

}  // namespace

int main() {
  double a = asyncio::run(uncontended());
  bench::emit("lock_uncontended", bench::peer_name(), a * 1e9 / n_acquires, "ns/acquire");
  double b = asyncio::run(contended());
  bench::emit("lock_contended", bench::peer_name(), b * 1e9 / n_acquires, "ns/acquire");
}
