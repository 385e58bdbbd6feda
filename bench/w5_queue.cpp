// W5 queue: 1,000,000 ints through asyncio::queue<int>(1024) from one producer task to one
// consumer task, which sums them (checked). Value: 1M / wall time (items/s), as the peers (asyncio
// Queue(1024), Asio channel(1024), tokio mpsc::channel(1024), Go make(chan int, 1024)).
#include <asyncio/asyncio.hpp>

#include "common.hpp"

namespace {

constexpr int n_items = 1'000'000;
constexpr std::size_t capacity = 1024;

asyncio::task<void> producer(asyncio::queue<int>& q) {
  for (int i = 0; i < n_items; ++i) co_await q.put(i);
}

asyncio::task<long long> consumer(asyncio::queue<int>& q) {
  long long sum = 0;
  for (int i = 0; i < n_items; ++i) sum += co_await q.get();
  co_return sum;
}

asyncio::task<double> pipe() {
  asyncio::queue<int> q(capacity);
  auto t0 = bench::wall_clock::now();
  auto p = asyncio::create_task(producer(q));
  auto c = asyncio::create_task(consumer(q));
  co_await p;
  long long sum = co_await c;
  double dt = bench::seconds_since(t0);
  bench::check(sum == 1LL * n_items * (n_items - 1) / 2, "W5 sum");
  co_return dt;
}

}  // namespace

int main() {
  double dt = asyncio::run(pipe());
  bench::emit("W5_queue", bench::peer_name(), n_items / dt, "items/s");
}
