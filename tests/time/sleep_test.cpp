// sleep / sleep_until on the virtual clock: exact wake-up times, deadline order with ties in start
// order, sleep(0s) as a yield, negative and huge delays, timers released on cancellation.
#include <asyncio/asyncio.hpp>
#include <asyncio/testing/virtual_clock.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using asyncio::testing::virtual_clock;

auto sleep_for(asyncio::duration d, std::vector<std::string>* log, std::string name) -> asyncio::task<> {
  co_await asyncio::sleep(d);
  log->push_back(name);
}

auto exact_main(virtual_clock* clk) -> asyncio::task<> {
  auto t0 = clk->now();
  co_await asyncio::sleep(1500us);
  EXPECT_EQ(clk->now() - t0, 1500us);
  co_await asyncio::sleep(std::chrono::duration<double>(0.25));  // any duration type
  EXPECT_EQ(clk->now() - t0, 251500us);
  co_await asyncio::sleep_until(t0 + 1s);
  EXPECT_EQ(clk->now() - t0, 1s);
  co_await asyncio::sleep_until(t0);  // in the past: resumes on the next iteration
  EXPECT_EQ(clk->now() - t0, 1s);
}

TEST(Sleep, WakesExactlyOnTheVirtualClock) {
  virtual_clock clk;
  asyncio::run(exact_main(&clk), {.clock = &clk});
  EXPECT_EQ(clk.elapsed(), 1s);
}

auto order_main(std::vector<std::string>* log) -> asyncio::task<> {
  auto a = asyncio::create_task(sleep_for(30ms, log, "a30"));
  auto b = asyncio::create_task(sleep_for(10ms, log, "b10"));
  auto c = asyncio::create_task(sleep_for(20ms, log, "c20"));
  auto d = asyncio::create_task(sleep_for(10ms, log, "d10"));
  co_await a;
  co_await b;
  co_await c;
  co_await d;
}

TEST(Sleep, WakesInDeadlineOrderWithTiesInStartOrder) {
  std::vector<std::string> log;
  virtual_clock clk;
  asyncio::run(order_main(&log), {.clock = &clk});
  EXPECT_EQ(log, (std::vector<std::string>{"b10", "d10", "c20", "a30"}));
  EXPECT_EQ(clk.elapsed(), 30ms);
}

auto yielder(std::vector<std::string>* log, std::string name, asyncio::duration d) -> asyncio::task<> {
  log->push_back(name + "1");
  co_await asyncio::sleep(d);
  log->push_back(name + "2");
}
auto yield_main(std::vector<std::string>* log) -> asyncio::task<> {
  auto other = asyncio::create_task(yielder(log, "other", 0s), {.eager = false});
  log->push_back("main1");
  co_await asyncio::sleep(0s);  // the scheduled task runs before main resumes
  log->push_back("main2");
  co_await asyncio::sleep(-5ms);  // a negative delay yields too
  log->push_back("main3");
  co_await other;
}

TEST(Sleep, ZeroAndNegativeDelaysYield) {
  std::vector<std::string> log;
  virtual_clock clk;
  asyncio::run(yield_main(&log), {.clock = &clk});
  EXPECT_EQ(log, (std::vector<std::string>{"main1", "other1", "main2", "other2", "main3"}));
  EXPECT_EQ(clk.elapsed(), 0s);
}

auto cancel_releases_timer_main() -> asyncio::task<> {
  std::vector<std::string> log;
  auto& loop = asyncio::get_running_loop();
  auto h = asyncio::create_task(sleep_for(1h, &log, "never"));
  EXPECT_EQ(loop.statistics().timers, 1u);
  h.cancel();
  EXPECT_EQ(loop.statistics().timers, 0u);  // released at once, not when it would have fired
  try {
    co_await h;
  } catch (const asyncio::cancelled_error&) {
  }
  EXPECT_TRUE(log.empty());
}

TEST(Sleep, CancellationReleasesTheTimer) {
  virtual_clock clk;
  asyncio::run(cancel_releases_timer_main(), {.clock = &clk});
  EXPECT_EQ(clk.elapsed(), 0s);
}

auto sleep_max(std::vector<std::string>* log) -> asyncio::task<> {
  co_await asyncio::sleep(std::chrono::hours::max());
  log->push_back("b");
}
auto sleep_1e300(std::vector<std::string>* log) -> asyncio::task<> {
  co_await asyncio::sleep(std::chrono::duration<double>(1e300));
  log->push_back("c");
}
auto huge_main() -> asyncio::task<> {
  std::vector<std::string> log;
  // Durations far beyond the nanosecond range of the clock must not overflow (UBSan checks it).
  auto a = asyncio::create_task(sleep_for(std::chrono::duration_cast<asyncio::duration>(24h * 365 * 250), &log, "a"));
  auto b = asyncio::create_task(sleep_max(&log));
  auto c = asyncio::create_task(sleep_1e300(&log));
  co_await asyncio::sleep(1s);
  EXPECT_FALSE(b.done());
  EXPECT_FALSE(c.done());
  a.cancel();
  b.cancel();
  c.cancel();
  for (auto* h : {&a, &b, &c}) {
    try {
      co_await *h;
    } catch (const asyncio::cancelled_error&) {
    }
  }
  EXPECT_TRUE(log.empty());
}

TEST(Sleep, HugeDelaysSaturateInsteadOfOverflowing) {
  virtual_clock clk;
  asyncio::run(huge_main(), {.clock = &clk});
  EXPECT_EQ(clk.elapsed(), 1s);
}

// sleep(delay, result): Python's asyncio.sleep(delay, result).
auto sleep_result_main(virtual_clock* clk) -> asyncio::task<> {
  auto t0 = clk->now();
  int v = co_await asyncio::sleep(2s, 42);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(clk->now() - t0, 2s);
  std::string s = co_await asyncio::sleep(0s, std::string("yielded"));  // a yield, then the result
  EXPECT_EQ(s, "yielded");
  std::unique_ptr<int> p = co_await asyncio::sleep(1ms, std::make_unique<int>(7));  // move-only
  EXPECT_EQ(*p, 7);
  // The deadline is taken at the call, as for sleep(delay).
  t0 = clk->now();
  asyncio::task<int> later = asyncio::sleep(5s, 1);
  co_await asyncio::sleep(3s);
  int one = co_await std::move(later);
  EXPECT_EQ(one, 1);
  EXPECT_EQ(clk->now() - t0, 5s);
  // Cancellation: as sleep(delay).
  t0 = clk->now();
  bool timed_out = false;
  try {
    (void)co_await asyncio::wait_for(asyncio::sleep(10s, 3), 1s);
  } catch (const asyncio::timeout_error&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(clk->now() - t0, 1s);
}

TEST(Sleep, WithResultReturnsIt) {
  virtual_clock clk;
  asyncio::run(sleep_result_main(&clk), {.clock = &clk});
}

}  // namespace
