// wait and as_completed: behaviour ported from CPython's test_tasks.py (test_wait_*,
// test_as_completed_*). Neither cancels the tasks it watches. Virtual clock throughout.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::return_when;
using asyncio::task;
using asyncio::task_handle;

namespace {
using asyncio::testing::run_virtual;
using test_support::fail_after;
using test_support::now;
using test_support::value_after;
// Builds the vector outside the coroutine: g++ 12 mishandles an initializer_list temporary inside
// a co_await expression ("array used as initializer", cf. GCC PR 107288, docs/toolchain.md §5.5).
template <class... H>
auto list(H... hs) -> std::vector<task_handle<int>> {
  return std::vector<task_handle<int>>{hs...};
}
auto spawn(asyncio::duration d, int v) -> task_handle<int> { return asyncio::create_task(value_after(d, v)); }
}  // namespace

TEST(Wait, AllCompleted) {  // test_wait
  run_virtual([]() -> task<> {
    auto a = spawn(100ms, 1);
    auto b = spawn(150ms, 2);
    auto t0 = now();
    auto r1 = co_await asyncio::wait(list(b, a));
    auto& done = r1.done;
    auto& pending = r1.pending;
    EXPECT_EQ(now() - t0, 150ms);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    EXPECT_TRUE(done[0] == b && done[1] == a);  // original order kept
  }());
}

TEST(Wait, FirstCompleted) {  // test_wait_first_completed
  run_virtual([]() -> task<> {
    auto a = spawn(10s, 1);
    auto b = spawn(100ms, 2);
    auto r2 = co_await asyncio::wait(list(a, b), return_when::first_completed);
    auto& done = r2.done;
    auto& pending = r2.pending;
    EXPECT_EQ(done.size(), 1u);
    EXPECT_TRUE(done.at(0) == b);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_FALSE(a.done());  // not cancelled: still ours
    EXPECT_FALSE(a.cancelled());
    EXPECT_EQ(co_await a, 1);
  }());
}

TEST(Wait, FirstCompletedAlreadyDone) {  // test_wait_really_done
  run_virtual([]() -> task<> {
    auto a = spawn(0s, 1);
    auto b = spawn(10s, 2);
    co_await asyncio::sleep(0s);
    co_await asyncio::sleep(0s);
    auto t0 = now();
    auto r3 = co_await asyncio::wait(list(a, b), return_when::first_completed);
    auto& done = r3.done;
    auto& pending = r3.pending;
    EXPECT_EQ(now(), t0);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(pending.size(), 1u);
    b.cancel();
  }());
}

TEST(Wait, FirstException) {  // test_wait_first_exception, _in_the_middle
  run_virtual([]() -> task<> {
    auto a = spawn(10s, 1);
    auto b = asyncio::create_task(fail_after(1s));
    auto c = spawn(500ms, 3);
    auto t0 = now();
    auto r4 = co_await asyncio::wait(list(a, b, c), return_when::first_exception);
    auto& done = r4.done;
    auto& pending = r4.pending;
    EXPECT_EQ(now() - t0, 1s);  // c finishing first did not satisfy first_exception
    EXPECT_EQ(done.size(), 2u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_THROW((void)b.result(), std::runtime_error);
    // Without any exception it degrades to all_completed.
    auto d = spawn(1s, 4);
    auto e = spawn(2s, 5);
    auto r5 = co_await asyncio::wait(list(d, e), return_when::first_exception);
    auto& done2 = r5.done;
    auto& pending2 = r5.pending;
    EXPECT_EQ(done2.size(), 2u);
    EXPECT_TRUE(pending2.empty());
    // A cancellation is not an exception.
    auto f = spawn(10s, 6);
    auto g = spawn(3s, 7);
    f.cancel();
    auto r6 = co_await asyncio::wait(list(f, g), return_when::first_exception);
    auto& done3 = r6.done;
    auto& pending3 = r6.pending;
    EXPECT_TRUE(pending3.empty());
    EXPECT_EQ(done3.size(), 2u);
    a.cancel();
  }());
}

TEST(Wait, TimeoutLeavesTasksRunning) {  // test_wait_with_timeout, test_wait_concurrent_complete
  run_virtual([]() -> task<> {
    auto a = spawn(100ms, 1);
    auto b = spawn(150ms, 2);
    auto t0 = now();
    auto r7 = co_await asyncio::wait(list(a, b), 110ms);
    auto& done = r7.done;
    auto& pending = r7.pending;
    EXPECT_EQ(now() - t0, 110ms);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_FALSE(b.cancelled());
    EXPECT_EQ(co_await b, 2);
    // timeout 0: returns at the next iteration with what is done.
    auto c = spawn(1s, 3);
    auto r8 = co_await asyncio::wait(list(c), 0s);
    auto& d0 = r8.done;
    auto& p0 = r8.pending;
    EXPECT_TRUE(d0.empty());
    EXPECT_EQ(p0.size(), 1u);
    c.cancel();
  }());
}

TEST(Wait, DuplicatesAndEmpty) {  // test_wait_duplicate_coroutines, test_wait_errors
  run_virtual([]() -> task<> {
    auto a = spawn(1s, 1);
    auto r9 = co_await asyncio::wait(list(a, a, a));
    auto& done = r9.done;
    auto& pending = r9.pending;
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(done.size(), 1u);
    EXPECT_THROW((void)co_await asyncio::wait(std::vector<task_handle<int>>{}), std::invalid_argument);
    std::vector<task_handle<int>> one{spawn(1s, 1)};
    EXPECT_THROW((void)co_await asyncio::wait(one, static_cast<asyncio::return_when>(7)), std::invalid_argument);
  }());
}

TEST(Wait, AnyTaskHandles) {
  run_virtual([]() -> task<> {
    std::vector<asyncio::any_task> ts{asyncio::any_task(spawn(1s, 1)), asyncio::any_task(asyncio::create_task(fail_after(2s)))};
    auto r10 = co_await asyncio::wait(ts);
    auto& done = r10.done;
    auto& pending = r10.pending;
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(done[1].exception() != nullptr);
  }());
}

TEST(Wait, CancelledAwaiterDoesNotCancelTasks) {
  run_virtual([]() -> task<> {
    auto a = spawn(10s, 1);
    auto w = asyncio::create_task(asyncio::wait(list(a)));
    co_await asyncio::sleep(1s);
    w.cancel();
    EXPECT_THROW((void)co_await w, asyncio::cancelled_error);
    EXPECT_FALSE(a.done());
    EXPECT_EQ(co_await a, 1);
  }());
}

// ---- as_completed --------------------------------------------------------------------------------

TEST(AsCompleted, CompletionOrder) {  // test_as_completed
  run_virtual([]() -> task<> {
    std::vector<task_handle<int>> hs{spawn(300ms, 3), spawn(100ms, 1), spawn(200ms, 2)};
    std::vector<int> order;
    std::vector<asyncio::duration> at;
    auto t0 = now();
    for (auto next : asyncio::as_completed(hs)) {
      order.push_back(co_await next);
      at.push_back(now() - t0);
    }
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(at, (std::vector<asyncio::duration>{100ms, 200ms, 300ms}));
  }());
}

TEST(AsCompleted, ExceptionsComeOutInOrder) {
  run_virtual([]() -> task<> {
    std::vector<task_handle<int>> hs{spawn(2s, 2), asyncio::create_task(fail_after(1s))};
    auto ac = asyncio::as_completed(hs);
    auto it = ac.begin();
    EXPECT_THROW((void)co_await *it, std::runtime_error);
    ++it;
    EXPECT_EQ(co_await *it, 2);
    ++it;
    EXPECT_TRUE(it == ac.end());
  }());
}

TEST(AsCompleted, TimeoutGivesFinishedThenRaises) {  // test_as_completed_with_timeout
  run_virtual([]() -> task<> {
    auto slow = spawn(10s, 2);
    std::vector<task_handle<int>> hs{slow, spawn(100ms, 1)};
    int got = 0;
    int timeouts = 0;
    for (auto next : asyncio::as_completed(hs, 1s)) {
      try {
        got += co_await next;
      } catch (const asyncio::timeout_error&) {
        ++timeouts;
      }
    }
    EXPECT_EQ(got, 1);
    EXPECT_EQ(timeouts, 1);
    EXPECT_FALSE(slow.done());  // not cancelled
    EXPECT_EQ(co_await slow, 2);
  }());
}

TEST(AsCompleted, DuplicatesAndAlreadyDone) {  // test_as_completed_duplicate_coroutines
  run_virtual([]() -> task<> {
    auto a = spawn(0s, 5);
    co_await asyncio::sleep(0s);
    co_await asyncio::sleep(0s);
    std::vector<task_handle<int>> hs{a, a, spawn(1s, 6)};
    auto ac = asyncio::as_completed(hs);
    EXPECT_EQ(ac.size(), 2u);
    std::vector<int> got;
    for (auto next : ac) got.push_back(co_await next);
    EXPECT_EQ(got, (std::vector<int>{5, 6}));
  }());
}

TEST(AsCompleted, CancelledAwaiterLosesNothing) {
  run_virtual([]() -> task<> {
    std::vector<task_handle<int>> hs{spawn(1s, 1), spawn(2s, 2)};
    auto ac = asyncio::as_completed(hs);
    auto waiter = asyncio::create_task([](asyncio::as_completed_range<int>* ac) -> task<int> {
      co_return co_await ac->next();
    }(&ac));
    co_await asyncio::sleep(500ms);
    waiter.cancel();
    EXPECT_THROW((void)co_await waiter, asyncio::cancelled_error);
    EXPECT_EQ(co_await ac.next(), 1);  // the first result is still there
    auto h = co_await ac.next_task();
    EXPECT_EQ(h.result(), 2);
  }());
}
