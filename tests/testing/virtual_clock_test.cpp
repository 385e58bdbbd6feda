// testing::virtual_clock: autojump moves time to the next timer only when every task waits (and
// after pending I/O was looked at); manual mode moves only on advance(); time never goes back.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::virtual_clock;

auto long_sleeps() -> asyncio::task<> {
  co_await asyncio::sleep(1h);
  co_await asyncio::sleep(24h);
}

TEST(VirtualClock, AutojumpRunsLongTimersInstantly) {
  virtual_clock clk;
  auto start = std::chrono::steady_clock::now();
  asyncio::run(long_sleeps(), {.clock = &clk});
  EXPECT_EQ(clk.elapsed(), 25h);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // generous: only "not real time"
}

auto time_stands_still_while_busy(virtual_clock* clk) -> asyncio::task<> {
  auto t0 = clk->now();
  auto timer = asyncio::create_task(long_sleeps());
  for (int i = 0; i < 1000; ++i) co_await asyncio::sleep(0s);  // a ready task: no jump
  EXPECT_EQ(clk->now(), t0);
  EXPECT_EQ(asyncio::get_running_loop().time(), t0);
  co_await timer;
  EXPECT_EQ(clk->now() - t0, 25h);
}

TEST(VirtualClock, DoesNotJumpWhileATaskIsReady) {
  virtual_clock clk;
  asyncio::run(time_stands_still_while_busy(&clk), {.clock = &clk});
}

auto io_before_jump(virtual_clock* clk) -> asyncio::task<> {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], "x", 1), 1);
  auto& loop = asyncio::get_running_loop();
  asyncio::duration seen_at = -1s;
  loop.add_reader(fds[0], [&] {
    seen_at = clk->elapsed();
    loop.remove_reader(fds[0]);
  });
  co_await asyncio::sleep(1h);  // the readable fd is handled before the clock jumps
  EXPECT_EQ(seen_at, 0s);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(VirtualClock, PendingIoIsHandledBeforeAJump) {
  virtual_clock clk;
  asyncio::run(io_before_jump(&clk), {.clock = &clk});
  EXPECT_EQ(clk.elapsed(), 1h);
}

TEST(VirtualClock, ManualModeMovesOnlyOnAdvance) {
  virtual_clock clk(asyncio::testing::manual);
  EXPECT_FALSE(clk.autojump());
  asyncio::event_loop loop({.clock = &clk});
  auto t0 = loop.time();
  int fired = 0;
  loop.call_later(10ms, [&] { ++fired; });
  loop.call_soon([&] { clk.advance(4ms); });
  loop.call_later(0ms, [&] {
    EXPECT_EQ(fired, 0);  // 4 ms passed: not due yet
    clk.advance(6ms);
  });
  loop.call_at(t0 + 10ms, [&] {
    EXPECT_EQ(fired, 1);
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(clk.elapsed(), 10ms);
  EXPECT_EQ(fired, 1);
}

TEST(VirtualClock, NeverMovesBackwards) {
  virtual_clock clk;
  auto t0 = clk.now();
  clk.jump_to(t0 + 5s);
  clk.jump_to(t0 + 1s);
  EXPECT_EQ(clk.now(), t0 + 5s);
  EXPECT_EQ(clk.elapsed(), 5s);
  clk.set_mode(asyncio::testing::manual);
  EXPECT_FALSE(clk.autojump());
  clk.set_mode(asyncio::testing::autojump);
  EXPECT_TRUE(clk.autojump());
}

}  // namespace
