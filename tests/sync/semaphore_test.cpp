// semaphore / bounded_semaphore: behaviour ported from CPython's test_locks.py (SemaphoreTests).
#include <asyncio/sync.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

auto take(asyncio::semaphore* s, std::vector<int>* out, int id, asyncio::event* hold) -> asyncio::task<void> {
  auto g = co_await s->acquire();
  out->push_back(id);
  if (hold) co_await hold->wait();
}

auto basic() -> asyncio::task<void> {
  asyncio::semaphore s(2);
  EXPECT_EQ(s.describe(), "<semaphore unlocked value=2>");
  auto g1 = co_await s.acquire();
  auto g2 = co_await s.acquire();
  EXPECT_TRUE(s.locked());
  EXPECT_EQ(s.value(), 0u);
  EXPECT_FALSE(s.try_acquire());
  g1.release();
  EXPECT_EQ(s.value(), 1u);
  s.release();  // unbounded: may go above the initial value
  g2.release();
  EXPECT_EQ(s.value(), 3u);
}
TEST(Semaphore, Basic) { run_virtual(basic()); }

auto fifo_and_cancel() -> asyncio::task<void> {
  asyncio::semaphore s(0);
  std::vector<int> out;
  auto t1 = asyncio::create_task(take(&s, &out, 1, nullptr));
  auto t2 = asyncio::create_task(take(&s, &out, 2, nullptr));
  auto t3 = asyncio::create_task(take(&s, &out, 3, nullptr));
  auto t4 = asyncio::create_task(take(&s, &out, 4, nullptr));
  EXPECT_EQ(s.describe(), "<semaphore locked value=0 waiters=4>");
  t2.cancel();  // before its wake-up
  s.release();  // hands a unit to t1
  s.release();  // hands a unit to t3
  t3.cancel();  // after its wake-up: the unit goes on to t4
  co_await yield(3);
  EXPECT_TRUE(t2.cancelled());
  EXPECT_TRUE(t3.cancelled());
  EXPECT_EQ(out, (std::vector<int>{1, 4}));
  EXPECT_EQ(s.value(), 2u);  // both units came back through the guards
  EXPECT_EQ(s.statistics().waiters, 0u);
}
TEST(Semaphore, FifoAndCancelBeforeAndAfterWakeUp) { run_virtual(fifo_and_cancel()); }

auto no_hang() -> asyncio::task<void> {
  // CPython test_acquire_no_hang: a cancelled waiter must not leave the semaphore stuck.
  asyncio::semaphore s(1);
  std::vector<int> out;
  asyncio::event hold;
  auto t1 = asyncio::create_task(take(&s, &out, 1, &hold));
  auto t2 = asyncio::create_task(take(&s, &out, 2, nullptr));
  t1.cancel();
  t2.cancel();
  co_await yield(2);
  EXPECT_TRUE(t1.cancelled());
  EXPECT_TRUE(t2.cancelled());
  EXPECT_FALSE(s.locked());
  auto g = co_await s.acquire();
  EXPECT_TRUE(s.locked());
}
TEST(Semaphore, CancelledWaitersDoNotHang) { run_virtual(no_hang()); }

auto bounded() -> asyncio::task<void> {
  asyncio::bounded_semaphore s(1);
  EXPECT_THROW(s.release(), std::invalid_argument);
  {
    auto g = co_await s.acquire();
    EXPECT_EQ(s.describe(), "<bounded_semaphore locked value=0>");
  }
  EXPECT_EQ(s.value(), 1u);
  EXPECT_THROW(s.release(), std::invalid_argument);
  asyncio::bounded_semaphore zero(0);
  EXPECT_THROW(zero.release(), std::invalid_argument);
}
TEST(Semaphore, BoundedOverReleaseThrows) { run_virtual(bounded()); }

// Python's Semaphore(-1) raises ValueError; a size_t parameter used to wrap -1 to a huge count.
TEST(Semaphore, NegativeInitialValueRejected) {
  EXPECT_THROW(asyncio::semaphore(-1), std::invalid_argument);
  EXPECT_THROW(asyncio::bounded_semaphore(-1), std::invalid_argument);
  EXPECT_EQ(asyncio::semaphore(0).value(), 0u);
}

auto worker(asyncio::semaphore* s, int* inside, int* peak) -> asyncio::task<void> {
  auto g = co_await s->acquire();
  ++*inside;
  *peak = std::max(*peak, *inside);
  co_await asyncio::sleep(10ms);
  --*inside;
}

auto bounds_concurrency() -> asyncio::task<void> {
  asyncio::semaphore s(3);
  int inside = 0, peak = 0;
  std::vector<asyncio::task_handle<void>> ts;
  for (int i = 0; i < 10; ++i) ts.push_back(asyncio::create_task(worker(&s, &inside, &peak)));
  for (auto& t : ts) co_await t;
  EXPECT_EQ(peak, 3);
  EXPECT_EQ(s.value(), 3u);
}
TEST(Semaphore, BoundsConcurrency) {
  asyncio::testing::virtual_clock clk;
  asyncio::loop_options o;
  o.clock = &clk;
  asyncio::run(bounds_concurrency(), o);
  EXPECT_EQ(clk.elapsed(), 40ms);  // ceil(10 / 3) rounds of 10 ms
}

}  // namespace
