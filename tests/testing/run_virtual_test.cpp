// testing::run_virtual: asyncio::run on a fresh autojump virtual clock; other options pass through.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/run_virtual.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;

namespace {

auto nap(asyncio::duration d) -> asyncio::task<> { co_await asyncio::sleep(d); }

auto elapsed_over_a_day() -> asyncio::task<asyncio::duration> {
  auto& loop = asyncio::get_running_loop();
  auto t0 = loop.time();
  co_await asyncio::sleep(24h);
  co_await asyncio::wait_for(nap(1s), 10s);
  co_return loop.time() - t0;
}

TEST(RunVirtual, SleepsTakeNoRealTimeAndTheResultComesBack) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(asyncio::testing::run_virtual(elapsed_over_a_day()), 24h + 1s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // generous: only "not real time"
}

auto debug_flag() -> asyncio::task<bool> { co_return asyncio::get_running_loop().get_debug(); }

TEST(RunVirtual, OtherOptionsApply) {
  asyncio::loop_options options;
  options.debug = true;
  EXPECT_TRUE(asyncio::testing::run_virtual(debug_flag(), options));
  options.debug = false;
  EXPECT_FALSE(asyncio::testing::run_virtual(debug_flag(), options));
}

auto fails_after_a_minute() -> asyncio::task<int> {
  co_await asyncio::sleep(60s);
  throw std::runtime_error("late");
}

TEST(RunVirtual, RethrowsWhatMainThrows) {
  EXPECT_THROW(asyncio::testing::run_virtual(fails_after_a_minute()), std::runtime_error);
}

auto each_run_starts_at_the_same_time() -> asyncio::task<asyncio::time_point> {
  co_return asyncio::get_running_loop().time();
}

TEST(RunVirtual, EveryRunHasItsOwnClock) {
  auto first = asyncio::testing::run_virtual(each_run_starts_at_the_same_time());
  (void)asyncio::testing::run_virtual(elapsed_over_a_day());
  EXPECT_EQ(asyncio::testing::run_virtual(each_run_starts_at_the_same_time()), first);
}

}  // namespace
