// The loop's timer firing (timer_heap::fire_due, which pops due timers a few entries ahead of the
// one it fires): timers that come due in the same iteration and act on each other. Virtual clock.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/testing/virtual_clock.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <vector>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

auto sleep_until_task(asyncio::time_point deadline) -> task<> { co_await asyncio::sleep_until(deadline); }

// Sleeps until `deadline` under a timeout at the same instant: the timeout's timer was added
// first, so it fires first and cancels the task, whose sleep timer (due in the same fire_due call)
// must then be dropped, not fire as well.
auto sleep_under_timeout(asyncio::time_point deadline, int* timed_out) -> task<> {
  try {
    co_await asyncio::timeout_at(deadline, sleep_until_task(deadline));
  } catch (const asyncio::timeout_error&) {
    ++*timed_out;
  }
}

auto sleep_under_timeouts(int n) -> task<int> {
  int timed_out = 0;
  auto deadline = asyncio::get_running_loop().time() + 10ms;
  std::vector<asyncio::task_handle<void>> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleep_under_timeout(deadline, &timed_out)));
  for (auto& t : tasks) co_await t;
  co_return timed_out;
}

}  // namespace

TEST(TimerFiring, TimeoutsCancelSleepsDueInTheSameIteration) {
  constexpr int n = 100;  // many more than fire_due's look-ahead window
  EXPECT_EQ(asyncio::testing::run_virtual(sleep_under_timeouts(n)), n);
}

TEST(TimerFiring, CallbackCancelsATimerOfTheSameInstant) {
  asyncio::testing::virtual_clock clk;
  asyncio::event_loop loop({.clock = &clk});
  auto t0 = loop.time();
  std::vector<int> ran;
  std::vector<asyncio::timer_handle> handles(20);
  for (int i = 0; i < 20; ++i) {
    handles[i] = loop.call_at(t0 + 5ms, [&, i] {
      ran.push_back(i);
      if (i == 0)
        for (int k = 1; k < 20; k += 2) handles[k].cancel();  // the odd ones, all due with us
    });
  }
  loop.call_at(t0 + 6ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ran, (std::vector<int>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18}));
}

TEST(TimerFiring, SleepsDueTogetherResumeInDeadlineThenStartOrder) {
  asyncio::testing::virtual_clock clk;
  asyncio::run(
      [](asyncio::testing::virtual_clock* clock) -> task<> {
        auto t0 = asyncio::get_running_loop().time();
        std::vector<int> order;
        std::vector<asyncio::task_handle<void>> tasks;
        // Deadlines 3, 2, 1, 3, 2, 1 ... ms.
        for (int i = 0; i < 30; ++i) {
          auto deadline = t0 + std::chrono::milliseconds(3 - i % 3);
          tasks.push_back(asyncio::create_task(
              [](asyncio::time_point d, std::vector<int>* out, int id) -> task<> {
                co_await asyncio::sleep_until(d);
                out->push_back(id);
              }(deadline, &order, i)));
        }
        clock->advance(5ms);  // as if this step had run for 5 ms: all 30 are due at the next timer check
        for (auto& t : tasks) co_await t;
        std::vector<int> expected;
        for (int r = 2; r >= 0; --r)
          for (int i = r; i < 30; i += 3) expected.push_back(i);
        EXPECT_EQ(order, expected);
      }(&clk),
      {.clock = &clk});
}
