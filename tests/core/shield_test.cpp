// shield: behaviour ported from CPython's test_tasks.py (shield tests). Virtual clock throughout.
#include <asyncio/core.hpp>
#include <asyncio/testing/run_virtual.hpp>
#include <asyncio/time.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "support/task_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;

namespace {
using asyncio::testing::run_virtual;
using test_support::now;
using test_support::value_after;
}  // namespace

TEST(Shield, PassesResultThrough) {
  EXPECT_EQ(run_virtual([]() -> task<int> {
              auto h = asyncio::create_task(value_after(1s, 4));
              int a = co_await asyncio::shield(h);
              int b = co_await asyncio::shield(value_after(1s, 5));
              co_return a + b;
            }()),
            9);
}

TEST(Shield, AlreadyDoneInner) {
  run_virtual([]() -> task<> {
    auto h = asyncio::create_task(value_after(0s, 3));
    co_await asyncio::sleep(1s);
    EXPECT_EQ(co_await asyncio::shield(h), 3);
  }());
}

TEST(Shield, OuterCancelDoesNotReachInner) {
  run_virtual([]() -> task<> {
    bool finished = false;
    auto inner = asyncio::create_task(value_after(5s, 7, &finished));
    auto outer = asyncio::create_task([](asyncio::task_handle<int> h) -> task<int> {
      co_return co_await asyncio::shield(h);
    }(inner));
    co_await asyncio::sleep(1s);
    outer.cancel();
    auto t0 = now();
    EXPECT_THROW((void)co_await outer, asyncio::cancelled_error);
    EXPECT_EQ(now() - t0, 0s);  // the awaiter is released at once
    EXPECT_FALSE(inner.done());
    EXPECT_EQ(co_await inner, 7);  // and the inner task finishes its work
    EXPECT_TRUE(finished);
  }());
}

TEST(Shield, CoroutineFormKeepsRunningDetached) {
  run_virtual([]() -> task<> {
    bool finished = false;
    auto outer = asyncio::create_task([](bool* f) -> task<int> {
      co_return co_await asyncio::shield(value_after(5s, 7, f));
    }(&finished));
    co_await asyncio::sleep(1s);
    outer.cancel();
    EXPECT_THROW((void)co_await outer, asyncio::cancelled_error);
    EXPECT_FALSE(finished);
    co_await asyncio::sleep(5s);
    EXPECT_TRUE(finished);  // the detached inner task ran to the end
  }());
}

TEST(Shield, InnerCancelledCancelsAwaiter) {
  run_virtual([]() -> task<> {
    auto inner = asyncio::create_task(value_after(5s, 7));
    auto outer = asyncio::create_task([](asyncio::task_handle<int> h) -> task<int> {
      co_return co_await asyncio::shield(h);
    }(inner));
    co_await asyncio::sleep(1s);
    inner.cancel();
    EXPECT_THROW((void)co_await outer, asyncio::cancelled_error);
    EXPECT_TRUE(outer.cancelled());
  }());
}

TEST(Shield, InnerExceptionPropagates) {
  run_virtual([]() -> task<> {
    auto failing = []() -> task<int> {
      co_await asyncio::sleep(1s);
      throw std::logic_error("inner");
    };
    EXPECT_THROW((void)co_await asyncio::shield(failing()), std::logic_error);
  }());
}

TEST(Shield, CancelPendingBeforeAwaitRaisesAtOnce) {
  run_virtual([]() -> task<> {
    auto inner = asyncio::create_task(value_after(5s, 7));
    auto outer = asyncio::create_task([](asyncio::task_handle<int> h) -> task<int> {
      asyncio::current_task().cancel();
      co_return co_await asyncio::shield(h);
    }(inner));
    EXPECT_THROW((void)co_await outer, asyncio::cancelled_error);
    EXPECT_EQ(co_await inner, 7);
  }());
}

TEST(Shield, GatherFailureDoesNotCancelShieldedTask) {
  run_virtual([]() -> task<> {
    auto precious = asyncio::create_task(value_after(5s, 1));
    auto failing = []() -> task<int> {
      co_await asyncio::sleep(1s);
      throw std::logic_error("x");
    };
    EXPECT_THROW((void)co_await asyncio::gather(asyncio::shield(precious), failing()), std::logic_error);
    EXPECT_FALSE(precious.done());
    EXPECT_EQ(co_await precious, 1);
  }());
}

TEST(Shield, InnerFinishingAtTheCancelInstantDeliversTheResult) {
  // inner and the canceller wake at the same virtual instant, inner first (timer order). inner
  // finishing hands over to its awaiter directly, so the result arrives before the cancel.
  run_virtual([]() -> task<> {
    auto inner = asyncio::create_task(value_after(1s, 7));
    auto outer = asyncio::create_task([](asyncio::task_handle<int> h) -> task<int> {
      co_return co_await asyncio::shield(h);
    }(inner));
    auto canceller = asyncio::create_task([](asyncio::task_handle<int> o) -> task<bool> {
      co_await asyncio::sleep(1s);
      co_return o.cancel();
    }(outer));
    EXPECT_FALSE(co_await canceller);  // too late: outer was already done
    EXPECT_EQ(co_await outer, 7);
  }());
}

// shield(future): Python's asyncio.shield(fut). The awaiter's cancel does not reach the future.
TEST(Shield, AFutureIsNotCancelledWithTheAwaiter) {
  run_virtual([]() -> task<> {
    asyncio::future<int> f;
    auto waiter = asyncio::create_task(asyncio::shield(f));
    co_await asyncio::sleep(1s);
    waiter.cancel();
    bool cancelled = false;
    try {
      (void)co_await waiter;
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(f.done());  // still pending: it can be completed
    f.set_result(3);
    int r = co_await asyncio::shield(f);  // done: the result at once
    EXPECT_EQ(r, 3);

    asyncio::future<std::unique_ptr<int>> m;  // move-only: moved out
    asyncio::get_running_loop().call_later(1s, [m]() mutable { m.set_result(std::make_unique<int>(8)); });
    std::unique_ptr<int> p = co_await asyncio::shield(m);
    EXPECT_EQ(*p, 8);

    asyncio::future<> c;  // the future cancelled by someone else: the awaiter gets cancelled_error
    asyncio::get_running_loop().call_later(1s, [c]() mutable { c.cancel(); });
    bool inner_cancelled = false;
    try {
      co_await asyncio::shield(c);
    } catch (const asyncio::cancelled_error&) {
      inner_cancelled = true;
    }
    EXPECT_TRUE(inner_cancelled);
  }());
}
