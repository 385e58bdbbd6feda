// event: behaviour ported from CPython's test_locks.py (EventTests).
#include <asyncio/sync.hpp>
#include <gtest/gtest.h>

#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

auto waiter(asyncio::event* e, std::vector<int>* out, int id) -> asyncio::task<void> {
  co_await e->wait();
  out->push_back(id);
}

auto wakes_all_in_order() -> asyncio::task<void> {
  asyncio::event e;
  std::vector<int> out;
  EXPECT_FALSE(e.is_set());
  EXPECT_EQ(e.describe(), "<event unset>");
  auto t1 = asyncio::create_task(waiter(&e, &out, 1));
  auto t2 = asyncio::create_task(waiter(&e, &out, 2));
  auto t3 = asyncio::create_task(waiter(&e, &out, 3));
  EXPECT_EQ(e.describe(), "<event unset waiters=3>");
  co_await yield();
  EXPECT_TRUE(out.empty());
  e.set();
  EXPECT_EQ(e.statistics().waiters, 0u);
  co_await t1;
  co_await t2;
  co_await t3;
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  // Set already: wait returns at once.
  co_await e.wait();
  EXPECT_EQ(e.describe(), "<event set>");
  e.clear();
  EXPECT_FALSE(e.is_set());
}
TEST(Event, SetWakesAllWaitersInOrder) { run_virtual(wakes_all_in_order()); }

auto cancel_cases() -> asyncio::task<void> {
  asyncio::event e;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&e, &out, 1));
  auto t2 = asyncio::create_task(waiter(&e, &out, 2));
  auto t3 = asyncio::create_task(waiter(&e, &out, 3));
  t1.cancel();  // before the wake-up
  co_await yield();
  EXPECT_TRUE(t1.cancelled());
  EXPECT_EQ(e.statistics().waiters, 2u);
  e.set();
  t2.cancel();  // after the wake-up, before resuming: raises as CPython (nothing to hand back)
  co_await yield(2);
  EXPECT_TRUE(t2.cancelled());
  EXPECT_TRUE(t3.done());
  EXPECT_FALSE(t3.cancelled());
  EXPECT_EQ(out, (std::vector<int>{3}));
}
TEST(Event, CancelBeforeAndAfterWakeUp) { run_virtual(cancel_cases()); }

auto set_clear_before_resume() -> asyncio::task<void> {
  asyncio::event e;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&e, &out, 1));
  e.set();
  e.clear();  // the waiter was woken by set(); clear() does not take that back (as CPython)
  co_await t1;
  EXPECT_EQ(out, (std::vector<int>{1}));
}
TEST(Event, ClearAfterSetStillWakes) { run_virtual(set_clear_before_resume()); }

auto timed() -> asyncio::task<void> {
  asyncio::event e;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&e, &out, 1));
  co_await asyncio::sleep(10s);
  EXPECT_FALSE(t1.done());
  e.set();
  co_await t1;
  EXPECT_EQ(out.size(), 1u);
}
TEST(Event, WaitsAcrossTime) { run_virtual(timed()); }

}  // namespace
