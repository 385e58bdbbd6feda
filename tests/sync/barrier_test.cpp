// barrier: behaviour ported from CPython's test_locks.py (BarrierTests).
#include <asyncio/sync.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

auto arrive(asyncio::barrier* b, std::vector<std::size_t>* out) -> asyncio::task<void> {
  out->push_back(co_await b->wait());
}

auto arrive_expect_broken(asyncio::barrier* b, int* broken) -> asyncio::task<void> {
  try {
    (void)co_await b->wait();
  } catch (const asyncio::broken_barrier_error&) {
    ++*broken;
  }
}

auto fills_and_reuses() -> asyncio::task<void> {
  asyncio::barrier b(3);
  std::vector<std::size_t> out;
  EXPECT_EQ(b.describe(), "<barrier filling waiters=0/3>");
  for (int round = 0; round < 2; ++round) {
    out.clear();
    auto t1 = asyncio::create_task(arrive(&b, &out));
    auto t2 = asyncio::create_task(arrive(&b, &out));
    EXPECT_EQ(b.n_waiting(), 2u);
    EXPECT_TRUE(out.empty());
    auto t3 = asyncio::create_task(arrive(&b, &out));  // releases everybody
    co_await t1;
    co_await t2;
    co_await t3;
    std::sort(out.begin(), out.end());
    EXPECT_EQ(out, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(b.n_waiting(), 0u);
  }
  EXPECT_FALSE(b.broken());
}
TEST(Barrier, FillsReleasesAndIsReusable) { run_virtual(fills_and_reuses()); }

auto draining_blocks_new_arrivals() -> asyncio::task<void> {
  asyncio::barrier b(2);
  std::vector<std::size_t> out;
  auto t1 = asyncio::create_task(arrive(&b, &out));
  auto t2 = asyncio::create_task(arrive(&b, &out));  // draining now; t1 has not left yet
  auto t3 = asyncio::create_task(arrive(&b, &out));  // must wait for the next round
  co_await t1;
  co_await t2;
  co_await yield(2);
  EXPECT_FALSE(t3.done());
  EXPECT_EQ(b.n_waiting(), 1u);
  auto t4 = asyncio::create_task(arrive(&b, &out));
  co_await t3;
  co_await t4;
  EXPECT_EQ(out.size(), 4u);
}
TEST(Barrier, ArrivalsWhileDrainingWaitForNextRound) { run_virtual(draining_blocks_new_arrivals()); }

auto abort_breaks() -> asyncio::task<void> {
  asyncio::barrier b(3);
  int broken = 0;
  auto t1 = asyncio::create_task(arrive_expect_broken(&b, &broken));
  auto t2 = asyncio::create_task(arrive_expect_broken(&b, &broken));
  b.abort();
  co_await t1;
  co_await t2;
  EXPECT_EQ(broken, 2);
  EXPECT_TRUE(b.broken());
  EXPECT_EQ(b.describe(), "<barrier broken waiters=0/3>");
  auto t3 = asyncio::create_task(arrive_expect_broken(&b, &broken));
  co_await t3;
  EXPECT_EQ(broken, 3);
  b.reset();  // a broken barrier can be reset to filling
  EXPECT_FALSE(b.broken());
}
TEST(Barrier, AbortBreaksWaitersAndLaterArrivals) { run_virtual(abort_breaks()); }

auto reset_breaks_waiters() -> asyncio::task<void> {
  asyncio::barrier b(3);
  int broken = 0;
  auto t1 = asyncio::create_task(arrive_expect_broken(&b, &broken));
  auto t2 = asyncio::create_task(arrive_expect_broken(&b, &broken));
  b.reset();
  co_await t1;
  co_await t2;
  EXPECT_EQ(broken, 2);
  EXPECT_FALSE(b.broken());
  std::vector<std::size_t> out;
  auto a = asyncio::create_task(arrive(&b, &out));
  auto c = asyncio::create_task(arrive(&b, &out));
  auto d = asyncio::create_task(arrive(&b, &out));
  co_await a;
  co_await c;
  co_await d;
  EXPECT_EQ(out.size(), 3u);
}
TEST(Barrier, ResetBreaksCurrentWaitersThenWorks) { run_virtual(reset_breaks_waiters()); }

auto cancel_waiter() -> asyncio::task<void> {
  asyncio::barrier b(2);
  std::vector<std::size_t> out;
  auto t1 = asyncio::create_task(arrive(&b, &out));
  t1.cancel();
  co_await yield();
  EXPECT_TRUE(t1.cancelled());
  EXPECT_EQ(b.n_waiting(), 0u);  // it left: two new arrivals are needed
  auto t2 = asyncio::create_task(arrive(&b, &out));
  EXPECT_FALSE(t2.done());
  auto t3 = asyncio::create_task(arrive(&b, &out));
  co_await t2;
  co_await t3;
  EXPECT_EQ(out.size(), 2u);
}
TEST(Barrier, CancelledWaiterLeaves) { run_virtual(cancel_waiter()); }

TEST(Barrier, ZeroOrNegativePartiesRejected) {  // Python's ValueError; -4 used to wrap to a huge count
  EXPECT_THROW(asyncio::barrier(0), std::invalid_argument);
  EXPECT_THROW(asyncio::barrier(-4), std::invalid_argument);
}

}  // namespace
