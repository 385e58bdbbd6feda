// wait_for: behaviour ported from CPython's test_waitfor.py (3.12 semantics: the inner awaitable
// is cancelled and awaited on timeout). Virtual clock throughout.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;

namespace {
using asyncio::testing::run_virtual;
using test_support::now;
using test_support::slow_to_cancel;
using test_support::value_after;
struct foo_exception : std::runtime_error {
  foo_exception() : std::runtime_error("foo") {}
};
}  // namespace

TEST(WaitFor, ResultInTime) {
  run_virtual([]() -> task<> {
    EXPECT_EQ(co_await asyncio::wait_for(value_after(1s, 1), 2s), 1);
    auto h = asyncio::create_task(value_after(1s, 2));
    EXPECT_EQ(co_await asyncio::wait_for(h, 2s), 2);
    EXPECT_EQ(h.result(), 2);
    EXPECT_EQ(co_await asyncio::wait_for(value_after(100s, 3), std::nullopt), 3);  // test_wait_for_with_none
  }());
}

TEST(WaitFor, TimeoutCancelsAndAwaitsTheInner) {  // test_wait_for, test_wait_for_waits_for_task_cancellation
  run_virtual([]() -> task<> {
    bool cleanup_done = false;
    auto inner = asyncio::create_task(slow_to_cancel(10s, 1s, &cleanup_done));  // wait_for waits for its cleanup
    auto t0 = now();
    EXPECT_THROW((void)co_await asyncio::wait_for(inner, 100ms), asyncio::timeout_error);
    EXPECT_EQ(now() - t0, 1100ms);
    EXPECT_TRUE(cleanup_done);
    EXPECT_TRUE(inner.cancelled());
  }());
}

TEST(WaitFor, ZeroOrNegativeTimeout) {  // test_wait_for_timeout_less_then_0_or_0_*
  run_virtual([]() -> task<> {
    // A done task gives its result.
    auto done = asyncio::create_task(value_after(0s, 7));
    co_await asyncio::sleep(1s);
    EXPECT_EQ(co_await asyncio::wait_for(done, 0s), 7);
    // A pending task is cancelled and awaited.
    bool task_done = false;
    auto pending = asyncio::create_task(slow_to_cancel(10s, 0s, &task_done));
    auto t0 = now();
    EXPECT_THROW((void)co_await asyncio::wait_for(pending, -1s), asyncio::timeout_error);
    EXPECT_TRUE(task_done);
    EXPECT_EQ(now(), t0);
  }());
}

// Python 3.12+ with the eager task factory: wait_for(coro, 0) runs the coroutine to its first
// suspension; one that finishes returns its value, one that suspends is cancelled there.
TEST(WaitFor, ZeroLimitRunsACoroutineToItsFirstSuspension) {
  run_virtual([]() -> task<> {
    auto immediate = [](bool* ran) -> task<int> {
      *ran = true;
      co_return 1;
    };
    bool ran = false;
    EXPECT_EQ(co_await asyncio::wait_for(immediate(&ran), 0s), 1);
    EXPECT_TRUE(ran);
    auto throws_at_once = []() -> task<int> { throw foo_exception(); };
    EXPECT_THROW((void)co_await asyncio::wait_for(throws_at_once(), -1s), foo_exception);
    // Suspends: cancelled at that point, its cleanup runs before timeout_error, at the same time.
    bool cleaned_up = false;
    auto t0 = now();
    EXPECT_THROW((void)co_await asyncio::wait_for(slow_to_cancel(10s, 0s, &cleaned_up), 0s), asyncio::timeout_error);
    EXPECT_TRUE(cleaned_up);
    EXPECT_EQ(now(), t0);
    // Suspends, then swallows the cancel and returns: the value (Python 3.12).
    auto stubborn = []() -> task<int> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::cancelled_error&) {
      }
      co_return 5;
    };
    EXPECT_EQ(co_await asyncio::wait_for(stubborn(), 0s), 5);
    EXPECT_EQ(now(), t0);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(WaitFor, InnerSwallowsCancellationAndReturns) {  // Python 3.12: the value is returned
  run_virtual([]() -> task<> {
    auto stubborn = []() -> task<int> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const asyncio::cancelled_error&) {
      }
      co_return 5;
    };
    EXPECT_EQ(co_await asyncio::wait_for(stubborn(), 1s), 5);
    EXPECT_EQ(co_await asyncio::wait_for(asyncio::create_task(stubborn()), 1s), 5);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  }());
}

TEST(WaitFor, ReraisesExceptionDuringCancellation) {  // test_wait_for_reraises_exception_during_cancellation
  run_virtual([]() -> task<> {
    auto inner = []() -> task<> {
      bool c = false;
      try {
        co_await asyncio::sleep(200ms);
      } catch (const asyncio::cancelled_error&) {
        c = true;
      }
      if (c) throw foo_exception();
    };
    EXPECT_THROW(co_await asyncio::wait_for(asyncio::create_task(inner()), 1ms), foo_exception);
    EXPECT_THROW(co_await asyncio::wait_for(inner(), 1ms), foo_exception);
  }());
}

TEST(WaitFor, OuterCancelPropagatesAndCancelsInner) {  // test_cancel_wait_for / test_wait_for_cancellation_race_condition
  run_virtual([]() -> task<> {
    auto inner = asyncio::create_task(value_after(100s, 1));
    auto waiter = asyncio::create_task(asyncio::wait_for(inner, 10s));
    co_await asyncio::sleep(1s);
    waiter.cancel();
    EXPECT_THROW((void)co_await waiter, asyncio::cancelled_error);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(inner.cancelled());
  }());
}

TEST(WaitFor, SelfCancellationWhileInnerHoldsOut) {  // test_wait_for_self_cancellation
  run_virtual([]() -> task<> {
    auto inner = asyncio::create_task([]() -> task<int> {
      bool first = false;
      try {
        co_await asyncio::sleep(300ms);
      } catch (const asyncio::cancelled_error&) {
        first = true;
      }
      if (first) {
        bool second = false;
        try {
          co_await asyncio::sleep(300ms);
        } catch (const asyncio::cancelled_error&) {
          second = true;
        }
        if (second) co_await asyncio::sleep(300ms);
      }
      co_return 42;
    }());
    auto t = asyncio::create_task(asyncio::wait_for(inner, 100ms));
    co_await asyncio::sleep(200ms);
    t.cancel();
    EXPECT_THROW((void)co_await t, asyncio::cancelled_error);  // the outer cancel is not lost
    EXPECT_EQ(co_await inner, 42);
  }());
}

TEST(WaitFor, Future) {
  run_virtual([]() -> task<> {
    asyncio::future<int> f;
    EXPECT_THROW((void)co_await asyncio::wait_for(f, 1s), asyncio::timeout_error);
    EXPECT_TRUE(f.cancelled());
    asyncio::future<int> g;
    asyncio::get_running_loop().call_later(500ms, [g]() mutable { g.set_result(3); });
    EXPECT_EQ(co_await asyncio::wait_for(g, 1s), 3);
    asyncio::future<int> z;
    EXPECT_THROW((void)co_await asyncio::wait_for(z, 0s), asyncio::timeout_error);
    EXPECT_TRUE(z.cancelled());
  }());
}

TEST(WaitFor, ResultAtTheDeadlineInstant) {
  run_virtual([]() -> task<> {
    // At one virtual instant timers fire before any woken task runs: the inner task's wake-up
    // has not run yet when the deadline cancels it, so the deadline wins even though the
    // inner's timer was armed first (CPython behaves the same: its wake-up is a scheduled step).
    auto h = asyncio::create_task(value_after(1s, 8));
    EXPECT_THROW((void)co_await asyncio::wait_for(h, 1s), asyncio::timeout_error);
    EXPECT_TRUE(h.cancelled());
    // One tick earlier the value wins.
    auto k = asyncio::create_task(value_after(999ms, 8));
    EXPECT_EQ(co_await asyncio::wait_for(k, 1s), 8);
    // The coroutine's timer is armed after the deadline: the deadline wins.
    EXPECT_THROW((void)co_await asyncio::wait_for(value_after(1s, 9), 1s), asyncio::timeout_error);
  }());
}
