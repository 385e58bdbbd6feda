// The consumer check (.ci/run): compiled against the installed headers and library only.
// Exits 0 and prints "consumer ok" when a task, a sleep and create_task work end to end.
#include <chrono>
#include <iostream>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

asyncio::task<int> twice(int x) {
  co_await asyncio::sleep(1ms);
  co_return 2 * x;
}

asyncio::task<int> amain() {
  auto h = asyncio::create_task(twice(20));
  int a = co_await twice(1);
  int b = co_await h;
  co_return a + b;
}

int main() {
  int r = asyncio::run(amain());
  std::cout << (r == 42 ? "consumer ok" : "consumer FAILED") << '\n';
  return r == 42 ? 0 : 1;
}
