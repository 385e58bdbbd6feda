// detail::timer_heap: deadline order with ties in insertion order, O(1) lazy cancel, stale keys,
// and the compaction bound (at most half of a large heap is dead entries).
#include <asyncio/detail/timer_heap.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using asyncio::detail::timer_heap;
using asyncio::detail::timer_target;

struct target : timer_target {
  int id = 0;
};

TEST(TimerHeap, PopsInDeadlineOrderWithTiesInInsertionOrder) {
  timer_heap heap;
  std::vector<target> targets(2000);
  std::mt19937 rng(1);
  std::vector<std::int64_t> when(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    targets[i].id = static_cast<int>(i);
    when[i] = rng() % 50;  // many ties
    heap.add(when[i], &targets[i]);
  }
  std::int64_t next = 0;
  EXPECT_TRUE(heap.next_deadline(next));
  EXPECT_EQ(next, *std::min_element(when.begin(), when.end()));
  EXPECT_EQ(heap.pop_due(next - 1), nullptr);  // nothing due before the first deadline
  int previous = -1;
  std::int64_t previous_when = -1;
  std::size_t popped = 0;
  while (auto* t = static_cast<target*>(heap.pop_due(1000))) {
    std::int64_t w = when[t->id];
    EXPECT_TRUE(w > previous_when || (w == previous_when && t->id > previous));
    previous = t->id;
    previous_when = w;
    ++popped;
  }
  EXPECT_EQ(popped, targets.size());
  EXPECT_EQ(heap.live(), 0u);
  EXPECT_FALSE(heap.next_deadline(next));
}

TEST(TimerHeap, CancelAndStaleKeys) {
  timer_heap heap;
  target a, b, c;
  auto ka = heap.add(10, &a);
  auto kb = heap.add(20, &b);
  EXPECT_NE(ka, timer_heap::no_timer);
  heap.cancel(ka);
  heap.cancel(ka);  // twice: no-op
  EXPECT_EQ(heap.live(), 1u);
  auto kc = heap.add(5, &c);  // reuses a's slot with a new key
  heap.cancel(ka);            // a's stale key must not cancel c
  EXPECT_EQ(heap.live(), 2u);
  EXPECT_EQ(heap.pop_due(100), &c);
  heap.cancel(kc);  // already fired: no-op
  EXPECT_EQ(heap.live(), 1u);
  EXPECT_EQ(heap.pop_due(100), &b);
  heap.cancel(kb);
  heap.cancel(timer_heap::no_timer);
  EXPECT_EQ(heap.live(), 0u);
  EXPECT_EQ(heap.pop_due(100), nullptr);
}

TEST(TimerHeap, MassCancellationCompactsTheHeap) {
  timer_heap heap;
  constexpr std::size_t n = 100'000;
  std::vector<target> targets(n);
  std::vector<std::uint64_t> keys(n);
  std::mt19937 rng(2);
  for (std::size_t i = 0; i < n; ++i) keys[i] = heap.add(rng() % 1'000'000, &targets[i]);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<bool> cancelled(n);
  for (std::size_t k = 0; k < n - 1000; ++k) {
    heap.cancel(keys[order[k]]);
    cancelled[order[k]] = true;
    // Dead entries never make up more than half of a heap larger than the compaction threshold.
    ASSERT_LE(heap.heap_size(), std::max<std::size_t>(1024, 2 * heap.live() + 1));
  }
  EXPECT_EQ(heap.live(), 1000u);
  std::size_t popped = 0;
  while (auto* t = heap.pop_due(INT64_MAX)) {
    EXPECT_FALSE(cancelled[static_cast<target*>(t) - targets.data()]);
    ++popped;
  }
  EXPECT_EQ(popped, 1000u);
  EXPECT_EQ(heap.heap_size(), 0u);
}

}  // namespace
