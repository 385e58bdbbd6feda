#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>
using namespace std::chrono_literals;

asyncio::task<int> leaf(int i) { co_return i; }
asyncio::task<int> sleeper(int i) {
  co_await asyncio::sleep(1ms);
  co_return i * 2;
}
asyncio::task<int> main_coro() {
  int s = co_await leaf(20);
  auto t = asyncio::create_task(sleeper(11));
  s += co_await t;
  co_await asyncio::sleep(0s);
  co_return s;
}
TEST(Smoke, Run) { EXPECT_EQ(asyncio::run(main_coro()), 42); }
