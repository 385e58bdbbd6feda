// W2 switch: two tasks each yield 500,000 times with co_await asyncio::sleep(0s) (Python's
// `await asyncio.sleep(0)`: back of the ready queue). Wall time / 1,000,000 yields.
#include <asyncio/asyncio.hpp>

#include "common.hpp"

namespace {

using namespace std::chrono_literals;
constexpr int n_switches = 1'000'000;

asyncio::task<void> pinger(int n) {
  for (int i = 0; i < n; ++i) co_await asyncio::sleep(0s);
}

asyncio::task<double> ping_pong() {
  auto t0 = bench::wall_clock::now();
  auto a = asyncio::create_task(pinger(n_switches / 2));
  auto b = asyncio::create_task(pinger(n_switches / 2));
  co_await a;
  co_await b;
  co_return bench::seconds_since(t0);
}

}  // namespace

int main() {
  double dt = asyncio::run(ping_pong());
  bench::emit("W2_switch", bench::peer_name(), dt * 1e9 / n_switches, "ns/switch");
}
