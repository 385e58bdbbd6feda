// detail::timer_heap: deadline order with ties in insertion order, O(1) lazy cancel, stale keys,
// the compaction bound (at most half of a large heap is dead entries), and fire_due's look-ahead
// window: callbacks that cancel or add timers while it runs.
#include <asyncio/detail/timer_heap.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <utility>
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

// A target whose fire() logs its id and then runs an optional action (cancel / add timers).
struct acting_target : timer_target {
  int id = 0;
  std::vector<int>* log = nullptr;
  std::function<void()> action;
  acting_target() { fire = &on_fire; }
  static void on_fire(timer_target* self) noexcept {
    auto* t = static_cast<acting_target*>(self);
    t->log->push_back(t->id);
    if (t->action) t->action();
  }
};

// n targets numbered 0..n-1 that append their number to log when they fire.
auto logging_targets(std::size_t n, std::vector<int>& log) -> std::vector<acting_target> {
  std::vector<acting_target> targets(n);
  for (std::size_t i = 0; i < n; ++i) {
    targets[i].id = static_cast<int>(i);
    targets[i].log = &log;
  }
  return targets;
}

TEST(TimerHeap, FireDueFiresInDeadlineOrderWithTiesInInsertionOrder) {
  timer_heap heap;
  std::vector<int> log;
  std::vector<acting_target> targets = logging_targets(5000, log);
  std::vector<std::int64_t> when(targets.size());
  std::mt19937 rng(3);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    when[i] = rng() % 100;  // many ties, many entries per fire_due call
    heap.add(when[i], &targets[i]);
  }
  std::size_t due_before = 0;
  for (std::int64_t now = -1; now < 100; now += 7) {
    heap.fire_due(now);
    std::size_t due = 0;
    for (auto w : when) due += w <= now;
    EXPECT_EQ(log.size(), due) << "now=" << now;  // exactly the due ones, none later
    EXPECT_EQ(heap.live(), targets.size() - due);
    for (std::size_t k = due_before; k < log.size(); ++k) EXPECT_LE(when[log[k]], now);
    due_before = due;
  }
  heap.fire_due(1000);
  ASSERT_EQ(log.size(), targets.size());
  for (std::size_t k = 1; k < log.size(); ++k) {
    int a = log[k - 1];
    int b = log[k];
    EXPECT_TRUE(when[a] < when[b] || (when[a] == when[b] && a < b)) << k;
  }
  EXPECT_EQ(heap.live(), 0u);
  std::int64_t next = 0;
  EXPECT_FALSE(heap.next_deadline(next));
}

TEST(TimerHeap, FireDueHonoursACancelByAnEarlierCallbackOfTheSameCall) {
  // Timers 1..20 are due together, so several of them sit in fire_due's look-ahead window when
  // timer 0 fires: the ones it cancels must not fire, and a timer it adds into a freed slot must
  // fire in its own place (a timeout cancelling sleeping tasks does this).
  timer_heap heap;
  std::vector<int> log;
  std::vector<acting_target> targets = logging_targets(22, log);
  std::vector<std::uint64_t> keys(targets.size());
  for (std::size_t i = 0; i <= 20; ++i) keys[i] = heap.add(static_cast<std::int64_t>(i), &targets[i]);
  targets[0].action = [&] {
    heap.cancel(keys[1]);
    heap.cancel(keys[3]);
    heap.cancel(keys[12]);
    keys[21] = heap.add(2, &targets[21]);  // reuses a freed slot; ties with timer 2, added after it
  };
  heap.fire_due(100);
  std::vector<int> expected{0, 2, 21, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20};
  EXPECT_EQ(log, expected);
  EXPECT_EQ(heap.live(), 0u);
}

TEST(TimerHeap, FireDueFiresATimerAddedByACallbackInDeadlineOrder) {
  // Timer 0 adds a timer due before the rest of the batch (already in the look-ahead window) and
  // one that is not due yet: the first fires right after 0, the second is left for a later call.
  timer_heap heap;
  std::vector<int> log;
  std::vector<acting_target> targets = logging_targets(14, log);
  for (std::size_t i = 0; i < 12; ++i) heap.add(10 + static_cast<std::int64_t>(i), &targets[i]);
  targets[0].action = [&] {
    heap.add(5, &targets[12]);    // in the past: before everything still pending
    heap.add(500, &targets[13]);  // not due in this call
  };
  heap.fire_due(100);
  EXPECT_EQ(log, (std::vector<int>{0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(heap.live(), 1u);
  std::int64_t next = 0;
  ASSERT_TRUE(heap.next_deadline(next));
  EXPECT_EQ(next, 500);
  heap.fire_due(500);
  EXPECT_EQ(log.back(), 13);
}

TEST(TimerHeap, FireDueCancellingItselfAndEverythingElse) {
  // A callback cancels every other pending timer, fired or not, and its own (already fired) key.
  timer_heap heap;
  std::vector<int> log;
  std::vector<acting_target> targets = logging_targets(40, log);
  std::vector<std::uint64_t> keys(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    keys[i] = heap.add(static_cast<std::int64_t>(i % 4), &targets[i]);  // ties: ids 0,4,8.. first
  }
  targets[8].action = [&] {
    for (auto k : keys) heap.cancel(k);
  };
  heap.fire_due(10);
  EXPECT_EQ(log, (std::vector<int>{0, 4, 8}));
  EXPECT_EQ(heap.live(), 0u);
  heap.fire_due(10);
  EXPECT_EQ(log.size(), 3u);
}

TEST(TimerHeap, RandomOperationsMatchAReferenceModel) {
  // Adds (deadlines spread over many buckets, in the past, far away, equal to pending ones),
  // cancels (pending, fired, stale), fire_due with callbacks that cancel and add, pop_due and
  // next_deadline, checked against an ordered set of (deadline, insertion number).
  timer_heap heap;
  std::mt19937_64 rng(4);
  constexpr int n = 20000;
  std::vector<acting_target> targets(n);
  std::vector<std::uint64_t> keys(n, timer_heap::no_timer);
  std::vector<std::int64_t> when(n);
  std::set<std::pair<std::int64_t, int>> model;  // pending timers: (when, id)
  std::vector<int> log;
  int added = 0;
  std::int64_t now = 0;
  auto add = [&](std::int64_t w) {
    if (added == n) return;
    int id = added++;
    targets[id].id = id;
    targets[id].log = &log;
    when[id] = w;
    keys[id] = heap.add(w, &targets[id]);
    model.insert({w, id});
  };
  auto random_when = [&]() -> std::int64_t {
    if (now == INT64_MAX) return now;  // the end: no arithmetic that could overflow
    switch (rng() % 8) {
      case 0: return now - static_cast<std::int64_t>(rng() % 1'000'000'000);  // in the past
      // Forever: late in the run only, as it pins every later timer to the heap (see timer_heap.hpp).
      case 1: return added > n * 9 / 10 ? INT64_MAX : now + 1'000'000'000'000;
      case 2: return model.empty() ? now : model.begin()->first;             // a tie with the earliest
      case 3: return now + static_cast<std::int64_t>(rng() % 100'000'000'000);  // far
      default: return now + static_cast<std::int64_t>(rng() % 2'000'000'000);
    }
  };
  auto cancel = [&](int id) {
    heap.cancel(keys[id]);
    model.erase({when[id], id});
  };
  // Each callback checks that it is the earliest pending timer and due, and leaves the model;
  // every fifth one then cancels a random timer (pending, fired or itself) and adds one.
  int wrong = 0;
  for (int i = 0; i < n; ++i) {
    targets[i].action = [&, i] {
      if (model.empty() || model.begin()->second != i || when[i] > now) ++wrong;
      model.erase({when[i], i});
      if (i % 5 == 0) {
        cancel(static_cast<int>(rng() % static_cast<std::uint64_t>(added)));
        add(rng() % 2 ? now : random_when());
      }
    };
  }
  while (added < n || !model.empty()) {
    switch (rng() % 6) {
      case 0:
      case 1:
        add(random_when());
        break;
      case 2:
        if (added > 0) cancel(static_cast<int>(rng() % static_cast<std::uint64_t>(added)));
        break;
      case 3: {
        std::int64_t next = 0;
        ASSERT_EQ(heap.next_deadline(next), !model.empty());
        if (!model.empty()) {
          ASSERT_EQ(next, model.begin()->first);
        }
        break;
      }
      case 4: {
        if (now != INT64_MAX) now += static_cast<std::int64_t>(rng() % 50 == 0 ? 200'000'000'000 : rng() % 300'000'000);
        heap.fire_due(now);
        ASSERT_EQ(wrong, 0);
        ASSERT_TRUE(model.empty() || model.begin()->first > now);
        break;
      }
      case 5: {
        std::size_t from = log.size();
        if (auto* t = heap.pop_due(now)) {
          auto* a = static_cast<acting_target*>(t);
          ASSERT_FALSE(model.empty());
          ASSERT_EQ(model.begin()->second, a->id);
          ASSERT_LE(when[a->id], now);
          model.erase(model.begin());
        } else {
          ASSERT_TRUE(model.empty() || model.begin()->first > now);
        }
        ASSERT_EQ(log.size(), from);  // pop_due does not fire
        break;
      }
    }
    ASSERT_EQ(heap.live(), model.size());
    if (added == n && rng() % 100 == 0) now = INT64_MAX;  // let the forever timers go at the end
  }
  EXPECT_GT(log.size(), static_cast<std::size_t>(n / 4));  // the callbacks did run
}

}  // namespace
