// condition: behaviour ported from CPython's test_locks.py (ConditionTests).
#include <asyncio/sync.hpp>
#include <gtest/gtest.h>

#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

auto waiter(asyncio::condition* c, std::vector<int>* out, int id) -> asyncio::task<void> {
  auto g = co_await c->acquire();
  co_await c->wait();
  EXPECT_TRUE(c->locked());
  out->push_back(id);
}

auto notify_order() -> asyncio::task<void> {
  asyncio::condition c;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&c, &out, 1));
  auto t2 = asyncio::create_task(waiter(&c, &out, 2));
  auto t3 = asyncio::create_task(waiter(&c, &out, 3));
  EXPECT_EQ(c.statistics().waiters, 3u);
  EXPECT_FALSE(c.locked());
  {
    auto g = co_await c.acquire();
    c.notify(1);
    c.notify(2048);  // more than there are: wakes the rest
    EXPECT_EQ(c.describe(), "<condition locked>");
  }
  co_await t1;
  co_await t2;
  co_await t3;
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(c.locked());
}
TEST(Condition, NotifyWakesInOrder) { run_virtual(notify_order()); }

auto notify_all() -> asyncio::task<void> {
  asyncio::condition c;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&c, &out, 1));
  auto t2 = asyncio::create_task(waiter(&c, &out, 2));
  {
    auto g = co_await c.acquire();
    c.notify_all();
  }
  co_await t1;
  co_await t2;
  EXPECT_EQ(out.size(), 2u);
}
TEST(Condition, NotifyAll) { run_virtual(notify_all()); }

auto unacquired() -> asyncio::task<void> {
  asyncio::condition c;
  EXPECT_THROW(c.notify(), asyncio::invalid_state_error);
  EXPECT_THROW(c.notify_all(), asyncio::invalid_state_error);
  bool raised = false;
  try {
    co_await c.wait();
  } catch (const asyncio::invalid_state_error&) {
    raised = true;
  }
  EXPECT_TRUE(raised);
}
TEST(Condition, UnacquiredUseThrows) { run_virtual(unacquired()); }

auto wait_for_pred() -> asyncio::task<void> {
  asyncio::condition c;
  int value = 0;
  std::vector<int> out;
  auto t = asyncio::create_task([](asyncio::condition* c, int* value, std::vector<int>* out) -> asyncio::task<void> {
    auto g = co_await c->acquire();
    auto is_three = [value] { return *value == 3; };
    bool r = co_await c->wait_for(is_three);
    EXPECT_TRUE(r);
    out->push_back(*value);
  }(&c, &value, &out));
  for (int i = 1; i <= 3; ++i) {
    co_await yield();
    auto g = co_await c.acquire();
    value = i;
    c.notify();
  }
  co_await t;
  EXPECT_EQ(out, (std::vector<int>{3}));
}
TEST(Condition, WaitForPredicate) { run_virtual(wait_for_pred()); }

auto cancel_waiting_reacquires() -> asyncio::task<void> {
  // CPython test_wait_cancel_contested: cancelled while waiting, wait() raises only once the lock
  // is held again, and the guard releases it.
  asyncio::condition c;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&c, &out, 1));
  auto g = co_await c.acquire();  // contested: t1 cannot re-acquire while we hold it
  t1.cancel();
  co_await yield(2);
  EXPECT_FALSE(t1.done());  // waiting for the lock before raising
  g.release();
  co_await yield(2);
  EXPECT_TRUE(t1.cancelled());
  EXPECT_FALSE(c.locked());
  EXPECT_TRUE(out.empty());
}
TEST(Condition, CancelWhileWaitingReacquiresFirst) { run_virtual(cancel_waiting_reacquires()); }

auto cancel_after_notify_passes_on() -> asyncio::task<void> {
  // CPython gh-112202: a waiter notified then cancelled before resuming passes the notification on.
  asyncio::condition c;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&c, &out, 1));
  auto t2 = asyncio::create_task(waiter(&c, &out, 2));
  {
    auto g = co_await c.acquire();
    c.notify(1);  // chooses t1
    t1.cancel();  // before t1 resumed: t2 must get the notification
  }
  co_await yield(4);
  EXPECT_TRUE(t1.cancelled());
  EXPECT_TRUE(t2.done());
  EXPECT_EQ(out, (std::vector<int>{2}));
  EXPECT_FALSE(c.locked());
}
TEST(Condition, CancelAfterNotifyPassesItOn) { run_virtual(cancel_after_notify_passes_on()); }

auto cancel_during_reacquire() -> asyncio::task<void> {
  // Notified, resumed, then cancelled while waiting to re-acquire the lock.
  asyncio::condition c;
  std::vector<int> out;
  auto t1 = asyncio::create_task(waiter(&c, &out, 1));
  auto g = co_await c.acquire();
  c.notify();
  co_await yield(2);  // t1 resumes and queues for the lock
  EXPECT_EQ(c.get_lock().statistics().waiters, 1u);
  t1.cancel();
  co_await yield(2);
  EXPECT_FALSE(t1.done());  // still takes the lock before raising
  g.release();
  co_await yield(2);
  EXPECT_TRUE(t1.cancelled());
  EXPECT_FALSE(c.locked());
}
TEST(Condition, CancelDuringReacquire) { run_virtual(cancel_during_reacquire()); }

auto shared_lock() -> asyncio::task<void> {
  asyncio::lock m;
  asyncio::condition c(m);
  auto g = co_await m.acquire();
  EXPECT_TRUE(c.locked());
  c.notify();  // allowed: the shared lock is held
}
TEST(Condition, SharedLock) { run_virtual(shared_lock()); }

// Two consumers wait for an item; notify(1) wakes the first, which is cancelled while it waits to
// take the lock back: the notification must reach the second (CPython 3.13's Condition.wait
// notifies one more waiter on any error), or the item would sit there with a consumer asleep.
auto consumer(asyncio::condition* c, std::vector<int>* items, std::vector<int>* got) -> asyncio::task<void> {
  auto g = co_await c->acquire();
  co_await c->wait_for([&] { return !items->empty(); });
  got->push_back(items->back());
  items->pop_back();
}

auto notified_then_cancelled_while_reacquiring() -> asyncio::task<void> {
  asyncio::condition c;
  std::vector<int> items;
  std::vector<int> got;
  auto first = asyncio::create_task(consumer(&c, &items, &got));
  auto second = asyncio::create_task(consumer(&c, &items, &got));
  {
    auto g = co_await c.acquire();
    items.push_back(42);
    c.notify(1);        // wakes `first`
    co_await yield(2);  // `first` resumes and queues for the lock we hold
    EXPECT_EQ(c.get_lock().statistics().waiters, 1u);
    first.cancel();
  }
  co_await yield(6);
  EXPECT_TRUE(first.cancelled());
  EXPECT_TRUE(second.done());
  EXPECT_EQ(got, (std::vector<int>{42}));
  EXPECT_FALSE(c.locked());
}
TEST(Condition, NotifiedThenCancelledWhileReacquiringPassesTheNotificationOn) {
  run_virtual(notified_then_cancelled_while_reacquiring());
}

}  // namespace
