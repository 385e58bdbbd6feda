// queue / priority_queue / lifo_queue: behaviour ported from CPython's test_queues.py, plus
// cancellation at every moment of a wait, shutdown while getters and putters wait, and a seeded
// stress test with random cancellations that checks no item is lost or duplicated.
#include <asyncio/sync.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/sync_helpers.hpp"

using namespace std::chrono_literals;
using test_support::run_virtual;
using test_support::yield;

namespace {

template <class Q>
auto getter(Q* q, std::vector<int>* out) -> asyncio::task<void> {
  out->push_back(co_await q->get());
}
template <class Q>
auto putter(Q* q, int v) -> asyncio::task<void> {
  co_await q->put(v);
}

auto basics() -> asyncio::task<void> {
  asyncio::queue<int> q(2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.maxsize(), 2u);
  co_await q.put(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_THROW(q.put_nowait(3), asyncio::queue_full);
  EXPECT_EQ(q.describe(), "<queue size=2/2 unfinished=2>");
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_THROW((void)q.get_nowait(), asyncio::queue_empty);
  asyncio::queue<int> unbounded;
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  EXPECT_FALSE(unbounded.full());
  EXPECT_EQ(unbounded.describe(), "<queue size=1000 unfinished=1000>");
}
TEST(Queue, Basics) { run_virtual(basics()); }

auto orders() -> asyncio::task<void> {
  asyncio::priority_queue<int> pq;
  for (int v : {5, 1, 4, 2, 3}) pq.put_nowait(v);
  std::vector<int> got;
  while (!pq.empty()) got.push_back(co_await pq.get());
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
  asyncio::lifo_queue<int> lq;
  for (int v : {1, 2, 3}) lq.put_nowait(v);
  got.clear();
  while (!lq.empty()) got.push_back(lq.get_nowait());
  EXPECT_EQ(got, (std::vector<int>{3, 2, 1}));
  asyncio::priority_queue<std::pair<int, std::string>> tasks;
  tasks.put_nowait({2, "b"});
  tasks.put_nowait({1, "a"});
  EXPECT_EQ((co_await tasks.get()).second, "a");
  EXPECT_EQ(tasks.describe(), "<priority_queue size=1 unfinished=2>");
}
TEST(Queue, PriorityAndLifoOrder) { run_virtual(orders()); }

auto move_only() -> asyncio::task<void> {
  asyncio::queue<std::unique_ptr<int>> q(1);
  co_await q.put(std::make_unique<int>(7));
  auto t = asyncio::create_task([](asyncio::queue<std::unique_ptr<int>>* q) -> asyncio::task<void> {
    co_await q->put(std::make_unique<int>(8));  // waits: full
  }(&q));
  auto a = co_await q.get();
  auto b = co_await q.get();
  EXPECT_EQ(*a, 7);
  EXPECT_EQ(*b, 8);
  co_await t;
  // Move-only items in a heap, with a custom comparator.
  auto by_value = [](const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) { return *a < *b; };
  asyncio::priority_queue<std::unique_ptr<int>, decltype(by_value)> pq;
  pq.put_nowait(std::make_unique<int>(3));
  pq.put_nowait(std::make_unique<int>(1));
  pq.put_nowait(std::make_unique<int>(2));
  EXPECT_EQ(*(co_await pq.get()), 1);
  EXPECT_EQ(*pq.get_nowait(), 2);
  EXPECT_EQ(*pq.get_nowait(), 3);
}
TEST(Queue, MoveOnlyItems) { run_virtual(move_only()); }

auto getters_fifo_and_handoff() -> asyncio::task<void> {
  asyncio::queue<int> q;
  std::vector<int> out;
  auto g1 = asyncio::create_task(getter(&q, &out));
  auto g2 = asyncio::create_task(getter(&q, &out));
  EXPECT_EQ(q.statistics().getters, 2u);
  q.put_nowait(10);  // handed to g1 at once
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW((void)q.get_nowait(), asyncio::queue_empty);  // no barging past g2 either
  q.put_nowait(20);
  co_await g1;
  co_await g2;
  EXPECT_EQ(out, (std::vector<int>{10, 20}));
}
TEST(Queue, GettersAreServedInOrderAndNobodyBarges) { run_virtual(getters_fifo_and_handoff()); }

auto putters_block_and_fifo() -> asyncio::task<void> {
  asyncio::queue<int> q(1);
  q.put_nowait(0);
  auto p1 = asyncio::create_task(putter(&q, 1));
  auto p2 = asyncio::create_task(putter(&q, 2));
  EXPECT_EQ(q.statistics().putters, 2u);
  EXPECT_EQ(q.get_nowait(), 0);  // the slot is reserved for p1, whose item enters when it resumes
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW(q.put_nowait(9), asyncio::queue_full);
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(co_await q.get(), 2);
  co_await p1;
  co_await p2;
}
TEST(Queue, PuttersWaitWhileFullInOrder) { run_virtual(putters_block_and_fifo()); }

auto cancel_getter_before_wakeup() -> asyncio::task<void> {
  asyncio::queue<int> q;
  std::vector<int> out;
  auto g1 = asyncio::create_task(getter(&q, &out));
  auto g2 = asyncio::create_task(getter(&q, &out));
  g1.cancel();
  co_await yield();
  EXPECT_TRUE(g1.cancelled());
  q.put_nowait(1);
  co_await g2;
  EXPECT_EQ(out, (std::vector<int>{1}));
}
TEST(Queue, CancelGetterBeforeWakeUp) { run_virtual(cancel_getter_before_wakeup()); }

auto cancel_getter_after_wakeup() -> asyncio::task<void> {
  asyncio::queue<int> q;
  std::vector<int> out;
  auto g1 = asyncio::create_task(getter(&q, &out));
  auto g2 = asyncio::create_task(getter(&q, &out));
  q.put_nowait(1);  // handed to g1
  g1.cancel();      // before g1 resumed: the item goes to g2
  co_await yield(2);
  EXPECT_TRUE(g1.cancelled());
  EXPECT_TRUE(g2.done());
  EXPECT_EQ(out, (std::vector<int>{1}));
  // No other getter: the item goes back to the front.
  auto g3 = asyncio::create_task(getter(&q, &out));
  q.put_nowait(2);  // handed to g3
  q.put_nowait(3);
  g3.cancel();
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_EQ(q.get_nowait(), 3);
  co_await yield();
  EXPECT_TRUE(g3.cancelled());
}
TEST(Queue, CancelGetterAfterWakeUpLosesNothing) { run_virtual(cancel_getter_after_wakeup()); }

auto cancel_getter_after_wakeup_lifo() -> asyncio::task<void> {
  asyncio::lifo_queue<int> q;
  std::vector<int> out;
  auto g = asyncio::create_task(getter(&q, &out));
  q.put_nowait(1);  // handed to g
  q.put_nowait(2);
  g.cancel();  // 1 goes back on top: the next get returns it, as if g never took it
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_EQ(q.get_nowait(), 2);
  co_await yield();
}
TEST(Queue, CancelLifoGetterAfterWakeUpRestoresTop) { run_virtual(cancel_getter_after_wakeup_lifo()); }

auto cancel_putter() -> asyncio::task<void> {
  asyncio::queue<int> q(1);
  q.put_nowait(0);
  auto p1 = asyncio::create_task(putter(&q, 1));
  auto p2 = asyncio::create_task(putter(&q, 2));
  auto p3 = asyncio::create_task(putter(&q, 3));
  p1.cancel();  // before a slot: item 1 is not put
  co_await yield();
  EXPECT_TRUE(p1.cancelled());
  EXPECT_EQ(q.get_nowait(), 0);  // the slot is reserved for p2, which has not resumed
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_TRUE(q.full());
  p2.cancel();  // after the wake-up, before resuming: puts nothing, the slot goes to p3
  co_await yield(2);
  EXPECT_TRUE(p2.cancelled());
  EXPECT_TRUE(p3.done());
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get_nowait(), 3);
  EXPECT_EQ(q.unfinished_tasks(), 2u);  // 0 and 3
}
TEST(Queue, CancelPutterBeforeAndAfterWakeUp) { run_virtual(cancel_putter()); }

// A put that raised cancelled_error put nothing, for every queue kind and both orders of the
// cancel and the wake-up, so a caller that retries after the cancel puts its item exactly once.
template <class Q>
auto put_with_one_retry(Q* q, int v, int* attempts) -> asyncio::task<void> {
  for (;;) {
    ++*attempts;
    try {
      co_await q->put(v);
      co_return;
    } catch (const asyncio::cancelled_error&) {
      if (asyncio::current_task().uncancel() > 0 || *attempts > 1) throw;
    }
  }
}

template <class Q>
auto cancel_then_wake(bool cancel_first) -> asyncio::task<void> {
  Q q(1);
  q.put_nowait(0);
  int attempts = 0;
  auto p = asyncio::create_task(put_with_one_retry(&q, 5, &attempts));
  if (cancel_first) {
    p.cancel();
    (void)q.get_nowait();  // the slot is freed after the cancel: nobody is waiting for it now
  } else {
    (void)q.get_nowait();  // slot reserved for p
    p.cancel();            // p was woken, has not resumed: its put puts nothing
  }
  EXPECT_EQ(q.qsize(), 0u);
  co_await yield(4);  // p catches the cancel, retries, and this time puts
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.cancelled());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(q.qsize(), 1u);  // once, not twice
  EXPECT_EQ(q.get_nowait(), 5);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.unfinished_tasks(), 2u);  // 0 and one 5
}

TEST(Queue, CancelledPutPutsNothingSoARetryPutsOnce) {
  for (bool cancel_first : {true, false}) {
    run_virtual(cancel_then_wake<asyncio::queue<int>>(cancel_first));
    run_virtual(cancel_then_wake<asyncio::lifo_queue<int>>(cancel_first));
    run_virtual(cancel_then_wake<asyncio::priority_queue<int>>(cancel_first));
  }
}

// The reserved slot is not for barging: put_nowait from someone else sees the queue full.
auto reserved_slot_blocks_put_nowait() -> asyncio::task<void> {
  asyncio::queue<int> q(1);
  q.put_nowait(0);
  auto p = asyncio::create_task(putter(&q, 1));
  EXPECT_EQ(q.get_nowait(), 0);
  EXPECT_THROW(q.put_nowait(9), asyncio::queue_full);
  co_await p;
  EXPECT_EQ(q.get_nowait(), 1);
}
TEST(Queue, AReservedSlotIsNotTakenByPutNowait) { run_virtual(reserved_slot_blocks_put_nowait()); }

// A putter woken with a reserved slot, then the queue shut down before it resumed: it raises
// queue_shut_down and puts nothing (Python checks shutdown again after the wake-up).
auto shutdown_after_reserving() -> asyncio::task<void> {
  asyncio::queue<int> q(1);
  q.put_nowait(0);
  auto p = asyncio::create_task(putter(&q, 1));
  EXPECT_EQ(q.get_nowait(), 0);
  q.shutdown();
  EXPECT_THROW(co_await p, asyncio::queue_shut_down);
  EXPECT_TRUE(q.empty());
}
TEST(Queue, ShutdownBetweenTheWakeUpAndTheResumptionPutsNothing) { run_virtual(shutdown_after_reserving()); }

auto task_done_join_worker(asyncio::queue<int>* q, int* processed) -> asyncio::task<void> {
  for (;;) {
    int v = co_await q->get();
    co_await asyncio::sleep(std::chrono::milliseconds(v));
    ++*processed;
    q->task_done();
  }
}

auto join_with_task_done() -> asyncio::task<void> {
  asyncio::queue<int> q;
  int processed = 0;
  co_await q.join();  // nothing put: returns at once
  for (int i = 1; i <= 10; ++i) q.put_nowait(i);
  std::vector<asyncio::task_handle<void>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(asyncio::create_task(task_done_join_worker(&q, &processed)));
  co_await q.join();
  EXPECT_EQ(processed, 10);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.task_done(), std::invalid_argument);  // Python's ValueError
  for (auto& w : workers) w.cancel();
  for (auto& w : workers) {
    try {
      co_await w;
    } catch (const asyncio::cancelled_error&) {
    }
  }
}
TEST(Queue, JoinWaitsForTaskDone) { run_virtual(join_with_task_done()); }

auto expect_shut_down_get(asyncio::queue<int>* q, int* n) -> asyncio::task<void> {
  try {
    (void)co_await q->get();
  } catch (const asyncio::queue_shut_down&) {
    ++*n;
  }
}
auto expect_shut_down_put(asyncio::queue<int>* q, int* n) -> asyncio::task<void> {
  try {
    co_await q->put(99);
  } catch (const asyncio::queue_shut_down&) {
    ++*n;
  }
}

auto shutdown_with_waiters() -> asyncio::task<void> {
  asyncio::queue<int> empty_q;
  int n = 0;
  auto g1 = asyncio::create_task(expect_shut_down_get(&empty_q, &n));
  auto g2 = asyncio::create_task(expect_shut_down_get(&empty_q, &n));
  empty_q.shutdown();
  co_await g1;
  co_await g2;
  EXPECT_EQ(n, 2);
  EXPECT_THROW(empty_q.put_nowait(1), asyncio::queue_shut_down);
  EXPECT_THROW((void)empty_q.get_nowait(), asyncio::queue_shut_down);

  asyncio::queue<int> full_q(1);
  full_q.put_nowait(1);
  n = 0;
  auto p1 = asyncio::create_task(expect_shut_down_put(&full_q, &n));
  full_q.shutdown();  // not immediate: item 1 can still be got
  co_await p1;
  EXPECT_EQ(n, 1);
  EXPECT_EQ(co_await full_q.get(), 1);
  bool raised = false;
  try {
    (void)co_await full_q.get();
  } catch (const asyncio::queue_shut_down&) {
    raised = true;
  }
  EXPECT_TRUE(raised);
  EXPECT_EQ(full_q.describe(), "<queue size=0/1 unfinished=1 shut_down>");
}
TEST(Queue, ShutdownWakesGettersAndPutters) { run_virtual(shutdown_with_waiters()); }

auto shutdown_immediate() -> asyncio::task<void> {
  asyncio::queue<int> q(2);
  q.put_nowait(1);
  q.put_nowait(2);
  int n = 0;
  auto p = asyncio::create_task(expect_shut_down_put(&q, &n));
  bool joined = false;
  auto j = asyncio::create_task([](asyncio::queue<int>* q, bool* joined) -> asyncio::task<void> {
    co_await q->join();
    *joined = true;
  }(&q, &joined));
  q.shutdown(true);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  co_await p;
  co_await j;
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(joined);
  EXPECT_THROW((void)q.get_nowait(), asyncio::queue_shut_down);
}
TEST(Queue, ShutdownImmediateDropsItemsAndReleasesJoin) { run_virtual(shutdown_immediate()); }

// ---- stress: many producers and consumers, random cancellations --------------------------------

struct ledger {
  std::map<int, int> got;  // item -> times got
  int put = 0;             // items whose put() completed (accepted)
  std::vector<int> put_items;
};

auto stress_producer(asyncio::queue<int>* q, ledger* l, int base, int count, unsigned seed) -> asyncio::task<void> {
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    int item = base + i;
    if (rng() % 3 == 0) co_await asyncio::sleep(std::chrono::microseconds(rng() % 50));
    co_await q->put(item);  // if cancelled while waiting, the item was never put
    l->put_items.push_back(item);
  }
}

auto stress_consumer(asyncio::queue<int>* q, ledger* l, unsigned seed) -> asyncio::task<void> {
  std::mt19937 rng(seed);
  for (;;) {
    int item = co_await q->get();
    ++l->got[item];
    if (rng() % 4 == 0) co_await asyncio::sleep(std::chrono::microseconds(rng() % 50));
  }
}

auto stress(unsigned seed) -> asyncio::task<void> {
  std::mt19937 rng(seed);
  asyncio::queue<int> q(1 + rng() % 8);
  ledger l;
  std::vector<asyncio::task_handle<void>> producers, consumers;
  for (int p = 0; p < 8; ++p) {
    producers.push_back(asyncio::create_task(stress_producer(&q, &l, p * 100000, 300, rng())));
  }
  for (int c = 0; c < 8; ++c) consumers.push_back(asyncio::create_task(stress_consumer(&q, &l, rng())));
  // Cancel random consumers and producers at random moments, replacing consumers.
  for (int step = 0; step < 400; ++step) {
    co_await asyncio::sleep(std::chrono::microseconds(rng() % 20));
    auto& c = consumers[rng() % consumers.size()];
    if (!c.done() && rng() % 2) {
      c.cancel();
      consumers.push_back(asyncio::create_task(stress_consumer(&q, &l, rng())));
    }
    if (rng() % 10 == 0) producers[rng() % producers.size()].cancel();
    if (rng() % 3 == 0) co_await asyncio::sleep(0s);
  }
  for (auto& p : producers) {
    try {
      co_await p;
    } catch (const asyncio::cancelled_error&) {
    }
  }
  // Let the consumers drain what is left, then stop them.
  for (int i = 0; i < 1000 && !q.empty(); ++i) co_await asyncio::sleep(1ms);
  for (auto& c : consumers) c.cancel();
  for (auto& c : consumers) {
    try {
      co_await c;
    } catch (const asyncio::cancelled_error&) {
    }
  }
  std::vector<int> left;
  while (!q.empty()) left.push_back(q.get_nowait());
  // Every accepted item was got exactly once or is still in the queue; nothing else appeared.
  for (int item : left) ++l.got[item];
  std::size_t accepted_plus_unrecorded = l.put_items.size();
  for (int item : l.put_items) {
    EXPECT_EQ(l.got[item], 1) << "item " << item << " seed " << seed;
  }
  for (auto [item, times] : l.got) {
    EXPECT_EQ(times, 1) << "item " << item << " seed " << seed;
  }
  // A put that completed recorded its item before the next suspension, and a cancelled put put
  // nothing: every item got was recorded as put.
  EXPECT_EQ(l.got.size(), accepted_plus_unrecorded);
  EXPECT_GT(l.put_items.size(), 100u);
}

TEST(Queue, StressRandomCancellationsLoseNothing) {
  for (unsigned seed = 1; seed <= 20; ++seed) run_virtual(stress(seed));
}

}  // namespace
