// lock: behaviour ported from CPython's Lib/test/test_asyncio/test_locks.py (LockTests), plus
// cancellation at each moment of a wait and the no-barging rule.
#include <asyncio/sync.hpp>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

auto lockit(asyncio::lock* m, std::vector<int>* out, int id, asyncio::event* hold) -> asyncio::task<void> {
  auto g = co_await m->acquire();
  out->push_back(id);
  if (hold) co_await hold->wait();
}

auto basic() -> asyncio::task<void> {
  asyncio::lock m;
  EXPECT_FALSE(m.locked());
  EXPECT_EQ(m.describe(), "<lock unlocked>");
  {
    auto g = co_await m.acquire();
    EXPECT_TRUE(m.locked());
    EXPECT_TRUE(g.owns());
    EXPECT_EQ(m.describe(), "<lock locked>");
  }
  EXPECT_FALSE(m.locked());
  EXPECT_THROW(m.release(), asyncio::invalid_state_error);
  EXPECT_TRUE(m.try_acquire());
  EXPECT_FALSE(m.try_acquire());
  m.release();
  // Python style: acquire without a guard, release by hand.
  (co_await m.acquire()).detach();
  EXPECT_TRUE(m.locked());
  m.release();
  EXPECT_FALSE(m.locked());
}
TEST(Lock, Basic) { run_virtual(basic()); }

auto fifo() -> asyncio::task<void> {
  asyncio::lock m;
  std::vector<int> out;
  auto g = co_await m.acquire();
  auto t1 = asyncio::create_task(lockit(&m, &out, 1, nullptr));
  auto t2 = asyncio::create_task(lockit(&m, &out, 2, nullptr));
  auto t3 = asyncio::create_task(lockit(&m, &out, 3, nullptr));
  EXPECT_EQ(m.statistics().waiters, 3u);
  std::ostringstream os;
  os << m;
  EXPECT_EQ(os.str(), "<lock locked waiters=3>");
  g.release();
  co_await t1;
  co_await t2;
  co_await t3;
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(m.locked());
}
TEST(Lock, WaitersAreServedInOrder) { run_virtual(fifo()); }

auto cancel_waiting() -> asyncio::task<void> {
  asyncio::lock m;
  std::vector<int> out;
  auto g = co_await m.acquire();
  auto t1 = asyncio::create_task(lockit(&m, &out, 1, nullptr));
  auto t2 = asyncio::create_task(lockit(&m, &out, 2, nullptr));
  t1.cancel();  // before any wake-up: leaves the queue
  co_await yield();
  EXPECT_TRUE(t1.done());
  EXPECT_TRUE(t1.cancelled());
  EXPECT_EQ(m.statistics().waiters, 1u);
  g.release();
  co_await t2;
  EXPECT_EQ(out, (std::vector<int>{2}));
  EXPECT_FALSE(m.locked());
}
TEST(Lock, CancelWhileWaiting) { run_virtual(cancel_waiting()); }

auto cancel_after_wakeup() -> asyncio::task<void> {
  asyncio::lock m;
  std::vector<int> out;
  auto g = co_await m.acquire();
  auto t1 = asyncio::create_task(lockit(&m, &out, 1, nullptr));
  auto t2 = asyncio::create_task(lockit(&m, &out, 2, nullptr));
  g.release();  // hands the lock to t1, which has not resumed yet
  EXPECT_TRUE(m.locked());
  t1.cancel();  // woken but not resumed: the lock must pass on to t2
  co_await yield(3);
  EXPECT_TRUE(t1.cancelled());
  EXPECT_TRUE(t2.done());
  EXPECT_EQ(out, (std::vector<int>{2}));
  EXPECT_FALSE(m.locked());
}
TEST(Lock, CancelAfterWakeUpPassesTheLockOn) { run_virtual(cancel_after_wakeup()); }

auto cancel_after_wakeup_last() -> asyncio::task<void> {
  asyncio::lock m;
  std::vector<int> out;
  auto g = co_await m.acquire();
  auto t1 = asyncio::create_task(lockit(&m, &out, 1, nullptr));
  g.release();
  t1.cancel();  // nobody to pass to: the lock becomes free
  EXPECT_FALSE(m.locked());
  co_await yield();
  EXPECT_TRUE(t1.cancelled());
  EXPECT_TRUE(m.try_acquire());
  m.release();
}
TEST(Lock, CancelAfterWakeUpFreesTheLock) { run_virtual(cancel_after_wakeup_last()); }

auto cancel_while_holding() -> asyncio::task<void> {
  asyncio::lock m;
  asyncio::event hold;
  std::vector<int> out;
  auto t1 = asyncio::create_task(lockit(&m, &out, 1, &hold));
  auto t2 = asyncio::create_task(lockit(&m, &out, 2, nullptr));
  EXPECT_TRUE(m.locked());
  t1.cancel();  // after the wake-up: raised inside the critical section; the guard releases
  co_await yield(3);
  EXPECT_TRUE(t1.cancelled());
  EXPECT_TRUE(t2.done());
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  EXPECT_FALSE(m.locked());
}
TEST(Lock, CancelWhileHoldingReleases) { run_virtual(cancel_while_holding()); }

auto pending_cancel() -> asyncio::task<void> {
  asyncio::lock m;
  auto g = co_await m.acquire();
  asyncio::current_task().cancel();  // pending: delivered by the next suspension point
  bool raised = false;
  try {
    auto g2 = co_await m.acquire();
  } catch (const asyncio::cancelled_error&) {
    raised = true;
  }
  EXPECT_TRUE(raised);
  EXPECT_EQ(m.statistics().waiters, 0u);
  asyncio::current_task().uncancel();
}
TEST(Lock, PendingCancelRaisesWithoutQueueing) { run_virtual(pending_cancel()); }

auto barger(asyncio::lock* m, bool* got) -> asyncio::task<void> {
  *got = m->try_acquire();
  if (*got) m->release();
  co_return;
}

auto no_barging() -> asyncio::task<void> {
  asyncio::lock m;
  std::vector<int> out;
  auto g = co_await m.acquire();
  auto t1 = asyncio::create_task(lockit(&m, &out, 1, nullptr));
  g.release();  // t1 owns it now, though it has not run yet
  bool got = true;
  auto b = asyncio::create_task(barger(&m, &got));  // eager: runs before t1 resumes
  EXPECT_FALSE(got);
  std::vector<int> late;
  auto t2 = asyncio::create_task(lockit(&m, &late, 2, nullptr));  // queues behind t1
  EXPECT_FALSE(t2.done());
  co_await t1;
  co_await t2;
  co_await b;
  EXPECT_EQ(out, (std::vector<int>{1}));
  EXPECT_EQ(late, (std::vector<int>{2}));
}
TEST(Lock, NoBarging) { run_virtual(no_barging()); }

auto many_contend(asyncio::lock* m, int* inside, int* max_inside, int rounds) -> asyncio::task<void> {
  for (int i = 0; i < rounds; ++i) {
    auto g = co_await m->acquire();
    ++*inside;
    if (*inside > *max_inside) *max_inside = *inside;
    co_await asyncio::sleep(1ms);
    --*inside;
  }
}

auto contention() -> asyncio::task<void> {
  asyncio::lock m;
  int inside = 0, max_inside = 0;
  std::vector<asyncio::task_handle<void>> ts;
  for (int i = 0; i < 20; ++i) ts.push_back(asyncio::create_task(many_contend(&m, &inside, &max_inside, 5)));
  for (auto& t : ts) co_await t;
  EXPECT_EQ(max_inside, 1);
  EXPECT_FALSE(m.locked());
}
TEST(Lock, MutualExclusionUnderContention) { run_virtual(contention()); }

}  // namespace
